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
