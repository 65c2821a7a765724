//! The simulation's standard-normal sampler: a 256-layer ziggurat
//! (Marsaglia and Tsang 2000, in Doornik's 2005 formulation) that takes
//! each candidate from 32 random bits, so one 64-bit output of the
//! generator gives two normals on the fast path (98.8% of candidates).
//!
//! Of the 32 bits, the low 8 choose the layer and the high 24 give a
//! signed uniform in (-1, 1) on a grid of 2^-23 (symmetric: the midpoints
//! `(j + 0.5) / 2^23`), so a normal on the fast path is a multiple of its
//! layer's width / 2^23 (at most 4.7e-7): far finer than anything the
//! simulation resolves (its normal-score table has 40 points per unit,
//! and its quantiles have Monte Carlo errors of 1e-2 standard deviations
//! and more at 10,000 trials). The rare slow path (wedges, and the tail
//! beyond 3.654) is exact, with fresh 53-bit uniforms.
//!
//! Everything random in the simulation's own draws (parameter draws,
//! common shocks, AR noise, level drift) comes from [`fill`]; the raw
//! limit with this sampler is [`crate::rng::raw_lognormal_sum_fast`].
//! It is a pure function of the generator's output, so results stay
//! reproducible per (seed, stream, batch).

use std::sync::OnceLock;

use rand::Rng;

/// Layers of the ziggurat.
const LAYERS: usize = 256;
/// Start of the tail (the base layer's right edge).
const R: f64 = 3.654_152_885_361_009;
/// Area of each layer (and of the base layer with the tail) under
/// exp(-x^2 / 2).
const V: f64 = 4.928_673_233_99e-3;
/// 2^-23: the grid of the signed 24-bit uniform.
const GRID: f64 = 1.0 / (1u64 << 23) as f64;

/// Precomputed layer edges.
struct Tables {
    /// Layer width times 2^-23 (`x[i] * GRID`), so a candidate is `(j + 0.5) * scale[i]`.
    scale: [f64; LAYERS],
    /// Right edge of the layer above (`x[i + 1]`): below it a candidate is
    /// accepted at once.
    inner: [f64; LAYERS],
    /// exp(-x^2 / 2) at each edge, `f[i]` for `x[i]` (`f[LAYERS] = 1`).
    f: [f64; LAYERS + 1],
}

fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        // x[0] is the width of a rectangle of area V with the density at
        // R (the base layer and the tail as one), x[1] = R, then each
        // layer of area V on top of the one below, up to x[LAYERS] = 0.
        let mut x = [0.0f64; LAYERS + 1];
        x[0] = V / density(R);
        x[1] = R;
        for i in 2..LAYERS {
            x[i] = (-2.0 * (V / x[i - 1] + density(x[i - 1])).ln()).sqrt();
        }
        x[LAYERS] = 0.0;
        let mut t = Tables {
            scale: [0.0; LAYERS],
            inner: [0.0; LAYERS],
            f: [0.0; LAYERS + 1],
        };
        for i in 0..LAYERS {
            t.scale[i] = x[i] * GRID;
            t.inner[i] = x[i + 1];
        }
        for (f, &x) in t.f.iter_mut().zip(&x) {
            *f = density(x);
        }
        t
    })
}

/// A uniform in (0, 1] with 53 bits.
#[inline]
fn open_uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Layer and candidate of 32 random bits.
#[inline(always)]
fn candidate(t: &Tables, bits: u32) -> (usize, f64) {
    let i = (bits & 0xFF) as usize;
    let j = (bits as i32) >> 8;
    (i, (j as f64 + 0.5) * t.scale[i])
}

/// The candidate `x` of layer `i` fell outside the layer above: accept it
/// under the density (wedge), draw from the tail (base layer), or start over.
#[cold]
#[inline(never)]
fn slow<R: Rng + ?Sized>(t: &Tables, mut i: usize, mut x: f64, rng: &mut R) -> f64 {
    loop {
        if i == 0 {
            // Marsaglia's tail beyond R, with the candidate's sign.
            loop {
                let a = -open_uniform(rng).ln() / R;
                let b = -open_uniform(rng).ln();
                if 2.0 * b >= a * a {
                    return if x < 0.0 { -(R + a) } else { R + a };
                }
            }
        }
        let u = open_uniform(rng);
        if t.f[i + 1] + u * (t.f[i] - t.f[i + 1]) < density(x) {
            return x;
        }
        (i, x) = candidate(t, rng.next_u64() as u32);
        if x.abs() < t.inner[i] {
            return x;
        }
    }
}

/// Fill `out` with independent standard normals from `rng`, two per
/// 64-bit output on the fast path (low half first). Candidates outside
/// the fast path are finished after the whole pass, in order, with further
/// outputs of `rng` (so the fast loop keeps the generator in registers).
pub fn fill<R: Rng + Clone>(rng_out: &mut R, out: &mut [f64]) {
    let t = tables();
    // A local copy of the generator stays in registers through the loop.
    let mut local = rng_out.clone();
    let rng = &mut local;
    // (position, layer) of the candidates left for the slow path.
    let mut redo: Vec<(usize, usize)> = Vec::new();
    let mut pairs = out.chunks_exact_mut(2);
    for (k, pair) in (&mut pairs).enumerate() {
        let bits = rng.next_u64();
        let (i0, x0) = candidate(t, bits as u32);
        let (i1, x1) = candidate(t, (bits >> 32) as u32);
        pair[0] = x0;
        pair[1] = x1;
        let (ok0, ok1) = (x0.abs() < t.inner[i0], x1.abs() < t.inner[i1]);
        if !(ok0 & ok1) {
            if !ok0 {
                redo.push((2 * k, i0));
            }
            if !ok1 {
                redo.push((2 * k + 1, i1));
            }
        }
    }
    if let [last] = pairs.into_remainder() {
        let (i, x) = candidate(t, rng.next_u64() as u32);
        *last = x;
        if x.abs() >= t.inner[i] {
            redo.push((out.len() - 1, i));
        }
    }
    for (k, i) in redo {
        out[k] = slow(t, i, out[k], rng);
    }
    *rng_out = local;
}

/// One standard normal (uses a whole 64-bit output; prefer [`fill`]).
pub fn sample<R: Rng + Clone>(rng: &mut R) -> f64 {
    let mut z = [0.0];
    fill(rng, &mut z);
    z[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::special::norm_cdf;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn layers_close_at_zero() {
        // The recursion from x[1] = R must end at a top layer of area V.
        let t = tables();
        let top = t.inner[LAYERS - 2]; // x[LAYERS - 1]
        assert!(top > 0.0 && top < 0.3, "top edge {top}");
        let area = top * (1.0 - density(top));
        assert!(
            (area / V - 1.0).abs() < 1e-6,
            "top layer area {area} vs {V}"
        );
    }

    #[test]
    fn the_law_is_standard_normal() {
        // 4 million draws: frequencies below a grid of points (including
        // the wedges' and the tail's ranges) within 5 standard errors of
        // Phi, and the first four moments within theirs.
        let n = 4_000_000usize;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let mut z = vec![0.0; n];
        fill(&mut rng, &mut z[..n - 1]);
        z[n - 1] = sample(&mut rng);
        let nf = n as f64;
        for &c in &[
            -4.0, -3.7, -3.0, -2.0, -1.3, -0.5, 0.0, 0.2, 0.9, 1.6, 2.5, 3.5, 3.8, 4.2,
        ] {
            let p = norm_cdf(c);
            let got = z.iter().filter(|&&x| x < c).count() as f64 / nf;
            let se = (p * (1.0 - p) / nf).sqrt().max(1.0 / nf);
            assert!((got - p).abs() < 5.0 * se, "P(Z < {c}) = {got} vs {p}");
        }
        let m = |k: i32| z.iter().map(|x| x.powi(k)).sum::<f64>() / nf;
        // sd of the sample moments: sqrt(E[Z^2k] - E[Z^k]^2 / n).
        assert!(m(1).abs() < 5.0 * (1.0 / nf).sqrt());
        assert!((m(2) - 1.0).abs() < 5.0 * (2.0 / nf).sqrt());
        assert!(m(3).abs() < 5.0 * (15.0 / nf).sqrt());
        assert!((m(4) - 3.0).abs() < 5.0 * (96.0 / nf).sqrt());
        assert!(z.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn halves_are_independent() {
        // The two normals of one 64-bit output are uncorrelated, and so are
        // their squares.
        let n = 2_000_000usize;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut z = vec![0.0; n];
        fill(&mut rng, &mut z);
        let (mut c, mut c2) = (0.0, 0.0);
        for p in z.chunks_exact(2) {
            c += p[0] * p[1];
            c2 += (p[0] * p[0] - 1.0) * (p[1] * p[1] - 1.0);
        }
        let pairs = (n / 2) as f64;
        assert!((c / pairs).abs() < 5.0 / pairs.sqrt());
        assert!((c2 / pairs / 2.0).abs() < 5.0 / pairs.sqrt());
    }
}
