//! `--export-trials FILE.parquet`: the file read back with polars agrees
//! with `forecast.csv` (the quantiles of each column are the CSV's year
//! quantiles) and the company column is the sum of the territory columns.

mod common;

use common::demo_command;
use polars::prelude::*;
use salesplan::stats::quantile::quantiles;

fn forecast(out: &std::path::Path, trials_file: &std::path::Path) {
    demo_command("forecast", "2000")
        .arg("--out")
        .arg(out)
        .arg("--export-trials")
        .arg(trials_file)
        .assert()
        .success();
}

/// The year rows of forecast.csv: (level, name) -> quantile strings.
fn year_rows(csv: &str) -> Vec<(String, String, Vec<String>)> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .filter(|f| f[2] == "year")
        .map(|f| (f[0].clone(), f[1].clone(), f[4..].to_vec()))
        .collect()
}

#[test]
fn exported_trials_match_the_forecast() {
    let dir = tempfile::tempdir().unwrap();
    let (out, file) = (dir.path().join("out"), dir.path().join("t/trials.parquet"));
    forecast(&out, &file);
    let df = ParquetReader::new(std::fs::File::open(&file).unwrap())
        .finish()
        .unwrap();
    assert_eq!(df.height(), 2000);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names[..2], ["trial", "company"]);
    let trial: Vec<u32> = df
        .column("trial")
        .unwrap()
        .u32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(trial, (0..2000).collect::<Vec<u32>>());

    let csv = std::fs::read_to_string(out.join("forecast.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let qs: Vec<f64> = header[4..]
        .iter()
        .map(|h| h[1..].parse::<f64>().unwrap() / 100.0)
        .collect();
    let rows = year_rows(&csv);
    let column = |name: &str| -> Vec<f64> {
        let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
        c.f64().unwrap().into_no_null_iter().collect()
    };

    // The company column holds the exact f64 totals: same digits as the CSV.
    let company = column("company");
    let (_, _, expected) = rows.iter().find(|r| r.0 == "total").unwrap();
    let got: Vec<String> = quantiles(&company, &qs)
        .iter()
        .map(|x| format!("{x:.2}"))
        .collect();
    assert_eq!(&got, expected);

    // Territory columns are f32: equal within f32 rounding.
    let territories: Vec<&(String, String, Vec<String>)> =
        rows.iter().filter(|r| r.0 == "territory").collect();
    assert_eq!(territories.len(), names.len() - 2);
    let mut sum = vec![0.0f64; 2000];
    for (k, (_, name, expected)) in territories.into_iter().enumerate() {
        assert_eq!(
            &names[k + 2],
            name,
            "territory columns in forecast.csv order"
        );
        let values = column(name);
        for (s, v) in sum.iter_mut().zip(&values) {
            *s += v;
        }
        for (q, e) in quantiles(&values, &qs).iter().zip(expected) {
            let e: f64 = e.parse().unwrap();
            assert!((q - e).abs() <= 1e-6 * e.abs() + 0.01, "{name}: {q} vs {e}");
        }
    }
    for (s, c) in sum.iter().zip(&company) {
        assert!((s - c).abs() <= 1e-6 * c.abs(), "sum {s} vs company {c}");
    }
}

#[test]
fn export_trials_needs_a_parquet_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    demo_command("forecast", "200")
        .arg("--out")
        .arg(&out)
        .arg("--export-trials")
        .arg(dir.path().join("trials.csv"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "expected a file name ending in .parquet",
        ));
    assert!(!out.exists(), "nothing is written on error");
    assert!(!dir.path().join("trials.csv").exists());
}
