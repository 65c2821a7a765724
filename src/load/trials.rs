//! `--export-trials FILE.parquet`: the simulated horizon totals per trial,
//! written with polars (the only module family allowed to use it) for
//! finance teams that analyse the paths themselves.
//!
//! Layout, one row per trial (wide, so `df["T-07"].quantile(0.9)` in
//! pandas or polars is the territory's P90 of the year):
//! - `trial` (UInt32, 0-based, the simulation's trial index);
//! - `company` (Float64): the company horizon total, the exact values whose
//!   quantiles `forecast.csv` reports for `company`/`year`;
//! - one Float32 column per simulated territory, named by the territory, in
//!   the order of `forecast.csv` (the territories as simulated, before any
//!   rebalancing). Float32 is the compact form the simulation keeps; it
//!   rounds each value to about 7 significant digits.
//!
//! The caller chooses where the bytes go: the output commit
//! (`crate::output::OutputDir::stage_file`) stages the file and renames it
//! into place with the output directory, so a failed run never leaves a
//! partial file. Owns only this file's writing; it computes nothing.

use std::path::Path;

use ndarray::Array2;
use polars::prelude::*;

use crate::error::{Error, Result};

/// Names of the columns that come before the territories.
const FIXED_COLUMNS: [&str; 2] = ["trial", "company"];

/// Check `path` before a run: it must name a `.parquet` file.
///
/// # Errors
/// `Error::Usage` naming the path.
pub fn check_path(path: &Path) -> Result<()> {
    if path.extension().and_then(|e| e.to_str()) != Some("parquet") {
        return Err(Error::Usage(format!(
            "--export-trials: found '{}', expected a file name ending in .parquet",
            path.display()
        )));
    }
    Ok(())
}

/// Write the trials (`territory_totals`: [territory, trial]; `company`: per
/// trial) to `dest`, the staged file of the `--export-trials` path.
///
/// # Errors
/// `Error::Usage` if a territory is named like a fixed column; `Error::Io`
/// if the file cannot be written.
pub fn write_trials(
    dest: &Path,
    names: &[String],
    territory_totals: &Array2<f32>,
    company: &[f64],
) -> Result<()> {
    if let Some(n) = names.iter().find(|n| FIXED_COLUMNS.contains(&n.as_str())) {
        return Err(Error::Usage(format!(
            "--export-trials: a territory is named '{n}', which is also the name of a fixed \
             column ({}); rename the territory in the data",
            FIXED_COLUMNS.join(", ")
        )));
    }
    let internal = |e: PolarsError| Error::Internal(format!("trials table: {e}"));
    let trials = company.len();
    let mut columns: Vec<Column> = Vec::with_capacity(names.len() + 2);
    columns.push(Column::new(
        FIXED_COLUMNS[0].into(),
        (0..trials as u32).collect::<Vec<u32>>(),
    ));
    columns.push(Column::new(FIXED_COLUMNS[1].into(), company.to_vec()));
    for (name, row) in names.iter().zip(territory_totals.rows()) {
        columns.push(Column::new(name.as_str().into(), row.to_vec()));
    }
    let mut df = DataFrame::new(trials, columns).map_err(internal)?;

    let file = std::fs::File::create(dest).map_err(|e| Error::io(dest, e))?;
    ParquetWriter::new(file).finish(&mut df).map_err(internal)?;
    Ok(())
}
