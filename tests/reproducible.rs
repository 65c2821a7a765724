//! Same data, scenario and seed give byte-identical outputs with one
//! thread or several.

mod common;

use common::demo_command;

fn run(threads: &str, out: &std::path::Path) {
    demo_command("run", "3000")
        .args(["--threads", threads, "--out"])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn one_thread_and_two_threads_give_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run("1", &a);
    run("2", &b);
    let (files_a, files_b) = (files(&a), files(&b));
    assert_eq!(files_a, files_b, "the two runs wrote different files");
    for f in [
        "forecast.csv",
        "summary.json",
        "quotas.csv",
        "fit.csv",
        "report.html",
        "plan.xlsx",
        "comp.csv",
        "comp_accrual.csv",
    ] {
        assert!(files_a.iter().any(|x| x == f), "{f} was not written");
    }
    // Every file, plots and spreadsheet included, byte for byte.
    for f in &files_a {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(x == y, "{f} differs between 1 and 2 threads");
    }
}

/// Relative paths of every file under `root`, sorted.
fn files(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_different_seed_gives_different_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    run("2", &a);
    let b = dir.path().join("b");
    demo_command("forecast", "3000")
        .args(["--seed", "99", "--out"])
        .arg(&b)
        .assert()
        .success();
    assert_ne!(
        std::fs::read(a.join("forecast.csv")).unwrap(),
        std::fs::read(b.join("forecast.csv")).unwrap()
    );
}

#[test]
fn a_closed_season_and_a_territory_fitted_alone_are_identical_on_one_and_two_threads() {
    // A company closed January-April and October-December, one of whose
    // territories bills only in June: the selling periods' draws, the
    // factors stepped over the closed months and the fit alone (nested in
    // the company's closed season).
    let dir = tempfile::tempdir().unwrap();
    let mut sales = String::from("date,territory,amount\n");
    for k in 0..48usize {
        let month = k % 12;
        for t in 0..4usize {
            let sells = if t == 3 {
                month == 5
            } else {
                (4..9).contains(&month)
            };
            if sells {
                let wiggle = ((k * 7 + t * 13) % 11) as f64 * 20.0;
                let amount = if t == 3 { 12_000.0 } else { 2_000.0 } + wiggle;
                sales.push_str(&format!(
                    "{}-{:02}-01,T{t},{amount}\n",
                    2015 + k / 12,
                    month + 1
                ));
            }
        }
    }
    let a = forecast_on_one_and_two_threads(
        &dir,
        &sales,
        "name = \"closed\"\nseed = 3\n[data]\nsales = \"sales.csv\"\n[forecast]\nperiod = \"month\"\nstart = \"2019-01-01\"\nperiods = 12\ntrials = 2000\n",
    );
    let forecast = std::fs::read_to_string(a.join("forecast.csv")).unwrap();
    // Closed months at zero; the renewal's June not.
    assert!(
        forecast.contains("territory,T0,2019-01-01,0.00,0.00"),
        "{forecast}"
    );
    // The renewal territory, closed on its own within the company's
    // season, is fitted alone: its June near 12,000, its May zero.
    let p50 = |month: &str| -> f64 {
        let line = forecast
            .lines()
            .find(|l| l.starts_with(&format!("territory,T3,2019-{month}-01,")))
            .unwrap();
        line.split(',').nth(7).unwrap().parse().unwrap()
    };
    assert!(
        (p50("06") / 12_100.0 - 1.0).abs() < 0.1,
        "June P50 {}",
        p50("06")
    );
    assert_eq!(p50("05"), 0.0);
}

#[test]
fn a_cross_fitted_calibration_is_identical_on_one_and_two_threads() {
    // 40 quarters of six growing territories in two regions: 16 rolling
    // origins a quarter apart, each block of them scored with the weights
    // the pool gives on the origins a horizon away (`ets::crossfit`), so
    // the pool runs once more per block, in parallel over territories.
    let dir = tempfile::tempdir().unwrap();
    let mut sales = String::from("date,region,territory,amount\n");
    for q in 0..40usize {
        for t in 0..6usize {
            let growth = 1.0 + 0.005 * t as f64;
            let wiggle = 1.0 + 0.04 * (((q * 7 + t * 5) % 9) as f64 - 4.0) / 4.0;
            let season = [1.1, 0.9, 1.0, 1.2][q % 4];
            let amount = 10_000.0 * growth.powi(q as i32) * wiggle * season;
            sales.push_str(&format!(
                "{}-{:02}-01,R{},T{t},{amount:.2}\n",
                2010 + q / 4,
                3 * (q % 4) + 1,
                t % 2
            ));
        }
    }
    let a = forecast_on_one_and_two_threads(
        &dir,
        &sales,
        "name = \"quarters\"\nseed = 5\n[data]\nsales = \"sales.csv\"\n[data.columns]\nregion = \"region\"\n[forecast]\nperiod = \"quarter\"\nstart = \"2020-01-01\"\nperiods = 4\ntrials = 2000\n",
    );
    // Every territory was calibrated on its rolling origins, all 16 of
    // them cross-fitted (`fit.csv`'s last column, `origins_held_out`).
    let fit = std::fs::read_to_string(a.join("fit.csv")).unwrap();
    assert_eq!(fit.matches("rolling-origin CRPS").count(), 6, "{fit}");
    let mut lines = fit.lines();
    assert!(lines.next().unwrap().ends_with(",origins_held_out"));
    for line in lines {
        assert_eq!(line.rsplit(',').next(), Some("16"), "{line}");
    }
}

/// Write `sales` and the scenario `toml` into `dir`, run `forecast` on one
/// thread and on two, assert that `forecast.csv`, `fit.csv` and
/// `summary.json` are byte-identical, and return the one-thread output.
fn forecast_on_one_and_two_threads(
    dir: &tempfile::TempDir,
    sales: &str,
    toml: &str,
) -> std::path::PathBuf {
    std::fs::write(dir.path().join("sales.csv"), sales).unwrap();
    std::fs::write(dir.path().join("s.toml"), toml).unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(format!("t{threads}"));
        common::run_on_threads(dir.path(), &["forecast", "s.toml"], threads, &out);
        out
    };
    let (a, b) = (run("1"), run("2"));
    for f in ["forecast.csv", "fit.csv", "summary.json"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between 1 and 2 threads");
    }
    a
}
