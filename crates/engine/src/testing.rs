//! What tests of the engine, of the `orders` command and the benchmarks
//! share: one way to build an engine, to register a durable function
//! written on the SDK, and to wait for what an execution does.
//!
//! Waiting is always for an event (a status, an invocation's end, the
//! execution's end), never for a fixed time. Under tokio's paused time
//! ([`TestEngine::build`] over the default [`MemoryStore`]) the engine's
//! waits and timeouts take no real time at all.

use std::sync::Arc;
use std::time::Duration;

use aws_durable_execution_sdk as durable;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::Result;
use crate::engine::{Engine, EngineOptions, Progress, StartRequest};
use crate::execution::ExecutionRecord;
use crate::functions::{DurableConfig, Function, FunctionConfig, in_process};
use crate::model::ExecutionStatus;
use crate::store::error::Result as StoreResult;
use crate::store::{MemoryStore, Store};

/// How long a test waits for an execution before it gives up (on tokio's
/// clock: virtual under paused time).
pub const PATIENCE: Duration = Duration::from_mins(10);

/// Builds an engine for a test or a benchmark.
#[derive(Debug, Clone)]
pub struct TestEngine {
    options: EngineOptions,
    store: Option<Arc<dyn Store>>,
}

impl Default for TestEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEngine {
    /// Real time, an in-memory store, failed invocations retried after
    /// 100 ms.
    #[must_use]
    pub fn new() -> Self {
        Self {
            options: EngineOptions {
                invocation_retry_delay: Duration::from_millis(100),
                ..EngineOptions::default()
            },
            store: None,
        }
    }

    /// Multiplies durable waits and retry delays by `scale`.
    #[must_use]
    pub const fn time_scale(mut self, scale: f64) -> Self {
        self.options.time_scale = scale;
        self
    }

    /// Changes any other option.
    #[must_use]
    pub fn options(mut self, change: impl FnOnce(&mut EngineOptions)) -> Self {
        change(&mut self.options);
        self
    }

    /// Over `store` instead of a fresh in-memory one.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The engine, with no functions yet. Its clock is read now: build it
    /// inside the test's runtime.
    #[must_use]
    pub fn build(self) -> Engine {
        let mut options = self.options;
        options.clock = crate::Clock::system();
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        Engine::new(options, store)
    }
}

/// Registers `handler` as the durable function `name` (with the alias
/// `live`), checkpointing to `engine` through the in-process Lambda client.
///
/// # Panics
///
/// When the SDK refuses its options (it does not).
#[expect(clippy::expect_used, reason = "test support")]
pub fn durable<E, O, F, Fut>(engine: &Engine, name: &str, config: DurableConfig, handler: F)
where
    E: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    F: Fn(E, durable::DurableContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<O, durable::BoxError>> + Send + 'static,
{
    let options = durable::Options::builder()
        .lambda_client(crate::transport::lambda_client(engine))
        .build()
        .expect("the SDK's options");
    let service = Arc::new(durable::wrap(handler, options));
    engine.register(Function::new(
        FunctionConfig::durable(name, config).with_alias("live"),
        in_process(
            move |event: lambda_runtime::LambdaEvent<durable::InvocationPayload>| {
                let service = Arc::clone(&service);
                async move { service(event).await }
            },
        ),
    ));
}

/// A durable configuration with a 60 s execution timeout.
#[must_use]
pub const fn config() -> DurableConfig {
    DurableConfig {
        execution_timeout: 60,
        retention_days: 1,
    }
}

/// Starts `function` at `$LATEST` with `input` and returns the execution's ARN.
///
/// # Errors
///
/// As [`Engine::start`].
pub async fn start(engine: &Engine, function: &str, input: &str) -> Result<String> {
    let started = engine
        .start(StartRequest {
            function: function.to_owned(),
            qualifier: Some("$LATEST".to_owned()),
            name: None,
            input: input.as_bytes().to_vec(),
        })
        .await?;
    Ok(started.arn)
}

/// Waits (at most [`PATIENCE`]) for `arn` to end.
///
/// # Panics
///
/// When it does not end in time, or is unknown.
#[expect(clippy::expect_used, reason = "test support")]
pub async fn finished(engine: &Engine, arn: &str) -> ExecutionRecord {
    tokio::time::timeout(PATIENCE, engine.wait(arn))
        .await
        .expect("the execution ends in time")
        .expect("the execution exists")
}

/// Waits (at most [`PATIENCE`]) until `done` holds of `arn`'s record,
/// looking again whenever something happens to the execution.
///
/// # Panics
///
/// When it does not hold in time.
#[expect(clippy::expect_used, clippy::panic, reason = "test support")]
pub async fn until(engine: &Engine, arn: &str, done: impl Fn(&ExecutionRecord) -> bool) {
    let mut progress = engine.subscribe();
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            let record = engine.execution(arn).await.expect("the execution exists");
            if done(&record) {
                return;
            }
            loop {
                match progress.recv().await {
                    Ok(event) if event.arn() == arn => break,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        panic!("the engine stopped")
                    }
                }
            }
        }
    })
    .await;
    waited.expect("the condition holds in time");
}

/// Waits until `arn` is `status`.
pub async fn until_status(engine: &Engine, arn: &str, status: ExecutionStatus) {
    until(engine, arn, |record| record.status == status).await;
}

/// Waits until `arn` has had `count` invocations end.
///
/// # Panics
///
/// When the history cannot be read.
#[expect(clippy::expect_used, reason = "test support")]
pub async fn until_invocations_ended(engine: &Engine, arn: &str, count: usize) {
    let mut progress = engine.subscribe();
    loop {
        if self::count(engine, arn, "InvocationCompleted").await >= count {
            return;
        }
        let event = tokio::time::timeout(PATIENCE, progress.recv())
            .await
            .expect("an invocation ends in time");
        if let Err(tokio::sync::broadcast::error::RecvError::Closed) = event {
            return;
        }
    }
}

/// The event types of `arn`'s history, in order.
///
/// # Panics
///
/// When the history cannot be read.
#[expect(clippy::expect_used, reason = "test support")]
pub async fn event_types(engine: &Engine, arn: &str) -> Vec<String> {
    engine
        .history(arn, None, Some(1000), false, true)
        .await
        .expect("the history")
        .events
        .into_iter()
        .map(|event| event.event_type)
        .collect()
}

/// How many times `event_type` occurs in `arn`'s history.
pub async fn count(engine: &Engine, arn: &str, event_type: &str) -> usize {
    event_types(engine, arn)
        .await
        .iter()
        .filter(|t| *t == event_type)
        .count()
}

/// Registers a function that creates a callback `approval`, publishes its
/// id, and returns what the callback delivers (`approved by …`).
#[must_use]
pub fn callback_function(
    engine: &Engine,
    name: &str,
    timeout: Option<Duration>,
    heartbeat: Option<Duration>,
) -> tokio::sync::watch::Receiver<Option<String>> {
    let (sender, receiver) = tokio::sync::watch::channel(None);
    let sender = Arc::new(sender);
    durable(
        engine,
        name,
        config(),
        move |_: serde_json::Value, ctx: durable::DurableContext| {
            let sender = Arc::clone(&sender);
            async move {
                let mut builder = ctx.create_callback::<String>().name("approval");
                if let Some(timeout) = timeout {
                    builder = builder.timeout(timeout);
                }
                if let Some(heartbeat) = heartbeat {
                    builder = builder.heartbeat(heartbeat);
                }
                let callback = builder.await?;
                sender.send_replace(Some(callback.id().to_owned()));
                let approval = callback.result().await?;
                Ok(format!("approved by {approval}"))
            }
        },
    );
    receiver
}

/// The id a [`callback_function`] published.
///
/// # Panics
///
/// When none is published in time.
#[expect(clippy::expect_used, reason = "test support")]
pub async fn callback_id(mut ids: tokio::sync::watch::Receiver<Option<String>>) -> String {
    tokio::time::timeout(PATIENCE, ids.wait_for(Option::is_some))
        .await
        .expect("a callback id in time")
        .expect("the function is registered")
        .clone()
        .unwrap_or_default()
}

/// Waits for `progress` to show the execution `arn` ending.
pub async fn ended(mut progress: tokio::sync::broadcast::Receiver<Progress>, arn: &str) {
    loop {
        match progress.recv().await {
            Ok(Progress::Finished { arn: of, .. }) if of == arn => return,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            _ => {}
        }
    }
}

/// A store that refuses writes on command, as a full disk does, holds
/// writes and name lookups on command, as a slow disk does, and otherwise
/// goes through to the store it wraps.
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    /// Writes still accepted before refusing (`u64::MAX`: all of them).
    accepted: std::sync::atomic::AtomicU64,
    refused: std::sync::atomic::AtomicU64,
    /// The next write panics (in the task that makes it).
    panic_next: std::sync::atomic::AtomicBool,
    /// What waits: writes, name lookups.
    held: tokio::sync::watch::Sender<Held>,
}

/// What a [`FaultyStore`] holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    /// Writes wait.
    pub writes: bool,
    /// Lookups of an execution by name wait.
    pub lookups: bool,
}

impl FaultyStore {
    /// The message SQLite gives for a full disk.
    pub const FULL: &'static str = "database or disk is full";

    /// Wraps `inner`, accepting every write for now.
    #[must_use]
    pub fn new(inner: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            accepted: std::sync::atomic::AtomicU64::new(u64::MAX),
            refused: std::sync::atomic::AtomicU64::new(0),
            panic_next: std::sync::atomic::AtomicBool::new(false),
            held: tokio::sync::watch::Sender::new(Held::default()),
        })
    }

    /// Makes what `held` names wait until [`FaultyStore::release`].
    pub fn hold(&self, held: Held) {
        self.held.send_replace(held);
    }

    /// Lets everything through again.
    pub fn release(&self) {
        self.held.send_replace(Held::default());
    }

    /// Resolves once what `which` picks is not held.
    fn unheld(&self, which: fn(&Held) -> bool) -> impl Future<Output = ()> + Send + 'static {
        let mut held = self.held.subscribe();
        async move {
            let _ = held.wait_for(|held| !which(held)).await;
        }
    }

    /// Accepts `count` more writes, then refuses every one.
    pub fn refuse_after(&self, count: u64) {
        self.accepted
            .store(count, std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes the next write panic, as a bug under it would: the task that
    /// writes (an execution's actor) ends.
    pub fn panic_next_write(&self) {
        self.panic_next
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Accepts every write again.
    pub fn heal(&self) {
        self.refuse_after(u64::MAX);
    }

    /// How many writes were refused so far.
    #[must_use]
    pub fn refused(&self) -> u64 {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Store for FaultyStore {
    fn write(
        &self,
        batch: crate::store::WriteBatch,
    ) -> futures_util::future::BoxFuture<'static, StoreResult<()>> {
        use std::sync::atomic::Ordering;
        #[expect(
            clippy::manual_assert,
            clippy::panic,
            reason = "the fault this store is asked for"
        )]
        if self.panic_next.swap(false, Ordering::SeqCst) {
            panic!("the store's write panicked, as asked");
        }
        let accepted = self
            .accepted
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| match left {
                u64::MAX => Some(u64::MAX),
                0 => None,
                left => Some(left - 1),
            })
            .is_ok();
        if accepted {
            // Queued once the store is no longer held.
            let unheld = self.unheld(|held| held.writes);
            let inner = Arc::clone(&self.inner);
            Box::pin(async move {
                unheld.await;
                inner.write(batch).await
            })
        } else {
            self.refused.fetch_add(1, Ordering::SeqCst);
            Box::pin(std::future::ready(Err(crate::store::StoreError::Refused(
                Self::FULL,
            ))))
        }
    }

    fn execution(
        &self,
        arn: &str,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Option<ExecutionRecord>>> {
        self.inner.execution(arn)
    }

    fn execution_by_name(
        &self,
        function_name: &str,
        name: &str,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Option<ExecutionRecord>>> {
        let unheld = self.unheld(|held| held.lookups);
        let (function_name, name) = (function_name.to_owned(), name.to_owned());
        Box::pin(async move {
            unheld.await;
            self.inner.execution_by_name(&function_name, &name).await
        })
    }

    fn list(
        &self,
        filter: crate::store::ListFilter,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Vec<ExecutionRecord>>> {
        self.inner.list(filter)
    }

    fn operations(
        &self,
        arn: &str,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Vec<crate::model::Operation>>> {
        self.inner.operations(arn)
    }

    fn events(
        &self,
        arn: &str,
        from_event_id: u64,
        limit: usize,
        reverse: bool,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Vec<crate::model::Event>>> {
        self.inner.events(arn, from_event_id, limit, reverse)
    }

    fn callback(
        &self,
        callback_id: &str,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Option<crate::execution::CallbackRecord>>>
    {
        self.inner.callback(callback_id)
    }

    fn due(
        &self,
        after: Option<crate::store::DueCursor>,
        until: crate::model::Timestamp,
        limit: usize,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Vec<crate::store::Due>>> {
        self.inner.due(after, until, limit)
    }

    fn outbox(
        &self,
    ) -> futures_util::future::BoxFuture<
        '_,
        StoreResult<Vec<(String, crate::execution::ChainedInvokeRequest)>>,
    > {
        self.inner.outbox()
    }

    fn stored(
        &self,
        arn: &str,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Option<crate::store::StoredExecution>>>
    {
        self.inner.stored(arn)
    }

    fn invocations(
        &self,
        function_name: Option<&str>,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Vec<crate::store::InvocationRecord>>> {
        self.inner.invocations(function_name)
    }

    fn logs(
        &self,
        query: crate::logs::LogQuery,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Vec<crate::logs::LogRecord>>> {
        self.inner.logs(query)
    }

    fn log_streams(
        &self,
        group: &str,
    ) -> futures_util::future::BoxFuture<'_, StoreResult<Vec<crate::logs::StreamSummary>>> {
        self.inner.log_streams(group)
    }

    fn stats(&self) -> crate::store::StoreStats {
        self.inner.stats()
    }
}

/// A durable function the test plays itself: each invocation of it is
/// handed to the test ([`Scripted::next`]) with its checkpoint token, and
/// the test checkpoints through the engine and answers it. What the actor
/// does (committing before it answers, retrying a refused write, holding
/// or delivering results, shutting down) is then reached without the SDK,
/// the transport or the router.
#[derive(Debug)]
pub struct Scripted {
    invocations: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Played>>,
}

/// One invocation of a [`Scripted`] function, under way until answered.
#[derive(Debug)]
pub struct Played {
    /// The execution.
    pub arn: String,
    /// The invocation's checkpoint token.
    pub token: String,
    /// The operations the envelope carries.
    pub operations: Vec<crate::model::Operation>,
    answer: tokio::sync::oneshot::Sender<Vec<u8>>,
}

impl Played {
    /// Ends the invocation suspended: `PENDING`.
    pub fn suspend(self) {
        let _ = self.answer.send(br#"{"Status":"PENDING"}"#.to_vec());
    }

    /// Ends the invocation with the execution's result `result` (JSON).
    pub fn succeed(self, result: &str) {
        let answer = serde_json::json!({ "Status": "SUCCEEDED", "Result": result });
        let _ = self.answer.send(answer.to_string().into_bytes());
    }
}

impl Scripted {
    /// Registers `name` (aliased `live`) as a function the test plays.
    ///
    /// # Panics
    ///
    /// When an envelope cannot be read (the engine wrote it).
    #[must_use]
    #[expect(clippy::expect_used, reason = "test support")]
    pub fn register(engine: &Engine, name: &str) -> Arc<Self> {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        let handler = move |invocation: crate::functions::Invocation| {
            let sender = sender.clone();
            let envelope: serde_json::Value =
                serde_json::from_slice(&invocation.payload).expect("an envelope");
            let text = |key: &str| {
                envelope
                    .get(key)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let operations = serde_json::from_value(
                envelope
                    .pointer("/InitialExecutionState/Operations")
                    .cloned()
                    .unwrap_or_default(),
            )
            .expect("the envelope's operations");
            let (answer, answered) = tokio::sync::oneshot::channel();
            let played = Played {
                arn: text("DurableExecutionArn"),
                token: text("CheckpointToken"),
                operations,
                answer,
            };
            let sent = sender.send(played).is_ok();
            Box::pin(async move {
                if !sent {
                    return Err(crate::functions::FunctionFault::Crashed(
                        "the test is gone".to_owned(),
                    ));
                }
                answered.await.map_err(|_| {
                    crate::functions::FunctionFault::Crashed("the test dropped it".to_owned())
                })
            }) as futures_util::future::BoxFuture<'static, _>
        };
        engine.register(Function::new(
            FunctionConfig::durable(name, config()).with_alias("live"),
            Arc::new(PlayedBy(Box::new(handler))),
        ));
        Arc::new(Self {
            invocations: tokio::sync::Mutex::new(receiver),
        })
    }

    /// The next invocation, once the engine makes it.
    ///
    /// # Panics
    ///
    /// When none comes within [`PATIENCE`].
    #[expect(clippy::expect_used, reason = "test support")]
    pub async fn next(&self) -> Played {
        tokio::time::timeout(PATIENCE, async {
            self.invocations.lock().await.recv().await
        })
        .await
        .expect("an invocation in time")
        .expect("the engine is up")
    }

    /// Whether an invocation was made and not yet taken.
    pub async fn pending(&self) -> bool {
        !self.invocations.lock().await.is_empty()
    }
}

/// Runs a played function's invocations.
type PlayInvocation = dyn Fn(
        crate::functions::Invocation,
    ) -> futures_util::future::BoxFuture<
        'static,
        std::result::Result<Vec<u8>, crate::functions::FunctionFault>,
    > + Send
    + Sync;

struct PlayedBy(Box<PlayInvocation>);

impl crate::functions::FunctionHandler for PlayedBy {
    fn invoke(
        &self,
        invocation: crate::functions::Invocation,
    ) -> futures_util::future::BoxFuture<
        'static,
        std::result::Result<Vec<u8>, crate::functions::FunctionFault>,
    > {
        (self.0)(invocation)
    }
}
