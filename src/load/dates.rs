//! Date parsing for input files: ISO `YYYY-MM-DD` always, period labels
//! (the ISO year-month `YYYY-MM` and week `YYYY-Www`; quarters `YYYY-Qn`
//! where the fiscal year is the calendar year), plus the scenario's
//! `date_format` (a chrono/strftime string, which may include a time of
//! day that is then ignored, and may name no day: `%Y-%m`, `%b %Y`). A
//! label, or a date in a format without its day (or its month, or its
//! weekday), stands for its period's first day.

use chrono::format::{parse, Parsed, StrftimeItems};
use chrono::{Datelike, NaiveDate, Weekday};

use crate::calendar::PeriodKind;

/// The days of a week from Monday, the first day of the calendar's weeks.
const WEEK_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Years a date may have: four digits (a millisecond timestamp read as
/// seconds lands in the year 55,000).
const YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

/// How much time a date read names: a day, or a whole week, month,
/// quarter or year (a label, or a format without its day or month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Span {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Span {
    /// A calendar period's span.
    pub fn of(kind: PeriodKind) -> Self {
        match kind {
            PeriodKind::Week => Span::Week,
            PeriodKind::Month => Span::Month,
            PeriodKind::Quarter => Span::Quarter,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Span::Day => "day",
            Span::Week => "week",
            Span::Month => "month",
            Span::Quarter => "quarter",
            Span::Year => "year",
        }
    }
}

/// Parses dates in ISO form, as period labels, or in the scenario's format.
#[derive(Debug, Clone)]
pub struct DateParser {
    format: Option<String>,
    /// Quarter labels are read (the fiscal year is the calendar year: with
    /// another, which year a fiscal quarter's label names is a
    /// convention the data does not state).
    quarter_labels: bool,
    /// The most time a date may name: a sales table's dates no more than
    /// its calendar's period (a quarter's total dated by its label in a
    /// monthly calendar would sit in its first month and leave the other
    /// two empty); an event's date (a rep's start, a deal's close) any.
    coarsest: Span,
}

impl DateParser {
    /// A parser for ISO dates, period labels and, if given, `format`, for a
    /// calendar whose fiscal year starts in `fiscal_start_month`, of dates
    /// naming no more than `coarsest`.
    pub fn new(format: Option<&str>, fiscal_start_month: u32, coarsest: Span) -> Self {
        Self {
            format: format.map(str::to_string),
            quarter_labels: fiscal_start_month == 1,
            coarsest,
        }
    }

    /// The date in `s` (a period's first day where it names a period), or
    /// `None` if it is in no accepted form.
    pub fn parse(&self, s: &str) -> Option<NaiveDate> {
        let s = s.trim();
        let (date, span) = self
            .format
            .as_deref()
            .and_then(|f| parse_in(s, f))
            .or_else(|| parse_iso(s).map(|d| (d, Span::Day)))
            .or_else(|| parse_label(s, self.quarter_labels))?;
        (span <= self.coarsest && YEARS.contains(&date.year())).then_some(date)
    }

    /// What this parser accepts, for error messages.
    pub fn describe(&self) -> String {
        let labels = if self.quarter_labels {
            "YYYY-MM, YYYY-Www, YYYY-Qn"
        } else {
            "YYYY-MM, YYYY-Www; quarter labels YYYY-Qn only where fiscal_year_start is 01-01, since a fiscal quarter's label does not say which year it counts from"
        };
        let within = if self.coarsest < Span::Year {
            format!(", naming no more than a {}", self.coarsest.name())
        } else {
            String::new()
        };
        match &self.format {
            Some(f) => format!(
                "the format '{f}' (data.date_format), ISO YYYY-MM-DD or a period label ({labels}){within}"
            ),
            None => format!(
                "ISO form YYYY-MM-DD or a period label ({labels}; set data.date_format for other forms, e.g. \"%m/%d/%Y\"){within}"
            ),
        }
    }
}

/// `s` in the chrono format `f`, a time of day ignored; a date without its
/// day (a month's label, `%Y-%m`) is the month's first, one without its
/// month either (`%Y`) the year's, unless the format reads the day
/// another way (a day of the year, a week and weekday).
fn parse_in(s: &str, f: &str) -> Option<(NaiveDate, Span)> {
    let mut p = Parsed::new();
    parse(&mut p, s, StrftimeItems::new(f)).ok()?;
    let by_week =
        p.isoweek().is_some() || p.week_from_sun().is_some() || p.week_from_mon().is_some();
    if by_week && p.weekday().is_none() {
        // A week's label: its first day inside its year, Monday where the
        // week is whole (the first day of the calendar's weeks); a week 0
        // or 53 of `%W` or `%U` straddles the year's edge and starts, or
        // ends, on another day.
        return WEEK_DAYS.iter().find_map(|&day| {
            let mut q = p.clone();
            q.set_weekday(day).ok()?;
            Some((q.to_naive_date().ok()?, Span::Week))
        });
    }
    let mut span = Span::Day;
    if !by_week && p.ordinal().is_none() && p.timestamp().is_none() {
        if p.month().is_none() {
            p.set_month(1).ok()?;
            span = Span::Year;
        }
        if p.day().is_none() {
            p.set_day(1).ok()?;
            span = span.max(Span::Month);
        }
    }
    let date = p
        .to_naive_date()
        .or_else(|_| p.to_naive_datetime_with_offset(0).map(|t| t.date()))
        .ok()?;
    Some((date, span))
}

/// `YYYY-MM-DD`, optionally followed by a time (`T...` or ` ...`).
fn parse_iso(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if b.len() > 10 && b[10] != b'T' && b[10] != b' ' {
        return None;
    }
    NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok()
}

/// A period's label, as its first day: the ISO year-month `YYYY-MM`, the
/// ISO week `YYYY-Www` or `YYYYWww` (its Monday), or, with `quarters`, a
/// calendar quarter `YYYY-Qn`, `YYYYQn` or `YYYY Qn` (`q` either case, n
/// from 1 to 4).
fn parse_label(s: &str, quarters: bool) -> Option<(NaiveDate, Span)> {
    let digits = |t: &str, n: usize| -> Option<u32> {
        (t.len() == n && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (year, rest) = (digits(s.get(..4)?, 4)?, s.get(4..)?);
    if year == 0 {
        return None;
    }
    if let Some(week) = rest
        .strip_prefix(['-'])
        .unwrap_or(rest)
        .strip_prefix(['W', 'w'])
    {
        // An ISO week: its Monday.
        let monday = NaiveDate::from_isoywd_opt(year as i32, digits(week, 2)?, Weekday::Mon)?;
        return Some((monday, Span::Week));
    }
    let (month, span) = match rest.strip_prefix('-').and_then(|m| digits(m, 2)) {
        Some(m) => (m, Span::Month),
        None if quarters => {
            let q = rest.strip_prefix(['-', ' ']).unwrap_or(rest);
            let q = digits(q.strip_prefix(['Q', 'q'])?, 1)?;
            if !(1..=4).contains(&q) {
                return None;
            }
            (3 * q - 2, Span::Quarter)
        }
        None => return None,
    };
    Some((NaiveDate::from_ymd_opt(year as i32, month, 1)?, span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_custom_formats() {
        let p = DateParser::new(Some("%m/%d/%Y"), 1, Span::Year);
        assert_eq!(p.parse("11/8/2016"), NaiveDate::from_ymd_opt(2016, 11, 8));
        assert_eq!(p.parse("2016-11-08"), NaiveDate::from_ymd_opt(2016, 11, 8));
        assert_eq!(p.parse("2016-13-08"), None);
        assert_eq!(p.parse("8.11.2016"), None);
    }

    #[test]
    fn formats_with_a_time_of_day() {
        let p = DateParser::new(Some("%m/%d/%Y %H:%M"), 1, Span::Year);
        assert_eq!(
            p.parse("2/24/2003 0:00"),
            NaiveDate::from_ymd_opt(2003, 2, 24)
        );
    }

    #[test]
    fn period_labels_are_their_first_day() {
        // (date_format, text, the date read: year, month, day), with the
        // fiscal year the calendar year.
        type Case<'a> = (Option<&'a str>, &'a str, Option<(i32, u32, u32)>);
        let cases: [Case; 34] = [
            // Labels.
            (None, "2019-01", Some((2019, 1, 1))),
            (None, "2019-Q3", Some((2019, 7, 1))),
            (None, "2019q4", Some((2019, 10, 1))),
            (None, "2019 Q1", Some((2019, 1, 1))),
            (None, "2023-W05", Some((2023, 1, 30))),
            (None, "2023w05", Some((2023, 1, 30))),
            (None, "2019-13", None),
            (None, "2019-Q5", None),
            (None, "2019-Q", None),
            (None, "2019-1", None),
            (None, "201901", None),
            (None, "19-01", None),
            (None, "2019-Q12", None),
            (None, "2019-Q01", None),
            (None, "0000-01", None),
            (None, "2023-W54", None),
            // A format that names no day reads its month's first day, one
            // that names no month either its year's; ISO input still reads.
            (Some("%Y-%m"), "2019-02", Some((2019, 2, 1))),
            (Some("%b %Y"), "Mar 2019", Some((2019, 3, 1))),
            (Some("%m/%Y"), "11/2019", Some((2019, 11, 1))),
            (Some("%-m/%Y"), "2/2023", Some((2023, 2, 1))),
            (Some("%Y"), "2019", Some((2019, 1, 1))),
            (Some("%b %Y"), "2019-03-05", Some((2019, 3, 5))),
            (Some("%b %Y"), "Mar 5 2019", None),
            // Padding flags and dates by week read as chrono reads them (a
            // text search for "%d" took "%-d" for a missing day).
            (Some("%m/%-d/%Y"), "1/5/2023", Some((2023, 1, 5))),
            (Some("%-m/%-d/%Y"), "1/5/2023", Some((2023, 1, 5))),
            (Some("%v"), " 5-Jan-2023", Some((2023, 1, 5))),
            (Some("%G-W%V-%u"), "2023-W01-1", Some((2023, 1, 2))),
            // A week without its weekday: its Monday, or for a %W or %U
            // week 0 or 53, which straddles the year's edge, its first
            // day inside the year.
            (Some("%G-W%V"), "2023-W05", Some((2023, 1, 30))),
            (Some("%Y-W%W"), "2022-W05", Some((2022, 1, 31))),
            (Some("%Y-W%W"), "2022-W00", Some((2022, 1, 1))),
            (Some("%Y-W%U"), "2023-W53", Some((2023, 12, 31))),
            // A millisecond timestamp read as seconds is no date.
            (Some("%s"), "1700000000", Some((2023, 11, 14))),
            (Some("%s"), "1700000000000", None),
            (Some("%Y-%m-%d"), "55840-11-08", None),
        ];
        for (format, text, date) in cases {
            let expected = date.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
            assert_eq!(
                DateParser::new(format, 1, Span::Year).parse(text),
                expected,
                "{format:?} {text}"
            );
        }
        // A sales table's dates name no more than its calendar's period.
        let monthly = |format| DateParser::new(format, 1, Span::of(PeriodKind::Month));
        assert_eq!(monthly(None).parse("2019-Q2"), None);
        assert_eq!(monthly(Some("%Y")).parse("2019"), None);
        assert_eq!(
            monthly(None).parse("2019-05"),
            NaiveDate::from_ymd_opt(2019, 5, 1)
        );
        assert_eq!(
            monthly(None).parse("2019-W05"),
            NaiveDate::from_ymd_opt(2019, 1, 28)
        );
        let weekly = DateParser::new(Some("%Y-%m"), 1, Span::of(PeriodKind::Week));
        assert_eq!(weekly.parse("2019-05"), None);
        assert_eq!(
            weekly.parse("2019-05-06"),
            NaiveDate::from_ymd_opt(2019, 5, 6)
        );
        // Quarter labels only where the fiscal year is the calendar year.
        let fiscal = DateParser::new(None, 4, Span::Year);
        assert_eq!(fiscal.parse("2019-Q2"), None);
        assert_eq!(fiscal.parse("2019-05"), NaiveDate::from_ymd_opt(2019, 5, 1));
    }

    #[test]
    fn day_first_is_not_mistaken_for_iso() {
        let p = DateParser::new(Some("%d-%m-%Y"), 1, Span::Year);
        assert_eq!(p.parse("05-02-2010"), NaiveDate::from_ymd_opt(2010, 2, 5));
        assert_eq!(
            DateParser::new(None, 1, Span::Year).parse("05-02-2010"),
            None
        );
    }
}
