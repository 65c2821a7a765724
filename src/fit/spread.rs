//! Widening the in-sample spread for what was fitted to it: the
//! degrees-of-freedom correction of the residual law and of the state's
//! covariance, with each territory's calibration factor (which narrows
//! the law below its in-sample spread only where cross-fitted errors ask:
//! `TerritoryFit::spread_floor`) ([`correct_for_fitted_parameters`]), and
//! the level shift that gives the horizon total the width its calibration
//! asks for on each side of its median, the seasonal widening only as far
//! as the total's factor does not hold it ([`TotalPlan`]).

use serde_json::json;

use super::params::round6;
use super::TerritoryFit;
use crate::model::{LevelLaw, ShockModel};

/// Largest relative variance of the level after the totals' calibration,
/// on each side (a standard deviation of half the level): a level shift much
/// wider than that is clamped at zero and biases the mean upward, most of
/// all for sparse territories whose totals are mostly noise.
const MAX_LEVEL_REL_VAR: f64 = 0.25;
/// Largest variance inflation for fitted parameters (noise spread x 2; the
/// seasonal deviations' error is drawn on top, per trial).
const MAX_DOF_INFLATION: f64 = 4.0;
/// Least share of a period's own noise variance kept when a level shift
/// takes its place (`TotalPlan::kept_share`).
const MIN_NOISE_KEPT: f64 = 0.5;

/// Variance inflation n / (n - p) for `p` parameters fitted to `n` periods,
/// at most `MAX_DOF_INFLATION` (when p is near n the residuals say little).
fn dof_inflation(n: usize, p: f64) -> f64 {
    let n = n as f64;
    if n <= 0.0 {
        return 1.0;
    }
    (n / (n - p).max(n / MAX_DOF_INFLATION)).max(1.0)
}

/// Undo the shrinking of in-sample residuals by the parameters fitted to
/// them. Least squares with p parameters leaves residuals whose variance
/// is (n - p) / n of the noise's; with two years of monthly data the
/// seasonal indices alone take 11 of 24 degrees of freedom, and the
/// forecast would be about a third too narrow. Two parts are corrected
/// separately:
/// (n is the company's periods for the common part, each territory's own,
/// `own_periods`, from its first sale, `super::start`, for the rest):
/// - the *common* part of the noise (company and region factors) was
///   absorbed by the groups' seasonal profiles and each level and trend:
///   its variance is inflated by n / (n - g - 2), g the territories' mean
///   `group_params` (two level and trend parameters, whatever the
///   territory's forms);
/// - a territory's *own* noise was absorbed by its seasonal indices and its
///   level and trend. Per season position the index is its own estimate
///   with weight w (its shrinkage weight) and the group's with weight
///   1 - w, of which the territory's share of the group's revenue is its
///   own data: the seasonal parameters it paid for are sum w + (group
///   parameters - sum w) x share, at most the season's `season_params`
///   (s - 1). `group_params` is each territory's group profile's (s - 1,
///   or 0 where neither its region nor the company has one: then its own
///   shrunk deviations are all it paid for). Its level and
///   trend count too, as the parameters its forms' one-step variance
///   divides by ([`level_parameters`]): the residual law is fitted over
///   n, the forms' variance, and so every calibration factor, over n
///   less those. The level's covariance, already on the forms' basis, is
///   scaled by the inflation less that part (`level_k`), and so is the
///   horizon total's missing variance ([`TotalPlan`]).
///
/// The own seasonal deviations are estimates too: their posterior variance
/// (w x v, on the log scale), for the part of the territory's revenue that
/// is not its group's profile (1 - share: a territory that is its whole
/// group has no deviations of its own, and its profile's error is drawn
/// per trial with the group's), is drawn once per trial and position by
/// the simulation (`TerritoryModel::season_sd`), renormalised over the
/// year, not added to every period's noise: over a year the deviations'
/// errors cancel, and as noise they had widened annual totals as much as
/// periods.
///
/// Each territory's residual law is widened by the square root of the
/// inflated total variance
/// ([`ResidualLaw::widened`](crate::model::ResidualLaw::widened): on the
/// log scale, mean kept; less where a level shift takes part of that
/// variance, [`TotalPlan`]), its level and slope covariance scaled by the
/// inflated noise variance, and the factor shares re-weighted to the
/// inflated parts. The
/// compound law is not widened (its deal counts and sizes carry their own
/// parameter draws) and reports a spread factor of 1.
pub(super) fn correct_for_fitted_parameters(
    fits: &mut [TerritoryFit],
    shocks: &mut ShockModel,
    n: usize,
    own_periods: &[usize],
    season_params: f64,
    group_params: &[f64],
    shares: &[f64],
) {
    let mean_group = group_params.iter().sum::<f64>() / group_params.len().max(1) as f64;
    let common_k = dof_inflation(n, mean_group + 2.0);
    let own_k: Vec<f64> = fits
        .iter()
        .zip(shares)
        .zip(own_periods)
        .zip(group_params)
        .map(|(((f, share), &own_n), &group)| {
            let level_params = level_parameters(f);
            let own = f.season_dof.min(season_params);
            let seasonal = own + (group - own).max(0.0) * share;
            dof_inflation(own_n, seasonal + level_params)
        })
        .collect();
    let fitted: Vec<usize> = (0..fits.len()).filter(|&i| !fits[i].empty).collect();
    if fitted.is_empty() {
        return;
    }
    let (c, r) = (shocks.company_share, shocks.region_share);
    let own_share = (1.0 - c - r).max(0.0);
    let mean_own_k = fitted.iter().map(|&i| own_k[i]).sum::<f64>() / fitted.len() as f64;
    let total = (c + r) * common_k + own_share * mean_own_k;
    if total > 0.0 {
        shocks.company_share = c * common_k / total;
        shocks.region_share = r * common_k / total;
    }
    for &i in &fitted {
        let f = &mut fits[i];
        let variance = (c + r) * common_k + own_share * own_k[i];
        let level_params = level_parameters(f);
        let n_f = own_periods[i] as f64;
        let k = f.calibration.unwrap_or(1.0);
        // Level and slope: the noise variance inflated, less the level
        // parameters the covariance already accounted for.
        let level_k = (variance * (n_f - level_params) / n_f).max(1.0);
        f.level = f.level.with_cov_scaled((level_k * k * k).max(1.0));
        for a in &mut f.alternatives {
            a.level = a.level.with_cov_scaled((level_k * k * k).max(1.0));
        }
        if f.compound.is_some() {
            f.diag.spread = 1.0;
            f.season_var = 0.0;
            if let Some(plan) = TotalPlan::new(f, 1.0, 1.0, 1.0) {
                add_level_shift(f, plan.needed(1.0));
            }
            continue;
        }
        // The own deviations' error is drawn once per trial, as the group
        // profile's is (`sim`): a period's variance gains it, a whole
        // year's total does not, since the deviations are renormalised
        // over the year (the estimated indices were renormalised too, so
        // the draw's own renormalisation leaves each position the error
        // it has). Its log variance, for the part of the revenue that is
        // not the group's profile.
        f.season_var = if f.season.len() > 1 {
            f.season_var * (1.0 - shares[i])
        } else {
            0.0
        };
        let spread = (variance.sqrt() * k).max(f.spread_floor);
        let mut law = f.residual.clone().widened(spread);
        let mut kept = 1.0;
        let basis = (n_f - level_params) / n_f;
        if let Some(plan) = TotalPlan::new(f, variance.sqrt(), spread, basis) {
            // The shift's variance is taken from the period's own noise, so
            // a period is as wide as its calibration found right: `spread`
            // stays the periods' widening (`fit.csv` `spread_factor`), of
            // which the noise keeps the share `noise_kept` (in `params`
            // where below 1). The share the narrowed law really keeps (its
            // zeros, credits and spikes are not narrowed), and none where
            // the cap on the level's uncertainty would not let the shift
            // give the periods back what they lose.
            let period_var = law.variance();
            let q = plan.kept_share(period_var);
            if q < 1.0 {
                let narrowed = f.residual.clone().widened(spread * q.sqrt());
                let reached = narrowed.variance() / period_var;
                if reached < 1.0 && shift_fits(f, plan.needed(reached)) {
                    law = narrowed;
                    kept = reached;
                }
            }
            add_level_shift(f, plan.needed(kept));
        }
        f.residual = law;
        f.diag.spread = spread;
        if kept < 1.0 {
            if let Some(p) = f.diag.params.as_object_mut() {
                p.insert("noise_kept".into(), json!(round6(kept)));
            }
        }
    }
}

/// Where the whole spans' totals missed more than their periods (errors
/// that persist: a level that is further off, or moves more, than the
/// model allows), the missing variance of the horizon total is one level
/// shift per trial, common to every period of the horizon and to every
/// averaged form alike (the level's relative variance at most
/// `MAX_LEVEL_REL_VAR`). Each side of the median has its own
/// (`TerritoryFit::total_sides`, from `skew`): the level's variance
/// below its estimate and above it (`LevelLaw::shift_var`), none on a
/// side whose factor the periods' widening already meets. The spans'
/// totals cannot tell a misplaced level from a wandering one. Of the two, the shift is the one that keeps the
/// year's median: given instead to the innovations' persistence (the
/// simulated alpha raised until they add it), each period's own surprise
/// moves the level for the rest of the horizon, and on a lumpy territory
/// (one big order, then empty months: relative noise of 100-170% a month)
/// the level becomes a mean-kept random walk whose median sinks by
/// alpha^2 sigma^2 / 2 a period; Superstore's states' year P50s fell to
/// under half their means. `dof` is the degrees-of-freedom widening,
/// `spread` the periods' total widening, and `basis` the share of the
/// widening that only brings the residual law to the forms' variance,
/// (n - level parameters) / n: the model's total variance is already on
/// that basis.
///
/// **The periods keep their calibrated width.** The periods' factor k
/// was measured on the same origins' period errors, level errors
/// included, so a shift added on top of each period's noise widens every
/// period past what its errors asked for (a stationary AR(1): periods
/// 0.89 inside their P10-P90). So the shift's variance comes out of the
/// period's own noise ([`TotalPlan::kept_share`]): the residual law, and
/// with it the innovations, keeps a share q of its variance (measured on
/// the narrowed law: its zeros, credits and spikes are not narrowed), and
/// each side's shift is what its target needs beyond the total's narrowed
/// innovations and its fixed part. Where the cap on the level's
/// uncertainty would hold the shift below what the periods lose, the
/// noise is not narrowed. Known approximations: a period's variance is
/// taken as its law's (the innovations' build-up over the horizon
/// narrows with q too, so a moving level's later periods narrow a
/// little), a growing form's shift is sized for its total (its early
/// periods gain more than they lose), and where one side needs no shift
/// the periods on that side stay narrowed.
struct TotalPlan {
    /// The total's relative variance each side's factor asks for.
    targets: [f64; 2],
    /// The widened model's total relative variance: the innovations'
    /// part, which narrows with the periods' noise, and the rest (the
    /// forms' spread of means, the states' estimation error).
    noise: f64,
    fixed: f64,
}

impl TotalPlan {
    /// The plan for `f`'s total, `None` without total factors or a
    /// total variance.
    fn new(f: &TerritoryFit, dof: f64, spread: f64, basis: f64) -> Option<TotalPlan> {
        let k_sides = f.total_sides?;
        let [a0, a1, a2] = f.total_rel_var;
        let r = f.persistence;
        let rel_var = a0 + r * (a1 + r * a2);
        if rel_var <= 0.0 {
            return None;
        }
        let scale = spread * spread * basis;
        let fixed = f.total_fixed_rel_var.clamp(0.0, rel_var);
        // The seasonal part of the widening (dof^2 x basis), only as far
        // as the total's factor does not already hold it
        // (`territory::seasonal_share_of_total`).
        let seasonal = (dof * dof * basis).max(0.0).powf(f.total_season_share);
        Some(TotalPlan {
            targets: k_sides.map(|k| k * k * rel_var * seasonal),
            noise: scale * (rel_var - fixed),
            fixed: scale * fixed,
        })
    }

    /// The share q of the periods' noise variance `period_var` that keeps
    /// a period's variance where it was once the shift is drawn, on
    /// average over the two sides: q v + s^2 = v and q N + F + s^2 = T
    /// (N, F the total's innovation and fixed parts, T the sides' mean
    /// target) give q = (v + F - T) / (v - N); at least `MIN_NOISE_KEPT`,
    /// 1 where no side needs a shift.
    fn kept_share(&self, period_var: f64) -> f64 {
        let model = self.noise + self.fixed;
        let mean_target = 0.5 * (self.targets[0] + self.targets[1]);
        if mean_target <= model || period_var <= self.noise {
            return 1.0;
        }
        ((period_var + self.fixed - mean_target) / (period_var - self.noise))
            .clamp(MIN_NOISE_KEPT, 1.0)
    }

    /// Each side's shift (the total's relative variance) once the noise
    /// keeps the share `kept` of its variance.
    fn needed(&self, kept: f64) -> [f64; 2] {
        self.targets
            .map(|t| (t - kept * self.noise - self.fixed).max(0.0))
    }
}

/// Whether the chosen form's level has room under `MAX_LEVEL_REL_VAR` for
/// the shifts `needed` on both sides.
fn shift_fits(f: &TerritoryFit, needed: [f64; 2]) -> bool {
    let room = level_room(&f.level);
    needed
        .iter()
        .all(|need| need * f.total_per_level * f.total_per_level <= room)
}

/// The relative variance a level's shift may still add on each side:
/// `MAX_LEVEL_REL_VAR` less its estimation variance.
fn level_room(law: &LevelLaw) -> f64 {
    (MAX_LEVEL_REL_VAR - law.cov[0][0] / (law.level * law.level)).max(0.0)
}

/// Add the level shifts `needed` (each side's relative variance of the
/// total) to every averaged form's level, sized by the form's total per
/// level and capped at `MAX_LEVEL_REL_VAR`.
fn add_level_shift(f: &mut TerritoryFit, needed: [f64; 2]) {
    if needed == [0.0, 0.0] {
        return;
    }
    let mut capped = false;
    let alternatives = f
        .alternatives
        .iter_mut()
        .map(|a| (&mut a.level, a.total_per_level));
    for (law, per_level) in std::iter::once((&mut f.level, f.total_per_level)).chain(alternatives) {
        // The total's relative variance, as the level's (a growing form's
        // total is more than its level held flat).
        let l2 = law.level * law.level;
        let room = level_room(law);
        for (shift, need) in law.shift_var.iter_mut().zip(needed) {
            let want = need * per_level * per_level;
            capped |= want > room;
            *shift += want.min(room) * l2;
        }
    }
    // Shown in `params`: the shift's relative standard deviation below and
    // above, and whether the cap on the level's uncertainty held it below
    // what the totals' errors asked for.
    if let Some(p) = f.diag.params.as_object_mut() {
        p.insert(
            "level_shift_sd".into(),
            json!(needed.map(|v| round6(v.sqrt()))),
        );
        if capped {
            p.insert("level_shift_capped".into(), json!(true));
        }
    }
}

/// Level and trend parameters counted by the degrees-of-freedom
/// correction: those the forms' one-step variance was divided for
/// (`ets::Form::variance_parameters`, weighted as the forms are averaged).
/// The residual law is fitted by maximum likelihood to the chosen form's
/// residual ratios, so its variance is near the squared errors over n,
/// while every predicted variance, and so every rolling-origin error the
/// calibration factors are measured from, is on the basis of the squared
/// errors over n less the form's parameters: the law is brought to that
/// basis before the factor applies. Until 2026-12-06 (session 14) a
/// territory with its own rolling-origin errors counted none (they were
/// taken to have measured the fitted parameters' cost out of sample; but
/// they measured it against the larger variance), and the others 1 for a
/// level and 2 for a trend: on 24 months without a seasonal profile the
/// simulated spread was 4% (a local level) to 11% (a damped trend)
/// narrower than the calibration had found right. A territory without a
/// fitted form (a net-credit one) counts 1.
fn level_parameters(f: &TerritoryFit) -> f64 {
    f.form_parameters.unwrap_or(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_of_freedom_inflation_is_n_over_n_minus_p_and_capped() {
        assert!((dof_inflation(24, 12.0) - 2.0).abs() < 1e-12);
        assert_eq!(dof_inflation(24, 0.0), 1.0);
        assert_eq!(dof_inflation(10, 12.0), MAX_DOF_INFLATION);
    }
}
