//! The output of `salesplan compare`: `compare.csv` (one row per scenario),
//! `compare_territories.csv` (one row per territory and scenario),
//! `summary.json`, and `compare.html` with its plots (an overlay fan chart
//! and, per scenario, the trial-by-trial difference against the first).

use std::fmt::Write as _;

use serde_json::json;

use super::csv::{money, num, quantile_column, quantile_order, Csv};
use super::html::{card, escape, figure_html, Cell, Rendered, Table, SCRIPT, STYLE};
use crate::compare::Comparison;
use crate::error::{Error, Result};
use crate::format::{compact, percent, thousands};
use crate::output::OutputDir;
use crate::plot::figures::{distribution_figure, period_label};
use crate::plot::{Fan, Figure, Marker, Shape};
use crate::scenario::Format;

/// Write the comparison's files into `out`.
///
/// # Errors
/// `Error::Io` if a file cannot be written.
pub fn write(c: &Comparison, out: &OutputDir, formats: &[Format]) -> Result<()> {
    if formats.contains(&Format::Csv) {
        out.write("compare.csv", &scenarios_csv(c))?;
        out.write("compare_territories.csv", &territories_csv(c))?;
    }
    let text = serde_json::to_string_pretty(&summary(c))
        .map_err(|e| Error::Internal(format!("summary.json: {e}")))?;
    out.write("summary.json", format!("{text}\n").as_bytes())?;
    if formats.contains(&Format::Html) {
        let figures = figures(c);
        let svgs = super::write_plots(&figures, out)?;
        out.write(
            "compare.html",
            page(c, &Rendered::pair(&figures, &svgs)).as_bytes(),
        )?;
    }
    Ok(())
}

fn scenarios_csv(c: &Comparison) -> Vec<u8> {
    let order = quantile_order(&c.quantiles);
    let q_names: Vec<String> = order
        .iter()
        .map(|&i| quantile_column(c.quantiles[i]))
        .collect();
    let mut header: Vec<String> = vec!["scenario".into(), "file".into(), "mean".into()];
    header.extend(q_names.iter().cloned());
    header.extend(
        [
            "prob_hit_plan",
            "prob_hit_plan_se",
            "quota_total",
            "comp_cost_mean",
            "comp_cost_p50",
            "difference_mean",
        ]
        .map(String::from),
    );
    header.extend(q_names.iter().map(|q| format!("difference_{q}")));
    header.push("prob_above_first".into());
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut csv = Csv::new(&refs);
    let opt = |x: Option<f64>, f: fn(f64) -> String| x.map(f).unwrap_or_default();
    for s in &c.scenarios {
        let mut row = vec![s.name.clone(), s.file.clone(), money(s.total.mean)];
        row.extend(order.iter().map(|&i| money(s.total.quantiles[i])));
        row.push(opt(s.prob_hit_plan.map(|p| p.probability), num));
        row.push(opt(s.prob_hit_plan.map(|p| p.standard_error), num));
        row.push(opt(s.quota_total, money));
        row.push(opt(s.comp_cost.as_ref().map(|x| x.mean), money));
        row.push(opt(
            s.comp_cost.as_ref().map(|x| x.at(&c.quantiles, 0.5)),
            money,
        ));
        row.push(money(s.difference.mean));
        row.extend(order.iter().map(|&i| money(s.difference.quantiles[i])));
        row.push(num(s.prob_above_first));
        csv.row(row);
    }
    csv.into_bytes()
}

fn territories_csv(c: &Comparison) -> Vec<u8> {
    let mut csv = Csv::new(&[
        "territory",
        "scenario",
        "mean",
        "p50",
        "quota",
        "p50_minus_first",
        "quota_p50",
        "attain_probability",
        "status",
    ]);
    for t in &c.territories {
        for (k, s) in c.scenarios.iter().enumerate() {
            let diff = match (t.p50[k], t.p50[0]) {
                (Some(a), Some(b)) => money(a - b),
                _ => String::new(),
            };
            csv.row([
                t.territory.clone(),
                s.name.clone(),
                t.mean[k].map(money).unwrap_or_default(),
                t.p50[k].map(money).unwrap_or_default(),
                t.quota[k].map(money).unwrap_or_default(),
                diff,
                t.quota_p50[k].map(money).unwrap_or_default(),
                t.attain_probability[k].map(num).unwrap_or_default(),
                t.status[k].clone().unwrap_or_default(),
            ]);
        }
    }
    csv.into_bytes()
}

fn summary(c: &Comparison) -> serde_json::Value {
    let quantiles = |s: &crate::sim::Summary| super::json::summary_json(s, &c.quantiles);
    json!({
        "seed": c.seed,
        "trials": c.trials,
        "version": env!("CARGO_PKG_VERSION"),
        "compare": c.scenarios.iter().map(|s| json!({
            "scenario": s.name,
            "file": s.file,
            "total": quantiles(&s.total),
            "prob_hit_plan": s.prob_hit_plan.map(|p| p.probability),
            "prob_hit_plan_se": s.prob_hit_plan.map(|p| p.standard_error),
            "quota_total": s.quota_total,
            "comp_cost": s.comp_cost.as_ref().map(quantiles),
            "difference_vs_first": quantiles(&s.difference),
            "prob_above_first": s.prob_above_first,
        })).collect::<Vec<_>>(),
    })
}

fn figures(c: &Comparison) -> Vec<Figure> {
    let mut out = Vec::new();
    if let Some(first) = c.scenarios.first() {
        let periods: Vec<String> = first
            .by_period
            .iter()
            .map(|p| period_label(&p.0, &c.period))
            .collect();
        let fans = c
            .scenarios
            .iter()
            .map(|s| Fan {
                name: s.name.clone(),
                outer: s.by_period.iter().map(|p| (p.1, p.3)).collect(),
                inner: None,
                median: s.by_period.iter().map(|p| p.2).collect(),
                outer_label: "P10-P90".into(),
            })
            .filter(|f| f.median.len() == periods.len())
            .collect();
        out.push(Figure {
            name: "compare_fan".into(),
            title: format!("Company revenue by {}: scenarios overlaid", c.period),
            x_label: c.period.clone(),
            y_label: format!("revenue ({})", c.currency),
            caption:
                "Each scenario's 80% interval (shaded) and median (line), from the same trials."
                    .into(),
            shape: Shape::Fans {
                periods: periods.clone(),
                actual: vec![None; periods.len()],
                fans,
            },
        });
    }
    for (k, s) in c.scenarios.iter().enumerate().skip(1) {
        if s.same_difference_every_trial.is_some() {
            continue; // no distribution: the page says so in words
        }
        let base = &c.scenarios[0].name;
        let p = |q: f64| s.difference.at(&c.quantiles, q);
        out.push(distribution_figure(
            &format!("compare_difference_{k}"),
            format!("{} minus {}: company revenue, trial by trial", s.name, base),
            format!("difference in plan-year revenue ({})", c.currency),
            &s.difference_histogram,
            vec![
                Marker {
                    at: 0.0,
                    label: "no difference".into(),
                    color: 7,
                },
                Marker {
                    at: s.difference.mean,
                    label: format!("mean {}", compact(s.difference.mean)),
                    color: 3,
                },
            ],
            Some(format!(
                "P({} > {}) = {}; 80% interval {} to {}",
                s.name,
                base,
                percent(s.prob_above_first),
                compact(p(0.1)),
                compact(p(0.9))
            )),
            "Common random numbers: both scenarios see the same shocks in each trial, so this is \
             the effect of the scenario change alone."
                .into(),
        ));
    }
    out
}

fn page(c: &Comparison, plots: &[Rendered]) -> String {
    let mut s = String::with_capacity(32 * 1024);
    let names: Vec<&str> = c.scenarios.iter().map(|x| x.name.as_str()).collect();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Scenario comparison · salesplan</title><style>{STYLE}</style></head><body>\
         <header><h1>Scenario comparison</h1><p class=\"sub\">{} · seed {} · {} trials with common random numbers · amounts in {}</p></header><main>",
        escape(&names.join(" vs ")),
        c.seed,
        thousands(c.trials as f64),
        escape(&c.currency)
    );
    s.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    let p50 = |x: &crate::sim::Summary| x.at(&c.quantiles, 0.5);
    for (k, sc) in c.scenarios.iter().enumerate() {
        let detail = sc
            .prob_hit_plan
            .map(|p| format!("P(hit plan) {}", percent(p.probability)))
            .unwrap_or_default();
        let value = if k == 0 {
            format!("{} {}", c.currency, compact(p50(&sc.total)))
        } else {
            let d = sc.difference.mean;
            let sign = if d >= 0.0 { "+" } else { "" };
            format!(
                "{} {} (mean {sign}{})",
                c.currency,
                compact(p50(&sc.total)),
                compact(d)
            )
        };
        let key = if k == 0 {
            format!("{} (P50)", sc.name)
        } else {
            format!("{} (P50; mean difference to the base)", sc.name)
        };
        card(&mut s, &key, &value, &detail);
    }
    s.push_str("</div></section><section id=\"totals\"><h2>Company totals</h2>");
    figure_html(&mut s, plots, "compare_fan");
    let mut t = Table::new(&[
        "scenario",
        "mean",
        "P10",
        "P50",
        "P90",
        "P(hit plan)",
        "quota total",
        "commission P50",
        "difference P50",
        "difference P10 to P90",
        "P(above first)",
    ])
    .with_wrapping_headers();
    let q = |x: &crate::sim::Summary, p: f64| x.at(&c.quantiles, p);
    for sc in &c.scenarios {
        let prob = sc.prob_hit_plan.map_or(f64::NAN, |p| p.probability);
        let quota = sc.quota_total.unwrap_or(f64::NAN);
        let cost = sc.comp_cost.as_ref().map_or(f64::NAN, |x| q(x, 0.5));
        t.row(vec![
            Cell::text(&sc.name),
            Cell::num(sc.total.mean, thousands(sc.total.mean)),
            Cell::num(q(&sc.total, 0.1), thousands(q(&sc.total, 0.1))),
            Cell::num(q(&sc.total, 0.5), thousands(q(&sc.total, 0.5))),
            Cell::num(q(&sc.total, 0.9), thousands(q(&sc.total, 0.9))),
            Cell::num(prob, percent(prob)),
            Cell::num(quota, thousands(quota)),
            Cell::num(cost, thousands(cost)),
            Cell::num(q(&sc.difference, 0.5), thousands(q(&sc.difference, 0.5))),
            Cell::text(format!(
                "{} to {}",
                thousands(q(&sc.difference, 0.1)),
                thousands(q(&sc.difference, 0.9))
            )),
            Cell::num(sc.prob_above_first, percent(sc.prob_above_first)),
        ]);
    }
    s.push_str(&t.html());
    for (k, sc) in c.scenarios.iter().enumerate().skip(1) {
        let base = &c.scenarios[0].name;
        match sc.same_difference_every_trial {
            // Under half a unit of currency: the same revenue (the
            // differences of sums can leave rounding where nothing changed).
            Some(d) if d.abs() < 0.5 => {
                let _ = write!(
                    s,
                    "<p class=\"note\">{} and {} have the same company revenue in every trial: \
                     nothing in {} changes what the forecast draws (a rebalancing alone does \
                     not: the forecast is of the territories as they are).</p>",
                    escape(&sc.name),
                    escape(base),
                    escape(&sc.name)
                );
            }
            Some(d) => {
                let _ = write!(
                    s,
                    "<p class=\"note\">{} minus {}: {} {} in every trial.</p>",
                    escape(&sc.name),
                    escape(base),
                    escape(&c.currency),
                    thousands(d)
                );
            }
            None => figure_html(&mut s, plots, &format!("compare_difference_{k}")),
        }
    }
    s.push_str("</section><section id=\"territories\"><h2>By territory</h2>");
    let mut headers: Vec<String> = vec!["territory".into()];
    for sc in &c.scenarios {
        headers.push(if sc.rebalanced {
            format!("{} P50 before rebalancing", sc.name)
        } else {
            format!("{} P50", sc.name)
        });
    }
    for sc in c.scenarios.iter().skip(1) {
        headers.push(format!("{} - {}", sc.name, c.scenarios[0].name));
    }
    // A rebalancing scenario's quotas are set on the territories after
    // the moves: their P50 then, beside the quotas.
    for sc in &c.scenarios {
        headers.push(format!("{} quota", sc.name));
        if sc.quotas_after_moves() {
            headers.push(format!("{} P50 after rebalancing", sc.name));
        }
    }
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&refs).with_wrapping_headers();
    for row in &c.territories {
        let mut cells = vec![Cell::text(&row.territory)];
        // A territory the rebalancing adds has no history to forecast:
        // say so rather than leave its P50 blank.
        for (v, status) in row.p50.iter().zip(&row.status) {
            cells.push(match v {
                None if status.as_deref() == Some("added") => {
                    Cell::num(f64::NAN, "added".to_string())
                }
                v => {
                    let v = v.unwrap_or(f64::NAN);
                    Cell::num(v, thousands(v))
                }
            });
        }
        for v in row.p50.iter().skip(1) {
            let d = match (v, row.p50[0]) {
                (Some(a), Some(b)) => a - b,
                _ => f64::NAN,
            };
            cells.push(Cell::num(d, thousands(d)));
        }
        for (k, sc) in c.scenarios.iter().enumerate() {
            let after = sc.quotas_after_moves().then_some(row.quota_p50[k]);
            // A territory the rebalancing removes gets no quota: say so
            // rather than leave the cells blank.
            let removed = row.status[k].as_deref() == Some("removed");
            for v in std::iter::once(row.quota[k]).chain(after) {
                cells.push(match v {
                    None if removed => Cell::num(f64::NAN, "removed".to_string()),
                    v => {
                        let v = v.unwrap_or(f64::NAN);
                        Cell::num(v, thousands(v))
                    }
                });
            }
        }
        t.row(cells);
    }
    s.push_str(&t.html());
    s.push_str("</section></main><footer><p>Scenarios:</p><ul>");
    for sc in &c.scenarios {
        let _ = write!(
            s,
            "<li>{} <code>{}</code></li>",
            escape(&sc.name),
            escape(&sc.file)
        );
    }
    let _ = writeln!(
        s,
        "</ul><p>salesplan {}; every scenario run with seed {} and the same trial streams.</p></footer><script>{SCRIPT}</script></body></html>",
        env!("CARGO_PKG_VERSION"),
        c.seed
    );
    s
}
