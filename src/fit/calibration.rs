//! Calibrating the simulated spread against the rolling-origin errors
//! (cross-fitted where the history allows, `ets::crossfit`):
//! each evaluated territory's factor on its periods' spread and on its
//! horizon total's, from its standardised errors at the company's
//! persistence (`persistence`), shrunk toward the company's factor by
//! empirical Bayes ([`calibrate`]), the total's on each side of its median
//! (`skew`). The factors are applied with the degrees-of-freedom
//! correction (`spread`).

use super::persistence::{carry_persistence, persistence_factor};
use super::skew;
use super::TerritoryFit;
use crate::ets::origins::MIN_ORIGINS;
use crate::ets::select;

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
/// Fewest territories with a factor of their own (counted separately for
/// the periods and the total: a total needs `MIN_CALIBRATION_ERRORS`
/// whole spans) to estimate the spread of their true calibration
/// factors.
const MIN_CALIBRATION_MEMBERS: usize = 3;
/// Fewest standardised errors for a calibration factor.
pub(super) const MIN_CALIBRATION_ERRORS: usize = 8;
/// Range of the calibration factor: a history never makes the simulated
/// spread more than this many times narrower or wider than the model's.
const CALIBRATION_RANGE: (f64, f64) = (0.5, 4.0);
/// |z| quantile of a standard normal at 0.8: the P10-P90 half-width.
const Z_80: f64 = 1.281_551_565_5;

/// The calibration factor of standardised rolling-origin errors `z` (with
/// their horizon steps): the factor by which the predicted standard
/// deviations must be scaled for the errors' P10-P90 interval to cover 80%
/// (their 80% quantile of |z| over the normal's, 1.2816), between 0.5 and
/// 4. Below 1 it only takes back the degrees-of-freedom widening
/// (`spread::correct_for_fitted_parameters` goes no lower than the model's
/// own in-sample spread) unless the errors were cross-fitted: errors that
/// look smaller than the model's spread are not evidence enough to narrow
/// it when they are of the form chosen on these same origins (on
/// Walmart's 19-21 months narrowing took coverage to 0.63); cross-fitted
/// ones narrow it as far as [`narrowest_spread`] allows. A coverage
/// statistic, not the errors' sd: one wild month does not widen every
/// forecast.
pub(super) fn calibration_factor(z: &[(usize, f64)]) -> Option<f64> {
    if z.len() < MIN_CALIBRATION_ERRORS {
        return None;
    }
    Some(factor_of(quantile_80(z)))
}

/// The factor of an error quantile measured where the normal's is 1.2816
/// (`Z_80`: the |z| quantile at 0.8, the z quantile at 0.9), within
/// `CALIBRATION_RANGE`.
pub(super) fn factor_of(quantile: f64) -> f64 {
    (quantile / Z_80).clamp(CALIBRATION_RANGE.0, CALIBRATION_RANGE.1)
}

/// The 80% quantile of |z| over errors `z` with their horizon steps,
/// every step weighing the same (the forecast's periods do: the early
/// steps, scored from more origins, would otherwise set it for the whole
/// horizon); the normal's, `Z_80`, for no errors.
pub(super) fn quantile_80(z: &[(usize, f64)]) -> f64 {
    let steps = z.iter().map(|(h, _)| h + 1).max().unwrap_or(1);
    let mut count = vec![0usize; steps];
    z.iter().for_each(|(h, _)| count[*h] += 1);
    let weighted: Vec<(f64, f64)> = z
        .iter()
        .map(|(h, v)| (v.abs(), 1.0 / count[*h] as f64))
        .collect();
    weighted_quantile(weighted, 0.8).unwrap_or(Z_80)
}

/// The `p` quantile of values with their weights: the first value, in
/// order, whose cumulative weight reaches `p` of the total, to within
/// rounding (with ten errors of weight 1/10 the eighth at 0.8: the
/// weights' floating-point sums would otherwise pick the eighth or the
/// ninth depending on the count); `None` for no values. Every quantile
/// of the calibration reads through it.
pub(super) fn weighted_quantile(mut values: Vec<(f64, f64)>, p: f64) -> Option<f64> {
    values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = values.iter().map(|v| v.1).sum();
    let mut cumulative = 0.0;
    values
        .iter()
        .find(|(_, w)| {
            cumulative += w;
            cumulative >= p * total * (1.0 - 1e-12)
        })
        .map(|(v, _)| *v)
}

/// One evaluated territory's standardised rolling-origin errors.
#[derive(Default)]
struct Errors {
    /// Its periods', with their horizon steps.
    periods: Vec<(usize, f64)>,
    /// Its whole spans' totals' (step 0).
    totals: Vec<(usize, f64)>,
    /// The same on the log scale, one per whole span (`None`: not
    /// positive), the latest first.
    log_totals: Vec<Option<f64>>,
}

impl Errors {
    /// The periods' errors (0) or the totals' (1).
    fn of(&self, i: usize) -> &[(usize, f64)] {
        if i == 0 {
            &self.periods
        } else {
            &self.totals
        }
    }
}

/// Choose how far the innovations' persistence is carried
/// ([`persistence_factor`], returned and applied to every territory by
/// [`carry_persistence`]; it scales every form's
/// alpha and beta, including those the prior pulled: a company-wide
/// correction of how far one-step fits carry surprises), then, at that
/// factor, calibrate each fitted territory's simulated spread against its own
/// rolling-origin errors (cross-fitted where the history allows:
/// `ets::crossfit`), shrunk toward the company's (and the same for
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
/// ([`true_variance`]). So where the territories' factors differ
/// no more than their noise would make them (a panel of iid series), each
/// takes the company's, and where some really wander more than others,
/// their own evidence counts in proportion. Before 2026-12-05 the weight
/// was m / (m + 4) whatever the panel: with four independent spans a
/// territory's total took half its own factor, known to 45%, and one of
/// eight iid series had its year widened 40% by chance. The company's
/// factor pools every evaluated territory's errors; a territory with fewer
/// than `origins::MIN_ORIGINS` origins takes the company's. The total's
/// factor then gets one side each below and above the median: k_total
/// times exp(offset), the offsets from the spans' totals' errors on the
/// log scale (`select::Miss::log_z`), shrunk toward the company's
/// (`skew::side_offsets`), within the factors' range. The residual
/// law is widened by k (on the log scale, mean kept) and the state's
/// covariance by k^2, so periods, their persistence and totals all scale
/// together (a level shift for the totals then takes its variance from
/// the periods' noise, `spread::TotalPlan`; applied by `spread::correct_for_fitted_parameters`, on top
/// of its correction for the seasonal parameters, whose error in a
/// period's index the rolling origins do not refit and so cannot see, and
/// of the one that brings the residual law, fitted over n, to the forms'
/// variance over n less their parameters, against which k was measured).
/// Below 1, where every recent origin's errors were cross-fitted, k
/// narrows the residual law as far as [`narrowest_spread`] allows; the
/// state's covariance keeps at least its in-sample estimate.
pub(super) fn calibrate(fits: &mut [TerritoryFit]) -> f64 {
    // A territory that stopped selling (`start::history_end`) missed by
    // its closing, which says nothing of how far the others' forecasts
    // miss: it takes the company's factors and gives none.
    let evaluated = |f: &TerritoryFit| !f.empty && !f.closed && f.evaluation.origins >= MIN_ORIGINS;
    let misses: Vec<&[(usize, select::Miss)]> = fits
        .iter()
        .filter(|f| evaluated(f))
        .map(|f| f.evaluation.persistence_misses.as_slice())
        .collect();
    let r = persistence_factor(&misses);
    // Each evaluated territory's standardised errors at r, of its periods
    // and of its whole spans' totals, and the totals' on the log scale
    // (one per whole span: the sides', `skew`), computed once.
    let evaluated_errors: Vec<Option<Errors>> = fits
        .iter()
        .map(|f| {
            evaluated(f).then(|| {
                let e = &f.evaluation;
                Errors {
                    periods: e.z(r),
                    totals: e.z_total(r).into_iter().map(|z| (0, z)).collect(),
                    log_totals: e.log_z_total(r),
                }
            })
        })
        .collect();
    let evidence: Vec<[f64; 2]> = fits
        .iter()
        .map(|f| {
            let e = &f.evaluation;
            [e.independent_origins, e.independent_spans]
        })
        .collect();
    let factors = shrunk_factors(&evaluated_errors, &evidence);
    // Only territories whose every recent origin was cross-fitted narrow,
    // and only their errors say how far.
    let crossfitted: Vec<bool> = fits
        .iter()
        .map(|f| evaluated(f) && f.evaluation.held_out_origins >= f.evaluation.origins)
        .collect();
    let held_out: Vec<(&Errors, f64)> = evaluated_errors
        .iter()
        .zip(&crossfitted)
        .zip(&evidence)
        .filter_map(|((e, &c), m)| e.as_ref().filter(|_| c).map(|e| (e, m[0])))
        .collect();
    let narrowest = narrowest_spread(&held_out);
    // The sides read the totals' errors on the log scale, where a
    // multiplicative forecast that is right misses as far either way.
    let spans: Vec<Option<skew::SpanErrors>> = fits
        .iter()
        .zip(&evaluated_errors)
        .map(|(f, e)| {
            e.as_ref()
                .map(|e| (e.log_totals.as_slice(), f.evaluation.independent_spans))
        })
        .collect();
    let offsets = skew::side_offsets(&spans);
    for (((f, [periods, total]), offset), &crossfitted) in
        fits.iter_mut().zip(factors).zip(offsets).zip(&crossfitted)
    {
        if f.empty {
            continue;
        }
        f.calibration = periods;
        f.spread_floor = if crossfitted { narrowest } else { 1.0 };
        f.total_calibration = total;
        f.total_sides = f
            .total_calibration
            .map(|k| offset.map(|o| (k * o.exp()).clamp(CALIBRATION_RANGE.0, CALIBRATION_RANGE.1)));
        f.diag.calibration = f.calibration;
        f.diag.total_calibration = f.total_calibration;
        f.diag.total_calibration_sides = f.total_sides;
        carry_persistence(f, r);
    }
    r
}

/// Each territory's calibration factors of its periods and of its horizon
/// total, from its standardised errors (`None`: not evaluated) and the
/// independent origins and whole spans they amount to: its own log
/// factor, of sampling variance `FACTOR_LOG_VARIANCE` / m, shrunk toward
/// the company's pooled one by empirical Bayes ([`calibrate`]); the
/// company's where it has none of its own.
fn shrunk_factors(errors: &[Option<Errors>], independent: &[[f64; 2]]) -> Vec<[Option<f64>; 2]> {
    let company = [0, 1].map(|i| company_factor(errors.iter().flatten(), i));
    // Each territory's own log factors with their sampling variances (no
    // independent origin or span: no evidence).
    let owns: Vec<[Option<(f64, f64)>; 2]> = errors
        .iter()
        .zip(independent)
        .map(|(e, m)| {
            [0, 1].map(|i| {
                let k = calibration_factor(e.as_ref()?.of(i))?;
                (m[i] > 0.0).then(|| (k.ln(), FACTOR_LOG_VARIANCE / m[i]))
            })
        })
        .collect();
    let tau2 = [0, 1].map(|i| {
        true_variance(owns.iter().filter_map(|o| o[i]))
            .unwrap_or(FACTOR_LOG_VARIANCE / CALIBRATION_PRIOR_ORIGINS)
    });
    owns.iter()
        .map(|own| {
            [0, 1].map(|i| match (own[i], company[i]) {
                (Some((o, se2)), Some(c)) => {
                    let w = own_weight(tau2[i], se2);
                    Some((w * o + (1.0 - w) * c.ln()).exp())
                }
                (Some((o, _)), None) => Some(o.exp()),
                (None, c) => c,
            })
        })
        .collect()
}

/// The factor of the periods' errors (0) or the totals' (1) of the
/// territories' `errors` pooled.
fn company_factor<'a>(errors: impl Iterator<Item = &'a Errors>, i: usize) -> Option<f64> {
    let pooled: Vec<(usize, f64)> = errors.flat_map(|e| e.of(i).iter().copied()).collect();
    calibration_factor(&pooled)
}

/// How far below the model's own in-sample spread the periods may be
/// narrowed where their errors were cross-fitted, from those territories'
/// `errors` with the independent origins each amounts to: their pooled
/// periods' factor where below 1, its log shrunk toward 0 by its sampling variance
/// (`skew::shrink_toward_none`: none of it within one standard error),
/// `FACTOR_LOG_VARIANCE` over the independent origins the evaluated
/// territories' errors amount to: their own independent origins summed,
/// over the design effect 1 + (N - 1) rho of the N territories, rho the
/// share of their errors common to the same period of the history
/// (`skew::common_share`, the periods' errors in order as groups: the
/// same origin and step for territories of the same history). Errors that
/// every territory made together are one event, not N. 1 where the
/// company's factor is 1 or more.
///
/// Errors of the mixture chosen on the same origins understate how far it
/// misses elsewhere (the winner's curse), so until session 28 a factor
/// below 1 only took back the degrees-of-freedom widening. Cross-fitted
/// errors (`ets::crossfit`) do not: where they say the model's spread is
/// too wide (a residual family fitted to heavy tails, whose variance the
/// tails set, is wide in its body), the spread narrows as far as the
/// company's evidence, beyond its noise, asks. A single series' four
/// independent origins put a factor of 0.8 within its noise.
fn narrowest_spread(errors: &[(&Errors, f64)]) -> f64 {
    let Some(k) = company_factor(errors.iter().map(|(e, _)| *e), 0).filter(|&k| k < 1.0) else {
        return 1.0;
    };
    let origins: f64 = errors.iter().map(|(_, m)| m).sum();
    let aligned: Vec<Vec<Option<f64>>> = errors
        .iter()
        .map(|(e, _)| e.periods.iter().map(|&(_, z)| Some(z)).collect())
        .collect();
    let members = aligned.len() as f64;
    let design = if members > 1.0 {
        let groups: Vec<&[Option<f64>]> = aligned.iter().map(Vec::as_slice).collect();
        1.0 + (members - 1.0) * skew::common_share(&groups)
    } else {
        1.0
    };
    let effective = origins / design;
    if effective <= 0.0 {
        return 1.0;
    }
    skew::shrink_toward_none(k.ln(), FACTOR_LOG_VARIANCE / effective).exp()
}

/// The variance of the territories' true values of an estimate, from
/// their own estimates (value, sampling variance): the estimates'
/// variance less their mean sampling variance, at least 0; `None` with
/// fewer than `MIN_CALIBRATION_MEMBERS` estimates, where it cannot be
/// told (the caller's fallback applies).
pub(super) fn true_variance(own: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let own: Vec<(f64, f64)> = own.collect();
    if own.len() < MIN_CALIBRATION_MEMBERS {
        return None;
    }
    let n = own.len() as f64;
    let mean = own.iter().map(|o| o.0).sum::<f64>() / n;
    let spread = own.iter().map(|o| (o.0 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let noise = own.iter().map(|o| o.1).sum::<f64>() / n;
    Some((spread - noise).max(0.0))
}

/// The empirical-Bayes weight of a territory's own estimate of sampling
/// variance `se2` against the company's, where the territories' true
/// values vary by `tau2`: tau^2 / (tau^2 + se^2) (1 where both are 0:
/// an exact estimate).
pub(super) fn own_weight(tau2: f64, se2: f64) -> f64 {
    if tau2 + se2 > 0.0 {
        tau2 / (tau2 + se2)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_80_percent_quantile_is_the_same_order_statistic_at_every_count() {
        // n equal-weight errors 1..n: the quantile is the ceil(0.8 n)-th
        // (where 0.8 n is whole, the error that reaches it exactly). Before
        // session 15 the sums of 1/n weights picked the next one at some
        // counts.
        for n in 5..=60usize {
            let z: Vec<(usize, f64)> = (1..=n).map(|i| (0, i as f64)).collect();
            let rank = (0.8 * n as f64 - 1e-9).ceil();
            assert_eq!(quantile_80(&z), rank, "{n} errors");
        }
    }
}
