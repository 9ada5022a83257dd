//! What comes from outside an invocation: callbacks completed or
//! heartbeated, chained invokes ended, stop, pause and resume.

use super::ExecutionState;
use super::error::{ExecutionError, Result};
use super::record::{
    CallbackOutcome, ChainedOutcome, ControlToken, PauseRecord, PauseRequest, ResumeRequest,
};
use crate::limits::CONTROL_TOKEN_MILLIS;
use crate::model::{
    CallbackDetails, ChainedInvokeDetails, ErrorObject, EventDetails, EventError, EventPayload,
    ExecutionStatus, OperationStatus, OperationType, Timestamp,
};

impl ExecutionState {
    /// Completes the callback `operation_id` from outside.
    ///
    /// # Errors
    ///
    /// `CallbackTimeout` when it is no longer open.
    pub fn complete_callback(
        &mut self,
        operation_id: &str,
        outcome: CallbackOutcome,
        now: Timestamp,
    ) -> Result<()> {
        self.open_callback(operation_id)?;
        match outcome {
            CallbackOutcome::Succeeded(result) => {
                self.close_callback(operation_id, OperationStatus::Succeeded, result, None, now);
            }
            CallbackOutcome::Failed(error) => {
                self.close_callback(
                    operation_id,
                    OperationStatus::Failed,
                    None,
                    Some(error),
                    now,
                );
            }
        }
        Ok(())
    }

    /// Records a heartbeat of the callback `operation_id`.
    ///
    /// # Errors
    ///
    /// `CallbackTimeout` when it is no longer open.
    pub fn heartbeat(&mut self, operation_id: &str, now: Timestamp) -> Result<()> {
        self.open_callback(operation_id)?;
        if let Some(mut callback) = self
            .callbacks
            .get(operation_id)
            .filter(|callback| callback.heartbeat_seconds > 0)
            .cloned()
        {
            callback.heartbeat_at =
                Some(now.plus_millis(callback.heartbeat_seconds.saturating_mul(1000)));
            self.changes.callbacks.push(callback.clone());
            self.track_callback(callback);
        }
        Ok(())
    }

    fn open_callback(&self, operation_id: &str) -> Result<()> {
        let open = !self.record.status.is_terminal()
            && self.operations.get(operation_id).is_some_and(|op| {
                op.kind == OperationType::Callback && op.status == OperationStatus::Started
            });
        if open {
            Ok(())
        } else {
            Err(ExecutionError::CallbackClosed)
        }
    }

    pub(super) fn close_callback(
        &mut self,
        operation_id: &str,
        status: OperationStatus,
        result: Option<String>,
        error: Option<ErrorObject>,
        now: Timestamp,
    ) {
        // Closed in any case: a callback whose operation is missing must not
        // stay due forever. One already closed (both of its deadlines came
        // due at once) is left as it is.
        let Some(callback) = self.untrack_callback(operation_id) else {
            return;
        };
        self.changes.closed_callbacks.push(callback.callback_id);
        let Some(mut op) = self.operations.get(operation_id).cloned() else {
            return;
        };
        op.status = status;
        op.end_timestamp = Some(now);
        let details = op
            .callback_details
            .get_or_insert_with(CallbackDetails::default);
        details.outcome.result.clone_from(&result);
        details.outcome.error.clone_from(&error);
        let event = match status {
            OperationStatus::Succeeded => EventDetails::CallbackSucceeded {
                result: EventPayload::of(result),
            },
            OperationStatus::Failed => EventDetails::CallbackFailed {
                error: EventError::of(error),
            },
            _ => EventDetails::CallbackTimedOut {
                error: EventError::of(error),
            },
        };
        self.event(&op, now, event);
        self.put(op);
        self.external_seq += 1;
        self.owe(now);
    }

    /// Completes the chained invoke `operation_id` with `outcome`.
    pub fn complete_chained_invoke(
        &mut self,
        operation_id: &str,
        outcome: ChainedOutcome,
        now: Timestamp,
    ) {
        let Some(mut op) = self.operations.get(operation_id).cloned() else {
            return;
        };
        if self.record.status.is_terminal() || op.status != OperationStatus::Started {
            return;
        }
        op.end_timestamp = Some(now);
        let (status, result, error) = match outcome {
            ChainedOutcome::Succeeded(result) => (OperationStatus::Succeeded, result, None),
            ChainedOutcome::Failed(error) => (OperationStatus::Failed, None, Some(error)),
            ChainedOutcome::TimedOut(error) => (OperationStatus::TimedOut, None, Some(error)),
            ChainedOutcome::Stopped(error) => (OperationStatus::Stopped, None, Some(error)),
        };
        let details = ChainedInvokeDetails {
            result: result.clone(),
            error: error.clone(),
        };
        let event = match status {
            OperationStatus::Succeeded => EventDetails::ChainedInvokeSucceeded {
                result: EventPayload::of(result),
            },
            OperationStatus::TimedOut => EventDetails::ChainedInvokeTimedOut {
                error: EventError::of(error),
            },
            OperationStatus::Stopped => EventDetails::ChainedInvokeStopped {
                error: EventError::of(error),
            },
            _ => EventDetails::ChainedInvokeFailed {
                error: EventError::of(error),
            },
        };
        op.status = status;
        op.chained_invoke_details = Some(details);
        self.event(&op, now, event);
        self.put(op);
        self.external_seq += 1;
        self.owe(now);
    }

    /// Stops the execution.
    ///
    /// # Errors
    ///
    /// None for an execution already over: stopping is idempotent.
    pub fn stop(&mut self, error: Option<ErrorObject>, now: Timestamp) {
        if self.record.status.is_terminal() {
            return;
        }
        let error = error
            .filter(|error| *error != ErrorObject::default())
            .unwrap_or_else(|| ErrorObject::message("Execution stopped by user request"));
        self.finish(ExecutionStatus::Stopped, None, Some(error), now);
    }

    /// Pauses the execution: no invocation starts until it is resumed.
    /// With an invocation under way the execution is `PAUSING` until that
    /// invocation's next checkpoint or end; otherwise it is `PAUSED` now.
    ///
    /// # Errors
    ///
    /// `ResourceConflict` when it is not running; `InvalidParameterValue`
    /// for a client token used within 15 minutes for another request.
    pub fn pause(&mut self, request: PauseRequest, now: Timestamp) -> Result<()> {
        let asked = format!(
            "pause {:?} {}",
            request.reason, request.execution_timeout_paused
        );
        if self.repeated(request.client_token.as_deref(), &asked, now)? {
            return Ok(());
        }
        if self.record.status != ExecutionStatus::Running {
            return Err(ExecutionError::Conflict(format!(
                "Cannot pause an execution that is {}.",
                self.record.status
            )));
        }
        self.record.pause = Some(PauseRecord {
            requested: now,
            reason: request.reason,
            execution_timeout_paused: request.execution_timeout_paused,
            since: None,
            invoke_on_resume: false,
        });
        self.changes.execution_changed = true;
        match self.invocation.as_ref().map(|active| active.cut_short) {
            Some(false) => self.record.status = ExecutionStatus::Pausing,
            // One cut short by an earlier pause checkpoints no more: it is owed
            // another invocation.
            cut_short => self.take_effect(now, cut_short.is_some()),
        }
        self.remember(request.client_token, asked, now);
        Ok(())
    }

    /// The pause takes effect: `PAUSED`, recorded in the history.
    /// `invoke_on_resume` when it cut an invocation short.
    pub(super) fn take_effect(&mut self, now: Timestamp, invoke_on_resume: bool) {
        let Some(pause) = self.record.pause.as_mut() else {
            return;
        };
        pause.since = Some(now);
        pause.invoke_on_resume |= invoke_on_resume;
        let details = EventDetails::ExecutionPaused {
            pause_request_timestamp: pause.requested,
            reason: pause
                .reason
                .clone()
                .map(|reason| EventPayload::of(Some(reason))),
            execution_timeout_paused: pause.execution_timeout_paused,
        };
        self.record.status = ExecutionStatus::Paused;
        self.changes.execution_changed = true;
        if let Some(op) = self.execution_op().cloned() {
            self.event(&op, now, details);
        }
    }

    /// Resumes a paused execution, or cancels a pause not yet in effect
    /// (`PAUSING`: the invocation under way carries on).
    ///
    /// Returns whether the function must be invoked now: the pause cut an
    /// invocation short, or something it waits for arrived meanwhile.
    ///
    /// # Errors
    ///
    /// `ResourceConflict` when it is neither paused nor pausing;
    /// `InvalidParameterValue` for a client token used within 15 minutes for
    /// another request.
    pub fn resume(&mut self, request: ResumeRequest, now: Timestamp) -> Result<bool> {
        let asked = format!("resume {:?}", request.reason);
        if self.repeated(request.client_token.as_deref(), &asked, now)? {
            return Ok(false);
        }
        let pause = match self.record.status {
            ExecutionStatus::Pausing | ExecutionStatus::Paused => self.record.pause.take(),
            status => {
                return Err(ExecutionError::Conflict(format!(
                    "Cannot resume an execution that is {status}."
                )));
            }
        };
        let was_paused = self.record.status == ExecutionStatus::Paused;
        self.record.status = ExecutionStatus::Running;
        self.changes.execution_changed = true;
        self.remember(request.client_token, asked, now);
        let Some(pause) = pause.filter(|_| was_paused) else {
            return Ok(false);
        };
        if let Some(since) = pause.since.filter(|_| pause.execution_timeout_paused) {
            self.record.paused_millis = self
                .record
                .paused_millis
                .saturating_add(now.millis() - since.millis());
        }
        if let Some(op) = self.execution_op().cloned() {
            let details = EventDetails::ExecutionResumed {
                resume_request_timestamp: now,
                reason: request.reason.map(|reason| EventPayload::of(Some(reason))),
            };
            self.event(&op, now, details);
        }
        let invoke = pause.invoke_on_resume || self.has_news();
        if invoke {
            self.owe(now);
        }
        Ok(invoke)
    }

    /// Whether `client_token` repeats a recent request asking `asked`.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` when it was used for another request.
    fn repeated(
        &mut self,
        client_token: Option<&str>,
        asked: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let tokens = &mut self.record.control_tokens;
        let before = tokens.len();
        tokens.retain(|known| now.millis() - known.at.millis() < CONTROL_TOKEN_MILLIS);
        self.changes.execution_changed |= tokens.len() != before;
        let Some(token) = client_token.filter(|token| !token.is_empty()) else {
            return Ok(false);
        };
        match tokens.iter().find(|known| known.token == token) {
            Some(known) if known.asked == asked => Ok(true),
            Some(_) => Err(ExecutionError::invalid(format!(
                "ClientToken '{token}' was used for a different request in the last 15 minutes."
            ))),
            None => Ok(false),
        }
    }

    fn remember(&mut self, client_token: Option<String>, asked: String, now: Timestamp) {
        if let Some(token) = client_token.filter(|token| !token.is_empty()) {
            self.record.control_tokens.push(ControlToken {
                token,
                asked,
                at: now,
            });
            self.changes.execution_changed = true;
        }
    }

    /// Whether invocations may run (not paused, not over).
    #[must_use]
    pub fn may_invoke(&self) -> bool {
        self.record.status == ExecutionStatus::Running
    }
}
