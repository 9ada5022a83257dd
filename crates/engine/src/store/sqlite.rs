//! The SQLite store: one file in WAL mode, one writer thread that commits
//! everything queued behind the first batch in one transaction.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};
use tokio::sync::oneshot;

use super::{
    BoxFuture, InvocationRecord, ListFilter, Store, StoreStats, StoredExecution, WriteBatch,
};
use crate::error::{Error, Result};
use crate::execution::{CallbackRecord, ExecutionRecord};
use crate::model::{Event, Operation, Timestamp};

/// The schema, one migration per entry; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[r"
    CREATE TABLE executions (
        arn TEXT PRIMARY KEY,
        function_name TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        record TEXT NOT NULL,
        UNIQUE (function_name, name)
    );
    CREATE INDEX executions_by_start ON executions (function_name, start_ms);
    CREATE INDEX executions_by_status ON executions (status);
    CREATE TABLE operations (
        arn TEXT NOT NULL,
        id TEXT NOT NULL,
        position INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (arn, id)
    ) WITHOUT ROWID;
    CREATE TABLE events (
        arn TEXT NOT NULL,
        event_id INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (arn, event_id)
    ) WITHOUT ROWID;
    CREATE TABLE callbacks (
        callback_id TEXT PRIMARY KEY,
        arn TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX callbacks_by_execution ON callbacks (arn);
    CREATE TABLE invocations (
        request_id TEXT PRIMARY KEY,
        function_name TEXT NOT NULL,
        arn TEXT,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        error TEXT
    );
    CREATE INDEX invocations_by_function ON invocations (function_name);
"];

/// How many batches one transaction takes at most.
const MAX_GROUP: usize = 4096;

type Job = (WriteBatch, oneshot::Sender<Result<()>>);

/// How hard each commit holds on to its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every commit is synced to disk before it is acknowledged
    /// (`synchronous = FULL`): nothing acknowledged is lost, even to a power
    /// cut. The default.
    #[default]
    Full,
    /// Commits reach the operating system but are synced only at WAL
    /// checkpoints (`synchronous = NORMAL`): nothing is lost when the
    /// process dies (a crash, `SIGKILL`), the last commits may be lost when
    /// the machine does.
    Normal,
}

/// SQLite storage: a file (WAL, every commit synced) or a private
/// in-memory database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: mpsc::Sender<Job>,
    reader: Arc<Mutex<Connection>>,
    stats: Arc<Counters>,
    /// The exclusive lock on `<file>.lock` that makes this engine the
    /// file's only driver, held as long as the store lives.
    _lock: Option<Arc<std::fs::File>>,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    commits: AtomicU64,
}

fn storage(error: impl std::fmt::Display) -> Error {
    Error::Service(format!("store: {error}"))
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file at `path` and brings
    /// its schema up to date.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or migrated, naming the path.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, Durability::Full)
    }

    /// Opens the database file at `path` with `durability`.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or migrated, naming the path.
    ///
    /// The store takes an exclusive lock on `<file>.lock`: one engine at a
    /// time drives the executions in a file.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self> {
        let mut store = Self::open_unlocked(path, durability)?;
        let lock_path = format!("{}.lock", path.display());
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|error| storage(format!("cannot open {lock_path}: {error}")))?;
        lock.try_lock().map_err(|_| {
            Error::Service(format!(
                "store: {} is in use by another engine (an `orders serve` or `orders invoke`); stop it or use another --db",
                path.display()
            ))
        })?;
        store._lock = Some(Arc::new(lock));
        Ok(store)
    }

    /// Opens the database file at `path` to read it, without the lock: for
    /// looking at a store another engine may be driving.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened, naming the path.
    pub fn open_shared(path: &Path) -> Result<Self> {
        Self::open_unlocked(path, Durability::Full)
    }

    fn open_unlocked(path: &Path, durability: Durability) -> Result<Self> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .map_err(|error| storage(format!("cannot create {}: {error}", parent.display())))?;
        }
        let open = || {
            Connection::open(path)
                .map_err(|error| storage(format!("cannot open {}: {error}", path.display())))
        };
        let writer = open()?;
        writer
            .execute_batch(match durability {
                Durability::Full => "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;",
                Durability::Normal => "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            })
            .map_err(storage)?;
        migrate(&writer)
            .map_err(|error| storage(format!("cannot migrate {}: {error}", path.display())))?;
        let reader = open()?;
        Ok(Self::with_connections(writer, reader))
    }

    /// A new private in-memory database, for tests.
    ///
    /// # Errors
    ///
    /// When SQLite cannot create it.
    pub fn in_memory() -> Result<Self> {
        let uri = format!(
            "file:engine-{}?mode=memory&cache=shared",
            uuid::Uuid::new_v4()
        );
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI;
        let writer = Connection::open_with_flags(&uri, flags).map_err(storage)?;
        migrate(&writer).map_err(storage)?;
        let reader = Connection::open_with_flags(&uri, flags).map_err(storage)?;
        reader
            .execute_batch("PRAGMA read_uncommitted = OFF;")
            .map_err(storage)?;
        Ok(Self::with_connections(writer, reader))
    }

    fn with_connections(writer: Connection, reader: Connection) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let stats = Arc::new(Counters::default());
        let counters = Arc::clone(&stats);
        std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || write_loop(writer, &receiver, &counters))
            .map_or_else(
                |error| tracing::error!(%error, "the store's writer thread did not start"),
                drop,
            );
        Self {
            writer: sender,
            reader: Arc::new(Mutex::new(reader)),
            stats,
            _lock: None,
        }
    }

    fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'_, Result<T>> {
        let reader = Arc::clone(&self.reader);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let connection = reader
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                query(&connection).map_err(storage)
            })
            .await
            .map_err(storage)?
        })
    }
}

fn migrate(connection: &Connection) -> rusqlite::Result<()> {
    let applied: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, migration) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(applied).unwrap_or(0))
    {
        connection.execute_batch(&format!(
            "BEGIN; {migration}; PRAGMA user_version = {}; COMMIT;",
            index + 1
        ))?;
    }
    Ok(())
}

fn write_loop(mut connection: Connection, receiver: &mpsc::Receiver<Job>, counters: &Counters) {
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut outcomes: Vec<Result<()>> = Vec::with_capacity(group.len());
        let committed = (|| -> rusqlite::Result<()> {
            let transaction = connection.transaction()?;
            for (batch, _) in &group {
                transaction.execute_batch("SAVEPOINT batch")?;
                match apply(&transaction, batch) {
                    Ok(()) => {
                        transaction.execute_batch("RELEASE batch")?;
                        outcomes.push(Ok(()));
                    }
                    Err(error) => {
                        transaction.execute_batch("ROLLBACK TO batch; RELEASE batch")?;
                        outcomes.push(Err(storage(error)));
                    }
                }
            }
            transaction.commit()
        })();
        counters.commits.fetch_add(1, Ordering::Relaxed);
        counters.batches.fetch_add(
            u64::try_from(group.len()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        for (index, (_, reply)) in group.into_iter().enumerate() {
            let outcome = match &committed {
                Ok(()) => outcomes.get(index).cloned().unwrap_or(Ok(())),
                Err(error) => Err(storage(error)),
            };
            let _ = reply.send(outcome);
        }
    }
}

fn json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value)
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(error))
    })
}

fn apply(transaction: &rusqlite::Transaction<'_>, batch: &WriteBatch) -> rusqlite::Result<()> {
    for record in &batch.executions {
        transaction
            .prepare_cached(
                "INSERT INTO executions (arn, function_name, name, status, start_ms, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (arn) DO UPDATE SET status = excluded.status, record = excluded.record",
            )?
            .execute(params![
                record.arn,
                record.function_name,
                record.name,
                record.status.as_str(),
                record.start.millis(),
                json(record)?
            ])?;
    }
    for (arn, position, op) in &batch.operations {
        transaction
            .prepare_cached(
                "INSERT INTO operations (arn, id, position, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (arn, id) DO UPDATE SET body = excluded.body",
            )?
            .execute(params![
                arn,
                op.id,
                i64::try_from(*position).unwrap_or(i64::MAX),
                json(op)?
            ])?;
    }
    for (arn, event) in &batch.events {
        transaction
            .prepare_cached("INSERT INTO events (arn, event_id, body) VALUES (?1, ?2, ?3)")?
            .execute(params![
                arn,
                i64::try_from(event.event_id).unwrap_or(i64::MAX),
                json(event)?
            ])?;
    }
    for callback in &batch.callbacks {
        transaction
            .prepare_cached(
                "INSERT INTO callbacks (callback_id, arn, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (callback_id) DO UPDATE SET body = excluded.body",
            )?
            .execute(params![callback.callback_id, callback.arn, json(callback)?])?;
    }
    for callback_id in &batch.closed_callbacks {
        transaction
            .prepare_cached("DELETE FROM callbacks WHERE callback_id = ?1")?
            .execute(params![callback_id])?;
    }
    for invocation in &batch.invocations {
        transaction
            .prepare_cached(
                "INSERT OR REPLACE INTO invocations (request_id, function_name, arn, start_ms, end_ms, error)
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
    for arn in &batch.deleted {
        for table in ["operations", "events", "callbacks", "executions"] {
            transaction.execute(&format!("DELETE FROM {table} WHERE arn = ?1"), params![arn])?;
        }
    }
    Ok(())
}

fn records(
    statement: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<ExecutionRecord>> {
    statement
        .query_map(params, |row| row.get::<_, String>(0))?
        .map(|text| parse(&text?))
        .collect()
}

fn operations_of(connection: &Connection, arn: &str) -> rusqlite::Result<Vec<Operation>> {
    connection
        .prepare_cached("SELECT body FROM operations WHERE arn = ?1 ORDER BY position")?
        .query_map(params![arn], |row| row.get::<_, String>(0))?
        .map(|text| parse(&text?))
        .collect()
}

fn stored_of(
    connection: &Connection,
    record: ExecutionRecord,
) -> rusqlite::Result<StoredExecution> {
    let operations = operations_of(connection, &record.arn)?;
    let callbacks = connection
        .prepare_cached("SELECT body FROM callbacks WHERE arn = ?1")?
        .query_map(params![record.arn], |row| row.get::<_, String>(0))?
        .map(|text| parse(&text?))
        .collect::<rusqlite::Result<Vec<CallbackRecord>>>()?;
    let last_event: Option<i64> = connection
        .prepare_cached("SELECT MAX(event_id) FROM events WHERE arn = ?1")?
        .query_row(params![record.arn], |row| row.get(0))?;
    Ok(StoredExecution {
        record,
        operations,
        callbacks,
        next_event_id: u64::try_from(last_event.unwrap_or(0)).unwrap_or(0) + 1,
    })
}

impl Store for SqliteStore {
    fn write(&self, batch: WriteBatch) -> BoxFuture<'static, Result<()>> {
        if batch.is_empty() {
            return Box::pin(std::future::ready(Ok(())));
        }
        let (reply, done) = oneshot::channel();
        let queued = self.writer.send((batch, reply));
        Box::pin(async move {
            let stopped = || Error::Service("store: the writer thread has stopped".to_owned());
            queued.map_err(|_| stopped())?;
            done.await.map_err(|_| stopped())?
        })
    }

    fn execution(&self, arn: &str) -> BoxFuture<'_, Result<Option<ExecutionRecord>>> {
        let arn = arn.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached("SELECT record FROM executions WHERE arn = ?1")?
                .query_row(params![arn], |row| row.get::<_, String>(0))
                .optional()?
                .map(|text| parse(&text))
                .transpose()
        })
    }

    fn execution_by_name(
        &self,
        function_name: &str,
        name: &str,
    ) -> BoxFuture<'_, Result<Option<ExecutionRecord>>> {
        let (function_name, name) = (function_name.to_owned(), name.to_owned());
        self.read(move |connection| {
            connection
                .prepare_cached(
                    "SELECT record FROM executions WHERE function_name = ?1 AND name = ?2",
                )?
                .query_row(params![function_name, name], |row| row.get::<_, String>(0))
                .optional()?
                .map(|text| parse(&text))
                .transpose()
        })
    }

    fn list(&self, filter: ListFilter) -> BoxFuture<'_, Result<Vec<ExecutionRecord>>> {
        self.read(move |connection| {
            let mut sql = String::from("SELECT record FROM executions WHERE 1 = 1");
            let mut values: Vec<rusqlite::types::Value> = Vec::new();
            if let Some(function_name) = &filter.function_name {
                values.push(function_name.clone().into());
                sql.push_str(&format!(" AND function_name = ?{}", values.len()));
            }
            if let Some(name) = &filter.name {
                values.push(name.clone().into());
                sql.push_str(&format!(" AND name = ?{}", values.len()));
            }
            if !filter.statuses.is_empty() {
                let mut marks = Vec::new();
                for status in &filter.statuses {
                    values.push(status.as_str().to_owned().into());
                    marks.push(format!("?{}", values.len()));
                }
                sql.push_str(&format!(" AND status IN ({})", marks.join(", ")));
            }
            if let Some(after) = filter.started_after {
                values.push(after.millis().into());
                sql.push_str(&format!(" AND start_ms > ?{}", values.len()));
            }
            if let Some(before) = filter.started_before {
                values.push(before.millis().into());
                sql.push_str(&format!(" AND start_ms < ?{}", values.len()));
            }
            let order = if filter.oldest_first { "ASC" } else { "DESC" };
            sql.push_str(&format!(" ORDER BY start_ms {order}, rowid {order}"));
            values.push(i64::try_from(filter.limit).unwrap_or(i64::MAX).into());
            sql.push_str(&format!(" LIMIT ?{}", values.len()));
            values.push(i64::try_from(filter.offset).unwrap_or(i64::MAX).into());
            sql.push_str(&format!(" OFFSET ?{}", values.len()));
            let mut statement = connection.prepare(&sql)?;
            records(&mut statement, rusqlite::params_from_iter(values))
        })
    }

    fn operations(&self, arn: &str) -> BoxFuture<'_, Result<Vec<Operation>>> {
        let arn = arn.to_owned();
        self.read(move |connection| operations_of(connection, &arn))
    }

    fn events(
        &self,
        arn: &str,
        from_event_id: u64,
        limit: usize,
        reverse: bool,
    ) -> BoxFuture<'_, Result<Vec<Event>>> {
        let arn = arn.to_owned();
        self.read(move |connection| {
            let sql = if reverse {
                "SELECT body FROM events WHERE arn = ?1 AND event_id <= ?2 ORDER BY event_id DESC LIMIT ?3"
            } else {
                "SELECT body FROM events WHERE arn = ?1 AND event_id >= ?2 ORDER BY event_id ASC LIMIT ?3"
            };
            connection
                .prepare_cached(sql)?
                .query_map(
                    params![
                        arn,
                        i64::try_from(from_event_id).unwrap_or(i64::MAX),
                        i64::try_from(limit).unwrap_or(i64::MAX)
                    ],
                    |row| row.get::<_, String>(0),
                )?
                .map(|text| parse(&text?))
                .collect()
        })
    }

    fn callback(&self, callback_id: &str) -> BoxFuture<'_, Result<Option<CallbackRecord>>> {
        let callback_id = callback_id.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached("SELECT body FROM callbacks WHERE callback_id = ?1")?
                .query_row(params![callback_id], |row| row.get::<_, String>(0))
                .optional()?
                .map(|text| parse(&text))
                .transpose()
        })
    }

    fn running(&self) -> BoxFuture<'_, Result<Vec<StoredExecution>>> {
        self.read(|connection| {
            let mut statement =
                connection.prepare("SELECT record FROM executions WHERE status IN ('RUNNING', 'PAUSED') ORDER BY start_ms")?;
            let running = records(&mut statement, [])?;
            running.into_iter().map(|record| stored_of(connection, record)).collect()
        })
    }

    fn stored(&self, arn: &str) -> BoxFuture<'_, Result<Option<StoredExecution>>> {
        let arn = arn.to_owned();
        self.read(move |connection| {
            let record = connection
                .prepare_cached("SELECT record FROM executions WHERE arn = ?1")?
                .query_row(params![arn], |row| row.get::<_, String>(0))
                .optional()?
                .map(|text| parse::<ExecutionRecord>(&text))
                .transpose()?;
            record
                .map(|record| stored_of(connection, record))
                .transpose()
        })
    }

    fn invocations(
        &self,
        function_name: Option<&str>,
    ) -> BoxFuture<'_, Result<Vec<InvocationRecord>>> {
        let function_name = function_name.map(str::to_owned);
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT request_id, function_name, arn, start_ms, end_ms, error FROM invocations
                 WHERE ?1 IS NULL OR function_name = ?1 ORDER BY start_ms",
            )?;
            statement
                .query_map(params![function_name], |row| {
                    Ok(InvocationRecord {
                        request_id: row.get(0)?,
                        function_name: row.get(1)?,
                        execution_arn: row.get(2)?,
                        start: Timestamp::from_millis(row.get(3)?),
                        end: Timestamp::from_millis(row.get(4)?),
                        error: row.get(5)?,
                    })
                })?
                .collect()
        })
    }

    fn stats(&self) -> StoreStats {
        StoreStats {
            batches: self.stats.batches.load(Ordering::Relaxed),
            commits: self.stats.commits.load(Ordering::Relaxed),
        }
    }
}
