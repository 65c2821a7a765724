//! A territory's series divided by its seasonal indices (its region's,
//! with its own deviations shrunk in), with one-off spikes capped: what
//! the level-and-trend forms are fitted on.

use super::median;
use super::season::OUTLIER_Z;
use crate::stats::quantile::mean;

/// Neighbours whose median a period is measured against for spikes.
const SPIKE_NEIGHBOURS: usize = 4;

/// A territory's series divided by its seasonal indices.
pub(super) struct Deseasonalised {
    /// Seasonal index by position: the region's, with the territory's own
    /// deviations shrunk toward it.
    pub(super) season: Vec<f64>,
    pub(super) own_season: bool,
    /// Seasonal parameters the territory's own data paid for: the sum of
    /// its shrinkage weights.
    pub(super) season_dof: f64,
    /// Mean posterior variance of the shrunk log deviations (w x v).
    pub(super) season_var: f64,
    /// The deseasonalised series, and with one-off spikes capped.
    pub(super) a: Vec<f64>,
    pub(super) a_capped: Vec<f64>,
    /// Periods capped.
    pub(super) outliers: usize,
    /// The seasonal index of each history period.
    pub(super) season_t: Vec<f64>,
}

pub(super) fn deseasonalise(
    y: &[f64],
    region_profile: &[f64],
    deviations: &[(f64, f64)],
    positions: &[usize],
    tau2: f64,
) -> Deseasonalised {
    let mut season = region_profile.to_vec();
    let mut own_season = false;
    let mut season_dof = 0.0;
    let mut season_var = 0.0;
    if !deviations.is_empty() {
        for (m, &(d, v)) in deviations.iter().enumerate() {
            if v.is_finite() && tau2 > 0.0 {
                let w = tau2 / (tau2 + v);
                season[m] *= (w * d).exp();
                season_dof += w;
                season_var += w * v / deviations.len() as f64;
                own_season = true;
            }
        }
        let m = mean(&season);
        season.iter_mut().for_each(|v| *v /= m);
    }
    let a: Vec<f64> = y
        .iter()
        .zip(positions)
        .map(|(v, &m)| v / season[m])
        .collect();
    // Outlier rule: one-off spikes are capped for estimating the state
    // (they stay in the residual law, which sees the raw values).
    let (a_capped, outliers) = winsorize(&a);
    let season_t = positions.iter().map(|&m| season[m]).collect();
    Deseasonalised {
        season,
        own_season,
        season_dof,
        season_var,
        a,
        a_capped,
        outliers,
        season_t,
    }
}

/// One-off spikes capped: a period more than `OUTLIER_Z` robust standard
/// deviations above the median of its `SPIKE_NEIGHBOURS` nearest periods
/// (two each side; the nearest on one side at the ends), the spread measured
/// by the median absolute deviation from that local median. Against the
/// local median, not the series': a market that grew for two years is not
/// a run of outliers (a global cap flattened the recent level of every
/// growing territory). Returns the capped series and how many periods were
/// capped.
fn winsorize(a: &[f64]) -> (Vec<f64>, usize) {
    let n = a.len();
    if n <= SPIKE_NEIGHBOURS {
        return (a.to_vec(), 0);
    }
    let half = SPIKE_NEIGHBOURS / 2;
    let local: Vec<f64> = (0..n)
        .map(|t| {
            let from = t.saturating_sub(half).min(n - SPIKE_NEIGHBOURS - 1);
            let mut w: Vec<f64> = (from..=from + SPIKE_NEIGHBOURS)
                .filter(|&i| i != t)
                .map(|i| a[i])
                .take(SPIKE_NEIGHBOURS)
                .collect();
            median(&mut w).unwrap_or(a[t])
        })
        .collect();
    let mut dev: Vec<f64> = a.iter().zip(&local).map(|(v, m)| (v - m).abs()).collect();
    let mad = median(&mut dev).unwrap_or(0.0) * 1.4826;
    if mad <= 0.0 {
        return (a.to_vec(), 0);
    }
    let mut capped = 0;
    let out = a
        .iter()
        .zip(&local)
        .map(|(&v, &m)| {
            if v > m + OUTLIER_Z * mad {
                capped += 1;
                m + OUTLIER_Z * mad
            } else {
                v
            }
        })
        .collect();
    (out, capped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_not_capped_as_spikes_but_a_spike_is() {
        // Flat for five years, then growing 0.4% a month (child day-care
        // employment, 2010-2016): the last years sit far above the
        // series' median, but each period is close to its neighbours.
        let wiggle = |t: usize| 1.0 + 0.001 * ((t * 7 % 5) as f64 - 2.0);
        let grown: Vec<f64> = (0..84usize)
            .map(|t| 860.0 * 1.004f64.powi(t.saturating_sub(60) as i32) * wiggle(t))
            .collect();
        assert_eq!(winsorize(&grown).1, 0);
        let mut spiked: Vec<f64> = grown.clone();
        spiked[40] *= 1.5;
        spiked[83] *= 1.5;
        let (capped, count) = winsorize(&spiked);
        assert_eq!(count, 2);
        assert!(capped[40] < 1.05 * grown[40] && capped[83] < 1.05 * grown[83]);
        assert_eq!(capped[82], grown[82]);
    }
}
