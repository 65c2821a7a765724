//! Common shocks: how far the territories' residuals move together, as
//! the shares of their normal scores' variance a company factor and
//! region factors explain, and how the factors and each territory's own
//! noise persist from period to period (the simulation's copula, The
//! model item 8 in the README).

use super::{sum_series, TerritoryFit};
use crate::model::ShockModel;
use crate::stats::quantile::mean;

/// Shares of residual normal-score variance explained by a company factor
/// and by region factors, from the variance of sums (the average pairwise
/// correlation of n series is (Var(sum) - sum of variances) / pairs).
pub(super) fn estimate_shocks(
    fits: &[TerritoryFit],
    region_index: &[usize],
    n_regions: usize,
) -> ShockModel {
    // Territories with a score that is not a number (no law of their own to
    // score against) are left out: one would make every share NaN.
    let used: Vec<usize> = (0..fits.len())
        .filter(|&i| {
            !fits[i].empty && !fits[i].needs_pooling && !fits[i].closed && fits[i].scores.len() >= 4
        })
        .filter(|&i| fits[i].scores.iter().all(|v| v.is_finite()))
        .collect();
    if used.len() < 2 {
        return ShockModel::independent();
    }
    let n = fits[used[0]].scores.len();
    let centered: Vec<Vec<f64>> = used
        .iter()
        .map(|&i| {
            let s = &fits[i].scores;
            let m = mean(s);
            s.iter().map(|v| v - m).collect()
        })
        .collect();
    let var = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64;
    let sds: Vec<f64> = centered.iter().map(|c| var(c).sqrt()).collect();

    // All pairs.
    let all_sum = sum_series(centered.iter().map(Vec::as_slice), n);
    let sum_var: f64 = sds.iter().map(|s| s * s).sum();
    let sum_sd: f64 = sds.iter().sum();
    let all_pairs = sum_sd * sum_sd - sum_var;
    let all_cov = var(&all_sum) - sum_var;

    // Within-region pairs.
    let (mut within_cov, mut within_pairs) = (0.0, 0.0);
    for r in 0..n_regions {
        let members: Vec<usize> = (0..used.len())
            .filter(|&k| region_index[used[k]] == r)
            .collect();
        if members.len() < 2 {
            continue;
        }
        let s = sum_series(members.iter().map(|&k| centered[k].as_slice()), n);
        let sv: f64 = members.iter().map(|&k| sds[k] * sds[k]).sum();
        let ss: f64 = members.iter().map(|&k| sds[k]).sum();
        within_cov += var(&s) - sv;
        within_pairs += ss * ss - sv;
    }
    let mean_correlation = if all_pairs > 0.0 {
        all_cov / all_pairs
    } else {
        0.0
    };
    let between_pairs = all_pairs - within_pairs;
    let (company, region) = if between_pairs > 0.0 && within_pairs > 0.0 {
        let between = (all_cov - within_cov) / between_pairs;
        let within = within_cov / within_pairs;
        let c = between.clamp(0.0, 0.95);
        (c, (within - c).clamp(0.0, 0.95 - c))
    } else {
        (mean_correlation.clamp(0.0, 0.95), 0.0)
    };

    let factor: Vec<f64> = (0..n).map(|t| all_sum[t] / used.len() as f64).collect();
    let factor_ar = lag1(&factor).clamp(0.0, 0.9);
    let own_ar =
        (centered.iter().map(|c| lag1(c)).sum::<f64>() / centered.len() as f64).clamp(0.0, 0.9);
    ShockModel {
        company_share: company,
        region_share: region,
        factor_ar,
        own_ar,
        mean_correlation,
    }
}

fn lag1(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return 0.0;
    }
    let m = mean(x);
    let var: f64 = x.iter().map(|v| (v - m).powi(2)).sum();
    if var <= 0.0 {
        return 0.0;
    }
    let cov: f64 = x.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    cov / var
}
