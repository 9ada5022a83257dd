//! The task that owns one running execution.
//!
//! Every change to the execution goes through the actor's inbox, so changes
//! are serialized without locks. The actor writes each change to the store
//! before it answers, invokes the function when something it waits for is
//! ready, and sleeps until the next deadline or message.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::{Engine, Progress, lock};
use crate::error::{Error, Result};
use crate::execution::{
    AfterInvocation, CallbackOutcome, ChainedOutcome, ExecutionRecord, ExecutionState,
    InvocationEnd, PauseRequest, ResumeRequest,
};
use crate::functions::{Invocation, call};
use crate::model::{
    CheckpointOutput, ErrorObject, OperationType, OperationUpdate, StatePage, Timestamp,
};
use crate::store::{InvocationRecord, WriteBatch};

/// How many requests may wait in one execution's inbox before senders wait.
const INBOX: usize = 256;

/// The delay before the first retry of a write the store refused.
const STORE_RETRY: Duration = Duration::from_millis(100);

pub(super) type Reply<T> = oneshot::Sender<Result<T>>;

/// What an actor is asked to do.
pub(super) enum Command {
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
    /// The engine is shutting down: end once no invocation is under way.
    Shutdown,
}

/// How the engine reaches a running execution's actor.
#[derive(Clone)]
pub(super) struct Mailbox {
    commands: mpsc::Sender<Command>,
    finished: watch::Receiver<Option<ExecutionRecord>>,
}

fn gone() -> Error {
    Error::Service("the execution's task has stopped; retry the request".to_owned())
}

impl Mailbox {
    /// Sends `command`, waiting for room in the inbox.
    pub(super) async fn send(&self, command: Command) -> Result<()> {
        self.commands.send(command).await.map_err(|_| gone())
    }

    /// Asks the actor and waits for its answer.
    pub(super) async fn ask<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.send(command(reply)).await?;
        answer.await.map_err(|_| gone())?
    }

    /// The execution's record once it is over; `None` if its task ended
    /// first (the engine is shutting down).
    pub(super) async fn finished(mut self) -> Option<ExecutionRecord> {
        self.finished
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|record| record.clone())
    }

    /// Asks the actor to end once idle.
    pub(super) async fn stop_when_idle(&self) {
        let _ = self.commands.send(Command::Shutdown).await;
    }
}

impl Engine {
    /// Starts the actor of `state`, invoking its function at once when
    /// `invoke_now`.
    pub(super) fn spawn_actor(&self, state: ExecutionState, invoke_now: bool) {
        let actor = self.prepare_actor(state, invoke_now);
        self.run_actor(actor);
    }

    /// The actor of `state`, reachable through the engine from now on but
    /// not yet running: its requests wait in its inbox.
    pub(super) fn prepare_actor(&self, state: ExecutionState, invoke_now: bool) -> Actor {
        let (commands, receiver) = mpsc::channel(INBOX);
        let (finished_sender, finished) = watch::channel(None);
        let arn = state.record().arn.clone();
        lock(&self.shared.running).insert(
            arn.clone(),
            Mailbox {
                commands: commands.clone(),
                finished,
            },
        );
        Actor {
            engine: self.clone(),
            state,
            commands: receiver,
            me: commands.downgrade(),
            finished: finished_sender,
            failures: 0,
            store_failures: 0,
            retry_at: None,
            invoke_now,
            outstanding: 0,
            held: Vec::new(),
            abandoned: false,
            stopping: false,
        }
    }

    /// Runs `actor` as one of the engine's tasks; if it panics, the
    /// execution carries on from the store.
    pub(super) fn run_actor(&self, actor: Actor) {
        let arn = actor.state.record().arn.clone();
        let task = self.spawn(actor.run());
        let engine = self.clone();
        self.spawn(async move {
            if let Err(error) = task.await
                && error.is_panic()
            {
                tracing::error!(%arn, "an execution's task panicked; it carries on from the store");
                lock(&engine.shared.running).remove(&arn);
                match engine.shared.store.stored(&arn).await {
                    Ok(Some(stored)) if !stored.record.status.is_terminal() => {
                        engine.spawn_restored(stored);
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::error!(%arn, %error, "the execution could not be read back");
                    }
                }
            }
        });
    }

    /// Asks the actor of `arn`; an execution without one is over (or
    /// unknown).
    pub(super) async fn ask<T>(
        &self,
        arn: &str,
        command: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<T> {
        let Some(mailbox) = self.mailbox(arn) else {
            let record = self.execution(arn).await?;
            return Err(if self.is_stopping() {
                Error::shutting_down()
            } else {
                Error::ResourceConflict(format!(
                    "The durable execution {} is {}.",
                    record.arn, record.status
                ))
            });
        };
        mailbox.ask(command).await
    }
}

/// The task that owns one running execution.
pub(super) struct Actor {
    engine: Engine,
    state: ExecutionState,
    commands: mpsc::Receiver<Command>,
    /// For the invocations it starts to report back; weak, so the inbox
    /// closes when the engine forgets the execution.
    me: mpsc::WeakSender<Command>,
    finished: watch::Sender<Option<ExecutionRecord>>,
    /// Invocations that failed in a row.
    failures: u32,
    /// Writes the store refused in a row.
    store_failures: u32,
    retry_at: Option<Instant>,
    invoke_now: bool,
    /// Invocations started and not yet reported back (at most one runs at
    /// a time; after a reload, an old one may still be on its way).
    outstanding: u32,
    /// The store failed and the state could not be read back: the task
    /// ends, and the execution carries on when the engine next starts.
    abandoned: bool,
    /// The engine is shutting down: end once no invocation is under way.
    stopping: bool,
    /// Chained invokes that ended while an invocation was under way: their
    /// ends are recorded at its next checkpoint or once it ends.
    held: Vec<(String, ChainedOutcome)>,
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

impl Actor {
    fn now(&self) -> Timestamp {
        self.engine.now()
    }

    async fn run(mut self) {
        // What restoring changed (a pause that took effect with the engine's end).
        let _ = self.persist(Vec::new()).await;
        loop {
            if self.abandoned || (self.stopping && self.outstanding == 0) {
                self.leave_running();
                return;
            }
            if self.state.record().status.is_terminal() && !self.state.is_invoking() {
                break;
            }
            if self.invoke_now && self.may_invoke_now() {
                self.invoke_now = false;
                self.invoke();
                continue;
            }
            let clock = self.engine.shared.options.clock;
            // While the store refuses writes, nothing is due before the next try.
            let deadline = if self.store_failures > 0 && self.retry_at.is_some() {
                None
            } else {
                self.state.next_deadline().map(|at| clock.instant_at(at))
            };
            let retry_at = self.retry_at;
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                () = sleep_until(deadline) => {
                    self.state.fire_timers(self.now());
                    // Invoke first, then write: the invocation's first checkpoint
                    // is queued behind this write, and a wait that ends is safe to
                    // end again after a crash.
                    if self.state.has_news() && self.may_invoke_now() {
                        self.invoke();
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
    /// returning, the execution running, and the engine not stopping.
    fn may_invoke_now(&self) -> bool {
        self.outstanding == 0
            && self.state.may_invoke()
            && !self.state.is_invoking()
            && !self.stopping
            && self.retry_at.is_none()
    }

    /// Takes this execution off the engine's running ones.
    fn leave_running(&self) {
        lock(&self.engine.shared.running).remove(&self.state.record().arn);
    }

    async fn finish(&mut self) {
        let _ = self.persist(Vec::new()).await;
        self.leave_running();
        let record = self.state.record().clone();
        self.engine.forget_name(&record.function_name, &record.name);
        self.engine.publish(Progress::Finished {
            arn: record.arn.clone(),
            status: record.status,
        });
        if let Some(parent) = record.parent.clone() {
            let outcome = super::chained::outcome_of(&record);
            self.engine
                .chained_done(&parent.arn, parent.operation_id, outcome)
                .await;
        }
        let _ = self.finished.send(Some(record));
    }

    async fn handle(&mut self, command: Command) {
        let now = self.now();
        let status_before = self.state.record().status;
        match command {
            Command::Checkpoint {
                token,
                client_token,
                updates,
                reply,
            } => {
                // Chained invokes that ended since the invocation's last
                // checkpoint are recorded first: this checkpoint's answer
                // carries them, as it carries a completed callback.
                self.record_held(now);
                let output = {
                    let targets = |name: &str| self.engine.chained_target(name);
                    self.state
                        .checkpoint(&token, client_token.as_deref(), &updates, now, &targets)
                };
                let persisted = self.persist(Vec::new()).await;
                let _ = reply.send(output.and_then(|output| persisted.map(|()| output)));
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
                if self.state.is_invoking() {
                    // Recorded at the invocation's next checkpoint, or after
                    // its end if it makes none: a caller that suspended at
                    // once finds the result recorded after its invocation,
                    // as the service's timing records it.
                    self.held.push((operation_id, outcome));
                    return;
                }
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
            Command::Shutdown => self.stopping = true,
        }
        let status = self.state.record().status;
        if status != status_before && !status.is_terminal() {
            self.engine.publish(Progress::Status {
                arn: self.state.record().arn.clone(),
                status,
            });
        }
    }

    fn invoke(&mut self) {
        let now = self.now();
        let function = self
            .engine
            .registry()
            .get(&self.state.record().function_name)
            .cloned();
        self.retry_at = None;
        let Some(function) = function else {
            let error = Error::function_not_found(&self.state.record().function_name);
            self.state
                .fail(ErrorObject::new(error.code(), error.to_string()), now);
            return;
        };
        let Some(me) = self.me.upgrade() else {
            return;
        };
        let shared = &self.engine.shared;
        let id = shared.next_invocation.fetch_add(1, Ordering::Relaxed);
        let (request_id, envelope) =
            self.state
                .begin_invocation(id, now, shared.options.envelope_page_items);
        self.outstanding += 1;
        let arn = self.state.record().arn.clone();
        self.engine
            .invocation_began(&request_id, &function.config().name, Some(&arn));
        self.engine.publish(Progress::Invoked {
            arn,
            number: self.state.record().invocations,
        });
        shared.counters.invocations.fetch_add(1, Ordering::Relaxed);
        let function_arn = self.state.record().function_arn.clone();
        let permits = std::sync::Arc::clone(&shared.invocation_permits);
        let clock = shared.options.clock;
        self.engine.spawn(async move {
            // Its turn first; its timeout runs from when it runs.
            let _permit = permits.acquire_owned().await;
            let invocation = Invocation {
                payload: serde_json::to_vec(&envelope).unwrap_or_default(),
                request_id,
                function_arn,
                deadline_ms: Invocation::deadline(clock.now(), function.config().timeout),
            };
            let end = match call(&function, invocation).await {
                Ok(answer) => InvocationEnd::Answered(answer),
                Err(fault) => InvocationEnd::Faulted(fault.error_object()),
            };
            let _ = me.send(Command::InvocationDone { id, end }).await;
        });
    }

    async fn invocation_done(&mut self, id: u64, end: InvocationEnd) {
        let now = self.now();
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
        if self.record_held(now) && self.state.has_news() {
            self.invoke_now = true;
        }
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
                    let delay = options
                        .scaled(options.backoff(options.invocation_retry_delay, self.failures));
                    self.retry_at = Some(Instant::now() + delay);
                }
            }
        }
        self.engine.publish(Progress::InvocationEnded {
            arn: self.state.record().arn.clone(),
        });
        let _ = self.persist(record.into_iter().collect()).await;
    }

    /// Records the chained invokes held while an invocation ran; whether
    /// there were any.
    fn record_held(&mut self, now: Timestamp) -> bool {
        let held = std::mem::take(&mut self.held);
        let any = !held.is_empty();
        for (operation_id, outcome) in held {
            self.state
                .complete_chained_invoke(&operation_id, outcome, now);
        }
        any
    }

    /// Writes what changed. When the store refuses the write, the execution
    /// is read back from the store (as after a crash) and invoked again
    /// after a backoff that grows with each refusal in a row.
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
            let mut callbacks = lock(&self.engine.shared.callbacks);
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
        let chained_invokes = changes.chained_invokes.clone();
        let batch = WriteBatch::of_changes(self.state.record(), changes, positions, invocations);
        if let Err(error) = self.engine.shared.store.write(batch).await {
            self.store_failures += 1;
            if self.store_failures == 1 || self.store_failures.is_power_of_two() {
                tracing::error!(%arn, %error, refusals = self.store_failures, "the store refused an execution's change; it carries on from what is stored once the store accepts writes again");
            }
            self.engine.publish(Progress::StoreRefused {
                arn: arn.clone(),
                error: error.to_string(),
            });
            self.reload().await;
            return Err(error);
        }
        if self.store_failures > 0 {
            tracing::info!(%arn, "the store accepts writes again");
            self.store_failures = 0;
        }
        for event in progress {
            self.engine.publish(event);
        }
        for request in chained_invokes {
            self.engine.dispatch_chained(&arn, request);
        }
        Ok(())
    }

    async fn reload(&mut self) {
        let arn = self.state.record().arn.clone();
        let now = self.now();
        let Ok(Some(stored)) = self.engine.shared.store.stored(&arn).await else {
            tracing::error!(%arn, "the execution could not be read back; it resumes when the engine restarts");
            self.abandoned = true;
            return;
        };
        self.state = ExecutionState::restore(
            stored.record,
            stored.operations,
            stored.callbacks,
            stored.next_event_id,
            self.engine.shared.options.time_scale,
            now,
        );
        let options = &self.engine.shared.options;
        let delay = options.backoff(STORE_RETRY, self.store_failures);
        self.retry_at = Some(Instant::now() + delay);
    }
}
