//! Backtests: fit on all but the last periods, forecast them, and score the
//! forecast against what happened, from one or several origins, beside a
//! seasonal-naive baseline computed the same way.
//!
//! Scores follow `../shared/BASELINES.md`: interval coverage; pinball loss
//! averaged over the seven standard quantiles and scaled by the series'
//! in-sample seasonal-naive mean absolute error; MASE of the median; the
//! error of the horizon total; the continuous ranked probability score
//! (CRPS), estimated from the trials as twice the mean pinball loss over
//! the 1%..99% quantile grid. Series whose scale is zero are left out of
//! scaled averages and counted. Two baselines are scored the same way:
//! seasonal naive and naive with drift (random walk with drift), both with
//! empirical-residual quantiles widened by the square root of the steps
//! ahead. Pure computation on a loaded history.

use serde::Serialize;

use crate::fit::fit;
use crate::history::SalesHistory;
use crate::scenario::{FitSpec, STANDARD_QUANTILES};
use rand::RngExt;

use crate::rng::{stream_id, stream_rng};
use crate::sim::{quantile_index, simulate, SeriesSummary, SimResults, SimSpec};
use crate::stats::quantile::sorted_quantile;

/// How to backtest.
#[derive(Debug, Clone)]
pub struct BacktestSpec {
    pub holdout: usize,
    pub rolling: usize,
    /// Periods between consecutive origins.
    pub step: usize,
    pub trials: usize,
    pub seed: u64,
}

/// One scored forecast: a series, a period, from one origin.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestRow {
    pub origin: String,
    pub level: String,
    pub name: String,
    pub period: String,
    pub actual: f64,
    pub mean: f64,
    /// The seven standard quantiles.
    pub quantiles: Vec<f64>,
    /// Seasonal-naive baseline quantiles.
    pub baseline: Vec<f64>,
    /// Naive-with-drift baseline quantiles.
    pub drift: Vec<f64>,
    /// CRPS of the forecast, the seasonal-naive and the drift baseline.
    pub crps: f64,
    pub baseline_crps: f64,
    pub drift_crps: f64,
    /// In-sample seasonal-naive MAE of the series (0: not scaled).
    pub scale: f64,
}

/// Scores of one group of rows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    pub points: usize,
    pub coverage_50: f64,
    pub coverage_80: f64,
    pub coverage_90: f64,
    /// Share of actuals below each standard quantile.
    pub below_quantile: Vec<f64>,
    pub scaled_pinball: f64,
    pub baseline_scaled_pinball: f64,
    pub baseline_coverage_80: f64,
    /// CRPS scaled like the pinball loss, for the forecast and baselines.
    pub scaled_crps: f64,
    pub baseline_scaled_crps: f64,
    pub drift_scaled_pinball: f64,
    pub drift_scaled_crps: f64,
    pub drift_coverage_80: f64,
    pub mase: f64,
    pub total_error: f64,
    pub series_scored: usize,
    pub series_skipped: usize,
}

/// A backtest's rows and scores, overall and per level.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestResult {
    pub holdout: usize,
    pub origins: Vec<String>,
    pub rows: Vec<BacktestRow>,
    pub overall: Scores,
    pub by_level: Vec<(String, Scores)>,
    /// 90% band of the 80%-interval coverage a calibrated forecast would
    /// show at the company level with this many points (binomial).
    pub total_coverage_80_band: (f64, f64),
}

fn pinball(y: f64, q: f64, tau: f64) -> f64 {
    if y >= q {
        tau * (y - q)
    } else {
        (1.0 - tau) * (q - y)
    }
}

/// The quantile levels CRPS is estimated on: 1%, 2%, ..., 99%.
pub fn crps_grid() -> Vec<f64> {
    (1..100).map(|i| f64::from(i) / 100.0).collect()
}

/// CRPS from quantiles at the levels of [`crps_grid`]: twice the mean
/// pinball loss over the grid (CRPS = 2 x the integral of the pinball loss
/// over all levels).
pub fn crps_from_grid(y: f64, grid_quantiles: &[f64]) -> f64 {
    let grid = crps_grid();
    2.0 * grid
        .iter()
        .zip(grid_quantiles)
        .map(|(&tau, &q)| pinball(y, q, tau))
        .sum::<f64>()
        / grid.len() as f64
}

/// Mean pinball loss over the standard quantiles.
pub fn mean_pinball(y: f64, quantiles: &[f64]) -> f64 {
    STANDARD_QUANTILES
        .iter()
        .zip(quantiles)
        .map(|(&tau, &q)| pinball(y, q, tau))
        .sum::<f64>()
        / STANDARD_QUANTILES.len() as f64
}

/// In-sample seasonal-naive MAE: mean `|y[t] - y[t - s]|` (s = 1 when the
/// series is shorter than two seasons).
pub fn seasonal_naive_scale(y: &[f64], season: usize) -> f64 {
    let s = if y.len() > season { season } else { 1 };
    if y.len() <= s {
        return 0.0;
    }
    let errs: Vec<f64> = (s..y.len()).map(|t| (y[t] - y[t - s]).abs()).collect();
    errs.iter().sum::<f64>() / errs.len() as f64
}

/// `base + e_q x sqrt(steps)` for each level q, with e_q the empirical
/// quantile of the in-sample errors `errs`.
fn widened_quantiles(base: f64, mut errs: Vec<f64>, steps: usize, levels: &[f64]) -> Vec<f64> {
    errs.sort_by(f64::total_cmp);
    let widen = (steps as f64).sqrt();
    levels
        .iter()
        .map(|&q| {
            let e = if errs.is_empty() {
                0.0
            } else {
                sorted_quantile(&errs, q)
            };
            base + e * widen
        })
        .collect()
}

/// Seasonal-naive forecast `h` periods past the end of `y`, at `levels`:
/// the value one season back, plus the quantiles of the in-sample
/// seasonal-naive errors scaled by sqrt(seasons ahead).
fn seasonal_naive(y: &[f64], season: usize, h: usize, levels: &[f64]) -> Vec<f64> {
    let s = if y.len() > season { season } else { 1 };
    let n = y.len();
    if n <= s {
        return vec![y.last().copied().unwrap_or(0.0); levels.len()];
    }
    let errs: Vec<f64> = (s..n).map(|t| y[t] - y[t - s]).collect();
    widened_quantiles(y[n - s + (h % s)], errs, h / s + 1, levels)
}

/// Naive-with-drift forecast `h` periods past the end of `y` (h = 0 is the
/// next period), at `levels`: the last value plus (h + 1) times the mean
/// change, plus the quantiles of the in-sample one-step errors around the
/// drift scaled by sqrt(h + 1).
fn naive_drift(y: &[f64], h: usize, levels: &[f64]) -> Vec<f64> {
    let n = y.len();
    if n < 2 {
        return vec![y.last().copied().unwrap_or(0.0); levels.len()];
    }
    let drift = (y[n - 1] - y[0]) / (n - 1) as f64;
    let steps = h + 1;
    let errs: Vec<f64> = (1..n).map(|t| y[t] - y[t - 1] - drift).collect();
    widened_quantiles(y[n - 1] + drift * steps as f64, errs, steps, levels)
}

fn region_series(h: &SalesHistory) -> Vec<(String, Vec<f64>)> {
    let regions = h.regions();
    let idx = h.region_index();
    regions
        .iter()
        .enumerate()
        .map(|(r, name)| {
            let mut s = vec![0.0; h.n_periods()];
            for (t, series) in h.revenue.iter().enumerate() {
                if idx[t] == r {
                    for (a, v) in s.iter_mut().zip(series) {
                        *a += v;
                    }
                }
            }
            (name.clone(), s)
        })
        .collect()
}

/// Run the backtest.
///
/// # Errors
/// `Err(message)` when the history is too short for the holdout and origins.
pub fn backtest(
    history: &SalesHistory,
    fit_spec: &FitSpec,
    spec: &BacktestSpec,
) -> Result<BacktestResult, String> {
    let n = history.n_periods();
    let season = history.calendar.kind.per_year();
    let span = spec.holdout + spec.step * spec.rolling.saturating_sub(1);
    if spec.holdout == 0 || n < span + 3 {
        return Err(format!(
            "the history has {n} complete {}s; a holdout of {} with {} origin(s) {} apart needs at least {}",
            history.calendar.kind.name(),
            spec.holdout,
            spec.rolling,
            spec.step,
            span + 3
        ));
    }
    let mut rows = Vec::new();
    let mut origins = Vec::new();
    let grid = crps_grid();
    let regions = region_series(history);
    let total: Vec<f64> = (0..n)
        .map(|p| history.revenue.iter().map(|s| s[p]).sum())
        .collect();
    // Per origin, how many of the company's holdout periods each trial's own
    // path has inside the 80% interval: a calibrated forecast's coverage
    // is distributed like a trial's.
    let mut company_inside: Vec<Vec<usize>> = Vec::new();
    for j in (0..spec.rolling).rev() {
        let cut = n - spec.holdout - j * spec.step;
        let train = history.truncated(cut);
        let models = fit(&train, cut, spec.holdout, fit_spec);
        let mut sim_spec = SimSpec::from_origin(&models, spec.holdout, spec.seed, spec.trials);
        sim_spec.quantiles.extend(crps_grid());
        let sim = simulate(&models, &sim_spec);
        let origin = history.calendar.start_of(models.origin).to_string();
        origins.push(origin.clone());
        // A period every territory of a series was forecast closed in
        // (`fit::offseason`: a zero seasonal index), and that sold nothing,
        // is not scored: a sure zero met would flatter the coverage and
        // the pinball. One that sold is scored (the forecast missed it).
        let seasons = models.seasons(spec.holdout);
        let closed = |members: &[usize], p: usize| {
            !members.is_empty()
                && members
                    .iter()
                    .all(|&t| models.territories[t].season.get(seasons[p]) == Some(&0.0))
        };
        let mut score =
            |level: &str, summary: &SeriesSummary, actual: &[f64], members: &[usize]| {
                let train_part = &actual[..cut];
                let scale = seasonal_naive_scale(train_part, season);
                let n_std = STANDARD_QUANTILES.len();
                for p in 0..spec.holdout {
                    let y = actual[cut + p];
                    if y == 0.0 && closed(members, p) {
                        continue;
                    }
                    let q = &summary.periods[p].quantiles;
                    let naive_grid = seasonal_naive(train_part, season, p, &grid);
                    let drift_grid = naive_drift(train_part, p, &grid);
                    rows.push(BacktestRow {
                        origin: origin.clone(),
                        level: level.to_string(),
                        name: summary.name.clone(),
                        period: sim.period_starts[p].to_string(),
                        actual: y,
                        mean: summary.periods[p].mean,
                        quantiles: q[..n_std].to_vec(),
                        baseline: seasonal_naive(train_part, season, p, &STANDARD_QUANTILES),
                        drift: naive_drift(train_part, p, &STANDARD_QUANTILES),
                        crps: crps_from_grid(y, &q[n_std..]),
                        baseline_crps: crps_from_grid(y, &naive_grid),
                        drift_crps: crps_from_grid(y, &drift_grid),
                        scale,
                    });
                }
            };
        for (t, s) in sim.territories.iter().enumerate() {
            score("territory", s, &history.revenue[t], &[t]);
        }
        // One region is the company: scored once, as the total (scoring
        // both would count its periods twice in the overall scores).
        let region_of = history.region_index();
        if sim.regions.len() > 1 {
            for (r, s) in sim.regions.iter().enumerate() {
                let members: Vec<usize> = (0..region_of.len())
                    .filter(|&t| region_of[t] == r)
                    .collect();
                score("region", s, &regions[r].1, &members);
            }
        }
        let everyone: Vec<usize> = (0..sim.territories.len()).collect();
        score("total", &sim.total, &total, &everyone);
        company_inside.push(trial_coverage(&sim, 0.1, 0.9));
    }
    let overall = scores(rows.iter().collect());
    let by_level = ["territory", "region", "total"]
        .iter()
        .filter(|l| rows.iter().any(|r| r.level == **l))
        .map(|l| {
            (
                l.to_string(),
                scores(rows.iter().filter(|r| r.level == *l).collect()),
            )
        })
        .collect();
    let total_points = rows.iter().filter(|r| r.level == "total").count();
    Ok(BacktestResult {
        holdout: spec.holdout,
        origins,
        rows,
        overall,
        by_level,
        total_coverage_80_band: calibrated_band(&company_inside, total_points, spec.seed),
    })
}

/// For each trial, the number of periods in which its company path lies
/// inside the simulation's own `lo`-`hi` quantile interval.
fn trial_coverage(sim: &SimResults, lo: f64, hi: f64) -> Vec<usize> {
    let (Some(i_lo), Some(i_hi)) = (
        quantile_index(&sim.quantiles, lo),
        quantile_index(&sim.quantiles, hi),
    ) else {
        return Vec::new();
    };
    let n = sim.total.periods.len();
    sim.company_paths
        .chunks_exact(n.max(1))
        .map(|path| {
            path.iter()
                .zip(&sim.total.periods)
                .filter(|(v, p)| **v >= p.quantiles[i_lo] && **v <= p.quantiles[i_hi])
                .count()
        })
        .collect()
}

/// The 5%-95% band of the company's 80%-interval coverage if the actuals
/// had been drawn from the forecast itself: one trial's path per origin,
/// origins independent. Periods of one origin share the trial's level,
/// trend and season errors and its common shocks, so the band is much
/// wider than a binomial one over the same number of points (origins that
/// overlap in time make it, if anything, too narrow).
fn calibrated_band(inside: &[Vec<usize>], points: usize, seed: u64) -> (f64, f64) {
    if points == 0 || inside.iter().any(Vec::is_empty) {
        return (0.0, 1.0);
    }
    const DRAWS: usize = 4000;
    let mut rng = stream_rng(seed, stream_id("backtest-band"), 0);
    let mut shares: Vec<f64> = (0..DRAWS)
        .map(|_| {
            let hits: usize = inside.iter().map(|c| c[rng.random_range(0..c.len())]).sum();
            hits as f64 / points as f64
        })
        .collect();
    shares.sort_by(f64::total_cmp);
    (
        sorted_quantile(&shares, 0.05),
        sorted_quantile(&shares, 0.95),
    )
}

fn scores(rows: Vec<&BacktestRow>) -> Scores {
    let points = rows.len();
    if points == 0 {
        return Scores::default();
    }
    let share = |f: &dyn Fn(&BacktestRow) -> bool| {
        rows.iter().filter(|r| f(r)).count() as f64 / points as f64
    };
    let inside = |r: &BacktestRow, lo: usize, hi: usize| {
        r.actual >= r.quantiles[lo] && r.actual <= r.quantiles[hi]
    };
    let scaled: Vec<&&BacktestRow> = rows.iter().filter(|r| r.scale > 0.0).collect();
    let mean_of = |f: &dyn Fn(&BacktestRow) -> f64| {
        if scaled.is_empty() {
            f64::NAN
        } else {
            scaled.iter().map(|r| f(r)).sum::<f64>() / scaled.len() as f64
        }
    };
    // Series = (origin, level, name).
    let mut series: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r.origin.clone(), r.level.clone(), r.name.clone()))
        .collect();
    series.sort();
    series.dedup();
    let skipped = series
        .iter()
        .filter(|k| {
            rows.iter()
                .any(|r| r.origin == k.0 && r.level == k.1 && r.name == k.2 && r.scale <= 0.0)
        })
        .count();
    let total_errors: Vec<f64> = series
        .iter()
        .filter_map(|k| {
            let (mut a, mut m) = (0.0, 0.0);
            for r in rows
                .iter()
                .filter(|r| r.origin == k.0 && r.level == k.1 && r.name == k.2)
            {
                a += r.actual;
                m += r.quantiles[3];
            }
            (a.abs() > 0.0).then(|| ((a - m) / a).abs())
        })
        .collect();
    Scores {
        points,
        coverage_50: share(&|r| inside(r, 2, 4)),
        coverage_80: share(&|r| inside(r, 1, 5)),
        coverage_90: share(&|r| inside(r, 0, 6)),
        below_quantile: (0..STANDARD_QUANTILES.len())
            .map(|k| share(&|r| r.actual < r.quantiles[k]))
            .collect(),
        scaled_pinball: mean_of(&|r| mean_pinball(r.actual, &r.quantiles) / r.scale),
        baseline_scaled_pinball: mean_of(&|r| mean_pinball(r.actual, &r.baseline) / r.scale),
        baseline_coverage_80: share(&|r| r.actual >= r.baseline[1] && r.actual <= r.baseline[5]),
        scaled_crps: mean_of(&|r| r.crps / r.scale),
        baseline_scaled_crps: mean_of(&|r| r.baseline_crps / r.scale),
        drift_scaled_pinball: mean_of(&|r| mean_pinball(r.actual, &r.drift) / r.scale),
        drift_scaled_crps: mean_of(&|r| r.drift_crps / r.scale),
        drift_coverage_80: share(&|r| r.actual >= r.drift[1] && r.actual <= r.drift[5]),
        mase: mean_of(&|r| (r.actual - r.quantiles[3]).abs() / r.scale),
        total_error: if total_errors.is_empty() {
            f64::NAN
        } else {
            total_errors.iter().sum::<f64>() / total_errors.len() as f64
        },
        series_scored: series.len() - skipped,
        series_skipped: skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinball_by_hand() {
        // y = 10; quantile 0.9 at 8: 0.9 * 2 = 1.8; quantile 0.1 at 12: 0.9 * 2 = 1.8.
        assert!((pinball(10.0, 8.0, 0.9) - 1.8).abs() < 1e-12);
        assert!((pinball(10.0, 12.0, 0.1) - 1.8).abs() < 1e-12);
        assert!((pinball(10.0, 12.0, 0.9) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn seasonal_naive_scale_by_hand() {
        // season 2: |3-1| + |4-2| + |9-3| = 10 over 3 differences.
        let y = [1.0, 2.0, 3.0, 4.0, 9.0];
        assert!((seasonal_naive_scale(&y, 2) - 10.0 / 3.0).abs() < 1e-12);
        // Too short for a season: lag 1.
        assert!((seasonal_naive_scale(&[1.0, 3.0], 12) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn seasonal_naive_repeats_last_season() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let f = seasonal_naive(&y, 3, 0, &STANDARD_QUANTILES);
        // Base 4 (one season back), errors all +3.
        assert!((f[3] - 7.0).abs() < 1e-12);
    }

    #[test]
    fn naive_drift_extends_the_mean_change() {
        // y rises by 2 each period: drift 2, errors all zero.
        let y = [1.0, 3.0, 5.0, 7.0];
        let f = naive_drift(&y, 2, &STANDARD_QUANTILES);
        assert!(f.iter().all(|&v| (v - 13.0).abs() < 1e-12), "{f:?}");
    }

    #[test]
    fn crps_of_a_point_forecast_is_the_absolute_error() {
        // All quantiles at 4, actual 10: CRPS = |10 - 4| = 6 (up to the
        // grid's truncation of the tails: 2 x mean over 1..99% of tau x 6).
        let grid = vec![4.0; 99];
        let expected = 2.0 * 6.0 * crps_grid().iter().sum::<f64>() / 99.0;
        assert!((crps_from_grid(10.0, &grid) - expected).abs() < 1e-12);
        assert!((expected - 6.0).abs() < 1e-9);
    }

    #[test]
    fn crps_of_a_normal_forecast_matches_the_closed_form() {
        // N(0, 1) forecast, actual 0: CRPS = 2 phi(0) - 1/sqrt(pi) = 0.2337.
        let normal = statrs::distribution::Normal::new(0.0, 1.0).unwrap();
        use statrs::distribution::ContinuousCDF;
        let grid: Vec<f64> = crps_grid().iter().map(|&p| normal.inverse_cdf(p)).collect();
        let exact = 2.0 * (-0.0f64).exp() / (2.0 * std::f64::consts::PI).sqrt()
            - 1.0 / std::f64::consts::PI.sqrt();
        assert!(
            (crps_from_grid(0.0, &grid) - exact).abs() < 0.01,
            "{}",
            crps_from_grid(0.0, &grid)
        );
    }
}
