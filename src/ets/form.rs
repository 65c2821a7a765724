//! The level-and-trend forms a territory (and a region's growth path) is
//! fitted with: their names, their parameters and which of them carry a
//! slope or hold it.

use serde::Serialize;

/// Fewest seasons of history for the held slopes ([`Form::holds_slope_over`]).
const HELD_SLOPE_SEASONS: usize = 3;

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

    pub(super) fn has_trend(self) -> bool {
        matches!(
            self,
            Form::Damped | Form::Trend | Form::Compounding | Form::Drift | Form::Rate
        )
    }
}
