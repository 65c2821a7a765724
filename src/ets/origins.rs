//! The rolling origins a territory's forms are scored on (`select`).
//!
//! Rolling origin: origins every max(1, horizon / 4) periods back from the
//! end, each leaving at least one season (and at least eight periods) of
//! training, at most `MAX_ORIGINS` of them (the most recent: four horizons
//! back at that step). Where that step leaves fewer than `MIN_ORIGINS`
//! (a history shorter than a season and three quarters of a horizon:
//! Walmart's 83-87 weeks with a 52-week horizon had two, its 20 months
//! with a 12-month horizon two), it is halved until it does not, down to
//! one period (`origin_step`): origins that close overlap more, and are
//! counted as
//! the fewer independent ones they amount to, but a territory's own
//! forecasts from them say more than the criterion fitted to the whole
//! history, and the company's calibration has errors to pool (with none,
//! no territory had any: Walmart weekly 0.330 -> 0.312 over three
//! backtest origins, coverage 0.854 -> 0.798; monthly 0.253 -> 0.240).
//! It happens only where no origin has a whole horizon after it: a
//! history that has one leaves four or more at the quarter-horizon step.
//! Why four horizons: the forms' scores from overlapping spans amount to
//! origins x step / horizon independent ones, and with two horizons
//! (eight origins) that is 2, too few to tell a
//! trend from a level in most histories; back to the history's start,
//! origins from a regime long past (a market flat for years before it
//! grew) outvote the recent ones. One season,
//! not two: the seasonal indices are estimated once, pooled over the whole
//! history, and not refitted per origin, so an origin needs only enough
//! periods for the level and trend; two seasons would leave a history of
//! under three years (Walmart's 91 weeks, 21 months) with no origin at all.

/// Fewest origins for choosing by rolling-origin scores and for a
/// territory's own calibration.
pub const MIN_ORIGINS: usize = 3;
/// Most origins evaluated (the most recent): four horizons at the
/// quarter-horizon step (see the module header); also bounds the cost on
/// long histories.
const MAX_ORIGINS: usize = 16;
/// Fewest training periods at an origin, whatever the season length.
const MIN_TRAIN: usize = 8;

/// Origins (training lengths) stepping back every `step` periods from
/// `from`, latest first: at most `MAX_ORIGINS`, each leaving at least one
/// season and `MIN_TRAIN` periods of training.
fn origins_from(from: usize, step: usize, season_len: usize) -> Vec<usize> {
    let step = step as i64;
    let min_train = season_len.max(MIN_TRAIN) as i64;
    (0..MAX_ORIGINS as i64)
        .map(|k| from as i64 - k * step)
        .take_while(|&o| o >= min_train)
        .map(|o| o as usize)
        .collect()
}

/// A series' rolling origins (training lengths, latest first).
#[derive(Debug, Clone, PartialEq)]
pub struct Origins {
    /// Periods between origins (`origin_step`).
    pub step: usize,
    /// The origins the forms are chosen on: the most recent ones, from one
    /// step before the end.
    pub recent: Vec<usize>,
    /// The origins whose span is a whole horizon: the only ones whose
    /// totals calibrate the horizon total (a shorter span's total is nearer
    /// its origin and misses less than the horizon's will: with a level
    /// that wanders, a fifth as far over three months as over twelve).
    pub whole: Vec<usize>,
}

impl Origins {
    /// The origins of a series of `n` periods, forecast `horizon` ahead,
    /// with seasons of `season_len`.
    pub fn of(n: usize, horizon: usize, season_len: usize) -> Self {
        let step = origin_step(n, horizon, season_len);
        Self {
            step,
            recent: origins_from(n.saturating_sub(step), step, season_len),
            whole: origins_from(n.saturating_sub(horizon), step, season_len),
        }
    }
}

/// The step between origins: max(1, horizon / 4), halved (down to 1)
/// while a history of `n` periods would leave fewer than `MIN_ORIGINS`
/// (see the module header).
fn origin_step(n: usize, horizon: usize, season_len: usize) -> usize {
    let mut step = (horizon / 4).max(1);
    while step > 1 && origins_from(n.saturating_sub(step), step, season_len).len() < MIN_ORIGINS {
        step /= 2;
    }
    step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_step_back_a_quarter_horizon_or_finer_and_keep_a_season() {
        assert_eq!(
            Origins::of(36, 12, 12).recent,
            vec![33, 30, 27, 24, 21, 18, 15, 12]
        );
        assert_eq!(Origins::of(21, 12, 12).recent, vec![18, 15, 12]);
        assert_eq!(Origins::of(12, 12, 12).recent, Vec::<usize>::new());
        assert_eq!(Origins::of(120, 12, 12).recent.len(), MAX_ORIGINS);
        assert_eq!(
            Origins::of(60, 12, 12).whole,
            vec![48, 45, 42, 39, 36, 33, 30, 27, 24, 21, 18, 15, 12]
        );
        assert_eq!(
            Origins::of(120, 12, 12).recent,
            (0..16).map(|k| 117 - 3 * k).collect::<Vec<_>>()
        );
        assert_eq!(Origins::of(24, 12, 12).whole, vec![12]);
        assert_eq!(Origins::of(12, 4, 4).recent, vec![11, 10, 9, 8]);
        // A history a little longer than a season and a horizon: the
        // quarter-horizon step would leave two origins (17 and 14), so it
        // is halved down to one period.
        assert_eq!(Origins::of(20, 12, 12).step, 1);
        assert_eq!(
            Origins::of(20, 12, 12).recent,
            (12..=19).rev().collect::<Vec<_>>()
        );
        // 87 weeks, a 52-week horizon: 13 leaves two, 6 leaves five.
        assert_eq!(Origins::of(87, 52, 52).step, 6);
        assert_eq!(Origins::of(87, 52, 52).recent, vec![81, 75, 69, 63, 57]);
        // Enough origins at the quarter-horizon step: unchanged.
        assert_eq!(Origins::of(36, 12, 12).step, 3);
    }
}
