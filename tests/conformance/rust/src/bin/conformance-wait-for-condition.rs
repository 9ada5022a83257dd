//! The `wait_for_condition` suite's handlers (requirements 6-1 to 6-13).

use std::fmt::Write as _;
use std::time::Duration;

use aws_durable_execution_sdk::builders::JitterStrategy;
use aws_durable_execution_sdk::builders::wait_for_condition::{WaitDecision, WaitStrategy};
use aws_durable_execution_sdk::serdes::SerdesContext;
use aws_durable_execution_sdk::{
    self as durable, BoxError, DurableContext, OperationErrorKind, Serdes, StepContext,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "wfcond_basic" => durable::run(wfcond_basic).await,
        "wfcond_immediate" => durable::run(wfcond_immediate).await,
        "wfcond_named" => durable::run(wfcond_named).await,
        "wfcond_initial_state" => durable::run(wfcond_initial_state).await,
        "wfcond_fixed_delay" => durable::run(wfcond_fixed_delay).await,
        "wfcond_max_attempts" => durable::run(wfcond_max_attempts).await,
        "wfcond_check_raises" => durable::run(wfcond_check_raises).await,
        "wfcond_check_raises_caught" => durable::run(wfcond_check_raises_caught).await,
        "wfcond_object_state" => durable::run(wfcond_object_state).await,
        "wfcond_null_result" => durable::run(wfcond_null_result).await,
        "wfcond_custom_serdes" => durable::run(wfcond_custom_serdes).await,
        "wfcond_then_step" => durable::run(wfcond_then_step).await,
        "wfcond_two_sequential" => durable::run(wfcond_two_sequential).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// The check of the counting handlers: one more than the state.
async fn increment(_: StepContext, state: i64) -> Result<i64, BoxError> {
    Ok(state + 1)
}

/// A wait strategy that stops once the state reaches `threshold`, and
/// otherwise polls again after 1 second.
fn until(threshold: i64) -> impl Fn(i64, u32) -> WaitDecision + Send + Sync + 'static {
    move |state, _attempt| {
        if state >= threshold {
            WaitDecision::complete()
        } else {
            WaitDecision::continue_with(Duration::from_secs(1))
        }
    }
}

/// The check of 6-7 and 6-8: the status service is down.
async fn broken_check(_: StepContext, _state: i64) -> Result<i64, BoxError> {
    Err("status service unavailable".into())
}

/// 6-1: polls a counter from 0, one increment per check, until it reaches
/// the input threshold; returns it.
async fn wfcond_basic(threshold: i64, ctx: DurableContext) -> Result<i64, BoxError> {
    Ok(ctx
        .wait_for_condition(increment, 0)
        .wait_strategy_fn(until(threshold))
        .await?)
}

/// 6-2: initial state 5, a check that keeps it, a strategy that stops at
/// 5 or more: no suspension; returns 5.
async fn wfcond_immediate(_threshold: i64, ctx: DurableContext) -> Result<i64, BoxError> {
    Ok(ctx
        .wait_for_condition(|_, state: i64| async move { Ok(state) }, 5)
        .wait_strategy_fn(until(5))
        .await?)
}

/// 6-3: a `wait_for_condition` named "poll-status" counting from 0 up to
/// the input; returns it.
async fn wfcond_named(threshold: i64, ctx: DurableContext) -> Result<i64, BoxError> {
    Ok(ctx
        .wait_for_condition(increment, 0)
        .wait_strategy_fn(until(threshold))
        .name("poll-status")
        .await?)
}

/// 6-4: a counter seeded with the initial state 5, incremented per check up
/// to the input; returns it.
async fn wfcond_initial_state(threshold: i64, ctx: DurableContext) -> Result<i64, BoxError> {
    Ok(ctx
        .wait_for_condition(increment, 5)
        .wait_strategy_fn(until(threshold))
        .await?)
}

/// 6-5: a counter from 0 up to the input, polled by the SDK's wait strategy
/// with a fixed 2-second delay (backoff rate 1, no jitter).
async fn wfcond_fixed_delay(threshold: i64, ctx: DurableContext) -> Result<i64, BoxError> {
    let every_two_seconds = WaitStrategy::builder(move |state: &i64| *state >= threshold)
        .initial_delay(Duration::from_secs(2))
        .backoff_rate(1.0)
        .jitter(JitterStrategy::None)
        .build();
    Ok(ctx
        .wait_for_condition(increment, 0)
        .wait_strategy(every_two_seconds)
        .await?)
}

/// 6-6: a condition that is never met, polled by the SDK's wait strategy
/// at a fixed 1-second delay with at most 3 attempts; the strategy's
/// exhaustion fails the execution.
async fn wfcond_max_attempts(initial: i64, ctx: DurableContext) -> Result<i64, BoxError> {
    let three_attempts = WaitStrategy::builder(|_: &i64| false)
        .max_attempts(3)
        .initial_delay(Duration::from_secs(1))
        .backoff_rate(1.0)
        .jitter(JitterStrategy::None)
        .build();
    Ok(ctx
        .wait_for_condition(increment, initial)
        .wait_strategy(three_attempts)
        .await?)
}

/// 6-7: a `wait_for_condition` whose check fails at its first call; not
/// caught, so the execution fails.
async fn wfcond_check_raises(_event: Value, ctx: DurableContext) -> Result<i64, BoxError> {
    Ok(ctx
        .wait_for_condition(broken_check, 0)
        .wait_strategy_fn(|_, _| WaitDecision::continue_with(Duration::from_secs(1)))
        .await?)
}

/// 6-8: a `wait_for_condition` whose check fails at its first call; the
/// handler catches the failure and returns "recovered".
async fn wfcond_check_raises_caught(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let result = ctx
        .wait_for_condition(broken_check, 0)
        .wait_strategy_fn(|_, _| WaitDecision::continue_with(Duration::from_secs(1)))
        .await;
    match result {
        Ok(state) => Ok(json!(state)),
        Err(error) if matches!(error.kind(), OperationErrorKind::WaitForCondition(_)) => {
            Ok(json!("recovered"))
        }
        Err(error) => Err(error.into()),
    }
}

/// The 6-9 state: a job's status and how often it was checked.
#[derive(Clone, Deserialize, Serialize)]
struct Job {
    status: String,
    attempts: u32,
}

/// 6-9: a `{status, attempts}` object as state, DONE once attempts reaches
/// 2; returns the final object.
async fn wfcond_object_state(_event: Value, ctx: DurableContext) -> Result<Job, BoxError> {
    let pending = Job {
        status: "PENDING".to_owned(),
        attempts: 0,
    };
    let check_job = |_, job: Job| async move {
        let attempts = job.attempts + 1;
        let status = if attempts >= 2 { "DONE" } else { "PENDING" };
        Ok(Job {
            status: status.to_owned(),
            attempts,
        })
    };
    Ok(ctx
        .wait_for_condition(check_job, pending)
        .wait_strategy_fn(|job: Job, _| {
            if job.status == "PENDING" {
                WaitDecision::continue_with(Duration::from_secs(1))
            } else {
                WaitDecision::complete()
            }
        })
        .await?)
}

/// 6-10: a null state, a check that returns null and a strategy that stops
/// at once; returns null.
async fn wfcond_null_result(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx
        .wait_for_condition(|_, _: Value| async { Ok(Value::Null) }, Value::Null)
        .wait_strategy_fn(|_, _| WaitDecision::complete())
        .await?)
}

/// The 6-11 state serdes: checkpoints the text as hexadecimal bytes.
struct HexSerdes;

impl Serdes<String> for HexSerdes {
    async fn serialize(&self, value: String, _: SerdesContext) -> Result<String, BoxError> {
        Ok(value.bytes().fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        }))
    }

    async fn deserialize(&self, wire: String, _: SerdesContext) -> Result<String, BoxError> {
        let bytes = wire
            .as_bytes()
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair)?, 16).map_err(BoxError::from))
            .collect::<Result<Vec<u8>, BoxError>>()?;
        Ok(String::from_utf8(bytes)?)
    }
}

/// 6-11: a text state checkpointed through a custom serdes; one "x" more
/// per check until "xx"; returns it.
async fn wfcond_custom_serdes(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    Ok(ctx
        .wait_for_condition(
            |_, state: String| async move { Ok(format!("{state}x")) },
            String::new(),
        )
        .wait_strategy_fn(|state: String, _| {
            if state.len() >= 2 {
                WaitDecision::complete()
            } else {
                WaitDecision::continue_with(Duration::from_secs(1))
            }
        })
        .serdes(HexSerdes)
        .await?)
}

/// 6-12: counts from 0 up to the input, then a step multiplies the result
/// by 10; returns it.
async fn wfcond_then_step(threshold: i64, ctx: DurableContext) -> Result<i64, BoxError> {
    let count = ctx
        .wait_for_condition(increment, 0)
        .wait_strategy_fn(until(threshold))
        .await?;
    Ok(ctx.step(move |_| async move { Ok(count * 10) }).await?)
}

/// 6-13: counts 0 to 2, then a second `wait_for_condition` seeded with that
/// result counts to 4; returns 4.
async fn wfcond_two_sequential(_event: Value, ctx: DurableContext) -> Result<i64, BoxError> {
    let first = ctx
        .wait_for_condition(increment, 0)
        .wait_strategy_fn(until(2))
        .await?;
    Ok(ctx
        .wait_for_condition(increment, first)
        .wait_strategy_fn(until(4))
        .await?)
}
