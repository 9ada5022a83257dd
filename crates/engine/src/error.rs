//! The engine's errors, each one an error of the Lambda API.

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
}

/// Results of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The API's exception type (`x-amzn-ErrorType`).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameterValue(_) => "InvalidParameterValueException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceConflict(_) => "ResourceConflictException",
            Self::CallbackTimeout(_) => "CallbackTimeoutException",
            Self::DurableExecutionAlreadyStarted(_) => "DurableExecutionAlreadyStartedException",
            Self::RequestTooLarge(_) => "RequestTooLargeException",
            Self::InvalidRequestContent(_) => "InvalidRequestContentException",
            Self::Service(_) => "ServiceException",
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
            | Self::InvalidRequestContent(_) => "message",
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
}
