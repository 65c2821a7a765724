//! The optimiser: forced moves first, then a budgeted greedy descent with
//! decreasing thresholds, then an exchange local search.
//!
//! 1. Fixed moves (from `fixed_moves`) are applied and frozen. Accounts of
//!    removed territories are placed, largest potential first, where they
//!    raise the objective least (in their region with `stay_in_region`, if
//!    the region keeps a territory). Neither counts against the budget.
//! 2. Greedy descent: passes over the movable accounts in index order; a
//!    pass applies every account's best move whose improvement is at least
//!    the threshold `tau`, then `tau` halves. Starting from the largest
//!    single-move improvement this approximates best-improvement greedy
//!    (each accepted move is within a factor 2 of the best available) at a
//!    cost of one scan per halving instead of one per move. A move out of an
//!    account's home territory uses one unit of budget; moving it again or
//!    back home is free (back home returns the unit).
//! 3. Exchange: for each account moved by choice, undo its move and apply
//!    the best move among a set of candidate accounts if the pair together
//!    improves the objective; this escapes the greedy's early commitments
//!    once the budget binds. Candidates are all accounts on small problems
//!    and a seeded sample (Xoshiro256++) of a size fixed by the problem size
//!    on large ones, so the result depends on the seed only, never on timing
//!    or threads.
//!
//! Every accepted step lowers the objective, so without added or removed
//! territories and fixed moves the result is never worse than the start.
//! Pure computation. The scans that find each account's best move run in
//! parallel as a pure map against a fixed state; moves are then applied in
//! account order, so the result never depends on the thread count.

use rand::RngExt;
use rayon::prelude::*;

use super::objective::State;
use super::problem::Problem;
use crate::error::{Error, Result};
use crate::rng::{stream_id, stream_rng};

/// Why an account changed territory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MoveKind {
    /// A manual move from `fixed_moves`.
    Fixed,
    /// Its territory was removed.
    #[serde(rename = "removed-territory")]
    Removed,
    /// Chosen by the optimiser, within the budget.
    Optional,
}

impl MoveKind {
    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fixed => "fixed",
            Self::Removed => "removed-territory",
            Self::Optional => "optional",
        }
    }
}

/// The optimiser's result.
#[derive(Debug, Clone)]
pub struct Solution {
    /// New territory of each account.
    pub assign: Vec<usize>,
    /// Why each account moved; `None` if it stayed.
    pub kind: Vec<Option<MoveKind>>,
    /// Objective of the starting assignment over the existing territories.
    pub objective_before: f64,
    /// Objective of the new assignment over the active territories.
    pub objective_after: f64,
    /// The state of the new assignment (for explanations).
    pub state: State,
}

impl Solution {
    /// Number of moves of `kind`.
    pub fn count(&self, kind: MoveKind) -> usize {
        self.kind.iter().filter(|k| **k == Some(kind)).count()
    }
}

/// Evaluations (account x territory) the exchange phase may spend.
const EXCHANGE_EVALS: usize = 200_000_000;

struct Search<'a> {
    p: &'a Problem,
    state: State,
    home: Vec<usize>,
    movable: Vec<bool>,
    /// Destinations per region index (or one list for all).
    dests: Vec<Vec<usize>>,
    /// Index into `dests` for each account.
    dest_of: Vec<usize>,
    away: usize,
    moved_potential: f64,
    max_potential: f64,
}

impl Search<'_> {
    fn at_home(&self, a: usize) -> bool {
        self.state.assign[a] == self.home[a]
    }

    fn budget_left(&self, a: usize) -> bool {
        self.away < self.p.settings.max_moves
            && self.moved_potential + self.p.accounts[a].potential <= self.max_potential
    }

    fn room(&self, t: usize) -> bool {
        self.p
            .settings
            .max_accounts
            .is_none_or(|m| self.state.counts[t] < m)
    }

    /// Best move of account `a`: (territory, change in objective).
    fn best_move(&self, a: usize) -> Option<(usize, f64)> {
        if !self.movable[a] {
            return None;
        }
        let home = self.at_home(a);
        if home && !self.budget_left(a) {
            // Only a move back home would be free, and it is home already.
            return None;
        }
        let cur = self.state.assign[a];
        let rem = self.state.remove_delta(a);
        let mut best: Option<(usize, f64)> = None;
        for &t in &self.dests[self.dest_of[a]] {
            if t == cur || !self.room(t) {
                continue;
            }
            let d = rem + self.state.add_delta(a, t);
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((t, d));
            }
        }
        best
    }

    fn apply(&mut self, a: usize, t: usize) {
        let pot = self.p.accounts[a].potential;
        let was_home = self.at_home(a);
        self.state.apply(a, t);
        let now_home = self.at_home(a);
        if was_home && !now_home {
            self.away += 1;
            self.moved_potential += pot;
        } else if !was_home && now_home {
            self.away -= 1;
            self.moved_potential -= pot;
        }
    }

    fn greedy(&mut self, stop: f64) {
        let n = self.p.accounts.len();
        let mut candidates: Vec<usize> = (0..n).collect();
        let mut tau = self.scan(&candidates).into_iter().fold(0.0, f64::max);
        while tau > stop {
            // Accounts whose best move (against the state at the start of
            // the pass) reaches tau; each is re-evaluated before it moves.
            let gains = self.scan(&candidates);
            let pass: Vec<usize> = candidates
                .iter()
                .zip(&gains)
                .filter(|(_, &g)| g >= tau)
                .map(|(&a, _)| a)
                .collect();
            for a in pass {
                if let Some((t, d)) = self.best_move(a) {
                    if -d >= tau {
                        self.apply(a, t);
                    }
                }
            }
            // While the budget is spent only moved accounts can move.
            candidates = if self.away >= self.p.settings.max_moves {
                (0..n).filter(|&a| !self.at_home(a)).collect()
            } else {
                (0..n).collect()
            };
            tau *= 0.5;
        }
    }

    /// Improvement of each account's best move against the current state,
    /// computed in parallel (a pure map: the result does not depend on the
    /// thread count).
    fn scan(&self, accounts: &[usize]) -> Vec<f64> {
        accounts
            .par_iter()
            .with_min_len(1024)
            .map(|&a| self.best_move(a).map_or(f64::NEG_INFINITY, |(_, d)| -d))
            .collect()
    }

    fn exchange(&mut self, stop: f64) {
        let n = self.p.accounts.len();
        let k = self.dests.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let movable: Vec<usize> = (0..n).filter(|&a| self.movable[a]).collect();
        let mut rng = stream_rng(self.p.settings.seed, stream_id("rebalance"), 0);
        for _round in 0..4 {
            let moved: Vec<usize> = (0..n)
                .filter(|&a| self.movable[a] && !self.at_home(a))
                .collect();
            if moved.is_empty() || movable.len() < 2 {
                return;
            }
            let per = (EXCHANGE_EVALS / (moved.len() * k * 4)).max(16);
            let mut improved = false;
            for &a in &moved {
                if self.at_home(a) || !self.room(self.home[a]) {
                    continue;
                }
                let from = self.state.assign[a];
                let undo = self.state.move_delta(a, self.home[a]);
                self.apply(a, self.home[a]);
                let mut best: Option<(usize, usize, f64)> = None;
                let mut consider = |s: &Self, c: usize| {
                    if c == a {
                        return;
                    }
                    if let Some((t, d)) = s.best_move(c) {
                        if best.is_none_or(|(_, _, b)| d < b) {
                            best = Some((c, t, d));
                        }
                    }
                };
                if movable.len() <= per {
                    for &c in &movable {
                        consider(self, c);
                    }
                } else {
                    for _ in 0..per {
                        let c = movable[rng.random_range(0..movable.len())];
                        consider(self, c);
                    }
                }
                match best {
                    Some((c, t, d)) if undo + d < -stop => {
                        self.apply(c, t);
                        improved = true;
                    }
                    _ => self.apply(a, from),
                }
            }
            if !improved {
                return;
            }
            self.greedy(stop);
        }
    }
}

/// Rebalance `p`: the new assignment and why each account moved.
///
/// # Errors
/// `Error::Infeasible` when accounts of a removed territory cannot be
/// placed (every territory they may go to is at `max_accounts`).
pub fn optimise(p: &Problem) -> Result<Solution> {
    let n = p.accounts.len();
    let n_t = p.territories.len();
    let s = &p.settings;
    let home: Vec<usize> = p.accounts.iter().map(|a| a.territory).collect();
    let before = State::new(p, home.clone(), &p.existing()).objective();
    let active = p.active();
    let mut state = State::new(p, home.clone(), &active);

    // Destinations: active territories of the account's region, or all.
    let mut regions: Vec<&str> = Vec::new();
    let region_of: Vec<usize> = p
        .territories
        .iter()
        .map(|t| match regions.iter().position(|r| *r == t.region) {
            Some(i) => i,
            None => {
                regions.push(&t.region);
                regions.len() - 1
            }
        })
        .collect();
    let mut dests: Vec<Vec<usize>> = vec![Vec::new(); regions.len() + 1];
    for &t in &active {
        dests[region_of[t]].push(t);
        dests[regions.len()].push(t);
    }
    let all = regions.len();
    let dest_of: Vec<usize> = home
        .iter()
        .map(|&t| {
            if s.stay_in_region && !dests[region_of[t]].is_empty() {
                region_of[t]
            } else {
                all
            }
        })
        .collect();

    let mut kind: Vec<Option<MoveKind>> = vec![None; n];
    let mut movable: Vec<bool> = p
        .accounts
        .iter()
        .map(|a| !(p.territories[a.territory].removed || s.keep_locked && a.locked))
        .collect();
    if s.pin_largest > 0 {
        let mut by_size: Vec<usize> = (0..n).collect();
        by_size.sort_by(|&x, &y| {
            p.accounts[y]
                .potential
                .total_cmp(&p.accounts[x].potential)
                .then(x.cmp(&y))
        });
        for &a in by_size.iter().take(s.pin_largest) {
            movable[a] = false;
        }
    }
    for &(a, t) in &s.fixed_moves {
        state.apply(a, t);
        movable[a] = false;
        kind[a] = (t != home[a]).then_some(MoveKind::Fixed);
    }
    // Accounts of removed territories, largest first.
    let mut orphans: Vec<usize> = (0..n)
        .filter(|&a| p.territories[state.assign[a]].removed)
        .collect();
    orphans.sort_by(|&x, &y| {
        p.accounts[y]
            .potential
            .total_cmp(&p.accounts[x].potential)
            .then(x.cmp(&y))
    });
    for a in orphans {
        let room = |t: usize, st: &State| s.max_accounts.is_none_or(|m| st.counts[t] < m);
        let cheapest = |list: &[usize], st: &State| {
            list.iter()
                .filter(|&&t| room(t, st))
                .map(|&t| (t, st.add_delta(a, t)))
                .fold(None::<(usize, f64)>, |b, (t, d)| match b {
                    Some((_, bd)) if bd <= d => b,
                    _ => Some((t, d)),
                })
        };
        // In the account's own region first (with stay_in_region), anywhere
        // only if every territory there is full.
        let best = cheapest(&dests[dest_of[a]], &state).or_else(|| cheapest(&dests[all], &state));
        let (t, _) = best.ok_or_else(|| {
            Error::Infeasible(format!(
                "account '{}' of removed territory '{}' cannot be placed: every territory it may move to holds max_accounts = {} accounts",
                p.accounts[a].id,
                p.territories[home[a]].name,
                s.max_accounts.unwrap_or(0)
            ))
        })?;
        state.apply(a, t);
        movable[a] = false;
        kind[a] = Some(MoveKind::Removed);
    }
    let total_potential: f64 = p.accounts.iter().map(|a| a.potential).sum();
    let mut search = Search {
        p,
        state,
        home: home.clone(),
        movable,
        dests,
        dest_of,
        away: 0,
        moved_potential: 0.0,
        max_potential: s.max_moved_potential.map_or(f64::INFINITY, |share| {
            share * total_potential * (1.0 + 1e-12)
        }),
    };
    let start = search.state.objective();
    let stop = 1e-10 * start.max(f64::MIN_POSITIVE);
    if s.max_moves > 0 && start > 0.0 && n_t > 1 {
        search.greedy(stop);
        search.exchange(stop);
    }
    let state = search.state;
    for a in 0..n {
        if kind[a].is_none() && state.assign[a] != home[a] {
            kind[a] = Some(MoveKind::Optional);
        }
    }
    Ok(Solution {
        assign: state.assign.clone(),
        kind,
        objective_before: before,
        objective_after: state.objective(),
        state,
    })
}
