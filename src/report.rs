//! The report: one `Serialize` value built once per command from the
//! stages' outputs. Every exporter (CSV, JSON, HTML, XLSX) and plot only
//! reads it and never recomputes a number.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::backtest::BacktestResult;
use crate::comp::CompSection;
use crate::history::{LoadReport, SalesHistory};
use crate::model::{FittedModels, ShockModel};
use crate::quota::QuotaPlan;
use crate::rebalance::TerritoriesSection;
use crate::sim::{SimResults, Summary};
use crate::stats::histogram::Histogram;

/// Identification of the run: enough to regenerate any output.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub scenario: String,
    pub seed: u64,
    pub trials: usize,
    pub version: String,
    /// Input file -> sha256.
    pub inputs: BTreeMap<String, String>,
    pub currency: String,
    pub period: String,
}

/// What the data looked like.
#[derive(Debug, Clone, Serialize)]
pub struct DataSummary {
    pub load: LoadReport,
    pub periods: usize,
    pub first_period: Option<String>,
    pub last_period: Option<String>,
    pub territories: usize,
    pub regions: Vec<String>,
    pub accounts: usize,
    pub reps: usize,
    pub pipeline: usize,
    /// Revenue per calendar year of complete periods.
    pub revenue_by_year: BTreeMap<i32, f64>,
    /// Complete periods per calendar year (a history that starts or ends
    /// inside a year has fewer than `per_year` there: its revenue is not
    /// a whole year's).
    pub periods_by_year: BTreeMap<i32, usize>,
    /// Periods in a whole year (52 weeks, 12 months, 4 quarters).
    pub per_year: usize,
}

impl DataSummary {
    /// Summarise a loaded history.
    pub fn of(history: &SalesHistory) -> Self {
        let starts = history.period_starts();
        let mut revenue_by_year = BTreeMap::new();
        let mut periods_by_year = BTreeMap::new();
        for (p, d) in starts.iter().enumerate() {
            let total: f64 = history.revenue.iter().map(|r| r[p]).sum();
            let year = chrono::Datelike::year(d);
            *revenue_by_year.entry(year).or_insert(0.0) += total;
            *periods_by_year.entry(year).or_insert(0) += 1;
        }
        Self {
            load: history.report.clone(),
            periods: history.n_periods(),
            first_period: starts.first().map(|d| d.to_string()),
            last_period: starts.last().map(|d| d.to_string()),
            territories: history.territories.len(),
            regions: history.regions(),
            accounts: history.accounts.len(),
            reps: history.reps.len(),
            pipeline: history.pipeline.len(),
            revenue_by_year,
            periods_by_year,
            per_year: history.calendar.kind.per_year(),
        }
    }
}

/// One row of `fit.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct FitRow {
    pub territory: String,
    pub region: String,
    pub model: String,
    pub n_periods: usize,
    pub params: String,
    pub loglik: Option<f64>,
    pub aic: Option<f64>,
    pub bic: Option<f64>,
    pub gof_name: Option<String>,
    pub gof_stat: Option<f64>,
    pub runner_up: Option<String>,
    pub trend: bool,
    pub seasonal: bool,
    pub pooled: bool,
    pub level: f64,
    /// The slope per period at the origin (a compounding trend's rate
    /// times its level).
    pub slope: f64,
    /// The state's smoothing weight of the level (0: a stable level).
    pub alpha: f64,
    /// Widening of the periods' spread: the calibration factor times the
    /// degrees-of-freedom correction (1: none); a level shift, where there
    /// is one, carries part of it (`noise_kept` in `params`).
    pub spread_factor: f64,
    /// How the level-and-trend model was chosen (`rolling-origin CRPS`, `AICc`).
    pub chosen_by: String,
    /// Rolling-origin origins on the territory's history.
    pub origins: usize,
    /// Of those, the ones whose errors were measured with weights chosen
    /// apart from them (cross-fitted).
    pub origins_held_out: usize,
    /// Calibration factor from the rolling-origin errors (own, shrunk toward
    /// the company's), if any.
    pub calibration: Option<f64>,
    /// Calibration factor of the horizon total, if any.
    pub calibration_total: Option<f64>,
    /// The horizon total's factors below and above its median, if any.
    pub calibration_total_sides: Option<[f64; 2]>,
}

/// A territory's history beside the model's fitted mean.
#[derive(Debug, Clone, Serialize)]
pub struct FittedSeries {
    pub territory: String,
    pub model: String,
    pub periods: Vec<String>,
    pub actual: Vec<f64>,
    pub fitted: Vec<f64>,
}

/// Territories shown in the fitted-vs-actual plots (the largest).
pub const FITTED_SHOWN: usize = 4;

/// The fit stage's part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct FitSection {
    pub rows: Vec<FitRow>,
    /// The largest territories' history and fitted means.
    pub fitted: Vec<FittedSeries>,
    pub shocks: ShockModel,
    /// Weight of each earlier year in the seasonal profiles.
    pub season_discount: f64,
    pub alpha_prior: crate::model::AlphaPriorModes,
    /// [`crate::model::FittedModels::persistence`].
    pub persistence: f64,
    /// [`crate::model::FittedModels::variance_power`].
    pub variance_power: Option<f64>,
    pub warnings: Vec<String>,
}

impl FitSection {
    /// Build from fitted models.
    pub fn of(models: &FittedModels) -> Self {
        let rows = models
            .territories
            .iter()
            .map(|t| FitRow {
                territory: t.name.clone(),
                region: t.region.clone(),
                model: t.diagnostics.label(),
                n_periods: t.n_periods,
                params: t.diagnostics.params.to_string(),
                loglik: t.diagnostics.loglik,
                aic: t.diagnostics.aic,
                bic: t.diagnostics.bic,
                gof_name: t.diagnostics.gof_name.clone(),
                gof_stat: t.diagnostics.gof_stat,
                runner_up: t.diagnostics.runner_up.clone(),
                trend: t.diagnostics.trend,
                seasonal: t.diagnostics.seasonal,
                pooled: t.diagnostics.pooled,
                level: t.level.level,
                slope: t.level.slope_per_period(),
                alpha: t.level.smoothing.alpha,
                spread_factor: t.diagnostics.spread,
                chosen_by: t.diagnostics.chosen_by.clone(),
                origins: t.diagnostics.origins,
                origins_held_out: t.diagnostics.origins_held_out,
                calibration: t.diagnostics.calibration,
                calibration_total: t.diagnostics.total_calibration,
                calibration_total_sides: t.diagnostics.total_calibration_sides,
            })
            .collect();
        let mut by_size: Vec<&crate::model::TerritoryModel> = models
            .territories
            .iter()
            .filter(|t| !t.diagnostics.fitted.is_empty())
            .collect();
        by_size.sort_by(|a, b| {
            let total = |t: &crate::model::TerritoryModel| t.diagnostics.actual.iter().sum::<f64>();
            total(b).total_cmp(&total(a)).then(a.name.cmp(&b.name))
        });
        let fitted = by_size
            .into_iter()
            .take(FITTED_SHOWN)
            .map(|t| {
                let n = t.diagnostics.actual.len() as i64;
                FittedSeries {
                    territory: t.name.clone(),
                    model: t.diagnostics.label(),
                    periods: (0..n)
                        .map(|k| models.calendar.start_of(models.origin - n + k).to_string())
                        .collect(),
                    actual: t.diagnostics.actual.clone(),
                    fitted: t.diagnostics.fitted.clone(),
                }
            })
            .collect();
        Self {
            rows,
            fitted,
            shocks: models.shocks,
            season_discount: models.season_discount,
            alpha_prior: models.alpha_prior,
            persistence: models.persistence,
            variance_power: models.variance_power,
            warnings: models.warnings.clone(),
        }
    }
}

/// One row of `forecast.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastRow {
    pub level: String,
    pub name: String,
    /// ISO date of the period start, or "year".
    pub period: String,
    pub summary: Summary,
}

/// Probability of reaching the plan, with its Monte Carlo standard error.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PlanProbability {
    pub plan: f64,
    pub probability: f64,
    pub standard_error: f64,
}

/// The forecast stage's part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastSection {
    pub quantiles: Vec<f64>,
    pub rows: Vec<ForecastRow>,
    pub total: Summary,
    pub prob_hit_plan: Option<PlanProbability>,
    pub actual_periods: usize,
    pub draws: u64,
    /// Company revenue in the periods just before the horizon (for the fan chart).
    pub recent_actuals: Vec<(String, f64)>,
    /// Distribution of the company's horizon total over the trials.
    pub total_histogram: Histogram,
}

impl ForecastSection {
    /// Whether every period of the plan year is already in the history (its
    /// figures are actuals and nothing was simulated).
    pub fn all_actuals(&self) -> bool {
        self.draws == 0 && self.actual_periods > 0
    }

    /// Build from simulation results; `plan` when the scenario has one,
    /// `recent_actuals` the company's revenue by period before the horizon.
    pub fn of(sim: &SimResults, plan: Option<f64>, recent_actuals: Vec<(String, f64)>) -> Self {
        let mut rows = Vec::new();
        let levels = [
            ("territory", &sim.territories),
            ("region", &sim.regions),
            ("total", &vec![sim.total.clone()]),
        ];
        for (level, series) in levels {
            for s in series.iter() {
                for (p, summary) in s.periods.iter().enumerate() {
                    rows.push(ForecastRow {
                        level: level.into(),
                        name: s.name.clone(),
                        period: sim.period_starts[p].to_string(),
                        summary: summary.clone(),
                    });
                }
                rows.push(ForecastRow {
                    level: level.into(),
                    name: s.name.clone(),
                    period: "year".into(),
                    summary: s.year.clone(),
                });
            }
        }
        let prob_hit_plan = plan.map(|plan| {
            let n = sim.company_totals.len() as f64;
            let p = sim.company_totals.iter().filter(|&&v| v >= plan).count() as f64 / n;
            PlanProbability {
                plan,
                probability: p,
                standard_error: (p * (1.0 - p) / n).sqrt(),
            }
        });
        Self {
            quantiles: sim.quantiles.clone(),
            rows,
            total: sim.total.year.clone(),
            prob_hit_plan,
            actual_periods: sim.actual_periods,
            draws: sim.draws,
            recent_actuals,
            total_histogram: Histogram::of(&sim.company_totals, 40),
        }
    }
}

/// Everything a command produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub meta: Meta,
    pub data: Option<DataSummary>,
    pub fit: Option<FitSection>,
    pub forecast: Option<ForecastSection>,
    pub quota: Option<QuotaPlan>,
    /// Territory rebalancing: before/after, moves with reasons, frontier.
    pub territories: Option<TerritoriesSection>,
    pub comp: Option<CompSection>,
    pub backtest: Option<BacktestResult>,
    /// Quotas set for the last full year from the years before, against what happened.
    pub quota_backtest: Option<crate::quota_backtest::QuotaBacktest>,
    /// How last year's quotas (the quotas table) worked out.
    pub scorecard: Option<crate::scorecard::Scorecard>,
    /// Hires needed to reach the plan (`[capacity]`).
    pub capacity: Option<crate::hiring::HiringPlan>,
    pub warnings: Vec<String>,
}

impl Report {
    /// A report of the data summary and load warnings only; commands that
    /// run a stage without the full pipeline fill in their section.
    pub fn of_data(meta: Meta, history: &SalesHistory) -> Self {
        Self {
            meta,
            data: Some(DataSummary::of(history)),
            fit: None,
            forecast: None,
            quota: None,
            territories: None,
            comp: None,
            backtest: None,
            quota_backtest: None,
            scorecard: None,
            capacity: None,
            warnings: history.report.warnings.clone(),
        }
    }
}
