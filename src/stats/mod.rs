//! Shared statistics: special functions, maximum-likelihood fits of the
//! residual families, goodness of fit, least squares, a logarithm for the simulation kernel, Nelder–Mead and golden-section minimisation, quantiles, means and correlation, and the
//! simulation's standard-normal sampler. Pure functions of their inputs
//! (the sampler's input is the generator it is given); no I/O.

pub mod dist;
pub mod gof;
pub mod golden;
pub mod histogram;
pub mod ln;
pub mod nelder_mead;
pub mod normal;
pub mod ols;
pub mod quantile;
pub mod special;
