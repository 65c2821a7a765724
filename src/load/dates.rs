//! Date parsing for input files: ISO `YYYY-MM-DD` always, period labels
//! (the ISO year-month `YYYY-MM` and week `YYYY-Www`; quarters `YYYY-Qn`
//! where the fiscal year is the calendar year), plus the scenario's
//! `date_format` (a chrono/strftime string, which may include a time of
//! day that is then ignored, and may name no day: `%Y-%m`, `%b %Y`). A
//! label, or a date in a format without its day (or its month, or its
//! weekday), stands for its period's first day.

use chrono::format::{parse, Parsed, StrftimeItems};
use chrono::{NaiveDate, Weekday};

/// Parses dates in ISO form, as period labels, or in the scenario's format.
#[derive(Debug, Clone)]
pub struct DateParser {
    format: Option<String>,
    /// Quarter labels are read (the fiscal year is the calendar year: with
    /// another, which year a fiscal quarter's label names is a
    /// convention the data does not state).
    quarter_labels: bool,
}

impl DateParser {
    /// A parser for ISO dates, period labels and, if given, `format`, for a
    /// calendar whose fiscal year starts in `fiscal_start_month`.
    pub fn new(format: Option<&str>, fiscal_start_month: u32) -> Self {
        Self {
            format: format.map(str::to_string),
            quarter_labels: fiscal_start_month == 1,
        }
    }

    /// The date in `s`, or `None` if it is in no accepted form.
    pub fn parse(&self, s: &str) -> Option<NaiveDate> {
        let s = s.trim();
        self.format
            .as_deref()
            .and_then(|f| parse_in(s, f))
            .or_else(|| parse_iso(s))
            .or_else(|| parse_label(s, self.quarter_labels))
    }

    /// What this parser accepts, for error messages.
    pub fn describe(&self) -> String {
        let labels = if self.quarter_labels {
            "YYYY-MM, YYYY-Www, YYYY-Qn"
        } else {
            "YYYY-MM, YYYY-Www; quarter labels YYYY-Qn only where fiscal_year_start is 01-01, since a fiscal quarter's label does not say which year it counts from"
        };
        match &self.format {
            Some(f) => format!(
                "the format '{f}' (data.date_format), ISO YYYY-MM-DD or a period label ({labels})"
            ),
            None => format!(
                "ISO form YYYY-MM-DD or a period label ({labels}; set data.date_format for other forms, e.g. \"%m/%d/%Y\")"
            ),
        }
    }
}

/// `s` in the chrono format `f`, a time of day ignored; a date without its
/// day (a month's label, `%Y-%m`) is the month's first, one without its
/// month either (`%Y`) the year's, unless the format reads the day
/// another way (a day of the year, a week and weekday).
fn parse_in(s: &str, f: &str) -> Option<NaiveDate> {
    let mut p = Parsed::new();
    parse(&mut p, s, StrftimeItems::new(f)).ok()?;
    let by_week =
        p.isoweek().is_some() || p.week_from_sun().is_some() || p.week_from_mon().is_some();
    if by_week && p.weekday().is_none() {
        // A week's label: its Monday, the first day of the calendar's weeks.
        p.set_weekday(Weekday::Mon).ok()?;
    }
    if !by_week && p.ordinal().is_none() && p.timestamp().is_none() {
        if p.month().is_none() {
            p.set_month(1).ok()?;
        }
        if p.day().is_none() {
            p.set_day(1).ok()?;
        }
    }
    p.to_naive_date()
        .or_else(|_| p.to_naive_datetime_with_offset(0).map(|t| t.date()))
        .ok()
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
fn parse_label(s: &str, quarters: bool) -> Option<NaiveDate> {
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
        return NaiveDate::from_isoywd_opt(year as i32, digits(week, 2)?, Weekday::Mon);
    }
    let month = match rest.strip_prefix('-').and_then(|m| digits(m, 2)) {
        Some(m) => m,
        None if quarters => {
            let q = rest.strip_prefix(['-', ' ']).unwrap_or(rest);
            let q = digits(q.strip_prefix(['Q', 'q'])?, 1)?;
            if !(1..=4).contains(&q) {
                return None;
            }
            3 * q - 2
        }
        None => return None,
    };
    NaiveDate::from_ymd_opt(year as i32, month, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_custom_formats() {
        let p = DateParser::new(Some("%m/%d/%Y"), 1);
        assert_eq!(p.parse("11/8/2016"), NaiveDate::from_ymd_opt(2016, 11, 8));
        assert_eq!(p.parse("2016-11-08"), NaiveDate::from_ymd_opt(2016, 11, 8));
        assert_eq!(p.parse("2016-13-08"), None);
        assert_eq!(p.parse("8.11.2016"), None);
    }

    #[test]
    fn formats_with_a_time_of_day() {
        let p = DateParser::new(Some("%m/%d/%Y %H:%M"), 1);
        assert_eq!(
            p.parse("2/24/2003 0:00"),
            NaiveDate::from_ymd_opt(2003, 2, 24)
        );
    }

    #[test]
    fn period_labels_are_their_first_day() {
        let first = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
        let iso = DateParser::new(None, 1);
        assert_eq!(iso.parse("2019-01"), first(2019, 1));
        assert_eq!(iso.parse("2019-Q3"), first(2019, 7));
        assert_eq!(iso.parse("2019q4"), first(2019, 10));
        assert_eq!(iso.parse("2019 Q1"), first(2019, 1));
        for bad in [
            "2019-13", "2019-Q5", "2019-Q", "2019-1", "201901", "19-01", "2019-Q12",
        ] {
            assert_eq!(iso.parse(bad), None, "{bad}");
        }
        // A format that names no day reads its month's first day, and one
        // that names no month either its year's.
        assert_eq!(
            DateParser::new(Some("%Y-%m"), 1).parse("2019-02"),
            first(2019, 2)
        );
        assert_eq!(
            DateParser::new(Some("%b %Y"), 1).parse("Mar 2019"),
            first(2019, 3)
        );
        assert_eq!(
            DateParser::new(Some("%m/%Y"), 1).parse("11/2019"),
            first(2019, 11)
        );
        assert_eq!(DateParser::new(Some("%Y"), 1).parse("2019"), first(2019, 1));
        assert_eq!(
            DateParser::new(Some("%b %Y"), 1).parse("2019-03-05"),
            NaiveDate::from_ymd_opt(2019, 3, 5)
        );
        assert_eq!(DateParser::new(Some("%b %Y"), 1).parse("Mar 5 2019"), None);
        // Days and months written with padding flags, and dates by week,
        // are read as chrono reads them (a text search for "%d" took
        // "%-d" for a missing day).
        let jan5 = NaiveDate::from_ymd_opt(2023, 1, 5);
        assert_eq!(
            DateParser::new(Some("%m/%-d/%Y"), 1).parse("1/5/2023"),
            jan5
        );
        assert_eq!(
            DateParser::new(Some("%-m/%-d/%Y"), 1).parse("1/5/2023"),
            jan5
        );
        assert_eq!(DateParser::new(Some("%v"), 1).parse(" 5-Jan-2023"), jan5);
        assert_eq!(
            DateParser::new(Some("%G-W%V-%u"), 1).parse("2023-W01-1"),
            NaiveDate::from_ymd_opt(2023, 1, 2)
        );
        assert_eq!(
            DateParser::new(Some("%-m/%Y"), 1).parse("2/2023"),
            first(2023, 2)
        );
        // ISO weeks, labelled or in a format without a weekday: Mondays.
        let monday = NaiveDate::from_ymd_opt(2023, 1, 30);
        assert_eq!(iso.parse("2023-W05"), monday);
        assert_eq!(iso.parse("2023w05"), monday);
        assert_eq!(iso.parse("2023-W54"), None);
        assert_eq!(DateParser::new(Some("%G-W%V"), 1).parse("2023-W05"), monday);
        // Quarter labels only where the fiscal year is the calendar year;
        // loose labels are not labels.
        assert_eq!(DateParser::new(None, 4).parse("2019-Q2"), None);
        assert_eq!(DateParser::new(None, 4).parse("2019-05"), first(2019, 5));
        for loose in ["2019-Q01", "0000-01", "2019-1 "] {
            assert_eq!(iso.parse(loose), None, "{loose}");
        }
    }

    #[test]
    fn day_first_is_not_mistaken_for_iso() {
        let p = DateParser::new(Some("%d-%m-%Y"), 1);
        assert_eq!(p.parse("05-02-2010"), NaiveDate::from_ymd_opt(2010, 2, 5));
        assert_eq!(DateParser::new(None, 1).parse("05-02-2010"), None);
    }
}
