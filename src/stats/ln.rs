//! A natural logarithm for the simulation's kernel: a period's draw under
//! a variance power takes the log of its expected amount, once per draw,
//! in the serial chain of a path, whose latency sets the simulation's pace.
//! The library's `ln` is a call, exact to the last place, with special
//! cases; this one is inline, with no branch on its argument, a table and
//! a cubic of short latency, and within 1e-10 of it (the test): far inside
//! what the variance power's tables resolve (their interpolation errs by
//! 1e-4). The table is built once, on first use (`LazyLock`: a check of a
//! flag, the same every call, that the processor predicts).

use std::sync::LazyLock;

/// Mantissa bits that pick the table's entry.
const TABLE_BITS: u32 = 7;
const ENTRIES: usize = 1 << TABLE_BITS;

/// For each entry j, its centre c = 1 + (j + 1/2) / 128 of the mantissas
/// it holds: (ln c, 1 / c).
static TABLE: LazyLock<[(f64, f64); ENTRIES]> = LazyLock::new(|| {
    std::array::from_fn(|j| {
        let c = 1.0 + (j as f64 + 0.5) / ENTRIES as f64;
        (c.ln(), 1.0 / c)
    })
});

/// ln(v) for a positive normal `v` (`f64::MIN_POSITIVE` to `f64::MAX`;
/// anything else is the caller's to rule out). v = 2^e m, m in [1, 2):
/// ln v = e ln 2 + ln c + ln(1 + r), c the centre of m's entry and r = m /
/// c - 1, |r| < 1/256, whose series to r^3 errs by under 6e-11 (its terms
/// paired, Estrin's scheme, for a shorter chain).
#[inline(always)]
pub fn ln_positive(v: f64) -> f64 {
    let bits = v.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    let j = ((bits >> (52 - TABLE_BITS)) as usize) & (ENTRIES - 1);
    let (ln_c, inv_c) = TABLE[j];
    let r = m * inv_c - 1.0;
    let series = r + (r * r) * (-0.5 + r * (1.0 / 3.0));
    (exponent as f64 * std::f64::consts::LN_2 + ln_c) + series
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_librarys_logarithm_within_1e_10() {
        // Every table entry's edges and middle (and their neighbours), over
        // exponents from the smallest normal to the largest, and values
        // near 1.
        let mut worst: f64 = 0.0;
        let mut check = |v: f64| worst = worst.max((ln_positive(v) - v.ln()).abs());
        for e in -1022..=1023 {
            for k in 0..=4 * ENTRIES {
                let v = (1.0 + k as f64 / (4 * ENTRIES) as f64) * 2f64.powi(e);
                if v.is_finite() {
                    check(v);
                    check(f64::from_bits(v.to_bits() + 1));
                    check(f64::from_bits(v.to_bits() - 1));
                }
            }
        }
        for k in 1..100_000 {
            check(1.0 + (k as f64 - 50_000.0) * 1e-9);
        }
        check(f64::MIN_POSITIVE);
        check(f64::MAX);
        // The series' truncation (r^4 / 4 < 5.9e-11) and e ln 2's rounding
        // (under 1e-13 at the extreme exponents).
        assert!(worst < 1e-10, "worst error {worst:e}");
        assert!(worst > 1e-12, "the series' truncation shows: {worst:e}");
    }
}
