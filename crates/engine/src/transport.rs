//! An `aws-sdk-lambda` client that reaches the engine in process.
//!
//! Functions running in the engine's process get a Lambda client whose
//! HTTP requests go straight into the API's router
//! (`tower::ServiceExt::oneshot`), without a socket: the SDK's requests go
//! through exactly the API a remote client uses, minus the network.

use aws_sdk_lambda::config::{BehaviorVersion, Region, StalledStreamProtectionConfig};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use bytes::Bytes;

use tower::ServiceExt as _;

use crate::api;
use crate::engine::Engine;

/// The endpoint in-process clients name (never resolved or dialled).
const ENDPOINT: &str = "http://engine.local";

/// A Lambda client that talks to `engine` in process.
///
/// Nothing crosses a network or a trust boundary, so the client is built
/// without what only a network needs: requests are not signed, not retried
/// (the engine answers or it does not), and not timed or watched for stalls.
#[must_use]
pub fn lambda_client(engine: &Engine) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(engine.options().region.clone()))
        .allow_no_auth()
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::disabled())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .endpoint_url(ENDPOINT)
        .http_client(SharedHttpClient::new(InProcess {
            router: api::router(engine),
        }))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

#[derive(Clone)]
struct InProcess {
    router: axum::Router,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

impl HttpClient for InProcess {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for InProcess {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let router = self.router.clone();
        HttpConnectorFuture::new(async move {
            let request =
                to_http(request).map_err(|error| ConnectorError::other(error.into(), None))?;
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|error| ConnectorError::io(error.into()))?;
            let response = http::Response::from_parts(parts, SdkBody::from(body));
            HttpResponse::try_from(response)
                .map_err(|error| ConnectorError::other(error.into(), None))
        })
    }
}

/// The SDK's request as an `http` request with its body in memory.
fn to_http(request: HttpRequest) -> Result<http::Request<axum::body::Body>, String> {
    let request = request
        .try_into_http1x()
        .map_err(|error| format!("the request cannot be sent in process: {error}"))?;
    let (parts, body) = request.into_parts();
    let bytes = body
        .bytes()
        .map(Bytes::copy_from_slice)
        .ok_or_else(|| "streaming request bodies are not supported in process".to_owned())?;
    Ok(http::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
}
