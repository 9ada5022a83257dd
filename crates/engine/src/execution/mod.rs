//! One execution's state, and the service's rules for changing it.
//!
//! [`ExecutionState`] is pure: no I/O, no clock, no tasks. Every change is
//! made through one of its methods, given the current time, and recorded in
//! [`Changes`] for the store to persist in one write. The engine owns one
//! state per running execution and serializes the calls into it.
//!
//! The rooms:
//! - `error`: what the rules refuse ([`ExecutionError`]);
//! - [`record`]: what the store keeps of an execution, and the requests
//!   and outcomes that change it;
//! - `invocation`: beginning an invocation, and what its answer means;
//! - [`validate`]: the checkpoint rules, pure functions of a batch and the
//!   operations before it;
//! - `apply`: applying a valid checkpoint, update by update;
//! - `paging`: the operations a handler is shown, a page at a time;
//! - `timers`: what is due when;
//! - `control`: callbacks, chained invokes, stop, pause and resume.

mod apply;
mod control;
mod error;
mod invocation;
mod paging;
pub mod record;
mod timers;
pub mod validate;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use indexmap::IndexMap;
use rand::RngCore as _;

pub use self::error::{ExecutionError, INVALID_TOKEN};
pub use self::invocation::{AfterInvocation, InvocationEnd};
pub use self::record::{
    CallbackOutcome, CallbackRecord, ChainedInvokeRequest, ChainedOutcome, ChainedTarget,
    ControlToken, ExecutionRecord, ParentLink, PauseRecord, PauseRequest, ResumeRequest,
    TargetResolver,
};
use crate::model::{
    CheckpointOutput, ErrorObject, Event, EventDetails, EventError, EventPayload, ExecutionDetails,
    ExecutionStatus, Operation, OperationStatus, OperationType, Timestamp,
};

/// What one call changed, for the store to persist in one write.
#[derive(Debug, Default)]
pub struct Changes {
    /// Operations created or changed (their final state).
    pub operations: Vec<Operation>,
    /// History events appended.
    pub events: Vec<Event>,
    /// Callbacks created or changed.
    pub callbacks: Vec<CallbackRecord>,
    /// Callbacks no longer open (completed or timed out).
    pub closed_callbacks: Vec<String>,
    /// Function calls to make (each into the outbox).
    pub chained_invokes: Vec<ChainedInvokeRequest>,
    /// Chained invokes whose end is recorded (out of the outbox), by
    /// operation id.
    pub chained_done: Vec<String>,
    /// Whether the execution record changed.
    pub execution_changed: bool,
}

impl Changes {
    /// Whether there is nothing to persist.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
            && self.events.is_empty()
            && self.callbacks.is_empty()
            && self.closed_callbacks.is_empty()
            && self.chained_invokes.is_empty()
            && self.chained_done.is_empty()
            && !self.execution_changed
    }
}

/// What a checkpoint answers.

#[derive(Debug, Clone)]
struct ActiveInvocation {
    id: u64,
    request_id: String,
    started: Timestamp,
    token: String,
    /// A pause took effect at one of its checkpoints: it may not checkpoint
    /// again, and its answer changes nothing.
    cut_short: bool,
}

#[derive(Debug, Clone)]
struct IdempotentCheckpoint {
    client_token: String,
    inbound_token: String,
    output: CheckpointOutput,
}

/// One execution: its record, its operations, and who may checkpoint.
#[derive(Debug)]
pub struct ExecutionState {
    record: ExecutionRecord,
    operations: IndexMap<String, Operation>,
    touched: HashMap<String, u64>,
    touch_seq: u64,
    seen: u64,
    invocation: Option<ActiveInvocation>,
    /// Completions the engine made itself (timers, callbacks, chained
    /// invokes), counted, and their count when the current invocation began.
    external_seq: u64,
    external_at_begin: u64,
    last_invocation_error: Option<ErrorObject>,
    token_seq: u64,
    next_event_id: u64,
    callbacks: HashMap<String, CallbackRecord>,
    /// Every deadline of the operations and callbacks, by moment.
    deadlines: timers::Deadlines,
    /// Chained invokes under way, by operation id.
    open_chained: BTreeSet<String>,
    /// Steps whose next attempt is due, by operation id.
    ready_steps: BTreeSet<String>,
    last_checkpoint: Option<IdempotentCheckpoint>,
    time_scale: f64,
    /// Where request ids, token salts and callback ids come from.
    ids: Box<dyn IdSource>,
    changed_operations: BTreeSet<String>,
    changes: Changes,
}

/// Where an execution draws its unguessable ids from: invocations' request
/// ids, checkpoint tokens' salt, callback ids. The engine draws them at
/// random; a test gives a seeded source, and replays a history to the
/// byte.
pub trait IdSource: Send + Sync + std::fmt::Debug {
    /// Fills `bytes`.
    fn fill(&mut self, bytes: &mut [u8]);
}

/// Ids drawn from the operating system's random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn fill(&mut self, bytes: &mut [u8]) {
        rand::rng().fill_bytes(bytes);
    }
}

/// Ids drawn from a seeded generator: the same seed, the same ids.
#[derive(Debug, Clone)]
pub struct SeededIds(rand::rngs::StdRng);

impl SeededIds {
    /// The ids of `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(rand::SeedableRng::seed_from_u64(seed))
    }
}

impl IdSource for SeededIds {
    fn fill(&mut self, bytes: &mut [u8]) {
        self.0.fill_bytes(bytes);
    }
}

impl ExecutionState {
    /// A new execution of `record`: its `EXECUTION` operation, started now.
    ///
    /// `time_scale` multiplies every wait and retry delay (1.0: real time).
    #[must_use]
    pub fn start(record: ExecutionRecord, execution_op_id: String, time_scale: f64) -> Self {
        let now = record.start;
        let mut state = Self::empty(record, time_scale);
        let mut op = Operation::new(
            execution_op_id,
            OperationType::Execution,
            OperationStatus::Started,
            now,
        );
        op.name = Some(state.record.name.clone());
        op.execution_details = Some(ExecutionDetails {
            input_payload: Some(state.record.input.clone()),
        });
        let details = EventDetails::ExecutionStarted {
            input: EventPayload::of(Some(state.record.input.clone())),
            execution_timeout: state.record.timeout_seconds,
        };
        state.event(&op, now, details);
        state.put(op);
        state.changes.execution_changed = true;
        // Its first invocation is owed from its start.
        state.owe(now);
        state
    }

    /// An execution as the store kept it, to carry on with at `now`: one at
    /// rest, loaded again, or one whose engine ended.
    ///
    /// What no invocation has seen is news again only if an invocation is
    /// owed; an invocation the store shows under way was cut off (its
    /// engine or task ended) and is owed again.
    #[must_use]
    pub fn restore(
        record: ExecutionRecord,
        operations: Vec<Operation>,
        callbacks: Vec<CallbackRecord>,
        next_event_id: u64,
        time_scale: f64,
        now: Timestamp,
    ) -> Self {
        let mut state = Self::empty(record, time_scale);
        for op in operations {
            state.touch_seq += 1;
            state.touched.insert(op.id.clone(), state.touch_seq);
            state.index(&op);
            state.operations.insert(op.id.clone(), op);
        }
        for callback in callbacks {
            state.track_callback(callback);
        }
        if state.record.status.is_terminal() {
            // Nothing is due of one that ended, as when it ended.
            state.deadlines.clear();
            state.open_chained.clear();
        }
        state.next_event_id = next_event_id.max(1);
        if let Some(since) = state.record.invoking_since.take() {
            state.changes.execution_changed = true;
            state.owe(since);
        }
        if state.record.owed_since.is_none() {
            state.seen = state.touch_seq;
        }
        if state.record.status == ExecutionStatus::Pausing {
            // Its invocation ended with the engine that ran it.
            state.take_effect(now, true);
        }
        state
    }

    /// The state, drawing its ids from `ids` from now on.
    #[must_use]
    pub fn with_ids(mut self, ids: Box<dyn IdSource>) -> Self {
        self.ids = ids;
        self
    }

    /// `bytes` unguessable bytes, as text.
    pub(super) fn random_text(&mut self, bytes: usize) -> String {
        let mut buffer = vec![0_u8; bytes];
        self.ids.fill(&mut buffer);
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(buffer)
    }

    /// A new request id (a UUID).
    pub(super) fn request_id(&mut self) -> String {
        let mut bytes = [0_u8; 16];
        self.ids.fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    /// An invocation is owed from `since` (unless already owed earlier).
    pub(super) fn owe(&mut self, since: Timestamp) {
        if self.record.owed_since.is_none_or(|owed| since < owed) {
            self.record.owed_since = Some(since);
            self.changes.execution_changed = true;
        }
    }

    /// Whether an invocation should start now: one is owed, none is under
    /// way, and the execution may be invoked.
    #[must_use]
    pub fn wants_invocation(&self) -> bool {
        self.record.owed_since.is_some() && !self.is_invoking() && self.may_invoke()
    }

    /// When something is next due for the execution: an invocation owed or
    /// under way (due again after a restart), a timer, or, once it ended,
    /// its deletion. What the engine's timer index holds for it.
    #[must_use]
    pub fn due(&self) -> Option<Timestamp> {
        if self.record.status.is_terminal() {
            return self.record.expires_at();
        }
        if let Some(since) = self.record.invoking_since {
            return Some(since);
        }
        let owed = self.record.owed_since.filter(|_| self.may_invoke());
        [owed, self.next_deadline()].into_iter().flatten().min()
    }

    /// Starts tracking the open callback `callback`, and its deadlines.
    pub(super) fn track_callback(&mut self, callback: CallbackRecord) {
        let id = callback.operation_id.clone();
        self.deadlines
            .set(timers::Timer::CallbackTimeout, &id, callback.timeout_at);
        self.deadlines
            .set(timers::Timer::Heartbeat, &id, callback.heartbeat_at);
        self.callbacks.insert(id, callback);
    }

    /// Stops tracking the callback of `operation_id`; the callback, if it
    /// was open.
    pub(super) fn untrack_callback(&mut self, operation_id: &str) -> Option<CallbackRecord> {
        self.deadlines
            .set(timers::Timer::CallbackTimeout, operation_id, None);
        self.deadlines
            .set(timers::Timer::Heartbeat, operation_id, None);
        self.callbacks.remove(operation_id)
    }

    fn empty(record: ExecutionRecord, time_scale: f64) -> Self {
        Self {
            record,
            operations: IndexMap::new(),
            touched: HashMap::new(),
            touch_seq: 0,
            seen: 0,
            invocation: None,
            external_seq: 0,
            external_at_begin: 0,
            last_invocation_error: None,
            token_seq: 0,
            next_event_id: 1,
            callbacks: HashMap::new(),
            deadlines: timers::Deadlines::default(),
            open_chained: BTreeSet::new(),
            ready_steps: BTreeSet::new(),
            last_checkpoint: None,
            time_scale,
            ids: Box::new(RandomIds),
            changed_operations: BTreeSet::new(),
            changes: Changes::default(),
        }
    }

    /// The execution's record.
    #[must_use]
    pub const fn record(&self) -> &ExecutionRecord {
        &self.record
    }

    /// The operations, in the order they began.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.values()
    }

    /// The id of the next history event.
    #[must_use]
    pub const fn next_event_id(&self) -> u64 {
        self.next_event_id
    }

    /// Whether an invocation is under way.
    #[must_use]
    pub const fn is_invoking(&self) -> bool {
        self.invocation.is_some()
    }

    /// Takes what changed since the last call, for the store: the changes,
    /// and each changed operation's position in the execution.
    pub fn take_changes(&mut self) -> (Changes, Vec<usize>) {
        let due = self.due();
        if self.record.due != due {
            self.record.due = due;
            self.changes.execution_changed = true;
        }
        let ids = std::mem::take(&mut self.changed_operations);
        let mut changes = std::mem::take(&mut self.changes);
        let mut positions = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some((position, _, op)) = self.operations.get_full(id) {
                positions.push(position);
                changes.operations.push(op.clone());
            }
        }
        (changes, positions)
    }

    pub(super) fn put(&mut self, op: Operation) {
        self.touch_seq += 1;
        self.touched.insert(op.id.clone(), self.touch_seq);
        self.changed_operations.insert(op.id.clone());
        self.index(&op);
        self.operations.insert(op.id.clone(), op);
    }

    /// Keeps the indexes of `op` up to date: its deadline, whether it is a
    /// chained invoke under way or a step ready for its next attempt.
    fn index(&mut self, op: &Operation) {
        let (timer, at) = timers::operation_deadline(op);
        self.deadlines.set(timer, &op.id, at);
        let chained =
            op.kind == OperationType::ChainedInvoke && op.status == OperationStatus::Started;
        if chained {
            self.open_chained.insert(op.id.clone());
        } else if self.open_chained.remove(&op.id) && op.kind == OperationType::ChainedInvoke {
            self.changes.chained_done.push(op.id.clone());
        }
        if op.kind == OperationType::Step && op.status == OperationStatus::Ready {
            self.ready_steps.insert(op.id.clone());
        } else {
            self.ready_steps.remove(&op.id);
        }
    }

    /// Records an event about the operation `op`.
    pub(super) fn event(&mut self, op: &Operation, at: Timestamp, details: EventDetails) {
        self.record_event(Event {
            event_type: details.event_type().to_owned(),
            sub_type: op.sub_type.clone(),
            event_id: self.next_event_id,
            id: Some(op.id.clone()),
            name: op.name.clone(),
            event_timestamp: at,
            parent_id: op.parent_id.clone(),
            details,
        });
    }

    /// Records an event about no operation (an invocation's end).
    pub(super) fn execution_event(&mut self, at: Timestamp, details: EventDetails) {
        self.record_event(Event {
            event_type: details.event_type().to_owned(),
            sub_type: None,
            event_id: self.next_event_id,
            id: None,
            name: None,
            event_timestamp: at,
            parent_id: None,
            details,
        });
    }

    fn record_event(&mut self, event: Event) {
        self.next_event_id += 1;
        self.changes.events.push(event);
    }

    pub(super) fn execution_op(&self) -> Option<&Operation> {
        self.operations.first().map(|(_, op)| op)
    }

    pub(super) fn mint_token(&mut self) -> String {
        self.token_seq += 1;
        let salt = self.random_text(12);
        let text = format!("{}:{}:{}", self.record.arn, self.token_seq, salt);
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    /// Whether an operation changed since the handler last saw the state.
    #[must_use]
    pub fn has_news(&self) -> bool {
        self.touch_seq > self.seen
    }

    /// Whether anything is still on its way: a wait, a retry, a callback or
    /// a chained invoke.
    #[must_use]
    pub fn has_pending_work(&self) -> bool {
        self.deadlines.first().is_some()
            || !self.callbacks.is_empty()
            || !self.open_chained.is_empty()
    }

    /// Whether a step's next attempt is due (it is `READY`).
    #[must_use]
    pub fn has_ready_step(&self) -> bool {
        !self.ready_steps.is_empty()
    }

    pub(super) fn finish(
        &mut self,
        status: ExecutionStatus,
        result: Option<String>,
        error: Option<ErrorObject>,
        now: Timestamp,
    ) {
        self.record.status = status;
        self.record.pause = None;
        self.record.result.clone_from(&result);
        self.record.error.clone_from(&error);
        self.record.end = Some(now);
        self.record.owed_since = None;
        self.record.invoking_since = None;
        self.record.retry_at = None;
        self.record.failed_invocations = 0;
        self.changes.execution_changed = true;
        self.invocation = None;
        let closed: Vec<String> = self
            .callbacks
            .drain()
            .map(|(_, callback)| callback.callback_id)
            .collect();
        self.changes.closed_callbacks.extend(closed);
        self.deadlines.clear();
        // Chained invokes under way are no longer awaited.
        let open = std::mem::take(&mut self.open_chained);
        self.changes.chained_done.extend(open);
        let Some(mut op) = self.execution_op().cloned() else {
            return;
        };
        op.status = match status {
            ExecutionStatus::Succeeded => OperationStatus::Succeeded,
            ExecutionStatus::TimedOut => OperationStatus::TimedOut,
            ExecutionStatus::Stopped => OperationStatus::Stopped,
            _ => OperationStatus::Failed,
        };
        op.end_timestamp = Some(now);
        let details = match status {
            ExecutionStatus::Succeeded => EventDetails::ExecutionSucceeded {
                result: EventPayload::of(result),
            },
            ExecutionStatus::TimedOut => EventDetails::ExecutionTimedOut {
                error: EventError::of(error),
            },
            ExecutionStatus::Stopped => EventDetails::ExecutionStopped {
                error: EventError::of(error),
            },
            _ => EventDetails::ExecutionFailed {
                error: EventError::of(error),
            },
        };
        self.event(&op, now, details);
        self.put(op);
    }
}
