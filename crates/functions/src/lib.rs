//! The five Lambda functions of the order system.
//!
//! - [`ParallelProcessor`]: the durable orchestrator. It validates an order,
//!   sums it, calls the four workers in parallel (each branch in its own
//!   child context), judges their answers, totals the order, waits one
//!   second durably and confirms it. Every step is checkpointed.
//! - [`InventoryCheck`], [`PaymentValidation`], [`ShippingCalculation`],
//!   [`TaxCalculation`]: plain functions applying the domain's rules, with a
//!   configurable simulated latency.
//!
//! The same handlers run on AWS Lambda (the binaries under `src/bin`) and
//! in process on the local engine. The orchestrator reaches its workers
//! through a [`WorkerClient`]; on Lambda and on the engine that is
//! [`LambdaWorkerClient`], the Lambda Invoke API.

mod invoke;
mod processor;
pub mod settings;
pub mod telemetry;
mod workers;

pub use self::invoke::{InvokeFailure, LambdaWorkerClient, WorkerClient, WorkerFunctions};
pub use self::processor::{
    DurableService, FINALIZE_DELAY, ParallelProcessor, ProcessorOptions, RetryPolicy,
};
pub use self::workers::{
    CATALOG_VARIABLE, InventoryCheck, LATENCY_VARIABLE, PaymentValidation, ShippingCalculation,
    TaxCalculation, WorkerFunction, default_latency, serve_worker,
};
