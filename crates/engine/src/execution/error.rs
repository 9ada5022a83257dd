//! What the service's rules refuse, as the execution core says it.

use crate::model::{ErrorObject, exception};

/// Why the rules refuse a request about an execution. The API answers each
/// with the exception its variant names; recorded in a history, it is an
/// [`ErrorObject`] of the same type and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    /// The request breaks a rule (a bad update, option, marker or token
    /// reuse): `InvalidParameterValueException`.
    #[error("{0}")]
    Invalid(String),
    /// The checkpoint token is not (or no longer) the current one. The
    /// message starts with [`INVALID_TOKEN`], which the SDKs recognise.
    #[error("{INVALID_TOKEN}: {0}")]
    StaleToken(String),
    /// The callback timed out, was completed, or never was.
    #[error(
        "The callback ID token has either expired or the callback associated with the token has already been closed."
    )]
    CallbackClosed,
    /// The execution is in a state that does not allow it:
    /// `ResourceConflictException`.
    #[error("{0}")]
    Conflict(String),
    /// A chained invoke names no function the engine runs.
    #[error("Function not found: {0}")]
    FunctionNotFound(String),
}

/// The message that starts every rejection of a checkpoint token; the SDKs
/// recognise it and retry the invocation instead of failing the execution.
pub const INVALID_TOKEN: &str = "Invalid Checkpoint Token";

impl ExecutionError {
    /// `Invalid` with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// The service's exception type for it.
    #[must_use]
    pub const fn exception(&self) -> &'static str {
        match self {
            Self::Invalid(_) | Self::StaleToken(_) => exception::INVALID_PARAMETER_VALUE,
            Self::CallbackClosed => exception::CALLBACK_TIMEOUT,
            Self::Conflict(_) => exception::RESOURCE_CONFLICT,
            Self::FunctionNotFound(_) => exception::RESOURCE_NOT_FOUND,
        }
    }

    /// The error as an execution's history records it.
    #[must_use]
    pub fn error_object(&self) -> ErrorObject {
        ErrorObject::new(self.exception(), self.to_string())
    }
}

/// Results of the execution core.
pub(super) type Result<T, E = ExecutionError> = std::result::Result<T, E>;
