//! The Lambda REST-JSON API, as `aws-sdk-lambda`, botocore and the `aws`
//! CLI send it.
//!
//! [`handle`] takes one request and answers it; the HTTP server
//! ([`serve`]) and the in-process transport ([`crate::transport`]) both go
//! through it. Paths are split on `/` before each segment is
//! percent-decoded (ARNs and callback ids travel as single encoded
//! segments). Errors carry the API's exception type in `x-amzn-ErrorType`.
//! Request signatures are accepted without being checked.

mod routes;

use std::net::SocketAddr;

use bytes::Bytes;

pub use self::routes::handle;
use crate::engine::Engine;

/// One API request.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// `GET`, `POST`, `DELETE`, …
    pub method: http::Method,
    /// The path, still percent-encoded.
    pub path: String,
    /// The query string, still percent-encoded.
    pub query: Option<String>,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// One API response.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers beyond `Content-Type`.
    pub headers: Vec<(&'static str, String)>,
    /// The content type of the body.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// Serves the API on `listener` until `shutdown` resolves.
///
/// # Errors
///
/// When the server fails.
pub async fn serve(
    engine: Engine,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let engine = engine.clone();
        async move {
            match from_axum(request).await {
                Ok(request) => to_axum(handle(&engine, request).await),
                Err(refusal) => to_axum(refusal),
            }
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The largest request body the API reads (a synchronous invocation's 6 MB,
/// and some).
const MAX_BODY_BYTES: usize = 7 * 1024 * 1024;

async fn from_axum(request: axum::extract::Request) -> Result<ApiRequest, ApiResponse> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let too_large = || {
        routes::error_response(&crate::Error::RequestTooLarge(format!(
            "Request must be smaller than {MAX_BODY_BYTES} bytes"
        )))
    };
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(error)
            if std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>()) =>
        {
            return Err(too_large());
        }
        Err(error) => {
            return Err(routes::error_response(&crate::Error::invalid(format!(
                "The request body could not be read: {error}"
            ))));
        }
    };
    Ok(ApiRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    })
}

fn to_axum(response: ApiResponse) -> axum::response::Response {
    let mut builder = http::Response::builder()
        .status(response.status)
        .header(http::header::CONTENT_TYPE, response.content_type);
    for (name, value) in response.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(axum::body::Body::from(response.body))
        .unwrap_or_else(|_| {
            let mut fallback = axum::response::Response::new(axum::body::Body::empty());
            *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}
