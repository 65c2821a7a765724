//! The `[capacity]` scenario section: what the hiring search needs, read
//! and checked (each bad value an error naming its key).

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapacity {
    plan: Option<f64>,
    target_probability: Option<f64>,
    hire_dates: Option<Vec<String>>,
    hires_per_date: Option<i64>,
    max_hires: Option<i64>,
    ramp_months: Option<f64>,
    ramp: Option<Vec<f64>>,
    productivity: Option<f64>,
    attrition: Option<f64>,
    backfill_months: Option<f64>,
    elasticity: Option<f64>,
    cost_per_hire: Option<f64>,
}

/// How a new rep ramps: linearly over a number of months, or by a curve
/// of productivity shares for the first months (1 after its end).
#[derive(Debug, Clone, PartialEq)]
pub enum Ramp {
    /// `None`: the reps table's median `ramp_months` (3 without reps).
    Months(Option<f64>),
    Curve(Vec<f64>),
}

/// The `[capacity]` section, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct HiringSpec {
    /// `capacity.plan`, else `[quota] plan`.
    pub plan: f64,
    pub target_probability: f64,
    /// Candidate start dates, ascending; `None`: the first period of each
    /// quarter of the horizon.
    pub hire_dates: Option<Vec<NaiveDate>>,
    /// Hires a candidate date can take; `None`: the searched hires spread
    /// evenly over the dates.
    pub hires_per_date: Option<usize>,
    /// Most hires searched; `None`: 20, or a quarter of the current FTE
    /// when that is more.
    pub max_hires: Option<usize>,
    pub ramp: Ramp,
    /// Revenue per ramped FTE-month; `None`: estimated from the history.
    pub productivity: Option<f64>,
    /// Annual attrition rate; `None`: estimated from the reps table.
    pub attrition: Option<f64>,
    pub backfill_months: f64,
    pub elasticity: f64,
    /// Annual cost of one hire (salary and on-target incentive).
    pub cost_per_hire: Option<f64>,
}

/// Default target: P(company revenue >= plan) of 70%.
pub const DEFAULT_TARGET: f64 = 0.7;
/// Default largest number of hires searched (or a quarter of the current
/// FTE when that is more).
pub const DEFAULT_MAX_HIRES: usize = 20;
/// Default months from a leaver's departure to the backfill's start.
pub const DEFAULT_BACKFILL_MONTHS: f64 = 3.0;

/// Check the `[capacity]` table `value` of scenario `file`; `quota_plan`
/// is `[quota] plan` when there is one.
///
/// # Errors
/// `Error::Scenario` naming the key of the first bad value.
pub fn check(file: &Path, value: toml::Value, quota_plan: Option<f64>) -> Result<HiringSpec> {
    let err = |key: &str, message: String| Error::scenario(file, key, message);
    let raw: RawCapacity = value
        .try_into()
        .map_err(|e: toml::de::Error| err("capacity", e.message().to_string()))?;
    let positive = |key: &str, v: Option<f64>| -> Result<Option<f64>> {
        match v {
            Some(x) if !(x.is_finite() && x > 0.0) => {
                Err(err(key, format!("found {x}, expected a number above 0")))
            }
            _ => Ok(v),
        }
    };
    let plan = match positive("capacity.plan", raw.plan)?.or(quota_plan) {
        Some(p) => p,
        None => {
            return Err(err(
                "capacity.plan",
                "found no plan, expected capacity.plan or a [quota] plan".into(),
            ))
        }
    };
    let target_probability = raw.target_probability.unwrap_or(DEFAULT_TARGET);
    if !(0.0..1.0).contains(&target_probability) {
        return Err(err(
            "capacity.target_probability",
            format!("found {target_probability}, expected a probability from 0 to below 1 (a simulation cannot promise certainty)"),
        ));
    }
    let count = |key: &str, v: Option<i64>, least: i64| -> Result<Option<usize>> {
        match v {
            None => Ok(None),
            Some(n) if n >= least && n <= 10_000 => Ok(Some(n as usize)),
            Some(n) => Err(err(
                key,
                format!("found {n}, expected a whole number from {least} to 10000"),
            )),
        }
    };
    let hire_dates = match raw.hire_dates {
        None => None,
        Some(list) if list.is_empty() => {
            return Err(err(
                "capacity.hire_dates",
                "found an empty list, expected at least one date".into(),
            ))
        }
        Some(list) => {
            let mut dates = list
                .iter()
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                        err(
                            "capacity.hire_dates",
                            format!("found '{d}', expected a date YYYY-MM-DD"),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            dates.sort();
            dates.dedup();
            Some(dates)
        }
    };
    if let Some(m) = raw.ramp_months.filter(|m| *m > 120.0) {
        return Err(err(
            "capacity.ramp_months",
            format!("found {m}, expected months from 0 to 120"),
        ));
    }
    let ramp = match (raw.ramp, positive("capacity.ramp_months", raw.ramp_months)?) {
        (Some(_), Some(_)) => {
            return Err(err(
                "capacity.ramp",
                "found both ramp and ramp_months, expected one of them".into(),
            ))
        }
        (Some(curve), None) => {
            if curve.is_empty() || curve.iter().any(|s| !(0.0..=1.0).contains(s)) {
                return Err(err(
                    "capacity.ramp",
                    format!("found {curve:?}, expected productivity shares from 0 to 1, one per month since the start"),
                ));
            }
            Ramp::Curve(curve)
        }
        (None, months) => Ramp::Months(months),
    };
    let attrition = raw.attrition;
    if let Some(a) = attrition {
        if !(0.0..1.0).contains(&a) {
            return Err(err(
                "capacity.attrition",
                format!("found {a}, expected an annual rate from 0 to below 1"),
            ));
        }
    }
    let backfill_months = raw.backfill_months.unwrap_or(DEFAULT_BACKFILL_MONTHS);
    if !(backfill_months.is_finite() && (0.0..=120.0).contains(&backfill_months)) {
        return Err(err(
            "capacity.backfill_months",
            format!("found {backfill_months}, expected months from 0 to 120"),
        ));
    }
    let elasticity = raw.elasticity.unwrap_or(1.0);
    if !(elasticity.is_finite() && elasticity > 0.0 && elasticity <= 2.0) {
        return Err(err(
            "capacity.elasticity",
            format!("found {elasticity}, expected a number above 0 and at most 2 (1: revenue in proportion to capacity)"),
        ));
    }
    Ok(HiringSpec {
        plan,
        target_probability,
        hire_dates,
        hires_per_date: count("capacity.hires_per_date", raw.hires_per_date, 1)?,
        max_hires: count("capacity.max_hires", raw.max_hires, 0)?,
        ramp,
        productivity: positive("capacity.productivity", raw.productivity)?,
        attrition,
        backfill_months,
        elasticity,
        cost_per_hire: match raw.cost_per_hire {
            Some(c) if !(c.is_finite() && c >= 0.0) => {
                return Err(err(
                    "capacity.cost_per_hire",
                    format!("found {c}, expected an amount of at least 0"),
                ))
            }
            c => c,
        },
    })
}
