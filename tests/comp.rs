//! The comp command end to end on the bundled demo, and the check that comp
//! pays on the trials the forecast and quotas were computed from.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use salesplan::app::{execute, Overrides, Stage};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Rows of a CSV file as (header, rows of fields); the files have no quoted commas here.
fn csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

#[track_caller]
fn close(a: f64, b: f64, rel: f64) {
    assert!(
        (a - b).abs() <= rel * b.abs().max(1.0),
        "{a} != {b} (relative tolerance {rel})"
    );
}

#[test]
fn comp_on_the_demo_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(root())
        .args([
            "comp",
            "scenarios/demo.toml",
            "--quiet",
            "--trials",
            "2000",
            "--payout-curve",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();

    let (h, rows) = csv(&out.join("comp.csv"));
    assert_eq!(
        h[..6],
        [
            "rep",
            "territory",
            "payout_mean",
            "payout_p10",
            "payout_p50",
            "payout_p90"
        ]
    );
    // 14 rep rows, one of them a leaver with a backfill: 15 people.
    assert_eq!(rows.len(), 15);
    let num = |r: &Vec<String>, c: &str| r[column(&h, c)].parse::<f64>().unwrap();
    let rep_total: f64 = rows.iter().map(|r| num(r, "payout_mean")).sum();
    for r in &rows {
        assert!(num(r, "payout_p10") <= num(r, "payout_p50"));
        assert!(num(r, "payout_p50") <= num(r, "payout_p90"));
        assert!(num(r, "payout_mean") >= 0.0);
        assert!(num(r, "target_incentive") > 0.0);
    }

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let comp = &summary["comp"];
    let cost = |k: &str| comp[k].as_f64().unwrap();
    // Company cost is the sum over reps (each mean rounded to cents).
    close(cost("cost_mean"), rep_total, 1e-6);
    assert!(cost("cost_p10") <= cost("cost_p50") && cost("cost_p50") <= cost("cost_p90"));
    // The demo's quotas are attained about a third of the time, so the
    // expected cost lies near the cost at plan, which is near the target incentives.
    let at_plan = cost("expected_cost_at_plan");
    let ti = cost("target_incentive_total");
    assert!(at_plan >= ti && at_plan <= 1.1 * ti, "{at_plan} vs {ti}");
    assert!(
        cost("cost_mean") > 0.7 * at_plan && cost("cost_mean") < 1.3 * at_plan,
        "{} vs {at_plan}",
        cost("cost_mean")
    );
    let cos = cost("cost_of_sales_p50");
    assert!(cos > 0.01 && cos < 0.05, "cost of sales {cos}");

    let (h, rows) = csv(&out.join("comp_accrual.csv"));
    assert_eq!(h, ["quarter", "start", "mean", "p10", "p50", "p90"]);
    assert_eq!(rows.len(), 4);
    let accrued: f64 = rows.iter().map(|r| r[2].parse::<f64>().unwrap()).sum();
    close(accrued, cost("cost_mean"), 1e-6);

    let (h, rows) = csv(&out.join("payout_curve.csv"));
    assert_eq!(h, ["plan", "attainment", "payout"]);
    assert_eq!(rows.len(), 2 * 51);
    let at = |a: &str| {
        rows.iter()
            .find(|r| r[0] == "AE 2027" && r[1] == a)
            .map(|r| r[2].parse::<f64>().unwrap())
            .unwrap()
    };
    assert_eq!(at("0.40"), 0.0);
    assert_eq!(at("1.00"), 60_000.0);
    assert_eq!(at("1.30"), 114_000.0);
    assert_eq!(at("2.50"), 240_000.0);

    // quotas.csv: rep rows follow their territory and add up to its quota.
    let (h, rows) = csv(&out.join("quotas.csv"));
    assert_eq!(h[..3], ["territory", "rep", "quota"]);
    let territories: Vec<&Vec<String>> = rows.iter().filter(|r| r[1].is_empty()).collect();
    assert_eq!(territories.len(), 12);
    for t in territories {
        let reps: f64 = rows
            .iter()
            .filter(|r| r[0] == t[0] && !r[1].is_empty())
            .map(|r| r[2].parse::<f64>().unwrap())
            .sum();
        close(reps, t[2].parse().unwrap(), 1e-6);
    }
}

#[test]
fn comp_pays_on_the_simulated_trials() {
    // The demo's data without a reps table (one stand-in rep per territory)
    // and a plan paying exactly the attainment: mean payout / target
    // incentive must equal the forecast's mean revenue / quota.
    let dir = tempfile::tempdir().unwrap();
    let data = root().join("data");
    let scenario = format!(
        r#"seed = 11
[data]
sales = "{}"
[data.columns]
deal = "deal"
[forecast]
start = "2027-01-01"
periods = 12
trials = 1500
[quota]
plan = 28600000
[comp]
[[comp.plan]]
name = "linear"
target_incentive = 50000
tiers = [ {{ from = 0.0, rate = 1.0 }} ]
"#,
        data.join("sales.csv").display()
    );
    let path = dir.path().join("linear.toml");
    std::fs::write(&path, scenario).unwrap();
    let o = Overrides {
        out: Some(dir.path().join("out")),
        quiet: true,
        ..Overrides::default()
    };
    let (report, _, _) = execute(Stage::Comp, &path, &o).unwrap();
    let comp = report.comp.as_ref().unwrap();
    let forecast = report.forecast.as_ref().unwrap();
    let quota = report.quota.as_ref().unwrap();
    assert_eq!(comp.reps.len(), quota.rows.len());
    for (rep, q) in comp.reps.iter().zip(&quota.rows) {
        assert!(rep.stand_in);
        assert_eq!(rep.rep, q.territory);
        close(rep.quota, q.quota, 1e-9);
        let mean = forecast
            .rows
            .iter()
            .find(|r| r.level == "territory" && r.name == q.territory && r.period == "year")
            .unwrap()
            .summary
            .mean;
        // Quarter totals are kept as f32: agreement to float precision.
        close(rep.payout.mean / 50_000.0, mean / q.quota, 1e-5);
        close(rep.attainment.mean, mean / q.quota, 1e-5);
        // The same trials attain the quota as in the quota stage.
        close(rep.prob_attain_100, q.attain_probability, 2e-3);
    }
    let company = forecast.total.mean;
    let cost_of_sales = comp.cost.mean / company;
    assert!(cost_of_sales > 0.0 && cost_of_sales < 0.1);
}

#[test]
fn comp_on_quotas_assigned_in_a_table() {
    // No [quota]: the quotas really assigned, per rep, from a quotas table.
    let dir = tempfile::tempdir().unwrap();
    let data = root().join("data");
    let reps = std::fs::read_to_string(data.join("reps.csv")).unwrap();
    let mut table = String::from("rep,quota\n");
    for line in reps.lines().skip(1) {
        let rep = line.split(',').next().unwrap();
        let quota = if rep.ends_with('b') {
            800_000
        } else {
            2_000_000
        };
        table.push_str(&format!("{rep},{quota}\n"));
    }
    std::fs::write(dir.path().join("quotas.csv"), table).unwrap();
    let scenario = format!(
        r#"[data]
sales = "{}"
reps = "{}"
quotas = "quotas.csv"
[data.columns]
region = "region"
deal = "deal"
[data.quotas_columns]
rep = "rep"
[forecast]
start = "2027-01-01"
trials = 1000
[comp]
[[comp.plan]]
name = "AE"
target_incentive = 60000
tiers = [ {{ from = 0.0, rate = 0.0 }}, {{ from = 0.5, rate = 2.0 }}, {{ from = 1.0, rate = 3.0 }} ]
cap = 2.0
"#,
        data.join("sales.csv").display(),
        data.join("reps.csv").display()
    );
    let path = dir.path().join("table.toml");
    std::fs::write(&path, scenario).unwrap();
    let o = Overrides {
        out: Some(dir.path().join("out")),
        quiet: true,
        ..Overrides::default()
    };
    let (report, written, _) = execute(Stage::Comp, &path, &o).unwrap();
    assert!(report.quota.is_none());
    let comp = report.comp.as_ref().unwrap();
    assert_eq!(comp.quota_source, salesplan::scenario::QuotaSource::Table);
    let quota_of = |rep: &str| comp.reps.iter().find(|r| r.rep == rep).unwrap().quota;
    close(quota_of("R-01"), 2_000_000.0, 1e-9);
    close(quota_of("R-04b"), 800_000.0, 1e-9);
    // The backfill carries its part of the territory's assigned quota.
    assert!(quota_of("R-02 (backfill)") > 0.0);
    assert!(written.join("comp.csv").exists());
    assert!(!written.join("quotas.csv").exists());
}
