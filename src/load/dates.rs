//! Date parsing for input files: ISO `YYYY-MM-DD` always, period labels
//! (ISO year-month `YYYY-MM`, quarters `YYYY-Qn`), plus the scenario's
//! `date_format` (a chrono/strftime string, which may include a time of
//! day that is then ignored, and may name no day: `%Y-%m`, `%b %Y`).
//! A label or a format without a day stands for its period's first day.

use chrono::{NaiveDate, NaiveDateTime};

/// Specifiers that name a day (or a whole date): a format with none of
/// them names a month (or a year) and is read as its first day.
const DAY_SPECIFIERS: [&str; 9] = ["%d", "%e", "%j", "%F", "%D", "%x", "%c", "%s", "%+"];

/// Specifiers that name a month.
const MONTH_SPECIFIERS: [&str; 4] = ["%m", "%b", "%B", "%h"];

/// Parses dates in ISO form, as period labels, or in the scenario's format.
#[derive(Debug, Clone)]
pub struct DateParser {
    format: Option<String>,
    format_has_time: bool,
    /// The format names no day: the text is read with day 1 appended.
    format_has_day: bool,
}

impl DateParser {
    /// A parser for ISO dates, period labels and, if given, `format`.
    pub fn new(format: Option<&str>) -> Self {
        let names =
            |specifiers: &[&str]| format.is_some_and(|f| specifiers.iter().any(|t| f.contains(t)));
        Self {
            format: format.map(str::to_string),
            format_has_time: names(&["%H", "%M", "%S", "%I", "%T", "%R", "%p"]),
            format_has_day: format.is_none() || names(&DAY_SPECIFIERS),
        }
    }

    /// The date in `s`, or `None` if it is in no accepted form.
    pub fn parse(&self, s: &str) -> Option<NaiveDate> {
        let s = s.trim();
        if let Some(f) = &self.format {
            let read = if self.format_has_day {
                self.parse_with(s, f)
            } else if MONTH_SPECIFIERS.iter().any(|m| f.contains(m)) {
                // A month's label: its first day.
                self.parse_with(&format!("{s} 1"), &format!("{f} %d"))
            } else {
                // A year's: its first day.
                self.parse_with(&format!("{s} 1 1"), &format!("{f} %m %d"))
            };
            if read.is_some() {
                return read;
            }
        }
        parse_iso(s).or_else(|| parse_label(s))
    }

    /// `s` in format `f` (a date-time's date where `f` has a time of day).
    fn parse_with(&self, s: &str, f: &str) -> Option<NaiveDate> {
        if self.format_has_time {
            NaiveDateTime::parse_from_str(s, f).ok().map(|dt| dt.date())
        } else {
            NaiveDate::parse_from_str(s, f).ok()
        }
    }

    /// What this parser accepts, for error messages.
    pub fn describe(&self) -> String {
        match &self.format {
            Some(f) => format!(
                "the format '{f}' (data.date_format), ISO YYYY-MM-DD or a period label (YYYY-MM, YYYY-Qn)"
            ),
            None => "ISO form YYYY-MM-DD or a period label (YYYY-MM, YYYY-Qn; set data.date_format for other forms, e.g. \"%m/%d/%Y\")"
                .into(),
        }
    }
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

/// A period's label, as its first day: the ISO year-month `YYYY-MM`, or a
/// quarter `YYYY-Qn`, `YYYYQn` or `YYYY Qn` (`q` either case), n from 1
/// to 4, the calendar year's quarters.
fn parse_label(s: &str) -> Option<NaiveDate> {
    let number = |t: &str| -> Option<u32> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (year, rest) = (number(s.get(..4)?)?, s.get(4..)?);
    let month = match rest.strip_prefix('-').and_then(number) {
        Some(m) if rest.len() == 3 => m,
        Some(_) => return None,
        None => {
            let q = rest.strip_prefix(['-', ' ']).unwrap_or(rest);
            let q = number(q.strip_prefix(['Q', 'q'])?)?;
            if !(1..=4).contains(&q) {
                return None;
            }
            3 * q - 2
        }
    };
    NaiveDate::from_ymd_opt(year as i32, month, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_custom_formats() {
        let p = DateParser::new(Some("%m/%d/%Y"));
        assert_eq!(p.parse("11/8/2016"), NaiveDate::from_ymd_opt(2016, 11, 8));
        assert_eq!(p.parse("2016-11-08"), NaiveDate::from_ymd_opt(2016, 11, 8));
        assert_eq!(p.parse("2016-13-08"), None);
        assert_eq!(p.parse("8.11.2016"), None);
    }

    #[test]
    fn formats_with_a_time_of_day() {
        let p = DateParser::new(Some("%m/%d/%Y %H:%M"));
        assert_eq!(
            p.parse("2/24/2003 0:00"),
            NaiveDate::from_ymd_opt(2003, 2, 24)
        );
    }

    #[test]
    fn period_labels_are_their_first_day() {
        let first = |y, m| NaiveDate::from_ymd_opt(y, m, 1);
        let iso = DateParser::new(None);
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
            DateParser::new(Some("%Y-%m")).parse("2019-02"),
            first(2019, 2)
        );
        assert_eq!(
            DateParser::new(Some("%b %Y")).parse("Mar 2019"),
            first(2019, 3)
        );
        assert_eq!(
            DateParser::new(Some("%m/%Y")).parse("11/2019"),
            first(2019, 11)
        );
        assert_eq!(DateParser::new(Some("%Y")).parse("2019"), first(2019, 1));
        assert_eq!(
            DateParser::new(Some("%b %Y")).parse("2019-03-05"),
            NaiveDate::from_ymd_opt(2019, 3, 5)
        );
        assert_eq!(DateParser::new(Some("%b %Y")).parse("Mar 5 2019"), None);
    }

    #[test]
    fn day_first_is_not_mistaken_for_iso() {
        let p = DateParser::new(Some("%d-%m-%Y"));
        assert_eq!(p.parse("05-02-2010"), NaiveDate::from_ymd_opt(2010, 2, 5));
        assert_eq!(DateParser::new(None).parse("05-02-2010"), None);
    }
}
