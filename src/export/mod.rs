//! Exporters: each writes one format from the finished [`Report`] and never
//! recomputes a number. `html` also writes the plots (`plots/*.svg`,
//! `plots/*.png`) that the page shows inline.

pub mod comp;
pub mod compare;
pub mod csv;
pub mod html;
pub mod json;
pub mod whatif;
pub mod xlsx;

use rayon::prelude::*;

/// Column headings of the hiring curve for people (the report's table and
/// the Capacity sheet; `capacity.csv` has its own names).
pub(crate) const CAPACITY_HEADERS: [&str; 11] = [
    "hires",
    "added hire starts",
    "region",
    "P(plan)",
    "mean revenue",
    "P10",
    "P50",
    "P90",
    "cost of hires",
    "added revenue",
    "added cost",
];

use crate::error::Result;
use crate::output::OutputDir;
use crate::plot::{figures, Figure};
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
    if formats.contains(&Format::Xlsx) {
        xlsx::write(report, out)?;
    }
    if formats.contains(&Format::Html) {
        let figures = figures::of_report(report);
        let svgs = write_plots(&figures, out)?;
        let rendered = html::Rendered::pair(&figures, &svgs);
        out.write("report.html", html::page(report, &rendered).as_bytes())?;
    }
    Ok(())
}

/// Draw `figures` into `plots/<name>.svg` and `.png` (in parallel; each
/// file depends only on its figure) and return the SVG texts in order.
///
/// # Errors
/// `Error::Io`/`Error::Internal` if a plot cannot be drawn or written.
pub fn write_plots(figures: &[Figure], out: &OutputDir) -> Result<Vec<String>> {
    figures
        .par_iter()
        .map(|f| {
            let svg = f.svg()?;
            out.write(&format!("plots/{}.svg", f.name), svg.as_bytes())?;
            f.png(&out.path(&format!("plots/{}.png", f.name)))?;
            Ok(svg)
        })
        .collect()
}
