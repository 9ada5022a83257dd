//! The SQLite store: one file in WAL mode, one writer thread that commits
//! everything queued behind the first batch in one transaction, and one
//! checkpointer thread that folds the WAL back into the database off the
//! writer's path.
//!
//! Executions are keyed by an integer id inside the file, so keys stay
//! small however long ARNs are. Their changes (operations and events, JSON
//! in the API's shapes, serialized by the caller before the batch is queued)
//! are appended to the [`journal`] in commit order, and folded into one
//! compressed [`archive`] row per execution when it ends or the journal
//! moves far past them.

mod archive;
mod dictionary;
mod journal;
mod outbox;
mod packing;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use futures_util::future::BoxFuture;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};
use tokio::sync::oneshot;

use self::writer::{Job, Prepared, prepare, write_loop};

use super::error::{Result, StoreError};
use super::{
    Due, DueCursor, InvocationRecord, ListFilter, Store, StoreStats, StoredExecution, WriteBatch,
};
use crate::execution::{CallbackRecord, ChainedInvokeRequest, ExecutionRecord};
use crate::logs::{LogQuery, LogRecord, StreamSummary};
use crate::model::{Event, Operation, Timestamp};

/// The schema, one migration per entry; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r"
    CREATE TABLE executions (
        id INTEGER PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        function_name TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        parent_arn TEXT,
        record TEXT NOT NULL,
        UNIQUE (function_name, name)
    );
    CREATE INDEX executions_by_start ON executions (function_name, start_ms);
    CREATE INDEX executions_live ON executions (status) WHERE status IN ('RUNNING', 'PAUSED');
    CREATE INDEX executions_by_parent ON executions (parent_arn) WHERE parent_arn IS NOT NULL;
    CREATE TABLE operations (
        execution INTEGER NOT NULL,
        position INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (execution, position)
    );
    CREATE TABLE events (
        execution INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (execution, event_id)
    );
    CREATE TABLE callbacks (
        callback_id TEXT PRIMARY KEY,
        execution INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX callbacks_by_execution ON callbacks (execution);
    CREATE TABLE invocations (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        function_name TEXT NOT NULL,
        arn TEXT,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        error TEXT
    );
    CREATE INDEX invocations_by_function ON invocations (function_name);
",
    r"
    DROP INDEX executions_live;
    CREATE INDEX executions_live ON executions (status)
        WHERE status IN ('RUNNING', 'PAUSING', 'PAUSED');
",
    r"
    CREATE TABLE logs (
        id INTEGER PRIMARY KEY,
        log_group TEXT NOT NULL,
        stream TEXT NOT NULL,
        arn TEXT,
        request_id TEXT,
        at_ms INTEGER NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX logs_by_group ON logs (log_group, id);
    CREATE INDEX logs_by_execution ON logs (arn, id) WHERE arn IS NOT NULL;
",
    // Operations and events keyed by their primary key alone (no rowid
    // beside it: one B-tree per table, not two), and finished executions'
    // operations and events folded (see `archive`); applying it folds those
    // of the store's finished executions.
    r"
    CREATE TABLE operations_keyed (
        execution INTEGER NOT NULL,
        position INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (execution, position)
    ) WITHOUT ROWID;
    INSERT INTO operations_keyed SELECT execution, position, body FROM operations;
    DROP TABLE operations;
    ALTER TABLE operations_keyed RENAME TO operations;
    CREATE TABLE events_keyed (
        execution INTEGER NOT NULL,
        event_id INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (execution, event_id)
    ) WITHOUT ROWID;
    INSERT INTO events_keyed SELECT execution, event_id, body FROM events;
    DROP TABLE events;
    ALTER TABLE events_keyed RENAME TO events;
    CREATE TABLE archives (
        execution INTEGER PRIMARY KEY,
        operations BLOB NOT NULL,
        events BLOB NOT NULL
    );
",
    // The timer index and the outbox. A file written before them is taken
    // up as a restart took it: each running execution is owed an
    // invocation, due at once; a finished one is due for deletion at the
    // end of its retention period. Its chained invokes under way are put
    // in the outbox by `outbox::fill`.
    r"
    ALTER TABLE executions ADD COLUMN due_ms INTEGER;
    UPDATE executions SET
        record = json_set(record, '$.owed_since', json_extract(record, '$.start')),
        due_ms = 0
    WHERE status IN ('RUNNING', 'PAUSING', 'PAUSED');
    UPDATE executions SET due_ms =
        CAST(ROUND(json_extract(record, '$.end') * 1000) AS INTEGER)
        + json_extract(record, '$.retention_days') * 86400000
    WHERE status NOT IN ('RUNNING', 'PAUSING', 'PAUSED') AND json_extract(record, '$.end') IS NOT NULL;
    UPDATE executions SET record = json_set(record, '$.due', due_ms / 1000.0) WHERE due_ms IS NOT NULL;
    CREATE INDEX executions_due ON executions (due_ms, arn) WHERE due_ms IS NOT NULL;
    CREATE TABLE outbox (
        execution INTEGER NOT NULL,
        operation_id TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (execution, operation_id)
    ) WITHOUT ROWID;
",
    // The journal: changes appended in commit order, folded into archives
    // (`through`: the last row folded in). Applying it folds every
    // execution's operation and event rows, and drops their tables.
    r"
    CREATE TABLE journal (
        seq INTEGER PRIMARY KEY,
        execution INTEGER NOT NULL,
        operations TEXT,
        events TEXT
    );
    ALTER TABLE archives ADD COLUMN through INTEGER NOT NULL DEFAULT 0;
",
    // Log lines found by their execution's integer id, not its ARN: ids
    // grow in start order, so the lines of executions running now land on
    // the index's last pages, where ARNs (random names) put each line on a
    // page of its own. Invocations are no longer indexed by function: each
    // one rewrote its function's last index page, and only a count of a
    // function's invocations reads them by function.
    r"
    ALTER TABLE logs ADD COLUMN execution INTEGER;
    UPDATE logs SET execution = (SELECT id FROM executions WHERE executions.arn = logs.arn)
        WHERE arn IS NOT NULL;
    DROP INDEX logs_by_execution;
    CREATE INDEX logs_by_execution ON logs (execution, id) WHERE execution IS NOT NULL;
    DROP INDEX invocations_by_function;
",
    // Compression dictionaries of functions (see `dictionary`), in the
    // order they were made.
    r"
    CREATE TABLE dictionaries (
        id INTEGER PRIMARY KEY,
        function_name TEXT NOT NULL,
        of_an_end INTEGER NOT NULL,
        made INTEGER NOT NULL,
        content BLOB NOT NULL
    );
",
    // The timer index keyed by moment alone (entries due at once in the
    // order of their executions' ids): an entry of a few bytes, where the
    // ARN beside it made each one a tenth of a page, and each move of an
    // execution's next moment rewrote two such pages.
    r"
    DROP INDEX executions_due;
    CREATE INDEX executions_due ON executions (due_ms) WHERE due_ms IS NOT NULL;
",
];

/// The migration that adds the outbox, filled from the histories.
const OUTBOX: usize = 5;

/// The migration that adds the journal, after which operations and events
/// are no longer rows of their own.
const JOURNAL: usize = 6;

/// The migration after which finished executions are archived.
const ARCHIVES: usize = 4;

/// How many times [`SqliteStore::fold_wal`] tries while a checkpoint is busy.
const FOLD_ATTEMPTS: usize = 100;

/// The page size of a new store file (an existing one keeps its own).
const PAGE_BYTES: usize = 1024;

/// `PRAGMA auto_vacuum`'s value for incremental.
const INCREMENTAL_VACUUM: i64 = 2;

/// How often the checkpointer looks at the WAL.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// How much the WAL gathers before the checkpointer copies it into the
/// database (16 MiB), unless the writes go quiet first. A page changed
/// many times meanwhile (an execution's row, an index's or the log's last
/// page) is copied once, not once per pass.
const CHECKPOINT_BYTES: u64 = 16 * 1024 * 1024;

/// How much the WAL may hold after a commit before the writer folds it
/// whole and starts it over (32 MiB).
const WAL_RESTART_BYTES: u64 = 32 * 1024 * 1024;

/// How long the writer waits for readers when it folds the WAL whole.
const WAL_RESTART_PATIENCE: Duration = Duration::from_secs(2);

/// What the WAL file is cut back to when it restarts, at most (40 MiB):
/// its [`WAL_RESTART_BYTES`] and one commit's frames.
const WAL_LIMIT_BYTES: u64 = 40 * 1024 * 1024;

/// The writer's page cache, in KiB: what it keeps of the pages it changes
/// (the pages of the executions in flight).
const WRITER_CACHE_KIB: u64 = 16 * 1024;

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

/// A store file's size, and its free part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreSpace {
    /// The database's pages, in bytes.
    pub file_bytes: u64,
    /// Its free pages, in bytes.
    pub free_bytes: u64,
}

/// SQLite storage: a file (WAL) or a private in-memory database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Where batches go to be written; `None` when opened read-only.
    writer: Option<mpsc::Sender<Job>>,
    reader: Arc<Mutex<Connection>>,
    journal: Arc<journal::Journal>,
    dictionaries: Arc<dictionary::Dictionaries>,
    stats: Arc<Counters>,
    /// Held while the store lives: the exclusive lock on `<file>.lock` that
    /// makes this engine the file's only driver, and the checkpointer's
    /// stop signal (it ends when this is dropped).
    guards: Arc<Guards>,
}

#[derive(Debug, Default)]
struct Guards {
    lock: Option<std::fs::File>,
    _checkpointer: Option<mpsc::Sender<()>>,
}

#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    commits: AtomicU64,
    pages_logged: AtomicU64,
    /// The frames in the WAL after the last commit.
    wal_frames: AtomicU64,
    /// Held by whoever copies the WAL into the database: the checkpointer's
    /// passes and the writer's folds take turns, so a fold never finds a
    /// pass under way and gives up while the WAL keeps growing.
    copying: Mutex<()>,
}

fn index(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file at `path`, syncing
    /// every commit, and brings its schema up to date.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or migrated, or another engine drives
    /// it, naming the path.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, Durability::Full)
    }

    /// Opens the database file at `path` with `durability`.
    ///
    /// The store takes an exclusive lock on `<file>.lock`: one engine at a
    /// time drives the executions in a file.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or migrated, or another engine drives
    /// it, naming the path.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self> {
        let lock_path = format!("{}.lock", path.display());
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .map_err(|error| StoreError::file("create", parent.display(), error))?;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|error| StoreError::file("open", &lock_path, error))?;
        lock.try_lock()
            .map_err(|_| StoreError::InUse(path.display().to_string()))?;
        Self::open_file(path, durability, Some(lock))
    }

    /// Opens the database file at `path` read-only, without the lock: for
    /// looking at a store another engine may be driving, or one on a
    /// read-only filesystem. Every write is refused.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened, naming the path.
    pub fn open_shared(path: &Path) -> Result<Self> {
        let read_only = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let opened = Connection::open_with_flags(path, read_only)
            .and_then(|connection| {
                // A WAL database needs its shared-memory file; where that
                // cannot be made (a read-only filesystem), read it as is.
                connection.query_row("SELECT COUNT(*) FROM executions", [], |_| Ok(()))?;
                Ok(connection)
            })
            .or_else(|_| {
                let uri = format!("file:{}?immutable=1", path.display());
                Connection::open_with_flags(uri, read_only)
            })
            .map_err(|error| StoreError::file("open", path.display(), error))?;
        let format: i64 = opened
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|error| StoreError::file("open", path.display(), error))?;
        if usize::try_from(format).unwrap_or(0) < MIGRATIONS.len() {
            return Err(StoreError::OlderFormat(path.display().to_string()));
        }
        let journal = journal::Journal::load(&opened, true)
            .map_err(|error| StoreError::file("open", path.display(), error))?;
        let dictionaries = dictionary::Dictionaries::load(&opened)
            .map_err(|error| StoreError::file("open", path.display(), error))?;
        Ok(Self {
            writer: None,
            reader: Arc::new(Mutex::new(opened)),
            journal: Arc::new(journal),
            dictionaries: Arc::new(dictionaries),
            stats: Arc::new(Counters::default()),
            guards: Arc::new(Guards::default()),
        })
    }

    /// Folds the WAL into the database file and empties it, so the file's
    /// size is the store's: for measuring it.
    ///
    /// # Errors
    ///
    /// When SQLite refuses.
    pub async fn fold_wal(&self) -> Result<()> {
        self.read(|connection| {
            // Busy while the checkpointer's own pass runs: tried again.
            for _ in 0..FOLD_ATTEMPTS {
                let busy: i64 =
                    connection
                        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
                if busy == 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(())
        })
        .await
    }

    /// Hands the file's free pages back to the filesystem now, as the writer
    /// does by itself once it has been idle for a moment: for measuring the
    /// store after a burst.
    ///
    /// # Errors
    ///
    /// When SQLite refuses, or the store was opened read-only.
    pub async fn trim(&self) -> Result<()> {
        let Some(writer) = &self.writer else {
            return Err(StoreError::ReadOnly);
        };
        let (reply, done) = oneshot::channel();
        let queued = writer.send((Prepared::trim(), reply));
        queued.map_err(|_| StoreError::WriterStopped)?;
        done.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// The database file's size and how much of it is free pages (kept for
    /// reuse until the writer trims them).
    ///
    /// # Errors
    ///
    /// When SQLite refuses.
    pub async fn space(&self) -> Result<StoreSpace> {
        self.read(|connection| {
            let pragma = |name: &str| -> rusqlite::Result<u64> {
                let value: i64 =
                    connection.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))?;
                Ok(u64::try_from(value).unwrap_or(0))
            };
            let page = pragma("page_size")?;
            Ok(StoreSpace {
                file_bytes: pragma("page_count")? * page,
                free_bytes: pragma("freelist_count")? * page,
            })
        })
        .await
    }

    fn open_file(path: &Path, durability: Durability, lock: Option<std::fs::File>) -> Result<Self> {
        let open = || {
            Connection::open(path).map_err(|error| StoreError::file("open", path.display(), error))
        };
        let writer = open()?;
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        // Free pages can be handed back (`incremental_vacuum`); on a new
        // file this must come before its first table, as must its page
        // size: every commit appends each page it changes whole to the WAL,
        // and most of a checkpoint's changes are small rows.
        writer.execute_batch(&format!(
            "PRAGMA page_size = {PAGE_BYTES}; PRAGMA auto_vacuum = INCREMENTAL;"
        ))?;
        writer.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};
                 PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = {WAL_LIMIT_BYTES};
                 PRAGMA cache_size = -{WRITER_CACHE_KIB};"
        ))?;
        migrate(&writer).map_err(|error| StoreError::file("migrate", path.display(), error))?;
        let vacuum: i64 = writer.query_row("PRAGMA auto_vacuum", [], |row| row.get(0))?;
        if vacuum != INCREMENTAL_VACUUM {
            // A file made before free pages were handed back: rebuilt once.
            writer
                .execute_batch("VACUUM;")
                .map_err(|error| StoreError::file("convert", path.display(), error))?;
        }
        let reader = open()?;
        let checkpointer = open()?;
        let stats = Arc::new(Counters::default());
        let (stop, stopped) = mpsc::channel::<()>();
        let watched = Arc::clone(&stats);
        std::thread::Builder::new()
            .name("store-checkpointer".to_owned())
            .spawn(move || checkpoint_loop(&checkpointer, &stopped, &watched))
            .map_or_else(
                |error| tracing::error!(%error, "the store's checkpointer thread did not start"),
                drop,
            );
        Self::with_connections(
            writer,
            reader,
            stats,
            Guards {
                lock,
                _checkpointer: Some(stop),
            },
        )
        .map_err(|error| StoreError::file("open", path.display(), error))
    }

    /// A new private in-memory database, for tests: reads may see a batch
    /// just before its commit.
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
        let writer = Connection::open_with_flags(&uri, flags)?;
        migrate(&writer)?;
        let reader = Connection::open_with_flags(&uri, flags)?;
        // Connections sharing an in-memory database lock whole tables; a
        // reader that skips the read locks is never refused while the writer
        // is mid-transaction (it may see a batch before its commit).
        reader.execute_batch("PRAGMA read_uncommitted = 1;")?;
        Ok(Self::with_connections(
            writer,
            reader,
            Arc::new(Counters::default()),
            Guards::default(),
        )?)
    }

    /// Whether this store holds the exclusive lock on its file.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.guards.lock.is_some()
    }

    fn with_connections(
        mut writer: Connection,
        reader: Connection,
        stats: Arc<Counters>,
        guards: Guards,
    ) -> rusqlite::Result<Self> {
        let page_bytes = page_bytes(&writer)?;
        bound_the_wal(
            &mut writer,
            Arc::clone(&stats),
            WAL_RESTART_BYTES / page_bytes,
        );
        let journal = Arc::new(journal::Journal::load(&writer, false)?);
        let dictionaries = Arc::new(dictionary::Dictionaries::load(&writer)?);
        let reader = Arc::new(Mutex::new(reader));
        let (sender, receiver) = mpsc::channel::<Job>();
        let shared = writer::Shared {
            page_bytes,
            counters: Arc::clone(&stats),
            journal: Arc::clone(&journal),
            dictionaries: Arc::clone(&dictionaries),
            reader: Arc::clone(&reader),
        };
        std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || write_loop(writer, &receiver, &shared))
            .map_or_else(
                |error| tracing::error!(%error, "the store's writer thread did not start"),
                drop,
            );
        Ok(Self {
            writer: Some(sender),
            reader,
            journal,
            dictionaries,
            stats,
            guards: Arc::new(guards),
        })
    }

    /// Runs `query` on the reader, in one read transaction: its statements
    /// see one state of the store, so a read that takes rows and then the
    /// archive never sees a fold committed between them. The transaction
    /// lasts as long as the query, so it never holds the WAL back for long.
    fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'_, Result<T>> {
        let reader = Arc::clone(&self.reader);
        // Read-only, another engine may have made dictionaries since.
        let dictionaries = self
            .writer
            .is_none()
            .then(|| Arc::clone(&self.dictionaries));
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let connection = reader
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let snapshot = connection.unchecked_transaction()?;
                if let Some(dictionaries) = dictionaries {
                    dictionaries.take_in(&snapshot)?;
                }
                let answer = query(&snapshot)?;
                snapshot.commit()?;
                Ok(answer)
            })
            .await?
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
        let transaction = connection.unchecked_transaction()?;
        transaction.execute_batch(migration)?;
        if index + 1 == ARCHIVES {
            archive::rows::fold_where(
                &transaction,
                "status NOT IN ('RUNNING', 'PAUSING', 'PAUSED')",
            )?;
        }
        if index + 1 == OUTBOX {
            outbox::fill(&transaction)?;
        }
        if index + 1 == JOURNAL {
            archive::rows::fold_where(&transaction, "1 = 1")?;
            transaction.execute_batch("DROP TABLE operations; DROP TABLE events;")?;
        }
        transaction.pragma_update(None, "user_version", self::index(index + 1))?;
        transaction.commit()?;
    }
    Ok(())
}

/// The page size of the file `connection` has open.
fn page_bytes(connection: &Connection) -> rusqlite::Result<u64> {
    let bytes: i64 = connection.query_row("PRAGMA page_size", [], |row| row.get(0))?;
    Ok(u64::try_from(bytes).unwrap_or(4096).max(512))
}

/// Keeps the WAL at most `restart_frames` frames (and one group commit's)
/// long: after a commit that leaves more, the writer waits for the readers'
/// short transactions and folds the whole WAL into the database
/// (`RESTART`), so that the next commit writes the WAL from its start again.
/// The checkpointer's passive passes copy most frames beforehand, off the
/// writer's path; a fold waits for a pass under way to end. A fold that
/// readers hold back is tried again after the next commit.
fn bound_the_wal(writer: &mut Connection, counters: Arc<Counters>, restart_frames: u64) {
    let mut logged = 0;
    let bounded = writer.busy_timeout(WAL_RESTART_PATIENCE).and_then(|()| {
        writer.wal_hook(Some(
            move |wal: &mut rusqlite::hooks::Wal, frames: std::ffi::c_int| {
                let frames = u64::try_from(frames).unwrap_or_default();
                // The log holds `frames` after this commit; fewer than
                // before means it started over.
                let appended = if frames >= logged {
                    frames - logged
                } else {
                    frames
                };
                logged = frames;
                counters.pages_logged.fetch_add(appended, Ordering::Relaxed);
                counters.wal_frames.store(frames, Ordering::Relaxed);
                if frames > restart_frames {
                    let _turn = counters
                        .copying
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if wal
                        .checkpoint_v2(rusqlite::wal::CheckpointMode::RESTART)
                        .is_ok()
                    {
                        counters.wal_frames.store(0, Ordering::Relaxed);
                    }
                }
                Ok(())
            },
        ))
    });
    if let Err(error) = bounded {
        tracing::warn!(%error, "the WAL cannot be bounded; it is folded by the checkpointer alone");
    }
}

/// Until the store is dropped, copies the WAL into the database once it
/// has gathered [`CHECKPOINT_BYTES`] since the last copy, or once the
/// writes go quiet with some of it not yet copied. `PASSIVE`: it never
/// blocks the writer.
fn checkpoint_loop(connection: &Connection, stopped: &mpsc::Receiver<()>, counters: &Counters) {
    let every = CHECKPOINT_BYTES / page_bytes(connection).unwrap_or(4096);
    let mut copied = 0;
    let mut seen = 0;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
        let frames = counters.wal_frames.load(Ordering::Relaxed);
        if frames < copied {
            // The writer started the WAL over.
            copied = 0;
        }
        let quiet = frames == seen;
        seen = frames;
        if frames < copied + every && !(quiet && frames > copied) {
            continue;
        }
        let pass = {
            let _turn = counters
                .copying
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                row.get::<_, i64>(2)
            })
        };
        match pass {
            Ok(done) => copied = u64::try_from(done).unwrap_or_default().min(frames),
            Err(error) => {
                tracing::warn!(%error, "a WAL checkpoint failed; the next one tries again");
            }
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(error))
    })
}

fn records(
    statement: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<ExecutionRecord>> {
    statement
        .query_map(params, |row| packing::unpacked_text(row.get_ref(0)?))?
        .collect()
}

fn bodies<T: serde::de::DeserializeOwned>(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<T>> {
    connection
        .prepare_cached(sql)?
        .query_map(params, |row| row.get::<_, String>(0))?
        .map(|text| parse(&text?))
        .collect()
}

fn stored_of(
    connection: &Connection,
    journal: &journal::Journal,
    id: i64,
    record: ExecutionRecord,
) -> rusqlite::Result<StoredExecution> {
    let rows = journal.rows_for_read(connection, id)?;
    let (operations, events) = journal::state(connection, id, &rows)?;
    let operations = operations
        .iter()
        .map(|raw| parse::<Operation>(raw.get()))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let callbacks = bodies(
        connection,
        "SELECT body FROM callbacks WHERE execution = ?1",
        params![id],
    )?;
    let last_event = events
        .last()
        .map(|raw| parse::<EventId>(raw.get()))
        .transpose()?
        .map_or(0, |event| event.event_id);
    Ok(StoredExecution {
        record,
        operations,
        callbacks,
        next_event_id: last_event + 1,
    })
}

/// Execution `id`'s operations: its archive's, with its journal rows laid
/// over them. Only the archive's operations are decompressed.
fn operations_of(
    connection: &Connection,
    journal: &journal::Journal,
    id: i64,
) -> rusqlite::Result<Vec<Operation>> {
    let rows = journal.rows_for_read(connection, id)?;
    let (mut operations, through) =
        archive::read(connection, id, archive::Part::Operations)?.unwrap_or_default();
    let entries = journal::read(connection, id, &rows, through)?;
    journal::lay_over(&mut operations, &mut Vec::new(), entries);
    operations
        .iter()
        .map(|raw| parse::<Operation>(raw.get()))
        .collect()
}

/// Execution `id`'s events: its archive's, then its journal rows'. Only
/// the archive's events are decompressed.
fn events_of(
    connection: &Connection,
    journal: &journal::Journal,
    id: i64,
) -> rusqlite::Result<archive::Rows> {
    let rows = journal.rows_for_read(connection, id)?;
    let (mut events, through) =
        archive::read(connection, id, archive::Part::Events)?.unwrap_or_default();
    let entries = journal::read(connection, id, &rows, through)?;
    journal::lay_over(&mut Vec::new(), &mut events, entries);
    Ok(events)
}

/// An event's id alone, read from its JSON without the rest.
#[derive(serde::Deserialize)]
struct EventId {
    #[serde(rename = "EventId")]
    event_id: u64,
}

/// The integer id of the execution `arn`, if it exists.
fn id_of(connection: &Connection, arn: &str) -> rusqlite::Result<Option<i64>> {
    connection
        .prepare_cached("SELECT id FROM executions WHERE arn = ?1")?
        .query_row(params![arn], |row| row.get(0))
        .optional()
}

fn by_arn(connection: &Connection, arn: &str) -> rusqlite::Result<Option<(i64, ExecutionRecord)>> {
    connection
        .prepare_cached("SELECT id, record FROM executions WHERE arn = ?1")?
        .query_row(params![arn], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                packing::unpacked_text(row.get_ref(1)?)?,
            ))
        })
        .optional()
}

impl Store for SqliteStore {
    fn write(&self, batch: WriteBatch) -> BoxFuture<'static, Result<()>> {
        if batch.is_empty() {
            return Box::pin(std::future::ready(Ok(())));
        }
        // Serialized here, on the caller's thread: the writer only writes.
        let prepared = match prepare(batch, &self.dictionaries) {
            Ok(prepared) => prepared,
            Err(error) => return Box::pin(std::future::ready(Err(error))),
        };
        let Some(writer) = &self.writer else {
            return Box::pin(std::future::ready(Err(StoreError::ReadOnly)));
        };
        let (reply, done) = oneshot::channel();
        let queued = writer.send((prepared, reply));
        Box::pin(async move {
            queued.map_err(|_| StoreError::WriterStopped)?;
            done.await.map_err(|_| StoreError::WriterStopped)?
        })
    }

    fn execution(&self, arn: &str) -> BoxFuture<'_, Result<Option<ExecutionRecord>>> {
        let arn = arn.to_owned();
        self.read(move |connection| Ok(by_arn(connection, &arn)?.map(|(_, record)| record)))
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
                .query_row(params![function_name, name], |row| {
                    packing::unpacked_text(row.get_ref(0)?)
                })
                .optional()
        })
    }

    fn list(&self, filter: ListFilter) -> BoxFuture<'_, Result<Vec<ExecutionRecord>>> {
        self.read(move |connection| {
            let mut values: Vec<rusqlite::types::Value> = Vec::new();
            let mut conditions = vec!["1 = 1".to_owned()];
            let bind = |value: rusqlite::types::Value, values: &mut Vec<rusqlite::types::Value>| {
                values.push(value);
                format!("?{}", values.len())
            };
            if let Some(function_name) = &filter.function_name {
                let mark = bind(function_name.clone().into(), &mut values);
                conditions.push(format!("function_name = {mark}"));
            }
            if let Some(name) = &filter.name {
                let mark = bind(name.clone().into(), &mut values);
                conditions.push(format!("name = {mark}"));
            }
            if let Some(text) = &filter.search {
                let mark = bind(text.clone().into(), &mut values);
                conditions.push(format!("(instr(name, {mark}) > 0 OR instr(arn, {mark}) > 0)"));
            }
            if !filter.statuses.is_empty() {
                let marks: Vec<String> = filter
                    .statuses
                    .iter()
                    .map(|status| bind(status.as_str().to_owned().into(), &mut values))
                    .collect();
                conditions.push(format!("status IN ({})", marks.join(", ")));
            }
            if let Some(after) = filter.started_after {
                let mark = bind(after.millis().into(), &mut values);
                conditions.push(format!("start_ms > {mark}"));
            }
            if let Some(before) = filter.started_before {
                let mark = bind(before.millis().into(), &mut values);
                conditions.push(format!("start_ms < {mark}"));
            }
            let (order, beyond) = if filter.oldest_first {
                ("ASC", ">")
            } else {
                ("DESC", "<")
            };
            if let Some(after) = &filter.after {
                let start = bind(after.start.millis().into(), &mut values);
                let arn = bind(after.arn.clone().into(), &mut values);
                conditions.push(format!("(start_ms, arn) {beyond} ({start}, {arn})"));
            }
            let limit = bind(index(filter.limit).into(), &mut values);
            let sql = format!(
                "SELECT record FROM executions WHERE {} ORDER BY start_ms {order}, arn {order} LIMIT {limit}",
                conditions.join(" AND ")
            );
            let mut statement = connection.prepare(&sql)?;
            records(&mut statement, rusqlite::params_from_iter(values))
        })
    }

    fn operations(&self, arn: &str) -> BoxFuture<'_, Result<Vec<Operation>>> {
        let arn = arn.to_owned();
        let journal = Arc::clone(&self.journal);
        self.read(move |connection| {
            let Some(id) = id_of(connection, &arn)? else {
                return Ok(Vec::new());
            };
            operations_of(connection, &journal, id)
        })
    }

    fn events(
        &self,
        arn: &str,
        from_event_id: u64,
        limit: usize,
        reverse: bool,
    ) -> BoxFuture<'_, Result<Vec<Event>>> {
        let arn = arn.to_owned();
        let journal = Arc::clone(&self.journal);
        self.read(move |connection| {
            let Some(id) = id_of(connection, &arn)? else {
                return Ok(Vec::new());
            };
            let events = events_of(connection, &journal, id)?;
            let in_range = |raw: &&serde_json::value::RawValue| {
                parse::<EventId>(raw.get()).is_ok_and(|event| {
                    if reverse {
                        event.event_id <= from_event_id
                    } else {
                        event.event_id >= from_event_id
                    }
                })
            };
            // Only the events of the page are read whole.
            let all = events.iter().map(|raw| &**raw);
            let page: Vec<&serde_json::value::RawValue> = if reverse {
                all.rev().filter(in_range).take(limit).collect()
            } else {
                all.filter(in_range).take(limit).collect()
            };
            page.into_iter()
                .map(|raw| parse::<Event>(raw.get()))
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

    fn due(
        &self,
        after: Option<DueCursor>,
        until: Timestamp,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<Due>>> {
        self.read(move |connection| {
            let entry = |row: &rusqlite::Row<'_>| {
                let status: String = row.get(3)?;
                Ok(Due {
                    at: Timestamp::from_millis(row.get(0)?),
                    place: row.get(1)?,
                    arn: row.get(2)?,
                    finished: !matches!(status.as_str(), "RUNNING" | "PAUSING" | "PAUSED"),
                })
            };
            // Two walks of the index, each a seek: the rest of the cursor's
            // moment, then the moments after it.
            let mut page: Vec<Due> = match after {
                Some(cursor) if cursor.at <= until => connection
                    .prepare_cached(
                        "SELECT due_ms, id, arn, status FROM executions
                         WHERE due_ms = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                    )?
                    .query_map(
                        params![cursor.at.millis(), cursor.place, index(limit)],
                        entry,
                    )?
                    .collect::<rusqlite::Result<_>>()?,
                _ => Vec::new(),
            };
            let left = limit.saturating_sub(page.len());
            if left > 0 {
                // From the start of the index, or past the cursor's moment.
                let after = after.map_or(i64::MIN, |cursor| cursor.at.millis().saturating_add(1));
                let mut statement = connection.prepare_cached(
                    "SELECT due_ms, id, arn, status FROM executions
                     WHERE due_ms IS NOT NULL AND due_ms >= ?1 AND due_ms <= ?2
                     ORDER BY due_ms, id LIMIT ?3",
                )?;
                for due in
                    statement.query_map(params![after, until.millis(), index(left)], entry)?
                {
                    page.push(due?);
                }
            }
            Ok(page)
        })
    }

    fn outbox(&self) -> BoxFuture<'_, Result<Vec<(String, ChainedInvokeRequest)>>> {
        self.read(|connection| {
            connection
                .prepare_cached(
                    "SELECT executions.arn, outbox.body FROM outbox
                     JOIN executions ON executions.id = outbox.execution
                     ORDER BY outbox.execution, outbox.operation_id",
                )?
                .query_map([], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?
                .map(|row| {
                    let (arn, body) = row?;
                    Ok((arn, parse(&body)?))
                })
                .collect()
        })
    }

    fn stored(&self, arn: &str) -> BoxFuture<'_, Result<Option<StoredExecution>>> {
        let arn = arn.to_owned();
        let journal = Arc::clone(&self.journal);
        self.read(move |connection| {
            by_arn(connection, &arn)?
                .map(|(id, record)| stored_of(connection, &journal, id, record))
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
                 WHERE ?1 IS NULL OR function_name = ?1 ORDER BY start_ms, id",
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

    fn logs(&self, query: LogQuery) -> BoxFuture<'_, Result<Vec<LogRecord>>> {
        self.read(move |connection| {
            let mut values: Vec<rusqlite::types::Value> = Vec::new();
            let mut bind = |value: rusqlite::types::Value| {
                values.push(value);
                format!("?{}", values.len())
            };
            let mut conditions = vec![
                format!("log_group = {}", bind(query.group.clone().into())),
                format!("id > {}", bind(index(query.after).into())),
            ];
            if let Some(before) = query.before {
                conditions.push(format!("id < {}", bind(index(before).into())));
            }
            if let Some(arn) = &query.execution_arn {
                let mark = bind(arn.clone().into());
                conditions.push(format!(
                    "execution = (SELECT id FROM executions WHERE arn = {mark})"
                ));
            }
            if !query.streams.is_empty() {
                let marks: Vec<String> = query
                    .streams
                    .iter()
                    .map(|stream| bind(stream.clone().into()))
                    .collect();
                conditions.push(format!("stream IN ({})", marks.join(", ")));
            }
            if let Some(prefix) = &query.stream_prefix {
                let mark = bind(prefix.clone().into());
                conditions.push(format!("substr(stream, 1, length({mark})) = {mark}"));
            }
            if let Some(start) = query.start {
                conditions.push(format!("at_ms >= {}", bind(start.millis().into())));
            }
            if let Some(end) = query.end {
                conditions.push(format!("at_ms <= {}", bind(end.millis().into())));
            }
            let order = if query.newest_first { "DESC" } else { "ASC" };
            let limit = bind(index(query.limit).into());
            let sql = format!(
                "SELECT id, log_group, stream,
                        COALESCE(arn, (SELECT arn FROM executions WHERE executions.id = logs.execution)),
                        request_id, at_ms, message FROM logs
                 WHERE {} ORDER BY id {order} LIMIT {limit}",
                conditions.join(" AND ")
            );
            connection
                .prepare(&sql)?
                .query_map(rusqlite::params_from_iter(values), |row| {
                    Ok(LogRecord {
                        id: u64::try_from(row.get::<_, i64>(0)?).unwrap_or_default(),
                        group: row.get(1)?,
                        stream: row.get(2)?,
                        execution_arn: row.get(3)?,
                        request_id: row.get(4)?,
                        timestamp: Timestamp::from_millis(row.get(5)?),
                        message: packing::unpacked_string(row.get_ref(6)?)?,
                    })
                })?
                .collect()
        })
    }

    fn log_streams(&self, group: &str) -> BoxFuture<'_, Result<Vec<StreamSummary>>> {
        let group = group.to_owned();
        self.read(move |connection| {
            let mut streams: Vec<StreamSummary> = Vec::new();
            // A line's bytes are its text's, read from a compressed line's
            // header.
            let mut statement = connection.prepare_cached(
                "SELECT stream, at_ms, message FROM logs WHERE log_group = ?1 ORDER BY stream",
            )?;
            let mut rows = statement.query(params![group])?;
            while let Some(row) = rows.next()? {
                let name: String = row.get(0)?;
                let at = Timestamp::from_millis(row.get(1)?);
                let bytes = packing::unpacked_length(row.get_ref(2)?);
                match streams.last_mut() {
                    Some(stream) if stream.name == name => {
                        stream.first = stream.first.min(at);
                        stream.last = stream.last.max(at);
                        stream.bytes = stream.bytes.saturating_add(bytes);
                    }
                    _ => streams.push(StreamSummary {
                        name,
                        first: at,
                        last: at,
                        bytes,
                    }),
                }
            }
            Ok(streams)
        })
    }

    fn stats(&self) -> StoreStats {
        StoreStats {
            batches: self.stats.batches.load(Ordering::Relaxed),
            commits: self.stats.commits.load(Ordering::Relaxed),
            pages_logged: self.stats.pages_logged.load(Ordering::Relaxed),
        }
    }
}
