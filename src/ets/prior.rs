//! The company's evidence on how far levels move: a prior on the smoothing
//! weight alpha of every form with a moving level, shared by every
//! territory's fit.
//!
//! On a short history the maximum-likelihood alpha of a local level piles
//! up at zero (Shephard and Harvey 1990): 24 months of a level that wanders
//! 3% a month under 8% noise give alpha = 0 for most territories, a stable
//! level whose year totals are far too sure. Each territory alone cannot
//! tell; the company's territories together can. So every fit's likelihood
//! is multiplied by a **power prior** (Ibrahim and Chen 2000): the pooled
//! profile likelihood of how far levels move over all territories (each
//! with its own noise, and its own initial level **integrated out**:
//! maximised, the pooled profile keeps the pile-up however many
//! territories it pools, see [`profile`]) of a plain local level, or for
//! the group share
//! and the trend forms of a level moved by its group's growth path
//! ([`FormPriors`]), raised to the power that makes it
//! worth `weight` periods of one territory's data. Its shape is the
//! likelihood's own, so no logistic or beta form has to be chosen, and a
//! company of pure noise pools to alpha near 0 and changes nothing; the
//! stable level (`Form::Mean`) stays a candidate of its own. The weight is
//! what **empirical Bayes** gives it ([`homogeneous_weight`], session 28):
//! the more the territories' own profiles agree with the pooled one (no
//! more than their noise makes them differ), the more the pool counts, up
//! to all its periods; never less than one season of periods (a year), the
//! weight before session 28, a third of a 24-month history and a tenth of
//! a 120-month one. Territories whose levels wander alike (the tools'
//! synthetic short histories) then share their evidence, and on 12-16
//! quarters each one's alpha no longer piles up at zero (since session
//! 29, when the pooled profile integrates the initial levels out;
//! before, the group-moved level's pooled mode was itself at zero there);
//! territories that differ keep about a year's worth.
//!
//! What territories share is **how far their levels move, not alpha**
//! (session 29, [`Evidence::shift`]): alpha is the weight a period's
//! surprise deserves, about the level's movement over the noise, and a
//! lumpy territory whose level moves as far as a smooth one's deserves a
//! smaller one. Each profile is read on the grid of a territory of the
//! pool's median noise, and the pooled cost back at each territory's own.
//! Pooled as one alpha, Superstore's four regions gave South (a relative
//! noise of 0.77, twice the others') an alpha of 0.47, and a year median
//! of 80k (mean 118k, actual 123k); read at its noise, 0.014 and 116k.
//!
//! The prior is pooled once, from the whole history, and the rolling
//! origins' refits use it too: their forms borrow evidence on how far
//! levels move from periods after their origin (from other territories'
//! and their own). The rolling-origin scores of every form with a moving
//! level are thus slightly optimistic; pooling per origin would remove this at the cost
//! of one pooled profile per origin.

use rayon::prelude::*;

use super::{run, Form, Growth, Setup, Smoothing, Units};
use crate::stats::golden;

/// Grid of logit(alpha) on which the pooled profile is tabulated.
const GRID: usize = 15;
const LOGIT_LOW: f64 = -9.0;
const LOGIT_HIGH: f64 = 5.0;
/// Golden-section steps for each initial level.
const GOLDEN_STEPS: usize = 22;
/// The initial level is searched within this factor either side of the
/// series' first-year mean.
const LEVEL_RANGE: f64 = 5.0;
/// Relative one-step variance below which a series' fit is not told
/// apart (a relative error of 1e-4): a constant or exactly regular series
/// fits every alpha to rounding, and its likelihood, unbounded as the
/// variance vanishes, would swing the pooled profile with rounding noise.
const MIN_REL_VAR: f64 = 1e-8;
/// A profile whose range over the whole grid, the initial level's term
/// (the same for every series of a length) left out, is below this (a hundredth
/// of a log-likelihood unit: a likelihood ratio of 1.01 between any two
/// alphas) carries no evidence on alpha. A series with any noise to speak
/// of spans several units; one fitted to rounding spans about 1e-3 (what
/// the initial level's last digits leave).
const FLAT_PROFILE: f64 = 0.01;
/// Most series in the pooled profile.
const MAX_SERIES: usize = 250;
/// Fewest periods for a series to count in the pool.
const MIN_PERIODS: usize = 6;
/// Degrees of freedom of the Student-t the territories' own alphas are
/// taken to scatter by around the pooled one (`AlphaPrior::share_from`):
/// a territory far from the others (one ramping up among steady ones)
/// keeps the prior's weight in proportion (nu + 1) / (nu + d), d its
/// squared standardised distance, as in iteratively reweighted fits of
/// t models (Lange, Little and Taylor 1989).
const ROBUST_DF: f64 = 4.0;

/// The prior's cost (a negative log density, up to a constant) of each
/// alpha, tabulated on a logit grid; zero everywhere for no prior.
#[derive(Debug, Clone, Default)]
pub struct AlphaPrior {
    cost: Vec<f64>,
    /// What the pooled evidence is worth, in periods of one territory.
    weight: f64,
    /// The pooled cost on the grid of a series of the pool's median noise
    /// (`ln_reference`, the log of its one-step sd); the `cost` above is
    /// it read at a territory's own noise ([`Evidence::shift`]).
    reference_cost: Vec<f64>,
    ln_reference: f64,
    /// The reference grid point of the pooled mode, and the mean over the
    /// pooled series of twice their log-likelihood ratio of their own best
    /// against it (`homogeneous_weight`'s R).
    mode_index: usize,
    ratio: f64,
}

/// A series' evidence on alpha: its profile at each alpha grid point and
/// the log of its noise's sd (`own_evidence`).
#[derive(Debug, Clone)]
struct Evidence {
    profile: Vec<f64>,
    ln_sd: f64,
}

/// Piecewise-linear `ys` over increasing `xs` at `x`, the end values
/// beyond the ends.
fn interpolate(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let last = xs.len() - 1;
    if x <= xs[0] {
        return ys[0];
    }
    if x >= xs[last] {
        return ys[last];
    }
    let k = xs.partition_point(|&v| v <= x).clamp(1, last);
    let (x0, x1) = (xs[k - 1], xs[k]);
    let t = if x1 > x0 { (x - x0) / (x1 - x0) } else { 1.0 };
    ys[k - 1] + t * (ys[k] - ys[k - 1])
}

/// `values` on the logit(alpha) grid read `by` further along it: at each
/// grid point x, their interpolation at x + by (the end values beyond the
/// grid's ends). Reading a series' profile onto the reference series'
/// grid and the pooled cost back onto the series' are this with opposite
/// signs ([`Evidence::shift`]).
fn shifted(values: &[f64], by: f64) -> Vec<f64> {
    let grid: Vec<f64> = (0..GRID).map(logit_at).collect();
    grid.iter()
        .map(|&x| interpolate(&grid, values, x + by))
        .collect()
}

/// Whether a series can count in the pool: at least `MIN_PERIODS`
/// periods, all finite, with a positive sum.
fn usable(a: &[f64]) -> bool {
    a.len() >= MIN_PERIODS && a.iter().all(|v| v.is_finite()) && a.iter().sum::<f64>() > 0.0
}

impl Evidence {
    /// Whether this evidence (of a series of `n` periods) says anything
    /// about alpha: a series whose likelihood is the same for every alpha
    /// (fitted to rounding: see `MIN_REL_VAR`) does not. The initial
    /// level's term is no evidence from the data (the same for every
    /// series of a length), so it is left out of the range.
    fn counts(&self, n: usize) -> bool {
        let (lo, hi) = self.profile.iter().enumerate().fold(
            (f64::INFINITY, f64::NEG_INFINITY),
            |(l, h), (i, v)| {
                let data = v - initial_level_penalty(logistic(logit_at(i)), n);
                (l.min(data), h.max(data))
            },
        );
        hi - lo > FLAT_PROFILE
    }

    /// How far this series' logit alphas sit from those of a series of
    /// noise `ln_reference` whose level moves as far: its log noise over
    /// the reference's. Territories share how far their levels move, not
    /// the weight a period's surprise deserves: for a local level with
    /// small alpha, alpha is about the level's sd per period over the
    /// noise's (the steady state of q = (sd_level / sd_noise)^2 has alpha
    /// near sqrt(q)), so a territory twice as noisy whose level moves as
    /// far has half the alpha (logit alpha lower by ln 2; near alpha = 1
    /// the exact shift would be up to twice that, where the grid says
    /// little anyway).
    fn shift(&self, ln_reference: f64) -> f64 {
        self.ln_sd - ln_reference
    }

    /// The profile on the reference series' grid: at reference logit x,
    /// this series' profile at x - shift.
    fn on_reference_grid(&self, ln_reference: f64) -> Vec<f64> {
        shifted(&self.profile, -self.shift(ln_reference))
    }
}

fn logit_at(i: usize) -> f64 {
    LOGIT_LOW + (LOGIT_HIGH - LOGIT_LOW) * i as f64 / (GRID - 1) as f64
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A local level's negative log-likelihood on `a` (the recursions of
/// `super::run`, moved by the group's `growth` as the group-share form's
/// are) with its **initial level integrated out** and its relative
/// one-step variance concentrated (floored at `MIN_REL_VAR`): the
/// likelihood minimised over the initial level (golden section on its
/// log, within `LEVEL_RANGE` of the first year's mean), with the noise
/// variance over n - 1 periods, plus [`initial_level_penalty`]; and the
/// relative one-step sd at that initial level.
///
/// Why integrated out: maximised over each series' initial level, the
/// pooled profile is biased toward alpha = 0 however many series it pools,
/// because every series adds an initial level fitted to its own periods
/// (the incidental-parameter bias of Neyman and Scott 1948). A small alpha
/// forecasts every period from that initial level, which then fits the
/// whole history, so its fit looks better than the level's real
/// information about the future. On 150 quarterly histories of 12
/// quarters whose levels wander 2% a quarter under 6% noise, the pooled
/// mode of the group-moved level was alpha = 1e-4 with the initial level
/// maximised, and is 0.5 with it integrated out; their forecasts' year
/// intervals covered 67% of the years, then 77% (75% once the prior is
/// also read at each territory's noise, [`Evidence::shift`]).
fn profile(a: &[f64], growth: &Growth, alpha: f64, units: &Units) -> (f64, f64) {
    let dof = (a.len() as f64 - 1.0).max(1.0);
    let pass_at = |x: f64| {
        let setup = Setup {
            smoothing: Smoothing {
                alpha,
                ..Smoothing::FIXED
            },
            l0: units.scale * x.exp(),
            b0: 0.0,
            floor: units.floor,
            ln_floor: units.ln_floor,
            growth,
        };
        run(a, &setup, None)
    };
    let nll = |x: f64| {
        let pass = pass_at(x);
        0.5 * dof * (pass.sse / dof).max(MIN_REL_VAR).ln() + pass.log_mu
    };
    let found = golden::minimize(nll, -LEVEL_RANGE.ln(), LEVEL_RANGE.ln(), GOLDEN_STEPS);
    let sd = (pass_at(found.x).sse / dof).max(MIN_REL_VAR).sqrt();
    (found.value + initial_level_penalty(alpha, a.len()), sd)
}

/// Half the log of the initial level's information over `n` periods,
/// sum_t (1 - alpha)^(2(t - 1)): the one-step forecast of period t moves
/// with the initial level by (1 - alpha)^(t - 1) (the level's recursion is
/// linear in it). Integrating the initial level out under a flat prior
/// (the Kalman filter's diffuse start: de Jong 1991; Shephard 1993)
/// multiplies the likelihood maximised over it by the information's
/// -1/2 power and the concentrated noise variance loses a degree of
/// freedom. At alpha = 0 every period pins the level down (information n);
/// at alpha = 1 only the first does. (A multiplicative-error level moves
/// the same way on the relative scale, up to the level's change over the
/// history.)
fn initial_level_penalty(alpha: f64, n: usize) -> f64 {
    let decay = (1.0 - alpha) * (1.0 - alpha);
    let mut weight = 1.0;
    let mut information = 0.0;
    for _ in 0..n {
        information += weight;
        weight *= decay;
    }
    0.5 * information.max(f64::MIN_POSITIVE).ln()
}

impl AlphaPrior {
    /// No prior: every alpha costs the same.
    pub fn none() -> Self {
        Self::default()
    }

    /// The pooled profile likelihood of how far levels move over the
    /// deseasonalised `series` (those with at least `MIN_PERIODS` periods
    /// and a positive mean), each with its group's growth (none for a plain
    /// local level), per period of data, worth `weight` periods, as a
    /// prior on alpha for a series of the pool's median noise. No prior
    /// when no series counts.
    pub fn pooled(series: &[(&[f64], &Growth)], weight: f64) -> Self {
        Self::pool(series, weight).0
    }

    /// [`Self::pooled`], and each of the `series`' own prior: the pooled
    /// movement's cost read at its own alphas (through its own noise sd,
    /// [`Evidence::shift`]), scaled by the share it keeps (`share_from`: a Student-t
    /// prior), from the
    /// evidence the pool computed for the series it sampled and computed
    /// for the others. A series without evidence of its own (too short)
    /// takes the median series'.
    pub fn pooled_for_each(series: &[(&[f64], &Growth)], weight: f64) -> (Self, Vec<Self>) {
        let (prior, sampled) = Self::pool(series, weight);
        if prior.cost.is_empty() {
            return (prior, vec![Self::none(); series.len()]);
        }
        let each = series
            .par_iter()
            .enumerate()
            .map(|(i, &(a, growth))| {
                // A series the pool would not count (too short, or fitted
                // to rounding) has no noise to read the prior at.
                let own_prior = |e: &Evidence| {
                    e.counts(a.len()).then(|| {
                        prior
                            .read_at(e.shift(prior.ln_reference))
                            .scaled(prior.share_from(&e.on_reference_grid(prior.ln_reference)))
                    })
                };
                match sampled.binary_search_by_key(&i, |(j, _)| *j) {
                    Ok(k) => sampled[k].1.as_ref().and_then(own_prior),
                    Err(_) if usable(a) => own_evidence(a, growth).as_ref().and_then(own_prior),
                    Err(_) => None,
                }
                .unwrap_or_else(|| prior.clone())
            })
            .collect();
        (prior, each)
    }

    /// The pooled prior (for a series of the pool's median noise) and the
    /// evidence of each series it sampled, with its index in `series`
    /// (in order; `None` where a series had no units).
    fn pool(series: &[(&[f64], &Growth)], weight: f64) -> (Self, Vec<(usize, Option<Evidence>)>) {
        let usable: Vec<usize> = (0..series.len()).filter(|&i| usable(series[i].0)).collect();
        // A systematic sample of at most `MAX_SERIES` (every k-th): the
        // pooled profile's shape is well measured by then, and the cost
        // stays bounded.
        let every = usable.len().div_ceil(MAX_SERIES).max(1);
        let usable: Vec<usize> = usable.into_iter().step_by(every).collect();
        if usable.is_empty() || weight <= 0.0 {
            return (Self::none(), Vec::new());
        }
        let evidence: Vec<(usize, Option<Evidence>)> = usable
            .par_iter()
            .map(|&i| {
                let (a, growth) = series[i];
                (i, own_evidence(a, growth))
            })
            .collect();
        // A series that says nothing about alpha (`Evidence::counts`)
        // counts neither in the sum nor in the periods the weight is
        // spread over.
        let informative: Vec<(usize, &Evidence)> = evidence
            .iter()
            .filter_map(|(i, e)| Some((series[*i].0.len(), e.as_ref()?)))
            .filter(|&(n, e)| e.counts(n))
            .collect();
        let periods: usize = informative.iter().map(|(n, _)| n).sum();
        if informative.is_empty() {
            return (Self::none(), Vec::new());
        }
        // The pool's median noise is the reference each series is read at.
        let mut ln_sds: Vec<f64> = informative.iter().map(|(_, e)| e.ln_sd).collect();
        ln_sds.sort_by(f64::total_cmp);
        let ln_reference = ln_sds[ln_sds.len() / 2];
        let moved: Vec<Vec<f64>> = informative
            .iter()
            .map(|(_, e)| e.on_reference_grid(ln_reference))
            .collect();
        let on_grid: Vec<(usize, &Vec<f64>)> = informative
            .iter()
            .zip(&moved)
            .map(|((n, _), m)| (*n, m))
            .collect();
        // Summed in a fixed order: the same prior on any thread count.
        let mut total = [0.0; GRID];
        for m in &moved {
            for (t, v) in total.iter_mut().zip(m.iter()) {
                *t += v;
            }
        }
        if total.iter().any(|v| !v.is_finite()) {
            return (Self::none(), Vec::new());
        }
        let best = total.iter().copied().fold(f64::INFINITY, f64::min);
        let (eb_weight, mode_index, ratio) = homogeneous_weight(&on_grid, &total, periods);
        let weight = weight.max(eb_weight);
        let per_period = weight / periods as f64;
        let pooled = Self {
            cost: Vec::new(),
            weight,
            reference_cost: total.iter().map(|v| (v - best) * per_period).collect(),
            ln_reference,
            mode_index,
            ratio,
        };
        (pooled.read_at(0.0), evidence)
    }

    /// This prior as the cost of each alpha of a series whose logit alphas
    /// sit `shift` from the reference series' ([`Evidence::shift`]), least
    /// at zero (a constant makes no difference to a fit).
    fn read_at(&self, shift: f64) -> Self {
        let cost = shifted(&self.reference_cost, shift);
        let least = cost.iter().copied().fold(f64::INFINITY, f64::min);
        Self {
            cost: cost.iter().map(|c| c - least).collect(),
            reference_cost: self.reference_cost.clone(),
            ..*self
        }
    }

    /// The prior's cost of `alpha`: a cubic Hermite (Catmull-Rom) curve in
    /// logit(alpha) through the grid points, so that the optimiser meets no
    /// kinks inside the grid; beyond its ends (alpha below 1.2e-4 or above
    /// 0.993) the cost is the end point's, so there is a kink at each end
    /// and alpha nearer 1 than 0.993 costs no more than 0.993.
    pub fn cost(&self, alpha: f64) -> f64 {
        if self.cost.is_empty() {
            return 0.0;
        }
        let x = (alpha / (1.0 - alpha)).ln();
        let pos = ((x - LOGIT_LOW) / (LOGIT_HIGH - LOGIT_LOW) * (GRID - 1) as f64)
            .clamp(0.0, (GRID - 1) as f64);
        let i = (pos.floor() as usize).min(GRID - 2);
        let t = pos - i as f64;
        let c = &self.cost;
        let slope = |j: usize| 0.5 * (c[(j + 1).min(GRID - 1)] - c[j.saturating_sub(1)]);
        let (t2, t3) = (t * t, t * t * t);
        (2.0 * t3 - 3.0 * t2 + 1.0) * c[i]
            + (t3 - 2.0 * t2 + t) * slope(i)
            + (-2.0 * t3 + 3.0 * t2) * c[i + 1]
            + (t3 - t2) * slope(i + 1)
    }

    /// The share of the prior's weight a series keeps, from its profile
    /// on the reference grid: (nu + 1) / (nu + d), at most 1, d twice its
    /// own log-likelihood ratio of its best against the pooled
    /// mode over the pool's mean of the same, R (at least 1): about 1 for
    /// a territory as far from the mode as the others, less for one whose
    /// own evidence disagrees (a Student-t prior of `ROBUST_DF` degrees of
    /// freedom instead of a normal one).
    fn share_from(&self, own: &[f64]) -> f64 {
        let best = own.iter().copied().fold(f64::INFINITY, f64::min);
        if !best.is_finite() || !own[self.mode_index].is_finite() {
            return 1.0;
        }
        let d = 2.0 * (own[self.mode_index] - best) / self.ratio.max(1.0);
        ((ROBUST_DF + 1.0) / (ROBUST_DF + d)).min(1.0)
    }

    /// This prior with its cost scaled by `share` (its weight times it).
    pub fn scaled(&self, share: f64) -> Self {
        Self {
            cost: self.cost.iter().map(|c| c * share).collect(),
            weight: self.weight * share,
            reference_cost: self.reference_cost.iter().map(|c| c * share).collect(),
            ..*self
        }
    }

    /// What the pooled evidence is worth, in periods of one territory;
    /// `None` without a prior.
    pub fn weight(&self) -> Option<f64> {
        (!self.cost.is_empty()).then_some(self.weight)
    }

    /// The alpha the pooled evidence favours (the grid point of least cost);
    /// `None` without a prior.
    pub fn mode(&self) -> Option<f64> {
        let i = (0..self.cost.len()).min_by(|&x, &y| self.cost[x].total_cmp(&self.cost[y]))?;
        Some(logistic(logit_at(i)))
    }
}

/// A series' evidence (`profile`) at each alpha grid point; `None` where
/// it has no units to measure it in.
fn own_evidence(a: &[f64], growth: &Growth) -> Option<Evidence> {
    let units = Units::of(a)?;
    let (profile, sds): (Vec<f64>, Vec<f64>) = (0..GRID)
        .map(|i| profile(a, growth, logistic(logit_at(i)), &units))
        .unzip();
    // The noise is the one-step sd where it is least (near the best
    // alpha) less the level's own movement in it: a local level's
    // innovations have variance noise / (1 - alpha) in its steady state.
    let best = (0..GRID).min_by(|&x, &y| sds[x].total_cmp(&sds[y]))?;
    let alpha = logistic(logit_at(best));
    Some(Evidence {
        profile,
        ln_sd: sds[best].ln() + 0.5 * (1.0 - alpha).ln(),
    })
}

/// The weight (in periods of one territory) that the pooled evidence on
/// alpha deserves by empirical Bayes, from how much the series' own
/// profiles differ from the pooled one. In a normal model on logit alpha
/// (series i's own estimate of variance v_i around its true value, the
/// true values spread by tau^2), twice the log-likelihood ratio of the
/// pooled mode against the series' own averages 1 + tau^2 / v_i; the
/// prior worth v_i / tau^2 of the series' precision is then worth
/// n / (R - 1) of its periods, R the mean of twice the ratios and n the
/// series' mean length. R is itself an estimate: a mean of N ratios each
/// about chi-squared with one degree of freedom, of standard error
/// sqrt(2 / N), so tau^2 / v is read one standard error high,
/// R - 1 + sqrt(2 / N): twelve territories whose true alphas agree and
/// whose own optima are inside the grid (R = 1) give the pool 2.4 of
/// their lengths, 200 give it 10 (at most the pool's periods). Where the
/// pooled mode sits at the grid's edge (alpha near 0: a company of noise,
/// the demo), each ratio's null mean is about a half, not 1, R falls
/// under 1 - sqrt(2 / N), and the pool gets all its periods: the
/// normal-model reading does not hold at the boundary, and there the
/// pool is what says the levels do not move.
fn homogeneous_weight(
    informative: &[(usize, &Vec<f64>)],
    total: &[f64; GRID],
    periods: usize,
) -> (f64, usize, f64) {
    let Some(mode) = (0..GRID).min_by(|&x, &y| total[x].total_cmp(&total[y])) else {
        return (0.0, 0, 1.0);
    };
    let count = informative.len() as f64;
    if count < 2.0 {
        return (0.0, mode, 1.0);
    }
    let ratio = informative
        .iter()
        .map(|(_, p)| {
            let own = p.iter().copied().fold(f64::INFINITY, f64::min);
            2.0 * (p[mode] - own)
        })
        .sum::<f64>()
        / count;
    let mean_length = periods as f64 / count;
    let spread = ratio - 1.0 + (2.0 / count).sqrt();
    if spread <= 0.0 {
        return (periods as f64, mode, ratio);
    }
    ((mean_length / spread).min(periods as f64), mode, ratio)
}

/// The priors on each form's alpha. The local level takes the pooled
/// profile of a plain local level. The group share and the trend forms
/// (the held slopes too, though a region path is fitted without a prior)
/// take the profile of a level moved by its group's growth path: in
/// each, alpha is how far the level moves *beyond* a growth the form
/// already carries (the group's, or the form's own slope), and a plain
/// level's profile, which chases growth with a large alpha, would pull a
/// trend's alpha too high. Without a prior, the trend forms' maximum-
/// likelihood alpha piles up at 0 on short histories as a plain level's
/// does: a deterministic curve fitted to the whole history (Superstore's
/// regions, fitted to two flat years and a third 30% up, forecast 75-96%
/// of the last year's level with their damped trends), whose intervals do
/// not widen with the level's real movement. The stable mean has no alpha.
#[derive(Debug, Clone, Default)]
pub struct FormPriors {
    pub level: AlphaPrior,
    pub group: AlphaPrior,
}

impl FormPriors {
    /// No priors.
    pub fn none() -> Self {
        Self::default()
    }

    /// The cost of `alpha` for `form`.
    pub fn cost(&self, form: Form, alpha: f64) -> f64 {
        match form {
            Form::Level => self.level.cost(alpha),
            Form::Group
            | Form::Damped
            | Form::Trend
            | Form::Compounding
            | Form::Drift
            | Form::Rate => self.group.cost(alpha),
            Form::Mean => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed pseudo-random normal sequence (Box-Muller on an LCG).
    fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut x = seed;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let (u, v) = (next(), next());
                (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
            })
            .collect()
    }

    static NONE: Growth = Growth {
        history: Vec::new(),
        forecast: Vec::new(),
    };

    fn as_slices(v: &[Vec<f64>]) -> Vec<(&[f64], &Growth)> {
        v.iter().map(|a| (a.as_slice(), &NONE)).collect()
    }

    fn wandering(n: usize, seed: u64, wander: f64, noise: f64) -> Vec<f64> {
        let z = normals(2 * n, seed);
        let mut level = 1000.0;
        (0..n)
            .map(|t| {
                level *= 1.0 + wander * z[2 * t];
                level * (1.0 + noise * z[2 * t + 1])
            })
            .collect()
    }

    #[test]
    fn a_company_of_noise_favours_a_stable_level_and_one_that_wanders_does_not() {
        let noise: Vec<Vec<f64>> = (0..40).map(|s| wandering(24, s, 0.0, 0.08)).collect();
        let moving: Vec<Vec<f64>> = (0..40).map(|s| wandering(24, s, 0.03, 0.08)).collect();
        let still = AlphaPrior::pooled(&as_slices(&noise), 12.0).mode().unwrap();
        let moves = AlphaPrior::pooled(&as_slices(&moving), 12.0)
            .mode()
            .unwrap();
        // The signal-to-noise ratio (0.03 / 0.08)^2 = 0.14 of a local level
        // has the steady-state alpha (-q + sqrt(q^2 + 4q)) / 2 = 0.31.
        assert!(still < 0.05, "noise pools to alpha {still}");
        assert!(
            (0.15..0.6).contains(&moves),
            "wander pools to alpha {moves}"
        );
    }

    #[test]
    fn many_short_histories_pool_to_how_far_their_levels_move() {
        // 150 histories of 12 quarters, a level wandering 2% under 6%
        // noise: q = (0.02 / 0.06)^2 = 0.11, steady-state alpha 0.28. Each
        // one's initial level maximised, the pooled mode is the grid's
        // lowest point (1.2e-4) however many there are; integrated out, it
        // is the grid point nearest 0.28 from above or below (0.27 or 0.5).
        // Pure noise of the same length still pools to a stable level.
        let short: Vec<Vec<f64>> = (0..150)
            .map(|s| wandering(12, 500 + s, 0.02, 0.06))
            .collect();
        let moves = AlphaPrior::pooled(&as_slices(&short), 4.0).mode().unwrap();
        assert!((0.2..0.6).contains(&moves), "pools to alpha {moves}");
        let noise: Vec<Vec<f64>> = (0..150)
            .map(|s| wandering(12, 500 + s, 0.0, 0.06))
            .collect();
        let still = AlphaPrior::pooled(&as_slices(&noise), 4.0).mode().unwrap();
        assert!(still < 0.05, "noise pools to alpha {still}");
    }

    #[test]
    fn a_noisier_territory_whose_level_moves_as_far_gets_a_smaller_alpha() {
        // Forty territories whose levels all wander 2% a period, half under
        // 4% noise and half under 30% (a lumpy one): what they share is how
        // far their levels move, not the weight a period's surprise
        // deserves. The steady-state alphas are 0.39 and 0.065 (q = 0.25
        // and 0.0044); each territory's prior favours its own.
        let series: Vec<Vec<f64>> = (0..40)
            .map(|s| wandering(48, 900 + s, 0.02, if s % 2 == 0 { 0.04 } else { 0.3 }))
            .collect();
        let (_, each) = AlphaPrior::pooled_for_each(&as_slices(&series), 12.0);
        let (smooth, lumpy) = median_modes(&each);
        assert!(lumpy < smooth / 3.0, "smooth {smooth}, lumpy {lumpy}");
        assert!((0.1..0.7).contains(&smooth), "smooth {smooth}");
    }

    /// The median of each half's own prior mode (even and odd indices).
    fn median_modes(each: &[AlphaPrior]) -> (f64, f64) {
        let median = |parity: usize| {
            let mut v: Vec<f64> = (0..each.len())
                .filter(|i| i % 2 == parity)
                .map(|i| each[i].mode().unwrap())
                .collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        (median(0), median(1))
    }

    #[test]
    fn a_level_that_moves_more_is_not_read_as_noise() {
        // Equal noise (5%), levels wandering 2% and 6% a period: the
        // one-step errors of the faster ones are larger only because their
        // levels move, and they must not be read as noisier (their prior
        // would then favour a smaller alpha). Read from the least one-step
        // sd itself, the slower half's mode was 0.73 and the faster's 0.5.
        let series: Vec<Vec<f64>> = (0..40)
            .map(|s| wandering(48, 300 + s, if s % 2 == 0 { 0.02 } else { 0.06 }, 0.05))
            .collect();
        let (_, each) = AlphaPrior::pooled_for_each(&as_slices(&series), 12.0);
        let (slow, fast) = median_modes(&each);
        assert!(fast >= slow, "slow {slow}, fast {fast}");
    }

    #[test]
    fn series_beyond_the_pools_sample_get_their_own_prior_as_sampled_ones_do() {
        // 300 series: the pool samples every second one (at most 250), and
        // the others' evidence is computed for their own priors.
        let series: Vec<Vec<f64>> = (0..300)
            .map(|s| wandering(24, 700 + s, 0.03, 0.08))
            .collect();
        let (prior, each) = AlphaPrior::pooled_for_each(&as_slices(&series), 12.0);
        let (sampled, beyond) = median_modes(&each);
        assert_eq!(sampled, beyond);
        assert!(each[1].weight().unwrap() > 0.0 && each[1].weight() <= prior.weight());
    }

    #[test]
    fn the_initial_level_is_pinned_by_every_period_only_when_it_never_moves() {
        let n = 24;
        assert!((initial_level_penalty(0.0, n) - 0.5 * (n as f64).ln()).abs() < 1e-12);
        assert!(initial_level_penalty(1.0, n).abs() < 1e-12);
        let geometric = (1.0 - 0.25f64.powi(n as i32)) / 0.75;
        assert!((initial_level_penalty(0.5, n) - 0.5 * geometric.ln()).abs() < 1e-12);
    }

    #[test]
    fn constant_series_do_not_sway_the_pooled_evidence() {
        let moving: Vec<Vec<f64>> = (0..30).map(|s| wandering(24, s, 0.03, 0.08)).collect();
        let mut with_flat = moving.clone();
        with_flat.extend((0..30).map(|k| vec![100.0 + k as f64; 24]));
        let alone = AlphaPrior::pooled(&as_slices(&moving), 12.0);
        let mixed = AlphaPrior::pooled(&as_slices(&with_flat), 12.0);
        // Neither the shape nor the weight moves (a constant series would
        // otherwise dilute the weight over its periods too).
        for (a, b) in alone.cost.iter().zip(&mixed.cost) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }

    #[test]
    fn the_cost_is_worth_the_weight_in_periods_and_zero_at_its_mode() {
        let moving: Vec<Vec<f64>> = (0..20).map(|s| wandering(36, s, 0.03, 0.08)).collect();
        let slices = as_slices(&moving);
        let one = AlphaPrior::pooled(&slices, 12.0);
        let two = AlphaPrior::pooled(&slices, 24.0);
        let mode = one.mode().unwrap();
        assert!(one.cost(mode).abs() < 1e-12);
        let far = 1e-4;
        assert!(one.cost(far) > 0.0);
        // The weight is at least the one asked for, more where the series
        // agree (`homogeneous_weight`), and the cost is in proportion.
        let (w1, w2) = (one.weight().unwrap(), two.weight().unwrap());
        assert!(w1 >= 12.0);
        assert_eq!(w2, w1.max(24.0));
        assert!((two.cost(far) - w2 / w1 * one.cost(far)).abs() < 1e-9);
        assert_eq!(AlphaPrior::none().cost(0.3), 0.0);
        assert_eq!(AlphaPrior::none().weight(), None);
    }

    #[test]
    fn series_that_move_alike_pool_more_than_a_year_and_unlike_ones_a_year() {
        // Forty series of 24 periods, all a level wandering 3% under 8%
        // noise: their own profiles differ from the pooled one by little
        // more than their noise, and the pool counts for more than a year.
        // Twenty steady and twenty wandering 15%: the pooled mode fits
        // neither, and the weight stays under two years (a year for every
        // company, the weight before session 28, fails the first check).
        let alike: Vec<Vec<f64>> = (0..40).map(|s| wandering(24, s, 0.03, 0.08)).collect();
        let pooled = AlphaPrior::pooled(&as_slices(&alike), 12.0);
        assert!(pooled.weight().unwrap() > 24.0, "{:?}", pooled.weight());
        let unlike: Vec<Vec<f64>> = (0..40)
            .map(|s| wandering(24, 100 + s, if s % 2 == 0 { 0.0 } else { 0.15 }, 0.08))
            .collect();
        let mixed = AlphaPrior::pooled(&as_slices(&unlike), 12.0);
        assert!(mixed.weight().unwrap() < 24.0, "{:?}", mixed.weight());
    }

    #[test]
    fn the_pool_is_worth_the_mean_length_over_its_spread_read_one_standard_error_high() {
        // Profiles on the grid with their mode at point 5 for the pool,
        // each series' own minimum `gap` below its value there (twice the
        // gap is its doubled log-likelihood ratio).
        fn profiles(count: usize, gap: f64) -> Vec<Vec<f64>> {
            (0..count)
                .map(|i| {
                    let own = if i % 2 == 0 { 4 } else { 6 };
                    (0..GRID)
                        .map(|j| {
                            if j == own {
                                0.0
                            } else if j == 5 {
                                gap
                            } else {
                                gap + 10.0
                            }
                        })
                        .collect()
                })
                .collect()
        }
        let weight = |p: &[Vec<f64>], periods: usize| {
            let informative: Vec<(usize, &Vec<f64>)> =
                p.iter().map(|v| (periods / p.len(), v)).collect();
            let mut total = [0.0; GRID];
            for v in p {
                for (t, x) in total.iter_mut().zip(v) {
                    *t += x;
                }
            }
            homogeneous_weight(&informative, &total, periods)
        };
        // R = 1 (each ratio 0.5, doubled): twelve series of 24 periods give
        // 24 / sqrt(2 / 12) = 58.8 periods; 200 give 240.
        let (w, mode, ratio) = weight(&profiles(12, 0.5), 12 * 24);
        assert_eq!(mode, 5);
        assert!((ratio - 1.0).abs() < 1e-12);
        assert!((w - 24.0 / (2.0f64 / 12.0).sqrt()).abs() < 1e-9, "{w}");
        let (w, _, _) = weight(&profiles(200, 0.5), 200 * 24);
        assert!((w - 240.0).abs() < 1e-9, "{w}");
        // R = 3: the series differ by twice their noise, 24 / (2 + 0.41).
        let (w, _, _) = weight(&profiles(12, 1.5), 12 * 24);
        assert!(
            (w - 24.0 / (2.0 + (2.0f64 / 12.0).sqrt())).abs() < 1e-9,
            "{w}"
        );
        // R near 0 (every series' own optimum at the mode): all the periods.
        let (w, _, _) = weight(&profiles(12, 0.0), 12 * 24);
        assert_eq!(w, 12.0 * 24.0);
        // One series: no spread to read.
        let (w, _, _) = weight(&profiles(1, 0.5), 24);
        assert_eq!(w, 0.0);
    }

    #[test]
    fn a_series_unlike_the_pool_keeps_less_of_its_weight() {
        // Among forty steady series, one that wanders 20% a period: its own
        // evidence on alpha is far from the pooled mode, so it keeps a
        // small share of the prior (a Student-t prior, not a normal one);
        // a steady series keeps about all of it.
        let mut series: Vec<Vec<f64>> = (0..40).map(|s| wandering(36, s, 0.0, 0.08)).collect();
        series.push(wandering(36, 500, 0.0, 0.08));
        series.push(wandering(36, 501, 0.2, 0.08));
        let (prior, each) = AlphaPrior::pooled_for_each(&as_slices(&series), 12.0);
        let share = |i: usize| each[i].weight().unwrap() / prior.weight().unwrap();
        let (keep_like, keep_unlike) = (share(40), share(41));
        assert!(keep_like > 0.6, "{keep_like}");
        assert!(keep_unlike < 0.2, "{keep_unlike}");
        assert!(
            (prior.scaled(0.5).cost(1e-4) - 0.5 * prior.cost(1e-4)).abs() < 1e-12,
            "scaled cost"
        );
    }
}
