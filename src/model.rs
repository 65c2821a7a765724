//! Fitted territory models: immutable values that can be sampled.
//!
//! A territory's revenue in horizon period h is
//! `max(level + slope * h, 0) * season[position] * R`, where the level and
//! slope are drawn once per trial from their estimated joint normal law
//! (parameter uncertainty) and R is the residual ratio drawn through the
//! territory's normal-score transform `T(x) = F^-1(Phi(x))`. The argument x
//! mixes the trial's common shocks (company and region factors) with the
//! territory's own AR(1) noise, so territories move together the way the
//! history says they do (a Gaussian copula with a one-factor-per-level
//! structure) while each keeps its own fitted marginal law.
//!
//! A territory fitted with the compound (deals x size) law (see
//! [`compound`]) keeps the same level, season and mixed normal score, and
//! draws the period's deals instead of a residual ratio.
//!
//! The fitter (`fit`) builds these values; the simulator (`sim`) only reads them.

pub mod compound;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::calendar::Calendar;
use crate::stats::dist::Fitted;
use crate::stats::quantile::sorted_quantile;
use crate::stats::special::{norm_cdf, norm_ppf};
pub use compound::CompoundLaw;

/// Grid of the normal-score table: x from -X_MAX to X_MAX.
const X_MAX: f64 = 6.0;
/// Points per unit of x in the normal-score table.
const PER_UNIT: f64 = 40.0;
const GRID: usize = (2.0 * X_MAX * PER_UNIT) as usize + 1;

/// The positive part of a residual law.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PositivePart {
    /// A parametric family fitted by maximum likelihood.
    Parametric(Fitted),
    /// The observed ratios themselves (sorted), interpolated.
    Empirical { sorted: Vec<f64> },
}

impl PositivePart {
    fn quantile(&self, u: f64) -> f64 {
        match self {
            PositivePart::Parametric(f) => f.quantile(u),
            PositivePart::Empirical { sorted } => sorted_quantile(sorted, u),
        }
    }

    /// CDF of the positive part.
    pub fn cdf(&self, x: f64) -> f64 {
        match self {
            PositivePart::Parametric(f) => f.cdf(x),
            PositivePart::Empirical { sorted } => empirical_cdf(sorted, x),
        }
    }

    /// The model name used in `fit.csv`.
    pub fn name(&self) -> &'static str {
        match self {
            PositivePart::Parametric(f) => f.family.name(),
            PositivePart::Empirical { .. } => "empirical",
        }
    }
}

/// Interpolated CDF of a sorted sample (inverse of type-7 quantiles).
fn empirical_cdf(sorted: &[f64], x: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.5;
    }
    if x <= sorted[0] {
        return 0.0;
    }
    if x >= sorted[n - 1] {
        return 1.0;
    }
    let i = sorted.partition_point(|&v| v <= x);
    let (a, b) = (sorted[i - 1], sorted[i]);
    let frac = if b > a { (x - a) / (b - a) } else { 0.0 };
    ((i - 1) as f64 + frac) / (n - 1) as f64
}

/// The law of a territory's residual ratio (actual / expected): with
/// probability `p0` a non-positive period (zero or net credits) drawn from
/// the observed non-positive ratios, otherwise the positive part.
#[derive(Debug, Clone, Serialize)]
pub struct ResidualLaw {
    pub p0: f64,
    pub nonpositive: Vec<f64>,
    pub positive: PositivePart,
    #[serde(skip)]
    table: Vec<f64>,
}

impl ResidualLaw {
    /// A law from its parts; tabulates the normal-score transform.
    pub fn new(p0: f64, mut nonpositive: Vec<f64>, positive: PositivePart) -> Self {
        nonpositive.sort_by(f64::total_cmp);
        let mut law = Self {
            p0,
            nonpositive,
            positive,
            table: Vec::new(),
        };
        law.table = (0..GRID)
            .map(|i| law.quantile(norm_cdf(i as f64 / PER_UNIT - X_MAX)))
            .collect();
        law
    }

    /// Quantile function of the whole law.
    pub fn quantile(&self, u: f64) -> f64 {
        let u = u.clamp(1e-12, 1.0 - 1e-12);
        if u < self.p0 {
            if self.nonpositive.is_empty() {
                0.0
            } else {
                sorted_quantile(&self.nonpositive, u / self.p0)
            }
        } else {
            self.positive
                .quantile(((u - self.p0) / (1.0 - self.p0)).clamp(1e-12, 1.0 - 1e-12))
        }
    }

    /// CDF of the whole law (mid-mass for values inside the non-positive part).
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 && self.p0 > 0.0 {
            let f = if self.nonpositive.len() > 1 {
                empirical_cdf(&self.nonpositive, x)
            } else {
                0.5
            };
            self.p0 * f
        } else {
            self.p0 + (1.0 - self.p0) * self.positive.cdf(x)
        }
    }

    /// The normal score of ratio `x`: Phi^-1(F(x)), clamped to the table's range.
    pub fn normal_score(&self, x: f64) -> f64 {
        norm_ppf(self.cdf(x).clamp(1e-4, 1.0 - 1e-4))
    }

    /// `F^-1(Phi(x))` by linear interpolation in the precomputed table.
    #[inline]
    pub fn transform(&self, x: f64) -> f64 {
        let pos = ((x + X_MAX) * PER_UNIT).clamp(0.0, (GRID - 1) as f64 - 1e-9);
        let i = pos as usize;
        let frac = pos - i as f64;
        let a = self.table[i];
        a + frac * (self.table[i + 1] - a)
    }

    /// The law with its spread around its mean multiplied by `factor`
    /// (`R' = mean + factor (R - mean)`): how the fitter undoes the
    /// shrinking of in-sample residuals by the parameters fitted to them.
    /// The table alone changes; the fitted parts, reported in `fit.csv`,
    /// stay as estimated.
    pub fn widened(mut self, factor: f64) -> Self {
        if (factor - 1.0).abs() > 1e-12 {
            let m = self.mean();
            for v in &mut self.table {
                *v = m + factor * (*v - m);
            }
        }
        self
    }

    /// Mean of the law, from the table (used to check E[R] close to 1).
    pub fn mean(&self) -> f64 {
        self.expectation(|r| r)
    }

    /// Variance of the law, from the table.
    pub fn variance(&self) -> f64 {
        let m = self.mean();
        self.expectation(|r| (r - m) * (r - m))
    }

    /// E[f(T(Z))] for standard normal Z, by the trapezoid rule on the
    /// table's grid.
    fn expectation(&self, f: impl Fn(f64) -> f64) -> f64 {
        let dx = 1.0 / PER_UNIT;
        let weight = |i: usize| {
            let x = i as f64 / PER_UNIT - X_MAX;
            (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
        };
        let inner: f64 = (1..GRID - 1).map(|i| f(self.table[i]) * weight(i)).sum();
        let ends =
            0.5 * (f(self.table[0]) * weight(0) + f(self.table[GRID - 1]) * weight(GRID - 1));
        (inner + ends) * dx
    }
}

impl Distribution<f64> for ResidualLaw {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let z: f64 = StandardNormal.sample(rng);
        self.transform(z)
    }
}

/// Level and slope of one trial, drawn from their estimated law.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathParams {
    pub level: f64,
    pub slope: f64,
}

/// Estimated joint normal law of (level at the origin, slope per period),
/// and the level's random-walk drift per period (local level model).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelLaw {
    pub level: f64,
    pub slope: f64,
    /// Covariance [[var level, cov], [cov, var slope]].
    pub cov: [[f64; 2]; 2],
    /// Standard deviation of the level's change per period (0: a stable level).
    pub drift_sd: f64,
}

impl LevelLaw {
    /// A known level with no trend, uncertainty or drift.
    pub fn fixed(level: f64) -> Self {
        Self {
            level,
            slope: 0.0,
            cov: [[0.0, 0.0], [0.0, 0.0]],
            drift_sd: 0.0,
        }
    }
}

impl LevelLaw {
    /// The trial's level and slope from two standard normal scores (the
    /// caller mixes common and own parts, so that territories' parameter
    /// errors are correlated the way their noise is).
    pub fn at_scores(&self, z: [f64; 2]) -> PathParams {
        let l11 = self.cov[0][0].max(0.0).sqrt();
        let l21 = if l11 > 0.0 { self.cov[1][0] / l11 } else { 0.0 };
        let l22 = (self.cov[1][1] - l21 * l21).max(0.0).sqrt();
        PathParams {
            level: self.level + l11 * z[0],
            slope: self.slope + l21 * z[0] + l22 * z[1],
        }
    }

    /// The same law with its parameter covariance scaled by `factor`.
    pub fn with_cov_scaled(mut self, factor: f64) -> Self {
        for row in &mut self.cov {
            for v in row {
                *v *= factor;
            }
        }
        self
    }
}

impl Distribution<PathParams> for LevelLaw {
    /// Independent parameter draw (no common part).
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> PathParams {
        let z1: f64 = StandardNormal.sample(rng);
        let z2: f64 = StandardNormal.sample(rng);
        self.at_scores([z1, z2])
    }
}

/// Fit diagnostics of one territory, as reported in `fit.csv`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnostics {
    pub model: String,
    pub params: serde_json::Value,
    pub loglik: Option<f64>,
    pub aic: Option<f64>,
    pub bic: Option<f64>,
    pub gof_name: Option<String>,
    pub gof_stat: Option<f64>,
    pub runner_up: Option<String>,
    pub runner_up_ic: Option<f64>,
    pub trend: bool,
    pub seasonal: bool,
    pub pooled: bool,
    /// Periods capped as outliers when estimating level and trend.
    pub outliers: usize,
    /// Factor by which the residual spread and the parameter standard
    /// deviations were widened for the degrees of freedom the fit used
    /// (1: none).
    pub spread: f64,
    /// The series the fit saw (revenue per period, or per reporting date)
    /// and the fitted mean of each of its periods (level path x season x
    /// mean ratio), for the fitted-vs-actual plot.
    #[serde(skip)]
    pub actual: Vec<f64>,
    #[serde(skip)]
    pub fitted: Vec<f64>,
}

/// The fitted model of one territory.
#[derive(Debug, Clone, Serialize)]
pub struct TerritoryModel {
    pub name: String,
    pub region: String,
    /// Index of the region in `FittedModels::regions`.
    pub region_index: usize,
    /// Periods of history the fit used.
    pub n_periods: usize,
    pub level: LevelLaw,
    /// Seasonal index by position in the year (mean 1).
    pub season: Vec<f64>,
    pub residual: ResidualLaw,
    /// The compound (deals x size) law, when it was chosen over the residual law.
    pub compound: Option<CompoundLaw>,
    pub diagnostics: Diagnostics,
}

/// Per-trial inputs shared by all territories of a region in one period.
#[derive(Debug, Clone, Copy)]
pub struct Loadings {
    /// Weight of the company factor.
    pub company: f64,
    /// Weight of the region factor.
    pub region: f64,
    /// Weight of the territory's own noise.
    pub own: f64,
    /// AR(1) coefficient of the territory's own noise.
    pub own_ar: f64,
    /// Weight of the company's level drift in each territory's level drift.
    pub drift_common: f64,
}

impl TerritoryModel {
    /// Expected revenue in horizon period `h` given the trial's parameters,
    /// before the residual ratio.
    #[inline]
    pub fn base(&self, p: &PathParams, h: usize, season_pos: usize) -> f64 {
        (p.level + p.slope * h as f64).max(0.0) * self.season[season_pos]
    }

    /// Write one trial's path into `out` (one value per horizon period).
    /// `common[h]` is the trial's combined common shock (company and region
    /// factors, already weighted); `common_drift[h]` the company's standard
    /// normal level-drift innovation; `seasons[h]` the position in the year.
    #[allow(clippy::too_many_arguments)]
    pub fn sample_path<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        params: &PathParams,
        common: &[f64],
        common_drift: &[f64],
        seasons: &[usize],
        loadings: &Loadings,
        out: &mut [f64],
    ) {
        let innovation = (1.0 - loadings.own_ar * loadings.own_ar).sqrt();
        let drift = self.level.drift_sd;
        let own_drift = drift * (1.0 - loadings.drift_common * loadings.drift_common).sqrt();
        let common_weight = drift * loadings.drift_common;
        let mut level = params.level;
        let mut own: f64 = StandardNormal.sample(rng);
        let compound = self.compound.as_ref().map(|c| (c, c.sample(rng)));
        for h in 0..out.len() {
            if h > 0 {
                let e: f64 = StandardNormal.sample(rng);
                own = loadings.own_ar * own + innovation * e;
            }
            if drift > 0.0 {
                let e: f64 = StandardNormal.sample(rng);
                level += common_weight * common_drift[h] + own_drift * e;
            }
            let x = common[h] + loadings.own * own;
            let base = (level + params.slope * h as f64).max(0.0) * self.season[seasons[h]];
            out[h] = match &compound {
                Some((law, trial)) => law.sample_period(rng, trial, base, x),
                None => base * self.residual.transform(x),
            };
        }
    }
}

/// Estimation error of a group's seasonal profile: the Cholesky factor of
/// the covariance of its log seasonal coefficients (positions 1..s against
/// position 0). A trial draws the coefficients' errors once and every
/// territory of the group multiplies its indices by the same factors: a
/// profile estimated from two years is uncertain in the same way for all.
#[derive(Debug, Clone)]
pub struct SeasonError {
    /// The stream the errors are drawn from: groups sharing a profile share it.
    pub source: String,
    /// The estimated indices (mean 1).
    pub index: Vec<f64>,
    pub chol: Vec<Vec<f64>>,
}

impl SeasonError {
    /// Standard normal scores needed per trial.
    pub fn dim(&self) -> usize {
        self.chol.len()
    }

    /// Multipliers of the indices, by position, for the scores `z` (`dim()`
    /// of them): the indices with the errors added to their logs,
    /// renormalised to mean 1, over the estimated indices.
    pub fn multipliers(&self, z: &[f64], out: &mut [f64]) {
        out[0] = 1.0;
        for (i, row) in self.chol.iter().enumerate() {
            let e: f64 = row[..=i].iter().zip(z).map(|(l, z)| l * z).sum();
            out[i + 1] = e.exp();
        }
        let norm = self
            .index
            .iter()
            .zip(out.iter())
            .map(|(a, m)| a * m)
            .sum::<f64>()
            / self.index.len() as f64;
        out.iter_mut().for_each(|m| *m /= norm);
    }
}

/// How strongly territories move together.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ShockModel {
    /// Share of a territory's normal-score variance from the company factor.
    pub company_share: f64,
    /// Share from its region's factor.
    pub region_share: f64,
    /// AR(1) coefficient of the company and region factors.
    pub factor_ar: f64,
    /// AR(1) coefficient of each territory's own noise.
    pub own_ar: f64,
    /// Average pairwise correlation of territories' residual normal scores.
    pub mean_correlation: f64,
    /// Correlation of territories' level drifts (a company-wide drift).
    pub drift_correlation: f64,
}

impl ShockModel {
    /// Independent territories with no persistence.
    pub fn independent() -> Self {
        Self {
            company_share: 0.0,
            region_share: 0.0,
            factor_ar: 0.0,
            own_ar: 0.0,
            mean_correlation: 0.0,
            drift_correlation: 0.0,
        }
    }

    /// The loadings implied by this shock model.
    pub fn loadings(&self) -> Loadings {
        Loadings {
            company: self.company_share.sqrt(),
            region: self.region_share.sqrt(),
            own: (1.0 - self.company_share - self.region_share)
                .max(0.0)
                .sqrt(),
            own_ar: self.own_ar,
            drift_common: self.drift_correlation.clamp(0.0, 1.0).sqrt(),
        }
    }
}

/// All territories' fitted models: the output of `fit`, the input of `sim`.
#[derive(Debug, Clone, Serialize)]
pub struct FittedModels {
    #[serde(skip)]
    pub calendar: Calendar,
    /// Ordinal of horizon period h = 0 (the first period after the history used).
    pub origin: i64,
    pub regions: Vec<String>,
    pub territories: Vec<TerritoryModel>,
    pub shocks: ShockModel,
    /// Estimation error of each region's seasonal profile (`None`: no
    /// seasonality, or a profile known exactly), drawn once per trial and
    /// shared by the region's territories.
    #[serde(skip)]
    pub season_errors: Vec<Option<SeasonError>>,
    /// The data's reporting cadence: the models are per reporting date, and
    /// each simulated period is multiplied by its cadence factor.
    #[serde(skip)]
    pub cadence: Option<crate::cadence::Cadence>,
    pub warnings: Vec<String>,
}

impl FittedModels {
    /// Cadence factor of each of `n` horizon periods from the origin (all 1
    /// without a cadence).
    pub fn cadence_factors(&self, n: usize) -> Vec<f64> {
        (0..n as i64)
            .map(|h| {
                self.cadence
                    .map_or(1.0, |c| c.factor(&self.calendar, self.origin + h))
            })
            .collect()
    }

    /// Season position of each of `n` horizon periods from the origin.
    pub fn seasons(&self, n: usize) -> Vec<usize> {
        (0..n as i64)
            .map(|h| self.calendar.season_of(self.origin + h) % self.season_len())
            .collect()
    }

    /// Number of seasonal positions.
    pub fn season_len(&self) -> usize {
        self.calendar.kind.per_year()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::dist::Family;

    #[test]
    fn transform_matches_the_quantile_function() {
        let law = ResidualLaw::new(
            0.1,
            vec![0.0, -0.2],
            PositivePart::Parametric(Fitted {
                family: Family::LogNormal,
                params: [0.0, 0.4],
            }),
        );
        for &x in &[-2.5, -1.0, 0.0, 0.7, 1.9] {
            let exact = law.quantile(norm_cdf(x));
            assert!(
                (law.transform(x) - exact).abs() < 2e-3 * exact.abs().max(0.1),
                "x={x}"
            );
        }
    }

    #[test]
    fn empirical_cdf_inverts_type7_quantiles() {
        let s = vec![1.0, 2.0, 4.0, 8.0];
        for &u in &[0.0, 0.2, 0.5, 0.9, 1.0] {
            let x = sorted_quantile(&s, u);
            assert!((empirical_cdf(&s, x) - u).abs() < 1e-12);
        }
    }
}
