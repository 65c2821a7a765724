//! `salesplan capacity` on the demo: the hires needed to reach the plan
//! with a stated probability. Zero hires without attrition reproduce the
//! forecast's P(plan) exactly; the curve is monotone; more attrition needs
//! more hires; a zero target needs none; an unreachable target is said;
//! a bad key is an error naming it.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Run `capacity` on the demo with `section` as its `[capacity]` table;
/// the summary's `capacity` and `forecast` objects.
fn capacity(dir: &Path, name: &str, section: &str) -> (Value, Value, PathBuf) {
    let scenario = dir.join(format!("{name}.toml"));
    std::fs::write(&scenario, common::demo_scenario_with("capacity", section)).unwrap();
    let out = dir.join(name);
    assert_cmd::Command::cargo_bin("salesplan")
        .unwrap()
        .arg("capacity")
        .arg(&scenario)
        .args(["--quiet", "--trials", "2000", "--out"])
        .arg(&out)
        .assert()
        .success();
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    (
        summary["capacity"].clone(),
        summary["forecast"].clone(),
        out,
    )
}

fn curve(c: &Value) -> Vec<(f64, f64)> {
    c["curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["prob_plan"].as_f64().unwrap(),
                r["mean"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn no_hire_and_no_attrition_is_the_forecast_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (c, f, out) = capacity(dir.path(), "zero", "attrition = 0\nmax_hires = 2");
    assert_eq!(
        c["curve"][0]["prob_plan"].as_f64(),
        f["prob_hit_plan"].as_f64(),
        "{c}"
    );
    let csv = std::fs::read_to_string(out.join("capacity.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3);
    assert!(out.join("plots/capacity_curve.png").is_file());
}

#[test]
fn the_curve_is_monotone_and_more_attrition_needs_more_hires() {
    let dir = tempfile::tempdir().unwrap();
    // A plan above the forecast's P90, so that it takes several hires.
    let settings = "plan = 33_000_000\ntarget_probability = 0.8\ncost_per_hire = 150000";
    let (low, _, _) = capacity(dir.path(), "low", &format!("{settings}\nattrition = 0"));
    let (high, _, _) = capacity(dir.path(), "high", &format!("{settings}\nattrition = 0.3"));
    for c in [&low, &high] {
        let points = curve(c);
        assert!(points.len() > 3);
        for w in points.windows(2) {
            assert!(w[1].0 >= w[0].0 && w[1].1 >= w[0].1, "{points:?}");
        }
    }
    let (l, h) = (
        low["hires_needed"].as_u64().unwrap(),
        high["hires_needed"].as_u64().unwrap(),
    );
    assert!(
        l >= 1 && h > l,
        "attrition 0 needs {l} hires, 0.3 needs {h}"
    );
    // Attrition lowers every point of the curve.
    for (a, b) in curve(&low).iter().zip(curve(&high)) {
        assert!(b.1 < a.1, "{a:?} {b:?}");
    }
}

#[test]
fn a_zero_target_needs_no_hire_and_an_impossible_one_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let (c, _, _) = capacity(dir.path(), "zero_target", "target_probability = 0");
    assert_eq!(c["hires_needed"], 0);
    let (c, _, out) = capacity(
        dir.path(),
        "impossible",
        "plan = 90_000_000\ntarget_probability = 0.9\nmax_hires = 5",
    );
    assert_eq!(c["hires_needed"], Value::Null);
    assert_eq!(c["reached"], false);
    assert_eq!(c["searched"], 5);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Not reachable within 5 hires"));
}

#[test]
fn a_bad_capacity_key_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "target_probability = 1.5",
            "capacity.target_probability",
            "1.5",
        ),
        (
            "hire_dates = [\"2026-05-01\"]",
            "capacity.hire_dates",
            "2026-05-01",
        ),
        ("ramp = [0.5, 2.0]", "capacity.ramp", "2.0"),
        ("elasticity = -1", "capacity.elasticity", "-1"),
    ];
    for (k, (section, key, found)) in cases.into_iter().enumerate() {
        let scenario = dir.path().join(format!("bad{k}.toml"));
        std::fs::write(&scenario, common::demo_scenario_with("capacity", section)).unwrap();
        let out = assert_cmd::Command::cargo_bin("salesplan")
            .unwrap()
            .arg("capacity")
            .arg(&scenario)
            .args(["--trials", "200", "--out"])
            .arg(dir.path().join(format!("out{k}")))
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains(key) && err.contains(found), "{section}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
