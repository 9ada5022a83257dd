use super::*;
use crate::limits::CONTROL_TOKEN_MILLIS;

fn pause_request(reason: &str, execution_timeout_paused: bool) -> PauseRequest {
    PauseRequest {
        client_token: None,
        reason: Some(reason.to_owned()),
        execution_timeout_paused,
    }
}

/// The invocation holding `token` starts the step `s` at `millis`.
fn starts_a_step(state: &mut ExecutionState, token: &str, millis: i64) -> CheckpointOutput {
    checkpoint(state, token, &[update("s", "STEP", "START")], millis).unwrap()
}

fn event_types(changes: &Changes) -> Vec<&str> {
    changes
        .events
        .iter()
        .map(|event| event.event_type.as_str())
        .collect()
}

#[test]
fn a_pause_during_an_invocation_takes_effect_at_its_next_checkpoint() {
    let (mut state, token) = invoking();
    let _ = state.take_changes();
    let at = Timestamp::from_millis;
    state
        .pause(pause_request("deploying", true), at(1_000_010))
        .unwrap();
    assert_eq!(state.record().status, ExecutionStatus::Pausing);
    assert!(state.take_changes().0.events.is_empty(), "not paused yet");

    // The checkpoint is applied and answered; then the invocation is cut off.
    let output = starts_a_step(&mut state, &token, 1_000_020);
    assert_eq!(state.record().status, ExecutionStatus::Paused);
    assert_eq!(state.operations().count(), 2, "the step's start is kept");
    let (changes, _) = state.take_changes();
    assert_eq!(event_types(&changes), ["StepStarted", "ExecutionPaused"]);
    let error = checkpoint(&mut state, &output.checkpoint_token, &[], 1_000_030).unwrap_err();
    assert!(error.to_string().contains(INVALID_TOKEN), "{error}");

    // Its answer changes nothing, and nothing is invoked while paused.
    let after = answer(
        &mut state,
        br#"{"Status":"SUCCEEDED","Result":"1"}"#,
        1_000_040,
    );
    assert_eq!(after, AfterInvocation::Sleep);
    assert_eq!(state.record().status, ExecutionStatus::Paused);
    assert!(!state.may_invoke());

    // The timeout stops while paused: at most 366 days after the start.
    assert_eq!(
        state.record().timeout_at(),
        at(1_000_000 + MAX_PAUSED_LIFETIME_DAYS * crate::limits::DAY_MILLIS)
    );
    let request = ResumeRequest {
        client_token: None,
        reason: Some("deployed".to_owned()),
    };
    let invoke = state.resume(request, at(1_060_020)).unwrap();
    assert!(invoke, "the pause cut an invocation short");
    assert_eq!(state.record().status, ExecutionStatus::Running);
    assert!(state.record().pause.is_none());
    assert_eq!(
        state.record().timeout_at(),
        at(1_000_000 + 300_000 + 60_000),
        "extended by the minute it was paused"
    );
    let (changes, _) = state.take_changes();
    assert_eq!(
        event_types(&changes),
        ["InvocationCompleted", "ExecutionResumed"]
    );
}

#[test]
fn a_pause_without_an_invocation_is_immediate_and_keeps_the_timeout_if_asked() {
    let mut state = started();
    let at = Timestamp::from_millis;
    state
        .pause(pause_request("look", false), at(1_000_010))
        .unwrap();
    assert_eq!(state.record().status, ExecutionStatus::Paused);
    assert_eq!(
        state.record().timeout_at(),
        at(1_300_000),
        "a pause that keeps the timeout running does not move it"
    );
    let conflict = state.pause(pause_request("again", true), at(1_000_011));
    assert!(matches!(conflict, Err(ExecutionError::Conflict(_))));
    let invoke = state
        .resume(ResumeRequest::default(), at(1_050_000))
        .unwrap();
    assert!(invoke, "its first invocation has yet to run");
    assert_eq!(state.record().paused_millis, 0);
    assert_eq!(state.record().timeout_at(), at(1_300_000));
    let conflict = state.resume(ResumeRequest::default(), at(1_050_001));
    assert!(matches!(conflict, Err(ExecutionError::Conflict(_))));
}

#[test]
fn a_second_pause_before_a_cut_short_invocation_ends_is_immediate() {
    let (mut state, token) = invoking();
    let at = Timestamp::from_millis;
    state
        .pause(pause_request("one", true), at(1_000_010))
        .unwrap();
    starts_a_step(&mut state, &token, 1_000_020);
    // Resumed while the cut-short invocation still runs, then paused again.
    assert!(
        state
            .resume(ResumeRequest::default(), at(1_000_030))
            .unwrap()
    );
    state
        .pause(pause_request("two", true), at(1_000_040))
        .unwrap();
    assert_eq!(state.record().status, ExecutionStatus::Paused);
    let after = answer(&mut state, PENDING, 1_000_050);
    assert_eq!(after, AfterInvocation::Sleep);
    assert_eq!(state.record().status, ExecutionStatus::Paused);
    assert!(
        state
            .resume(ResumeRequest::default(), at(1_000_060))
            .unwrap(),
        "the cut-short invocation's work is still owed"
    );
}

#[test]
fn resuming_a_pausing_execution_cancels_the_pause() {
    let (mut state, token) = invoking();
    let at = Timestamp::from_millis;
    state
        .pause(pause_request("oops", true), at(1_000_010))
        .unwrap();
    let invoke = state
        .resume(ResumeRequest::default(), at(1_000_011))
        .unwrap();
    assert!(!invoke, "the invocation under way carries on");
    let _ = state.take_changes();
    starts_a_step(&mut state, &token, 1_000_020);
    assert_eq!(state.record().status, ExecutionStatus::Running);
    let (changes, _) = state.take_changes();
    assert_eq!(event_types(&changes), ["StepStarted"]);
}

#[test]
fn an_invocation_that_suspends_while_pausing_leaves_the_execution_paused() {
    let (mut state, token) = invoking();
    let at = Timestamp::from_millis;
    let mut wait = update("w", "WAIT", "START");
    wait.wait_options = Some(WaitOptions {
        wait_seconds: Some(1),
    });
    checkpoint(&mut state, &token, &[wait], 1_000_005).unwrap();
    state
        .pause(pause_request("hold", true), at(1_000_010))
        .unwrap();
    let after = answer(&mut state, PENDING, 1_000_020);
    assert_eq!(after, AfterInvocation::Sleep);
    assert_eq!(state.record().status, ExecutionStatus::Paused);

    // The wait ends while paused; resuming invokes for it.
    state.fire_timers(at(1_001_006));
    assert!(!state.may_invoke());
    assert!(
        state
            .resume(ResumeRequest::default(), at(1_002_000))
            .unwrap()
    );
}

#[test]
fn a_repeated_client_token_succeeds_without_acting_again() {
    let mut state = started();
    let at = Timestamp::from_millis;
    let request = PauseRequest {
        client_token: Some("t-1".to_owned()),
        ..pause_request("r", true)
    };
    state.pause(request.clone(), at(1_000_010)).unwrap();
    state.pause(request.clone(), at(1_000_020)).unwrap();
    let (changes, _) = state.take_changes();
    assert_eq!(
        event_types(&changes),
        ["ExecutionStarted", "ExecutionPaused"]
    );
    let other = PauseRequest {
        reason: Some("another".to_owned()),
        ..request.clone()
    };
    let error = state.pause(other, at(1_000_030)).unwrap_err();
    assert!(matches!(error, ExecutionError::Invalid(_)), "{error:?}");
    state
        .resume(ResumeRequest::default(), at(1_000_040))
        .unwrap();
    let late = state.pause(request, at(1_000_010 + CONTROL_TOKEN_MILLIS));
    assert!(late.is_ok(), "15 minutes on, the token is new again");
    assert_eq!(state.record().status, ExecutionStatus::Paused);
}

#[test]
fn a_pausing_execution_restored_after_a_restart_is_paused() {
    let mut record = record();
    record.status = ExecutionStatus::Pausing;
    record.pause = Some(PauseRecord {
        requested: Timestamp::from_millis(1_000_010),
        reason: None,
        execution_timeout_paused: true,
        since: None,
        invoke_on_resume: false,
    });
    let op = Operation::new(
        "exec".to_owned(),
        OperationType::Execution,
        OperationStatus::Started,
        Timestamp::from_millis(1_000_000),
    );
    let mut state = ExecutionState::restore(
        record,
        vec![op],
        Vec::new(),
        7,
        1.0,
        Timestamp::from_millis(2_000_000),
    );
    assert_eq!(state.record().status, ExecutionStatus::Paused);
    let (changes, _) = state.take_changes();
    assert!(changes.execution_changed);
    assert_eq!(event_types(&changes), ["ExecutionPaused"]);
    assert!(
        state
            .resume(ResumeRequest::default(), Timestamp::from_millis(2_000_001))
            .unwrap(),
        "its invocation died with the engine: resuming invokes again"
    );
}

#[test]
fn stopping_a_paused_execution_ends_it() {
    let mut state = started();
    state
        .pause(pause_request("r", true), Timestamp::from_millis(1_000_010))
        .unwrap();
    state.stop(None, Timestamp::from_millis(1_000_020));
    assert_eq!(state.record().status, ExecutionStatus::Stopped);
    assert!(state.record().pause.is_none());
}

#[test]
fn a_callback_whose_operation_is_missing_is_closed_when_due_and_never_due_again() {
    let mut state = started();
    let due = Timestamp::from_millis(1_000_500);
    state.track_callback(CallbackRecord {
        callback_id: "cb-gone".to_owned(),
        arn: state.record().arn.clone(),
        operation_id: "gone".to_owned(),
        timeout_at: Some(due),
        heartbeat_seconds: 0,
        heartbeat_at: None,
    });
    assert_eq!(state.next_deadline(), Some(due));
    state.fire_timers(Timestamp::from_millis(1_000_501));
    assert!(
        state.next_deadline() > Some(due),
        "{:?} is past: the timer would fire forever",
        state.next_deadline()
    );
    assert_eq!(state.take_changes().0.closed_callbacks, ["cb-gone"]);
}
