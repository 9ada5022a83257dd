//! What every handler reads (the engine, the body, the query string) and
//! how every handler answers (JSON, or the API's error shape).

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::engine::{Engine, WeakEngine};
use crate::error::Error;
use crate::limits::MAX_REQUEST_BODY_BYTES;

/// What a handler answers: a response, or an API error.
pub(super) type Answer = Result<Response, Error>;

/// The engine the request is for.
pub(super) struct Api(pub(super) Engine);

impl FromRequestParts<WeakEngine> for Api {
    type Rejection = Error;

    async fn from_request_parts(_: &mut Parts, state: &WeakEngine) -> Result<Self, Error> {
        super::live(state).map(Self)
    }
}

/// The request body, within [`MAX_REQUEST_BODY_BYTES`].
pub(super) struct Payload(pub(super) Bytes);

impl<S: Send + Sync> FromRequest<S> for Payload {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(BytesRejection::FailedToBufferBody(error))
                if error.status() == http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(Error::payload_too_large(
                    MAX_REQUEST_BODY_BYTES,
                    "for this API",
                ))
            }
            Err(error) => Err(Error::invalid(format!(
                "The request body could not be read: {}",
                error.body_text()
            ))),
        }
    }
}

/// A JSON request body; an empty body is the shape's default.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let Payload(body) = Payload::from_request(request, state).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default()));
        }
        serde_json::from_slice(&body)
            .map(Self)
            .map_err(|error| Error::invalid(format!("The request body is not valid: {error}")))
    }
}

/// The query string's parameters (a repeated key fills a list).
pub(crate) struct Params<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        axum_extra::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|query| Self(query.0))
            .map_err(|rejection| Error::invalid(rejection.body_text()))
    }
}

/// `key`'s value as a page size: a whole number from 0 to 1000.
pub(super) fn count(key: &str, value: Option<&str>) -> Result<Option<usize>, Error> {
    value
        .map(|value| {
            value
                .parse::<usize>()
                .ok()
                .filter(|count| *count <= crate::limits::MAX_PAGE_ITEMS)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "{key} must be a whole number from 0 to 1000, not '{value}'"
                    ))
                })
        })
        .transpose()
}

/// `key`'s value as a flag: `true` or `false`, `default` when absent.
pub(super) fn flag(key: &str, value: Option<&str>, default: bool) -> Result<bool, Error> {
    match value {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(Error::invalid(format!(
            "{key} must be true or false, not '{other}'"
        ))),
    }
}

/// The header `name`, as text.
pub(super) fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// A JSON response.
pub(super) fn json(status: http::StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(body) => (
            status,
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(error) => {
            Error::Service(format!("the answer could not be written: {error}")).into_response()
        }
    }
}

/// `200` with `body`.
pub(crate) fn ok(body: &impl serde::Serialize) -> Response {
    json(http::StatusCode::OK, body)
}

/// A response with no body.
pub(super) fn empty(status: http::StatusCode) -> Response {
    (status, [(http::header::CONTENT_TYPE, "application/json")]).into_response()
}

/// The API's error shape: the type in `x-amzn-ErrorType` (and `__type`),
/// the message under the key the model gives it.
#[must_use]
pub fn error_response(error: &Error) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("Type".to_owned(), error.fault().into());
    body.insert("__type".to_owned(), error.code().into());
    body.insert(error.message_key().to_owned(), error.to_string().into());
    let status = http::StatusCode::from_u16(error.status())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(status, &serde_json::Value::Object(body));
    if let Ok(code) = http::HeaderValue::from_str(error.code()) {
        response.headers_mut().insert("x-amzn-ErrorType", code);
    }
    response
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        error_response(&self)
    }
}

/// The answer to a path or method the API does not have.
pub(super) async fn unknown_operation(request: Request<Body>) -> Response {
    Error::not_found(format!(
        "No such operation: {} {} (this endpoint serves the Lambda Invoke and durable execution APIs)",
        request.method(),
        request.uri().path()
    ))
    .into_response()
}

/// Gives every response a request id, as the service does.
pub(super) async fn with_request_id(mut response: Response) -> Response {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    static PROCESS: std::sync::LazyLock<u32> = std::sync::LazyLock::new(rand::random);
    let next = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("{:08x}-{:04x}-4000-8000-{next:012x}", *PROCESS, next >> 48);
    if let Ok(value) = http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}
