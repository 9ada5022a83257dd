//! The engine's time: one clock, given to the engine, read everywhere.
//!
//! A [`Clock`] pairs a wall-clock origin with a tokio [`Instant`] and counts
//! the time since on tokio's monotonic clock. Its moments are therefore on
//! the same time line as the engine's timers: under tokio's paused time (in
//! tests) both move together, instantly, and a deadline computed from the
//! clock fires exactly when the clock reaches it.

use std::time::Duration;

use tokio::time::Instant;

use crate::limits::MAX_TIME_SCALE;
use crate::model::Timestamp;

/// Where the engine reads the time from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Microseconds since the Unix epoch at `at`.
    origin_micros: i64,
    at: Instant,
}

impl Clock {
    /// The system's time, from now on counted on tokio's clock (which is
    /// paused and advanced by hand in tests).
    #[must_use]
    pub fn system() -> Self {
        let micros = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
        Self {
            origin_micros: i64::try_from(micros).unwrap_or(i64::MAX),
            at: Instant::now(),
        }
    }

    /// A clock that reads `origin` now: for tests that want the same
    /// moments on every run.
    #[must_use]
    pub fn starting_at(origin: Timestamp) -> Self {
        Self {
            origin_micros: origin.millis().saturating_mul(1_000),
            at: Instant::now(),
        }
    }

    /// The current moment.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        let elapsed = i64::try_from(self.at.elapsed().as_micros()).unwrap_or(i64::MAX);
        Timestamp::from_millis(self.origin_micros.saturating_add(elapsed).div_euclid(1_000))
    }

    /// The instant at which [`Clock::now`] reaches `moment` (now, if it has).
    #[must_use]
    pub fn instant_at(&self, moment: Timestamp) -> Instant {
        let target = moment.millis().saturating_mul(1_000);
        let after_origin = u64::try_from(target.saturating_sub(self.origin_micros)).unwrap_or(0);
        self.at
            .checked_add(Duration::from_micros(after_origin))
            .unwrap_or_else(far_future)
    }
}

/// The delay before retry `attempt` (from 1) of something that keeps
/// failing: `first`, doubling with each attempt, never more than `max`.
#[must_use]
pub fn backoff(first: Duration, attempt: u32, max: Duration) -> Duration {
    let factor = 2_u32.saturating_pow(attempt.saturating_sub(1).min(20));
    first.saturating_mul(factor).min(max)
}

/// `delay` on the time scale `scale` (see `EngineOptions::time_scale`):
/// a scale that is not a number counts as 1, and scales are held to 0 ..
/// [`MAX_TIME_SCALE`].
#[must_use]
pub fn scaled(delay: Duration, scale: f64) -> Duration {
    delay.mul_f64(held(scale))
}

/// `seconds` on the time scale `scale`, in whole milliseconds, as
/// [`scaled`] scales them.
#[must_use]
pub fn scaled_millis(seconds: i64, scale: f64) -> i64 {
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "delays are far below f64's exact range and rounded to whole milliseconds"
    )]
    let millis = (seconds as f64 * 1000.0 * held(scale)).round() as i64;
    millis.clamp(0, i64::MAX / 2)
}

fn held(scale: f64) -> f64 {
    if scale.is_nan() {
        1.0
    } else {
        scale.clamp(0.0, MAX_TIME_SCALE)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

/// An instant no timer reaches (about thirty years on).
fn far_future() -> Instant {
    Instant::now() + Duration::from_hours(24 * 365 * 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_clock_moves_with_tokio_time_and_deadlines_land_on_it() {
        let clock = Clock::starting_at(Timestamp::from_millis(1_000_000));
        assert_eq!(clock.now(), Timestamp::from_millis(1_000_000));
        let deadline = Timestamp::from_millis(1_002_500);
        tokio::time::sleep_until(clock.instant_at(deadline)).await;
        assert_eq!(clock.now(), deadline);
        tokio::time::sleep(Duration::from_hours(1)).await;
        assert_eq!(
            clock.now(),
            Timestamp::from_millis(1_000_000 + 2_500 + 3_600_000)
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let first = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        let delays: Vec<u128> = (1..=6)
            .map(|attempt| backoff(first, attempt, max).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff(first, u32::MAX, max), max);
    }

    #[tokio::test(start_paused = true)]
    async fn a_moment_already_passed_is_due_now() {
        let clock = Clock::starting_at(Timestamp::from_millis(5_000));
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(clock.instant_at(Timestamp::from_millis(1)) <= Instant::now());
    }
}
