//! The tier curve of a comp plan: payout, as a multiple of target
//! incentive, at a given attainment (SPEC's f), and the blend of the
//! individual and team measures. Pure arithmetic on a checked
//! [`CompPlan`]; it knows nothing about reps, quotas or trials.
//!
//! f(a) = sum over tiers of rate x (the part of [from, next from) below
//! min(a, cap)) + every gate bonus whose `at` is reached by min(a, cap).
//! Rates, bonuses and tier starts are >= 0 (checked when the scenario is
//! read), so f never falls as attainment rises and is flat past the cap.

use crate::scenario::CompPlan;

/// Attainments of the payout curve: 0 to 2.5 in steps of 0.05.
pub const CURVE_POINTS: usize = 51;
/// Step of the payout curve's attainment.
pub const CURVE_STEP: f64 = 0.05;

/// f(attainment): payout as a multiple of target incentive.
pub fn payout_multiple(plan: &CompPlan, attainment: f64) -> f64 {
    if attainment.is_nan() {
        return 0.0;
    }
    let a = plan.cap.map_or(attainment, |c| attainment.min(c));
    let mut f = 0.0;
    for (k, t) in plan.tiers.iter().enumerate() {
        if a <= t.from {
            break;
        }
        let end = plan.tiers.get(k + 1).map_or(f64::INFINITY, |n| n.from);
        f += t.rate * (a.min(end) - t.from);
    }
    for g in &plan.gates {
        if a >= g.at {
            f += g.bonus;
        }
    }
    f
}

/// w f(individual) + (1 - w) f(team), w = `individual_weight`.
pub fn blended_multiple(plan: &CompPlan, individual: f64, team: f64) -> f64 {
    let w = plan.individual_weight;
    let own = if w > 0.0 {
        w * payout_multiple(plan, individual)
    } else {
        0.0
    };
    let shared = if w < 1.0 {
        (1.0 - w) * payout_multiple(plan, team)
    } else {
        0.0
    };
    own + shared
}

/// The payout curve in currency for one full-time rep: (attainment,
/// target_incentive x f(attainment)) at 0, 0.05, ..., 2.5 (individual
/// measure only).
pub fn payout_curve(plan: &CompPlan) -> Vec<(f64, f64)> {
    (0..CURVE_POINTS)
        .map(|k| {
            // k / 20 rather than k * 0.05: exact grid points.
            let a = k as f64 / 20.0;
            (a, plan.target_incentive * payout_multiple(plan, a))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::scenario::{CompPeriod, Gate, Tier};
    use proptest::prelude::*;

    pub(crate) fn plan(tiers: &[(f64, f64)], cap: Option<f64>, gates: &[(f64, f64)]) -> CompPlan {
        CompPlan {
            name: "p".into(),
            target_incentive: 60_000.0,
            individual_weight: 1.0,
            tiers: tiers
                .iter()
                .map(|&(from, rate)| Tier { from, rate })
                .collect(),
            cap,
            gates: gates
                .iter()
                .map(|&(at, bonus)| Gate { at, bonus })
                .collect(),
            period: CompPeriod::Annual,
            catch_up: false,
            reps: Vec::new(),
            territories: Vec::new(),
            regions: Vec::new(),
        }
    }

    /// SPEC's example: nothing below 50%, 2x from 50% to quota, 3x above, cap at 200%.
    pub(crate) fn spec_plan() -> CompPlan {
        plan(&[(0.0, 0.0), (0.5, 2.0), (1.0, 3.0)], Some(2.0), &[])
    }

    #[track_caller]
    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn spec_example_by_hand() {
        let p = spec_plan();
        let ti = p.target_incentive;
        // 0.4: below the 50% threshold.
        close(ti * payout_multiple(&p, 0.4), 0.0);
        // 0.9: 2.0 x (0.9 - 0.5) = 0.8 -> 48 000.
        close(ti * payout_multiple(&p, 0.9), 48_000.0);
        // 1.0: 2.0 x 0.5 = 1.0 -> 60 000 (target incentive at quota).
        close(ti * payout_multiple(&p, 1.0), 60_000.0);
        // 1.3: 1.0 + 3.0 x 0.3 = 1.9 -> 114 000.
        close(ti * payout_multiple(&p, 1.3), 114_000.0);
        // 2.5: capped at 2.0: 1.0 + 3.0 x 1.0 = 4.0 -> 240 000.
        close(ti * payout_multiple(&p, 2.5), 240_000.0);
    }

    #[test]
    fn gate_bonus_and_decelerator_by_hand() {
        // 1x to quota, a 10% bonus at quota, 0.5x decelerator above 150%, cap 2.0.
        let p = plan(
            &[(0.0, 1.0), (1.0, 2.0), (1.5, 0.5)],
            Some(2.0),
            &[(1.0, 0.1)],
        );
        close(payout_multiple(&p, 0.4), 0.4);
        close(payout_multiple(&p, 0.9), 0.9);
        close(payout_multiple(&p, 1.0), 1.1);
        close(payout_multiple(&p, 1.3), 1.0 + 0.6 + 0.1);
        // 2.5 -> cap 2.0: 1.0 + 2 x 0.5 + 0.5 x 0.5 + 0.1 = 2.35
        close(payout_multiple(&p, 2.5), 2.35);
    }

    #[test]
    fn team_split_by_hand() {
        // SPEC example with 75% individual / 25% team.
        let mut p = spec_plan();
        p.individual_weight = 0.75;
        // Individual 1.3 (1.9), team 0.9 (0.8): 0.75 x 1.9 + 0.25 x 0.8 = 1.625.
        close(
            p.target_incentive * blended_multiple(&p, 1.3, 0.9),
            97_500.0,
        );
        // Individual 0.4 (0), team 2.5 (4.0, capped): 1.0.
        close(
            p.target_incentive * blended_multiple(&p, 0.4, 2.5),
            60_000.0,
        );
        // Both at quota: exactly the target incentive.
        close(
            p.target_incentive * blended_multiple(&p, 1.0, 1.0),
            60_000.0,
        );
    }

    #[test]
    fn negative_or_missing_attainment_pays_nothing() {
        let p = plan(&[(0.0, 1.0)], None, &[]);
        close(payout_multiple(&p, -0.3), 0.0);
        close(payout_multiple(&p, f64::NAN), 0.0);
    }

    #[test]
    fn curve_has_51_points_from_0_to_2_5() {
        let c = payout_curve(&spec_plan());
        assert_eq!(c.len(), CURVE_POINTS);
        close(c[0].0, 0.0);
        close(c[20].0, 1.0);
        close(c[20].1, 60_000.0);
        close(c[50].0, 2.5);
        close(c[50].1, 240_000.0);
        close(c[1].0, CURVE_STEP);
    }

    fn any_plan() -> impl Strategy<Value = CompPlan> {
        (
            prop::collection::vec((0.01f64..1.0, 0.0f64..5.0), 1..5),
            prop::option::of(0.1f64..3.0),
            prop::collection::vec((0.0f64..3.0, 0.0f64..1.0), 0..3),
            0.0f64..=1.0,
        )
            .prop_map(|(steps, cap, gates, w)| {
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
                p
            })
    }

    proptest! {
        #[test]
        fn payout_never_falls_as_attainment_rises(p in any_plan(), a in -0.5f64..4.0, d in 0.0f64..2.0, team in 0.0f64..3.0) {
            prop_assert!(payout_multiple(&p, a + d) >= payout_multiple(&p, a));
            prop_assert!(blended_multiple(&p, a + d, team) >= blended_multiple(&p, a, team));
            prop_assert!(blended_multiple(&p, team, a + d) >= blended_multiple(&p, team, a));
        }

        #[test]
        fn capped_plan_never_pays_more_than_at_the_cap(p in any_plan(), a in -0.5f64..10.0, team in -0.5f64..10.0) {
            if let Some(cap) = p.cap {
                let at_cap = payout_multiple(&p, cap);
                prop_assert!(payout_multiple(&p, a) <= at_cap);
                prop_assert!(blended_multiple(&p, a, team) <= at_cap + 1e-12);
            }
        }
    }
}
