//! The Lambda Runtime API one environment's process talks to: `next`,
//! `response`, `error` and `init/error`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bytes::Bytes;

use super::pool::{Environment, Stopped};
use crate::functions::FunctionFault;
use crate::limits::MAX_REQUEST_BODY_BYTES;

/// The Runtime API of `environment`.
pub(super) fn router(environment: Arc<Environment>) -> axum::Router {
    axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(respond),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY_BYTES))
        .with_state(environment)
}

fn gone() -> axum::response::Response {
    (StatusCode::GONE, "the execution environment is stopping").into_response()
}

/// The next invocation, once there is one. The first call ends the
/// environment's init. An environment stops instead when it has waited
/// past the idle timeout, when the function's code changed, or when the
/// host stops.
async fn next(State(environment): State<Arc<Environment>>) -> axum::response::Response {
    let pool = Arc::clone(&environment.pool);
    environment.initialized();
    let retire = environment.retire.clone();
    let mut code = pool.code.subscribe();
    let generation = environment.generation;
    let stale = code.wait_for(|current| *current != generation);
    let idle = tokio::time::sleep(pool.config.idle_timeout);
    tokio::pin!(stale, idle);
    let mut queue = tokio::select! {
        queue = pool.queue.lock() => queue,
        () = retire.cancelled() => return gone(),
        _ = &mut stale => {
            environment.stop(Stopped::CodeChanged);
            return gone();
        }
        () = &mut idle => {
            environment.stop(Stopped::Idle);
            return gone();
        }
    };
    let (invocation, reply) = loop {
        let job = tokio::select! {
            job = queue.recv() => job,
            () = retire.cancelled() => return gone(),
            _ = &mut stale => {
            environment.stop(Stopped::CodeChanged);
            return gone();
        }
            () = &mut idle => {
            environment.stop(Stopped::Idle);
            return gone();
        }
        };
        let Some(job) = job else {
            return gone();
        };
        // An invocation given up while it waited is not run.
        if !job.reply.is_closed() && job.taken.send(()).is_ok() {
            break (job.invocation, job.reply);
        }
    };
    drop(queue);
    let request_id = invocation.request_id.clone();
    environment.take(request_id.clone(), reply);
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", request_id),
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

async fn respond(
    State(environment): State<Arc<Environment>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answered(environment.finish(&id, Ok(body.to_vec())))
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

async fn fail(
    State(environment): State<Arc<Environment>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    answered(environment.finish(&id, Err(posted_error(&headers, &body))))
}

/// The function could not initialize: the invocations waiting get its
/// error, and the environment stops (the next invocation starts another).
async fn init_error(
    State(environment): State<Arc<Environment>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if environment.initialized.load(Ordering::SeqCst) {
        return StatusCode::FORBIDDEN;
    }
    environment.init_failed(posted_error(&headers, &body));
    StatusCode::ACCEPTED
}
