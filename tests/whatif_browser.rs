//! The report's live what-if in a real browser (headless Chromium): the
//! page loads without console messages, its inputs move the quotas, and
//! for several settings given as link parameters its quotas and common
//! chance of attaining match what `salesplan run` writes with the same
//! settings (the demo, rebalancing included). Skipped with one printed
//! line when no Chromium is installed; `.ci/run` installs it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser: `SALESPLAN_CHROMIUM`, else the first of the usual names on
/// the PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SALESPLAN_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    println!("skipped: no Chromium on the PATH (install chromium or set SALESPLAN_CHROMIUM)");
    None
}

/// The page after its scripts ran, and the browser's log.
fn render(browser: &Path, page: &Path, query: &str) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}{query}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {out:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The demo scenario with its data paths made absolute and its `[quota]`
/// settings replaced, written into `dir`.
fn demo_variant(
    dir: &Path,
    plan: f64,
    over: f64,
    method: &str,
    max_change: Option<f64>,
) -> PathBuf {
    let max_change = max_change.map_or(String::new(), |m| format!("max_change = {m}"));
    let text = common::demo_scenario_with(
        "quota",
        &format!("plan = {plan}\nmethod = \"{method}\"\nover_assignment = {over}\n{max_change}"),
    );
    let path = dir.join(format!("demo_{plan}_{over}_{method}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn run(scenario: &Path, out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_salesplan"))
        .arg("run")
        .arg(scenario)
        .args(["--quiet", "--trials", "4000", "--out"])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Territory rows of `quotas.csv`: territory -> quota.
fn engine_quotas(out: &Path) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(out.join("quotas.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1].is_empty())
        .map(|f| (f[0].to_string(), f[2].parse().unwrap()))
        .collect()
}

fn engine_probability(out: &Path) -> f64 {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    v["quota"]["attain_probability"].as_f64().unwrap()
}

/// The text between `from` (after it) and the next `to`.
fn between<'a>(s: &'a str, from: &str, to: &str) -> &'a str {
    let start = s.find(from).unwrap_or_else(|| panic!("no {from}")) + from.len();
    let len = s[start..].find(to).unwrap();
    &s[start..start + len]
}

/// The what-if table (`#whatif-quotas`): territory -> quota.
fn page_quotas(dom: &str) -> BTreeMap<String, f64> {
    let body = between(dom, "id=\"whatif-quotas\"", "</tbody>");
    body.split("<tr>")
        .skip(2) // before the header row, and the header row
        .map(|row| {
            let name = between(row, "<td>", "</td>").to_string();
            let quota = between(row, "class=\"n quota\" data-value=\"", "\"")
                .parse()
                .unwrap();
            (name, quota)
        })
        .collect()
}

fn page_value(dom: &str, id: &str) -> f64 {
    between(dom, &format!("id=\"{id}\" data-value=\""), "\"")
        .parse()
        .unwrap()
}

fn assert_clean(dom: &str, log: &str) {
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains("id=\"whatif-error\" class=\"error\" hidden"),
        "the what-if shows an error"
    );
}

/// `report.html` of the demo with its own quota settings, run into `dir`.
fn demo_page(dir: &Path) -> PathBuf {
    let out = dir.join("base");
    let scenario = demo_variant(dir, 28_600_000.0, 0.05, "equal-probability", Some(0.3));
    run(&scenario, &out);
    out.join("report.html")
}

#[test]
fn whatif_loads_cleanly_and_the_plan_moves_the_quotas() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = demo_page(dir.path());
    let (dom, log) = render(&browser, &page, "");
    assert_clean(&dom, &log);
    let base = page_quotas(&dom);
    assert_eq!(base.len(), 12);
    // At the scenario's own settings the page shows the engine's quotas.
    let engine = engine_quotas(page.parent().unwrap());
    for (t, q) in &engine {
        assert!(
            (base[t] - q).abs() <= 0.01,
            "{t}: page {} engine {q}",
            base[t]
        );
    }
    // And the engine's P(company >= plan), read from the company's
    // quantile table: the plan falls between two of the table's levels,
    // 0.005 apart, and both the engine's share of trials and the page's
    // linear interpolation lie between them (exactly so when the trials
    // are a multiple of the table's 200 intervals, as this run's 4,000
    // are; measured 2026-12-06: 0.2046 against 0.2045; after session 22's
    // refits 0.2561 against 0.2575).
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(page.parent().unwrap().join("summary.json")).unwrap(),
    )
    .unwrap();
    let engine_p = summary["forecast"]["prob_hit_plan"].as_f64().unwrap();
    let page_p = page_value(&dom, "whatif-plan-probability");
    assert!(
        (page_p - engine_p).abs() <= 1.0 / (salesplan::whatif::LEVELS - 1) as f64,
        "page {page_p} engine {engine_p}"
    );
    let (dom, log) = render(&browser, &page, "?plan=31000000");
    assert_clean(&dom, &log);
    let higher = page_quotas(&dom);
    let total = |q: &BTreeMap<String, f64>| q.values().sum::<f64>();
    assert!(
        (total(&higher) - 31_000_000.0 * 1.05).abs() < 12.0,
        "{}",
        total(&higher)
    );
    assert!(higher.iter().any(|(t, q)| *q > base[t] + 1.0));
    // A plan the bounds cannot reach gives the engine's message, not quotas.
    let (dom, log) = render(&browser, &page, "?plan=90000000");
    assert!(log.lines().all(|l| !l.contains(":CONSOLE")));
    let error = between(&dom, "id=\"whatif-error\" class=\"error\">", "<");
    assert!(
        error.contains("cannot be reached") && error.contains("add up to between"),
        "{error}"
    );
}

#[test]
fn whatif_quotas_match_the_engine_for_the_same_settings() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = demo_page(dir.path());
    let settings: [(f64, f64, &str, Option<f64>); 4] = [
        (27_000_000.0, 0.05, "equal-probability", Some(0.3)),
        (29_500_000.0, 0.10, "equal-probability", None),
        (28_600_000.0, 0.0, "historical-share", Some(0.2)),
        (28_000_000.0, 0.02, "potential-share", Some(0.25)),
    ];
    for (k, (plan, over, method, max_change)) in settings.into_iter().enumerate() {
        let out = dir.path().join(format!("out{k}"));
        run(
            &demo_variant(dir.path(), plan, over, method, max_change),
            &out,
        );
        let engine = engine_quotas(&out);
        let query = format!(
            "?plan={plan}&over_assignment={over}&method={method}&max_change={}",
            max_change.map_or("none".to_string(), |m| m.to_string())
        );
        let (dom, log) = render(&browser, &page, &query);
        assert_clean(&dom, &log);
        let shown = page_quotas(&dom);
        assert_eq!(shown.len(), engine.len(), "{query}");
        for (t, q) in &engine {
            let s = shown[t];
            assert!(
                (s - q).abs() <= 0.01 * q.abs().max(1.0),
                "{query}: {t} page {s} engine {q}"
            );
        }
        let (p_page, p_engine) = (page_value(&dom, "whatif-common"), engine_probability(&out));
        assert!(
            (p_page - p_engine).abs() <= 0.005,
            "{query}: page {p_page} engine {p_engine}"
        );
    }
}
