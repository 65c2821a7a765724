//! A fitted candidate ([`EtsFit`]) and the moments of its forecast: the
//! mean h periods ahead, the relative variance of a period and of a total
//! (split by what a persistence factor scales), and the estimation
//! variance of the level and slope.

use serde::Serialize;

use super::{growth_factor, Form, Smoothing};

/// A fitted candidate.
#[derive(Debug, Clone, Serialize)]
pub struct EtsFit {
    pub form: Form,
    pub smoothing: Smoothing,
    /// Level and slope after the last period (the forecast origin's state).
    pub level: f64,
    pub slope: f64,
    /// Relative innovation variance: sum e^2 / (n - the form's
    /// [`Form::variance_parameters`]).
    pub sigma2: f64,
    /// One-step-ahead means mu_t over the history.
    #[serde(skip)]
    pub fitted: Vec<f64>,
    /// The group's growth over the horizon (group-share form only; empty
    /// otherwise).
    pub growth: Vec<f64>,
    /// The optimiser's coordinates at the optimum (tests and
    /// diagnostics).
    #[serde(skip)]
    pub coords: Vec<f64>,
    pub n: usize,
    /// Periods in a year (a compounding rate's bound; kept for refits).
    #[serde(skip)]
    pub per_year: usize,
    pub aicc: f64,
    pub bic: f64,
    /// The floor of the level and of the means.
    #[serde(skip)]
    pub floor: f64,
}

impl EtsFit {
    /// Mean of the deseasonalised series `h` periods after the origin (h = 0
    /// is the first forecast period).
    pub fn mean_at(&self, h: usize) -> f64 {
        let grown = growth_factor(&self.growth, h);
        let path = self.smoothing.mean_ahead(self.level, self.slope, h);
        (path * self.compounding_convexity(h) * grown).max(self.floor)
    }

    /// How far a compounding trend's mean `h` periods ahead lies above its
    /// path with no innovations (1 for the other forms): the innovation of
    /// k periods before moves that mean by (1 + alpha e)(1 + beta e)^k,
    /// whose expectation is 1 + sigma^2 (k alpha beta + k (k - 1) / 2
    /// beta^2) to second order (a rate shock compounds), so the simulated
    /// paths' mean is the product over k = 1..h. The forecasts are scored
    /// and calibrated at this mean, the simulation's own but for one
    /// term: the rate's estimation variance v, drawn once per trial, lifts
    /// the paths' mean by E[(1 + r)^(h + 1)], 1 + h (h + 1) v / 2 to
    /// second order, which is left out (a held rate's v = alpha^2 sigma^2
    /// / n: about 0.5% by month 12 for alpha 0.5, sigma 10%, n 36).
    /// Including it was measured in session 19 and moved only Superstore
    /// (regions' coverage at one origin 0.771 -> 0.750, one cell in 48;
    /// the zoo by 0.001 on one series).
    fn compounding_convexity(&self, h: usize) -> f64 {
        let s = &self.smoothing;
        if !s.compounding {
            return 1.0;
        }
        (1..=h)
            .map(|k| {
                let k = k as f64;
                1.0 + self.sigma2 * (k * s.alpha * s.beta + 0.5 * k * (k - 1.0) * s.beta * s.beta)
            })
            .product()
    }

    /// Relative forecast variance `h` periods after the origin: sigma^2 (1 +
    /// sum of c_j^2), c_j = alpha + beta (phi + ... + phi^j) (the linear
    /// approximation of the multiplicative model), plus the estimation
    /// variance of a stable level (sigma^2 / n) or of a slope
    /// ([`Self::parameter_variance`]).
    pub fn relative_variance(&self, h: usize) -> f64 {
        let [still, moving] = self.variance_parts(h);
        still + moving
    }

    /// [`Self::relative_variance`] in two parts: `[rest, persistence]`,
    /// the period's own noise and the estimation variance, then what the
    /// innovations' persistence adds (sigma^2 sum of c_j^2, which a factor
    /// r on alpha and beta scales by r^2; for the compounding form to
    /// first order: its convexity, in the mean, is the fitted one's).
    pub fn variance_parts(&self, h: usize) -> [f64; 2] {
        let s = &self.smoothing;
        let mut sum = 0.0;
        for j in 1..=h {
            let c = s.alpha + s.beta * s.slope_weight(j);
            sum += c * c;
        }
        let (level_var, slope_var) = self.parameter_variance();
        let w = s.slope_weight(h + 1);
        [
            self.sigma2 + level_var + w * w * slope_var,
            self.sigma2 * sum,
        ]
    }

    /// The means of the first `weights.len()` periods after the origin, each
    /// multiplied by its weight (its seasonal index).
    pub fn weighted_means(&self, weights: &[f64]) -> Vec<f64> {
        weights
            .iter()
            .enumerate()
            .map(|(h, w)| self.mean_at(h) * w)
            .collect()
    }

    /// Standard deviation of the total of the first `weights.len()` periods
    /// after the origin, each period's mean multiplied by its weight (its
    /// seasonal index): the innovations' part
    /// ([`Self::total_variance_parts`]) plus the level's and slope's
    /// estimation variance.
    pub fn total_sd(&self, weights: &[f64]) -> f64 {
        self.total_variance_parts(weights)
            .iter()
            .sum::<f64>()
            .sqrt()
    }

    /// The variance of the total of [`Self::total_sd`] as a quadratic in a
    /// factor r on alpha and beta: `[a0, a1, a2]`, Var(r) = a0 + a1 r +
    /// a2 r^2. The innovation of step j reaches every later step h through
    /// r c_(h-j) (see [`Self::relative_variance`]), so the innovations give
    /// sigma^2 sum_j (m_j + r R_j)^2, R_j = sum_(h>j) m_h c_(h-j); the
    /// level's and slope's estimation variance is in a0.
    pub fn total_variance_parts(&self, weights: &[f64]) -> [f64; 3] {
        let s = &self.smoothing;
        let m = self.weighted_means(weights);
        let c = |k: usize| s.alpha + s.beta * s.slope_weight(k);
        let [mut own, mut cross, mut reached] = [0.0; 3];
        for j in 0..m.len() {
            let r: f64 = (j + 1..m.len()).map(|h| m[h] * c(h - j)).sum();
            own += m[j] * m[j];
            cross += 2.0 * m[j] * r;
            reached += r * r;
        }
        [
            self.sigma2 * own + self.total_estimation_variance(&m),
            self.sigma2 * cross,
            self.sigma2 * reached,
        ]
    }

    /// The part of the total's variance (`total_variance_parts`' a0) from
    /// the level's and slope's estimation error, for the periods' means
    /// `m` (`weighted_means`): drawn with the state at the origin, not with
    /// the innovations.
    pub fn total_estimation_variance(&self, m: &[f64]) -> f64 {
        let (level_var, slope_var) = self.parameter_variance();
        let total: f64 = m.iter().sum();
        let sloped: f64 = m
            .iter()
            .enumerate()
            .map(|(h, v)| v * self.smoothing.slope_weight(h + 1))
            .sum();
        level_var * total * total + slope_var * sloped * sloped
    }

    /// Relative estimation variance of the level and of the slope per period
    /// (relative to the level squared for an amount; a compounding rate's
    /// own variance).
    /// The level at the origin weighs the estimated initial level by
    /// (1 - alpha)^n: with a small alpha it is nearly the history's mean,
    /// as uncertain as a stable level's (sigma^2 / n), and with a large one
    /// the data alone, which the innovations already cover. A slope is a
    /// global one's (12 sigma^2 / n^3), and a held one also a drift's
    /// (alpha^2 sigma^2 / n: the mean of the level's n moves).
    pub fn parameter_variance(&self) -> (f64, f64) {
        let n = self.n.max(2) as f64;
        let carried = (1.0 - self.smoothing.alpha).powf(2.0 * n);
        let level = carried * self.sigma2 / n;
        let slope = if self.form.has_trend() {
            let global = 12.0 * self.sigma2 / (n * n * n);
            // A held slope is the drift of the level's random walk: the
            // mean of its n moves, each of relative variance alpha^2
            // sigma^2.
            let drift = if self.form.is_held() {
                self.smoothing.alpha * self.smoothing.alpha * self.sigma2 / n
            } else {
                0.0
            };
            global + drift
        } else {
            0.0
        };
        (level, slope)
    }
}
