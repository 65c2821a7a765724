//! Poisson draws whose rate changes at every draw.
//!
//! A deal-driven territory draws its period's deal count from a Poisson law
//! whose rate moves with the simulated state, so every draw has a rate of
//! its own. `rand_distr::Poisson::new` prepares, for a rate of 12 or more,
//! every constant its rejection method might need (three divisions and two
//! square roots), though most draws are accepted at the first normal
//! deviate and need none of them. [`sample`] is the same algorithm
//! (Ahrens and Dieter 1982, "Computer generation of Poisson deviates from
//! modified normal distributions", the method `rand_distr` 0.6 uses, and
//! Knuth's product of uniforms below 12), drawing the same random numbers
//! in the same order and computing the same expressions, so it returns the
//! same value for the same stream (a test holds it to that); it only
//! computes the rarely needed constants when a draw needs them.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, StandardNormal};

/// Below this rate the count is drawn by Knuth's product of uniforms.
const KNUTH_BELOW: f64 = 12.0;
/// Largest rate `rand_distr` accepts (its `Poisson::MAX_LAMBDA`).
const MAX_LAMBDA: f64 = 1.844e19;

/// A Poisson count of mean `lambda`, or `None` for a rate that is not
/// finite and positive (or above `MAX_LAMBDA`), as `Poisson::new` refuses.
pub fn sample<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> Option<f64> {
    if !lambda.is_finite() || lambda <= 0.0 || lambda > MAX_LAMBDA {
        return None;
    }
    if lambda < KNUTH_BELOW {
        let exp_lambda = (-lambda).exp();
        let mut result = 1.0;
        let mut p: f64 = rng.random();
        while p > exp_lambda {
            p *= rng.random::<f64>();
            result += 1.0;
        }
        return Some(result - 1.0);
    }
    Some(rejection(rng, lambda))
}

/// The constants of steps F and H, computed only when a draw reaches them.
struct Tail {
    c: f64,
    c0: f64,
    c1: f64,
    c2: f64,
    c3: f64,
    omega: f64,
}

impl Tail {
    fn new(lambda: f64) -> Self {
        let b1 = (1.0 / 24.0) / lambda;
        let b2 = 0.3 * b1 * b1;
        let c3 = (1.0 / 7.0) * b1 * b2;
        let c2 = b2 - 15.0 * c3;
        let c1 = b1 - 6.0 * b2 + 45.0 * c3;
        let c0 = 1.0 - b1 + 3.0 * b2 - 15.0 * c3;
        Tail {
            c: 0.1069 / lambda,
            c0,
            c1,
            c2,
            c3,
            omega: 1.0 / (2.0 * std::f64::consts::PI).sqrt() / lambda.sqrt(),
        }
    }

    /// Step F: (px, py, fx, fy) at count `k`.
    fn at(&self, lambda: f64, s: f64, k: f64) -> (f64, f64, f64, f64) {
        const FACT: [f64; 10] = [
            1.0, 1.0, 2.0, 6.0, 24.0, 120.0, 720.0, 5040.0, 40320.0, 362880.0,
        ];
        const A: [f64; 10] = [
            -0.5000000002,
            0.3333333343,
            -0.2499998565,
            0.1999997049,
            -0.1666848753,
            0.1428833286,
            -0.1241963125,
            0.1101687109,
            -0.1142650302,
            0.1055093006,
        ];
        let (px, py) = if k < 10.0 {
            (-lambda, lambda.powf(k) / FACT[k as usize])
        } else {
            let delta = (12.0 * k).recip();
            let delta = delta - 4.8 * delta.powi(3);
            let v = (lambda - k) / k;
            let px = if v.abs() <= 0.25 {
                k * v.powi(2) * A.iter().rev().fold(0.0, |acc, &a| acc * v + a) - delta
            } else {
                k * (1.0 + v).ln() - (lambda - k) - delta
            };
            (px, 1.0 / (2.0 * std::f64::consts::PI).sqrt() / k.sqrt())
        };
        let x = (k - lambda + 0.5) / s;
        let fx = -0.5 * x * x;
        let fy = self.omega * (((self.c3 * x * x + self.c2) * x * x + self.c1) * x * x + self.c0);
        (px, py, fx, fy)
    }
}

/// `floor` of a non-negative `x` as a truncating conversion: the same value
/// (below 2^63), without the library call `f64::floor` compiles to on
/// x86-64 without SSE4.1 (4% of a deal-driven forecast's draws).
#[inline]
fn floor_non_negative(x: f64) -> f64 {
    debug_assert!(x >= 0.0);
    if x < 9.2e18 {
        (x as u64) as f64
    } else {
        x.floor()
    }
}

/// Ahrens and Dieter's method for a rate of at least 12.
fn rejection<R: Rng + ?Sized>(rng: &mut R, lambda: f64) -> f64 {
    let s = lambda.sqrt();
    let l = floor_non_negative(lambda - 1.1484);
    // Step N: a normal deviate, accepted at once when far enough up.
    let z: f64 = StandardNormal.sample(rng);
    let g = lambda + s * z;
    let mut tail = None;
    if g >= 0.0 {
        let k1 = floor_non_negative(g);
        // Step I.
        if k1 >= l {
            return k1;
        }
        // Step S.
        let u: f64 = rng.random();
        if 6.0 * lambda.powi(2) * u >= (lambda - k1).powi(3) {
            return k1;
        }
        let t = tail.insert(Tail::new(lambda));
        let (px, py, fx, fy) = t.at(lambda, s, k1);
        if fy * (1.0 - u) <= py * (px - fx).exp() {
            return k1;
        }
    }
    let t = tail.get_or_insert_with(|| Tail::new(lambda));
    loop {
        // Step E.
        let e: f64 = Exp1.sample(rng);
        let u: f64 = rng.random::<f64>() * 2.0 - 1.0;
        let t_e = 1.8 + e * u.signum();
        if t_e > -0.6744 {
            // Positive: t_e > -0.6744 and lambda >= 12 > (0.6744 s)^2.
            let k2 = floor_non_negative(lambda + s * t_e);
            let (px, py, fx, fy) = t.at(lambda, s, k2);
            // Step H.
            if t.c * u.abs() <= py * (px + e).exp() - fy * (fx + e).exp() {
                return k2;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::Poisson;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn draws_what_rand_distr_draws_from_the_same_stream() {
        // Rates on both sides of the Knuth bound, near it, and large, each
        // drawn 20,000 times from one stream by both: every value equal,
        // and the streams left in the same state.
        for (i, lambda) in [0.3, 3.7, 11.99, 12.0, 12.5, 30.0, 175.1, 508.8, 1e5]
            .into_iter()
            .enumerate()
        {
            let mut ours = Xoshiro256PlusPlus::seed_from_u64(i as u64);
            let mut theirs = ours.clone();
            let law = Poisson::new(lambda).unwrap();
            for _ in 0..20_000 {
                let a = sample(&mut ours, lambda).unwrap();
                let b: f64 = law.sample(&mut theirs);
                assert_eq!(a, b, "rate {lambda}");
            }
            assert_eq!(ours.random::<u64>(), theirs.random::<u64>());
        }
    }

    #[test]
    fn refuses_the_rates_rand_distr_refuses() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for lambda in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e19] {
            assert!(sample(&mut rng, lambda).is_none());
            assert!(Poisson::new(lambda).is_err());
        }
    }
}
