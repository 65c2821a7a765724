//! Maximum-likelihood estimation of a form: the optimiser's coordinates
//! and their map to smoothing weights and initial states, its start,
//! budget and tolerance ([`Search`]), and the fit a [`Request`] names
//! (alone here, many at once in `lanes`).

use super::prior::FormPriors;
use super::recursion::{run, Setup, Units};
use super::{lanes, rate_bound, rate_limits, EtsFit, Form, Growth, Smoothing};
use crate::stats::quantile::mean;

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
/// The coordinate of the linear and compounding trends' slope smoothing
/// (beta over alpha), which the held slopes do not have.
const HELD_BETA_COORD: usize = 1;

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Map the optimiser's coordinates to smoothing weights and initial states.
pub(super) fn unpack(form: Form, x: &[f64], scale: f64, per_year: usize) -> (Smoothing, f64, f64) {
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
pub(super) struct Problem<'a> {
    request: Request<'a>,
    units: Units,
    pub(super) start: Vec<f64>,
    pub(super) step: Vec<f64>,
    pub(super) max_evals: usize,
    pub(super) tolerance: f64,
}

impl<'a> Problem<'a> {
    pub(super) fn new(request: Request<'a>) -> Option<Self> {
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
    pub(super) fn searches(&self) -> bool {
        self.request.form != Form::Mean
    }

    /// The recursions' inputs at the optimiser's coordinates `x`.
    pub(super) fn setup_at(&self, x: &[f64]) -> Setup<'a> {
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
    pub(super) fn objective(&self, setup: &Setup, nll: f64) -> f64 {
        nll + self
            .request
            .prior
            .cost(self.request.form, setup.smoothing.alpha)
    }

    /// The fit at the optimiser's coordinates `x`.
    pub(super) fn finish(&self, x: Vec<f64>) -> Option<EtsFit> {
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
