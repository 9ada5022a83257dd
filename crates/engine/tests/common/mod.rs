//! What the engine's tests share: the engine's own test support, an
//! engine over an in-memory store on tokio's paused clock, and durable
//! functions more than one test file runs.
#![allow(dead_code, unused_imports, reason = "each test file uses part of it")]
#![allow(clippy::panic, reason = "test support")]

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use aws_durable_execution_sdk::{BoxError, DurableContext};
use durable_engine::functions::DurableConfig;
use durable_engine::model::{Operation, OperationType};
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

/// Registers `handler` as the durable function `function`, handing each of
/// its runs a counter the test reads back; returns that counter.
pub(crate) fn counting<O, F, Fut>(engine: &Engine, function: &str, handler: F) -> Arc<AtomicU32>
where
    O: serde::Serialize + Send + 'static,
    F: Fn(Arc<AtomicU32>, serde_json::Value, DurableContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, BoxError>> + Send + 'static,
{
    counting_with(engine, function, config(), handler)
}

/// As [`counting`], with the durable configuration `durable_config`.
pub(crate) fn counting_with<O, F, Fut>(
    engine: &Engine,
    function: &str,
    durable_config: DurableConfig,
    handler: F,
) -> Arc<AtomicU32>
where
    O: serde::Serialize + Send + 'static,
    F: Fn(Arc<AtomicU32>, serde_json::Value, DurableContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, BoxError>> + Send + 'static,
{
    let count = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&count);
    durable(engine, function, durable_config, move |input, ctx| {
        handler(Arc::clone(&counter), input, ctx)
    });
    count
}

/// Registers `function`, which waits `nap` and answers with its input.
pub(crate) fn sleeper(
    engine: &Engine,
    function: &str,
    durable_config: DurableConfig,
    nap: Duration,
) {
    durable(
        engine,
        function,
        durable_config,
        move |input: serde_json::Value, ctx: DurableContext| async move {
            ctx.wait(nap).name("nap").await?;
            Ok(input)
        },
    );
}

/// Registers `Child`, which waits `think` (a wait named `think`) and then
/// answers `answer(input)` from a step, and `Parent`, which invokes
/// `Child:$LATEST` with its input and answers with the child's answer plus
/// one.
pub(crate) fn parent_and_child(engine: &Engine, think: Duration, answer: fn(u32) -> u32) {
    durable(
        engine,
        "Child",
        config(),
        move |n: u32, ctx: DurableContext| async move {
            ctx.wait(think).name("think").await?;
            let answered = ctx
                .step(move |_| async move { Ok(answer(n)) })
                .name("answer")
                .await?;
            Ok(answered)
        },
    );
    durable(
        engine,
        "Parent",
        config(),
        |n: u32, ctx: DurableContext| async move {
            let answered: u32 = ctx
                .invoke::<u32, u32>("Child:$LATEST", n)
                .name("delegate")
                .await?;
            Ok(answered + 1)
        },
    );
}

/// Registers `function` as a [`callback_function`] with `timeout` and
/// `heartbeat`, starts it and waits for its callback. Returns the
/// execution's ARN and the callback's id.
pub(crate) async fn start_callback(
    engine: &Engine,
    function: &str,
    timeout: Option<Duration>,
    heartbeat: Option<Duration>,
) -> (String, String) {
    let ids = callback_function(engine, function, timeout, heartbeat);
    let arn = start(engine, function, "{}").await;
    (arn, callback_id(ids).await)
}

/// The first operation of `kind` in the execution `arn`.
pub(crate) async fn operation(engine: &Engine, arn: &str, kind: OperationType) -> Operation {
    engine
        .operations(arn)
        .await
        .unwrap_or_else(|error| panic!("the operations of {arn}: {error}"))
        .into_iter()
        .find(|op| op.kind == kind)
        .unwrap_or_else(|| panic!("{arn} has a {kind:?} operation"))
}

/// The first `event_type` event in the history of the execution `arn`, as
/// the API shows it.
pub(crate) async fn event_json(engine: &Engine, arn: &str, event_type: &str) -> serde_json::Value {
    let history = engine
        .history(arn, None, None, false, true)
        .await
        .unwrap_or_else(|error| panic!("the history of {arn}: {error}"));
    let event = history
        .events
        .iter()
        .find(|event| event.event_type == event_type)
        .unwrap_or_else(|| panic!("{arn} has a {event_type} event"));
    serde_json::to_value(event).unwrap_or_else(|error| panic!("{event_type} as JSON: {error}"))
}

/// Where each of `wanted` first appears in `types`.
pub(crate) fn positions<const N: usize>(types: &[String], wanted: [&str; N]) -> [usize; N] {
    wanted.map(|kind| {
        types
            .iter()
            .position(|seen| seen == kind)
            .unwrap_or_else(|| panic!("no {kind} in {types:?}"))
    })
}

/// A running execution's record, not yet in any store.
pub(crate) fn running_record() -> ExecutionRecord {
    let function_arn = "arn:aws:lambda:us-east-1:000000000000:function:F:1".to_owned();
    ExecutionRecord {
        arn: durable_engine::arn::execution_arn(&function_arn, "n", "id"),
        function_name: "F".to_owned(),
        function_arn,
        version: "1".to_owned(),
        name: "n".to_owned(),
        status: durable_engine::model::ExecutionStatus::Running,
        input: "{}".to_owned(),
        result: None,
        error: None,
        start: durable_engine::model::Timestamp::from_millis(1_000),
        end: None,
        timeout_seconds: 60,
        retention_days: 1,
        parent: None,
        invocations: 0,
        pause: None,
        paused_millis: 0,
        control_tokens: Vec::new(),
        owed_since: None,
        invoking_since: None,
        failed_invocations: 0,
        retry_at: None,
        due: None,
    }
}
