//! The `wait_for_callback` suite's handlers (requirements 7-1 to 7-15).

use std::future::{Ready, ready};
use std::time::Duration;

use aws_durable_execution_sdk::builders::{JitterStrategy, RetryStrategyConfig};
use aws_durable_execution_sdk::{
    self as durable, BoxError, CallbackErrorKind, DurableContext, JsonSerdes, OperationError,
    OperationErrorKind, StepContext,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "wfc_basic" => durable::run(wfc_basic).await,
        "wfc_named" => durable::run(wfc_named).await,
        "wfc_anonymous" => durable::run(wfc_anonymous).await,
        "wfc_failure" => durable::run(wfc_failure).await,
        "wfc_timeout" => durable::run(wfc_timeout).await,
        "wfc_failure_caught" => durable::run(wfc_failure_caught).await,
        "wfc_submitter_retry_exhaustion" => durable::run(wfc_submitter_retry_exhaustion).await,
        "wfc_in_child_context" => durable::run(wfc_in_child_context).await,
        "wfc_two_sequential" => durable::run(wfc_two_sequential).await,
        "wfc_mixed_operations" => durable::run(wfc_mixed_operations).await,
        "wfc_json_result" => durable::run(wfc_json_result).await,
        "wfc_heartbeat_timeout" => durable::run(wfc_heartbeat_timeout).await,
        "wfc_heartbeat_success" => durable::run(wfc_heartbeat_success).await,
        "wfc_timeout_caught" => durable::run(wfc_timeout_caught).await,
        "wfc_null_result" => durable::run(wfc_null_result).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// The submitter of these handlers: it hands the callback id to no one,
/// since the test sends the callback (and any heartbeat) itself.
fn submit(_: StepContext, _callback_id: String) -> Ready<Result<(), BoxError>> {
    ready(Ok(()))
}

/// 7-1: one `wait_for_callback` named after the input, whose submitter does
/// nothing; returns the callback's result.
async fn wfc_basic(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx.wait_for_callback(submit).name(name).await?)
}

/// 7-2: one `wait_for_callback` with the explicit static name "approval";
/// returns the callback's result.
async fn wfc_named(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx.wait_for_callback(submit).name("approval").await?)
}

/// 7-3: one `wait_for_callback` given only an inline submitter and no name;
/// returns the callback's result.
async fn wfc_anonymous(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx
        .wait_for_callback(|_, _callback_id| async { Ok(()) })
        .await?)
}

/// 7-4: one `wait_for_callback` the external system fails; the error is not
/// caught, so the execution fails.
async fn wfc_failure(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx.wait_for_callback(submit).name(name).await?)
}

/// 7-5: one `wait_for_callback` with a 3-second timeout that nobody
/// completes; the execution fails.
async fn wfc_timeout(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx
        .wait_for_callback(submit)
        .name(name)
        .timeout(Duration::from_secs(3))
        .await?)
}

/// 7-6: one `wait_for_callback` the external system fails; the handler
/// catches the callback failure and returns "recovered".
async fn wfc_failure_caught(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    match ctx.wait_for_callback(submit).name(name).await {
        Ok(result) => Ok(result),
        Err(error) if matches!(error.kind(), OperationErrorKind::Callback(_)) => {
            Ok("recovered".to_owned())
        }
        Err(error) => Err(error.into()),
    }
}

/// 7-7: one `wait_for_callback` whose submitter always fails; it gets 2
/// attempts 1 second apart (no jitter), then the operation and the
/// execution fail.
async fn wfc_submitter_retry_exhaustion(
    name: String,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let two_attempts = RetryStrategyConfig::builder()
        .max_attempts(2)
        .initial_delay(Duration::from_secs(1))
        .jitter(JitterStrategy::None)
        .build();
    Ok(ctx
        .wait_for_callback(|_, callback_id| async move {
            Err(format!("could not submit callback {callback_id}").into())
        })
        .name(name)
        .submitter_retry_config(two_attempts)
        .await?)
}

/// 7-8: a child context "wrapper" that runs one `wait_for_callback` named
/// after the input and returns its result.
async fn wfc_in_child_context(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx
        .run_in_child_context(|child| async move {
            Ok(child.wait_for_callback(submit).name(name).await?)
        })
        .name("wrapper")
        .await?)
}

/// 7-9: two `wait_for_callback` operations in a row, "first" then "second";
/// returns the second's result.
async fn wfc_two_sequential(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let _first: String = ctx.wait_for_callback(submit).name("first").await?;
    Ok(ctx.wait_for_callback(submit).name("second").await?)
}

/// 7-10: a 1-second wait, a top-level step returning fixed data, then a
/// `wait_for_callback` named after the input; returns its result.
async fn wfc_mixed_operations(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    ctx.wait(Duration::from_secs(1)).await?;
    ctx.step(|_| async { Ok(json!({ "prepared": true })) })
        .await?;
    Ok(ctx.wait_for_callback(submit).name(name).await?)
}

/// The 7-11 callback payload, read as a JSON object.
#[derive(Deserialize, Serialize)]
struct Decision {
    status: String,
}

/// 7-11: a `wait_for_callback` whose payload the SDK's JSON serdes reads as
/// an object; returns its "status" field.
async fn wfc_json_result(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let decision: Decision = ctx
        .wait_for_callback(submit)
        .name(name)
        .serdes(JsonSerdes)
        .await?;
    Ok(decision.status)
}

/// 7-12: a `wait_for_callback` with a 5-second heartbeat timeout and no
/// heartbeat; the execution fails.
async fn wfc_heartbeat_timeout(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx
        .wait_for_callback(submit)
        .name(name)
        .heartbeat(Duration::from_secs(5))
        .await?)
}

/// 7-13: a `wait_for_callback` with a 10-second heartbeat timeout, kept
/// alive by a heartbeat, then completed; returns its result.
async fn wfc_heartbeat_success(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx
        .wait_for_callback(submit)
        .name(name)
        .heartbeat(Duration::from_secs(10))
        .await?)
}

/// 7-14: a `wait_for_callback` with a 3-second timeout; the handler catches
/// the timeout and returns "timed-out-handled".
async fn wfc_timeout_caught(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .wait_for_callback(submit)
        .name(name)
        .timeout(Duration::from_secs(3))
        .await;
    match result {
        Ok(result) => Ok(result),
        Err(error) if timed_out(&error) => Ok("timed-out-handled".to_owned()),
        Err(error) => Err(error.into()),
    }
}

/// 7-15: a `wait_for_callback` completed with no payload; returns the empty
/// (null) result.
async fn wfc_null_result(name: String, ctx: DurableContext) -> Result<Option<String>, BoxError> {
    Ok(ctx.wait_for_callback(submit).name(name).await?)
}

/// Whether `error` is a callback's timeout.
fn timed_out(error: &OperationError) -> bool {
    matches!(
        error.kind(),
        OperationErrorKind::Callback(callback) if matches!(callback.kind(), CallbackErrorKind::TimedOut { .. })
    )
}
