//! Functions run as separate processes, through the Lambda Runtime API.
//!
//! Any bootstrap built for Lambda (in any language, with any runtime
//! interface client) reads `AWS_LAMBDA_RUNTIME_API` and loops: `GET
//! …/invocation/next`, run, `POST …/invocation/{id}/response` (or
//! `/error`). [`external`] runs the function as Lambda does, in execution
//! environments: each is one process with that variable pointing at a small
//! Runtime API server of its own, taking one invocation at a time, started
//! again if it dies. An invocation that finds every environment busy starts
//! another (up to [`ProcessConfig::max_environments`]), so concurrent
//! invocations run concurrently; environments stay warm for the next ones.
//!
//! Failures are answered as Lambda answers them, at once: a process that
//! reports `/runtime/init/error`, or exits before it asks for work, fails
//! every invocation with that init error (`Runtime.ImportModuleError`,
//! `Runtime.HandlerNotFound`, `Runtime.ExitError` with the tail of its
//! stderr) until an incarnation of it initializes; an invocation it was
//! running when it died, or that ran past the function's timeout (counted
//! from when the process took it; the process is then killed), fails as
//! Lambda's would. When the host stops, its processes are killed and every
//! invocation waiting for one or running in one fails at once. What the
//! process writes goes, line by line, to the function's log.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::backoff;
use crate::functions::{FunctionFault, FunctionHandler, Invocation};
use crate::limits::MAX_REQUEST_BODY_BYTES;
use crate::store::BoxFuture;

/// Where a function's output lines go: the function, the invocation it was
/// running when it wrote the line (if any), and the line.
pub type LogSink = Arc<dyn Fn(&str, Option<&str>, &str) + Send + Sync>;

/// How to run a function's process.
#[derive(Clone)]
pub struct ProcessConfig {
    /// The program and its arguments.
    pub command: Vec<String>,
    /// The working directory: the function's code (`LAMBDA_TASK_ROOT`).
    pub directory: PathBuf,
    /// The environment: Lambda's reserved variables and the function's own.
    pub environment: BTreeMap<String, String>,
    /// How long one invocation may run, from when the process takes it.
    pub timeout: Duration,
    /// Where its stdout and stderr lines go.
    pub logs: Option<LogSink>,
    /// The most environments (processes) it runs at once; invocations
    /// beyond them wait for one to be free.
    pub max_environments: usize,
}

/// Environments a function runs at most, unless its configuration says.
pub const DEFAULT_MAX_ENVIRONMENTS: u16 = 10;

impl std::fmt::Debug for ProcessConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessConfig")
            .field("command", &self.command)
            .field("directory", &self.directory)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

type Reply = oneshot::Sender<Result<Vec<u8>, FunctionFault>>;

/// One invocation waiting for an environment: what to run, where the
/// answer goes, and who to tell when an environment takes it.
struct Job {
    invocation: Invocation,
    reply: Reply,
    taken: oneshot::Sender<()>,
}

/// How long an invocation may wait for an environment to take it (while
/// one starts, or every one runs an earlier invocation).
const QUEUE_TIMEOUT: Duration = Duration::from_mins(1);

/// The delay before a process that exited is started again, doubling
/// while it keeps exiting soon after it starts, up to the most.
const RESTART_FIRST_DELAY: Duration = Duration::from_millis(100);
const RESTART_MAX_DELAY: Duration = Duration::from_secs(10);

/// How many of its last stderr lines an exit error carries.
const STDERR_TAIL: usize = 10;

/// What the function's environments share.
struct Pool {
    name: String,
    config: ProcessConfig,
    /// Invocations waiting for an environment, taken in order.
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>,
    /// Why the function cannot initialize, until an environment's process
    /// asks for work.
    init_failure: watch::Sender<Option<FunctionFault>>,
    /// How many environments there are, and how many are free.
    counts: Mutex<Counts>,
    /// The environments, to find the one running an invocation; held
    /// weakly, as each holds its pool (their tasks keep them alive).
    environments: Mutex<Vec<Weak<Environment>>>,
    /// The Runtime API servers and the supervisors.
    tasks: TaskTracker,
    /// Stops every environment: its process is killed, not started again.
    stop: CancellationToken,
}

/// The pool's bookkeeping, to know when another environment is needed.
#[derive(Debug, Default)]
struct Counts {
    /// Environments started (running or starting).
    environments: usize,
    /// Environments that may take an invocation now or soon: starting,
    /// or asking for work.
    free: usize,
    /// Invocations sent and not yet taken.
    waiting: usize,
}

/// One execution environment: a process and its Runtime API.
struct Environment {
    pool: Arc<Pool>,
    in_flight: Mutex<Option<(String, Reply)>>,
    /// Whether the current incarnation has asked for work.
    initialized: AtomicBool,
    /// The last lines the process wrote on stderr.
    stderr_tail: Mutex<VecDeque<String>>,
    /// Invocations past their timeout, for the supervisor to kill.
    kill: mpsc::UnboundedSender<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Pool {
    /// Counts one more invocation waiting, before it is sent; true when no
    /// environment is free for it and the pool may grow by one (counted
    /// here, for [`Pool::start_environment`] to start).
    fn enqueued(&self) -> bool {
        let mut counts = lock(&self.counts);
        counts.waiting += 1;
        let grow = counts.waiting > counts.free
            && counts.environments < self.config.max_environments.max(1);
        if grow {
            counts.environments += 1;
            counts.free += 1;
        }
        grow
    }

    /// Counts an environment that could not be started after all.
    fn not_started(&self) {
        let mut counts = lock(&self.counts);
        counts.environments = counts.environments.saturating_sub(1);
        counts.free = counts.free.saturating_sub(1);
    }

    /// Counts an invocation given up before an environment took it.
    fn given_up(&self) {
        let mut counts = lock(&self.counts);
        counts.waiting = counts.waiting.saturating_sub(1);
    }

    /// Counts an invocation an environment took: that one is busy.
    fn taken(&self) {
        let mut counts = lock(&self.counts);
        counts.waiting = counts.waiting.saturating_sub(1);
        counts.free = counts.free.saturating_sub(1);
    }

    /// Counts an environment done with its invocation: free again.
    fn freed(&self) {
        lock(&self.counts).free += 1;
    }

    /// Starts one environment: its Runtime API server and its process.
    async fn start_environment(self: &Arc<Self>) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (kill, kills) = mpsc::unbounded_channel::<String>();
        let environment = Arc::new(Environment {
            pool: Arc::clone(self),
            in_flight: Mutex::new(None),
            initialized: AtomicBool::new(false),
            stderr_tail: Mutex::new(VecDeque::new()),
            kill,
        });
        lock(&self.environments).push(Arc::downgrade(&environment));
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY_BYTES))
            .with_state(Arc::clone(&environment));
        let stopped = self.stop.clone().cancelled_owned();
        self.tasks.spawn(async move {
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
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
    fn kill(&self, request_id: &str) {
        let environments = lock(&self.environments);
        if let Some(environment) = environments
            .iter()
            .filter_map(Weak::upgrade)
            .find(|environment| environment.running().as_deref() == Some(request_id))
        {
            let _ = environment.kill.send(request_id.to_owned());
        }
    }
}

impl Environment {
    /// The request the process runs now, if any.
    fn running(&self) -> Option<String> {
        lock(&self.in_flight).as_ref().map(|(id, _)| id.clone())
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

    /// The init failure Lambda reports for a process that exited with
    /// `status` before asking for work.
    fn exited_before_init(&self, status: &str) -> FunctionFault {
        let mut message = format!("Runtime exited with error: {status}");
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
}

/// A function run as separate processes.
struct External {
    jobs: mpsc::UnboundedSender<Job>,
    pool: Arc<Pool>,
}

/// Runs the function `name` as `config`'s processes and returns its
/// handler. Each process gets `config.environment` and
/// `AWS_LAMBDA_RUNTIME_API`, in its code directory. The first environment
/// starts at once (as Lambda initializes a function before its first
/// invocation completes), more as concurrent invocations need them.
///
/// # Errors
///
/// When the first Runtime API's port cannot be opened.
pub async fn external(
    name: &str,
    config: ProcessConfig,
) -> std::io::Result<Arc<dyn FunctionHandler>> {
    Ok(Arc::new(External::start(name, config).await?))
}

/// The answer to an invocation the host can no longer run.
fn host_stopped() -> FunctionFault {
    FunctionFault::Crashed("the function's host has stopped".to_owned())
}

impl External {
    async fn start(name: &str, config: ProcessConfig) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::unbounded_channel();
        let pool = Arc::new(Pool {
            name: name.to_owned(),
            config,
            queue: tokio::sync::Mutex::new(queue),
            init_failure: watch::Sender::new(None),
            counts: Mutex::new(Counts {
                environments: 1,
                free: 1,
                waiting: 0,
            }),
            environments: Mutex::new(Vec::new()),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        });
        pool.start_environment().await?;
        Ok(Self { jobs, pool })
    }
}

impl FunctionHandler for External {
    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Vec<u8>, FunctionFault>> {
        let (reply, answer) = oneshot::channel();
        let (taken, on_taken) = oneshot::channel();
        let request_id = invocation.request_id.clone();
        let grow = self.pool.enqueued();
        let sent = self.jobs.send(Job {
            invocation,
            reply,
            taken,
        });
        let pool = Arc::clone(&self.pool);
        let mut init_failure = self.pool.init_failure.subscribe();
        Box::pin(async move {
            if sent.is_err() || pool.stop.is_cancelled() {
                pool.given_up();
                if grow {
                    pool.not_started();
                }
                return Err(host_stopped());
            }
            if grow && let Err(error) = pool.start_environment().await {
                pool.not_started();
                tracing::warn!(function = %pool.name, %error, "another environment could not start; the invocation waits for a free one");
            }
            // The function's timeout runs from when an environment takes the
            // invocation, not while it waits for one.
            let waited = tokio::select! {
                biased;
                taken = on_taken => taken.map_err(|_| host_stopped()),
                // Nothing takes it any more: said at once, not after the queue's timeout.
                () = pool.stop.cancelled() => Err(host_stopped()),
                failed = init_failure.wait_for(Option::is_some) => {
                    // Not taken: the environment skips it, its answer being gone.
                    let fault = failed.ok().and_then(|failure| failure.clone());
                    Err(fault.unwrap_or_else(host_stopped))
                }
                () = tokio::time::sleep(QUEUE_TIMEOUT) => Err(FunctionFault::Crashed(format!(
                    "no environment of the function took the invocation within {} s",
                    QUEUE_TIMEOUT.as_secs()
                ))),
            };
            if waited.is_err() {
                pool.given_up();
            }
            waited?;
            let timeout = pool.config.timeout;
            let answered = tokio::select! {
                answered = tokio::time::timeout(timeout, answer) => answered,
                // Its process is killed: no answer will come.
                () = pool.stop.cancelled() => return Err(host_stopped()),
            };
            match answered {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) => Err(FunctionFault::Crashed(
                    "the function's process went away".to_owned(),
                )),
                Err(_) => {
                    tracing::warn!(function = %pool.name, "an invocation ran past its timeout; restarting its process");
                    pool.kill(&request_id);
                    Err(FunctionFault::TimedOut(timeout))
                }
            }
        })
    }

    fn enforces_timeout(&self) -> bool {
        true
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        self.pool.stop.cancel();
        self.pool.tasks.close();
        let tasks = self.pool.tasks.clone();
        Box::pin(async move { tasks.wait().await })
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

/// Records how the process ended: an init failure when it never asked for
/// work, and the end of the invocation it was running.
async fn report_exit(environment: &Environment, outcome: &str) {
    // Its last lines are in the tail before the exit is reported.
    tokio::task::yield_now().await;
    let pool = &environment.pool;
    let initialized = environment.initialized.load(Ordering::SeqCst);
    if initialized {
        tracing::warn!(function = %pool.name, %outcome, "the function's process exited; starting it again");
    } else {
        tracing::warn!(function = %pool.name, %outcome, stderr = %environment.stderr_tail(), "the function's process exited before it initialized");
        pool.init_failure.send_if_modified(|failure| {
            if failure.is_none() {
                *failure = Some(environment.exited_before_init(outcome));
                true
            } else {
                false
            }
        });
    }
    let lost = lock(&environment.in_flight).take();
    if let Some((request_id, reply)) = lost {
        pool.freed();
        let mut message =
            format!("RequestId: {request_id} Error: Runtime exited with error: {outcome}");
        let tail = environment.stderr_tail();
        if !tail.is_empty() {
            message.push('\n');
            message.push_str(&tail);
        }
        let _ = reply.send(Err(FunctionFault::Failed {
            error_type: "Runtime.ExitError".to_owned(),
            message,
        }));
    }
}

/// Runs the environment's process, starting it again whenever it exits.
async fn supervise(
    environment: Arc<Environment>,
    runtime_api: String,
    mut kills: mpsc::UnboundedReceiver<String>,
) {
    let pool = Arc::clone(&environment.pool);
    let config = &pool.config;
    let stop = pool.stop.clone();
    let Some((program, arguments)) = config.command.split_first() else {
        tracing::error!(function = %pool.name, "no command to run");
        return;
    };
    let output = TaskTracker::new();
    // Exits in a row that came soon after a start.
    let mut quick_exits = 0;
    loop {
        environment.initialized.store(false, Ordering::SeqCst);
        lock(&environment.stderr_tail).clear();
        let mut command = tokio::process::Command::new(program);
        command
            .args(arguments)
            .current_dir(&config.directory)
            .env_clear()
            .envs(&config.environment)
            .env("AWS_LAMBDA_RUNTIME_API", &runtime_api)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = tokio::time::Instant::now();
        let outcome = match command.spawn() {
            Ok(mut child) => {
                if let Some(stdout) = child.stdout.take() {
                    output.spawn(forward(Arc::clone(&environment), stdout, false));
                }
                if let Some(stderr) = child.stderr.take() {
                    output.spawn(forward(Arc::clone(&environment), stderr, true));
                }
                loop {
                    tokio::select! {
                        () = stop.cancelled() => {
                            let _ = child.kill().await;
                            output.close();
                            output.wait().await;
                            return;
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
                }
            }
            Err(error) => {
                pool.init_failure.send_replace(Some(FunctionFault::Failed {
                    error_type: "Runtime.InvalidEntrypoint".to_owned(),
                    message: format!("Error: fork/exec {program}: {error}"),
                }));
                format!("could not start {program}: {error}")
            }
        };
        report_exit(&environment, &outcome).await;
        quick_exits = if started.elapsed() > RESTART_MAX_DELAY {
            1
        } else {
            quick_exits + 1
        };
        let delay = backoff(RESTART_FIRST_DELAY, quick_exits, RESTART_MAX_DELAY);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

async fn next(State(environment): State<Arc<Environment>>) -> axum::response::Response {
    let pool = &environment.pool;
    // Asking for work ends the incarnation's init: it initialized.
    if !environment.initialized.swap(true, Ordering::SeqCst) {
        pool.init_failure.send_replace(None);
    }
    let shutting_down = || (StatusCode::GONE, "the function host is shutting down").into_response();
    let mut queue = tokio::select! {
        queue = pool.queue.lock() => queue,
        () = pool.stop.cancelled() => return shutting_down(),
    };
    let (invocation, reply) = loop {
        let job = tokio::select! {
            job = queue.recv() => job,
            () = pool.stop.cancelled() => None,
        };
        let Some(job) = job else {
            return shutting_down();
        };
        // An invocation given up while it waited is not run.
        if !job.reply.is_closed() && job.taken.send(()).is_ok() {
            break (job.invocation, job.reply);
        }
    };
    drop(queue);
    pool.taken();
    let request_id = invocation.request_id.clone();
    *lock(&environment.in_flight) = Some((request_id.clone(), reply));
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", request_id),
        (
            "lambda-runtime-deadline-ms",
            invocation.deadline_ms.to_string(),
        ),
        (
            "lambda-runtime-invoked-function-arn",
            invocation.function_arn,
        ),
        (
            "lambda-runtime-trace-id",
            format!("Root=1-00000000-{}", uuid::Uuid::new_v4().simple()),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    (headers, invocation.payload).into_response()
}

fn finish(
    environment: &Environment,
    id: &str,
    outcome: Result<Vec<u8>, FunctionFault>,
) -> StatusCode {
    let mut in_flight = lock(&environment.in_flight);
    match in_flight.take() {
        Some((current, reply)) if current == id => {
            let _ = reply.send(outcome);
            environment.pool.freed();
            StatusCode::ACCEPTED
        }
        other => {
            *in_flight = other;
            StatusCode::BAD_REQUEST
        }
    }
}

async fn respond(
    State(environment): State<Arc<Environment>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&environment, &id, Ok(body.to_vec()))
}

/// The error a runtime posted: its `errorType` (or the header's) and
/// `errorMessage`.
fn posted_error(headers: &HeaderMap, body: &[u8]) -> FunctionFault {
    let error: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let header = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|value| value.to_str().ok());
    FunctionFault::Failed {
        error_type: error
            .get("errorType")
            .and_then(serde_json::Value::as_str)
            .or(header)
            .unwrap_or("Unhandled")
            .to_owned(),
        message: error
            .get("errorMessage")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}

async fn fail(
    State(environment): State<Arc<Environment>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    finish(&environment, &id, Err(posted_error(&headers, &body)))
}

async fn init_error(
    State(environment): State<Arc<Environment>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let fault = posted_error(&headers, &body);
    let pool = &environment.pool;
    tracing::warn!(function = %pool.name, error = %fault, "the function failed to initialize");
    pool.init_failure.send_replace(Some(fault));
    StatusCode::ACCEPTED
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Generous: each of these ends at once when right, or after the
    /// queue's minute when not.
    const PROMPTLY: Duration = Duration::from_secs(10);

    fn config(script: &str) -> ProcessConfig {
        ProcessConfig {
            command: vec!["python3".to_owned(), "-c".to_owned(), script.to_owned()],
            directory: std::env::temp_dir(),
            environment: std::env::var("PATH")
                .map(|path| BTreeMap::from([("PATH".to_owned(), path)]))
                .unwrap_or_default(),
            timeout: Duration::from_mins(10),
            logs: None,
            max_environments: 1,
        }
    }

    /// A runtime that never asks for work: it is still initializing.
    const NEVER_READY: &str = "import time; time.sleep(600)";

    /// A runtime that takes one invocation and never answers it.
    const TAKES_AND_HANGS: &str = "import os, time, urllib.request\n\
        api = os.environ['AWS_LAMBDA_RUNTIME_API']\n\
        urllib.request.urlopen(f'http://{api}/2018-06-01/runtime/invocation/next').read()\n\
        print('taken', flush=True)\n\
        time.sleep(600)";

    fn invocation(id: &str) -> Invocation {
        Invocation {
            payload: b"{}".to_vec(),
            request_id: id.to_owned(),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:test".to_owned(),
            deadline_ms: 0,
        }
    }

    /// Stops `host` and checks that the invocation in `set` fails at once,
    /// as one the host can no longer run.
    async fn stop_and_expect_host_stopped(
        host: &External,
        set: &mut tokio::task::JoinSet<Result<Vec<u8>, FunctionFault>>,
    ) {
        tokio::time::timeout(PROMPTLY, host.shutdown())
            .await
            .unwrap();
        let answer = tokio::time::timeout(PROMPTLY, set.join_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(is_host_stopped(&answer), "{answer:?}");
    }

    fn is_host_stopped(answer: &Result<Vec<u8>, FunctionFault>) -> bool {
        matches!(answer, Err(FunctionFault::Crashed(message)) if message.contains("host has stopped"))
    }

    #[tokio::test]
    async fn an_invocation_waiting_for_an_environment_fails_at_once_when_the_host_stops() {
        let host = External::start("waiting", config(NEVER_READY))
            .await
            .unwrap();
        let mut waiting = tokio::task::JoinSet::new();
        waiting.spawn(host.invoke(invocation("r-1")));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            waiting.try_join_next().is_none(),
            "nothing could have taken it yet"
        );
        stop_and_expect_host_stopped(&host, &mut waiting).await;
    }

    #[tokio::test]
    async fn an_invocation_after_the_host_stopped_fails_at_once() {
        let host = External::start("stopped", config(NEVER_READY))
            .await
            .unwrap();
        tokio::time::timeout(PROMPTLY, host.shutdown())
            .await
            .unwrap();
        let answer = tokio::time::timeout(PROMPTLY, host.invoke(invocation("r-1")))
            .await
            .unwrap();
        assert!(is_host_stopped(&answer), "{answer:?}");
        let counts = lock(&host.pool.counts);
        assert_eq!(
            (counts.environments, counts.waiting),
            (1, 0),
            "the refused invocation is not counted as waiting, nor as another environment"
        );
    }

    #[tokio::test]
    async fn a_running_invocation_fails_at_once_when_the_host_stops_and_its_pool_is_freed() {
        let taken = Arc::new(tokio::sync::Notify::new());
        let mut config = config(TAKES_AND_HANGS);
        let told = Arc::clone(&taken);
        config.logs = Some(Arc::new(move |_, _, line| {
            if line == "taken" {
                told.notify_one();
            }
        }));
        let host = External::start("running", config).await.unwrap();
        let pool = Arc::downgrade(&host.pool);
        let mut running = tokio::task::JoinSet::new();
        running.spawn(host.invoke(invocation("r-1")));
        tokio::time::timeout(PROMPTLY, taken.notified())
            .await
            .unwrap();
        stop_and_expect_host_stopped(&host, &mut running).await;
        drop(host);
        assert!(
            pool.upgrade().is_none(),
            "the pool and its environments are freed once the host is gone"
        );
    }
}
