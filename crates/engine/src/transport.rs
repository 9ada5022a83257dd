//! An `aws-sdk-lambda` client that reaches the engine in process.
//!
//! Functions running in the engine's process get a Lambda client whose
//! HTTP requests are answered by [`crate::api::handle`] directly, without a
//! socket: the SDK's requests go through exactly the API a remote client
//! uses, minus the network.

use aws_sdk_lambda::config::{BehaviorVersion, Region, StalledStreamProtectionConfig};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use bytes::Bytes;

use crate::api::{self, ApiRequest};
use crate::engine::{Engine, WeakEngine};

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
            engine: engine.downgrade(),
        }))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

#[derive(Debug, Clone)]
struct InProcess {
    engine: WeakEngine,
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
        let engine = self.engine.upgrade();
        HttpConnectorFuture::new(async move {
            let engine = engine.ok_or_else(|| {
                ConnectorError::other("the engine this client reached has stopped".into(), None)
            })?;
            let request =
                to_api(request).map_err(|error| ConnectorError::other(error.into(), None))?;
            let response = api::handle(&engine, request).await;
            let status = StatusCode::try_from(response.status)
                .map_err(|error| ConnectorError::other(Box::new(error), None))?;
            let mut http_response = HttpResponse::new(status, SdkBody::from(response.body));
            http_response
                .headers_mut()
                .insert("content-type", response.content_type);
            for (name, value) in response.headers {
                http_response.headers_mut().insert(name, value);
            }
            Ok(http_response)
        })
    }
}

fn to_api(request: HttpRequest) -> Result<ApiRequest, String> {
    let uri: http::Uri = request
        .uri()
        .parse()
        .map_err(|error| format!("bad request URI: {error}"))?;
    let method =
        http::Method::from_bytes(request.method().as_bytes()).map_err(|error| error.to_string())?;
    let mut headers = http::HeaderMap::new();
    for (name, value) in request.headers() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
    let body = request
        .body()
        .bytes()
        .map(Bytes::copy_from_slice)
        .ok_or_else(|| "streaming request bodies are not supported in process".to_owned())?;
    Ok(ApiRequest {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
    })
}
