//! Moments in time, as the order's answers report them.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A moment, to the millisecond since the Unix epoch.
///
/// Recorded inside steps, so a replay reads the moment back instead of
/// reading the clock again. Serializes as its epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Moment(u64);

impl Moment {
    /// The moment `epoch_ms` milliseconds after the Unix epoch.
    #[must_use]
    pub const fn from_epoch_ms(epoch_ms: u64) -> Self {
        Self(epoch_ms)
    }

    /// The current time.
    #[must_use]
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self(u64::try_from(nanos / 1_000_000).unwrap_or_default())
    }

    /// Milliseconds since the Unix epoch.
    #[must_use]
    pub const fn epoch_ms(self) -> u64 {
        self.0
    }

    /// Milliseconds from `earlier` to this moment (0 if `earlier` is later).
    #[must_use]
    pub const fn millis_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// RFC 3339 in UTC with milliseconds: `2026-11-26T19:10:12.345Z`.
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|moment| moment.format(&Rfc3339).ok())
            .unwrap_or_default()
    }
}

impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_rfc3339_with_milliseconds() {
        let moment = Moment::from_epoch_ms(1_707_423_456_789);
        assert_eq!(moment.to_rfc3339(), "2024-02-08T20:17:36.789Z");
    }

    #[test]
    fn measures_the_time_between_two_moments() {
        let start = Moment::from_epoch_ms(1_000);
        assert_eq!(Moment::from_epoch_ms(2_234).millis_since(start), 1_234);
        assert_eq!(start.millis_since(Moment::from_epoch_ms(2_000)), 0);
    }
}
