//! The data behind the report's live what-if: what `report.html` needs to
//! re-solve the quotas in the browser for another plan, over-assignment,
//! method or `max_change`, with the same rules as [`crate::quota`].
//!
//! Per territory: its simulated annual revenue as a quantile table of
//! [`LEVELS`] points (linear interpolation between them reproduces the
//! empirical quantile function the engine bisects on to well within 1%),
//! and what its bounds and share weights are made of. Per company: the
//! same table of the company total, for P(company >= plan). Built by the
//! quota stage from the trials it already sorted; written into the page by
//! `export::whatif` as compact JSON (integer steps of a per-table unit).

use serde_json::{json, Value};

use crate::history::QuotaLimit;
use crate::scenario::QuotaSpec;
use crate::stats::quantile::sorted_quantile;

/// Points of each quantile table: levels 0, 0.005, ..., 1.
pub const LEVELS: usize = 201;

/// Significant digits kept by the compact encoding.
const DIGITS: i32 = 7;

/// One territory as the what-if sees it.
#[derive(Debug, Clone)]
pub struct WhatIfTerritory {
    pub name: String,
    /// Quantiles of the simulated annual revenue at levels i / (LEVELS - 1).
    pub quantiles: Vec<f64>,
    /// What `max_change` is measured from: last quota, else last year.
    pub base: f64,
    pub last_year: f64,
    pub potential: f64,
    pub limit: QuotaLimit,
    /// Share of the quota in each quarter (the territory's simulated
    /// seasonality; even until the forecast is known).
    pub quarter_shares: [f64; 4],
}

/// Everything the page's solver reads.
#[derive(Debug, Clone)]
pub struct WhatIf {
    pub spec: QuotaSpec,
    pub trials: usize,
    pub territories: Vec<WhatIfTerritory>,
    /// Quantiles of the company's simulated annual revenue (empty until set).
    pub company: Vec<f64>,
}

/// The quantile table of an ascending sample.
pub fn quantile_table(sorted: &[f64]) -> Vec<f64> {
    (0..LEVELS)
        .map(|i| sorted_quantile(sorted, i as f64 / (LEVELS - 1) as f64))
        .collect()
}

/// `table` as `(unit, steps)`: the first value and then the increments, in
/// integers of a power-of-ten unit that keeps 7 significant digits
/// of the table's largest magnitude. Quantile tables ascend, so the steps
/// are small non-negative integers; the browser adds them back up.
pub fn encode(table: &[f64]) -> (f64, Vec<i64>) {
    let largest = table.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let unit = if largest > 0.0 && largest.is_finite() {
        10f64.powi(largest.log10().floor() as i32 + 1 - DIGITS)
    } else {
        1.0
    };
    let mut last = 0i64;
    let steps = table
        .iter()
        .map(|v| {
            let k = (v / unit).round() as i64;
            let step = k - last;
            last = k;
            step
        })
        .collect();
    (unit, steps)
}

/// The inverse of [`encode`] (what the page's script does).
pub fn decode(unit: f64, steps: &[i64]) -> Vec<f64> {
    let mut k = 0i64;
    steps
        .iter()
        .map(|s| {
            k += s;
            k as f64 * unit
        })
        .collect()
}

fn table_json(table: &[f64]) -> Value {
    let (unit, steps) = encode(table);
    json!({ "unit": unit, "steps": steps })
}

impl WhatIf {
    /// The page's data as JSON (`export::whatif` embeds it).
    pub fn to_json(&self, rebalanced: bool) -> Value {
        let s = &self.spec;
        json!({
            "levels": LEVELS,
            "trials": self.trials,
            "plan": s.plan,
            "over_assignment": s.over_assignment,
            "method": s.method.name(),
            "max_change": s.max_change,
            "blend": s.blend.iter().map(|(m, w)| json!([m.name(), w])).collect::<Vec<_>>(),
            "rebalanced": rebalanced,
            "company": table_json(&self.company),
            "territories": self.territories.iter().map(|t| json!({
                "name": t.name,
                "q": table_json(&t.quantiles),
                "base": t.base,
                "last_year": t.last_year,
                "potential": t.potential,
                "floor": t.limit.floor,
                "cap": t.limit.cap,
                "locked": t.limit.locked,
                "quarters": t.quarter_shares,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_hits_the_empirical_quantiles_at_its_levels() {
        let sorted: Vec<f64> = (0..1000).map(|i| (i as f64).powf(1.5)).collect();
        let t = quantile_table(&sorted);
        assert_eq!(t.len(), LEVELS);
        assert_eq!(t[0], sorted[0]);
        assert_eq!(t[LEVELS - 1], sorted[999]);
        assert_eq!(t[100], sorted_quantile(&sorted, 0.5));
        assert_eq!(t[20], sorted_quantile(&sorted, 0.1));
    }

    #[test]
    fn encoding_keeps_seven_significant_digits() {
        let table = vec![-1234.5678, 0.0, 3.25, 98_765_432.1, 98_765_499.0];
        let (unit, steps) = encode(&table);
        assert_eq!(unit, 10.0);
        let back = decode(unit, &steps);
        for (a, b) in table.iter().zip(&back) {
            assert!((a - b).abs() <= 0.5 * unit, "{a} vs {b}");
        }
        assert!(steps[1..].iter().all(|&s| s >= 0));
        // A table of zeros (a territory that never sells) survives too.
        let (unit, steps) = encode(&[0.0; 3]);
        assert_eq!(decode(unit, &steps), vec![0.0; 3]);
    }
}
