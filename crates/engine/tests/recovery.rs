//! An engine that stops and one that starts again on the same store file.
//!
//! These run on wall-clock time, on purpose: the store is a SQLite file, and
//! its writer thread is outside tokio's clock, which paused would jump ahead
//! while a commit is under way. Waits are scaled down (`time_scale` 0.01),
//! and the timeouts only stop a test that is stuck: none bounds a duration.
#![allow(clippy::unwrap_used, reason = "test helpers")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::parent_and_child;
use durable_engine::execution::ExecutionRecord;
use durable_engine::model::{ExecutionStatus, Timestamp};
use durable_engine::store::{SqliteStore, Store as _, WriteBatch};
use durable_engine::{Engine, EngineOptions, Progress, StartRequest};

fn engine_on(path: &std::path::Path) -> Engine {
    let engine = Engine::new(
        EngineOptions {
            time_scale: 0.01,
            ..EngineOptions::default()
        },
        Arc::new(SqliteStore::open(path).unwrap()),
    );
    parent_and_child(&engine, Duration::from_secs(150), |n| n * 2);
    engine
}

/// Starts `Parent` on a first engine and stops that engine once its child
/// waits. Returns the parent's and the child's ARNs.
fn stop_while_the_child_waits(path: &std::path::Path) -> (String, String) {
    let first = tokio::runtime::Runtime::new().unwrap();
    first.block_on(async {
        let engine = engine_on(path);
        let mut progress = engine.subscribe();
        let started = engine
            .start(StartRequest {
                function: "Parent".to_owned(),
                qualifier: Some("$LATEST".to_owned()),
                name: None,
                input: b"20".to_vec(),
            })
            .await
            .unwrap();
        // The child's wait is committed once its start is published.
        let child = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Progress::Operation { arn, name, .. } = progress.recv().await.unwrap()
                    && name == "think"
                {
                    break arn;
                }
            }
        })
        .await
        .unwrap();
        assert!(
            engine.shutdown(Duration::from_secs(5)).await,
            "the engine stops in order"
        );
        (started.arn, child)
    })
}

/// A new engine on `path` dispatches again `expected` chained invokes under
/// way, and the parent `arn` ends with the child's answer plus one.
fn recover_and_finish(path: &std::path::Path, arn: &str, expected: usize) {
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let engine = engine_on(path);
        assert_eq!(engine.recover().await.unwrap(), expected);
        let record = tokio::time::timeout(Duration::from_secs(20), engine.wait(arn))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            record.status,
            ExecutionStatus::Succeeded,
            "{:?}",
            record.error
        );
        assert_eq!(record.result.as_deref(), Some("41"));
    });
}

#[test]
fn a_chained_invoke_under_way_when_the_engine_stops_completes_after_it_starts_again() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("engine.db");
    let (arn, _child) = stop_while_the_child_waits(&path);
    recover_and_finish(&path, &arn, 1);
}

#[test]
fn a_chained_invoke_whose_child_was_never_created_starts_it_after_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("engine.db");
    let (arn, child) = stop_while_the_child_waits(&path);

    // As if the engine had died after the parent's START and before the child existed.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = SqliteStore::open(&path).unwrap();
        store
            .write(WriteBatch {
                deleted: vec![child.clone()],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        assert!(store.execution(&child).await.unwrap().is_none());
    });

    recover_and_finish(&path, &arn, 1);
}

/// The moment the retention test runs at.
const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

fn finished(arn: &str, ended_days_ago: i64, retention_days: i64) -> ExecutionRecord {
    let end = NOW.plus_millis(-ended_days_ago * 86_400_000);
    ExecutionRecord {
        arn: arn.to_owned(),
        function_name: "F".to_owned(),
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:F:1".to_owned(),
        version: "1".to_owned(),
        name: arn.rsplit('/').next().unwrap().to_owned(),
        status: ExecutionStatus::Succeeded,
        input: "{}".to_owned(),
        result: Some("1".to_owned()),
        error: None,
        start: end.plus_millis(-1_000),
        end: Some(end),
        timeout_seconds: 60,
        retention_days,
        parent: None,
        invocations: 1,
        pause: None,
        paused_millis: 0,
        control_tokens: Vec::new(),
        owed_since: None,
        invoking_since: None,
        failed_invocations: 0,
        retry_at: None,
        due: Some(end.plus_millis(retention_days * 86_400_000)),
    }
}

#[tokio::test]
async fn executions_past_their_retention_period_are_deleted() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let old = "arn:aws:lambda:us-east-1:000000000000:function:F:1/durable-execution/old/1";
    let kept = "arn:aws:lambda:us-east-1:000000000000:function:F:1/durable-execution/kept/2";
    store
        .write(WriteBatch {
            executions: vec![finished(old, 8, 7), finished(kept, 3, 7)],
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    let engine = Engine::new(
        EngineOptions {
            clock: durable_engine::Clock::starting_at(NOW),
            ..EngineOptions::default()
        },
        store.clone(),
    );
    assert_eq!(engine.purge_expired().await.unwrap(), 1);
    assert!(store.execution(old).await.unwrap().is_none());
    assert!(store.execution(kept).await.unwrap().is_some());
}
