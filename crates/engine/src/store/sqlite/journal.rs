//! The journal: executions' changes in commit order.
//!
//! Each batch appends one row per execution it changes: the operations it
//! wrote (each with its position) and the events it added. One commit of
//! many executions' checkpoints so fills a few consecutive pages, where rows
//! keyed by execution would touch a page of each execution (and the pages
//! of every index on them). An execution's state is its [`archive`] with
//! its journal rows after the archive's `through` laid over it.
//!
//! Rows are folded into their execution's archive when it ends, or once the
//! journal has moved [`WINDOW`] rows past them (an execution that waits, or
//! runs long), and when the writer is idle; the folded rows at the
//! journal's start are then cut off. Where each execution's rows are is
//! kept in memory ([`JournalIndex`]), for those rows alone: a SQL index on
//! the execution would be touched at the execution's place by every append.
//!
//! [`archive`]: super::archive

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::value::RawValue;

use super::archive::{self, Rows};
use super::packing::{self, Dictionary};

/// How far (in rows) the journal may run past an execution's first row not
/// folded before that execution is folded. Wide enough that a burst of
/// executions running at once is not folded while it runs (each fold reads,
/// compresses and rewrites an archive); its index costs about 8 bytes a row.
const WINDOW: i64 = 1 << 20;

/// How many executions one fold of the journal's start takes at most, so
/// that a batch arriving meanwhile waits for one short transaction.
const FOLD_STEP: usize = 256;

/// How many bytes of archives one fold writes at most (4 MiB, at least one
/// archive), so that executions with long histories make no large commit.
const FOLD_BYTES: usize = 4 * 1024 * 1024;

/// How many folded rows may wait at the journal's start before they are cut
/// off.
const CUT_STEP: i64 = 1024;

/// How much of the journal one cut deletes at most (4 MiB of rows, at least
/// one row). Deleting a row rewrites its page, so a cut is a commit of
/// about the rows' size: the rows folded under load wait behind the oldest
/// execution still running, and an idle writer's last fold once cut a
/// million of them (60 MB) at once.
const CUT_BYTES: i64 = 4 * 1024 * 1024;

/// What a row costs beyond its columns, for [`CUT_BYTES`].
const ROW_BYTES: i64 = 16;

/// Where each execution's journal rows are, shared by the writer (which
/// adds, folds and cuts rows) and the readers.
#[derive(Debug, Default)]
pub(super) struct Journal {
    index: Mutex<JournalIndex>,
    /// Whether another connection writes the journal (a store opened
    /// read-only): each read then takes in the rows written since.
    shared: bool,
}

#[derive(Debug, Default)]
pub(super) struct JournalIndex {
    /// Each execution's rows a reader may need, ascending: those not folded
    /// into its archive, and those folded but not yet released.
    rows: HashMap<i64, Vec<i64>>,
    /// Each execution's first row not folded.
    first: HashMap<i64, i64>,
    /// The same, by row: the executions holding the journal's start back.
    by_first: BTreeSet<(i64, i64)>,
    /// Folds committed whose rows a read under way may still need: the
    /// execution, and the last row folded.
    folded: HashMap<i64, i64>,
    /// The last row seen or numbered: rows are numbered by the writer, up
    /// from the last one the file has known (the journal's, or the last one
    /// folded, when the journal is cut off whole), so that no number comes
    /// back.
    last: i64,
    /// Rows before this one are cut off.
    start: i64,
}

impl Journal {
    /// The journal of the store `connection` reads, as it stands; `shared`
    /// when another connection writes it.
    pub(super) fn load(connection: &Connection, shared: bool) -> rusqlite::Result<Self> {
        let mut index = JournalIndex {
            last: connection.query_row(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM journal), 0),
                            COALESCE((SELECT MAX(through) FROM archives), 0))",
                [],
                |row| row.get(0),
            )?,
            ..JournalIndex::default()
        };
        let known = index.last;
        index.last = 0;
        index.take_in(connection)?;
        index.last = index.last.max(known);
        index.start = connection
            .query_row("SELECT MIN(seq) FROM journal", [], |row| {
                row.get::<_, Option<i64>>(0)
            })?
            .unwrap_or(index.last + 1);
        Ok(Self {
            index: Mutex::new(index),
            shared,
        })
    }

    pub(super) fn index(&self) -> MutexGuard<'_, JournalIndex> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The rows of execution `id` a reader needs, found in the reader's
    /// snapshot: call after the read has begun (its first statement), so
    /// that every row of a commit it sees is listed (rows are listed
    /// before their commit, and released only when no read is under way).
    pub(super) fn rows_for_read(
        &self,
        connection: &Connection,
        id: i64,
    ) -> rusqlite::Result<Vec<i64>> {
        let mut index = self.index();
        if self.shared {
            index.take_in(connection)?;
        }
        Ok(index.rows_of(id))
    }
}

impl JournalIndex {
    /// Takes in the rows written after the last one seen, but those folded
    /// or of executions since deleted.
    fn take_in(&mut self, connection: &Connection) -> rusqlite::Result<()> {
        let rows: Vec<(i64, i64)> = connection
            .prepare_cached(
                "SELECT journal.seq, journal.execution FROM journal
                 JOIN executions ON executions.id = journal.execution
                 LEFT JOIN archives ON archives.execution = journal.execution
                 WHERE journal.seq > ?1 AND journal.seq > COALESCE(archives.through, 0)
                 ORDER BY journal.seq",
            )?
            .query_map(params![self.last], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (seq, execution) in rows {
            self.add(execution, seq);
        }
        Ok(())
    }

    /// The number of the next row.
    pub(super) fn number(&mut self) -> i64 {
        self.last += 1;
        self.last
    }

    /// Row `seq` of `execution` was written (not yet committed).
    pub(super) fn add(&mut self, execution: i64, seq: i64) {
        self.rows.entry(execution).or_default().push(seq);
        if let std::collections::hash_map::Entry::Vacant(first) = self.first.entry(execution) {
            first.insert(seq);
            self.by_first.insert((seq, execution));
        }
        self.last = self.last.max(seq);
    }

    /// The rows of `added` were rolled back.
    pub(super) fn forget(&mut self, added: &[(i64, i64)]) {
        for &(execution, seq) in added {
            if let Some(rows) = self.rows.get_mut(&execution) {
                rows.retain(|&row| row != seq);
                if rows.is_empty() {
                    self.rows.remove(&execution);
                }
            }
            self.find_first(execution);
        }
    }

    /// `execution`'s rows up to `through` are folded (committed). Readers
    /// may still list them until [`JournalIndex::release`].
    pub(super) fn folded(&mut self, execution: i64, through: i64) {
        let last = self.folded.entry(execution).or_insert(through);
        *last = (*last).max(through);
        self.find_first(execution);
    }

    /// Drops the folded rows from the lists: call only while no read is
    /// under way, so that every later read sees the folds.
    pub(super) fn release(&mut self) {
        for (execution, through) in self.folded.drain() {
            if let Some(rows) = self.rows.get_mut(&execution) {
                rows.retain(|&row| row > through);
                if rows.is_empty() {
                    self.rows.remove(&execution);
                }
            }
        }
    }

    /// Whether folds wait for [`JournalIndex::release`].
    pub(super) fn has_folded(&self) -> bool {
        !self.folded.is_empty()
    }

    fn find_first(&mut self, execution: i64) {
        if let Some(old) = self.first.remove(&execution) {
            self.by_first.remove(&(old, execution));
        }
        let through = self.folded.get(&execution).copied().unwrap_or(0);
        let next = self
            .rows
            .get(&execution)
            .and_then(|rows| rows.iter().copied().find(|&row| row > through));
        if let Some(seq) = next {
            self.first.insert(execution, seq);
            self.by_first.insert((seq, execution));
        }
    }

    /// How many rows of `execution` a reader or a fold may need.
    pub(super) fn count_of(&self, execution: i64) -> usize {
        self.rows.get(&execution).map_or(0, Vec::len)
    }

    /// The rows of `execution` a reader or a fold may need.
    pub(super) fn rows_of(&self, execution: i64) -> Vec<i64> {
        self.rows.get(&execution).cloned().unwrap_or_default()
    }

    /// The executions to fold now: those whose first row the journal has
    /// run [`WINDOW`] past, or, when `all`, every one; at most
    /// [`FOLD_STEP`].
    fn behind(&self, all: bool) -> Vec<i64> {
        let limit = if all { i64::MAX } else { self.last - WINDOW };
        self.by_first
            .iter()
            .take_while(|(seq, _)| *seq <= limit)
            .take(FOLD_STEP)
            .map(|&(_, execution)| execution)
            .collect()
    }

    /// The first row any execution still needs, once `folding` are folded.
    fn horizon(&self, folding: &[i64]) -> i64 {
        self.by_first
            .iter()
            .find(|(_, execution)| !folding.contains(execution))
            .map_or(self.last + 1, |&(seq, _)| seq)
    }
}

/// One execution's changes in one batch, as its journal row stores them:
/// its operations (each with its position) and its events, each list JSON
/// packed by [`packing::packed_text`] (none when empty).
#[derive(Debug)]
pub(super) struct Row {
    operations: Option<rusqlite::types::Value>,
    events: Option<rusqlite::types::Value>,
}

impl Row {
    /// The row of `operations` (position, JSON) and `events` (JSON),
    /// either may be empty.
    pub(super) fn new(
        operations: &[(i64, &str)],
        events: &[&str],
        dictionary: Option<&Dictionary>,
    ) -> rusqlite::Result<Self> {
        let operations = (!operations.is_empty()).then(|| {
            let mut text = String::from("[");
            for (index, (position, body)) in operations.iter().enumerate() {
                if index > 0 {
                    text.push(',');
                }
                text.push('[');
                text.push_str(&position.to_string());
                text.push(',');
                text.push_str(body);
                text.push(']');
            }
            text.push(']');
            text
        });
        let events = (!events.is_empty()).then(|| format!("[{}]", events.join(",")));
        Ok(Self {
            operations: operations
                .map(|text| packing::packed_text(text, dictionary))
                .transpose()?,
            events: events
                .map(|text| packing::packed_text(text, dictionary))
                .transpose()?,
        })
    }
}

/// Appends `row` as row `seq` of execution `id`.
pub(super) fn append(
    connection: &Connection,
    seq: i64,
    id: i64,
    row: &Row,
) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO journal (seq, execution, operations, events) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![seq, id, row.operations, row.events])?;
    Ok(())
}

/// A column [`packing::packed_text`] stored (or null: nothing), parsed.
fn unpacked<T: serde::de::DeserializeOwned + Default>(
    value: rusqlite::types::ValueRef<'_>,
) -> rusqlite::Result<T> {
    match value {
        rusqlite::types::ValueRef::Null => Ok(T::default()),
        value => packing::unpacked_text(value),
    }
}

/// One row's operations: each with its position.
pub(super) type OperationRows = Vec<(i64, Box<RawValue>)>;

/// Execution `id`'s rows among `rows` after `through`, in order: each one's
/// operations and events. A row not found (cut off after its fold, or
/// written after the reader's snapshot) is skipped.
pub(super) fn read(
    connection: &Connection,
    id: i64,
    rows: &[i64],
    through: i64,
) -> rusqlite::Result<Vec<(OperationRows, Rows)>> {
    let mut statement = connection.prepare_cached(
        "SELECT operations, events FROM journal WHERE seq = ?1 AND execution = ?2",
    )?;
    let mut entries = Vec::new();
    for &seq in rows.iter().filter(|&&seq| seq > through) {
        let row = statement
            .query_row(params![seq, id], |row| {
                Ok((unpacked(row.get_ref(0)?)?, unpacked(row.get_ref(1)?)?))
            })
            .optional()?;
        if let Some(entry) = row {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// Lays journal `entries` over an archive's `operations` (by position) and
/// `events` (after them).
pub(super) fn lay_over(
    operations: &mut Rows,
    events: &mut Rows,
    entries: Vec<(OperationRows, Rows)>,
) {
    for (mut changed, added) in entries {
        // A batch's new operations extend the list in position order,
        // whatever order the batch lists them in.
        changed.sort_by_key(|(position, _)| *position);
        for (position, op) in changed {
            match usize::try_from(position)
                .ok()
                .and_then(|position| operations.get_mut(position))
            {
                Some(slot) => *slot = op,
                None => operations.push(op),
            }
        }
        events.extend(added);
    }
}

/// The dictionary a function's values are compressed against now, if any.
pub(super) type DictionaryOf<'a> = dyn Fn(&str) -> Option<std::sync::Arc<Dictionary>> + 'a;

/// Folds execution `id`'s journal `rows` (those after its archive's) into
/// its archive, compressed against its function's dictionary; the last row
/// folded and the archive's bytes, or `None` when none was left to fold.
pub(super) fn fold(
    connection: &Connection,
    id: i64,
    rows: &[i64],
    dictionary_of: &DictionaryOf<'_>,
) -> rusqlite::Result<Option<(i64, usize)>> {
    let (mut operations, mut events, through) = archive::read_whole(connection, id)?;
    let entries = read(connection, id, rows, through)?;
    let Some(&last) = rows.iter().max().filter(|_| !entries.is_empty()) else {
        return Ok(None);
    };
    lay_over(&mut operations, &mut events, entries);
    let function: Option<String> = connection
        .prepare_cached("SELECT function_name FROM executions WHERE id = ?1")?
        .query_row(params![id], |row| row.get(0))
        .optional()?;
    let dictionary = function.and_then(|function| dictionary_of(&function));
    let bytes = archive::write(
        connection,
        id,
        (&operations, &events),
        last,
        dictionary.as_deref(),
    )?;
    Ok(Some((last, bytes)))
}

/// Execution `id`'s operations and events: its archive's, with its journal
/// `rows` laid over them.
pub(super) fn state(
    connection: &Connection,
    id: i64,
    rows: &[i64],
) -> rusqlite::Result<(Rows, Rows)> {
    let (mut operations, mut events, through) = archive::read_whole(connection, id)?;
    lay_over(
        &mut operations,
        &mut events,
        read(connection, id, rows, through)?,
    );
    Ok((operations, events))
}

/// Folds the executions the journal has run far past, and cuts off the
/// rows no execution needs; when `all` (the writer is idle), one step of
/// folding every execution with rows, true when more remain. Runs between
/// the writer's commits. Also the executions folded.
pub(super) fn fold_behind(
    connection: &mut Connection,
    journal: &Journal,
    dictionary_of: &DictionaryOf<'_>,
    all: bool,
) -> rusqlite::Result<(bool, Vec<i64>)> {
    let mut folded = Vec::new();
    loop {
        let (folding, horizon, start) = {
            let index = journal.index();
            let folding = index.behind(all);
            let horizon = index.horizon(&folding);
            (folding, horizon, index.start)
        };
        // Idle, every folded row goes; under load, a step of them at once.
        let worth_a_cut = if all { 1 } else { CUT_STEP };
        if folding.is_empty() && horizon - start < worth_a_cut {
            return Ok((false, folded));
        }
        let transaction = connection.transaction()?;
        let mut folds = Vec::with_capacity(folding.len());
        let mut written = 0;
        for &execution in &folding {
            if written >= FOLD_BYTES {
                break;
            }
            let rows = journal.index().rows_of(execution);
            let folded = fold(&transaction, execution, &rows, dictionary_of)?;
            written += folded.map_or(0, |(_, bytes)| bytes);
            // Nothing left to fold: its rows are in its archive already.
            let through = folded
                .map(|(through, _)| through)
                .or_else(|| rows.last().copied())
                .unwrap_or(0);
            folds.push((execution, through));
        }
        let horizon = if folds.len() < folding.len() {
            let done: Vec<i64> = folds.iter().map(|&(execution, _)| execution).collect();
            journal.index().horizon(&done)
        } else {
            horizon
        };
        let cut = cut_end(&transaction, start, horizon)?;
        transaction
            .prepare_cached("DELETE FROM journal WHERE seq < ?1")?
            .execute(params![cut])?;
        transaction.commit()?;
        let more = {
            let mut index = journal.index();
            for &(execution, through) in &folds {
                index.folded(execution, through);
            }
            index.start = cut;
            !index.by_first.is_empty() || cut < horizon
        };
        folded.extend(folds.iter().map(|&(execution, _)| execution));
        if all {
            return Ok((more, folded));
        }
    }
}

/// Where a cut of the rows from `start` up to `horizon` ends: past at most
/// [`CUT_BYTES`] of them.
fn cut_end(connection: &Connection, start: i64, horizon: i64) -> rusqlite::Result<i64> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, COALESCE(octet_length(operations), 0) + COALESCE(octet_length(events), 0)
         FROM journal WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
    )?;
    let mut rows = statement.query(params![start, horizon])?;
    let mut bytes = 0;
    while let Some(row) = rows.next()? {
        let (seq, size): (i64, i64) = (row.get(0)?, row.get(1)?);
        if bytes > 0 && bytes + size > CUT_BYTES {
            return Ok(seq);
        }
        bytes += size + ROW_BYTES;
    }
    Ok(horizon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_follows_rows_added_folded_rolled_back_and_released() {
        let mut index = JournalIndex::default();
        index.add(1, 10);
        index.add(2, 11);
        index.add(1, 12);
        assert_eq!(index.rows_of(1), [10, 12]);
        assert_eq!(index.horizon(&[]), 10);
        assert_eq!(index.horizon(&[1]), 11);
        index.forget(&[(1, 12)]);
        assert_eq!(index.rows_of(1), [10]);
        index.folded(1, 10);
        // Folded, still listed for reads under way, no longer holding the
        // journal back.
        assert_eq!(index.rows_of(1), [10]);
        assert_eq!(index.horizon(&[]), 11);
        index.add(1, 13);
        assert_eq!(index.horizon(&[2]), 13);
        index.release();
        assert_eq!(index.rows_of(1), [13], "the row after the fold stays");
        assert!(!index.has_folded());
        index.folded(2, 11);
        index.folded(1, 13);
        index.release();
        assert!(index.rows.is_empty() && index.first.is_empty() && index.by_first.is_empty());
        assert_eq!(index.horizon(&[]), 14);
    }
}
