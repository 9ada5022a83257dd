//! What goes wrong in the engine, with its cause kept: the execution
//! core's refusals, the store's failures, and the engine's own.

use crate::error::Error;
use crate::execution::ExecutionError;
use crate::model::ExecutionStatus;
use crate::store::StoreError;

/// Why the engine could not do what it was asked. The API answers each
/// with one of its errors ([`EngineError::into_api`]), once, at its edge.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The service's rules refuse the request.
    #[error(transparent)]
    Execution(#[from] ExecutionError),
    /// The store failed; nothing was applied.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The execution does not exist.
    #[error("Durable execution not found: {0}")]
    ExecutionNotFound(String),
    /// The execution is over: nothing about it can change.
    #[error("The durable execution {arn} is {status}.")]
    Over {
        /// The execution.
        arn: String,
        /// How it ended.
        status: ExecutionStatus,
    },
    /// The engine is shutting down: nothing new starts.
    #[error("the engine is shutting down; retry the request")]
    ShuttingDown,
    /// The execution's task ended before it answered (it panicked, or the
    /// store refused its write); the execution carries on from the store.
    #[error("the execution's task has stopped; retry the request")]
    TaskGone,
    /// A request refused before it reaches an execution (an unknown or
    /// plain function, a bad name or payload, a name in use): the API's
    /// answer, as is.
    #[error(transparent)]
    Refused(#[from] Error),
}

/// Results of the engine.
pub(crate) type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// The API's answer to this error.
    #[must_use]
    pub fn into_api(self) -> Error {
        let message = self.to_string();
        match self {
            Self::Execution(error) => error.into(),
            Self::Store(error) => error.into(),
            Self::ExecutionNotFound(_) => Error::ResourceNotFound(message),
            Self::Over { .. } => Error::ResourceConflict(message),
            Self::ShuttingDown | Self::TaskGone => Error::Service(message),
            Self::Refused(error) => error,
        }
    }
}

impl From<EngineError> for Error {
    fn from(error: EngineError) -> Self {
        error.into_api()
    }
}
