//! The residual law's positive part: every family with the sample's mean,
//! and the empirical law (a kernel density, by its leave-one-out
//! likelihood), ranked by the scenario's criterion.

use crate::model::PositivePart;
use crate::scenario::Criterion;
use crate::stats::dist::{self, Family, Fitted};
use crate::stats::quantile::mean;

/// Fewest positive residuals for a territory's own family fit.
const MIN_OWN_FIT: usize = 6;
/// Fewest positive residuals for the empirical law to be a candidate.
const MIN_EMPIRICAL: usize = 12;
/// Log spread of the residual law of a territory fitted exactly (every
/// residual ratio the same: a constant or exactly regular history), where
/// no family can be fitted: a relative error of 1e-4, the rounding
/// `ets::prior` counts such series with. Before 2026-12-06 they took the
/// pooled spread of the others, or 0.5 when all were so: two territories
/// selling 990, 991, ... a month were forecast at 7,600 for a 12,234 year.
const REGULAR_SDLOG: f64 = 1e-4;

/// The positive part chosen for a territory's positive ratios, with what
/// the criterion saw.
pub(super) struct Chosen {
    pub part: PositivePart,
    /// The chosen law's log-likelihood, AIC and BIC (`None` where no
    /// family could be fitted).
    pub loglik: Option<f64>,
    pub aic: Option<f64>,
    pub bic: Option<f64>,
    /// Parameters the criterion counted for it (2 where none was fitted).
    pub k: usize,
    /// Its criterion's value (0 where none was fitted).
    pub key: f64,
    /// The next law's name and criterion value.
    pub runner_up: Option<(String, f64)>,
    /// No law of its own: no family fitted (fewer than `MIN_OWN_FIT`
    /// positive ratios, or none of the families fits them) and the
    /// ratios not `MIN_OWN_FIT` or more all equal (`pooling` gives it the
    /// company's spread).
    pub needs_pooling: bool,
}

/// The law of `positive` (a territory's positive ratios): among the
/// `families` (and the empirical law where `allow_empirical`), the lowest
/// by `criterion`.
pub(super) fn choose(
    positive: &[f64],
    families: &[Family],
    allow_empirical: bool,
    criterion: Criterion,
) -> Chosen {
    let n_pos = positive.len();
    let mut candidates: Vec<Candidate> = Vec::new();
    // Each family with the sample's mean (`dist::fit_mean_matched`): the
    // forecast's mean is the history's, and a law whose tail implied
    // another mean would move every period's median when it is kept.
    if n_pos >= MIN_OWN_FIT {
        for &fam in families {
            if let Some(f) = dist::fit_mean_matched(fam, positive) {
                let ll = f.loglik(positive);
                if ll.is_finite() {
                    candidates.push(Candidate::new(PositivePart::Parametric(f), ll, 2, n_pos));
                }
            }
        }
    }
    if allow_empirical && n_pos >= MIN_EMPIRICAL {
        if let Some(ll) = kde_loo_loglik(positive) {
            let mut sorted = positive.to_vec();
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
    // Enough residuals, all equal: no family fits a zero spread, but the
    // history says the law is that tight, not that it must be borrowed.
    let exact =
        candidates.is_empty() && n_pos >= MIN_OWN_FIT && positive.iter().all(|&r| r == positive[0]);
    let needs_pooling = candidates.is_empty() && !exact;
    let k = candidates.first().map_or(2, |c| c.k);
    let key_chosen = candidates.first().map_or(0.0, key);
    let (part, loglik, aic, bic) = match candidates.first() {
        Some(c) => (c.part.clone(), Some(c.loglik), Some(c.aic), Some(c.bic)),
        None if exact => {
            let f = Fitted {
                family: Family::LogNormal,
                params: [
                    positive[0].ln() - 0.5 * REGULAR_SDLOG * REGULAR_SDLOG,
                    REGULAR_SDLOG,
                ],
            };
            (PositivePart::Parametric(f), None, None, None)
        }
        None => {
            let f = dist::fit(Family::LogNormal, positive).unwrap_or(Fitted {
                family: Family::LogNormal,
                params: [-0.125, 0.5],
            });
            (PositivePart::Parametric(f), None, None, None)
        }
    };
    let runner_up = candidates
        .get(1)
        .map(|c| (c.part.name().to_string(), key(c)));
    Chosen {
        part,
        loglik,
        aic,
        bic,
        k,
        key: key_chosen,
        runner_up,
        needs_pooling,
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, LogNormal};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn the_likeliest_family_is_chosen_and_the_next_is_its_runner_up() {
        // 200 lognormal ratios of log spread 0.8: the lognormal's AIC is
        // the lowest of the four families (the gamma's and Weibull's
        // tails are lighter), and the runner-up is ranked after it.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(14);
        let law = LogNormal::new(-0.32, 0.8).unwrap();
        let ratios: Vec<f64> = (0..200).map(|_| law.sample(&mut rng)).collect();
        let chosen = choose(&ratios, &Family::ALL, false, Criterion::Aic);
        assert_eq!(chosen.part.name(), "lognormal");
        assert!(!chosen.needs_pooling);
        assert_eq!(chosen.k, 2);
        assert_eq!(chosen.aic, Some(chosen.key));
        let (runner_up, key) = chosen.runner_up.expect("a runner-up");
        assert_ne!(runner_up, "lognormal");
        assert!(key > chosen.key, "{key} against {}", chosen.key);
        // Offered only the gamma, it takes the gamma.
        let gamma = choose(&ratios, &[Family::Gamma], false, Criterion::Bic);
        assert_eq!(gamma.part.name(), "gamma");
        assert_eq!(gamma.bic, Some(gamma.key));
        assert!(gamma.runner_up.is_none());
    }

    #[test]
    fn equal_ratios_are_as_tight_as_they_are_and_too_few_are_pooled() {
        // Eight equal ratios: no family fits a zero spread, but the
        // history says the law is that tight (`REGULAR_SDLOG`).
        let exact = choose(&[1.25; 8], &Family::ALL, true, Criterion::Aic);
        assert!(!exact.needs_pooling);
        assert!(exact.loglik.is_none());
        let PositivePart::Parametric(f) = &exact.part else {
            panic!("a lognormal");
        };
        assert_eq!(f.family, Family::LogNormal);
        assert_eq!(f.params[1], REGULAR_SDLOG);
        assert!((f.mean() / 1.25 - 1.0).abs() < 1e-9, "{}", f.mean());
        // Five unequal ratios are too few for a law of their own.
        let few = choose(
            &[0.8, 1.0, 1.1, 0.9, 1.2],
            &Family::ALL,
            true,
            Criterion::Aic,
        );
        assert!(few.needs_pooling);
        assert!(few.loglik.is_none() && few.runner_up.is_none());
    }
}
