//! The library's one error type.
//!
//! Every message carries what a user needs to fix the problem: the file, the
//! row (as the line number a text editor shows, or a workbook's sheet and
//! row number as Excel shows them), the column or TOML key, what was found
//! and what was expected. `exit_code` maps bad input to 2 and
//! internal failures to 1, so `main` never has to guess.

use std::path::{Path, PathBuf};

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `salesplan`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A scenario file is malformed or has an invalid setting.
    #[error("{file}: {key}: {message}")]
    Scenario {
        file: PathBuf,
        key: String,
        message: String,
    },
    /// A data file has a problem; `line` is the 1-based line in the file
    /// (the header is line 1) where there is one, or for a workbook the
    /// row number Excel shows on `sheet`.
    #[error("{}", data_message(.file, .sheet.as_deref(), *.line, .column.as_deref(), .message))]
    Data {
        file: PathBuf,
        sheet: Option<String>,
        line: Option<usize>,
        column: Option<String>,
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The request cannot be met with the given data and settings (for
    /// example a plan outside the range the quota constraints allow).
    #[error("{0}")]
    Infeasible(String),
    /// A command-line argument is invalid.
    #[error("{0}")]
    Usage(String),
    /// A bug or an unexpected failure inside salesplan.
    #[error("internal error: {0}")]
    Internal(String),
}

fn data_message(
    file: &Path,
    sheet: Option<&str>,
    line: Option<usize>,
    column: Option<&str>,
    message: &str,
) -> String {
    let mut out = file.display().to_string();
    match (sheet, line) {
        (Some(sheet), Some(row)) => out.push_str(&format!(": sheet '{sheet}' row {row}")),
        (Some(sheet), None) => out.push_str(&format!(": sheet '{sheet}'")),
        (None, Some(line)) => out.push_str(&format!(": line {line}")),
        (None, None) => {}
    }
    if let Some(column) = column {
        out.push_str(&format!(": column '{column}'"));
    }
    out.push_str(": ");
    out.push_str(message);
    out
}

impl Error {
    /// The process exit code for this error: 2 for bad input, 1 for internal errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Internal(_) => 1,
            Error::Io { .. } => 2,
            _ => 2,
        }
    }

    /// A data error about a whole file.
    pub fn data(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Data {
            file: file.into(),
            sheet: None,
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A data error about one column of a file.
    pub fn column(file: impl Into<PathBuf>, column: &str, message: impl Into<String>) -> Self {
        Error::Data {
            file: file.into(),
            sheet: None,
            line: None,
            column: Some(column.to_string()),
            message: message.into(),
        }
    }

    /// A data error about one cell (line and column) of a file.
    pub fn cell(
        file: impl Into<PathBuf>,
        line: usize,
        column: &str,
        message: impl Into<String>,
    ) -> Self {
        Error::Data {
            file: file.into(),
            sheet: None,
            line: Some(line),
            column: Some(column.to_string()),
            message: message.into(),
        }
    }

    /// This error placed on workbook sheet `sheet` (when there is one):
    /// a data error's line is then the sheet's row number.
    #[must_use]
    pub fn in_sheet(mut self, sheet: Option<&str>) -> Self {
        if let (Error::Data { sheet: s, .. }, Some(name)) = (&mut self, sheet) {
            s.get_or_insert_with(|| name.to_string());
        }
        self
    }

    /// A scenario error naming its TOML key.
    pub fn scenario(file: impl Into<PathBuf>, key: &str, message: impl Into<String>) -> Self {
        Error::Scenario {
            file: file.into(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
