//! One execution's state, and the service's rules for changing it.
//!
//! [`ExecutionState`] is pure: no I/O, no clock, no tasks. Every change is
//! made through one of its methods, given the current time, and recorded in
//! [`Changes`] for the store to persist in one write. The runtime owns one
//! state per running execution and serializes the calls into it.

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use indexmap::IndexMap;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{
    CallbackDetails, ChainedInvokeDetails, ContextDetails, ErrorObject, Event, EventDetails,
    EventError, EventPayload, ExecutionDetails, ExecutionStatus, Operation, OperationAction,
    OperationStatus, OperationType, OperationUpdate, RetryDetails, StepDetails, Timestamp,
    WaitDetails,
};

/// The largest payload (result, input) one update may carry.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The largest result an `EXECUTION` update may carry (a synchronous
/// invocation's limit).
pub const MAX_RESULT_BYTES: usize = 6 * 1024 * 1024;

/// The longest wait or retry delay, in seconds (a year and a day).
pub const MAX_DELAY_SECONDS: i64 = 31_622_400;

/// The longest callback timeout, in seconds.
pub const MAX_CALLBACK_SECONDS: i64 = 99_999_999;

/// The largest error object one update may carry, as JSON.
pub const MAX_ERROR_BYTES: usize = 1024 * 1024;

/// The most operations one page of state holds by default.
pub const DEFAULT_PAGE_ITEMS: usize = 100;

/// The most operations one page of state may hold.
pub const MAX_PAGE_ITEMS: usize = 1000;

/// The most payload bytes one page of state (or the envelope) carries.
pub const MAX_PAGE_BYTES: usize = 5 * 1024 * 1024;

/// An execution paused with its timeout paused still times out this many
/// days after it started.
pub const MAX_PAUSED_LIFETIME_DAYS: i64 = 366;

/// How long a pause or resume request's client token makes a repeat of it
/// succeed without acting again, in milliseconds.
const CONTROL_TOKEN_MILLIS: i64 = 15 * 60 * 1000;

/// The message that starts every rejection of a checkpoint token; the SDKs
/// recognise it and retry the invocation instead of failing the execution.
pub const INVALID_TOKEN: &str = "Invalid Checkpoint Token";

/// An execution, as its record in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// `arn:aws:lambda:…:function:NAME:VERSION/durable-execution/EXECUTION/ID`.
    pub arn: String,
    /// The function's name.
    pub function_name: String,
    /// The function's ARN, qualified with the version the execution runs.
    pub function_arn: String,
    /// The version the execution runs (`$LATEST` or a number).
    pub version: String,
    /// The execution's name, unique per function.
    pub name: String,
    /// Where it stands.
    pub status: ExecutionStatus,
    /// The input, as JSON text.
    pub input: String,
    /// The result, when it succeeded.
    pub result: Option<String>,
    /// The error, when it failed, timed out or was stopped.
    pub error: Option<ErrorObject>,
    /// When it started.
    pub start: Timestamp,
    /// When it ended.
    pub end: Option<Timestamp>,
    /// Seconds the whole execution may take.
    pub timeout_seconds: i64,
    /// Days its history is kept after it ends.
    pub retention_days: i64,
    /// The execution and operation that started it with a chained invoke.
    pub parent: Option<ParentLink>,
    /// Invocations so far.
    pub invocations: u64,
    /// The pause under way, while `PAUSING` or `PAUSED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<PauseRecord>,
    /// Milliseconds the execution timeout was extended by, for time spent
    /// paused with the timeout paused.
    #[serde(default)]
    pub paused_millis: i64,
}

impl ExecutionRecord {
    /// When the execution times out: its timeout after its start, extended
    /// by the time it spent paused with the timeout paused, and while it is
    /// paused so, [`MAX_PAUSED_LIFETIME_DAYS`] after its start.
    #[must_use]
    pub fn timeout_at(&self) -> Timestamp {
        let limit = self
            .start
            .plus_millis(MAX_PAUSED_LIFETIME_DAYS.saturating_mul(86_400_000));
        let timeout_paused = self
            .pause
            .as_ref()
            .is_some_and(|pause| pause.since.is_some() && pause.execution_timeout_paused);
        if timeout_paused {
            return limit;
        }
        let extended = self
            .start
            .plus_millis(self.timeout_seconds.saturating_mul(1000))
            .plus_millis(self.paused_millis);
        if self.paused_millis > 0 {
            extended.min(limit)
        } else {
            extended
        }
    }
}

/// A pause, from its request until the execution is resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseRecord {
    /// When it was asked for.
    pub requested: Timestamp,
    /// Why, as the request said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the execution timeout stops running while paused.
    pub execution_timeout_paused: bool,
    /// When it took effect; `None` while `PAUSING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Whether it cut an invocation short, or something the function waits
    /// for arrived while paused: resuming invokes the function again.
    #[serde(default)]
    pub invoke_on_resume: bool,
}

/// What `PauseDurableExecution` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PauseRequest {
    /// Makes a repeated request succeed without pausing again.
    pub client_token: Option<String>,
    /// Why, for the history.
    pub reason: Option<String>,
    /// Whether the execution timeout stops running while paused (the API's
    /// default is `true`).
    pub execution_timeout_paused: bool,
}

/// What `ResumeDurableExecution` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumeRequest {
    /// Makes a repeated request succeed without resuming again.
    pub client_token: Option<String>,
    /// Why, for the history.
    pub reason: Option<String>,
}

/// Where a chained-invoke child reports its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    /// The parent execution.
    pub arn: String,
    /// The parent's `CHAINED_INVOKE` operation.
    pub operation_id: String,
}

/// A callback, as the store keeps it: its id routes completions here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRecord {
    /// The unguessable id external systems complete it with.
    pub callback_id: String,
    /// The execution.
    pub arn: String,
    /// The `CALLBACK` operation.
    pub operation_id: String,
    /// When it times out, if ever.
    pub timeout_at: Option<Timestamp>,
    /// Seconds allowed between heartbeats (0: none).
    pub heartbeat_seconds: i64,
    /// When the current heartbeat allowance runs out, if ever.
    pub heartbeat_at: Option<Timestamp>,
}

/// A function call a `CHAINED_INVOKE` start asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedInvokeRequest {
    /// The operation waiting for it.
    pub operation_id: String,
    /// The function.
    pub function_name: String,
    /// Its input, as JSON text.
    pub payload: String,
}

/// How a chained invoke ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainedOutcome {
    /// With a result.
    Succeeded(Option<String>),
    /// With an error.
    Failed(ErrorObject),
    /// Out of time.
    TimedOut(ErrorObject),
    /// Stopped.
    Stopped(ErrorObject),
}

/// How a callback was completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// With a result.
    Succeeded(Option<String>),
    /// With an error.
    Failed(ErrorObject),
}

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
    /// Function calls to make.
    pub chained_invokes: Vec<ChainedInvokeRequest>,
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
            && !self.execution_changed
    }
}

/// What a checkpoint answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckpointOutput {
    /// The token the next checkpoint must carry.
    pub checkpoint_token: String,
    /// Operations changed since the caller last saw them.
    pub new_execution_state: StatePage,
}

/// A page of operations.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatePage {
    /// The operations.
    pub operations: Vec<Operation>,
    /// Where the next page starts; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// How one invocation ended, as the runtime saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationEnd {
    /// The function answered with this durable envelope (raw JSON).
    Answered(Vec<u8>),
    /// The invocation failed (function error, crash, timeout).
    Faulted(ErrorObject),
}

/// What the runtime should do after an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterInvocation {
    /// The execution is over.
    Finished,
    /// Invoke again at once: something it waits for is already there.
    InvokeNow,
    /// Nothing to do until a timer or an outside event.
    Sleep,
    /// The invocation failed: invoke again after a backoff.
    Retry,
}

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
    last_checkpoint: Option<IdempotentCheckpoint>,
    /// Client tokens of recent pause and resume requests: the token, what
    /// the request asked, and when.
    control_tokens: Vec<(String, String, Timestamp)>,
    time_scale: f64,
    changed_operations: BTreeSet<String>,
    changes: Changes,
}

/// Milliseconds of `seconds`, scaled.
fn scaled_millis(seconds: i64, scale: f64) -> i64 {
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "delays are far below f64's exact range and rounded to whole milliseconds"
    )]
    let millis = (seconds as f64 * 1000.0 * scale).round() as i64;
    millis.clamp(0, i64::MAX / 2)
}

fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(buffer)
}

fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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
        state
    }

    /// An execution as the store kept it, to carry on after a restart.
    #[must_use]
    pub fn restore(
        record: ExecutionRecord,
        operations: Vec<Operation>,
        callbacks: Vec<CallbackRecord>,
        next_event_id: u64,
        time_scale: f64,
    ) -> Self {
        let mut state = Self::empty(record, time_scale);
        for op in operations {
            state.touch_seq += 1;
            state.touched.insert(op.id.clone(), state.touch_seq);
            state.operations.insert(op.id.clone(), op);
        }
        state.callbacks = callbacks
            .into_iter()
            .map(|callback| (callback.operation_id.clone(), callback))
            .collect();
        state.next_event_id = next_event_id.max(1);
        if state.record.status == ExecutionStatus::Pausing {
            // Its invocation ended with the engine that ran it.
            state.take_effect(Timestamp::now(), true);
        }
        state
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
            last_checkpoint: None,
            control_tokens: Vec::new(),
            time_scale,
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

    fn put(&mut self, op: Operation) {
        self.touch_seq += 1;
        self.touched.insert(op.id.clone(), self.touch_seq);
        self.changed_operations.insert(op.id.clone());
        self.operations.insert(op.id.clone(), op);
    }

    fn event(&mut self, op: &Operation, at: Timestamp, details: EventDetails) {
        let event = Event {
            event_type: details.event_type().to_owned(),
            sub_type: op.sub_type.clone(),
            event_id: self.next_event_id,
            id: op.id.clone(),
            name: op.name.clone(),
            event_timestamp: at,
            parent_id: op.parent_id.clone(),
            details,
        };
        self.next_event_id += 1;
        self.changes.events.push(event);
    }

    fn execution_op(&self) -> Option<&Operation> {
        self.operations.first().map(|(_, op)| op)
    }

    fn mint_token(&mut self) -> String {
        self.token_seq += 1;
        let text = format!("{}:{}:{}", self.record.arn, self.token_seq, random_text(12));
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    // ---------------------------------------------------------------- invocations

    /// Begins invocation `id` (unique in the engine): mints its checkpoint
    /// token and builds the durable envelope the function receives.
    ///
    /// Returns the request id and the envelope (JSON). The envelope carries
    /// at most `page_items` operations (and [`MAX_PAGE_BYTES`]);
    /// `NextMarker` tells the function to fetch the rest.
    pub fn begin_invocation(
        &mut self,
        id: u64,
        now: Timestamp,
        page_items: usize,
    ) -> (String, serde_json::Value) {
        self.external_at_begin = self.external_seq;
        let request_id = uuid::Uuid::new_v4().to_string();
        let token = self.mint_token();
        self.invocation = Some(ActiveInvocation {
            id,
            request_id: request_id.clone(),
            started: now,
            token: token.clone(),
            cut_short: false,
        });
        self.record.invocations += 1;
        self.changes.execution_changed = true;
        self.seen = self.touch_seq;
        let visible = self.visible_operations();
        let (page, next) = page_of(&visible, 0, page_items.max(1), MAX_PAGE_BYTES);
        let operations: Vec<serde_json::Value> = page
            .iter()
            .map(|op| crate::model::to_envelope(serde_json::to_value(op).unwrap_or_default()))
            .collect();
        let mut state = serde_json::json!({ "Operations": operations });
        if let (Some(next), Some(members)) = (next, state.as_object_mut()) {
            members.insert(
                "NextMarker".to_owned(),
                serde_json::Value::from(self.marker(next)),
            );
        }
        let envelope = serde_json::json!({
            "DurableExecutionArn": self.record.arn,
            "CheckpointToken": token,
            "InitialExecutionState": state,
        });
        (request_id, envelope)
    }

    /// The current invocation's number, request id and start.
    #[must_use]
    pub fn current_invocation(&self) -> Option<(u64, &str, Timestamp)> {
        self.invocation
            .as_ref()
            .map(|active| (active.id, active.request_id.as_str(), active.started))
    }

    /// Ends invocation `id` with `end` and says what comes next.
    ///
    /// An answer from an invocation that is no longer current (the execution
    /// ended or was stopped meanwhile) changes nothing.
    pub fn end_invocation(
        &mut self,
        id: u64,
        end: InvocationEnd,
        now: Timestamp,
    ) -> AfterInvocation {
        let Some(active) = self.invocation.take_if(|active| active.id == id) else {
            return if self.record.status.is_terminal() {
                AfterInvocation::Finished
            } else {
                AfterInvocation::Sleep
            };
        };
        if self.record.status.is_terminal() {
            self.invocation_completed(&active, now, None);
            return AfterInvocation::Finished;
        }
        if active.cut_short {
            // Paused at one of its checkpoints; resuming invokes again.
            self.invocation_completed(&active, now, None);
            return AfterInvocation::Sleep;
        }
        let after = self.settle(&active, end, now);
        if self.record.status == ExecutionStatus::Pausing && after != AfterInvocation::Finished {
            // It ended before another checkpoint: the pause takes effect now,
            // and resuming invokes again if it would have been invoked.
            self.take_effect(now, after != AfterInvocation::Sleep);
            return AfterInvocation::Sleep;
        }
        after
    }

    /// What the answer `end` of the invocation `active` means.
    fn settle(
        &mut self,
        active: &ActiveInvocation,
        end: InvocationEnd,
        now: Timestamp,
    ) -> AfterInvocation {
        let output = match end {
            InvocationEnd::Faulted(error) => {
                self.invocation_failed(active, now, error);
                return AfterInvocation::Retry;
            }
            InvocationEnd::Answered(bytes) => parse_invocation_output(&bytes),
        };
        match output {
            Ok(Output::Succeeded(result)) => {
                self.invocation_completed(active, now, None);
                self.finish(ExecutionStatus::Succeeded, result, None, now);
                AfterInvocation::Finished
            }
            Ok(Output::Failed(error)) => {
                self.invocation_completed(active, now, None);
                self.finish(ExecutionStatus::Failed, None, Some(error), now);
                AfterInvocation::Finished
            }
            Ok(Output::Pending) => {
                self.invocation_completed(active, now, None);
                // The SDK suspends on a wait or a retry even when the answer to
                // its own checkpoint already shows it over; anything completed
                // since this invocation began, or ready now, needs another.
                let ready = self.operations.values().any(|op| {
                    op.kind == OperationType::Step && op.status == OperationStatus::Ready
                });
                if self.has_news() || ready || self.external_seq > self.external_at_begin {
                    AfterInvocation::InvokeNow
                } else if self.has_pending_work() {
                    AfterInvocation::Sleep
                } else {
                    let error = ErrorObject::new(
                        "InvalidParameterValueException",
                        "Cannot return PENDING status with no pending operations.",
                    );
                    self.invocation_failed(active, now, error);
                    AfterInvocation::Retry
                }
            }
            Err(invalid) => {
                // An answer that is not a durable envelope is final, as on Lambda.
                self.invocation_completed(active, now, Some(invalid.clone()));
                self.finish(ExecutionStatus::Failed, None, Some(invalid), now);
                AfterInvocation::Finished
            }
        }
    }

    fn invocation_completed(
        &mut self,
        active: &ActiveInvocation,
        now: Timestamp,
        error: Option<ErrorObject>,
    ) {
        let Some(op) = self.execution_op().cloned() else {
            return;
        };
        let details = EventDetails::InvocationCompleted {
            start_timestamp: active.started,
            end_timestamp: now,
            request_id: active.request_id.clone(),
            error: error.map(|error| EventError::of(Some(error))),
        };
        self.event(&op, now, details);
    }

    fn invocation_failed(&mut self, active: &ActiveInvocation, now: Timestamp, error: ErrorObject) {
        self.last_invocation_error = Some(error.clone());
        self.invocation_completed(active, now, Some(error));
    }

    /// Fails the execution after `attempts` invocations failed in a row,
    /// with the last one's error.
    pub fn give_up(&mut self, attempts: u32, now: Timestamp) {
        if self.record.status.is_terminal() {
            return;
        }
        let last = self.last_invocation_error.clone().unwrap_or_default();
        let error = ErrorObject::new(
            last.error_type
                .unwrap_or_else(|| "InvocationFailed".to_owned()),
            format!(
                "{} invocations in a row failed; the last: {}",
                attempts,
                last.error_message.unwrap_or_default()
            ),
        );
        self.finish(ExecutionStatus::Failed, None, Some(error), now);
    }

    /// Fails the execution at once with `error` (its function is gone).
    pub fn fail(&mut self, error: ErrorObject, now: Timestamp) {
        if !self.record.status.is_terminal() {
            self.finish(ExecutionStatus::Failed, None, Some(error), now);
        }
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
        self.operations.values().any(|op| match op.kind {
            OperationType::Step => op.status == OperationStatus::Pending,
            OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke => {
                op.status == OperationStatus::Started
            }
            OperationType::Execution | OperationType::Context => false,
        })
    }

    // ---------------------------------------------------------------- checkpoint

    fn check_token(&self, token: &str) -> Result<&ActiveInvocation> {
        if self.record.status.is_terminal() {
            return Err(Error::invalid(format!(
                "{INVALID_TOKEN}: the execution has ended ({})",
                self.record.status
            )));
        }
        match self.invocation.as_ref() {
            Some(active) if active.cut_short => Err(Error::invalid(format!(
                "{INVALID_TOKEN}: the execution is {}",
                self.record.status
            ))),
            Some(active) if active.token == token => Ok(active),
            _ => Err(Error::invalid(format!(
                "{INVALID_TOKEN}: the token is not the current one of a running invocation"
            ))),
        }
    }

    /// Applies a checkpoint: checks the token, validates the whole batch as
    /// the service does, applies it in order, rotates the token, and answers
    /// with every operation the caller has not seen yet.
    ///
    /// `known_function` tells whether a chained invoke's target exists.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` for a stale token or an invalid update;
    /// nothing is applied then.
    pub fn checkpoint(
        &mut self,
        token: &str,
        client_token: Option<&str>,
        updates: &[OperationUpdate],
        now: Timestamp,
        known_function: &dyn Fn(&str) -> bool,
    ) -> Result<CheckpointOutput> {
        if let (Some(client), Some(last)) = (client_token, &self.last_checkpoint)
            && !client.is_empty()
            && last.client_token == client
            && last.inbound_token == token
        {
            return Ok(last.output.clone());
        }
        self.check_token(token)?;
        let parsed = self.validate(updates)?;
        for (update, kind, action) in parsed {
            self.apply(update, kind, action, now, known_function);
        }
        self.fire_timers(now);
        if self.record.status == ExecutionStatus::Pausing {
            // The invocation reached its next checkpoint: the pause takes
            // effect, and this invocation ends at its next call.
            self.take_effect(now, true);
            if let Some(active) = self.invocation.as_mut() {
                active.cut_short = true;
            }
        }
        let new_token = self.mint_token();
        if let Some(active) = self.invocation.as_mut() {
            active.token = new_token.clone();
        }
        let operations: Vec<Operation> = self
            .operations
            .values()
            .filter(|op| {
                self.touched
                    .get(&op.id)
                    .is_some_and(|&touch| touch > self.seen)
            })
            .cloned()
            .collect();
        self.seen = self.touch_seq;
        let output = CheckpointOutput {
            checkpoint_token: new_token,
            new_execution_state: StatePage {
                operations,
                next_marker: None,
            },
        };
        self.last_checkpoint = Some(IdempotentCheckpoint {
            client_token: client_token.unwrap_or_default().to_owned(),
            inbound_token: token.to_owned(),
            output: output.clone(),
        });
        Ok(output)
    }

    /// Validates a batch against the state before it, in the service's order.
    fn validate<'u>(
        &self,
        updates: &'u [OperationUpdate],
    ) -> Result<Vec<(&'u OperationUpdate, OperationType, OperationAction)>> {
        let executions = updates.iter().filter(|u| u.kind == "EXECUTION").count();
        if executions > 1 {
            return Err(Error::invalid(
                "Cannot checkpoint multiple EXECUTION updates.",
            ));
        }
        if executions == 1 && updates.last().is_some_and(|u| u.kind != "EXECUTION") {
            return Err(Error::invalid(
                "EXECUTION checkpoint must be the last update.",
            ));
        }

        let mut last_action: HashMap<&str, &str> = HashMap::new();
        let mut started_contexts: BTreeSet<&str> = BTreeSet::new();
        for update in updates {
            if update.kind != "EXECUTION" && !is_valid_id(&update.id) {
                return Err(Error::invalid(format!(
                    "Invalid operation id '{}': 1 to 64 characters of [a-zA-Z0-9-_].",
                    update.id
                )));
            }
            if let Some(previous) = last_action.get(update.id.as_str()) {
                let pairs = matches!(update.kind.as_str(), "STEP" | "CONTEXT")
                    && *previous == "START"
                    && update.action != "START";
                if !pairs {
                    return Err(Error::invalid(
                        "Cannot checkpoint multiple operations with the same ID.",
                    ));
                }
            }
            if let Some(parent) = update.parent_id.as_deref() {
                let existing = self
                    .operations
                    .get(parent)
                    .is_some_and(|op| op.kind == OperationType::Context);
                if !existing && !started_contexts.contains(parent) {
                    return Err(Error::invalid("Invalid parent operation id."));
                }
            }
            last_action.insert(update.id.as_str(), update.action.as_str());
            if update.kind == "CONTEXT" && update.action == "START" {
                started_contexts.insert(update.id.as_str());
            }
        }

        let mut parsed = Vec::with_capacity(updates.len());
        for update in updates {
            let current = if update.kind == "EXECUTION" {
                None
            } else {
                self.operations.get(&update.id)
            };
            if let Some(current) = current {
                if OperationType::parse(&update.kind).is_some_and(|kind| kind != current.kind) {
                    return Err(Error::invalid("Inconsistent operation type."));
                }
                if update.sub_type.is_some() && update.sub_type != current.sub_type {
                    return Err(Error::invalid("Inconsistent operation subtype."));
                }
                if update.name.is_some() && update.name != current.name {
                    return Err(Error::invalid("Inconsistent operation name."));
                }
                if update.parent_id.is_some() && update.parent_id != current.parent_id {
                    return Err(Error::invalid("Inconsistent parent operation id."));
                }
            }
            if update.name.as_ref().is_some_and(|name| name.len() > 256) {
                return Err(Error::invalid(
                    "Operation name must be at most 256 characters.",
                ));
            }
            let limit = if update.kind == "EXECUTION" {
                MAX_RESULT_BYTES
            } else {
                MAX_PAYLOAD_BYTES
            };
            if update
                .payload
                .as_ref()
                .is_some_and(|payload| payload.len() > limit)
            {
                return Err(Error::invalid(format!(
                    "{} payload size must be less than or equal to {limit} bytes.",
                    update.kind
                )));
            }
            check_ranges(update)?;
            if let Some(error) = &update.error {
                let size = serde_json::to_vec(error).map_or(0, |bytes| bytes.len());
                if size > MAX_ERROR_BYTES {
                    return Err(Error::invalid(format!(
                        "Error object size must be less than or equal to {MAX_ERROR_BYTES} bytes."
                    )));
                }
            }
            let kind = OperationType::parse(&update.kind)
                .ok_or_else(|| Error::invalid("Unknown operation type."))?;
            let action = OperationAction::parse(&update.action)
                .filter(|action| allowed(kind, *action))
                .ok_or_else(|| Error::invalid("Invalid action for the given operation type."))?;
            validate_transition(update, kind, action, current)?;
            parsed.push((update, kind, action));
        }
        Ok(parsed)
    }

    fn apply(
        &mut self,
        update: &OperationUpdate,
        kind: OperationType,
        action: OperationAction,
        now: Timestamp,
        known_function: &dyn Fn(&str) -> bool,
    ) {
        if kind == OperationType::Execution {
            match action {
                OperationAction::Succeed => {
                    self.finish(
                        ExecutionStatus::Succeeded,
                        update.payload.clone(),
                        None,
                        now,
                    );
                }
                _ => self.finish(
                    ExecutionStatus::Failed,
                    None,
                    Some(update.error.clone().unwrap_or_default()),
                    now,
                ),
            }
            return;
        }
        let existing = self.operations.get(&update.id).cloned();
        let mut op = existing.unwrap_or_else(|| {
            let mut op = Operation::new(update.id.clone(), kind, OperationStatus::Started, now);
            op.parent_id.clone_from(&update.parent_id);
            op.name.clone_from(&update.name);
            op.sub_type.clone_from(&update.sub_type);
            op
        });
        match kind {
            OperationType::Step => self.apply_step(&mut op, update, action, now),
            OperationType::Context => self.apply_context(&mut op, update, action, now),
            OperationType::Wait => self.apply_wait(&mut op, update, action, now),
            OperationType::Callback => self.apply_callback(&mut op, update, now),
            OperationType::ChainedInvoke => {
                self.apply_chained_invoke(&mut op, update, now, known_function);
            }
            OperationType::Execution => {}
        }
        self.put(op);
    }

    fn apply_step(
        &mut self,
        op: &mut Operation,
        update: &OperationUpdate,
        action: OperationAction,
        now: Timestamp,
    ) {
        let details = op.step_details.get_or_insert_with(StepDetails::default);
        let completed_attempt = details.attempt + 1;
        match action {
            OperationAction::Start => {
                op.status = OperationStatus::Started;
                details.result = None;
                details.error = None;
                details.next_attempt_timestamp = None;
                self.event(op, now, EventDetails::StepStarted {});
            }
            OperationAction::Succeed => {
                op.status = OperationStatus::Succeeded;
                op.end_timestamp = Some(now);
                details.result.clone_from(&update.payload);
                details.error = None;
                details.next_attempt_timestamp = None;
                let event = EventDetails::StepSucceeded {
                    result: EventPayload::of(update.payload.clone()),
                    retry_details: RetryDetails {
                        current_attempt: completed_attempt,
                        next_attempt_delay_seconds: 0,
                    },
                };
                self.event(op, now, event);
            }
            OperationAction::Fail => {
                op.status = OperationStatus::Failed;
                op.end_timestamp = Some(now);
                details.result = None;
                details.error.clone_from(&update.error);
                details.next_attempt_timestamp = None;
                let event = EventDetails::StepFailed {
                    error: EventError::of(update.error.clone()),
                    retry_details: RetryDetails {
                        current_attempt: completed_attempt,
                        next_attempt_delay_seconds: 0,
                    },
                };
                self.event(op, now, event);
            }
            OperationAction::Retry => {
                let delay = update
                    .step_options
                    .as_ref()
                    .and_then(|options| options.next_attempt_delay_seconds)
                    .unwrap_or(1)
                    .max(0);
                op.status = OperationStatus::Pending;
                details.attempt = completed_attempt;
                details.next_attempt_timestamp =
                    Some(now.plus_millis(scaled_millis(delay, self.time_scale)));
                details.result.clone_from(&update.payload);
                details.error.clone_from(&update.error);
                let retry_details = RetryDetails {
                    current_attempt: completed_attempt,
                    next_attempt_delay_seconds: delay,
                };
                let event = match &update.error {
                    Some(error) => EventDetails::StepFailed {
                        error: EventError::of(Some(error.clone())),
                        retry_details,
                    },
                    None => EventDetails::StepSucceeded {
                        result: EventPayload::of(update.payload.clone()),
                        retry_details,
                    },
                };
                self.event(op, now, event);
            }
            OperationAction::Cancel => {}
        }
    }

    fn apply_context(
        &mut self,
        op: &mut Operation,
        update: &OperationUpdate,
        action: OperationAction,
        now: Timestamp,
    ) {
        let replay_children = update
            .context_options
            .as_ref()
            .and_then(|options| options.replay_children);
        match action {
            OperationAction::Start => {
                op.status = OperationStatus::Started;
                op.context_details = Some(ContextDetails {
                    replay_children,
                    result: None,
                    error: None,
                });
                self.event(op, now, EventDetails::ContextStarted {});
            }
            OperationAction::Succeed => {
                op.status = OperationStatus::Succeeded;
                op.end_timestamp = Some(now);
                op.context_details = Some(ContextDetails {
                    replay_children,
                    result: update.payload.clone(),
                    error: None,
                });
                let event = EventDetails::ContextSucceeded {
                    result: EventPayload::of(update.payload.clone()),
                };
                self.event(op, now, event);
            }
            _ => {
                op.status = OperationStatus::Failed;
                op.end_timestamp = Some(now);
                op.context_details = Some(ContextDetails {
                    replay_children,
                    result: None,
                    error: update.error.clone(),
                });
                let event = EventDetails::ContextFailed {
                    error: EventError::of(update.error.clone()),
                };
                self.event(op, now, event);
            }
        }
    }

    fn apply_wait(
        &mut self,
        op: &mut Operation,
        update: &OperationUpdate,
        action: OperationAction,
        now: Timestamp,
    ) {
        if action == OperationAction::Cancel {
            op.status = OperationStatus::Cancelled;
            op.end_timestamp = Some(now);
            let event = EventDetails::WaitCancelled {
                error: EventError::of(update.error.clone()),
            };
            self.event(op, now, event);
            return;
        }
        let seconds = update
            .wait_options
            .as_ref()
            .and_then(|options| options.wait_seconds)
            .unwrap_or(0)
            .max(0);
        let end = now.plus_millis(scaled_millis(seconds, self.time_scale));
        op.status = OperationStatus::Started;
        op.wait_details = Some(WaitDetails {
            scheduled_end_timestamp: Some(end),
        });
        let event = EventDetails::WaitStarted {
            duration: seconds,
            scheduled_end_timestamp: end,
        };
        self.event(op, now, event);
    }

    fn apply_callback(&mut self, op: &mut Operation, update: &OperationUpdate, now: Timestamp) {
        let options = update.callback_options.clone().unwrap_or_default();
        let timeout = options.timeout_seconds.unwrap_or(0).max(0);
        let heartbeat = options.heartbeat_timeout_seconds.unwrap_or(0).max(0);
        let callback_id = random_text(24);
        let record = CallbackRecord {
            callback_id: callback_id.clone(),
            arn: self.record.arn.clone(),
            operation_id: op.id.clone(),
            timeout_at: (timeout > 0).then(|| now.plus_millis(timeout.saturating_mul(1000))),
            heartbeat_seconds: heartbeat,
            heartbeat_at: (heartbeat > 0).then(|| now.plus_millis(heartbeat.saturating_mul(1000))),
        };
        op.status = OperationStatus::Started;
        op.callback_details = Some(CallbackDetails {
            callback_id: Some(callback_id.clone()),
            result: None,
            error: None,
        });
        let event = EventDetails::CallbackStarted {
            callback_id,
            heartbeat_timeout: (heartbeat > 0).then_some(heartbeat),
            timeout: (timeout > 0).then_some(timeout),
        };
        self.event(op, now, event);
        self.changes.callbacks.push(record.clone());
        self.callbacks.insert(op.id.clone(), record);
    }

    fn apply_chained_invoke(
        &mut self,
        op: &mut Operation,
        update: &OperationUpdate,
        now: Timestamp,
        known_function: &dyn Fn(&str) -> bool,
    ) {
        let function_name = update
            .chained_invoke_options
            .as_ref()
            .and_then(|options| options.function_name.clone())
            .unwrap_or_default();
        let payload = update.payload.clone().unwrap_or_else(|| "{}".to_owned());
        op.status = OperationStatus::Started;
        op.chained_invoke_details = Some(ChainedInvokeDetails::default());
        let event = EventDetails::ChainedInvokeStarted {
            function_name: function_name.clone(),
            input: Some(EventPayload::of(Some(payload.clone()))),
            durable_execution_arn: None,
        };
        self.event(op, now, event);
        if known_function(&function_name) {
            self.changes.chained_invokes.push(ChainedInvokeRequest {
                operation_id: op.id.clone(),
                function_name,
                payload,
            });
        } else {
            let error = ErrorObject::new(
                "ResourceNotFoundException",
                format!("Function not found: {function_name}"),
            );
            op.status = OperationStatus::Failed;
            op.end_timestamp = Some(now);
            op.chained_invoke_details = Some(ChainedInvokeDetails {
                result: None,
                error: Some(error.clone()),
            });
            let event = EventDetails::ChainedInvokeFailed {
                error: EventError::of(Some(error)),
            };
            self.event(op, now, event);
        }
    }

    // ---------------------------------------------------------------- state pages

    fn marker(&self, index: usize) -> String {
        format!("{}:{index}", self.token_seq)
    }

    /// The operations the handler is shown: all, except the descendants of
    /// a completed context that does not replay its children.
    fn visible_operations(&self) -> Vec<&Operation> {
        let mut hidden: HashMap<&str, bool> = HashMap::new();
        let mut visible = Vec::with_capacity(self.operations.len());
        for op in self.operations.values() {
            if !self.is_hidden(op, &mut hidden) {
                visible.push(op);
            }
        }
        visible
    }

    fn is_hidden<'a>(&'a self, op: &'a Operation, memo: &mut HashMap<&'a str, bool>) -> bool {
        let Some(parent_id) = op.parent_id.as_deref() else {
            return false;
        };
        if let Some(&known) = memo.get(parent_id) {
            return known;
        }
        let hidden = self.operations.get(parent_id).is_some_and(|parent| {
            let closed = parent.status.is_terminal()
                && !parent
                    .context_details
                    .as_ref()
                    .and_then(|details| details.replay_children)
                    .unwrap_or(false);
            closed || self.is_hidden(parent, memo)
        });
        memo.insert(parent_id, hidden);
        hidden
    }

    /// One page of state for `GetDurableExecutionState`.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` for a stale token or a marker from another
    /// token.
    pub fn state_page(
        &self,
        token: &str,
        marker: Option<&str>,
        max_items: Option<usize>,
    ) -> Result<StatePage> {
        self.check_token(token)?;
        let start = match marker.filter(|marker| !marker.is_empty()) {
            None => 0,
            Some(marker) => {
                let (seq, index) = marker
                    .split_once(':')
                    .ok_or_else(|| Error::invalid("Invalid marker"))?;
                if seq != self.token_seq.to_string() {
                    return Err(Error::invalid(
                        "Invalid marker: it belongs to another checkpoint token",
                    ));
                }
                index
                    .parse()
                    .map_err(|_| Error::invalid("Invalid marker"))?
            }
        };
        let max_items = match max_items {
            None | Some(0) => DEFAULT_PAGE_ITEMS,
            Some(items) => items.min(MAX_PAGE_ITEMS),
        };
        let visible = self.visible_operations();
        if start > visible.len() {
            return Err(Error::invalid("Invalid marker"));
        }
        let (page, next) = page_of(&visible, start, max_items, MAX_PAGE_BYTES);
        Ok(StatePage {
            operations: page.into_iter().cloned().collect(),
            next_marker: next.map(|index| self.marker(index)),
        })
    }

    // ---------------------------------------------------------------- timers

    /// The next moment something is due: a wait's end, a retry, a callback
    /// timeout, the execution timeout.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if self.record.status.is_terminal() {
            return None;
        }
        let operations = self
            .operations
            .values()
            .filter_map(|op| match (op.kind, op.status) {
                (OperationType::Wait, OperationStatus::Started) => op
                    .wait_details
                    .as_ref()
                    .and_then(|details| details.scheduled_end_timestamp),
                (OperationType::Step, OperationStatus::Pending) => op
                    .step_details
                    .as_ref()
                    .and_then(|details| details.next_attempt_timestamp),
                _ => None,
            });
        let callbacks = self
            .callbacks
            .values()
            .flat_map(|callback| [callback.timeout_at, callback.heartbeat_at])
            .flatten();
        operations
            .chain(callbacks)
            .chain(std::iter::once(self.record.timeout_at()))
            .min()
    }

    /// Completes everything due at `now`: waits end, retries become ready,
    /// callbacks time out, the execution times out.
    pub fn fire_timers(&mut self, now: Timestamp) {
        if self.record.status.is_terminal() {
            return;
        }
        if now >= self.record.timeout_at() {
            let error = ErrorObject::message(format!(
                "Execution timed out after {} seconds.",
                self.record.timeout_seconds
            ));
            self.finish(ExecutionStatus::TimedOut, None, Some(error), now);
            return;
        }
        let due: Vec<String> = self
            .operations
            .values()
            .filter(|op| match (op.kind, op.status) {
                (OperationType::Wait, OperationStatus::Started) => op
                    .wait_details
                    .as_ref()
                    .and_then(|details| details.scheduled_end_timestamp)
                    .is_some_and(|end| end <= now),
                (OperationType::Step, OperationStatus::Pending) => op
                    .step_details
                    .as_ref()
                    .and_then(|details| details.next_attempt_timestamp)
                    .is_some_and(|at| at <= now),
                _ => false,
            })
            .map(|op| op.id.clone())
            .collect();
        for id in due {
            let Some(mut op) = self.operations.get(&id).cloned() else {
                continue;
            };
            if op.kind == OperationType::Wait {
                op.status = OperationStatus::Succeeded;
                op.end_timestamp = Some(now);
                let duration =
                    (op.end_timestamp.unwrap_or(now).millis() - op.start_timestamp.millis()) / 1000;
                self.event(&op, now, EventDetails::WaitSucceeded { duration });
            } else if let Some(details) = op.step_details.as_mut() {
                op.status = OperationStatus::Ready;
                details.next_attempt_timestamp = None;
            }
            self.put(op);
            self.external_seq += 1;
        }
        let expired: Vec<(String, bool)> = self
            .callbacks
            .values()
            .filter_map(|callback| {
                if callback.timeout_at.is_some_and(|at| at <= now) {
                    Some((callback.operation_id.clone(), false))
                } else if callback.heartbeat_at.is_some_and(|at| at <= now) {
                    Some((callback.operation_id.clone(), true))
                } else {
                    None
                }
            })
            .collect();
        for (operation_id, heartbeat) in expired {
            let error = if heartbeat {
                ErrorObject::new("Callback.Heartbeat", "Callback timed out on heartbeat")
            } else {
                ErrorObject::new("Callback.Timeout", "Callback timed out")
            };
            self.close_callback(
                &operation_id,
                OperationStatus::TimedOut,
                None,
                Some(error),
                now,
            );
        }
    }

    // ---------------------------------------------------------------- outside events

    /// Completes the callback `operation_id` from outside.
    ///
    /// # Errors
    ///
    /// `CallbackTimeout` when it is no longer open.
    pub fn complete_callback(
        &mut self,
        operation_id: &str,
        outcome: CallbackOutcome,
        now: Timestamp,
    ) -> Result<()> {
        self.open_callback(operation_id)?;
        match outcome {
            CallbackOutcome::Succeeded(result) => {
                self.close_callback(operation_id, OperationStatus::Succeeded, result, None, now);
            }
            CallbackOutcome::Failed(error) => {
                self.close_callback(
                    operation_id,
                    OperationStatus::Failed,
                    None,
                    Some(error),
                    now,
                );
            }
        }
        Ok(())
    }

    /// Records a heartbeat of the callback `operation_id`.
    ///
    /// # Errors
    ///
    /// `CallbackTimeout` when it is no longer open.
    pub fn heartbeat(&mut self, operation_id: &str, now: Timestamp) -> Result<()> {
        self.open_callback(operation_id)?;
        if let Some(callback) = self.callbacks.get_mut(operation_id)
            && callback.heartbeat_seconds > 0
        {
            callback.heartbeat_at =
                Some(now.plus_millis(callback.heartbeat_seconds.saturating_mul(1000)));
            self.changes.callbacks.push(callback.clone());
        }
        Ok(())
    }

    fn open_callback(&self, operation_id: &str) -> Result<()> {
        let open = !self.record.status.is_terminal()
            && self.operations.get(operation_id).is_some_and(|op| {
                op.kind == OperationType::Callback && op.status == OperationStatus::Started
            });
        if open {
            Ok(())
        } else {
            Err(Error::CallbackTimeout(
                "The callback ID token has either expired or the callback associated with the token has already been closed.".to_owned(),
            ))
        }
    }

    fn close_callback(
        &mut self,
        operation_id: &str,
        status: OperationStatus,
        result: Option<String>,
        error: Option<ErrorObject>,
        now: Timestamp,
    ) {
        let Some(mut op) = self.operations.get(operation_id).cloned() else {
            return;
        };
        op.status = status;
        op.end_timestamp = Some(now);
        let details = op
            .callback_details
            .get_or_insert_with(CallbackDetails::default);
        details.result.clone_from(&result);
        details.error.clone_from(&error);
        let event = match status {
            OperationStatus::Succeeded => EventDetails::CallbackSucceeded {
                result: EventPayload::of(result),
            },
            OperationStatus::Failed => EventDetails::CallbackFailed {
                error: EventError::of(error),
            },
            _ => EventDetails::CallbackTimedOut {
                error: EventError::of(error),
            },
        };
        self.event(&op, now, event);
        self.put(op);
        self.external_seq += 1;
        if let Some(callback) = self.callbacks.remove(operation_id) {
            self.changes.closed_callbacks.push(callback.callback_id);
        }
    }

    /// Completes the chained invoke `operation_id` with `outcome`.
    pub fn complete_chained_invoke(
        &mut self,
        operation_id: &str,
        outcome: ChainedOutcome,
        now: Timestamp,
    ) {
        let Some(mut op) = self.operations.get(operation_id).cloned() else {
            return;
        };
        if self.record.status.is_terminal() || op.status != OperationStatus::Started {
            return;
        }
        op.end_timestamp = Some(now);
        let (status, details, event) = match outcome {
            ChainedOutcome::Succeeded(result) => (
                OperationStatus::Succeeded,
                ChainedInvokeDetails {
                    result: result.clone(),
                    error: None,
                },
                EventDetails::ChainedInvokeSucceeded {
                    result: EventPayload::of(result),
                },
            ),
            ChainedOutcome::Failed(error) => (
                OperationStatus::Failed,
                ChainedInvokeDetails {
                    result: None,
                    error: Some(error.clone()),
                },
                EventDetails::ChainedInvokeFailed {
                    error: EventError::of(Some(error)),
                },
            ),
            ChainedOutcome::TimedOut(error) => (
                OperationStatus::TimedOut,
                ChainedInvokeDetails {
                    result: None,
                    error: Some(error.clone()),
                },
                EventDetails::ChainedInvokeTimedOut {
                    error: EventError::of(Some(error)),
                },
            ),
            ChainedOutcome::Stopped(error) => (
                OperationStatus::Stopped,
                ChainedInvokeDetails {
                    result: None,
                    error: Some(error.clone()),
                },
                EventDetails::ChainedInvokeStopped {
                    error: EventError::of(Some(error)),
                },
            ),
        };
        op.status = status;
        op.chained_invoke_details = Some(details);
        self.event(&op, now, event);
        self.put(op);
        self.external_seq += 1;
    }

    /// Stops the execution.
    ///
    /// # Errors
    ///
    /// None for an execution already over: stopping is idempotent.
    pub fn stop(&mut self, error: Option<ErrorObject>, now: Timestamp) {
        if self.record.status.is_terminal() {
            return;
        }
        let error = error
            .filter(|error| *error != ErrorObject::default())
            .unwrap_or_else(|| ErrorObject::message("Execution stopped by user request"));
        self.finish(ExecutionStatus::Stopped, None, Some(error), now);
    }

    /// Pauses the execution: no invocation starts until it is resumed.
    /// With an invocation under way the execution is `PAUSING` until that
    /// invocation's next checkpoint or end; otherwise it is `PAUSED` now.
    ///
    /// # Errors
    ///
    /// `ResourceConflict` when it is not running; `InvalidParameterValue`
    /// for a client token used within 15 minutes for another request.
    pub fn pause(&mut self, request: PauseRequest, now: Timestamp) -> Result<()> {
        let asked = format!(
            "pause {:?} {}",
            request.reason, request.execution_timeout_paused
        );
        if self.repeated(request.client_token.as_deref(), &asked, now)? {
            return Ok(());
        }
        if self.record.status != ExecutionStatus::Running {
            return Err(Error::ResourceConflict(format!(
                "Cannot pause an execution that is {}.",
                self.record.status
            )));
        }
        self.record.pause = Some(PauseRecord {
            requested: now,
            reason: request.reason,
            execution_timeout_paused: request.execution_timeout_paused,
            since: None,
            invoke_on_resume: false,
        });
        self.changes.execution_changed = true;
        match self.invocation.as_ref().map(|active| active.cut_short) {
            Some(false) => self.record.status = ExecutionStatus::Pausing,
            // One cut short by an earlier pause checkpoints no more: it is owed
            // another invocation.
            cut_short => self.take_effect(now, cut_short.is_some()),
        }
        self.remember(request.client_token, asked, now);
        Ok(())
    }

    /// The pause takes effect: `PAUSED`, recorded in the history.
    /// `invoke_on_resume` when it cut an invocation short.
    fn take_effect(&mut self, now: Timestamp, invoke_on_resume: bool) {
        let Some(pause) = self.record.pause.as_mut() else {
            return;
        };
        pause.since = Some(now);
        pause.invoke_on_resume |= invoke_on_resume;
        let details = EventDetails::ExecutionPaused {
            pause_request_timestamp: pause.requested,
            reason: pause
                .reason
                .clone()
                .map(|reason| EventPayload::of(Some(reason))),
            execution_timeout_paused: pause.execution_timeout_paused,
        };
        self.record.status = ExecutionStatus::Paused;
        self.changes.execution_changed = true;
        if let Some(op) = self.execution_op().cloned() {
            self.event(&op, now, details);
        }
    }

    /// Resumes a paused execution, or cancels a pause not yet in effect
    /// (`PAUSING`: the invocation under way carries on).
    ///
    /// Returns whether the function must be invoked now: the pause cut an
    /// invocation short, or something it waits for arrived meanwhile.
    ///
    /// # Errors
    ///
    /// `ResourceConflict` when it is neither paused nor pausing;
    /// `InvalidParameterValue` for a client token used within 15 minutes for
    /// another request.
    pub fn resume(&mut self, request: ResumeRequest, now: Timestamp) -> Result<bool> {
        let asked = format!("resume {:?}", request.reason);
        if self.repeated(request.client_token.as_deref(), &asked, now)? {
            return Ok(false);
        }
        let pause = match self.record.status {
            ExecutionStatus::Pausing | ExecutionStatus::Paused => self.record.pause.take(),
            status => {
                return Err(Error::ResourceConflict(format!(
                    "Cannot resume an execution that is {status}."
                )));
            }
        };
        let was_paused = self.record.status == ExecutionStatus::Paused;
        self.record.status = ExecutionStatus::Running;
        self.changes.execution_changed = true;
        self.remember(request.client_token, asked, now);
        let Some(pause) = pause.filter(|_| was_paused) else {
            return Ok(false);
        };
        if let Some(since) = pause.since.filter(|_| pause.execution_timeout_paused) {
            self.record.paused_millis = self
                .record
                .paused_millis
                .saturating_add(now.millis() - since.millis());
        }
        if let Some(op) = self.execution_op().cloned() {
            let details = EventDetails::ExecutionResumed {
                resume_request_timestamp: now,
                reason: request.reason.map(|reason| EventPayload::of(Some(reason))),
            };
            self.event(&op, now, details);
        }
        Ok(pause.invoke_on_resume || self.has_news())
    }

    /// Whether `client_token` repeats a recent request asking `asked`.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` when it was used for another request.
    fn repeated(
        &mut self,
        client_token: Option<&str>,
        asked: &str,
        now: Timestamp,
    ) -> Result<bool> {
        self.control_tokens
            .retain(|(_, _, at)| now.millis() - at.millis() < CONTROL_TOKEN_MILLIS);
        let Some(token) = client_token.filter(|token| !token.is_empty()) else {
            return Ok(false);
        };
        match self
            .control_tokens
            .iter()
            .find(|(known, _, _)| known == token)
        {
            Some((_, earlier, _)) if earlier == asked => Ok(true),
            Some(_) => Err(Error::invalid(format!(
                "ClientToken '{token}' was used for a different request in the last 15 minutes."
            ))),
            None => Ok(false),
        }
    }

    fn remember(&mut self, client_token: Option<String>, asked: String, now: Timestamp) {
        if let Some(token) = client_token.filter(|token| !token.is_empty()) {
            self.control_tokens.push((token, asked, now));
        }
    }

    /// Whether invocations may run (not paused, not over).
    #[must_use]
    pub fn may_invoke(&self) -> bool {
        self.record.status == ExecutionStatus::Running
    }

    fn finish(
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
        self.changes.execution_changed = true;
        self.invocation = None;
        let closed: Vec<String> = self
            .callbacks
            .drain()
            .map(|(_, callback)| callback.callback_id)
            .collect();
        self.changes.closed_callbacks.extend(closed);
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

/// The numeric options' ranges, as the API's model gives them.
fn check_ranges(update: &OperationUpdate) -> Result<()> {
    let within = |value: Option<i64>, low: i64, high: i64, name: &str| match value {
        Some(value) if !(low..=high).contains(&value) => Err(Error::invalid(format!(
            "{name} must be from {low} to {high}, not {value}."
        ))),
        _ => Ok(()),
    };
    if let Some(options) = &update.wait_options {
        within(
            options.wait_seconds,
            0,
            MAX_DELAY_SECONDS,
            "WaitOptions.WaitSeconds",
        )?;
    }
    if let Some(options) = &update.step_options {
        within(
            options.next_attempt_delay_seconds,
            0,
            MAX_DELAY_SECONDS,
            "StepOptions.NextAttemptDelaySeconds",
        )?;
    }
    if let Some(options) = &update.callback_options {
        within(
            options.timeout_seconds,
            0,
            MAX_CALLBACK_SECONDS,
            "CallbackOptions.TimeoutSeconds",
        )?;
        within(
            options.heartbeat_timeout_seconds,
            0,
            MAX_CALLBACK_SECONDS,
            "CallbackOptions.HeartbeatTimeoutSeconds",
        )?;
    }
    Ok(())
}

/// The actions each operation type accepts.
const fn allowed(kind: OperationType, action: OperationAction) -> bool {
    use OperationAction::{Cancel, Fail, Retry, Start, Succeed};
    match kind {
        OperationType::Execution => matches!(action, Succeed | Fail),
        OperationType::Context => matches!(action, Start | Succeed | Fail),
        OperationType::Step => matches!(action, Start | Succeed | Fail | Retry),
        OperationType::Wait => matches!(action, Start | Cancel),
        OperationType::Callback | OperationType::ChainedInvoke => matches!(action, Start),
    }
}

/// The per-type transition rules, against the operation before the batch.
fn validate_transition(
    update: &OperationUpdate,
    kind: OperationType,
    action: OperationAction,
    current: Option<&Operation>,
) -> Result<()> {
    let status = current.map(|op| op.status);
    let no_payload_on_fail = || {
        if action == OperationAction::Fail && update.payload.is_some() {
            return Err(Error::invalid("Cannot provide a Payload for FAIL action."));
        }
        if action == OperationAction::Succeed && update.error.is_some() {
            return Err(Error::invalid(
                "Cannot provide an Error for SUCCEED action.",
            ));
        }
        Ok(())
    };
    match (kind, action) {
        (OperationType::Execution, _) => no_payload_on_fail(),
        (OperationType::Step, _) if current.is_none() => {
            if action == OperationAction::Retry && update.step_options.is_none() {
                return Err(Error::invalid("Invalid StepOptions for the given action."));
            }
            no_payload_on_fail()
        }
        (OperationType::Step, OperationAction::Start) => {
            if status == Some(OperationStatus::Ready) {
                Ok(())
            } else {
                Err(Error::invalid("Invalid current STEP state to start."))
            }
        }
        (OperationType::Step, OperationAction::Succeed | OperationAction::Fail) => {
            if !matches!(
                status,
                Some(OperationStatus::Started | OperationStatus::Ready)
            ) {
                return Err(Error::invalid("Invalid current STEP state to close."));
            }
            no_payload_on_fail()
        }
        (OperationType::Step, _) => {
            if !matches!(
                status,
                Some(OperationStatus::Started | OperationStatus::Ready)
            ) {
                return Err(Error::invalid("Invalid current STEP state to re-attempt."));
            }
            if update.step_options.is_none() {
                return Err(Error::invalid("Invalid StepOptions for the given action."));
            }
            if update.error.is_some() && update.payload.is_some() {
                return Err(Error::invalid(
                    "Cannot provide both error and payload to RETRY a STEP.",
                ));
            }
            Ok(())
        }
        (OperationType::Context, OperationAction::Start) => {
            if current.is_some() {
                Err(Error::invalid("Cannot start a CONTEXT that already exist."))
            } else {
                Ok(())
            }
        }
        (OperationType::Context, _) => {
            if current.is_some() && status != Some(OperationStatus::Started) {
                return Err(Error::invalid("Invalid current CONTEXT state to close."));
            }
            no_payload_on_fail()
        }
        (OperationType::Wait, OperationAction::Start) => {
            if current.is_some() {
                return Err(Error::invalid("Cannot start a WAIT that already exist."));
            }
            Ok(())
        }
        (OperationType::Wait, _) => {
            if status == Some(OperationStatus::Started) {
                Ok(())
            } else {
                Err(Error::invalid(
                    "Cannot cancel a WAIT that does not exist or has already completed.",
                ))
            }
        }
        (OperationType::Callback, _) => {
            if current.is_some() {
                Err(Error::invalid(
                    "Cannot start a CALLBACK that already exist.",
                ))
            } else {
                Ok(())
            }
        }
        (OperationType::ChainedInvoke, _) => {
            if current.is_some() {
                return Err(Error::invalid(
                    "Cannot start a CHAINED_INVOKE operation that already exists.",
                ));
            }
            let name = update
                .chained_invoke_options
                .as_ref()
                .and_then(|options| options.function_name.as_deref())
                .ok_or_else(|| {
                    Error::invalid(
                        "Update for CHAINED_INVOKE operation requires ChainedInvokeOptions.",
                    )
                })?;
            if name.is_empty() || name.len() > 256 {
                return Err(Error::invalid(format!("Invalid function ARN '{name}'")));
            }
            Ok(())
        }
    }
}

/// A page of `operations` from `start`: at most `max_items`, and at most
/// `max_bytes` of payload (but always one operation).
fn page_of<'a>(
    operations: &[&'a Operation],
    start: usize,
    max_items: usize,
    max_bytes: usize,
) -> (Vec<&'a Operation>, Option<usize>) {
    let mut page = Vec::new();
    let mut bytes = 0;
    let mut index = start;
    while let Some(op) = operations.get(index) {
        let size = op.payload_size();
        if !page.is_empty() && (page.len() >= max_items || bytes + size > max_bytes) {
            return (page, Some(index));
        }
        bytes += size;
        page.push(*op);
        index += 1;
    }
    (page, None)
}

/// The durable envelope a function answered with.
enum Output {
    Succeeded(Option<String>),
    Failed(ErrorObject),
    Pending,
}

fn parse_invocation_output(bytes: &[u8]) -> std::result::Result<Output, ErrorObject> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Envelope {
        status: Option<String>,
        result: Option<serde_json::Value>,
        error: Option<serde_json::Value>,
    }
    let invalid = |reason: String| {
        ErrorObject::new(
            "InvalidParameterValueException",
            format!("Invalid invocation output: {reason}"),
        )
    };
    let envelope: Envelope = serde_json::from_slice(bytes)
        .map_err(|error| invalid(format!("not a durable response envelope ({error})")))?;
    match envelope.status.as_deref() {
        Some("SUCCEEDED") => {
            if envelope.error.is_some() {
                return Err(invalid(
                    "Cannot provide an Error for SUCCEEDED status.".to_owned(),
                ));
            }
            let result = match envelope.result {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(text)) => Some(text),
                Some(other) => Some(other.to_string()),
            };
            Ok(Output::Succeeded(result))
        }
        Some("FAILED") => {
            if envelope.result.is_some() {
                return Err(invalid(
                    "Cannot provide a Result for FAILED status.".to_owned(),
                ));
            }
            let error = match envelope.error {
                None | Some(serde_json::Value::Null) => ErrorObject::default(),
                Some(value) => serde_json::from_value(value)
                    .map_err(|error| invalid(format!("Error is not an error object ({error})")))?,
            };
            Ok(Output::Failed(error))
        }
        Some("PENDING") => Ok(Output::Pending),
        Some(other) => Err(invalid(format!("unknown Status {other:?}"))),
        None => Err(invalid("Status is required".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChainedInvokeOptions, StepOptions, WaitOptions};

    fn record() -> ExecutionRecord {
        ExecutionRecord {
            arn: "arn:aws:lambda:us-east-1:000000000000:function:F:$LATEST/durable-execution/n/1"
                .to_owned(),
            function_name: "F".to_owned(),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:F:$LATEST".to_owned(),
            version: "$LATEST".to_owned(),
            name: "n".to_owned(),
            status: ExecutionStatus::Running,
            input: "{}".to_owned(),
            result: None,
            error: None,
            start: Timestamp::from_millis(1_000_000),
            end: None,
            timeout_seconds: 300,
            retention_days: 1,
            parent: None,
            invocations: 0,
            pause: None,
            paused_millis: 0,
        }
    }

    /// A running execution and the token of its invocation.
    fn invoking() -> (ExecutionState, String) {
        let mut state = ExecutionState::start(record(), "exec".to_owned(), 1.0);
        let (_, envelope) = state.begin_invocation(1, Timestamp::from_millis(1_000_001), 1000);
        let token = envelope["CheckpointToken"].as_str().unwrap().to_owned();
        (state, token)
    }

    fn update(id: &str, kind: &str, action: &str) -> OperationUpdate {
        OperationUpdate {
            id: id.to_owned(),
            kind: kind.to_owned(),
            action: action.to_owned(),
            ..OperationUpdate::default()
        }
    }

    fn no_function(_: &str) -> bool {
        false
    }

    fn rejects(updates: &[OperationUpdate], message: &str) {
        let (mut state, token) = invoking();
        let before: Vec<Operation> = state.operations().cloned().collect();
        let error = state
            .checkpoint(
                &token,
                None,
                updates,
                Timestamp::from_millis(1_000_002),
                &no_function,
            )
            .unwrap_err();
        assert_eq!(error, Error::invalid(message), "{updates:?}");
        assert_eq!(
            state.operations().cloned().collect::<Vec<_>>(),
            before,
            "nothing is applied"
        );
        let accepted = state.checkpoint(
            &token,
            None,
            &[],
            Timestamp::from_millis(1_000_003),
            &no_function,
        );
        assert!(
            accepted.is_ok(),
            "a rejected batch does not rotate the token"
        );
    }

    #[test]
    fn the_service_validation_rules_reject_bad_batches_whole() {
        let execution = update("x", "EXECUTION", "SUCCEED");
        rejects(
            &[execution.clone(), execution.clone()],
            "Cannot checkpoint multiple EXECUTION updates.",
        );
        rejects(
            &[execution, update("s", "STEP", "START")],
            "EXECUTION checkpoint must be the last update.",
        );
        rejects(
            &[update("w", "WAIT", "START"), update("w", "WAIT", "CANCEL")],
            "Cannot checkpoint multiple operations with the same ID.",
        );
        let mut child = update("c", "STEP", "START");
        child.parent_id = Some("nope".to_owned());
        rejects(&[child], "Invalid parent operation id.");
        rejects(&[update("s", "BOGUS", "START")], "Unknown operation type.");
        rejects(
            &[update("s", "WAIT", "RETRY")],
            "Invalid action for the given operation type.",
        );
        rejects(
            &[update("s", "CALLBACK", "SUCCEED")],
            "Invalid action for the given operation type.",
        );
        rejects(
            &[update("w", "WAIT", "CANCEL")],
            "Cannot cancel a WAIT that does not exist or has already completed.",
        );
        rejects(
            &[update("i", "CHAINED_INVOKE", "START")],
            "Update for CHAINED_INVOKE operation requires ChainedInvokeOptions.",
        );
        let mut fail = update("s", "STEP", "FAIL");
        fail.payload = Some("1".to_owned());
        rejects(&[fail], "Cannot provide a Payload for FAIL action.");
        let mut bad_id = update("has space", "STEP", "START");
        bad_id.id = "has space".to_owned();
        rejects(
            &[bad_id],
            "Invalid operation id 'has space': 1 to 64 characters of [a-zA-Z0-9-_].",
        );
    }

    #[test]
    fn a_start_and_its_outcome_may_share_a_batch() {
        let (mut state, token) = invoking();
        let mut succeed = update("s", "STEP", "SUCCEED");
        succeed.payload = Some("42".to_owned());
        let output = state
            .checkpoint(
                &token,
                None,
                &[update("s", "STEP", "START"), succeed],
                Timestamp::from_millis(1_000_002),
                &no_function,
            )
            .unwrap();
        let step = output
            .new_execution_state
            .operations
            .iter()
            .find(|op| op.id == "s")
            .unwrap();
        assert_eq!(step.status, OperationStatus::Succeeded);
        assert_eq!(
            step.step_details.as_ref().unwrap().result.as_deref(),
            Some("42")
        );
        assert_ne!(output.checkpoint_token, token, "the token rotates");
    }

    #[test]
    fn later_updates_are_checked_against_what_is_stored() {
        let (mut state, token) = invoking();
        let mut start = update("s", "STEP", "START");
        start.name = Some("first".to_owned());
        let output = state
            .checkpoint(
                &token,
                None,
                &[start],
                Timestamp::from_millis(1_000_002),
                &no_function,
            )
            .unwrap();
        let token = output.checkpoint_token;
        let mut renamed = update("s", "STEP", "SUCCEED");
        renamed.name = Some("second".to_owned());
        let error = state
            .checkpoint(
                &token,
                None,
                &[renamed],
                Timestamp::from_millis(1_000_003),
                &no_function,
            )
            .unwrap_err();
        assert_eq!(error, Error::invalid("Inconsistent operation name."));
        let again = state.checkpoint(
            &token,
            None,
            &[update("s", "STEP", "START")],
            Timestamp::from_millis(1_000_003),
            &no_function,
        );
        assert_eq!(
            again.unwrap_err(),
            Error::invalid("Invalid current STEP state to start.")
        );
        let unnamed_outcome = state
            .checkpoint(
                &token,
                None,
                &[update("s", "STEP", "SUCCEED")],
                Timestamp::from_millis(1_000_004),
                &no_function,
            )
            .unwrap();
        let step = unnamed_outcome
            .new_execution_state
            .operations
            .iter()
            .find(|op| op.id == "s")
            .unwrap();
        assert_eq!(
            step.name.as_deref(),
            Some("first"),
            "an update without a name keeps the stored one"
        );
    }

    #[test]
    fn a_stale_token_is_refused_with_the_message_the_sdks_retry_on() {
        let (mut state, token) = invoking();
        let output = state
            .checkpoint(
                &token,
                None,
                &[],
                Timestamp::from_millis(1_000_002),
                &no_function,
            )
            .unwrap();
        let error = state
            .checkpoint(
                &token,
                None,
                &[],
                Timestamp::from_millis(1_000_003),
                &no_function,
            )
            .unwrap_err();
        assert!(error.to_string().starts_with(INVALID_TOKEN), "{error}");
        assert!(
            state
                .checkpoint(
                    &output.checkpoint_token,
                    None,
                    &[],
                    Timestamp::from_millis(1_000_004),
                    &no_function
                )
                .is_ok()
        );
    }

    #[test]
    fn a_repeated_client_token_returns_the_first_answer() {
        let (mut state, token) = invoking();
        let first = state
            .checkpoint(
                &token,
                Some("c-1"),
                &[update("w", "WAIT", "START")],
                Timestamp::from_millis(1_000_002),
                &no_function,
            )
            .unwrap();
        let repeat = state
            .checkpoint(
                &token,
                Some("c-1"),
                &[update("w", "WAIT", "START")],
                Timestamp::from_millis(1_000_003),
                &no_function,
            )
            .unwrap();
        assert_eq!(first, repeat);
    }

    #[test]
    fn a_retry_makes_the_step_pending_then_ready_at_its_time() {
        let (mut state, token) = invoking();
        let mut retry = update("s", "STEP", "RETRY");
        retry.step_options = Some(StepOptions {
            next_attempt_delay_seconds: Some(5),
        });
        retry.error = Some(ErrorObject::new("Boom", "boom"));
        state
            .checkpoint(
                &token,
                None,
                &[update("s", "STEP", "START"), retry],
                Timestamp::from_millis(1_000_000),
                &no_function,
            )
            .unwrap();
        let step = state.operations().find(|op| op.id == "s").unwrap().clone();
        assert_eq!(step.status, OperationStatus::Pending);
        assert_eq!(step.step_details.as_ref().unwrap().attempt, 1);
        assert_eq!(
            state.next_deadline(),
            Some(Timestamp::from_millis(1_005_000))
        );
        state.fire_timers(Timestamp::from_millis(1_004_999));
        assert_eq!(
            state.operations().find(|op| op.id == "s").unwrap().status,
            OperationStatus::Pending
        );
        state.fire_timers(Timestamp::from_millis(1_005_000));
        assert_eq!(
            state.operations().find(|op| op.id == "s").unwrap().status,
            OperationStatus::Ready
        );
        assert!(state.has_news());
    }

    #[test]
    fn waits_are_scaled_by_the_time_scale() {
        let mut state = ExecutionState::start(record(), "exec".to_owned(), 0.01);
        let (_, envelope) = state.begin_invocation(1, Timestamp::from_millis(1_000_000), 1000);
        let token = envelope["CheckpointToken"].as_str().unwrap().to_owned();
        let mut wait = update("w", "WAIT", "START");
        wait.wait_options = Some(WaitOptions {
            wait_seconds: Some(10),
        });
        state
            .checkpoint(
                &token,
                None,
                &[wait],
                Timestamp::from_millis(1_000_000),
                &no_function,
            )
            .unwrap();
        assert_eq!(
            state.next_deadline(),
            Some(Timestamp::from_millis(1_000_100))
        );
    }

    #[test]
    fn an_unknown_chained_target_fails_in_the_same_answer() {
        let (mut state, token) = invoking();
        let mut invoke = update("i", "CHAINED_INVOKE", "START");
        invoke.chained_invoke_options = Some(ChainedInvokeOptions {
            function_name: Some("Nowhere".to_owned()),
            tenant_id: None,
        });
        let output = state
            .checkpoint(
                &token,
                None,
                &[invoke],
                Timestamp::from_millis(1_000_002),
                &no_function,
            )
            .unwrap();
        let op = output
            .new_execution_state
            .operations
            .iter()
            .find(|op| op.id == "i")
            .unwrap();
        assert_eq!(op.status, OperationStatus::Failed);
        assert_eq!(
            op.chained_invoke_details
                .as_ref()
                .unwrap()
                .error
                .as_ref()
                .unwrap()
                .error_type
                .as_deref(),
            Some("ResourceNotFoundException")
        );
    }

    #[test]
    fn a_pending_answer_with_nothing_pending_is_an_invocation_failure() {
        let (mut state, _) = invoking();
        let (id, _, _) = state.current_invocation().unwrap();
        state.take_changes();
        let after = state.end_invocation(
            id,
            InvocationEnd::Answered(br#"{"Status":"PENDING"}"#.to_vec()),
            Timestamp::from_millis(1_000_002),
        );
        assert_eq!(after, AfterInvocation::Retry);
    }

    #[test]
    fn a_completion_seen_by_a_suspending_invocation_still_gets_another() {
        // A retry comes due while the invocation runs: the sweep in a checkpoint
        // shows the step READY to a handler that suspends anyway.
        let (mut state, token) = invoking();
        let mut retry = update("s", "STEP", "RETRY");
        retry.step_options = Some(StepOptions {
            next_attempt_delay_seconds: Some(1),
        });
        let output = state
            .checkpoint(
                &token,
                None,
                &[update("s", "STEP", "START"), retry],
                Timestamp::from_millis(1_000_000),
                &no_function,
            )
            .unwrap();
        let mut wait = update("w", "WAIT", "START");
        wait.wait_options = Some(WaitOptions {
            wait_seconds: Some(1),
        });
        state
            .checkpoint(
                &output.checkpoint_token,
                None,
                &[wait],
                Timestamp::from_millis(1_002_000),
                &no_function,
            )
            .unwrap();
        assert!(
            !state.has_news(),
            "the handler has been shown the READY step"
        );
        let (id, _, _) = state.current_invocation().unwrap();
        let after = state.end_invocation(
            id,
            InvocationEnd::Answered(br#"{"Status":"PENDING"}"#.to_vec()),
            Timestamp::from_millis(1_002_001),
        );
        assert_eq!(after, AfterInvocation::InvokeNow);
    }

    fn pause_request(reason: &str, execution_timeout_paused: bool) -> PauseRequest {
        PauseRequest {
            client_token: None,
            reason: Some(reason.to_owned()),
            execution_timeout_paused,
        }
    }

    fn event_types(changes: &Changes) -> Vec<&str> {
        changes
            .events
            .iter()
            .map(|event| event.event_type.as_str())
            .collect()
    }

    #[test]
    fn a_pause_during_an_invocation_takes_effect_at_its_next_checkpoint() {
        let (mut state, token) = invoking();
        let _ = state.take_changes();
        let at = Timestamp::from_millis;
        state
            .pause(pause_request("deploying", true), at(1_000_010))
            .unwrap();
        assert_eq!(state.record().status, ExecutionStatus::Pausing);
        assert!(state.take_changes().0.events.is_empty(), "not paused yet");

        // The checkpoint is applied and answered; then the invocation is cut off.
        let output = state
            .checkpoint(
                &token,
                None,
                &[update("s", "STEP", "START")],
                at(1_000_020),
                &no_function,
            )
            .unwrap();
        assert_eq!(state.record().status, ExecutionStatus::Paused);
        assert_eq!(state.operations().count(), 2, "the step's start is kept");
        let (changes, _) = state.take_changes();
        assert_eq!(event_types(&changes), ["StepStarted", "ExecutionPaused"]);
        let error = state
            .checkpoint(
                &output.checkpoint_token,
                None,
                &[],
                at(1_000_030),
                &no_function,
            )
            .unwrap_err();
        assert!(error.to_string().contains(INVALID_TOKEN), "{error}");

        // Its answer changes nothing, and nothing is invoked while paused.
        let (id, _, _) = state.current_invocation().unwrap();
        let after = state.end_invocation(
            id,
            InvocationEnd::Answered(br#"{"Status":"SUCCEEDED","Result":"1"}"#.to_vec()),
            at(1_000_040),
        );
        assert_eq!(after, AfterInvocation::Sleep);
        assert_eq!(state.record().status, ExecutionStatus::Paused);
        assert!(!state.may_invoke());

        // The timeout stops while paused: at most 366 days after the start.
        assert_eq!(
            state.record().timeout_at(),
            at(1_000_000 + MAX_PAUSED_LIFETIME_DAYS * 86_400_000)
        );
        let request = ResumeRequest {
            client_token: None,
            reason: Some("deployed".to_owned()),
        };
        let invoke = state.resume(request, at(1_060_020)).unwrap();
        assert!(invoke, "the pause cut an invocation short");
        assert_eq!(state.record().status, ExecutionStatus::Running);
        assert!(state.record().pause.is_none());
        assert_eq!(
            state.record().timeout_at(),
            at(1_000_000 + 300_000 + 60_000),
            "extended by the minute it was paused"
        );
        let (changes, _) = state.take_changes();
        assert_eq!(
            event_types(&changes),
            ["InvocationCompleted", "ExecutionResumed"]
        );
    }

    #[test]
    fn a_pause_without_an_invocation_is_immediate_and_keeps_the_timeout_if_asked() {
        let mut state = ExecutionState::start(record(), "exec".to_owned(), 1.0);
        let at = Timestamp::from_millis;
        state
            .pause(pause_request("look", false), at(1_000_010))
            .unwrap();
        assert_eq!(state.record().status, ExecutionStatus::Paused);
        assert_eq!(
            state.record().timeout_at(),
            at(1_300_000),
            "a pause that keeps the timeout running does not move it"
        );
        let conflict = state.pause(pause_request("again", true), at(1_000_011));
        assert!(matches!(conflict, Err(Error::ResourceConflict(_))));
        let invoke = state
            .resume(ResumeRequest::default(), at(1_050_000))
            .unwrap();
        assert!(invoke, "its first invocation has yet to run");
        assert_eq!(state.record().paused_millis, 0);
        assert_eq!(state.record().timeout_at(), at(1_300_000));
        let conflict = state.resume(ResumeRequest::default(), at(1_050_001));
        assert!(matches!(conflict, Err(Error::ResourceConflict(_))));
    }

    #[test]
    fn a_second_pause_before_a_cut_short_invocation_ends_is_immediate() {
        let (mut state, token) = invoking();
        let at = Timestamp::from_millis;
        state
            .pause(pause_request("one", true), at(1_000_010))
            .unwrap();
        state
            .checkpoint(
                &token,
                None,
                &[update("s", "STEP", "START")],
                at(1_000_020),
                &no_function,
            )
            .unwrap();
        // Resumed while the cut-short invocation still runs, then paused again.
        assert!(
            state
                .resume(ResumeRequest::default(), at(1_000_030))
                .unwrap()
        );
        state
            .pause(pause_request("two", true), at(1_000_040))
            .unwrap();
        assert_eq!(state.record().status, ExecutionStatus::Paused);
        let (id, _, _) = state.current_invocation().unwrap();
        let after = state.end_invocation(
            id,
            InvocationEnd::Answered(br#"{"Status":"PENDING"}"#.to_vec()),
            at(1_000_050),
        );
        assert_eq!(after, AfterInvocation::Sleep);
        assert_eq!(state.record().status, ExecutionStatus::Paused);
        assert!(
            state
                .resume(ResumeRequest::default(), at(1_000_060))
                .unwrap(),
            "the cut-short invocation's work is still owed"
        );
    }

    #[test]
    fn resuming_a_pausing_execution_cancels_the_pause() {
        let (mut state, token) = invoking();
        let at = Timestamp::from_millis;
        state
            .pause(pause_request("oops", true), at(1_000_010))
            .unwrap();
        let invoke = state
            .resume(ResumeRequest::default(), at(1_000_011))
            .unwrap();
        assert!(!invoke, "the invocation under way carries on");
        let _ = state.take_changes();
        state
            .checkpoint(
                &token,
                None,
                &[update("s", "STEP", "START")],
                at(1_000_020),
                &no_function,
            )
            .unwrap();
        assert_eq!(state.record().status, ExecutionStatus::Running);
        let (changes, _) = state.take_changes();
        assert_eq!(event_types(&changes), ["StepStarted"]);
    }

    #[test]
    fn an_invocation_that_suspends_while_pausing_leaves_the_execution_paused() {
        let (mut state, token) = invoking();
        let at = Timestamp::from_millis;
        let mut wait = update("w", "WAIT", "START");
        wait.wait_options = Some(WaitOptions {
            wait_seconds: Some(1),
        });
        state
            .checkpoint(&token, None, &[wait], at(1_000_005), &no_function)
            .unwrap();
        state
            .pause(pause_request("hold", true), at(1_000_010))
            .unwrap();
        let (id, _, _) = state.current_invocation().unwrap();
        let after = state.end_invocation(
            id,
            InvocationEnd::Answered(br#"{"Status":"PENDING"}"#.to_vec()),
            at(1_000_020),
        );
        assert_eq!(after, AfterInvocation::Sleep);
        assert_eq!(state.record().status, ExecutionStatus::Paused);

        // The wait ends while paused; resuming invokes for it.
        state.fire_timers(at(1_001_006));
        assert!(!state.may_invoke());
        assert!(
            state
                .resume(ResumeRequest::default(), at(1_002_000))
                .unwrap()
        );
    }

    #[test]
    fn a_repeated_client_token_succeeds_without_acting_again() {
        let mut state = ExecutionState::start(record(), "exec".to_owned(), 1.0);
        let at = Timestamp::from_millis;
        let request = PauseRequest {
            client_token: Some("t-1".to_owned()),
            ..pause_request("r", true)
        };
        state.pause(request.clone(), at(1_000_010)).unwrap();
        state.pause(request.clone(), at(1_000_020)).unwrap();
        let (changes, _) = state.take_changes();
        assert_eq!(
            event_types(&changes),
            ["ExecutionStarted", "ExecutionPaused"]
        );
        let other = PauseRequest {
            reason: Some("another".to_owned()),
            ..request.clone()
        };
        let error = state.pause(other, at(1_000_030)).unwrap_err();
        assert!(
            matches!(error, Error::InvalidParameterValue(_)),
            "{error:?}"
        );
        state
            .resume(ResumeRequest::default(), at(1_000_040))
            .unwrap();
        let late = state.pause(request, at(1_000_010 + CONTROL_TOKEN_MILLIS));
        assert!(late.is_ok(), "15 minutes on, the token is new again");
        assert_eq!(state.record().status, ExecutionStatus::Paused);
    }

    #[test]
    fn a_pausing_execution_restored_after_a_restart_is_paused() {
        let mut record = record();
        record.status = ExecutionStatus::Pausing;
        record.pause = Some(PauseRecord {
            requested: Timestamp::from_millis(1_000_010),
            reason: None,
            execution_timeout_paused: true,
            since: None,
            invoke_on_resume: false,
        });
        let op = Operation::new(
            "exec".to_owned(),
            OperationType::Execution,
            OperationStatus::Started,
            Timestamp::from_millis(1_000_000),
        );
        let mut state = ExecutionState::restore(record, vec![op], Vec::new(), 7, 1.0);
        assert_eq!(state.record().status, ExecutionStatus::Paused);
        let (changes, _) = state.take_changes();
        assert!(changes.execution_changed);
        assert_eq!(event_types(&changes), ["ExecutionPaused"]);
        assert!(
            state
                .resume(ResumeRequest::default(), Timestamp::now())
                .unwrap(),
            "its invocation died with the engine: resuming invokes again"
        );
    }

    #[test]
    fn stopping_a_paused_execution_ends_it() {
        let mut state = ExecutionState::start(record(), "exec".to_owned(), 1.0);
        state
            .pause(pause_request("r", true), Timestamp::from_millis(1_000_010))
            .unwrap();
        state.stop(None, Timestamp::from_millis(1_000_020));
        assert_eq!(state.record().status, ExecutionStatus::Stopped);
        assert!(state.record().pause.is_none());
    }

    #[test]
    fn an_answer_that_is_not_an_envelope_fails_the_execution_at_once() {
        let (mut state, _) = invoking();
        let (id, _, _) = state.current_invocation().unwrap();
        let after = state.end_invocation(
            id,
            InvocationEnd::Answered(br#"{"Status":"DONE"}"#.to_vec()),
            Timestamp::from_millis(1_000_002),
        );
        assert_eq!(after, AfterInvocation::Finished);
        assert_eq!(state.record().status, ExecutionStatus::Failed);
        assert!(
            state
                .record()
                .error
                .as_ref()
                .unwrap()
                .error_message
                .as_ref()
                .unwrap()
                .starts_with("Invalid invocation output")
        );
    }

    #[test]
    fn option_values_outside_the_models_ranges_are_refused() {
        let mut callback = update("c", "CALLBACK", "START");
        callback.callback_options = Some(crate::model::CallbackOptions {
            timeout_seconds: Some(i64::MAX),
            heartbeat_timeout_seconds: None,
        });
        rejects(
            &[callback],
            "CallbackOptions.TimeoutSeconds must be from 0 to 99999999, not 9223372036854775807.",
        );
        let mut wait = update("w", "WAIT", "START");
        wait.wait_options = Some(WaitOptions {
            wait_seconds: Some(-1),
        });
        rejects(
            &[wait],
            "WaitOptions.WaitSeconds must be from 0 to 31622400, not -1.",
        );
    }

    #[test]
    fn the_execution_times_out_at_its_deadline() {
        let (mut state, token) = invoking();
        state.fire_timers(Timestamp::from_millis(1_300_000));
        assert_eq!(state.record().status, ExecutionStatus::TimedOut);
        let error = state
            .checkpoint(
                &token,
                None,
                &[],
                Timestamp::from_millis(1_300_001),
                &no_function,
            )
            .unwrap_err();
        assert!(error.to_string().starts_with(INVALID_TOKEN));
    }

    #[test]
    fn completed_contexts_hide_their_children_unless_they_replay_them() {
        let (mut state, token) = invoking();
        let mut child = update("k", "STEP", "START");
        child.parent_id = Some("c".to_owned());
        let output = state
            .checkpoint(
                &token,
                None,
                &[
                    update("c", "CONTEXT", "START"),
                    child,
                    update("k", "STEP", "SUCCEED"),
                    update("c", "CONTEXT", "SUCCEED"),
                ],
                Timestamp::from_millis(1_000_002),
                &no_function,
            )
            .unwrap();
        let (_, envelope) = {
            let (id, _, _) = state.current_invocation().unwrap();
            state.end_invocation(
                id,
                InvocationEnd::Answered(br#"{"Status":"PENDING"}"#.to_vec()),
                Timestamp::from_millis(1_000_003),
            );
            state.begin_invocation(2, Timestamp::from_millis(1_000_004), 1000)
        };
        assert!(
            output
                .new_execution_state
                .operations
                .iter()
                .any(|op| op.id == "k")
        );
        let ids: Vec<&str> = envelope["InitialExecutionState"]["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|op| op["Id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["exec", "c"]);
    }
}
