//! The same behaviour from every store: what is written reads back, and
//! listings page by their cursor.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::sync::Arc;

use durable_engine::execution::{CallbackRecord, ExecutionRecord};
use durable_engine::logs::{LogQuery, LogRecord};
use durable_engine::model::{
    Event, EventDetails, ExecutionStatus, Operation, OperationStatus, OperationType, Timestamp,
};
use durable_engine::store::{
    DueCursor, ListCursor, ListFilter, MemoryStore, SqliteStore, Store, WriteBatch,
};

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
        owed_since: None,
        invoking_since: None,
        failed_invocations: 0,
        retry_at: None,
        due: None,
    }
}

fn event(id: u64) -> Event {
    Event {
        event_type: "StepStarted".to_owned(),
        sub_type: None,
        event_id: id,
        id: Some("s".to_owned()),
        name: None,
        event_timestamp: Timestamp::from_millis(1),
        parent_id: None,
        details: EventDetails::StepStarted {},
    }
}

/// Writes `records` in one batch.
async fn write_records(store: &dyn Store, records: &[ExecutionRecord]) {
    store
        .write(WriteBatch {
            executions: records.to_vec(),
            ..WriteBatch::default()
        })
        .await
        .unwrap();
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
        let stored = store.stored(&running.arn).await.unwrap().unwrap();
        assert_eq!(stored.next_event_id, 6, "{kind}");
        assert_eq!(stored.callbacks.len(), 1, "{kind}");

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
        write_records(&*store, &records).await;
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
async fn every_store_walks_its_timer_index_by_moment_in_pages_through_entries_due_at_once() {
    for (kind, store, _directory) in stores() {
        // Eight due at 500 (more than two pages), two earlier, one after
        // them, one later than the walk's end, one with nothing due; written
        // in two batches, the later one moving an entry.
        let mut records: Vec<ExecutionRecord> = (0..13_i64)
            .map(|n| {
                let mut record = record(&format!("d{n}"), n, ExecutionStatus::Running);
                record.due = match n {
                    0 => Some(Timestamp::from_millis(300)),
                    1 => Some(Timestamp::from_millis(200)),
                    10 => Some(Timestamp::from_millis(700)),
                    11 => Some(Timestamp::from_millis(900)),
                    12 => None,
                    _ => Some(Timestamp::from_millis(500)),
                };
                record
            })
            .collect();
        write_records(&*store, &records).await;
        records[0].due = Some(Timestamp::from_millis(100));
        write_records(&*store, &records[..1]).await;
        let until = Timestamp::from_millis(800);
        let mut walked = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.due(cursor, until, 3).await.unwrap();
            let Some(last) = page.last() else { break };
            cursor = Some(last.cursor());
            walked.extend(page.into_iter().map(|due| (due.at.millis(), due.arn)));
        }
        let arns = |due: i64, from: usize, to: usize| {
            records[from..to]
                .iter()
                .map(move |record| (due, record.arn.clone()))
        };
        // The fourth page holds the rest of 500 and the entry at 700.
        let expected: Vec<(i64, String)> = arns(100, 0, 1)
            .chain(arns(200, 1, 2))
            .chain(arns(500, 2, 10))
            .chain(arns(700, 10, 11))
            .collect();
        assert_eq!(walked, expected, "{kind}");
        // A cursor past the walk's end finds nothing more.
        let beyond = DueCursor {
            at: Timestamp::from_millis(900),
            place: 0,
        };
        let past = store.due(Some(beyond), until, 3).await.unwrap();
        assert!(past.is_empty(), "{kind}: {past:?}");
        // Nothing is due before the first entry.
        let early = store
            .due(None, Timestamp::from_millis(99), 3)
            .await
            .unwrap();
        assert!(early.is_empty(), "{kind}: {early:?}");
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

/// Operations `0..n`, each a started step, at their positions.
fn steps(n: usize) -> Vec<Operation> {
    (0..n)
        .map(|i| {
            Operation::new(
                format!("s{i}"),
                OperationType::Step,
                OperationStatus::Started,
                Timestamp::from_millis(11),
            )
        })
        .collect()
}

/// The batch that starts `execution` with `ops` and the events `1..=events`.
fn started(execution: ExecutionRecord, ops: &[Operation], events: u64) -> WriteBatch {
    let arn = execution.arn.clone();
    WriteBatch {
        operations: ops
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, op)| (arn.clone(), i, op))
            .collect(),
        events: (1..=events).map(|id| (arn.clone(), event(id))).collect(),
        executions: vec![execution],
        ..WriteBatch::default()
    }
}

/// Rows of `table` in the SQLite file at `path`, as another reader sees them.
fn rows(path: &std::path::Path, table: &str) -> i64 {
    count(path, &format!("SELECT COUNT(*) FROM {table}"))
}

/// What the query `sql` counts in the SQLite file at `path`.
fn count(path: &std::path::Path, sql: &str) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

/// Journal rows of an execution not folded into its archive (rows folded
/// and of deleted executions wait to be cut off the journal's start).
fn unfolded(path: &std::path::Path) -> i64 {
    count(
        path,
        "SELECT COUNT(*) FROM journal
         JOIN executions ON executions.id = journal.execution
         LEFT JOIN archives USING (execution)
         WHERE journal.seq > COALESCE(archives.through, 0)",
    )
}

#[tokio::test]
async fn operations_a_batch_lists_out_of_position_order_read_back_by_position() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    for (kind, store) in [
        ("memory", Arc::new(MemoryStore::new()) as Arc<dyn Store>),
        ("sqlite", sqlite),
    ] {
        let execution = record("a", 10, ExecutionStatus::Running);
        let arn = execution.arn.clone();
        let ops = steps(4);
        store.write(started(execution, &ops[..1], 1)).await.unwrap();
        // Two new operations, the later position listed first (a batch lists
        // its changes by operation id).
        store
            .write(WriteBatch {
                operations: vec![
                    (arn.clone(), 2, ops[2].clone()),
                    (arn.clone(), 1, ops[1].clone()),
                ],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        assert_eq!(store.operations(&arn).await.unwrap(), ops[..3], "{kind}");
        let stored = store.stored(&arn).await.unwrap().unwrap();
        assert_eq!(stored.operations, ops[..3], "{kind}");
    }
}

#[tokio::test]
async fn a_finished_execution_reads_back_the_same_after_it_is_folded_with_events_after_its_end() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    for (kind, store) in [
        ("memory", Arc::new(MemoryStore::new()) as Arc<dyn Store>),
        ("sqlite", sqlite),
    ] {
        let mut execution = record("a", 10, ExecutionStatus::Running);
        let arn = execution.arn.clone();
        let ops = steps(3);
        store
            .write(started(execution.clone(), &ops, 4))
            .await
            .unwrap();
        // It ends: the last operation changes and an event lands with the end.
        execution.status = ExecutionStatus::Succeeded;
        let mut last = ops[2].clone();
        last.status = OperationStatus::Succeeded;
        store
            .write(WriteBatch {
                executions: vec![execution.clone()],
                operations: vec![(arn.clone(), 2, last.clone())],
                events: vec![(arn.clone(), event(5))],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        // An event written after the end (an invocation's completion).
        store
            .write(WriteBatch {
                events: vec![(arn.clone(), event(6))],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        let expected = vec![ops[0].clone(), ops[1].clone(), last];
        assert_eq!(store.operations(&arn).await.unwrap(), expected, "{kind}");
        let ids = |events: Vec<Event>| events.into_iter().map(|e| e.event_id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.events(&arn, 1, 10, false).await.unwrap()),
            [1, 2, 3, 4, 5, 6],
            "{kind}"
        );
        assert_eq!(
            ids(store.events(&arn, 4, 3, false).await.unwrap()),
            [4, 5, 6],
            "{kind}"
        );
        assert_eq!(
            ids(store.events(&arn, 6, 3, true).await.unwrap()),
            [6, 5, 4],
            "{kind}"
        );
        assert_eq!(
            ids(store.events(&arn, 3, 2, true).await.unwrap()),
            [3, 2],
            "{kind}"
        );
        // Read back as after a restart: the next event follows the last.
        let stored = store.stored(&arn).await.unwrap().unwrap();
        assert_eq!(stored.operations, expected, "{kind}");
        assert_eq!(stored.next_event_id, 7, "{kind}");
        if kind == "sqlite" {
            // Folded: one archive, and only the late event's journal row
            // is not in it.
            assert_eq!(rows(&path, "archives"), 1);
            assert_eq!(unfolded(&path), 1);
        }
        store
            .write(WriteBatch {
                deleted: vec![arn.clone()],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        assert!(store.operations(&arn).await.unwrap().is_empty(), "{kind}");
        assert!(
            store.events(&arn, 1, 10, false).await.unwrap().is_empty(),
            "{kind}"
        );
        if kind == "sqlite" {
            assert_eq!(rows(&path, "archives"), 0);
            assert_eq!(unfolded(&path), 0);
        }
    }
}

/// The schema of a store file written before archives (`user_version` 3).
const SCHEMA_BEFORE_ARCHIVES: &str = r"
    CREATE TABLE executions (
        id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, function_name TEXT NOT NULL,
        name TEXT NOT NULL, status TEXT NOT NULL, start_ms INTEGER NOT NULL,
        parent_arn TEXT, record TEXT NOT NULL, UNIQUE (function_name, name));
    CREATE INDEX executions_by_start ON executions (function_name, start_ms);
    CREATE INDEX executions_by_parent ON executions (parent_arn) WHERE parent_arn IS NOT NULL;
    CREATE TABLE operations (execution INTEGER NOT NULL, position INTEGER NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (execution, position));
    CREATE TABLE events (execution INTEGER NOT NULL, event_id INTEGER NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (execution, event_id));
    CREATE TABLE callbacks (callback_id TEXT PRIMARY KEY, execution INTEGER NOT NULL, body TEXT NOT NULL);
    CREATE INDEX callbacks_by_execution ON callbacks (execution);
    CREATE TABLE invocations (id INTEGER PRIMARY KEY, request_id TEXT NOT NULL,
        function_name TEXT NOT NULL, arn TEXT, start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL, error TEXT);
    CREATE INDEX invocations_by_function ON invocations (function_name);
    CREATE INDEX executions_live ON executions (status)
        WHERE status IN ('RUNNING', 'PAUSING', 'PAUSED');
    CREATE TABLE logs (id INTEGER PRIMARY KEY, log_group TEXT NOT NULL, stream TEXT NOT NULL,
        arn TEXT, request_id TEXT, at_ms INTEGER NOT NULL, message TEXT NOT NULL);
    CREATE INDEX logs_by_group ON logs (log_group, id);
    CREATE INDEX logs_by_execution ON logs (arn, id) WHERE arn IS NOT NULL;
    PRAGMA user_version = 3;
";

/// Reads `arn`'s operations, event ids and next event id from `store`.
async fn state_of(store: &dyn Store, arn: &str) -> (Vec<Operation>, Vec<u64>, u64) {
    let events = store.events(arn, 1, 100, false).await.unwrap();
    let stored = store.stored(arn).await.unwrap().unwrap();
    assert_eq!(stored.operations, store.operations(arn).await.unwrap());
    (
        stored.operations,
        events.into_iter().map(|event| event.event_id).collect(),
        stored.next_event_id,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn running_executions_read_back_from_the_journal_after_a_restart_and_once_folded_when_idle() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let mut expected = Vec::new();
    {
        let store = SqliteStore::open(&path).unwrap();
        for n in 0..3 {
            let execution = record(&format!("r{n}"), 10 + n, ExecutionStatus::Running);
            let arn = execution.arn.clone();
            let mut ops = steps(2);
            store.write(started(execution, &ops, 3)).await.unwrap();
            ops[1].status = OperationStatus::Succeeded;
            store
                .write(WriteBatch {
                    operations: vec![(arn.clone(), 1, ops[1].clone())],
                    events: vec![(arn.clone(), event(4))],
                    ..WriteBatch::default()
                })
                .await
                .unwrap();
            expected.push((arn, (ops, vec![1, 2, 3, 4], 5)));
        }
        // Stopped at once: nothing folded yet.
        assert_eq!(unfolded(&path), 6);
    }
    // Started again: the journal's rows are found again.
    let store = SqliteStore::open(&path).unwrap();
    for (arn, state) in &expected {
        assert_eq!(&state_of(&store, arn).await, state, "{arn} after a restart");
    }
    // Idle: every execution folded into its archive, the journal cut off.
    for _ in 0..100 {
        if rows(&path, "journal") == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        rows(&path, "journal"),
        0,
        "the idle writer folds the journal"
    );
    assert_eq!(rows(&path, "archives"), 3);
    for (arn, state) in &expected {
        assert_eq!(&state_of(&store, arn).await, state, "{arn} folded");
    }
    // A change after the fold is laid over the archive, before and after a
    // restart.
    let (arn, (ops, _, _)) = &expected[0];
    store
        .write(WriteBatch {
            events: vec![(arn.clone(), event(5))],
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    let after = (ops.clone(), vec![1, 2, 3, 4, 5], 6);
    assert_eq!(state_of(&store, arn).await, after);
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(state_of(&store, arn).await, after);
}

#[tokio::test]
async fn large_json_is_kept_compressed_and_text_written_before_reads_back_the_same() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let mut execution = record("big", 10, ExecutionStatus::Running);
    execution.input = serde_json::json!({ "items": vec!["PROD-001"; 200] }).to_string();
    let arn = execution.arn.clone();
    let ops = steps(40);
    let expected = (ops.clone(), vec![1, 2, 3], 4);
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .write(started(execution.clone(), &ops, 3))
            .await
            .unwrap();
        assert_eq!(
            store.execution(&arn).await.unwrap().unwrap().input,
            execution.input
        );
        assert_eq!(state_of(&store, &arn).await, expected);
    }
    // The record and the operations compressed.
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM executions WHERE typeof(record) = 'blob'"
        ),
        1
    );
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM journal WHERE typeof(operations) = 'blob'"
        ),
        1
    );
    // As a file written before compression holds them: text.
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute(
                "UPDATE executions SET record = ?1",
                [serde_json::to_string(&execution).unwrap()],
            )
            .unwrap();
        let rows: Vec<String> = ops
            .iter()
            .enumerate()
            .map(|(position, op)| format!("[{position},{}]", serde_json::to_string(op).unwrap()))
            .collect();
        connection
            .execute(
                "UPDATE journal SET operations = ?1",
                [format!("[{}]", rows.join(","))],
            )
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.execution(&arn).await.unwrap().unwrap().input,
        execution.input
    );
    assert_eq!(state_of(&store, &arn).await, expected);
}

/// Execution `name` of `F`, ended, with an order-like input.
fn ended(name: &str, start: i64) -> ExecutionRecord {
    let mut execution = record(name, start, ExecutionStatus::Succeeded);
    execution.input =
        serde_json::json!({ "orderId": name, "items": ["PROD-001", "PROD-002"] }).to_string();
    execution.end = Some(Timestamp::from_millis(start + 5));
    execution
}

/// What the query `sql` finds, one value, in the SQLite file at `path`.
fn one<T: rusqlite::types::FromSql>(path: &std::path::Path, sql: &str) -> T {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn later_executions_of_a_function_compress_against_its_first_and_read_back_anywhere() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let ops = steps(12);
    let first = ended("first", 10);
    let second = ended("second", 20);
    let mut running = second.clone();
    running.status = ExecutionStatus::Running;
    running.end = None;
    let expected = (ops.clone(), vec![1, 2, 3], 4);
    let message = serde_json::json!({
        "level": "INFO",
        "message": "Order confirmed",
        "executionArn": second.arn,
    })
    .to_string();
    {
        let store = SqliteStore::open(&path).unwrap();
        // Ended at once: folded, and its function's dictionary made of it.
        store.write(started(first.clone(), &ops, 3)).await.unwrap();
        assert_eq!(rows(&path, "dictionaries"), 1);
        // The next one's record and journal rows compressed against it
        // (a value that starts with byte 1, then the dictionary's id).
        store.write(started(running, &ops, 3)).await.unwrap();
        let against = "substr(operations, 1, 1) = x'01'";
        assert_eq!(
            count(
                &path,
                &format!("SELECT COUNT(*) FROM journal WHERE {against}")
            ),
            1
        );
        assert_eq!(
            count(
                &path,
                "SELECT COUNT(*) FROM executions WHERE name = 'second' AND substr(record, 1, 1) = x'01'"
            ),
            1
        );
        assert_eq!(state_of(&store, &second.arn).await, expected);
        store
            .write(WriteBatch {
                executions: vec![second.clone()],
                logs: vec![line("/aws/lambda/F", "s", Some(&second.arn), 30, &message)],
                ..WriteBatch::default()
            })
            .await
            .unwrap();
        assert_eq!(state_of(&store, &second.arn).await, expected);
    }
    // The log line compressed too, found by its execution's id alone.
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM logs WHERE substr(message, 1, 1) = x'01' AND arn IS NULL"
        ),
        1
    );
    // Its archive too, smaller than the first's (compressed alone) though
    // it holds the same.
    let archive = |name: &str| -> i64 {
        one(
            &path,
            &format!(
                "SELECT length(operations) + length(events) FROM archives
                 JOIN executions ON executions.id = archives.execution WHERE name = '{name}'"
            ),
        )
    };
    assert!(
        archive("second") < archive("first"),
        "{} against {}",
        archive("second"),
        archive("first")
    );
    // Read back after a restart, and by a store opened read-only.
    let store = SqliteStore::open(&path).unwrap();
    for execution in [&first, &second] {
        assert_eq!(state_of(&store, &execution.arn).await, expected);
        assert_eq!(
            store
                .execution(&execution.arn)
                .await
                .unwrap()
                .unwrap()
                .input,
            execution.input
        );
    }
    assert_eq!(
        lines_of(&store, &second.arn).await,
        std::slice::from_ref(&message)
    );
    let read = store
        .logs(LogQuery {
            group: "/aws/lambda/F".to_owned(),
            limit: 10,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(read[0].execution_arn.as_deref(), Some(second.arn.as_str()));
    let streams = store.log_streams("/aws/lambda/F").await.unwrap();
    assert_eq!(streams[0].bytes, u64::try_from(message.len()).unwrap());
    let inspected = SqliteStore::open_shared(&path).unwrap();
    assert_eq!(state_of(&inspected, &second.arn).await, expected);
    // Made of an ended execution: the function's last.
    assert_eq!(rows(&path, "dictionaries"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_function_learns_from_an_execution_under_way_then_once_from_one_ended() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let store = SqliteStore::open(&path).unwrap();
    let mut long = record("long", 10, ExecutionStatus::Running);
    long.input = serde_json::json!({ "orderId": "long" }).to_string();
    // Eight checkpoints of an execution under way: its function's first
    // dictionary, from its history so far.
    for position in 0..8 {
        let batch = WriteBatch {
            executions: vec![long.clone()],
            operations: vec![(long.arn.clone(), position, steps(1).remove(0))],
            ..WriteBatch::default()
        };
        store.write(batch).await.unwrap();
    }
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM dictionaries WHERE of_an_end = 0"
        ),
        1
    );
    // An execution that ends: a second, made of its whole history; not a
    // third for the next one.
    let ops = steps(12);
    store.write(started(ended("a", 20), &ops, 3)).await.unwrap();
    store.write(started(ended("b", 30), &ops, 3)).await.unwrap();
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM dictionaries WHERE of_an_end = 1"
        ),
        1
    );
    assert_eq!(rows(&path, "dictionaries"), 2);
    drop(store);
    // Values compressed against either read back after a restart.
    let store = SqliteStore::open(&path).unwrap();
    let expected = (ops, vec![1, 2, 3], 4);
    for name in ["a", "b"] {
        assert_eq!(state_of(&store, &ended(name, 0).arn).await, expected);
    }
    assert_eq!(store.operations(&long.arn).await.unwrap().len(), 8);
}

/// The messages of execution `arn`'s lines in the log group of `F`.
async fn lines_of(store: &SqliteStore, arn: &str) -> Vec<String> {
    store
        .logs(LogQuery {
            group: "/aws/lambda/F".to_owned(),
            execution_arn: Some(arn.to_owned()),
            limit: 10,
            ..LogQuery::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|line| line.message)
        .collect()
}

#[tokio::test]
async fn a_store_file_from_before_archives_is_migrated_and_reads_back_the_same() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("old.db");
    let finished = record("done", 10, ExecutionStatus::Succeeded);
    let running = record("live", 20, ExecutionStatus::Running);
    let ops = steps(2);
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(SCHEMA_BEFORE_ARCHIVES).unwrap();
        for (id, execution) in [(1, &finished), (2, &running)] {
            old.execute(
                "INSERT INTO executions (id, arn, function_name, name, status, start_ms, record)
                 VALUES (?1, ?2, 'F', ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    id,
                    execution.arn,
                    execution.name,
                    execution.status.as_str(),
                    execution.start.millis(),
                    serde_json::to_string(execution).unwrap()
                ],
            )
            .unwrap();
            for (position, op) in (0_i64..).zip(&ops) {
                old.execute(
                    "INSERT INTO operations VALUES (?1, ?2, ?3)",
                    rusqlite::params![id, position, serde_json::to_string(op).unwrap()],
                )
                .unwrap();
            }
            old.execute(
                "INSERT INTO logs (log_group, stream, arn, request_id, at_ms, message)
                 VALUES ('/aws/lambda/F', 's', ?1, 'r', 1, ?2)",
                rusqlite::params![execution.arn, format!("line of {}", execution.name)],
            )
            .unwrap();
            for event_id in 1_u64..=3 {
                old.execute(
                    "INSERT INTO events VALUES (?1, ?2, ?3)",
                    rusqlite::params![
                        id,
                        i64::try_from(event_id).unwrap(),
                        serde_json::to_string(&event(event_id)).unwrap()
                    ],
                )
                .unwrap();
            }
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    let ids = |events: Vec<Event>| events.into_iter().map(|e| e.event_id).collect::<Vec<_>>();
    // Taken up as a restart took it: the running execution is owed an
    // invocation, due at once.
    let migrated = store.execution(&running.arn).await.unwrap().unwrap();
    assert_eq!(migrated.owed_since, Some(running.start));
    assert_eq!(
        store
            .due(None, Timestamp::from_millis(0), 10)
            .await
            .unwrap()
            .iter()
            .map(|due| due.arn.as_str())
            .collect::<Vec<_>>(),
        [running.arn.as_str()]
    );
    for execution in [&finished, &running] {
        let read = store.execution(&execution.arn).await.unwrap().unwrap();
        assert_eq!(
            (&read.arn, read.status, &read.input),
            (&execution.arn, execution.status, &execution.input)
        );
        assert_eq!(store.operations(&execution.arn).await.unwrap(), ops);
        assert_eq!(
            ids(store.events(&execution.arn, 1, 10, false).await.unwrap()),
            [1, 2, 3]
        );
        // Its log lines are found by its execution (indexed by its id now).
        assert_eq!(
            lines_of(&store, &execution.arn).await,
            [format!("line of {}", execution.name)]
        );
    }
    // Both executions' rows were folded into archives, and the tables of
    // rows are gone: the journal holds what comes next.
    assert_eq!(rows(&path, "archives"), 2);
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('operations', 'events')"
        ),
        0
    );
    let folded = store.stored(&finished.arn).await.unwrap().unwrap();
    assert_eq!(folded.operations, ops);
    assert_eq!(folded.next_event_id, 4, "after the archive's last event");
    let live = store.stored(&running.arn).await.unwrap().unwrap();
    assert_eq!(live.operations, ops);
    assert_eq!(live.next_event_id, 4);
    drop(store);
    let vacuum: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA auto_vacuum", [], |row| row.get(0))
        .unwrap();
    assert_eq!(vacuum, 2, "converted to incremental vacuum");
    // Opening it again migrates nothing more and reads the same.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.operations(&finished.arn).await.unwrap(), ops);
}

/// A chained invoke as a store file before the outbox held it: its
/// operation, and its `ChainedInvokeStarted` event.
fn old_chained_invoke(id: &str, status: OperationStatus, event_id: u64) -> (Operation, Event) {
    let op = Operation::new(
        id.to_owned(),
        OperationType::ChainedInvoke,
        status,
        Timestamp::from_millis(11),
    );
    let event = Event {
        event_type: "ChainedInvokeStarted".to_owned(),
        sub_type: None,
        event_id,
        id: Some(id.to_owned()),
        name: None,
        event_timestamp: Timestamp::from_millis(11),
        parent_id: None,
        details: EventDetails::ChainedInvokeStarted {
            function_name: format!("worker-{id}"),
            tenant_id: None,
            input: Some(durable_engine::model::EventPayload {
                payload: Some(format!(r#"{{"for":"{id}"}}"#)),
                truncated: false,
            }),
            executed_version: None,
            durable_execution_arn: None,
        },
    };
    (op, event)
}

#[tokio::test]
async fn a_store_file_from_before_the_outbox_has_its_chained_invokes_under_way_put_in_it() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("old.db");
    let running = record("live", 20, ExecutionStatus::Running);
    let (open, open_started) = old_chained_invoke("open", OperationStatus::Started, 1);
    let (ended, ended_started) = old_chained_invoke("ended", OperationStatus::Succeeded, 2);
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(SCHEMA_BEFORE_ARCHIVES).unwrap();
        old.execute(
            "INSERT INTO executions (id, arn, function_name, name, status, start_ms, record)
             VALUES (1, ?1, 'F', ?2, 'RUNNING', ?3, ?4)",
            rusqlite::params![
                running.arn,
                running.name,
                running.start.millis(),
                serde_json::to_string(&running).unwrap()
            ],
        )
        .unwrap();
        for (position, op) in [(0, &open), (1, &ended)] {
            old.execute(
                "INSERT INTO operations VALUES (1, ?1, ?2)",
                rusqlite::params![position, serde_json::to_string(op).unwrap()],
            )
            .unwrap();
        }
        for event in [&open_started, &ended_started] {
            old.execute(
                "INSERT INTO events VALUES (1, ?1, ?2)",
                rusqlite::params![
                    i64::try_from(event.event_id).unwrap(),
                    serde_json::to_string(event).unwrap()
                ],
            )
            .unwrap();
        }
    }
    let store = SqliteStore::open(&path).unwrap();
    let outbox = store.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1, "only the invoke under way: {outbox:?}");
    let (arn, request) = &outbox[0];
    assert_eq!(arn, &running.arn);
    assert_eq!(request.operation_id, "open");
    assert_eq!(request.function_name, "worker-open");
    assert_eq!(request.payload, r#"{"for":"open"}"#);
    drop(store);
    // Filled once: opening it again finds the same row, not a second.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.outbox().await.unwrap().len(), 1);
}

/// `length` characters that do not compress (the store compresses what
/// does), from a xorshift `seed`.
fn noise(seed: &mut u64, length: usize) -> String {
    (0..length)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            char::from(b'!' + u8::try_from(*seed % 90).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn the_pages_a_deleted_execution_frees_are_handed_back_to_the_filesystem() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.db");
    let store = SqliteStore::open(&path).unwrap();
    let execution = record("big", 10, ExecutionStatus::Running);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    store
        .write(WriteBatch {
            executions: vec![execution.clone()],
            events: (1..=2000)
                .map(|id| noisy_event(&execution.arn, id, &mut seed, 4000))
                .collect(),
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    let full = store.space().await.unwrap();
    store
        .write(WriteBatch {
            deleted: vec![execution.arn.clone()],
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    let freed = store.space().await.unwrap();
    assert_eq!(
        freed.file_bytes, full.file_bytes,
        "deleting frees pages inside the file"
    );
    assert!(freed.free_bytes > 6_000_000, "{freed:?}");
    store.trim().await.unwrap();
    let trimmed = store.space().await.unwrap();
    assert_eq!(trimmed.free_bytes, 0, "{trimmed:?}");
    assert!(
        trimmed.file_bytes < full.file_bytes / 10,
        "{trimmed:?} after {full:?}"
    );
    // The file itself shrinks when a checkpoint folds the trim into it
    // (how far depends on which checkpoint completes last).
    store.fold_wal().await.unwrap();
    let on_disk = std::fs::metadata(&path).unwrap().len();
    assert!(on_disk < full.file_bytes, "{on_disk} after {full:?}");
}

#[tokio::test]
async fn a_batch_that_cannot_be_written_fails_alone_among_those_committed_with_it() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("store.db")).unwrap();
    let busy = record("busy", 1, ExecutionStatus::Running);
    // A large batch first keeps the writer busy while the rest queue
    // behind it, so that they share one transaction.
    let first = store.write(WriteBatch {
        executions: vec![busy.clone()],
        operations: steps(3000)
            .into_iter()
            .enumerate()
            .map(|(position, op)| (busy.arn.clone(), position, op))
            .collect(),
        ..WriteBatch::default()
    });
    let records: Vec<ExecutionRecord> = (0..20)
        .map(|i| record(&format!("e{i}"), 10 + i, ExecutionStatus::Running))
        .collect();
    let mut writes: Vec<_> = records
        .iter()
        .map(|running| {
            store.write(WriteBatch {
                executions: vec![running.clone()],
                events: vec![(running.arn.clone(), event(1))],
                ..WriteBatch::default()
            })
        })
        .collect();
    // An operation of an execution the store does not hold.
    let orphan = record("orphan", 5, ExecutionStatus::Running);
    writes.insert(
        10,
        store.write(WriteBatch {
            operations: vec![(orphan.arn.clone(), 0, steps(1).remove(0))],
            ..WriteBatch::default()
        }),
    );
    first.await.unwrap();
    let mut outcomes = Vec::new();
    for write in writes {
        outcomes.push(write.await);
    }
    assert!(
        outcomes.remove(10).is_err(),
        "the orphan operation is refused"
    );
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    for running in &records {
        assert_eq!(
            store.execution(&running.arn).await.unwrap().as_ref(),
            Some(running)
        );
        assert_eq!(
            store.events(&running.arn, 1, 5, false).await.unwrap().len(),
            1
        );
    }
    assert_eq!(store.operations(&busy.arn).await.unwrap().len(), 3000);
    assert_eq!(store.operations(&orphan.arn).await.unwrap(), Vec::new());
    let stats = store.stats();
    assert!(
        stats.commits < stats.batches,
        "the batches shared commits: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_read_while_its_execution_is_folded_sees_each_event_once() {
    let directory = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&directory.path().join("store.db")).unwrap());
    for round in 0..200 {
        let mut execution = record(&format!("race-{round}"), 10, ExecutionStatus::Running);
        let arn = execution.arn.clone();
        store
            .write(started(execution.clone(), &steps(2), 40))
            .await
            .unwrap();
        // The end folds the rows into the archive while the history is read.
        execution.status = ExecutionStatus::Succeeded;
        let ending = store.write(WriteBatch {
            executions: vec![execution],
            events: vec![(arn.clone(), event(41))],
            ..WriteBatch::default()
        });
        let reads = async {
            let mut seen = Vec::new();
            for _ in 0..20 {
                let ids: Vec<u64> = store
                    .events(&arn, 1, 100, false)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|event| event.event_id)
                    .collect();
                seen.push(ids);
                tokio::task::yield_now().await;
            }
            seen
        };
        let (ended, seen) = tokio::join!(ending, reads);
        ended.unwrap();
        for ids in seen {
            let expected: Vec<u64> = (1..=u64::try_from(ids.len()).unwrap()).collect();
            assert_eq!(ids, expected, "round {round}: each event once, in order");
        }
    }
}

/// Event `id` of `arn`, named with `length` characters of noise.
fn noisy_event(arn: &str, id: u64, seed: &mut u64, length: usize) -> (String, Event) {
    let mut event = event(id);
    event.name = Some(noise(seed, length));
    (arn.to_owned(), event)
}

/// `count` running executions named `prefix-N`, written to `store`.
async fn running(store: &SqliteStore, prefix: &str, count: usize) -> Vec<ExecutionRecord> {
    let executions: Vec<ExecutionRecord> = (0..count)
        .map(|n| record(&format!("{prefix}-{n}"), 10, ExecutionStatus::Running))
        .collect();
    store
        .write(WriteBatch {
            executions: executions.clone(),
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    executions
}

/// A store in a file of its own, and the path of its WAL.
fn file_store() -> (tempfile::TempDir, Arc<SqliteStore>, std::path::PathBuf) {
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&directory.path().join("store.db")).unwrap());
    let wal = directory.path().join("store.db-wal");
    (directory, store, wal)
}

/// The WAL held at most its restart size (32 MiB) and one commit's frames.
fn assert_wal_bounded(largest: u64) {
    assert!(
        largest <= 40 * 1024 * 1024,
        "the WAL reached {} MB",
        largest / 1_000_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_while_an_idle_writer_cuts_a_long_journal() {
    let (_directory, store, wal) = file_store();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    // 300 running executions, each with 600 small rows (about 70 MB of
    // journal): idle, the writer folds them 256 at a time, and the last
    // fold's cut reaches every row.
    let executions = running(&store, "long", 300).await;
    for round in 1..=600 {
        store
            .write(WriteBatch {
                events: executions
                    .iter()
                    .map(|execution| noisy_event(&execution.arn, round, &mut seed, 300))
                    .collect(),
                ..WriteBatch::default()
            })
            .await
            .unwrap();
    }
    let written = store.space().await.unwrap();
    let mut largest = 0;
    let began = std::time::Instant::now();
    loop {
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |metadata| metadata.len()));
        let space = store.space().await.unwrap();
        // Folded, cut, and the freed pages handed back but the 8 MiB kept
        // (the archives hold the same noise as the rows).
        let kept = 8 * 1024 * 1024;
        if space.free_bytes <= kept && space.file_bytes + kept < written.file_bytes {
            break;
        }
        assert!(
            began.elapsed() < std::time::Duration::from_mins(1),
            "{space:?} after {written:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_wal_bounded(largest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_while_free_pages_are_handed_back_a_step_at_a_time() {
    let (_directory, store, wal) = file_store();
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    // 48 MB written first and 48 MB after; the first deleted, the trim
    // moves the later pages down into the freed ones, writing each.
    let mut write = async |name: String| {
        let execution = record(&name, 10, ExecutionStatus::Running);
        for part in 0..4_u64 {
            store
                .write(WriteBatch {
                    executions: vec![execution.clone()],
                    events: (1..=750)
                        .map(|id| noisy_event(&execution.arn, part * 1000 + id, &mut seed, 4000))
                        .collect(),
                    ..WriteBatch::default()
                })
                .await
                .unwrap();
        }
        execution.arn
    };
    let mut early = Vec::new();
    for n in 0..4 {
        early.push(write(format!("early-{n}")).await);
    }
    for n in 0..4 {
        write(format!("late-{n}")).await;
    }
    store
        .write(WriteBatch {
            deleted: early,
            ..WriteBatch::default()
        })
        .await
        .unwrap();
    let freed = store.space().await.unwrap();
    assert!(freed.free_bytes > 40_000_000, "{freed:?}");
    let mut trimming = tokio::task::JoinSet::new();
    {
        let store = Arc::clone(&store);
        trimming.spawn(async move { store.trim().await });
    }
    let mut largest = 0;
    let trimmed = loop {
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |metadata| metadata.len()));
        let wait = tokio::time::sleep(std::time::Duration::from_millis(2));
        tokio::select! {
            done = trimming.join_next() => break done,
            () = wait => {}
        }
    };
    trimmed.unwrap().unwrap().unwrap();
    let trimmed = store.space().await.unwrap();
    assert_eq!(trimmed.free_bytes, 0, "{trimmed:?}");
    assert!(
        trimmed.file_bytes < freed.file_bytes * 2 / 3,
        "{trimmed:?} after {freed:?}"
    );
    // The WAL's restart size (32 MiB) and one step's commit, not the
    // 48 MB the trim moved.
    assert_wal_bounded(largest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_while_writes_and_reads_go_on() {
    let (_directory, store, wal) = file_store();
    let writers = 96_usize;
    let executions = running(&store, "busy", writers).await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    // Readers that never stop, and writers that always have a batch queued
    // (about 230 MB of operations in all): the checkpointer's passive passes
    // alone fall behind. The writer folds the WAL once it holds 32 MiB;
    // one group commit's frames come on top.
    for reader in executions.iter().take(2) {
        let (store, done, arn) = (Arc::clone(&store), Arc::clone(&done), reader.arn.clone());
        tasks.spawn(async move {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                store.execution(&arn).await.unwrap();
            }
        });
    }
    for execution in &executions {
        let (store, arn) = (Arc::clone(&store), execution.arn.clone());
        tasks.spawn(async move {
            for round in 0..120_usize {
                let mut op = Operation::new(
                    format!("s{}", round % 8),
                    OperationType::Step,
                    OperationStatus::Started,
                    Timestamp::from_millis(11),
                );
                op.name = Some("x".repeat(20_000));
                store
                    .write(WriteBatch {
                        operations: vec![(arn.clone(), round % 8, op)],
                        ..WriteBatch::default()
                    })
                    .await
                    .unwrap();
            }
        });
    }
    let mut largest = 0;
    while tasks.len() > 2 {
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |metadata| metadata.len()));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if tasks.len() > 2 {
            let _ = tokio::time::timeout(std::time::Duration::ZERO, tasks.join_next()).await;
        }
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    while let Some(task) = tasks.join_next().await {
        task.unwrap();
    }
    assert_wal_bounded(largest);
}
