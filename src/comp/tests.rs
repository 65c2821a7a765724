//! Comp evaluated on hand-made trials: payouts worked out by hand, and
//! property tests over random plans, rosters and trials.

use ndarray::Array3;
use proptest::prelude::*;

use super::curve::tests::{plan, spec_plan};
use super::roster::{build, Roster};
use super::*;
use crate::calendar::{Calendar, PeriodKind};
use crate::history::{Rep, Territory};
use crate::horizon::Horizon;

fn horizon() -> Horizon {
    let calendar = Calendar::new(PeriodKind::Month, 1);
    let start = calendar.period_of(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
    Horizon {
        calendar,
        start,
        periods: 12,
        origin: start,
    }
}

struct Fixture {
    names: Vec<String>,
    regions: Vec<String>,
    region_of: Vec<usize>,
    quotas: Vec<f64>,
    seasons: Vec<[f64; QUARTERS]>,
    totals: Array3<f32>,
    company: Vec<f64>,
    roster: Roster,
    starts: Vec<String>,
}

impl Fixture {
    /// Territories (region index, quota) with equal seasons, stand-in reps
    /// unless `reps` is given; `totals[t][trial][q]`.
    fn new(territories: &[(usize, f64)], reps: &[Rep], totals: &[Vec<[f32; 4]>]) -> Self {
        let n_regions = territories.iter().map(|t| t.0).max().unwrap_or(0) + 1;
        let trials = totals.first().map_or(0, Vec::len);
        let terr: Vec<Territory> = territories
            .iter()
            .enumerate()
            .map(|(i, &(r, _))| Territory {
                name: format!("T-{i}"),
                region: format!("R-{r}"),
            })
            .collect();
        let quotas: Vec<f64> = territories.iter().map(|t| t.1).collect();
        let seasons = vec![[0.25; QUARTERS]; territories.len()];
        let mut arr = Array3::<f32>::zeros((territories.len(), QUARTERS, trials));
        let mut company = vec![0.0; trials];
        for (t, rows) in totals.iter().enumerate() {
            for (trial, q) in rows.iter().enumerate() {
                for k in 0..QUARTERS {
                    arr[[t, k, trial]] = q[k];
                    company[trial] += q[k] as f64;
                }
            }
        }
        let roster = build(
            reps,
            &terr,
            &horizon(),
            &quotas,
            &seasons,
            &Default::default(),
        );
        Self {
            names: terr.iter().map(|t| t.name.clone()).collect(),
            regions: (0..n_regions).map(|r| format!("R-{r}")).collect(),
            region_of: territories.iter().map(|t| t.0).collect(),
            quotas,
            seasons,
            totals: arr,
            company,
            roster,
            starts: (1..=4).map(|q| format!("Q{q}")).collect(),
        }
    }

    fn inputs<'a>(&'a self, plans: &'a [CompPlan]) -> CompInputs<'a> {
        CompInputs {
            plans,
            quota_source: QuotaSource::Quota,
            roster: &self.roster,
            territory_names: &self.names,
            region_names: &self.regions,
            region_of: &self.region_of,
            territory_quotas: &self.quotas,
            seasons: &self.seasons,
            quarter_totals: &self.totals,
            company_revenue: &self.company,
            quarter_starts: &self.starts,
        }
    }
}

#[track_caller]
fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-6, "{a} != {b}");
}

#[test]
fn annual_payouts_on_trials_by_hand() {
    // One territory, quota 400 (100 a quarter); five trials attaining
    // 0.4, 0.9, 1.0, 1.3 and 2.5.
    let trials: Vec<[f32; 4]> = [40.0, 90.0, 100.0, 130.0, 250.0]
        .iter()
        .map(|&v| [v; 4])
        .collect();
    let f = Fixture::new(&[(0, 400.0)], &[], &[trials]);
    let plans = [spec_plan()];
    let e = evaluate_trials(&f.inputs(&plans)).unwrap();
    let want = [0.0, 48_000.0, 60_000.0, 114_000.0, 240_000.0];
    for (got, want) in e.cost.iter().zip(want) {
        close(*got, want);
    }
    let s = evaluate(&f.inputs(&plans), false).unwrap();
    close(s.expected_cost_at_plan, 60_000.0);
    close(s.reps[0].prob_attain_100, 0.6);
    // Tiers from 0, 0.5 and 1.0; cap at 2.0.
    let tiers: Vec<f64> = s.reps[0].tiers.iter().map(|t| t.probability).collect();
    assert_eq!(tiers, [1.0, 0.8, 0.6]);
    close(s.reps[0].cap.unwrap().probability, 0.2);
    close(s.share_reps_above_100, 0.6);
}

#[test]
fn annual_accrual_follows_credited_revenue() {
    let f = Fixture::new(&[(0, 400.0)], &[], &[vec![[50.0, 150.0, 100.0, 100.0]]]);
    let plans = [spec_plan()];
    let e = evaluate_trials(&f.inputs(&plans)).unwrap();
    close(e.cost[0], 60_000.0);
    let q: Vec<f64> = e.accrual.iter().map(|a| a[0]).collect();
    for (got, want) in q.iter().zip([7_500.0, 22_500.0, 15_000.0, 15_000.0]) {
        close(*got, want);
    }
}

#[test]
fn quarterly_plans_with_and_without_catch_up_by_hand() {
    // 1x per point of attainment, capped at 120%; 40 000 a year = 10 000 a quarter.
    let mut p = plan(&[(0.0, 1.0)], Some(1.2), &[]);
    p.target_incentive = 40_000.0;
    p.period = CompPeriod::Quarterly;
    let mut c = p.clone();
    c.catch_up = true;
    // Quarter attainments 1.5, 0.5, 1.0, 1.0 (quota 100 a quarter).
    let f = Fixture::new(&[(0, 400.0)], &[], &[vec![[150.0, 50.0, 100.0, 100.0]]]);
    // No catch-up: 12 000 (capped) + 5 000 + 10 000 + 10 000.
    let e = evaluate_trials(&f.inputs(std::slice::from_ref(&p))).unwrap();
    close(e.cost[0], 37_000.0);
    // Catch-up on year-to-date attainment: 12 000, then 20 000 due on 1.0
    // so 8 000, then 10 000 and 10 000.
    let e = evaluate_trials(&f.inputs(std::slice::from_ref(&c))).unwrap();
    close(e.cost[0], 40_000.0);
    let q: Vec<f64> = e.accrual.iter().map(|a| a[0]).collect();
    for (got, want) in q.iter().zip([12_000.0, 8_000.0, 10_000.0, 10_000.0]) {
        close(*got, want);
    }
    // A slow start is caught up: 5 000, then 15 000 on 1.0 year to date.
    let f = Fixture::new(&[(0, 400.0)], &[], &[vec![[50.0, 150.0, 100.0, 100.0]]]);
    let e = evaluate_trials(&f.inputs(std::slice::from_ref(&c))).unwrap();
    close(e.accrual[0][0], 5_000.0);
    close(e.accrual[1][0], 15_000.0);
    close(e.cost[0], 40_000.0);
}

#[test]
fn team_split_on_trials_by_hand() {
    // Two territories in one region, quota 400 each; T-0 attains 1.0, T-1
    // 0.5, the region 0.75.
    let f = Fixture::new(
        &[(0, 400.0), (0, 400.0)],
        &[],
        &[vec![[100.0; 4]], vec![[50.0; 4]]],
    );
    let mut p = spec_plan();
    p.individual_weight = 0.75;
    let e = evaluate_trials(&f.inputs(std::slice::from_ref(&p))).unwrap();
    // T-0: 0.75 x f(1.0) + 0.25 x f(0.75) = 0.75 + 0.125 -> 52 500.
    close(e.rows[0].payout.mean, 52_500.0);
    // T-1: 0.75 x f(0.5) + 0.25 x f(0.75) = 0.125 -> 7 500.
    close(e.rows[1].payout.mean, 7_500.0);
    close(e.cost[0], 60_000.0);
}

#[test]
fn a_territory_without_a_quota_is_not_in_its_teams_attainment() {
    // As `team_split_on_trials_by_hand`, with a third territory in the
    // region that the quotas table left out, selling 400 a quarter. It
    // adds no quota, so its revenue is left out too: the team still
    // attains 0.75. Before session 31 the team read 550 a quarter against
    // 200 (2.75).
    let f = Fixture::new(
        &[(0, 400.0), (0, 400.0), (0, 0.0)],
        &[],
        &[vec![[100.0; 4]], vec![[50.0; 4]], vec![[400.0; 4]]],
    );
    let mut p = spec_plan();
    p.individual_weight = 0.75;
    let e = evaluate_trials(&f.inputs(std::slice::from_ref(&p))).unwrap();
    close(e.rows[0].payout.mean, 52_500.0);
    close(e.rows[1].payout.mean, 7_500.0);
    assert!(
        e.warnings
            .iter()
            .any(|w| w.contains("T-2") && w.contains("team")),
        "{:?}",
        e.warnings
    );
}

#[test]
fn new_hire_and_leaver_are_prorated() {
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let reps = [
        Rep {
            id: "A".into(),
            territory: 0,
            start_date: d("2020-01-01"),
            end_date: d("2027-06-30"),
            backfill_date: None,
            ramp_months: 0.0,
            fte: 1.0,
        },
        Rep {
            id: "B".into(),
            territory: 0,
            start_date: d("2027-07-01"),
            end_date: None,
            backfill_date: None,
            ramp_months: 0.0,
            fte: 1.0,
        },
    ];
    let f = Fixture::new(&[(0, 400.0)], &reps, &[vec![[100.0; 4]]]);
    let p = plan(&[(0.0, 1.0)], None, &[]);
    let s = evaluate(&f.inputs(std::slice::from_ref(&p)), false).unwrap();
    // Each carries half the quota, is credited half the revenue and is
    // paid half a year's target incentive at 100%.
    for r in &s.reps {
        close(r.quota, 200.0);
        close(r.target_incentive, 30_000.0);
        close(r.payout.mean, 30_000.0);
    }
    close(s.cost.mean, 60_000.0);
}

#[test]
fn unmatched_reps_are_listed_and_unpaid() {
    let f = Fixture::new(
        &[(0, 400.0), (1, 400.0)],
        &[],
        &[vec![[100.0; 4]], vec![[100.0; 4]]],
    );
    let mut p = spec_plan();
    p.regions = vec!["R-0".into()];
    let s = evaluate(&f.inputs(std::slice::from_ref(&p)), false).unwrap();
    assert_eq!(s.reps.len(), 1);
    assert_eq!(s.unassigned, ["T-1"]);
    assert!(s.warnings.iter().any(|w| w.contains("T-1")));
}

fn any_plan() -> impl Strategy<Value = CompPlan> {
    (
        prop::collection::vec((0.05f64..1.0, 0.0f64..4.0), 1..4),
        prop::option::of(0.5f64..2.5),
        prop::collection::vec((0.0f64..2.0, 0.0f64..0.5), 0..2),
        0.0f64..=1.0,
        0usize..3,
    )
        .prop_map(|(steps, cap, gates, w, period)| {
            let mut from = 0.0;
            let tiers: Vec<(f64, f64)> = steps
                .iter()
                .map(|&(gap, rate)| {
                    let t = (from, rate);
                    from += gap;
                    t
                })
                .collect();
            let mut p = plan(&tiers, cap, &gates);
            p.individual_weight = w;
            p.period = if period == 0 {
                CompPeriod::Annual
            } else {
                CompPeriod::Quarterly
            };
            p.catch_up = period == 2;
            p
        })
}

proptest! {
    #[test]
    fn total_cost_equals_the_sum_over_reps_on_every_trial(
        p in any_plan(),
        sizes in prop::collection::vec((0usize..2, 1.0f64..500.0), 1..4),
        trials in 1usize..12,
        seed in 0u32..1000,
    ) {
        let totals: Vec<Vec<[f32; 4]>> = (0..sizes.len())
            .map(|t| {
                (0..trials)
                    .map(|k| {
                        let mut q = [0.0f32; 4];
                        for (j, v) in q.iter_mut().enumerate() {
                            *v = ((seed as usize * 31 + t * 17 + k * 7 + j * 3) % 200) as f32;
                        }
                        q
                    })
                    .collect()
            })
            .collect();
        let f = Fixture::new(&sizes, &[], &totals);
        let plans = [p];
        let inp = f.inputs(&plans);
        let e = evaluate_trials(&inp).unwrap();
        let (region_revenue, region_quotas) = team(&inp);
        let tr = Trials {
            quarter_totals: &f.totals,
            region_of: &f.region_of,
            region_totals: &region_revenue,
            region_quotas: &region_quotas,
        };
        let reps: Vec<MemberTrials> = f
            .roster
            .members
            .iter()
            .map(|m| member_trials(&plans[0], m, &tr))
            .collect();
        for trial in 0..trials {
            let mut sum = 0.0;
            for r in &reps {
                sum += r.payout[trial];
            }
            prop_assert_eq!(e.cost[trial], sum);
            let accrued: f64 = (0..QUARTERS).map(|q| e.accrual[q][trial]).sum();
            prop_assert!((accrued - sum).abs() <= 1e-9 * sum.abs().max(1.0));
        }
        // And the report's company cost is the mean of those trials.
        let s = evaluate(&inp, false).unwrap();
        let mean = e.cost.iter().sum::<f64>() / trials as f64;
        prop_assert!((s.cost.mean - mean).abs() <= 1e-9 * mean.abs().max(1.0));
        let reps_mean: f64 = s.reps.iter().map(|r| r.payout.mean).sum();
        prop_assert!((reps_mean - mean).abs() <= 1e-6 * mean.abs().max(1.0));
    }
}
