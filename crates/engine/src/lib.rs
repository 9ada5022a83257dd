//! A local AWS Lambda durable-execution service.
//!
//! It does on one machine what the Lambda service does for durable
//! functions: stores each execution's operations and history
//! ([`store`]), applies the SDK's checkpoints by the service's rules
//! ([`execution`]), invokes the function again when a wait ends, a retry is
//! due, a callback arrives or a chained invoke returns ([`Engine`]), and
//! speaks the Lambda REST-JSON API ([`api`]) so that the AWS SDKs, boto3 and
//! the `aws` CLI work against it unchanged. It knows nothing of what the
//! functions do.

pub mod api;
pub mod arn;
pub mod clock;
mod engine;
mod error;
pub mod execution;
pub mod explorer;
pub mod functions;
pub mod limits;
pub mod logs;
pub mod model;
pub mod process;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

pub use self::clock::Clock;
pub use self::engine::{
    Engine, EngineError, EngineOptions, EngineStats, ExecutionPage, HistoryPage, LogPage, Progress,
    StartRequest, Started, WeakEngine,
};
pub use self::error::{Error, Result};
pub use self::execution::{ExecutionError, INVALID_TOKEN};
pub use self::store::StoreError;
