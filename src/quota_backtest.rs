//! Quota backtest: set quotas for the last full year of the history using
//! only the years before it, then compare with what each territory really
//! sold. For each method it reports the share of territories that attained
//! against the share the simulation predicted (with its 90% band over
//! trials), and the spread of actual / quota. An honest method's realised
//! share falls inside its predicted band.
//!
//! The year's plan is the simulated company total's median (what a finance
//! team would plan from the same forecast) times `1 + over_assignment`
//! from the scenario; `max_change` applies as in `quota`. Pure computation.

use ndarray::Array2;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::fit::fit;
use crate::history::SalesHistory;
use crate::quota::{set_quotas, QuotaInputs};
use crate::scenario::{FitSpec, QuotaMethod, QuotaSpec};
use crate::sim::{simulate, SimResults, SimSpec};
use crate::stats::quantile::{quantiles, sorted_quantile};

/// One territory's quota and outcome under one method.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaOutcome {
    pub territory: String,
    pub quota: f64,
    pub actual: f64,
    pub attain_probability: f64,
}

/// One method's result.
#[derive(Debug, Clone, Serialize)]
pub struct MethodResult {
    pub method: QuotaMethod,
    pub plan: f64,
    pub predicted_share: f64,
    pub predicted_band: (f64, f64),
    pub realised_share: f64,
    pub inside_band: bool,
    /// P10, P50, P90 of actual / quota over territories with a positive quota.
    pub ratio: (f64, f64, f64),
    /// Spread of attainment probabilities across territories.
    pub probability_spread: f64,
    pub rows: Vec<QuotaOutcome>,
}

/// The quota backtest of one history.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaBacktest {
    /// Start of the year the quotas were set for.
    pub year_start: String,
    pub periods: usize,
    pub territories: usize,
    pub actual_total: f64,
    pub methods: Vec<MethodResult>,
}

/// The last full year of a history as the model fitted on the years
/// before it would have simulated it: what the quota backtest and the
/// scorecard judge last year's quotas by.
pub struct Hindsight {
    /// First period of the year (periods before it were fitted).
    pub cut: usize,
    pub per_year: usize,
    pub sim: SimResults,
}

impl Hindsight {
    /// Each territory's simulated year total in each trial.
    ///
    /// # Errors
    /// `Error::Internal` if the simulation did not keep them.
    pub fn totals(&self) -> Result<&Array2<f32>> {
        self.sim
            .territory_totals
            .as_ref()
            .ok_or_else(|| Error::Internal("territory totals were not kept".into()))
    }
}

/// Fit `history` without its last full year and simulate that year.
///
/// # Errors
/// `Error::Usage` naming `what` when the history has less than two full years.
pub fn hindsight(
    history: &SalesHistory,
    fit_spec: &FitSpec,
    trials: usize,
    seed: u64,
    what: &str,
) -> Result<Hindsight> {
    let per_year = history.calendar.kind.per_year();
    let n = history.n_periods();
    if n < 2 * per_year {
        return Err(Error::Usage(format!(
            "{what} needs two full years of history; found {n} {}s",
            history.calendar.kind.name()
        )));
    }
    let cut = n - per_year;
    let train = history.truncated(cut);
    let models = fit(&train, cut, per_year, fit_spec);
    let spec = SimSpec {
        keep_totals: true,
        ..SimSpec::from_origin(&models, per_year, seed, trials)
    };
    Ok(Hindsight {
        cut,
        per_year,
        sim: simulate(&models, &spec),
    })
}

/// Each territory's revenue over periods `from..to`.
pub fn year_sums(history: &SalesHistory, from: usize, to: usize) -> Vec<f64> {
    history
        .revenue
        .iter()
        .map(|r| r[from..to].iter().sum())
        .collect()
}

/// Run the quota backtest on `history`: quotas for its last full year from
/// the years before, with `quota` settings (its plan is replaced).
///
/// # Errors
/// `Error::Usage` when the history has less than two full years;
/// `Error::Infeasible` when `max_change` cannot reach the plan.
pub fn quota_backtest(
    history: &SalesHistory,
    fit_spec: &FitSpec,
    quota: &QuotaSpec,
    trials: usize,
    seed: u64,
) -> Result<QuotaBacktest> {
    let h = hindsight(history, fit_spec, trials, seed, "the quota backtest")?;
    let (cut, per_year, n) = (h.cut, h.per_year, history.n_periods());
    let sim = &h.sim;
    let totals = h.totals()?;
    let names: Vec<String> = history.territories.iter().map(|t| t.name.clone()).collect();
    let last_year = year_sums(history, cut - per_year, cut);
    let actual = year_sums(history, cut, n);
    let potential: Vec<f64> = sim.territories.iter().map(|t| t.year.mean).collect();
    let last_quota = vec![None; names.len()];
    let mut company = sim.company_totals.clone();
    company.sort_by(f64::total_cmp);
    let plan = sorted_quantile(&company, 0.5);
    let inputs = QuotaInputs {
        names: &names,
        totals,
        last_year: &last_year,
        last_quota: &last_quota,
        potential: &potential,
        limits: &[],
    };
    let methods = [QuotaMethod::EqualProbability, QuotaMethod::HistoricalShare]
        .into_iter()
        .map(|method| {
            let q = set_quotas(
                &inputs,
                &QuotaSpec {
                    plan,
                    method,
                    ..quota.clone()
                },
            )?;
            let rows: Vec<QuotaOutcome> = q
                .rows
                .iter()
                .zip(&actual)
                .map(|(r, &a)| QuotaOutcome {
                    territory: r.territory.clone(),
                    quota: r.quota,
                    actual: a,
                    attain_probability: r.attain_probability,
                })
                .collect();
            let realised =
                rows.iter().filter(|r| r.actual >= r.quota).count() as f64 / rows.len() as f64;
            let ratios: Vec<f64> = rows
                .iter()
                .filter(|r| r.quota > 0.0)
                .map(|r| r.actual / r.quota)
                .collect();
            let r = quantiles(&ratios, &[0.1, 0.5, 0.9]);
            let band = (q.share_attaining_p05, q.share_attaining_p95);
            Ok(MethodResult {
                method,
                plan: q.plan,
                predicted_share: q.expected_share_attaining,
                predicted_band: band,
                realised_share: realised,
                inside_band: realised >= band.0 - 1e-12 && realised <= band.1 + 1e-12,
                ratio: (r[0], r[1], r[2]),
                probability_spread: q.attain_probability_spread,
                rows,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(QuotaBacktest {
        year_start: history
            .calendar
            .start_of(history.first_period + cut as i64)
            .to_string(),
        periods: per_year,
        territories: names.len(),
        actual_total: actual.iter().sum(),
        methods,
    })
}
