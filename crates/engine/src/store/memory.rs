//! [`MemoryStore`]: every execution in memory, each write applied at once.
//!
//! Nothing survives the process. It answers without threads or I/O, so an
//! engine over it runs entirely on tokio's (pausable) clock: the engine's
//! tests use it to run waits, retries and timeouts on paused time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;

use super::error::Result;
use super::{
    Due, DueCursor, InvocationRecord, ListFilter, Store, StoreStats, StoredExecution, WriteBatch,
};
use crate::execution::{CallbackRecord, ChainedInvokeRequest, ExecutionRecord};
use crate::logs::{LogQuery, LogRecord, StreamSummary};
use crate::model::{Event, Operation, Timestamp};

#[derive(Debug, Default)]
struct Stored {
    record: Option<ExecutionRecord>,
    operations: BTreeMap<usize, Operation>,
    events: BTreeMap<u64, Event>,
    outbox: BTreeMap<String, ChainedInvokeRequest>,
    /// Its place in the timer index among executions due at once: the
    /// order its record was first written in.
    place: i64,
}

#[derive(Debug, Default)]
struct Data {
    executions: HashMap<String, Stored>,
    callbacks: HashMap<String, CallbackRecord>,
    invocations: Vec<InvocationRecord>,
    logs: BTreeMap<u64, LogRecord>,
    next_log: u64,
    next_place: i64,
}

/// A store that keeps everything in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
    batches: AtomicU64,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn answer<T: Send + 'static>(&self, read: impl FnOnce(&Data) -> T) -> BoxFuture<'_, Result<T>> {
        let value = read(&self.data());
        Box::pin(std::future::ready(Ok(value)))
    }
}

fn matches(filter: &ListFilter, record: &ExecutionRecord) -> bool {
    filter
        .function_name
        .as_ref()
        .is_none_or(|name| *name == record.function_name)
        && filter.name.as_ref().is_none_or(|name| *name == record.name)
        && filter.search.as_ref().is_none_or(|text| {
            record.name.contains(text.as_str()) || record.arn.contains(text.as_str())
        })
        && (filter.statuses.is_empty() || filter.statuses.contains(&record.status))
        && filter
            .started_after
            .is_none_or(|after| record.start > after)
        && filter
            .started_before
            .is_none_or(|before| record.start < before)
}

fn stored_execution(stored: &Stored, record: &ExecutionRecord, data: &Data) -> StoredExecution {
    StoredExecution {
        record: record.clone(),
        operations: stored.operations.values().cloned().collect(),
        callbacks: data
            .callbacks
            .values()
            .filter(|callback| callback.arn == record.arn)
            .cloned()
            .collect(),
        next_event_id: stored.events.keys().next_back().map_or(1, |last| last + 1),
    }
}

impl Store for MemoryStore {
    fn write(&self, batch: WriteBatch) -> BoxFuture<'static, Result<()>> {
        if !batch.is_empty() {
            let mut data = self.data();
            for record in batch.executions {
                let Data {
                    executions,
                    next_place,
                    ..
                } = &mut *data;
                let stored = executions.entry(record.arn.clone()).or_default();
                if stored.record.is_none() {
                    *next_place += 1;
                    stored.place = *next_place;
                }
                stored.record = Some(record);
            }
            for (arn, position, op) in batch.operations {
                data.executions
                    .entry(arn)
                    .or_default()
                    .operations
                    .insert(position, op);
            }
            for (arn, event) in batch.events {
                data.executions
                    .entry(arn)
                    .or_default()
                    .events
                    .insert(event.event_id, event);
            }
            for callback in batch.callbacks {
                data.callbacks
                    .insert(callback.callback_id.clone(), callback);
            }
            for closed in &batch.closed_callbacks {
                data.callbacks.remove(closed);
            }
            for (arn, request) in batch.outbox {
                data.executions
                    .entry(arn)
                    .or_default()
                    .outbox
                    .insert(request.operation_id.clone(), request);
            }
            for (arn, operation_id) in &batch.outbox_done {
                if let Some(stored) = data.executions.get_mut(arn) {
                    stored.outbox.remove(operation_id);
                }
            }
            data.invocations.extend(batch.invocations);
            for arn in &batch.deleted {
                data.executions.remove(arn);
                data.callbacks.retain(|_, callback| callback.arn != *arn);
                data.logs
                    .retain(|_, line| line.execution_arn.as_ref() != Some(arn));
            }
            for mut line in batch.logs {
                data.next_log += 1;
                line.id = data.next_log;
                data.logs.insert(line.id, line);
            }
            if let Some(before) = batch.logs_before {
                data.logs
                    .retain(|_, line| line.execution_arn.is_some() || line.timestamp >= before);
            }
            self.batches.fetch_add(1, Ordering::Relaxed);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn execution(&self, arn: &str) -> BoxFuture<'_, Result<Option<ExecutionRecord>>> {
        self.answer(|data| {
            data.executions
                .get(arn)
                .and_then(|stored| stored.record.clone())
        })
    }

    fn execution_by_name(
        &self,
        function_name: &str,
        name: &str,
    ) -> BoxFuture<'_, Result<Option<ExecutionRecord>>> {
        self.answer(|data| {
            data.executions
                .values()
                .filter_map(|stored| stored.record.as_ref())
                .find(|record| record.function_name == function_name && record.name == name)
                .cloned()
        })
    }

    fn list(&self, filter: ListFilter) -> BoxFuture<'_, Result<Vec<ExecutionRecord>>> {
        self.answer(|data| {
            let mut records: Vec<&ExecutionRecord> = data
                .executions
                .values()
                .filter_map(|stored| stored.record.as_ref())
                .filter(|record| matches(&filter, record))
                .collect();
            records.sort_by(|a, b| (a.start, &a.arn).cmp(&(b.start, &b.arn)));
            if !filter.oldest_first {
                records.reverse();
            }
            records
                .into_iter()
                .filter(|record| {
                    filter.after.as_ref().is_none_or(|after| {
                        let key = (record.start, record.arn.as_str());
                        let cursor = (after.start, after.arn.as_str());
                        if filter.oldest_first {
                            key > cursor
                        } else {
                            key < cursor
                        }
                    })
                })
                .take(filter.limit)
                .cloned()
                .collect()
        })
    }

    fn operations(&self, arn: &str) -> BoxFuture<'_, Result<Vec<Operation>>> {
        self.answer(|data| {
            data.executions
                .get(arn)
                .map(|stored| stored.operations.values().cloned().collect())
                .unwrap_or_default()
        })
    }

    fn events(
        &self,
        arn: &str,
        from_event_id: u64,
        limit: usize,
        reverse: bool,
    ) -> BoxFuture<'_, Result<Vec<Event>>> {
        self.answer(|data| {
            let Some(stored) = data.executions.get(arn) else {
                return Vec::new();
            };
            if reverse {
                stored
                    .events
                    .range(..=from_event_id)
                    .rev()
                    .take(limit)
                    .map(|(_, event)| event.clone())
                    .collect()
            } else {
                stored
                    .events
                    .range(from_event_id..)
                    .take(limit)
                    .map(|(_, event)| event.clone())
                    .collect()
            }
        })
    }

    fn callback(&self, callback_id: &str) -> BoxFuture<'_, Result<Option<CallbackRecord>>> {
        self.answer(|data| data.callbacks.get(callback_id).cloned())
    }

    fn due(
        &self,
        after: Option<DueCursor>,
        until: Timestamp,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Due>>> {
        self.answer(|data| {
            let mut due: Vec<Due> = data
                .executions
                .values()
                .filter_map(|stored| Some((stored.record.as_ref()?, stored.place)))
                .filter_map(|(record, place)| {
                    let at = record.due?;
                    let beyond = after.is_none_or(|cursor| (at, place) > (cursor.at, cursor.place));
                    (beyond && at <= until).then(|| Due {
                        at,
                        arn: record.arn.clone(),
                        finished: record.status.is_terminal(),
                        place,
                    })
                })
                .collect();
            due.sort_by_key(|due| (due.at, due.place));
            due.truncate(limit);
            due
        })
    }

    fn outbox(&self) -> BoxFuture<'_, Result<Vec<(String, ChainedInvokeRequest)>>> {
        self.answer(|data| {
            data.executions
                .iter()
                .flat_map(|(arn, stored)| {
                    stored
                        .outbox
                        .values()
                        .map(|request| (arn.clone(), request.clone()))
                })
                .collect()
        })
    }

    fn stored(&self, arn: &str) -> BoxFuture<'_, Result<Option<StoredExecution>>> {
        self.answer(|data| {
            let stored = data.executions.get(arn)?;
            let record = stored.record.as_ref()?;
            Some(stored_execution(stored, record, data))
        })
    }

    fn invocations(
        &self,
        function_name: Option<&str>,
    ) -> BoxFuture<'_, Result<Vec<InvocationRecord>>> {
        self.answer(|data| {
            let mut invocations: Vec<InvocationRecord> = data
                .invocations
                .iter()
                .filter(|invocation| {
                    function_name.is_none_or(|name| invocation.function_name == name)
                })
                .cloned()
                .collect();
            invocations.sort_by_key(|invocation| invocation.start);
            invocations
        })
    }

    fn logs(&self, query: LogQuery) -> BoxFuture<'_, Result<Vec<LogRecord>>> {
        self.answer(|data| {
            let upper = query.before.unwrap_or(u64::MAX);
            let range = data.logs.range(query.after.saturating_add(1)..upper);
            let matching = |(_, line): &(&u64, &LogRecord)| query.matches(line);
            let lines: Vec<LogRecord> = if query.newest_first {
                range
                    .rev()
                    .filter(matching)
                    .take(query.limit)
                    .map(|(_, line)| line.clone())
                    .collect()
            } else {
                range
                    .filter(matching)
                    .take(query.limit)
                    .map(|(_, line)| line.clone())
                    .collect()
            };
            lines
        })
    }

    fn log_streams(&self, group: &str) -> BoxFuture<'_, Result<Vec<StreamSummary>>> {
        self.answer(|data| {
            let mut streams: BTreeMap<&str, StreamSummary> = BTreeMap::new();
            for line in data.logs.values().filter(|line| line.group == group) {
                let bytes = u64::try_from(line.message.len()).unwrap_or(u64::MAX);
                streams
                    .entry(line.stream.as_str())
                    .and_modify(|summary| {
                        summary.first = summary.first.min(line.timestamp);
                        summary.last = summary.last.max(line.timestamp);
                        summary.bytes = summary.bytes.saturating_add(bytes);
                    })
                    .or_insert_with(|| StreamSummary {
                        name: line.stream.clone(),
                        first: line.timestamp,
                        last: line.timestamp,
                        bytes,
                    });
            }
            streams.into_values().collect()
        })
    }

    fn stats(&self) -> StoreStats {
        let batches = self.batches.load(Ordering::Relaxed);
        StoreStats {
            batches,
            commits: batches,
            pages_logged: 0,
        }
    }
}
