//! Shared by integration tests: a scenario on the bundled demo sales,
//! written into a temporary directory, and the CLI run on the demo.

// Each test binary that includes this module uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Write `dir/scenario.toml` reading the demo's `data/sales.csv` (monthly,
/// plan year 2027), with `data_lines` added to its `[data]` table and
/// `sections` (forecast, quota, output, ...) after it; returns its path.
pub fn demo_sales_scenario(dir: &Path, name: &str, data_lines: &str, sections: &str) -> PathBuf {
    let sales = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sales.csv");
    let text = format!(
        "name = \"{name}\"\nseed = 7\n[data]\nsales = \"{}\"\n{data_lines}\n\
         [data.columns]\ndate = \"date\"\nterritory = \"territory\"\namount = \"amount\"\nregion = \"region\"\n\
         {sections}\n",
        sales.display()
    );
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `salesplan <command> scenarios/demo.toml --quiet --trials <trials>`,
/// run from the crate's directory; the caller adds the rest.
pub fn demo_command(command: &str, trials: &str) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("salesplan").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        command,
        "scenarios/demo.toml",
        "--quiet",
        "--trials",
        trials,
    ]);
    c
}

/// The text of `scenarios/demo.toml` with its data paths made absolute, so
/// that a test can write a variant of it anywhere.
pub fn demo_scenario_text() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("scenarios/demo.toml")).unwrap();
    text.replace("\"../data", &format!("\"{}", root.join("data").display()))
}

/// The demo scenario's text (as [`demo_scenario_text`]) with its `[name]`
/// table replaced by one holding `body` (added at the end).
pub fn demo_scenario_with(name: &str, body: &str) -> String {
    let header = format!("[{name}]");
    let mut keep = true;
    let mut lines: Vec<String> = Vec::new();
    for line in demo_scenario_text().lines() {
        if line.starts_with('[') {
            keep = line.split_whitespace().next() != Some(header.as_str());
        }
        if keep {
            lines.push(line.to_string());
        }
    }
    format!("{}\n{header}\n{body}\n", lines.join("\n"))
}

/// The shared real datasets: the folder in `SALESPLAN_TEST_DATA`, else
/// `../shared/data` beside the crate. `None`, with one printed line, when
/// it is absent (a bare clone): the tests that need it then skip.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("SALESPLAN_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipped: the shared datasets are not at {} (set SALESPLAN_TEST_DATA)",
            dir.display()
        );
        None
    }
}

/// The test scenario `tests/scenarios/<name>` and its text with the shared
/// datasets' path put in (the files name `../../../shared/data/...`);
/// `None` when the datasets are absent.
pub fn shared_scenario(name: &str) -> Option<(PathBuf, String)> {
    let data = shared_data()?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let data = data.canonicalize().unwrap_or(data);
    Some((
        path,
        text.replace("../../../shared/data", &data.display().to_string()),
    ))
}

/// `salesplan <args> --quiet --threads <threads> --out <out>` run in `dir`,
/// asserted to succeed: one of the runs a reproducibility test compares.
pub fn run_on_threads(dir: &Path, args: &[&str], threads: &str, out: &Path) {
    assert_cmd::Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .args(["--quiet", "--threads", threads, "--out"])
        .arg(out)
        .assert()
        .success();
}

/// What `command` prints on stdout, asserted to succeed.
pub fn stdout_of(command: &mut assert_cmd::Command) -> String {
    let output = command.assert().success().get_output().stdout.clone();
    String::from_utf8(output).unwrap()
}
