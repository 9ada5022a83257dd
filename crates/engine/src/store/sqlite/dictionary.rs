//! Dictionaries: an earlier execution of a function, against which zstd
//! compresses the journal rows, records and archives of its later ones.
//!
//! A journal row holds one checkpoint's operations and events: a few hundred
//! bytes of JSON whose field names, operation names and payload shapes
//! repeat from one execution of a function to the next, but hardly within
//! the row. Compressed alone it shrinks by about a half; compressed against
//! an earlier execution of the function (a raw-content dictionary), to a
//! fraction, and so does each record, archive and log line. Fewer bytes are fewer
//! pages written per checkpoint, and at the small page size more rows fit on
//! each page.
//!
//! A function's first dictionary is made of its first execution that has
//! written [`LEARN_AFTER_ROWS`] journal rows (or ended with fewer): its
//! record and history so far. Once an execution of it has ended, a second
//! is made of that one, whose record holds a result and whose history is
//! whole; values are compressed against it from then on. Each is committed
//! in a transaction of its own before any value compressed against it, and
//! stays in the file for the values that were. Its id is drawn from its
//! content, so that every store in the process can share one table of them
//! for reading ([`packing::find`]).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::value::RawValue;

use super::journal::{self, Journal};
use super::packing::{self, Dictionary, known};

/// How many journal rows an execution has written before its function's
/// dictionary is made of it: enough that its history shows the function's
/// steps.
pub(super) const LEARN_AFTER_ROWS: usize = 8;

/// How much of an execution's history a dictionary takes at most (32 KiB).
const DICTIONARY_BYTES: usize = 32 * 1024;

/// The id of a dictionary of `content`: the first eight bytes of its
/// name-based (SHA-1) UUID.
fn id_of(content: &[u8]) -> i64 {
    let uuid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, content);
    let mut first = [0; 8];
    first.copy_from_slice(&uuid.as_bytes()[..8]);
    i64::from_le_bytes(first)
}

/// A function's dictionary, and whether it was made of an ended execution
/// (a whole history, with its result) or of one under way.
#[derive(Debug, Clone)]
struct Learnt {
    dictionary: Arc<Dictionary>,
    of_an_end: bool,
}

/// A store's dictionaries, by function: the one values are compressed
/// against now (those made before stay in the file, for the values
/// compressed against them).
#[derive(Debug, Default)]
pub(super) struct Dictionaries {
    held: RwLock<Held>,
}

#[derive(Debug, Default)]
struct Held {
    by_function: HashMap<String, Learnt>,
    /// The file's dictionaries taken in.
    rows: usize,
}

impl Dictionaries {
    /// The dictionaries of the store `connection` reads (none in a file
    /// made before they existed).
    pub(super) fn load(connection: &Connection) -> rusqlite::Result<Self> {
        let dictionaries = Self::default();
        dictionaries.take_in(connection)?;
        Ok(dictionaries)
    }

    fn held(&self) -> std::sync::RwLockReadGuard<'_, Held> {
        self.held.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn hold(&self, function: String, learnt: Learnt, inserted: bool) {
        let mut held = self.held.write().unwrap_or_else(PoisonError::into_inner);
        held.by_function.insert(function, learnt);
        if inserted {
            held.rows += 1;
        }
    }

    /// Takes in the dictionaries the file holds that this store does not
    /// know yet (those another engine made, for a store opened read-only).
    pub(super) fn take_in(&self, connection: &Connection) -> rusqlite::Result<()> {
        let exists: bool = connection.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'dictionaries')",
            [],
            |row| row.get(0),
        )?;
        if !exists {
            return Ok(());
        }
        let count: i64 =
            connection.query_row("SELECT COUNT(*) FROM dictionaries", [], |row| row.get(0))?;
        let count = usize::try_from(count).unwrap_or(0);
        if count == self.held().rows {
            return Ok(());
        }
        // Each function's latest last.
        let mut statement = connection.prepare_cached(
            "SELECT id, function_name, of_an_end, content FROM dictionaries ORDER BY made",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
                row.get::<_, Vec<u8>>(3)?,
            ))
        })?;
        let mut held = Held::default();
        for row in rows {
            let (id, function, of_an_end, content) = row?;
            held.by_function.insert(
                function,
                Learnt {
                    dictionary: known(id, &content),
                    of_an_end,
                },
            );
            held.rows += 1;
        }
        *self.held.write().unwrap_or_else(PoisonError::into_inner) = held;
        Ok(())
    }

    /// The dictionary values of `function` are compressed against now, if
    /// it has one.
    pub(super) fn of(&self, function: &str) -> Option<Arc<Dictionary>> {
        self.held()
            .by_function
            .get(function)
            .map(|learnt| Arc::clone(&learnt.dictionary))
    }

    /// Whether a dictionary of `function` may still be made: it has none,
    /// or (when `ended`) only one made of an execution under way.
    pub(super) fn wants(&self, function: &str, ended: bool) -> bool {
        self.held()
            .by_function
            .get(function)
            .is_none_or(|learnt| ended && !learnt.of_an_end)
    }

    /// [`Self::learn`], a failure only logged: values are then compressed
    /// as before until a later commit makes the dictionary.
    pub(super) fn learn_or_warn(&self, connection: &Connection, journal: &Journal, from: &[i64]) {
        if let Err(error) = self.learn(connection, journal, from) {
            tracing::warn!(%error, "a compression dictionary could not be made; a later commit tries again");
        }
    }

    /// Makes a dictionary for the function of each execution in `from`,
    /// from the execution's record and history as they stand, if the
    /// function has none, or only one of an execution under way and this
    /// one has ended. Each is committed in a transaction of its own before
    /// anything is compressed against it. Runs on the writer, between its
    /// commits.
    pub(super) fn learn(
        &self,
        connection: &Connection,
        journal: &Journal,
        from: &[i64],
    ) -> rusqlite::Result<()> {
        for &execution in from {
            let Some((function, ended)) = connection
                .prepare_cached(
                    "SELECT function_name, status NOT IN ('RUNNING', 'PAUSING', 'PAUSED')
                     FROM executions WHERE id = ?1",
                )?
                .query_row(params![execution], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
                })
                .optional()?
            else {
                continue;
            };
            if !self.wants(&function, ended) {
                continue;
            }
            let content = history(connection, journal, execution)?;
            let id = id_of(&content);
            let inserted = connection
                .prepare_cached(
                    "INSERT INTO dictionaries (id, function_name, of_an_end, made, content)
                     VALUES (?1, ?2, ?3, (SELECT COUNT(*) FROM dictionaries), ?4)
                     ON CONFLICT (id) DO NOTHING",
                )?
                .execute(params![id, function, ended, content])?
                > 0;
            let learnt = Learnt {
                dictionary: known(id, &content),
                of_an_end: ended,
            };
            self.hold(function, learnt, inserted);
        }
        Ok(())
    }
}

/// How many of an execution's log lines its dictionary takes at most.
const DICTIONARY_LINES: i64 = 16;

/// A dictionary's content: execution `id`'s record, its first log lines,
/// then its operations and events, at most [`DICTIONARY_BYTES`].
fn history(connection: &Connection, journal: &Journal, id: i64) -> rusqlite::Result<Vec<u8>> {
    let record: Box<RawValue> = connection
        .prepare_cached("SELECT record FROM executions WHERE id = ?1")?
        .query_row(params![id], |row| packing::unpacked_text(row.get_ref(0)?))?;
    let mut content = Vec::from(record.get());
    let mut lines = connection
        .prepare_cached("SELECT message FROM logs WHERE execution = ?1 ORDER BY id LIMIT ?2")?;
    let mut lines = lines.query(params![id, DICTIONARY_LINES])?;
    while let Some(line) = lines.next()? {
        content.extend_from_slice(packing::unpacked_string(line.get_ref(0)?)?.as_bytes());
    }
    let rows = journal.index().rows_of(id);
    let (operations, events) = journal::state(connection, id, &rows)?;
    for value in operations.iter().chain(&events) {
        content.extend_from_slice(value.get().as_bytes());
    }
    content.truncate(DICTIONARY_BYTES);
    Ok(content)
}
