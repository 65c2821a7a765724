//! `report.html`: one self-contained page (inline CSS, inline SVG plots, a
//! few lines of inline script to sort tables; nothing fetched from a
//! network), with a section for every stage that ran and a footer that
//! identifies the run (scenario, seed, version, input hashes).

use std::fmt::Write as _;

use crate::format::{compact, fixed, money, percent, thousands};
use crate::plot::Figure;
use crate::report::Report;
use crate::sim::quantile_index;

/// Escape text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One table cell: the text shown and, for numbers, the value sorted on.
pub struct Cell {
    text: String,
    sort: Option<f64>,
}

impl Cell {
    /// A text cell.
    pub fn text(s: impl Into<String>) -> Self {
        Self {
            text: s.into(),
            sort: None,
        }
    }

    /// A number cell shown as `shown`.
    pub fn num(x: f64, shown: String) -> Self {
        Self {
            text: shown,
            sort: x.is_finite().then_some(x),
        }
    }
}

/// A sortable table.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
    /// Headers wrap onto several lines (long ones, such as scenario
    /// names, over columns of numbers).
    wrap_headers: bool,
}

impl Table {
    /// A table with `headers`.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            wrap_headers: false,
        }
    }

    /// The same table with headers that wrap.
    pub fn with_wrapping_headers(mut self) -> Self {
        self.wrap_headers = true;
        self
    }

    /// Append a row.
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The table's HTML.
    pub fn html(&self) -> String {
        let class = if self.wrap_headers {
            "sortable wrap"
        } else {
            "sortable"
        };
        let mut s = format!("<div class=\"scroll\"><table class=\"{class}\"><thead><tr>");
        for (c, h) in self.headers.iter().enumerate() {
            let numeric = self
                .rows
                .iter()
                .any(|r| r.get(c).is_some_and(|cell| cell.sort.is_some()));
            let class = if numeric { " class=\"n\"" } else { "" };
            let _ = write!(s, "<th{class} title=\"click to sort\">{}</th>", escape(h));
        }
        s.push_str("</tr></thead><tbody>");
        for r in &self.rows {
            s.push_str("<tr>");
            for c in r {
                match c.sort {
                    Some(v) => {
                        let _ =
                            write!(s, "<td class=\"n\" data-v=\"{v}\">{}</td>", escape(&c.text));
                    }
                    None if c.text.chars().count() > 60 => {
                        let _ = write!(s, "<td class=\"w\">{}</td>", escape(&c.text));
                    }
                    // Medium texts (model names) may wrap, so wide tables fit.
                    None if c.text.chars().count() > 24 => {
                        let _ = write!(s, "<td class=\"m\">{}</td>", escape(&c.text));
                    }
                    None => {
                        let _ = write!(s, "<td>{}</td>", escape(&c.text));
                    }
                }
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table></div>");
        s
    }
}

/// A figure with its rendered SVG, as written to `plots/`.
pub struct Rendered<'a> {
    pub figure: &'a Figure,
    pub svg: &'a str,
}

impl<'a> Rendered<'a> {
    /// Pair `figures` with their SVG texts.
    pub fn pair(figures: &'a [Figure], svgs: &'a [String]) -> Vec<Self> {
        figures
            .iter()
            .zip(svgs)
            .map(|(figure, svg)| Self { figure, svg })
            .collect()
    }
}

pub(crate) const STYLE: &str = r#"
:root{--ink:#1d2330;--muted:#5b6475;--line:#d9dee7;--accent:#1f77b4;--bg:#f6f7f9}
*{box-sizing:border-box}
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:var(--ink);margin:0;background:var(--bg);line-height:1.45}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 24px}
header{padding-top:28px}
h1{font-size:28px;margin:0 0 4px}
h2{font-size:21px;margin:0 0 12px;padding-top:8px;border-top:3px solid var(--accent)}
h3{font-size:16px;margin:18px 0 8px}
.sub{color:var(--muted);margin:0 0 14px}
nav a{margin-right:14px;color:var(--accent);text-decoration:none;font-weight:600}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 22px;margin:18px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.card{flex:1 1 200px;border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fbfcfe}
.card .k{color:var(--muted);font-size:13px}
.card .v{font-size:22px;font-weight:700}
.card .d{color:var(--muted);font-size:12px}
.scroll{max-height:560px;overflow:auto;border:1px solid var(--line);border-radius:6px;margin:8px 0;width:fit-content;max-width:100%}
#whatif .scroll{width:auto}
table{border-collapse:collapse;width:auto;font-size:13px}
th{position:sticky;top:0;background:#eef1f6;text-align:left;padding:6px 8px;cursor:pointer;white-space:nowrap;border-bottom:1px solid var(--line)}
th.n{text-align:right}
table.wrap th{white-space:normal;max-width:10em;vertical-align:bottom}
th[data-dir=asc]::after{content:" ▲"}th[data-dir=desc]::after{content:" ▼"}
td{padding:4px 8px;border-bottom:1px solid #eef0f4;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td.w{white-space:normal;min-width:420px}
td.m{white-space:normal;min-width:150px}
tbody tr:hover{background:#f3f7fc}
figure{margin:14px 0}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:13px;margin-top:4px}
ul.warn li{margin:2px 0}
.note{color:var(--muted);font-size:13px}
.whatif{border-top:1px solid var(--line);margin-top:18px}
.whatif-form{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:end;margin:8px 0}
.whatif-form label{display:flex;flex-direction:column;font-size:13px;color:var(--muted)}
.whatif-form input,.whatif-form select{font:inherit;color:var(--ink);padding:4px 6px;border:1px solid var(--line);border-radius:4px;width:150px}
.whatif-form button{font:inherit;padding:5px 10px;border:1px solid var(--accent);border-radius:4px;background:#fff;color:var(--accent);cursor:pointer}
.whatif-form a{color:var(--accent)}
.error{color:#b00020;font-weight:600}
footer{color:var(--muted);font-size:12px;padding-bottom:30px}
footer code{font-size:11px}
@media print{body{background:#fff}section{break-inside:avoid-page;border:none}.scroll{max-height:none;overflow:visible}nav{display:none}}
"#;

pub(crate) const SCRIPT: &str = r#"
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){
var t=th.closest('table'),b=t.tBodies[0],i=th.cellIndex,asc=th.dataset.dir!=='asc';
t.querySelectorAll('th').forEach(function(h){delete h.dataset.dir});th.dataset.dir=asc?'asc':'desc';
var rows=Array.prototype.slice.call(b.rows);
rows.sort(function(a,c){var x=a.cells[i],y=c.cells[i];var vx=x.dataset.v,vy=y.dataset.v;
var r=(vx!==undefined&&vy!==undefined)?(parseFloat(vx)-parseFloat(vy)):x.textContent.localeCompare(y.textContent);
return asc?r:-r});rows.forEach(function(r){b.appendChild(r)});});});
"#;

pub(crate) fn card(s: &mut String, key: &str, value: &str, detail: &str) {
    let _ = write!(
        s,
        "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"d\">{}</div></div>",
        escape(key),
        escape(value),
        escape(detail)
    );
}

pub(crate) fn figure_html(s: &mut String, plots: &[Rendered], name: &str) {
    if let Some(r) = plots.iter().find(|r| r.figure.name == name) {
        let _ = write!(
            s,
            "<figure id=\"plot-{}\">{}<figcaption>{} <span class=\"note\">(plots/{}.svg, .png)</span></figcaption></figure>",
            escape(name),
            r.svg,
            escape(&r.figure.caption),
            escape(name)
        );
    }
}

/// The whole page.
pub fn page(report: &Report, plots: &[Rendered]) -> String {
    let m = &report.meta;
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · salesplan</title><style>{STYLE}</style></head><body>",
        escape(&m.scenario)
    );
    let _ = write!(
        s,
        "<header><h1>{}</h1><p class=\"sub\">salesplan {} · seed {} · {} trials · by {} · amounts in {}</p><nav>",
        escape(&m.scenario),
        escape(&m.version),
        m.seed,
        thousands(m.trials as f64),
        escape(&m.period),
        escape(&m.currency)
    );
    let sections: [(&str, &str, bool); 11] = [
        ("summary", "Summary", true),
        ("data", "Data", report.data.is_some()),
        ("fit", "Fit", report.fit.is_some()),
        ("forecast", "Forecast", report.forecast.is_some()),
        ("territories", "Territories", report.territories.is_some()),
        ("quota", "Quotas", report.quota.is_some()),
        (
            "whatif",
            "What if",
            report.quota.as_ref().is_some_and(super::whatif::shown),
        ),
        ("comp", "Commission", report.comp.is_some()),
        ("capacity", "Capacity", report.capacity.is_some()),
        ("scorecard", "Scorecard", report.scorecard.is_some()),
        ("backtest", "Backtest", report.backtest.is_some()),
    ];
    for (id, title, present) in sections {
        if present {
            let _ = write!(s, "<a href=\"#{id}\">{title}</a>");
        }
    }
    s.push_str("</nav></header><main>");
    summary_section(&mut s, report);
    data_section(&mut s, report);
    fit_section(&mut s, report, plots);
    forecast_section(&mut s, report, plots);
    territories_section(&mut s, report, plots);
    quota_section(&mut s, report, plots);
    comp_section(&mut s, report, plots);
    capacity_section(&mut s, report, plots);
    scorecard_section(&mut s, report, plots);
    backtest_section(&mut s, report, plots);
    s.push_str("</main>");
    footer(&mut s, report);
    let _ = writeln!(s, "<script>{SCRIPT}</script></body></html>");
    s
}

fn summary_section(s: &mut String, report: &Report) {
    let cur = &report.meta.currency;
    s.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    if let Some(f) = &report.forecast {
        let q = |p: f64| quantile_index(&f.quantiles, p).map(|i| f.total.quantiles[i]);
        if let (Some(p10), Some(p50), Some(p90)) = (q(0.1), q(0.5), q(0.9)) {
            card(
                s,
                "Company revenue, plan year (P50)",
                &format!("{cur} {}", compact(p50)),
                &format!("80% interval {} to {}", compact(p10), compact(p90)),
            );
        }
        if let Some(p) = &f.prob_hit_plan {
            card(
                s,
                "Probability of reaching the plan",
                &percent(p.probability),
                &format!(
                    "plan {}, Monte Carlo s.e. {}",
                    money(p.plan, cur),
                    percent(p.standard_error)
                ),
            );
        }
    }
    if let Some(t) = &report.territories {
        card(
            s,
            "Territory balance (CV of potential)",
            &format!("{} → {}", fixed(t.cv_before, 3), fixed(t.cv_after, 3)),
            &format!("{} accounts moved, {} forced", t.moved, t.forced_moves),
        );
    }
    if let Some(q) = &report.quota {
        card(
            s,
            "Quotas set",
            &format!("{cur} {}", compact(q.quota_total)),
            &format!("{} method, plan {}", q.method.name(), compact(q.plan)),
        );
        let clamped = q.rows.iter().filter(|r| r.binding.is_some()).count();
        card(
            s,
            "Chance of attaining quota",
            &percent(q.attain_probability),
            &if clamped > 0 {
                format!(
                    "{} of {} territories; {clamped} set by a constraint",
                    q.rows.len() - clamped,
                    q.rows.len()
                )
            } else {
                format!("all {} territories", q.rows.len())
            },
        );
    }
    if let Some(c) = &report.comp {
        card(
            s,
            "Commission cost (P50)",
            &format!("{cur} {}", compact(c.cost.p50)),
            &format!(
                "80% interval {} to {}; {} of revenue",
                compact(c.cost.p10),
                compact(c.cost.p90),
                percent(c.cost_of_sales.p50)
            ),
        );
    }
    if let Some(b) = &report.backtest {
        card(
            s,
            "Backtest: 80% interval coverage",
            &percent(b.overall.coverage_80),
            &format!(
                "scaled pinball {} vs baseline {}",
                fixed(b.overall.scaled_pinball, 3),
                fixed(b.overall.baseline_scaled_pinball, 3)
            ),
        );
    }
    if let Some(d) = &report.data {
        card(
            s,
            "History",
            &format!("{} periods", d.periods),
            &format!(
                "{} to {}, {} territories",
                d.first_period.as_deref().unwrap_or("?"),
                d.last_period.as_deref().unwrap_or("?"),
                d.territories
            ),
        );
    }
    s.push_str("</div>");
    if !report.warnings.is_empty() {
        let _ = write!(
            s,
            "<p class=\"note\">{} warning(s): see <a href=\"#warnings\">Data</a>.</p>",
            report.warnings.len()
        );
    }
    s.push_str("</section>");
}

/// How far the simulation carries each surprise, for the fit section's
/// text (nothing when as fitted).
fn persistence_text(r: f64) -> String {
    if r >= 1.0 {
        return String::new();
    }
    if r < 0.005 {
        return "; the past forecasts' errors did not grow over the horizon even without the \
                fitted alphas' persistence, so the simulation carries no surprise forward: each \
                form's level and trend stay as estimated, with their uncertainty (alpha and beta \
                times 0)"
            .to_string();
    }
    format!(
        "; the past forecasts' errors grew less over the horizon than the fitted alphas \
         imply, so the simulation carries {} of each surprise forward (alpha and beta \
         times {})",
        percent(r),
        fixed(r, 2)
    )
}

/// How a month's relative spread follows its expected amount, for the fit
/// section's text (nothing without a variance power).
fn variance_power_text(k: Option<f64>) -> String {
    match k {
        Some(k) => format!(
            "; the months' relative spread falls as their expected amount rises, as a count \
             of deals does (variance power: spread proportional to amount^{}, measured within \
             territories), so a territory's months above its history's typical amount are \
             simulated less lumpy and those below it more (laws with credits, spikes or a \
             zero rate excepted)",
            fixed(k, 2)
        ),
        None => String::new(),
    }
}

/// What the territories together say of alpha, for the fit section's text.
fn alpha_prior_text(prior: &crate::model::AlphaPriorModes) -> String {
    let worth = |w: Option<f64>| {
        w.map(|w| format!(", worth {} periods of a territory's own", fixed(w, 0)))
            .unwrap_or_default()
    };
    let favoured: Vec<String> = [
        prior.level.map(|a| {
            format!(
                "{} for a local level{}",
                fixed(a, 2),
                worth(prior.level_weight)
            )
        }),
        prior.share.map(|b| {
            format!(
                "{} for a level moving beyond a growth it carries (the group share's and the \
                 trends'){}",
                fixed(b, 2),
                worth(prior.share_weight)
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    if favoured.is_empty() {
        return String::new();
    }
    format!(
        "; for a territory of their median noise, the territories together favour alpha {} \
         (they share how far levels move: a noisier territory's alpha is smaller), and each \
         territory's own estimate is shrunk toward the one for its form and noise by that much \
         evidence (at least a year's periods, more the less the territories' own evidence \
         differs), less where its own evidence disagrees with the others' (a short history \
         alone cannot tell a level that moves from noise)",
        favoured.join("; ")
    )
}

/// How the seasonal profiles weigh the years, for the fit section's text.
fn season_weighting(discount: f64) -> String {
    if discount >= 1.0 {
        String::new()
    } else {
        format!(
            " (each year's seasonal pattern weighing {} of the next year's: the history's \
             seasonal patterns moved, and this weight predicted each year's from the years \
             before best)",
            percent(discount)
        )
    }
}

fn data_section(s: &mut String, report: &Report) {
    let Some(d) = &report.data else { return };
    let cur = &report.meta.currency;
    s.push_str("<section id=\"data\"><h2>Data</h2>");
    let _ = write!(
        s,
        "<p>{} complete {}s from {} to {}; {} territories in {} region(s); {} accounts, {} reps, {} open opportunities.</p>",
        d.periods,
        escape(&report.meta.period),
        escape(d.first_period.as_deref().unwrap_or("?")),
        escape(d.last_period.as_deref().unwrap_or("?")),
        d.territories,
        d.regions.len(),
        thousands(d.accounts as f64),
        thousands(d.reps as f64),
        thousands(d.pipeline as f64)
    );
    let mut t = Table::new(&[
        "table",
        "file",
        "rows read",
        "filtered out",
        "used",
        "rejected",
    ]);
    for tr in &d.load.tables {
        let rejected: usize = tr.rejected.values().sum();
        let reasons: Vec<String> = tr
            .rejected
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        t.row(vec![
            Cell::text(&tr.table),
            Cell::text(tr.source()),
            Cell::num(tr.rows_read as f64, thousands(tr.rows_read as f64)),
            Cell::num(
                tr.rows_filtered_out as f64,
                thousands(tr.rows_filtered_out as f64),
            ),
            Cell::num(tr.rows_used as f64, thousands(tr.rows_used as f64)),
            Cell::num(
                rejected as f64,
                if reasons.is_empty() {
                    "0".into()
                } else {
                    reasons.join("; ")
                },
            ),
        ]);
    }
    s.push_str(&t.html());
    let mut years = Table::new(&["year", "revenue (complete periods)", "periods"]);
    let period = &report.meta.period;
    for (y, v) in &d.revenue_by_year {
        // A year the history only partly covers is not a whole year's
        // revenue: say how much of it there is, so it is not read as a fall.
        let n = d.periods_by_year.get(y).copied().unwrap_or(0);
        let shown = if n < d.per_year {
            format!("{n} of {} {period}s (part of the year)", d.per_year)
        } else {
            format!("{n} {period}s")
        };
        years.row(vec![
            Cell::num(f64::from(*y), y.to_string()),
            Cell::num(*v, money(*v, cur)),
            Cell::num(n as f64, shown),
        ]);
    }
    s.push_str("<h3>Revenue by year</h3>");
    s.push_str(&years.html());
    s.push_str("<h3 id=\"warnings\">Warnings</h3>");
    if report.warnings.is_empty() {
        s.push_str("<p class=\"note\">None.</p>");
    } else {
        let open = if report.warnings.len() <= 12 {
            " open"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<details{open}><summary>{} warning(s)</summary><ul class=\"warn\">",
            report.warnings.len()
        );
        for w in &report.warnings {
            let _ = write!(s, "<li>{}</li>", escape(w));
        }
        s.push_str("</ul></details>");
    }
    s.push_str("</section>");
}

fn fit_section(s: &mut String, report: &Report, plots: &[Rendered]) {
    let Some(fit) = &report.fit else { return };
    s.push_str("<section id=\"fit\"><h2>Fit</h2>");
    let mut by_model: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in &fit.rows {
        *by_model.entry(r.model.as_str()).or_default() += 1;
    }
    let models: Vec<String> = by_model.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let trend = fit.rows.iter().filter(|r| r.trend).count();
    let seasonal = fit.rows.iter().filter(|r| r.seasonal).count();
    // Written of months, read in the scenario's period (quarters' and
    // weeks' laws, levels and widening are the same).
    let mut text = String::new();
    let _ = write!(
        text,
        "<p>Models chosen: {}. Each is an exponential-smoothing level model \
         (<i>ETS(error, trend, season)</i>: trend N none, G its region's growth, Ad damped, \
         A linear, M compounding, the last two also with their slope held at its fitted value, \
         given three years of history: beta 0 in fit.csv's params, <code>drift</code> and <code>rate</code> among its forms) \
         with the law of each month's revenue around it; the level \
         model was chosen by how it would have forecast the territory's own history \
         (<i>chosen by</i>: rolling-origin CRPS, pooled over the region; <i>average of k</i> \
         where k forms each had at least a 5% chance of forecasting best, weighted by that \
         chance, each trial drawing one of them, at the same rank by expected total in every \
         territory, so that the company's total carries their shared doubt; the model shown \
         is the likeliest), or, with \
         too little history for that, by how the forms forecast the region's other territories \
         (<i>region's rolling-origin CRPS</i>: a territory that opened recently) or, with none \
         to learn from, by AICc (forms averaged by their Akaike weights). \
         <i>has</i>: a trend, a seasonal profile, a residual law pooled from other \
         territories (too few periods of its own). \
         <i>alpha</i> is how fast the simulated level follows new months (0: the long-run \
         mean){}{}{}. \
         {} of {} territories have a trend, {} a seasonal profile{}. \
         Common shocks: company factor {} and region factor {} of each territory's noise \
         variance (AR {}); average pairwise correlation {}. \
         <i>Calibration</i> is how far the territory's past forecasts missed against what \
         the model said (its rolling-origin errors, shrunk toward the company's; above 1 \
         they missed more, below 1 less; where the history leaves a horizon's evidence a \
         horizon or more away from a block of origins, that block's errors are from the \
         forms weighted as the region's evidence from those other origins would have \
         chosen them, so that the weights' luck on the block's own origins is not \
         counted), <i>year cal.</i> the same for whole past \
         horizons' totals (blank: no whole horizon to measure), with <i>(lo / hi)</i> \
         the same below and above the year's median, from the past totals that \
         fell short of their forecast and those that beat it (a history whose totals kept \
         beating their forecasts widens the year above its median, not below); where a \
         side exceeds the months' widening, the horizon total is widened to it on that \
         side by one level shift per simulated year, whose variance comes out of the \
         months' own noise, so that each month stays as wide as its calibration. \
         <i>Spread x</i> is how much each month's law was widened in all: \
         the calibration times a correction for the parameters fitted to the history \
         (below 1 only where every origin's errors were measured with weights chosen \
         apart from it: then a calibration under 1 narrows a month below the model's \
         own in-sample spread as far as the company's errors show beyond their noise; \
         elsewhere it does not, since errors of the forms chosen on those same origins \
         look smaller than they are). Where a level shift carries part of it, the law \
         itself keeps the share <code>noise_kept</code> in fit.csv's params. It is 1 for a compound deals x size law, whose counts and \
         sizes carry their own parameter uncertainty. A territory's own seasonal \
         deviations are uncertain too: each trial draws their error once, so that it \
         widens the months and cancels over a whole year.</p>",
        escape(&models.join(", ")),
        alpha_prior_text(&fit.alpha_prior),
        persistence_text(fit.persistence),
        variance_power_text(fit.variance_power),
        trend,
        fit.rows.len(),
        seasonal,
        season_weighting(fit.season_discount),
        percent(fit.shocks.company_share),
        percent(fit.shocks.region_share),
        fixed(fit.shocks.factor_ar, 2),
        fixed(fit.shocks.mean_correlation, 2)
    );
    s.push_str(&text.replace("month", &report.meta.period));
    let mut t = Table::new(&[
        "territory",
        "region",
        "model",
        "periods",
        "level",
        "has",
        "alpha",
        "chosen by",
        "calibration",
        "year cal. (lo / hi)",
        "spread x",
        "KS",
        "runner-up",
    ]);
    for r in &fit.rows {
        t.row(vec![
            Cell::text(&r.territory),
            Cell::text(&r.region),
            Cell::text(&r.model),
            Cell::num(r.n_periods as f64, r.n_periods.to_string()),
            Cell::num(r.level, thousands(r.level)),
            Cell::text(
                [
                    (r.trend, "trend"),
                    (r.seasonal, "season"),
                    (r.pooled, "pooled"),
                ]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, name)| *name)
                .collect::<Vec<_>>()
                .join(", "),
            ),
            Cell::num(r.alpha, fixed(r.alpha, 3)),
            Cell::text(&r.chosen_by),
            optional_number(r.calibration, 2),
            year_calibration(r.calibration_total, r.calibration_total_sides),
            Cell::num(r.spread_factor, fixed(r.spread_factor, 2)),
            optional_number(r.gof_stat, 3),
            Cell::text(r.runner_up.clone().unwrap_or_default()),
        ]);
    }
    s.push_str(&t.html());
    for k in 0..fit.fitted.len() {
        figure_html(s, plots, &format!("fit_{}", k + 1));
    }
    s.push_str("</section>");
}

/// The horizon total's calibration with its sides, "1.79 (0.82 / 1.79)",
/// sorted by the two-sided factor; blank where there is none.
fn year_calibration(both: Option<f64>, sides: Option<[f64; 2]>) -> Cell {
    let Some(k) = both else {
        return optional_number(None, 2);
    };
    let shown = match sides {
        Some([below, above]) => format!(
            "{} ({} / {})",
            fixed(k, 2),
            fixed(below, 2),
            fixed(above, 2)
        ),
        None => fixed(k, 2),
    };
    Cell::num(k, shown)
}

/// A number's cell with `decimals`, blank where there is none.
fn optional_number(v: Option<f64>, decimals: usize) -> Cell {
    Cell::num(
        v.unwrap_or(f64::NAN),
        v.map(|v| fixed(v, decimals)).unwrap_or_default(),
    )
}

fn forecast_section(s: &mut String, report: &Report, plots: &[Rendered]) {
    let Some(f) = &report.forecast else { return };
    let cur = &report.meta.currency;
    s.push_str("<section id=\"forecast\"><h2>Forecast</h2>");
    if f.all_actuals() {
        s.push_str(
            "<p class=\"note\">Every period of the plan year is already in the history: the \
             figures below are its actuals, and nothing was simulated.</p>",
        );
    } else if f.actual_periods > 0 {
        let _ = write!(
            s,
            "<p class=\"note\">In-year reforecast: the first {} period(s) of the plan year are actuals; only the rest is simulated.</p>",
            f.actual_periods
        );
    }
    if report.territories.is_some() {
        s.push_str(
            "<p class=\"note\">Territory and region rows are for the current territories, before \
             rebalancing; the company total is the same either way. Quotas below are set on the \
             rebalanced territories, from the same trials.</p>",
        );
    }
    figure_html(s, plots, "forecast_fan");
    figure_html(s, plots, "total_distribution");
    let idx = |p: f64| quantile_index(&f.quantiles, p).unwrap_or(0);
    let (i10, i50, i90) = (idx(0.1), idx(0.5), idx(0.9));
    for (level, title) in [
        ("total", "Company"),
        ("region", "By region"),
        ("territory", "By territory"),
    ] {
        let mut t = Table::new(&[
            "name",
            &format!("mean ({cur})"),
            "P10",
            "P50",
            "P90",
            "P90/P10",
        ]);
        for r in f
            .rows
            .iter()
            .filter(|r| r.level == level && r.period == "year")
        {
            let q = &r.summary.quantiles;
            let ratio = if q[i10] > 0.0 {
                q[i90] / q[i10]
            } else {
                f64::NAN
            };
            t.row(vec![
                Cell::text(&r.name),
                Cell::num(r.summary.mean, thousands(r.summary.mean)),
                Cell::num(q[i10], thousands(q[i10])),
                Cell::num(q[i50], thousands(q[i50])),
                Cell::num(q[i90], thousands(q[i90])),
                Cell::num(ratio, fixed(ratio, 2)),
            ]);
        }
        let _ = write!(s, "<h3>{title}: plan-year revenue</h3>");
        s.push_str(&t.html());
    }
    s.push_str(
        "<p class=\"note\">Monthly figures for every territory and region are in forecast.csv and plan.xlsx.</p></section>",
    );
}

fn quota_section(s: &mut String, report: &Report, plots: &[Rendered]) {
    let Some(q) = &report.quota else { return };
    let cur = &report.meta.currency;
    s.push_str("<section id=\"quota\"><h2>Quotas</h2>");
    let _ = write!(
        s,
        "<p>Method <b>{}</b>: quotas add up to {} (plan {} plus over-assignment). \
         Chance of attaining: {}; spread {} between the most and \
         least favoured; expected share of territories attaining {} (90% band {} to {}); \
         correlation of territory size with its chance {}.</p>",
        q.method.name(),
        money(q.quota_total, cur),
        money(q.plan, cur),
        {
            let bound = q.rows.iter().filter(|r| r.binding.is_some()).count();
            if bound > 0 && q.method == crate::scenario::QuotaMethod::EqualProbability {
                format!(
                    "{} for each of the {} territories no constraint holds ({} set by a constraint, \
                     see the binding column)",
                    percent(q.attain_probability),
                    q.rows.len() - bound,
                    bound
                )
            } else {
                format!("{} on average", percent(q.attain_probability))
            }
        },
        percent(q.attain_probability_spread),
        percent(q.expected_share_attaining),
        percent(q.share_attaining_p05),
        percent(q.share_attaining_p95),
        fixed(q.size_attainment_correlation, 2)
    );
    figure_html(s, plots, "quota_vs_forecast");
    figure_html(s, plots, "attainment_distribution");
    let mut methods = Table::new(&[
        "method",
        "mean chance of attaining",
        "spread across territories",
        "expected share attaining",
        "90% band",
        "size vs chance correlation",
    ]);
    for m in &q.comparison {
        methods.row(vec![
            Cell::text(if m.method == q.method {
                format!("{} (chosen)", m.method.name())
            } else {
                m.method.name().to_string()
            }),
            Cell::num(
                m.mean_attain_probability,
                percent(m.mean_attain_probability),
            ),
            Cell::num(
                m.attain_probability_spread,
                percent(m.attain_probability_spread),
            ),
            Cell::num(
                m.expected_share_attaining,
                percent(m.expected_share_attaining),
            ),
            Cell::text(format!(
                "{} to {}",
                percent(m.share_attaining_p05),
                percent(m.share_attaining_p95)
            )),
            Cell::num(
                m.size_attainment_correlation,
                fixed(m.size_attainment_correlation, 2),
            ),
        ]);
    }
    s.push_str("<h3>Methods compared on the same trials</h3>");
    s.push_str(&methods.html());
    s.push_str(
        "<p class=\"note\">A fair plan gives every territory the same chance (small spread) and no \
         advantage to large or small territories (correlation near zero).</p>",
    );
    let mut headers: Vec<String> = [
        "territory",
        "last year",
        "forecast P50",
        "quota",
        "change",
        "chance of attaining",
        "binding",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    headers.extend(
        q.alternatives
            .iter()
            .map(|(m, _)| format!("{} quota", m.name())),
    );
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&refs);
    for (i, r) in q.rows.iter().enumerate() {
        let change = if r.last_year_actual > 0.0 {
            r.quota / r.last_year_actual - 1.0
        } else {
            f64::NAN
        };
        let mut cells = vec![
            Cell::text(&r.territory),
            Cell::num(r.last_year_actual, thousands(r.last_year_actual)),
            Cell::num(r.forecast_p50, thousands(r.forecast_p50)),
            Cell::num(r.quota, thousands(r.quota)),
            Cell::num(change, percent(change)),
            Cell::num(r.attain_probability, percent(r.attain_probability)),
            Cell::text(r.binding.clone().unwrap_or_default()),
        ];
        for (_, alt) in &q.alternatives {
            let v = alt.get(i).copied().unwrap_or(f64::NAN);
            cells.push(Cell::num(v, thousands(v)));
        }
        t.row(cells);
    }
    s.push_str(&t.html());
    super::whatif::panel(s, q, cur, report.territories.is_some());
    s.push_str("</section>");
}

fn territories_section(s: &mut String, report: &Report, plots: &[Rendered]) {
    let Some(t) = &report.territories else { return };
    let cur = &report.meta.currency;
    s.push_str("<section id=\"territories\"><h2>Territories</h2>");
    let balance: Vec<String> = t
        .measures
        .iter()
        .map(|m| {
            format!(
                "{}: CV {} → {}, max/min {} → {}",
                m.measure.name(),
                fixed(m.cv_before, 3),
                fixed(m.cv_after, 3),
                m.max_min_before.map_or("–".into(), |v| fixed(v, 2)),
                m.max_min_after.map_or("–".into(), |v| fixed(v, 2))
            )
        })
        .collect();
    let _ = write!(
        s,
        "<p>Method: {}. Budget: {} optional moves; {} accounts moved ({} forced by closed territories or \
         fixed moves), {} of potential. Weighted objective {} → {}. {}.</p>",
        escape(&t.method),
        t.budget_accounts,
        t.moved,
        t.forced_moves,
        money(t.potential_moved, cur),
        fixed(t.objective_before, 4),
        fixed(t.objective_after, 4),
        escape(&balance.join("; "))
    );
    figure_html(s, plots, "territory_balance");
    figure_html(s, plots, "territory_map_before");
    figure_html(s, plots, "territory_map_after");
    figure_html(s, plots, "rebalance_frontier");
    let mut table = Table::new(&[
        "territory",
        "region",
        "status",
        "accounts before",
        "after",
        "potential before",
        "after",
        "workload before",
        "after",
    ]);
    for r in &t.rows {
        table.row(vec![
            Cell::text(&r.territory),
            Cell::text(&r.region),
            Cell::text(&r.status),
            Cell::num(
                r.accounts_before as f64,
                thousands(r.accounts_before as f64),
            ),
            Cell::num(r.accounts_after as f64, thousands(r.accounts_after as f64)),
            Cell::num(r.potential_before, thousands(r.potential_before)),
            Cell::num(r.potential_after, thousands(r.potential_after)),
            Cell::num(r.workload_before, fixed(r.workload_before, 1)),
            Cell::num(r.workload_after, fixed(r.workload_after, 1)),
        ]);
    }
    s.push_str(&table.html());
    if let Some(f) = &t.frontier {
        let mut ft = Table::new(&["budget", "moved", "forced", "CV potential", "CV workload"]);
        for p in f {
            ft.row(vec![
                Cell::num(p.budget_share, percent(p.budget_share)),
                Cell::num(p.moved as f64, p.moved.to_string()),
                Cell::num(p.forced_moves as f64, p.forced_moves.to_string()),
                Cell::num(p.cv_potential, fixed(p.cv_potential, 3)),
                Cell::num(p.cv_workload, fixed(p.cv_workload, 3)),
            ]);
        }
        s.push_str("<h3>Frontier</h3>");
        s.push_str(&ft.html());
    }
    let _ = write!(s, "<h3>Moves ({})</h3>", t.moves.len());
    let mut moves = Table::new(&["account", "from", "to", "potential", "reason"]);
    for m in &t.moves {
        moves.row(vec![
            Cell::text(&m.account),
            Cell::text(&m.from_territory),
            Cell::text(&m.to_territory),
            Cell::num(m.potential, thousands(m.potential)),
            Cell::text(&m.reason),
        ]);
    }
    s.push_str(&moves.html());
    s.push_str(
        "<p class=\"note\">The full new assignment, ready for a CRM import, is in assignments.csv and plan.xlsx.</p></section>",
    );
}

fn capacity_section(s: &mut String, report: &Report, plots: &[Rendered]) {
    let Some(c) = &report.capacity else { return };
    let cur = &report.meta.currency;
    let verdict = match c.hires_needed {
        Some(0) => format!(
            "No hire is needed: the current team already reaches the plan with probability {}.",
            percent(c.rows[0].prob_plan)
        ),
        Some(k) => format!(
            "<b>{k} hire(s)</b> lift P(company revenue &#8805; plan) from {} (no hire, with attrition drawn \
             per trial) to <b>{}</b> \
             (&#177;{} points Monte Carlo error); the last one starts {} in {}.",
            percent(c.rows[0].prob_plan),
            percent(c.rows[k].prob_plan),
            fixed(100.0 * c.rows[k].prob_plan_se, 1),
            escape(c.rows[k].start.as_deref().unwrap_or("")),
            escape(c.rows[k].region.as_deref().unwrap_or(""))
        ),
        None => format!(
            "<b>Not reachable within {} hires</b>: they lift P(plan) from {} to {} only. Raise \
             capacity.max_hires, add hire dates, or revisit the plan.",
            c.searched,
            percent(c.rows[0].prob_plan),
            percent(c.rows.last().map_or(0.0, |r| r.prob_plan))
        ),
    };
    let _ = write!(
        s,
        "<section id=\"capacity\"><h2>Capacity: hires to reach the plan</h2>\
         <p>Target: P(company revenue &#8805; {}) of at least {}. {verdict}</p>\
         <p class=\"note\">Revenue responds to capacity as (capacity / current capacity)^{} per region \
         and period (1: in proportion). Hires ramp {}; attrition {} a year ({}), leavers backfilled \
         after {} months; productivity per ramped FTE-month {} ({}). Up to {} hires searched, at most {} \
         per start date. Hires do not change this run's quotas or commission.</p>",
        money(c.plan, cur),
        percent(c.target_probability),
        fixed(c.elasticity, 2),
        escape(&c.ramp),
        percent(c.attrition),
        escape(&c.attrition_source),
        fixed(c.backfill_months, 1),
        c.productivity
            .iter()
            .map(|(r, p)| format!("{} {}", escape(r), thousands(*p)))
            .collect::<Vec<_>>()
            .join(", "),
        escape(&c.productivity_source),
        c.searched,
        c.hires_per_date,
    );
    figure_html(s, plots, "capacity_curve");
    let mut t = Table::new(&super::CAPACITY_HEADERS);
    let opt =
        |x: Option<f64>| Cell::num(x.unwrap_or(f64::NAN), x.map(thousands).unwrap_or_default());
    for r in &c.rows {
        t.row(vec![
            Cell::num(r.hires as f64, r.hires.to_string()),
            Cell::text(r.start.clone().unwrap_or_default()),
            Cell::text(r.region.clone().unwrap_or_default()),
            Cell::num(r.prob_plan, percent(r.prob_plan)),
            Cell::num(r.mean, thousands(r.mean)),
            Cell::num(r.p10, thousands(r.p10)),
            Cell::num(r.p50, thousands(r.p50)),
            Cell::num(r.p90, thousands(r.p90)),
            opt(r.cost),
            opt(r.marginal_revenue),
            opt(r.marginal_cost),
        ]);
    }
    s.push_str(&t.html());
    s.push_str(
        "<p class=\"note\">Added revenue and cost: the expected revenue the row's added hire brings in \
         the plan year, and its cost there. All rows are in capacity.csv.</p></section>",
    );
}

fn scorecard_section(s: &mut String, report: &Report, plots: &[Rendered]) {
    let Some(c) = &report.scorecard else { return };
    let _ = write!(
        s,
        "<section id=\"scorecard\"><h2>Scorecard: last year's quotas</h2>\
         <p>The quotas table, read as the quotas of {} to {}, against what each of the {} territories \
         sold. <b>{}</b> reached their quota. Had each quota been set at the probability the model \
         fitted on the years before gives it, {} would have been expected to (90% band {} to {}): \
         the realised share is <b>{}</b> that band. Attainment P10 {}, median {}, P90 {}; its \
         correlation with territory size (revenue the year before) is {} and with potential {} \
         (near zero when big territories were given neither easier nor harder quotas).</p>",
        escape(&c.year_start),
        escape(&c.year_end),
        c.rows.len(),
        percent(c.share_attaining),
        percent(c.fair_share),
        percent(c.fair_share_p05),
        percent(c.fair_share_p95),
        if c.inside_band { "inside" } else { "outside" },
        percent(c.attainment_p10),
        percent(c.attainment_p50),
        percent(c.attainment_p90),
        fixed(c.size_correlation, 2),
        fixed(c.potential_correlation, 2)
    );
    figure_html(s, plots, "scorecard_attainment");
    if c.improbable.is_empty() {
        let _ = write!(
            s,
            "<p>No quota was improbable in hindsight (every P(attain) between {} and {}).</p>",
            percent(crate::scorecard::IMPROBABLE),
            percent(1.0 - crate::scorecard::IMPROBABLE)
        );
    } else {
        let list: Vec<String> = c
            .improbable
            .iter()
            .map(|i| {
                format!(
                    "{} ({}, P(attain) {})",
                    escape(&i.territory),
                    i.verdict,
                    percent(i.attain_probability)
                )
            })
            .collect();
        let _ = write!(
            s,
            "<p>Improbable in hindsight (P(attain) below {} or above {}): {}.</p>",
            percent(crate::scorecard::IMPROBABLE),
            percent(1.0 - crate::scorecard::IMPROBABLE),
            list.join("; ")
        );
    }
    let table = |first: &str, rows: &[crate::scorecard::ScorecardRow]| {
        let mut t = Table::new(&[
            first,
            "region",
            "quota",
            "actual",
            "attainment",
            "growth",
            "rank in region",
            "percentile",
            "ramped share",
            "P(attain) in hindsight",
        ]);
        let opt_percent =
            |x: Option<f64>| Cell::num(x.unwrap_or(f64::NAN), x.map(percent).unwrap_or_default());
        for r in rows {
            let name = match &r.rep {
                Some(rep) => format!("{rep} ({})", r.territory),
                None => r.territory.clone(),
            };
            t.row(vec![
                Cell::text(name),
                Cell::text(&r.region),
                Cell::num(r.quota, thousands(r.quota)),
                Cell::num(r.actual, thousands(r.actual)),
                Cell::num(r.attainment, percent(r.attainment)),
                opt_percent(r.growth),
                Cell::num(r.rank as f64, format!("{} of {}", r.rank, r.region_size)),
                opt_percent(r.percentile),
                opt_percent(r.ramped_share),
                Cell::num(r.attain_probability, percent(r.attain_probability)),
            ]);
        }
        t.html()
    };
    s.push_str(&table("territory", &c.rows));
    if !c.rep_rows.is_empty() {
        let attained = c.reps_attained();
        let _ = write!(
            s,
            "<h3>Reps</h3><p>{} of {} reps reached their quota (the quotas table's, or their territory's \
             split by ramped FTE). A rep's P(attain) takes its revenue as a fixed share of its \
             territory's simulated year: its share of the sales the year before, moved by the change in \
             its share of the territory's ramped FTE (its capacity share when it had no sales then); \
             with split quotas that is its territory's.</p>",
            attained,
            c.rep_rows.len()
        );
        s.push_str(&table("rep (territory)", &c.rep_rows));
    }
    s.push_str(
        "<p class=\"note\">Rank 1 is the highest attainment in the region; percentile is the share of \
         the region's other territories it out-attained; ramped share is the part of its reps' FTE-year \
         they were present and ramped. All columns are in scorecard.csv.</p></section>",
    );
}

fn comp_section(s: &mut String, report: &Report, plots: &[Rendered]) {
    let Some(c) = &report.comp else { return };
    let cur = &report.meta.currency;
    s.push_str("<section id=\"comp\"><h2>Commission cost</h2>");
    let _ = write!(
        s,
        "<p>{} rep(s) paid under {} plan(s), on the same {} simulated years as the forecast and \
         quotas (quotas from the {}). Cost for the year: P50 {}, 80% interval {} to {}; {} if \
         every rep and team attains exactly 100%. Reps at or above quota: {} on average (90% of \
         years between {} and {}).</p>",
        c.reps.iter().filter(|r| !r.plan.is_empty()).count(),
        c.plans.len(),
        thousands(c.trials as f64),
        match c.quota_source {
            crate::scenario::QuotaSource::Quota => "quota stage",
            crate::scenario::QuotaSource::Table => "quotas table",
        },
        money(c.cost.p50, cur),
        money(c.cost.p10, cur),
        money(c.cost.p90, cur),
        money(c.expected_cost_at_plan, cur),
        percent(c.share_reps_above_100),
        percent(c.share_reps_above_100_p05),
        percent(c.share_reps_above_100_p95)
    );
    figure_html(s, plots, "comp_cost");
    figure_html(s, plots, "payout_curve");
    let mut plans = Table::new(&[
        "plan",
        "period",
        "reps",
        "target incentive",
        "target incentives total",
        "cost mean",
        "cost at 100%",
        "payout at cap",
    ]);
    for p in &c.plans {
        let cap = p.payout_at_cap.unwrap_or(f64::NAN);
        plans.row(vec![
            Cell::text(&p.name),
            Cell::text(format!(
                "{}{}",
                match p.period {
                    crate::scenario::CompPeriod::Annual => "annual",
                    crate::scenario::CompPeriod::Quarterly => "quarterly",
                },
                if p.catch_up { ", catch-up" } else { "" }
            )),
            Cell::num(p.reps as f64, p.reps.to_string()),
            Cell::num(p.target_incentive, thousands(p.target_incentive)),
            Cell::num(
                p.target_incentive_total,
                thousands(p.target_incentive_total),
            ),
            Cell::num(p.cost_mean, thousands(p.cost_mean)),
            Cell::num(p.cost_at_plan, thousands(p.cost_at_plan)),
            Cell::num(
                cap,
                if cap.is_finite() {
                    thousands(cap)
                } else {
                    "no cap".into()
                },
            ),
        ]);
    }
    s.push_str(&plans.html());
    figure_html(s, plots, "rep_payouts");
    let mut reps = Table::new(&[
        "rep",
        "territory",
        "plan",
        "target incentive",
        "quota",
        "payout mean",
        "P10",
        "P50",
        "P90",
        "chance of 100%",
    ]);
    for r in &c.reps {
        reps.row(vec![
            Cell::text(&r.rep),
            Cell::text(&r.territory),
            Cell::text(if r.plan.is_empty() {
                "(no plan)"
            } else {
                &r.plan
            }),
            Cell::num(r.target_incentive, thousands(r.target_incentive)),
            Cell::num(r.quota, thousands(r.quota)),
            Cell::num(r.payout.mean, thousands(r.payout.mean)),
            Cell::num(r.payout.p10, thousands(r.payout.p10)),
            Cell::num(r.payout.p50, thousands(r.payout.p50)),
            Cell::num(r.payout.p90, thousands(r.payout.p90)),
            Cell::num(r.prob_attain_100, percent(r.prob_attain_100)),
        ]);
    }
    s.push_str(&reps.html());
    let mut accrual = Table::new(&["quarter", "from", "accrual mean", "P10", "P50", "P90"]);
    for a in &c.accrual {
        accrual.row(vec![
            Cell::text(&a.quarter),
            Cell::text(&a.start),
            Cell::num(a.accrual.mean, thousands(a.accrual.mean)),
            Cell::num(a.accrual.p10, thousands(a.accrual.p10)),
            Cell::num(a.accrual.p50, thousands(a.accrual.p50)),
            Cell::num(a.accrual.p90, thousands(a.accrual.p90)),
        ]);
    }
    s.push_str("<h3>Commission accrual by quarter</h3>");
    s.push_str(&accrual.html());
    s.push_str("</section>");
}

fn backtest_section(s: &mut String, report: &Report, plots: &[Rendered]) {
    let Some(b) = &report.backtest else { return };
    s.push_str("<section id=\"backtest\"><h2>Backtest</h2>");
    let _ = write!(
        s,
        "<p>Fitted on all but the last {} period(s), from {} origin(s) ({}); every held-out actual \
         scored against the forecast made before it.</p>",
        b.holdout,
        b.origins.len(),
        escape(&b.origins.join(", "))
    );
    figure_html(s, plots, "backtest_coverage");
    if let Some(qb) = &report.quota_backtest {
        let _ = write!(
            s,
            "<h3>Quota backtest</h3><p>Quotas for the year from {} set from the years before it \
             (plan: the simulated company median), against what each of the {} territories sold. \
             An honest method's realised share of territories attaining falls inside the band it \
             predicted.</p>",
            escape(&qb.year_start),
            qb.territories
        );
        let mut t = Table::new(&[
            "method",
            "predicted share attaining",
            "90% band",
            "realised share",
            "inside band",
            "actual/quota P10",
            "P50",
            "P90",
        ]);
        for m in &qb.methods {
            t.row(vec![
                Cell::text(m.method.name()),
                Cell::num(m.predicted_share, percent(m.predicted_share)),
                Cell::text(format!(
                    "{} to {}",
                    percent(m.predicted_band.0),
                    percent(m.predicted_band.1)
                )),
                Cell::num(m.realised_share, percent(m.realised_share)),
                Cell::text(if m.inside_band { "yes" } else { "no" }),
                Cell::num(m.ratio.0, fixed(m.ratio.0, 2)),
                Cell::num(m.ratio.1, fixed(m.ratio.1, 2)),
                Cell::num(m.ratio.2, fixed(m.ratio.2, 2)),
            ]);
        }
        s.push_str(&t.html());
    }
    let mut t = Table::new(&[
        "level",
        "points",
        "coverage 50%",
        "coverage 80%",
        "coverage 90%",
        "scaled pinball",
        "baseline pinball",
        "baseline coverage 80%",
        "scaled CRPS",
        "baseline CRPS",
        "drift pinball",
        "drift CRPS",
        "MASE",
        "total error",
        "series scored",
        "series skipped",
    ]);
    for (level, sc) in b
        .by_level
        .iter()
        .map(|(l, s)| (l.as_str(), s))
        .chain(std::iter::once(("all levels", &b.overall)))
    {
        t.row(vec![
            Cell::text(level),
            Cell::num(sc.points as f64, thousands(sc.points as f64)),
            Cell::num(sc.coverage_50, percent(sc.coverage_50)),
            Cell::num(sc.coverage_80, percent(sc.coverage_80)),
            Cell::num(sc.coverage_90, percent(sc.coverage_90)),
            Cell::num(sc.scaled_pinball, fixed(sc.scaled_pinball, 3)),
            Cell::num(
                sc.baseline_scaled_pinball,
                fixed(sc.baseline_scaled_pinball, 3),
            ),
            Cell::num(sc.baseline_coverage_80, percent(sc.baseline_coverage_80)),
            Cell::num(sc.scaled_crps, fixed(sc.scaled_crps, 3)),
            Cell::num(sc.baseline_scaled_crps, fixed(sc.baseline_scaled_crps, 3)),
            Cell::num(sc.drift_scaled_pinball, fixed(sc.drift_scaled_pinball, 3)),
            Cell::num(sc.drift_scaled_crps, fixed(sc.drift_scaled_crps, 3)),
            Cell::num(sc.mase, fixed(sc.mase, 3)),
            Cell::num(sc.total_error, percent(sc.total_error)),
            Cell::num(sc.series_scored as f64, sc.series_scored.to_string()),
            Cell::num(sc.series_skipped as f64, sc.series_skipped.to_string()),
        ]);
    }
    s.push_str(&t.html());
    if let Some((_, company)) = b.by_level.iter().find(|(l, _)| l == "total") {
        let (lo, hi) = b.total_coverage_80_band;
        let inside = (lo..=hi).contains(&company.coverage_80);
        let _ = write!(
            s,
            "<p>The company total's 80% interval covered {} of its {} held-out periods; had the actuals \
             been drawn from the forecast itself, 90% of the time it would cover between {} and {} \
             (from the forecast's own paths, one trial per origin): <b>{}</b>.</p>",
            percent(company.coverage_80),
            company.points,
            percent(lo),
            percent(hi),
            if inside {
                "calibrated at the company level"
            } else {
                "outside that band: the company total is not calibrated on this data"
            }
        );
    }
    s.push_str(
        "<p class=\"note\">Scaled pinball: quantile loss averaged over the standard quantiles, divided by the \
         in-sample mean absolute error of the seasonal naive forecast (lower is better); CRPS estimated from the \
         trials and scaled the same way. Baselines computed by salesplan in the same run: seasonal naive \
         (\"baseline\") and naive with drift, both with empirical residual quantiles.</p></section>",
    );
}

fn footer(s: &mut String, report: &Report) {
    let m = &report.meta;
    let _ = write!(
        s,
        "<footer><p>Scenario <b>{}</b>, seed {}, {} trials, salesplan {}. The same scenario, data and seed \
         reproduce this page byte for byte.</p><p>Inputs (sha256):</p><ul>",
        escape(&m.scenario),
        m.seed,
        m.trials,
        escape(&m.version)
    );
    for (file, hash) in &m.inputs {
        let _ = write!(s, "<li>{} <code>{}</code></li>", escape(file), escape(hash));
    }
    s.push_str("</ul></footer>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fit_text_names_each_alpha_prior_it_has() {
        use crate::model::AlphaPriorModes;
        let both = alpha_prior_text(&AlphaPriorModes {
            level: Some(0.3),
            share: Some(0.1),
            level_weight: Some(36.0),
            share_weight: Some(12.0),
        });
        assert!(both.contains(
            "0.30 for a local level, worth 36 periods of a territory's own; 0.10 for a level \
             moving beyond"
        ));
        assert!(both.contains("(the group share's and the trends'), worth 12 periods"));
        let share = alpha_prior_text(&AlphaPriorModes {
            level: None,
            share: Some(0.1),
            ..AlphaPriorModes::default()
        });
        assert!(share.contains("alpha 0.10 for a level moving beyond"));
        assert!(!share.contains("local level"));
        assert_eq!(alpha_prior_text(&AlphaPriorModes::default()), "");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn table_cells_carry_sort_values() {
        let mut t = Table::new(&["name", "value"]);
        t.row(vec![
            Cell::text("T<1>"),
            Cell::num(1234.5, thousands(1234.5)),
        ]);
        let h = t.html();
        assert!(h.contains("<td>T&lt;1&gt;</td>"));
        assert!(h.contains("data-v=\"1234.5\">1,235</td>"));
    }
}
