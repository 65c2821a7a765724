//! Golden-section search: the minimum of a unimodal function of one
//! variable on an interval, without derivatives.

/// The end of a search. `x` and `value` are of different points, each
/// within the last bracket: `x` is its middle (where the minimum is best
/// estimated), `value` the lower of the two last probes (a value actually
/// reached); neither is `f(x)`.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    /// The middle of the last bracket.
    pub x: f64,
    /// The lower of the two last probes.
    pub value: f64,
}

/// Minimise `f` on [lo, hi] by `steps` golden-section steps (each narrows
/// the bracket by 0.618).
pub fn minimize(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64, steps: usize) -> Found {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut x1 = hi - ratio * (hi - lo);
    let mut x2 = lo + ratio * (hi - lo);
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..steps {
        if f1 <= f2 {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - ratio * (hi - lo);
            f1 = f(x1);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + ratio * (hi - lo);
            f2 = f(x2);
        }
    }
    Found {
        x: 0.5 * (lo + hi),
        value: f1.min(f2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parabola_is_minimised_at_its_vertex() {
        let found = minimize(|x| (x - 0.3) * (x - 0.3) + 2.0, -1.0, 4.0, 60);
        // Near the vertex f changes by dx^2: doubles tell x to about 1e-8.
        assert!((found.x - 0.3).abs() < 1e-6, "{}", found.x);
        assert!((found.value - 2.0).abs() < 1e-12);
    }
}
