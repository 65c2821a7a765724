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
//! The forms whose posterior difference is within one posterior standard
//! error of the lowest one are **averaged**, with equal weights (the
//! territory's forecast is a mixture of their paths, drawn per trial): a
//! form is chosen alone only when the evidence sets it clearly apart.
//! Where a noisy history cannot tell a stable level from a local one or a
//! trend, picking one of them is a coin toss that moves the forecast by
//! the whole distance between them; the mixture sits between them and is
//! as wide as the doubt. Equal weights, not weights fitted to the scores:
//! weights estimated from a few correlated origins are noise, and equal
//! weights over the credible candidates are the robust classic of
//! forecast combination. Regions with fewer than `MIN_MEMBERS` scored
//! territories leave each to its own scores. Counting overlapping origins as independent would shrink se^2
//! and let each territory's noise choose (on a history of noise, trends
//! that the noise suggested).

use super::select::Evaluated;
use super::Form;

/// Fewest scored territories in a region for pooling.
const MIN_MEMBERS: usize = 3;

/// A form's scale-free score difference: (mean over origins, variance of
/// the mean); `None` for a form not scored at every origin.
type Difference = Option<(f64, f64)>;

/// A territory's scale-free score differences, per form of `Form::ALL`.
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
            let i = e.fits.iter().position(|f| f.form == *form)?;
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
/// territory); `None` where the territory was not scored (the caller falls
/// back to AICc).
pub fn pooled_weights(
    evaluated: &[Option<&Evaluated>],
    group: &[usize],
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
                        .filter(|(_, &gi)| gi == g)
                        .filter_map(|(d, _)| d.as_ref()?.get(k).copied().flatten())
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
            let Some(d) = d else {
                let best = e.scored().then(|| e.own_best()).flatten()?;
                return Some(vec![(best, 1.0)]);
            };
            let pooled = priors[g].iter().any(Option::is_some);

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
            let best =
                scored
                    .iter()
                    .fold(None, |best: Option<&(usize, (f64, f64))>, c| match best {
                        Some(b) if b.1 .0 <= c.1 .0 => best,
                        _ => Some(c),
                    })?;
            let bar = best.1 .0 + best.1 .1.sqrt();
            let index = |k: usize| e.fits.iter().position(|f| f.form == Form::ALL[k]);
            let mut chosen = vec![index(best.0)?];
            chosen.extend(
                scored
                    .iter()
                    .filter(|c| c.0 != best.0 && c.1 .0 <= bar)
                    .filter_map(|c| index(c.0)),
            );
            let w = 1.0 / chosen.len() as f64;
            Some(chosen.into_iter().map(|i| (i, w)).collect())
        })
        .collect()
}
