//! The service's data, in the Lambda API's wire shapes.
//!
//! Field names, enum spellings and nesting are those of the Lambda REST-JSON
//! model (`Operation`, `OperationUpdate`, `ErrorObject`, `Event`), so a value
//! serializes straight into an API response. Timestamps serialize as epoch
//! seconds, the API's format; [`to_envelope`] rewrites them to epoch
//! milliseconds for the invocation envelope, as the SDKs read it there.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A moment, in milliseconds since the Unix epoch.
///
/// Serializes as a JSON number of epoch seconds (`1735787045.123`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The moment `millis` after the epoch.
    #[must_use]
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the epoch.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The current time.
    #[must_use]
    pub fn now() -> Self {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self(i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX))
    }

    /// This moment plus `millis`.
    #[must_use]
    pub const fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// RFC 3339, for people.
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|moment| {
                moment
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }

    /// Parses RFC 3339 / ISO 8601 (as query strings carry timestamps).
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let moment =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .ok()?;
        i64::try_from(moment.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Self)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[expect(
            clippy::cast_precision_loss,
            reason = "epoch milliseconds fit an f64 exactly for the next 285,000 years"
        )]
        let seconds = self.0 as f64 / 1000.0;
        serializer.serialize_f64(seconds)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let seconds = f64::deserialize(deserializer)?;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "rounded epoch milliseconds of a real moment fit an i64"
        )]
        let millis = (seconds * 1000.0).round() as i64;
        Ok(Self(millis))
    }
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// The value's wire spelling.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The value with this wire spelling.
            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// What kind of operation.
    OperationType {
        /// The execution itself.
        Execution = "EXECUTION",
        /// A child context (run_in_child_context, parallel, map, branches).
        Context = "CONTEXT",
        /// A step.
        Step = "STEP",
        /// A durable wait.
        Wait = "WAIT",
        /// A callback an external system completes.
        Callback = "CALLBACK",
        /// A call of another function.
        ChainedInvoke = "CHAINED_INVOKE",
    }
}

wire_enum! {
    /// Where an operation stands.
    OperationStatus {
        /// Begun.
        Started = "STARTED",
        /// Waiting for its next attempt.
        Pending = "PENDING",
        /// Its next attempt is due.
        Ready = "READY",
        /// Done.
        Succeeded = "SUCCEEDED",
        /// Failed.
        Failed = "FAILED",
        /// Cancelled.
        Cancelled = "CANCELLED",
        /// Ran out of time.
        TimedOut = "TIMED_OUT",
        /// Stopped.
        Stopped = "STOPPED",
    }
}

impl OperationStatus {
    /// Whether the operation is over.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Cancelled | Self::TimedOut | Self::Stopped
        )
    }
}

wire_enum! {
    /// What a checkpoint update does to its operation.
    OperationAction {
        /// Begin it.
        Start = "START",
        /// Complete it successfully.
        Succeed = "SUCCEED",
        /// Complete it with an error.
        Fail = "FAIL",
        /// Schedule another attempt.
        Retry = "RETRY",
        /// Cancel it.
        Cancel = "CANCEL",
    }
}

wire_enum! {
    /// Where an execution stands.
    ExecutionStatus {
        /// Under way.
        Running = "RUNNING",
        /// Completed with a result.
        Succeeded = "SUCCEEDED",
        /// Completed with an error.
        Failed = "FAILED",
        /// Ran past its execution timeout.
        TimedOut = "TIMED_OUT",
        /// Stopped on request.
        Stopped = "STOPPED",
        /// A pause was asked for while an invocation ran: it pauses at that
        /// invocation's next checkpoint.
        Pausing = "PAUSING",
        /// Paused on request: no invocation runs until it is resumed.
        Paused = "PAUSED",
    }
}

impl ExecutionStatus {
    /// Whether the execution is over.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::TimedOut | Self::Stopped
        )
    }
}

/// An error as the API carries it. Every member is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorObject {
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The error's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Opaque data attached to the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<String>,
    /// Stack frames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<Vec<String>>,
}

impl ErrorObject {
    /// An error of `error_type` saying `message`.
    #[must_use]
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error_message: Some(message.into()),
            error_type: Some(error_type.into()),
            ..Self::default()
        }
    }

    /// An error with a message and no type.
    #[must_use]
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            error_message: Some(message.into()),
            ..Self::default()
        }
    }
}

/// The execution's own details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionDetails {
    /// The execution's input, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_payload: Option<String>,
}

/// A context's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextDetails {
    /// Whether its children are replayed rather than its result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_children: Option<bool>,
    /// Its result, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Its error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// A step's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepDetails {
    /// Retries completed so far.
    #[serde(default)]
    pub attempt: u32,
    /// When the next attempt is due (while `PENDING`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_timestamp: Option<Timestamp>,
    /// Its result, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Its (last) error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// A wait's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitDetails {
    /// When the wait ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_end_timestamp: Option<Timestamp>,
}

/// A callback's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackDetails {
    /// The id an external system completes it with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// The result it was completed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The error it was failed or timed out with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// A chained invoke's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeDetails {
    /// The invoked function's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The invoked function's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// One operation of an execution, as stored and as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Operation {
    /// Unique within the execution.
    pub id: String,
    /// The enclosing context, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The name the code gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its type.
    #[serde(rename = "Type")]
    pub kind: OperationType,
    /// The SDK's finer kind (`Step`, `Parallel`, `WaitForCallback`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// When it began.
    pub start_timestamp: Timestamp,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<Timestamp>,
    /// Where it stands.
    pub status: OperationStatus,
    /// For the execution operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_details: Option<ExecutionDetails>,
    /// For contexts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_details: Option<ContextDetails>,
    /// For steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_details: Option<StepDetails>,
    /// For waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_details: Option<WaitDetails>,
    /// For callbacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_details: Option<CallbackDetails>,
    /// For chained invokes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chained_invoke_details: Option<ChainedInvokeDetails>,
}

impl Operation {
    /// A new operation of `kind`, begun at `now`.
    #[must_use]
    pub fn new(id: String, kind: OperationType, status: OperationStatus, now: Timestamp) -> Self {
        Self {
            id,
            parent_id: None,
            name: None,
            kind,
            sub_type: None,
            start_timestamp: now,
            end_timestamp: None,
            status,
            execution_details: None,
            context_details: None,
            step_details: None,
            wait_details: None,
            callback_details: None,
            chained_invoke_details: None,
        }
    }

    /// The operation's size for paging: its payloads and errors, in bytes.
    #[must_use]
    pub fn payload_size(&self) -> usize {
        let text = |value: &Option<String>| value.as_ref().map_or(0, String::len);
        let error = |value: &Option<ErrorObject>| {
            value.as_ref().map_or(0, |error| {
                text(&error.error_message) + text(&error.error_type) + text(&error.error_data)
            })
        };
        let mut size = 64 + text(&self.name);
        if let Some(details) = &self.execution_details {
            size += text(&details.input_payload);
        }
        if let Some(details) = &self.context_details {
            size += text(&details.result) + error(&details.error);
        }
        if let Some(details) = &self.step_details {
            size += text(&details.result) + error(&details.error);
        }
        if let Some(details) = &self.callback_details {
            size += text(&details.result) + error(&details.error);
        }
        if let Some(details) = &self.chained_invoke_details {
            size += text(&details.result) + error(&details.error);
        }
        size
    }
}

/// Options of a context update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextOptions {
    /// Replay the children instead of the result.
    #[serde(default)]
    pub replay_children: Option<bool>,
}

/// Options of a step update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepOptions {
    /// Seconds until the next attempt.
    #[serde(default)]
    pub next_attempt_delay_seconds: Option<i64>,
}

/// Options of a wait update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitOptions {
    /// Seconds to wait.
    #[serde(default)]
    pub wait_seconds: Option<i64>,
}

/// Options of a callback update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackOptions {
    /// Seconds until the callback times out (0: never).
    #[serde(default)]
    pub timeout_seconds: Option<i64>,
    /// Seconds allowed between heartbeats (0: no heartbeat needed).
    #[serde(default)]
    pub heartbeat_timeout_seconds: Option<i64>,
}

/// Options of a chained-invoke update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeOptions {
    /// The function to invoke (name or ARN, optionally qualified).
    #[serde(default)]
    pub function_name: Option<String>,
    /// The tenant to invoke it for.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// One change a checkpoint asks for, as the SDK sends it.
///
/// `Type` and `Action` stay text until validated, so an unknown value is
/// answered with the service's message rather than a parse error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationUpdate {
    /// The operation.
    #[serde(default)]
    pub id: String,
    /// Its enclosing context.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its type, as sent.
    #[serde(default, rename = "Type")]
    pub kind: String,
    /// Its SDK kind.
    #[serde(default)]
    pub sub_type: Option<String>,
    /// What to do, as sent.
    #[serde(default)]
    pub action: String,
    /// A result or input, as JSON text.
    #[serde(default)]
    pub payload: Option<String>,
    /// An error.
    #[serde(default)]
    pub error: Option<ErrorObject>,
    /// For contexts.
    #[serde(default)]
    pub context_options: Option<ContextOptions>,
    /// For steps.
    #[serde(default)]
    pub step_options: Option<StepOptions>,
    /// For waits.
    #[serde(default)]
    pub wait_options: Option<WaitOptions>,
    /// For callbacks.
    #[serde(default)]
    pub callback_options: Option<CallbackOptions>,
    /// For chained invokes.
    #[serde(default)]
    pub chained_invoke_options: Option<ChainedInvokeOptions>,
}

/// A payload in a history event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventPayload {
    /// The payload (absent when not included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Whether the payload was left out.
    #[serde(default)]
    pub truncated: bool,
}

/// An error in a history event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventError {
    /// The error (absent when not included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<ErrorObject>,
    /// Whether the error was left out.
    #[serde(default)]
    pub truncated: bool,
}

impl EventPayload {
    /// An event payload holding `payload`.
    #[must_use]
    pub const fn of(payload: Option<String>) -> Self {
        Self {
            payload,
            truncated: false,
        }
    }
}

impl EventError {
    /// An event error holding `error`.
    #[must_use]
    pub const fn of(error: Option<ErrorObject>) -> Self {
        Self {
            payload: error,
            truncated: false,
        }
    }
}

/// A retry, in a step's history event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryDetails {
    /// The attempt that just ended, from 1.
    pub current_attempt: u32,
    /// Seconds until the next attempt (0: none).
    #[serde(default)]
    pub next_attempt_delay_seconds: i64,
}

/// What a history event records, by event type.
///
/// Serializes as the API's details member (`StepSucceededDetails`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[expect(
    missing_docs,
    reason = "each variant is the API member of the same name"
)]
pub enum EventDetails {
    #[serde(rename = "ExecutionStartedDetails", rename_all = "PascalCase")]
    ExecutionStarted {
        input: EventPayload,
        execution_timeout: i64,
    },
    #[serde(rename = "ExecutionSucceededDetails", rename_all = "PascalCase")]
    ExecutionSucceeded { result: EventPayload },
    #[serde(rename = "ExecutionFailedDetails", rename_all = "PascalCase")]
    ExecutionFailed { error: EventError },
    #[serde(rename = "ExecutionTimedOutDetails", rename_all = "PascalCase")]
    ExecutionTimedOut { error: EventError },
    #[serde(rename = "ExecutionStoppedDetails", rename_all = "PascalCase")]
    ExecutionStopped { error: EventError },
    #[serde(rename = "ExecutionPausedDetails", rename_all = "PascalCase")]
    ExecutionPaused {
        pause_request_timestamp: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<EventPayload>,
        execution_timeout_paused: bool,
    },
    #[serde(rename = "ExecutionResumedDetails", rename_all = "PascalCase")]
    ExecutionResumed {
        resume_request_timestamp: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<EventPayload>,
    },
    #[serde(rename = "ContextStartedDetails")]
    ContextStarted {},
    #[serde(rename = "ContextSucceededDetails", rename_all = "PascalCase")]
    ContextSucceeded { result: EventPayload },
    #[serde(rename = "ContextFailedDetails", rename_all = "PascalCase")]
    ContextFailed { error: EventError },
    #[serde(rename = "WaitStartedDetails", rename_all = "PascalCase")]
    WaitStarted {
        duration: i64,
        scheduled_end_timestamp: Timestamp,
    },
    #[serde(rename = "WaitSucceededDetails", rename_all = "PascalCase")]
    WaitSucceeded { duration: i64 },
    #[serde(rename = "WaitCancelledDetails", rename_all = "PascalCase")]
    WaitCancelled { error: EventError },
    #[serde(rename = "StepStartedDetails")]
    StepStarted {},
    #[serde(rename = "StepSucceededDetails", rename_all = "PascalCase")]
    StepSucceeded {
        result: EventPayload,
        retry_details: RetryDetails,
    },
    #[serde(rename = "StepFailedDetails", rename_all = "PascalCase")]
    StepFailed {
        error: EventError,
        retry_details: RetryDetails,
    },
    #[serde(rename = "ChainedInvokeStartedDetails", rename_all = "PascalCase")]
    ChainedInvokeStarted {
        function_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<EventPayload>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        durable_execution_arn: Option<String>,
    },
    #[serde(rename = "ChainedInvokeSucceededDetails", rename_all = "PascalCase")]
    ChainedInvokeSucceeded { result: EventPayload },
    #[serde(rename = "ChainedInvokeFailedDetails", rename_all = "PascalCase")]
    ChainedInvokeFailed { error: EventError },
    #[serde(rename = "ChainedInvokeTimedOutDetails", rename_all = "PascalCase")]
    ChainedInvokeTimedOut { error: EventError },
    #[serde(rename = "ChainedInvokeStoppedDetails", rename_all = "PascalCase")]
    ChainedInvokeStopped { error: EventError },
    #[serde(rename = "CallbackStartedDetails", rename_all = "PascalCase")]
    CallbackStarted {
        callback_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heartbeat_timeout: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout: Option<i64>,
    },
    #[serde(rename = "CallbackSucceededDetails", rename_all = "PascalCase")]
    CallbackSucceeded { result: EventPayload },
    #[serde(rename = "CallbackFailedDetails", rename_all = "PascalCase")]
    CallbackFailed { error: EventError },
    #[serde(rename = "CallbackTimedOutDetails", rename_all = "PascalCase")]
    CallbackTimedOut { error: EventError },
    #[serde(rename = "InvocationCompletedDetails", rename_all = "PascalCase")]
    InvocationCompleted {
        start_timestamp: Timestamp,
        end_timestamp: Timestamp,
        request_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<EventError>,
    },
}

impl EventDetails {
    /// The API's `EventType` for these details.
    #[must_use]
    pub const fn event_type(&self) -> &'static str {
        match self {
            Self::ExecutionStarted { .. } => "ExecutionStarted",
            Self::ExecutionSucceeded { .. } => "ExecutionSucceeded",
            Self::ExecutionFailed { .. } => "ExecutionFailed",
            Self::ExecutionTimedOut { .. } => "ExecutionTimedOut",
            Self::ExecutionStopped { .. } => "ExecutionStopped",
            Self::ExecutionPaused { .. } => "ExecutionPaused",
            Self::ExecutionResumed { .. } => "ExecutionResumed",
            Self::ContextStarted {} => "ContextStarted",
            Self::ContextSucceeded { .. } => "ContextSucceeded",
            Self::ContextFailed { .. } => "ContextFailed",
            Self::WaitStarted { .. } => "WaitStarted",
            Self::WaitSucceeded { .. } => "WaitSucceeded",
            Self::WaitCancelled { .. } => "WaitCancelled",
            Self::StepStarted {} => "StepStarted",
            Self::StepSucceeded { .. } => "StepSucceeded",
            Self::StepFailed { .. } => "StepFailed",
            Self::ChainedInvokeStarted { .. } => "ChainedInvokeStarted",
            Self::ChainedInvokeSucceeded { .. } => "ChainedInvokeSucceeded",
            Self::ChainedInvokeFailed { .. } => "ChainedInvokeFailed",
            Self::ChainedInvokeTimedOut { .. } => "ChainedInvokeTimedOut",
            Self::ChainedInvokeStopped { .. } => "ChainedInvokeStopped",
            Self::CallbackStarted { .. } => "CallbackStarted",
            Self::CallbackSucceeded { .. } => "CallbackSucceeded",
            Self::CallbackFailed { .. } => "CallbackFailed",
            Self::CallbackTimedOut { .. } => "CallbackTimedOut",
            Self::InvocationCompleted { .. } => "InvocationCompleted",
        }
    }

    /// The same details with payloads and errors left out (`Truncated`).
    #[must_use]
    pub fn without_data(self) -> Self {
        let payload = |_: EventPayload| EventPayload {
            payload: None,
            truncated: true,
        };
        let error = |_: EventError| EventError {
            payload: None,
            truncated: true,
        };
        match self {
            Self::ExecutionStarted {
                input,
                execution_timeout,
            } => Self::ExecutionStarted {
                input: payload(input),
                execution_timeout,
            },
            Self::ExecutionSucceeded { result } => Self::ExecutionSucceeded {
                result: payload(result),
            },
            Self::ExecutionFailed { error: e } => Self::ExecutionFailed { error: error(e) },
            Self::ExecutionTimedOut { error: e } => Self::ExecutionTimedOut { error: error(e) },
            Self::ExecutionStopped { error: e } => Self::ExecutionStopped { error: error(e) },
            Self::ContextSucceeded { result } => Self::ContextSucceeded {
                result: payload(result),
            },
            Self::ContextFailed { error: e } => Self::ContextFailed { error: error(e) },
            Self::WaitCancelled { error: e } => Self::WaitCancelled { error: error(e) },
            Self::StepSucceeded {
                result,
                retry_details,
            } => Self::StepSucceeded {
                result: payload(result),
                retry_details,
            },
            Self::StepFailed {
                error: e,
                retry_details,
            } => Self::StepFailed {
                error: error(e),
                retry_details,
            },
            Self::ChainedInvokeStarted {
                function_name,
                input,
                durable_execution_arn,
            } => Self::ChainedInvokeStarted {
                function_name,
                input: input.map(payload),
                durable_execution_arn,
            },
            Self::ChainedInvokeSucceeded { result } => Self::ChainedInvokeSucceeded {
                result: payload(result),
            },
            Self::ChainedInvokeFailed { error: e } => Self::ChainedInvokeFailed { error: error(e) },
            Self::ChainedInvokeTimedOut { error: e } => {
                Self::ChainedInvokeTimedOut { error: error(e) }
            }
            Self::ChainedInvokeStopped { error: e } => {
                Self::ChainedInvokeStopped { error: error(e) }
            }
            Self::ExecutionPaused {
                pause_request_timestamp,
                reason,
                execution_timeout_paused,
            } => Self::ExecutionPaused {
                pause_request_timestamp,
                reason: reason.map(payload),
                execution_timeout_paused,
            },
            Self::ExecutionResumed {
                resume_request_timestamp,
                reason,
            } => Self::ExecutionResumed {
                resume_request_timestamp,
                reason: reason.map(payload),
            },
            Self::CallbackSucceeded { result } => Self::CallbackSucceeded {
                result: payload(result),
            },
            Self::CallbackFailed { error: e } => Self::CallbackFailed { error: error(e) },
            Self::CallbackTimedOut { error: e } => Self::CallbackTimedOut { error: error(e) },
            Self::InvocationCompleted {
                start_timestamp,
                end_timestamp,
                request_id,
                error: e,
            } => Self::InvocationCompleted {
                start_timestamp,
                end_timestamp,
                request_id,
                error: e.map(error),
            },
            other => other,
        }
    }
}

/// One entry of an execution's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Event {
    /// The event's type (`StepSucceeded`, …).
    pub event_type: String,
    /// The operation's SDK kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// Sequential from 1 within the execution.
    pub event_id: u64,
    /// The operation the event is about.
    pub id: String,
    /// The operation's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it happened.
    pub event_timestamp: Timestamp,
    /// The operation's enclosing context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// What it records.
    #[serde(flatten)]
    pub details: EventDetails,
}

/// Rewrites every `…Timestamp` member of an API-shaped value from epoch
/// seconds to epoch milliseconds, the invocation envelope's format.
#[must_use]
pub fn to_envelope(mut value: serde_json::Value) -> serde_json::Value {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(members) => {
                for (key, member) in members.iter_mut() {
                    if key.ends_with("Timestamp")
                        && let Some(seconds) = member.as_f64()
                    {
                        #[expect(
                            clippy::cast_possible_truncation,
                            reason = "epoch milliseconds of a real moment fit an i64"
                        )]
                        let millis = (seconds * 1000.0).round() as i64;
                        *member = serde_json::Value::from(millis);
                    } else {
                        walk(member);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_epoch_seconds_on_the_wire() {
        let op = Operation::new(
            "a".to_owned(),
            OperationType::Step,
            OperationStatus::Started,
            Timestamp::from_millis(1_735_787_045_123),
        );
        let json = serde_json::to_value(&op).unwrap();
        assert_eq!(json["StartTimestamp"], serde_json::json!(1_735_787_045.123));
        assert_eq!(json["Type"], "STEP");
        assert_eq!(json["Status"], "STARTED");
        let back: Operation = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, op);
        let envelope = to_envelope(json);
        assert_eq!(
            envelope["StartTimestamp"],
            serde_json::json!(1_735_787_045_123_i64)
        );
    }

    #[test]
    fn an_event_serializes_its_type_and_details_member() {
        let event = Event {
            event_type: "StepSucceeded".to_owned(),
            sub_type: Some("Step".to_owned()),
            event_id: 3,
            id: "op".to_owned(),
            name: Some("validate".to_owned()),
            event_timestamp: Timestamp::from_millis(1_000),
            parent_id: None,
            details: EventDetails::StepSucceeded {
                result: EventPayload::of(Some("42".to_owned())),
                retry_details: RetryDetails {
                    current_attempt: 1,
                    next_attempt_delay_seconds: 0,
                },
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["EventType"], "StepSucceeded");
        assert_eq!(json["StepSucceededDetails"]["Result"]["Payload"], "42");
        assert_eq!(
            json["StepSucceededDetails"]["RetryDetails"]["CurrentAttempt"],
            1
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
        let hidden = serde_json::to_value(back.details.without_data()).unwrap();
        assert_eq!(hidden["StepSucceededDetails"]["Result"]["Truncated"], true);
    }
}
