//! The service's data, in the Lambda API's wire shapes.
//!
//! Field names, enum spellings and nesting are those of the Lambda REST-JSON
//! model (`Operation`, `OperationUpdate`, `ErrorObject`, `Event`), so a value
//! serializes straight into an API response. Timestamps serialize as epoch
//! seconds, the API's format; in the invocation envelope
//! ([`InvocationInput`]) they are [`EpochMillis`], as the SDKs read them
//! there.
//!
//! - this module: [`Timestamp`], the enums, [`ErrorObject`];
//! - `operation`: [`Operation`] with its `*Details`, and [`OperationUpdate`];
//! - `event`: history [`Event`]s and their [`EventDetails`];
//! - `output`: what the API answers with ([`CheckpointOutput`],
//!   [`StatePage`], [`ExecutionSummary`], [`ExecutionDescription`]).

mod event;
mod operation;
mod output;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use self::event::{Event, EventDetails, EventError, EventPayload, RetryDetails};
pub use self::operation::{
    CallbackDetails, CallbackOptions, ChainedInvokeDetails, ChainedInvokeOptions, ContextDetails,
    ContextOptions, ExecutionDetails, Operation, OperationUpdate, Outcome, StepDetails,
    StepOptions, WaitDetails, WaitOptions,
};
pub use self::output::{
    CheckpointOutput, DurableConfigShape, ExecutionDescription, ExecutionSummary,
    InitialExecutionState, InvocationInput, PauseDetails, StatePage,
};

/// The API's exception types, each spelled once: what the API answers
/// with (`x-amzn-ErrorType`) and what histories record as an error's type.
pub mod exception {
    /// A parameter is missing, malformed, or not allowed in this state.
    pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValueException";
    /// The function, execution or callback does not exist.
    pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";
    /// The resource is in a state that does not allow the request.
    pub const RESOURCE_CONFLICT: &str = "ResourceConflictException";
    /// The callback timed out or was already completed.
    pub const CALLBACK_TIMEOUT: &str = "CallbackTimeoutException";
    /// An execution of that name exists with another input.
    pub const ALREADY_STARTED: &str = "DurableExecutionAlreadyStartedException";
    /// The request body is too large.
    pub const REQUEST_TOO_LARGE: &str = "RequestTooLargeException";
    /// The request body is not valid JSON.
    pub const INVALID_REQUEST_CONTENT: &str = "InvalidRequestContentException";
    /// The service failed.
    pub const SERVICE: &str = "ServiceException";
    /// The request came from where the server does not answer.
    pub const ACCESS_DENIED: &str = "AccessDeniedException";
}

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

    /// This moment plus `millis`.
    #[must_use]
    pub const fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// The moment in RFC 3339, to the millisecond, in UTC
    /// (`2026-11-30T15:00:00.000Z`).
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        const MILLISECONDS: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
            .format(MILLISECONDS)
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

/// A moment as the invocation envelope writes it: a JSON integer of epoch
/// milliseconds (`1735787045123`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct EpochMillis(i64);

impl From<Timestamp> for EpochMillis {
    fn from(moment: Timestamp) -> Self {
        Self(moment.millis())
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

        impl WireEnum for $name {
            fn parse(text: &str) -> Option<Self> {
                Self::parse(text)
            }

            fn as_str(self) -> &'static str {
                self.as_str()
            }
        }
    };
}

/// One of the API's enums: a closed set of wire spellings.
pub trait WireEnum: Copy {
    /// The value with this wire spelling.
    fn parse(text: &str) -> Option<Self>;
    /// The value's wire spelling.
    fn as_str(self) -> &'static str;
}

/// A value of one of the API's enums as a request sent it: one the API
/// knows, or another spelling, kept so that the rules can refuse it with
/// the service's own message rather than a parse error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sent<T> {
    /// A value the API knows.
    Known(T),
    /// Anything else (empty when the member was absent).
    Unknown(String),
}

impl<T: WireEnum> Sent<T> {
    /// What `text` spells.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        T::parse(text).map_or_else(|| Self::Unknown(text.to_owned()), Self::Known)
    }

    /// The value, when the API knows it.
    #[must_use]
    pub fn known(&self) -> Option<T> {
        match self {
            Self::Known(value) => Some(*value),
            Self::Unknown(_) => None,
        }
    }

    /// Whether it is `value`.
    #[must_use]
    pub fn is(&self, value: T) -> bool
    where
        T: PartialEq,
    {
        self.known() == Some(value)
    }

    /// As it was sent.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Known(value) => value.as_str(),
            Self::Unknown(text) => text,
        }
    }
}

impl<T> Default for Sent<T> {
    fn default() -> Self {
        Self::Unknown(String::new())
    }
}

impl<T> From<T> for Sent<T> {
    fn from(value: T) -> Self {
        Self::Known(value)
    }
}

impl<T: WireEnum> fmt::Display for Sent<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<T: WireEnum> Serialize for Sent<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de, T: WireEnum> Deserialize<'de> for Sent<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::from_text(&text))
    }
}

wire_enum! {
    /// What kind of operation.
    OperationType {
        /// The execution itself.
        Execution = "EXECUTION",
        /// A child context (`run_in_child_context`, parallel, map, branches).
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
    /// The status in `PascalCase` (`TimedOut`), as error types spell it.
    #[must_use]
    pub const fn pascal_case(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::TimedOut => "TimedOut",
            Self::Stopped => "Stopped",
            Self::Pausing => "Pausing",
            Self::Paused => "Paused",
        }
    }

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
        let back: Operation = serde_json::from_value(json).unwrap();
        assert_eq!(back, op);
        let envelope = serde_json::to_value(op.in_envelope()).unwrap();
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
            id: Some("op".to_owned()),
            name: Some("validate".to_owned()),
            event_timestamp: Timestamp::from_millis(1_000),
            parent_id: None,
            details: EventDetails::StepSucceeded {
                result: EventPayload::of(Some("42".to_owned())),
                retry_details: RetryDetails {
                    current_attempt: 1,
                    next_attempt_delay_seconds: None,
                },
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["EventType"], "StepSucceeded");
        assert_eq!(json["StepSucceededDetails"]["Result"]["Payload"], "42");
        assert_eq!(
            json["StepSucceededDetails"]["RetryDetails"],
            serde_json::json!({ "CurrentAttempt": 1 }),
            "an ended step has no next attempt"
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
        let hidden = serde_json::to_value(back.details.without_data()).unwrap();
        assert_eq!(hidden["StepSucceededDetails"]["Result"]["Truncated"], true);
    }

    #[test]
    fn an_invocation_completed_event_stored_naming_the_execution_is_read_naming_nothing() {
        let stored = serde_json::json!({
            "EventType": "InvocationCompleted",
            "EventId": 3,
            "Id": "execution-op",
            "Name": "my-execution",
            "EventTimestamp": 1.5,
            "InvocationCompletedDetails": {
                "StartTimestamp": 1.0,
                "EndTimestamp": 1.5,
                "RequestId": "r"
            }
        });
        let event: Event = serde_json::from_value(stored).unwrap();
        assert_eq!((event.id, event.name), (None, None));
        let step = serde_json::json!({
            "EventType": "StepStarted",
            "EventId": 2,
            "Id": "op",
            "Name": "validate",
            "EventTimestamp": 1.0,
            "StepStartedDetails": {}
        });
        let event: Event = serde_json::from_value(step).unwrap();
        assert_eq!(event.id.as_deref(), Some("op"));
    }
}
