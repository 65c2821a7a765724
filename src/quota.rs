//! Quotas from the simulated year: per territory, adding up to
//! `plan x (1 + over_assignment)`.
//!
//! `equal-probability` solves for one attainment probability p such that
//! the territories' (1 - p)-quantiles of simulated annual revenue add up to
//! the target, by bisection on p over the empirical quantile functions.
//! Territories that `max_change` clamps keep the clamped quota and p is
//! re-solved over the others, until no new territory is clamped. The share
//! methods split the target by last year's revenue or by potential, with the
//! same clamping and proportional redistribution. Pure computation.
//!
//! The report's live what-if re-solves these quotas in the browser:
//! `src/export/whatif.js` mirrors [`set_quotas`]' blend, `bounds`,
//! `check_reachable` and `solve` step by step. Change both together;
//! `tests/whatif_browser.rs` checks that they agree.

use ndarray::Array2;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::history::QuotaLimit;
use crate::scenario::{QuotaMethod, QuotaSpec};
use crate::stats::histogram::Histogram;
use crate::stats::quantile::{correlation, sorted_quantile};
use crate::whatif::{quantile_table, WhatIf, WhatIfTerritory};

/// What the quota stage needs to know about each territory.
#[derive(Debug, Clone)]
pub struct QuotaInputs<'a> {
    pub names: &'a [String],
    /// Simulated horizon totals: [territory, trial].
    pub totals: &'a Array2<f32>,
    /// Actual revenue over the year before the horizon.
    pub last_year: &'a [f64],
    /// Last or assigned quota (from a quotas table), where known.
    pub last_quota: &'a [Option<f64>],
    /// Revenue potential (accounts' potential, or the forecast mean).
    pub potential: &'a [f64],
    /// Floors, caps and locks from the quotas table (empty: none).
    pub limits: &'a [QuotaLimit],
}

/// One territory's quota.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaRow {
    pub territory: String,
    pub quota: f64,
    pub unconstrained: f64,
    pub last_year_actual: f64,
    pub forecast_p50: f64,
    /// The 80% interval of the territory's simulated year (for the plot).
    pub forecast_p10: f64,
    pub forecast_p90: f64,
    pub attain_probability: f64,
    /// The constraint that set the quota ("max_change"), if any.
    pub binding: Option<String>,
    /// The quota phased over the horizon's quarters (by the territory's
    /// simulated seasonality once the forecast is known; evenly until then).
    pub quarters: [f64; 4],
    /// The quota phased over each reported period (same rule; empty until
    /// the forecast is known).
    pub by_period: Vec<f64>,
}

/// One rep's part of a territory quota (split by the roster rule of
/// [`crate::comp::roster`]: fte x the ramped part of the year present).
#[derive(Debug, Clone, Serialize)]
pub struct RepQuotaRow {
    pub territory: String,
    pub rep: String,
    pub quota: f64,
    /// Share of trials in which the revenue credited to the rep reaches its quota.
    pub attain_probability: f64,
    /// The rep's quota per quarter (ramp, presence and seasonality).
    pub quarters: [f64; 4],
}

/// The quota plan and its fairness figures.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaPlan {
    pub method: QuotaMethod,
    pub plan: f64,
    pub quota_total: f64,
    /// The common probability solved for (equal-probability), or the mean
    /// of the territories' attainment probabilities (other methods).
    pub attain_probability: f64,
    /// Expected share of territories attaining, and its 90% band over trials.
    pub expected_share_attaining: f64,
    pub share_attaining_p05: f64,
    pub share_attaining_p95: f64,
    /// Distribution over trials of the share of territories attaining.
    pub share_attaining_histogram: Histogram,
    /// Spread (max - min) of attainment probabilities across territories.
    pub attain_probability_spread: f64,
    /// Correlation of territory size (forecast P50) with attainment probability.
    pub size_attainment_correlation: f64,
    pub rows: Vec<QuotaRow>,
    /// Rep quotas (with a reps table), in roster order.
    pub reps: Vec<RepQuotaRow>,
    /// Quotas under each other method, for comparison: (method, quotas).
    pub alternatives: Vec<(QuotaMethod, Vec<f64>)>,
    /// Fairness figures of the chosen method (first) and of each other one.
    pub comparison: Vec<MethodFairness>,
    /// Start date of each reported period (for `by_period`).
    pub period_starts: Vec<String>,
    /// What the report's live what-if re-solves these quotas from.
    #[serde(skip)]
    pub whatif: WhatIf,
}

/// How fair one method's quotas are, from the joint simulated paths.
#[derive(Debug, Clone, Serialize)]
pub struct MethodFairness {
    pub method: QuotaMethod,
    pub mean_attain_probability: f64,
    /// Max - min of the territories' attainment probabilities.
    pub attain_probability_spread: f64,
    pub expected_share_attaining: f64,
    pub share_attaining_p05: f64,
    pub share_attaining_p95: f64,
    /// Correlation of territory size (forecast P50) with attainment
    /// probability: near zero for a fair plan.
    pub size_attainment_correlation: f64,
}

/// Each territory's attainment probability (the share of trials whose
/// total `totals` [territory, trial] reaches its quota) and the per-trial
/// shares of territories attaining, sorted.
pub fn attainment(totals: &Array2<f32>, quotas: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = quotas.len();
    let trials = totals.ncols();
    let attain: Vec<f64> = (0..n)
        .map(|i| {
            totals
                .row(i)
                .iter()
                .filter(|&&x| x as f64 >= quotas[i])
                .count() as f64
                / trials as f64
        })
        .collect();
    let mut shares: Vec<f64> = (0..trials)
        .map(|t| {
            (0..n)
                .filter(|&i| totals[[i, t]] as f64 >= quotas[i])
                .count() as f64
                / n as f64
        })
        .collect();
    shares.sort_by(f64::total_cmp);
    (attain, shares)
}

/// Attainment probability per territory, the sorted per-trial shares of
/// territories attaining, and the fairness figures of `quotas`.
fn fairness(
    inputs: &QuotaInputs,
    method: QuotaMethod,
    quotas: &[f64],
    p50: &[f64],
) -> (Vec<f64>, Vec<f64>, MethodFairness) {
    let n = quotas.len();
    let trials = inputs.totals.ncols();
    let (attain, shares) = attainment(inputs.totals, quotas);
    let expected = shares.iter().sum::<f64>() / trials.max(1) as f64;
    let spread = attain.iter().cloned().fold(f64::MIN, f64::max)
        - attain.iter().cloned().fold(f64::MAX, f64::min);
    let fair = MethodFairness {
        method,
        mean_attain_probability: attain.iter().sum::<f64>() / n.max(1) as f64,
        attain_probability_spread: spread,
        expected_share_attaining: expected,
        share_attaining_p05: sorted_quantile(&shares, 0.05),
        share_attaining_p95: sorted_quantile(&shares, 0.95),
        size_attainment_correlation: correlation(p50, &attain),
    };
    (attain, shares, fair)
}

/// Histogram of the per-trial share of `n` territories attaining: one bin
/// centred on each possible share k/n when there are few territories.
fn share_histogram(shares: &[f64], n: usize) -> Histogram {
    if n <= 40 {
        let half = 0.5 / n as f64;
        Histogram::with_range(shares.iter().copied(), -half, 1.0 + half, n + 1)
    } else {
        Histogram::with_range(shares.iter().copied(), 0.0, 1.0 + 1e-9, 40)
    }
}

/// Set quotas for `inputs` under `spec`.
///
/// # Errors
/// `Error::Infeasible` when the constraints cannot reach the plan, with the
/// reachable range.
pub fn set_quotas(inputs: &QuotaInputs, spec: &QuotaSpec) -> Result<QuotaPlan> {
    let n = inputs.names.len();
    if n == 0 {
        return Err(Error::Infeasible("no territories to set quotas for".into()));
    }
    let sorted: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut v: Vec<f64> = inputs.totals.row(i).iter().map(|&x| x as f64).collect();
            v.sort_by(f64::total_cmp);
            v
        })
        .collect();
    let target = spec.plan * (1.0 + spec.over_assignment);
    let bounds = bounds(inputs, spec)?;
    check_reachable(&bounds, inputs.names, target)?;

    let methods = [
        QuotaMethod::EqualProbability,
        QuotaMethod::HistoricalShare,
        QuotaMethod::PotentialShare,
    ];
    let mut results: Vec<(QuotaMethod, Solved)> = Vec::new();
    for m in methods {
        results.push((m, solve(m, inputs, &sorted, &bounds, target)?));
    }
    let chosen = match spec.method {
        QuotaMethod::Blend => {
            let mut q = vec![0.0; n];
            let mut unc = vec![0.0; n];
            for (m, w) in &spec.blend {
                let s = &results.iter().find(|(x, _)| x == m).expect("solved").1;
                for i in 0..n {
                    q[i] += w * s.quotas[i];
                    unc[i] += w * s.unconstrained[i];
                }
            }
            let binding = (0..n)
                .map(|i| {
                    spec.blend.iter().find_map(|(m, _)| {
                        results
                            .iter()
                            .find(|(x, _)| x == m)
                            .and_then(|(_, s)| s.binding[i].clone())
                    })
                })
                .collect();
            Solved {
                quotas: q,
                unconstrained: unc,
                binding,
                probability: None,
            }
        }
        m => results
            .iter()
            .find(|(x, _)| *x == m)
            .expect("solved")
            .1
            .clone(),
    };

    let p50: Vec<f64> = sorted.iter().map(|s| sorted_quantile(s, 0.5)).collect();
    let (attain, shares, fair) = fairness(inputs, spec.method, &chosen.quotas, &p50);
    let comparison: Vec<MethodFairness> = results
        .iter()
        .filter(|(m, _)| *m != spec.method)
        .map(|(m, s)| fairness(inputs, *m, &s.quotas, &p50).2)
        .collect();
    let rows = (0..n)
        .map(|i| QuotaRow {
            territory: inputs.names[i].clone(),
            quota: chosen.quotas[i],
            unconstrained: chosen.unconstrained[i],
            last_year_actual: inputs.last_year[i],
            forecast_p50: p50[i],
            forecast_p10: sorted_quantile(&sorted[i], 0.1),
            forecast_p90: sorted_quantile(&sorted[i], 0.9),
            attain_probability: attain[i],
            binding: chosen.binding[i].clone(),
            quarters: [chosen.quotas[i] / 4.0; 4],
            by_period: Vec::new(),
        })
        .collect();
    let whatif = WhatIf {
        spec: spec.clone(),
        trials: inputs.totals.ncols(),
        territories: (0..n)
            .map(|i| WhatIfTerritory {
                name: inputs.names[i].clone(),
                quantiles: quantile_table(&sorted[i]),
                base: max_change_base(inputs, i),
                last_year: inputs.last_year[i],
                potential: inputs.potential[i],
                limit: inputs.limits.get(i).copied().unwrap_or_default(),
                quarter_shares: [0.25; 4],
            })
            .collect(),
        company: Vec::new(),
    };
    Ok(QuotaPlan {
        whatif,
        method: spec.method,
        plan: spec.plan,
        quota_total: chosen.quotas.iter().sum(),
        attain_probability: chosen.probability.unwrap_or(fair.mean_attain_probability),
        expected_share_attaining: fair.expected_share_attaining,
        share_attaining_p05: fair.share_attaining_p05,
        share_attaining_p95: fair.share_attaining_p95,
        share_attaining_histogram: share_histogram(&shares, n),
        attain_probability_spread: fair.attain_probability_spread,
        size_attainment_correlation: fair.size_attainment_correlation,
        comparison: std::iter::once(fair).chain(comparison).collect(),
        period_starts: Vec::new(),
        rows,
        reps: Vec::new(),
        alternatives: results
            .into_iter()
            .filter(|(m, _)| *m != spec.method)
            .map(|(m, s)| (m, s.quotas))
            .collect(),
    })
}

#[derive(Debug, Clone)]
struct Solved {
    quotas: Vec<f64>,
    unconstrained: Vec<f64>,
    binding: Vec<Option<String>>,
    probability: Option<f64>,
}

/// Lower and upper bound of each territory's quota from `max_change`.
/// The range a territory's quota may take, and which constraint sets each end.
#[derive(Debug, Clone)]
struct Bound {
    lo: f64,
    hi: f64,
    lo_by: &'static str,
    hi_by: &'static str,
}

impl Bound {
    /// The constraint holding a quota `q` at one end: the nearer end's;
    /// where the ends meet, the one a constraint set (a cap of 0 had been
    /// reported as max_change).
    fn holding(&self, q: f64) -> &'static str {
        let (to_lo, to_hi) = ((q - self.lo).abs(), (q - self.hi).abs());
        if to_lo < to_hi || (to_lo == to_hi && self.lo_by != NO_FLOOR) {
            self.lo_by
        } else {
            self.hi_by
        }
    }
}

/// Each territory's bound: `max_change`, then the quotas table's floor and
/// cap, and a locked quota fixing both ends.
///
/// # Errors
/// `Error::Infeasible` naming a territory whose floor lies above its upper
/// bound (or cap below its lower bound).
fn bounds(inputs: &QuotaInputs, spec: &QuotaSpec) -> Result<Vec<Bound>> {
    (0..inputs.names.len())
        .map(|i| {
            let mut b = Bound {
                lo: 0.0,
                hi: f64::INFINITY,
                lo_by: NO_FLOOR,
                hi_by: "max_change",
            };
            if let Some(mc) = spec.max_change {
                let base = max_change_base(inputs, i);
                if base > 0.0 {
                    b.lo = base * (1.0 - mc).max(0.0);
                    b.hi = base * (1.0 + mc);
                    b.lo_by = "max_change";
                }
            }
            let limit = inputs.limits.get(i).copied().unwrap_or_default();
            if let Some(f) = limit.floor.filter(|&f| f > b.lo) {
                (b.lo, b.lo_by) = (f, "floor");
            }
            if let Some(c) = limit.cap.filter(|&c| c < b.hi) {
                (b.hi, b.hi_by) = (c, "cap");
            }
            if let Some(l) = limit.locked {
                b = Bound {
                    lo: l,
                    hi: l,
                    lo_by: "locked",
                    hi_by: "locked",
                };
            }
            if b.lo > b.hi {
                return Err(Error::Infeasible(format!(
                    "territory {}: its quota must be at least {:.0} ({}) and at most {:.0} ({}); loosen one of them",
                    inputs.names[i], b.lo, b.lo_by, b.hi, b.hi_by
                )));
            }
            Ok(b)
        })
        .collect()
}

/// The label of a quota's lower end where no constraint sets it: no quota
/// is negative. A quota held there by a cap of 0 is bound by the cap.
const NO_FLOOR: &str = "zero";

/// What `max_change` is measured from: the last quota, else last year's actual.
fn max_change_base(inputs: &QuotaInputs, i: usize) -> f64 {
    inputs.last_quota[i].unwrap_or(inputs.last_year[i])
}

fn check_reachable(bounds: &[Bound], names: &[String], target: f64) -> Result<()> {
    let lo: f64 = bounds.iter().map(|b| b.lo).sum();
    let hi: f64 = bounds.iter().map(|b| b.hi).sum();
    if target < lo - 1e-6 * lo.abs() || target > hi + 1e-6 * hi.abs() {
        let range = if hi.is_finite() {
            format!("between {lo:.0} and {hi:.0}")
        } else {
            format!("at least {lo:.0}")
        };
        // The territories that set the side the target lies beyond.
        let below = target < lo;
        let side: Vec<String> = bounds
            .iter()
            .zip(names)
            .filter(|(b, _)| if below { b.lo > 0.0 } else { b.hi.is_finite() })
            .map(|(b, n)| {
                let (v, by) = if below {
                    (b.lo, b.lo_by)
                } else {
                    (b.hi, b.hi_by)
                };
                format!("{n} {v:.0} ({by})")
            })
            .collect();
        const SHOWN: usize = 5;
        let more = side.len().saturating_sub(SHOWN);
        let mut named = side[..side.len().min(SHOWN)].join(", ");
        if more > 0 {
            named.push_str(&format!(" and {more} more"));
        }
        let ends = if below {
            "lowest quotas"
        } else {
            "highest quotas"
        };
        return Err(Error::Infeasible(format!(
            "quota.plan x (1 + over_assignment) = {target:.0} cannot be reached within quota.max_change and the quotas table's floors, caps and locks: the quotas can add up to {range} (the {ends}: {named}); change the plan or loosen the constraints"
        )));
    }
    Ok(())
}

/// One method's quotas (mirrored by `solve` in `src/export/whatif.js`).
fn solve(
    method: QuotaMethod,
    inputs: &QuotaInputs,
    sorted: &[Vec<f64>],
    bounds: &[Bound],
    target: f64,
) -> Result<Solved> {
    let n = sorted.len();
    // Each method is a one-parameter family of quotas, monotone in the
    // parameter; clamping keeps it monotone, so one bisection finds the
    // parameter whose clamped quotas add up to the target.
    let raw: Box<dyn Fn(f64) -> Vec<f64>> = match method {
        QuotaMethod::EqualProbability => {
            // Parameter: 1 - p, the quantile level (quotas rise with it).
            Box::new(move |level: f64| sorted.iter().map(|s| sorted_quantile(s, level)).collect())
        }
        _ => {
            let weights: Vec<f64> = match method {
                QuotaMethod::HistoricalShare => {
                    inputs.last_year.iter().map(|v| v.max(0.0)).collect()
                }
                _ => inputs.potential.iter().map(|v| v.max(0.0)).collect(),
            };
            let total: f64 = weights.iter().sum();
            let shares: Vec<f64> = if total > 0.0 {
                weights.iter().map(|w| w / total).collect()
            } else {
                vec![1.0 / n as f64; n]
            };
            // Parameter in [0, 1] mapped to a multiple of the target in [0, 4].
            Box::new(move |x: f64| shares.iter().map(|s| s * target * 4.0 * x).collect())
        }
    };
    let clamped = |x: f64| -> Vec<f64> {
        raw(x)
            .into_iter()
            .zip(bounds)
            .map(|(q, b)| q.clamp(b.lo, b.hi))
            .collect()
    };
    let sum = |x: f64| -> f64 { clamped(x).iter().sum() };
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    let x = if sum(lo) >= target {
        lo
    } else if sum(hi) <= target {
        hi
    } else {
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if sum(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-15 {
                break;
            }
        }
        0.5 * (lo + hi)
    };
    let mut unconstrained = raw(x);
    let mut quotas = clamped(x);
    let mut binding: Vec<Option<String>> = quotas
        .iter()
        .zip(&unconstrained)
        .zip(bounds)
        .map(|((q, u), b)| {
            ((q - u).abs() > 1e-9 * u.abs().max(1.0)).then(|| b.holding(*q).to_string())
        })
        .collect();
    // Remove the bisection's rounding residue (or, when the target lies
    // beyond the simulated range, scale) on the quotas no bound holds.
    let total: f64 = quotas.iter().sum();
    let free_total: f64 = (0..n)
        .filter(|&i| binding[i].is_none())
        .map(|i| quotas[i])
        .sum();
    if free_total > 0.0 {
        let k = (target - (total - free_total)) / free_total;
        for i in 0..n {
            if binding[i].is_none() {
                // The method's quota is the scaled one (beyond the simulated
                // range it extrapolates); a bound that then holds it is named
                // (a quota had differed from its unconstrained one with no
                // binding given: a helper's probe, session 30).
                let scaled = quotas[i] * k;
                unconstrained[i] = scaled;
                quotas[i] = scaled.clamp(bounds[i].lo, bounds[i].hi);
                if quotas[i] != scaled {
                    binding[i] = Some(bounds[i].holding(quotas[i]).to_string());
                }
            }
        }
    }
    // A target the simulated revenue cannot carry at all (every free
    // territory forecast at zero, so nothing can be scaled up to it).
    let reached: f64 = quotas.iter().sum();
    if (reached - target).abs() > 1e-6 * target.abs().max(1.0) {
        let (lo, hi) = (sum(0.0), sum(1.0));
        return Err(Error::Infeasible(format!(
            "quota.plan x (1 + over_assignment) = {target:.0} cannot be reached: the quotas can add up only to between {lo:.0} and {hi:.0}, as the simulated revenue of the territories whose quotas are free is zero or does not vary (no sales in their history, no rep employed in the plan year, or a single trial); check the sales data and the reps' dates, or set those territories' quotas in the quotas table (floors or locks)"
        )));
    }
    let probability = (method == QuotaMethod::EqualProbability).then_some(1.0 - x);
    Ok(Solved {
        quotas,
        unconstrained,
        binding,
        probability,
    })
}
