//! `StopDurableExecution`, `PauseDurableExecution`, `ResumeDurableExecution`.

use axum::extract::Path;
use serde::Deserialize;
use serde_json::json;

use super::extract::{Answer, Api, JsonBody, json, ok};
use crate::error::Error;
use crate::execution::{PauseRequest, ResumeRequest};
use crate::limits::MAX_REASON_CHARS;
use crate::model::ErrorObject;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ControlRequest {
    client_token: Option<String>,
    reason: Option<String>,
    execution_timeout_paused: Option<bool>,
}

impl ControlRequest {
    /// The request, checked as the service checks it.
    fn checked(self) -> Result<Self, Error> {
        if let Some(token) = &self.client_token
            && (token.is_empty()
                || token.len() > 64
                || !token.bytes().all(|byte| (0x21..=0x7e).contains(&byte)))
        {
            return Err(Error::invalid(
                "ClientToken must be 1 to 64 printable ASCII characters without spaces.",
            ));
        }
        if let Some(reason) = &self.reason
            && reason.chars().count() > MAX_REASON_CHARS
        {
            return Err(Error::invalid(format!(
                "Reason must be at most {MAX_REASON_CHARS} characters, not {}.",
                reason.chars().count()
            )));
        }
        Ok(self)
    }
}

fn accepted() -> axum::response::Response {
    json(http::StatusCode::ACCEPTED, &json!({}))
}

pub(super) async fn stop(
    Api(engine): Api,
    Path(arn): Path<String>,
    JsonBody(error): JsonBody<ErrorObject>,
) -> Answer {
    let stopped = engine.stop(&arn, Some(error)).await?;
    Ok(ok(&json!({ "StopTimestamp": stopped })))
}

pub(super) async fn pause(
    Api(engine): Api,
    Path(arn): Path<String>,
    JsonBody(body): JsonBody<ControlRequest>,
) -> Answer {
    let body = body.checked()?;
    let request = PauseRequest {
        client_token: body.client_token,
        reason: body.reason,
        execution_timeout_paused: body.execution_timeout_paused.unwrap_or(true),
    };
    engine.pause(&arn, request).await?;
    Ok(accepted())
}

pub(super) async fn resume(
    Api(engine): Api,
    Path(arn): Path<String>,
    JsonBody(body): JsonBody<ControlRequest>,
) -> Answer {
    let body = body.checked()?;
    let request = ResumeRequest {
        client_token: body.client_token,
        reason: body.reason,
    };
    engine.resume(&arn, request).await?;
    Ok(accepted())
}
