//! Where a territory's history starts: at its first sale, when the empty
//! periods before it are the time before the territory existed (a new
//! hire, a store opened, an account won) rather than its own quiet spells.
//!
//! The loader puts every territory on the company's calendar, with zeros
//! where nothing was sold, so a territory that opened two years into a
//! four-year history arrives with 24 zeros in front of its sales. Fitted
//! as they stand, those zeros are a market that jumped from nothing: the
//! trend forms extrapolate the jump, the residual law takes the zeros as
//! periods that may come again, and the year's P90 ran to 20 times its
//! run rate. So the empty periods before the first sale are left out of
//! the territory's fit when they are evidence that it had not started:
//! were the territory's empty periods spread at random over its history, a
//! run that long at its start would happen less than `START_EVIDENCE` of
//! the time (the chance that a random arrangement of Z empty periods among
//! N puts L of them first, C(N - L, Z - L) / C(N, Z)). A territory that
//! sells every few months keeps its leading zeros (they are like its later
//! ones), and so does one whose only sale came late (36 months with one
//! sale in the 35th: 2 in 36, no evidence of when it started), and one
//! with fewer than `MIN_ACTIVE` periods of sales since (no rate to fit).
//!
//! A spell without sales inside the history is a restart when it is as
//! unlikely anywhere (the same chance times the number of places a run
//! that long fits, N - L + 1): a territory left vacant for a year between
//! two reps, or a year of missing rows, is not a quarter of its months
//! selling nothing. Its fit starts after the last such spell: fitted
//! through a vacant year, a territory selling 1,000 a month again was
//! forecast at P10 / P50 / P90 0.4k / 8.6k / 17.2k for the year.

/// The chance under which a leading run of empty periods is taken as the
/// time before the territory started.
const START_EVIDENCE: f64 = 0.01;
/// Fewest periods with sales from a (re)start on: one or two sales are no
/// rate to fit a territory on (one sale in the last of 150 weeks would
/// otherwise be forecast every week).
const MIN_ACTIVE: usize = 3;

/// The chance that a random arrangement of `zeros` empty periods among
/// `n` puts a given `run` of them together: C(n - run, zeros - run) /
/// C(n, zeros).
pub(super) fn run_chance(n: usize, zeros: usize, run: usize) -> f64 {
    (0..run)
        .map(|k| (zeros - k) as f64 / (n - k) as f64)
        .product()
}

/// The first period of `y` the territory's fit uses: after the last spell
/// without sales that is evidence of a (re)start (see the module header:
/// at the history's start, or anywhere before its last sale), else 0 (also
/// for a territory with no sales at all).
pub(super) fn history_start(y: &[f64]) -> usize {
    let n = y.len();
    let zeros = y.iter().filter(|&&v| v == 0.0).count();
    // Periods with sales from t on: all of them, less those passed.
    let mut active = n - zeros;
    let mut start = 0;
    let mut t = 0;
    while t < n {
        if y[t] != 0.0 {
            active -= 1;
            t += 1;
            continue;
        }
        let run_start = t;
        while t < n && y[t] == 0.0 {
            t += 1;
        }
        if t == n {
            break; // a closing run: `history_end`'s
        }
        let run = t - run_start;
        let places = if run_start == 0 { 1 } else { n - run + 1 };
        if active >= MIN_ACTIVE && places as f64 * run_chance(n, zeros, run) < START_EVIDENCE {
            start = t;
        }
    }
    start
}

/// Where a territory's selling ends (exclusive): before a closing run of
/// empty periods that is evidence that it stopped (the mirror of
/// [`history_start`]: a rep who left, a store closed), else the end of
/// `y`. The territory's own fit keeps those periods (it did stop); the
/// company's evidence on its region's growth and on how far levels move
/// leaves them out.
pub(super) fn history_end(y: &[f64]) -> usize {
    let n = y.len();
    let Some(last) = y.iter().rposition(|&v| v != 0.0) else {
        return n;
    };
    let (run, zeros) = (n - 1 - last, y.iter().filter(|&&v| v == 0.0).count());
    if run > 0 && run_chance(n, zeros, run) < START_EVIDENCE {
        last + 1
    } else {
        n
    }
}

/// A group's total for its growth path, chained over the territories it
/// had in both periods: from one period to the next it grows as the
/// territories selling in both grew, so that a territory's opening or
/// closing is not read as the group's growth (retail's like-for-like or
/// same-store sales). `members` are the group's series with the span they
/// sold in ([`history_start`], [`history_end`]), `total` their plain sum,
/// returned as it is when every member sold throughout (or the chain has
/// nothing to follow).
pub(super) fn like_for_like_total(members: &[(&[f64], usize, usize)], total: &[f64]) -> Vec<f64> {
    if members
        .iter()
        .all(|&(y, t0, end)| t0 == 0 && end == y.len())
    {
        return total.to_vec();
    }
    let mut chained = Vec::with_capacity(total.len());
    for t in 0..total.len() {
        let Some(&previous) = chained.last() else {
            chained.push(total[t]);
            continue;
        };
        let (mut now, mut before) = (0.0, 0.0);
        for &(y, t0, end) in members {
            if t0 < t && t < end {
                now += y[t];
                before += y[t - 1];
            }
        }
        // Where the territories selling in both periods sold nothing in
        // either, the chain holds (the plain total would bring back the
        // openings it leaves out), unless it has nothing to hold.
        chained.push(if before > 0.0 && now > 0.0 && previous > 0.0 {
            previous * now / before
        } else if previous > 0.0 {
            previous
        } else {
            total[t]
        });
    }
    chained
}

#[cfg(test)]
mod tests {
    use super::{history_end, history_start, like_for_like_total};

    #[test]
    fn a_group_grows_with_the_territories_it_had_not_by_openings() {
        // Two territories at 100 a period; a third opens in period 2 at
        // 100: the plain total jumps 200 -> 300, the chained one stays
        // flat, then follows all three.
        let (a, b) = ([100.0; 5], [100.0; 5]);
        let c = [0.0, 0.0, 100.0, 100.0, 110.0];
        let total: Vec<f64> = (0..5).map(|t| a[t] + b[t] + c[t]).collect();
        let members = [(&a[..], 0, 5), (&b[..], 0, 5), (&c[..], 2, 5)];
        let chained = like_for_like_total(&members, &total);
        assert_eq!(&chained[..4], &[200.0, 200.0, 200.0, 200.0]);
        // Period 4 grows as all three did: 310 / 300.
        assert!((chained[4] - 200.0 * 310.0 / 300.0).abs() < 1e-9);
        // Nobody late: the plain total, bit for bit.
        let members = [(&a[..], 0, 5), (&b[..], 0, 5)];
        let total = vec![200.0; 5];
        assert_eq!(like_for_like_total(&members, &total), total);
        // One closes after period 2: the total drops 300 -> 200, the
        // chained one does not.
        let d = [100.0, 100.0, 100.0, 0.0, 0.0];
        let total: Vec<f64> = (0..5).map(|t| a[t] + b[t] + d[t]).collect();
        let members = [(&a[..], 0, 5), (&b[..], 0, 5), (&d[..], 0, 3)];
        assert_eq!(like_for_like_total(&members, &total), vec![300.0; 5]);
    }

    #[test]
    fn a_closing_run_of_empty_periods_ends_the_territory() {
        // The mirror of a late opening.
        let mut y = vec![10.0, 12.0, 0.0, 11.0, 9.0];
        y.extend([0.0; 24]);
        assert_eq!(history_end(&y), 5);
        // A quiet spell like its others does not.
        let y = [5.0, 0.0, 0.0, 0.0, 4.0, 6.0, 0.0, 0.0];
        assert_eq!(history_end(&y), y.len());
        assert_eq!(history_end(&[]), 0);
    }

    #[test]
    fn a_late_opening_starts_at_its_first_sale() {
        // 24 empty months, then five with one empty: 120 / (26 x 27 x 28 x
        // 29) = 0.0002.
        let mut y = vec![0.0; 24];
        y.extend([10.0, 12.0, 0.0, 11.0, 9.0]);
        assert_eq!(history_start(&y), 24);
        // Net credits count as activity: 1 / C(15, 3) = 0.002.
        let mut y = vec![0.0; 12];
        y.extend([-5.0, 10.0, 8.0]);
        assert_eq!(history_start(&y), 12);
        // Two sales are no rate, however late: 1 / C(150, 2) < 0.01.
        let mut y = vec![0.0; 148];
        y.extend([5.0, 6.0]);
        assert_eq!(history_start(&y), 0);
    }

    #[test]
    fn leading_zeros_like_the_later_ones_are_kept() {
        // Quiet spells later: two leading zeros are the territory's own
        // intermittency (5/8 x 4/7 = 0.36).
        let y = [0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 4.0, 6.0];
        assert_eq!(history_start(&y), 0);
        // One sale, late: 2 in 36.
        let mut y = vec![0.0; 36];
        y[34] = 1603.0;
        assert_eq!(history_start(&y), 0);
    }

    #[test]
    fn a_vacant_year_restarts_the_territory_and_quiet_spells_do_not() {
        // 20 months, 12 empty, 16 again: 37 places x 1 / C(48, 12).
        let mut y = vec![1000.0; 20];
        y.extend([0.0; 12]);
        y.extend([1000.0; 16]);
        assert_eq!(history_start(&y), 32);
        // Intermittent: empty spells of three among many empty periods.
        let y: Vec<f64> = (0..48)
            .map(|t| if t % 4 == 0 { 5.0 } else { 0.0 })
            .collect();
        assert_eq!(history_start(&y), 0);
        // A closing run is not a restart.
        let mut y = vec![1000.0; 36];
        y.extend([0.0; 12]);
        assert_eq!(history_start(&y), 0);
        assert_eq!(history_end(&y), 36);
    }

    #[test]
    fn full_and_empty_histories_start_at_the_beginning() {
        assert_eq!(history_start(&[1.0, 2.0, 3.0]), 0);
        assert_eq!(history_start(&[0.0, 0.0]), 0);
        assert_eq!(history_start(&[]), 0);
    }
}
