//! The service's checkpoint rules: pure functions of a batch of updates and
//! the operations before it, small enough to review and test alone.

use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;

use super::error::{ExecutionError, Result};
use crate::limits::{
    MAX_CALLBACK_SECONDS, MAX_DELAY_SECONDS, MAX_ERROR_BYTES, MAX_FUNCTION_REFERENCE_BYTES,
    MAX_OPERATION_NAME_BYTES, MAX_OPERATION_PAYLOAD_BYTES, MAX_SYNC_PAYLOAD_BYTES, VALID_NAME,
    is_valid_name,
};
use crate::model::{
    Operation, OperationAction, OperationStatus, OperationType, OperationUpdate, Sent,
};

/// An update that passed the rules, with its type and action read.
#[derive(Debug, Clone, Copy)]
pub struct ValidUpdate<'u> {
    /// The update as sent.
    pub update: &'u OperationUpdate,
    /// Its operation type.
    pub kind: OperationType,
    /// Its action.
    pub action: OperationAction,
}

/// Validates a whole batch against `operations`, the execution's operations
/// before it, in the service's order: the first broken rule rejects the
/// batch, and nothing of it is applied.
///
/// # Errors
///
/// `InvalidParameterValue` with the service's message for the first update
/// that breaks a rule.
pub fn validate_batch<'u>(
    operations: &IndexMap<String, Operation>,
    updates: &'u [OperationUpdate],
) -> Result<Vec<ValidUpdate<'u>>> {
    check_batch(operations, updates)?;
    updates
        .iter()
        .map(|update| check_update(operations, update))
        .collect()
}

/// The rules across a batch: one `EXECUTION` update at most, and last; ids
/// well formed and not repeated (but a `START` and its outcome); parents that
/// exist or start earlier in the batch.
fn check_batch(
    operations: &IndexMap<String, Operation>,
    updates: &[OperationUpdate],
) -> Result<()> {
    let executions = updates
        .iter()
        .filter(|u| u.kind.is(OperationType::Execution))
        .count();
    if executions > 1 {
        return Err(ExecutionError::invalid(
            "Cannot checkpoint multiple EXECUTION updates.",
        ));
    }
    if executions == 1
        && updates
            .last()
            .is_some_and(|u| !u.kind.is(OperationType::Execution))
    {
        return Err(ExecutionError::invalid(
            "EXECUTION checkpoint must be the last update.",
        ));
    }

    let mut last_action: HashMap<&str, (&Sent<OperationType>, &Sent<OperationAction>)> =
        HashMap::new();
    let mut started_contexts: BTreeSet<&str> = BTreeSet::new();
    for update in updates {
        if !update.kind.is(OperationType::Execution) && !is_valid_name(&update.id) {
            return Err(ExecutionError::invalid(format!(
                "Invalid operation id '{}': {VALID_NAME}.",
                update.id
            )));
        }
        if let Some((previous_kind, previous)) = last_action.get(update.id.as_str()) {
            // The outcome of an operation this batch starts is of its type.
            if update.kind.known() != previous_kind.known() {
                return Err(ExecutionError::invalid("Inconsistent operation type."));
            }
            let pairs = matches!(
                update.kind.known(),
                Some(OperationType::Step | OperationType::Context)
            ) && previous.is(OperationAction::Start)
                && !update.action.is(OperationAction::Start);
            if !pairs {
                return Err(ExecutionError::invalid(
                    "Cannot checkpoint multiple operations with the same ID.",
                ));
            }
        }
        if let Some(parent) = update.parent_id.as_deref() {
            let existing = operations
                .get(parent)
                .is_some_and(|op| op.kind == OperationType::Context);
            if !existing && !started_contexts.contains(parent) {
                return Err(ExecutionError::invalid("Invalid parent operation id."));
            }
        }
        last_action.insert(update.id.as_str(), (&update.kind, &update.action));
        if update.kind.is(OperationType::Context) && update.action.is(OperationAction::Start) {
            started_contexts.insert(update.id.as_str());
        }
    }
    Ok(())
}

/// The rules of one update, against the operation it changes as it was
/// before the batch.
fn check_update<'u>(
    operations: &IndexMap<String, Operation>,
    update: &'u OperationUpdate,
) -> Result<ValidUpdate<'u>> {
    let current = if update.kind.is(OperationType::Execution) {
        None
    } else {
        operations.get(&update.id)
    };
    if let Some(current) = current {
        if update.kind.known().is_some_and(|kind| kind != current.kind) {
            return Err(ExecutionError::invalid("Inconsistent operation type."));
        }
        if update.sub_type.is_some() && update.sub_type != current.sub_type {
            return Err(ExecutionError::invalid("Inconsistent operation subtype."));
        }
        if update.name.is_some() && update.name != current.name {
            return Err(ExecutionError::invalid("Inconsistent operation name."));
        }
        if update.parent_id.is_some() && update.parent_id != current.parent_id {
            return Err(ExecutionError::invalid("Inconsistent parent operation id."));
        }
    }
    if update
        .name
        .as_ref()
        .is_some_and(|name| name.len() > MAX_OPERATION_NAME_BYTES)
    {
        return Err(ExecutionError::invalid(format!(
            "Operation name must be at most {MAX_OPERATION_NAME_BYTES} characters."
        )));
    }
    let limit = if update.kind.is(OperationType::Execution) {
        MAX_SYNC_PAYLOAD_BYTES
    } else {
        MAX_OPERATION_PAYLOAD_BYTES
    };
    if update
        .payload
        .as_ref()
        .is_some_and(|payload| payload.len() > limit)
    {
        return Err(ExecutionError::invalid(format!(
            "{} payload size must be less than or equal to {limit} bytes.",
            update.kind
        )));
    }
    check_ranges(update)?;
    if let Some(error) = &update.error {
        let size = serde_json::to_vec(error).map_or(0, |bytes| bytes.len());
        if size > MAX_ERROR_BYTES {
            return Err(ExecutionError::invalid(format!(
                "Error object size must be less than or equal to {MAX_ERROR_BYTES} bytes."
            )));
        }
    }
    let kind = update
        .kind
        .known()
        .ok_or_else(|| ExecutionError::invalid("Unknown operation type."))?;
    let action = update
        .action
        .known()
        .filter(|action| allowed(kind, *action))
        .ok_or_else(|| ExecutionError::invalid("Invalid action for the given operation type."))?;
    validate_transition(update, kind, action, current)?;
    Ok(ValidUpdate {
        update,
        kind,
        action,
    })
}

/// The numeric options' ranges, as the API's model gives them.
fn check_ranges(update: &OperationUpdate) -> Result<()> {
    let within = |value: Option<i64>, low: i64, high: i64, name: &str| match value {
        Some(value) if !(low..=high).contains(&value) => Err(ExecutionError::invalid(format!(
            "{name} must be from {low} to {high}, not {value}."
        ))),
        _ => Ok(()),
    };
    if let Some(options) = &update.wait_options {
        within(
            options.wait_seconds,
            0,
            MAX_DELAY_SECONDS,
            "WaitOptions.WaitSeconds",
        )?;
    }
    if let Some(options) = &update.step_options {
        within(
            options.next_attempt_delay_seconds,
            0,
            MAX_DELAY_SECONDS,
            "StepOptions.NextAttemptDelaySeconds",
        )?;
    }
    if let Some(options) = &update.callback_options {
        within(
            options.timeout_seconds,
            0,
            MAX_CALLBACK_SECONDS,
            "CallbackOptions.TimeoutSeconds",
        )?;
        within(
            options.heartbeat_timeout_seconds,
            0,
            MAX_CALLBACK_SECONDS,
            "CallbackOptions.HeartbeatTimeoutSeconds",
        )?;
    }
    Ok(())
}

/// The actions each operation type accepts.
const fn allowed(kind: OperationType, action: OperationAction) -> bool {
    use OperationAction::{Cancel, Fail, Retry, Start, Succeed};
    match kind {
        OperationType::Execution => matches!(action, Succeed | Fail),
        OperationType::Context => matches!(action, Start | Succeed | Fail),
        OperationType::Step => matches!(action, Start | Succeed | Fail | Retry),
        OperationType::Wait => matches!(action, Start | Cancel),
        OperationType::Callback | OperationType::ChainedInvoke => matches!(action, Start),
    }
}

/// The per-type transition rules, against the operation before the batch.
fn validate_transition(
    update: &OperationUpdate,
    kind: OperationType,
    action: OperationAction,
    current: Option<&Operation>,
) -> Result<()> {
    let status = current.map(|op| op.status);
    let no_payload_on_fail = || {
        if action == OperationAction::Fail && update.payload.is_some() {
            return Err(ExecutionError::invalid(
                "Cannot provide a Payload for FAIL action.",
            ));
        }
        if action == OperationAction::Succeed && update.error.is_some() {
            return Err(ExecutionError::invalid(
                "Cannot provide an Error for SUCCEED action.",
            ));
        }
        Ok(())
    };
    match kind {
        OperationType::Execution => no_payload_on_fail(),
        OperationType::Step => step_transition(update, action, status, no_payload_on_fail),
        OperationType::ChainedInvoke => chained_invoke_transition(update, current),
        _ => other_transition(kind, action, current, no_payload_on_fail),
    }
}

/// A step's rules: a retry needs its options; starting needs `READY`;
/// closing or retrying needs `STARTED` or `READY`.
fn step_transition(
    update: &OperationUpdate,
    action: OperationAction,
    status: Option<OperationStatus>,
    no_payload_on_fail: impl Fn() -> Result<()>,
) -> Result<()> {
    match (status, action) {
        (None, _) => {
            if action == OperationAction::Retry && update.step_options.is_none() {
                return Err(ExecutionError::invalid(
                    "Invalid StepOptions for the given action.",
                ));
            }
            no_payload_on_fail()
        }
        (_, OperationAction::Start) => {
            if status == Some(OperationStatus::Ready) {
                Ok(())
            } else {
                Err(ExecutionError::invalid(
                    "Invalid current STEP state to start.",
                ))
            }
        }
        (_, OperationAction::Succeed | OperationAction::Fail) => {
            if !matches!(
                status,
                Some(OperationStatus::Started | OperationStatus::Ready)
            ) {
                return Err(ExecutionError::invalid(
                    "Invalid current STEP state to close.",
                ));
            }
            no_payload_on_fail()
        }
        (_, _) => {
            if !matches!(
                status,
                Some(OperationStatus::Started | OperationStatus::Ready)
            ) {
                return Err(ExecutionError::invalid(
                    "Invalid current STEP state to re-attempt.",
                ));
            }
            if update.step_options.is_none() {
                return Err(ExecutionError::invalid(
                    "Invalid StepOptions for the given action.",
                ));
            }
            if update.error.is_some() && update.payload.is_some() {
                return Err(ExecutionError::invalid(
                    "Cannot provide both error and payload to RETRY a STEP.",
                ));
            }
            Ok(())
        }
    }
}

/// The rules of contexts, waits and callbacks.
fn other_transition(
    kind: OperationType,
    action: OperationAction,
    current: Option<&Operation>,
    no_payload_on_fail: impl Fn() -> Result<()>,
) -> Result<()> {
    let status = current.map(|op| op.status);
    match (kind, action) {
        (OperationType::Context, OperationAction::Start) => {
            if current.is_some() {
                Err(ExecutionError::invalid(
                    "Cannot start a CONTEXT that already exist.",
                ))
            } else {
                Ok(())
            }
        }
        (OperationType::Context, _) => {
            if current.is_some() && status != Some(OperationStatus::Started) {
                return Err(ExecutionError::invalid(
                    "Invalid current CONTEXT state to close.",
                ));
            }
            no_payload_on_fail()
        }
        (OperationType::Wait, OperationAction::Start) => {
            if current.is_some() {
                return Err(ExecutionError::invalid(
                    "Cannot start a WAIT that already exist.",
                ));
            }
            Ok(())
        }
        (OperationType::Wait, _) => {
            if status == Some(OperationStatus::Started) {
                Ok(())
            } else {
                Err(ExecutionError::invalid(
                    "Cannot cancel a WAIT that does not exist or has already completed.",
                ))
            }
        }
        (OperationType::Callback, _) => {
            if current.is_some() {
                Err(ExecutionError::invalid(
                    "Cannot start a CALLBACK that already exist.",
                ))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// A chained invoke's rules: started once, naming a function.
fn chained_invoke_transition(update: &OperationUpdate, current: Option<&Operation>) -> Result<()> {
    if current.is_some() {
        return Err(ExecutionError::invalid(
            "Cannot start a CHAINED_INVOKE operation that already exists.",
        ));
    }
    let name = update
        .chained_invoke_options
        .as_ref()
        .and_then(|options| options.function_name.as_deref())
        .ok_or_else(|| {
            ExecutionError::invalid(
                "Update for CHAINED_INVOKE operation requires ChainedInvokeOptions.",
            )
        })?;
    if name.is_empty() || name.len() > MAX_FUNCTION_REFERENCE_BYTES {
        return Err(ExecutionError::invalid(format!(
            "Invalid function ARN '{name}'"
        )));
    }
    Ok(())
}
