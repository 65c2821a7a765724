//! The report's figures, built from a finished [`Report`] (read only):
//! which plot shows what, with which title, axis names and caption.

use chrono::{Datelike, NaiveDate};

use super::{Fan, Figure, Line, MapCentre, MapPanel, MapPoint, Marker, RangeRow, Shape};
use crate::format::{compact, percent};
use crate::report::{ForecastSection, Report};
use crate::sim::quantile_index;
use crate::stats::histogram::Histogram;

/// At most this many categories in one range or bar plot (the largest).
pub const MAX_CATEGORIES: usize = 60;

/// Every figure the report's sections call for, in reading order.
pub fn of_report(report: &Report) -> Vec<Figure> {
    let mut out = Vec::new();
    let currency = &report.meta.currency;
    if let Some(fit) = &report.fit {
        out.extend(
            fit.fitted
                .iter()
                .enumerate()
                .map(|(k, series)| fitted_vs_actual(k, series, &report.meta.period, currency)),
        );
    }
    if let Some(f) = &report.forecast {
        out.push(forecast_fan(f, &report.meta.period, currency));
        // A year that is all actuals has one total, not a distribution.
        if !f.all_actuals() {
            out.push(total_distribution(f, currency));
        }
        if let Some(q) = &report.quota {
            out.push(quota_vs_forecast(q, currency));
            out.push(attainment_distribution(q));
        }
    }
    if let Some(t) = &report.territories {
        out.push(territory_balance(t, currency));
        if let Some(m) = &t.map {
            out.push(territory_map(m, false));
            out.push(territory_map(m, true));
        }
        if let Some(f) = &t.frontier {
            out.push(rebalance_frontier(f));
        }
    }
    if let Some(c) = &report.comp {
        out.push(payout_curves(c, currency));
        out.push(comp_cost(c, currency));
        out.push(rep_payouts(c, currency));
    }
    if let Some(b) = &report.backtest {
        out.push(backtest_coverage(b));
    }
    if let Some(c) = &report.scorecard {
        out.push(scorecard_attainment(c));
    }
    if let Some(c) = &report.capacity {
        out.push(capacity_curve(c));
    }
    out
}

fn capacity_curve(c: &crate::hiring::HiringPlan) -> Figure {
    // Up to two counts past the first that all but certainly reaches the
    // plan (the flat rest of the curve is in capacity.csv).
    let shown = c
        .rows
        .iter()
        .position(|r| r.prob_plan >= 0.995)
        .map_or(c.rows.len(), |k| (k + 3).min(c.rows.len()));
    let rows = &c.rows[..shown.max(1)];
    let last = rows.last().map_or(0.0, |r| r.hires as f64);
    Figure {
        name: "capacity_curve".into(),
        title: "Hires against the chance of reaching the plan".into(),
        x_label: "hires".into(),
        y_label: "P(company revenue >= plan)".into(),
        caption: format!(
            "Each point: the plan with that many hires, placed one after another where demand per rep              is highest, on the same simulated trials. Target {} (dashed): {}.{}",
            percent(c.target_probability),
            match c.hires_needed {
                Some(0) => "reached with no hire".to_string(),
                Some(k) => format!("reached with {k} hire(s)"),
                None => format!("not reached within {} hires", c.searched),
            },
            if rows.len() < c.rows.len() {
                format!(
                    " Up to {} hires are in capacity.csv; beyond {last} the curve stays above 99.5%.",
                    c.searched
                )
            } else {
                String::new()
            }
        ),
        shape: Shape::Lines {
            lines: vec![
                Line {
                    name: "P(plan)".into(),
                    points: rows.iter().map(|r| (r.hires as f64, r.prob_plan)).collect(),
                    dashed: false,
                },
                Line {
                    name: format!("target {}", percent(c.target_probability)),
                    points: vec![(0.0, c.target_probability), (last.max(1.0), c.target_probability)],
                    dashed: true,
                },
            ],
            x_percent: false,
            y_percent: true,
            diagonal: false,
        },
    }
}

fn scorecard_attainment(c: &crate::scorecard::Scorecard) -> Figure {
    let h = &c.histogram;
    Figure {
        name: "scorecard_attainment".into(),
        title: format!("Last year's attainment ({} to {})", c.year_start, c.year_end),
        x_label: "actual / quota".into(),
        y_label: "share of territories".into(),
        caption: format!(
            "{} of territories reached their quota; quotas set at the probabilities the model fitted on \
             the years before gives them would have had {} reach it (90% band {} to {}).{}",
            percent(c.share_attaining),
            percent(c.fair_share),
            percent(c.fair_share_p05),
            percent(c.fair_share_p95),
            if c.rows.iter().any(|r| r.attainment > crate::scorecard::HISTOGRAM_TOP) {
                format!(
                    " Attainment above {} is counted in the last bar.",
                    percent(crate::scorecard::HISTOGRAM_TOP)
                )
            } else {
                String::new()
            }
        ),
        shape: Shape::Distribution {
            lo: h.lo,
            hi: h.hi,
            counts: h.counts.clone(),
            markers: vec![
                Marker {
                    at: 1.0,
                    label: "quota".into(),
                    color: 3,
                },
                Marker {
                    at: c.attainment_p50.min(crate::scorecard::HISTOGRAM_TOP),
                    label: format!("median {}", percent(c.attainment_p50)),
                    color: 0,
                },
            ],
            note: None,
            x_percent: true,
        },
    }
}

/// A period start as people name it: "Jan 2027", "2027 Q1", "W05 2027".
pub fn period_label(date: &str, period: &str) -> String {
    let Ok(d) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
        return date.to_string();
    };
    match period {
        "month" => d.format("%b %Y").to_string(),
        "quarter" => format!("{} Q{}", d.year(), (d.month() - 1) / 3 + 1),
        "week" => format!("W{:02} {}", d.iso_week().week(), d.iso_week().year()),
        _ => date.to_string(),
    }
}

fn forecast_fan(f: &ForecastSection, period: &str, currency: &str) -> Figure {
    let total: Vec<_> = f
        .rows
        .iter()
        .filter(|r| r.level == "total" && r.period != "year")
        .collect();
    let q = |p: f64| quantile_index(&f.quantiles, p).unwrap_or(0);
    let (i10, i25, i50, i75, i90) = (q(0.1), q(0.25), q(0.5), q(0.75), q(0.9));
    let mut periods: Vec<String> = f
        .recent_actuals
        .iter()
        .map(|(d, _)| period_label(d, period))
        .collect();
    let mut actual: Vec<Option<f64>> = f.recent_actuals.iter().map(|(_, v)| Some(*v)).collect();
    for (k, r) in total.iter().enumerate() {
        periods.push(period_label(&r.period, period));
        actual.push((k < f.actual_periods).then_some(r.summary.quantiles[i50]));
    }
    if f.all_actuals() {
        // Nothing was simulated: the actuals alone, with no empty band.
        return Figure {
            name: "forecast_fan".into(),
            title: format!("Company revenue by {period}: actuals"),
            x_label: period.to_string(),
            y_label: format!("revenue ({currency})"),
            caption: format!(
                "Actual revenue of the {} {period}s before the plan year and of the plan year, \
                 all of whose periods are already in the history.",
                f.recent_actuals.len()
            ),
            shape: Shape::Fans {
                periods,
                actual,
                fans: Vec::new(),
            },
        };
    }
    let fan = Fan {
        name: "forecast".into(),
        outer: total
            .iter()
            .map(|r| (r.summary.quantiles[i10], r.summary.quantiles[i90]))
            .collect(),
        inner: Some(
            total
                .iter()
                .map(|r| (r.summary.quantiles[i25], r.summary.quantiles[i75]))
                .collect(),
        ),
        median: total.iter().map(|r| r.summary.quantiles[i50]).collect(),
        outer_label: "P10-P90 (inner band P25-P75)".into(),
    };
    Figure {
        name: "forecast_fan".into(),
        title: format!("Company revenue by {period}: forecast band and actuals"),
        x_label: period.to_string(),
        y_label: format!("revenue ({currency})"),
        caption: format!(
            "Black: actual revenue of the {} {period}s before the plan year{}. Shaded: 80% and 50% \
             forecast intervals from the simulated paths; line: median.",
            f.recent_actuals.len(),
            if f.actual_periods > 0 {
                " and the plan year's periods already closed"
            } else {
                ""
            }
        ),
        shape: Shape::Fans {
            periods,
            actual,
            fans: vec![fan],
        },
    }
}

fn total_distribution(f: &ForecastSection, currency: &str) -> Figure {
    let mut markers = Vec::new();
    let mut note = None;
    if let Some(p) = &f.prob_hit_plan {
        markers.push(Marker {
            at: p.plan,
            label: format!("plan {}", compact(p.plan)),
            color: 3,
        });
        note = Some(format!(
            "P(total ≥ plan) = {} (± {} Monte Carlo s.e.)",
            percent(p.probability),
            percent(p.standard_error)
        ));
    }
    for (q, label) in [(0.1, "P10"), (0.5, "P50"), (0.9, "P90")] {
        if let Some(i) = quantile_index(&f.quantiles, q) {
            let v = f.total.quantiles[i];
            markers.push(Marker {
                at: v,
                label: format!("{label} {}", compact(v)),
                color: 7,
            });
        }
    }
    distribution_figure(
        "total_distribution",
        "Distribution of the plan year's company revenue".into(),
        format!("company revenue over the horizon ({currency})"),
        &f.total_histogram,
        markers,
        note,
        "Each bar: the share of simulated years whose company total falls in that range. \
         Totals come from summed paths, never from summed quantiles."
            .into(),
    )
}

/// A histogram figure.
pub fn distribution_figure(
    name: &str,
    title: String,
    x_label: String,
    h: &Histogram,
    markers: Vec<Marker>,
    note: Option<String>,
    caption: String,
) -> Figure {
    Figure {
        name: name.into(),
        title,
        x_label,
        y_label: "share of trials".into(),
        caption,
        shape: Shape::Distribution {
            lo: h.lo,
            hi: h.hi,
            counts: h.counts.clone(),
            markers,
            note,
            x_percent: false,
        },
    }
}

fn quota_vs_forecast(q: &crate::quota::QuotaPlan, currency: &str) -> Figure {
    let mut rows: Vec<RangeRow> = q
        .rows
        .iter()
        .map(|row| RangeRow {
            name: row.territory.clone(),
            lo: row.forecast_p10,
            mid: row.forecast_p50,
            hi: row.forecast_p90,
            marker: Some(row.quota),
        })
        .collect();
    rows.sort_by(|a, b| b.mid.total_cmp(&a.mid).then(a.name.cmp(&b.name)));
    let total = rows.len();
    rows.truncate(MAX_CATEGORIES);
    let title = if total > MAX_CATEGORIES {
        format!("Quota vs forecast, largest {MAX_CATEGORIES} of {total} territories")
    } else {
        "Quota vs forecast by territory".to_string()
    };
    Figure {
        name: "quota_vs_forecast".into(),
        title,
        x_label: format!("revenue over the plan year ({currency})"),
        y_label: "territory (largest forecast first)".into(),
        caption: format!(
            "Bar: the territory's 80% forecast interval (P10-P90); dot: median; red tick: quota. \
             With equal-probability every quota no constraint holds sits at the same place in its \
             own territory's distribution ({} chance of attainment); quotas set by max_change, a \
             floor, cap or lock sit elsewhere (see the binding column).",
            percent(q.attain_probability)
        ),
        shape: Shape::Ranges {
            rows,
            range_label: "forecast P10-P90".into(),
            mid_label: "forecast P50".into(),
            marker_label: Some("quota".into()),
        },
    }
}

fn attainment_distribution(q: &crate::quota::QuotaPlan) -> Figure {
    let h = &q.share_attaining_histogram;
    Figure {
        name: "attainment_distribution".into(),
        title: "Share of territories reaching quota, over simulated years".into(),
        x_label: "share of territories at or above quota".into(),
        y_label: "share of trials".into(),
        caption: format!(
            "Expected share attaining {} (90% of simulated years between {} and {}). \
             Common shocks move all territories together, which widens this spread.",
            percent(q.expected_share_attaining),
            percent(q.share_attaining_p05),
            percent(q.share_attaining_p95)
        ),
        shape: Shape::Distribution {
            lo: h.lo,
            hi: h.hi,
            counts: h.counts.clone(),
            markers: vec![Marker {
                at: q.expected_share_attaining,
                label: format!("expected {}", percent(q.expected_share_attaining)),
                color: 3,
            }],
            note: None,
            x_percent: true,
        },
    }
}

fn backtest_coverage(b: &crate::backtest::BacktestResult) -> Figure {
    let qs = crate::scenario::STANDARD_QUANTILES;
    let curve = |name: &str, s: &crate::backtest::Scores| Line {
        name: format!("{name} ({} points)", s.points),
        points: qs
            .iter()
            .zip(&s.below_quantile)
            .map(|(&q, &v)| (q, v))
            .collect(),
        dashed: false,
    };
    // With one region the backtest scores no region level (its line would
    // be the total's).
    let mut lines: Vec<Line> = b
        .by_level
        .iter()
        .map(|(level, s)| curve(level, s))
        .collect();
    lines.push(curve("all levels", &b.overall));
    Figure {
        name: "backtest_coverage".into(),
        title: "Backtest calibration: share of actuals below each forecast quantile".into(),
        x_label: "forecast quantile level".into(),
        y_label: "share of held-out actuals below it".into(),
        caption: format!(
            "A calibrated forecast lies on the dashed diagonal. 80% interval coverage: {} \
             (seasonal-naive baseline {}).",
            percent(b.overall.coverage_80),
            percent(b.overall.baseline_coverage_80)
        ),
        shape: Shape::Lines {
            lines,
            x_percent: true,
            y_percent: true,
            diagonal: true,
        },
    }
}

fn payout_curves(c: &crate::comp::CompSection, currency: &str) -> Figure {
    let lines = c
        .plans
        .iter()
        .map(|p| Line {
            name: format!(
                "{} (target incentive {})",
                p.name,
                compact(p.target_incentive)
            ),
            points: p.curve.iter().map(|x| (x.attainment, x.payout)).collect(),
            dashed: false,
        })
        .collect();
    Figure {
        name: "payout_curve".into(),
        title: "Payout curve of each comp plan (individual measure)".into(),
        x_label: "attainment (revenue / quota)".into(),
        y_label: format!("payout per rep ({currency})"),
        caption: "Payout for the year at each attainment, for a rep with the plan's full target \
                  incentive: thresholds, accelerators, gates and caps show as kinks, jumps and \
                  flat stretches."
            .into(),
        shape: Shape::Lines {
            lines,
            x_percent: true,
            y_percent: false,
            diagonal: false,
        },
    }
}

fn comp_cost(c: &crate::comp::CompSection, currency: &str) -> Figure {
    let markers = vec![
        Marker {
            at: c.expected_cost_at_plan,
            label: format!("everyone at 100%: {}", compact(c.expected_cost_at_plan)),
            color: 3,
        },
        Marker {
            at: c.cost.p10,
            label: format!("P10 {}", compact(c.cost.p10)),
            color: 7,
        },
        Marker {
            at: c.cost.p50,
            label: format!("P50 {}", compact(c.cost.p50)),
            color: 7,
        },
        Marker {
            at: c.cost.p90,
            label: format!("P90 {}", compact(c.cost.p90)),
            color: 7,
        },
    ];
    distribution_figure(
        "comp_cost",
        "Distribution of the year's commission cost".into(),
        format!("company commission cost ({currency})"),
        &c.cost_histogram,
        markers,
        Some(format!(
            "cost of sales P50 {} (80% interval {} to {})",
            percent(c.cost_of_sales.p50),
            percent(c.cost_of_sales.p10),
            percent(c.cost_of_sales.p90)
        )),
        "Every simulated year's revenue run through the comp plans with the quotas set: the \
         spread is what finance should budget for, not a single number."
            .into(),
    )
}

fn rep_payouts(c: &crate::comp::CompSection, currency: &str) -> Figure {
    let mut rows: Vec<RangeRow> = c
        .reps
        .iter()
        .filter(|r| !r.plan.is_empty())
        .map(|r| RangeRow {
            name: r.rep.clone(),
            lo: r.payout.p10,
            mid: r.payout.p50,
            hi: r.payout.p90,
            marker: Some(r.target_incentive),
        })
        .collect();
    rows.sort_by(|a, b| b.mid.total_cmp(&a.mid).then(a.name.cmp(&b.name)));
    let total = rows.len();
    rows.truncate(MAX_CATEGORIES);
    Figure {
        name: "rep_payouts".into(),
        title: if total > MAX_CATEGORIES {
            format!("Payout by rep, largest {MAX_CATEGORIES} of {total}")
        } else {
            "Payout by rep".into()
        },
        x_label: format!("payout for the year ({currency})"),
        y_label: "rep (largest median payout first)".into(),
        caption: "Bar: the rep's 80% payout interval; dot: median; red tick: target incentive \
                  (prorated for part-year and part-time reps)."
            .into(),
        shape: Shape::Ranges {
            rows,
            range_label: "payout P10-P90".into(),
            mid_label: "payout P50".into(),
            marker_label: Some("target incentive".into()),
        },
    }
}

/// The accounts on maps, one per region, coloured by their territory
/// before or `after` rebalancing (colours distinct within a region), the
/// moved ones ringed, each territory's centre named.
fn territory_map(m: &crate::rebalance::explain::AccountMap, after: bool) -> Figure {
    let mut regions: Vec<&str> = m.regions.iter().map(String::as_str).collect();
    regions.sort_unstable();
    regions.dedup();
    // Each territory's colour: its rank among its region's territories.
    let colour: Vec<usize> = (0..m.territories.len())
        .map(|t| (0..t).filter(|&u| m.regions[u] == m.regions[t]).count())
        .collect();
    let centres = m.centres(after);
    let panels: Vec<MapPanel> = regions
        .iter()
        .filter_map(|&region| {
            let points: Vec<MapPoint> = m
                .accounts
                .iter()
                .map(|a| (a, if after { a.after } else { a.before }))
                .filter(|(_, t)| m.regions[*t] == region)
                .map(|(a, t)| MapPoint {
                    lat: a.lat,
                    lon: a.lon,
                    territory: colour[t],
                    moved: a.after != a.before,
                })
                .collect();
            let centres: Vec<MapCentre> = centres
                .iter()
                .enumerate()
                .filter(|(t, _)| m.regions[*t] == region)
                .filter_map(|(t, c)| {
                    let (lat, lon) = (*c)?;
                    Some(MapCentre {
                        lat,
                        lon,
                        territory: colour[t],
                        name: m.territories[t].clone(),
                    })
                })
                .collect();
            (!points.is_empty()).then(|| MapPanel {
                title: region.to_string(),
                points,
                centres,
            })
        })
        .collect();
    let located = m.accounts.len();
    let moved = m.accounts.iter().filter(|a| a.after != a.before).count();
    let (stem, when) = if after {
        ("territory_map_after", "after rebalancing")
    } else {
        ("territory_map_before", "before rebalancing")
    };
    Figure {
        name: stem.into(),
        title: format!("Accounts by territory, {when} (ringed: moved; crosses: territory centres)"),
        x_label: "longitude (degrees)".into(),
        y_label: "latitude (degrees)".into(),
        caption: format!(
            "{located} located accounts, one map per region, coloured by their territory \
             {when}; each cross is a territory's centre (the potential-weighted mean of its \
             accounts) with its name; the {moved} accounts that move are ringed. Longitude is \
             scaled by the cosine of the middle latitude, so equal distances look equal."
        ),
        shape: Shape::Map { panels },
    }
}

fn territory_balance(t: &crate::rebalance::TerritoriesSection, currency: &str) -> Figure {
    let mut rows: Vec<&crate::rebalance::explain::TerritoryRow> = t.rows.iter().collect();
    rows.sort_by(|a, b| {
        b.potential_before
            .total_cmp(&a.potential_before)
            .then(a.territory.cmp(&b.territory))
    });
    let total = rows.len();
    rows.truncate(MAX_CATEGORIES);
    let after: Vec<f64> = t.rows.iter().map(|r| r.potential_after).collect();
    let live = after.iter().filter(|v| **v > 0.0).count().max(1);
    let mean_after = after.iter().sum::<f64>() / live as f64;
    Figure {
        name: "territory_balance".into(),
        title: if total > MAX_CATEGORIES {
            format!("Territory potential before and after, largest {MAX_CATEGORIES} of {total}")
        } else {
            "Territory potential before and after rebalancing".into()
        },
        x_label: format!("account potential ({currency} per year)"),
        y_label: "territory (largest before first)".into(),
        caption: format!(
            "Coefficient of variation of potential {} before, {} after; {} accounts moved \
             ({} forced by closed territories or fixed moves).",
            crate::format::fixed(t.cv_before, 3),
            crate::format::fixed(t.cv_after, 3),
            t.moved,
            t.forced_moves
        ),
        shape: Shape::Bars {
            categories: rows.iter().map(|r| r.territory.clone()).collect(),
            series: vec![
                (
                    "before".into(),
                    rows.iter().map(|r| r.potential_before).collect(),
                ),
                (
                    "after".into(),
                    rows.iter().map(|r| r.potential_after).collect(),
                ),
            ],
            reference: Some(("mean after".into(), mean_after)),
        },
    }
}

fn rebalance_frontier(points: &[crate::rebalance::FrontierPoint]) -> Figure {
    let line = |name: &str, f: &dyn Fn(&crate::rebalance::FrontierPoint) -> f64| Line {
        name: name.into(),
        points: points.iter().map(|p| (p.moved as f64, f(p))).collect(),
        dashed: false,
    };
    Figure {
        name: "rebalance_frontier".into(),
        title: "Balance against disruption: accounts moved vs imbalance".into(),
        x_label: "accounts moved".into(),
        y_label: "coefficient of variation across territories".into(),
        caption: format!(
            "Each point is a disruption budget ({}); pick the point where more moves stop \
             buying much balance.",
            points
                .iter()
                .map(|p| percent(p.budget_share))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        shape: Shape::Lines {
            lines: vec![
                line("potential", &|p| p.cv_potential),
                line("workload", &|p| p.cv_workload),
            ],
            x_percent: false,
            y_percent: false,
            diagonal: false,
        },
    }
}

fn fitted_vs_actual(
    k: usize,
    series: &crate::report::FittedSeries,
    period: &str,
    currency: &str,
) -> Figure {
    Figure {
        name: format!("fit_{}", k + 1),
        title: format!(
            "{}: history and fitted mean ({})",
            series.territory, series.model
        ),
        x_label: period.to_string(),
        y_label: format!("revenue ({currency})"),
        caption: format!(
            "Black: the revenue the fit saw; line: the model's fitted mean (each {period}'s \
             one-step-ahead level x seasonal index x the residual law's mean). The {} largest \
             territories are shown.",
            crate::report::FITTED_SHOWN
        ),
        shape: Shape::Fans {
            periods: series
                .periods
                .iter()
                .map(|d| period_label(d, period))
                .collect(),
            actual: series.actual.iter().map(|&v| Some(v)).collect(),
            fans: vec![Fan {
                name: "fitted mean".into(),
                outer: series.fitted.iter().map(|&v| (v, v)).collect(),
                inner: None,
                median: series.fitted.clone(),
                outer_label: "mean".into(),
            }],
        },
    }
}
