//! `fit.csv`'s `params`: a territory's residual law and smoothing weights
//! as JSON, rounded to six significant digits.

use serde_json::json;

use crate::model::{LevelLaw, PositivePart, ResidualLaw};

/// `params` with the state's smoothing weights added (`alpha`, `beta`,
/// `phi`).
pub(super) fn with_smoothing(mut params: serde_json::Value, level: &LevelLaw) -> serde_json::Value {
    if let Some(map) = params.as_object_mut() {
        let s = level.smoothing;
        map.insert("alpha".into(), json!(round6(s.alpha)));
        map.insert("beta".into(), json!(round6(s.beta)));
        map.insert("phi".into(), json!(round6(s.phi)));
        if s.compounding {
            map.insert("rate".into(), json!(round6(level.slope)));
        }
    }
    params
}

pub(super) fn params_json(law: &ResidualLaw) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    match &law.positive {
        PositivePart::Parametric(f) => {
            let names = f.family.param_names();
            map.insert(names[0].into(), json!(round6(f.params[0])));
            map.insert(names[1].into(), json!(round6(f.params[1])));
        }
        PositivePart::Empirical { sorted } => {
            map.insert("n".into(), json!(sorted.len()));
        }
    }
    map.insert("p_nonpositive".into(), json!(round6(law.p0)));
    if let Some(rate) = law.zero_rate {
        map.insert("zero_rate".into(), json!(round6(rate.per_amount)));
    }
    if !law.spikes.is_empty() {
        map.insert("p_spike".into(), json!(round6(law.p_spike)));
        let ratios: Vec<f64> = law.spikes.iter().map(|&r| round6(r)).collect();
        map.insert("spikes".into(), json!(ratios));
    }
    serde_json::Value::Object(map)
}

pub(super) fn round6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 6 - x.abs().log10().ceil() as i32;
    let f = 10f64.powi(digits.clamp(-10, 15));
    (x * f).round() / f
}
