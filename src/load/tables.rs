//! The small tables: accounts, reps, pipeline and quotas. They are read with
//! polars as text and converted cell by cell, so that every bad value is
//! reported with its line and column (a workbook's sheet and row).

use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::*;

use super::amount::{currency_clash, expected_money, expected_number, money, plain_number};
use super::dates::DateParser;
use super::sales::apply_filter;
use super::source::{read_table, Wanted, ROW};
use crate::error::{Error, Result};
use crate::history::TableReport;
use crate::scenario::{Encoding, TableSpec};

/// A table as text columns, with the file line of each row.
pub struct TextTable {
    pub path: PathBuf,
    pub spec: TableSpec,
    /// The line of each row in its file (a workbook's row number).
    pub lines: Vec<usize>,
    /// The sheet read, when the file is a workbook.
    pub sheet: Option<String>,
    columns: Vec<(String, Vec<Option<String>>)>,
    /// Numbers are written with a decimal comma (`source::Table::decimal_comma`).
    decimal_comma: bool,
    pub report: TableReport,
}

impl TextTable {
    /// Read `spec`; `required` and `optional` are model column names.
    ///
    /// # Errors
    /// As `read_table`.
    pub fn read(
        name: &str,
        spec: &TableSpec,
        encoding: Encoding,
        required: &[&str],
        optional: &[&str],
    ) -> Result<Self> {
        Ok(Self::read_with_unfiltered(name, spec, encoding, required, optional, false)?.0)
    }

    /// As [`Self::read`], and, when `unfiltered` is asked for and the spec
    /// has a filter, the same file's rows before the filter too (one read
    /// of the file).
    ///
    /// # Errors
    /// As `read_table`.
    pub fn read_with_unfiltered(
        name: &str,
        spec: &TableSpec,
        encoding: Encoding,
        required: &[&str],
        optional: &[&str],
        unfiltered: bool,
    ) -> Result<(Self, Option<Self>)> {
        let path = spec.path.as_path();
        let mut wanted = Vec::new();
        for (names, req) in [(required, true), (optional, false)] {
            for m in names {
                wanted.push(Wanted {
                    model: m.to_string(),
                    file: spec.column(m).unwrap_or(m).to_string(),
                    required: req,
                });
            }
        }
        let extra: Vec<String> = spec.filter.keys().cloned().collect();
        let table = read_table(
            path,
            &spec.key,
            encoding,
            spec.sheet.as_deref(),
            &wanted,
            &extra,
        )?;
        let (df, present, sheet, decimal_comma) =
            (table.frame, table.present, table.sheet, table.decimal_comma);
        let rows_read = df.height();
        let from_frame = |df: &DataFrame| {
            Self::from_frame(
                name,
                spec,
                df,
                &present,
                rows_read,
                sheet.clone(),
                decimal_comma,
            )
            .map_err(|e| e.in_sheet(sheet.as_deref()))
        };
        let all = if unfiltered && !spec.filter.is_empty() {
            Some(from_frame(&df)?)
        } else {
            None
        };
        let df = apply_filter(df, &spec.filter)
            .map_err(|e| Error::data(path, e.to_string()).in_sheet(sheet.as_deref()))?;
        Ok((from_frame(&df)?, all))
    }

    /// The table of the rows of `df` (`rows_read` rows before any filter).
    fn from_frame(
        name: &str,
        spec: &TableSpec,
        df: &DataFrame,
        present: &[String],
        rows_read: usize,
        sheet: Option<String>,
        decimal_comma: bool,
    ) -> Result<Self> {
        let path = spec.path.as_path();
        let lines = df
            .column(ROW)
            .and_then(|c| c.cast(&DataType::Int64))
            .map_err(|e| Error::data(path, e.to_string()))?
            .i64()
            .map_err(|e| Error::data(path, e.to_string()))?
            .iter()
            .map(|v| v.unwrap_or(0) as usize)
            .collect();
        let mut columns = Vec::new();
        for m in present {
            let c = df
                .column(m)
                .and_then(|c| c.cast(&DataType::String))
                .map_err(|e| Error::data(path, e.to_string()))?;
            let values = c
                .str()
                .map_err(|e| Error::data(path, e.to_string()))?
                .iter()
                .map(|v| {
                    v.map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                })
                .collect();
            columns.push((m.clone(), values));
        }
        let rows_used = df.height();
        Ok(Self {
            path: path.to_path_buf(),
            spec: spec.clone(),
            lines,
            columns,
            decimal_comma,
            report: TableReport {
                table: name.into(),
                path: path.display().to_string(),
                sheet: sheet.clone(),
                rows_read,
                rows_filtered_out: rows_read - rows_used,
                rows_used,
                rejected: Default::default(),
            },
            sheet,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// The text of model column `name` in row `i`.
    pub fn text(&self, name: &str, i: usize) -> Option<&str> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v[i].as_deref())
    }

    fn file_column(&self, name: &str) -> String {
        self.spec.column(name).unwrap_or(name).to_string()
    }

    /// Where row `i` is, for messages: "line 7", or "row 7" of a workbook's
    /// sheet.
    pub fn place(&self, i: usize) -> String {
        match &self.sheet {
            Some(_) => format!("row {}", self.lines[i]),
            None => format!("line {}", self.lines[i]),
        }
    }

    /// The text of required column `name` in row `i`, or an error naming the cell.
    pub fn required(&self, name: &str, i: usize) -> Result<&str> {
        self.text(name, i)
            .ok_or_else(|| self.error(name, i, format!("missing {name}")))
    }

    /// The number in column `name`, row `i` (`None` when empty): a plain
    /// decimal under the file's convention.
    pub fn number(&self, name: &str, i: usize) -> Result<Option<f64>> {
        let Some(s) = self.text(name, i) else {
            return Ok(None);
        };
        finite(plain_number(s, self.decimal_comma))
            .map(Some)
            .ok_or_else(|| {
                let expected = expected_number(self.decimal_comma);
                self.error(name, i, format!("found '{s}', expected {expected}"))
            })
    }

    /// Every amount of money in column `name`, one per row (`None` where
    /// empty), each cell read once: as [`Self::number`], or as a
    /// spreadsheet's currency or accounting format writes it
    /// (`super::amount::money`).
    ///
    /// # Errors
    /// At the first cell that is not such an amount, or else at the first
    /// that cannot be added in the scenario's `currency`
    /// (`super::amount::currency_clash`).
    pub fn amounts(&self, name: &str, currency: &str) -> Result<Vec<Option<f64>>> {
        let mut values = Vec::with_capacity(self.len());
        let mut marked = Vec::new();
        for i in 0..self.len() {
            let Some(s) = self.text(name, i) else {
                values.push(None);
                continue;
            };
            let read = money(s, self.decimal_comma);
            let Some(v) = finite(read.as_ref().map(|m| m.plain.clone())) else {
                let expected = expected_money(self.decimal_comma);
                return Err(self.error(name, i, format!("found '{s}', expected {expected}")));
            };
            if let Some(c) = read.and_then(|m| m.currency) {
                marked.push((i, s, c));
            }
            values.push(Some(v));
        }
        match currency_clash(marked.into_iter(), currency) {
            Some(clash) => Err(self.error(
                name,
                clash.row(),
                clash.message(|i| self.place(i), currency),
            )),
            None => Ok(values),
        }
    }

    /// The date in column `name`, row `i` (`None` when empty).
    pub fn date(&self, name: &str, i: usize, parser: &DateParser) -> Result<Option<NaiveDate>> {
        match self.text(name, i) {
            None => Ok(None),
            Some(s) => parser.parse(s).map(Some).ok_or_else(|| {
                self.error(
                    name,
                    i,
                    format!("found '{s}', expected a date in {}", parser.describe()),
                )
            }),
        }
    }

    /// The boolean in column `name`, row `i` (false when empty).
    pub fn flag(&self, name: &str, i: usize) -> Result<bool> {
        match self.text(name, i).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") | Some("0") | Some("no") | Some("n") => Ok(false),
            Some("true") | Some("1") | Some("yes") | Some("y") => Ok(true),
            Some(s) => Err(self.error(
                name,
                i,
                format!("found '{s}', expected true/false, yes/no or 1/0"),
            )),
        }
    }

    /// An error about row `i`, column `name`.
    pub fn error(&self, name: &str, i: usize, message: impl Into<String>) -> Error {
        Error::cell(&self.path, self.lines[i], &self.file_column(name), message)
            .in_sheet(self.sheet.as_deref())
    }
}

/// The finite number a plain decimal (`super::amount::plain_number`,
/// `super::amount::money`'s `plain`) holds; `None` for none or one that
/// overflows.
fn finite(plain: Option<String>) -> Option<f64> {
    plain?.parse::<f64>().ok().filter(|v| v.is_finite())
}
