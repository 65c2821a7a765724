//! Many fits at once, in lockstep. A fit's time is its Nelder–Mead
//! search's passes over the series, and a pass is one serial chain of
//! dependent arithmetic (each period's level needs the last's), so a core
//! runs it far below its throughput. A territory's evaluation makes dozens
//! of independent fits (every candidate form at every rolling origin), so
//! each search ([`Simplex`]) names its next point, and one pass over the
//! periods advances every search's recursion ([`Recursion::advance`]) side
//! by side: the processor overlaps their chains. Each fit takes exactly
//! the steps, in exactly the arithmetic, it takes alone, so results are
//! the same to the bit however the fits are grouped.

use super::{EtsFit, Problem, Recursion, Request, Setup};
use crate::stats::nelder_mead::Simplex;

/// Every request's fit (`None` where its form does not fit), in order.
pub fn fit_all(requests: &[Request]) -> Vec<Option<EtsFit>> {
    let problems: Vec<Option<Problem>> = requests.iter().map(|&r| Problem::new(r)).collect();
    let mut searches: Vec<Option<Simplex>> = problems
        .iter()
        .map(|p| {
            p.as_ref()
                .filter(|p| p.searches())
                .map(|p| Simplex::new(&p.start, &p.step, p.max_evals, p.tolerance))
        })
        .collect();
    // One point of every search still running, a round at a time; the
    // buffers are reused across rounds.
    let mut lanes: Vec<Lane> = Vec::with_capacity(requests.len());
    let mut states: Vec<Recursion> = Vec::with_capacity(requests.len());
    loop {
        lanes.clear();
        lanes.extend(searches.iter().enumerate().filter_map(|(i, search)| {
            let x = search.as_ref()?.pending()?;
            Some(Lane {
                problem: i,
                a: requests[i].a,
                setup: problems[i].as_ref()?.setup_at(x),
                nll: 0.0,
            })
        }));
        if lanes.is_empty() {
            break;
        }
        advance_together(&mut lanes, &mut states);
        for lane in &lanes {
            if let (Some(search), Some(problem)) =
                (&mut searches[lane.problem], &problems[lane.problem])
            {
                search.tell(problem.objective(&lane.setup, lane.nll));
            }
        }
    }
    problems
        .iter()
        .zip(searches)
        .map(|(problem, search)| {
            let problem = problem.as_ref()?;
            let x = match search {
                Some(search) => search.minimum().x,
                None => problem.start.clone(),
            };
            problem.finish(x)
        })
        .collect()
}

/// One search's pending point: its problem, series and setup, and the
/// pass's negative log-likelihood once [`advance_together`] has run.
struct Lane<'a> {
    problem: usize,
    a: &'a [f64],
    setup: Setup<'a>,
    nll: f64,
}

/// Every lane's pass over its series, all advanced a period at a time
/// together: each lane's negative log-likelihood, as [`super::run`] gives
/// it (`states`: a buffer).
fn advance_together(lanes: &mut [Lane], states: &mut Vec<Recursion>) {
    states.clear();
    states.extend(lanes.iter().map(|lane| Recursion::new(&lane.setup)));
    let longest = lanes.iter().map(|lane| lane.a.len()).max().unwrap_or(0);
    for t in 0..longest {
        for (state, lane) in states.iter_mut().zip(lanes.iter()) {
            if let Some(&y) = lane.a.get(t) {
                state.advance(y, t, &lane.setup);
            }
        }
    }
    for (state, lane) in states.drain(..).zip(lanes.iter_mut()) {
        lane.nll = state.finish(lane.a.len(), lane.setup.ln_floor).nll;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ets::prior::{AlphaPrior, FormPriors};
    use crate::ets::tests::noise;
    use crate::ets::{run, Form, Growth, Search};
    use crate::stats::nelder_mead::minimize;

    /// A fixed pseudo-random series around a level growing 1% a period.
    fn series(n: usize, seed: u64) -> Vec<f64> {
        noise(n, seed)
            .iter()
            .enumerate()
            .map(|(t, v)| v * 1.01f64.powi(t as i32))
            .collect()
    }

    /// The fit as one search alone makes it: [`minimize`] over the scalar
    /// pass [`run`], no lockstep anywhere.
    fn alone(request: Request) -> Option<EtsFit> {
        let problem = Problem::new(request)?;
        let x = if problem.searches() {
            let objective = |x: &[f64]| {
                let setup = problem.setup_at(x);
                problem.objective(&setup, run(request.a, &setup, None).nll)
            };
            minimize(
                objective,
                &problem.start,
                &problem.step,
                problem.max_evals,
                problem.tolerance,
            )
            .x
        } else {
            problem.start.clone()
        };
        problem.finish(x)
    }

    #[test]
    fn fits_made_in_lockstep_are_the_fits_made_alone_to_the_bit() {
        // Every form, full and short searches, a group's growth and a
        // prior, on prefixes of different lengths (lanes that end at
        // different periods) and one too short to fit: batched together,
        // each fit must be the one its search makes alone.
        let a = series(40, 7);
        let growth = Growth {
            history: (0..40).map(|t| 0.002 * (t % 5) as f64).collect(),
            forecast: vec![0.01; 12],
        };
        let pooled: Vec<Vec<f64>> = (0..6).map(|k| series(36, 100 + k)).collect();
        let refs: Vec<(&[f64], &Growth)> = pooled.iter().map(|s| (&s[..], &growth)).collect();
        let prior = FormPriors {
            level: AlphaPrior::pooled(&refs, 12.0),
            group: AlphaPrior::pooled(&refs, 12.0),
        };
        assert!(prior.cost(Form::Level, 0.3) != prior.cost(Form::Level, 0.05));
        let mut requests = Vec::new();
        for (i, &form) in Form::ALL.iter().enumerate() {
            for (j, n) in [40, 33, 24, 5].into_iter().enumerate() {
                let search = if (i + j) % 2 == 0 {
                    Search::Full
                } else {
                    Search::Short
                };
                requests.push(Request {
                    search,
                    ..Request::new(&a[..n], form, &growth, &prior, 12)
                });
            }
        }
        let together = fit_all(&requests);
        assert_eq!(together.len(), requests.len());
        let mut fitted = 0;
        for (request, batched) in requests.iter().zip(&together) {
            let single = alone(*request);
            match (batched, single) {
                (Some(b), Some(s)) => {
                    fitted += 1;
                    assert_eq!(
                        b.coords,
                        s.coords,
                        "{:?} on {}",
                        request.form,
                        request.a.len()
                    );
                    assert_eq!(b.level.to_bits(), s.level.to_bits());
                    assert_eq!(b.slope.to_bits(), s.slope.to_bits());
                    assert_eq!(b.aicc.to_bits(), s.aicc.to_bits());
                    assert_eq!(b.fitted, s.fitted);
                }
                (None, None) => {}
                (b, s) => panic!(
                    "{:?} on {}: batched {} alone {}",
                    request.form,
                    request.a.len(),
                    b.is_some(),
                    s.is_some()
                ),
            }
        }
        // All but the five-period prefix's multi-parameter forms fitted.
        assert!(fitted > 3 * Form::ALL.len(), "{fitted}");
    }
}
