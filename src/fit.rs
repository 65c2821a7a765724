//! Fitting: from a [`SalesHistory`] to [`FittedModels`].
//!
//! Per territory, in this order (the README explains the choices):
//! 1. **Seasonality** (`season`), pooled: a log-linear regression on the
//!    company's and each region's total picks seasonal indices when the
//!    information criterion supports them; each territory's own deviations
//!    from its region's profile are shrunk toward it by empirical Bayes
//!    (weight tau^2 / (tau^2 + noise variance)), so a territory with little
//!    history borrows its region's shape.
//! 2. **Level and trend** (`ets`): the candidate exponential-smoothing forms
//!    are fitted by maximum likelihood to the deseasonalised series, scored
//!    by how they would have forecast it from rolling origins, and chosen
//!    with the region's evidence (`ets::pool`); the same errors calibrate
//!    the simulated spread (`calibrate`).
//! 3. **Residual law** of actual / expected: non-positive periods (zeros,
//!    net credits) as an explicit mass with their observed values; the
//!    positive part chosen among normal, lognormal, gamma, Weibull (each the
//!    likeliest law of its family with the sample's mean:
//!    `dist::fit_mean_matched`) and empirical by AIC or BIC, with the KS
//!    statistic.
//! 4. **Compound law** (`compound`): when the sales table names deals, the
//!    number of deals x deal size law of period revenue, kept when its log
//!    score on the period totals beats the residual law's by the criterion.
//! 5. **Common shocks**: from the residual normal scores, the shares of
//!    variance explained by a company factor and by region factors, and the
//!    AR(1) persistence of factors and own noise.
//!
//! No I/O; pure function of its inputs.

use rayon::prelude::*;
use serde_json::json;

use crate::ets::growth::group_growth_paths;
use crate::ets::prior::{AlphaPrior, FormPriors};
use crate::ets::{pool, select, Form, Growth};
use crate::history::SalesHistory;
use crate::model::{
    AlphaPriorModes, AlternativeLevel, Diagnostics, FittedModels, LevelLaw, PositivePart,
    ResidualLaw, SeasonError, ShockModel, TerritoryModel,
};
use crate::scenario::{Criterion, FitSpec};
use crate::stats::dist::{self, Family, Fitted};
use crate::stats::gof::ks_statistic;
use crate::stats::quantile::mean;

mod compound;
mod season;

use season::{
    deseasonalise, group_profile, seasonal_deviations, seasonal_discount, seasonal_spread,
    Deseasonalised,
};

/// Fewest positive residuals for a territory's own family fit.
const MIN_OWN_FIT: usize = 6;
/// Fewest positive residuals for the empirical law to be a candidate.
const MIN_EMPIRICAL: usize = 12;
/// Sampling variance of the log of a calibration factor estimated from m
/// independent errors, times m: the 80% quantile of |z| has standard error
/// sqrt(0.8 x 0.2) / (2 phi(z80) sqrt(m)), and relative to z80 that is
/// 0.889 / sqrt(m) (four independent spans: a factor known to 45%).
const FACTOR_LOG_VARIANCE: f64 = 0.791;
/// Where too few territories are evaluated to measure how much their true
/// factors differ (fewer than `MIN_CALIBRATION_MEMBERS`), that spread is
/// taken as what this many independent origins would measure: a territory
/// whose errors amount to 4 independent origins then takes half its own
/// factor and half the company's (on the log scale).
const CALIBRATION_PRIOR_ORIGINS: f64 = 4.0;
/// Groups of territories in the jackknife of [`gap_sd`], and the fewest
/// territories it needs.
const JACKKNIFE_GROUPS: usize = 10;
const MIN_JACKKNIFE_TERRITORIES: usize = 5;
/// Fewest territories with a factor of their own (counted separately for
/// the periods and the total: a total needs `MIN_CALIBRATION_ERRORS`
/// whole spans) to estimate the spread of their true calibration
/// factors.
const MIN_CALIBRATION_MEMBERS: usize = 3;
/// Fewest standardised errors for a calibration factor.
const MIN_CALIBRATION_ERRORS: usize = 8;
/// Range of the calibration factor: a history never makes the simulated
/// spread more than this many times narrower or wider than the model's.
const CALIBRATION_RANGE: (f64, f64) = (0.5, 4.0);
/// Largest relative variance of the level after the totals' calibration
/// (a standard deviation of half the level): a normal level shift much
/// wider than that is clamped at zero and biases the mean upward, most of
/// all for sparse territories whose totals are mostly noise.
const MAX_LEVEL_REL_VAR: f64 = 0.25;
/// |z| quantile of a standard normal at 0.8: the P10-P90 half-width.
const Z_80: f64 = 1.281_551_565_5;
/// Largest variance inflation for fitted parameters (noise spread x 2; the
/// seasonal-deviation error is added on top).
const MAX_DOF_INFLATION: f64 = 4.0;

/// Fit every territory of `history` on its first `n_fit` periods, for a
/// forecast `horizon` periods ahead.
pub fn fit(history: &SalesHistory, n_fit: usize, horizon: usize, spec: &FitSpec) -> FittedModels {
    let calendar = history.calendar;
    let n_fit = n_fit.min(history.n_periods());
    let s = calendar.kind.per_year();
    let positions: Vec<usize> = (0..n_fit as i64)
        .map(|t| calendar.season_of(history.first_period + t) % s)
        .collect();
    let regions = history.regions();
    let region_index = history.region_index();
    // Revenue per reporting date when the data has a fixed cadence.
    let per_date: Option<Vec<Vec<f64>>> = history.cadence.map(|c| {
        let factors: Vec<f64> = (0..n_fit as i64)
            .map(|t| c.factor(&calendar, history.first_period + t).max(1e-9))
            .collect();
        history
            .revenue
            .iter()
            .map(|r| {
                r[..n_fit]
                    .iter()
                    .zip(&factors)
                    .map(|(v, f)| v / f)
                    .collect()
            })
            .collect()
    });
    let series: Vec<&[f64]> = match &per_date {
        Some(p) => p.iter().map(Vec::as_slice).collect(),
        None => history.revenue.iter().map(|r| &r[..n_fit]).collect(),
    };

    let company_total = sum_series(series.iter().copied(), n_fit);
    // How much each earlier year's seasonal pattern counts, as the
    // history's own year-ahead predictions of it chose.
    let discount = seasonal_discount(&series, &positions, s);
    let company_fit = group_profile(&company_total, &positions, s, discount);
    let company_profile = company_fit.as_ref().map(|g| g.index.clone());
    let region_totals: Vec<Vec<f64>> = (0..regions.len())
        .map(|r| {
            sum_series(
                series
                    .iter()
                    .zip(&region_index)
                    .filter(|(_, &ri)| ri == r)
                    .map(|(x, _)| *x),
                n_fit,
            )
        })
        .collect();
    // Each region's profile and its estimation error (the company's where
    // the region's own total shows no seasonality the criterion supports).
    let (region_profiles, season_errors): (Vec<Vec<f64>>, Vec<Option<SeasonError>>) = region_totals
        .iter()
        .zip(&regions)
        .map(
            |(total, name)| match (group_profile(total, &positions, s, discount), &company_fit) {
                (Some(g), _) => {
                    let e = g.error(&format!("region:{name}"));
                    (g.index, e)
                }
                (None, Some(c)) => (c.index.clone(), c.error("company")),
                (None, None) => (vec![1.0; s], None),
            },
        )
        .unzip();
    let seasonal_any = company_profile.is_some();
    // Each region's growth per period, as its deseasonalised total showed
    // it up to each rolling origin and up to the end (the group-growth form).
    let mut lengths: Vec<usize> = select::origins(n_fit, horizon.max(1), s)
        .into_iter()
        .chain(select::whole_span_origins(n_fit, horizon.max(1), s))
        .chain([n_fit])
        .collect();
    // The two sets of origins overlap: each growth path is estimated once.
    lengths.sort_unstable();
    lengths.dedup();
    let region_growth: Vec<Vec<(usize, Growth)>> = region_totals
        .par_iter()
        .zip(&region_profiles)
        .map(|(total, profile)| {
            let a: Vec<f64> = total
                .iter()
                .zip(&positions)
                .map(|(v, &m)| v / profile[m])
                .collect();
            group_growth_paths(&a, &lengths, horizon.max(1), s)
        })
        .collect();

    // Empirical-Bayes spread of territory seasonal deviations.
    let deviations: Vec<Vec<(f64, f64)>> = series
        .iter()
        .zip(&region_index)
        .map(|(y, &r)| seasonal_deviations(y, &positions, &region_profiles[r], discount))
        .collect();
    let tau2 = if seasonal_any {
        seasonal_spread(&deviations)
    } else {
        0.0
    };

    let families: Vec<Family> = spec
        .families
        .iter()
        .filter_map(|f| Family::parse(f))
        .collect();
    let allow_empirical = spec.families.iter().any(|f| f == "empirical");
    // Deals per reporting date are not modelled: with a cadence the
    // compound law is not offered.
    let deals = (spec.families.iter().any(|f| f == "compound") && history.cadence.is_none())
        .then(|| compound::deals_by_territory(history, n_fit, &region_index, regions.len()))
        .flatten();
    let settings = Settings {
        positions: &positions,
        families: &families,
        allow_empirical,
        criterion: spec.criterion,
        horizon: horizon.max(1),
    };
    // Every form scored on every territory, then each territory's form
    // chosen with its region's evidence (`ets::pool`), then the fits.
    let deseasonalised: Vec<Deseasonalised> = series
        .par_iter()
        .enumerate()
        .map(|(i, y)| {
            let r = region_index[i];
            deseasonalise(y, &region_profiles[r], &deviations[i], &positions, tau2)
        })
        .collect();
    // How far levels (and shares of the region) move, as the company's
    // territories together show it: worth a year of a territory's own
    // periods (`ets::prior`).
    let no_growth = Growth::none();
    let full_growth = |r: usize| {
        region_growth[r]
            .iter()
            .find(|(l, _)| *l == n_fit)
            .map_or(&no_growth, |(_, g)| g)
    };
    let pooled = |grown: bool| {
        let series: Vec<(&[f64], &Growth)> = deseasonalised
            .iter()
            .zip(&region_index)
            .map(|(d, &r)| {
                (
                    d.a_capped.as_slice(),
                    if grown { full_growth(r) } else { &no_growth },
                )
            })
            .collect();
        AlphaPrior::pooled(&series, s as f64)
    };
    let alpha_prior = FormPriors {
        level: pooled(false),
        group: pooled(true),
    };
    let evaluated: Vec<(Deseasonalised, Option<select::Evaluated>)> = deseasonalised
        .into_par_iter()
        .enumerate()
        .map(|(i, d)| {
            let r = region_index[i];
            let e = evaluate_territory(series[i], &d, &region_growth[r], &settings, &alpha_prior);
            (d, e)
        })
        .collect();
    let picks = pool::pooled_weights(
        &evaluated
            .iter()
            .map(|(_, e)| e.as_ref())
            .collect::<Vec<_>>(),
        &region_index,
    );
    let mut fits: Vec<TerritoryFit> = evaluated
        .into_par_iter()
        .zip(picks)
        .enumerate()
        .map(|(i, ((d, e), pick))| {
            fit_territory(
                series[i],
                deals.as_ref().and_then(|d| d.get(i)),
                d,
                e.and_then(|e| e.choose(pick, spec.criterion)),
                &settings,
            )
        })
        .collect();

    // Pool what cannot be fitted alone.
    let mut warnings = Vec::new();
    let pooled_sdlog = pooled_sdlog(&fits);
    // A region with no fitted territory borrows the company's median.
    let level_median = |region: Option<usize>| {
        let mut v: Vec<f64> = fits
            .iter()
            .zip(&region_index)
            .filter(|(f, &ri)| region.is_none_or(|r| ri == r) && !f.empty)
            .map(|(f, _)| f.level.level)
            .collect();
        median(&mut v)
    };
    let company_level = level_median(None).unwrap_or(0.0);
    let levels_by_region: Vec<f64> = (0..regions.len())
        .map(|r| level_median(Some(r)).unwrap_or(company_level))
        .collect();
    for (i, f) in fits.iter_mut().enumerate() {
        let name = &history.territories[i].name;
        if f.empty {
            let level = levels_by_region[region_index[i]];
            f.level = LevelLaw {
                cov: [[(0.5 * level).powi(2), 0.0], [0.0, 0.0]],
                ..LevelLaw::fixed(level)
            };
            f.season = region_profiles[region_index[i]].clone();
            f.residual = pooled_law(pooled_sdlog);
            f.diag.model = "lognormal".into();
            f.diag.pooled = true;
            f.diag.params = params_json(&f.residual);
            warnings.push(format!(
                "territory '{name}' has no sales in the fitted history: pooled model at the region's (or, with none fitted there, the company's) median level ({level:.0}) with 50% level uncertainty"
            ));
        } else if f.diag.model.starts_with("net-credits") {
            warnings.push(format!(
                "territory '{name}' nets to {:.0} a period over its history (its credits exceed its sales): each forecast period is drawn from its own periods' values, credits included, with no trend or season",
                f.level.level * f.residual.mean()
            ));
        } else if f.needs_pooling {
            let p0 = f.residual.p0;
            let nonpositive = f.residual.nonpositive.clone();
            f.residual = ResidualLaw::new(p0, nonpositive, pooled_law(pooled_sdlog).positive);
            f.diag.model = "lognormal".into();
            f.diag.pooled = true;
            f.diag.params = with_smoothing(params_json(&f.residual), &f.level);
            warnings.push(format!(
                "territory '{name}' has only {} periods with positive revenue: its residual spread is pooled",
                f.n_positive
            ));
        }
        if n_fit < s && !f.empty {
            f.diag.seasonal = seasonal_any;
        }
    }
    if n_fit < 2 * s {
        warnings.push(format!(
            "only {n_fit} {}s of history: seasonal and trend terms are estimated from less than two years",
            calendar.kind.name()
        ));
    }

    let mut shocks = estimate_shocks(&fits, &region_index, regions.len());
    let persistence = calibrate(&mut fits);
    let shares: Vec<f64> = series
        .iter()
        .zip(&region_index)
        .map(|(y, &r)| {
            let group = mean(&region_totals[r]);
            if group > 0.0 {
                (mean(y) / group).clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect();
    let group_params = if seasonal_any { (s - 1) as f64 } else { 0.0 };
    correct_for_fitted_parameters(&mut fits, &mut shocks, n_fit, group_params, &shares);
    let territories = fits
        .into_iter()
        .enumerate()
        .map(|(i, f)| TerritoryModel {
            name: history.territories[i].name.clone(),
            region: history.territories[i].region.clone(),
            region_index: region_index[i],
            n_periods: n_fit,
            level: f.level,
            season: f.season,
            residual: f.residual,
            compound: f.compound,
            growth: f.growth,
            alternatives: f
                .alternatives
                .into_iter()
                .map(|a| AlternativeLevel {
                    weight: a.weight,
                    level: a.level,
                    growth: a.fit.growth,
                })
                .collect(),
            diagnostics: f.diag,
        })
        .collect();
    FittedModels {
        calendar,
        origin: history.first_period + n_fit as i64,
        regions,
        territories,
        shocks,
        season_errors,
        cadence: history.cadence,
        season_discount: discount,
        alpha_prior: AlphaPriorModes {
            level: alpha_prior.level.mode(),
            share: alpha_prior.group.mode(),
        },
        persistence,
        warnings,
    }
}

/// Intermediate result for one territory.
struct TerritoryFit {
    level: LevelLaw,
    season: Vec<f64>,
    residual: ResidualLaw,
    compound: Option<crate::model::CompoundLaw>,
    diag: Diagnostics,
    /// Normal scores of the residuals, one per history period.
    scores: Vec<f64>,
    empty: bool,
    needs_pooling: bool,
    n_positive: usize,
    /// The rolling-origin evaluation of the chosen form.
    evaluation: select::Evaluation,
    /// The forms averaged with the chosen one.
    alternatives: Vec<Alternative>,
    /// The region's growth per horizon step (group-share form; else empty).
    growth: Vec<f64>,
    /// The calibration factor of the simulated spread, when the
    /// rolling-origin errors gave one.
    calibration: Option<f64>,
    /// The same for the horizon total (from the spans' totals' errors).
    total_calibration: Option<f64>,
    /// Relative variance of the horizon total under the fitted model, as
    /// a quadratic in a factor r on the smoothing weights (`[a0, a1, a2]`:
    /// a0 + a1 r + a2 r^2).
    total_rel_var: [f64; 3],
    /// The factor on the smoothing weights the simulation uses
    /// ([`persistence_factor`]; 1: as fitted).
    persistence: f64,
    /// [`total_per_level`] of the chosen form (1 without one).
    total_per_level: f64,
    /// Seasonal parameters estimated from the territory's own deviations
    /// (sum of shrinkage weights).
    season_dof: f64,
    /// Mean posterior variance of the territory's own log seasonal
    /// deviations: their estimation error.
    season_var: f64,
}

/// A form averaged with a territory's chosen one.
struct Alternative {
    weight: f64,
    level: LevelLaw,
    fit: crate::ets::EtsFit,
    /// [`total_per_level`] of this form.
    total_per_level: f64,
}

/// A form's expected horizon total over what its level at the origin would
/// give held flat (`flat`: the level times the sum of the horizon's
/// seasonal indices): 1 for a level, above 1 for a growing trend. A level
/// shift of relative variance v moves the total by v / this^2 of its own
/// square, so widening a growing form's total by v takes a shift of v x
/// this^2.
fn total_per_level(total: f64, flat: f64) -> f64 {
    if flat > 0.0 && total > 0.0 {
        total / flat
    } else {
        1.0
    }
}

/// The state law of a fitted form: its level and slope at the origin with
/// their estimation variance.
fn level_law(ets: &crate::ets::EtsFit) -> LevelLaw {
    let (level_var, slope_var) = ets.parameter_variance();
    let l2 = ets.level * ets.level;
    // A compounding trend's slope is a rate: its variance is already relative.
    let slope_unit = if ets.smoothing.compounding { 1.0 } else { l2 };
    LevelLaw {
        level: ets.level,
        slope: ets.slope,
        cov: [[level_var * l2, 0.0], [0.0, slope_var * slope_unit]],
        smoothing: ets.smoothing,
    }
}

/// Settings shared by every territory's fit.
struct Settings<'a> {
    positions: &'a [usize],
    families: &'a [Family],
    allow_empirical: bool,
    criterion: Criterion,
    /// Periods the forecast runs ahead: the rolling-origin evaluation's horizon.
    horizon: usize,
}

fn sum_series<'a>(series: impl Iterator<Item = &'a [f64]>, n: usize) -> Vec<f64> {
    let mut total = vec![0.0; n];
    for s in series {
        for (t, v) in s.iter().enumerate() {
            total[t] += v;
        }
    }
    total
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(crate::stats::quantile::sorted_quantile(v, 0.5))
}

/// How each candidate form would have forecast territory `y` (none for a
/// territory without sales).
fn evaluate_territory(
    y: &[f64],
    d: &Deseasonalised,
    region_growth: &[(usize, Growth)],
    settings: &Settings,
    prior: &FormPriors,
) -> Option<select::Evaluated> {
    if y.iter().all(|&v| v == 0.0) {
        return None;
    }
    let growth = |len: usize| {
        region_growth
            .iter()
            .find(|(l, _)| *l == len)
            .map_or_else(Growth::none, |(_, g)| g.clone())
    };
    select::evaluate(
        &d.a_capped,
        &d.a,
        &d.season_t,
        settings.horizon,
        d.season.len(),
        &growth,
        prior,
    )
}

fn fit_territory(
    y: &[f64],
    deals: Option<&compound::Deals>,
    deseasonalised: Deseasonalised,
    choice: Option<select::Choice>,
    settings: &Settings,
) -> TerritoryFit {
    let Settings {
        positions,
        families,
        allow_empirical,
        criterion,
        horizon,
        ..
    } = *settings;
    let n = y.len();
    let empty = n == 0 || y.iter().all(|&v| v == 0.0);
    let Deseasonalised {
        season,
        own_season,
        season_dof,
        season_var,
        outliers,
        ..
    } = deseasonalised;
    let seasonal = season.iter().any(|&v| (v - 1.0).abs() > 1e-9);
    let choice = if empty { None } else { choice };
    let Some(choice) = choice else {
        if !empty {
            return net_credits_fit(y, season.len(), n);
        }
        let mut out = empty_fit(season, n);
        out.empty = empty;
        return out;
    };
    let ets = &choice.fit;
    let trend = !matches!(ets.form, Form::Mean | Form::Level);
    let level = level_law(ets);
    // The horizon's seasonal weights, and the model's relative variance of
    // the horizon total (for the totals' calibration).
    let s_len = season.len();
    let next = positions.last().map_or(0, |&p| p + 1);
    let weights: Vec<f64> = (0..horizon).map(|h| season[(next + h) % s_len]).collect();
    let mut alternatives: Vec<Alternative> = choice
        .others
        .iter()
        .map(|(weight, fit)| Alternative {
            weight: *weight,
            level: level_law(fit),
            fit: fit.clone(),
            total_per_level: 1.0,
        })
        .collect();
    let fitted = ets.fitted.clone();
    let nf = n as f64;
    // Over the averaged forms: the mixture's mean and variance of the total.
    let forms: Vec<(f64, &crate::ets::EtsFit)> = std::iter::once((choice.weight, ets))
        .chain(alternatives.iter().map(|a| (a.weight, &a.fit)))
        .collect();
    // As a quadratic in a factor on the smoothing weights (`calibrate`
    // scales the innovations' persistence).
    let moments: Vec<(f64, f64, [f64; 3])> = forms
        .iter()
        .map(|&(w, f)| {
            let m: f64 = f.weighted_means(&weights).iter().sum();
            (w, m, f.total_variance_parts(&weights))
        })
        .collect();
    // Each form's total over its level held flat (the level shift's size).
    let weight_sum: f64 = weights.iter().sum();
    let per_level: Vec<f64> = forms
        .iter()
        .zip(&moments)
        .map(|(&(_, f), &(_, m, _))| total_per_level(m, f.level * weight_sum))
        .collect();
    for (a, p) in alternatives.iter_mut().zip(&per_level[1..]) {
        a.total_per_level = *p;
    }
    let expected_total: f64 = moments.iter().map(|(w, m, _)| w * m).sum();
    let total_rel_var = if expected_total > 0.0 {
        let e2 = expected_total * expected_total;
        let spread: f64 = moments.iter().map(|(w, m, _)| w * m * m).sum::<f64>() - e2;
        let mut parts = [spread.max(0.0) / e2, 0.0, 0.0];
        for (w, _, v) in &moments {
            for (p, x) in parts.iter_mut().zip(v) {
                *p += w * x / e2;
            }
        }
        parts
    } else {
        [0.0; 3]
    };

    // Residual ratios actual / expected.
    let denominators: Vec<f64> = positions
        .iter()
        .zip(&fitted)
        .map(|(&m, f)| f.max(level.level * 0.05) * season[m])
        .collect();
    let ratios: Vec<f64> = y.iter().zip(&denominators).map(|(v, d)| v / d).collect();
    let nonpositive: Vec<f64> = ratios.iter().copied().filter(|&r| r <= 0.0).collect();
    let positive: Vec<f64> = ratios.iter().copied().filter(|&r| r > 0.0).collect();
    let p0 = nonpositive.len() as f64 / nf;
    let n_pos = positive.len();

    let mut candidates: Vec<Candidate> = Vec::new();
    // Each family with the sample's mean (`dist::fit_mean_matched`): the
    // forecast's mean is the history's, and a law whose tail implied
    // another mean would move every period's median when it is kept.
    if n_pos >= MIN_OWN_FIT {
        for &fam in families {
            if let Some(f) = dist::fit_mean_matched(fam, &positive) {
                let ll = f.loglik(&positive);
                if ll.is_finite() {
                    candidates.push(Candidate::new(PositivePart::Parametric(f), ll, 2, n_pos));
                }
            }
        }
    }
    if allow_empirical && n_pos >= MIN_EMPIRICAL {
        if let Some(ll) = kde_loo_loglik(&positive) {
            let mut sorted = positive.clone();
            sorted.sort_by(f64::total_cmp);
            candidates.push(Candidate::new(
                PositivePart::Empirical { sorted },
                ll,
                1,
                n_pos,
            ));
        }
    }
    let key = |c: &Candidate| match criterion {
        Criterion::Aic => c.aic,
        Criterion::Bic => c.bic,
    };
    candidates.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let needs_pooling = candidates.is_empty();
    let chosen_k = candidates.first().map_or(2, |c| c.k);
    let key_chosen = candidates.first().map_or(0.0, key);
    let (positive_part, ll, aic, bic_v) = match candidates.first() {
        Some(c) => (c.part.clone(), Some(c.loglik), Some(c.aic), Some(c.bic)),
        None => {
            let f = dist::fit(Family::LogNormal, &positive).unwrap_or(Fitted {
                family: Family::LogNormal,
                params: [-0.125, 0.5],
            });
            (PositivePart::Parametric(f), None, None, None)
        }
    };
    let runner_up = candidates
        .get(1)
        .map(|c| (c.part.name().to_string(), key(c)));
    let gof = (!needs_pooling).then(|| ks_statistic(&positive, |x| positive_part.cdf(x)));
    let residual = ResidualLaw::new(p0, nonpositive, positive_part);
    // Keep the forecast mean equal to the fitted mean: E[R] should be mean(ratios).
    let target = mean(&ratios);
    let law_mean = residual.mean();
    let mut level = level;
    if law_mean > 0.0 && target > 0.0 {
        level = level.with_mean_scaled(target / law_mean);
        // The averaged forms share the residual law: the same correction.
        for a in &mut alternatives {
            a.level = a.level.with_mean_scaled(target / law_mean);
        }
    }
    let scores: Vec<f64> = ratios.iter().map(|&r| residual.normal_score(r)).collect();
    let mut diag = Diagnostics {
        model: residual.positive.name().to_string(),
        params: with_smoothing(params_json(&residual), &level),
        loglik: ll,
        aic,
        bic: bic_v,
        gof_name: gof.map(|_| "ks".to_string()),
        gof_stat: gof,
        runner_up: runner_up.as_ref().map(|r| r.0.clone()),
        runner_up_ic: runner_up.map(|r| r.1),
        trend,
        seasonal: seasonal || own_season,
        pooled: false,
        outliers,
        spread: 1.0,
        ets: format!(
            "ETS(M,{},{})",
            ets.form.trend_code(),
            if seasonal || own_season { "M" } else { "N" }
        ),
        chosen_by: choice.by.to_string(),
        origins: choice.evaluation.origins,
        calibration: None,
        total_calibration: None,
        actual: y.to_vec(),
        fitted: denominators.iter().map(|d| d * target).collect(),
    };

    // The compound law competes on the period totals, given the same
    // expected path (see `compound`); only where the residual law has its
    // own likelihood.
    let mut compound_law = None;
    if let (Some(deals), Some(ll), true) = (deals, ll, target > 0.0 && law_mean > 0.0) {
        let expected: Vec<f64> = denominators.iter().map(|d| d * target).collect();
        if let Some(cf) = compound::fit_compound(y, &expected, deals, law_mean, allow_empirical) {
            let n0 = n - n_pos;
            let mut resid_ll = ll
                - y.iter()
                    .zip(&denominators)
                    .filter(|(&v, _)| v > 0.0)
                    .map(|(_, d)| d.ln())
                    .sum::<f64>();
            if n_pos > 0 && p0 < 1.0 {
                resid_ll += n_pos as f64 * (1.0 - p0).ln();
            }
            if n0 > 0 && p0 > 0.0 {
                resid_ll += n0 as f64 * p0.ln();
            }
            let ic = |ll: f64, k: f64| match criterion {
                Criterion::Aic => 2.0 * k - 2.0 * ll,
                Criterion::Bic => k * nf.ln() - 2.0 * ll,
            };
            let resid_ic = ic(resid_ll, chosen_k as f64);
            let compound_ic = ic(cf.loglik, cf.params);
            if compound_ic < resid_ic {
                // Reported on the residual laws' scale (the likelihood of
                // actual / expected): the same Jacobian and non-positive
                // terms are taken off, so aic columns stay comparable.
                let k = cf.params;
                let ll_on_scale = cf.loglik - (resid_ll - ll);
                diag.model = cf.law.name();
                diag.params = with_smoothing(
                    compound::params_json(&cf.law, mean(&deals.counts), deals.sizes.len()),
                    &level,
                );
                diag.loglik = Some(ll_on_scale);
                diag.aic = Some(2.0 * k - 2.0 * ll_on_scale);
                diag.bic = Some(k * nf.ln() - 2.0 * ll_on_scale);
                diag.gof_name = cf.ks_sizes.map(|_| "ks_deal_sizes".to_string());
                diag.gof_stat = cf.ks_sizes;
                diag.runner_up = Some(residual.positive.name().to_string());
                diag.runner_up_ic = Some(key_chosen);
                compound_law = Some(cf.law);
            } else {
                // Report the compound law as runner-up on the chosen law's scale.
                let shift = resid_ic - key_chosen;
                let on_scale = compound_ic - shift;
                if diag.runner_up_ic.is_none_or(|r| on_scale < r) {
                    diag.runner_up = Some(cf.law.name());
                    diag.runner_up_ic = Some(on_scale);
                }
            }
        }
    }

    if !alternatives.is_empty() {
        // The averaged forms and their weights, by trend code.
        let forms: serde_json::Map<String, serde_json::Value> =
            std::iter::once((ets.form, choice.weight))
                .chain(alternatives.iter().map(|a| (a.fit.form, a.weight)))
                .map(|(form, w)| (form.name().to_string(), json!(round6(w))))
                .collect();
        if let Some(p) = diag.params.as_object_mut() {
            p.insert("forms".into(), serde_json::Value::Object(forms));
        }
        diag.chosen_by = format!("{} (average of {})", choice.by, alternatives.len() + 1);
    }
    TerritoryFit {
        level,
        season,
        residual,
        compound: compound_law,
        diag,
        scores,
        empty: false,
        needs_pooling,
        n_positive: n_pos,
        growth: choice.fit.growth.clone(),
        evaluation: choice.evaluation,
        alternatives,
        calibration: None,
        total_calibration: None,
        total_rel_var,
        total_per_level: per_level[0],
        persistence: 1.0,
        season_dof,
        season_var,
    }
}

struct Candidate {
    part: PositivePart,
    /// Parameters counted by the criterion.
    k: usize,
    loglik: f64,
    aic: f64,
    bic: f64,
}

impl Candidate {
    fn new(part: PositivePart, loglik: f64, k: usize, n: usize) -> Self {
        Self {
            part,
            k,
            loglik,
            aic: 2.0 * k as f64 - 2.0 * loglik,
            bic: k as f64 * (n as f64).ln() - 2.0 * loglik,
        }
    }
}

/// A territory whose history nets to zero or less (credits, refunds): no
/// level model fits a non-positive mean, so each period is drawn from the
/// territory's own periods, as observed (their mean magnitude as the level,
/// the ratios to it as the law, negative ones included). It forecasts what
/// the data say, credits included, with no trend or season; `fit`
/// warns of it.
fn net_credits_fit(y: &[f64], season_len: usize, n: usize) -> TerritoryFit {
    let scale = y.iter().map(|v| v.abs()).sum::<f64>() / y.len().max(1) as f64;
    let mut out = empty_fit(vec![1.0; season_len], n);
    out.empty = false;
    if scale <= 0.0 {
        out.diag.model = "zero".into();
        return out;
    }
    let ratios: Vec<f64> = y.iter().map(|v| v / scale).collect();
    let nonpositive: Vec<f64> = ratios.iter().copied().filter(|&r| r <= 0.0).collect();
    let mut positive: Vec<f64> = ratios.iter().copied().filter(|&r| r > 0.0).collect();
    positive.sort_by(f64::total_cmp);
    if positive.is_empty() {
        // Not drawn (p0 = 1), but the law needs a part.
        positive.push(1.0);
    }
    let p0 = nonpositive.len() as f64 / ratios.len().max(1) as f64;
    out.level = LevelLaw::fixed(scale);
    out.residual = ResidualLaw::new(
        p0,
        nonpositive,
        PositivePart::Empirical { sorted: positive },
    );
    // Its periods' normal scores join the common shocks' estimate.
    out.scores = ratios
        .iter()
        .map(|&r| out.residual.normal_score(r))
        .collect();
    out.needs_pooling = false;
    out.n_positive = ratios.iter().filter(|&&r| r > 0.0).count();
    out.diag.model = "net-credits (own periods)".into();
    out.diag.pooled = false;
    out.diag.params = params_json(&out.residual);
    out
}

fn empty_fit(season: Vec<f64>, n: usize) -> TerritoryFit {
    TerritoryFit {
        level: LevelLaw::fixed(0.0),
        season,
        residual: pooled_law(0.5),
        compound: None,
        diag: Diagnostics {
            model: "pooled".into(),
            params: json!({}),
            pooled: true,
            spread: 1.0,
            ..Diagnostics::default()
        },
        scores: vec![f64::NAN; n],
        empty: true,
        needs_pooling: true,
        n_positive: 0,
        growth: Vec::new(),
        evaluation: select::Evaluation::default(),
        alternatives: Vec::new(),
        calibration: None,
        total_calibration: None,
        total_rel_var: [0.0; 3],
        total_per_level: 1.0,
        persistence: 1.0,
        season_dof: 0.0,
        season_var: 0.0,
    }
}

/// A lognormal ratio law with mean 1 and log-scale spread `sdlog`.
fn pooled_law(sdlog: f64) -> ResidualLaw {
    ResidualLaw::new(
        0.0,
        Vec::new(),
        PositivePart::Parametric(Fitted {
            family: Family::LogNormal,
            params: [-0.5 * sdlog * sdlog, sdlog],
        }),
    )
}

/// Median log-scale spread of the territories fitted on their own.
fn pooled_sdlog(fits: &[TerritoryFit]) -> f64 {
    let mut v: Vec<f64> = fits
        .iter()
        .filter(|f| !f.needs_pooling && !f.empty)
        .filter_map(|f| match &f.residual.positive {
            PositivePart::Parametric(p) if p.family == Family::LogNormal => Some(p.params[1]),
            _ => None,
        })
        .collect();
    median(&mut v).unwrap_or(0.5).clamp(0.05, 2.0)
}

/// `params` with the state's smoothing weights added (`alpha`, `beta`,
/// `phi`).
fn with_smoothing(mut params: serde_json::Value, level: &LevelLaw) -> serde_json::Value {
    if let Some(map) = params.as_object_mut() {
        let s = level.smoothing;
        map.insert("alpha".into(), json!(round6(s.alpha)));
        map.insert("beta".into(), json!(round6(s.beta)));
        map.insert("phi".into(), json!(round6(s.phi)));
        if s.compounding {
            map.insert("rate".into(), json!(round6(level.slope)));
        }
    }
    params
}

fn params_json(law: &ResidualLaw) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    match &law.positive {
        PositivePart::Parametric(f) => {
            let names = f.family.param_names();
            map.insert(names[0].into(), json!(round6(f.params[0])));
            map.insert(names[1].into(), json!(round6(f.params[1])));
        }
        PositivePart::Empirical { sorted } => {
            map.insert("n".into(), json!(sorted.len()));
        }
    }
    map.insert("p_nonpositive".into(), json!(round6(law.p0)));
    serde_json::Value::Object(map)
}

fn round6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 6 - x.abs().log10().ceil() as i32;
    let f = 10f64.powi(digits.clamp(-10, 15));
    (x * f).round() / f
}

fn lag1(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return 0.0;
    }
    let m = mean(x);
    let var: f64 = x.iter().map(|v| (v - m).powi(2)).sum();
    if var <= 0.0 {
        return 0.0;
    }
    let cov: f64 = x.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    cov / var
}

/// Leave-one-out log-likelihood of a Gaussian kernel density estimate with
/// Silverman's bandwidth: how the empirical law is ranked against the
/// parametric families (it counts as one parameter, the bandwidth).
fn kde_loo_loglik(x: &[f64]) -> Option<f64> {
    let n = x.len();
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let m = mean(&s);
    let sd = (s.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let iqr = crate::stats::quantile::sorted_quantile(&s, 0.75)
        - crate::stats::quantile::sorted_quantile(&s, 0.25);
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    let h = 0.9 * spread * (n as f64).powf(-0.2);
    if h <= 0.0 || !h.is_finite() {
        return None;
    }
    let norm = ((n - 1) as f64 * h * (2.0 * std::f64::consts::PI).sqrt()).ln();
    let mut ll = 0.0;
    for i in 0..n {
        let d: f64 = (0..n)
            .filter(|&j| j != i)
            .map(|j| (-0.5 * ((x[i] - x[j]) / h).powi(2)).exp())
            .sum();
        if d <= 0.0 {
            return None;
        }
        ll += d.ln() - norm;
    }
    Some(ll)
}

/// Shares of residual normal-score variance explained by a company factor
/// and by region factors, from the variance of sums (the average pairwise
/// correlation of n series is (Var(sum) - sum of variances) / pairs).
fn estimate_shocks(fits: &[TerritoryFit], region_index: &[usize], n_regions: usize) -> ShockModel {
    // Territories with a score that is not a number (no law of their own to
    // score against) are left out: one would make every share NaN.
    let used: Vec<usize> = (0..fits.len())
        .filter(|&i| !fits[i].empty && !fits[i].needs_pooling && fits[i].scores.len() >= 4)
        .filter(|&i| fits[i].scores.iter().all(|v| v.is_finite()))
        .collect();
    if used.len() < 2 {
        return ShockModel::independent();
    }
    let n = fits[used[0]].scores.len();
    let centered: Vec<Vec<f64>> = used
        .iter()
        .map(|&i| {
            let s = &fits[i].scores;
            let m = mean(s);
            s.iter().map(|v| v - m).collect()
        })
        .collect();
    let var = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64;
    let sds: Vec<f64> = centered.iter().map(|c| var(c).sqrt()).collect();

    // All pairs.
    let all_sum = sum_series(centered.iter().map(Vec::as_slice), n);
    let sum_var: f64 = sds.iter().map(|s| s * s).sum();
    let sum_sd: f64 = sds.iter().sum();
    let all_pairs = sum_sd * sum_sd - sum_var;
    let all_cov = var(&all_sum) - sum_var;

    // Within-region pairs.
    let (mut within_cov, mut within_pairs) = (0.0, 0.0);
    for r in 0..n_regions {
        let members: Vec<usize> = (0..used.len())
            .filter(|&k| region_index[used[k]] == r)
            .collect();
        if members.len() < 2 {
            continue;
        }
        let s = sum_series(members.iter().map(|&k| centered[k].as_slice()), n);
        let sv: f64 = members.iter().map(|&k| sds[k] * sds[k]).sum();
        let ss: f64 = members.iter().map(|&k| sds[k]).sum();
        within_cov += var(&s) - sv;
        within_pairs += ss * ss - sv;
    }
    let mean_correlation = if all_pairs > 0.0 {
        all_cov / all_pairs
    } else {
        0.0
    };
    let between_pairs = all_pairs - within_pairs;
    let (company, region) = if between_pairs > 0.0 && within_pairs > 0.0 {
        let between = (all_cov - within_cov) / between_pairs;
        let within = within_cov / within_pairs;
        let c = between.clamp(0.0, 0.95);
        (c, (within - c).clamp(0.0, 0.95 - c))
    } else {
        (mean_correlation.clamp(0.0, 0.95), 0.0)
    };

    let factor: Vec<f64> = (0..n).map(|t| all_sum[t] / used.len() as f64).collect();
    let factor_ar = lag1(&factor).clamp(0.0, 0.9);
    let own_ar =
        (centered.iter().map(|c| lag1(c)).sum::<f64>() / centered.len() as f64).clamp(0.0, 0.9);
    ShockModel {
        company_share: company,
        region_share: region,
        factor_ar,
        own_ar,
        mean_correlation,
    }
}

/// The calibration factor of standardised rolling-origin errors `z` (with
/// their horizon steps): the factor by which the predicted standard
/// deviations must be scaled for the errors' P10-P90 interval to cover 80%
/// (their 80% quantile of |z| over the normal's, 1.2816), between 0.5 and
/// 4. Below 1 it can only take back the degrees-of-freedom widening
/// ([`correct_for_fitted_parameters`] never goes below the model's own
/// in-sample spread): errors that look smaller than the model's spread are
/// not evidence enough to narrow it, since they are of the form chosen on
/// these same origins (on Walmart's 19-21 months narrowing took coverage
/// to 0.63). A coverage statistic, not the errors' sd: one wild month does
/// not widen every forecast.
fn calibration_factor(z: &[(usize, f64)]) -> Option<f64> {
    if z.len() < MIN_CALIBRATION_ERRORS {
        return None;
    }
    Some((quantile_80(z) / Z_80).clamp(CALIBRATION_RANGE.0, CALIBRATION_RANGE.1))
}

/// The 80% quantile of |z| over errors `z` with their horizon steps,
/// every step weighing the same (the forecast's periods do: the early
/// steps, scored from more origins, would otherwise set it for the whole
/// horizon); the normal's, `Z_80`, for no errors.
fn quantile_80(z: &[(usize, f64)]) -> f64 {
    let steps = z.iter().map(|(h, _)| h + 1).max().unwrap_or(1);
    let mut count = vec![0usize; steps];
    z.iter().for_each(|(h, _)| count[*h] += 1);
    let mut weighted: Vec<(f64, f64)> = z
        .iter()
        .map(|(h, v)| (v.abs(), 1.0 / count[*h] as f64))
        .collect();
    weighted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = weighted.iter().map(|w| w.1).sum();
    let mut cumulative = 0.0;
    weighted
        .iter()
        .find(|(_, w)| {
            cumulative += w;
            cumulative >= 0.8 * total
        })
        .map_or(Z_80, |(v, _)| *v)
}

/// How far the simulation should carry the innovations' persistence, from
/// the rolling-origin misses of a plain local level fitted afresh at each
/// origin without the alpha prior (`select::Evaluated::persistence_misses`,
/// with their horizon steps; measured on the chosen mixtures instead, r
/// was 0.71-0.75 on local linear trends whose persistence is right: the
/// prior's pull on the refits' alpha and the mixture's spread of means
/// both make the later errors look small): a factor r in [0, 1] on every form's smoothing weights (alpha
/// and beta), at which the errors of the horizon's later half are as
/// large, relative to the forecast's spread, as those of its earlier half
/// (their 80% quantiles of |z| equal). A form's spread grows with the
/// horizon by its innovations' persistence (sigma^2 sum of c_j^2); where
/// the errors grew less than that (Walmart's weekly stores: errors of 3.7%
/// of the median at every step, while the intervals widened from 13% to
/// 20% and covered 0.75 at the first steps and 0.92 at the last), alpha
/// fitted to one-step errors carries too much of each surprise forward,
/// and r < 1 carries less. Where they grew as much or more, r = 1 (wider
/// totals are the level shift's job, [`widen_total`]). Pooled over the
/// company: one territory's dozen origins say little about the shape of
/// its errors over the horizon. Moved only as far as the evidence is
/// clear: r closes the gap between the halves only to one standard error
/// of it ([`gap_sd`]), and r = 1 when the gap is within one. 1 with
/// fewer than 4 steps or too few misses to compare. `territories` holds
/// each evaluated territory's misses; `independent` the independent
/// origins they amount to.
fn persistence_factor(territories: &[&[(usize, select::Miss)]], independent: f64) -> f64 {
    let misses: Vec<(usize, select::Miss)> =
        territories.iter().flat_map(|t| t.iter().copied()).collect();
    let steps = misses.iter().map(|(h, _)| h + 1).max().unwrap_or(0);
    if steps < 4 || misses.len() < 2 * MIN_CALIBRATION_ERRORS || independent <= 0.0 {
        return 1.0;
    }
    let half = steps / 2;
    let clear = -gap_sd(territories, half, independent);
    let gap = |r: f64| half_gap(&misses, half, r);
    // A gap or doubt that cannot be measured (a half whose errors are all
    // 0, a jackknife group without one) is no evidence: as fitted.
    let (at_one, at_zero) = (gap(1.0), gap(0.0));
    if !clear.is_finite() || !at_one.is_finite() || !at_zero.is_finite() || at_one >= clear {
        return 1.0;
    }
    if at_zero <= clear {
        return 0.0;
    }
    // Bisection to 2^-14 (r to 6e-5): every step sorts the company's
    // misses, so no more steps than the factor needs.
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..14 {
        let mid = 0.5 * (lo + hi);
        // Not measurable at `mid`: keep r the higher.
        let g = gap(mid);
        if !g.is_finite() || g > clear {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// ln(late quantile / early quantile) of the misses' |z| at persistence
/// factor `r`, the steps from `half` on being the late ones: it falls as
/// r grows (the later steps' spread grows faster with r); 0 when a half
/// is empty.
fn half_gap(misses: &[(usize, select::Miss)], half: usize, r: f64) -> f64 {
    let (mut early, mut late) = (Vec::new(), Vec::new());
    for (h, m) in misses {
        if let Some(z) = m.z(r) {
            if *h < half {
                early.push((*h, z));
            } else {
                late.push((*h - half, z));
            }
        }
    }
    if early.is_empty() || late.is_empty() {
        return 0.0;
    }
    (quantile_80(&late) / quantile_80(&early)).ln()
}

/// The standard error of the fitted gap between the halves
/// ([`half_gap`] at r = 1): a delete-a-group jackknife over the
/// territories (up to `JACKKNIFE_GROUPS` groups, assigned in turn), which
/// counts each territory's errors as one cluster however correlated
/// within it; with fewer than `MIN_JACKKNIFE_TERRITORIES` territories,
/// the quantiles' sampling variance from the independent origins
/// (2 x `FACTOR_LOG_VARIANCE` / `independent`, each origin's span giving
/// errors to both halves).
fn gap_sd(territories: &[&[(usize, select::Miss)]], half: usize, independent: f64) -> f64 {
    let n = territories.len();
    if n < MIN_JACKKNIFE_TERRITORIES {
        return (2.0 * FACTOR_LOG_VARIANCE / independent).sqrt();
    }
    let groups = n.min(JACKKNIFE_GROUPS);
    let left_out: Vec<f64> = (0..groups)
        .map(|g| {
            let kept: Vec<(usize, select::Miss)> = territories
                .iter()
                .enumerate()
                .filter(|(i, _)| i % groups != g)
                .flat_map(|(_, t)| t.iter().copied())
                .collect();
            half_gap(&kept, half, 1.0)
        })
        .collect();
    let g = groups as f64;
    let mean = left_out.iter().sum::<f64>() / g;
    ((g - 1.0) / g * left_out.iter().map(|v| (v - mean).powi(2)).sum::<f64>()).sqrt()
}

/// Choose how far the innovations' persistence is carried
/// ([`persistence_factor`], returned and applied to every territory by
/// [`carry_persistence`]; it scales every form's
/// alpha and beta, including those the prior pulled: a company-wide
/// correction of how far one-step fits carry surprises), then, at that
/// factor, calibrate each fitted territory's simulated spread against its own
/// rolling-origin errors, shrunk toward the company's (and the same for
/// the horizon total, from the errors of the scored spans' totals), by
/// empirical Bayes (Efron and Morris), as the forms' scores are pooled:
/// log k = w log k_own + (1 - w) log k_company, w = tau^2 / (tau^2 + se^2).
/// se^2 = `FACTOR_LOG_VARIANCE` / m is the sampling variance of the
/// territory's own log factor, m the independent origins (at least 1) or
/// whole spans its errors amount to (the scored spans overlap). For the
/// periods that is an upper bound: their errors are more than m
/// independent ones, though errors within a span share its level's
/// error; counting every distinct period scored instead (origins x step,
/// the lower bound) was measured the same day and moved the zoo's
/// coverage 0.787 -> 0.803 but Superstore states 0.487 -> 0.490 and
/// Walmart 0.289 -> 0.292 (weekly) and 0.145 -> 0.147 (monthly); the
/// conservative count keeps a territory's period factor near the
/// company's unless the territories differ by more than their noise
/// allows. tau^2 the
/// variance of the territories' true log factors: the variance of their
/// own log factors less their mean se^2, at least 0
/// ([`true_factor_variance`]). So where the territories' factors differ
/// no more than their noise would make them (a panel of iid series), each
/// takes the company's, and where some really wander more than others,
/// their own evidence counts in proportion. Before 2026-12-05 the weight
/// was m / (m + 4) whatever the panel: with four independent spans a
/// territory's total took half its own factor, known to 45%, and one of
/// eight iid series had its year widened 40% by chance. The company's
/// factor pools every evaluated territory's errors; a territory with fewer
/// than `select::MIN_ORIGINS` origins takes the company's. The residual
/// law is widened by k (on the log scale, mean kept) and the state's
/// covariance by k^2, so periods, their persistence and totals all scale
/// together (applied by [`correct_for_fitted_parameters`], on top of its
/// correction for the seasonal parameters, which the rolling origins do
/// not refit and so cannot see).
fn calibrate(fits: &mut [TerritoryFit]) -> f64 {
    let evaluated = |f: &TerritoryFit| !f.empty && f.evaluation.origins >= select::MIN_ORIGINS;
    let misses: Vec<&[(usize, select::Miss)]> = fits
        .iter()
        .filter(|f| evaluated(f))
        .map(|f| f.evaluation.persistence_misses.as_slice())
        .collect();
    let independent: f64 = fits
        .iter()
        .filter(|f| evaluated(f))
        .map(|f| f.evaluation.independent_origins)
        .sum();
    let r = persistence_factor(&misses, independent);
    // Each evaluated territory's standardised errors at r, of its periods
    // and of its whole spans' totals (empty for the others), computed once.
    let errors: Vec<[Vec<(usize, f64)>; 2]> = fits
        .iter()
        .map(|f| {
            if evaluated(f) {
                let e = &f.evaluation;
                [e.z(r), e.z_total(r).into_iter().map(|z| (0, z)).collect()]
            } else {
                [Vec::new(), Vec::new()]
            }
        })
        .collect();
    let pooled: Vec<(usize, f64)> = errors.iter().flat_map(|e| e[0].iter().copied()).collect();
    let pooled_totals: Vec<(usize, f64)> =
        errors.iter().flat_map(|e| e[1].iter().copied()).collect();
    let company = calibration_factor(&pooled);
    let company_totals = calibration_factor(&pooled_totals);
    // Each territory's own log factors with their sampling variances: the
    // periods' by the independent origins, the total's by the independent
    // whole spans (none: no evidence).
    let own = |z: &[(usize, f64)], m: f64| -> Option<(f64, f64)> {
        let k = calibration_factor(z)?;
        (m > 0.0).then(|| (k.ln(), FACTOR_LOG_VARIANCE / m))
    };
    let owns: Vec<[Option<(f64, f64)>; 2]> = fits
        .iter()
        .zip(&errors)
        .map(|(f, [z, z_total])| {
            if evaluated(f) {
                let e = &f.evaluation;
                [
                    own(z, e.independent_origins),
                    own(z_total, e.independent_spans),
                ]
            } else {
                [None, None]
            }
        })
        .collect();
    let tau2 = [0, 1].map(|i| true_factor_variance(owns.iter().filter_map(|o| o[i])));
    let shrink = |own: Option<(f64, f64)>, company: Option<f64>, tau2: f64| match (own, company) {
        (Some((o, se2)), Some(c)) => {
            let w = if tau2 + se2 > 0.0 {
                tau2 / (tau2 + se2)
            } else {
                1.0
            };
            Some((w * o + (1.0 - w) * c.ln()).exp())
        }
        (Some((o, _)), None) => Some(o.exp()),
        (None, c) => c,
    };
    for (f, [own, own_total]) in fits.iter_mut().zip(owns) {
        if f.empty {
            continue;
        }
        f.calibration = shrink(own, company, tau2[0]);
        f.total_calibration = shrink(own_total, company_totals, tau2[1]);
        f.diag.calibration = f.calibration;
        f.diag.total_calibration = f.total_calibration;
        carry_persistence(f, r);
    }
    r
}

/// Scale the smoothing weights the simulation moves every form's state by
/// with `r` ([`persistence_factor`]); `params` shows it as `persistence`
/// when it is below 1.
fn carry_persistence(f: &mut TerritoryFit, r: f64) {
    f.persistence = r;
    if r >= 1.0 {
        return;
    }
    let alternatives = f.alternatives.iter_mut().map(|a| &mut a.level);
    for law in std::iter::once(&mut f.level).chain(alternatives) {
        law.smoothing.alpha *= r;
        law.smoothing.beta *= r;
    }
    if let Some(p) = f.diag.params.as_object_mut() {
        p.insert("persistence".into(), json!(round6(r)));
    }
}

/// The variance of the territories' true log calibration factors, from
/// their own estimates (log factor, sampling variance): the estimates'
/// variance less their mean sampling variance, at least 0. With fewer
/// than `MIN_CALIBRATION_MEMBERS` estimates it cannot be told, and is
/// taken as `FACTOR_LOG_VARIANCE / CALIBRATION_PRIOR_ORIGINS`.
fn true_factor_variance(own: impl Iterator<Item = (f64, f64)>) -> f64 {
    let own: Vec<(f64, f64)> = own.collect();
    if own.len() < MIN_CALIBRATION_MEMBERS {
        return FACTOR_LOG_VARIANCE / CALIBRATION_PRIOR_ORIGINS;
    }
    let n = own.len() as f64;
    let mean = own.iter().map(|o| o.0).sum::<f64>() / n;
    let spread = own.iter().map(|o| (o.0 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let noise = own.iter().map(|o| o.1).sum::<f64>() / n;
    (spread - noise).max(0.0)
}

/// Variance inflation n / (n - p) for `p` parameters fitted to `n` periods,
/// at most `MAX_DOF_INFLATION` (when p is near n the residuals say little).
fn dof_inflation(n: usize, p: f64) -> f64 {
    let n = n as f64;
    if n <= 0.0 {
        return 1.0;
    }
    (n / (n - p).max(n / MAX_DOF_INFLATION)).max(1.0)
}

/// Undo the shrinking of in-sample residuals by the parameters fitted to
/// them. Least squares with p parameters leaves residuals whose variance
/// is (n - p) / n of the noise's; with two years of monthly data the
/// seasonal indices alone take 11 of 24 degrees of freedom, and the
/// forecast would be about a third too narrow. Two parts are corrected
/// separately:
/// - the *common* part of the noise (company and region factors) was
///   absorbed by the group's seasonal profile and each level and trend:
///   its variance is inflated by n / (n - group_params - 2);
/// - a territory's *own* noise was absorbed by its seasonal indices and its
///   level and trend. Per season position the index is its own estimate
///   with weight w (its shrinkage weight) and the group's with weight
///   1 - w, of which the territory's share of the group's revenue is its
///   own data: the seasonal parameters it paid for are sum w + (group
///   parameters - sum w) x share, at most the group's. The level and
///   trend are not counted again: their covariance already divides by
///   n - 1 or n - 2.
///
/// The own seasonal deviations are estimates too: their posterior variance
/// (w x v, on the log scale) is added to the spread, for the part of the
/// territory's revenue that is not its group's profile (1 - share: a
/// territory that is its whole group has no deviations of its own, and its
/// profile's error is drawn per trial with the group's). Over a year the
/// renormalised deviations' errors nearly cancel, so this widens periods
/// more than it should widen annual totals.
///
/// Each territory's residual law is widened by the square root of the
/// inflated total variance ([`ResidualLaw::widened`]: on the log scale,
/// mean kept), its level and slope covariance scaled by the inflated noise
/// variance, and the factor shares re-weighted to the inflated parts. The
/// compound law is not widened (its deal counts and sizes carry their own
/// parameter draws) and reports a spread factor of 1.
fn correct_for_fitted_parameters(
    fits: &mut [TerritoryFit],
    shocks: &mut ShockModel,
    n: usize,
    group_params: f64,
    shares: &[f64],
) {
    let common_k = dof_inflation(n, group_params + 2.0);
    let own_k: Vec<f64> = fits
        .iter()
        .zip(shares)
        .map(|(f, share)| {
            let level_params = level_parameters(f);
            let own = f.season_dof.min(group_params);
            let seasonal = own + (group_params - own) * share;
            dof_inflation(n, seasonal + level_params)
        })
        .collect();
    let fitted: Vec<usize> = (0..fits.len()).filter(|&i| !fits[i].empty).collect();
    if fitted.is_empty() {
        return;
    }
    let (c, r) = (shocks.company_share, shocks.region_share);
    let own_share = (1.0 - c - r).max(0.0);
    let mean_own_k = fitted.iter().map(|&i| own_k[i]).sum::<f64>() / fitted.len() as f64;
    let total = (c + r) * common_k + own_share * mean_own_k;
    if total > 0.0 {
        shocks.company_share = c * common_k / total;
        shocks.region_share = r * common_k / total;
    }
    for &i in &fitted {
        let f = &mut fits[i];
        let variance = (c + r) * common_k + own_share * own_k[i];
        let level_params = level_parameters(f);
        let n_f = n as f64;
        let k = f.calibration.unwrap_or(1.0);
        // Level and slope: the noise variance inflated, less the level
        // parameters the covariance already accounted for.
        let level_k = (variance * (n_f - level_params) / n_f).max(1.0);
        f.level = f.level.with_cov_scaled((level_k * k * k).max(1.0));
        for a in &mut f.alternatives {
            a.level = a.level.with_cov_scaled((level_k * k * k).max(1.0));
        }
        if f.compound.is_some() {
            f.diag.spread = 1.0;
            widen_total(f, 1.0, 1.0);
            continue;
        }
        let law_var = f.residual.variance();
        let season = if law_var > 0.0 {
            f.season_var * (1.0 - shares[i]) / law_var
        } else {
            0.0
        };
        let spread = ((variance + season).sqrt() * k).max(1.0);
        f.residual = f.residual.clone().widened(spread);
        f.diag.spread = spread;
        widen_total(f, (variance + season).sqrt(), spread);
    }
}

/// Where the whole spans' totals missed more than their periods (errors
/// that persist: a level that is further off, or moves more, than the
/// model allows), the missing variance of the horizon total is one level
/// shift per trial, common to every period of the horizon and to every
/// averaged form alike (the level's relative variance at most
/// `MAX_LEVEL_REL_VAR`). The spans' totals cannot tell a misplaced level
/// from a wandering one. Of the two, the shift is the one that keeps the
/// year's median: given instead to the innovations' persistence (the
/// simulated alpha raised until they add it), each period's own surprise
/// moves the level for the rest of the horizon, and on a lumpy territory
/// (one big order, then empty months: relative noise of 100-170% a month)
/// the level becomes a mean-kept random walk whose median sinks by
/// alpha^2 sigma^2 / 2 a period; Superstore's states' year P50s fell to
/// under half their means. `dof` is the degrees-of-freedom widening and
/// `spread` the periods' total widening.
fn widen_total(f: &mut TerritoryFit, dof: f64, spread: f64) {
    let Some(k_total) = f.total_calibration else {
        return;
    };
    let target = k_total * dof;
    let [a0, a1, a2] = f.total_rel_var;
    let r = f.persistence;
    let rel_var = a0 + r * (a1 + r * a2);
    if target <= spread || rel_var <= 0.0 {
        return;
    }
    let needed = (target * target - spread * spread) * rel_var;
    let mut capped = false;
    let alternatives = f
        .alternatives
        .iter_mut()
        .map(|a| (&mut a.level, a.total_per_level));
    for (law, per_level) in std::iter::once((&mut f.level, f.total_per_level)).chain(alternatives) {
        // The total's relative variance, as the level's (a growing form's
        // total is more than its level held flat).
        let want = needed * per_level * per_level;
        let l2 = law.level * law.level;
        let room = (MAX_LEVEL_REL_VAR - law.cov[0][0] / l2).max(0.0);
        capped |= want > room;
        law.cov[0][0] += want.min(room) * l2;
    }
    // Shown in `params`: the shift's relative standard deviation, and
    // whether the cap on the level's uncertainty held it below what the
    // totals' errors asked for.
    if let Some(p) = f.diag.params.as_object_mut() {
        p.insert("level_shift_sd".into(), json!(round6(needed.sqrt())));
        if capped {
            p.insert("level_shift_capped".into(), json!(true));
        }
    }
}

/// Level and trend parameters counted by the degrees-of-freedom
/// correction: none when the territory's own rolling origins measured
/// their error out of sample (enough of its own errors for a factor of its
/// own; a factor borrowed from the company, as a territory whose form the
/// criterion chose takes, did not).
fn level_parameters(f: &TerritoryFit) -> f64 {
    let own_errors = f.evaluation.origins >= select::MIN_ORIGINS
        && f.evaluation.z(f.persistence).len() >= MIN_CALIBRATION_ERRORS;
    match (own_errors, f.diag.trend) {
        (true, _) => 0.0,
        (false, true) => 2.0,
        (false, false) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Misses at steps 0..12 whose forecast variance grows with the step
    /// (1 + step / 2, all of the growth from the innovations' persistence)
    /// and whose errors have standard deviation `sd(step)`: 60 errors per
    /// step at the normal's quantiles.
    fn misses(sd: impl Fn(f64) -> f64) -> Vec<(usize, select::Miss)> {
        let mut out = Vec::new();
        for h in 0..12 {
            for i in 0..60 {
                let z = crate::stats::special::norm_ppf((f64::from(i) + 0.5) / 60.0);
                let miss = select::Miss {
                    error: z * sd(h as f64),
                    var: [1.0, 0.0, 0.5 * h as f64],
                };
                out.push((h, miss));
            }
        }
        out
    }

    #[test]
    fn persistence_is_carried_as_far_as_the_errors_grew() {
        // With overwhelming evidence (1e6 independent origins):
        let sure = 1e6;
        // errors that grew as the forecast's spread did: kept as fitted;
        assert_eq!(
            persistence_factor(&[&misses(|h| (1.0 + 0.5 * h).sqrt())], sure),
            1.0
        );
        // errors that grew more: also kept (the level shift widens);
        assert_eq!(persistence_factor(&[&misses(|h| 1.0 + 0.5 * h)], sure), 1.0);
        // errors that did not grow at all: none carried;
        assert!(persistence_factor(&[&misses(|_| 1.0)], sure) < 0.05);
        // errors that grew a quarter as fast: about half (r^2 = 1/4).
        let quarter = |h: f64| (1.0 + 0.125 * h).sqrt();
        let r = persistence_factor(&[&misses(quarter)], sure);
        assert!((r - 0.5).abs() < 0.1, "{r}");
        // With the evidence of 200 independent origins, the same errors
        // move it less, and with 2 not at all.
        let some = persistence_factor(&[&misses(quarter)], 200.0);
        assert!(some > r + 0.1 && some < 1.0, "{some}");
        assert_eq!(persistence_factor(&[&misses(quarter)], 2.0), 1.0);
        // Twenty territories that agree: the jackknife over them finds no
        // doubt, whatever the independent origins say.
        let one = misses(quarter);
        let agreeing: Vec<&[(usize, select::Miss)]> = (0..20).map(|_| one.as_slice()).collect();
        let r20 = persistence_factor(&agreeing, 2.0);
        assert!((r20 - r).abs() < 0.01, "{r20} against {r}");
    }

    #[test]
    fn degrees_of_freedom_inflation_is_n_over_n_minus_p_and_capped() {
        assert!((dof_inflation(24, 12.0) - 2.0).abs() < 1e-12);
        assert_eq!(dof_inflation(24, 0.0), 1.0);
        assert_eq!(dof_inflation(10, 12.0), MAX_DOF_INFLATION);
    }
}
