//! The execution explorer: a web page, served by `orders serve` on a port
//! of its own, that lists executions, draws one's operations on a timeline
//! and its history as a table, updates live, and stops, pauses and resumes
//! executions, completes callbacks and starts executions.
//!
//! The page and its script are compiled into the binary (`explorer/`); its
//! data comes from the JSON routes here, live changes as server-sent
//! events. It is same-origin only: the server answers only its own `Host`
//! and `Origin` ([`crate::api::serve_app`]), and a state-changing request
//! must be a JSON `POST` carrying `X-Orders-Explorer`, which no form or
//! simple cross-site request can. No page of another site may frame it
//! (`X-Frame-Options`, CSP `frame-ancestors`), and its Content Security
//! Policy lets it load only its own assets.

mod routes;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::api::{ServeOptions, serve_app};
use crate::engine::Engine;
use crate::error::Error;

const PAGE: &str = include_str!("../../explorer/index.html");
const SCRIPT: &str = include_str!("../../explorer/explorer.js");
const STYLE: &str = include_str!("../../explorer/explorer.css");

/// The header every state-changing request of the page carries.
const MARKER: &str = "x-orders-explorer";

/// What the page may load and do: its own script, style and data, nothing
/// inline, and no page of another site may frame it (and lead a user into
/// clicking Stop in it).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (http::header::CONTENT_TYPE, content_type),
            (http::header::CACHE_CONTROL, "no-cache"),
            (http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Marks every answer as the page's own: never framed, loading only its
/// own assets.
async fn own_page(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_SECURITY_POLICY,
        http::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        http::header::X_FRAME_OPTIONS,
        http::HeaderValue::from_static("DENY"),
    );
    response
}

/// Refuses a state-changing request that a page of another site could
/// have sent: one without the explorer's header or not JSON.
async fn same_page_only(request: Request, next: Next) -> Response {
    let changes = !matches!(
        *request.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    );
    if changes {
        let headers = request.headers();
        let json = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/json"));
        if !headers.contains_key(MARKER) || !json {
            return Error::AccessDenied(
                "The explorer's actions are JSON requests from its own page.".to_owned(),
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// The explorer, answering for `engine` (held weakly, as the API is).
pub fn router(engine: &Engine) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", PAGE) }),
        )
        .route(
            "/assets/explorer.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/assets/explorer.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route("/api/functions", get(routes::functions))
        .route("/api/executions", get(routes::executions))
        .route("/api/executions/{arn}", get(routes::execution))
        .route("/api/executions/{arn}/{action}", post(routes::control))
        .route("/api/callbacks/{outcome}", post(routes::callback))
        .route("/api/start", post(routes::start))
        .route("/api/events", get(routes::events))
        .layer(axum::middleware::from_fn(same_page_only))
        .layer(axum::middleware::from_fn(own_page))
        .with_state(engine.downgrade())
}

/// Serves the explorer on `listener` until `shutdown` resolves.
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
