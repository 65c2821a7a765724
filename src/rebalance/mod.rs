//! Territory rebalancing: reassign accounts so territories are balanced in
//! potential and workload under a disruption budget, and explain each move.
//!
//! `problem` turns a loaded history and the `[territories]` section into
//! numbers; `objective` defines and evaluates the weighted objective;
//! `search` optimises it; `explain` builds the report section with a reason
//! per move; `frontier` runs several budgets; `paths` carries simulated
//! paths over to the new territories for quotas. Pure: no I/O, no polars.

pub mod explain;
pub mod frontier;
pub mod objective;
pub mod paths;
pub mod problem;
pub mod search;

pub use explain::{section, FrontierPoint, TerritoriesSection};
pub use frontier::{frontier, FRONTIER_SHARES};
pub use problem::{AccountIn, Measure, Problem, Settings, TerritoryIn};
pub use search::{optimise, MoveKind, Solution};

use crate::error::Result;

/// Optimise `p` and build its report section; with `with_frontier`, also
/// run the frontier budgets.
///
/// # Errors
/// As [`optimise`].
pub fn rebalance(p: &Problem, with_frontier: bool) -> Result<(Solution, TerritoriesSection)> {
    let sol = optimise(p)?;
    let points = if with_frontier {
        Some(frontier(p, &FRONTIER_SHARES)?)
    } else {
        None
    };
    let section = section(p, &sol, points);
    Ok((sol, section))
}

#[cfg(test)]
mod tests;
