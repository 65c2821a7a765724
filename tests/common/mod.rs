//! Shared by integration tests: a scenario on the bundled demo sales,
//! written into a temporary directory.

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
