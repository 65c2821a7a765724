//! Nelder–Mead simplex minimisation (Nelder and Mead 1965; the usual
//! coefficients: reflection 1, expansion 2, contraction 1/2, shrink 1/2),
//! for the small, smooth, unconstrained problems of the exponential
//! smoothing fits (bounded parameters are mapped through a logistic by the
//! caller). Deterministic: the same start gives the same answer.
//!
//! The search is a state machine ([`Simplex`]): it names the next point it
//! needs and is told that point's value. A caller with many independent
//! problems (`ets::lanes`: every rolling origin's refit of every form)
//! can then evaluate one point of each at once, in lockstep, and every
//! problem still takes exactly the steps [`minimize`] takes.

/// The minimiser found and the function's value there.
#[derive(Debug, Clone)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
}

/// Which value the pending point is waiting for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// The initial simplex's vertex.
    Vertex(usize),
    Reflect,
    Expand,
    Contract,
    /// The `k`th vertex (in the sorted order, from 1) shrunk toward the best.
    Shrink(usize),
    Done,
}

/// One Nelder–Mead search, driven from outside: [`Simplex::pending`] is
/// the point whose value it needs next (`None` once it has stopped),
/// [`Simplex::tell`] gives it that value.
#[derive(Debug, Clone)]
pub struct Simplex {
    vertices: Vec<Vec<f64>>,
    values: Vec<f64>,
    /// Vertices by value, kept between iterations (the sort is stable, so
    /// ties keep their previous order).
    order: Vec<usize>,
    evals: usize,
    max_evals: usize,
    tol: f64,
    centroid: Vec<f64>,
    reflected: Vec<f64>,
    reflected_value: f64,
    point: Vec<f64>,
    phase: Phase,
}

impl Simplex {
    /// A search from `start`, with initial simplex steps `step` per
    /// coordinate; it stops after `max_evals` evaluations (checked between
    /// iterations) or when the simplex's values differ by less than `tol`
    /// (absolute).
    pub fn new(start: &[f64], step: &[f64], max_evals: usize, tol: f64) -> Self {
        let d = start.len();
        let mut vertices = Vec::with_capacity(d + 1);
        vertices.push(start.to_vec());
        for i in 0..d {
            let mut x = start.to_vec();
            x[i] += step[i];
            vertices.push(x);
        }
        Self {
            point: start.to_vec(),
            vertices,
            values: vec![f64::INFINITY; d + 1],
            order: (0..=d).collect(),
            evals: 0,
            max_evals,
            tol,
            centroid: vec![0.0; d],
            reflected: Vec::new(),
            reflected_value: f64::INFINITY,
            phase: Phase::Vertex(0),
        }
    }

    /// The point whose value the search needs next; `None` once it has
    /// stopped.
    pub fn pending(&self) -> Option<&[f64]> {
        (self.phase != Phase::Done).then_some(&self.point[..])
    }

    /// The pending point's value (NaN counts as +infinity).
    pub fn tell(&mut self, value: f64) {
        let v = if value.is_nan() { f64::INFINITY } else { value };
        self.evals += 1;
        let d = self.vertices.len() - 1;
        let (best, second, worst) = (
            self.order[0],
            self.order[d.saturating_sub(1)],
            self.order[d],
        );
        match self.phase {
            Phase::Vertex(i) => {
                self.values[i] = v;
                if i < d {
                    self.point.clone_from(&self.vertices[i + 1]);
                    self.phase = Phase::Vertex(i + 1);
                } else {
                    self.iterate();
                }
            }
            Phase::Reflect => {
                self.reflected_value = v;
                std::mem::swap(&mut self.reflected, &mut self.point);
                if v < self.values[best] {
                    self.point_along(2.0);
                    self.phase = Phase::Expand;
                } else if v < self.values[second] {
                    self.replace_worst_with_reflected();
                    self.iterate();
                } else {
                    self.point_along(if v < self.values[worst] { 0.5 } else { -0.5 });
                    self.phase = Phase::Contract;
                }
            }
            Phase::Expand => {
                if v < self.reflected_value {
                    std::mem::swap(&mut self.vertices[worst], &mut self.point);
                    self.values[worst] = v;
                } else {
                    self.replace_worst_with_reflected();
                }
                self.iterate();
            }
            Phase::Contract => {
                if v < self.values[worst].min(self.reflected_value) {
                    std::mem::swap(&mut self.vertices[worst], &mut self.point);
                    self.values[worst] = v;
                    self.iterate();
                } else {
                    self.shrink(1);
                }
            }
            Phase::Shrink(k) => {
                self.values[self.order[k]] = v;
                if k < d {
                    self.shrink(k + 1);
                } else {
                    self.iterate();
                }
            }
            Phase::Done => {}
        }
    }

    /// The best vertex and its value (the first of equal ones).
    pub fn minimum(&self) -> Minimum {
        let best = (0..self.values.len())
            .min_by(|&a, &b| self.values[a].total_cmp(&self.values[b]))
            .unwrap_or(0);
        Minimum {
            x: self.vertices[best].clone(),
            value: self.values[best],
        }
    }

    /// Start an iteration: stop on the budget or the tolerance, else ask
    /// for the worst vertex reflected through the others' centroid.
    fn iterate(&mut self) {
        if self.evals >= self.max_evals {
            self.phase = Phase::Done;
            return;
        }
        let values = &self.values;
        self.order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let d = self.vertices.len() - 1;
        let (best, worst) = (self.order[0], self.order[d]);
        if (values[worst] - values[best]).abs() <= self.tol {
            self.phase = Phase::Done;
            return;
        }
        for j in 0..d {
            self.centroid[j] = self.order[..d]
                .iter()
                .map(|&i| self.vertices[i][j])
                .sum::<f64>()
                / d as f64;
        }
        self.point_along(1.0);
        self.phase = Phase::Reflect;
    }

    /// The pending point: the centroid plus `t` times the centroid less
    /// the worst vertex.
    fn point_along(&mut self, t: f64) {
        let worst = &self.vertices[self.order[self.vertices.len() - 1]];
        self.point.clear();
        self.point.extend(
            self.centroid
                .iter()
                .zip(worst)
                .map(|(c, w)| c + t * (c - w)),
        );
    }

    fn replace_worst_with_reflected(&mut self) {
        let worst = self.order[self.vertices.len() - 1];
        self.vertices[worst].clone_from(&self.reflected);
        self.values[worst] = self.reflected_value;
    }

    /// Shrink the `k`th vertex (sorted order) halfway toward the best and
    /// ask for its value.
    fn shrink(&mut self, k: usize) {
        let (best, i) = (self.order[0], self.order[k]);
        for j in 0..self.point.len() {
            let a = self.vertices[best][j];
            self.vertices[i][j] = a + 0.5 * (self.vertices[i][j] - a);
        }
        self.point.clone_from(&self.vertices[i]);
        self.phase = Phase::Shrink(k);
    }
}

/// Minimise `f` from `start`, with initial simplex steps `step` per
/// coordinate; stops after `max_evals` evaluations or when the simplex's
/// values differ by less than `tol` (absolute). The fits drive
/// [`Simplex`] themselves (`ets::lanes`); this one-search loop is the
/// reference their tests compare with.
#[cfg(test)]
pub(crate) fn minimize(
    mut f: impl FnMut(&[f64]) -> f64,
    start: &[f64],
    step: &[f64],
    max_evals: usize,
    tol: f64,
) -> Minimum {
    let mut search = Simplex::new(start, step, max_evals, tol);
    while let Some(x) = search.pending() {
        let v = f(x);
        search.tell(v);
    }
    search.minimum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_the_rosenbrock_valley() {
        let f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = minimize(f, &[-1.2, 1.0], &[0.5, 0.5], 5000, 1e-14);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-3 && (m.x[1] - 1.0).abs() < 1e-3,
            "{m:?}"
        );
    }

    #[test]
    fn one_dimension_and_a_nan_region() {
        let f = |x: &[f64]| {
            if x[0] < 0.0 {
                f64::NAN
            } else {
                (x[0] - 2.0).powi(2)
            }
        };
        let m = minimize(f, &[1.0], &[0.5], 500, 1e-12);
        assert!((m.x[0] - 2.0).abs() < 1e-4, "{m:?}");
    }
}
