//! Finished executions, folded: when an execution ends, the writer moves its
//! operation and event rows into one `archives` row, each list one JSON
//! array compressed with zstd. A running execution's history is an
//! append-only log of small rows; a finished one's is read whole, once, and
//! compresses well (its ids, names and payloads repeat), so it takes a
//! fraction of the space and of the pages a later commit touches.
//!
//! Rows written after the fold (an event that lands after the end) stay
//! rows; reads merge them behind the archive, and a later fold takes them in.

use std::cell::RefCell;

use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::value::RawValue;

/// zstd's level: fast, and most of the gain on small JSON.
const LEVEL: i32 = 3;

/// A list of JSON values, as stored in an archive.
pub(super) type Rows = Vec<Box<RawValue>>;

thread_local! {
    /// The writer's compressor, kept between folds (its context is costly
    /// to set up for each).
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

/// `rows` (each a JSON value the store wrote) as one compressed JSON array.
fn packed<'a>(rows: impl Iterator<Item = &'a str> + Clone) -> rusqlite::Result<Vec<u8>> {
    let failure = |error: std::io::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(error));
    let length: usize = rows.clone().map(|row| row.len() + 1).sum();
    let mut text = String::with_capacity(length + 2);
    text.push('[');
    for (index, row) in rows.enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(row);
    }
    text.push(']');
    COMPRESSOR.with_borrow_mut(|compressor| {
        let compressor = match compressor {
            Some(compressor) => compressor,
            None => compressor.insert(zstd::bulk::Compressor::new(LEVEL).map_err(failure)?),
        };
        compressor.compress(text.as_bytes()).map_err(failure)
    })
}

fn unpacked(blob: &[u8]) -> rusqlite::Result<Rows> {
    let failure = |error: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, error)
    };
    let text = zstd::stream::decode_all(blob).map_err(|error| failure(Box::new(error)))?;
    serde_json::from_slice(&text).map_err(|error| failure(Box::new(error)))
}

/// One of the two lists an archive holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Part {
    /// The operations, by position.
    Operations,
    /// The history events, in order.
    Events,
}

/// The `part` of execution `id`'s archive, if it has one: only that part
/// is decompressed.
pub(super) fn read(connection: &Connection, id: i64, part: Part) -> rusqlite::Result<Option<Rows>> {
    let sql = match part {
        Part::Operations => "SELECT operations FROM archives WHERE execution = ?1",
        Part::Events => "SELECT events FROM archives WHERE execution = ?1",
    };
    let blob: Option<Vec<u8>> = connection
        .prepare_cached(sql)?
        .query_row(params![id], |row| row.get(0))
        .optional()?;
    blob.map(|blob| unpacked(&blob)).transpose()
}

/// `archived` operations with the rows written since (by position) laid
/// over them.
pub(super) fn merge_operations<T>(mut archived: Vec<T>, rows: Vec<(i64, T)>) -> Vec<T> {
    for (position, row) in rows {
        match usize::try_from(position)
            .ok()
            .and_then(|position| archived.get_mut(position))
        {
            Some(slot) => *slot = row,
            None => archived.push(row),
        }
    }
    archived
}

/// The rows `sql` selects for execution `id`: each one's key and body.
fn keyed_rows(connection: &Connection, sql: &str, id: i64) -> rusqlite::Result<Vec<(i64, String)>> {
    connection
        .prepare_cached(sql)?
        .query_map(params![id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// The operation rows of execution `id` (not archived), by position.
pub(super) fn operation_rows(
    connection: &Connection,
    id: i64,
) -> rusqlite::Result<Vec<(i64, String)>> {
    keyed_rows(
        connection,
        "SELECT position, body FROM operations WHERE execution = ?1 ORDER BY position",
        id,
    )
}

/// Folds execution `id`'s operation and event rows (and any archive it
/// has) into its archive, and deletes the rows.
pub(super) fn fold(connection: &Connection, id: i64) -> rusqlite::Result<()> {
    let operation_rows = operation_rows(connection, id)?;
    let event_rows = keyed_rows(
        connection,
        "SELECT event_id, body FROM events WHERE execution = ?1 ORDER BY event_id",
        id,
    )?;
    if operation_rows.is_empty() && event_rows.is_empty() {
        // Nothing written since the last fold (a finished record written again).
        return Ok(());
    }
    let operations = read(connection, id, Part::Operations)?.unwrap_or_default();
    let events = read(connection, id, Part::Events)?.unwrap_or_default();
    let text =
        |rows: Rows| -> Vec<String> { rows.into_iter().map(|raw| raw.get().to_owned()).collect() };
    let operations = merge_operations(text(operations), operation_rows);
    let mut events = text(events);
    events.extend(event_rows.into_iter().map(|(_, row)| row));
    let operations = packed(operations.iter().map(String::as_str))?;
    let events = packed(events.iter().map(String::as_str))?;
    connection
        .prepare_cached(
            "INSERT INTO archives (execution, operations, events) VALUES (?1, ?2, ?3)
             ON CONFLICT (execution) DO UPDATE SET operations = excluded.operations, events = excluded.events",
        )?
        .execute(params![id, operations, events])?;
    connection
        .prepare_cached("DELETE FROM operations WHERE execution = ?1")?
        .execute(params![id])?;
    connection
        .prepare_cached("DELETE FROM events WHERE execution = ?1")?
        .execute(params![id])?;
    Ok(())
}

/// Folds every finished execution that still has rows: the migration of a
/// store written before archives existed.
pub(super) fn fold_finished(connection: &Connection) -> rusqlite::Result<()> {
    let finished: Vec<i64> = connection
        .prepare(
            "SELECT id FROM executions
             WHERE status NOT IN ('RUNNING', 'PAUSING', 'PAUSED')
               AND (EXISTS (SELECT 1 FROM operations WHERE execution = executions.id)
                 OR EXISTS (SELECT 1 FROM events WHERE execution = executions.id))",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in finished {
        fold(connection, id)?;
    }
    Ok(())
}
