//! Reading one input file (CSV, Parquet or a workbook's sheet, chosen by
//! extension) into a polars `DataFrame` with the columns the scenario maps,
//! renamed to the model's names.
//!
//! Owns: file existence, empty files, text encodings and byte-order marks,
//! header checks ("column mapped but absent"), and row numbers. CSV columns
//! are read as text so that every conversion later can name the bad row;
//! workbooks are read by [`super::excel`] into the same text columns.

use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use super::excel;
use crate::error::{Error, Result};
use crate::scenario::Encoding;

/// Name of the column holding where each record is in its file, as a user
/// finds it: the line of a CSV (the header is line 1, so the first record
/// is line 2; the same count for Parquet rows), or the row number Excel
/// shows on a workbook's sheet.
pub const ROW: &str = "__row";

/// Reads the named file columns once the header has been checked.
type FrameReader = Box<dyn FnOnce(&[String]) -> Result<DataFrame>>;

/// A column to read: the model's name and the file's name for it.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub model: String,
    pub file: String,
    pub required: bool,
}

/// Refuse at once anything at `path` that is not a regular file (a
/// directory, a device such as /dev/zero, a FIFO): reading it would fail
/// late or never end.
///
/// # Errors
/// `Error::Data` naming the file and what it is.
pub fn regular_file(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "a directory"
    } else {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            "a FIFO (named pipe)"
        } else if t.is_char_device() || t.is_block_device() {
            "a device"
        } else if t.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        }
    };
    Err(Error::data(
        path,
        format!("is {what}, expected a regular file"),
    ))
}

/// Say what a file is when its first bytes show a format users pass by
/// mistake for a CSV: a gzip file, a workbook under another extension, or
/// another zip archive.
fn not_a_known_binary(path: &Path, bytes: &[u8]) -> Result<()> {
    let message = if bytes.starts_with(&[0x1f, 0x8b]) {
        "is a gzip-compressed file, expected a CSV: decompress it first (gunzip)".to_string()
    } else if let Some((book, extension)) = excel::sniff_workbook(bytes) {
        format!(
            "is {book}, expected a CSV under this name: rename it to end in {extension} to read it as a workbook, or save the sheet as CSV"
        )
    } else if bytes.starts_with(b"PK\x03\x04") {
        "is a zip archive, expected a CSV: unzip it, or if it holds an Excel workbook give it the .xlsx extension or save the sheet as CSV".to_string()
    } else {
        return Ok(());
    };
    Err(Error::data(path, message))
}

/// A table as read: its frame and the sheet it came from.
pub struct Table {
    /// The [`ROW`] column, then the wanted columns under their model names,
    /// then the extra columns under their own.
    pub frame: DataFrame,
    /// The optional model columns that are present.
    pub present: Vec<String>,
    /// Every column the file's header names.
    pub header: Vec<String>,
    /// The sheet read, when the file is a workbook.
    pub sheet: Option<String>,
    /// Numbers are written with a decimal comma (a CSV separated by
    /// semicolons: [`separator`]).
    pub decimal_comma: bool,
}

/// The header of an opened file and how to read its columns.
struct Opened {
    header: Vec<String>,
    reader: FrameReader,
    /// The sheet, for a workbook.
    sheet: Option<String>,
    /// The header's row number, for a workbook (a CSV's is line 1).
    header_row: Option<usize>,
    /// See [`Table::decimal_comma`].
    decimal_comma: bool,
}

/// Read `path` (for a workbook, its sheet `sheet`, the first worksheet by
/// default; `key` is the scenario key that names the file, as `data.sales`,
/// and `<key>_sheet` the sheet's, in messages),
/// keeping the `wanted` columns (renamed to their model names) and the
/// `extra` file columns (kept under their own names, e.g. for filters),
/// plus the [`ROW`] column.
///
/// # Errors
/// The error for an input file `path`, named by the TOML `key`, that does
/// not exist.
pub fn not_found(path: &Path, key: &str) -> Error {
    Error::data(
        path,
        format!(
            "file not found ({key}, looked for {})",
            crate::paths::lexically_absolute(path).display()
        ),
    )
}

/// `Error::Data` naming the file (and a workbook's sheet) for a missing or
/// empty file, a header without rows, a missing required column, text that
/// is not valid in the given encoding (with its line), a workbook that
/// cannot be read, a missing sheet or an error cell (with its row).
pub fn read_table(
    path: &Path,
    key: &str,
    encoding: Encoding,
    sheet: Option<&str>,
    wanted: &[Wanted],
    extra: &[String],
) -> Result<Table> {
    if !path.exists() {
        return Err(not_found(path, key));
    }
    regular_file(path)?;
    let opened = if excel::is_workbook(path) {
        let sheet = excel::Sheet::read(path, sheet, &format!("{key}_sheet"))?;
        let p = path.to_path_buf();
        Opened {
            header: sheet.header.clone(),
            sheet: Some(sheet.name.clone()),
            header_row: Some(sheet.header_row),
            decimal_comma: false,
            reader: Box::new(move |cols: &[String]| sheet.frame(&p, cols)),
        }
    } else if path
        .extension()
        .map(|e| e.eq_ignore_ascii_case("parquet"))
        .unwrap_or(false)
    {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = ParquetReader::new(file);
        let schema = reader
            .schema()
            .map_err(|e| Error::data(path, format!("not a readable Parquet file: {e}")))?;
        let header: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
        let p = path.to_path_buf();
        Opened {
            header,
            sheet: None,
            header_row: None,
            decimal_comma: false,
            reader: Box::new(move |cols: &[String]| {
                let file = std::fs::File::open(&p).map_err(|e| Error::io(&p, e))?;
                ParquetReader::new(file)
                    .with_columns(Some(cols.to_vec()))
                    .finish()
                    .and_then(|df| df.with_row_index(ROW.into(), Some(2)))
                    .map_err(|e| Error::data(&p, format!("cannot read Parquet: {e}")))
            }),
        }
    } else {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        not_a_known_binary(path, &bytes)?;
        let text = normalised_line_ends(decode(path, bytes, encoding)?);
        // The header's line: the first, or the second after an Excel
        // `sep=` line naming the separator.
        let mut text = text;
        let (sep, header_line) = match declared_separator(&text) {
            Some((sep, rest)) => {
                text.drain(..rest);
                (sep, 2)
            }
            None => (separator(&text), 1),
        };
        let text = trimmed_header(text, sep);
        let header = csv_header(path, &text, sep)?;
        let p = path.to_path_buf();
        Opened {
            header,
            sheet: None,
            header_row: None,
            decimal_comma: sep == b';',
            reader: Box::new(move |cols: &[String]| {
                read_csv_text(&p, text, cols, sep, header_line)?
                    .with_row_index(ROW.into(), Some(header_line as IdxSize + 1))
                    .map_err(|e| Error::data(&p, format!("cannot number the rows: {e}")))
            }),
        }
    };
    let sheet = opened.sheet.clone();
    let decimal_comma = opened.decimal_comma;
    let header = opened.header.clone();
    let (frame, present) =
        select(path, opened, wanted, extra).map_err(|e| e.in_sheet(sheet.as_deref()))?;
    Ok(Table {
        frame,
        present,
        header,
        sheet,
        decimal_comma,
    })
}

/// The `wanted` and `extra` columns of an opened file, checked against its
/// header, and the optional model columns present.
fn select(
    path: &Path,
    opened: Opened,
    wanted: &[Wanted],
    extra: &[String],
) -> Result<(DataFrame, Vec<String>)> {
    let header = &opened.header;
    // A workbook's header need not be on row 1: say where it was found.
    let column_error = |column: &str, message: String| match opened.header_row {
        Some(row) => Error::cell(path, row, column, message),
        None => Error::column(path, column, message),
    };
    let mut present = Vec::new();
    let mut file_cols: Vec<String> = Vec::new();
    for w in wanted {
        if header.contains(&w.file) {
            if !file_cols.contains(&w.file) {
                file_cols.push(w.file.clone());
            }
            present.push(w.model.clone());
        } else if w.required || w.file != w.model {
            return Err(column_error(
                &w.file,
                format!(
                    "column not found (mapped to '{}'); the header has: {}",
                    w.model,
                    header_excerpt(header)
                ),
            ));
        }
    }
    for e in extra {
        if !header.iter().any(|h| h == e) {
            return Err(column_error(
                e,
                format!(
                    "filter column not found; the header has: {}",
                    header_excerpt(header)
                ),
            ));
        }
        if !file_cols.contains(e) {
            file_cols.push(e.clone());
        }
    }
    let df = (opened.reader)(&file_cols)?;
    if df.height() == 0 {
        return Err(match opened.header_row {
            Some(row) => Error::data(
                path,
                format!("the sheet has a header (row {row}) but no data rows"),
            ),
            None => Error::data(path, "the file has a header but no data rows"),
        });
    }
    let mut exprs: Vec<Expr> = vec![col(ROW)];
    for w in wanted.iter().filter(|w| present.contains(&w.model)) {
        exprs.push(col(w.file.as_str()).alias(w.model.as_str()));
    }
    for e in extra {
        if !wanted
            .iter()
            .any(|w| w.model == *e && present.contains(&w.model))
        {
            exprs.push(col(e.as_str()));
        }
    }
    let df = df
        .lazy()
        .select(exprs)
        .collect()
        .map_err(|e| Error::data(path, format!("cannot select columns: {e}")))?;
    Ok((df, present))
}

/// Decode file bytes to UTF-8 text, dropping a UTF-8 byte-order mark.
fn decode(path: &Path, bytes: Vec<u8>, encoding: Encoding) -> Result<Vec<u8>> {
    if bytes.is_empty() {
        return Err(Error::data(
            path,
            "the file is empty; expected a header line and data rows",
        ));
    }
    // Excel's "Unicode text" is UTF-16 with a byte-order mark, whatever
    // data.encoding says.
    for (bom, utf16) in [
        (&[0xFF, 0xFE][..], encoding_rs::UTF_16LE),
        (&[0xFE, 0xFF][..], encoding_rs::UTF_16BE),
    ] {
        if bytes.starts_with(bom) {
            let (text, _, had_errors) = utf16.decode(&bytes);
            if had_errors {
                return Err(Error::data(
                    path,
                    "invalid UTF-16 (the file starts with a UTF-16 byte-order mark)",
                ));
            }
            return Ok(text.into_owned().into_bytes());
        }
    }
    match encoding {
        Encoding::Utf8 => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            if let Err(e) = std::str::from_utf8(body) {
                let at = e.valid_up_to();
                let line = body[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                return Err(Error::Data {
                    file: path.to_path_buf(),
                    sheet: None,
                    line: Some(line),
                    column: None,
                    message: format!(
                        "invalid UTF-8 (byte 0x{:02X} at offset {at}); if the file is a single-byte export set data.encoding, e.g. \"latin1\", \"windows-1252\" or \"cp437\"",
                        body[at]
                    ),
                });
            }
            if body.len() == bytes.len() {
                Ok(bytes)
            } else {
                Ok(body.to_vec())
            }
        }
        Encoding::Latin1 => Ok(bytes
            .iter()
            .map(|&b| b as char)
            .collect::<String>()
            .into_bytes()),
        Encoding::Windows1252 => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
            Ok(text.into_owned().into_bytes())
        }
        Encoding::Cp437 => Ok(bytes
            .iter()
            .map(|&b| cp437_char(b))
            .collect::<String>()
            .into_bytes()),
    }
}

/// The character of code page 437 byte `b`.
fn cp437_char(b: u8) -> char {
    const HIGH: [char; 128] = [
        'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', 'É', 'æ',
        'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', 'á', 'í', 'ó', 'ú',
        'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', '░', '▒', '▓', '│', '┤', '╡',
        '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', '└', '┴', '┬', '├', '─', '┼', '╞', '╟',
        '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘',
        '┌', '█', '▄', '▌', '▐', '▀', 'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ',
        '∞', 'φ', 'ε', '∩', '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²',
        '■', '\u{a0}',
    ];
    if b < 128 {
        b as char
    } else {
        HIGH[(b - 128) as usize]
    }
}

/// Most characters of a header quoted in a message.
const MAX_EXCERPT: usize = 200;

/// The header's names, each quoted, for a message: at most `MAX_EXCERPT`
/// characters (a file whose line ends were not recognised has its whole
/// text on its "first line").
fn header_excerpt(header: &[String]) -> String {
    let full = header
        .iter()
        .map(|h| format!("'{h}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if full.chars().count() <= MAX_EXCERPT {
        full
    } else {
        let cut: String = full.chars().take(MAX_EXCERPT).collect();
        format!("{cut}... ({} names in all)", header.len())
    }
}

/// Old Mac exports end lines with a lone CR: when the text has no LF at
/// all, each CR ends a line.
fn normalised_line_ends(mut text: Vec<u8>) -> Vec<u8> {
    if !text.contains(&b'\n') && text.contains(&b'\r') {
        for b in &mut text {
            if *b == b'\r' {
                *b = b'\n';
            }
        }
    }
    text
}

/// The header line with the spaces around each name removed (`date ,
/// amount ` names `date` and `amount`), when it has no quotes (a quoted
/// name keeps its spaces).
fn trimmed_header(text: Vec<u8>, sep: u8) -> Vec<u8> {
    let end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let line = &text[..end];
    if line.contains(&b'"') {
        return text;
    }
    let cr = line.ends_with(b"\r");
    let body = String::from_utf8_lossy(&line[..line.len() - usize::from(cr)]).into_owned();
    let sep_char = char::from(sep);
    let trimmed: Vec<&str> = body.split(sep_char).map(str::trim).collect();
    let joined = trimmed.join(&sep_char.to_string());
    if joined == body {
        return text;
    }
    let mut out = joined.into_bytes();
    if cr {
        out.push(b'\r');
    }
    out.extend_from_slice(&text[end..]);
    out
}

/// The first data line whose field count differs from the header's, with
/// both counts (quoted commas not counted).
fn ragged_line(text: &[u8], sep: u8) -> Option<(usize, usize, usize)> {
    let fields = |line: &[u8]| {
        let mut quoted = false;
        1 + line
            .iter()
            .filter(|&&b| {
                if b == b'"' {
                    quoted = !quoted;
                }
                b == sep && !quoted
            })
            .count()
    };
    let mut lines = text.split(|&b| b == b'\n');
    let expected = fields(lines.next()?);
    lines.enumerate().find_map(|(i, l)| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        let found = fields(l);
        (!l.is_empty() && found != expected).then_some((i + 2, found, expected))
    })
}

/// The separator an Excel `sep=X` first line names (X one byte), and
/// where the line after it starts; `None` without such a line.
fn declared_separator(text: &[u8]) -> Option<(u8, usize)> {
    let end = text.iter().position(|&b| b == b'\n')?;
    let line = text[..end].strip_suffix(b"\r").unwrap_or(&text[..end]);
    match line {
        [b's', b'e', b'p', b'=', sep] => Some((*sep, end + 1)),
        _ => None,
    }
}

/// The field separator of `text`: a tab when its header line has tabs and
/// no commas (Excel's "Unicode text" export), a semicolon when it has
/// semicolons and neither (a European export, whose numbers then have a
/// decimal comma: [`Table::decimal_comma`]), else a comma.
fn separator(text: &[u8]) -> u8 {
    let end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    // The header's bytes outside quotes (a quoted name may hold a comma).
    let mut quoted = false;
    let line: Vec<u8> = text[..end]
        .iter()
        .filter(|&&b| {
            if b == b'"' {
                quoted = !quoted;
            }
            !quoted && b != b'"'
        })
        .copied()
        .collect();
    if line.contains(&b',') {
        b','
    } else if line.contains(&b'\t') {
        b'\t'
    } else if line.contains(&b';') {
        b';'
    } else {
        b','
    }
}

/// The column names on the first line of CSV `text`.
fn csv_header(path: &Path, text: &[u8], sep: u8) -> Result<Vec<String>> {
    let end = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let line = String::from_utf8_lossy(&text[..end]);
    let line = line.trim_end_matches('\r');
    if line.trim().is_empty() {
        return Err(Error::data(
            path,
            "the first line is empty; expected a header line naming the columns",
        ));
    }
    let mut names = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == char::from(sep) && !quoted => names.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    names.push(field);
    Ok(names)
}

/// The CSV `text` (its header on file line `header_line`) read as text
/// columns.
fn read_csv_text(
    path: &Path,
    text: Vec<u8>,
    columns: &[String],
    sep: u8,
    header_line: usize,
) -> Result<DataFrame> {
    let cols: Arc<[PlSmallStr]> = columns
        .iter()
        .map(|c| PlSmallStr::from(c.as_str()))
        .collect();
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_columns(Some(cols))
        .map_parse_options(|o| o.with_separator(sep))
        .into_reader_with_file_handle(std::io::Cursor::new(text.as_slice()))
        .finish()
        .map_err(|e| match ragged_line(&text, sep) {
            Some((line, found, expected)) => Error::Data {
                file: path.to_path_buf(),
                sheet: None,
                line: Some(line + header_line - 1),
                column: None,
                message: if sep == b',' {
                    format!(
                        "found {found} fields, expected {expected} as in the header (an unquoted comma inside a value, such as 1,234.56? quote the value or drop the thousands separator)"
                    )
                } else {
                    format!(
                        "found {found} fields, expected {expected} as in the header (an unquoted '{}' inside a value? quote the value)",
                        sep as char
                    )
                },
            },
            None => Error::data(path, format!("cannot parse CSV: {e}")),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp437_decodes_the_accented_letters_of_the_sample_data() {
        assert_eq!(cp437_char(0xA1), 'í');
        assert_eq!(cp437_char(0x81), 'ü');
        assert_eq!(cp437_char(b'A'), 'A');
    }

    #[test]
    fn header_with_quotes_and_commas() {
        let h = csv_header(Path::new("x.csv"), b"\"Order, ID\",Sales\r\n1,2", b',').unwrap();
        assert_eq!(h, vec!["Order, ID".to_string(), "Sales".to_string()]);
    }
}
