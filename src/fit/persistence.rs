//! How far the simulation carries each innovation: the company's factor
//! r on every form's smoothing weights, from how the errors of a plain
//! local level fitted afresh at the recent rolling origins grew over the
//! horizon ([`persistence_factor`]), applied by [`carry_persistence`].
//! The halves are compared by the calibration's coverage statistic
//! (`calibration::quantile_80`), and its calibration runs at this factor.

use serde_json::json;

use super::calibration::{quantile_80, MIN_CALIBRATION_ERRORS};
use super::params::round6;
use super::TerritoryFit;
use crate::ets::select;

/// How far the simulation should carry the innovations' persistence, from
/// the rolling-origin misses of a plain local level fitted afresh at each
/// origin without the alpha prior (`select::Evaluated::persistence_misses`,
/// with their horizon steps; measured on the chosen mixtures instead, r
/// was 0.71-0.75 on local linear trends whose persistence is right: the
/// prior's pull on the refits' alpha and the mixture's spread of means
/// both make the later errors look small): a factor r in [0, 1] on every
/// form's smoothing weights (alpha and beta), at which the errors of the
/// horizon's later half are as large, relative to the forecast's spread,
/// as those of its earlier half
/// (their 80% quantiles of |z| equal). A form's spread grows with the
/// horizon by its innovations' persistence (sigma^2 sum of c_j^2); where
/// the errors grew less than that (Walmart's weekly stores: errors of 3.7%
/// of the median at every step, while the intervals widened from 13% to
/// 20% and covered 0.75 at the first steps and 0.92 at the last), alpha
/// fitted to one-step errors carries too much of each surprise forward,
/// and r < 1 carries less; where even r = 0 leaves the later errors the
/// smaller, none. Where they grew as much or more, r = 1 (wider
/// totals are the level shift's job, `spread::TotalPlan`). Pooled over
/// the company: one territory's dozen origins say little about the shape of
/// its errors over the horizon. The halves' gap is closed, not left at
/// one standard error of it as until session 26: measured on the plain
/// local level, r is 1 or near it on the processes whose persistence the
/// fit gets right (local linear trends 1, random walks 0.93-1), so that
/// margin mostly kept the spread growing where the errors did not (Walmart weekly 0.277 ->
/// 0.274 at one backtest origin, 0.309 -> 0.305 over three; Superstore's
/// regions 0.320 -> 0.314 over three; the synthetic panels unchanged;
/// shrinking the gap's target toward it by its standard error instead,
/// 0.275, 0.307 and 0.315: docs/forecast-history.md, session 26). 1 with
/// fewer than 4 steps or too few misses to compare. `territories` holds
/// each evaluated territory's misses.
pub(super) fn persistence_factor(territories: &[&[(usize, select::Miss)]]) -> f64 {
    let misses: Vec<(usize, select::Miss)> =
        territories.iter().flat_map(|t| t.iter().copied()).collect();
    let steps = misses.iter().map(|(h, _)| h + 1).max().unwrap_or(0);
    if steps < 4 || misses.len() < 2 * MIN_CALIBRATION_ERRORS {
        return 1.0;
    }
    let half = steps / 2;
    let gap = |r: f64| half_gap(&misses, half, r);
    // A gap that cannot be measured (a half whose errors are all 0) is no
    // evidence: as fitted.
    let (at_one, at_zero) = (gap(1.0), gap(0.0));
    if !at_one.is_finite() || !at_zero.is_finite() || at_one >= 0.0 {
        return 1.0;
    }
    if at_zero <= 0.0 {
        return 0.0;
    }
    // Bisection to 2^-14 (r to 6e-5): every step sorts the company's
    // misses, so no more steps than the factor needs.
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..14 {
        let mid = 0.5 * (lo + hi);
        // Not measurable at `mid`: keep r the higher.
        let g = gap(mid);
        if !g.is_finite() || g > 0.0 {
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

/// Scale the smoothing weights the simulation moves every form's state by
/// with `r` ([`persistence_factor`]); `params` shows it as `persistence`
/// when it is below 1.
pub(super) fn carry_persistence(f: &mut TerritoryFit, r: f64) {
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
                    mean: 100.0,
                };
                out.push((h, miss));
            }
        }
        out
    }

    #[test]
    fn persistence_is_carried_as_far_as_the_errors_grew() {
        // Errors that grew as the forecast's spread did: kept as fitted;
        assert_eq!(
            persistence_factor(&[&misses(|h| (1.0 + 0.5 * h).sqrt())]),
            1.0
        );
        // errors that grew more: also kept (the level shift widens);
        assert_eq!(persistence_factor(&[&misses(|h| 1.0 + 0.5 * h)]), 1.0);
        // errors that did not grow at all: none carried;
        assert!(persistence_factor(&[&misses(|_| 1.0)]) < 0.05);
        // errors that grew a quarter as fast: about half (r^2 = 1/4).
        let quarter = |h: f64| (1.0 + 0.125 * h).sqrt();
        let r = persistence_factor(&[&misses(quarter)]);
        assert!((r - 0.5).abs() < 0.1, "{r}");
        // Twenty territories with the same errors: the same factor.
        let one = misses(quarter);
        let agreeing: Vec<&[(usize, select::Miss)]> = (0..20).map(|_| one.as_slice()).collect();
        let r20 = persistence_factor(&agreeing);
        assert!((r20 - r).abs() < 0.01, "{r20} against {r}");
        // Too few misses to compare the halves: as fitted.
        let few: Vec<(usize, select::Miss)> = one.iter().copied().step_by(60).collect();
        assert_eq!(persistence_factor(&[&few]), 1.0);
    }
}
