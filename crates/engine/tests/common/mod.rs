//! What the engine's tests share: an engine over an in-memory store, and
//! durable functions written with the SDK, registered in process.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support; each test file uses part of it"
)]

use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use durable_engine::execution::ExecutionRecord;
use durable_engine::functions::{DurableConfig, Function, FunctionConfig, in_process};
use durable_engine::store::SqliteStore;
use durable_engine::{Engine, EngineOptions, StartRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An engine over a fresh in-memory store; waits run 100× faster.
pub(crate) fn engine() -> Engine {
    engine_with(EngineOptions {
        time_scale: 0.01,
        invocation_retry_delay: Duration::from_millis(100),
        ..EngineOptions::default()
    })
}

pub(crate) fn engine_with(options: EngineOptions) -> Engine {
    Engine::new(options, Arc::new(SqliteStore::in_memory().unwrap()))
}

/// Registers `handler` as the durable function `name`, checkpointing to
/// `engine` through the in-process Lambda client.
pub(crate) fn durable<E, O, F, Fut>(engine: &Engine, name: &str, config: DurableConfig, handler: F)
where
    E: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(E, durable::DurableContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, durable::BoxError>> + Send + 'static,
{
    let options = durable::Options::builder()
        .lambda_client(durable_engine::transport::lambda_client(engine))
        .build()
        .unwrap();
    let service = Arc::new(durable::wrap(handler, options));
    engine.register(Function::new(
        FunctionConfig::durable(name, config).with_alias("live"),
        in_process(
            move |event: lambda_runtime::LambdaEvent<durable::InvocationPayload>| {
                let service = Arc::clone(&service);
                async move { service(event).await }
            },
        ),
    ));
}

/// A durable configuration with a 60 s execution timeout.
pub(crate) fn config() -> DurableConfig {
    DurableConfig {
        execution_timeout: 60,
        retention_days: 1,
    }
}

/// Starts `function` with `input` and returns the execution's ARN.
pub(crate) async fn start(engine: &Engine, function: &str, input: &str) -> String {
    engine
        .start(StartRequest {
            function: function.to_owned(),
            qualifier: Some("$LATEST".to_owned()),
            name: None,
            input: input.as_bytes().to_vec(),
        })
        .await
        .unwrap()
        .arn
}

/// Waits (at most 20 s) for `arn` to end.
pub(crate) async fn finished(engine: &Engine, arn: &str) -> ExecutionRecord {
    tokio::time::timeout(Duration::from_secs(20), engine.wait(arn))
        .await
        .expect("the execution ends within 20 s")
        .unwrap()
}

/// Starts `function` with `input` and waits for it to end.
pub(crate) async fn run(engine: &Engine, function: &str, input: &str) -> ExecutionRecord {
    let arn = start(engine, function, input).await;
    finished(engine, &arn).await
}

/// The event types of `arn`'s history, in order.
pub(crate) async fn event_types(engine: &Engine, arn: &str) -> Vec<String> {
    engine
        .history(arn, None, Some(1000), false, true)
        .await
        .unwrap()
        .events
        .into_iter()
        .map(|event| event.event_type)
        .collect()
}

/// How many times `event_type` occurs in `arn`'s history.
pub(crate) async fn count(engine: &Engine, arn: &str, event_type: &str) -> usize {
    event_types(engine, arn)
        .await
        .iter()
        .filter(|t| *t == event_type)
        .count()
}

/// Registers a function that creates a callback, publishes its id, and
/// returns what the callback delivers.
pub(crate) fn callback_function(
    engine: &Engine,
    name: &str,
    timeout: Option<Duration>,
    heartbeat: Option<Duration>,
) -> tokio::sync::watch::Receiver<Option<String>> {
    let (sender, receiver) = tokio::sync::watch::channel(None);
    let sender = Arc::new(sender);
    durable(
        engine,
        name,
        config(),
        move |_: serde_json::Value, ctx: durable::DurableContext| {
            let sender = Arc::clone(&sender);
            async move {
                let mut builder = ctx.create_callback::<String>().name("approval");
                if let Some(timeout) = timeout {
                    builder = builder.timeout(timeout);
                }
                if let Some(heartbeat) = heartbeat {
                    builder = builder.heartbeat(heartbeat);
                }
                let callback = builder.await?;
                sender.send_replace(Some(callback.id().to_owned()));
                let approval = callback.result().await?;
                Ok(format!("approved by {approval}"))
            }
        },
    );
    receiver
}

pub(crate) async fn callback_id(mut ids: tokio::sync::watch::Receiver<Option<String>>) -> String {
    tokio::time::timeout(Duration::from_secs(10), ids.wait_for(Option::is_some))
        .await
        .unwrap()
        .unwrap()
        .clone()
        .unwrap()
}
