//! Simulated paths of the new territories: `new_totals = W x old_totals`,
//! where `W[new, old]` is the share of the old territory's potential that
//! now sits in the new one (by account count where an old territory has no
//! potential; an empty territory keeps its paths, or, if removed, spreads
//! them evenly over its region's remaining territories). Every column of W
//! sums to 1, so each trial's company total is unchanged. No I/O.

use ndarray::Array2;

use super::problem::Problem;

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
