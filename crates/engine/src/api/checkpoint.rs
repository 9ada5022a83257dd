//! `CheckpointDurableExecution` and `GetDurableExecutionState`: what an
//! invocation asks of its own execution.

use axum::extract::Path;
use serde::Deserialize;

use super::extract::{Answer, Api, JsonBody, Params, count, header, ok};
use crate::engine::EngineError;
use crate::error::Error;
use crate::execution::INVALID_TOKEN;
use crate::model::OperationUpdate;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct CheckpointRequest {
    checkpoint_token: Option<String>,
    client_token: Option<String>,
    #[serde(default)]
    updates: Vec<OperationUpdate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct StateQuery {
    checkpoint_token: Option<String>,
    marker: Option<String>,
    max_items: Option<String>,
}

fn required(token: Option<String>) -> Result<String, Error> {
    token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Error::invalid("CheckpointToken is required."))
}

/// Words a stale-token rejection the way the calling SDK recognises it.
///
/// Every durable SDK retries the invocation (rather than failing the
/// execution) when a checkpoint is refused for its token, recognising the
/// refusal by the start of the message: `Invalid Checkpoint Token` for the
/// Rust, JavaScript and Java SDKs, `Invalid checkpoint token` for the Python
/// SDK, which identifies itself in the User-Agent.
fn token_wording(error: EngineError, headers: &http::HeaderMap) -> Error {
    let python = header(headers, "user-agent")
        .is_some_and(|agent| agent.contains("aws-durable-execution-sdk-python"));
    match error.into_api() {
        Error::InvalidParameterValue(message) if python => {
            let reworded = message
                .strip_prefix(INVALID_TOKEN)
                .map_or(message.clone(), |rest| {
                    format!("Invalid checkpoint token{rest}")
                });
            Error::InvalidParameterValue(reworded)
        }
        other => other,
    }
}

pub(super) async fn checkpoint(
    Api(engine): Api,
    Path(arn): Path<String>,
    headers: http::HeaderMap,
    JsonBody(body): JsonBody<CheckpointRequest>,
) -> Answer {
    let token = required(body.checkpoint_token)?;
    let output = engine
        .checkpoint(&arn, token, body.client_token, body.updates)
        .await
        .map_err(|error| token_wording(error, &headers))?;
    Ok(ok(&output))
}

pub(super) async fn state(
    Api(engine): Api,
    Path(arn): Path<String>,
    headers: http::HeaderMap,
    Params(query): Params<StateQuery>,
) -> Answer {
    let token = required(query.checkpoint_token)?;
    let max_items = count("MaxItems", query.max_items.as_deref())?;
    let page = engine
        .state(&arn, token, query.marker, max_items)
        .await
        .map_err(|error| token_wording(error, &headers))?;
    Ok(ok(&page))
}
