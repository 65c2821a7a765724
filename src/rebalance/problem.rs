//! The rebalancing problem as plain numbers: accounts (potential, workload,
//! coordinates, lock, current territory), territories (region, capacity,
//! added or removed) and the settings that constrain a solution.
//!
//! Building a [`Problem`] from a loaded history and the checked
//! `[territories]` section happens here, once; the optimiser never looks at
//! the scenario or the history. No I/O.

use crate::error::{Error, Result};
use crate::history::SalesHistory;
use crate::scenario::{Capacity, TerritoriesSpec};

/// A territory total that can be balanced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    Potential,
    Workload,
}

impl Measure {
    /// The name used in scenario files and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Potential => "potential",
            Self::Workload => "workload",
        }
    }
}

/// One account to place.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountIn {
    pub id: String,
    /// Current territory (index into `Problem::territories`).
    pub territory: usize,
    pub potential: f64,
    pub workload: f64,
    /// (lat, lon) in degrees.
    pub coords: Option<(f64, f64)>,
    pub locked: bool,
}

/// One territory, existing, added or removed.
#[derive(Debug, Clone, PartialEq)]
pub struct TerritoryIn {
    pub name: String,
    pub region: String,
    /// Relative capacity (reps' FTE, or 1); targets are proportional to it.
    pub capacity: f64,
    /// The rep named in `assignments.csv` (first rep of the territory).
    pub rep: Option<String>,
    pub added: bool,
    pub removed: bool,
}

/// What constrains and weighs a solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Balanced measures and their weights (weights > 0).
    pub balance: Vec<(Measure, f64)>,
    /// At most this many optional moves.
    pub max_moves: usize,
    /// At most this share of total potential moved by optional moves.
    pub max_moved_potential: Option<f64>,
    /// Locked accounts never move by choice.
    pub keep_locked: bool,
    /// The `pin_largest` accounts by potential never move by choice.
    pub pin_largest: usize,
    /// Weight of the compactness penalty (0 = off or no coordinates).
    pub compactness: f64,
    pub stay_in_region: bool,
    pub max_accounts: Option<usize>,
    /// Manual moves (account, territory), applied first and never undone.
    pub fixed_moves: Vec<(usize, usize)>,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            balance: vec![(Measure::Potential, 1.0), (Measure::Workload, 0.5)],
            max_moves: 0,
            max_moved_potential: None,
            keep_locked: true,
            pin_largest: 0,
            compactness: 0.0,
            stay_in_region: false,
            max_accounts: None,
            fixed_moves: Vec::new(),
            seed: 1,
        }
    }
}

/// Accounts, territories and settings: everything the optimiser reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub accounts: Vec<AccountIn>,
    pub territories: Vec<TerritoryIn>,
    pub settings: Settings,
}

impl Problem {
    /// Value of `measure` for account `a`.
    pub fn value(&self, a: usize, measure: Measure) -> f64 {
        let acc = &self.accounts[a];
        match measure {
            Measure::Potential => acc.potential,
            Measure::Workload => acc.workload,
        }
    }

    /// Indices of the territories that exist after the change (not removed).
    pub fn active(&self) -> Vec<usize> {
        (0..self.territories.len())
            .filter(|&t| !self.territories[t].removed)
            .collect()
    }

    /// Indices of the territories that existed before the change (not added).
    pub fn existing(&self) -> Vec<usize> {
        (0..self.territories.len())
            .filter(|&t| !self.territories[t].added)
            .collect()
    }

    /// What the settings do that a user would not see in the moves: a
    /// `max_accounts` that every territory already reaches (no account
    /// can move into any), and, with `stay_in_region`, a region whose
    /// every territory is removed (its accounts must leave it).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let active = self.active();
        if let Some(max) = self.settings.max_accounts {
            let mut counts = vec![0usize; self.territories.len()];
            for a in &self.accounts {
                counts[a.territory] += 1;
            }
            let fewest = active.iter().map(|&t| (counts[t], t)).min();
            if let Some((count, t)) = fewest.filter(|&(count, _)| count >= max) {
                warnings.push(format!(
                    "territories.max_accounts = {max}: every territory already holds at least {max} accounts (the fewest, '{}', {count}), so no account can move into any; raise it or leave it out",
                    self.territories[t].name
                ));
            }
        }
        if self.settings.stay_in_region {
            let mut regions: Vec<&str> = self
                .territories
                .iter()
                .filter(|t| t.removed)
                .map(|t| t.region.as_str())
                .collect();
            regions.sort_unstable();
            regions.dedup();
            for region in regions {
                if active.iter().any(|&t| self.territories[t].region == region) {
                    continue;
                }
                let removed: Vec<usize> = (0..self.territories.len())
                    .filter(|&t| {
                        self.territories[t].removed && self.territories[t].region == region
                    })
                    .collect();
                let accounts = self
                    .accounts
                    .iter()
                    .filter(|a| removed.contains(&a.territory))
                    .count();
                let names: Vec<String> = removed
                    .iter()
                    .map(|&t| format!("'{}'", self.territories[t].name))
                    .collect();
                warnings.push(format!(
                    "territories.stay_in_region: region '{region}' has no territory left after removing {}, so its {} move to other regions",
                    names.join(", "),
                    crate::format::count(accounts, "account", "accounts")
                ));
            }
        }
        warnings
    }

    /// The same problem with another optional-move budget.
    pub fn with_budget(&self, max_moves: usize) -> Problem {
        let mut p = self.clone();
        p.settings.max_moves = max_moves;
        p
    }

    /// A seeded synthetic problem for tests and benchmarks: `n` accounts
    /// over `k` territories in `regions` regions, skewed so that low-index
    /// territories hold more accounts, lognormal-like potentials, workloads
    /// from 1 to 5, coordinates in a 5 x 5 degree box, 10% of accounts locked.
    pub fn synthetic(n: usize, k: usize, regions: usize, seed: u64) -> Problem {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let territories = (0..k)
            .map(|t| TerritoryIn {
                name: format!("T-{t}"),
                region: format!("R-{}", t % regions.max(1)),
                capacity: 1.0,
                rep: Some(format!("rep-{t}")),
                added: false,
                removed: false,
            })
            .collect();
        let accounts = (0..n)
            .map(|a| {
                let t = (rng.random::<f64>().powi(2) * k as f64) as usize % k.max(1);
                let potential = (rng.random::<f64>() * 3.0).exp() * 1000.0;
                AccountIn {
                    id: format!("A-{a}"),
                    territory: t,
                    potential,
                    workload: 1.0 + rng.random::<f64>() * 4.0,
                    coords: Some((
                        40.0 + rng.random::<f64>() * 5.0,
                        -100.0 + rng.random::<f64>() * 5.0,
                    )),
                    locked: rng.random::<f64>() < 0.1,
                }
            })
            .collect();
        Problem {
            accounts,
            territories,
            settings: Settings {
                seed,
                ..Settings::default()
            },
        }
    }

    /// Build the problem from a loaded history and the checked section.
    /// `fixed_moves` are (account id, territory name) pairs with where each
    /// is in its file ("line 7", or a workbook's "row 7"), already read by
    /// the loader.
    ///
    /// Potential: the accounts' potential column, else their average annual
    /// revenue over the history (not last year's alone: customers who buy a
    /// few times a year would get a potential of 0 after a quiet year). Workload: the column,
    /// else `0.5 + 0.5 x potential / mean potential` (half a fixed effort per
    /// account, half proportional to its size), so that balancing workload
    /// balances both the number and the size of accounts.
    ///
    /// # Errors
    /// `Error::Scenario` (key `territories.remove`, `.add`, `.fixed_moves`)
    /// for names the data does not know; `Error::Infeasible` when there are
    /// no accounts.
    pub fn from_history(
        history: &SalesHistory,
        spec: &TerritoriesSpec,
        fixed_moves: &[(String, String, String)],
        seed: u64,
    ) -> Result<Problem> {
        let scenario_err = |key: &str, msg: String| Error::scenario(&spec.scenario_path, key, msg);
        if history.accounts.is_empty() {
            return Err(Error::Infeasible(
                "[territories] needs accounts: map an account column in the sales table or give an accounts table".into(),
            ));
        }
        let mut territories: Vec<TerritoryIn> = history
            .territories
            .iter()
            .enumerate()
            .map(|(t, terr)| {
                let reps: Vec<&crate::history::Rep> =
                    history.reps.iter().filter(|r| r.territory == t).collect();
                let fte: f64 = reps.iter().map(|r| r.fte).sum();
                TerritoryIn {
                    name: terr.name.clone(),
                    region: terr.region.clone(),
                    capacity: match spec.capacity {
                        Capacity::Reps if fte > 0.0 => fte,
                        _ => 1.0,
                    },
                    rep: reps.first().map(|r| r.id.clone()),
                    added: false,
                    removed: false,
                }
            })
            .collect();
        for (i, name) in spec.remove.iter().enumerate() {
            let t = territories
                .iter()
                .position(|t| &t.name == name)
                .ok_or_else(|| {
                    scenario_err(
                        &format!("territories.remove[{i}]"),
                        format!("found '{name}', which is not a territory in the data"),
                    )
                })?;
            territories[t].removed = true;
        }
        for (i, add) in spec.add.iter().enumerate() {
            if territories.iter().any(|t| t.name == add.name) {
                return Err(scenario_err(
                    &format!("territories.add[{i}].name"),
                    format!("found '{}', which is already a territory", add.name),
                ));
            }
            let region = add.region.clone().unwrap_or_else(|| {
                history
                    .territories
                    .first()
                    .map(|t| t.region.clone())
                    .unwrap_or_default()
            });
            territories.push(TerritoryIn {
                name: add.name.clone(),
                region,
                capacity: add.capacity,
                rep: None,
                added: true,
                removed: false,
            });
        }
        if territories.iter().all(|t| t.removed) {
            return Err(scenario_err(
                "territories.remove",
                "every territory would be removed; keep or add at least one".into(),
            ));
        }
        let years = (history.n_periods() as f64 / history.calendar.kind.per_year() as f64).max(1.0);
        let potential: Vec<f64> = history
            .accounts
            .iter()
            .map(|a| a.potential.unwrap_or(a.revenue_total / years).max(0.0))
            .collect();
        let mean_potential = potential.iter().sum::<f64>() / potential.len() as f64;
        let accounts: Vec<AccountIn> = history
            .accounts
            .iter()
            .zip(&potential)
            .map(|(a, &p)| AccountIn {
                id: a.id.clone(),
                territory: a.territory,
                potential: p,
                workload: a
                    .workload
                    .unwrap_or_else(|| {
                        if mean_potential > 0.0 {
                            0.5 + 0.5 * p / mean_potential
                        } else {
                            1.0
                        }
                    })
                    .max(0.0),
                coords: a.lat.zip(a.lon),
                locked: a.locked,
            })
            .collect();
        let index: std::collections::HashMap<&str, usize> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let mut fixed = Vec::new();
        for (id, territory, line) in fixed_moves {
            let a = *index.get(id.as_str()).ok_or_else(|| {
                scenario_err(
                    "territories.fixed_moves",
                    format!("{line}: account '{id}' is not in the data"),
                )
            })?;
            let t = territories
                .iter()
                .position(|x| &x.name == territory && !x.removed)
                .ok_or_else(|| {
                    scenario_err(
                        "territories.fixed_moves",
                        format!(
                            "{line}: territory '{territory}' is not a territory after the change"
                        ),
                    )
                })?;
            fixed.push((a, t));
        }
        let n = accounts.len();
        let settings = Settings {
            balance: spec.balance.clone(),
            max_moves: spec.max_moved.resolve(n),
            max_moved_potential: spec.max_moved_potential,
            keep_locked: spec.keep_locked,
            pin_largest: spec.pin_largest,
            compactness: spec.compactness,
            stay_in_region: spec.stay_in_region,
            max_accounts: spec.max_accounts,
            fixed_moves: fixed,
            seed,
        };
        Ok(Problem {
            accounts,
            territories,
            settings,
        })
    }
}
