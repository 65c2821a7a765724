//! Simulated paths of the new territories: `new_totals = W x old_totals`,
//! where `W[new, old]` is the share of the old territory's potential that
//! now sits in the new one (by account count where an old territory has no
//! potential; an empty territory keeps its paths, or, if removed, spreads
//! them evenly over its region's remaining territories). Every column of W
//! sums to 1, so each trial's company total is unchanged. [`rebalanced_view`]
//! applies W to everything the later stages (quota, comp) read. No I/O.

use ndarray::{Array2, Array3, Axis};

use super::problem::Problem;
use crate::history::{Rep, SalesHistory, Territory};
use crate::sim::{SeriesSummary, SimResults, Summary};

/// `W` for the assignment `assign`: rows are the active territories in
/// index order ([`Problem::active`]), columns the existing ones
/// (`0..existing`, the history's territories).
pub fn transfer_matrix(p: &Problem, assign: &[usize]) -> Array2<f64> {
    let active = p.active();
    let existing = p.existing().len();
    let row_of = |t: usize| active.iter().position(|&x| x == t);
    let mut w = Array2::<f64>::zeros((active.len(), existing));
    let mut pot = vec![0.0; existing];
    let mut count = vec![0usize; existing];
    for acc in &p.accounts {
        pot[acc.territory] += acc.potential;
        count[acc.territory] += 1;
    }
    for (a, acc) in p.accounts.iter().enumerate() {
        let o = acc.territory;
        let share = if pot[o] > 0.0 {
            acc.potential / pot[o]
        } else {
            1.0 / count[o] as f64
        };
        if let Some(r) = row_of(assign[a]) {
            w[[r, o]] += share;
        }
    }
    for o in 0..existing {
        if count[o] > 0 {
            continue;
        }
        if let Some(r) = row_of(o) {
            w[[r, o]] = 1.0;
        } else {
            let region = &p.territories[o].region;
            let mut rows: Vec<usize> = active
                .iter()
                .enumerate()
                .filter(|(_, &t)| &p.territories[t].region == region)
                .map(|(r, _)| r)
                .collect();
            if rows.is_empty() {
                rows = (0..active.len()).collect();
            }
            let share = 1.0 / rows.len() as f64;
            for r in rows {
                w[[r, o]] = share;
            }
        }
    }
    w
}

/// Re-aggregate `[old territory, trial]` totals through `w`.
pub fn reaggregate(w: &Array2<f64>, old: &Array2<f32>) -> Array2<f32> {
    let old64 = old.mapv(f64::from);
    w.dot(&old64).mapv(|x| x as f32)
}

/// Re-aggregate one value per old territory (last year's revenue, say).
pub fn reaggregate_values(w: &Array2<f64>, old: &[f64]) -> Vec<f64> {
    w.rows()
        .into_iter()
        .map(|row| row.iter().zip(old).map(|(a, b)| a * b).sum())
        .collect()
}

/// The history and simulation as the stages after rebalancing see them:
/// the active territories (kept ones in order, then added ones), accounts
/// in their new territories, reps of removed territories gone (the rep
/// left and is not backfilled), and every per-territory series carried
/// over through `W` (see [`transfer_matrix`]): revenue history, horizon and
/// quarter totals per trial, and the mean paths (exact, as means are
/// linear; the per-period quantiles of a carried-over territory are the
/// W-weighted quantiles, an approximation no later stage reads). The last
/// quota of a new territory is the W-weighted sum where every contributing
/// territory has one.
pub fn rebalanced_view(
    problem: &Problem,
    assign: &[usize],
    history: &SalesHistory,
    sim: &SimResults,
) -> (SalesHistory, SimResults) {
    let w = transfer_matrix(problem, assign);
    let active = problem.active();
    let new_index = |old: usize| active.iter().position(|&t| t == old);
    // Where an old territory's other rows (pipeline) go: its largest share.
    let heir: Vec<usize> = (0..w.ncols())
        .map(|o| {
            let col = w.column(o);
            (0..col.len()).fold(0, |best, r| if col[r] > col[best] { r } else { best })
        })
        .collect();
    let mut h = history.clone();
    h.territories = active
        .iter()
        .map(|&t| Territory {
            name: problem.territories[t].name.clone(),
            region: problem.territories[t].region.clone(),
        })
        .collect();
    let n_periods = history.n_periods();
    h.revenue = (0..active.len())
        .map(|r| {
            (0..n_periods)
                .map(|p| {
                    (0..w.ncols())
                        .map(|o| w[[r, o]] * history.revenue[o][p])
                        .sum()
                })
                .collect()
        })
        .collect();
    h.deal_counts = None;
    h.deal_sizes = None;
    h.deal_periods = None;
    for (acc, &t) in h.accounts.iter_mut().zip(assign) {
        acc.territory = new_index(t).unwrap_or(0);
    }
    h.reps = history
        .reps
        .iter()
        .filter_map(|r| {
            new_index(r.territory).map(|t| Rep {
                territory: t,
                ..r.clone()
            })
        })
        .collect();
    for o in &mut h.pipeline {
        o.territory = heir[o.territory];
    }
    h.quotas = (0..active.len())
        .filter_map(|r| {
            (0..w.ncols())
                .filter(|&o| w[[r, o]] > 0.0)
                .try_fold(0.0, |acc, o| {
                    history.quotas.get(&o).map(|q| acc + w[[r, o]] * q)
                })
                .map(|q| (r, q))
        })
        .collect();
    // Floors, caps and locks stay with a territory whose accounts did not
    // change (it is the same territory); a changed territory's old limits
    // no longer describe it and are dropped.
    h.quota_limits = (0..active.len())
        .filter_map(|r| {
            let sources: Vec<usize> = (0..w.ncols()).filter(|&o| w[[r, o]] > 0.0).collect();
            match sources.as_slice() {
                [o] if (w[[r, *o]] - 1.0).abs() < 1e-12
                    && (0..w.nrows()).all(|k| k == r || w[[k, *o]] == 0.0) =>
                {
                    history.quota_limits.get(o).map(|l| (r, *l))
                }
                _ => None,
            }
        })
        .collect();
    let mut out = sim.clone();
    out.territory_totals = sim.territory_totals.as_ref().map(|t| reaggregate(&w, t));
    out.territory_quarter_totals = sim.territory_quarter_totals.as_ref().map(|q| {
        let mut new = Array3::<f32>::zeros((active.len(), q.shape()[1], q.shape()[2]));
        for k in 0..q.shape()[1] {
            let old = q.index_axis(Axis(1), k).to_owned();
            new.index_axis_mut(Axis(1), k)
                .assign(&reaggregate(&w, &old));
        }
        new
    });
    let mix = |parts: &[(f64, &Summary)]| Summary {
        mean: parts.iter().map(|(w, s)| w * s.mean).sum(),
        quantiles: (0..parts.first().map_or(0, |(_, s)| s.quantiles.len()))
            .map(|i| parts.iter().map(|(w, s)| w * s.quantiles[i]).sum())
            .collect(),
    };
    out.territories = (0..active.len())
        .map(|r| {
            let parts: Vec<(f64, &SeriesSummary)> = (0..w.ncols())
                .filter(|&o| w[[r, o]] > 0.0)
                .map(|o| (w[[r, o]], &sim.territories[o]))
                .collect();
            let periods = (0..sim.territories.first().map_or(0, |t| t.periods.len()))
                .map(|p| {
                    let v: Vec<(f64, &Summary)> =
                        parts.iter().map(|(w, s)| (*w, &s.periods[p])).collect();
                    mix(&v)
                })
                .collect();
            let year: Vec<(f64, &Summary)> = parts.iter().map(|(w, s)| (*w, &s.year)).collect();
            SeriesSummary {
                name: h.territories[r].name.clone(),
                periods,
                year: mix(&year),
            }
        })
        .collect();
    (h, out)
}
