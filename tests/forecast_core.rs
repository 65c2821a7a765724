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
use salesplan::model::{AlternativeLevel, LevelLaw};
use salesplan::scenario::{Criterion, FitSpec, FAMILIES};
use salesplan::sim::{simulate, SimResults, SimSpec};
use salesplan::stats::dist::{self, Family, Fitted};
use salesplan::stats::quantile::sorted_quantile;

/// Territories T-0, T-1, ... in one region, from their monthly series.
fn history(revenue: Vec<Vec<f64>>) -> SalesHistory {
    history_in(revenue, |_| "All")
}

/// Territories T-0, T-1, ..., territory i in region `region(i)`, from
/// their monthly series.
fn history_in(revenue: Vec<Vec<f64>>, region: impl Fn(usize) -> &'static str) -> SalesHistory {
    let territories = (0..revenue.len())
        .map(|i| Territory {
            name: format!("T-{i}"),
            region: region(i).into(),
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

/// `count` territories of `months` periods, period t's value `value(t,
/// z)` from one normal draw z of sd `sd` (seeded by `seed`; drawn for
/// every period, in order, so a value that ignores z keeps the sequence).
fn draws(
    count: usize,
    months: usize,
    seed: u64,
    sd: f64,
    mut value: impl FnMut(usize, f64) -> f64,
) -> Vec<Vec<f64>> {
    let noise = Normal::new(0.0, sd).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            (0..months)
                .map(|t| value(t, noise.sample(&mut rng)))
                .collect()
        })
        .collect()
}

/// `count` territories of 48 months from January selling `level` (cv
/// 0.1) in the months of the year `months` (0 January) and nothing in
/// the others.
fn selling_in(
    count: usize,
    seed: u64,
    level: f64,
    months: std::ops::Range<usize>,
) -> Vec<Vec<f64>> {
    draws(count, 48, seed, 0.1, |t, z| {
        if months.contains(&(t % 12)) {
            level * (1.0 + z)
        } else {
            0.0
        }
    })
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
    // of the time (binomial sd with 40 draws: 0.063; measured at the end
    // of 2026-12-05: 0.725, 29 of 40, mean actual / P50 0.992, unchanged
    // since the compounding trend among the forms; before it 0.75;
    // 2026-11-30, before the prior on alpha: 0.675; 0.525 without the
    // totals' calibration).
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
    assert_share_inside(inside, 40, 0.62..=0.97, "years");
}

/// `inside` of `cells` actuals within their P10-P90, as a share within
/// `range`.
fn assert_share_inside(
    inside: usize,
    cells: usize,
    range: std::ops::RangeInclusive<f64>,
    what: &str,
) {
    let coverage = inside as f64 / cells as f64;
    assert!(
        range.contains(&coverage),
        "{what} inside their P10-P90: {coverage:.3}"
    );
}

#[test]
fn a_random_walks_widths_grow_like_the_square_root_of_the_horizon() {
    // 10 territories x 120 months of a geometric random walk (log steps sd
    // 0.05): the month-h interval's log width grows like sqrt(h), so month
    // 12's is sqrt(12) = 3.5 times month 1's.
    let mut log = 0.0;
    let revenue = draws(10, 120, 77, 0.05, |t, step| {
        if t == 0 {
            log = 1000f64.ln();
        }
        log += step;
        log.exp()
    });
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

/// P10, P50 and P90 of the sum of 12 independent draws from `law`
/// (Monte Carlo, `draws` sums).
fn year_quantiles(law: &Fitted, draws: usize, seed: u64) -> [f64; 3] {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut sums: Vec<f64> = (0..draws)
        .map(|_| (0..12).map(|_| law.sample(&mut rng)).sum())
        .collect();
    sums.sort_by(f64::total_cmp);
    [0.1, 0.5, 0.9].map(|q| sorted_quantile(&sums, q))
}

#[test]
fn iid_noise_from_each_family_is_forecast_as_its_refitted_law_would() {
    // 8 territories x 120 months of iid draws (mean 1000, cv 0.25) from
    // each positive family. The ideal forecast of the next year given the
    // history is the true family refitted to it by maximum likelihood, its
    // year the sum of 12 draws. Per family, the median territory's year
    // P10, P50 and P90 are within 5% of the ideal's, and every territory's
    // within 25%. Measured 2026-12-06 (session 20, the forms' correlated
    // evidence with the held slopes as candidates): 29 of the 32 within
    // 5% at all three, the others 5.6% (LogNormal), 6.9% and 5.6% (Gamma),
    // all at P90; session 19's last code, the same day: 30, the others
    // 5.4% and 6.4%. Session 15 (after the total's
    // sides): 30 of the 32 within 5% at all three, the others 5.4%
    // (LogNormal, at P90) and 5.5% (Gamma, at P90) off; 2026-12-05 after
    // the calibration shrunk by empirical Bayes: the same two, 5.4% and
    // 5.7%; before it, after the
    // calibration weighed by
    // independent origins: 28 of the 32 territories within 5% at all
    // three, the others 5-8% off (LogNormal 1, Gamma 3); after the trend
    // forms' alpha prior, before that: 26 of 32, the others 5-11% off
    // (Normal 1, LogNormal 2, Gamma 3); before the prior, the
    // same day (the compounding trend among the forms, weighted by their
    // chance of forecasting best): 27 of 32, the others 5-11% off;
    // 2026-11-30: 24 of 32, the others 5-17% off, where the pooled rolling-origin
    // choice took a trend or damped form on noise (the 5% for
    // every territory is not met). Monte Carlo error: the year's sd is 7%
    // of its mean and its quantiles' standard errors with 4,000 trials
    // under 0.2% of it.
    let laws = [
        Fitted {
            family: Family::Normal,
            params: [1000.0, 250.0],
        },
        Fitted {
            family: Family::LogNormal,
            params: [1000f64.ln() - 0.5 * 0.246f64.powi(2), 0.246],
        },
        Fitted {
            family: Family::Gamma,
            params: [16.0, 0.016],
        },
        Fitted {
            family: Family::Weibull,
            params: [4.54, 1095.0],
        },
    ];
    for (k, truth) in laws.iter().enumerate() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(400 + k as u64);
        let revenue: Vec<Vec<f64>> = (0..8)
            .map(|_| (0..120).map(|_| truth.sample(&mut rng).max(1.0)).collect())
            .collect();
        let sim = forecast(&history(revenue.clone()), 4000, 17);
        let mut errors: [Vec<f64>; 3] = Default::default();
        for (t, y) in sim.territories.iter().zip(&revenue) {
            let refitted = dist::fit(truth.family, y).unwrap();
            let ideal = year_quantiles(&refitted, 40_000, 5);
            let ours = [0.1, 0.5, 0.9].map(|q| t.year.quantiles[at(&sim, q)]);
            for (q, (o, i)) in ours.iter().zip(&ideal).enumerate() {
                let error = (o / i - 1.0).abs();
                assert!(
                    error < 0.25,
                    "{:?} {}: year quantile {q} {o:.0} against the refitted law's {i:.0}",
                    truth.family,
                    t.name
                );
                errors[q].push(error);
            }
        }
        for (q, e) in errors.iter_mut().enumerate() {
            e.sort_by(f64::total_cmp);
            let median = sorted_quantile(e, 0.5);
            assert!(
                median < 0.05,
                "{:?}: the median territory's year quantile {q} is {median:.3} off",
                truth.family
            );
        }
    }
}

/// Year P10-P90 coverage and mean relative width (P90 - P10 over P50) of
/// `reps` companies of 10 independent territories, each a local level
/// (noise cv 0.15, level steps of sd `wander` a month; 0: iid noise), with
/// `months` of history.
fn local_level_year(months: usize, wander: f64, reps: u64) -> (f64, f64) {
    let noise = Normal::new(0.0, 0.15).unwrap();
    let step = Normal::new(0.0, wander).unwrap();
    let (mut inside, mut width, mut count) = (0usize, 0.0, 0usize);
    for rep in 0..reps {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(900 + rep);
        let paths: Vec<Vec<f64>> = (0..10)
            .map(|_| {
                let mut level = 1000.0;
                (0..months + 12)
                    .map(|_| {
                        level *= 1.0 + step.sample(&mut rng);
                        level * (1.0 + noise.sample(&mut rng))
                    })
                    .collect()
            })
            .collect();
        let h = history(paths.iter().map(|p| p[..months].to_vec()).collect());
        let sim = forecast(&h, 2000, rep);
        for (t, path) in sim.territories.iter().zip(&paths) {
            let year = &t.year.quantiles;
            let (lo, mid, hi) = (
                year[at(&sim, 0.1)],
                year[at(&sim, 0.5)],
                year[at(&sim, 0.9)],
            );
            let actual: f64 = path[months..].iter().sum();
            if lo <= actual && actual <= hi {
                inside += 1;
            }
            width += (hi - lo) / mid;
            count += 1;
        }
    }
    (inside as f64 / count as f64, width / count as f64)
}

#[test]
fn twenty_months_are_scored_and_calibrated_on_their_own_rolling_origins() {
    // 20 months and a 12-month horizon leave two origins a quarter horizon
    // apart (17 and 14, each with a season of training); the step is
    // halved down to one month, which leaves eight (19 back to 12), so the
    // forms are chosen by how they forecast and the spread is calibrated
    // on those errors, not left to AICc with no calibration.
    let noise = Normal::new(0.0, 0.1).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2012);
    let h = history(
        (0..12)
            .map(|_| {
                (0..20)
                    .map(|_| 1000.0 * (1.0 + noise.sample(&mut rng)))
                    .collect()
            })
            .collect(),
    );
    let models = fit(&h, h.n_periods(), 12, &spec());
    for t in &models.territories {
        let d = &t.diagnostics;
        assert_eq!(d.origins, 8, "{}: {} origins", t.name, d.origins);
        assert!(
            d.chosen_by.starts_with("rolling-origin"),
            "{}: chosen by {}",
            t.name,
            d.chosen_by
        );
        assert!(d.calibration.is_some(), "{}: no calibration", t.name);
    }
}

#[test]
fn two_years_of_history_are_still_calibrated_and_wider_than_ten() {
    // 12 companies of 10 territories each: binomial sd of an 80% coverage
    // over 120 territories 0.037, so the band 0.70-0.90 is +-2.7 sd.
    // Measured at the end of 2026-12-05 (session 10) on a wandering
    // level: 0.758 with 24 months and 0.750 with 120, the widths 0.203 and
    // 0.192 of the median (before the session's empirical-Bayes
    // calibration: 0.750 and 0.750, widths 0.201 and 0.200; 2026-11-30,
    // before the prior on alpha: 0.733 and 0.733). With 24 months the
    // level's wander is hard to tell from noise (its smoothing weight
    // alone is estimated near 0; the company's pooled evidence moves it),
    // so the width is barely wider than with 120 (not asserted); on iid
    // noise, where the difference is the level's estimation error, it is.
    let (short_cov, _) = local_level_year(24, 0.02, 12);
    let (long_cov, _) = local_level_year(120, 0.02, 12);
    assert!(
        (0.70..=0.90).contains(&short_cov),
        "24 months: year coverage {short_cov}"
    );
    assert!(
        (0.70..=0.90).contains(&long_cov),
        "120 months: year coverage {long_cov}"
    );
    let (short_cov, short_width) = local_level_year(24, 0.0, 12);
    let (long_cov, long_width) = local_level_year(120, 0.0, 12);
    // On iid noise the intervals err wide, not narrow (measured at the end
    // of 2026-12-05: 0.892 and 0.842, widths 0.163 and 0.122 against the
    // ideal 0.136 and 0.116: the totals' calibration only ever widens, and
    // a company's factor from few whole-horizon origins is noisy); only
    // the narrow side is held.
    assert!(
        short_cov >= 0.70,
        "iid, 24 months: year coverage {short_cov}"
    );
    assert!(
        long_cov >= 0.70,
        "iid, 120 months: year coverage {long_cov}"
    );
    assert!(
        short_width > long_width,
        "iid: 24 months' width {short_width} not above 120 months' {long_width}"
    );
}

#[test]
fn a_territory_of_credits_is_forecast_from_its_own_periods_with_a_warning() {
    // Three territories of sales and one whose every month is a credit of
    // 50-150 (mean -100): it used to forecast exactly 0. Its year must be
    // its history's mean x 12 (Monte Carlo sd with 4,000 trials: about
    // 0.5% of it), and the others untouched by it (no NaN anywhere).
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
    let sales = rand_distr::Uniform::new(800.0, 1200.0).unwrap();
    let credit = rand_distr::Uniform::new(50.0, 150.0).unwrap();
    let mut revenue: Vec<Vec<f64>> = (0..3)
        .map(|_| (0..36).map(|_| sales.sample(&mut rng)).collect())
        .collect();
    revenue.push((0..36).map(|_| -credit.sample(&mut rng)).collect());
    let history_mean = revenue[3].iter().sum::<f64>() / 36.0;
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    assert!(
        models
            .warnings
            .iter()
            .any(|w| w.contains("'T-3'") && w.contains("credits exceed")),
        "{:?}",
        models.warnings
    );
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 4, 4000));
    let year = sim.territories[3].year.mean;
    assert!(
        (year / (12.0 * history_mean) - 1.0).abs() < 0.03,
        "year {year} against {}",
        12.0 * history_mean
    );
    assert!(sim.territories[3].year.quantiles[at(&sim, 0.9)] < 0.0);
    for t in &sim.territories {
        assert!(t.periods.iter().all(|p| p.mean.is_finite()), "{}", t.name);
    }
}

#[test]
fn a_market_growing_by_a_rate_is_forecast_without_bias() {
    // 40 territories in one region, 108 months of a market growing 10% a
    // year (compounding), each with its own seasonal shape and 5% noise.
    // The year's median must be unbiased for the expected total: the
    // median over territories of P50 / truth within 0.9% of 1. The
    // territories share their region's growth path and its estimation
    // error, so the median moves with the data's draw: over data seeds
    // 2026 and 1..=11 it read 0.9949, 0.9982, 1.0020, 0.9981, 1.0040,
    // 1.0036, 0.9990, 0.9976, 0.9986, 1.0021, 0.9989, 1.0018 (mean
    // 1.0001, standard deviation 0.0028; measured 2026-12-05 with the
    // compounding trend among the forms, before its review's fixes; this
    // seed reads 0.9989 after them), so 0.9% is three standard
    // deviations. A forecast whose growth ran low by a year's tenth of its
    // rate (1%) would fail. Before the compounding form this seed read
    // 0.9989, and before the compounding region path 1.0001 (on
    // tools/synthetic_zoo.py's seasonal growth, with territories of very
    // different sizes in four regions, that path took the median from
    // 1.0% to 0.3% low).
    let noise = Normal::new(0.0, 0.05).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
    let mut revenue = Vec::new();
    let mut truth = Vec::new();
    for i in 0..40 {
        let level = 5000.0 * (1.0 + i as f64 / 10.0);
        let (amp, phase) = (0.1 + 0.3 * (i % 7) as f64 / 7.0, i as f64);
        let mean = |t: usize| {
            level
                * (1.0 + amp * (2.0 * std::f64::consts::PI * (t % 12) as f64 / 12.0 + phase).sin())
                * 1.1f64.powf(t as f64 / 12.0)
        };
        revenue.push(
            (0..108)
                .map(|t| mean(t) * (1.0 + noise.sample(&mut rng)))
                .collect(),
        );
        truth.push((108..120).map(mean).sum::<f64>());
    }
    let sim = forecast(&history(revenue), 2000, 7);
    let mut ratios: Vec<f64> = sim
        .territories
        .iter()
        .zip(&truth)
        .map(|(t, truth)| t.year.quantiles[at(&sim, 0.5)] / truth)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median = sorted_quantile(&ratios, 0.5);
    assert!((median - 1.0).abs() < 0.009, "P50 / truth: median {median}");
}

#[test]
fn two_years_of_a_market_growing_ten_percent_keep_their_growth() {
    // 40 territories in four regions, 24 months of a market growing 10% a
    // year, each with its own seasonal shape (peaks spread over the year)
    // and 5% noise. With two years no period of a territory's first or
    // last half year has a centred level, and its seasonal deviations had
    // been measured against its plain mean: the growth went into every
    // territory's season (December 10% above January) and out of its
    // level, and the year's medians ran low. Over data seeds 2026-2029
    // the median over territories of log(P50 / truth) read -0.042,
    // -0.057, -0.018 and -0.048 (mean -0.041); measured against each
    // territory's trend line (`fit::own_season`), -0.011, -0.019, +0.015
    // and -0.011 (mean -0.006). Over six seeds the medians' standard
    // deviation was 0.012, so the mean of four (sd 0.006) sits 2.3 of its
    // standard deviations inside the 0.02 bound: another draw of the data
    // would fail about one time in a hundred; these seeds are fixed.
    // 2026-12-08.
    let noise = Normal::new(0.0, 0.05).unwrap();
    let mut medians = Vec::new();
    for seed in 2026..2030u64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (mut revenue, mut truth) = (Vec::new(), Vec::new());
        for i in 0..40 {
            let level = 5000.0 * (1.0 + i as f64 / 10.0);
            let (amp, phase) = (0.1 + 0.3 * (i % 7) as f64 / 7.0, i as f64);
            let mean = |t: usize| {
                level
                    * (1.0 + amp * (std::f64::consts::TAU * (t % 12) as f64 / 12.0 + phase).sin())
                    * 1.1f64.powf(t as f64 / 12.0)
            };
            let path: Vec<f64> = (0..36)
                .map(|t| mean(t) * (1.0 + noise.sample(&mut rng)))
                .collect();
            revenue.push(path[..24].to_vec());
            truth.push((24..36).map(mean).sum::<f64>());
        }
        let regions = ["North", "South", "East", "West"];
        let sim = forecast(&history_in(revenue, |i| regions[i % 4]), 2000, 7);
        let mut logs: Vec<f64> = sim
            .territories
            .iter()
            .zip(&truth)
            .map(|(t, truth)| (t.year.quantiles[at(&sim, 0.5)] / truth).ln())
            .collect();
        logs.sort_by(f64::total_cmp);
        medians.push(sorted_quantile(&logs, 0.5));
    }
    let bias = medians.iter().sum::<f64>() / medians.len() as f64;
    assert!(bias.abs() < 0.02, "log(P50 / truth) medians {medians:?}");
}

/// The persistence `fit` carries (`FittedModels::persistence`) for 30
/// territories of 72 months, each `level(t)` times 5% noise.
fn persistence_of(seed: u64, mut level: impl FnMut(&mut Xoshiro256PlusPlus) -> f64) -> f64 {
    let noise = Normal::new(0.0, 0.05).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let revenue: Vec<Vec<f64>> = (0..30)
        .map(|_| {
            (0..72)
                .map(|_| 1000.0 * level(&mut rng) * (1.0 + noise.sample(&mut rng)))
                .collect()
        })
        .collect();
    let h = history(revenue);
    fit(&h, h.n_periods(), 12, &spec()).persistence
}

#[test]
fn persistence_is_kept_for_a_wandering_level_and_cut_for_deviations_that_fade() {
    // A random walk's surprises stay: the measured persistence is the
    // fitted one (the plain local level's errors grew as its spread did;
    // measured 2026-12-05: 1).
    let step = Normal::new(0.0, 0.03).unwrap();
    let mut walk = 1.0;
    let mut t = 0usize;
    let r_walk = persistence_of(11, |rng| {
        // A fresh walk for each territory (72 periods each).
        if t.is_multiple_of(72) {
            walk = 1.0;
        }
        t += 1;
        walk *= 1.0 + step.sample(rng);
        walk
    });
    assert!(r_walk > 0.95, "random walks: persistence {r_walk}");
    // Deviations from a fixed level that fade (AR(1), 0.6 a month, as the
    // demo's generator draws its shocks): the one-step fit's alpha follows
    // them, but a year out they are gone, so less is carried (measured
    // 2026-12-05: 0.66; 0.50 since session 26 closes the halves' gap).
    let shock = Normal::new(0.0, 0.06).unwrap();
    let mut dev = 0.0;
    let r_fading = persistence_of(12, |rng| {
        dev = 0.6 * dev + shock.sample(rng);
        1.0 + dev
    });
    assert!(r_fading < 0.9, "fading deviations: persistence {r_fading}");
}

#[test]
fn an_exactly_regular_history_is_forecast_on_its_line_and_tight() {
    // Two territories selling 990, 991, ... 1,013 a month: every residual
    // ratio is the same, so no family can be fitted. The next year is
    // 1,014 + ... + 1,025 = 12,234 each; until 2026-12-06 their residual
    // law was borrowed (a log spread of 0.5 with none to borrow from) and
    // the year's P50 was about 7,000.
    let line: Vec<f64> = (0..24).map(|m| 990.0 + m as f64).collect();
    let h = history(vec![line.clone(), line]);
    let sim = forecast(&h, 2000, 3);
    for t in &sim.territories {
        let year = &t.year.quantiles;
        let (lo, mid, hi) = (
            year[at(&sim, 0.1)],
            year[at(&sim, 0.5)],
            year[at(&sim, 0.9)],
        );
        assert!((mid / 12_234.0 - 1.0).abs() < 0.01, "P50 {mid}");
        assert!((hi - lo) / mid < 0.02, "P10 {lo} P90 {hi}");
    }
}

#[test]
fn a_sparse_territory_borrows_the_spread_of_the_others_whatever_their_family() {
    // Ten territories of gamma months (cv 0.2), fitted with the gamma
    // family only, and one with four sales in 36 months: its residual law
    // is a lognormal with the others' spread as a log spread, about
    // sqrt(ln(1 + 0.2^2)) = 0.198. Until 2026-12-06 only territories that
    // chose the lognormal counted, and with none 0.5 was used.
    let gamma = Gamma::new(25.0, 40.0).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
    let mut revenue: Vec<Vec<f64>> = (0..10)
        .map(|_| (0..36).map(|_| gamma.sample(&mut rng)).collect())
        .collect();
    revenue.push(
        (0..36)
            .map(|t| if t % 9 == 4 { 900.0 } else { 0.0 })
            .collect(),
    );
    let gamma_only = FitSpec {
        criterion: Criterion::Aic,
        families: vec!["gamma".to_string()],
    };
    let models = fit(&history(revenue), 36, 12, &gamma_only);
    let sparse = &models.territories[10].diagnostics;
    assert!(sparse.pooled, "{}", sparse.model);
    let sdlog = sparse.params["sdlog"].as_f64().unwrap();
    assert!((0.12..0.3).contains(&sdlog), "pooled sdlog {sdlog}");
}

/// `territories` series of `months` (seeded by `seed`): a level from 1,000
/// moved each month by a normal step of sd `sd[1]` plus `drift(month)`,
/// times one plus normal noise of sd `sd[0]`.
fn wandering_levels(
    seed: u64,
    territories: usize,
    months: usize,
    sd: [f64; 2],
    drift: impl Fn(usize) -> f64,
) -> Vec<Vec<f64>> {
    let noise = Normal::new(0.0, sd[0]).unwrap();
    let step = Normal::new(0.0, sd[1]).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..territories)
        .map(|_| {
            let mut level = 1000.0;
            (0..months)
                .map(|t| {
                    level *= 1.0 + step.sample(&mut rng) + drift(t);
                    level * (1.0 + noise.sample(&mut rng))
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_simulated_spread_is_on_the_basis_its_calibration_was_measured_on() {
    // The calibration factor is measured against the forms' predicted
    // variance, whose one-step part divides the squared errors by n less
    // the form's parameters (at least one: a stable level's mean); the
    // residual law is fitted by maximum likelihood (over n). So on 24
    // months without a seasonal profile each territory's law must be
    // widened by at least its factor times sqrt(24 / 23). Before
    // 2026-12-06 (session 14) a territory with its own rolling-origin
    // errors got its factor alone, 4-11% narrower than measured. At most
    // the factor times sqrt(24 / 19) (a damped trend's five parameters):
    // the basis is not converted twice.
    let h = history(wandering_levels(1406, 12, 24, [0.1, 0.03], |_| 0.0));
    let models = fit(&h, h.n_periods(), 12, &spec());
    let least = (24.0f64 / 23.0).sqrt();
    let most = (24.0f64 / 19.0).sqrt();
    let mut checked = 0;
    for t in &models.territories {
        let d = &t.diagnostics;
        assert!(!d.seasonal, "{}: a seasonal profile on noise", t.name);
        let Some(k) = d.calibration else { continue };
        assert!(
            d.spread >= (k * least).max(1.0) - 1e-9,
            "{}: spread {} below calibration {k} x {least}",
            t.name,
            d.spread
        );
        assert!(
            d.spread <= (k * most).max(1.0) + 1e-9,
            "{}: spread {} above calibration {k} x {most}",
            t.name,
            d.spread
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} territories calibrated");
}

/// Twelve territories of 60 months, 5% noise around a level that is flat
/// for three years and then grows by `growth` a month (upward, or down
/// for a negative one: a market that turned), each with its own
/// wandering; each territory's horizon-total factors below and above its
/// median, and its year's P50 less P10 and P90 less P50.
fn sides_after_a_turn(growth: f64, seed: u64) -> Vec<([f64; 2], [f64; 2])> {
    let turn = |t: usize| if t >= 36 { growth } else { 0.0 };
    let h = history(wandering_levels(seed, 12, 60, [0.05, 0.01], turn));
    let models = fit(&h, h.n_periods(), 12, &spec());
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, seed, 4000));
    models
        .territories
        .iter()
        .zip(&sim.territories)
        .filter_map(|(m, t)| {
            let sides = m.diagnostics.total_calibration_sides?;
            let year = &t.year.quantiles;
            let (lo, mid, hi) = (
                year[at(&sim, 0.1)],
                year[at(&sim, 0.5)],
                year[at(&sim, 0.9)],
            );
            Some((sides, [mid - lo, hi - mid]))
        })
        .collect()
}

#[test]
fn totals_that_kept_beating_their_forecasts_widen_the_year_above_not_below() {
    // Conformal-style sides (fit::skew): where the market turned to grow
    // two years before the origin, the whole spans since missed
    // upward, so the year is widened above its median more than below.
    // Measured 2026-12-06 (seed 1407): 11 of 12 territories with the
    // factor above over the one below, and the year's median skew
    // (P90 - P50 less P50 - P10, over their sum) 0.141 against 0.039
    // for the same territories without the turn (a multiplicative
    // forecast's own skew). With both sides at the two-sided factor
    // (before the sides) it is 0.014 after the turn and 0.029 without.
    let skew = |r: &[([f64; 2], [f64; 2])]| {
        let mut s: Vec<f64> = r
            .iter()
            .map(|(_, [below, above])| (above - below) / (above + below))
            .collect();
        s.sort_unstable_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let turned = sides_after_a_turn(0.02, 1407);
    let flat = sides_after_a_turn(0.0, 1407);
    assert!(turned.len() >= 10 && flat.len() >= 10, "too few calibrated");
    let wider_above = turned.iter().filter(|([b, a], _)| a > b).count();
    assert!(
        wider_above * 4 >= turned.len() * 3,
        "{wider_above} of {}",
        turned.len()
    );
    let (t, f) = (skew(&turned), skew(&flat));
    assert!(
        t >= 0.1 && t >= f + 0.05,
        "skew {t} after the turn, {f} without"
    );
}

#[test]
fn a_territory_that_opened_late_is_forecast_from_its_first_sale() {
    // Eight territories of iid noise (mean 1000 a month, cv 0.1) over 48
    // months; four opened late, with zeros before (as the loader fills a
    // territory's periods before its first row). Fitted from their first
    // sale, their year is about 12,000 like the others'; fitted on the
    // zeros too, the jump read as growth: P50s of 8-38k and P90s of 110-254k
    // (measured before 2026-12-06, session 17). 12% is over 3 standard errors
    // of a mean of 8 months (0.1 / sqrt(8) = 3.5%).
    let noise = Normal::new(0.0, 0.1).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4817);
    let opened = [0, 0, 0, 0, 24, 30, 36, 40];
    let revenue: Vec<Vec<f64>> = opened
        .iter()
        .map(|&start| {
            (0..48)
                .map(|t| {
                    let v = 1000.0 * (1.0 + noise.sample(&mut rng));
                    if t < start {
                        0.0
                    } else {
                        v
                    }
                })
                .collect()
        })
        .collect();
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 3, 4000));
    for ((t, m), &start) in sim.territories.iter().zip(&models.territories).zip(&opened) {
        assert_eq!(m.n_periods, 48 - start, "{}", m.name);
        let year = &t.year.quantiles;
        let (p50, p90) = (year[at(&sim, 0.5)], year[at(&sim, 0.9)]);
        assert!(
            (p50 / 12_000.0 - 1.0).abs() < 0.12,
            "{} (opened in month {start}): year P50 {p50:.0}",
            m.name
        );
        assert!(
            p90 / p50 < 1.3,
            "{} (opened in month {start}): year P90 {p90:.0} over P50 {p50:.0}",
            m.name
        );
        let named = models
            .warnings
            .iter()
            .any(|w| w.contains(&format!("'{}' has no sales in the {start} months", m.name)));
        assert_eq!(named, start > 0, "{}: {:?}", m.name, models.warnings);
        // A year or less of its own (no rolling origin leaves a season of
        // training): its forms are weighted by the region's evidence.
        if 48 - start <= 12 {
            assert!(
                m.diagnostics
                    .chosen_by
                    .starts_with("region's rolling-origin CRPS"),
                "{}: chosen by {}",
                m.name,
                m.diagnostics.chosen_by
            );
        }
    }
}

#[test]
fn a_one_off_spike_recurs_at_its_rate_without_moving_the_median() {
    // Four territories of noise (1000 a month, cv 0.05) over 48 months; one
    // sold 50 times its level in month 30. Its ratio stays in the residual
    // law as a mass of its own (one period in 48), so the year's median is
    // its run rate and the spike shows in the upper tail: P(at least one in
    // 12 months) = 1 - (47/48)^12 = 22%, so P90 carries one. With the spike
    // in the family (its mean the sample's, 2.0) the year's P50 was 24,049
    // and its P10 16,471, above every year of the history (measured before
    // 2026-12-06, session 17). 5% is over 6 standard errors of a year's
    // median here.
    let mut revenue = draws(4, 48, 3050, 0.05, |_, z| 1000.0 * (1.0 + z));
    revenue[0][30] = 50_000.0;
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 5, 4000));
    let year = &sim.territories[0].year.quantiles;
    let (p10, p50, p90) = (
        year[at(&sim, 0.1)],
        year[at(&sim, 0.5)],
        year[at(&sim, 0.9)],
    );
    assert!(
        (p50 / 12_000.0 - 1.0).abs() < 0.05,
        "year P10/P50/P90 {p10:.0} / {p50:.0} / {p90:.0}"
    );
    assert!(p10 < 12_000.0, "year P10 {p10:.0}");
    assert!(p90 > 50_000.0, "year P90 {p90:.0}: the spike's recurrence");
    let params = &models.territories[0].diagnostics.params;
    assert!(params.get("p_spike").is_some(), "{params}");
}

#[test]
fn a_territory_whose_rows_all_came_to_nothing_is_forecast_at_zero() {
    // Three territories of 1,000 a month over 36 months and one whose
    // every month is zero. With rows in the sales table (`first_row`),
    // it sold nothing over them: forecast at zero. Named only in the
    // accounts or reps table (no rows), it is new: its region's median
    // level. Before session 30 both were new, and a territory with four
    // years of zero rows added a whole territory's median to its
    // company's forecast (a helper's probe: 35k a year on 110k).
    let mut revenue = draws(3, 36, 3062, 0.1, |_, z| 1000.0 * (1.0 + z));
    revenue.push(vec![0.0; 36]);
    let mut h = history(revenue);
    let year_p50 = |h: &SalesHistory| {
        let sim = forecast(h, 2000, 7);
        sim.territories[3].year.quantiles[at(&sim, 0.5)]
    };
    let new = year_p50(&h);
    assert!(
        (new / 12_000.0 - 1.0).abs() < 0.3,
        "listed only: year P50 {new:.0}"
    );
    h.first_row.insert("T-3".into(), 0);
    let models = fit(&h, h.n_periods(), 12, &spec());
    assert!(
        models
            .warnings
            .iter()
            .any(|w| w.contains("'T-3' sold nothing")),
        "{:?}",
        models.warnings
    );
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 7, 2000));
    let year = &sim.territories[3].year.quantiles;
    assert!(year.iter().all(|&v| v == 0.0), "with rows: {year:?}");
    // A backtest's history cut before its first row: new again.
    h.first_row.insert("T-3".into(), 30);
    let cut = h.truncated(24);
    assert!(!cut.first_row.contains_key("T-3"));
}

#[test]
fn a_spike_in_the_last_month_does_not_sink_the_level() {
    // Eight territories whose levels wander 3% a month each, under noise
    // of 5% (48 months); one sold 100 times
    // its level in the last month (a year-end deal). The fit caps the
    // spike before estimating the state, and the simulation must read it
    // the same way: an ordinary month is a surprise against the ordinary
    // months' mean, and a drawn spike does not move the state (the model's
    // unit test holds both on a law of known parts:
    // `a_spike_moves_the_state_not_at_all_and_ordinary_periods_are_not_shortfalls`). Session 29's code measured an ordinary
    // month against the mean the spikes lift (about 3 times it), so its
    // moving level sank every month: the probe of session 30 (one such
    // territory of 1,000 a month) read monthly P50s from 1,139 in
    // January to 424 in December and a December P05 of 0. Now December's
    // P50 stays within 10% of January's (a month's P50 has a standard
    // error under 1% at 4,000 trials; the level's own wander moves a
    // median by alpha^2 sigma^2 / 2 a month, far less) and its P10 above
    // half of it.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3061);
    let (step, noise) = (
        Normal::new(0.0, 0.03).unwrap(),
        Normal::new(0.0, 0.05).unwrap(),
    );
    let mut revenue: Vec<Vec<f64>> = (0..8)
        .map(|_| {
            let mut level = 1000.0;
            (0..48)
                .map(|_| {
                    level *= 1.0 + step.sample(&mut rng);
                    level * (1.0 + noise.sample(&mut rng))
                })
                .collect()
        })
        .collect();
    revenue[0][47] *= 100.0;
    let h = history(revenue);
    let sim = forecast(&h, 4000, 6);
    let (p10, p50) = (at(&sim, 0.1), at(&sim, 0.5));
    let t = &sim.territories[0];
    let first = t.periods[0].quantiles[p50];
    let last = &t.periods[11].quantiles;
    assert!(
        (last[p50] / first - 1.0).abs() < 0.1,
        "P50 {first:.0} in the first month, {:.0} in the last",
        last[p50]
    );
    assert!(
        last[p10] > 0.5 * first,
        "the last month's P10 {:.0} (the first's P50 {first:.0})",
        last[p10]
    );
}

/// 48 months of territories sharing a region's wandering level (2% a
/// month) under their own noise (5%), each selling only within its span
/// `[start, end)` (zeros outside, as the loader fills them).
fn shared_region(seed: u64, spans: &[(usize, usize)]) -> Vec<Vec<f64>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let step = Normal::new(0.0, 0.02).unwrap();
    let noise = Normal::new(0.0, 0.05).unwrap();
    let mut level = 1.0;
    let common: Vec<f64> = (0..48)
        .map(|_| {
            level *= 1.0 + step.sample(&mut rng);
            level
        })
        .collect();
    spans
        .iter()
        .map(|&(start, end)| {
            (0..48)
                .map(|t| {
                    let v = 1000.0 * common[t] * (1.0 + noise.sample(&mut rng));
                    if (start..end).contains(&t) {
                        v
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect()
}

/// Year P50 of each territory, fitted on the whole history.
fn year_p50s(revenue: Vec<Vec<f64>>) -> Vec<f64> {
    let sim = forecast(&history(revenue), 4000, 9);
    sim.territories
        .iter()
        .map(|t| t.year.quantiles[at(&sim, 0.5)])
        .collect()
}

/// The first eight territories of `revenue` (its whole span) are forecast
/// within `tolerance` of their year P50 without the others (`what`:
/// what the others did).
fn eight_forecast_as_alone(revenue: Vec<Vec<f64>>, tolerance: f64, what: &str) {
    let alone = year_p50s(revenue[..8].to_vec());
    let with = year_p50s(revenue);
    for (k, (a, w)) in alone.iter().zip(&with).enumerate() {
        assert!(
            (w / a - 1.0).abs() < tolerance,
            "T-{k}: year P50 {w:.0} with the {what}, {a:.0} without"
        );
    }
}

#[test]
fn territories_opening_in_a_region_are_not_its_growth() {
    // Eight territories share a region's wandering level; six more open
    // over the last two years. The region's growth path, which the
    // group-share form follows, is chained over the territories it
    // already had, so the openings do not read as growth: the established
    // territories are forecast as without them. On the plain total their
    // year P50 ran 1-6% higher, their share form lost to a local level (the
    // shares' alpha prior went 0.0001 -> 0.73) (measured before 2026-12-06,
    // session 17). 1.5% is over 10 Monte Carlo standard errors of a year
    // median here.
    let mut spans = vec![(0, 48); 8];
    spans.extend([24, 28, 32, 36, 40, 44].map(|start| (start, 48)));
    eight_forecast_as_alone(shared_region(123, &spans), 0.015, "openings");
}

#[test]
fn territories_closing_in_a_region_are_not_its_decline() {
    // Eight territories share a region's wandering level; three more stop
    // selling 6-10 months before the origin. The region's growth path is
    // chained over the territories selling in both periods, the alpha
    // prior pools each territory's periods up to its last sale, and the
    // closed territories' misses are left out of the region's evidence on
    // the forms, the company's calibration and the common shocks. With the
    // closings in all of these, the level prior's mode went 0.12 -> 0.73
    // here (0.27 -> 0.73 on a numpy draw of the same kind, whose eight's
    // year P50 ran 1-4% lower; measured before 2026-12-06, session 17);
    // with them out of the growth path and the prior only, 1-2% lower.
    // 1.5% is over 10 Monte Carlo standard errors of a year median here.
    let mut spans = vec![(0, 48); 8];
    spans.extend([(0, 38), (0, 40), (0, 42)]);
    let revenue = shared_region(321, &spans);
    let fitted = |revenue: &[Vec<f64>]| {
        let h = history(revenue.to_vec());
        fit(&h, h.n_periods(), 12, &spec()).alpha_prior
    };
    let (alone, with) = (fitted(&revenue[..8]), fitted(&revenue));
    assert_eq!(alone.level, with.level, "level prior's mode");
    assert_eq!(alone.share, with.share, "shares' prior's mode");
    eight_forecast_as_alone(revenue, 0.015, "closings");
}

#[test]
fn a_market_that_grew_a_hundredfold_keeps_a_one_step_spread_of_its_own_errors() {
    // Four territories growing 15% a month for 36 months (100 -> 15,000)
    // under 5% noise. The residual ratios' expected values are floored at
    // 5% of the level over the season around each period; floored at 5% of
    // the last level, the whole first year's expected sat far above its
    // actuals, ratios of 0.25-0.75 made the law wide, and the next month's
    // P10 was 0.28 of its P50 (measured before 2026-12-06, session 17; 0.83
    // with the floor at 5% of the history's mean, 0.87-0.88 now).
    let revenue = draws(4, 36, 1515, 0.05, |t, z| {
        100.0 * 1.15f64.powi(t as i32) * (1.0 + z)
    });
    let sim = forecast(&history(revenue), 4000, 15);
    for (k, t) in sim.territories.iter().enumerate() {
        let first = &t.periods[0].quantiles;
        let (p10, p50) = (first[at(&sim, 0.1)], first[at(&sim, 0.5)]);
        assert!(
            p10 > 0.6 * p50,
            "T-{k}: next month's P10 {p10:.0} against its P50 {p50:.0}"
        );
    }
}

#[test]
fn a_new_territory_ramping_up_is_forecast_near_its_full_rate() {
    // Six territories of noise at 1,000 a month (cv 0.08) for 48 months,
    // and one that opened a year before the origin and ramped from 20% to
    // its full 1,000 over its first six months. With no rolling origin of
    // its own, its forms are weighed by its region's evidence (a stable
    // mean and a local level forecast the others best) times its own
    // likelihood (a stable mean fits a ramp badly): year P50 13.5k here.
    // By AICc alone an undamped trend extrapolated the ramp (16.4k, +36%;
    // 17.7k on a numpy draw of this kind); by the region's evidence alone
    // the stable mean averaged it (9.3k, -23%); measured 2026-12-06,
    // session 17. 14.2k (+18%) since session 26: the six noise
    // territories' errors do not grow over the horizon, so the company's
    // persistence factor is 0 (the rolling origins' gap between the
    // horizon's halves closed rather than left at a standard error), and
    // the ramp's trend forms are no longer skewed down by a wandering
    // level: its median nears its mixture's mean. The bound still fails
    // the trend alone and the stable mean alone.
    let noise = Normal::new(0.0, 0.08).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(36);
    let mut revenue: Vec<Vec<f64>> = (0..6)
        .map(|_| {
            (0..48)
                .map(|_| 1000.0 * (1.0 + noise.sample(&mut rng)))
                .collect()
        })
        .collect();
    revenue.push(
        (0..48)
            .map(|t| {
                let share = if t < 36 {
                    0.0
                } else {
                    (0.2 + 0.8 * (t - 36) as f64 / 6.0).min(1.0)
                };
                1000.0 * share * (1.0 + noise.sample(&mut rng))
            })
            .collect(),
    );
    let sim = forecast(&history(revenue), 4000, 36);
    let p50 = sim.territories[6].year.quantiles[at(&sim, 0.5)];
    assert!(
        (p50 / 12_000.0 - 1.0).abs() < 0.2,
        "year P50 {p50:.0} for a full rate of 12,000"
    );
}

#[test]
fn a_territory_vacant_for_a_year_is_forecast_from_when_it_resumed() {
    // Six territories of noise at 1,000 a month (cv 0.08) over 48 months;
    // one sold nothing in months 20-31 (a vacancy between two reps, or
    // rows missing). Its fit starts after the spell. Fitted through it,
    // the residual law took a quarter of its months as empty: year P10 /
    // P50 / P90 0.4k / 8.6k / 17.2k on a numpy draw of this kind (measured
    // 2026-12-06, session 17). 8% is over 4 standard errors of a 16-month
    // mean (0.08 / 4 = 2%).
    let mut revenue = draws(6, 48, 2031, 0.08, |_, z| 1000.0 * (1.0 + z));
    revenue[0][20..32].fill(0.0);
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    assert_eq!(models.territories[0].n_periods, 16);
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 4, 4000));
    let year = &sim.territories[0].year.quantiles;
    let (p10, p50) = (year[at(&sim, 0.1)], year[at(&sim, 0.5)]);
    assert!(
        (p50 / 12_000.0 - 1.0).abs() < 0.08,
        "year P50 {p50:.0} for 12,000"
    );
    assert!(p10 > 0.8 * 12_000.0, "year P10 {p10:.0}");
    assert!(
        models
            .warnings
            .iter()
            .any(|w| w.contains("sold nothing in the 12 months")),
        "{:?}",
        models.warnings
    );
}

#[test]
fn a_company_closed_every_winter_is_forecast_at_zero_then_and_in_full_in_season() {
    // Six territories selling about 2,000 a month (cv 0.1) from May to
    // September and nothing in the other months, over 48 months: a year
    // of 10,000 (sd 447). Fitted with the closed months as months at zero,
    // every month's median was zero and the year's P10 / P50 / P90 were
    // 2.7k / 10.8k / 20.9k on a numpy draw of this kind (measured
    // 2026-12-06, session 18). The level rests on 20 selling months (a
    // standard error of 0.1 / sqrt(20) = 2.2%): 7% is three of them.
    let revenue = selling_in(6, 5309, 2000.0, 4..9);
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    assert!(
        models.warnings.iter().any(|w| w
            .contains("the company sold nothing in Jan, Feb, Mar, Apr, Oct, Nov, Dec in any year")),
        "{:?}",
        models.warnings
    );
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 8, 4000));
    let (p10, p50, p90) = (at(&sim, 0.1), at(&sim, 0.5), at(&sim, 0.9));
    for (t, m) in sim.territories.iter().zip(&models.territories) {
        assert_eq!(m.n_periods, 20, "{}: fitted on its selling months", m.name);
        for (month, q) in t.periods.iter().enumerate() {
            let q = &q.quantiles;
            if (4..9).contains(&month) {
                assert!(
                    q[p10] > 1200.0 && (q[p50] / 2000.0 - 1.0).abs() < 0.1,
                    "{} month {month}: P10 {:.0}, P50 {:.0}",
                    m.name,
                    q[p10],
                    q[p50]
                );
            } else {
                assert_eq!(q[p90], 0.0, "{} month {month} is closed", m.name);
            }
        }
        let year = &t.year.quantiles;
        assert!(
            (year[p50] / 10_000.0 - 1.0).abs() < 0.07
                && year[p10] > 8_500.0
                && year[p90] < 11_500.0,
            "{}: year P10 / P50 / P90 {:.0} / {:.0} / {:.0}",
            m.name,
            year[p10],
            year[p50],
            year[p90]
        );
    }
}

#[test]
fn a_shutdown_of_a_few_months_does_not_take_the_season_away() {
    // Eight territories with a ±25% season (noise cv 0.08) over 60 months,
    // months 39-41 (a spring, 18 months before the origin) at 30% of their
    // usual everywhere. The shutdown's squares had outweighed the season
    // in the company's profile: no territory was seasonal, every month of
    // the next year was forecast alike, and the monthly medians missed
    // the truth by 16% on average on a numpy draw of this kind (measured
    // 2026-12-06, session 18; 6% since). 10% is over four standard errors
    // of a territory's mean of 5 Januaries (0.08 / sqrt(5) = 3.6%) and
    // allows the profile's own error.
    let season =
        |t: usize| 1.0 + 0.25 * (2.0 * std::f64::consts::PI * (t % 12) as f64 / 12.0).sin();
    let revenue = draws(8, 60, 3906, 0.08, |t, z| {
        let shock = if (39..42).contains(&t) { 0.3 } else { 1.0 };
        1000.0 * season(t) * shock * (1.0 + z)
    });
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 5, 4000));
    let p50 = at(&sim, 0.5);
    let mut errors = Vec::new();
    for (t, m) in sim.territories.iter().zip(&models.territories) {
        assert!(m.diagnostics.seasonal, "{} lost its season", m.name);
        for (month, q) in t.periods.iter().enumerate() {
            errors.push((q.quantiles[p50] / (1000.0 * season(month)) - 1.0).abs());
        }
    }
    let mean_error = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(mean_error < 0.10, "monthly medians off by {mean_error:.3}");
    // The year: the shutdown's periods score the forms and calibrate the
    // total at the year's median level, so its risk is counted once (in
    // the residual law), not once per overlapping origin: P10 / P50 of
    // the year had been 0.66 / 0.92 of the truth on a numpy draw of this
    // kind, 0.88 / 0.97 since (session 18).
    let (p10, mut ratios) = (at(&sim, 0.1), Vec::new());
    for (i, t) in sim.territories.iter().enumerate() {
        let truth: f64 = (0..12).map(|m| 1000.0 * season(m)).sum();
        let year = &t.year.quantiles;
        ratios.push((year[p10] / truth, year[p50] / truth, i));
    }
    for (low, mid, i) in ratios {
        assert!(
            low > 0.8 && (mid - 1.0).abs() < 0.06,
            "T-{i}: year P10 {low:.2}, P50 {mid:.2} of the truth"
        );
    }
    assert!(
        models.warnings.iter().any(|w| w.starts_with(
            "the company's total in 2003-04-01, 2003-05-01, 2003-06-01 was far from its usual"
        )),
        "{:?}",
        models.warnings
    );
}

#[test]
fn the_territories_draw_their_forms_together_in_the_simulation() {
    // Two steady territories fitted, then each given a second form at
    // twice its level (weight one half): in every trial both years are
    // high together or low together, as the simulation draws one form
    // score for the company (`model::TrialScores::form`); drawn apart,
    // they would disagree in about half the trials.
    let h = history(draws(2, 36, 6033, 0.05, |_, z| 1000.0 * (1.0 + z)));
    let mut models = fit(&h, h.n_periods(), 12, &spec());
    for t in &mut models.territories {
        let doubled = LevelLaw {
            level: 2.0 * t.level.level,
            ..t.level
        };
        t.alternatives = vec![AlternativeLevel {
            weight: 0.5,
            level: doubled,
            growth: Vec::new(),
        }];
    }
    let mut spec = SimSpec::from_origin(&models, 12, 9, 2000);
    spec.keep_totals = true;
    let sim = simulate(&models, &spec);
    let totals = sim.territory_totals.as_ref().expect("kept");
    // A year of about 12k or 24k: high above 18k.
    let high = |i: usize, t: usize| totals[[i, t]] > 18_000.0;
    for t in 0..2000 {
        assert_eq!(
            high(0, t),
            high(1, t),
            "trial {t}: {} and {}",
            totals[[0, t]],
            totals[[1, t]]
        );
    }
    // Each territory draws its doubled form in half the trials (binomial
    // standard error 0.011).
    let share = (0..2000).filter(|&t| high(0, t)).count() as f64 / 2000.0;
    assert!((share - 0.5).abs() < 0.045, "{share}");
}

#[test]
fn a_renewal_among_many_steady_territories_is_still_fitted_alone() {
    // Three years of twenty steady territories and one renewal billed
    // each April: its own test's bar is the company's over the
    // territories that could pass it (one), not over all twenty-one,
    // which its chance (1.7e-3) fails: then its year of 12,000 was
    // forecast at a median of a few hundred (review of session 32).
    let mut revenue = draws(21, 36, 6031, 0.1, |_, z| 1000.0 * (1.0 + z));
    for (t, v) in revenue[20].iter_mut().enumerate() {
        *v = if t % 12 == 3 { 12.0 * *v } else { 0.0 };
    }
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    assert!(
        models.warnings.iter().any(
            |w| w.starts_with("1 territory sold only in the same months")
                && w.ends_with(": T-20 (Apr)")
        ),
        "{:?}",
        models.warnings
    );
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 9, 4000));
    let p50 = at(&sim, 0.5);
    // Three renewals of cv 0.1: their mean's standard error is 5.8%.
    let year = sim.territories[20].year.quantiles[p50];
    assert!((year / 12_000.0 - 1.0).abs() < 0.18, "year P50 {year:.0}");
}

#[test]
fn a_territory_selling_only_in_its_own_month_is_fitted_alone_on_it() {
    // Six territories selling about 1,000 every month, and one billing
    // about 12,000 each April only (an annual renewal), cv 0.1, over 48
    // months. The company is not closed in any month; fitted with the
    // others, the renewal territory's eleven empty months were its
    // residual law's zero mass, drawn in any month: a year of 12,000 was
    // forecast at a median of 600 (measured 2026-12-06, session 18). 12%
    // is over three standard errors of a mean of four renewals (0.1 / 2).
    let mut revenue = draws(7, 48, 6029, 0.1, |_, z| 1000.0 * (1.0 + z));
    for (t, v) in revenue[6].iter_mut().enumerate() {
        *v = if t % 12 == 3 { 12.0 * *v } else { 0.0 };
    }
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    assert!(
        models.warnings.iter().any(
            |w| w.starts_with("1 territory sold only in the same months")
                && w.ends_with(": T-6 (Apr)")
        ),
        "{:?}",
        models.warnings
    );
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 9, 4000));
    let (p10, p50, p90) = (at(&sim, 0.1), at(&sim, 0.5), at(&sim, 0.9));
    let renewal = &sim.territories[6];
    for (month, q) in renewal.periods.iter().enumerate() {
        assert_eq!(q.quantiles[p90] > 0.0, month == 3, "month {month}");
    }
    let year = &renewal.year.quantiles;
    assert!(
        (year[p50] / 12_000.0 - 1.0).abs() < 0.12 && year[p90] / year[p10] < 1.6,
        "year P10 / P50 / P90 {:.0} / {:.0} / {:.0}",
        year[p10],
        year[p50],
        year[p90]
    );
    // The others are fitted with each other as before.
    assert_eq!(
        models.territories[0]
            .season
            .iter()
            .filter(|&&v| v == 0.0)
            .count(),
        0
    );
}

#[test]
fn territories_billing_once_a_year_pool_their_spread_with_each_other() {
    // Five territories billing about 12,000 each January (cv 0.1) for
    // four years: a closed season of eleven months, and four positive
    // periods each, too few for a law of their own. With no territory to
    // borrow from, they had taken a log spread of 0.5: year P10 / P50 /
    // P90 4.9k / 10.2k / 21.8k (measured 2026-12-06, session 18). Pooled
    // with each other (15 degrees of freedom), the spread is about the
    // truth's 0.1: P90 over P10 of the truth's law is 1.29, and the
    // level's own error (0.1 / 2) widens it.
    let revenue = selling_in(5, 6007, 12_000.0, 0..1);
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 6, 4000));
    for (t, m) in sim.territories.iter().zip(&models.territories) {
        let year = &t.year.quantiles;
        let (p10, p50, p90) = (
            year[at(&sim, 0.1)],
            year[at(&sim, 0.5)],
            year[at(&sim, 0.9)],
        );
        assert!(
            (p50 / 12_000.0 - 1.0).abs() < 0.12 && p90 / p10 < 1.6,
            "{}: year P10 / P50 / P90 {p10:.0} / {p50:.0} / {p90:.0}",
            m.name
        );
    }
}

#[test]
fn a_backtest_does_not_score_the_closed_months_it_was_sure_of() {
    // The closed-season company of the test above, backtested over its
    // last 12 months: the seven closed months (forecast at zero, sold
    // nothing) are left out of the scores, the five selling ones kept,
    // for the three territories and the total.
    let revenue = selling_in(3, 5309, 2000.0, 4..9);
    let h = history(revenue);
    let spec = salesplan::backtest::BacktestSpec {
        holdout: 12,
        rolling: 1,
        step: 1,
        trials: 500,
        seed: 4,
    };
    let result = salesplan::backtest::backtest(&h, &self::spec(), &spec).unwrap();
    assert_eq!(
        result.rows.len(),
        5 * 4,
        "five months of three territories and the total"
    );
    assert!(result.rows.iter().all(|r| {
        let month: usize = r.period[5..7].parse().unwrap();
        (5..=9).contains(&month)
    }));
}

#[test]
fn fourteen_months_of_a_strong_season_keep_their_year() {
    // Eight territories of 1,000 a month under a ±50% season (cv 0.08),
    // 14 months of history, ending at the season's peak (phase 0) or in
    // its trough (phase 3). The next year's truth is 12,000. With no
    // seasonal profile under a year and three periods, the level models
    // read the season's current phase as the level: year P50 1.45 and
    // 0.62 of the truth (measured 2026-12-06, session 20). A profile from
    // a year and two periods (the log-linear regression with one period
    // for its noise) reads 1.00 and 1.00 here; 5% is many Monte Carlo
    // standard errors of a year median.
    for (phase, seed) in [(0.0, 1401), (3.0, 1402)] {
        let revenue = draws(8, 14, seed, 0.08, |t, z| {
            let season = 1.0 + 0.5 * (std::f64::consts::TAU * t as f64 / 12.0 + phase).sin();
            1000.0 * season * (1.0 + z)
        });
        let truth: f64 = (14..26)
            .map(|t| 1000.0 * (1.0 + 0.5 * (std::f64::consts::TAU * t as f64 / 12.0 + phase).sin()))
            .sum();
        let sim = forecast(&history(revenue), 4000, 14);
        let mut p50: Vec<f64> = sim
            .territories
            .iter()
            .map(|t| t.year.quantiles[at(&sim, 0.5)] / truth)
            .collect();
        p50.sort_by(f64::total_cmp);
        let median = p50[p50.len() / 2];
        assert!(
            (median - 1.0).abs() < 0.05,
            "phase {phase}: year P50 {median:.3} of the truth (territories {p50:.3?})"
        );
    }
}

#[test]
fn territories_with_seasons_of_their_own_keep_them_when_the_company_has_none() {
    // Eight territories of 1,000 a month growing 10% a year, each under a
    // ±30% season of its own, their peaks spread evenly over the year, so
    // that the company's total (and its region's) has no season to pool
    // (cv 0.08, 48 months). Before session 21 a territory's own seasonal
    // deviations were only estimated against a group profile: with none,
    // every territory was fitted unseasoned, its season read as noise,
    // and its level as the history's mean (measured 2026-12-06, session
    // 21: the median territory's monthly P50s 0.276 from the truth on the
    // log scale, its year P50 0.793 of the truth; weekly, 20 such
    // territories growing 5% a year read year P50s 0.90-0.92). Now
    // 0.047 (0.021-0.053 over the eight) and 1.018: the bounds are 0.06
    // (a position's index from four years of 8% noise has a standard
    // error near 0.04) and 4%.
    let season = |k: usize, t: usize| {
        let phase = std::f64::consts::TAU * k as f64 / 8.0;
        1.0 + 0.3 * (std::f64::consts::TAU * t as f64 / 12.0 + phase).sin()
    };
    let truth = |k: usize, t: usize| 1000.0 * 1.1f64.powf(t as f64 / 12.0) * season(k, t);
    let noise = Normal::new(0.0, 0.08).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2101);
    let revenue: Vec<Vec<f64>> = (0..8)
        .map(|k| {
            (0..48)
                .map(|t| truth(k, t) * (1.0 + noise.sample(&mut rng)))
                .collect()
        })
        .collect();
    let sim = forecast(&history(revenue), 4000, 21);
    let p50 = at(&sim, 0.5);
    let (mut monthly, mut yearly): (Vec<f64>, Vec<f64>) = sim
        .territories
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let error = (0..12)
                .map(|h| (t.periods[h].quantiles[p50] / truth(k, 48 + h)).ln().abs())
                .sum::<f64>()
                / 12.0;
            let year: f64 = (48..60).map(|m| truth(k, m)).sum();
            (error, t.year.quantiles[p50] / year)
        })
        .unzip();
    monthly.sort_by(f64::total_cmp);
    yearly.sort_by(f64::total_cmp);
    let (month_error, year_ratio) = (monthly[4], yearly[4]);
    assert!(
        month_error < 0.06,
        "monthly P50s {month_error:.3} from the truth (territories {monthly:.3?})"
    );
    assert!(
        (year_ratio - 1.0).abs() < 0.04,
        "year P50 {year_ratio:.3} of the truth (territories {yearly:.3?})"
    );
}

#[test]
fn months_without_a_deal_thin_out_as_the_deals_grow() {
    // Eight territories selling deals (Poisson, 0.6 a month at first,
    // growing 30% a year; sizes lognormal, log sd 0.5) for 60 months, no
    // deal column. A third of their history's months sold nothing, but by
    // the plan year about 2.2 deals are expected a month and a month
    // without one has a chance near exp(-2.2) = 11%. With the history's
    // share of zeros in every plan month, the last quarter's months had a
    // P25 of 0 for six of the eight territories (measured 2026-12-06,
    // session 21); with the chance of a zero falling as the expected
    // amount rises (`fit::zeros`), all eight are (559-1,398).
    let size = rand_distr::LogNormal::new(1000f64.ln() - 0.125, 0.5).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2107);
    let revenue: Vec<Vec<f64>> = (0..8)
        .map(|_| {
            (0..60)
                .map(|t| {
                    let rate = 0.6 * 1.3f64.powf(t as f64 / 12.0);
                    let deals = rand_distr::Poisson::new(rate).unwrap().sample(&mut rng) as usize;
                    (0..deals).map(|_| size.sample(&mut rng)).sum()
                })
                .collect()
        })
        .collect();
    let zeros = revenue.iter().flatten().filter(|&&v| v == 0.0).count();
    assert!(zeros > 100, "{zeros} of 480 months without a deal");
    let sim = forecast(&history(revenue), 4000, 27);
    let p25 = at(&sim, 0.25);
    let mut last_quarter: Vec<f64> = sim
        .territories
        .iter()
        .map(|t| (9..12).map(|h| t.periods[h].quantiles[p25]).sum::<f64>() / 3.0)
        .collect();
    last_quarter.sort_by(f64::total_cmp);
    assert!(
        last_quarter[0] > 0.0,
        "plan months' P25 per territory: {last_quarter:.0?}"
    );
}

#[test]
fn a_regions_profile_counts_among_the_parameters_where_the_company_has_none() {
    // Twelve territories in two regions, 24 months under 8% noise, each
    // region with a ±30% season: the same in both, or opposite (peaks six
    // months apart, so that the company's total has none and only the
    // regions' profiles stand). Either way each territory's residuals
    // were measured after a profile of 11 parameters fitted to two years,
    // and are widened for them (the median territory's widening, its
    // calibration factor left out). Before session 21 the widening
    // counted the profile only where the company had one: opposite
    // seasons 1.036 where the shared one gave 1.117 (measured
    // 2026-12-06); now 1.081 (the rest: the two draws' common and own
    // shares of the noise differ).
    let spreads = |phase_b: f64| -> f64 {
        let phase = |i: usize| if i.is_multiple_of(2) { 0.0 } else { phase_b };
        let revenue = seasons_under_noise(2109, 12, phase);
        let regions = |i: usize| if i.is_multiple_of(2) { "A" } else { "B" };
        let models = fit(&history_in(revenue, regions), 24, 12, &spec());
        // The widening for the parameters, without the calibration factor.
        let mut s: Vec<f64> = models
            .territories
            .iter()
            .map(|t| t.diagnostics.spread / t.diagnostics.calibration.unwrap_or(1.0))
            .collect();
        s.sort_by(f64::total_cmp);
        s[6]
    };
    let (shared, opposite) = (spreads(0.0), spreads(std::f64::consts::PI));
    assert!(
        opposite > 0.95 * shared,
        "median widening {opposite:.3} with opposite regional seasons, {shared:.3} with one shared"
    );
}

#[test]
fn deals_that_grow_make_the_plan_year_less_lumpy_than_the_history() {
    // Thirty territories selling deals (Poisson, 1.5-3 a month at first,
    // growing 30% a year; sizes lognormal, log sd 0.5) for 60 months, no
    // deal column. A count's relative spread falls as its rate rises: the
    // plan year (4 times the first year's deals) is far less lumpy than
    // the history's average month. The company's variance power
    // (`fit::power`) is measured below zero, and the year's P10-P90 over
    // its P50 (median over territories) is narrower with it than with the
    // laws as fitted, nearer the true process's (measured 2026-12-06,
    // session 22: k = -0.32; 0.403 against 0.495 as fitted and 0.278 for
    // the truth, whose level and parameters are known).
    let size = rand_distr::LogNormal::new(1000f64.ln() - 0.125, 0.5).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2203);
    let rates: Vec<f64> = (0..30).map(|i| 1.5 + 1.5 * i as f64 / 29.0).collect();
    let rate_at = |r0: f64, t: usize| r0 * 1.3f64.powf(t as f64 / 12.0);
    let revenue: Vec<Vec<f64>> = rates
        .iter()
        .map(|&r0| {
            (0..60)
                .map(|t| {
                    let deals = rand_distr::Poisson::new(rate_at(r0, t))
                        .unwrap()
                        .sample(&mut rng) as usize;
                    (0..deals).map(|_| size.sample(&mut rng)).sum()
                })
                .collect()
        })
        .collect();
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    let k = models.variance_power.expect("a variance power");
    assert!((-0.5..-0.1).contains(&k), "exponent {k}");
    let mut as_fitted = models.clone();
    for t in &mut as_fitted.territories {
        t.residual = t.residual.clone().with_power(None);
    }
    let width = |m: &salesplan::model::FittedModels| -> f64 {
        let sim = simulate(m, &SimSpec::from_origin(m, 12, 31, 4000));
        let (p10, p50, p90) = (at(&sim, 0.1), at(&sim, 0.5), at(&sim, 0.9));
        let mut w: Vec<f64> = sim
            .territories
            .iter()
            .map(|t| (t.year.quantiles[p90] - t.year.quantiles[p10]) / t.year.quantiles[p50])
            .collect();
        w.sort_by(f64::total_cmp);
        w[15]
    };
    // The true process's year (months 60-71), by simulation.
    let mut truth: Vec<f64> = rates
        .iter()
        .map(|&r0| {
            let mut years: Vec<f64> = (0..2000)
                .map(|_| {
                    (60..72)
                        .map(|t| {
                            let deals = rand_distr::Poisson::new(rate_at(r0, t))
                                .unwrap()
                                .sample(&mut rng) as usize;
                            (0..deals).map(|_| size.sample(&mut rng)).sum::<f64>()
                        })
                        .sum()
                })
                .collect();
            years.sort_by(f64::total_cmp);
            let q = |p: f64| sorted_quantile(&years, p);
            (q(0.9) - q(0.1)) / q(0.5)
        })
        .collect();
    truth.sort_by(f64::total_cmp);
    let (with_power, without, ideal) = (width(&models), width(&as_fitted), truth[15]);
    assert!(
        with_power < 0.93 * without && with_power > ideal,
        "year P10-P90 over P50: {with_power:.3} with the power, {without:.3} as fitted, {ideal:.3} the truth's"
    );
}

#[test]
fn a_level_shift_for_the_totals_leaves_the_months_as_wide_as_calibrated() {
    // Stationary AR(1) deviations (0.7 a month, innovations of 10%): months
    // that err together, so the whole spans' totals missed 2.5 times their
    // spread and the year gets a level shift (The model, item 5). The
    // months' factor was measured on the same origins' month errors,
    // level errors included; until session 24 the shift was added on top
    // of each month's calibrated noise, and the months covered 0.89 of
    // their P10-P90 (`docs/experiments/more_truths.py --set a`'s ar1
    // panel). Now its variance comes out of the months' own noise.
    // 60 territories x 12 months fitted on 72; the AR(1) makes about a
    // third of the 720 cells independent, so a calibrated coverage has a
    // standard error near sqrt(0.16 / 240) = 0.026: 0.80 +- 2.5 of them.
    let months = 84;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2424);
    let shock = Normal::new(0.0, 0.1).unwrap();
    let series: Vec<Vec<f64>> = (0..60)
        .map(|i| {
            let level = 1000.0 * (1.0 + i as f64 / 10.0);
            let mut x: f64 = 0.0;
            (0..months)
                .map(|_| {
                    x = 0.7 * x + shock.sample(&mut rng);
                    level * x.exp()
                })
                .collect()
        })
        .collect();
    let truth: Vec<Vec<f64>> = series.iter().map(|s| s[72..].to_vec()).collect();
    let h = history(series);
    let models = fit(&h, 72, 12, &spec());
    let shifted = models
        .territories
        .iter()
        .filter(|t| t.diagnostics.params.get("level_shift_sd").is_some())
        .count();
    assert!(
        shifted >= 50,
        "only {shifted} territories with a level shift"
    );
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 2424, 4000));
    let (lo, hi) = (at(&sim, 0.1), at(&sim, 0.9));
    let inside = sim
        .territories
        .iter()
        .zip(&truth)
        .flat_map(|(t, actual)| {
            t.periods
                .iter()
                .zip(actual)
                .map(move |(p, &a)| p.quantiles[lo] <= a && a <= p.quantiles[hi])
        })
        .filter(|&x| x)
        .count();
    assert_share_inside(inside, 720, 0.735..=0.865, "months");
}

#[test]
fn a_seasons_own_error_widens_its_months_not_its_year() {
    // Eight territories of 24 months, each under a ±30% season of its own
    // (peaks spread over the year, so the company has none to pool): each
    // position's index is estimated from two years, and its error is drawn
    // once per trial (The model, item 9), renormalised over the year.
    // Until session 24 it was drawn as more noise in every month, which
    // over a year does not cancel: weekly panels with seasons of their own
    // covered 0.90-0.93 of their years (`docs/experiments/more_truths.py
    // --set c`). The same models with the error left out, drawn from the
    // same streams (the error has its own): the months' P10-P90 must be
    // wider with it, the year's within 3% (measured: months 1.13-1.22
    // times as wide, the years 0.997-1.002).
    let phase = |k: usize| std::f64::consts::TAU * k as f64 / 8.0;
    let h = history(seasons_under_noise(2424, 8, phase));
    let models = fit(&h, h.n_periods(), 12, &spec());
    let with_error = models
        .territories
        .iter()
        .filter(|t| t.season_sd > 0.0)
        .count();
    assert!(
        with_error >= 6,
        "{with_error} territories with their own season's error"
    );
    let mut without = models.clone();
    without
        .territories
        .iter_mut()
        .for_each(|t| t.season_sd = 0.0);
    let spec_sim = SimSpec::from_origin(&models, 12, 24, 4000);
    let (a, b) = (simulate(&models, &spec_sim), simulate(&without, &spec_sim));
    let (lo, hi) = (at(&a, 0.1), at(&a, 0.9));
    let width = |q: &[f64]| q[hi] - q[lo];
    for ((m, x), y) in models
        .territories
        .iter()
        .zip(&a.territories)
        .zip(&b.territories)
    {
        if m.season_sd == 0.0 {
            continue;
        }
        let months: f64 = (0..12)
            .map(|p| width(&x.periods[p].quantiles) / width(&y.periods[p].quantiles))
            .sum::<f64>()
            / 12.0;
        let year = width(&x.year.quantiles) / width(&y.year.quantiles);
        assert!(months > 1.03, "{}: months {months:.3} as wide", m.name);
        assert!(
            (0.97..1.03).contains(&year),
            "{}: year {year:.3} as wide",
            m.name
        );
    }
}

/// `count` territories of 24 months (seeded by `seed`): 1,000 a month
/// under a ±30% season at territory i's `phase(i)`, times one plus normal
/// noise of sd 0.08.
fn seasons_under_noise(seed: u64, count: usize, phase: impl Fn(usize) -> f64) -> Vec<Vec<f64>> {
    let noise = Normal::new(0.0, 0.08).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            (0..24)
                .map(|t| {
                    let season =
                        1.0 + 0.3 * (std::f64::consts::TAU * t as f64 / 12.0 + phase(i)).sin();
                    1000.0 * season * (1.0 + noise.sample(&mut rng))
                })
                .collect()
        })
        .collect()
}

/// `count` territories of 1,000 a month over 60 months, each under a ±30%
/// season of its own (peaks spread evenly over the year, so the
/// company's total has none to pool and each territory's twelve indices
/// are its own), iid noise of cv 0.08 (seeded by `seed`): the median
/// territory's simulated year P10-P90 half-width over the ideal one,
/// 1.2816 times the sd of noise 80 x sqrt(sum of the twelve squared
/// indices) and of the level's mean over 60 months (0.08 / sqrt(60) of
/// the year).
fn own_seasons_year_over_ideal(count: usize, seed: u64) -> f64 {
    let season = |k: usize, t: usize| {
        let phase = std::f64::consts::TAU * k as f64 / count as f64;
        1.0 + 0.3 * (std::f64::consts::TAU * t as f64 / 12.0 + phase).sin()
    };
    let noise = Normal::new(0.0, 0.08).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let revenue: Vec<Vec<f64>> = (0..count)
        .map(|k| {
            (0..60)
                .map(|t| 1000.0 * season(k, t) * (1.0 + noise.sample(&mut rng)))
                .collect()
        })
        .collect();
    let sim = forecast(&history(revenue), 4000, seed);
    let (p10, p90) = (at(&sim, 0.1), at(&sim, 0.9));
    let mut ratios: Vec<f64> = sim
        .territories
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let squares: f64 = (60..72).map(|m| season(k, m).powi(2)).sum();
            let noise_var = (80.0f64).powi(2) * squares;
            let level_var = (12_000.0 * 0.08 / 60f64.sqrt()).powi(2);
            let ideal = 1.281_551_565_5 * (noise_var + level_var).sqrt();
            (t.year.quantiles[p90] - t.year.quantiles[p10]) / 2.0 / ideal
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    0.5 * (ratios[(count - 1) / 2] + ratios[count / 2])
}

#[test]
fn a_year_is_not_widened_twice_for_the_seasons_fitted_to_its_history() {
    // The indices fitted to a history shrink its residuals, so the
    // periods are widened for them (The model, item 9); but their errors
    // cancel over a year, so the rolling origins' whole-year totals miss
    // by as much as if the indices had not seen them, and the totals'
    // factor already holds that widening (`seasonal_share_of_total` in
    // `src/fit/territory.rs`). On six draws of 48 territories with seasons of
    // their own (`own_seasons_year_over_ideal`), measured 2026-12-07
    // (session 28): the median territory's year half-width 0.98-1.10 of
    // the ideal, mean 1.019; with the widening applied to the total's
    // target again, as before, 1.00-1.16, mean 1.086. A draw's median
    // varies by about 0.04, the mean of six by 0.016: the bounds are
    // 0.92 and 1.06.
    let ratios: Vec<f64> = (2801..=2806u64)
        .map(|seed| own_seasons_year_over_ideal(48, seed))
        .collect();
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    assert!(
        (0.92..1.06).contains(&mean),
        "year P10-P90 {mean:.3} of the ideal (draws {ratios:.3?})"
    );
}

#[test]
fn cross_fitted_errors_narrow_a_spread_fitted_to_heavy_tails() {
    // Forty territories of 1,000 a month under iid Student-t noise of 3
    // degrees of freedom, scale 0.08, for 120 months: a residual family
    // fitted by maximum likelihood to such tails is wide in their body
    // (the variance the tails set is 3 times the scale's square), so the
    // model's own in-sample spread puts more than 80% of months inside
    // P10-P90. The rolling origins' errors are cross-fitted on 120 months
    // (`ets::crossfit`), and the company's factor below 1 narrows the
    // spread as far as its noise allows (`calibration::narrowest_spread`);
    // until session 28 a factor below 1 could not narrow below the
    // in-sample spread. The truth's P10-P90 half-width is 0.08 x 1.6377
    // (t3's 90% quantile) of the level. Measured 2026-12-07 (session 28):
    // the median territory's months' mean half-width over it 1.003; the
    // in-sample floor gave 1.172 (the median of 40 such territories varies
    // by about 0.03 between draws). Bounds: 0.88 and 1.10.
    let t3 = rand_distr::StudentT::new(3.0).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2802);
    let revenue: Vec<Vec<f64>> = (0..40)
        .map(|_| {
            (0..120)
                .map(|_| 1000.0 * (1.0f64 + 0.08 * t3.sample(&mut rng)).max(0.05))
                .collect()
        })
        .collect();
    let sim = forecast(&history(revenue), 4000, 282);
    let (p10, p90) = (at(&sim, 0.1), at(&sim, 0.9));
    let truth = 1000.0 * 0.08 * 1.637_744_4;
    let mut ratios: Vec<f64> = sim
        .territories
        .iter()
        .map(|t| {
            t.periods
                .iter()
                .map(|p| (p.quantiles[p90] - p.quantiles[p10]) / 2.0 / truth)
                .sum::<f64>()
                / t.periods.len() as f64
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median = 0.5 * (ratios[19] + ratios[20]);
    assert!(
        (0.88..1.10).contains(&median),
        "months' P10-P90 {median:.3} of the truth's (territories {ratios:.3?})"
    );
}

#[test]
fn a_lasting_step_in_one_territory_is_its_new_level() {
    // Six territories of 1,000 a month under noise of 8% (48 months);
    // from month 42 one sold a tenth of that, one 40% and one twice as
    // much (an account lost or won, held six months). Before session 31
    // their fits pulled the old level back (the company's steady
    // territories held the alpha prior near zero): year P50 4,882, 7,176
    // and 15,065 against run rates of 1,200, 4,800 and 24,000, and the
    // first's P10 fell to 1 a month. Now each one's months before the
    // step are scaled to the level after it for its fit (`fit::step`),
    // with a warning: year P50 within 10% of its run rate (the level of
    // six months under 8% noise is known to 3.3%, the step's ratio to
    // 4.4%; a year's P50 at 2,000 trials to under 1%), and the steady
    // three within 10% of theirs.
    let factor = |i: usize| [0.1, 0.4, 2.0, 1.0, 1.0, 1.0][i];
    let mut i = 0;
    let revenue: Vec<Vec<f64>> = draws(6, 48, 3101, 0.08, |t, z| {
        let v = 1000.0 * (1.0 + z) * if t >= 42 { factor(i / 48) } else { 1.0 };
        i += 1;
        v
    });
    let h = history(revenue);
    let models = fit(&h, h.n_periods(), 12, &spec());
    for name in ["T-0", "T-1", "T-2"] {
        assert!(
            models
                .warnings
                .iter()
                .any(|w| w.contains(&format!("'{name}' sold about"))
                    && w.contains("from 2003-07-01")),
            "{name}: {:?}",
            models.warnings
        );
    }
    assert!(
        !models
            .warnings
            .iter()
            .any(|w| w.contains("'T-3' sold about")),
        "{:?}",
        models.warnings
    );
    let sim = simulate(&models, &SimSpec::from_origin(&models, 12, 7, 2000));
    for (t, f) in sim.territories.iter().zip(0..) {
        let run_rate = 12_000.0 * factor(f);
        let p50 = t.year.quantiles[at(&sim, 0.5)];
        assert!(
            (p50 / run_rate - 1.0).abs() < 0.1,
            "T-{f}: year P50 {p50:.0} against {run_rate:.0}"
        );
    }
    let p10 = sim.territories[0].periods[11].quantiles[at(&sim, 0.1)];
    assert!(p10 > 50.0, "T-0's December P10 {p10:.1}");
}

#[test]
fn a_stepped_territorys_year_interval_covers_its_next_year() {
    // Forty companies of six territories of 1,000 a month under noise of
    // 8% (48 months); one territory halved six months before the origin.
    // Its next year is drawn from the same process (the new level, the
    // same noise) and must land inside the year's P10-P90 at about the
    // nominal rate. The scaled history had made the fit know the new
    // level as well as a whole history would (the second review of
    // session 31: the expectation inside in 57-72% of draws), and the
    // ratio's standard error is now added to the level. Measured: 34 of
    // 40 (0.85); without the ratio's error, 22 of 40. At 0.80 the count
    // is at least 26 with probability 0.99 (binomial).
    let mut inside = 0;
    for seed in 0..40u64 {
        let revenue = draws(6, 60, 4000 + seed, 0.08, |t, z| {
            1000.0 * (1.0 + z) * if t >= 42 { 0.5 } else { 1.0 }
        });
        // The first territory halves; the others' steps are undone.
        let mut revenue: Vec<Vec<f64>> = revenue
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.into_iter()
                    .enumerate()
                    .map(|(t, v)| if i > 0 && t >= 42 { v * 2.0 } else { v })
                    .collect()
            })
            .collect();
        let next_year: f64 = revenue[0][48..].iter().sum();
        for r in &mut revenue {
            r.truncate(48);
        }
        let h = history(revenue);
        let sim = forecast(&h, 2000, 7);
        let q = &sim.territories[0].year.quantiles;
        if q[at(&sim, 0.1)] <= next_year && next_year <= q[at(&sim, 0.9)] {
            inside += 1;
        }
    }
    assert!(inside >= 26, "{inside} of 40 inside P10-P90");
}

#[test]
fn regions_closing_their_quarters_apart_keep_their_own_quarter_patterns() {
    // Ten months from January; region A sells 0.7, 1.0 and 1.3 times its
    // level in a quarter's three months, region B the reverse, so the
    // company's total has no pattern and each region's has its own (The
    // model, item 1: the quarter's pattern under 14 months). Each
    // territory follows its region's, and `fit.csv` calls it seasonal.
    let shapes = [[0.7, 1.0, 1.3], [1.3, 1.0, 0.7]];
    let noise = Normal::new(0.0, 0.02).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(34);
    let revenue: Vec<Vec<f64>> = (0..4)
        .map(|i| {
            (0..10)
                .map(|t| 1000.0 * shapes[i / 2][t % 3] * (1.0 + noise.sample(&mut rng)))
                .collect()
        })
        .collect();
    let h = history_in(revenue, |i| if i < 2 { "A" } else { "B" });
    let models = fit(&h, h.n_periods(), 12, &spec());
    for (i, m) in models.territories.iter().enumerate() {
        let shape = shapes[i / 2];
        assert!(m.diagnostics.seasonal, "T-{i} is seasonal");
        let (first, last) = (m.season[0] / m.season[1], m.season[2] / m.season[1]);
        assert!(
            (first / (shape[0] / shape[1]) - 1.0).abs() < 0.1
                && (last / (shape[2] / shape[1]) - 1.0).abs() < 0.1,
            "T-{i}: {:?}",
            &m.season[..3]
        );
    }
}
