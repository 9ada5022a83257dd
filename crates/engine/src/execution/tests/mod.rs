//! The execution state machine's unit tests: the checkpoint rules and
//! control requests, on pure states and explicit times.

mod checkpoints;
mod control;
mod model;

pub(super) use super::error::{ExecutionError, INVALID_TOKEN};
use super::*;
pub(super) use crate::limits::MAX_PAUSED_LIFETIME_DAYS;
use crate::model::{ChainedInvokeOptions, Sent, StepOptions, WaitOptions};
pub(super) use crate::model::{CheckpointOutput, OperationUpdate};

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
        owed_since: None,
        invoking_since: None,
        failed_invocations: 0,
        retry_at: None,
        due: None,
    }
}

/// A running execution before its first invocation.
pub(super) fn started() -> ExecutionState {
    ExecutionState::start(record(), "exec".to_owned(), 1.0)
}

/// A running execution and the token of its invocation.
pub(super) fn invoking() -> (ExecutionState, String) {
    let mut state = started();
    let (_, envelope) = state.begin_invocation(1, Timestamp::from_millis(1_000_001), 1000);
    let token = envelope.checkpoint_token;
    (state, token)
}

pub(super) fn update(id: &str, kind: &str, action: &str) -> OperationUpdate {
    OperationUpdate {
        id: id.to_owned(),
        kind: Sent::from_text(kind),
        action: Sent::from_text(action),
        ..OperationUpdate::default()
    }
}

pub(super) fn no_function(_: &str) -> Option<ChainedTarget> {
    None
}

/// The invocation holding `token` checkpoints `updates` at `millis`, with
/// no client token and no function to chain-invoke.
pub(super) fn checkpoint(
    state: &mut ExecutionState,
    token: &str,
    updates: &[OperationUpdate],
    millis: i64,
) -> Result<CheckpointOutput, ExecutionError> {
    state.checkpoint(
        token,
        None,
        updates,
        Timestamp::from_millis(millis),
        &no_function,
    )
}

/// The operation `id` as a checkpoint's answer shows it.
pub(super) fn answered<'a>(output: &'a CheckpointOutput, id: &str) -> &'a Operation {
    output
        .new_execution_state
        .operations
        .iter()
        .find(|op| op.id == id)
        .unwrap()
}

/// The envelope of a handler that suspends.
pub(super) const PENDING: &[u8] = br#"{"Status":"PENDING"}"#;

/// The current invocation answers with `envelope` at `millis`.
pub(super) fn answer(state: &mut ExecutionState, envelope: &[u8], millis: i64) -> AfterInvocation {
    let (id, _, _) = state.current_invocation().unwrap();
    state.end_invocation(
        id,
        InvocationEnd::Answered(envelope.to_vec()),
        Timestamp::from_millis(millis),
    )
}

pub(super) fn rejects(updates: &[OperationUpdate], message: &str) {
    let (mut state, token) = invoking();
    let before: Vec<Operation> = state.operations().cloned().collect();
    let error = checkpoint(&mut state, &token, updates, 1_000_002).unwrap_err();
    assert_eq!(error, ExecutionError::invalid(message), "{updates:?}");
    assert_eq!(
        state.operations().cloned().collect::<Vec<_>>(),
        before,
        "nothing is applied"
    );
    let accepted = checkpoint(&mut state, &token, &[], 1_000_003);
    assert!(
        accepted.is_ok(),
        "a rejected batch does not rotate the token"
    );
}
