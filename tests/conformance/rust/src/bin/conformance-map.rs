//! The map suite's handlers (requirements 9-1 to 9-20).

use std::time::Duration;

use aws_durable_execution_sdk::builders::map_parallel::{
    BatchSummary, CompletionConfig, NestingMode,
};
use aws_durable_execution_sdk::serdes::SerdesContext;
use aws_durable_execution_sdk::{self as durable, BoxError, DurableContext, Serdes};
use conformance_functions::{counts, outcome};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "map_basic" => durable::run(map_basic).await,
        "map_no_name" => durable::run(map_no_name).await,
        "map_indexed" => durable::run(map_indexed).await,
        "map_empty" => durable::run(map_empty).await,
        "map_fail_fast" => durable::run(map_fail_fast).await,
        "map_throw_if_error" => durable::run(map_throw_if_error).await,
        "map_min_successful" => durable::run(map_min_successful).await,
        "map_tolerated_count" => durable::run(map_tolerated_count).await,
        "map_tolerated_count_exceeded" => durable::run(map_tolerated_count_exceeded).await,
        "map_tolerated_percentage_exceeded" => {
            durable::run(map_tolerated_percentage_exceeded).await
        }
        "map_concurrent" => durable::run(map_concurrent).await,
        "map_flat" => durable::run(map_flat).await,
        "map_item_namer" => durable::run(map_item_namer).await,
        "map_item_serdes" => durable::run(map_item_serdes).await,
        "map_wait_in_iteration" => durable::run(map_wait_in_iteration).await,
        "map_large_result" => durable::run(map_large_result).await,
        "map_then_wait" => durable::run(map_then_wait).await,
        "map_failure_then_wait" => durable::run(map_failure_then_wait).await,
        "map_operation_serdes" => durable::run(map_operation_serdes).await,
        "map_operation_serdes_replay" => durable::run(map_operation_serdes_replay).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// Owned strings from string literals.
fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|&item| item.to_owned()).collect()
}

/// The map function of the failure requirements: fails the item "fail",
/// returns any other item unchanged.
async fn fail_on_fail(
    _ctx: DurableContext,
    item: String,
    index: usize,
) -> Result<String, BoxError> {
    if item == "fail" {
        return Err(format!("item {index} failed").into());
    }
    Ok(item)
}

/// The map function that returns its item unchanged.
async fn same(_ctx: DurableContext, item: String, _index: usize) -> Result<String, BoxError> {
    Ok(item)
}

/// The map function that returns its item in upper case.
async fn upper(_ctx: DurableContext, item: String, _index: usize) -> Result<String, BoxError> {
    Ok(item.to_uppercase())
}

/// 9-1: map "map" over the input names, one at a time; each item runs one
/// step returning "Hello, <item>!".
async fn map_basic(event: Vec<String>, ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    Ok(ctx
        .map(event, |ctx, item: String, index| async move {
            let greeting = ctx
                .step(move |_| async move { Ok(format!("Hello, {item}!")) })
                .name(format!("greet-{index}"))
                .await?;
            Ok(greeting)
        })
        .name("map")
        .max_concurrency(1)
        .await?)
}

/// 9-2: map without an operation name over the input numbers, one at a
/// time; each item returns its double directly.
async fn map_no_name(event: Vec<i64>, ctx: DurableContext) -> Result<Vec<i64>, BoxError> {
    Ok(ctx
        .map(event, |_, item: i64, _| async move { Ok(item * 2) })
        .max_concurrency(1)
        .await?)
}

/// 9-3: map "indexed" over the input numbers, one at a time; each item
/// returns itself plus its zero-based index.
async fn map_indexed(event: Vec<i64>, ctx: DurableContext) -> Result<Vec<i64>, BoxError> {
    Ok(ctx
        .map(event, |_, item: i64, index| async move {
            Ok(item + i64::try_from(index)?)
        })
        .name("indexed")
        .max_concurrency(1)
        .await?)
}

/// 9-4: map "empty" over the input, an empty list; returns the empty result
/// list.
async fn map_empty(event: Vec<Value>, ctx: DurableContext) -> Result<Vec<Value>, BoxError> {
    Ok(ctx
        .map(event, |_, item: Value, _| async move { Ok(item) })
        .name("empty")
        .await?)
}

/// 9-5: map "failfast" over `["ok", "fail", "ok"]` with tolerated-failure-count
/// 0, one at a time: item 1 fails, so item 2 never starts; returns the batch
/// outcome.
async fn map_fail_fast(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(strings(&["ok", "fail", "ok"]), fail_on_fail)
        .name("failfast")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(0))
        .await_batch()
        .await?;
    Ok(outcome(&batch))
}

/// 9-6: map "throwing" over `["fail", "ok"]` with tolerated-failure-count 0,
/// one at a time: item 0 fails, so item 1 never starts. Awaiting the
/// builder for its results is the SDK's rethrow: a batch that exceeded its
/// failure tolerance yields the first item failure as the error, which
/// fails the execution.
async fn map_throw_if_error(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    Ok(ctx
        .map(strings(&["fail", "ok"]), fail_on_fail)
        .name("throwing")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(0))
        .await?)
}

/// 9-7: map "min-successful" over four items with min-successful 2, one at
/// a time: it completes after two successes; returns
/// `{completionReason, successCount, totalCount}`.
async fn map_min_successful(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(strings(&["i0", "i1", "i2", "i3"]), same)
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

/// 9-8: map "tolerated" over `["ok", "fail", "ok"]` with
/// tolerated-failure-count 1, one at a time: all three run; returns the
/// batch outcome.
async fn map_tolerated_count(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(strings(&["ok", "fail", "ok"]), fail_on_fail)
        .name("tolerated")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(outcome(&batch))
}

/// 9-9: map "tolerated-exceeded" over `["fail", "fail", "ok"]` with
/// tolerated-failure-count 1, one at a time: the second failure stops it
/// before item 2 starts; returns the batch counts.
async fn map_tolerated_count_exceeded(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(strings(&["fail", "fail", "ok"]), fail_on_fail)
        .name("tolerated-exceeded")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    Ok(counts(&batch))
}

/// 9-10: map "tolerated-pct" over `["fail", "fail", "ok", "ok"]` with
/// tolerated-failure-percentage 25, one at a time: the second failure (50%)
/// stops it before items 2 and 3 start; returns the batch counts.
async fn map_tolerated_percentage_exceeded(
    _event: (),
    ctx: DurableContext,
) -> Result<Value, BoxError> {
    let batch = ctx
        .map(strings(&["fail", "fail", "ok", "ok"]), fail_on_fail)
        .name("tolerated-pct")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_percentage(25))
        .await_batch()
        .await?;
    Ok(counts(&batch))
}

/// 9-11: map "concurrent" over three items, two at a time; item `i`
/// returns "r<i>" directly, and results come back in item order.
async fn map_concurrent(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    Ok(ctx
        .map(
            strings(&["i0", "i1", "i2"]),
            |_, _item: String, index| async move { Ok(format!("r{index}")) },
        )
        .name("concurrent")
        .max_concurrency(2)
        .await?)
}

/// 9-12: map "flat" over `["fa", "fb"]` with FLAT nesting, one at a time:
/// each item's step, returning the item, sits directly under the Map
/// context.
async fn map_flat(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    Ok(ctx
        .map(strings(&["fa", "fb"]), |ctx, item: String, _| async move {
            let name = item.clone();
            let result = ctx
                .step(move |_| async move { Ok(item) })
                .name(name)
                .await?;
            Ok(result)
        })
        .name("flat")
        .max_concurrency(1)
        .nesting(NestingMode::Flat)
        .await?)
}

/// 9-13: map "named-items" over the input numbers, one at a time, with an
/// item namer naming the iteration at index `i` `item-<items[i]>`; each
/// item returns ten times itself.
async fn map_item_namer(event: Vec<i64>, ctx: DurableContext) -> Result<Vec<i64>, BoxError> {
    let names: Vec<String> = event.iter().map(|item| format!("item-{item}")).collect();
    Ok(ctx
        .map(event, |_, item: i64, _| async move { Ok(item * 10) })
        .name("named-items")
        .max_concurrency(1)
        .item_namer(move |index| names.get(index).cloned().unwrap_or_default())
        .await?)
}

/// What [`Prefixing`] puts before an item result.
const PREFIX: &str = "wrapped:";

/// The per-item serde of 9-14: stores a string `v` as "wrapped:<v>" and
/// reads it back without the prefix.
#[derive(Debug)]
struct Prefixing;

impl Serdes<String> for Prefixing {
    async fn serialize(&self, value: String, _context: SerdesContext) -> Result<String, BoxError> {
        Ok(format!("{PREFIX}{value}"))
    }

    async fn deserialize(&self, wire: String, _context: SerdesContext) -> Result<String, BoxError> {
        wire.strip_prefix(PREFIX)
            .map(str::to_owned)
            .ok_or_else(|| format!("item result without the prefix {PREFIX:?}: {wire}").into())
    }
}

/// 9-14: map "serdes" over `["x", "y"]`, one at a time, with the per-item
/// serde [`Prefixing`]; each item returns itself in upper case, which is
/// checkpointed as "wrapped:X" / "wrapped:Y" and read back as "X" / "Y".
async fn map_item_serdes(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    Ok(ctx
        .map(strings(&["x", "y"]), upper)
        .name("serdes")
        .max_concurrency(1)
        .serdes(Prefixing)
        .await?)
}

/// 9-15: map "suspend" over `["r0", "r1"]`, one at a time: item 1 first waits
/// 1 s (the execution suspends), then each item runs a step returning
/// itself; on replay item 0 is not run again.
async fn map_wait_in_iteration(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    Ok(ctx
        .map(
            strings(&["r0", "r1"]),
            |ctx, item: String, index| async move {
                if index == 1 {
                    ctx.wait(Duration::from_secs(1)).await?;
                }
                let name = item.clone();
                let result = ctx
                    .step(move |_| async move { Ok(item) })
                    .name(name)
                    .await?;
                Ok(result)
            },
        )
        .name("suspend")
        .max_concurrency(1)
        .await?)
}

/// The length of each item result of 9-16 (70 KiB).
const LARGE_ITEM_CHARACTERS: usize = 70 * 1024;

/// 9-16: map "large" over `["a", "b", "c", "d"]`, one at a time; each item
/// returns itself repeated 70 KiB times, so the whole Map result is over
/// the 256 KiB checkpoint limit. Returns `{successCount, totalCount}`.
async fn map_large_result(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(
            strings(&["a", "b", "c", "d"]),
            |_, item: String, _| async move { Ok(item.repeat(LARGE_ITEM_CHARACTERS)) },
        )
        .name("large")
        .max_concurrency(1)
        .await_batch()
        .await?;
    Ok(json!({
        "successCount": batch.success_count(),
        "totalCount": batch.total_count(),
    }))
}

/// 9-17: map "then-wait" over `["a", "b"]`, one at a time, each item in upper
/// case; then a 1 s wait; on replay the map is not run again.
async fn map_then_wait(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    let results = ctx
        .map(strings(&["a", "b"]), upper)
        .name("then-wait")
        .max_concurrency(1)
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(results)
}

/// 9-18: map "fail-then-wait" over `["ok", "fail"]` with
/// tolerated-failure-count 1, one at a time (item 1 fails); then a 1 s
/// wait; on replay the map, failed item included, is not run again.
/// Returns the batch outcome.
async fn map_failure_then_wait(_event: (), ctx: DurableContext) -> Result<Value, BoxError> {
    let batch = ctx
        .map(strings(&["ok", "fail"]), fail_on_fail)
        .name("fail-then-wait")
        .max_concurrency(1)
        .completion(CompletionConfig::with_tolerated_failure_count(1))
        .await_batch()
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(outcome(&batch))
}

/// What [`OpSerdes`] puts before the joined results.
const OPSERDE_PREFIX: &str = "OPSERDE:";

/// The serde representation of the SDK's [`BatchSummary`] (its documented
/// way in for a whole-result serde): item entries and the completion reason.
#[derive(Debug, Serialize, Deserialize)]
struct Summary {
    /// One entry per started item.
    results: Vec<SummaryItem>,
    /// The completion reason, e.g. `ALL_COMPLETED`.
    reason: String,
}

/// One item entry of [`Summary`].
#[derive(Debug, Serialize, Deserialize)]
struct SummaryItem {
    /// The item's position.
    index: usize,
    /// "SUCCEEDED", "FAILED" or "STARTED".
    status: String,
    /// The item result as its item serde wrote it (JSON here).
    #[serde(default)]
    result: String,
}

/// The operation-level serde of 9-19 and 9-20: writes the whole map result
/// as "OPSERDE:" and the successful results comma-joined, and reads that
/// back as all-succeeded items, completion reason `ALL_COMPLETED`.
#[derive(Debug)]
struct OpSerdes;

impl Serdes<BatchSummary> for OpSerdes {
    async fn serialize(
        &self,
        value: BatchSummary,
        _context: SerdesContext,
    ) -> Result<String, BoxError> {
        let summary: Summary = serde_json::from_value(serde_json::to_value(value)?)?;
        let mut results = Vec::new();
        for item in summary.results {
            if item.status == "SUCCEEDED" {
                results.push(serde_json::from_str::<String>(&item.result)?);
            }
        }
        Ok(format!("{OPSERDE_PREFIX}{}", results.join(",")))
    }

    async fn deserialize(
        &self,
        wire: String,
        _context: SerdesContext,
    ) -> Result<BatchSummary, BoxError> {
        let joined = wire
            .strip_prefix(OPSERDE_PREFIX)
            .ok_or_else(|| format!("map result without the prefix {OPSERDE_PREFIX:?}: {wire}"))?;
        let mut results = Vec::new();
        if !joined.is_empty() {
            for (index, result) in joined.split(',').enumerate() {
                results.push(SummaryItem {
                    index,
                    status: "SUCCEEDED".to_owned(),
                    result: serde_json::to_string(result)?,
                });
            }
        }
        let summary = Summary {
            results,
            reason: "ALL_COMPLETED".to_owned(),
        };
        Ok(serde_json::from_value(serde_json::to_value(summary)?)?)
    }
}

/// 9-19: map "op-serde" over `["x", "y"]`, one at a time, each item in upper
/// case (default item serde), with the whole-result serde [`OpSerdes`]: the
/// Map context's result is "OPSERDE:X,Y".
async fn map_operation_serdes(_event: (), ctx: DurableContext) -> Result<Vec<String>, BoxError> {
    Ok(ctx
        .map(strings(&["x", "y"]), upper)
        .name("op-serde")
        .max_concurrency(1)
        .result_serdes(OpSerdes)
        .await?)
}

/// 9-20: as 9-19 (map "op-serde-replay"), then a 1 s wait; on replay the
/// map result is rebuilt from "OPSERDE:X,Y" through [`OpSerdes`].
async fn map_operation_serdes_replay(
    _event: (),
    ctx: DurableContext,
) -> Result<Vec<String>, BoxError> {
    let results = ctx
        .map(strings(&["x", "y"]), upper)
        .name("op-serde-replay")
        .max_concurrency(1)
        .result_serdes(OpSerdes)
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(results)
}
