//! Where executions live: the [`Store`] trait and its SQLite implementation.
//!
//! The store is where every execution is, whether the engine holds it in
//! memory or not. The engine writes each change through [`Store::write`]
//! before it answers or acts on it, and loads an execution at rest
//! ([`Store::stored`]) when something concerns it. Three indexes let it
//! carry on without holding what waits: the timer index ([`Store::due`]:
//! each execution's next due moment), the callback index
//! ([`Store::callback`]) and the outbox of chained invokes under way
//! ([`Store::outbox`]).

pub(crate) mod error;
mod memory;
mod sqlite;

use futures_util::future::BoxFuture;

use self::error::Result;
pub use self::error::StoreError;
pub use self::memory::MemoryStore;
pub use self::sqlite::{Durability, SqliteStore, StoreSpace};
use crate::execution::{CallbackRecord, ChainedInvokeRequest, Changes, ExecutionRecord};
use crate::logs::{LogQuery, LogRecord, StreamSummary};
use crate::model::{Event, ExecutionStatus, Operation, Timestamp};

/// Everything one change writes, committed atomically.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    /// Executions created or changed.
    pub executions: Vec<ExecutionRecord>,
    /// Operations created or changed: execution ARN, position, operation.
    pub operations: Vec<(String, usize, Operation)>,
    /// History events appended: execution ARN, event.
    pub events: Vec<(String, Event)>,
    /// Callbacks opened or changed.
    pub callbacks: Vec<CallbackRecord>,
    /// Callbacks closed, by id.
    pub closed_callbacks: Vec<String>,
    /// Invocations completed.
    pub invocations: Vec<InvocationRecord>,
    /// Chained invokes started, into the outbox: execution ARN, request.
    pub outbox: Vec<(String, ChainedInvokeRequest)>,
    /// Chained invokes whose end is recorded, out of the outbox: execution
    /// ARN, operation id.
    pub outbox_done: Vec<(String, String)>,
    /// Executions deleted, with everything they own (their log lines too).
    pub deleted: Vec<String>,
    /// Function log lines kept.
    pub logs: Vec<LogRecord>,
    /// Deletes the log lines of no execution written before this moment.
    pub logs_before: Option<Timestamp>,
}

impl WriteBatch {
    /// The batch that persists `changes` of the execution `record` (each
    /// changed operation at its position), with `invocations`.
    #[must_use]
    pub fn of_changes(
        record: &ExecutionRecord,
        changes: Changes,
        positions: Vec<usize>,
        invocations: Vec<InvocationRecord>,
    ) -> Self {
        let arn = &record.arn;
        Self {
            executions: if changes.execution_changed {
                vec![record.clone()]
            } else {
                Vec::new()
            },
            operations: changes
                .operations
                .into_iter()
                .zip(positions)
                .map(|(op, position)| (arn.clone(), position, op))
                .collect(),
            events: changes
                .events
                .into_iter()
                .map(|event| (arn.clone(), event))
                .collect(),
            callbacks: changes.callbacks,
            closed_callbacks: changes.closed_callbacks,
            outbox: changes
                .chained_invokes
                .into_iter()
                .map(|request| (arn.clone(), request))
                .collect(),
            outbox_done: changes
                .chained_done
                .into_iter()
                .map(|operation_id| (arn.clone(), operation_id))
                .collect(),
            invocations,
            ..Self::default()
        }
    }

    /// Whether the batch writes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.executions.is_empty()
            && self.operations.is_empty()
            && self.events.is_empty()
            && self.callbacks.is_empty()
            && self.closed_callbacks.is_empty()
            && self.invocations.is_empty()
            && self.outbox.is_empty()
            && self.outbox_done.is_empty()
            && self.deleted.is_empty()
            && self.logs.is_empty()
            && self.logs_before.is_none()
    }
}

/// One completed invocation of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationRecord {
    /// The invocation's request id.
    pub request_id: String,
    /// The function invoked.
    pub function_name: String,
    /// The durable execution it served, for a durable function.
    pub execution_arn: Option<String>,
    /// When it began.
    pub start: Timestamp,
    /// When it ended.
    pub end: Timestamp,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// An execution read back, to carry on with.
#[derive(Debug, Clone)]
pub struct StoredExecution {
    /// Its record.
    pub record: ExecutionRecord,
    /// Its operations, in the order they began.
    pub operations: Vec<Operation>,
    /// Its open callbacks.
    pub callbacks: Vec<CallbackRecord>,
    /// The id its next history event takes.
    pub next_event_id: u64,
}

/// Which executions to list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this function's (by name).
    pub function_name: Option<String>,
    /// Only executions of this name.
    pub name: Option<String>,
    /// Only executions whose name or ARN contains this text.
    pub search: Option<String>,
    /// Only executions in one of these statuses (all when empty).
    pub statuses: Vec<ExecutionStatus>,
    /// Only executions started after this moment.
    pub started_after: Option<Timestamp>,
    /// Only executions started before this moment.
    pub started_before: Option<Timestamp>,
    /// Oldest first (newest first otherwise).
    pub oldest_first: bool,
    /// Only executions after this one, in the listing's order.
    pub after: Option<ListCursor>,
    /// At most this many.
    pub limit: usize,
}

/// Where a listing of executions stands: its last execution's start and
/// ARN. Executions are listed by start, then ARN, so a cursor stays put
/// when executions are started or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// The start of the last execution listed.
    pub start: Timestamp,
    /// Its ARN.
    pub arn: String,
}

impl ListCursor {
    /// The cursor just past `record`.
    #[must_use]
    pub fn of(record: &ExecutionRecord) -> Self {
        Self {
            start: record.start,
            arn: record.arn.clone(),
        }
    }

    /// Reads a cursor as [`ListCursor`]'s `Display` writes it.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (start, arn) = text.split_once('~')?;
        Some(Self {
            start: Timestamp::from_millis(start.parse().ok()?),
            arn: arn.to_owned(),
        })
        .filter(|cursor| !cursor.arn.is_empty())
    }
}

impl std::fmt::Display for ListCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}~{}", self.start.millis(), self.arn)
    }
}

/// Counters of the store's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Batches written.
    pub batches: u64,
    /// Transactions committed (several batches share one under load).
    pub commits: u64,
    /// Pages appended to the write-ahead log by those commits (each is
    /// written once more when the log is folded into the file).
    pub pages_logged: u64,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// An entry of the timer index: an execution, and when something is next
/// due for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// When.
    pub at: Timestamp,
    /// The execution.
    pub arn: String,
    /// Whether it is over (what is due is its deletion).
    pub finished: bool,
    /// Its place among the entries due at the same moment, in the store's
    /// own order (the SQLite store's: the execution's integer id).
    pub place: i64,
}

impl Due {
    /// A cursor just past this entry.
    #[must_use]
    pub const fn cursor(&self) -> DueCursor {
        DueCursor {
            at: self.at,
            place: self.place,
        }
    }
}

/// Where a walk of the timer index stands: the last entry seen. Entries
/// are ordered by moment, then by their place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueCursor {
    /// The last entry's moment.
    pub at: Timestamp,
    /// Its place among the entries due then.
    pub place: i64,
}

/// Durable storage of executions, operations, history, callbacks and
/// invocations.
pub trait Store: Send + Sync + 'static {
    /// Writes `batch` atomically and durably; resolves once committed.
    ///
    /// The batch is queued when `write` is called, not when the future is
    /// first polled: batches are committed in the order of the calls, and a
    /// caller that does not need to wait for the commit may drop the future.
    fn write(&self, batch: WriteBatch) -> BoxFuture<'static, Result<()>>;

    /// The execution `arn`.
    fn execution(&self, arn: &str) -> BoxFuture<'_, Result<Option<ExecutionRecord>>>;

    /// The execution named `name` of `function_name`.
    fn execution_by_name(
        &self,
        function_name: &str,
        name: &str,
    ) -> BoxFuture<'_, Result<Option<ExecutionRecord>>>;

    /// Executions matching `filter`.
    fn list(&self, filter: ListFilter) -> BoxFuture<'_, Result<Vec<ExecutionRecord>>>;

    /// The operations of `arn`, in the order they began.
    fn operations(&self, arn: &str) -> BoxFuture<'_, Result<Vec<Operation>>>;

    /// History events of `arn` with ids from `from_event_id` on (downwards
    /// when `reverse`), at most `limit`.
    fn events(
        &self,
        arn: &str,
        from_event_id: u64,
        limit: usize,
        reverse: bool,
    ) -> BoxFuture<'_, Result<Vec<Event>>>;

    /// The open callback `callback_id`.
    fn callback(&self, callback_id: &str) -> BoxFuture<'_, Result<Option<CallbackRecord>>>;

    /// The timer index from just after `after` (its start when `None`),
    /// up to `until`: at most `limit` entries, by moment, then place.
    fn due(
        &self,
        after: Option<DueCursor>,
        until: Timestamp,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Due>>>;

    /// The chained invokes under way: execution ARN, request.
    fn outbox(&self) -> BoxFuture<'_, Result<Vec<(String, ChainedInvokeRequest)>>>;

    /// The execution `arn` with its operations and open callbacks.
    fn stored(&self, arn: &str) -> BoxFuture<'_, Result<Option<StoredExecution>>>;

    /// Completed invocations of `function_name` (all functions when `None`).
    fn invocations(
        &self,
        function_name: Option<&str>,
    ) -> BoxFuture<'_, Result<Vec<InvocationRecord>>>;

    /// Log lines matching `query` (but its pattern, which the engine
    /// applies), by id.
    fn logs(&self, query: LogQuery) -> BoxFuture<'_, Result<Vec<LogRecord>>>;

    /// The streams of the log group `group`, by name.
    fn log_streams(&self, group: &str) -> BoxFuture<'_, Result<Vec<StreamSummary>>>;

    /// Counters of the store's work so far.
    fn stats(&self) -> StoreStats;
}
