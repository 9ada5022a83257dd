//! The actor of one execution, driven by a function the test plays
//! ([`Scripted`]): checkpoints go straight to the engine, with no SDK,
//! transport or router between. What is asserted is the actor's own
//! behaviour: a refused write changes nothing, and the execution carries on
//! from the store once it heals; a wait's end is committed before the function hears of it; a
//! chained result reaches the caller's next checkpoint; shutdown waits for
//! an invocation under way within its grace, and no longer; an actor that
//! panics is loaded again, and whoever waits for the end still gets it.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use std::sync::Arc;
use std::time::Duration;

use durable_engine::Engine;
use durable_engine::functions::{FunctionConfig, in_process};
use durable_engine::model::{
    ChainedInvokeOptions, OperationStatus, OperationType, OperationUpdate, Sent, WaitOptions,
};
use durable_engine::store::MemoryStore;
use durable_engine::testing::{
    FaultyStore, Played, Scripted, TestEngine, finished, start, until_invocations_ended,
};

fn update(id: &str, kind: &str, action: &str) -> OperationUpdate {
    OperationUpdate {
        id: id.to_owned(),
        kind: Sent::from_text(kind),
        action: Sent::from_text(action),
        ..OperationUpdate::default()
    }
}

/// An engine over a store that refuses writes on command, and a played
/// function `Played`.
fn harness() -> (Engine, Arc<FaultyStore>, Arc<Scripted>) {
    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let engine = TestEngine::new().store(store.clone()).build();
    let played = Scripted::register(&engine, "Played");
    (engine, store, played)
}

/// The status of operation `id` as the store has it.
async fn stored(engine: &Engine, arn: &str, id: &str) -> Option<OperationStatus> {
    let operations = engine.store().operations(arn).await.unwrap();
    operations.iter().find(|op| op.id == id).map(|op| op.status)
}

async fn checkpoint(
    engine: &Engine,
    played: &Played,
    token: &str,
    updates: Vec<OperationUpdate>,
) -> Result<durable_engine::model::CheckpointOutput, durable_engine::EngineError> {
    engine
        .checkpoint(&played.arn, token.to_owned(), None, updates)
        .await
}

#[tokio::test(start_paused = true)]
async fn a_checkpoint_the_store_refuses_changes_nothing_and_the_execution_carries_on_from_the_store()
 {
    let (engine, store, played) = harness();
    let arn = start(&engine, "Played", "{}").await.unwrap();
    let invocation = played.next().await;
    store.refuse_after(0);
    let refused = checkpoint(
        &engine,
        &invocation,
        &invocation.token,
        vec![update("s", "STEP", "START")],
    )
    .await;
    let error = refused.unwrap_err().to_string();
    assert!(error.contains(FaultyStore::FULL), "{error}");
    assert_eq!(stored(&engine, &arn, "s").await, None, "nothing applied");
    // The execution is read back from the store, as after a crash: the
    // invocation that checkpointed is over, and its token with it.
    let stale = checkpoint(
        &engine,
        &invocation,
        &invocation.token,
        vec![update("s", "STEP", "START")],
    )
    .await
    .unwrap_err();
    assert!(
        stale.to_string().contains("Invalid Checkpoint Token"),
        "{stale}"
    );
    invocation.suspend();
    store.heal();
    // Once the store accepts writes, a new invocation replays from what is
    // stored, and its checkpoints are applied.
    let again = played.next().await;
    assert!(
        again.operations.iter().all(|op| op.id != "s"),
        "the refused step is not there"
    );
    let output = checkpoint(
        &engine,
        &again,
        &again.token,
        vec![update("s", "STEP", "START")],
    )
    .await
    .unwrap();
    checkpoint(
        &engine,
        &again,
        &output.checkpoint_token,
        vec![update("s", "STEP", "SUCCEED")],
    )
    .await
    .unwrap();
    assert_eq!(
        stored(&engine, &arn, "s").await,
        Some(OperationStatus::Succeeded)
    );
    again.succeed("\"done\"");
    let record = finished(&engine, &arn).await;
    assert_eq!(record.result.as_deref(), Some("\"done\""));
}

#[tokio::test(start_paused = true)]
async fn a_waits_end_is_committed_before_the_function_hears_of_it() {
    let (engine, store, played) = harness();
    let arn = start(&engine, "Played", "{}").await.unwrap();
    let invocation = played.next().await;
    let mut wait = update("w", "WAIT", "START");
    wait.wait_options = Some(WaitOptions {
        wait_seconds: Some(5),
    });
    checkpoint(&engine, &invocation, &invocation.token, vec![wait])
        .await
        .unwrap();
    invocation.suspend();
    until_invocations_ended(&engine, &arn, 1).await;
    // The wait ends while the store refuses every write: its end cannot be
    // committed, so the function is not invoked.
    store.refuse_after(0);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(store.refused() > 0, "the wait's end was tried");
    assert!(!played.pending().await, "no invocation before the commit");
    assert_eq!(
        stored(&engine, &arn, "w").await,
        Some(OperationStatus::Started)
    );
    store.heal();
    let again = played.next().await;
    assert_eq!(
        stored(&engine, &arn, "w").await,
        Some(OperationStatus::Succeeded),
        "committed before the invocation"
    );
    let wait = again.operations.iter().find(|op| op.id == "w").unwrap();
    assert_eq!(wait.status, OperationStatus::Succeeded);
    again.succeed("1");
    finished(&engine, &arn).await;
}

#[tokio::test(start_paused = true)]
async fn a_chained_result_reaches_the_callers_next_checkpoint_while_it_runs() {
    let (engine, _store, played) = harness();
    let (release, released) = tokio::sync::watch::channel(false);
    engine.register(durable_engine::functions::Function::new(
        FunctionConfig::plain("Worker"),
        in_process(move |_: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let mut released = released.clone();
            async move {
                let _ = released.wait_for(|go| *go).await;
                Ok::<_, std::convert::Infallible>(serde_json::json!(42))
            }
        }),
    ));
    let arn = start(&engine, "Played", "{}").await.unwrap();
    let invocation = played.next().await;
    let mut call = update("c", "CHAINED_INVOKE", "START");
    call.chained_invoke_options = Some(ChainedInvokeOptions {
        function_name: Some("Worker".to_owned()),
        tenant_id: None,
    });
    let output = checkpoint(&engine, &invocation, &invocation.token, vec![call])
        .await
        .unwrap();
    release.send_replace(true);
    // The caller keeps checkpointing (as an SDK does while other work holds
    // the invocation open) until the result shows in an answer.
    let mut token = output.checkpoint_token;
    let result = loop {
        let output = checkpoint(&engine, &invocation, &token, Vec::new())
            .await
            .unwrap();
        token = output.checkpoint_token;
        let done = output
            .new_execution_state
            .operations
            .into_iter()
            .find(|op| op.id == "c" && op.status == OperationStatus::Succeeded);
        if let Some(op) = done {
            break op;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(result.kind, OperationType::ChainedInvoke);
    let details = result.chained_invoke_details.unwrap();
    assert_eq!(details.result.as_deref(), Some("42"));
    invocation.succeed("42");
    let record = finished(&engine, &arn).await;
    assert_eq!(record.invocations, 1, "one invocation did it all");
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_an_invocation_under_way_within_its_grace_and_no_longer() {
    let (engine, _store, played) = harness();
    start(&engine, "Played", "{}").await.unwrap();
    let invocation = played.next().await;
    let stopping = engine.shutdown(Duration::from_secs(30));
    tokio::pin!(stopping);
    tokio::select! {
        _ = &mut stopping => panic!("it stopped with an invocation under way"),
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
    invocation.suspend();
    assert!(stopping.await, "it stops in order once the invocation ends");

    let (engine, _store, played) = harness();
    start(&engine, "Played", "{}").await.unwrap();
    let _never_answered = played.next().await;
    let began = tokio::time::Instant::now();
    assert!(
        !engine.shutdown(Duration::from_secs(3)).await,
        "an invocation past the grace is given up"
    );
    let took = began.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_actor_that_panics_is_loaded_again_and_a_caller_waiting_for_the_end_gets_it() {
    let (engine, store, played) = harness();
    let arn = start(&engine, "Played", "{}").await.unwrap();
    let waiting = {
        let (engine, arn) = (engine.clone(), arn.clone());
        async move { engine.wait(&arn).await }
    };
    tokio::pin!(waiting);
    let invocation = played.next().await;
    store.panic_next_write();
    let lost = tokio::select! {
        lost = checkpoint(&engine, &invocation, &invocation.token, vec![update("s", "STEP", "START")]) => lost,
        _ = &mut waiting => panic!("the wait ended while the execution runs"),
    };
    assert!(
        lost.is_err(),
        "the checkpoint whose write panicked is not acknowledged"
    );
    invocation.suspend();
    // Loaded again from the store: the invocation under way when it
    // panicked is owed again.
    let again = tokio::select! {
        again = played.next() => again,
        _ = &mut waiting => panic!("the wait ended while the execution runs"),
    };
    again.succeed("\"after\"");
    let record = waiting.await.unwrap();
    assert_eq!(
        record.status,
        durable_engine::model::ExecutionStatus::Succeeded
    );
    assert_eq!(record.result.as_deref(), Some("\"after\""));
}
