//! The loader: the only module that touches polars. It reads every table a
//! scenario names, checks it, and returns a [`SalesHistory`] aggregated to the
//! scenario's periods.
//!
//! Rules (documented in the README): accounts that appear only in sales get
//! the territory holding most of their revenue; periods that the data covers
//! only in part at either edge are dropped with a warning; territories with
//! no history are kept (the fitter pools them) with a warning.

mod amount;
mod dates;
mod excel;
mod groups;
mod sales;
mod source;
pub(crate) use source::not_found;
pub use source::regular_file;
mod tables;
pub mod trials;

pub use dates::{DateParser, Span};
pub use excel::{is_workbook, WORKBOOK_EXTENSIONS};

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;

use crate::cadence::Cadence;
use crate::calendar::Calendar;
use crate::error::{Error, Result};
use crate::history::{Account, LoadReport, Opportunity, QuotaLimit, Rep, SalesHistory, Territory};
use crate::scenario::{BadRows, DataSpec, Scenario, TerritoryFrom};
use tables::TextTable;

/// Region given to territories when no table names one.
pub const DEFAULT_REGION: &str = "All";

/// Load every table of `scenario` into a [`SalesHistory`].
///
/// # Errors
/// `Error::Data` naming the file, line and column of the first problem.
pub fn load(scenario: &Scenario) -> Result<SalesHistory> {
    load_data(&scenario.data, scenario.calendar)
}

/// Read a `fixed_moves` file (columns `account`, `territory`; a workbook's
/// first worksheet): one (account, territory, where: "line 7" or "row 7")
/// per row, in file order.
///
/// # Errors
/// `Error::Data` naming the file, line and column of a missing value or
/// missing column; `Error::Io` if the file cannot be read.
pub fn load_fixed_moves(
    path: &std::path::Path,
    encoding: crate::scenario::Encoding,
) -> Result<Vec<(String, String, String)>> {
    let spec = crate::scenario::TableSpec {
        key: "territories.fixed_moves".into(),
        path: path.to_path_buf(),
        columns: [("account", "account"), ("territory", "territory")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        filter: Default::default(),
        sheet: None,
    };
    let table = tables::TextTable::read(
        "fixed_moves",
        &spec,
        encoding,
        &["account", "territory"],
        &[],
    )?;
    // One move per account: a second row had silently won over the first
    // (a helper's probe, session 30).
    let mut seen: HashMap<String, usize> = HashMap::new();
    (0..table.len())
        .map(|i| {
            let account = table.required("account", i)?.to_string();
            if let Some(first) = seen.insert(account.clone(), i) {
                return Err(table.error(
                    "account",
                    i,
                    format!(
                        "found '{account}' a second time ({}), expected one fixed move per account",
                        table.place(first)
                    ),
                ));
            }
            Ok((
                account,
                table.required("territory", i)?.to_string(),
                table.place(i),
            ))
        })
        .collect()
}

/// Load the tables of `data`, aggregating sales to `calendar`'s periods.
///
/// # Errors
/// As [`load`].
pub fn load_data(data: &DataSpec, calendar: Calendar) -> Result<SalesHistory> {
    // Sales dates name no more than a period; events' dates (a rep's
    // start, a deal's close) any span.
    let format = data.date_format.as_deref();
    let sales_dates = DateParser::new(format, calendar.fiscal_start_month, Span::of(calendar.kind));
    let parser = DateParser::new(format, calendar.fiscal_start_month, Span::Year);
    let mut report = LoadReport::default();
    let sales = sales::load_sales(data, &sales_dates)?;
    report.tables.push(sales.report.clone());
    sales::warn_of_names_differing_by_spaces(
        &sales.by_key_day,
        sales::key_column(data),
        &mut report.warnings,
    );
    for (model, column) in &sales.unmapped {
        let effect = if *model == "region" {
            ": every territory is in one region"
        } else {
            ""
        };
        report.warnings.push(format!(
            "{}: its column '{column}' is not mapped in [data.columns], so it is not read{effect} (map it with {model} = \"{column}\" to use it)",
            sales.report.source()
        ));
    }

    // Reps first: with territory_from = "rep" they map sales keys to territories.
    let reps_table = match &data.reps {
        Some(spec) => Some(TextTable::read(
            "reps",
            spec,
            data.encoding,
            &["rep", "territory"],
            &[
                "region",
                "start_date",
                "end_date",
                "backfill_date",
                "ramp_months",
                "fte",
            ],
        )?),
        None => None,
    };
    let accounts_table = match &data.accounts {
        Some(spec) => Some(TextTable::read(
            "accounts",
            spec,
            data.encoding,
            &["account", "territory"],
            &["potential", "workload", "lat", "lon", "locked", "region"],
        )?),
        None => None,
    };

    let mut rep_territory: HashMap<String, String> = HashMap::new();
    let mut region_of: BTreeMap<String, String> = BTreeMap::new();
    if let Some(t) = &reps_table {
        for i in 0..t.len() {
            let rep = t.required("rep", i)?.to_string();
            let territory = t.required("territory", i)?.to_string();
            if let Some(region) = t.text("region", i) {
                region_of
                    .entry(territory.clone())
                    .or_insert_with(|| region.to_string());
            }
            rep_territory.insert(rep, territory);
        }
    }
    let territory_of_key = |key: &str| -> Option<String> {
        match data.territory_from {
            TerritoryFrom::Column => Some(key.to_string()),
            TerritoryFrom::Rep => rep_territory.get(key).cloned(),
        }
    };
    if data.territory_from == TerritoryFrom::Rep {
        let unknown: BTreeSet<&str> = sales
            .by_key_day
            .iter()
            .filter(|r| !rep_territory.contains_key(&r.key))
            .map(|r| r.key.as_str())
            .collect();
        if let Some(first) = unknown.iter().next() {
            let msg = format!(
                "{} rep(s) in the sales table are not in the reps table, e.g. '{first}'; expected every rep to have a territory",
                unknown.len()
            );
            match data.on_bad_rows {
                BadRows::Error => {
                    return Err(Error::column(
                        &data.sales.path,
                        data.sales.column("rep").unwrap_or("rep"),
                        msg,
                    )
                    .in_sheet(sales.sheet.as_deref()))
                }
                BadRows::Skip => report.warnings.push(msg),
            }
        }
    }
    for (key, region) in &sales.region_of_key {
        if let Some(t) = territory_of_key(key) {
            region_of.entry(t).or_insert_with(|| region.clone());
        }
    }
    if let Some(t) = &accounts_table {
        for i in 0..t.len() {
            if let (Some(territory), Some(region)) = (t.text("territory", i), t.text("region", i)) {
                region_of
                    .entry(territory.to_string())
                    .or_insert_with(|| region.to_string());
            }
        }
    }

    // Periods covered by the data.
    let dates: BTreeSet<NaiveDate> = sales
        .by_key_day
        .iter()
        .map(|r| r.date)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let (Some(&first_date), Some(&last_date)) = (dates.first(), dates.last()) else {
        return Err(
            Error::data(&data.sales.path, "no usable sales rows").in_sheet(sales.sheet.as_deref())
        );
    };
    report.first_date = Some(first_date);
    report.last_date = Some(last_date);
    let (first_period, last_period, dropped) = complete_periods(&calendar, &dates);
    report.dropped_periods = dropped.iter().map(|&p| calendar.start_of(p)).collect();
    for d in &report.dropped_periods {
        report.warnings.push(format!(
            "the {} starting {d} is only partly covered by the data ({first_date} to {last_date}) and is dropped",
            calendar.kind.name()
        ));
    }
    if last_period < first_period {
        return Err(Error::data(
            &data.sales.path,
            format!(
                "the data ({first_date} to {last_date}) does not cover one complete {}",
                calendar.kind.name()
            ),
        )
        .in_sheet(sales.sheet.as_deref()));
    }
    let n_periods = (last_period - first_period + 1) as usize;
    let cadence = Cadence::detect(&dates, &calendar);
    if let Some(c) = &cadence {
        report.warnings.push(c.describe());
    }

    // Territories: every name in sales, accounts and reps.
    let mut names: BTreeSet<String> = BTreeSet::new();
    // The rows come grouped by key: look each key up once.
    let mut last_key: Option<&str> = None;
    for r in &sales.by_key_day {
        if last_key != Some(r.key.as_str()) {
            last_key = Some(r.key.as_str());
            if let Some(t) = territory_of_key(&r.key) {
                names.insert(t);
            }
        }
    }
    let with_history = names.clone();
    if let Some(t) = &accounts_table {
        for i in 0..t.len() {
            names.insert(t.required("territory", i)?.to_string());
        }
    }
    names.extend(rep_territory.values().cloned());
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort_by(|a, b| natural_cmp(a, b));
    for n in &names {
        if !with_history.contains(n) {
            report.warnings.push(format!(
                "territory '{n}' has no sales history; it gets a pooled model"
            ));
        }
    }
    let index: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let territories: Vec<Territory> = names
        .iter()
        .map(|n| Territory {
            name: n.clone(),
            region: region_of
                .get(n)
                .cloned()
                .unwrap_or_else(|| DEFAULT_REGION.to_string()),
        })
        .collect();

    let slot = |date: NaiveDate| -> Option<usize> {
        let p = calendar.period_of(date);
        (p >= first_period && p <= last_period).then(|| (p - first_period) as usize)
    };
    let mut revenue = vec![vec![0.0; n_periods]; names.len()];
    let mut first_row: Vec<Option<usize>> = vec![None; names.len()];
    let mut current: (Option<&str>, Option<usize>) = (None, None);
    for r in &sales.by_key_day {
        if current.0 != Some(r.key.as_str()) {
            current = (
                Some(r.key.as_str()),
                territory_of_key(&r.key).map(|t| index[&t]),
            );
        }
        if let (Some(i), Some(s)) = (current.1, slot(r.date)) {
            revenue[i][s] += r.amount;
            first_row[i] = Some(first_row[i].map_or(s, |p| p.min(s)));
        }
    }
    // Each rep's revenue by period, when the sales carry a rep.
    let rep_days = match (&sales.by_rep_day, data.territory_from) {
        (Some(days), _) => Some(days),
        (None, TerritoryFrom::Rep) => Some(&sales.by_key_day),
        (None, TerritoryFrom::Column) => None,
    };
    let mut rep_revenue: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in rep_days.into_iter().flatten() {
        if let Some(s) = slot(r.date) {
            rep_revenue
                .entry(r.key.clone())
                .or_insert_with(|| vec![0.0; n_periods])[s] += r.amount;
        }
    }
    let (deal_counts, deal_sizes, deal_periods) = match &sales.deals {
        Some(deals) => {
            let mut counts = vec![vec![0.0; n_periods]; names.len()];
            let mut sizes = vec![Vec::new(); names.len()];
            let mut periods = vec![Vec::new(); names.len()];
            // Deals come key by key.
            let mut territory = KeyTerritory::new(&territory_of_key, &index);
            for d in deals {
                if let (Some(i), Some(s)) = (territory.of(&d.key), slot(d.date)) {
                    if d.amount > 0.0 {
                        counts[i][s] += 1.0;
                        sizes[i].push(d.amount);
                        periods[i].push(s);
                    }
                }
            }
            (Some(counts), Some(sizes), Some(periods))
        }
        None => (None, None, None),
    };
    let last_year_from = (last_period - calendar.kind.per_year() as i64 + 1).max(first_period);
    let potentials = match &accounts_table {
        Some(t) => t.amounts("potential", &data.currency)?,
        None => Vec::new(),
    };
    let accounts = build_accounts(
        accounts_table.as_ref(),
        &potentials,
        sales.by_account_day.as_deref(),
        &index,
        &|k: &str| territory_of_key(k),
        &calendar,
        (first_period, last_period, last_year_from),
        &mut report,
    )?;
    let reps = match &reps_table {
        Some(t) => build_reps(t, &index, &parser)?,
        None => Vec::new(),
    };
    if let Some(t) = &accounts_table {
        report.tables.push(t.report.clone());
    }
    if let Some(t) = &reps_table {
        report.tables.push(t.report.clone());
    }
    let mut pipeline_stages = Vec::new();
    let mut pipeline_cycles = Vec::new();
    let pipeline = match &data.pipeline {
        Some(spec) => {
            let key = match data.territory_from {
                TerritoryFrom::Column => "territory",
                TerritoryFrom::Rep => "rep",
            };
            // Closed deals (the rows the filter leaves out) give win rates
            // and sales cycles: the file's rows before the filter, from the
            // same read.
            let (t, all) = TextTable::read_with_unfiltered(
                "pipeline",
                spec,
                data.encoding,
                &["opportunity", key],
                &[
                    "amount",
                    "close_date",
                    "stage",
                    "win_probability",
                    "account",
                    "created",
                ],
                true,
            )?;
            let p = build_pipeline(
                &t,
                key,
                &index,
                &|k: &str| territory_of_key(k),
                &parser,
                &data.currency,
                &mut report,
            )?;
            let whole = all.as_ref().unwrap_or(&t);
            pipeline_stages = stage_counts(whole, key, &index, &|k: &str| territory_of_key(k));
            pipeline_cycles = cycles(whole, &parser)?;
            report.tables.push(t.report.clone());
            p
        }
        None => Vec::new(),
    };
    let mut rep_quotas = BTreeMap::new();
    let mut quota_limits = BTreeMap::new();
    let quotas = match &data.quotas {
        Some(spec) => {
            let key = if spec.columns.contains_key("rep") && !spec.columns.contains_key("territory")
            {
                "rep"
            } else {
                "territory"
            };
            let t = TextTable::read(
                "quotas",
                spec,
                data.encoding,
                &[key, "quota"],
                &["floor", "cap", "locked"],
            )?;
            let [quota, floor, cap] =
                ["quota", "floor", "cap"].map(|column| t.amounts(column, &data.currency));
            let (quota, floor, cap) = (quota?, floor?, cap?);
            let mut q = BTreeMap::new();
            for i in 0..t.len() {
                let name = t.required(key, i)?;
                let territory = if key == "rep" {
                    rep_territory.get(name).cloned()
                } else {
                    Some(name.to_string())
                };
                let Some(ti) = territory.and_then(|n| index.get(&n).copied()) else {
                    let expected = if key == "rep" {
                        "a rep of the reps table"
                    } else {
                        "a known territory"
                    };
                    return Err(t.error(
                        key,
                        i,
                        format!("found '{name}', which is not {expected}"),
                    ));
                };
                let v = quota[i].ok_or_else(|| t.error("quota", i, "missing quota"))?;
                if v < 0.0 {
                    return Err(t.error(
                        "quota",
                        i,
                        format!("found {v}, expected a quota of 0 or more"),
                    ));
                }
                // A territory-keyed table has one row per territory (a rep-keyed
                // one adds its reps' rows up); a second row had been added to
                // the first silently (a helper's probe, session 30).
                if key == "territory" && q.contains_key(&ti) {
                    return Err(t.error(
                        key,
                        i,
                        format!("found '{name}' a second time, expected one row per territory"),
                    ));
                }
                *q.entry(ti).or_insert(0.0) += v;
                if key == "rep" {
                    *rep_quotas.entry(name.to_string()).or_insert(0.0) += v;
                }
                let limit = QuotaLimit {
                    floor: floor[i],
                    cap: cap[i],
                    locked: t.flag("locked", i)?.then_some(v),
                };
                if limit != QuotaLimit::default() {
                    if key == "rep" {
                        return Err(t.error(
                            "floor",
                            i,
                            "floor, cap and locked apply to territory quotas; this quotas table is keyed by rep",
                        ));
                    }
                    if let (Some(f), Some(c)) = (limit.floor, limit.cap) {
                        if f > c {
                            return Err(t.error(
                                "floor",
                                i,
                                format!("found floor {f} above cap {c}, expected floor <= cap"),
                            ));
                        }
                    }
                    // A lock fixes the quota; a floor or cap it breaks is a
                    // contradiction, not a limit to ignore.
                    if let Some(l) = limit.locked {
                        let broken = [
                            ("floor", limit.floor.filter(|&f| f > l)),
                            ("cap", limit.cap.filter(|&c| c < l)),
                        ];
                        if let Some((column, Some(b))) =
                            broken.into_iter().find(|(_, b)| b.is_some())
                        {
                            return Err(t.error(
                                column,
                                i,
                                format!("found {column} {b}, which the locked quota {l} breaks: expected a locked row's floor at most and cap at least its quota"),
                            ));
                        }
                    }
                    quota_limits.insert(ti, limit);
                }
            }
            report.tables.push(t.report.clone());
            q
        }
        None => BTreeMap::new(),
    };
    warn_of_skipped_rows(&mut report);
    let period_start = |p: usize| calendar.start_of(first_period + p as i64).to_string();
    diagnose(
        &names,
        &revenue,
        calendar.kind.per_year(),
        &period_start,
        &mut report,
    );
    let history = SalesHistory {
        calendar,
        first_period,
        territories,
        revenue,
        deal_counts,
        deal_sizes,
        deal_periods,
        accounts,
        reps,
        pipeline,
        pipeline_stages,
        pipeline_cycles,
        quotas,
        cadence,
        rep_quotas,
        rep_revenue,
        quota_limits,
        first_row: names
            .iter()
            .zip(&first_row)
            .filter_map(|(n, p)| Some((n.clone(), (*p)?)))
            .collect(),
        report,
    };
    Ok(history)
}

/// A warning for each table whose bad rows were skipped (`on_bad_rows =
/// "skip"`): every command then says what it left out, not only
/// `validate` and the report. A wrong `date_format` can reject most of a
/// table and leave the rest read with day and month swapped, so more than
/// half of the rows `data.filter` kept skipped says where to look.
fn warn_of_skipped_rows(report: &mut LoadReport) {
    for t in &report.tables {
        // Each row once (a row can fail for several reasons).
        let checked = t.rows_read - t.rows_filtered_out;
        let skipped = checked - t.rows_used;
        if skipped == 0 {
            continue;
        }
        let reasons: Vec<String> = t
            .rejected
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        let bad_dates = t.rejected.get("bad date").copied().unwrap_or(0);
        let most = if 2 * skipped <= checked {
            ""
        } else if 2 * bad_dates > skipped {
            "; more than half of the table: check data.date_format"
        } else {
            "; more than half of the table: check the column names"
        };
        report.warnings.push(format!(
            "{} table {}: {skipped} of {checked} rows skipped ({}; data.on_bad_rows = \"skip\"){most}",
            t.table,
            t.source(),
            reasons.join(", ")
        ));
    }
}

/// Warnings about series that fit poorly: periods in which no territory
/// sold (`period_start` names a period by its first day), gaps inside a
/// territory's active span besides those, and territories with too little
/// history for their own fit.
fn diagnose(
    names: &[String],
    revenue: &[Vec<f64>],
    per_year: usize,
    period_start: &dyn Fn(usize) -> String,
    report: &mut LoadReport,
) {
    let list = |v: &[String]| {
        let shown: Vec<&str> = v.iter().take(8).map(String::as_str).collect();
        let more = if v.len() > 8 {
            format!(" and {} more", v.len() - 8)
        } else {
            String::new()
        };
        format!("{}{more}", shown.join(", "))
    };
    let periods = revenue.first().map_or(0, Vec::len);
    // Periods in which no territory sold, between the first and the last
    // that any did: a season the company is closed (the fit then treats it
    // as one when it recurs: `fit::offseason`) or rows missing for
    // everyone. Named once here, not as every territory's own gaps.
    let company_empty: Vec<bool> = (0..periods)
        .map(|p| revenue.iter().all(|s| s[p] == 0.0))
        .collect();
    let selling: Vec<usize> = (0..periods).filter(|&p| !company_empty[p]).collect();
    if let (Some(&first), Some(&last)) = (selling.first(), selling.last()) {
        let empty: Vec<String> = (first..=last)
            .filter(|&p| company_empty[p])
            .map(period_start)
            .collect();
        if !empty.is_empty() {
            report.warnings.push(format!(
                "no territory sold anything in {} period{} (kept as zeros): {}",
                empty.len(),
                if empty.len() == 1 { "" } else { "s" },
                list(&empty)
            ));
        }
    }
    let mut gaps = Vec::new();
    let mut short = Vec::new();
    let mut sparse = Vec::new();
    for (name, series) in names.iter().zip(revenue) {
        let active: Vec<usize> = (0..series.len()).filter(|&p| series[p] != 0.0).collect();
        let (Some(&first), Some(&last)) = (active.first(), active.last()) else {
            continue;
        };
        let zeros = (first..=last)
            .filter(|&p| series[p] == 0.0 && !company_empty[p])
            .count();
        if zeros > 0 {
            gaps.push(format!("{name} ({zeros})"));
        }
        if active.len() < 6 {
            sparse.push(name.clone());
        } else if last - first + 1 < per_year {
            short.push(name.clone());
        }
    }
    if !gaps.is_empty() {
        report.warnings.push(format!(
            "{} periods without sales inside their active span (kept as zeros): {}",
            territories_have(gaps.len()),
            list(&gaps)
        ));
    }
    // Too short a history for a region's seasonal profile: no territory
    // can borrow one.
    let seasonal = crate::fit::shortest_seasonal_history(per_year);
    if per_year > 1 && periods < seasonal {
        report.warnings.push(format!(
            "the history has {periods} complete periods, fewer than a year and two ({seasonal}): no yearly seasonal profile can be estimated for any territory or region{}",
            if per_year == 12 {
                "; only a pattern within the calendar quarter, where three whole quarters show one"
            } else {
                ", so the forecast has no seasonality"
            }
        ));
    } else if !short.is_empty() {
        report.warnings.push(format!(
            "{} less than a year of activity; their seasonality is borrowed from their region: {}",
            territories_have(short.len()),
            list(&short)
        ));
    }
    if !sparse.is_empty() {
        report.warnings.push(format!(
            "{} fewer than 6 periods with sales; their spread is pooled from the others: {}",
            territories_have(sparse.len()),
            list(&sparse)
        ));
    }
}

/// The first and last complete periods, and the partial ones dropped at the edges.
///
/// Data stamped once a period, every stamp its period's first day (a
/// quarter's sales on 1 January, a period label such as `2021-Q1`) or
/// every stamp its last day, are the periods' totals: each date stands
/// for its whole period, and none is partial. Otherwise a period at an
/// edge counts as complete when the data reaches to within the data's
/// typical spacing of its boundary (daily transactions must start within
/// the first 3 days; weekly totals within the first week). Until
/// 2026-12-07 period totals were read by the spacing rule too, and
/// quarters stamped on their first day lost their last quarter whenever
/// it was a 92-day one (the median spacing, 91 days, is a day short of
/// it): the zoo's arrivals were forecast from the quarter before.
/// Transactions (several dates in a period, or dates anywhere in their
/// periods) keep the spacing rule, and so does a single date.
fn complete_periods(calendar: &Calendar, dates: &BTreeSet<NaiveDate>) -> (i64, i64, Vec<i64>) {
    let first = *dates.first().expect("non-empty");
    let last = *dates.last().expect("non-empty");
    let periods: Vec<i64> = dates.iter().map(|&d| calendar.period_of(d)).collect();
    let stamped =
        |edge: &dyn Fn(i64) -> NaiveDate| dates.iter().zip(&periods).all(|(&d, &p)| d == edge(p));
    if periods.len() >= 2
        && periods.windows(2).all(|w| w[0] != w[1])
        && (stamped(&|p| calendar.start_of(p)) || stamped(&|p| calendar.end_of(p)))
    {
        return (periods[0], periods[periods.len() - 1], Vec::new());
    }
    let mut gaps: Vec<i64> = dates
        .iter()
        .zip(dates.iter().skip(1))
        .map(|(a, b)| (*b - *a).num_days())
        .collect();
    gaps.sort_unstable();
    let spacing = gaps.get(gaps.len() / 2).copied().unwrap_or(1);
    let tolerance = spacing.max(3) - 1;
    let mut p0 = calendar.period_of(first);
    let mut p1 = calendar.period_of(last);
    let mut dropped = Vec::new();
    if (first - calendar.start_of(p0)).num_days() > tolerance {
        dropped.push(p0);
        p0 += 1;
    }
    if (calendar.end_of(p1) - last).num_days() > tolerance && p1 >= p0 {
        dropped.push(p1);
        p1 -= 1;
    }
    (p0, p1, dropped)
}

/// A key's territory (its index), looked up once for each run of rows
/// with the same key: the roll-ups come key by key, and the lookup
/// allocates and hashes.
struct KeyTerritory<'a, 'k> {
    territory_of_key: &'a dyn Fn(&str) -> Option<String>,
    index: &'a HashMap<String, usize>,
    last: Option<(&'k str, Option<usize>)>,
}

impl<'a, 'k> KeyTerritory<'a, 'k> {
    fn new(
        territory_of_key: &'a dyn Fn(&str) -> Option<String>,
        index: &'a HashMap<String, usize>,
    ) -> Self {
        Self {
            territory_of_key,
            index,
            last: None,
        }
    }

    fn of(&mut self, key: &'k str) -> Option<usize> {
        match self.last {
            Some((last, territory)) if last == key => territory,
            _ => {
                let territory =
                    (self.territory_of_key)(key).and_then(|t| self.index.get(&t).copied());
                self.last = Some((key, territory));
                territory
            }
        }
    }
}

/// The accounts of the accounts `table` (its `potentials` read by
/// `TextTable::amounts`, one per row) and of the sales' account column.
#[allow(clippy::too_many_arguments)]
fn build_accounts(
    table: Option<&TextTable>,
    potentials: &[Option<f64>],
    sales: Option<&[sales::AccountDay]>,
    index: &HashMap<String, usize>,
    territory_of_key: &dyn Fn(&str) -> Option<String>,
    calendar: &Calendar,
    (first_period, last_period, last_year_from): (i64, i64, i64),
    report: &mut LoadReport,
) -> Result<Vec<Account>> {
    let mut accounts: Vec<Account> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    if let Some(t) = table {
        let mut first_line: HashMap<String, String> = HashMap::new();
        for (i, &potential) in potentials.iter().enumerate() {
            let id = t.required("account", i)?.to_string();
            let territory = t.required("territory", i)?;
            let ti = index[territory];
            if let Some(&j) = by_id.get(&id) {
                if accounts[j].territory != ti {
                    return Err(t.error(
                        "territory",
                        i,
                        format!(
                            "account '{id}' is listed again with territory '{territory}', but {} gives it territory '{}'; expected one territory per account",
                            first_line[&id],
                            index.iter().find(|(_, &v)| v == accounts[j].territory).map(|(k, _)| k.as_str()).unwrap_or("?")
                        ),
                    ));
                }
                continue;
            }
            first_line.insert(id.clone(), t.place(i));
            by_id.insert(id.clone(), accounts.len());
            accounts.push(Account {
                id,
                territory: ti,
                potential,
                workload: t.number("workload", i)?,
                lat: t.number("lat", i)?,
                lon: t.number("lon", i)?,
                locked: t.flag("locked", i)?,
                revenue_total: 0.0,
                revenue_last_year: 0.0,
            });
        }
    }
    let Some(sales) = sales else {
        return Ok(accounts);
    };
    // Revenue by account and territory; sales-only accounts go to the
    // territory with most of their revenue. Each account's rows taken
    // together, in account order: `load_sales` gives them so (a stable
    // sort by account otherwise, which keeps each account's rows, and so
    // its sums, in the same order).
    let mut order: Vec<usize> = (0..sales.len()).collect();
    if !sales.windows(2).all(|w| w[0].account <= w[1].account) {
        order.sort_by(|&x, &y| sales[x].account.cmp(&sales[y].account));
    }
    // Per account: its revenue by territory, its total and last year's.
    type AccountRevenue<'a> = (&'a str, BTreeMap<usize, f64>, (f64, f64));
    let mut per: Vec<AccountRevenue> = Vec::new();
    // An account's rows come key by key.
    let mut territory = KeyTerritory::new(territory_of_key, index);
    for run in order.chunk_by(|&x, &y| sales[x].account == sales[y].account) {
        let mut by_territory: BTreeMap<usize, f64> = BTreeMap::new();
        let mut totals = (0.0, 0.0);
        for r in run.iter().map(|&i| &sales[i]) {
            let p = calendar.period_of(r.date);
            if p < first_period || p > last_period {
                continue;
            }
            let Some(ti) = territory.of(&r.key) else {
                continue;
            };
            *by_territory.entry(ti).or_insert(0.0) += r.amount;
            totals.0 += r.amount;
            if p >= last_year_from {
                totals.1 += r.amount;
            }
        }
        if !by_territory.is_empty() {
            per.push((sales[run[0]].account.as_str(), by_territory, totals));
        }
    }
    let mut multi = 0usize;
    let mut example = None;
    for &(id, ref by_territory, (total, last_year)) in &per {
        if let Some(&j) = by_id.get(id) {
            accounts[j].revenue_total = total;
            accounts[j].revenue_last_year = last_year;
            continue;
        }
        let (&best, _) = by_territory
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
            .expect("at least one territory");
        if by_territory.len() > 1 {
            multi += 1;
            example.get_or_insert_with(|| (id.to_string(), by_territory.len(), best));
        }
        by_id.insert(id.to_string(), accounts.len());
        accounts.push(Account {
            id: id.to_string(),
            territory: best,
            potential: None,
            workload: None,
            lat: None,
            lon: None,
            locked: false,
            revenue_total: total,
            revenue_last_year: last_year,
        });
    }
    if let Some((id, n, best)) = example {
        let name = index
            .iter()
            .find(|(_, &v)| v == best)
            .map(|(k, _)| k.clone())
            .unwrap_or_default();
        report.warnings.push(format!(
            "{multi} account(s) sold in several territories and were given the territory with most of their revenue (e.g. '{id}': {n} territories, given '{name}')"
        ));
    }
    Ok(accounts)
}

fn build_reps(
    t: &TextTable,
    index: &HashMap<String, usize>,
    parser: &DateParser,
) -> Result<Vec<Rep>> {
    let mut reps = Vec::with_capacity(t.len());
    for i in 0..t.len() {
        let fte = t.number("fte", i)?.unwrap_or(1.0);
        if !(0.0..=10.0).contains(&fte) {
            return Err(t.error(
                "fte",
                i,
                format!("found {fte}, expected a share of a full-time rep in [0, 10]"),
            ));
        }
        let ramp_months = t.number("ramp_months", i)?.unwrap_or(0.0);
        if ramp_months < 0.0 {
            return Err(t.error(
                "ramp_months",
                i,
                format!("found {ramp_months}, expected 0 or more months"),
            ));
        }
        let start_date = t.date("start_date", i, parser)?;
        let end_date = t.date("end_date", i, parser)?;
        let backfill_date = t.date("backfill_date", i, parser)?;
        // Dates out of order are a typing slip the capacity model would
        // read as a rep who never worked (a helper's probe, session 30).
        if let (Some(start), Some(end)) = (start_date, end_date) {
            if end < start {
                return Err(t.error(
                    "end_date",
                    i,
                    format!("found {end}, expected a date on or after the start_date {start}"),
                ));
            }
        }
        if let (Some(end), Some(backfill)) = (end_date, backfill_date) {
            if backfill < end {
                return Err(t.error(
                    "backfill_date",
                    i,
                    format!("found {backfill}, expected a date on or after the end_date {end}"),
                ));
            }
        }
        reps.push(Rep {
            id: t.required("rep", i)?.to_string(),
            territory: index[t.required("territory", i)?],
            start_date,
            end_date,
            backfill_date,
            ramp_months,
            fte,
        });
    }
    Ok(reps)
}

fn build_pipeline(
    t: &TextTable,
    key: &str,
    index: &HashMap<String, usize>,
    territory_of_key: &dyn Fn(&str) -> Option<String>,
    parser: &DateParser,
    currency: &str,
    report: &mut LoadReport,
) -> Result<Vec<Opportunity>> {
    let amounts = t.amounts("amount", currency)?;
    let mut out = Vec::with_capacity(t.len());
    let mut unknown = 0usize;
    for (i, &amount) in amounts.iter().enumerate() {
        let k = t.required(key, i)?;
        let Some(ti) = territory_of_key(k).and_then(|n| index.get(&n).copied()) else {
            unknown += 1;
            continue;
        };
        let win_probability = t.number("win_probability", i)?;
        if let Some(p) = win_probability {
            if !(0.0..=1.0).contains(&p) {
                return Err(t.error(
                    "win_probability",
                    i,
                    format!("found {p}, expected a probability in [0, 1]"),
                ));
            }
        }
        out.push(Opportunity {
            id: t.required("opportunity", i)?.to_string(),
            territory: ti,
            amount,
            close_date: t.date("close_date", i, parser)?,
            stage: t.text("stage", i).map(str::to_string),
            win_probability,
            account: t.text("account", i).map(str::to_string),
            created: t.date("created", i, parser)?,
        });
    }
    if unknown > 0 {
        report.warnings.push(format!(
            "{unknown} pipeline row(s) name a {key} with no territory and are skipped"
        ));
    }
    let no_amount = out.iter().filter(|o| o.amount.is_none()).count();
    let no_close = out.iter().filter(|o| o.close_date.is_none()).count();
    if no_amount + no_close > 0 {
        report.warnings.push(format!(
            "{} open opportunities: {no_amount} without an amount, {no_close} without a close date (imputed in the simulation, see the pipeline note)",
            out.len()
        ));
    }
    Ok(out)
}

/// Rows of a pipeline table per territory and stage (lower case); rows
/// without a stage or a known territory are not counted.
fn stage_counts(
    t: &TextTable,
    key: &str,
    index: &HashMap<String, usize>,
    territory_of_key: &dyn Fn(&str) -> Option<String>,
) -> Vec<BTreeMap<String, usize>> {
    let mut out = vec![BTreeMap::new(); index.len()];
    for i in 0..t.len() {
        let (Some(k), Some(stage)) = (t.text(key, i), t.text("stage", i)) else {
            continue;
        };
        if let Some(ti) = territory_of_key(k).and_then(|n| index.get(&n).copied()) {
            *out[ti].entry(stage.to_lowercase()).or_insert(0) += 1;
        }
    }
    out
}

/// Days from `created` to `close_date` of the rows that have both and a
/// stage, with the stage (lower case).
fn cycles(t: &TextTable, parser: &DateParser) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for i in 0..t.len() {
        let Some(stage) = t.text("stage", i) else {
            continue;
        };
        if let (Some(created), Some(close)) = (
            t.date("created", i, parser)?,
            t.date("close_date", i, parser)?,
        ) {
            out.push((stage.to_lowercase(), (close - created).num_days()));
        }
    }
    Ok(out)
}

/// Order names so that "T-2" comes before "T-10".
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn split(s: &str) -> Vec<(bool, &str)> {
        let mut parts = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                parts.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        parts
    }
    let (pa, pb) = (split(a), split(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x.0, y.0) {
            (true, true) => {
                let (xt, yt) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                xt.len().cmp(&yt.len()).then(xt.cmp(yt))
            }
            _ => x.1.cmp(y.1),
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len()).then(a.cmp(b))
}

/// "1 territory has" or "n territories have", for the warnings.
fn territories_have(n: usize) -> String {
    crate::format::count(n, "territory has", "territories have")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::PeriodKind;

    #[test]
    fn natural_order() {
        let mut v = vec!["T-10", "T-2", "T-1", "A"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, vec!["A", "T-1", "T-2", "T-10"]);
    }

    #[test]
    fn months_no_territory_sold_in_are_named_once_not_as_every_gap() {
        // Two territories closed November-February of two years (one of
        // them also empty in one May of its own), and nothing sold by
        // anyone before the first sale or after the last: the closed
        // months are one warning naming them, the territory's own May its
        // only gap. Before session 19 each territory listed the company's
        // closed months as its own gaps (T0 (4), T1 (5)).
        let open = |m: usize| !matches!(m % 12, 10 | 11 | 0 | 1);
        let series = |gap: Option<usize>| -> Vec<f64> {
            (0..24)
                .map(|p| {
                    if open(p + 2) && Some(p) != gap {
                        100.0
                    } else {
                        0.0
                    }
                })
                .collect()
        };
        let names = vec!["T0".to_string(), "T1".to_string()];
        let revenue = vec![series(None), series(Some(14))];
        let mut report = LoadReport::default();
        let start = |p: usize| format!("month {p}");
        diagnose(&names, &revenue, 12, &start, &mut report);
        let warnings_with = |text: &str| -> Vec<&String> {
            report
                .warnings
                .iter()
                .filter(|w| w.contains(text))
                .collect()
        };
        let closed = warnings_with("no territory sold anything");
        assert_eq!(closed.len(), 1, "{:?}", report.warnings);
        assert!(
            closed[0]
                .ends_with("in 4 periods (kept as zeros): month 8, month 9, month 10, month 11"),
            "{}",
            closed[0]
        );
        let gaps = warnings_with("without sales inside their active span");
        assert_eq!(gaps.len(), 1, "{:?}", report.warnings);
        assert!(gaps[0].ends_with(": T1 (1)"), "{}", gaps[0]);
    }

    #[test]
    fn accounts_from_sales_do_not_depend_on_the_rows_order() {
        // `load_sales` gives the account-day rows in account order, and
        // each account's rows are then summed as one run; rows in another
        // order must give the same accounts, totals to the bit.
        let cal = Calendar::new(PeriodKind::Month, 1);
        let index: HashMap<String, usize> = [("T0".to_string(), 0), ("T1".to_string(), 1)].into();
        let row = |account: &str, key: &str, month: u32, amount: f64| sales::AccountDay {
            account: account.to_string(),
            key: key.to_string(),
            date: NaiveDate::from_ymd_opt(2024, month, 1).unwrap(),
            amount,
        };
        let shuffled = vec![
            row("b", "T1", 1, 0.1),
            row("a", "T0", 2, 0.2),
            row("b", "T0", 3, 0.7),
            row("c", "TX", 4, 9.0),
            row("a", "T1", 5, 0.3),
            row("b", "T1", 12, 0.2),
            row("a", "T0", 11, 0.1),
        ];
        let mut sorted = shuffled.clone();
        sorted.sort_by(|x, y| x.account.cmp(&y.account));
        let period = |m: u32| cal.period_of(NaiveDate::from_ymd_opt(2024, m, 1).unwrap());
        let accounts = |rows: &[sales::AccountDay]| {
            let known = |k: &str| index.contains_key(k).then(|| k.to_string());
            build_accounts(
                None,
                &[],
                Some(rows),
                &index,
                &known,
                &cal,
                (period(1), period(12), period(7)),
                &mut LoadReport::default(),
            )
            .unwrap()
        };
        let (a, b) = (accounts(&shuffled), accounts(&sorted));
        assert_eq!(a, b);
        // "c" sold only in a territory that is not in the index.
        let ids: Vec<&str> = a.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        // b: 0.1 + 0.2 in T1, 0.7 in T0, so T0; of its year from July,
        // only December's 0.2.
        assert_eq!((a[1].territory, a[1].revenue_last_year), (0, 0.2));
    }

    #[test]
    fn edge_periods_partly_covered_are_dropped() {
        let cal = Calendar::new(PeriodKind::Month, 1);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut dates = BTreeSet::new();
        let mut x = d("2020-01-15");
        while x <= d("2020-06-10") {
            dates.insert(x);
            x += chrono::Duration::days(1);
        }
        let (p0, p1, dropped) = complete_periods(&cal, &dates);
        assert_eq!(cal.start_of(p0), d("2020-02-01"));
        assert_eq!(cal.start_of(p1), d("2020-05-01"));
        assert_eq!(dropped.len(), 2);
    }

    #[test]
    fn period_totals_stamped_once_a_period_are_all_complete() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // The first and last complete periods' starts, and how many were
        // dropped.
        let read = |cal: &Calendar, dates: &BTreeSet<NaiveDate>| {
            let (p0, p1, dropped) = complete_periods(cal, dates);
            (cal.start_of(p0), cal.start_of(p1), dropped.len())
        };
        // Quarters on their first day, ending on a 92-day quarter: the
        // median spacing (91 days) is a day short of its length, and the
        // spacing rule dropped it.
        let quarters = Calendar::new(PeriodKind::Quarter, 1);
        let starts: BTreeSet<NaiveDate> = (2000..2010)
            .flat_map(|y| ["01", "04", "07", "10"].map(|m| d(&format!("{y}-{m}-01"))))
            .collect();
        assert_eq!(
            read(&quarters, &starts),
            (d("2000-01-01"), d("2009-10-01"), 0)
        );
        // Months on their last day: January's stamp is 30 days into it.
        let months = Calendar::new(PeriodKind::Month, 1);
        let ends: BTreeSet<NaiveDate> = (1..=12)
            .map(|m| months.end_of(months.period_of(d(&format!("2020-{m:02}-01")))))
            .collect();
        assert_eq!(read(&months, &ends), (d("2020-01-01"), d("2020-12-01"), 0));
        // Once a month, but not on a period's edge: transactions, whose
        // edge months may be partial (the spacing rule, 22 days of
        // tolerance here: January's first sale on the 25th drops it), and
        // so is a single date.
        let sparse: BTreeSet<NaiveDate> = ["2023-01-25", "2023-02-10", "2023-03-05", "2023-04-20"]
            .map(d)
            .into();
        assert_eq!(
            read(&months, &sparse),
            (d("2023-02-01"), d("2023-04-01"), 1)
        );
        let one: BTreeSet<NaiveDate> = [d("2023-03-01")].into();
        let (p0, p1, _) = complete_periods(&months, &one);
        assert!(p1 < p0, "a single date is no complete month");
        // Weekly totals in a monthly calendar are not the months' totals:
        // the months the weeks start late in and stop early in are partial.
        let weeks: BTreeSet<NaiveDate> = (0..19)
            .map(|k| d("2020-01-13") + chrono::Duration::days(7 * k))
            .collect();
        assert_eq!(read(&months, &weeks), (d("2020-02-01"), d("2020-04-01"), 2));
    }
}
