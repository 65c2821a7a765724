//! Scenario files: TOML read into raw `serde` structs (unknown keys are
//! errors), then checked once by [`Scenario::load`] into types the rest of the
//! engine trusts. Every error names the file and the TOML key.
//!
//! This module does no data I/O beyond reading the scenario file itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::calendar::{Calendar, PeriodKind};
use crate::error::{Error, Result};

// ---------------------------------------------------------------- raw TOML

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    seed: Option<u64>,
    currency: Option<String>,
    fiscal_year_start: Option<String>,
    data: RawData,
    forecast: Option<RawForecast>,
    fit: Option<RawFit>,
    #[serde(default)]
    adjustment: Vec<RawAdjustment>,
    quota: Option<RawQuota>,
    territories: Option<RawTerritories>,
    comp: Option<toml::Value>,
    capacity: Option<toml::Value>,
    pipeline: Option<RawPipeline>,
    output: Option<RawOutput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    sales: String,
    accounts: Option<String>,
    reps: Option<String>,
    pipeline: Option<String>,
    quotas: Option<String>,
    date_format: Option<String>,
    encoding: Option<String>,
    on_bad_rows: Option<String>,
    territory_from: Option<String>,
    columns: Option<BTreeMap<String, String>>,
    accounts_columns: Option<BTreeMap<String, String>>,
    reps_columns: Option<BTreeMap<String, String>>,
    pipeline_columns: Option<BTreeMap<String, String>>,
    quotas_columns: Option<BTreeMap<String, String>>,
    filter: Option<BTreeMap<String, Vec<toml::Value>>>,
    pipeline_filter: Option<BTreeMap<String, Vec<toml::Value>>>,
    sales_sheet: Option<String>,
    accounts_sheet: Option<String>,
    reps_sheet: Option<String>,
    pipeline_sheet: Option<String>,
    quotas_sheet: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForecast {
    period: Option<String>,
    start: Option<String>,
    periods: Option<i64>,
    trials: Option<i64>,
    quantiles: Option<Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFit {
    criterion: Option<String>,
    families: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdjustment {
    name: Option<String>,
    from: String,
    to: Option<String>,
    multiplier: Option<RawRange>,
    add: Option<f64>,
    probability: Option<f64>,
    territories: Option<Vec<String>>,
    regions: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawRange {
    Fixed(f64),
    Range([f64; 2]),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuota {
    plan: f64,
    method: Option<String>,
    blend: Option<BTreeMap<String, f64>>,
    over_assignment: Option<f64>,
    max_change: Option<f64>,
}

/// `[comp]`: read as a table, then each `[[comp.plan]]` on its own so that
/// errors name the plan (`comp.plan[1]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComp {
    quotas: Option<String>,
    #[serde(default)]
    plan: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    name: Option<String>,
    target_incentive: f64,
    individual_weight: Option<f64>,
    tiers: Vec<RawTier>,
    cap: Option<f64>,
    #[serde(default)]
    gates: Vec<RawGate>,
    period: Option<String>,
    catch_up: Option<bool>,
    reps: Option<Vec<String>>,
    territories: Option<Vec<String>>,
    regions: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    from: f64,
    rate: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    at: f64,
    bonus: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    simulate: Option<bool>,
    slip: Option<Vec<f64>>,
    win_probability: Option<BTreeMap<String, f64>>,
    won_stages: Option<Vec<String>>,
    lost_stages: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerritories {
    balance: Option<Vec<String>>,
    weights: Option<Vec<f64>>,
    max_moved_accounts: Option<f64>,
    max_moved_potential: Option<f64>,
    keep_locked: Option<bool>,
    pin_largest: Option<i64>,
    compactness: Option<f64>,
    stay_in_region: Option<bool>,
    max_accounts: Option<i64>,
    capacity: Option<String>,
    remove: Option<Vec<String>>,
    add: Option<Vec<RawAddTerritory>>,
    fixed_moves: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAddTerritory {
    name: String,
    region: Option<String>,
    capacity: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    dir: Option<String>,
    formats: Option<Vec<String>>,
}

// ---------------------------------------------------------- checked types

/// How the pipeline is simulated (`[pipeline]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSpec {
    /// Whether open deals are simulated at all.
    pub simulate: bool,
    /// Probability of closing 0, 1, 2, ... periods after the expected close.
    pub slip: Vec<f64>,
    /// Win probability by stage (stage names compared case-insensitively),
    /// for deals without a `win_probability`.
    pub stage_win: BTreeMap<String, f64>,
    /// Stages of the pipeline table that mean won and lost (compared
    /// case-insensitively): the closed deals from which a win rate is
    /// estimated for open deals with no other probability.
    pub won_stages: Vec<String>,
    pub lost_stages: Vec<String>,
}

impl Default for PipelineSpec {
    fn default() -> Self {
        Self {
            simulate: true,
            slip: vec![0.6, 0.25, 0.15],
            stage_win: BTreeMap::new(),
            won_stages: vec!["won".into(), "closed won".into()],
            lost_stages: vec!["lost".into(), "closed lost".into()],
        }
    }
}

/// What to do with rows that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRows {
    /// Stop with an error naming the first bad row.
    Error,
    /// Skip them and count them in the summary.
    Skip,
}

/// Where a sales row's territory comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerritoryFrom {
    /// The sales table has a territory column.
    Column,
    /// The sales table has a rep column; the reps table maps rep -> territory.
    Rep,
}

/// A text encoding for input files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Latin1,
    Windows1252,
    Cp437,
}

impl Encoding {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Self::Utf8),
            "latin1" | "latin-1" | "iso-8859-1" => Some(Self::Latin1),
            "cp1252" | "windows-1252" => Some(Self::Windows1252),
            "cp437" | "ibm437" => Some(Self::Cp437),
            _ => None,
        }
    }
}

/// One input table: its path and its column map (model name -> file name).
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// The scenario key that names the file (`data.sales`), for messages.
    pub key: String,
    pub path: PathBuf,
    pub columns: BTreeMap<String, String>,
    /// Keep only rows whose (file) column equals one of the values.
    pub filter: BTreeMap<String, Vec<String>>,
    /// The sheet to read when the file is a workbook (`data.<table>_sheet`);
    /// `None`: the first worksheet.
    pub sheet: Option<String>,
}

impl TableSpec {
    /// The file's column name for model column `name`, if mapped or defaulted.
    pub fn column(&self, name: &str) -> Option<&str> {
        self.columns.get(name).map(String::as_str)
    }
}

/// The `[data]` section, checked.
#[derive(Debug, Clone)]
pub struct DataSpec {
    pub sales: TableSpec,
    pub accounts: Option<TableSpec>,
    pub reps: Option<TableSpec>,
    pub pipeline: Option<TableSpec>,
    pub quotas: Option<TableSpec>,
    pub date_format: Option<String>,
    pub encoding: Encoding,
    pub on_bad_rows: BadRows,
    pub territory_from: TerritoryFrom,
    /// The scenario's currency (its top-level `currency`): amounts written
    /// with an ISO code must name it (`load::amount`).
    pub currency: String,
}

/// Information criterion used to choose among candidate models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    Aic,
    Bic,
}

/// The `[fit]` section, checked.
#[derive(Debug, Clone)]
pub struct FitSpec {
    pub criterion: Criterion,
    /// Candidate residual families, by name.
    pub families: Vec<String>,
}

/// Names of the residual families the fitter knows.
pub const FAMILIES: [&str; 6] = [
    "normal",
    "lognormal",
    "gamma",
    "weibull",
    "empirical",
    "compound",
];

/// The `[forecast]` section, checked.
#[derive(Debug, Clone)]
pub struct ForecastSpec {
    pub period: PeriodKind,
    pub start: Option<NaiveDate>,
    pub periods: Option<usize>,
    pub trials: usize,
    /// Largest memory a run may use, in bytes (`--max-memory`; `None`: the
    /// memory the system has available).
    pub max_memory: Option<u64>,
    /// Requested quantiles, ascending, always including the seven standard ones.
    pub quantiles: Vec<f64>,
}

/// Plans at or above this are refused: far beyond any company's revenue,
/// and beyond the amounts the loader sums exactly.
pub const MAX_PLAN: f64 = 1e15;

/// The most trials one run simulates.
pub const MAX_TRIALS: i64 = 100_000_000;

/// The trial count `n` (from `[forecast] trials` or `--trials`), or what is
/// wrong with it.
///
/// # Errors
/// `n` is not from 1 to [`MAX_TRIALS`].
pub fn check_trials(n: i64) -> std::result::Result<usize, String> {
    if (1..=MAX_TRIALS).contains(&n) {
        Ok(n as usize)
    } else {
        Err(format!(
            "found {n}, expected a whole number of trials from 1 to {MAX_TRIALS} (the most one run simulates)"
        ))
    }
}

/// The quantiles every forecast reports.
pub const STANDARD_QUANTILES: [f64; 7] = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];

/// A finance what-if applied inside the simulation.
#[derive(Debug, Clone)]
pub struct Adjustment {
    pub name: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    /// Multiplier range; a fixed multiplier has low == high.
    pub multiplier: (f64, f64),
    /// Amount added per period (in currency) while active.
    pub add: f64,
    /// Probability that the adjustment happens in a trial.
    pub probability: f64,
    /// Territory names or patterns (`*`, `T-1*`); empty means all.
    pub territories: Vec<String>,
    pub regions: Vec<String>,
}

/// Quota-setting methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuotaMethod {
    EqualProbability,
    HistoricalShare,
    PotentialShare,
    Blend,
}

impl QuotaMethod {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "equal-probability" => Some(Self::EqualProbability),
            "historical-share" => Some(Self::HistoricalShare),
            "potential-share" => Some(Self::PotentialShare),
            "blend" => Some(Self::Blend),
            _ => None,
        }
    }

    /// The name used in scenario files and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Self::EqualProbability => "equal-probability",
            Self::HistoricalShare => "historical-share",
            Self::PotentialShare => "potential-share",
            Self::Blend => "blend",
        }
    }
}

/// The `[quota]` section, checked.
#[derive(Debug, Clone)]
pub struct QuotaSpec {
    pub plan: f64,
    pub method: QuotaMethod,
    pub blend: Vec<(QuotaMethod, f64)>,
    pub over_assignment: f64,
    pub max_change: Option<f64>,
}

/// What a territory's balance target is proportional to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capacity {
    /// Every territory gets the same share.
    Equal,
    /// Proportional to the FTE of the territory's reps (1 without reps).
    Reps,
}

/// The disruption budget: a share of accounts or a count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxMoved {
    Share(f64),
    Count(usize),
}

impl MaxMoved {
    /// The budget as a number of accounts out of `n`.
    pub fn resolve(self, n: usize) -> usize {
        match self {
            Self::Share(s) => (s * n as f64).floor() as usize,
            Self::Count(c) => c.min(n),
        }
    }
}

/// A territory opened by the scenario (a new hire).
#[derive(Debug, Clone, PartialEq)]
pub struct AddTerritory {
    pub name: String,
    /// Default: the first territory's region.
    pub region: Option<String>,
    pub capacity: f64,
}

/// The `[territories]` section, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TerritoriesSpec {
    /// The scenario file (for errors about names found in the data).
    pub scenario_path: PathBuf,
    /// Balanced measures with their weights (default: potential 1, workload 0.5).
    pub balance: Vec<(crate::rebalance::Measure, f64)>,
    /// Default: 10% of accounts.
    pub max_moved: MaxMoved,
    /// Share of total potential that optional moves may move (default: no limit).
    pub max_moved_potential: Option<f64>,
    /// Default: true.
    pub keep_locked: bool,
    /// The largest accounts by potential that never move by choice (default 0).
    pub pin_largest: usize,
    /// Weight of the compactness penalty (default 0: off).
    pub compactness: f64,
    /// Default: false.
    pub stay_in_region: bool,
    pub max_accounts: Option<usize>,
    /// Default: equal.
    pub capacity: Capacity,
    pub remove: Vec<String>,
    pub add: Vec<AddTerritory>,
    /// A CSV/Parquet file of manual moves (account, territory).
    pub fixed_moves: Option<PathBuf>,
}

/// Where comp takes its quotas from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QuotaSource {
    /// The quota stage's quotas (`[quota]`).
    Quota,
    /// The quotas table (`data.quotas`): the quotas really assigned.
    Table,
}

/// How often a comp plan measures attainment and pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompPeriod {
    Annual,
    Quarterly,
}

/// One tier of a payout curve: from attainment `from` on, each 1.0 of
/// attainment pays `rate` x target incentive.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Tier {
    pub from: f64,
    pub rate: f64,
}

/// A flat bonus of `bonus` x target incentive once attainment reaches `at`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Gate {
    pub at: f64,
    pub bonus: f64,
}

/// One `[[comp.plan]]`, checked: tiers strictly ascending by `from` (>= 0),
/// rates, bonuses and the cap >= 0, `individual_weight` in [0, 1].
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompPlan {
    pub name: String,
    /// Yearly target incentive of one full-time rep, in currency.
    pub target_incentive: f64,
    /// Weight of the rep's own quota; the rest is on the team (region) quota.
    pub individual_weight: f64,
    pub tiers: Vec<Tier>,
    /// Attainment past which payout stops growing.
    pub cap: Option<f64>,
    pub gates: Vec<Gate>,
    pub period: CompPeriod,
    /// Quarterly plans: pay on year-to-date attainment, catching up earlier shortfalls.
    pub catch_up: bool,
    /// Rep, territory and region name patterns (`*`); empty matches all.
    pub reps: Vec<String>,
    pub territories: Vec<String>,
    pub regions: Vec<String>,
}

/// The `[comp]` section, checked.
#[derive(Debug, Clone)]
pub struct CompSpec {
    pub quotas: QuotaSource,
    /// A rep takes the first plan whose patterns match it.
    pub plans: Vec<CompPlan>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Xlsx,
    Html,
}

impl Format {
    /// Parse one format name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            "xlsx" => Some(Self::Xlsx),
            "html" => Some(Self::Html),
            _ => None,
        }
    }
}

/// The `[output]` section, checked.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    /// Resolved against the scenario's directory; `None` means `out/<stem>`.
    pub dir: Option<PathBuf>,
    pub formats: Vec<Format>,
}

/// A checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub name: String,
    pub seed: u64,
    pub currency: String,
    pub calendar: Calendar,
    pub data: DataSpec,
    pub forecast: ForecastSpec,
    pub fit: FitSpec,
    pub adjustments: Vec<Adjustment>,
    pub quota: Option<QuotaSpec>,
    pub territories: Option<TerritoriesSpec>,
    pub comp: Option<CompSpec>,
    /// `[capacity]`: the hiring search.
    pub capacity: Option<crate::hiring::HiringSpec>,
    pub pipeline: PipelineSpec,
    /// Sections this version reads but does not act on yet.
    pub unimplemented_sections: Vec<String>,
    pub output: OutputSpec,
}

impl Scenario {
    /// Every file this scenario reads: the scenario itself, its data tables
    /// and the fixed-moves table. Outputs must never replace them.
    pub fn input_files(&self) -> Vec<&Path> {
        self.keyed_input_files()
            .into_iter()
            .map(|(_, f)| f)
            .collect()
    }

    /// [`Self::input_files`] with the TOML key that names each (the
    /// scenario file itself: an empty key).
    pub fn keyed_input_files(&self) -> Vec<(&str, &Path)> {
        let mut files = vec![
            ("", self.path.as_path()),
            (self.data.sales.key.as_str(), self.data.sales.path.as_path()),
        ];
        if let Some(f) = self
            .territories
            .as_ref()
            .and_then(|t| t.fixed_moves.as_ref())
        {
            files.push(("territories.fixed_moves", f));
        }
        for t in [
            &self.data.accounts,
            &self.data.reps,
            &self.data.pipeline,
            &self.data.quotas,
        ]
        .into_iter()
        .flatten()
        {
            files.push((t.key.as_str(), &t.path));
        }
        files
    }
}

const SALES_COLUMNS: [&str; 8] = [
    "date",
    "territory",
    "amount",
    "account",
    "rep",
    "region",
    "product",
    "deal",
];
const ACCOUNT_COLUMNS: [&str; 8] = [
    "account",
    "territory",
    "potential",
    "workload",
    "lat",
    "lon",
    "locked",
    "region",
];
const REP_COLUMNS: [&str; 8] = [
    "rep",
    "territory",
    "region",
    "start_date",
    "end_date",
    "backfill_date",
    "ramp_months",
    "fte",
];
const PIPELINE_COLUMNS: [&str; 9] = [
    "opportunity",
    "territory",
    "amount",
    "close_date",
    "stage",
    "win_probability",
    "account",
    "rep",
    "created",
];
const QUOTA_COLUMNS: [&str; 6] = ["territory", "rep", "quota", "floor", "cap", "locked"];

struct Ctx<'a> {
    file: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> Error {
        Error::scenario(self.file, key, message)
    }
}

impl Scenario {
    /// Read and check the scenario file at `path`.
    ///
    /// # Errors
    /// `Error::Io` if the file cannot be read, `Error::Scenario` naming the
    /// key for any unknown key, wrong type or invalid value.
    pub fn load(path: &Path) -> Result<Self> {
        if path.exists() {
            crate::load::regular_file(path)?;
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, &text)
    }

    /// Check scenario `text` as if read from `path`.
    ///
    /// # Errors
    /// As [`Scenario::load`].
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| Error::Scenario {
            file: path.to_path_buf(),
            key: toml_error_key(&e, text),
            message: e.message().to_string(),
        })?;
        let ctx = Ctx { file: path };
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };

        let fiscal_start_month = match &raw.fiscal_year_start {
            None => 1,
            Some(s) => parse_fiscal_start(s).ok_or_else(|| {
                ctx.err(
                    "fiscal_year_start",
                    format!("found '{s}', expected MM-01 (a month start such as \"04-01\")"),
                )
            })?,
        };
        let forecast = check_forecast(&ctx, raw.forecast.as_ref(), fiscal_start_month)?;
        let calendar = Calendar::new(forecast.period, fiscal_start_month);
        let currency = raw.currency.unwrap_or_else(|| "USD".into());
        let data = check_data(&ctx, &dir, raw.data, &currency)?;
        let fit = check_fit(&ctx, raw.fit.as_ref())?;
        let adjustments = raw
            .adjustment
            .iter()
            .enumerate()
            .map(|(i, a)| check_adjustment(&ctx, i, a))
            .collect::<Result<Vec<_>>>()?;
        let quota = raw
            .quota
            .as_ref()
            .map(|q| check_quota(&ctx, q, &forecast))
            .transpose()?;
        let comp = raw
            .comp
            .map(|c| check_comp(&ctx, c, &forecast, quota.is_some(), data.quotas.is_some()))
            .transpose()?;
        let capacity = raw
            .capacity
            .map(|c| crate::hiring::spec::check(path, c, quota.as_ref().map(|q| q.plan)))
            .transpose()?;
        let pipeline = check_pipeline(&ctx, raw.pipeline.as_ref())?;
        let output = check_output(&ctx, &dir, raw.output.as_ref())?;
        let territories = raw
            .territories
            .as_ref()
            .map(|t| check_territories(&ctx, &dir, t))
            .transpose()?;
        let unimplemented_sections = Vec::new();
        let name = raw.name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into())
        });
        Ok(Scenario {
            path: path.to_path_buf(),
            name,
            seed: raw.seed.unwrap_or(1),
            currency,
            calendar,
            data,
            forecast,
            fit,
            adjustments,
            quota,
            territories,
            comp,
            capacity,
            pipeline,
            unimplemented_sections,
            output,
        })
    }

    /// The stem of the scenario file name (`demo` for `scenarios/demo.toml`).
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into())
    }
}

/// Where a TOML error is: the dotted key (from the table header above the
/// line and the key on it) with its line and column.
fn toml_error_key(e: &toml::de::Error, text: &str) -> String {
    let Some(span) = e.span() else {
        return "(file)".into();
    };
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..start].chars().count() + 1;
    let line = text[line_start..].lines().next().unwrap_or("");
    let section = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty() && !line.trim_start().starts_with('['));
    let path = match (section, key) {
        (Some(s), Some(k)) => format!("{s}.{k}"),
        (None, Some(k)) => k,
        (Some(s), None) => s,
        (None, None) => String::new(),
    };
    if path.is_empty() {
        format!("line {line_no}, column {column}")
    } else {
        format!("{path} (line {line_no}, column {column})")
    }
}

fn parse_fiscal_start(s: &str) -> Option<u32> {
    let (m, d) = s.split_once('-')?;
    let month: u32 = m.parse().ok()?;
    let day: u32 = d.parse().ok()?;
    ((1..=12).contains(&month) && day == 1).then_some(month)
}

fn parse_date(ctx: &Ctx, key: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ctx.err(key, format!("found '{s}', expected a date YYYY-MM-DD")))
}

fn check_forecast(ctx: &Ctx, raw: Option<&RawForecast>, fiscal_month: u32) -> Result<ForecastSpec> {
    let period = match raw.and_then(|r| r.period.as_deref()) {
        None => PeriodKind::Month,
        Some(p) => PeriodKind::parse(p).ok_or_else(|| {
            ctx.err(
                "forecast.period",
                format!("found '{p}', expected one of month, quarter, week"),
            )
        })?,
    };
    let calendar = Calendar::new(period, fiscal_month);
    let start = match raw.and_then(|r| r.start.as_deref()) {
        None => None,
        Some(s) => {
            let date = parse_date(ctx, "forecast.start", s)?;
            if !calendar.is_period_start(date) {
                let p = calendar.period_of(date);
                return Err(ctx.err(
                    "forecast.start",
                    format!(
                        "found {date}, which is not the start of a {}; expected a period start such as {} or {}",
                        period.name(),
                        calendar.start_of(p),
                        calendar.start_of(p + 1)
                    ),
                ));
            }
            Some(date)
        }
    };
    let periods = match raw.and_then(|r| r.periods) {
        None => None,
        Some(n) if (1..=10_000).contains(&n) => Some(n as usize),
        Some(n) => {
            return Err(ctx.err(
                "forecast.periods",
                format!("found {n}, expected a whole number from 1 to 10000"),
            ))
        }
    };
    let trials = match raw.and_then(|r| r.trials) {
        None => 10_000,
        Some(n) => check_trials(n).map_err(|m| ctx.err("forecast.trials", m))?,
    };
    let mut quantiles: Vec<f64> = STANDARD_QUANTILES.to_vec();
    if let Some(qs) = raw.and_then(|r| r.quantiles.as_ref()) {
        for (i, &q) in qs.iter().enumerate() {
            if !(q > 0.0 && q < 1.0) {
                return Err(ctx.err(
                    &format!("forecast.quantiles[{i}]"),
                    format!("found {q}, expected a probability strictly between 0 and 1"),
                ));
            }
            if !quantiles.iter().any(|&x| (x - q).abs() < 1e-12) {
                quantiles.push(q);
            }
        }
    }
    quantiles.sort_by(f64::total_cmp);
    Ok(ForecastSpec {
        period,
        start,
        periods,
        trials,
        max_memory: None,
        quantiles,
    })
}

fn check_columns(
    ctx: &Ctx,
    key: &str,
    raw: Option<&BTreeMap<String, String>>,
    allowed: &[&str],
) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    if let Some(raw) = raw {
        for (k, v) in raw {
            if !allowed.contains(&k.as_str()) {
                return Err(ctx.err(
                    &format!("{key}.{k}"),
                    format!(
                        "unknown column '{k}', expected one of {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if v.trim().is_empty() {
                return Err(ctx.err(&format!("{key}.{k}"), "found an empty column name"));
            }
            map.insert(k.clone(), v.clone());
        }
    }
    Ok(map)
}

fn check_filter(
    ctx: &Ctx,
    key: &str,
    raw: Option<&BTreeMap<String, Vec<toml::Value>>>,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    for (column, values) in raw.into_iter().flatten() {
        let mut list = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let s = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(ctx.err(
                        &format!("{key}.{column}[{i}]"),
                        format!("found {other}, expected a string or number"),
                    ))
                }
            };
            list.push(s);
        }
        out.insert(column.clone(), list);
    }
    Ok(out)
}

fn table(
    ctx: &Ctx,
    dir: &Path,
    key: &str,
    path: &str,
    columns: BTreeMap<String, String>,
    filter: BTreeMap<String, Vec<String>>,
    sheet: Option<&String>,
) -> Result<TableSpec> {
    if path.trim().is_empty() {
        return Err(ctx.err(
            key,
            "found an empty path, expected a CSV, Parquet or Excel file",
        ));
    }
    let path = dir.join(path);
    let sheet_key = format!("{key}_sheet");
    if let Some(name) = sheet {
        if name.trim().is_empty() {
            return Err(ctx.err(
                &sheet_key,
                "found an empty sheet name, expected the name of a sheet of the workbook",
            ));
        }
        if !crate::load::is_workbook(&path) {
            return Err(ctx.err(
                &sheet_key,
                format!(
                    "names sheet '{name}', but {key} ({}) is not a workbook; expected a file ending in {}",
                    path.display(),
                    crate::load::WORKBOOK_EXTENSIONS.join(", ")
                ),
            ));
        }
    }
    Ok(TableSpec {
        key: key.to_string(),
        path,
        columns,
        filter,
        sheet: sheet.cloned(),
    })
}

/// Fill the default (identity) mapping for every allowed column not mapped.
fn with_defaults(mut map: BTreeMap<String, String>, allowed: &[&str]) -> BTreeMap<String, String> {
    for name in allowed {
        map.entry((*name).to_string())
            .or_insert_with(|| (*name).to_string());
    }
    map
}

fn check_data(ctx: &Ctx, dir: &Path, raw: RawData, currency: &str) -> Result<DataSpec> {
    let encoding = match raw.encoding.as_deref() {
        None => Encoding::Utf8,
        Some(e) => Encoding::parse(e).ok_or_else(|| {
            ctx.err(
                "data.encoding",
                format!("found '{e}', expected one of utf-8, latin1, windows-1252, cp437"),
            )
        })?,
    };
    let on_bad_rows = match raw.on_bad_rows.as_deref() {
        None | Some("error") => BadRows::Error,
        Some("skip") => BadRows::Skip,
        Some(x) => {
            return Err(ctx.err(
                "data.on_bad_rows",
                format!("found '{x}', expected \"error\" or \"skip\""),
            ))
        }
    };
    let territory_from = match raw.territory_from.as_deref() {
        None | Some("territory") => TerritoryFrom::Column,
        Some("rep") => TerritoryFrom::Rep,
        Some(x) => {
            return Err(ctx.err(
                "data.territory_from",
                format!("found '{x}', expected \"territory\" or \"rep\""),
            ))
        }
    };
    if territory_from == TerritoryFrom::Rep && raw.reps.is_none() {
        return Err(ctx.err(
            "data.territory_from",
            "territory_from = \"rep\" needs a reps table: set data.reps",
        ));
    }
    if let Some(f) = &raw.date_format {
        if chrono::format::StrftimeItems::new(f).any(|i| matches!(i, chrono::format::Item::Error)) {
            return Err(ctx.err(
                "data.date_format",
                format!("found '{f}', expected a chrono/strftime format such as %m/%d/%Y"),
            ));
        }
    }
    let sales_columns = with_defaults(
        check_columns(ctx, "data.columns", raw.columns.as_ref(), &SALES_COLUMNS)?,
        &["date", "territory", "amount"],
    );
    let sales = table(
        ctx,
        dir,
        "data.sales",
        &raw.sales,
        sales_columns,
        check_filter(ctx, "data.filter", raw.filter.as_ref())?,
        raw.sales_sheet.as_ref(),
    )?;
    let optional = |key: &str,
                    path: &Option<String>,
                    cols: Option<&BTreeMap<String, String>>,
                    allowed: &[&str],
                    required: &[&str],
                    filter: BTreeMap<String, Vec<String>>,
                    sheet: Option<&String>|
     -> Result<Option<TableSpec>> {
        match path {
            None => {
                if sheet.is_some() {
                    return Err(ctx.err(
                        &format!("data.{key}_sheet"),
                        format!("names a sheet, but there is no data.{key} table"),
                    ));
                }
                Ok(None)
            }
            Some(p) => {
                let columns = with_defaults(
                    check_columns(ctx, &format!("data.{key}_columns"), cols, allowed)?,
                    required,
                );
                table(ctx, dir, &format!("data.{key}"), p, columns, filter, sheet).map(Some)
            }
        }
    };
    let accounts = optional(
        "accounts",
        &raw.accounts,
        raw.accounts_columns.as_ref(),
        &ACCOUNT_COLUMNS,
        &["account", "territory"],
        BTreeMap::new(),
        raw.accounts_sheet.as_ref(),
    )?;
    let reps = optional(
        "reps",
        &raw.reps,
        raw.reps_columns.as_ref(),
        &REP_COLUMNS,
        &["rep", "territory"],
        BTreeMap::new(),
        raw.reps_sheet.as_ref(),
    )?;
    let pipeline = optional(
        "pipeline",
        &raw.pipeline,
        raw.pipeline_columns.as_ref(),
        &PIPELINE_COLUMNS,
        &["opportunity"],
        check_filter(ctx, "data.pipeline_filter", raw.pipeline_filter.as_ref())?,
        raw.pipeline_sheet.as_ref(),
    )?;
    let quotas = optional(
        "quotas",
        &raw.quotas,
        raw.quotas_columns.as_ref(),
        &QUOTA_COLUMNS,
        &["quota"],
        BTreeMap::new(),
        raw.quotas_sheet.as_ref(),
    )?;
    Ok(DataSpec {
        sales,
        accounts,
        reps,
        pipeline,
        quotas,
        date_format: raw.date_format,
        encoding,
        on_bad_rows,
        territory_from,
        currency: currency.to_string(),
    })
}

fn check_fit(ctx: &Ctx, raw: Option<&RawFit>) -> Result<FitSpec> {
    let criterion = match raw.and_then(|r| r.criterion.as_deref()) {
        None | Some("aic") => Criterion::Aic,
        Some("bic") => Criterion::Bic,
        Some(x) => {
            return Err(ctx.err(
                "fit.criterion",
                format!("found '{x}', expected \"aic\" or \"bic\""),
            ))
        }
    };
    let families = match raw.and_then(|r| r.families.as_ref()) {
        None => FAMILIES.iter().map(|s| s.to_string()).collect(),
        Some(list) => {
            for (i, f) in list.iter().enumerate() {
                if !FAMILIES.contains(&f.as_str()) {
                    return Err(ctx.err(
                        &format!("fit.families[{i}]"),
                        format!("found '{f}', expected one of {}", FAMILIES.join(", ")),
                    ));
                }
            }
            if list.is_empty() {
                return Err(ctx.err(
                    "fit.families",
                    "found an empty list, expected at least one family",
                ));
            }
            list.clone()
        }
    };
    Ok(FitSpec {
        criterion,
        families,
    })
}

fn check_adjustment(ctx: &Ctx, i: usize, raw: &RawAdjustment) -> Result<Adjustment> {
    let key = |k: &str| format!("adjustment[{i}].{k}");
    let from = parse_date(ctx, &key("from"), &raw.from)?;
    let to = raw
        .to
        .as_deref()
        .map(|s| parse_date(ctx, &key("to"), s))
        .transpose()?;
    if let Some(to) = to {
        if to < from {
            return Err(ctx.err(
                &key("to"),
                format!("found {to}, expected a date on or after from = {from}"),
            ));
        }
    }
    let multiplier = match raw.multiplier {
        None => (1.0, 1.0),
        Some(RawRange::Fixed(m)) => (m, m),
        Some(RawRange::Range([a, b])) => (a.min(b), a.max(b)),
    };
    if !(multiplier.0.is_finite() && multiplier.1.is_finite() && multiplier.0 >= 0.0) {
        return Err(ctx.err(
            &key("multiplier"),
            format!("found {multiplier:?}, expected a non-negative number or [low, high]"),
        ));
    }
    let probability = raw.probability.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&probability) {
        return Err(ctx.err(
            &key("probability"),
            format!("found {probability}, expected a probability in [0, 1]"),
        ));
    }
    let add = raw.add.unwrap_or(0.0);
    if !add.is_finite() {
        return Err(ctx.err(
            &key("add"),
            format!("found {add}, expected a finite amount"),
        ));
    }
    Ok(Adjustment {
        name: raw
            .name
            .clone()
            .unwrap_or_else(|| format!("adjustment {}", i + 1)),
        from,
        to,
        multiplier,
        add,
        probability,
        territories: raw.territories.clone().unwrap_or_default(),
        regions: raw.regions.clone().unwrap_or_default(),
    })
}

fn check_quota(ctx: &Ctx, raw: &RawQuota, forecast: &ForecastSpec) -> Result<QuotaSpec> {
    if !(raw.plan.is_finite() && raw.plan > 0.0 && raw.plan < MAX_PLAN) {
        return Err(ctx.err(
            "quota.plan",
            format!(
                "found {}, expected a revenue plan greater than 0 and below {MAX_PLAN:e}",
                // As written where it is a plain number (-850000, not
                // -8.5e5); huge or non-finite values in exponent form.
                if raw.plan.abs() < MAX_PLAN {
                    raw.plan.to_string()
                } else {
                    format!("{:e}", raw.plan)
                }
            ),
        ));
    }
    check_one_year(ctx, forecast, "quota")?;
    let method = match raw.method.as_deref() {
        None => QuotaMethod::EqualProbability,
        Some(m) => QuotaMethod::parse(m).ok_or_else(|| {
            ctx.err(
                "quota.method",
                format!("found '{m}', expected one of equal-probability, historical-share, potential-share, blend"),
            )
        })?,
    };
    let mut blend = Vec::new();
    if let Some(map) = &raw.blend {
        for (k, &w) in map {
            let m = QuotaMethod::parse(k)
                .filter(|m| *m != QuotaMethod::Blend)
                .ok_or_else(|| {
                    ctx.err(
                        &format!("quota.blend.{k}"),
                        "unknown method, expected equal-probability, historical-share or potential-share",
                    )
                })?;
            if !(w.is_finite() && w >= 0.0) {
                return Err(ctx.err(
                    &format!("quota.blend.{k}"),
                    format!("found {w}, expected a weight >= 0"),
                ));
            }
            blend.push((m, w));
        }
    }
    if method == QuotaMethod::Blend {
        let total: f64 = blend.iter().map(|(_, w)| w).sum();
        if total <= 0.0 {
            return Err(ctx.err(
                "quota.blend",
                "method = \"blend\" needs weights that add up to more than 0",
            ));
        }
        for (_, w) in &mut blend {
            *w /= total;
        }
    }
    let over_assignment = raw.over_assignment.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&over_assignment) {
        return Err(ctx.err(
            "quota.over_assignment",
            format!("found {over_assignment}, expected a share in [0, 1] such as 0.05"),
        ));
    }
    if let Some(m) = raw.max_change {
        if !(m > 0.0 && m.is_finite()) {
            return Err(ctx.err(
                "quota.max_change",
                format!("found {m}, expected a share greater than 0 such as 0.30"),
            ));
        }
    }
    Ok(QuotaSpec {
        plan: raw.plan,
        method,
        blend,
        over_assignment,
        max_change: raw.max_change,
    })
}

/// A one-year horizon, which quotas and comp plans need.
fn check_one_year(ctx: &Ctx, forecast: &ForecastSpec, section: &str) -> Result<()> {
    let per_year = forecast.period.per_year();
    match forecast.periods {
        Some(p) if p != per_year => Err(ctx.err(
            "forecast.periods",
            format!(
                "found {p}, but [{section}] needs a horizon of one year: expected {per_year} {}s",
                forecast.period.name()
            ),
        )),
        _ => Ok(()),
    }
}

fn check_comp(
    ctx: &Ctx,
    value: toml::Value,
    forecast: &ForecastSpec,
    has_quota: bool,
    has_quota_table: bool,
) -> Result<CompSpec> {
    let raw: RawComp = value
        .try_into()
        .map_err(|e: toml::de::Error| ctx.err("comp", e.message().to_string()))?;
    check_one_year(ctx, forecast, "comp")?;
    let quotas = match raw.quotas.as_deref() {
        None if has_quota => QuotaSource::Quota,
        None if has_quota_table => QuotaSource::Table,
        None => {
            return Err(ctx.err(
                "comp",
                "comp plans need quotas: add a [quota] section or a quotas table (data.quotas)",
            ))
        }
        Some("quota") if has_quota => QuotaSource::Quota,
        Some("quota") => {
            return Err(ctx.err(
                "comp.quotas",
                "found \"quota\", but the scenario has no [quota] section",
            ))
        }
        Some("table") if has_quota_table => QuotaSource::Table,
        Some("table") => {
            return Err(ctx.err(
                "comp.quotas",
                "found \"table\", but the scenario has no quotas table: set data.quotas",
            ))
        }
        Some(x) => {
            return Err(ctx.err(
                "comp.quotas",
                format!("found '{x}', expected \"quota\" or \"table\""),
            ))
        }
    };
    if raw.plan.is_empty() {
        return Err(ctx.err(
            "comp.plan",
            "found no plan, expected at least one [[comp.plan]]",
        ));
    }
    let mut plans: Vec<CompPlan> = Vec::with_capacity(raw.plan.len());
    for (i, v) in raw.plan.into_iter().enumerate() {
        let key = format!("comp.plan[{i}]");
        let p: RawPlan = v
            .try_into()
            .map_err(|e: toml::de::Error| ctx.err(&key, e.message().to_string()))?;
        let plan = check_plan(ctx, &key, i, p)?;
        if plans.iter().any(|q| q.name == plan.name) {
            return Err(ctx.err(
                &format!("{key}.name"),
                format!("found '{}' twice, expected distinct plan names", plan.name),
            ));
        }
        plans.push(plan);
    }
    Ok(CompSpec { quotas, plans })
}

fn check_plan(ctx: &Ctx, key: &str, i: usize, p: RawPlan) -> Result<CompPlan> {
    let k = |field: &str| format!("{key}.{field}");
    let non_negative = |field: String, v: f64, what: &str| -> Result<()> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(ctx.err(&field, format!("found {v}, expected {what} >= 0")))
        }
    };
    if !(p.target_incentive.is_finite() && p.target_incentive > 0.0) {
        return Err(ctx.err(
            &k("target_incentive"),
            format!(
                "found {}, expected a target incentive greater than 0",
                p.target_incentive
            ),
        ));
    }
    let individual_weight = p.individual_weight.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&individual_weight) {
        return Err(ctx.err(
            &k("individual_weight"),
            format!("found {individual_weight}, expected a weight in [0, 1]"),
        ));
    }
    if p.tiers.is_empty() {
        return Err(ctx.err(
            &k("tiers"),
            "found no tier, expected at least one { from, rate }",
        ));
    }
    let mut tiers = Vec::with_capacity(p.tiers.len());
    for (j, t) in p.tiers.iter().enumerate() {
        non_negative(k(&format!("tiers[{j}].from")), t.from, "an attainment")?;
        non_negative(k(&format!("tiers[{j}].rate")), t.rate, "a rate")?;
        if let Some(prev) = tiers.last().map(|x: &Tier| x.from) {
            if t.from <= prev {
                return Err(ctx.err(
                    &k(&format!("tiers[{j}].from")),
                    format!(
                        "found {}, expected tiers in ascending order: more than the previous tier's from = {prev}",
                        t.from
                    ),
                ));
            }
        }
        tiers.push(Tier {
            from: t.from,
            rate: t.rate,
        });
    }
    if let Some(c) = p.cap {
        if !(c.is_finite() && c > 0.0) {
            return Err(ctx.err(
                &k("cap"),
                format!("found {c}, expected an attainment greater than 0 such as 2.0"),
            ));
        }
    }
    let mut gates = Vec::with_capacity(p.gates.len());
    for (j, g) in p.gates.iter().enumerate() {
        non_negative(k(&format!("gates[{j}].at")), g.at, "an attainment")?;
        non_negative(k(&format!("gates[{j}].bonus")), g.bonus, "a bonus")?;
        gates.push(Gate {
            at: g.at,
            bonus: g.bonus,
        });
    }
    gates.sort_by(|a, b| a.at.total_cmp(&b.at));
    // A cap at or below where the first paying tier starts leaves a plan
    // that pays nothing at any attainment (a helper's probe, session 30:
    // every AE paid 0 without a word).
    let first_paying = tiers.iter().find(|t| t.rate > 0.0).map(|t| t.from);
    let gate_pays = gates.iter().any(|g| g.bonus > 0.0);
    if let (Some(c), Some(from)) = (p.cap, first_paying) {
        if c <= from && !gate_pays {
            return Err(ctx.err(
                &k("cap"),
                format!(
                    "found {c}, at or below {from}, where the first paying tier starts: the plan would pay nothing at any attainment"
                ),
            ));
        }
    }
    let period = match p.period.as_deref() {
        None | Some("annual") => CompPeriod::Annual,
        Some("quarterly") => CompPeriod::Quarterly,
        Some(x) => {
            return Err(ctx.err(
                &k("period"),
                format!("found '{x}', expected \"annual\" or \"quarterly\""),
            ))
        }
    };
    let catch_up = p.catch_up.unwrap_or(false);
    if catch_up && period == CompPeriod::Annual {
        return Err(ctx.err(
            &k("catch_up"),
            "catch_up = true needs period = \"quarterly\" (an annual plan has nothing to catch up)",
        ));
    }
    Ok(CompPlan {
        name: p.name.unwrap_or_else(|| format!("plan {}", i + 1)),
        target_incentive: p.target_incentive,
        individual_weight,
        tiers,
        cap: p.cap,
        gates,
        period,
        catch_up,
        reps: p.reps.unwrap_or_default(),
        territories: p.territories.unwrap_or_default(),
        regions: p.regions.unwrap_or_default(),
    })
}

fn check_pipeline(ctx: &Ctx, raw: Option<&RawPipeline>) -> Result<PipelineSpec> {
    let mut spec = PipelineSpec::default();
    let Some(raw) = raw else { return Ok(spec) };
    if let Some(s) = raw.simulate {
        spec.simulate = s;
    }
    if let Some(slip) = &raw.slip {
        for (i, p) in slip.iter().enumerate() {
            if !(p.is_finite() && *p >= 0.0) {
                return Err(ctx.err(
                    &format!("pipeline.slip[{i}]"),
                    format!("found {p}, expected a probability >= 0"),
                ));
            }
        }
        let total: f64 = slip.iter().sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(ctx.err(
                "pipeline.slip",
                format!("found probabilities adding up to {total}, expected them to add up to 1"),
            ));
        }
        spec.slip = slip.clone();
    }
    if let Some(map) = &raw.win_probability {
        for (stage, p) in map {
            if !(0.0..=1.0).contains(p) {
                return Err(ctx.err(
                    &format!("pipeline.win_probability.{stage}"),
                    format!("found {p}, expected a probability in [0, 1]"),
                ));
            }
        }
        spec.stage_win = map.clone();
    }
    if let Some(v) = &raw.won_stages {
        spec.won_stages = v.clone();
    }
    if let Some(v) = &raw.lost_stages {
        spec.lost_stages = v.clone();
    }
    Ok(spec)
}

fn check_output(ctx: &Ctx, dir: &Path, raw: Option<&RawOutput>) -> Result<OutputSpec> {
    let out_dir = raw.and_then(|r| r.dir.as_deref()).map(|d| dir.join(d));
    let formats = match raw.and_then(|r| r.formats.as_ref()) {
        None => vec![Format::Csv, Format::Json, Format::Xlsx, Format::Html],
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, f)| {
                Format::parse(f).ok_or_else(|| {
                    ctx.err(
                        &format!("output.formats[{i}]"),
                        format!("found '{f}', expected one of csv, json, xlsx, html"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?,
    };
    Ok(OutputSpec {
        dir: out_dir,
        formats,
    })
}

fn check_territories(ctx: &Ctx, dir: &Path, raw: &RawTerritories) -> Result<TerritoriesSpec> {
    use crate::rebalance::Measure;
    let names: Vec<String> = raw
        .balance
        .clone()
        .unwrap_or_else(|| vec!["potential".into(), "workload".into()]);
    if names.is_empty() {
        return Err(ctx.err(
            "territories.balance",
            "found an empty list, expected \"potential\", \"workload\" or both",
        ));
    }
    let mut measures = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let m = match n.as_str() {
            "potential" => Measure::Potential,
            "workload" => Measure::Workload,
            _ => {
                return Err(ctx.err(
                    &format!("territories.balance[{i}]"),
                    format!("found '{n}', expected \"potential\" or \"workload\""),
                ))
            }
        };
        if measures.contains(&m) {
            return Err(ctx.err(
                &format!("territories.balance[{i}]"),
                format!("found '{n}' twice, expected each measure at most once"),
            ));
        }
        measures.push(m);
    }
    let weights = match &raw.weights {
        None => measures
            .iter()
            .map(|m| if *m == Measure::Potential { 1.0 } else { 0.5 })
            .collect(),
        Some(w) => {
            if w.len() != measures.len() {
                return Err(ctx.err(
                    "territories.weights",
                    format!(
                        "found {} weights, expected one per balanced measure ({})",
                        w.len(),
                        measures.len()
                    ),
                ));
            }
            for (i, &x) in w.iter().enumerate() {
                if !(x.is_finite() && x >= 0.0) {
                    return Err(ctx.err(
                        &format!("territories.weights[{i}]"),
                        format!("found {x}, expected a weight >= 0"),
                    ));
                }
            }
            if w.iter().sum::<f64>() <= 0.0 {
                return Err(ctx.err(
                    "territories.weights",
                    "the weights add up to 0, expected at least one weight above 0",
                ));
            }
            w.clone()
        }
    };
    let max_moved = match raw.max_moved_accounts {
        None => MaxMoved::Share(0.10),
        Some(x) if x.is_finite() && (0.0..1.0).contains(&x) => MaxMoved::Share(x),
        Some(x) if x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x <= 1e15 => {
            MaxMoved::Count(x as usize)
        }
        Some(x) => {
            return Err(ctx.err(
                "territories.max_moved_accounts",
                format!("found {x}, expected a share of accounts in [0, 1) such as 0.10 or a whole number of accounts >= 1"),
            ))
        }
    };
    if let Some(x) = raw.max_moved_potential {
        if !(0.0..=1.0).contains(&x) {
            return Err(ctx.err(
                "territories.max_moved_potential",
                format!("found {x}, expected a share of total potential in [0, 1]"),
            ));
        }
    }
    let pin_largest = match raw.pin_largest {
        None => 0,
        Some(n) if n >= 0 => n as usize,
        Some(n) => {
            return Err(ctx.err(
                "territories.pin_largest",
                format!("found {n}, expected a number of accounts >= 0"),
            ))
        }
    };
    let compactness = raw.compactness.unwrap_or(0.0);
    if !(compactness.is_finite() && compactness >= 0.0) {
        return Err(ctx.err(
            "territories.compactness",
            format!("found {compactness}, expected a weight >= 0"),
        ));
    }
    let max_accounts = match raw.max_accounts {
        None => None,
        Some(n) if n >= 1 => Some(n as usize),
        Some(n) => {
            return Err(ctx.err(
                "territories.max_accounts",
                format!("found {n}, expected a number of accounts >= 1"),
            ))
        }
    };
    let capacity = match raw.capacity.as_deref() {
        None | Some("equal") => Capacity::Equal,
        Some("reps") => Capacity::Reps,
        Some(x) => {
            return Err(ctx.err(
                "territories.capacity",
                format!("found '{x}', expected \"equal\" or \"reps\""),
            ))
        }
    };
    let remove = raw.remove.clone().unwrap_or_default();
    for (i, r) in remove.iter().enumerate() {
        if r.trim().is_empty() || remove[..i].contains(r) {
            return Err(ctx.err(
                &format!("territories.remove[{i}]"),
                format!("found '{r}', expected a distinct, non-empty territory name"),
            ));
        }
    }
    let mut add = Vec::new();
    for (i, a) in raw.add.iter().flatten().enumerate() {
        if a.name.trim().is_empty() || add.iter().any(|x: &AddTerritory| x.name == a.name) {
            return Err(ctx.err(
                &format!("territories.add[{i}].name"),
                format!(
                    "found '{}', expected a distinct, non-empty territory name",
                    a.name
                ),
            ));
        }
        if remove.contains(&a.name) {
            return Err(ctx.err(
                &format!("territories.add[{i}].name"),
                format!("found '{}', which territories.remove also names", a.name),
            ));
        }
        let capacity = a.capacity.unwrap_or(1.0);
        if !(capacity.is_finite() && capacity > 0.0) {
            return Err(ctx.err(
                &format!("territories.add[{i}].capacity"),
                format!("found {capacity}, expected a capacity > 0 such as 1.0"),
            ));
        }
        add.push(AddTerritory {
            name: a.name.clone(),
            region: a.region.clone(),
            capacity,
        });
    }
    let fixed_moves = match raw.fixed_moves.as_deref() {
        None => None,
        Some(p) if p.trim().is_empty() => return Err(ctx.err(
            "territories.fixed_moves",
            "found an empty path, expected a CSV or Parquet file with columns account, territory",
        )),
        Some(p) => Some(dir.join(p)),
    };
    Ok(TerritoriesSpec {
        scenario_path: ctx.file.to_path_buf(),
        balance: measures.into_iter().zip(weights).collect(),
        max_moved,
        max_moved_potential: raw.max_moved_potential,
        keep_locked: raw.keep_locked.unwrap_or(true),
        pin_largest,
        compactness,
        stay_in_region: raw.stay_in_region.unwrap_or(false),
        max_accounts,
        capacity,
        remove,
        add,
        fixed_moves,
    })
}
