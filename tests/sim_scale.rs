//! Scale: a forecast-only simulation of 10,000 territories x 12 months x
//! 10,000 trials (1.2 billion draws) completes in bounded memory (peak
//! resident memory under 2 GiB, read from /proc on Linux). Run with
//! `cargo test --release --test sim_scale -- --ignored --nocapture`.
//!
//! Also the reference workload (1,000 x 12 x 10,000) against the raw limit,
//! in wall time and in CPU time (which other processes on a shared machine
//! disturb far less): `... --ignored --nocapture reference_workload`.

use std::time::Instant;

use salesplan::fit::fit;
use salesplan::generate::synthetic_history;
use salesplan::rng::{raw_lognormal_sum, raw_lognormal_sum_fast};
use salesplan::scenario::{Criterion, FitSpec, FAMILIES};
use salesplan::sim::{simulate, SimSpec};

/// Peak resident memory of this process in bytes (Linux), if known.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU seconds (user + system) this process has used so far (Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Wall and CPU seconds of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (c0, started) = (cpu_seconds(), Instant::now());
    let out = f();
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(c0).map_or(f64::NAN, |(b, a)| b - a);
    (out, wall, cpu)
}

fn models(territories: usize) -> salesplan::model::FittedModels {
    let h = synthetic_history(territories, 36);
    let spec = FitSpec {
        criterion: Criterion::Aic,
        families: FAMILIES.iter().map(|s| s.to_string()).collect(),
    };
    fit(&h, h.n_periods(), 12, &spec)
}

fn run(territories: usize, trials: usize) {
    let models = models(territories);
    let sim_spec = SimSpec::from_origin(&models, 12, 5, trials);
    let (r, secs, _) = timed(|| simulate(&models, &sim_spec));
    assert_eq!(r.territories.len(), territories);
    assert_eq!(r.company_totals.len(), trials);
    assert!(
        r.territory_totals.is_none(),
        "a forecast-only run keeps no totals"
    );
    assert!(r.total.year.mean.is_finite() && r.total.year.mean > 0.0);
    let peak = peak_rss();
    eprintln!(
        "{territories} territories x 12 months x {trials} trials: {secs:.1} s, {:.0}M draws/s, peak RSS {}",
        r.draws as f64 / secs / 1e6,
        peak.map_or("unknown".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0))
    );
    if let Some(b) = peak {
        assert!(b < 2 << 30, "peak memory {b} bytes is over 2 GiB");
    }
}

#[test]
#[ignore = "slow: about 25 s on 2 cores; run explicitly"]
fn ten_thousand_territories_in_bounded_memory() {
    run(10_000, 10_000);
}

#[test]
fn a_small_run_stays_small() {
    run(200, 2_000);
}

#[test]
#[ignore = "timing: run explicitly"]
fn reference_workload() {
    let models = models(1000);
    let spec = SimSpec::from_origin(&models, 12, 5, 10_000);
    let draws = 1000 * 12 * 10_000;
    for _ in 0..3 {
        let (_, wall, cpu) = timed(|| simulate(&models, &spec));
        let (_, raw_wall, raw_cpu) = timed(|| raw_lognormal_sum(draws));
        let (_, fast_wall, fast_cpu) = timed(|| raw_lognormal_sum_fast(draws));
        eprintln!(
            "simulate: {wall:.2} s wall, {cpu:.2} s CPU; raw limit (rand_distr normals): \
             {raw_wall:.2} s wall, {raw_cpu:.2} s CPU, ratio {:.2} (wall) {:.2} (CPU); \
             raw limit (the simulation's normals): {fast_wall:.2} s wall, {fast_cpu:.2} s CPU, \
             ratio {:.2} (wall) {:.2} (CPU)",
            wall / raw_wall,
            cpu / raw_cpu,
            wall / fast_wall,
            cpu / fast_cpu
        );
    }
}
