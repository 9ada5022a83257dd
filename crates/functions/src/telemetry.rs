//! Logs: JSON lines through `tracing`, replayed records suppressed.
//!
//! Each record carries its message, its own fields (`orderId`,
//! `operation`, …) and the fields of the SDK's span it was emitted in:
//! `executionArn` and `requestId`, plus `operationId` and `attempt` inside
//! a step. When an execution resumes, the handler runs again from the top;
//! the SDK's [`ReplayFilterLayer`] drops what that replay logs, so each
//! line appears once per order, not once per invocation.

use aws_durable_execution_sdk::ReplayFilterLayer;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// The JSON-lines layer, writing to `writer`, with replays filtered out.
pub fn json_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer)
        .with_filter(ReplayFilterLayer::new())
}

/// Installs JSON-lines logging on stdout (where Lambda collects it), at the
/// level `RUST_LOG` sets (`info` by default).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A subscriber may already be installed (by a test harness): keep it.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(json_layer(std::io::stdout))
        .try_init();
}
