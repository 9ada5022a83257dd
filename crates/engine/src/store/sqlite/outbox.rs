//! Filling the outbox of a store file written before it had one: each
//! running execution's chained invokes under way, read from its history.

use rusqlite::{Connection, params};

use super::parse;
use crate::execution::ChainedInvokeRequest;
use crate::model::{Event, EventDetails, Operation, OperationStatus, OperationType};

/// Puts in the outbox every chained invoke a running execution started and
/// has not seen end.
pub(super) fn fill(connection: &Connection) -> rusqlite::Result<()> {
    let running: Vec<i64> = connection
        .prepare("SELECT id FROM executions WHERE status IN ('RUNNING', 'PAUSING', 'PAUSED')")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for execution in running {
        let open: Vec<String> = connection
            .prepare_cached("SELECT body FROM operations WHERE execution = ?1")?
            .query_map(params![execution], |row| row.get::<_, String>(0))?
            .map(|body| parse::<Operation>(&body?))
            .filter_map(|op| match op {
                Ok(op)
                    if op.kind == OperationType::ChainedInvoke
                        && op.status == OperationStatus::Started =>
                {
                    Some(Ok(op.id))
                }
                Ok(_) => None,
                Err(error) => Some(Err(error)),
            })
            .collect::<rusqlite::Result<_>>()?;
        if open.is_empty() {
            continue;
        }
        let events: Vec<Event> = connection
            .prepare_cached("SELECT body FROM events WHERE execution = ?1 ORDER BY event_id")?
            .query_map(params![execution], |row| row.get::<_, String>(0))?
            .map(|body| parse(&body?))
            .collect::<rusqlite::Result<_>>()?;
        for event in events {
            let (
                Some(operation_id),
                EventDetails::ChainedInvokeStarted {
                    function_name,
                    input,
                    tenant_id,
                    durable_execution_arn,
                    ..
                },
            ) = (event.id, event.details)
            else {
                continue;
            };
            if !open.contains(&operation_id) {
                continue;
            }
            let request = ChainedInvokeRequest {
                operation_id: operation_id.clone(),
                function_name,
                payload: input
                    .and_then(|input| input.payload)
                    .unwrap_or_else(|| "{}".to_owned()),
                execution_arn: durable_execution_arn,
                tenant_id,
            };
            let body = serde_json::to_string(&request)
                .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
            connection
                .prepare_cached(
                    "INSERT OR REPLACE INTO outbox (execution, operation_id, body) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![execution, operation_id, body])?;
        }
    }
    Ok(())
}
