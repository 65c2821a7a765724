//! The loaded, validated sales history: what every later stage reads.
//!
//! Plain Rust types, no polars: the loader fills them, fitting and
//! simulation consume them. Series are dense per-territory vectors over the
//! complete periods of the history.

use chrono::NaiveDate;

use crate::cadence::Cadence;
use serde::Serialize;
use std::collections::BTreeMap;

use crate::calendar::Calendar;

/// A sales territory and the region it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Territory {
    pub name: String,
    pub region: String,
}

/// An account (customer) and its current territory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub id: String,
    /// Index into `SalesHistory::territories`.
    pub territory: usize,
    pub potential: Option<f64>,
    pub workload: Option<f64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub locked: bool,
    /// Revenue over the whole history.
    pub revenue_total: f64,
    /// Revenue over the year (one season of periods) before the horizon.
    pub revenue_last_year: f64,
}

/// A sales rep and the capacity they bring to a territory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rep {
    pub id: String,
    pub territory: usize,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub backfill_date: Option<NaiveDate>,
    pub ramp_months: f64,
    pub fte: f64,
}

/// An open opportunity in the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opportunity {
    pub id: String,
    pub territory: usize,
    pub amount: Option<f64>,
    pub close_date: Option<NaiveDate>,
    pub stage: Option<String>,
    pub win_probability: Option<f64>,
    pub account: Option<String>,
    /// When the deal was opened (the optional `created` column).
    pub created: Option<NaiveDate>,
}

/// Limits on a territory's quota from the quotas table's optional
/// `floor`, `cap` and `locked` columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct QuotaLimit {
    pub floor: Option<f64>,
    pub cap: Option<f64>,
    /// The quota is fixed at this value.
    pub locked: Option<f64>,
}

/// What the loader read from one table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableReport {
    pub table: String,
    pub path: String,
    /// The sheet read, when the file is a workbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    pub rows_read: usize,
    pub rows_filtered_out: usize,
    pub rows_used: usize,
    /// Rejected rows by reason (only with `on_bad_rows = "skip"`).
    pub rejected: BTreeMap<String, usize>,
}

impl TableReport {
    /// Where the table was read from: its path, and the sheet of a workbook.
    pub fn source(&self) -> String {
        match &self.sheet {
            Some(sheet) => format!("{} (sheet '{sheet}')", self.path),
            None => self.path.clone(),
        }
    }
}

/// Everything the loader found out about the data, for `validate` and the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    pub tables: Vec<TableReport>,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    /// Period starts dropped because the data covers them only in part.
    pub dropped_periods: Vec<NaiveDate>,
    pub warnings: Vec<String>,
}

/// The sales history, aggregated to the scenario's periods.
#[derive(Debug, Clone)]
pub struct SalesHistory {
    pub calendar: Calendar,
    /// Ordinal of the first complete period; `revenue[i][0]` belongs to it.
    pub first_period: i64,
    pub territories: Vec<Territory>,
    /// Revenue per territory per complete period (zeros where nothing sold).
    pub revenue: Vec<Vec<f64>>,
    /// Deals closed per territory per period, when the sales table names deals.
    pub deal_counts: Option<Vec<Vec<f64>>>,
    /// Sizes of the positive deals per territory, when the sales table names deals.
    pub deal_sizes: Option<Vec<Vec<f64>>>,
    /// Period index of each entry of `deal_sizes` (so a truncated history
    /// keeps only the deals of its periods).
    pub deal_periods: Option<Vec<Vec<usize>>>,
    pub accounts: Vec<Account>,
    pub reps: Vec<Rep>,
    pub pipeline: Vec<Opportunity>,
    /// Rows of the whole pipeline table (before `[data.pipeline_filter]`:
    /// closed deals too) per territory and stage (lower case), for win
    /// rates estimated from won and lost deals.
    pub pipeline_stages: Vec<BTreeMap<String, usize>>,
    /// Days from `created` to `close_date` of the pipeline table's closed
    /// deals that have both, with their stage (lower case): the sales
    /// cycle, for open deals without a close date.
    pub pipeline_cycles: Vec<(String, i64)>,
    /// Last or assigned quota per territory, from a quotas table.
    pub quotas: BTreeMap<usize, f64>,
    /// Quota floors, caps and locks per territory, from the quotas table.
    pub quota_limits: BTreeMap<usize, QuotaLimit>,
    /// The sales dates' fixed reporting cadence, when they have one.
    pub cadence: Option<Cadence>,
    /// Quota per rep, when the quotas table is keyed by rep (its rows are
    /// also added up into `quotas`).
    pub rep_quotas: BTreeMap<String, f64>,
    /// Each rep's revenue by period, when the sales carry a rep (a mapped
    /// `rep` column, or `territory_from = "rep"`); empty otherwise.
    pub rep_revenue: BTreeMap<String, Vec<f64>>,
    /// Each territory's first period with a row in the sales table, of
    /// any amount (zero included), by name; a territory named only in the
    /// accounts or reps table has none. A territory whose rows all sum to
    /// zero has sold nothing over them, where one without rows is new
    /// (`fit`: the one is forecast at zero, the other at its region's
    /// median level).
    pub first_row: BTreeMap<String, usize>,
    pub report: LoadReport,
}

impl SalesHistory {
    /// A history of revenue series only (no accounts, reps, pipeline or
    /// quotas), for tests, benchmarks and callers that aggregate themselves.
    pub fn from_series(
        calendar: Calendar,
        first_period: i64,
        territories: Vec<Territory>,
        revenue: Vec<Vec<f64>>,
    ) -> Self {
        let mut history = Self {
            calendar,
            first_period,
            territories,
            revenue,
            deal_counts: None,
            deal_sizes: None,
            deal_periods: None,
            accounts: Vec::new(),
            reps: Vec::new(),
            pipeline: Vec::new(),
            pipeline_stages: Vec::new(),
            pipeline_cycles: Vec::new(),
            quotas: BTreeMap::new(),
            quota_limits: BTreeMap::new(),
            cadence: None,
            rep_quotas: BTreeMap::new(),
            rep_revenue: BTreeMap::new(),
            first_row: BTreeMap::new(),
            report: LoadReport::default(),
        };
        // Series without rows: a period sold in stands for one.
        history.first_row = history
            .territories
            .iter()
            .zip(&history.revenue)
            .filter_map(|(t, r)| Some((t.name.clone(), r.iter().position(|&v| v != 0.0)?)))
            .collect();
        history
    }

    /// Number of complete periods of history.
    pub fn n_periods(&self) -> usize {
        self.revenue.first().map_or(0, Vec::len)
    }

    /// The start date of each history period.
    pub fn period_starts(&self) -> Vec<NaiveDate> {
        (0..self.n_periods() as i64)
            .map(|i| self.calendar.start_of(self.first_period + i))
            .collect()
    }

    /// Distinct regions in first-seen order of territories.
    pub fn regions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.territories {
            if !out.contains(&t.region) {
                out.push(t.region.clone());
            }
        }
        out
    }

    /// Index of each territory's region in [`SalesHistory::regions`].
    pub fn region_index(&self) -> Vec<usize> {
        let regions = self.regions();
        self.territories
            .iter()
            .map(|t| regions.iter().position(|r| *r == t.region).unwrap_or(0))
            .collect()
    }

    /// Index of the territory called `name`.
    pub fn territory_index(&self, name: &str) -> Option<usize> {
        self.territories.iter().position(|t| t.name == name)
    }

    /// A copy keeping only the first `n` periods (for backtests and in-year reforecasts).
    pub fn truncated(&self, n: usize) -> SalesHistory {
        let mut out = self.clone();
        out.first_row.retain(|_, &mut p| p < n);
        for s in &mut out.revenue {
            s.truncate(n);
        }
        if let Some(c) = &mut out.deal_counts {
            for s in c {
                s.truncate(n);
            }
        }
        if let (Some(sizes), Some(periods)) = (&mut out.deal_sizes, &mut out.deal_periods) {
            for (s, p) in sizes.iter_mut().zip(periods.iter_mut()) {
                let keep: Vec<(f64, usize)> = s
                    .iter()
                    .zip(p.iter())
                    .filter(|(_, &q)| q < n)
                    .map(|(&v, &q)| (v, q))
                    .collect();
                *s = keep.iter().map(|k| k.0).collect();
                *p = keep.iter().map(|k| k.1).collect();
            }
        }
        out
    }
}
