//! `salesplan compare`: scenarios run with common random numbers, so the
//! difference between two scenarios is the effect of the change alone,
//! trial by trial.

use std::path::Path;

use assert_cmd::Command;

fn compare(scenarios: &[&str], out: &Path) {
    Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("compare")
        .args(scenarios)
        .args(["--quiet", "--trials", "2000", "--out"])
        .arg(out)
        .assert()
        .success();
}

/// compare.csv as (header, rows of fields).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn field(header: &[String], row: &[String], name: &str) -> f64 {
    let i = header.iter().position(|h| h == name).unwrap();
    row[i].parse().unwrap()
}

#[test]
fn a_scenario_compared_with_itself_differs_in_no_trial() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("same");
    compare(&["scenarios/demo.toml", "scenarios/demo.toml"], &out);
    let (h, rows) = read_csv(&out.join("compare.csv"));
    assert_eq!(rows.len(), 2);
    for q in [
        "difference_p05",
        "difference_p50",
        "difference_p95",
        "difference_mean",
    ] {
        assert_eq!(field(&h, &rows[1], q), 0.0, "{q}");
    }
    assert_eq!(field(&h, &rows[1], "prob_above_first"), 0.0);
    assert_eq!(field(&h, &rows[0], "p50"), field(&h, &rows[1], "p50"));
    // No distribution to plot: a histogram of one value had six ticks all
    // reading 0 and its two labels on top of each other. The page says it
    // in words instead.
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    assert!(!html.contains("plot-compare_difference_1"));
    assert!(!out.join("plots/compare_difference_1.svg").exists());
    assert!(html.contains("have the same company revenue in every trial"));
}

#[test]
fn a_downside_with_probability_04_cuts_revenue_in_about_40_percent_of_trials() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("downside");
    compare(
        &["scenarios/demo.toml", "scenarios/demo_downside.toml"],
        &out,
    );
    let (h, rows) = read_csv(&out.join("compare.csv"));
    let down = &rows[1];
    // Same shocks in every trial: without the recession (60% of trials)
    // the two totals are identical, so the median difference is exactly 0
    // and so is the 75th percentile; with it (40%), revenue falls by 8-15%
    // from April, so the 25th percentile is a clear loss.
    assert_eq!(field(&h, down, "difference_p50"), 0.0);
    assert_eq!(field(&h, down, "difference_p75"), 0.0);
    let base_total = field(&h, &rows[0], "mean");
    let p25 = field(&h, down, "difference_p25");
    assert!(p25 < -0.05 * base_total * 0.5, "p25 {p25}");
    // Expected loss: 0.4 x (mean cut of 11.5%) x (share of revenue after
    // April, about 3/4): about 3.5% of the base, well within 2-5%.
    let loss = -field(&h, down, "difference_mean") / base_total;
    assert!((0.02..0.05).contains(&loss), "mean loss {loss}");
    assert!(field(&h, down, "prob_above_first") < 0.01);
    assert!(field(&h, down, "prob_hit_plan") < field(&h, &rows[0], "prob_hit_plan"));
    // Comp runs in both, and costs less in the downside.
    assert!(field(&h, down, "comp_cost_mean") < field(&h, &rows[0], "comp_cost_mean"));
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    for id in ["summary", "totals", "territories"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(html.contains("<figure id=\"plot-compare_fan\"><svg"));
    assert!(html.contains("<figure id=\"plot-compare_difference_1\"><svg"));
    let territories = std::fs::read_to_string(out.join("compare_territories.csv")).unwrap();
    assert_eq!(territories.lines().count(), 1 + 12 * 2);
}

#[test]
fn compare_needs_two_scenarios() {
    Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["compare", "scenarios/demo.toml"])
        .assert()
        .code(2);
}

#[test]
fn scenarios_in_two_currencies_are_not_compared() {
    // USD against EUR had read "mean difference 0" (a helper's probe,
    // session 30).
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml"),
    )
    .unwrap();
    let eur = dir.path().join("eur.toml");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let text = demo
        .replace("currency = \"USD\"", "currency = \"EUR\"")
        .replace("../data", &data.display().to_string());
    std::fs::write(&eur, text).unwrap();
    Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("compare")
        .arg("scenarios/demo.toml")
        .arg(&eur)
        .args(["--quiet", "--out"])
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "currency: found 'EUR', expected 'USD'",
        ));
}

/// The demo rebalances its territories and sets quotas on them after the
/// moves; the forecast columns are of the territories as they are. Each
/// row carries the P50 its quota was set on, which is the one `run`
/// reports beside the same quota, and the HTML table says which is which.
#[test]
fn a_rebalanced_scenarios_quotas_sit_beside_the_p50_they_were_set_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rebalanced");
    compare(
        &["scenarios/demo.toml", "scenarios/demo_downside.toml"],
        &out,
    );
    let run_out = dir.path().join("run");
    Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/demo.toml",
            "--quiet",
            "--trials",
            "2000",
            "--out",
        ])
        .arg(&run_out)
        .assert()
        .success();
    let (qh, quotas) = read_csv(&run_out.join("quotas.csv"));
    let (h, rows) = read_csv(&out.join("compare_territories.csv"));
    let base = "FY2027 base (synthetic company)";
    let mut moved = 0;
    for q in quotas.iter().filter(|r| r[1].is_empty()) {
        let row = rows
            .iter()
            .find(|r| r[0] == q[0] && r[1] == base)
            .unwrap_or_else(|| panic!("{} missing", q[0]));
        assert_eq!(field(&h, row, "quota"), field(&qh, q, "quota"), "{}", q[0]);
        assert_eq!(
            field(&h, row, "quota_p50"),
            field(&qh, q, "forecast_p50"),
            "{}",
            q[0]
        );
        assert_eq!(
            field(&h, row, "attain_probability"),
            field(&qh, q, "attain_probability")
        );
        let (before, after) = (field(&h, row, "p50"), field(&h, row, "quota_p50"));
        if (after / before - 1.0).abs() > 0.1 {
            moved += 1;
        }
    }
    assert!(moved > 0, "no territory's P50 moved with the rebalancing");
    // The downside does not rebalance: its quotas sit on its own forecast.
    for row in rows.iter().filter(|r| r[1] != base) {
        let (p50, quota_p50) = (field(&h, row, "p50"), field(&h, row, "quota_p50"));
        assert!(
            (quota_p50 / p50 - 1.0).abs() < 1e-6,
            "{}: {p50} {quota_p50}",
            row[0]
        );
    }
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    assert!(html.contains(&format!("{base} P50 before rebalancing")));
    assert!(html.contains(&format!("{base} P50 after rebalancing")));
    assert!(!html.contains("FY2027 downside (synthetic company) P50 after rebalancing"));

    // A scenario that rebalances and sets no quotas has no column after.
    let demo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml"))
            .unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut kept = String::new();
    let mut keep = true;
    for line in demo.lines() {
        if line.starts_with('[') {
            keep = !["[quota]", "[capacity]", "[comp", "[[comp"]
                .iter()
                .any(|s| line.starts_with(s));
        }
        if keep {
            kept.push_str(&line.replace("\"../data/", &format!("\"{}/", data.display())));
            kept.push('\n');
        }
    }
    let kept = kept.replace("name = \"FY2027 base", "name = \"No quotas");
    let no_quotas = dir.path().join("no_quotas.toml");
    std::fs::write(&no_quotas, kept).unwrap();
    let out = dir.path().join("no_quotas");
    compare(&["scenarios/demo.toml", no_quotas.to_str().unwrap()], &out);
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    assert!(html.contains("No quotas (synthetic company) P50 before rebalancing"));
    assert!(!html.contains("No quotas (synthetic company) P50 after rebalancing"));
    assert!(html.contains(&format!("{base} P50 after rebalancing")));
}

/// A territory that a scenario's rebalancing removes keeps its forecast
/// (of the territory as it is) and gets no quota; one it adds has a quota
/// and no forecast. `compare_territories.csv` says which in `status`, and
/// the page says "removed" where the quota would be and "added" where the
/// P50 would be, rather than leave the cells blank.
#[test]
fn a_territory_the_rebalancing_removes_is_marked_removed() {
    let dir = tempfile::tempdir().unwrap();
    let demo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml"))
            .unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let without = demo
        .replace("\"../data/", &format!("\"{}/", data.display()))
        .replace("name = \"FY2027 base", "name = \"Without T-12")
        .replace(
            "stay_in_region = true",
            "stay_in_region = true\nremove = [\"T-12\"]\nadd = [{ name = \"T-13\", region = \"Central\" }]",
        );
    assert!(without.contains("remove = [\"T-12\"]"));
    let scenario = dir.path().join("without.toml");
    std::fs::write(&scenario, without).unwrap();
    let out = dir.path().join("out");
    compare(&["scenarios/demo.toml", scenario.to_str().unwrap()], &out);
    let (h, rows) = read_csv(&out.join("compare_territories.csv"));
    let column = |name: &str| h.iter().position(|x| x == name).unwrap();
    let (status, quota, p50) = (column("status"), column("quota"), column("p50"));
    let row = |territory: &str, scenario: &str| {
        rows.iter()
            .find(|r| r[0] == territory && r[1].starts_with(scenario))
            .unwrap_or_else(|| panic!("{territory} in {scenario}"))
    };
    let removed = row("T-12", "Without T-12");
    assert_eq!(removed[status], "removed");
    assert_eq!(removed[quota], "");
    assert!(removed[p50].parse::<f64>().unwrap() > 0.0);
    assert_eq!(row("T-12", "FY2027 base")[status], "kept");
    assert_eq!(row("T-01", "Without T-12")[status], "kept");
    assert!(row("T-01", "Without T-12")[quota].parse::<f64>().unwrap() > 0.0);
    let added = row("T-13", "Without T-12");
    assert_eq!(added[status], "added");
    assert_eq!(added[p50], "");
    assert!(added[quota].parse::<f64>().unwrap() > 0.0);
    assert_eq!(row("T-13", "FY2027 base")[status], "", "not in the base");
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    assert_eq!(html.matches(">removed<").count(), 2, "quota and P50 after");
    assert_eq!(html.matches(">added<").count(), 1, "P50 before");
}
