//! A model-based test of the state machine: random sequences of
//! checkpoints (valid or not), waits, retries, callbacks, stops, pauses,
//! resumes, invocation ends and restarts, each change written to both
//! stores (in memory and SQLite). After every action these invariants hold:
//! - the state a restart would read back from either store behaves like the
//!   live one;
//! - a terminal operation stays terminal, with the same status;
//! - each store's event ids run 1, 2, 3, … with no gap, up to the next id;
//! - at most one checkpoint token is accepted, the current invocation's;
//! - a rejected batch changes nothing.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::model::{CallbackOptions, Sent, StepOptions, WaitOptions};
use crate::store::{MemoryStore, SqliteStore, Store, WriteBatch};

/// Operation ids the actions pick from: few, so that they collide.
const IDS: [&str; 4] = ["a", "b", "c", "d"];

#[derive(Debug, Clone)]
enum Action {
    /// A checkpoint of these updates by the current invocation (or with a
    /// stale token when none runs).
    Checkpoint(Vec<OperationUpdate>),
    /// Time passes, and what is due fires.
    Advance(i64),
    /// The callback of this operation is completed from outside.
    Callback(usize, bool),
    /// A heartbeat of this operation's callback.
    Heartbeat(usize),
    /// The current invocation ends: suspended, or faulted.
    End(bool),
    /// A new invocation begins, if one may.
    Begin,
    Stop,
    Pause(bool),
    Resume,
    /// The engine restarts: the state is read back from the store.
    Restart,
}

fn update_strategy() -> impl Strategy<Value = OperationUpdate> {
    // Weighted towards updates the rules accept, so sequences get far.
    let kinds = prop_oneof![
        4 => Just("STEP"),
        3 => Just("WAIT"),
        3 => Just("CALLBACK"),
        1 => Just("CONTEXT"),
        1 => Just("EXECUTION"),
        1 => Just("BOGUS"),
    ];
    let actions = prop_oneof![
        5 => Just("START"),
        2 => Just("SUCCEED"),
        1 => Just("FAIL"),
        1 => Just("RETRY"),
        1 => Just("CANCEL"),
    ];
    (
        0..IDS.len(),
        kinds,
        actions,
        prop::option::weighted(0.15, 0..IDS.len()),
        prop::option::weighted(0.8, 0_i64..5),
        prop::bool::ANY,
    )
        .prop_map(
            |(id, kind, action, parent, seconds, payload)| OperationUpdate {
                id: IDS[id].to_owned(),
                kind: Sent::from_text(kind),
                action: Sent::from_text(action),
                parent_id: parent.map(|parent| IDS[parent].to_owned()),
                payload: payload.then(|| "1".to_owned()),
                step_options: seconds.map(|seconds| StepOptions {
                    next_attempt_delay_seconds: Some(seconds),
                }),
                wait_options: seconds.map(|seconds| WaitOptions {
                    wait_seconds: Some(seconds),
                }),
                callback_options: seconds.map(|seconds| CallbackOptions {
                    timeout_seconds: Some(seconds),
                    heartbeat_timeout_seconds: Some(seconds / 2),
                }),
                ..OperationUpdate::default()
            },
        )
}

fn action_strategy() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => prop::collection::vec(update_strategy(), 1..3).prop_map(Action::Checkpoint),
        2 => (0_i64..6_000).prop_map(Action::Advance),
        1 => (0..IDS.len(), prop::bool::ANY).prop_map(|(id, ok)| Action::Callback(id, ok)),
        1 => (0..IDS.len()).prop_map(Action::Heartbeat),
        3 => prop::bool::ANY.prop_map(Action::End),
        3 => Just(Action::Begin),
        1 => Just(Action::Stop),
        1 => prop::bool::ANY.prop_map(Action::Pause),
        1 => Just(Action::Resume),
        1 => Just(Action::Restart),
    ]
}

/// The live state, the stores its changes go to, and the time.
struct Harness {
    state: ExecutionState,
    stores: Vec<(&'static str, Box<dyn Store>)>,
    now: i64,
    token: Option<String>,
    /// Every checkpoint token handed out so far.
    tokens: Vec<String>,
    /// The operations seen terminal, with their status.
    terminal: HashMap<String, OperationStatus>,
    invocation: u64,
    runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Self {
        let mut harness = Self {
            state: started(),
            stores: vec![
                ("memory", Box::new(MemoryStore::new())),
                ("sqlite", Box::new(SqliteStore::in_memory().unwrap())),
            ],
            now: 1_000_000,
            token: None,
            tokens: Vec::new(),
            terminal: HashMap::new(),
            invocation: 0,
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        };
        harness.persist();
        harness
    }

    fn at(&self) -> Timestamp {
        Timestamp::from_millis(self.now)
    }

    fn persist(&mut self) {
        let (changes, positions) = self.state.take_changes();
        let batch = WriteBatch::of_changes(self.state.record(), changes, positions, Vec::new());
        for (_, store) in &self.stores {
            self.runtime.block_on(store.write(batch.clone())).unwrap();
        }
    }

    /// The state a restart from `store` would begin with, at the current
    /// time.
    fn restored(&self, store: &dyn Store) -> ExecutionState {
        let stored = self
            .runtime
            .block_on(store.stored(&self.state.record().arn))
            .unwrap()
            .unwrap();
        ExecutionState::restore(
            stored.record,
            stored.operations,
            stored.callbacks,
            stored.next_event_id,
            1.0,
            self.at(),
        )
    }

    fn apply(&mut self, action: Action) {
        let now = self.at();
        match action {
            Action::Checkpoint(updates) => {
                let token = self.token.clone().unwrap_or_else(|| "stale".to_owned());
                let before: Vec<Operation> = self.state.operations().cloned().collect();
                let record_before = self.state.record().clone();
                let result = self
                    .state
                    .checkpoint(&token, None, &updates, now, &no_function);
                match result {
                    Ok(output) => {
                        self.tokens.push(output.checkpoint_token.clone());
                        self.token = Some(output.checkpoint_token);
                    }
                    Err(error) => {
                        assert!(
                            matches!(
                                error,
                                ExecutionError::Invalid(_) | ExecutionError::StaleToken(_)
                            ),
                            "{error}"
                        );
                        let after: Vec<Operation> = self.state.operations().cloned().collect();
                        assert_eq!(after, before, "a rejected batch changes no operation");
                        assert_eq!(*self.state.record(), record_before, "nor the record");
                        let (changes, _) = self.state.take_changes();
                        assert!(changes.is_empty(), "nor leaves anything to store");
                    }
                }
            }
            Action::Advance(millis) => {
                self.now += millis;
                self.state.fire_timers(self.at());
            }
            Action::Callback(id, ok) => {
                let outcome = if ok {
                    CallbackOutcome::Succeeded(Some("\"ok\"".to_owned()))
                } else {
                    CallbackOutcome::Failed(ErrorObject::message("no"))
                };
                let _ = self.state.complete_callback(IDS[id], outcome, now);
            }
            Action::Heartbeat(id) => {
                let _ = self.state.heartbeat(IDS[id], now);
            }
            Action::End(pending) => {
                if let Some((id, _, _)) = self.state.current_invocation() {
                    let end = if pending {
                        InvocationEnd::Answered(br#"{"Status":"PENDING"}"#.to_vec())
                    } else {
                        InvocationEnd::Faulted(ErrorObject::new("Crash", "it died"))
                    };
                    self.state.end_invocation(id, end, now);
                    self.token = None;
                }
            }
            Action::Begin => {
                if self.state.may_invoke() && !self.state.is_invoking() {
                    self.invocation += 1;
                    let (_, envelope) = self.state.begin_invocation(self.invocation, now, 1000);
                    self.tokens.push(envelope.checkpoint_token.clone());
                    self.token = Some(envelope.checkpoint_token);
                }
            }
            Action::Stop => self.state.stop(None, now),
            Action::Pause(timeout_paused) => {
                let request = PauseRequest {
                    client_token: None,
                    reason: None,
                    execution_timeout_paused: timeout_paused,
                };
                let _ = self.state.pause(request, now);
            }
            Action::Resume => {
                let _ = self.state.resume(ResumeRequest::default(), now);
            }
            Action::Restart => {
                self.persist();
                // Each restart reads back from the other store.
                let from = usize::from(!self.invocation.is_multiple_of(2));
                self.state = self.restored(&*self.stores[from].1);
                self.token = None;
            }
        }
        self.persist();
    }

    /// The invariants, after an action.
    fn check(&mut self) {
        self.check_terminal();
        self.check_events();
        self.check_tokens();
        self.check_restore();
    }

    /// An operation once terminal stays so, with the same status.
    fn check_terminal(&mut self) {
        for (id, status) in &self.terminal {
            let now = self.state.operations.get(id).map(|op| op.status);
            assert_eq!(now, Some(*status), "{id} was {status:?}, and stays so");
        }
        for op in self.state.operations() {
            if op.status.is_terminal() {
                self.terminal.insert(op.id.clone(), op.status);
            }
        }
    }

    /// Each store's history is numbered 1, 2, 3, … up to the next id.
    fn check_events(&self) {
        let arn = &self.state.record().arn;
        for (kind, store) in &self.stores {
            let events = self
                .runtime
                .block_on(store.events(arn, 1, usize::MAX, false))
                .unwrap();
            let ids: Vec<u64> = events.iter().map(|event| event.event_id).collect();
            let expected: Vec<u64> = (1..self.state.next_event_id()).collect();
            assert_eq!(ids, expected, "{kind}: event ids run without a gap");
        }
    }

    /// Of every token handed out, only the current invocation's is taken.
    fn check_tokens(&self) {
        let live: Vec<&String> = self
            .tokens
            .iter()
            .filter(|token| self.state.check_token(token).is_ok())
            .collect();
        assert!(live.len() <= 1, "one live checkpoint token, not {live:?}");
        if let Some(live) = live.first() {
            assert_eq!(
                Some(*live),
                self.token.as_ref(),
                "the live token is the current one"
            );
        }
    }

    /// The state restored from each store behaves like the live one.
    fn check_restore(&self) {
        if self.state.is_invoking() {
            // A restart ends the invocation; compared when none runs.
            return;
        }
        for (kind, store) in &self.stores {
            let restored = self.restored(&**store);
            let live: Vec<&Operation> = self.state.operations().collect();
            let read: Vec<&Operation> = restored.operations().collect();
            assert_eq!(read, live, "{kind}: operations read back as they are");
            assert_eq!(
                restored.record(),
                self.state.record(),
                "{kind}: the record reads back"
            );
            assert_eq!(
                restored.next_deadline(),
                self.state.next_deadline(),
                "{kind}: the same deadlines"
            );
            assert_eq!(
                restored.has_pending_work(),
                self.state.has_pending_work(),
                "{kind}"
            );
            assert_eq!(
                restored.next_event_id(),
                self.state.next_event_id(),
                "{kind}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_invariants_hold_after_every_action_on_both_stores(
        actions in prop::collection::vec(action_strategy(), 1..40)
    ) {
        let mut harness = Harness::new();
        harness.apply(Action::Begin);
        for action in actions {
            harness.apply(action);
            harness.check();
        }
    }
}
