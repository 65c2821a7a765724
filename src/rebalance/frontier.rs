//! Balance versus disruption: the optimiser run over several budgets
//! (0%, 2%, 5%, 10%, 20% of accounts), so a manager chooses the point.
//! Budgets run in parallel; each run is deterministic on its own, and the
//! points are collected in budget order, so the result does not depend on
//! the thread count. No I/O.

use rayon::prelude::*;

use super::explain::{frontier_point, FrontierPoint};
use super::problem::Problem;
use super::search::optimise;
use crate::error::Result;

/// The budgets (shares of accounts) the frontier runs.
pub const FRONTIER_SHARES: [f64; 5] = [0.0, 0.02, 0.05, 0.10, 0.20];

/// One frontier point per share in `shares`.
///
/// # Errors
/// As [`optimise`].
pub fn frontier(p: &Problem, shares: &[f64]) -> Result<Vec<FrontierPoint>> {
    let n = p.accounts.len();
    shares
        .par_iter()
        .map(|&share| {
            let budget = (share * n as f64).floor() as usize;
            let q = p.with_budget(budget);
            optimise(&q).map(|sol| frontier_point(&q, &sol, share))
        })
        .collect()
}
