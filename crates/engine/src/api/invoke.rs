//! `Invoke`: a plain function's answer, or a durable execution started
//! (and, for `RequestResponse`, awaited).

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{Answer, Api, Params, Payload, empty, header, json};
use crate::engine::StartRequest;
use crate::error::Error;
use crate::execution::ExecutionRecord;
use crate::functions::FunctionFault;
use crate::limits::{MAX_ASYNC_PAYLOAD_BYTES, MAX_SYNC_PAYLOAD_BYTES};
use crate::model::ExecutionStatus;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InvokeQuery {
    qualifier: Option<String>,
}

/// How the caller asked to invoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

impl InvocationType {
    fn of(headers: &http::HeaderMap) -> Result<Self, Error> {
        match header(headers, "x-amz-invocation-type").unwrap_or("RequestResponse") {
            "RequestResponse" => Ok(Self::RequestResponse),
            "Event" => Ok(Self::Event),
            "DryRun" => Ok(Self::DryRun),
            other => Err(Error::invalid(format!(
                "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not '{other}'"
            ))),
        }
    }

    /// The largest payload it takes.
    const fn limit(self) -> (usize, &'static str) {
        match self {
            Self::Event => (MAX_ASYNC_PAYLOAD_BYTES, "for the Event invocation type"),
            Self::RequestResponse | Self::DryRun => (
                MAX_SYNC_PAYLOAD_BYTES,
                "for the RequestResponse invocation type",
            ),
        }
    }
}

fn with_headers(mut response: Response, headers: &[(&'static str, &str)]) -> Response {
    for (name, value) in headers {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

fn answer(body: Vec<u8>) -> Response {
    (
        http::StatusCode::OK,
        [(http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn function_error(fault: &FunctionFault) -> Response {
    with_headers(
        json(http::StatusCode::OK, &fault.body()),
        &[("X-Amz-Function-Error", "Unhandled")],
    )
}

/// A finished execution as a synchronous invocation answers it: its result,
/// or its error with `X-Amz-Function-Error`.
fn durable_result(record: &ExecutionRecord) -> Response {
    if record.status == ExecutionStatus::Succeeded {
        let result = record.result.clone().unwrap_or_else(|| "null".to_owned());
        return answer(result.into_bytes());
    }
    let error = record.error.clone().unwrap_or_default();
    let fault = FunctionFault::Failed {
        error_type: error
            .error_type
            .unwrap_or_else(|| format!("Execution{}", record.status.pascal_case())),
        message: error
            .error_message
            .unwrap_or_else(|| format!("The durable execution ended {}", record.status)),
    };
    function_error(&fault)
}

pub(super) async fn invoke(
    Api(engine): Api,
    Path(function): Path<String>,
    Params(query): Params<InvokeQuery>,
    headers: http::HeaderMap,
    Payload(body): Payload,
) -> Answer {
    let target = engine.resolve(&function, query.qualifier.as_deref())?;
    crate::engine::check_tenant(&target, header(&headers, "x-amz-tenant-id"))?;
    let invocation_type = InvocationType::of(&headers)?;
    let (limit, what) = invocation_type.limit();
    crate::engine::check_payload(&body, limit, what)?;
    let version = target.version.clone();
    if target.function.config().durable.is_some() {
        if !target.qualified {
            return Err(Error::unqualified_durable());
        }
        if invocation_type == InvocationType::DryRun {
            return Ok(empty(http::StatusCode::NO_CONTENT));
        }
        let started = engine
            .start(StartRequest {
                function,
                qualifier: query.qualifier,
                name: header(&headers, "x-amz-durable-execution-name").map(str::to_owned),
                input: body.to_vec(),
            })
            .await?;
        let response = if invocation_type == InvocationType::Event {
            empty(http::StatusCode::ACCEPTED)
        } else {
            let record = engine.wait(&started.arn).await?;
            if !record.status.is_terminal() {
                return Err(Error::Service(
                    "the engine stopped before the execution ended; it carries on when the engine starts again".to_owned(),
                ));
            }
            durable_result(&record)
        };
        return Ok(with_headers(
            response,
            &[
                ("X-Amz-Durable-Execution-Arn", &started.arn),
                ("X-Amz-Executed-Version", &version),
            ],
        ));
    }
    match invocation_type {
        InvocationType::DryRun => Ok(empty(http::StatusCode::NO_CONTENT)),
        InvocationType::Event => {
            let payload = body.to_vec();
            let invoker = engine.clone();
            engine.spawn(async move {
                if let Err(error) = invoker.invoke_plain(&target, payload).await {
                    tracing::warn!(%error, "an asynchronous invocation could not be recorded");
                }
            });
            Ok(empty(http::StatusCode::ACCEPTED))
        }
        InvocationType::RequestResponse => {
            let payload = if body.iter().all(u8::is_ascii_whitespace) {
                b"{}".to_vec()
            } else {
                body.to_vec()
            };
            let response = match engine.invoke_plain(&target, payload).await? {
                Ok(body) => answer(body),
                Err(fault) => function_error(&fault),
            };
            Ok(with_headers(
                response,
                &[("X-Amz-Executed-Version", &version)],
            ))
        }
    }
}
