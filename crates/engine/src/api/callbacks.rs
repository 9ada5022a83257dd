//! `SendDurableExecutionCallbackSuccess`, `…Failure`, `…Heartbeat`.

use axum::extract::Path;
use serde_json::json;

use super::extract::{Answer, Api, JsonBody, Payload, ok};
use crate::error::Error;
use crate::limits::MAX_OPERATION_PAYLOAD_BYTES;
use crate::model::ErrorObject;

pub(super) async fn succeed(
    Api(engine): Api,
    Path(id): Path<String>,
    Payload(body): Payload,
) -> Answer {
    if body.len() > MAX_OPERATION_PAYLOAD_BYTES {
        return Err(Error::invalid(format!(
            "Result must be at most {MAX_OPERATION_PAYLOAD_BYTES} bytes, not {}.",
            body.len()
        )));
    }
    let result = if body.is_empty() {
        None
    } else {
        Some(String::from_utf8(body.to_vec()).map_err(|_| {
            Error::invalid("Result must be UTF-8 text (the callback's JSON result).")
        })?)
    };
    engine.callback_succeed(&id, result).await?;
    Ok(ok(&json!({})))
}

pub(super) async fn fail(
    Api(engine): Api,
    Path(id): Path<String>,
    JsonBody(error): JsonBody<ErrorObject>,
) -> Answer {
    engine.callback_fail(&id, error).await?;
    Ok(ok(&json!({})))
}

pub(super) async fn heartbeat(Api(engine): Api, Path(id): Path<String>) -> Answer {
    engine.callback_heartbeat(&id).await?;
    Ok(ok(&json!({})))
}
