//! Goodness of fit: the Kolmogorov-Smirnov statistic of a sample against a
//! fitted CDF.

/// KS statistic sup |F_n(x) - F(x)| for the sample `x` and CDF `cdf`.
pub fn ks_statistic(x: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut s: Vec<f64> = x.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    s.iter()
        .enumerate()
        .map(|(i, &v)| {
            let f = cdf(v);
            (f - i as f64 / n).max((i as f64 + 1.0) / n - f)
        })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_of_a_perfect_uniform_grid() {
        let x: Vec<f64> = (0..10).map(|i| (i as f64 + 0.5) / 10.0).collect();
        assert!((ks_statistic(&x, |v| v) - 0.05).abs() < 1e-12);
    }
}
