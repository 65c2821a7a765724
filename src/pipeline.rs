//! Open pipeline deals in the simulation.
//!
//! Each open deal is won with its win probability (the table's
//! `win_probability`, else the scenario's probability for its stage, else
//! the win rate of the closed deals in the pipeline table: won / (won +
//! lost), per territory shrunk toward the company's rate with the weight of
//! `PRIOR_DEALS` deals; the table records final outcomes only, so one rate
//! serves every open stage) and, if
//! won, closes in its expected close period or slips later by the
//! scenario's slip distribution (default 60% on time, 25% one period late,
//! 15% two). Deals past their close date count as due in the first simulated
//! period; deals due after the horizon are left out.
//!
//! Imputation (counted in the data summary, never silent): a deal without an
//! amount gets the median size of its territory's won deals in the history
//! (when the sales table names deals), else the median amount of its
//! territory's open deals, else of all open deals; a deal without a close
//! date closes one typical sales cycle (the median days from `created` to
//! close of the won deals in the pipeline table) after it was created, or
//! after the start of the horizon if it has no creation date either;
//! without won deals to measure the cycle it is due in the first simulated
//! period.
//!
//! No double counting: a territory's run-rate already contains the deals it
//! normally closes, and the open pipeline says which of them are known. In
//! every simulated period the run-rate path is scaled by `1 - c`, with `c` =
//! the pipeline's expected revenue there / the run-rate's expected revenue
//! there (at most 1), and the simulated wins are added. The expected total is
//! therefore the run-rate's, unless the pipeline expects more than the
//! run-rate in a period; then the excess is new revenue. What the pipeline
//! changes is where the known deals land and how lumpy the outcome is.
//! Pure computation; the randomness is passed in.

use std::collections::BTreeMap;

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::calendar::Calendar;
use crate::history::Opportunity;
use crate::scenario::PipelineSpec;
use crate::stats::quantile::sorted_quantile;

/// Closed deals whose weight the company's win rate has in a territory's.
const PRIOR_DEALS: f64 = 20.0;

/// What the history says about the territories' deals.
#[derive(Debug, Clone, Copy, Default)]
pub struct DealHistory<'a> {
    /// Won deal sizes per territory, when the sales table names deals.
    pub sizes: Option<&'a [Vec<f64>]>,
    /// Pipeline rows per territory and stage (lower case), closed deals
    /// included.
    pub stages: &'a [BTreeMap<String, usize>],
    /// Days from creation to close of closed deals, with their stage.
    pub cycles: &'a [(String, i64)],
}

/// One open deal, ready to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenDeal {
    pub amount: f64,
    /// Simulated period of the expected close (0 = the first).
    pub period: usize,
    pub win: f64,
}

/// The pipeline of every territory, and what was imputed or left out.
#[derive(Debug, Clone, Default)]
pub struct PipelinePlan {
    /// Deals per territory.
    pub deals: Vec<Vec<OpenDeal>>,
    pub slip: Vec<f64>,
    pub imputed_amount: usize,
    pub imputed_close: usize,
    /// Deals due after the horizon.
    pub after_horizon: usize,
    /// Deals without a win probability (no column value, no stage match,
    /// no closed deals to estimate a rate from).
    pub no_probability: usize,
    /// Deals given the historical win rate of closed deals.
    pub estimated_probability: usize,
    /// The company's win rate of closed deals, when there were any.
    pub company_win_rate: Option<f64>,
    /// Median days from creation to close of won deals, when known.
    pub cycle_days: Option<i64>,
    /// Deals without any amount to impute from.
    pub no_amount: usize,
}

/// Median days from creation to close of the won deals (non-negative).
fn median_won_cycle(cycles: &[(String, i64)], spec: &PipelineSpec) -> Option<i64> {
    let won: Vec<f64> = cycles
        .iter()
        .filter(|(stage, days)| {
            *days >= 0
                && spec
                    .won_stages
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(stage))
        })
        .map(|(_, days)| *days as f64)
        .collect();
    median(won).map(|d| d.round() as i64)
}

/// Win rates of closed deals: the company's and each territory's.
struct WinRates {
    company: Option<f64>,
    territory: Vec<Option<f64>>,
}

/// won / (won + lost) from the stage counts, per territory shrunk toward
/// the company's rate with the weight of `PRIOR_DEALS` closed deals.
fn win_rates(stages: &[BTreeMap<String, usize>], n_terr: usize, spec: &PipelineSpec) -> WinRates {
    let count = |m: &BTreeMap<String, usize>, names: &[String]| -> f64 {
        names
            .iter()
            .map(|n| m.get(&n.to_lowercase()).copied().unwrap_or(0) as f64)
            .sum()
    };
    let closed: Vec<(f64, f64)> = (0..n_terr)
        .map(|t| {
            stages.get(t).map_or((0.0, 0.0), |m| {
                (count(m, &spec.won_stages), count(m, &spec.lost_stages))
            })
        })
        .collect();
    let (won, lost) = closed
        .iter()
        .fold((0.0, 0.0), |(w, l), (a, b)| (w + a, l + b));
    let company = (won + lost > 0.0).then(|| won / (won + lost));
    let territory = closed
        .iter()
        .map(|&(w, l)| company.map(|p| (w + PRIOR_DEALS * p) / (w + l + PRIOR_DEALS)))
        .collect();
    WinRates { company, territory }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(sorted_quantile(&v, 0.5))
}

impl PipelinePlan {
    /// Prepare `open` deals of `n_terr` territories for a horizon of `n_sim`
    /// simulated periods starting at period ordinal `origin`, with what the
    /// history says about the territories' deals.
    pub fn prepare(
        open: &[Opportunity],
        n_terr: usize,
        calendar: &Calendar,
        origin: i64,
        n_sim: usize,
        history: DealHistory,
        spec: &PipelineSpec,
    ) -> Self {
        let deal_sizes = history.sizes;
        let mut plan = Self {
            deals: vec![Vec::new(); n_terr],
            slip: normalised(&spec.slip),
            ..Self::default()
        };
        if !spec.simulate || n_sim == 0 {
            return plan;
        }
        let stage_win: BTreeMap<String, f64> = spec
            .stage_win
            .iter()
            .map(|(k, v)| (k.to_lowercase(), *v))
            .collect();
        let positive = |o: &&Opportunity| o.amount.is_some_and(|a| a > 0.0);
        let open_median_all = median(
            open.iter()
                .filter(positive)
                .filter_map(|o| o.amount)
                .collect(),
        );
        let mut per_territory_fallback: Vec<Option<f64>> = (0..n_terr)
            .map(|t| {
                deal_sizes
                    .and_then(|s| s.get(t))
                    .and_then(|s| median(s.iter().copied().filter(|&a| a > 0.0).collect()))
            })
            .collect();
        for (t, fallback) in per_territory_fallback.iter_mut().enumerate() {
            if fallback.is_none() {
                *fallback = median(
                    open.iter()
                        .filter(|o| o.territory == t)
                        .filter(positive)
                        .filter_map(|o| o.amount)
                        .collect(),
                )
                .or(open_median_all);
            }
        }
        let rates = win_rates(history.stages, n_terr, spec);
        let cycle = median_won_cycle(history.cycles, spec);
        plan.cycle_days = cycle;
        plan.company_win_rate = rates.company;
        for o in open {
            if o.territory >= n_terr {
                continue;
            }
            let win = o
                .win_probability
                .or_else(|| {
                    o.stage
                        .as_ref()
                        .and_then(|s| stage_win.get(&s.to_lowercase()).copied())
                })
                .or_else(|| {
                    let r = rates.territory[o.territory];
                    if r.is_some() {
                        plan.estimated_probability += 1;
                    }
                    r
                });
            let Some(win) = win else {
                plan.no_probability += 1;
                continue;
            };
            let amount = match o.amount {
                Some(a) => a,
                None => match per_territory_fallback[o.territory] {
                    Some(a) => {
                        plan.imputed_amount += 1;
                        a
                    }
                    None => {
                        plan.no_amount += 1;
                        continue;
                    }
                },
            };
            let period = match o.close_date {
                Some(d) => calendar.period_of(d) - origin,
                None => {
                    plan.imputed_close += 1;
                    match cycle {
                        Some(days) => {
                            let from = o.created.unwrap_or_else(|| calendar.start_of(origin));
                            calendar.period_of(from + chrono::Duration::days(days)) - origin
                        }
                        None => 0,
                    }
                }
            };
            if period >= n_sim as i64 {
                plan.after_horizon += 1;
                continue;
            }
            plan.deals[o.territory].push(OpenDeal {
                amount,
                period: period.max(0) as usize,
                win,
            });
        }
        plan
    }

    /// Whether any deal is simulated.
    pub fn is_empty(&self) -> bool {
        self.deals.iter().all(Vec::is_empty)
    }

    /// Number of deals simulated.
    pub fn len(&self) -> usize {
        self.deals.iter().map(Vec::len).sum()
    }

    /// Expected pipeline revenue of territory `t` in each of `n` periods.
    pub fn expected(&self, t: usize, n: usize) -> Vec<f64> {
        let mut out = vec![0.0; n];
        for d in &self.deals[t] {
            for (k, p) in self.slip.iter().enumerate() {
                if let Some(v) = out.get_mut(d.period + k) {
                    *v += d.win * p * d.amount;
                }
            }
        }
        out
    }

    /// One trial's wins of territory `t`, added into `out` (per period;
    /// deals slipping past the horizon are lost to it).
    pub fn sample_into(&self, t: usize, rng: &mut Xoshiro256PlusPlus, out: &mut [f64]) {
        for d in &self.deals[t] {
            let won = rng.random::<f64>() < d.win;
            let u: f64 = rng.random();
            if !won {
                continue;
            }
            let mut acc = 0.0;
            let mut lag = self.slip.len().saturating_sub(1);
            for (k, p) in self.slip.iter().enumerate() {
                acc += p;
                if u < acc {
                    lag = k;
                    break;
                }
            }
            if let Some(v) = out.get_mut(d.period + lag) {
                *v += d.amount;
            }
        }
    }

    /// Apply the pipeline to a territory's simulated paths `paths`
    /// ([trial * stride + offset + h] for h in 0..n): scale the run-rate by
    /// 1 - c per period, c = expected pipeline / `run_rate_mean` (the
    /// run-rate's expected revenue before scenario adjustments, so that
    /// scenarios compared with common random numbers scale alike), and add
    /// each trial's wins drawn by `rng_for(batch)`.
    pub fn apply(
        &self,
        t: usize,
        paths: &mut [f64],
        layout: PathLayout,
        run_rate_mean: &[f64],
        rng_for: &dyn Fn(u64) -> Xoshiro256PlusPlus,
        batch: usize,
    ) {
        let PathLayout {
            trials,
            stride,
            offset,
            n,
        } = layout;
        if self.deals[t].is_empty() || n == 0 || trials == 0 {
            return;
        }
        let expected = self.expected(t, n);
        let keep: Vec<f64> = run_rate_mean
            .iter()
            .zip(&expected)
            .map(|(&m, &e)| if m > 0.0 { 1.0 - (e / m).min(1.0) } else { 1.0 })
            .collect();
        let mut wins = vec![0.0; n];
        for b in 0..trials.div_ceil(batch) {
            let mut rng = rng_for(b as u64);
            for trial in (b * batch)..((b + 1) * batch).min(trials) {
                wins.iter_mut().for_each(|w| *w = 0.0);
                self.sample_into(t, &mut rng, &mut wins);
                let row = &mut paths[trial * stride + offset..trial * stride + offset + n];
                for ((v, k), w) in row.iter_mut().zip(&keep).zip(&wins) {
                    *v = *v * k + w;
                }
            }
        }
    }
}

/// Where a territory's simulated periods sit in its path buffer.
#[derive(Debug, Clone, Copy)]
pub struct PathLayout {
    pub trials: usize,
    /// Values per trial in the buffer.
    pub stride: usize,
    /// Position of the first simulated period within a trial's values.
    pub offset: usize,
    /// Simulated periods.
    pub n: usize,
}

/// `slip` scaled to sum to 1 (on time when empty or all zero).
fn normalised(slip: &[f64]) -> Vec<f64> {
    let total: f64 = slip.iter().filter(|p| p.is_finite() && **p > 0.0).sum();
    if total <= 0.0 {
        return vec![1.0];
    }
    slip.iter()
        .map(|p| {
            if p.is_finite() && *p > 0.0 {
                p / total
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::PeriodKind;
    use chrono::NaiveDate;
    use rand::SeedableRng;

    fn opp(
        t: usize,
        amount: Option<f64>,
        close: Option<&str>,
        stage: &str,
        win: Option<f64>,
    ) -> Opportunity {
        Opportunity {
            id: "o".into(),
            territory: t,
            amount,
            close_date: close.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()),
            stage: Some(stage.into()),
            win_probability: win,
            account: None,
            created: None,
        }
    }

    fn plan(open: &[Opportunity], spec: &PipelineSpec) -> PipelinePlan {
        let cal = Calendar::new(PeriodKind::Month, 1);
        let origin = cal.period_of(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        PipelinePlan::prepare(
            open,
            2,
            &cal,
            origin,
            12,
            DealHistory {
                sizes: Some(&[vec![100.0, 300.0], vec![]]),
                stages: &[],
                cycles: &[],
            },
            spec,
        )
    }

    #[test]
    fn imputation_and_exclusion_rules() {
        let mut spec = PipelineSpec::default();
        spec.stage_win.insert("Engaging".into(), 0.5);
        let p = plan(
            &[
                opp(0, None, Some("2027-03-10"), "engaging", None), // amount from history: 200
                opp(1, None, None, "x", Some(0.3)), // amount: median of its open deals (50, 70)
                opp(1, Some(50.0), Some("2026-11-01"), "x", Some(1.0)), // overdue: period 0
                opp(1, Some(70.0), Some("2028-02-01"), "x", Some(1.0)), // after the horizon
                opp(0, Some(10.0), Some("2027-01-05"), "Prospecting", None), // no probability
            ],
            &spec,
        );
        assert_eq!(
            p.deals[0],
            vec![OpenDeal {
                amount: 200.0,
                period: 2,
                win: 0.5
            }]
        );
        assert_eq!(
            p.deals[1][0],
            OpenDeal {
                amount: 60.0,
                period: 0,
                win: 0.3
            }
        );
        assert_eq!(
            p.deals[1][1],
            OpenDeal {
                amount: 50.0,
                period: 0,
                win: 1.0
            }
        );
        assert_eq!(
            (
                p.imputed_amount,
                p.imputed_close,
                p.after_horizon,
                p.no_probability
            ),
            (2, 1, 1, 1)
        );
    }

    #[test]
    fn win_rate_of_closed_deals_shrunk_toward_the_company() {
        // Territory 0: 30 won, 10 lost; territory 1: 0 won, 5 lost.
        // Company 30 / 45; territory 0 (30 + 20 x 2/3) / 60, territory 1
        // (0 + 20 x 2/3) / 25.
        let stages = vec![
            BTreeMap::from([("won".to_string(), 30), ("lost".to_string(), 10)]),
            BTreeMap::from([("closed lost".to_string(), 5), ("open".to_string(), 7)]),
        ];
        let r = win_rates(&stages, 2, &PipelineSpec::default());
        let p = 30.0 / 45.0;
        assert!((r.company.unwrap() - p).abs() < 1e-12);
        assert!((r.territory[0].unwrap() - (30.0 + 20.0 * p) / 60.0).abs() < 1e-12);
        assert!((r.territory[1].unwrap() - 20.0 * p / 25.0).abs() < 1e-12);
        // No closed deals: no rate, the deal is left out and counted.
        let none = win_rates(&[BTreeMap::new()], 1, &PipelineSpec::default());
        assert_eq!((none.company, none.territory[0]), (None, None));
        let open = [opp(0, Some(100.0), Some("2027-02-01"), "Engaging", None)];
        let spec = PipelineSpec::default();
        let cal = Calendar::new(PeriodKind::Month, 1);
        let origin = cal.period_of(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        let history = DealHistory {
            sizes: None,
            stages: &stages,
            cycles: &[],
        };
        let p = PipelinePlan::prepare(&open, 2, &cal, origin, 12, history, &spec);
        assert_eq!(p.estimated_probability, 1);
        assert!((p.deals[0][0].win - r.territory[0].unwrap()).abs() < 1e-12);
    }

    #[test]
    fn a_missing_close_date_is_one_sales_cycle_after_creation() {
        // Won deals took 40, 60 and 70 days (median 60; the lost one's
        // 300 days do not count). An open deal created on 2026-12-20
        // closes 60 days later, in February 2027 (period 1); one without a
        // creation date 60 days after the horizon's start, in March
        // (period 2).
        let cycles = [
            ("won".to_string(), 40),
            ("won".to_string(), 60),
            ("won".to_string(), 70),
            ("lost".to_string(), 300),
        ];
        let mut created = opp(0, Some(100.0), None, "Engaging", Some(0.5));
        created.created = NaiveDate::from_ymd_opt(2026, 12, 20);
        let undated = opp(0, Some(100.0), None, "Prospecting", Some(0.5));
        let cal = Calendar::new(PeriodKind::Month, 1);
        let origin = cal.period_of(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        let history = DealHistory {
            sizes: None,
            stages: &[],
            cycles: &cycles,
        };
        let p = PipelinePlan::prepare(
            &[created, undated],
            1,
            &cal,
            origin,
            12,
            history,
            &PipelineSpec::default(),
        );
        assert_eq!(p.cycle_days, Some(60));
        assert_eq!(p.imputed_close, 2);
        let periods: Vec<usize> = p.deals[0].iter().map(|d| d.period).collect();
        assert_eq!(periods, vec![1, 2]);
    }

    #[test]
    fn expected_value_spreads_by_slip() {
        let p = plan(
            &[opp(0, Some(1000.0), Some("2027-11-15"), "x", Some(0.5))],
            &PipelineSpec::default(),
        );
        let e = p.expected(0, 12);
        // Due in November (period 10): 60% there, 25% in December, 15% past the horizon.
        assert!((e[10] - 300.0).abs() < 1e-9 && (e[11] - 125.0).abs() < 1e-9);
        assert_eq!(e.iter().filter(|v| **v > 0.0).count(), 2);
    }

    #[test]
    fn apply_keeps_the_mean_when_the_pipeline_is_part_of_the_run_rate() {
        // Run-rate 1000 per period in every trial; one deal of 400 at 50% in
        // period 0, always on time: c = 200 / 1000, so the mean stays 1000.
        let spec = PipelineSpec {
            slip: vec![1.0],
            ..PipelineSpec::default()
        };
        let p = plan(
            &[opp(0, Some(400.0), Some("2027-01-20"), "x", Some(0.5))],
            &spec,
        );
        let trials = 20_000;
        let mut paths = vec![1000.0; trials * 3];
        let layout = PathLayout {
            trials,
            stride: 3,
            offset: 0,
            n: 3,
        };
        let rng = |b| Xoshiro256PlusPlus::seed_from_u64(b);
        p.apply(0, &mut paths, layout, &[1000.0; 3], &rng, 1024);
        let mean0: f64 = (0..trials).map(|i| paths[i * 3]).sum::<f64>() / trials as f64;
        // Monte Carlo s.e. of the mean: 400 x 0.5 / sqrt(20000) = 1.4.
        assert!((mean0 - 1000.0).abs() < 6.0, "{mean0}");
        // Outcomes are 800 (lost) or 1200 (won).
        assert!((0..trials).all(|i| paths[i * 3] == 800.0 || paths[i * 3] == 1200.0));
        assert!((0..trials).all(|i| paths[i * 3 + 1] == 1000.0));
    }

    #[test]
    fn a_pipeline_larger_than_the_run_rate_adds_the_excess() {
        let spec = PipelineSpec {
            slip: vec![1.0],
            ..PipelineSpec::default()
        };
        let p = plan(
            &[opp(0, Some(5000.0), Some("2027-01-20"), "x", Some(1.0))],
            &spec,
        );
        let mut paths = vec![1000.0; 10];
        let layout = PathLayout {
            trials: 10,
            stride: 1,
            offset: 0,
            n: 1,
        };
        let rng = |b| Xoshiro256PlusPlus::seed_from_u64(b);
        p.apply(0, &mut paths, layout, &[1000.0], &rng, 1024);
        assert!(paths.iter().all(|&v| v == 5000.0));
    }
}
