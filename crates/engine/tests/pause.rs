//! Pausing and resuming executions, with SDK handlers on the engine.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_durable_execution_sdk::DurableContext;
use common::{
    config, count, durable, engine, finished, start, start_callback, until_invocations_ended,
    until_status,
};
use durable_engine::execution::{PauseRequest, ResumeRequest};
use durable_engine::model::{EventDetails, ExecutionStatus};

fn pause_request(reason: &str) -> PauseRequest {
    PauseRequest {
        client_token: None,
        reason: Some(reason.to_owned()),
        execution_timeout_paused: true,
    }
}

/// Lets everything due within the next hour happen: under paused time,
/// the clock only moves on once every task is idle.
async fn settle() {
    tokio::time::sleep(Duration::from_hours(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_pause_waits_for_the_next_checkpoint_and_resume_replays_from_it() {
    let engine = engine();
    let (entered, mut first_entered) = tokio::sync::mpsc::unbounded_channel::<()>();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let first_calls = Arc::new(AtomicU32::new(0));
    let (gate_in, calls) = (Arc::clone(&gate), Arc::clone(&first_calls));
    durable(
        &engine,
        "TwoSteps",
        config(),
        move |_: serde_json::Value, ctx: DurableContext| {
            let (entered, gate, calls) =
                (entered.clone(), Arc::clone(&gate_in), Arc::clone(&calls));
            async move {
                let first = ctx
                    .step(move |_| async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        let _ = entered.send(());
                        let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
                        Ok(1_u32)
                    })
                    .name("first")
                    .await?;
                let second = ctx
                    .step(move |_| async move { Ok(first + 1) })
                    .name("second")
                    .await?;
                Ok(second)
            }
        },
    );
    let arn = start(&engine, "TwoSteps", "{}").await;
    first_entered.recv().await.unwrap();

    // The invocation is inside `first`: pausing must wait for its next checkpoint.
    engine
        .pause(&arn, pause_request("maintenance"))
        .await
        .unwrap();
    let record = engine.execution(&arn).await.unwrap();
    assert_eq!(record.status, ExecutionStatus::Pausing);
    assert!(record.pause.as_ref().unwrap().since.is_none());

    gate.add_permits(1);
    until_status(&engine, &arn, ExecutionStatus::Paused).await;
    // The invocation ends at its next call; nothing runs while paused.
    until_invocations_ended(&engine, &arn, 1).await;
    settle().await;
    assert_eq!(
        count(&engine, &arn, "StepSucceeded").await,
        1,
        "only `first`"
    );
    assert_eq!(
        engine.execution(&arn).await.unwrap().status,
        ExecutionStatus::Paused
    );

    let resume = ResumeRequest {
        client_token: None,
        reason: Some("done".to_owned()),
    };
    engine.resume(&arn, resume).await.unwrap();
    gate.add_permits(10);
    let record = finished(&engine, &arn).await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("2"));
    assert_eq!(
        first_calls.load(Ordering::SeqCst),
        1,
        "`first` is replayed, not run again"
    );

    let history = engine
        .history(&arn, None, Some(1000), false, true)
        .await
        .unwrap();
    let reasons: Vec<Option<String>> = history
        .events
        .iter()
        .filter_map(|event| match &event.details {
            EventDetails::ExecutionPaused { reason, .. }
            | EventDetails::ExecutionResumed { reason, .. } => {
                Some(reason.as_ref().and_then(|reason| reason.payload.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [Some("maintenance".to_owned()), Some("done".to_owned())]
    );
}

#[tokio::test(start_paused = true)]
async fn a_callback_completed_while_paused_is_delivered_after_resume() {
    let engine = engine();
    let (arn, id) = start_callback(&engine, "Approval", None, None).await;
    until_invocations_ended(&engine, &arn, 1).await;

    // Suspended on the callback: the pause is immediate.
    engine.pause(&arn, pause_request("audit")).await.unwrap();
    assert_eq!(
        engine.execution(&arn).await.unwrap().status,
        ExecutionStatus::Paused
    );
    engine
        .callback_succeed(&id, Some("\"alice\"".to_owned()))
        .await
        .unwrap();
    settle().await;
    assert_eq!(
        count(&engine, &arn, "InvocationCompleted").await,
        1,
        "not invoked while paused"
    );
    assert_eq!(count(&engine, &arn, "CallbackSucceeded").await, 1);

    engine.resume(&arn, ResumeRequest::default()).await.unwrap();
    let record = finished(&engine, &arn).await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("\"approved by alice\""));
    assert!(
        record.paused_millis >= 3_600_000,
        "paused for the hour it settled: {}",
        record.paused_millis
    );
}
