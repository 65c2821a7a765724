//! The rebalancing stage's part of the report: per-territory before/after,
//! the move list with a reason per move, balance figures and the frontier.
//! Built once from a [`Solution`]; exporters only read it. No I/O.

use serde::Serialize;

use super::objective::{spread, State};
use super::problem::{Measure, Problem};
use super::search::{MoveKind, Solution};

/// One row of `territories.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct TerritoryRow {
    pub territory: String,
    pub region: String,
    /// "kept", "added" or "removed".
    pub status: String,
    pub capacity: f64,
    pub accounts_before: usize,
    pub accounts_after: usize,
    pub potential_before: f64,
    pub potential_after: f64,
    pub workload_before: f64,
    pub workload_after: f64,
}

/// One row of `moves.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct MoveRow {
    pub account: String,
    pub from_territory: String,
    pub to_territory: String,
    pub potential: f64,
    pub workload: f64,
    pub kind: MoveKind,
    /// Change in the weighted objective this move makes, given every other
    /// move (negative: it helps); `None` for forced moves.
    pub objective_change: Option<f64>,
    pub reason: String,
}

/// One row of `assignments.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct AssignmentRow {
    pub account: String,
    pub territory: String,
    pub rep: Option<String>,
}

/// Spread of one measure before and after.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureBalance {
    pub measure: Measure,
    pub cv_before: f64,
    pub cv_after: f64,
    pub max_min_before: Option<f64>,
    pub max_min_after: Option<f64>,
}

/// One point of the balance-vs-disruption frontier.
#[derive(Debug, Clone, Serialize)]
pub struct FrontierPoint {
    /// Budget as a share of accounts, and as a count.
    pub budget_share: f64,
    pub budget_accounts: usize,
    pub moved: usize,
    pub forced_moves: usize,
    pub objective: f64,
    pub cv_potential: f64,
    pub cv_workload: f64,
    pub max_min_potential: Option<f64>,
}

/// Everything the report, plots and spreadsheets show about rebalancing.
#[derive(Debug, Clone, Serialize)]
pub struct TerritoriesSection {
    pub method: String,
    pub balance: Vec<(Measure, f64)>,
    pub budget_accounts: usize,
    pub max_moved_potential: Option<f64>,
    pub objective_before: f64,
    pub objective_after: f64,
    /// Potential per unit of capacity: coefficient of variation and max/min.
    pub cv_before: f64,
    pub cv_after: f64,
    pub max_min_before: Option<f64>,
    pub max_min_after: Option<f64>,
    pub measures: Vec<MeasureBalance>,
    /// Optional moves (within the budget).
    pub moved: usize,
    /// Moves out of removed territories and fixed moves (outside the budget).
    pub forced_moves: usize,
    pub potential_moved: f64,
    pub rows: Vec<TerritoryRow>,
    pub moves: Vec<MoveRow>,
    pub assignments: Vec<AssignmentRow>,
    pub frontier: Option<Vec<FrontierPoint>>,
    /// The located accounts, for the territory maps (`None` when no
    /// account has coordinates).
    #[serde(skip)]
    pub map: Option<AccountMap>,
}

/// An account on the territory maps.
#[derive(Debug, Clone, Copy)]
pub struct MapAccount {
    pub lat: f64,
    pub lon: f64,
    pub potential: f64,
    /// Its territory (an index into [`AccountMap::territories`]) before
    /// and after rebalancing.
    pub before: usize,
    pub after: usize,
}

/// The accounts that have coordinates, with their territories before and
/// after rebalancing.
#[derive(Debug, Clone)]
pub struct AccountMap {
    pub territories: Vec<String>,
    /// Each territory's region.
    pub regions: Vec<String>,
    pub accounts: Vec<MapAccount>,
}

impl AccountMap {
    /// Each territory's centre (lat, lon) before or `after` rebalancing:
    /// the potential-weighted mean of its located accounts (plain mean
    /// where their potential is all zero); `None` for a territory without
    /// located accounts.
    pub fn centres(&self, after: bool) -> Vec<Option<(f64, f64)>> {
        let mut sums = vec![(0.0, 0.0, 0.0, 0.0, 0.0, 0usize); self.territories.len()];
        for a in &self.accounts {
            let t = if after { a.after } else { a.before };
            let w = a.potential.max(0.0);
            let s = &mut sums[t];
            s.0 += w * a.lat;
            s.1 += w * a.lon;
            s.2 += w;
            s.3 += a.lat;
            s.4 += a.lon;
            s.5 += 1;
        }
        sums.iter()
            .map(|&(wl, wn, w, l, n, c)| match (w > 0.0, c > 0) {
                (true, _) => Some((wl / w, wn / w)),
                (false, true) => Some((l / c as f64, n / c as f64)),
                (false, false) => None,
            })
            .collect()
    }
}

fn account_map(p: &Problem, sol: &Solution) -> Option<AccountMap> {
    let accounts: Vec<MapAccount> = p
        .accounts
        .iter()
        .zip(&sol.assign)
        .filter_map(|(acc, &after)| {
            let (lat, lon) = acc.coords?;
            (lat.is_finite() && lon.is_finite()).then_some(MapAccount {
                lat,
                lon,
                potential: acc.potential,
                before: acc.territory,
                after,
            })
        })
        .collect();
    (!accounts.is_empty()).then(|| AccountMap {
        territories: p.territories.iter().map(|t| t.name.clone()).collect(),
        regions: p.territories.iter().map(|t| t.region.clone()).collect(),
        accounts,
    })
}

/// How the optimiser works, for the report.
pub const METHOD: &str = "forced moves first (fixed moves, accounts of removed territories placed largest first), then budgeted greedy descent with halving improvement thresholds, then exchange local search (undo one move, make the best other); objective: sum over balanced measures of weight x mean squared relative deviation of territory totals from capacity-proportional targets, plus compactness x squared distance to fixed territory centres relative to the start";

fn totals(p: &Problem, assign: &[usize], measure: Measure) -> Vec<f64> {
    let mut out = vec![0.0; p.territories.len()];
    for (a, &t) in assign.iter().enumerate() {
        out[t] += p.value(a, measure);
    }
    out
}

fn spread_over(p: &Problem, totals: &[f64], set: &[usize]) -> (f64, Option<f64>) {
    let xs: Vec<f64> = set.iter().map(|&t| totals[t]).collect();
    let caps: Vec<f64> = set.iter().map(|&t| p.territories[t].capacity).collect();
    spread(&xs, &caps)
}

/// Balance of `measure`: (before over existing, after over active).
fn balance(p: &Problem, after: &[usize], measure: Measure) -> MeasureBalance {
    let home: Vec<usize> = p.accounts.iter().map(|a| a.territory).collect();
    let (cv_before, max_min_before) = spread_over(p, &totals(p, &home, measure), &p.existing());
    let (cv_after, max_min_after) = spread_over(p, &totals(p, after, measure), &p.active());
    MeasureBalance {
        measure,
        cv_before,
        cv_after,
        max_min_before,
        max_min_after,
    }
}

/// A frontier point for a solution found with a budget of `budget_share`.
pub fn frontier_point(p: &Problem, sol: &Solution, budget_share: f64) -> FrontierPoint {
    let pot = balance(p, &sol.assign, Measure::Potential);
    let work = balance(p, &sol.assign, Measure::Workload);
    FrontierPoint {
        budget_share,
        budget_accounts: p.settings.max_moves,
        moved: sol.count(MoveKind::Optional),
        forced_moves: sol.count(MoveKind::Fixed) + sol.count(MoveKind::Removed),
        objective: sol.objective_after,
        cv_potential: pot.cv_after,
        cv_workload: work.cv_after,
        max_min_potential: pot.max_min_after,
    }
}

/// `x` against `target` as a signed percentage; "no target" where the
/// target is zero (a measure every account has at zero).
fn pct(x: f64, target: f64) -> String {
    if target > 0.0 {
        format!("{:+.1}%", 100.0 * (x / target - 1.0))
    } else {
        "no target".to_string()
    }
}

/// Why optional move `a` (to its final territory) is worth making: the
/// measure whose imbalance it reduces most, by how much, given every
/// other move.
fn optional_reason(p: &Problem, st: &State, a: usize, start_objective: f64) -> (f64, String) {
    let home = p.accounts[a].territory;
    let to = st.assign[a];
    // Undoing the move changes the objective by `undo`; the move's own
    // effect is its negative.
    let undo = st.move_delta(a, home);
    let mut best: Option<(usize, f64)> = None;
    for j in 0..st.measures() {
        let gain = st.measure_delta(a, home, j);
        if best.is_none_or(|(_, g)| gain > g) {
            best = Some((j, gain));
        }
    }
    let compact_gain = st.compact_delta(a, home);
    let share = if start_objective > 0.0 {
        format!(
            " ({:.2}% of the starting objective)",
            100.0 * undo / start_objective
        )
    } else {
        String::new()
    };
    let describe = |j: usize| {
        let (measure, _) = p.settings.balance[j];
        let v = p.value(a, measure);
        let (xs, ts) = (st.total(home, j), st.target(home, j));
        let (xt, tt) = (st.total(to, j), st.target(to, j));
        format!(
            "{} {} -> {}, {} {} -> {} of target",
            p.territories[home].name,
            pct(xs + v, ts),
            pct(xs, ts),
            p.territories[to].name,
            pct(xt - v, tt),
            pct(xt, tt)
        )
    };
    // A measure every account has at zero says nothing about the move
    // (its "NaN%" filled every reason where all potentials were zero).
    let informative = |j: usize| st.target(home, j) > 0.0 || st.target(to, j) > 0.0;
    let others = |skip: Option<usize>| -> String {
        (0..st.measures())
            .filter(|&j| Some(j) != skip && informative(j))
            .map(|j| format!("; {}: {}", p.settings.balance[j].0.name(), describe(j)))
            .collect()
    };
    let text = match best {
        Some((j, gain)) if gain >= compact_gain => format!(
            "reduces {} imbalance: {}{}; objective -{:.6}{}",
            p.settings.balance[j].0.name(),
            describe(j),
            others(Some(j)),
            undo,
            share
        ),
        _ => format!(
            "makes territories more compact: closer to the centre of {} than of {}{}; objective -{:.6}{}",
            p.territories[to].name,
            p.territories[home].name,
            others(None),
            undo,
            share
        ),
    };
    (-undo, text)
}

/// Build the section from a problem and its solution.
pub fn section(
    p: &Problem,
    sol: &Solution,
    frontier: Option<Vec<FrontierPoint>>,
) -> TerritoriesSection {
    let home: Vec<usize> = p.accounts.iter().map(|a| a.territory).collect();
    let mut rows = Vec::new();
    let (pb, pa) = (
        totals(p, &home, Measure::Potential),
        totals(p, &sol.assign, Measure::Potential),
    );
    let (wb, wa) = (
        totals(p, &home, Measure::Workload),
        totals(p, &sol.assign, Measure::Workload),
    );
    let mut cb = vec![0usize; p.territories.len()];
    for &t in &home {
        cb[t] += 1;
    }
    for (t, terr) in p.territories.iter().enumerate() {
        rows.push(TerritoryRow {
            territory: terr.name.clone(),
            region: terr.region.clone(),
            status: if terr.added {
                "added"
            } else if terr.removed {
                "removed"
            } else {
                "kept"
            }
            .into(),
            capacity: terr.capacity,
            accounts_before: cb[t],
            accounts_after: sol.state.counts[t],
            potential_before: pb[t],
            potential_after: pa[t],
            workload_before: wb[t],
            workload_after: wa[t],
        });
    }
    let mut moves = Vec::new();
    for (a, kind) in sol.kind.iter().enumerate() {
        let Some(kind) = *kind else { continue };
        let acc = &p.accounts[a];
        let to = sol.assign[a];
        let (objective_change, reason) = match kind {
            MoveKind::Optional => {
                let (d, r) = optional_reason(p, &sol.state, a, sol.objective_before);
                (Some(d), r)
            }
            MoveKind::Removed => (
                None,
                format!(
                    "territory {} is removed (forced, outside the budget); placed where balance suffers least",
                    p.territories[acc.territory].name
                ),
            ),
            MoveKind::Fixed => (None, "fixed move from fixed_moves (forced, outside the budget)".into()),
        };
        moves.push(MoveRow {
            account: acc.id.clone(),
            from_territory: p.territories[acc.territory].name.clone(),
            to_territory: p.territories[to].name.clone(),
            potential: acc.potential,
            workload: acc.workload,
            kind,
            objective_change,
            reason,
        });
    }
    let assignments = p
        .accounts
        .iter()
        .zip(&sol.assign)
        .map(|(acc, &t)| AssignmentRow {
            account: acc.id.clone(),
            territory: p.territories[t].name.clone(),
            rep: p.territories[t].rep.clone(),
        })
        .collect();
    let measures: Vec<MeasureBalance> = [Measure::Potential, Measure::Workload]
        .into_iter()
        .map(|m| balance(p, &sol.assign, m))
        .collect();
    let pot = &measures[0];
    TerritoriesSection {
        method: METHOD.into(),
        balance: p.settings.balance.clone(),
        budget_accounts: p.settings.max_moves,
        max_moved_potential: p.settings.max_moved_potential,
        objective_before: sol.objective_before,
        objective_after: sol.objective_after,
        cv_before: pot.cv_before,
        cv_after: pot.cv_after,
        max_min_before: pot.max_min_before,
        max_min_after: pot.max_min_after,
        moved: sol.count(MoveKind::Optional),
        forced_moves: sol.count(MoveKind::Fixed) + sol.count(MoveKind::Removed),
        potential_moved: moves
            .iter()
            .filter(|m| m.kind == MoveKind::Optional)
            .map(|m| m.potential)
            .sum(),
        measures,
        rows,
        moves,
        assignments,
        frontier,
        map: account_map(p, sol),
    }
}
