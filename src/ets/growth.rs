//! A group's (region's) growth path, which the group-share form moves its
//! territories' levels by: over the history, the growth of the group
//! total's smoothed level path period by period; over the horizon, of its
//! forecast means.
//!
//! The path's model is chosen by how it would have forecast the group's
//! own totals from the rolling origins ([`super::select::origins`]: the
//! spans up to a horizon ahead of each, the latest ones shorter; least mean
//! absolute log error of the span totals), among the additive
//! forms (stable level, local level, damped and linear trend) and a
//! **compounding trend** (ETS(M,M): the level grows by a rate, itself
//! smoothed). Why compounding: a market growing 10% a year adds more each
//! year, which a slope carried forward as an amount (and more so a damped
//! one) underestimates; its territories' year medians ran 1% low. Why by
//! rolling origins and not AICc: a group total is smooth and long enough
//! for its own forecasts to decide, and a horizon total is what its path
//! is used for. The choice is made once, on the whole history, and that
//! model is refitted for each earlier origin the territories are
//! evaluated at (choosing it again per origin would nest the rolling
//! origins and multiply the fit's cost by their number). With fewer than
//! [`super::select::MIN_ORIGINS`] origins, AICc among the additive forms.

use super::prior::FormPriors;
use super::{fit, select, EtsFit, Form, Growth, Units, ALPHA_MIN};
use crate::stats::nelder_mead::minimize;

/// Largest growth per period borrowed from a group, either way.
const MAX_GROUP_GROWTH: f64 = 0.2;
/// Evaluations for the compounding trend's four parameters.
const COMPOUNDING_EVALS: usize = 400;

/// A fitted compounding trend, ETS(M,M): mu_t = l b, l_t = mu_t (1 +
/// alpha e_t), b_t = b (1 + beta e_t).
#[derive(Debug, Clone)]
struct Compounding {
    level: f64,
    rate: f64,
    fitted: Vec<f64>,
    floor: f64,
}

impl Compounding {
    fn fit(a: &[f64]) -> Option<Self> {
        let n = a.len();
        if n < 6 {
            return None;
        }
        let Units { floor, scale } = Units::of(a)?;
        let bound = |v: f64| ALPHA_MIN + (1.0 - 2.0 * ALPHA_MIN) * (1.0 / (1.0 + (-v).exp()));
        let run = |x: &[f64], fitted: Option<&mut Vec<f64>>| {
            let alpha = bound(x[0]);
            let beta = alpha * bound(x[1]);
            let (mut l, mut b) = (scale * x[2].exp(), x[3].exp());
            let (mut sse, mut log_mu) = (0.0, 0.0);
            let mut fitted = fitted;
            for &y in a {
                let mu = (l * b).max(floor);
                let e = y / mu - 1.0;
                sse += e * e;
                log_mu += mu.ln();
                if let Some(f) = fitted.as_deref_mut() {
                    f.push(mu);
                }
                l = (mu * (1.0 + alpha * e)).max(floor);
                b = (b * (1.0 + beta * e)).clamp(1.0 - MAX_GROUP_GROWTH, 1.0 + MAX_GROUP_GROWTH);
            }
            let nf = n as f64;
            (0.5 * nf * (sse / nf).max(1e-300).ln() + log_mu, l, b)
        };
        let start = [-1.4, -2.2, 0.0, 0.0];
        let best = minimize(
            |x| run(x, None).0,
            &start,
            &[1.0, 1.0, 0.1, 0.01],
            COMPOUNDING_EVALS,
            1e-7,
        );
        let mut fitted = Vec::with_capacity(n);
        let (nll, level, rate) = run(&best.x, Some(&mut fitted));
        nll.is_finite().then_some(Self {
            level,
            rate,
            fitted,
            floor,
        })
    }
}

/// A group total's model.
#[derive(Debug, Clone)]
enum Path {
    Additive(EtsFit),
    Compounding(Compounding),
}

/// Which model a group's path uses: an additive form, or the compounding
/// trend.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Additive(Form),
    Compounding,
}

impl Path {
    fn fit(a: &[f64], kind: Kind) -> Option<Self> {
        match kind {
            Kind::Additive(form) => {
                fit(a, form, &Growth::none(), &FormPriors::none()).map(Path::Additive)
            }
            Kind::Compounding => Compounding::fit(a).map(Path::Compounding),
        }
    }

    fn mean_at(&self, h: usize) -> f64 {
        match self {
            Path::Additive(f) => f.mean_at(h),
            Path::Compounding(c) => (c.level * c.rate.powi(h as i32 + 1)).max(c.floor),
        }
    }

    fn fitted(&self) -> &[f64] {
        match self {
            Path::Additive(f) => &f.fitted,
            Path::Compounding(c) => &c.fitted,
        }
    }

    /// The growth per period over the history and the `horizon`.
    fn growth(&self, horizon: usize) -> Growth {
        let step = |from: f64, to: f64| {
            if from > 0.0 {
                (to / from - 1.0).clamp(-MAX_GROUP_GROWTH, MAX_GROUP_GROWTH)
            } else {
                0.0
            }
        };
        let fitted = self.fitted();
        let mut history = vec![0.0];
        history.extend(fitted.windows(2).map(|w| step(w[0], w[1])));
        let mut previous = fitted.last().copied().unwrap_or(0.0);
        let forecast = (0..horizon)
            .map(|h| {
                let next = self.mean_at(h);
                let g = step(previous, next);
                previous = next;
                g
            })
            .collect();
        Growth { history, forecast }
    }
}

const ADDITIVE: [Form; 4] = [Form::Mean, Form::Level, Form::Damped, Form::Trend];

/// The model kind of a group's path, chosen on its whole deseasonalised
/// total `a` (see the module header); `None` when nothing fits.
fn choose(a: &[f64], horizon: usize, season_len: usize) -> Option<Kind> {
    let origins = select::origins(a.len(), horizon, season_len);
    if origins.len() >= select::MIN_ORIGINS {
        let score = |kind: Kind| -> Option<f64> {
            let mut sum = 0.0;
            for &o in &origins {
                let path = Path::fit(&a[..o], kind)?;
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
        let best = ADDITIVE
            .iter()
            .map(|&f| Kind::Additive(f))
            .chain([Kind::Compounding])
            .filter_map(|k| Some((score(k)?, k)))
            .min_by(|x, y| x.0.total_cmp(&y.0));
        if let Some((_, kind)) = best {
            return Some(kind);
        }
    }
    ADDITIVE
        .iter()
        .filter_map(|&form| fit(a, form, &Growth::none(), &FormPriors::none()))
        .min_by(|x, y| x.aicc.total_cmp(&y.aicc))
        .map(|f| Kind::Additive(f.form))
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
    let kind = choose(a, horizon, season_len);
    lengths
        .iter()
        .map(|&l| {
            let path = kind.and_then(|k| Path::fit(&a[..l.min(a.len())], k));
            (l, path.map_or_else(Growth::none, |p| p.growth(horizon)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
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
}
