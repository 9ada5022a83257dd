//! A function's execution environments: started on demand, each one
//! process taking one invocation at a time, stopped when idle, when the
//! function's code changed, or when its process ends.

use std::collections::{BTreeSet, VecDeque};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use command_fds::{CommandFdExt as _, FdMapping};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::runtime_api::Host;
use super::{EnvironmentEvent, ProcessConfig, telemetry};
use crate::functions::{FunctionFault, Invocation};

pub(super) type Reply = oneshot::Sender<Result<Vec<u8>, FunctionFault>>;

/// One invocation waiting for an environment: what to run, where the
/// answer goes, and who to tell when an environment takes it.
pub(super) struct Job {
    pub(super) invocation: Invocation,
    pub(super) reply: Reply,
    pub(super) taken: oneshot::Sender<()>,
}

/// How many of its last stderr lines an exit error carries.
const STDERR_TAIL: usize = 10;

/// Why an environment stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// It waited past the idle timeout.
    Idle,
    /// The function's code changed.
    CodeChanged,
    /// Its process failed to initialize.
    InitFailed,
    /// Its process ended (it exited, or was killed after a timeout).
    Exited,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Idle => "idle",
            Self::CodeChanged => "its code changed",
            Self::InitFailed => "it failed to initialize",
            Self::Exited => "its process ended",
        })
    }
}

/// What the function's environments share.
pub(super) struct Pool {
    pub(super) name: String,
    pub(super) config: ProcessConfig,
    /// Invocations waiting for an environment, taken in order.
    pub(super) queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>,
    /// The last init failure; each one is told to the invocations waiting
    /// when it happens (they watch for a change).
    pub(super) init_failure: watch::Sender<Option<FunctionFault>>,
    /// The function's code, by generation: one more after each change.
    pub(super) code: watch::Sender<u64>,
    /// Which environments there are, and which run an invocation.
    counts: Mutex<Counts>,
    /// The environments, to find the one running an invocation; held
    /// weakly, as each holds its pool (their tasks keep them alive).
    environments: Mutex<Vec<Weak<Environment>>>,
    next_id: AtomicUsize,
    /// Watches the function's code, from its first cold start on.
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
    watching: std::sync::Once,
    /// The Runtime API servers and the supervisors.
    pub(super) tasks: TaskTracker,
    /// Stops every environment: its process is killed.
    pub(super) stop: CancellationToken,
}

/// The pool's bookkeeping, to know when another environment is needed.
/// Environments are counted by id, so that whatever order their ends are
/// reported in, each is counted once.
#[derive(Debug, Default)]
pub(super) struct Counts {
    /// Environments started (starting, free or busy).
    live: BTreeSet<usize>,
    /// Environments running an invocation.
    busy: BTreeSet<usize>,
    /// Invocations sent and not yet taken.
    pub(super) waiting: usize,
}

impl Counts {
    fn free(&self) -> usize {
        self.live.len().saturating_sub(self.busy.len())
    }

    /// Environments started and not yet ended.
    #[cfg(test)]
    pub(super) fn environments(&self) -> usize {
        self.live.len()
    }
}

/// One execution environment: a process and its Runtime API.
pub(super) struct Environment {
    pub(super) pool: Arc<Pool>,
    id: usize,
    in_flight: Mutex<Option<(String, Reply)>>,
    /// Whether its process has asked for work.
    pub(super) initialized: AtomicBool,
    /// When its process started, for its init duration.
    started: Instant,
    /// The generation of the code it runs.
    pub(super) generation: u64,
    /// Cancelled to stop it: its process is killed, and its Runtime API
    /// closed.
    pub(super) retire: CancellationToken,
    /// Why it stopped, once it was told to.
    stopped: Mutex<Option<Stopped>>,
    /// The last lines the process wrote on stderr.
    stderr_tail: Mutex<VecDeque<String>>,
    /// Invocations past their timeout, for the supervisor to kill.
    kill: mpsc::UnboundedSender<String>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pool {
    pub(super) fn new(
        name: &str,
        config: ProcessConfig,
    ) -> (Arc<Self>, mpsc::UnboundedSender<Job>) {
        let (jobs, queue) = mpsc::unbounded_channel();
        let pool = Arc::new(Self {
            name: name.to_owned(),
            config,
            queue: tokio::sync::Mutex::new(queue),
            init_failure: watch::Sender::new(None),
            code: watch::Sender::new(0),
            counts: Mutex::new(Counts::default()),
            environments: Mutex::new(Vec::new()),
            next_id: AtomicUsize::new(0),
            watcher: Mutex::new(None),
            watching: std::sync::Once::new(),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        });
        (pool, jobs)
    }

    pub(super) fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        lock(&self.counts)
    }

    fn tell(&self, event: EnvironmentEvent) {
        if let Some(events) = &self.config.events {
            events(&self.name, event);
        }
    }

    /// A new environment's id, counted as starting, when `counts` needs one
    /// more for its waiting invocations and may have it.
    fn grow(&self, counts: &mut Counts) -> Option<usize> {
        let needed = counts.waiting > counts.free()
            && counts.live.len() < self.config.max_environments.max(1);
        needed.then(|| {
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            counts.live.insert(id);
            id
        })
    }

    /// Counts one more invocation waiting, before it is sent; the id of
    /// the environment to start for it when none is free.
    pub(super) fn enqueued(&self) -> Option<usize> {
        let mut counts = self.counts();
        counts.waiting += 1;
        self.grow(&mut counts)
    }

    /// Counts an invocation given up before an environment took it.
    pub(super) fn given_up(&self) {
        let mut counts = self.counts();
        counts.waiting = counts.waiting.saturating_sub(1);
    }

    /// Counts the environment `id` gone (or never started), and starts
    /// another when invocations still wait for one.
    fn leave(self: &Arc<Self>, id: usize) {
        let another = {
            let mut counts = self.counts();
            counts.live.remove(&id);
            counts.busy.remove(&id);
            self.grow(&mut counts)
        };
        if let Some(another) = another
            && !self.stop.is_cancelled()
        {
            let pool = Arc::clone(self);
            self.tasks.spawn(async move { pool.start(another).await });
        }
    }

    /// Starts the environment `id`: its Runtime API server and its
    /// process. When it cannot, it is counted out again.
    pub(super) async fn start(self: &Arc<Self>, id: usize) {
        if let Err(error) = self.try_start(id).await {
            tracing::warn!(function = %self.name, %error, "an execution environment could not start");
            self.leave(id);
        }
    }

    /// Watches the function's code, once: a function never invoked costs
    /// no watch.
    fn watch_code(self: &Arc<Self>) {
        self.watching.call_once(|| {
            if self.config.code.is_empty() {
                return;
            }
            let pool = Arc::downgrade(self);
            *lock(&self.watcher) = super::code::watch(&self.config.code, move || {
                if let Some(pool) = pool.upgrade() {
                    pool.code_changed();
                }
            });
        });
    }

    async fn try_start(self: &Arc<Self>, id: usize) -> std::io::Result<()> {
        self.watch_code();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (kill, kills) = mpsc::unbounded_channel::<String>();
        let environment = Arc::new(Environment {
            pool: Arc::clone(self),
            id,
            in_flight: Mutex::new(None),
            initialized: AtomicBool::new(false),
            started: Instant::now(),
            generation: *self.code.borrow(),
            retire: self.stop.child_token(),
            stopped: Mutex::new(None),
            stderr_tail: Mutex::new(VecDeque::new()),
            kill,
        });
        {
            let mut environments = lock(&self.environments);
            environments.retain(|environment| environment.strong_count() > 0);
            environments.push(Arc::downgrade(&environment));
        }
        let app = super::runtime_api::router(Arc::clone(&environment));
        let closed = environment.retire.clone().cancelled_owned();
        self.tasks.spawn(async move {
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(closed)
                .await
            {
                tracing::error!(%error, "a function's Runtime API server stopped");
            }
        });
        self.tasks
            .spawn(supervise(environment, address.to_string(), kills));
        Ok(())
    }

    /// Kills the environment running `request_id`, past its timeout.
    pub(super) fn kill(&self, request_id: &str) {
        let environments = lock(&self.environments);
        if let Some(environment) = environments
            .iter()
            .filter_map(Weak::upgrade)
            .find(|environment| environment.running().as_deref() == Some(request_id))
        {
            let _ = environment.kill.send(request_id.to_owned());
        }
    }

    /// The function's code changed: environments waiting for work stop
    /// now, busy ones once their invocation ends.
    pub(super) fn code_changed(&self) {
        self.code.send_modify(|generation| *generation += 1);
    }
}

impl Host for Environment {
    /// The next invocation, once there is one. An environment stops
    /// instead when it has waited past the idle timeout, when the
    /// function's code changed, or when the host stops.
    async fn next_invocation(&self) -> Option<Invocation> {
        let pool = Arc::clone(&self.pool);
        self.initialized();
        let mut code = pool.code.subscribe();
        let generation = self.generation;
        let stale = code.wait_for(|current| *current != generation);
        let idle = tokio::time::sleep(pool.config.idle_timeout);
        tokio::pin!(stale, idle);
        let mut queue = tokio::select! {
            queue = pool.queue.lock() => queue,
            () = self.retire.cancelled() => return None,
            _ = &mut stale => return self.stopped(Stopped::CodeChanged),
            () = &mut idle => return self.stopped(Stopped::Idle),
        };
        loop {
            let job = tokio::select! {
                job = queue.recv() => job?,
                () = self.retire.cancelled() => return None,
                _ = &mut stale => return self.stopped(Stopped::CodeChanged),
                () = &mut idle => return self.stopped(Stopped::Idle),
            };
            // An invocation given up while it waited is not run.
            if !job.reply.is_closed() && job.taken.send(()).is_ok() {
                drop(queue);
                self.take(job.invocation.request_id.clone(), job.reply);
                return Some(job.invocation);
            }
        }
    }

    fn answer(&self, id: &str, outcome: Result<Vec<u8>, FunctionFault>) -> bool {
        self.finish(id, outcome)
    }

    fn init_error(&self, fault: FunctionFault) -> bool {
        if self.initialized.load(Ordering::SeqCst) {
            return false;
        }
        self.init_failed(fault);
        true
    }
}

impl Environment {
    /// Stops for `reason`; no invocation comes.
    fn stopped(&self, reason: Stopped) -> Option<Invocation> {
        self.stop(reason);
        None
    }

    /// The request the process runs now, if any.
    pub(super) fn running(&self) -> Option<String> {
        lock(&self.in_flight).as_ref().map(|(id, _)| id.clone())
    }

    /// Its process asked for work: the first time, its init is over.
    pub(super) fn initialized(&self) {
        if !self.initialized.swap(true, Ordering::SeqCst) {
            self.pool.tell(EnvironmentEvent::Initialized {
                init: self.started.elapsed(),
            });
        }
    }

    /// Takes the invocation `request_id`: the environment is busy.
    pub(super) fn take(&self, request_id: String, reply: Reply) {
        {
            let mut counts = self.pool.counts();
            counts.waiting = counts.waiting.saturating_sub(1);
            counts.busy.insert(self.id);
        }
        *lock(&self.in_flight) = Some((request_id, reply));
    }

    /// Ends the invocation `id` with `outcome`; false when it is not the
    /// one the environment runs. The environment is free again, unless the
    /// function's code changed meanwhile: then it stops.
    pub(super) fn finish(&self, id: &str, outcome: Result<Vec<u8>, FunctionFault>) -> bool {
        let reply = {
            let mut in_flight = lock(&self.in_flight);
            match in_flight.take() {
                Some((current, reply)) if current == id => reply,
                other => {
                    *in_flight = other;
                    return false;
                }
            }
        };
        if *self.pool.code.borrow() == self.generation {
            self.pool.counts().busy.remove(&self.id);
        } else {
            self.stop(Stopped::CodeChanged);
        }
        let _ = reply.send(outcome);
        true
    }

    /// Stops the environment for `reason`: its process is killed.
    pub(super) fn stop(&self, reason: Stopped) {
        lock(&self.stopped).get_or_insert(reason);
        self.retire.cancel();
    }

    /// The function could not initialize: the invocations waiting now are
    /// answered with `fault`, and this environment stops.
    pub(super) fn init_failed(&self, fault: FunctionFault) {
        tracing::warn!(function = %self.pool.name, error = %fault, "the function failed to initialize");
        self.pool.init_failure.send_replace(Some(fault));
        self.stop(Stopped::InitFailed);
    }

    fn log(&self, line: &str, stderr: bool) {
        if stderr {
            let mut tail = lock(&self.stderr_tail);
            if tail.len() == STDERR_TAIL {
                tail.pop_front();
            }
            tail.push_back(line.to_owned());
        }
        if let Some(logs) = &self.pool.config.logs {
            logs(&self.pool.name, self.running().as_deref(), line);
        }
    }

    fn stderr_tail(&self) -> String {
        lock(&self.stderr_tail)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What Lambda answers for a process that ended with `status`: `Runtime
    /// .ExitError`, with the tail of its stderr.
    fn exit_error(&self, prefix: &str, status: &str) -> FunctionFault {
        let mut message = format!("{prefix}Runtime exited with error: {status}");
        let tail = self.stderr_tail();
        if !tail.is_empty() {
            message.push('\n');
            message.push_str(&tail);
        }
        FunctionFault::Failed {
            error_type: "Runtime.ExitError".to_owned(),
            message,
        }
    }

    /// Records how the process ended: an init failure when it never asked
    /// for work (unless it said why itself), and the end of the invocation
    /// it was running.
    async fn ended(&self, outcome: &str) {
        if self.pool.stop.is_cancelled() {
            // The host stopped: its invocations are answered by the host.
            return;
        }
        // Its last lines are in the tail before the end is reported.
        tokio::task::yield_now().await;
        let stopped = *lock(&self.stopped);
        if !self.initialized.load(Ordering::SeqCst) && stopped.is_none() {
            tracing::warn!(function = %self.pool.name, %outcome, stderr = %self.stderr_tail(), "the function's process exited before it initialized");
            self.init_failed(self.exit_error("", outcome));
        } else if stopped.is_none() {
            tracing::warn!(function = %self.pool.name, %outcome, "the function's process exited; the next invocation starts another");
        }
        let lost = lock(&self.in_flight).take();
        if let Some((request_id, reply)) = lost {
            let _ = reply.send(Err(
                self.exit_error(&format!("RequestId: {request_id} Error: "), outcome)
            ));
        }
        self.pool.tell(EnvironmentEvent::Stopped {
            reason: lock(&self.stopped).unwrap_or(Stopped::Exited),
        });
    }
}

/// Forwards each line of `output` to the function's log.
async fn forward(
    environment: Arc<Environment>,
    output: impl tokio::io::AsyncRead + Unpin,
    stderr: bool,
) {
    let mut lines = BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        environment.log(&line, stderr);
    }
}

/// Reads the process's stdout lines and its framed log records into its
/// log, in the order it wrote them: one task reads both, stdout first
/// whenever both have something, so a line printed before a record was
/// logged is kept before it (a runtime's stdout is unbuffered, as Lambda's
/// are).
async fn stdout_and_frames(
    environment: Arc<Environment>,
    stdout: impl tokio::io::AsyncRead + Unpin,
    frames: Option<tokio::net::unix::pipe::Receiver>,
) {
    let Some(pipe) = frames else {
        forward(environment, stdout, false).await;
        return;
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut lines_open = true;
    let mut frame = std::pin::pin!(telemetry::next_frame(pipe));
    let mut frames_open = true;
    while lines_open || frames_open {
        tokio::select! {
            biased;
            // Cancel-safe: a line not yet whole stays in the reader.
            line = lines.next_line(), if lines_open => match line {
                Ok(Some(line)) => environment.log(&line, false),
                _ => lines_open = false,
            },
            // One read of a frame at a time, never dropped half way.
            (pipe, message) = &mut frame, if frames_open => match message {
                Some(message) => {
                    environment.log(&message, false);
                    frame.set(telemetry::next_frame(pipe));
                }
                None => frames_open = false,
            },
        }
    }
}

/// The environment's process, with `runtime_api` and its telemetry
/// descriptor, its output read into the function's log by `output`'s
/// tasks.
fn spawn_process(
    environment: &Arc<Environment>,
    runtime_api: &str,
    output: &TaskTracker,
) -> Result<tokio::process::Child, String> {
    let config = &environment.pool.config;
    let Some((program, arguments)) = config.command.split_first() else {
        return Err("no command to run".to_owned());
    };
    let (frames, frames_writer) =
        std::io::pipe().map_err(|error| format!("no pipe for its logs: {error}"))?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(arguments)
        .current_dir(&config.directory)
        .env_clear()
        .envs(&config.environment)
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env(telemetry::VARIABLE, telemetry::CHILD_FD.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
        .fd_mappings(vec![FdMapping {
            parent_fd: frames_writer.into(),
            child_fd: telemetry::CHILD_FD,
        }])
        .map_err(|error| format!("cannot give it its log descriptor: {error}"))?;
    let mut child = command
        .spawn()
        .map_err(|error| format!("Error: fork/exec {program}: {error}"))?;
    // The parent's copy of the descriptor goes with the command, so the
    // reader ends when the process does.
    drop(command);
    if let Some(stdout) = child.stdout.take() {
        output.spawn(stdout_and_frames(
            Arc::clone(environment),
            stdout,
            telemetry::open(frames.into()),
        ));
    }
    if let Some(stderr) = child.stderr.take() {
        output.spawn(forward(Arc::clone(environment), stderr, true));
    }
    Ok(child)
}

/// Runs the environment's process until it ends or the environment stops;
/// then the environment is gone.
async fn supervise(
    environment: Arc<Environment>,
    runtime_api: String,
    mut kills: mpsc::UnboundedReceiver<String>,
) {
    let pool = Arc::clone(&environment.pool);
    let output = TaskTracker::new();
    let outcome = match spawn_process(&environment, &runtime_api, &output) {
        Ok(mut child) => loop {
            tokio::select! {
                () = environment.retire.cancelled() => {
                    let _ = child.kill().await;
                    break "stopped".to_owned();
                }
                status = child.wait() => {
                    break status.map_or_else(|error| error.to_string(), |status| status.to_string());
                }
                Some(request_id) = kills.recv() => {
                    // Only if the invocation that timed out is the one it runs.
                    if environment.running().as_deref() == Some(request_id.as_str()) {
                        let _ = child.kill().await;
                        break "killed after a timeout".to_owned();
                    }
                }
            }
        },
        Err(error) => {
            environment.init_failed(FunctionFault::Failed {
                error_type: "Runtime.InvalidEntrypoint".to_owned(),
                message: error.clone(),
            });
            error
        }
    };
    output.close();
    output.wait().await;
    environment.ended(&outcome).await;
    environment.retire.cancel();
    pool.leave(environment.id);
}

/// How long an environment may wait for work before it is stopped, unless
/// configured otherwise: of the order of Lambda's own.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_mins(10);
