//! Sales capacity from the reps table: how much of a territory's usual
//! selling power is present in each period.
//!
//! Ramp rule: a rep contributes `fte x productivity`, where productivity is
//! 0 before the start date, rises linearly from 0 to 1 over `ramp_months`
//! after it, is 0 from the end date until the backfill date, and after the
//! backfill date ramps again over `ramp_months` (a new hire). Productivity
//! is evaluated at the middle of each period. A territory's multiplier is
//! its capacity divided by its average capacity over the last year of
//! history (so a fully staffed territory keeps its fitted level); for a
//! territory without capacity in that year it is capacity / total fte.

use chrono::NaiveDate;

use crate::calendar::Calendar;
use crate::history::Rep;

/// Average days per month, for ramps given in months.
const DAYS_PER_MONTH: f64 = 30.4375;

/// Productivity (0 to 1) of `rep` on `date`.
pub fn productivity(rep: &Rep, date: NaiveDate) -> f64 {
    let ramp = |since: NaiveDate| -> f64 {
        if date < since {
            return 0.0;
        }
        if rep.ramp_months <= 0.0 {
            return 1.0;
        }
        let months = (date - since).num_days() as f64 / DAYS_PER_MONTH;
        (months / rep.ramp_months).min(1.0)
    };
    let base = match rep.start_date {
        Some(s) => ramp(s),
        None => 1.0,
    };
    match rep.end_date {
        Some(end) if date > end => match rep.backfill_date {
            Some(b) if date >= b => ramp(b),
            _ => 0.0,
        },
        _ => base,
    }
}

/// The middle day of period `ordinal`, where productivity is evaluated.
pub fn midpoint(calendar: &Calendar, ordinal: i64) -> NaiveDate {
    calendar.start_of(ordinal) + chrono::Duration::days(calendar.days_in(ordinal) / 2)
}

/// Capacity multiplier per territory for each period ordinal in
/// `origin..origin + n`, relative to the last `baseline_periods` periods
/// before `origin`. Territories without reps get 1.0 throughout.
pub fn multipliers(
    reps: &[Rep],
    n_territories: usize,
    calendar: &Calendar,
    origin: i64,
    n: usize,
    baseline_periods: usize,
) -> Vec<Vec<f64>> {
    let mut out = vec![vec![1.0; n]; n_territories];
    for (t, row) in out.iter_mut().enumerate() {
        let own: Vec<&Rep> = reps.iter().filter(|r| r.territory == t).collect();
        if own.is_empty() {
            continue;
        }
        let capacity = |ordinal: i64| -> f64 {
            let d = midpoint(calendar, ordinal);
            own.iter().map(|r| r.fte * productivity(r, d)).sum()
        };
        let baseline: f64 = (1..=baseline_periods as i64)
            .map(|k| capacity(origin - k))
            .sum::<f64>()
            / baseline_periods.max(1) as f64;
        let reference = if baseline > 1e-9 {
            baseline
        } else {
            own.iter().map(|r| r.fte).sum::<f64>().max(1e-9)
        };
        for (h, v) in row.iter_mut().enumerate() {
            *v = capacity(origin + h as i64) / reference;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::PeriodKind;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn rep(start: Option<&str>, end: Option<&str>, backfill: Option<&str>, ramp: f64) -> Rep {
        Rep {
            id: "r".into(),
            territory: 0,
            start_date: start.map(d),
            end_date: end.map(d),
            backfill_date: backfill.map(d),
            ramp_months: ramp,
            fte: 1.0,
        }
    }

    #[test]
    fn new_hire_ramps_linearly() {
        let r = rep(Some("2027-01-01"), None, None, 4.0);
        assert_eq!(productivity(&r, d("2026-12-31")), 0.0);
        let p = productivity(&r, d("2027-03-02"));
        assert!((p - (60.0 / DAYS_PER_MONTH) / 4.0).abs() < 1e-12);
        assert_eq!(productivity(&r, d("2027-06-01")), 1.0);
    }

    #[test]
    fn leaver_then_backfill() {
        let r = rep(
            Some("2020-01-01"),
            Some("2027-03-31"),
            Some("2027-06-01"),
            2.0,
        );
        assert_eq!(productivity(&r, d("2027-03-15")), 1.0);
        assert_eq!(productivity(&r, d("2027-04-15")), 0.0);
        assert!(productivity(&r, d("2027-07-01")) > 0.4);
    }

    #[test]
    fn multiplier_halves_when_one_of_two_reps_leaves() {
        let cal = Calendar::new(PeriodKind::Month, 1);
        let origin = cal.period_of(d("2027-01-01"));
        let reps = vec![
            rep(None, None, None, 0.0),
            rep(None, Some("2027-06-30"), None, 0.0),
        ];
        let m = multipliers(&reps, 1, &cal, origin, 12, 12);
        assert_eq!(m[0][0], 1.0);
        assert_eq!(m[0][5], 1.0);
        assert_eq!(m[0][6], 0.5);
    }
}
