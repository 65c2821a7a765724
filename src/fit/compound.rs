//! Fitting the compound (number of deals x deal size) law of a territory,
//! and scoring it against the residual law on the same footing.
//!
//! Given the territory's expected revenue per period e_t (its fitted level,
//! trend and season, shared with the residual model):
//! - **sizes**: candidates are lognormal and gamma by maximum likelihood on
//!   the positive deals of the fitted periods, and the observed deals
//!   themselves (empirical, when `empirical` is among the families); with
//!   fewer than [`MIN_OWN_DEALS`] deals, a lognormal whose meanlog and
//!   sdlog^2 are shrunk toward the region's (else the company's) and the
//!   empirical mixture of own and region deals, both with the region
//!   weighing as [`PRIOR_DEALS`] deals. The candidate with the best log
//!   score on the period totals is the compound law's size law (deal-level
//!   likelihoods cannot rank an empirical law, and the totals are what the
//!   forecast must get right);
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
//! probability for non-positive ones), penalised by AIC or BIC. The penalty
//! stands for the optimism of an in-sample score, which comes from
//! parameters fitted to the period-level data: the residual law's own
//! count (2, or 1 for the empirical law), and for the compound law the rate
//! spread s (1) plus its two size parameters weighted by the share of
//! information one period adds to them (periods / deals, at most 1 each),
//! since they are estimated from the deals, many per period. With one deal
//! per period this is 3 parameters; with 20 deals a period about 1.1. No I/O.

use crate::history::SalesHistory;
use crate::model::compound::CountLaw;
use crate::model::compound::{EmpiricalSizes, SizeLaw};
use crate::model::CompoundLaw;
use crate::stats::dist::{self, Family, Fitted};
use crate::stats::gof::ks_statistic;
use crate::stats::golden;
use crate::stats::quantile::mean;

/// Fewest deals for a territory's own deal-size law.
pub(super) const MIN_OWN_DEALS: usize = 30;
/// Weight (in deals) of the region's size law for a territory with few deals.
pub(super) const PRIOR_DEALS: f64 = 30.0;
/// Above this mean number of deals per period the totals are close to
/// normal, the compound law adds nothing and scoring it would be slow: it
/// is not offered.
const MAX_MEAN_COUNT: f64 = 2000.0;
/// Largest spread of the latent log deal rate searched.
const MAX_MIX_SD: f64 = 2.5;

/// One territory's deals in the fitted periods.
#[derive(Debug, Clone)]
pub(super) struct Deals {
    /// Positive deals per period.
    pub counts: Vec<f64>,
    /// Sizes of the positive deals.
    pub sizes: Vec<f64>,
    /// The period of each size (none when the history does not say).
    pub periods: Option<Vec<usize>>,
    /// Lognormal size law of the territory's region (or the company).
    pub prior: Option<Fitted>,
    /// The region's deal sizes (or the company's), shared.
    pub pool: std::sync::Arc<Vec<f64>>,
}

impl Deals {
    /// The same deals for a history that starts at period `start` (a
    /// territory fitted from its first sale or its restart,
    /// `super::start`): the counts and sizes of the earlier periods left
    /// out.
    pub fn since(&self, start: usize) -> Self {
        let sizes = match &self.periods {
            Some(p) => self
                .sizes
                .iter()
                .zip(p)
                .filter(|(_, &q)| q >= start)
                .map(|(&v, _)| v)
                .collect(),
            None => self.sizes.clone(),
        };
        Self {
            counts: self.counts.get(start..).unwrap_or_default().to_vec(),
            sizes,
            periods: None,
            ..self.clone()
        }
    }
}

/// A fitted compound law and its score on the period totals.
#[derive(Debug, Clone)]
pub(super) struct CompoundFit {
    pub law: CompoundLaw,
    pub loglik: f64,
    /// Effective number of parameters counted by the information criterion.
    pub params: f64,
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
    // Each territory's positive deal sizes in the fitted periods, with
    // their periods where the history has them.
    let own_dated: Vec<(Vec<f64>, Option<Vec<usize>>)> = sizes
        .iter()
        .enumerate()
        .map(
            |(i, s)| match history.deal_periods.as_ref().and_then(|p| p.get(i)) {
                Some(p) => {
                    let (v, q): (Vec<f64>, Vec<usize>) = s
                        .iter()
                        .zip(p)
                        .filter(|(&v, &q)| q < n_fit && v > 0.0)
                        .map(|(&v, &q)| (v, q))
                        .unzip();
                    (v, Some(q))
                }
                None => (s.iter().copied().filter(|&v| v > 0.0).collect(), None),
            },
        )
        .collect();
    let own: Vec<Vec<f64>> = own_dated.iter().map(|(v, _)| v.clone()).collect();
    let lognormal = |x: Vec<f64>| {
        (x.len() >= MIN_OWN_DEALS)
            .then(|| dist::fit(Family::LogNormal, &x))
            .flatten()
    };
    let all: Vec<f64> = own.iter().flatten().copied().collect();
    let company = lognormal(all.clone());
    let company_pool = std::sync::Arc::new(all);
    let regions: Vec<(Option<Fitted>, std::sync::Arc<Vec<f64>>)> = (0..n_regions)
        .map(|r| {
            let x: Vec<f64> = own
                .iter()
                .zip(region_index)
                .filter(|(_, &ri)| ri == r)
                .flat_map(|(s, _)| s.iter().copied())
                .collect();
            if x.len() >= MIN_OWN_DEALS {
                (lognormal(x.clone()).or(company), std::sync::Arc::new(x))
            } else {
                (company, company_pool.clone())
            }
        })
        .collect();
    Some(
        own_dated
            .into_iter()
            .enumerate()
            .map(|(i, (sizes, periods))| Deals {
                counts: counts
                    .get(i)
                    .map(|c| c.iter().take(n_fit).copied().collect())
                    .unwrap_or_default(),
                sizes,
                periods,
                prior: regions.get(region_index[i]).and_then(|r| r.0),
                pool: regions
                    .get(region_index[i])
                    .map_or_else(|| company_pool.clone(), |r| r.1.clone()),
            })
            .collect(),
    )
}

/// Candidate deal-size laws, each with the deals behind its shape and
/// whether it borrows from the region.
fn size_laws(deals: &Deals, empirical: bool) -> Vec<(SizeLaw, f64, bool)> {
    let n = deals.sizes.len();
    let mut out = Vec::new();
    if n >= MIN_OWN_DEALS {
        for f in [Family::LogNormal, Family::Gamma] {
            if let Some(fitted) = dist::fit(f, &deals.sizes) {
                if fitted.loglik(&deals.sizes).is_finite() {
                    out.push((SizeLaw::Parametric(fitted), n as f64, false));
                }
            }
        }
        if empirical {
            if let Some(e) = EmpiricalSizes::new(deals.sizes.clone(), Vec::new(), 1.0) {
                out.push((SizeLaw::Empirical(e), n as f64, false));
            }
        }
        return out;
    }
    let w = n as f64 / (n as f64 + PRIOR_DEALS);
    if let Some(prior) = deals.prior {
        let [pm, ps] = prior.params;
        let (m, s2) = if n >= 2 {
            let logs: Vec<f64> = deals.sizes.iter().map(|v| v.ln()).collect();
            let lm = mean(&logs);
            let lv = logs.iter().map(|l| (l - lm).powi(2)).sum::<f64>() / n as f64;
            (w * lm + (1.0 - w) * pm, w * lv + (1.0 - w) * ps * ps)
        } else {
            (pm, ps * ps)
        };
        let f = Fitted {
            family: Family::LogNormal,
            params: [m, s2.sqrt().max(1e-3)],
        };
        out.push((SizeLaw::Parametric(f), n as f64 + PRIOR_DEALS, true));
    }
    if empirical && !deals.pool.is_empty() {
        if let Some(e) = EmpiricalSizes::new(deals.sizes.clone(), deals.pool.to_vec(), w) {
            out.push((SizeLaw::Empirical(e), n as f64 + PRIOR_DEALS, true));
        }
    }
    out
}

/// Fit the compound law of a territory with revenue `y` and expected
/// revenue `expected` per period; `mean_scale` is the residual law's mean
/// (expected revenue per unit of the simulated base); `empirical` offers
/// the observed sizes. The best size law by the log score of the period
/// totals; `None` when the territory has no usable deals or its credits are
/// too large to fold in.
pub(super) fn fit_compound(
    y: &[f64],
    expected: &[f64],
    deals: &Deals,
    mean_scale: f64,
    empirical: bool,
) -> Option<CompoundFit> {
    let n = y.len();
    if deals.counts.len() != n || n < 4 || mean_scale <= 0.0 || mean(&deals.counts) > MAX_MEAN_COUNT
    {
        return None;
    }
    size_laws(deals, empirical)
        .into_iter()
        .filter_map(|(size, size_n, pooled)| {
            fit_with_size(y, expected, deals, mean_scale, size, size_n, pooled)
        })
        .max_by(|a, b| a.loglik.total_cmp(&b.loglik))
}

fn fit_with_size(
    y: &[f64],
    expected: &[f64],
    deals: &Deals,
    mean_scale: f64,
    size: SizeLaw,
    size_n: f64,
    size_pooled: bool,
) -> Option<CompoundFit> {
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
        let law = CountLaw::new(s);
        deals
            .counts
            .iter()
            .zip(&m)
            .map(|(&c, &mt)| law.ln_probability(c, mt))
            .sum()
    };
    let mix_sd = golden::minimize(|x| -count_ll(x), 0.0, MAX_MIX_SD, 40).x;
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
    let ks_sizes = match law.size.parametric() {
        Some(f) if !deals.sizes.is_empty() => Some(ks_statistic(&deals.sizes, |x| f.cdf(x))),
        _ => None,
    };
    let size_params = 2.0 * (y.len() as f64 / deals.sizes.len().max(1) as f64).min(1.0);
    Some(CompoundFit {
        law,
        loglik,
        params: 1.0 + size_params,
        ks_sizes,
    })
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
    let mut size = serde_json::Map::new();
    size.insert("family".into(), law.size.name().into());
    match &law.size {
        SizeLaw::Parametric(f) => {
            let names = f.family.param_names();
            size.insert(names[0].into(), super::params::round6(f.params[0]).into());
            size.insert(names[1].into(), super::params::round6(f.params[1]).into());
        }
        SizeLaw::Empirical(e) => {
            size.insert(
                "own_weight".into(),
                super::params::round6(e.own_weight).into(),
            );
        }
    }
    size.insert("mean".into(), super::params::round6(law.size_mean()).into());
    size.insert("deals".into(), n_deals.into());
    size.insert("pooled".into(), law.size_pooled.into());
    serde_json::json!({
        "count": {
            "law": if law.mix_sd > 0.0 { "poisson-lognormal" } else { "poisson" },
            "deals_per_period": super::params::round6(mean_count),
            "mix_sd": super::params::round6(law.mix_sd),
            "mix_sd_se": super::params::round6(law.mix_sd_se),
        },
        "size": size,
        "credit_factor": super::params::round6(law.credit_factor),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deals(sizes: Vec<f64>, pool: Vec<f64>) -> Deals {
        let prior = dist::fit(Family::LogNormal, &pool);
        Deals {
            counts: vec![1.0; 12],
            sizes,
            periods: None,
            prior,
            pool: std::sync::Arc::new(pool),
        }
    }

    #[test]
    fn few_deals_borrow_the_regions_size_law() {
        let pool: Vec<f64> = (1..=200).map(|i| f64::from(i) * 10.0).collect();
        let d = deals(vec![100.0, 200.0, 400.0, 800.0, 1600.0], pool.clone());
        let laws = size_laws(&d, true);
        assert_eq!(laws.len(), 2);
        assert!(laws.iter().all(|l| l.2 && (l.1 - 35.0).abs() < 1e-12));
        let prior = dist::fit(Family::LogNormal, &pool).unwrap();
        let own_meanlog = [100.0f64, 200.0, 400.0, 800.0, 1600.0]
            .iter()
            .map(|v| v.ln())
            .sum::<f64>()
            / 5.0;
        match &laws[0].0 {
            SizeLaw::Parametric(f) => {
                let w = 5.0 / 35.0;
                let expect = w * own_meanlog + (1.0 - w) * prior.params[0];
                assert!((f.params[0] - expect).abs() < 1e-12);
            }
            other => panic!("{other:?}"),
        }
        match &laws[1].0 {
            SizeLaw::Empirical(e) => assert!((e.own_weight - 5.0 / 35.0).abs() < 1e-12),
            other => panic!("{other:?}"),
        }
        // With enough deals, only the territory's own laws.
        let own: Vec<f64> = (1..=40).map(|i| f64::from(i) * 7.0).collect();
        let laws = size_laws(&deals(own, pool), false);
        assert_eq!(laws.len(), 2);
        assert!(laws.iter().all(|l| !l.2));
    }

    #[test]
    fn large_credits_are_not_folded_into_the_size_law() {
        let sizes: Vec<f64> = (0..48).map(|i| 100.0 + f64::from(i % 7) * 20.0).collect();
        let d = Deals {
            counts: vec![4.0; 12],
            sizes: sizes.clone(),
            periods: None,
            prior: None,
            pool: std::sync::Arc::new(Vec::new()),
        };
        let gross: f64 = sizes.iter().sum::<f64>() / 12.0;
        let expected = vec![gross; 12];
        // Net revenue at 90% of the deals: folded in as a credit factor.
        let net = vec![0.9 * gross; 12];
        let fit = fit_compound(&net, &expected, &d, 1.0, true).unwrap();
        assert!((fit.law.credit_factor - 0.9).abs() < 1e-12);
        // Net revenue at 40%: not offered.
        let net = vec![0.4 * gross; 12];
        assert!(fit_compound(&net, &expected, &d, 1.0, true).is_none());
    }
}
