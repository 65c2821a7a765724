//! The weighted objective and its incremental evaluation.
//!
//! For each balanced measure m with weight w_m, every active territory t has
//! a target `T_tm = total_m x capacity_t / sum of active capacities`. The
//! objective is
//!
//! `f = sum_m w_m x (1/K) x sum_t (X_tm / T_tm - 1)^2  +  c x D / D0`
//!
//! where X_tm is the territory's total, K the number of active territories
//! (with equal capacities the first term is the weighted sum of squared
//! coefficients of variation), c the `compactness` weight, D the sum over
//! accounts of the squared distance (km) to their territory's centre and D0
//! the same sum for the starting assignment. Centres are fixed: the
//! potential-weighted centroid of a territory's starting accounts, and for an
//! added territory the centroid of its region. Fixed centres keep a move's
//! change in f exact and O(measures), which is what makes the search fast.
//! Pure arithmetic, no I/O.

use super::problem::{Measure, Problem};

/// Squared relative deviation of `x` from `target`.
fn dev2(x: f64, target: f64) -> f64 {
    let r = x / target - 1.0;
    r * r
}

/// Squared distance in km from point `a` (lat, lon) to a centre given as
/// (lat, lon, cos lat): equirectangular at the centre's latitude, so the
/// search's inner loop needs no trigonometry.
fn dist2(a: (f64, f64), c: (f64, f64, f64)) -> f64 {
    let dy = (a.0 - c.0) * 110.57;
    let dx = (a.1 - c.1) * 111.32 * c.2;
    dx * dx + dy * dy
}

/// Territory totals and targets for an assignment, updated move by move.
#[derive(Debug, Clone)]
pub struct State {
    /// Territory of each account.
    pub assign: Vec<usize>,
    /// Number of measures.
    m: usize,
    /// Per-account measure values, account-major (`n x m`).
    values: Vec<f64>,
    /// Per-measure weight / K; 0 for a measure whose total is 0.
    scale: Vec<f64>,
    /// Totals, territory-major (`territories x m`).
    pub totals: Vec<f64>,
    /// Targets, territory-major; 0 for inactive territories.
    targets: Vec<f64>,
    /// `scale_j / target` (0 where the term does not count), territory-major.
    inv: Vec<f64>,
    /// `total / target - 1`, territory-major (0 where it does not count).
    rel: Vec<f64>,
    pub counts: Vec<usize>,
    /// Compactness: squared distance of each account to each territory's
    /// centre is computed on demand from these.
    centres: Vec<Option<(f64, f64, f64)>>,
    coords: Vec<Option<(f64, f64)>>,
    /// c / D0, or 0 when compactness is off.
    compact_scale: f64,
}

impl State {
    /// The state of `assign` for `problem`, with targets over the territories
    /// `active` (the others get no target and count for nothing).
    pub fn new(problem: &Problem, assign: Vec<usize>, active: &[usize]) -> Self {
        let n_t = problem.territories.len();
        let measures: Vec<(Measure, f64)> = problem.settings.balance.clone();
        let m = measures.len();
        let n = problem.accounts.len();
        let mut values = Vec::with_capacity(n * m);
        for a in 0..n {
            for &(measure, _) in &measures {
                values.push(problem.value(a, measure));
            }
        }
        let cap_total: f64 = active
            .iter()
            .map(|&t| problem.territories[t].capacity)
            .sum();
        let k = active.len().max(1) as f64;
        let mut scale = Vec::with_capacity(m);
        let mut targets = vec![0.0; n_t * m];
        for (j, &(_, w)) in measures.iter().enumerate() {
            let total: f64 = (0..n).map(|a| values[a * m + j]).sum();
            scale.push(if total > 0.0 { w / k } else { 0.0 });
            for &t in active {
                targets[t * m + j] = total * problem.territories[t].capacity / cap_total;
            }
        }
        let coords: Vec<Option<(f64, f64)>> = problem.accounts.iter().map(|a| a.coords).collect();
        let centres = centres(problem);
        let mut state = State {
            assign: vec![0; n],
            m,
            values,
            scale,
            totals: vec![0.0; n_t * m],
            inv: vec![0.0; n_t * m],
            rel: vec![0.0; n_t * m],
            targets,
            counts: vec![0; n_t],
            centres,
            coords,
            compact_scale: 0.0,
        };
        for (a, &t) in assign.iter().enumerate() {
            state.assign[a] = t;
            state.counts[t] += 1;
            for j in 0..m {
                state.totals[t * m + j] += state.values[a * m + j];
            }
        }
        for t in 0..n_t {
            state.refresh(t);
        }
        if problem.settings.compactness > 0.0 {
            let d0: f64 = problem
                .accounts
                .iter()
                .enumerate()
                .map(|(a, acc)| state.raw_dist2(a, acc.territory))
                .sum();
            if d0 > 0.0 {
                state.compact_scale = problem.settings.compactness / d0;
            }
        }
        state
    }

    /// Recompute the cached ratios of territory `t`.
    fn refresh(&mut self, t: usize) {
        for j in 0..self.m {
            let i = t * self.m + j;
            let target = self.targets[i];
            if target > 0.0 && self.scale[j] > 0.0 {
                self.inv[i] = 1.0 / target;
                self.rel[i] = self.totals[i] / target - 1.0;
            } else {
                self.inv[i] = 0.0;
                self.rel[i] = 0.0;
            }
        }
    }

    /// Squared distance of account `a` to territory `t`'s centre, or 0 when
    /// compactness is off (so the search pays nothing for it then).
    fn account_dist2(&self, a: usize, t: usize) -> f64 {
        if self.compact_scale == 0.0 {
            return 0.0;
        }
        self.raw_dist2(a, t)
    }

    fn raw_dist2(&self, a: usize, t: usize) -> f64 {
        match (self.coords[a], self.centres[t]) {
            (Some(p), Some(c)) => dist2(p, c),
            _ => 0.0,
        }
    }

    /// Number of measures.
    pub fn measures(&self) -> usize {
        self.m
    }

    /// Total of measure `j` in territory `t`.
    pub fn total(&self, t: usize, j: usize) -> f64 {
        self.totals[t * self.m + j]
    }

    /// Target of measure `j` in territory `t` (0 if inactive).
    pub fn target(&self, t: usize, j: usize) -> f64 {
        self.targets[t * self.m + j]
    }

    /// Balance part of the objective for measure `j`.
    pub fn balance_term(&self, j: usize) -> f64 {
        if self.scale[j] == 0.0 {
            return 0.0;
        }
        let n_t = self.counts.len();
        (0..n_t)
            .filter(|&t| self.target(t, j) > 0.0)
            .map(|t| dev2(self.total(t, j), self.target(t, j)))
            .sum::<f64>()
            * self.scale[j]
    }

    /// Compactness part of the objective.
    pub fn compact_term(&self) -> f64 {
        if self.compact_scale == 0.0 {
            return 0.0;
        }
        (0..self.assign.len())
            .map(|a| self.account_dist2(a, self.assign[a]))
            .sum::<f64>()
            * self.compact_scale
    }

    /// The weighted objective (smaller is better).
    pub fn objective(&self) -> f64 {
        (0..self.m).map(|j| self.balance_term(j)).sum::<f64>() + self.compact_term()
    }

    /// Change in measure `j`'s balance term if territory `t`'s total
    /// changes by `dv`.
    #[inline]
    fn term_change(&self, t: usize, j: usize, dv: f64) -> f64 {
        let target = self.targets[t * self.m + j];
        if target <= 0.0 || self.scale[j] == 0.0 {
            return 0.0;
        }
        let x = self.totals[t * self.m + j];
        self.scale[j] * (dev2(x + dv, target) - dev2(x, target))
    }

    /// Change in the objective from taking account `a` out of its territory.
    #[inline]
    pub fn remove_delta(&self, a: usize) -> f64 {
        let s = self.assign[a];
        let mut d = -self.account_dist2(a, s) * self.compact_scale;
        for j in 0..self.m {
            d += self.term_change(s, j, -self.values[a * self.m + j]);
        }
        d
    }

    /// Change in the objective from putting account `a` (currently
    /// elsewhere) into territory `t`.
    #[inline]
    pub fn add_delta(&self, a: usize, t: usize) -> f64 {
        // (r + u)^2 - r^2 = u (2r + u) with u = v / target: no division in
        // the innermost loop of the search.
        let mut d = self.account_dist2(a, t) * self.compact_scale;
        let base = t * self.m;
        for j in 0..self.m {
            let u = self.values[a * self.m + j] * self.inv[base + j];
            d += self.scale[j] * u * (2.0 * self.rel[base + j] + u);
        }
        d
    }

    /// Change in the objective of moving account `a` to territory `t`.
    pub fn move_delta(&self, a: usize, t: usize) -> f64 {
        if self.assign[a] == t {
            return 0.0;
        }
        self.remove_delta(a) + self.add_delta(a, t)
    }

    /// Change in measure `j`'s balance term of moving `a` to `t`.
    pub fn measure_delta(&self, a: usize, t: usize, j: usize) -> f64 {
        let s = self.assign[a];
        if s == t {
            return 0.0;
        }
        let v = self.values[a * self.m + j];
        self.term_change(s, j, -v) + self.term_change(t, j, v)
    }

    /// Change in the compactness term of moving `a` to `t`.
    pub fn compact_delta(&self, a: usize, t: usize) -> f64 {
        (self.account_dist2(a, t) - self.account_dist2(a, self.assign[a])) * self.compact_scale
    }

    /// Move account `a` to territory `t`.
    pub fn apply(&mut self, a: usize, t: usize) {
        let s = self.assign[a];
        if s == t {
            return;
        }
        for j in 0..self.m {
            let v = self.values[a * self.m + j];
            self.totals[s * self.m + j] -= v;
            self.totals[t * self.m + j] += v;
        }
        self.counts[s] -= 1;
        self.counts[t] += 1;
        self.assign[a] = t;
        self.refresh(s);
        self.refresh(t);
    }
}

/// Fixed territory centres (see the module header).
fn centres(problem: &Problem) -> Vec<Option<(f64, f64, f64)>> {
    let n_t = problem.territories.len();
    let mut sum = vec![(0.0, 0.0, 0.0); n_t];
    let mut regions: Vec<(String, (f64, f64, f64))> = Vec::new();
    for acc in &problem.accounts {
        if let Some((lat, lon)) = acc.coords {
            let w = acc.potential.max(0.0) + 1e-9;
            let s = &mut sum[acc.territory];
            s.0 += w * lat;
            s.1 += w * lon;
            s.2 += w;
            let region = &problem.territories[acc.territory].region;
            match regions.iter_mut().find(|(r, _)| r == region) {
                Some((_, r)) => {
                    r.0 += w * lat;
                    r.1 += w * lon;
                    r.2 += w;
                }
                None => regions.push((region.clone(), (w * lat, w * lon, w))),
            }
        }
    }
    let centre = |s: (f64, f64, f64)| {
        (s.2 > 0.0).then(|| {
            let lat = s.0 / s.2;
            (lat, s.1 / s.2, lat.to_radians().cos())
        })
    };
    (0..n_t)
        .map(|t| {
            if problem.territories[t].added {
                regions
                    .iter()
                    .find(|(r, _)| *r == problem.territories[t].region)
                    .and_then(|(_, s)| centre(*s))
            } else {
                centre(sum[t])
            }
        })
        .collect()
}

/// Spread of territory totals: coefficient of variation (population) and
/// max/min ratio, of `totals[t] / capacity[t]` over the given territories.
/// `max_min` is `None` when the smallest total is not positive.
pub fn spread(totals: &[f64], capacities: &[f64]) -> (f64, Option<f64>) {
    let xs: Vec<f64> = totals
        .iter()
        .zip(capacities)
        .map(|(x, c)| x / c.max(1e-12))
        .collect();
    if xs.is_empty() {
        return (0.0, None);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let cv = if mean > 0.0 { var.sqrt() / mean } else { 0.0 };
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    (cv, (min > 0.0).then(|| max / min))
}
