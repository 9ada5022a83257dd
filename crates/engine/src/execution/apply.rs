//! Checkpoints: the token check, then each valid update applied in order,
//! with the history events it makes.

use super::error::{ExecutionError, Result};
use super::record::{CallbackRecord, ChainedInvokeRequest, TargetResolver};
use super::validate::{ValidUpdate, validate_batch};
use super::{ActiveInvocation, ExecutionState, IdempotentCheckpoint};
use crate::clock::scaled_millis;
use crate::model::{
    CallbackDetails, ChainedInvokeDetails, CheckpointOutput, ContextDetails, EventDetails,
    EventError, EventPayload, ExecutionStatus, Operation, OperationAction, OperationStatus,
    OperationType, OperationUpdate, Outcome, RetryDetails, StatePage, StepDetails, Timestamp,
    WaitDetails,
};

impl ExecutionState {
    /// The invocation `token` belongs to, if it may checkpoint.
    pub(super) fn check_token(&self, token: &str) -> Result<&ActiveInvocation> {
        if self.record.status.is_terminal() {
            return Err(ExecutionError::StaleToken(format!(
                "the execution has ended ({})",
                self.record.status
            )));
        }
        match self.invocation.as_ref() {
            Some(active) if active.cut_short => Err(ExecutionError::StaleToken(format!(
                "the execution is {}",
                self.record.status
            ))),
            Some(active) if active.token == token => Ok(active),
            _ => Err(ExecutionError::StaleToken(
                "the token is not the current one of a running invocation".to_owned(),
            )),
        }
    }

    /// Applies a checkpoint: checks the token, validates the whole batch as
    /// the service does, applies it in order, rotates the token, and answers
    /// with every operation the caller has not seen yet.
    ///
    /// `targets` resolves a chained invoke's target.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` for a stale token or an invalid update;
    /// nothing is applied then.
    pub fn checkpoint(
        &mut self,
        token: &str,
        client_token: Option<&str>,
        updates: &[OperationUpdate],
        now: Timestamp,
        targets: TargetResolver<'_>,
    ) -> Result<CheckpointOutput> {
        if let (Some(client), Some(last)) = (client_token, &self.last_checkpoint)
            && !client.is_empty()
            && last.client_token == client
            && last.inbound_token == token
        {
            return Ok(last.output.clone());
        }
        self.check_token(token)?;
        let valid = validate_batch(&self.operations, updates)?;
        for update in valid {
            self.apply(update, now, targets);
        }
        self.fire_timers(now);
        if self.record.status == ExecutionStatus::Pausing {
            // The invocation reached its next checkpoint: the pause takes
            // effect, and this invocation ends at its next call.
            self.take_effect(now, true);
            if let Some(active) = self.invocation.as_mut() {
                active.cut_short = true;
            }
        }
        let new_token = self.mint_token();
        if let Some(active) = self.invocation.as_mut() {
            active.token.clone_from(&new_token);
        }
        let operations: Vec<Operation> = self
            .operations
            .values()
            .filter(|op| {
                self.touched
                    .get(&op.id)
                    .is_some_and(|&touch| touch > self.seen)
            })
            .cloned()
            .collect();
        self.seen = self.touch_seq;
        let output = CheckpointOutput {
            checkpoint_token: new_token,
            new_execution_state: StatePage {
                operations,
                next_marker: None,
            },
        };
        self.last_checkpoint = Some(IdempotentCheckpoint {
            client_token: client_token.unwrap_or_default().to_owned(),
            inbound_token: token.to_owned(),
            output: output.clone(),
        });
        Ok(output)
    }

    /// Applies one valid update.
    fn apply(&mut self, valid: ValidUpdate<'_>, now: Timestamp, targets: TargetResolver<'_>) {
        let ValidUpdate {
            update,
            kind,
            action,
        } = valid;
        if kind == OperationType::Execution {
            match action {
                OperationAction::Succeed => {
                    self.finish(
                        ExecutionStatus::Succeeded,
                        update.payload.clone(),
                        None,
                        now,
                    );
                }
                _ => self.finish(
                    ExecutionStatus::Failed,
                    None,
                    Some(update.error.clone().unwrap_or_default()),
                    now,
                ),
            }
            return;
        }
        let existing = self.operations.get(&update.id).cloned();
        let mut op = existing.unwrap_or_else(|| {
            let mut op = Operation::new(update.id.clone(), kind, OperationStatus::Started, now);
            op.parent_id.clone_from(&update.parent_id);
            op.name.clone_from(&update.name);
            op.sub_type.clone_from(&update.sub_type);
            op
        });
        match kind {
            OperationType::Step => self.apply_step(&mut op, update, action, now),
            OperationType::Context => self.apply_context(&mut op, update, action, now),
            OperationType::Wait => self.apply_wait(&mut op, update, action, now),
            OperationType::Callback => self.apply_callback(&mut op, update, now),
            OperationType::ChainedInvoke => {
                self.apply_chained_invoke(&mut op, update, now, targets);
            }
            OperationType::Execution => {}
        }
        self.put(op);
    }

    fn apply_step(
        &mut self,
        op: &mut Operation,
        update: &OperationUpdate,
        action: OperationAction,
        now: Timestamp,
    ) {
        let details = op.step_details.get_or_insert_with(StepDetails::default);
        let completed_attempt = details.attempt + 1;
        match action {
            OperationAction::Start => {
                op.status = OperationStatus::Started;
                details.outcome.result = None;
                details.outcome.error = None;
                details.next_attempt_timestamp = None;
                self.event(op, now, EventDetails::StepStarted {});
            }
            OperationAction::Succeed => {
                let outcome = Outcome {
                    result: update.payload.clone(),
                    error: None,
                };
                self.end_step(
                    op,
                    OperationStatus::Succeeded,
                    outcome,
                    now,
                    |retry_details| EventDetails::StepSucceeded {
                        result: EventPayload::of(update.payload.clone()),
                        retry_details,
                    },
                );
            }
            OperationAction::Fail => {
                let outcome = Outcome {
                    result: None,
                    error: update.error.clone(),
                };
                self.end_step(op, OperationStatus::Failed, outcome, now, |retry_details| {
                    EventDetails::StepFailed {
                        error: EventError::of(update.error.clone()),
                        retry_details,
                    }
                });
            }
            OperationAction::Retry => {
                let delay = update
                    .step_options
                    .as_ref()
                    .and_then(|options| options.next_attempt_delay_seconds)
                    .unwrap_or(1)
                    .max(0);
                op.status = OperationStatus::Pending;
                details.attempt = completed_attempt;
                details.next_attempt_timestamp =
                    Some(now.plus_millis(scaled_millis(delay, self.time_scale)));
                details.outcome.result.clone_from(&update.payload);
                details.outcome.error.clone_from(&update.error);
                let retry_details = RetryDetails {
                    current_attempt: completed_attempt,
                    next_attempt_delay_seconds: Some(delay),
                };
                let event = match &update.error {
                    Some(error) => EventDetails::StepFailed {
                        error: EventError::of(Some(error.clone())),
                        retry_details,
                    },
                    None => EventDetails::StepSucceeded {
                        result: EventPayload::of(update.payload.clone()),
                        retry_details,
                    },
                };
                self.event(op, now, event);
            }
            OperationAction::Cancel => {}
        }
    }

    /// Ends the step `op` with `status` and `outcome` after its last
    /// attempt, and records the event `ended` makes of that attempt's retry
    /// details (no further attempt).
    fn end_step(
        &mut self,
        op: &mut Operation,
        status: OperationStatus,
        outcome: Outcome,
        now: Timestamp,
        ended: impl FnOnce(RetryDetails) -> EventDetails,
    ) {
        op.status = status;
        op.end_timestamp = Some(now);
        let details = op.step_details.get_or_insert_with(StepDetails::default);
        let retry_details = RetryDetails {
            current_attempt: details.attempt + 1,
            next_attempt_delay_seconds: None,
        };
        details.outcome = outcome;
        details.next_attempt_timestamp = None;
        self.event(op, now, ended(retry_details));
    }

    fn apply_context(
        &mut self,
        op: &mut Operation,
        update: &OperationUpdate,
        action: OperationAction,
        now: Timestamp,
    ) {
        let replay_children = update
            .context_options
            .as_ref()
            .and_then(|options| options.replay_children);
        match action {
            OperationAction::Start => {
                op.status = OperationStatus::Started;
                op.context_details = Some(ContextDetails {
                    replay_children,
                    outcome: Outcome::default(),
                });
                self.event(op, now, EventDetails::ContextStarted {});
            }
            OperationAction::Succeed => {
                op.status = OperationStatus::Succeeded;
                op.end_timestamp = Some(now);
                op.context_details = Some(ContextDetails {
                    replay_children,
                    outcome: Outcome {
                        result: update.payload.clone(),
                        error: None,
                    },
                });
                let event = EventDetails::ContextSucceeded {
                    result: EventPayload::of(update.payload.clone()),
                };
                self.event(op, now, event);
            }
            _ => {
                op.status = OperationStatus::Failed;
                op.end_timestamp = Some(now);
                op.context_details = Some(ContextDetails {
                    replay_children,
                    outcome: Outcome {
                        result: None,
                        error: update.error.clone(),
                    },
                });
                let event = EventDetails::ContextFailed {
                    error: EventError::of(update.error.clone()),
                };
                self.event(op, now, event);
            }
        }
    }

    fn apply_wait(
        &mut self,
        op: &mut Operation,
        update: &OperationUpdate,
        action: OperationAction,
        now: Timestamp,
    ) {
        if action == OperationAction::Cancel {
            op.status = OperationStatus::Cancelled;
            op.end_timestamp = Some(now);
            let event = EventDetails::WaitCancelled {
                error: EventError::of(update.error.clone()),
            };
            self.event(op, now, event);
            return;
        }
        let seconds = update
            .wait_options
            .as_ref()
            .and_then(|options| options.wait_seconds)
            .unwrap_or(0)
            .max(0);
        let end = now.plus_millis(scaled_millis(seconds, self.time_scale));
        op.status = OperationStatus::Started;
        op.wait_details = Some(WaitDetails {
            scheduled_end_timestamp: Some(end),
        });
        let event = EventDetails::WaitStarted {
            duration: seconds,
            scheduled_end_timestamp: end,
        };
        self.event(op, now, event);
    }

    fn apply_callback(&mut self, op: &mut Operation, update: &OperationUpdate, now: Timestamp) {
        let options = update.callback_options.clone().unwrap_or_default();
        let timeout = options.timeout_seconds.unwrap_or(0).max(0);
        let heartbeat = options.heartbeat_timeout_seconds.unwrap_or(0).max(0);
        let callback_id = self.random_text(24);
        let record = CallbackRecord {
            callback_id: callback_id.clone(),
            arn: self.record.arn.clone(),
            operation_id: op.id.clone(),
            timeout_at: (timeout > 0).then(|| now.plus_millis(timeout.saturating_mul(1000))),
            heartbeat_seconds: heartbeat,
            heartbeat_at: (heartbeat > 0).then(|| now.plus_millis(heartbeat.saturating_mul(1000))),
        };
        op.status = OperationStatus::Started;
        op.callback_details = Some(CallbackDetails {
            callback_id: Some(callback_id.clone()),
            outcome: Outcome::default(),
        });
        let event = EventDetails::CallbackStarted {
            callback_id,
            heartbeat_timeout: (heartbeat > 0).then_some(heartbeat),
            timeout: (timeout > 0).then_some(timeout),
        };
        self.event(op, now, event);
        self.changes.callbacks.push(record.clone());
        self.track_callback(record);
    }

    fn apply_chained_invoke(
        &mut self,
        op: &mut Operation,
        update: &OperationUpdate,
        now: Timestamp,
        targets: TargetResolver<'_>,
    ) {
        let options = update.chained_invoke_options.as_ref();
        let function_name = options
            .and_then(|options| options.function_name.clone())
            .unwrap_or_default();
        let tenant_id = options.and_then(|options| options.tenant_id.clone());
        let payload = update.payload.clone().unwrap_or_else(|| "{}".to_owned());
        let target = targets(&function_name);
        op.status = OperationStatus::Started;
        op.chained_invoke_details = Some(ChainedInvokeDetails::default());
        let event = EventDetails::ChainedInvokeStarted {
            function_name: function_name.clone(),
            tenant_id: tenant_id.clone(),
            input: Some(EventPayload::of(Some(payload.clone()))),
            executed_version: target.as_ref().map(|target| target.version.clone()),
            durable_execution_arn: target
                .as_ref()
                .and_then(|target| target.execution_arn.clone()),
        };
        self.event(op, now, event);
        if let Some(target) = target {
            self.changes.chained_invokes.push(ChainedInvokeRequest {
                operation_id: op.id.clone(),
                function_name,
                payload,
                execution_arn: target.execution_arn,
                tenant_id,
            });
        } else {
            let error = ExecutionError::FunctionNotFound(function_name).error_object();
            op.status = OperationStatus::Failed;
            op.end_timestamp = Some(now);
            op.chained_invoke_details = Some(ChainedInvokeDetails {
                result: None,
                error: Some(error.clone()),
            });
            let event = EventDetails::ChainedInvokeFailed {
                error: EventError::of(Some(error)),
            };
            self.event(op, now, event);
        }
    }
}
