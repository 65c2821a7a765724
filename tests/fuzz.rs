//! Property-based fuzzing of the two parsers users feed by hand: the
//! scenario (arbitrary TOML, and valid scenarios with one value mutated)
//! and the sales table (arbitrary bytes, and valid CSVs with bytes
//! mutated). The assertion: no panic, and either a result or an error whose
//! message is not empty (the binary turns every such error into exit code
//! 2 with that message).
//!
//! A bounded number of cases runs in `cargo test`; set `SALESPLAN_FUZZ_CASES`
//! for a longer run (e.g. `SALESPLAN_FUZZ_CASES=20000 cargo test --release
//! --test fuzz`).

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use salesplan::fit::fit;
use salesplan::load;
use salesplan::scenario::Scenario;
use salesplan::sim::{simulate, SimSpec};

const VALID_SCENARIO: &str = r#"name = "fuzz"
seed = 7
[data]
sales = "sales.csv"
on_bad_rows = "skip"
[data.columns]
date = "date"
territory = "territory"
amount = "amount"
[forecast]
period = "month"
start = "2025-01-01"
periods = 12
trials = 200
[quota]
plan = 1000000
over_assignment = 0.05
max_change = 0.3
method = "equal-probability"
[capacity]
target_probability = 0.7
hire_dates = ["2025-01-01", "2025-04-01"]
hires_per_date = 2
max_hires = 5
ramp_months = 3
attrition = 0.1
backfill_months = 3
elasticity = 0.8
cost_per_hire = 100000
"#;

const VALID_SALES: &str = "date,territory,amount\n\
2024-01-05,T-1,100.50\n2024-02-05,T-1,120\n2024-03-05,T-2,90\n2024-04-05,T-2,-5\n\
2024-05-05,T-1,0\n2024-06-05,T-2,1e3\n";

/// Cases per property: the environment's `SALESPLAN_FUZZ_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("SALESPLAN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(default: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Parse `text` as a scenario: never a panic, and an error says something.
fn parse_scenario(text: &str) -> Result<(), TestCaseError> {
    let result =
        std::panic::catch_unwind(|| Scenario::parse(Path::new("fuzz.toml"), text).map(|_| ()));
    match result {
        Err(_) => Err(TestCaseError::fail(format!("panicked on {text:?}"))),
        Ok(Err(e)) if e.to_string().trim().is_empty() => {
            Err(TestCaseError::fail(format!("empty message on {text:?}")))
        }
        Ok(_) => Ok(()),
    }
}

/// Load `bytes` as the sales table of the valid scenario: never a panic,
/// and an error says something.
fn load_sales(dir: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    std::fs::write(dir.join("sales.csv"), bytes).unwrap();
    let path = dir.join("s.toml");
    let scenario = Scenario::parse(&path, VALID_SCENARIO).unwrap();
    let result = std::panic::catch_unwind(|| load::load(&scenario).map(|_| ()));
    match result {
        Err(_) => Err(TestCaseError::fail(format!(
            "panicked on {:?}",
            String::from_utf8_lossy(bytes)
        ))),
        Ok(Err(e)) if e.to_string().trim().is_empty() => Err(TestCaseError::fail(format!(
            "empty message on {:?}",
            String::from_utf8_lossy(bytes)
        ))),
        Ok(_) => Ok(()),
    }
}

/// A value a user might type where another was expected.
fn wild_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"\"".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e308".to_string()),
        Just("-1e308".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("9223372036854775807".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("true".to_string()),
        Just("\"2025-13-45\"".to_string()),
        Just("1979-05-27".to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        "\"[a-zA-Z0-9 ._/-]{0,12}\"",
    ]
}

#[test]
fn the_unmutated_inputs_load() {
    // So that the properties below start from inputs that work (a harness
    // that failed on everything would pass them all).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sales.csv"), VALID_SALES).unwrap();
    let scenario = Scenario::parse(&dir.path().join("s.toml"), VALID_SCENARIO).unwrap();
    let history = load::load(&scenario).unwrap();
    assert_eq!(history.territories.len(), 2);
}

#[test]
fn arbitrary_toml_never_panics_the_scenario_parser() {
    runner(256)
        .run(&"(?s).{0,300}", |text| parse_scenario(&text))
        .unwrap();
}

#[test]
fn mutated_scenarios_never_panic_the_scenario_parser() {
    let lines: Vec<&str> = VALID_SCENARIO.lines().collect();
    let n = lines.len();
    runner(512)
        .run(&(0..n, wild_value()), |(i, value)| {
            let mut mutated: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if let Some((key, _)) = lines[i].split_once(" = ") {
                mutated[i] = format!("{key} = {value}");
            } else {
                mutated[i] = value;
            }
            parse_scenario(&mutated.join("\n"))
        })
        .unwrap();
}

#[test]
fn arbitrary_bytes_never_panic_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    runner(96)
        .run(&proptest::collection::vec(any::<u8>(), 0..400), |bytes| {
            load_sales(dir.path(), &bytes)
        })
        .unwrap();
}

#[test]
fn mutated_csvs_never_panic_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    let valid = VALID_SALES.as_bytes().to_vec();
    let n = valid.len();
    let edit = (
        0..n,
        prop_oneof![
            any::<u8>(),
            Just(b','),
            Just(b'\n'),
            Just(b'\r'),
            Just(b'"'),
            Just(b' '),
            Just(b'-'),
            Just(b'e'),
            Just(0u8),
        ],
    );
    runner(192)
        .run(&proptest::collection::vec(edit, 1..6), |edits| {
            let mut bytes = valid.clone();
            for (at, b) in edits {
                if at % 3 == 0 {
                    bytes.insert(at.min(bytes.len()), b);
                } else if at < bytes.len() {
                    bytes[at] = b;
                }
            }
            load_sales(dir.path(), &bytes)
        })
        .unwrap();
}

#[test]
fn mutated_histories_never_panic_the_fit_or_the_simulation() {
    // Whatever loads is fitted and simulated (50 trials, 6 months): zero,
    // negative, single and gapped histories all reach the model.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let scenario = Scenario::parse(&path, VALID_SCENARIO).unwrap();
    let amounts = prop_oneof![
        Just("0".to_string()),
        Just("-50".to_string()),
        Just("1e-9".to_string()),
        Just("800000000000000".to_string()),
        (0u32..100_000).prop_map(|v| v.to_string()),
    ];
    let row = (0u32..30, 0usize..3, amounts).prop_map(|(month, t, a)| {
        format!("{}-{:02}-05,T-{t},{a}", 2022 + month / 12, month % 12 + 1)
    });
    runner(48)
        .run(&proptest::collection::vec(row, 1..40), |rows| {
            let csv = format!("date,territory,amount\n{}\n", rows.join("\n"));
            std::fs::write(dir.path().join("sales.csv"), &csv).unwrap();
            let outcome = std::panic::catch_unwind(|| {
                if let Ok(history) = load::load(&scenario) {
                    let models = fit(&history, history.n_periods(), 6, &scenario.fit);
                    simulate(&models, &SimSpec::from_origin(&models, 6, 1, 50));
                }
            });
            prop_assert!(outcome.is_ok(), "panicked on {csv:?}");
            Ok(())
        })
        .unwrap();
}
