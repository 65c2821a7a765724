//! Statistical checks that can fail: published MLE reference values, recovery
//! of known models, simulated quantiles against exact ones within Monte
//! Carlo error, the effect of common shocks, and quota properties.

use ndarray::Array2;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_distr::{Distribution, Gamma, LogNormal, Normal, Poisson, Weibull};
use rand_xoshiro::Xoshiro256PlusPlus;

use salesplan::calendar::{Calendar, PeriodKind};
use salesplan::fit::fit;
use salesplan::history::{SalesHistory, Territory};
use salesplan::model::compound::SizeLaw;
use salesplan::model::{
    CompoundLaw, Diagnostics, FittedModels, LevelLaw, PositivePart, ResidualLaw, ShockModel,
    TerritoryModel,
};
use salesplan::quota::{set_quotas, QuotaInputs};
use salesplan::scenario::{Criterion, FitSpec, QuotaMethod, QuotaSpec, FAMILIES};
use salesplan::sim::{simulate, SimSpec};
use salesplan::stats::dist::{self, standard_errors, Family, Fitted};
use salesplan::stats::special::{norm_cdf, norm_ppf};

#[track_caller]
fn assert_rel(a: f64, b: f64, rel: f64) {
    assert!(
        ((a - b) / b).abs() <= rel,
        "{a} vs {b} (relative tolerance {rel})"
    );
}

fn groundbeef() -> Vec<f64> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/groundbeef.csv"
    ))
    .unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

#[test]
fn groundbeef_matches_the_published_fitdistrplus_estimates() {
    // Delignette-Muller and Dutang (2015), JSS 64(4); to 3 significant digits.
    let x = groundbeef();
    assert_eq!(x.len(), 254);
    let w = dist::fit(Family::Weibull, &x).unwrap();
    assert_rel(w.params[0], 2.1856, 5e-4);
    assert_rel(w.params[1], 83.347, 5e-4);
    let g = dist::fit(Family::Gamma, &x).unwrap();
    assert_rel(g.params[0], 4.0083, 5e-4);
    assert_rel(g.params[1], 0.054427, 5e-4);
    let l = dist::fit(Family::LogNormal, &x).unwrap();
    assert_rel(l.params[0], 4.1694, 5e-4);
    assert_rel(l.params[1], 0.53661, 5e-4);
}

fn draw(d: impl Distribution<f64>, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| d.sample(&mut rng)).collect()
}

#[test]
fn maximum_likelihood_recovers_known_parameters_within_their_standard_errors() {
    let n = 3000;
    let cases: Vec<(Family, Vec<f64>, [f64; 2])> = vec![
        (
            Family::Normal,
            draw(Normal::new(5.0, 2.0).unwrap(), n, 1),
            [5.0, 2.0],
        ),
        (
            Family::LogNormal,
            draw(LogNormal::new(0.3, 0.7).unwrap(), n, 2),
            [0.3, 0.7],
        ),
        (
            Family::Gamma,
            draw(Gamma::new(3.0, 0.5).unwrap(), n, 3),
            [3.0, 2.0],
        ),
        (
            Family::Weibull,
            draw(Weibull::new(1.5, 2.5).unwrap(), n, 4),
            [2.5, 1.5],
        ),
    ];
    for (family, x, truth) in cases {
        let f = dist::fit(family, &x).unwrap();
        let se = standard_errors(&f, n);
        for k in 0..2 {
            let z = (f.params[k] - truth[k]) / se[k];
            assert!(
                z.abs() < 4.0,
                "{family:?} parameter {k}: {} vs {} (z = {z:.2})",
                f.params[k],
                truth[k]
            );
        }
    }
}

/// A one-region history of `n_terr` territories whose revenue is
/// `level x ratio`, the ratios drawn from `law` (mean 1).
fn history_from(
    law: &dyn Fn(&mut Xoshiro256PlusPlus) -> f64,
    n_terr: usize,
    periods: usize,
    seed: u64,
) -> SalesHistory {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let calendar = Calendar::new(PeriodKind::Month, 1);
    let revenue = (0..n_terr)
        .map(|_| (0..periods).map(|_| 1000.0 * law(&mut rng)).collect())
        .collect();
    one_region_history(calendar, revenue)
}

/// Territories T-0, T-1, ... in one region "All", from their revenue series.
fn one_region_history(calendar: Calendar, revenue: Vec<Vec<f64>>) -> SalesHistory {
    let territories = (0..revenue.len())
        .map(|i| Territory {
            name: format!("T-{i}"),
            region: "All".into(),
        })
        .collect();
    SalesHistory::from_series(calendar, 2000 * 12, territories, revenue)
}

fn spec(criterion: Criterion) -> FitSpec {
    FitSpec {
        criterion,
        families: FAMILIES.iter().map(|s| s.to_string()).collect(),
    }
}

/// A ratio law to draw a synthetic history from.
type Law = Box<dyn Fn(&mut Xoshiro256PlusPlus) -> f64>;

#[test]
fn with_many_periods_the_true_family_is_chosen_in_most_cases() {
    let gamma = Gamma::new(4.0, 0.25).unwrap();
    let lognormal = LogNormal::new(-0.08, 0.4).unwrap();
    let weibull = Weibull::new(1.0 / 0.9064, 3.0).unwrap(); // mean = scale * Gamma(1 + 1/shape) ~ 1
    let cases: Vec<(&str, Law)> = vec![
        ("gamma", Box::new(move |r| gamma.sample(r))),
        ("lognormal", Box::new(move |r| lognormal.sample(r))),
        ("weibull", Box::new(move |r| weibull.sample(r))),
    ];
    for (i, (name, law)) in cases.iter().enumerate() {
        let h = history_from(law.as_ref(), 10, 600, 10 + i as u64);
        let m = fit(&h, h.n_periods(), 12, &spec(Criterion::Bic));
        let right = m
            .territories
            .iter()
            .filter(|t| t.diagnostics.model == *name)
            .count();
        assert!(
            right >= 7,
            "{name}: chosen in {right} of 10 territories: {:?}",
            m.territories
                .iter()
                .map(|t| t.diagnostics.model.clone())
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn no_spurious_trend_or_season_with_few_periods() {
    let gamma = Gamma::new(6.0, 1.0 / 6.0).unwrap();
    let h = history_from(&move |r| gamma.sample(r), 20, 24, 77);
    let m = fit(&h, h.n_periods(), 12, &spec(Criterion::Aic));
    let trends = m.territories.iter().filter(|t| t.diagnostics.trend).count();
    let seasonal = m
        .territories
        .iter()
        .filter(|t| t.diagnostics.seasonal)
        .count();
    assert!(
        trends <= 3,
        "{trends} of 20 territories got a spurious trend"
    );
    assert_eq!(seasonal, 0, "no seasonality in pure noise");
}

#[test]
fn a_real_trend_is_found() {
    let mut h = history_from(&|_| 1.0, 5, 36, 5);
    let noise = Normal::new(0.0, 20.0).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    for s in &mut h.revenue {
        for (t, v) in s.iter_mut().enumerate() {
            *v = 1000.0 + 15.0 * t as f64 + noise.sample(&mut rng);
        }
    }
    let m = fit(&h, h.n_periods(), 12, &spec(Criterion::Aic));
    for t in &m.territories {
        // A trend of its own or its region's growth (the group-share form).
        assert!(t.diagnostics.trend, "{}", t.diagnostics.ets);
        // The mean a year ahead: 1000 + 15 x 47 = 1705; its noise-driven
        // error is a few percent (a slope from 36 points with noise 20 has
        // a standard error of 0.3 a month, 5 over 16 months).
        let mean = t.expected(11) * t.residual.mean();
        assert!(
            (mean - 1705.0).abs() < 40.0,
            "{} a year ahead: {mean}",
            t.name
        );
    }
}

#[test]
fn short_histories_fit_without_nan() {
    for periods in [1, 3, 12] {
        let h = history_from(&|_| 1.0, 3, periods, 1);
        let m = fit(&h, h.n_periods(), 12, &spec(Criterion::Aic));
        for t in &m.territories {
            assert!(t.level.level.is_finite() && t.level.cov[0][0].is_finite());
            assert!(t.residual.transform(0.3).is_finite());
        }
    }
}

#[test]
fn two_years_of_history_give_a_wider_forecast_than_ten() {
    let gamma = Gamma::new(10.0, 0.1).unwrap();
    let long = history_from(&move |r| gamma.sample(r), 4, 120, 3);
    let short = long.truncated(24);
    let width = |h: &SalesHistory| {
        let m = fit(h, h.n_periods(), 12, &spec(Criterion::Aic));
        m.territories
            .iter()
            .map(|t| t.level.cov[0][0].sqrt() / t.level.level)
            .sum::<f64>()
    };
    assert!(width(&short) > 1.5 * width(&long));
}

/// Models with a normal ratio law N(1, sd^2): the path is linear in the
/// normal scores, so exact answers are known.
fn normal_models(n_terr: usize, sd: f64, company_share: f64) -> FittedModels {
    let calendar = Calendar::new(PeriodKind::Month, 1);
    let law = ResidualLaw::new(
        0.0,
        Vec::new(),
        PositivePart::Parametric(Fitted {
            family: Family::Normal,
            params: [1.0, sd],
        }),
    );
    FittedModels {
        calendar,
        origin: 2027 * 12,
        regions: vec!["All".into()],
        cadence: None,
        season_discount: 1.0,
        alpha_prior: Default::default(),
        persistence: 1.0,
        variance_power: None,
        territories: (0..n_terr)
            .map(|i| TerritoryModel {
                season_sd: 0.0,
                compound: None,
                growth: Vec::new(),
                alternatives: Vec::new(),
                name: format!("T-{i}"),
                region: "All".into(),
                region_index: 0,
                n_periods: 36,
                level: LevelLaw::fixed(100.0),
                season: vec![1.0; 12],
                residual: law.clone(),
                diagnostics: Diagnostics {
                    model: "normal".into(),
                    ..Diagnostics::default()
                },
            })
            .collect(),
        shocks: ShockModel {
            company_share,
            ..ShockModel::independent()
        },
        season_errors: vec![None],
        warnings: Vec::new(),
    }
}

fn sim_spec(models: &FittedModels, trials: usize) -> SimSpec {
    SimSpec {
        keep_totals: true,
        ..SimSpec::from_origin(models, 12, 42, trials)
    }
}

#[test]
fn simulated_quantiles_of_the_annual_total_match_the_exact_ones() {
    // One territory, 12 iid N(100, 20^2) months: the year is N(1200, 12 x 400).
    let models = normal_models(1, 0.2, 0.0);
    let trials = 20_000;
    let sim = simulate(&models, &sim_spec(&models, trials));
    let sd = (12.0f64).sqrt() * 20.0;
    for (q, got) in sim.quantiles.iter().zip(&sim.territories[0].year.quantiles) {
        let exact = 1200.0 + sd * norm_ppf(*q);
        // Standard error of a sample quantile: sqrt(q(1-q)/n) / density.
        let density =
            (-0.5 * norm_ppf(*q).powi(2)).exp() / (sd * (2.0 * std::f64::consts::PI).sqrt());
        let se = (q * (1.0 - q) / trials as f64).sqrt() / density;
        assert!(
            (got - exact).abs() < 4.0 * se,
            "q={q}: {got} vs {exact} (se {se})"
        );
    }
    let mean_se = sd / (trials as f64).sqrt();
    assert!((sim.territories[0].year.mean - 1200.0).abs() < 4.0 * mean_se);
}

fn company_sd(company_share: f64) -> f64 {
    let models = normal_models(10, 0.2, company_share);
    let sim = simulate(&models, &sim_spec(&models, 20_000));
    let m = sim.company_totals.iter().sum::<f64>() / sim.company_totals.len() as f64;
    (sim.company_totals
        .iter()
        .map(|v| (v - m).powi(2))
        .sum::<f64>()
        / (sim.company_totals.len() - 1) as f64)
        .sqrt()
}

#[test]
fn common_shocks_widen_the_company_total_as_the_factor_model_implies() {
    // Per month the company total is 1000 + 20 x sum of 10 scores with
    // pairwise correlation rho: variance 400 (10 + 90 rho); 12 iid months.
    for rho in [0.0f64, 0.3] {
        let expected = (12.0 * 400.0 * (10.0 + 90.0 * rho)).sqrt();
        let got = company_sd(rho);
        // The sample sd of 20000 normal draws has relative se 1/sqrt(2 x 20000) = 0.5%.
        assert_rel(got, expected, 0.025);
    }
}

#[test]
fn normal_helpers_are_consistent() {
    assert!((norm_cdf(1.0) - 0.841344746).abs() < 1e-8);
}

fn totals(n: usize, trials: usize, seed: u64) -> Array2<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let g = Gamma::new(5.0, 1.0).unwrap();
    Array2::from_shape_fn((n, trials), |(i, _)| {
        ((1.0 + i as f64) * 100.0 * g.sample(&mut rng)) as f32
    })
}

fn quota_spec(plan: f64, method: QuotaMethod, max_change: Option<f64>) -> QuotaSpec {
    QuotaSpec {
        plan,
        method,
        blend: Vec::new(),
        over_assignment: 0.05,
        max_change,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn quotas_add_up_to_the_plan_and_share_one_probability(
        n in 2usize..8, seed in 0u64..1000, scale in 0.6f64..1.4,
    ) {
        let trials = 400;
        let t = totals(n, trials, seed);
        let names: Vec<String> = (0..n).map(|i| format!("T{i}")).collect();
        let mean_total: f64 = t.iter().map(|&v| v as f64).sum::<f64>() / trials as f64;
        let last_year = vec![1000.0; n];
        let last_quota = vec![None; n];
        let potential = vec![1.0; n];
        let inputs = QuotaInputs { names: &names, totals: &t, last_year: &last_year, last_quota: &last_quota, potential: &potential, limits: &[] };
        let plan = mean_total * scale;
        let q = set_quotas(&inputs, &quota_spec(plan, QuotaMethod::EqualProbability, None)).unwrap();
        let sum: f64 = q.rows.iter().map(|r| r.quota).sum();
        prop_assert!((sum - plan * 1.05).abs() < 1e-6 * plan);
        for r in &q.rows {
            // Empirical quantiles: equal up to the granularity of the trials.
            prop_assert!((r.attain_probability - q.attain_probability).abs() <= 2.0 / trials as f64 + 1e-9,
                "{} vs {}", r.attain_probability, q.attain_probability);
        }
        // Raising the plan never lowers a quota.
        let higher = set_quotas(&inputs, &quota_spec(plan * 1.1, QuotaMethod::EqualProbability, None)).unwrap();
        for (a, b) in q.rows.iter().zip(&higher.rows) {
            prop_assert!(b.quota >= a.quota - 1e-9 * a.quota);
        }
    }

    #[test]
    fn max_change_is_never_exceeded(n in 2usize..8, seed in 0u64..1000, mc in 0.05f64..0.5) {
        let trials = 300;
        let t = totals(n, trials, seed);
        let names: Vec<String> = (0..n).map(|i| format!("T{i}")).collect();
        let last_year: Vec<f64> = (0..n).map(|i| 500.0 * (1.0 + i as f64)).collect();
        let last_quota = vec![None; n];
        let potential = vec![1.0; n];
        let inputs = QuotaInputs { names: &names, totals: &t, last_year: &last_year, last_quota: &last_quota, potential: &potential, limits: &[] };
        let plan = last_year.iter().sum::<f64>();
        for method in [QuotaMethod::EqualProbability, QuotaMethod::HistoricalShare, QuotaMethod::PotentialShare] {
            match set_quotas(&inputs, &quota_spec(plan, method, Some(mc))) {
                Ok(q) => {
                    let sum: f64 = q.rows.iter().map(|r| r.quota).sum();
                    prop_assert!((sum - plan * 1.05).abs() < 1e-6 * plan);
                    for (r, ly) in q.rows.iter().zip(&last_year) {
                        prop_assert!(r.quota <= ly * (1.0 + mc) * (1.0 + 1e-9) && r.quota >= ly * (1.0 - mc) * (1.0 - 1e-9),
                            "{method:?}: {} outside {}±{}", r.quota, ly, mc);
                    }
                }
                Err(e) => prop_assert!(e.to_string().contains("cannot be reached")),
            }
        }
    }
}

#[test]
fn backtest_on_data_drawn_from_the_model_is_calibrated() {
    // 30 territories of iid gamma months around a stable level: the model's
    // own assumptions. 80% intervals should cover about 80% of 360 points;
    // with binomial sd 0.021 and some dependence from estimated parameters,
    // [0.72, 0.88] is a 3.5-sd band.
    let gamma = Gamma::new(8.0, 1.0 / 8.0).unwrap();
    let h = history_from(&move |r| gamma.sample(r), 30, 60, 21);
    assert_calibrated_over_last_year(&h);
}

/// Backtest the last 12 months of 30 territories (360 points): 80% and
/// 50% intervals cover 72-88% and 40-60%, and the forecast beats seasonal
/// naive on pinball.
#[track_caller]
fn assert_calibrated_over_last_year(h: &SalesHistory) {
    use salesplan::backtest::backtest;
    let spec = last_year_backtest(2000, 3);
    let result = backtest(h, &spec_aic(), &spec).unwrap();
    let territory = &result
        .by_level
        .iter()
        .find(|(l, _)| l == "territory")
        .unwrap()
        .1;
    assert_eq!(territory.points, 360);
    assert!(
        (0.72..=0.88).contains(&territory.coverage_80),
        "coverage {}",
        territory.coverage_80
    );
    assert!(
        (0.40..=0.60).contains(&territory.coverage_50),
        "coverage {}",
        territory.coverage_50
    );
    // A forecast from the true model beats the seasonal-naive baseline.
    assert!(territory.scaled_pinball < territory.baseline_scaled_pinball);
}

fn spec_aic() -> FitSpec {
    spec(Criterion::Aic)
}

/// A one-region history of `n_terr` territories of `periods` months whose
/// revenue is a sum of deals: `count(rng)` deals a month, each of size
/// `size(rng)`; the deals are recorded as the loader records them.
fn deal_history(
    count: &dyn Fn(&mut Xoshiro256PlusPlus) -> u64,
    size: &dyn Fn(&mut Xoshiro256PlusPlus) -> f64,
    n_terr: usize,
    periods: usize,
    seed: u64,
) -> SalesHistory {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut revenue, mut counts, mut sizes, mut at) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n_terr {
        let (mut r, mut c, mut s, mut p) = (vec![], vec![], vec![], vec![]);
        for t in 0..periods {
            let n = count(&mut rng);
            let deals: Vec<f64> = (0..n).map(|_| size(&mut rng)).collect();
            r.push(deals.iter().sum());
            c.push(n as f64);
            p.extend(std::iter::repeat_n(t, deals.len()));
            s.extend(deals);
        }
        revenue.push(r);
        counts.push(c);
        sizes.push(s);
        at.push(p);
    }
    let territories = (0..n_terr)
        .map(|i| Territory {
            name: format!("T-{i}"),
            region: "All".into(),
        })
        .collect();
    let mut h = SalesHistory::from_series(
        Calendar::new(PeriodKind::Month, 1),
        2000 * 12,
        territories,
        revenue,
    );
    h.deal_counts = Some(counts);
    h.deal_sizes = Some(sizes);
    h.deal_periods = Some(at);
    h
}

/// Poisson-lognormal deal counts with mean `m` and latent log-rate spread `s`.
fn poisson_lognormal(m: f64, s: f64) -> impl Fn(&mut Xoshiro256PlusPlus) -> u64 {
    move |rng| {
        let z: f64 = rand_distr::StandardNormal.sample(rng);
        let rate = m * (s * z - 0.5 * s * s).exp();
        Poisson::new(rate).unwrap().sample(rng) as u64
    }
}

#[test]
fn compound_parameters_are_recovered_and_the_compound_law_is_chosen() {
    // 40 territories x 36 months, 20 deals a month on average with a
    // latent rate spread of 0.3, lognormal(6, 0.8) deal sizes.
    let (m, s, meanlog, sdlog) = (20.0, 0.3, 6.0, 0.8);
    let sizes = LogNormal::new(meanlog, sdlog).unwrap();
    let h = deal_history(
        &poisson_lognormal(m, s),
        &move |r| sizes.sample(r),
        40,
        36,
        5,
    );
    let models = fit(&h, 36, 12, &spec_aic());
    let laws: Vec<&CompoundLaw> = models
        .territories
        .iter()
        .filter_map(|t| t.compound.as_ref())
        .collect();
    // Chosen over the residual families in a clear majority: 36 totals of
    // 20 deals are close to what a two-parameter law fitted to the totals
    // gives, so the choice cannot be unanimous (28 of 40 with this seed).
    assert!(laws.len() >= 24, "compound chosen in {} of 40", laws.len());
    let true_mean = (meanlog + 0.5 * sdlog * sdlog).exp();
    let true_sd = true_mean * ((sdlog * sdlog).exp() - 1.0).sqrt();
    let mut within = 0;
    for t in &models.territories {
        let Some(law) = &t.compound else { continue };
        // Mean deal size within 4 standard errors (whichever size law won).
        let z = (law.size_mean() - true_mean) / (true_sd / law.size_n.sqrt());
        assert!(z.abs() < 4.0, "{}: mean size z = {z:.2}", t.name);
        // A lognormal size law recovers its own parameters.
        if let Some([ml, sl]) = law_params(law) {
            let n = law.size_n;
            assert!(
                ((ml - meanlog) / (sdlog / n.sqrt())).abs() < 4.0,
                "{}: meanlog {ml}",
                t.name
            );
            assert!(
                ((sl - sdlog) / (sdlog / (2.0 * n).sqrt())).abs() < 4.0,
                "{}: sdlog {sl}",
                t.name
            );
        }
        if ((law.mix_sd - s) / law.mix_sd_se.max(1e-9)).abs() < 3.0 {
            within += 1;
        }
    }
    // The rate spread within 3 of its standard errors in most territories,
    // and right on average.
    assert!(
        within as f64 >= 0.85 * laws.len() as f64,
        "{within} of {}",
        laws.len()
    );
    let avg = laws.iter().map(|l| l.mix_sd).sum::<f64>() / laws.len() as f64;
    assert!((avg - s).abs() < 0.05, "mean rate spread {avg}");
}

/// (meanlog, sdlog) of a lognormal deal-size law.
fn law_params(law: &CompoundLaw) -> Option<[f64; 2]> {
    match &law.size {
        SizeLaw::Parametric(f) if f.family == Family::LogNormal => Some(f.params),
        _ => None,
    }
}

#[test]
fn without_deals_no_compound_law_is_fitted() {
    let gamma = Gamma::new(8.0, 1.0 / 8.0).unwrap();
    let h = history_from(&move |r| gamma.sample(r), 10, 36, 4);
    let models = fit(&h, 36, 12, &spec_aic());
    assert!(models.territories.iter().all(|t| t.compound.is_none()));
}

#[test]
fn backtest_on_compound_data_is_calibrated() {
    // 30 territories x 60 months of negative binomial deal counts (mean 20,
    // gamma mixing shape 10) and lognormal(6, 1) deal sizes: not the
    // fitted Poisson-lognormal count law, but close. 80% intervals should
    // cover about 80% of 360 points; [0.72, 0.88] as for the residual model.
    let mixing = Gamma::new(10.0, 0.1).unwrap();
    let count = move |r: &mut Xoshiro256PlusPlus| {
        let rate = 20.0 * mixing.sample(r);
        Poisson::new(rate).unwrap().sample(r) as u64
    };
    let sizes = LogNormal::new(6.0, 1.0).unwrap();
    let h = deal_history(&count, &move |r| sizes.sample(r), 30, 60, 8);
    let models = fit(&h, 48, 12, &spec_aic());
    let chosen = models
        .territories
        .iter()
        .filter(|t| t.compound.is_some())
        .count();
    // 18 of 30 with this seed (see the recovery test on why not all).
    assert!(chosen >= 15, "compound chosen in {chosen} of 30");
    assert_calibrated_over_last_year(&h);
}

/// `datasets` independent companies of `n_terr` territories with 24 + 12
/// months of a strong seasonal profile (+-30%) and lognormal noise (sd
/// 0.12 in logs) of which `common` of the variance is a company factor;
/// each backtested on its last 12 months. Returns the coverage of the 80%
/// interval by level (territory, total), pooled over the datasets.
fn short_seasonal_coverage(n_terr: usize, common: f64, datasets: u64) -> (f64, f64) {
    use salesplan::backtest::backtest;
    let profile: Vec<f64> = (0..12)
        .map(|m| 1.0 + 0.3 * (2.0 * std::f64::consts::PI * m as f64 / 12.0).sin())
        .collect();
    let (mut hits, mut points) = ([0.0; 2], [0usize; 2]);
    for d in 0..datasets {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(100 + d);
        let sd = 0.12;
        let factor: Vec<f64> = (0..36)
            .map(|_| {
                Normal::new(0.0, sd * common.sqrt())
                    .unwrap()
                    .sample(&mut rng)
            })
            .collect();
        let own = Normal::new(0.0, sd * (1.0 - common).sqrt()).unwrap();
        let revenue: Vec<Vec<f64>> = (0..n_terr)
            .map(|i| {
                let level = 1000.0 * (1.0 + i as f64 / n_terr as f64);
                (0..36)
                    .map(|t| {
                        let e = factor[t] + own.sample(&mut rng) - 0.5 * sd * sd;
                        level * profile[t % 12] * e.exp()
                    })
                    .collect()
            })
            .collect();
        let h = one_region_history(Calendar::new(PeriodKind::Month, 1), revenue);
        let spec = last_year_backtest(2000, 5 + d);
        let result = backtest(&h, &spec_aic(), &spec).unwrap();
        for (k, level) in ["territory", "total"].iter().enumerate() {
            let score = &result.by_level.iter().find(|(l, _)| l == level).unwrap().1;
            hits[k] += score.coverage_80 * score.points as f64;
            points[k] += score.points;
        }
    }
    (hits[0] / points[0] as f64, hits[1] / points[1] as f64)
}

#[test]
fn two_years_of_seasonal_history_give_calibrated_intervals() {
    // With 24 months the 11 seasonal indices, the level and the trend test
    // take half the degrees of freedom: in-sample residuals are much
    // smaller than forecast errors, and the indices themselves are
    // uncertain. A single territory, 40 datasets: 480 points, 12 per
    // dataset sharing its parameter errors; the binomial sd of 0.018 grows
    // to about 0.04 with that dependence, so [0.70, 0.90] is a 2.5-sd band
    // (0.79 with this seed; 0.57 before the fitted-parameter corrections).
    let (single, _) = short_seasonal_coverage(1, 0.0, 40);
    assert!(
        (0.70..=0.90).contains(&single),
        "single territory coverage {single}"
    );
    // 20 territories with half their noise common, 12 datasets: the
    // company total (144 points, strongly dependent within a dataset) is
    // where correlated parameter and profile errors show; territories
    // (2,880 points) stay calibrated. With this seed 0.78 and 0.77; before
    // the corrections 0.68 and 0.50.
    let (territory, company) = short_seasonal_coverage(20, 0.5, 12);
    assert!(
        (0.72..=0.88).contains(&territory),
        "territory coverage {territory}"
    );
    assert!(
        (0.62..=0.95).contains(&company),
        "company coverage {company}"
    );
}

#[test]
fn a_single_regions_company_is_scored_once_in_a_backtest() {
    // With one region, its series is the company total: the backtest scores
    // it once (as the total), so the overall scores do not count its
    // periods twice.
    use salesplan::backtest::backtest;
    let gamma = Gamma::new(8.0, 1.0 / 8.0).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(31);
    let revenue: Vec<Vec<f64>> = (0..4)
        .map(|_| (0..48).map(|_| 1000.0 * gamma.sample(&mut rng)).collect())
        .collect();
    let h = one_region_history(Calendar::new(PeriodKind::Month, 1), revenue);
    let spec = last_year_backtest(500, 2);
    let result = backtest(&h, &spec_aic(), &spec).unwrap();
    let levels: Vec<&str> = result.by_level.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(levels, ["territory", "total"]);
    assert_eq!(result.overall.points, 4 * 12 + 12);
}

/// One origin, the last 12 months held out.
fn last_year_backtest(trials: usize, seed: u64) -> salesplan::backtest::BacktestSpec {
    salesplan::backtest::BacktestSpec {
        holdout: 12,
        rolling: 1,
        step: 1,
        trials,
        seed,
    }
}
