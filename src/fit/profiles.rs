//! The seasonal profiles of the company's total and of each region's
//! (`season::group_profile`), each region's own where its total supports
//! one and the company's where not, with their estimation errors and the
//! group shocks left out of them (The model item 1 in the README).

use super::season::{group_profile, seasonal_discount, GroupProfile, OUTLIER_Z};
use super::{sum_series, Territories};
use crate::model::SeasonError;
use crate::stats::quantile::mean;

/// The company's and the regions' totals and seasonal profiles.
pub(super) struct GroupProfiles {
    /// The company's total per period.
    pub company_total: Vec<f64>,
    /// The company's profile (`None`: its total supports none).
    pub company_fit: Option<GroupProfile>,
    /// Each region's total per period.
    pub region_totals: Vec<Vec<f64>>,
    /// How much each earlier year's seasonal pattern counts, as the
    /// history's own year-ahead predictions of it chose.
    pub discount: f64,
    /// One warning per group whose shocks were left out of its profile.
    pub shock_warnings: Vec<String>,
    /// Each region's shock periods: its own profile's, else the company's.
    pub region_shocks: Vec<Vec<usize>>,
    /// The seasonal parameters of each region's profile, its own or the
    /// company's (0: none).
    pub region_profile_params: Vec<usize>,
    /// Each region's seasonal indices (flat where neither it nor the
    /// company has a profile).
    pub region_profiles: Vec<Vec<f64>>,
    /// Each region's profile's estimation error, drawn in the simulation.
    pub season_errors: Vec<Option<SeasonError>>,
}

impl GroupProfiles {
    /// The profiles of the territories' `series` (each in region
    /// `region_index[i]` of `regions`), over periods at year `positions` of
    /// `s`; `date_of(t)` names period t in the warnings.
    pub fn of(
        series: &[&[f64]],
        region_index: &[usize],
        regions: &[String],
        positions: &[usize],
        s: usize,
        date_of: &dyn Fn(usize) -> String,
    ) -> Self {
        let n_fit = positions.len();
        let company_total = sum_series(series.iter().copied(), n_fit);
        // How much each earlier year's seasonal pattern counts, as the
        // history's own year-ahead predictions of it chose.
        let discount = seasonal_discount(series, positions, s);
        let company_fit = group_profile(&company_total, positions, s, discount);
        let region_totals: Vec<Vec<f64>> = (0..regions.len())
            .map(|r| {
                sum_series(
                    series
                        .iter()
                        .zip(region_index)
                        .filter(|(_, &ri)| ri == r)
                        .map(|(x, _)| *x),
                    n_fit,
                )
            })
            .collect();
        // Each region's profile and its estimation error (the company's where
        // the region's own total shows no seasonality the criterion supports).
        let region_fits: Vec<Option<GroupProfile>> = region_totals
            .iter()
            .map(|total| group_profile(total, positions, s, discount))
            .collect();
        // The shocks left out of the profiles, named (the regions' beside the
        // company's).
        let mut shock_warnings: Vec<String> = Vec::new();
        let company_shocks = company_fit.as_ref().map_or(&[][..], |g| &g.extremes[..]);
        let groups = std::iter::once(("the company's".to_string(), company_shocks)).chain(
            regions.iter().zip(&region_fits).filter_map(|(name, g)| {
                let e = &g.as_ref()?.extremes;
                (e.iter().any(|t| !company_shocks.contains(t)))
                    .then(|| (format!("region '{name}''s"), &e[..]))
            }),
        );
        for (group, shocks) in groups.filter(|(_, e)| !e.is_empty()) {
            let dates: Vec<String> = shocks.iter().map(|&t| date_of(t)).collect();
            shock_warnings.push(format!(
                "{group} total in {} was far from its usual (over {OUTLIER_Z} robust standard deviations from the median of the year around it), so taken as a shock, not the season: left out of its seasonal profile and read at that median when its territories' forecasts are scored (its risk stays in their residual laws)",
                dates.join(", ")
            ));
        }
        let region_shocks: Vec<Vec<usize>> = region_fits
            .iter()
            .map(|g| match (g, &company_fit) {
                (Some(g), _) => g.extremes.clone(),
                (None, Some(c)) => c.extremes.clone(),
                (None, None) => Vec::new(),
            })
            .collect();
        // The seasonal parameters of each region's profile, its own or the
        // company's (0: none).
        let region_profile_params: Vec<usize> = region_fits
            .iter()
            .map(|g| g.as_ref().or(company_fit.as_ref()).map_or(0, |g| g.params))
            .collect();
        let (region_profiles, season_errors): (Vec<Vec<f64>>, Vec<Option<SeasonError>>) =
            region_fits
                .into_iter()
                .zip(regions)
                .map(|(fitted, name)| match (fitted, &company_fit) {
                    (Some(g), _) => {
                        let e = g.error(&format!("region:{name}"));
                        (g.index, e)
                    }
                    (None, Some(c)) => (c.index.clone(), c.error("company")),
                    (None, None) => (vec![1.0; s], None),
                })
                .unzip();
        Self {
            company_total,
            company_fit,
            region_totals,
            discount,
            shock_warnings,
            region_shocks,
            region_profile_params,
            region_profiles,
            season_errors,
        }
    }
}

impl GroupProfiles {
    /// Each territory's share of its region over its own periods (from
    /// its first sale or restart), as sold.
    pub fn territory_shares(&self, territories: &Territories) -> Vec<f64> {
        territories
            .sold
            .iter()
            .zip(territories.region_index)
            .zip(territories.starts)
            .map(|((y, &r), &t0)| {
                let group = mean(&self.region_totals[r][t0..]);
                if group > 0.0 {
                    (mean(&y[t0..]) / group).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Each territory's group profile's parameters: its region's (or the
    /// company's, which a region without its own takes), none where
    /// neither has one.
    pub fn territory_profile_params(&self, region_index: &[usize]) -> Vec<f64> {
        region_index
            .iter()
            .map(|&r| self.region_profile_params[r] as f64)
            .collect()
    }
}
