//! Who is paid in the plan year, which part of their territory's quota
//! they carry and which part of its revenue they are credited with. Pure
//! computation on the reps table and the horizon; the quota and comp
//! stages both read it, so rep quotas in `quotas.csv` are the ones comp pays on.
//!
//! Rules:
//! - Each rep row is one paid person. A rep with an end date and a backfill
//!   date is two: the leaver (paid to the end date) and the backfill, a new
//!   hire `<rep> (backfill)` from the backfill date with the same ramp and
//!   fte. A territory without rep rows (or every territory, without a reps
//!   table) gets one full-time stand-in rep named after the territory.
//! - Capacity of a rep in a period = fte x ramped productivity at the
//!   period's middle ([`crate::capacity::productivity`], the simulation's
//!   own ramp); employment = fte x presence (the same rule without ramp).
//! - Quarter share s(r, q) = the rep's capacity in quarter q over the
//!   territory's. In a quarter with no capacity at all (a vacancy) the
//!   reps' shares of the year's capacity are used, so shares add up to 1.
//! - Rep quota in quarter q = territory quota x m(t, q) x s(r, q), where
//!   m(t, q) is the territory's share of simulated mean revenue in quarter q
//!   (its seasonality); the rep's annual quota is the sum over quarters, so
//!   a territory's quota is split by fte x the ramped part of the year each
//!   rep is present, and rep quotas add up to the territory quota.
//! - Where the quotas table gives a rep's own quota (keyed by rep), that
//!   quota replaces the split, spread over quarters in the same proportions.
//! - A rep is credited s(r, q) of the territory's revenue in quarter q.
//! - Target incentive is prorated by employment: per quarter, fte x the
//!   share of the quarter employed, / 4.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::capacity::{midpoint, productivity};
use crate::history::{Rep, Territory};
use crate::horizon::Horizon;
use crate::sim::{quarter_of, QUARTERS};

/// One paid person in the plan year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    /// Name in the outputs (`R-02`, `R-02 (backfill)`, or the territory for a stand-in).
    pub id: String,
    /// Name plans match their `reps` patterns against (the reps table's id).
    pub rep: String,
    pub territory: usize,
    /// Whether this is a stand-in for a territory without reps.
    pub stand_in: bool,
    pub fte: f64,
    /// Share of the territory's revenue and quota in each quarter.
    pub share: [f64; QUARTERS],
    /// fte x share of each quarter employed (target incentive proration).
    pub employed: [f64; QUARTERS],
    /// Quota in each quarter.
    pub quarter_quota: [f64; QUARTERS],
}

impl Member {
    /// Annual quota: the sum of the quarter quotas.
    pub fn quota(&self) -> f64 {
        self.quarter_quota.iter().sum()
    }

    /// Share of a full-time year's target incentive this person earns.
    pub fn incentive_share(&self) -> f64 {
        self.employed.iter().sum::<f64>() / QUARTERS as f64
    }
}

/// Share of trials in which the revenue credited to `m` reaches its
/// annual quota; `quarter_totals` is [territory, quarter, trial].
pub fn attain_probability(m: &Member, quarter_totals: &ndarray::Array3<f32>) -> f64 {
    let trials = quarter_totals.shape()[2];
    let quota = m.quota();
    let hits = (0..trials)
        .filter(|&trial| {
            let credit: f64 = (0..QUARTERS)
                .map(|q| quarter_totals[[m.territory, q, trial]] as f64 * m.share[q])
                .sum();
            credit >= quota
        })
        .count();
    hits as f64 / trials.max(1) as f64
}

/// The paid people of the plan year, in reps-table order, then stand-ins
/// in territory order; with warnings about territories nobody covers.
#[derive(Debug, Clone, Serialize)]
pub struct Roster {
    pub members: Vec<Member>,
    /// Whether the members come from a reps table (rather than stand-ins only).
    pub from_reps_table: bool,
    pub warnings: Vec<String>,
}

/// The part of each quarter's mean revenue in a territory: m(t, q), from the
/// simulated mean of each reported period. Equal quarters where the mean
/// year is not positive.
pub fn seasonal_shares(period_means: &[f64], per_year: usize) -> [f64; QUARTERS] {
    let mut q = [0.0; QUARTERS];
    let mut periods = [0usize; QUARTERS];
    for (p, m) in period_means.iter().enumerate() {
        q[quarter_of(p, per_year)] += m.max(0.0);
        periods[quarter_of(p, per_year)] += 1;
    }
    let total: f64 = q.iter().sum();
    let n: usize = periods.iter().sum();
    for (k, v) in q.iter_mut().enumerate() {
        *v = if total > 0.0 {
            *v / total
        } else {
            periods[k] as f64 / n.max(1) as f64
        };
    }
    q
}

/// The roster of the plan year.
///
/// `quotas[t]` is territory t's annual quota, `seasons[t]` its seasonal
/// shares ([`seasonal_shares`]); `rep_quotas` the quotas assigned to reps
/// by name, where known (they replace the split).
pub fn build(
    reps: &[Rep],
    territories: &[Territory],
    horizon: &Horizon,
    quotas: &[f64],
    seasons: &[[f64; QUARTERS]],
    rep_quotas: &BTreeMap<String, f64>,
) -> Roster {
    let per_year = horizon.calendar.kind.per_year();
    let dates: Vec<(usize, chrono::NaiveDate)> = (0..horizon.periods)
        .map(|p| {
            (
                quarter_of(p, per_year),
                midpoint(&horizon.calendar, horizon.start + p as i64),
            )
        })
        .collect();
    let mut in_quarter = [0usize; QUARTERS];
    for (q, _) in &dates {
        in_quarter[*q] += 1;
    }
    // (member, capacity per quarter)
    let mut people: Vec<(Member, [f64; QUARTERS])> = Vec::new();
    let add =
        |people: &mut Vec<(Member, [f64; QUARTERS])>, id: String, rep: &Rep, stand_in: bool| {
            let present = Rep {
                ramp_months: 0.0,
                ..rep.clone()
            };
            let mut capacity = [0.0; QUARTERS];
            let mut employed = [0.0; QUARTERS];
            for &(q, d) in &dates {
                capacity[q] += rep.fte * productivity(rep, d);
                employed[q] += rep.fte * productivity(&present, d) / in_quarter[q].max(1) as f64;
            }
            if employed.iter().sum::<f64>() > 0.0 {
                people.push((
                    Member {
                        id,
                        rep: rep.id.clone(),
                        territory: rep.territory,
                        stand_in,
                        fte: rep.fte,
                        share: [0.0; QUARTERS],
                        employed,
                        quarter_quota: [0.0; QUARTERS],
                    },
                    capacity,
                ));
            }
        };
    for r in reps.iter().filter(|r| r.territory < territories.len()) {
        match (r.end_date, r.backfill_date) {
            (Some(_), Some(b)) => {
                add(
                    &mut people,
                    r.id.clone(),
                    &Rep {
                        backfill_date: None,
                        ..r.clone()
                    },
                    false,
                );
                add(
                    &mut people,
                    format!("{} (backfill)", r.id),
                    &Rep {
                        start_date: Some(b),
                        end_date: None,
                        backfill_date: None,
                        ..r.clone()
                    },
                    false,
                );
            }
            _ => add(&mut people, r.id.clone(), r, false),
        }
    }
    let mut warnings = Vec::new();
    for (t, terr) in territories.iter().enumerate() {
        if reps.iter().any(|r| r.territory == t) {
            if !people.iter().any(|(m, _)| m.territory == t) {
                warnings.push(format!(
                    "territory {}: no rep is employed in the plan year (or every one it has is at fte 0), so nobody carries its quota and comp pays nothing for it",
                    terr.name
                ));
            }
            continue;
        }
        add(
            &mut people,
            terr.name.clone(),
            &Rep {
                id: terr.name.clone(),
                territory: t,
                start_date: None,
                end_date: None,
                backfill_date: None,
                ramp_months: 0.0,
                fte: 1.0,
            },
            true,
        );
    }
    // Shares within each territory.
    for (t, terr) in territories.iter().enumerate() {
        let own: Vec<usize> = (0..people.len())
            .filter(|&i| people[i].0.territory == t)
            .collect();
        let year: Vec<f64> = own.iter().map(|&i| people[i].1.iter().sum()).collect();
        let year_total: f64 = year.iter().sum();
        for q in 0..QUARTERS {
            let total: f64 = own.iter().map(|&i| people[i].1[q]).sum();
            for (k, &i) in own.iter().enumerate() {
                let s = if total > 0.0 {
                    people[i].1[q] / total
                } else if year_total > 0.0 {
                    year[k] / year_total
                } else {
                    0.0
                };
                let season = seasons.get(t).map_or(0.25, |m| m[q]);
                let quota = quotas.get(t).copied().unwrap_or(0.0);
                let m = &mut people[i].0;
                m.share[q] = s;
                m.quarter_quota[q] = quota * season * s;
            }
        }
        if !own.is_empty() && year_total <= 0.0 {
            warnings.push(format!(
                "territory {}: its reps have no ramped capacity in the plan year, so none of them carries quota",
                terr.name
            ));
        }
    }
    for (m, _) in &mut people {
        let own = (m.id == m.rep && !m.stand_in)
            .then(|| rep_quotas.get(&m.rep))
            .flatten();
        if let Some(&q) = own {
            let season = seasons
                .get(m.territory)
                .copied()
                .unwrap_or([0.25; QUARTERS]);
            let split: f64 = m.quarter_quota.iter().sum();
            let shape: [f64; QUARTERS] = if split > 0.0 {
                m.quarter_quota.map(|v| v / split)
            } else {
                season
            };
            m.quarter_quota = shape.map(|v| v * q);
        }
    }
    Roster {
        members: people.into_iter().map(|(m, _)| m).collect(),
        from_reps_table: !reps.is_empty(),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, PeriodKind};
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn horizon() -> Horizon {
        let calendar = Calendar::new(PeriodKind::Month, 1);
        let start = calendar.period_of(d("2027-01-01"));
        Horizon {
            calendar,
            start,
            periods: 12,
            origin: start,
        }
    }

    fn rep(
        id: &str,
        t: usize,
        start: Option<&str>,
        end: Option<&str>,
        backfill: Option<&str>,
        ramp: f64,
        fte: f64,
    ) -> Rep {
        Rep {
            id: id.into(),
            territory: t,
            start_date: start.map(d),
            end_date: end.map(d),
            backfill_date: backfill.map(d),
            ramp_months: ramp,
            fte,
        }
    }

    fn territories(n: usize) -> Vec<Territory> {
        (0..n)
            .map(|i| Territory {
                name: format!("T-{i}"),
                region: "R".into(),
            })
            .collect()
    }

    #[test]
    fn stand_in_rep_per_territory_without_reps() {
        let r = build(
            &[],
            &territories(2),
            &horizon(),
            &[100.0, 200.0],
            &[[0.25; 4]; 2],
            &BTreeMap::new(),
        );
        assert_eq!(r.members.len(), 2);
        assert_eq!(r.members[1].id, "T-1");
        assert!(r.members[1].stand_in);
        assert!((r.members[1].quota() - 200.0).abs() < 1e-9);
        assert!((r.members[0].incentive_share() - 1.0).abs() < 1e-12);
        assert_eq!(r.members[0].share, [1.0; 4]);
    }

    #[test]
    fn rep_quotas_add_up_to_the_territory_quota() {
        let reps = vec![
            rep("A", 0, Some("2020-01-01"), None, None, 3.0, 1.0),
            rep("B", 0, Some("2027-04-01"), None, None, 3.0, 0.5),
            rep(
                "C",
                0,
                Some("2019-01-01"),
                Some("2027-02-28"),
                Some("2027-06-01"),
                2.0,
                1.0,
            ),
        ];
        let seasons = [[0.1, 0.2, 0.3, 0.4]];
        let r = build(
            &reps,
            &territories(1),
            &horizon(),
            &[1000.0],
            &seasons,
            &BTreeMap::new(),
        );
        let ids: Vec<&str> = r.members.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["A", "B", "C", "C (backfill)"]);
        let total: f64 = r.members.iter().map(Member::quota).sum();
        assert!((total - 1000.0).abs() < 1e-9, "{total}");
        for q in 0..4 {
            let s: f64 = r.members.iter().map(|m| m.share[q]).sum();
            assert!((s - 1.0).abs() < 1e-12);
        }
        // The full-timer present all year carries the most.
        assert!(r.members[0].quota() > r.members[1].quota());
        // B is a half-time new hire from April: no Q1 share, prorated incentive.
        assert_eq!(r.members[1].share[0], 0.0);
        assert!((r.members[1].incentive_share() - 0.5 * 0.75).abs() < 1e-12);
        // C leaves at the end of February: paid for two months.
        assert!((r.members[2].incentive_share() - 2.0 / 12.0).abs() < 1e-12);
        assert_eq!(r.members[2].quarter_quota[2], 0.0);
        // The backfill starts in June.
        assert!((r.members[3].incentive_share() - 7.0 / 12.0).abs() < 1e-12);
    }

    #[test]
    fn vacancy_quarter_falls_back_to_yearly_shares() {
        // Only rep leaves at the end of March: Q2-Q4 have no capacity.
        let reps = vec![rep("A", 0, None, Some("2027-03-31"), None, 0.0, 1.0)];
        let r = build(
            &reps,
            &territories(1),
            &horizon(),
            &[400.0],
            &[[0.25; 4]],
            &BTreeMap::new(),
        );
        assert_eq!(r.members.len(), 1);
        assert!((r.members[0].quota() - 400.0).abs() < 1e-9);
        assert!((r.members[0].incentive_share() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn territory_whose_reps_all_left_is_warned_about() {
        let reps = vec![rep("A", 0, None, Some("2026-06-30"), None, 0.0, 1.0)];
        let r = build(
            &reps,
            &territories(1),
            &horizon(),
            &[400.0],
            &[[0.25; 4]],
            &BTreeMap::new(),
        );
        assert!(r.members.is_empty());
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn assigned_rep_quota_replaces_the_split() {
        let reps = vec![
            rep("A", 0, None, None, None, 0.0, 1.0),
            rep("B", 0, None, None, None, 0.0, 1.0),
        ];
        let assigned = BTreeMap::from([("A".to_string(), 700.0)]);
        let seasons = [[0.1, 0.2, 0.3, 0.4]];
        let r = build(
            &reps,
            &territories(1),
            &horizon(),
            &[1000.0],
            &seasons,
            &assigned,
        );
        assert!((r.members[0].quota() - 700.0).abs() < 1e-9);
        assert!((r.members[0].quarter_quota[3] - 280.0).abs() < 1e-9);
        // B keeps its split: half the territory quota.
        assert!((r.members[1].quota() - 500.0).abs() < 1e-9);
    }

    #[test]
    fn seasonality_from_period_means() {
        let m: Vec<f64> = (1..=12).map(|p| p as f64).collect();
        let s = seasonal_shares(&m, 12);
        assert!((s[0] - 6.0 / 78.0).abs() < 1e-12);
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(seasonal_shares(&[0.0; 12], 12), [0.25; 4]);
    }
}
