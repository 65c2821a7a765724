//! Cross-fitting the chosen mixture's rolling-origin errors: where the
//! history is long enough, each block of origins' errors are those of the
//! mixture its territory would have chosen on the origins whose spans
//! share no period with the block's, not of the mixture chosen on all of
//! them.
//!
//! The forms are weighted by how they forecast from the rolling origins
//! (`pool`), and the same origins' errors calibrate the simulated spread
//! (`fit::calibration`). A mixture chosen on those origins is the one that
//! happened to miss least there, so its errors there understate how far it
//! misses on periods it was not chosen on (the winner's curse of any
//! selection: the chosen model's in-sample error is biased low). Measured
//! before this module on the tools' synthetic quarterly panels
//! (`docs/experiments/more_truths.py`; growth, a random walk and noise,
//! set d's `quarterly_ns` drawn as the model assumes): the calibration
//! found the spread right (company factor 0.92-1.00), yet the held-out
//! periods needed 1.04-1.22 more (the 80% quantile of |actual - P50|
//! over the P10-P90 half-width), at every horizon step, the first
//! included.
//!
//! So the recent origins are cut into `FOLDS` contiguous blocks. Each
//! block's periods (and the whole spans' totals whose origins fall in it)
//! are scored with the weights the pool gives when only the origins apart
//! from the block are scored: origins at least a horizon from every origin
//! of the block, whose spans share no period with its spans (an origin
//! next to it would have chosen on most of the same actuals). The rest of
//! the choice is unchanged: the pool's weights, from all the origins,
//! still make the forecast. Where a block has fewer than
//! `origins::MIN_ORIGINS` origins apart from it (Walmart's 21 months and 91
//! weeks, shorter than a season and a horizon: their origins all
//! overlap), or where those amount to less than one independent origin
//! (origins x step / horizon under 1: 36 months with a 12-month horizon
//! leave three origins three months apart, a quarter of a horizon's
//! evidence each), or whose held-out weights are empty or name a form not
//! scored at every origin, its errors are the chosen mixture's, as
//! before. Weights chosen on less than one horizon's evidence are noise
//! (the pool itself counts such evidence as one origin, `pool`), and
//! their errors measure that noise, not the choice's luck: with them,
//! Superstore's 36 months of regions scored 0.3287 at one backtest
//! origin against 0.3243, and the tools' weekly panels with three years
//! moved their years' coverage 0.02-0.03 either way.
//!
//! Each territory's blocks are its own: a territory whose origins differ
//! (a later start, a halved step) cuts them at other dates, so the
//! region's evidence in a block's pool may include other territories'
//! periods of the same dates; and a territory without enough evidence
//! apart from a block (either rule above) is left out of that block's
//! region evidence.
//!
//! Why blocks and not every origin left out in turn: leaving one origin
//! out (with the same gap) was measured the same on the synthetic panels
//! (coverage within 0.01 on every panel) at four times the cost in pool
//! runs. Why a gap of a whole horizon: without it the weights of the
//! origin next door, chosen on most of the same actuals, are nearly
//! in-sample.

use super::origins::MIN_ORIGINS;
use super::pool;
use super::select::Evaluated;

/// Blocks of recent origins scored with weights chosen apart from them.
pub const FOLDS: usize = 4;

/// Weights of a territory's fits: (index into its fits, weight), the
/// likeliest first.
pub type Weights = Vec<(usize, f64)>;

/// How a territory's origins are cut into blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folds {
    /// The block of each recent origin (latest first).
    pub recent: Vec<usize>,
    /// The block of each whole span's origin: that of the recent origin
    /// nearest to it in training length (the earliest block for an origin
    /// before every recent one).
    pub whole: Vec<usize>,
    /// Per block, the recent origins (indices) whose spans share no period
    /// with any of the block's origins, recent or whole.
    pub apart: Vec<Vec<usize>>,
}

impl Folds {
    /// The blocks of `recent` origins (training lengths, latest first) and
    /// of the `whole` spans' origins, forecast `horizon` periods ahead.
    pub fn of(recent: &[usize], whole: &[usize], horizon: usize) -> Self {
        let m = recent.len();
        if m == 0 {
            return Self::default();
        }
        let recent_fold: Vec<usize> = (0..m).map(|j| j * FOLDS / m).collect();
        let whole_fold: Vec<usize> = whole
            .iter()
            .map(|&o| {
                let nearest = (0..m)
                    .min_by_key(|&j| (recent[j].abs_diff(o), j))
                    .unwrap_or(m - 1);
                recent_fold[nearest]
            })
            .collect();
        let apart = (0..FOLDS)
            .map(|fold| {
                let members: Vec<usize> = recent
                    .iter()
                    .zip(&recent_fold)
                    .chain(whole.iter().zip(&whole_fold))
                    .filter(|(_, &f)| f == fold)
                    .map(|(&o, _)| o)
                    .collect();
                if members.is_empty() {
                    return Vec::new();
                }
                (0..m)
                    .filter(|&j| recent_fold[j] != fold)
                    .filter(|&j| members.iter().all(|&o| recent[j].abs_diff(o) >= horizon))
                    .collect()
            })
            .collect();
        Self {
            recent: recent_fold,
            whole: whole_fold,
            apart,
        }
    }
}

/// Per territory, per block, the weights its pool would give were only the
/// origins apart from that block scored (`None` where fewer than
/// `MIN_ORIGINS` are, or they amount to less than one independent origin,
/// or the territory was not scored): `pool::pooled_weights`
/// on each block's restricted evaluations, with the same regions and the
/// same closed territories.
pub fn held_out_weights(
    evaluated: &[Option<&Evaluated>],
    group: &[usize],
    closed: &[bool],
) -> Vec<Vec<Option<Weights>>> {
    let mut out: Vec<Vec<Option<Weights>>> = vec![vec![None; FOLDS]; evaluated.len()];
    for fold in 0..FOLDS {
        let restricted: Vec<Option<Evaluated>> = evaluated
            .iter()
            .map(|e| {
                let e = (*e).filter(|e| e.scored())?;
                let apart = e.folds.apart.get(fold)?;
                let evidence = apart.len() as f64 * e.span_independence;
                (apart.len() >= MIN_ORIGINS && evidence >= 1.0).then(|| e.restricted_to(apart))
            })
            .collect();
        if restricted.iter().all(Option::is_none) {
            continue;
        }
        let refs: Vec<Option<&Evaluated>> = restricted.iter().map(Option::as_ref).collect();
        let weights = pool::pooled_weights(&refs, group, closed);
        for ((o, w), r) in out.iter_mut().zip(weights).zip(&restricted) {
            // Only territories scored apart from the block: a territory
            // left out there would otherwise get its region's laws.
            if r.is_some() {
                o[fold] = w;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ets::origins::Origins;
    use crate::ets::prior::FormPriors;
    use crate::ets::select::evaluate;
    use crate::ets::Growth;

    #[test]
    fn blocks_choose_on_origins_a_horizon_away() {
        // 40 quarters, a 4-quarter horizon: 16 origins one quarter apart
        // (39 back to 24), four blocks of four.
        let o = Origins::of(40, 4, 4);
        let f = Folds::of(&o.recent, &o.whole, 4);
        assert_eq!(f.recent, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
        // The latest block (39-36, whole span 36) chooses on 32 and
        // before; the second (35-32, whole spans 35-32) on 39, which
        // scores only period 39, and on 28 and before.
        assert_eq!(f.apart[0], (7..16).collect::<Vec<_>>());
        assert_eq!(f.apart[1], [0, 11, 12, 13, 14, 15]);
        for (fold, apart) in f.apart.iter().enumerate() {
            for &j in apart {
                assert_ne!(f.recent[j], fold);
                for (k, &w) in o.whole.iter().enumerate() {
                    if f.whole[k] == fold {
                        assert!(o.recent[j].abs_diff(w) >= 4);
                    }
                }
            }
        }
        // Whole spans before every recent origin belong to the earliest
        // block.
        assert_eq!(*f.whole.last().unwrap(), 3);
        // 21 months, a 12-month horizon (Walmart): every origin is within
        // a horizon of every other, so no block has origins apart.
        let o = Origins::of(21, 12, 12);
        let f = Folds::of(&o.recent, &o.whole, 12);
        assert!(f.apart.iter().all(|a| a.len() < MIN_ORIGINS));
    }

    #[test]
    fn held_out_weights_are_the_pools_on_the_origins_apart_from_each_block() {
        // Three territories of 40 quarters in one region, growing at 0-2%
        // a quarter: every block has three or more origins apart from it.
        let series: Vec<Vec<f64>> = (0..3)
            .map(|k| {
                (0..40)
                    .map(|t| {
                        let wobble = ((t * 7 + k * 3) % 5) as f64 - 2.0;
                        100.0 * (1.0 + 0.01 * k as f64).powi(t) * (1.0 + 0.025 * wobble)
                    })
                    .collect()
            })
            .collect();
        let season = vec![1.0; 40];
        let none = |_: usize| Growth::none();
        let evaluated: Vec<Evaluated> = series
            .iter()
            .map(|a| evaluate(a, a, &season, 4, 4, &none, &FormPriors::none()).unwrap())
            .collect();
        let refs: Vec<Option<&Evaluated>> = evaluated.iter().map(Some).collect();
        let (group, closed) = ([0, 0, 0], [false; 3]);
        let held = held_out_weights(&refs, &group, &closed);
        for fold in 0..FOLDS {
            // The restricted evaluations score exactly the origins apart.
            let restricted: Vec<Evaluated> = evaluated
                .iter()
                .map(|e| e.restricted_to(&e.folds.apart[fold]))
                .collect();
            for (e, r) in evaluated.iter().zip(&restricted) {
                let apart = &e.folds.apart[fold];
                assert!(apart.len() >= MIN_ORIGINS, "block {fold}");
                assert_eq!(r.origins, apart.len());
                for (kept, full) in r.scores.iter().zip(&e.scores) {
                    let (Some(kept), Some(full)) = (kept, full) else {
                        assert!(kept.is_none() && full.is_none());
                        continue;
                    };
                    let expected: Vec<f64> = apart.iter().map(|&j| full[j]).collect();
                    assert_eq!(kept, &expected);
                }
            }
            // And the weights are the pool's on them, for every territory.
            let direct = pool::pooled_weights(
                &restricted.iter().map(Some).collect::<Vec<_>>(),
                &group,
                &closed,
            );
            for (h, d) in held.iter().zip(direct) {
                let w = h[fold].as_ref().expect("weights for every block");
                assert!((w.iter().map(|x| x.1).sum::<f64>() - 1.0).abs() < 1e-9);
                assert_eq!(h[fold], d);
            }
        }
        // 36 months forecast 12 ahead: the first and last blocks have three
        // origins apart (three months apart: 0.75 of an independent
        // origin), the middle two fewer, so no block is cross-fitted.
        let monthly: Vec<Evaluated> = series
            .iter()
            .map(|a| {
                let a = &a[..36];
                evaluate(a, a, &[1.0; 36], 12, 12, &none, &FormPriors::none()).unwrap()
            })
            .collect();
        assert_eq!(monthly[0].folds.apart[0].len(), 3);
        assert_eq!(monthly[0].folds.apart[3].len(), 3);
        let refs: Vec<Option<&Evaluated>> = monthly.iter().map(Some).collect();
        let held = held_out_weights(&refs, &group, &closed);
        assert!(held.iter().flatten().all(Option::is_none));
    }
}
