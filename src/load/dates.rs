//! Date parsing for input files: ISO `YYYY-MM-DD` always, plus the
//! scenario's `date_format` (a chrono/strftime string, which may include a
//! time of day that is then ignored).

use chrono::{NaiveDate, NaiveDateTime};

/// Parses dates in ISO form or the scenario's format.
#[derive(Debug, Clone)]
pub struct DateParser {
    format: Option<String>,
    format_has_time: bool,
}

impl DateParser {
    /// A parser for ISO dates and, if given, `format`.
    pub fn new(format: Option<&str>) -> Self {
        let format_has_time = format
            .map(|f| {
                ["%H", "%M", "%S", "%I", "%T", "%R", "%p"]
                    .iter()
                    .any(|t| f.contains(t))
            })
            .unwrap_or(false);
        Self {
            format: format.map(str::to_string),
            format_has_time,
        }
    }

    /// The date in `s`, or `None` if it is in neither accepted form.
    pub fn parse(&self, s: &str) -> Option<NaiveDate> {
        let s = s.trim();
        if let Some(f) = &self.format {
            if self.format_has_time {
                if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
                    return Some(dt.date());
                }
            } else if let Ok(d) = NaiveDate::parse_from_str(s, f) {
                return Some(d);
            }
        }
        parse_iso(s)
    }

    /// What this parser accepts, for error messages.
    pub fn describe(&self) -> String {
        match &self.format {
            Some(f) => format!("the format '{f}' (data.date_format) or ISO YYYY-MM-DD"),
            None => "ISO form YYYY-MM-DD (set data.date_format for other forms, e.g. \"%m/%d/%Y\")"
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
    fn day_first_is_not_mistaken_for_iso() {
        let p = DateParser::new(Some("%d-%m-%Y"));
        assert_eq!(p.parse("05-02-2010"), NaiveDate::from_ymd_opt(2010, 2, 5));
        assert_eq!(DateParser::new(None).parse("05-02-2010"), None);
    }
}
