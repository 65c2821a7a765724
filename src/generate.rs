//! `salesplan generate`: a realistic synthetic company, deterministic by
//! seed. Regions and territories of unequal size; accounts with potential,
//! workload, coordinates and a current territory; reps with start dates,
//! new hires, a leaver with a backfill; and dated deals with trend,
//! seasonality, company and region shocks, lumpy large deals, zero months,
//! credits (negative amounts), plus an open pipeline and a scenario using
//! them. Generation is parallel over territories, each from its own stream,
//! and written in territory order, so the files depend only on the seed.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rand::RngExt;
use rand_distr::{Distribution, Gamma, LogNormal, Poisson, StandardNormal};
use rayon::prelude::*;

use crate::calendar::{Calendar, PeriodKind};
use crate::error::{Error, Result};
use crate::history::{SalesHistory, Territory};
use crate::rng::{stream_id, stream_rng, SimRng};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    pub territories: usize,
    pub accounts: usize,
    pub years: usize,
    pub seed: u64,
    /// Last year of history; the plan year is the one after.
    pub last_year: i32,
    /// Target number of sales rows (approximate); default about 0.5 deals per account-month.
    pub rows: Option<usize>,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        Self {
            territories: 12,
            accounts: 600,
            years: 3,
            seed: 7,
            last_year: 2026,
            rows: None,
        }
    }
}

const REGIONS: [(&str, f64, f64); 8] = [
    ("East", 40.7, -74.0),
    ("West", 37.8, -122.4),
    ("Central", 41.9, -87.6),
    ("South", 29.8, -95.4),
    ("Northwest", 47.6, -122.3),
    ("Southeast", 33.7, -84.4),
    ("Mountain", 39.7, -105.0),
    ("Northeast", 42.4, -71.1),
];

/// Persistence of the common monthly shocks (AR(1) on the log scale),
/// and their innovations' standard deviations: the company's, each
/// region's.
const SHOCK_PERSISTENCE: f64 = 0.6;
const COMPANY_SHOCK_SD: f64 = 0.05;
const REGION_SHOCK_SD: f64 = 0.04;
/// Share of deals that are this many times their drawn size (lumpy).
const LUMPY_SHARE: f64 = 0.01;
const LUMPY_FACTOR: f64 = 8.0;
/// Share of deals partly credited back the next month, and the range of
/// the credited part.
const CREDIT_SHARE: f64 = 0.02;
const CREDIT_PART: (f64, f64) = (0.2, 1.0);

/// Monthly seasonal shape of the synthetic company (quarter-end pushes, a summer lull).
const SEASON: [f64; 12] = [
    0.80, 0.88, 1.12, 0.92, 0.97, 1.13, 0.86, 0.82, 1.10, 0.98, 1.05, 1.37,
];

struct TerritoryPlan {
    name: String,
    region: usize,
    size: f64,
    growth: f64,
    accounts: Vec<AccountPlan>,
}

struct AccountPlan {
    id: String,
    potential: f64,
    workload: f64,
    lat: f64,
    lon: f64,
    locked: bool,
}

/// Files written by [`generate`].
#[derive(Debug, Clone)]
pub struct Generated {
    pub dir: PathBuf,
    pub sales_rows: usize,
    pub files: Vec<PathBuf>,
}

fn write_file(path: &Path, text: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?);
        f.write_all(text).map_err(|e| Error::io(&tmp, e))?;
        f.flush().map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Generate a company into `dir`.
///
/// # Errors
/// `Error::Usage` for sizes out of range, `Error::Io` if a file cannot be written.
pub fn generate(dir: &Path, spec: &GenerateSpec) -> Result<Generated> {
    if spec.territories == 0
        || spec.accounts < spec.territories
        || spec.years == 0
        || spec.years > 50
    {
        return Err(Error::Usage(format!(
            "generate: found --territories {} --accounts {} --years {}; expected at least 1 territory, at least one account per territory, and 1 to 50 years",
            spec.territories, spec.accounts, spec.years
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let n_regions = spec.territories.div_ceil(4).clamp(1, REGIONS.len());
    let mut rng = stream_rng(spec.seed, stream_id("generate:structure"), 0);
    let size_law = LogNormal::new(0.0, 0.45).expect("valid");
    let mut sizes: Vec<f64> = (0..spec.territories)
        .map(|_| size_law.sample(&mut rng))
        .collect();
    let total_size: f64 = sizes.iter().sum();
    sizes.iter_mut().for_each(|s| *s /= total_size);
    // Accounts per territory proportional to size, at least one each.
    let mut counts: Vec<usize> = sizes
        .iter()
        .map(|s| ((s * spec.accounts as f64).floor() as usize).max(1))
        .collect();
    let mut assigned: usize = counts.iter().sum();
    let mut k = 0;
    while assigned < spec.accounts {
        counts[k % spec.territories] += 1;
        assigned += 1;
        k += 1;
    }
    while assigned > spec.accounts {
        let i = (0..spec.territories)
            .max_by_key(|&i| counts[i])
            .expect("non-empty");
        counts[i] -= 1;
        assigned -= 1;
    }
    let potential_law = LogNormal::new(0.0, 1.0).expect("valid");
    let mut next_account = 0usize;
    let mut plans = Vec::with_capacity(spec.territories);
    for t in 0..spec.territories {
        let region = t % n_regions;
        let (lat0, lon0) = (REGIONS[region].1, REGIONS[region].2);
        let tlat = lat0 + rng.random_range(-2.0..2.0);
        let tlon = lon0 + rng.random_range(-2.0..2.0);
        let accounts = (0..counts[t])
            .map(|_| {
                next_account += 1;
                let potential = potential_law.sample(&mut rng);
                let dlat: f64 = StandardNormal.sample(&mut rng);
                let dlon: f64 = StandardNormal.sample(&mut rng);
                AccountPlan {
                    id: format!("A-{next_account:06}"),
                    potential,
                    workload: 0.0,
                    lat: tlat + 0.6 * dlat,
                    lon: tlon + 0.6 * dlon,
                    locked: rng.random::<f64>() < 0.05,
                }
            })
            .collect();
        plans.push(TerritoryPlan {
            name: format!("T-{:0width$}", t + 1, width = digits(spec.territories)),
            region,
            size: sizes[t],
            growth: rng.random_range(-0.04..0.12),
            accounts,
        });
    }
    // Annual revenue of the company in the first year: 2M per territory on average.
    let annual = 2_000_000.0 * spec.territories as f64;
    let months = spec.years * 12;
    let rows_target = spec.rows.unwrap_or(spec.accounts * months / 2) as f64;
    let mut deals_per_account_month = rows_target / (spec.accounts * months) as f64;
    for p in &mut plans {
        let total: f64 = p.accounts.iter().map(|a| a.potential).sum();
        for a in &mut p.accounts {
            // Potential in currency per year, scaled to the territory's size.
            a.potential = a.potential / total * p.size * annual;
            a.workload = (a.potential / annual * spec.accounts as f64).sqrt() * 10.0;
        }
    }
    // Deal rate of an account in month m relative to deals_per_account_month.
    let relative_rate = |a: &AccountPlan, growth: f64, m: usize| -> f64 {
        let trend = (1.0 + growth).powf(m as f64 / 12.0);
        SEASON[m % 12] * trend * (a.potential / (annual / spec.accounts as f64)).powf(0.3)
    };
    if spec.rows.is_some() {
        // An explicit row count is met on average: scale the rate by the
        // expected rows (late starts remove about 5% of account-months,
        // credits add 2% of deals; shocks average out).
        let expected: f64 = plans
            .iter()
            .flat_map(|p| {
                p.accounts
                    .iter()
                    .flat_map(move |a| (0..months).map(move |m| relative_rate(a, p.growth, m)))
            })
            .sum::<f64>()
            * deals_per_account_month
            * 0.95
            * 1.02;
        if expected > 0.0 {
            deals_per_account_month *= rows_target / expected;
        }
    }
    let first_year = spec.last_year - spec.years as i32 + 1;
    // Common monthly shocks: company and region, AR(1) on the log scale.
    let mut shock_rng = stream_rng(spec.seed, stream_id("generate:shocks"), 0);
    let ar_path = |rng: &mut SimRng, sd: f64| -> Vec<f64> {
        let mut z = 0.0;
        (0..months)
            .map(|_| {
                let e: f64 = StandardNormal.sample(rng);
                z = SHOCK_PERSISTENCE * z + sd * e;
                z
            })
            .collect()
    };
    let company_shock = ar_path(&mut shock_rng, COMPANY_SHOCK_SD);
    let region_shock: Vec<Vec<f64>> = (0..n_regions)
        .map(|_| ar_path(&mut shock_rng, REGION_SHOCK_SD))
        .collect();
    let size_law = LogNormal::new(0.0, 0.8).expect("valid");

    // Per territory: its sales rows as text, their count and its revenue by year.
    let sales_chunks: Vec<(String, usize, Vec<f64>)> = plans
        .par_iter()
        .enumerate()
        .map(|(t, p)| {
            let mut rng = stream_rng(spec.seed, stream_id(&format!("generate:{}", p.name)), 0);
            let mut text = String::new();
            let mut rows = 0usize;
            let mut deal_no = 0usize;
            let mut by_year = vec![0.0; spec.years];
            let main_rep = format!("R-{:0width$}", t + 1, width = digits(spec.territories));
            // The half-time hire of every seventh territory (see the reps
            // table) books every third account's deals from its start.
            let second_rep = format!("{main_rep}b");
            let hire_month = (spec.years - 1) * 12 + 6;
            let product_names = ["Core", "Plus", "Enterprise", "Services"];
            for (ai, a) in p.accounts.iter().enumerate() {
                // A few accounts churn or start late: zero months.
                let active_from = if rng.random::<f64>() < 0.1 { rng.random_range(0..months) } else { 0 };
                for m in active_from..months {
                    let year = first_year + (m / 12) as i32;
                    let month = (m % 12) as u32 + 1;
                    let rep = if t % 7 == 3 && ai % 3 == 0 && m >= hire_month {
                        &second_rep
                    } else {
                        &main_rep
                    };
                    let trend = (1.0 + p.growth).powf(m as f64 / 12.0);
                    let level = (company_shock[m] + region_shock[p.region][m]).exp();
                    let expected = a.potential / 12.0 * SEASON[m % 12] * trend * level;
                    let rate = deals_per_account_month * relative_rate(a, p.growth, m) * level;
                    let n = if rate > 0.0 {
                        Poisson::new(rate).map(|d| d.sample(&mut rng) as usize).unwrap_or(0)
                    } else {
                        0
                    };
                    if n == 0 {
                        continue;
                    }
                    let deal_mean = expected / rate;
                    let days = days_in_month(year, month);
                    for _ in 0..n {
                        deal_no += 1;
                        // Lognormal sizes with mean deal_mean; 1% of deals are 8x (lumpy).
                        let mut amount = deal_mean * size_law.sample(&mut rng) / (0.32f64).exp();
                        if rng.random::<f64>() < LUMPY_SHARE {
                            amount *= LUMPY_FACTOR;
                        }
                        let day = rng.random_range(1..=days);
                        let product = product_names[rng.random_range(0..product_names.len())];
                        let deal = format!("D-{}-{deal_no:07}", &p.name[2..]);
                        let _ = writeln!(
                            text,
                            "{year:04}-{month:02}-{day:02},{},{},{},{rep},{deal},{product},{:.2}",
                            p.name, REGIONS[p.region].0, a.id, amount
                        );
                        rows += 1;
                        by_year[m / 12] += amount;
                        // About 2% of deals are partly credited back the next month.
                        if rng.random::<f64>() < CREDIT_SHARE && m + 1 < months {
                            let (cy, cm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
                            let cday = rng.random_range(1..=days_in_month(cy, cm));
                            let credit = -amount * rng.random_range(CREDIT_PART.0..CREDIT_PART.1);
                            let _ = writeln!(
                                text,
                                "{cy:04}-{cm:02}-{cday:02},{},{},{},{rep},{deal}-CR,{product},{credit:.2}",
                                p.name,
                                REGIONS[p.region].0,
                                a.id,
                            );
                            rows += 1;
                            by_year[(m + 1) / 12] += credit;
                        }
                    }
                }
            }
            (text, rows, by_year)
        })
        .collect();

    let mut files = Vec::new();
    let sales_path = dir.join("sales.csv");
    {
        let tmp = sales_path.with_extension("tmp");
        let mut f = std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?,
        );
        f.write_all(b"date,territory,region,account,rep,deal,product,amount\n")
            .map_err(|e| Error::io(&tmp, e))?;
        for (text, _, _) in &sales_chunks {
            f.write_all(text.as_bytes())
                .map_err(|e| Error::io(&tmp, e))?;
        }
        f.flush().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, &sales_path).map_err(|e| Error::io(&sales_path, e))?;
    }
    files.push(sales_path);
    let sales_rows = sales_chunks.iter().map(|c| c.1).sum();

    // The plan year's expected revenue per territory, as drawn: its
    // accounts' potential through the season and its growth, times the
    // deals' mean (the lumpy ones), less the credits' mean, times the
    // mean of the common shocks' exponential (stationary AR(1)s). Every
    // account is active by then. What a forecast's P50 should be near,
    // and its P10-P90 hold in about 80% of draws.
    let shock_var = (COMPANY_SHOCK_SD.powi(2) + REGION_SHOCK_SD.powi(2))
        / (1.0 - SHOCK_PERSISTENCE * SHOCK_PERSISTENCE);
    let per_deal = (1.0 + LUMPY_SHARE * (LUMPY_FACTOR - 1.0))
        * (1.0 - CREDIT_SHARE * 0.5 * (CREDIT_PART.0 + CREDIT_PART.1))
        * (0.5 * shock_var).exp();
    let mut truth = String::from("territory,region,growth,expected_next_year\n");
    for p in &plans {
        let potential: f64 = p.accounts.iter().map(|a| a.potential).sum();
        let expected: f64 = (months..months + 12)
            .map(|m| potential / 12.0 * SEASON[m % 12] * (1.0 + p.growth).powf(m as f64 / 12.0))
            .sum::<f64>()
            * per_deal;
        let _ = writeln!(
            truth,
            "{},{},{:.4},{:.2}",
            p.name, REGIONS[p.region].0, p.growth, expected
        );
    }
    let path = dir.join("truth.csv");
    write_file(&path, truth.as_bytes())?;
    files.push(path);

    let mut accounts = String::from("account,territory,region,potential,workload,lat,lon,locked\n");
    for p in &plans {
        for a in &p.accounts {
            let _ = writeln!(
                accounts,
                "{},{},{},{:.2},{:.2},{:.4},{:.4},{}",
                a.id, p.name, REGIONS[p.region].0, a.potential, a.workload, a.lat, a.lon, a.locked
            );
        }
    }
    let path = dir.join("accounts.csv");
    write_file(&path, accounts.as_bytes())?;
    files.push(path);

    // Reps: one per territory; every seventh territory has a second half-time rep;
    // one new hire mid-way through the last year, one leaver in the plan year with a backfill.
    let plan_year = spec.last_year + 1;
    let mut reps =
        String::from("rep,territory,region,start_date,end_date,backfill_date,ramp_months,fte\n");
    for (t, p) in plans.iter().enumerate() {
        let region = REGIONS[p.region].0;
        let id = format!("R-{:0width$}", t + 1, width = digits(spec.territories));
        let start =
            NaiveDate::from_ymd_opt(first_year - 1 - (t % 5) as i32, 1 + (t % 12) as u32, 1)
                .expect("valid");
        let (end, backfill) = if t == 1 {
            (
                NaiveDate::from_ymd_opt(plan_year, 4, 30)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                NaiveDate::from_ymd_opt(plan_year, 7, 1)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            )
        } else {
            (String::new(), String::new())
        };
        let _ = writeln!(
            reps,
            "{id},{},{region},{start},{end},{backfill},3,1",
            p.name
        );
        if t % 7 == 3 {
            let hire = NaiveDate::from_ymd_opt(spec.last_year, 7, 1).expect("valid");
            let _ = writeln!(reps, "{id}b,{},{region},{hire},,,6,0.5", p.name);
        }
    }
    let path = dir.join("reps.csv");
    write_file(&path, reps.as_bytes())?;
    files.push(path);

    // Open pipeline: a few opportunities per territory closing in the plan year's first half.
    let stages = [
        ("Prospecting", 0.1),
        ("Qualified", 0.25),
        ("Proposal", 0.5),
        ("Negotiation", 0.75),
    ];
    let mut prng = stream_rng(spec.seed, stream_id("generate:pipeline"), 0);
    let mut pipeline =
        String::from("opportunity,territory,rep,account,amount,close_date,stage,win_probability\n");
    let mut opp = 0usize;
    for (t, p) in plans.iter().enumerate() {
        let rep = format!("R-{:0width$}", t + 1, width = digits(spec.territories));
        for _ in 0..(3 + p.accounts.len() / 20) {
            opp += 1;
            let a = &p.accounts[prng.random_range(0..p.accounts.len())];
            let (stage, prob) = stages[prng.random_range(0..stages.len())];
            let month = prng.random_range(1..=6u32);
            let day = prng.random_range(1..=28u32);
            let amount = a.potential / 12.0 * prng.random_range(0.5..3.0);
            // Some open deals have no amount or close date yet.
            let amount_text = if prng.random::<f64>() < 0.05 {
                String::new()
            } else {
                format!("{amount:.2}")
            };
            let close = if prng.random::<f64>() < 0.05 {
                String::new()
            } else {
                format!("{plan_year:04}-{month:02}-{day:02}")
            };
            let _ = writeln!(
                pipeline,
                "O-{opp:06},{},{rep},{},{amount_text},{close},{stage},{prob}",
                p.name, a.id
            );
        }
    }
    let path = dir.join("pipeline.csv");
    write_file(&path, pipeline.as_bytes())?;
    files.push(path);

    // Last year's quotas (for the last year of history): each territory's
    // revenue of the year before plus 8%, negotiated up or down by a
    // lognormal factor (sd 0.15, mean 1), so some quotas were too hard and
    // some too easy; rounded to thousands. Needs a year before.
    let quotas_line = if spec.years >= 2 {
        let mut qrng = stream_rng(spec.seed, stream_id("generate:quotas"), 0);
        let noise = LogNormal::new(-0.5 * 0.15f64.powi(2), 0.15).expect("valid");
        let mut quotas = String::from("territory,quota\n");
        for (p, (_, _, by_year)) in plans.iter().zip(&sales_chunks) {
            let before = by_year[spec.years - 2].max(0.0);
            let quota = before * 1.08 * noise.sample(&mut qrng);
            let _ = writeln!(
                quotas,
                "{},{:.0}",
                p.name,
                (quota / 1000.0).round() * 1000.0
            );
        }
        let path = dir.join("quotas.csv");
        write_file(&path, quotas.as_bytes())?;
        files.push(path);
        "quotas = \"quotas.csv\"          # last year's quotas (salesplan scorecard)\n"
    } else {
        ""
    };
    let last_year_revenue = annual
        * plans
            .iter()
            .map(|p| p.size * (1.0 + p.growth).powf((spec.years - 1) as f64 + 0.5))
            .sum::<f64>();
    let plan = (last_year_revenue * 1.08 / 100_000.0).round() * 100_000.0;
    let scenario = format!(
        r#"# Generated by `salesplan generate --territories {} --accounts {} --years {} --seed {}`.
name = "FY{plan_year} base (synthetic company)"
seed = {}
currency = "USD"
fiscal_year_start = "01-01"

[data]
sales = "sales.csv"
accounts = "accounts.csv"
reps = "reps.csv"
pipeline = "pipeline.csv"
{quotas_line}date_format = "%Y-%m-%d"

[data.columns]
date = "date"
territory = "territory"
amount = "amount"
account = "account"
region = "region"
deal = "deal"
rep = "rep"

[forecast]
period = "month"
start = "{plan_year}-01-01"
periods = 12
trials = 10000

[quota]
plan = {plan:.0}
method = "equal-probability"
over_assignment = 0.05
max_change = 0.30
"#,
        spec.territories, spec.accounts, spec.years, spec.seed, spec.seed
    );
    let path = dir.join("scenario.toml");
    write_file(&path, scenario.as_bytes())?;
    files.push(path);
    Ok(Generated {
        dir: dir.to_path_buf(),
        sales_rows,
        files,
    })
}

fn digits(n: usize) -> usize {
    n.to_string().len().max(2)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.map(|d| d.pred_opt().map(|p| p.day()).unwrap_or(28))
        .unwrap_or(28)
}

/// A monthly history in memory, for benches and scale tests: `territories`
/// territories (`T-0000`, ...) in 8 regions over `periods` months from
/// January 2024, levels 1,000 to 17,000 with a seasonal ramp of up to 20%
/// and Gamma(8, 1/8) noise times a company factor shared by all territories;
/// the same for the same arguments.
pub fn synthetic_history(territories: usize, periods: usize) -> SalesHistory {
    const COMPANY_SD: f64 = 0.2;
    let calendar = Calendar::new(PeriodKind::Month, 1);
    let mut rng = stream_rng(3, stream_id("bench-history"), 0);
    let noise = Gamma::new(8.0, 1.0 / 8.0).unwrap_or_else(|_| unreachable!("valid constants"));
    // One company factor per period (log sd 0.2, mean-one multiplier):
    // about a quarter of each territory's variance, as in the issue's
    // reference workload ("one common factor").
    let company: Vec<f64> = (0..periods)
        .map(|_| {
            let z: f64 = StandardNormal.sample(&mut rng);
            (COMPANY_SD * z - 0.5 * COMPANY_SD * COMPANY_SD).exp()
        })
        .collect();
    let revenue = (0..territories)
        .map(|t| {
            let level = 1000.0 * (1.0 + (t % 17) as f64);
            (0..periods)
                .map(|p| {
                    level
                        * (1.0 + 0.2 * ((p % 12) as f64 / 11.0))
                        * company[p]
                        * noise.sample(&mut rng)
                })
                .collect()
        })
        .collect();
    let names = (0..territories)
        .map(|t| Territory {
            name: format!("T-{t:04}"),
            region: format!("R-{}", t % 8),
        })
        .collect();
    SalesHistory::from_series(calendar, 2024 * 12, names, revenue)
}
