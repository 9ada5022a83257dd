//! Each operation type, run by small SDK handlers on the engine.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_durable_execution_sdk::builders::wait_for_condition::WaitDecision;
use aws_durable_execution_sdk::{self as durable, Branch, DurableContext, RetryDecision};
use common::{
    config, count, counting, durable, engine, event_json, event_types, finished, operation,
    parent_and_child, positions, run, sleeper, start_callback,
};
use durable_engine::execution::ExecutionRecord;
use durable_engine::functions::{DurableConfig, Function, FunctionConfig, in_process};
use durable_engine::model::{
    ChainedInvokeOptions, ExecutionStatus, OperationAction, OperationStatus, OperationType,
    OperationUpdate,
};
use durable_engine::{EngineError, ExecutionError, Progress};
use lambda_runtime::LambdaEvent;

/// Retries a failed attempt after `delay`, and stops at attempt `last`.
fn retry_until(
    last: u32,
    delay: Duration,
) -> impl Fn(&durable::StepError, u32) -> RetryDecision + Send + Sync + 'static {
    move |_, attempt| {
        if attempt >= last {
            RetryDecision::Stop
        } else {
            RetryDecision::Retry { delay }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_step_result_is_the_execution_result() {
    let engine = engine();
    durable(
        &engine,
        "Double",
        config(),
        |n: u32, ctx: DurableContext| async move {
            let doubled = ctx
                .step(move |_| async move { Ok(n * 2) })
                .name("double")
                .await?;
            Ok(doubled)
        },
    );
    let record = run(&engine, "Double", "21").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("42"));
    assert_eq!(record.invocations, 1);
    assert_eq!(
        event_types(&engine, &record.arn).await,
        [
            "ExecutionStarted",
            "StepStarted",
            "StepSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_step_is_retried_at_its_next_attempt_time() {
    let engine = engine();
    let calls = counting(&engine, "Flaky", |counter, _, ctx| async move {
        let value = ctx
            .step(move |step| async move {
                counter.fetch_add(1, Ordering::SeqCst);
                if step.attempt() < 3 {
                    return Err(format!("transient failure {}", step.attempt()).into());
                }
                Ok(step.attempt())
            })
            .name("flaky")
            .retry_strategy(retry_until(5, Duration::from_secs(2)))
            .await?;
        Ok(value)
    });
    let record = run(&engine, "Flaky", "{}").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("3"));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(count(&engine, &record.arn, "StepFailed").await, 2);
    assert_eq!(count(&engine, &record.arn, "StepStarted").await, 3);
    assert!(
        record.invocations >= 3,
        "each retry is a new invocation: {}",
        record.invocations
    );
    let json = event_json(&engine, &record.arn, "StepFailed").await;
    assert_eq!(
        json["StepFailedDetails"]["RetryDetails"]["CurrentAttempt"],
        1
    );
    assert_eq!(
        json["StepFailedDetails"]["RetryDetails"]["NextAttemptDelaySeconds"],
        2
    );
    let step = operation(&engine, &record.arn, OperationType::Step).await;
    assert_eq!(
        step.step_details.unwrap().attempt,
        2,
        "two retries completed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_step_that_keeps_failing_fails_the_execution() {
    let engine = engine();
    durable(
        &engine,
        "Doomed",
        config(),
        |_: serde_json::Value, ctx: DurableContext| async move {
            ctx.step(|_| async { Err::<u32, durable::BoxError>("always".into()) })
                .name("doomed")
                .retry_strategy(retry_until(2, Duration::from_secs(1)))
                .await?;
            Ok(())
        },
    );
    let record = run(&engine, "Doomed", "{}").await;
    assert_eq!(record.status, ExecutionStatus::Failed);
    let error = record.error.unwrap();
    assert!(error.error_message.unwrap().contains("always"));
    assert_eq!(count(&engine, &record.arn, "ExecutionFailed").await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_wait_suspends_and_the_engine_invokes_again_when_it_ends() {
    let engine = engine();
    sleeper(&engine, "Sleeper", config(), Duration::from_secs(3));
    let started = tokio::time::Instant::now();
    let record = run(&engine, "Sleeper", "\"awake\"").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("\"awake\""));
    assert_eq!(record.invocations, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "the second invocation comes once the 3 s wait is over"
    );
    let wait = operation(&engine, &record.arn, OperationType::Wait).await;
    assert_eq!(wait.status, OperationStatus::Succeeded);
    assert_eq!(count(&engine, &record.arn, "WaitSucceeded").await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_callback_completed_from_outside_resumes_the_execution() {
    let engine = engine();
    let (arn, id) = start_callback(&engine, "Approval", None, None).await;
    engine
        .callback_succeed(&id, Some("\"alice\"".to_owned()))
        .await
        .unwrap();
    let record = finished(&engine, &arn).await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("\"approved by alice\""));
    assert_eq!(count(&engine, &arn, "CallbackSucceeded").await, 1);
    let again = engine
        .callback_succeed(&id, Some("\"bob\"".to_owned()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            EngineError::Execution(ExecutionError::CallbackClosed)
        ),
        "a closed callback cannot complete twice: {again:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_callback_fails_the_waiting_operation() {
    let engine = engine();
    let (arn, id) = start_callback(&engine, "Rejection", None, None).await;
    let error = durable_engine::model::ErrorObject::new("Rejected", "not today");
    engine.callback_fail(&id, error).await.unwrap();
    let record = finished(&engine, &arn).await;
    assert_eq!(record.status, ExecutionStatus::Failed);
    assert!(
        record
            .error
            .unwrap()
            .error_message
            .unwrap()
            .contains("not today")
    );
    assert_eq!(count(&engine, &arn, "CallbackFailed").await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_callback_not_completed_in_time_times_out() {
    let engine = engine();
    let (arn, id) = start_callback(&engine, "Impatient", Some(Duration::from_secs(1)), None).await;
    let record = finished(&engine, &arn).await;
    assert_eq!(record.status, ExecutionStatus::Failed);
    assert_eq!(count(&engine, &arn, "CallbackTimedOut").await, 1);
    let late = engine.callback_succeed(&id, None).await.unwrap_err();
    assert!(matches!(
        late,
        EngineError::Execution(ExecutionError::CallbackClosed)
    ));
}

#[tokio::test(start_paused = true)]
async fn heartbeats_keep_a_callback_open_and_their_absence_times_it_out() {
    let engine = engine();
    let (arn, id) = start_callback(&engine, "Heartbeat", None, Some(Duration::from_secs(1))).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        engine.callback_heartbeat(&id).await.unwrap();
    }
    let record = finished(&engine, &arn).await;
    assert_eq!(
        record.status,
        ExecutionStatus::Failed,
        "no heartbeat after the last one"
    );
    let json = event_json(&engine, &arn, "CallbackTimedOut").await;
    assert_eq!(
        json["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"],
        "Callback.Heartbeat"
    );
    let history = engine.history(&arn, None, None, false, true).await.unwrap();
    let elapsed = history.events.last().unwrap().event_timestamp.millis()
        - history.events[0].event_timestamp.millis();
    assert!(
        elapsed >= 2_000,
        "three heartbeats kept it open past 1.5 s: {elapsed} ms"
    );
}

#[tokio::test(start_paused = true)]
async fn a_chained_invoke_runs_another_durable_function_and_returns_its_result() {
    let engine = engine();
    parent_and_child(&engine, Duration::from_secs(1), |n| n * n);
    let record = run(&engine, "Parent", "7").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("50"));
    assert_eq!(
        count(&engine, &record.arn, "ChainedInvokeSucceeded").await,
        1
    );
    let children = engine
        .list(
            durable_engine::store::ListFilter {
                function_name: Some("Child".to_owned()),
                ..Default::default()
            },
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(children.executions.len(), 1);
    let child = &children.executions[0];
    assert_eq!(child.parent.as_ref().unwrap().arn, record.arn);
    // The history names the child and the version that ran, as the
    // service's does, from the moment the invoke starts.
    let started = event_json(&engine, &record.arn, "ChainedInvokeStarted").await;
    let details = &started["ChainedInvokeStartedDetails"];
    assert_eq!(details["DurableExecutionArn"], child.arn.as_str());
    assert_eq!(details["ExecutedVersion"], "$LATEST");
    assert_eq!(details["FunctionName"], "Child:$LATEST");
    assert!(details.get("TenantId").is_none(), "{details}");
}

#[tokio::test(start_paused = true)]
async fn a_chained_invoke_carries_its_tenant_and_a_per_tenant_target_needs_one() {
    let engine = engine();
    let mut isolated = FunctionConfig::plain("Isolated");
    isolated.per_tenant = true;
    engine.register(Function::new(
        isolated,
        in_process(|_: LambdaEvent<serde_json::Value>| async {
            Ok::<_, std::convert::Infallible>(serde_json::json!("plain"))
        }),
    ));
    durable(
        &engine,
        "Caller",
        config(),
        |tenant: Option<String>, ctx: DurableContext| async move {
            let mut call = ctx.invoke::<String, u32>("Isolated", 1).name("call");
            if let Some(tenant) = tenant {
                call = call.tenant_id(tenant);
            }
            Ok(call.await.is_ok())
        },
    );
    let with = run(&engine, "Caller", "\"tenant-a\"").await;
    assert_eq!(with.result.as_deref(), Some("true"));
    let started = event_json(&engine, &with.arn, "ChainedInvokeStarted").await;
    assert_eq!(
        started["ChainedInvokeStartedDetails"]["TenantId"],
        "tenant-a"
    );
    let without = run(&engine, "Caller", "null").await;
    assert_eq!(without.result.as_deref(), Some("false"));
    let failed = event_json(&engine, &without.arn, "ChainedInvokeFailed").await;
    let message = failed["ChainedInvokeFailedDetails"]["Error"]["Payload"]["ErrorMessage"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("tenant id"), "{message}");
}

/// Registers `Quick`, a plain function that answers with its event at once.
fn quick(engine: &durable_engine::Engine) {
    engine.register(Function::new(
        FunctionConfig::plain("Quick"),
        in_process(|event: LambdaEvent<serde_json::Value>| async move {
            Ok::<_, std::convert::Infallible>(event.payload)
        }),
    ));
}

#[tokio::test(start_paused = true)]
async fn a_chained_result_that_arrives_while_its_caller_runs_is_recorded_at_its_next_checkpoint() {
    let engine = engine();
    quick(&engine);
    durable(
        &engine,
        "Busy",
        config(),
        |_: serde_json::Value, ctx: DurableContext| async move {
            let call = ctx.invoke::<u32, u32>("Quick", 7).name("call").spawn();
            // The invocation goes on long after Quick has answered; the
            // step's own checkpoint brings the answer back.
            ctx.step(|_| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                Ok(())
            })
            .name("busy")
            .await?;
            Ok(call.await?)
        },
    );
    let record = run(&engine, "Busy", "{}").await;
    assert_eq!(record.result.as_deref(), Some("7"));
    let types = event_types(&engine, &record.arn).await;
    let [chained, step, invocation] = positions(
        &types,
        [
            "ChainedInvokeSucceeded",
            "StepSucceeded",
            "InvocationCompleted",
        ],
    );
    assert!(chained < step && step < invocation, "{types:?}");
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_keeps_checkpointing_gets_its_chained_result_in_the_same_invocation() {
    let engine = engine();
    quick(&engine);
    // A handler speaking the protocol itself, as the JS SDK does while other
    // work holds its invocation open: it starts the invoke, then checkpoints
    // with no updates until an answer carries the result.
    let weak = engine.downgrade();
    engine.register(Function::new(
        FunctionConfig::durable("Poller", config()),
        in_process(move |event: LambdaEvent<serde_json::Value>| {
            let weak = weak.clone();
            async move {
                let engine = weak.upgrade().expect("the engine runs");
                let arn = event.payload["DurableExecutionArn"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let mut token = event.payload["CheckpointToken"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let mut updates = vec![OperationUpdate {
                    id: "call".to_owned(),
                    kind: OperationType::ChainedInvoke.into(),
                    action: OperationAction::Start.into(),
                    payload: Some("5".to_owned()),
                    chained_invoke_options: Some(ChainedInvokeOptions {
                        function_name: Some("Quick".to_owned()),
                        tenant_id: None,
                    }),
                    ..OperationUpdate::default()
                }];
                for _ in 0..20 {
                    let output = engine
                        .checkpoint(&arn, token, None, std::mem::take(&mut updates))
                        .await
                        .map_err(|error| error.to_string())?;
                    token = output.checkpoint_token;
                    let done = output
                        .new_execution_state
                        .operations
                        .into_iter()
                        .find(|op| op.id == "call" && op.status == OperationStatus::Succeeded);
                    if let Some(op) = done {
                        let result = op.chained_invoke_details.and_then(|details| details.result);
                        return Ok(serde_json::json!({ "Status": "SUCCEEDED", "Result": result }));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err("no checkpoint answer carried the result".to_owned())
            }
        }),
    ));
    let record = run(&engine, "Poller", "{}").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded, "{record:?}");
    assert_eq!(record.result.as_deref(), Some("5"));
    assert_eq!(record.invocations, 1);
    let types = event_types(&engine, &record.arn).await;
    let [chained, invocation] =
        positions(&types, ["ChainedInvokeSucceeded", "InvocationCompleted"]);
    assert!(chained < invocation, "{types:?}");
}

/// Runs `Caller`, which invokes `Quick` twice in turn (conformance 5-14).
async fn two_invokes_in_turn(engine: &durable_engine::Engine) -> ExecutionRecord {
    quick(engine);
    durable(
        engine,
        "Caller",
        config(),
        |_: serde_json::Value, ctx: DurableContext| async move {
            let first: u32 = ctx.invoke("Quick", 1).name("first").await?;
            let second: u32 = ctx.invoke("Quick", 2).name("second").await?;
            Ok(first + second)
        },
    );
    run(engine, "Caller", "{}").await
}

#[tokio::test(start_paused = true)]
async fn a_chained_result_for_a_caller_that_suspended_is_recorded_after_its_invocation() {
    let engine = engine();
    let record = two_invokes_in_turn(&engine).await;
    assert_eq!(record.result.as_deref(), Some("3"));
    // Conformance 5-14's history: each invoke suspends its invocation, and
    // its result is recorded after that invocation's end.
    assert_eq!(
        event_types(&engine, &record.arn).await,
        [
            "ExecutionStarted",
            "ChainedInvokeStarted",
            "InvocationCompleted",
            "ChainedInvokeSucceeded",
            "ChainedInvokeStarted",
            "InvocationCompleted",
            "ChainedInvokeSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn an_invocation_completed_event_names_no_operation() {
    let engine = engine();
    let record = two_invokes_in_turn(&engine).await;
    let ended = event_json(&engine, &record.arn, "InvocationCompleted").await;
    let mut keys: Vec<&str> = ended
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "EventId",
            "EventTimestamp",
            "EventType",
            "InvocationCompletedDetails"
        ],
        "{ended}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_chained_invoke_of_an_unknown_function_fails_at_once() {
    let engine = engine();
    durable(
        &engine,
        "Lost",
        config(),
        |_: serde_json::Value, ctx: DurableContext| async move {
            let outcome = ctx.invoke::<u32, u32>("Nowhere", 1).name("call").await;
            Ok(outcome.is_err())
        },
    );
    let record = run(&engine, "Lost", "{}").await;
    assert_eq!(record.result.as_deref(), Some("true"));
    assert_eq!(count(&engine, &record.arn, "ChainedInvokeFailed").await, 1);
}

#[tokio::test(start_paused = true)]
async fn map_runs_each_item_in_its_own_child_context() {
    let engine = engine();
    durable(
        &engine,
        "Mapper",
        config(),
        |items: Vec<u32>, ctx: DurableContext| async move {
            let results = ctx
                .map(items, |child, item: u32, _| async move {
                    let tripled = child
                        .step(move |_| async move { Ok(item * 3) })
                        .name("triple")
                        .await?;
                    Ok(tripled)
                })
                .name("triple-all")
                .max_concurrency(2)
                .await?;
            Ok(results)
        },
    );
    let record = run(&engine, "Mapper", "[1, 2, 3, 4, 5]").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("[3,6,9,12,15]"));
    let contexts = engine
        .operations(&record.arn)
        .await
        .unwrap()
        .into_iter()
        .filter(|op| op.kind == OperationType::Context)
        .count();
    assert_eq!(contexts, 6, "the map and one context per item");
}

#[tokio::test(start_paused = true)]
async fn parallel_branches_and_nested_child_contexts_replay_after_a_wait() {
    let engine = engine();
    let runs = counting(&engine, "Nested", |counter, _, ctx| async move {
        let branches: Vec<Branch<u32>> = (1..=3_u32)
            .map(|n| {
                let counter = Arc::clone(&counter);
                Branch::new(
                    format!("branch-{n}"),
                    move |child: DurableContext| async move {
                        let inner = child
                            .run_in_child_context(move |grandchild| async move {
                                let value = grandchild
                                    .step(move |_| async move {
                                        counter.fetch_add(1, Ordering::SeqCst);
                                        Ok(n * 10)
                                    })
                                    .name("deep")
                                    .await?;
                                Ok(value)
                            })
                            .name("inner")
                            .await?;
                        Ok(inner + n)
                    },
                )
            })
            .collect();
        let values = ctx.parallel(branches).name("fan-out").await?;
        ctx.wait(Duration::from_secs(1)).name("pause").await?;
        Ok(values.iter().sum::<u32>())
    });
    let record = run(&engine, "Nested", "{}").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("66"));
    assert_eq!(record.invocations, 2);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "each deep step ran once across both invocations"
    );
}

#[tokio::test(start_paused = true)]
async fn wait_for_condition_polls_until_the_condition_holds() {
    let engine = engine();
    durable(
        &engine,
        "Poller",
        config(),
        |_: serde_json::Value, ctx: DurableContext| async move {
            let count = ctx
                .wait_for_condition(|_ctx, state: u32| async move { Ok(state + 1) }, 0)
                .wait_strategy_fn(|state: u32, _attempt| {
                    if state >= 3 {
                        WaitDecision::complete()
                    } else {
                        WaitDecision::continue_with(Duration::from_secs(2))
                    }
                })
                .name("poll")
                .await?;
            Ok(count)
        },
    );
    let record = run(&engine, "Poller", "{}").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("3"));
    assert!(record.invocations >= 3, "{}", record.invocations);
}

#[tokio::test(start_paused = true)]
async fn stop_ends_a_running_execution_and_its_token() {
    let engine = engine();
    let (arn, id) = start_callback(&engine, "Forever", None, None).await;
    let error = durable_engine::model::ErrorObject::message("operator stop");
    engine.stop(&arn, Some(error)).await.unwrap();
    let record = finished(&engine, &arn).await;
    assert_eq!(record.status, ExecutionStatus::Stopped);
    assert_eq!(
        record.error.unwrap().error_message.as_deref(),
        Some("operator stop")
    );
    assert_eq!(count(&engine, &arn, "ExecutionStopped").await, 1);
    assert!(matches!(
        engine.callback_succeed(&id, None).await,
        Err(EngineError::Execution(ExecutionError::CallbackClosed))
    ));
    engine
        .stop(&arn, None)
        .await
        .expect("stopping again changes nothing");
}

#[tokio::test(start_paused = true)]
async fn an_execution_past_its_timeout_times_out() {
    let engine = engine();
    let timeout = DurableConfig {
        execution_timeout: 1,
        retention_days: 1,
    };
    sleeper(&engine, "Slow", timeout, Duration::from_secs(30));
    let started = tokio::time::Instant::now();
    let record = run(&engine, "Slow", "{}").await;
    assert_eq!(record.status, ExecutionStatus::TimedOut);
    assert_eq!(
        record.error.unwrap().error_message.as_deref(),
        Some("Execution timed out after 1 seconds.")
    );
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(1),
        "it times out at its 1 s timeout, not at the 30 s wait's end"
    );
    assert_eq!(count(&engine, &record.arn, "ExecutionTimedOut").await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_invocation_is_retried_and_the_execution_carries_on() {
    let engine = engine();
    counting(&engine, "Crashy", |counter, _, ctx| async move {
        let value = ctx.step(|_| async { Ok(5_u32) }).name("before").await?;
        assert!(
            counter.fetch_add(1, Ordering::SeqCst) >= 1,
            "the first invocation crashes"
        );
        Ok(value)
    });
    let record = run(&engine, "Crashy", "{}").await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    assert_eq!(record.result.as_deref(), Some("5"));
    assert_eq!(record.invocations, 2);
    let history = engine
        .history(&record.arn, None, None, false, true)
        .await
        .unwrap();
    let crashed = history
        .events
        .iter()
        .filter(|e| e.event_type == "InvocationCompleted")
        .filter(|e| {
            serde_json::to_value(e).unwrap()["InvocationCompletedDetails"]
                .get("Error")
                .is_some()
        })
        .count();
    assert_eq!(crashed, 1);
    assert_eq!(
        count(&engine, &record.arn, "StepStarted").await,
        1,
        "the recorded step did not run again"
    );
}

#[tokio::test(start_paused = true)]
async fn many_operations_are_served_in_pages() {
    let engine = durable_engine::testing::TestEngine::new()
        .options(|options| options.envelope_page_items = 40)
        .build();
    durable(
        &engine,
        "Long",
        config(),
        |_: serde_json::Value, ctx: DurableContext| async move {
            let mut total = 0_u64;
            for n in 0..250_u64 {
                total += ctx.step(move |_| async move { Ok(n) }).await?;
            }
            ctx.wait(Duration::from_secs(1)).await?;
            Ok(total)
        },
    );
    let record = run(&engine, "Long", "{}").await;
    assert_eq!(
        record.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        record.error
    );
    assert_eq!(record.result.as_deref(), Some("31125"));
    let stats = engine.stats();
    assert!(stats.checkpoints >= 500);
    assert_eq!(
        stats.state_reads, 3,
        "the second invocation read 252 operations 100 at a time: {stats:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn progress_is_published_for_each_operation() {
    let engine = engine();
    durable(
        &engine,
        "Watched",
        config(),
        |_: serde_json::Value, ctx: DurableContext| async move {
            ctx.step(|_| async { Ok(1) }).name("one").await?;
            Ok(())
        },
    );
    let mut progress = engine.subscribe();
    let record = run(&engine, "Watched", "{}").await;
    let mut seen = Vec::new();
    while let Ok(event) = progress.try_recv() {
        if let Progress::Operation { name, status, .. } = event {
            seen.push((name, status));
        }
    }
    assert_eq!(
        seen,
        vec![
            ("one".to_owned(), OperationStatus::Started),
            ("one".to_owned(), OperationStatus::Succeeded)
        ]
    );
    assert_eq!(record.status, ExecutionStatus::Succeeded);
}
