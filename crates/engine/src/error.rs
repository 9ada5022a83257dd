//! The API's errors: what a request is answered with, each one an error of
//! the Lambda API. Each layer below has errors of its own (the execution
//! core's [`ExecutionError`], the store's [`StoreError`], the engine's
//! [`EngineError`](crate::EngineError)); they become one of these once, at the API's edge.

use crate::execution::ExecutionError;
use crate::model::exception;
use crate::store::StoreError;

/// What went wrong, as the Lambda API names it.
///
/// Each variant is one of the API's exception types; the HTTP layer answers
/// with its status code and `X-Amzn-ErrorType`, so every client raises its
/// usual exception. The message says what is wrong and names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A parameter is missing, malformed, or not allowed in this state.
    #[error("{0}")]
    InvalidParameterValue(String),
    /// The function, execution or callback does not exist.
    #[error("{0}")]
    ResourceNotFound(String),
    /// The resource is in a state that does not allow this.
    #[error("{0}")]
    ResourceConflict(String),
    /// The callback has timed out or was already completed.
    #[error("{0}")]
    CallbackTimeout(String),
    /// An execution of that name exists with another input.
    #[error("{0}")]
    DurableExecutionAlreadyStarted(String),
    /// The request body is too large.
    #[error("{0}")]
    RequestTooLarge(String),
    /// The request body is not valid JSON.
    #[error("{0}")]
    InvalidRequestContent(String),
    /// The engine failed (its store, most likely); nothing was applied.
    #[error("{0}")]
    Service(String),
    /// The request came from where the server does not answer (another
    /// host name, another web page).
    #[error("{0}")]
    AccessDenied(String),
}

/// Results of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The API's exception type (`x-amzn-ErrorType`).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameterValue(_) => exception::INVALID_PARAMETER_VALUE,
            Self::ResourceNotFound(_) => exception::RESOURCE_NOT_FOUND,
            Self::ResourceConflict(_) => exception::RESOURCE_CONFLICT,
            Self::CallbackTimeout(_) => exception::CALLBACK_TIMEOUT,
            Self::DurableExecutionAlreadyStarted(_) => exception::ALREADY_STARTED,
            Self::RequestTooLarge(_) => exception::REQUEST_TOO_LARGE,
            Self::InvalidRequestContent(_) => exception::INVALID_REQUEST_CONTENT,
            Self::Service(_) => exception::SERVICE,
            Self::AccessDenied(_) => exception::ACCESS_DENIED,
        }
    }

    /// The HTTP status the API answers it with.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::InvalidParameterValue(_)
            | Self::CallbackTimeout(_)
            | Self::InvalidRequestContent(_) => 400,
            Self::ResourceNotFound(_) => 404,
            Self::ResourceConflict(_) | Self::DurableExecutionAlreadyStarted(_) => 409,
            Self::RequestTooLarge(_) => 413,
            Self::AccessDenied(_) => 403,
            Self::Service(_) => 500,
        }
    }

    /// Whether the fault is the caller's (`User`) or the engine's (`Service`).
    #[must_use]
    pub const fn fault(&self) -> &'static str {
        match self {
            Self::Service(_) => "Service",
            _ => "User",
        }
    }

    /// The body member the API's model gives this error's message:
    /// `message` or `Message`.
    #[must_use]
    pub const fn message_key(&self) -> &'static str {
        match self {
            Self::InvalidParameterValue(_)
            | Self::ResourceConflict(_)
            | Self::RequestTooLarge(_)
            | Self::InvalidRequestContent(_)
            | Self::AccessDenied(_) => "message",
            _ => "Message",
        }
    }

    /// `InvalidParameterValue` with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidParameterValue(message.into())
    }

    /// `ResourceNotFound` with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::ResourceNotFound(message.into())
    }

    /// The execution `arn` does not exist.
    #[must_use]
    pub fn execution_not_found(arn: &str) -> Self {
        Self::ResourceNotFound(format!("Durable execution not found: {arn}"))
    }

    /// The function `name` does not exist.
    #[must_use]
    pub fn function_not_found(name: &str) -> Self {
        ExecutionError::FunctionNotFound(name.to_owned()).into()
    }

    /// A durable execution asked of the plain function `name`.
    #[must_use]
    pub fn not_durable(name: &str) -> Self {
        Self::invalid(format!("Function {name} is not a durable function."))
    }

    /// The engine is shutting down: nothing new starts.
    #[must_use]
    pub fn shutting_down() -> Self {
        Self::Service("the engine is shutting down; retry the request".to_owned())
    }

    /// A durable function invoked without a version or alias.
    #[must_use]
    pub fn unqualified_durable() -> Self {
        Self::invalid("You cannot invoke a durable function using an unqualified ARN.")
    }

    /// A payload that is not JSON.
    #[must_use]
    pub fn payload_not_json() -> Self {
        Self::InvalidRequestContent(
            "Could not parse request body into json: the payload is not valid JSON.".to_owned(),
        )
    }

    /// A payload larger than `limit` bytes.
    #[must_use]
    pub fn payload_too_large(limit: usize, what: &str) -> Self {
        Self::RequestTooLarge(format!("Request must be smaller than {limit} bytes {what}"))
    }
}

impl From<ExecutionError> for Error {
    fn from(error: ExecutionError) -> Self {
        let message = error.to_string();
        match error {
            ExecutionError::Invalid(_) | ExecutionError::StaleToken(_) => {
                Self::InvalidParameterValue(message)
            }
            ExecutionError::CallbackClosed => Self::CallbackTimeout(message),
            ExecutionError::Conflict(_) => Self::ResourceConflict(message),
            ExecutionError::FunctionNotFound(_) => Self::ResourceNotFound(message),
        }
    }
}

impl From<StoreError> for Error {
    /// The store failed: nothing was applied.
    fn from(error: StoreError) -> Self {
        Self::Service(error.to_string())
    }
}
