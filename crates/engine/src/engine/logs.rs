//! Function logs: keeping the lines functions write, attributed to their
//! invocation and execution, and reading them back as CloudWatch Logs does.
//!
//! Lines go to the store through a bounded queue and one writer task, which
//! writes what has queued up in one batch and waits for it to commit: a
//! chatty function costs at most the queue's memory while the store syncs.
//! Lines past a full queue are dropped, and counted.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::error::Result;
use super::{Engine, WeakEngine, lock};
use crate::logs::pattern::Pattern;
use crate::logs::{LogLine, LogQuery, LogRecord, StreamSummary, group_of};
use crate::store::WriteBatch;

/// Lines waiting for the store at most; more are dropped.
const QUEUE_LINES: usize = 16_384;

/// Lines one write carries at most.
const BATCH_LINES: usize = 1_000;

/// The lines on their way to the store.
#[derive(Debug)]
pub(super) struct LogQueue {
    lines: mpsc::Sender<LogRecord>,
    receiver: std::sync::Mutex<Option<mpsc::Receiver<LogRecord>>>,
    dropped: AtomicU64,
}

impl LogQueue {
    pub(super) fn new() -> Self {
        let (lines, receiver) = mpsc::channel(QUEUE_LINES);
        Self {
            lines,
            receiver: std::sync::Mutex::new(Some(receiver)),
            dropped: AtomicU64::new(0),
        }
    }

    /// The queue's other end, for its writer (once).
    pub(super) fn take_receiver(&self) -> Option<mpsc::Receiver<LogRecord>> {
        lock(&self.receiver).take()
    }

    /// Queues `line`; drops it when the queue is full.
    fn push(&self, line: LogRecord) {
        if self.lines.try_send(line).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "function log lines come faster than the store keeps them; some are dropped"
                );
            }
        }
    }

    /// How many lines were dropped so far.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Writes the queued lines to the store until the engine is gone, a batch
/// at a time, each waiting for the last to commit.
pub(super) async fn write_lines(engine: WeakEngine, mut lines: mpsc::Receiver<LogRecord>) {
    let mut batch = Vec::with_capacity(BATCH_LINES);
    loop {
        let stopped = match engine.upgrade() {
            Some(live) => live.shared.stopped.clone(),
            None => return,
        };
        let received = tokio::select! {
            received = lines.recv_many(&mut batch, BATCH_LINES) => received,
            // Stopping: what is queued is written, then the writer ends.
            () = stopped.cancelled() => {
                while batch.len() < BATCH_LINES && let Ok(line) = lines.try_recv() {
                    batch.push(line);
                }
                batch.len()
            }
        };
        if received == 0 {
            return;
        }
        let Some(live) = engine.upgrade() else {
            return;
        };
        let written = live.shared.store.write(WriteBatch {
            logs: std::mem::take(&mut batch),
            ..WriteBatch::default()
        });
        drop(live);
        if let Err(error) = written.await {
            tracing::warn!(%error, "function log lines could not be kept");
        }
        if stopped.is_cancelled() && lines.is_empty() {
            return;
        }
    }
}

/// Lines the store is asked for at once while a pattern is applied.
const SCAN_PAGE: usize = 1000;

/// The most lines one filtered read looks at before it answers with what
/// it found and where to carry on (as CloudWatch Logs answers a long scan).
const SCAN_LIMIT: usize = 20_000;

/// Lines that match, and where the next read carries on (`None`: nothing
/// more to read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogPage {
    /// The lines, in the order asked for.
    pub lines: Vec<LogRecord>,
    /// The id of the last line looked at, when there may be more.
    pub next: Option<u64>,
}

impl Engine {
    /// Remembers that the invocation `request_id` runs `function` (for the
    /// execution `arn`), so that the lines it writes are attributed to it.
    pub(crate) fn invocation_began(&self, request_id: &str, function: &str, arn: Option<&str>) {
        lock(&self.shared.logbook).began(request_id, function, arn);
    }

    /// Keeps `line` in its function's log group, with its execution when
    /// its invocation is known. A line no function can be told for is
    /// dropped. It is queued for the store at once, in the order of calls;
    /// a store that refuses it loses it (the execution is not affected).
    pub fn log(&self, line: LogLine) {
        let now = self.now();
        let Some(record) = lock(&self.shared.logbook).record(line, now) else {
            return;
        };
        self.run_background();
        self.shared.log_queue.push(record);
    }

    /// The lines `query` asks for that `pattern` matches, at most
    /// `query.limit`, looking at no more than a bounded number of lines.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn filter_logs(&self, mut query: LogQuery, pattern: &Pattern) -> Result<LogPage> {
        let wanted = query.limit.max(1);
        let mut page = LogPage::default();
        let mut scanned = 0;
        loop {
            query.limit = SCAN_PAGE;
            let batch = self.shared.store.logs(query.clone()).await?;
            let full = batch.len() == SCAN_PAGE;
            for line in batch {
                scanned += 1;
                let id = line.id;
                if query.newest_first {
                    query.before = Some(id);
                } else {
                    query.after = id;
                }
                if pattern.matches(&line.message) {
                    page.lines.push(line);
                    if page.lines.len() == wanted {
                        page.next = Some(id);
                        return Ok(page);
                    }
                }
            }
            if !full {
                return Ok(page);
            }
            if scanned >= SCAN_LIMIT {
                page.next = Some(if query.newest_first {
                    query.before.unwrap_or_default()
                } else {
                    query.after
                });
                return Ok(page);
            }
        }
    }

    /// The streams of the log group `group`.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn log_streams(&self, group: &str) -> Result<Vec<StreamSummary>> {
        Ok(self.shared.store.log_streams(group).await?)
    }

    /// The log groups: one per registered function, by name.
    #[must_use]
    pub fn log_groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = self
            .functions()
            .iter()
            .map(|function| group_of(&function.config().name))
            .collect();
        groups.sort();
        groups
    }
}
