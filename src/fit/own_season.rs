//! A territory's own season: its deviations from its region's profile
//! (or from none, where seasons repeat without a group profile:
//! `own_seasons_repeat`), shrunk toward it by empirical Bayes with one
//! spread for all territories (`seasonal_spread`), README The model item 1.

use super::profiles::GroupProfiles;
use super::season::{age_weight, centred_level, least_squares_line};
use super::short_growth;
use super::Territories;
use crate::stats::quantile::{correlation, mean};
use crate::stats::special::norm_ppf;

/// Fewest repeated-position degrees of freedom for the within-position
/// noise variance of seasonal deviations; also the prior degrees of
/// freedom a short history's growth variance is moderated with
/// (`short_growth`).
pub(super) const MIN_WITHIN_DF: usize = 6;
/// Significance at which territories' own seasons are taken where their
/// group has none (`own_seasons_repeat`).
const OWN_SEASON_LEVEL: f64 = 0.01;
/// Fewest positive values a block needs for its shape
/// (`season_repeatability`).
const MIN_YEAR_POINTS: usize = 4;
/// Correlations are clamped to this before their Fisher z (a shape
/// repeated exactly would have an infinite one).
const MAX_CORRELATION: f64 = 0.999_999;

/// Empirical-Bayes spread tau^2 of territories' true seasonal deviations
/// from their region's profile: mean(d^2 - v) over every territory and
/// position with data (positions without data are left out, not counted
/// as infinitely uncertain). One spread serves all positions: a spread per
/// position (shrunk toward this one) was tried and did not forecast better
/// on the real datasets (Walmart weekly pinball 0.370 -> 0.365, Walmart
/// monthly 0.307 -> 0.317).
pub(super) fn seasonal_spread(deviations: &[Vec<(f64, f64)>]) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for &(dev, v) in deviations.iter().flatten() {
        if v.is_finite() {
            sum += dev * dev - v;
            count += 1;
        }
    }
    if count == 0 {
        0.0
    } else {
        (sum / count as f64).max(0.0)
    }
}

/// How alike a series' seasonal shapes are in alternate years, as a
/// score that is about standard normal where it has no season: the
/// Fisher z of the correlation between its even and its odd years' mean
/// shapes over the k places in the year seen in both, times sqrt(k - 4).
/// The series is `y` over `peers` where a peer total is given (the same
/// periods of the territory's region, or company, less the territory: a
/// shock common to all cancels, and so does a season they share, so
/// that what is left is the territory's own) and `y` itself otherwise.
/// It is cut into blocks of `s` periods from its first; in each, the logs
/// of the positive values less their least-squares line over the block
/// (a trend or a wandering level is not a season) are the year's shape,
/// filed by each period's place in the year (`positions`, so that a
/// 53-week year does not shift the later blocks). Blocks share no
/// periods, so without a season the two means are independent: in numpy
/// the score's mean was within 0.02 of 0 with sd 0.98-1.01 on white,
/// lumpy and trending noise; on smooth noise (an AR(1) of 0.8, a random
/// walk with little noise) its mean was 0.03-0.09 and its sd 1.3, which
/// [`own_seasons_repeat`] allows for. A ±5% season under 8% noise over
/// 36 months scores about 0.57. `None` under two blocks or five places,
/// or where a block has under four positive values.
pub(super) fn season_repeatability(
    y: &[f64],
    peers: Option<&[f64]>,
    positions: &[usize],
    s: usize,
) -> Option<f64> {
    if s < 5 || y.len() < 2 * s {
        return None;
    }
    let value = |t: usize| match peers {
        Some(p) if p[t] > 0.0 => (y[t] > 0.0).then(|| (y[t] / p[t]).ln()),
        Some(_) => None,
        None => (y[t] > 0.0).then(|| y[t].ln()),
    };
    // Per place in the year, (sum of the shapes, count) over the even and
    // over the odd blocks.
    let mut halves = vec![[(0.0, 0usize); 2]; s];
    for block in 0..y.len() / s {
        let points: Vec<(f64, f64)> = (block * s..(block + 1) * s)
            .filter_map(|t| Some((t as f64, value(t)?)))
            .collect();
        if points.len() < MIN_YEAR_POINTS {
            continue;
        }
        let (mean_x, mean_y, slope) = least_squares_line(&points);
        for &(t, l) in &points {
            let half = &mut halves[positions[t as usize] % s][block % 2];
            half.0 += l - mean_y - slope * (t - mean_x);
            half.1 += 1;
        }
    }
    let (even, odd): (Vec<f64>, Vec<f64>) = halves
        .iter()
        .filter(|h| h[0].1 > 0 && h[1].1 > 0)
        .map(|h| (h[0].0 / h[0].1 as f64, h[1].0 / h[1].1 as f64))
        .unzip();
    let k = even.len();
    (k >= 5).then(|| {
        let r = correlation(&even, &odd).clamp(-MAX_CORRELATION, MAX_CORRELATION);
        r.atanh() * ((k - 4) as f64).sqrt()
    })
}

/// Whether territories have seasons of their own where their company
/// has no profile: their repeatability scores against their peers
/// ([`season_repeatability`]) have a self-normalised sum, sum z / sqrt(sum
/// z^2), beyond the standard normal's 1 - `OWN_SEASON_LEVEL` quantile
/// (a sum that does not assume the scores' variance is 1; it needs six
/// territories at least to pass), or the company total's own score
/// (`company`, no peers) is beyond it: a season the company shares that
/// its criterion could not confirm (two years are too few for BIC on
/// eleven dummies), which its territories' shapes then carry. Where the
/// company's total has a profile, its criterion has found a season and
/// the deviations are departures from it; where it has none, that is
/// evidence against seasonality, and a season must show that it repeats
/// from year to year, as the group's had to pass BIC. Not a test of the
/// deviations' size against their sampling variance (Cochran's Q): that
/// variance is a delta-method guess, and on lumpy deals (Q 1.6 times its
/// degrees of freedom) and wandering levels (1.3) it found seasons in
/// noise; nor a correlation of ratios to the centred moving average,
/// whose windows share a period across years (a bias of 0.03-0.06 a
/// territory, which a sum over 200 territories made 0.4-0.9).
pub(super) fn own_seasons_repeat(scores: &[f64], company: Option<f64>) -> bool {
    let threshold = norm_ppf(1.0 - OWN_SEASON_LEVEL);
    let squares: f64 = scores.iter().map(|z| z * z).sum();
    let territories = squares > 0.0 && scores.iter().sum::<f64>() / squares.sqrt() > threshold;
    territories || company.is_some_and(|z| z > threshold)
}

/// Log deviations of a territory's seasonal ratios from its region's
/// profile and their sampling variances, per season position (empty
/// positions are left out); each year's ratios weigh `discount` times the
/// next year's. A flat profile (no group season: territories whose
/// seasons cancel in their total) still gets them, so that a territory's
/// own season is shrunk toward none rather than dropped (where
/// [`own_seasons_repeat`] finds seasons). Under three seasons the ratios
/// are to the series' trend line at `growth` per period (in log) through
/// its mean.
pub(super) fn seasonal_deviations(
    y: &[f64],
    positions: &[usize],
    profile: &[f64],
    discount: f64,
    growth: f64,
) -> Vec<(f64, f64)> {
    let s = profile.len();
    if y.len() < s {
        return Vec::new();
    }
    let a: Vec<f64> = y
        .iter()
        .zip(positions)
        .map(|(v, &m)| v / profile[m])
        .collect();
    if mean(&a) <= 0.0 {
        return Vec::new();
    }
    // Each period against the local level (a centred moving average over a
    // year), not the overall mean: a trend or a level shift would otherwise
    // read as seasonality (with 2% growth a year, December looks 2% above
    // January).
    let local = centred_level(&a, s);
    // Where under two seasons have a centred level (histories under three
    // seasons), each period counts against the series' trend line instead,
    // through its mean, at `growth` per period
    // (`short_growth::short_history_growths`). Against the plain mean,
    // 24 months growing 10% a year had put the growth into every
    // territory's season (December 10% above January) and out of its
    // level: the year's median ran about 4% low (7% at 20% a year).
    let any_local = local.iter().filter(|l| l.is_some()).count() >= 2 * s;
    let n = a.len();
    let trend_line: Vec<f64> = if any_local {
        Vec::new()
    } else {
        let centre = (n as f64 - 1.0) / 2.0;
        let detrended: Vec<f64> = (0..n)
            .map(|t| (-growth * (t as f64 - centre)).exp())
            .collect();
        let level = mean(
            &a.iter()
                .zip(&detrended)
                .map(|(v, d)| v * d)
                .collect::<Vec<_>>(),
        );
        if level <= 0.0 {
            return Vec::new();
        }
        detrended.iter().map(|d| level / d).collect()
    };
    let (mut r, mut kept_positions, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    for (t, ((v, l), &m)) in a.iter().zip(&local).zip(positions).enumerate() {
        let ratio = match l {
            Some(l) if any_local && *l > 0.0 => v / l,
            _ if any_local => continue,
            _ => v / trend_line[t],
        };
        r.push(ratio);
        kept_positions.push(m);
        weights.push(age_weight(discount, n, t, s));
    }
    let positions = &kept_positions;
    // Noise variance (relative to the level) for the deviations' sampling
    // variance: within season positions where a position was seen more
    // than once (the spread around all periods' mean would count the
    // territory's own seasonal deviations, the signal, as noise).
    let (mut within, mut df) = (0.0, 0usize);
    for m in 0..s {
        let vals: Vec<f64> = r
            .iter()
            .zip(positions)
            .filter(|(_, &p)| p == m)
            .map(|(v, _)| *v)
            .collect();
        if vals.len() >= 2 {
            let mu = mean(&vals);
            within += vals.iter().map(|v| (v - mu).powi(2)).sum::<f64>();
            df += vals.len() - 1;
        }
    }
    let cv2 = if df >= MIN_WITHIN_DF {
        within / df as f64
    } else {
        r.iter().map(|v| (v - 1.0).powi(2)).sum::<f64>() / (r.len().max(2) - 1) as f64
    };
    let mut out = Vec::with_capacity(s);
    for m in 0..s {
        let (mut sum, mut sum_w, mut sum_w2) = (0.0, 0.0, 0.0);
        for ((v, &p), w) in r.iter().zip(positions).zip(&weights) {
            if p == m {
                sum += w * v;
                sum_w += w;
                sum_w2 += w * w;
            }
        }
        if sum_w <= 0.0 {
            out.push((0.0, f64::INFINITY));
            continue;
        }
        let ratio = sum / sum_w;
        if ratio <= 0.0 {
            out.push((0.0, f64::INFINITY));
            continue;
        }
        // Delta method: var(log ratio) ~ cv^2 / effective count, the
        // effective count of weighted ratios being (sum w)^2 / sum w^2.
        out.push((ratio.ln(), (cv2 * sum_w2 / (sum_w * sum_w)).max(1e-12)));
    }
    out
}

/// Each territory's seasonal deviations from its region's profile in
/// `groups` (its periods at year `positions` of `s`), and their
/// empirical-Bayes spread tau^2.
pub(super) fn deviations(
    territories: &Territories,
    groups: &GroupProfiles,
    positions: &[usize],
    s: usize,
) -> (Vec<Vec<(f64, f64)>>, f64) {
    let Territories {
        sold,
        series,
        region_index,
        starts,
        ..
    } = *territories;
    // Empirical-Bayes spread of territory seasonal deviations from their
    // region's profile (flat where neither the region nor the company has
    // one). Where the company has no profile, only if seasons repeat from
    // year to year, the territories' against their peers' or the
    // company's own (seasons that cancel in the total, or that two years
    // could not confirm, are shrunk, not dropped).
    let growths = short_growth::short_history_growths(territories, positions, s);
    let deviations: Vec<Vec<(f64, f64)>> = series
        .iter()
        .zip(region_index)
        .zip(starts)
        .zip(growths)
        .map(|(((y, &r), &t0), growth)| {
            seasonal_deviations(
                &y[t0..],
                &positions[t0..],
                &groups.region_profiles[r],
                groups.discount,
                growth,
            )
        })
        .collect();
    let own_seasons = || {
        let scores: Vec<f64> = sold
            .iter()
            .zip(region_index)
            .zip(starts)
            .filter_map(|((y, &r), &t0)| {
                let peers = peer_total(y, &groups.region_totals[r], &groups.company_total, t0);
                season_repeatability(&y[t0..], Some(&peers), &positions[t0..], s)
            })
            .collect();
        let company = season_repeatability(&groups.company_total, None, positions, s);
        own_seasons_repeat(&scores, company)
    };
    // A month-of-quarter profile (under a year and two of history) gives
    // the territories no deviations of their own.
    let whole_year_profile = groups
        .company_fit
        .as_ref()
        .is_some_and(|g| g.params + 1 == s);
    let tau2 = if whole_year_profile || own_seasons() {
        seasonal_spread(&deviations)
    } else {
        0.0
    };
    (deviations, tau2)
}

/// The periods of a territory's peers from `t0` on: its region's total
/// less its own, or the company's less its own where it is alone in its
/// region (for [`season_repeatability`]).
fn peer_total(y: &[f64], region: &[f64], company: &[f64], t0: usize) -> Vec<f64> {
    let others = |total: &[f64]| -> Vec<f64> {
        total[t0..]
            .iter()
            .zip(&y[t0..])
            .map(|(g, v)| g - v)
            .collect()
    };
    let region_peers = others(region);
    if region_peers.iter().any(|&v| v > 0.0) {
        region_peers
    } else {
        others(company)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal, Poisson};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn seasons_that_repeat_are_told_from_noise_trends_and_lumps_that_do_not() {
        // 60 territories of 36 months each, peaks spread over the year (a
        // ±5% season under 8% noise), against 60 of noise of three kinds
        // with no season: growing or shrinking up to 20% a year, a level
        // wandering 3% a month, and lumpy deals (0.5-2 a month, sizes
        // lognormal with log sd 0.8, some months empty). Only the first
        // are taken as seasons of their own: the repeatability scores
        // under no season are about standard normal (their self-normalised
        // sum over 60 stays under 2.33 but for about 1% of draws), and a
        // ±5% season gives about 0.57 a territory (a sum near 4).
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2106);
        let noise = Normal::new(0.0, 0.08).unwrap();
        let places: Vec<usize> = (0..36).map(|t| t % 12).collect();
        let seasonal: Vec<f64> = (0..60)
            .filter_map(|i| {
                let phase = std::f64::consts::TAU * i as f64 / 60.0;
                let y: Vec<f64> = (0..36)
                    .map(|t| {
                        let season =
                            1.0 + 0.05 * (std::f64::consts::TAU * t as f64 / 12.0 + phase).sin();
                        1000.0 * season * (1.0 + noise.sample(&mut rng))
                    })
                    .collect();
                season_repeatability(&y, None, &places, 12)
            })
            .collect();
        assert!(own_seasons_repeat(&seasonal, None), "{seasonal:?}");
        let none: Vec<f64> = (0..60)
            .filter_map(|i| {
                let mut level = 1000.0;
                let y: Vec<f64> = (0..36)
                    .map(|t| match i % 3 {
                        0 => {
                            let growth = 0.2 * (i as f64 / 30.0 - 1.0);
                            1000.0
                                * (1.0 + growth).powf(t as f64 / 12.0)
                                * (1.0 + noise.sample(&mut rng))
                        }
                        1 => {
                            level *= 1.0 + 0.375 * noise.sample(&mut rng);
                            level * (1.0 + noise.sample(&mut rng))
                        }
                        _ => {
                            let deals = Poisson::new(0.5 + 1.5 * (i as f64 / 60.0))
                                .unwrap()
                                .sample(&mut rng) as usize;
                            (0..deals)
                                .map(|_| 1000.0 * (10.0 * noise.sample(&mut rng)).exp())
                                .sum()
                        }
                    })
                    .collect();
                season_repeatability(&y, None, &places, 12)
            })
            .collect();
        assert!(none.len() >= 50, "{} territories scored", none.len());
        assert!(!own_seasons_repeat(&none, None), "{none:?}");
    }

    #[test]
    fn a_position_without_data_does_not_cancel_the_seasonal_spread() {
        // Deviations 0.2 and -0.2 with sampling variance 0.01: tau^2 = 0.03.
        let full = vec![(0.2, 0.01), (-0.2, 0.01)];
        let with_gap = vec![(0.2, 0.01), (0.0, f64::INFINITY), (-0.2, 0.01)];
        assert!((seasonal_spread(std::slice::from_ref(&full)) - 0.03).abs() < 1e-12);
        assert!((seasonal_spread(&[full, with_gap]) - 0.03).abs() < 1e-12);
    }

    #[test]
    fn a_weekly_season_keeps_its_places_through_a_53_week_year() {
        // Four years of weeks from ISO week 1, the second with a week 53
        // (filed at place 51, as `Calendar::season_of` files it), under a
        // season with one sharp peak at week 47 and 5% noise. Blocks of 52
        // periods drift one week after the long year, but each value is
        // filed by its place, so the even and odd years' shapes still
        // line up: a large score (13.5 here). Filed by the index inside the
        // block, the later blocks' peak lands a place early and the score
        // falls (10.9).
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2108);
        let noise = Normal::new(0.0, 0.05).unwrap();
        let mut places = Vec::new();
        for year in 0..4 {
            let weeks = if year == 1 { 53 } else { 52 };
            places.extend((0..weeks).map(|w: usize| w.min(51)));
        }
        let y: Vec<f64> = places
            .iter()
            .map(|&p| {
                let peak = if p == 46 { 3.0 } else { 1.0 };
                1000.0 * peak * (1.0 + noise.sample(&mut rng))
            })
            .collect();
        let filed = season_repeatability(&y, None, &places, 52).unwrap();
        let by_index: Vec<usize> = (0..y.len()).map(|t| t % 52).collect();
        let shifted = season_repeatability(&y, None, &by_index, 52).unwrap();
        assert!(
            filed > 5.0 && filed > shifted + 2.0,
            "filed {filed:.2}, by index {shifted:.2}"
        );
    }
}
