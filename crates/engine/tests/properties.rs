//! Properties of what the engine reads from requests: function names and
//! ARNs, list markers, and checkpoint batches.
#![allow(clippy::unwrap_used, reason = "tests")]

use durable_engine::arn::{FunctionRef, function_arn};
use durable_engine::execution::validate::validate_batch;
use durable_engine::model::{
    Operation, OperationStatus, OperationType, OperationUpdate, Sent, Timestamp,
};
use durable_engine::store::ListCursor;
use indexmap::IndexMap;
use proptest::prelude::*;

proptest! {
    #[test]
    fn a_function_arn_reads_back_as_its_parts(
        name in "[a-zA-Z0-9_.-]{1,64}",
        qualifier in prop::option::of("[a-zA-Z0-9_$]{1,12}"),
        region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
        account in "[0-9]{12}",
    ) {
        let arn = function_arn(&region, &account, &name, qualifier.as_deref());
        let parsed = FunctionRef::parse(&arn).unwrap();
        prop_assert_eq!(parsed.name, name.as_str());
        prop_assert_eq!(parsed.qualifier, qualifier.as_deref());
        prop_assert_eq!(parsed.region, Some(region.as_str()));
        prop_assert_eq!(parsed.account, Some(account.as_str()));
    }

    #[test]
    fn any_text_as_a_function_name_is_read_or_refused_without_a_panic(text in "\\PC{0,80}") {
        if let Some(parsed) = FunctionRef::parse(&text) {
            prop_assert!(!parsed.name.is_empty() && parsed.name.len() <= 64);
        }
    }

    #[test]
    fn a_list_marker_reads_back_as_its_cursor(start in any::<i64>(), arn in "[ -~]{1,120}") {
        let cursor = ListCursor { start: Timestamp::from_millis(start), arn };
        prop_assert_eq!(ListCursor::parse(&cursor.to_string()), Some(cursor));
    }

    #[test]
    fn any_text_as_a_list_marker_is_read_or_refused_without_a_panic(text in "\\PC{0,80}") {
        let _ = ListCursor::parse(&text);
    }

    #[test]
    fn any_checkpoint_batch_is_judged_without_a_panic(
        updates in prop::collection::vec(
            (
                "[a-e]{1,2}",
                prop::sample::select(vec!["STEP", "WAIT", "CALLBACK", "CONTEXT", "CHAINED_INVOKE", "EXECUTION", ""]),
                prop::sample::select(vec!["START", "SUCCEED", "FAIL", "RETRY", "CANCEL", "x"]),
                prop::option::of("[a-e]{1,2}"),
            ),
            0..6,
        ),
        existing in prop::collection::vec(("[a-e]{1,2}", 0_usize..4, 0_usize..4), 0..5),
    ) {
        let kinds = [OperationType::Step, OperationType::Wait, OperationType::Callback, OperationType::Context];
        let statuses = [OperationStatus::Started, OperationStatus::Succeeded, OperationStatus::Pending, OperationStatus::Ready];
        let operations: IndexMap<String, Operation> = existing
            .into_iter()
            .map(|(id, kind, status)| {
                let op = Operation::new(id.clone(), kinds[kind], statuses[status], Timestamp::from_millis(1));
                (id, op)
            })
            .collect();
        let updates: Vec<OperationUpdate> = updates
            .into_iter()
            .map(|(id, kind, action, parent)| OperationUpdate {
                id,
                kind: Sent::from_text(kind),
                action: Sent::from_text(action),
                parent_id: parent,
                ..OperationUpdate::default()
            })
            .collect();
        if let Ok(valid) = validate_batch(&operations, &updates) {
            prop_assert_eq!(valid.len(), updates.len(), "a valid batch is valid whole");
            let executions = updates.iter().filter(|u| u.kind.is(OperationType::Execution)).count();
            prop_assert!(executions <= 1);
            if executions == 1 {
                prop_assert_eq!(updates.last().map(|u| u.kind.as_str()), Some("EXECUTION"));
            }
        }
    }
}
