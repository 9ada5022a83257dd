//! The engine: executions driven by their invocations, each in memory only
//! while something concerns it.
//!
//! [`Engine`] is a cheap-to-clone handle. An execution is *resident* while
//! something concerns it: an actor task holds its [`ExecutionState`], and
//! every request about it (checkpoint, state page, callback, stop) is a
//! message to that actor, so changes to one execution are serialized without
//! locks while different executions proceed in parallel. The actor writes
//! each change to the [`Store`] (which commits concurrent writes together)
//! before it answers, invokes the function when an invocation is owed, and
//! sleeps until its next deadline or message. Once it has been idle for
//! [`EngineOptions::rest_after`] with nothing under way, the execution goes
//! to *rest*: the actor ends and the execution is only in the store, with
//! its next due moment in the store's timer index. It is loaded again when
//! something concerns it: a request, a callback, a chained invoke's end, or
//! its timer (the engine's one timer loop walks the index).
//!
//! The rooms:
//! - this module: the handle, its options and counters, and the tasks it owns;
//! - `error`: what goes wrong ([`EngineError`]);
//! - `residents`: the executions in memory, each reached through its mailbox;
//! - `names`: the names claimed by starts under way;
//! - `endings`: callers waiting for executions to end;
//! - `start`: starting an execution, idempotently by name;
//! - `actor`: the task that owns a resident execution;
//! - `requests`: what callers ask of an execution (checkpoints, state
//!   pages, callbacks, stop, pause, resume);
//! - `timers`: the timer loop over the store's index: waking executions at
//!   rest when something is due, deleting those past their retention;
//! - `queries`: reading executions and their history from the store;
//! - `chained`: invocations of other functions, plain or durable;
//! - `logs`: the lines functions write, kept and read back;
//! - `recovery`: carrying on after a restart.

mod actor;
mod chained;
mod endings;
mod error;
mod logs;
mod mailbox;
mod names;
mod queries;
mod recovery;
mod requests;
mod residents;
mod start;
mod timers;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::Duration;

use tokio::sync::{Semaphore, broadcast};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub(crate) use self::chained::check_tenant;
pub use self::error::EngineError;
pub(crate) use self::error::Result;
pub use self::logs::LogPage;
pub use self::queries::{ExecutionPage, HistoryPage};
pub(crate) use self::start::check_payload;
pub use self::start::{StartRequest, Started};
use crate::arn;
use crate::clock::Clock;
use crate::execution::ExecutionRecord;
use crate::functions::{Function, Registry, Target};
use crate::model::{ExecutionStatus, OperationStatus, OperationType, Timestamp};
use crate::store::Store;

/// How the engine runs.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineOptions {
    /// The region in ARNs.
    pub region: String,
    /// The account in ARNs.
    pub account: String,
    /// Where the engine reads the time: the system's, counted on tokio's
    /// clock (tests pause it and move it by hand).
    pub clock: Clock,
    /// Multiplies every durable wait and retry delay, and the backoff
    /// between failed invocations: `1.0` is real time, `0.01` makes a
    /// one-second wait take 10 ms. For tests and benchmarks.
    pub time_scale: f64,
    /// Failed invocations in a row before the execution fails.
    pub invocation_attempts: u32,
    /// The delay after the first failed invocation; it doubles each time.
    pub invocation_retry_delay: Duration,
    /// The longest delay between retries, of an invocation or of a write
    /// the store refused.
    pub max_retry_delay: Duration,
    /// The most operations the invocation envelope carries; the function
    /// fetches the rest with `GetDurableExecutionState`.
    pub envelope_page_items: usize,
    /// The most invocations of durable functions running at once; more wait
    /// their turn (their timeout starts when they run). Lambda's default
    /// concurrency is 1,000 per account and region. As many executions at
    /// most are loaded at once by the timer loop and by starts, so an
    /// execution waiting its turn waits at rest.
    pub max_concurrent_invocations: usize,
    /// How long a resident execution with nothing under way stays in
    /// memory before it goes to rest (when nothing is due before then).
    pub rest_after: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            region: "us-east-1".to_owned(),
            account: "000000000000".to_owned(),
            clock: Clock::system(),
            time_scale: 1.0,
            invocation_attempts: 5,
            invocation_retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(30),
            envelope_page_items: 1000,
            max_concurrent_invocations: 1000,
            rest_after: Duration::from_secs(2),
        }
    }
}

impl EngineOptions {
    /// The delay before retry `attempt` (from 1): `first`, doubling with
    /// each attempt, at most `max_retry_delay`.
    #[must_use]
    pub fn backoff(&self, first: Duration, attempt: u32) -> Duration {
        crate::clock::backoff(first, attempt, self.max_retry_delay)
    }

    /// `delay` on the engine's time scale.
    #[must_use]
    pub fn scaled(&self, delay: Duration) -> Duration {
        crate::clock::scaled(delay, self.time_scale)
    }

    /// The engine over `store`, with no functions yet.
    #[must_use]
    pub fn build(self, store: Arc<dyn Store>) -> Engine {
        Engine::new(self, store)
    }
}

/// Something that happened to an execution, for watchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// An execution started.
    Started {
        /// The execution.
        arn: String,
        /// Its function.
        function_name: String,
    },
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
    /// An invocation ended.
    InvocationEnded {
        /// The execution.
        arn: String,
    },
    /// The execution's status changed (paused, resumed, …) without ending.
    Status {
        /// The execution.
        arn: String,
        /// Its status now.
        status: ExecutionStatus,
    },
    /// The store refused a write of the execution's: it carries on from
    /// what is stored once the store accepts writes again.
    StoreRefused {
        /// The execution.
        arn: String,
        /// The store's error (`store: database or disk is full`).
        error: String,
    },
    /// The execution ended.
    Finished {
        /// The execution.
        arn: String,
        /// How.
        status: ExecutionStatus,
    },
}

impl Progress {
    /// The execution it is about.
    #[must_use]
    pub fn arn(&self) -> &str {
        match self {
            Self::Started { arn, .. }
            | Self::Operation { arn, .. }
            | Self::Invoked { arn, .. }
            | Self::InvocationEnded { arn }
            | Self::Status { arn, .. }
            | Self::StoreRefused { arn, .. }
            | Self::Finished { arn, .. } => arn,
        }
    }
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
    /// Pages the store's commits appended to its write-ahead log.
    pub store_pages_logged: u64,
    /// Function log lines dropped because they came faster than the store
    /// kept them.
    pub log_lines_dropped: u64,
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
    /// The executions in memory.
    residents: residents::Residents,
    /// The names of starts under way.
    names: names::Names,
    /// Callers waiting for executions to end.
    endings: endings::Endings,
    /// Tells the timer loop of a new entry in the store's timer index.
    timers: timers::TimerNotes,
    /// What attributes function log lines to invocations.
    logbook: Mutex<crate::logs::Logbook>,
    /// Function log lines on their way to the store.
    log_queue: logs::LogQueue,
    counters: Counters,
    progress: broadcast::Sender<Progress>,
    /// Invocation ids, unique across executions and restarts of an actor.
    next_invocation: AtomicU64,
    /// Turns to run a durable invocation.
    invocation_permits: Arc<Semaphore>,
    /// Turns to be loaded by the timer loop or a start: what bounds the
    /// executions in memory when many are due at once.
    residency: Arc<Semaphore>,
    /// Whether the engine's own loops (timers, logs) run.
    background: AtomicBool,
    /// Every task the engine starts; shutdown waits for them.
    tasks: TaskTracker,
    /// Cancelled once shutdown begins: nothing new starts, and every
    /// task of the engine winds down.
    stopped: CancellationToken,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Counters {
    executions: AtomicU64,
    invocations: AtomicU64,
    checkpoints: AtomicU64,
    state_reads: AtomicU64,
    plain_invocations: AtomicU64,
}

/// Locks `mutex`, carrying on past a panic elsewhere (every critical section
/// leaves its map consistent).
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Engine {
    /// An engine over `store`, with no functions yet.
    #[must_use]
    pub fn new(options: EngineOptions, store: Arc<dyn Store>) -> Self {
        let (progress, _) = broadcast::channel(4096);
        let concurrency = options.max_concurrent_invocations.max(1);
        Self {
            shared: Arc::new(Shared {
                options,
                store,
                registry: RwLock::new(Registry::default()),
                residents: residents::Residents::default(),
                names: names::Names::default(),
                endings: endings::Endings::default(),
                timers: timers::TimerNotes::default(),
                logbook: Mutex::new(crate::logs::Logbook::default()),
                log_queue: logs::LogQueue::new(),
                counters: Counters::default(),
                progress,
                next_invocation: AtomicU64::new(1),
                invocation_permits: Arc::new(Semaphore::new(concurrency)),
                residency: Arc::new(Semaphore::new(concurrency)),
                background: AtomicBool::new(false),
                tasks: TaskTracker::new(),
                stopped: CancellationToken::new(),
            }),
        }
    }

    /// Starts the engine's own loops once: the timer loop and the log
    /// writer. Needs a tokio runtime; the first start, request or recovery
    /// calls it.
    fn run_background(&self) {
        if tokio::runtime::Handle::try_current().is_err()
            || self.shared.background.swap(true, Ordering::AcqRel)
        {
            return;
        }
        self.spawn(timers::run(self.downgrade()));
        let logs = self.shared.log_queue.take_receiver();
        if let Some(logs) = logs {
            self.spawn(logs::write_lines(self.downgrade(), logs));
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

    /// The current moment, on the engine's clock.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.shared.options.clock.now()
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

    fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.shared
            .registry
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Resolves a function name (and qualifier).
    ///
    /// # Errors
    ///
    /// As [`Registry::resolve`], and `ResourceNotFound` for an ARN of
    /// another region or account.
    pub fn resolve(&self, function: &str, qualifier: Option<&str>) -> Result<Target> {
        let options = &self.shared.options;
        Ok(self
            .registry()
            .resolve(function, qualifier, &options.region, &options.account)?)
    }

    /// Watches what happens to executions.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Progress> {
        self.shared.progress.subscribe()
    }

    fn publish(&self, progress: Progress) {
        if self.shared.progress.receiver_count() > 0 {
            let _ = self.shared.progress.send(progress);
        }
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
            store_pages_logged: store.pages_logged,
            log_lines_dropped: self.shared.log_queue.dropped(),
        }
    }

    /// The ARN of `function` at `version`.
    #[must_use]
    pub fn function_arn(&self, function: &str, version: Option<&str>) -> String {
        let options = &self.shared.options;
        arn::function_arn(&options.region, &options.account, function, version)
    }

    /// Runs `task` as one of the engine's own: [`Engine::shutdown`] waits
    /// for it.
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.tasks.spawn(task)
    }

    /// Resolves once shutdown has begun: what runs on the engine's tasks
    /// until then (a periodic purge) stops there.
    pub async fn stopping(&self) {
        self.shared.stopped.cancelled().await;
    }

    /// Whether shutdown has begun.
    #[must_use]
    pub fn is_stopping(&self) -> bool {
        self.shared.stopped.is_cancelled()
    }

    /// Stops the engine in order: no new execution or invocation starts,
    /// invocations under way run to their end (or to `grace`), the
    /// executions' tasks end with everything they acknowledged committed,
    /// and the functions' processes stop. Running executions carry on when
    /// an engine next opens the store.
    ///
    /// Returns whether every task ended within `grace`.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.shared.stopped.cancel();
        self.shared.tasks.close();
        let ended = tokio::time::timeout(grace, self.shared.tasks.wait())
            .await
            .is_ok();
        for function in self.functions() {
            function.handler().shutdown().await;
        }
        ended
    }

    /// Waits until the execution `arn` is over and returns its record.
    ///
    /// It waits for the execution, not for its actor: an execution that
    /// goes to rest, or whose actor is started again after a panic, is
    /// waited for until it ends.
    ///
    /// # Errors
    ///
    /// `ExecutionNotFound` for an unknown execution; `ShuttingDown` when the
    /// engine stops first.
    pub async fn wait(&self, arn: &str) -> Result<ExecutionRecord> {
        let mut ending = self.shared.endings.watch(arn);
        let record = self.execution(arn).await?;
        if record.status.is_terminal() {
            return Ok(record);
        }
        tokio::select! {
            ended = ending.ended() => ended.ok_or(EngineError::ShuttingDown),
            () = self.stopping() => Err(EngineError::ShuttingDown),
        }
    }

    /// How many executions are in memory now.
    #[must_use]
    pub fn resident_count(&self) -> usize {
        self.shared.residents.count()
    }
}
