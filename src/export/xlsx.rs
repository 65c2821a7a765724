//! `plan.xlsx`: the run as sheets for the people who live in spreadsheets
//! (summary, quotas, forecast by territory and period, fit, backtest), with
//! number formats, frozen header rows, filters and fitted column widths.
//! The file's creation date is fixed so the same run gives the same bytes.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::error::{Error, Result};
use crate::output::OutputDir;
use crate::report::Report;
use crate::sim::quantile_index;

/// One spreadsheet cell.
pub enum XCell {
    Text(String),
    /// An amount of money (thousands separators, no decimals).
    Money(f64),
    /// A share shown as a percentage.
    Percent(f64),
    /// A plain number with a few decimals.
    Number(f64),
    /// A count.
    Count(f64),
}

/// A sheet: headers and rows.
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<XCell>>,
}

impl Sheet {
    /// An empty sheet named `name` with `headers`.
    pub fn new(name: &str, headers: &[&str]) -> Self {
        Self {
            name: name.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

fn xlsx_error(e: XlsxError) -> Error {
    Error::Internal(format!("writing plan.xlsx failed: {e}"))
}

fn cell_width(c: &XCell) -> usize {
    match c {
        XCell::Text(s) => s.chars().count(),
        XCell::Money(x) | XCell::Count(x) => crate::format::thousands(*x).len(),
        XCell::Percent(_) => 7,
        XCell::Number(_) => 10,
    }
}

/// The workbook's bytes for `sheets`.
///
/// # Errors
/// `Error::Internal` if the workbook cannot be built.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2000, 1, 1).map_err(xlsx_error)?;
    wb.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("salesplan")
            .set_title("salesplan plan"),
    );
    let header = Format::new().set_bold().set_background_color("#EEF1F6");
    let money = Format::new().set_num_format("#,##0");
    let percent = Format::new().set_num_format("0.0%");
    let number = Format::new().set_num_format("0.000");
    for sheet in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&sheet.name).map_err(xlsx_error)?;
        let mut widths: Vec<usize> = sheet.headers.iter().map(|h| h.chars().count()).collect();
        for (c, h) in sheet.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &header)
                .map_err(xlsx_error)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let col = c as u16;
                if let Some(w) = widths.get_mut(c) {
                    *w = (*w).max(cell_width(cell));
                }
                let written = match cell {
                    XCell::Text(s) => ws.write_string(r, col, s),
                    XCell::Money(x) | XCell::Count(x) if x.is_finite() => {
                        ws.write_number_with_format(r, col, *x, &money)
                    }
                    XCell::Percent(x) if x.is_finite() => {
                        ws.write_number_with_format(r, col, *x, &percent)
                    }
                    XCell::Number(x) if x.is_finite() => {
                        ws.write_number_with_format(r, col, *x, &number)
                    }
                    _ => continue,
                };
                written.map_err(xlsx_error)?;
            }
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).min(60.0))
                .map_err(xlsx_error)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        if !sheet.rows.is_empty() && !sheet.headers.is_empty() {
            ws.autofilter(
                0,
                0,
                sheet.rows.len() as u32,
                sheet.headers.len() as u16 - 1,
            )
            .map_err(xlsx_error)?;
        }
    }
    wb.save_to_buffer().map_err(xlsx_error)
}

/// The sheets of `report`, in reading order.
pub fn sheets(report: &Report) -> Vec<Sheet> {
    let mut out = vec![summary_sheet(report)];
    if let Some(q) = &report.quota {
        let mut s = Sheet::new(
            "Quotas",
            &[
                "territory",
                "quota",
                "last year actual",
                "forecast P50",
                "chance of attaining",
                "binding",
                "unconstrained quota",
                "Q1",
                "Q2",
                "Q3",
                "Q4",
            ],
        );
        for r in &q.rows {
            s.rows.push(vec![
                XCell::Text(r.territory.clone()),
                XCell::Money(r.quota),
                XCell::Money(r.last_year_actual),
                XCell::Money(r.forecast_p50),
                XCell::Percent(r.attain_probability),
                XCell::Text(r.binding.clone().unwrap_or_default()),
                XCell::Money(r.unconstrained),
                XCell::Money(r.quarters[0]),
                XCell::Money(r.quarters[1]),
                XCell::Money(r.quarters[2]),
                XCell::Money(r.quarters[3]),
            ]);
        }
        out.push(s);
    }
    if let Some(c) = &report.capacity {
        out.push(capacity_sheet(c));
    }
    if let Some(c) = &report.scorecard {
        out.push(scorecard_sheet(c));
    }
    if let Some(t) = &report.territories {
        out.extend(territory_sheets(t));
    }
    if let Some(c) = &report.comp {
        out.extend(comp_sheets(c));
    }
    if let Some(f) = &report.forecast {
        out.extend(forecast_sheets(f));
    }
    if let Some(fit) = &report.fit {
        let mut s = Sheet::new(
            "Fit",
            &[
                "territory",
                "region",
                "model",
                "periods",
                "level",
                "trend",
                "seasonal",
                "KS statistic",
            ],
        );
        for r in &fit.rows {
            s.rows.push(vec![
                XCell::Text(r.territory.clone()),
                XCell::Text(r.region.clone()),
                XCell::Text(r.model.clone()),
                XCell::Count(r.n_periods as f64),
                XCell::Money(r.level),
                XCell::Text(if r.trend { "yes" } else { "no" }.into()),
                XCell::Text(if r.seasonal { "yes" } else { "no" }.into()),
                XCell::Number(r.gof_stat.unwrap_or(f64::NAN)),
            ]);
        }
        out.push(s);
    }
    if let Some(b) = &report.backtest {
        let mut s = Sheet::new(
            "Backtest",
            &[
                "level",
                "points",
                "coverage 50%",
                "coverage 80%",
                "coverage 90%",
                "scaled pinball",
                "baseline scaled pinball",
                "drift scaled pinball",
                "scaled CRPS",
                "baseline scaled CRPS",
                "MASE",
            ],
        );
        for (level, sc) in b
            .by_level
            .iter()
            .map(|(l, s)| (l.clone(), s))
            .chain(std::iter::once(("all levels".to_string(), &b.overall)))
        {
            s.rows.push(vec![
                XCell::Text(level),
                XCell::Count(sc.points as f64),
                XCell::Percent(sc.coverage_50),
                XCell::Percent(sc.coverage_80),
                XCell::Percent(sc.coverage_90),
                XCell::Number(sc.scaled_pinball),
                XCell::Number(sc.baseline_scaled_pinball),
                XCell::Number(sc.drift_scaled_pinball),
                XCell::Number(sc.scaled_crps),
                XCell::Number(sc.baseline_scaled_crps),
                XCell::Number(sc.mase),
            ]);
        }
        out.push(s);
    }
    out
}

/// Hires against P(plan) (`capacity.csv`).
fn capacity_sheet(c: &crate::hiring::HiringPlan) -> Sheet {
    let mut s = Sheet::new("Capacity", &super::CAPACITY_HEADERS);
    let or_nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
    for r in &c.rows {
        s.rows.push(vec![
            XCell::Count(r.hires as f64),
            XCell::Text(r.start.clone().unwrap_or_default()),
            XCell::Text(r.region.clone().unwrap_or_default()),
            XCell::Percent(r.prob_plan),
            XCell::Money(r.mean),
            XCell::Money(r.p10),
            XCell::Money(r.p50),
            XCell::Money(r.p90),
            XCell::Money(or_nan(r.cost)),
            XCell::Money(or_nan(r.marginal_revenue)),
            XCell::Money(or_nan(r.marginal_cost)),
        ]);
    }
    s
}

/// Last year's quotas against what each territory and rep sold
/// (`scorecard.csv`).
fn scorecard_sheet(c: &crate::scorecard::Scorecard) -> Sheet {
    let mut s = Sheet::new(
        "Scorecard",
        &[
            "territory",
            "rep",
            "region",
            "quota",
            "actual",
            "attainment",
            "growth",
            "rank in region",
            "in region",
            "percentile in region",
            "rep FTE",
            "ramped share",
            "tenure (months)",
            "P(attain) in hindsight",
            "verdict",
        ],
    );
    let or_nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
    for r in c.territories_then_reps() {
        s.rows.push(vec![
            XCell::Text(r.territory.clone()),
            XCell::Text(r.rep.clone().unwrap_or_default()),
            XCell::Text(r.region.clone()),
            XCell::Money(r.quota),
            XCell::Money(r.actual),
            XCell::Percent(r.attainment),
            XCell::Percent(or_nan(r.growth)),
            XCell::Count(r.rank as f64),
            XCell::Count(r.region_size as f64),
            XCell::Percent(or_nan(r.percentile)),
            XCell::Number(or_nan(r.rep_fte)),
            XCell::Percent(or_nan(r.ramped_share)),
            XCell::Number(or_nan(r.tenure_months)),
            XCell::Percent(r.attain_probability),
            XCell::Text(r.verdict.unwrap_or_default().to_string()),
        ]);
    }
    s
}

fn summary_sheet(report: &Report) -> Sheet {
    let m = &report.meta;
    let mut s = Sheet::new("Summary", &["item", "value"]);
    let mut text = |k: &str, v: String| s.rows.push(vec![XCell::Text(k.into()), XCell::Text(v)]);
    text("scenario", m.scenario.clone());
    text("seed", m.seed.to_string());
    text("trials", m.trials.to_string());
    text("salesplan version", m.version.clone());
    text("currency", m.currency.clone());
    text("period", m.period.clone());
    if let Some(f) = &report.forecast {
        for (i, q) in f.quantiles.iter().enumerate() {
            s.rows.push(vec![
                XCell::Text(format!("company revenue P{}", q * 100.0)),
                XCell::Money(f.total.quantiles[i]),
            ]);
        }
        if let Some(p) = &f.prob_hit_plan {
            s.rows.push(vec![
                XCell::Text("probability of reaching plan".into()),
                XCell::Percent(p.probability),
            ]);
        }
    }
    if let Some(q) = &report.quota {
        s.rows
            .push(vec![XCell::Text("plan".into()), XCell::Money(q.plan)]);
        s.rows.push(vec![
            XCell::Text("quota total".into()),
            XCell::Money(q.quota_total),
        ]);
        s.rows.push(vec![
            XCell::Text("chance of attaining quota".into()),
            XCell::Percent(q.attain_probability),
        ]);
    }
    for (file, hash) in &m.inputs {
        s.rows.push(vec![
            XCell::Text(format!("input {file} (sha256)")),
            XCell::Text(hash.clone()),
        ]);
    }
    s
}

/// A long sheet (level, name, period, mean, quantiles) and a wide sheet of
/// territory P50 by period.
fn forecast_sheets(f: &crate::report::ForecastSection) -> Vec<Sheet> {
    let mut headers = vec![
        "level".to_string(),
        "name".into(),
        "period".into(),
        "mean".into(),
    ];
    headers.extend(
        f.quantiles
            .iter()
            .map(|q| crate::export::csv::quantile_column(*q).to_uppercase()),
    );
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut long = Sheet::new("Forecast", &refs);
    for r in &f.rows {
        let mut row = vec![
            XCell::Text(r.level.clone()),
            XCell::Text(r.name.clone()),
            XCell::Text(r.period.clone()),
            XCell::Money(r.summary.mean),
        ];
        row.extend(r.summary.quantiles.iter().map(|&v| XCell::Money(v)));
        long.rows.push(row);
    }
    let i50 = quantile_index(&f.quantiles, 0.5).unwrap_or(0);
    let mut periods: Vec<&str> = Vec::new();
    for r in &f.rows {
        if r.period != "year" && !periods.contains(&r.period.as_str()) {
            periods.push(&r.period);
        }
    }
    let mut wide_headers = vec!["level", "name"];
    wide_headers.extend(periods.iter().copied());
    wide_headers.push("year");
    let mut wide = Sheet::new("Forecast P50", &wide_headers);
    let mut current: Option<(String, String)> = None;
    for r in &f.rows {
        let key = (r.level.clone(), r.name.clone());
        if current.as_ref() != Some(&key) {
            wide.rows
                .push(vec![XCell::Text(key.0.clone()), XCell::Text(key.1.clone())]);
            current = Some(key);
        }
        if let Some(row) = wide.rows.last_mut() {
            row.push(XCell::Money(r.summary.quantiles[i50]));
        }
    }
    vec![wide, long]
}

/// Territories before/after, moves with reasons, and the new assignment.
fn territory_sheets(t: &crate::rebalance::TerritoriesSection) -> Vec<Sheet> {
    let mut territories = Sheet::new(
        "Territories",
        &[
            "territory",
            "region",
            "status",
            "accounts before",
            "accounts after",
            "potential before",
            "potential after",
            "workload before",
            "workload after",
        ],
    );
    for r in &t.rows {
        territories.rows.push(vec![
            XCell::Text(r.territory.clone()),
            XCell::Text(r.region.clone()),
            XCell::Text(r.status.clone()),
            XCell::Count(r.accounts_before as f64),
            XCell::Count(r.accounts_after as f64),
            XCell::Money(r.potential_before),
            XCell::Money(r.potential_after),
            XCell::Number(r.workload_before),
            XCell::Number(r.workload_after),
        ]);
    }
    let mut moves = Sheet::new(
        "Moves",
        &[
            "account",
            "from territory",
            "to territory",
            "potential",
            "reason",
        ],
    );
    for m in &t.moves {
        moves.rows.push(vec![
            XCell::Text(m.account.clone()),
            XCell::Text(m.from_territory.clone()),
            XCell::Text(m.to_territory.clone()),
            XCell::Money(m.potential),
            XCell::Text(m.reason.clone()),
        ]);
    }
    let mut assignments = Sheet::new("Assignments", &["account", "territory", "rep"]);
    for a in &t.assignments {
        assignments.rows.push(vec![
            XCell::Text(a.account.clone()),
            XCell::Text(a.territory.clone()),
            XCell::Text(a.rep.clone().unwrap_or_default()),
        ]);
    }
    vec![territories, moves, assignments]
}

/// Commission by rep and accrual by quarter.
fn comp_sheets(c: &crate::comp::CompSection) -> Vec<Sheet> {
    let mut reps = Sheet::new(
        "Comp",
        &[
            "rep",
            "territory",
            "plan",
            "target incentive",
            "quota",
            "payout mean",
            "payout P10",
            "payout P50",
            "payout P90",
            "chance of 100%",
        ],
    );
    for r in &c.reps {
        reps.rows.push(vec![
            XCell::Text(r.rep.clone()),
            XCell::Text(r.territory.clone()),
            XCell::Text(r.plan.clone()),
            XCell::Money(r.target_incentive),
            XCell::Money(r.quota),
            XCell::Money(r.payout.mean),
            XCell::Money(r.payout.p10),
            XCell::Money(r.payout.p50),
            XCell::Money(r.payout.p90),
            XCell::Percent(r.prob_attain_100),
        ]);
    }
    let mut accrual = Sheet::new(
        "Comp accrual",
        &["quarter", "from", "accrual mean", "P10", "P50", "P90"],
    );
    for a in &c.accrual {
        accrual.rows.push(vec![
            XCell::Text(a.quarter.clone()),
            XCell::Text(a.start.clone()),
            XCell::Money(a.accrual.mean),
            XCell::Money(a.accrual.p10),
            XCell::Money(a.accrual.p50),
            XCell::Money(a.accrual.p90),
        ]);
    }
    vec![reps, accrual]
}

/// Write `plan.xlsx` for `report`.
///
/// # Errors
/// `Error::Io`/`Error::Internal` if the file cannot be built or written.
pub fn write(report: &Report, out: &OutputDir) -> Result<()> {
    out.write("plan.xlsx", &workbook(&sheets(report))?)
}
