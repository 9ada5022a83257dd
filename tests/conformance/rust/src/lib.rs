//! What every suite's binary shares.
//!
//! Each suite is one binary (`conformance-step`, …) holding one handler per
//! requirement. Lambda gives a `provided` function its `Handler` property
//! in `_HANDLER`; the binary runs the handler it names, so one build serves
//! every function of the suite's template.

use aws_durable_execution_sdk::ReplayFilterLayer;
use aws_durable_execution_sdk::builders::map_parallel::BatchResult;
use serde_json::{Value, json};
use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// The handler this process runs: the function's `Handler`.
#[must_use]
pub fn handler() -> String {
    std::env::var("_HANDLER").unwrap_or_default()
}

/// The error for a `Handler` the suite does not have.
#[must_use]
pub fn unknown(handler: &str) -> lambda_runtime::Error {
    format!("no conformance handler named '{handler}' in this binary").into()
}

/// JSON log lines on stdout (where Lambda collects them), each carrying the
/// SDK span's `executionArn` and `requestId` under `span`, with what replays
/// log left out; at the level `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` sets
/// (`info`). A binary that also watches the SDK's own events adds its layer
/// beside this one.
pub fn json_lines<S>() -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|level| EnvFilter::try_new(level.to_lowercase()).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout)
        .with_filter(level)
        .with_filter(ReplayFilterLayer::new())
}

/// Installs [`json_lines`] alone.
pub fn init_logs() {
    let _ = tracing_subscriber::registry().with(json_lines()).try_init();
}

/// A batch's `{completionReason, status, successCount, failureCount,
/// totalCount}`, as the map and parallel requirements return it.
#[must_use]
pub fn outcome<T>(batch: &BatchResult<T>) -> Value {
    json!({
        "completionReason": batch.reason.as_str(),
        "status": batch.status().as_str(),
        "successCount": batch.success_count(),
        "failureCount": batch.failure_count(),
        "totalCount": batch.total_count(),
    })
}

/// A batch's `{completionReason, successCount, failureCount, totalCount}`.
#[must_use]
pub fn counts<T>(batch: &BatchResult<T>) -> Value {
    json!({
        "completionReason": batch.reason.as_str(),
        "successCount": batch.success_count(),
        "failureCount": batch.failure_count(),
        "totalCount": batch.total_count(),
    })
}
