//! A group's (region's) growth path, which the group-share form moves its
//! territories' levels by: over the history, the growth of the group
//! total's smoothed level path period by period; over the horizon, of its
//! forecast means.
//!
//! The path's model is chosen by how it would have forecast the group's
//! own totals from the rolling origins ([`super::origins::Origins`]: the
//! spans up to a horizon ahead of each, the latest ones shorter; least
//! absolute log error of the span totals, summed over the origins), among
//! the territories' forms but the group share (stable level, local level,
//! damped, linear and **compounding trend**: ETS(M,M), the level grows by
//! a rate, itself smoothed; see [`super::Form`]) and the linear and
//! compounding trends with their slope held ([`Form::Drift`],
//! [`Form::Rate`], given three seasons of history:
//! [`Form::holds_slope_over`]). Why compounding: a market growing 10% a year adds more each
//! year, which a slope carried forward as an amount (and more so a damped
//! one) underestimates; its territories' year medians ran 1% low. Why the
//! **held slopes** (the linear and compounding trends with beta = 0, the
//! state-space form of a random walk with drift): a smoothed slope follows
//! the last months, and a total that grew 4.3-9.7% a year from 2008 to
//! 2014 and was flat for most of 2014 (Australia's departures) was
//! forecast to shrink about 1.5% a year (its damped slope), where the held
//! slope, chosen by the same scores (summed over its 16 origins, 0.131
//! against 0.196), carries 4.3% a year. Which to use is the history's call: where growth
//! did change, the smoothed slopes forecast it better and are chosen. Why by
//! rolling origins and not AICc: a group total is smooth and long enough
//! for its own forecasts to decide, and a horizon total is what its path
//! is used for. The choice is made once, on the whole history, and that
//! model is refitted for each earlier origin the territories are
//! evaluated at (choosing it again per origin would nest the rolling
//! origins and multiply the fit's cost by their number). With fewer than
//! [`super::origins::MIN_ORIGINS`] origins, AICc among the same forms.

use serde::Serialize;

use super::prior::FormPriors;
use super::{fit, origins, EtsFit, Form};

/// The group's growth per period, for the group-share form: over the
/// history the territory is fitted on (one per period) and over the
/// forecast horizon (one per step). Missing periods count as no growth.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Growth {
    pub history: Vec<f64>,
    pub forecast: Vec<f64>,
}

impl Growth {
    /// No growth.
    pub fn none() -> Self {
        Self::default()
    }

    pub(super) fn history_at(&self, t: usize) -> f64 {
        self.history.get(t).copied().unwrap_or(0.0)
    }

    /// The same growth seen by a series that starts at period `start` of
    /// the history (a territory that began selling later than its group):
    /// its first period, like any series' first, has no growth before it.
    pub fn since(&self, start: usize) -> Self {
        let mut history = self.history.get(start..).unwrap_or_default().to_vec();
        if let Some(first) = history.first_mut() {
            *first = 0.0;
        }
        Self {
            history,
            forecast: self.forecast.clone(),
        }
    }
}

/// Growth factor from the origin's state to forecast step `h` under the
/// group's forecast growth `forecast` (one per step, missing steps none):
/// the product of (1 + g) over steps 0..=h.
pub fn growth_factor(forecast: &[f64], h: usize) -> f64 {
    (0..=h)
        .map(|j| 1.0 + forecast.get(j).copied().unwrap_or(0.0))
        .product()
}

/// Largest growth per period borrowed from a group, either way.
const MAX_GROUP_GROWTH: f64 = 0.2;

/// The forms a group's path is chosen among: every territory form but the
/// group share (a group is not a share of itself), and the two trends with
/// their slope held ([`Form::Drift`], [`Form::Rate`]) where the history is
/// long enough ([`Form::holds_slope_over`]), last so that a tie goes to
/// the smoothed slope.
const CANDIDATES: [Form; 7] = [
    Form::Mean,
    Form::Level,
    Form::Damped,
    Form::Trend,
    Form::Compounding,
    Form::Drift,
    Form::Rate,
];

/// A group total's model of `form`, fitted to `a` without a prior
/// (`per_year` periods a year).
fn fit_path(a: &[f64], form: Form, per_year: usize) -> Option<EtsFit> {
    fit(a, form, &Growth::none(), &FormPriors::none(), per_year)
}

/// The growth per period of a group's fitted path over the history and
/// the `horizon`.
fn path_growth(path: &EtsFit, horizon: usize) -> Growth {
    let step = |from: f64, to: f64| {
        if from > 0.0 {
            (to / from - 1.0).clamp(-MAX_GROUP_GROWTH, MAX_GROUP_GROWTH)
        } else {
            0.0
        }
    };
    let fitted = &path.fitted;
    let mut history = vec![0.0];
    history.extend(fitted.windows(2).map(|w| step(w[0], w[1])));
    let mut previous = fitted.last().copied().unwrap_or(0.0);
    let forecast = (0..horizon)
        .map(|h| {
            let next = path.mean_at(h);
            let g = step(previous, next);
            previous = next;
            g
        })
        .collect();
    Growth { history, forecast }
}

/// The form of a group's path, chosen on its whole deseasonalised total
/// `a` (see the module header); `None` when nothing fits.
fn choose(a: &[f64], horizon: usize, season_len: usize) -> Option<Form> {
    let held = Form::holds_slope_over(a.len(), season_len);
    let candidates: Vec<Form> = CANDIDATES
        .into_iter()
        .filter(|f| held || !f.is_held())
        .collect();
    let recent = origins::Origins::of(a.len(), horizon, season_len).recent;
    if recent.len() >= origins::MIN_ORIGINS {
        let score = |form: Form| -> Option<f64> {
            let mut sum = 0.0;
            for &o in &recent {
                let path = fit_path(&a[..o], form, season_len)?;
                let end = (o + horizon).min(a.len());
                let actual: f64 = a[o..end].iter().sum();
                let forecast: f64 = (0..end - o).map(|h| path.mean_at(h)).sum();
                if !(actual > 0.0 && forecast > 0.0) {
                    return None;
                }
                sum += (actual / forecast).ln().abs();
            }
            Some(sum)
        };
        let best = candidates
            .iter()
            .filter_map(|&f| Some((score(f)?, f)))
            .min_by(|x, y| x.0.total_cmp(&y.0));
        if let Some((_, form)) = best {
            return Some(form);
        }
    }
    candidates
        .iter()
        .filter_map(|&form| fit_path(a, form, season_len))
        .min_by(|x, y| x.aicc.total_cmp(&y.aicc))
        .map(|f| f.form)
}

/// A group's growth path as its deseasonalised total `a` showed it up to
/// each of `lengths` periods (the rolling origins and the end), with
/// `horizon` periods ahead: the model kind chosen once on the whole total,
/// refitted to each length. No growth where nothing fits.
pub fn group_growth_paths(
    a: &[f64],
    lengths: &[usize],
    horizon: usize,
    season_len: usize,
) -> Vec<(usize, Growth)> {
    let form = choose(a, horizon, season_len);
    lengths
        .iter()
        .map(|&l| {
            let path = form.and_then(|f| fit_path(&a[..l.min(a.len())], f, season_len));
            (
                l,
                path.map_or_else(Growth::none, |p| path_growth(&p, horizon)),
            )
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn a_market_growing_by_a_rate_is_forecast_to_keep_that_rate() {
        // 1% a month with a little noise (a fixed alternating pattern).
        let a: Vec<f64> = (0..72)
            .map(|t| 1000.0 * 1.01f64.powi(t) * (1.0 + 0.01 * if t % 2 == 0 { 1.0 } else { -1.0 }))
            .collect();
        let paths = group_growth_paths(&a, &[48, 72], 12, 12);
        for (len, growth) in &paths {
            assert_eq!(growth.forecast.len(), 12);
            assert_eq!(growth.history.len(), *len);
            // A rate held: step 12 grows as step 1 does (a slope carried
            // as an amount would fall to b / (L + 11 b), 0.0089 here).
            let (first, last) = (growth.forecast[0], growth.forecast[11]);
            assert!(
                (last - 0.01).abs() < 5e-4,
                "length {len}: step 12 grows {last}"
            );
            assert!(
                (last - first).abs() < 2e-4,
                "length {len}: {first} then {last}"
            );
        }
    }

    #[test]
    fn a_straight_line_is_forecast_to_keep_its_slope() {
        let a: Vec<f64> = (0..72).map(|t| 1000.0 + 10.0 * t as f64).collect();
        let paths = group_growth_paths(&a, &[72], 12, 12);
        let g = &paths[0].1.forecast;
        // The line's growth rate falls as its level rises: step h goes from
        // 1710 + 10 h to 1720 + 10 h, 10 / (1710 + 10 h) (a compounding
        // path would hold it at 10 / 1710, 3e-4 above by step 12).
        for (h, v) in g.iter().enumerate() {
            let expected = 10.0 / (1710.0 + 10.0 * h as f64);
            assert!((v - expected).abs() < 1e-5, "step {h}: {v} vs {expected}");
        }
    }

    #[test]
    fn a_flat_series_has_no_growth_and_nothing_fitted_has_none() {
        let a = vec![500.0; 48];
        let paths = group_growth_paths(&a, &[36, 48], 12, 12);
        for (_, g) in &paths {
            assert!(
                g.forecast.iter().all(|v| v.abs() < 1e-6),
                "{:?}",
                g.forecast
            );
        }
        let empty = group_growth_paths(&[0.0; 10], &[10], 12, 12);
        assert_eq!(empty[0].1, Growth::none());
    }

    /// Australia's departures (R fpp2::departures, all five categories),
    /// 2008-2014, deseasonalised by their group profile as the fit does
    /// it: 4.3%, 9.7%, 4.9%, 4.7%, 6.1% and 5.8% growth a year, most of
    /// 2014's within its first months.
    pub(crate) const DEPARTURES: [f64; 84] = [
        976307.0, 1026811.0, 1032213.0, 944236.0, 1001583.0, 944280.0, 995321.0, 994143.0,
        931761.0, 966229.0, 974053.0, 967741.0, 977893.0, 983844.0, 980096.0, 1012421.0, 1019020.0,
        975100.0, 1024032.0, 1017947.0, 1028426.0, 1090932.0, 1080026.0, 1071306.0, 1083692.0,
        1116720.0, 1144312.0, 1036889.0, 1093376.0, 1126421.0, 1125922.0, 1127037.0, 1152115.0,
        1152977.0, 1149063.0, 1146656.0, 1171172.0, 1152718.0, 1100360.0, 1191170.0, 1180280.0,
        1161745.0, 1190061.0, 1174854.0, 1209516.0, 1194154.0, 1186322.0, 1201482.0, 1205888.0,
        1194136.0, 1235810.0, 1198797.0, 1209383.0, 1256643.0, 1207105.0, 1237189.0, 1271156.0,
        1239437.0, 1269096.0, 1257469.0, 1240003.0, 1257054.0, 1324693.0, 1240453.0, 1304166.0,
        1318233.0, 1316736.0, 1343373.0, 1339978.0, 1299086.0, 1321490.0, 1378393.0, 1373865.0,
        1379069.0, 1339148.0, 1398904.0, 1383693.0, 1403826.0, 1362766.0, 1425935.0, 1369156.0,
        1376627.0, 1383639.0, 1402255.0,
    ];

    #[test]
    fn a_total_that_grew_for_years_keeps_growing_after_a_flat_spell() {
        // The smoothed slopes (damped, linear, compounding) read 2014's
        // flat months as growth that stopped and forecast -0.1% to -0.2%
        // a month; the held slope carries the years' growth (4.3% a year)
        // and forecast its 16 rolling origins (2011-2014) better (absolute
        // log errors of the spans summed, 0.131 against the damped
        // slope's 0.196). 2015 grew 4.8%.
        let paths = group_growth_paths(&DEPARTURES, &[84], 12, 12);
        let g = &paths[0].1.forecast;
        assert!(
            g.iter().all(|v| (0.002..0.006).contains(v)),
            "monthly growth {g:?}"
        );
    }
}
