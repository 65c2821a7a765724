//! Same data, scenario and seed give byte-identical outputs with one
//! thread or several.

use assert_cmd::Command;

fn run(threads: &str, out: &std::path::Path) {
    Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/demo.toml",
            "--quiet",
            "--trials",
            "3000",
            "--threads",
            threads,
            "--out",
        ])
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
    for f in [
        "forecast.csv",
        "summary.json",
        "quotas.csv",
        "fit.csv",
        "comp.csv",
        "comp_accrual.csv",
    ] {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(x == y, "{f} differs between 1 and 2 threads");
    }
}

#[test]
fn a_different_seed_gives_different_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    run("2", &a);
    let b = dir.path().join("b");
    Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "forecast",
            "scenarios/demo.toml",
            "--quiet",
            "--trials",
            "3000",
            "--seed",
            "99",
            "--out",
        ])
        .arg(&b)
        .assert()
        .success();
    assert_ne!(
        std::fs::read(a.join("forecast.csv")).unwrap(),
        std::fs::read(b.join("forecast.csv")).unwrap()
    );
}
