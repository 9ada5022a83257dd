//! History events: one entry per thing that happened to an operation.

use serde::{Deserialize, Serialize};

use super::{ErrorObject, Timestamp};

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
    /// Seconds until the next attempt; absent when the step has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_delay_seconds: Option<i64>,
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
        tenant_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<EventPayload>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        executed_version: Option<String>,
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
    pub fn without_data(mut self) -> Self {
        let hide = |payload: &mut EventPayload| {
            payload.payload = None;
            payload.truncated = true;
        };
        match &mut self {
            Self::ExecutionStarted { input: payload, .. }
            | Self::ExecutionSucceeded { result: payload }
            | Self::ContextSucceeded { result: payload }
            | Self::StepSucceeded {
                result: payload, ..
            }
            | Self::ChainedInvokeStarted {
                input: Some(payload),
                ..
            }
            | Self::ChainedInvokeSucceeded { result: payload }
            | Self::CallbackSucceeded { result: payload }
            | Self::ExecutionPaused {
                reason: Some(payload),
                ..
            }
            | Self::ExecutionResumed {
                reason: Some(payload),
                ..
            } => hide(payload),
            Self::ExecutionFailed { error }
            | Self::ExecutionTimedOut { error }
            | Self::ExecutionStopped { error }
            | Self::ContextFailed { error }
            | Self::WaitCancelled { error }
            | Self::StepFailed { error, .. }
            | Self::ChainedInvokeFailed { error }
            | Self::ChainedInvokeTimedOut { error }
            | Self::ChainedInvokeStopped { error }
            | Self::CallbackFailed { error }
            | Self::CallbackTimedOut { error }
            | Self::InvocationCompleted {
                error: Some(error), ..
            } => {
                error.payload = None;
                error.truncated = true;
            }
            _ => {}
        }
        self
    }
}

/// One entry of an execution's history.
///
/// An event about an operation names it (`Id`, `Name`, `SubType`,
/// `ParentId`); an `InvocationCompleted` event is about no operation and
/// names none, as the service writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", from = "StoredEvent")]
pub struct Event {
    /// The event's type (`StepSucceeded`, …).
    pub event_type: String,
    /// The operation's SDK kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// Sequential from 1 within the execution.
    pub event_id: u64,
    /// The operation the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
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

/// An event as stored, by this engine or an earlier one: earlier ones named
/// the execution's operation on `InvocationCompleted` events.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StoredEvent {
    event_type: String,
    sub_type: Option<String>,
    event_id: u64,
    id: Option<String>,
    name: Option<String>,
    event_timestamp: Timestamp,
    parent_id: Option<String>,
    #[serde(flatten)]
    details: EventDetails,
}

impl From<StoredEvent> for Event {
    fn from(stored: StoredEvent) -> Self {
        let of_operation = !matches!(stored.details, EventDetails::InvocationCompleted { .. });
        let keep = |field: Option<String>| field.filter(|_| of_operation);
        Self {
            event_type: stored.event_type,
            sub_type: keep(stored.sub_type),
            event_id: stored.event_id,
            id: keep(stored.id),
            name: keep(stored.name),
            event_timestamp: stored.event_timestamp,
            parent_id: keep(stored.parent_id),
            details: stored.details,
        }
    }
}
