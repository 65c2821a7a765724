//! Fitted territory models: immutable values that can be sampled.
//!
//! A territory's revenue in horizon period h is `mu_h * season[position] *
//! R_h`, where mu_h is the deseasonalised mean of its exponential-smoothing
//! state (see [`crate::ets`]): `mu_h = (level + phi * slope) (1 + g_h)` (g_h
//! the region's growth for the group-share form, else 0; `level (1 +
//! slope)` for a compounding trend, whose slope is a rate), and after each
//! period the state moves with that period's innovation
//! `e_h = R_h / E[R] - 1`, E[R] the mean of an ordinary period (one-off
//! spikes left out; a drawn spike moves the state not at all:
//! [`ResidualLaw::ordinary_mean_and_quantile`]) and e_h at most the
//! ordinary law's 99.9% point (`level = mu_h (1 + alpha e_h)`, `slope = phi *
//! slope + beta mu_h e_h`, or `(1 + slope) (1 + beta e_h) - 1`: see
//! [`crate::ets::Smoothing`]), so one innovation moves the level (and trend)
//! for the rest of the horizon. The state at the origin is drawn once per
//! trial from its estimated joint normal law (parameter uncertainty), the
//! level's split at its estimate where the horizon total's calibrated
//! shift differs below and above it ([`LevelLaw::shift_var`]). R is
//! the residual ratio drawn through the territory's normal-score transform
//! `T(x) = F^-1(Phi(x))` (with a zero rate, its zero chance following the
//! period's expected amount, and with a variance power its spread:
//! [`ResidualLaw::transform_at`]). The argument
//! x mixes the trial's common shocks
//! (company and region factors) with the territory's own AR(1) noise, so
//! territories move together the way the history says they do (a Gaussian
//! copula with a one-factor-per-level structure) while each keeps its own
//! fitted marginal law.
//!
//! A territory fitted with the compound (deals x size) law (see
//! [`compound`]) keeps the same state, season and mixed normal score, and
//! draws the period's deals instead of a residual ratio.
//!
//! The residual law and its normal-score table are in `residual`
//! ([`ResidualLaw`]), the paths drawn from a territory's model in
//! `sampler` ([`PathSampler`]); this module holds the state's law, the
//! territory's model and the company's.
//!
//! The fitter (`fit`) builds these values; the simulator (`sim`) only reads them.

pub mod compound;
mod residual;
mod sampler;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::calendar::Calendar;
use crate::ets::Smoothing;
pub use compound::CompoundLaw;
pub use residual::{PositivePart, ResidualLaw, VariancePower, ZeroRate};
pub use sampler::{PathSampler, TrialScores};

/// Level and slope of one trial, drawn from their estimated law.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathParams {
    pub level: f64,
    pub slope: f64,
}

/// The exponential-smoothing state at the origin: the estimated joint
/// normal law of (level, slope: an amount per period, or a compounding
/// trend's rate), with the level's extra variance on each side of its
/// estimate (a split normal: the level's median stays the estimate), and
/// the smoothing weights with which the simulation moves it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelLaw {
    pub level: f64,
    pub slope: f64,
    /// Covariance [[var level, cov], [cov, var slope]] of the estimates
    /// (the level's without `shift_var`).
    pub cov: [[f64; 2]; 2],
    /// Extra variance of the level below and above its estimate: the
    /// horizon total's calibrated level shift, on each side as far as
    /// that side's misses asked (`fit::spread::TotalPlan`). The level's
    /// score keeps its sign, so the level's median stays where it is.
    pub shift_var: [f64; 2],
    /// Smoothing weights and damping of the state recursions (all zero: a
    /// level that never moves and no trend).
    pub smoothing: Smoothing,
}

impl LevelLaw {
    /// A known level with no trend, uncertainty or movement.
    pub fn fixed(level: f64) -> Self {
        Self {
            level,
            slope: 0.0,
            cov: [[0.0, 0.0], [0.0, 0.0]],
            shift_var: [0.0, 0.0],
            smoothing: Smoothing::FIXED,
        }
    }
}

impl LevelLaw {
    /// Cholesky factor of the covariance with the level shift's variance
    /// (a non-positive variance counts as zero): the level's standard
    /// deviation below and above its estimate, then l21 and l22 from the
    /// level's variance with the two sides' mean shift.
    pub fn cholesky(&self) -> LevelCholesky {
        let side = |shift: f64| (self.cov[0][0] + shift).max(0.0).sqrt();
        let l11 = side(0.5 * (self.shift_var[0] + self.shift_var[1]));
        let l21 = if l11 > 0.0 { self.cov[1][0] / l11 } else { 0.0 };
        LevelCholesky {
            below: side(self.shift_var[0]),
            above: side(self.shift_var[1]),
            l21,
            l22: (self.cov[1][1] - l21 * l21).max(0.0).sqrt(),
        }
    }

    /// The trial's level and slope from two standard normal scores (the
    /// caller mixes common and own parts, so that territories' parameter
    /// errors are correlated the way their noise is).
    pub fn at_scores(&self, z: [f64; 2]) -> PathParams {
        self.at_scores_with(self.cholesky(), z)
    }

    /// [`Self::at_scores`] with the Cholesky factor computed once by the
    /// caller (the simulation draws many trials from one law).
    #[inline]
    pub fn at_scores_with(&self, chol: LevelCholesky, z: [f64; 2]) -> PathParams {
        let l11 = if z[0] < 0.0 { chol.below } else { chol.above };
        PathParams {
            level: self.level + l11 * z[0],
            slope: self.slope + chol.l21 * z[0] + chol.l22 * z[1],
        }
    }

    /// The same law with its means scaled by `c` (level, an additive slope,
    /// and their covariance in proportion; a compounding trend's rate is
    /// unchanged by scale).
    pub fn with_mean_scaled(mut self, c: f64) -> Self {
        let slope_c = if self.smoothing.compounding { 1.0 } else { c };
        self.level *= c;
        self.slope *= slope_c;
        self.cov[0][0] *= c * c;
        self.shift_var = self.shift_var.map(|v| v * c * c);
        self.cov[0][1] *= c * slope_c;
        self.cov[1][0] *= c * slope_c;
        self.cov[1][1] *= slope_c * slope_c;
        self
    }

    /// The slope as an amount per period at the origin (a compounding
    /// trend's rate times its level).
    pub fn slope_per_period(&self) -> f64 {
        if self.smoothing.compounding {
            self.slope * self.level
        } else {
            self.slope
        }
    }

    /// The same law with its parameter covariance scaled by `factor`.
    pub fn with_cov_scaled(mut self, factor: f64) -> Self {
        for row in &mut self.cov {
            for v in row {
                *v *= factor;
            }
        }
        self.shift_var = self.shift_var.map(|v| v * factor);
        self
    }
}

/// [`LevelLaw::cholesky`]: the level's standard deviation on each side of
/// its estimate, and the slope's loadings on the level's and its own score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelCholesky {
    pub below: f64,
    pub above: f64,
    pub l21: f64,
    pub l22: f64,
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
    /// Factor by which the periods' spread (and, where above 1, the
    /// parameter standard deviations) were scaled for the degrees of
    /// freedom the fit used and the calibration (1: none; below 1 where
    /// cross-fitted errors narrowed the periods, the parameters keeping
    /// their estimated spread). Where a level shift is drawn, the
    /// residual law keeps the share `noise_kept` (in `params`) of that
    /// variance and the shift carries the rest.
    pub spread: f64,
    /// The level-and-trend model, as `ETS(M,Ad,M)` (error, trend, season).
    pub ets: String,
    /// How it was chosen: `rolling-origin CRPS` or `AICc`.
    pub chosen_by: String,
    /// Rolling-origin origins evaluated on the territory's history.
    pub origins: usize,
    /// Of those, the origins whose errors were measured with the weights
    /// chosen apart from them (`ets::crossfit`).
    pub origins_held_out: usize,
    /// The calibration factor of the simulated spread from the rolling-origin
    /// errors (none: not calibrated; the degrees-of-freedom correction applies).
    pub calibration: Option<f64>,
    /// The same for the horizon total (none: not calibrated).
    pub total_calibration: Option<f64>,
    /// The horizon total's factors below and above its median: the
    /// two-sided one moved by the side's own misses (`fit::skew`).
    pub total_calibration_sides: Option<[f64; 2]>,
    /// The series the fit saw (revenue per period, or per reporting date)
    /// and the fitted mean of each of its periods (level path x season x
    /// mean ratio), for the fitted-vs-actual plot.
    #[serde(skip)]
    pub actual: Vec<f64>,
    #[serde(skip)]
    pub fitted: Vec<f64>,
}

impl Diagnostics {
    /// The model as `fit.csv` and the report name it: the level-and-trend
    /// model and the law of the period's revenue around it, as
    /// `ETS(M,Ad,M)/gamma` (the law alone where no state model was fitted).
    pub fn label(&self) -> String {
        if self.ets.is_empty() {
            self.model.clone()
        } else {
            format!("{}/{}", self.ets, self.model)
        }
    }
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
    /// Seasonal index by position in the year (mean 1; over the positions
    /// it sells in, zero at those its company is closed in:
    /// `fit::offseason`).
    pub season: Vec<f64>,
    /// Standard deviation of the error of the territory's own log seasonal
    /// deviations (0: none), drawn once per trial and position and
    /// renormalised so that the indices' sum over the year is kept
    /// ([`TerritoryModel::own_season_multipliers`]).
    pub season_sd: f64,
    pub residual: ResidualLaw,
    /// The compound (deals x size) law, when it was chosen over the residual law.
    pub compound: Option<CompoundLaw>,
    /// The region's growth per horizon step that moves the mean (the
    /// group-share form; empty: none).
    pub growth: Vec<f64>,
    /// Further level-and-trend forms averaged with `level`: each trial
    /// draws its form with these weights (`level` takes the rest).
    pub alternatives: Vec<AlternativeLevel>,
    pub diagnostics: Diagnostics,
}

/// A level-and-trend form averaged with a territory's first one.
#[derive(Debug, Clone, Serialize)]
pub struct AlternativeLevel {
    /// Share of the trials drawn from this form.
    pub weight: f64,
    pub level: LevelLaw,
    /// As [`TerritoryModel::growth`].
    pub growth: Vec<f64>,
}

/// A form's deseasonalised mean `h` periods after the origin.
fn form_mean(l: &LevelLaw, growth: &[f64], h: usize) -> f64 {
    let grown = crate::ets::growth_factor(growth, h);
    (l.smoothing.mean_ahead(l.level, l.slope, h) * grown).max(0.0)
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
}

impl TerritoryModel {
    /// The multipliers of the territory's seasonal indices by position for
    /// one trial's standard normal scores `z` (one per position): each
    /// index's log moved by `season_sd` times its score, then all scaled so
    /// that the indices' sum over the year is the estimated one. A period
    /// is uncertain by its own deviation's error; a whole year's total is
    /// not, as the deviations' errors cancel over it.
    pub fn own_season_multipliers(&self, z: &[f64], out: &mut [f64]) {
        for (m, z) in out.iter_mut().zip(z) {
            *m = (self.season_sd * z).exp();
        }
        keep_year_total(&self.season, out);
    }

    /// The deseasonalised mean `h` periods after the origin with no
    /// innovations (before the season and the residual ratio's mean),
    /// averaged over the forms with their weights, at the level's estimate
    /// (its median; a level shift wider on one side moves the simulated
    /// mean off it). For a company with a closed season (`fit::offseason`)
    /// `h` counts the periods it sells in: its state steps only in those.
    pub fn expected(&self, h: usize) -> f64 {
        let others: f64 = self.alternatives.iter().map(|a| a.weight).sum();
        (1.0 - others) * form_mean(&self.level, &self.growth, h)
            + self
                .alternatives
                .iter()
                .map(|a| a.weight * form_mean(&a.level, &a.growth, h))
                .sum::<f64>()
    }

    /// Every form with its weight: `level` first.
    fn forms(&self) -> impl Iterator<Item = (f64, &LevelLaw, &[f64])> {
        let others: f64 = self.alternatives.iter().map(|a| a.weight).sum();
        std::iter::once((1.0 - others, &self.level, self.growth.as_slice())).chain(
            self.alternatives
                .iter()
                .map(|a| (a.weight, &a.level, a.growth.as_slice())),
        )
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
    /// Each position of the year's entry in `index`, when the profile was
    /// fitted on a company's selling positions alone (`fit::offseason`;
    /// the closed ones take any: their index is zero); `None`: the
    /// position itself.
    pub slots: Option<Vec<usize>>,
}

impl SeasonError {
    /// The entry of `index` that position `m` of the year reads.
    pub fn slot(&self, m: usize) -> usize {
        self.slots.as_ref().map_or(m, |s| s[m])
    }

    /// Standard normal scores needed per trial.
    pub fn dim(&self) -> usize {
        self.chol.len()
    }

    /// Multipliers of the indices, by position, for the scores `z` (`dim()`
    /// of them): the indices with the errors added to their logs,
    /// renormalised to the estimated indices' sum, over the estimated
    /// indices.
    pub fn multipliers(&self, z: &[f64], out: &mut [f64]) {
        out[0] = 1.0;
        for (i, row) in self.chol.iter().enumerate() {
            let e: f64 = row[..=i].iter().zip(z).map(|(l, z)| l * z).sum();
            out[i + 1] = e.exp();
        }
        keep_year_total(&self.index, out);
    }
}

/// Scale the multipliers of a seasonal `index` (by position) so that the
/// index's sum over the year is the estimated one: a profile's errors move
/// the months, not the year (closed positions, at zero, weigh nothing).
fn keep_year_total(index: &[f64], multipliers: &mut [f64]) {
    let total: f64 = index.iter().sum();
    let moved: f64 = index
        .iter()
        .zip(multipliers.iter())
        .map(|(a, m)| a * m)
        .sum();
    if total > 0.0 && moved > 0.0 {
        let norm = total / moved;
        multipliers.iter_mut().for_each(|m| *m *= norm);
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
    /// Weight of each earlier year in the seasonal profiles relative to the
    /// year after it (1: every year alike), chosen by `fit`.
    pub season_discount: f64,
    /// The smoothing weights the company's territories together favour for
    /// a local level and for a share of the region (the modes of the
    /// priors on alpha, `ets::prior`); `None` without a prior.
    pub alpha_prior: AlphaPriorModes,
    /// The factor on every form's smoothing weights in the simulation:
    /// how far the innovations' persistence is carried, from how a plain
    /// local level's rolling-origin errors grew over the horizon (`fit`'s
    /// `persistence_factor`; 1: as fitted).
    pub persistence: f64,
    /// The company's variance power: how a period's relative spread
    /// follows its expected amount (`fit::power`; `None`: as fitted).
    pub variance_power: Option<f64>,
    pub warnings: Vec<String>,
}

/// The modes of the priors on the smoothing weight alpha, for a territory
/// of the pool's median noise (a noisier territory's is smaller:
/// `ets::prior`).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AlphaPriorModes {
    pub level: Option<f64>,
    pub share: Option<f64>,
    /// What each prior is worth, in periods of one territory
    /// (`ets::prior`).
    pub level_weight: Option<f64>,
    pub share_weight: Option<f64>,
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
