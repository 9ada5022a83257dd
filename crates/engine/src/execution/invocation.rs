//! Invocations: beginning one (its token and envelope), and what its answer
//! means for the execution.

use serde::Deserialize;

use super::error::ExecutionError;
use super::paging::page_of;
use super::{ActiveInvocation, ExecutionState};
use crate::limits::MAX_PAGE_BYTES;
use crate::model::{
    ErrorObject, EventDetails, EventError, ExecutionStatus, InitialExecutionState, InvocationInput,
    Timestamp,
};

/// How one invocation ended, as the engine saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationEnd {
    /// The function answered with this durable envelope (raw JSON).
    Answered(Vec<u8>),
    /// The invocation failed (function error, crash, timeout).
    Faulted(ErrorObject),
}

/// What the runtime should do after an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterInvocation {
    /// The execution is over.
    Finished,
    /// Invoke again at once: something it waits for is already there.
    InvokeNow,
    /// Nothing to do until a timer or an outside event.
    Sleep,
    /// The invocation failed: invoke again after a backoff.
    Retry,
}

impl ExecutionState {
    /// Begins invocation `id` (unique in the engine): mints its checkpoint
    /// token and builds the durable envelope the function receives.
    ///
    /// Returns the request id and the envelope. The envelope carries at
    /// most `page_items` operations (and [`MAX_PAGE_BYTES`]); `NextMarker`
    /// tells the function to fetch the rest.
    pub fn begin_invocation(
        &mut self,
        id: u64,
        now: Timestamp,
        page_items: usize,
    ) -> (String, InvocationInput) {
        self.external_at_begin = self.external_seq;
        let request_id = self.request_id();
        let token = self.mint_token();
        self.invocation = Some(ActiveInvocation {
            id,
            request_id: request_id.clone(),
            started: now,
            token: token.clone(),
            cut_short: false,
        });
        self.record.invocations += 1;
        self.record.invoking_since = Some(now);
        self.record.owed_since = None;
        self.record.retry_at = None;
        self.changes.execution_changed = true;
        self.seen = self.touch_seq;
        let visible = self.visible_operations();
        let (page, next) = page_of(&visible, 0, page_items.max(1), MAX_PAGE_BYTES);
        let envelope = InvocationInput {
            durable_execution_arn: self.record.arn.clone(),
            checkpoint_token: token,
            initial_execution_state: InitialExecutionState {
                operations: page.iter().map(|op| op.in_envelope()).collect(),
                next_marker: next.map(|next| self.marker(next)),
            },
        };
        (request_id, envelope)
    }

    /// The current invocation's number, request id and start.
    #[must_use]
    pub fn current_invocation(&self) -> Option<(u64, &str, Timestamp)> {
        self.invocation
            .as_ref()
            .map(|active| (active.id, active.request_id.as_str(), active.started))
    }

    /// Ends invocation `id` with `end` and says what comes next.
    ///
    /// An answer from an invocation that is no longer current (the execution
    /// ended or was stopped meanwhile) changes nothing.
    pub fn end_invocation(
        &mut self,
        id: u64,
        end: InvocationEnd,
        now: Timestamp,
    ) -> AfterInvocation {
        let Some(active) = self.invocation.take_if(|active| active.id == id) else {
            return if self.record.status.is_terminal() {
                AfterInvocation::Finished
            } else {
                AfterInvocation::Sleep
            };
        };
        self.record.invoking_since = None;
        self.changes.execution_changed = true;
        let after = self.ended(&active, end, now);
        match after {
            AfterInvocation::Retry => self.record.failed_invocations += 1,
            AfterInvocation::InvokeNow => {
                self.record.failed_invocations = 0;
                self.owe(now);
            }
            AfterInvocation::Finished | AfterInvocation::Sleep => {
                self.record.failed_invocations = 0;
            }
        }
        after
    }

    /// Fails the execution after `attempts` failed invocations in a row, or
    /// makes the next invocation due after `delay`. Called after an
    /// invocation ended with [`AfterInvocation::Retry`].
    pub fn retry_invocation(&mut self, attempts: u32, delay: std::time::Duration, now: Timestamp) {
        if self.record.failed_invocations >= attempts {
            self.give_up(self.record.failed_invocations, now);
        } else {
            let millis = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            self.record.retry_at = Some(now.plus_millis(millis));
            self.changes.execution_changed = true;
        }
    }

    /// What the end of invocation `active` means.
    fn ended(
        &mut self,
        active: &ActiveInvocation,
        end: InvocationEnd,
        now: Timestamp,
    ) -> AfterInvocation {
        if self.record.status.is_terminal() {
            self.invocation_completed(active, now, None);
            return AfterInvocation::Finished;
        }
        if active.cut_short {
            // Paused at one of its checkpoints; resuming invokes again.
            self.invocation_completed(active, now, None);
            return AfterInvocation::Sleep;
        }
        let after = self.settle(active, end, now);
        if self.record.status == ExecutionStatus::Pausing && after != AfterInvocation::Finished {
            // It ended before another checkpoint: the pause takes effect now,
            // and resuming invokes again if it would have been invoked.
            self.take_effect(now, after != AfterInvocation::Sleep);
            return AfterInvocation::Sleep;
        }
        after
    }

    /// What the answer `end` of the invocation `active` means.
    fn settle(
        &mut self,
        active: &ActiveInvocation,
        end: InvocationEnd,
        now: Timestamp,
    ) -> AfterInvocation {
        let output = match end {
            InvocationEnd::Faulted(error) => {
                self.invocation_failed(active, now, error);
                return AfterInvocation::Retry;
            }
            InvocationEnd::Answered(bytes) => parse_invocation_output(&bytes),
        };
        match output {
            Ok(Output::Succeeded(result)) => {
                self.invocation_completed(active, now, None);
                self.finish(ExecutionStatus::Succeeded, result, None, now);
                AfterInvocation::Finished
            }
            Ok(Output::Failed(error)) => {
                self.invocation_completed(active, now, None);
                self.finish(ExecutionStatus::Failed, None, Some(error), now);
                AfterInvocation::Finished
            }
            Ok(Output::Pending) => {
                self.invocation_completed(active, now, None);
                // The SDK suspends on a wait or a retry even when the answer to
                // its own checkpoint already shows it over; anything completed
                // since this invocation began, or ready now, needs another.
                let ready = self.has_ready_step();
                if self.has_news() || ready || self.external_seq > self.external_at_begin {
                    AfterInvocation::InvokeNow
                } else if self.has_pending_work() {
                    AfterInvocation::Sleep
                } else {
                    let error = ExecutionError::invalid(
                        "Cannot return PENDING status with no pending operations.",
                    )
                    .error_object();
                    self.invocation_failed(active, now, error);
                    AfterInvocation::Retry
                }
            }
            Err(invalid) => {
                // An answer that is not a durable envelope is final, as on Lambda.
                self.invocation_completed(active, now, Some(invalid.clone()));
                self.finish(ExecutionStatus::Failed, None, Some(invalid), now);
                AfterInvocation::Finished
            }
        }
    }

    pub(super) fn invocation_completed(
        &mut self,
        active: &ActiveInvocation,
        now: Timestamp,
        error: Option<ErrorObject>,
    ) {
        let details = EventDetails::InvocationCompleted {
            start_timestamp: active.started,
            end_timestamp: now,
            request_id: active.request_id.clone(),
            error: error.map(|error| EventError::of(Some(error))),
        };
        self.execution_event(now, details);
    }

    fn invocation_failed(&mut self, active: &ActiveInvocation, now: Timestamp, error: ErrorObject) {
        self.last_invocation_error = Some(error.clone());
        self.invocation_completed(active, now, Some(error));
    }

    /// Fails the execution after `attempts` invocations failed in a row,
    /// with the last one's error.
    pub fn give_up(&mut self, attempts: u32, now: Timestamp) {
        if self.record.status.is_terminal() {
            return;
        }
        let last = self.last_invocation_error.clone().unwrap_or_default();
        let error = ErrorObject::new(
            last.error_type
                .unwrap_or_else(|| "InvocationFailed".to_owned()),
            format!(
                "{} invocations in a row failed; the last: {}",
                attempts,
                last.error_message.unwrap_or_default()
            ),
        );
        self.finish(ExecutionStatus::Failed, None, Some(error), now);
    }

    /// Fails the execution at once with `error` (its function is gone).
    pub fn fail(&mut self, error: ErrorObject, now: Timestamp) {
        if !self.record.status.is_terminal() {
            self.finish(ExecutionStatus::Failed, None, Some(error), now);
        }
    }
}

/// The durable envelope a function answered with.
enum Output {
    Succeeded(Option<String>),
    Failed(ErrorObject),
    Pending,
}

fn parse_invocation_output(bytes: &[u8]) -> Result<Output, ErrorObject> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Envelope {
        status: Option<String>,
        result: Option<serde_json::Value>,
        error: Option<serde_json::Value>,
    }
    let invalid = |reason: String| {
        ExecutionError::invalid(format!("Invalid invocation output: {reason}")).error_object()
    };
    let envelope: Envelope = serde_json::from_slice(bytes)
        .map_err(|error| invalid(format!("not a durable response envelope ({error})")))?;
    match envelope.status.as_deref() {
        Some("SUCCEEDED") => {
            if envelope.error.is_some() {
                return Err(invalid(
                    "Cannot provide an Error for SUCCEEDED status.".to_owned(),
                ));
            }
            let result = match envelope.result {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(text)) => Some(text),
                Some(other) => Some(other.to_string()),
            };
            Ok(Output::Succeeded(result))
        }
        Some("FAILED") => {
            if envelope.result.is_some() {
                return Err(invalid(
                    "Cannot provide a Result for FAILED status.".to_owned(),
                ));
            }
            let error = match envelope.error {
                None | Some(serde_json::Value::Null) => ErrorObject::default(),
                Some(value) => serde_json::from_value(value)
                    .map_err(|error| invalid(format!("Error is not an error object ({error})")))?,
            };
            Ok(Output::Failed(error))
        }
        Some("PENDING") => Ok(Output::Pending),
        Some(other) => Err(invalid(format!("unknown Status '{other}'"))),
        None => Err(invalid("Status is required".to_owned())),
    }
}
