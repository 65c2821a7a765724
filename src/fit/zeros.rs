//! Periods without a sale as a count of deals that came to none. Where a
//! territory's only non-positive periods are zeros (no credits), the chance
//! of a zero may fall as its expected amount rises, as it does for a count
//! of deals: P(zero) = exp(-lambda), the deal rate lambda proportional to
//! the expected amount. With a constant chance, a territory whose deals
//! grew kept its history's share of empty months in the plan year, and its
//! positive months, scaled to keep the mean, became larger and fewer: the
//! year's median fell and its interval widened (lumpy deals growing 30% a
//! year: year P10-P90 about twice the true process's width, the median 5-10%
//! under its median). The rate's scale is fitted by maximum likelihood
//! (a Bernoulli regression with the complementary log-log link and the
//! expected amount as its offset) and kept where it explains the zeros
//! better than a constant chance, both having one parameter.

use crate::model::ZeroRate;
use crate::stats::golden;

/// Fewest zero and fewest positive periods for a zero rate of its own:
/// as many as a residual family needs for a fit of its own (`MIN_OWN_FIT`
/// in `fit::family`); with three zeros the rate's log has a standard error near
/// 0.6.
const MIN_PERIODS: usize = 6;
/// Golden-section steps on the log of the rate's scale.
const STEPS: usize = 80;
/// Half-width, in log units, of the bracket around the constant chance's
/// rate: a factor of 10,000 either way (zeros only in the first months
/// of a territory that grew a thousandfold put the rate's scale about 460
/// times the constant's).
const BRACKET: f64 = 9.2;

/// The zero rate of a territory's periods `values` with their expected
/// amounts `expected` (the residual law's denominators), or `None` where a
/// constant chance fits as well (both have one parameter: the likelier is
/// kept; where the expected amounts hardly vary the two forecast alike),
/// where a period is negative (credits are not a count of deals) or an
/// expected amount is not positive, or with fewer than `MIN_PERIODS` zeros
/// or positive periods.
pub(super) fn fit(values: &[f64], expected: &[f64]) -> Option<ZeroRate> {
    if values.iter().any(|&v| v < 0.0) || !expected.iter().all(|&e| e > 0.0) {
        return None;
    }
    let zeros = values.iter().filter(|&&v| v == 0.0).count();
    let n = values.len();
    if zeros < MIN_PERIODS || n - zeros < MIN_PERIODS {
        return None;
    }
    let scale = expected.iter().sum::<f64>() / n as f64;
    let relative: Vec<f64> = expected.iter().map(|e| e / scale).collect();
    // Log-likelihood of the zeros at rate kappa x relative expected amount.
    let loglik = |kappa: f64| -> f64 {
        values
            .iter()
            .zip(&relative)
            .map(|(&v, &d)| {
                let lambda = kappa * d;
                if v == 0.0 {
                    -lambda
                } else {
                    (-(-lambda).exp_m1()).max(f64::MIN_POSITIVE).ln()
                }
            })
            .sum()
    };
    let p0 = zeros as f64 / n as f64;
    let constant = zeros as f64 * p0.ln() + (n - zeros) as f64 * (1.0 - p0).ln();
    // Around the constant chance's rate, -ln p0 (the likelihood is concave
    // in log kappa).
    let centre = (-p0.ln()).ln();
    let found = golden::minimize(
        |k| -loglik(k.exp()),
        centre - BRACKET,
        centre + BRACKET,
        STEPS,
    );
    let kappa = found.x.exp();
    (loglik(kappa) > constant).then(|| ZeroRate {
        per_amount: kappa / scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// `n` periods whose expected amount grows by `growth` a period, each
    /// zero with chance exp(-rate x amount / first amount).
    fn periods(n: usize, growth: f64, rate: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let expected: Vec<f64> = (0..n)
            .map(|t| 100.0 * (1.0 + growth).powi(t as i32))
            .collect();
        let values = expected
            .iter()
            .map(|&e| {
                let zero = rng.random::<f64>() < (-rate * e / 100.0).exp();
                if zero {
                    0.0
                } else {
                    e
                }
            })
            .collect();
        (values, expected)
    }

    #[test]
    fn zeros_that_thin_out_as_deals_grow_get_a_rate_and_steady_ones_do_not() {
        // 60 periods growing 2.2% a period (30% a year, monthly), the
        // first with a 45% chance of no deal (rate 0.8): the fitted scale
        // recovers the rate within its sampling error (about 0.15 here),
        // so the last period's chance of a zero, about 5%, is read near
        // it rather than at the history's share (about 19%).
        let (values, expected) = periods(60, 0.022, 0.8, 7);
        let rate = fit(&values, &expected).expect("a falling chance of zero");
        let last = (-rate.per_amount * expected[59]).exp();
        let truth = (-0.8f64 * expected[59] / 100.0).exp();
        let share = values.iter().filter(|&&v| v == 0.0).count() as f64 / 60.0;
        assert!(
            (last - truth).abs() < 0.05,
            "last {last:.3}, truth {truth:.3}, share {share:.3}"
        );
        // The same chance every period: a constant fits as well and is kept
        // at least as often as not; here it is.
        let (flat, level) = periods(60, 0.0, 0.8, 8);
        assert!(fit(&flat, &level).is_none());
        // Credits are not a count of deals.
        let mut credit = values.clone();
        credit[3] = -5.0;
        assert!(fit(&credit, &expected).is_none());
    }
}
