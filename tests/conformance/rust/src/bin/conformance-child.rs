//! The child suite's handlers (requirements 3-1 to 3-18).
//!
//! Where a requirement's history names the child context (`Name: ${NAME1}`),
//! the handler names it after what the child does, as the Python handlers'
//! decorated functions do; where it does not (3-1, 3-5, 3-9, 3-12), the
//! child stays unnamed.

use std::future::Ready;
use std::time::Duration;

use aws_durable_execution_sdk::builders::{JitterStrategy, RetryStrategyConfig};
use aws_durable_execution_sdk::serdes::SerdesContext;
use aws_durable_execution_sdk::{
    self as durable, BoxError, DurableContext, OperationErrorKind, RetryDecision, Serdes,
};
use serde::Deserialize;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "child_basic" => durable::run(child_basic).await,
        "child_with_name" => durable::run(child_with_name).await,
        "child_multiple_steps" => durable::run(child_multiple_steps).await,
        "child_error" => durable::run(child_error).await,
        "child_error_caught" => durable::run(child_error_caught).await,
        "child_nested" => durable::run(child_nested).await,
        "child_retry" => durable::run(child_retry).await,
        "child_retry_exhaustion" => durable::run(child_retry_exhaustion).await,
        "child_replay" => durable::run(child_replay).await,
        "child_step_and_wait" => durable::run(child_step_and_wait).await,
        "child_large_payload" => durable::run(child_large_payload).await,
        "child_interrupted" => durable::run(child_interrupted).await,
        "child_wait_replay" => durable::run(child_wait_replay).await,
        "child_custom_serdes" => durable::run(child_custom_serdes).await,
        "child_error_no_step" => durable::run(child_error_no_step).await,
        "child_null_result" => durable::run(child_null_result).await,
        "child_logger_only" => durable::run(child_logger_only).await,
        "child_step_wait_after" => durable::run(child_step_wait_after).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// The one-second wait of 3-9, 3-10, 3-11, 3-13, 3-17 and 3-18.
const ONE_SECOND: Duration = Duration::from_secs(1);

/// Two attempts, one second apart, without jitter (3-7, 3-8).
fn two_attempts() -> RetryStrategyConfig {
    RetryStrategyConfig::builder()
        .max_attempts(2)
        .initial_delay(ONE_SECOND)
        .jitter(JitterStrategy::None)
        .build()
}

/// A step body that returns `value`.
fn echo(value: String) -> Ready<Result<String, BoxError>> {
    std::future::ready(Ok(value))
}

/// 3-1: an unnamed child context holding one step that returns the input;
/// the child returns the step's result.
async fn child_basic(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(
            move |child| async move { Ok(child.step(move |_| echo(event)).await?) },
        )
        .await?;
    Ok(result)
}

/// The input of 3-2: the child context's name and the step's result.
#[derive(Debug, Deserialize)]
struct NamedValue {
    /// The child context's name.
    name: String,
    /// What its step returns.
    value: String,
}

/// 3-2: a child context named `event.name` whose one step returns
/// `event.value`.
async fn child_with_name(event: NamedValue, ctx: DurableContext) -> Result<String, BoxError> {
    let NamedValue { name, value } = event;
    let result = ctx
        .run_in_child_context(
            move |child| async move { Ok(child.step(move |_| echo(value)).await?) },
        )
        .name(name)
        .await?;
    Ok(result)
}

/// 3-3: a child context with two sequential steps, the second returning
/// the first's result (the input).
async fn child_multiple_steps(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(move |child| async move {
            let first = child.step(move |_| echo(event)).await?;
            Ok(child.step(move |_| echo(first)).await?)
        })
        .name("two_steps")
        .await?;
    Ok(result)
}

/// A step body that always fails (3-4, 3-5).
fn fail_in_child() -> Ready<Result<String, BoxError>> {
    std::future::ready(Err("step in child context failed".into()))
}

/// 3-4: a child context whose step fails without retry; the child fails
/// and, not caught, so does the execution.
async fn child_error(_event: serde_json::Value, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(|child| async move {
            Ok(child
                .step(|_| fail_in_child())
                .retry_strategy(|_, _| RetryDecision::Stop)
                .await?)
        })
        .name("failing_child")
        .await?;
    Ok(result)
}

/// 3-5: an unnamed child context whose step fails without retry; the
/// handler catches the child context's error and a recovery step returns
/// the input.
async fn child_error_caught(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let outcome = ctx
        .run_in_child_context(|child| async move {
            Ok(child
                .step(|_| fail_in_child())
                .retry_strategy(|_, _| RetryDecision::Stop)
                .await?)
        })
        .await;
    match outcome {
        Err(error) if matches!(error.kind(), OperationErrorKind::ChildContext(_)) => {}
        Err(error) => return Err(error.into()),
        Ok(_) => {}
    }
    Ok(ctx.step(move |_| echo(event)).await?)
}

/// 3-6: an outer child context (a step, then an inner child context with
/// its own step), both returning the input.
async fn child_nested(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(move |outer| async move {
            let first = event.clone();
            outer.step(move |_| echo(first)).await?;
            let inner = outer
                .run_in_child_context(move |inner| async move {
                    Ok(inner.step(move |_| echo(event)).await?)
                })
                .name("inner")
                .await?;
            Ok(inner)
        })
        .name("outer")
        .await?;
    Ok(result)
}

/// 3-7: a child context whose step fails at attempt 1 and returns the input
/// at attempt 2 (retried after 1 s).
async fn child_retry(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(move |child| async move {
            Ok(child
                .step(move |step| async move {
                    if step.attempt() == 1 {
                        return Err("first attempt fails".into());
                    }
                    Ok(event)
                })
                .retry_strategy_config(two_attempts())
                .await?)
        })
        .name("retrying_child")
        .await?;
    Ok(result)
}

/// 3-8: a child context whose step fails at every attempt; after 2 attempts
/// the step, the child and the execution fail.
async fn child_retry_exhaustion(
    _event: serde_json::Value,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(|child| async move {
            Ok(child
                .step(|step| async move {
                    Err::<String, BoxError>(format!("attempt {} fails", step.attempt()).into())
                })
                .retry_strategy_config(two_attempts())
                .await?)
        })
        .name("exhausted_child")
        .await?;
    Ok(result)
}

/// 3-9: an unnamed child context (one step returning the input), then a
/// 1 s wait; on replay the child's result comes from its checkpoint.
async fn child_replay(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(
            move |child| async move { Ok(child.step(move |_| echo(event)).await?) },
        )
        .await?;
    ctx.wait(ONE_SECOND).await?;
    Ok(result)
}

/// 3-10: a child context holding a step (returning the input) and then a
/// 1 s wait.
async fn child_step_and_wait(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(move |child| async move {
            let result = child.step(move |_| echo(event)).await?;
            child.wait(ONE_SECOND).await?;
            Ok(result)
        })
        .name("step_then_wait")
        .await?;
    Ok(result)
}

/// What 3-11's step returns: 1 KB.
const CHUNK_BYTES: usize = 1024;

/// How many chunks 3-11's child returns: 300 KB, above the 256 KB
/// checkpoint limit.
const CHUNK_COPIES: usize = 300;

/// Logs `value` through the child context's span, with replay logging
/// enabled: the record carries its own `isReplay = false`, which the
/// replay filter takes over the span's flag, so a re-execution of the child
/// on replay logs it again. The record names the execution ARN at its top
/// level, where a log query by `executionArn` finds it.
fn log_always(child: &DurableContext, value: &str) {
    tracing::info!(
        executionArn = child.execution_arn(),
        isReplay = false,
        "{value}"
    );
}

/// The result of 3-11: the length of the child's large result.
#[derive(Debug, serde::Serialize)]
struct Size {
    /// The child's result length, in bytes.
    size: usize,
}

/// 3-11: a child context that logs the input (replay logging enabled), runs
/// a step returning 1 KB and returns it 300 times (`ReplayChildren` mode);
/// then a 1 s wait. On replay the child runs again to rebuild its result,
/// logging the input a second time.
async fn child_large_payload(event: String, ctx: DurableContext) -> Result<Size, BoxError> {
    let result = ctx
        .run_in_child_context(move |child| async move {
            log_always(&child, &event);
            let chunk = child.step(|_| echo("A".repeat(CHUNK_BYTES))).await?;
            Ok(chunk.repeat(CHUNK_COPIES))
        })
        .name("large_result")
        .await?;
    ctx.wait(ONE_SECOND).await?;
    Ok(Size { size: result.len() })
}

/// 3-12: an unnamed child context whose step (no retry) crashes the process
/// the first time the child runs: the SDK has already checkpointed the
/// step's START when the body runs, and the body ends the process, as a
/// Lambda crash would (the crash is what the requirement asks for). On the
/// next invocation the child replays, the step runs again (at least once
/// per retry) without a new START and returns the input.
async fn child_interrupted(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(move |child| async move {
            let first_run = !child.is_replaying();
            Ok(child
                .step(move |_| async move {
                    if first_run {
                        std::process::exit(1);
                    }
                    Ok(event)
                })
                .retry_strategy(|_, _| RetryDecision::Stop)
                .await?)
        })
        .await?;
    Ok(result)
}

/// 3-13: a child context holding only a 1 s wait and returning the input,
/// then a top-level step returning the input.
async fn child_wait_replay(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let value = event.clone();
    ctx.run_in_child_context(move |child| async move {
        child.wait(ONE_SECOND).await?;
        Ok(value)
    })
    .name("only_wait")
    .await?;
    Ok(ctx.step(move |_| echo(event)).await?)
}

/// 3-14's serdes: writes a string as its upper-case text (no JSON quoting),
/// reads the text back as it is.
#[derive(Debug)]
struct UpperCaseSerdes;

impl Serdes<String> for UpperCaseSerdes {
    async fn serialize(&self, value: String, _: SerdesContext) -> Result<String, BoxError> {
        Ok(value.to_uppercase())
    }

    async fn deserialize(&self, wire: String, _: SerdesContext) -> Result<String, BoxError> {
        Ok(wire)
    }
}

/// 3-14: a child context with a custom serdes writing its result in upper
/// case; its step returns the input (`hello child`), the child and the
/// execution `HELLO CHILD`.
async fn child_custom_serdes(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(
            move |child| async move { Ok(child.step(move |_| echo(event)).await?) },
        )
        .name("echo_child")
        .serdes(UpperCaseSerdes)
        .await?;
    Ok(result)
}

/// 3-15: a child context whose body fails before any durable operation;
/// the child and the execution fail.
async fn child_error_no_step(
    _event: serde_json::Value,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(|_child| async move {
            Err::<String, BoxError>("child context body failed".into())
        })
        .name("raising_child")
        .await?;
    Ok(result)
}

/// 3-16: a child context returning null without any durable operation; the
/// execution returns null.
async fn child_null_result(_event: serde_json::Value, ctx: DurableContext) -> Result<(), BoxError> {
    ctx.run_in_child_context(|_child| async move { Ok(()) })
        .name("null_child")
        .await?;
    Ok(())
}

/// 3-17: a child context that only logs the input (replay logging enabled)
/// and returns it, then a 1 s wait. The completed child does not run again
/// on replay, so the input is logged once.
async fn child_logger_only(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .run_in_child_context(move |child| async move {
            log_always(&child, &event);
            Ok(event)
        })
        .name("log_child")
        .await?;
    ctx.wait(ONE_SECOND).await?;
    Ok(result)
}

/// 3-18: a child context (a step returning the input, then a 1 s wait),
/// then a top-level step returning the input and a 1 s wait: three
/// invocations.
async fn child_step_wait_after(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let value = event.clone();
    ctx.run_in_child_context(move |child| async move {
        let result = child.step(move |_| echo(value)).await?;
        child.wait(ONE_SECOND).await?;
        Ok(result)
    })
    .name("step_then_wait")
    .await?;
    let result = ctx.step(move |_| echo(event)).await?;
    ctx.wait(ONE_SECOND).await?;
    Ok(result)
}
