//! Fixed-width histograms of simulated values, for the distribution plots.

use serde::Serialize;

/// Counts of values in `bins` equal-width bins from `lo` to `hi`; values
/// outside the range are counted in the end bins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<u64>,
}

impl Histogram {
    /// Histogram of `values` over `[lo, hi]` with `bins` bins.
    pub fn with_range(
        values: impl IntoIterator<Item = f64>,
        lo: f64,
        hi: f64,
        bins: usize,
    ) -> Self {
        let bins = bins.max(1);
        let mut counts = vec![0u64; bins];
        let width = (hi - lo) / bins as f64;
        for v in values {
            if !v.is_finite() {
                continue;
            }
            let i = if width > 0.0 {
                ((v - lo) / width).floor().clamp(0.0, (bins - 1) as f64) as usize
            } else {
                0
            };
            counts[i] += 1;
        }
        Self { lo, hi, counts }
    }

    /// Histogram of `values` over their central 99.8% (tails go to the end
    /// bins, so a few extreme trials do not squash the picture).
    pub fn of(values: &[f64], bins: usize) -> Self {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return Self::with_range([], 0.0, 1.0, bins);
        }
        let lo = super::quantile::sorted_quantile(&sorted, 0.001);
        let mut hi = super::quantile::sorted_quantile(&sorted, 0.999);
        if hi <= lo {
            hi = lo + lo.abs().max(1.0) * 1e-6;
        }
        Self::with_range(sorted, lo, hi, bins)
    }

    /// Width of one bin.
    pub fn width(&self) -> f64 {
        (self.hi - self.lo) / self.counts.len() as f64
    }

    /// Total count.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_value_once() {
        let values: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let h = Histogram::of(&values, 10);
        assert_eq!(h.total(), 1000);
        assert_eq!(h.counts.len(), 10);
        let fixed = Histogram::with_range([-5.0, 0.0, 0.5, 1.0, 7.0], 0.0, 1.0, 2);
        assert_eq!(fixed.counts, vec![2, 3]);
    }

    #[test]
    fn constant_values_do_not_divide_by_zero() {
        let h = Histogram::of(&[3.0; 10], 5);
        assert_eq!(h.total(), 10);
    }
}
