//! Commands: wire the stages together for `run`, `validate`, `fit`,
//! `forecast`, `quota`, `rebalance` and `comp`, build the report and write
//! it atomically.
//! The binary (`main.rs`) only parses arguments and calls these.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::capacity;
use crate::comp::{self, roster, CompInputs, CompSection};
use crate::compare::{Comparison, ScenarioRun};
use crate::error::{Error, Result};
use crate::export;
use crate::fit::fit;
use crate::history::{QuotaLimit, SalesHistory};
use crate::horizon::Horizon;
use crate::load;
use crate::model::FittedModels;
use crate::output::OutputDir;
use crate::pipeline::{DealHistory, PipelinePlan};
use crate::quota::{set_quotas, QuotaInputs, QuotaPlan, RepQuotaRow};
use crate::quota_backtest::hindsight;
use crate::rebalance::{self, paths, Problem, Solution, TerritoriesSection};
use crate::report::{DataSummary, FitSection, ForecastSection, Meta, Report};
use crate::scenario::{Format, QuotaMethod, QuotaSource, QuotaSpec, Scenario, TerritoriesSpec};
use crate::scorecard::{scorecard, Scorecard};
use crate::sim::{quarter_of, simulate_with_progress, SimResults, SimSpec, QUARTERS};
use crate::whatif::quantile_table;

/// Which stages a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Fit,
    Forecast,
    /// The forecast and the hiring search of `[capacity]`.
    Capacity,
    Quota,
    Comp,
    /// Every stage the scenario configures.
    Run,
}

/// Settings from the command line that override the scenario.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub out: Option<PathBuf>,
    pub seed: Option<u64>,
    pub trials: Option<i64>,
    /// `--max-memory`, in bytes.
    pub max_memory: Option<u64>,
    pub formats: Option<Vec<Format>>,
    pub quiet: bool,
    /// `comp --payout-curve`: also write `payout_curve.csv`.
    pub payout_curve: bool,
    /// Also run the balance-vs-disruption frontier when rebalancing.
    pub frontier: bool,
    /// `--export-trials FILE.parquet`: write the horizon totals per trial.
    pub export_trials: Option<PathBuf>,
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
        s.forecast.trials =
            crate::scenario::check_trials(t).map_err(|m| Error::Usage(format!("--trials: {m}")))?;
    }
    if o.max_memory.is_some() {
        s.forecast.max_memory = o.max_memory;
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
/// `Error::Data` naming its TOML key for an input that does not exist;
/// `Error::Io` if an input cannot be hashed.
pub fn meta(s: &Scenario) -> Result<Meta> {
    let mut inputs = BTreeMap::new();
    let scenario_dir = s.path.parent().unwrap_or(Path::new("."));
    for (toml_key, f) in s.keyed_input_files() {
        // A missing input is named by its key, as the loader names it.
        if !f.exists() {
            return Err(crate::load::not_found(f, toml_key));
        }
        let key = if f == s.path.as_path() {
            f.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            f.strip_prefix(scenario_dir)
                .unwrap_or(f)
                .display()
                .to_string()
        };
        inputs.insert(key, sha256_file(f)?);
    }
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
        .map(|r| last_year_periods(history, horizon).map(|i| r[i]).sum())
        .collect()
}

/// Indices into the history of the periods of the span of the horizon's
/// length just before its start that the data covers.
fn last_year_periods<'a>(
    history: &'a SalesHistory,
    horizon: &'a Horizon,
) -> impl Iterator<Item = usize> + 'a {
    (1..=horizon.periods as i64).filter_map(move |k| {
        usize::try_from(horizon.start - k - history.first_period)
            .ok()
            .filter(|&i| i < history.n_periods())
    })
}

/// A warning when the quotas' total, plan x (1 + over-assignment), is more
/// than `SHORTFALL_WARNING` below last year's actual revenue (`last_year`,
/// a whole year of it): often a plan for part of the horizon or in other
/// units; a planned decline of a few percent is not questioned.
fn plan_below_last_year_warning(
    plan: f64,
    over_assignment: f64,
    last_year: &[f64],
) -> Option<String> {
    let actual: f64 = last_year.iter().sum();
    let quotas = plan * (1.0 + over_assignment);
    (quotas < (1.0 - SHORTFALL_WARNING) * actual).then(|| {
        format!(
            "the quotas add up to {quotas:.0} (the plan {plan:.0} with {:.0}% over-assignment), {:.0}% below last year's actual revenue ({actual:.0}): is the plan for the whole horizon?",
            100.0 * over_assignment,
            100.0 * (1.0 - quotas / actual)
        )
    })
}

/// How far below last year's revenue the quotas' total may fall before the
/// plan is questioned.
const SHORTFALL_WARNING: f64 = 0.1;

/// A warning when the quotas' attainment probability (the common one, or
/// the territories' mean) is under 10% or over 90%: the plan is far from
/// the forecast, and quotas nearly all missed or all made say little about
/// who did well.
fn extreme_attainment_warning(p: f64) -> Option<String> {
    let (side, kind) = if p < 0.1 {
        ("above", "hard")
    } else if p > 0.9 {
        ("below", "easy")
    } else {
        return None;
    };
    Some(format!(
        "quotas attain with probability {:.1}%: the plan is far {side} the forecast, and quotas this {kind} tell little about who performs",
        100.0 * p
    ))
}

/// A warning when the data covers only part of the span before the
/// horizon that `last_year_actual` sums: quotas for a whole horizon then
/// sit beside a shorter year of actuals.
fn partial_last_year_warning(history: &SalesHistory, horizon: &Horizon) -> Option<String> {
    let covered = last_year_periods(history, horizon).count();
    (covered < horizon.periods).then(|| {
        format!(
            "last_year_actual in quotas.csv covers {covered} of the {} periods before the plan's start (the data covers no more): compare it with the quotas with care",
            horizon.periods
        )
    })
}

/// Company revenue in each of the horizon's length of periods just before
/// its start (those the data covers), with the periods' start dates.
pub fn recent_company_actuals(history: &SalesHistory, horizon: &Horizon) -> Vec<(String, f64)> {
    (1..=horizon.periods as i64)
        .rev()
        .filter_map(|k| {
            let ordinal = horizon.start - k;
            let idx = usize::try_from(ordinal - history.first_period).ok()?;
            (idx < history.n_periods()).then(|| {
                let total = history.revenue.iter().map(|r| r[idx]).sum();
                (history.calendar.start_of(ordinal).to_string(), total)
            })
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
    let reported_simulated = horizon.periods - horizon.actual_periods().min(horizon.periods);
    let pipeline = (!history.pipeline.is_empty() && s.pipeline.simulate).then(|| {
        PipelinePlan::prepare(
            &history.pipeline,
            history.territories.len(),
            &history.calendar,
            horizon.origin + horizon.first_reported_offset() as i64,
            reported_simulated,
            DealHistory {
                sizes: history.deal_sizes.as_deref(),
                stages: &history.pipeline_stages,
                cycles: &history.pipeline_cycles,
            },
            &s.pipeline,
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
        pipeline,
    }
}

/// What the simulation did with the open pipeline, for the report.
pub fn pipeline_note(plan: &PipelinePlan, open: usize) -> String {
    let rate = match plan.company_win_rate {
        Some(r) if plan.estimated_probability > 0 => format!(
            "; {} given the win rate of closed deals in the pipeline table (company {:.1}%, per territory shrunk toward it)",
            plan.estimated_probability,
            100.0 * r
        ),
        _ => String::new(),
    };
    let cycle = match plan.cycle_days {
        Some(d) if plan.imputed_close > 0 => format!(
            ", missing close dates set one median sales cycle ({d} days, won deals) after creation"
        ),
        _ => String::new(),
    };
    format!(
        "pipeline: {} of {open} open deals simulated ({} amounts imputed, {} close dates imputed{cycle}{rate}); \
         left out: {} due after the horizon, {} without a win probability (give one per stage \
         in [pipeline] win_probability, or keep won and lost deals in the pipeline table), {} without an amount to impute from",
        plan.len(),
        plan.imputed_amount,
        plan.imputed_close,
        plan.after_horizon,
        plan.no_probability,
        plan.no_amount
    )
}

/// Fit and simulate: the shared core of every forecasting command.
pub struct Simulated {
    pub history: SalesHistory,
    pub horizon: Horizon,
    pub models: FittedModels,
    pub sim: Option<SimResults>,
    pub seconds: f64,
    /// What the simulation did with the open pipeline.
    pub pipeline_note: Option<String>,
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

/// A memory size from `--max-memory`: bytes, or a number with K, M, G or T
/// (powers of 1024).
///
/// # Errors
/// Not a size.
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let scale: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        _ => 0,
    };
    match number.trim().parse::<f64>() {
        Ok(v) if scale > 0 && v.is_finite() && v > 0.0 => Ok((v * scale as f64) as u64),
        _ => Err(Error::Usage(format!(
            "--max-memory: found '{text}', expected a size such as 512M or 8G"
        ))),
    }
}

/// Memory the system has available now (`MemAvailable` of /proc/meminfo),
/// when it says.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuse a simulation whose memory estimate exceeds the limit
/// (`--max-memory`, else what the system has available), before it
/// allocates.
fn check_memory(s: &Scenario, needed: u64) -> Result<()> {
    let Some(limit) = s.forecast.max_memory.or_else(available_memory) else {
        return Ok(());
    };
    if needed <= limit {
        return Ok(());
    }
    let size = |b: u64| {
        let gb = b as f64 / (1u64 << 30) as f64;
        if gb >= 1.0 {
            format!("{gb:.1} GB")
        } else {
            format!("{:.0} MB", b as f64 / (1u64 << 20) as f64)
        }
    };
    let source = if s.forecast.max_memory.is_some() {
        "the --max-memory limit"
    } else {
        "available"
    };
    Err(Error::Usage(format!(
        "{} trials need about {} of memory and {} are {source}: lower [forecast] trials in {} or --trials",
        s.forecast.trials,
        size(needed),
        size(limit),
        s.path.display()
    )))
}

/// Load, fit and (for `stage >= Forecast`) simulate.
/// `keep_trials` keeps the territories' horizon totals per trial even when
/// no later stage needs them (for `--export-trials`).
///
/// # Errors
/// Any load or scenario error.
pub fn simulate_scenario(
    s: &Scenario,
    stage: Stage,
    quiet: bool,
    keep_trials: bool,
) -> Result<Simulated> {
    let mut history = load::load(s)?;
    let horizon = Horizon::resolve(s, &history)?;
    // A plan year far after the history: simulated through, but said.
    let gap = horizon.first_reported_offset();
    let kind = history.calendar.kind;
    if gap >= kind.per_year() {
        history.report.warnings.push(format!(
            "forecast.start: the horizon starts {} after the history's last complete {} ({}); they are simulated, not reported, and widen the forecast as any horizon's first periods do",
            kind.count(gap),
            kind.name(),
            history.calendar.start_of(horizon.origin - 1),
        ));
    }
    let models = fit(
        &history,
        history.n_periods(),
        horizon.simulated_periods(),
        &s.fit,
    );
    let mut seconds = 0.0;
    let mut pipeline_note = None;
    let sim = if stage >= Stage::Forecast {
        let keep = keep_trials
            || (s.quota.is_some() && stage >= Stage::Quota)
            || (s.comp.is_some() && stage >= Stage::Comp);
        let spec = sim_spec(s, &history, horizon, keep);
        check_memory(s, crate::sim::memory_estimate(&models, &spec))?;
        pipeline_note = spec
            .pipeline
            .as_ref()
            .map(|p| self::pipeline_note(p, history.pipeline.len()));
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
        pipeline_note,
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

/// Seasonal shares of each territory's simulated mean revenue by quarter.
fn seasons(history: &SalesHistory, sim: &SimResults) -> Vec<[f64; QUARTERS]> {
    let per_year = history.calendar.kind.per_year();
    sim.territories
        .iter()
        .map(|t| {
            let means: Vec<f64> = t.periods.iter().map(|p| p.mean).collect();
            roster::seasonal_shares(&means, per_year)
        })
        .collect()
}

/// `quota` split over periods in proportion to the (non-negative) forecast
/// means; evenly when they add up to nothing.
fn phase(quota: f64, means: impl Iterator<Item = f64>) -> Vec<f64> {
    let means: Vec<f64> = means.map(|m| m.max(0.0)).collect();
    let total: f64 = means.iter().sum();
    let n = means.len().max(1) as f64;
    means
        .iter()
        .map(|m| {
            if total > 0.0 {
                quota * m / total
            } else {
                quota / n
            }
        })
        .collect()
}

/// Rep rows of `quotas.csv`: the quota plan's territory quotas split over
/// the reps table's reps.
fn rep_quotas(
    history: &SalesHistory,
    horizon: &Horizon,
    sim: &SimResults,
    plan: &QuotaPlan,
) -> Result<Vec<RepQuotaRow>> {
    if history.reps.is_empty() {
        return Ok(Vec::new());
    }
    let totals = sim
        .territory_quarter_totals
        .as_ref()
        .ok_or_else(|| Error::Internal("territory quarter totals were not kept".into()))?;
    let quotas: Vec<f64> = plan.rows.iter().map(|r| r.quota).collect();
    let r = roster::build(
        &history.reps,
        &history.territories,
        horizon,
        &quotas,
        &seasons(history, sim),
        &BTreeMap::new(),
    );
    // Stand-ins (territories without reps) are the territory row itself.
    Ok(r.members
        .iter()
        .filter(|m| !m.stand_in)
        .map(|m| RepQuotaRow {
            territory: history.territories[m.territory].name.clone(),
            rep: m.id.clone(),
            quota: m.quota(),
            attain_probability: roster::attain_probability(m, totals),
            quarters: m.quarter_quota,
        })
        .collect())
}

/// The comp stage: the scenario's plans on the simulated trials, with
/// quotas from the quota stage or the quotas table.
fn comp_stage(
    s: &Scenario,
    history: &SalesHistory,
    horizon: &Horizon,
    sim: &SimResults,
    quota: Option<&QuotaPlan>,
    payout_curve: bool,
) -> Result<Option<CompSection>> {
    let Some(spec) = &s.comp else {
        return Ok(None);
    };
    let n = history.territories.len();
    let territory_quotas: Vec<f64> = match spec.quotas {
        QuotaSource::Quota => quota
            .ok_or_else(|| Error::Internal("comp: the quota stage did not run".into()))?
            .rows
            .iter()
            .map(|r| r.quota)
            .collect(),
        QuotaSource::Table => (0..n)
            .map(|t| history.quotas.get(&t).copied().unwrap_or(0.0))
            .collect(),
    };
    let totals = sim
        .territory_quarter_totals
        .as_ref()
        .ok_or_else(|| Error::Internal("territory quarter totals were not kept".into()))?;
    let seasons = seasons(history, sim);
    let no_rep_quotas = BTreeMap::new();
    let rep_quotas = match spec.quotas {
        QuotaSource::Table => &history.rep_quotas,
        QuotaSource::Quota => &no_rep_quotas,
    };
    let roster = roster::build(
        &history.reps,
        &history.territories,
        horizon,
        &territory_quotas,
        &seasons,
        rep_quotas,
    );
    let names: Vec<String> = history.territories.iter().map(|t| t.name.clone()).collect();
    let per_year = history.calendar.kind.per_year();
    let mut quarter_starts = vec![String::new(); QUARTERS];
    for (p, d) in sim.period_starts.iter().enumerate().rev() {
        quarter_starts[quarter_of(p, per_year)] = d.to_string();
    }
    comp::evaluate(
        &CompInputs {
            plans: &spec.plans,
            quota_source: spec.quotas,
            roster: &roster,
            territory_names: &names,
            region_names: &history.regions(),
            region_of: &history.region_index(),
            territory_quotas: &territory_quotas,
            seasons: &seasons,
            quarter_totals: totals,
            company_revenue: &sim.company_totals,
            quarter_starts: &quarter_starts,
        },
        payout_curve,
    )
    .map(Some)
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
    let (problem, _, section) = rebalance_stage(&s, spec, &history, o.frontier)?;
    let mut report = Report {
        territories: Some(section),
        ..Report::of_data(meta, &history)
    };
    report.warnings.extend(problem.warnings());
    let written = write_report(&report, &s, o)?;
    Ok((report, written))
}

/// Run `stage` for the scenario at `path`, write the outputs, and return
/// the report and the directory written.
///
/// # Errors
/// Any load, scenario, infeasibility or I/O error; nothing is written then.
pub fn execute(stage: Stage, path: &Path, o: &Overrides) -> Result<(Report, PathBuf, f64)> {
    if let Some(p) = &o.export_trials {
        load::trials::check_path(p)?;
    }
    let s = load_scenario(path, o)?;
    // Refuse an output that may not be replaced before the work, not after.
    let mut out = OutputDir::create(&output_dir(&s, o), &s.input_files())?;
    let outcome = build(stage, &s, o)?;
    if let Some(path) = &o.export_trials {
        let dest = out.stage_file(path)?;
        write_trials(&dest, &outcome.run)?;
    }
    let written = write_report_into(out, &outcome.report, &s)?;
    Ok((outcome.report, written, outcome.run.seconds))
}

/// Write `report` in the scenario's formats into its output directory,
/// atomically; returns the directory written.
fn write_report(report: &Report, s: &Scenario, o: &Overrides) -> Result<PathBuf> {
    let out = OutputDir::create(&output_dir(s, o), &s.input_files())?;
    write_report_into(out, report, s)
}

/// Write `report` into the staged `out` and commit it.
fn write_report_into(out: OutputDir, report: &Report, s: &Scenario) -> Result<PathBuf> {
    export::write_all(report, &out, &s.output.formats)?;
    out.commit()
}

/// Write `run`'s horizon totals per trial to `dest`, the staged
/// `--export-trials` file.
///
/// # Errors
/// `Error::Usage` when the stage ran no simulation; `Error::Io` when it
/// cannot be written.
fn write_trials(dest: &Path, run: &Simulated) -> Result<()> {
    let sim = run.sim.as_ref().ok_or_else(|| {
        Error::Usage("--export-trials needs a command that simulates (forecast, quota, run)".into())
    })?;
    let totals = sim
        .territory_totals
        .as_ref()
        .ok_or_else(|| Error::Internal("territory totals were not kept".into()))?;
    let names: Vec<String> = run
        .models
        .territories
        .iter()
        .map(|t| t.name.clone())
        .collect();
    load::trials::write_trials(dest, &names, totals, &sim.company_totals)
}

/// A finished run of one scenario, before anything is written.
pub struct Outcome {
    pub report: Report,
    pub run: Simulated,
}

/// Run `stage` for the checked scenario `s` and build its report (no I/O
/// beyond reading the inputs).
///
/// # Errors
/// Any load, scenario or infeasibility error.
pub fn build(stage: Stage, s: &Scenario, o: &Overrides) -> Result<Outcome> {
    if stage == Stage::Comp && s.comp.is_none() {
        return Err(Error::scenario(
            &s.path,
            "comp",
            "the comp command needs a [comp] section with at least one [[comp.plan]]",
        ));
    }
    if stage == Stage::Capacity && s.capacity.is_none() {
        return Err(Error::scenario(
            &s.path,
            "capacity",
            "the capacity command needs a [capacity] section (with a plan, or a [quota] plan)",
        ));
    }
    let mut warnings: Vec<String> = Vec::new();
    for section in &s.unimplemented_sections {
        warnings.push(format!(
            "[{section}] is read but this version does not run that stage yet; it is skipped"
        ));
    }
    let meta = meta(s)?;
    let run = simulate_scenario(s, stage, o.quiet, o.export_trials.is_some())?;
    warnings.extend(run.history.report.warnings.iter().cloned());
    warnings.extend(run.models.warnings.iter().cloned());
    warnings.extend(run.pipeline_note.iter().cloned());
    let plan = s.quota.as_ref().map(|q| q.plan);
    let forecast = run.sim.as_ref().map(|sim| {
        ForecastSection::of(
            sim,
            plan,
            recent_company_actuals(&run.history, &run.horizon),
        )
    });
    // Hires needed to reach the plan (read from the forecast's own paths,
    // before rebalancing: hires do not change this run's quotas or comp).
    let capacity = match (&s.capacity, &run.sim) {
        (Some(spec), Some(sim)) if matches!(stage, Stage::Capacity | Stage::Run) => Some(
            crate::hiring::setup::plan_for(&s.path, spec, s.seed, &run.history, &run.horizon, sim)?,
        ),
        _ => None,
    };
    let rebalanced = match &s.territories {
        Some(spec) if stage == Stage::Run => {
            Some(rebalance_stage(s, spec, &run.history, o.frontier)?)
        }
        _ => None,
    };
    if let Some((problem, _, _)) = &rebalanced {
        warnings.extend(problem.warnings());
    }
    // After rebalancing, the stages that follow see the new territories.
    let view = match (&run.sim, &rebalanced) {
        (Some(sim), Some((p, sol, _))) => {
            Some(paths::rebalanced_view(p, &sol.assign, &run.history, sim))
        }
        _ => None,
    };
    let (history, sim_view) = match &view {
        Some((h, sim)) => (h, Some(sim)),
        None => (&run.history, run.sim.as_ref()),
    };
    // Limits the rebalancing dropped (a changed territory's floor, cap or
    // lock no longer describes it): said, not dropped silently (a helper's
    // probe, session 30).
    if view.is_some() && stage >= Stage::Quota && s.quota.is_some() {
        let kept: BTreeSet<&str> = history
            .quota_limits
            .keys()
            .map(|&t| history.territories[t].name.as_str())
            .collect();
        let dropped: Vec<&str> = run
            .history
            .quota_limits
            .keys()
            .map(|&t| run.history.territories[t].name.as_str())
            .filter(|n| !kept.contains(n))
            .collect();
        if !dropped.is_empty() {
            warnings.push(format!(
                "the quotas table's floors, caps and locks of {} ({}) are dropped: rebalancing changed their accounts, so the limits no longer describe them",
                crate::format::count(dropped.len(), "territory", "territories"),
                dropped.join(", ")
            ));
        }
    }
    let mut quota = match (sim_view, &s.quota) {
        (Some(sim), Some(q)) if stage >= Stage::Quota => {
            let names: Vec<String> = history.territories.iter().map(|t| t.name.clone()).collect();
            let last_year = last_year_actuals(history, &run.horizon);
            warnings.extend(
                partial_last_year_warning(history, &run.horizon).or_else(|| {
                    plan_below_last_year_warning(q.plan, q.over_assignment, &last_year)
                }),
            );
            let last_quota: Vec<Option<f64>> = (0..names.len())
                .map(|t| history.quotas.get(&t).copied())
                .collect();
            let potential = potentials(history, sim);
            let limits: Vec<QuotaLimit> = (0..names.len())
                .map(|t| history.quota_limits.get(&t).copied().unwrap_or_default())
                .collect();
            let totals = sim
                .territory_totals
                .as_ref()
                .ok_or_else(|| Error::Internal("territory totals were not kept".into()))?;
            Some(
                set_quotas(
                    &QuotaInputs {
                        names: &names,
                        totals,
                        last_year: &last_year,
                        last_quota: &last_quota,
                        potential: &potential,
                        limits: &limits,
                    },
                    q,
                )
                .map_err(|e| match e {
                    // The plan and its limits come from the scenario: name it.
                    Error::Infeasible(m) => Error::Infeasible(format!("{}: {m}", s.path.display())),
                    e => e,
                })?,
            )
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
    if let Some(q) = &quota {
        warnings.extend(extreme_attainment_warning(q.attain_probability));
    }
    if let (Some(sim), Some(q)) = (sim_view, quota.as_mut()) {
        for ((row, shares), t) in q
            .rows
            .iter_mut()
            .zip(seasons(history, sim))
            .zip(q.whatif.territories.iter_mut())
        {
            row.quarters = shares.map(|share| row.quota * share);
            t.quarter_shares = shares;
        }
        let mut company = sim.company_totals.clone();
        company.sort_by(f64::total_cmp);
        q.whatif.company = quantile_table(&company);
        q.period_starts = sim.period_starts.iter().map(|d| d.to_string()).collect();
        for (row, t) in q.rows.iter_mut().zip(&sim.territories) {
            row.by_period = phase(row.quota, t.periods.iter().map(|p| p.mean));
        }
        q.reps = rep_quotas(history, &run.horizon, sim, q)?;
    }
    let comp = match sim_view {
        Some(sim) if stage >= Stage::Comp => comp_stage(
            s,
            history,
            &run.horizon,
            sim,
            quota.as_ref(),
            o.payout_curve,
        )?,
        _ => None,
    };
    if let Some(c) = &comp {
        warnings.extend(c.warnings.iter().cloned());
    }
    // Last year's quotas, scored (before rebalancing: they were set for
    // the territories as they were).
    let scorecard = match (&s.data.quotas, stage) {
        (Some(_), Stage::Run) => match scorecard_stage(s, &run.history) {
            Ok(card) => {
                warnings.extend(card.warnings.iter().cloned());
                Some(card)
            }
            Err(Error::Usage(m)) => {
                warnings.push(format!("no scorecard: {m}"));
                None
            }
            Err(e) => return Err(e),
        },
        _ => None,
    };
    let report = Report {
        meta,
        data: Some(DataSummary::of(&run.history)),
        fit: Some(FitSection::of(&run.models)),
        forecast,
        quota,
        territories: rebalanced.map(|(_, _, section)| section),
        comp,
        backtest: None,
        quota_backtest: None,
        scorecard,
        capacity,
        warnings,
    };
    Ok(Outcome { report, run })
}

/// Last year's quotas (the quotas table) scored against the year's sales
/// and against the model fitted on the years before.
///
/// # Errors
/// `Error::Usage` when the history has less than two full years or the
/// table gives no territory a quota.
fn scorecard_stage(s: &Scenario, history: &SalesHistory) -> Result<Scorecard> {
    let h = hindsight(history, &s.fit, s.forecast.trials, s.seed, "the scorecard")?;
    scorecard(history, h.cut, h.totals()?, &potentials(history, &h.sim))
}

/// `salesplan scorecard`: how last year's quotas worked out, written to
/// `scorecard.csv`, `summary.json` and the report.
///
/// # Errors
/// Any load or scenario error; `Error::Scenario` without `data.quotas`.
pub fn run_scorecard(path: &Path, o: &Overrides) -> Result<(Report, PathBuf)> {
    let s = load_scenario(path, o)?;
    if s.data.quotas.is_none() {
        return Err(Error::scenario(
            &s.path,
            "data.quotas",
            "the scorecard command needs last year's quotas: set data.quotas to the quotas table",
        ));
    }
    let meta = meta(&s)?;
    let history = load::load(&s)?;
    let card = scorecard_stage(&s, &history)?;
    let mut report = Report::of_data(meta, &history);
    report.warnings.extend(card.warnings.iter().cloned());
    report.scorecard = Some(card);
    let written = write_report(&report, &s, o)?;
    Ok((report, written))
}

/// Run the scenarios at `paths` with common random numbers (the first
/// scenario's seed and trial count for all) and write the comparison.
///
/// # Errors
/// Any error of any scenario (naming its file); nothing is written then.
pub fn compare(paths: &[PathBuf], o: &Overrides) -> Result<(Comparison, PathBuf)> {
    let Some(first_path) = paths.first() else {
        return Err(Error::Usage(
            "compare: found no scenario, expected two or more scenario files".into(),
        ));
    };
    let first = load_scenario(first_path, o)?;
    let scenarios = paths
        .iter()
        .map(|p| load_scenario(p, o))
        .collect::<Result<Vec<_>>>()?;
    // Amounts side by side must be in one currency (USD against EUR had
    // read "mean difference 0": a helper's probe, session 30).
    if let Some(other) = scenarios.iter().find(|s| s.currency != first.currency) {
        return Err(Error::scenario(
            &other.path,
            "currency",
            format!(
                "found '{}', expected '{}' as in {}: compare sets the scenarios' amounts side by side",
                other.currency,
                first.currency,
                first.path.display()
            ),
        ));
    }
    let inputs: Vec<&Path> = scenarios.iter().flat_map(Scenario::input_files).collect();
    let dir = o
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join("compare"));
    let out = OutputDir::create(&dir, &inputs)?;
    let mut outcomes = Vec::with_capacity(paths.len());
    for (path, s) in paths.iter().zip(&scenarios) {
        let mut s = s.clone();
        s.seed = first.seed;
        s.forecast.trials = first.forecast.trials;
        let quiet = Overrides {
            quiet: true,
            ..o.clone()
        };
        outcomes.push((s.name.clone(), path, build(Stage::Run, &s, &quiet)?));
    }
    let runs: Vec<ScenarioRun> = outcomes
        .iter()
        .map(|(name, path, out)| {
            let company_totals = out
                .run
                .sim
                .as_ref()
                .map(|sim| sim.company_totals.as_slice())
                .unwrap_or_default();
            ScenarioRun {
                name: name.clone(),
                file: path.display().to_string(),
                report: &out.report,
                company_totals,
                cost_totals: out.report.comp.as_ref().map(|c| c.cost_trials.as_slice()),
            }
        })
        .collect();
    let comparison = crate::compare::compare(&runs, first.seed, &first.forecast.quantiles);
    export::compare::write(&comparison, &out, &first.output.formats)?;
    let written = out.commit()?;
    Ok((comparison, written))
}

/// How to backtest: `holdout` periods from `rolling` origins `step` apart,
/// and with `quotas` also the quota backtest of the last full year.
#[derive(Debug, Clone, Copy)]
pub struct BacktestArgs {
    pub holdout: usize,
    pub rolling: usize,
    pub step: usize,
    pub quotas: bool,
}

/// Backtest the scenario at `path`: fit on all but the last `holdout`
/// periods (from `rolling` origins `step` periods apart), score, and write
/// `backtest.csv` and `summary.json` (and the quota backtest when asked).
///
/// # Errors
/// Any load or scenario error, or a history too short for the holdout.
pub fn run_backtest(path: &Path, o: &Overrides, args: BacktestArgs) -> Result<(Report, PathBuf)> {
    let BacktestArgs {
        holdout,
        rolling,
        step,
        quotas,
    } = args;
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
    let quota_backtest = if quotas {
        let quota = s.quota.clone().unwrap_or(QuotaSpec {
            plan: 0.0,
            method: QuotaMethod::EqualProbability,
            blend: Vec::new(),
            over_assignment: 0.0,
            max_change: None,
        });
        Some(crate::quota_backtest::quota_backtest(
            &history,
            &s.fit,
            &quota,
            s.forecast.trials,
            s.seed,
        )?)
    } else {
        None
    };
    let report = Report {
        backtest: Some(result),
        quota_backtest,
        ..Report::of_data(meta, &history)
    };
    let written = write_report(&report, &s, o)?;
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
