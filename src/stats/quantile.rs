//! Quantiles of samples (type 7, linear interpolation, as R and numpy
//! default) and of sorted samples.

/// Quantile `q` of an ascending `sorted` sample (type 7).
pub fn sorted_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Quantiles `qs` (ascending) of `values`, which are reordered in place.
/// Uses selection rather than a full sort.
pub fn quantiles_in_place(values: &mut [f64], qs: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return vec![f64::NAN; qs.len()];
    }
    let mut out = Vec::with_capacity(qs.len());
    let mut floor = 0usize;
    for &q in qs {
        let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(n - 1);
        if lo >= floor {
            values[floor..].select_nth_unstable_by(lo - floor, f64::total_cmp);
        }
        let v_lo = values[lo];
        let v_hi = if hi > lo {
            values[lo + 1..]
                .iter()
                .cloned()
                .fold(f64::INFINITY, f64::min)
        } else {
            v_lo
        };
        out.push(v_lo + (h - lo as f64) * (v_hi - v_lo));
        floor = lo;
    }
    out
}

/// Mean of a sample.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        f64::NAN
    } else {
        x.iter().sum::<f64>() / x.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_matches_sorting() {
        let mut v: Vec<f64> = (0..1001).map(|i| ((i * 7919) % 1001) as f64).collect();
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        let qs = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];
        let got = quantiles_in_place(&mut v, &qs);
        for (g, q) in got.iter().zip(qs) {
            assert_eq!(*g, sorted_quantile(&s, q));
        }
    }
}
