//! What cannot be fitted alone borrows from the others: the residual
//! spread of a territory with too few positive periods for a law of its
//! own (or with no sales at all) is the company's.

use super::{median, TerritoryFit};
use crate::model::{PositivePart, ResidualLaw};
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
