//! The writer: one thread owning the connection that writes, committing
//! every batch queued behind the first in one transaction (group commit).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::dictionary::{self, Dictionaries};
use super::journal::{self, Journal};
use super::packing;
use super::{Counters, index};
use crate::logs::LogRecord;
use crate::model::{Event, Operation, Timestamp};
use crate::store::StoreError;
use crate::store::error::Result;
use crate::store::{InvocationRecord, WriteBatch};

/// How many batches one transaction takes at most.
const MAX_GROUP: usize = 4096;

/// Executions whose ids the writer remembers (it looks the rest up by
/// ARN): those in flight, not every one at rest.
const ID_CACHE: usize = 8_192;

/// How a function's log group is named: this, then the function's name.
const LOG_GROUP_PREFIX: &str = "/aws/lambda/";

/// A batch with its rows serialized, ready for the writer.
#[derive(Debug, Default)]
pub(super) struct Prepared {
    executions: Vec<PreparedExecution>,
    /// One journal row per execution the batch changes (a batch is mostly
    /// one execution's), in the order the batch first names them.
    changes: Vec<(String, journal::Row)>,
    callbacks: Vec<(String, String, String)>,
    closed_callbacks: Vec<String>,
    outbox: Vec<(String, String, String)>,
    outbox_done: Vec<(String, String)>,
    invocations: Vec<InvocationRecord>,
    deleted: Vec<String>,
    /// Log lines, each with its message packed ([`packing::packed_text`]).
    logs: Vec<(LogRecord, rusqlite::types::Value)>,
    logs_before: Option<i64>,
    /// Asks the writer to hand the file's free pages back after the commit.
    trim: bool,
}

impl Prepared {
    /// Whether the batch holds only function log lines, which nothing
    /// waits on: they need not reach the disk before the next commit that
    /// does (a later synced commit syncs them too, as the WAL is appended
    /// in order).
    fn only_logs(&self) -> bool {
        self.executions.is_empty()
            && self.changes.is_empty()
            && self.callbacks.is_empty()
            && self.closed_callbacks.is_empty()
            && self.outbox.is_empty()
            && self.outbox_done.is_empty()
            && self.invocations.is_empty()
            && self.deleted.is_empty()
            && !self.trim
    }

    /// A request to trim the file, and nothing to write.
    pub(super) fn trim() -> Self {
        Self {
            trim: true,
            ..Self::default()
        }
    }
}

#[derive(Debug)]
struct PreparedExecution {
    arn: String,
    function_name: String,
    name: String,
    status: &'static str,
    start_ms: i64,
    parent_arn: Option<String>,
    /// The record's JSON, packed ([`packing::packed_text`]).
    record: rusqlite::types::Value,
    /// The timer index's entry.
    due_ms: Option<i64>,
    /// Whether it ended: its rows are then folded into its archive.
    finished: bool,
}

pub(super) type Job = (Prepared, oneshot::Sender<Result<()>>);

/// What the writer shares with the store.
pub(super) struct Shared {
    /// The file's page size.
    pub(super) page_bytes: u64,
    pub(super) counters: Arc<Counters>,
    pub(super) journal: Arc<Journal>,
    pub(super) dictionaries: Arc<Dictionaries>,
    /// The readers' connection, held while a read is under way: the writer
    /// releases folded journal rows only while it is free.
    pub(super) reader: Arc<Mutex<Connection>>,
}

/// What applying batches did to the journal, for its index once the commit
/// is known.
#[derive(Debug, Default)]
struct Applied {
    /// Rows appended: execution, row.
    added: Vec<(i64, i64)>,
    /// Executions folded (or deleted), and the last row folded.
    folds: Vec<(i64, i64)>,
}

impl Applied {
    /// The batches were rolled back.
    fn undo(self, journal: &Journal) {
        journal.index().forget(&self.added);
    }

    /// The batches were committed.
    fn done(self, journal: &Journal) {
        let mut index = journal.index();
        for (execution, through) in self.folds {
            index.folded(execution, through);
        }
    }

    fn extend(&mut self, other: Self) {
        self.added.extend(other.added);
        self.folds.extend(other.folds);
    }
}

/// `batch` serialized and packed for the writer, on the caller's thread:
/// the writer only writes.
pub(super) fn prepare(batch: WriteBatch, dictionaries: &Dictionaries) -> Result<Prepared> {
    let executions = batch
        .executions
        .iter()
        .map(|record| {
            Ok(PreparedExecution {
                arn: record.arn.clone(),
                function_name: record.function_name.clone(),
                name: record.name.clone(),
                status: record.status.as_str(),
                start_ms: record.start.millis(),
                parent_arn: record.parent.as_ref().map(|parent| parent.arn.clone()),
                record: packing::packed_text(
                    serde_json::to_string(record)?,
                    dictionaries.of(&record.function_name).as_deref(),
                )?,
                due_ms: record.due.map(Timestamp::millis),
                // Folded once its last invocation has ended too: the end of
                // an invocation that ended it is recorded after its end.
                finished: record.status.is_terminal() && record.invoking_since.is_none(),
            })
        })
        .collect::<Result<_>>()?;
    Ok(Prepared {
        executions,
        changes: journal_rows(&batch.operations, &batch.events, dictionaries)?,
        callbacks: batch
            .callbacks
            .into_iter()
            .map(|callback| {
                Ok((
                    callback.callback_id.clone(),
                    callback.arn.clone(),
                    serde_json::to_string(&callback)?,
                ))
            })
            .collect::<serde_json::Result<_>>()?,
        closed_callbacks: batch.closed_callbacks,
        outbox: batch
            .outbox
            .into_iter()
            .map(|(arn, request)| {
                let body = serde_json::to_string(&request)?;
                Ok((arn, request.operation_id, body))
            })
            .collect::<serde_json::Result<_>>()?,
        outbox_done: batch.outbox_done,
        invocations: batch.invocations,
        deleted: batch.deleted,
        logs: batch
            .logs
            .into_iter()
            .map(|mut line| {
                let dictionary = line
                    .group
                    .strip_prefix(LOG_GROUP_PREFIX)
                    .and_then(|function| dictionaries.of(function));
                let message =
                    packing::packed_text(std::mem::take(&mut line.message), dictionary.as_deref())?;
                Ok((line, message))
            })
            .collect::<rusqlite::Result<_>>()?,
        logs_before: batch.logs_before.map(Timestamp::millis),
        trim: false,
    })
}

/// The batch's `operations` and `events` as one journal row per execution,
/// in the order the batch first names them.
fn journal_rows(
    operations: &[(String, usize, Operation)],
    events: &[(String, Event)],
    dictionaries: &Dictionaries,
) -> Result<Vec<(String, journal::Row)>> {
    let operations: Vec<(&str, i64, String)> = operations
        .iter()
        .map(|(arn, position, op)| Ok((arn.as_str(), index(*position), serde_json::to_string(op)?)))
        .collect::<serde_json::Result<_>>()?;
    let events: Vec<(&str, String)> = events
        .iter()
        .map(|(arn, event)| Ok((arn.as_str(), serde_json::to_string(event)?)))
        .collect::<serde_json::Result<_>>()?;
    let mut changed: Vec<&str> = Vec::new();
    for &arn in operations
        .iter()
        .map(|(arn, ..)| arn)
        .chain(events.iter().map(|(arn, _)| arn))
    {
        if !changed.contains(&arn) {
            changed.push(arn);
        }
    }
    changed
        .into_iter()
        .map(|arn| {
            let of_execution: Vec<(i64, &str)> = operations
                .iter()
                .filter(|(of, ..)| *of == arn)
                .map(|(_, position, body)| (*position, body.as_str()))
                .collect();
            let its_events: Vec<&str> = events
                .iter()
                .filter(|(of, _)| *of == arn)
                .map(|(_, body)| body.as_str())
                .collect();
            let dictionary = crate::arn::function_of_execution(arn)
                .and_then(|function| dictionaries.of(function));
            Ok((
                arn.to_owned(),
                journal::Row::new(&of_execution, &its_events, dictionary.as_deref())?,
            ))
        })
        .collect()
}

/// The writer: takes every batch queued behind the first, applies them all
/// in one transaction (one bad batch fails alone), commits once,
/// acknowledges all.
pub(super) fn write_loop(
    mut connection: Connection,
    receiver: &mpsc::Receiver<Job>,
    shared: &Shared,
) {
    let counters = &shared.counters;
    let journal = &*shared.journal;
    let dictionaries = &*shared.dictionaries;
    let mut ids: HashMap<String, i64> = HashMap::new();
    // `synchronous = FULL` (2) syncs every commit; a commit of log lines
    // alone is left to the next one that syncs.
    let synced = connection
        .query_row("PRAGMA synchronous", [], |row| row.get::<_, i64>(0))
        .is_ok_and(|level| level == 2);
    // Whether the connection is at `NORMAL` for log lines now.
    let mut relaxed = false;
    let mut load = Load::default();
    while let Some(first) = next_job(&mut connection, receiver, shared) {
        let group = gather(first, receiver, &mut load, GATHER);
        if ids.len() > ID_CACHE {
            ids.clear();
        }
        let unsynced = synced && group.iter().all(|(batch, _)| batch.only_logs());
        if synced && unsynced != relaxed {
            let level = if unsynced { "NORMAL" } else { "FULL" };
            match connection.execute_batch(&format!("PRAGMA synchronous = {level};")) {
                Ok(()) => relaxed = unsynced,
                // Log lines synced after all: no harm.
                Err(_) if unsynced => {}
                // Nothing is committed unsynced that someone waits on.
                Err(error) => {
                    let error = StoreError::from(error);
                    for (_, reply) in group {
                        let _ = reply.send(Err(error.clone()));
                    }
                    continue;
                }
            }
        }
        let (committed, outcomes, applied) =
            match commit_together(&mut connection, &group, &mut ids, (journal, dictionaries)) {
                Ok((committed, applied)) => (committed, vec![Ok(()); group.len()], applied),
                Err(rolled_back) => {
                    // A batch failed: nothing was committed; each batch
                    // again, alone in a savepoint, so that the others still
                    // land.
                    rolled_back.undo(journal);
                    ids.clear();
                    commit_apart(&mut connection, &group, &mut ids, (journal, dictionaries))
                }
            };
        if committed.is_ok() {
            let sources = dictionary_sources(&group, &ids, &applied, journal, dictionaries);
            applied.done(journal);
            dictionaries.learn_or_warn(&connection, journal, &sources);
        } else {
            applied.undo(journal);
            ids.clear();
        }
        tidy_journal(&mut connection, shared, false);
        counters.commits.fetch_add(1, Ordering::Relaxed);
        counters.batches.fetch_add(
            u64::try_from(group.len()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let trimmed = if group.iter().any(|(batch, _)| batch.trim) {
            trim_all(&connection, pages(TRIM_STEP_BYTES, shared.page_bytes))
                .map_err(StoreError::from)
        } else {
            Ok(())
        };
        let committed = committed.map_err(StoreError::from);
        for (index, (batch, reply)) in group.into_iter().enumerate() {
            if batch.trim {
                let _ = reply.send(trimmed.clone());
                continue;
            }
            let outcome = match &committed {
                Ok(()) => outcomes.get(index).cloned().unwrap_or(Ok(())),
                Err(error) => Err(error.clone()),
            };
            let _ = reply.send(outcome);
        }
    }
}

/// The executions of a commit that their function's dictionary may be made
/// of, when it has none: those it folded, and those of a function without
/// one that have written [`dictionary::LEARN_AFTER_ROWS`] journal rows.
fn dictionary_sources(
    group: &[Job],
    ids: &HashMap<String, i64>,
    applied: &Applied,
    journal: &Journal,
    dictionaries: &Dictionaries,
) -> Vec<i64> {
    let mut sources: Vec<i64> = applied
        .folds
        .iter()
        .map(|&(execution, _)| execution)
        .collect();
    for (arn, _) in group.iter().flat_map(|(batch, _)| &batch.changes) {
        // (Ended ones are among the folds.)
        let wanted = crate::arn::function_of_execution(arn)
            .is_some_and(|function| dictionaries.wants(function, false));
        if !wanted {
            continue;
        }
        if let Some(&id) = ids.get(arn)
            && journal.index().count_of(id) >= dictionary::LEARN_AFTER_ROWS
            && !sources.contains(&id)
        {
            sources.push(id);
        }
    }
    sources
}

/// Applies every batch of `group` in one transaction and commits it.
///
/// `Err` when a batch failed to apply: the transaction is rolled back,
/// nothing of the group is written. `Ok` holds the commit's own outcome.
fn commit_together(
    connection: &mut Connection,
    group: &[Job],
    ids: &mut HashMap<String, i64>,
    (journal, dictionaries): (&Journal, &Dictionaries),
) -> Result<(rusqlite::Result<()>, Applied), Applied> {
    let mut applied = Applied::default();
    let transaction = match connection.transaction() {
        Ok(transaction) => transaction,
        // Not even begun: the commit's outcome, for every batch.
        Err(error) => return Ok((Err(error), applied)),
    };
    for (batch, _) in group {
        if apply(
            &transaction,
            batch,
            ids,
            (journal, dictionaries),
            &mut applied,
        )
        .is_err()
        {
            return Err(applied);
        }
    }
    Ok((transaction.commit(), applied))
}

/// Applies each batch of `group` in a savepoint of its own, so that a bad
/// one fails alone, and commits the rest: the commit's outcome and each
/// batch's.
fn commit_apart(
    connection: &mut Connection,
    group: &[Job],
    ids: &mut HashMap<String, i64>,
    (journal, dictionaries): (&Journal, &Dictionaries),
) -> (rusqlite::Result<()>, Vec<Result<()>>, Applied) {
    let mut outcomes: Vec<Result<()>> = Vec::with_capacity(group.len());
    let mut applied = Applied::default();
    let committed = (|| -> rusqlite::Result<()> {
        let transaction = connection.transaction()?;
        for (batch, _) in group {
            transaction.execute_batch("SAVEPOINT batch")?;
            let mut this = Applied::default();
            match apply(&transaction, batch, ids, (journal, dictionaries), &mut this) {
                Ok(()) => {
                    transaction.execute_batch("RELEASE batch")?;
                    applied.extend(this);
                    outcomes.push(Ok(()));
                }
                Err(error) => {
                    transaction.execute_batch("ROLLBACK TO batch; RELEASE batch")?;
                    this.undo(journal);
                    // Ids learnt in the rolled-back batch may not exist.
                    ids.clear();
                    outcomes.push(Err(error.into()));
                }
            }
        }
        transaction.commit()
    })();
    (committed, outcomes, applied)
}

/// After a commit: folds the executions the journal has run far past
/// (when `all`, as when the writer is idle, a step of every one: true when
/// more remain), and releases folded rows if no read is under way.
fn tidy_journal(connection: &mut Connection, shared: &Shared, all: bool) -> bool {
    let dictionaries = &*shared.dictionaries;
    let (more, folded) = journal::fold_behind(connection, &shared.journal, &|function| dictionaries.of(function), all)
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "the store's journal could not be folded; the next commit tries again");
            (false, Vec::new())
        });
    dictionaries.learn_or_warn(connection, &shared.journal, &folded);
    if shared.journal.index().has_folded()
        && let Ok(_quiet) = shared.reader.try_lock()
    {
        shared.journal.index().release();
    }
    more
}

/// Commits in a row that found other batches queued behind their first,
/// after which the writer takes the engine to be under load.
const LOADED_AFTER: u32 = 4;

/// How the writer, under load, keeps gathering batches before it commits
/// them: a commit rewrites the journal's last pages, the file's header and
/// pointer-map pages, the timer index's and the log's last pages and the
/// WAL's last block whatever it holds, so fewer, larger commits write fewer
/// bytes per checkpoint (and sync less often). A batch arriving alone is
/// committed at once.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// How long it gathers at most.
    most: Duration,
    /// How long it waits for the next batch: once none comes within this,
    /// the callers are all waiting for this commit, and it goes.
    gap: Duration,
}

/// The writer's gathering window under load: at most 10 ms, while batches
/// keep coming within 1 ms of each other.
const GATHER: Window = Window {
    most: Duration::from_millis(10),
    gap: Duration::from_millis(1),
};

/// Whether recent commits found batches queued behind their first.
#[derive(Debug, Default)]
struct Load {
    /// Commits in a row that did.
    crowded: u32,
}

/// The batches to commit together: `first`, those queued behind it and,
/// under load, those arriving within `window` (at most [`MAX_GROUP`]).
fn gather(first: Job, receiver: &mpsc::Receiver<Job>, load: &mut Load, window: Window) -> Vec<Job> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match receiver.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    if group.len() == 1 {
        load.crowded = 0;
        return group;
    }
    load.crowded = load.crowded.saturating_add(1);
    if load.crowded < LOADED_AFTER {
        return group;
    }
    // Asleep while it waits: the two cores are the engine's too.
    let until = std::time::Instant::now() + window.most;
    while group.len() < MAX_GROUP {
        let left = until.saturating_duration_since(std::time::Instant::now());
        match receiver.recv_timeout(left.min(window.gap)) {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    group
}

/// How long the writer keeps looking for the next batch before it sleeps:
/// under a steady trickle of checkpoints the next one usually arrives within
/// this, and finding it without sleeping saves two thread wake-ups.
const LINGER: Duration = Duration::from_micros(100);

/// How long the writer waits idle before it trims the file.
const TRIM_WHEN_IDLE: Duration = Duration::from_millis(500);

/// Free space the writer leaves in the file (8 MiB): below this, a trim is
/// not worth its writes.
const TRIM_ABOVE_BYTES: u64 = 8 * 1024 * 1024;

/// What one idle trim step hands back at most (4 MiB), so that a batch
/// arriving meanwhile waits at most one step. A step moves the file's last
/// pages down into free ones, writing each it moves and the pages that
/// point at them: its commit is a third larger than the step, and the WAL
/// holds at most its restart size and one such commit.
const TRIM_STEP_BYTES: u64 = 4 * 1024 * 1024;

/// Pages of `bytes` in a file of `page_bytes` pages.
fn pages(bytes: u64, page_bytes: u64) -> i64 {
    i64::try_from(bytes / page_bytes.max(1)).unwrap_or(i64::MAX)
}

/// Hands free pages back to the filesystem while there are more than
/// `keep`, at most `step_pages`, in one commit; true when more remain.
fn trim(connection: &Connection, keep: i64, step_pages: i64) -> rusqlite::Result<bool> {
    let free: i64 = connection.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
    if free <= keep {
        return Ok(false);
    }
    let step = step_pages.min(free - keep);
    // Each step of the statement hands back one page: run it to the end.
    let mut statement = connection.prepare(&format!("PRAGMA incremental_vacuum({step})"))?;
    let mut pages = statement.query([])?;
    while pages.next()?.is_some() {}
    drop(pages);
    drop(statement);
    let left: i64 = connection.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
    // A file without incremental vacuum (in memory) hands nothing back.
    Ok(left > keep && left < free)
}

/// Hands every free page back, `step_pages` in each commit.
fn trim_all(connection: &Connection, step_pages: i64) -> rusqlite::Result<()> {
    while trim(connection, 0, step_pages)? {}
    Ok(())
}

/// The next batch, waiting for it; `None` once every sender is gone. While
/// idle, it trims the file's free pages, a step at a time.
fn next_job(
    connection: &mut Connection,
    receiver: &mpsc::Receiver<Job>,
    shared: &Shared,
) -> Option<Job> {
    let lingering = std::time::Instant::now();
    while lingering.elapsed() < LINGER {
        match receiver.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    let mut wait = TRIM_WHEN_IDLE;
    loop {
        match receiver.recv_timeout(wait) {
            Ok(job) => return Some(job),
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Idle: the journal folded into the archives, then the
                // file's free pages handed back, a step at a time.
                let more = tidy_journal(connection, shared, true)
                    || trim(
                        connection,
                        pages(TRIM_ABOVE_BYTES, shared.page_bytes),
                        pages(TRIM_STEP_BYTES, shared.page_bytes),
                    )
                    .unwrap_or_else(|error| {
                        tracing::warn!(%error, "trimming the store's free pages failed; the next idle moment tries again");
                        false
                    });
                if !more {
                    return receiver.recv().ok();
                }
                // The next step at once, unless a batch has come.
                wait = Duration::ZERO;
            }
        }
    }
}

/// The integer id of the execution `arn`.
fn execution_id(
    connection: &Connection,
    ids: &mut HashMap<String, i64>,
    arn: &str,
) -> rusqlite::Result<i64> {
    if let Some(&id) = ids.get(arn) {
        return Ok(id);
    }
    let id: i64 = connection
        .prepare_cached("SELECT id FROM executions WHERE arn = ?1")?
        .query_row(params![arn], |row| row.get(0))?;
    ids.insert(arn.to_owned(), id);
    Ok(id)
}

fn apply(
    transaction: &rusqlite::Transaction<'_>,
    batch: &Prepared,
    ids: &mut HashMap<String, i64>,
    (journal, dictionaries): (&Journal, &Dictionaries),
    applied: &mut Applied,
) -> rusqlite::Result<()> {
    for execution in &batch.executions {
        let id: i64 = transaction
            .prepare_cached(
                "INSERT INTO executions (arn, function_name, name, status, start_ms, parent_arn, record, due_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (arn) DO UPDATE SET
                    status = excluded.status, record = excluded.record, due_ms = excluded.due_ms
                 RETURNING id",
            )?
            .query_row(
                params![
                    execution.arn,
                    execution.function_name,
                    execution.name,
                    execution.status,
                    execution.start_ms,
                    execution.parent_arn,
                    execution.record,
                    execution.due_ms
                ],
                |row| row.get(0),
            )?;
        ids.insert(execution.arn.clone(), id);
    }
    append_changes(transaction, batch, ids, journal, applied)?;
    for (callback_id, arn, body) in &batch.callbacks {
        let execution = execution_id(transaction, ids, arn)?;
        transaction
            .prepare_cached(
                "INSERT INTO callbacks (callback_id, execution, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (callback_id) DO UPDATE SET body = excluded.body",
            )?
            .execute(params![callback_id, execution, body])?;
    }
    for execution in batch
        .executions
        .iter()
        .filter(|execution| execution.finished)
    {
        let id = execution_id(transaction, ids, &execution.arn)?;
        let rows = journal.index().rows_of(id);
        if let Some((through, _)) = journal::fold(transaction, id, &rows, &|function| {
            dictionaries.of(function)
        })? {
            applied.folds.push((id, through));
        }
    }
    for callback_id in &batch.closed_callbacks {
        transaction
            .prepare_cached("DELETE FROM callbacks WHERE callback_id = ?1")?
            .execute(params![callback_id])?;
    }
    apply_outbox(transaction, batch, ids)?;
    for invocation in &batch.invocations {
        transaction
            .prepare_cached(
                "INSERT INTO invocations (request_id, function_name, arn, start_ms, end_ms, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                invocation.request_id,
                invocation.function_name,
                invocation.execution_arn,
                invocation.start.millis(),
                invocation.end.millis(),
                invocation.error
            ])?;
    }
    apply_logs(transaction, batch, ids)?;
    for arn in &batch.deleted {
        let Ok(execution) = execution_id(transaction, ids, arn) else {
            continue;
        };
        transaction
            .prepare_cached("DELETE FROM logs WHERE execution = ?1")?
            .execute(params![execution])?;
        for table in ["callbacks", "archives", "outbox"] {
            transaction.execute(
                &format!("DELETE FROM {table} WHERE execution = ?1"),
                params![execution],
            )?;
        }
        // Its rows not folded go too: a later execution may take its id.
        for seq in journal.index().rows_of(execution) {
            transaction
                .prepare_cached("DELETE FROM journal WHERE seq = ?1")?
                .execute(params![seq])?;
        }
        applied.folds.push((execution, i64::MAX));
        transaction.execute("DELETE FROM executions WHERE id = ?1", params![execution])?;
        ids.remove(arn);
    }
    Ok(())
}

/// Appends the batch's journal rows, one per execution it changes.
fn append_changes(
    transaction: &rusqlite::Transaction<'_>,
    batch: &Prepared,
    ids: &mut HashMap<String, i64>,
    journal: &Journal,
    applied: &mut Applied,
) -> rusqlite::Result<()> {
    for (arn, row) in &batch.changes {
        let execution = execution_id(transaction, ids, arn)?;
        let seq = journal.index().number();
        journal::append(transaction, seq, execution, row)?;
        // Listed before the commit: a read that sees the commit finds it.
        journal.index().add(execution, seq);
        applied.added.push((execution, seq));
    }
    Ok(())
}

/// The batch's chained invokes into and out of the outbox.
fn apply_outbox(
    transaction: &rusqlite::Transaction<'_>,
    batch: &Prepared,
    ids: &mut HashMap<String, i64>,
) -> rusqlite::Result<()> {
    for (arn, operation_id, body) in &batch.outbox {
        let execution = execution_id(transaction, ids, arn)?;
        transaction
            .prepare_cached(
                "INSERT INTO outbox (execution, operation_id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (execution, operation_id) DO UPDATE SET body = excluded.body",
            )?
            .execute(params![execution, operation_id, body])?;
    }
    for (arn, operation_id) in &batch.outbox_done {
        let execution = execution_id(transaction, ids, arn)?;
        transaction
            .prepare_cached("DELETE FROM outbox WHERE execution = ?1 AND operation_id = ?2")?
            .execute(params![execution, operation_id])?;
    }
    Ok(())
}

/// The batch's log lines, and the purge of old lines of no execution.
fn apply_logs(
    transaction: &rusqlite::Transaction<'_>,
    batch: &Prepared,
    ids: &mut HashMap<String, i64>,
) -> rusqlite::Result<()> {
    for (line, message) in &batch.logs {
        // A line of an execution the store does not hold (deleted
        // meanwhile) is kept as a line of none, with the ARN it had; a
        // line of an execution is found by the execution's id, and reads
        // its ARN from the execution.
        let execution = line
            .execution_arn
            .as_deref()
            .and_then(|arn| execution_id(transaction, ids, arn).ok());
        let arn = line
            .execution_arn
            .as_deref()
            .filter(|_| execution.is_none());
        transaction
            .prepare_cached(
                "INSERT INTO logs (log_group, stream, arn, execution, request_id, at_ms, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                line.group,
                line.stream,
                arn,
                execution,
                line.request_id,
                line.timestamp.millis(),
                message
            ])?;
    }
    if let Some(before) = batch.logs_before {
        transaction
            .prepare_cached("DELETE FROM logs WHERE execution IS NULL AND at_ms < ?1")?
            .execute(params![before])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::{Job, LOADED_AFTER, Load, Prepared, Window, gather};

    fn job() -> Job {
        (Prepared::default(), tokio::sync::oneshot::channel().0)
    }

    /// A window whose gap is long enough that a batch sent 20 ms after the
    /// last arrives within it on the busiest machine; the gap then ends the
    /// gathering a second after the last batch.
    const WINDOW: Window = Window {
        most: Duration::from_secs(30),
        gap: Duration::from_secs(1),
    };

    /// Gathers with `first` and one batch queued behind it, after `crowded`
    /// crowded commits, while batches arrive `after` apart (the sender then
    /// stays until the gathering is over): the group's size.
    fn gathered_with_late_batches(crowded: u32, window: Window, after: &[u64]) -> (usize, Load) {
        let (sender, receiver) = mpsc::channel();
        sender.send(job()).expect("queued");
        let (over, wait_for_the_end) = mpsc::channel::<()>();
        let after = after.to_vec();
        let late = std::thread::Builder::new()
            .name("late-batch".to_owned())
            .spawn(move || {
                for millis in after {
                    std::thread::sleep(Duration::from_millis(millis));
                    let _ = sender.send(job());
                }
                let _ = wait_for_the_end.recv();
            })
            .expect("thread");
        let mut load = Load { crowded };
        let group = gather(job(), &receiver, &mut load, window);
        drop(over);
        late.join().expect("sender");
        (group.len(), load)
    }

    fn gathered_with_a_late_batch(crowded: u32) -> (usize, Load) {
        gathered_with_late_batches(crowded, WINDOW, &[20])
    }

    #[test]
    fn under_load_the_gathering_ends_once_batches_stop_coming() {
        // Two batches 20 ms apart, then none: the window's gap (1 s) ends
        // the gathering long before its most (30 s).
        let window = Window {
            most: Duration::from_secs(30),
            gap: Duration::from_secs(1),
        };
        let started = std::time::Instant::now();
        let (size, _) = gathered_with_late_batches(LOADED_AFTER, window, &[20, 20]);
        assert_eq!(
            size, 4,
            "the first, the queued one and the two close behind"
        );
        assert!(started.elapsed() < window.most, "ended by the gap");
    }

    #[test]
    fn under_load_batches_arriving_within_the_window_join_the_commit() {
        let (size, load) = gathered_with_a_late_batch(LOADED_AFTER - 1);
        assert_eq!(size, 3, "the first, the queued one and the late one");
        assert_eq!(load.crowded, LOADED_AFTER);
    }

    #[test]
    fn without_load_the_queued_batches_are_committed_at_once() {
        let (size, load) = gathered_with_a_late_batch(0);
        assert_eq!(size, 2, "the late batch waits for the next commit");
        assert_eq!(load.crowded, 1);
    }

    #[test]
    fn a_batch_alone_resets_the_load() {
        let (_sender, receiver) = mpsc::channel();
        let mut load = Load {
            crowded: LOADED_AFTER + 3,
        };
        let started = std::time::Instant::now();
        let group = gather(job(), &receiver, &mut load, WINDOW);
        assert_eq!(group.len(), 1);
        assert_eq!(load.crowded, 0);
        assert!(
            started.elapsed() < WINDOW.most,
            "a batch alone is committed at once"
        );
    }
}
