//! The files people open: `report.html` (every section of the stages run,
//! nothing referenced outside itself), `plots/*.svg|png`, and `plan.xlsx`
//! (read back and compared with the CSV files of the same run), plus
//! snapshots of the machine-readable files with a fixed seed.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod common;

fn salesplan(args: &[&str], out: &Path) {
    Command::cargo_bin("salesplan")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .args(["--quiet", "--trials", "2000", "--out"])
        .arg(out)
        .assert()
        .success();
}

/// What `salesplan` with `args` prints on stdout (it must succeed).
fn salesplan_stdout(args: &[&std::ffi::OsStr]) -> String {
    common::stdout_of(Command::cargo_bin("salesplan").unwrap().args(args))
}

fn demo_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    salesplan(&["run", "scenarios/demo.toml"], &out);
    (dir, out)
}

/// Every `attr="..."` value in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

fn assert_self_contained(html: &str) {
    for href in attribute_values(html, "href") {
        assert!(
            href.starts_with('#'),
            "report.html links outside itself: {href}"
        );
    }
    assert!(
        attribute_values(html, "src").is_empty(),
        "report.html loads a file"
    );
    for forbidden in ["<link", "@import", "url(", "<iframe", "<img"] {
        assert!(
            !html.contains(forbidden),
            "report.html contains {forbidden}"
        );
    }
    // The only URLs allowed are XML namespace names inside inline SVG.
    for (i, _) in html.match_indices("http") {
        let rest = &html[i..];
        assert!(
            rest.starts_with("http://www.w3.org/"),
            "report.html references {}",
            &rest[..rest.len().min(60)]
        );
    }
}

#[test]
fn report_html_has_every_section_of_the_run_and_nothing_outside_itself() {
    let (_dir, out) = demo_run();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for id in [
        "summary",
        "data",
        "fit",
        "forecast",
        "territories",
        "quota",
        "comp",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "no {id} section"
        );
    }
    assert!(
        !html.contains("<section id=\"backtest\">"),
        "backtest did not run"
    );
    for plot in [
        "forecast_fan",
        "total_distribution",
        "quota_vs_forecast",
        "attainment_distribution",
        "comp_cost",
        "payout_curve",
        "rep_payouts",
        "territory_balance",
        "territory_map_before",
        "territory_map_after",
        "fit_1",
    ] {
        assert!(
            html.contains(&format!("<figure id=\"plot-{plot}\"><svg")),
            "{plot} not inline"
        );
    }
    // Footer identifies the run: seed and the hash of every input.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for (file, hash) in summary["inputs"].as_object().unwrap() {
        assert!(html.contains(file.as_str()) && html.contains(hash.as_str().unwrap()));
    }
    assert!(html.contains("seed 7"));
    assert_self_contained(&html);
}

#[test]
fn the_fit_table_shows_the_calibration_factors_of_fit_csv() {
    // The issue's "the report shows the same": each territory's row carries
    // its calibration and horizon-total calibration, in their own columns,
    // beside the spread factor they lead to.
    let (_dir, out) = demo_run();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let fit = &html[html.find("<section id=\"fit\">").unwrap()..];
    let table = &fit[..fit.find("</table>").unwrap()];
    let headers: Vec<&str> = table
        .split("</th>")
        .filter_map(|h| h.rsplit('>').next())
        .collect();
    let column_of = |name: &str| headers.iter().position(|h| *h == name).unwrap();
    let csv = std::fs::read_to_string(out.join("fit.csv")).unwrap();
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let csv_column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut checked = 0;
    for line in rows {
        // The params column is quoted JSON with commas: count from the end.
        let cells: Vec<&str> = line
            .rsplitn(header.len() - csv_column("params"), ',')
            .collect();
        let territory = line.split(',').next().unwrap();
        let start = table.find(&format!("<td>{territory}</td>")).unwrap();
        let row = &table[start..start + table[start..].find("</tr>").unwrap()];
        let tds: Vec<&str> = row.split("<td").skip(1).collect();
        for (csv_name, html_name) in [
            ("calibration", "calibration"),
            ("calibration_total", "year cal. (lo / hi)"),
        ] {
            let value = cells[header.len() - 1 - csv_column(csv_name)];
            let td = tds[column_of(html_name)];
            if value.is_empty() {
                assert!(td.ends_with("></td>"), "{territory} {html_name}: {td}");
                continue;
            }
            let shown: f64 = td
                .split("data-v=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                (shown - value.parse::<f64>().unwrap()).abs() < 1e-4,
                "{territory} {html_name}: {td} against {value}"
            );
            checked += 1;
        }
        // The year's sides, shown as "(lo / hi)": below / above, to two decimals
        // beside the two-sided factor.
        let side = |name: &str| cells[header.len() - 1 - csv_column(name)];
        let (below, above) = (
            side("calibration_total_below"),
            side("calibration_total_above"),
        );
        let td = tds[column_of("year cal. (lo / hi)")];
        if below.is_empty() {
            assert!(above.is_empty() && !td.contains('('), "{territory}: {td}");
        } else {
            let shown = format!(
                "({:.2} / {:.2})",
                below.parse::<f64>().unwrap(),
                above.parse::<f64>().unwrap()
            );
            assert!(td.contains(&shown), "{territory}: {td} against {shown}");
            checked += 1;
        }
    }
    assert!(checked > 0, "no calibration factor to compare");
}

#[test]
fn backtest_report_shows_scores_and_coverage_plot() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bt");
    salesplan(&["backtest", "scenarios/demo.toml", "--holdout", "6"], &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"backtest\">"));
    assert!(html.contains("<figure id=\"plot-backtest_coverage\"><svg"));
    assert!(out.join("plots/backtest_coverage.png").exists());
    assert_self_contained(&html);
}

/// Width and height of a PNG file.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn every_plot_is_written_as_svg_and_png() {
    let (_dir, out) = demo_run();
    let plots = out.join("plots");
    let mut names: Vec<String> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in names.iter().filter(|n| n.ends_with(".svg")) {
        let svg = std::fs::read_to_string(plots.join(name)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{name}");
        assert!(svg.contains("<text"), "{name} has no text (title, axes)");
        let png = plots.join(name.replace(".svg", ".png"));
        let (w, h) = png_size(&png);
        assert!(w >= 800 && h >= 300, "{name}: {w}x{h}");
    }
}

/// The cells of every sheet of an xlsx file: sheet name -> rows of text.
fn read_xlsx(path: &Path) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let shared: Vec<String> = read("xl/sharedStrings.xml")
        .split("<si>")
        .skip(1)
        .map(|si| {
            let t = si.split_once('>').map(|x| x.1).unwrap_or("");
            let t = t.split("</t>").next().unwrap_or("");
            t.replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
        })
        .collect();
    let workbook = read("xl/workbook.xml");
    let names: Vec<String> = attribute_values(&workbook, "name")
        .into_iter()
        .filter(|n| !n.starts_with('_'))
        .map(String::from)
        .collect();
    let mut out = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let xml = read(&format!("xl/worksheets/sheet{}.xml", i + 1));
        let mut rows = Vec::new();
        for row in xml.split("<row ").skip(1) {
            let row = row.split("</row>").next().unwrap();
            let mut cells = Vec::new();
            for cell in row.split("<c ").skip(1) {
                let is_shared = cell.split('>').next().unwrap().contains("t=\"s\"");
                let value = cell
                    .split_once("<v>")
                    .map(|(_, v)| v.split("</v>").next().unwrap().to_string())
                    .unwrap_or_default();
                let column = attribute_values(cell, "r")[0]
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .bytes()
                    .fold(0usize, |acc, b| acc * 26 + (b - b'A' + 1) as usize)
                    - 1;
                cells.resize(column, String::new());
                cells.push(if is_shared {
                    shared[value.parse::<usize>().unwrap()].clone()
                } else {
                    value
                });
            }
            rows.push(cells);
        }
        out.insert(name.clone(), rows);
    }
    out
}

#[test]
fn plan_xlsx_holds_the_same_quotas_and_forecast_as_the_csv_files() {
    let (_dir, out) = demo_run();
    let book = read_xlsx(&out.join("plan.xlsx"));
    for sheet in [
        "Summary",
        "Quotas",
        "Comp",
        "Comp accrual",
        "Territories",
        "Moves",
        "Assignments",
        "Forecast",
        "Forecast P50",
        "Fit",
    ] {
        assert!(
            book.contains_key(sheet),
            "no sheet {sheet}: {:?}",
            book.keys()
        );
    }
    let csv = std::fs::read_to_string(out.join("quotas.csv")).unwrap();
    let csv_rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let sheet = &book["Quotas"];
    assert_eq!(sheet[0][0], "territory");
    let territory_rows: Vec<&Vec<&str>> = csv_rows.iter().filter(|r| r[1].is_empty()).collect();
    assert_eq!(sheet.len() - 1, territory_rows.len());
    for (row, csv_row) in sheet[1..].iter().zip(territory_rows) {
        assert_eq!(row[0], csv_row[0]);
        let (a, b): (f64, f64) = (row[1].parse().unwrap(), csv_row[2].parse().unwrap());
        assert!((a - b).abs() < 0.01, "{}: xlsx {a} vs csv {b}", row[0]);
    }
    let forecast = std::fs::read_to_string(out.join("forecast.csv")).unwrap();
    let long = &book["Forecast"];
    assert_eq!(long.len(), forecast.lines().count());
    for (row, line) in long[1..].iter().zip(forecast.lines().skip(1)) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(&row[..3], &fields[..3]);
        let (a, b): (f64, f64) = (row[3].parse().unwrap(), fields[3].parse().unwrap());
        assert!((a - b).abs() < 0.01, "{line}");
    }
}

#[test]
fn machine_readable_files_match_their_snapshots() {
    let (_dir, out) = demo_run();
    let quotas = std::fs::read_to_string(out.join("quotas.csv")).unwrap();
    insta::assert_snapshot!("demo_quotas_csv", quotas);
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // The version moves with every release; everything else is fixed by the seed.
    summary["version"] = serde_json::Value::Null;
    insta::assert_snapshot!(
        "demo_summary_json",
        serde_json::to_string_pretty(&summary).unwrap()
    );
}

#[test]
fn quarterly_phasing_adds_up_to_every_quota() {
    let (_dir, out) = demo_run();
    let csv = std::fs::read_to_string(out.join("quotas.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (quota, q1) = (col("quota"), col("quota_q1"));
    let mut rows = 0;
    for line in lines {
        let f: Vec<f64> = line
            .split(',')
            .map(|x| x.parse().unwrap_or(f64::NAN))
            .collect();
        let phased: f64 = f[q1..q1 + 4].iter().sum();
        assert!((phased - f[quota]).abs() < 0.05, "{line}");
        rows += 1;
    }
    assert!(rows > 12);
}

#[test]
fn monthly_phasing_adds_up_to_every_territory_quota() {
    let (_dir, out) = demo_run();
    let quotas = std::fs::read_to_string(out.join("quotas.csv")).unwrap();
    let phasing = std::fs::read_to_string(out.join("quota_phasing.csv")).unwrap();
    let mut checked = 0;
    for line in quotas.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if !f[1].is_empty() {
            continue;
        }
        let months: Vec<f64> = phasing
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|p| p[0] == f[0])
            .map(|p| p[2].parse().unwrap())
            .collect();
        assert_eq!(months.len(), 12, "{}", f[0]);
        let quota: f64 = f[2].parse().unwrap();
        assert!((months.iter().sum::<f64>() - quota).abs() < 0.1, "{line}");
        checked += 1;
    }
    assert_eq!(checked, 12);
}

#[test]
fn a_plan_year_already_in_the_history_says_its_figures_are_actuals() {
    // The demo's history ends with 2026: a forecast of 2026 is all
    // actuals. The command line and the report say so instead of "0 draws".
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::demo_sales_scenario(
        dir.path(),
        "observed year",
        "",
        "[forecast]\nperiod = \"month\"\nstart = \"2026-01-01\"\nperiods = 12\ntrials = 200\n",
    );
    let out = dir.path().join("out");
    let stdout = salesplan_stdout(&[
        "forecast".as_ref(),
        scenario.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(
        stdout.contains("every period of the plan year is already in the history"),
        "{stdout}"
    );
    assert!(!stdout.contains("0 draws"), "{stdout}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Every period of the plan year is already in the history"));
    // One total is not a distribution, and the fan has no empty band.
    assert!(!out.join("plots/total_distribution.png").exists());
    assert!(html.contains("Company revenue by month: actuals"));
}

#[test]
fn a_year_the_history_covers_in_part_says_so_beside_its_revenue() {
    // 32 months from March 2024 to October 2026: 2024 and 2026 have ten
    // months each, so their revenue is not a whole year's and must not
    // read as a fall beside 2025's twelve.
    let dir = tempfile::tempdir().unwrap();
    let mut sales = String::from("date,territory,amount\n");
    for m in 0..32 {
        let (year, month) = (2024 + (m + 2) / 12, (m + 2) % 12 + 1);
        for t in ["T-1", "T-2"] {
            sales.push_str(&format!("{year}-{month:02}-15,{t},{}\n", 1000 + 10 * m));
        }
    }
    std::fs::write(dir.path().join("sales.csv"), sales).unwrap();
    let scenario = dir.path().join("partial.toml");
    std::fs::write(
        &scenario,
        "name = \"partial years\"\nseed = 7\n[data]\nsales = \"sales.csv\"\n\
         [data.columns]\ndate = \"date\"\nterritory = \"territory\"\namount = \"amount\"\n\
         [forecast]\nperiod = \"month\"\nperiods = 12\ntrials = 200\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    salesplan_stdout(&[
        "forecast".as_ref(),
        scenario.as_os_str(),
        "--quiet".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(
        html.matches(">10 of 12 months (part of the year)<").count(),
        2,
        "2024 and 2026"
    );
    assert_eq!(html.matches(">12 months<").count(), 1, "2025");
    let text = salesplan_stdout(&["validate".as_ref(), scenario.as_os_str()]);
    assert!(
        text.contains("years covered in part (months): 2024 (10 of 12), 2026 (10 of 12)"),
        "{text}"
    );
}
