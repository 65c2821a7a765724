//! Scorecards: how last year's quotas worked out.
//!
//! The quotas table (`data.quotas`) is read as the quotas of the history's
//! last full year (its last `per_year` periods). Per territory: quota,
//! actual, attainment (actual / quota), growth on the year before, rank and
//! percentile of attainment within its region, its reps' ramped share of
//! the year, and the probability of attaining that quota that the model
//! fitted on the years before would have given (the quota backtest's
//! [`crate::quota_backtest::Hindsight`]): was the quota set at a fair
//! probability?
//!
//! The fairness summary sets the share that attained against the share a
//! plan at those probabilities would give (with its 90% band over the
//! trials), the attainment spread, the correlation of attainment with
//! territory size (last year's revenue before the quotas) and potential,
//! and names the quotas that were improbable in hindsight (P(attain) below
//! 10% or above 90%). Pure computation.

use ndarray::{Array2, Axis};
use serde::Serialize;

use crate::capacity::{midpoint, productivity};
use crate::error::{Error, Result};
use crate::history::{Rep, SalesHistory};
use crate::quota::attainment;
use crate::quota_backtest::year_sums;
use crate::stats::histogram::Histogram;
use crate::stats::quantile::{correlation, quantiles, sorted_quantile};

/// Below this hindsight probability (or above one minus it) a quota was
/// improbable: too hard (or too easy) when it was set.
pub const IMPROBABLE: f64 = 0.10;

/// The attainment histogram's right edge (200%); higher attainment is
/// counted in its last bin.
pub const HISTOGRAM_TOP: f64 = 2.0;

/// One territory's scorecard.
#[derive(Debug, Clone, Serialize)]
pub struct ScorecardRow {
    pub territory: String,
    /// The rep of a rep row (`None`: the territory's row).
    pub rep: Option<String>,
    pub region: String,
    pub quota: f64,
    pub actual: f64,
    /// actual / quota.
    pub attainment: f64,
    /// actual / the year before's actual - 1 (`None` without a year before
    /// or with no revenue in it).
    pub growth: Option<f64>,
    /// Rank of attainment within the region (1: highest).
    pub rank: usize,
    pub region_size: usize,
    /// Share of the region's other territories it out-attained (`None`
    /// alone in its region).
    pub percentile: Option<f64>,
    /// FTE of its reps, and the share of that FTE's year they were ramped
    /// and present (`None` without a reps table).
    pub rep_fte: Option<f64>,
    pub ramped_share: Option<f64>,
    /// A rep's months from its start date to the year's end.
    pub tenure_months: Option<f64>,
    /// P(attain) the model fitted on the years before would have given.
    pub attain_probability: f64,
    /// "too hard" or "too easy" when that probability was improbable.
    pub verdict: Option<&'static str>,
}

/// A quota improbable in hindsight.
#[derive(Debug, Clone, Serialize)]
pub struct Improbable {
    pub territory: String,
    pub attain_probability: f64,
    /// "too hard" or "too easy".
    pub verdict: &'static str,
}

/// The scorecard of the last full year.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    /// First and last day of the year scored.
    pub year_start: String,
    pub year_end: String,
    /// Territory rows (the summary's figures are theirs).
    pub rows: Vec<ScorecardRow>,
    /// Rep rows, by territory, when the sales carry reps.
    pub rep_rows: Vec<ScorecardRow>,
    /// Share of territories that attained.
    pub share_attaining: f64,
    /// The share a plan at those hindsight probabilities gives: its mean
    /// and 90% band over the trials.
    pub fair_share: f64,
    pub fair_share_p05: f64,
    pub fair_share_p95: f64,
    pub inside_band: bool,
    /// P10, P50, P90 of attainment.
    pub attainment_p10: f64,
    pub attainment_p50: f64,
    pub attainment_p90: f64,
    /// Correlation of attainment with last year's revenue before the
    /// quotas' year (size) and with potential.
    pub size_correlation: f64,
    pub potential_correlation: f64,
    pub improbable: Vec<Improbable>,
    /// Attainment of the territories, for the plot.
    pub histogram: Histogram,
    pub warnings: Vec<String>,
}

impl Scorecard {
    /// The rows in the files' order: each territory followed by its reps.
    pub fn territories_then_reps(&self) -> impl Iterator<Item = &ScorecardRow> {
        self.rows.iter().flat_map(|t| {
            std::iter::once(t).chain(self.rep_rows.iter().filter(|r| r.territory == t.territory))
        })
    }

    /// Reps whose year's sales reached their quota.
    pub fn reps_attained(&self) -> usize {
        self.rep_rows.iter().filter(|r| r.actual >= r.quota).count()
    }
}

/// Attainment in bars of 5 points (10 beyond a range of 100 points) from
/// the lowest to the highest, quota (100%) always in range; attainment
/// above [`HISTOGRAM_TOP`] is counted in the last bar.
fn attainment_histogram(attain: &[f64]) -> Histogram {
    let min = attain.iter().copied().fold(1.0f64, f64::min).max(0.0);
    let max = attain
        .iter()
        .copied()
        .fold(1.0f64, f64::max)
        .min(HISTOGRAM_TOP);
    let width = if max - min > 1.0 { 0.1 } else { 0.05 };
    let lo = (min / width).floor() * width;
    let bins = (((max - lo) / width).floor() as usize + 1).max(2);
    let hi = lo + bins as f64 * width;
    Histogram::with_range(attain.iter().map(|a| a.clamp(lo, hi - 1e-9)), lo, hi, bins)
}

/// "too hard" below [`IMPROBABLE`], "too easy" above one minus it.
fn verdict(probability: f64) -> Option<&'static str> {
    if probability < IMPROBABLE {
        Some("too hard")
    } else if probability > 1.0 - IMPROBABLE {
        Some("too easy")
    } else {
        None
    }
}

/// The FTE of `reps` and their ramped share of periods `from..to` (present
/// and ramped, by the capacity rule); `None` without FTE.
fn ramp(reps: &[&Rep], history: &SalesHistory, from: usize, to: usize) -> Option<(f64, f64)> {
    let fte: f64 = reps.iter().map(|r| r.fte).sum();
    if fte <= 0.0 {
        return None;
    }
    let worked: f64 = (from..to)
        .map(|p| {
            let date = midpoint(&history.calendar, history.first_period + p as i64);
            reps.iter()
                .map(|r| r.fte * productivity(r, date))
                .sum::<f64>()
        })
        .sum();
    Some((fte, worked / (fte * (to - from) as f64)))
}

/// The reps of territory `t`.
fn reps_of(history: &SalesHistory, t: usize) -> Vec<&Rep> {
    history.reps.iter().filter(|r| r.territory == t).collect()
}

/// Rank, region size and percentile of each row by attainment among the
/// rows of its region.
fn rank_within_regions(rows: &mut [ScorecardRow]) {
    let keys: Vec<(String, f64)> = rows
        .iter()
        .map(|r| (r.region.clone(), r.attainment))
        .collect();
    for (row, (region, a)) in rows.iter_mut().zip(&keys) {
        let peers: Vec<f64> = keys
            .iter()
            .filter(|(g, _)| g == region)
            .map(|(_, x)| *x)
            .collect();
        let above = peers.iter().filter(|&&x| x > *a).count();
        let below = peers.iter().filter(|&&x| x < *a).count();
        row.rank = above + 1;
        row.region_size = peers.len();
        row.percentile = (peers.len() > 1).then(|| below as f64 / (peers.len() - 1) as f64);
    }
}

/// One row per rep of a scored territory, when the sales carry reps: the
/// rep's quota (the quotas table's, when it is keyed by rep, else the
/// territory's split by the reps' ramped FTE over the year: the roster rule
/// of the plan year's rep quotas), its own sales, tenure and ramp, and
/// P(attain) with the rep's revenue a fixed share of the territory's
/// simulated year: its share of the territory's sales the year before,
/// scaled by the change in its share of the territory's ramped FTE, or for
/// a rep without sales then, its ramped-FTE share.
fn rep_rows(
    history: &SalesHistory,
    cut: usize,
    totals: &Array2<f32>,
    scored: &[usize],
    quotas: &[f64],
    warnings: &mut Vec<String>,
) -> Vec<ScorecardRow> {
    if history.reps.is_empty() {
        return Vec::new();
    }
    if history.rep_revenue.is_empty() {
        warnings.push(
            "scorecard: rows by territory only: rep rows need sales that carry a rep (map the sales' rep column in [data.columns], or territory_from = \"rep\")"
                .into(),
        );
        return Vec::new();
    }
    let n = history.n_periods();
    let per_year = n - cut;
    let year_end = history.calendar.start_of(history.first_period + n as i64);
    let sum = |rep: &str, from: usize, to: usize| -> f64 {
        history
            .rep_revenue
            .get(rep)
            .map_or(0.0, |v| v[from..to].iter().sum())
    };
    // Rep ids that do not meet: reps without a sale under their id, and
    // sales under ids the reps table does not know.
    let silent: Vec<&str> = history
        .reps
        .iter()
        .filter(|r| scored.contains(&r.territory) && sum(&r.id, 0, n) == 0.0)
        .map(|r| r.id.as_str())
        .collect();
    if !silent.is_empty() {
        warnings.push(format!(
            "scorecard: no sales under their id in the sales table for {} ({}): their rows show no revenue; check that the ids match",
            crate::format::count(silent.len(), "rep", "reps"),
            silent.join(", ")
        ));
    }
    let year_total: f64 = history.rep_revenue.keys().map(|id| sum(id, cut, n)).sum();
    let unknown: Vec<(&str, f64)> = history
        .rep_revenue
        .keys()
        .filter(|id| history.reps.iter().all(|r| &r.id != *id))
        .map(|id| (id.as_str(), sum(id, cut, n)))
        .collect();
    if !unknown.is_empty() {
        let share = unknown.iter().map(|u| u.1).sum::<f64>() / year_total.max(f64::MIN_POSITIVE);
        warnings.push(format!(
            "scorecard: sales carry {} rep ids the reps table does not list ({}{}), {:.1}% of the year's revenue: no rep row counts them",
            unknown.len(),
            unknown.iter().take(5).map(|u| u.0).collect::<Vec<_>>().join(", "),
            if unknown.len() > 5 { ", ..." } else { "" },
            100.0 * share
        ));
    }
    let mut out = Vec::new();
    for (k, &t) in scored.iter().enumerate() {
        let reps = reps_of(history, t);
        let territory_before: f64 = history.revenue[t][cut - per_year..cut].iter().sum();
        // Each rep's FTE-year ramped and present: the year scored, the year before.
        let ramps: Vec<Option<(f64, f64)>> =
            reps.iter().map(|r| ramp(&[*r], history, cut, n)).collect();
        let worked: Vec<f64> = ramps.iter().map(|x| x.map_or(0.0, |x| x.0 * x.1)).collect();
        let total: f64 = worked.iter().sum();
        let worked_before: Vec<f64> = reps
            .iter()
            .map(|r| ramp(&[*r], history, cut - per_year, cut).map_or(0.0, |x| x.0 * x.1))
            .collect();
        let total_before: f64 = worked_before.iter().sum();
        for (((r, w), wb), ramp) in reps.iter().zip(&worked).zip(&worked_before).zip(&ramps) {
            let share = if total > 0.0 { w / total } else { 0.0 };
            let quota = history
                .rep_quotas
                .get(&r.id)
                .copied()
                .unwrap_or(quotas[k] * share);
            if quota <= 0.0 || share <= 0.0 {
                continue;
            }
            let actual = sum(&r.id, cut, n);
            let before = sum(&r.id, cut - per_year, cut);
            let trials = totals.ncols().max(1) as f64;
            // Its share of the territory's sales the year before, moved by
            // the change in its share of the territory's capacity (a
            // colleague who joined or left), else its capacity share.
            let revenue_share = if before > 0.0 && territory_before > 0.0 && *wb > 0.0 {
                (before / territory_before) * share / (wb / total_before)
            } else {
                share
            };
            let p = totals
                .row(k)
                .iter()
                .filter(|&&x| x as f64 * revenue_share >= quota)
                .count() as f64
                / trials;
            out.push(ScorecardRow {
                territory: history.territories[t].name.clone(),
                rep: Some(r.id.clone()),
                region: history.territories[t].region.clone(),
                quota,
                actual,
                attainment: actual / quota,
                growth: (before > 0.0).then(|| actual / before - 1.0),
                rank: 0,
                region_size: 0,
                percentile: None,
                rep_fte: Some(r.fte),
                ramped_share: ramp.map(|x| x.1),
                tenure_months: r.start_date.map(|s| {
                    let to = r.end_date.map_or(year_end, |e| e.min(year_end));
                    ((to - s).num_days() as f64 / 30.4375 * 10.0).round() / 10.0
                }),
                attain_probability: p,
                verdict: verdict(p),
            });
        }
    }
    out
}

/// Score last year's quotas (`history.quotas`, by territory) against what
/// each territory sold in periods `cut..` (the last year), with `totals`
/// [territory, trial] the year as simulated from the periods before `cut`
/// (a [`crate::quota_backtest::Hindsight`]) and each territory's `potential`.
///
/// # Errors
/// `Error::Usage` when no territory has a quota.
pub fn scorecard(
    history: &SalesHistory,
    cut: usize,
    totals: &Array2<f32>,
    potential: &[f64],
) -> Result<Scorecard> {
    let n = history.n_periods();
    let per_year = n - cut;
    let actual = year_sums(history, cut, n);
    let before = year_sums(history, cut - per_year, cut);
    let mut warnings = Vec::new();
    let scored: Vec<usize> = (0..history.territories.len())
        .filter(|t| history.quotas.get(t).is_some_and(|&q| q > 0.0))
        .collect();
    if scored.is_empty() {
        return Err(Error::Usage(
            "scorecard: the quotas table (data.quotas) gives no territory a positive quota; expected last year's quotas".into(),
        ));
    }
    let missing: Vec<&str> = (0..history.territories.len())
        .filter(|t| !scored.contains(t))
        .map(|t| history.territories[t].name.as_str())
        .collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "scorecard: not scored, without a positive quota in the quotas table: {} ({})",
            crate::format::count(missing.len(), "territory", "territories"),
            missing.join(", ")
        ));
    }
    let quotas: Vec<f64> = scored.iter().map(|t| history.quotas[t]).collect();
    let totals = totals.select(Axis(0), &scored);
    let (probability, shares) = attainment(&totals, &quotas);
    let attain: Vec<f64> = scored
        .iter()
        .zip(&quotas)
        .map(|(&t, q)| actual[t] / q)
        .collect();
    let region = |t: usize| history.territories[t].region.as_str();
    let mut rows: Vec<ScorecardRow> = scored
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let ramp = ramp(&reps_of(history, t), history, cut, n);
            ScorecardRow {
                territory: history.territories[t].name.clone(),
                rep: None,
                region: region(t).to_string(),
                quota: quotas[k],
                actual: actual[t],
                attainment: attain[k],
                growth: (before[t] > 0.0).then(|| actual[t] / before[t] - 1.0),
                rank: 0,
                region_size: 0,
                percentile: None,
                rep_fte: ramp.map(|r| r.0),
                ramped_share: ramp.map(|r| r.1),
                tenure_months: None,
                attain_probability: probability[k],
                verdict: verdict(probability[k]),
            }
        })
        .collect();
    rank_within_regions(&mut rows);
    let mut rep_rows = rep_rows(history, cut, &totals, &scored, &quotas, &mut warnings);
    rank_within_regions(&mut rep_rows);
    let m = rows.len() as f64;
    let share_attaining = rows.iter().filter(|r| r.actual >= r.quota).count() as f64 / m;
    let fair_share = shares.iter().sum::<f64>() / shares.len().max(1) as f64;
    let (p05, p95) = (
        sorted_quantile(&shares, 0.05),
        sorted_quantile(&shares, 0.95),
    );
    let a = quantiles(&attain, &[0.1, 0.5, 0.9]);
    let size: Vec<f64> = scored.iter().map(|&t| before[t]).collect();
    let pot: Vec<f64> = scored.iter().map(|&t| potential[t]).collect();
    let improbable = rows
        .iter()
        .filter_map(|r| {
            Some(Improbable {
                territory: r.territory.clone(),
                attain_probability: r.attain_probability,
                verdict: r.verdict?,
            })
        })
        .collect();
    let calendar = &history.calendar;
    Ok(Scorecard {
        year_start: calendar
            .start_of(history.first_period + cut as i64)
            .to_string(),
        year_end: (calendar.start_of(history.first_period + n as i64) - chrono::Duration::days(1))
            .to_string(),
        share_attaining,
        fair_share,
        fair_share_p05: p05,
        fair_share_p95: p95,
        inside_band: share_attaining >= p05 - 1e-12 && share_attaining <= p95 + 1e-12,
        attainment_p10: a[0],
        attainment_p50: a[1],
        attainment_p90: a[2],
        size_correlation: correlation(&size, &attain),
        potential_correlation: correlation(&pot, &attain),
        improbable,
        histogram: attainment_histogram(&attain),
        rows,
        rep_rows,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, PeriodKind};
    use crate::history::Territory;

    /// Five territories, two regions, two years of constant months; E has
    /// no quota. Every figure below is worked out by hand.
    fn case() -> (SalesHistory, Array2<f32>) {
        let t = |name: &str, region: &str| Territory {
            name: name.into(),
            region: region.into(),
        };
        let years = |y1: f64, y2: f64| -> Vec<f64> {
            std::iter::repeat_n(y1, 12)
                .chain(std::iter::repeat_n(y2, 12))
                .collect()
        };
        let mut h = SalesHistory::from_series(
            Calendar::new(PeriodKind::Month, 1),
            2025 * 12,
            vec![
                t("A", "N"),
                t("B", "N"),
                t("C", "S"),
                t("D", "S"),
                t("E", "S"),
            ],
            vec![
                years(100.0, 110.0), // 1200 -> 1320
                years(200.0, 180.0), // 2400 -> 2160
                years(50.0, 60.0),   // 600 -> 720
                years(300.0, 300.0), // 3600 -> 3600
                years(10.0, 10.0),
            ],
        );
        for (i, q) in [1200.0, 2400.0, 800.0, 3000.0].into_iter().enumerate() {
            h.quotas.insert(i, q);
        }
        let totals = Array2::from_shape_vec(
            (5, 4),
            vec![
                1000.0, 1250.0, 1300.0, 2000.0, // A: 3 of 4 trials reach 1200
                1000.0, 2000.0, 3000.0, 4000.0, // B: 2 of 4 reach 2400
                100.0, 200.0, 300.0, 400.0, // C: none reach 800
                3100.0, 3200.0, 3300.0, 3400.0, // D: all reach 3000
                1.0, 2.0, 3.0, 4.0,
            ],
        )
        .unwrap();
        (h, totals)
    }

    #[test]
    fn scorecard_arithmetic_matches_the_hand_computed_case() {
        let (h, totals) = case();
        let c = scorecard(&h, 12, &totals, &[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let names: Vec<&str> = c.rows.iter().map(|r| r.territory.as_str()).collect();
        assert_eq!(names, ["A", "B", "C", "D"]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let attainment: Vec<f64> = c.rows.iter().map(|r| r.attainment).collect();
        for (a, b) in attainment.iter().zip([1.1, 0.9, 0.9, 1.2]) {
            assert!(close(*a, b), "{attainment:?}");
        }
        let growth: Vec<f64> = c.rows.iter().map(|r| r.growth.unwrap()).collect();
        for (a, b) in growth.iter().zip([0.1, -0.1, 0.2, 0.0]) {
            assert!(close(*a, b), "{growth:?}");
        }
        let ranks: Vec<(usize, usize)> = c.rows.iter().map(|r| (r.rank, r.region_size)).collect();
        assert_eq!(ranks, [(1, 2), (2, 2), (2, 2), (1, 2)]);
        let percentiles: Vec<f64> = c.rows.iter().map(|r| r.percentile.unwrap()).collect();
        assert_eq!(percentiles, [1.0, 0.0, 0.0, 1.0]);
        let p: Vec<f64> = c.rows.iter().map(|r| r.attain_probability).collect();
        assert_eq!(p, [0.75, 0.5, 0.0, 1.0]);
        assert!(close(c.share_attaining, 0.5));
        // Trials: 1, 2, 3 and 3 of 4 territories attain.
        assert!(close(c.fair_share, 0.5625));
        assert!(c.inside_band);
        // Size is last year's revenue: 1200, 2400, 600, 3600 against
        // attainment 1.1, 0.9, 0.9, 1.2: 345 / sqrt(5,310,000 x 0.0675).
        assert!(
            (c.size_correlation - 0.576_257).abs() < 1e-5,
            "{}",
            c.size_correlation
        );
        let verdicts: Vec<(&str, &str)> = c
            .improbable
            .iter()
            .map(|i| (i.territory.as_str(), i.verdict))
            .collect();
        assert_eq!(verdicts, [("C", "too hard"), ("D", "too easy")]);
        assert_eq!(c.year_start, "2026-01-01");
        assert_eq!(c.year_end, "2026-12-31");
        assert!(
            c.warnings[0].contains("1 territory (E)"),
            "{}",
            c.warnings[0]
        );
    }

    #[test]
    fn no_quota_at_all_is_a_clear_error() {
        let (mut h, totals) = case();
        h.quotas.clear();
        let e = scorecard(&h, 12, &totals, &[0.0; 5]).unwrap_err();
        assert!(e.to_string().contains("data.quotas"), "{e}");
    }
}
