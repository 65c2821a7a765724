//! Drawing a territory's paths: the per-run constants of its model
//! ([`PathSampler`], from [`TerritoryModel::sampler`]) and the kernels
//! that draw a batch of trials from them (the state's recursions, the
//! residual law's or the compound law's draws, trials side by side where
//! the draw allows it). The model the paths follow is described in the
//! parent module (`model`).

use rand::Rng;
use rand_distr::Distribution;

use super::{form_mean, LevelCholesky, LevelLaw, Loadings, TerritoryModel};
use crate::stats::normal;
use crate::stats::special::norm_ppf;

impl TerritoryModel {
    /// The per-run constants for drawing this territory's paths over the
    /// horizon periods whose season positions are `seasons`.
    pub fn sampler(&self, seasons: &[usize], loadings: &Loadings) -> PathSampler<'_> {
        // An ordinary period's law, as the state reads it: the spikes
        // left out (`ResidualLaw::ordinary_mean_and_quantile`). A compound
        // (deal) territory's innovations are its deals' total over their
        // expected value; its cap stays the residual law's own.
        let (ordinary_mean, ordinary_top) = match &self.compound {
            Some(_) => (self.residual.mean(), self.residual.quantile(STATE_QUANTILE)),
            None => self.residual.ordinary_mean_and_quantile(STATE_QUANTILE),
        };
        let ratio_mean = match &self.compound {
            Some(c) => c.mean_scale,
            None => ordinary_mean,
        };
        let season: Vec<f64> = seasons.iter().map(|&s| self.season[s]).collect();
        let selling = season
            .contains(&0.0)
            .then(|| (0..season.len()).filter(|&h| season[h] != 0.0).collect());
        let sells = |h: &usize| selling.as_ref().is_none_or(|s: &Vec<usize>| s.contains(h));
        let selling_season: Vec<f64> = season.iter().copied().filter(|&v| v != 0.0).collect();
        let mut forms: Vec<(f64, f64, FormSampler)> = self
            .forms()
            .map(|(weight, law, growth)| {
                let form = FormSampler {
                    below: 0.0,
                    law: *law,
                    chol: law.cholesky(),
                    floor: LEVEL_FLOOR * law.level.abs(),
                    growth: (0..seasons.len())
                        .filter(sells)
                        .map(|h| growth.get(h).copied().unwrap_or(0.0))
                        .collect(),
                };
                (weight, form.seasonal_total(&selling_season), form)
            })
            .collect();
        // Ordered by their expected totals over the periods they sell in
        // (`TrialScores::form`), the cumulative weights in that order.
        forms.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut cumulative = 0.0;
        let forms = forms
            .into_iter()
            .map(|(weight, _, mut form)| {
                cumulative += weight;
                form.below = norm_ppf(cumulative);
                form
            })
            .collect();
        PathSampler {
            model: self,
            forms,
            own: loadings.own,
            own_ar: loadings.own_ar,
            innovation: (1.0 - loadings.own_ar * loadings.own_ar).sqrt(),
            inv_ratio_mean: if ratio_mean > 0.0 {
                1.0 / ratio_mean
            } else {
                0.0
            },
            max_innovation: if ordinary_mean > 0.0 {
                (ordinary_top / ordinary_mean - 1.0).max(0.0)
            } else {
                0.0
            },
            one_offs: self.compound.is_none() && self.residual.has_spikes(),
            season: selling_season,
            selling,
        }
    }
}

/// Innovations beyond the ordinary law's quantile at this level (the
/// spikes left out: `ResidualLaw::ordinary_mean_and_quantile`) move the
/// state no further: the fit capped one-off spikes before estimating the
/// state, and an uncapped heavy-tailed draw, compounded over the horizon
/// by a multiplicative level, would make a few paths explode.
pub(super) const STATE_QUANTILE: f64 = 0.999;
/// Trials a residual law whose draw depends on the period's amount has
/// its paths drawn side by side in ([`PathSampler::lanes`]): each draw a
/// logarithm, an exponential and table lookups, a long serial chain, taken
/// stage by stage over the lanes ([`ResidualLaw::transform_at_lanes`]).
/// Eight lanes drew about 5% more a second than four on the sales-only
/// bench company (session 34). A plain law's draw is short and its paths
/// are drawn one trial at a time (side by side, the `simulate` bench's
/// plain laws ran 3-5% slower in session 33).
const PATH_LANES: usize = 8;

/// The simulated level never falls below this share of the origin's level
/// (the multiplicative state would stay at zero once there).
const LEVEL_FLOOR: f64 = 1e-3;

/// One territory's constants for drawing paths in batches of trials: the
/// Cholesky factor of its state law, its noise weights and its season
/// index per horizon period, computed once per run instead of per draw.
/// "Period" below is a period it sells in: a closed season's periods are
/// left out of the draws and set to zero (`selling`).
///
/// A trial's path: the state (level and slope) drawn from its joint normal
/// law (two normals; the level's scaled by its side's shift), then per
/// period h the territory's own AR(1) noise (one normal), the mixed normal
/// score `x = common[h] + own_weight * own`, the mean `mu = level + phi *
/// slope` (or its compounding form), the value `mu * season[h] * T(x)` (`T`
/// at that expected amount where the law has a zero rate)
/// (or the compound law's deals at that base and score), and the state
/// moved by the period's innovation (see `model`'s module docs).
#[derive(Debug, Clone)]
pub struct PathSampler<'a> {
    model: &'a TerritoryModel,
    /// The level-and-trend forms a trial draws from (one, or the averaged
    /// ones with their cumulative weights, ascending by their expected
    /// totals: `FormSampler::seasonal_total`).
    forms: Vec<FormSampler>,
    own: f64,
    own_ar: f64,
    innovation: f64,
    /// 1 / E\[R\] of an ordinary period (the spikes left out): an
    /// innovation is R / E\[R\] - 1.
    inv_ratio_mean: f64,
    /// The largest innovation that moves the state (a 1-in-1,000 ordinary
    /// period's).
    max_innovation: f64,
    /// Whether the law has one-off spikes: a draw beyond the largest
    /// innovation is then one of them, and moves the state not at all
    /// (`ResidualLaw::ordinary_mean_and_quantile`).
    one_offs: bool,
    /// Seasonal index of each horizon period it sells in.
    season: Vec<f64>,
    /// The horizon periods it sells in, when its company is closed in
    /// some (`fit::offseason`): its paths are drawn over those alone, the
    /// state waiting through the closed ones, which are zero. `None`: all.
    selling: Option<Vec<usize>>,
}

/// A batch of trials' scores shared beyond one territory.
#[derive(Debug, Clone, Copy)]
pub struct TrialScores<'a> {
    /// The common parts of each trial's level and slope scores (two per
    /// trial: `sim::common_level_scores`).
    pub level: &'a [f64],
    /// Each trial's score of the level-and-trend form drawn, one for all
    /// the company's territories (`None`: the territory's own). Each
    /// territory's forms are ranked by their expected totals over the
    /// periods they are drawn in (at the level's estimate), so a high
    /// score draws a form high in its territory's ranking in every
    /// territory.
    /// Why together: which form is right is a question the territories
    /// share (their weights are their regions' pooled evidence, from
    /// rolling origins on the same calendar, so a market that fooled one
    /// region's origins fooled the others'), as a common shock moves
    /// them together. Drawn apart, the answers averaged out over the
    /// territories, and the company's total was as sure as if the forms
    /// agreed: on the generator's companies with a year held out
    /// (`docs/experiments/generator_holdout.py`, three years of history)
    /// the company's actual fell inside its P10-P90 in 19 of 40, in 24
    /// drawn together (five years: 30 and 33), each territory's law the
    /// same. An upper bound on their dependence, as a company factor
    /// is for the periods' shocks in a company of one region.
    pub form: Option<&'a [f64]>,
}

/// One form's constants for drawing paths.
#[derive(Debug, Clone)]
struct FormSampler {
    /// The normal score of the cumulative weight up to and including this
    /// form: a trial whose form score is below it (and not below the
    /// previous form's) draws this form (its uniform score, Phi of the
    /// form score, is below the cumulative weight: the comparison made on
    /// the normal scale, no CDF per trial).
    below: f64,
    law: LevelLaw,
    /// Cholesky factor of the state law's covariance.
    chol: LevelCholesky,
    /// Lowest simulated level.
    floor: f64,
    /// The group's growth in each horizon period it sells in (0: none).
    growth: Vec<f64>,
}

impl FormSampler {
    /// The form's expected total over the periods it is drawn in, whose
    /// seasonal indices are `season` (at the level's estimate, with the
    /// group's growth): the key its territory's forms are ordered by.
    fn seasonal_total(&self, season: &[f64]) -> f64 {
        season
            .iter()
            .enumerate()
            .map(|(h, w)| w * form_mean(&self.law, &self.growth, h))
            .sum()
    }
}

impl PathSampler<'_> {
    /// With a zero rate and one-off spikes, how a period's ratio measures
    /// its innovation at its amount, where the rate keeps the share `keep`
    /// (`ResidualLaw::transform_at`'s factor) of the law's positive side:
    /// a spike's chance there is p_spike / keep, so the ordinary periods'
    /// mean is the law's ordinary mean times (1 - p_spike) / (1 - p_spike
    /// / keep), and a ratio is read over it. 1 otherwise.
    #[inline]
    fn ordinary_share_at(&self, keep: f64) -> f64 {
        let law = &self.model.residual;
        if !self.one_offs || law.zero_rate.is_none() || keep <= 0.0 {
            return 1.0;
        }
        (1.0 - law.p_spike / keep) / (1.0 - law.p_spike)
    }

    /// Standard normals one trial uses: two for its state, one per selling
    /// period for its own noise, and with averaged forms one that draws
    /// the form.
    pub fn normals_per_trial(&self) -> usize {
        2 + self.season.len() + usize::from(self.forms.len() > 1)
    }

    /// One trial's path into `out` (one value per horizon period), from the
    /// trial's shocks: the common parts of its level and slope scores and
    /// its combined common shocks per period. The same law as
    /// [`Self::sample_batch`] for one trial (which the simulation uses,
    /// drawing a batch's normals at once).
    pub fn sample_path<R: Rng + Clone>(
        &self,
        rng: &mut R,
        level_common: [f64; 2],
        common: &[f64],
        out: &mut [f64],
    ) {
        let mut z = Vec::new();
        let scores = TrialScores {
            level: &level_common,
            form: None,
        };
        self.sample_batch(rng, scores, Some(common), out, &mut z);
    }

    /// Draw the paths of consecutive trials into `out` ([trial * n + h],
    /// n horizon periods): all the trials' normals first, in one call of
    /// [`normal::fill`] into the scratch buffer `z`, then the paths period
    /// by period ([`Self::lanes`]: a residual law's trials `PATH_LANES`
    /// side by side where its draw depends on the amount; a plain law's
    /// and a compound law's one trial after another). `scores` holds the
    /// trials' common scores of the level and slope and of the form;
    /// `common` (laid out as `out`) the trials' combined common shocks
    /// (`None`: all zero, as without company and region factors, and then
    /// not read).
    pub fn sample_batch<R: Rng + Clone>(
        &self,
        rng: &mut R,
        scores: TrialScores,
        common: Option<&[f64]>,
        out: &mut [f64],
        z: &mut Vec<f64>,
    ) {
        let level_common = scores.level;
        // A closed season's periods (`selling`): the selling ones are
        // drawn together into `compact`, then put in their places.
        let mut compact = Vec::new();
        let gathered: Option<Vec<f64>>;
        let trials = level_common.len() / 2;
        let all = out.len() / trials.max(1);
        let (target, common) = match &self.selling {
            None => (&mut *out, common),
            Some(selling) => {
                gathered = common.map(|v| {
                    (0..trials)
                        .flat_map(|t| selling.iter().map(move |&h| v[t * all + h]))
                        .collect()
                });
                out.fill(0.0);
                compact.resize(trials * selling.len(), 0.0);
                (&mut compact[..], gathered.as_deref())
            }
        };
        let n = self.season.len();
        if n == 0 {
            return;
        }
        let per = self.normals_per_trial();
        z.resize(target.len() / n * per, 0.0);
        normal::fill(rng, z);
        // The form's score is the company's, where it is given: the
        // trial's last normal (`trial_form`).
        if let (Some(form), true) = (scores.form, self.forms.len() > 1) {
            debug_assert_eq!(form.len(), trials);
            for (zt, f) in z.chunks_exact_mut(per).zip(form) {
                zt[per - 1] = *f;
            }
        }
        let law = &self.model.residual;
        match &self.model.compound {
            // Laws whose draw depends on the period's amount have a kernel
            // of their own, so that the others' stays as it was.
            None if law.varies_with_amount() => {
                self.residual_paths::<PATH_LANES>(level_common, common, target, z, |b, x| {
                    // The period's law at its amount: so is its cap.
                    let (r, factor) = law.transform_at_lanes(x, b);
                    std::array::from_fn(|l| {
                        let ordinary = self.ordinary_share_at(factor[l]);
                        (
                            r[l],
                            factor[l] * ordinary * (1.0 + self.max_innovation) - 1.0,
                            ordinary,
                        )
                    })
                })
            }
            None => self.residual_paths::<1>(level_common, common, target, z, |_, [x]| {
                [(law.transform(x), self.max_innovation, 1.0)]
            }),
            Some(law) => {
                // The trial's deal-law parameters, drawn at its first period.
                let mut drawn = None;
                let deals = |rng: &mut R, h: usize, [b]: [f64; 1], [x]: [f64; 1]| {
                    let trial = if h == 0 {
                        drawn.insert(law.sample(rng))
                    } else {
                        drawn.get_or_insert_with(|| law.sample(rng))
                    };
                    let v = law.sample_period(rng, trial, b, x);
                    let ratio = if b > 0.0 { v / b } else { 0.0 };
                    [(v, ratio, self.max_innovation)]
                };
                match common {
                    // One trial after another: the deals read `rng` in order.
                    Some(c) => {
                        self.lanes::<true, true, 1, R>(rng, level_common, c, target, z, deals)
                    }
                    None => {
                        self.lanes::<false, true, 1, R>(rng, level_common, &[], target, z, deals)
                    }
                }
            }
        }
        if let Some(selling) = &self.selling {
            let k = selling.len().max(1);
            for (row, values) in out
                .chunks_exact_mut(all.max(1))
                .zip(compact.chunks_exact(k))
            {
                for (&h, &v) in selling.iter().zip(values) {
                    row[h] = v;
                }
            }
        }
    }

    /// The paths of [`Self::sample_batch`] for a residual law, `ratio(base,
    /// score)` giving a period's ratio to its base and the cap on the
    /// innovation it makes; the kernel chosen by
    /// whether there are common shocks and whether the state moves (alpha
    /// = beta = 0, the stable level, needs no innovations: its own kernel,
    /// the same values); `LANES` trials side by side ([`Self::lanes`]).
    fn residual_paths<const LANES: usize>(
        &self,
        level_common: &[f64],
        common: Option<&[f64]>,
        target: &mut [f64],
        z: &[f64],
        ratio: impl Fn([f64; LANES], [f64; LANES]) -> [(f64, f64, f64); LANES],
    ) {
        // `ratio` gives each lane's period's ratio, its innovation's cap
        // and the factor on the ratio that measures the innovation (1 but
        // for a zero rate's spikes: `ordinary_share_at`).
        let moves = self.forms.iter().any(|f| {
            let st = f.law.smoothing;
            st.alpha != 0.0 || st.beta != 0.0
        });
        // A residual law's draw is a function of the trial's normals
        // alone (no generator is read), so trials can be drawn side by side.
        let draw = |_: &mut (), _: usize, b: [f64; LANES], x: [f64; LANES]| {
            let drawn = ratio(b, x);
            std::array::from_fn(|l| {
                let (r, cap, innovation) = drawn[l];
                (b[l] * r, r * innovation, cap)
            })
        };
        let rng = &mut ();
        match common {
            Some(c) if moves => {
                self.lanes::<true, true, LANES, _>(rng, level_common, c, target, z, draw)
            }
            Some(c) => self.lanes::<true, false, LANES, _>(rng, level_common, c, target, z, draw),
            None if moves => {
                self.lanes::<false, true, LANES, _>(rng, level_common, &[], target, z, draw)
            }
            None => self.lanes::<false, false, LANES, _>(rng, level_common, &[], target, z, draw),
        }
    }

    /// The form a trial draws, by its last normal (the company's form
    /// score: `TrialScores::form`), compared with the normal quantiles of
    /// the forms' cumulative weights (`FormSampler::below`): the form
    /// whose uniform score Phi(score) falls in its share, without a CDF
    /// per trial; `zt` its normals.
    fn trial_form(&self, zt: &[f64]) -> &FormSampler {
        match self.forms.as_slice() {
            [only] => only,
            forms => {
                let score = zt[zt.len() - 1];
                forms
                    .iter()
                    .find(|f| score < f.below)
                    .unwrap_or(&forms[forms.len() - 1])
            }
        }
    }

    /// A trial's state at the origin under `form`: its level and slope
    /// from the common part `c` of their scores and its own normals `zt`.
    fn trial_state(&self, form: &FormSampler, c: &[f64], zt: &[f64]) -> (f64, f64) {
        let params = form.law.at_scores_with(
            form.chol,
            [c[0] + self.own * zt[0], c[1] + self.own * zt[1]],
        );
        // A drawn compounding rate is held within its bound, as the fit
        // and the recursion hold it.
        (
            params.level.max(form.floor),
            form.law.smoothing.bounded_rate(params.slope),
        )
    }

    /// The state after period `h` of a path under `form`: `mu` the
    /// period's one-step mean (before its floor), `ratio` and `cap` what
    /// its draw gave. Without `MOVES` the update with no innovation.
    #[inline(always)]
    fn next_state<const MOVES: bool>(
        &self,
        form: &FormSampler,
        slope: f64,
        mu: f64,
        ratio: f64,
        cap: f64,
    ) -> (f64, f64) {
        let s = form.law.smoothing;
        // The fit floors its means; so does the simulation.
        let mu = mu.max(form.floor);
        if MOVES {
            let e = ratio * self.inv_ratio_mean - 1.0;
            // Beyond the cap: where the law has one-off spikes, one of
            // them, which is not a change of level (the state moves as at
            // an ordinary period's mean).
            let beyond = if self.one_offs { 0.0 } else { cap };
            let e = if e > cap { beyond } else { e.min(cap) };
            let slope = s.next_slope(slope, mu, mu * e);
            (s.next_level(mu, mu * e).max(form.floor), slope)
        } else {
            // What the update gives with no innovation.
            (mu, s.next_slope(slope, mu, 0.0))
        }
    }

    /// The paths of [`Self::sample_batch`] from the trials' normals `z`,
    /// `LANES` trials side by side, period by period, in three stages:
    /// every lane's base (its state's one-step mean times the season) and
    /// score, then one call of `draw(rng, h, bases, scores)` giving each
    /// lane's value, its ratio to the base and the cap on the innovation
    /// that ratio makes (the law's 99.9% quantile over its mean, less 1:
    /// `max_innovation`), then every lane's state. A path is one serial
    /// chain of arithmetic (each period's state is the last's, and a
    /// residual law's draw at the period's amount a logarithm, an
    /// exponential and table lookups), whose latency, not the processor's
    /// throughput, sets its pace; the lanes' chains are independent, so
    /// the processor overlaps them, the more so as `draw` takes its own
    /// stages over the lanes ([`ResidualLaw::transform_at_lanes`]). Lanes
    /// past the last trial draw at a zero base and score and are not
    /// read. Each trial takes
    /// exactly the steps it takes alone, in the same arithmetic, so the
    /// values are the same to the bit, provided `draw` reads no generator
    /// (a compound law's deals read `rng` in order: one lane). Without
    /// `COMMON` the common shocks are zero and `common` is not read;
    /// without `MOVES` the state is not updated (alpha = beta = 0).
    fn lanes<const COMMON: bool, const MOVES: bool, const LANES: usize, R>(
        &self,
        rng: &mut R,
        level_common: &[f64],
        common: &[f64],
        out: &mut [f64],
        z: &[f64],
        mut draw: impl FnMut(&mut R, usize, [f64; LANES], [f64; LANES]) -> [(f64, f64, f64); LANES],
    ) {
        let n = self.season.len();
        let per = self.normals_per_trial();
        let trials = out.len() / n;
        let mut first = 0;
        while first < trials {
            let k = (trials - first).min(LANES);
            let mut form = [&self.forms[0]; LANES];
            let (mut level, mut slope, mut own) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
            for l in 0..k {
                let trial = first + l;
                let zt = &z[trial * per..(trial + 1) * per];
                form[l] = self.trial_form(zt);
                (level[l], slope[l]) =
                    self.trial_state(form[l], &level_common[2 * trial..2 * trial + 2], zt);
                own[l] = zt[2];
            }
            let (mut mu, mut base, mut score) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
            for h in 0..n {
                for l in 0..k {
                    let trial = first + l;
                    if h > 0 {
                        own[l] = self.own_ar * own[l] + self.innovation * z[trial * per + 2 + h];
                    }
                    score[l] = if COMMON {
                        common[trial * n + h] + self.own * own[l]
                    } else {
                        self.own * own[l]
                    };
                    let f = form[l];
                    mu[l] = f.law.smoothing.one_step(level[l], slope[l]) * (1.0 + f.growth[h]);
                    base[l] = mu[l].max(0.0) * self.season[h];
                }
                // Lanes past the last trial (`k` < `LANES`) draw at a zero
                // base and are not read.
                let drawn = draw(rng, h, base, score);
                for l in 0..k {
                    let (value, ratio, cap) = drawn[l];
                    out[(first + l) * n + h] = value;
                    (level[l], slope[l]) =
                        self.next_state::<MOVES>(form[l], slope[l], mu[l], ratio, cap);
                }
            }
            first += k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::residual::tests::normal_law;
    use super::super::{AlternativeLevel, Diagnostics, ResidualLaw, VariancePower};
    use super::*;
    use crate::ets::Smoothing;
    use crate::stats::special::norm_cdf;

    /// All noise common (no own part), no persistence.
    const COMMON_ONLY: Loadings = Loadings {
        company: 1.0,
        region: 0.0,
        own: 0.0,
        own_ar: 0.0,
    };

    /// One territory with `level`, no season, normal noise of sd 0.1.
    fn territory(level: LevelLaw) -> TerritoryModel {
        TerritoryModel {
            name: "T".into(),
            region: "R".into(),
            region_index: 0,
            n_periods: 36,
            level,
            season: vec![1.0; 12],
            season_sd: 0.0,
            residual: normal_law(0.1),
            compound: None,
            growth: Vec::new(),
            alternatives: Vec::new(),
            diagnostics: Diagnostics::default(),
        }
    }

    #[test]
    fn trials_drawn_side_by_side_are_each_the_path_drawn_alone() {
        // A territory whose state moves (a local level and a compounding
        // trend, averaged), with its own noise, common shocks and a
        // variance power: PATH_LANES + 3 trials (a last group of three
        // lanes) drawn side by side equal, to the bit, the same trials
        // drawn one after another with the same draw.
        let moving = |level: f64, alpha: f64, slope: f64, compounding: bool| LevelLaw {
            level,
            slope,
            cov: [[4.0, 0.0], [0.0, 1e-6]],
            shift_var: [1.0, 9.0],
            smoothing: Smoothing {
                alpha,
                beta: if compounding { 0.05 * alpha } else { 0.0 },
                phi: 1.0,
                compounding,
                rate_limits: [-0.05, 0.05],
            },
        };
        let mut t = territory(moving(100.0, 0.3, 0.0, false));
        t.residual = normal_law(0.2).with_power(Some(VariancePower {
            exponent: -0.3,
            reference: 90.0,
        }));
        t.alternatives.push(AlternativeLevel {
            weight: 0.4,
            level: moving(110.0, 0.2, 0.01, true),
            growth: vec![0.01; 5],
        });
        let loadings = Loadings {
            company: 0.5,
            region: 0.0,
            own: 0.7,
            own_ar: 0.3,
        };
        let sampler = t.sampler(&[0, 1, 2, 3, 4], &loadings);
        let (trials, n) = (PATH_LANES + 3, 5);
        let per = sampler.normals_per_trial();
        let mut z = vec![0.0; trials * per];
        normal::fill(&mut crate::rng::stream_rng(5, 6, 0), &mut z);
        let mut level = vec![0.0; 2 * trials];
        normal::fill(&mut crate::rng::stream_rng(5, 7, 0), &mut level);
        let mut common = vec![0.0; trials * n];
        normal::fill(&mut crate::rng::stream_rng(5, 8, 0), &mut common);
        let law = &t.residual;
        assert!(law.varies_with_amount());
        // The law's ratio for `L` lanes at once, as the simulation takes it.
        fn ratio<const L: usize>(
            law: &ResidualLaw,
            top: f64,
        ) -> impl Fn([f64; L], [f64; L]) -> [(f64, f64, f64); L] + '_ {
            move |b, x| {
                let (r, factor) = law.transform_at_lanes(x, b);
                std::array::from_fn(|l| (r[l], factor[l] * top - 1.0, 1.0))
            }
        }
        let top = 1.0 + sampler.max_innovation;
        let mut side_by_side = vec![0.0; trials * n];
        sampler.residual_paths::<PATH_LANES>(
            &level,
            Some(&common),
            &mut side_by_side,
            &z,
            ratio::<PATH_LANES>(law, top),
        );
        let mut alone = vec![0.0; trials * n];
        sampler.residual_paths::<1>(&level, Some(&common), &mut alone, &z, ratio::<1>(law, top));
        assert!(side_by_side.iter().all(|v| v.is_finite() && *v != 0.0));
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&side_by_side), bits(&alone));
    }

    #[test]
    fn territories_draw_their_forms_together_by_the_trials_form_score() {
        // Two territories, each averaging a level of 100 and one of 200
        // (listed in opposite orders), no noise: given the trials' form
        // scores, both draw the form that forecasts more exactly when the
        // score is above 0 (the forms ordered by their totals, weights
        // one half each); given none, each draws its own, and they
        // disagree in about half the trials.
        let pair = |first: f64, second: f64| {
            let mut t = territory(LevelLaw::fixed(first));
            t.residual = normal_law(1e-9);
            t.alternatives.push(AlternativeLevel {
                weight: 0.5,
                level: LevelLaw::fixed(second),
                growth: Vec::new(),
            });
            t
        };
        let (a, b) = (pair(100.0, 200.0), pair(200.0, 100.0));
        let trials = 2000;
        let mut scores = vec![0.0; trials];
        normal::fill(&mut crate::rng::stream_rng(3, 4, 0), &mut scores);
        let level = vec![0.0; 2 * trials];
        let shocks = vec![0.0; 3 * trials];
        let high = |m: &TerritoryModel, form: Option<&[f64]>, stream: u64| -> Vec<bool> {
            let mut out = vec![0.0; 3 * trials];
            let sampler = m.sampler(&[0, 1, 2], &COMMON_ONLY);
            let scores = TrialScores {
                level: &level,
                form,
            };
            let mut rng = crate::rng::stream_rng(1, stream, 0);
            sampler.sample_batch(&mut rng, scores, Some(&shocks), &mut out, &mut Vec::new());
            out.chunks_exact(3).map(|p| p[0] > 150.0).collect()
        };
        let (ha, hb) = (high(&a, Some(&scores), 1), high(&b, Some(&scores), 2));
        for t in 0..trials {
            assert_eq!(
                (ha[t], hb[t]),
                (scores[t] > 0.0, scores[t] > 0.0),
                "trial {t}"
            );
        }
        // Each territory's own law is unchanged: the high form in half
        // the trials (a binomial standard error of 0.011).
        let share = ha.iter().filter(|&&h| h).count() as f64 / trials as f64;
        assert!((share - 0.5).abs() < 0.045, "{share}");
        let (oa, ob) = (high(&a, None, 1), high(&b, None, 2));
        let apart = (0..trials).filter(|&t| oa[t] != ob[t]).count() as f64 / trials as f64;
        assert!((apart - 0.5).abs() < 0.045, "{apart}");
    }

    #[test]
    fn a_trial_draws_the_form_whose_share_its_uniform_score_falls_in() {
        // Three forms of unequal weights (0.2, 0.5, 0.3 for levels 100,
        // 200, 300) and one of weight 0 (level 250, which no trial may
        // draw): each trial's form is the one whose cumulative share holds
        // Phi(score), as it was read with a CDF per trial before session
        // 34, now compared on the normal scale.
        let mut t = territory(LevelLaw::fixed(100.0));
        t.residual = normal_law(1e-9);
        for (weight, level) in [(0.5, 200.0), (0.0, 250.0), (0.3, 300.0)] {
            t.alternatives.push(AlternativeLevel {
                weight,
                level: LevelLaw::fixed(level),
                growth: Vec::new(),
            });
        }
        let trials = 4000;
        let mut scores = vec![0.0; trials];
        normal::fill(&mut crate::rng::stream_rng(3, 9, 0), &mut scores);
        let level = vec![0.0; 2 * trials];
        let shocks = vec![0.0; trials];
        let mut out = vec![0.0; trials];
        let sampler = t.sampler(&[0], &COMMON_ONLY);
        let form = TrialScores {
            level: &level,
            form: Some(&scores),
        };
        let mut rng = crate::rng::stream_rng(1, 9, 0);
        sampler.sample_batch(&mut rng, form, Some(&shocks), &mut out, &mut Vec::new());
        for (value, score) in out.iter().zip(&scores) {
            let u = norm_cdf(*score);
            let expected = if u < 0.2 {
                100.0
            } else if u < 0.7 {
                200.0
            } else {
                300.0
            };
            assert!((value - expected).abs() < 1e-3, "score {score}: {value}");
        }
    }

    #[test]
    fn a_path_follows_the_trials_common_shocks() {
        // No own noise (all variance common), a known level and no season:
        // each period is level x T(common[h]) = 100 x (1 + 0.1 x shock).
        let model = territory(LevelLaw::fixed(100.0));
        let sampler = model.sampler(&[0, 1, 2], &COMMON_ONLY);
        let mut rng = crate::rng::stream_rng(1, 2, 0);
        let mut out = [0.0; 3];
        let shocks = [-1.0, 0.0, 1.5];
        sampler.sample_path(&mut rng, [0.0, 0.0], &shocks, &mut out);
        for (v, z) in out.iter().zip(shocks) {
            assert!(
                (v - 100.0 * (1.0 + 0.1 * z)).abs() < 0.01,
                "{v} for shock {z}"
            );
        }
    }

    #[test]
    fn an_innovation_moves_the_level_for_the_rest_of_the_horizon() {
        // alpha = 1: a random walk; each period's value becomes the next
        // period's mean. alpha = 0: the level never moves.
        let model = |alpha: f64| {
            territory(LevelLaw {
                smoothing: Smoothing {
                    alpha,
                    ..Smoothing::FIXED
                },
                ..LevelLaw::fixed(100.0)
            })
        };
        let loadings = COMMON_ONLY;
        let shocks = [1.0, 0.0, 0.0];
        let mut out = [0.0; 3];
        let walk = model(1.0);
        let mut rng = crate::rng::stream_rng(1, 2, 0);
        walk.sampler(&[0, 1, 2], &loadings)
            .sample_path(&mut rng, [0.0, 0.0], &shocks, &mut out);
        let first = out[0];
        assert!((first - 110.0).abs() < 0.05, "{first}");
        assert!(
            (out[1] - first).abs() < 0.05 && (out[2] - first).abs() < 0.05,
            "{out:?}"
        );
        let stable = model(0.0);
        stable
            .sampler(&[0, 1, 2], &loadings)
            .sample_path(&mut rng, [0.0, 0.0], &shocks, &mut out);
        assert!((out[1] - 100.0).abs() < 0.05, "{out:?}");
    }

    #[test]
    fn a_spike_moves_the_state_not_at_all_and_ordinary_periods_are_not_shortfalls() {
        // alpha = 0.5, a law of ordinary periods around 1 (sd 0.1) with a
        // 2% chance of a 30x spike, lifting the whole law's mean to about
        // 1.6. A common shock of 3 (the law's top 0.13%) draws the spike:
        // the next periods stay at the level, where measured against the
        // whole mean and capped at the whole law's 99.9% point (itself a
        // spike) the level jumped tenfold (1,009), and moved by the
        // ordinary law's cap 18% (session 30's first version). Shocks of
        // 0 draw the ordinary median: the level stays, where it sank by
        // about a fifth a period against the whole mean.
        let mut model = territory(LevelLaw {
            smoothing: Smoothing {
                alpha: 0.5,
                ..Smoothing::FIXED
            },
            ..LevelLaw::fixed(100.0)
        });
        model.residual = normal_law(0.1).with_spikes(0.02, vec![30.0]);
        let sampler = model.sampler(&[0, 1, 2], &COMMON_ONLY);
        let mut rng = crate::rng::stream_rng(1, 2, 0);
        let mut out = [0.0; 3];
        sampler.sample_path(&mut rng, [0.0, 0.0], &[3.0, 0.0, 0.0], &mut out);
        assert!((out[0] / 3000.0 - 1.0).abs() < 1e-9, "the spike: {out:?}");
        assert!((out[1] / 100.0 - 1.0).abs() < 0.02, "after it: {out:?}");
        sampler.sample_path(&mut rng, [0.0, 0.0], &[0.0, 0.0, 0.0], &mut out);
        assert!((out[2] / 100.0 - 1.0).abs() < 0.02, "ordinary: {out:?}");
    }

    #[test]
    fn a_compounding_trend_grows_by_its_rate_and_an_innovation_moves_the_rate() {
        // Rate 5% a period, no shock: 105, 110.25, 115.76.
        let model = |beta: f64| {
            territory(LevelLaw {
                slope: 0.05,
                smoothing: Smoothing {
                    alpha: beta,
                    beta,
                    phi: 1.0,
                    compounding: true,
                    rate_limits: crate::ets::rate_limits(1.0),
                },
                ..LevelLaw::fixed(100.0)
            })
        };
        let mut rng = crate::rng::stream_rng(1, 2, 0);
        let mut out = [0.0; 3];
        model(0.0).sampler(&[0, 1, 2], &COMMON_ONLY).sample_path(
            &mut rng,
            [0.0, 0.0],
            &[0.0; 3],
            &mut out,
        );
        for (h, v) in out.iter().enumerate() {
            let expected = 100.0 * 1.05f64.powi(h as i32 + 1);
            assert!((v - expected).abs() < 0.01, "step {h}: {v} vs {expected}");
        }
        // alpha = beta = 0.5 and a first-period innovation of +10%: the
        // level becomes 105 x 1.05 and the rate (1.05 x 1.05) - 1, so the
        // second period's mean is 105 x 1.05 x 1.1025 (its own shock 0).
        model(0.5).sampler(&[0, 1, 2], &COMMON_ONLY).sample_path(
            &mut rng,
            [0.0, 0.0],
            &[1.0, 0.0, 0.0],
            &mut out,
        );
        assert!((out[0] - 115.5).abs() < 0.05, "{out:?}");
        let second = 105.0 * 1.05 * 1.1025;
        assert!((out[1] - second).abs() < 0.05, "{out:?} vs {second}");
    }
}
