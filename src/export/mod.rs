//! Exporters: each writes one format from the finished [`Report`] and never
//! recomputes a number.

pub mod comp;
pub mod csv;
pub mod json;

use crate::error::Result;
use crate::output::OutputDir;
use crate::report::Report;
use crate::scenario::Format;

/// Write every requested format of `report` into `out`.
///
/// # Errors
/// `Error::Io` if a file cannot be written.
pub fn write_all(report: &Report, out: &OutputDir, formats: &[Format]) -> Result<()> {
    if formats.contains(&Format::Csv) {
        csv::write(report, out)?;
        if let Some(c) = &report.comp {
            comp::write(c, out)?;
        }
    }
    // summary.json is the machine-readable record of every run.
    json::write(report, out)?;
    Ok(())
}
