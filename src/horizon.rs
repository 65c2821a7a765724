//! The plan horizon: which periods are reported, which of them are already
//! actuals (an in-year reforecast) and which are simulated.
//!
//! The model is always fitted on every complete period of history; the
//! first simulated period (the origin) is the one after it. Horizon periods
//! before the origin are actuals; periods between the origin and the
//! horizon's start are simulated but not reported.

use chrono::NaiveDate;

use crate::calendar::Calendar;
use crate::error::{Error, Result};
use crate::history::SalesHistory;
use crate::scenario::Scenario;

/// The periods a forecast covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub calendar: Calendar,
    /// Ordinal of the first reported period.
    pub start: i64,
    /// Number of reported periods.
    pub periods: usize,
    /// Ordinal of the first simulated period (the first after the history).
    pub origin: i64,
}

impl Horizon {
    /// The horizon of `scenario` on `history`.
    ///
    /// # Errors
    /// `Error::Scenario` if the start lies before the history begins.
    pub fn resolve(scenario: &Scenario, history: &SalesHistory) -> Result<Self> {
        let calendar = history.calendar;
        let origin = history.first_period + history.n_periods() as i64;
        let start = match scenario.forecast.start {
            Some(d) => calendar.period_of(d),
            None => origin,
        };
        if start <= history.first_period {
            return Err(Error::scenario(
                &scenario.path,
                "forecast.start",
                format!(
                    "found {}, expected a date after the first complete {} of history ({})",
                    calendar.start_of(start),
                    calendar.kind.name(),
                    calendar.start_of(history.first_period)
                ),
            ));
        }
        Ok(Self {
            calendar,
            start,
            periods: scenario
                .forecast
                .periods
                .unwrap_or_else(|| calendar.kind.per_year()),
            origin,
        })
    }

    /// Reported periods that are actuals.
    pub fn actual_periods(&self) -> usize {
        (self.origin - self.start).clamp(0, self.periods as i64) as usize
    }

    /// Periods the simulation must run, from the origin to the horizon's end.
    pub fn simulated_periods(&self) -> usize {
        (self.start + self.periods as i64 - self.origin).max(0) as usize
    }

    /// Offset of the first reported simulated period within the simulated ones.
    pub fn first_reported_offset(&self) -> usize {
        (self.start - self.origin).max(0) as usize
    }

    /// Start dates of the reported periods.
    pub fn period_starts(&self) -> Vec<NaiveDate> {
        (0..self.periods as i64)
            .map(|i| self.calendar.start_of(self.start + i))
            .collect()
    }

    /// Start dates of the simulated periods (from the origin).
    pub fn simulated_starts(&self) -> Vec<NaiveDate> {
        (0..self.simulated_periods() as i64)
            .map(|h| self.calendar.start_of(self.origin + h))
            .collect()
    }
}
