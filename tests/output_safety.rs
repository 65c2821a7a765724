//! A run never deletes what it did not write: `--out` naming the inputs'
//! folder, a regular file or a foreign folder is refused with exit 2 and
//! everything stays; a trials file inside `--out` is part of the output;
//! a failing run keeps the previous output and trials file.

use std::path::Path;

/// A scenario in `dir` reading its own copy of the demo sales
/// (`dir/data/sales.csv`), forecasting 2027 with few trials.
fn scenario_with_own_data(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sales.csv");
    std::fs::copy(demo, data.join("sales.csv")).unwrap();
    let text = "name = \"safety\"\nseed = 7\n[data]\nsales = \"data/sales.csv\"\n\
                [data.columns]\ndate = \"date\"\nterritory = \"territory\"\namount = \"amount\"\nregion = \"region\"\n\
                [forecast]\nstart = \"2027-01-01\"\nperiods = 12\ntrials = 200\n\
                [output]\nformats = [\"csv\", \"json\"]\n";
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn forecast(scenario: &Path, out: &Path) -> assert_cmd::assert::Assert {
    forecast_with_trials(scenario, out, None)
}

/// `salesplan forecast` into `out`, exporting the trials to `trials`.
fn forecast_with_trials(
    scenario: &Path,
    out: &Path,
    trials: Option<&Path>,
) -> assert_cmd::assert::Assert {
    let mut c = assert_cmd::Command::cargo_bin("salesplan").unwrap();
    c.args(["forecast", "--quiet", "--out"]).arg(out);
    if let Some(t) = trials {
        c.arg("--export-trials").arg(t);
    }
    c.arg(scenario).assert()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn out_naming_the_inputs_folder_is_refused_and_the_inputs_stay() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_with_own_data(dir.path());
    let before = names(dir.path());
    for out in [dir.path().join("data"), dir.path().to_path_buf()] {
        let a = forecast(&scenario, &out).code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains("an input of this run"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(names(dir.path()), before);
    assert!(dir.path().join("data/sales.csv").is_file());
}

#[test]
fn out_on_a_regular_file_or_a_foreign_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_with_own_data(dir.path());
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "keep me").unwrap();
    let a = forecast(&scenario, &file).code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("is an existing file"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");

    let foreign = dir.path().join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("thesis.docx"), "keep me").unwrap();
    let a = forecast(&scenario, &foreign).code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("'thesis.docx'"));
    assert_eq!(names(&foreign), ["thesis.docx"]);
}

#[test]
fn outputs_are_marked_replaced_and_a_trials_file_inside_out_survives() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_with_own_data(dir.path());
    let out = dir.path().join("out");
    let trials = out.join("trials.parquet");
    for _ in 0..2 {
        forecast_with_trials(&scenario, &out, Some(&trials)).success();
        assert!(out.join(".salesplan-output").is_file());
        assert!(trials.is_file());
    }
    let leftovers: Vec<String> = names(dir.path())
        .into_iter()
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_failing_run_keeps_the_previous_output_and_trials_file() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_with_own_data(dir.path());
    let out = dir.path().join("out");
    let trials = dir.path().join("trials.parquet");
    let run = |scenario: &Path| forecast_with_trials(scenario, &out, Some(&trials));
    run(&scenario).success();
    let forecast_before = std::fs::read(out.join("forecast.csv")).unwrap();
    let trials_before = std::fs::read(&trials).unwrap();
    // A scenario whose sales file is missing fails after the output was
    // checked: nothing changes.
    let broken = dir.path().join("broken.toml");
    let text = std::fs::read_to_string(&scenario)
        .unwrap()
        .replace("data/sales.csv", "data/missing.csv");
    std::fs::write(&broken, text).unwrap();
    run(&broken).code(2);
    assert_eq!(
        std::fs::read(out.join("forecast.csv")).unwrap(),
        forecast_before
    );
    assert_eq!(std::fs::read(&trials).unwrap(), trials_before);
}
