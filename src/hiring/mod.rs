//! Capacity planning: how many reps to hire, where and when, so that
//! P(company revenue >= plan) reaches a target, read from the same
//! simulated paths as the forecast.
//!
//! **Response.** A region's simulated revenue in a period scales with its
//! capacity: ((C - L + H) / C)^elasticity, where C is the region's capacity
//! the forecast already carries (the reps table's FTE x ramp, the same rule
//! as the territory capacity multiplier), L the capacity attrition takes
//! away in that trial and H the hires' capacity. Elasticity 1 is revenue in
//! proportion to capacity; below 1, diminishing returns. A region without
//! reps counts its capacity as its expected revenue over the productivity
//! of one FTE-month. With no hire and no attrition every factor is exactly
//! 1, so P(plan) is the forecast's `prob_hit_plan` on the same trials.
//!
//! **Attrition.** Each rep, and each hire once started, leaves at most once
//! in a trial, with the monthly hazard of the annual rate, at a period
//! drawn from its own random stream; the seat is empty for
//! `backfill_months` and then the backfill ramps up like a new hire.
//!
//! **Placement (nested).** Hire k + 1 is hire k's plan plus one: it goes
//! to the region with the most demand per FTE (demand: the accounts'
//! potential, else the forecast mean; FTE: the region's average plan-year
//! capacity plus the hires placed so far), starting at the earliest
//! candidate date with room (`hires_per_date` each). Every count is
//! evaluated on the same trials and the same attrition draws (common random
//! numbers), so adding a hire never lowers a trial's revenue and the curve
//! is monotone.

pub mod setup;
pub mod spec;

use chrono::NaiveDate;
use rand::RngExt;
use serde::Serialize;

use crate::rng::{stream_id, stream_rng};
use crate::stats::quantile::sorted_quantile;
pub use spec::{HiringSpec, Ramp};

/// Average days per month.
const DAYS_PER_MONTH: f64 = 30.4375;

/// How a seat ramps after its start: linearly over months, or a curve of
/// shares for its first months.
#[derive(Debug, Clone, PartialEq)]
pub enum RampRule {
    Linear(f64),
    Curve(Vec<f64>),
}

impl RampRule {
    /// Productivity share `months` after the start (0 before it).
    pub fn share(&self, months: f64) -> f64 {
        if months < 0.0 {
            return 0.0;
        }
        match self {
            RampRule::Linear(m) if *m <= 0.0 => 1.0,
            RampRule::Linear(m) => (months / m).min(1.0),
            RampRule::Curve(c) => c.get(months.floor() as usize).copied().unwrap_or(1.0),
        }
    }

    /// How the rule reads in a sentence.
    pub fn describe(&self) -> String {
        match self {
            RampRule::Linear(m) => format!("linear over {m} months"),
            RampRule::Curve(c) => format!(
                "by month: {}",
                c.iter()
                    .map(|s| format!("{:.0}%", 100.0 * s))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// One rep of the current sales force in the plan year.
#[derive(Debug, Clone)]
pub struct Seat {
    pub id: String,
    pub region: usize,
    pub fte: f64,
    /// FTE x productivity in each reported period (the forecast's rule).
    pub capacity: Vec<f64>,
    /// How its backfill ramps.
    pub ramp: RampRule,
}

/// What the search reads.
#[derive(Debug, Clone)]
pub struct HiringInputs<'a> {
    pub spec: &'a HiringSpec,
    pub seed: u64,
    pub regions: &'a [String],
    /// Each region's simulated revenue: [region][trial * periods + p].
    pub region_paths: &'a [Vec<f64>],
    /// The company's simulated total per trial (the forecast's).
    pub company_totals: &'a [f64],
    pub trials: usize,
    /// Start and middle day of each reported period, and the horizon's end.
    pub starts: &'a [NaiveDate],
    pub mids: &'a [NaiveDate],
    pub end: NaiveDate,
    /// Reported periods before this one are actuals (no hire or loss).
    pub first_open: usize,
    pub seats: &'a [Seat],
    /// Demand per region (potential, else forecast mean).
    pub demand: &'a [f64],
    /// Revenue per ramped FTE-month, per region, and months per period.
    pub productivity: &'a [f64],
    pub months_per_period: f64,
    pub hire_ramp: RampRule,
    /// Annual attrition rate.
    pub attrition: f64,
}

/// One row of `capacity.csv`: the plan with `hires` hires.
#[derive(Debug, Clone, Serialize)]
pub struct HireRow {
    pub hires: usize,
    /// Start date and region of the hire this row adds (none for 0).
    pub start: Option<String>,
    pub region: Option<String>,
    pub prob_plan: f64,
    pub prob_plan_se: f64,
    pub mean: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    /// Cost of all hires in the plan year (with `cost_per_hire`).
    pub cost: Option<f64>,
    /// Expected revenue the added hire brings, and its cost.
    pub marginal_revenue: Option<f64>,
    pub marginal_cost: Option<f64>,
}

/// The search's result.
#[derive(Debug, Clone, Serialize)]
pub struct HiringPlan {
    pub plan: f64,
    pub target_probability: f64,
    /// The fewest hires reaching the target (`None`: not within the search).
    pub hires_needed: Option<usize>,
    /// The most hires searched (`max_hires`, or fewer when the candidate
    /// dates have no more room), and how many each date could take.
    pub searched: usize,
    pub hires_per_date: usize,
    pub rows: Vec<HireRow>,
    pub attrition: f64,
    pub attrition_source: String,
    pub productivity: Vec<(String, f64)>,
    pub productivity_source: String,
    pub ramp: String,
    pub backfill_months: f64,
    pub elasticity: f64,
    pub cost_per_hire: Option<f64>,
}

fn months_between(from: NaiveDate, to: NaiveDate) -> f64 {
    (to - from).num_days() as f64 / DAYS_PER_MONTH
}

/// The period (from `first_open`) a seat present from `first` leaves in,
/// in each trial, from its own stream (`None`: it stays).
fn leave_periods(inputs: &HiringInputs, id: &str, first: usize) -> Vec<Option<usize>> {
    let periods = inputs.mids.len();
    let hazard = 1.0 - (1.0 - inputs.attrition).powf(inputs.months_per_period / 12.0);
    let mut rng = stream_rng(inputs.seed, stream_id(&format!("capacity:leave:{id}")), 0);
    (0..inputs.trials)
        .map(|_| {
            if hazard <= 0.0 {
                return None;
            }
            (first..periods).find(|_| rng.random::<f64>() < hazard)
        })
        .collect()
}

/// A seat's capacity in each period of one trial after leaving at
/// `leave`: nothing for `backfill_months`, then its backfill ramping.
fn after_leaving(
    inputs: &HiringInputs,
    base: &[f64],
    fte: f64,
    ramp: &RampRule,
    leave: Option<usize>,
    out: &mut [f64],
) {
    out.copy_from_slice(base);
    let Some(l) = leave else { return };
    let back = inputs.starts[l]
        + chrono::Duration::days((inputs.spec.backfill_months * DAYS_PER_MONTH).round() as i64);
    for p in l..out.len() {
        let backfill = fte * ramp.share(months_between(back, inputs.mids[p]));
        out[p] = backfill.min(base[p]);
    }
}

/// Search the hire counts 0..=max for `inputs`.
pub fn plan_hires(
    inputs: &HiringInputs,
    attrition_source: String,
    productivity_source: String,
) -> HiringPlan {
    let spec = inputs.spec;
    let (n_regions, periods, trials) = (inputs.regions.len(), inputs.mids.len(), inputs.trials);
    let cell = |r: usize, i: usize, p: usize| r * trials * periods + i * periods + p;
    // The capacity the forecast carries, per region and period, in FTE:
    // the reps' (so a hire adds what the region's reps sell per FTE), or,
    // with `capacity.productivity` set and in regions without reps, the
    // expected revenue over one FTE's (so a hire adds that productivity).
    let mut base = vec![0.0; n_regions * periods];
    for s in inputs.seats {
        for p in 0..periods {
            base[s.region * periods + p] += s.capacity[p];
        }
    }
    for r in 0..n_regions {
        for p in 0..periods {
            if spec.productivity.is_some() || base[r * periods + p] <= 1e-9 {
                let mean = (0..trials)
                    .map(|i| inputs.region_paths[r][i * periods + p])
                    .sum::<f64>()
                    / trials.max(1) as f64;
                let per_period = inputs.productivity[r] * inputs.months_per_period;
                base[r * periods + p] = (mean / per_period).max(1e-9);
            }
        }
    }
    // Capacity present per region, period and trial: the forecast's, less
    // what attrition takes (a seat's capacity after leaving, less its
    // capacity), then each hire added in turn.
    let mut present = vec![0.0; n_regions * trials * periods];
    for r in 0..n_regions {
        for i in 0..trials {
            present[cell(r, i, 0)..cell(r, i, 0) + periods]
                .copy_from_slice(&base[r * periods..(r + 1) * periods]);
        }
    }
    let mut scratch = vec![0.0; periods];
    for s in inputs.seats {
        let leaves = leave_periods(inputs, &s.id, inputs.first_open);
        for (i, leave) in leaves.iter().enumerate() {
            if leave.is_none() {
                continue;
            }
            after_leaving(inputs, &s.capacity, s.fte, &s.ramp, *leave, &mut scratch);
            for p in 0..periods {
                present[cell(s.region, i, p)] += scratch[p] - s.capacity[p];
            }
        }
    }
    // Candidate dates: the scenario's, else each quarter's first period.
    let dates: Vec<NaiveDate> = match &spec.hire_dates {
        Some(d) => d.clone(),
        None => {
            // Periods per quarter (3 months, 13 weeks, 1 quarter), counted
            // from the horizon's first period (a fiscal year's start).
            let step = ((3.0 / inputs.months_per_period).round() as usize).max(1);
            (inputs.first_open..periods)
                .filter(|p| p % step == 0)
                .map(|p| inputs.starts[p])
                .collect()
        }
    };
    let mut fte: Vec<f64> = (0..n_regions)
        .map(|r| (0..periods).map(|p| base[r * periods + p]).sum::<f64>() / periods.max(1) as f64)
        .collect();
    let max_hires = spec.max_hires.unwrap_or_else(|| {
        spec::DEFAULT_MAX_HIRES.max((0.25 * fte.iter().sum::<f64>()).ceil() as usize)
    });
    let per_date = spec
        .hires_per_date
        .unwrap_or_else(|| max_hires.div_ceil(dates.len().max(1)).max(1));
    let searched = max_hires.min(dates.len() * per_date);
    let mut rows = Vec::with_capacity(searched + 1);
    let mut previous_mean = None;
    let mut cost = spec.cost_per_hire.map(|_| 0.0);
    for k in 0..=searched {
        let mut added = None;
        if k > 0 {
            let region = (0..n_regions)
                .max_by(|&a, &b| {
                    (inputs.demand[a] / fte[a].max(1e-9))
                        .total_cmp(&(inputs.demand[b] / fte[b].max(1e-9)))
                })
                .unwrap_or(0);
            let start = dates[(k - 1) / per_date];
            let capacity: Vec<f64> = inputs
                .mids
                .iter()
                .enumerate()
                .map(|(p, &m)| {
                    if p < inputs.first_open {
                        0.0
                    } else {
                        inputs.hire_ramp.share(months_between(start, m))
                    }
                })
                .collect();
            let first = capacity.iter().position(|&c| c > 0.0).unwrap_or(periods);
            let leaves = leave_periods(inputs, &format!("hire {k}"), first);
            for (i, leave) in leaves.iter().enumerate() {
                after_leaving(
                    inputs,
                    &capacity,
                    1.0,
                    &inputs.hire_ramp,
                    *leave,
                    &mut scratch,
                );
                for p in 0..periods {
                    present[cell(region, i, p)] += scratch[p];
                }
            }
            fte[region] += capacity.iter().sum::<f64>() / periods.max(1) as f64;
            // The part of the horizon employed, times the horizon in years.
            let span = (inputs.end - inputs.starts[0]).num_days().max(1) as f64;
            let employed = ((inputs.end - start).num_days() as f64 / span).clamp(0.0, 1.0);
            let years = periods as f64 * inputs.months_per_period / 12.0;
            let hire_cost = spec.cost_per_hire.map(|c| c * employed * years);
            if let (Some(total), Some(c)) = (cost.as_mut(), hire_cost) {
                *total += c;
            }
            added = Some((start, region, hire_cost));
        }
        // Each trial's company revenue with k hires.
        let mut revenue: Vec<f64> = (0..trials)
            .map(|i| {
                let mut change = 0.0;
                for r in 0..n_regions {
                    for p in inputs.first_open..periods {
                        let c = base[r * periods + p];
                        let factor = (present[cell(r, i, p)] / c).max(0.0).powf(spec.elasticity);
                        change += inputs.region_paths[r][i * periods + p] * (factor - 1.0);
                    }
                }
                inputs.company_totals[i] + change
            })
            .collect();
        let n = trials.max(1) as f64;
        let prob = revenue.iter().filter(|&&v| v >= spec.plan).count() as f64 / n;
        let mean = revenue.iter().sum::<f64>() / n;
        revenue.sort_by(f64::total_cmp);
        rows.push(HireRow {
            hires: k,
            start: added.map(|a| a.0.to_string()),
            region: added.map(|a| inputs.regions[a.1].clone()),
            prob_plan: prob,
            prob_plan_se: (prob * (1.0 - prob) / n).sqrt(),
            mean,
            p10: sorted_quantile(&revenue, 0.1),
            p50: sorted_quantile(&revenue, 0.5),
            p90: sorted_quantile(&revenue, 0.9),
            cost,
            marginal_revenue: previous_mean.map(|m| mean - m),
            marginal_cost: added.and_then(|a| a.2),
        });
        previous_mean = Some(mean);
    }
    let hires_needed = rows
        .iter()
        .find(|r| r.prob_plan >= spec.target_probability)
        .map(|r| r.hires);
    HiringPlan {
        plan: spec.plan,
        target_probability: spec.target_probability,
        hires_needed,
        searched,
        hires_per_date: per_date,
        rows,
        attrition: inputs.attrition,
        attrition_source,
        productivity: inputs
            .regions
            .iter()
            .cloned()
            .zip(inputs.productivity.iter().copied())
            .collect(),
        productivity_source,
        ramp: inputs.hire_ramp.describe(),
        backfill_months: spec.backfill_months,
        elasticity: spec.elasticity,
        cost_per_hire: spec.cost_per_hire,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(elasticity: f64, max_hires: usize) -> HiringSpec {
        HiringSpec {
            plan: 2500.0,
            target_probability: 0.5,
            hire_dates: Some(vec![NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()]),
            hires_per_date: Some(5),
            max_hires: Some(max_hires),
            ramp: Ramp::Months(Some(0.0)),
            productivity: None,
            attrition: Some(0.0),
            backfill_months: 3.0,
            elasticity,
            cost_per_hire: Some(120.0),
        }
    }

    /// One region, one full-time rep, 12 months of 100 in each of 3 trials.
    fn plan(spec: &HiringSpec) -> HiringPlan {
        let starts: Vec<NaiveDate> = (1..=12)
            .map(|m| NaiveDate::from_ymd_opt(2027, m, 1).unwrap())
            .collect();
        let mids: Vec<NaiveDate> = starts
            .iter()
            .map(|d| *d + chrono::Duration::days(14))
            .collect();
        let seats = vec![Seat {
            id: "R".into(),
            region: 0,
            fte: 1.0,
            capacity: vec![1.0; 12],
            ramp: RampRule::Linear(0.0),
        }];
        plan_hires(
            &HiringInputs {
                spec,
                seed: 1,
                regions: &["North".to_string()],
                region_paths: &[vec![100.0; 36]],
                company_totals: &[1200.0; 3],
                trials: 3,
                starts: &starts,
                mids: &mids,
                end: NaiveDate::from_ymd_opt(2028, 1, 1).unwrap(),
                first_open: 0,
                seats: &seats,
                demand: &[1.0],
                productivity: &[100.0],
                months_per_period: 1.0,
                hire_ramp: RampRule::Linear(0.0),
                attrition: 0.0,
            },
            String::new(),
            String::new(),
        )
    }

    #[test]
    fn a_hire_doubles_a_one_rep_region_in_proportion_and_less_with_diminishing_returns() {
        let p = plan(&spec(1.0, 2));
        let means: Vec<f64> = p.rows.iter().map(|r| r.mean).collect();
        assert_eq!(means, [1200.0, 2400.0, 3600.0]);
        assert_eq!(p.hires_needed, Some(2));
        assert_eq!(p.rows[1].marginal_revenue, Some(1200.0));
        assert_eq!(p.rows[2].cost, Some(240.0));
        let p = plan(&spec(0.5, 1));
        assert!((p.rows[1].mean - 1200.0 * 2f64.sqrt()).abs() < 1e-9);
        assert_eq!(p.hires_needed, None);
    }

    #[test]
    fn ramps_share_by_months() {
        assert_eq!(RampRule::Linear(4.0).share(2.0), 0.5);
        assert_eq!(RampRule::Linear(4.0).share(-1.0), 0.0);
        assert_eq!(RampRule::Linear(4.0).share(9.0), 1.0);
        let c = RampRule::Curve(vec![0.2, 0.6]);
        assert_eq!((c.share(0.5), c.share(1.5), c.share(2.5)), (0.2, 0.6, 1.0));
    }
}
