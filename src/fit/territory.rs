//! One territory's fit: how its candidate forms would have forecast it
//! (`evaluate_territory`), then, given the forms chosen with its region's
//! evidence, their moments over the horizon, its residual law and, where
//! the sales table names deals, the compound law that competes with it
//! (`fit_territory`).

use serde_json::json;

use super::deseasonalise::Deseasonalised;
use super::params::{params_json, round6, with_smoothing};
use super::pooling::{log_squares, pooled_law};
use super::season;
use super::{compound, family, spikes, step, zeros};
use crate::ets::prior::FormPriors;
use crate::ets::{select, Form, Growth};
use crate::model::{
    AlternativeLevel, Diagnostics, LevelLaw, PositivePart, ResidualLaw, TerritoryModel,
};
use crate::scenario::Criterion;
use crate::stats::dist::Family;
use crate::stats::gof::ks_statistic;
use crate::stats::quantile::mean;

/// Intermediate result for one territory.
pub(super) struct TerritoryFit {
    pub(super) level: LevelLaw,
    pub(super) season: Vec<f64>,
    pub(super) residual: ResidualLaw,
    pub(super) compound: Option<crate::model::CompoundLaw>,
    pub(super) diag: Diagnostics,
    /// Normal scores of the residuals, one per history period.
    pub(super) scores: Vec<f64>,
    pub(super) empty: bool,
    pub(super) needs_pooling: bool,
    /// Whether it stopped selling before the origin (`start::history_end`):
    /// its misses are left out of the company's evidence (calibration,
    /// persistence, common shocks).
    pub(super) closed: bool,
    pub(super) n_positive: usize,
    /// The positive ratios' log sum of squares about their mean and its
    /// degrees of freedom, for a territory too sparse for its own law
    /// (`pooling::sparse_sdlog`); `None` otherwise.
    pub(super) sparse_squares: Option<(f64, f64)>,
    /// The rolling-origin evaluation of the chosen form.
    pub(super) evaluation: select::Evaluation,
    /// The forms averaged with the chosen one.
    pub(super) alternatives: Vec<Alternative>,
    /// The region's growth per horizon step (group-share form; else empty).
    pub(super) growth: Vec<f64>,
    /// The calibration factor of the simulated spread, when the
    /// rolling-origin errors gave one.
    pub(super) calibration: Option<f64>,
    /// The same for the horizon total (from the spans' totals' errors).
    pub(super) total_calibration: Option<f64>,
    /// The horizon total's factor on each side of its median, below and
    /// above (the two-sided factor with the side's offset, `skew`).
    pub(super) total_sides: Option<[f64; 2]>,
    /// Relative variance of the horizon total under the fitted model, as
    /// a quadratic in a factor r on the smoothing weights (`[a0, a1, a2]`:
    /// a0 + a1 r + a2 r^2).
    pub(super) total_rel_var: [f64; 3],
    /// The part of `total_rel_var`'s a0 that is not the innovations': the
    /// averaged forms' spread of means and their states' estimation error
    /// (`spread::TotalPlan` narrows only the innovations).
    pub(super) total_fixed_rel_var: f64,
    /// The factor on the smoothing weights the simulation uses
    /// (`persistence::persistence_factor`; 1: as fitted).
    pub(super) persistence: f64,
    /// [`total_per_level`] of the chosen form (1 without one).
    pub(super) total_per_level: f64,
    /// Seasonal parameters estimated from the territory's own deviations
    /// (sum of shrinkage weights).
    pub(super) season_dof: f64,
    /// Mean posterior variance of the territory's own log seasonal
    /// deviations: their estimation error; after
    /// `spread::correct_for_fitted_parameters`, the log variance the
    /// simulation draws per position and trial (`TerritoryModel::season_sd`).
    pub(super) season_var: f64,
    /// The level-and-trend parameters the averaged forms' one-step
    /// variance was divided for (`EtsFit::sigma2` divides the squared
    /// errors by n less these), weighted as the forms are; `None` without
    /// a fitted form.
    pub(super) form_parameters: Option<f64>,
    /// The share of the seasonal degrees-of-freedom widening the horizon
    /// total's target keeps ([`seasonal_share_of_total`]).
    pub(super) total_season_share: f64,
    /// The least widening of the residual law: 1 (the model's in-sample
    /// spread) unless cross-fitted errors narrow it
    /// (`calibration::narrowest_spread`).
    pub(super) spread_floor: f64,
}

/// How much of the seasonal degrees-of-freedom widening a horizon total of
/// `horizon` periods needs, with seasons of `s` periods, as the exponent
/// on that widening (`spread::TotalPlan`): 0 (none) where the horizon is
/// whole seasons, 1 (all) where it is shorter than one, and otherwise the
/// share of its periods past its whole seasons.
///
/// The indices fitted to the history shrink its residuals, and so the
/// forms' one-step variance, by the seasonal parameters they took
/// (`spread::correct_for_fitted_parameters` widens the periods for them).
/// A rolling origin's period error is shrunk alike, since the scored
/// period helped fit its index: the periods' factor is measured net of
/// that widening. But the indices' errors cancel over a year (they are
/// renormalised), so a whole year's total misses by as much as if they
/// had not seen it, against a variance that they shrank: the totals'
/// factor already holds the seasonal widening, and applying it again
/// made years too wide (weekly territories with seasons of their own,
/// `docs/experiments/more_truths.py --set c`: the simulated year 1.28
/// times the forms' total spread where the total's factor asked for
/// 1.11, and 0.88-0.92 of years inside their P10-P90; session 28).
fn seasonal_share_of_total(horizon: usize, s: usize) -> f64 {
    if s <= 1 || horizon < s {
        1.0
    } else {
        (horizon % s) as f64 / horizon as f64
    }
}

/// A form averaged with a territory's chosen one.
pub(super) struct Alternative {
    pub(super) weight: f64,
    pub(super) level: LevelLaw,
    pub(super) fit: crate::ets::EtsFit,
    /// [`total_per_level`] of this form.
    pub(super) total_per_level: f64,
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
        shift_var: [0.0, 0.0],
        smoothing: ets.smoothing,
    }
}

impl TerritoryFit {
    /// A stepped territory's scaled history is as if the level after the
    /// step had always held, so the fit knows that level as well as its
    /// whole history's; it is known only as well as the ratio read from
    /// the periods after the step (`step::Step::log_se`): that variance is
    /// added to the level on both sides, in every averaged form (the
    /// review of session 31: 80% intervals held the truth's expectation
    /// in 57-72% of draws after a step, 99% without one).
    pub(super) fn add_step_uncertainty(&mut self, found: &step::Step) {
        let var = found.log_se * found.log_se;
        let alternatives = self.alternatives.iter_mut().map(|a| &mut a.level);
        for law in std::iter::once(&mut self.level).chain(alternatives) {
            let add = var * law.level * law.level;
            law.shift_var = law.shift_var.map(|v| v + add);
        }
        if let Some(p) = self.diag.params.as_object_mut() {
            p.insert("step_log_se".into(), json!(round6(found.log_se)));
        }
    }

    /// The simulation's model of territory `t` (in region `region_index`,
    /// fitted on its last `n_periods`).
    pub(super) fn into_model(
        self,
        t: &crate::history::Territory,
        region_index: usize,
        n_periods: usize,
    ) -> TerritoryModel {
        TerritoryModel {
            name: t.name.clone(),
            region: t.region.clone(),
            region_index,
            n_periods,
            level: self.level,
            season: self.season,
            season_sd: self.season_var.sqrt(),
            residual: self.residual,
            compound: self.compound,
            growth: self.growth,
            alternatives: self
                .alternatives
                .into_iter()
                .map(|a| AlternativeLevel {
                    weight: a.weight,
                    level: a.level,
                    growth: a.fit.growth,
                })
                .collect(),
            diagnostics: self.diag,
        }
    }

    /// The residuals' normal scores put on the company's calendar for a
    /// history that starts at period `start`: the periods before it take
    /// the territory's mean score, so that they add nothing to the common
    /// shocks' covariances. (Its variance and covariances are still divided
    /// by the company's periods, so its correlations with the others read
    /// about sqrt(own / company periods) of what they are: a late starter
    /// counts for less in the shared shocks, not more.)
    pub(super) fn pad_scores(&mut self, start: usize) {
        if start > 0 && !self.scores.is_empty() {
            let m = mean(&self.scores);
            self.scores.splice(0..0, std::iter::repeat_n(m, start));
        }
    }
}

/// 5% of each period's local level: the mean of `a` over the `season`
/// periods centred on it (fewer at the history's ends), at least 0.
fn local_floor(a: &[f64], season: usize) -> Vec<f64> {
    let n = a.len();
    let half = (season / 2).max(1);
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for v in a {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + v);
    }
    (0..n)
        .map(|t| {
            let (lo, hi) = (t.saturating_sub(half), (t + half + 1).min(n));
            (0.05 * (prefix[hi] - prefix[lo]) / (hi - lo) as f64).max(0.0)
        })
        .collect()
}

/// Settings shared by every territory's fit.
pub(super) struct Settings {
    /// The residual families the scenario's `[fit] families` names.
    pub(super) families: Vec<Family>,
    /// Whether it names the empirical law.
    pub(super) allow_empirical: bool,
    pub(super) criterion: Criterion,
    /// Periods the forecast runs ahead: the rolling-origin evaluation's horizon.
    pub(super) horizon: usize,
}

impl Settings {
    /// The settings of `spec`, for a forecast `horizon` periods ahead (at
    /// least one).
    pub(super) fn of(spec: &crate::scenario::FitSpec, horizon: usize) -> Self {
        Settings {
            families: spec
                .families
                .iter()
                .filter_map(|f| Family::parse(f))
                .collect(),
            allow_empirical: spec.families.iter().any(|f| f == "empirical"),
            criterion: spec.criterion,
            horizon: horizon.max(1),
        }
    }
}

/// How each candidate form would have forecast territory `y` (none for a
/// territory without sales), whose history starts at period `start` of
/// its region's growth paths.
pub(super) fn evaluate_territory(
    y: &[f64],
    d: &Deseasonalised,
    shocks: &[usize],
    region_growth: &[(usize, Growth)],
    start: usize,
    settings: &Settings,
    prior: &FormPriors,
) -> Option<select::Evaluated> {
    if y.iter().all(|&v| v == 0.0) {
        return None;
    }
    // The group's shock periods read at the year's median (item 1 of the
    // README's model): their risk is in the residual law once.
    let scored: std::borrow::Cow<[f64]> = if shocks.is_empty() {
        std::borrow::Cow::Borrowed(&d.a)
    } else {
        let level = season::year_median(&d.a, d.season.len());
        let mut a = d.a.clone();
        for &t in shocks {
            if let (Some(v), Some(&l)) = (a.get_mut(t), level.get(t)) {
                *v = l;
            }
        }
        std::borrow::Cow::Owned(a)
    };
    let growth = |len: usize| {
        region_growth
            .iter()
            .find(|(l, _)| *l == len + start)
            .map_or_else(Growth::none, |(_, g)| g.since(start))
    };
    select::evaluate(
        &d.a_capped,
        &scored,
        &d.season_t,
        settings.horizon,
        d.season.len(),
        &growth,
        prior,
    )
}

pub(super) fn fit_territory(
    y: &[f64],
    deals: Option<&compound::Deals>,
    deseasonalised: Deseasonalised,
    choice: Option<select::Choice>,
    settings: &Settings,
    positions: &[usize],
) -> TerritoryFit {
    let Settings {
        ref families,
        allow_empirical,
        criterion,
        horizon,
    } = *settings;
    let n = y.len();
    let empty = n == 0 || y.iter().all(|&v| v == 0.0);
    let Deseasonalised {
        season,
        own_season,
        season_dof,
        season_var,
        outliers,
        a: deseasonalised_a,
        a_capped,
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
    let HorizonMoments {
        form_parameters,
        per_level,
        total_rel_var,
        total_fixed_rel_var,
    } = HorizonMoments::of(&forms, &weights);
    for (a, p) in alternatives.iter_mut().zip(&per_level[1..]) {
        a.total_per_level = *p;
    }

    let split = Ratios::of(y, &fitted, &deseasonalised_a, &a_capped, &season, positions);
    let Ratios {
        denominators,
        ratios,
        capped: _,
        nonpositive,
        positive,
        spikes,
    } = &split;
    let p0 = nonpositive.len() as f64 / nf;
    let p_spike = spikes.len() as f64 / nf;

    let family::Chosen {
        part: positive_part,
        loglik: ll,
        aic,
        bic: bic_v,
        k: chosen_k,
        key: key_chosen,
        runner_up,
        needs_pooling,
    } = family::choose(positive, families, allow_empirical, criterion);
    let gof = (!needs_pooling).then(|| ks_statistic(positive, |x| positive_part.cdf(x)));
    let residual = ResidualLaw::new(p0, nonpositive.clone(), positive_part)
        .with_spikes(p_spike, spikes.clone())
        .with_zero_rate(zeros::fit(y, denominators));
    // Keep the forecast mean equal to the fitted mean: E[R] should be mean(ratios).
    let target = mean(ratios);
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
        origins_held_out: choice.evaluation.held_out_origins,
        calibration: None,
        total_calibration: None,
        total_calibration_sides: None,
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
            let side = ResidualSide {
                amounts_ll: split.amounts_loglik(ll),
                ratios_ll: ll,
                k: chosen_k,
                key: key_chosen,
                name: residual.positive.name(),
            };
            compound_law = side.contest(cf, deals, criterion, &level, &mut diag);
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
        closed: false,
        n_positive: positive.len(),
        sparse_squares: needs_pooling.then(|| log_squares(positive)).flatten(),
        growth: choice.fit.growth.clone(),
        evaluation: choice.evaluation,
        alternatives,
        calibration: None,
        total_calibration: None,
        total_sides: None,
        total_rel_var,
        total_fixed_rel_var,
        total_per_level: per_level[0],
        persistence: 1.0,
        season_dof,
        season_var,
        form_parameters,
        total_season_share: seasonal_share_of_total(horizon, s_len),
        spread_floor: 1.0,
    }
}

/// A territory's periods against their expected values, split as its
/// residual law is fitted to them.
struct Ratios {
    /// Each period's expected value: the state's one-step mean, floored
    /// at 5% of the territory's level around that period (the mean of its
    /// capped, deseasonalised values over the season centred on it), times
    /// its seasonal index. The floor keeps a level driven near zero (a run
    /// of zeros or credits) from making a ratio explode. Around that
    /// period, not at the origin: a market that grew a hundredfold had its
    /// first year floored at 5% of its last level, its ratios there at
    /// 0.25-0.75, and a law that wide took the simulated paths' median to
    /// zero within the year; nor the history's mean, which a market that
    /// shrank a hundredfold sits under (session 17).
    denominators: Vec<f64>,
    /// Actual over expected.
    ratios: Vec<f64>,
    /// Whether each period was capped as a one-off spike (`deseasonalise`).
    capped: Vec<bool>,
    /// The non-positive ratios, the positive ordinary ones and the spikes'
    /// (one-off spikes that would move every period's median are a mass
    /// of their own: `spikes`).
    nonpositive: Vec<f64>,
    positive: Vec<f64>,
    spikes: Vec<f64>,
}

impl Ratios {
    /// The ratios of the periods `y` to the state's one-step means
    /// `fitted`, with the deseasonalised series `a` and `a_capped` (spikes
    /// capped), the territory's `season` at year `positions`.
    fn of(
        y: &[f64],
        fitted: &[f64],
        a: &[f64],
        a_capped: &[f64],
        season: &[f64],
        positions: &[usize],
    ) -> Self {
        let expected_floor = local_floor(a_capped, season.len());
        let denominators: Vec<f64> = positions
            .iter()
            .zip(fitted)
            .zip(&expected_floor)
            .map(|((&m, f), floor)| f.max(*floor) * season[m])
            .collect();
        let ratios: Vec<f64> = y.iter().zip(&denominators).map(|(v, d)| v / d).collect();
        let nonpositive: Vec<f64> = ratios.iter().copied().filter(|&r| r <= 0.0).collect();
        let capped: Vec<bool> = (0..y.len()).map(|t| a[t] > a_capped[t]).collect();
        let spikes::Split { positive, spikes } = spikes::split(&ratios, &capped);
        Ratios {
            denominators,
            ratios,
            capped,
            nonpositive,
            positive,
            spikes,
        }
    }

    /// Whether period `t` is one of the spikes drawn as a mass of their own.
    fn is_spike(&self, t: usize) -> bool {
        self.capped[t] && !self.spikes.is_empty()
    }

    /// The residual law's log-likelihood of the period amounts, from `ll`,
    /// its positive part's of the positive ordinary ratios: that density
    /// less its Jacobian, with the non-positive and spike masses'
    /// probabilities (their values are drawn as observed).
    fn amounts_loglik(&self, ll: f64) -> f64 {
        let n = self.ratios.len();
        let (n_pos, n_spike) = (self.positive.len(), self.spikes.len());
        let n0 = n - n_pos - n_spike;
        let p0 = self.nonpositive.len() as f64 / n as f64;
        let p_spike = n_spike as f64 / n as f64;
        let mut amounts_ll = ll
            - (0..n)
                .filter(|&t| self.ratios[t] > 0.0 && !self.is_spike(t))
                .map(|t| self.denominators[t].ln())
                .sum::<f64>();
        if n_pos > 0 && p0 + p_spike < 1.0 {
            amounts_ll += n_pos as f64 * (1.0 - p0 - p_spike).ln();
        }
        if n0 > 0 && p0 > 0.0 {
            amounts_ll += n0 as f64 * p0.ln();
        }
        if n_spike > 0 {
            amounts_ll += n_spike as f64 * p_spike.ln();
        }
        amounts_ll
    }
}

/// The residual law's side of its contest with the compound law, which
/// competes on the period totals given the same expected path (see
/// `compound`).
struct ResidualSide<'a> {
    /// Its log-likelihood of the period amounts: the positive ratios'
    /// density less its Jacobian, with the non-positive and spike masses'
    /// probabilities.
    amounts_ll: f64,
    /// Its log-likelihood of the positive ratios, the scale `fit.csv`
    /// reports.
    ratios_ll: f64,
    /// Its positive part's parameters and criterion value.
    k: usize,
    key: f64,
    name: &'a str,
}

impl ResidualSide<'_> {
    /// The compound law `cf` of `deals` where it beats this side by
    /// `criterion` (`None` otherwise), with `diag` (and its `params`,
    /// with `level`'s smoothing weights) reporting the winner and the
    /// runner-up on the residual laws' scale.
    fn contest(
        &self,
        cf: compound::CompoundFit,
        deals: &compound::Deals,
        criterion: Criterion,
        level: &LevelLaw,
        diag: &mut Diagnostics,
    ) -> Option<crate::model::CompoundLaw> {
        let nf = diag.actual.len() as f64;
        let ic = |ll: f64, k: f64| match criterion {
            Criterion::Aic => 2.0 * k - 2.0 * ll,
            Criterion::Bic => k * nf.ln() - 2.0 * ll,
        };
        let resid_ic = ic(self.amounts_ll, self.k as f64);
        let compound_ic = ic(cf.loglik, cf.params);
        if compound_ic < resid_ic {
            // Reported on the residual laws' scale (the likelihood of
            // actual / expected): the same Jacobian and non-positive
            // terms are taken off, so aic columns stay comparable.
            let k = cf.params;
            let ll_on_scale = cf.loglik - (self.amounts_ll - self.ratios_ll);
            diag.model = cf.law.name();
            diag.params = with_smoothing(
                compound::params_json(&cf.law, mean(&deals.counts), deals.sizes.len()),
                level,
            );
            diag.loglik = Some(ll_on_scale);
            diag.aic = Some(2.0 * k - 2.0 * ll_on_scale);
            diag.bic = Some(k * nf.ln() - 2.0 * ll_on_scale);
            diag.gof_name = cf.ks_sizes.map(|_| "ks_deal_sizes".to_string());
            diag.gof_stat = cf.ks_sizes;
            diag.runner_up = Some(self.name.to_string());
            diag.runner_up_ic = Some(self.key);
            Some(cf.law)
        } else {
            // Report the compound law as runner-up on the chosen law's scale.
            let shift = resid_ic - self.key;
            let on_scale = compound_ic - shift;
            if diag.runner_up_ic.is_none_or(|r| on_scale < r) {
                diag.runner_up = Some(cf.law.name());
                diag.runner_up_ic = Some(on_scale);
            }
            None
        }
    }
}

/// The averaged forms' horizon total, as the calibration and the level
/// shift need it.
struct HorizonMoments {
    /// The level-and-trend parameters the forms' one-step variance was
    /// divided for, weighted as the forms are (`None` without weight).
    form_parameters: Option<f64>,
    /// Each form's total over its level held flat ([`total_per_level`]).
    per_level: Vec<f64>,
    /// The mixture's relative variance of the total as a quadratic in a
    /// factor on the smoothing weights, and the part of its constant term
    /// the innovations do not make (`TerritoryFit::total_rel_var`,
    /// `total_fixed_rel_var`).
    total_rel_var: [f64; 3],
    total_fixed_rel_var: f64,
}

impl HorizonMoments {
    /// The moments of `forms` (weight, fit) over a horizon whose periods
    /// have seasonal `weights`.
    fn of(forms: &[(f64, &crate::ets::EtsFit)], weights: &[f64]) -> Self {
        let form_weight: f64 = forms.iter().map(|(w, _)| w).sum();
        let form_parameters = (form_weight > 0.0).then(|| {
            forms
                .iter()
                .map(|(w, f)| w * f.form.variance_parameters() as f64)
                .sum::<f64>()
                / form_weight
        });
        // As a quadratic in a factor on the smoothing weights (`calibrate`
        // scales the innovations' persistence).
        // Each form's mean total, its variance's parts, and the part of them
        // from its state's estimation error (with the forms' spread of means,
        // the part the innovations' scale does not move).
        let moments: Vec<(f64, f64, [f64; 3], f64)> = forms
            .iter()
            .map(|&(w, f)| {
                let means = f.weighted_means(weights);
                let m: f64 = means.iter().sum();
                let estimation = f.total_estimation_variance(&means);
                (w, m, f.total_variance_parts(weights), estimation)
            })
            .collect();
        let estimation: f64 = moments.iter().map(|(w, _, _, e)| w * e).sum();
        // Each form's total over its level held flat (the level shift's size).
        let weight_sum: f64 = weights.iter().sum();
        let per_level: Vec<f64> = forms
            .iter()
            .zip(&moments)
            .map(|(&(_, f), &(_, m, _, _))| total_per_level(m, f.level * weight_sum))
            .collect();
        let expected_total: f64 = moments.iter().map(|(w, m, _, _)| w * m).sum();
        let (total_rel_var, total_fixed_rel_var) = if expected_total > 0.0 {
            let e2 = expected_total * expected_total;
            let spread: f64 = moments.iter().map(|(w, m, _, _)| w * m * m).sum::<f64>() - e2;
            let mut parts = [spread.max(0.0) / e2, 0.0, 0.0];
            for (w, _, v, _) in &moments {
                for (p, x) in parts.iter_mut().zip(v) {
                    *p += w * x / e2;
                }
            }
            (parts, (spread.max(0.0) + estimation) / e2)
        } else {
            ([0.0; 3], 0.0)
        };
        Self {
            form_parameters,
            per_level,
            total_rel_var,
            total_fixed_rel_var,
        }
    }
}

/// A territory whose history nets to zero or less (credits, refunds): no
/// level model fits a non-positive mean, so each period is drawn from the
/// territory's own periods, as observed (their mean magnitude as the level,
/// the ratios to it as the law, negative ones included). It forecasts what
/// the data say, credits included, with no trend or season;
/// `notes::net_credits` warns of it.
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

/// A territory with sales at a known `level` and no law of its own yet,
/// for the tests of the stages that read fits.
#[cfg(test)]
pub(super) fn fit_at_level(level: f64) -> TerritoryFit {
    let mut f = empty_fit(vec![1.0; 12], 24);
    f.empty = false;
    f.level = LevelLaw::fixed(level);
    f
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
        closed: false,
        n_positive: 0,
        sparse_squares: None,
        growth: Vec::new(),
        evaluation: select::Evaluation::default(),
        alternatives: Vec::new(),
        calibration: None,
        total_calibration: None,
        total_sides: None,
        total_rel_var: [0.0; 3],
        total_fixed_rel_var: 0.0,
        total_per_level: 1.0,
        persistence: 1.0,
        season_dof: 0.0,
        season_var: 0.0,
        form_parameters: None,
        total_season_share: 1.0,
        spread_floor: 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ets::{fit, Form, Growth};

    /// 36 periods around 100 with a fixed ±10% pattern, times `growth`
    /// per period.
    fn series(growth: f64) -> Vec<f64> {
        (0..36i32)
            .map(|t| {
                let wiggle = 1.0 + 0.05 * ((t * 7 % 5) as f64 - 2.0);
                100.0 * wiggle * (1.0 + growth).powi(t)
            })
            .collect()
    }

    #[test]
    fn the_horizon_moments_weigh_the_forms_and_their_spread_of_means() {
        let none = (Growth::none(), FormPriors::none());
        let flat = fit(&series(0.0), Form::Mean, &none.0, &none.1, 12).unwrap();
        let grown = fit(&series(0.02), Form::Trend, &none.0, &none.1, 12).unwrap();
        let weights = vec![1.0; 12];
        // A stable level's total is its level held flat, and it divides
        // its variance for one parameter (the level).
        let one = HorizonMoments::of(&[(1.0, &flat)], &weights);
        assert!((one.per_level[0] - 1.0).abs() < 1e-12);
        assert_eq!(one.form_parameters, Some(1.0));
        assert!(
            (one.total_fixed_rel_var
                - flat.total_estimation_variance(&flat.weighted_means(&weights))
                    / (12.0 * flat.level).powi(2))
            .abs()
                < 1e-12
        );
        // A trend growing 2% a period totals more than its level held
        // flat, by about the mean growth over the horizon.
        let up = HorizonMoments::of(&[(1.0, &grown)], &weights);
        assert!(
            up.per_level[0] > 1.08 && up.per_level[0] < 1.2,
            "{}",
            up.per_level[0]
        );
        // Averaged half and half: the forms' weighted parameters, and the
        // spread of their means' totals in the part the innovations do not
        // make.
        let both = HorizonMoments::of(&[(0.5, &flat), (0.5, &grown)], &weights);
        let totals = [&flat, &grown].map(|f| f.weighted_means(&weights).iter().sum::<f64>());
        let mean = 0.5 * (totals[0] + totals[1]);
        let spread = 0.25 * (totals[0] - totals[1]).powi(2) / (mean * mean);
        assert_eq!(both.form_parameters, Some(0.5 * 1.0 + 0.5 * 4.0));
        assert!(
            both.total_fixed_rel_var >= spread,
            "{} < {spread}",
            both.total_fixed_rel_var
        );
        assert!(both.total_rel_var[0] >= both.total_fixed_rel_var);
        assert_eq!(both.per_level.len(), 2);
    }
}
