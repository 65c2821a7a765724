//! Exponential smoothing in innovations state-space form (Hyndman, Koehler,
//! Ord and Snyder 2008, "Forecasting with Exponential Smoothing"), on a
//! territory's deseasonalised series a_t = y_t / s_t (the seasonal indices
//! are pooled across the region: see `fit`).
//!
//! Error multiplicative, trend none, additive, damped or compounding
//! (ETS(M,N), ETS(M,A), ETS(M,Ad), ETS(M,M)), plus two forms that borrow from elsewhere: the stable level
//! (ETS(M,N) with alpha = 0: the long-run mean, the right model for a
//! history of noise) and the group-share level (ETS(M,N) on the
//! territory's share of its region: its level moves with the region's
//! smoothed level path, g_t being the path's growth in period t, and its
//! forecast grows as the region's forecast does; shrinkage of the trend
//! toward the group, for territories too sparse or short to show their
//! own). The linear and compounding trends also come with their slope
//! held (beta = 0: [`Form::Drift`], [`Form::Rate`]), candidates of a
//! territory (`select`) and of a region's growth path (`growth`) given
//! three seasons of history ([`Form::holds_slope_over`]). With mu_t = (l + phi b)(1 + g_t) (g = 0
//! but for the group share):
//!
//! ```text
//! a_t = mu_t (1 + e_t)
//! l_t = mu_t (1 + alpha e_t)
//! b_t = phi b_(t-1) + beta mu_t e_t
//! ```
//!
//! The compounding trend carries its slope as a growth rate r (Taylor
//! 2003; Hyndman et al. 2008, ch. 2): mu_t = l (1 + r) (1 + g_t), r_t =
//! (1 + r_(t-1)) (1 + beta e_t) - 1. Why: a market growing by a steady rate
//! adds more each year, and an additive slope carried forward as an amount
//! (the more so when maximum likelihood puts its beta near 0, as it tends
//! to) grows less each year in relative terms, so growing markets were
//! forecast low. Its relative forecast variance is the additive trend's
//! with phi = 1 (an innovation at step j moves the mean h steps on by
//! alpha + beta (h - j), to first order), so the variance formulas below
//! serve both.
//!
//! Parameters and initial states are estimated by maximum likelihood
//! (concentrated: n/2 ln(sum e^2) + sum ln mu_t) with Nelder–Mead on
//! logistic-mapped parameters: 0 < beta < alpha < 1, 0.8 <= phi <= 0.98
//! (the R `forecast` package's bounds; beta = 0 for the held slopes). The simulation (`model`) runs the
//! same recursions with drawn innovations, so one innovation moves the
//! level and trend for the rest of the horizon.

pub mod crossfit;
pub mod growth;
mod lanes;
pub mod pool;
pub mod prior;
pub mod select;

use serde::Serialize;

use crate::stats::quantile::mean;
use prior::FormPriors;

/// Smallest damping; the largest is `PHI_MAX`.
const PHI_MIN: f64 = 0.8;
const PHI_MAX: f64 = 0.98;
/// Smoothing weights stay inside (ALPHA_MIN, 1 - ALPHA_MIN).
const ALPHA_MIN: f64 = 1e-4;
/// Evaluations allowed per parameter of a fit.
const EVALS_PER_PARAM: usize = 120;
/// A full fit stops when its simplex's log-likelihoods agree to this. A
/// likelihood ratio of e^0.00001 tells no two parameter values apart (the
/// comparisons that matter, AICc's and a likelihood-ratio test's, are in
/// whole units), so a tighter tolerance only spends evaluations: 1e-7
/// until 2026-12-06 (session 13), a quarter more of the full fits'
/// evaluations; with this and the refits' tolerance below, the zoo's
/// pooled figures did not move and no panel's pinball by more than 0.006
/// (README, The model, item 3).
const FIT_TOLERANCE: f64 = 1e-5;
/// A rolling origin's refit stops when its simplex's log-likelihoods agree
/// to this: the refits' forecasts score the forms and their errors
/// calibrate the spread, and a thousandth of a log-likelihood unit moves
/// a forecast by far less than its error; most of the fit's time is in
/// these refits. It was 1e-4 until 2026-12-06 (session 13): 1e-3 takes a
/// fifth of their evaluations off.
const REFIT_TOLERANCE: f64 = 1e-3;
/// The level never falls below this share of the series' mean level (a
/// multiplicative model needs a positive level; a run of zeros or credits
/// would otherwise drive it through zero).
const LEVEL_FLOOR: f64 = 1e-3;

/// Fewest seasons of history for the held slopes ([`Form::holds_slope_over`]).
const HELD_SLOPE_SEASONS: usize = 3;
/// The coordinate of the linear and compounding trends' slope smoothing
/// (beta over alpha), which the held slopes do not have.
const HELD_BETA_COORD: usize = 1;

/// The level-and-trend form of a candidate model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// A stable level (alpha = 0): the long-run mean.
    Mean,
    /// A local level: ETS(M,N).
    Level,
    /// A damped local trend: ETS(M,Ad).
    Damped,
    /// A local linear trend: ETS(M,A).
    Trend,
    /// A local compounding trend: ETS(M,M), the slope a growth rate.
    Compounding,
    /// A local share of the group: ETS(M,N) moved by the group's level path.
    Group,
    /// A linear trend whose slope is held at its fitted value (ETS(M,A)
    /// with beta = 0: a random walk with drift in state-space form), a
    /// candidate beside [`Form::Trend`] (`select`, `growth`): a series that
    /// has grown steadily for years keeps growing at that rate, where a
    /// smoothed slope would read a few flat months as growth that
    /// stopped.
    Drift,
    /// A compounding trend whose rate is held at its fitted value (ETS(M,M)
    /// with beta = 0), beside [`Form::Compounding`] as [`Form::Drift`] is
    /// beside [`Form::Trend`].
    Rate,
}

impl Form {
    /// Every territory candidate, simplest first but for the held slopes
    /// (fitted only with [`Form::holds_slope_over`] seasons of history).
    pub const ALL: [Form; 8] = [
        Form::Mean,
        Form::Level,
        Form::Group,
        Form::Damped,
        Form::Trend,
        Form::Compounding,
        Form::Drift,
        Form::Rate,
    ];

    /// The form's name in `fit.csv`'s params: as the serialised form.
    pub fn name(self) -> &'static str {
        match self {
            Form::Mean => "mean",
            Form::Level => "level",
            Form::Damped => "damped",
            Form::Trend => "trend",
            Form::Compounding => "compounding",
            Form::Group => "group",
            Form::Drift => "drift",
            Form::Rate => "rate",
        }
    }

    /// The trend letter of the ETS taxonomy.
    pub fn trend_code(self) -> &'static str {
        match self {
            Form::Mean | Form::Level => "N",
            Form::Group => "G",
            Form::Damped => "Ad",
            Form::Trend | Form::Drift => "A",
            Form::Compounding | Form::Rate => "M",
        }
    }

    /// Parameters the likelihood estimates (smoothing weights, initial
    /// states and the innovation variance), for AICc.
    pub fn n_params(self) -> usize {
        match self {
            Form::Mean => 2,
            Form::Level | Form::Group => 3,
            Form::Damped => 6,
            Form::Trend | Form::Compounding => 5,
            Form::Drift | Form::Rate => 4,
        }
    }

    /// The parameters the one-step variance `EtsFit::sigma2` is divided
    /// for: every parameter but the variance itself (it divides the
    /// squared errors by n less these).
    pub fn variance_parameters(self) -> usize {
        self.n_params() - 1
    }

    /// The smoothed form whose parameter map and start a form shares: a
    /// held slope's smoothed trend ([`Form::Trend`] for [`Form::Drift`],
    /// [`Form::Compounding`] for [`Form::Rate`]), every other form itself.
    pub fn family(self) -> Form {
        match self {
            Form::Drift => Form::Trend,
            Form::Rate => Form::Compounding,
            other => other,
        }
    }

    /// Whether a history of `n` periods, with seasons of `season_len`, is
    /// long enough for the held slopes: `HELD_SLOPE_SEASONS` seasons. A
    /// held slope is a drift read off the whole history; over two years a
    /// level's wander is most of what a slope would read, and the
    /// rolling origins (each after a season of training) are too few and
    /// too short to tell (the synthetic short panel, a wandering level
    /// forecast from 24 months: year coverage 0.762 -> 0.688 with held
    /// slopes, 0.762 without).
    pub fn holds_slope_over(n: usize, season_len: usize) -> bool {
        n >= HELD_SLOPE_SEASONS * season_len.max(1)
    }

    /// Whether the form holds its slope ([`Form::Drift`], [`Form::Rate`]).
    pub fn is_held(self) -> bool {
        self.family() != self
    }

    fn has_trend(self) -> bool {
        matches!(
            self,
            Form::Damped | Form::Trend | Form::Compounding | Form::Drift | Form::Rate
        )
    }
}

/// Smoothing weights and damping.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Smoothing {
    pub alpha: f64,
    pub beta: f64,
    /// Damping of the trend (1 for an undamped trend, 0 without a trend).
    pub phi: f64,
    /// Whether the slope is a growth rate ([`Form::Compounding`],
    /// [`Form::Rate`]) rather than an amount per period.
    pub compounding: bool,
    /// A compounding rate's lowest and highest values, e^-B - 1 and
    /// e^B - 1 for its bound B on the log scale ([`rate_limits`]); zero for
    /// the forms whose slope is an amount. Kept as rates so that the recursions, which hold
    /// the rate within them every period, need no `exp`.
    pub rate_limits: [f64; 2],
}

/// The group's growth per period, for the group-share form: over the
/// history the territory is fitted on (one per period) and over the
/// forecast horizon (one per step). Missing periods count as no growth.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Growth {
    pub history: Vec<f64>,
    pub forecast: Vec<f64>,
}

impl Growth {
    /// No growth.
    pub fn none() -> Self {
        Self::default()
    }

    fn history_at(&self, t: usize) -> f64 {
        self.history.get(t).copied().unwrap_or(0.0)
    }

    /// The same growth seen by a series that starts at period `start` of
    /// the history (a territory that began selling later than its group):
    /// its first period, like any series' first, has no growth before it.
    pub fn since(&self, start: usize) -> Self {
        let mut history = self.history.get(start..).unwrap_or_default().to_vec();
        if let Some(first) = history.first_mut() {
            *first = 0.0;
        }
        Self {
            history,
            forecast: self.forecast.clone(),
        }
    }
}

/// Growth factor from the origin's state to forecast step `h` under the
/// group's forecast growth `forecast` (one per step, missing steps none):
/// the product of (1 + g) over steps 0..=h.
pub fn growth_factor(forecast: &[f64], h: usize) -> f64 {
    (0..=h)
        .map(|j| 1.0 + forecast.get(j).copied().unwrap_or(0.0))
        .product()
}

/// The fastest a compounding trend's rate may grow or shrink a series
/// over a year: doubling or halving. It bounds a simulated path (a rate
/// shock compounds over the horizon, so an unbounded rate can explode a
/// weekly series) and keeps the optimiser off absurd rates; a market
/// more than doubling a year is still followed by the additive trend.
const MAX_YEAR_FACTOR: f64 = 2.0;

/// The compounding rate's bound on the log scale for a calendar of
/// `per_year` periods: ln(MAX_YEAR_FACTOR) / per_year.
pub fn rate_bound(per_year: usize) -> f64 {
    MAX_YEAR_FACTOR.ln() / per_year.max(1) as f64
}

/// The rates a compounding trend stays within for the bound `b` on
/// ln(1 + r): e^-b - 1 and e^b - 1.
pub fn rate_limits(b: f64) -> [f64; 2] {
    [(-b).exp() - 1.0, b.exp() - 1.0]
}

impl Smoothing {
    /// No smoothing and no trend: a level that never moves.
    pub const FIXED: Smoothing = Smoothing {
        alpha: 0.0,
        beta: 0.0,
        phi: 0.0,
        compounding: false,
        rate_limits: [0.0, 0.0],
    };

    /// A compounding rate held within its bound (other slopes as they are).
    #[inline]
    pub fn bounded_rate(&self, slope: f64) -> f64 {
        if self.compounding {
            slope.clamp(self.rate_limits[0], self.rate_limits[1])
        } else {
            slope
        }
    }

    /// The one-step mean from a state (before any group growth): l + phi b,
    /// or l (1 + r) for a compounding trend.
    #[inline]
    pub fn one_step(&self, level: f64, slope: f64) -> f64 {
        if self.compounding {
            level * (1.0 + slope)
        } else {
            level + self.phi * slope
        }
    }

    /// The slope after a surprise `d = mu e` (the value less its one-step
    /// mean `mu`, e the relative innovation). In the surprise, the additive
    /// update needs no division, which keeps one off the fit's serial
    /// chain of recursions (its cost is that chain's latency).
    #[inline]
    pub fn next_slope(&self, slope: f64, mu: f64, d: f64) -> f64 {
        if self.compounding {
            self.bounded_rate((1.0 + slope) * (1.0 + self.beta * d / mu) - 1.0)
        } else {
            self.phi * slope + self.beta * d
        }
    }

    /// The level after a surprise `d`: mu (1 + alpha e) = mu + alpha d.
    #[inline]
    pub fn next_level(&self, mu: f64, d: f64) -> f64 {
        mu + self.alpha * d
    }

    /// The mean `h` periods after a state (h = 0: the next period), before
    /// any group growth.
    pub fn mean_ahead(&self, level: f64, slope: f64, h: usize) -> f64 {
        if self.compounding {
            level * (1.0 + slope).powi(h as i32 + 1)
        } else {
            level + self.slope_weight(h + 1) * slope
        }
    }

    /// Weight of the slope in the mean `j` periods ahead of the state:
    /// phi + phi^2 + ... + phi^j (in closed form: the variance and total
    /// formulas call it inside their own loops).
    pub fn slope_weight(&self, j: usize) -> f64 {
        let phi = self.phi;
        if phi == 0.0 || j == 0 {
            0.0
        } else if phi == 1.0 {
            j as f64
        } else {
            phi * (1.0 - phi.powi(j as i32)) / (1.0 - phi)
        }
    }
}

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

/// One pass of the recursions: the negative concentrated log-likelihood,
/// the fitted means (when asked) and the final state.
struct Pass {
    nll: f64,
    sse: f64,
    /// The sum of the log means (the likelihood's Jacobian term).
    log_mu: f64,
    level: f64,
    slope: f64,
}

/// The recursions' inputs besides the series.
struct Setup<'a> {
    smoothing: Smoothing,
    l0: f64,
    b0: f64,
    floor: f64,
    /// ln floor, once per series rather than per pass.
    ln_floor: f64,
    growth: &'a Growth,
}

/// The floor and unit of a series' states: the level never falls below
/// `LEVEL_FLOOR` of the series' mean, and initial states are in units of
/// its first year's mean (the same for every stretch of a series that
/// covers that year). `None` without a positive mean.
struct Units {
    floor: f64,
    ln_floor: f64,
    scale: f64,
}

impl Units {
    fn of(a: &[f64]) -> Option<Self> {
        let level = mean(a);
        if level <= 0.0 || level.is_nan() {
            return None;
        }
        let floor = LEVEL_FLOOR * level;
        Some(Self {
            floor,
            ln_floor: floor.ln(),
            scale: mean(&a[..a.len().min(12)]).max(floor),
        })
    }
}

fn run(a: &[f64], setup: &Setup, fitted: Option<&mut Vec<f64>>) -> Pass {
    let mut recursion = Recursion::new(setup);
    match fitted {
        Some(f) => {
            for (t, &y) in a.iter().enumerate() {
                f.push(recursion.advance(y, t, setup));
            }
        }
        None => {
            for (t, &y) in a.iter().enumerate() {
                recursion.advance(y, t, setup);
            }
        }
    }
    recursion.finish(a.len(), setup.ln_floor)
}

/// The recursions' running state, a period at a time: [`run`] on one
/// series, [`lanes`] on many at once (each its own state, the same
/// arithmetic in the same order, so the two agree to the bit).
struct Recursion {
    level: f64,
    slope: f64,
    sse: f64,
    log_mu: f64,
    /// sum ln mu = n ln floor + ln prod (mu / floor), the product taken a
    /// stretch at a time (every factor is at least 1, so it only grows
    /// until it is flushed): one logarithm per stretch instead of per
    /// period, the recursion's largest cost.
    stretch: f64,
    per_floor: f64,
}

impl Recursion {
    fn new(setup: &Setup) -> Self {
        Self {
            level: setup.l0,
            slope: setup.b0,
            sse: 0.0,
            log_mu: 0.0,
            stretch: 1.0,
            per_floor: 1.0 / setup.floor,
        }
    }

    /// Period `t`'s value `y`: the states move on; returns its one-step
    /// mean.
    #[inline(always)]
    fn advance(&mut self, y: f64, t: usize, setup: &Setup) -> f64 {
        let s = &setup.smoothing;
        let mu = (s.one_step(self.level, self.slope) * (1.0 + setup.growth.history_at(t)))
            .max(setup.floor);
        let d = y - mu;
        let e = d / mu;
        self.sse += e * e;
        let factor = mu * self.per_floor;
        if factor > 1e100 {
            // Beyond any real series' range: taken alone.
            self.log_mu += factor.ln();
        } else {
            self.stretch *= factor;
            if self.stretch > 1e150 {
                self.log_mu += self.stretch.ln();
                self.stretch = 1.0;
            }
        }
        self.slope = s.next_slope(self.slope, mu, d);
        self.level = s.next_level(mu, d).max(setup.floor);
        mu
    }

    /// The pass, after `n` periods.
    fn finish(self, n: usize, ln_floor: f64) -> Pass {
        let log_mu = self.log_mu + (self.stretch.ln() + n as f64 * ln_floor);
        let n = n.max(1) as f64;
        Pass {
            nll: 0.5 * n * (self.sse / n).max(1e-300).ln() + log_mu,
            sse: self.sse,
            log_mu,
            level: self.level,
            slope: self.slope,
        }
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Map the optimiser's coordinates to smoothing weights and initial states.
fn unpack(form: Form, x: &[f64], scale: f64, per_year: usize) -> (Smoothing, f64, f64) {
    let bound = |v: f64| ALPHA_MIN + (1.0 - 2.0 * ALPHA_MIN) * logistic(v);
    match form {
        Form::Mean => (Smoothing::FIXED, scale * x[0].exp(), 0.0),
        Form::Level | Form::Group => (
            Smoothing {
                alpha: bound(x[0]),
                ..Smoothing::FIXED
            },
            scale * x[1].exp(),
            0.0,
        ),
        // The rate through a smooth bounded map, ln(1 + r) = B tanh(x / B):
        // no flat plateau for the simplex to stall on.
        Form::Compounding => {
            let alpha = bound(x[0]);
            let b = rate_bound(per_year);
            (
                Smoothing {
                    alpha,
                    beta: alpha * bound(x[1]),
                    phi: 1.0,
                    compounding: true,
                    rate_limits: rate_limits(b),
                },
                scale * x[2].exp(),
                (b * (x[3] / b).tanh()).exp() - 1.0,
            )
        }
        // A held slope: its smoothed trend's map, without the slope's
        // smoothing coordinate (`HELD_BETA_COORD`) and with beta 0.
        Form::Drift | Form::Rate => {
            let mut full = x.to_vec();
            full.insert(HELD_BETA_COORD, 0.0);
            let (smoothing, l0, b0) = unpack(form.family(), &full, scale, per_year);
            (
                Smoothing {
                    beta: 0.0,
                    ..smoothing
                },
                l0,
                b0,
            )
        }
        Form::Damped | Form::Trend => {
            let alpha = bound(x[0]);
            let phi = if form == Form::Damped {
                PHI_MIN + (PHI_MAX - PHI_MIN) * logistic(x[2])
            } else {
                1.0
            };
            let k = if form == Form::Damped { 3 } else { 2 };
            (
                Smoothing {
                    alpha,
                    beta: alpha * bound(x[1]),
                    phi,
                    compounding: false,
                    rate_limits: [0.0, 0.0],
                },
                scale * x[k].exp(),
                scale * x[k + 1],
            )
        }
    }
}

/// Fit `form` to the deseasonalised series `a` by maximum likelihood, its
/// smoothing weight under `prior` (a posterior mode; the criteria are the
/// likelihood's own) (`growth`: the group's, used by [`Form::Group`] only);
/// `None` when the series is too short for it or has no positive mean.
///
/// `per_year` (periods in a year) bounds a compounding rate
/// ([`rate_bound`]).
pub fn fit(
    a: &[f64],
    form: Form,
    growth: &Growth,
    prior: &FormPriors,
    per_year: usize,
) -> Option<EtsFit> {
    Request::new(a, form, growth, prior, per_year).fit()
}

/// How long the optimiser searches (it always starts at the default
/// start).
#[derive(Clone, Copy)]
pub enum Search {
    /// The full budget and a tight tolerance.
    Full,
    /// A refit's budget and tolerance.
    Short,
}

impl EtsFit {
    /// The same form refitted to `a` (the history before a rolling
    /// origin) with the given group growth and prior: from the default
    /// start, where the whole history's fit starts, with a third of its
    /// evaluations and a looser tolerance. The refits' errors score the
    /// forms and calibrate the spread, so they must be the errors of the
    /// procedure that makes the forecast. Until session 22 they started
    /// from the whole history's optimum, which their short search stayed
    /// near: on a flat likelihood (short histories: beta, phi, the
    /// initial slope) they ended elsewhere than a fit from the default
    /// start would have, and on 24-month and 12-16-quarter histories the
    /// origins' errors looked 5-8% smaller than the forecasts' then were.
    /// Starting each origin from the one before's optimum, also blind to
    /// what follows, did the same. (Other whole-history quantities still
    /// reach the refits: the seasonal indices, the outliers' caps and the
    /// alpha prior; README, The model.) A request, fitted alone
    /// ([`Request::fit`]) or with others ([`lanes::fit_all`]).
    pub fn refit_request<'a>(
        &self,
        a: &'a [f64],
        growth: &'a Growth,
        prior: &'a FormPriors,
    ) -> Request<'a> {
        Request {
            search: Search::Short,
            ..Request::new(a, self.form, growth, prior, self.per_year)
        }
    }
}

/// One fit to make: `form` on the deseasonalised series `a` (`growth`: the
/// group's, read by [`Form::Group`] only), its smoothing weight under
/// `prior`, searched as `search` says; `per_year` bounds a compounding
/// rate.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    pub a: &'a [f64],
    pub form: Form,
    pub growth: &'a Growth,
    pub prior: &'a FormPriors,
    pub search: Search,
    pub per_year: usize,
}

/// The group growth of a form that reads none.
static NO_GROWTH: Growth = Growth {
    history: Vec::new(),
    forecast: Vec::new(),
};

/// No prior on alpha.
static NO_PRIOR: std::sync::LazyLock<FormPriors> = std::sync::LazyLock::new(FormPriors::none);

impl<'a> Request<'a> {
    /// `form` to be fitted to `a` (`per_year` periods a year) with the
    /// group's `growth` and the alpha `prior`, with the full search.
    pub fn new(
        a: &'a [f64],
        form: Form,
        growth: &'a Growth,
        prior: &'a FormPriors,
        per_year: usize,
    ) -> Self {
        Self {
            a,
            form,
            growth,
            prior,
            search: Search::Full,
            per_year,
        }
    }

    /// `form` to be fitted to `a` by its own likelihood alone (no group
    /// growth, no prior on alpha), from the default start with a refit's
    /// budget and tolerance, as [`EtsFit::refit_request`].
    pub fn fresh(a: &'a [f64], form: Form, per_year: usize) -> Self {
        Self {
            search: Search::Short,
            ..Self::new(a, form, &NO_GROWTH, &NO_PRIOR, per_year)
        }
    }

    /// The fit, alone.
    pub fn fit(self) -> Option<EtsFit> {
        lanes::fit_all(&[self]).pop().flatten()
    }
}

/// A request made ready: its units, the optimiser's start, steps, budget
/// and tolerance. `None` when the series is too short for the form or has
/// no positive mean.
struct Problem<'a> {
    request: Request<'a>,
    units: Units,
    start: Vec<f64>,
    step: Vec<f64>,
    max_evals: usize,
    tolerance: f64,
}

impl<'a> Problem<'a> {
    fn new(request: Request<'a>) -> Option<Self> {
        let Request {
            a, form, per_year, ..
        } = request;
        let n = a.len();
        let k = form.n_params();
        // The stable level is a mean: one period will do (the others need
        // a few more periods than parameters).
        let fewest = if form == Form::Mean { 1 } else { k + 2 };
        if n < fewest {
            return None;
        }
        let level = mean(a);
        let units = Units::of(a)?;
        let Units { floor, scale, .. } = units;
        // Starting states: the mean of the first stretch and the slope
        // between the first two stretches (of a year at most).
        let w = (n / 3).clamp(1, 12);
        let slope0 = if n >= 2 * w {
            (mean(&a[w..2 * w]) - mean(&a[..w])) / w as f64
        } else {
            0.0
        };
        let (start, step): (Vec<f64>, Vec<f64>) = match form {
            Form::Mean => (vec![(level / scale).ln()], vec![0.1]),
            Form::Level | Form::Group => (vec![logit(0.2), 0.0], vec![1.0, 0.1]),
            Form::Damped => (
                vec![logit(0.2), logit(0.1), logit(0.8), 0.0, slope0 / scale],
                vec![1.0, 1.0, 1.0, 0.1, 0.01 + (slope0 / scale).abs()],
            ),
            Form::Trend | Form::Drift => (
                vec![logit(0.2), logit(0.1), 0.0, slope0 / scale],
                vec![1.0, 1.0, 0.1, 0.01 + (slope0 / scale).abs()],
            ),
            // The slope as a rate: the first stretch's slope over its
            // level, through the inverse of `unpack`'s map (kept inside the
            // bound).
            Form::Compounding | Form::Rate => {
                let b = rate_bound(per_year);
                let log_rate = (1.0 + slope0 / mean(&a[..w]).max(floor)).max(1e-9).ln();
                let x = b * (log_rate / b).clamp(-0.9, 0.9).atanh();
                (
                    vec![logit(0.2), logit(0.1), 0.0, x],
                    vec![1.0, 1.0, 0.1, 0.5 * b + x.abs()],
                )
            }
        };
        // A held slope starts where its smoothed trend does, without the
        // slope's smoothing coordinate.
        let (start, step) = if form == Form::Drift || form == Form::Rate {
            let drop = |mut v: Vec<f64>| {
                v.remove(HELD_BETA_COORD);
                v
            };
            (drop(start), drop(step))
        } else {
            (start, step)
        };
        let (evals_per_param, tolerance) = match request.search {
            Search::Full => (EVALS_PER_PARAM, FIT_TOLERANCE),
            Search::Short => (EVALS_PER_PARAM / 3, REFIT_TOLERANCE),
        };
        Some(Self {
            max_evals: evals_per_param * start.len(),
            request,
            units,
            start,
            step,
            tolerance,
        })
    }

    /// Whether the optimiser has anything to search: the stable level's
    /// maximum-likelihood level is the mean, its start (see the tests).
    fn searches(&self) -> bool {
        self.request.form != Form::Mean
    }

    /// The recursions' inputs at the optimiser's coordinates `x`.
    fn setup_at(&self, x: &[f64]) -> Setup<'a> {
        let Request {
            form,
            growth,
            per_year,
            ..
        } = self.request;
        let (smoothing, l0, b0) = unpack(form, x, self.units.scale, per_year);
        Setup {
            smoothing,
            l0,
            b0,
            floor: self.units.floor,
            ln_floor: self.units.ln_floor,
            growth: if form == Form::Group {
                growth
            } else {
                &NO_GROWTH
            },
        }
    }

    /// The objective at a setup, given its pass's negative
    /// log-likelihood: the posterior's, with the prior on alpha.
    fn objective(&self, setup: &Setup, nll: f64) -> f64 {
        nll + self
            .request
            .prior
            .cost(self.request.form, setup.smoothing.alpha)
    }

    /// The fit at the optimiser's coordinates `x`.
    fn finish(&self, x: Vec<f64>) -> Option<EtsFit> {
        let Request { a, form, .. } = self.request;
        let setup = self.setup_at(&x);
        let n = a.len();
        let k = form.n_params();
        let smoothing = setup.smoothing;
        let mut fitted = Vec::with_capacity(n);
        let pass = run(a, &setup, Some(&mut fitted));
        if !pass.nll.is_finite() {
            return None;
        }
        let nf = n as f64;
        let kf = k as f64;
        let aicc = 2.0 * pass.nll + 2.0 * kf + 2.0 * kf * (kf + 1.0) / (nf - kf - 1.0).max(1.0);
        Some(EtsFit {
            form,
            smoothing,
            level: pass.level,
            slope: if form.has_trend() { pass.slope } else { 0.0 },
            sigma2: pass.sse / (nf - form.variance_parameters() as f64).max(1.0),
            fitted,
            growth: setup.growth.forecast.clone(),
            coords: x,
            n,
            per_year: self.request.per_year,
            aicc,
            bic: 2.0 * pass.nll + kf * nf.ln(),
            floor: self.units.floor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `form` fitted to `a` (monthly) with no group growth and no prior.
    fn alone(a: &[f64], form: Form) -> EtsFit {
        fit(a, form, &Growth::none(), &FormPriors::none(), 12).unwrap()
    }

    pub(in crate::ets) fn noise(n: usize, seed: u64) -> Vec<f64> {
        // A fixed pseudo-random sequence around 100 (uniform, +-20%).
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                100.0 * (0.8 + 0.4 * ((x >> 11) as f64 / (1u64 << 53) as f64))
            })
            .collect()
    }

    #[test]
    fn a_stable_level_is_the_long_run_mean() {
        let a = noise(120, 3);
        let f = alone(&a, Form::Mean);
        // The multiplicative-error MLE of a stable level is the mean
        // (d/dl of n/2 ln sum (a/l - 1)^2 + n ln l is zero at l = mean).
        let expected = mean(&a);
        assert!(
            (f.level - expected).abs() / expected < 1e-3,
            "{} vs {expected}",
            f.level
        );
    }

    #[test]
    fn a_straight_line_is_followed_by_the_trend_models() {
        let a: Vec<f64> = (0..48).map(|t| 100.0 + 2.0 * t as f64).collect();
        let f = alone(&a, Form::Trend);
        assert!((f.slope - 2.0).abs() < 0.05, "slope {}", f.slope);
        assert!((f.mean_at(0) - 196.0).abs() < 1.0, "next {}", f.mean_at(0));
        let d = alone(&a, Form::Damped);
        assert!(d.mean_at(11) < f.mean_at(11) + 1e-9);
        assert!(d.smoothing.beta <= d.smoothing.alpha);
    }

    #[test]
    fn a_rolling_origins_refit_owes_nothing_to_the_periods_after_it() {
        // Two histories alike for 24 months, then one flat and one growing
        // 4% a month: every form's refit on the first 24 months forecasts
        // the same, whichever whole history it was refitted from. (From
        // the whole history's optimum, the growing one's trend leaked
        // into the refit: its forecasts differed.)
        let first = noise(24, 11);
        let mut flat = first.clone();
        flat.extend(noise(24, 12));
        let mut growing = first.clone();
        growing.extend(
            noise(24, 12)
                .iter()
                .enumerate()
                .map(|(t, v)| v * 1.04f64.powi(t as i32 + 1)),
        );
        let none = Growth::none();
        let prior = FormPriors::none();
        for form in [Form::Level, Form::Trend, Form::Damped, Form::Compounding] {
            let from_flat = alone(&flat, form)
                .refit_request(&first, &none, &prior)
                .fit()
                .unwrap();
            let from_growing = alone(&growing, form)
                .refit_request(&first, &none, &prior)
                .fit()
                .unwrap();
            for h in 0..12 {
                assert_eq!(
                    from_flat.mean_at(h),
                    from_growing.mean_at(h),
                    "{form:?} step {h}"
                );
            }
            assert_eq!(from_flat.sigma2, from_growing.sigma2, "{form:?}");
        }
    }

    #[test]
    fn the_held_slopes_keep_the_slope_they_fitted() {
        // A line and a rate under a fixed +-1% pattern: the held slopes'
        // beta is 0 (one coordinate fewer), their slope the line's or the
        // rate, and their forecasts keep it.
        let wiggle = |t: usize| 1.0 + 0.01 * [1.0, -1.0, 0.5, -0.5][t % 4];
        let line: Vec<f64> = (0..48)
            .map(|t| (100.0 + 2.0 * t as f64) * wiggle(t))
            .collect();
        let d = alone(&line, Form::Drift);
        assert_eq!(d.smoothing.beta, 0.0);
        assert_eq!(d.coords.len(), 3);
        assert!((d.slope - 2.0).abs() < 0.1, "slope {}", d.slope);
        assert!((d.mean_at(11) - d.mean_at(10) - d.slope).abs() < 1e-9);
        // Held: the slope at the origin is the initial one, though the
        // line ends with a year flat, which a smoothed slope follows down.
        let mut bent = line.clone();
        bent.extend(std::iter::repeat_n(bent[47], 12));
        let held = alone(&bent, Form::Drift);
        let scale = Units::of(&bent).unwrap().scale;
        assert_eq!(held.slope, unpack(Form::Drift, &held.coords, scale, 12).2);
        let smoothed = alone(&bent, Form::Trend);
        assert!(
            smoothed.slope < 0.5 * held.slope,
            "{} against {}",
            smoothed.slope,
            held.slope
        );
        let rate: Vec<f64> = (0..72)
            .map(|t| 100.0 * 1.01f64.powi(t as i32) * wiggle(t))
            .collect();
        let r = alone(&rate, Form::Rate);
        assert_eq!(r.smoothing.beta, 0.0);
        assert!((r.slope - 0.01).abs() < 1e-3, "rate {}", r.slope);
        assert!((r.mean_at(11) / r.mean_at(10) - 1.01).abs() < 1e-3);
    }

    #[test]
    fn a_series_growing_by_a_rate_is_followed_by_the_compounding_trend() {
        // 1% a period, compounding: the fit finds the rate, and its forecast
        // keeps it where an additive slope's relative growth falls.
        let a: Vec<f64> = (0..72).map(|t| 100.0 * 1.01f64.powi(t)).collect();
        let c = alone(&a, Form::Compounding);
        assert!((c.slope - 0.01).abs() < 1e-3, "rate {}", c.slope);
        let next = 100.0 * 1.01f64.powi(72);
        assert!((c.mean_at(0) / next - 1.0).abs() < 2e-3, "{}", c.mean_at(0));
        let ratio = c.mean_at(11) / c.mean_at(10);
        assert!((ratio - 1.01).abs() < 1e-3, "{ratio}");
        let t = alone(&a, Form::Trend);
        assert!(
            t.mean_at(11) < c.mean_at(11),
            "{} vs {}",
            t.mean_at(11),
            c.mean_at(11)
        );
    }

    #[test]
    fn a_compounding_forecast_mean_is_its_simulated_paths_mean() {
        // The recursion run with normal innovations (sd 0.2) from a known
        // state: the paths' mean h periods ahead must be `mean_at(h)`, which
        // lies above the path with no innovations (a rate shock compounds).
        let a: Vec<f64> = (0..48).map(|t| 100.0 * 1.01f64.powi(t)).collect();
        let mut f = alone(&a, Form::Compounding);
        f.level = 100.0;
        f.slope = 0.01;
        f.sigma2 = 0.04;
        f.smoothing.alpha = 0.3;
        f.smoothing.beta = 0.05;
        f.smoothing.rate_limits = rate_limits(1.0); // wide: the bound never binds here
        let s = f.smoothing;
        let (paths, horizon) = (200_000, 12);
        let mut sum = vec![0.0; horizon];
        let mut sum2 = vec![0.0; horizon];
        let mut x = 12_345u64;
        let mut uniform = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        for _ in 0..paths {
            let (mut l, mut b) = (f.level, f.slope);
            for h in 0..horizon {
                let mu = s.one_step(l, b);
                sum[h] += mu;
                sum2[h] += mu * mu;
                // Box-Muller: one normal per period.
                let e = 0.2
                    * (-2.0 * uniform().ln()).sqrt()
                    * (2.0 * std::f64::consts::PI * uniform()).cos();
                b = s.next_slope(b, mu, mu * e);
                l = s.next_level(mu, mu * e);
            }
        }
        let n = paths as f64;
        for h in [0, 5, 11] {
            let mean = sum[h] / n;
            let se = ((sum2[h] / n - mean * mean) / n).sqrt();
            let expected = f.mean_at(h);
            assert!(
                (mean - expected).abs() <= 4.0 * se + 1e-9 * expected,
                "step {h}: paths' mean {mean:.3} against mean_at {expected:.3} (se {se:.3})"
            );
        }
        // The correction matters: the path with no innovations is far off.
        let bare = s.mean_ahead(f.level, f.slope, 11);
        let se = ((sum2[11] / n - (sum[11] / n).powi(2)) / n).sqrt();
        assert!(sum[11] / n - bare > 8.0 * se, "{} vs {bare}", sum[11] / n);
    }

    #[test]
    fn a_level_shift_is_tracked_by_the_local_level() {
        let mut a = noise(60, 5);
        for v in &mut a[36..] {
            *v *= 1.5;
        }
        let f = alone(&a, Form::Level);
        assert!(f.smoothing.alpha > 0.1, "alpha {}", f.smoothing.alpha);
        assert!(f.level > 130.0, "level {}", f.level);
    }

    #[test]
    fn the_group_share_form_grows_with_the_group() {
        let a = noise(60, 11);
        let growth = Growth {
            history: vec![0.01; 60],
            forecast: vec![0.01; 12],
        };
        let f = fit(&a, Form::Group, &growth, &FormPriors::none(), 12).unwrap();
        let ratio = f.mean_at(11) / f.mean_at(0);
        assert!((ratio - 1.01f64.powi(11)).abs() < 1e-9, "{ratio}");
        // The other forms ignore the group.
        let l = fit(&a, Form::Level, &growth, &FormPriors::none(), 12).unwrap();
        assert!((l.mean_at(11) - l.mean_at(0)).abs() < 1e-9);
    }

    #[test]
    fn variance_grows_with_the_horizon() {
        let a = noise(48, 9);
        let f = alone(&a, Form::Level);
        assert!(f.relative_variance(11) > f.relative_variance(0));
        let m = alone(&a, Form::Mean);
        assert!((m.relative_variance(11) - m.relative_variance(0)).abs() < 1e-15);
    }
}
