//! Exponential smoothing in innovations state-space form (Hyndman, Koehler,
//! Ord and Snyder 2008, "Forecasting with Exponential Smoothing"), on a
//! territory's deseasonalised series a_t = y_t / s_t (the seasonal indices
//! are pooled across the region: see `fit`).
//!
//! Error multiplicative, trend none, additive, damped or compounding
//! (ETS(M,N), ETS(M,A), ETS(M,Ad), ETS(M,M)), plus two forms that borrow from elsewhere: the stable level
//! (ETS(M,N) with alpha = 0: the long-run mean, the right model for a
//! history of noise) and the group-share level (ETS(M,N) on the
//! territory's share of its region: its level moves with the region's
//! smoothed level path, g_t being the path's growth in period t, and its
//! forecast grows as the region's forecast does; shrinkage of the trend
//! toward the group, for territories too sparse or short to show their
//! own). The linear and compounding trends also come with their slope
//! held (beta = 0: [`Form::Drift`], [`Form::Rate`]), candidates of a
//! territory (`select`) and of a region's growth path (`growth`) given
//! three seasons of history ([`Form::holds_slope_over`]). With mu_t = (l + phi b)(1 + g_t) (g = 0
//! but for the group share):
//!
//! ```text
//! a_t = mu_t (1 + e_t)
//! l_t = mu_t (1 + alpha e_t)
//! b_t = phi b_(t-1) + beta mu_t e_t
//! ```
//!
//! The compounding trend carries its slope as a growth rate r (Taylor
//! 2003; Hyndman et al. 2008, ch. 2): mu_t = l (1 + r) (1 + g_t), r_t =
//! (1 + r_(t-1)) (1 + beta e_t) - 1. Why: a market growing by a steady rate
//! adds more each year, and an additive slope carried forward as an amount
//! (the more so when maximum likelihood puts its beta near 0, as it tends
//! to) grows less each year in relative terms, so growing markets were
//! forecast low. Its relative forecast variance is the additive trend's
//! with phi = 1 (an innovation at step j moves the mean h steps on by
//! alpha + beta (h - j), to first order), so the variance formulas (`fitted`)
//! serve both.
//!
//! Parameters and initial states are estimated by maximum likelihood
//! (concentrated: n/2 ln(sum e^2) + sum ln mu_t) with Nelder–Mead on
//! logistic-mapped parameters: 0 < beta < alpha < 1, 0.8 <= phi <= 0.98
//! (the R `forecast` package's bounds; beta = 0 for the held slopes). The simulation (`model`) runs the
//! same recursions with drawn innovations, so one innovation moves the
//! level and trend for the rest of the horizon.
//!
//! Where each part lives: the forms in `form`, their smoothing weights and
//! the recursions' arithmetic in `smoothing`, one pass over a series in
//! `recursion`, the maximum-likelihood search in `estimate` (many searches
//! at once in `lanes`), a fit's forecast moments in `fitted`; the alpha
//! prior in `prior`, a region's growth path in `growth`, the rolling
//! origins in `origins`, and the choice among forms in `select`, `pool`
//! and `crossfit`.

pub mod crossfit;
mod estimate;
mod fitted;
mod form;
pub mod growth;
mod lanes;
pub mod origins;
pub mod pool;
pub mod prior;
mod recursion;
pub mod select;
mod smoothing;

pub use estimate::{fit, Request, Search};
pub use fitted::EtsFit;
pub use form::Form;
pub use growth::{growth_factor, Growth};
pub use smoothing::{rate_bound, rate_limits, Smoothing};

use estimate::Problem;
use recursion::{run, Recursion, Setup, Units};
#[cfg(test)]
use {crate::stats::quantile::mean, estimate::unpack, prior::FormPriors};

#[cfg(test)]
mod tests {
    use super::*;

    /// `form` fitted to `a` (monthly) with no group growth and no prior.
    fn alone(a: &[f64], form: Form) -> EtsFit {
        fit(a, form, &Growth::none(), &FormPriors::none(), 12).unwrap()
    }

    pub(in crate::ets) fn noise(n: usize, seed: u64) -> Vec<f64> {
        // A fixed pseudo-random sequence around 100 (uniform, +-20%).
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                100.0 * (0.8 + 0.4 * ((x >> 11) as f64 / (1u64 << 53) as f64))
            })
            .collect()
    }

    #[test]
    fn a_stable_level_is_the_long_run_mean() {
        let a = noise(120, 3);
        let f = alone(&a, Form::Mean);
        // The multiplicative-error MLE of a stable level is the mean
        // (d/dl of n/2 ln sum (a/l - 1)^2 + n ln l is zero at l = mean).
        let expected = mean(&a);
        assert!(
            (f.level - expected).abs() / expected < 1e-3,
            "{} vs {expected}",
            f.level
        );
    }

    #[test]
    fn a_straight_line_is_followed_by_the_trend_models() {
        let a: Vec<f64> = (0..48).map(|t| 100.0 + 2.0 * t as f64).collect();
        let f = alone(&a, Form::Trend);
        assert!((f.slope - 2.0).abs() < 0.05, "slope {}", f.slope);
        assert!((f.mean_at(0) - 196.0).abs() < 1.0, "next {}", f.mean_at(0));
        let d = alone(&a, Form::Damped);
        assert!(d.mean_at(11) < f.mean_at(11) + 1e-9);
        assert!(d.smoothing.beta <= d.smoothing.alpha);
    }

    #[test]
    fn a_rolling_origins_refit_owes_nothing_to_the_periods_after_it() {
        // Two histories alike for 24 months, then one flat and one growing
        // 4% a month: every form's refit on the first 24 months forecasts
        // the same, whichever whole history it was refitted from. (From
        // the whole history's optimum, the growing one's trend leaked
        // into the refit: its forecasts differed.)
        let first = noise(24, 11);
        let mut flat = first.clone();
        flat.extend(noise(24, 12));
        let mut growing = first.clone();
        growing.extend(
            noise(24, 12)
                .iter()
                .enumerate()
                .map(|(t, v)| v * 1.04f64.powi(t as i32 + 1)),
        );
        let none = Growth::none();
        let prior = FormPriors::none();
        for form in [Form::Level, Form::Trend, Form::Damped, Form::Compounding] {
            let from_flat = alone(&flat, form)
                .refit_request(&first, &none, &prior)
                .fit()
                .unwrap();
            let from_growing = alone(&growing, form)
                .refit_request(&first, &none, &prior)
                .fit()
                .unwrap();
            for h in 0..12 {
                assert_eq!(
                    from_flat.mean_at(h),
                    from_growing.mean_at(h),
                    "{form:?} step {h}"
                );
            }
            assert_eq!(from_flat.sigma2, from_growing.sigma2, "{form:?}");
        }
    }

    #[test]
    fn the_held_slopes_keep_the_slope_they_fitted() {
        // A line and a rate under a fixed +-1% pattern: the held slopes'
        // beta is 0 (one coordinate fewer), their slope the line's or the
        // rate, and their forecasts keep it.
        let wiggle = |t: usize| 1.0 + 0.01 * [1.0, -1.0, 0.5, -0.5][t % 4];
        let line: Vec<f64> = (0..48)
            .map(|t| (100.0 + 2.0 * t as f64) * wiggle(t))
            .collect();
        let d = alone(&line, Form::Drift);
        assert_eq!(d.smoothing.beta, 0.0);
        assert_eq!(d.coords.len(), 3);
        assert!((d.slope - 2.0).abs() < 0.1, "slope {}", d.slope);
        assert!((d.mean_at(11) - d.mean_at(10) - d.slope).abs() < 1e-9);
        // Held: the slope at the origin is the initial one, though the
        // line ends with a year flat, which a smoothed slope follows down.
        let mut bent = line.clone();
        bent.extend(std::iter::repeat_n(bent[47], 12));
        let held = alone(&bent, Form::Drift);
        let scale = Units::of(&bent).unwrap().scale;
        assert_eq!(held.slope, unpack(Form::Drift, &held.coords, scale, 12).2);
        let smoothed = alone(&bent, Form::Trend);
        assert!(
            smoothed.slope < 0.5 * held.slope,
            "{} against {}",
            smoothed.slope,
            held.slope
        );
        let rate: Vec<f64> = (0..72)
            .map(|t| 100.0 * 1.01f64.powi(t as i32) * wiggle(t))
            .collect();
        let r = alone(&rate, Form::Rate);
        assert_eq!(r.smoothing.beta, 0.0);
        assert!((r.slope - 0.01).abs() < 1e-3, "rate {}", r.slope);
        assert!((r.mean_at(11) / r.mean_at(10) - 1.01).abs() < 1e-3);
    }

    #[test]
    fn a_series_growing_by_a_rate_is_followed_by_the_compounding_trend() {
        // 1% a period, compounding: the fit finds the rate, and its forecast
        // keeps it where an additive slope's relative growth falls.
        let a: Vec<f64> = (0..72).map(|t| 100.0 * 1.01f64.powi(t)).collect();
        let c = alone(&a, Form::Compounding);
        assert!((c.slope - 0.01).abs() < 1e-3, "rate {}", c.slope);
        let next = 100.0 * 1.01f64.powi(72);
        assert!((c.mean_at(0) / next - 1.0).abs() < 2e-3, "{}", c.mean_at(0));
        let ratio = c.mean_at(11) / c.mean_at(10);
        assert!((ratio - 1.01).abs() < 1e-3, "{ratio}");
        let t = alone(&a, Form::Trend);
        assert!(
            t.mean_at(11) < c.mean_at(11),
            "{} vs {}",
            t.mean_at(11),
            c.mean_at(11)
        );
    }

    #[test]
    fn a_compounding_forecast_mean_is_its_simulated_paths_mean() {
        // The recursion run with normal innovations (sd 0.2) from a known
        // state: the paths' mean h periods ahead must be `mean_at(h)`, which
        // lies above the path with no innovations (a rate shock compounds).
        let a: Vec<f64> = (0..48).map(|t| 100.0 * 1.01f64.powi(t)).collect();
        let mut f = alone(&a, Form::Compounding);
        f.level = 100.0;
        f.slope = 0.01;
        f.sigma2 = 0.04;
        f.smoothing.alpha = 0.3;
        f.smoothing.beta = 0.05;
        f.smoothing.rate_limits = rate_limits(1.0); // wide: the bound never binds here
        let s = f.smoothing;
        let (paths, horizon) = (200_000, 12);
        let mut sum = vec![0.0; horizon];
        let mut sum2 = vec![0.0; horizon];
        let mut x = 12_345u64;
        let mut uniform = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        for _ in 0..paths {
            let (mut l, mut b) = (f.level, f.slope);
            for h in 0..horizon {
                let mu = s.one_step(l, b);
                sum[h] += mu;
                sum2[h] += mu * mu;
                // Box-Muller: one normal per period.
                let e = 0.2
                    * (-2.0 * uniform().ln()).sqrt()
                    * (2.0 * std::f64::consts::PI * uniform()).cos();
                b = s.next_slope(b, mu, mu * e);
                l = s.next_level(mu, mu * e);
            }
        }
        let n = paths as f64;
        for h in [0, 5, 11] {
            let mean = sum[h] / n;
            let se = ((sum2[h] / n - mean * mean) / n).sqrt();
            let expected = f.mean_at(h);
            assert!(
                (mean - expected).abs() <= 4.0 * se + 1e-9 * expected,
                "step {h}: paths' mean {mean:.3} against mean_at {expected:.3} (se {se:.3})"
            );
        }
        // The correction matters: the path with no innovations is far off.
        let bare = s.mean_ahead(f.level, f.slope, 11);
        let se = ((sum2[11] / n - (sum[11] / n).powi(2)) / n).sqrt();
        assert!(sum[11] / n - bare > 8.0 * se, "{} vs {bare}", sum[11] / n);
    }

    #[test]
    fn a_level_shift_is_tracked_by_the_local_level() {
        let mut a = noise(60, 5);
        for v in &mut a[36..] {
            *v *= 1.5;
        }
        let f = alone(&a, Form::Level);
        assert!(f.smoothing.alpha > 0.1, "alpha {}", f.smoothing.alpha);
        assert!(f.level > 130.0, "level {}", f.level);
    }

    #[test]
    fn the_group_share_form_grows_with_the_group() {
        let a = noise(60, 11);
        let growth = Growth {
            history: vec![0.01; 60],
            forecast: vec![0.01; 12],
        };
        let f = fit(&a, Form::Group, &growth, &FormPriors::none(), 12).unwrap();
        let ratio = f.mean_at(11) / f.mean_at(0);
        assert!((ratio - 1.01f64.powi(11)).abs() < 1e-9, "{ratio}");
        // The other forms ignore the group.
        let l = fit(&a, Form::Level, &growth, &FormPriors::none(), 12).unwrap();
        assert!((l.mean_at(11) - l.mean_at(0)).abs() < 1e-9);
    }

    #[test]
    fn variance_grows_with_the_horizon() {
        let a = noise(48, 9);
        let f = alone(&a, Form::Level);
        assert!(f.relative_variance(11) > f.relative_variance(0));
        let m = alone(&a, Form::Mean);
        assert!((m.relative_variance(11) - m.relative_variance(0)).abs() < 1e-15);
    }
}
