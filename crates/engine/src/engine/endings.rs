//! Callers waiting for executions to end, each told once, by the execution
//! it waits for: a burst of waiters costs one entry each, not a wake-up each
//! whenever any execution makes progress.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use crate::execution::ExecutionRecord;

type Waiting = HashMap<String, Vec<(u64, oneshot::Sender<ExecutionRecord>)>>;

/// The waiters, by execution.
#[derive(Debug, Default)]
pub(super) struct Endings {
    waiting: Arc<Mutex<Waiting>>,
    next_id: AtomicU64,
}

impl Endings {
    /// Waits for the end of `arn` from now on: watch before reading the
    /// execution, so that an end between the read and the wait is not
    /// missed.
    pub(super) fn watch(&self, arn: &str) -> Ending {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, ended) = oneshot::channel();
        lock(&self.waiting)
            .entry(arn.to_owned())
            .or_default()
            .push((id, sender));
        Ending {
            waiting: Arc::clone(&self.waiting),
            arn: arn.to_owned(),
            id,
            ended,
        }
    }

    /// `record`'s execution ended: tells its waiters.
    pub(super) fn ended(&self, record: &ExecutionRecord) {
        let Some(waiters) = lock(&self.waiting).remove(&record.arn) else {
            return;
        };
        for (_, waiter) in waiters {
            let _ = waiter.send(record.clone());
        }
    }
}

fn lock(waiting: &Mutex<Waiting>) -> std::sync::MutexGuard<'_, Waiting> {
    waiting.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One caller's wait for an execution's end; dropped, it stops waiting.
#[derive(Debug)]
pub(super) struct Ending {
    waiting: Arc<Mutex<Waiting>>,
    arn: String,
    id: u64,
    ended: oneshot::Receiver<ExecutionRecord>,
}

impl Ending {
    /// The execution's record once it ends; `None` if the engine is gone.
    pub(super) async fn ended(&mut self) -> Option<ExecutionRecord> {
        (&mut self.ended).await.ok()
    }
}

impl Drop for Ending {
    fn drop(&mut self) {
        let mut waiting = lock(&self.waiting);
        if let Some(waiters) = waiting.get_mut(&self.arn) {
            waiters.retain(|(id, _)| *id != self.id);
            if waiters.is_empty() {
                waiting.remove(&self.arn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExecutionStatus, Timestamp};

    fn record(arn: &str) -> ExecutionRecord {
        ExecutionRecord {
            arn: arn.to_owned(),
            function_name: "F".to_owned(),
            function_arn: "F".to_owned(),
            version: "1".to_owned(),
            name: "n".to_owned(),
            status: ExecutionStatus::Succeeded,
            input: "{}".to_owned(),
            result: None,
            error: None,
            start: Timestamp::from_millis(0),
            end: None,
            timeout_seconds: 1,
            retention_days: 1,
            parent: None,
            invocations: 0,
            pause: None,
            paused_millis: 0,
            control_tokens: Vec::new(),
            owed_since: None,
            invoking_since: None,
            failed_invocations: 0,
            retry_at: None,
            due: None,
        }
    }

    #[tokio::test]
    async fn each_waiter_hears_of_its_execution_alone_and_a_dropped_one_leaves_nothing() {
        let endings = Endings::default();
        let mut first = endings.watch("a");
        let mut second = endings.watch("a");
        let other = endings.watch("b");
        drop(other);
        assert!(!lock(&endings.waiting).contains_key("b"), "dropped: gone");
        endings.ended(&record("a"));
        assert_eq!(first.ended().await.map(|r| r.arn), Some("a".to_owned()));
        assert_eq!(second.ended().await.map(|r| r.arn), Some("a".to_owned()));
        assert!(lock(&endings.waiting).is_empty());
        // An end nobody waits for is nothing.
        endings.ended(&record("c"));
        assert!(lock(&endings.waiting).is_empty());
    }
}
