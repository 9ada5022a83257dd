//! Timers: when something is next due, and completing what is due.
//!
//! Each execution keeps its deadlines in an index ordered by moment
//! ([`Deadlines`]), changed as its operations and callbacks change, so the
//! next deadline is read, and what is due found, without looking at every
//! operation.

use std::collections::{BTreeSet, HashMap};

use super::ExecutionState;
use crate::model::{
    ErrorObject, EventDetails, ExecutionStatus, Operation, OperationStatus, OperationType,
    Timestamp,
};

/// What a deadline ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Timer {
    /// A wait ends.
    WaitEnd,
    /// A step's next attempt is due.
    Retry,
    /// A callback times out.
    CallbackTimeout,
    /// A callback's heartbeat allowance runs out.
    Heartbeat,
}

/// An execution's deadlines, by moment; at most one per operation and kind.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    by_moment: BTreeSet<(Timestamp, Timer, String)>,
    by_operation: HashMap<(Timer, String), Timestamp>,
}

impl Deadlines {
    /// Sets (or, with `None`, clears) the deadline `timer` of `operation_id`.
    pub(super) fn set(&mut self, timer: Timer, operation_id: &str, at: Option<Timestamp>) {
        let key = (timer, operation_id.to_owned());
        if let Some(old) = self.by_operation.remove(&key) {
            self.by_moment.remove(&(old, timer, key.1.clone()));
        }
        if let Some(at) = at {
            self.by_moment.insert((at, timer, key.1.clone()));
            self.by_operation.insert(key, at);
        }
    }

    /// The earliest deadline.
    pub(super) fn first(&self) -> Option<Timestamp> {
        self.by_moment.first().map(|(at, _, _)| *at)
    }

    /// Takes out every deadline at or before `now`, earliest first.
    pub(super) fn take_due(&mut self, now: Timestamp) -> Vec<(Timer, String)> {
        let mut due = Vec::new();
        while let Some((at, timer, operation_id)) = self.by_moment.first().cloned() {
            if at > now {
                break;
            }
            self.by_moment.pop_first();
            self.by_operation.remove(&(timer, operation_id.clone()));
            due.push((timer, operation_id));
        }
        due
    }

    /// Clears every deadline.
    pub(super) fn clear(&mut self) {
        self.by_moment.clear();
        self.by_operation.clear();
    }
}

/// The deadline an operation in this state has: a started wait's end, a
/// pending step's next attempt.
pub(super) fn operation_deadline(op: &Operation) -> (Timer, Option<Timestamp>) {
    match (op.kind, op.status) {
        (OperationType::Wait, OperationStatus::Started) => (
            Timer::WaitEnd,
            op.wait_details
                .as_ref()
                .and_then(|details| details.scheduled_end_timestamp),
        ),
        (OperationType::Wait, _) => (Timer::WaitEnd, None),
        (OperationType::Step, OperationStatus::Pending) => (
            Timer::Retry,
            op.step_details
                .as_ref()
                .and_then(|details| details.next_attempt_timestamp),
        ),
        (_, _) => (Timer::Retry, None),
    }
}

impl ExecutionState {
    /// The next moment something is due: a wait's end, a retry, a callback
    /// timeout, the execution timeout, the next invocation after a failed
    /// one.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if self.record.status.is_terminal() {
            return None;
        }
        [
            self.deadlines.first(),
            Some(self.record.timeout_at()),
            self.record.retry_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Completes everything due at `now`: waits end, retries become ready,
    /// callbacks time out, the execution times out, an invocation after a
    /// failed one is owed.
    pub fn fire_timers(&mut self, now: Timestamp) {
        if self.record.status.is_terminal() {
            return;
        }
        if now >= self.record.timeout_at() {
            let error = ErrorObject::message(format!(
                "Execution timed out after {} seconds.",
                self.record.timeout_seconds
            ));
            self.finish(ExecutionStatus::TimedOut, None, Some(error), now);
            return;
        }
        if self.record.retry_at.is_some_and(|at| at <= now) {
            self.record.retry_at = None;
            self.owe(now);
        }
        for (timer, operation_id) in self.deadlines.take_due(now) {
            match timer {
                Timer::WaitEnd | Timer::Retry => self.end_wait_or_retry(&operation_id, now),
                Timer::CallbackTimeout => self.close_callback(
                    &operation_id,
                    OperationStatus::TimedOut,
                    None,
                    Some(ErrorObject::new("Callback.Timeout", "Callback timed out")),
                    now,
                ),
                Timer::Heartbeat => self.close_callback(
                    &operation_id,
                    OperationStatus::TimedOut,
                    None,
                    Some(ErrorObject::new(
                        "Callback.Heartbeat",
                        "Callback timed out on heartbeat",
                    )),
                    now,
                ),
            }
        }
    }

    fn end_wait_or_retry(&mut self, operation_id: &str, now: Timestamp) {
        let Some(mut op) = self.operations.get(operation_id).cloned() else {
            return;
        };
        match (op.kind, op.status) {
            (OperationType::Wait, OperationStatus::Started) => {
                op.status = OperationStatus::Succeeded;
                op.end_timestamp = Some(now);
                let duration = (now.millis() - op.start_timestamp.millis()) / 1000;
                self.event(&op, now, EventDetails::WaitSucceeded { duration });
            }
            (OperationType::Step, OperationStatus::Pending) => {
                op.status = OperationStatus::Ready;
                if let Some(details) = op.step_details.as_mut() {
                    details.next_attempt_timestamp = None;
                }
            }
            _ => return,
        }
        self.put(op);
        self.external_seq += 1;
        self.owe(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_out_earliest_first_and_a_reset_one_moves() {
        let at = Timestamp::from_millis;
        let mut deadlines = Deadlines::default();
        deadlines.set(Timer::WaitEnd, "w", Some(at(30)));
        deadlines.set(Timer::Retry, "s", Some(at(10)));
        deadlines.set(Timer::CallbackTimeout, "c", Some(at(20)));
        assert_eq!(deadlines.first(), Some(at(10)));
        deadlines.set(Timer::Retry, "s", Some(at(40)));
        assert_eq!(deadlines.first(), Some(at(20)), "moved, not added");
        deadlines.set(Timer::CallbackTimeout, "c", None);
        assert_eq!(
            deadlines.take_due(at(35)),
            [(Timer::WaitEnd, "w".to_owned())]
        );
        assert_eq!(deadlines.first(), Some(at(40)));
        assert!(deadlines.take_due(at(39)).is_empty());
    }
}
