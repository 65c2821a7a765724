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
