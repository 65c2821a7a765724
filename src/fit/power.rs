//! How a period's relative spread changes with its expected amount: the
//! company's variance power.
//!
//! A residual law fitted over the whole history has the history's average
//! relative spread. Where revenue is a count of deals, a period that
//! expects more deals is relatively less lumpy (a Poisson count's relative
//! variance is 1 / its rate): a territory growing 30% a year sells its plan
//! year with less relative noise than its history's average, and a law
//! that keeps the average makes the year's interval about twice the true
//! process's. A Tweedie-like variance power says so: the relative standard
//! deviation of a period is proportional to (expected amount)^k, k = 0
//! for multiplicative noise (the law as fitted), -1/2 for a Poisson count.
//!
//! k is the company's, estimated from every territory with a residual law
//! of its own, within territories (so that small territories being lumpier
//! than large ones says nothing, only how each territory's spread moved
//! with its own expected amount): the pooled least-squares slope of the log
//! squared deviation of each positive period's log ratio (from the
//! territory's mean) on its log expected amount (from the territory's mean),
//! which is 2k. Kept only where it is negative by more than
//! `MIN_T` standard errors, and held within [-1/2, 0]: a spread that grows
//! with the amount, or that a history cannot tell from flat, leaves the
//! laws as fitted. Each territory's law then carries k and its reference
//! amount, the geometric mean of its expected amounts over the periods its
//! law was fitted on (where its average spread applies).

use serde_json::json;

use super::params::round6;
use super::TerritoryFit;
use crate::model::VariancePower;

/// The slope must be this many standard errors below zero.
const MIN_T: f64 = 3.0;
/// Fewest positive periods for a territory to count.
const MIN_PERIODS: usize = 12;
/// Fewest territories counting.
const MIN_TERRITORIES: usize = 3;
/// The spread of the log expected amounts (pooled, within territories)
/// below which the slope is not estimated: amounts that barely move say
/// nothing about how the spread follows them.
const MIN_LOG_SPREAD: f64 = 0.1;
/// The weakest power in the law's range: a Poisson count's.
const K_MIN: f64 = -0.5;

/// One territory's positive periods: their ratios to the expected amount,
/// the expected amounts and the periods' places in the history.
pub(super) struct Periods {
    pub ratios: Vec<f64>,
    pub amounts: Vec<f64>,
    pub times: Vec<usize>,
}

impl Periods {
    /// The periods of `actual` against `expected` whose both are positive.
    pub fn of(actual: &[f64], expected: &[f64]) -> Self {
        let mut p = Self {
            ratios: Vec::new(),
            amounts: Vec::new(),
            times: Vec::new(),
        };
        for (t, (&a, &e)) in actual.iter().zip(expected).enumerate() {
            if a > 0.0 && e > 0.0 && a.is_finite() && e.is_finite() {
                p.ratios.push(a / e);
                p.amounts.push(e);
                p.times.push(t);
            }
        }
        p
    }

    /// The geometric mean of the expected amounts.
    pub fn reference(&self) -> f64 {
        let n = self.amounts.len().max(1) as f64;
        (self.amounts.iter().map(|a| a.ln()).sum::<f64>() / n).exp()
    }
}

/// The company's exponent k (see the module's header) from its
/// territories' periods; `None` where the evidence does not hold it below
/// zero. The slope's standard error is clustered by period (White's
/// sandwich summed over each period's territories): a company-wide change
/// in spread over time, which the territories' shared growth would
/// otherwise read as a power, counts as one observation a period, not
/// one a territory.
pub(super) fn company_exponent(territories: &[&Periods]) -> Option<f64> {
    // Each point: (period, centred log amount, centred log squared deviation).
    let mut points: Vec<(usize, f64, f64)> = Vec::new();
    let mut groups = 0usize;
    for p in territories.iter().copied() {
        if p.ratios.len() < MIN_PERIODS {
            continue;
        }
        let logs: Vec<f64> = p.ratios.iter().map(|r| r.ln()).collect();
        let m = logs.iter().sum::<f64>() / logs.len() as f64;
        let own: Vec<(usize, f64, f64)> = logs
            .iter()
            .zip(&p.amounts)
            .zip(&p.times)
            .map(|((l, a), &t)| (t, a.ln(), (l - m) * (l - m)))
            .filter(|&(_, _, d2)| d2 > 1e-12)
            .map(|(t, la, d2)| (t, la, d2.ln()))
            .collect();
        if own.len() < MIN_PERIODS {
            continue;
        }
        let n = own.len() as f64;
        let mx = own.iter().map(|p| p.1).sum::<f64>() / n;
        let my = own.iter().map(|p| p.2).sum::<f64>() / n;
        points.extend(own.iter().map(|&(t, x, y)| (t, x - mx, y - my)));
        groups += 1;
    }
    let count = points.len();
    if groups < MIN_TERRITORIES || count <= groups + 1 {
        return None;
    }
    let sxx: f64 = points.iter().map(|p| p.1 * p.1).sum();
    if (sxx / count as f64).sqrt() < MIN_LOG_SPREAD {
        return None;
    }
    let slope = points.iter().map(|p| p.1 * p.2).sum::<f64>() / sxx;
    // Clustered by period: sum over periods of (sum x e)^2.
    let periods = points.iter().map(|p| p.0).max().map_or(0, |t| t + 1);
    let mut score = vec![0.0; periods];
    for &(t, x, y) in &points {
        score[t] += x * (y - slope * x);
    }
    let clusters = score.iter().filter(|v| **v != 0.0).count();
    if clusters < MIN_PERIODS {
        return None;
    }
    let se = (score.iter().map(|v| v * v).sum::<f64>()).sqrt() / sxx;
    (slope < -MIN_T * se).then(|| (0.5 * slope).max(K_MIN))
}

/// The power a territory's law carries: the company's exponent at the
/// territory's reference amount in the simulation's units (its expected
/// amounts over `law_mean`, the law's mean: the simulation's amount is
/// the one the law's ratio multiplies).
pub(super) fn for_territory(k: f64, periods: &Periods, law_mean: f64) -> Option<VariancePower> {
    (periods.ratios.len() >= MIN_PERIODS && law_mean > 0.0).then(|| VariancePower {
        exponent: k,
        reference: periods.reference() / law_mean,
    })
}

/// The company's variance power ([`company_exponent`]), estimated from the territories
/// with a residual law of their own (no compound law, no pooled spread,
/// no spikes) and carried by every law it suits ([`crate::model::ResidualLaw::with_power`]),
/// each at its own reference amount; its exponent, or `None`.
pub(super) fn apply_variance_power(fits: &mut [TerritoryFit]) -> Option<f64> {
    let counts = |f: &TerritoryFit| {
        !f.empty
            && !f.closed
            && !f.needs_pooling
            && f.compound.is_none()
            && f.residual.spikes.is_empty()
    };
    let periods: Vec<Option<Periods>> = fits
        .iter()
        .map(|f| counts(f).then(|| Periods::of(&f.diag.actual, &f.diag.fitted)))
        .collect();
    let evidence: Vec<&Periods> = periods.iter().flatten().collect();
    let k = company_exponent(&evidence)?;
    for (f, p) in fits.iter_mut().zip(&periods) {
        let Some(p) = p else { continue };
        let law_mean = f.residual.mean();
        f.residual = f.residual.clone().with_power(for_territory(k, p, law_mean));
        if let (Some(vp), serde_json::Value::Object(map)) = (f.residual.power, &mut f.diag.params) {
            map.insert("variance_power".into(), json!(round6(vp.exponent)));
            map.insert("power_reference".into(), json!(round6(vp.reference)));
        }
    }
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Gamma};

    /// Territories whose amounts grow 4x over 48 periods, with a relative
    /// spread proportional to amount^k (gamma noise).
    fn panel(k: f64, seed: u64) -> Vec<Periods> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..20)
            .map(|i| {
                let base = 1_000.0 * (1.0 + i as f64);
                let amounts: Vec<f64> =
                    (0..48).map(|t| base * 4f64.powf(t as f64 / 47.0)).collect();
                let ratios = amounts
                    .iter()
                    .map(|a| {
                        let cv = 0.5 * (a / base).powf(k);
                        let shape = 1.0 / (cv * cv);
                        Gamma::new(shape, 1.0 / shape).unwrap().sample(&mut rng)
                    })
                    .collect();
                Periods {
                    ratios,
                    amounts,
                    times: (0..48).collect(),
                }
            })
            .collect()
    }

    fn refs(p: &[Periods]) -> Vec<&Periods> {
        p.iter().collect()
    }

    #[test]
    fn a_spread_that_falls_with_the_amount_is_measured_and_a_flat_one_is_not() {
        let poisson = company_exponent(&refs(&panel(-0.5, 1))).expect("a power");
        assert!((poisson + 0.5).abs() < 0.12, "k {poisson}");
        let half = company_exponent(&refs(&panel(-0.25, 2))).expect("a power");
        assert!((half + 0.25).abs() < 0.12, "k {half}");
        assert_eq!(company_exponent(&refs(&panel(0.0, 3))), None);
        // Growing spreads are left as fitted.
        assert_eq!(company_exponent(&refs(&panel(0.3, 4))), None);
    }

    #[test]
    fn amounts_that_do_not_move_say_nothing() {
        let mut flat = panel(-0.5, 5);
        for p in &mut flat {
            let a = p.amounts[0];
            p.amounts.iter_mut().for_each(|v| *v = a);
        }
        assert_eq!(company_exponent(&refs(&flat)), None);
    }
}
