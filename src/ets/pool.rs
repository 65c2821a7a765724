//! Choosing each territory's form with the evidence of its whole region.
//!
//! A sparse territory's rolling-origin scores are mostly noise: which form
//! wins on its own history is nearly a coin toss, and a stable level that
//! happens to win ignores growth that the region shows plainly. So the
//! scores are pooled by empirical Bayes (Efron and Morris), form by form:
//! - a territory's score of form f at origin o, relative to the mean over
//!   forms at that origin and divided by its mean score (scale-free):
//!   d_o(f); its mean over origins d(f) and that mean's sampling variance
//!   se^2(f) = var_o(d_o(f)) / m, m the independent origins they amount to
//!   (origins x step / horizon: the scored spans overlap);
//! - over the region's territories, the mean D(f) and the spread of the
//!   true differences tau^2(f) = var(d(f)) - mean(se^2(f)) (at least 0);
//! - the territory's posterior difference w d(f) + (1 - w) D(f), with
//!   w = tau^2 / (tau^2 + se^2): its own evidence where it is clear and the
//!   region differs, the region's where its own is noise.
//!
//! Each form is then **weighted by the posterior probability that it
//! forecasts best**: the chance that its posterior difference is the
//! lowest, the forms' posteriors taken as independent normal laws (the
//! territory's forecast is a mixture of their paths, drawn per trial).
//! Forms with less than `MIN_WEIGHT` of that chance are left out and the
//! rest renormalised: a form that unlikely moves the mixture by little,
//! and its paths would only add noise to the tails. Why weights and not
//! one form: where a noisy history cannot tell a stable level from a
//! local one or a trend, picking one of them is a coin toss that moves the
//! forecast by the whole distance between them; the mixture sits between
//! them and is as wide as the doubt. Why these weights and not equal ones
//! over the credible forms: equal weights give a form barely within the
//! evidence's reach as much say as the one the evidence favours, so in a
//! growing market two forms without growth outvote the trend that scored
//! best; the probability of being best is the same doubt, measured. And
//! not weights fitted to the scores (minimising the mixture's score):
//! weights estimated from a few correlated origins are noise. A territory
//! with no scores of its own (one that opened a year or less ago, or whose
//! forms could not be fitted at every origin) in a pooled region takes
//! the region's laws, as a new member would: each form's difference
//! N(D, tau^2 + var(D)), its probabilities then weighed by the territory's
//! own likelihood (`select`). Regions with
//! fewer than `MIN_MEMBERS` scored territories leave each to its own
//! scores. Counting overlapping origins as independent would shrink se^2
//! and let each territory's noise choose (on a history of noise, trends
//! that the noise suggested).

use super::select::Evaluated;
use super::Form;
use crate::stats::special::{norm_cdf, norm_ppf};

/// Fewest scored territories in a region for pooling.
const MIN_MEMBERS: usize = 3;
/// Smallest probability of forecasting best for a form to be kept in the
/// mixture.
const MIN_WEIGHT: f64 = 0.05;
/// Quantile points of each posterior law in [`best_probabilities`].
const QUADRATURE_POINTS: usize = 256;

/// A form's scale-free score difference: (mean over origins, variance of
/// the mean); `None` for a form not scored at every origin.
type Difference = Option<(f64, f64)>;

/// A territory's scale-free score differences, per family of `Form::ALL`
/// (its fit of that family: [`Form::family`]).
fn differences(e: &Evaluated) -> Option<Vec<Difference>> {
    if !e.scored() {
        return None;
    }
    let complete: Vec<&Vec<f64>> = e.scores.iter().flatten().collect();
    let origins = complete.first()?.len();
    let cells = (complete.len() * origins) as f64;
    let scale = complete.iter().flat_map(|s| s.iter()).sum::<f64>() / cells;
    if !(scale > 0.0 && scale.is_finite()) || origins < 2 {
        return None;
    }
    let centre: Vec<f64> = (0..origins)
        .map(|o| complete.iter().map(|s| s[o]).sum::<f64>() / complete.len() as f64)
        .collect();
    let by_form = Form::ALL
        .iter()
        .map(|form| {
            let i = e.fits.iter().position(|f| f.form.family() == *form)?;
            let s = e.scores[i].as_ref()?;
            let d: Vec<f64> = s
                .iter()
                .zip(&centre)
                .map(|(v, c)| (v - c) / scale)
                .collect();
            let m = d.len() as f64;
            let mean = d.iter().sum::<f64>() / m;
            let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0);
            Some((mean, var / e.effective_origins))
        })
        .collect();
    Some(by_form)
}

/// Each territory's chosen fits (indices into its `fits`, the best first,
/// with their weights), pooling the scores within groups (`group` of each
/// territory; those `closed`, which stopped selling before the origin,
/// are left out of their group's evidence: their misses are their
/// closing's); for a territory not scored in a pooled group, every form's
/// probability under the group's laws (weighed by its own likelihood in
/// `select`); `None` where it was not scored and its group was not pooled
/// (the caller falls back to AICc).
pub fn pooled_weights(
    evaluated: &[Option<&Evaluated>],
    group: &[usize],
    closed: &[bool],
) -> Vec<Option<Vec<(usize, f64)>>> {
    let diffs: Vec<Option<Vec<Difference>>> =
        evaluated.iter().map(|e| e.and_then(differences)).collect();
    let n_groups = group.iter().max().map_or(0, |g| g + 1);
    // Per group and form: (mean difference, spread of true differences,
    // sampling variance of the mean).
    let priors: Vec<Vec<Option<(f64, f64, f64)>>> = (0..n_groups)
        .map(|g| {
            (0..Form::ALL.len())
                .map(|k| {
                    let members: Vec<(f64, f64)> = diffs
                        .iter()
                        .zip(group)
                        .zip(closed)
                        .filter(|((_, &gi), &shut)| gi == g && !shut)
                        .filter_map(|((d, _), _)| d.as_ref()?.get(k).copied().flatten())
                        .collect();
                    if members.len() < MIN_MEMBERS {
                        return None;
                    }
                    let n = members.len() as f64;
                    let mean = members.iter().map(|m| m.0).sum::<f64>() / n;
                    let var = members.iter().map(|m| (m.0 - mean).powi(2)).sum::<f64>() / (n - 1.0);
                    let noise = members.iter().map(|m| m.1).sum::<f64>() / n;
                    Some((mean, (var - noise).max(0.0), var / n))
                })
                .collect()
        })
        .collect();
    evaluated
        .iter()
        .zip(&diffs)
        .zip(group)
        .map(|((e, d), &g)| {
            let e = (*e)?;
            let pooled = priors[g].iter().any(Option::is_some);
            let Some(d) = d else {
                if e.scored() {
                    let best = e.own_best()?;
                    return Some(vec![(best, 1.0)]);
                }
                // No rolling origins of its own (a territory that opened
                // late): the region's laws, each form's difference drawn
                // as a new member's would be (the region's mean, the
                // spread of true differences plus the mean's error); every
                // form's probability is kept, for `select` to weigh by the
                // territory's own likelihood.
                if !pooled {
                    return None;
                }
                let laws: Vec<(usize, (f64, f64))> = (0..Form::ALL.len())
                    .filter_map(|k| {
                        let (mean, tau2, prior_var) = priors[g][k]?;
                        Some((k, (mean, tau2 + prior_var)))
                    })
                    .collect();
                let all = best_fits(e, &laws);
                return (!all.is_empty()).then_some(all);
            };

            // Posterior mean (and variance) of each form's difference.
            let posterior = |k: usize| -> Option<(f64, f64)> {
                let (own, se2) = d[k]?;
                match priors[g][k] {
                    Some((prior, tau2, prior_var)) => {
                        let w = if tau2 + se2 > 0.0 {
                            tau2 / (tau2 + se2)
                        } else {
                            1.0
                        };
                        // The region's mean is an estimate too.
                        Some((
                            w * own + (1.0 - w) * prior,
                            w * se2 + (1.0 - w).powi(2) * prior_var,
                        ))
                    }
                    // With the region pooled, a form it could not score is
                    // not compared raw against shrunk ones.
                    None if pooled => None,
                    None => Some((own, se2)),
                }
            };
            let scored: Vec<(usize, (f64, f64))> = (0..Form::ALL.len())
                .filter_map(|k| posterior(k).map(|p| (k, p)))
                .collect();
            weighted(e, &scored)
        })
        .collect()
}

/// Each of the territory's fits (index into its `fits`) with its form's
/// probability of forecasting best under the laws `(family index in
/// Form::ALL, (mean, variance))` of its score difference.
fn best_fits(e: &Evaluated, laws: &[(usize, (f64, f64))]) -> Vec<(usize, f64)> {
    let p = best_probabilities(&laws.iter().map(|c| c.1).collect::<Vec<_>>());
    laws.iter()
        .zip(&p)
        .filter_map(|(c, &w)| {
            let i = e
                .fits
                .iter()
                .position(|f| f.form.family() == Form::ALL[c.0])?;
            Some((i, w))
        })
        .collect()
}

/// [`best_fits`] with the unlikely left out ([`likely_forms`]); `None`
/// when none is kept.
fn weighted(e: &Evaluated, laws: &[(usize, (f64, f64))]) -> Option<Vec<(usize, f64)>> {
    let chosen = likely_forms(best_fits(e, laws));
    (!chosen.is_empty()).then_some(chosen)
}

/// The forms worth averaging, from each one's probability `(index,
/// probability)` (of forecasting best, or of being the closest to the
/// truth): those under `MIN_WEIGHT` left out, the rest renormalised, the
/// likeliest first (the model `fit.csv` names; ties keep the simpler
/// form's place). Empty when none is left.
pub(super) fn likely_forms(probabilities: Vec<(usize, f64)>) -> Vec<(usize, f64)> {
    let mut kept: Vec<(usize, f64)> = probabilities
        .into_iter()
        .filter(|&(_, w)| w >= MIN_WEIGHT)
        .collect();
    let total: f64 = kept.iter().map(|c| c.1).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    kept.iter_mut().for_each(|c| c.1 /= total);
    kept.sort_by(|x, y| y.1.total_cmp(&x.1));
    kept
}

/// The probability that each of independent normal laws `(mean, variance)`
/// draws the lowest value: for law k, the mean over its quantiles x of the
/// others' chances of exceeding x (`QUADRATURE_POINTS` equally likely
/// points, so a narrow law is integrated as finely as a wide one). A law of
/// zero variance is a point. The probabilities sum to 1 (up to the
/// quadrature's error, which is renormalised away).
fn best_probabilities(laws: &[(f64, f64)]) -> Vec<f64> {
    // A law with no finite mean or variance cannot be compared: it gets no
    // weight (the others are compared among themselves).
    let usable: Vec<bool> = laws
        .iter()
        .map(|l| l.0.is_finite() && l.1.is_finite())
        .collect();
    let points: Vec<f64> = (0..QUADRATURE_POINTS)
        .map(|i| norm_ppf((i as f64 + 0.5) / QUADRATURE_POINTS as f64))
        .collect();
    let sd: Vec<f64> = laws.iter().map(|l| l.1.max(0.0).sqrt()).collect();
    // P(X_j > x), a point law counting half at its own value (ties split).
    let exceeds = |j: usize, x: f64| -> f64 {
        if sd[j] > 0.0 {
            1.0 - norm_cdf((x - laws[j].0) / sd[j])
        } else if laws[j].0 > x {
            1.0
        } else if laws[j].0 < x {
            0.0
        } else {
            0.5
        }
    };
    let raw: Vec<f64> = (0..laws.len())
        .map(|k| {
            if !usable[k] {
                return 0.0;
            }
            let others = |x: f64| -> f64 {
                (0..laws.len())
                    .filter(|&j| j != k && usable[j])
                    .map(|j| exceeds(j, x))
                    .product()
            };
            if sd[k] > 0.0 {
                points
                    .iter()
                    .map(|z| others(laws[k].0 + sd[k] * z))
                    .sum::<f64>()
                    / QUADRATURE_POINTS as f64
            } else {
                others(laws[k].0)
            }
        })
        .collect();
    let total: f64 = raw.iter().sum();
    let n_usable = usable.iter().filter(|&&u| u).count();
    if total > 0.0 {
        raw.iter().map(|p| p / total).collect()
    } else {
        usable
            .iter()
            .map(|&u| if u { 1.0 / n_usable.max(1) as f64 } else { 0.0 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_laws_are_equally_likely_to_be_best() {
        let p = best_probabilities(&[(0.0, 1.0), (0.0, 1.0), (0.0, 1.0)]);
        for v in p {
            assert!((v - 1.0 / 3.0).abs() < 1e-3, "{v}");
        }
    }

    #[test]
    fn two_laws_give_the_normal_chance_of_their_difference() {
        // X - Y ~ N(-1, 2): P(X < Y) = Phi(1 / sqrt 2) = 0.7602.
        let p = best_probabilities(&[(0.0, 1.0), (1.0, 1.0)]);
        assert!((p[0] - 0.760_25).abs() < 2e-3, "{p:?}");
        assert!((p[0] + p[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_law_that_cannot_be_compared_gets_no_weight() {
        let p = best_probabilities(&[(0.0, 1.0), (f64::NAN, 1.0), (0.0, f64::NAN)]);
        assert_eq!(p, vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn a_point_law_and_a_clear_leader() {
        // A point at 0 against N(1, 1): P(Y > 0) = Phi(1) = 0.8413.
        let p = best_probabilities(&[(0.0, 0.0), (1.0, 1.0)]);
        assert!((p[0] - 0.841_34).abs() < 2e-3, "{p:?}");
        // Far apart: all on the lower one.
        let p = best_probabilities(&[(10.0, 0.01), (0.0, 0.01)]);
        assert!(p[1] > 0.999_999, "{p:?}");
    }
}
