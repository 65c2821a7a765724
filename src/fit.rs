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
use crate::ets::{crossfit, pool, select, Growth};
use crate::history::SalesHistory;
use crate::model::{
    AlphaPriorModes, AlternativeLevel, FittedModels, LevelLaw, ResidualLaw, SeasonError,
    TerritoryModel,
};
use crate::scenario::FitSpec;
use crate::stats::dist::Family;
use crate::stats::quantile::mean;

mod calibration;
mod compound;
mod family;
mod offseason;
mod params;
mod persistence;
mod pooling;
mod power;
mod season;
mod shocks;
mod skew;
pub use season::shortest_seasonal_history;
mod spikes;
mod spread;
mod start;
mod step;
mod territory;
mod zeros;

use calibration::calibrate;
use params::{params_json, round6, with_smoothing};
use pooling::{pooled_law, pooled_sdlog};
use power::apply_variance_power;
use season::{
    deseasonalise, group_profile, own_seasons_repeat, season_repeatability, seasonal_deviations,
    seasonal_discount, seasonal_spread, Deseasonalised, GroupProfile, OUTLIER_Z,
};
use shocks::estimate_shocks;
use spread::correct_for_fitted_parameters;
use territory::{evaluate_territory, fit_territory, Settings, TerritoryFit};

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
