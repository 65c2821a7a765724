//! Excel input: every table read from `.xlsx` workbooks that the test
//! writes itself (rust_xlsxwriter) from rows it knows, so a bare clone
//! needs no data file. The same rows written as CSV are the reference: the
//! loaded history and the forecast must be identical, whether the
//! workbook's dates are date cells or text under `date_format`. Then one
//! test per rule of the workbook reader's errors (exit code 2, the message
//! naming the file, the sheet and the row).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, Worksheet};

use salesplan::history::SalesHistory;
use salesplan::scenario::Scenario;

mod common;

/// A cell of a known row.
#[derive(Clone, Debug)]
enum V {
    Text(String),
    Num(f64),
    /// A date, written as a date cell (ISO in the CSV).
    Date(u16, u8, u8),
    /// A date and time of day, written as a date-time cell (the date alone,
    /// ISO, in the CSV: the loader ignores times of day).
    DateTime(u16, u8, u8, u16, u8),
    Bool(bool),
    Empty,
}

fn t(s: &str) -> V {
    V::Text(s.to_string())
}

impl V {
    /// The CSV field (what an export from Excel would hold).
    fn csv(&self) -> String {
        match self {
            V::Text(s) => s.clone(),
            V::Num(x) => format!("{x}"),
            V::Date(y, m, d) | V::DateTime(y, m, d, ..) => format!("{y:04}-{m:02}-{d:02}"),
            V::Bool(b) => b.to_string(),
            V::Empty => String::new(),
        }
    }
}

/// A table: header and rows.
struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<V>>,
}

impl Table {
    fn csv(&self) -> String {
        let mut out = self.header.join(",");
        out.push('\n');
        for r in &self.rows {
            out.push_str(&r.iter().map(V::csv).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }

    /// Write the table on `sheet` from Excel row `first_row` (1-based) on.
    fn write(&self, sheet: &mut Worksheet, first_row: u32) {
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let top = first_row - 1;
        for (j, h) in self.header.iter().enumerate() {
            sheet.write_string(top, j as u16, *h).unwrap();
        }
        for (i, r) in self.rows.iter().enumerate() {
            let row = top + 1 + i as u32;
            for (j, v) in r.iter().enumerate() {
                let col = j as u16;
                match v {
                    V::Text(s) => {
                        sheet.write_string(row, col, s).unwrap();
                    }
                    V::Num(x) => {
                        sheet.write_number(row, col, *x).unwrap();
                    }
                    V::Date(y, m, d) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        sheet
                            .write_datetime_with_format(row, col, &dt, &date)
                            .unwrap();
                    }
                    V::DateTime(y, m, d, h, mi) => {
                        let dt = ExcelDateTime::from_ymd(*y, *m, *d)
                            .unwrap()
                            .and_hms(*h, *mi, 0)
                            .unwrap();
                        sheet
                            .write_datetime_with_format(row, col, &dt, &datetime)
                            .unwrap();
                    }
                    V::Bool(b) => {
                        sheet.write_boolean(row, col, *b).unwrap();
                    }
                    V::Empty => {}
                }
            }
        }
    }
}

const TERRITORIES: [(&str, &str); 3] = [("T-1", "East"), ("T-2", "East"), ("T-3", "West")];
const DAYS: [u8; 5] = [1, 8, 15, 22, 28];

/// Amount in cents of territory `k`, month `m` (0-based from 2024-01), deal
/// `d` of the month; one deal is a credit of a quarter of that.
fn cents(k: usize, m: usize, d: usize) -> i64 {
    let base = [120_000, 90_000, 150_000][k];
    let c = base + ((k * 7919 + m * 3571 + d * 1013) % 40_000) as i64 + (m as i64) * 900;
    if m == 5 && k == 1 && d == 2 {
        -c / 4
    } else {
        c
    }
}

/// Two years of sales (2024-2025), five deals a month per territory, with
/// accounts; one deal is a credit and one has a time of day.
fn sales() -> Table {
    let mut rows = Vec::new();
    for m in 0..24usize {
        let (year, month) = (2024 + (m / 12) as u16, (m % 12) as u8 + 1);
        for (k, (territory, region)) in TERRITORIES.iter().enumerate() {
            for (di, &day) in DAYS.iter().enumerate() {
                let amount = cents(k, m, di) as f64 / 100.0;
                let date = if m == 3 && k == 0 && di == 1 {
                    V::DateTime(year, month, day, 14, 30)
                } else {
                    V::Date(year, month, day)
                };
                rows.push(vec![
                    date,
                    t(territory),
                    V::Num(amount),
                    t(&format!("A-{}{}", k + 1, di % 3)),
                    t(region),
                ]);
            }
        }
    }
    Table {
        header: vec!["date", "territory", "amount", "account", "region"],
        rows,
    }
}

/// The sales rows with their dates as `DD/MM/YYYY` text, except the
/// date-time row, left a date cell (a date cell is read as a date whatever
/// `date_format` says).
fn sales_text_dates() -> Table {
    let mut s = sales();
    for r in &mut s.rows {
        if let V::Date(y, m, d) = r[0] {
            r[0] = t(&format!("{d:02}/{m:02}/{y}"));
        }
    }
    s
}

fn accounts() -> Table {
    let mut rows = Vec::new();
    for (k, (territory, _)) in TERRITORIES.iter().enumerate() {
        for a in 0..3 {
            rows.push(vec![
                t(&format!("A-{}{a}", k + 1)),
                t(territory),
                V::Num(10_000.0 * (k + a + 1) as f64 + 0.5),
                V::Bool(a == 0 && k == 2),
            ]);
        }
    }
    Table {
        header: vec!["account", "territory", "potential", "locked"],
        rows,
    }
}

fn reps() -> Table {
    Table {
        header: vec!["rep", "territory", "start_date", "end_date", "fte"],
        rows: vec![
            vec![
                t("R-1"),
                t("T-1"),
                V::Date(2020, 1, 6),
                V::Empty,
                V::Num(1.0),
            ],
            vec![
                t("R-2"),
                t("T-2"),
                V::Date(2021, 3, 1),
                V::Date(2026, 4, 30),
                V::Num(1.0),
            ],
            vec![
                t("R-3"),
                t("T-3"),
                V::Date(2026, 2, 1),
                V::Empty,
                V::Num(0.5),
            ],
        ],
    }
}

fn pipeline() -> Table {
    let stages = ["Proposal", "Negotiation", "Won", "Lost"];
    let mut rows = Vec::new();
    for i in 0..12usize {
        let (territory, _) = TERRITORIES[i % 3];
        rows.push(vec![
            t(&format!("O-{i}")),
            t(territory),
            if i == 4 {
                V::Empty
            } else {
                V::Num(5_000.0 + 1_250.25 * i as f64)
            },
            V::Date(2026, (i % 6) as u8 + 1, 15),
            t(stages[i % 4]),
            V::Num([0.3, 0.6, 1.0, 0.0][i % 4]),
        ]);
    }
    Table {
        header: vec![
            "opportunity",
            "territory",
            "amount",
            "close_date",
            "stage",
            "win_probability",
        ],
        rows,
    }
}

fn quotas() -> Table {
    Table {
        header: vec!["territory", "quota"],
        rows: vec![
            vec![t("T-1"), V::Num(8_000_000.0)],
            vec![t("T-2"), V::Num(6_500_000.0)],
            vec![t("T-3"), V::Num(9_250_000.5)],
        ],
    }
}

/// A folder with the reference CSVs and the workbooks:
/// - `sales.xlsx`: sheet `Sales` (first; date cells, header on row 1),
///   then `Sales text dates` (a blank row 1, the header on row 2, dates as
///   `DD/MM/YYYY` text);
/// - `tables.xlsx`: a `Notes` sheet first, then `Accounts`, `Reps`,
///   `Pipeline` and `Quotas`.
struct Data {
    dir: tempfile::TempDir,
}

impl Data {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for (name, table) in [
            ("sales.csv", sales()),
            ("sales-text-dates.csv", sales_text_dates()),
            ("accounts.csv", accounts()),
            ("reps.csv", reps()),
            ("pipeline.csv", pipeline()),
            ("quotas.csv", quotas()),
        ] {
            std::fs::write(p.join(name), table.csv()).unwrap();
        }
        let mut book = Workbook::new();
        sales().write(book.add_worksheet().set_name("Sales").unwrap(), 1);
        sales_text_dates().write(
            book.add_worksheet().set_name("Sales text dates").unwrap(),
            2,
        );
        book.save(p.join("sales.xlsx")).unwrap();

        let mut book = Workbook::new();
        book.add_worksheet()
            .set_name("Notes")
            .unwrap()
            .write_string(0, 0, "Tables for the plan")
            .unwrap();
        for (name, table) in [
            ("Accounts", accounts()),
            ("Reps", reps()),
            ("Pipeline", pipeline()),
            ("Quotas", quotas()),
        ] {
            table.write(book.add_worksheet().set_name(name).unwrap(), 1);
        }
        book.save(p.join("tables.xlsx")).unwrap();
        Data { dir }
    }

    /// Run `validate s.toml`: exit code 2, every fragment in the message,
    /// no panic.
    fn validate_fails(&self, fragments: &[&str]) {
        let mut assert = Command::cargo_bin("salesplan")
            .unwrap()
            .current_dir(self.dir.path())
            .args(["validate", "s.toml"])
            .assert()
            .code(2);
        for f in fragments {
            assert = assert.stderr(predicate::str::contains(*f));
        }
        assert.stderr(predicate::str::contains("panicked").not());
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write scenario `name` with these `[data]` lines; returns its path.
    fn scenario(&self, name: &str, data: &str) -> PathBuf {
        let text = format!(
            "name = \"excel\"\nseed = 11\n[data]\n{data}\n\
             [data.columns]\ndate = \"date\"\nterritory = \"territory\"\namount = \"amount\"\naccount = \"account\"\nregion = \"region\"\n\
             [forecast]\nperiod = \"month\"\nstart = \"2026-01-01\"\nperiods = 12\ntrials = 400\n"
        );
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The CSVs; `sales_lines` names the sales file.
    fn csv_scenario(&self, name: &str, sales_lines: &str) -> PathBuf {
        self.scenario(
            name,
            &format!(
                "{sales_lines}\naccounts = \"accounts.csv\"\nreps = \"reps.csv\"\n\
                 pipeline = \"pipeline.csv\"\nquotas = \"quotas.csv\""
            ),
        )
    }

    /// The workbooks' tables; `sales_lines` chooses the sales sheet.
    fn xlsx_scenario(&self, name: &str, sales_lines: &str) -> PathBuf {
        self.scenario(
            name,
            &format!(
                "sales = \"sales.xlsx\"\n{sales_lines}\n\
                 accounts = \"tables.xlsx\"\naccounts_sheet = \"Accounts\"\n\
                 reps = \"tables.xlsx\"\nreps_sheet = \"Reps\"\n\
                 pipeline = \"tables.xlsx\"\npipeline_sheet = \"Pipeline\"\n\
                 quotas = \"tables.xlsx\"\nquotas_sheet = \"quotas\""
            ),
        )
    }
}

fn load(scenario: &Path) -> SalesHistory {
    let s = Scenario::load(scenario).unwrap();
    salesplan::load::load(&s).unwrap()
}

/// The history with where each table came from blanked: what must not
/// depend on the file format.
fn content(h: &SalesHistory) -> String {
    let mut h = h.clone();
    for t in &mut h.report.tables {
        t.path.clear();
        t.sheet = None;
    }
    format!("{h:?}")
}

fn total(h: &SalesHistory) -> f64 {
    h.revenue.iter().flatten().sum()
}

/// The sum of the known sales rows, in cents.
fn known_total_cents() -> i64 {
    let mut sum = 0;
    for m in 0..24 {
        for k in 0..3 {
            for di in 0..DAYS.len() {
                sum += cents(k, m, di);
            }
        }
    }
    sum
}

#[test]
fn workbook_tables_load_as_the_same_rows_in_csv() {
    let d = Data::new();
    let csv = load(&d.csv_scenario("csv.toml", "sales = \"sales.csv\""));
    let text_dates = "date_format = \"%d/%m/%Y\"";
    let csv_text = load(&d.csv_scenario(
        "csv-text.toml",
        &format!("sales = \"sales-text-dates.csv\"\n{text_dates}"),
    ));
    // The first sheet by default: `Sales`, with date cells.
    let cells = load(&d.xlsx_scenario("cells.toml", ""));
    // Dates stored as text, read through date_format; the sheet's name in
    // another case is still found (Excel's names ignore case).
    let text = load(&d.xlsx_scenario(
        "text.toml",
        &format!("sales_sheet = \"sales TEXT dates\"\n{text_dates}"),
    ));

    assert_eq!(csv.territories.len(), 3);
    assert_eq!(csv.revenue[0].len(), 24);
    assert_eq!(csv.accounts.len(), 9);
    assert_eq!(csv.reps.len(), 3);
    assert_eq!(csv.quotas.len(), 3);
    assert!(csv.accounts.iter().any(|a| a.locked));
    assert!(
        (total(&csv) - known_total_cents() as f64 / 100.0).abs() < 1e-6,
        "{} vs {}",
        total(&csv),
        known_total_cents() as f64 / 100.0
    );
    // Identical to the same rows in CSV, to the last bit.
    assert_eq!(content(&cells), content(&csv));
    assert_eq!(content(&text), content(&csv_text));
    // The two CSVs differ only in how their dates are written: the same
    // periods and totals (accounts' totals add their days in the order of
    // the date texts, so they may differ in the last bits).
    assert_eq!(csv.revenue, csv_text.revenue);
    assert_eq!(csv.first_period, csv_text.first_period);
    for (a, b) in csv.accounts.iter().zip(&csv_text.accounts) {
        assert_eq!(a.id, b.id);
        assert!((a.revenue_total - b.revenue_total).abs() < 1e-6);
    }

    // The load report names the sheets read.
    let sheets: Vec<Option<&str>> = cells
        .report
        .tables
        .iter()
        .map(|t| t.sheet.as_deref())
        .collect();
    assert_eq!(
        sheets,
        [
            Some("Sales"),
            Some("Accounts"),
            Some("Reps"),
            Some("Pipeline"),
            Some("Quotas")
        ]
    );
    assert_eq!(
        text.report.tables[0].sheet.as_deref(),
        Some("Sales text dates")
    );
    assert_eq!(cells.report.tables[0].rows_read, 360);
}

/// `salesplan <command> <scenario> --out <dir> --format csv --quiet`.
fn run(dir: &Path, command: &str, scenario: &Path, out: &str) -> String {
    common::stdout_of(
        Command::cargo_bin("salesplan")
            .unwrap()
            .current_dir(dir)
            .arg(command)
            .arg(scenario)
            .args(["--out", out, "--format", "csv", "--quiet", "--threads", "2"]),
    )
}

#[test]
fn workbook_forecast_is_byte_identical_to_the_csv_one() {
    let d = Data::new();
    let csv = d.csv_scenario("csv.toml", "sales = \"sales.csv\"");
    let xlsx = d.xlsx_scenario(
        "text.toml",
        "sales_sheet = \"Sales text dates\"\ndate_format = \"%d/%m/%Y\"",
    );
    run(d.dir.path(), "forecast", &csv, "out-csv");
    run(d.dir.path(), "forecast", &xlsx, "out-xlsx");
    for file in ["forecast.csv", "fit.csv"] {
        let a = std::fs::read(d.path("out-csv").join(file)).unwrap();
        let b = std::fs::read(d.path("out-xlsx").join(file)).unwrap();
        assert!(a.len() > 100, "{file} is nearly empty");
        assert!(a == b, "{file} differs between the CSV and the workbook");
    }

    // validate names the sheets and prints the same summary otherwise.
    let a = run(d.dir.path(), "validate", &csv, "unused");
    let b = run(d.dir.path(), "validate", &xlsx, "unused");
    assert!(b.contains("sales: "), "{b}");
    assert!(
        b.contains("sales.xlsx (sheet 'Sales text dates') — 360 rows read"),
        "{b}"
    );
    assert!(
        b.contains("tables.xlsx (sheet 'Reps') — 3 rows read"),
        "{b}"
    );
    let summary = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("scenario:") && !l.contains(" rows read"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(summary(&a), summary(&b));
}

/// A case for the error tests: the data folder, a workbook `bad.xlsx`
/// written by `fill`, and a scenario reading its sales from it.
struct Bad {
    data: Data,
}

impl Bad {
    fn new(fill: impl FnOnce(&mut Workbook), data_lines: &str) -> Self {
        let data = Data::new();
        let mut book = Workbook::new();
        fill(&mut book);
        book.save(data.path("bad.xlsx")).unwrap();
        data.scenario("s.toml", data_lines);
        Bad { data }
    }

    /// Run `validate`: exit code 2, every fragment in the message, no panic.
    fn fails(&self, fragments: &[&str]) {
        self.data.validate_fails(fragments);
    }
}

#[test]
fn a_missing_sheet_names_the_sheets_the_workbook_has() {
    let c = Bad::new(|_| {}, "sales = \"sales.xlsx\"\nsales_sheet = \"FY2025\"");
    c.fails(&[
        "sales.xlsx",
        "has no sheet 'FY2025'",
        "data.sales_sheet",
        "'Sales', 'Sales text dates'",
    ]);
}

#[test]
fn an_error_cell_names_file_sheet_row_and_column() {
    let c = Bad::new(
        |book| {
            let sheet = book.add_worksheet().set_name("Deals").unwrap();
            sales().write(sheet, 1);
            // Excel row 5 (0-based 4): the amount is #N/A.
            sheet
                .write_formula(4, 2, Formula::new("=NA()").set_result("#N/A"))
                .unwrap();
        },
        "sales = \"bad.xlsx\"",
    );
    c.fails(&[
        "bad.xlsx: sheet 'Deals' row 5: column 'amount'",
        "#N/A",
        "cell C5",
    ]);
}

#[test]
fn a_bad_date_text_names_file_sheet_and_excel_row() {
    let c = Bad::new(
        |book| {
            let sheet = book.add_worksheet().set_name("Deals").unwrap();
            let mut s = sales_text_dates();
            // Data row 7 under a header on row 2: Excel row 9.
            s.rows[6][0] = t("31/02/2024");
            s.write(sheet, 2);
        },
        "sales = \"bad.xlsx\"\ndate_format = \"%d/%m/%Y\"",
    );
    c.fails(&[
        "bad.xlsx: sheet 'Deals' row 9: column 'date'",
        "found '31/02/2024'",
        "%d/%m/%Y",
    ]);
}

#[test]
fn a_bad_value_in_a_small_table_names_its_sheet_and_row() {
    let c = Bad::new(
        |book| {
            book.add_worksheet().set_name("Cover").unwrap();
            let mut r = reps();
            r.rows[1][4] = t("full");
            r.write(book.add_worksheet().set_name("Team").unwrap(), 1);
        },
        "sales = \"sales.xlsx\"\nreps = \"bad.xlsx\"\nreps_sheet = \"Team\"",
    );
    c.fails(&["bad.xlsx: sheet 'Team' row 3: column 'fte'", "found 'full'"]);
}

#[test]
fn a_missing_column_names_the_header_row() {
    let c = Bad::new(
        |book| {
            let sheet = book.add_worksheet().set_name("Deals").unwrap();
            let mut s = sales();
            s.header[2] = "Sales";
            s.write(sheet, 4);
        },
        "sales = \"bad.xlsx\"",
    );
    c.fails(&[
        "bad.xlsx: sheet 'Deals' row 4: column 'amount'",
        "column not found",
        "'Sales'",
    ]);
}

#[test]
fn an_empty_sheet_is_named() {
    let c = Bad::new(
        |book| {
            book.add_worksheet().set_name("Blank").unwrap();
        },
        "sales = \"bad.xlsx\"",
    );
    c.fails(&["bad.xlsx: sheet 'Blank'", "the sheet is empty"]);
}

#[test]
fn a_header_without_rows_names_the_header_row() {
    let c = Bad::new(
        |book| {
            let sheet = book.add_worksheet().set_name("Deals").unwrap();
            Table {
                header: sales().header,
                rows: Vec::new(),
            }
            .write(sheet, 3);
        },
        "sales = \"bad.xlsx\"",
    );
    c.fails(&[
        "bad.xlsx: sheet 'Deals'",
        "the sheet has a header (row 3) but no data rows",
    ]);
}

#[test]
fn a_column_named_twice_is_refused() {
    let c = Bad::new(
        |book| {
            let sheet = book.add_worksheet().set_name("Deals").unwrap();
            sales().write(sheet, 1);
            sheet.write_string(0, 5, "amount").unwrap();
        },
        "sales = \"bad.xlsx\"",
    );
    c.fails(&[
        "bad.xlsx: sheet 'Deals' row 1: column 'amount'",
        "names this column twice, in columns C and F",
    ]);
}

#[test]
fn a_sheet_key_on_a_csv_is_a_scenario_error() {
    let d = Data::new();
    d.scenario("s.toml", "sales = \"sales.csv\"\nsales_sheet = \"Sales\"");
    d.validate_fails(&["s.toml: data.sales_sheet", "not a workbook"]);
    // A sheet for a table the scenario does not read.
    d.scenario("s.toml", "sales = \"sales.xlsx\"\nreps_sheet = \"Reps\"");
    d.validate_fails(&["s.toml: data.reps_sheet", "there is no data.reps table"]);
}

#[test]
fn a_workbook_under_a_csv_name_is_named_for_what_it_is() {
    let d = Data::new();
    std::fs::copy(d.path("sales.xlsx"), d.path("export.csv")).unwrap();
    d.scenario("s.toml", "sales = \"export.csv\"");
    d.validate_fails(&[
        "export.csv: is an Excel .xlsx workbook",
        "rename it to end in .xlsx",
        "save the sheet as CSV",
    ]);
}

#[test]
fn a_text_file_under_a_workbook_name_is_named_for_what_it_is() {
    let d = Data::new();
    std::fs::copy(d.path("sales.csv"), d.path("sales-export.xlsx")).unwrap();
    d.scenario("s.toml", "sales = \"sales-export.xlsx\"");
    d.validate_fails(&[
        "sales-export.xlsx: cannot be read as a workbook",
        ".csv extension",
    ]);
}

#[test]
fn damaged_workbooks_never_panic_the_loader() {
    let d = Data::new();
    let good = std::fs::read(d.path("sales.xlsx")).unwrap();
    let scenario = Scenario::load(&d.xlsx_scenario("cells.toml", "")).unwrap();
    // A fixed pseudo-random walk over the bytes (no seed to chase).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for case in 0..60 {
        let mut bytes = good.clone();
        if case % 3 == 0 {
            bytes.truncate((next() as usize) % good.len());
        } else {
            for _ in 0..1 + case % 8 {
                let i = (next() as usize) % bytes.len();
                bytes[i] = next() as u8;
            }
        }
        std::fs::write(d.path("sales.xlsx"), &bytes).unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            salesplan::load::load(&scenario).map(|_| ())
        }));
        match result {
            Err(_) => panic!("case {case}: the loader panicked"),
            Ok(Err(e)) => assert!(!e.to_string().trim().is_empty(), "case {case}"),
            Ok(Ok(())) => {}
        }
    }
}
