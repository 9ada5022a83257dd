//! The same behaviour from every store: what is written reads back, and
//! listings page by their cursor.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;

use durable_engine::execution::{CallbackRecord, ExecutionRecord};
use durable_engine::logs::{LogQuery, LogRecord};
use durable_engine::model::{
    Event, EventDetails, ExecutionStatus, Operation, OperationStatus, OperationType, Timestamp,
};
use durable_engine::store::{ListCursor, ListFilter, MemoryStore, SqliteStore, Store, WriteBatch};

fn record(name: &str, start: i64, status: ExecutionStatus) -> ExecutionRecord {
    let function_arn = "arn:aws:lambda:us-east-1:000000000000:function:F:1".to_owned();
    ExecutionRecord {
        arn: durable_engine::arn::execution_arn(&function_arn, name, "id"),
        function_name: "F".to_owned(),
        function_arn,
        version: "1".to_owned(),
        name: name.to_owned(),
        status,
        input: "{}".to_owned(),
        result: None,
        error: None,
        start: Timestamp::from_millis(start),
        end: None,
        timeout_seconds: 60,
        retention_days: 1,
        parent: None,
        invocations: 0,
        pause: None,
        paused_millis: 0,
        control_tokens: Vec::new(),
    }
}

fn event(id: u64) -> Event {
    Event {
        event_type: "StepStarted".to_owned(),
        sub_type: None,
        event_id: id,
        id: "s".to_owned(),
        name: None,
        event_timestamp: Timestamp::from_millis(1),
        parent_id: None,
        details: EventDetails::StepStarted {},
    }
}

/// Every store the engine runs on, fresh.
fn stores() -> Vec<(&'static str, Arc<dyn Store>, Option<tempfile::TempDir>)> {
    let directory = tempfile::tempdir().unwrap();
    let file = SqliteStore::open(&directory.path().join("store.db")).unwrap();
    vec![
        ("memory", Arc::new(MemoryStore::new()), None),
        ("sqlite", Arc::new(file), Some(directory)),
    ]
}

#[tokio::test]
async fn what_is_written_reads_back_from_every_store() {
    for (kind, store, _directory) in stores() {
        let running = record("a", 10, ExecutionStatus::Running);
        let op = Operation::new(
            "s".to_owned(),
            OperationType::Step,
            OperationStatus::Started,
            Timestamp::from_millis(11),
        );
        let callback = CallbackRecord {
            callback_id: "cb".to_owned(),
            arn: running.arn.clone(),
            operation_id: "c".to_owned(),
            timeout_at: None,
            heartbeat_seconds: 0,
            heartbeat_at: None,
        };
        store
            .write(WriteBatch {
                executions: vec![running.clone()],
                operations: vec![(running.arn.clone(), 0, op.clone())],
                events: (1..=5).map(|id| (running.arn.clone(), event(id))).collect(),
                callbacks: vec![callback.clone()],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        assert_eq!(
            store.execution(&running.arn).await.unwrap(),
            Some(running.clone()),
            "{kind}"
        );
        assert_eq!(
            store
                .execution_by_name("F", "a")
                .await
                .unwrap()
                .map(|r| r.arn),
            Some(running.arn.clone()),
            "{kind}"
        );
        assert_eq!(
            store.operations(&running.arn).await.unwrap(),
            vec![op],
            "{kind}"
        );
        let ids = |events: Vec<Event>| events.into_iter().map(|e| e.event_id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.events(&running.arn, 2, 2, false).await.unwrap()),
            [2, 3],
            "{kind}"
        );
        assert_eq!(
            ids(store.events(&running.arn, 4, 3, true).await.unwrap()),
            [4, 3, 2],
            "{kind}"
        );
        assert_eq!(
            store.callback("cb").await.unwrap(),
            Some(callback),
            "{kind}"
        );
        let stored = store.running().await.unwrap();
        assert_eq!(stored.len(), 1, "{kind}");
        assert_eq!(stored[0].next_event_id, 6, "{kind}");
        assert_eq!(stored[0].callbacks.len(), 1, "{kind}");

        store
            .write(WriteBatch {
                closed_callbacks: vec!["cb".to_owned()],
                deleted: vec![running.arn.clone()],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        assert_eq!(store.execution(&running.arn).await.unwrap(), None, "{kind}");
        assert_eq!(store.callback("cb").await.unwrap(), None, "{kind}");
        assert!(
            store
                .events(&running.arn, 1, 10, false)
                .await
                .unwrap()
                .is_empty(),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn every_store_lists_by_start_filters_and_pages_by_cursor() {
    for (kind, store, _directory) in stores() {
        let records: Vec<ExecutionRecord> = (0..9_i64)
            .map(|n| {
                let status = if n % 3 == 0 {
                    ExecutionStatus::Succeeded
                } else {
                    ExecutionStatus::Running
                };
                // Two executions share each start: the ARN orders them.
                record(&format!("e{n}"), 100 + n / 2, status)
            })
            .collect();
        store
            .write(WriteBatch {
                executions: records.clone(),
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        for oldest_first in [false, true] {
            let mut expected: Vec<&ExecutionRecord> = records.iter().collect();
            expected.sort_by(|a, b| (a.start, &a.arn).cmp(&(b.start, &b.arn)));
            if !oldest_first {
                expected.reverse();
            }
            let mut listed = Vec::new();
            let mut after: Option<ListCursor> = None;
            loop {
                let page = store
                    .list(ListFilter {
                        oldest_first,
                        after: after.clone(),
                        limit: 4,
                        ..ListFilter::default()
                    })
                    .await
                    .unwrap();
                let Some(last) = page.last() else { break };
                after = Some(ListCursor::parse(&ListCursor::of(last).to_string()).unwrap());
                listed.extend(page.into_iter().map(|record| record.arn));
            }
            let expected: Vec<String> = expected.iter().map(|record| record.arn.clone()).collect();
            assert_eq!(listed, expected, "{kind}, oldest first: {oldest_first}");
        }
        let succeeded = store
            .list(ListFilter {
                statuses: vec![ExecutionStatus::Succeeded],
                started_after: Some(Timestamp::from_millis(100)),
                limit: 10,
                ..ListFilter::default()
            })
            .await
            .unwrap();
        let names: Vec<&str> = succeeded
            .iter()
            .map(|record| record.name.as_str())
            .collect();
        assert_eq!(names, ["e6", "e3"], "{kind}");
    }
}

#[tokio::test]
async fn a_store_opened_to_inspect_it_writes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let running = record("a", 10, ExecutionStatus::Running);
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .write(WriteBatch {
                executions: vec![running.clone()],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        store.fold_wal().await.unwrap();
    }
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let inspected = SqliteStore::open_shared(&path).unwrap();
    assert_eq!(
        inspected.execution(&running.arn).await.unwrap(),
        Some(running.clone())
    );
    let refused = inspected
        .write(WriteBatch {
            deleted: vec![running.arn.clone()],
            ..WriteBatch::default()
        })
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("read-only"), "{refused}");
    drop(inspected);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    let reopened = SqliteStore::open(&path).unwrap();
    assert!(reopened.execution(&running.arn).await.unwrap().is_some());
}

#[tokio::test]
async fn a_store_where_nothing_can_be_created_is_still_read() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let running = record("a", 10, ExecutionStatus::Running);
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .write(WriteBatch {
                executions: vec![running.clone()],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        store.fold_wal().await.unwrap();
    }
    // As on a read-only filesystem: the shared-memory file cannot be made.
    let shm = directory.path().join("store.db-shm");
    let _ = std::fs::remove_file(&shm);
    std::fs::create_dir(&shm).unwrap();
    let inspected = SqliteStore::open_shared(&path).unwrap();
    assert_eq!(
        inspected.execution(&running.arn).await.unwrap(),
        Some(running)
    );
}

fn line(group: &str, stream: &str, arn: Option<&str>, at: i64, message: &str) -> LogRecord {
    LogRecord {
        id: 0,
        group: group.to_owned(),
        stream: stream.to_owned(),
        execution_arn: arn.map(str::to_owned),
        request_id: None,
        timestamp: Timestamp::from_millis(at),
        message: message.to_owned(),
    }
}

#[tokio::test]
async fn every_store_keeps_log_lines_in_order_and_deletes_them_with_their_execution() {
    for (kind, store, _dir) in stores() {
        let kept = record("kept", 1, ExecutionStatus::Succeeded);
        let gone = record("gone", 2, ExecutionStatus::Succeeded);
        store
            .write(WriteBatch {
                executions: vec![kept.clone(), gone.clone()],
                logs: vec![
                    line("/aws/lambda/F", "s1", Some(&kept.arn), 10, "one"),
                    line("/aws/lambda/F", "s1", Some(&gone.arn), 20, "two"),
                    line("/aws/lambda/F", "s2", None, 30, "three"),
                    line("/aws/lambda/G", "s3", None, 40, "elsewhere"),
                ],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        let read = |query: LogQuery| {
            let store = Arc::clone(&store);
            async move {
                store
                    .logs(query)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|line| line.message)
                    .collect::<Vec<_>>()
            }
        };
        let group = |limit| LogQuery {
            group: "/aws/lambda/F".to_owned(),
            limit,
            ..LogQuery::default()
        };
        assert_eq!(read(group(10)).await, ["one", "two", "three"], "{kind}");
        let newest = LogQuery {
            newest_first: true,
            ..group(2)
        };
        assert_eq!(read(newest).await, ["three", "two"], "{kind}");
        let windowed = LogQuery {
            start: Some(Timestamp::from_millis(15)),
            end: Some(Timestamp::from_millis(30)),
            stream_prefix: Some("s1".to_owned()),
            ..group(10)
        };
        assert_eq!(read(windowed).await, ["two"], "{kind}");
        let first_id = store.logs(group(1)).await.unwrap()[0].id;
        let after = LogQuery {
            after: first_id,
            ..group(10)
        };
        assert_eq!(read(after).await, ["two", "three"], "{kind}");
        let streams = store.log_streams("/aws/lambda/F").await.unwrap();
        let names: Vec<&str> = streams.iter().map(|stream| stream.name.as_str()).collect();
        assert_eq!(names, ["s1", "s2"], "{kind}");
        assert_eq!(
            (
                streams[0].first.millis(),
                streams[0].last.millis(),
                streams[0].bytes
            ),
            (10, 20, 6),
            "{kind}"
        );
        store
            .write(WriteBatch {
                deleted: vec![gone.arn.clone()],
                logs_before: Some(Timestamp::from_millis(35)),
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        assert_eq!(
            read(group(10)).await,
            ["one"],
            "{kind}: the execution's and old plain lines go"
        );
        let other = LogQuery {
            group: "/aws/lambda/G".to_owned(),
            limit: 10,
            ..LogQuery::default()
        };
        assert_eq!(
            read(other).await,
            ["elsewhere"],
            "{kind}: newer plain lines stay"
        );
    }
}
