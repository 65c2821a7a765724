//! What cannot be fitted alone borrows from the others: the residual
//! spread of a territory with too few positive periods for a law of its
//! own (or with no sales at all) is the company's; a territory with no
//! sales in the fitted history takes its region's median level, and one
//! whose rows in the sales table all came to nothing is forecast at zero.

use super::params::{params_json, with_smoothing};
use super::{median, TerritoryFit};
use crate::calendar::PeriodKind;
use crate::model::{LevelLaw, PositivePart, ResidualLaw};
use crate::stats::dist::{Family, Fitted};
use crate::stats::quantile::mean;

/// A lognormal ratio law with mean 1 and log-scale spread `sdlog`.
pub(super) fn pooled_law(sdlog: f64) -> ResidualLaw {
    ResidualLaw::new(
        0.0,
        Vec::new(),
        PositivePart::Parametric(Fitted {
            family: Family::LogNormal,
            params: [-0.5 * sdlog * sdlog, sdlog],
        }),
    )
}

/// Median log-scale spread of the territories fitted on their own.
pub(super) fn pooled_sdlog(fits: &[TerritoryFit]) -> f64 {
    // Every fitted territory's spread as the log spread of a lognormal with
    // its law's mean and variance, whatever family it chose (only the
    // lognormal ones counted until 2026-12-06, and with none 0.5 was used);
    // not a closed territory's, whose zeros since are its closing.
    let mut v: Vec<f64> = fits
        .iter()
        .filter(|f| !f.needs_pooling && !f.empty && !f.closed)
        .filter_map(|f| {
            let (m, var) = (f.residual.mean(), f.residual.variance());
            (m > 0.0 && var.is_finite()).then(|| (1.0 + var / (m * m)).ln().sqrt())
        })
        .collect();
    median(&mut v)
        .or_else(|| sparse_sdlog(fits))
        .unwrap_or(0.5)
        .clamp(0.05, 2.0)
}

/// Where no territory has enough positive periods for its own law, the
/// spread of their log ratios pooled (each about its own mean: the
/// pooled variance, sum of squares over degrees of freedom); `None`
/// without two ratios in any. Five territories billing once a year had
/// taken the 0.5 of no evidence: a year of 12,000 at cv 0.1 was forecast
/// at P10 / P50 / P90 4.9k / 10.2k / 21.8k (session 18).
fn sparse_sdlog(fits: &[TerritoryFit]) -> Option<f64> {
    let (squares, dof) = fits
        .iter()
        .filter(|f| !f.empty && !f.closed)
        .filter_map(|f| f.sparse_squares)
        .fold((0.0, 0.0), |(s, d), (fs, fd)| (s + fs, d + fd));
    (dof > 0.0).then(|| (squares / dof).sqrt())
}

/// The log sum of squares of positive `x` about its mean and its degrees
/// of freedom (n - 1); `None` under two values. Equal values give 0: an
/// exactly regular history's spread, not the 0.5 of no evidence.
pub(super) fn log_squares(x: &[f64]) -> Option<(f64, f64)> {
    if x.len() < 2 {
        return None;
    }
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let m = mean(&logs);
    Some((
        logs.iter().map(|l| (l - m).powi(2)).sum(),
        (x.len() - 1) as f64,
    ))
}

/// What the company's fitted territories lend the others.
pub(super) struct Pool {
    /// The residual spread ([`pooled_sdlog`]).
    pub sdlog: f64,
    /// Each region's median level, or the company's where the region has
    /// no fitted territory ([`region_levels`]).
    pub region_levels: Vec<f64>,
}

impl Pool {
    /// Territory `f` (named `name`, in region `region` of seasonal
    /// `profile`) given what it cannot fit alone: a zero forecast where
    /// its rows in the sales table all came to nothing (`rows_periods`:
    /// the periods since its first row, `None` if it has none in the
    /// fitted history), the region's level where it has no sales, the
    /// pooled spread where its positive periods are too few. The warning
    /// that says so.
    pub fn territory(
        &self,
        f: &mut TerritoryFit,
        name: &str,
        region: usize,
        profile: &[f64],
        rows_periods: Option<usize>,
        kind: PeriodKind,
    ) -> Option<String> {
        if let (true, Some(periods)) = (f.empty, rows_periods) {
            // Rows in the sales table that all came to nothing: a
            // territory that sold nothing over them, not a new one.
            f.level = LevelLaw::fixed(0.0);
            f.residual = pooled_law(self.sdlog);
            f.diag.model = "none (no sales)".into();
            f.diag.params = params_json(&f.residual);
            Some(format!(
                "territory '{name}' sold nothing in the {} since its first row in the sales table: forecast at zero (a territory named only in the accounts or reps table is new, and gets its region's median level)",
                kind.count(periods)
            ))
        } else if f.empty {
            let level = self.region_levels[region];
            f.level = LevelLaw {
                cov: [[(0.5 * level).powi(2), 0.0], [0.0, 0.0]],
                ..LevelLaw::fixed(level)
            };
            f.season = profile.to_vec();
            f.residual = pooled_law(self.sdlog);
            f.diag.model = "lognormal".into();
            f.diag.pooled = true;
            f.diag.params = params_json(&f.residual);
            Some(format!(
                "territory '{name}' has no sales in the fitted history: pooled model at the region's (or, with none fitted there, the company's) median level ({level:.0}) with 50% level uncertainty"
            ))
        } else if f.needs_pooling {
            let p0 = f.residual.p0;
            let nonpositive = f.residual.nonpositive.clone();
            let (p_spike, spikes) = (f.residual.p_spike, f.residual.spikes.clone());
            let zero_rate = f.residual.zero_rate;
            f.residual = ResidualLaw::new(p0, nonpositive, pooled_law(self.sdlog).positive)
                .with_spikes(p_spike, spikes)
                .with_zero_rate(zero_rate);
            f.diag.model = "lognormal".into();
            f.diag.pooled = true;
            f.diag.params = with_smoothing(params_json(&f.residual), &f.level);
            Some(format!(
                "territory '{name}' has only {} with positive revenue: its residual spread is pooled",
                crate::format::count(f.n_positive, "period", "periods")
            ))
        } else {
            None
        }
    }
}

/// Each of `n_regions` regions' median level over its territories with
/// sales, the company's where it has none (0 where no territory has any).
pub(super) fn region_levels(
    fits: &[TerritoryFit],
    region_index: &[usize],
    n_regions: usize,
) -> Vec<f64> {
    let level_median = |region: Option<usize>| {
        let mut v: Vec<f64> = fits
            .iter()
            .zip(region_index)
            .filter(|(f, &ri)| region.is_none_or(|r| ri == r) && !f.empty)
            .map(|(f, _)| f.level.level)
            .collect();
        median(&mut v)
    };
    let company_level = level_median(None).unwrap_or(0.0);
    (0..n_regions)
        .map(|r| level_median(Some(r)).unwrap_or(company_level))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::territory::fit_at_level;
    use super::*;

    #[test]
    fn a_region_without_a_fitted_territory_borrows_the_companys_median_level() {
        // Region 0: levels 100 and 300 (median 200); region 1: 50; region
        // 2: only a territory without sales, so the company's median of
        // 50, 100 and 300.
        let mut empty = fit_at_level(0.0);
        empty.empty = true;
        let fits = vec![
            fit_at_level(100.0),
            fit_at_level(300.0),
            fit_at_level(50.0),
            empty,
        ];
        assert_eq!(
            region_levels(&fits, &[0, 0, 1, 2], 3),
            vec![200.0, 50.0, 100.0]
        );
    }

    #[test]
    fn each_kind_of_unfitted_territory_gets_what_it_lacks_and_says_so() {
        let pool = Pool {
            sdlog: 0.3,
            region_levels: vec![200.0, 50.0],
        };
        let profile = vec![0.5, 1.5];
        // Rows in the sales table that came to nothing: a zero forecast.
        let mut nothing = fit_at_level(0.0);
        nothing.empty = true;
        let note = pool.territory(&mut nothing, "T", 1, &profile, Some(5), PeriodKind::Month);
        assert_eq!(nothing.level.level, 0.0);
        assert_eq!(nothing.diag.model, "none (no sales)");
        assert!(note.is_some_and(|n| n.contains("sold nothing in the 5 months")));
        // No sales at all: its region's median level, half of it as the
        // level's standard deviation, and its region's season.
        let mut new = fit_at_level(0.0);
        new.empty = true;
        let note = pool.territory(&mut new, "N", 1, &profile, None, PeriodKind::Month);
        assert_eq!(new.level.level, 50.0);
        assert!((new.level.cov[0][0] - 25.0 * 25.0).abs() < 1e-9);
        assert_eq!(new.season, profile);
        assert!(new.diag.pooled);
        assert!(note.is_some_and(|n| n.contains("median level (50)")));
        // Too few positive periods: the pooled spread, its zeros kept.
        let mut sparse = fit_at_level(80.0);
        sparse.needs_pooling = true;
        sparse.residual = ResidualLaw::new(0.25, vec![0.0], pooled_law(1.5).positive);
        sparse.n_positive = 3;
        let note = pool.territory(&mut sparse, "S", 0, &profile, None, PeriodKind::Month);
        assert_eq!(sparse.level.level, 80.0);
        assert_eq!(sparse.residual.p0, 0.25);
        let sd = |law: &ResidualLaw| match &law.positive {
            PositivePart::Parametric(f) => f.params[1],
            PositivePart::Empirical { .. } => f64::NAN,
        };
        assert_eq!(sd(&sparse.residual), 0.3);
        assert!(note.is_some_and(|n| n.contains("only 3 periods with positive revenue")));
        // A territory fitted on its own: untouched, no warning.
        let mut fitted = fit_at_level(80.0);
        fitted.needs_pooling = false;
        fitted.residual = pooled_law(0.7);
        assert!(pool
            .territory(&mut fitted, "F", 0, &profile, None, PeriodKind::Month)
            .is_none());
        assert_eq!(sd(&fitted.residual), 0.7);
    }
}
