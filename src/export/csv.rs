//! CSV files: `fit.csv`, `forecast.csv`, `quotas.csv` (columns as in SPEC;
//! rep rows follow their territory's row). Comp's files are in [`super::comp`].

use crate::error::Result;
use crate::output::OutputDir;
use crate::rebalance::TerritoriesSection;
use crate::report::Report;
use crate::scenario::STANDARD_QUANTILES;

/// A CSV table being built in memory.
#[derive(Default)]
pub struct Csv {
    text: String,
}

impl Csv {
    /// A table with `header`.
    pub fn new(header: &[&str]) -> Self {
        let mut c = Self::default();
        c.row(header.iter().map(|s| s.to_string()));
        c
    }

    /// Append a row (fields are quoted where needed).
    pub fn row(&mut self, fields: impl IntoIterator<Item = String>) {
        let mut first = true;
        for f in fields {
            if !first {
                self.text.push(',');
            }
            first = false;
            if f.contains([',', '"', '\n', '\r']) {
                self.text.push('"');
                self.text.push_str(&f.replace('"', "\"\""));
                self.text.push('"');
            } else {
                self.text.push_str(&f);
            }
        }
        self.text.push('\n');
    }

    /// The finished text.
    pub fn into_bytes(self) -> Vec<u8> {
        self.text.into_bytes()
    }
}

/// Money and other amounts: two decimals.
pub fn money(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}", x + 0.0)
    } else {
        String::new()
    }
}

/// Probabilities and statistics: six decimals.
pub fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{:.6}", x + 0.0)
    } else {
        String::new()
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_default()
}

/// Column name of quantile `q`: 0.05 -> p05, 0.025 -> p02_5, 0.99 -> p99.
pub fn quantile_column(q: f64) -> String {
    let pct = format!("{:.4}", q * 100.0);
    let pct = pct.trim_end_matches('0').trim_end_matches('.');
    let (int, frac) = pct.split_once('.').unwrap_or((pct, ""));
    let mut name = format!("p{:0>2}", int);
    if !frac.is_empty() {
        name.push('_');
        name.push_str(frac);
    }
    name
}

/// Order of quantile columns: the seven standard ones first, then the rest ascending.
pub fn quantile_order(qs: &[f64]) -> Vec<usize> {
    let is_std = |q: f64| STANDARD_QUANTILES.iter().any(|s| (s - q).abs() < 1e-12);
    let mut order: Vec<usize> = (0..qs.len()).filter(|&i| is_std(qs[i])).collect();
    order.extend((0..qs.len()).filter(|&i| !is_std(qs[i])));
    order
}

/// Write the CSV files for the stages in `report`.
///
/// # Errors
/// `Error::Io` if a file cannot be written.
pub fn write(report: &Report, out: &OutputDir) -> Result<()> {
    if let Some(fit) = &report.fit {
        let mut c = Csv::new(&[
            "territory",
            "model",
            "n_periods",
            "params",
            "loglik",
            "aic",
            "bic",
            "gof_name",
            "gof_stat",
            "region",
            "runner_up",
            "trend",
            "seasonal",
            "pooled",
            "level",
            "slope",
            "spread_factor",
            "chosen_by",
            "origins",
            "calibration",
            "calibration_total",
            "calibration_total_below",
            "calibration_total_above",
            "origins_held_out",
        ]);
        for r in &fit.rows {
            let side = |i: usize| {
                r.calibration_total_sides
                    .map(|k| format!("{:.4}", k[i]))
                    .unwrap_or_default()
            };
            c.row([
                r.territory.clone(),
                r.model.clone(),
                r.n_periods.to_string(),
                r.params.clone(),
                opt(r.loglik),
                opt(r.aic),
                opt(r.bic),
                r.gof_name.clone().unwrap_or_default(),
                opt(r.gof_stat),
                r.region.clone(),
                r.runner_up.clone().unwrap_or_default(),
                r.trend.to_string(),
                r.seasonal.to_string(),
                r.pooled.to_string(),
                money(r.level),
                money(r.slope),
                format!("{:.4}", r.spread_factor),
                r.chosen_by.clone(),
                r.origins.to_string(),
                r.calibration.map(|k| format!("{k:.4}")).unwrap_or_default(),
                r.calibration_total
                    .map(|k| format!("{k:.4}"))
                    .unwrap_or_default(),
                side(0),
                side(1),
                r.origins_held_out.to_string(),
            ]);
        }
        out.write("fit.csv", &c.into_bytes())?;
    }
    if let Some(f) = &report.forecast {
        let order = quantile_order(&f.quantiles);
        let mut header = vec![
            "level".to_string(),
            "name".into(),
            "period".into(),
            "mean".into(),
        ];
        header.extend(order.iter().map(|&i| quantile_column(f.quantiles[i])));
        let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut c = Csv::new(&header_refs);
        for r in &f.rows {
            let mut fields = vec![
                r.level.clone(),
                r.name.clone(),
                r.period.clone(),
                money(r.summary.mean),
            ];
            fields.extend(order.iter().map(|&i| money(r.summary.quantiles[i])));
            c.row(fields);
        }
        out.write("forecast.csv", &c.into_bytes())?;
    }
    if let Some(qb) = &report.quota_backtest {
        let mut c = Csv::new(&[
            "method",
            "territory",
            "quota",
            "actual",
            "attained",
            "attain_probability",
        ]);
        for m in &qb.methods {
            for r in &m.rows {
                c.row([
                    m.method.name().to_string(),
                    r.territory.clone(),
                    money(r.quota),
                    money(r.actual),
                    (r.actual >= r.quota).to_string(),
                    num(r.attain_probability),
                ]);
            }
        }
        out.write("quota_backtest.csv", &c.into_bytes())?;
    }
    if let Some(card) = &report.scorecard {
        write_scorecard(card, out)?;
    }
    if let Some(c) = &report.capacity {
        write_capacity(c, out)?;
    }
    if let Some(b) = &report.backtest {
        let mut header = vec!["origin", "level", "name", "period", "actual", "mean"];
        let names: Vec<String> = STANDARD_QUANTILES
            .iter()
            .map(|&q| quantile_column(q))
            .collect();
        header.extend(names.iter().map(String::as_str));
        let baseline: Vec<String> = STANDARD_QUANTILES
            .iter()
            .map(|&q| format!("baseline_{}", quantile_column(q)))
            .collect();
        header.extend(baseline.iter().map(String::as_str));
        let drift: Vec<String> = STANDARD_QUANTILES
            .iter()
            .map(|&q| format!("drift_{}", quantile_column(q)))
            .collect();
        header.extend(drift.iter().map(String::as_str));
        header.extend(["scale", "crps", "baseline_crps", "drift_crps"]);
        let mut c = Csv::new(&header);
        for r in &b.rows {
            let mut f = vec![
                r.origin.clone(),
                r.level.clone(),
                r.name.clone(),
                r.period.clone(),
                money(r.actual),
                money(r.mean),
            ];
            f.extend(r.quantiles.iter().map(|&v| money(v)));
            f.extend(r.baseline.iter().map(|&v| money(v)));
            f.extend(r.drift.iter().map(|&v| money(v)));
            f.extend([
                num(r.scale),
                num(r.crps),
                num(r.baseline_crps),
                num(r.drift_crps),
            ]);
            c.row(f);
        }
        out.write("backtest.csv", &c.into_bytes())?;
    }
    if let Some(q) = &report.quota {
        let mut c = Csv::new(&[
            "territory",
            "rep",
            "quota",
            "last_year_actual",
            "forecast_p50",
            "attain_probability",
            "binding",
            "unconstrained_quota",
            "quota_q1",
            "quota_q2",
            "quota_q3",
            "quota_q4",
        ]);
        for r in &q.rows {
            c.row([
                r.territory.clone(),
                String::new(),
                money(r.quota),
                money(r.last_year_actual),
                money(r.forecast_p50),
                num(r.attain_probability),
                r.binding.clone().unwrap_or_default(),
                money(r.unconstrained),
                money(r.quarters[0]),
                money(r.quarters[1]),
                money(r.quarters[2]),
                money(r.quarters[3]),
            ]);
            for rep in q.reps.iter().filter(|x| x.territory == r.territory) {
                c.row([
                    rep.territory.clone(),
                    rep.rep.clone(),
                    money(rep.quota),
                    String::new(),
                    String::new(),
                    num(rep.attain_probability),
                    String::new(),
                    String::new(),
                    money(rep.quarters[0]),
                    money(rep.quarters[1]),
                    money(rep.quarters[2]),
                    money(rep.quarters[3]),
                ]);
            }
        }
        out.write("quotas.csv", &c.into_bytes())?;
        if !q.period_starts.is_empty() {
            let mut c = Csv::new(&["territory", "period", "quota"]);
            for r in &q.rows {
                for (d, v) in q.period_starts.iter().zip(&r.by_period) {
                    c.row([r.territory.clone(), d.clone(), money(*v)]);
                }
            }
            out.write("quota_phasing.csv", &c.into_bytes())?;
        }
    }
    if let Some(t) = &report.territories {
        write_territories(t, out)?;
    }
    Ok(())
}

/// `capacity.csv`: one row per hire count.
fn write_capacity(plan: &crate::hiring::HiringPlan, out: &OutputDir) -> Result<()> {
    let mut c = Csv::new(&[
        "hires",
        "start_date",
        "region",
        "prob_plan",
        "prob_plan_se",
        "mean",
        "p10",
        "p50",
        "p90",
        "cost",
        "marginal_revenue",
        "marginal_cost",
    ]);
    for r in &plan.rows {
        c.row([
            r.hires.to_string(),
            r.start.clone().unwrap_or_default(),
            r.region.clone().unwrap_or_default(),
            num(r.prob_plan),
            num(r.prob_plan_se),
            money(r.mean),
            money(r.p10),
            money(r.p50),
            money(r.p90),
            r.cost.map(money).unwrap_or_default(),
            r.marginal_revenue.map(money).unwrap_or_default(),
            r.marginal_cost.map(money).unwrap_or_default(),
        ]);
    }
    out.write("capacity.csv", &c.into_bytes())
}

/// `scorecard.csv`: one row per territory with a quota last year, each
/// followed by its reps' rows.
fn write_scorecard(card: &crate::scorecard::Scorecard, out: &OutputDir) -> Result<()> {
    let mut c = Csv::new(&[
        "territory",
        "rep",
        "region",
        "quota",
        "actual",
        "attainment",
        "growth",
        "rank_in_region",
        "region_size",
        "percentile_in_region",
        "rep_fte",
        "ramped_share",
        "tenure_months",
        "attain_probability",
        "verdict",
    ]);
    for r in card.territories_then_reps() {
        c.row([
            r.territory.clone(),
            r.rep.clone().unwrap_or_default(),
            r.region.clone(),
            money(r.quota),
            money(r.actual),
            num(r.attainment),
            opt(r.growth),
            r.rank.to_string(),
            r.region_size.to_string(),
            opt(r.percentile),
            opt(r.rep_fte),
            opt(r.ramped_share),
            opt(r.tenure_months),
            num(r.attain_probability),
            r.verdict.unwrap_or_default().to_string(),
        ]);
    }
    out.write("scorecard.csv", &c.into_bytes())
}

/// `assignments.csv`, `territories.csv`, `moves.csv` and (with a frontier)
/// `frontier.csv`.
fn write_territories(t: &TerritoriesSection, out: &OutputDir) -> Result<()> {
    let mut c = Csv::new(&["account", "territory", "rep"]);
    for a in &t.assignments {
        c.row([
            a.account.clone(),
            a.territory.clone(),
            a.rep.clone().unwrap_or_default(),
        ]);
    }
    out.write("assignments.csv", &c.into_bytes())?;
    let mut c = Csv::new(&[
        "territory",
        "accounts_before",
        "accounts_after",
        "potential_before",
        "potential_after",
        "workload_before",
        "workload_after",
        "region",
        "status",
        "capacity",
    ]);
    for r in &t.rows {
        c.row([
            r.territory.clone(),
            r.accounts_before.to_string(),
            r.accounts_after.to_string(),
            money(r.potential_before),
            money(r.potential_after),
            num(r.workload_before),
            num(r.workload_after),
            r.region.clone(),
            r.status.clone(),
            num(r.capacity),
        ]);
    }
    out.write("territories.csv", &c.into_bytes())?;
    let mut c = Csv::new(&[
        "account",
        "from_territory",
        "to_territory",
        "potential",
        "reason",
        "kind",
        "workload",
        "objective_change",
    ]);
    for m in &t.moves {
        c.row([
            m.account.clone(),
            m.from_territory.clone(),
            m.to_territory.clone(),
            money(m.potential),
            m.reason.clone(),
            m.kind.name().to_string(),
            num(m.workload),
            m.objective_change
                .map(|x| format!("{x:.9}"))
                .unwrap_or_default(),
        ]);
    }
    out.write("moves.csv", &c.into_bytes())?;
    if let Some(points) = &t.frontier {
        let mut c = Csv::new(&[
            "budget_share",
            "budget_accounts",
            "moved",
            "forced_moves",
            "objective",
            "cv_potential",
            "cv_workload",
            "max_min_potential",
        ]);
        for p in points {
            c.row([
                num(p.budget_share),
                p.budget_accounts.to_string(),
                p.moved.to_string(),
                p.forced_moves.to_string(),
                format!("{:.9}", p.objective),
                num(p.cv_potential),
                num(p.cv_workload),
                opt(p.max_min_potential),
            ]);
        }
        out.write("frontier.csv", &c.into_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_column_names() {
        assert_eq!(quantile_column(0.05), "p05");
        assert_eq!(quantile_column(0.5), "p50");
        assert_eq!(quantile_column(0.025), "p02_5");
        assert_eq!(quantile_column(0.99), "p99");
        assert_eq!(quantile_column(0.001), "p00_1");
    }

    #[test]
    fn quoting() {
        let mut c = Csv::new(&["a", "b"]);
        c.row(["x,y".to_string(), "say \"hi\"".to_string()]);
        assert_eq!(
            String::from_utf8(c.into_bytes()).unwrap(),
            "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n"
        );
    }
}
