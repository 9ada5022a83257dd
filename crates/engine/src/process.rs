//! Functions run as separate processes, through the Lambda Runtime API.
//!
//! Any bootstrap built for Lambda (in any language, with any runtime
//! interface client) reads `AWS_LAMBDA_RUNTIME_API` and loops: `GET
//! …/invocation/next`, run, `POST …/invocation/{id}/response` (or
//! `/error`). [`external`] starts the process with that variable pointing
//! at a small Runtime API server of its own, hands it invocations one at a
//! time, and starts it again if it dies.
//!
//! Failures are answered as Lambda answers them, at once: a process that
//! reports `/runtime/init/error`, or exits before it asks for work, fails
//! every invocation with that init error (`Runtime.ImportModuleError`,
//! `Runtime.HandlerNotFound`, `Runtime.ExitError` with the tail of its
//! stderr) until an incarnation of it initializes; an invocation it was
//! running when it died, or that ran past the function's timeout (counted
//! from when the process took it; the process is then killed), fails as
//! Lambda's would. What the process writes goes, line by line, to the
//! function's log.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::{Notify, mpsc, oneshot, watch};
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
}

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

/// One invocation waiting for the process: what to run, where the answer
/// goes, and who to tell when the process takes it.
struct Job {
    invocation: Invocation,
    reply: Reply,
    taken: oneshot::Sender<()>,
}

/// How long an invocation may wait for the process to take it (while it
/// starts, or runs an earlier invocation).
const QUEUE_TIMEOUT: Duration = Duration::from_mins(1);

/// The delay before a process that exited is started again, doubling
/// while it keeps exiting soon after it starts, up to the most.
const RESTART_FIRST_DELAY: Duration = Duration::from_millis(100);
const RESTART_MAX_DELAY: Duration = Duration::from_secs(10);

/// How many of its last stderr lines an exit error carries.
const STDERR_TAIL: usize = 10;

struct Shared {
    name: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>,
    in_flight: Mutex<Option<(String, Reply)>>,
    died: Notify,
    /// Why the function cannot initialize, until an incarnation of its
    /// process asks for work.
    init_failure: watch::Sender<Option<FunctionFault>>,
    /// Whether the current incarnation has asked for work.
    initialized: AtomicBool,
    /// The last lines the process wrote on stderr.
    stderr_tail: Mutex<VecDeque<String>>,
    logs: Option<LogSink>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
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
        if let Some(logs) = &self.logs {
            logs(&self.name, self.running().as_deref(), line);
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

/// A function run as a separate process.
struct External {
    jobs: mpsc::UnboundedSender<Job>,
    shared: Arc<Shared>,
    timeout: Duration,
    kill: mpsc::UnboundedSender<String>,
    /// The Runtime API server and the supervisor.
    tasks: TaskTracker,
    /// Stops both: the process is killed and not started again.
    stop: CancellationToken,
}

/// Starts `config`'s process for the function `name` and returns its
/// handler. The process gets `config.environment` and
/// `AWS_LAMBDA_RUNTIME_API`, in its code directory.
///
/// # Errors
///
/// When the Runtime API's port cannot be opened.
pub async fn external(
    name: &str,
    config: ProcessConfig,
) -> std::io::Result<Arc<dyn FunctionHandler>> {
    let (jobs, queue) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        name: name.to_owned(),
        queue: tokio::sync::Mutex::new(queue),
        in_flight: Mutex::new(None),
        died: Notify::new(),
        init_failure: watch::Sender::new(None),
        initialized: AtomicBool::new(false),
        stderr_tail: Mutex::new(VecDeque::new()),
        logs: config.logs.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY_BYTES))
        .with_state(Arc::clone(&shared));
    let tasks = TaskTracker::new();
    let stop = CancellationToken::new();
    let stopped = stop.clone().cancelled_owned();
    tasks.spawn(async move {
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(%error, "a function's Runtime API server stopped");
        }
    });
    let (kill, kills) = mpsc::unbounded_channel::<String>();
    tasks.spawn(supervise(
        Arc::clone(&shared),
        config.clone(),
        address.to_string(),
        kills,
        stop.clone(),
    ));
    tasks.close();
    Ok(Arc::new(External {
        jobs,
        shared,
        timeout: config.timeout,
        kill,
        tasks,
        stop,
    }))
}

impl FunctionHandler for External {
    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Vec<u8>, FunctionFault>> {
        let (reply, answer) = oneshot::channel();
        let (taken, on_taken) = oneshot::channel();
        let request_id = invocation.request_id.clone();
        let sent = self.jobs.send(Job {
            invocation,
            reply,
            taken,
        });
        let timeout = self.timeout;
        let kill = self.kill.clone();
        let shared = Arc::clone(&self.shared);
        let mut init_failure = self.shared.init_failure.subscribe();
        Box::pin(async move {
            if sent.is_err() {
                return Err(FunctionFault::Crashed(
                    "the function's host has stopped".to_owned(),
                ));
            }
            // The function's timeout runs from when its process takes the
            // invocation, not while it waits for the process.
            tokio::select! {
                taken = on_taken => if taken.is_err() {
                    return Err(FunctionFault::Crashed("the function's host has stopped".to_owned()));
                },
                failed = init_failure.wait_for(Option::is_some) => {
                    // Not taken: the process skips it, its answer being gone.
                    let fault = failed.ok().and_then(|failure| failure.clone());
                    return Err(fault.unwrap_or_else(|| {
                        FunctionFault::Crashed("the function's host has stopped".to_owned())
                    }));
                }
                () = tokio::time::sleep(QUEUE_TIMEOUT) => {
                    return Err(FunctionFault::Crashed(format!(
                        "the function's process did not take the invocation within {} s",
                        QUEUE_TIMEOUT.as_secs()
                    )));
                }
            }
            match tokio::time::timeout(timeout, answer).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) => Err(FunctionFault::Crashed(
                    "the function's process went away".to_owned(),
                )),
                Err(_) => {
                    tracing::warn!(function = %shared.name, "an invocation ran past its timeout; restarting the process");
                    let _ = kill.send(request_id);
                    Err(FunctionFault::TimedOut(timeout))
                }
            }
        })
    }

    fn enforces_timeout(&self) -> bool {
        true
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        self.stop.cancel();
        let tasks = self.tasks.clone();
        Box::pin(async move { tasks.wait().await })
    }
}

/// Forwards each line of `output` to the function's log.
async fn forward(shared: Arc<Shared>, output: impl tokio::io::AsyncRead + Unpin, stderr: bool) {
    let mut lines = BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        shared.log(&line, stderr);
    }
}

/// Records how the process ended: an init failure when it never asked for
/// work, and the end of the invocation it was running.
async fn report_exit(shared: &Shared, outcome: &str) {
    // Its last lines are in the tail before the exit is reported.
    tokio::task::yield_now().await;
    let initialized = shared.initialized.load(Ordering::SeqCst);
    if initialized {
        tracing::warn!(function = %shared.name, %outcome, "the function's process exited; starting it again");
    } else {
        tracing::warn!(function = %shared.name, %outcome, stderr = %shared.stderr_tail(), "the function's process exited before it initialized");
        shared.init_failure.send_if_modified(|failure| {
            if failure.is_none() {
                *failure = Some(shared.exited_before_init(outcome));
                true
            } else {
                false
            }
        });
    }
    let lost = lock(&shared.in_flight).take();
    if let Some((request_id, reply)) = lost {
        let mut message =
            format!("RequestId: {request_id} Error: Runtime exited with error: {outcome}");
        let tail = shared.stderr_tail();
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

/// Runs the process, starting it again whenever it exits.
async fn supervise(
    shared: Arc<Shared>,
    config: ProcessConfig,
    runtime_api: String,
    mut kills: mpsc::UnboundedReceiver<String>,
    stop: CancellationToken,
) {
    let Some((program, arguments)) = config.command.split_first() else {
        tracing::error!(function = %shared.name, "no command to run");
        return;
    };
    let output = TaskTracker::new();
    // Exits in a row that came soon after a start.
    let mut quick_exits = 0;
    loop {
        shared.initialized.store(false, Ordering::SeqCst);
        lock(&shared.stderr_tail).clear();
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
                    output.spawn(forward(Arc::clone(&shared), stdout, false));
                }
                if let Some(stderr) = child.stderr.take() {
                    output.spawn(forward(Arc::clone(&shared), stderr, true));
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
                            if shared.running().as_deref() == Some(request_id.as_str()) {
                                let _ = child.kill().await;
                                break "killed after a timeout".to_owned();
                            }
                        }
                    }
                }
            }
            Err(error) => {
                shared
                    .init_failure
                    .send_replace(Some(FunctionFault::Failed {
                        error_type: "Runtime.InvalidEntrypoint".to_owned(),
                        message: format!("Error: fork/exec {program}: {error}"),
                    }));
                format!("could not start {program}: {error}")
            }
        };
        report_exit(&shared, &outcome).await;
        shared.died.notify_waiters();
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

async fn next(State(shared): State<Arc<Shared>>) -> axum::response::Response {
    // Asking for work ends the incarnation's init: it initialized.
    if !shared.initialized.swap(true, Ordering::SeqCst) {
        shared.init_failure.send_replace(None);
    }
    let mut queue = shared.queue.lock().await;
    let (invocation, reply) = loop {
        let Some(job) = queue.recv().await else {
            return (StatusCode::GONE, "the function host is shutting down").into_response();
        };
        // An invocation given up while it waited is not run.
        if !job.reply.is_closed() && job.taken.send(()).is_ok() {
            break (job.invocation, job.reply);
        }
    };
    drop(queue);
    let request_id = invocation.request_id.clone();
    *lock(&shared.in_flight) = Some((request_id.clone(), reply));
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

fn finish(shared: &Shared, id: &str, outcome: Result<Vec<u8>, FunctionFault>) -> StatusCode {
    let mut in_flight = lock(&shared.in_flight);
    match in_flight.take() {
        Some((current, reply)) if current == id => {
            let _ = reply.send(outcome);
            StatusCode::ACCEPTED
        }
        other => {
            *in_flight = other;
            StatusCode::BAD_REQUEST
        }
    }
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, Ok(body.to_vec()))
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
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    finish(&shared, &id, Err(posted_error(&headers, &body)))
}

async fn init_error(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let fault = posted_error(&headers, &body);
    tracing::warn!(function = %shared.name, error = %fault, "the function failed to initialize");
    shared.init_failure.send_replace(Some(fault));
    StatusCode::ACCEPTED
}
