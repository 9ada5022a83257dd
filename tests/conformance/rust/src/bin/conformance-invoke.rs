//! The invoke suite's handlers (requirements 5-1 to 5-16): the callers.
//!
//! The targets are the suite's durable functions `TargetEcho` (returns its
//! input), `TargetEchoTenant` (the same, tenant-isolated) and `TargetError`
//! (fails). A caller gets its target's qualified ARN in
//! `TARGET_FUNCTION_NAME` (5-14: `TARGET_FUNCTION_NAME_1` and `_2`).

use std::time::Duration;

use aws_durable_execution_sdk::serdes::SerdesContext;
use aws_durable_execution_sdk::{
    self as durable, BoxError, DurableContext, OperationErrorKind, Serdes,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "invoke_basic" => durable::run(invoke_basic).await,
        "invoke_with_name" => durable::run(invoke_with_name).await,
        "invoke_complex_object" => durable::run(invoke_complex_object).await,
        "invoke_null_result" => durable::run(invoke_null_result).await,
        "invoke_target_fails" => durable::run(invoke_target_fails).await,
        "invoke_target_fails_caught" => durable::run(invoke_target_fails_caught).await,
        "invoke_large_payload" => durable::run(invoke_large_payload).await,
        "invoke_with_tenant_id" => durable::run(invoke_with_tenant_id).await,
        "invoke_replay_skips" => durable::run(invoke_replay_skips).await,
        "invoke_replay_rethrows" => durable::run(invoke_replay_rethrows).await,
        "step_then_invoke" => durable::run(step_then_invoke).await,
        "invoke_then_step" => durable::run(invoke_then_step).await,
        "invoke_in_child_context" => durable::run(invoke_in_child_context).await,
        "invoke_multiple_sequential" => durable::run(invoke_multiple_sequential).await,
        "invoke_custom_payload_serdes" => durable::run(invoke_custom_payload_serdes).await,
        "invoke_custom_result_serdes" => durable::run(invoke_custom_result_serdes).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// The target's ARN, from the environment variable `name`.
fn target(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|error| format!("{name}: {error}").into())
}

/// The one-second wait of 5-9 and 5-10.
const ONE_SECOND: Duration = Duration::from_secs(1);

/// 5-1: invoke the echo target with the input; return its result.
async fn invoke_basic(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    Ok(ctx.invoke::<Value, _>(function, event).await?)
}

/// The input of 5-2: the operation's name and the payload.
#[derive(Debug, Deserialize)]
struct NamedPayload {
    /// The invoke operation's name.
    name: String,
    /// What the target gets.
    payload: Value,
}

/// 5-2: invoke the echo target with `event.payload`, the operation named
/// `event.name`.
async fn invoke_with_name(event: NamedPayload, ctx: DurableContext) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    Ok(ctx
        .invoke::<Value, _>(function, event.payload)
        .name(event.name)
        .await?)
}

/// 5-3: invoke the echo target with the input, a nested JSON object; return
/// the echoed object.
async fn invoke_complex_object(
    event: Map<String, Value>,
    ctx: DurableContext,
) -> Result<Map<String, Value>, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    Ok(ctx.invoke::<Map<String, Value>, _>(function, event).await?)
}

/// 5-4: invoke the echo target with a null payload; return its (null)
/// result.
async fn invoke_null_result(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    Ok(ctx.invoke::<Value, _>(function, Value::Null).await?)
}

/// 5-5: invoke a target that fails; the invoke's error is not caught, so
/// the execution fails.
async fn invoke_target_fails(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    Ok(ctx.invoke::<Value, _>(function, event).await?)
}

/// 5-6: invoke a target that fails, catching the invoke's error; return a
/// fallback value.
async fn invoke_target_fails_caught(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    match ctx.invoke::<Value, _>(function, event).await {
        Ok(result) => Ok(result),
        Err(error) if matches!(error.kind(), OperationErrorKind::Invoke(_)) => {
            Ok(Value::from("fallback"))
        }
        Err(error) => Err(error.into()),
    }
}

/// 5-7's payload size: 200 KB, under the 256 KB checkpoint limit.
const PAYLOAD_BYTES: usize = 200 * 1024;

/// 5-7's payload, and what the echo target returns.
#[derive(Debug, Serialize, Deserialize)]
struct Data {
    /// 200 KB of text.
    data: String,
}

/// 5-7: invoke the echo target with a 200 KB payload; return the length of
/// the echoed data.
async fn invoke_large_payload(_event: Value, ctx: DurableContext) -> Result<usize, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    let payload = Data {
        data: "x".repeat(PAYLOAD_BYTES),
    };
    let echoed = ctx.invoke::<Data, _>(function, payload).await?;
    Ok(echoed.data.len())
}

/// The input of 5-8: the tenant and the payload.
#[derive(Debug, Deserialize)]
struct TenantPayload {
    /// The tenant the target runs for.
    #[serde(rename = "tenantId")]
    tenant_id: String,
    /// What the target gets.
    payload: Value,
}

/// 5-8: invoke the tenant-isolated echo target with `event.payload` for
/// tenant `event.tenantId`.
async fn invoke_with_tenant_id(
    event: TenantPayload,
    ctx: DurableContext,
) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    Ok(ctx
        .invoke::<Value, _>(function, event.payload)
        .tenant_id(event.tenant_id)
        .await?)
}

/// 5-9: invoke the echo target, then wait 1 s; the last replay takes the
/// invoke's result from its checkpoint.
async fn invoke_replay_skips(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    let result = ctx.invoke::<Value, _>(function, event).await?;
    ctx.wait(ONE_SECOND).await?;
    Ok(result)
}

/// 5-10: invoke a failing target (its error caught), then wait 1 s; the
/// last replay gets the checkpointed error again, caught again.
async fn invoke_replay_rethrows(event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    let outcome = match ctx.invoke::<Value, _>(function, event).await {
        Ok(_) => "succeeded",
        Err(error) if matches!(error.kind(), OperationErrorKind::Invoke(_)) => "caught",
        Err(error) => return Err(error.into()),
    };
    ctx.wait(ONE_SECOND).await?;
    Ok(outcome.to_owned())
}

/// 5-11: a step, then an invoke of the echo target with the step's result.
async fn step_then_invoke(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    let prepared = ctx
        .step(|_| async { Ok(serde_json::json!({"prepared": "by step"})) })
        .await?;
    Ok(ctx.invoke::<Value, _>(function, prepared).await?)
}

/// 5-12: invoke the echo target, then a step that processes the invoke's
/// result.
async fn invoke_then_step(event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    let echoed = ctx.invoke::<Value, _>(function, event).await?;
    Ok(ctx
        .step(move |_| async move { Ok(format!("processed: {echoed}")) })
        .await?)
}

/// 5-13: a child context that invokes the echo target and returns its
/// result.
async fn invoke_in_child_context(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    let result = ctx
        .run_in_child_context(move |child| async move {
            Ok(child.invoke::<Value, _>(function, event).await?)
        })
        .await?;
    Ok(result)
}

/// 5-14: two invokes in sequence (`TARGET_FUNCTION_NAME_1`, then `_2`),
/// each suspending the execution.
async fn invoke_multiple_sequential(
    event: Value,
    ctx: DurableContext,
) -> Result<Vec<Value>, BoxError> {
    let first_function = target("TARGET_FUNCTION_NAME_1")?;
    let second_function = target("TARGET_FUNCTION_NAME_2")?;
    let first = ctx
        .invoke::<Value, _>(first_function, event.clone())
        .await?;
    let second = ctx.invoke::<Value, _>(second_function, event).await?;
    Ok(vec![first, second])
}

/// 5-15's payload serdes: writes an object as JSON with its string values
/// in upper case; reads JSON.
#[derive(Debug)]
struct UpperCasePayloadSerdes;

impl Serdes<Map<String, Value>> for UpperCasePayloadSerdes {
    async fn serialize(
        &self,
        value: Map<String, Value>,
        _: SerdesContext,
    ) -> Result<String, BoxError> {
        let upper: Map<String, Value> = value
            .into_iter()
            .map(|(key, item)| match item {
                Value::String(text) => (key, Value::String(text.to_uppercase())),
                other => (key, other),
            })
            .collect();
        Ok(serde_json::to_string(&upper)?)
    }

    async fn deserialize(
        &self,
        wire: String,
        _: SerdesContext,
    ) -> Result<Map<String, Value>, BoxError> {
        Ok(serde_json::from_str(&wire)?)
    }
}

/// 5-15: invoke the echo target with the input (`{"data": "hello"}`)
/// through a payload serdes that upper-cases its text values; return the
/// echoed result.
async fn invoke_custom_payload_serdes(
    event: Map<String, Value>,
    ctx: DurableContext,
) -> Result<Value, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    Ok(ctx
        .invoke::<Value, _>(function, event)
        .payload_serdes(UpperCasePayloadSerdes)
        .await?)
}

/// 5-16's result serdes: reads a result as its serialized text in upper
/// case; writes a string as it is.
#[derive(Debug)]
struct UpperCaseResultSerdes;

impl Serdes<String> for UpperCaseResultSerdes {
    async fn serialize(&self, value: String, _: SerdesContext) -> Result<String, BoxError> {
        Ok(value)
    }

    async fn deserialize(&self, wire: String, _: SerdesContext) -> Result<String, BoxError> {
        Ok(wire.to_uppercase())
    }
}

/// 5-16: invoke the echo target with the input (`"hello"`) through a result
/// serdes that upper-cases the result's text: the echoed `"hello"` (JSON
/// text) is read as `"HELLO"` with its quotes, which the handler returns.
async fn invoke_custom_result_serdes(
    event: Value,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let function = target("TARGET_FUNCTION_NAME")?;
    Ok(ctx
        .invoke::<String, _>(function, event)
        .serdes(UpperCaseResultSerdes)
        .await?)
}
