//! The engine's timer loop: one for all executions, over the store's timer
//! index.
//!
//! Each execution's next due moment is in the store (written with its
//! every change). The loop walks the index in order of moment: an
//! execution at rest whose moment came is loaded and told to fire its
//! timers (a resident one fires its own); a finished one past its retention
//! period is deleted. It sleeps until the next moment in the index, or
//! until an execution goes to rest or starts at rest with an earlier one.
//! Every [`RESCAN`] it walks the index from its start again, for an
//! execution left behind (one whose task ended on a store that refused
//! writes).
//!
//! Once it has acted on due entries, it sleeps at least a [`TICK_MILLIS`]: under a
//! stream of moments (thousands of waits ending about as fast as they
//! began), those that came meanwhile are loaded together, so their
//! invocations' checkpoints share the store's commits instead of each
//! paying for one of its own. A lone moment is acted on when it comes; an
//! execution started at rest is loaded at once.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::WeakEngine;
use crate::model::Timestamp;
use crate::store::{Due, DueCursor, WriteBatch};

/// How many entries of the index the loop reads at once.
const PAGE: usize = 256;

/// How often the loop walks the index from its start again.
const RESCAN: Duration = Duration::from_mins(1);

/// How long the loop waits after the store failed to answer.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// How many executions past their retention one write deletes.
const DELETE_BATCH: usize = 500;

/// How long, in milliseconds, the loop sleeps at least after acting on due
/// entries: the most a moment waits for others that follow it closely.
const TICK_MILLIS: i64 = 50;

/// Tells the timer loop that the index has an entry it may not have seen.
#[derive(Debug)]
pub(super) struct TimerNotes {
    changed: Notify,
    /// The moment (in milliseconds) the loop sleeps until; `i64::MAX`
    /// while it is awake or has nothing to sleep until but its rescan.
    sleeps_until: AtomicI64,
}

impl Default for TimerNotes {
    fn default() -> Self {
        Self {
            changed: Notify::new(),
            sleeps_until: AtomicI64::new(i64::MAX),
        }
    }
}

impl TimerNotes {
    /// An execution went to rest, or started at rest, due at `at` (its
    /// entry already written): wakes the loop if it would sleep past it.
    pub(super) fn note(&self, at: Option<Timestamp>) {
        if at.is_some_and(|at| at.millis() < self.sleeps_until.load(Ordering::SeqCst)) {
            self.changed.notify_one();
        }
    }

    /// The loop is about to read the index: every note wakes it again.
    fn awake(&self) {
        self.sleeps_until.store(i64::MAX, Ordering::SeqCst);
    }

    /// The loop, having read the index, sleeps until `until`.
    fn sleeping(&self, until: Option<Timestamp>) {
        self.sleeps_until
            .store(until.map_or(i64::MAX, Timestamp::millis), Ordering::SeqCst);
    }
}

/// Runs the timer loop until the engine stops.
pub(super) async fn run(engine: WeakEngine) {
    let mut cursor: Option<DueCursor> = None;
    let mut rescan_at = tokio::time::Instant::now() + RESCAN;
    // When the loop last acted on due entries.
    let mut acted_at: Option<Timestamp> = None;
    loop {
        let Some(live) = engine.upgrade() else {
            return;
        };
        if live.is_stopping() {
            return;
        }
        live.shared.timers.awake();
        let now = live.now();
        let page = match live.shared.store.due(cursor, now, PAGE).await {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, "the timer index could not be read; trying again");
                drop(live);
                tokio::time::sleep(STORE_RETRY).await;
                continue;
            }
        };
        if page.is_empty() {
            // Nothing due now: sleep until the next entry (a tick after
            // the last entries acted on, at the soonest), a note, or the
            // rescan.
            let next = live
                .shared
                .store
                .due(cursor, Timestamp::from_millis(i64::MAX), 1)
                .await
                .ok()
                .and_then(|next| next.first().map(|due| due.at))
                .map(|at| acted_at.map_or(at, |acted| at.max(acted.plus_millis(TICK_MILLIS))));
            live.shared.timers.sleeping(next);
            let clock = live.shared.options.clock;
            let wake_at = next.map_or(rescan_at, |at| clock.instant_at(at).min(rescan_at));
            let shared = std::sync::Arc::clone(&live.shared);
            drop(live);
            tokio::select! {
                () = tokio::time::sleep_until(wake_at) => {}
                () = shared.timers.changed.notified() => {}
                () = shared.stopped.cancelled() => return,
            }
            if tokio::time::Instant::now() >= rescan_at {
                cursor = None;
                rescan_at = tokio::time::Instant::now() + RESCAN;
            }
            continue;
        }
        acted_at = Some(now);
        let mut expired = Vec::new();
        for due in page {
            cursor = Some(due.cursor());
            if !wake(&live, due, &mut expired).await {
                return;
            }
        }
        delete(&live, expired).await;
    }
}

/// Acts on one due entry: gathers a finished execution in `expired`,
/// loads one at rest. False when the engine stops meanwhile.
async fn wake(engine: &super::Engine, due: Due, expired: &mut Vec<String>) -> bool {
    if due.finished {
        expired.push(due.arn);
        return true;
    }
    if engine.shared.residents.contains(&due.arn) {
        // Resident: its actor fires its own timers.
        return true;
    }
    // Its turn to be in memory: many due at once are loaded as turns free.
    let permit = tokio::select! {
        permit = std::sync::Arc::clone(&engine.shared.residency).acquire_owned() => permit,
        () = engine.stopping() => return false,
    };
    engine.wake(&due.arn, permit.ok());
    true
}

/// Deletes the executions of `expired`, past their retention period.
async fn delete(engine: &super::Engine, expired: Vec<String>) {
    for chunk in expired.chunks(DELETE_BATCH) {
        let deleted = engine
            .shared
            .store
            .write(WriteBatch {
                deleted: chunk.to_vec(),
                ..WriteBatch::default()
            })
            .await;
        match deleted {
            Ok(()) => tracing::info!(
                count = chunk.len(),
                "deleted executions past their retention period"
            ),
            Err(error) => {
                tracing::warn!(%error, "executions past their retention period could not be deleted; the next walk tries again");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a note is waiting for the loop.
    async fn noted(notes: &TimerNotes) -> bool {
        tokio::time::timeout(Duration::from_millis(10), notes.changed.notified())
            .await
            .is_ok()
    }

    #[tokio::test(start_paused = true)]
    async fn a_note_wakes_the_loop_only_for_an_entry_before_the_moment_it_sleeps_until() {
        let notes = TimerNotes::default();
        notes.sleeping(Some(Timestamp::from_millis(1_000)));
        notes.note(Some(Timestamp::from_millis(1_000)));
        notes.note(Some(Timestamp::from_millis(5_000)));
        notes.note(None);
        assert!(!noted(&notes).await, "the loop wakes by then anyway");
        notes.note(Some(Timestamp::from_millis(999)));
        assert!(noted(&notes).await, "an earlier entry wakes it");
        // Awake, reading the index: any note makes it read again.
        notes.awake();
        notes.note(Some(Timestamp::from_millis(i64::MAX - 1)));
        assert!(noted(&notes).await);
        // Asleep with nothing in the index but its rescan to wait for.
        notes.sleeping(None);
        notes.note(Some(Timestamp::from_millis(1)));
        assert!(noted(&notes).await);
    }
}
