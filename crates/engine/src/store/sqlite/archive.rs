//! Executions folded: an execution's operations and events as one
//! `archives` row, each list one JSON array compressed with zstd, with the
//! last [`journal`] row folded into it (`through`). The writer folds an
//! execution's journal rows into its archive once it has ended and its last
//! invocation with it, and when the journal has moved far past them; its
//! history compresses well (its ids, names and payloads repeat), so it
//! takes a fraction of the space.
//!
//! Rows written after the fold (an event that lands after the end) stay in
//! the journal; reads lay them over the archive, and a later fold takes
//! them in.
//!
//! The lists are compressed as the store's other packed columns are
//! ([`packing`]).

use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::value::RawValue;

use super::packing::{self, Dictionary, compressed};

/// A list of JSON values, as stored in an archive.
pub(super) type Rows = Vec<Box<RawValue>>;

/// `rows` (each a JSON value the store wrote) as one compressed JSON array.
fn packed<'a>(
    rows: impl Iterator<Item = &'a str> + Clone,
    dictionary: Option<&Dictionary>,
) -> rusqlite::Result<Vec<u8>> {
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
    compressed(text.as_bytes(), dictionary)
}

fn unpacked(blob: &[u8]) -> rusqlite::Result<Rows> {
    packing::unpacked_text(rusqlite::types::ValueRef::Blob(blob))
}

/// One of the two lists an archive holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Part {
    /// The operations, by position.
    Operations,
    /// The history events, in order.
    Events,
}

/// The `part` of execution `id`'s archive, if it has one (only that part
/// is decompressed), with the last journal row folded into it.
pub(super) fn read(
    connection: &Connection,
    id: i64,
    part: Part,
) -> rusqlite::Result<Option<(Rows, i64)>> {
    let sql = match part {
        Part::Operations => "SELECT operations, through FROM archives WHERE execution = ?1",
        Part::Events => "SELECT events, through FROM archives WHERE execution = ?1",
    };
    let row: Option<(Vec<u8>, i64)> = connection
        .prepare_cached(sql)?
        .query_row(params![id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    row.map(|(blob, through)| Ok((unpacked(&blob)?, through)))
        .transpose()
}

/// Execution `id`'s archive whole: its operations, its events, and the last
/// journal row folded into it (all empty, and 0, when it has none).
pub(super) fn read_whole(connection: &Connection, id: i64) -> rusqlite::Result<(Rows, Rows, i64)> {
    let row: Option<(Vec<u8>, Vec<u8>, i64)> = connection
        .prepare_cached("SELECT operations, events, through FROM archives WHERE execution = ?1")?
        .query_row(params![id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    row.map_or_else(
        || Ok((Rows::new(), Rows::new(), 0)),
        |(operations, events, through)| Ok((unpacked(&operations)?, unpacked(&events)?, through)),
    )
}

/// Writes execution `id`'s archive: all its `operations` and `events`, as
/// of the journal row `through`, compressed against `dictionary` if any;
/// the bytes it takes.
pub(super) fn write(
    connection: &Connection,
    id: i64,
    (operations, events): (&Rows, &Rows),
    through: i64,
    dictionary: Option<&Dictionary>,
) -> rusqlite::Result<usize> {
    let operations = packed(operations.iter().map(|raw| raw.get()), dictionary)?;
    let events = packed(events.iter().map(|raw| raw.get()), dictionary)?;
    let bytes = operations.len() + events.len();
    connection
        .prepare_cached(
            "INSERT INTO archives (execution, operations, events, through) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (execution) DO UPDATE SET
                operations = excluded.operations, events = excluded.events, through = excluded.through",
        )?
        .execute(params![id, operations, events, through])?;
    Ok(bytes)
}

/// Store files written before the journal kept operations and events as
/// rows keyed by execution; their migrations fold those rows into archives.
pub(super) mod rows {
    use rusqlite::{Connection, OptionalExtension as _, params};

    use super::{Part, Rows, packed, unpacked};

    /// The `part` of execution `id`'s archive, as such a file has it.
    fn read(connection: &Connection, id: i64, part: Part) -> rusqlite::Result<Option<Rows>> {
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

    /// The rows `sql` selects for execution `id`: each one's key and body.
    fn keyed_rows(
        connection: &Connection,
        sql: &str,
        id: i64,
    ) -> rusqlite::Result<Vec<(i64, String)>> {
        connection
            .prepare_cached(sql)?
            .query_map(params![id], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
    }

    /// Folds execution `id`'s operation and event rows (and any archive it
    /// has) into its archive, and deletes the rows.
    fn fold(connection: &Connection, id: i64) -> rusqlite::Result<()> {
        let operation_rows = keyed_rows(
            connection,
            "SELECT position, body FROM operations WHERE execution = ?1 ORDER BY position",
            id,
        )?;
        let event_rows = keyed_rows(
            connection,
            "SELECT event_id, body FROM events WHERE execution = ?1 ORDER BY event_id",
            id,
        )?;
        if operation_rows.is_empty() && event_rows.is_empty() {
            return Ok(());
        }
        let text = |rows: Option<Rows>| -> Vec<String> {
            rows.unwrap_or_default()
                .into_iter()
                .map(|raw| raw.get().to_owned())
                .collect()
        };
        let mut operations = text(read(connection, id, Part::Operations)?);
        for (position, row) in operation_rows {
            match usize::try_from(position)
                .ok()
                .and_then(|position| operations.get_mut(position))
            {
                Some(slot) => *slot = row,
                None => operations.push(row),
            }
        }
        let mut events = text(read(connection, id, Part::Events)?);
        events.extend(event_rows.into_iter().map(|(_, row)| row));
        let operations = packed(operations.iter().map(String::as_str), None)?;
        let events = packed(events.iter().map(String::as_str), None)?;
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

    /// Folds the rows of every execution that has some and matches
    /// `which` (SQL over `executions`).
    pub(in super::super) fn fold_where(
        connection: &Connection,
        which: &str,
    ) -> rusqlite::Result<()> {
        let executions: Vec<i64> = connection
            .prepare(&format!(
                "SELECT id FROM executions
                 WHERE ({which})
                   AND (EXISTS (SELECT 1 FROM operations WHERE execution = executions.id)
                     OR EXISTS (SELECT 1 FROM events WHERE execution = executions.id))"
            ))?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in executions {
            fold(connection, id)?;
        }
        Ok(())
    }
}
