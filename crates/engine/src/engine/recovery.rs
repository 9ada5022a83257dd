//! Carrying on after a restart, and the purge of old plain log lines.
//!
//! A restart reads no execution whole. The timer loop finds what is due in
//! the store's timer index (an execution whose invocation was under way or
//! owed is due at once) and loads it; everything else stays at rest until
//! its moment or a request. The chained invokes under way are in the
//! store's outbox, and are dispatched again.

use super::Engine;
use super::error::Result;
use crate::limits::{DAY_MILLIS, PLAIN_LOG_DAYS};
use crate::store::WriteBatch;

impl Engine {
    /// Carries on with what the store holds: starts the timer loop, which
    /// loads each execution when something is due for it, and dispatches
    /// again the chained invokes under way. Returns how many.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn recover(&self) -> Result<usize> {
        self.run_background();
        let outbox = self.shared.store.outbox().await?;
        let count = outbox.len();
        for (arn, request) in outbox {
            self.dispatch_chained(&arn, request);
        }
        Ok(count)
    }

    /// Deletes the log lines of plain invocations older than 14 days, and
    /// the executions past their retention period (which the timer loop
    /// also deletes as they come due). Returns how many executions.
    ///
    /// # Errors
    ///
    /// When the store cannot be read or written.
    pub async fn purge_expired(&self) -> Result<usize> {
        let now = self.now();
        // Lines of no execution (plain functions') are kept as long as an
        // execution is by default.
        self.shared
            .store
            .write(WriteBatch {
                logs_before: Some(now.plus_millis(-PLAIN_LOG_DAYS * DAY_MILLIS)),
                ..WriteBatch::default()
            })
            .await?;
        let mut count = 0;
        let mut cursor = None;
        loop {
            let page = self.shared.store.due(cursor, now, 500).await?;
            let Some(last) = page.last() else {
                return Ok(count);
            };
            cursor = Some(last.cursor());
            let expired: Vec<String> = page
                .into_iter()
                .filter(|due| due.finished)
                .map(|due| due.arn)
                .collect();
            if expired.is_empty() {
                continue;
            }
            count += expired.len();
            self.shared
                .store
                .write(WriteBatch {
                    deleted: expired,
                    ..WriteBatch::default()
                })
                .await?;
        }
    }
}
