//! Starting an execution: the checks, the name that makes a start
//! idempotent, the first commit, and the actor.
//!
//! A start runs as one of the engine's tasks, whatever its caller does: a
//! caller that gives up (a cancelled request, a timeout around it) leaves
//! it to finish, so a name claimed is always released and an execution
//! committed is always carried on.

use std::sync::atomic::Ordering;

use super::error::{EngineError, Result};
use super::names::{Claim, Claimed};
use super::{Engine, Progress};
use crate::arn;
use crate::error::Error;
use crate::execution::{ChainedOutcome, ExecutionRecord, ExecutionState, ParentLink};
use crate::functions::{DurableConfig, Target};
use crate::limits::{MAX_SYNC_PAYLOAD_BYTES, VALID_NAME, is_valid_name};
use crate::model::ExecutionStatus;
use crate::store::WriteBatch;

/// How to start an execution.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    /// The function: name, ARN, optionally `:qualified`.
    pub function: String,
    /// A separate qualifier (version or alias).
    pub qualifier: Option<String>,
    /// The execution's name; one is made up when absent.
    pub name: Option<String>,
    /// The input, as JSON bytes (empty: `{}`).
    pub input: Vec<u8>,
}

/// An execution that was started, or found already started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Its ARN.
    pub arn: String,
    /// The version it runs.
    pub version: String,
    /// Whether it existed already (the same name and input).
    pub existing: bool,
}

/// Whether `input` is the input `existing` was started with (as JSON).
fn same_input(existing: &[u8], input: &[u8]) -> bool {
    existing == input
        || serde_json::from_slice::<serde_json::Value>(existing).ok()
            == serde_json::from_slice::<serde_json::Value>(input).ok()
}

fn already_started(name: &str, arn: &str) -> Error {
    Error::DurableExecutionAlreadyStarted(format!(
        "A durable execution named {name} already exists with a different input: {arn}"
    ))
}

/// Checks an invocation's payload: at most `limit` bytes (the limit of the
/// invocation type `what` names), and JSON or blank.
///
/// # Errors
///
/// `RequestTooLarge` past `limit`; `InvalidRequestContent` for anything but
/// JSON.
pub(crate) fn check_payload(payload: &[u8], limit: usize, what: &str) -> crate::Result<()> {
    if payload.len() > limit {
        return Err(Error::payload_too_large(limit, what));
    }
    let blank = payload.iter().all(u8::is_ascii_whitespace);
    if !blank && serde_json::from_slice::<serde::de::IgnoredAny>(payload).is_err() {
        return Err(Error::payload_not_json());
    }
    Ok(())
}

/// The execution input as JSON text: `{}` for an empty one.
///
/// # Errors
///
/// As [`check_payload`], at [`MAX_SYNC_PAYLOAD_BYTES`].
pub(crate) fn input_text(input: Vec<u8>) -> crate::Result<String> {
    check_payload(
        &input,
        MAX_SYNC_PAYLOAD_BYTES,
        "for the RequestResponse invocation type",
    )?;
    if input.iter().all(u8::is_ascii_whitespace) {
        return Ok("{}".to_owned());
    }
    String::from_utf8(input).map_err(|_| Error::payload_not_json())
}

impl Engine {
    /// Starts an execution of a durable function, or finds the one already
    /// started under the same name with the same input.
    ///
    /// A caller is told of an execution only once it is committed;
    /// concurrent starts with one name all get that execution.
    ///
    /// # Errors
    ///
    /// `Refused` for an unknown or plain function, an unqualified durable
    /// function, a bad name, a name used with another input, an input that
    /// is too large or not JSON; `ShuttingDown`; `Store` when the store
    /// refuses the execution.
    pub async fn start(&self, request: StartRequest) -> Result<Started> {
        let target = self.resolve(&request.function, request.qualifier.as_deref())?;
        self.start_target(&target, request.name, request.input, None)
            .await
    }

    /// Starts the child execution of a chained invoke under the ARN its
    /// parent's history already gives it; finds it when it exists, with
    /// its outcome when it is over.
    ///
    /// # Errors
    ///
    /// As [`Engine::start`], and `Refused` for an ARN that is not an
    /// execution's.
    pub(super) async fn start_child(
        &self,
        target: &Target,
        input: Vec<u8>,
        parent: ParentLink,
        execution_arn: &str,
    ) -> Result<Option<ChainedOutcome>> {
        let config = target.function.config();
        let durable = config
            .durable
            .ok_or_else(|| Error::not_durable(&config.name))?;
        let identity = execution_arn
            .rsplit_once("/durable-execution/")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map(|(name, id)| (name.to_owned(), id.to_owned()))
            .ok_or_else(|| {
                Error::invalid(format!("{execution_arn} is not a durable execution's ARN"))
            })?;
        if let Some(existing) = self.shared.store.execution(execution_arn).await? {
            // Started before a restart: it reports its own end, or has.
            return Ok(existing
                .status
                .is_terminal()
                .then(|| existing.chained_outcome()));
        }
        if self.is_stopping() {
            return Err(EngineError::ShuttingDown);
        }
        let input_text = input_text(input)?;
        let engine = self.clone();
        let target = target.clone();
        self.spawn(async move {
            engine
                .commit_start(&target, identity, input_text, durable, Some(parent))
                .await
        })
        .await
        .map_err(|_| EngineError::TaskGone)??;
        Ok(None)
    }

    pub(super) async fn start_target(
        &self,
        target: &Target,
        name: Option<String>,
        input: Vec<u8>,
        parent: Option<ParentLink>,
    ) -> Result<Started> {
        let config = target.function.config();
        let durable = config
            .durable
            .ok_or_else(|| Error::not_durable(&config.name))?;
        if !target.qualified {
            return Err(Error::unqualified_durable().into());
        }
        if self.is_stopping() {
            return Err(EngineError::ShuttingDown);
        }
        let input_text = input_text(input)?;
        if let Some(name) = &name
            && !is_valid_name(name)
        {
            return Err(Error::invalid(format!(
                "Invalid DurableExecutionName '{name}': {VALID_NAME}."
            ))
            .into());
        }
        let engine = self.clone();
        let target = target.clone();
        // An engine task: cancelling the caller cancels nothing of it.
        self.spawn(async move {
            if let Some(name) = name {
                engine
                    .start_named(&target, name, input_text, durable, parent)
                    .await
            } else {
                let identity = (arn::new_execution_id(), arn::new_execution_id());
                engine
                    .commit_start(&target, identity, input_text, durable, parent)
                    .await
            }
        })
        .await
        .map_err(|_| EngineError::TaskGone)?
    }

    /// Starts the execution `name`: claims the name, returns the stored
    /// execution of that name, or commits a new one.
    async fn start_named(
        &self,
        target: &Target,
        name: String,
        input_text: String,
        durable: DurableConfig,
        parent: Option<ParentLink>,
    ) -> Result<Started> {
        let function = target.function.config().name.clone();
        let key = (function.clone(), name.clone());
        loop {
            let guard = match self.shared.names.claim(key.clone()) {
                Claim::Ours(guard) => guard,
                Claim::Taken(mut claimed) => {
                    // Wait for that start, then look again: the store knows
                    // the name once it committed.
                    let _ = claimed
                        .wait_for(|claimed| *claimed != Claimed::Pending)
                        .await;
                    continue;
                }
            };
            if let Some(existing) = self
                .shared
                .store
                .execution_by_name(&function, &name)
                .await?
            {
                if !same_input(existing.input.as_bytes(), input_text.as_bytes()) {
                    return Err(already_started(&name, &existing.arn).into());
                }
                return Ok(Started {
                    arn: existing.arn,
                    version: existing.version,
                    existing: true,
                });
            }
            let started = self
                .commit_start(
                    target,
                    (name, arn::new_execution_id()),
                    input_text,
                    durable,
                    parent,
                )
                .await?;
            guard.committed(&started.arn);
            return Ok(started);
        }
    }

    /// Commits a new execution, its first invocation owed, and makes it
    /// resident (or leaves it at rest, due at once, when too many are).
    async fn commit_start(
        &self,
        target: &Target,
        (name, execution_id): (String, String),
        input_text: String,
        durable: DurableConfig,
        parent: Option<ParentLink>,
    ) -> Result<Started> {
        let config = target.function.config();
        // The EXECUTION operation's id is the ARN's last segment, as on AWS
        // (the Python SDK finds the input by it).
        let function_arn = self.function_arn(&config.name, Some(&target.version));
        let execution_arn = arn::execution_arn(&function_arn, &name, &execution_id);
        let record = ExecutionRecord {
            arn: execution_arn.clone(),
            function_name: config.name.clone(),
            function_arn,
            version: target.version.clone(),
            name,
            status: ExecutionStatus::Running,
            input: input_text,
            result: None,
            error: None,
            start: self.now(),
            end: None,
            timeout_seconds: durable.execution_timeout,
            retention_days: durable.retention_days,
            parent,
            invocations: 0,
            pause: None,
            paused_millis: 0,
            control_tokens: Vec::new(),
            owed_since: None,
            invoking_since: None,
            failed_invocations: 0,
            retry_at: None,
            due: None,
        };
        let mut state = ExecutionState::start(record, execution_id, self.shared.options.time_scale);
        let (changes, positions) = state.take_changes();
        let batch = WriteBatch::of_changes(state.record(), changes, positions, Vec::new());
        self.shared.store.write(batch).await?;
        self.shared
            .counters
            .executions
            .fetch_add(1, Ordering::Relaxed);
        self.publish(Progress::Started {
            arn: execution_arn.clone(),
            function_name: config.name.clone(),
        });
        self.spawn_started(state);
        Ok(Started {
            arn: execution_arn,
            version: target.version.clone(),
            existing: false,
        })
    }
}
