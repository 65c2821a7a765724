//! What the hiring search reads, from the history, the horizon and the
//! simulation: the current sales force as seats, each region's demand and
//! productivity, the attrition rate and the new hires' ramp, with where
//! each estimate came from.

use std::path::Path;

use chrono::NaiveDate;

use super::{plan_hires, HiringInputs, HiringPlan, HiringSpec, Ramp, RampRule, Seat};
use crate::capacity::{midpoint, productivity};
use crate::error::{Error, Result};
use crate::history::SalesHistory;
use crate::horizon::Horizon;
use crate::sim::SimResults;

/// Default annual attrition, and the rep-years it counts as beside the
/// reps table's own evidence.
pub const DEFAULT_ATTRITION: f64 = 0.2;
pub const PRIOR_REP_YEARS: f64 = 5.0;

/// Default ramp of a new hire without a reps table.
const DEFAULT_RAMP_MONTHS: f64 = 3.0;

/// Annual attrition: leavers (end dates inside the history) over the
/// rep-years present in it, shrunk toward [`DEFAULT_ATTRITION`] with the
/// weight of [`PRIOR_REP_YEARS`]; and the sentence saying so.
pub fn attrition_estimate(history: &SalesHistory) -> (f64, String) {
    let (Some(first), n) = (
        history.period_starts().first().copied(),
        history.n_periods(),
    ) else {
        return (DEFAULT_ATTRITION, "default (no history)".into());
    };
    let end = history.calendar.start_of(history.first_period + n as i64);
    if history.reps.is_empty() {
        return (
            DEFAULT_ATTRITION,
            format!(
                "default {:.0}% a year (no reps table)",
                100.0 * DEFAULT_ATTRITION
            ),
        );
    }
    let mut leavers = 0usize;
    let mut years = 0.0;
    for r in &history.reps {
        let from = r.start_date.map_or(first, |s| s.max(first));
        let to = r.end_date.map_or(end, |e| e.min(end));
        if to > from {
            years += (to - from).num_days() as f64 / 365.25;
        }
        if r.end_date.is_some_and(|e| e >= first && e < end) {
            leavers += 1;
        }
    }
    let rate = (leavers as f64 + PRIOR_REP_YEARS * DEFAULT_ATTRITION) / (years + PRIOR_REP_YEARS);
    (
        rate,
        format!(
            "estimated from the reps table: {leavers} leavers in {years:.1} rep-years of history, \
             shrunk toward {:.0}% a year with the weight of {PRIOR_REP_YEARS} rep-years",
            100.0 * DEFAULT_ATTRITION
        ),
    )
}

/// The hiring plan of `spec` (from the file `scenario`) on the simulation
/// `sim` of `history` over `horizon`, with the scenario's `seed` for the
/// attrition draws.
///
/// # Errors
/// `Error::Scenario` when a hire date lies outside the horizon's open
/// periods, or productivity cannot be estimated (no reps table) and
/// `capacity.productivity` is not set.
pub fn plan_for(
    scenario: &Path,
    spec: &HiringSpec,
    seed: u64,
    history: &SalesHistory,
    horizon: &Horizon,
    sim: &SimResults,
) -> Result<HiringPlan> {
    let calendar = &history.calendar;
    let periods = sim.period_starts.len();
    let open_from = sim.period_starts.get(sim.actual_periods).copied();
    let horizon_end = calendar.start_of(horizon.start + periods as i64);
    if let (Some(dates), Some(from)) = (&spec.hire_dates, open_from) {
        if let Some(d) = dates.iter().find(|d| **d < from || **d >= horizon_end) {
            return Err(Error::scenario(
                scenario,
                "capacity.hire_dates",
                format!("found {d}, expected dates from {from} to before {horizon_end} (the plan horizon's periods still to come)"),
            ));
        }
    }
    let months_per_period = 12.0 / calendar.kind.per_year() as f64;
    let mids: Vec<NaiveDate> = (0..periods)
        .map(|p| midpoint(calendar, horizon.start + p as i64))
        .collect();
    let regions: Vec<String> = sim.regions.iter().map(|r| r.name.clone()).collect();
    let territory_region: Vec<usize> = history
        .territories
        .iter()
        .map(|t| regions.iter().position(|r| *r == t.region).unwrap_or(0))
        .collect();
    let region_of = |t: usize| territory_region[t];
    let seats: Vec<Seat> = history
        .reps
        .iter()
        .map(|r| Seat {
            id: r.id.clone(),
            region: region_of(r.territory),
            fte: r.fte,
            capacity: mids.iter().map(|&m| r.fte * productivity(r, m)).collect(),
            ramp: RampRule::Linear(r.ramp_months),
        })
        .collect();
    // Demand: the accounts' potential per region, else the forecast mean.
    let mut demand = vec![0.0; regions.len()];
    for a in &history.accounts {
        demand[region_of(a.territory)] += a.potential.unwrap_or(0.0);
    }
    if demand.iter().all(|&d| d <= 0.0) {
        demand = sim.regions.iter().map(|r| r.year.mean).collect();
    }
    // Productivity per ramped FTE-month over the history's last year.
    let n = history.n_periods();
    let last = n.saturating_sub(calendar.kind.per_year())..n;
    let mut revenue = vec![0.0; regions.len()];
    let mut fte_months = vec![0.0; regions.len()];
    for p in last {
        let mid = midpoint(calendar, history.first_period + p as i64);
        for (t, series) in history.revenue.iter().enumerate() {
            revenue[region_of(t)] += series[p];
        }
        for r in &history.reps {
            fte_months[region_of(r.territory)] += r.fte * productivity(r, mid) * months_per_period;
        }
    }
    let company = revenue.iter().sum::<f64>() / fte_months.iter().sum::<f64>();
    let (per_month, productivity_source): (Vec<f64>, String) = match spec.productivity {
        Some(x) => (vec![x; regions.len()], "capacity.productivity".into()),
        None if company.is_finite() && company > 0.0 => (
            revenue
                .iter()
                .zip(&fte_months)
                .map(|(r, f)| if *f > 0.0 && *r > 0.0 { r / f } else { company })
                .collect(),
            "estimated: the last year's revenue per ramped FTE-month of the reps table, by region"
                .into(),
        ),
        None => {
            // Where the reps table exists, its reps' dates or fte are what
            // left no FTE-month (every rep starting after the history
            // had been told there was no reps table: a helper's probe).
            let why = if history.reps.is_empty() {
                "found none, and it cannot be estimated without a reps table whose reps sold in the last year"
            } else {
                "found none, and it cannot be estimated: no rep of the reps table was employed at an fte above 0 in the history's last year (check their start dates and fte)"
            };
            return Err(Error::scenario(
                scenario,
                "capacity.productivity",
                format!("{why}: set the revenue of one ramped FTE-month"),
            ));
        }
    };
    let (attrition, attrition_source) = match spec.attrition {
        Some(a) => (a, "capacity.attrition".to_string()),
        None => attrition_estimate(history),
    };
    let hire_ramp = match &spec.ramp {
        Ramp::Curve(c) => RampRule::Curve(c.clone()),
        Ramp::Months(Some(m)) => RampRule::Linear(*m),
        Ramp::Months(None) => {
            let mut months: Vec<f64> = history.reps.iter().map(|r| r.ramp_months).collect();
            months.sort_by(f64::total_cmp);
            RampRule::Linear(
                months
                    .get(months.len() / 2)
                    .copied()
                    .unwrap_or(DEFAULT_RAMP_MONTHS),
            )
        }
    };
    Ok(plan_hires(
        &HiringInputs {
            spec,
            seed,
            regions: &regions,
            region_paths: &sim.region_paths,
            company_totals: &sim.company_totals,
            trials: sim.trials,
            starts: &sim.period_starts,
            mids: &mids,
            end: horizon_end,
            first_open: sim.actual_periods,
            seats: &seats,
            demand: &demand,
            productivity: &per_month,
            months_per_period,
            hire_ramp,
            attrition,
        },
        attrition_source,
        productivity_source,
    ))
}
