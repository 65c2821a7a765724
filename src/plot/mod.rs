//! Plots: the only module that uses plotters. A [`Figure`] is plain data
//! (titles, axis names, numbers) built from the report by
//! [`figures::of_report`]; it is drawn to SVG text (inlined in
//! `report.html` and written to `plots/*.svg`) and to PNG (`plots/*.png`)
//! by the same drawing code. Text in PNGs is rendered in pure Rust from the
//! bundled DejaVu Sans font, so no system font library is needed.

mod draw;
pub mod figures;

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};

/// A colour of the house palette, by index (wraps around).
pub fn palette(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
    ];
    COLORS[i % COLORS.len()]
}

/// One fan of a fan chart: quantile bands around a median, per period.
#[derive(Debug, Clone, Serialize)]
pub struct Fan {
    pub name: String,
    /// Outer band (e.g. P10-P90) per period.
    pub outer: Vec<(f64, f64)>,
    /// Inner band (e.g. P25-P75) per period, if drawn.
    pub inner: Option<Vec<(f64, f64)>>,
    pub median: Vec<f64>,
    pub outer_label: String,
}

/// A vertical marker on a distribution (the plan, a quantile).
#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub at: f64,
    pub label: String,
    pub color: usize,
}

/// One category row of a range plot: an interval, a point inside it and
/// an optional marker (a territory's forecast band, P50 and quota).
#[derive(Debug, Clone, Serialize)]
pub struct RangeRow {
    pub name: String,
    pub lo: f64,
    pub mid: f64,
    pub hi: f64,
    pub marker: Option<f64>,
}

/// A named series of (x, y) points.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// An account on a map: where it is, its territory (a colour index) and
/// whether it moved.
#[derive(Debug, Clone, Serialize)]
pub struct MapPoint {
    pub lat: f64,
    pub lon: f64,
    pub territory: usize,
    pub moved: bool,
}

/// A territory's centre on a map, with its name.
#[derive(Debug, Clone, Serialize)]
pub struct MapCentre {
    pub lat: f64,
    pub lon: f64,
    pub territory: usize,
    pub name: String,
}

/// One map of a figure of maps: its title (a region), points and centres.
#[derive(Debug, Clone, Serialize)]
pub struct MapPanel {
    pub title: String,
    pub points: Vec<MapPoint>,
    pub centres: Vec<MapCentre>,
}

/// Maps in a row of a figure of maps.
pub const MAPS_PER_ROW: usize = 3;

/// What a figure shows.
#[derive(Debug, Clone, Serialize)]
pub enum Shape {
    /// Quantile fans over periods, with actuals before (and inside) them.
    Fans {
        periods: Vec<String>,
        actual: Vec<Option<f64>>,
        fans: Vec<Fan>,
    },
    /// A histogram of simulated values with vertical markers.
    Distribution {
        lo: f64,
        hi: f64,
        counts: Vec<u64>,
        markers: Vec<Marker>,
        note: Option<String>,
        /// Format x values as percentages rather than amounts.
        x_percent: bool,
    },
    /// Horizontal interval per category.
    Ranges {
        rows: Vec<RangeRow>,
        range_label: String,
        mid_label: String,
        marker_label: Option<String>,
    },
    /// Horizontal grouped bars per category (e.g. before / after).
    Bars {
        categories: Vec<String>,
        series: Vec<(String, Vec<f64>)>,
        reference: Option<(String, f64)>,
    },
    /// Lines through points (curves, coverage, frontiers).
    Lines {
        lines: Vec<Line>,
        x_percent: bool,
        y_percent: bool,
        /// Draw y = x as a reference.
        diagonal: bool,
    },
    /// Maps side by side (one per region), each of points by latitude
    /// and longitude (an equirectangular projection, longitude scaled by
    /// the cosine of the middle latitude) coloured by territory, with the
    /// territories' centres named.
    Map { panels: Vec<MapPanel> },
}

/// A plot ready to draw.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// File stem in `plots/`.
    pub name: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// A sentence for readers (shown under the plot in the report).
    pub caption: String,
    pub shape: Shape,
}

impl Figure {
    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        match &self.shape {
            Shape::Ranges { rows, .. } => (1000, 130 + 20 * rows.len().max(3) as u32),
            Shape::Bars {
                categories, series, ..
            } => (
                1000,
                130 + (8 + 9 * series.len() as u32) * categories.len().max(3) as u32,
            ),
            Shape::Map { panels } => (
                1000,
                50 + 430 * panels.len().div_ceil(MAPS_PER_ROW).max(1) as u32,
            ),
            _ => (1000, 480),
        }
    }

    /// The figure as SVG text.
    ///
    /// # Errors
    /// `Error::Internal` if drawing fails.
    pub fn svg(&self) -> Result<String> {
        register_font();
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, self.size()).into_drawing_area();
            draw::figure(self, &root).map_err(|e| self.failed(&e.to_string()))?;
            root.present().map_err(|e| self.failed(&e.to_string()))?;
        }
        Ok(text)
    }

    /// Draw the figure as a PNG file at `path`.
    ///
    /// # Errors
    /// `Error::Io`/`Error::Internal` if drawing or writing fails.
    pub fn png(&self, path: &Path) -> Result<()> {
        register_font();
        let root = BitMapBackend::new(path, self.size()).into_drawing_area();
        draw::figure(self, &root).map_err(|e| self.failed(&e.to_string()))?;
        root.present()
            .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))
    }

    fn failed(&self, why: &str) -> Error {
        Error::Internal(format!("drawing plot '{}' failed: {why}", self.name))
    }
}

static FONT: Once = Once::new();

/// Register the bundled font under the family name the plots use (text
/// is measured with it for layout in every backend, and drawn with it in PNGs).
fn register_font() {
    FONT.call_once(|| {
        const DEJAVU: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // A font that fails to parse leaves text unrendered in PNGs only;
            // the bundled file is tested to parse (tests below).
            let _ = plotters::style::register_font("sans-serif", style, DEJAVU);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Figure {
        Figure {
            name: "t".into(),
            title: "Test".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            caption: String::new(),
            shape: Shape::Lines {
                lines: vec![Line {
                    name: "a".into(),
                    points: vec![(0.0, 0.0), (1.0, 2.0)],
                    dashed: false,
                }],
                x_percent: false,
                y_percent: false,
                diagonal: true,
            },
        }
    }

    #[test]
    fn svg_has_title_and_png_is_written() {
        let f = sample();
        let svg = f.svg().expect("svg");
        assert!(svg.starts_with("<svg") && svg.contains("Test"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.png");
        f.png(&path).expect("png");
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(&bytes[1..4], b"PNG");
    }

    #[test]
    fn bundled_font_parses() {
        const DEJAVU: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
        assert!(plotters::style::register_font("test-font", FontStyle::Normal, DEJAVU).is_ok());
    }
}
