//! Numbers for people: thousands separators, compact amounts for axes
//! ("28.6M"), percentages, the scenario's currency and counts with their
//! noun ("1 row", "3 rows"). Used by the HTML page, the plots and the
//! messages; machine-readable files keep plain numbers.

/// `1234567.891` -> `"1,234,568"` (rounded to whole units).
pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let rounded = x.round();
    let negative = rounded < 0.0;
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if negative && out != "0" {
        out.insert(0, '-');
    }
    out
}

/// An amount in the scenario's currency: `"USD 1,234,568"`.
pub fn money(x: f64, currency: &str) -> String {
    let n = thousands(x);
    if n.is_empty() || currency.is_empty() {
        n
    } else {
        format!("{currency} {n}")
    }
}

/// A compact amount for axes and headline figures: 950, 12.3k, 4.56M, 1.2B.
pub fn compact(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let a = x.abs();
    let (value, suffix) = if a >= 1e9 {
        (x / 1e9, "B")
    } else if a >= 1e6 {
        (x / 1e6, "M")
    } else if a >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let v = value.abs();
    let digits = if v >= 100.0 || (suffix.is_empty() && v == v.round() && v >= 1.0) {
        0
    } else if v >= 10.0 {
        1
    } else if v >= 1.0 || !suffix.is_empty() {
        2
    } else {
        3
    };
    let s = format!("{value:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

/// A share as a percentage: `0.8123` -> `"81.2%"`.
pub fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        String::new()
    }
}

/// A statistic with `digits` decimals, blank when not finite.
pub fn fixed(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        String::new()
    }
}

/// A count with its noun, singular for one: `count(1, "row", "rows")` ->
/// `"1 row"`, `count(3, "row", "rows")` -> `"3 rows"`.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_of_one_takes_the_singular() {
        assert_eq!(count(1, "row", "rows"), "1 row");
        assert_eq!(count(0, "row", "rows"), "0 rows");
        assert_eq!(count(3, "period", "periods"), "3 periods");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(-1234567.5), "-1,234,568");
        assert_eq!(thousands(-0.2), "0");
        assert_eq!(thousands(f64::NAN), "");
    }

    #[test]
    fn compact_amounts() {
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(12_345.0), "12.3k");
        assert_eq!(compact(4_560_000.0), "4.56M");
        assert_eq!(compact(28_600_000.0), "28.6M");
        assert_eq!(compact(250_000_000.0), "250M");
        assert_eq!(compact(-1_500_000.0), "-1.5M");
        assert_eq!(compact(2e9), "2B");
        assert_eq!(compact(0.25), "0.25");
        assert_eq!(compact(0.1234), "0.123");
        assert_eq!(compact(12.5), "12.5");
        assert_eq!(compact(0.0), "0");
    }

    #[test]
    fn money_and_percent() {
        assert_eq!(money(1234.0, "USD"), "USD 1,234");
        assert_eq!(money(1234.0, ""), "1,234");
        assert_eq!(percent(0.8123), "81.2%");
    }
}
