//! What the engine does when things go wrong around it: a store that
//! refuses writes, many callers starting one name at once, a restart
//! between two identical control requests, executions started while a
//! client pages through a listing.
#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{counting_with, engine, finished, start, until_status};
use durable_engine::execution::PauseRequest;
use durable_engine::functions::DurableConfig;
use durable_engine::model::ExecutionStatus;
use durable_engine::store::{MemoryStore, Store};
use durable_engine::testing::{FaultyStore, Held, TestEngine, config, durable};
use durable_engine::{Engine, EngineError, Progress, StartRequest};

/// A step, a ten-second wait, a step, in an execution that may take a day:
/// the first step's runs are counted.
fn two_steps_around_a_wait(engine: &Engine) -> Arc<std::sync::atomic::AtomicU32> {
    let day = DurableConfig {
        execution_timeout: 86_400,
        retention_days: 1,
    };
    counting_with(
        engine,
        "Waiting",
        day,
        |runs, _: serde_json::Value, ctx| async move {
            let first = ctx
                .step(move |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok(20_u32)
                })
                .name("first")
                .await?;
            ctx.wait(Duration::from_secs(10)).name("pause").await?;
            let second = ctx
                .step(move |_| async move { Ok(first + 1) })
                .name("second")
                .await?;
            Ok(second)
        },
    )
}

/// Waits for `progress` to show the wait `pause` of `arn` started.
async fn wait_started(mut progress: tokio::sync::broadcast::Receiver<Progress>) -> String {
    loop {
        if let Ok(Progress::Operation { arn, name, .. }) = progress.recv().await
            && name == "pause"
        {
            return arn;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_store_that_refuses_writes_is_retried_with_a_capped_backoff_and_the_execution_carries_on()
{
    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let engine = TestEngine::new()
        .store(Arc::clone(&store) as Arc<dyn Store>)
        .build();
    let first_runs = two_steps_around_a_wait(&engine);
    let mut refusals = engine.subscribe();
    let waiting = engine.subscribe();
    let arn = start(&engine, "Waiting", "{}").await;
    assert_eq!(wait_started(waiting).await, arn);

    // The disk fills while the execution waits.
    store.refuse_after(0);
    tokio::time::sleep(Duration::from_hours(1)).await;
    let refused = store.refused();
    assert!(
        (1..=200).contains(&refused),
        "an hour of refusals is retried a bounded number of times, not in a loop: {refused}"
    );
    let error = loop {
        if let Ok(Progress::StoreRefused { arn: of, error }) = refusals.recv().await
            && of == arn
        {
            break error;
        }
    };
    assert_eq!(error, "store: database or disk is full");
    assert_eq!(
        engine.execution(&arn).await.unwrap().status,
        ExecutionStatus::Running
    );

    // Space returns: the execution carries on from what was stored.
    store.heal();
    let record = finished(&engine, &arn).await;
    assert_eq!(
        record.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        record.error
    );
    assert_eq!(record.result.as_deref(), Some("21"));
    assert_eq!(
        first_runs.load(Ordering::SeqCst),
        1,
        "a stored step is not run again"
    );
}

#[tokio::test(start_paused = true)]
async fn a_start_the_store_refuses_is_an_error_and_no_execution() {
    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let engine = TestEngine::new()
        .store(Arc::clone(&store) as Arc<dyn Store>)
        .build();
    two_steps_around_a_wait(&engine);
    store.refuse_after(0);
    let error = durable_engine::testing::start(&engine, "Waiting", "{}")
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "store: database or disk is full");
    assert!(matches!(error, EngineError::Store(_)));
    store.heal();
    let listed = engine
        .list(durable_engine::store::ListFilter::default(), None, None)
        .await
        .unwrap();
    assert!(listed.executions.is_empty(), "nothing was started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_starts_with_one_name_all_get_the_one_committed_execution() {
    let engine = engine();
    durable(
        &engine,
        "Named",
        config(),
        |n: u32, _| async move { Ok(n + 1) },
    );
    for round in 0..20 {
        let name = format!("order-{round}");
        let starts: Vec<_> = (0..50)
            .map(|_| {
                let engine = engine.clone();
                let name = name.clone();
                engine.clone().spawn(async move {
                    let started = engine
                        .start(StartRequest {
                            function: "Named".to_owned(),
                            qualifier: Some("$LATEST".to_owned()),
                            name: Some(name),
                            input: b"41".to_vec(),
                        })
                        .await?;
                    // Told of it, a caller finds it: committed and running or over.
                    let record = engine.wait(&started.arn).await?;
                    Ok::<_, EngineError>((started, record))
                })
            })
            .collect();
        let mut arns = std::collections::BTreeSet::new();
        let mut fresh = 0;
        for task in starts {
            let (started, record) = task.await.unwrap().unwrap();
            assert_eq!(record.result.as_deref(), Some("42"));
            fresh += usize::from(!started.existing);
            arns.insert(started.arn);
        }
        assert_eq!(arns.len(), 1, "round {round}: one execution for the name");
        assert_eq!(fresh, 1, "round {round}: one caller started it");
    }
}

/// On wall-clock time, on purpose: two engines over one SQLite file, whose
/// writer thread is outside tokio's clock (paused, it would jump ahead while
/// a commit is under way). No duration is asserted.
#[tokio::test]
async fn a_repeated_pause_after_a_restart_is_recognised_by_its_client_token() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("engine.db");
    let request = PauseRequest {
        client_token: Some("pause-1".to_owned()),
        reason: Some("audit".to_owned()),
        execution_timeout_paused: true,
    };
    let arn = {
        let engine = TestEngine::new()
            .store(Arc::new(
                durable_engine::store::SqliteStore::open(&path).unwrap(),
            ))
            .build();
        two_steps_around_a_wait(&engine);
        let waiting = engine.subscribe();
        let arn = start(&engine, "Waiting", "{}").await;
        wait_started(waiting).await;
        engine.pause(&arn, request.clone()).await.unwrap();
        until_status(&engine, &arn, ExecutionStatus::Paused).await;
        assert!(engine.shutdown(Duration::from_secs(5)).await);
        arn
    };
    let engine = TestEngine::new()
        .store(Arc::new(
            durable_engine::store::SqliteStore::open(&path).unwrap(),
        ))
        .build();
    two_steps_around_a_wait(&engine);
    engine.recover().await.unwrap();
    engine
        .pause(&arn, request)
        .await
        .expect("the same request again succeeds without pausing again");
    let other = PauseRequest {
        client_token: Some("pause-1".to_owned()),
        reason: Some("something else".to_owned()),
        execution_timeout_paused: true,
    };
    let refused = engine.pause(&arn, other).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("was used for a different request"),
        "{refused}"
    );
}

#[tokio::test(start_paused = true)]
async fn executions_started_while_a_client_pages_shift_no_page() {
    let engine = engine();
    durable(&engine, "Quick", config(), |n: u32, _| async move { Ok(n) });
    let mut older = std::collections::BTreeSet::new();
    for n in 0..7 {
        older.insert(start(&engine, "Quick", &n.to_string()).await);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let page = |marker: Option<String>| {
        let engine = engine.clone();
        async move {
            let filter = durable_engine::store::ListFilter {
                function_name: Some("Quick".to_owned()),
                ..durable_engine::store::ListFilter::default()
            };
            engine
                .list(filter, marker.as_deref(), Some(3))
                .await
                .unwrap()
        }
    };
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let listed = page(marker).await;
        seen.extend(listed.executions.iter().map(|record| record.arn.clone()));
        // Newer executions start between the pages.
        start(&engine, "Quick", "100").await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        match listed.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), older.len(), "no execution repeated: {seen:?}");
    assert_eq!(
        seen.into_iter().collect::<std::collections::BTreeSet<_>>(),
        older,
        "every execution of the first listing, none skipped"
    );
    let bad = engine
        .list(
            durable_engine::store::ListFilter::default(),
            Some("7"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(bad.to_string(), "Invalid marker '7'");
}

#[tokio::test(start_paused = true)]
async fn a_function_arn_of_another_account_or_region_is_not_found() {
    let engine = engine();
    durable(&engine, "Quick", config(), |n: u32, _| async move { Ok(n) });
    let lambda = durable_engine::transport::lambda_client(&engine);
    for elsewhere in [
        "arn:aws:lambda:us-east-1:123456789012:function:Quick:$LATEST",
        "arn:aws:lambda:eu-west-1:000000000000:function:Quick:$LATEST",
    ] {
        let error = lambda
            .invoke()
            .function_name(elsewhere)
            .payload(aws_sdk_lambda::primitives::Blob::new("1"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            aws_sdk_lambda::error::ProvideErrorMetadata::code(&error),
            Some("ResourceNotFoundException"),
            "{elsewhere}"
        );
    }
    let here = lambda
        .invoke()
        .function_name("arn:aws:lambda:us-east-1:000000000000:function:Quick:$LATEST")
        .payload(aws_sdk_lambda::primitives::Blob::new("1"))
        .send()
        .await
        .unwrap();
    assert_eq!(here.payload().unwrap().as_ref(), b"1");
}

/// Starts `Waiting` under `name`, giving up after a second.
async fn start_named_giving_up(engine: &Engine, name: &str) -> bool {
    tokio::time::timeout(
        Duration::from_secs(1),
        engine.start(StartRequest {
            function: "Waiting".to_owned(),
            qualifier: Some("$LATEST".to_owned()),
            name: Some(name.to_owned()),
            input: b"{}".to_vec(),
        }),
    )
    .await
    .is_ok()
}

#[tokio::test(start_paused = true)]
async fn a_start_dropped_at_any_of_its_waits_leaves_its_name_to_the_next_start() {
    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let engine = TestEngine::new()
        .store(Arc::clone(&store) as Arc<dyn Store>)
        .build();
    two_steps_around_a_wait(&engine);
    // The store holds the start at its name lookup, then at its commit:
    // each time its caller gives up there.
    let rounds = [
        (
            "dropped-looking",
            Held {
                lookups: true,
                writes: false,
            },
        ),
        (
            "dropped-committing",
            Held {
                lookups: false,
                writes: true,
            },
        ),
    ];
    for (round, (name, held)) in rounds.iter().enumerate() {
        store.hold(*held);
        assert!(
            !start_named_giving_up(&engine, name).await,
            "round {round}: the caller gave up while the store held it"
        );
        store.release();
        let again = tokio::time::timeout(
            Duration::from_secs(30),
            engine.start(StartRequest {
                function: "Waiting".to_owned(),
                qualifier: Some("$LATEST".to_owned()),
                name: Some((*name).to_owned()),
                input: b"{}".to_vec(),
            }),
        )
        .await
        .expect("a later start with the name completes")
        .expect("and is answered");
        let record = finished(&engine, &again.arn).await;
        assert_eq!(record.status, ExecutionStatus::Succeeded);
        let named = engine
            .list(
                durable_engine::store::ListFilter {
                    name: Some((*name).to_owned()),
                    ..Default::default()
                },
                None,
                None,
            )
            .await
            .unwrap();
        assert_eq!(named.executions.len(), 1, "one execution of that name");
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_end_the_store_refuses_lets_nothing_of_the_invocation_it_started_through() {
    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let engine = TestEngine::new()
        .store(Arc::clone(&store) as Arc<dyn Store>)
        .build();
    let runs = two_steps_around_a_wait(&engine);
    let arn = durable_engine::testing::start(&engine, "Waiting", "{}")
        .await
        .unwrap();
    durable_engine::testing::until_invocations_ended(&engine, &arn, 1).await;
    // The wait ends: its write is refused, and so is everything after, for
    // a while; the invocation it started checkpoints into a refusing store.
    store.refuse_after(0);
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert!(store.refused() > 0, "the wait's end was refused");
    store.heal();
    let record = finished(&engine, &arn).await;
    assert_eq!(record.status, ExecutionStatus::Succeeded);
    let types = durable_engine::testing::event_types(&engine, &arn).await;
    let ends = types.iter().filter(|kind| *kind == "WaitSucceeded").count();
    assert_eq!(ends, 1, "the wait ended once in the history: {types:?}");
    assert_eq!(
        types.iter().filter(|kind| *kind == "StepSucceeded").count(),
        2,
        "each step's end recorded once: {types:?}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the first step ran once");
}
