//! `summary.json`: scenario, seed, trials, version, inputs, then one object
//! per stage that ran (SPEC's key names).

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::export::csv::quantile_column;
use crate::output::OutputDir;
use crate::report::Report;
use crate::sim::Summary;

/// Mean and quantiles of `s` (at levels `qs`) as a JSON object, to cents.
pub fn summary_json(s: &Summary, qs: &[f64]) -> Value {
    let mut m = Map::new();
    m.insert("mean".into(), json!(round2(s.mean)));
    for (q, v) in qs.iter().zip(&s.quantiles) {
        m.insert(quantile_column(*q), json!(round2(*v)));
    }
    Value::Object(m)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[derive(Serialize)]
struct Head<'a> {
    scenario: &'a str,
    seed: u64,
    trials: usize,
    version: &'a str,
    inputs: &'a std::collections::BTreeMap<String, String>,
}

/// Build the summary value of `report`.
pub fn summary(report: &Report) -> Value {
    let m = &report.meta;
    let mut out = match serde_json::to_value(Head {
        scenario: &m.scenario,
        seed: m.seed,
        trials: m.trials,
        version: &m.version,
        inputs: &m.inputs,
    }) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    out.insert("currency".into(), json!(m.currency));
    out.insert("period".into(), json!(m.period));
    if let Some(d) = &report.data {
        out.insert(
            "data".into(),
            json!({
                "periods": d.periods,
                "first_period": d.first_period,
                "last_period": d.last_period,
                "territories": d.territories,
                "regions": d.regions.len(),
                "accounts": d.accounts,
                "reps": d.reps,
                "pipeline": d.pipeline,
                "tables": d.load.tables,
                "dropped_periods": d.load.dropped_periods,
            }),
        );
    }
    if let Some(f) = &report.fit {
        let mut models: std::collections::BTreeMap<&str, usize> = Default::default();
        for r in &f.rows {
            *models.entry(r.model.as_str()).or_default() += 1;
        }
        out.insert(
            "fit".into(),
            json!({
                "territories": f.rows.len(),
                "models": models,
                "with_trend": f.rows.iter().filter(|r| r.trend).count(),
                "pooled": f.rows.iter().filter(|r| r.pooled).count(),
                "company_factor_share": round6(f.shocks.company_share),
                "region_factor_share": round6(f.shocks.region_share),
                "mean_correlation": round6(f.shocks.mean_correlation),
                "factor_ar1": round6(f.shocks.factor_ar),
                "own_ar1": round6(f.shocks.own_ar),
                "season_discount": round6(f.season_discount),
                "persistence": round6(f.persistence),
                "variance_power": f.variance_power.map(round6),
                "alpha_prior": {
                    "level": f.alpha_prior.level.map(round6),
                    "share": f.alpha_prior.share.map(round6),
                    "level_weight": f.alpha_prior.level_weight.map(round6),
                    "share_weight": f.alpha_prior.share_weight.map(round6),
                },
                "chosen_by_rolling_origin": f.rows.iter().filter(|r| r.chosen_by.starts_with("rolling")).count(),
                "averaged_forms": f.rows.iter().filter(|r| r.chosen_by.contains("average of")).count(),
                "calibrated": f.rows.iter().filter(|r| r.calibration.is_some()).count(),
            }),
        );
    }
    if let Some(f) = &report.forecast {
        let mut o = Map::new();
        o.insert("total".into(), summary_json(&f.total, &f.quantiles));
        if let Some(p) = &f.prob_hit_plan {
            o.insert("plan".into(), json!(p.plan));
            o.insert("prob_hit_plan".into(), json!(round6(p.probability)));
            o.insert("prob_hit_plan_se".into(), json!(round6(p.standard_error)));
        }
        o.insert("actual_periods".into(), json!(f.actual_periods));
        o.insert("draws".into(), json!(f.draws));
        out.insert("forecast".into(), Value::Object(o));
    }
    if let Some(q) = &report.quota {
        out.insert(
            "quota".into(),
            json!({
                "method": q.method,
                "plan": q.plan,
                "quota_total": round2(q.quota_total),
                "attain_probability": round6(q.attain_probability),
                "expected_share_attaining": round6(q.expected_share_attaining),
                "expected_share_attaining_band": [round6(q.share_attaining_p05), round6(q.share_attaining_p95)],
                "attain_probability_spread": round6(q.attain_probability_spread),
                "size_attainment_correlation": round6(q.size_attainment_correlation),
                "binding": q.rows.iter().filter(|r| r.binding.is_some()).count(),
                "rep_quotas": q.reps.len(),
                "methods": q.comparison.iter().map(|m| json!({
                    "method": m.method,
                    "mean_attain_probability": round6(m.mean_attain_probability),
                    "attain_probability_spread": round6(m.attain_probability_spread),
                    "expected_share_attaining": round6(m.expected_share_attaining),
                    "expected_share_attaining_band": [round6(m.share_attaining_p05), round6(m.share_attaining_p95)],
                    "size_attainment_correlation": round6(m.size_attainment_correlation),
                })).collect::<Vec<_>>(),
            }),
        );
    }
    if let Some(c) = &report.comp {
        out.insert(
            "comp".into(),
            json!({
                "cost_mean": round2(c.cost.mean),
                "cost_p10": round2(c.cost.p10),
                "cost_p50": round2(c.cost.p50),
                "cost_p90": round2(c.cost.p90),
                "cost_of_sales_p50": round6(c.cost_of_sales.p50),
                "cost_of_sales_p10": round6(c.cost_of_sales.p10),
                "cost_of_sales_p90": round6(c.cost_of_sales.p90),
                "cost_of_sales_mean": round6(c.cost_of_sales.mean),
                "expected_cost_at_plan": round2(c.expected_cost_at_plan),
                "target_incentive_total": round2(c.target_incentive_total),
                "share_reps_above_100": round6(c.share_reps_above_100),
                "share_reps_above_100_band": [round6(c.share_reps_above_100_p05), round6(c.share_reps_above_100_p95)],
                "quotas": c.quota_source,
                "reps": c.reps.len(),
                "unassigned_reps": c.unassigned.len(),
                "plans": c.plans.iter().map(|p| json!({
                    "name": p.name,
                    "period": p.period,
                    "catch_up": p.catch_up,
                    "reps": p.reps,
                    "cost_mean": round2(p.cost_mean),
                    "cost_at_plan": round2(p.cost_at_plan),
                })).collect::<Vec<_>>(),
                "accrual": c.accrual.iter().map(|a| json!({
                    "quarter": a.quarter,
                    "start": a.start,
                    "mean": round2(a.accrual.mean),
                    "p10": round2(a.accrual.p10),
                    "p50": round2(a.accrual.p50),
                    "p90": round2(a.accrual.p90),
                })).collect::<Vec<_>>(),
            }),
        );
    }
    if let Some(t) = &report.territories {
        let ratio = |x: Option<f64>| x.map(round6);
        let measures: Map<String, Value> = t
            .measures
            .iter()
            .map(|m| {
                (
                    m.measure.name().to_string(),
                    json!({
                        "cv_before": round6(m.cv_before),
                        "cv_after": round6(m.cv_after),
                        "max_min_before": ratio(m.max_min_before),
                        "max_min_after": ratio(m.max_min_after),
                    }),
                )
            })
            .collect();
        out.insert(
            "territories".into(),
            json!({
                "cv_before": round6(t.cv_before),
                "cv_after": round6(t.cv_after),
                "max_min_before": ratio(t.max_min_before),
                "max_min_after": ratio(t.max_min_after),
                "moved": t.moved,
                "forced_moves": t.forced_moves,
                "budget_accounts": t.budget_accounts,
                "potential_moved": round2(t.potential_moved),
                "objective_before": round6(t.objective_before),
                "objective_after": round6(t.objective_after),
                "measures": Value::Object(measures),
            }),
        );
    }
    if let Some(b) = &report.backtest {
        let scores = |s: &crate::backtest::Scores| {
            json!({
                "points": s.points,
                "coverage_50": round6(s.coverage_50),
                "coverage_80": round6(s.coverage_80),
                "coverage_90": round6(s.coverage_90),
                "scaled_pinball": round6(s.scaled_pinball),
                "baseline_scaled_pinball": round6(s.baseline_scaled_pinball),
                "baseline_coverage_80": round6(s.baseline_coverage_80),
                "scaled_crps": round6(s.scaled_crps),
                "baseline_scaled_crps": round6(s.baseline_scaled_crps),
                "drift_scaled_pinball": round6(s.drift_scaled_pinball),
                "drift_scaled_crps": round6(s.drift_scaled_crps),
                "drift_coverage_80": round6(s.drift_coverage_80),
                "mase": round6(s.mase),
                "total_error": round6(s.total_error),
                "series_scored": s.series_scored,
                "series_skipped": s.series_skipped,
            })
        };
        let mut o = match scores(&b.overall) {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        o.insert("holdout".into(), json!(b.holdout));
        o.insert("origins".into(), json!(b.origins));
        let mut levels = Map::new();
        for (level, s) in &b.by_level {
            levels.insert(level.clone(), scores(s));
        }
        o.insert("by_level".into(), Value::Object(levels));
        o.insert(
            "total_coverage_80_calibrated_band".into(),
            json!([
                round6(b.total_coverage_80_band.0),
                round6(b.total_coverage_80_band.1)
            ]),
        );
        out.insert("backtest".into(), Value::Object(o));
    }
    if let Some(qb) = &report.quota_backtest {
        let methods: Map<String, Value> = qb
            .methods
            .iter()
            .map(|m| {
                (
                    m.method.name().to_string(),
                    json!({
                        "plan": round2(m.plan),
                        "predicted_share": round6(m.predicted_share),
                        "predicted_band": [round6(m.predicted_band.0), round6(m.predicted_band.1)],
                        "realised_share": round6(m.realised_share),
                        "inside_band": m.inside_band,
                        "actual_over_quota_p10": round6(m.ratio.0),
                        "actual_over_quota_p50": round6(m.ratio.1),
                        "actual_over_quota_p90": round6(m.ratio.2),
                        "attain_probability_spread": round6(m.probability_spread),
                    }),
                )
            })
            .collect();
        out.insert(
            "quota_backtest".into(),
            json!({
                "year_start": qb.year_start,
                "territories": qb.territories,
                "actual_total": round2(qb.actual_total),
                "methods": methods,
            }),
        );
    }
    if let Some(c) = &report.capacity {
        out.insert(
            "capacity".into(),
            json!({
                "plan": round2(c.plan),
                "target_probability": round6(c.target_probability),
                "hires_needed": c.hires_needed,
                "reached": c.hires_needed.is_some(),
                "searched": c.searched,
                "hires_per_date": c.hires_per_date,
                "attrition": round6(c.attrition),
                "attrition_source": c.attrition_source,
                "productivity_per_fte_month": c.productivity.iter().map(|(r, p)| (r.clone(), json!(round2(*p)))).collect::<Map<String, Value>>(),
                "productivity_source": c.productivity_source,
                "ramp": c.ramp,
                "backfill_months": c.backfill_months,
                "elasticity": c.elasticity,
                "cost_per_hire": c.cost_per_hire,
                "curve": c.rows.iter().map(|r| json!({
                    "hires": r.hires,
                    "start_date": r.start,
                    "region": r.region,
                    "prob_plan": round6(r.prob_plan),
                    "prob_plan_se": round6(r.prob_plan_se),
                    "mean": round2(r.mean),
                    "p10": round2(r.p10),
                    "p50": round2(r.p50),
                    "p90": round2(r.p90),
                    "cost": r.cost.map(round2),
                    "marginal_revenue": r.marginal_revenue.map(round2),
                })).collect::<Vec<_>>(),
            }),
        );
    }
    if let Some(c) = &report.scorecard {
        out.insert(
            "scorecard".into(),
            json!({
                "year_start": c.year_start,
                "year_end": c.year_end,
                "territories": c.rows.len(),
                "share_attaining": round6(c.share_attaining),
                "reps": c.rep_rows.len(),
                "reps_share_attaining": (!c.rep_rows.is_empty()).then(|| round6(
                    c.reps_attained() as f64 / c.rep_rows.len() as f64
                )),
                "fair_share": round6(c.fair_share),
                "fair_share_band": [round6(c.fair_share_p05), round6(c.fair_share_p95)],
                "inside_band": c.inside_band,
                "attainment_p10": round6(c.attainment_p10),
                "attainment_p50": round6(c.attainment_p50),
                "attainment_p90": round6(c.attainment_p90),
                "size_correlation": round6(c.size_correlation),
                "potential_correlation": round6(c.potential_correlation),
                "improbable": c.improbable.iter().map(|i| json!({
                    "territory": i.territory,
                    "attain_probability": round6(i.attain_probability),
                    "verdict": i.verdict,
                })).collect::<Vec<_>>(),
            }),
        );
    }
    out.insert("warnings".into(), json!(report.warnings));
    Value::Object(out)
}

/// Write `summary.json`.
///
/// # Errors
/// `Error::Io` if the file cannot be written.
pub fn write(report: &Report, out: &OutputDir) -> Result<()> {
    let text = serde_json::to_string_pretty(&summary(report))
        .map_err(|e| Error::Internal(format!("cannot serialise summary: {e}")))?;
    out.write("summary.json", format!("{text}\n").as_bytes())
}
