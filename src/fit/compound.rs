//! Fitting the compound (number of deals x deal size) law of a territory,
//! and scoring it against the residual law on the same footing.
//!
//! Given the territory's expected revenue per period e_t (its fitted level,
//! trend and season, shared with the residual model):
//! - **sizes**: lognormal and gamma by maximum likelihood on the positive
//!   deals of the fitted periods, the better by likelihood (both have two
//!   parameters); with fewer than [`MIN_OWN_DEALS`] deals a lognormal whose
//!   meanlog and sdlog^2 are shrunk toward the region's (else the company's)
//!   with the weight of [`PRIOR_DEALS`] deals;
//! - **credits**: net revenue per unit of positive deal value (credit
//!   factor); outside [0.5, 1.5] credits or lines without a deal id are too
//!   large to fold into one factor and the compound law is not offered;
//! - **counts**: expected deals m_t = e_t / (credit factor x mean size); the
//!   spread s of the latent log rate by maximum likelihood of the
//!   Poisson-lognormal counts (golden section on [0, 2.5]), with its
//!   standard error from the curvature.
//!
//! The comparison with the residual law is a log score of the period
//! totals under each model's implied distribution, both given the same
//! expected path, on the same measure (density for positive periods,
//! probability for non-positive ones), penalised by AIC or BIC with 3
//! parameters for the compound law (s and the two size parameters) and the
//! residual candidate's own count. The compound parameters are fitted to
//! counts and sizes, not to the totals, so the comparison can only favour
//! the residual law. No I/O.

use crate::history::SalesHistory;
use crate::model::compound::ln_count_probability;
use crate::model::CompoundLaw;
use crate::stats::dist::{self, Family, Fitted};
use crate::stats::gof::ks_statistic;
use crate::stats::quantile::mean;

/// Fewest deals for a territory's own deal-size law.
pub(super) const MIN_OWN_DEALS: usize = 30;
/// Weight (in deals) of the region's size law for a territory with few deals.
pub(super) const PRIOR_DEALS: f64 = 30.0;
/// Largest spread of the latent log deal rate searched.
const MAX_MIX_SD: f64 = 2.5;
/// Parameters of the compound law counted by the information criterion.
pub(super) const COMPOUND_PARAMS: usize = 3;

/// One territory's deals in the fitted periods.
#[derive(Debug, Clone)]
pub(super) struct Deals {
    /// Positive deals per period.
    pub counts: Vec<f64>,
    /// Sizes of the positive deals.
    pub sizes: Vec<f64>,
    /// Lognormal size law of the territory's region (or the company).
    pub prior: Option<Fitted>,
}

/// A fitted compound law and its score on the period totals.
#[derive(Debug, Clone)]
pub(super) struct CompoundFit {
    pub law: CompoundLaw,
    pub loglik: f64,
    /// Kolmogorov-Smirnov statistic of the own deal sizes against the size law.
    pub ks_sizes: Option<f64>,
}

/// Every territory's deals in the first `n_fit` periods, with its region's
/// size prior; `None` when the history names no deals.
pub(super) fn deals_by_territory(
    history: &SalesHistory,
    n_fit: usize,
    region_index: &[usize],
    n_regions: usize,
) -> Option<Vec<Deals>> {
    let counts = history.deal_counts.as_ref()?;
    let sizes = history.deal_sizes.as_ref()?;
    let own: Vec<Vec<f64>> = sizes
        .iter()
        .enumerate()
        .map(
            |(i, s)| match history.deal_periods.as_ref().and_then(|p| p.get(i)) {
                Some(p) => s
                    .iter()
                    .zip(p)
                    .filter(|(&v, &q)| q < n_fit && v > 0.0)
                    .map(|(&v, _)| v)
                    .collect(),
                None => s.iter().copied().filter(|&v| v > 0.0).collect(),
            },
        )
        .collect();
    let lognormal = |x: Vec<f64>| {
        (x.len() >= MIN_OWN_DEALS)
            .then(|| dist::fit(Family::LogNormal, &x))
            .flatten()
    };
    let company = lognormal(own.iter().flatten().copied().collect());
    let regions: Vec<Option<Fitted>> = (0..n_regions)
        .map(|r| {
            lognormal(
                own.iter()
                    .zip(region_index)
                    .filter(|(_, &ri)| ri == r)
                    .flat_map(|(s, _)| s.iter().copied())
                    .collect(),
            )
            .or(company)
        })
        .collect();
    Some(
        own.into_iter()
            .enumerate()
            .map(|(i, sizes)| Deals {
                counts: counts
                    .get(i)
                    .map(|c| c.iter().take(n_fit).copied().collect())
                    .unwrap_or_default(),
                sizes,
                prior: regions.get(region_index[i]).copied().flatten(),
            })
            .collect(),
    )
}

/// The deal-size law: the territory's own MLE (lognormal or gamma), or a
/// lognormal shrunk toward the prior; with the deals behind it.
fn size_law(deals: &Deals) -> Option<(Fitted, f64, bool)> {
    let n = deals.sizes.len();
    if n >= MIN_OWN_DEALS {
        let best = [Family::LogNormal, Family::Gamma]
            .into_iter()
            .filter_map(|f| dist::fit(f, &deals.sizes))
            .map(|f| (f.loglik(&deals.sizes), f))
            .filter(|(ll, _)| ll.is_finite())
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        return Some((best.1, n as f64, false));
    }
    let prior = deals.prior?;
    let [pm, ps] = prior.params;
    let (m, s2) = if n >= 2 {
        let logs: Vec<f64> = deals.sizes.iter().map(|v| v.ln()).collect();
        let lm = mean(&logs);
        let lv = logs.iter().map(|l| (l - lm).powi(2)).sum::<f64>() / n as f64;
        let w = n as f64 / (n as f64 + PRIOR_DEALS);
        (w * lm + (1.0 - w) * pm, w * lv + (1.0 - w) * ps * ps)
    } else {
        (pm, ps * ps)
    };
    Some((
        Fitted {
            family: Family::LogNormal,
            params: [m, s2.sqrt().max(1e-3)],
        },
        n as f64 + PRIOR_DEALS,
        true,
    ))
}

/// Fit the compound law of a territory with revenue `y` and expected
/// revenue `expected` per period; `mean_scale` is the residual law's mean
/// (expected revenue per unit of the simulated base). `None` when the
/// territory has no usable deals or its credits are too large to fold in.
pub(super) fn fit_compound(
    y: &[f64],
    expected: &[f64],
    deals: &Deals,
    mean_scale: f64,
) -> Option<CompoundFit> {
    let n = y.len();
    if deals.counts.len() != n || n < 4 || mean_scale <= 0.0 {
        return None;
    }
    let (size, size_n, size_pooled) = size_law(deals)?;
    let size_mean = size.mean();
    let deal_total: f64 = deals.sizes.iter().sum();
    let revenue: f64 = y.iter().sum();
    if deal_total <= 0.0 || !size_mean.is_finite() || size_mean <= 0.0 {
        return None;
    }
    let credit_factor = revenue / deal_total;
    if !(0.5..=1.5).contains(&credit_factor) {
        return None;
    }
    let m: Vec<f64> = expected
        .iter()
        .map(|e| (e / (credit_factor * size_mean)).max(0.0))
        .collect();
    let count_ll = |s: f64| -> f64 {
        deals
            .counts
            .iter()
            .zip(&m)
            .map(|(&c, &mt)| ln_count_probability(c, mt, s))
            .sum()
    };
    let mix_sd = golden_max(&count_ll, 0.0, MAX_MIX_SD);
    let mix_sd = if count_ll(0.0) >= count_ll(mix_sd) {
        0.0
    } else {
        mix_sd
    };
    let mix_sd_se = curvature_se(&count_ll, mix_sd);
    let law = CompoundLaw {
        size,
        size_n,
        size_pooled,
        mix_sd,
        mix_sd_se,
        credit_factor,
        mean_scale,
    };
    let loglik: f64 = y
        .iter()
        .zip(expected)
        .map(|(&v, &e)| law.ln_density(v, e / mean_scale))
        .sum();
    if !loglik.is_finite() {
        return None;
    }
    let ks_sizes =
        (!deals.sizes.is_empty()).then(|| ks_statistic(&deals.sizes, |x| law.size.cdf(x)));
    Some(CompoundFit {
        law,
        loglik,
        ks_sizes,
    })
}

/// Maximiser of a unimodal `f` on [lo, hi] by golden-section search.
fn golden_max(f: &dyn Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = hi - g * (hi - lo);
    let mut b = lo + g * (hi - lo);
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..40 {
        if fa >= fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - g * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + g * (hi - lo);
            fb = f(b);
        }
    }
    0.5 * (lo + hi)
}

/// Asymptotic standard error of the maximiser `x` of log-likelihood `f`
/// from its numerical curvature (one-sided at the boundary 0).
fn curvature_se(f: &dyn Fn(f64) -> f64, x: f64) -> f64 {
    let h = 0.02;
    let c = if x > h { x } else { h };
    let d2 = (f(c + h) - 2.0 * f(c) + f(c - h)) / (h * h);
    if d2 < 0.0 && d2.is_finite() {
        (1.0 / -d2).sqrt().min(1.0)
    } else {
        0.0
    }
}

/// `fit.csv` parameters of a compound law; `mean_count` is the mean number
/// of deals per fitted period.
pub(super) fn params_json(law: &CompoundLaw, mean_count: f64, n_deals: usize) -> serde_json::Value {
    let names = law.size.family.param_names();
    serde_json::json!({
        "count": {
            "law": if law.mix_sd > 0.0 { "poisson-lognormal" } else { "poisson" },
            "deals_per_period": super::round6(mean_count),
            "mix_sd": super::round6(law.mix_sd),
            "mix_sd_se": super::round6(law.mix_sd_se),
        },
        "size": {
            "family": law.size.family.name(),
            names[0]: super::round6(law.size.params[0]),
            names[1]: super::round6(law.size.params[1]),
            "mean": super::round6(law.size_mean()),
            "deals": n_deals,
            "pooled": law.size_pooled,
        },
        "credit_factor": super::round6(law.credit_factor),
    })
}
