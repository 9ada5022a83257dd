//! Operations: what the engine stores of each durable unit, and the
//! updates a checkpoint makes to them.

use serde::{Deserialize, Serialize};

use super::{
    EpochMillis, ErrorObject, OperationAction, OperationStatus, OperationType, Sent, Timestamp,
};

/// How an operation ended: its result or its error. The `*Details` of
/// contexts, steps, callbacks and chained invokes all carry one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Outcome {
    /// Its result, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Its error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

impl Outcome {
    /// The outcome's size for paging: its payload and error, in bytes.
    #[must_use]
    pub fn size(&self) -> usize {
        let text = |value: &Option<String>| value.as_ref().map_or(0, String::len);
        text(&self.result)
            + self.error.as_ref().map_or(0, |error| {
                text(&error.error_message) + text(&error.error_type) + text(&error.error_data)
            })
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
    /// Its result or error.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A step's details; `T` is how its moment is written (see [`Operation`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepDetails<T = Timestamp> {
    /// Retries completed so far.
    #[serde(default)]
    pub attempt: u32,
    /// When the next attempt is due (while `PENDING`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_timestamp: Option<T>,
    /// Its result or (last) error.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A wait's details; `T` is how its moment is written (see [`Operation`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitDetails<T = Timestamp> {
    /// When the wait ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_end_timestamp: Option<T>,
}

/// A callback's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackDetails {
    /// The id an external system completes it with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// What it was completed, failed or timed out with.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A chained invoke's details: the invoked function's result or error.
pub type ChainedInvokeDetails = Outcome;

/// One operation of an execution, as stored and as the API returns it.
///
/// `T` is how its moments are written: [`Timestamp`] (epoch seconds) in the
/// API and the store, [`EpochMillis`] in the invocation envelope
/// ([`Operation::in_envelope`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Operation<T = Timestamp> {
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
    pub start_timestamp: T,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<T>,
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
    pub step_details: Option<StepDetails<T>>,
    /// For waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_details: Option<WaitDetails<T>>,
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

    /// The operation as the invocation envelope carries it: its moments in
    /// epoch milliseconds.
    #[must_use]
    pub fn in_envelope(&self) -> Operation<EpochMillis> {
        Operation {
            id: self.id.clone(),
            parent_id: self.parent_id.clone(),
            name: self.name.clone(),
            kind: self.kind,
            sub_type: self.sub_type.clone(),
            start_timestamp: self.start_timestamp.into(),
            end_timestamp: self.end_timestamp.map(Into::into),
            status: self.status,
            execution_details: self.execution_details.clone(),
            context_details: self.context_details.clone(),
            step_details: self.step_details.as_ref().map(|details| StepDetails {
                attempt: details.attempt,
                next_attempt_timestamp: details.next_attempt_timestamp.map(Into::into),
                outcome: details.outcome.clone(),
            }),
            wait_details: self.wait_details.as_ref().map(|details| WaitDetails {
                scheduled_end_timestamp: details.scheduled_end_timestamp.map(Into::into),
            }),
            callback_details: self.callback_details.clone(),
            chained_invoke_details: self.chained_invoke_details.clone(),
        }
    }

    /// The operation's size for paging: its payloads and errors, in bytes.
    #[must_use]
    pub fn payload_size(&self) -> usize {
        let text = |value: Option<&String>| value.map_or(0, String::len);
        let input = self
            .execution_details
            .as_ref()
            .and_then(|details| details.input_payload.as_ref());
        let outcomes = [
            self.context_details
                .as_ref()
                .map(|details| &details.outcome),
            self.step_details.as_ref().map(|details| &details.outcome),
            self.callback_details
                .as_ref()
                .map(|details| &details.outcome),
            self.chained_invoke_details.as_ref(),
        ];
        64 + text(self.name.as_ref())
            + text(input)
            + outcomes
                .into_iter()
                .flatten()
                .map(Outcome::size)
                .sum::<usize>()
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
/// `Type` and `Action` are read into their enums, an unknown spelling kept
/// ([`Sent::Unknown`]), so that it is answered with the service's message
/// rather than a parse error.
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
    pub kind: Sent<OperationType>,
    /// Its SDK kind.
    #[serde(default)]
    pub sub_type: Option<String>,
    /// What to do, as sent.
    #[serde(default)]
    pub action: Sent<OperationAction>,
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
