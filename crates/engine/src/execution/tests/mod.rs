//! The execution state machine's unit tests: the checkpoint rules and
//! control requests, on pure states and explicit times.

mod checkpoints;
mod control;

use super::*;
pub(super) use crate::error::{Error, INVALID_TOKEN};
pub(super) use crate::limits::MAX_PAUSED_LIFETIME_DAYS;
pub(super) use crate::model::OperationUpdate;
use crate::model::{ChainedInvokeOptions, StepOptions, WaitOptions};

pub(super) fn record() -> ExecutionRecord {
    ExecutionRecord {
        arn: "arn:aws:lambda:us-east-1:000000000000:function:F:$LATEST/durable-execution/n/1"
            .to_owned(),
        function_name: "F".to_owned(),
        function_arn: "arn:aws:lambda:us-east-1:000000000000:function:F:$LATEST".to_owned(),
        version: "$LATEST".to_owned(),
        name: "n".to_owned(),
        status: ExecutionStatus::Running,
        input: "{}".to_owned(),
        result: None,
        error: None,
        start: Timestamp::from_millis(1_000_000),
        end: None,
        timeout_seconds: 300,
        retention_days: 1,
        parent: None,
        invocations: 0,
        pause: None,
        paused_millis: 0,
        control_tokens: Vec::new(),
    }
}

/// A running execution and the token of its invocation.
pub(super) fn invoking() -> (ExecutionState, String) {
    let mut state = ExecutionState::start(record(), "exec".to_owned(), 1.0);
    let (_, envelope) = state.begin_invocation(1, Timestamp::from_millis(1_000_001), 1000);
    let token = envelope["CheckpointToken"].as_str().unwrap().to_owned();
    (state, token)
}

pub(super) fn update(id: &str, kind: &str, action: &str) -> OperationUpdate {
    OperationUpdate {
        id: id.to_owned(),
        kind: kind.to_owned(),
        action: action.to_owned(),
        ..OperationUpdate::default()
    }
}

pub(super) fn no_function(_: &str) -> bool {
    false
}

pub(super) fn rejects(updates: &[OperationUpdate], message: &str) {
    let (mut state, token) = invoking();
    let before: Vec<Operation> = state.operations().cloned().collect();
    let error = state
        .checkpoint(
            &token,
            None,
            updates,
            Timestamp::from_millis(1_000_002),
            &no_function,
        )
        .unwrap_err();
    assert_eq!(error, Error::invalid(message), "{updates:?}");
    assert_eq!(
        state.operations().cloned().collect::<Vec<_>>(),
        before,
        "nothing is applied"
    );
    let accepted = state.checkpoint(
        &token,
        None,
        &[],
        Timestamp::from_millis(1_000_003),
        &no_function,
    );
    assert!(
        accepted.is_ok(),
        "a rejected batch does not rotate the token"
    );
}
