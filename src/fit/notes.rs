//! Warnings that tell the user where a territory's fitted history was
//! taken to start (`start`) and where a lasting step in its level was
//! read (`step`).

use super::{step, Layout};
use crate::calendar::Calendar;

/// A territory `name` fitted from its first sale or restart, `before` its
/// periods before it (all empty: it had not started; sales, then a long
/// empty spell: a restart).
pub(super) fn late_start(
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
pub(super) fn lasting_step(
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
