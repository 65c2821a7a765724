//! Shared statistics: special functions, maximum-likelihood fits of the
//! residual families, goodness of fit, least squares and quantiles. Pure
//! functions of their inputs; no I/O, no randomness.

pub mod dist;
pub mod gof;
pub mod histogram;
pub mod ols;
pub mod quantile;
pub mod special;
