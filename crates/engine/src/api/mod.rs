//! The Lambda REST-JSON API, as `aws-sdk-lambda`, botocore and the `aws`
//! CLI send it, on axum's [`Router`].
//!
//! [`router`] is the whole API; the HTTP server ([`serve`]) and the
//! in-process transport ([`crate::transport`]) both send their requests
//! through it. Path parameters arrive percent-decoded (ARNs and callback
//! ids travel as single encoded segments). Errors carry the API's exception
//! type in `x-amzn-ErrorType`. Request signatures are accepted without
//! being checked.
//!
//! One module per operation family:
//! - `functions`: `GetFunction`, `GetFunctionConfiguration`, `ListFunctions`,
//!   `ListVersionsByFunction`, `ListAliases`, `GetAlias`;
//! - `invoke`: `Invoke`, of plain and durable functions;
//! - `checkpoint`: `CheckpointDurableExecution`, `GetDurableExecutionState`;
//! - `executions`: `GetDurableExecution`, `GetDurableExecutionHistory`,
//!   `ListDurableExecutionsByFunction`, `DeleteDurableExecution`;
//! - `control`: `StopDurableExecution`, `PauseDurableExecution`,
//!   `ResumeDurableExecution`;
//! - `callbacks`: `SendDurableExecutionCallbackSuccess`, `…Failure`,
//!   `…Heartbeat`;
//! - `extract`: what every handler reads (the engine, the body, the query)
//!   and how it answers.
//!
//! `POST /` also answers two other services' reads, for the functions the
//! engine runs: CloudWatch Logs (`logs`: their log lines) and
//! CloudFormation (`cloudformation`: the stack a template was served as).

mod callbacks;
mod checkpoint;
mod cloudformation;
mod control;
mod executions;
pub(crate) mod extract;
mod functions;
mod invoke;
mod logs;
mod server;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower::ServiceExt as _;

pub use self::extract::error_response;
pub use self::server::{ServeOptions, serve_app};
use crate::engine::{Engine, WeakEngine};
use crate::error::Error;
use crate::limits::MAX_REQUEST_BODY_BYTES;

/// The whole API, answering for `engine`. The router holds the engine
/// weakly: it answers while someone else keeps the engine alive.
pub fn router(engine: &Engine) -> Router {
    Router::new()
        .route("/2015-03-31/functions", get(functions::list))
        .route("/2015-03-31/functions/{function}", get(functions::get))
        .route(
            "/2015-03-31/functions/{function}/configuration",
            get(functions::configuration),
        )
        .route(
            "/2015-03-31/functions/{function}/versions",
            get(functions::versions),
        )
        .route(
            "/2015-03-31/functions/{function}/aliases",
            get(functions::aliases),
        )
        .route(
            "/2015-03-31/functions/{function}/aliases/{alias}",
            get(functions::alias),
        )
        .route("/", post(other_service))
        .route(
            "/2015-03-31/functions/{function}/invocations",
            post(invoke::invoke),
        )
        .route(
            "/2025-12-01/durable-executions/{arn}",
            get(executions::get).delete(executions::delete),
        )
        .route(
            "/2025-12-01/durable-executions/{arn}/history",
            get(executions::history),
        )
        .route(
            "/2025-12-01/functions/{function}/durable-executions",
            get(executions::list),
        )
        .route(
            "/2025-12-01/durable-executions/{arn}/checkpoint",
            post(checkpoint::checkpoint),
        )
        .route(
            "/2025-12-01/durable-executions/{arn}/state",
            get(checkpoint::state),
        )
        .route(
            "/2025-12-01/durable-executions/{arn}/stop",
            post(control::stop),
        )
        .route(
            "/2025-12-01/durable-executions/{arn}/pause",
            post(control::pause),
        )
        .route(
            "/2025-12-01/durable-executions/{arn}/resume",
            post(control::resume),
        )
        .route(
            "/2025-12-01/durable-execution-callbacks/{id}/succeed",
            post(callbacks::succeed),
        )
        .route(
            "/2025-12-01/durable-execution-callbacks/{id}/fail",
            post(callbacks::fail),
        )
        .route(
            "/2025-12-01/durable-execution-callbacks/{id}/heartbeat",
            post(callbacks::heartbeat),
        )
        .fallback(extract::unknown_operation)
        .method_not_allowed_fallback(extract::unknown_operation)
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BODY_BYTES))
        .layer(axum::middleware::map_response(extract::with_request_id))
        .with_state(engine.downgrade())
}

/// Answers one request through the API, in process.
pub async fn handle(engine: &Engine, request: http::Request<Body>) -> http::Response<Body> {
    match router(engine).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Serves the API on `listener` until `shutdown` resolves, as `options`
/// say: see [`serve_app`].
///
/// # Errors
///
/// When the listener's address cannot be read.
pub async fn serve(
    engine: Engine,
    listener: tokio::net::TcpListener,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let served = serve_app(router(&engine), listener, options, shutdown).await;
    drop(engine);
    served
}

/// `POST /`: a CloudWatch Logs request (named by `X-Amz-Target`) or a
/// CloudFormation one (a form naming its `Action`).
async fn other_service(
    extract::Api(engine): extract::Api,
    headers: http::HeaderMap,
    extract::Payload(body): extract::Payload,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if let Some(target) = extract::header(&headers, "x-amz-target") {
        return match target.strip_prefix("Logs_20140328.") {
            Some(operation) => logs::dispatch(&engine, operation, &body).await,
            None => Error::not_found(format!(
                "No such operation: {target} (this endpoint serves Lambda, and CloudWatch Logs' Logs_20140328 reads)"
            ))
            .into_response(),
        };
    }
    let form = extract::header(&headers, "content-type")
        .is_some_and(|kind| kind.starts_with("application/x-www-form-urlencoded"));
    if form {
        return cloudformation::dispatch(&engine, &body);
    }
    Error::not_found(
        "No such operation: POST / (this endpoint serves Lambda, CloudWatch Logs' reads with X-Amz-Target, and CloudFormation's stack resources)",
    )
    .into_response()
}

/// The engine a weak router state refers to, while it lives.
fn live(engine: &WeakEngine) -> Result<Engine, Error> {
    engine
        .upgrade()
        .ok_or_else(|| Error::Service("the engine has stopped".to_owned()))
}
