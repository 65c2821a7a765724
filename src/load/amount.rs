//! Reading a number cell as a spreadsheet writes money: a plain decimal
//! (`1234.50`, `-3`, `1e3`), or a formatted one with a currency symbol or
//! code before or after it (`$1,234.50`, `1 234,50 €`, `EUR 12`),
//! thousands separators in groups of three, and a minus sign or an
//! accounting parenthesis for a negative (`-$12.00`, `($1,234.50)`).
//! Which mark is the decimal one is the file's convention
//! ([`super::source::Table::decimal_comma`]), never guessed per cell; a
//! cell that could be read two ways under it (`1.234` in a file of decimal
//! commas: 1234 in the writer's locale, or a decimal point written by
//! another tool) is refused, quoting the cell, as is anything else.

/// Currency symbols read before or after an amount (with letters before
/// them: `US$`, `R$`, `HK$`).
const CURRENCY_SYMBOLS: &[char] = &[
    '$', '€', '£', '¥', '₹', '₩', '₽', '₺', '₪', '₫', '₱', '₦', '₴', '₸', '฿', '₡', '₲', '₵', '₭',
    '₮', '₼', '₾', '¢',
];

/// Spaces a spreadsheet writes between thousands or around a symbol:
/// the ordinary one, the no-break space and the narrow no-break space
/// (French and Swiss formats).
const SPACES: &[char] = &[' ', '\u{a0}', '\u{202f}'];

/// What a number cell must look like, for messages about one that does
/// not: in a file of decimal points (`decimal_comma` false) or of
/// decimal commas.
pub fn expected_number(decimal_comma: bool) -> &'static str {
    if decimal_comma {
        "a finite number with a decimal comma such as 1234,50, 1.234,50 or 1 234,50 € (the file is separated by semicolons; a point is a thousands separator there, so 1.234 alone is refused: 1234 or 1,234?)"
    } else {
        "a finite number such as 1234.50, -1234.50, 1,234.50, $1,234.50 or ($1,234.50)"
    }
}

/// The cell `v` as a plain decimal (`-1234.50`) that Rust and polars
/// parse, under the file's convention (`decimal_comma`); `None` where it
/// is not a number in one of the module's forms.
pub fn plain_number(v: &str, decimal_comma: bool) -> Option<String> {
    let v = v.trim();
    let (negative, v) = match v.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        Some(inner) => (true, inner.trim()),
        None => (false, v),
    };
    let (v, stripped) = without_currency(v);
    let (sign, body) = match v.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => ("-", rest),
        None => ("", v.strip_prefix('+').unwrap_or(v)),
    };
    // A sign may stand before the symbol or after it (`-$12`, `$-12`),
    // once, and not inside parentheses; there is one symbol at most.
    let body = if stripped {
        body
    } else {
        without_currency(body).0
    };
    if negative && !sign.is_empty() || body.starts_with(['-', '+', '\u{2212}']) {
        return None;
    }
    let plain = digits(body, decimal_comma)?;
    let sign = if negative { "-" } else { sign };
    Some(format!("{sign}{plain}"))
}

/// `v` without one currency symbol or code at its start or its end (and
/// the spaces beside it), and whether it had one.
fn without_currency(v: &str) -> (&str, bool) {
    let code = |s: &str| s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase());
    let symbol = |s: &str| {
        let letters = s.trim_end_matches(CURRENCY_SYMBOLS);
        // One symbol, after at most three capitals (`US$`, `HK$`).
        s.chars().count() == letters.chars().count() + 1
            && letters.len() <= 3
            && letters.chars().all(|c| c.is_ascii_uppercase())
    };
    let currency = |s: &str| code(s) || symbol(s);
    let starts_number =
        |c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | ',' | '\u{2212}');
    if let Some(i) = v.find(starts_number) {
        if i > 0 && currency(v[..i].trim_end_matches(SPACES)) {
            return (&v[i..], true);
        }
    }
    if let Some(i) = v.rfind(|c: char| c.is_ascii_digit()) {
        let tail = &v[i + 1..];
        if !tail.is_empty() && currency(tail.trim_start_matches(SPACES)) {
            return (&v[..=i], true);
        }
    }
    (v, false)
}

/// The digits of an unsigned amount `v` as a plain decimal: either plain
/// already (`1234.5`, `1e3`; with a decimal comma, `1234,5`) or with its
/// thousands in groups of three, separated by one kind of mark (a comma,
/// or with decimal commas a point; or a space or an apostrophe), and its
/// decimal mark once.
fn digits(v: &str, decimal_comma: bool) -> Option<String> {
    let (decimal, group) = if decimal_comma {
        (',', '.')
    } else {
        ('.', ',')
    };
    if decimal_comma {
        if !v.contains(['.', ' ', '\u{a0}', '\u{202f}', '\'']) {
            let plain = v.replace(',', ".");
            return plain.parse::<f64>().is_ok().then_some(plain);
        }
    } else if v.parse::<f64>().is_ok() {
        return Some(v.to_string());
    }
    let (whole, fraction) = match v.split_once(decimal) {
        Some((w, f)) => (w, Some(f)),
        None => (v, None),
    };
    let separators: Vec<char> = whole.chars().filter(|c| !c.is_ascii_digit()).collect();
    let mark = *separators.first()?;
    if !(mark == group || mark == '\'' || SPACES.contains(&mark))
        || separators.iter().any(|&c| c != mark)
    {
        return None;
    }
    let groups: Vec<&str> = whole.split(mark).collect();
    let grouped =
        groups[0].len() <= 3 && !groups[0].is_empty() && groups[1..].iter().all(|g| g.len() == 3);
    // `1.234` with decimal commas: a thousands point or a decimal one.
    let ambiguous = decimal_comma && mark == '.' && groups.len() == 2 && fraction.is_none();
    let fraction_ok =
        fraction.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()));
    if !grouped || ambiguous || !fraction_ok {
        return None;
    }
    let mut plain: String = groups.concat();
    if let Some(f) = fraction {
        plain.push('.');
        plain.push_str(f);
    }
    Some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells read as a spreadsheet shows them, in a file of decimal points.
    #[test]
    fn money_as_spreadsheets_write_it_is_read() {
        let cases = [
            ("1234.50", "1234.50"),
            ("-3", "-3"),
            ("1e3", "1e3"),
            (" 12 ", "12"),
            ("1,234.50", "1234.50"),
            ("1,234,567", "1234567"),
            ("$1,234.50", "1234.50"),
            ("-$1,234.50", "-1234.50"),
            ("$-1,234.50", "-1234.50"),
            ("($1,234.50)", "-1234.50"),
            ("(12)", "-12"),
            ("US$ 12.00", "12.00"),
            ("£12", "12"),
            ("12 €", "12"),
            ("EUR 1,200", "1200"),
            ("1,200 USD", "1200"),
            ("1'234.50", "1234.50"),
            ("1\u{a0}234.50", "1234.50"),
            ("\u{2212}12", "-12"),
            ("+12", "12"),
        ];
        for (cell, plain) in cases {
            assert_eq!(plain_number(cell, false).as_deref(), Some(plain), "{cell}");
        }
    }

    /// Cells that are not one number, or could be read two ways.
    #[test]
    fn what_is_not_one_number_is_refused() {
        for cell in [
            "",
            "abc",
            "12abc",
            "1,23.5",
            "1,2345",
            ",123",
            "12,",
            "1,234.5.6",
            "$$12",
            "-(12)",
            "(-12)",
            "--12",
            "12 EURO",
            "usd 12",
            "$",
            "$12$",
            "$12 €",
            "1,234 567",
            "1.234,50",
            "12%",
            "1 2",
            "(",
            ")",
            "()",
            "€",
            "1€2",
            "€€1",
            "1 €€",
        ] {
            assert_eq!(plain_number(cell, false), None, "{cell}");
        }
    }

    /// With decimal commas a point groups thousands; alone it is ambiguous.
    #[test]
    fn a_file_of_decimal_commas_reads_points_as_thousands() {
        let cases = [
            ("1234,50", "1234.50"),
            ("-12", "-12"),
            ("1.234,50", "1234.50"),
            ("1.234.567", "1234567"),
            ("1 234,50 €", "1234.50"),
            ("-1.234,50 €", "-1234.50"),
            ("(1.234,50)", "-1234.50"),
        ];
        for (cell, plain) in cases {
            assert_eq!(plain_number(cell, true).as_deref(), Some(plain), "{cell}");
        }
        for cell in ["1.234", "1234.50", "1,234.50", "1.23,5", "12,5,0"] {
            assert_eq!(plain_number(cell, true), None, "{cell}");
        }
    }
}
