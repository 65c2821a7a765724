//! Each region's growth path (the group-share form's, `ets::growth`): its
//! like-for-like deseasonalised total as it stood at every rolling origin
//! of its territories and at the end, so that the form is scored at an
//! origin only on what was known then.

use rayon::prelude::*;

use super::profiles::GroupProfiles;
use super::{start, sum_series, Territories};
use crate::ets::growth::group_growth_paths;
use crate::ets::{origins, Growth};

/// Each region's growth paths, one per history length (every origin of
/// every distinct start, and the whole history), from its total in
/// `groups` deseasonalised by its profile (periods at year `positions` of
/// `s`), forecast `horizon` ahead.
pub(super) fn region_growth(
    territories: &Territories,
    groups: &GroupProfiles,
    positions: &[usize],
    horizon: usize,
    s: usize,
) -> Vec<Vec<(usize, Growth)>> {
    let Territories {
        series,
        stepped,
        starts,
        ends,
        region_index,
        ..
    } = *territories;
    let (region_totals, region_profiles) = (&groups.region_totals, &groups.region_profiles);
    let n_fit = positions.len();
    // (A territory that started later has its own origins, at the same
    // periods of the calendar when its history leaves the same step.)
    let mut distinct_starts = starts.to_vec();
    distinct_starts.sort_unstable();
    distinct_starts.dedup();
    let mut lengths: Vec<usize> = distinct_starts
        .iter()
        .flat_map(|&start| {
            let origins = origins::Origins::of(n_fit - start, horizon.max(1), s);
            origins
                .recent
                .into_iter()
                .chain(origins.whole)
                .map(move |o| o + start)
        })
        .chain([n_fit])
        .collect();
    // The two sets of origins overlap: each growth path is estimated once.
    lengths.sort_unstable();
    lengths.dedup();
    // The regions' growth paths follow the territories they had in both
    // periods (an opening or a closing is not the region's growth: `start`).
    let like_for_like: Vec<Vec<f64>> = (0..region_totals.len())
        .map(|r| {
            let members: Vec<(&[f64], usize, usize)> = (0..series.len())
                .filter(|&i| region_index[i] == r)
                .map(|i| (series[i], starts[i], ends[i]))
                .collect();
            // Over the stepped series: one territory's step is not its
            // region's growth (the review of session 31: a territory that
            // tripled lifted its peers' P90 by a fifth).
            let stepped_member = (0..series.len()).any(|i| region_index[i] == r && stepped[i]);
            if stepped_member {
                let total = sum_series(members.iter().map(|m| m.0), n_fit);
                start::like_for_like_total(&members, &total)
            } else {
                start::like_for_like_total(&members, &region_totals[r])
            }
        })
        .collect();
    like_for_like
        .par_iter()
        .zip(region_profiles)
        .map(|(total, profile)| {
            let a: Vec<f64> = total
                .iter()
                .zip(positions)
                .map(|(v, &m)| v / profile[m])
                .collect();
            group_growth_paths(&a, &lengths, horizon.max(1), s)
        })
        .collect()
}
