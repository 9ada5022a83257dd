//! `GetDurableExecution`, `GetDurableExecutionHistory`,
//! `ListDurableExecutionsByFunction`, `DeleteDurableExecution`.

use axum::extract::Path;
use serde::Deserialize;
use serde_json::json;

use super::extract::{Answer, Api, Params, count, flag, json, ok};
use crate::error::Error;
use crate::execution::ExecutionRecord;
use crate::model::{ExecutionStatus, ExecutionSummary, Timestamp};
use crate::store::ListFilter;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GetQuery {
    include_execution_data: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct HistoryQuery {
    marker: Option<String>,
    max_items: Option<String>,
    reverse_order: Option<String>,
    include_execution_data: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ListQuery {
    durable_execution_name: Option<String>,
    #[serde(default)]
    statuses: Vec<String>,
    started_after: Option<String>,
    started_before: Option<String>,
    reverse_order: Option<String>,
    marker: Option<String>,
    max_items: Option<String>,
}

/// `key`'s value as an ISO 8601 moment.
fn moment(key: &str, value: Option<&str>) -> Result<Option<Timestamp>, Error> {
    value
        .map(|value| {
            Timestamp::parse_rfc3339(value).ok_or_else(|| {
                Error::invalid(format!(
                    "{key} must be an ISO 8601 timestamp, not '{value}'"
                ))
            })
        })
        .transpose()
}

pub(super) async fn get(
    Api(engine): Api,
    Path(arn): Path<String>,
    Params(query): Params<GetQuery>,
) -> Answer {
    let record = engine.execution(&arn).await?;
    let include = flag(
        "IncludeExecutionData",
        query.include_execution_data.as_deref(),
        true,
    )?;
    Ok(ok(&record.description(include)))
}

pub(super) async fn history(
    Api(engine): Api,
    Path(arn): Path<String>,
    Params(query): Params<HistoryQuery>,
) -> Answer {
    let page = engine
        .history(
            &arn,
            query.marker.as_deref(),
            count("MaxItems", query.max_items.as_deref())?,
            flag("ReverseOrder", query.reverse_order.as_deref(), false)?,
            flag(
                "IncludeExecutionData",
                query.include_execution_data.as_deref(),
                true,
            )?,
        )
        .await?;
    let mut body = json!({ "Events": page.events });
    if let (Some(marker), Some(members)) = (page.next_marker, body.as_object_mut()) {
        members.insert("NextMarker".to_owned(), marker.into());
    }
    Ok(ok(&body))
}

pub(super) async fn list(
    Api(engine): Api,
    Path(function): Path<String>,
    Params(query): Params<ListQuery>,
) -> Answer {
    let target = engine.resolve(&function, None)?;
    let statuses = query
        .statuses
        .iter()
        .map(|status| {
            ExecutionStatus::parse(status).ok_or_else(|| {
                Error::invalid(format!(
                    "Statuses has '{status}'; it takes RUNNING, PAUSING, PAUSED, SUCCEEDED, FAILED, TIMED_OUT or STOPPED"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let filter = ListFilter {
        function_name: Some(target.function.config().name.clone()),
        name: query.durable_execution_name,
        statuses,
        started_after: moment("StartedAfter", query.started_after.as_deref())?,
        started_before: moment("StartedBefore", query.started_before.as_deref())?,
        oldest_first: flag("ReverseOrder", query.reverse_order.as_deref(), false)?,
        after: None,
        limit: 0,
        search: None,
    };
    let page = engine
        .list(
            filter,
            query.marker.as_deref(),
            count("MaxItems", query.max_items.as_deref())?,
        )
        .await?;
    let executions: Vec<ExecutionSummary> = page
        .executions
        .iter()
        .map(ExecutionRecord::summary)
        .collect();
    let mut body = json!({ "DurableExecutions": executions });
    if let (Some(marker), Some(members)) = (page.next_marker, body.as_object_mut()) {
        members.insert("NextMarker".to_owned(), marker.into());
    }
    Ok(ok(&body))
}

pub(super) async fn delete(Api(engine): Api, Path(arn): Path<String>) -> Answer {
    let deleted = engine.delete(&arn).await?;
    Ok(json(
        http::StatusCode::ACCEPTED,
        &json!({ "DeletionRequestTimestamp": deleted }),
    ))
}
