//! The sales table: read, reject or count bad rows, and aggregate with
//! polars to one row per (key, date), where the key is the territory or the
//! rep (`territory_from = "rep"`). Deal and account roll-ups are aggregated
//! the same way when those columns are mapped.
//!
//! Row-level work (casting, masks, filters, the (key, date) group-by) stays
//! in polars; the account, deal and rep roll-ups, grouped by two or three
//! text columns each, are summed in `groups`, where they cost a fraction of
//! polars' group-by and sort on strings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use super::amount::{currency_clash, expected_money, money, Money};
use super::dates::DateParser;
use super::source::{read_table, Wanted, ROW};
use crate::error::{Error, Result};
use crate::history::TableReport;
use crate::scenario::{BadRows, DataSpec, TableSpec, TerritoryFrom};

/// Revenue of one key on one date.
#[derive(Debug, Clone)]
pub struct KeyDay {
    pub key: String,
    pub date: NaiveDate,
    pub amount: f64,
}

/// One account's revenue with one key on one date.
#[derive(Debug, Clone)]
pub struct AccountDay {
    pub account: String,
    pub key: String,
    pub date: NaiveDate,
    pub amount: f64,
}

/// One deal (order lines summed) of one key: its first date and amount.
pub type Deal = KeyDay;

/// The sales table after validation and aggregation.
#[derive(Debug, Default)]
pub struct SalesAggregates {
    pub by_key_day: Vec<KeyDay>,
    pub by_account_day: Option<Vec<AccountDay>>,
    /// Revenue by rep and day, when a `rep` column is mapped beside the
    /// territory.
    pub by_rep_day: Option<Vec<KeyDay>>,
    pub deals: Option<Vec<Deal>>,
    /// The region most rows of each key carry, when a region column is mapped.
    pub region_of_key: BTreeMap<String, String>,
    /// Optional model columns the file has under their own names that the
    /// scenario does not map (so not read), with the file's spelling.
    pub unmapped: Vec<(&'static str, String)>,
    pub report: TableReport,
    /// The sheet read, when the sales table is a workbook.
    pub sheet: Option<String>,
}

fn pe(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::data(path, format!("{e}"))
}

/// Column `name` of an aggregated frame as text.
fn text_column<'a>(g: &'a DataFrame, name: &str, path: &Path) -> Result<&'a StringChunked> {
    g.column(name).map_err(pe(path))?.str().map_err(pe(path))
}

/// Column `name` of an aggregated frame as numbers.
fn number_column<'a>(g: &'a DataFrame, name: &str, path: &Path) -> Result<&'a Float64Chunked> {
    g.column(name).map_err(pe(path))?.f64().map_err(pe(path))
}

/// Warn of key names that differ only by surrounding spaces (`T-A` and
/// `T-A `): they are kept apart, as written, which is rarely meant.
pub fn warn_of_names_differing_by_spaces(rows: &[KeyDay], key: &str, warnings: &mut Vec<String>) {
    let mut by_trimmed: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in rows {
        by_trimmed
            .entry(r.key.trim())
            .or_default()
            .insert(r.key.as_str());
    }
    for names in by_trimmed.values().filter(|n| n.len() > 1) {
        let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        warnings.push(format!(
            "{key} names {} differ only by surrounding spaces: they are kept apart; remove the spaces in the sales table if they are one",
            quoted.join(" and ")
        ));
    }
}

/// The sales key column: territory or rep.
pub fn key_column(data: &DataSpec) -> &'static str {
    match data.territory_from {
        TerritoryFrom::Column => "territory",
        TerritoryFrom::Rep => "rep",
    }
}

/// Amounts are summed exactly, in integer units of 1/`AMOUNT_SCALE`
/// (hash aggregation adds in an order that depends on threads; integer
/// sums do not), so the same data gives the same totals on any machine.
const AMOUNT_SCALE: f64 = 1e4;

/// Each row's amount in integer units of 1/`AMOUNT_SCALE` (null where the
/// amount is not finite): computed once per row, before any grouping.
fn amount_units() -> Expr {
    let scaled = col("__amt") * lit(AMOUNT_SCALE);
    // Round half away from zero (the cast truncates toward zero).
    when(scaled.clone().gt_eq(lit(0.0)))
        .then(scaled.clone() + lit(0.5))
        .otherwise(scaled - lit(0.5))
        .cast(DataType::Int64)
        .alias("__units")
}

/// The largest |amount| of one row: its units (1/`AMOUNT_SCALE`) fit a
/// 64-bit integer with room to spare; a larger amount is a bad row.
const MAX_AMOUNT: f64 = 9e14;

/// Units are summed in two 64-bit limbs, high (units >> 32) and low (the
/// remaining 32 bits), so that no group sum can wrap however many rows it
/// adds: each limb's sum stays far inside 64 bits for billions of rows.
const LIMB: i64 = 1 << 32;

/// `df` with each row's units split into the limbs `__hi` (units div
/// `LIMB`, rounded down) and `__lo` (the rest, from 0 to `LIMB` - 1).
fn with_limbs(mut df: DataFrame, path: &Path) -> Result<DataFrame> {
    let units = df
        .column("__units")
        .map_err(pe(path))?
        .i64()
        .map_err(pe(path))?;
    let hi: Int64Chunked = units
        .iter()
        .map(|u| u.map(|u| u.div_euclid(LIMB)))
        .collect();
    let lo: Int64Chunked = units
        .iter()
        .map(|u| u.map(|u| u.rem_euclid(LIMB)))
        .collect();
    df.with_column(hi.with_name("__hi".into()).into_column())
        .map_err(pe(path))?;
    df.with_column(lo.with_name("__lo".into()).into_column())
        .map_err(pe(path))?;
    Ok(df)
}

/// The group sums of the amounts' two limbs (`__hi`, `__lo`), plain integer
/// sums (polars' fast aggregation path); [`with_exact_amount`] joins them.
fn exact_amount_sums() -> [Expr; 2] {
    [
        col("__hi").sum().alias("__hi"),
        col("__lo").sum().alias("__lo"),
    ]
}

/// `g` with an `amount` column: each group's exact sum from its limbs
/// (joined as 128-bit integers), as a float.
fn with_exact_amount(mut g: DataFrame, path: &Path) -> Result<DataFrame> {
    let limb = |name: &str| -> Result<Vec<Option<i64>>> {
        Ok(g.column(name)
            .map_err(pe(path))?
            .cast(&DataType::Int64)
            .map_err(pe(path))?
            .i64()
            .map_err(pe(path))?
            .iter()
            .collect())
    };
    let (hi, lo) = (limb("__hi")?, limb("__lo")?);
    let amount: Float64Chunked = hi
        .iter()
        .zip(&lo)
        .map(|(h, l)| {
            let units = i128::from(h.unwrap_or(0)) * i128::from(LIMB) + i128::from(l.unwrap_or(0));
            Some(units as f64 / AMOUNT_SCALE)
        })
        .collect();
    g.with_column(amount.with_name("amount".into()).into_column())
        .map_err(pe(path))?;
    Ok(g)
}

/// Which roll-ups the scenario's columns ask for.
struct RollUps {
    accounts: bool,
    deals: bool,
    reps: bool,
}

/// The roll-ups asked for.
struct RolledUp {
    accounts: Option<Vec<AccountDay>>,
    deals: Option<Vec<Deal>>,
    reps: Option<Vec<KeyDay>>,
}

/// The account, deal and rep roll-ups of the checked rows `df`
/// (`groups`): each row's texts, its date text (read through `dates`)
/// and its amount in exact units. The rows' texts are cast only when a
/// roll-up is asked for.
fn roll_ups(
    df: &DataFrame,
    key: &str,
    asked: RollUps,
    dates: &HashMap<String, Option<NaiveDate>>,
    path: &Path,
) -> Result<RolledUp> {
    if !(asked.accounts || asked.deals || asked.reps) {
        return Ok(RolledUp {
            accounts: None,
            deals: None,
            reps: None,
        });
    }
    let text_of = |name: &str| -> Result<StringChunked> {
        Ok(df
            .column(name)
            .map_err(pe(path))?
            .cast(&DataType::String)
            .map_err(pe(path))?
            .str()
            .map_err(pe(path))?
            .clone())
    };
    let units = df
        .column("__units")
        .map_err(pe(path))?
        .i64()
        .map_err(pe(path))?
        .clone();
    let row_dates = text_of("date")?;
    let keys_text = text_of(key)?;
    let amount_of = |units: i128| units as f64 / AMOUNT_SCALE;
    let accounts = if asked.accounts {
        let accounts = text_of("account")?;
        Some(
            roll_up(&[&accounts, &keys_text, &row_dates], &row_dates, &units)
                .into_iter()
                .filter_map(|g| {
                    Some(AccountDay {
                        account: g.texts[0].to_string(),
                        key: g.texts[1].to_string(),
                        date: (*dates.get(g.texts[2])?)?,
                        amount: amount_of(g.units),
                    })
                })
                .collect(),
        )
    } else {
        None
    };
    // Groups led by a key-like text, each on its first date: a deal's date
    // is its first line's (the smallest date text); a rep's day is its own.
    let key_days = |groups: Vec<super::groups::Group>| -> Vec<KeyDay> {
        groups
            .into_iter()
            .filter_map(|g| {
                Some(KeyDay {
                    key: g.texts[0].to_string(),
                    date: (*dates.get(g.first_date)?)?,
                    amount: amount_of(g.units),
                })
            })
            .collect()
    };
    let deals = if asked.deals {
        let deal_ids = text_of("deal")?;
        Some(key_days(roll_up(
            &[&keys_text, &deal_ids],
            &row_dates,
            &units,
        )))
    } else {
        None
    };
    // Each rep's revenue by day, when the rows carry a rep beside their
    // territory (with `territory_from = "rep"` the key is the rep already).
    let reps = if asked.reps {
        let reps = text_of("rep")?;
        Some(key_days(roll_up(&[&reps, &row_dates], &row_dates, &units)))
    } else {
        None
    };
    Ok(RolledUp {
        accounts,
        deals,
        reps,
    })
}

/// The rows grouped by the texts `by`, with their date texts and units
/// (`groups::group`).
fn roll_up<'a>(
    by: &[&'a StringChunked],
    dates: &'a StringChunked,
    units: &'a Int64Chunked,
) -> Vec<super::groups::Group<'a>> {
    super::groups::group(
        by.iter()
            .map(|c| Box::new(c.iter()) as Box<dyn Iterator<Item = Option<&str>>>)
            .collect(),
        dates.iter(),
        units.iter(),
    )
}

/// Read and aggregate the sales table, its dates read by `parser`.
///
/// # Errors
/// `Error::Data` naming file, line and column for the first unusable row
/// (unless `on_bad_rows = "skip"`), or any problem of [`read_table`].
pub fn load_sales(data: &DataSpec, parser: &DateParser) -> Result<SalesAggregates> {
    let spec = &data.sales;
    let path = spec.path.as_path();
    let key = key_column(data);
    let mut wanted = vec![
        want(spec, "date", true),
        want(spec, key, true),
        want(spec, "amount", true),
    ];
    // Optional columns (account, region, deal, rep) are read only when the
    // scenario maps them: their roll-ups by account and by deal cost far
    // more than the monthly series on large files (`validate` on 10
    // million rows: 19.6 s with them, 4.2 s without), so a file is not
    // charged for columns the
    // scenario does not ask for. A mapped column that is missing is an
    // error in `read_table`; a file column already read as another model
    // column (say `territory = "region"`) is not read twice.
    for optional in ["account", "region", "deal", "rep"] {
        let w = want(spec, optional, false);
        if optional != key
            && spec.column(optional).is_some()
            && wanted.iter().all(|u| u.file != w.file)
        {
            wanted.push(w);
        }
    }
    let extra: Vec<String> = spec.filter.keys().cloned().collect();
    let table = read_table(
        path,
        &spec.key,
        data.encoding,
        spec.sheet.as_deref(),
        &wanted,
        &extra,
    )?;
    let sheet = table.sheet.clone();
    // A column the file names as the model does (`Region`, `account`)
    // that the scenario does not map is not read; said, since every
    // territory then sits in one region (a reviewer's scenario without
    // `[data.columns]`, session 31).
    let used: Vec<&str> = wanted.iter().map(|w| w.file.as_str()).collect();
    let unmapped: Vec<(&'static str, String)> = ["region", "account", "deal", "rep"]
        .into_iter()
        .filter(|&model| model != key && spec.column(model).is_none())
        .filter_map(|model| {
            table
                .header
                .iter()
                .find(|h| h.eq_ignore_ascii_case(model) && !used.contains(&h.as_str()))
                .map(|h| (model, h.clone()))
        })
        .collect();
    let mut sales = aggregate(
        data,
        table.frame,
        &table.present,
        table.decimal_comma,
        parser,
    )
    .map_err(|e| e.in_sheet(sheet.as_deref()))?;
    sales.report.sheet.clone_from(&sheet);
    sales.sheet = sheet;
    sales.unmapped = unmapped;
    Ok(sales)
}

/// The column of text amounts written as plain decimals.
const PLAIN_AMOUNTS: &str = "__amount_plain";

/// `df` with its text amounts (money as a spreadsheet formats it,
/// `$1,234.50`, or decimal commas, `1234,56`) copied to [`PLAIN_AMOUNTS`]
/// as [`money`] reads them under the file's convention (`decimal_comma`;
/// missing where it refuses one: a bad amount, still quoted as the file
/// writes it). Amounts that cannot be added in the scenario's `currency`
/// (two currencies, or an ISO code that is not it) are an error at the
/// first (`column`: the file's name of the amount column).
fn with_plain_amounts(
    mut df: DataFrame,
    path: &Path,
    column: &str,
    decimal_comma: bool,
    currency: &str,
) -> Result<DataFrame> {
    let texts = df
        .column("amount")
        .map_err(pe(path))?
        .str()
        .map_err(pe(path))?;
    let lines = df
        .column(ROW)
        .and_then(|c| c.cast(&DataType::Int64))
        .map_err(pe(path))?;
    let lines = lines.i64().map_err(pe(path))?;
    // Each cell read once: its currency checked, its plain decimal kept.
    let read: Vec<Option<Money>> = texts
        .iter()
        .map(|v| v.and_then(|v| money(v, decimal_comma)))
        .collect();
    let cells = texts
        .iter()
        .zip(lines.iter())
        .zip(&read)
        .filter_map(|((text, line), m)| {
            Some((line.unwrap_or(0) as usize, text?, m.as_ref()?.currency?))
        });
    if let Some(clash) = currency_clash(cells, currency) {
        return Err(Error::cell(
            path,
            clash.row(),
            column,
            clash.message(|line| format!("line {line}"), currency),
        ));
    }
    let plain: StringChunked = read.into_iter().map(|m| m.map(|m| m.plain)).collect();
    df.with_column(plain.with_name(PLAIN_AMOUNTS.into()).into_column())
        .map_err(pe(path))?;
    Ok(df)
}

/// Check, count and aggregate the rows of the sales frame `df` (as
/// [`read_table`] gives it, `present` its optional columns; amounts with
/// a `decimal_comma` where the file writes them so).
fn aggregate(
    data: &DataSpec,
    df: DataFrame,
    present: &[String],
    decimal_comma: bool,
    parser: &DateParser,
) -> Result<SalesAggregates> {
    let spec = &data.sales;
    let path = spec.path.as_path();
    let key = key_column(data);
    let has = |c: &str| present.iter().any(|p| p == c);
    let rows_read = df.height();

    let df = apply_filter(df, &spec.filter).map_err(pe(path))?;
    let rows_filtered_out = rows_read - df.height();
    if df.height() == 0 {
        return Err(Error::data(
            path,
            format!("no rows left after data.filter (read {rows_read} rows)"),
        ));
    }

    let amount_text = matches!(
        df.column("amount").map_err(pe(path))?.dtype(),
        DataType::String
    );
    // Text amounts (polars reads a column of plain numbers as numbers)
    // are read from a plain copy, and a bad one is still quoted as the
    // file writes it.
    let df = if amount_text {
        with_plain_amounts(
            df,
            path,
            spec.column("amount").unwrap_or("amount"),
            decimal_comma,
            &data.currency,
        )?
    } else {
        df
    };
    let amount_expr = if amount_text {
        col(PLAIN_AMOUNTS).cast(DataType::Float64)
    } else {
        col("amount").cast(DataType::Float64)
    };
    // A key of only spaces is as missing as an empty one.
    let key_text = matches!(df.column(key).map_err(pe(path))?.dtype(), DataType::String);
    let bad_key = if key_text {
        col(key).is_null().or(col(key)
            .str()
            .strip_chars(lit(NULL))
            .str()
            .len_chars()
            .eq(lit(0)))
    } else {
        col(key).is_null()
    };
    let df = df
        .lazy()
        .with_columns([amount_expr.alias("__amt")])
        .with_columns([
            bad_key.alias("__bad_key"),
            col("date").is_null().alias("__bad_date"),
            col("__amt")
                .is_null()
                .or(col("__amt").is_finite().not())
                .alias("__bad_amount"),
            col("__amt")
                .gt_eq(lit(MAX_AMOUNT))
                .or(col("__amt").lt_eq(lit(-MAX_AMOUNT)))
                .and(col("__amt").is_finite())
                .fill_null(lit(false))
                .alias("__big_amount"),
            amount_units(),
        ])
        .collect()
        .map_err(pe(path))?;
    let df = with_limbs(df, path)?;

    let checks = [
        (
            "__bad_key",
            key,
            format!("missing {key}; expected a {key} name"),
        ),
        ("__bad_date", "date", "missing date".to_string()),
        (
            "__bad_amount",
            "amount",
            format!("expected {}", expected_money(decimal_comma)),
        ),
        (
            "__big_amount",
            "amount",
            format!("expected an amount below {MAX_AMOUNT:e} in absolute value, the largest summed exactly"),
        ),
    ];
    let mut rejected = BTreeMap::new();
    let mut keep: Option<BooleanChunked> = None;
    for (mask_name, column, message) in &checks {
        let mask = df
            .column(mask_name)
            .map_err(pe(path))?
            .bool()
            .map_err(pe(path))?
            .clone();
        let count = mask.sum().unwrap_or(0) as usize;
        if count == 0 {
            continue;
        }
        match data.on_bad_rows {
            BadRows::Error => {
                let idx = mask.iter().position(|v| v == Some(true)).unwrap_or(0);
                let found = cell_text(
                    &df,
                    spec.column(column).map(|_| *column).unwrap_or(column),
                    idx,
                );
                let row = df
                    .column(ROW)
                    .map_err(pe(path))?
                    .get(idx)
                    .map_err(pe(path))?;
                let line = row.extract::<usize>().unwrap_or(idx + 2);
                return Err(Error::cell(
                    path,
                    line,
                    spec.column(column).unwrap_or(column),
                    format!(
                        "found '{found}', {message} ({}; set data.on_bad_rows = \"skip\" to skip them)",
                        crate::format::count(count, "such row", "such rows")
                    ),
                ));
            }
            BadRows::Skip => {
                // Missing and too-large amounts share a reason: add them.
                *rejected.entry(format!("bad {column}")).or_insert(0) += count;
                let not = !&mask;
                keep = Some(match keep {
                    None => not,
                    Some(k) => &k & &not,
                });
            }
        }
    }
    let before_checks = df.height();
    let df = match keep {
        Some(k) => df.filter(&k).map_err(pe(path))?,
        None => df,
    };
    // Rows dropped by the checks, each once (a row can fail several: its
    // reasons above overlap).
    let mut rows_rejected = before_checks - df.height();

    let lf = df.clone().lazy();
    let date_text = col("date").cast(DataType::String).alias("date");
    let by_day = lf
        .clone()
        .group_by([col(key), date_text.clone()])
        .agg([
            exact_amount_sums()[0].clone(),
            exact_amount_sums()[1].clone(),
            len().cast(DataType::Int64).alias("lines"),
        ])
        .collect()
        .map_err(pe(path))?;
    let by_day = with_exact_amount(by_day, path)?;

    // Parse each distinct date string once.
    let mut dates: HashMap<String, Option<NaiveDate>> = HashMap::new();
    let date_col = text_column(&by_day, "date", path)?.clone();
    for s in date_col.iter().flatten() {
        if !dates.contains_key(s) {
            dates.insert(s.to_string(), parser.parse(s));
        }
    }
    let mut bad_dates: Vec<&String> = dates
        .iter()
        .filter(|(_, d)| d.is_none())
        .map(|(s, _)| s)
        .collect();
    bad_dates.sort();
    if let Some(first_bad) = bad_dates.first() {
        if data.on_bad_rows == BadRows::Error {
            let raw = df
                .column("date")
                .map_err(pe(path))?
                .cast(&DataType::String)
                .map_err(pe(path))?;
            let raw = raw.str().map_err(pe(path))?;
            let (idx, s) = raw
                .iter()
                .enumerate()
                .find_map(|(i, v)| {
                    v.filter(|v| dates.get(*v) == Some(&None))
                        .map(|v| (i, v.to_string()))
                })
                .unwrap_or((0, (*first_bad).clone()));
            let row = df
                .column(ROW)
                .map_err(pe(path))?
                .get(idx)
                .map_err(pe(path))?;
            let line = row.extract::<usize>().unwrap_or(idx + 2);
            return Err(Error::cell(
                path,
                line,
                spec.column("date").unwrap_or("date"),
                format!(
                    "found '{s}', expected a date in {} ({} unreadable dates)",
                    parser.describe(),
                    crate::format::count(count_rows_with(&by_day, &dates), "row has", "rows have")
                ),
            ));
        }
        let bad_dates = count_rows_with(&by_day, &dates);
        *rejected.entry("bad date".into()).or_insert(0) += bad_dates;
        rows_rejected += bad_dates;
    }

    let keys = by_day
        .column(key)
        .map_err(pe(path))?
        .cast(&DataType::String)
        .map_err(pe(path))?;
    let keys = keys.str().map_err(pe(path))?;
    let amounts = number_column(&by_day, "amount", path)?;
    // The groups come in no particular order: put them in (key, date
    // string) order, as sorting the frame by both would (each key's
    // amounts are later added in this order). Sorting integer ranks of
    // the few distinct keys and dates is far cheaper than sorting a
    // million rows by two string columns.
    let (key_names, key_rank) = super::groups::ranks(keys.iter().flatten());
    let (date_names, date_rank) = super::groups::ranks(date_col.iter().flatten());
    let date_of_rank: Vec<Option<NaiveDate>> = date_names.iter().map(|d| dates[*d]).collect();
    let mut order: Vec<(u64, f64)> = keys
        .iter()
        .zip(date_col.iter())
        .zip(amounts.iter())
        .filter_map(|((k, d), a)| {
            let rank = (u64::from(key_rank[k?]) << 32) | u64::from(date_rank[d?]);
            Some((rank, a?))
        })
        .collect();
    // Every (key, date) is one group: the ranks are distinct.
    order.sort_unstable_by_key(|o| o.0);
    let mut by_key_day = Vec::with_capacity(order.len());
    for &(rank, amount) in &order {
        if let Some(date) = date_of_rank[(rank & 0xFFFF_FFFF) as usize] {
            by_key_day.push(KeyDay {
                key: key_names[(rank >> 32) as usize].to_string(),
                date,
                amount,
            });
        }
    }

    let rolled = roll_ups(
        &df,
        key,
        RollUps {
            accounts: has("account"),
            deals: has("deal"),
            reps: has("rep") && key != "rep",
        },
        &dates,
        path,
    )?;

    let mut region_of_key = BTreeMap::new();
    if has("region") {
        let g = lf
            .filter(col("region").is_not_null())
            .group_by([
                col(key).cast(DataType::String),
                col("region").cast(DataType::String),
            ])
            .agg([len().cast(DataType::Int64).alias("n")])
            .collect()
            .map_err(pe(path))?;
        let k = text_column(&g, key, path)?;
        let r = text_column(&g, "region", path)?;
        let n = g.column("n").map_err(pe(path))?.i64().map_err(pe(path))?;
        let mut best: BTreeMap<String, (i64, String)> = BTreeMap::new();
        for ((k, r), n) in k.iter().zip(r.iter()).zip(n.iter()) {
            if let (Some(k), Some(r), Some(n)) = (k, r, n) {
                let e = best.entry(k.to_string()).or_insert((0, String::new()));
                if n > e.0 || (n == e.0 && r < e.1.as_str()) {
                    *e = (n, r.to_string());
                }
            }
        }
        region_of_key = best.into_iter().map(|(k, (_, r))| (k, r)).collect();
    }

    Ok(SalesAggregates {
        by_key_day,
        by_account_day: rolled.accounts,
        by_rep_day: rolled.reps,
        deals: rolled.deals,
        region_of_key,
        unmapped: Vec::new(),
        report: TableReport {
            table: "sales".into(),
            path: path.display().to_string(),
            sheet: None,
            rows_read,
            rows_filtered_out,
            rows_used: rows_read - rows_filtered_out - rows_rejected,
            rejected,
        },
        sheet: None,
    })
}

fn count_rows_with(by_day: &DataFrame, dates: &HashMap<String, Option<NaiveDate>>) -> usize {
    let (Ok(d), Ok(n)) = (by_day.column("date"), by_day.column("lines")) else {
        return 0;
    };
    let (Ok(d), Ok(n)) = (d.str(), n.i64()) else {
        return 0;
    };
    d.iter()
        .zip(n.iter())
        .filter(|(d, _)| d.map(|d| dates.get(d) == Some(&None)).unwrap_or(false))
        .map(|(_, n)| n.unwrap_or(0) as usize)
        .sum()
}

fn want(spec: &TableSpec, model: &str, required: bool) -> Wanted {
    Wanted {
        model: model.to_string(),
        file: spec.column(model).unwrap_or(model).to_string(),
        required,
    }
}

/// The text of cell (`column`, `idx`) for messages; empty for a missing value.
pub fn cell_text(df: &DataFrame, column: &str, idx: usize) -> String {
    df.column(column)
        .ok()
        .and_then(|c| c.get(idx).ok())
        .map(|v| match v {
            AnyValue::Null => String::new(),
            AnyValue::String(s) => s.to_string(),
            AnyValue::StringOwned(s) => s.to_string(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

/// Keep rows whose filter columns equal one of the listed values.
pub fn apply_filter(
    df: DataFrame,
    filter: &BTreeMap<String, Vec<String>>,
) -> PolarsResult<DataFrame> {
    if filter.is_empty() {
        return Ok(df);
    }
    let mut predicate: Option<Expr> = None;
    for (column, values) in filter {
        let mut any: Option<Expr> = None;
        for v in values {
            let e = col(column.as_str())
                .cast(DataType::String)
                .eq(lit(v.as_str()));
            any = Some(match any {
                None => e,
                Some(a) => a.or(e),
            });
        }
        let any = any.unwrap_or(lit(false)).fill_null(lit(false));
        predicate = Some(match predicate {
            None => any,
            Some(p) => p.and(any),
        });
    }
    match predicate {
        Some(p) => df.lazy().filter(p).collect(),
        None => Ok(df),
    }
}
