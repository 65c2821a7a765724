//! The state-space forecast core on data drawn from known processes (fixed
//! seeds; tolerances from the sampling error of the history and the
//! binomial error of coverage counts): noise ends at its long-run mean, a
//! growing series keeps its growth and its intervals cover at their
//! nominal rate, a random walk's widths grow like the square root of the
//! horizon, and multiplicative seasonality is forecast in its shape.

use rand::SeedableRng;
use rand_distr::{Distribution, Gamma, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use salesplan::calendar::{Calendar, PeriodKind};
use salesplan::fit::fit;
use salesplan::history::{SalesHistory, Territory};
use salesplan::scenario::{Criterion, FitSpec, FAMILIES};
use salesplan::sim::{simulate, SimResults, SimSpec};

/// Territories T-0, T-1, ... in one region, from their monthly series.
fn history(revenue: Vec<Vec<f64>>) -> SalesHistory {
    let territories = (0..revenue.len())
        .map(|i| Territory {
            name: format!("T-{i}"),
            region: "All".into(),
        })
        .collect();
    SalesHistory::from_series(
        Calendar::new(PeriodKind::Month, 1),
        2000 * 12,
        territories,
        revenue,
    )
}

fn spec() -> FitSpec {
    FitSpec {
        criterion: Criterion::Aic,
        families: FAMILIES.iter().map(|s| s.to_string()).collect(),
    }
}

/// Fit on the whole history and simulate the next 12 months.
fn forecast(h: &SalesHistory, trials: usize, seed: u64) -> SimResults {
    let models = fit(h, h.n_periods(), 12, &spec());

    simulate(&models, &SimSpec::from_origin(&models, 12, seed, trials))
}

/// The index of quantile `q` in the simulation's quantiles.
fn at(sim: &SimResults, q: f64) -> usize {
    sim.quantiles
        .iter()
        .position(|&x| (x - q).abs() < 1e-9)
        .unwrap()
}

#[test]
fn a_history_of_noise_is_forecast_at_its_long_run_mean() {
    // 20 territories x 120 months of iid gamma noise (mean 1000, cv 0.3):
    // the year's mean is 12,000. The history's own mean misses it by
    // 0.3 / sqrt(120) = 2.7% (sd), the average over 20 territories by 0.6%.
    let gamma = Gamma::new(1.0 / 0.09, 1000.0 * 0.09).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(31);
    let revenue: Vec<Vec<f64>> = (0..20)
        .map(|_| (0..120).map(|_| gamma.sample(&mut rng)).collect())
        .collect();
    let sim = forecast(&history(revenue), 4000, 5);
    let ratios: Vec<f64> = sim
        .territories
        .iter()
        .map(|t| t.year.mean / 12_000.0)
        .collect();

    for r in &ratios {
        assert!((r - 1.0).abs() < 0.11, "a territory's year mean ratio {r}");
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!((mean - 1.0).abs() < 0.025, "mean ratio {mean}");
}

#[test]
fn a_growing_series_keeps_its_growth_and_its_intervals_cover() {
    // 40 independent replications of a local linear trend, 60 months,
    // mean path 1000 + 20 t with multiplicative noise sd 0.06 and a level
    // that wanders (sd 0.01 a month). The forecast year's median must be
    // unbiased for the realised total and its P10-P90 cover it about 80%
    // of the time (binomial sd with 40 draws: 0.063; measured 0.675, 27 of
    // 40, with the totals' calibration; 0.525 without it).
    let noise = Normal::new(0.0, 0.06).unwrap();
    let wander = Normal::new(0.0, 0.01).unwrap();
    let (mut inside, mut ratios) = (0usize, Vec::new());
    for rep in 0..40u64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(100 + rep);
        let mut shift = 1.0;
        let mut path = Vec::new();
        for t in 0..72 {
            shift *= 1.0 + wander.sample(&mut rng);
            path.push((1000.0 + 20.0 * t as f64) * shift * (1.0 + noise.sample(&mut rng)));
        }
        let sim = forecast(&history(vec![path[..60].to_vec()]), 2000, rep);
        let year = &sim.territories[0].year.quantiles;
        let actual: f64 = path[60..].iter().sum();
        ratios.push(actual / year[at(&sim, 0.5)]);
        if year[at(&sim, 0.1)] <= actual && actual <= year[at(&sim, 0.9)] {
            inside += 1;
        }
    }
    let bias = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!((bias - 1.0).abs() < 0.03, "actual / P50 averages {bias}");
    let coverage = inside as f64 / 40.0;

    assert!(
        (0.62..=0.97).contains(&coverage),
        "year coverage {coverage}"
    );
}

#[test]
fn a_random_walks_widths_grow_like_the_square_root_of_the_horizon() {
    // 10 territories x 120 months of a geometric random walk (log steps sd
    // 0.05): the month-h interval's log width grows like sqrt(h), so month
    // 12's is sqrt(12) = 3.5 times month 1's.
    let step = Normal::new(0.0, 0.05).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
    let revenue: Vec<Vec<f64>> = (0..10)
        .map(|_| {
            let mut log = 1000f64.ln();
            (0..120)
                .map(|_| {
                    log += step.sample(&mut rng);
                    log.exp()
                })
                .collect()
        })
        .collect();
    let sim = forecast(&history(revenue), 4000, 9);
    let (lo, hi) = (at(&sim, 0.1), at(&sim, 0.9));
    let width = |t: &salesplan::sim::SeriesSummary, p: usize| {
        (t.periods[p].quantiles[hi] / t.periods[p].quantiles[lo]).ln()
    };
    let ratio = sim
        .territories
        .iter()
        .map(|t| width(t, 11) / width(t, 0))
        .sum::<f64>()
        / 10.0;
    assert!(
        (2.4..=4.6).contains(&ratio),
        "width ratio month 12 / month 1: {ratio}"
    );
}

#[test]
fn multiplicative_seasonality_is_forecast_in_its_shape() {
    // 12 territories x 60 months: a +-30% seasonal profile on a level
    // growing 1% a month, noise sd 0.05. Each forecast month's median over
    // the truth's mean is flat across the year (within 6%): the profile
    // scales with the level.
    let profile: Vec<f64> = (0..12)
        .map(|m| 1.0 + 0.3 * (2.0 * std::f64::consts::PI * m as f64 / 12.0).sin())
        .collect();
    let noise = Normal::new(0.0, 0.05).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(55);
    let truth = |t: usize| 1000.0 * 1.01f64.powi(t as i32) * profile[t % 12];
    let revenue: Vec<Vec<f64>> = (0..12)
        .map(|_| {
            (0..60)
                .map(|t| truth(t) * (1.0 + noise.sample(&mut rng)))
                .collect()
        })
        .collect();
    let sim = forecast(&history(revenue), 2000, 3);
    let p50 = at(&sim, 0.5);
    for h in 0..12 {
        let median = sim
            .territories
            .iter()
            .map(|t| t.periods[h].quantiles[p50])
            .sum::<f64>()
            / sim.territories.len() as f64;
        let r = median / truth(60 + h);
        assert!((r - 1.0).abs() < 0.06, "month {h}: median / truth {r}");
    }
}
