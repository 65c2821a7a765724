//! Comp CSV files: `comp.csv` (per rep), `comp_accrual.csv` (per quarter)
//! and, when asked for, `payout_curve.csv`. Reads the report's
//! [`CompSection`] only; never recomputes a number.

use crate::comp::CompSection;
use crate::error::Result;
use crate::export::csv::{money, num, Csv};
use crate::output::OutputDir;

/// Write the comp CSV files of `comp`.
///
/// # Errors
/// `Error::Io` if a file cannot be written.
pub fn write(comp: &CompSection, out: &OutputDir) -> Result<()> {
    let tiers = comp.reps.iter().map(|r| r.tiers.len()).max().unwrap_or(0);
    let gates = comp.reps.iter().map(|r| r.gates.len()).max().unwrap_or(0);
    let mut header: Vec<String> = [
        "rep",
        "territory",
        "payout_mean",
        "payout_p10",
        "payout_p50",
        "payout_p90",
        "plan",
        "region",
        "stand_in",
        "fte",
        "target_incentive",
        "quota",
        "payout_at_plan",
        "attainment_mean",
        "attainment_p10",
        "attainment_p50",
        "attainment_p90",
        "prob_attain_100",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend((1..=tiers).map(|k| format!("prob_tier_{k}")));
    header.extend((1..=gates).map(|k| format!("prob_gate_{k}")));
    header.push("prob_cap".into());
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut c = Csv::new(&refs);
    for r in &comp.reps {
        let mut f = vec![
            r.rep.clone(),
            r.territory.clone(),
            money(r.payout.mean),
            money(r.payout.p10),
            money(r.payout.p50),
            money(r.payout.p90),
            r.plan.clone(),
            r.region.clone(),
            r.stand_in.to_string(),
            num(r.fte),
            money(r.target_incentive),
            money(r.quota),
            money(r.payout_at_plan),
            num(r.attainment.mean),
            num(r.attainment.p10),
            num(r.attainment.p50),
            num(r.attainment.p90),
            num(r.prob_attain_100),
        ];
        f.extend((0..tiers).map(|k| {
            r.tiers
                .get(k)
                .map(|t| num(t.probability))
                .unwrap_or_default()
        }));
        f.extend((0..gates).map(|k| {
            r.gates
                .get(k)
                .map(|g| num(g.probability))
                .unwrap_or_default()
        }));
        f.push(r.cap.map(|c| num(c.probability)).unwrap_or_default());
        c.row(f);
    }
    out.write("comp.csv", &c.into_bytes())?;

    let mut c = Csv::new(&["quarter", "start", "mean", "p10", "p50", "p90"]);
    for a in &comp.accrual {
        c.row([
            a.quarter.clone(),
            a.start.clone(),
            money(a.accrual.mean),
            money(a.accrual.p10),
            money(a.accrual.p50),
            money(a.accrual.p90),
        ]);
    }
    out.write("comp_accrual.csv", &c.into_bytes())?;

    if comp.write_payout_curve {
        let mut c = Csv::new(&["plan", "attainment", "payout"]);
        for p in &comp.plans {
            for pt in &p.curve {
                c.row([
                    p.name.clone(),
                    format!("{:.2}", pt.attainment),
                    money(pt.payout),
                ]);
            }
        }
        out.write("payout_curve.csv", &c.into_bytes())?;
    }
    Ok(())
}
