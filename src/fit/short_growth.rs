//! A short history's growth, for measuring its territories' own seasonal
//! deviations where under two seasons have a centred level
//! (`own_season::seasonal_deviations`): each territory's growth read
//! within its season's positions, so that a season is not read as growth
//! (`within_position_growth`), shrunk by empirical Bayes toward its
//! peers' (`short_history_growths`). README, The model item 1.

use super::own_season::MIN_WITHIN_DF;
use super::season::least_squares_line;
use super::Territories;

/// Floor on v + tau^2 when growth estimates are averaged by 1 / (v +
/// tau^2) (`short_history_growths`): noise-free series would otherwise
/// weigh infinitely.
const MIN_GROWTH_VARIANCE: f64 = 1e-12;
/// Fewest territories with a growth estimate for a region's own spread
/// of true growths (`region_spreads`), as for the calibration's.
const MIN_SPREAD_MEMBERS: usize = 3;
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
/// keeps its own; one with no estimate of its own takes its peers' (0
/// without either). Why shrunk: a noisy territory's slope over two years tilts
/// its season by its error (Superstore's states over three backtest
/// origins, each state's own slope unshrunk: 0.4889 -> 0.4899); why not
/// its region's alone: on Walmart's stores, which grow apart, the region
/// total's rate left their seasons tilted (three-origin weekly pinball
/// 0.3088, against 0.2930 shrunk toward it). Why the peers' own slopes
/// and not their total's: a territory is not its own evidence, and a peer
/// that opened or closed within the window moves a total, not its own
/// slope.
pub(super) fn short_history_growths(
    territories: &Territories,
    positions: &[usize],
    s: usize,
) -> Vec<f64> {
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
    // that weighting found (the most precise peers do not speak for the
    // others' growth), and the spread measured again on those means for
    // the shrinkage.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::quantile::mean;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
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
}
