//! Special functions the estimators need: the standard normal CDF and its
//! inverse, log-gamma, digamma and trigamma.

use statrs::function::{erf, gamma};

/// Standard normal CDF.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Inverse of the standard normal CDF, for `u` in (0, 1).
pub fn norm_ppf(u: f64) -> f64 {
    if u <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if u >= 1.0 {
        return f64::INFINITY;
    }
    -std::f64::consts::SQRT_2 * erf::erfc_inv(2.0 * u)
}

/// Natural log of the gamma function.
pub fn ln_gamma(x: f64) -> f64 {
    gamma::ln_gamma(x)
}

/// Digamma function.
pub fn digamma(x: f64) -> f64 {
    gamma::digamma(x)
}

/// Trigamma function (derivative of digamma), by recurrence and asymptotic series.
pub fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    acc + 1.0 / x
        + x2 / 2.0
        + (1.0 / x) * x2 * (1.0 / 6.0 - x2 * (1.0 / 30.0 - x2 * (1.0 / 42.0 - x2 / 30.0)))
}

/// Regularised lower incomplete gamma P(a, x).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        gamma::gamma_lr(a, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_round_trip() {
        for &u in &[1e-6, 0.01, 0.1, 0.5, 0.9, 0.975, 1.0 - 1e-9] {
            assert!(
                (norm_cdf(norm_ppf(u)) - u).abs() < 1e-9 * u.min(1.0 - u) + 1e-15,
                "u={u}"
            );
        }
        assert!((norm_ppf(0.975) - 1.959963984540054).abs() < 1e-12);
    }

    #[test]
    fn trigamma_known_values() {
        // trigamma(1) = pi^2 / 6, trigamma(0.5) = pi^2 / 2
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-10);
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-10);
        assert!((trigamma(20.0) - 0.05127082293520).abs() < 1e-10);
    }
}
