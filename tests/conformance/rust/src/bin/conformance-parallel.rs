//! The parallel suite's handlers (requirements 8-1 to 8-22).

use std::time::Duration;

use aws_durable_execution_sdk::builders::map_parallel::{CompletionConfig, NestingMode};
use aws_durable_execution_sdk::serdes::SerdesContext;
use aws_durable_execution_sdk::{self as durable, BoxError, Branch, DurableContext, Serdes};
use conformance_functions::{counts, outcome};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "parallel_basic" => durable::run(parallel_basic).await,
        "parallel_no_name" => durable::run(parallel_no_name).await,
        "parallel_named_branches" => durable::run(parallel_named_branches).await,
        "parallel_mixed_types" => durable::run(parallel_mixed_types).await,
        "parallel_empty" => durable::run(parallel_empty).await,
        "parallel_fail_fast" => durable::run(parallel_fail_fast).await,
        "parallel_throw_if_error" => durable::run(parallel_throw_if_error).await,
        "parallel_min_successful" => durable::run(parallel_min_successful).await,
        "parallel_tolerated_count" => durable::run(parallel_tolerated_count).await,
        "parallel_tolerated_count_exceeded" => {
            durable::run(parallel_tolerated_count_exceeded).await
        }
        "parallel_concurrent" => durable::run(parallel_concurrent).await,
        "parallel_flat" => durable::run(parallel_flat).await,
        "parallel_tolerated_percentage_exceeded" => {
            durable::run(parallel_tolerated_percentage_exceeded).await
        }
        "parallel_wait_replay" => durable::run(parallel_wait_replay).await,
        "parallel_item_serdes" => durable::run(parallel_item_serdes).await,
        "parallel_all_fail" => durable::run(parallel_all_fail).await,
        "parallel_min_not_reached" => durable::run(parallel_min_not_reached).await,
        "parallel_combined_completion" => durable::run(parallel_combined_completion).await,
        "parallel_invalid_concurrency" => durable::run(parallel_invalid_concurrency).await,
        "parallel_accessors" => durable::run(parallel_accessors).await,
        "parallel_nested" => durable::run(parallel_nested).await,
        "parallel_percentage_boundary" => durable::run(parallel_percentage_boundary).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// A branch that returns `value` directly, without any inner operation.
fn constant(name: &str, value: &'static str) -> Branch<String> {
    Branch::new(name, move |_| async move { Ok(value.to_owned()) })
}

/// A branch that runs one step named `value` returning `value`.
fn one_step(name: &str, value: &'static str) -> Branch<String> {
    Branch::new(name, move |ctx: DurableContext| async move {
        let result = ctx
            .step(move |_| async move { Ok(value.to_owned()) })
            .name(value)
            .await?;
        Ok(result)
    })
}

/// A branch that fails with `message`.
fn failing(name: &str, message: &'static str) -> Branch<String> {
    Branch::new(name, move |_| async move {
        Err::<String, BoxError>(message.into())
    })
}

/// 8-1: parallel "parallel" of two branches, one at a time, each running a
/// single step ("task-1", "task-2"); returns the branch results in order.
async fn parallel_basic(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches = vec![
        one_step("branch-0", "task-1"),
        one_step("branch-1", "task-2"),
    ];
    Ok(ctx
        .parallel(branches)
        .name("parallel")
        .max_concurrency(1)
        .await?)
}

/// 8-2: parallel without an operation name; two branches return "alpha" and
/// "beta" directly, one at a time.
async fn parallel_no_name(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches = vec![constant("alpha", "alpha"), constant("beta", "beta")];
    Ok(ctx.parallel(branches).max_concurrency(1).await?)
}

/// 8-3: parallel "named" of two named branches, "first" returning "one" and
/// "second" returning "two", one at a time.
async fn parallel_named_branches(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches = vec![constant("first", "one"), constant("second", "two")];
    Ok(ctx
        .parallel(branches)
        .name("named")
        .max_concurrency(1)
        .await?)
}

/// A branch result of one of three shapes: each branch of 8-4 returns its
/// own type, and the untagged form keeps each one's JSON type on the wire.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Mixed {
    /// A string.
    Text(String),
    /// A number.
    Number(i64),
    /// An object.
    Object(std::collections::BTreeMap<String, String>),
}

/// 8-4: parallel "hetero" whose three branches return a string ("hello"),
/// a number (42) and an object ({k: "v"}), one at a time.
async fn parallel_mixed_types(_event: (), ctx: DurableContext) -> Result<Vec<Mixed>, BoxError> {
    let branches = vec![
        Branch::new("text", |_| async { Ok(Mixed::Text("hello".to_owned())) }),
        Branch::new("number", |_| async { Ok(Mixed::Number(42)) }),
        Branch::new("object", |_| async {
            Ok(Mixed::Object([("k".to_owned(), "v".to_owned())].into()))
        }),
    ];
    Ok(ctx
        .parallel(branches)
        .name("hetero")
        .max_concurrency(1)
        .await?)
}

/// 8-5: parallel "empty" with no branches; returns the empty result list.
async fn parallel_empty(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches: Vec<Branch<String>> = Vec::new();
    Ok(ctx.parallel(branches).name("empty").await?)
}

/// 8-6: parallel "failfast" with tolerated-failure-count 0, one at a time:
/// branch 0 returns "ok", branch 1 fails, branch 2 never starts; returns the
/// batch outcome.
async fn parallel_fail_fast(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![
        constant("branch-0", "ok"),
        failing("branch-1", "branch 1 failed"),
        constant("branch-2", "ok"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("failfast")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(0))
        .await_batch()
        .await?;
    Ok(outcome(&batch))
}

/// 8-7: parallel "throwing" with tolerated-failure-count 0, one at a time:
/// branch 0 fails, so branch 1 never starts. Awaiting the builder for its
/// results is the SDK's rethrow: a batch that exceeded its failure tolerance
/// yields the first branch failure as the error, which fails the execution.
async fn parallel_throw_if_error(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches = vec![
        failing("branch-0", "branch 0 failed"),
        constant("branch-1", "never"),
    ];
    Ok(ctx
        .parallel(branches)
        .name("throwing")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(0))
        .await?)
}

/// 8-8: parallel "min-successful" of four constant branches with
/// min-successful 2, one at a time: it completes after two successes;
/// returns `{completionReason, successCount, totalCount}`.
async fn parallel_min_successful(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![
        constant("branch-0", "b0"),
        constant("branch-1", "b1"),
        constant("branch-2", "b2"),
        constant("branch-3", "b3"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("min-successful")
        .max_concurrency(1)
        .completion(CompletionConfig::with_min_successful(2))
        .await_batch()
        .await?;
    Ok(json!({
        "completionReason": batch.reason.as_str(),
        "successCount": batch.success_count(),
        "totalCount": batch.total_count(),
    }))
}

/// 8-9: parallel "tolerated" with tolerated-failure-count 1, one at a time:
/// branch 1 fails, branches 0 and 2 succeed; returns the batch outcome.
async fn parallel_tolerated_count(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![
        constant("branch-0", "ok"),
        failing("branch-1", "branch 1 failed"),
        constant("branch-2", "ok"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("tolerated")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(outcome(&batch))
}

/// 8-10: parallel "tolerated-exceeded" with tolerated-failure-count 1, one
/// at a time: branches 0 and 1 fail, so branch 2 never starts; returns the
/// batch counts.
async fn parallel_tolerated_count_exceeded(
    _event: (),
    ctx: DurableContext,
) -> Result<Value, BoxError> {
    let branches = vec![
        failing("branch-0", "branch failed"),
        failing("branch-1", "branch failed"),
        constant("branch-2", "ok"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("tolerated-exceeded")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(counts(&batch))
}

/// 8-11: parallel "concurrent" of three branches returning "r0", "r1",
/// "r2" directly, two at a time; results come back in branch order.
async fn parallel_concurrent(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches = vec![
        constant("branch-0", "r0"),
        constant("branch-1", "r1"),
        constant("branch-2", "r2"),
    ];
    Ok(ctx
        .parallel(branches)
        .name("concurrent")
        .max_concurrency(2)
        .await?)
}

/// 8-12: parallel "flat" with FLAT nesting, one at a time: each branch's
/// step ("fa", "fb") is checkpointed directly under the Parallel context.
async fn parallel_flat(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches = vec![one_step("branch-0", "fa"), one_step("branch-1", "fb")];
    Ok(ctx
        .parallel(branches)
        .name("flat")
        .max_concurrency(1)
        .nesting(NestingMode::Flat)
        .await?)
}

/// 8-13: parallel "tolerated-pct" with tolerated-failure-percentage 25 of
/// four branches, one at a time: the second failure (50%) stops it before
/// branches 2 and 3 start; returns the batch counts.
async fn parallel_tolerated_percentage_exceeded(
    _event: (),
    ctx: DurableContext,
) -> Result<Value, BoxError> {
    let branches = vec![
        failing("branch-0", "branch failed"),
        failing("branch-1", "branch failed"),
        constant("branch-2", "ok"),
        constant("branch-3", "ok"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("tolerated-pct")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_percentage(25))
        .await_batch()
        .await?;
    Ok(counts(&batch))
}

/// 8-14: parallel "replay", one at a time: branch 0 runs a step returning
/// "b0", branch 1 waits 2 s (the execution suspends) and then returns "b1";
/// on replay branch 0 is not run again.
async fn parallel_wait_replay(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches = vec![
        one_step("branch-0", "b0"),
        Branch::new("branch-1", |ctx: DurableContext| async move {
            ctx.wait(Duration::from_secs(2)).await?;
            Ok("b1".to_owned())
        }),
    ];
    Ok(ctx
        .parallel(branches)
        .name("replay")
        .max_concurrency(1)
        .await?)
}

/// The envelope [`Wrapping`] stores a branch result in.
#[derive(Debug, Serialize, Deserialize)]
struct Wrapped<T> {
    /// The branch result.
    wrapped: T,
}

/// The per-branch serde of 8-15: stores a value `v` as `{"wrapped": v}`
/// and reads the envelope back to `v`.
#[derive(Debug)]
struct Wrapping;

impl<T> Serdes<T> for Wrapping
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    async fn serialize(&self, value: T, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(serde_json::to_string(&Wrapped { wrapped: value })?)
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<T, BoxError> {
        let envelope: Wrapped<T> = serde_json::from_str(&wire)?;
        Ok(envelope.wrapped)
    }
}

/// 8-15: parallel "serde" of two branches returning "x" and "y", one at a
/// time, with the per-branch serde [`Wrapping`]: each branch result is
/// checkpointed wrapped and read back as the plain value.
async fn parallel_item_serdes(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let branches = vec![constant("branch-0", "x"), constant("branch-1", "y")];
    Ok(ctx
        .parallel(branches)
        .name("serde")
        .max_concurrency(1)
        .serdes(Wrapping)
        .await?)
}

/// 8-16: parallel "all-fail" of three failing branches with
/// tolerated-failure-count 3, one at a time: all run; returns the batch
/// outcome.
async fn parallel_all_fail(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![
        failing("branch-0", "branch failed"),
        failing("branch-1", "branch failed"),
        failing("branch-2", "branch failed"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("all-fail")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(3))
        .await_batch()
        .await?;
    Ok(outcome(&batch))
}

/// 8-17: parallel "min-not-reached" with min-successful 3, one at a time:
/// branch 1 fails, so the threshold is never reached and all three run;
/// returns the batch outcome.
async fn parallel_min_not_reached(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![
        constant("branch-0", "ok"),
        failing("branch-1", "branch 1 failed"),
        constant("branch-2", "ok"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("min-not-reached")
        .max_concurrency(1)
        .completion(CompletionConfig::with_min_successful(3))
        .await_batch()
        .await?;
    Ok(outcome(&batch))
}

/// 8-18: parallel "combined" with min-successful 3 and
/// tolerated-failure-count 1, one at a time: branches 0 and 1 fail, which
/// exceeds the tolerance before branches 2 and 3 start; returns the counts.
async fn parallel_combined_completion(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let completion = CompletionConfig::builder()
        .min_successful(3)
        .tolerated_failure_count(1)
        .build()?;
    let branches = vec![
        failing("branch-0", "branch failed"),
        failing("branch-1", "branch failed"),
        constant("branch-2", "ok"),
        constant("branch-3", "ok"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("combined")
        .max_concurrency(1)
        .completion(completion)
        .await_batch()
        .await?;
    Ok(counts(&batch))
}

/// 8-19: parallel "bad-concurrency" with max-concurrency 0: the SDK rejects
/// it before checkpointing anything, and the uncaught error fails the
/// execution.
async fn parallel_invalid_concurrency(
    _event: (),
    ctx: DurableContext,
) -> Result<Vec<String>, BoxError> {
    let branches = vec![constant("branch-0", "b0"), constant("branch-1", "b1")];
    Ok(ctx
        .parallel(branches)
        .name("bad-concurrency")
        .max_concurrency(0)
        .await?)
}

/// 8-20: parallel "accessors" with tolerated-failure-count 1, one at a
/// time: branch 1 fails, branches 0 and 2 succeed; returns what the batch
/// accessors report: the failure flag, the number of successful results,
/// the failure count and the number of errors.
async fn parallel_accessors(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![
        constant("branch-0", "ok"),
        failing("branch-1", "branch 1 failed"),
        constant("branch-2", "ok"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("accessors")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(json!({
        "hasFailure": batch.has_failure(),
        "successCount": batch.results().len(),
        "failureCount": batch.failure_count(),
        "errorCount": batch.errors().len(),
    }))
}

/// 8-21: parallel "outer" with one branch that runs parallel "inner" of two
/// one-step branches ("i1", "i2"), both one at a time; returns
/// `[["i1", "i2"]]`.
async fn parallel_nested(_event: (), ctx: DurableContext) -> Result<Vec<Vec<String>>, BoxError> {
    let outer = vec![Branch::new("branch-a", |ctx: DurableContext| async move {
        let inner = vec![one_step("branch-0", "i1"), one_step("branch-1", "i2")];
        let results = ctx.parallel(inner).name("inner").max_concurrency(1).await?;
        Ok(results)
    })];
    Ok(ctx.parallel(outer).name("outer").max_concurrency(1).await?)
}

/// 8-22: parallel "pct-boundary" with tolerated-failure-percentage 25 of
/// four branches, one at a time: only branch 0 fails (exactly 25%, not
/// above), so all four run; returns the batch outcome.
async fn parallel_percentage_boundary(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let branches = vec![
        failing("branch-0", "branch 0 failed"),
        constant("branch-1", "ok"),
        constant("branch-2", "ok"),
        constant("branch-3", "ok"),
    ];
    let batch = ctx
        .parallel(branches)
        .name("pct-boundary")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_percentage(25))
        .await_batch()
        .await?;
    Ok(outcome(&batch))
}
