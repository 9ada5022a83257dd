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

/// Tells the timer loop that the index has an entry it may not have seen.
#[derive(Debug, Default)]
pub(super) struct TimerNotes {
    changed: Notify,
}

impl TimerNotes {
    /// An execution went to rest, or started at rest.
    pub(super) fn note(&self) {
        self.changed.notify_one();
    }
}

/// Runs the timer loop until the engine stops.
pub(super) async fn run(engine: WeakEngine) {
    let mut cursor: Option<DueCursor> = None;
    let mut rescan_at = tokio::time::Instant::now() + RESCAN;
    loop {
        let Some(live) = engine.upgrade() else {
            return;
        };
        if live.is_stopping() {
            return;
        }
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
            // Nothing due now: sleep until the next entry, a note, or the
            // rescan.
            let next = live
                .shared
                .store
                .due(cursor, Timestamp::from_millis(i64::MAX), 1)
                .await
                .ok()
                .and_then(|next| next.first().map(|due| due.at));
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
