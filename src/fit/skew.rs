//! The horizon total's calibration side by side: where a history's whole
//! spans missed mostly one way (a market that kept growing past every
//! forecast), the P90 moves out and the P10 does not, instead of both by
//! the same factor ([`side_offsets`]). Conformal-style, each side from its
//! own errors (read on the log scale, `select::Miss::log_z`); the
//! asymmetry is shrunk toward the company's, and the company's toward
//! none, by how well the errors measure it. The simulation keeps the
//! level's median (`spread::TotalPlan`), and the year's median moves
//! toward the wider side as that side meets the other noise: that move,
//! not the tails' shape, is what the sides were measured to be worth
//! (README, The model, item 5).

use super::calibration::{
    calibration_factor, factor_of, own_weight, true_variance, weighted_quantile,
    MIN_CALIBRATION_ERRORS,
};

/// Sampling variance of a side's log offset ([`own_offsets`]) from m
/// independent standard normal errors, times m: 1.06-1.35 for 8 to 400
/// errors by simulation (20,000 draws each), taken as 1.2. Each side's
/// 90% quantile is known less well than the 80% quantile of |z|, and the
/// two are correlated, so their log ratio's variance is less than the
/// side's own (1.35-1.9).
const OFFSET_LOG_VARIANCE: f64 = 1.2;

/// A territory's whole spans' standardised errors on the log scale, one
/// per whole span, the latest first (`None`: no positive total to read),
/// and the independent spans they amount to.
pub(super) type SpanErrors<'a> = (&'a [Option<f64>], f64);

/// One side of the forecast's distribution: `Below` the median (the P10)
/// or `Above` it (the P90).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    Below,
    Above,
}

impl Side {
    const BOTH: [Side; 2] = [Side::Below, Side::Above];
}

/// One side's calibration factor of standardised errors `z` (signed): how
/// far that side's tenth of the errors reached, in the model's standard
/// deviations, over the normal's 1.2816; between 0.5 and 4 (a side no
/// error reached takes 0.5).
fn side_factor(z: &[f64], side: Side) -> Option<f64> {
    if z.len() < MIN_CALIBRATION_ERRORS {
        return None;
    }
    let sign = match side {
        Side::Below => -1.0,
        Side::Above => 1.0,
    };
    let signed = z.iter().map(|v| (sign * v, 1.0)).collect();
    weighted_quantile(signed, 0.9).map(factor_of)
}

/// The log offsets of each side's factor from the two-sided one
/// ([`calibration_factor`]) of errors `z`: `[below, above]`; `None` with
/// too few errors.
fn own_offsets(z: &[f64]) -> Option<[f64; 2]> {
    let stepped: Vec<(usize, f64)> = z.iter().map(|v| (0, *v)).collect();
    let both = calibration_factor(&stepped)?;
    let [below, above] = Side::BOTH.map(|side| side_factor(z, side));
    Some([(below? / both).ln(), (above? / both).ln()])
}

/// A single estimate `x` of sampling variance `se2` shrunk toward 0 by
/// empirical Bayes on itself: the true value's variance taken as x^2 less
/// se2 (at least 0), so x is kept in proportion 1 - se2 / x^2 (none of an
/// offset within one standard error of 0).
pub(super) fn shrink_toward_none(x: f64, se2: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    x * (1.0 - se2 / (x * x)).max(0.0)
}

/// The errors of a territory's spans that have one, and the independent
/// spans they amount to (its independent spans in proportion).
fn readable((z, m): SpanErrors) -> (Vec<f64>, f64) {
    let read: Vec<f64> = z.iter().flatten().copied().collect();
    let share = if z.is_empty() {
        0.0
    } else {
        read.len() as f64 / z.len() as f64
    };
    (read, m * share)
}

/// The independent spans the territories' pooled errors amount to: their
/// own independent spans (each territory's readable share, [`readable`])
/// summed, over the design effect 1 + (N - 1) rho of the N territories
/// with errors, whose errors at the same origin share a part rho
/// ([`common_share`]): where every territory missed the same way at the
/// same origin (a company-wide shock), the company has seen one event per
/// origin, not N.
fn effective_spans(members: &[SpanErrors]) -> f64 {
    let with_errors: Vec<&SpanErrors> = members
        .iter()
        .filter(|(z, _)| z.iter().any(Option::is_some))
        .collect();
    let total: f64 = with_errors.iter().map(|(_, m)| m).sum();
    let n = with_errors.len() as f64;
    if n <= 1.0 {
        return total;
    }
    let groups: Vec<&[Option<f64>]> = with_errors.iter().map(|(z, _)| *z).collect();
    total / (1.0 + (n - 1.0) * common_share(&groups))
}

/// The share of the territories' span errors common to an origin: the
/// intraclass correlation of the one-way random-effects analysis of
/// variance with the origins as groups (each territory's `j`th error is
/// its `j`th latest whole span, the same dates for every territory of
/// one history), between 0 and 1; 1 (all shared, the cautious reading)
/// where it cannot be told (fewer than two origins with errors, or no
/// within-origin spread). The spans overlap, so neighbouring origins'
/// means are alike and the between-origin variance, and so rho, reads
/// somewhat low.
pub(super) fn common_share(territories: &[&[Option<f64>]]) -> f64 {
    let origins = territories.iter().map(|z| z.len()).max().unwrap_or(0);
    let groups: Vec<Vec<f64>> = (0..origins)
        .map(|j| {
            territories
                .iter()
                .filter_map(|z| z.get(j).copied().flatten())
                .collect()
        })
        .filter(|g: &Vec<f64>| !g.is_empty())
        .collect();
    let count: usize = groups.iter().map(Vec::len).sum();
    let j = groups.len();
    if j < 2 || count <= j {
        return 1.0;
    }
    let n = count as f64;
    let grand = groups.iter().flatten().sum::<f64>() / n;
    let means: Vec<f64> = groups
        .iter()
        .map(|g| g.iter().sum::<f64>() / g.len() as f64)
        .collect();
    let between = groups
        .iter()
        .zip(&means)
        .map(|(g, m)| g.len() as f64 * (m - grand).powi(2))
        .sum::<f64>()
        / (j as f64 - 1.0);
    let within = groups
        .iter()
        .zip(&means)
        .map(|(g, m)| g.iter().map(|v| (v - m).powi(2)).sum::<f64>())
        .sum::<f64>()
        / (n - j as f64);
    let n0 =
        (n - groups.iter().map(|g| (g.len() as f64).powi(2)).sum::<f64>() / n) / (j as f64 - 1.0);
    let denominator = between + (n0 - 1.0) * within;
    if denominator <= 0.0 {
        return 1.0;
    }
    ((between - within) / denominator).clamp(0.0, 1.0)
}

/// The log offsets `[below, above]` of each territory's horizon-total
/// calibration on each side of its two-sided factor, from its whole
/// spans' standardised errors and the independent spans they amount to
/// (`None`: not evaluated; offsets 0):
/// - the company's offsets, from every evaluated territory's errors
///   pooled, are shrunk toward 0 ([`shrink_toward_none`], their sampling
///   variance `OFFSET_LOG_VARIANCE` over the spans pooled): a single
///   series, its own company, keeps an asymmetry only where its errors
///   show more of one than their noise;
/// - each territory's own offsets are shrunk toward the company's as the
///   two-sided factors are (weight tau^2 / (tau^2 + se^2), tau^2 the
///   variance of the territories' offsets less their noise,
///   `calibration::true_variance`), where at least three have their own;
///   with fewer, each takes the company's.
///
/// The factor of each side is the two-sided factor times exp(offset).
pub(super) fn side_offsets(spans: &[Option<SpanErrors>]) -> Vec<[f64; 2]> {
    // Each territory's readable errors and the independent spans they
    // amount to, read once.
    let read: Vec<Option<(Vec<f64>, f64)>> = spans.iter().map(|s| s.map(readable)).collect();
    let members: Vec<SpanErrors> = spans
        .iter()
        .zip(&read)
        .filter_map(|(s, r)| Some((s.as_ref()?.0, r.as_ref()?.1)))
        .collect();
    let pooled: Vec<f64> = read
        .iter()
        .flatten()
        .flat_map(|(z, _)| z.iter().copied())
        .collect();
    let pooled_spans = effective_spans(&members);
    let company = match own_offsets(&pooled) {
        Some(c) if pooled_spans > 0.0 => {
            c.map(|x| shrink_toward_none(x, OFFSET_LOG_VARIANCE / pooled_spans))
        }
        _ => [0.0, 0.0],
    };
    let owns: Vec<Option<([f64; 2], f64)>> = read
        .iter()
        .map(|r| {
            let (z, m) = r.as_ref()?;
            let offsets = own_offsets(z)?;
            (*m > 0.0).then(|| (offsets, OFFSET_LOG_VARIANCE / m))
        })
        .collect();
    // With too few territories to tell how their offsets differ, each
    // takes the company's.
    let tau2 = [0, 1].map(|side| {
        true_variance(owns.iter().flatten().map(|(o, se2)| (o[side], *se2))).unwrap_or(0.0)
    });
    // A territory without offsets of its own (too few spans, or not
    // evaluated: it takes the company's two-sided factor too) takes the
    // company's.
    owns.iter()
        .map(|own| match own {
            Some((o, se2)) => [0, 1].map(|side| {
                let w = own_weight(tau2[side], *se2);
                w * o[side] + (1.0 - w) * company[side]
            }),
            None => company,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(z: &[f64]) -> Vec<Option<f64>> {
        z.iter().map(|v| Some(*v)).collect()
    }

    #[test]
    fn each_side_reads_its_own_tenth_of_the_errors() {
        // Ten errors: the 90% quantile is the ninth from each end.
        let z = [-2.0, -1.0, -0.5, 0.0, 0.1, 0.2, 0.3, 0.5, 2.5631, 3.0];
        let above = side_factor(&z, Side::Above).unwrap();
        let below = side_factor(&z, Side::Below).unwrap();
        assert!((above - 2.0).abs() < 1e-4, "{above}");
        assert_eq!(below, factor_of(1.0));
        // Every error above the forecast: nothing reaches below.
        assert_eq!(side_factor(&[0.5; 10], Side::Below), Some(0.5));
        assert_eq!(side_factor(&z[..7], Side::Above), None);
    }

    #[test]
    fn an_offset_within_its_noise_is_dropped_and_a_larger_one_kept_in_part() {
        assert_eq!(shrink_toward_none(0.3, 0.1), 0.0);
        assert!((shrink_toward_none(1.0, 0.1) - 0.9).abs() < 1e-12);
        assert!((shrink_toward_none(-1.0, 0.1) + 0.9).abs() < 1e-12);
        assert_eq!(shrink_toward_none(0.0, 0.1), 0.0);
    }

    #[test]
    fn a_single_series_keeps_only_the_asymmetry_its_errors_show() {
        // Spans that all missed upward, amounting to 4 independent ones:
        // the below side's offset is large and negative and survives.
        let up = spans(&[0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 2.0, 2.4, 2.6]);
        let [below, above] = side_offsets(&[Some((&up, 4.0))])[0];
        assert!(below < -0.5, "{below}");
        assert!(above >= 0.0, "{above}");
        // Symmetric errors: no offset survives the shrinkage.
        let even = spans(&[-2.0, -1.2, -0.8, -0.4, -0.1, 0.1, 0.4, 0.8, 1.2, 2.0]);
        assert_eq!(side_offsets(&[Some((&even, 4.0))])[0], [0.0, 0.0]);
        // Not evaluated, beside it: the company's (its) offsets.
        let offsets = side_offsets(&[Some((&up, 4.0)), None]);
        assert_eq!(offsets[1], offsets[0]);
    }

    #[test]
    fn errors_shared_at_each_origin_count_as_one_territory() {
        // Four territories that missed alike at each of ten origins: the
        // company has seen ten spans' worth, not forty.
        let origin = [-1.5, -0.7, -0.2, 0.1, 0.4, 0.9, 1.3, -1.1, 0.6, 2.0];
        let alike = spans(&origin);
        let members = vec![(alike.as_slice(), 2.5); 4];
        assert_eq!(common_share(&[&alike, &alike, &alike, &alike]), 1.0);
        assert!((effective_spans(&members) - 2.5).abs() < 1e-12);
        // The same errors rotated across territories: nothing in common
        // at an origin, so all four count.
        let rotated: Vec<Vec<Option<f64>>> = (0..4)
            .map(|k| spans(&[&origin[k..], &origin[..k]].concat()))
            .collect();
        let groups: Vec<&[Option<f64>]> = rotated.iter().map(Vec::as_slice).collect();
        let rho = common_share(&groups);
        assert!(rho < 0.2, "{rho}");
        // A span with no error of its own keeps the others on their
        // origins, and its territory's spans count in proportion.
        let mut gap = alike.clone();
        gap[3] = None;
        assert_eq!(common_share(&[&alike, &gap, &alike]), 1.0);
        assert!((readable((&gap, 2.5)).1 - 2.25).abs() < 1e-12);
    }
}
