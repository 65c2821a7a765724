//! One pass of the state recursions over a series: the concentrated
//! negative log-likelihood, the fitted one-step means and the final state.
//! [`run`] takes one series; `lanes` advances many [`Recursion`]s side by
//! side with the same arithmetic.

use super::{Growth, Smoothing};
use crate::stats::quantile::mean;

/// The level never falls below this share of the series' mean level (a
/// multiplicative model needs a positive level; a run of zeros or credits
/// would otherwise drive it through zero).
const LEVEL_FLOOR: f64 = 1e-3;

/// One pass of the recursions: the negative concentrated log-likelihood,
/// the fitted means (when asked) and the final state.
pub(super) struct Pass {
    pub(super) nll: f64,
    pub(super) sse: f64,
    /// The sum of the log means (the likelihood's Jacobian term).
    pub(super) log_mu: f64,
    pub(super) level: f64,
    pub(super) slope: f64,
}

/// The recursions' inputs besides the series.
pub(super) struct Setup<'a> {
    pub(super) smoothing: Smoothing,
    pub(super) l0: f64,
    pub(super) b0: f64,
    pub(super) floor: f64,
    /// ln floor, once per series rather than per pass.
    pub(super) ln_floor: f64,
    pub(super) growth: &'a Growth,
}

/// The floor and unit of a series' states: the level never falls below
/// `LEVEL_FLOOR` of the series' mean, and initial states are in units of
/// its first year's mean (the same for every stretch of a series that
/// covers that year). `None` without a positive mean.
pub(super) struct Units {
    pub(super) floor: f64,
    pub(super) ln_floor: f64,
    pub(super) scale: f64,
}

impl Units {
    pub(super) fn of(a: &[f64]) -> Option<Self> {
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

pub(super) fn run(a: &[f64], setup: &Setup, fitted: Option<&mut Vec<f64>>) -> Pass {
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
pub(super) struct Recursion {
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
    pub(super) fn new(setup: &Setup) -> Self {
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
    pub(super) fn advance(&mut self, y: f64, t: usize, setup: &Setup) -> f64 {
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
    pub(super) fn finish(self, n: usize, ln_floor: f64) -> Pass {
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
