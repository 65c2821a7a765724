//! Ordinary least squares for the small regressions of the fitter (level,
//! trend and seasonal dummies), by Cholesky on the normal equations.

// Index loops mirror the matrix algebra they implement.
#![allow(clippy::needless_range_loop)]

/// A least-squares fit.
#[derive(Debug, Clone)]
pub struct Ols {
    pub coef: Vec<f64>,
    /// Residual sum of squares.
    pub rss: f64,
    /// (X'X)^-1, for standard errors: cov = sigma^2 (X'X)^-1.
    pub xtx_inv: Vec<Vec<f64>>,
    pub n: usize,
}

impl Ols {
    /// Gaussian log-likelihood at the MLE of the variance.
    pub fn loglik(&self) -> f64 {
        let n = self.n as f64;
        let s2 = (self.rss / n).max(1e-300);
        -0.5 * n * ((2.0 * std::f64::consts::PI * s2).ln() + 1.0)
    }

    /// Unbiased residual variance.
    pub fn sigma2(&self) -> f64 {
        self.rss / (self.n.saturating_sub(self.coef.len()).max(1)) as f64
    }
}

/// Fit y = X b; `rows` are the rows of X. `None` if X'X is singular.
pub fn ols(rows: &[Vec<f64>], y: &[f64]) -> Option<Ols> {
    let n = y.len();
    let p = rows.first()?.len();
    if n < p {
        return None;
    }
    let mut xtx = vec![vec![0.0; p]; p];
    let mut xty = vec![0.0; p];
    for (r, &yi) in rows.iter().zip(y) {
        for i in 0..p {
            xty[i] += r[i] * yi;
            for j in 0..=i {
                xtx[i][j] += r[i] * r[j];
            }
        }
    }
    for i in 0..p {
        let row = xtx[i].clone();
        for (j, v) in row.iter().enumerate().take(i) {
            xtx[j][i] = *v;
        }
    }
    let inv = invert_spd(&xtx)?;
    let coef: Vec<f64> = (0..p)
        .map(|i| (0..p).map(|j| inv[i][j] * xty[j]).sum())
        .collect();
    let rss = rows
        .iter()
        .zip(y)
        .map(|(r, &yi)| {
            let fit: f64 = r.iter().zip(&coef).map(|(a, b)| a * b).sum();
            (yi - fit).powi(2)
        })
        .sum();
    Some(Ols {
        coef,
        rss,
        xtx_inv: inv,
        n,
    })
}

/// Lower-triangular Cholesky factor L (a = L L') of a symmetric positive
/// definite matrix; `None` if it is singular to working precision.
pub fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let l = cholesky_semidefinite(a)?;
    (0..l.len()).all(|i| l[i][i] > 0.0).then_some(l)
}

/// Lower-triangular root L (a = L L') of a symmetric positive
/// semidefinite matrix: a pivot within rounding of zero (1e-12 of the
/// largest diagonal entry) gives a zero column (a coordinate that is a
/// point, or moves exactly with the others); `None` where a pivot is
/// negative beyond rounding (the matrix is not semidefinite).
pub fn cholesky_semidefinite(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let p = a.len();
    let mut l = vec![vec![0.0; p]; p];
    let scale = (0..p)
        .map(|i| a[i][i].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    let tolerance = 1e-12 * scale;
    for i in 0..p {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if s < -1e3 * tolerance {
                    return None;
                }
                l[i][i] = if s <= tolerance { 0.0 } else { s.sqrt() };
            } else if l[j][j] > 0.0 {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// Inverse of a symmetric positive definite matrix by Cholesky.
fn invert_spd(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let p = a.len();
    let l = cholesky(a)?;
    // inv = L^-T L^-1
    let mut linv = vec![vec![0.0; p]; p];
    for i in 0..p {
        linv[i][i] = 1.0 / l[i][i];
        for j in 0..i {
            let s: f64 = (j..i).map(|k| l[i][k] * linv[k][j]).sum();
            let v = -s / l[i][i];
            linv[i][j] = v;
        }
    }
    let mut inv = vec![vec![0.0; p]; p];
    for i in 0..p {
        for j in 0..=i {
            let s: f64 = (i..p).map(|k| linv[k][i] * linv[k][j]).sum();
            inv[i][j] = s;
            inv[j][i] = s;
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_line() {
        let rows: Vec<Vec<f64>> = (0..10).map(|t| vec![1.0, t as f64]).collect();
        let y: Vec<f64> = (0..10).map(|t| 3.0 + 2.0 * t as f64).collect();
        let f = ols(&rows, &y).unwrap();
        assert!((f.coef[0] - 3.0).abs() < 1e-9 && (f.coef[1] - 2.0).abs() < 1e-9);
        assert!(f.rss < 1e-12);
    }
}
