//! The Lambda Runtime API one environment's process talks to: `next`,
//! `response`, `error` and `init/error`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;

use crate::functions::{FunctionFault, Invocation};
use crate::limits::MAX_REQUEST_BODY_BYTES;

/// What the Runtime API serves: one execution environment, which hands
/// its process invocations and takes their answers.
pub(super) trait Host: Send + Sync + 'static {
    /// The next invocation for the process, once there is one; `None` when
    /// the environment stops instead. The first call ends its init.
    fn next_invocation(&self) -> impl Future<Output = Option<Invocation>> + Send;

    /// The answer to the invocation `id`; false when it is not the one the
    /// environment runs.
    fn answer(&self, id: &str, outcome: Result<Vec<u8>, FunctionFault>) -> bool;

    /// The process could not initialize; false when its init was over.
    fn init_error(&self, fault: FunctionFault) -> bool;
}

/// The Runtime API of `host`.
pub(super) fn router<H: Host>(host: Arc<H>) -> axum::Router {
    axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next::<H>))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond::<H>),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(fail::<H>))
        .route("/2018-06-01/runtime/init/error", post(init_error::<H>))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY_BYTES))
        .with_state(host)
}

/// The next invocation, with Lambda's headers, once there is one.
async fn next<H: Host>(State(host): State<Arc<H>>) -> axum::response::Response {
    let Some(invocation) = host.next_invocation().await else {
        return (StatusCode::GONE, "the execution environment is stopping").into_response();
    };
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", invocation.request_id),
        (
            "lambda-runtime-deadline-ms",
            invocation.deadline_ms.to_string(),
        ),
        (
            "lambda-runtime-invoked-function-arn",
            invocation.function_arn,
        ),
        (
            "lambda-runtime-trace-id",
            format!("Root=1-00000000-{}", uuid::Uuid::new_v4().simple()),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    (headers, invocation.payload).into_response()
}

async fn respond<H: Host>(
    State(host): State<Arc<H>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answered(host.answer(&id, Ok(body.to_vec())))
}

/// The status of a response or error posted for an invocation: refused
/// when it is not the one the environment runs.
fn answered(current: bool) -> StatusCode {
    if current {
        StatusCode::ACCEPTED
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// The error a runtime posted: its `errorType` (or the header's) and
/// `errorMessage`.
fn posted_error(headers: &HeaderMap, body: &[u8]) -> FunctionFault {
    let error: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let header = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|value| value.to_str().ok());
    FunctionFault::Failed {
        error_type: error
            .get("errorType")
            .and_then(serde_json::Value::as_str)
            .or(header)
            .unwrap_or("Unhandled")
            .to_owned(),
        message: error
            .get("errorMessage")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}

async fn fail<H: Host>(
    State(host): State<Arc<H>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    answered(host.answer(&id, Err(posted_error(&headers, &body))))
}

/// The function could not initialize: the invocations waiting get its
/// error, and the environment stops (the next invocation starts another).
async fn init_error<H: Host>(
    State(host): State<Arc<H>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if host.init_error(posted_error(&headers, &body)) {
        StatusCode::ACCEPTED
    } else {
        StatusCode::FORBIDDEN
    }
}
