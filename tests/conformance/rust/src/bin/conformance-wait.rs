//! The wait suite's handlers (requirements 2-1 to 2-5).

use std::time::Duration;

use aws_durable_execution_sdk::{self as durable, BoxError, DurableContext};
use serde::Serialize;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "wait_basic" => durable::run(wait_basic).await,
        "wait_with_name" => durable::run(wait_with_name).await,
        "wait_sequential" => durable::run(wait_sequential).await,
        "wait_minutes" => durable::run(wait_minutes).await,
        "wait_hours" => durable::run(wait_hours).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// 2-1: one 2 s wait; the execution resumes and succeeds when it has elapsed.
async fn wait_basic(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    ctx.wait(Duration::from_secs(2)).await?;
    Ok("wait completed".to_owned())
}

/// 2-2: one 2 s wait named `custom_wait_name`.
async fn wait_with_name(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    ctx.wait(Duration::from_secs(2))
        .name("custom_wait_name")
        .await?;
    Ok("wait completed".to_owned())
}

/// 2-3's result: how many waits completed.
#[derive(Debug, Serialize)]
struct Completed {
    #[serde(rename = "completedWaits")]
    completed_waits: u32,
}

/// 2-3: two sequential 2 s waits, `wait-1` then `wait-2`, each suspending
/// the execution.
async fn wait_sequential(_event: Value, ctx: DurableContext) -> Result<Completed, BoxError> {
    ctx.wait(Duration::from_secs(2)).name("wait-1").await?;
    ctx.wait(Duration::from_secs(2)).name("wait-2").await?;
    Ok(Completed { completed_waits: 2 })
}

/// 2-4: a wait given in minutes (1 minute), checkpointed as 60 seconds.
async fn wait_minutes(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    ctx.wait(Duration::from_mins(1)).await?;
    Ok("wait completed".to_owned())
}

/// 2-5: a wait given in hours (1 hour), checkpointed as 3600 seconds.
async fn wait_hours(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    ctx.wait(Duration::from_hours(1)).await?;
    Ok("wait completed".to_owned())
}
