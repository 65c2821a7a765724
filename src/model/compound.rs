//! The compound (number of deals x deal size) law of a territory's period
//! revenue: a fitted, immutable value that can be sampled and scored.
//!
//! In a period whose expected revenue is `e`, the territory closes
//! N ~ Poisson(m * exp(s x - s^2 / 2)) positive deals, where
//! m = e / (credit_factor * mean deal size) and x is the trial's mixed normal
//! score of the territory (company and region factors plus its own AR(1)
//! noise, exactly the variable the residual model passes through its
//! normal-score transform). The count is thus a Poisson-lognormal mixture:
//! s is the spread of the latent deal rate, and the common shocks move every
//! territory's rate together. Each deal's size is drawn from a lognormal or
//! gamma law, or resampled from the observed deals (empirical; a territory
//! with few deals draws from its region's deals with the complementary
//! weight), and the period's revenue is `credit_factor` times the sum of
//! the sizes: credits, negative deals and lines without a deal id are folded
//! into that one mean-preserving factor (net revenue per unit of positive
//! deals in the history).
//!
//! Parameter uncertainty: the level law carries the uncertainty of the mean
//! (the count rate is derived from it); per trial this law draws the shape
//! of the deal-size law (sdlog or gamma shape) and the spread s of the rate
//! from their asymptotic normal laws, keeping the mean deal size, so the
//! mean is not counted twice. Empirical sizes carry no shape draw (they are
//! offered only with many deals, or pooled with the region's).
//!
//! Fitting lives in `fit::compound`; this module does no estimation.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Gamma, LogNormal, Poisson, StandardNormal};
use serde::Serialize;

use crate::stats::dist::{Family, Fitted};
use crate::stats::special::ln_gamma;

/// Above this many deals a period's sum of sizes is drawn from the gamma
/// law with the same mean and variance instead of deal by deal.
const DIRECT_SUM_MAX: u64 = 64;
/// At or above this expected deal count (twice `DIRECT_SUM_MAX`: a count
/// at or below that is then a 1e-9 chance) a period's revenue is drawn as
/// one gamma with the compound sum's mean and variance (lambda E\[size\]
/// and lambda E[size^2]) instead of a Poisson count and then a gamma sum:
/// the count's own variance is kept, and of its shape only the third
/// cumulant moves, by a factor 2 (1 + v) / (1 + 2 v), v the sizes' squared
/// coefficient of variation (1 / k for gamma sizes of shape k). The error
/// is largest for the least dispersed sizes (v -> 0, fixed sizes: the
/// third cumulant doubled), where at this rate it moves a period's P05
/// and P95 by about 2.5% of its standard deviation, and by 1.5% for gamma
/// sizes of shape 0.5 (a test holds both to 3%); it saves the count's
/// draw on the busiest territories, which made the deal-driven forecast
/// no slower than the core before the state-space one (README, Speed).
const MANY_DEALS: f64 = 2.0 * DIRECT_SUM_MAX as f64;
/// Half-width (in standard deviations) and step of the normal quadrature
/// over the latent rate.
const QUAD_HALF_WIDTH: f64 = 6.0;
const QUAD_STEP: f64 = 0.25;
/// Most count values summed when scoring one period.
const MAX_COUNT_TERMS: u64 = 20_000;

/// Observed deal sizes to resample: the territory's own with probability
/// `own_weight`, else the pool (its region's deals).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmpiricalSizes {
    #[serde(skip)]
    pub own: Vec<f64>,
    #[serde(skip)]
    pub pool: Vec<f64>,
    pub own_weight: f64,
    pub mean: f64,
    pub variance: f64,
}

impl EmpiricalSizes {
    /// The mixture of `own` (weight `own_weight`) and `pool`; `None` when a
    /// part with positive weight is empty.
    pub fn new(own: Vec<f64>, pool: Vec<f64>, own_weight: f64) -> Option<Self> {
        let w = own_weight.clamp(0.0, 1.0);
        let moments = |x: &[f64]| -> (f64, f64) {
            let n = x.len().max(1) as f64;
            let m = x.iter().sum::<f64>() / n;
            (m, x.iter().map(|v| v * v).sum::<f64>() / n)
        };
        if (w > 0.0 && own.is_empty()) || (w < 1.0 && pool.is_empty()) {
            return None;
        }
        let (m1, s1) = moments(&own);
        let (m2, s2) = moments(&pool);
        let mean = w * m1 + (1.0 - w) * m2;
        let second = w * s1 + (1.0 - w) * s2;
        Some(Self {
            own,
            pool,
            own_weight: w,
            mean,
            variance: (second - mean * mean).max(0.0),
        })
    }

    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let from = if self.pool.is_empty() || rng.random::<f64>() < self.own_weight {
            &self.own
        } else {
            &self.pool
        };
        from[rng.random_range(0..from.len())]
    }

    /// Deals behind the law.
    pub fn len(&self) -> usize {
        self.own.len() + self.pool.len()
    }

    /// Whether the law has no deals (never, for a law built by `new`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The law of one positive deal's size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SizeLaw {
    /// Lognormal or gamma.
    Parametric(Fitted),
    /// Observed sizes, resampled.
    Empirical(EmpiricalSizes),
}

impl SizeLaw {
    /// Name in `fit.csv`.
    pub fn name(&self) -> &'static str {
        match self {
            SizeLaw::Parametric(f) => f.family.name(),
            SizeLaw::Empirical(_) => "empirical",
        }
    }

    /// Mean deal size.
    pub fn mean(&self) -> f64 {
        match self {
            SizeLaw::Parametric(f) => f.mean(),
            SizeLaw::Empirical(e) => e.mean,
        }
    }

    /// Variance of a deal's size.
    pub fn variance(&self) -> f64 {
        match self {
            SizeLaw::Parametric(f) => {
                let [a, b] = f.params;
                match f.family {
                    Family::Gamma => a / (b * b),
                    Family::LogNormal => ((b * b).exp() - 1.0) * (2.0 * a + b * b).exp(),
                    Family::Normal => b * b,
                    Family::Weibull => {
                        let g1 = ln_gamma(1.0 + 1.0 / a).exp();
                        let g2 = ln_gamma(1.0 + 2.0 / a).exp();
                        b * b * (g2 - g1 * g1)
                    }
                }
            }
            SizeLaw::Empirical(e) => e.variance,
        }
    }

    /// CDF of a parametric law (`None` for the empirical one).
    pub fn parametric(&self) -> Option<&Fitted> {
        match self {
            SizeLaw::Parametric(f) => Some(f),
            SizeLaw::Empirical(_) => None,
        }
    }
}

/// A territory's compound law (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompoundLaw {
    /// Deal-size law of positive deals.
    pub size: SizeLaw,
    /// Deals behind the size law's shape (own deals plus the pooled prior's weight).
    pub size_n: f64,
    /// Whether the size law was shrunk toward the region's.
    pub size_pooled: bool,
    /// Spread of the latent log deal rate (0: Poisson counts).
    pub mix_sd: f64,
    /// Standard error of `mix_sd`.
    pub mix_sd_se: f64,
    /// Net revenue per unit of positive deal value.
    pub credit_factor: f64,
    /// Expected revenue per unit of the territory's base (level x season).
    pub mean_scale: f64,
}

/// One trial's draw of the compound law's shape parameters.
#[derive(Debug, Clone, Copy)]
pub struct CompoundTrial {
    size: SizeSampler,
    size_mean: f64,
    /// Expected deals per unit of base: mean_scale / (credit_factor x
    /// size_mean), so that a period's count needs no division.
    deals_per_base: f64,
    /// Shape and scale of the gamma law of one deal's size by its first two
    /// moments (mean^2 / var, var / mean): the sum of n sizes is drawn
    /// from shape n x this, same scale, with no division per period.
    sum_shape: f64,
    sum_scale: f64,
    /// The same for a period's whole revenue per expected deal, count
    /// included (mean^2 / E[size^2], E[size^2] / mean; see `MANY_DEALS`).
    compound_shape: f64,
    compound_scale: f64,
    mix_sd: f64,
}

#[derive(Debug, Clone, Copy)]
enum SizeSampler {
    LogNormal(LogNormal<f64>),
    Gamma(Gamma<f64>),
    Fixed(f64),
    /// Resample the law's observed sizes.
    Empirical,
}

impl CompoundLaw {
    /// The model name reported in `fit.csv`.
    pub fn name(&self) -> String {
        let count = if self.mix_sd > 0.0 {
            "poisson-lognormal"
        } else {
            "poisson"
        };
        format!("compound({count} x {})", self.size.name())
    }

    /// Mean deal size of the fitted law.
    pub fn size_mean(&self) -> f64 {
        self.size.mean()
    }

    fn draw_size<R: Rng + ?Sized>(&self, rng: &mut R, sampler: &SizeSampler) -> f64 {
        match (sampler, &self.size) {
            (SizeSampler::LogNormal(d), _) => d.sample(rng),
            (SizeSampler::Gamma(d), _) => d.sample(rng),
            (SizeSampler::Fixed(v), _) => *v,
            (SizeSampler::Empirical, SizeLaw::Empirical(e)) => e.sample(rng),
            (SizeSampler::Empirical, SizeLaw::Parametric(f)) => f.sample(rng),
        }
    }

    /// Expected number of positive deals in a period with base `base`.
    pub fn expected_count(&self, base: f64) -> f64 {
        (base * self.mean_scale / (self.credit_factor * self.size_mean())).max(0.0)
    }

    /// Log-probability (density for positive revenue, probability of no
    /// deal for revenue <= 0) of period revenue `y` when the base is `base`,
    /// at the fitted parameters. Sums of n lognormal sizes are approximated
    /// by the lognormal with their mean and variance (Fenton-Wilkinson;
    /// exact for n = 1), and so are sums of empirical sizes; sums of gamma
    /// sizes are exact.
    pub fn ln_density(&self, y: f64, base: f64) -> f64 {
        let m = self.expected_count(base);
        let counts = CountLaw::new(self.mix_sd);
        if y <= 0.0 || m <= 0.0 {
            let p0: f64 = counts
                .nodes
                .iter()
                .map(|node| node.w * (-node.rate(m)).exp())
                .sum();
            return if y <= 0.0 { p0.ln() } else { f64::NEG_INFINITY };
        }
        let v = y / self.credit_factor;
        let lo = rate(m, self.mix_sd, -QUAD_HALF_WIDTH);
        let hi = rate(m, self.mix_sd, QUAD_HALF_WIDTH);
        let n_lo = ((lo - 8.0 * lo.sqrt() - 2.0).floor().max(1.0)) as u64;
        let n_hi = ((hi + 8.0 * hi.sqrt() + 10.0).ceil() as u64).min(n_lo + MAX_COUNT_TERMS);
        let (mean1, var1) = (self.size_mean(), self.size.variance());
        // The rate at each node does not depend on the count: computed
        // once, not once per count.
        let rates = counts.rates(m);
        let mut buffer = Vec::with_capacity(rates.len());
        let mut terms = Vec::with_capacity((n_hi - n_lo + 1) as usize);
        for n in n_lo..=n_hi {
            let nf = n as f64;
            let ln_pn = rates.ln_probability(nf, ln_gamma(nf + 1.0), &mut buffer);
            let ln_fn = match self.size.parametric() {
                Some(f) if f.family == Family::Gamma => Fitted {
                    family: Family::Gamma,
                    params: [nf * f.params[0], f.params[1]],
                }
                .ln_pdf(v),
                _ => {
                    let s2 = (1.0 + var1 / (nf * mean1 * mean1)).ln();
                    Fitted {
                        family: Family::LogNormal,
                        params: [(nf * mean1).ln() - 0.5 * s2, s2.sqrt()],
                    }
                    .ln_pdf(v)
                }
            };
            terms.push(ln_pn + ln_fn);
        }
        log_sum_exp(&terms) - self.credit_factor.ln()
    }

    /// One period's revenue in a trial: `base` is the territory's base
    /// (level x season) and `x` its mixed normal score.
    pub fn sample_period<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        trial: &CompoundTrial,
        base: f64,
        x: f64,
    ) -> f64 {
        let m = (base * trial.deals_per_base).max(0.0);
        let lambda = rate(m, trial.mix_sd, x);
        if lambda <= 0.0 || !lambda.is_finite() {
            return 0.0;
        }
        if lambda >= MANY_DEALS {
            return self.credit_factor * many_deals(rng, trial, lambda);
        }
        let n = match Poisson::new(lambda) {
            Ok(p) => p.sample(rng) as u64,
            Err(_) => lambda.round() as u64,
        };
        let total = if n == 0 {
            0.0
        } else if n <= DIRECT_SUM_MAX {
            (0..n).map(|_| self.draw_size(rng, &trial.size)).sum()
        } else {
            let nf = n as f64;
            match Gamma::new(nf * trial.sum_shape, trial.sum_scale) {
                Ok(g) => g.sample(rng),
                Err(_) => nf * trial.size_mean,
            }
        };
        self.credit_factor * total
    }
}

impl Distribution<CompoundTrial> for CompoundLaw {
    /// Draw the size law's shape and the rate spread for one trial, keeping
    /// the mean deal size.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> CompoundTrial {
        let z1: f64 = StandardNormal.sample(rng);
        let z2: f64 = StandardNormal.sample(rng);
        let n = self.size_n.max(2.0);
        let mean = self.size_mean();
        let mix_sd = (self.mix_sd + self.mix_sd_se * z2).abs();
        let (size, var) = match &self.size {
            SizeLaw::Empirical(e) => (Some(SizeSampler::Empirical), e.variance),
            SizeLaw::Parametric(f) if f.family == Family::Gamma => {
                let a = f.params[0];
                // var(log shape) ~ 1 / (n (shape trigamma(shape) - 1)) ~ 2 / n for large shapes.
                let shape = a * (z1 * (2.0 / n).sqrt()).exp();
                let sampler = Gamma::new(shape, mean / shape).ok().map(SizeSampler::Gamma);
                (sampler, mean * mean / shape)
            }
            SizeLaw::Parametric(f) => {
                let sd = f.params[1] * (z1 / (2.0 * n).sqrt()).exp();
                let sampler = LogNormal::new(mean.ln() - 0.5 * sd * sd, sd)
                    .ok()
                    .map(SizeSampler::LogNormal);
                (sampler, mean * mean * ((sd * sd).exp() - 1.0))
            }
        };
        // Fitted parameters are finite and positive; a failed draw keeps the mean.
        let size = size.unwrap_or(SizeSampler::Fixed(mean));
        CompoundTrial {
            size,
            size_mean: mean,
            deals_per_base: self.mean_scale / (self.credit_factor * mean),
            sum_shape: mean * mean / var,
            sum_scale: var / mean,
            compound_shape: mean * mean / (var + mean * mean),
            compound_scale: (var + mean * mean) / mean,
            mix_sd,
        }
    }
}

/// A period's revenue (before credits) at an expected `lambda` deals of
/// at least `MANY_DEALS`: one gamma draw with the compound sum's mean and
/// variance.
fn many_deals<R: Rng + ?Sized>(rng: &mut R, trial: &CompoundTrial, lambda: f64) -> f64 {
    match Gamma::new(lambda * trial.compound_shape, trial.compound_scale) {
        Ok(g) => g.sample(rng),
        Err(_) => lambda * trial.size_mean,
    }
}

/// Deal rate at normal score `z`: m exp(s z - s^2 / 2) (mean m over z).
#[inline]
fn rate(m: f64, s: f64, z: f64) -> f64 {
    m * (s * z - 0.5 * s * s).exp()
}

/// A node of the midpoint rule over the latent rate's normal score: its
/// weight, the weight's logarithm, and the rate's factor there,
/// exp(s z - s^2 / 2) (the rate at mean count m is m times it, as
/// [`rate`] computes it).
#[derive(Debug, Clone, Copy)]
struct Node {
    w: f64,
    ln_w: f64,
    factor: f64,
}

impl Node {
    fn new(s: f64, z: f64, w: f64) -> Self {
        Self {
            w,
            ln_w: w.ln(),
            factor: (s * z - 0.5 * s * s).exp(),
        }
    }

    /// The rate at mean count `m`: [`rate`]`(m, s, z)`, to the bit.
    fn rate(&self, m: f64) -> f64 {
        m * self.factor
    }
}

/// The Poisson-lognormal law of a period's deal count at rate spread `s`:
/// the normal quadrature over the latent rate, built once per spread (the
/// fit scores every period at each spread it tries).
pub struct CountLaw {
    nodes: Vec<Node>,
}

impl CountLaw {
    /// Nodes and weights of a midpoint rule for the standard normal (a
    /// single node when there is no spread).
    pub fn new(s: f64) -> Self {
        if s <= 0.0 {
            return Self {
                nodes: vec![Node::new(s, 0.0, 1.0)],
            };
        }
        let k = (QUAD_HALF_WIDTH / QUAD_STEP) as i32;
        let raw: Vec<(f64, f64)> = (-k..=k)
            .map(|i| {
                let z = f64::from(i) * QUAD_STEP;
                (z, (-0.5 * z * z).exp())
            })
            .collect();
        let total: f64 = raw.iter().map(|r| r.1).sum();
        let nodes = raw
            .into_iter()
            .map(|(z, w)| Node::new(s, z, w / total))
            .collect();
        Self { nodes }
    }

    /// The rate at every node for an expected count `m`.
    fn rates(&self, m: f64) -> NodeRates {
        NodeRates(
            self.nodes
                .iter()
                .map(|node| {
                    let l = node.rate(m);
                    (node.ln_w, l, l.ln())
                })
                .collect(),
        )
    }

    /// Log-probability of `n` deals when the expected count is `m` (the
    /// latent log rate spread `s`).
    pub fn ln_probability(&self, n: f64, m: f64) -> f64 {
        if m <= 0.0 {
            return if n == 0.0 { 0.0 } else { f64::NEG_INFINITY };
        }
        let rates = self.rates(m);
        rates.ln_probability(n, ln_gamma(n + 1.0), &mut Vec::with_capacity(rates.len()))
    }
}

/// Per quadrature node, for one expected count: (ln weight, rate, ln rate),
/// all that a count's probability reads.
struct NodeRates(Vec<(f64, f64, f64)>);

impl NodeRates {
    fn len(&self) -> usize {
        self.0.len()
    }

    /// ln P(N = n), given `ln_fact` = ln n! (`buffer`: scratch space).
    fn ln_probability(&self, n: f64, ln_fact: f64, buffer: &mut Vec<f64>) -> f64 {
        buffer.clear();
        buffer.extend(
            self.0
                .iter()
                .map(|&(ln_w, l, ln_l)| ln_w + n * ln_l - l - ln_fact),
        );
        log_sum_exp(buffer)
    }
}

/// log(sum(exp(t))) without overflow.
pub(crate) fn log_sum_exp(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + v.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn law(family: Family, params: [f64; 2], s: f64) -> CompoundLaw {
        CompoundLaw {
            size: SizeLaw::Parametric(Fitted { family, params }),
            size_n: 1e9,
            size_pooled: false,
            mix_sd: s,
            mix_sd_se: 0.0,
            credit_factor: 0.9,
            mean_scale: 1.0,
        }
    }

    #[test]
    fn count_probabilities_sum_to_one() {
        for &(m, s) in &[(3.0, 0.0), (20.0, 0.3), (0.5, 1.0)] {
            let law = CountLaw::new(s);
            let total: f64 = (0..400)
                .map(|n| law.ln_probability(f64::from(n), m).exp())
                .sum();
            assert!((total - 1.0).abs() < 1e-6, "m={m} s={s}: {total}");
        }
    }

    #[test]
    fn period_density_integrates_to_one_and_sampling_keeps_the_mean() {
        for l in [
            law(Family::LogNormal, [0.0, 0.8], 0.3),
            law(Family::Gamma, [2.0, 2.0], 0.0),
        ] {
            let base = 5.0;
            // P(no deal) + integral of the density over y > 0.
            let p0 = l.ln_density(0.0, base).exp();
            let (dy, mut mass) = (0.01, p0);
            for i in 0..6000 {
                let y = (f64::from(i) + 0.5) * dy;
                mass += l.ln_density(y, base).exp() * dy;
            }
            assert!((mass - 1.0).abs() < 5e-3, "{}: mass {mass}", l.name());
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
            let trial = l.sample(&mut rng);
            let n = 20_000;
            let mean: f64 = (0..n)
                .map(|_| {
                    let x: f64 = StandardNormal.sample(&mut rng);
                    l.sample_period(&mut rng, &trial, base, x)
                })
                .sum::<f64>()
                / f64::from(n);
            assert!(
                (mean / base - 1.0).abs() < 0.03,
                "{}: mean {mean}",
                l.name()
            );
        }
    }

    #[test]
    fn many_deals_are_drawn_as_the_count_and_sizes_would_give_them() {
        // Gamma sizes of shape 0.5 (dispersed, as the shared data's) and
        // 50 (nearly fixed: the worst case) at the rate where the single
        // draw takes over: its quantiles against the Poisson count and
        // gamma sum's, 400,000 draws each (a quantile's Monte Carlo error
        // is under 0.004 sd; the approximation moves the tails by 0.015
        // and 0.025 sd).
        for shape in [0.5, 50.0] {
            let l = law(Family::Gamma, [shape, shape], 0.0);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
            let trial = l.sample(&mut rng);
            let lambda = MANY_DEALS;
            let draws = 400_000;
            let mut merged: Vec<f64> = (0..draws)
                .map(|_| many_deals(&mut rng, &trial, lambda))
                .collect();
            let mut exact: Vec<f64> = (0..draws)
                .map(|_| {
                    let n: f64 = Poisson::new(lambda).unwrap().sample(&mut rng);
                    Gamma::new(n * trial.sum_shape, trial.sum_scale)
                        .unwrap()
                        .sample(&mut rng)
                })
                .collect();
            merged.sort_by(f64::total_cmp);
            exact.sort_by(f64::total_cmp);
            let mean = exact.iter().sum::<f64>() / f64::from(draws);
            let sd =
                (exact.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / f64::from(draws)).sqrt();
            for q in [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95] {
                let i = (q * f64::from(draws)) as usize;
                let gap = (merged[i] - exact[i]).abs() / sd;
                assert!(
                    gap < 0.03,
                    "shape {shape}, quantile {q}: {} against {} ({gap:.4} sd)",
                    merged[i],
                    exact[i]
                );
            }
        }
    }
}
