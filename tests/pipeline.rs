//! Open pipeline deals in the forecast: a known deal larger than the
//! territory's run-rate raises the forecast by the excess, and deals that
//! are part of the normal flow leave the expected total unchanged.

use std::path::Path;

use assert_cmd::Command;

mod common;

/// A scenario on the demo sales with `pipeline_csv` as its pipeline and
/// `extra` appended, written into `dir`.
fn scenario(dir: &Path, pipeline_csv: &str, extra: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("pipeline.csv"), pipeline_csv).unwrap();
    common::demo_sales_scenario(
        dir,
        "pipeline test",
        "pipeline = \"pipeline.csv\"",
        &format!(
            "[forecast]\nperiod = \"month\"\nstart = \"2027-01-01\"\nperiods = 12\ntrials = 4000\n\
             [output]\nformats = [\"csv\", \"json\"]\n{extra}"
        ),
    )
}

/// The forecast mean of (name, period) from forecast.csv.
fn mean(out: &Path, name: &str, period: &str) -> f64 {
    let text = std::fs::read_to_string(out.join("forecast.csv")).unwrap();
    text.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[1] == name && f[2] == period)
        .map(|f| f[3].parse().unwrap())
        .unwrap_or_else(|| panic!("no row {name} {period}"))
}

fn forecast(scenario: &Path, out: &Path) {
    Command::cargo_bin("salesplan")
        .unwrap()
        .args(["forecast"])
        .arg(scenario)
        .args(["--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn a_deal_larger_than_the_run_rate_adds_the_excess_where_it_closes() {
    let dir = tempfile::tempdir().unwrap();
    let none = scenario(
        dir.path(),
        // One deal due after the horizon: loaded, but left out.
        "opportunity,territory,amount,close_date,win_probability\nO-0,T-01,1,2030-01-01,1.0\n",
        "",
    );
    forecast(&none, &dir.path().join("none"));
    let base_march = mean(&dir.path().join("none"), "T-01", "2027-03-01");
    let base_year = mean(&dir.path().join("none"), "T-01", "year");
    // One certain 5M deal in March, never slipping: March becomes 5M (the
    // pipeline covers more than the run-rate, so the run-rate there is
    // replaced), the other months are untouched.
    let big = scenario(
        dir.path(),
        "opportunity,territory,amount,close_date,win_probability\nO-1,T-01,5000000,2027-03-15,1.0\n",
        "[pipeline]\nslip = [1.0]\n",
    );
    forecast(&big, &dir.path().join("big"));
    let march = mean(&dir.path().join("big"), "T-01", "2027-03-01");
    assert!((march - 5_000_000.0).abs() < 1.0, "March {march}");
    let year = mean(&dir.path().join("big"), "T-01", "year");
    assert!(
        (year - (base_year - base_march + 5_000_000.0)).abs() < 1.0,
        "year {year} vs base {base_year}, base March {base_march}"
    );
    assert!(
        (mean(&dir.path().join("big"), "T-01", "2027-04-01")
            - mean(&dir.path().join("none"), "T-01", "2027-04-01"))
        .abs()
            < 1e-6
    );
}

#[test]
fn small_deals_in_the_normal_flow_keep_the_expected_total() {
    let dir = tempfile::tempdir().unwrap();
    let none = scenario(
        dir.path(),
        "opportunity,territory,amount,close_date,stage\nO-0,T-02,1,2030-01-01,Proposal\n",
        "[pipeline]\nwin_probability = { proposal = 0.5 }\n",
    );
    forecast(&none, &dir.path().join("none"));
    // Ten deals of 20k in T-02, half likely to win, by stage probability.
    let mut csv = String::from("opportunity,territory,amount,close_date,stage\n");
    for i in 0..10 {
        csv.push_str(&format!(
            "O-{i},T-02,20000,2027-0{}-10,Proposal\n",
            2 + i % 6
        ));
    }
    let with = scenario(
        dir.path(),
        &csv,
        "[pipeline]\nwin_probability = { proposal = 0.5 }\n",
    );
    forecast(&with, &dir.path().join("with"));
    let a = mean(&dir.path().join("none"), "T-02", "year");
    let b = mean(&dir.path().join("with"), "T-02", "year");
    // Mean-preserving up to Monte Carlo error of the wins: sd of the total
    // of 10 Bernoulli(0.5) x 20k is 31.6k, over 4000 trials 500.
    assert!((a - b).abs() < 2_500.0, "{a} vs {b}");
}

#[test]
fn bad_pipeline_settings_are_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(
        dir.path(),
        "opportunity,territory,amount,close_date\nO-0,T-01,1,2030-01-01\n",
        "[pipeline]\nslip = [0.5, 0.2]\n",
    );
    Command::cargo_bin("salesplan")
        .unwrap()
        .args(["forecast"])
        .arg(&s)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("pipeline.slip"));
    let s = scenario(
        dir.path(),
        "opportunity,territory,amount,close_date\nO-0,T-01,1,2030-01-01\n",
        "[pipeline]\nwin_probability = { Won = 1.5 }\n",
    );
    Command::cargo_bin("salesplan")
        .unwrap()
        .args(["forecast"])
        .arg(&s)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("pipeline.win_probability.Won"));
}
