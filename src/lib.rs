//! `salesplan`: a planning engine for sales organisations.
//!
//! One pipeline, one direction:
//! `load -> fit -> sim -> rebalance -> quota -> comp -> report`, each stage
//! taking the previous stage's output type plus its own part of the
//! scenario. Only `load` touches polars; `fit`, `sim`, `rebalance`, `quota`
//! and `comp` do no I/O.

pub mod app;
pub mod backtest;
pub mod cadence;
pub mod calendar;
pub mod capacity;
pub mod comp;
pub mod compare;
pub mod error;
pub mod ets;
pub mod export;
pub mod fit;
pub mod format;
pub mod generate;
pub mod hiring;
pub mod history;
pub mod horizon;
pub mod load;
pub mod model;
pub mod output;
pub mod paths;
pub mod pipeline;
pub mod plot;
pub mod quota;
pub mod quota_backtest;
pub mod rebalance;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod scorecard;
pub mod sim;
pub mod stats;
pub mod whatif;

pub use error::{Error, Result};
