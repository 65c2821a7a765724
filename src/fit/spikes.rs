//! One-off spikes in the residual law: a period the state's fit capped
//! (`deseasonalise::winsorize`: a quarter's one big order) is kept in the law of
//! actual / expected, because revenue that came once can come again. The
//! law's positive part is a family whose mean is the sample's
//! (`dist::fit_mean_matched`), so a spike moves that family's mean, and
//! with it every period's median: one month at 50 times the level in 48
//! took the mean ratio to 2.0, and the fitted lognormal put next year's
//! P10 above every year of the history.
//!
//! So where the spikes move the positive ratios' mean by more than
//! `SPIKE_SHIFT` of the other periods' standard deviation, they become a
//! mass of their own (`ResidualLaw::with_spikes`): drawn as observed, at
//! their observed rate, the family fitted to the other periods. Smaller
//! shifts stay in the family, whose tails they widen: on smooth series
//! (US employment) the capped periods are bumps of a few percent, a
//! heavy tail on both sides of the median rather than a second mode, and
//! taking them out narrowed the intervals the holdout then missed (zoo
//! employment coverage 0.800 -> 0.791, Superstore regions 0.771 -> 0.708,
//! session 17).

/// The shift of the positive ratios' mean, in standard deviations of the
/// periods that are not spikes, beyond which the spikes are a mass of
/// their own: half a standard deviation moves every period's median by
/// about as much, which no single family can both fit and carry.
const SPIKE_SHIFT: f64 = 0.5;

/// Positive residual ratios parted into the family's sample and the
/// spikes' mass.
pub(super) struct Split {
    pub positive: Vec<f64>,
    pub spikes: Vec<f64>,
}

/// Part the positive `ratios` (of periods `capped` or not by the state's
/// fit) into the family's sample and the spikes (see the module header);
/// non-positive ratios belong to neither.
pub(super) fn split(ratios: &[f64], capped: &[bool]) -> Split {
    // In the history's order, as the families' fits sum them.
    let positive = |keep: &dyn Fn(bool) -> bool| -> Vec<f64> {
        ratios
            .iter()
            .zip(capped)
            .filter(|&(&r, &c)| r > 0.0 && keep(c))
            .map(|(&r, _)| r)
            .collect()
    };
    let everything = positive(&|_| true);
    let (bulk, spikes) = (positive(&|c| !c), positive(&|c| c));
    if spikes.is_empty() || bulk.len() < 2 {
        return Split {
            positive: everything,
            spikes: Vec::new(),
        };
    }
    let n = bulk.len() as f64;
    let mean_bulk = bulk.iter().sum::<f64>() / n;
    let sd_bulk = (bulk.iter().map(|r| (r - mean_bulk).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let mean_all = everything.iter().sum::<f64>() / everything.len() as f64;
    if mean_all - mean_bulk > SPIKE_SHIFT * sd_bulk {
        Split {
            positive: bulk,
            spikes,
        }
    } else {
        Split {
            positive: everything,
            spikes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{split, Split};

    /// 47 periods near 1 (sd about 0.05) and a last, capped one at `last`.
    fn split_with_capped(last: f64) -> Split {
        let mut ratios: Vec<f64> = (0..47).map(|i| 0.95 + 0.1 * (i % 5) as f64 / 4.0).collect();
        ratios.push(last);
        let mut capped = vec![false; 47];
        capped.push(true);
        split(&ratios, &capped)
    }

    #[test]
    fn a_spike_that_moves_the_mean_is_a_mass_of_its_own() {
        // One at 50: the mean moves by about 1, twenty standard deviations.
        let s = split_with_capped(50.0);
        assert_eq!(s.spikes, vec![50.0]);
        assert_eq!(s.positive.len(), 47);
    }

    #[test]
    fn a_bump_within_the_spread_stays_in_the_family() {
        // A capped period 3% up: it moves the mean by 0.03 / 48 of a
        // ratio, far under half the sd.
        let s = split_with_capped(1.03);
        assert!(s.spikes.is_empty());
        assert_eq!(s.positive.len(), 48);
        // Zeros and credits are in neither part.
        let s = split(&[0.0, -1.0, 1.0, 1.1], &[false; 4]);
        assert_eq!(s.positive, vec![1.0, 1.1]);
    }
}
