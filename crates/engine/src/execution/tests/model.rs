//! A model-based test of the state machine: random sequences of
//! checkpoints (valid or not), waits, retries, callbacks, stops, pauses,
//! resumes, invocation ends and restarts. After every action, the state a
//! restart would read back from the store behaves like the live one, and a
//! rejected batch changes nothing.

use proptest::prelude::*;

use super::*;
use crate::model::{CallbackOptions, Sent, StepOptions, WaitOptions};
use crate::store::{MemoryStore, Store as _, WriteBatch};

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

/// The live state, the store its changes go to, and the time.
struct Harness {
    state: ExecutionState,
    store: MemoryStore,
    now: i64,
    token: Option<String>,
    invocation: u64,
    runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Self {
        let mut harness = Self {
            state: started(),
            store: MemoryStore::new(),
            now: 1_000_000,
            token: None,
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
        self.runtime.block_on(self.store.write(batch)).unwrap();
    }

    /// The state a restart would begin with, at the current time.
    fn restored(&self) -> ExecutionState {
        let stored = self
            .runtime
            .block_on(self.store.stored(&self.state.record().arn))
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
                    Ok(output) => self.token = Some(output.checkpoint_token),
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
                self.state = self.restored();
                self.token = None;
            }
        }
        self.persist();
    }

    /// The restored state behaves like the live one.
    fn check_restore(&self) {
        if self.state.is_invoking() {
            // A restart ends the invocation; compared when none runs.
            return;
        }
        let restored = self.restored();
        let live: Vec<&Operation> = self.state.operations().collect();
        let read: Vec<&Operation> = restored.operations().collect();
        assert_eq!(read, live, "operations read back as they are");
        assert_eq!(
            restored.record(),
            self.state.record(),
            "the record reads back"
        );
        assert_eq!(
            restored.next_deadline(),
            self.state.next_deadline(),
            "the same deadlines"
        );
        assert_eq!(restored.has_pending_work(), self.state.has_pending_work());
        assert_eq!(restored.next_event_id(), self.state.next_event_id());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_restored_execution_behaves_like_the_live_one(
        actions in prop::collection::vec(action_strategy(), 1..40)
    ) {
        let mut harness = Harness::new();
        harness.apply(Action::Begin);
        for action in actions {
            harness.apply(action);
            harness.check_restore();
        }
    }
}
