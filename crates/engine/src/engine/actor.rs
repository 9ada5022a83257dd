//! The task that owns one resident execution.
//!
//! Every change to the execution goes through the actor's inbox, so changes
//! are serialized without locks. The actor writes each change to the store
//! before it answers, invokes the function when an invocation is owed, and
//! sleeps until the next deadline or message. When it has been idle for a
//! while with nothing under way and nothing soon due, it goes to rest: it
//! leaves the resident executions and ends, and the execution is only in
//! the store until something concerns it again.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tokio::time::Instant;

use super::error::{EngineError, Result};
use super::mailbox::{Command, Inbox, Mailbox, Reply};
use super::{Engine, Progress};
use crate::execution::{
    AfterInvocation, ChainedOutcome, ExecutionError, ExecutionState, InvocationEnd,
};
use crate::functions::{Function, Invocation, call};
use crate::model::{InvocationInput, OperationType, Timestamp};
use crate::store::{InvocationRecord, WriteBatch};

/// An invocation begun in the execution's state and not yet sent.
struct Begun {
    id: u64,
    request_id: String,
    envelope: InvocationInput,
    function: Function,
}

/// The delay before the first retry of a write the store refused.
const STORE_RETRY: Duration = Duration::from_millis(100);

impl Engine {
    /// Delivers `command` to the execution `arn`, loading it when it is at
    /// rest. An actor that goes to rest as the command arrives hands it
    /// back, and it is delivered again.
    pub(super) async fn deliver(&self, arn: &str, mut command: Command) {
        loop {
            let mailbox = self.resident(arn, None);
            match mailbox.commands.send(command).await {
                Ok(()) => return,
                Err(mpsc::error::SendError(back)) => {
                    command = back;
                    tokio::task::yield_now().await;
                }
            }
        }
    }

    /// Asks the execution `arn` and waits for its answer.
    pub(super) async fn ask<T>(
        &self,
        arn: &str,
        command: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.deliver(arn, command(reply)).await;
        answer.await.map_err(|_| EngineError::TaskGone)?
    }

    /// Tells the execution `parent` that its chained invoke `operation_id`
    /// ended with `outcome`.
    pub(super) async fn chained_done(
        &self,
        parent: &str,
        operation_id: String,
        outcome: ChainedOutcome,
    ) {
        self.deliver(
            parent,
            Command::ChainedDone {
                operation_id,
                outcome,
            },
        )
        .await;
    }

    /// Asks the execution `arn` to fire its timers, loading it if it is at
    /// rest; `permit` is its turn to be in memory (the timer loop's).
    pub(super) fn wake(&self, arn: &str, permit: Option<OwnedSemaphorePermit>) {
        let mailbox = self.resident(arn, permit);
        // A full inbox is one with work on its way: the wake is not needed.
        let _ = mailbox.commands.try_send(Command::Wake);
    }

    /// The mailbox of `arn`: its actor's if it is resident, else a new
    /// actor's, which loads the execution from the store.
    fn resident(&self, arn: &str, permit: Option<OwnedSemaphorePermit>) -> Mailbox {
        self.run_background();
        let (mailbox, inbox) = self.shared.residents.get_or_add(arn);
        if let Some(inbox) = inbox {
            let engine = self.clone();
            let arn = arn.to_owned();
            let own = mailbox.clone();
            self.run_actor(arn.clone(), async move {
                engine.load(&arn, &own, inbox, permit).await;
            });
        }
        mailbox
    }

    /// Makes the new execution `state` resident, with its first invocation
    /// owed, when a turn to be in memory is free now; otherwise it stays at
    /// rest, due at once, and the timer loop loads it when a turn frees.
    pub(super) fn spawn_started(&self, state: ExecutionState) {
        self.run_background();
        let Ok(permit) = Arc::clone(&self.shared.residency).try_acquire_owned() else {
            self.shared.timers.note(state.due());
            return;
        };
        let arn = state.record().arn.clone();
        let (mailbox, inbox) = self.shared.residents.get_or_add(&arn);
        let Some(inbox) = inbox else {
            // Already loaded by a request that came first: it carries on.
            return;
        };
        let actor = Actor::new(self.clone(), state, inbox, &mailbox, Some(permit));
        self.run_actor(arn, actor.run());
    }

    /// Loads the execution `arn` and runs its actor; answers what waits in
    /// its inbox when it cannot (over, unknown, or the store failed).
    async fn load(
        &self,
        arn: &str,
        mailbox: &Mailbox,
        mut inbox: Inbox,
        permit: Option<OwnedSemaphorePermit>,
    ) {
        let refusal = match self.shared.store.stored(arn).await {
            Ok(Some(stored)) if !stored.record.status.is_terminal() => {
                let state = ExecutionState::restore(
                    stored.record,
                    stored.operations,
                    stored.callbacks,
                    stored.next_event_id,
                    self.shared.options.time_scale,
                    self.now(),
                );
                return Actor::new(self.clone(), state, inbox, mailbox, permit)
                    .run()
                    .await;
            }
            Ok(Some(stored)) => EngineError::Over {
                arn: stored.record.arn,
                status: stored.record.status,
            },
            Ok(None) => EngineError::ExecutionNotFound(arn.to_owned()),
            Err(error) => EngineError::Store(error),
        };
        // Gone from the residents before the inbox closes: later requests
        // load it again.
        self.shared.residents.remove(arn, mailbox.id);
        inbox.close();
        while let Ok(command) = inbox.try_recv() {
            command.refuse(|| refusal_again(&refusal));
        }
    }

    /// Runs an execution's task as one of the engine's; if it panics, the
    /// execution leaves the residents and is loaded again from the store.
    fn run_actor(&self, arn: String, task: impl Future<Output = ()> + Send + 'static) {
        let task = self.spawn(task);
        let engine = self.clone();
        self.spawn(async move {
            if let Err(error) = task.await
                && error.is_panic()
            {
                tracing::error!(%arn, "an execution's task panicked; it carries on from the store");
                if let Some(mailbox) = engine.shared.residents.get(&arn) {
                    engine.shared.residents.remove(&arn, mailbox.id);
                }
                if !engine.is_stopping() {
                    engine.wake(&arn, None);
                }
            }
        });
    }
}

/// The same refusal again, for each command that waited.
fn refusal_again(refusal: &EngineError) -> EngineError {
    match refusal {
        EngineError::Over { arn, status } => EngineError::Over {
            arn: arn.clone(),
            status: *status,
        },
        EngineError::ExecutionNotFound(arn) => EngineError::ExecutionNotFound(arn.clone()),
        EngineError::Store(error) => EngineError::Store(error.clone()),
        _ => EngineError::TaskGone,
    }
}

/// The task that owns one resident execution.
pub(super) struct Actor {
    engine: Engine,
    state: ExecutionState,
    commands: Inbox,
    /// This actor's entry among the residents.
    id: u64,
    /// For the invocations it starts to report back; weak, so the inbox
    /// closes when the actor leaves the residents.
    me: mpsc::WeakSender<Command>,
    /// Its turn to be in memory, when the timer loop or a start loaded it.
    _permit: Option<OwnedSemaphorePermit>,
    /// Writes the store refused in a row, and when to try again.
    store_failures: u32,
    store_retry_at: Option<Instant>,
    /// Invocations started and not yet reported back (at most one runs at
    /// a time; after a reload, an old one may still be on its way).
    outstanding: u32,
    /// The store failed and the state could not be read back: the task
    /// ends, and the execution carries on when it is next loaded.
    abandoned: bool,
    /// Chained invokes that ended while an invocation was under way: their
    /// ends are recorded at its next checkpoint or once it ends.
    held: Vec<(String, ChainedOutcome)>,
    /// Since when nothing has happened.
    idle_since: Instant,
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

impl Actor {
    fn new(
        engine: Engine,
        state: ExecutionState,
        commands: Inbox,
        mailbox: &Mailbox,
        permit: Option<OwnedSemaphorePermit>,
    ) -> Self {
        Self {
            engine,
            state,
            commands,
            id: mailbox.id,
            me: mailbox.commands.downgrade(),
            _permit: permit,
            store_failures: 0,
            store_retry_at: None,
            outstanding: 0,
            abandoned: false,
            held: Vec::new(),
            idle_since: Instant::now(),
        }
    }

    fn now(&self) -> Timestamp {
        self.engine.now()
    }

    fn arn(&self) -> String {
        self.state.record().arn.clone()
    }

    async fn run(mut self) {
        // What loading changed (an invocation owed again, a pause that took
        // effect with the engine's end).
        let _ = self.persist(Vec::new()).await;
        let stopped = self.engine.shared.stopped.clone();
        loop {
            let stopping = stopped.is_cancelled();
            if self.abandoned || (stopping && self.outstanding == 0) {
                self.leave();
                return;
            }
            if self.state.record().status.is_terminal()
                && !self.state.is_invoking()
                && self.outstanding == 0
            {
                break;
            }
            if self.may_invoke_now() {
                self.invoke();
                continue;
            }
            let clock = self.engine.shared.options.clock;
            // While the store refuses writes, nothing is due before the next try.
            let deadline = if self.store_retry_at.is_some() {
                None
            } else {
                self.state.next_deadline().map(|at| clock.instant_at(at))
            };
            let rest_at = self.rest_at();
            let store_retry_at = self.store_retry_at;
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(command) => {
                        self.handle(command).await;
                        self.idle_since = Instant::now();
                    }
                    None => break,
                },
                () = sleep_until(deadline) => {
                    self.state.fire_timers(self.now());
                    // What fired and the invocation it owes are committed
                    // together before the function hears of them; a refused
                    // write reloads the state, and the begun invocation is
                    // dropped unsent.
                    let begun = if self.may_invoke_now() { self.begin() } else { None };
                    if self.persist(Vec::new()).await.is_ok()
                        && let Some(begun) = begun
                    {
                        self.dispatch(begun);
                    }
                }
                () = sleep_until(store_retry_at) => self.store_retry_at = None,
                () = sleep_until(rest_at) => {
                    if self.rest().await {
                        return;
                    }
                    self.idle_since = Instant::now();
                }
                () = stopped.cancelled(), if !stopping => {}
            }
        }
        self.finish().await;
    }

    /// Whether an invocation may start now: one is owed, none is under way
    /// or still returning, the store accepts writes, and the engine is not
    /// stopping.
    fn may_invoke_now(&self) -> bool {
        self.outstanding == 0
            && self.state.wants_invocation()
            && self.store_retry_at.is_none()
            && !self.engine.is_stopping()
    }

    /// When the execution goes to rest, if nothing happens meanwhile: once
    /// it has been idle for the engine's `rest_after`, with nothing under
    /// way and nothing due before then.
    fn rest_at(&self) -> Option<Instant> {
        let options = &self.engine.shared.options;
        let quiet = self.outstanding == 0
            && !self.state.is_invoking()
            && self.held.is_empty()
            && self.store_failures == 0
            && self.state.record().failed_invocations == 0
            && !self.state.wants_invocation();
        if !quiet {
            return None;
        }
        let rest_at = self.idle_since + options.rest_after;
        let soon = self
            .state
            .next_deadline()
            .map(|at| options.clock.instant_at(at))
            .is_some_and(|due| due <= rest_at + options.rest_after);
        (!soon).then_some(rest_at)
    }

    /// Goes to rest: leaves the residents, hands back what arrived
    /// meanwhile, and tells the timer loop of its next due moment. False
    /// when something is left to write.
    async fn rest(&mut self) -> bool {
        if self.persist(Vec::new()).await.is_err() || self.store_failures > 0 {
            return false;
        }
        let arn = self.arn();
        self.engine.shared.residents.remove(&arn, self.id);
        self.commands.close();
        let mut late = Vec::new();
        while let Ok(command) = self.commands.try_recv() {
            late.push(command);
        }
        if !late.is_empty() {
            let engine = self.engine.clone();
            self.engine.spawn(async move {
                for command in late {
                    engine.deliver(&arn, command).await;
                }
            });
        }
        self.engine.shared.timers.note(self.state.due());
        true
    }

    /// Takes this execution off the resident ones.
    fn leave(&self) {
        self.engine
            .shared
            .residents
            .remove(&self.state.record().arn, self.id);
    }

    async fn finish(&mut self) {
        let _ = self.persist(Vec::new()).await;
        self.leave();
        let record = self.state.record().clone();
        self.engine.shared.endings.ended(&record);
        self.engine.publish(Progress::Finished {
            arn: record.arn.clone(),
            status: record.status,
        });
        if let Some(parent) = record.parent.clone() {
            self.engine
                .chained_done(&parent.arn, parent.operation_id, record.chained_outcome())
                .await;
        }
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
                        .map_err(EngineError::from)
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
                let page = self
                    .state
                    .state_page(&token, marker.as_deref(), max_items)
                    .map_err(EngineError::from);
                let _ = reply.send(page);
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
                    Err(error) => Err(error.into()),
                };
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
                let _ = self.persist(Vec::new()).await;
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
                    Err(error) => Err(error.into()),
                };
                let _ = reply.send(result);
            }
            Command::Resume { request, reply } => {
                // An invocation owed while paused is owed now.
                let result = match self.state.resume(request, now) {
                    Ok(_) => self.persist(Vec::new()).await,
                    Err(error) => Err(error.into()),
                };
                let _ = reply.send(result);
            }
            Command::Wake => {
                self.state.fire_timers(now);
                let _ = self.persist(Vec::new()).await;
            }
        }
        let status = self.state.record().status;
        if status != status_before && !status.is_terminal() {
            self.engine.publish(Progress::Status {
                arn: self.state.record().arn.clone(),
                status,
            });
        }
    }

    /// Begins an invocation and hands it to the function at once.
    fn invoke(&mut self) {
        if let Some(begun) = self.begin() {
            self.dispatch(begun);
        }
    }

    /// Begins an invocation in the execution's state (its token, its
    /// envelope); nothing is sent until [`Actor::dispatch`]. `None` when the
    /// function is gone (the execution fails) or the engine is.
    fn begin(&mut self) -> Option<Begun> {
        let now = self.now();
        let function = self
            .engine
            .registry()
            .get(&self.state.record().function_name)
            .cloned();
        let Some(function) = function else {
            let name = self.state.record().function_name.clone();
            self.state
                .fail(ExecutionError::FunctionNotFound(name).error_object(), now);
            return None;
        };
        self.me.upgrade()?;
        let shared = &self.engine.shared;
        let id = shared.next_invocation.fetch_add(1, Ordering::Relaxed);
        let (request_id, envelope) =
            self.state
                .begin_invocation(id, now, shared.options.envelope_page_items);
        Some(Begun {
            id,
            request_id,
            envelope,
            function,
        })
    }

    /// Hands a begun invocation to the function; its end comes back as a
    /// command.
    fn dispatch(&mut self, begun: Begun) {
        let Begun {
            id,
            request_id,
            envelope,
            function,
        } = begun;
        let Some(me) = self.me.upgrade() else {
            return;
        };
        let shared = &self.engine.shared;
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
        let permits = Arc::clone(&shared.invocation_permits);
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
        if after == AfterInvocation::Retry {
            let options = &self.engine.shared.options;
            let failures = self.state.record().failed_invocations;
            let delay = options.scaled(options.backoff(options.invocation_retry_delay, failures));
            self.state
                .retry_invocation(options.invocation_attempts, delay, now);
        }
        self.record_held(now);
        self.engine.publish(Progress::InvocationEnded {
            arn: self.state.record().arn.clone(),
        });
        let _ = self.persist(record.into_iter().collect()).await;
    }

    /// Records the chained invokes held while an invocation ran.
    fn record_held(&mut self, now: Timestamp) {
        for (operation_id, outcome) in std::mem::take(&mut self.held) {
            self.state
                .complete_chained_invoke(&operation_id, outcome, now);
        }
    }

    /// Writes what changed, then dispatches the chained invokes it started.
    /// When the store refuses the write, the execution is read back from
    /// the store (as after a crash) and carries on after a backoff that
    /// grows with each refusal in a row.
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
            return Err(error.into());
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
            tracing::error!(%arn, "the execution could not be read back; it carries on when it is next loaded");
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
        self.store_retry_at = Some(Instant::now() + delay);
    }
}
