//! Smoothing weights and damping, and the state recursions' arithmetic they
//! define: the one-step mean, the level and slope after a surprise, the
//! mean h periods ahead; and the bound on a compounding rate.

use serde::Serialize;

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
