//! `salesplan scorecard` on the bundled demo: last year's quotas
//! (`data/quotas.csv`) against 2026's sales, every figure recomputed here
//! from the data files; `run` writes the same scorecard; a scenario
//! without a quotas table is a clear error.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

/// Per territory: (region, revenue of 2025, revenue of 2026), from the
/// demo's sales table.
fn demo_years() -> BTreeMap<String, (String, f64, f64)> {
    let sales = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sales.csv");
    let mut out: BTreeMap<String, (String, f64, f64)> = BTreeMap::new();
    for r in read_csv(&sales) {
        let e = out
            .entry(r["territory"].clone())
            .or_insert_with(|| (r["region"].clone(), 0.0, 0.0));
        let amount: f64 = r["amount"].parse().unwrap();
        match &r["date"][..4] {
            "2025" => e.1 += amount,
            "2026" => e.2 += amount,
            _ => {}
        }
    }
    out
}

/// Per rep: revenue of 2026, from the demo's sales table (its rep column).
fn demo_rep_sales() -> BTreeMap<String, f64> {
    let sales = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sales.csv");
    let mut out = BTreeMap::new();
    for r in read_csv(&sales) {
        if r["date"].starts_with("2026") {
            *out.entry(r["rep"].clone()).or_insert(0.0) += r["amount"].parse::<f64>().unwrap();
        }
    }
    out
}

/// Rep rows: every rep of the reps table, its 2026 sales, and its
/// territory's quota split among its reps.
fn check_rep_rows(reps: &[BTreeMap<String, String>], quotas: &BTreeMap<String, f64>) {
    let reps_table = read_csv(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/reps.csv"));
    assert_eq!(reps.len(), reps_table.len());
    let sales = demo_rep_sales();
    let mut split: BTreeMap<String, f64> = BTreeMap::new();
    for r in reps {
        let actual: f64 = r["actual"].parse().unwrap();
        let expected = sales.get(&r["rep"]).copied().unwrap_or(0.0);
        assert!(
            (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
            "{r:?}"
        );
        *split.entry(r["territory"].clone()).or_insert(0.0) += r["quota"].parse::<f64>().unwrap();
        let attainment: f64 = r["attainment"].parse().unwrap();
        assert!((attainment - actual / r["quota"].parse::<f64>().unwrap()).abs() < 1e-5);
    }
    for (t, q) in split {
        assert!(
            (q - quotas[&t]).abs() < 0.05,
            "{t}: reps' quotas add up to {q}, not {}",
            quotas[&t]
        );
    }
}

#[test]
fn scorecard_on_the_demo_matches_figures_computed_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("card");
    common::demo_command("scorecard", "2000")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let quotas: BTreeMap<String, f64> =
        read_csv(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/quotas.csv"))
            .into_iter()
            .map(|r| (r["territory"].clone(), r["quota"].parse().unwrap()))
            .collect();
    let years = demo_years();
    let all = read_csv(&out.join("scorecard.csv"));
    let (rows, reps): (Vec<_>, Vec<_>) = all.into_iter().partition(|r| r["rep"].is_empty());
    assert_eq!(rows.len(), quotas.len());
    check_rep_rows(&reps, &quotas);
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs().max(1.0);
    let mut attained = 0;
    for r in &rows {
        let t = &r["territory"];
        let (region, before, actual) = &years[t];
        let quota = quotas[t];
        assert_eq!(&r["region"], region);
        assert!(close(r["quota"].parse().unwrap(), quota, 1e-9), "{t}");
        assert!(close(r["actual"].parse().unwrap(), *actual, 1e-6), "{t}");
        let attainment = actual / quota;
        assert!(
            close(r["attainment"].parse().unwrap(), attainment, 1e-5),
            "{t}"
        );
        assert!(
            close(r["growth"].parse().unwrap(), actual / before - 1.0, 1e-5),
            "{t}"
        );
        // Rank within the region by attainment, computed here.
        let better = rows
            .iter()
            .filter(|o| years[&o["territory"]].0 == *region)
            .filter(|o| {
                let ot = &o["territory"];
                years[ot].2 / quotas[ot] > attainment
            })
            .count();
        assert_eq!(r["rank_in_region"], (better + 1).to_string(), "{t}");
        let p: f64 = r["attain_probability"].parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
        let verdict = if p < 0.1 {
            "too hard"
        } else if p > 0.9 {
            "too easy"
        } else {
            ""
        };
        assert_eq!(r["verdict"], verdict, "{t}");
        if actual >= &quota {
            attained += 1;
        }
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let card = &summary["scorecard"];
    let share = attained as f64 / rows.len() as f64;
    assert!((card["share_attaining"].as_f64().unwrap() - share).abs() < 1e-6);
    assert_eq!(card["year_start"], "2026-01-01");
    // The fair share is the mean of the hindsight probabilities.
    let mean_p = rows
        .iter()
        .map(|r| r["attain_probability"].parse::<f64>().unwrap())
        .sum::<f64>()
        / rows.len() as f64;
    assert!((card["fair_share"].as_f64().unwrap() - mean_p).abs() < 1e-5);
    let band = card["fair_share_band"].as_array().unwrap();
    assert!(band[0].as_f64().unwrap() <= mean_p && mean_p <= band[1].as_f64().unwrap());
}

#[test]
fn run_writes_the_scorecard_with_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    common::demo_command("run", "2000")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let rows = read_csv(&out.join("scorecard.csv"));
    assert_eq!(rows.iter().filter(|r| r["rep"].is_empty()).count(), 12);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"scorecard\">"));
    assert!(out.join("plots/scorecard_attainment.png").is_file());
}

#[test]
fn scorecard_without_a_quotas_table_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::demo_sales_scenario(
        dir.path(),
        "no quotas",
        "",
        "[forecast]\nperiod = \"month\"\ntrials = 200\n",
    );
    let out = assert_cmd::Command::cargo_bin("salesplan")
        .unwrap()
        .args(["scorecard"])
        .arg(&scenario)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("data.quotas"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
