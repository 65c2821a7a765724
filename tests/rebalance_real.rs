//! Rebalancing real exports (from ../shared/data or `SALESPLAN_TEST_DATA`;
//! without them these tests print one line and skip): the Superstore customers (accounts = Customer
//! ID, territory = State or Region, potential = their sales per year) and
//! the CRM accounts across regional offices. Before/after figures are
//! printed (`--nocapture`) and quoted in the README.

mod common;

use std::path::Path;

use salesplan::app::rebalance_stage;
use salesplan::load;
use salesplan::rebalance::{MoveKind, TerritoriesSection};
use salesplan::scenario::Scenario;

/// Rebalance the scenario `name` with `section` appended as `[territories]`
/// (`None`: the shared datasets are absent).
fn rebalance(name: &str, section: &str) -> Option<TerritoriesSection> {
    let (path, text) = common::shared_scenario(name)?;
    let text = format!("{text}\n[territories]\n{section}\n");
    let s = Scenario::parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    let h = load::load(&s).unwrap_or_else(|e| panic!("{e}"));
    let spec = s.territories.clone().unwrap();
    let (problem, sol, t) = rebalance_stage(&s, &spec, &h, true).unwrap_or_else(|e| panic!("{e}"));
    // Every account once, optional moves within the budget.
    assert_eq!(t.assignments.len(), h.accounts.len());
    assert!(t.moved <= problem.settings.max_moves);
    assert_eq!(t.moved, sol.count(MoveKind::Optional));
    assert!(t.objective_after <= t.objective_before);
    eprintln!(
        "{name}: {} accounts, {} territories; potential CV {:.3} -> {:.3}, max/min {:.2} -> {:.2}; {} moved (budget {}), objective {:.4} -> {:.4}",
        h.accounts.len(),
        t.rows.len(),
        t.cv_before,
        t.cv_after,
        t.max_min_before.unwrap_or(f64::NAN),
        t.max_min_after.unwrap_or(f64::NAN),
        t.moved,
        t.budget_accounts,
        t.objective_before,
        t.objective_after
    );
    Some(t)
}

#[test]
fn superstore_customers_across_states_in_their_region() {
    let Some(t) = rebalance(
        "superstore_state.toml",
        "balance = [\"potential\"]\nmax_moved_accounts = 0.10\nstay_in_region = true",
    ) else {
        return;
    };
    assert_eq!(t.assignments.len(), 793);
    assert!(t.moved <= 79);
    // 49 states of very different size: a 10% budget cannot even them out,
    // but it must cut the spread substantially.
    assert!(
        t.cv_after < 0.7 * t.cv_before,
        "{} -> {}",
        t.cv_before,
        t.cv_after
    );
    // Moves stay within each state's region.
    let region = |name: &str| {
        t.rows
            .iter()
            .find(|r| r.territory == name)
            .map(|r| r.region.clone())
    };
    for m in &t.moves {
        assert_eq!(region(&m.from_territory), region(&m.to_territory));
    }
}

#[test]
fn superstore_customers_across_regions() {
    let Some(t) = rebalance(
        "superstore_region.toml",
        "balance = [\"potential\", \"workload\"]\nmax_moved_accounts = 0.05",
    ) else {
        return;
    };
    assert!(t.moved <= 39);
    assert!(
        t.cv_after < 0.25 * t.cv_before,
        "{} -> {}",
        t.cv_before,
        t.cv_after
    );
    let points = t.frontier.unwrap();
    assert_eq!(points[0].moved, 0);
    // More budget never balances worse on this data.
    for w in points.windows(2) {
        assert!(w[1].objective <= w[0].objective * (1.0 + 1e-9));
    }
}

#[test]
fn crm_accounts_across_regional_offices_with_a_removed_office() {
    let Some(t) = rebalance(
        "crm.toml",
        "balance = [\"potential\", \"workload\"]\nmax_moved_accounts = 8",
    ) else {
        return;
    };
    assert!(t.moved <= 8);
    // The three offices are already balanced (CV below 1%): no move helps much.
    assert!(t.cv_before < 0.02);
    assert!(t.cv_after <= t.cv_before + 1e-12);
    // An office closes: all its accounts are forced moves, outside the budget.
    let office = t.rows[0].territory.clone();
    let Some(removed) = rebalance(
        "crm.toml",
        &format!("max_moved_accounts = 8\nremove = [\"{office}\"]"),
    ) else {
        return;
    };
    let row = removed.rows.iter().find(|r| r.territory == office).unwrap();
    assert_eq!(row.accounts_after, 0);
    assert_eq!(removed.forced_moves, row.accounts_before);
    assert!(removed.moved <= 8);
}

#[test]
fn rebalance_output_is_identical_on_one_and_two_threads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(format!("t{threads}"));
        common::run_on_threads(
            root,
            &["rebalance", "scenarios/demo.toml", "--frontier"],
            threads,
            &out,
        );
        [
            "assignments.csv",
            "territories.csv",
            "moves.csv",
            "frontier.csv",
        ]
        .map(|f| std::fs::read(out.join(f)).unwrap())
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn run_sets_quotas_on_the_rebalanced_territories() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = std::fs::read_to_string(root.join("scenarios/demo.toml")).unwrap();
    let data = root.join("data");
    let text = demo
        .replace("../data/", &format!("{}/", data.display()))
        .replace(
            "stay_in_region = true",
            "stay_in_region = true\nremove = [\"T-03\"]\nadd = [ { name = \"T-new\", region = \"West\" } ]",
        );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), text).unwrap();
    let out = dir.path().join("out");
    assert_cmd::Command::cargo_bin("salesplan")
        .unwrap()
        .args([
            "run", "--quiet", "--trials", "2000", "--format", "csv,json", "--out",
        ])
        .arg(&out)
        .arg(dir.path().join("s.toml"))
        .assert()
        .success();
    let quotas = std::fs::read_to_string(out.join("quotas.csv")).unwrap();
    assert!(quotas.contains("\nT-new,"), "{quotas}");
    assert!(!quotas.contains("\nT-03,"), "{quotas}");
    let total: f64 = quotas
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1].is_empty()) // territory rows, not rep rows
        .map(|f| f[2].parse::<f64>().unwrap())
        .sum();
    // The demo's plan x (1 + over_assignment).
    assert!((total - 28_600_000.0 * 1.05).abs() < 1.0, "{total}");
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("\"territories\""));
    // Commission runs on the new territories: T-03's rep left with it and
    // the new territory has a stand-in.
    let comp = std::fs::read_to_string(out.join("comp.csv")).unwrap();
    assert!(!comp.contains(",T-03,"), "{comp}");
    assert!(comp.contains("T-new"), "{comp}");
}
