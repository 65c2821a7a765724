//! The `salesplan` command line: parses arguments, calls the library,
//! prints `error: {:#}` and returns the exit code (2 bad input, 1 internal).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use salesplan::app::{self, Overrides, Stage};
use salesplan::generate::{generate, GenerateSpec};
use salesplan::scenario::Format;
use salesplan::Error;

#[derive(Parser)]
#[command(
    name = "salesplan",
    version,
    about = "Forecasts, quotas, territories and commission cost from one Monte Carlo simulation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct Common {
    /// Output directory (overrides [output] dir)
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    /// Random seed (overrides the scenario's seed)
    #[arg(long, global = true, allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Monte Carlo trials (overrides [forecast] trials)
    #[arg(long, global = true, allow_negative_numbers = true)]
    trials: Option<i64>,
    /// Largest memory the simulation may use, e.g. 512M or 8G (default: the
    /// memory the system has available)
    #[arg(long, global = true, value_name = "SIZE", allow_hyphen_values = true)]
    max_memory: Option<String>,
    /// Worker threads (default: all cores); results do not depend on it
    #[arg(long, global = true, allow_negative_numbers = true)]
    threads: Option<usize>,
    /// Print nothing but errors
    #[arg(long, global = true)]
    quiet: bool,
    /// Output formats, comma-separated: csv,json,xlsx,html
    #[arg(long, global = true, value_delimiter = ',')]
    format: Option<Vec<String>>,
}

#[derive(Args, Clone, Default)]
struct ExportTrials {
    /// Write each trial's horizon totals (trial, company, one column per
    /// territory) to this Parquet file
    #[arg(long, value_name = "FILE.parquet")]
    export_trials: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Every stage the scenario configures (default: scenarios/demo.toml)
    Run {
        scenario: Option<PathBuf>,
        /// With [territories]: also run the balance-vs-disruption frontier
        #[arg(long)]
        frontier: bool,
        #[command(flatten)]
        trials: ExportTrials,
        #[command(flatten)]
        common: Common,
    },
    /// Check data and scenario; print a data summary
    Validate {
        scenario: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Per-territory model fits and diagnostics
    Fit {
        scenario: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Monte Carlo forecast
    Forecast {
        scenario: PathBuf,
        #[command(flatten)]
        trials: ExportTrials,
        #[command(flatten)]
        common: Common,
    },
    /// Forecast and the hires needed to reach the plan with [capacity] target_probability
    Capacity {
        scenario: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Forecast and quotas
    Quota {
        scenario: PathBuf,
        #[command(flatten)]
        trials: ExportTrials,
        #[command(flatten)]
        common: Common,
    },
    /// Commission cost: the comp plans evaluated on every simulated trial
    Comp {
        scenario: PathBuf,
        /// Also write payout_curve.csv: each plan's payout at attainment 0 to 2.5
        #[arg(long)]
        payout_curve: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Scenarios side by side, with common random numbers (the first scenario's seed and trials)
    Compare {
        /// Two or more scenario files; the first is the base
        #[arg(required = true, num_args = 2..)]
        scenarios: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Rebalance territories: balanced potential and workload under a disruption budget
    Rebalance {
        scenario: PathBuf,
        /// Also run budgets of 0, 2, 5, 10 and 20% of accounts (frontier.csv)
        #[arg(long)]
        frontier: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Fit on all but the last N periods, forecast them and score the forecast
    Backtest {
        scenario: PathBuf,
        /// Periods held out (the forecast horizon scored)
        #[arg(long)]
        holdout: usize,
        /// Number of forecast origins
        #[arg(long, default_value_t = 1)]
        rolling: usize,
        /// Periods between origins
        #[arg(long, default_value_t = 1)]
        step: usize,
        /// Also set quotas for the last full year from the years before and
        /// compare them with what each territory sold
        #[arg(long)]
        quotas: bool,
        #[command(flatten)]
        common: Common,
    },
    /// How last year's quotas (data.quotas) worked out: attainment, rank and the model's hindsight probability
    Scorecard {
        scenario: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Write a realistic synthetic company: sales, accounts, reps, pipeline and a scenario
    Generate {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 12)]
        territories: usize,
        #[arg(long, default_value_t = 600)]
        accounts: usize,
        #[arg(long, default_value_t = 3)]
        years: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Approximate number of sales rows (default: about 0.5 deals per account and month)
        #[arg(long)]
        rows: Option<usize>,
        /// Last year of history (the plan year follows it)
        #[arg(long, default_value_t = 2026)]
        last_year: i32,
        #[arg(long)]
        quiet: bool,
    },
}

fn overrides(c: &Common) -> Result<Overrides, Error> {
    let formats = match &c.format {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|f| {
                    Format::parse(f).ok_or_else(|| {
                        Error::Usage(format!(
                            "--format: found '{f}', expected csv, json, xlsx or html"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(Overrides {
        out: c.out.clone(),
        seed: c.seed,
        trials: c.trials,
        max_memory: c.max_memory.as_deref().map(app::parse_size).transpose()?,
        formats,
        quiet: c.quiet,
        payout_curve: false,
        frontier: false,
        export_trials: None,
    })
}

fn set_threads(threads: Option<usize>) -> Result<(), Error> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(Error::Usage(
                "--threads: found 0, expected 1 or more".into(),
            ));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::Internal(format!("cannot start {n} threads: {e}")))?;
    }
    Ok(())
}

fn print_territories(report: &salesplan::report::Report) {
    let Some(t) = &report.territories else { return };
    let ratio = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.2}"));
    println!(
        "territories: potential CV {:.3} -> {:.3}, max/min {} -> {}; {} accounts moved (budget {}), {} forced moves",
        t.cv_before,
        t.cv_after,
        ratio(t.max_min_before),
        ratio(t.max_min_after),
        t.moved,
        t.budget_accounts,
        t.forced_moves
    );
    if let Some(points) = &t.frontier {
        println!("  budget  moved  objective  potential CV  workload CV");
        for p in points {
            println!(
                "  {:>5.0}%  {:>5}  {:>9.5}  {:>12.3}  {:>11.3}",
                100.0 * p.budget_share,
                p.moved,
                p.objective,
                p.cv_potential,
                p.cv_workload
            );
        }
    }
}

fn print_capacity(report: &salesplan::report::Report) {
    let Some(c) = &report.capacity else { return };
    let first = &c.rows[0];
    println!(
        "capacity: plan {:.0}, target P(revenue >= plan) {:.0}%; with no hire {:.1}% (attrition {:.1}% a year)",
        c.plan,
        100.0 * c.target_probability,
        100.0 * first.prob_plan,
        100.0 * c.attrition
    );
    match c.hires_needed {
        Some(0) => println!("          no hire needed"),
        Some(k) => {
            let r = &c.rows[k];
            println!(
                "          {k} hire(s) reach {:.1}% (±{:.1} points); the last one starts {} in {}",
                100.0 * r.prob_plan,
                100.0 * r.prob_plan_se,
                r.start.as_deref().unwrap_or("-"),
                r.region.as_deref().unwrap_or("-")
            );
        }
        None => {
            let last = c.rows.last().unwrap_or(first);
            println!(
                "          not reachable within {} hires: {} reach {:.1}%",
                c.searched,
                last.hires,
                100.0 * last.prob_plan
            );
        }
    }
}

fn print_scorecard(report: &salesplan::report::Report) {
    let Some(c) = &report.scorecard else { return };
    println!(
        "scorecard: {} territories, quotas of {} to {}: {:.0}% attained; a plan at those quotas' hindsight probabilities gives {:.0}% (90% band {:.0}%-{:.0}%, {}); attainment P10 {:.2} P50 {:.2} P90 {:.2}",
        c.rows.len(),
        c.year_start,
        c.year_end,
        100.0 * c.share_attaining,
        100.0 * c.fair_share,
        100.0 * c.fair_share_p05,
        100.0 * c.fair_share_p95,
        if c.inside_band { "inside" } else { "outside" },
        c.attainment_p10,
        c.attainment_p50,
        c.attainment_p90
    );
    if !c.rep_rows.is_empty() {
        let attained = c.reps_attained();
        println!(
            "           reps: {attained} of {} reached their quota",
            c.rep_rows.len()
        );
    }
    println!(
        "           attainment vs size correlation {:.2}, vs potential {:.2}; {} {} improbable in hindsight (P(attain) < {:.0}% or > {:.0}%)",
        c.size_correlation,
        c.potential_correlation,
        c.improbable.len(),
        if c.improbable.len() == 1 { "quota" } else { "quotas" },
        100.0 * salesplan::scorecard::IMPROBABLE,
        100.0 * (1.0 - salesplan::scorecard::IMPROBABLE)
    );
}

fn print_run(
    stage: Stage,
    path: &Path,
    c: &Common,
    payout_curve: bool,
    frontier: bool,
    trials: ExportTrials,
) -> Result<(), Error> {
    let o = Overrides {
        payout_curve,
        frontier,
        export_trials: trials.export_trials,
        ..overrides(c)?
    };
    let (report, dir, seconds) = app::execute(stage, path, &o)?;
    if c.quiet {
        return Ok(());
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(f) = &report.forecast {
        let at = |p: f64| f.total.at(&f.quantiles, p);
        println!(
            "forecast: company total P10 {:.0}  P50 {:.0}  P90 {:.0} {}",
            at(0.1),
            at(0.5),
            at(0.9),
            report.meta.currency
        );
        if let Some(p) = &f.prob_hit_plan {
            println!(
                "          probability of hitting the plan of {:.0}: {:.1}% (±{:.1} points Monte Carlo error)",
                p.plan,
                100.0 * p.probability,
                100.0 * p.standard_error
            );
        }
        if f.all_actuals() {
            println!(
                "          every period of the plan year is already in the history: these are its \
                 actuals, nothing was simulated"
            );
        } else if seconds > 0.0 {
            println!(
                "          {} draws in {:.2} s ({:.1} million draws per second)",
                f.draws,
                seconds,
                f.draws as f64 / seconds / 1e6
            );
        }
    }
    if let Some(q) = &report.quota {
        let bound = q.rows.iter().filter(|r| r.binding.is_some()).count();
        let who = if bound > 0 {
            format!(
                "the {} unconstrained ones each attain with probability {:.1}% ({bound} set by a constraint)",
                q.rows.len() - bound,
                100.0 * q.attain_probability
            )
        } else {
            format!(
                "each attained with probability {:.1}%",
                100.0 * q.attain_probability
            )
        };
        println!(
            "quotas:   {} territories, total {:.0}; {who}; expected share attaining {:.0}% (90% band {:.0}%-{:.0}%)",
            q.rows.len(),
            q.quota_total,
            100.0 * q.expected_share_attaining,
            100.0 * q.share_attaining_p05,
            100.0 * q.share_attaining_p95
        );
    }
    if let Some(k) = &report.comp {
        let cur = &report.meta.currency;
        println!(
            "comp:     {} reps on {} plan(s): cost P10 {:.0}  P50 {:.0}  P90 {:.0} {cur} (mean {:.0}; {:.0} if everyone attains exactly 100%)",
            k.reps.len(),
            k.plans.len(),
            k.cost.p10,
            k.cost.p50,
            k.cost.p90,
            k.cost.mean,
            k.expected_cost_at_plan
        );
        println!(
            "          cost of sales P50 {:.2}% (P10 {:.2}%, P90 {:.2}%); expected share of reps at or above 100%: {:.0}%",
            100.0 * k.cost_of_sales.p50,
            100.0 * k.cost_of_sales.p10,
            100.0 * k.cost_of_sales.p90,
            100.0 * k.share_reps_above_100
        );
    }
    print_capacity(&report);
    print_territories(&report);
    print_scorecard(&report);
    println!("wrote {}", dir.display());
    Ok(())
}

fn validate(path: &Path, c: &Common) -> Result<(), Error> {
    let (s, h) = app::validate(path, &overrides(c)?)?;
    let d = salesplan::report::DataSummary::of(&h);
    println!("scenario: {} ({})", s.name, path.display());
    for t in &d.load.tables {
        print!("{}: {} — {} rows read", t.table, t.source(), t.rows_read);
        if t.rows_filtered_out > 0 {
            print!(", {} filtered out", t.rows_filtered_out);
        }
        print!(", {} used", t.rows_used);
        for (reason, n) in &t.rejected {
            print!(", {n} rejected ({reason})");
        }
        println!();
    }
    if let (Some(a), Some(b)) = (d.load.first_date, d.load.last_date) {
        println!("dates: {a} to {b}");
    }
    println!(
        "periods: {} complete {}s ({} to {})",
        d.periods,
        s.calendar.kind.name(),
        d.first_period.as_deref().unwrap_or("-"),
        d.last_period.as_deref().unwrap_or("-")
    );
    println!(
        "territories: {} in {} region(s): {}",
        d.territories,
        d.regions.len(),
        d.regions.join(", ")
    );
    println!(
        "accounts: {}  reps: {}  open pipeline rows: {}",
        d.accounts, d.reps, d.pipeline
    );
    if !d.revenue_by_year.is_empty() {
        // The years' sums are of the complete periods the fit uses: a
        // partly covered period at an edge is dropped (see the warnings).
        println!("revenue by year, complete periods only:");
    }
    for (year, revenue) in &d.revenue_by_year {
        println!("revenue {year}: {revenue:.2} {}", s.currency);
    }
    // A year the history covers in part is not a whole year's revenue.
    let partial: Vec<String> = d
        .periods_by_year
        .iter()
        .filter(|&(_, &n)| n < d.per_year)
        .map(|(year, &n)| format!("{year} ({n} of {})", d.per_year))
        .collect();
    if !partial.is_empty() {
        println!(
            "years covered in part ({}s): {}",
            s.calendar.kind.name(),
            partial.join(", ")
        );
    }
    for w in &d.load.warnings {
        println!("warning: {w}");
    }
    println!("ok");
    Ok(())
}

fn real_main() -> Result<(), Error> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            scenario,
            frontier,
            trials,
            common,
        } => {
            set_threads(common.threads)?;
            let path = scenario.unwrap_or_else(|| PathBuf::from("scenarios/demo.toml"));
            print_run(Stage::Run, &path, &common, false, frontier, trials)
        }
        Command::Rebalance {
            scenario,
            frontier,
            common,
        } => {
            set_threads(common.threads)?;
            let o = Overrides {
                frontier,
                ..overrides(&common)?
            };
            let (report, dir) = app::run_rebalance(&scenario, &o)?;
            if !common.quiet {
                for w in &report.warnings {
                    eprintln!("warning: {w}");
                }
                print_territories(&report);
                println!("wrote {}", dir.display());
            }
            Ok(())
        }
        Command::Validate { scenario, common } => {
            set_threads(common.threads)?;
            validate(&scenario, &common)
        }
        Command::Fit { scenario, common } => {
            set_threads(common.threads)?;
            print_run(
                Stage::Fit,
                &scenario,
                &common,
                false,
                false,
                ExportTrials::default(),
            )
        }
        Command::Forecast {
            scenario,
            trials,
            common,
        } => {
            set_threads(common.threads)?;
            print_run(Stage::Forecast, &scenario, &common, false, false, trials)
        }
        Command::Capacity { scenario, common } => {
            set_threads(common.threads)?;
            print_run(
                Stage::Capacity,
                &scenario,
                &common,
                false,
                false,
                ExportTrials::default(),
            )
        }
        Command::Quota {
            scenario,
            trials,
            common,
        } => {
            set_threads(common.threads)?;
            print_run(Stage::Quota, &scenario, &common, false, false, trials)
        }
        Command::Comp {
            scenario,
            payout_curve,
            common,
        } => {
            set_threads(common.threads)?;
            let none = ExportTrials::default();
            print_run(Stage::Comp, &scenario, &common, payout_curve, false, none)
        }
        Command::Compare { scenarios, common } => {
            set_threads(common.threads)?;
            let (c, dir) = app::compare(&scenarios, &overrides(&common)?)?;
            if !common.quiet {
                let width = c
                    .scenarios
                    .iter()
                    .map(|s| s.name.chars().count())
                    .max()
                    .unwrap_or(8);
                for (k, s) in c.scenarios.iter().enumerate() {
                    let p50 = s.total.at(&c.quantiles, 0.5);
                    let plan = s
                        .prob_hit_plan
                        .map(|p| format!("  P(hit plan) {:.1}%", p.probability * 100.0))
                        .unwrap_or_default();
                    let versus = if k == 0 {
                        "(the base)".to_string()
                    } else {
                        format!(
                            "mean difference {}  P(above the base) {:.1}%",
                            salesplan::format::thousands(s.difference.mean),
                            s.prob_above_first * 100.0
                        )
                    };
                    println!(
                        "{:<width$}  total P50 {:>13}  {versus}{plan}",
                        s.name,
                        salesplan::format::thousands(p50),
                    );
                }
                println!("wrote {}", dir.display());
            }
            Ok(())
        }
        Command::Backtest {
            scenario,
            holdout,
            rolling,
            step,
            quotas,
            common,
        } => {
            set_threads(common.threads)?;
            let (report, dir) = app::run_backtest(
                &scenario,
                &overrides(&common)?,
                app::BacktestArgs {
                    holdout,
                    rolling,
                    step,
                    quotas,
                },
            )?;
            if !common.quiet {
                if let Some(b) = &report.backtest {
                    println!(
                        "backtest: holdout {} from {} origin(s)",
                        b.holdout,
                        b.origins.len()
                    );
                    println!("  level       points  cov50  cov80  cov90  scaled pinball: salesplan  seasonal naive  naive drift   scaled CRPS (seasonal naive)  MASE   total error");
                    for (level, s) in std::iter::once(("all".to_string(), b.overall.clone()))
                        .chain(b.by_level.iter().cloned())
                    {
                        println!(
                            "  {level:<10} {:>7}  {:.3}  {:.3}  {:.3}                  {:.3}           {:.3}        {:.3}   {:.3} ({:.3})                 {:.3}  {:.3}",
                            s.points, s.coverage_50, s.coverage_80, s.coverage_90, s.scaled_pinball, s.baseline_scaled_pinball, s.drift_scaled_pinball, s.scaled_crps, s.baseline_scaled_crps, s.mase, s.total_error
                        );
                    }
                    println!(
                        "  if the actuals were drawn from the forecast itself (paths, not independent points), the company's 80% interval would cover between {:.2} and {:.2} of them (90% band)",
                        b.total_coverage_80_band.0, b.total_coverage_80_band.1
                    );
                }
                if let Some(qb) = &report.quota_backtest {
                    println!(
                        "quota backtest: {} territories, quotas for the year from {}",
                        qb.territories, qb.year_start
                    );
                    for m in &qb.methods {
                        println!(
                            "  {:<18} predicted share attaining {:.0}% (90% band {:.0}%-{:.0}%), realised {:.0}% ({}); actual/quota P10 {:.2} P50 {:.2} P90 {:.2}",
                            m.method.name(),
                            m.predicted_share * 100.0,
                            m.predicted_band.0 * 100.0,
                            m.predicted_band.1 * 100.0,
                            m.realised_share * 100.0,
                            if m.inside_band { "inside" } else { "outside" },
                            m.ratio.0,
                            m.ratio.1,
                            m.ratio.2
                        );
                    }
                }
                println!("wrote {}", dir.display());
            }
            Ok(())
        }
        Command::Scorecard { scenario, common } => {
            set_threads(common.threads)?;
            let (report, dir) = app::run_scorecard(&scenario, &overrides(&common)?)?;
            if !common.quiet {
                for w in &report.warnings {
                    eprintln!("warning: {w}");
                }
                print_scorecard(&report);
                println!("wrote {}", dir.display());
            }
            Ok(())
        }
        Command::Generate {
            out,
            territories,
            accounts,
            years,
            seed,
            rows,
            last_year,
            quiet,
        } => {
            let g = generate(
                &out,
                &GenerateSpec {
                    territories,
                    accounts,
                    years,
                    seed,
                    last_year,
                    rows,
                },
            )?;
            if !quiet {
                println!("wrote {} ({} sales rows)", g.dir.display(), g.sales_rows);
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match std::panic::catch_unwind(real_main) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(e.exit_code() as u8)
        }
        Err(_) => {
            eprintln!("error: internal error (a bug in salesplan); please report it with the command you ran");
            ExitCode::from(1)
        }
    }
}
