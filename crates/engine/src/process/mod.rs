//! Functions run as separate processes, through the Lambda Runtime API.
//!
//! Any bootstrap built for Lambda (in any language, with any runtime
//! interface client) reads `AWS_LAMBDA_RUNTIME_API` and loops: `GET
//! …/invocation/next`, run, `POST …/invocation/{id}/response` (or
//! `/error`). [`external`] runs the function as Lambda does, in execution
//! environments: each is one process with that variable pointing at a small
//! Runtime API server of its own, taking one invocation at a time.
//!
//! Environments follow the invocations, as on Lambda. None runs until the
//! function is first invoked: that invocation starts one (a cold start,
//! whose init duration is reported), and later ones reuse it while it is
//! warm. An invocation that finds every environment busy starts another
//! (up to [`ProcessConfig::max_environments`]), so concurrent invocations
//! run concurrently. An environment that waits for work past
//! [`ProcessConfig::idle_timeout`] is stopped, and so are the warm ones
//! when a file of the function's code changes (those running an invocation
//! once it ends), so the next invocation runs the new code.
//!
//! Failures are answered as Lambda answers them, at once, and nothing is
//! started again in the background: a process that reports
//! `/runtime/init/error`, or exits before it asks for work, fails the
//! invocations waiting for it with that init error
//! (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`,
//! `Runtime.ExitError` with the tail of its stderr), and the next
//! invocation tries a new environment; an invocation it was running when
//! it died, or that ran past the function's timeout (counted from when the
//! process took it; the process is then killed), fails as Lambda's would.
//! When the host stops, its processes are killed and every invocation
//! waiting for one or running in one fails at once.
//!
//! What the process writes goes to the function's log: its stdout and
//! stderr line by line, and the records a managed runtime frames on its
//! telemetry descriptor one event each (see `telemetry`).

mod code;
mod pool;
mod runtime_api;
mod telemetry;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use self::pool::{DEFAULT_IDLE_TIMEOUT, Stopped};
use self::pool::{Job, Pool};
use crate::functions::{FunctionFault, FunctionHandler, Invocation};
use futures_util::future::BoxFuture;

/// Where a function's output lines go: the function, the invocation it was
/// running when it wrote the line (if any), and the line.
pub type LogSink = Arc<dyn Fn(&str, Option<&str>, &str) + Send + Sync>;

/// What happened to one of a function's environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvironmentEvent {
    /// A new environment's process asked for its first invocation, `init`
    /// after it started (Lambda's `Init Duration`).
    Initialized {
        /// How long its init took.
        init: Duration,
    },
    /// An environment stopped.
    Stopped {
        /// Why.
        reason: Stopped,
    },
}

/// Where a function's environment events go: the function and the event.
pub type EnvironmentSink = Arc<dyn Fn(&str, EnvironmentEvent) + Send + Sync>;

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
    /// How long an environment may wait for an invocation before it is
    /// stopped.
    pub idle_timeout: Duration,
    /// The files and directories of its code: when one changes, its warm
    /// environments are replaced. Empty: not watched.
    pub code: Vec<PathBuf>,
    /// Where its environments' events go.
    pub events: Option<EnvironmentSink>,
}

/// Environments a function runs at most, unless its configuration says.
pub const DEFAULT_MAX_ENVIRONMENTS: u16 = 10;

impl std::fmt::Debug for ProcessConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessConfig")
            .field("command", &self.command)
            .field("directory", &self.directory)
            .field("timeout", &self.timeout)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// How long an invocation may wait for an environment to take it (while
/// one starts, or every one runs an earlier invocation).
const QUEUE_TIMEOUT: Duration = Duration::from_mins(1);

/// A function run as separate processes.
struct External {
    jobs: mpsc::UnboundedSender<Job>,
    pool: Arc<Pool>,
}

/// Runs the function `name` as `config`'s processes and returns its
/// handler. Each process gets `config.environment` and
/// `AWS_LAMBDA_RUNTIME_API`, in its code directory. No process starts
/// before the first invocation.
#[must_use]
pub fn external(name: &str, config: ProcessConfig) -> Arc<dyn FunctionHandler> {
    Arc::new(External::new(name, config))
}

/// The answer to an invocation the host can no longer run.
fn host_stopped() -> FunctionFault {
    FunctionFault::Crashed("the function's host has stopped".to_owned())
}

impl External {
    fn new(name: &str, config: ProcessConfig) -> Self {
        let (pool, jobs) = Pool::new(name, config);
        Self { jobs, pool }
    }
}

impl FunctionHandler for External {
    fn invoke(&self, invocation: Invocation) -> BoxFuture<'static, Result<Vec<u8>, FunctionFault>> {
        let (reply, answer) = oneshot::channel();
        let (taken, on_taken) = oneshot::channel();
        let request_id = invocation.request_id.clone();
        // Watched from before it is queued: an init failure from then on is
        // its answer.
        let mut init_failure = self.pool.init_failure.subscribe();
        let pool = Arc::clone(&self.pool);
        if pool.stop.is_cancelled() {
            return Box::pin(async { Err(host_stopped()) });
        }
        let start = pool.enqueued();
        let sent = self.jobs.send(Job {
            invocation,
            reply,
            taken,
        });
        Box::pin(async move {
            if sent.is_err() {
                pool.given_up();
                return Err(host_stopped());
            }
            if let Some(id) = start {
                pool.start(id).await;
            }
            // The function's timeout runs from when an environment takes the
            // invocation, not while it waits for one.
            let waited = tokio::select! {
                biased;
                taken = on_taken => taken.map_err(|_| host_stopped()),
                // Nothing takes it any more: said at once, not after the queue's timeout.
                () = pool.stop.cancelled() => Err(host_stopped()),
                failed = init_failure.changed() => {
                    // Not taken: the environment skips it, its answer being gone.
                    let fault = failed.ok().and_then(|()| init_failure.borrow().clone());
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
                    tracing::warn!(function = %pool.name, "an invocation ran past its timeout; its environment is stopped");
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Generous: each of these ends at once when right, or after the
    /// queue's minute when not. These tests run real processes, so they
    /// wait on real time.
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
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            code: Vec::new(),
            events: None,
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

    /// A runtime that answers every invocation with its process id; it
    /// fails to initialize while the file `$BROKEN` exists.
    const ANSWERS_ITS_PID: &str = "import json, os, urllib.request\n\
        api = os.environ['AWS_LAMBDA_RUNTIME_API']\n\
        base = f'http://{api}/2018-06-01/runtime'\n\
        if os.path.exists(os.environ.get('BROKEN', '/nonexistent')):\n\
        \x20   body = json.dumps({'errorType': 'Runtime.ImportModuleError', 'errorMessage': 'broken'}).encode()\n\
        \x20   urllib.request.urlopen(urllib.request.Request(base + '/init/error', data=body, method='POST'))\n\
        \x20   raise SystemExit(1)\n\
        while True:\n\
        \x20   with urllib.request.urlopen(base + '/invocation/next') as response:\n\
        \x20       request = response.headers['lambda-runtime-aws-request-id']\n\
        \x20   answer = str(os.getpid()).encode()\n\
        \x20   urllib.request.urlopen(urllib.request.Request(f'{base}/invocation/{request}/response', data=answer, method='POST'))";

    fn invocation(id: &str) -> Invocation {
        Invocation {
            payload: b"{}".to_vec(),
            request_id: id.to_owned(),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:test".to_owned(),
            deadline_ms: 0,
        }
    }

    /// The events of a host's environments, as they come.
    fn recorded(config: &mut ProcessConfig) -> Arc<Mutex<Vec<EnvironmentEvent>>> {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        config.events = Some(Arc::new(move |_, event| {
            pool::lock(&sink).push(event);
        }));
        events
    }

    fn initialized(events: &Mutex<Vec<EnvironmentEvent>>) -> usize {
        pool::lock(events)
            .iter()
            .filter(|event| matches!(event, EnvironmentEvent::Initialized { .. }))
            .count()
    }

    async fn answer(host: &External, id: &str) -> Result<Vec<u8>, FunctionFault> {
        tokio::time::timeout(PROMPTLY, host.invoke(invocation(id)))
            .await
            .expect("answered promptly")
    }

    /// Waits until `condition` holds, checking every 20 ms.
    async fn until(what: &str, condition: impl Fn() -> bool) {
        let waited = tokio::time::timeout(PROMPTLY, async {
            while !condition() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "{what}");
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
    async fn no_environment_runs_before_the_first_invocation_and_later_ones_reuse_it() {
        let mut config = config(ANSWERS_ITS_PID);
        let events = recorded(&mut config);
        let host = External::new("lazy", config);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(host.pool.counts().environments(), 0);
        assert_eq!(initialized(&events), 0);
        let first = answer(&host, "r-1").await.unwrap();
        let second = answer(&host, "r-2").await.unwrap();
        assert_eq!(first, second, "the warm environment answers again");
        assert_eq!(initialized(&events), 1, "one cold start");
        host.shutdown().await;
    }

    #[tokio::test]
    async fn an_environment_idle_past_its_timeout_is_stopped_and_the_next_invocation_starts_another()
     {
        let mut config = config(ANSWERS_ITS_PID);
        config.idle_timeout = Duration::from_millis(300);
        let events = recorded(&mut config);
        let host = External::new("idle", config);
        let first = answer(&host, "r-1").await.unwrap();
        until("the idle environment stops", || {
            pool::lock(&events).contains(&EnvironmentEvent::Stopped {
                reason: Stopped::Idle,
            })
        })
        .await;
        until("it is counted out", || {
            host.pool.counts().environments() == 0
        })
        .await;
        let second = answer(&host, "r-2").await.unwrap();
        assert_ne!(first, second, "a new process");
        assert_eq!(initialized(&events), 2);
        host.shutdown().await;
    }

    #[tokio::test]
    async fn each_invocation_of_a_function_that_cannot_initialize_gets_its_error_and_a_fix_is_picked_up()
     {
        let directory = tempfile::tempdir().unwrap();
        let broken = directory.path().join("broken");
        std::fs::write(&broken, "").unwrap();
        let mut config = config(ANSWERS_ITS_PID);
        config
            .environment
            .insert("BROKEN".to_owned(), broken.display().to_string());
        let events = recorded(&mut config);
        let host = External::new("broken", config);
        for id in ["r-1", "r-2"] {
            let error = answer(&host, id).await.unwrap_err();
            assert!(
                matches!(&error, FunctionFault::Failed { error_type, .. } if error_type == "Runtime.ImportModuleError"),
                "{error:?}"
            );
        }
        // Nothing is started again in the background.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stops = pool::lock(&events)
            .iter()
            .filter(|event| {
                **event
                    == EnvironmentEvent::Stopped {
                        reason: Stopped::InitFailed,
                    }
            })
            .count();
        assert_eq!(
            stops,
            2,
            "one try per invocation: {:?}",
            pool::lock(&events)
        );
        assert_eq!(host.pool.counts().environments(), 0);
        std::fs::remove_file(&broken).unwrap();
        assert!(answer(&host, "r-3").await.is_ok(), "the fix is picked up");
        host.shutdown().await;
    }

    #[tokio::test]
    async fn a_change_to_the_code_replaces_the_warm_environment() {
        let directory = tempfile::tempdir().unwrap();
        let handler = directory.path().join("handler.py");
        std::fs::write(&handler, "v1").unwrap();
        let mut config = config(ANSWERS_ITS_PID);
        config.code = vec![directory.path().to_path_buf()];
        let events = recorded(&mut config);
        let host = External::new("edited", config);
        let first = answer(&host, "r-1").await.unwrap();
        assert_eq!(answer(&host, "r-2").await.unwrap(), first, "warm");
        std::fs::write(&handler, "v2").unwrap();
        until("the warm environment stops", || {
            pool::lock(&events).contains(&EnvironmentEvent::Stopped {
                reason: Stopped::CodeChanged,
            })
        })
        .await;
        let after = answer(&host, "r-3").await.unwrap();
        assert_ne!(after, first, "a new process runs the new code");
        host.shutdown().await;
    }

    #[tokio::test]
    async fn an_invocation_waiting_for_an_environment_fails_at_once_when_the_host_stops() {
        let host = External::new("waiting", config(NEVER_READY));
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
        let host = External::new("stopped", config(NEVER_READY));
        tokio::time::timeout(PROMPTLY, host.shutdown())
            .await
            .unwrap();
        let answer = tokio::time::timeout(PROMPTLY, host.invoke(invocation("r-1")))
            .await
            .unwrap();
        assert!(is_host_stopped(&answer), "{answer:?}");
        let counts = host.pool.counts();
        assert_eq!(
            (counts.environments(), counts.waiting),
            (0, 0),
            "the refused invocation is not counted as waiting, nor as an environment"
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
        let host = External::new("running", config);
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

    #[tokio::test]
    async fn a_record_framed_on_the_telemetry_descriptor_is_one_log_line() {
        let script = "import os, struct, time\n\
            fd = int(os.environ['_LAMBDA_TELEMETRY_LOG_FD'])\n\
            record = b'[ERROR] boom\\nTraceback (most recent call last):\\n  File x'\n\
            os.write(fd, struct.pack('>IIQ', 0xA55A0017, len(record), int(time.time() * 1e6)) + record)\n\
            print('plain line', flush=True)\n\
            time.sleep(600)";
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut config = config(script);
        let sink = Arc::clone(&lines);
        config.logs = Some(Arc::new(move |_, _, line| {
            pool::lock(&sink).push(line.to_owned());
        }));
        let host = External::new("framed", config);
        let mut waiting = tokio::task::JoinSet::new();
        waiting.spawn(host.invoke(invocation("r-1")));
        until("both lines arrive", || pool::lock(&lines).len() == 2).await;
        let mut lines = pool::lock(&lines).clone();
        lines.sort();
        assert_eq!(
            lines,
            [
                "[ERROR] boom\nTraceback (most recent call last):\n  File x",
                "plain line"
            ]
        );
        host.shutdown().await;
    }
}
