//! Fitting: from a [`SalesHistory`] to [`FittedModels`].
//!
//! A company closed in part of every year is fitted on its selling periods
//! alone (`offseason`). Each territory's history starts at its first sale
//! or restart (`start`), and a lasting step in its level is scaled out of
//! it (`step`). Per territory, in this order (the README explains the
//! choices):
//! 1. **Seasonality**, pooled: a log-linear regression on the company's
//!    and each region's total picks seasonal indices when the information
//!    criterion supports them (`season`, `profiles`); each territory's own
//!    deviations (`own_season`)
//!    from its region's profile are shrunk toward it by empirical Bayes
//!    (weight tau^2 / (tau^2 + noise variance)), so a territory with little
//!    history borrows its region's shape. Without a company profile they
//!    are measured against no season (or a region's own profile) and kept
//!    only where seasons repeat from year to year
//!    (`own_season::own_seasons_repeat`). The series divided by its
//!    indices, spikes capped, is `deseasonalise`'s.
//! 2. **Level and trend** (`ets`; per territory `territory`): the
//!    candidate exponential-smoothing forms are fitted by maximum
//!    likelihood to the deseasonalised series, scored by how they would
//!    have forecast it from rolling origins, and chosen with the region's
//!    evidence (`ets::pool`; the group-share form's paths are
//!    `growth_paths`'); the same errors calibrate
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
//!    statistic (`family`); too few positive periods borrow the company's
//!    spread (`pooling`); a variance power makes the spread follow the
//!    expected amount (`power`).
//! 4. **Compound law** (`compound`): when the sales table names deals, the
//!    number of deals x deal size law of period revenue, kept when its log
//!    score on the period totals beats the residual law's by the criterion.
//! 5. **Common shocks** (`shocks`): from the residual normal scores, the shares of
//!    variance explained by a company factor and by region factors, and the
//!    AR(1) persistence of factors and own noise.
//!
//! How the history was read (late starts, steps, credits, a short
//! history) is told in warnings (`notes`). No I/O; pure function of its
//! inputs.

use rayon::prelude::*;

use crate::ets::prior::{AlphaPrior, FormPriors};
use crate::ets::{crossfit, pool, select, Growth};
use crate::history::SalesHistory;
use crate::model::{AlphaPriorModes, FittedModels};
use crate::scenario::FitSpec;

mod calibration;
mod compound;
mod deseasonalise;
mod family;
mod growth_paths;
mod notes;
mod offseason;
mod own_season;
mod params;
mod persistence;
mod pooling;
mod power;
mod profiles;
mod season;
mod shocks;
mod short_growth;
mod skew;
pub use season::shortest_seasonal_history;
mod spikes;
mod spread;
mod start;
mod step;
mod territory;
mod zeros;

use calibration::calibrate;
use deseasonalise::{deseasonalise, Deseasonalised};
use pooling::pooled_sdlog;
use power::apply_variance_power;
use profiles::GroupProfiles;
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

/// The company's territories as the fit's stages read them, each indexed
/// alike.
struct Territories<'a> {
    /// Each one's periods as sold (per reporting date where the data has
    /// a cadence).
    sold: &'a [&'a [f64]],
    /// The same with a lasting step's earlier periods scaled to the level
    /// after it (`step`): what its own fit reads.
    series: &'a [&'a [f64]],
    /// Whether a step was so scaled.
    stepped: &'a [bool],
    /// Its first period (`start::history_start`).
    starts: &'a [usize],
    /// The period after its last sale (`start::history_end`).
    ends: &'a [usize],
    region_index: &'a [usize],
}

/// How far levels (and shares of the region) move, as the company's
/// territories together show it: worth at least a year of a territory's
/// own periods, more the less they differ, each territory keeping less of
/// it the more its own evidence disagrees (`ets::prior`). The company's
/// priors and each territory's, from their `deseasonalised` periods and
/// their regions' growth paths (`region_growth`), over a history of
/// `n_fit` periods with seasons of `s`.
fn form_priors(
    territories: &Territories,
    deseasonalised: &[Deseasonalised],
    region_growth: &[Vec<(usize, Growth)>],
    n_fit: usize,
    s: usize,
) -> (FormPriors, Vec<FormPriors>) {
    let Territories {
        starts,
        ends,
        region_index,
        ..
    } = *territories;
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
            .zip(starts)
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
    (alpha_prior, territory_priors)
}

/// Each territory's first `n_fit` periods as revenue per reporting date,
/// where the data has a fixed cadence (`None`: as sold).
fn per_reporting_date(history: &SalesHistory, n_fit: usize) -> Option<Vec<Vec<f64>>> {
    let calendar = history.calendar;
    history.cadence.map(|c| {
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
    })
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
    let per_date = per_reporting_date(history, n_fit);
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

    let mut groups = GroupProfiles::of(&series, &region_index, &regions, positions, s, &|t| {
        calendar.start_of(layout.ordinals[t]).to_string()
    });
    // A lasting step in a territory's level, read against its region's
    // season (`step`): its periods before the step are scaled to the
    // level after it for its own fit (the regions' totals and profiles
    // above keep what was sold). Fitted through it, the old level came
    // back.
    let steps = step::lasting_steps(
        &series,
        &region_index,
        &starts,
        &groups.region_profiles,
        positions,
        s,
    );
    let scaled: Vec<Option<Vec<f64>>> = series
        .iter()
        .zip(&steps)
        .map(|(y, found)| found.map(|found| found.level_after(y)))
        .collect();
    let sold = series;
    let series: Vec<&[f64]> = sold
        .iter()
        .zip(&scaled)
        .map(|(&y, adjusted)| adjusted.as_deref().unwrap_or(y))
        .collect();
    let stepped: Vec<bool> = steps.iter().map(Option::is_some).collect();
    let territories = Territories {
        sold: &sold,
        series: &series,
        stepped: &stepped,
        starts: &starts,
        ends: &ends,
        region_index: &region_index,
    };
    // Each region's growth per period, as its deseasonalised total showed
    // it up to each rolling origin and up to the end (the group-growth form).
    let region_growth = growth_paths::region_growth(&territories, &groups, positions, horizon, s);
    let (deviations, tau2) = own_season::deviations(&territories, &groups, positions, s);

    // Deals per reporting date are not modelled: with a cadence the
    // compound law is not offered.
    let deals = (spec.families.iter().any(|f| f == "compound") && history.cadence.is_none())
        .then(|| compound::deals_by_territory(history, n_fit, &region_index, regions.len()))
        .flatten();
    let settings = Settings::of(spec, horizon);
    // Every form scored on every territory, then each territory's form
    // chosen with its region's evidence (`ets::pool`), then the fits.
    let deseasonalised = deseasonalise_all(&territories, &groups, &deviations, tau2, positions);
    // How far levels (and shares of the region) move (`ets::prior`).
    let (alpha_prior, territory_priors) =
        form_priors(&territories, &deseasonalised, &region_growth, n_fit, s);
    let evaluated = evaluate_all(
        &territories,
        &groups,
        deseasonalised,
        &region_growth,
        &settings,
        &territory_priors,
    );
    let closed: Vec<bool> = ends.iter().map(|&end| end < n_fit).collect();
    let mut fits = choose_and_fit(
        &territories,
        evaluated,
        &closed,
        deals.as_ref(),
        &settings,
        positions,
    );
    let mut warnings = std::mem::take(&mut groups.shock_warnings);
    warnings.extend(pool_unfitted(
        &mut fits,
        history,
        &groups,
        &territories,
        layout,
    ));
    warnings.extend(steps.iter().enumerate().filter_map(|(i, found)| {
        let found = found.as_ref()?;
        Some(notes::step_warning(
            &history.territories[i].name,
            found,
            layout,
            &calendar,
        ))
    }));
    if n_fit < 2 * s {
        warnings.push(notes::short_history_warning(layout, &calendar));
    }

    let mut shocks = estimate_shocks(&fits, &region_index, regions.len());
    let persistence = calibrate(&mut fits);
    let shares = groups.territory_shares(&territories);
    let group_params = groups.territory_profile_params(&region_index);
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
    for (f, found) in fits.iter_mut().zip(&steps) {
        if let Some(found) = found {
            f.add_step_uncertainty(found);
        }
    }
    let territories = fits
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let t = &history.territories[i];
            f.into_model(t, region_index[i], n_fit - starts[i])
        })
        .collect();
    FittedModels {
        calendar,
        origin: layout.origin,
        regions,
        territories,
        shocks,
        season_errors: groups.season_errors,
        cadence: history.cadence,
        season_discount: groups.discount,
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

/// Every territory's series from its start divided by its indices
/// (`deseasonalise`): its region's profile and its own deviations from
/// it, shrunk by their spread `tau2`.
fn deseasonalise_all(
    territories: &Territories,
    groups: &GroupProfiles,
    deviations: &[Vec<(f64, f64)>],
    tau2: f64,
    positions: &[usize],
) -> Vec<Deseasonalised> {
    let Territories {
        series,
        starts,
        region_index,
        ..
    } = *territories;
    series
        .par_iter()
        .enumerate()
        .map(|(i, y)| {
            let (r, t0) = (region_index[i], starts[i]);
            deseasonalise(
                &y[t0..],
                &groups.region_profiles[r],
                &deviations[i],
                &positions[t0..],
                tau2,
            )
        })
        .collect()
}

/// Every form scored on every territory at its rolling origins
/// (`evaluate_territory`), each with its region's shock periods, growth
/// paths and its own prior on how far levels move (`priors`).
fn evaluate_all(
    territories: &Territories,
    groups: &GroupProfiles,
    deseasonalised: Vec<Deseasonalised>,
    region_growth: &[Vec<(usize, Growth)>],
    settings: &Settings,
    priors: &[FormPriors],
) -> Vec<(Deseasonalised, Option<select::Evaluated>)> {
    let Territories {
        series,
        starts,
        region_index,
        ..
    } = *territories;
    deseasonalised
        .into_par_iter()
        .enumerate()
        .map(|(i, d)| {
            let (r, t0) = (region_index[i], starts[i]);
            let shocks: Vec<usize> = groups.region_shocks[r]
                .iter()
                .filter(|&&t| t >= t0)
                .map(|&t| t - t0)
                .collect();
            // The company's evidence on how far levels move, read at this
            // territory's own noise, as far as its own evidence agrees
            // with it (`ets::prior`: a Student-t prior).
            let e = evaluate_territory(
                &series[i][t0..],
                &d,
                &shocks,
                &region_growth[r],
                t0,
                settings,
                &priors[i],
            );
            (d, e)
        })
        .collect()
}

/// Each territory's form chosen with its region's evidence
/// (`ets::pool`), its mixture's errors measured on weights chosen apart
/// from each block of origins (`crossfit`), and its fit; `closed` marks
/// the territories that stopped selling before the history's end.
fn choose_and_fit(
    territories: &Territories,
    evaluated: Vec<(Deseasonalised, Option<select::Evaluated>)>,
    closed: &[bool],
    deals: Option<&Vec<compound::Deals>>,
    settings: &Settings,
    positions: &[usize],
) -> Vec<TerritoryFit> {
    let Territories {
        series,
        stepped,
        starts,
        region_index,
        ..
    } = *territories;
    let scored: Vec<Option<&select::Evaluated>> =
        evaluated.iter().map(|(_, e)| e.as_ref()).collect();
    let picks = pool::pooled_weights(&scored, region_index, closed);
    let held_out = crossfit::held_out_weights(&scored, region_index, closed);
    evaluated
        .into_par_iter()
        .zip(picks)
        .zip(held_out)
        .enumerate()
        .map(|(i, (((d, e), pick), held_out))| {
            let t0 = starts[i];
            // A stepped territory's deals are as sold, not as scaled: the
            // deal law is not offered to it.
            let own_deals = deals
                .filter(|_| !stepped[i])
                .and_then(|d| d.get(i))
                .map(|d| d.since(t0));
            let mut f = fit_territory(
                &series[i][t0..],
                own_deals.as_ref(),
                d,
                e.and_then(|e| e.choose(pick, &held_out, settings.criterion)),
                settings,
                &positions[t0..],
            );
            f.pad_scores(t0);
            f.closed = closed[i];
            f
        })
        .collect()
}

/// What cannot be fitted alone pooled (`pooling`), with the warnings
/// about each territory's history: how it was pooled, net credits, a late
/// start; under a year of history, a territory is seasonal where its
/// region's profile is not flat.
fn pool_unfitted(
    fits: &mut [TerritoryFit],
    history: &SalesHistory,
    groups: &GroupProfiles,
    territories: &Territories,
    layout: &Layout,
) -> Vec<String> {
    let Territories {
        series,
        starts,
        region_index,
        ..
    } = *territories;
    let (n_fit, s, calendar) = (layout.positions.len(), layout.s, history.calendar);
    let pool = pooling::Pool {
        sdlog: pooled_sdlog(fits),
        region_levels: pooling::region_levels(fits, region_index, groups.region_profiles.len()),
    };
    let mut warnings = Vec::new();
    for (i, f) in fits.iter_mut().enumerate() {
        let name = &history.territories[i].name;
        let r = region_index[i];
        // Rows in the sales table before the fitted history's end.
        let rows_from = history.first_row.get(name).copied().filter(|&p| p < n_fit);
        let note = pool.territory(
            f,
            name,
            r,
            &groups.region_profiles[r],
            rows_from.map(|p| n_fit - p),
            calendar.kind,
        );
        warnings.extend(note);
        if f.diag.model.starts_with("net-credits") {
            warnings.push(notes::net_credits_warning(name, f));
        }
        if n_fit < s && !f.empty {
            // Under a year: seasonal where its region's profile (its own
            // or the company's; a quarter's pattern) is not flat.
            f.diag.seasonal = groups.region_profiles[r]
                .iter()
                .any(|&v| (v - 1.0).abs() > 1e-9);
        }
        if starts[i] > 0 {
            warnings.push(notes::start_warning(
                name,
                &series[i][..starts[i]],
                layout,
                &calendar,
            ));
        }
    }
    warnings
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
