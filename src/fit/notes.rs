//! Warnings that tell the user how the history was read: where a
//! territory's fitted history was taken to start (`start`), where a
//! lasting step in its level was read (`step`), a territory of net
//! credits, and a history under two years.

use super::territory::TerritoryFit;
use super::{step, Layout};
use crate::calendar::Calendar;

/// A territory `name` fitted from its first sale or restart, `before` its
/// periods before it (all empty: it had not started; sales, then a long
/// empty spell: a restart).
pub(super) fn start_warning(
    name: &str,
    before: &[f64],
    layout: &Layout,
    calendar: &Calendar,
) -> String {
    let t0 = before.len();
    let first = calendar.start_of(layout.ordinals[t0]);
    let unit = calendar.kind.name();
    // Calendar periods (a closed season's included).
    let since = |t: usize| layout.ordinals[t0] - layout.ordinals[t];
    let from_then = layout.origin - layout.ordinals[t0];
    if before.iter().all(|&v| v == 0.0) {
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
    }
}

/// A lasting step `found` in territory `name`'s level.
pub(super) fn step_warning(
    name: &str,
    found: &step::Step,
    layout: &Layout,
    calendar: &Calendar,
) -> String {
    let (change, direction) = if found.ratio < 1.0 {
        (1.0 - found.ratio, "less")
    } else {
        (found.ratio - 1.0, "more")
    };
    format!(
        "territory '{name}' sold about {:.0}% {direction} from {} on than before, a step no ordinary {unit} explains: taken as a lasting change (such as an account lost or won), its {unit}s before it scaled to the level after it for its fit",
        100.0 * change,
        calendar.start_of(layout.ordinals[found.at]),
        unit = calendar.kind.name(),
    )
}

/// Territory `name`, fitted on its own periods' values because its
/// history nets to credits (`territory::net_credits_fit`).
pub(super) fn net_credits_warning(name: &str, f: &TerritoryFit) -> String {
    format!(
        "territory '{name}' nets to {:.0} a period over its history (its credits exceed its sales): each forecast period is drawn from its own periods' values, credits included, with no trend or season",
        f.level.level * f.residual.mean()
    )
}

/// A history shorter than two seasons (`layout`'s periods).
pub(super) fn short_history_warning(layout: &Layout, calendar: &Calendar) -> String {
    let periods = layout.origin - layout.ordinals.first().copied().unwrap_or(layout.origin);
    format!(
        "only {periods} {}s of history: seasonal and trend terms are estimated from less than two years",
        calendar.kind.name()
    )
}
