//! Reporting cadence: sales dated on a fixed cadence (for example weekly
//! store totals every Friday) and planned by month put four reporting dates
//! into some months and five into others, and the count moves from one year
//! to the next. A seasonal profile learnt on raw monthly totals would then
//! treat "this March had five Fridays" as seasonality. When the data has
//! such a cadence, the fit models revenue per reporting date (each period
//! divided by its [`Cadence::factor`]) and the simulation multiplies the
//! factor of each horizon period back in. The factors are known from the
//! calendar, so nothing is estimated.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::calendar::Calendar;

/// Sales dated every `step_days` days from `anchor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    pub anchor: NaiveDate,
    pub step_days: i64,
}

impl Cadence {
    /// The cadence of `dates` when they fall on a fixed step of a week or
    /// more (every gap a multiple of the smallest, at least 8 dates) and the
    /// calendar's periods hold at least two steps; `None` for daily or
    /// irregular data, and for periods no longer than the step.
    pub fn detect(dates: &BTreeSet<NaiveDate>, calendar: &Calendar) -> Option<Self> {
        if dates.len() < 8 {
            return None;
        }
        let days: Vec<NaiveDate> = dates.iter().copied().collect();
        let gaps: Vec<i64> = days.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
        let step = *gaps.iter().min()?;
        let period_days = 365.2425 / calendar.kind.per_year() as f64;
        if step < 7 || (2 * step) as f64 > period_days || gaps.iter().any(|g| g % step != 0) {
            return None;
        }
        Some(Self {
            anchor: days[0],
            step_days: step,
        })
    }

    /// Number of reporting dates inside period `ordinal`.
    pub fn count_in(&self, calendar: &Calendar, ordinal: i64) -> i64 {
        let from = (calendar.start_of(ordinal) - self.anchor).num_days();
        let to = (calendar.end_of(ordinal) - self.anchor).num_days();
        let first = (from + self.step_days - 1).div_euclid(self.step_days);
        let last = to.div_euclid(self.step_days);
        (last - first + 1).max(0)
    }

    /// Reporting dates in period `ordinal` relative to an average period
    /// (about 1 on average over a year: 4 weeks in a month give 0.92, 5
    /// give 1.15).
    pub fn factor(&self, calendar: &Calendar, ordinal: i64) -> f64 {
        let per_period = 365.2425 / calendar.kind.per_year() as f64 / self.step_days as f64;
        self.count_in(calendar, ordinal) as f64 / per_period
    }

    /// A sentence for the data summary.
    pub fn describe(&self) -> String {
        format!(
            "sales are dated every {} days (from {}); revenue is modelled per reporting date, so \
             periods holding more reporting dates are expected to sell more",
            self.step_days, self.anchor
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::PeriodKind;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekly_dates_in_months_count_fridays() {
        let cal = Calendar::new(PeriodKind::Month, 1);
        let fridays: BTreeSet<NaiveDate> = (0..60)
            .map(|k| d(2010, 2, 5) + chrono::Duration::days(7 * k))
            .collect();
        let c = Cadence::detect(&fridays, &cal).expect("weekly cadence");
        assert_eq!(c.step_days, 7);
        // April 2010 has 5 Fridays (2, 9, 16, 23, 30); May 2010 has 4.
        assert_eq!(c.count_in(&cal, cal.period_of(d(2010, 4, 1))), 5);
        assert_eq!(c.count_in(&cal, cal.period_of(d(2010, 5, 1))), 4);
        // Before the anchor the cadence continues backwards: January 2010 has 5.
        assert_eq!(c.count_in(&cal, cal.period_of(d(2010, 1, 1))), 5);
        let year: f64 = (0..12)
            .map(|m| c.factor(&cal, cal.period_of(d(2011, 1, 1)) + m))
            .sum();
        assert!((year - 12.0 * 52.0 / 52.178).abs() < 0.05, "{year}");
    }

    #[test]
    fn daily_irregular_or_weekly_calendar_data_has_no_cadence() {
        let month = Calendar::new(PeriodKind::Month, 1);
        let daily: BTreeSet<NaiveDate> = (0..100)
            .map(|k| d(2020, 1, 1) + chrono::Duration::days(k))
            .collect();
        assert_eq!(Cadence::detect(&daily, &month), None);
        let irregular: BTreeSet<NaiveDate> = [0, 7, 15, 22, 29, 36, 43, 50, 57]
            .iter()
            .map(|&k| d(2020, 1, 1) + chrono::Duration::days(k))
            .collect();
        assert_eq!(Cadence::detect(&irregular, &month), None);
        let week = Calendar::new(PeriodKind::Week, 1);
        let weekly: BTreeSet<NaiveDate> = (0..20)
            .map(|k| d(2020, 1, 3) + chrono::Duration::days(7 * k))
            .collect();
        assert_eq!(Cadence::detect(&weekly, &week), None);
    }
}
