//! What callers ask of an execution: checkpoints and state pages from its
//! invocations; callbacks, stop, pause and resume from outside. Each is
//! delivered to the execution's actor, loading it when it is at rest.

use std::sync::atomic::Ordering;

use super::Engine;
use super::error::{EngineError, Result};
use super::mailbox::Command;
use crate::error::Error;
use crate::execution::{CallbackOutcome, ExecutionError, PauseRequest, ResumeRequest};
use crate::model::{CheckpointOutput, ErrorObject, OperationUpdate, StatePage, Timestamp};
use crate::store::WriteBatch;

/// A request of an invocation that came after its execution ended is a
/// stale token, which the SDKs handle.
fn stale_if_over(error: EngineError) -> EngineError {
    match error {
        EngineError::Over { arn, status } => {
            ExecutionError::StaleToken(format!("the durable execution {arn} is {status}")).into()
        }
        other => other,
    }
}

impl Engine {
    /// Applies a checkpoint of the execution `arn`.
    ///
    /// # Errors
    ///
    /// `Execution` for a stale token or an invalid update.
    pub async fn checkpoint(
        &self,
        arn: &str,
        token: String,
        client_token: Option<String>,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointOutput> {
        let output = self
            .ask(arn, |reply| Command::Checkpoint {
                token,
                client_token,
                updates,
                reply,
            })
            .await
            .map_err(stale_if_over)?;
        self.shared
            .counters
            .checkpoints
            .fetch_add(1, Ordering::Relaxed);
        Ok(output)
    }

    /// One page of the execution's state, for the invocation holding `token`.
    ///
    /// # Errors
    ///
    /// `Execution` for a stale token or a bad marker.
    pub async fn state(
        &self,
        arn: &str,
        token: String,
        marker: Option<String>,
        max_items: Option<usize>,
    ) -> Result<StatePage> {
        let page = self
            .ask(arn, |reply| Command::State {
                token,
                marker,
                max_items,
                reply,
            })
            .await
            .map_err(stale_if_over)?;
        self.shared
            .counters
            .state_reads
            .fetch_add(1, Ordering::Relaxed);
        Ok(page)
    }

    /// Stops the execution `arn`. Stopping one that is over changes nothing.
    ///
    /// # Errors
    ///
    /// `ExecutionNotFound` for an unknown execution.
    pub async fn stop(&self, arn: &str, error: Option<ErrorObject>) -> Result<Timestamp> {
        match self.ask(arn, |reply| Command::Stop { error, reply }).await {
            Err(EngineError::Over { .. }) => {
                let record = self.execution(arn).await?;
                Ok(record.end.unwrap_or_else(|| self.now()))
            }
            other => other,
        }
    }

    /// Pauses the execution `arn`: no invocation starts until it is resumed.
    /// An invocation under way runs to its next checkpoint (`PAUSING`), then
    /// the execution is `PAUSED`.
    ///
    /// # Errors
    ///
    /// `Execution` (a conflict) when it is not running.
    pub async fn pause(&self, arn: &str, request: PauseRequest) -> Result<()> {
        self.ask(arn, |reply| Command::Pause { request, reply })
            .await
    }

    /// Resumes the paused execution `arn`, invoking its function if the pause
    /// cut an invocation short or something it waits for arrived meanwhile;
    /// cancels a pause not yet in effect.
    ///
    /// # Errors
    ///
    /// `Execution` (a conflict) when it is neither paused nor pausing.
    pub async fn resume(&self, arn: &str, request: ResumeRequest) -> Result<()> {
        self.ask(arn, |reply| Command::Resume { request, reply })
            .await
    }

    /// Deletes the execution `arn` and its history.
    ///
    /// # Errors
    ///
    /// `Refused` (a conflict) while it is still running.
    pub async fn delete(&self, arn: &str) -> Result<Timestamp> {
        let record = self.execution(arn).await?;
        if !record.status.is_terminal() {
            return Err(Error::ResourceConflict(format!(
                "Cannot delete a durable execution that is {}; stop it first.",
                record.status
            ))
            .into());
        }
        self.shared
            .store
            .write(WriteBatch {
                deleted: vec![arn.to_owned()],
                ..WriteBatch::default()
            })
            .await?;
        Ok(self.now())
    }

    async fn callback(&self, callback_id: &str, outcome: Option<CallbackOutcome>) -> Result<()> {
        if callback_id.is_empty() {
            return Err(Error::invalid("CallbackId is required.").into());
        }
        // The store's callback index: an open callback's execution and
        // operation.
        let callback = self
            .shared
            .store
            .callback(callback_id)
            .await?
            .ok_or(ExecutionError::CallbackClosed)?;
        self.ask(&callback.arn, |reply| Command::Callback {
            operation_id: callback.operation_id,
            outcome,
            reply,
        })
        .await
        .map_err(|error| match error {
            EngineError::Over { .. } | EngineError::ExecutionNotFound(_) => {
                ExecutionError::CallbackClosed.into()
            }
            other => other,
        })
    }

    /// Completes the callback `callback_id` with `result` (JSON text).
    ///
    /// # Errors
    ///
    /// `Execution` (`CallbackClosed`) when it is unknown, timed out or
    /// already closed.
    pub async fn callback_succeed(&self, callback_id: &str, result: Option<String>) -> Result<()> {
        self.callback(callback_id, Some(CallbackOutcome::Succeeded(result)))
            .await
    }

    /// Fails the callback `callback_id` with `error`.
    ///
    /// # Errors
    ///
    /// `Execution` (`CallbackClosed`) when it is unknown, timed out or
    /// already closed.
    pub async fn callback_fail(&self, callback_id: &str, error: ErrorObject) -> Result<()> {
        self.callback(callback_id, Some(CallbackOutcome::Failed(error)))
            .await
    }

    /// Records a heartbeat of the callback `callback_id`.
    ///
    /// # Errors
    ///
    /// `Execution` (`CallbackClosed`) when it is unknown, timed out or
    /// already closed.
    pub async fn callback_heartbeat(&self, callback_id: &str) -> Result<()> {
        self.callback(callback_id, None).await
    }
}
