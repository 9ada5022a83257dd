//! Timers: when something is next due, and completing what is due.

use super::ExecutionState;
use crate::model::{
    ErrorObject, EventDetails, ExecutionStatus, OperationStatus, OperationType, Timestamp,
};

impl ExecutionState {
    /// The next moment something is due: a wait's end, a retry, a callback
    /// timeout, the execution timeout.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if self.record.status.is_terminal() {
            return None;
        }
        let operations = self
            .operations
            .values()
            .filter_map(|op| match (op.kind, op.status) {
                (OperationType::Wait, OperationStatus::Started) => op
                    .wait_details
                    .as_ref()
                    .and_then(|details| details.scheduled_end_timestamp),
                (OperationType::Step, OperationStatus::Pending) => op
                    .step_details
                    .as_ref()
                    .and_then(|details| details.next_attempt_timestamp),
                _ => None,
            });
        let callbacks = self
            .callbacks
            .values()
            .flat_map(|callback| [callback.timeout_at, callback.heartbeat_at])
            .flatten();
        operations
            .chain(callbacks)
            .chain(std::iter::once(self.record.timeout_at()))
            .min()
    }

    /// Completes everything due at `now`: waits end, retries become ready,
    /// callbacks time out, the execution times out.
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
        let due: Vec<String> = self
            .operations
            .values()
            .filter(|op| match (op.kind, op.status) {
                (OperationType::Wait, OperationStatus::Started) => op
                    .wait_details
                    .as_ref()
                    .and_then(|details| details.scheduled_end_timestamp)
                    .is_some_and(|end| end <= now),
                (OperationType::Step, OperationStatus::Pending) => op
                    .step_details
                    .as_ref()
                    .and_then(|details| details.next_attempt_timestamp)
                    .is_some_and(|at| at <= now),
                _ => false,
            })
            .map(|op| op.id.clone())
            .collect();
        for id in due {
            let Some(mut op) = self.operations.get(&id).cloned() else {
                continue;
            };
            if op.kind == OperationType::Wait {
                op.status = OperationStatus::Succeeded;
                op.end_timestamp = Some(now);
                let duration =
                    (op.end_timestamp.unwrap_or(now).millis() - op.start_timestamp.millis()) / 1000;
                self.event(&op, now, EventDetails::WaitSucceeded { duration });
            } else if let Some(details) = op.step_details.as_mut() {
                op.status = OperationStatus::Ready;
                details.next_attempt_timestamp = None;
            }
            self.put(op);
            self.external_seq += 1;
        }
        let expired: Vec<(String, bool)> = self
            .callbacks
            .values()
            .filter_map(|callback| {
                if callback.timeout_at.is_some_and(|at| at <= now) {
                    Some((callback.operation_id.clone(), false))
                } else if callback.heartbeat_at.is_some_and(|at| at <= now) {
                    Some((callback.operation_id.clone(), true))
                } else {
                    None
                }
            })
            .collect();
        for (operation_id, heartbeat) in expired {
            let error = if heartbeat {
                ErrorObject::new("Callback.Heartbeat", "Callback timed out on heartbeat")
            } else {
                ErrorObject::new("Callback.Timeout", "Callback timed out")
            };
            self.close_callback(
                &operation_id,
                OperationStatus::TimedOut,
                None,
                Some(error),
                now,
            );
        }
    }
}
