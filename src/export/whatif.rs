//! The live what-if panel of `report.html`: inputs for the plan, the
//! over-assignment, the quota method and `max_change`, the quotas they give
//! (re-solved in the browser by `whatif.js`, which mirrors
//! [`crate::quota`]), and the data it solves from ([`crate::whatif`]) as
//! embedded JSON. Offline: no external script, works from `file://`.

use std::fmt::Write;

use super::html::escape;
use crate::quota::QuotaPlan;
use crate::scenario::QuotaMethod;

/// The solver and the panel's behaviour.
const SCRIPT: &str = include_str!("whatif.js");

/// JSON that may sit inside a `<script>` element: no `<` can close it.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

/// Whether the page has a what-if for `q` (the quota stage ran on a
/// simulation, so there are tables to solve from).
pub fn shown(q: &QuotaPlan) -> bool {
    !q.whatif.territories.is_empty() && !q.whatif.company.is_empty()
}

/// Append the panel (element id `whatif`) for the quota plan `q`.
pub fn panel(s: &mut String, q: &QuotaPlan, currency: &str, rebalanced: bool) {
    if !shown(q) {
        return;
    }
    let w = &q.whatif;
    let methods = [
        QuotaMethod::EqualProbability,
        QuotaMethod::HistoricalShare,
        QuotaMethod::PotentialShare,
        QuotaMethod::Blend,
    ];
    let options: String = methods
        .iter()
        .filter(|m| **m != QuotaMethod::Blend || !w.spec.blend.is_empty())
        .map(|m| format!("<option value=\"{0}\">{0}</option>", m.name()))
        .collect();
    let _ = write!(
        s,
        "<div id=\"whatif\" class=\"whatif\"><h3>What if: another plan, method or max_change</h3>\
         <p class=\"note\">Change a number and the quotas below are re-solved at once in this page, with the \
         engine's rules (clamps to max_change, floors, caps and locks; bisection for the common chance; the \
         share methods{blend}), from each territory's simulated plan-year revenue ({levels} quantiles of the \
         same {trials} trials{rebalanced}). max_change is measured from the last quota (the quotas table), \
         else last year's revenue. At the scenario's own settings the table is the engine's (quotas.csv). Commission cost, rep quotas and the plots above are \
         <b>not</b> recomputed. The link below, or the page's address, carries the settings: send it to share \
         this what-if.</p>\
         <form class=\"whatif-form\" onsubmit=\"return false\">\
         <label>plan ({cur}) <input id=\"whatif-plan\" type=\"number\" min=\"0\" step=\"any\"></label>\
         <label>over-assignment <input id=\"whatif-over\" type=\"number\" min=\"0\" max=\"1\" step=\"0.01\"></label>\
         <label>method <select id=\"whatif-method\">{options}</select></label>\
         <label>max_change <input id=\"whatif-max-change\" type=\"number\" min=\"0\" step=\"0.05\" placeholder=\"none\"></label>\
         <button type=\"button\" id=\"whatif-reset\">scenario's values</button>\
         <button type=\"button\" id=\"whatif-download\">download quotas (CSV)</button>\
         <a id=\"whatif-link\" href=\"#whatif\">link to this what-if</a></form>\
         <p id=\"whatif-params\" class=\"error\" hidden></p>\
         <p id=\"whatif-error\" class=\"error\" hidden></p>\
         <div id=\"whatif-result\" class=\"cards\">\
         <div class=\"card\"><div class=\"k\" id=\"whatif-common-label\">Common chance of attaining</div>\
         <div class=\"v\" id=\"whatif-common\"></div></div>\
         <div class=\"card\"><div class=\"k\">P(company revenue \u{2265} plan)</div>\
         <div class=\"v\" id=\"whatif-plan-probability\"></div><div class=\"d\" id=\"whatif-plan-se\"></div></div>\
         <div class=\"card\"><div class=\"k\">Expected share of territories attaining</div>\
         <div class=\"v\" id=\"whatif-share\"></div></div>\
         <div class=\"card\"><div class=\"k\">Quotas add up to ({cur})</div>\
         <div class=\"v\" id=\"whatif-total\"></div></div></div>\
         <div class=\"scroll\"><table id=\"whatif-quotas\"><thead><tr><th>territory</th><th class=\"n\">last year</th><th class=\"n\">max_change from</th>\
         <th class=\"n\">forecast P50</th><th class=\"n\">quota</th><th class=\"n\">vs last year</th>\
         <th class=\"n\">chance of attaining</th><th>binding</th></tr></thead><tbody></tbody></table></div>",
        blend = if w.spec.blend.is_empty() {
            ""
        } else {
            " and the scenario's blend"
        },
        levels = crate::whatif::LEVELS,
        trials = w.trials,
        rebalanced = if rebalanced {
            "; these are the rebalanced territories, as in quotas.csv"
        } else {
            ""
        },
        cur = escape(currency),
    );
    // The engine's own result, shown as long as the inputs are the
    // scenario's (the page's interpolated tables differ from it by a few
    // hundredths of a percent).
    let mut data = w.to_json(rebalanced);
    data["engine"] = serde_json::json!({
        "quotas": q.rows.iter().map(|r| r.quota).collect::<Vec<_>>(),
        "unconstrained": q.rows.iter().map(|r| r.unconstrained).collect::<Vec<_>>(),
        "binding": q.rows.iter().map(|r| r.binding.clone()).collect::<Vec<_>>(),
        "attain": q.rows.iter().map(|r| r.attain_probability).collect::<Vec<_>>(),
        "probability": (q.method == QuotaMethod::EqualProbability).then_some(q.attain_probability),
    });
    let _ = write!(
        s,
        "<script type=\"application/json\" id=\"whatif-data\">{}</script><script>{SCRIPT}</script></div>",
        script_safe(&data.to_string())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_close_its_script() {
        let json = serde_json::json!({ "name": "</script><script>alert(1)</script>" }).to_string();
        let safe = script_safe(&json);
        assert!(!safe.contains('<'));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["name"], "</script><script>alert(1)</script>");
    }
}
