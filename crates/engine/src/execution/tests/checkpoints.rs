use super::*;

#[test]
fn the_service_validation_rules_reject_bad_batches_whole() {
    let execution = update("x", "EXECUTION", "SUCCEED");
    rejects(
        &[execution.clone(), execution.clone()],
        "Cannot checkpoint multiple EXECUTION updates.",
    );
    rejects(
        &[execution, update("s", "STEP", "START")],
        "EXECUTION checkpoint must be the last update.",
    );
    rejects(
        &[update("w", "WAIT", "START"), update("w", "WAIT", "CANCEL")],
        "Cannot checkpoint multiple operations with the same ID.",
    );
    // An outcome in the batch that starts the operation is of its type.
    let mut callback = update("a", "CALLBACK", "START");
    callback.callback_options = Some(crate::model::CallbackOptions {
        timeout_seconds: Some(1),
        heartbeat_timeout_seconds: None,
    });
    rejects(
        &[callback, update("a", "STEP", "SUCCEED")],
        "Inconsistent operation type.",
    );
    let mut child = update("c", "STEP", "START");
    child.parent_id = Some("nope".to_owned());
    rejects(&[child], "Invalid parent operation id.");
    rejects(&[update("s", "BOGUS", "START")], "Unknown operation type.");
    rejects(
        &[update("s", "WAIT", "RETRY")],
        "Invalid action for the given operation type.",
    );
    rejects(
        &[update("s", "CALLBACK", "SUCCEED")],
        "Invalid action for the given operation type.",
    );
    rejects(
        &[update("w", "WAIT", "CANCEL")],
        "Cannot cancel a WAIT that does not exist or has already completed.",
    );
    rejects(
        &[update("i", "CHAINED_INVOKE", "START")],
        "Update for CHAINED_INVOKE operation requires ChainedInvokeOptions.",
    );
    let mut fail = update("s", "STEP", "FAIL");
    fail.payload = Some("1".to_owned());
    rejects(&[fail], "Cannot provide a Payload for FAIL action.");
    let mut bad_id = update("has space", "STEP", "START");
    bad_id.id = "has space".to_owned();
    rejects(
        &[bad_id],
        "Invalid operation id 'has space': 1 to 64 characters of [a-zA-Z0-9-_].",
    );
}

#[test]
fn a_start_and_its_outcome_may_share_a_batch() {
    let (mut state, token) = invoking();
    let mut succeed = update("s", "STEP", "SUCCEED");
    succeed.payload = Some("42".to_owned());
    let output = checkpoint(
        &mut state,
        &token,
        &[update("s", "STEP", "START"), succeed],
        1_000_002,
    )
    .unwrap();
    let step = answered(&output, "s");
    assert_eq!(step.status, OperationStatus::Succeeded);
    assert_eq!(
        step.step_details
            .as_ref()
            .unwrap()
            .outcome
            .result
            .as_deref(),
        Some("42")
    );
    assert_ne!(output.checkpoint_token, token, "the token rotates");
}

#[test]
fn later_updates_are_checked_against_what_is_stored() {
    let (mut state, token) = invoking();
    let mut start = update("s", "STEP", "START");
    start.name = Some("first".to_owned());
    let output = checkpoint(&mut state, &token, &[start], 1_000_002).unwrap();
    let token = output.checkpoint_token;
    let mut renamed = update("s", "STEP", "SUCCEED");
    renamed.name = Some("second".to_owned());
    let error = checkpoint(&mut state, &token, &[renamed], 1_000_003).unwrap_err();
    assert_eq!(
        error,
        ExecutionError::invalid("Inconsistent operation name.")
    );
    let again = checkpoint(
        &mut state,
        &token,
        &[update("s", "STEP", "START")],
        1_000_003,
    );
    assert_eq!(
        again.unwrap_err(),
        ExecutionError::invalid("Invalid current STEP state to start.")
    );
    let unnamed_outcome = checkpoint(
        &mut state,
        &token,
        &[update("s", "STEP", "SUCCEED")],
        1_000_004,
    )
    .unwrap();
    let step = answered(&unnamed_outcome, "s");
    assert_eq!(
        step.name.as_deref(),
        Some("first"),
        "an update without a name keeps the stored one"
    );
}

#[test]
fn a_stale_token_is_refused_with_the_message_the_sdks_retry_on() {
    let (mut state, token) = invoking();
    let output = checkpoint(&mut state, &token, &[], 1_000_002).unwrap();
    let error = checkpoint(&mut state, &token, &[], 1_000_003).unwrap_err();
    assert!(error.to_string().starts_with(INVALID_TOKEN), "{error}");
    assert!(checkpoint(&mut state, &output.checkpoint_token, &[], 1_000_004).is_ok());
}

#[test]
fn a_repeated_client_token_returns_the_first_answer() {
    let (mut state, token) = invoking();
    let mut start_the_wait = |millis| {
        state
            .checkpoint(
                &token,
                Some("c-1"),
                &[update("w", "WAIT", "START")],
                Timestamp::from_millis(millis),
                &no_function,
            )
            .unwrap()
    };
    let first = start_the_wait(1_000_002);
    let repeat = start_the_wait(1_000_003);
    assert_eq!(first, repeat);
}

#[test]
fn a_retry_makes_the_step_pending_then_ready_at_its_time() {
    let (mut state, token) = invoking();
    let mut retry = update("s", "STEP", "RETRY");
    retry.step_options = Some(StepOptions {
        next_attempt_delay_seconds: Some(5),
    });
    retry.error = Some(ErrorObject::new("Boom", "boom"));
    checkpoint(
        &mut state,
        &token,
        &[update("s", "STEP", "START"), retry],
        1_000_000,
    )
    .unwrap();
    let step = state.operations().find(|op| op.id == "s").unwrap().clone();
    assert_eq!(step.status, OperationStatus::Pending);
    assert_eq!(step.step_details.as_ref().unwrap().attempt, 1);
    assert_eq!(
        state.next_deadline(),
        Some(Timestamp::from_millis(1_005_000))
    );
    state.fire_timers(Timestamp::from_millis(1_004_999));
    assert_eq!(
        state.operations().find(|op| op.id == "s").unwrap().status,
        OperationStatus::Pending
    );
    state.fire_timers(Timestamp::from_millis(1_005_000));
    assert_eq!(
        state.operations().find(|op| op.id == "s").unwrap().status,
        OperationStatus::Ready
    );
    assert!(state.has_news());
}

#[test]
fn waits_are_scaled_by_the_time_scale() {
    let mut state = ExecutionState::start(record(), "exec".to_owned(), 0.01);
    let (_, envelope) = state.begin_invocation(1, Timestamp::from_millis(1_000_000), 1000);
    let token = envelope.checkpoint_token;
    let mut wait = update("w", "WAIT", "START");
    wait.wait_options = Some(WaitOptions {
        wait_seconds: Some(10),
    });
    checkpoint(&mut state, &token, &[wait], 1_000_000).unwrap();
    assert_eq!(
        state.next_deadline(),
        Some(Timestamp::from_millis(1_000_100))
    );
}

#[test]
fn an_unknown_chained_target_fails_in_the_same_answer() {
    let (mut state, token) = invoking();
    let mut invoke = update("i", "CHAINED_INVOKE", "START");
    invoke.chained_invoke_options = Some(ChainedInvokeOptions {
        function_name: Some("Nowhere".to_owned()),
        tenant_id: None,
    });
    let output = checkpoint(&mut state, &token, &[invoke], 1_000_002).unwrap();
    let op = answered(&output, "i");
    assert_eq!(op.status, OperationStatus::Failed);
    assert_eq!(
        op.chained_invoke_details
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .error_type
            .as_deref(),
        Some("ResourceNotFoundException")
    );
}

#[test]
fn a_pending_answer_with_nothing_pending_is_an_invocation_failure() {
    let (mut state, _) = invoking();
    state.take_changes();
    let after = answer(&mut state, PENDING, 1_000_002);
    assert_eq!(after, AfterInvocation::Retry);
}

#[test]
fn a_completion_seen_by_a_suspending_invocation_still_gets_another() {
    // A retry comes due while the invocation runs: the sweep in a checkpoint
    // shows the step READY to a handler that suspends anyway.
    let (mut state, token) = invoking();
    let mut retry = update("s", "STEP", "RETRY");
    retry.step_options = Some(StepOptions {
        next_attempt_delay_seconds: Some(1),
    });
    let output = checkpoint(
        &mut state,
        &token,
        &[update("s", "STEP", "START"), retry],
        1_000_000,
    )
    .unwrap();
    let mut wait = update("w", "WAIT", "START");
    wait.wait_options = Some(WaitOptions {
        wait_seconds: Some(1),
    });
    checkpoint(&mut state, &output.checkpoint_token, &[wait], 1_002_000).unwrap();
    assert!(
        !state.has_news(),
        "the handler has been shown the READY step"
    );
    let after = answer(&mut state, PENDING, 1_002_001);
    assert_eq!(after, AfterInvocation::InvokeNow);
}

#[test]
fn an_answer_that_is_not_an_envelope_fails_the_execution_at_once() {
    let (mut state, _) = invoking();
    let after = answer(&mut state, br#"{"Status":"DONE"}"#, 1_000_002);
    assert_eq!(after, AfterInvocation::Finished);
    assert_eq!(state.record().status, ExecutionStatus::Failed);
    assert!(
        state
            .record()
            .error
            .as_ref()
            .unwrap()
            .error_message
            .as_ref()
            .unwrap()
            .starts_with("Invalid invocation output")
    );
}

#[test]
fn option_values_outside_the_models_ranges_are_refused() {
    let mut callback = update("c", "CALLBACK", "START");
    callback.callback_options = Some(crate::model::CallbackOptions {
        timeout_seconds: Some(i64::MAX),
        heartbeat_timeout_seconds: None,
    });
    rejects(
        &[callback],
        "CallbackOptions.TimeoutSeconds must be from 0 to 99999999, not 9223372036854775807.",
    );
    let mut wait = update("w", "WAIT", "START");
    wait.wait_options = Some(WaitOptions {
        wait_seconds: Some(-1),
    });
    rejects(
        &[wait],
        "WaitOptions.WaitSeconds must be from 0 to 31622400, not -1.",
    );
}

#[test]
fn the_execution_times_out_at_its_deadline() {
    let (mut state, token) = invoking();
    state.fire_timers(Timestamp::from_millis(1_300_000));
    assert_eq!(state.record().status, ExecutionStatus::TimedOut);
    let error = checkpoint(&mut state, &token, &[], 1_300_001).unwrap_err();
    assert!(error.to_string().starts_with(INVALID_TOKEN));
}

#[test]
fn completed_contexts_hide_their_children_unless_they_replay_them() {
    let (mut state, token) = invoking();
    let mut child = update("k", "STEP", "START");
    child.parent_id = Some("c".to_owned());
    let output = checkpoint(
        &mut state,
        &token,
        &[
            update("c", "CONTEXT", "START"),
            child,
            update("k", "STEP", "SUCCEED"),
            update("c", "CONTEXT", "SUCCEED"),
        ],
        1_000_002,
    )
    .unwrap();
    answer(&mut state, PENDING, 1_000_003);
    let (_, envelope) = state.begin_invocation(2, Timestamp::from_millis(1_000_004), 1000);
    assert!(
        output
            .new_execution_state
            .operations
            .iter()
            .any(|op| op.id == "k")
    );
    let ids: Vec<&str> = envelope
        .initial_execution_state
        .operations
        .iter()
        .map(|op| op.id.as_str())
        .collect();
    assert_eq!(ids, ["exec", "c"]);
}
