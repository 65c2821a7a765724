//! Scenarios side by side. The scenarios are simulated with common random
//! numbers (the first scenario's seed and trial count for all, and the same
//! trial streams), so the difference of each scenario's company total
//! against the first is computed trial by trial and has its own quantiles:
//! far tighter than the difference of two independent forecasts. Pure
//! computation on finished runs.

use serde::Serialize;

use crate::report::{PlanProbability, Report};
use crate::sim::{summary_of, Summary};
use crate::stats::histogram::Histogram;

/// What the comparison needs from one finished scenario run.
pub struct ScenarioRun<'a> {
    pub name: String,
    pub file: String,
    pub report: &'a Report,
    /// Company horizon total per trial.
    pub company_totals: &'a [f64],
    /// Commission cost per trial, when the scenario ran comp.
    pub cost_totals: Option<&'a [f64]>,
}

/// One scenario's column of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioColumn {
    pub name: String,
    pub file: String,
    pub total: Summary,
    pub prob_hit_plan: Option<PlanProbability>,
    pub quota_total: Option<f64>,
    pub comp_cost: Option<Summary>,
    /// Whether the scenario rebalances its territories (`[territories]`):
    /// its quotas, if it sets any, are then set on the territories after
    /// the moves.
    pub rebalanced: bool,
    /// This scenario's company total minus the first's, trial by trial.
    pub difference: Summary,
    /// Share of trials in which this scenario's total exceeds the first's.
    pub prob_above_first: f64,
    pub difference_histogram: Histogram,
    /// The difference when it is the same in every trial (0 for a
    /// scenario that changes nothing the forecast draws, such as a
    /// rebalancing alone: the forecast is of the territories as they
    /// are); it has no distribution to plot.
    pub same_difference_every_trial: Option<f64>,
    /// Per period of the horizon: (period start, P10, P50, P90) of the
    /// company total.
    pub by_period: Vec<(String, f64, f64, f64)>,
}

/// One territory across scenarios.
#[derive(Debug, Clone, Serialize)]
pub struct TerritoryRow {
    pub territory: String,
    /// Per scenario: forecast mean of the horizon total, P50 and quota.
    /// The forecast is of the territory as it is; a scenario that
    /// rebalances sets its quotas on the territories after the moves.
    pub mean: Vec<Option<f64>>,
    pub p50: Vec<Option<f64>>,
    pub quota: Vec<Option<f64>>,
    /// Per scenario: the P50 the quota was set on (after the moves where
    /// the scenario rebalances) and the quota's chance of attainment.
    pub quota_p50: Vec<Option<f64>>,
    pub attain_probability: Vec<Option<f64>>,
    /// Per scenario that rebalances: "kept", "added" or "removed" (as in
    /// its `territories.csv`); `None` where the scenario does not
    /// rebalance, or does not have the territory (one another scenario
    /// adds). A removed territory has a forecast and no quota.
    pub status: Vec<Option<String>>,
}

impl ScenarioColumn {
    /// Whether its quotas were set on territories other than its
    /// forecast's: it rebalances and sets quotas.
    pub fn quotas_after_moves(&self) -> bool {
        self.rebalanced && self.quota_total.is_some()
    }
}

/// The comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub seed: u64,
    pub trials: usize,
    pub currency: String,
    pub period: String,
    pub quantiles: Vec<f64>,
    pub scenarios: Vec<ScenarioColumn>,
    pub territories: Vec<TerritoryRow>,
}

/// Compare `runs` (the first is the base).
///
/// # Panics
/// Never: an empty `runs` gives an empty comparison.
pub fn compare(runs: &[ScenarioRun], seed: u64, quantiles: &[f64]) -> Comparison {
    let Some(base) = runs.first() else {
        return Comparison {
            seed,
            trials: 0,
            currency: String::new(),
            period: String::new(),
            quantiles: quantiles.to_vec(),
            scenarios: Vec::new(),
            territories: Vec::new(),
        };
    };
    let scenarios = runs
        .iter()
        .map(|r| {
            let diff: Vec<f64> = r
                .company_totals
                .iter()
                .zip(base.company_totals)
                .map(|(a, b)| a - b)
                .collect();
            let above = diff.iter().filter(|&&d| d > 0.0).count() as f64 / diff.len().max(1) as f64;
            let difference_histogram = Histogram::of(&diff, 40);
            let same_difference_every_trial = diff.first().copied().filter(|&d0| {
                diff.iter()
                    .all(|&d| (d - d0).abs() <= 1e-9 * d0.abs().max(1.0))
            });
            let totals = r.company_totals.to_vec();
            let forecast = r.report.forecast.as_ref();
            let by_period = forecast
                .map(|f| {
                    f.rows
                        .iter()
                        .filter(|row| row.level == "total" && row.period != "year")
                        .map(|row| {
                            let q = |p| row.summary.at(&f.quantiles, p);
                            (row.period.clone(), q(0.1), q(0.5), q(0.9))
                        })
                        .collect()
                })
                .unwrap_or_default();
            ScenarioColumn {
                name: r.name.clone(),
                file: r.file.clone(),
                total: summary_of(&totals, quantiles),
                prob_hit_plan: forecast.and_then(|f| f.prob_hit_plan),
                quota_total: r.report.quota.as_ref().map(|q| q.quota_total),
                rebalanced: r.report.territories.is_some(),
                comp_cost: r.cost_totals.map(|c| summary_of(c, quantiles)),
                difference: summary_of(&diff, quantiles),
                prob_above_first: above,
                difference_histogram,
                same_difference_every_trial,
                by_period,
            }
        })
        .collect();
    Comparison {
        seed,
        trials: base.company_totals.len(),
        currency: base.report.meta.currency.clone(),
        period: base.report.meta.period.clone(),
        quantiles: quantiles.to_vec(),
        scenarios,
        territories: territory_rows(runs),
    }
}

/// Territories in the order first seen across the runs (a territory a
/// rebalancing adds has quotas and no forecast of its own).
fn territory_rows(runs: &[ScenarioRun]) -> Vec<TerritoryRow> {
    let mut names: Vec<String> = Vec::new();
    for r in runs {
        let forecast = r.report.forecast.iter().flat_map(|f| {
            f.rows
                .iter()
                .filter(|x| x.level == "territory")
                .map(|x| &x.name)
        });
        let quota = r
            .report
            .quota
            .iter()
            .flat_map(|q| q.rows.iter().map(|x| &x.territory));
        for name in forecast.chain(quota) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let year = |r: &ScenarioRun| {
                r.report.forecast.as_ref().and_then(|f| {
                    f.rows
                        .iter()
                        .find(|x| x.level == "territory" && x.period == "year" && x.name == name)
                        .map(|x| (x.summary.mean, x.summary.at(&f.quantiles, 0.5)))
                })
            };
            let quota_row = |r: &ScenarioRun| {
                r.report
                    .quota
                    .as_ref()
                    .and_then(|q| q.rows.iter().find(|x| x.territory == name))
                    .map(|x| (x.quota, x.forecast_p50, x.attain_probability))
            };
            let quotas: Vec<_> = runs.iter().map(quota_row).collect();
            let status = |r: &ScenarioRun| {
                r.report.territories.as_ref().and_then(|t| {
                    t.rows
                        .iter()
                        .find(|x| x.territory == name)
                        .map(|x| x.status.clone())
                })
            };
            TerritoryRow {
                mean: runs.iter().map(|r| year(r).map(|y| y.0)).collect(),
                p50: runs.iter().map(|r| year(r).map(|y| y.1)).collect(),
                quota: quotas.iter().map(|q| q.map(|x| x.0)).collect(),
                quota_p50: quotas.iter().map(|q| q.map(|x| x.1)).collect(),
                attain_probability: quotas.iter().map(|q| q.map(|x| x.2)).collect(),
                status: runs.iter().map(status).collect(),
                territory: name,
            }
        })
        .collect()
}
