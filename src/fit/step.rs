//! A lasting step in a territory's level: an account lost or won, a
//! territory split, a distributor added. Fitted through it, the step is a
//! wrong history for every form: a local level whose alpha the company's
//! steady territories pulled near zero reads the new level as noise and
//! forecasts the old one back (a territory at 1,000 a month that fell to
//! 100 for six months was forecast at 148 rising to 384 over the year,
//! P10 1), and the trend forms read the step as a slope and extrapolate
//! it. So a step that no ordinary movement of the territory explains is
//! taken out of its history: its periods before the step are scaled by
//! the step's ratio ([`Step::level_after`]) and the territory is fitted
//! on the whole of it, keeping its season, noise and trend (intervention
//! analysis's level-shift adjustment). The regions' totals and seasonal
//! profiles keep what was sold; their growth paths (the group form's)
//! follow the scaled series, since one territory's step is not its
//! region's growth; the deal law, whose deals are as sold, is not
//! offered to a stepped territory. A first version restarted the fit at
//! the step, as a vacant spell does (`start`); it lost the season and
//! the trend with the history, and on Walmart's monthly backtest one
//! store's restart moved the pinball 0.137 -> 0.144.
//!
//! A step is judged on the log of the deseasonalised series (the
//! region's profile), after the territory's own drift (the median
//! change per period over spans of a season before it), against the
//! larger of two robust standard deviations (1.4826 median absolute
//! deviations) before it: of its period-to-period changes and of its
//! levels over two seasons (a noisy territory's months, a wandering
//! one's moves and a mean-reverting one's excursions all count as
//! ordinary). Periods without sales are left out of those; the windows
//! a step is judged on must have sales throughout. The last k >=
//! `MIN_AFTER` periods, with at least a season before them, are a step
//! of at least a fifth down or a quarter up (`MIN_LOG_STEP`, against
//! the level over the season before) when:
//! - **separated:** they lie beyond the periods just before (as many, at
//!   least `MIN_WINDOW`), on one side, by more than `STEP_Z` of those
//!   standard deviations, each window allowed one stray period on the
//!   side facing the other where it holds four or more, but never the
//!   last period: a lasting move, not noise (whose ranges overlap), not a
//!   spike (one period cannot clear the gap, nor hide a step) and not a
//!   burst that ended;
//! - **sudden:** the change into the first of them is itself over
//!   `STEP_Z` of them;
//! - **concentrated:** that change is at least half the median shift
//!   between the two windows: a level that drifted there over many
//!   periods (a smooth series bending) moved by many ordinary changes,
//!   not one;
//! - **not the season:** the same periods a year before were not as low
//!   (or as high): their change from then is at least three quarters of
//!   the step (`YEAR_ON_YEAR`). A territory's own season, which its
//!   region's profile does not carry, ends many histories in a trough.
//!
//! Of the k that qualify the widest gap is taken. Measured with
//! `docs/experiments/lasting_steps.py` (the same rules in numpy, without
//! a region's profile; 400 draws each, 2026-12-07): at 48, 60 and 120
//! periods no step found in iid normal, t3 or lognormal noise, random
//! walks, a trend, a growth that stopped or an accelerating one, a
//! smooth series whose drift bends, a burst of twice the level that
//! ended in the last period, a territory's own season (a ±25% sine, or
//! 1,000 and 400 a month half the year each) or a stationary AR(1) of
//! 0.7 under its own season; 0.25% of plain AR(1) draws at 48 periods;
//! 4-6% of territories whose own October-December peak grew from 1.3 to
//! 2 times their level, the history ending at it. Under noise of 8% a
//! fall to a tenth or to 0.4 is found in every draw (held 3, 6 or 12
//! periods), a halving in 95-99%, a doubling in 95-99%, a fall to 0.7 in
//! 4-14%; under noise of 20% a fall to a tenth in every draw, to 0.4 in
//! 3-18%, smaller steps seldom (there the model's own level carries
//! them, as before). On set a's AR(1) panel (`more_truths.py`, 200
//! territories, AR(1) of 0.7 with a season of each territory's own) one
//! territory of 400 is read as stepping.

use super::median;

/// Fewest periods after a step: fewer are no level to read (as the
/// vacant spell's `start::MIN_ACTIVE`).
const MIN_AFTER: usize = 3;
/// Fewest periods in the window before a step it is compared with.
const MIN_WINDOW: usize = 6;
/// Fewest periods before a step (from the territory's own start): the
/// drift and the ordinary changes are measured there.
const MIN_BEFORE: usize = 8;
/// How many robust standard deviations of a period-to-period change the
/// gap, the jump and (with `CONCENTRATION`) the shift must exceed.
const STEP_Z: f64 = 3.0;
/// Least share of the windows' median shift made by the jump itself.
const CONCENTRATION: f64 = 0.5;
/// Least share of the step that the same periods' change from a year
/// before must make: a territory's own seasonal peak that grew (from 1.3
/// to 2 times its level) changed from a year before by three quarters of
/// what it stepped from the months before it, and had read as a lasting
/// rise of 81%; a step changes from a year before by all of itself, less
/// noise.
const YEAR_ON_YEAR: f64 = 0.75;
/// Least step on the log scale: a fifth down or a quarter up. A smaller
/// one is within what a territory's own season (which the region's
/// profile does not carry) moves a smooth series by: US food
/// manufacturing's employment rises 2-3% every June, and read against
/// its sector's profile that was a step of 4% (the zoo, 2017 and 2018
/// origins), fitted as one it scored 22-47% worse. A small step left
/// to the level's own adaptation costs less than a season read as one.
const MIN_LOG_STEP: f64 = 0.223;

/// A lasting step: where the periods after it start (an index into the
/// series it was found in) and the ratio of their median level to the
/// one before (deseasonalised, after the drift).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Step {
    pub(super) at: usize,
    pub(super) ratio: f64,
    /// The standard error of the ratio's log: the medians of the periods
    /// after the step and of the season before it, each of a level's
    /// robust sd over sqrt(periods) times 1.2533 (a median's).
    pub(super) log_se: f64,
}

impl Step {
    /// The series `y` as if the level after the step had held throughout:
    /// its periods before the step scaled by the step's ratio.
    pub(super) fn level_after(&self, y: &[f64]) -> Vec<f64> {
        y.iter()
            .enumerate()
            .map(|(t, &v)| if t < self.at { v * self.ratio } else { v })
            .collect()
    }
}

/// The lasting step at the end of the series `y` (each period's seasonal
/// index in `index`, `season` periods a year), if any (see the module
/// header). A period that is not positive has no log: it is left out of
/// the drift and the ordinary changes, and a step is looked for only
/// where the windows it is judged on are all positive (an intermittent
/// territory's zeros are its own quiet spells, `start`'s).
fn lasting_step(y: &[f64], index: &[f64], season: usize) -> Option<Step> {
    let n = y.len();
    let x: Vec<Option<f64>> = y
        .iter()
        .zip(index)
        .map(|(&v, &i)| (v > 0.0 && i > 0.0).then(|| (v / i).ln()))
        .collect();
    let mut best: Option<(f64, Step)> = None;
    for k in MIN_AFTER..=n / 2 {
        let at = n - k;
        if at < MIN_BEFORE.max(season) {
            break;
        }
        let Some((score, step)) = step_at(&x, at, season) else {
            continue;
        };
        if score > STEP_Z && best.as_ref().is_none_or(|(g, _)| score > *g) {
            best = Some((score, step));
        }
    }
    best.map(|(_, step)| step)
}

/// At a step starting at `at` in the log series `x` (`None`: not
/// positive) of `season` periods a year: the least of its gap and jump in
/// robust standard deviations of a period-to-period change (see the
/// module header), and the ratio of the levels after and before; `None`
/// where the windows are not all positive, the changes before have no
/// spread, or the jump, the windows' shift, the ratio and the change
/// from a year before disagree.
fn step_at(x: &[Option<f64>], at: usize, season: usize) -> Option<(f64, Step)> {
    let n = x.len();
    let k = n - at;
    let window = k.max(MIN_WINDOW).min(at);
    // The level before is read over at least a season (a territory's own
    // season averages out), and over no more: an earlier change of level
    // is not this one's (1,000 -> 2,000 -> 1,300 read the second step
    // against the whole history's median: "57% less" for 35%).
    let reach = window.max(season).min(at);
    let all = |from: usize, to: usize| (from..to).map(|t| x[t]).collect::<Option<Vec<f64>>>();
    all(at - reach, n)?;
    let drift = drift(&x[..at], season)?;
    let level = |t: usize| x[t].map(|v| v - drift * t as f64);
    let levels = |from: usize, to: usize| (from..to).filter_map(level).collect::<Vec<f64>>();
    // The ordinary scale: the larger of the period-to-period changes'
    // robust sd and the levels' own over the two seasons before the step
    // (not further: an earlier step is not this one's ordinary). A
    // territory that wanders and comes back (a stationary AR(1) of 0.7
    // moves its level 1.3 times as far as its monthly changes) had three
    // of set a's 200 read as steps at one origin, and their errors grew
    // 2-3.5 times.
    let mut changes: Vec<f64> = (1..at)
        .filter_map(|t| Some((x[t]? - x[t - 1]? - drift).abs()))
        .collect();
    let mut history = levels(at - (2 * reach).min(at), at);
    let centre = median(&mut history.clone())?;
    let mut spread: Vec<f64> = history.iter_mut().map(|v| (*v - centre).abs()).collect();
    let level_sd = 1.4826 * median(&mut spread)?;
    let sd = (1.4826 * median(&mut changes)?).max(level_sd);
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    let before = levels(at - window, at);
    let after = levels(at, n);
    let level_after = median(&mut after.clone())?;
    let shift = level_after - median(&mut before.clone())?;
    let jump = level(at)? - level(at - 1)?;
    if jump.signum() != shift.signum() || jump.abs() < CONCENTRATION * shift.abs() {
        return None;
    }
    // The gap between the windows, each allowed one stray period on the
    // side facing the other (a spike after the step, or just before it,
    // does not hide it) where it holds four or more.
    let down = shift < 0.0;
    let facing = |v: &[f64], high: bool| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        let trim = usize::from(v.len() >= 4);
        if high {
            v[v.len() - 1 - trim]
        } else {
            v[trim]
        }
    };
    // The last period may not be the stray: a burst or a dip that ended
    // in it is over (x2 for three months and back in the last had read
    // "82% more", its year P50 21,293 for 12,000).
    let last = *after.last()?;
    let gap = if down {
        (facing(&before, false) - facing(&after, true)).min(facing(&before, false) - last)
    } else {
        (facing(&after, false) - facing(&before, true)).min(last - facing(&before, true))
    } / sd;
    let log_ratio = level_after - median(&mut levels(at - reach, at))?;
    if log_ratio.abs() < MIN_LOG_STEP || log_ratio.signum() != shift.signum() {
        return None;
    }
    // The same periods a year before must not have been as low (or as
    // high): a territory's own season, which its region's profile does
    // not carry, is not a step (a territory selling 1,000 a month from
    // October to March and 400 from April to September, ending in June,
    // had read "54% less").
    if season > 1 {
        let mut year_on_year: Vec<f64> = (at..n.min(at + season))
            .filter_map(|t| Some(x[t]? - x[t - season]? - drift * season as f64))
            .collect();
        let change = median(&mut year_on_year)?;
        if change.signum() != log_ratio.signum() || change.abs() < YEAR_ON_YEAR * log_ratio.abs() {
            return None;
        }
    }
    let log_se = 1.2533 * level_sd * (1.0 / k as f64 + 1.0 / reach as f64).sqrt();
    Some((
        gap.min(jump.abs() / sd),
        Step {
            at,
            ratio: log_ratio.exp(),
            log_se,
        },
    ))
}

/// The median change per period of the log series `x` (`None`: not
/// positive), over spans of a season (at most half the series; one
/// period without a season): each pair's noise is divided by the span
/// (the median of one-period changes of 8% noise over 42 periods is off
/// by 2.2% a period, 13% over the six periods a step's windows are
/// apart), and an earlier change of level moves only the pairs that span
/// it.
fn drift(x: &[Option<f64>], season: usize) -> Option<f64> {
    let span = season.min(x.len() / 2).max(1);
    let mut slopes: Vec<f64> = (span..x.len())
        .filter_map(|t| Some((x[t]? - x[t - span]?) / span as f64))
        .collect();
    median(&mut slopes)
}

/// Each territory's lasting step ([`lasting_step`]) in its `series` from
/// its first period `starts[i]` on, read against its region's seasonal
/// indices (`region_profiles[region_index[i]]` at year `positions` of
/// `s`), with `at` counted from the series' start.
pub(super) fn lasting_steps(
    series: &[&[f64]],
    region_index: &[usize],
    starts: &[usize],
    region_profiles: &[Vec<f64>],
    positions: &[usize],
    s: usize,
) -> Vec<Option<Step>> {
    series
        .iter()
        .zip(region_index)
        .zip(starts)
        .map(|((y, &r), &t0)| {
            let index: Vec<f64> = positions[t0..]
                .iter()
                .map(|&m| region_profiles[r][m])
                .collect();
            lasting_step(&y[t0..], &index, s).map(|found| Step {
                at: t0 + found.at,
                ..found
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{lasting_step, Step};
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn noise(seed: u64, n: usize, sd: f64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                (sd * z).exp()
            })
            .collect()
    }

    fn flat(n: usize) -> Vec<f64> {
        vec![1.0; n]
    }

    #[test]
    fn a_fall_held_six_months_is_a_step_where_it_started() {
        let mut y: Vec<f64> = noise(1, 48, 0.08).iter().map(|v| 1000.0 * v).collect();
        for v in &mut y[42..] {
            *v /= 10.0;
        }
        let step = lasting_step(&y, &flat(48), 12).expect("a step");
        assert_eq!(step.at, 42);
        assert!((step.ratio - 0.1).abs() < 0.02, "{step:?}");
        // And a doubling, under a season the index carries.
        let index: Vec<f64> = (0..48)
            .map(|t| 1.0 + 0.3 * (t as f64 * std::f64::consts::PI / 6.0).sin())
            .collect();
        let mut y: Vec<f64> = noise(2, 48, 0.08)
            .iter()
            .zip(&index)
            .map(|(v, i)| 1000.0 * v * i)
            .collect();
        for v in &mut y[40..] {
            *v *= 2.0;
        }
        assert_eq!(lasting_step(&y, &index, 12).map(|s| s.at), Some(40));
    }

    #[test]
    fn noise_trends_and_spikes_are_not_steps() {
        let mut found = Vec::new();
        for seed in 0..200 {
            let e = noise(seed, 60, 0.1);
            // Noise, a trend of 2% a month under it, one 50x month three
            // periods from the end, and a random walk of 3% a month.
            let trend: Vec<f64> = e
                .iter()
                .enumerate()
                .map(|(t, v)| 100.0 * (0.02 * t as f64).exp() * v)
                .collect();
            let mut spike = e.clone();
            spike[57] *= 50.0;
            let walk: Vec<f64> = noise(seed + 1000, 60, 0.03)
                .iter()
                .scan(1.0, |level, v| {
                    *level *= v;
                    Some(*level)
                })
                .collect();
            for (name, y) in [
                ("noise", &e),
                ("trend", &trend),
                ("spike", &spike),
                ("walk", &walk),
            ] {
                if lasting_step(y, &flat(60), 12).is_some() {
                    found.push((name, seed));
                }
            }
        }
        // `docs/experiments/lasting_steps.py` found none of these in 400
        // draws each of 48, 60 and 120 periods.
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_step_needs_three_positive_periods_after_it() {
        let mut y = noise(3, 48, 0.05);
        for v in &mut y[46..] {
            *v *= 10.0;
        }
        assert_eq!(lasting_step(&y, &flat(48), 12), None);
        let mut y = noise(3, 48, 0.05);
        for v in &mut y[45..] {
            *v *= 10.0;
        }
        assert_eq!(lasting_step(&y, &flat(48), 12).map(|s| s.at), Some(45));
        // A month without sales three years before does not hide it (it
        // had, and the fall came back as the old level: the review of
        // session 31); one in the windows it is judged on does.
        y[8] = 0.0;
        assert_eq!(lasting_step(&y, &flat(48), 12).map(|s| s.at), Some(45));
        y[40] = 0.0;
        assert_eq!(lasting_step(&y, &flat(48), 12), None::<Step>);
    }

    #[test]
    fn a_territorys_own_season_is_not_a_step_and_a_spike_after_one_does_not_hide_it() {
        // 1,000 a month from October to March and 400 from April to
        // September, four years ending in June, against a flat region:
        // the same months a year before were as low.
        let y: Vec<f64> = noise(4, 48, 0.05)
            .iter()
            .enumerate()
            .map(|(t, v)| {
                v * if (3..9).contains(&(t % 12)) {
                    400.0
                } else {
                    1000.0
                }
            })
            .collect();
        assert_eq!(lasting_step(&y[..42], &flat(42), 12), None);
        // A fall to 0.4 held eight months with one 20x month in them.
        let mut y = noise(5, 48, 0.08);
        for v in &mut y[40..] {
            *v *= 0.4;
        }
        y[44] *= 20.0;
        let step = lasting_step(&y, &flat(48), 12).expect("a step");
        assert_eq!(step.at, 40);
        assert!((step.ratio / 0.4 - 1.0).abs() < 0.1, "{step:?}");
    }

    #[test]
    fn a_burst_that_ended_and_an_own_peak_that_grew_are_not_steps() {
        // Twice the level for three months, back in the last (the second
        // review of session 31: read as "82% more").
        let mut y = noise(7, 48, 0.08);
        for v in &mut y[44..47] {
            *v *= 2.0;
        }
        assert_eq!(lasting_step(&y, &flat(48), 12), None);
        // A territory's own October-December peak, 1.3 times its level
        // for three years and 2 times in the fourth, ending in December:
        // its change from a year before is three quarters of its step
        // from September (read as "81% more" before).
        let y: Vec<f64> = noise(8, 48, 0.05)
            .iter()
            .enumerate()
            .map(|(t, v)| {
                let peak = if t % 12 >= 9 {
                    if t >= 36 {
                        2.0
                    } else {
                        1.3
                    }
                } else {
                    1.0
                };
                1000.0 * v * peak
            })
            .collect();
        assert_eq!(lasting_step(&y, &flat(48), 12), None);
    }

    #[test]
    fn a_second_step_is_measured_from_the_level_just_before_it() {
        // 1,000 a month, 2,000 from month 24, 1,300 from month 42: the
        // second step is 0.65 of the level before it (the whole history's
        // median had read it 0.43).
        let y: Vec<f64> = noise(6, 48, 0.05)
            .iter()
            .enumerate()
            .map(|(t, v)| {
                v * if t < 24 {
                    1000.0
                } else if t < 42 {
                    2000.0
                } else {
                    1300.0
                }
            })
            .collect();
        let step = lasting_step(&y, &flat(48), 12).expect("a step");
        assert_eq!(step.at, 42);
        assert!((step.ratio / 0.65 - 1.0).abs() < 0.06, "{step:?}");
    }
}
