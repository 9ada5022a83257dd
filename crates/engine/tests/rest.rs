//! Executions at rest: out of memory while nothing concerns them, loaded
//! again by their timer, a callback, a chained invoke's end, a request or a
//! restart; the store's timer index and outbox that make it so. On paused
//! time: the waits take no time.
#![allow(clippy::expect_used, reason = "test helpers")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk::DurableContext;
use common::{callback_function, durable, event_types, finished, parent_and_child};
use durable_engine::execution::{ExecutionState, SeededIds};
use durable_engine::functions::DurableConfig;
use durable_engine::model::{ExecutionStatus, OperationType, Timestamp};
use durable_engine::store::{MemoryStore, Store};
use durable_engine::testing::{TestEngine, callback_id, count};
use durable_engine::{Engine, Progress};

/// How long an idle execution stays in memory in these tests.
const REST_AFTER: Duration = Duration::from_secs(2);

fn engine_over(store: &Arc<MemoryStore>) -> Engine {
    TestEngine::new()
        .store(Arc::clone(store) as Arc<dyn Store>)
        .options(|options| options.rest_after = REST_AFTER)
        .build()
}

/// A durable function that may run two days.
const LONG: DurableConfig = DurableConfig {
    execution_timeout: 2 * 86_400,
    retention_days: 1,
};

/// Registers `Napper`: a step, a wait of five minutes, a step.
fn napper(engine: &Engine) {
    durable(
        engine,
        "Napper",
        LONG,
        |n: u32, ctx: DurableContext| async move {
            let before = ctx
                .step(move |_| async move { Ok(n) })
                .name("before")
                .await?;
            ctx.wait(Duration::from_mins(5)).name("nap").await?;
            let after = ctx
                .step(move |_| async move { Ok(before + 1) })
                .name("after")
                .await?;
            Ok(after)
        },
    );
}

/// Waits until no execution is in memory.
async fn until_all_at_rest(engine: &Engine) {
    tokio::time::timeout(Duration::from_mins(1), async {
        while engine.resident_count() > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("every execution goes to rest");
}

#[tokio::test(start_paused = true)]
async fn an_execution_that_waits_goes_to_rest_and_its_timer_loads_it_again() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine_over(&store);
    napper(&engine);
    let arn = common::start(&engine, "Napper", "41").await;
    until_all_at_rest(&engine).await;
    // At rest: only the store has it, with its wait's end as its due moment.
    let record = engine.execution(&arn).await.unwrap();
    assert_eq!(record.status, ExecutionStatus::Running);
    let due = store
        .due(None, Timestamp::from_millis(i64::MAX), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].arn, arn);
    assert!(
        due[0].at.millis() - record.start.millis() >= 300_000,
        "due at the wait's end"
    );
    let ended = finished(&engine, &arn).await;
    assert_eq!(ended.result.as_deref(), Some("42"));
    assert_eq!(
        ended.invocations, 2,
        "one invocation to the wait, one after it"
    );
}

#[tokio::test(start_paused = true)]
async fn an_execution_waiting_for_a_callback_rests_until_the_callback_loads_it() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine_over(&store);
    let ids = callback_function(&engine, "Approve", None, None);
    let arn = common::start(&engine, "Approve", "{}").await;
    let callback = callback_id(ids).await;
    until_all_at_rest(&engine).await;
    // Nothing is due for it before its timeout: it waits for the callback.
    let timeout = engine.execution(&arn).await.unwrap().timeout_at();
    let due = store
        .due(None, Timestamp::from_millis(i64::MAX), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].at, timeout, "no timer but its timeout");
    engine
        .callback_succeed(&callback, Some("\"yes\"".to_owned()))
        .await
        .unwrap();
    let ended = finished(&engine, &arn).await;
    assert_eq!(ended.status, ExecutionStatus::Succeeded);
    assert_eq!(ended.result.as_deref(), Some("\"approved by yes\""));
}

#[tokio::test(start_paused = true)]
async fn waits_ending_close_together_end_together_within_a_tick_and_a_lone_one_on_time() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine_over(&store);
    napper(&engine);
    // Six waits of five minutes, ending 10 ms apart.
    let mut arns = Vec::new();
    for n in 0..6 {
        arns.push(common::start(&engine, "Napper", &n.to_string()).await);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    until_all_at_rest(&engine).await;
    let mut ends = Vec::new();
    for arn in &arns {
        finished(&engine, arn).await;
        let wait = common::operation(&engine, arn, OperationType::Wait).await;
        let scheduled = wait
            .wait_details
            .and_then(|details| details.scheduled_end_timestamp)
            .expect("a scheduled end");
        let ended = wait.end_timestamp.expect("the wait ended");
        ends.push((scheduled.millis(), ended.millis()));
    }
    let first_end = ends[0].1;
    assert_eq!(
        ends[0].0, first_end,
        "the first ends when it is due: {ends:?}"
    );
    for (scheduled, ended) in &ends[1..] {
        assert_eq!(
            *ended,
            first_end + 50,
            "the next five end together, a tick after the first: {ends:?}"
        );
        assert!(ended >= scheduled, "none ends early: {ends:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_chained_invoke_is_in_the_outbox_until_its_end_and_the_child_loads_its_parent() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine_over(&store);
    parent_and_child(&engine, Duration::from_secs(40), |n| n * 2);
    let mut progress = engine.subscribe();
    let arn = common::start(&engine, "Parent", "20").await;
    // The child waits; the parent waits for the child: both go to rest.
    loop {
        if let Ok(Progress::Operation { name, .. }) = progress.recv().await
            && name == "think"
        {
            break;
        }
    }
    until_all_at_rest(&engine).await;
    let outbox = store.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "the parent's invoke is under way");
    assert_eq!(outbox[0].0, arn);
    let ended = finished(&engine, &arn).await;
    assert_eq!(ended.result.as_deref(), Some("41"));
    assert!(
        store.outbox().await.unwrap().is_empty(),
        "its end is recorded"
    );
}

#[tokio::test(start_paused = true)]
async fn a_restart_invokes_nothing_that_is_not_due_and_loads_nothing_until_it_is() {
    let store = Arc::new(MemoryStore::new());
    let first = engine_over(&store);
    let ids = callback_function(&first, "Approve", None, None);
    let arn = common::start(&first, "Approve", "{}").await;
    let callback = callback_id(ids).await;
    until_all_at_rest(&first).await;
    assert!(first.shutdown(Duration::from_secs(5)).await);
    let invocations_before = count(&first, &arn, "InvocationCompleted").await;

    let second = engine_over(&store);
    let _ = callback_function(&second, "Approve", None, None);
    assert_eq!(
        second.recover().await.unwrap(),
        0,
        "no chained invoke under way"
    );
    // Before its timeout (60 s), nothing of it is due.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(second.resident_count(), 0, "nothing loaded");
    assert_eq!(
        count(&second, &arn, "InvocationCompleted").await,
        invocations_before,
        "a restart invokes nothing that waits on a callback"
    );
    second
        .callback_succeed(&callback, Some("\"later\"".to_owned()))
        .await
        .unwrap();
    let ended = finished(&second, &arn).await;
    assert_eq!(ended.status, ExecutionStatus::Succeeded);
    assert!(
        ended
            .result
            .as_deref()
            .is_some_and(|result| result.contains("later")),
        "{:?}",
        ended.result
    );
}

#[tokio::test(start_paused = true)]
async fn an_execution_cut_off_mid_invocation_is_invoked_again_after_a_restart() {
    let store = Arc::new(MemoryStore::new());
    let first = engine_over(&store);
    napper(&first);
    let arn = common::start(&first, "Napper", "1").await;
    // The engine ends while the first invocation may still run: the store
    // shows an invocation owed or under way, due at once.
    assert!(first.shutdown(Duration::from_secs(5)).await);
    let second = engine_over(&store);
    napper(&second);
    second.recover().await.unwrap();
    let ended = finished(&second, &arn).await;
    assert_eq!(ended.result.as_deref(), Some("2"));
    let types = event_types(&second, &arn).await;
    assert_eq!(
        types.iter().filter(|kind| *kind == "StepSucceeded").count(),
        2,
        "each step once: {types:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn starts_beyond_the_engines_concurrency_wait_at_rest_and_all_end() {
    let store = Arc::new(MemoryStore::new());
    let engine = TestEngine::new()
        .store(Arc::clone(&store) as Arc<dyn Store>)
        .options(|options| {
            options.rest_after = REST_AFTER;
            options.max_concurrent_invocations = 2;
        })
        .build();
    napper(&engine);
    let mut arns = Vec::new();
    for n in 0..10 {
        arns.push(common::start(&engine, "Napper", &n.to_string()).await);
        assert!(engine.resident_count() <= 2, "at most two loaded by starts");
    }
    for (n, arn) in arns.iter().enumerate() {
        let ended = finished(&engine, arn).await;
        assert_eq!(ended.result, Some((n + 1).to_string()));
    }
}

#[test]
fn the_same_ids_replay_a_history_to_the_byte() {
    let run = || {
        let mut state = ExecutionState::start(common::running_record(), "op".to_owned(), 1.0)
            .with_ids(Box::new(SeededIds::new(7)));
        let (_, envelope) = state.begin_invocation(1, Timestamp::from_millis(1_000), 10);
        let update = durable_engine::model::OperationUpdate {
            id: "cb".to_owned(),
            kind: OperationType::Callback.into(),
            action: durable_engine::model::OperationAction::Start.into(),
            ..Default::default()
        };
        let answer = state
            .checkpoint(
                &envelope.checkpoint_token,
                None,
                &[update],
                Timestamp::from_millis(1_001),
                &|_| None,
            )
            .unwrap();
        let (changes, _) = state.take_changes();
        (
            serde_json::to_string(&envelope).unwrap(),
            answer.checkpoint_token,
            serde_json::to_string(&changes.events).unwrap(),
        )
    };
    assert_eq!(run(), run());
}
