//! A territory's residual law: the ratio of a period's revenue to its
//! state's expected amount, drawn through its normal-score transform `T(x)
//! = F^-1(Phi(x))`, tabulated once ([`ResidualLaw`]): its non-positive
//! mass, positive part and one-off spikes, and the two ways its draw
//! follows the period's expected amount (a zero rate, a variance power:
//! [`ResidualLaw::transform_at`], [`ResidualLaw::transform_at_lanes`] for
//! several trials at once).

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use super::sampler::STATE_QUANTILE;
use crate::stats::dist::Fitted;
use crate::stats::ln::ln_positive;
use crate::stats::quantile::sorted_quantile;
use crate::stats::special::{norm_cdf, norm_ppf};

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
/// the observed non-positive ratios, with probability `p_spike` a one-off
/// spike drawn from the observed spikes' ratios (the periods the state's
/// fit capped: a quarter's one big order), otherwise the positive part.
/// With a `zero_rate` (zeros only), the chance of a zero follows the
/// period's expected amount instead of `p0`, and the positive side
/// (spikes included) is scaled to keep the mean
/// ([`Self::transform_at`]); `quantile`, `cdf`, `mean` and `variance`
/// describe the law at `p0`, as fitted.
#[derive(Debug, Clone, Serialize)]
pub struct ResidualLaw {
    pub p0: f64,
    pub nonpositive: Vec<f64>,
    pub positive: PositivePart,
    pub p_spike: f64,
    /// The spikes' ratios, sorted.
    pub spikes: Vec<f64>,
    /// `F^-1(Phi(x))` on the grid as segments `[value, next value - value]`
    /// (one load per lookup, fixed size: no bounds checks), and the last
    /// grid value.
    #[serde(skip)]
    segments: Box<[[f64; 2]; GRID - 1]>,
    #[serde(skip)]
    last: f64,
    /// Zeros as deals that came to none (`fit::zeros`): the chance of a
    /// zero period falls as its expected amount rises. `None`: `p0`
    /// whatever the amount.
    pub zero_rate: Option<ZeroRate>,
    /// The relative spread following the expected amount (`fit::power`):
    /// `None`, the law as fitted at every amount.
    pub power: Option<VariancePower>,
    /// With a power, the mean correction E[T(X)] / E[T(sX)] at ln s =
    /// `LN_S_LOW` + i x `LN_S_STEP` (the law's mean kept at every scale).
    #[serde(skip)]
    power_means: Vec<f64>,
    /// With a power, the law's 99.9% point at each scale over its own
    /// (the innovation cap's factor; same grid).
    #[serde(skip)]
    power_caps: Vec<f64>,
    /// s = exp(ln s) at the grid's points (the simulation's scale).
    #[serde(skip)]
    power_scales: Vec<f64>,
}

/// A period's relative spread proportional to (expected amount /
/// `reference`)^`exponent` (`exponent` in [-1/2, 0]): the law's normal
/// score is scaled by that factor and the ratio rescaled to keep the mean
/// ([`ResidualLaw::transform_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VariancePower {
    pub exponent: f64,
    pub reference: f64,
}

/// Range and step of ln s, the normal score's scale under a variance power
/// (s from 0.14 to 2.7: an amount 55 times the reference at the Poisson
/// power, or a seventh of it).
const LN_S_LOW: f64 = -2.0;
const LN_S_HIGH: f64 = 1.0;
const LN_S_STEP: f64 = 0.05;

/// The chance of a period without a sale, exp(-`per_amount` x expected
/// amount): a count of deals whose rate is proportional to the amount.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ZeroRate {
    pub per_amount: f64,
}

impl ResidualLaw {
    /// A law from its parts; tabulates the normal-score transform.
    pub fn new(p0: f64, mut nonpositive: Vec<f64>, positive: PositivePart) -> Self {
        nonpositive.sort_by(f64::total_cmp);
        let mut law = Self {
            p0,
            nonpositive,
            positive,
            p_spike: 0.0,
            spikes: Vec::new(),
            segments: Box::new([[0.0; 2]; GRID - 1]),
            last: 0.0,
            zero_rate: None,
            power: None,
            power_means: Vec::new(),
            power_caps: Vec::new(),
            power_scales: Vec::new(),
        };
        law.tabulate();
        law
    }

    /// The same law with its zeros' chance falling as the expected amount
    /// rises (`rate`; `None` leaves it as it is). Only where the
    /// non-positive mass is all zeros.
    pub fn with_zero_rate(mut self, rate: Option<ZeroRate>) -> Self {
        if self.nonpositive.iter().all(|&r| r == 0.0) {
            self.zero_rate = rate;
        }
        self
    }

    /// The same law with its relative spread following the expected amount
    /// (`power`; `None` leaves it as it is). Only where the non-positive
    /// mass is all zeros and there is neither a zero rate nor a spike mass:
    /// scaling the normal score would otherwise move the chance of a credit
    /// or of a one-off spike with the amount.
    pub fn with_power(mut self, power: Option<VariancePower>) -> Self {
        let eligible = self.zero_rate.is_none()
            && self.spikes.is_empty()
            && self.nonpositive.iter().all(|&r| r == 0.0);
        self.power = power.filter(|_| eligible);
        self.tabulate_power();
        self
    }

    /// The mean corrections of [`Self::power_means`] from the current
    /// table: E[T(s X)] by the trapezoid rule on x in [-8, 8] through the
    /// same `transform` the simulation calls.
    fn tabulate_power(&mut self) {
        self.power_means.clear();
        self.power_caps.clear();
        self.power_scales.clear();
        if self.power.is_none() {
            return;
        }
        const STEPS: usize = 640;
        let (lo, hi) = (-8.0, 8.0);
        let dx = (hi - lo) / STEPS as f64;
        let expect = |s: f64| -> f64 {
            (0..=STEPS)
                .map(|j| {
                    let x = lo + j as f64 * dx;
                    let w = if j == 0 || j == STEPS { 0.5 } else { 1.0 };
                    w * self.transform(s * x) * (-0.5 * x * x).exp()
                })
                .sum::<f64>()
        };
        let base = expect(1.0);
        let n = ((LN_S_HIGH - LN_S_LOW) / LN_S_STEP).round() as usize + 1;
        let scales: Vec<f64> = (0..n)
            .map(|i| (LN_S_LOW + i as f64 * LN_S_STEP).exp())
            .collect();
        self.power_means = scales
            .iter()
            .map(|&s| {
                let m = expect(s);
                if m > 0.0 && base > 0.0 {
                    base / m
                } else {
                    1.0
                }
            })
            .collect();
        let z = norm_ppf(STATE_QUANTILE);
        let top = self.transform(z);
        self.power_caps = scales
            .iter()
            .zip(&self.power_means)
            .map(|(&s, &mean)| {
                if top > 0.0 {
                    self.transform(z * s) * mean / top
                } else {
                    1.0
                }
            })
            .collect();
        self.power_scales = scales;
    }

    /// Whether a period's draw depends on its expected amount (a zero rate
    /// or a variance power): then the simulation calls
    /// [`Self::transform_at`].
    pub fn varies_with_amount(&self) -> bool {
        self.zero_rate.is_some() || self.power.is_some()
    }

    /// [`Self::transform`] for a period whose expected amount is `amount`;
    /// returns the ratio and the factor on the law's 99.9% point at that
    /// amount (the innovation cap's):
    /// - with a zero rate, a zero below the chance exp(-rate x amount) and
    ///   above it the positive side of the law, its uniform score mapped
    ///   onto the positive side's and scaled by `keep` = (1 - p0) / (1 -
    ///   chance), so that the period's mean is the law's; the factor is
    ///   `keep`;
    /// - with a variance power, the score scaled by s = (amount /
    ///   reference)^exponent and the ratio by the mean correction at s;
    ///   the factor is the law's 99.9% point at s over its own;
    /// - otherwise `transform` and 1.
    #[inline(always)]
    pub fn transform_at(&self, x: f64, amount: f64) -> (f64, f64) {
        let (ratio, factor) = self.transform_at_lanes([x], [amount]);
        (ratio[0], factor[0])
    }

    /// [`Self::transform_at`] for `L` periods at once, each lane's arithmetic
    /// exactly its own alone: stage by stage over the lanes, so that the
    /// processor overlaps their chains (a variance power's draw is a
    /// logarithm, an exponential's series and table lookups in a row; one
    /// lane's whole step is more instructions than the processor looks
    /// ahead over, so lanes stepped one after another hardly overlapped).
    #[inline(always)]
    pub fn transform_at_lanes<const L: usize>(
        &self,
        x: [f64; L],
        amount: [f64; L],
    ) -> ([f64; L], [f64; L]) {
        let p = match (self.zero_rate, self.power) {
            (None, Some(p)) => p,
            (Some(rate), _) => {
                let mut out = ([0.0; L], [1.0; L]);
                for l in 0..L {
                    (out.0[l], out.1[l]) =
                        self.transform_with_zeros(x[l], amount[l], rate.per_amount);
                }
                return out;
            }
            (None, None) => return (self.transform_lanes(x), [1.0; L]),
        };
        // The ratio to the reference held to where ln s is in range: a
        // positive normal number, as `ln_positive` needs. An amount of 0
        // takes the top of the range, as before, and so does one too small
        // to divide (a subnormal ratio, which before took its own ln s
        // where the exponent is under 1/708).
        let ln_s: [f64; L] = std::array::from_fn(|l| {
            let ratio = amount[l] / p.reference;
            if ratio >= f64::MIN_POSITIVE {
                (p.exponent * ln_positive(ratio.min(f64::MAX))).clamp(LN_S_LOW, LN_S_HIGH)
            } else {
                LN_S_HIGH
            }
        });
        let last = self.power_means.len().saturating_sub(2);
        let pos: [f64; L] = std::array::from_fn(|l| (ln_s[l] - LN_S_LOW) * (1.0 / LN_S_STEP));
        let i: [usize; L] = std::array::from_fn(|l| (pos[l] as usize).min(last));
        let t: [f64; L] = std::array::from_fn(|l| pos[l] - i[l] as f64);
        // s = exp(ln s): the grid point's, times exp(u) for u = ln s less
        // the grid point (0 to LN_S_STEP), whose series to u^4 errs by
        // under 3e-9 (its terms paired for a shorter chain).
        let scaled: [f64; L] = std::array::from_fn(|l| {
            let u = ln_s[l] - (LN_S_LOW + i[l] as f64 * LN_S_STEP);
            let u2 = u * u;
            let exp_u = (1.0 + u) + u2 * ((0.5 + u * (1.0 / 6.0)) + u2 * (1.0 / 24.0));
            x[l] * self.power_scales[i[l]] * exp_u
        });
        let r = self.transform_lanes(scaled);
        let lerp = |v: &[f64], l: usize| v[i[l]] + t[l] * (v[i[l] + 1] - v[i[l]]);
        (
            std::array::from_fn(|l| r[l] * lerp(&self.power_means, l)),
            std::array::from_fn(|l| lerp(&self.power_caps, l)),
        )
    }

    /// [`Self::transform_at`] with a zero rate of `per_amount` (out of
    /// line: its normal CDF and quantile would keep the variance power's
    /// short path from being inlined into the simulation's kernel).
    #[inline(never)]
    fn transform_with_zeros(&self, x: f64, amount: f64, per_amount: f64) -> (f64, f64) {
        let chance = (-per_amount * amount).exp();
        if chance >= 1.0 {
            return (0.0, 1.0);
        }
        let keep = (1.0 - self.p0) / (1.0 - chance);
        let u = norm_cdf(x);
        if u < chance {
            return (0.0, keep);
        }
        let on_positive = self.p0 + (u - chance) * keep;
        let r = self.transform(norm_ppf(on_positive.clamp(1e-12, 1.0 - 1e-12)));
        (r * keep, keep)
    }

    /// The same law with a spike mass: probability `p_spike` of one of the
    /// observed spikes' ratios `spikes` (none when empty), the positive
    /// part's share reduced by it.
    pub fn with_spikes(mut self, p_spike: f64, mut spikes: Vec<f64>) -> Self {
        if spikes.is_empty() || p_spike <= 0.0 {
            return self;
        }
        spikes.sort_by(f64::total_cmp);
        self.p_spike = p_spike;
        self.spikes = spikes;
        self.tabulate();
        self
    }

    /// Tabulate the normal-score transform from the parts.
    fn tabulate(&mut self) {
        let table: Vec<f64> = (0..GRID)
            .map(|i| self.quantile(norm_cdf(i as f64 / PER_UNIT - X_MAX)))
            .collect();
        self.set_table(&table);
    }

    /// The non-positive mass and the positive part's together: 1 less the
    /// spikes' mass.
    fn spike_from(&self) -> f64 {
        1.0 - self.p_spike
    }

    /// The quantile `u` (at least `p0`) of the positive part and the spikes
    /// together: the spikes are point masses at their observed ratios,
    /// wherever they fall against the positive part, so the quantile is
    /// the mixture's own (the inverse of [`Self::cdf`]) and the table
    /// stays monotone. Between consecutive spikes the mixture's CDF is the
    /// positive part's, lifted by the spikes below; at a spike it jumps.
    fn positive_quantile(&self, u: f64) -> f64 {
        let share = (self.spike_from() - self.p0).max(0.0);
        let k = self.spikes.len();
        let step = self.p_spike / k.max(1) as f64;
        let mut lower = 0.0;
        for j in 0..=k {
            let upper = self.spikes.get(j).copied().unwrap_or(f64::INFINITY);
            let reached = self.p0 + step * j as f64;
            // Inside the jump at the spike just below.
            if j > 0 && u <= reached + share * self.positive.cdf(lower) {
                return lower;
            }
            if share > 0.0 {
                let target = (u - reached) / share;
                if target < 1.0 {
                    let x = self.positive.quantile(target.clamp(1e-12, 1.0 - 1e-12));
                    if x < upper {
                        return x.max(lower);
                    }
                }
            }
            lower = upper;
        }
        lower
    }

    /// Store the grid values `table` (GRID of them) as segments.
    fn set_table(&mut self, table: &[f64]) {
        for (s, w) in self.segments.iter_mut().zip(table.windows(2)) {
            *s = [w[0], w[1] - w[0]];
        }
        self.last = table[GRID - 1];
        self.tabulate_power();
    }

    /// Grid value `i` of the table.
    fn value(&self, i: usize) -> f64 {
        if i < GRID - 1 {
            self.segments[i][0]
        } else {
            self.last
        }
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
        } else if !self.spikes.is_empty() {
            self.positive_quantile(u)
        } else {
            let share = (self.spike_from() - self.p0).max(1e-12);
            self.positive
                .quantile(((u - self.p0) / share).clamp(1e-12, 1.0 - 1e-12))
        }
    }

    /// CDF of the whole law (mid-mass for values inside the non-positive
    /// part, and at a spike's own value).
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 && self.p0 > 0.0 {
            let f = if self.nonpositive.len() > 1 {
                empirical_cdf(&self.nonpositive, x)
            } else {
                0.5
            };
            self.p0 * f
        } else {
            let spikes = if self.spikes.is_empty() {
                0.0
            } else {
                let below = self.spikes.partition_point(|&v| v < x);
                let at_or_below = self.spikes.partition_point(|&v| v <= x);
                (below + at_or_below) as f64 / (2 * self.spikes.len()) as f64
            };
            self.p0 + (self.spike_from() - self.p0) * self.positive.cdf(x) + self.p_spike * spikes
        }
    }

    /// The normal score of ratio `x`: Phi^-1(F(x)), clamped to the table's range.
    pub fn normal_score(&self, x: f64) -> f64 {
        norm_ppf(self.cdf(x).clamp(1e-4, 1.0 - 1e-4))
    }

    /// `F^-1(Phi(x))` by linear interpolation in the precomputed table.
    #[inline(always)]
    pub fn transform(&self, x: f64) -> f64 {
        self.transform_lanes([x])[0]
    }

    /// [`Self::transform`] of `L` scores, stage by stage over the lanes.
    #[inline(always)]
    fn transform_lanes<const L: usize>(&self, x: [f64; L]) -> [f64; L] {
        let pos: [f64; L] = std::array::from_fn(|l| {
            ((x[l] + X_MAX) * PER_UNIT).clamp(0.0, (GRID - 1) as f64 - 1e-9)
        });
        // The segment floor(pos) without a float-to-int conversion (which
        // must saturate, many instructions on x86-64): adding 1.5 * 2^52
        // rounds `pos - 0.5` to an integer held in the low mantissa bits.
        // At an exact grid point this may pick the segment below with
        // `frac = 1`: the same value up to rounding.
        const ROUND: f64 = 6_755_399_441_055_744.0;
        let rounded: [f64; L] = std::array::from_fn(|l| (pos[l] - 0.5) + ROUND);
        std::array::from_fn(|l| {
            let floor = rounded[l] - ROUND;
            let i = (rounded[l].to_bits() as u32 as usize).min(GRID - 2);
            let [a, d] = self.segments[i];
            a + (pos[l] - floor) * d
        })
    }

    /// The law with its spread multiplied by about `factor`: how the fitter
    /// undoes the shrinking of in-sample residuals by the parameters fitted
    /// to them. The positive part is widened on the log scale (log R' =
    /// mu + factor (log R - mu), mu the mean log of the positive part) and
    /// then scaled so that the law's mean is unchanged; the non-positive
    /// mass (observed zeros and credits) and the spikes are kept as they
    /// are. So a positive
    /// ratio stays positive (a linear widening around the mean would push
    /// the lower tail below zero). The table alone changes; the fitted
    /// parts, reported in `fit.csv`, stay as estimated.
    pub fn widened(mut self, factor: f64) -> Self {
        if (factor - 1.0).abs() <= 1e-12 {
            return self;
        }
        // The spikes, like the non-positive mass, are kept as observed:
        // the grid points at a spike's own ratio (the quantile returns it
        // exactly).
        let widens = |r: f64| r > 0.0 && !self.is_spike(r);
        let p_pos = self.expectation(|r| if widens(r) { 1.0 } else { 0.0 });
        if p_pos <= 0.0 {
            return self;
        }
        let mu = self.expectation(|r| if widens(r) { r.ln() } else { 0.0 }) / p_pos;
        let widen = |r: f64| (mu + factor * (r.ln() - mu)).exp();
        let mean = self.mean();
        let kept = self.expectation(|r| if widens(r) { 0.0 } else { r });
        let widened = self.expectation(|r| if widens(r) { widen(r) } else { 0.0 });
        let scale = (mean - kept) / widened;
        if !(scale.is_finite() && scale > 0.0) {
            return self;
        }
        let table: Vec<f64> = (0..GRID)
            .map(|i| {
                let v = self.value(i);
                if widens(v) {
                    scale * widen(v)
                } else {
                    v
                }
            })
            .collect();
        self.set_table(&table);
        self
    }

    /// Mean of the law, from the table (used to check `E[R]` close to 1).
    pub fn mean(&self) -> f64 {
        self.expectation(|r| r)
    }

    /// The law of an ordinary period, as the state reads it: its mean and
    /// its quantile `q`, both from the table the draws come from, the
    /// one-off spikes left out. The fit estimated the state with the
    /// spikes capped (`fit::spikes`), so the simulation measures a
    /// period's surprise from the ordinary periods' mean, not from a mean
    /// the spikes lift, and innovations stop at the ordinary law's
    /// quantile `q`; a draw beyond it is taken as a spike (an ordinary one
    /// passes it one time in 1 / (1 - q)), and the state moves as at the
    /// ordinary mean (`PathSampler`'s `one_offs`; a spike below that point,
    /// rare since spikes are parted from the family only where they move
    /// its mean, moves the state as an ordinary draw would). Read against
    /// the whole law's mean, every ordinary
    /// period was a shortfall: with a 2% chance of a 100x spike (about
    /// three times the ordinary mean), a level of alpha 0.5 sank a third a
    /// month (`a_spike_in_the_last_month_does_not_sink_the_level`); and a
    /// spike moving the state by the cap, against ordinary periods now
    /// centred, lifted every path a little each month it was drawn, which
    /// a lumpy territory's multiplicative level compounded (a Superstore
    /// state selling a few hundred a month was simulated at a mean of 22M
    /// for one backtest month). Without spikes, the whole law's mean (from
    /// the table) and quantile (from the fitted parts), as before.
    pub fn ordinary_mean_and_quantile(&self, q: f64) -> (f64, f64) {
        if !self.has_spikes() {
            return (self.mean(), self.quantile(q));
        }
        let ordinary = self.expectation(|r| if self.is_spike(r) { 0.0 } else { 1.0 });
        let mean = self.expectation(|r| if self.is_spike(r) { 0.0 } else { r }) / ordinary;
        // The quantile from the table the draws come from (widened by the
        // calibration), so that an ordinary draw passes it as rarely as
        // `q` says: the first grid value below which that share of the
        // ordinary mass lies, weighed by the trapezoid rule of `expectation`.
        let ordinary_weight = |i: usize| {
            let end = if i == 0 || i == GRID - 1 { 0.5 } else { 1.0 };
            if self.is_spike(self.value(i)) {
                0.0
            } else {
                end * grid_density(i)
            }
        };
        let total: f64 = (0..GRID).map(ordinary_weight).sum();
        let mut below = 0.0;
        let quantile = (0..GRID)
            .find(|&i| {
                below += ordinary_weight(i);
                below >= q * total
            })
            .map_or(self.last, |i| self.value(i));
        (mean, quantile)
    }

    /// Whether the law has a mass of one-off spikes.
    pub fn has_spikes(&self) -> bool {
        self.p_spike > 0.0 && !self.spikes.is_empty()
    }

    /// Whether the ratio `r` is one of the spikes' (the table holds their
    /// exact values).
    fn is_spike(&self, r: f64) -> bool {
        r > 0.0 && self.spikes.binary_search_by(|v| v.total_cmp(&r)).is_ok()
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
        let weight = grid_density;
        let inner: f64 = (1..GRID - 1).map(|i| f(self.value(i)) * weight(i)).sum();
        let ends =
            0.5 * (f(self.value(0)) * weight(0) + f(self.value(GRID - 1)) * weight(GRID - 1));
        (inner + ends) * dx
    }
}

/// The standard normal density at grid point `i` of a law's table.
fn grid_density(i: usize) -> f64 {
    let x = i as f64 / PER_UNIT - X_MAX;
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

impl Distribution<f64> for ResidualLaw {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let z: f64 = StandardNormal.sample(rng);
        self.transform(z)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::stats::dist::Family;

    pub(in crate::model) fn normal_law(sd: f64) -> ResidualLaw {
        ResidualLaw::new(
            0.0,
            Vec::new(),
            PositivePart::Parametric(Fitted {
                family: Family::Normal,
                params: [1.0, sd],
            }),
        )
    }

    #[test]
    fn empirical_cdf_inverts_type7_quantiles() {
        let s = vec![1.0, 2.0, 4.0, 8.0];
        for &u in &[0.0, 0.2, 0.5, 0.9, 1.0] {
            let x = sorted_quantile(&s, u);
            assert!((empirical_cdf(&s, x) - u).abs() < 1e-12);
        }
    }

    #[test]
    fn a_variance_power_narrows_large_amounts_and_keeps_the_mean() {
        // A lognormal law (log sd 0.5) with a Poisson power at reference
        // amount 100: at 400 its normal scores are halved, at 25 doubled,
        // and at every amount the mean is the law's.
        let f = Fitted {
            family: Family::LogNormal,
            params: [-0.125, 0.5],
        };
        let law = ResidualLaw::new(0.0, Vec::new(), PositivePart::Parametric(f)).with_power(Some(
            VariancePower {
                exponent: -0.5,
                reference: 100.0,
            },
        ));
        let xs: Vec<f64> = (0..4001).map(|i| -6.0 + 12.0 * i as f64 / 4000.0).collect();
        let moments = |amount: f64| {
            let w: Vec<f64> = xs.iter().map(|x| (-0.5 * x * x).exp()).collect();
            let total: f64 = w.iter().sum();
            let r: Vec<f64> = xs.iter().map(|&x| law.transform_at(x, amount).0).collect();
            let mean = r.iter().zip(&w).map(|(r, w)| r * w).sum::<f64>() / total;
            let logs = r.iter().zip(&w).map(|(r, w)| r.ln() * w).sum::<f64>() / total;
            let sd = (r
                .iter()
                .zip(&w)
                .map(|(r, w)| (r.ln() - logs).powi(2) * w)
                .sum::<f64>()
                / total)
                .sqrt();
            (mean, sd)
        };
        let (m100, sd100) = moments(100.0);
        let (m400, sd400) = moments(400.0);
        let (m25, sd25) = moments(25.0);
        for m in [m100, m400, m25] {
            assert!(
                (m - law.mean()).abs() < 2e-3,
                "mean {m} against {}",
                law.mean()
            );
        }
        assert!((sd100 - 0.5).abs() < 0.01, "{sd100}");
        assert!((sd400 - 0.25).abs() < 0.01, "{sd400}");
        assert!((sd25 - 1.0).abs() < 0.02, "{sd25}");
        // Without a power, the law at any amount.
        let plain = law.clone().with_power(None);
        assert_eq!(plain.transform_at(1.0, 400.0), (plain.transform(1.0), 1.0));
        // The cap's factor: the 99.9% point at half the scale, over its own
        // (a lognormal's mean correction at s: exp(sdlog^2 (1 - s^2) / 2)).
        let (_, cap) = law.transform_at(0.0, 400.0);
        let top = |s: f64| (-0.125 + 0.5 * s * 3.0902f64).exp();
        let expected = top(0.5) * (0.125f64 * (1.0 - 0.25)).exp() / top(1.0);
        assert!(
            (cap - expected).abs() < 0.01,
            "cap factor {cap} against {expected}"
        );
    }

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
    fn spikes_are_point_masses_wherever_they_fall_and_the_table_stays_monotone() {
        // A positive part around 1 (sd 0.2, reaching past 1.3) with spikes
        // at 1.3 (inside its range) and 50, 5% of the mass between them.
        let law = normal_law(0.2).with_spikes(0.05, vec![50.0, 1.3]);
        // The CDF is the mixture's: half a spike's mass at its own value.
        let below = law.cdf(1.3 - 1e-9);
        assert!((law.cdf(1.3) - below - 0.0125).abs() < 1e-6);
        // The quantile inverts it, landing on the spikes exactly.
        assert_eq!(law.quantile(below + 0.01), 1.3);
        assert_eq!(law.quantile(0.999), 50.0);
        for x in [0.6, 1.0, 1.2, 1.4, 1.7] {
            let back = law.quantile(law.cdf(x));
            assert!((back - x).abs() < 1e-6, "{x} -> {back}");
        }
        // The table is monotone (the copula's ordering holds).
        let mut previous = f64::NEG_INFINITY;
        for i in 0..GRID {
            let v = law.value(i);
            assert!(v >= previous, "grid {i}: {v} after {previous}");
            previous = v;
        }
        // The mean keeps the spikes' share: 0.95 x 1 + 0.025 x (1.3 + 50).
        assert!(
            (law.mean() - (0.95 + 0.025 * 51.3)).abs() < 0.02,
            "{}",
            law.mean()
        );
    }

    #[test]
    fn widening_scales_the_spread_keeps_the_mean_and_stays_positive() {
        // A narrow law: the log-scale widening is close to a linear one.
        let law = normal_law(0.1);
        let wide = law.clone().widened(2.0);
        // The same mean up to the table's quadrature (weights sum to 1 - 2e-9).
        assert!((wide.mean() - law.mean()).abs() < 1e-7);
        let ratio = wide.variance() / law.variance();
        assert!((3.6..=4.6).contains(&ratio), "variance ratio {ratio}");
        // A wide lognormal: a linear widening by 1.4 would put about 10% of
        // the mass below zero; the log-scale one keeps every value positive.
        let skewed = ResidualLaw::new(
            0.0,
            Vec::new(),
            PositivePart::Parametric(Fitted {
                family: Family::LogNormal,
                params: [-0.5 * 0.67 * 0.67, 0.67],
            }),
        );
        let wide = skewed.clone().widened(1.4);
        assert!((wide.mean() - skewed.mean()).abs() < 1e-6);
        assert!(wide.variance() > 1.9 * skewed.variance());
        for x in [-5.9, -4.0, -2.0, 0.0] {
            assert!(wide.transform(x) > 0.0, "x = {x}");
        }
    }
    #[test]
    fn a_variance_powers_scale_is_the_amounts_power() {
        // A normal law (mean 1, sd 0.1) transforms a score x into 1 + 0.1
        // x exactly, and keeps its mean at every scale, so at an amount
        // the ratio less 1, over 0.1 x, reads the scale the draw used:
        // (amount / reference)^exponent within 1e-8, across the scale's
        // grid (ln s from -2 to 1) and at its points (the exponential is
        // the grid point's times a series, within 3e-9).
        let law = normal_law(0.1).with_power(Some(VariancePower {
            exponent: -0.5,
            reference: 100.0,
        }));
        let x = 1.5;
        for k in 0..=600 {
            let ln_s = LN_S_LOW + (LN_S_HIGH - LN_S_LOW) * k as f64 / 600.0;
            let amount = 100.0 * (ln_s / -0.5).exp();
            let (r, _) = law.transform_at(x, amount);
            let scale = (r - 1.0) / (0.1 * x);
            let truth = (amount / 100.0).powf(-0.5);
            assert!(
                (scale / truth - 1.0).abs() < 1e-8,
                "amount {amount}: scale {scale} against {truth}"
            );
        }
    }
}
