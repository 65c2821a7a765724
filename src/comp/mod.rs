//! Commission cost: the scenario's comp plans evaluated on every simulated
//! trial (the same trials as the forecast and the quotas), giving the
//! distribution of each rep's payout and of the company's commission cost.
//!
//! Takes the roster ([`roster`]: who is paid, their quotas and credit),
//! the simulated territory quarter totals and the checked `[comp]` plans,
//! and returns a [`CompSection`] holding every figure the report, exporters
//! and plots show, so they never recompute one. Pure computation, no I/O.
//!
//! A rep (roster member) takes the first plan whose `reps`, `territories`
//! and `regions` patterns all match it (an empty list matches all); a plan
//! thus works as a role. Members no plan matches are listed and unpaid.

pub mod curve;
pub mod eval;
pub mod roster;

use ndarray::Array3;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::scenario::{CompPeriod, CompPlan, Gate, QuotaSource, Tier};
use crate::sim::{matches_pattern, QUARTERS};
use crate::stats::histogram::Histogram;
use crate::stats::quantile::quantiles;

use curve::{blended_multiple, payout_curve, payout_multiple};
use eval::{member_trials, region_totals, MemberTrials, Trials};
use roster::{Member, Roster};

/// Members evaluated together before their trials are added up.
const CHUNK: usize = 64;

/// What the comp stage needs.
#[derive(Debug, Clone)]
pub struct CompInputs<'a> {
    pub plans: &'a [CompPlan],
    pub quota_source: QuotaSource,
    pub roster: &'a Roster,
    pub territory_names: &'a [String],
    pub region_names: &'a [String],
    /// Region of each territory (index into `region_names`).
    pub region_of: &'a [usize],
    /// Annual quota of each territory.
    pub territory_quotas: &'a [f64],
    /// Seasonal shares of each territory ([`roster::seasonal_shares`]).
    pub seasons: &'a [[f64; QUARTERS]],
    /// Simulated territory revenue: [territory, quarter, trial].
    pub quarter_totals: &'a Array3<f32>,
    /// Simulated company revenue per trial (for cost of sales).
    pub company_revenue: &'a [f64],
    /// Label of each quarter (its first period's start date).
    pub quarter_starts: &'a [String],
}

/// Mean and P10/P50/P90 of a quantity over the trials.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    pub mean: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

impl Band {
    /// Mean and quantiles of `values` (NaN where there are none).
    pub fn of(values: &[f64]) -> Self {
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        let q = quantiles(values, &[0.1, 0.5, 0.9]);
        Self {
            mean: if values.is_empty() { f64::NAN } else { mean },
            p10: q[0],
            p50: q[1],
            p90: q[2],
        }
    }
}

/// The probability of reaching an attainment (a tier start, gate or cap).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reach {
    pub attainment: f64,
    pub probability: f64,
}

/// One rep's row of `comp.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct RepRow {
    pub rep: String,
    pub territory: String,
    pub region: String,
    pub plan: String,
    /// A stand-in for a territory without reps.
    pub stand_in: bool,
    pub fte: f64,
    /// Target incentive for the year, prorated by fte and employment.
    pub target_incentive: f64,
    pub quota: f64,
    pub payout: Band,
    pub attainment: Band,
    /// Probability of reaching 100% of the annual quota.
    pub prob_attain_100: f64,
    /// Probability of reaching each tier of the plan.
    pub tiers: Vec<Reach>,
    /// Probability of reaching each gate of the plan.
    pub gates: Vec<Reach>,
    /// Probability of reaching the cap, for a capped plan.
    pub cap: Option<Reach>,
    /// Payout if the rep and the team both attain exactly 100%.
    pub payout_at_plan: f64,
}

/// A point of a payout curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    pub attainment: f64,
    /// target_incentive x f(attainment), in currency.
    pub payout: f64,
}

/// One plan's design and what it costs.
#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    pub name: String,
    pub period: CompPeriod,
    pub catch_up: bool,
    pub target_incentive: f64,
    pub individual_weight: f64,
    pub tiers: Vec<Tier>,
    pub cap: Option<f64>,
    pub gates: Vec<Gate>,
    pub reps: usize,
    /// Sum of the reps' prorated target incentives.
    pub target_incentive_total: f64,
    /// Expected cost: the sum of its reps' mean payouts.
    pub cost_mean: f64,
    /// Cost if every rep and team attains exactly 100%.
    pub cost_at_plan: f64,
    /// A full-time rep's payout at the cap (None without a cap).
    pub payout_at_cap: Option<f64>,
    /// Payout at attainment 0 to 2.5 in steps of 0.05 (individual measure).
    pub curve: Vec<CurvePoint>,
}

/// Commission accrued in one quarter of the plan year.
#[derive(Debug, Clone, Serialize)]
pub struct AccrualRow {
    pub quarter: String,
    pub start: String,
    pub accrual: Band,
}

/// One point of the fine quantile grid of company cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GridPoint {
    pub quantile: f64,
    pub cost: f64,
}

/// The comp stage's part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct CompSection {
    pub quota_source: QuotaSource,
    pub trials: usize,
    pub plans: Vec<PlanSummary>,
    pub reps: Vec<RepRow>,
    /// Company commission cost for the year.
    pub cost: Band,
    /// Company cost at quantiles 0.01, 0.02, ..., 0.99 (for histograms).
    pub cost_grid: Vec<GridPoint>,
    pub cost_min: f64,
    pub cost_max: f64,
    /// Distribution of company cost over the trials (for the cost plot).
    pub cost_histogram: Histogram,
    /// Commission / revenue over trials with positive revenue.
    pub cost_of_sales: Band,
    /// Cost if every rep and team attains exactly 100%.
    pub expected_cost_at_plan: f64,
    /// Sum of every paid rep's prorated target incentive.
    pub target_incentive_total: f64,
    /// Share of paid reps at or above 100% of quota: mean over trials.
    pub share_reps_above_100: f64,
    /// Its 90% band over trials.
    pub share_reps_above_100_p05: f64,
    pub share_reps_above_100_p95: f64,
    pub accrual: Vec<AccrualRow>,
    /// Roster members no plan matches (not paid).
    pub unassigned: Vec<String>,
    /// Whether `payout_curve.csv` was asked for (`comp --payout-curve`).
    pub write_payout_curve: bool,
    pub warnings: Vec<String>,
    /// Company cost per trial (for `compare`, trial by trial; not exported).
    #[serde(skip)]
    pub cost_trials: Vec<f64>,
}

/// The index of the first plan matching `member`, if any.
pub fn plan_for(
    plans: &[CompPlan],
    member: &Member,
    territory: &str,
    region: &str,
) -> Option<usize> {
    let any = |patterns: &[String], name: &str| {
        patterns.is_empty() || patterns.iter().any(|p| matches_pattern(p, name))
    };
    plans.iter().position(|p| {
        any(&p.reps, &member.rep) && any(&p.territories, territory) && any(&p.regions, region)
    })
}

fn share_at_least(values: &[f64], x: f64) -> f64 {
    values.iter().filter(|&&v| v >= x - 1e-12).count() as f64 / values.len().max(1) as f64
}

fn rep_row(inp: &CompInputs, plan: &CompPlan, m: &Member, t: &MemberTrials) -> RepRow {
    let territory = inp
        .territory_names
        .get(m.territory)
        .cloned()
        .unwrap_or_default();
    let region = inp
        .region_of
        .get(m.territory)
        .and_then(|&r| inp.region_names.get(r))
        .cloned()
        .unwrap_or_default();
    let ti = plan.target_incentive * m.incentive_share();
    RepRow {
        rep: m.id.clone(),
        territory,
        region,
        plan: plan.name.clone(),
        stand_in: m.stand_in,
        fte: m.fte,
        target_incentive: ti,
        quota: m.quota(),
        payout: Band::of(&t.payout),
        attainment: Band::of(&t.attainment),
        prob_attain_100: share_at_least(&t.attainment, 1.0),
        tiers: plan
            .tiers
            .iter()
            .map(|tier| Reach {
                attainment: tier.from,
                probability: share_at_least(&t.attainment, tier.from),
            })
            .collect(),
        gates: plan
            .gates
            .iter()
            .map(|g| Reach {
                attainment: g.at,
                probability: share_at_least(&t.attainment, g.at),
            })
            .collect(),
        cap: plan.cap.map(|c| Reach {
            attainment: c,
            probability: share_at_least(&t.attainment, c),
        }),
        payout_at_plan: ti * blended_multiple(plan, 1.0, 1.0),
    }
}

/// The team measure: region revenue per quarter per trial and region
/// quota per quarter (the sum of its territories' seasonal quotas), both
/// over the territories with a positive quota: a territory the quotas
/// table leaves out adds no quota, so its revenue does not count either
/// (a helper's probe, session 30: with two of a region's four
/// territories listed, the team attained about 200% in every trial).
fn team(inp: &CompInputs) -> (Vec<Vec<Vec<f64>>>, Vec<[f64; QUARTERS]>) {
    let mut quotas = vec![[0.0; QUARTERS]; inp.region_names.len()];
    for (t, &r) in inp.region_of.iter().enumerate() {
        let quota = inp.territory_quotas.get(t).copied().unwrap_or(0.0);
        for (q, v) in quotas[r].iter_mut().enumerate() {
            *v += quota * inp.seasons.get(t).map_or(0.25, |s| s[q]);
        }
    }
    let revenue = region_totals(
        inp.quarter_totals,
        inp.region_of,
        inp.region_names.len(),
        |t| inp.territory_quotas.get(t).copied().unwrap_or(0.0) > 0.0,
    );
    (revenue, quotas)
}

/// Every assigned member's rows and the company's totals on every trial.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// (roster member, plan) of each row, in roster order.
    pub assigned: Vec<(usize, usize)>,
    pub rows: Vec<RepRow>,
    /// Company cost per trial: the members' payouts added in member order.
    pub cost: Vec<f64>,
    /// Company accrual per quarter per trial.
    pub accrual: Vec<Vec<f64>>,
    /// Members with a quota at or above 100% per trial, of `counted`.
    pub above: Vec<usize>,
    pub counted: usize,
    pub unassigned: Vec<String>,
    pub warnings: Vec<String>,
}

/// Evaluate every member's plan on every trial and add up the company's
/// cost serially in member order.
///
/// # Errors
/// `Error::Internal` if the simulated totals do not match the territories
/// or the company totals.
pub fn evaluate_trials(inp: &CompInputs) -> Result<Evaluated> {
    let shape = inp.quarter_totals.shape();
    let n = shape[2];
    if shape[0] != inp.territory_names.len()
        || shape[1] != QUARTERS
        || inp.company_revenue.len() != n
        || inp.region_of.len() != shape[0]
        || inp.region_of.iter().any(|&r| r >= inp.region_names.len())
        || inp.roster.members.iter().any(|m| m.territory >= shape[0])
    {
        return Err(Error::Internal(format!(
            "comp: simulated totals of shape {shape:?} do not match {} territories and {} trials",
            inp.territory_names.len(),
            inp.company_revenue.len()
        )));
    }
    let mut warnings = inp.roster.warnings.clone();
    for (t, name) in inp.territory_names.iter().enumerate() {
        if inp.territory_quotas.get(t).copied().unwrap_or(0.0) <= 0.0 {
            warnings.push(format!(
                "territory {name}: no positive quota, so its reps' attainment counts as 0 and its revenue is not in its region's team attainment"
            ));
        }
    }
    let (region_revenue, region_quotas) = team(inp);
    let trials = Trials {
        quarter_totals: inp.quarter_totals,
        region_of: inp.region_of,
        region_totals: &region_revenue,
        region_quotas: &region_quotas,
    };

    let mut assigned: Vec<(usize, usize)> = Vec::new();
    let mut unassigned = Vec::new();
    for (i, m) in inp.roster.members.iter().enumerate() {
        let territory = &inp.territory_names[m.territory];
        let region = &inp.region_names[inp.region_of[m.territory]];
        match plan_for(inp.plans, m, territory, region) {
            Some(p) => assigned.push((i, p)),
            None => unassigned.push(m.id.clone()),
        }
    }
    if !unassigned.is_empty() {
        warnings.push(format!(
            "comp: no plan matches {} rep(s), who are not paid: {}",
            unassigned.len(),
            unassigned.join(", ")
        ));
    }

    let mut cost = vec![0.0f64; n];
    let mut accrual = vec![vec![0.0f64; n]; QUARTERS];
    let mut above = vec![0usize; n];
    let mut counted = 0usize;
    let mut rows = Vec::with_capacity(assigned.len());
    for chunk in assigned.chunks(CHUNK) {
        let results: Vec<(RepRow, MemberTrials)> = chunk
            .par_iter()
            .map(|&(i, p)| {
                let m = &inp.roster.members[i];
                let t = member_trials(&inp.plans[p], m, &trials);
                (rep_row(inp, &inp.plans[p], m, &t), t)
            })
            .collect();
        // Serial, in member order: deterministic sums.
        for (row, t) in results {
            for (c, v) in cost.iter_mut().zip(&t.payout) {
                *c += v;
            }
            for (acc, q) in accrual.iter_mut().zip(&t.accrual) {
                for (a, v) in acc.iter_mut().zip(q) {
                    *a += v;
                }
            }
            if row.quota > 0.0 {
                counted += 1;
                for (c, a) in above.iter_mut().zip(&t.attainment) {
                    if *a >= 1.0 - 1e-12 {
                        *c += 1;
                    }
                }
            }
            rows.push(row);
        }
    }
    Ok(Evaluated {
        assigned,
        rows,
        cost,
        accrual,
        above,
        counted,
        unassigned,
        warnings,
    })
}

/// Evaluate every plan on every trial and summarise for the report.
///
/// # Errors
/// As [`evaluate_trials`].
pub fn evaluate(inp: &CompInputs, write_payout_curve: bool) -> Result<CompSection> {
    let Evaluated {
        assigned,
        rows,
        cost,
        accrual,
        above,
        counted,
        unassigned,
        warnings,
    } = evaluate_trials(inp)?;
    let n = cost.len();
    let cost_of_sales: Vec<f64> = cost
        .iter()
        .zip(inp.company_revenue)
        .filter(|(_, r)| **r > 0.0)
        .map(|(c, r)| c / r)
        .collect();
    let shares: Vec<f64> = above
        .iter()
        .map(|&c| c as f64 / counted.max(1) as f64)
        .collect();
    let share_mean = shares.iter().sum::<f64>() / n.max(1) as f64;
    let share_band = quantiles(&shares, &[0.05, 0.95]);
    let grid_q: Vec<f64> = (1..100).map(|k| k as f64 / 100.0).collect();
    let grid = quantiles(&cost, &grid_q);
    let plans = inp
        .plans
        .iter()
        .enumerate()
        .map(|(p, plan)| {
            let own: Vec<&RepRow> = assigned
                .iter()
                .zip(&rows)
                .filter(|((_, q), _)| *q == p)
                .map(|(_, r)| r)
                .collect();
            PlanSummary {
                name: plan.name.clone(),
                period: plan.period,
                catch_up: plan.catch_up,
                target_incentive: plan.target_incentive,
                individual_weight: plan.individual_weight,
                tiers: plan.tiers.clone(),
                cap: plan.cap,
                gates: plan.gates.clone(),
                reps: own.len(),
                target_incentive_total: own.iter().map(|r| r.target_incentive).sum(),
                cost_mean: own.iter().map(|r| r.payout.mean).sum(),
                cost_at_plan: own.iter().map(|r| r.payout_at_plan).sum(),
                payout_at_cap: plan
                    .cap
                    .map(|c| plan.target_incentive * payout_multiple(plan, c)),
                curve: payout_curve(plan)
                    .into_iter()
                    .map(|(attainment, payout)| CurvePoint { attainment, payout })
                    .collect(),
            }
        })
        .collect();
    Ok(CompSection {
        quota_source: inp.quota_source,
        trials: n,
        plans,
        cost: Band::of(&cost),
        cost_grid: grid_q
            .iter()
            .zip(grid)
            .map(|(&quantile, cost)| GridPoint { quantile, cost })
            .collect(),
        cost_histogram: Histogram::of(&cost, 40),
        cost_min: cost.iter().copied().fold(f64::INFINITY, f64::min),
        cost_max: cost.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        cost_of_sales: Band::of(&cost_of_sales),
        expected_cost_at_plan: rows.iter().map(|r| r.payout_at_plan).sum(),
        target_incentive_total: rows.iter().map(|r| r.target_incentive).sum(),
        share_reps_above_100: share_mean,
        share_reps_above_100_p05: share_band[0],
        share_reps_above_100_p95: share_band[1],
        accrual: accrual
            .iter()
            .enumerate()
            .map(|(q, a)| AccrualRow {
                quarter: format!("Q{}", q + 1),
                start: inp.quarter_starts.get(q).cloned().unwrap_or_default(),
                accrual: Band::of(a),
            })
            .collect(),
        reps: rows,
        unassigned,
        write_payout_curve,
        warnings,
        cost_trials: cost,
    })
}

#[cfg(test)]
mod tests;
