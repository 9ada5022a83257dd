//! One handler per API operation.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::json;

use super::{ApiRequest, ApiResponse};
use crate::engine::{Engine, StartRequest};
use crate::error::{Error, Result};
use crate::execution::{ExecutionRecord, PauseRequest, ResumeRequest};
use crate::functions::{FunctionFault, Target};
use crate::model::{ErrorObject, ExecutionStatus, OperationUpdate, Timestamp};
use crate::store::ListFilter;

/// The largest payload of a synchronous invocation.
const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;

/// The largest payload of an asynchronous invocation.
const MAX_ASYNC_PAYLOAD: usize = 1024 * 1024;

/// Answers one API request. Never panics; every failure is an API error.
pub async fn handle(engine: &Engine, request: ApiRequest) -> ApiResponse {
    let segments: Vec<String> = request
        .path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let query = Query::parse(request.query.as_deref());
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    let result = match (method, segments.as_slice()) {
        ("POST", ["2015-03-31", "functions", function, "invocations"]) => {
            invoke(engine, function, &query, &request).await
        }
        ("GET", ["2015-03-31", "functions"]) => list_functions(engine),
        ("GET", ["2015-03-31", "functions", function]) => {
            get_function(engine, function, &query, true)
        }
        ("GET", ["2015-03-31", "functions", function, "configuration"]) => {
            get_function(engine, function, &query, false)
        }
        ("GET", ["2025-12-01", "durable-executions", arn]) => {
            get_execution(engine, arn, &query).await
        }
        ("DELETE", ["2025-12-01", "durable-executions", arn]) => {
            delete_execution(engine, arn).await
        }
        ("POST", ["2025-12-01", "durable-executions", arn, "checkpoint"]) => {
            checkpoint(engine, arn, &request)
                .await
                .map_err(|error| token_wording(error, &request))
        }
        ("GET", ["2025-12-01", "durable-executions", arn, "state"]) => state(engine, arn, &query)
            .await
            .map_err(|error| token_wording(error, &request)),
        ("GET", ["2025-12-01", "durable-executions", arn, "history"]) => {
            history(engine, arn, &query).await
        }
        ("POST", ["2025-12-01", "durable-executions", arn, "stop"]) => {
            stop(engine, arn, &request).await
        }
        ("POST", ["2025-12-01", "durable-executions", arn, "pause"]) => {
            pause(engine, arn, &request).await
        }
        ("POST", ["2025-12-01", "durable-executions", arn, "resume"]) => {
            resume(engine, arn, &request).await
        }
        ("GET", ["2025-12-01", "functions", function, "durable-executions"]) => {
            list_executions(engine, function, &query).await
        }
        ("POST", ["2025-12-01", "durable-execution-callbacks", id, "succeed"]) => {
            match callback_result(&request) {
                Ok(result) => engine
                    .callback_succeed(id, result)
                    .await
                    .map(|()| ok(json!({}))),
                Err(error) => Err(error),
            }
        }
        ("POST", ["2025-12-01", "durable-execution-callbacks", id, "fail"]) => {
            match error_body(&request) {
                Ok(error) => engine
                    .callback_fail(id, error)
                    .await
                    .map(|()| ok(json!({}))),
                Err(error) => Err(error),
            }
        }
        ("POST", ["2025-12-01", "durable-execution-callbacks", id, "heartbeat"]) => {
            engine.callback_heartbeat(id).await.map(|()| ok(json!({})))
        }
        _ => Err(Error::not_found(format!(
            "No such operation: {method} {} (this endpoint serves the Lambda Invoke and durable execution APIs)",
            request.path
        ))),
    };
    result.unwrap_or_else(|error| error_response(&error))
}

/// Words a stale-token rejection the way the calling SDK recognises it.
///
/// Every durable SDK retries the invocation (rather than failing the
/// execution) when a checkpoint is refused for its token, recognising the
/// refusal by the start of the message: `Invalid Checkpoint Token` for the
/// Rust, JavaScript and Java SDKs, `Invalid checkpoint token` for the Python
/// SDK, which identifies itself in the User-Agent.
fn token_wording(error: Error, request: &ApiRequest) -> Error {
    let python = header(request, "user-agent")
        .is_some_and(|agent| agent.contains("aws-durable-execution-sdk-python"));
    match error {
        Error::InvalidParameterValue(message) if python => {
            let reworded = message
                .strip_prefix(crate::execution::INVALID_TOKEN)
                .map_or(message.clone(), |rest| {
                    format!("Invalid checkpoint token{rest}")
                });
            Error::InvalidParameterValue(reworded)
        }
        other => other,
    }
}

/// The query string's parameters (a repeated key keeps every value).
struct Query(BTreeMap<String, Vec<String>>);

impl Query {
    fn parse(query: Option<&str>) -> Self {
        let mut parameters: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
            parameters
                .entry(decode(key))
                .or_default()
                .push(decode(value));
        }
        Self(parameters)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    fn all(&self, key: &str) -> &[String] {
        self.0.get(key).map_or(&[], Vec::as_slice)
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(Error::invalid(format!(
                "{key} must be true or false, not '{other}'"
            ))),
        }
    }

    fn count(&self, key: &str) -> Result<Option<usize>> {
        self.get(key)
            .map(|value| {
                value
                    .parse::<usize>()
                    .ok()
                    .filter(|count| *count <= 1000)
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "{key} must be a whole number from 0 to 1000, not '{value}'"
                        ))
                    })
            })
            .transpose()
    }

    fn timestamp(&self, key: &str) -> Result<Option<Timestamp>> {
        self.get(key)
            .map(|value| {
                Timestamp::parse_rfc3339(value).ok_or_else(|| {
                    Error::invalid(format!(
                        "{key} must be an ISO 8601 timestamp, not '{value}'"
                    ))
                })
            })
            .transpose()
    }
}

/// Sets `key` of the JSON object `target`.
fn set(target: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(members) = target.as_object_mut() {
        members.insert(key.to_owned(), value);
    }
}

fn header<'a>(request: &'a ApiRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

fn json_response(status: u16, body: &impl serde::Serialize) -> ApiResponse {
    match serde_json::to_vec(body) {
        Ok(body) => ApiResponse {
            status,
            headers: vec![("x-amzn-RequestId", request_id())],
            content_type: "application/json",
            body,
        },
        Err(error) => error_response(&Error::Service(format!(
            "the answer could not be written: {error}"
        ))),
    }
}

/// A request id for a response: unique in this process, and cheap.
fn request_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    static PROCESS: std::sync::LazyLock<u32> = std::sync::LazyLock::new(rand::random);
    let next = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:08x}-{:04x}-4000-8000-{next:012x}", *PROCESS, next >> 48)
}

fn ok(body: serde_json::Value) -> ApiResponse {
    json_response(200, &body)
}

fn accepted(body: serde_json::Value) -> ApiResponse {
    json_response(202, &body)
}

/// The API's error shape: the type in `x-amzn-ErrorType` (and `__type`),
/// the message under the key the model gives it.
pub(super) fn error_response(error: &Error) -> ApiResponse {
    let mut body = serde_json::Map::new();
    body.insert("Type".to_owned(), json!(error.fault()));
    body.insert("__type".to_owned(), json!(error.code()));
    body.insert(error.message_key().to_owned(), json!(error.to_string()));
    let mut response = json_response(error.status(), &serde_json::Value::Object(body));
    response
        .headers
        .push(("x-amzn-ErrorType", error.code().to_owned()));
    response
}

fn parse_body<T: for<'de> Deserialize<'de> + Default>(request: &ApiRequest) -> Result<T> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&request.body)
        .map_err(|error| Error::invalid(format!("The request body is not valid: {error}")))
}

/// The largest callback result.
const MAX_CALLBACK_RESULT: usize = 1024 * 1024;

/// A callback's result: the raw body, which must be UTF-8 text.
fn callback_result(request: &ApiRequest) -> Result<Option<String>> {
    if request.body.len() > MAX_CALLBACK_RESULT {
        return Err(Error::invalid(format!(
            "Result must be at most {MAX_CALLBACK_RESULT} bytes, not {}.",
            request.body.len()
        )));
    }
    if request.body.is_empty() {
        return Ok(None);
    }
    String::from_utf8(request.body.to_vec())
        .map(Some)
        .map_err(|_| Error::invalid("Result must be UTF-8 text (the callback's JSON result)."))
}

/// A bare `ErrorObject` body, as Stop and callback failures send it.
fn error_body(request: &ApiRequest) -> Result<ErrorObject> {
    parse_body(request)
}

// ---------------------------------------------------------------- functions

fn function_configuration(engine: &Engine, target: &Target) -> serde_json::Value {
    let config = target.function.config();
    let mut configuration = json!({
        "FunctionName": config.name,
        "FunctionArn": engine.function_arn(&config.name, None),
        "Runtime": "provided.al2023",
        "Handler": "bootstrap",
        "Timeout": config.timeout.as_secs(),
        "Version": target.version,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
    });
    if let Some(durable) = config.durable {
        set(
            &mut configuration,
            "DurableConfig",
            json!({
                "ExecutionTimeout": durable.execution_timeout,
                "RetentionPeriodInDays": durable.retention_days,
            }),
        );
    }
    configuration
}

fn get_function(
    engine: &Engine,
    function: &str,
    query: &Query,
    whole: bool,
) -> Result<ApiResponse> {
    let target = engine.resolve(function, query.get("Qualifier"))?;
    let configuration = function_configuration(engine, &target);
    Ok(ok(if whole {
        json!({ "Configuration": configuration })
    } else {
        configuration
    }))
}

fn list_functions(engine: &Engine) -> Result<ApiResponse> {
    let functions: Vec<serde_json::Value> = engine
        .functions()
        .into_iter()
        .map(|function| {
            let target = Target {
                function,
                version: "$LATEST".to_owned(),
                qualified: false,
            };
            function_configuration(engine, &target)
        })
        .collect();
    Ok(ok(json!({ "Functions": functions })))
}

// ---------------------------------------------------------------- invoke

async fn invoke(
    engine: &Engine,
    function: &str,
    query: &Query,
    request: &ApiRequest,
) -> Result<ApiResponse> {
    let target = engine.resolve(function, query.get("Qualifier"))?;
    let invocation_type = header(request, "x-amz-invocation-type").unwrap_or("RequestResponse");
    let limit = if invocation_type == "Event" {
        MAX_ASYNC_PAYLOAD
    } else {
        MAX_SYNC_PAYLOAD
    };
    if request.body.len() > limit {
        return Err(Error::RequestTooLarge(format!(
            "Request must be smaller than {limit} bytes for the {invocation_type} invocation type"
        )));
    }
    if !request.body.iter().all(u8::is_ascii_whitespace)
        && serde_json::from_slice::<serde::de::IgnoredAny>(&request.body).is_err()
    {
        return Err(Error::InvalidRequestContent(
            "Could not parse request body into json: the payload is not valid JSON.".to_owned(),
        ));
    }
    let version_header = ("X-Amz-Executed-Version", target.version.clone());
    match invocation_type {
        "RequestResponse" | "Event" | "DryRun" => {}
        other => {
            return Err(Error::invalid(format!(
                "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not '{other}'"
            )));
        }
    }
    if target.function.config().durable.is_some() {
        if invocation_type == "DryRun" {
            if !target.qualified {
                return Err(Error::invalid(
                    "You cannot invoke a durable function using an unqualified ARN.",
                ));
            }
            let mut response = json_response(204, &json!({}));
            response.body.clear();
            return Ok(response);
        }
        let started = engine
            .start(StartRequest {
                function: function.to_owned(),
                qualifier: query.get("Qualifier").map(str::to_owned),
                name: header(request, "x-amz-durable-execution-name").map(str::to_owned),
                input: request.body.to_vec(),
            })
            .await?;
        let arn_header = ("X-Amz-Durable-Execution-Arn", started.arn.clone());
        if invocation_type != "RequestResponse" {
            let mut response = json_response(202, &json!({}));
            response.body.clear();
            response.headers.extend([arn_header, version_header]);
            return Ok(response);
        }
        let record = engine.wait(&started.arn).await?;
        let mut response = durable_result(&record);
        response.headers.extend([arn_header, version_header]);
        return Ok(response);
    }
    match invocation_type {
        "DryRun" => {
            let mut response = json_response(204, &json!({}));
            response.body.clear();
            Ok(response)
        }
        "Event" => {
            let engine = engine.clone();
            let payload = request.body.to_vec();
            tokio::spawn(async move {
                if let Err(error) = engine.invoke_plain(&target, payload).await {
                    tracing::warn!(%error, "an asynchronous invocation could not be recorded");
                }
            });
            let mut response = json_response(202, &json!({}));
            response.body.clear();
            Ok(response)
        }
        _ => {
            let payload = if request.body.iter().all(u8::is_ascii_whitespace) {
                b"{}".to_vec()
            } else {
                request.body.to_vec()
            };
            let answer = engine.invoke_plain(&target, payload).await?;
            let mut response = match answer {
                Ok(body) => ApiResponse {
                    status: 200,
                    headers: Vec::new(),
                    content_type: "application/json",
                    body,
                },
                Err(fault) => function_error(&fault),
            };
            response.headers.push(version_header);
            Ok(response)
        }
    }
}

fn function_error(fault: &FunctionFault) -> ApiResponse {
    let mut response = json_response(200, &fault.body());
    response
        .headers
        .push(("X-Amz-Function-Error", "Unhandled".to_owned()));
    response
}

/// A finished execution as a synchronous invocation answers it: its result,
/// or its error with `X-Amz-Function-Error`.
fn durable_result(record: &ExecutionRecord) -> ApiResponse {
    if record.status == ExecutionStatus::Succeeded {
        return ApiResponse {
            status: 200,
            headers: Vec::new(),
            content_type: "application/json",
            body: record
                .result
                .clone()
                .unwrap_or_else(|| "null".to_owned())
                .into_bytes(),
        };
    }
    let error = record.error.clone().unwrap_or_default();
    let fault = FunctionFault::Failed {
        error_type: error
            .error_type
            .unwrap_or_else(|| format!("Execution{}", pascal(record.status))),
        message: error
            .error_message
            .unwrap_or_else(|| format!("The durable execution ended {}", record.status)),
    };
    function_error(&fault)
}

fn pascal(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Running => "Running",
        ExecutionStatus::Succeeded => "Succeeded",
        ExecutionStatus::Failed => "Failed",
        ExecutionStatus::TimedOut => "TimedOut",
        ExecutionStatus::Stopped => "Stopped",
        ExecutionStatus::Pausing => "Pausing",
        ExecutionStatus::Paused => "Paused",
    }
}

// ---------------------------------------------------------------- checkpoints

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CheckpointRequest {
    checkpoint_token: Option<String>,
    client_token: Option<String>,
    #[serde(default)]
    updates: Vec<OperationUpdate>,
}

async fn checkpoint(engine: &Engine, arn: &str, request: &ApiRequest) -> Result<ApiResponse> {
    let body: CheckpointRequest = parse_body(request)?;
    let token = body
        .checkpoint_token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Error::invalid("CheckpointToken is required."))?;
    let output = engine
        .checkpoint(arn, token, body.client_token, body.updates)
        .await?;
    Ok(json_response(200, &output))
}

async fn state(engine: &Engine, arn: &str, query: &Query) -> Result<ApiResponse> {
    let token = query
        .get("CheckpointToken")
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Error::invalid("CheckpointToken is required."))?;
    let page = engine
        .state(
            arn,
            token.to_owned(),
            query.get("Marker").map(str::to_owned),
            query.count("MaxItems")?,
        )
        .await?;
    Ok(json_response(200, &page))
}

// ---------------------------------------------------------------- executions

fn execution_summary(engine: &Engine, record: &ExecutionRecord) -> serde_json::Value {
    let mut summary = json!({
        "DurableExecutionArn": record.arn,
        "DurableExecutionName": record.name,
        "FunctionArn": engine.function_arn(&record.function_name, Some(&record.version)),
        "Status": record.status,
        "StartTimestamp": record.start,
    });
    if let Some(end) = record.end {
        set(&mut summary, "EndTimestamp", json!(end));
    }
    summary
}

async fn get_execution(engine: &Engine, arn: &str, query: &Query) -> Result<ApiResponse> {
    let record = engine.execution(arn).await?;
    let include = query.flag("IncludeExecutionData", true)?;
    let mut body = execution_summary(engine, &record);
    set(&mut body, "Version", json!(record.version));
    set(&mut body, "ExecutionDataIncluded", json!(include));
    set(
        &mut body,
        "DurableConfig",
        json!({
            "ExecutionTimeout": record.timeout_seconds,
            "RetentionPeriodInDays": record.retention_days,
        }),
    );
    if include {
        set(&mut body, "InputPayload", json!(record.input));
        if let Some(result) = &record.result {
            set(&mut body, "Result", json!(result));
        }
        if let Some(error) = &record.error {
            set(&mut body, "Error", json!(error));
        }
    }
    if !record.status.is_terminal() {
        set(
            &mut body,
            "ExpectedExecutionTimeoutTimestamp",
            json!(record.timeout_at()),
        );
    }
    if let Some(pause) = &record.pause {
        let mut details = json!({
            "PauseRequestTimestamp": pause.requested,
            "ExecutionTimeoutPaused": pause.execution_timeout_paused,
        });
        if let Some(reason) = pause.reason.as_ref().filter(|_| include) {
            set(&mut details, "Reason", json!(reason));
        }
        set(&mut body, "PauseDetails", details);
    }
    Ok(ok(body))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ControlRequest {
    client_token: Option<String>,
    reason: Option<String>,
    execution_timeout_paused: Option<bool>,
}

/// The largest pause or resume reason, in characters.
const MAX_REASON: usize = 1024;

/// A pause or resume request's body, checked as the service checks it.
fn control_request(request: &ApiRequest) -> Result<ControlRequest> {
    let body: ControlRequest = parse_body(request)?;
    if let Some(token) = &body.client_token
        && (token.is_empty()
            || token.len() > 64
            || !token.bytes().all(|byte| (0x21..=0x7e).contains(&byte)))
    {
        return Err(Error::invalid(
            "ClientToken must be 1 to 64 printable ASCII characters without spaces.",
        ));
    }
    if let Some(reason) = &body.reason
        && reason.chars().count() > MAX_REASON
    {
        return Err(Error::invalid(format!(
            "Reason must be at most {MAX_REASON} characters, not {}.",
            reason.chars().count()
        )));
    }
    Ok(body)
}

async fn pause(engine: &Engine, arn: &str, request: &ApiRequest) -> Result<ApiResponse> {
    let body = control_request(request)?;
    let request = PauseRequest {
        client_token: body.client_token,
        reason: body.reason,
        execution_timeout_paused: body.execution_timeout_paused.unwrap_or(true),
    };
    engine.pause(arn, request).await?;
    Ok(accepted(json!({})))
}

async fn resume(engine: &Engine, arn: &str, request: &ApiRequest) -> Result<ApiResponse> {
    let body = control_request(request)?;
    let request = ResumeRequest {
        client_token: body.client_token,
        reason: body.reason,
    };
    engine.resume(arn, request).await?;
    Ok(accepted(json!({})))
}

async fn history(engine: &Engine, arn: &str, query: &Query) -> Result<ApiResponse> {
    let page = engine
        .history(
            arn,
            query.get("Marker"),
            query.count("MaxItems")?,
            query.flag("ReverseOrder", false)?,
            query.flag("IncludeExecutionData", true)?,
        )
        .await?;
    let mut body = json!({ "Events": page.events });
    if let Some(marker) = page.next_marker {
        set(&mut body, "NextMarker", json!(marker));
    }
    Ok(ok(body))
}

async fn list_executions(engine: &Engine, function: &str, query: &Query) -> Result<ApiResponse> {
    let target = engine.resolve(function, None)?;
    let statuses = query
        .all("Statuses")
        .iter()
        .map(|status| {
            ExecutionStatus::parse(status).ok_or_else(|| {
                Error::invalid(format!(
                    "Statuses has '{status}'; it takes RUNNING, PAUSING, PAUSED, SUCCEEDED, FAILED, TIMED_OUT or STOPPED"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let filter = ListFilter {
        function_name: Some(target.function.config().name.clone()),
        name: query.get("DurableExecutionName").map(str::to_owned),
        statuses,
        started_after: query.timestamp("StartedAfter")?,
        started_before: query.timestamp("StartedBefore")?,
        oldest_first: query.flag("ReverseOrder", false)?,
        offset: 0,
        limit: 0,
    };
    let page = engine
        .list(filter, query.get("Marker"), query.count("MaxItems")?)
        .await?;
    let executions: Vec<serde_json::Value> = page
        .executions
        .iter()
        .map(|record| execution_summary(engine, record))
        .collect();
    let mut body = json!({ "DurableExecutions": executions });
    if let Some(marker) = page.next_marker {
        set(&mut body, "NextMarker", json!(marker));
    }
    Ok(ok(body))
}

async fn stop(engine: &Engine, arn: &str, request: &ApiRequest) -> Result<ApiResponse> {
    let error = error_body(request)?;
    let stopped = engine.stop(arn, Some(error)).await?;
    Ok(ok(json!({ "StopTimestamp": stopped })))
}

async fn delete_execution(engine: &Engine, arn: &str) -> Result<ApiResponse> {
    let deleted = engine.delete(arn).await?;
    Ok(accepted(json!({ "DeletionRequestTimestamp": deleted })))
}
