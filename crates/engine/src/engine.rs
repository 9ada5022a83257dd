//! The runtime: one task per running execution, driving its invocations.
//!
//! [`Engine`] is a cheap-to-clone handle. Each running execution is owned by
//! an actor task holding its [`ExecutionState`]; every request about that
//! execution (checkpoint, state page, callback, stop) is a message to the
//! actor, so changes to one execution are serialized without locks, and
//! different executions proceed in parallel. The actor writes each change to
//! the [`Store`] (which commits concurrent writes together) before it
//! answers, then invokes the function again as soon as something it waits
//! for is ready: a wait's end, a retry, a callback, a chained invoke. It
//! sleeps until the next deadline instead of polling.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::execution::{
    AfterInvocation, CallbackOutcome, ChainedInvokeRequest, ChainedOutcome, CheckpointOutput,
    ExecutionRecord, ExecutionState, InvocationEnd, ParentLink, PauseRequest, ResumeRequest,
    StatePage,
};
use crate::functions::{Function, FunctionFault, Invocation, Registry, Target};
use crate::model::{
    ErrorObject, Event, EventDetails, ExecutionStatus, OperationStatus, OperationType,
    OperationUpdate, Timestamp,
};
use crate::store::{InvocationRecord, ListFilter, Store, StoredExecution, WriteBatch};

/// How the engine runs.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// The region in ARNs.
    pub region: String,
    /// The account in ARNs.
    pub account: String,
    /// Multiplies every durable wait and retry delay, and the backoff
    /// between failed invocations: `1.0` is real time, `0.01` makes a
    /// one-second wait take 10 ms. For tests and benchmarks.
    pub time_scale: f64,
    /// Failed invocations in a row before the execution fails.
    pub invocation_attempts: u32,
    /// The delay after the first failed invocation; it doubles each time.
    pub invocation_retry_delay: Duration,
    /// The most operations the invocation envelope carries; the function
    /// fetches the rest with `GetDurableExecutionState`.
    pub envelope_page_items: usize,
    /// The most invocations of durable functions running at once; more wait
    /// their turn (their timeout starts when they run). Lambda's default
    /// concurrency is 1,000 per account and region.
    pub max_concurrent_invocations: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            region: "us-east-1".to_owned(),
            account: "000000000000".to_owned(),
            time_scale: 1.0,
            invocation_attempts: 5,
            invocation_retry_delay: Duration::from_secs(1),
            envelope_page_items: 1000,
            max_concurrent_invocations: 1000,
        }
    }
}

/// Something that happened to an execution, for watchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// An operation changed.
    Operation {
        /// The execution.
        arn: String,
        /// The operation's name (or id when unnamed).
        name: String,
        /// Its type.
        kind: OperationType,
        /// Its status now.
        status: OperationStatus,
        /// Whether it sits inside a context.
        nested: bool,
        /// When it began.
        started: Timestamp,
        /// When it ended.
        ended: Option<Timestamp>,
    },
    /// An invocation began.
    Invoked {
        /// The execution.
        arn: String,
        /// Its number within the execution, from 1.
        number: u64,
    },
    /// The execution ended.
    Finished {
        /// The execution.
        arn: String,
        /// How.
        status: ExecutionStatus,
    },
}

/// Counters of the engine's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Executions started.
    pub executions: u64,
    /// Invocations of durable functions.
    pub invocations: u64,
    /// Checkpoint calls accepted.
    pub checkpoints: u64,
    /// State pages served.
    pub state_reads: u64,
    /// Invocations of plain functions.
    pub plain_invocations: u64,
    /// Store batches written.
    pub store_batches: u64,
    /// Store transactions committed.
    pub store_commits: u64,
}

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

/// A page of executions.
#[derive(Debug, Clone)]
pub struct ExecutionPage {
    /// The executions.
    pub executions: Vec<ExecutionRecord>,
    /// Where the next page starts.
    pub next_marker: Option<String>,
}

/// A page of history.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// The events.
    pub events: Vec<Event>,
    /// Where the next page starts.
    pub next_marker: Option<String>,
}

/// The local durable-execution service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

/// A reference to an engine that does not keep it alive: what the engine's
/// own functions hold (through their Lambda client), so that the engine and
/// its store are released when its last owner lets go.
#[derive(Debug, Clone)]
pub struct WeakEngine {
    shared: std::sync::Weak<Shared>,
}

impl WeakEngine {
    /// The engine, if it is still alive.
    #[must_use]
    pub fn upgrade(&self) -> Option<Engine> {
        self.shared.upgrade().map(|shared| Engine { shared })
    }
}

struct Shared {
    options: EngineOptions,
    store: Arc<dyn Store>,
    registry: RwLock<Registry>,
    running: Mutex<HashMap<String, Running>>,
    names: Mutex<HashMap<(String, String), NamedExecution>>,
    callbacks: Mutex<HashMap<String, (String, String)>>,
    counters: Counters,
    progress: broadcast::Sender<Progress>,
    /// Invocation ids, unique across executions and restarts of an actor.
    next_invocation: AtomicU64,
    /// Turns to run a durable invocation.
    invocation_permits: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// An execution's ARN and input, by function and execution name.
type NamedExecution = (String, Vec<u8>);

#[derive(Default)]
struct Counters {
    executions: AtomicU64,
    invocations: AtomicU64,
    checkpoints: AtomicU64,
    state_reads: AtomicU64,
    plain_invocations: AtomicU64,
}

#[derive(Clone)]
struct Running {
    commands: mpsc::UnboundedSender<Command>,
    finished: watch::Receiver<Option<ExecutionRecord>>,
}

type Reply<T> = oneshot::Sender<Result<T>>;

enum Command {
    Checkpoint {
        token: String,
        client_token: Option<String>,
        updates: Vec<OperationUpdate>,
        reply: Reply<CheckpointOutput>,
    },
    State {
        token: String,
        marker: Option<String>,
        max_items: Option<usize>,
        reply: Reply<StatePage>,
    },
    Callback {
        operation_id: String,
        outcome: Option<CallbackOutcome>,
        reply: Reply<()>,
    },
    ChainedDone {
        operation_id: String,
        outcome: ChainedOutcome,
    },
    InvocationDone {
        id: u64,
        end: InvocationEnd,
    },
    Stop {
        error: Option<ErrorObject>,
        reply: Reply<Timestamp>,
    },
    Pause {
        request: PauseRequest,
        reply: Reply<()>,
    },
    Resume {
        request: ResumeRequest,
        reply: Reply<()>,
    },
}

fn gone() -> Error {
    Error::Service("the execution's task has stopped; retry the request".to_owned())
}

fn not_found(arn: &str) -> Error {
    Error::not_found(format!("Durable execution not found: {arn}"))
}

impl Engine {
    /// An engine over `store`, with no functions yet.
    #[must_use]
    pub fn new(options: EngineOptions, store: Arc<dyn Store>) -> Self {
        let (progress, _) = broadcast::channel(4096);
        let invocation_permits = Arc::new(tokio::sync::Semaphore::new(
            options.max_concurrent_invocations.max(1),
        ));
        Self {
            shared: Arc::new(Shared {
                options,
                store,
                registry: RwLock::new(Registry::default()),
                running: Mutex::new(HashMap::new()),
                names: Mutex::new(HashMap::new()),
                callbacks: Mutex::new(HashMap::new()),
                counters: Counters::default(),
                progress,
                next_invocation: AtomicU64::new(1),
                invocation_permits,
            }),
        }
    }

    /// A reference that does not keep the engine alive.
    #[must_use]
    pub fn downgrade(&self) -> WeakEngine {
        WeakEngine {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// The engine's options.
    #[must_use]
    pub fn options(&self) -> &EngineOptions {
        &self.shared.options
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// Registers `function` (replacing one of the same name).
    pub fn register(&self, function: Function) {
        self.shared
            .registry
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .register(function);
    }

    /// The registered functions.
    #[must_use]
    pub fn functions(&self) -> Vec<Function> {
        self.registry().functions().cloned().collect()
    }

    fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.shared
            .registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Resolves a function name (and qualifier).
    ///
    /// # Errors
    ///
    /// As [`Registry::resolve`].
    pub fn resolve(&self, function: &str, qualifier: Option<&str>) -> Result<Target> {
        self.registry().resolve(function, qualifier)
    }

    /// Watches what happens to executions.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Progress> {
        self.shared.progress.subscribe()
    }

    /// Counters of the engine's work so far.
    #[must_use]
    pub fn stats(&self) -> EngineStats {
        let counters = &self.shared.counters;
        let store = self.shared.store.stats();
        EngineStats {
            executions: counters.executions.load(Ordering::Relaxed),
            invocations: counters.invocations.load(Ordering::Relaxed),
            checkpoints: counters.checkpoints.load(Ordering::Relaxed),
            state_reads: counters.state_reads.load(Ordering::Relaxed),
            plain_invocations: counters.plain_invocations.load(Ordering::Relaxed),
            store_batches: store.batches,
            store_commits: store.commits,
        }
    }

    /// The ARN of `function` at `version`.
    #[must_use]
    pub fn function_arn(&self, function: &str, version: Option<&str>) -> String {
        let options = &self.shared.options;
        let base = format!(
            "arn:aws:lambda:{}:{}:function:{function}",
            options.region, options.account
        );
        version.map_or(base.clone(), |version| format!("{base}:{version}"))
    }

    /// Carries on with every execution the store holds as running: after a
    /// restart, each is invoked again and replays from its checkpoints.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn recover(&self) -> Result<usize> {
        let running = self.shared.store.running().await?;
        let count = running.len();
        let mut waiting = Vec::new();
        for stored in running {
            let chained: Vec<String> = stored
                .operations
                .iter()
                .filter(|op| {
                    op.kind == OperationType::ChainedInvoke && op.status == OperationStatus::Started
                })
                .map(|op| op.id.clone())
                .collect();
            if !chained.is_empty() {
                waiting.push((stored.record.arn.clone(), chained));
            }
            self.spawn_restored(stored);
        }
        for (arn, operations) in waiting {
            self.resume_chained(&arn, operations).await?;
        }
        Ok(count)
    }

    /// After a restart, reconnects `arn`'s chained invokes still under way
    /// with their calls: a child that ended reports its end, one still
    /// running reports when it ends, and a call that never started (the
    /// engine died first) starts now.
    async fn resume_chained(&self, arn: &str, operations: Vec<String>) -> Result<()> {
        let children = self.shared.store.children(arn).await?;
        let mut events: Option<Vec<Event>> = None;
        for operation_id in operations {
            let child = children.iter().find(|child| {
                child
                    .parent
                    .as_ref()
                    .is_some_and(|parent| parent.operation_id == operation_id)
            });
            match child {
                Some(child) if child.status.is_terminal() => {
                    self.chained_done(arn, operation_id, chained_outcome(child));
                }
                Some(_) => {}
                None => {
                    if events.is_none() {
                        events = Some(
                            self.shared
                                .store
                                .events(arn, 1, usize::MAX >> 1, false)
                                .await?,
                        );
                    }
                    let started = events
                        .iter()
                        .flatten()
                        .find_map(|event| match &event.details {
                            EventDetails::ChainedInvokeStarted {
                                function_name,
                                input,
                                ..
                            } if event.id == operation_id => Some((
                                function_name.clone(),
                                input.as_ref().and_then(|input| input.payload.clone()),
                            )),
                            _ => None,
                        });
                    if let Some((function_name, payload)) = started {
                        let request = ChainedInvokeRequest {
                            operation_id,
                            function_name,
                            payload: payload.unwrap_or_else(|| "{}".to_owned()),
                        };
                        self.dispatch_chained(arn, request);
                    }
                }
            }
        }
        Ok(())
    }

    /// Deletes the executions whose retention period has passed since they
    /// ended, with their history. Returns how many.
    ///
    /// # Errors
    ///
    /// When the store cannot be read or written.
    pub async fn purge_expired(&self) -> Result<usize> {
        let now = Timestamp::now();
        let mut expired = Vec::new();
        let mut offset = 0;
        loop {
            let page = self
                .shared
                .store
                .list(ListFilter {
                    statuses: vec![
                        ExecutionStatus::Succeeded,
                        ExecutionStatus::Failed,
                        ExecutionStatus::TimedOut,
                        ExecutionStatus::Stopped,
                    ],
                    started_before: Some(now.plus_millis(-86_400_000)),
                    oldest_first: true,
                    offset,
                    limit: 1000,
                    ..ListFilter::default()
                })
                .await?;
            if page.is_empty() {
                break;
            }
            offset += page.len();
            expired.extend(
                page.into_iter()
                    .filter(|record| {
                        record.end.is_some_and(|end| {
                            end.plus_millis(record.retention_days.saturating_mul(86_400_000)) < now
                        })
                    })
                    .map(|record| record.arn),
            );
        }
        let count = expired.len();
        for chunk in expired.chunks(500) {
            self.shared
                .store
                .write(WriteBatch {
                    deleted: chunk.to_vec(),
                    ..WriteBatch::default()
                })
                .await?;
        }
        Ok(count)
    }

    fn spawn_restored(&self, stored: StoredExecution) {
        let arn = stored.record.arn.clone();
        if self.running_handle(&arn).is_some() {
            return;
        }
        {
            let mut callbacks = self
                .shared
                .callbacks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for callback in &stored.callbacks {
                callbacks.insert(
                    callback.callback_id.clone(),
                    (arn.clone(), callback.operation_id.clone()),
                );
            }
        }
        {
            let mut names = self
                .shared
                .names
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            names.insert(
                (
                    stored.record.function_name.clone(),
                    stored.record.name.clone(),
                ),
                (arn.clone(), stored.record.input.clone().into_bytes()),
            );
        }
        let state = ExecutionState::restore(
            stored.record,
            stored.operations,
            stored.callbacks,
            stored.next_event_id,
            self.shared.options.time_scale,
        );
        self.spawn_actor(state, true);
    }

    // ---------------------------------------------------------------- starting

    /// Starts an execution of a durable function, or finds the one already
    /// started under the same name with the same input.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown function; `InvalidParameterValue`
    /// for a plain function, an unqualified durable function or a bad name;
    /// `DurableExecutionAlreadyStarted` for a name already used with
    /// another input.
    pub async fn start(&self, request: StartRequest) -> Result<Started> {
        let target = self.resolve(&request.function, request.qualifier.as_deref())?;
        self.start_target(&target, request.name, request.input, None)
            .await
    }

    async fn start_target(
        &self,
        target: &Target,
        name: Option<String>,
        input: Vec<u8>,
        parent: Option<ParentLink>,
    ) -> Result<Started> {
        let config = target.function.config();
        let durable = config.durable.ok_or_else(|| {
            Error::invalid(format!(
                "Function {} is not a durable function.",
                config.name
            ))
        })?;
        if !target.qualified {
            return Err(Error::invalid(
                "You cannot invoke a durable function using an unqualified ARN.",
            ));
        }
        let input = if input.iter().all(u8::is_ascii_whitespace) {
            b"{}".to_vec()
        } else {
            input
        };
        let input_text = String::from_utf8(input.clone())
            .ok()
            .filter(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
            .ok_or_else(|| {
                Error::invalid(
                    "Could not parse request body into json: the payload is not valid JSON.",
                )
            })?;
        let name = match name {
            Some(name) => {
                let valid = (1..=64).contains(&name.len())
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                if !valid {
                    return Err(Error::invalid(format!(
                        "Invalid DurableExecutionName '{name}': 1 to 64 characters of [a-zA-Z0-9-_]."
                    )));
                }
                if let Some(existing) = self
                    .shared
                    .store
                    .execution_by_name(&config.name, &name)
                    .await?
                {
                    return same_input(
                        existing.arn,
                        existing.version,
                        existing.input.as_bytes(),
                        &input,
                        &name,
                    );
                }
                name
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        // The EXECUTION operation's id is the ARN's last segment, as on AWS
        // (the Python SDK finds the input by it).
        let execution_id = uuid::Uuid::new_v4().to_string();
        let arn = format!(
            "{}/durable-execution/{name}/{execution_id}",
            self.function_arn(&config.name, Some(&target.version))
        );
        {
            let mut names = self
                .shared
                .names
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let key = (config.name.clone(), name.clone());
            if let Some((existing, existing_input)) = names.get(&key) {
                return same_input(
                    existing.clone(),
                    target.version.clone(),
                    existing_input,
                    &input,
                    &name,
                );
            }
            names.insert(key, (arn.clone(), input.clone()));
        }
        let record = ExecutionRecord {
            arn: arn.clone(),
            function_name: config.name.clone(),
            function_arn: self.function_arn(&config.name, Some(&target.version)),
            version: target.version.clone(),
            name: name.clone(),
            status: ExecutionStatus::Running,
            input: input_text,
            result: None,
            error: None,
            start: Timestamp::now(),
            end: None,
            timeout_seconds: durable.execution_timeout,
            retention_days: durable.retention_days,
            parent,
            invocations: 0,
            pause: None,
            paused_millis: 0,
        };
        let mut state = ExecutionState::start(record, execution_id, self.shared.options.time_scale);
        let (changes, positions) = state.take_changes();
        let batch = batch_of(
            &state,
            true,
            changes.operations.iter().cloned().zip(positions).collect(),
            changes.events,
            Vec::new(),
        );
        if let Err(error) = self.shared.store.write(batch).await {
            self.forget_name(&config.name, &name);
            return Err(error);
        }
        self.shared
            .counters
            .executions
            .fetch_add(1, Ordering::Relaxed);
        self.spawn_actor(state, true);
        Ok(Started {
            arn,
            version: target.version.clone(),
            existing: false,
        })
    }

    fn forget_name(&self, function: &str, name: &str) {
        self.shared
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(function.to_owned(), name.to_owned()));
    }

    fn spawn_actor(&self, state: ExecutionState, invoke_now: bool) {
        let (commands, receiver) = mpsc::unbounded_channel();
        let (finished_sender, finished) = watch::channel(None);
        let arn = state.record().arn.clone();
        self.shared
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                arn,
                Running {
                    commands: commands.clone(),
                    finished,
                },
            );
        let actor = Actor {
            engine: self.clone(),
            state,
            commands: receiver,
            me: commands,
            finished: finished_sender,
            failures: 0,
            retry_at: None,
            invoke_now,
            outstanding: 0,
            abandoned: false,
        };
        let engine = self.clone();
        let arn = actor.state.record().arn.clone();
        let task = tokio::spawn(actor.run());
        tokio::spawn(async move {
            if let Err(error) = task.await
                && error.is_panic()
            {
                tracing::error!(%arn, "an execution's task panicked; it carries on from the store");
                engine
                    .shared
                    .running
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(&arn);
                tokio::time::sleep(Duration::from_secs(1)).await;
                match engine.shared.store.stored(&arn).await {
                    Ok(Some(stored)) if !stored.record.status.is_terminal() => {
                        engine.spawn_restored(stored)
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::error!(%arn, %error, "the execution could not be read back")
                    }
                }
            }
        });
    }

    fn running_handle(&self, arn: &str) -> Option<Running> {
        self.shared
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(arn)
            .cloned()
    }

    async fn ask<T>(&self, arn: &str, command: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let handle = self.running_handle(arn);
        let Some(handle) = handle else {
            return Err(match self.shared.store.execution(arn).await? {
                Some(record) => ended(&record),
                None => not_found(arn),
            });
        };
        let (reply, answer) = oneshot::channel();
        handle.commands.send(command(reply)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Waits until the execution `arn` is over and returns its record.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown execution.
    pub async fn wait(&self, arn: &str) -> Result<ExecutionRecord> {
        if let Some(mut handle) = self.running_handle(arn) {
            let finished = handle
                .finished
                .wait_for(Option::is_some)
                .await
                .map_err(|_| gone())?
                .clone();
            if let Some(record) = finished {
                return Ok(record);
            }
        }
        self.shared
            .store
            .execution(arn)
            .await?
            .ok_or_else(|| not_found(arn))
    }

    // ---------------------------------------------------------------- checkpoints

    /// Applies a checkpoint of the execution `arn`.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` for a stale token or an invalid update.
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
    /// `InvalidParameterValue` for a stale token or a bad marker.
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

    // ---------------------------------------------------------------- reading

    /// The execution `arn`.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown execution.
    pub async fn execution(&self, arn: &str) -> Result<ExecutionRecord> {
        self.shared
            .store
            .execution(arn)
            .await?
            .ok_or_else(|| not_found(arn))
    }

    /// The history of `arn`, a page at a time.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown execution; `InvalidParameterValue`
    /// for a bad marker.
    pub async fn history(
        &self,
        arn: &str,
        marker: Option<&str>,
        max_items: Option<usize>,
        reverse: bool,
        include_data: bool,
    ) -> Result<HistoryPage> {
        self.execution(arn).await?;
        let limit = page_size(max_items);
        let from = match marker.filter(|marker| !marker.is_empty()) {
            Some(marker) => marker
                .parse::<u64>()
                .map_err(|_| Error::invalid(format!("Invalid marker '{marker}'")))?,
            None if reverse => u64::MAX >> 1,
            None => 1,
        };
        let mut events = self
            .shared
            .store
            .events(arn, from, limit + 1, reverse)
            .await?;
        let next_marker = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|last| {
                if reverse {
                    last.event_id.saturating_sub(1)
                } else {
                    last.event_id + 1
                }
                .to_string()
            })
        } else {
            None
        };
        if !include_data {
            for event in &mut events {
                event.details = event.details.clone().without_data();
            }
        }
        Ok(HistoryPage {
            events,
            next_marker,
        })
    }

    /// The operations of `arn`, in the order they began.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown execution.
    pub async fn operations(&self, arn: &str) -> Result<Vec<crate::model::Operation>> {
        self.execution(arn).await?;
        self.shared.store.operations(arn).await
    }

    /// Executions matching `filter`, a page at a time (`marker`: where the
    /// previous page ended).
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` for a bad marker.
    pub async fn list(
        &self,
        mut filter: ListFilter,
        marker: Option<&str>,
        max_items: Option<usize>,
    ) -> Result<ExecutionPage> {
        let limit = page_size(max_items);
        filter.offset = match marker.filter(|marker| !marker.is_empty()) {
            Some(marker) => marker
                .parse()
                .map_err(|_| Error::invalid(format!("Invalid marker '{marker}'")))?,
            None => 0,
        };
        filter.limit = limit + 1;
        let offset = filter.offset;
        let mut executions = self.shared.store.list(filter).await?;
        let next_marker = (executions.len() > limit).then(|| {
            executions.truncate(limit);
            (offset + limit).to_string()
        });
        Ok(ExecutionPage {
            executions,
            next_marker,
        })
    }

    // ---------------------------------------------------------------- control

    /// Stops the execution `arn`. Stopping one that is over changes nothing.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown execution.
    pub async fn stop(&self, arn: &str, error: Option<ErrorObject>) -> Result<Timestamp> {
        match self.ask(arn, |reply| Command::Stop { error, reply }).await {
            Err(Error::ResourceConflict(_)) => {
                let record = self.execution(arn).await?;
                Ok(record.end.unwrap_or_else(Timestamp::now))
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
    /// `ResourceConflict` when it is not running.
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
    /// `ResourceConflict` when it is neither paused nor pausing.
    pub async fn resume(&self, arn: &str, request: ResumeRequest) -> Result<()> {
        self.ask(arn, |reply| Command::Resume { request, reply })
            .await
    }

    /// Deletes the execution `arn` and its history.
    ///
    /// # Errors
    ///
    /// `ResourceConflict` while it is still running.
    pub async fn delete(&self, arn: &str) -> Result<Timestamp> {
        let record = self.execution(arn).await?;
        if !record.status.is_terminal() {
            return Err(Error::ResourceConflict(format!(
                "Cannot delete a durable execution that is {}; stop it first.",
                record.status
            )));
        }
        self.shared
            .store
            .write(WriteBatch {
                deleted: vec![arn.to_owned()],
                ..WriteBatch::default()
            })
            .await?;
        self.forget_name(&record.function_name, &record.name);
        Ok(Timestamp::now())
    }

    // ---------------------------------------------------------------- callbacks

    async fn callback_target(&self, callback_id: &str) -> Result<(String, String)> {
        if callback_id.is_empty() {
            return Err(Error::invalid("CallbackId is required."));
        }
        let known = self
            .shared
            .callbacks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(callback_id)
            .cloned();
        if let Some(target) = known {
            return Ok(target);
        }
        let stored = self.shared.store.callback(callback_id).await?;
        stored
            .map(|callback| (callback.arn, callback.operation_id))
            .ok_or_else(|| {
                Error::CallbackTimeout(format!(
                    "The callback ID token {callback_id} has either expired or the callback associated with the token has already been closed."
                ))
            })
    }

    async fn callback(&self, callback_id: &str, outcome: Option<CallbackOutcome>) -> Result<()> {
        let (arn, operation_id) = self.callback_target(callback_id).await?;
        self.ask(&arn, |reply| Command::Callback {
            operation_id,
            outcome,
            reply,
        })
        .await
        .map_err(|error| match error {
            Error::ResourceConflict(message) | Error::ResourceNotFound(message) => {
                Error::CallbackTimeout(message)
            }
            other => other,
        })
    }

    /// Completes the callback `callback_id` with `result` (JSON text).
    ///
    /// # Errors
    ///
    /// `CallbackTimeout` when it is unknown, timed out or already closed.
    pub async fn callback_succeed(&self, callback_id: &str, result: Option<String>) -> Result<()> {
        self.callback(callback_id, Some(CallbackOutcome::Succeeded(result)))
            .await
    }

    /// Fails the callback `callback_id` with `error`.
    ///
    /// # Errors
    ///
    /// `CallbackTimeout` when it is unknown, timed out or already closed.
    pub async fn callback_fail(&self, callback_id: &str, error: ErrorObject) -> Result<()> {
        self.callback(callback_id, Some(CallbackOutcome::Failed(error)))
            .await
    }

    /// Records a heartbeat of the callback `callback_id`.
    ///
    /// # Errors
    ///
    /// `CallbackTimeout` when it is unknown, timed out or already closed.
    pub async fn callback_heartbeat(&self, callback_id: &str) -> Result<()> {
        self.callback(callback_id, None).await
    }

    // ---------------------------------------------------------------- plain invocations

    /// Invokes a function synchronously with `payload` and returns its answer.
    /// For a plain function this is one call; the invocation is recorded.
    ///
    /// # Errors
    ///
    /// The function's fault, or a resolution error.
    pub async fn invoke_plain(
        &self,
        target: &Target,
        payload: Vec<u8>,
    ) -> Result<std::result::Result<Vec<u8>, FunctionFault>> {
        let config = target.function.config();
        let request_id = uuid::Uuid::new_v4().to_string();
        let start = Timestamp::now();
        let answer = call(
            &target.function,
            Invocation {
                payload,
                request_id: request_id.clone(),
                function_arn: self.function_arn(&config.name, Some(&target.version)),
                deadline_ms: deadline_ms(start, config.timeout),
            },
        )
        .await;
        self.shared
            .counters
            .plain_invocations
            .fetch_add(1, Ordering::Relaxed);
        let record = InvocationRecord {
            request_id,
            function_name: config.name.clone(),
            execution_arn: None,
            start,
            end: Timestamp::now(),
            error: answer.as_ref().err().map(ToString::to_string),
        };
        // Queued now, committed in order: before any checkpoint its caller
        // makes with the answer. The answer does not wait for the commit.
        let committed = self.shared.store.write(WriteBatch {
            invocations: vec![record],
            ..WriteBatch::default()
        });
        tokio::spawn(async move {
            if let Err(error) = committed.await {
                tracing::warn!(%error, "an invocation could not be recorded");
            }
        });
        Ok(answer)
    }

    fn dispatch_chained(&self, arn: &str, request: ChainedInvokeRequest) {
        let engine = self.clone();
        let parent = arn.to_owned();
        tokio::spawn(async move {
            let target = match engine.resolve(&request.function_name, None) {
                Ok(target) => target,
                Err(error) => {
                    let outcome =
                        ChainedOutcome::Failed(ErrorObject::new(error.code(), error.to_string()));
                    engine.chained_done(&parent, request.operation_id, outcome);
                    return;
                }
            };
            if target.function.config().durable.is_some() {
                let link = ParentLink {
                    arn: parent.clone(),
                    operation_id: request.operation_id.clone(),
                };
                let target = Target {
                    qualified: true,
                    ..target
                };
                if let Err(error) = engine
                    .start_target(&target, None, request.payload.into_bytes(), Some(link))
                    .await
                {
                    let outcome =
                        ChainedOutcome::Failed(ErrorObject::new(error.code(), error.to_string()));
                    engine.chained_done(&parent, request.operation_id, outcome);
                }
                return;
            }
            let outcome = match engine
                .invoke_plain(&target, request.payload.into_bytes())
                .await
            {
                Ok(Ok(answer)) => {
                    ChainedOutcome::Succeeded(Some(String::from_utf8_lossy(&answer).into_owned()))
                }
                Ok(Err(FunctionFault::TimedOut(limit))) => {
                    ChainedOutcome::TimedOut(ErrorObject::new(
                        "ChainedInvoke.Timeout",
                        format!(
                            "CHAINED_INVOKE timed out after {} seconds.",
                            limit.as_secs()
                        ),
                    ))
                }
                Ok(Err(fault)) => ChainedOutcome::Failed(fault_error(&fault)),
                Err(error) => {
                    ChainedOutcome::Failed(ErrorObject::new(error.code(), error.to_string()))
                }
            };
            engine.chained_done(&parent, request.operation_id, outcome);
        });
    }

    fn chained_done(&self, parent: &str, operation_id: String, outcome: ChainedOutcome) {
        if let Some(handle) = self.running_handle(parent) {
            let _ = handle.commands.send(Command::ChainedDone {
                operation_id,
                outcome,
            });
        }
    }
}

/// How a chained invoke ended, from its child execution's end.
fn chained_outcome(record: &ExecutionRecord) -> ChainedOutcome {
    let error = record.error.clone().unwrap_or_default();
    match record.status {
        ExecutionStatus::Succeeded => ChainedOutcome::Succeeded(record.result.clone()),
        ExecutionStatus::TimedOut => ChainedOutcome::TimedOut(ErrorObject::new(
            "ChainedInvoke.Timeout",
            format!(
                "CHAINED_INVOKE timed out after {} seconds.",
                record.timeout_seconds
            ),
        )),
        ExecutionStatus::Stopped => ChainedOutcome::Stopped(error),
        _ => ChainedOutcome::Failed(error),
    }
}

fn same_input(
    arn: String,
    version: String,
    existing: &[u8],
    input: &[u8],
    name: &str,
) -> Result<Started> {
    let same = existing == input
        || serde_json::from_slice::<serde_json::Value>(existing).ok()
            == serde_json::from_slice::<serde_json::Value>(input).ok();
    if same {
        Ok(Started {
            arn,
            version,
            existing: true,
        })
    } else {
        Err(Error::DurableExecutionAlreadyStarted(format!(
            "A durable execution named {name} already exists with a different input: {arn}"
        )))
    }
}

fn ended(record: &ExecutionRecord) -> Error {
    Error::ResourceConflict(format!(
        "The durable execution {} is {}.",
        record.arn, record.status
    ))
}

fn stale_if_over(error: Error) -> Error {
    match error {
        Error::ResourceConflict(message) => {
            Error::invalid(format!("{}: {message}", crate::execution::INVALID_TOKEN))
        }
        other => other,
    }
}

fn page_size(max_items: Option<usize>) -> usize {
    match max_items {
        None | Some(0) => 100,
        Some(items) => items.min(1000),
    }
}

fn deadline_ms(start: Timestamp, timeout: Duration) -> u64 {
    u64::try_from(start.millis()).unwrap_or_default()
        + u64::try_from(timeout.as_millis()).unwrap_or_default()
}

fn fault_error(fault: &FunctionFault) -> ErrorObject {
    match fault {
        FunctionFault::Failed {
            error_type,
            message,
        } => ErrorObject::new(error_type.clone(), message.clone()),
        FunctionFault::Crashed(reason) => ErrorObject::new("Runtime.ExitError", reason.clone()),
        FunctionFault::TimedOut(limit) => ErrorObject::new(
            "Sandbox.Timedout",
            format!("Task timed out after {:.2} seconds", limit.as_secs_f64()),
        ),
    }
}

/// Runs one invocation within the function's timeout.
async fn call(
    function: &Function,
    invocation: Invocation,
) -> std::result::Result<Vec<u8>, FunctionFault> {
    let limit = function.config().timeout;
    match tokio::time::timeout(limit, function.handler().invoke(invocation)).await {
        Ok(answer) => answer,
        Err(_) => Err(FunctionFault::TimedOut(limit)),
    }
}

fn batch_of(
    state: &ExecutionState,
    execution_changed: bool,
    operations: Vec<(crate::model::Operation, usize)>,
    events: Vec<Event>,
    invocations: Vec<InvocationRecord>,
) -> WriteBatch {
    let arn = &state.record().arn;
    WriteBatch {
        executions: if execution_changed {
            vec![state.record().clone()]
        } else {
            Vec::new()
        },
        operations: operations
            .into_iter()
            .map(|(op, position)| (arn.clone(), position, op))
            .collect(),
        events: events
            .into_iter()
            .map(|event| (arn.clone(), event))
            .collect(),
        invocations,
        ..WriteBatch::default()
    }
}

/// The task that owns one running execution.
struct Actor {
    engine: Engine,
    state: ExecutionState,
    commands: mpsc::UnboundedReceiver<Command>,
    me: mpsc::UnboundedSender<Command>,
    finished: watch::Sender<Option<ExecutionRecord>>,
    failures: u32,
    retry_at: Option<Instant>,
    invoke_now: bool,
    /// Invocations started and not yet reported back (at most one runs at
    /// a time; after a reload, an old one may still be on its way).
    outstanding: u32,
    /// The store failed and the state could not be read back: the task
    /// ends, and the execution carries on when the engine next starts.
    abandoned: bool,
}

/// The instant of `deadline`, to the microsecond (a millisecond late is a
/// millisecond on every wait).
fn instant_at(deadline: Timestamp) -> Instant {
    let now_micros = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
    let wait = (i128::from(deadline.millis()) * 1_000)
        .saturating_sub(now_micros)
        .max(0);
    Instant::now() + Duration::from_micros(u64::try_from(wait).unwrap_or(u64::MAX))
}

impl Actor {
    async fn run(mut self) {
        // What restoring changed (a pause that took effect with the engine's end).
        let _ = self.persist(Vec::new()).await;
        loop {
            if self.abandoned {
                self.leave_running();
                return;
            }
            if self.state.record().status.is_terminal() && !self.state.is_invoking() {
                break;
            }
            if self.invoke_now && self.may_invoke_now() {
                self.invoke_now = false;
                self.invoke().await;
                continue;
            }
            let deadline = self.state.next_deadline().map(instant_at);
            let retry_at = self.retry_at;
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                () = sleep_until(deadline) => {
                    self.state.fire_timers(Timestamp::now());
                    // Invoke first, then write: the invocation's first checkpoint
                    // is queued behind this write, and a wait that ends is safe to
                    // end again after a crash.
                    if self.state.has_news() && self.may_invoke_now() {
                        self.invoke().await;
                    } else if self.state.has_news() {
                        self.invoke_now = true;
                    }
                    let _ = self.persist(Vec::new()).await;
                }
                () = sleep_until(retry_at) => {
                    self.retry_at = None;
                    self.invoke_now = true;
                }
            }
        }
        self.finish().await;
    }

    /// Whether an invocation may start now: none under way or still
    /// returning, and the execution running.
    fn may_invoke_now(&self) -> bool {
        self.outstanding == 0 && self.state.may_invoke() && !self.state.is_invoking()
    }

    /// Takes this execution off the engine's running ones.
    fn leave_running(&self) {
        self.engine
            .shared
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.state.record().arn);
    }

    async fn finish(&mut self) {
        let _ = self.persist(Vec::new()).await;
        self.leave_running();
        let record = self.state.record().clone();
        let arn = record.arn.clone();
        self.engine.forget_name(&record.function_name, &record.name);
        let _ = self.engine.shared.progress.send(Progress::Finished {
            arn: arn.clone(),
            status: record.status,
        });
        if let Some(parent) = record.parent.clone() {
            let outcome = chained_outcome(&record);
            self.engine
                .chained_done(&parent.arn, parent.operation_id, outcome);
        }
        let _ = self.finished.send(Some(record));
    }

    async fn handle(&mut self, command: Command) {
        let now = Timestamp::now();
        match command {
            Command::Checkpoint {
                token,
                client_token,
                updates,
                reply,
            } => {
                let output = {
                    let registry = self.engine.registry();
                    let known = |name: &str| registry.knows(name);
                    self.state
                        .checkpoint(&token, client_token.as_deref(), &updates, now, &known)
                };
                let output = match output {
                    Ok(output) => self.persist(Vec::new()).await.map(|()| output),
                    Err(error) => Err(error),
                };
                let _ = reply.send(output);
            }
            Command::State {
                token,
                marker,
                max_items,
                reply,
            } => {
                let _ = reply.send(self.state.state_page(&token, marker.as_deref(), max_items));
            }
            Command::Callback {
                operation_id,
                outcome,
                reply,
            } => {
                let result = match outcome {
                    Some(outcome) => self.state.complete_callback(&operation_id, outcome, now),
                    None => self.state.heartbeat(&operation_id, now),
                };
                let result = match result {
                    Ok(()) => self.persist(Vec::new()).await,
                    Err(error) => Err(error),
                };
                if result.is_ok() && self.state.has_news() {
                    self.invoke_now = true;
                }
                let _ = reply.send(result);
            }
            Command::ChainedDone {
                operation_id,
                outcome,
            } => {
                self.state
                    .complete_chained_invoke(&operation_id, outcome, now);
                if self.persist(Vec::new()).await.is_ok() && self.state.has_news() {
                    self.invoke_now = true;
                }
            }
            Command::InvocationDone { id, end } => self.invocation_done(id, end).await,
            Command::Stop { error, reply } => {
                self.state.stop(error, now);
                let result = self.persist(Vec::new()).await;
                let _ = reply.send(result.map(|()| self.state.record().end.unwrap_or(now)));
            }
            Command::Pause { request, reply } => {
                let result = match self.state.pause(request, now) {
                    Ok(()) => self.persist(Vec::new()).await,
                    Err(error) => Err(error),
                };
                let _ = reply.send(result);
            }
            Command::Resume { request, reply } => {
                let result = match self.state.resume(request, now) {
                    // A retry or news that came while paused is still owed.
                    Ok(invoke) => {
                        self.invoke_now |= invoke;
                        self.persist(Vec::new()).await
                    }
                    Err(error) => Err(error),
                };
                let _ = reply.send(result);
            }
        }
    }

    async fn invoke(&mut self) {
        let now = Timestamp::now();
        let function = self
            .engine
            .registry()
            .get(&self.state.record().function_name)
            .cloned();
        self.retry_at = None;
        let Some(function) = function else {
            let error = ErrorObject::new(
                "ResourceNotFoundException",
                format!("Function not found: {}", self.state.record().function_name),
            );
            self.state.fail(error, now);
            return;
        };
        let page_items = self.engine.shared.options.envelope_page_items;
        let id = self
            .engine
            .shared
            .next_invocation
            .fetch_add(1, Ordering::Relaxed);
        let (request_id, envelope) = self.state.begin_invocation(id, now, page_items);
        self.outstanding += 1;
        let arn = self.state.record().arn.clone();
        let _ = self.engine.shared.progress.send(Progress::Invoked {
            arn: arn.clone(),
            number: self.state.record().invocations,
        });
        self.engine
            .shared
            .counters
            .invocations
            .fetch_add(1, Ordering::Relaxed);
        let invocation = Invocation {
            payload: serde_json::to_vec(&envelope).unwrap_or_default(),
            request_id,
            function_arn: self.state.record().function_arn.clone(),
            deadline_ms: deadline_ms(now, function.config().timeout),
        };
        let me = self.me.clone();
        let permits = Arc::clone(&self.engine.shared.invocation_permits);
        tokio::spawn(async move {
            // Its turn first; its timeout runs from when it runs.
            let _permit = permits.acquire_owned().await;
            let mut invocation = invocation;
            invocation.deadline_ms = deadline_ms(Timestamp::now(), function.config().timeout);
            let end = match call(&function, invocation).await {
                Ok(answer) => InvocationEnd::Answered(answer),
                Err(fault) => InvocationEnd::Faulted(fault_error(&fault)),
            };
            let _ = me.send(Command::InvocationDone { id, end });
        });
    }

    async fn invocation_done(&mut self, id: u64, end: InvocationEnd) {
        let now = Timestamp::now();
        self.outstanding = self.outstanding.saturating_sub(1);
        let record = self
            .state
            .current_invocation()
            .filter(|(current, _, _)| *current == id)
            .map(|(_, request_id, started)| InvocationRecord {
                request_id: request_id.to_owned(),
                function_name: self.state.record().function_name.clone(),
                execution_arn: Some(self.state.record().arn.clone()),
                start: started,
                end: now,
                error: match &end {
                    InvocationEnd::Faulted(error) => error.error_message.clone(),
                    InvocationEnd::Answered(_) => None,
                },
            });
        let after = self.state.end_invocation(id, end, now);
        match after {
            AfterInvocation::Finished | AfterInvocation::Sleep => self.failures = 0,
            AfterInvocation::InvokeNow => {
                self.failures = 0;
                self.invoke_now = true;
            }
            AfterInvocation::Retry => {
                self.failures += 1;
                let options = &self.engine.shared.options;
                if self.failures >= options.invocation_attempts {
                    self.state.give_up(self.failures, now);
                } else {
                    let factor = 2_u32.saturating_pow(self.failures - 1);
                    let delay = options
                        .invocation_retry_delay
                        .saturating_mul(factor)
                        .mul_f64(options.time_scale.max(0.0));
                    self.retry_at = Some(Instant::now() + delay);
                }
            }
        }
        let _ = self.persist(record.into_iter().collect()).await;
    }

    /// Writes what changed. On a failed write, the execution is read back
    /// from the store and invoked again, as after a crash.
    async fn persist(&mut self, invocations: Vec<InvocationRecord>) -> Result<()> {
        let (changes, positions) = self.state.take_changes();
        if changes.is_empty() && invocations.is_empty() {
            return Ok(());
        }
        let arn = self.state.record().arn.clone();
        let watched = self.engine.shared.progress.receiver_count() > 0;
        let progress: Vec<Progress> = changes
            .operations
            .iter()
            .filter(|op| watched && op.kind != OperationType::Execution)
            .map(|op| Progress::Operation {
                arn: arn.clone(),
                name: op.name.clone().unwrap_or_else(|| op.id.clone()),
                kind: op.kind,
                status: op.status,
                nested: op.parent_id.is_some(),
                started: op.start_timestamp,
                ended: op.end_timestamp,
            })
            .collect();
        {
            let mut callbacks = self
                .engine
                .shared
                .callbacks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for callback in &changes.callbacks {
                callbacks.insert(
                    callback.callback_id.clone(),
                    (arn.clone(), callback.operation_id.clone()),
                );
            }
            for closed in &changes.closed_callbacks {
                callbacks.remove(closed);
            }
        }
        let mut batch = batch_of(
            &self.state,
            changes.execution_changed,
            changes.operations.into_iter().zip(positions).collect(),
            changes.events,
            invocations,
        );
        batch.callbacks = changes.callbacks;
        batch.closed_callbacks = changes.closed_callbacks;
        if let Err(error) = self.engine.shared.store.write(batch).await {
            tracing::error!(%arn, %error, "an execution's change could not be stored; reloading it from the store");
            self.reload().await;
            return Err(error);
        }
        for event in progress {
            let _ = self.engine.shared.progress.send(event);
        }
        for request in changes.chained_invokes {
            self.engine.dispatch_chained(&arn, request);
        }
        Ok(())
    }

    async fn reload(&mut self) {
        let arn = self.state.record().arn.clone();
        match self.engine.shared.store.stored(&arn).await {
            Ok(Some(stored)) => {
                self.state = ExecutionState::restore(
                    stored.record,
                    stored.operations,
                    stored.callbacks,
                    stored.next_event_id,
                    self.engine.shared.options.time_scale,
                );
                self.invoke_now = true;
            }
            Ok(None) | Err(_) => {
                tracing::error!(%arn, "the execution could not be read back; it resumes when the engine restarts");
                self.abandoned = true;
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
