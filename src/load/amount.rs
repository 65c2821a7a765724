//! Reading a number cell: a plain decimal anywhere (`1234.50`, `-3`,
//! `1e3`; [`plain_number`]), and in money columns (sales amounts,
//! quotas, potentials, pipeline amounts; [`money`]) also as a
//! spreadsheet's currency or accounting format writes it: a currency
//! symbol or ISO 4217 code before or after the number (`$1,234.50`,
//! `1 234,50 €`, `EUR 12`), thousands in groups of three, and a minus
//! sign or accounting parentheses for a negative (`-$12.00`,
//! `($1,234.50)`). Which mark is the decimal one is the file's convention
//! ([`super::source::Table::decimal_comma`]), never guessed per cell; a
//! cell that could be read two ways under it is refused, quoting the
//! cell: one group after a comma in a file of decimal points (`1,250`:
//! 1250, or 1.25 written with a decimal comma by a tab-separated export)
//! or after a point in a file of decimal commas (`1.250`), and a first
//! group that starts with 0 (`0,250`). A column's amounts name one
//! currency at most, and an ISO code only the scenario's
//! ([`currency_clash`]): `$100` and `€100` are not added.

/// Currency symbols read before or after an amount (with capitals before
/// them: `US$`, `R$`, `HK$`).
const CURRENCY_SYMBOLS: &[char] = &[
    '$', '€', '£', '¥', '₹', '₩', '₽', '₺', '₪', '₫', '₱', '₦', '₴', '₸', '฿', '₡', '₲', '₵', '₭',
    '₮', '₼', '₾', '¢',
];

/// ISO 4217 codes read before or after an amount: the currencies in
/// common use (any three capitals would take `12 TSD`, German for
/// thousands, as 12).
const CURRENCY_CODES: &[&str] = &[
    "AED", "ARS", "AUD", "BDT", "BGN", "BHD", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK",
    "DKK", "EGP", "EUR", "GBP", "GHS", "HKD", "HUF", "IDR", "ILS", "INR", "ISK", "JOD", "JPY",
    "KES", "KRW", "KWD", "LKR", "MAD", "MXN", "MYR", "NGN", "NOK", "NPR", "NZD", "OMR", "PEN",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SEK", "SGD", "THB", "TND", "TRY",
    "TWD", "UAH", "USD", "UYU", "VND", "ZAR",
];

/// Spaces a spreadsheet writes between thousands or around a symbol:
/// the ordinary one, the no-break space and the narrow no-break space
/// (French and Swiss formats).
const SPACES: &[char] = &[' ', '\u{a0}', '\u{202f}'];

/// What a plain number cell must look like, for messages about one that
/// does not: in a file of decimal points (`decimal_comma` false) or of
/// decimal commas.
pub fn expected_number(decimal_comma: bool) -> &'static str {
    if decimal_comma {
        "a finite number with a decimal comma such as 1234,50 (the file is separated by semicolons)"
    } else {
        "a finite number such as 1234.50 (decimal commas are read in files separated by semicolons)"
    }
}

/// What a money cell must look like, for messages about one that does
/// not (as [`expected_number`]).
pub fn expected_money(decimal_comma: bool) -> &'static str {
    if decimal_comma {
        "an amount (a finite number) with a decimal comma such as 1234,50, 1.234,50, -1 234,50 € or (1.234,50) (the file is separated by semicolons; 1.250 alone could be 1250 or 1,25: write 1250 or 1.250,00)"
    } else {
        "an amount (a finite number) such as 1234.50, 1,234.50, $1,234.50, -$12 or ($1,234.50) (1,250 alone could be 1250 or a decimal comma's 1.25: write 1250 or 1,250.00; decimal commas are read in files separated by semicolons)"
    }
}

/// The cell `v` as a plain decimal (`-1234.50`) that Rust and polars
/// parse, under the file's convention (`decimal_comma`): a number with
/// no grouping and no currency; `None` otherwise.
pub fn plain_number(v: &str, decimal_comma: bool) -> Option<String> {
    let v = v.trim();
    let plain = if decimal_comma {
        if v.contains('.') {
            return None;
        }
        v.replace(',', ".")
    } else {
        v.to_string()
    };
    plain.parse::<f64>().is_ok().then_some(plain)
}

/// A money cell read: its plain decimal and the currency symbol or code
/// it was written with, if any.
#[derive(Debug, PartialEq)]
pub struct Money<'a> {
    pub plain: String,
    pub currency: Option<&'a str>,
}

/// The money cell `v` (see the module header) under the file's convention
/// (`decimal_comma`); `None` where it is not an amount in one of those
/// forms.
pub fn money(v: &str, decimal_comma: bool) -> Option<Money<'_>> {
    let v = v.trim();
    let (negative, v) = match v.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        Some(inner) => (true, inner.trim()),
        None => (false, v),
    };
    let (v, mut currency) = without_currency(v);
    let (sign, body) = match v.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => ("-", rest),
        None => ("", v.strip_prefix('+').unwrap_or(v)),
    };
    // A sign may stand before the symbol or after it (`-$12`, `$-12`),
    // once, and not inside parentheses; there is one symbol at most.
    let body = if currency.is_some() {
        body
    } else {
        let (b, c) = without_currency(body);
        currency = c;
        b
    };
    if negative && !sign.is_empty() || body.starts_with(['-', '+', '\u{2212}']) {
        return None;
    }
    let plain = digits(body, decimal_comma)?;
    let sign = if negative { "-" } else { sign };
    Some(Money {
        plain: format!("{sign}{plain}"),
        currency,
    })
}

/// Why a column's amounts cannot be added in the scenario's currency.
#[derive(Debug, PartialEq)]
pub enum Clash<'a> {
    /// Two cells (row, text) name different currencies: the first with
    /// one, and the first that differs.
    Two {
        first: (usize, &'a str),
        found: (usize, &'a str),
    },
    /// A cell names an ISO code that is not the scenario's `currency`.
    NotTheScenarios {
        found: (usize, &'a str),
        code: &'a str,
    },
}

impl Clash<'_> {
    /// The row of the cell refused.
    pub fn row(&self) -> usize {
        match self {
            Clash::Two { found, .. } | Clash::NotTheScenarios { found, .. } => found.0,
        }
    }

    /// The message refusing the cell, `place` naming a row ("line 7") and
    /// `currency` the scenario's.
    pub fn message(&self, place: impl Fn(usize) -> String, currency: &str) -> String {
        match self {
            Clash::Two { first, found } => format!(
                "found '{}', expected the currency of {}'s '{}' (one column of amounts is in one currency)",
                found.1,
                place(first.0),
                first.1
            ),
            Clash::NotTheScenarios { found, code } => format!(
                "found '{}', expected an amount in the scenario's currency {currency} (set currency = \"{code}\" at the top of the scenario if the amounts are in {code})",
                found.1
            ),
        }
    }
}

/// The first of a column's amounts that name a currency, `cells` (row,
/// text, symbol or code, as [`money`] read it), that cannot be added in the
/// scenario's `currency`: an ISO code other than it, or a symbol or code
/// other than the first named in the column (a symbol such as `$` names
/// several currencies, so it is not checked against `currency`); `None`
/// when every amount can.
pub fn currency_clash<'a>(
    cells: impl Iterator<Item = (usize, &'a str, &'a str)>,
    currency: &str,
) -> Option<Clash<'a>> {
    let mut first: Option<(usize, &'a str, &'a str)> = None;
    for (row, text, c) in cells {
        if CURRENCY_CODES.contains(&c) && !c.eq_ignore_ascii_case(currency) {
            return Some(Clash::NotTheScenarios {
                found: (row, text),
                code: c,
            });
        }
        match first {
            None => first = Some((row, text, c)),
            Some((r0, t0, c0)) if c0 != c => {
                return Some(Clash::Two {
                    first: (r0, t0),
                    found: (row, text),
                })
            }
            Some(_) => {}
        }
    }
    None
}

/// `v` without one currency symbol or code at its start or its end (and
/// the spaces beside it), and that symbol or code.
fn without_currency(v: &str) -> (&str, Option<&str>) {
    let code = |s: &str| CURRENCY_CODES.contains(&s);
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
        let head = v[..i].trim_end_matches(SPACES);
        if i > 0 && currency(head) {
            return (&v[i..], Some(head));
        }
    }
    if let Some(i) = v.rfind(|c: char| c.is_ascii_digit()) {
        let tail = v[i + 1..].trim_start_matches(SPACES);
        if !tail.is_empty() && currency(tail) {
            return (&v[..=i], Some(tail));
        }
    }
    (v, None)
}

/// The digits of an unsigned amount `v` as a plain decimal: either plain
/// already (`1234.5`, `1e3`; with a decimal comma, `1234,5`) or with its
/// thousands in groups of three, separated by one kind of mark (a comma,
/// or with decimal commas a point; or a space or an apostrophe), and its
/// decimal mark once. A comma (a point) group alone, with no decimal part,
/// could be either mark, and a first group that starts with 0 is no
/// thousands: both `None`.
fn digits(v: &str, decimal_comma: bool) -> Option<String> {
    let (decimal, group) = if decimal_comma {
        (',', '.')
    } else {
        ('.', ',')
    };
    let separates = |c: char| c == group || c == '\'' || SPACES.contains(&c);
    if !v.contains(separates) {
        return plain_number(v, decimal_comma);
    }
    let (whole, fraction) = match v.split_once(decimal) {
        Some((w, f)) => (w, Some(f)),
        None => (v, None),
    };
    let separators: Vec<char> = whole.chars().filter(|c| !c.is_ascii_digit()).collect();
    let mark = *separators.first()?;
    if !separates(mark) || separators.iter().any(|&c| c != mark) {
        return None;
    }
    let groups: Vec<&str> = whole.split(mark).collect();
    let grouped = (1..=3).contains(&groups[0].len())
        && !(groups[0].starts_with('0'))
        && groups[1..].iter().all(|g| g.len() == 3);
    // `1,250` (`1.250` with decimal commas): a thousands mark or a decimal
    // one written by another convention.
    let ambiguous = mark == group && groups.len() == 2 && fraction.is_none();
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

    fn read(cell: &str, decimal_comma: bool) -> Option<String> {
        money(cell, decimal_comma).map(|m| m.plain)
    }

    /// The cells (row, text) that are amounts naming a currency, with it,
    /// as `TextTable::amounts` gives them to [`currency_clash`].
    fn marked<'a>(
        cells: impl Iterator<Item = (usize, &'a str)>,
        decimal_comma: bool,
    ) -> impl Iterator<Item = (usize, &'a str, &'a str)> {
        cells
            .filter_map(move |(row, text)| Some((row, text, money(text, decimal_comma)?.currency?)))
    }

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
            ("EUR 1,200.00", "1200.00"),
            ("1,200.5 USD", "1200.5"),
            ("1'234.50", "1234.50"),
            ("1 250", "1250"),
            ("1\u{a0}234.50", "1234.50"),
            ("\u{2212}12", "-12"),
            ("+12", "12"),
        ];
        for (cell, plain) in cases {
            assert_eq!(read(cell, false).as_deref(), Some(plain), "{cell}");
        }
        assert_eq!(money("EUR 12", false).unwrap().currency, Some("EUR"));
        assert_eq!(money("(US$ 12)", false).unwrap().currency, Some("US$"));
        assert_eq!(money("12", false).unwrap().currency, None);
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
            "12 TSD",
            "5 PCT",
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
            // One comma group alone: 1250, or 1.25 with a decimal comma.
            "1,250",
            "$1,000",
            "0,250",
            "00,123",
            "12,50",
        ] {
            assert_eq!(read(cell, false), None, "{cell}");
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
            assert_eq!(read(cell, true).as_deref(), Some(plain), "{cell}");
        }
        for cell in [
            "1.234", "1234.50", "1,234.50", "1.23,5", "12,5,0", "0.250,5", "1,5 MIO",
        ] {
            assert_eq!(read(cell, true), None, "{cell}");
        }
    }

    /// Plain numbers (shares, counts, coordinates) take no money forms.
    #[test]
    fn plain_numbers_take_no_symbols_or_groups() {
        assert_eq!(plain_number(" 0.5 ", false).as_deref(), Some("0.5"));
        assert_eq!(plain_number("0,5", true).as_deref(), Some("0.5"));
        for cell in ["$0.5", "(0.5)", "1,234.5", "0,5"] {
            assert_eq!(plain_number(cell, false), None, "{cell}");
        }
        assert_eq!(plain_number("0.5", true), None);
    }

    /// A column that names two currencies is caught at its first pair,
    /// and a code that is not the scenario's currency at its cell.
    #[test]
    fn two_currencies_in_one_column_are_found() {
        let cells = [(2, "$100"), (3, "12"), (4, "$5"), (5, "EUR 100"), (6, "€1")];
        assert_eq!(
            currency_clash(marked(cells.iter().copied(), false), "EUR"),
            Some(Clash::Two {
                first: (2, "$100"),
                found: (5, "EUR 100")
            })
        );
        assert_eq!(
            currency_clash(marked(cells.iter().copied(), false), "USD"),
            Some(Clash::NotTheScenarios {
                found: (5, "EUR 100"),
                code: "EUR"
            })
        );
        let same = [(2, "$100"), (3, "12"), (4, "($5)")];
        assert_eq!(
            currency_clash(marked(same.iter().copied(), false), "EUR"),
            None
        );
        let coded = [(2, "usd 5"), (3, "USD 100"), (4, "7 USD")];
        assert_eq!(
            currency_clash(marked(coded.iter().copied(), false), "usd"),
            None
        );
    }
}
