//! Choosing each territory's form with the evidence of its whole region.
//!
//! A sparse territory's rolling-origin scores are mostly noise: which form
//! wins on its own history is nearly a coin toss, and a stable level that
//! happens to win ignores growth that the region shows plainly. So the
//! scores are pooled by empirical Bayes (Efron and Morris), form by form:
//! - a territory's score of form f at origin o, relative to the mean over
//!   forms at that origin and divided by its mean score (scale-free; both
//!   over the forms every territory is fitted with, not the held slopes,
//!   which need three seasons of history):
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
//! lowest, under a joint normal law of the forms' posteriors ([`Law`]):
//! the part from the territory's own origins correlated as the forms'
//! differences over the origins are, pooled over the company, the part
//! from its region's mean as the region's members' mean differences are
//! ([`form_correlation`]; the territory's forecast is a mixture of their
//! paths, drawn per trial). Taken as independent, two
//! forms that forecast alike (a trend and the same trend with its slope
//! held) each had a chance of their own, and together took weight from
//! every other form; correlated, they share one.
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
//! N(D, tau^2 + var(D)), correlated as the scored territories' are, for
//! the forms it was fitted with, its probabilities then weighed by the
//! territory's own likelihood (`select`). A form scored in fewer than
//! `MIN_MEMBERS` of a pooled region's territories (the held slopes where
//! most histories are under three years) is left out of that region's
//! mixtures. Regions with
//! fewer than `MIN_MEMBERS` scored territories leave each to its own
//! scores. Counting overlapping origins as independent would shrink se^2
//! and let each territory's noise choose (on a history of noise, trends
//! that the noise suggested).

use super::select::Evaluated;
use super::Form;
use crate::stats::ols::cholesky_semidefinite;
use crate::stats::special::norm_ppf;
use rayon::prelude::*;

/// Fewest scored territories in a region for pooling.
const MIN_MEMBERS: usize = 3;
/// Smallest probability of forecasting best for a form to be kept in the
/// mixture.
const MIN_WEIGHT: f64 = 0.05;
/// Quasi-random points of the forms' joint posterior law in
/// [`best_probabilities`].
const JOINT_POINTS: usize = 4096;

/// A form's scale-free score differences from the origins' centre: each
/// origin's, their mean and the mean's sampling variance.
struct Difference {
    per_origin: Vec<f64>,
    mean: f64,
    var: f64,
}

/// A territory's differences, per form of `Form::ALL` (`None` for a form
/// not fitted or not scored at every origin), and the independent origins
/// they amount to.
struct TerritoryDifferences {
    forms: Vec<Option<Difference>>,
    effective_origins: f64,
}

impl TerritoryDifferences {
    /// Form `k`'s (mean difference, sampling variance of the mean).
    fn get(&self, k: usize) -> Option<(f64, f64)> {
        self.forms[k].as_ref().map(|d| (d.mean, d.var))
    }
}

/// A territory's scale-free score differences.
fn differences(e: &Evaluated) -> Option<TerritoryDifferences> {
    if !e.scored() {
        return None;
    }
    // The centre and the scale: the forms every territory is fitted with
    // (not the held slopes, which need three seasons), so that
    // territories with and without them are compared on one footing.
    let complete: Vec<&Vec<f64>> = e
        .fits
        .iter()
        .zip(&e.scores)
        .filter(|(f, _)| !f.form.is_held())
        .filter_map(|(_, s)| s.as_ref())
        .collect();
    let origins = complete.first()?.len();
    let cells = (complete.len() * origins) as f64;
    let scale = complete.iter().flat_map(|s| s.iter()).sum::<f64>() / cells;
    if !(scale > 0.0 && scale.is_finite()) || origins < 2 {
        return None;
    }
    let centre: Vec<f64> = (0..origins)
        .map(|o| complete.iter().map(|s| s[o]).sum::<f64>() / complete.len() as f64)
        .collect();
    let forms = Form::ALL
        .iter()
        .map(|form| {
            let i = e.fits.iter().position(|f| f.form == *form)?;
            let s = e.scores[i].as_ref()?;
            let per_origin: Vec<f64> = s
                .iter()
                .zip(&centre)
                .map(|(v, c)| (v - c) / scale)
                .collect();
            let m = per_origin.len() as f64;
            let mean = per_origin.iter().sum::<f64>() / m;
            let var = per_origin.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0);
            Some(Difference {
                per_origin,
                mean,
                var: var / e.effective_origins,
            })
        })
        .collect();
    Some(TerritoryDifferences {
        forms,
        effective_origins: e.effective_origins,
    })
}

/// The forms' correlation from `samples`: each a set of deviations per
/// form of `Form::ALL` (`None` where the sample lacks the form; the same
/// length for every form it has) and the independent evidence it
/// amounts to. For each pair of forms, the products and squares of the
/// deviations summed over the samples that have both, shrunk toward none
/// in proportion K / (E + K), E the evidence of those samples and K the
/// forms, and further where the pairs together are not a correlation
/// matrix. Forms that forecast alike (a local level and the group share,
/// a trend and its held slope) win and lose at the same origins and in
/// the same territories; taken as independent laws, each had its own
/// chance of being lowest, and a near-duplicate took weight from every
/// other form.
fn form_correlation(samples: &[(Vec<Option<Vec<f64>>>, f64)]) -> Vec<Vec<f64>> {
    let k = Form::ALL.len();
    let mut cross = vec![vec![0.0; k]; k];
    let mut squares = vec![vec![(0.0, 0.0); k]; k];
    let mut evidence = vec![vec![0.0; k]; k];
    for (deviations, weight) in samples {
        for a in 0..k {
            for b in a + 1..k {
                let (Some(x), Some(y)) = (&deviations[a], &deviations[b]) else {
                    continue;
                };
                cross[a][b] += x.iter().zip(y).map(|(u, v)| u * v).sum::<f64>();
                squares[a][b].0 += x.iter().map(|u| u * u).sum::<f64>();
                squares[a][b].1 += y.iter().map(|v| v * v).sum::<f64>();
                evidence[a][b] += weight;
            }
        }
    }
    let mut r = vec![vec![0.0; k]; k];
    for a in 0..k {
        r[a][a] = 1.0;
        for b in a + 1..k {
            let ratio = cross[a][b] / (squares[a][b].0 * squares[a][b].1).sqrt();
            let keep = evidence[a][b] / (evidence[a][b] + k as f64);
            let v = if ratio.is_finite() {
                keep * ratio.clamp(-1.0, 1.0)
            } else {
                0.0
            };
            r[a][b] = v;
            r[b][a] = v;
        }
    }
    // Pairs measured on different territories need not make a positive
    // semidefinite matrix: shrink every correlation by a tenth at a time
    // until they do (none, at the latest, is the identity).
    for _ in 0..64 {
        if cholesky_semidefinite(&r).is_some() {
            return r;
        }
        for (a, row) in r.iter_mut().enumerate() {
            for (b, v) in row.iter_mut().enumerate() {
                if a != b {
                    *v *= 0.9;
                }
            }
        }
    }
    (0..k)
        .map(|a| (0..k).map(|b| if a == b { 1.0 } else { 0.0 }).collect())
        .collect()
}

/// A territory's differences at each origin around their mean, per form,
/// with the independent origins they amount to: its sample of how the
/// forms' scores move together ([`form_correlation`]).
fn within_sample(t: &TerritoryDifferences) -> (Vec<Option<Vec<f64>>>, f64) {
    let deviations = t
        .forms
        .iter()
        .map(|f| {
            f.as_ref()
                .map(|d| d.per_origin.iter().map(|v| v - d.mean).collect())
        })
        .collect();
    (deviations, t.effective_origins)
}

/// A form's law of its score difference in one territory: its posterior
/// mean, and its variance in two parts, from the territory's own origins
/// and from its region's mean (correlated across forms as the origins'
/// differences, and as the region's members', are).
#[derive(Clone, Copy)]
struct Law {
    form: usize,
    mean: f64,
    own: f64,
    region: f64,
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
    let diffs: Vec<Option<TerritoryDifferences>> =
        evaluated.iter().map(|e| e.and_then(differences)).collect();
    let within = form_correlation(
        &diffs
            .iter()
            .zip(closed)
            .filter(|(_, &shut)| !shut)
            .filter_map(|(d, _)| d.as_ref().map(within_sample))
            .collect::<Vec<_>>(),
    );
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
                        .filter_map(|((d, _), _)| d.as_ref()?.get(k))
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
    // Per group: how its members' mean differences move together around
    // the group's means (the error of those means, which a sparse
    // territory's posterior mostly is, is correlated across forms as
    // they are).
    let between: Vec<Vec<Vec<f64>>> = (0..n_groups)
        .map(|g| {
            let samples: Vec<(Vec<Option<Vec<f64>>>, f64)> = diffs
                .iter()
                .zip(group)
                .zip(closed)
                .filter(|((_, &gi), &shut)| gi == g && !shut)
                .filter_map(|((d, _), _)| d.as_ref())
                .map(|d| {
                    let deviations = (0..Form::ALL.len())
                        .map(|k| Some(vec![d.get(k)?.0 - priors[g][k]?.0]))
                        .collect();
                    (deviations, 1.0)
                })
                .collect();
            form_correlation(&samples)
        })
        .collect();
    // Each territory's draws of its forms' joint law are its own work: in
    // parallel, collected in order (the same weights on any thread count).
    evaluated
        .par_iter()
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
                // Only the forms it was fitted with (no held slopes under
                // three seasons) compete.
                let laws: Vec<Law> = (0..Form::ALL.len())
                    .filter(|&k| e.fits.iter().any(|f| f.form == Form::ALL[k]))
                    .filter_map(|k| {
                        let (mean, tau2, prior_var) = priors[g][k]?;
                        Some(Law {
                            form: k,
                            mean,
                            own: 0.0,
                            region: tau2 + prior_var,
                        })
                    })
                    .collect();
                let all = best_fits(e, &laws, &within, &between[g]);
                return (!all.is_empty()).then_some(all);
            };

            // Posterior law of each form's difference.
            let posterior = |k: usize| -> Option<Law> {
                let (own, se2) = d.get(k)?;
                match priors[g][k] {
                    Some((prior, tau2, prior_var)) => {
                        let w = if tau2 + se2 > 0.0 {
                            tau2 / (tau2 + se2)
                        } else {
                            1.0
                        };
                        // The region's mean is an estimate too.
                        Some(Law {
                            form: k,
                            mean: w * own + (1.0 - w) * prior,
                            own: w * se2,
                            region: (1.0 - w).powi(2) * prior_var,
                        })
                    }
                    // With the region pooled, a form it could not score is
                    // not compared raw against shrunk ones.
                    None if pooled => None,
                    None => Some(Law {
                        form: k,
                        mean: own,
                        own: se2,
                        region: 0.0,
                    }),
                }
            };
            let scored: Vec<Law> = (0..Form::ALL.len()).filter_map(posterior).collect();
            weighted(e, &scored, &within, &between[g])
        })
        .collect()
}

/// Each of the territory's fits (index into its `fits`) with its form's
/// probability of forecasting best under the `laws` of its score
/// difference: their own parts correlated as `within` says, their
/// region's parts as `between` says (both indexed by form).
fn best_fits(
    e: &Evaluated,
    laws: &[Law],
    within: &[Vec<f64>],
    between: &[Vec<f64>],
) -> Vec<(usize, f64)> {
    let means: Vec<f64> = laws.iter().map(|l| l.mean).collect();
    let part = |x: f64, y: f64| (nonnegative(x) * nonnegative(y)).sqrt();
    let cov: Vec<Vec<f64>> = laws
        .iter()
        .map(|x| {
            laws.iter()
                .map(|y| {
                    let (r, q) = if x.form == y.form {
                        (1.0, 1.0)
                    } else {
                        (within[x.form][y.form], between[x.form][y.form])
                    };
                    r * part(x.own, y.own) + q * part(x.region, y.region)
                })
                .collect()
        })
        .collect();
    let p = best_probabilities(&means, &cov);
    laws.iter()
        .zip(&p)
        .filter_map(|(l, &w)| {
            let i = e.fits.iter().position(|f| f.form == Form::ALL[l.form])?;
            Some((i, w))
        })
        .collect()
}

/// A variance at least 0, a NaN kept (a law that cannot be compared).
fn nonnegative(v: f64) -> f64 {
    if v.is_nan() {
        v
    } else {
        v.max(0.0)
    }
}

/// [`best_fits`] with the unlikely left out ([`likely_forms`]); `None`
/// when none is kept.
fn weighted(
    e: &Evaluated,
    laws: &[Law],
    within: &[Vec<f64>],
    between: &[Vec<f64>],
) -> Option<Vec<(usize, f64)>> {
    let chosen = likely_forms(best_fits(e, laws, within, between));
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

/// The probability that each coordinate of a normal law (`means`,
/// covariance `cov`) is the lowest: the share of `JOINT_POINTS`
/// quasi-random draws of the law ([`joint_points`], the same for every
/// call, so the weights are reproducible) in which it is, ties split. A
/// coordinate whose mean or variance is not finite cannot be compared and
/// gets none (the others are compared among themselves); a zero variance
/// is a point.
fn best_probabilities(means: &[f64], cov: &[Vec<f64>]) -> Vec<f64> {
    let usable: Vec<usize> = (0..means.len())
        .filter(|&i| means[i].is_finite() && cov[i][i].is_finite())
        .collect();
    let mut p = vec![0.0; means.len()];
    if usable.is_empty() {
        return p;
    }
    let sub: Vec<Vec<f64>> = usable
        .iter()
        .map(|&a| {
            usable
                .iter()
                .map(|&b| {
                    if cov[a][b].is_finite() {
                        cov[a][b]
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    // Semidefinite by construction (a correlation matrix that is, scaled
    // by the variances); independent laws if rounding says otherwise.
    let root = cholesky_semidefinite(&sub).unwrap_or_else(|| {
        (0..sub.len())
            .map(|a| {
                (0..sub.len())
                    .map(|b| {
                        if a == b {
                            sub[a][a].max(0.0).sqrt()
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect()
    });
    // Each coordinate's draws at every point at once (the points stored
    // coordinate by coordinate, so the loops run over contiguous values):
    // the mean plus the root's row times the point, summed in the row's
    // order, as one point at a time would (the pool runs once per block
    // of origins too, `crossfit`).
    let columns = joint_columns();
    let mut draws = vec![vec![0.0; JOINT_POINTS]; usable.len()];
    for (a, draw) in draws.iter_mut().enumerate() {
        let mut sum = vec![-0.0; JOINT_POINTS];
        for (r, column) in root[a][..=a].iter().zip(columns) {
            for (s, z) in sum.iter_mut().zip(column) {
                *s += r * z;
            }
        }
        let mean = means[usable[a]];
        for (x, s) in draw.iter_mut().zip(&sum) {
            *x = mean + s;
        }
    }
    let mut lowest = vec![f64::INFINITY; JOINT_POINTS];
    for draw in &draws {
        for (l, &x) in lowest.iter_mut().zip(draw) {
            *l = l.min(x);
        }
    }
    let mut ties = vec![0.0f64; JOINT_POINTS];
    for draw in &draws {
        for ((t, &l), &x) in ties.iter_mut().zip(&lowest).zip(draw) {
            if x == l {
                *t += 1.0;
            }
        }
    }
    for (a, draw) in draws.iter().enumerate() {
        p[usable[a]] = draw
            .iter()
            .zip(&lowest)
            .zip(&ties)
            .filter(|((&x, &l), _)| x == l)
            .fold(0.0, |p, (_, &t)| p + 1.0 / t);
    }
    p.iter_mut().for_each(|v| *v /= JOINT_POINTS as f64);
    p
}

/// `JOINT_POINTS` standard normal vectors of `Form::ALL.len()`
/// coordinates, from the additive recurrence of Roberts' generalised
/// golden ratio (a low-discrepancy sequence: x_n = frac(1/2 + n a), a_i =
/// phi^-(i+1), phi the root of x^(d+1) = x + 1), each coordinate through
/// the normal quantile function.
fn joint_points() -> &'static [Vec<f64>] {
    static POINTS: std::sync::OnceLock<Vec<Vec<f64>>> = std::sync::OnceLock::new();
    POINTS.get_or_init(|| {
        let d = Form::ALL.len();
        let phi = (0..64).fold(2.0_f64, |x, _| (1.0 + x).powf(1.0 / (d as f64 + 1.0)));
        let steps: Vec<f64> = (1..=d).map(|i| phi.powi(-(i as i32))).collect();
        (0..JOINT_POINTS)
            .map(|n| {
                steps
                    .iter()
                    .map(|a| norm_ppf((0.5 + n as f64 * a).fract()))
                    .collect()
            })
            .collect()
    })
}

/// [`joint_points`] coordinate by coordinate: `Form::ALL.len()` columns
/// of `JOINT_POINTS` values.
fn joint_columns() -> &'static [Vec<f64>] {
    static COLUMNS: std::sync::OnceLock<Vec<Vec<f64>>> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        let points = joint_points();
        (0..Form::ALL.len())
            .map(|b| points.iter().map(|z| z[b]).collect())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`best_probabilities`] of independent laws `(mean, variance)`.
    fn independent(laws: &[(f64, f64)]) -> Vec<f64> {
        let cov: Vec<Vec<f64>> = (0..laws.len())
            .map(|a| {
                (0..laws.len())
                    .map(|b| if a == b { laws[a].1 } else { 0.0 })
                    .collect()
            })
            .collect();
        best_probabilities(&laws.iter().map(|l| l.0).collect::<Vec<_>>(), &cov)
    }

    #[test]
    fn equal_laws_are_equally_likely_to_be_best() {
        let p = independent(&[(0.0, 1.0), (0.0, 1.0), (0.0, 1.0)]);
        for v in p {
            assert!((v - 1.0 / 3.0).abs() < 3e-3, "{v}");
        }
    }

    #[test]
    fn two_laws_give_the_normal_chance_of_their_difference() {
        // X - Y ~ N(-1, 2): P(X < Y) = Phi(1 / sqrt 2) = 0.7602.
        let p = independent(&[(0.0, 1.0), (1.0, 1.0)]);
        assert!((p[0] - 0.760_25).abs() < 2e-3, "{p:?}");
        assert!((p[0] + p[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_law_that_cannot_be_compared_gets_no_weight() {
        let p = independent(&[(0.0, 1.0), (f64::NAN, 1.0), (0.0, f64::NAN)]);
        assert_eq!(p, vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn a_point_law_and_a_clear_leader() {
        // A point at 0 against N(1, 1): P(Y > 0) = Phi(1) = 0.8413.
        let p = independent(&[(0.0, 0.0), (1.0, 1.0)]);
        assert!((p[0] - 0.841_34).abs() < 2e-3, "{p:?}");
        // Far apart: all on the lower one.
        let p = independent(&[(10.0, 0.01), (0.0, 0.01)]);
        assert!(p[1] > 0.999_999, "{p:?}");
    }

    #[test]
    fn a_near_duplicate_form_does_not_take_weight_from_the_others() {
        // A and its near copy A' (correlation 0.999) against B, half a
        // unit behind: B's chance is P(B < A) = Phi(-0.5 / sqrt 2) = 0.362,
        // as without the copy. Taken as independent, the copy had a
        // chance of its own and B's fell to about 0.26.
        let means = [0.0, 0.0, 0.5];
        let r = 0.999;
        let cov = vec![vec![1.0, r, 0.0], vec![r, 1.0, 0.0], vec![0.0, 0.0, 1.0]];
        let p = best_probabilities(&means, &cov);
        assert!((p[2] - 0.3618).abs() < 5e-3, "{p:?}");
        let q = independent(&[(0.0, 1.0), (0.0, 1.0), (0.5, 1.0)]);
        assert!(q[2] < 0.28, "{q:?}");
        // Perfectly correlated copies split their chance evenly.
        let cov1 = vec![
            vec![1.0, 1.0, 0.0],
            vec![1.0, 1.0, 0.0],
            vec![0.0, 0.0, 1.0],
        ];
        let p1 = best_probabilities(&means, &cov1);
        assert!((p1[0] - p1[1]).abs() < 1e-12, "{p1:?}");
        assert!((p1[2] - 0.3618).abs() < 5e-3, "{p1:?}");
    }

    #[test]
    fn the_forms_correlation_is_pooled_and_shrunk_by_its_evidence() {
        // Two territories whose level and group share move together at
        // every origin, and a trend that moves against them.
        let territory = |scale: f64| TerritoryDifferences {
            forms: (0..Form::ALL.len())
                .map(|k| {
                    let per_origin: Vec<f64> = [1.0, -1.0, 0.5, -0.5]
                        .iter()
                        .map(|v| match k {
                            1 | 2 => scale * v,
                            4 => -scale * v,
                            _ => 0.0,
                        })
                        .collect();
                    Some(Difference {
                        per_origin,
                        mean: 0.0,
                        var: 1.0,
                    })
                })
                .collect(),
            effective_origins: 4.0,
        };
        let (t1, t2) = (territory(1.0), territory(2.0));
        let r = form_correlation(&[within_sample(&t1), within_sample(&t2)]);
        let keep = 8.0 / (8.0 + Form::ALL.len() as f64);
        assert!((r[1][2] - keep).abs() < 1e-12, "{r:?}");
        assert!((r[1][4] + keep).abs() < 1e-12, "{r:?}");
        assert_eq!(r[0][1], 0.0, "a form that never moves is uncorrelated");
        assert_eq!(r[3][3], 1.0);
    }

    #[test]
    fn a_pair_is_correlated_over_the_territories_that_have_both_forms() {
        // A long history whose trend and held slope move together, and a
        // short one, three times as noisy, without held slopes: the pair's
        // correlation is the long one's, not diluted by the short one's
        // trend (its squares counted, its products missing).
        let pattern = [1.0, -1.0, 0.5, -0.5];
        let territory = |scale: f64, held: bool| TerritoryDifferences {
            forms: Form::ALL
                .iter()
                .map(|form| {
                    if form.is_held() && !held {
                        return None;
                    }
                    let sign = if *form == Form::Level { -1.0 } else { 1.0 };
                    Some(Difference {
                        per_origin: pattern.iter().map(|v| sign * scale * v).collect(),
                        mean: 0.0,
                        var: 1.0,
                    })
                })
                .collect(),
            effective_origins: 4.0,
        };
        let (long, short) = (territory(1.0, true), territory(3.0, false));
        let r = form_correlation(&[within_sample(&long), within_sample(&short)]);
        let k = Form::ALL.len() as f64;
        let trend = Form::ALL.iter().position(|f| *f == Form::Trend).unwrap();
        let drift = Form::ALL.iter().position(|f| *f == Form::Drift).unwrap();
        assert!((r[trend][drift] - 4.0 / (4.0 + k)).abs() < 1e-12, "{r:?}");
        assert!((r[1][trend] + 8.0 / (8.0 + k)).abs() < 1e-12, "{r:?}");
        assert!(cholesky_semidefinite(&r).is_some());
    }
}
