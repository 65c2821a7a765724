//! Periods: weeks (ISO, from Monday), months and quarters (following the
//! fiscal year start), as integer ordinals that index every series.
//!
//! An ordinal is a plain `i64` so series can be stored as dense vectors and
//! the period of any date found with integer arithmetic. This module owns the
//! mapping date <-> period and the position of a period within its year
//! (used for seasonality); it knows nothing about sales.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

/// The length of a planning period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
}

impl PeriodKind {
    /// Parse `"week" | "month" | "quarter"`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            "quarter" => Some(Self::Quarter),
            _ => None,
        }
    }

    /// Periods in one year (the season length).
    pub fn per_year(self) -> usize {
        match self {
            Self::Week => 52,
            Self::Month => 12,
            Self::Quarter => 4,
        }
    }

    /// Name used in messages and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
        }
    }

    /// `n` of these periods, in words: "1 month", "20 months".
    pub fn count(self, n: usize) -> String {
        crate::format::count(n, self.name(), &format!("{}s", self.name()))
    }
}

/// Maps dates to period ordinals and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    pub kind: PeriodKind,
    /// First month of the fiscal year (1-12); quarters start on it.
    pub fiscal_start_month: u32,
}

/// A Monday far in the past; week ordinals count from it.
fn week_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 5).expect("valid constant date")
}

impl Calendar {
    /// A calendar of `kind` whose fiscal year starts in `fiscal_start_month`.
    pub fn new(kind: PeriodKind, fiscal_start_month: u32) -> Self {
        Self {
            kind,
            fiscal_start_month,
        }
    }

    /// The ordinal of the period containing `date`.
    pub fn period_of(&self, date: NaiveDate) -> i64 {
        let month_ordinal = date.year() as i64 * 12 + date.month0() as i64;
        match self.kind {
            PeriodKind::Month => month_ordinal,
            PeriodKind::Quarter => {
                (month_ordinal - (self.fiscal_start_month as i64 - 1)).div_euclid(3)
            }
            PeriodKind::Week => (date - week_epoch()).num_days().div_euclid(7),
        }
    }

    /// The first day of period `ordinal`.
    pub fn start_of(&self, ordinal: i64) -> NaiveDate {
        match self.kind {
            PeriodKind::Month => month_start(ordinal),
            PeriodKind::Quarter => month_start(ordinal * 3 + self.fiscal_start_month as i64 - 1),
            PeriodKind::Week => week_epoch() + Duration::days(ordinal * 7),
        }
    }

    /// The last day of period `ordinal`.
    pub fn end_of(&self, ordinal: i64) -> NaiveDate {
        self.start_of(ordinal + 1) - Duration::days(1)
    }

    /// Number of days in period `ordinal`.
    pub fn days_in(&self, ordinal: i64) -> i64 {
        (self.start_of(ordinal + 1) - self.start_of(ordinal)).num_days()
    }

    /// Whether `date` is the first day of a period.
    pub fn is_period_start(&self, date: NaiveDate) -> bool {
        self.start_of(self.period_of(date)) == date
    }

    /// Position of period `ordinal` within its year, in `0..per_year()`:
    /// the calendar month, the fiscal quarter, or the ISO week (week 53 is
    /// folded into week 52), so seasonal indices line up across years.
    pub fn season_of(&self, ordinal: i64) -> usize {
        match self.kind {
            PeriodKind::Month => ordinal.rem_euclid(12) as usize,
            PeriodKind::Quarter => ordinal.rem_euclid(4) as usize,
            PeriodKind::Week => {
                let week = self.start_of(ordinal).iso_week().week0() as usize;
                week.min(51)
            }
        }
    }
}

fn month_start(month_ordinal: i64) -> NaiveDate {
    let year = month_ordinal.div_euclid(12) as i32;
    let month = month_ordinal.rem_euclid(12) as u32 + 1;
    NaiveDate::from_ymd_opt(year, month, 1).expect("month ordinal within chrono's range")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn months_round_trip() {
        let cal = Calendar::new(PeriodKind::Month, 1);
        let p = cal.period_of(d("2027-03-17"));
        assert_eq!(cal.start_of(p), d("2027-03-01"));
        assert_eq!(cal.end_of(p), d("2027-03-31"));
        assert_eq!(cal.season_of(p), 2);
        assert!(cal.is_period_start(d("2027-03-01")));
        assert!(!cal.is_period_start(d("2027-03-02")));
    }

    #[test]
    fn fiscal_quarters_follow_the_fiscal_start() {
        let cal = Calendar::new(PeriodKind::Quarter, 2);
        let p = cal.period_of(d("2027-01-15"));
        assert_eq!(cal.start_of(p), d("2026-11-01"));
        assert_eq!(cal.start_of(p + 1), d("2027-02-01"));
        assert!(cal.is_period_start(d("2027-05-01")));
        assert!(!cal.is_period_start(d("2027-04-01")));
    }

    #[test]
    fn weeks_start_on_monday() {
        let cal = Calendar::new(PeriodKind::Week, 1);
        let p = cal.period_of(d("2027-01-07"));
        assert_eq!(cal.start_of(p), d("2027-01-04"));
        assert_eq!(cal.start_of(p).weekday(), chrono::Weekday::Mon);
        assert_eq!(cal.days_in(p), 7);
    }
}
