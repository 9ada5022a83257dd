//! Talking to a served engine (or AWS-compatible endpoint) over HTTP.
//!
//! `orders callback`, `stop`, `pause`, `resume` and `executions --endpoint`
//! send the Lambda API's requests themselves: the Rust AWS SDK does not have
//! every durable operation yet (pause, resume), and these commands need
//! nothing more than a request and its JSON answer.

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// The endpoint `orders serve` listens on by default.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:9001";

/// A Lambda API endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    base: String,
}

/// One path segment, percent-encoded as the AWS SDKs encode labels.
#[must_use]
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

impl Endpoint {
    /// The endpoint at `url` (`http://host:port`).
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self {
            base: url.trim_end_matches('/').to_owned(),
        }
    }

    /// Sends `method path` with `body` and returns the JSON answer.
    ///
    /// # Errors
    ///
    /// When the endpoint cannot be reached, or answers with an API error
    /// (its type and message are in the error).
    pub async fn call(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<serde_json::Value> {
        self.call_with(method, path, &[("content-type", "application/json")], body)
            .await
    }

    /// Sends `method path` with `headers` and `body` and returns the JSON
    /// answer.
    ///
    /// # Errors
    ///
    /// As [`Endpoint::call`].
    pub async fn call_with(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<serde_json::Value> {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let uri = format!("{}{path}", self.base);
        let mut request = http::Request::builder().method(method.clone()).uri(&uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .with_context(|| format!("bad endpoint URL {uri}"))?;
        let response = client
            .request(request)
            .await
            .with_context(|| format!("cannot reach {} (is `orders serve` running?)", self.base))?;
        let status = response.status();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .context("the answer was cut off")?
            .to_bytes();
        let json: serde_json::Value = if bytes.is_empty() {
            serde_json::json!({})
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
            })
        };
        if !status.is_success() {
            let message = json
                .get("message")
                .or_else(|| json.get("Message"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            bail!(
                "{} ({status}): {message}",
                error_type.unwrap_or_else(|| "error".to_owned())
            );
        }
        Ok(json)
    }
}
