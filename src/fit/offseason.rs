//! A business that sells nothing in part of every year: a ski school's
//! summer, a garden centre's winter. Those periods are not observations
//! of its level at zero; the business is closed.
//!
//! The seasonal profile is fitted on log ratios and cannot hold a season
//! of zeros, so before this module the zeros went to the residual law's
//! zero mass, drawn in any period: a company selling about 2,000 a month
//! from May to September, and nothing else, was forecast with a median of
//! zero every month and a year of P10 / P50 / P90 2.7k / 10.8k / 20.9k
//! per territory against 10k.
//!
//! So when the company as a whole sold nothing in the same positions of
//! the year (months, quarters, weeks) in every year its history shows
//! them, and at least twice, and that is evidence of a closed season
//! (were the company's empty periods spread at random over its history,
//! that many of them would fill some `j` whole positions less than
//! `CLOSED_EVIDENCE` of the time: C(s, j) C(N - K, Z - K) / C(N, Z), the
//! union over the sets of `j` positions of the chance that a given set's
//! K periods are all empty), the fit is run on the selling periods alone,
//! as if the year had only those positions:
//! - the level and trend move from one selling period to the next (the
//!   closed months are missing observations, not months at zero), and
//!   the trend's growth and the compounding bound are per selling year;
//! - the residual law, the calibration and the common shocks see the
//!   selling periods alone, so a zero inside the season is still a zero;
//! - the seasonal index is zero at the closed positions, and the
//!   simulation draws nothing there and leaves the state as it is.
//!
//! A month otherwise closed that sold once in at least three years, for
//! less than a twentieth of the company's mean selling period (a late
//! invoice, a return), stays closed; that sale is left out of the fit, and
//! the warning names it.
//!
//! A territory closed on its own in part of every year (an annual renewal
//! billed in one month; the same test on its own series, its bar divided
//! by the number of territories that could pass it: [`territories_tested`]) is fitted again
//! alone on its selling periods (`fit::fit_with_alone`, also inside a
//! company's closed season), without its region's evidence: its season is
//! unlike theirs. A sparse territory's empty
//! months pass the test only when they are as concentrated. A history
//! with a reporting cadence is left as before.

use crate::calendar::{Calendar, PeriodKind};
use crate::history::SalesHistory;
use crate::model::FittedModels;

use super::start::run_chance;

/// The chance under which the company's empty positions are taken as a
/// closed season (as `start` takes a leading run as a late start).
const CLOSED_EVIDENCE: f64 = 0.01;
/// Fewest years a position must be seen empty in.
const MIN_YEARS: usize = 2;
/// A closed month's one stray sale (in a position seen in at least three
/// years, empty in the others) is below this share of the company's mean
/// selling period: a late invoice or a return, not a season. Leaving it
/// out moves the forecast by less than its own size over the years seen.
const STRAY_SHARE: f64 = 0.05;

/// The company's closed season, and the periods it sells in.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ClosedSeason {
    /// Per position of the year: its index among the selling positions,
    /// `None` where the company is closed.
    pub slots: Vec<Option<usize>>,
    /// The fitted periods in the selling positions, in order.
    pub kept: Vec<usize>,
    /// The periods with sales in a closed position: the one year a month
    /// otherwise closed sold in, for less than `STRAY_SHARE` of a
    /// selling period (a late invoice, a return). Left out of the fit.
    pub strays: Vec<usize>,
}

/// The company's closed season in its first `n_fit` periods (positions
/// `positions`, `s` a year), if its history is evidence of one.
pub(super) fn closed_season(
    history: &SalesHistory,
    n_fit: usize,
    positions: &[usize],
    s: usize,
) -> Option<ClosedSeason> {
    let revenue: Vec<&[f64]> = history.revenue.iter().map(Vec::as_slice).collect();
    let test = SeasonTest {
        cadence: history.cadence.is_some(),
        tested: 1,
    };
    closed_positions(&revenue, test, n_fit, positions, s)
}

/// How a series is tested for a closed season.
#[derive(Debug, Clone, Copy)]
pub(super) struct SeasonTest {
    /// The history has a reporting cadence (then no season is closed).
    pub cadence: bool,
    /// Series tested alike: the company's total is one; each territory
    /// alone is one of the company's territories that could pass
    /// ([`territories_tested`]). Each is held to `CLOSED_EVIDENCE`
    /// divided by their number (Bonferroni, as Tarone refines it): on the weekly
    /// forecast of a thousand territories over four years
    /// (`salesplan generate --territories 1000 --accounts 20000 --years
    /// 4`), whose weeks are empty about one time in ten, the company's
    /// bar took three of them as closed in one or a few weeks (the same
    /// week empty in each of four years happens by chance about once in
    /// ten thousand per week and territory), fitted them alone without
    /// their region and forecast those weeks at zero.
    pub tested: usize,
}

/// [`closed_season`] of the territories whose series are `revenue`,
/// tested as `test` says.
pub(super) fn closed_positions(
    revenue: &[&[f64]],
    test: SeasonTest,
    n_fit: usize,
    positions: &[usize],
    s: usize,
) -> Option<ClosedSeason> {
    let cadence = test.cadence;
    if cadence || s < 2 || n_fit == 0 || revenue.is_empty() {
        return None;
    }
    let empty: Vec<bool> = (0..n_fit)
        .map(|t| revenue.iter().all(|r| r[t] == 0.0))
        .collect();
    let PositionYears { periods, seen } = PositionYears::of(&positions[..n_fit], s);
    let mut seen_empty = vec![0usize; s];
    for (&m, &e) in positions.iter().zip(&empty) {
        seen_empty[m] += usize::from(e);
    }
    let mut closed: Vec<bool> = (0..s)
        .map(|m| seen[m] >= MIN_YEARS && seen_empty[m] == periods[m])
        .collect();
    let j = closed.iter().filter(|&&c| c).count();
    let selling = (0..s).filter(|&m| !closed[m] && periods[m] > 0).count();
    if j == 0 || selling == 0 {
        return None;
    }
    let zeros = empty.iter().filter(|&&e| e).count();
    let in_closed: usize = (0..s).filter(|&m| closed[m]).map(|m| periods[m]).sum();
    if sets_of(s, j) * run_chance(n_fit, zeros, in_closed)
        >= CLOSED_EVIDENCE / test.tested.max(1) as f64
    {
        return None;
    }
    // A month sold in once, and for next to nothing, stays closed.
    let company: Vec<f64> = (0..n_fit)
        .map(|t| revenue.iter().map(|r| r[t]).sum())
        .collect();
    let selling_periods: Vec<f64> = (0..n_fit)
        .filter(|&t| !closed[positions[t]] && !empty[t])
        .map(|t| company[t])
        .collect();
    let typical = selling_periods.iter().sum::<f64>() / selling_periods.len().max(1) as f64;
    let mut strays = Vec::new();
    for m in 0..s {
        let sold: Vec<usize> = (0..n_fit)
            .filter(|&t| positions[t] == m && !empty[t])
            .collect();
        let amount: f64 = sold.iter().map(|&t| company[t]).sum();
        if !closed[m]
            && seen[m] > MIN_YEARS
            && sold.len() == 1
            && amount.abs() < STRAY_SHARE * typical
        {
            closed[m] = true;
            strays.extend(sold);
        }
    }
    let mut next = 0;
    let slots = closed
        .iter()
        .map(|&c| {
            (!c).then(|| {
                next += 1;
                next - 1
            })
        })
        .collect();
    let kept = (0..n_fit).filter(|&t| !closed[positions[t]]).collect();
    Some(ClosedSeason {
        slots,
        kept,
        strays,
    })
}

/// Periods and years each position of the year is seen in. A year starts
/// where the positions wrap round: a weekly calendar's week 53, folded
/// onto week 52, is a second period of the same year.
struct PositionYears {
    periods: Vec<usize>,
    seen: Vec<usize>,
}

impl PositionYears {
    fn of(positions: &[usize], s: usize) -> Self {
        let (mut periods, mut seen, mut last_year) = (vec![0; s], vec![0; s], vec![usize::MAX; s]);
        let mut year = 0;
        for (t, &m) in positions.iter().enumerate() {
            if t > 0 && m < positions[t - 1] {
                year += 1;
            }
            periods[m] += 1;
            if last_year[m] != year {
                last_year[m] = year;
                seen[m] += 1;
            }
        }
        Self { periods, seen }
    }
}

/// The sets of `j` positions among `s`: C(s, j).
fn sets_of(s: usize, j: usize) -> f64 {
    (0..j).map(|k| (s - k) as f64 / (k + 1) as f64).product()
}

/// How many of the series `revenue` (its first `n_fit` periods at
/// `positions`, `s` a year) each territory's own test counts as tested
/// ([`SeasonTest::tested`]), by Tarone's refinement of Bonferroni: a
/// series whose empty periods are too few to close any position could
/// never pass, at any bar, and is not counted. Each series' least chance
/// is its empty periods filling the positions seen most, as far as they
/// go (the test is conditional on how many periods are empty); the count
/// is the fewest m for which at most m series could reach
/// `CLOSED_EVIDENCE` / m. A company of steady territories and one annual
/// renewal counts one; a thousand territories whose weeks are empty now
/// and then, a thousand.
pub(super) fn territories_tested(
    revenue: &[&[f64]],
    n_fit: usize,
    positions: &[usize],
    s: usize,
) -> usize {
    let n_fit = n_fit.min(positions.len());
    let years = PositionYears::of(&positions[..n_fit], s);
    let mut counts: Vec<usize> = (0..s)
        .filter(|&m| years.seen[m] >= MIN_YEARS)
        .map(|m| years.periods[m])
        .collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let least: Vec<f64> = revenue
        .iter()
        .map(|r| {
            let zeros = r[..n_fit].iter().filter(|&&v| v == 0.0).count();
            let mut closed = 0;
            let mut chance: f64 = 1.0;
            // At least one position must keep selling.
            for (j, c) in counts.iter().enumerate().take(s.saturating_sub(1)) {
                closed += c;
                if closed > zeros || zeros == n_fit {
                    break;
                }
                chance = chance.min(sets_of(s, j + 1) * run_chance(n_fit, zeros, closed));
            }
            chance
        })
        .collect();
    let all = revenue.len().max(1);
    (1..=all)
        .find(|&m| {
            least
                .iter()
                .filter(|&&p| p < CLOSED_EVIDENCE / m as f64)
                .count()
                <= m
        })
        .unwrap_or(all)
}

/// Territories `which` of `history` with what the fit reads of them (their
/// revenue and deals; not the accounts, reps or pipeline).
fn series_of(history: &SalesHistory, which: &[usize]) -> SalesHistory {
    let pick = |v: &Vec<Vec<f64>>| which.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
    let mut out = SalesHistory::from_series(
        history.calendar,
        history.first_period,
        which
            .iter()
            .map(|&i| history.territories[i].clone())
            .collect(),
        pick(&history.revenue),
    );
    out.deal_counts = history.deal_counts.as_ref().map(pick);
    out.deal_sizes = history.deal_sizes.as_ref().map(pick);
    out.deal_periods = history
        .deal_periods
        .as_ref()
        .map(|p| which.iter().map(|&i| p[i].clone()).collect());
    out.cadence = history.cadence;
    out
}

/// Territory `i` of `history` alone, for a fit of its own.
pub(super) fn one_territory(history: &SalesHistory, i: usize) -> SalesHistory {
    series_of(history, &[i])
}

impl ClosedSeason {
    /// Selling positions a year.
    pub fn selling(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// The history's selling periods alone (revenue and deals), as the fit
    /// sees them.
    pub fn selling_history(&self, history: &SalesHistory) -> SalesHistory {
        let all: Vec<usize> = (0..history.territories.len()).collect();
        let mut out = series_of(history, &all);
        let keep = |s: &[f64]| self.kept.iter().map(|&t| s[t]).collect::<Vec<f64>>();
        out.revenue = history.revenue.iter().map(|r| keep(r)).collect();
        if let Some(c) = &mut out.deal_counts {
            *c = c.iter().map(|r| keep(r)).collect();
        }
        if let (Some(sizes), Some(periods)) = (&mut out.deal_sizes, &mut out.deal_periods) {
            for (s, p) in sizes.iter_mut().zip(periods.iter_mut()) {
                let (v, q): (Vec<f64>, Vec<usize>) = s
                    .iter()
                    .zip(p.iter())
                    .filter_map(|(&v, &q)| self.kept.binary_search(&q).ok().map(|k| (v, k)))
                    .unzip();
                *s = v;
                *p = q;
            }
        }
        out
    }

    /// The selling positions of the periods `positions` (the closed ones
    /// left out), as the fit numbers them.
    pub fn selling_positions(&self, positions: &[usize]) -> Vec<usize> {
        positions.iter().filter_map(|&m| self.slots[m]).collect()
    }

    /// Each of the simulated horizon's periods (positions `horizon`): its
    /// step among the selling ones, `None` where closed.
    fn steps(&self, horizon: &[usize]) -> Vec<Option<usize>> {
        let mut next = 0;
        horizon
            .iter()
            .map(|&m| {
                self.slots[m].map(|_| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }

    /// Models fitted on the selling periods, put back on the calendar:
    /// seasonal indices zero at the closed positions, growth paths per
    /// simulated period (`horizon`: their positions), the fitted-vs-actual
    /// series over the history's periods from the first one fitted
    /// (`n_fit` of them), the closed periods at zero.
    pub fn expand(&self, models: &mut FittedModels, horizon: &[usize], n_fit: usize) {
        let steps = self.steps(horizon);
        let on_calendar = |v: &[f64]| -> Vec<f64> {
            self.slots
                .iter()
                .map(|slot| slot.map_or(0.0, |k| v[k]))
                .collect()
        };
        let per_period = |g: &[f64]| -> Vec<f64> {
            if g.is_empty() {
                return Vec::new();
            }
            steps
                .iter()
                .map(|k| k.and_then(|k| g.get(k).copied()).unwrap_or(0.0))
                .collect()
        };
        for t in &mut models.territories {
            t.season = on_calendar(&t.season);
            t.growth = per_period(&t.growth);
            for a in &mut t.alternatives {
                a.growth = per_period(&a.growth);
            }
            let d = &mut t.diagnostics;
            let first = self.kept.len() - d.actual.len().min(self.kept.len());
            if let Some(&from) = self.kept.get(first) {
                let mut actual = vec![0.0; n_fit - from];
                let mut mean = vec![0.0; n_fit - from];
                for (k, &p) in self.kept[first..].iter().enumerate() {
                    actual[p - from] = d.actual[k];
                    mean[p - from] = d.fitted.get(k).copied().unwrap_or(0.0);
                }
                d.actual = actual;
                d.fitted = mean;
            }
        }
        for e in models.season_errors.iter_mut().flatten() {
            e.slots = Some(self.slots.iter().map(|s| s.unwrap_or(0)).collect());
        }
    }
}

/// The name of the position of the year of period `ordinal`: its month
/// ("Jan"), its fiscal quarter ("Q3"), or its week ("week 27").
pub(super) fn position_name(calendar: &Calendar, ordinal: i64) -> String {
    let m = calendar.season_of(ordinal);
    match calendar.kind {
        PeriodKind::Month => calendar.start_of(ordinal).format("%b").to_string(),
        PeriodKind::Quarter => format!("Q{}", m + 1),
        PeriodKind::Week => format!("week {}", m + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, PeriodKind};
    use crate::history::Territory;

    /// One series tested on its own.
    const ALONE: SeasonTest = SeasonTest {
        cadence: false,
        tested: 1,
    };

    #[test]
    fn a_thousand_territories_empty_now_and_then_have_no_closed_week() {
        // Four years of weeks, each empty one time in ten at random (a
        // territory of two or three deals a week), a thousand of them:
        // each week of the year is empty in all four years with a chance
        // of 1e-4, so some territories have such a week by chance. Tested
        // with the company's bar each, two passed; with the bar over the
        // thousand territories tested, none.
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let positions: Vec<usize> = (0..208).map(|t| t % 52).collect();
        let series: Vec<Vec<f64>> = (0..1000)
            .map(|_| {
                (0..208)
                    .map(|_| {
                        if rng.random::<f64>() < 0.1 {
                            0.0
                        } else {
                            100.0
                        }
                    })
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
        let tested = territories_tested(&refs, 208, &positions, 52);
        assert_eq!(tested, 1000);
        let closed = |tested: usize| {
            let test = SeasonTest {
                cadence: false,
                tested,
            };
            series
                .iter()
                .filter(|y| closed_positions(&[y], test, 208, &positions, 52).is_some())
                .count()
        };
        assert!(closed(1) >= 2, "the company's bar: {}", closed(1));
        assert_eq!(closed(tested), 0);
    }

    #[test]
    fn only_territories_that_could_close_a_position_are_counted_as_tested() {
        // Three years of months: twenty territories selling every month
        // (two with a stray empty month) could never pass; an annual
        // renewal could. Counted by Bonferroni as twenty-one tests, the
        // renewal (a chance of 12 / C(36, 3) = 1.7e-3) would fail a bar
        // of 0.01 / 21.
        let positions: Vec<usize> = (0..36).map(|t| t % 12).collect();
        let mut series: Vec<Vec<f64>> = (0..20)
            .map(|i| {
                (0..36)
                    .map(|t| if i < 2 && t == 7 * i + 3 { 0.0 } else { 100.0 })
                    .collect()
            })
            .collect();
        series.push(
            (0..36)
                .map(|t| if t % 12 == 3 { 1200.0 } else { 0.0 })
                .collect(),
        );
        let refs: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
        let tested = territories_tested(&refs, 36, &positions, 12);
        assert_eq!(tested, 1);
        let test = SeasonTest {
            cadence: false,
            tested,
        };
        let renewal = closed_positions(&[&series[20]], test, 36, &positions, 12).expect("closed");
        assert_eq!(renewal.selling(), 1);
    }

    /// Territories selling `value(i, t)` over `n` months from January.
    fn monthly(count: usize, n: usize, value: impl Fn(usize, usize) -> f64) -> SalesHistory {
        let territories = (0..count)
            .map(|i| Territory {
                name: format!("T{i}"),
                region: "R".into(),
            })
            .collect();
        let revenue = (0..count)
            .map(|i| (0..n).map(|t| value(i, t)).collect())
            .collect();
        let months = Calendar::new(PeriodKind::Month, 1);
        SalesHistory::from_series(months, 24_000, territories, revenue)
    }

    fn positions(n: usize) -> Vec<usize> {
        (0..n).map(|t| t % 12).collect()
    }

    /// Open May to September.
    fn summer(t: usize) -> bool {
        (4..9).contains(&(t % 12))
    }

    #[test]
    fn a_company_closed_every_winter_is_fitted_on_its_selling_months() {
        let h = monthly(3, 36, |i, t| {
            if summer(t) {
                100.0 + (i + t) as f64
            } else {
                0.0
            }
        });
        let closed = closed_season(&h, 36, &positions(36), 12).expect("a closed season");
        let open: Vec<usize> = (0..12).filter(|&m| closed.slots[m].is_some()).collect();
        assert_eq!(open, vec![4, 5, 6, 7, 8]);
        assert_eq!(closed.slots[6], Some(2));
        assert_eq!(closed.selling(), 5);
        assert_eq!(closed.kept.len(), 15);
        assert_eq!(closed.kept[5], 16, "the second May");
        let selling = closed.selling_history(&h);
        assert_eq!(selling.revenue[1][5], h.revenue[1][16]);
        assert_eq!(selling.n_periods(), 15);
        assert_eq!(
            closed.selling_positions(&positions(14)),
            vec![0, 1, 2, 3, 4]
        );
        // Two years are enough (a chance of 1 in 2 million before the
        // 792 sets of seven months); one is not.
        assert!(closed_season(&h, 24, &positions(24), 12).is_some());
        assert!(closed_season(&h, 12, &positions(12), 12).is_none());
    }

    #[test]
    fn empty_months_at_random_or_in_one_territory_are_not_a_closed_season() {
        // A company selling in about one month in five, wherever it falls:
        // some months of the year are empty in all of its three years by
        // chance (0.8^3 each), but so are most of its periods.
        let sparse = |_: usize, t: usize| {
            if (t * 7919).is_multiple_of(5) {
                50.0
            } else {
                0.0
            }
        };
        let h = monthly(1, 36, sparse);
        let zeros = h.revenue[0].iter().filter(|&&v| v == 0.0).count();
        assert!(zeros > 24, "{zeros} empty months");
        assert!(closed_season(&h, 36, &positions(36), 12).is_none());
        // A month sold in once for next to nothing stays closed (three
        // territories' 4 each against a selling month of 300: a twentieth
        // is 15); sold in for more, or in two years, it is open.
        let stray = |amount: f64, years: &'static [usize]| {
            move |_: usize, t: usize| match t {
                t if summer(t) => 100.0,
                t if t % 12 == 2 && years.contains(&(t / 12)) => amount,
                _ => 0.0,
            }
        };
        let closed = closed_season(&monthly(3, 36, stray(4.0, &[1])), 36, &positions(36), 12);
        assert_eq!(closed.map(|c| (c.selling(), c.strays)), Some((5, vec![14])));
        for (amount, years) in [(6.0, &[1][..]), (4.0, &[0, 2][..])] {
            let closed = closed_season(
                &monthly(3, 36, stray(amount, years)),
                36,
                &positions(36),
                12,
            );
            assert_eq!(
                closed.map(|c| c.selling()),
                Some(6),
                "{amount} in {years:?}"
            );
        }
        // One territory closed in winter, another selling all year.
        let h = monthly(2, 36, |i, t| if i == 1 || summer(t) { 100.0 } else { 0.0 });
        assert!(closed_season(&h, 36, &positions(36), 12).is_none());
    }

    #[test]
    fn a_folded_53rd_week_is_not_a_third_year() {
        // Two years of weeks, the first with a 53rd week folded onto week
        // 52 (position 51: seen in periods 51 and 52, then 104). Weeks
        // 46-51 are closed in both years; week 52 sold once, a little, in
        // the folded week. Two years are too few for a stray sale (three
        // are needed): week 52 stays open. Counted by periods, it had
        // seemed seen in three years and been closed.
        let positions: Vec<usize> = (0..105)
            .map(|t| if t < 53 { t.min(51) } else { t - 53 })
            .collect();
        let series: Vec<f64> = (0..105)
            .map(|t| match positions[t] {
                45..=50 => 0.0,
                51 if t == 52 => 1.0,
                51 => 0.0,
                _ => 100.0,
            })
            .collect();
        let closed = closed_positions(&[&series], ALONE, 105, &positions, 52).expect("closed");
        assert_eq!((closed.selling(), closed.strays.len()), (46, 0));
    }

    #[test]
    fn deals_follow_their_periods_and_the_models_go_back_on_the_calendar() {
        let mut h = monthly(1, 24, |_, t| if summer(t) { 100.0 } else { 0.0 });
        h.deal_counts = Some(vec![h.revenue[0].iter().map(|&v| v / 50.0).collect()]);
        h.deal_sizes = Some(vec![vec![50.0, 50.0, 70.0]]);
        h.deal_periods = Some(vec![vec![4, 5, 17]]);
        let closed = closed_season(&h, 24, &positions(24), 12).unwrap();
        let selling = closed.selling_history(&h);
        assert_eq!(selling.deal_periods, Some(vec![vec![0, 1, 6]]));
        assert_eq!(selling.deal_counts.as_ref().unwrap()[0], vec![2.0; 10]);

        let spec = crate::scenario::FitSpec {
            criterion: crate::scenario::Criterion::Aic,
            families: vec!["lognormal".into()],
        };
        let layout = super::super::Layout {
            closed_tests: 1,
            s: 5,
            positions: closed.selling_positions(&positions(24)),
            ordinals: closed.kept.iter().map(|&t| 2000 * 12 + t as i64).collect(),
            origin: 2000 * 12 + 24,
            ahead: vec![0, 1, 2, 3, 4],
        };
        let mut models = super::super::fit_periods(&selling, &spec, &layout);
        assert_eq!(models.territories[0].season.len(), 5);
        models.territories[0].growth = vec![0.1, 0.2, 0.3, 0.4, 0.5];
        // Fifteen months from January: the next May to September sell.
        let ahead = positions(15);
        closed.expand(&mut models, &ahead, 24);
        let t = &models.territories[0];
        assert_eq!(t.season.len(), 12);
        assert!(t
            .season
            .iter()
            .enumerate()
            .all(|(m, &v)| (v > 0.0) == summer(m)));
        assert_eq!(&t.growth[3..10], &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.0]);
        // The fitted-vs-actual series from the first May, closed months at zero.
        assert_eq!(t.diagnostics.actual.len(), 20);
        assert_eq!(t.diagnostics.actual[0], 100.0);
        assert_eq!(t.diagnostics.actual[5], 0.0);
        assert_eq!(t.diagnostics.actual[12], 100.0);
    }
}
