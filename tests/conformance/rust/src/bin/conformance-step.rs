//! The step suite's handlers (requirements 1-1 to 1-20).

use std::error::Error;
use std::io::Write as _;
use std::time::Duration;

use aws_durable_execution_sdk::builders::{JitterStrategy, RetryStrategyConfig};
use aws_durable_execution_sdk::serdes::SerdesContext;
use aws_durable_execution_sdk::{
    self as durable, BoxError, DurableContext, RetryDecision, Serdes, StepError, StepSemantics,
    TypedError,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "step_basic" => durable::run(step_basic).await,
        "step_with_name" => durable::run(step_with_name).await,
        "step_sequential" => durable::run(step_sequential).await,
        "step_complex_object" => durable::run(step_complex_object).await,
        "step_null_result" => durable::run(step_null_result).await,
        "step_custom_serdes" => durable::run(step_custom_serdes).await,
        "step_logging" => durable::run(step_logging).await,
        "step_and_wait" => durable::run(step_and_wait).await,
        "step_replay_skips_succeeded" => durable::run(step_replay_skips_succeeded).await,
        "step_replay_rethrows_failed" => durable::run(step_replay_rethrows_failed).await,
        "step_with_retry" => durable::run(step_with_retry).await,
        "step_retry_exhaustion" => durable::run(step_retry_exhaustion).await,
        "step_default_retry" => durable::run(step_default_retry).await,
        "step_retry_custom_config" => durable::run(step_retry_custom_config).await,
        "step_retry_specific_exception" => durable::run(step_retry_specific_exception).await,
        "step_retry_non_retryable" => durable::run(step_retry_non_retryable).await,
        "step_at_most_once_no_retry" => durable::run(step_at_most_once_no_retry).await,
        "step_at_most_once_with_retry" => durable::run(step_at_most_once_with_retry).await,
        "step_with_error" => durable::run(step_with_error).await,
        "step_error_caught" => durable::run(step_error_caught).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// 1-1: one step, succeeding at its first attempt.
async fn step_basic(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    ctx.step(move |_| async move { Ok(format!("Hello, {event}!")) })
        .await
        .map_err(Into::into)
}

/// 1-2: one step named `custom_step_name`, succeeding at its first attempt.
async fn step_with_name(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let greeting = ctx
        .step(move |_| async move { Ok(format!("Hello, {event}!")) })
        .name("custom_step_name")
        .await?;
    Ok(greeting)
}

/// 1-3: two sequential steps, the second using the first one's result.
async fn step_sequential(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let first: String = ctx.step(|_| async { Ok("first".to_owned()) }).await?;
    let second = ctx
        .step(move |_| async move { Ok(format!("{first}_second")) })
        .await?;
    Ok(second)
}

/// A person, as 1-4's input gives it.
#[derive(Debug, Serialize, Deserialize)]
struct Person {
    name: String,
    tags: Vec<String>,
}

/// 1-4's step result: a nested object, an array and a number.
#[derive(Debug, Serialize, Deserialize)]
struct Profile {
    user: Person,
    count: usize,
}

/// 1-4: a step returning a nested object built from the input.
async fn step_complex_object(event: Person, ctx: DurableContext) -> Result<Profile, BoxError> {
    let profile = ctx
        .step(move |_| async move {
            let count = event.tags.len();
            Ok(Profile { user: event, count })
        })
        .await?;
    Ok(profile)
}

/// 1-5: a step returning nothing (`null`), which is also the execution's result.
async fn step_null_result(_event: Value, ctx: DurableContext) -> Result<(), BoxError> {
    ctx.step(|_| async { Ok(()) }).await?;
    Ok(())
}

/// A serdes writing JSON with every string in the value upper-cased.
#[derive(Debug)]
struct UppercaseSerdes;

/// `value` with every string in it upper-cased.
fn upper(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(text.to_uppercase()),
        Value::Array(items) => Value::Array(items.into_iter().map(upper).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, item)| (key, upper(item)))
                .collect(),
        ),
        other => other,
    }
}

impl<T> Serdes<T> for UppercaseSerdes
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    async fn serialize(&self, value: T, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(serde_json::to_string(&upper(serde_json::to_value(value)?))?)
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<T, BoxError> {
        Ok(serde_json::from_str(&wire)?)
    }
}

/// 1-6: a step returning its input through a serdes that upper-cases strings.
async fn step_custom_serdes(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let text = ctx
        .step(move |_| async move { Ok(event) })
        .serdes(UppercaseSerdes)
        .await?;
    Ok(text)
}

/// 1-7: a step logging a line when it starts and one when it completes.
///
/// The Rust SDK has no step logger: a step body logs through `tracing`,
/// inside the SDK's `durable_operation` span. The log lines of
/// `conformance_functions::init_logs` nest that span's fields under
/// `span`, so each record names the execution ARN at its top level too,
/// where a log query by `executionArn` finds it.
async fn step_logging(event: String, ctx: DurableContext) -> Result<String, BoxError> {
    let arn = ctx.execution_arn().to_owned();
    let greeting = ctx
        .step(move |_| async move {
            tracing::info!(executionArn = arn, "Greeting step started for: {event}");
            let greeting = format!("Hello, {event}!");
            tracing::info!(
                executionArn = arn,
                "Greeting step completed with: {greeting}"
            );
            Ok(greeting)
        })
        .await?;
    Ok(greeting)
}

/// 1-8: a step, then a 2 s wait; the replay after the wait skips the step.
async fn step_and_wait(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let result: String = ctx.step(|_| async { Ok("computed".to_owned()) }).await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(result)
}

/// 1-9: a step that logs and succeeds, then a 1 s wait; on replay the step
/// returns its checkpointed result without running again.
async fn step_replay_skips_succeeded(
    _event: Value,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let result: String = ctx
        .step(|_| async {
            tracing::info!("step executed");
            Ok("cached_value".to_owned())
        })
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(result)
}

/// No retry at all: one attempt.
fn no_retry() -> RetryStrategyConfig {
    RetryStrategyConfig::builder().max_attempts(1).build()
}

/// 1-10: a step failing for good (no retry), its error caught, then a 1 s
/// wait; on replay the step returns its checkpointed error, caught again.
async fn step_replay_rethrows_failed(
    _event: Value,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let failed = ctx
        .step(|_| async {
            tracing::info!("step executed");
            Err::<String, BoxError>("step failed permanently".into())
        })
        .retry_strategy_config(no_retry())
        .await;
    let outcome = match failed {
        Ok(_) => "no error".to_owned(),
        Err(error) => format!("caught: {error}"),
    };
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(outcome)
}

/// 1-11: a step failing at its first attempt and succeeding at the second,
/// retried 1 s later (3 attempts at most, no jitter).
async fn step_with_retry(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .step(|step| async move {
            if step.attempt() == 1 {
                return Err("first attempt fails".into());
            }
            Ok("Operation succeeded".to_owned())
        })
        .retry_strategy_config(
            RetryStrategyConfig::builder()
                .max_attempts(3)
                .initial_delay(Duration::from_secs(1))
                .jitter(JitterStrategy::None)
                .build(),
        )
        .await?;
    Ok(result)
}

/// 1-12: a step that always fails, 4 attempts 1 s apart; the execution fails.
async fn step_retry_exhaustion(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .step(|step| async move {
            Err::<String, BoxError>(format!("attempt {} fails", step.attempt()).into())
        })
        .retry_strategy_config(
            RetryStrategyConfig::builder()
                .max_attempts(4)
                .initial_delay(Duration::from_secs(1))
                .backoff_rate(1.0)
                .jitter(JitterStrategy::None)
                .build(),
        )
        .await?;
    Ok(result)
}

/// A step body failing at its first two attempts and succeeding at the third.
fn fails_twice(attempt: u32) -> Result<String, BoxError> {
    if attempt < 3 {
        return Err(format!("attempt {attempt} fails").into());
    }
    Ok("succeeded at attempt 3".to_owned())
}

/// 1-13: a step failing twice then succeeding, under the SDK's default
/// retry strategy (no retry configured).
async fn step_default_retry(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .step(|step| async move { fails_twice(step.attempt()) })
        .await?;
    Ok(result)
}

/// 1-14: a step failing twice then succeeding, retried 2 s then 6 s later
/// (5 attempts at most, initial delay 2 s, backoff 3, no jitter). The
/// attempt number comes from the step context (the SDK's checkpointed
/// attempt), which serves the purpose the requirement gives a `DynamoDB`
/// counter.
async fn step_retry_custom_config(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .step(|step| async move { fails_twice(step.attempt()) })
        .retry_strategy_config(
            RetryStrategyConfig::builder()
                .max_attempts(5)
                .initial_delay(Duration::from_secs(2))
                .backoff_rate(3.0)
                .jitter(JitterStrategy::None)
                .build(),
        )
        .await?;
    Ok(result)
}

/// The error of 1-15 and 1-16, which their retry strategies look for.
#[derive(Debug)]
struct TransientError(&'static str);

impl std::fmt::Display for TransientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl Error for TransientError {}

/// A `TransientError`, recorded under that `ErrorType`.
fn transient(message: &'static str) -> BoxError {
    Box::new(TypedError::new(TransientError(message)))
}

/// Whether the step failed with a `TransientError`.
fn is_transient(error: &StepError) -> bool {
    std::iter::successors(Some(error as &(dyn Error + 'static)), |&link| link.source())
        .any(<dyn Error>::is::<TransientError>)
}

/// 1-15: a step raising `TransientError` at its first attempt, under a
/// retry strategy that retries (1 s later) only that error.
async fn step_retry_specific_exception(
    _event: Value,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let result = ctx
        .step(|step| async move {
            if step.attempt() == 1 {
                return Err(transient("temporary glitch"));
            }
            Ok("succeeded after a transient error".to_owned())
        })
        .retry_strategy(|error, attempt| {
            if is_transient(error) && attempt < 3 {
                RetryDecision::Retry {
                    delay: Duration::from_secs(1),
                }
            } else {
                RetryDecision::Stop
            }
        })
        .await?;
    Ok(result)
}

/// 1-16: a step raising `TransientError`, under a retry strategy that does
/// not retry that error; the step and the execution fail.
async fn step_retry_non_retryable(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .step(|_| async { Err::<String, BoxError>(transient("not retried")) })
        .retry_strategy(|error, attempt| {
            if is_transient(error) || attempt >= 3 {
                RetryDecision::Stop
            } else {
                RetryDecision::Retry {
                    delay: Duration::from_secs(1),
                }
            }
        })
        .await?;
    Ok(result)
}

/// Ends the runtime process at once, as a crash would (after flushing
/// stdout, where the log lines go). 1-17 and 1-18 demand this crash.
fn crash() -> ! {
    let _ = std::io::stdout().flush();
    std::process::exit(1)
}

/// 1-17's step body: logs its input (naming the execution ARN at the
/// record's top level, as in 1-7), then crashes the process.
fn log_then_crash(arn: &str, text: &str) -> Result<String, BoxError> {
    tracing::info!(executionArn = arn, "at-most-once step running for: {text}");
    crash()
}

/// 1-17: an at-most-once step (no retry) named `at_most_once_flaky_step`
/// logs its input, then crashes the process. The next invocation finds the
/// step started but not finished: the SDK fails it (no retry) without
/// running it again, and the execution fails.
async fn step_at_most_once_no_retry(
    event: String,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let arn = ctx.execution_arn().to_owned();
    let result = ctx
        .step(move |_| async move { log_then_crash(&arn, &event) })
        .name("at_most_once_flaky_step")
        .semantics(StepSemantics::AtMostOncePerRetry)
        .retry_strategy_config(no_retry())
        .await?;
    Ok(result)
}

/// 1-18: an at-most-once step with retry (3 attempts at most, 1 s apart, no
/// jitter): attempt 1 logs its input and crashes the process; the SDK then
/// finds the step interrupted and schedules a retry; attempt 2 logs its
/// input again and succeeds. Each record names the execution ARN at its top
/// level, as in 1-7.
async fn step_at_most_once_with_retry(
    event: String,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let arn = ctx.execution_arn().to_owned();
    let result = ctx
        .step(move |step| async move {
            let attempt = step.attempt();
            tracing::info!(
                executionArn = arn,
                "at-most-once step attempt {attempt} for: {event}"
            );
            if attempt == 1 {
                crash();
            }
            Ok("succeeded on second attempt".to_owned())
        })
        .semantics(StepSemantics::AtMostOncePerRetry)
        .retry_strategy_config(
            RetryStrategyConfig::builder()
                .max_attempts(3)
                .initial_delay(Duration::from_secs(1))
                .jitter(JitterStrategy::None)
                .build(),
        )
        .await?;
    Ok(result)
}

/// 1-19: a step that always fails, with no retry: the step and the
/// execution fail.
async fn step_with_error(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let result = ctx
        .step(|_| async { Err::<String, BoxError>("step failed permanently".into()) })
        .retry_strategy_config(no_retry())
        .await?;
    Ok(result)
}

/// 1-20: a failing step (no retry) whose error the handler catches, going
/// on with a fallback value, which a second step returns.
async fn step_error_caught(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let failed = ctx
        .step(|_| async { Err::<String, BoxError>("step failed".into()) })
        .retry_strategy_config(no_retry())
        .await;
    let value = failed.unwrap_or_else(|_| "fallback_result".to_owned());
    let result = ctx.step(move |_| async move { Ok(value) }).await?;
    Ok(result)
}
