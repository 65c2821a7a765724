//! Parametric families fitted by maximum likelihood: normal, lognormal,
//! gamma and Weibull (location fixed at 0 for the last three).
//!
//! Closed forms where they exist (normal, lognormal); Newton iterations on
//! the profile score equation for gamma (shape from log(k) - digamma(k) =
//! log(mean) - mean(log x)) and Weibull (shape from the standard score
//! equation), which converge in a handful of steps from the usual starting
//! values. A fitted family is a value that can be evaluated and sampled.

use rand::{Rng, RngExt};
use rand_distr::Distribution;
use serde::Serialize;

use super::golden;
use super::special::{digamma, gamma_p, ln_gamma, norm_cdf, norm_ppf, trigamma};

/// A parametric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Normal,
    LogNormal,
    Gamma,
    Weibull,
}

impl Family {
    /// All parametric families.
    pub const ALL: [Family; 4] = [
        Family::Normal,
        Family::LogNormal,
        Family::Gamma,
        Family::Weibull,
    ];

    /// The family's name in scenarios and outputs.
    pub fn name(self) -> &'static str {
        match self {
            Family::Normal => "normal",
            Family::LogNormal => "lognormal",
            Family::Gamma => "gamma",
            Family::Weibull => "weibull",
        }
    }

    /// Parse a family name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    /// Whether the family lives on the positive half-line.
    pub fn positive(self) -> bool {
        !matches!(self, Family::Normal)
    }

    /// Names of the two parameters, as reported in `fit.csv`.
    pub fn param_names(self) -> [&'static str; 2] {
        match self {
            Family::Normal => ["mean", "sd"],
            Family::LogNormal => ["meanlog", "sdlog"],
            Family::Gamma => ["shape", "rate"],
            Family::Weibull => ["shape", "scale"],
        }
    }
}

/// A family with fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fitted {
    pub family: Family,
    pub params: [f64; 2],
}

impl Fitted {
    /// Log density at `x`.
    pub fn ln_pdf(&self, x: f64) -> f64 {
        let [a, b] = self.params;
        match self.family {
            Family::Normal => {
                let z = (x - a) / b;
                -0.5 * z * z - b.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
            }
            Family::LogNormal => {
                if x <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                let z = (x.ln() - a) / b;
                -0.5 * z * z - b.ln() - x.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
            }
            Family::Gamma => {
                if x <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                a * b.ln() - ln_gamma(a) + (a - 1.0) * x.ln() - b * x
            }
            Family::Weibull => {
                if x <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                let z = x / b;
                a.ln() - b.ln() + (a - 1.0) * z.ln() - z.powf(a)
            }
        }
    }

    /// Cumulative distribution function at `x`.
    pub fn cdf(&self, x: f64) -> f64 {
        let [a, b] = self.params;
        match self.family {
            Family::Normal => norm_cdf((x - a) / b),
            Family::LogNormal => {
                if x <= 0.0 {
                    0.0
                } else {
                    norm_cdf((x.ln() - a) / b)
                }
            }
            Family::Gamma => gamma_p(a, b * x),
            Family::Weibull => {
                if x <= 0.0 {
                    0.0
                } else {
                    1.0 - (-(x / b).powf(a)).exp()
                }
            }
        }
    }

    /// Quantile function at `u` in (0, 1).
    pub fn quantile(&self, u: f64) -> f64 {
        let [a, b] = self.params;
        match self.family {
            Family::Normal => a + b * norm_ppf(u),
            Family::LogNormal => (a + b * norm_ppf(u)).exp(),
            Family::Weibull => b * (-(1.0 - u).ln()).powf(1.0 / a),
            Family::Gamma => gamma_quantile(a, b, u),
        }
    }

    /// Mean of the distribution.
    pub fn mean(&self) -> f64 {
        let [a, b] = self.params;
        match self.family {
            Family::Normal => a,
            Family::LogNormal => (a + 0.5 * b * b).exp(),
            Family::Gamma => a / b,
            Family::Weibull => b * ln_gamma(1.0 + 1.0 / a).exp(),
        }
    }

    /// Log-likelihood of the sample.
    pub fn loglik(&self, x: &[f64]) -> f64 {
        x.iter().map(|&v| self.ln_pdf(v)).sum()
    }
}

impl Distribution<f64> for Fitted {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = rng.random_range(f64::EPSILON..1.0);
        self.quantile(u)
    }
}

/// Maximum-likelihood fit of `family` to `x`; `None` when the sample does not
/// allow one (too small, or non-positive values for a positive family).
pub fn fit(family: Family, x: &[f64]) -> Option<Fitted> {
    let n = x.len();
    if n < 2 || x.iter().any(|v| !v.is_finite()) {
        return None;
    }
    if family.positive() && x.iter().any(|&v| v <= 0.0) {
        return None;
    }
    let nf = n as f64;
    let params = match family {
        Family::Normal => {
            let m = x.iter().sum::<f64>() / nf;
            let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / nf;
            [m, v.sqrt()]
        }
        Family::LogNormal => {
            let m = x.iter().map(|v| v.ln()).sum::<f64>() / nf;
            let v = x.iter().map(|v| (v.ln() - m).powi(2)).sum::<f64>() / nf;
            [m, v.sqrt()]
        }
        Family::Gamma => fit_gamma(x)?,
        Family::Weibull => fit_weibull(x)?,
    };
    (params.iter().all(|p| p.is_finite()) && params[1] > 0.0).then_some(Fitted { family, params })
}

/// Maximum likelihood of `family` among its laws whose mean is the
/// sample's: the residual law is used for the forecast's mean, which is
/// the history's, so of the laws that keep it the likeliest. For the
/// normal and gamma families that is the plain fit (their likelihood
/// equations already set the mean to the sample's). A lognormal's plain
/// fit sets its median and log spread, and its mean follows from them:
/// on lumpy periods (tiny months beside large ones) the log spread comes
/// from the left tail, and the symmetric law puts a tail on the right
/// the data do not have, its mean up to 1.9 times the sample's; keeping
/// the forecast's mean then pulls every period's median down. Here the
/// mean is held: mu = ln m - sigma^2 / 2, and the profile likelihood's
/// maximum has sigma^2 = 2 (sqrt(1 + V + d^2) - 1), V the variance of the
/// logs and d = ln m - their mean. A Weibull's is found by golden section
/// on its log shape, the scale set by the mean.
pub fn fit_mean_matched(family: Family, x: &[f64]) -> Option<Fitted> {
    let plain = fit(family, x)?;
    let nf = x.len() as f64;
    let m = x.iter().sum::<f64>() / nf;
    let params = match family {
        Family::Normal | Family::Gamma => return Some(plain),
        Family::LogNormal => {
            let [mean_log, sd_log] = plain.params;
            let d = m.ln() - mean_log;
            let t = 2.0 * ((1.0 + sd_log * sd_log + d * d).sqrt() - 1.0);
            [m.ln() - 0.5 * t, t.sqrt()]
        }
        Family::Weibull => {
            let at = |log_k: f64| {
                let k = log_k.exp();
                [k, m / ln_gamma(1.0 + 1.0 / k).exp()]
            };
            let nll = |log_k: f64| {
                -Fitted {
                    family,
                    params: at(log_k),
                }
                .loglik(x)
            };
            // Shapes below 0.05 are out of reach: Gamma(1 + 1/k) overflows
            // near k = 0.006, and no period law is that skewed.
            let k0 = plain.params[0].ln();
            let lo = (k0 - 2.0).max(0.05f64.ln());
            at(golden::minimize(nll, lo, (k0 + 2.0).max(lo + 1.0), 60).x)
        }
    };
    (params.iter().all(|p| p.is_finite()) && params[1] > 0.0).then_some(Fitted { family, params })
}

fn fit_gamma(x: &[f64]) -> Option<[f64; 2]> {
    let nf = x.len() as f64;
    let mean = x.iter().sum::<f64>() / nf;
    let mean_log = x.iter().map(|v| v.ln()).sum::<f64>() / nf;
    let s = mean.ln() - mean_log;
    if s <= 1e-12 {
        return None;
    }
    // Minka's starting value, then Newton on log(k) - digamma(k) = s.
    let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    for _ in 0..100 {
        let f = k.ln() - digamma(k) - s;
        let df = 1.0 / k - trigamma(k);
        let step = f / df;
        let next = (k - step).max(k / 10.0);
        if (next - k).abs() < 1e-13 * k {
            k = next;
            break;
        }
        k = next;
    }
    Some([k, k / mean])
}

fn fit_weibull(x: &[f64]) -> Option<[f64; 2]> {
    let nf = x.len() as f64;
    let max = x.iter().cloned().fold(f64::MIN, f64::max);
    // Work with x / max so that x^k never overflows.
    let logs: Vec<f64> = x.iter().map(|v| (v / max).ln()).collect();
    let mean_log = logs.iter().sum::<f64>() / nf;
    let var_log = logs.iter().map(|l| (l - mean_log).powi(2)).sum::<f64>() / nf;
    if var_log <= 1e-24 {
        return None;
    }
    let mut k = 1.2825 / var_log.sqrt();
    for _ in 0..200 {
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for &l in &logs {
            let w = (k * l).exp();
            s0 += w;
            s1 += w * l;
            s2 += w * l * l;
        }
        let g = s1 / s0 - 1.0 / k - mean_log;
        let dg = (s2 * s0 - s1 * s1) / (s0 * s0) + 1.0 / (k * k);
        let next = (k - g / dg).clamp(k / 4.0, k * 4.0);
        if (next - k).abs() < 1e-13 * k {
            k = next;
            break;
        }
        k = next;
    }
    let s0: f64 = logs.iter().map(|l| (k * l).exp()).sum();
    let scale = max * (s0 / nf).powf(1.0 / k);
    Some([k, scale])
}

/// Gamma quantile by Newton steps on the CDF from the Wilson-Hilferty start,
/// safeguarded by bisection.
fn gamma_quantile(shape: f64, rate: f64, u: f64) -> f64 {
    let z = norm_ppf(u);
    let c = 1.0 / (9.0 * shape);
    let wh = shape * (1.0 - c + z * c.sqrt()).powi(3);
    let mut x = if wh > 0.0 {
        wh
    } else {
        (u * ln_gamma(shape + 1.0).exp()).powf(1.0 / shape)
    };
    let (mut lo, mut hi) = (0.0_f64, f64::INFINITY);
    for _ in 0..100 {
        let f = gamma_p(shape, x) - u;
        if f > 0.0 {
            hi = hi.min(x);
        } else {
            lo = lo.max(x);
        }
        let ln_pdf = (shape - 1.0) * x.ln() - x - ln_gamma(shape);
        let mut next = x - f / ln_pdf.exp();
        if next <= lo || next >= hi || !next.is_finite() {
            next = if hi.is_finite() {
                0.5 * (lo + hi)
            } else {
                2.0 * x.max(1e-300)
            };
        }
        if (next - x).abs() <= 1e-12 * x.max(1e-300) {
            x = next;
            break;
        }
        x = next;
    }
    x / rate
}

/// The asymptotic (inverse Fisher information) standard errors of the two
/// parameters, per observation count `n`.
pub fn standard_errors(f: &Fitted, n: usize) -> [f64; 2] {
    let nf = n.max(1) as f64;
    let [a, b] = f.params;
    match f.family {
        Family::Normal | Family::LogNormal => [b / nf.sqrt(), b / (2.0 * nf).sqrt()],
        Family::Gamma => {
            // Fisher information per observation for (shape k, rate r).
            let (i11, i12, i22) = (trigamma(a), -1.0 / b, a / (b * b));
            let det = i11 * i22 - i12 * i12;
            [(i22 / det / nf).sqrt(), (i11 / det / nf).sqrt()]
        }
        Family::Weibull => {
            // Standard results: var(k) ~ 0.608 k^2 / n, var(scale) ~ 1.109 scale^2 / (k^2 n).
            [
                (0.6079 * a * a / nf).sqrt(),
                (1.1087 * b * b / (a * a * nf)).sqrt(),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_inverts_cdf_for_every_family() {
        let fams = [
            Fitted {
                family: Family::Normal,
                params: [1.0, 0.3],
            },
            Fitted {
                family: Family::LogNormal,
                params: [0.0, 0.5],
            },
            Fitted {
                family: Family::Gamma,
                params: [0.7, 2.0],
            },
            Fitted {
                family: Family::Gamma,
                params: [40.0, 40.0],
            },
            Fitted {
                family: Family::Weibull,
                params: [1.7, 1.1],
            },
        ];
        for f in fams {
            for &u in &[0.001, 0.05, 0.3, 0.5, 0.8, 0.99, 0.9999] {
                let x = f.quantile(u);
                assert!(
                    (f.cdf(x) - u).abs() < 1e-9,
                    "{f:?} u={u} x={x} cdf={}",
                    f.cdf(x)
                );
            }
        }
    }

    #[test]
    fn mean_matched_fits_keep_the_sample_mean_and_are_the_likeliest_that_do() {
        // Lumpy positive periods: tiny months beside large ones.
        let x = [
            0.01, 0.05, 0.3, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 0.02,
        ];
        let m = x.iter().sum::<f64>() / x.len() as f64;
        for family in [Family::LogNormal, Family::Weibull, Family::Gamma] {
            let f = fit_mean_matched(family, &x).unwrap();
            assert!((f.mean() - m).abs() < 1e-6 * m, "{family:?} {}", f.mean());
            // No law of the family with that mean is likelier: perturb the
            // shape and reset the scale to the mean.
            let ll = f.loglik(&x);
            for step in [-0.05, 0.05] {
                let [a, b] = f.params;
                let other = match family {
                    Family::LogNormal => {
                        let s = b * (1.0 + step);
                        [m.ln() - 0.5 * s * s, s]
                    }
                    Family::Weibull => {
                        let k = a * (1.0 + step);
                        [k, m / ln_gamma(1.0 + 1.0 / k).exp()]
                    }
                    _ => {
                        let k = a * (1.0 + step);
                        [k, k / m]
                    }
                };
                let o = Fitted {
                    family,
                    params: other,
                };
                assert!(o.loglik(&x) < ll, "{family:?} {step}");
            }
        }
        // The lognormal's closed form is the profile likelihood's maximum,
        // found numerically over sigma.
        let profile = |s: f64| {
            -Fitted {
                family: Family::LogNormal,
                params: [m.ln() - 0.5 * s * s, s],
            }
            .loglik(&x)
        };
        let numeric = golden::minimize(profile, 0.05, 5.0, 80).x;
        let closed = fit_mean_matched(Family::LogNormal, &x).unwrap().params[1];
        assert!(
            (numeric / closed - 1.0).abs() < 1e-6,
            "{numeric} against {closed}"
        );
        // The plain lognormal's mean is well above the sample's here.
        assert!(fit(Family::LogNormal, &x).unwrap().mean() > 1.3 * m);
    }
}
