//! Reading one sheet of a spreadsheet workbook (`.xlsx`, `.xlsm`, `.xlsb`,
//! `.xls`, `.ods`, with calamine) into the same text columns the CSV reader
//! gives, so that everything after it (column checks, filters, dates
//! through `date_format`, amounts, row errors) works unchanged.
//!
//! Owns: opening the workbook, choosing the sheet (named, or the first
//! worksheet), finding the header row, turning cells into text (dates as
//! ISO `YYYY-MM-DD`, numbers as their shortest exact decimal, empty cells
//! as missing), and the Excel row number of every data row. Error cells
//! (`#N/A`, `#DIV/0!`) in a column the scenario reads are refused here,
//! naming the file, sheet, row and column. It does not interpret values:
//! a date stored as text stays text and is parsed later like a CSV field.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Range, Reader, SheetType, Sheets};
use polars::prelude::*;

use super::source::ROW;
use crate::error::{Error, Result};

/// File name endings read as workbooks (compared without regard to case).
pub const WORKBOOK_EXTENSIONS: [&str; 5] = [".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"];

/// Whether `path` names a workbook by its extension (any case).
pub fn is_workbook(path: &Path) -> bool {
    workbook_kind(path).is_some()
}

/// The workbook format of `path`'s extension, lower case.
fn workbook_kind(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    WORKBOOK_EXTENSIONS
        .iter()
        .any(|e| e[1..] == ext)
        .then_some(ext)
}

/// The first bytes of an Office Open XML or OpenDocument file (a zip archive).
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// The first bytes of an old binary `.xls` (an OLE compound file; an
/// encrypted `.xlsx` is one too).
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// What `bytes` hold when they are a workbook, for messages about files
/// given as CSV: what it is and the extension to give it, e.g. ("an Excel
/// .xlsx workbook", ".xlsx"); `None` for anything else.
pub fn sniff_workbook(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(OLE_MAGIC) {
        return Some(("an old Excel .xls workbook (or an encrypted one)", ".xls"));
    }
    if !bytes.starts_with(ZIP_MAGIC) {
        return None;
    }
    let cursor = Cursor::new(bytes);
    let opens = |f: fn(Cursor<&[u8]>) -> bool| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(cursor.clone())))
            .unwrap_or(false)
    };
    if opens(|c| calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(c).is_ok()) {
        Some(("an Excel .xlsx workbook", ".xlsx"))
    } else if opens(|c| calamine::open_workbook_from_rs::<calamine::Ods<_>, _>(c).is_ok()) {
        Some(("an OpenDocument .ods spreadsheet", ".ods"))
    } else {
        None
    }
}

/// One sheet of a workbook, read: its name, its header and its rows.
pub struct Sheet {
    /// The sheet's name as the workbook spells it.
    pub name: String,
    /// The header's names, trimmed, left to right.
    pub header: Vec<String>,
    /// The Excel row number (1-based) of the header.
    pub header_row: usize,
    range: Range<Data>,
    /// Index in `range` of the header row.
    header_index: usize,
}

impl Sheet {
    /// Open the workbook at `path` and read `sheet` (by name; the first
    /// worksheet when `None`). `key` is the scenario key that names the
    /// sheet, for messages.
    ///
    /// # Errors
    /// `Error::Data` naming the file when it cannot be read as a workbook,
    /// has no such sheet (with the sheets it has), or the sheet is empty.
    pub fn read(path: &Path, sheet: Option<&str>, key: &str) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let kind = workbook_kind(path).unwrap_or_default();
        let mut book = guarded(path, || open(path, &kind, bytes))?;
        let name = choose_sheet(path, &book, sheet, key)?;
        let range = guarded(path, || {
            book.worksheet_range(&name).map_err(|e| {
                Error::data(path, format!("cannot read the sheet: {e}")).in_sheet(Some(&name))
            })
        })?;
        let Some(header_index) = range.rows().position(|r| !r.iter().all(blank)) else {
            return Err(Error::data(
                path,
                "the sheet is empty; expected a header row naming the columns, then data rows",
            )
            .in_sheet(Some(&name)));
        };
        let (top, _) = range.start().unwrap_or((0, 0));
        let mut header: Vec<String> = range
            .rows()
            .nth(header_index)
            .unwrap_or(&[])
            .iter()
            .map(|c| match cell_text(c) {
                Ok(Some(s)) => s.trim().to_string(),
                Ok(None) => String::new(),
                Err(code) => code,
            })
            .collect();
        // Cells right of the last name are not columns.
        while header.last().is_some_and(String::is_empty) {
            header.pop();
        }
        Ok(Self {
            name,
            header,
            header_row: top as usize + header_index + 1,
            range,
            header_index,
        })
    }

    /// The data rows (after the header; rows with no value at all are
    /// skipped) of the named `columns`, as text columns, plus [`ROW`]: each
    /// row's Excel row number.
    ///
    /// # Errors
    /// `Error::Data` naming the file, sheet, row and column of an error
    /// cell (`#N/A`, `#DIV/0!`, ...) in one of `columns`, or a column the
    /// header names twice.
    pub fn frame(&self, path: &Path, columns: &[String]) -> Result<DataFrame> {
        let (top, left) = self.range.start().unwrap_or((0, 0));
        let at = |i: usize| top as usize + i + 1;
        let mut index = Vec::with_capacity(columns.len());
        for c in columns {
            let mut found = self.header.iter().enumerate().filter(|(_, h)| *h == c);
            let Some((j, _)) = found.next() else {
                return Err(Error::cell(path, self.header_row, c, "column not found")
                    .in_sheet(Some(&self.name)));
            };
            if let Some((k, _)) = found.next() {
                return Err(Error::cell(
                    path,
                    self.header_row,
                    c,
                    format!(
                        "the header names this column twice, in columns {} and {}; expected one column of that name",
                        column_letters(left as usize + j),
                        column_letters(left as usize + k)
                    ),
                )
                .in_sheet(Some(&self.name)));
            }
            index.push(j);
        }
        let mut values: Vec<Vec<Option<String>>> = vec![Vec::new(); columns.len()];
        let mut rows: Vec<u32> = Vec::new();
        for (i, row) in self.range.rows().enumerate().skip(self.header_index + 1) {
            if row.iter().all(blank) {
                continue;
            }
            for (k, &j) in index.iter().enumerate() {
                let text = match row.get(j) {
                    None => None,
                    Some(cell) => cell_text(cell).map_err(|code| {
                        Error::cell(
                            path,
                            at(i),
                            &columns[k],
                            format!(
                                "found the error value {code} (cell {}{}), expected a value: correct the formula, or paste the column as values",
                                column_letters(left as usize + j),
                                at(i)
                            ),
                        )
                        .in_sheet(Some(&self.name))
                    })?,
                };
                values[k].push(text);
            }
            rows.push(u32::try_from(at(i)).unwrap_or(u32::MAX));
        }
        let height = rows.len();
        let mut out: Vec<Column> = vec![Column::new(ROW.into(), rows)];
        for (name, v) in columns.iter().zip(values) {
            out.push(Column::new(name.as_str().into(), v));
        }
        DataFrame::new(height, out).map_err(|e| {
            Error::data(path, format!("cannot build the table: {e}")).in_sheet(Some(&self.name))
        })
    }
}

/// `read()`, with a panic inside the workbook reader (a damaged file it
/// did not foresee) turned into an error naming the file.
fn guarded<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(Error::data(
            path,
            "cannot be read as a workbook: the reader failed on it (a damaged file?); open it in Excel and save it again",
        ))
    })
}

/// Whether a cell holds nothing: empty, or text of only spaces. Rows of
/// such cells are skipped: sheets often have blank rows between blocks of
/// data, or formatted empty rows below it.
fn blank(c: &Data) -> bool {
    match c {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Open the workbook in `bytes` as the format its extension `kind` names.
fn open(path: &Path, kind: &str, bytes: Vec<u8>) -> Result<Sheets<Cursor<Vec<u8>>>> {
    let looks_like = if bytes.starts_with(ZIP_MAGIC) {
        None
    } else if bytes.starts_with(OLE_MAGIC) {
        (kind != "xls").then_some(
            "it is an old binary .xls workbook, or an encrypted one: give an .xls the .xls extension, and save a password-protected workbook without its password",
        )
    } else if kind == "xls" {
        Some("it does not start like an .xls workbook")
    } else if bytes.is_empty() {
        Some("the file is empty")
    } else {
        Some("it is not a zip archive, as every .xlsx, .xlsb and .ods is: a CSV or text file with a workbook's extension? give it the .csv extension")
    };
    if let Some(why) = looks_like {
        return Err(Error::data(
            path,
            format!("cannot be read as a workbook: {why}"),
        ));
    }
    let cursor = Cursor::new(bytes);
    let opened = match kind {
        "xls" => calamine::open_workbook_from_rs(cursor)
            .map(Sheets::Xls)
            .map_err(|e| e.to_string()),
        "xlsb" => calamine::open_workbook_from_rs(cursor)
            .map(Sheets::Xlsb)
            .map_err(|e| e.to_string()),
        "ods" => calamine::open_workbook_from_rs(cursor)
            .map(Sheets::Ods)
            .map_err(|e| e.to_string()),
        _ => calamine::open_workbook_from_rs(cursor)
            .map(Sheets::Xlsx)
            .map_err(|e| e.to_string()),
    };
    opened.map_err(|e| Error::data(path, format!("cannot be read as a .{kind} workbook: {e}")))
}

/// The name of the sheet to read: `wanted` (exactly, or the one sheet
/// whose name equals it ignoring case, as Excel compares sheet names), or
/// the first worksheet.
fn choose_sheet(
    path: &Path,
    book: &Sheets<Cursor<Vec<u8>>>,
    wanted: Option<&str>,
    key: &str,
) -> Result<String> {
    let sheets = book.sheets_metadata();
    let list = || {
        sheets
            .iter()
            .map(|s| format!("'{}'", s.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match wanted {
        None => sheets
            .iter()
            .find(|s| s.typ == SheetType::WorkSheet)
            .map(|s| s.name.clone())
            .ok_or_else(|| {
                Error::data(
                    path,
                    format!("the workbook has no worksheet (its sheets: {})", list()),
                )
            }),
        Some(w) => {
            if let Some(s) = sheets.iter().find(|s| s.name == w) {
                return Ok(s.name.clone());
            }
            let folded: Vec<&str> = sheets
                .iter()
                .filter(|s| s.name.trim().to_lowercase() == w.trim().to_lowercase())
                .map(|s| s.name.as_str())
                .collect();
            if let [one] = folded[..] {
                return Ok(one.to_string());
            }
            Err(Error::data(
                path,
                format!(
                    "has no sheet '{w}' ({key}); the workbook's sheets are: {}",
                    list()
                ),
            ))
        }
    }
}

/// The text of a cell as a CSV export would give it (`None` when empty),
/// or the error value's code (`#N/A`) as the error.
fn cell_text(cell: &Data) -> std::result::Result<Option<String>, String> {
    Ok(match cell {
        Data::Empty => None,
        Data::String(s) if s.is_empty() => None,
        Data::String(s) => Some(s.clone()),
        Data::Float(f) => Some(number_text(*f)),
        Data::Int(i) => Some(i.to_string()),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(d) => Some(date_text(d)),
        Data::DateTimeIso(s) => Some(iso_date_prefix(s).unwrap_or(s).to_string()),
        Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => return Err(e.to_string()),
    })
}

/// A number as its shortest decimal that reads back to the same double,
/// without an exponent and without `.0` on whole numbers (`1234.5`, `100`).
fn number_text(f: f64) -> String {
    format!("{f}")
}

/// A date cell as ISO `YYYY-MM-DD` (any time of day dropped), which the
/// date parser reads whatever `date_format` says. A duration, or a time of
/// day without a date (a 1900-system serial below 1), is not a date and
/// stays a number, so that a date column holding one is an error.
fn date_text(d: &calamine::ExcelDateTime) -> String {
    let serial = d.as_f64();
    if d.is_duration() || !serial.is_finite() || serial < 0.0 {
        return number_text(serial);
    }
    let (year, month, day, ..) = d.to_ymd_hms_milli();
    if serial < 1.0 && year <= 1900 {
        return number_text(serial);
    }
    format!("{year:04}-{month:02}-{day:02}")
}

/// The `YYYY-MM-DD` at the start of an ISO date or date-time text.
fn iso_date_prefix(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let iso = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || b[10] == b'T' || b[10] == b' ');
    iso.then(|| &s[..10])
}

/// Excel's letters for 0-based column `j`: A, ..., Z, AA, ...
fn column_letters(j: usize) -> String {
    let mut n = j + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    #[test]
    fn workbooks_are_known_by_their_extension_in_any_case() {
        assert!(is_workbook(Path::new("data/Sales.XLSX")));
        assert!(is_workbook(Path::new("a.ods")));
        assert!(is_workbook(Path::new("a.Xls")));
        assert!(!is_workbook(Path::new("a.csv")));
        assert!(!is_workbook(Path::new("xlsx")));
    }

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn numbers_are_their_shortest_exact_text() {
        assert_eq!(number_text(100.0), "100");
        assert_eq!(number_text(1234.5), "1234.5");
        assert_eq!(number_text(-0.1), "-0.1");
        assert_eq!(number_text(1e-7), "0.0000001");
        assert_eq!(number_text(12345678901234.0), "12345678901234");
    }

    #[test]
    fn date_cells_are_iso_dates() {
        let at = |v: f64, is_1904: bool| {
            date_text(&ExcelDateTime::new(v, ExcelDateTimeType::DateTime, is_1904))
        };
        // 45292 is 2024-01-01 in the 1900 date system, 43830 in 1904's.
        assert_eq!(at(45292.0, false), "2024-01-01");
        assert_eq!(at(45292.75, false), "2024-01-01");
        assert_eq!(at(43830.0, true), "2024-01-01");
        assert_eq!(at(61.0, false), "1900-03-01");
        // A time of day alone, or a duration, is not a date.
        assert_eq!(at(0.5, false), "0.5");
        let duration = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(date_text(&duration), "1.5");
    }

    #[test]
    fn iso_texts_keep_their_date() {
        assert_eq!(iso_date_prefix("2024-03-05T10:00:00"), Some("2024-03-05"));
        assert_eq!(iso_date_prefix("2024-03-05"), Some("2024-03-05"));
        assert_eq!(iso_date_prefix("05-03-2024"), None);
    }
}
