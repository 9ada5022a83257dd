//! Starting an execution: the checks, the name that makes a start
//! idempotent, the first commit, and the actor.

use std::sync::atomic::Ordering;

use tokio::sync::watch;

use super::{Engine, Progress, lock};
use crate::arn;
use crate::error::{Error, Result};
use crate::execution::{ExecutionRecord, ExecutionState, ParentLink};
use crate::functions::Target;
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

/// A named execution being started or running: later starts with its name
/// wait for its first commit, then return it.
#[derive(Debug, Clone)]
pub(super) struct Named {
    version: String,
    input: Vec<u8>,
    committed: watch::Receiver<Claimed>,
}

/// Where the start that claimed a name stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Claimed {
    /// Its first commit is under way.
    Pending,
    /// It committed the execution with this ARN, and its actor runs.
    Committed(String),
    /// It gave the name up (it failed, or found the name stored).
    Released,
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
pub(crate) fn check_payload(payload: &[u8], limit: usize, what: &str) -> Result<()> {
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
pub(crate) fn input_text(input: Vec<u8>) -> Result<String> {
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

/// What a start found under its name.
enum Claim {
    /// The name is ours; this tells the others how the start went.
    Ours(watch::Sender<Claimed>),
    /// Another start holds it.
    Taken(Named),
}

impl Engine {
    /// Starts an execution of a durable function, or finds the one already
    /// started under the same name with the same input.
    ///
    /// A caller is told of an execution only once it is committed and its
    /// task runs; concurrent starts with one name all get that execution.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown function; `InvalidParameterValue`
    /// for a plain function, an unqualified durable function or a bad name;
    /// `DurableExecutionAlreadyStarted` for a name already used with
    /// another input; `RequestTooLarge` or `InvalidRequestContent` for an
    /// input that is too large or not JSON.
    pub async fn start(&self, request: StartRequest) -> Result<Started> {
        let target = self.resolve(&request.function, request.qualifier.as_deref())?;
        self.start_target(&target, request.name, request.input, None)
            .await
    }

    /// Starts the child execution of a chained invoke under the ARN its
    /// parent's history already gives it.
    ///
    /// # Errors
    ///
    /// As [`Engine::start_target`], and `InvalidParameterValue` for an ARN
    /// that is not an execution's.
    pub(super) async fn start_child(
        &self,
        target: &Target,
        input: Vec<u8>,
        parent: ParentLink,
        execution_arn: &str,
    ) -> Result<Started> {
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
        if self.is_stopping() {
            return Err(Error::shutting_down());
        }
        let input_text = input_text(input)?;
        self.commit_start(target, identity, input_text, durable, Some(parent), |_| {})
            .await
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
            return Err(Error::unqualified_durable());
        }
        if self.is_stopping() {
            return Err(Error::shutting_down());
        }
        let input_text = input_text(input)?;
        let Some(name) = name else {
            let name = uuid::Uuid::new_v4().to_string();
            let id = uuid::Uuid::new_v4().to_string();
            return self
                .commit_start(target, (name, id), input_text, durable, parent, |_| {})
                .await;
        };
        if !is_valid_name(&name) {
            return Err(Error::invalid(format!(
                "Invalid DurableExecutionName '{name}': {VALID_NAME}."
            )));
        }
        let key = (config.name.clone(), name.clone());
        loop {
            let claim = {
                let mut names = lock(&self.shared.names);
                if let Some(named) = names.get(&key) {
                    Claim::Taken(named.clone())
                } else {
                    let (sender, committed) = watch::channel(Claimed::Pending);
                    names.insert(
                        key.clone(),
                        Named {
                            version: target.version.clone(),
                            input: input_text.clone().into_bytes(),
                            committed,
                        },
                    );
                    Claim::Ours(sender)
                }
            };
            let mut named = match claim {
                Claim::Ours(committed) => {
                    return self
                        .start_named(target, &key, input_text, durable, parent, committed)
                        .await;
                }
                Claim::Taken(named) => named,
            };
            let outcome = named
                .committed
                .wait_for(|claimed| *claimed != Claimed::Pending)
                .await
                .map_or(Claimed::Released, |claimed| claimed.clone());
            if let Claimed::Committed(arn) = outcome {
                if !same_input(&named.input, input_text.as_bytes()) {
                    return Err(already_started(&name, &arn));
                }
                return Ok(Started {
                    arn,
                    version: named.version,
                    existing: true,
                });
            }
            // That start did not commit (or found one stored): look again.
            tokio::task::yield_now().await;
        }
    }

    /// Starts the execution `key` whose name this call claimed: returns the
    /// stored one of that name, or commits a new one; then tells the starts
    /// waiting on the name.
    async fn start_named(
        &self,
        target: &Target,
        key: &(String, String),
        input_text: String,
        durable: crate::functions::DurableConfig,
        parent: Option<ParentLink>,
        committed: watch::Sender<Claimed>,
    ) -> Result<Started> {
        let (function, name) = key;
        let stored = match self.shared.store.execution_by_name(function, name).await {
            Ok(stored) => stored,
            Err(error) => {
                self.release_name(key, &committed);
                return Err(error);
            }
        };
        if let Some(existing) = stored {
            // Ended and forgotten, or not yet recovered: the store answers.
            self.release_name(key, &committed);
            if !same_input(existing.input.as_bytes(), input_text.as_bytes()) {
                return Err(already_started(name, &existing.arn));
            }
            return Ok(Started {
                arn: existing.arn,
                version: existing.version,
                existing: true,
            });
        }
        let announce = |arn: &str| {
            committed.send_replace(Claimed::Committed(arn.to_owned()));
        };
        match self
            .commit_start(
                target,
                (name.clone(), uuid::Uuid::new_v4().to_string()),
                input_text,
                durable,
                parent,
                announce,
            )
            .await
        {
            Ok(started) => Ok(started),
            Err(error) => {
                self.release_name(key, &committed);
                Err(error)
            }
        }
    }

    /// Gives up the claim on `key`, telling those waiting on it.
    fn release_name(&self, key: &(String, String), committed: &watch::Sender<Claimed>) {
        lock(&self.shared.names).remove(key);
        committed.send_replace(Claimed::Released);
    }

    /// Commits a new execution, calls `committed` with its ARN, and starts
    /// its actor.
    async fn commit_start(
        &self,
        target: &Target,
        (name, execution_id): (String, String),
        input_text: String,
        durable: crate::functions::DurableConfig,
        parent: Option<ParentLink>,
        committed: impl FnOnce(&str),
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
        let actor = self.prepare_actor(state, true);
        committed(&execution_arn);
        self.run_actor(actor);
        Ok(Started {
            arn: execution_arn,
            version: target.version.clone(),
            existing: false,
        })
    }

    /// Records the name of the running execution `record`, so that a start
    /// under it returns it.
    pub(super) fn remember_name(&self, record: &ExecutionRecord) {
        let (sender, committed) = watch::channel(Claimed::Committed(record.arn.clone()));
        drop(sender);
        lock(&self.shared.names).insert(
            (record.function_name.clone(), record.name.clone()),
            Named {
                version: record.version.clone(),
                input: record.input.clone().into_bytes(),
                committed,
            },
        );
    }

    /// Forgets the name of an execution that ended.
    pub(super) fn forget_name(&self, function: &str, name: &str) {
        let mut names = lock(&self.shared.names);
        let key = (function.to_owned(), name.to_owned());
        if names
            .get(&key)
            .is_some_and(|named| matches!(*named.committed.borrow(), Claimed::Committed(_)))
        {
            names.remove(&key);
        }
    }
}
