//! Nelder–Mead simplex minimisation (Nelder and Mead 1965; the usual
//! coefficients: reflection 1, expansion 2, contraction 1/2, shrink 1/2),
//! for the small, smooth, unconstrained problems of the exponential
//! smoothing fits (bounded parameters are mapped through a logistic by the
//! caller). Deterministic: the same start gives the same answer.

/// The minimiser found and the function's value there.
#[derive(Debug, Clone)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
}

/// Minimise `f` from `start`, with initial simplex steps `step` per
/// coordinate; stops after `max_evals` evaluations or when the simplex's
/// values differ by less than `tol` (absolute).
pub fn minimize(
    mut f: impl FnMut(&[f64]) -> f64,
    start: &[f64],
    step: &[f64],
    max_evals: usize,
    tol: f64,
) -> Minimum {
    let d = start.len();
    let value = |f: &mut dyn FnMut(&[f64]) -> f64, x: &[f64]| {
        let v = f(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(d + 1);
    simplex.push(start.to_vec());
    for i in 0..d {
        let mut x = start.to_vec();
        x[i] += step[i];
        simplex.push(x);
    }
    let mut values: Vec<f64> = simplex.iter().map(|x| value(&mut f, x)).collect();
    let mut evals = d + 1;
    let mut order: Vec<usize> = (0..=d).collect();
    while evals < max_evals {
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let (best, worst, second) = (order[0], order[d], order[d.saturating_sub(1)]);
        if (values[worst] - values[best]).abs() <= tol {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|j| order[..d].iter().map(|&i| simplex[i][j]).sum::<f64>() / d as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[worst])
                .map(|(c, w)| c + t * (c - w))
                .collect()
        };
        let reflected = along(1.0);
        let fr = value(&mut f, &reflected);
        evals += 1;
        if fr < values[best] {
            let expanded = along(2.0);
            let fe = value(&mut f, &expanded);
            evals += 1;
            if fe < fr {
                simplex[worst] = expanded;
                values[worst] = fe;
            } else {
                simplex[worst] = reflected;
                values[worst] = fr;
            }
            continue;
        }
        if fr < values[second] {
            simplex[worst] = reflected;
            values[worst] = fr;
            continue;
        }
        let (contracted, fc) = if fr < values[worst] {
            let x = along(0.5);
            let v = value(&mut f, &x);
            (x, v)
        } else {
            let x = along(-0.5);
            let v = value(&mut f, &x);
            (x, v)
        };
        evals += 1;
        if fc < values[worst].min(fr) {
            simplex[worst] = contracted;
            values[worst] = fc;
            continue;
        }
        // Shrink toward the best point.
        let anchor = simplex[best].clone();
        for &i in &order[1..] {
            for (x, a) in simplex[i].iter_mut().zip(&anchor) {
                *x = a + 0.5 * (*x - a);
            }
            values[i] = value(&mut f, &simplex[i]);
            evals += 1;
        }
    }
    let best = (0..=d)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    Minimum {
        x: simplex[best].clone(),
        value: values[best],
    }
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
