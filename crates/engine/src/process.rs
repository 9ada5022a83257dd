//! Functions run as separate processes, through the Lambda Runtime API.
//!
//! Any bootstrap built for Lambda (in any language, with any runtime
//! interface client) reads `AWS_LAMBDA_RUNTIME_API` and loops: `GET
//! …/invocation/next`, run, `POST …/invocation/{id}/response` (or
//! `/error`). [`external`] starts the process with that variable pointing
//! at a small Runtime API server of its own, hands it invocations one at a
//! time, and starts it again if it dies; an invocation it was running when
//! it died, or that ran past the function's timeout (the process is then
//! killed), fails as Lambda's would.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::backoff;
use crate::functions::{FunctionFault, FunctionHandler, Invocation};
use crate::limits::MAX_REQUEST_BODY_BYTES;
use crate::store::BoxFuture;

/// How to run a function's process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    /// The program and its arguments.
    pub command: Vec<String>,
    /// The working directory (the function's code).
    pub directory: PathBuf,
    /// The environment, beyond the Runtime API's own variables.
    pub environment: BTreeMap<String, String>,
    /// How long one invocation may run.
    pub timeout: Duration,
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

struct Shared {
    name: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>,
    in_flight: Mutex<Option<(String, Reply)>>,
    died: Notify,
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
/// handler. The process gets `AWS_LAMBDA_RUNTIME_API`, the function's
/// name and version, and `config.environment`.
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
        Box::pin(async move {
            if sent.is_err() {
                return Err(FunctionFault::Crashed(
                    "the function's host has stopped".to_owned(),
                ));
            }
            // The function's timeout runs from when its process takes the
            // invocation, not while it waits for the process.
            if tokio::time::timeout(QUEUE_TIMEOUT, on_taken).await.is_err() {
                return Err(FunctionFault::Crashed(format!(
                    "the function's process did not take the invocation within {} s",
                    QUEUE_TIMEOUT.as_secs()
                )));
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

/// Runs the process, starting it again whenever it exits.
async fn supervise(
    shared: Arc<Shared>,
    config: ProcessConfig,
    runtime_api: String,
    mut kills: mpsc::UnboundedReceiver<String>,
    stop: CancellationToken,
) {
    // Exits in a row that came soon after a start.
    let mut quick_exits = 0;
    loop {
        let Some((program, arguments)) = config.command.split_first() else {
            tracing::error!(function = %shared.name, "no command to run");
            return;
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(arguments)
            .current_dir(&config.directory)
            .envs(&config.environment)
            .env("AWS_LAMBDA_RUNTIME_API", &runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &shared.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_TIMEOUT",
                config.timeout.as_secs().to_string(),
            )
            .env("LAMBDA_TASK_ROOT", &config.directory)
            .kill_on_drop(true);
        let started = tokio::time::Instant::now();
        let outcome = match command.spawn() {
            Ok(mut child) => {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => {
                            let _ = child.kill().await;
                            return;
                        }
                        status = child.wait() => {
                            break status.map_or_else(|error| error.to_string(), |status| status.to_string());
                        }
                        Some(request_id) = kills.recv() => {
                            // Only if the invocation that timed out is the one it runs.
                            let running = shared.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
                                .as_ref().is_some_and(|(current, _)| *current == request_id);
                            if running {
                                let _ = child.kill().await;
                                break "killed after a timeout".to_owned();
                            }
                        }
                    }
                }
            }
            Err(error) => format!("could not start {program}: {error}"),
        };
        tracing::warn!(function = %shared.name, %outcome, "the function's process exited; starting it again");
        let lost = shared
            .in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((_, reply)) = lost {
            let _ = reply.send(Err(FunctionFault::Crashed(format!(
                "the function's process exited ({outcome})"
            ))));
        }
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
    *shared
        .in_flight
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((request_id.clone(), reply));
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
    let mut in_flight = shared
        .in_flight
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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

async fn fail(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let error: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let fault = FunctionFault::Failed {
        error_type: error
            .get("errorType")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("Unhandled")
            .to_owned(),
        message: error
            .get("errorMessage")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    finish(&shared, &id, Err(fault))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    tracing::error!(function = %shared.name, error = %String::from_utf8_lossy(&body), "the function failed to initialize");
    StatusCode::ACCEPTED
}
