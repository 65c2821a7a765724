//! The Monte Carlo engine: simulates every territory's path over the
//! horizon from [`FittedModels`], and summarises territories, regions and
//! the company from the summed paths (never from summed quantiles).
//!
//! Reproducible and parallel by construction: common shocks are drawn
//! first, per fixed-size batch of trials, from streams seeded by (seed,
//! stream, batch); territories are then simulated in parallel, each from its
//! own streams, and their paths are added into region and company totals
//! serially in territory order. Memory is bounded: territories are
//! processed in chunks, and only per-territory horizon totals per trial are
//! kept (as f32) when a later stage needs them, together with the same
//! totals per quarter of the horizon (for quarterly comp plans and rep
//! quotas).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use ndarray::{Array2, Array3};
use rand::RngExt;
use rayon::prelude::*;
use serde::Serialize;

use crate::horizon::Horizon;
use crate::model::{FittedModels, SeasonError, TrialScores};
use crate::pipeline::{PathLayout, PipelinePlan};
use crate::rng::{stream_id, stream_rng, BATCH};
use crate::scenario::Adjustment;
use crate::stats::normal;
use crate::stats::quantile::{quantiles, quantiles_of_keys_in, sort_key};

/// Territories simulated together before their paths are added up.
const CHUNK: usize = 64;

/// Settings of one simulation run.
#[derive(Debug, Clone)]
pub struct SimSpec {
    pub seed: u64,
    pub trials: usize,
    pub quantiles: Vec<f64>,
    pub horizon: Horizon,
    pub adjustments: Vec<Adjustment>,
    /// Capacity multiplier per territory per simulated period (from the origin).
    pub capacity: Option<Vec<Vec<f64>>>,
    /// Actual revenue per territory for reported periods before the origin.
    pub actuals: Vec<Vec<f64>>,
    /// Keep each territory's horizon total and quarter totals per trial
    /// (for quotas and comp).
    pub keep_totals: bool,
    /// Open pipeline deals, from the first simulated reported period on.
    pub pipeline: Option<PipelinePlan>,
}

impl SimSpec {
    /// A plain forecast of `periods` periods from the models' origin: the
    /// standard quantiles, no adjustments, capacity or actuals, no totals kept.
    pub fn from_origin(models: &FittedModels, periods: usize, seed: u64, trials: usize) -> Self {
        Self {
            seed,
            trials,
            quantiles: crate::scenario::STANDARD_QUANTILES.to_vec(),
            horizon: Horizon {
                calendar: models.calendar,
                start: models.origin,
                periods,
                origin: models.origin,
            },
            adjustments: Vec::new(),
            capacity: None,
            actuals: Vec::new(),
            keep_totals: false,
            pipeline: None,
        }
    }
}

/// Mean and quantiles of one simulated quantity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    pub quantiles: Vec<f64>,
}

impl Summary {
    /// The quantile at level `q`, given the levels `qs` the summary was
    /// made with (NaN when `q` is not one of them).
    pub fn at(&self, qs: &[f64], q: f64) -> f64 {
        quantile_index(qs, q).map_or(f64::NAN, |i| self.quantiles[i])
    }
}

/// Index of quantile level `q` in `qs`.
pub fn quantile_index(qs: &[f64], q: f64) -> Option<usize> {
    qs.iter().position(|x| (x - q).abs() < 1e-9)
}

/// Summaries of one series (a territory, a region or the company).
#[derive(Debug, Clone, Serialize)]
pub struct SeriesSummary {
    pub name: String,
    pub periods: Vec<Summary>,
    pub year: Summary,
}

/// The simulation's results.
#[derive(Debug, Clone)]
pub struct SimResults {
    pub trials: usize,
    pub quantiles: Vec<f64>,
    pub period_starts: Vec<NaiveDate>,
    /// Reported periods that are actuals (in-year reforecast).
    pub actual_periods: usize,
    pub territories: Vec<SeriesSummary>,
    pub regions: Vec<SeriesSummary>,
    pub total: SeriesSummary,
    /// Horizon total of each territory in each trial: [territory, trial].
    pub territory_totals: Option<Array2<f32>>,
    /// Total of each territory in each quarter of the horizon in each trial:
    /// [territory, quarter, trial]; see [`quarter_of`].
    pub territory_quarter_totals: Option<Array3<f32>>,
    /// Horizon total of each region in each trial.
    pub region_totals: Vec<Vec<f64>>,
    /// Company horizon total in each trial.
    pub company_totals: Vec<f64>,
    /// The company's path in each trial: [trial * periods + p].
    pub company_paths: Vec<f64>,
    /// Each region's path in each trial: [region][trial * periods + p]
    /// (as simulated; a rebalanced view keeps them, as it keeps the region
    /// totals: the hiring search reads them before rebalancing).
    pub region_paths: Vec<Vec<f64>>,
    /// Number of territory-period values drawn.
    pub draws: u64,
}

/// Whether `name` matches `pattern` (`*` matches any run of characters).
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !rest.starts_with(part) {
                return false;
            }
            rest = &rest[part.len()..];
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Quarters in a year: the granularity of quarterly comp plans.
pub const QUARTERS: usize = 4;

/// The quarter (0-3) of reported period `p` of a horizon with `per_year`
/// periods a year, counted from the horizon's start; periods past the first
/// year fall in the last quarter.
pub fn quarter_of(p: usize, per_year: usize) -> usize {
    (p * QUARTERS / per_year.max(1)).min(QUARTERS - 1)
}

/// Per trial and simulated period, the multiplier and addition of every
/// adjustment: drawn once per trial, shared by all territories it covers.
struct AdjustmentDraws {
    /// \[adjustment\]\[trial\] -> (happens, multiplier)
    draws: Vec<Vec<(bool, f64)>>,
    /// [adjustment][simulated period] -> active
    active: Vec<Vec<bool>>,
}

fn draw_adjustments(spec: &SimSpec, starts: &[NaiveDate]) -> AdjustmentDraws {
    let trials = spec.trials;
    let mut draws = Vec::with_capacity(spec.adjustments.len());
    let mut active = Vec::with_capacity(spec.adjustments.len());
    for (k, a) in spec.adjustments.iter().enumerate() {
        let mut v = Vec::with_capacity(trials);
        let stream = stream_id(&format!("adjustment:{k}:{}", a.name));
        for b in 0..trials.div_ceil(BATCH) {
            let mut rng = stream_rng(spec.seed, stream, b as u64);
            for _ in (b * BATCH)..((b + 1) * BATCH).min(trials) {
                let happens = a.probability >= 1.0 || rng.random::<f64>() < a.probability;
                let m = if a.multiplier.1 > a.multiplier.0 {
                    rng.random_range(a.multiplier.0..a.multiplier.1)
                } else {
                    a.multiplier.0
                };
                v.push((happens, m));
            }
        }
        draws.push(v);
        active.push(
            starts
                .iter()
                .map(|&d| d >= a.from && a.to.is_none_or(|to| d <= to))
                .collect(),
        );
    }
    AdjustmentDraws { draws, active }
}

fn applies(a: &Adjustment, territory: &str, region: &str) -> bool {
    let by_territory =
        a.territories.is_empty() || a.territories.iter().any(|p| matches_pattern(p, territory));
    let by_region = a.regions.is_empty() || a.regions.iter().any(|p| matches_pattern(p, region));
    by_territory && by_region
}

/// Bytes the simulation of `spec` on `models` allocates at once, about
/// (the caller refuses a run that would not fit): per trial, the common
/// shocks of every region and the company, their level scores, the
/// region and company paths, the territories' totals when kept, and the
/// path buffers of one chunk of territories.
pub fn memory_estimate(models: &FittedModels, spec: &SimSpec) -> u64 {
    let trials = spec.trials as u64;
    let n_sim = spec.horizon.simulated_periods() as u64;
    let reported = spec.horizon.periods as u64;
    let groups = models.regions.len() as u64 + 1;
    let n_terr = models.territories.len() as u64;
    let shocks = 8 * trials * groups * (n_sim + 2);
    let paths = 8 * trials * groups * reported;
    let kept = if spec.keep_totals {
        4 * trials * n_terr * (1 + QUARTERS as u64)
    } else {
        0
    };
    let chunk = 8 * trials * n_sim * (CHUNK as u64).min(n_terr.max(1)) * 2;
    shocks + paths + kept + chunk
}

/// Common shocks per region: [region][trial * n + h] for the horizon's
/// periods of season positions `seasons`, already weighted by the company
/// and region loadings. The factors' AR(1) steps from one selling period to
/// the next: through a company's closed season (`fit::offseason`), where
/// they were estimated without the closed periods, they hold still.
fn common_shocks(
    models: &FittedModels,
    seed: u64,
    trials: usize,
    seasons: &[usize],
) -> Vec<Vec<f64>> {
    let n = seasons.len();
    let phi = models.shocks.factor_ar;
    let innovation = (1.0 - phi * phi).sqrt();
    let closed: Vec<bool> = seasons
        .iter()
        .map(|&m| {
            !models.territories.is_empty()
                && models
                    .territories
                    .iter()
                    .all(|t| t.season.get(m) == Some(&0.0))
        })
        .collect();
    let ar_path = |stream: &str| -> Vec<f64> {
        let mut out = standard_normals(seed, stream_id(stream), trials, n);
        for row in out.chunks_exact_mut(n.max(1)) {
            for h in 1..row.len() {
                row[h] = if closed[h] {
                    row[h - 1]
                } else {
                    phi * row[h - 1] + innovation * row[h]
                };
            }
        }
        out
    };
    mix_by_region(models, trials * n, "company", "region", &ar_path)
}

/// The common part of each trial's level and slope scores per region:
/// [region][2 * trial + k], the company's and the region's standard normals
/// weighted by their loadings. Parameter errors are averages of the noise
/// they were estimated from, so territories whose noise moves together
/// have level and slope errors that move together in the same proportion;
/// drawn independently, they would cancel out in the company total.
fn common_level_scores(models: &FittedModels, seed: u64, trials: usize) -> Vec<Vec<f64>> {
    let draw = |stream: &str| standard_normals(seed, stream_id(stream), trials, 2);
    mix_by_region(models, trials * 2, "company-level", "region-level", &draw)
}

/// Per region, `company loading x company draws + region loading x the
/// region's draws`, each of `len` values drawn by `draw(stream name)`
/// (`company_stream`, `"{region_prefix}:{region}"`); a factor with no
/// loading is not drawn.
fn mix_by_region(
    models: &FittedModels,
    len: usize,
    company_stream: &str,
    region_prefix: &str,
    draw: &(dyn Fn(&str) -> Vec<f64> + Sync),
) -> Vec<Vec<f64>> {
    let loadings = models.shocks.loadings();
    let company = if loadings.company > 0.0 {
        draw(company_stream)
    } else {
        vec![0.0; len]
    };
    models
        .regions
        .par_iter()
        .map(|r| {
            let mut c: Vec<f64> = company.iter().map(|v| v * loadings.company).collect();
            if loadings.region > 0.0 {
                let own = draw(&format!("{region_prefix}:{r}"));
                for (a, b) in c.iter_mut().zip(own) {
                    *a += loadings.region * b;
                }
            }
            c
        })
        .collect()
}

/// Each region's seasonal-profile error as multipliers of the horizon's
/// periods: \[region\] -> \[trial * n + h\] (`None` where the profile has no
/// error to draw). Regions sharing a profile (those that borrow the
/// company's) share one stream and one array.
fn season_multipliers(
    models: &FittedModels,
    seed: u64,
    trials: usize,
    seasons: &[usize],
) -> Vec<Option<Arc<Vec<f64>>>> {
    let n = seasons.len();
    let mut by_source: BTreeMap<&str, &SeasonError> = BTreeMap::new();
    for e in models.season_errors.iter().flatten() {
        by_source.entry(e.source.as_str()).or_insert(e);
    }
    let drawn: BTreeMap<&str, Arc<Vec<f64>>> = by_source
        .into_par_iter()
        .map(|(source, e)| {
            let dim = e.dim();
            let z = standard_normals(seed, stream_id(&format!("season:{source}")), trials, dim);
            let mut by_position = vec![0.0; e.index.len()];
            let mut out = vec![0.0; trials * n];
            for trial in 0..trials {
                e.multipliers(&z[trial * dim..(trial + 1) * dim], &mut by_position);
                for (h, &pos) in seasons.iter().enumerate() {
                    out[trial * n + h] = by_position[e.slot(pos)];
                }
            }
            (source, Arc::new(out))
        })
        .collect();
    models
        .season_errors
        .iter()
        .map(|e| e.as_ref().map(|e| Arc::clone(&drawn[e.source.as_str()])))
        .collect()
}

/// Multiply each trial's periods in `out` (\[trial * n + h\], n the
/// horizon's `seasons`) by its own draw of the territory's seasonal
/// deviations' error (`TerritoryModel::own_season_multipliers`).
fn own_season_errors(
    m: &crate::model::TerritoryModel,
    rng: &mut crate::rng::SimRng,
    seasons: &[usize],
    out: &mut [f64],
) {
    let s = m.season.len();
    let n = seasons.len();
    let mut z = vec![0.0; out.len() / n.max(1) * s];
    normal::fill(rng, &mut z);
    let mut by_position = vec![0.0; s];
    for (row, z) in out.chunks_exact_mut(n).zip(z.chunks_exact(s)) {
        m.own_season_multipliers(z, &mut by_position);
        for (v, &pos) in row.iter_mut().zip(seasons) {
            *v *= by_position[pos % s];
        }
    }
}

/// Independent standard normals [trial * n + h] from one stream.
fn standard_normals(seed: u64, stream: u64, trials: usize, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; trials * n];
    for b in 0..trials.div_ceil(BATCH) {
        let mut rng = stream_rng(seed, stream, b as u64);
        normal::fill(
            &mut rng,
            &mut out[b * BATCH * n..((b + 1) * BATCH).min(trials) * n],
        );
    }
    out
}

/// Simulate `models` under `spec`.
pub fn simulate(models: &FittedModels, spec: &SimSpec) -> SimResults {
    simulate_with_progress(models, spec, &|_| {})
}

/// As [`simulate`], calling `progress(territories_done)` after each chunk.
pub fn simulate_with_progress(
    models: &FittedModels,
    spec: &SimSpec,
    progress: &(dyn Fn(usize) + Sync),
) -> SimResults {
    let horizon = &spec.horizon;
    let trials = spec.trials;
    let reported = horizon.periods;
    let n_sim = horizon.simulated_periods();
    let offset = horizon.first_reported_offset();
    let n_actual = horizon.actual_periods();
    let seasons = models.seasons(n_sim);
    let cadence = models.cadence_factors(n_sim);
    let sim_starts = horizon.simulated_starts();
    let adjustments = draw_adjustments(spec, &sim_starts);
    let common = common_shocks(models, spec.seed, trials, &seasons);
    let level_common = common_level_scores(models, spec.seed, trials);
    // Each trial's score of the form every territory draws
    // ([`TrialScores::form`]).
    let form_common = standard_normals(spec.seed, stream_id("form"), trials, 1);
    let season_mult = season_multipliers(models, spec.seed, trials, &seasons);
    let loadings = models.shocks.loadings();
    // Without company and region factors the common shocks are all zero:
    // the territories need not read them.
    let with_common = loadings.company > 0.0 || loadings.region > 0.0;
    let n_regions = models.regions.len();
    let n_terr = models.territories.len();

    // Accumulators of reported periods: [trial * reported + p].
    let mut region_paths = vec![vec![0.0f64; trials * reported]; n_regions];
    let mut company_paths = vec![0.0f64; trials * reported];
    let mut territory_totals = spec
        .keep_totals
        .then(|| Array2::<f32>::zeros((n_terr, trials)));
    let mut quarter_totals = spec
        .keep_totals
        .then(|| Array3::<f32>::zeros((n_terr, QUARTERS, trials)));
    let per_year = horizon.calendar.kind.per_year();
    let quarters: Vec<usize> = (0..reported).map(|p| quarter_of(p, per_year)).collect();
    let keep = spec.keep_totals;
    let mut territory_summaries = Vec::with_capacity(n_terr);

    let mut pool: Vec<Vec<f64>> = Vec::new();
    for chunk_start in (0..n_terr).step_by(CHUNK) {
        let chunk_end = (chunk_start + CHUNK).min(n_terr);
        // Path buffers are reused from chunk to chunk: fresh allocations of
        // this size cost page faults on every territory.
        let buffers: Vec<Vec<f64>> = (chunk_start..chunk_end)
            .map(|_| pool.pop().unwrap_or_default())
            .collect();
        let sims: Vec<Simulated> = buffers
            .into_par_iter()
            .zip(chunk_start..chunk_end)
            .map_init(Scratch::default, |scratch, (mut path, t)| {
                let Scratch { keys, normals, buf } = scratch;
                let m = &models.territories[t];
                // Every value is written below when anything is simulated
                // (a buffer of the right length is not zeroed again).
                if n_sim == 0 {
                    path.clear();
                }
                path.resize(trials * reported, 0.0);
                // Actual periods are the same in every trial.
                for p in 0..n_actual {
                    let v = spec
                        .actuals
                        .get(t)
                        .and_then(|a| a.get(p))
                        .copied()
                        .unwrap_or(0.0);
                    for trial in 0..trials {
                        path[trial * reported + p] = v;
                    }
                }
                // Expected run-rate per simulated period before adjustments.
                let mut base_mean = Vec::new();
                if n_sim > 0 {
                    let applicable: Vec<usize> = (0..spec.adjustments.len())
                        .filter(|&k| applies(&spec.adjustments[k], &m.name, &m.region))
                        .collect();
                    let capacity = spec.capacity.as_ref().map(|c| &c[t]);
                    let common_r = &common[m.region_index];
                    let season_r = season_mult[m.region_index].as_deref().map(Vec::as_slice);
                    // Prefixed: a territory named like a common stream
                    // ("company", "season:company", ...) must not share it.
                    let stream = stream_id(&format!("territory:{}", m.name));
                    let own_season_stream = stream_id(&format!("own season:{}", m.name));
                    // Only the pipeline needs the run-rate's mean (a division
                    // per draw otherwise wasted).
                    let with_mean = spec.pipeline.is_some();
                    if with_mean {
                        base_mean = vec![0.0f64; n_sim];
                    }
                    let unit_cadence = cadence.iter().all(|&c| c == 1.0);
                    // A path with nothing to apply and nothing around the
                    // reported periods is drawn straight into its row (the
                    // same numbers: x * 1.0 == x).
                    let plain = unit_cadence
                        && capacity.is_none()
                        && !with_mean
                        && applicable.is_empty()
                        && n_actual == 0
                        && offset == 0
                        && n_sim == reported;
                    let sampler = m.sampler(&seasons, &loadings);
                    for b in 0..trials.div_ceil(BATCH) {
                        let mut rng = stream_rng(spec.seed, stream, b as u64);
                        let trials_b = (b * BATCH)..((b + 1) * BATCH).min(trials);
                        let cells = trials_b.start * n_sim..trials_b.end * n_sim;
                        // A plain path is drawn straight into its rows.
                        let out = if plain {
                            &mut path[cells.clone()]
                        } else {
                            buf.resize(cells.len(), 0.0);
                            &mut buf[..]
                        };
                        let scores = TrialScores {
                            level: &level_common[m.region_index]
                                [2 * trials_b.start..2 * trials_b.end],
                            form: Some(&form_common[trials_b.clone()]),
                        };
                        sampler.sample_batch(
                            &mut rng,
                            scores,
                            with_common.then(|| &common_r[cells.clone()]),
                            out,
                            normals,
                        );
                        if let Some(sm) = season_r {
                            for (v, m) in out.iter_mut().zip(&sm[cells.clone()]) {
                                *v *= m;
                            }
                        }
                        if m.season_sd > 0.0 {
                            own_season_errors(
                                m,
                                &mut stream_rng(spec.seed, own_season_stream, b as u64),
                                &seasons,
                                out,
                            );
                        }
                        if plain {
                            continue;
                        }
                        for (trial, buf) in trials_b.zip(buf.chunks_exact_mut(n_sim)) {
                            for (h, v) in buf.iter_mut().enumerate() {
                                if !unit_cadence {
                                    *v *= cadence[h];
                                }
                                if let Some(c) = capacity {
                                    *v *= c[h];
                                }
                                if with_mean {
                                    base_mean[h] += *v / trials as f64;
                                }
                                for &k in &applicable {
                                    let (happens, mult) = adjustments.draws[k][trial];
                                    if happens && adjustments.active[k][h] {
                                        *v = *v * mult + spec.adjustments[k].add;
                                    }
                                }
                            }
                            let row = &mut path[trial * reported..(trial + 1) * reported];
                            for p in n_actual..reported {
                                row[p] = buf[offset + p - n_actual];
                            }
                        }
                    }
                }
                if let Some(pipeline) = &spec.pipeline {
                    let stream = stream_id(&format!("pipeline:{}", m.name));
                    let layout = PathLayout {
                        trials,
                        stride: reported,
                        offset: n_actual,
                        n: reported - n_actual,
                    };
                    let reported_mean: Vec<f64> = (n_actual..reported)
                        .map(|p| base_mean.get(offset + p - n_actual).copied().unwrap_or(0.0))
                        .collect();
                    pipeline.apply(
                        t,
                        &mut path,
                        layout,
                        &reported_mean,
                        &|b| stream_rng(spec.seed, stream, b),
                        BATCH,
                    );
                }
                let (summary, year) =
                    summarize(&m.name, &path, trials, reported, &spec.quantiles, keys);
                let quarters = keep.then(|| quarter_sums(&path, reported, &quarters));
                Simulated {
                    path,
                    summary,
                    year,
                    quarters,
                }
            })
            .collect();
        let regions_of: Vec<usize> = (chunk_start..chunk_end)
            .map(|t| models.territories[t].region_index)
            .collect();
        add_in_order(&mut company_paths, &mut region_paths, &sims, &regions_of);
        for (k, sim) in sims.into_iter().enumerate() {
            let t = chunk_start + k;
            if let Some(tt) = territory_totals.as_mut() {
                for (o, v) in tt.row_mut(t).iter_mut().zip(&sim.year) {
                    *o = *v as f32;
                }
            }
            if let (Some(qt), Some(sums)) = (quarter_totals.as_mut(), &sim.quarters) {
                for (trial, s) in sums.chunks_exact(QUARTERS).enumerate() {
                    for (q, v) in s.iter().enumerate() {
                        qt[[t, q, trial]] = *v as f32;
                    }
                }
            }
            territory_summaries.push(sim.summary);
            pool.push(sim.path);
        }
        progress(chunk_end);
    }

    let regions: Vec<(SeriesSummary, Vec<f64>)> = models
        .regions
        .par_iter()
        .zip(region_paths.par_iter())
        .map(|(name, p)| summarize(name, p, trials, reported, &spec.quantiles, &mut Vec::new()))
        .collect();
    let (regions, region_totals): (Vec<SeriesSummary>, Vec<Vec<f64>>) = regions.into_iter().unzip();
    let (total, company_totals) = summarize(
        "company",
        &company_paths,
        trials,
        reported,
        &spec.quantiles,
        &mut Vec::new(),
    );
    SimResults {
        trials,
        quantiles: spec.quantiles.clone(),
        period_starts: horizon.period_starts(),
        actual_periods: n_actual,
        territories: territory_summaries,
        regions,
        total,
        territory_totals,
        territory_quarter_totals: quarter_totals,
        region_totals,
        company_totals,
        company_paths,
        region_paths,
        draws: (n_terr * trials * n_sim) as u64,
    }
}

/// Buffers one worker reuses from territory to territory.
#[derive(Default)]
struct Scratch {
    /// Sort keys of the quantile selection.
    keys: Vec<u64>,
    /// One batch's standard normals.
    normals: Vec<f64>,
    /// One batch's paths before capacity, adjustments and actuals.
    buf: Vec<f64>,
}

/// One territory's simulated paths and what is kept of them.
struct Simulated {
    /// [trial * reported + p]
    path: Vec<f64>,
    summary: SeriesSummary,
    /// Horizon total per trial.
    year: Vec<f64>,
    /// Quarter totals per trial, [trial * QUARTERS + q], when totals are kept.
    quarters: Option<Vec<f64>>,
}

/// Trials added up per task in [`add_in_order`].
const ADD_BLOCK: usize = 16 * 1024;

/// Add each territory's path to the company's and its region's, element
/// by element in territory order, in parallel over blocks of elements (one
/// read of each path): the sums do not depend on the threads.
fn add_in_order(
    company: &mut [f64],
    regions: &mut [Vec<f64>],
    sims: &[Simulated],
    regions_of: &[usize],
) {
    let blocks = company.len().div_ceil(ADD_BLOCK);
    let mut region_blocks: Vec<Vec<&mut [f64]>> = (0..blocks).map(|_| Vec::new()).collect();
    for acc in regions.iter_mut() {
        for (i, block) in acc.chunks_mut(ADD_BLOCK).enumerate() {
            region_blocks[i].push(block);
        }
    }
    company
        .par_chunks_mut(ADD_BLOCK)
        .zip(region_blocks.into_par_iter())
        .enumerate()
        .for_each(|(i, (c, mut rs))| {
            for (sim, &r) in sims.iter().zip(regions_of) {
                let src = &sim.path[i * ADD_BLOCK..];
                let region = &mut rs[r];
                for ((a, b), v) in c.iter_mut().zip(region.iter_mut()).zip(src) {
                    *a += v;
                    *b += v;
                }
            }
        });
}

/// Totals of each quarter of the horizon per trial ([trial * QUARTERS + q])
/// of `path` ([trial * reported + p]), summed in period order.
fn quarter_sums(path: &[f64], reported: usize, quarters: &[usize]) -> Vec<f64> {
    let mut out = Vec::with_capacity(path.len() / reported.max(1) * QUARTERS);
    for row in path.chunks_exact(reported.max(1)) {
        let mut sums = [0.0f64; QUARTERS];
        for (p, v) in row.iter().enumerate() {
            sums[quarters[p]] += v;
        }
        out.extend_from_slice(&sums);
    }
    out
}

/// Mean and quantiles of each period and of the horizon total of `paths`
/// ([trial * periods + p]), and the horizon total of each trial; `keys`
/// is scratch space, reused between calls.
fn summarize(
    name: &str,
    paths: &[f64],
    trials: usize,
    periods: usize,
    qs: &[f64],
    keys: &mut Vec<u64>,
) -> (SeriesSummary, Vec<f64>) {
    // One pass over the rows: the sort keys of each period's column made
    // contiguous (the rows are strided for the columns), the column sums in
    // trial order (from -0.0, as `Iterator::sum`), and the horizon totals
    // summed in period order.
    // Every key is written below: no need to zero them first.
    keys.resize(trials * periods, 0);
    let mut sums = vec![-0.0f64; periods];
    let mut ranges = vec![(u64::MAX, 0u64); periods];
    let mut year = vec![0.0f64; trials];
    for (trial, (row, total)) in paths
        .chunks_exact(periods.max(1))
        .zip(&mut year)
        .enumerate()
    {
        for (p, ((v, sum), range)) in row.iter().zip(&mut sums).zip(&mut ranges).enumerate() {
            let k = sort_key(*v);
            keys[p * trials + trial] = k;
            *sum += *v;
            *range = (range.0.min(k), range.1.max(k));
        }
        *total = row.iter().sum();
    }
    let per = keys
        .chunks_exact_mut(trials.max(1))
        .take(periods)
        .zip(sums.iter().zip(&ranges))
        .map(|(column, (sum, &range))| Summary {
            mean: sum / trials.max(1) as f64,
            quantiles: quantiles_of_keys_in(column, Some(range), qs),
        })
        .collect();
    let summary = SeriesSummary {
        name: name.to_string(),
        periods: per,
        year: summary_of(&year, qs),
    };
    (summary, year)
}

/// Mean and quantiles of `values`.
pub fn summary_of(values: &[f64], qs: &[f64]) -> Summary {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    Summary {
        mean,
        quantiles: quantiles(values, qs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches_pattern("*", "T-1"));
        assert!(matches_pattern("T-1*", "T-17"));
        assert!(!matches_pattern("T-1*", "T-2"));
        assert!(matches_pattern("*-West", "T1-West"));
        assert!(matches_pattern("T-17", "T-17"));
        assert!(!matches_pattern("T-17", "T-170"));
    }

    #[test]
    fn quarters_of_a_year() {
        let q: Vec<usize> = (0..12).map(|p| quarter_of(p, 12)).collect();
        assert_eq!(q, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
        assert_eq!(quarter_of(12, 52), 0);
        assert_eq!(quarter_of(13, 52), 1);
        assert_eq!(quarter_of(51, 52), 3);
        assert_eq!(quarter_of(3, 4), 3);
    }
}
