//! Fitting: from a [`SalesHistory`] to [`FittedModels`].
//!
//! A company closed in part of every year is fitted on its selling periods
//! alone (`offseason`). Per territory, in this order (the README explains
//! the choices):
//! 1. **Seasonality** (`season`), pooled: a log-linear regression on the
//!    company's and each region's total picks seasonal indices when the
//!    information criterion supports them; each territory's own deviations
//!    from its region's profile are shrunk toward it by empirical Bayes
//!    (weight tau^2 / (tau^2 + noise variance)), so a territory with little
//!    history borrows its region's shape. Without a company profile they
//!    are measured against no season (or a region's own profile) and kept
//!    only where seasons repeat from year to year
//!    (`season::own_seasons_repeat`).
//! 2. **Level and trend** (`ets`): the candidate exponential-smoothing forms
//!    are fitted by maximum likelihood to the deseasonalised series, scored
//!    by how they would have forecast it from rolling origins, and chosen
//!    with the region's evidence (`ets::pool`); the same errors calibrate
//!    the simulated spread (`calibration`; the horizon total's on each
//!    side of its median, `skew`), and a plain local level's
//!    errors at the same origins set how far it carries each innovation
//!    (`persistence`), on top of the widening for the parameters fitted
//!    in sample and the totals' level shift (`spread`).
//! 3. **Residual law** of actual / expected: non-positive periods (zeros,
//!    net credits) as an explicit mass with their observed values (zeros
//!    alone may have a chance that falls as the expected amount rises:
//!    `zeros`); the
//!    positive part chosen among normal, lognormal, gamma, Weibull (each the
//!    likeliest law of its family with the sample's mean:
//!    `dist::fit_mean_matched`) and empirical by AIC or BIC, with the KS
//!    statistic.
//! 4. **Compound law** (`compound`): when the sales table names deals, the
//!    number of deals x deal size law of period revenue, kept when its log
//!    score on the period totals beats the residual law's by the criterion.
//! 5. **Common shocks**: from the residual normal scores, the shares of
//!    variance explained by a company factor and by region factors, and the
//!    AR(1) persistence of factors and own noise.
//!
//! No I/O; pure function of its inputs.

use rayon::prelude::*;
use serde_json::json;

use crate::ets::growth::group_growth_paths;
use crate::ets::prior::{AlphaPrior, FormPriors};
use crate::ets::{crossfit, pool, select, Form, Growth};
use crate::history::SalesHistory;
use crate::model::{
    AlphaPriorModes, AlternativeLevel, Diagnostics, FittedModels, LevelLaw, PositivePart,
    ResidualLaw, SeasonError, ShockModel, TerritoryModel,
};
use crate::scenario::{Criterion, FitSpec};
use crate::stats::dist::{self, Family, Fitted};
use crate::stats::gof::ks_statistic;
use crate::stats::quantile::mean;

mod calibration;
mod compound;
mod offseason;
mod persistence;
mod power;
mod season;
mod skew;
pub use season::shortest_seasonal_history;
mod spikes;
mod spread;
mod start;
mod step;
mod zeros;

use calibration::calibrate;
use season::{
    deseasonalise, group_profile, own_seasons_repeat, season_repeatability, seasonal_deviations,
    seasonal_discount, seasonal_spread, Deseasonalised, GroupProfile, OUTLIER_Z,
};
use spread::correct_for_fitted_parameters;

/// Fewest positive residuals for a territory's own family fit.
const MIN_OWN_FIT: usize = 6;
/// Fewest positive residuals for the empirical law to be a candidate.
const MIN_EMPIRICAL: usize = 12;
/// Log spread of the residual law of a territory fitted exactly (every
/// residual ratio the same: a constant or exactly regular history), where
/// no family can be fitted: a relative error of 1e-4, the rounding
/// `ets::prior` counts such series with. Before 2026-12-06 they took the
/// pooled spread of the others, or 0.5 when all were so: two territories
/// selling 990, 991, ... a month were forecast at 7,600 for a 12,234 year.
const REGULAR_SDLOG: f64 = 1e-4;

/// Fit every territory of `history` on its first `n_fit` periods, for a
/// forecast `horizon` periods ahead.
///
/// A company closed in part of every year is fitted on its selling periods
/// alone and its models put back on the calendar (`offseason`).
pub fn fit(history: &SalesHistory, n_fit: usize, horizon: usize, spec: &FitSpec) -> FittedModels {
    let calendar = history.calendar;
    let n_fit = n_fit.min(history.n_periods());
    let s = calendar.kind.per_year();
    let ordinals: Vec<i64> = (0..n_fit as i64)
        .map(|t| history.first_period + t)
        .collect();
    let origin = history.first_period + n_fit as i64;
    let position = |o: i64| calendar.season_of(o) % s;
    let mut layout = Layout {
        // Counted below, where the company is not closed in part of the
        // year (`fit_selling` counts on the selling periods).
        closed_tests: 1,
        s,
        positions: ordinals.iter().map(|&o| position(o)).collect(),
        ordinals,
        origin,
        ahead: (0..horizon as i64).map(|h| position(origin + h)).collect(),
    };
    if let Some(closed) = offseason::closed_season(history, n_fit, &layout.positions, s) {
        let mut models = fit_selling(history, &closed, spec, &layout, None);
        let note = closed_note(history, &closed, &layout, "the company");
        models.warnings.insert(
            0,
            format!(
                "{note}: forecast at zero there, and each territory fitted on its {}",
                selling_count(&closed, &calendar)
            ),
        );
        return models;
    }
    let revenue: Vec<&[f64]> = history.revenue.iter().map(Vec::as_slice).collect();
    layout.closed_tests = offseason::territories_tested(&revenue, n_fit, &layout.positions, s);
    fit_with_alone(history, spec, &layout)
}

/// [`fit_periods`], then each territory closed on its own in part of every
/// year (its annual renewals in one month, its own season; the test's bar
/// divided by `layout.closed_tests`) fitted again alone on its selling
/// periods: the company's fit drew its empty periods in any.
fn fit_with_alone(history: &SalesHistory, spec: &FitSpec, layout: &Layout) -> FittedModels {
    let calendar = history.calendar;
    let n_fit = layout.positions.len();
    let mut models = fit_periods(history, spec, layout);
    let mut alone_notes = Vec::new();
    let test = offseason::SeasonTest {
        cadence: history.cadence.is_some(),
        tested: layout.closed_tests,
    };
    for i in 0..history.territories.len() {
        let own = [&history.revenue[i][..n_fit]];
        let Some(closed) =
            offseason::closed_positions(&own, test, n_fit, &layout.positions, layout.s)
        else {
            continue;
        };
        let single = offseason::one_territory(history, i);
        let alone = fit_selling(&single, &closed, spec, layout, Some(layout.closed_tests));
        let Some(mut model) = alone.territories.into_iter().next() else {
            continue;
        };
        let name = &history.territories[i].name;
        let selling = position_names(&closed, layout, &calendar, true).join(", ");
        let strays = stray_sales(&single, &closed, layout);
        alone_notes.push(if strays.is_empty() {
            format!("{name} ({selling})")
        } else {
            format!("{name} ({selling}; left out: {})", strays.join(", "))
        });
        // Its warnings are the fit alone's.
        let named = format!("'{name}'");
        models.warnings.retain(|w| !w.contains(&named));
        models
            .warnings
            .extend(alone.warnings.into_iter().filter(|w| w.contains(&named)));
        model.region_index = models.territories[i].region_index;
        models.territories[i] = model;
    }
    if !alone_notes.is_empty() {
        models.warnings.push(format!(
            "{} sold only in the same {}s of every year of the history (the others empty in every year, too many to be by chance), and {} fitted alone on those {}s (without the region's evidence) and forecast at zero in the others: {}",
            crate::format::count(alone_notes.len(), "territory", "territories"),
            calendar.kind.name(),
            if alone_notes.len() == 1 { "is" } else { "are" },
            calendar.kind.name(),
            alone_notes.join(", ")
        ));
    }
    models
}

/// The names of the positions of the year `closed` keeps selling in
/// (`selling`) or closes, in the year's order ("Jan", "Q3", "week 27").
fn position_names(
    closed: &offseason::ClosedSeason,
    layout: &Layout,
    calendar: &crate::calendar::Calendar,
    selling: bool,
) -> Vec<String> {
    (0..layout.s)
        .filter(|&m| closed.slots[m].is_some() == selling)
        .filter_map(|m| layout.positions.iter().position(|&p| p == m))
        .map(|t| offseason::position_name(calendar, layout.ordinals[t]))
        .collect()
}

/// The stray sales `closed` left out, as "500 in 2016-03-01".
fn stray_sales(
    history: &SalesHistory,
    closed: &offseason::ClosedSeason,
    layout: &Layout,
) -> Vec<String> {
    closed
        .strays
        .iter()
        .map(|&t| {
            let amount: f64 = history.revenue.iter().map(|r| r[t]).sum();
            format!(
                "{amount:.0} in {}",
                history.calendar.start_of(layout.ordinals[t])
            )
        })
        .collect()
}

/// `history` fitted on the selling periods of `closed` alone (`layout`:
/// the periods it was tested on), its models put back on that layout. Its
/// territories closed in some of the selling positions on their own are
/// fitted alone in turn ([`fit_with_alone`]: each level has fewer
/// positions, so it ends), their test's bar divided by `closed_tests`
/// (`None`: the territories of `history` that could pass it).
fn fit_selling(
    history: &SalesHistory,
    closed: &offseason::ClosedSeason,
    spec: &FitSpec,
    layout: &Layout,
    closed_tests: Option<usize>,
) -> FittedModels {
    let selling = closed.selling_history(history);
    let positions = closed.selling_positions(&layout.positions);
    let s = closed.selling();
    // The territories' own tests on the selling periods: counted against
    // the territories that could pass there, or `closed_tests` (a
    // territory fitted alone keeps its company's count).
    let closed_tests = closed_tests.unwrap_or_else(|| {
        let revenue: Vec<&[f64]> = selling.revenue.iter().map(Vec::as_slice).collect();
        offseason::territories_tested(&revenue, positions.len(), &positions, s)
    });
    let selling_layout = Layout {
        closed_tests,
        s,
        positions,
        ordinals: closed.kept.iter().map(|&t| layout.ordinals[t]).collect(),
        origin: layout.origin,
        ahead: closed.selling_positions(&layout.ahead),
    };
    let mut models = fit_with_alone(&selling, spec, &selling_layout);
    closed.expand(&mut models, &layout.ahead, layout.positions.len());
    models
}

/// "`who` sold nothing in Jan, Feb, ... in any year of its history" (and
/// the stray sales left out).
fn closed_note(
    history: &SalesHistory,
    closed: &offseason::ClosedSeason,
    layout: &Layout,
    who: &str,
) -> String {
    let strays = stray_sales(history, closed, layout);
    let left_out = if strays.is_empty() {
        String::new()
    } else {
        format!(
            " but for {} (under a twentieth of a selling {}: left out of the fit)",
            strays.join(", "),
            history.calendar.kind.name()
        )
    };
    format!(
        "{who} sold nothing in {} in any year of its history{left_out}",
        position_names(closed, layout, &history.calendar, false).join(", ")
    )
}

/// "5 selling months a year".
fn selling_count(closed: &offseason::ClosedSeason, calendar: &crate::calendar::Calendar) -> String {
    let n = closed.selling();
    format!(
        "{n} selling {}{} a year",
        calendar.kind.name(),
        if n == 1 { "" } else { "s" }
    )
}

/// Where the fitted periods sit on the calendar: `s` positions a year,
/// each period's position and ordinal (one per fitted period), the first
/// period after them, and the positions of the periods forecast from it.
struct Layout {
    /// Territories a territory's own closed-season test is counted
    /// against (`offseason::territories_tested`: the company's, also in
    /// the fits of its selling periods and of a territory alone).
    closed_tests: usize,
    s: usize,
    positions: Vec<usize>,
    ordinals: Vec<i64>,
    origin: i64,
    ahead: Vec<usize>,
}

/// [`fit`] on the periods `layout` places.
fn fit_periods(history: &SalesHistory, spec: &FitSpec, layout: &Layout) -> FittedModels {
    let calendar = history.calendar;
    let s = layout.s;
    let n_fit = layout.positions.len();
    let horizon = layout.ahead.len();
    let positions: &[usize] = &layout.positions;
    let regions = history.regions();
    let region_index = history.region_index();
    // Revenue per reporting date when the data has a fixed cadence.
    let per_date: Option<Vec<Vec<f64>>> = history.cadence.map(|c| {
        let factors: Vec<f64> = (0..n_fit as i64)
            .map(|t| c.factor(&calendar, history.first_period + t).max(1e-9))
            .collect();
        history
            .revenue
            .iter()
            .map(|r| {
                r[..n_fit]
                    .iter()
                    .zip(&factors)
                    .map(|(v, f)| v / f)
                    .collect()
            })
            .collect()
    });
    let series: Vec<&[f64]> = match &per_date {
        Some(p) => p.iter().map(Vec::as_slice).collect(),
        None => history.revenue.iter().map(|r| &r[..n_fit]).collect(),
    };

    // Each territory's fit starts at its first sale when the empty periods
    // before it are evidence that it had not started (`start`).
    let starts: Vec<usize> = series.iter().map(|y| start::history_start(y)).collect();
    // And where it stopped, for the company's evidence (its own fit keeps
    // the empty periods after).
    let ends: Vec<usize> = series.iter().map(|y| start::history_end(y)).collect();

    let company_total = sum_series(series.iter().copied(), n_fit);
    // How much each earlier year's seasonal pattern counts, as the
    // history's own year-ahead predictions of it chose.
    let discount = seasonal_discount(&series, positions, s);
    let company_fit = group_profile(&company_total, positions, s, discount);
    let region_totals: Vec<Vec<f64>> = (0..regions.len())
        .map(|r| {
            sum_series(
                series
                    .iter()
                    .zip(&region_index)
                    .filter(|(_, &ri)| ri == r)
                    .map(|(x, _)| *x),
                n_fit,
            )
        })
        .collect();
    // Each region's profile and its estimation error (the company's where
    // the region's own total shows no seasonality the criterion supports).
    let region_fits: Vec<Option<GroupProfile>> = region_totals
        .iter()
        .map(|total| group_profile(total, positions, s, discount))
        .collect();
    // The shocks left out of the profiles, named (the regions' beside the
    // company's).
    let mut shock_warnings: Vec<String> = Vec::new();
    let company_shocks = company_fit.as_ref().map_or(&[][..], |g| &g.extremes[..]);
    let groups = std::iter::once(("the company's".to_string(), company_shocks)).chain(
        regions.iter().zip(&region_fits).filter_map(|(name, g)| {
            let e = &g.as_ref()?.extremes;
            (e.iter().any(|t| !company_shocks.contains(t)))
                .then(|| (format!("region '{name}''s"), &e[..]))
        }),
    );
    for (group, shocks) in groups.filter(|(_, e)| !e.is_empty()) {
        let dates: Vec<String> = shocks
            .iter()
            .map(|&t| calendar.start_of(layout.ordinals[t]).to_string())
            .collect();
        shock_warnings.push(format!(
            "{group} total in {} was far from its usual (over {OUTLIER_Z} robust standard deviations from the median of the year around it), so taken as a shock, not the season: left out of its seasonal profile and read at that median when its territories' forecasts are scored (its risk stays in their residual laws)",
            dates.join(", ")
        ));
    }
    let region_shocks: Vec<Vec<usize>> = region_fits
        .iter()
        .map(|g| match (g, &company_fit) {
            (Some(g), _) => g.extremes.clone(),
            (None, Some(c)) => c.extremes.clone(),
            (None, None) => Vec::new(),
        })
        .collect();
    // The seasonal parameters of each region's profile, its own or the
    // company's (0: none).
    let region_profile_params: Vec<usize> = region_fits
        .iter()
        .map(|g| g.as_ref().or(company_fit.as_ref()).map_or(0, |g| g.params))
        .collect();
    let (region_profiles, season_errors): (Vec<Vec<f64>>, Vec<Option<SeasonError>>) = region_fits
        .into_iter()
        .zip(&regions)
        .map(|(fitted, name)| match (fitted, &company_fit) {
            (Some(g), _) => {
                let e = g.error(&format!("region:{name}"));
                (g.index, e)
            }
            (None, Some(c)) => (c.index.clone(), c.error("company")),
            (None, None) => (vec![1.0; s], None),
        })
        .unzip();
    // A lasting step in a territory's level, read against its region's
    // season (`step`): its periods before the step are scaled to the
    // level after it for its own fit (the regions' totals and profiles
    // above keep what was sold). Fitted through it, the old level came
    // back.
    let steps: Vec<Option<step::Step>> = series
        .iter()
        .zip(&region_index)
        .zip(&starts)
        .map(|((y, &r), &t0)| {
            let index: Vec<f64> = positions[t0..]
                .iter()
                .map(|&m| region_profiles[r][m])
                .collect();
            step::lasting_step(&y[t0..], &index, s).map(|found| step::Step {
                at: t0 + found.at,
                ..found
            })
        })
        .collect();
    let stepped: Vec<Option<Vec<f64>>> = series
        .iter()
        .zip(&steps)
        .map(|(y, found)| found.map(|found| found.level_after(y)))
        .collect();
    let sold = series;
    let series: Vec<&[f64]> = sold
        .iter()
        .zip(&stepped)
        .map(|(&y, adjusted)| adjusted.as_deref().unwrap_or(y))
        .collect();
    // Each region's growth per period, as its deseasonalised total showed
    // it up to each rolling origin and up to the end (the group-growth form).
    // (A territory that started later has its own origins, at the same
    // periods of the calendar when its history leaves the same step.)
    let mut distinct_starts = starts.clone();
    distinct_starts.sort_unstable();
    distinct_starts.dedup();
    let mut lengths: Vec<usize> = distinct_starts
        .iter()
        .flat_map(|&start| {
            let origins = select::Origins::of(n_fit - start, horizon.max(1), s);
            origins
                .recent
                .into_iter()
                .chain(origins.whole)
                .map(move |o| o + start)
        })
        .chain([n_fit])
        .collect();
    // The two sets of origins overlap: each growth path is estimated once.
    lengths.sort_unstable();
    lengths.dedup();
    // The regions' growth paths follow the territories they had in both
    // periods (an opening or a closing is not the region's growth: `start`).
    let like_for_like: Vec<Vec<f64>> = (0..regions.len())
        .map(|r| {
            let members: Vec<(&[f64], usize, usize)> = (0..series.len())
                .filter(|&i| region_index[i] == r)
                .map(|i| (series[i], starts[i], ends[i]))
                .collect();
            // Over the stepped series: one territory's step is not its
            // region's growth (the review of session 31: a territory that
            // tripled lifted its peers' P90 by a fifth).
            let stepped_member =
                (0..series.len()).any(|i| region_index[i] == r && stepped[i].is_some());
            if stepped_member {
                let total = sum_series(members.iter().map(|m| m.0), n_fit);
                start::like_for_like_total(&members, &total)
            } else {
                start::like_for_like_total(&members, &region_totals[r])
            }
        })
        .collect();
    let region_growth: Vec<Vec<(usize, Growth)>> = like_for_like
        .par_iter()
        .zip(&region_profiles)
        .map(|(total, profile)| {
            let a: Vec<f64> = total
                .iter()
                .zip(positions)
                .map(|(v, &m)| v / profile[m])
                .collect();
            group_growth_paths(&a, &lengths, horizon.max(1), s)
        })
        .collect();

    // Empirical-Bayes spread of territory seasonal deviations from their
    // region's profile (flat where neither the region nor the company has
    // one). Where the company has no profile, only if seasons repeat from
    // year to year, the territories' against their peers' or the
    // company's own (seasons that cancel in the total, or that two years
    // could not confirm, are shrunk, not dropped).
    let deviations: Vec<Vec<(f64, f64)>> = series
        .iter()
        .zip(&region_index)
        .zip(&starts)
        .map(|((y, &r), &t0)| {
            seasonal_deviations(&y[t0..], &positions[t0..], &region_profiles[r], discount)
        })
        .collect();
    let own_seasons = || {
        let scores: Vec<f64> = sold
            .iter()
            .zip(&region_index)
            .zip(&starts)
            .filter_map(|((y, &r), &t0)| {
                let peers = peer_total(y, &region_totals[r], &company_total, t0);
                season_repeatability(&y[t0..], Some(&peers), &positions[t0..], s)
            })
            .collect();
        let company = season_repeatability(&company_total, None, positions, s);
        own_seasons_repeat(&scores, company)
    };
    // A month-of-quarter profile (under a year and two of history) gives
    // the territories no deviations of their own.
    let whole_year_profile = company_fit.as_ref().is_some_and(|g| g.params + 1 == s);
    let tau2 = if whole_year_profile || own_seasons() {
        seasonal_spread(&deviations)
    } else {
        0.0
    };

    let families: Vec<Family> = spec
        .families
        .iter()
        .filter_map(|f| Family::parse(f))
        .collect();
    let allow_empirical = spec.families.iter().any(|f| f == "empirical");
    // Deals per reporting date are not modelled: with a cadence the
    // compound law is not offered.
    let deals = (spec.families.iter().any(|f| f == "compound") && history.cadence.is_none())
        .then(|| compound::deals_by_territory(history, n_fit, &region_index, regions.len()))
        .flatten();
    let settings = Settings {
        families: &families,
        allow_empirical,
        criterion: spec.criterion,
        horizon: horizon.max(1),
    };
    // Every form scored on every territory, then each territory's form
    // chosen with its region's evidence (`ets::pool`), then the fits.
    let deseasonalised: Vec<Deseasonalised> = series
        .par_iter()
        .enumerate()
        .map(|(i, y)| {
            let (r, t0) = (region_index[i], starts[i]);
            deseasonalise(
                &y[t0..],
                &region_profiles[r],
                &deviations[i],
                &positions[t0..],
                tau2,
            )
        })
        .collect();
    // How far levels (and shares of the region) move, as the company's
    // territories together show it: worth at least a year of a
    // territory's own periods, more the less they differ, each territory
    // keeping less of it the more its own evidence disagrees
    // (`ets::prior`).
    let no_growth = Growth::none();
    let full_growth = |r: usize| {
        region_growth[r]
            .iter()
            .find(|(l, _)| *l == n_fit)
            .map_or(&no_growth, |(_, g)| g)
    };
    let pooled = |grown: bool| {
        let growths: Vec<Growth> = region_index
            .iter()
            .zip(&starts)
            .map(|(&r, &t0)| {
                if grown {
                    full_growth(r).since(t0)
                } else {
                    Growth::none()
                }
            })
            .collect();
        // Each territory's periods from its first sale to its last (a
        // closing's drop to nothing is not how far its level moved).
        let series: Vec<(&[f64], &Growth)> = deseasonalised
            .iter()
            .zip(&growths)
            .enumerate()
            .map(|(i, (d, g))| {
                let own = ends[i].saturating_sub(starts[i]).max(1);
                (&d.a_capped[..own.min(d.a_capped.len())], g)
            })
            .collect();
        AlphaPrior::pooled_for_each(&series, s as f64)
    };
    let ((level, level_each), (group, group_each)) = (pooled(false), pooled(true));
    let alpha_prior = FormPriors { level, group };
    let territory_priors: Vec<FormPriors> = level_each
        .into_iter()
        .zip(group_each)
        .map(|(level, group)| FormPriors { level, group })
        .collect();
    let evaluated: Vec<(Deseasonalised, Option<select::Evaluated>)> = deseasonalised
        .into_par_iter()
        .enumerate()
        .map(|(i, d)| {
            let (r, t0) = (region_index[i], starts[i]);
            let shocks: Vec<usize> = region_shocks[r]
                .iter()
                .filter(|&&t| t >= t0)
                .map(|&t| t - t0)
                .collect();
            // The company's evidence on how far levels move, read at this
            // territory's own noise, as far as its own evidence agrees
            // with it (`ets::prior`: a Student-t prior).
            let alpha_prior = &territory_priors[i];
            let e = evaluate_territory(
                &series[i][t0..],
                &d,
                &shocks,
                &region_growth[r],
                t0,
                &settings,
                alpha_prior,
            );
            (d, e)
        })
        .collect();
    let closed: Vec<bool> = ends.iter().map(|&end| end < n_fit).collect();
    let scored: Vec<Option<&select::Evaluated>> =
        evaluated.iter().map(|(_, e)| e.as_ref()).collect();
    let picks = pool::pooled_weights(&scored, &region_index, &closed);
    // The chosen mixtures' errors are measured on weights chosen apart
    // from each block of origins (`crossfit`).
    let held_out = crossfit::held_out_weights(&scored, &region_index, &closed);
    let mut fits: Vec<TerritoryFit> = evaluated
        .into_par_iter()
        .zip(picks)
        .zip(held_out)
        .enumerate()
        .map(|(i, (((d, e), pick), held_out))| {
            let t0 = starts[i];
            // A stepped territory's deals are as sold, not as scaled: the
            // deal law is not offered to it.
            let own_deals = deals
                .as_ref()
                .filter(|_| steps[i].is_none())
                .and_then(|d| d.get(i))
                .map(|d| d.since(t0));
            let mut f = fit_territory(
                &series[i][t0..],
                own_deals.as_ref(),
                d,
                e.and_then(|e| e.choose(pick, &held_out, spec.criterion)),
                &settings,
                &positions[t0..],
            );
            f.pad_scores(t0);
            f.closed = closed[i];
            f
        })
        .collect();

    // Pool what cannot be fitted alone.
    let mut warnings = shock_warnings;
    let pooled_sdlog = pooled_sdlog(&fits);
    // A region with no fitted territory borrows the company's median.
    let level_median = |region: Option<usize>| {
        let mut v: Vec<f64> = fits
            .iter()
            .zip(&region_index)
            .filter(|(f, &ri)| region.is_none_or(|r| ri == r) && !f.empty)
            .map(|(f, _)| f.level.level)
            .collect();
        median(&mut v)
    };
    let company_level = level_median(None).unwrap_or(0.0);
    let levels_by_region: Vec<f64> = (0..regions.len())
        .map(|r| level_median(Some(r)).unwrap_or(company_level))
        .collect();
    for (i, f) in fits.iter_mut().enumerate() {
        let name = &history.territories[i].name;
        if f.empty && history.first_row.get(name).is_some_and(|&p| p < n_fit) {
            // Rows in the sales table that all came to nothing: a
            // territory that sold nothing over them, not a new one.
            let periods = n_fit - history.first_row[name];
            f.level = LevelLaw::fixed(0.0);
            f.residual = pooled_law(pooled_sdlog);
            f.diag.model = "none (no sales)".into();
            f.diag.params = params_json(&f.residual);
            warnings.push(format!(
                "territory '{name}' sold nothing in the {} since its first row in the sales table: forecast at zero (a territory named only in the accounts or reps table is new, and gets its region's median level)",
                calendar.kind.count(periods)
            ));
        } else if f.empty {
            let level = levels_by_region[region_index[i]];
            f.level = LevelLaw {
                cov: [[(0.5 * level).powi(2), 0.0], [0.0, 0.0]],
                ..LevelLaw::fixed(level)
            };
            f.season = region_profiles[region_index[i]].clone();
            f.residual = pooled_law(pooled_sdlog);
            f.diag.model = "lognormal".into();
            f.diag.pooled = true;
            f.diag.params = params_json(&f.residual);
            warnings.push(format!(
                "territory '{name}' has no sales in the fitted history: pooled model at the region's (or, with none fitted there, the company's) median level ({level:.0}) with 50% level uncertainty"
            ));
        } else if f.diag.model.starts_with("net-credits") {
            warnings.push(format!(
                "territory '{name}' nets to {:.0} a period over its history (its credits exceed its sales): each forecast period is drawn from its own periods' values, credits included, with no trend or season",
                f.level.level * f.residual.mean()
            ));
        } else if f.needs_pooling {
            let p0 = f.residual.p0;
            let nonpositive = f.residual.nonpositive.clone();
            let (p_spike, spikes) = (f.residual.p_spike, f.residual.spikes.clone());
            let zero_rate = f.residual.zero_rate;
            f.residual = ResidualLaw::new(p0, nonpositive, pooled_law(pooled_sdlog).positive)
                .with_spikes(p_spike, spikes)
                .with_zero_rate(zero_rate);
            f.diag.model = "lognormal".into();
            f.diag.pooled = true;
            f.diag.params = with_smoothing(params_json(&f.residual), &f.level);
            warnings.push(format!(
                "territory '{name}' has only {} with positive revenue: its residual spread is pooled",
                crate::format::count(f.n_positive, "period", "periods")
            ));
        }
        if n_fit < s && !f.empty {
            // Under a year: seasonal where its region's profile (its own
            // or the company's; a quarter's pattern) is not flat.
            f.diag.seasonal = region_profiles[region_index[i]]
                .iter()
                .any(|&v| (v - 1.0).abs() > 1e-9);
        }
        if starts[i] > 0 {
            let t0 = starts[i];
            let first = calendar.start_of(layout.ordinals[t0]);
            let unit = calendar.kind.name();
            let before = &series[i][..t0];
            // Calendar periods (a closed season's included).
            let since = |t: usize| layout.ordinals[t0] - layout.ordinals[t];
            let from_then = layout.origin - layout.ordinals[t0];
            let message = if before.iter().all(|&v| v == 0.0) {
                format!(
                    "territory '{name}' has no sales in the {} {unit}s before {first}: fitted on its {from_then} {unit}s from then (too long a run to be its own quiet spells: taken as before it started selling)",
                    since(0),
                )
            } else {
                let spell = before.iter().rev().take_while(|&&v| v == 0.0).count();
                format!(
                    "territory '{name}' sold nothing in the {} {unit}s before {first}, after selling before them: fitted on its {from_then} {unit}s from then (too long a spell to be its own quiet spells: taken as a restart, such as a vacancy filled or rows missing)",
                    since(t0 - spell),
                )
            };
            warnings.push(message);
        }
    }
    for (i, found) in steps.iter().enumerate() {
        let Some(found) = found else { continue };
        let name = &history.territories[i].name;
        let (change, direction) = if found.ratio < 1.0 {
            (1.0 - found.ratio, "less")
        } else {
            (found.ratio - 1.0, "more")
        };
        warnings.push(format!(
            "territory '{name}' sold about {:.0}% {direction} from {} on than before, a step no ordinary {unit} explains: taken as a lasting change (such as an account lost or won), its {unit}s before it scaled to the level after it for its fit",
            100.0 * change,
            calendar.start_of(layout.ordinals[found.at]),
            unit = calendar.kind.name(),
        ));
    }
    if n_fit < 2 * s {
        let periods = layout.origin - layout.ordinals.first().copied().unwrap_or(layout.origin);
        warnings.push(format!(
            "only {periods} {}s of history: seasonal and trend terms are estimated from less than two years",
            calendar.kind.name()
        ));
    }

    let mut shocks = estimate_shocks(&fits, &region_index, regions.len());
    let persistence = calibrate(&mut fits);
    // Each territory's share of its region over its own periods (from its
    // first sale or restart).
    let shares: Vec<f64> = sold
        .iter()
        .zip(&region_index)
        .zip(&starts)
        .map(|((y, &r), &t0)| {
            let group = mean(&region_totals[r][t0..]);
            if group > 0.0 {
                (mean(&y[t0..]) / group).clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect();
    // Each territory's group profile's parameters: its region's (or the
    // company's, which a region without its own takes), none where neither
    // has one.
    let group_params: Vec<f64> = region_index
        .iter()
        .map(|&r| region_profile_params[r] as f64)
        .collect();
    let own_periods: Vec<usize> = starts.iter().map(|t0| n_fit - t0).collect();
    correct_for_fitted_parameters(
        &mut fits,
        &mut shocks,
        n_fit,
        &own_periods,
        s.saturating_sub(1) as f64,
        &group_params,
        &shares,
    );
    let variance_power = apply_variance_power(&mut fits);
    // A stepped territory's scaled history is as if the level after the
    // step had always held, so the fit knows that level as well as its
    // whole history's; it is known only as well as the ratio read from
    // the periods after the step (`step::Step::log_se`): that variance is
    // added to the level on both sides, in every averaged form (the
    // review of session 31: 80% intervals held the truth's expectation
    // in 57-72% of draws after a step, 99% without one).
    for (f, found) in fits.iter_mut().zip(&steps) {
        let Some(found) = found else { continue };
        let var = found.log_se * found.log_se;
        let alternatives = f.alternatives.iter_mut().map(|a| &mut a.level);
        for law in std::iter::once(&mut f.level).chain(alternatives) {
            let add = var * law.level * law.level;
            law.shift_var = law.shift_var.map(|v| v + add);
        }
        if let Some(p) = f.diag.params.as_object_mut() {
            p.insert("step_log_se".into(), json!(round6(found.log_se)));
        }
    }
    let territories = fits
        .into_iter()
        .enumerate()
        .map(|(i, f)| TerritoryModel {
            name: history.territories[i].name.clone(),
            region: history.territories[i].region.clone(),
            region_index: region_index[i],
            n_periods: n_fit - starts[i],
            level: f.level,
            season: f.season,
            season_sd: f.season_var.sqrt(),
            residual: f.residual,
            compound: f.compound,
            growth: f.growth,
            alternatives: f
                .alternatives
                .into_iter()
                .map(|a| AlternativeLevel {
                    weight: a.weight,
                    level: a.level,
                    growth: a.fit.growth,
                })
                .collect(),
            diagnostics: f.diag,
        })
        .collect();
    FittedModels {
        calendar,
        origin: layout.origin,
        regions,
        territories,
        shocks,
        season_errors,
        cadence: history.cadence,
        season_discount: discount,
        alpha_prior: AlphaPriorModes {
            level: alpha_prior.level.mode(),
            share: alpha_prior.group.mode(),
            level_weight: alpha_prior.level.weight(),
            share_weight: alpha_prior.group.weight(),
        },
        persistence,
        variance_power,
        warnings,
    }
}

/// The company's variance power (`power`), estimated from the territories
/// with a residual law of their own (no compound law, no pooled spread,
/// no spikes) and carried by every law it suits ([`ResidualLaw::with_power`]),
/// each at its own reference amount; its exponent, or `None`.
fn apply_variance_power(fits: &mut [TerritoryFit]) -> Option<f64> {
    let counts = |f: &TerritoryFit| {
        !f.empty
            && !f.closed
            && !f.needs_pooling
            && f.compound.is_none()
            && f.residual.spikes.is_empty()
    };
    let periods: Vec<Option<power::Periods>> = fits
        .iter()
        .map(|f| counts(f).then(|| power::Periods::of(&f.diag.actual, &f.diag.fitted)))
        .collect();
    let evidence: Vec<&power::Periods> = periods.iter().flatten().collect();
    let k = power::company_exponent(&evidence)?;
    for (f, p) in fits.iter_mut().zip(&periods) {
        let Some(p) = p else { continue };
        let law_mean = f.residual.mean();
        f.residual = f
            .residual
            .clone()
            .with_power(power::for_territory(k, p, law_mean));
        if let (Some(vp), serde_json::Value::Object(map)) = (f.residual.power, &mut f.diag.params) {
            map.insert("variance_power".into(), json!(round6(vp.exponent)));
            map.insert("power_reference".into(), json!(round6(vp.reference)));
        }
    }
    Some(k)
}

/// Intermediate result for one territory.
struct TerritoryFit {
    level: LevelLaw,
    season: Vec<f64>,
    residual: ResidualLaw,
    compound: Option<crate::model::CompoundLaw>,
    diag: Diagnostics,
    /// Normal scores of the residuals, one per history period.
    scores: Vec<f64>,
    empty: bool,
    needs_pooling: bool,
    /// Whether it stopped selling before the origin (`start::history_end`):
    /// its misses are left out of the company's evidence (calibration,
    /// persistence, common shocks).
    closed: bool,
    n_positive: usize,
    /// The positive ratios' log sum of squares about their mean and its
    /// degrees of freedom, for a territory too sparse for its own law
    /// (`sparse_sdlog`); `None` otherwise.
    sparse_squares: Option<(f64, f64)>,
    /// The rolling-origin evaluation of the chosen form.
    evaluation: select::Evaluation,
    /// The forms averaged with the chosen one.
    alternatives: Vec<Alternative>,
    /// The region's growth per horizon step (group-share form; else empty).
    growth: Vec<f64>,
    /// The calibration factor of the simulated spread, when the
    /// rolling-origin errors gave one.
    calibration: Option<f64>,
    /// The same for the horizon total (from the spans' totals' errors).
    total_calibration: Option<f64>,
    /// The horizon total's factor on each side of its median, below and
    /// above (the two-sided factor with the side's offset, `skew`).
    total_sides: Option<[f64; 2]>,
    /// Relative variance of the horizon total under the fitted model, as
    /// a quadratic in a factor r on the smoothing weights (`[a0, a1, a2]`:
    /// a0 + a1 r + a2 r^2).
    total_rel_var: [f64; 3],
    /// The part of `total_rel_var`'s a0 that is not the innovations': the
    /// averaged forms' spread of means and their states' estimation error
    /// (`spread::TotalPlan` narrows only the innovations).
    total_fixed_rel_var: f64,
    /// The factor on the smoothing weights the simulation uses
    /// (`persistence::persistence_factor`; 1: as fitted).
    persistence: f64,
    /// [`total_per_level`] of the chosen form (1 without one).
    total_per_level: f64,
    /// Seasonal parameters estimated from the territory's own deviations
    /// (sum of shrinkage weights).
    season_dof: f64,
    /// Mean posterior variance of the territory's own log seasonal
    /// deviations: their estimation error; after
    /// `spread::correct_for_fitted_parameters`, the log variance the
    /// simulation draws per position and trial (`TerritoryModel::season_sd`).
    season_var: f64,
    /// The level-and-trend parameters the averaged forms' one-step
    /// variance was divided for (`EtsFit::sigma2` divides the squared
    /// errors by n less these), weighted as the forms are; `None` without
    /// a fitted form.
    form_parameters: Option<f64>,
    /// The share of the seasonal degrees-of-freedom widening the horizon
    /// total's target keeps ([`seasonal_share_of_total`]).
    total_season_share: f64,
    /// The least widening of the residual law: 1 (the model's in-sample
    /// spread) unless cross-fitted errors narrow it
    /// (`calibration::narrowest_spread`).
    spread_floor: f64,
}

/// How much of the seasonal degrees-of-freedom widening a horizon total of
/// `horizon` periods needs, with seasons of `s` periods, as the exponent
/// on that widening (`spread::TotalPlan`): 0 (none) where the horizon is
/// whole seasons, 1 (all) where it is shorter than one, and otherwise the
/// share of its periods past its whole seasons.
///
/// The indices fitted to the history shrink its residuals, and so the
/// forms' one-step variance, by the seasonal parameters they took
/// (`spread::correct_for_fitted_parameters` widens the periods for them).
/// A rolling origin's period error is shrunk alike, since the scored
/// period helped fit its index: the periods' factor is measured net of
/// that widening. But the indices' errors cancel over a year (they are
/// renormalised), so a whole year's total misses by as much as if they
/// had not seen it, against a variance that they shrank: the totals'
/// factor already holds the seasonal widening, and applying it again
/// made years too wide (weekly territories with seasons of their own,
/// `docs/experiments/more_truths.py --set c`: the simulated year 1.28
/// times the forms' total spread where the total's factor asked for
/// 1.11, and 0.88-0.92 of years inside their P10-P90; session 28).
fn seasonal_share_of_total(horizon: usize, s: usize) -> f64 {
    if s <= 1 || horizon < s {
        1.0
    } else {
        (horizon % s) as f64 / horizon as f64
    }
}

/// A form averaged with a territory's chosen one.
struct Alternative {
    weight: f64,
    level: LevelLaw,
    fit: crate::ets::EtsFit,
    /// [`total_per_level`] of this form.
    total_per_level: f64,
}

/// A form's expected horizon total over what its level at the origin would
/// give held flat (`flat`: the level times the sum of the horizon's
/// seasonal indices): 1 for a level, above 1 for a growing trend. A level
/// shift of relative variance v moves the total by v / this^2 of its own
/// square, so widening a growing form's total by v takes a shift of v x
/// this^2.
fn total_per_level(total: f64, flat: f64) -> f64 {
    if flat > 0.0 && total > 0.0 {
        total / flat
    } else {
        1.0
    }
}

/// The state law of a fitted form: its level and slope at the origin with
/// their estimation variance.
fn level_law(ets: &crate::ets::EtsFit) -> LevelLaw {
    let (level_var, slope_var) = ets.parameter_variance();
    let l2 = ets.level * ets.level;
    // A compounding trend's slope is a rate: its variance is already relative.
    let slope_unit = if ets.smoothing.compounding { 1.0 } else { l2 };
    LevelLaw {
        level: ets.level,
        slope: ets.slope,
        cov: [[level_var * l2, 0.0], [0.0, slope_var * slope_unit]],
        shift_var: [0.0, 0.0],
        smoothing: ets.smoothing,
    }
}

impl TerritoryFit {
    /// The residuals' normal scores put on the company's calendar for a
    /// history that starts at period `start`: the periods before it take
    /// the territory's mean score, so that they add nothing to the common
    /// shocks' covariances. (Its variance and covariances are still divided
    /// by the company's periods, so its correlations with the others read
    /// about sqrt(own / company periods) of what they are: a late starter
    /// counts for less in the shared shocks, not more.)
    fn pad_scores(&mut self, start: usize) {
        if start > 0 && !self.scores.is_empty() {
            let m = mean(&self.scores);
            self.scores.splice(0..0, std::iter::repeat_n(m, start));
        }
    }
}

/// 5% of each period's local level: the mean of `a` over the `season`
/// periods centred on it (fewer at the history's ends), at least 0.
fn local_floor(a: &[f64], season: usize) -> Vec<f64> {
    let n = a.len();
    let half = (season / 2).max(1);
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for v in a {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + v);
    }
    (0..n)
        .map(|t| {
            let (lo, hi) = (t.saturating_sub(half), (t + half + 1).min(n));
            (0.05 * (prefix[hi] - prefix[lo]) / (hi - lo) as f64).max(0.0)
        })
        .collect()
}

/// Settings shared by every territory's fit.
struct Settings<'a> {
    families: &'a [Family],
    allow_empirical: bool,
    criterion: Criterion,
    /// Periods the forecast runs ahead: the rolling-origin evaluation's horizon.
    horizon: usize,
}

/// The periods of a territory's peers from `t0` on: its region's total
/// less its own, or the company's less its own where it is alone in its
/// region (for [`season_repeatability`]).
fn peer_total(y: &[f64], region: &[f64], company: &[f64], t0: usize) -> Vec<f64> {
    let others = |total: &[f64]| -> Vec<f64> {
        total[t0..]
            .iter()
            .zip(&y[t0..])
            .map(|(g, v)| g - v)
            .collect()
    };
    let region_peers = others(region);
    if region_peers.iter().any(|&v| v > 0.0) {
        region_peers
    } else {
        others(company)
    }
}

fn sum_series<'a>(series: impl Iterator<Item = &'a [f64]>, n: usize) -> Vec<f64> {
    let mut total = vec![0.0; n];
    for s in series {
        for (t, v) in s.iter().enumerate() {
            total[t] += v;
        }
    }
    total
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(crate::stats::quantile::sorted_quantile(v, 0.5))
}

/// How each candidate form would have forecast territory `y` (none for a
/// territory without sales), whose history starts at period `start` of
/// its region's growth paths.
fn evaluate_territory(
    y: &[f64],
    d: &Deseasonalised,
    shocks: &[usize],
    region_growth: &[(usize, Growth)],
    start: usize,
    settings: &Settings,
    prior: &FormPriors,
) -> Option<select::Evaluated> {
    if y.iter().all(|&v| v == 0.0) {
        return None;
    }
    // The group's shock periods read at the year's median (item 1 of the
    // README's model): their risk is in the residual law once.
    let scored: std::borrow::Cow<[f64]> = if shocks.is_empty() {
        std::borrow::Cow::Borrowed(&d.a)
    } else {
        let level = season::year_median(&d.a, d.season.len());
        let mut a = d.a.clone();
        for &t in shocks {
            if let (Some(v), Some(&l)) = (a.get_mut(t), level.get(t)) {
                *v = l;
            }
        }
        std::borrow::Cow::Owned(a)
    };
    let growth = |len: usize| {
        region_growth
            .iter()
            .find(|(l, _)| *l == len + start)
            .map_or_else(Growth::none, |(_, g)| g.since(start))
    };
    select::evaluate(
        &d.a_capped,
        &scored,
        &d.season_t,
        settings.horizon,
        d.season.len(),
        &growth,
        prior,
    )
}

fn fit_territory(
    y: &[f64],
    deals: Option<&compound::Deals>,
    deseasonalised: Deseasonalised,
    choice: Option<select::Choice>,
    settings: &Settings,
    positions: &[usize],
) -> TerritoryFit {
    let Settings {
        families,
        allow_empirical,
        criterion,
        horizon,
        ..
    } = *settings;
    let n = y.len();
    let empty = n == 0 || y.iter().all(|&v| v == 0.0);
    let Deseasonalised {
        season,
        own_season,
        season_dof,
        season_var,
        outliers,
        a: deseasonalised_a,
        a_capped,
        ..
    } = deseasonalised;
    let seasonal = season.iter().any(|&v| (v - 1.0).abs() > 1e-9);
    let choice = if empty { None } else { choice };
    let Some(choice) = choice else {
        if !empty {
            return net_credits_fit(y, season.len(), n);
        }
        let mut out = empty_fit(season, n);
        out.empty = empty;
        return out;
    };
    let ets = &choice.fit;
    let trend = !matches!(ets.form, Form::Mean | Form::Level);
    let level = level_law(ets);
    // The horizon's seasonal weights, and the model's relative variance of
    // the horizon total (for the totals' calibration).
    let s_len = season.len();
    let next = positions.last().map_or(0, |&p| p + 1);
    let weights: Vec<f64> = (0..horizon).map(|h| season[(next + h) % s_len]).collect();
    let mut alternatives: Vec<Alternative> = choice
        .others
        .iter()
        .map(|(weight, fit)| Alternative {
            weight: *weight,
            level: level_law(fit),
            fit: fit.clone(),
            total_per_level: 1.0,
        })
        .collect();
    let fitted = ets.fitted.clone();
    let nf = n as f64;
    // Over the averaged forms: the mixture's mean and variance of the total.
    let forms: Vec<(f64, &crate::ets::EtsFit)> = std::iter::once((choice.weight, ets))
        .chain(alternatives.iter().map(|a| (a.weight, &a.fit)))
        .collect();
    let form_weight: f64 = forms.iter().map(|(w, _)| w).sum();
    let form_parameters = (form_weight > 0.0).then(|| {
        forms
            .iter()
            .map(|(w, f)| w * f.form.variance_parameters() as f64)
            .sum::<f64>()
            / form_weight
    });
    // As a quadratic in a factor on the smoothing weights (`calibrate`
    // scales the innovations' persistence).
    // Each form's mean total, its variance's parts, and the part of them
    // from its state's estimation error (with the forms' spread of means,
    // the part the innovations' scale does not move).
    let moments: Vec<(f64, f64, [f64; 3], f64)> = forms
        .iter()
        .map(|&(w, f)| {
            let means = f.weighted_means(&weights);
            let m: f64 = means.iter().sum();
            let estimation = f.total_estimation_variance(&means);
            (w, m, f.total_variance_parts(&weights), estimation)
        })
        .collect();
    let estimation: f64 = moments.iter().map(|(w, _, _, e)| w * e).sum();
    // Each form's total over its level held flat (the level shift's size).
    let weight_sum: f64 = weights.iter().sum();
    let per_level: Vec<f64> = forms
        .iter()
        .zip(&moments)
        .map(|(&(_, f), &(_, m, _, _))| total_per_level(m, f.level * weight_sum))
        .collect();
    for (a, p) in alternatives.iter_mut().zip(&per_level[1..]) {
        a.total_per_level = *p;
    }
    let expected_total: f64 = moments.iter().map(|(w, m, _, _)| w * m).sum();
    let (total_rel_var, total_fixed_rel_var) = if expected_total > 0.0 {
        let e2 = expected_total * expected_total;
        let spread: f64 = moments.iter().map(|(w, m, _, _)| w * m * m).sum::<f64>() - e2;
        let mut parts = [spread.max(0.0) / e2, 0.0, 0.0];
        for (w, _, v, _) in &moments {
            for (p, x) in parts.iter_mut().zip(v) {
                *p += w * x / e2;
            }
        }
        (parts, (spread.max(0.0) + estimation) / e2)
    } else {
        ([0.0; 3], 0.0)
    };

    // Residual ratios actual / expected, the expected floored at 5% of the
    // territory's level around that period (the mean of its capped,
    // deseasonalised values over the season centred on it) so that a level
    // driven near zero (a run of zeros or credits) does not make a ratio
    // explode. Around that period, not at the origin: a market that grew a
    // hundredfold had its first year floored at 5% of its last level, its
    // ratios there at 0.25-0.75, and a law that wide took the simulated
    // paths' median to zero within the year; nor the history's mean, which
    // a market that shrank a hundredfold sits under (session 17).
    let expected_floor = local_floor(&a_capped, season.len());
    let denominators: Vec<f64> = positions
        .iter()
        .zip(&fitted)
        .zip(&expected_floor)
        .map(|((&m, f), floor)| f.max(*floor) * season[m])
        .collect();
    let ratios: Vec<f64> = y.iter().zip(&denominators).map(|(v, d)| v / d).collect();
    let nonpositive: Vec<f64> = ratios.iter().copied().filter(|&r| r <= 0.0).collect();
    // One-off spikes that would move every period's median are a mass of
    // their own (`spikes`).
    let capped: Vec<bool> = (0..n).map(|t| deseasonalised_a[t] > a_capped[t]).collect();
    let spikes::Split { positive, spikes } = spikes::split(&ratios, &capped);
    let spike = |t: usize| capped[t] && !spikes.is_empty();
    let p0 = nonpositive.len() as f64 / nf;
    let p_spike = spikes.len() as f64 / nf;
    let n_pos = positive.len();

    let mut candidates: Vec<Candidate> = Vec::new();
    // Each family with the sample's mean (`dist::fit_mean_matched`): the
    // forecast's mean is the history's, and a law whose tail implied
    // another mean would move every period's median when it is kept.
    if n_pos >= MIN_OWN_FIT {
        for &fam in families {
            if let Some(f) = dist::fit_mean_matched(fam, &positive) {
                let ll = f.loglik(&positive);
                if ll.is_finite() {
                    candidates.push(Candidate::new(PositivePart::Parametric(f), ll, 2, n_pos));
                }
            }
        }
    }
    if allow_empirical && n_pos >= MIN_EMPIRICAL {
        if let Some(ll) = kde_loo_loglik(&positive) {
            let mut sorted = positive.clone();
            sorted.sort_by(f64::total_cmp);
            candidates.push(Candidate::new(
                PositivePart::Empirical { sorted },
                ll,
                1,
                n_pos,
            ));
        }
    }
    let key = |c: &Candidate| match criterion {
        Criterion::Aic => c.aic,
        Criterion::Bic => c.bic,
    };
    candidates.sort_by(|a, b| key(a).total_cmp(&key(b)));
    // Enough residuals, all equal: no family fits a zero spread, but the
    // history says the law is that tight, not that it must be borrowed.
    let exact =
        candidates.is_empty() && n_pos >= MIN_OWN_FIT && positive.iter().all(|&r| r == positive[0]);
    let needs_pooling = candidates.is_empty() && !exact;
    let chosen_k = candidates.first().map_or(2, |c| c.k);
    let key_chosen = candidates.first().map_or(0.0, key);
    let (positive_part, ll, aic, bic_v) = match candidates.first() {
        Some(c) => (c.part.clone(), Some(c.loglik), Some(c.aic), Some(c.bic)),
        None if exact => {
            let f = Fitted {
                family: Family::LogNormal,
                params: [
                    positive[0].ln() - 0.5 * REGULAR_SDLOG * REGULAR_SDLOG,
                    REGULAR_SDLOG,
                ],
            };
            (PositivePart::Parametric(f), None, None, None)
        }
        None => {
            let f = dist::fit(Family::LogNormal, &positive).unwrap_or(Fitted {
                family: Family::LogNormal,
                params: [-0.125, 0.5],
            });
            (PositivePart::Parametric(f), None, None, None)
        }
    };
    let runner_up = candidates
        .get(1)
        .map(|c| (c.part.name().to_string(), key(c)));
    let gof = (!needs_pooling).then(|| ks_statistic(&positive, |x| positive_part.cdf(x)));
    let residual = ResidualLaw::new(p0, nonpositive, positive_part)
        .with_spikes(p_spike, spikes.clone())
        .with_zero_rate(zeros::fit(y, &denominators));
    // Keep the forecast mean equal to the fitted mean: E[R] should be mean(ratios).
    let target = mean(&ratios);
    let law_mean = residual.mean();
    let mut level = level;
    if law_mean > 0.0 && target > 0.0 {
        level = level.with_mean_scaled(target / law_mean);
        // The averaged forms share the residual law: the same correction.
        for a in &mut alternatives {
            a.level = a.level.with_mean_scaled(target / law_mean);
        }
    }
    let scores: Vec<f64> = ratios.iter().map(|&r| residual.normal_score(r)).collect();
    let mut diag = Diagnostics {
        model: residual.positive.name().to_string(),
        params: with_smoothing(params_json(&residual), &level),
        loglik: ll,
        aic,
        bic: bic_v,
        gof_name: gof.map(|_| "ks".to_string()),
        gof_stat: gof,
        runner_up: runner_up.as_ref().map(|r| r.0.clone()),
        runner_up_ic: runner_up.map(|r| r.1),
        trend,
        seasonal: seasonal || own_season,
        pooled: false,
        outliers,
        spread: 1.0,
        ets: format!(
            "ETS(M,{},{})",
            ets.form.trend_code(),
            if seasonal || own_season { "M" } else { "N" }
        ),
        chosen_by: choice.by.to_string(),
        origins: choice.evaluation.origins,
        origins_held_out: choice.evaluation.held_out_origins,
        calibration: None,
        total_calibration: None,
        total_calibration_sides: None,
        actual: y.to_vec(),
        fitted: denominators.iter().map(|d| d * target).collect(),
    };

    // The compound law competes on the period totals, given the same
    // expected path (see `compound`); only where the residual law has its
    // own likelihood.
    let mut compound_law = None;
    if let (Some(deals), Some(ll), true) = (deals, ll, target > 0.0 && law_mean > 0.0) {
        let expected: Vec<f64> = denominators.iter().map(|d| d * target).collect();
        if let Some(cf) = compound::fit_compound(y, &expected, deals, law_mean, allow_empirical) {
            // The positive part's density, the non-positive and spike
            // masses' probabilities (their values are drawn as observed).
            let n_spike = residual.spikes.len();
            let n0 = n - n_pos - n_spike;
            let mut resid_ll = ll
                - (0..n)
                    .filter(|&t| ratios[t] > 0.0 && !spike(t))
                    .map(|t| denominators[t].ln())
                    .sum::<f64>();
            if n_pos > 0 && p0 + p_spike < 1.0 {
                resid_ll += n_pos as f64 * (1.0 - p0 - p_spike).ln();
            }
            if n0 > 0 && p0 > 0.0 {
                resid_ll += n0 as f64 * p0.ln();
            }
            if n_spike > 0 {
                resid_ll += n_spike as f64 * p_spike.ln();
            }
            let ic = |ll: f64, k: f64| match criterion {
                Criterion::Aic => 2.0 * k - 2.0 * ll,
                Criterion::Bic => k * nf.ln() - 2.0 * ll,
            };
            let resid_ic = ic(resid_ll, chosen_k as f64);
            let compound_ic = ic(cf.loglik, cf.params);
            if compound_ic < resid_ic {
                // Reported on the residual laws' scale (the likelihood of
                // actual / expected): the same Jacobian and non-positive
                // terms are taken off, so aic columns stay comparable.
                let k = cf.params;
                let ll_on_scale = cf.loglik - (resid_ll - ll);
                diag.model = cf.law.name();
                diag.params = with_smoothing(
                    compound::params_json(&cf.law, mean(&deals.counts), deals.sizes.len()),
                    &level,
                );
                diag.loglik = Some(ll_on_scale);
                diag.aic = Some(2.0 * k - 2.0 * ll_on_scale);
                diag.bic = Some(k * nf.ln() - 2.0 * ll_on_scale);
                diag.gof_name = cf.ks_sizes.map(|_| "ks_deal_sizes".to_string());
                diag.gof_stat = cf.ks_sizes;
                diag.runner_up = Some(residual.positive.name().to_string());
                diag.runner_up_ic = Some(key_chosen);
                compound_law = Some(cf.law);
            } else {
                // Report the compound law as runner-up on the chosen law's scale.
                let shift = resid_ic - key_chosen;
                let on_scale = compound_ic - shift;
                if diag.runner_up_ic.is_none_or(|r| on_scale < r) {
                    diag.runner_up = Some(cf.law.name());
                    diag.runner_up_ic = Some(on_scale);
                }
            }
        }
    }

    if !alternatives.is_empty() {
        // The averaged forms and their weights, by trend code.
        let forms: serde_json::Map<String, serde_json::Value> =
            std::iter::once((ets.form, choice.weight))
                .chain(alternatives.iter().map(|a| (a.fit.form, a.weight)))
                .map(|(form, w)| (form.name().to_string(), json!(round6(w))))
                .collect();
        if let Some(p) = diag.params.as_object_mut() {
            p.insert("forms".into(), serde_json::Value::Object(forms));
        }
        diag.chosen_by = format!("{} (average of {})", choice.by, alternatives.len() + 1);
    }
    TerritoryFit {
        level,
        season,
        residual,
        compound: compound_law,
        diag,
        scores,
        empty: false,
        needs_pooling,
        closed: false,
        n_positive: n_pos,
        sparse_squares: needs_pooling.then(|| log_squares(&positive)).flatten(),
        growth: choice.fit.growth.clone(),
        evaluation: choice.evaluation,
        alternatives,
        calibration: None,
        total_calibration: None,
        total_sides: None,
        total_rel_var,
        total_fixed_rel_var,
        total_per_level: per_level[0],
        persistence: 1.0,
        season_dof,
        season_var,
        form_parameters,
        total_season_share: seasonal_share_of_total(horizon, s_len),
        spread_floor: 1.0,
    }
}

struct Candidate {
    part: PositivePart,
    /// Parameters counted by the criterion.
    k: usize,
    loglik: f64,
    aic: f64,
    bic: f64,
}

impl Candidate {
    fn new(part: PositivePart, loglik: f64, k: usize, n: usize) -> Self {
        Self {
            part,
            k,
            loglik,
            aic: 2.0 * k as f64 - 2.0 * loglik,
            bic: k as f64 * (n as f64).ln() - 2.0 * loglik,
        }
    }
}

/// A territory whose history nets to zero or less (credits, refunds): no
/// level model fits a non-positive mean, so each period is drawn from the
/// territory's own periods, as observed (their mean magnitude as the level,
/// the ratios to it as the law, negative ones included). It forecasts what
/// the data say, credits included, with no trend or season; `fit`
/// warns of it.
fn net_credits_fit(y: &[f64], season_len: usize, n: usize) -> TerritoryFit {
    let scale = y.iter().map(|v| v.abs()).sum::<f64>() / y.len().max(1) as f64;
    let mut out = empty_fit(vec![1.0; season_len], n);
    out.empty = false;
    if scale <= 0.0 {
        out.diag.model = "zero".into();
        return out;
    }
    let ratios: Vec<f64> = y.iter().map(|v| v / scale).collect();
    let nonpositive: Vec<f64> = ratios.iter().copied().filter(|&r| r <= 0.0).collect();
    let mut positive: Vec<f64> = ratios.iter().copied().filter(|&r| r > 0.0).collect();
    positive.sort_by(f64::total_cmp);
    if positive.is_empty() {
        // Not drawn (p0 = 1), but the law needs a part.
        positive.push(1.0);
    }
    let p0 = nonpositive.len() as f64 / ratios.len().max(1) as f64;
    out.level = LevelLaw::fixed(scale);
    out.residual = ResidualLaw::new(
        p0,
        nonpositive,
        PositivePart::Empirical { sorted: positive },
    );
    // Its periods' normal scores join the common shocks' estimate.
    out.scores = ratios
        .iter()
        .map(|&r| out.residual.normal_score(r))
        .collect();
    out.needs_pooling = false;
    out.n_positive = ratios.iter().filter(|&&r| r > 0.0).count();
    out.diag.model = "net-credits (own periods)".into();
    out.diag.pooled = false;
    out.diag.params = params_json(&out.residual);
    out
}

fn empty_fit(season: Vec<f64>, n: usize) -> TerritoryFit {
    TerritoryFit {
        level: LevelLaw::fixed(0.0),
        season,
        residual: pooled_law(0.5),
        compound: None,
        diag: Diagnostics {
            model: "pooled".into(),
            params: json!({}),
            pooled: true,
            spread: 1.0,
            ..Diagnostics::default()
        },
        scores: vec![f64::NAN; n],
        empty: true,
        needs_pooling: true,
        closed: false,
        n_positive: 0,
        sparse_squares: None,
        growth: Vec::new(),
        evaluation: select::Evaluation::default(),
        alternatives: Vec::new(),
        calibration: None,
        total_calibration: None,
        total_sides: None,
        total_rel_var: [0.0; 3],
        total_fixed_rel_var: 0.0,
        total_per_level: 1.0,
        persistence: 1.0,
        season_dof: 0.0,
        season_var: 0.0,
        form_parameters: None,
        total_season_share: 1.0,
        spread_floor: 1.0,
    }
}

/// A lognormal ratio law with mean 1 and log-scale spread `sdlog`.
fn pooled_law(sdlog: f64) -> ResidualLaw {
    ResidualLaw::new(
        0.0,
        Vec::new(),
        PositivePart::Parametric(Fitted {
            family: Family::LogNormal,
            params: [-0.5 * sdlog * sdlog, sdlog],
        }),
    )
}

/// Median log-scale spread of the territories fitted on their own.
fn pooled_sdlog(fits: &[TerritoryFit]) -> f64 {
    // Every fitted territory's spread as the log spread of a lognormal with
    // its law's mean and variance, whatever family it chose (only the
    // lognormal ones counted until 2026-12-06, and with none 0.5 was used);
    // not a closed territory's, whose zeros since are its closing.
    let mut v: Vec<f64> = fits
        .iter()
        .filter(|f| !f.needs_pooling && !f.empty && !f.closed)
        .filter_map(|f| {
            let (m, var) = (f.residual.mean(), f.residual.variance());
            (m > 0.0 && var.is_finite()).then(|| (1.0 + var / (m * m)).ln().sqrt())
        })
        .collect();
    median(&mut v)
        .or_else(|| sparse_sdlog(fits))
        .unwrap_or(0.5)
        .clamp(0.05, 2.0)
}

/// Where no territory has enough positive periods for its own law, the
/// spread of their log ratios pooled (each about its own mean: the
/// pooled variance, sum of squares over degrees of freedom); `None`
/// without two ratios in any. Five territories billing once a year had
/// taken the 0.5 of no evidence: a year of 12,000 at cv 0.1 was forecast
/// at P10 / P50 / P90 4.9k / 10.2k / 21.8k (session 18).
fn sparse_sdlog(fits: &[TerritoryFit]) -> Option<f64> {
    let (squares, dof) = fits
        .iter()
        .filter(|f| !f.empty && !f.closed)
        .filter_map(|f| f.sparse_squares)
        .fold((0.0, 0.0), |(s, d), (fs, fd)| (s + fs, d + fd));
    (dof > 0.0).then(|| (squares / dof).sqrt())
}

/// The log sum of squares of positive `x` about its mean and its degrees
/// of freedom (n - 1); `None` under two values. Equal values give 0: an
/// exactly regular history's spread, not the 0.5 of no evidence.
fn log_squares(x: &[f64]) -> Option<(f64, f64)> {
    if x.len() < 2 {
        return None;
    }
    let logs: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let m = mean(&logs);
    Some((
        logs.iter().map(|l| (l - m).powi(2)).sum(),
        (x.len() - 1) as f64,
    ))
}

/// `params` with the state's smoothing weights added (`alpha`, `beta`,
/// `phi`).
fn with_smoothing(mut params: serde_json::Value, level: &LevelLaw) -> serde_json::Value {
    if let Some(map) = params.as_object_mut() {
        let s = level.smoothing;
        map.insert("alpha".into(), json!(round6(s.alpha)));
        map.insert("beta".into(), json!(round6(s.beta)));
        map.insert("phi".into(), json!(round6(s.phi)));
        if s.compounding {
            map.insert("rate".into(), json!(round6(level.slope)));
        }
    }
    params
}

fn params_json(law: &ResidualLaw) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    match &law.positive {
        PositivePart::Parametric(f) => {
            let names = f.family.param_names();
            map.insert(names[0].into(), json!(round6(f.params[0])));
            map.insert(names[1].into(), json!(round6(f.params[1])));
        }
        PositivePart::Empirical { sorted } => {
            map.insert("n".into(), json!(sorted.len()));
        }
    }
    map.insert("p_nonpositive".into(), json!(round6(law.p0)));
    if let Some(rate) = law.zero_rate {
        map.insert("zero_rate".into(), json!(round6(rate.per_amount)));
    }
    if !law.spikes.is_empty() {
        map.insert("p_spike".into(), json!(round6(law.p_spike)));
        let ratios: Vec<f64> = law.spikes.iter().map(|&r| round6(r)).collect();
        map.insert("spikes".into(), json!(ratios));
    }
    serde_json::Value::Object(map)
}

fn round6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 6 - x.abs().log10().ceil() as i32;
    let f = 10f64.powi(digits.clamp(-10, 15));
    (x * f).round() / f
}

fn lag1(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return 0.0;
    }
    let m = mean(x);
    let var: f64 = x.iter().map(|v| (v - m).powi(2)).sum();
    if var <= 0.0 {
        return 0.0;
    }
    let cov: f64 = x.windows(2).map(|w| (w[0] - m) * (w[1] - m)).sum();
    cov / var
}

/// Leave-one-out log-likelihood of a Gaussian kernel density estimate with
/// Silverman's bandwidth: how the empirical law is ranked against the
/// parametric families (it counts as one parameter, the bandwidth).
fn kde_loo_loglik(x: &[f64]) -> Option<f64> {
    let n = x.len();
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let m = mean(&s);
    let sd = (s.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let iqr = crate::stats::quantile::sorted_quantile(&s, 0.75)
        - crate::stats::quantile::sorted_quantile(&s, 0.25);
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    let h = 0.9 * spread * (n as f64).powf(-0.2);
    if h <= 0.0 || !h.is_finite() {
        return None;
    }
    let norm = ((n - 1) as f64 * h * (2.0 * std::f64::consts::PI).sqrt()).ln();
    let mut ll = 0.0;
    for i in 0..n {
        let d: f64 = (0..n)
            .filter(|&j| j != i)
            .map(|j| (-0.5 * ((x[i] - x[j]) / h).powi(2)).exp())
            .sum();
        if d <= 0.0 {
            return None;
        }
        ll += d.ln() - norm;
    }
    Some(ll)
}

/// Shares of residual normal-score variance explained by a company factor
/// and by region factors, from the variance of sums (the average pairwise
/// correlation of n series is (Var(sum) - sum of variances) / pairs).
fn estimate_shocks(fits: &[TerritoryFit], region_index: &[usize], n_regions: usize) -> ShockModel {
    // Territories with a score that is not a number (no law of their own to
    // score against) are left out: one would make every share NaN.
    let used: Vec<usize> = (0..fits.len())
        .filter(|&i| {
            !fits[i].empty && !fits[i].needs_pooling && !fits[i].closed && fits[i].scores.len() >= 4
        })
        .filter(|&i| fits[i].scores.iter().all(|v| v.is_finite()))
        .collect();
    if used.len() < 2 {
        return ShockModel::independent();
    }
    let n = fits[used[0]].scores.len();
    let centered: Vec<Vec<f64>> = used
        .iter()
        .map(|&i| {
            let s = &fits[i].scores;
            let m = mean(s);
            s.iter().map(|v| v - m).collect()
        })
        .collect();
    let var = |x: &[f64]| x.iter().map(|v| v * v).sum::<f64>() / (n - 1) as f64;
    let sds: Vec<f64> = centered.iter().map(|c| var(c).sqrt()).collect();

    // All pairs.
    let all_sum = sum_series(centered.iter().map(Vec::as_slice), n);
    let sum_var: f64 = sds.iter().map(|s| s * s).sum();
    let sum_sd: f64 = sds.iter().sum();
    let all_pairs = sum_sd * sum_sd - sum_var;
    let all_cov = var(&all_sum) - sum_var;

    // Within-region pairs.
    let (mut within_cov, mut within_pairs) = (0.0, 0.0);
    for r in 0..n_regions {
        let members: Vec<usize> = (0..used.len())
            .filter(|&k| region_index[used[k]] == r)
            .collect();
        if members.len() < 2 {
            continue;
        }
        let s = sum_series(members.iter().map(|&k| centered[k].as_slice()), n);
        let sv: f64 = members.iter().map(|&k| sds[k] * sds[k]).sum();
        let ss: f64 = members.iter().map(|&k| sds[k]).sum();
        within_cov += var(&s) - sv;
        within_pairs += ss * ss - sv;
    }
    let mean_correlation = if all_pairs > 0.0 {
        all_cov / all_pairs
    } else {
        0.0
    };
    let between_pairs = all_pairs - within_pairs;
    let (company, region) = if between_pairs > 0.0 && within_pairs > 0.0 {
        let between = (all_cov - within_cov) / between_pairs;
        let within = within_cov / within_pairs;
        let c = between.clamp(0.0, 0.95);
        (c, (within - c).clamp(0.0, 0.95 - c))
    } else {
        (mean_correlation.clamp(0.0, 0.95), 0.0)
    };

    let factor: Vec<f64> = (0..n).map(|t| all_sum[t] / used.len() as f64).collect();
    let factor_ar = lag1(&factor).clamp(0.0, 0.9);
    let own_ar =
        (centered.iter().map(|c| lag1(c)).sum::<f64>() / centered.len() as f64).clamp(0.0, 0.9);
    ShockModel {
        company_share: company,
        region_share: region,
        factor_ar,
        own_ar,
        mean_correlation,
    }
}
