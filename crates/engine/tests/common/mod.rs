//! What the engine's tests share: the engine's own test support, and an
//! engine over an in-memory store on tokio's paused clock.
#![allow(dead_code, unused_imports, reason = "each test file uses part of it")]
#![allow(clippy::panic, reason = "test support")]

pub(crate) use durable_engine::testing::{
    callback_function, callback_id, config, count, durable, event_types, finished,
    until_invocations_ended, until_status,
};
use durable_engine::{Engine, execution::ExecutionRecord};

/// An engine over a fresh in-memory store, in real durations: run the test
/// with `#[tokio::test(start_paused = true)]` and they take no time.
pub(crate) fn engine() -> Engine {
    durable_engine::testing::TestEngine::new().build()
}

/// Starts `function` with `input` and returns the execution's ARN.
pub(crate) async fn start(engine: &Engine, function: &str, input: &str) -> String {
    durable_engine::testing::start(engine, function, input)
        .await
        .unwrap_or_else(|error| panic!("{function} starts: {error}"))
}

/// Starts `function` with `input` and waits for it to end.
pub(crate) async fn run(engine: &Engine, function: &str, input: &str) -> ExecutionRecord {
    let arn = start(engine, function, input).await;
    finished(engine, &arn).await
}
