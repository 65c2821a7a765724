//! Drawing a [`Figure`] on any plotters backend (SVG or bitmap): one
//! function per [`Shape`], sharing the frame (title, axes, legend) code.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{palette, Fan, Figure, Line, MapPanel, Marker, RangeRow, Shape, MAPS_PER_ROW};
use crate::format::{compact, percent};

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

const FONT: &str = "sans-serif";

/// Draw `f` on `root`.
pub fn figure<DB: DrawingBackend>(f: &Figure, root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    match &f.shape {
        Shape::Fans {
            periods,
            actual,
            fans,
        } => fan_chart(f, root, periods, actual, fans),
        Shape::Distribution {
            lo,
            hi,
            counts,
            markers,
            note,
            x_percent,
        } => distribution(
            f,
            root,
            (*lo, *hi),
            counts,
            markers,
            note.as_deref(),
            *x_percent,
        ),
        Shape::Ranges {
            rows,
            range_label,
            mid_label,
            marker_label,
        } => ranges(
            f,
            root,
            rows,
            range_label,
            mid_label,
            marker_label.as_deref(),
        ),
        Shape::Bars {
            categories,
            series,
            reference,
        } => bars(f, root, categories, series, reference.as_ref()),
        Shape::Lines {
            lines,
            x_percent,
            y_percent,
            diagonal,
        } => line_chart(f, root, lines, *x_percent, *y_percent, *diagonal),
        Shape::Map { panels } => map_chart(f, root, panels),
    }
}

/// What differs between the plots' frames.
struct Frame<'f> {
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    /// Width of the y label area in pixels.
    y_area: u32,
    x_labels: usize,
    y_labels: usize,
    x_fmt: &'f dyn Fn(&f64) -> String,
    y_fmt: &'f dyn Fn(&f64) -> String,
    label_size: u32,
}

/// The frame every plot shares: title, margins, label areas, a light grid,
/// tick labels and axis names.
fn frame<'a, DB: DrawingBackend + 'a>(
    f: &Figure,
    root: &'a DrawingArea<DB, Shift>,
    fr: Frame,
) -> Result<Chart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(root)
        .caption(&f.title, (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(fr.y_area)
        .build_cartesian_2d(fr.x, fr.y)?;
    chart
        .configure_mesh()
        .x_labels(fr.x_labels)
        .y_labels(fr.y_labels)
        .x_label_formatter(fr.x_fmt)
        .y_label_formatter(fr.y_fmt)
        .x_desc(&f.x_label)
        .y_desc(&f.y_label)
        .label_style((FONT, fr.label_size))
        .axis_desc_style((FONT, 15))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;
    Ok(chart)
}

/// The frame of a horizontal chart: amounts across, one row per category
/// (the first on top), every category labelled.
fn category_frame<'a, DB: DrawingBackend + 'a>(
    f: &Figure,
    root: &'a DrawingArea<DB, Shift>,
    (x_lo, x_hi): (f64, f64),
    names: &[String],
) -> Result<Chart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let n = names.len();
    let x_fmt = |x: &f64| compact(*x);
    let y_fmt = |y: &f64| category_label(names, *y);
    frame(
        f,
        root,
        Frame {
            x: x_lo..x_hi,
            y: -0.5..(n as f64 - 0.5),
            y_area: label_width(names.iter().map(|s| s.chars().count())),
            x_labels: 8,
            y_labels: n.max(1),
            x_fmt: &x_fmt,
            y_fmt: &y_fmt,
            label_size: 12,
        },
    )
}

/// Pixels a label column needs for the longest of `names`.
fn label_width(names: impl Iterator<Item = usize>) -> u32 {
    let longest = names.max().unwrap_or(4).min(34) as u32;
    (longest * 7 + 20).clamp(60, 260)
}

/// A name shortened to fit the label column.
fn short(name: &str) -> String {
    if name.chars().count() <= 34 {
        name.to_string()
    } else {
        let cut: String = name.chars().take(32).collect();
        format!("{cut}…")
    }
}

/// Padded range of `values` that includes zero when the values are positive.
fn span(values: impl Iterator<Item = f64>, include_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = ((hi - lo) * 0.06).max(hi.abs().max(1.0) * 1e-9);
    if lo < 0.0 || !include_zero {
        lo -= pad;
    }
    hi += pad;
    (lo, hi)
}

fn axis_value(x: f64, as_percent: bool) -> String {
    if as_percent {
        percent(x)
    } else {
        compact(x)
    }
}

/// Label of category `i` (drawn at y = n - 1 - i, so the first is on top).
fn category_label(names: &[String], y: f64) -> String {
    let n = names.len() as f64;
    let i = n - 1.0 - y;
    if (i - i.round()).abs() < 1e-6 && i >= -0.5 && i < n - 0.5 {
        short(&names[i.round() as usize])
    } else {
        String::new()
    }
}

fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    position: SeriesLabelPosition,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}

fn fan_chart<DB: DrawingBackend>(
    f: &Figure,
    root: &DrawingArea<DB, Shift>,
    periods: &[String],
    actual: &[Option<f64>],
    fans: &[Fan],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = periods.len();
    let values = fans
        .iter()
        .flat_map(|fan| fan.outer.iter().flat_map(|&(a, b)| [a, b]))
        .chain(actual.iter().flatten().copied());
    let (y_lo, y_hi) = span(values, true);
    // Headroom for the legend in the upper left, above the data.
    let y_hi = y_hi + (y_hi - y_lo) * 0.22;
    let every = n.div_ceil(12).max(1);
    let x_fmt = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6
            && i >= 0.0
            && (i as usize) < n
            && (i as usize).is_multiple_of(every)
        {
            periods[i as usize].clone()
        } else {
            String::new()
        }
    };
    let y_fmt = |y: &f64| compact(*y);
    let mut chart = frame(
        f,
        root,
        Frame {
            x: -0.5..(n as f64 - 0.5),
            y: y_lo..y_hi,
            y_area: 78,
            x_labels: n,
            y_labels: 10,
            x_fmt: &x_fmt,
            y_fmt: &y_fmt,
            label_size: 13,
        },
    )?;
    for (k, fan) in fans.iter().enumerate() {
        let color = palette(k);
        let offset = n - fan.median.len();
        let band = |b: &[(f64, f64)]| -> Vec<(f64, f64)> {
            let upper = b
                .iter()
                .enumerate()
                .map(|(i, v)| ((offset + i) as f64, v.1));
            let lower = b
                .iter()
                .enumerate()
                .rev()
                .map(|(i, v)| ((offset + i) as f64, v.0));
            upper.chain(lower).collect()
        };
        let degenerate = fan.outer.iter().all(|(a, b)| a == b);
        if !degenerate {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band(&fan.outer),
                    color.mix(0.18).filled(),
                )))?
                .label(format!("{} {}", fan.name, fan.outer_label))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.mix(0.3).filled())
                });
        }
        if let Some(inner) = &fan.inner {
            chart.draw_series(std::iter::once(Polygon::new(
                band(inner),
                color.mix(0.3).filled(),
            )))?;
        }
        chart
            .draw_series(LineSeries::new(
                fan.median
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| ((offset + i) as f64, v)),
                color.stroke_width(2),
            ))?
            .label(if degenerate {
                fan.name.clone()
            } else {
                format!("{} median (P50)", fan.name)
            })
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
    }
    let points: Vec<(f64, f64)> = actual
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i as f64, v)))
        .collect();
    if !points.is_empty() {
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                BLACK.stroke_width(2),
            ))?
            .label("actual")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, BLACK.filled())))?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

fn distribution<DB: DrawingBackend>(
    f: &Figure,
    root: &DrawingArea<DB, Shift>,
    (lo, hi): (f64, f64),
    counts: &[u64],
    markers: &[Marker],
    note: Option<&str>,
    x_percent: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let total = counts.iter().sum::<u64>().max(1) as f64;
    let shares: Vec<f64> = counts.iter().map(|&c| c as f64 / total).collect();
    let top = shares.iter().cloned().fold(0.0, f64::max).max(1e-9) * 1.1;
    let label_room = 0.09 * markers.len() as f64;
    let y_hi = top * (1.06 + label_room + if note.is_some() { 0.12 } else { 0.0 });
    let (x_lo, x_hi) = if x_percent {
        // Shares and attainment: the bins' edges bound the axis, with no
        // padding past them (which had the share of 4 territories
        // attaining run from -20% to 120%; the first bin, centred on 0%,
        // still starts half a bin below it).
        let markers_hi = markers.iter().map(|m| m.at).fold(hi, f64::max);
        let markers_lo = markers.iter().map(|m| m.at).fold(lo, f64::min);
        (markers_lo, markers_hi)
    } else {
        span(
            [lo, hi].into_iter().chain(markers.iter().map(|m| m.at)),
            false,
        )
    };
    let x_fmt = |x: &f64| axis_value(*x, x_percent);
    let y_fmt = |y: &f64| percent(*y);
    let mut chart = frame(
        f,
        root,
        Frame {
            x: x_lo..x_hi,
            y: 0.0..y_hi,
            y_area: 70,
            x_labels: 8,
            y_labels: 6,
            x_fmt: &x_fmt,
            y_fmt: &y_fmt,
            label_size: 13,
        },
    )?;
    let width = (hi - lo) / counts.len().max(1) as f64;
    let bar = palette(0);
    chart
        .draw_series(shares.iter().enumerate().map(|(i, &s)| {
            let x0 = lo + i as f64 * width;
            Rectangle::new([(x0, 0.0), (x0 + width, s)], bar.mix(0.55).filled())
        }))?
        .label("share of trials")
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 16, y + 5)], bar.mix(0.55).filled())
        });
    for (k, m) in markers.iter().enumerate() {
        let color = palette(m.color);
        let label_y = top * (1.0 + label_room - 0.09 * k as f64);
        chart.draw_series(std::iter::once(PathElement::new(
            [(m.at, 0.0), (m.at, label_y)],
            color.stroke_width(2),
        )))?;
        let right = m.at < x_lo + (x_hi - x_lo) * 0.7;
        let text = format!(" {} ", m.label);
        let style = TextStyle::from((FONT, 14).into_font()).color(&color);
        let style = if right {
            style.pos(Pos::new(HPos::Left, VPos::Center))
        } else {
            style.pos(Pos::new(HPos::Right, VPos::Center))
        };
        chart.draw_series(std::iter::once(Text::new(text, (m.at, label_y), style)))?;
    }
    if let Some(note) = note {
        let style = TextStyle::from((FONT, 16).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series(std::iter::once(Text::new(
            note.to_string(),
            (x_lo + (x_hi - x_lo) * 0.01, y_hi * 0.95),
            style,
        )))?;
    }
    Ok(())
}

fn ranges<DB: DrawingBackend>(
    f: &Figure,
    root: &DrawingArea<DB, Shift>,
    rows: &[RangeRow],
    range_label: &str,
    mid_label: &str,
    marker_label: Option<&str>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = rows.len();
    let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let values = rows
        .iter()
        .flat_map(|r| [r.lo, r.hi, r.mid].into_iter().chain(r.marker));
    let x_range = span(values, true);
    let mut chart = category_frame(f, root, x_range, &names)?;
    let band = palette(0);
    let y = |i: usize| (n - 1 - i) as f64;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [(r.lo, y(i) - 0.22), (r.hi, y(i) + 0.22)],
                band.mix(0.3).filled(),
            )
        }))?
        .label(range_label)
        .legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 16, y + 5)], band.mix(0.3).filled())
        });
    chart
        .draw_series(
            rows.iter()
                .enumerate()
                .map(|(i, r)| Circle::new((r.mid, y(i)), 4, band.filled())),
        )?
        .label(mid_label)
        .legend(move |(x, y)| Circle::new((x + 8, y), 4, band.filled()));
    if let Some(label) = marker_label {
        let mark = palette(3);
        chart
            .draw_series(rows.iter().enumerate().filter_map(|(i, r)| {
                r.marker.map(|m| {
                    PathElement::new([(m, y(i) - 0.4), (m, y(i) + 0.4)], mark.stroke_width(3))
                })
            }))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new([(x + 8, y - 6), (x + 8, y + 6)], mark.stroke_width(3))
            });
    }
    legend(&mut chart, emptiest_corner(rows, x_range))
}

/// The corner of a ranges chart whose legend box (about a quarter of the
/// width and three rows high) covers the least of the rows' ranges and
/// markers (a marker hidden counts as a quarter of the box's width of
/// range): the lower right, where the smallest rows usually leave room,
/// unless their ranges reach into it (a new territory's wide interval);
/// ties keep the lower right.
fn emptiest_corner(rows: &[RangeRow], (x_lo, x_hi): (f64, f64)) -> SeriesLabelPosition {
    let width = 0.28 * (x_hi - x_lo);
    let depth = 3.min(rows.len());
    let covered = |top: bool, right: bool| -> f64 {
        let (from, to) = if right {
            (x_hi - width, x_hi)
        } else {
            (x_lo, x_lo + width)
        };
        let picked: Vec<&RangeRow> = if top {
            rows.iter().take(depth).collect()
        } else {
            rows.iter().rev().take(depth).collect()
        };
        picked
            .iter()
            .map(|r| {
                let band = (r.hi.min(to) - r.lo.max(from)).max(0.0);
                let mark = r.marker.map_or(0.0, |m| {
                    if (from..=to).contains(&m) {
                        0.25 * width
                    } else {
                        0.0
                    }
                });
                band + mark
            })
            .sum()
    };
    [
        (SeriesLabelPosition::LowerRight, false, true),
        (SeriesLabelPosition::LowerLeft, false, false),
        (SeriesLabelPosition::UpperLeft, true, false),
        (SeriesLabelPosition::UpperRight, true, true),
    ]
    .into_iter()
    .map(|(position, top, right)| (position, covered(top, right)))
    // The first of equals: ties keep the lower right.
    .min_by(|x, y| x.1.total_cmp(&y.1))
    .map_or(SeriesLabelPosition::LowerRight, |(p, _)| p)
}

fn bars<DB: DrawingBackend>(
    f: &Figure,
    root: &DrawingArea<DB, Shift>,
    categories: &[String],
    series: &[(String, Vec<f64>)],
    reference: Option<&(String, f64)>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = categories.len();
    let values = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .chain(reference.map(|r| r.1));
    let mut chart = category_frame(f, root, span(values, true), categories)?;
    let k = series.len().max(1) as f64;
    let height = 0.8 / k;
    for (j, (name, values)) in series.iter().enumerate() {
        let color = palette(j);
        chart
            .draw_series(values.iter().enumerate().map(|(i, &v)| {
                let top = (n - 1 - i) as f64 + 0.4 - j as f64 * height;
                Rectangle::new(
                    [(0.0, top - height * 0.9), (v, top)],
                    color.mix(0.75).filled(),
                )
            }))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.mix(0.75).filled())
            });
    }
    if let Some((label, at)) = reference {
        chart
            .draw_series(DashedLineSeries::new(
                [(*at, -0.5), (*at, n as f64 - 0.5)],
                6,
                4,
                BLACK.stroke_width(1),
            ))?
            .label(label.as_str())
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK.stroke_width(1)));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

fn line_chart<DB: DrawingBackend>(
    f: &Figure,
    root: &DrawingArea<DB, Shift>,
    lines: &[Line],
    x_percent: bool,
    y_percent: bool,
    diagonal: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let ys = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let (mut x_lo, mut x_hi) = span(xs, true);
    let (mut y_lo, mut y_hi) = span(ys, true);
    if diagonal {
        x_lo = x_lo.min(y_lo);
        y_lo = x_lo;
        x_hi = x_hi.max(y_hi);
        y_hi = x_hi;
    }
    let x_fmt = |x: &f64| axis_value(*x, x_percent);
    let y_fmt = |y: &f64| axis_value(*y, y_percent);
    let mut chart = frame(
        f,
        root,
        Frame {
            x: x_lo..x_hi,
            y: y_lo..y_hi,
            y_area: 78,
            x_labels: 10,
            y_labels: 8,
            x_fmt: &x_fmt,
            y_fmt: &y_fmt,
            label_size: 13,
        },
    )?;
    if diagonal {
        chart
            .draw_series(DashedLineSeries::new(
                [(x_lo, x_lo), (x_hi, x_hi)],
                6,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))?
            .label("perfect calibration")
            .legend(|(x, y)| {
                PathElement::new([(x, y), (x + 16, y)], BLACK.mix(0.5).stroke_width(1))
            });
    }
    for (k, line) in lines.iter().enumerate() {
        let color = palette(k);
        let style = color.stroke_width(2);
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(
                line.points.iter().copied(),
                8,
                5,
                style,
            ))?
        } else {
            chart.draw_series(LineSeries::new(line.points.iter().copied(), style))?
        }
        .label(line.name.as_str())
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        if line.points.len() <= 30 {
            chart.draw_series(
                line.points
                    .iter()
                    .map(|&p| Circle::new(p, 3, color.filled())),
            )?;
        }
    }
    // Put the legend in the upper corner the lines leave empty.
    let falling = lines.iter().all(|l| {
        l.points.len() < 2 || l.points.first().map(|p| p.1) >= l.points.last().map(|p| p.1)
    });
    let position = if falling && !diagonal {
        SeriesLabelPosition::UpperRight
    } else {
        SeriesLabelPosition::UpperLeft
    };
    legend(&mut chart, position)
}

/// Width of a map's latitude label area and its longitude label area's
/// height; the pixels the frame takes around a map's plotting area
/// (margins, caption and the label areas).
const MAP_Y_AREA: u32 = 52;
const MAP_X_AREA: u32 = 40;
const MAP_FRAME_X: f64 = 20.0 + MAP_Y_AREA as f64;
const MAP_FRAME_Y: f64 = 20.0 + 26.0 + MAP_X_AREA as f64;
/// A centre's name: its offset from the cross, its height and the width
/// it is taken to need when names are kept apart.
const NAME_OFFSET: (i32, i32) = (9, -20);
const NAME_HEIGHT: i32 = 15;
const NAME_WIDTH: i32 = 48;

/// The narrowest span of a map, in degrees (one account, or all at one
/// address, would otherwise give a map a few metres wide with every tick
/// label the same).
const MAP_MIN_SPAN: f64 = 0.05;

/// `range` widened about its middle to at least `min`.
fn at_least((lo, hi): (f64, f64), min: f64) -> (f64, f64) {
    if hi - lo >= min {
        (lo, hi)
    } else {
        let mid = 0.5 * (lo + hi);
        (mid - 0.5 * min, mid + 0.5 * min)
    }
}

fn map_chart<DB: DrawingBackend>(
    f: &Figure,
    root: &DrawingArea<DB, Shift>,
    panels: &[MapPanel],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let body = root.titled(&f.title, (FONT, 22))?;
    let rows = panels.len().div_ceil(MAPS_PER_ROW).max(1);
    let cols = panels.len().clamp(1, MAPS_PER_ROW);
    let areas = body.split_evenly((rows, cols));
    for (panel, area) in panels.iter().zip(&areas) {
        map_panel(area, panel)?;
    }
    Ok(())
}

/// One region's map (what its marks mean is in the figure's title: a
/// legend box would hide accounts).
fn map_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &MapPanel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let points = &panel.points;
    let centres = &panel.centres;
    let lats = points
        .iter()
        .map(|p| p.lat)
        .chain(centres.iter().map(|c| c.lat));
    let lons = points
        .iter()
        .map(|p| p.lon)
        .chain(centres.iter().map(|c| c.lon));
    let (lat_lo, lat_hi) = at_least(span(lats, false), MAP_MIN_SPAN);
    let (lon_lo, lon_hi) = at_least(span(lons, false), MAP_MIN_SPAN);
    // Equal distances look equal: a degree of longitude is cos(latitude)
    // of a degree of latitude, so the ranges are widened to the plotting
    // area's shape at the middle latitude.
    let cos = (0.5 * (lat_lo + lat_hi)).to_radians().cos().max(0.05);
    let (w, h) = area.dim_in_pixel();
    let area_w = (w as f64 - MAP_FRAME_X).max(1.0);
    let area_h = (h as f64 - MAP_FRAME_Y).max(1.0);
    let (mut lon_span, mut lat_span) = ((lon_hi - lon_lo) * cos, lat_hi - lat_lo);
    if lon_span / lat_span > area_w / area_h {
        lat_span = lon_span * area_h / area_w;
    } else {
        lon_span = lat_span * area_w / area_h;
    }
    let (lat_mid, lon_mid) = (0.5 * (lat_lo + lat_hi), 0.5 * (lon_lo + lon_hi));
    let half_lon = 0.5 * lon_span / cos;
    let degrees = |v: &f64| format!("{v:.1}");
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 16))
        .margin(10)
        .x_label_area_size(MAP_X_AREA)
        .y_label_area_size(MAP_Y_AREA)
        .build_cartesian_2d(
            lon_mid - half_lon..lon_mid + half_lon,
            lat_mid - 0.5 * lat_span..lat_mid + 0.5 * lat_span,
        )?;
    chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(6)
        .x_label_formatter(&degrees)
        .y_label_formatter(&degrees)
        .x_desc("longitude")
        .y_desc("latitude")
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;
    chart.draw_series(
        points
            .iter()
            .map(|p| Circle::new((p.lon, p.lat), 3, palette(p.territory).mix(0.75).filled())),
    )?;
    chart.draw_series(
        points
            .iter()
            .filter(|p| p.moved)
            .map(|p| Circle::new((p.lon, p.lat), 6, BLACK.stroke_width(1))),
    )?;
    chart.draw_series(
        centres
            .iter()
            .map(|c| Cross::new((c.lon, c.lat), 7, palette(c.territory).stroke_width(3))),
    )?;
    // Names beside their crosses, moved down where they would overlap a
    // name already placed, with a thin line back to the cross.
    // (The chart gives pixels of the whole figure; the panel draws in its own.)
    let base = area.get_base_pixel();
    let mut at: Vec<(i32, i32, &str)> = centres
        .iter()
        .map(|c| {
            let (x, y) = chart.backend_coord(&(c.lon, c.lat));
            (x - base.0, y - base.1, c.name.as_str())
        })
        .collect();
    at.sort_by_key(|&(x, y, _)| (y, x));
    let mut placed: Vec<(i32, i32)> = Vec::new();
    let style = (FONT, 13).into_font().color(&BLACK);
    for (x, y, name) in at {
        let (lx, mut ly) = (x + NAME_OFFSET.0, y + NAME_OFFSET.1);
        while placed
            .iter()
            .any(|&(px, py)| (px - lx).abs() < NAME_WIDTH && (py - ly).abs() < NAME_HEIGHT)
        {
            ly += NAME_HEIGHT;
        }
        if ly - (y + NAME_OFFSET.1) > 4 {
            area.draw(&PathElement::new(
                [(x, y), (lx, ly + NAME_HEIGHT / 2)],
                BLACK.mix(0.4).stroke_width(1),
            ))?;
        }
        area.draw(&Text::new(name.to_string(), (lx, ly), style.clone()))?;
        placed.push((lx, ly));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(lo: f64, mid: f64, hi: f64, marker: f64) -> RangeRow {
        RangeRow {
            name: String::new(),
            lo,
            mid,
            hi,
            marker: Some(marker),
        }
    }

    #[test]
    fn the_ranges_legend_goes_where_the_rows_leave_room() {
        let top = [
            row(11.6, 12.1, 12.6, 11.1),
            row(11.6, 12.0, 12.5, 11.1),
            row(11.5, 12.0, 12.4, 11.0),
        ];
        // Largest first, the smallest at the bottom leaving the lower right;
        // new territories at the bottom with intervals across the chart
        // (the quota plot of a company with three openings): the upper
        // left, where no range or quota falls.
        let cases = [
            (
                [
                    row(4.0, 6.0, 8.0, 5.0),
                    row(3.0, 5.0, 7.0, 4.0),
                    row(2.0, 4.0, 6.0, 3.0),
                ],
                13.0,
                SeriesLabelPosition::LowerRight,
            ),
            (
                [
                    row(9.3, 11.5, 14.3, 7.3),
                    row(4.0, 10.6, 18.0, 1.0),
                    row(5.1, 10.1, 19.1, 1.4),
                ],
                20.4,
                SeriesLabelPosition::UpperLeft,
            ),
        ];
        for (bottom, max, expected) in cases {
            let rows: Vec<_> = top.iter().cloned().chain(bottom).collect();
            let corner = emptiest_corner(&rows, (0.0, max));
            assert_eq!(format!("{corner:?}"), format!("{expected:?}"));
        }
    }
}
