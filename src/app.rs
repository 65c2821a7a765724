//! Commands: wire the stages together for `run`, `validate`, `fit`,
//! `forecast`, `quota` and `rebalance`, build the report and write it
//! atomically.
//! The binary (`main.rs`) only parses arguments and calls these.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::capacity;
use crate::error::{Error, Result};
use crate::export;
use crate::fit::fit;
use crate::history::SalesHistory;
use crate::horizon::Horizon;
use crate::load;
use crate::model::FittedModels;
use crate::output::OutputDir;
use crate::quota::{set_quotas, QuotaInputs};
use crate::rebalance::{self, paths, Problem, Solution, TerritoriesSection};
use crate::report::{DataSummary, FitSection, ForecastSection, Meta, Report};
use crate::scenario::{Format, Scenario, TerritoriesSpec};
use crate::sim::{simulate_with_progress, SimResults, SimSpec};

/// Which stages a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Fit,
    Forecast,
    Quota,
    /// Every stage the scenario configures.
    Run,
}

/// Settings from the command line that override the scenario.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub out: Option<PathBuf>,
    pub seed: Option<u64>,
    pub trials: Option<usize>,
    pub formats: Option<Vec<Format>>,
    pub quiet: bool,
    /// Also run the balance-vs-disruption frontier when rebalancing.
    pub frontier: bool,
}

/// Read a scenario and apply command-line overrides.
///
/// # Errors
/// As [`Scenario::load`].
pub fn load_scenario(path: &Path, o: &Overrides) -> Result<Scenario> {
    let mut s = Scenario::load(path)?;
    if let Some(seed) = o.seed {
        s.seed = seed;
    }
    if let Some(t) = o.trials {
        if t == 0 {
            return Err(Error::Usage(
                "--trials: found 0, expected a positive number of trials".into(),
            ));
        }
        s.forecast.trials = t;
    }
    if let Some(f) = &o.formats {
        s.output.formats = f.clone();
    }
    Ok(s)
}

/// The output directory: `--out`, else `[output] dir`, else `out/<stem>`.
pub fn output_dir(s: &Scenario, o: &Overrides) -> PathBuf {
    o.out
        .clone()
        .or_else(|| s.output.dir.clone())
        .unwrap_or_else(|| PathBuf::from("out").join(s.stem()))
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Identification of a run of `s`.
///
/// # Errors
/// `Error::Io` if an input cannot be hashed.
pub fn meta(s: &Scenario) -> Result<Meta> {
    let mut inputs = BTreeMap::new();
    let scenario_dir = s.path.parent().unwrap_or(Path::new("."));
    let mut files = vec![&s.data.sales.path];
    if let Some(f) = s.territories.as_ref().and_then(|t| t.fixed_moves.as_ref()) {
        files.push(f);
    }
    for t in [
        &s.data.accounts,
        &s.data.reps,
        &s.data.pipeline,
        &s.data.quotas,
    ]
    .into_iter()
    .flatten()
    {
        files.push(&t.path);
    }
    for f in files {
        let key = f
            .strip_prefix(scenario_dir)
            .unwrap_or(f)
            .display()
            .to_string();
        inputs.insert(key, sha256_file(f)?);
    }
    let key = s
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    inputs.insert(key, sha256_file(&s.path)?);
    Ok(Meta {
        scenario: s.name.clone(),
        seed: s.seed,
        trials: s.forecast.trials,
        version: env!("CARGO_PKG_VERSION").to_string(),
        inputs,
        currency: s.currency.clone(),
        period: s.calendar.kind.name().to_string(),
    })
}

/// Actual revenue of each territory for the reported periods before the origin.
fn actuals(history: &SalesHistory, horizon: &Horizon) -> Vec<Vec<f64>> {
    let n_actual = horizon.actual_periods();
    history
        .revenue
        .iter()
        .map(|r| {
            (0..n_actual)
                .map(|p| {
                    let idx = horizon.start + p as i64 - history.first_period;
                    usize::try_from(idx)
                        .ok()
                        .and_then(|i| r.get(i))
                        .copied()
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .collect()
}

/// Revenue of each territory over the span of the horizon's length just before its start.
pub fn last_year_actuals(history: &SalesHistory, horizon: &Horizon) -> Vec<f64> {
    history
        .revenue
        .iter()
        .map(|r| {
            (1..=horizon.periods as i64)
                .filter_map(|k| {
                    let idx = horizon.start - k - history.first_period;
                    usize::try_from(idx).ok().and_then(|i| r.get(i))
                })
                .sum()
        })
        .collect()
}

/// The simulation settings of `s` for `history`.
pub fn sim_spec(
    s: &Scenario,
    history: &SalesHistory,
    horizon: Horizon,
    keep_totals: bool,
) -> SimSpec {
    let capacity = (!history.reps.is_empty()).then(|| {
        capacity::multipliers(
            &history.reps,
            history.territories.len(),
            &history.calendar,
            horizon.origin,
            horizon.simulated_periods(),
            history.calendar.kind.per_year(),
        )
    });
    SimSpec {
        seed: s.seed,
        trials: s.forecast.trials,
        quantiles: s.forecast.quantiles.clone(),
        horizon,
        adjustments: s.adjustments.clone(),
        capacity,
        actuals: actuals(history, &horizon),
        keep_totals,
    }
}

/// Fit and simulate: the shared core of every forecasting command.
pub struct Simulated {
    pub history: SalesHistory,
    pub horizon: Horizon,
    pub models: FittedModels,
    pub sim: Option<SimResults>,
    pub seconds: f64,
}

fn progress_bar(total: usize, quiet: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "simulating {bar:40} {pos}/{len} territories {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(250));
    Some(bar)
}

/// Load, fit and (for `stage >= Forecast`) simulate.
///
/// # Errors
/// Any load or scenario error.
pub fn simulate_scenario(s: &Scenario, stage: Stage, quiet: bool) -> Result<Simulated> {
    let history = load::load(s)?;
    let horizon = Horizon::resolve(s, &history)?;
    let models = fit(&history, history.n_periods(), &s.fit);
    let mut seconds = 0.0;
    let sim = if stage >= Stage::Forecast {
        let keep = s.quota.is_some() && stage >= Stage::Quota;
        let spec = sim_spec(s, &history, horizon, keep);
        let started = Instant::now();
        let bar = progress_bar(models.territories.len(), quiet);
        let result = simulate_with_progress(&models, &spec, &|done| {
            if let Some(b) = &bar {
                b.set_position(done as u64);
            }
        });
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        seconds = started.elapsed().as_secs_f64();
        Some(result)
    } else {
        None
    };
    Ok(Simulated {
        history,
        horizon,
        models,
        sim,
        seconds,
    })
}

/// Potential per territory: the accounts' potential where given, else the
/// forecast mean of the territory.
fn potentials(history: &SalesHistory, sim: &SimResults) -> Vec<f64> {
    let mut by_territory = vec![0.0; history.territories.len()];
    let mut has = vec![false; history.territories.len()];
    for a in &history.accounts {
        if let Some(p) = a.potential {
            by_territory[a.territory] += p;
            has[a.territory] = true;
        }
    }
    (0..by_territory.len())
        .map(|t| {
            if has[t] {
                by_territory[t]
            } else {
                sim.territories[t].year.mean
            }
        })
        .collect()
}

/// The quota stage's inputs, owned (re-aggregated after rebalancing).
struct QuotaOwned {
    names: Vec<String>,
    totals: ndarray::Array2<f32>,
    last_year: Vec<f64>,
    last_quota: Vec<Option<f64>>,
    potential: Vec<f64>,
}

impl QuotaOwned {
    /// Carry the old territories' figures over to the new ones through the
    /// potential-share matrix W (see `rebalance::paths`).
    fn rebalanced(
        problem: &Problem,
        sol: &Solution,
        totals: &ndarray::Array2<f32>,
        last_year: &[f64],
        last_quota: &[Option<f64>],
        potential: &[f64],
    ) -> Self {
        let w = paths::transfer_matrix(problem, &sol.assign);
        let last_quota = w
            .rows()
            .into_iter()
            .map(|row| {
                row.iter()
                    .zip(last_quota)
                    .filter(|(share, _)| **share > 0.0)
                    .try_fold(0.0, |acc, (share, q)| q.map(|q| acc + share * q))
            })
            .collect();
        QuotaOwned {
            names: problem
                .active()
                .iter()
                .map(|&t| problem.territories[t].name.clone())
                .collect(),
            totals: paths::reaggregate(&w, totals),
            last_year: paths::reaggregate_values(&w, last_year),
            last_quota,
            potential: paths::reaggregate_values(&w, potential),
        }
    }
}

/// Rebalance the territories of `history` as `spec` says (reading its
/// `fixed_moves` file, if any).
///
/// # Errors
/// A load error in the fixed-moves file, a scenario error for names the
/// data does not know, or an infeasible removal.
pub fn rebalance_stage(
    s: &Scenario,
    spec: &TerritoriesSpec,
    history: &SalesHistory,
    frontier: bool,
) -> Result<(Problem, Solution, TerritoriesSection)> {
    let fixed = match &spec.fixed_moves {
        Some(p) => load::load_fixed_moves(p, s.data.encoding)?,
        None => Vec::new(),
    };
    let problem = Problem::from_history(history, spec, &fixed, s.seed)?;
    let (sol, section) = rebalance::rebalance(&problem, frontier)?;
    Ok((problem, sol, section))
}

/// `salesplan rebalance`: load the data, rebalance the territories and
/// write `assignments.csv`, `territories.csv`, `moves.csv` (and
/// `frontier.csv`) with `summary.json`. No forecast is run.
///
/// # Errors
/// `Error::Scenario` without a `[territories]` section; as
/// [`rebalance_stage`]; nothing is written on error.
pub fn run_rebalance(path: &Path, o: &Overrides) -> Result<(Report, PathBuf)> {
    let s = load_scenario(path, o)?;
    let spec = s.territories.as_ref().ok_or_else(|| {
        Error::scenario(
            &s.path,
            "territories",
            "the rebalance command needs a [territories] section",
        )
    })?;
    let meta = meta(&s)?;
    let history = load::load(&s)?;
    let (_, _, section) = rebalance_stage(&s, spec, &history, o.frontier)?;
    let report = Report {
        meta,
        data: Some(DataSummary::of(&history)),
        fit: None,
        forecast: None,
        quota: None,
        territories: Some(section),
        backtest: None,
        warnings: history.report.warnings.clone(),
    };
    let dir = output_dir(&s, o);
    let out = OutputDir::create(&dir)?;
    export::write_all(&report, &out, &s.output.formats)?;
    let written = out.commit()?;
    Ok((report, written))
}

/// Run `stage` for the scenario at `path`, write the outputs, and return
/// the report and the directory written.
///
/// # Errors
/// Any load, scenario, infeasibility or I/O error; nothing is written then.
pub fn execute(stage: Stage, path: &Path, o: &Overrides) -> Result<(Report, PathBuf, f64)> {
    let s = load_scenario(path, o)?;
    let mut warnings: Vec<String> = Vec::new();
    for section in &s.unimplemented_sections {
        warnings.push(format!(
            "[{section}] is read but this version does not run that stage yet; it is skipped"
        ));
    }
    let meta = meta(&s)?;
    let run = simulate_scenario(&s, stage, o.quiet)?;
    warnings.extend(run.history.report.warnings.iter().cloned());
    warnings.extend(run.models.warnings.iter().cloned());
    let plan = s.quota.as_ref().map(|q| q.plan);
    let forecast = run.sim.as_ref().map(|sim| ForecastSection::of(sim, plan));
    let rebalanced = match &s.territories {
        Some(spec) if stage == Stage::Run => {
            Some(rebalance_stage(&s, spec, &run.history, o.frontier)?)
        }
        _ => None,
    };
    let quota = match (&run.sim, &s.quota) {
        (Some(sim), Some(q)) if stage >= Stage::Quota => {
            let totals = sim
                .territory_totals
                .as_ref()
                .ok_or_else(|| Error::Internal("territory totals were not kept".into()))?;
            let n_old = run.history.territories.len();
            let last_year = last_year_actuals(&run.history, &run.horizon);
            let last_quota: Vec<Option<f64>> = (0..n_old)
                .map(|t| run.history.quotas.get(&t).copied())
                .collect();
            let potential = potentials(&run.history, sim);
            let inputs = match &rebalanced {
                None => QuotaOwned {
                    names: run
                        .history
                        .territories
                        .iter()
                        .map(|t| t.name.clone())
                        .collect(),
                    totals: totals.clone(),
                    last_year,
                    last_quota,
                    potential,
                },
                Some((problem, sol, _)) => QuotaOwned::rebalanced(
                    problem,
                    sol,
                    totals,
                    &last_year,
                    &last_quota,
                    &potential,
                ),
            };
            Some(set_quotas(
                &QuotaInputs {
                    names: &inputs.names,
                    totals: &inputs.totals,
                    last_year: &inputs.last_year,
                    last_quota: &inputs.last_quota,
                    potential: &inputs.potential,
                },
                q,
            )?)
        }
        (None, Some(_)) | (Some(_), Some(_)) => None,
        _ => {
            if stage == Stage::Quota {
                return Err(Error::scenario(
                    &s.path,
                    "quota",
                    "the quota command needs a [quota] section with a plan",
                ));
            }
            None
        }
    };
    let report = Report {
        meta,
        data: Some(DataSummary::of(&run.history)),
        fit: Some(FitSection::of(&run.models)),
        forecast,
        quota,
        territories: rebalanced.map(|(_, _, section)| section),
        backtest: None,
        warnings,
    };
    let dir = output_dir(&s, o);
    let out = OutputDir::create(&dir)?;
    export::write_all(&report, &out, &s.output.formats)?;
    let written = out.commit()?;
    Ok((report, written, run.seconds))
}

/// Backtest the scenario at `path`: fit on all but the last `holdout`
/// periods (from `rolling` origins `step` periods apart), score, and write
/// `backtest.csv` and `summary.json`.
///
/// # Errors
/// Any load or scenario error, or a history too short for the holdout.
pub fn run_backtest(
    path: &Path,
    o: &Overrides,
    holdout: usize,
    rolling: usize,
    step: usize,
) -> Result<(Report, PathBuf)> {
    let s = load_scenario(path, o)?;
    let meta = meta(&s)?;
    let history = load::load(&s)?;
    let spec = crate::backtest::BacktestSpec {
        holdout,
        rolling: rolling.max(1),
        step: step.max(1),
        trials: s.forecast.trials,
        seed: s.seed,
    };
    let result = crate::backtest::backtest(&history, &s.fit, &spec).map_err(Error::Usage)?;
    let report = Report {
        meta,
        data: Some(DataSummary::of(&history)),
        fit: None,
        forecast: None,
        quota: None,
        territories: None,
        backtest: Some(result),
        warnings: history.report.warnings.clone(),
    };
    let dir = output_dir(&s, o);
    let out = OutputDir::create(&dir)?;
    export::write_all(&report, &out, &s.output.formats)?;
    let written = out.commit()?;
    Ok((report, written))
}

/// Load and check the data of the scenario at `path`.
///
/// # Errors
/// Any load or scenario error.
pub fn validate(path: &Path, o: &Overrides) -> Result<(Scenario, SalesHistory)> {
    let s = load_scenario(path, o)?;
    let history = load::load(&s)?;
    Horizon::resolve(&s, &history)?;
    Ok((s, history))
}
