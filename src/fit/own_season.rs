//! A territory's own season: its deviations from its region's profile
//! (or from none, where seasons repeat without a group profile:
//! `own_seasons_repeat`), shrunk toward it by empirical Bayes with one
//! spread for all territories (`seasonal_spread`), README The model item 1.

use super::profiles::GroupProfiles;
use super::season::{age_weight, centred_level, least_squares_line};
use super::Territories;
use crate::stats::quantile::{correlation, mean};
use crate::stats::special::norm_ppf;

/// Fewest repeated-position degrees of freedom for the within-position
/// noise variance of seasonal deviations; also the prior degrees of
/// freedom a short history's growth variance is moderated with
/// (`WithinGrowth::variance`).
const MIN_WITHIN_DF: usize = 6;
/// Floor on v + tau^2 when growth estimates are averaged by 1 / (v +
/// tau^2) (`short_history_growths`): noise-free series would otherwise
/// weigh infinitely.
const MIN_GROWTH_VARIANCE: f64 = 1e-12;
/// Fewest territories with a growth estimate for a region's own spread
/// of true growths (`region_spreads`), as for the calibration's.
const MIN_SPREAD_MEMBERS: usize = 3;
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
    // through its mean, at `growth` per period (`short_history_growths`).
    // Against the plain mean, 24 months growing 10% a year had put the
    // growth into every territory's season (December 10% above January)
    // and out of its level: the year's median ran 4-6% low.
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

/// A series' growth per period (in log) within its season positions
/// (`within_position_growth`).
#[derive(Debug, Clone, Copy)]
struct WithinGrowth {
    slope: f64,
    /// The residuals' sum of squares and their degrees of freedom.
    rss: f64,
    df: usize,
    /// The times' sum of squares about their positions' means: the
    /// slope's variance is the noise variance over it.
    sxx: f64,
}

impl WithinGrowth {
    /// The slope's sampling variance with the noise variance moderated
    /// toward `pooled` (the company's, per degree of freedom), which
    /// counts as `MIN_WITHIN_DF` degrees of freedom beside the
    /// territory's own (Smyth 2004): a variance from a few degrees of
    /// freedom is near 0 too often, and would keep a noisy slope whole
    /// (14 months leave one).
    fn variance(&self, pooled: f64) -> f64 {
        let prior = MIN_WITHIN_DF as f64;
        (self.rss + prior * pooled) / (self.df as f64 + prior) / self.sxx
    }
}

/// The growth per period (in log) that the positive values of `a` show
/// within their season positions: the slope of the least-squares
/// regression of log a on time with a constant per position (each
/// position's values measured from their own means, so a season is not
/// read as growth; `positions` below `s`). `None` where the positions seen
/// twice leave no degree of freedom for the noise.
fn within_position_growth(a: &[f64], positions: &[usize], s: usize) -> Option<WithinGrowth> {
    let mut by_position: Vec<Vec<(f64, f64)>> = vec![Vec::new(); s];
    for (t, (&v, &m)) in a.iter().zip(positions).enumerate() {
        if v > 0.0 && v.is_finite() {
            by_position[m].push((t as f64, v.ln()));
        }
    }
    let (mut sxy, mut sxx, mut syy, mut points, mut groups) = (0.0, 0.0, 0.0, 0, 0);
    for p in by_position.iter().filter(|p| p.len() >= 2) {
        let (mean_x, mean_y, _) = least_squares_line(p);
        for &(x, y) in p {
            sxy += (x - mean_x) * (y - mean_y);
            sxx += (x - mean_x) * (x - mean_x);
            syy += (y - mean_y) * (y - mean_y);
        }
        points += p.len();
        groups += 1;
    }
    let df = points.checked_sub(groups + 1).filter(|&df| df > 0)?;
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some(WithinGrowth {
        slope,
        rss: (syy - slope * sxy).max(0.0),
        df,
        sxx,
    })
}

/// Each territory's growth per period for measuring its seasonal
/// deviations where its history is too short for a centred level
/// (`seasonal_deviations`): its own within-position growth
/// (`within_position_growth`, its variance moderated toward the
/// company's noise), shrunk by empirical Bayes toward its peers' (the
/// other territories of its region with an estimate, of the company where
/// its region has none; a random-effects mean, each weighted by 1 / (v +
/// tau^2), tau^2 the spread of the region's true growths:
/// `region_spreads`): `shrunk_toward_groups`. A territory with no peer
/// keeps its
/// own; one with no estimate of its own takes its peers' (0 without
/// either). Why shrunk: a noisy territory's slope over two years tilts
/// its season by its error (Superstore's states over three backtest
/// origins, each state's own slope unshrunk: 0.4889 -> 0.4899); why not
/// its region's alone: on Walmart's stores, which grow apart, the region
/// total's rate left their seasons tilted (three-origin weekly pinball
/// 0.3088, against 0.2930 shrunk toward it). Why the peers' own slopes
/// and not their total's: a territory is not its own evidence, and a peer
/// that opened or closed within the window moves a total, not its own
/// slope.
fn short_history_growths(territories: &Territories, positions: &[usize], s: usize) -> Vec<f64> {
    let Territories {
        series,
        region_index,
        starts,
        ..
    } = *territories;
    let fitted: Vec<Option<WithinGrowth>> = series
        .iter()
        .zip(starts)
        .map(|(y, &t0)| within_position_growth(&y[t0..], &positions[t0..], s))
        .collect();
    // The noise variance per degree of freedom, pooled over the company.
    let (rss, df) = fitted
        .iter()
        .flatten()
        .fold((0.0, 0usize), |(r, d), g| (r + g.rss, d + g.df));
    let pooled = if df > 0 { rss / df as f64 } else { 0.0 };
    let own: Vec<Option<(f64, f64)>> = fitted
        .iter()
        .map(|g| g.map(|g| (g.slope, g.variance(pooled))))
        .collect();
    // Each region's territories with an estimate, and the company's.
    let regions = region_index.iter().max().map_or(0, |r| r + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); regions];
    for (i, e) in own.iter().enumerate() {
        if e.is_some() {
            members[region_index[i]].push(i);
        }
    }
    let company: Vec<usize> = members.iter().flatten().copied().collect();
    // The mean of the estimates of the territories in `peers` other than
    // `i`, each weighted by 1 / (v + tau2), with its variance.
    let peers_mean = |i: usize, tau2: f64, peers: &[usize]| -> Option<(f64, f64)> {
        let (mut sum_w, mut sum_wb) = (0.0, 0.0);
        for &j in peers.iter().filter(|&&j| j != i) {
            if let Some((b, v)) = own[j] {
                let w = 1.0 / (v + tau2).max(MIN_GROWTH_VARIANCE);
                sum_w += w;
                sum_wb += w * b;
            }
        }
        (sum_w > 0.0).then(|| (sum_wb / sum_w, 1.0 / sum_w))
    };
    // Each territory's difference from its peers, their estimates
    // weighed with its region's spread `tau2[r]`.
    let differences_at = |tau2: &[f64]| -> Vec<PeerDifference> {
        (0..series.len())
            .map(|i| {
                let tau2 = tau2[region_index[i]];
                // The company's others only where the region has no other
                // estimate (a rare case: the loop over them is the
                // company's length).
                let group = peers_mean(i, tau2, &members[region_index[i]])
                    .or_else(|| peers_mean(i, tau2, &company));
                match (group, own[i]) {
                    (Some((g, vg)), Some((b, v))) => (g, Some((b - g, v, vg))),
                    (Some((g, _)), None) => (g, None),
                    (None, Some((b, _))) => (b, None),
                    (None, None) => (0.0, None),
                }
            })
            .collect()
    };
    // One step of the random-effects iteration: the peers weighed first
    // by their precision alone, then with the spread of the true growths
    // that found (the most precise peers do not speak for the others'
    // growth), and the spread measured again on those means for the
    // shrinkage.
    let spreads = |d: &[PeerDifference]| region_spreads(d, region_index, regions);
    let differences = differences_at(&spreads(&differences_at(&vec![0.0; regions])));
    let tau2 = spreads(&differences);
    let by_territory: Vec<f64> = region_index.iter().map(|&r| tau2[r]).collect();
    shrunk_toward_groups(&differences, &by_territory)
}

/// Each region's spread of its territories' true differences from their
/// peers (`spread_of_differences` over its members), where at least
/// `MIN_SPREAD_MEMBERS` of them have an estimate, the company's
/// elsewhere: a region whose territories grow alike pools them, whatever
/// another region's do.
fn region_spreads(
    differences: &[PeerDifference],
    region_index: &[usize],
    regions: usize,
) -> Vec<f64> {
    let company = spread_of_differences(differences);
    (0..regions)
        .map(|r| {
            let members: Vec<PeerDifference> = differences
                .iter()
                .zip(region_index)
                .filter(|(_, &ri)| ri == r)
                .map(|(d, _)| *d)
                .collect();
            if members.iter().filter(|d| d.1.is_some()).count() >= MIN_SPREAD_MEMBERS {
                spread_of_differences(&members)
            } else {
                company
            }
        })
        .collect()
}

/// A territory's group value and, where it has one of its own, its
/// difference d from it with the sampling variances of its own estimate
/// and of the group's.
type PeerDifference = (f64, Option<(f64, f64, f64)>);

/// The spread tau^2 of the territories' true differences from their
/// groups: mean(d^2 - v_own - v_group) over the `differences` with one,
/// at least 0.
fn spread_of_differences(differences: &[PeerDifference]) -> f64 {
    let own: Vec<(f64, f64, f64)> = differences.iter().filter_map(|e| e.1).collect();
    if own.is_empty() {
        return 0.0;
    }
    let sum: f64 = own.iter().map(|(d, v, vg)| d * d - v - vg).sum();
    (sum / own.len() as f64).max(0.0)
}

/// Empirical-Bayes estimates from the territories' `differences` and
/// each one's spread `tau2` of the true differences: each
/// keeps (tau^2 + v_group) / (tau^2 + v_group + v_own) of its difference
/// from its group (the group's own uncertainty widening the prior, tau^2
/// the spread of the true differences: `spread_of_differences`); all of
/// it where its own estimate and the group are exact and tau^2 is 0,
/// none where it has no estimate of its own.
fn shrunk_toward_groups(differences: &[PeerDifference], tau2: &[f64]) -> Vec<f64> {
    differences
        .iter()
        .zip(tau2)
        .map(|(&(group, own), &tau2)| match own {
            Some((d, v, vg)) if tau2 + vg + v > 0.0 => group + (tau2 + vg) / (tau2 + vg + v) * d,
            Some((d, _, _)) => group + d,
            None => group,
        })
        .collect()
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
    let growths = short_history_growths(territories, positions, s);
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
    fn growth_is_read_within_the_seasons_positions() {
        // 20 months of 1% growth a month under a season that rises through
        // the year (0.7 in January to 1.3 in December), no noise: the slope
        // is the growth alone (over all 20 months the season's rise reads
        // as growth too), its residuals none, on 16 points less 8
        // positions and the slope. Twelve months see no position twice and
        // give none.
        let places: Vec<usize> = (0..20).map(|t| t % 12).collect();
        let y: Vec<f64> = (0..20)
            .map(|t| 1000.0 * 1.01f64.powi(t) * (0.7 + 0.6 * (t % 12) as f64 / 11.0))
            .collect();
        let g = within_position_growth(&y, &places, 12).unwrap();
        assert!((g.slope - 1.01f64.ln()).abs() < 1e-12, "slope {}", g.slope);
        assert!(g.rss < 1e-20 && g.df == 7, "{g:?}");
        // Moderated toward a pooled noise variance as if with six degrees
        // of freedom of its own: 6 / 13 of it, over the times' squares.
        assert!((g.variance(1e-3) - 6.0 / 13.0 * 1e-3 / g.sxx).abs() < 1e-15);
        let points: Vec<(f64, f64)> = y
            .iter()
            .enumerate()
            .map(|(t, v)| (t as f64, v.ln()))
            .collect();
        // (0.018 a month over all 20)
        assert!(least_squares_line(&points).2 > 0.015);
        assert!(within_position_growth(&y[..12], &places[..12], 12).is_none());
    }

    #[test]
    fn a_short_historys_growth_is_its_own_shrunk_toward_its_peers() {
        // 24 months under one season, noise-free: three territories of
        // region 0 growing 1% a month, one alone in region 1 growing 3%,
        // one of region 0 growing 2% that opened at month 6 and one
        // growing 5% that opened at month 13 (no position seen twice: no
        // estimate of its own). The three keep 1% (their estimates are
        // exact, v = 0, whatever their peers'); the lone one has no peer
        // in its region, is measured against the company's and, its own
        // estimate exact, keeps its 3%; so does the one that opened at month 6, measured
        // over its own 18 months; the last takes its peers' mean (their
        // true growths differ, so each peer counts alike).
        let season = |t: usize| 1.0 + 0.3 * (t % 12) as f64 / 11.0;
        let grow = |rate: f64, from: usize| -> Vec<f64> {
            (0..24)
                .map(|t| {
                    if t < from {
                        0.0
                    } else {
                        1000.0 * rate.powi(t as i32) * season(t)
                    }
                })
                .collect()
        };
        let series = [
            grow(1.01, 0),
            grow(1.01, 0),
            grow(1.01, 0),
            grow(1.03, 0),
            grow(1.02, 6),
            grow(1.05, 13),
        ];
        let views: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
        let territories = Territories {
            sold: &views,
            series: &views,
            stepped: &[false; 6],
            starts: &[0, 0, 0, 0, 6, 13],
            ends: &[24; 6],
            region_index: &[0, 0, 0, 1, 0, 0],
        };
        let positions: Vec<usize> = (0..24).map(|t| t % 12).collect();
        let got = short_history_growths(&territories, &positions, 12);
        let peers = (3.0 * 1.01f64.ln() + 1.02f64.ln()) / 4.0;
        let want = [1.01f64, 1.01, 1.01, 1.03, 1.02].map(f64::ln);
        let want = [want[0], want[1], want[2], want[3], want[4], peers];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?} against {want:?}");
        }
    }

    #[test]
    fn noisy_growths_are_pooled_where_alike_and_kept_apart_where_not() {
        // 24 months under one season, 8% noise. Region 0: 20 territories
        // all growing 1% a month, whose own slopes scatter by their noise
        // alone (standard error about 0.0027): shrunk, they scatter less
        // than half as much, around 1%. Region 1: ten flat and ten
        // growing 3% a month, a true difference of 0.030 far beyond the
        // noise: shrunk, they stay at least 0.025 apart.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(36);
        let noise = Normal::new(0.0, 0.08).unwrap();
        let mut series = Vec::new();
        let rates: Vec<f64> = (0..40)
            .map(|i| match i {
                0..20 => 1.01,
                20..30 => 1.0,
                _ => 1.03,
            })
            .collect();
        for &rate in &rates {
            series.push(
                (0..24)
                    .map(|t| {
                        let season = 1.0 + 0.3 * (t % 12) as f64 / 11.0;
                        1000.0 * f64::powi(rate, t) * season * f64::exp(noise.sample(&mut rng))
                    })
                    .collect::<Vec<f64>>(),
            );
        }
        let views: Vec<&[f64]> = series.iter().map(Vec::as_slice).collect();
        let regions: Vec<usize> = (0..40).map(|i| usize::from(i >= 20)).collect();
        let territories = Territories {
            sold: &views,
            series: &views,
            stepped: &[false; 40],
            starts: &[0; 40],
            ends: &[24; 40],
            region_index: &regions,
        };
        let positions: Vec<usize> = (0..24).map(|t| t % 12).collect();
        let got = short_history_growths(&territories, &positions, 12);
        let own: Vec<f64> = views
            .iter()
            .map(|y| within_position_growth(y, &positions, 12).unwrap().slope)
            .collect();
        let sd = |v: &[f64]| {
            let m = mean(v);
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
        };
        assert!(
            sd(&got[..20]) < 0.5 * sd(&own[..20]),
            "alike: shrunk sd {} against own {}",
            sd(&got[..20]),
            sd(&own[..20])
        );
        assert!((mean(&got[..20]) - 1.01f64.ln()).abs() < 0.002);
        let apart = mean(&got[30..]) - mean(&got[20..30]);
        assert!(apart > 0.025, "apart by {apart}");
    }

    #[test]
    fn territories_growth_is_shrunk_toward_their_groups_by_how_far_they_truly_differ() {
        // Differences no larger than their noise (d^2 - v averages below
        // zero), groups known exactly: every territory takes its group's
        // growth.
        let alike = [
            (0.01, Some((0.002, 1e-5, 0.0))),
            (0.01, Some((-0.003, 1e-5, 0.0))),
            (0.02, None),
        ];
        assert_eq!(
            shrunk_toward_groups(&alike, &[spread_of_differences(&alike); 3]),
            vec![0.01, 0.01, 0.02]
        );
        // Differences far beyond their noise (tau^2 = mean(d^2 - v), about
        // 2e-4): each keeps tau^2 / (tau^2 + v) of its own, the noisier
        // less; a territory without its own estimate takes its group's.
        let apart = [
            (0.01, Some((0.02, 1e-6, 0.0))),
            (0.01, Some((-0.01, 1e-4, 0.0))),
            (0.0, None),
        ];
        let tau2 = ((0.02f64.powi(2) - 1e-6) + (0.01f64.powi(2) - 1e-4)) / 2.0;
        let got = shrunk_toward_groups(&apart, &[spread_of_differences(&apart); 3]);
        let want = [
            0.01 + tau2 / (tau2 + 1e-6) * 0.02,
            0.01 - tau2 / (tau2 + 1e-4) * 0.01,
            0.0,
        ];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-15, "{got:?} against {want:?}");
        }
        assert!(got[0] > 0.0295 && got[1] > 0.003);
        // A group mean as uncertain as the territory's own estimate (and no
        // spread between the territories): half of the difference kept.
        let uncertain = [
            (0.01, Some((0.004, 1e-5, 1e-5))),
            (0.01, Some((0.0, 1e-5, 1e-5))),
        ];
        let got = shrunk_toward_groups(&uncertain, &[spread_of_differences(&uncertain); 2]);
        assert!((got[0] - 0.012).abs() < 1e-15 && got[1] == 0.01, "{got:?}");
    }

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
