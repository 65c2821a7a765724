//! Comp plans evaluated on the simulated trials: per member, per trial,
//! the payout, its accrual by quarter and the annual attainment. Pure
//! computation; the trials are the ones the forecast and quotas used
//! (territory quarter totals kept by the simulation), never new draws.
//!
//! Annual plan: payout = TI x (w f(a) + (1 - w) f(team a)), a = credited
//! revenue / quota over the year, team = the revenue of the region's
//! territories with a quota / the sum of their quotas; accrued to
//! quarters in proportion to the member's credited revenue (or
//! employment, when that is not positive).
//! Quarterly plan: a quarter's payout uses that quarter's attainment and
//! a quarter of the (prorated) TI; with catch-up it is the year-to-date
//! payout on year-to-date attainment less what was already paid (never
//! negative: nothing is clawed back).
//!
//! Deterministic on any thread count: members are evaluated in parallel,
//! each on its own, and company totals are added serially in member order.

use ndarray::Array3;

use crate::comp::curve::blended_multiple;
use crate::comp::roster::Member;
use crate::scenario::{CompPeriod, CompPlan};
use crate::sim::QUARTERS;

/// What the evaluation reads.
#[derive(Debug, Clone)]
pub struct Trials<'a> {
    /// Territory revenue per quarter per trial: [territory, quarter, trial].
    pub quarter_totals: &'a Array3<f32>,
    /// Region of each territory (index into `region_totals`).
    pub region_of: &'a [usize],
    /// Region revenue per quarter per trial: `[region][quarter][trial]`.
    pub region_totals: &'a [Vec<Vec<f64>>],
    /// Region quota per quarter: `[region][quarter]`.
    pub region_quotas: &'a [[f64; QUARTERS]],
}

impl Trials<'_> {
    /// Number of trials.
    pub fn len(&self) -> usize {
        self.quarter_totals.shape()[2]
    }

    /// Whether there are no trials.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Region revenue per quarter per trial of the territories `counted`,
/// added up serially in territory order.
pub fn region_totals(
    quarter_totals: &Array3<f32>,
    region_of: &[usize],
    n_regions: usize,
    counted: impl Fn(usize) -> bool,
) -> Vec<Vec<Vec<f64>>> {
    let trials = quarter_totals.shape()[2];
    let mut out = vec![vec![vec![0.0f64; trials]; QUARTERS]; n_regions];
    for (t, &r) in region_of.iter().enumerate().filter(|&(t, _)| counted(t)) {
        for (q, acc) in out[r].iter_mut().enumerate() {
            for (trial, v) in acc.iter_mut().enumerate() {
                *v += quarter_totals[[t, q, trial]] as f64;
            }
        }
    }
    out
}

/// One member's results on every trial.
#[derive(Debug, Clone)]
pub struct MemberTrials {
    /// Payout for the year.
    pub payout: Vec<f64>,
    /// Payout accrued in each quarter: `[quarter][trial]`.
    pub accrual: Vec<Vec<f64>>,
    /// Individual attainment over the year.
    pub attainment: Vec<f64>,
}

fn ratio(x: f64, quota: f64) -> f64 {
    if quota > 0.0 {
        x / quota
    } else {
        0.0
    }
}

/// Evaluate `plan` for `member` on every trial.
pub fn member_trials(plan: &CompPlan, member: &Member, trials: &Trials) -> MemberTrials {
    let n = trials.len();
    let t = member.territory;
    let region = trials.region_of.get(t).copied().unwrap_or(0);
    let team = trials.region_totals.get(region);
    let team_quota = trials
        .region_quotas
        .get(region)
        .copied()
        .unwrap_or([0.0; QUARTERS]);
    let ti = plan.target_incentive;
    let ti_q: Vec<f64> = member
        .employed
        .iter()
        .map(|e| ti * e / QUARTERS as f64)
        .collect();
    let ti_year: f64 = ti_q.iter().sum();
    let quota = member.quota();
    let team_quota_year: f64 = team_quota.iter().sum();
    let mut payout = vec![0.0; n];
    let mut accrual = vec![vec![0.0; n]; QUARTERS];
    let mut attainment = vec![0.0; n];
    for trial in 0..n {
        let mut credit = [0.0f64; QUARTERS];
        let mut team_rev = [0.0f64; QUARTERS];
        for q in 0..QUARTERS {
            credit[q] = trials.quarter_totals[[t, q, trial]] as f64 * member.share[q];
            team_rev[q] = team.map_or(0.0, |r| r[q][trial]);
        }
        let credit_year: f64 = credit.iter().sum();
        let a_year = ratio(credit_year, quota);
        attainment[trial] = a_year;
        let mut paid = [0.0f64; QUARTERS];
        // Annual plans pay one amount; its quarterly accrual only spreads it.
        let mut annual = None;
        match (plan.period, plan.catch_up) {
            (CompPeriod::Annual, _) => {
                let team_a = ratio(team_rev.iter().sum(), team_quota_year);
                let total = ti_year * blended_multiple(plan, a_year, team_a);
                annual = Some(total);
                let positive: f64 = credit.iter().map(|c| c.max(0.0)).sum();
                let employed: f64 = member.employed.iter().sum();
                for q in 0..QUARTERS {
                    paid[q] = if positive > 0.0 {
                        total * credit[q].max(0.0) / positive
                    } else if employed > 0.0 {
                        total * member.employed[q] / employed
                    } else {
                        0.0
                    };
                }
            }
            (CompPeriod::Quarterly, false) => {
                for q in 0..QUARTERS {
                    let a = ratio(credit[q], member.quarter_quota[q]);
                    let team_a = ratio(team_rev[q], team_quota[q]);
                    paid[q] = ti_q[q] * blended_multiple(plan, a, team_a);
                }
            }
            (CompPeriod::Quarterly, true) => {
                let (mut c, mut qq, mut tr, mut tq, mut ti_cum, mut so_far) =
                    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
                for q in 0..QUARTERS {
                    c += credit[q];
                    qq += member.quarter_quota[q];
                    tr += team_rev[q];
                    tq += team_quota[q];
                    ti_cum += ti_q[q];
                    let due = ti_cum * blended_multiple(plan, ratio(c, qq), ratio(tr, tq));
                    paid[q] = (due - so_far).max(0.0);
                    so_far += paid[q];
                }
            }
        }
        let mut sum = 0.0;
        for q in 0..QUARTERS {
            accrual[q][trial] = paid[q];
            sum += paid[q];
        }
        payout[trial] = annual.unwrap_or(sum);
    }
    MemberTrials {
        payout,
        accrual,
        attainment,
    }
}
