//! The part of CloudWatch Logs that reads function logs:
//! `FilterLogEvents`, `GetLogEvents`, `DescribeLogGroups`,
//! `DescribeLogStreams`, on the JSON 1.1 protocol (`POST /` with
//! `X-Amz-Target: Logs_20140328.<Operation>`). Each function's lines are in
//! the log group `/aws/lambda/<FunctionName>`; see [`crate::logs`].
//!
//! `FilterLogEvents` also takes `executionArn`, which CloudWatch does not
//! have: only the lines of that durable execution.

use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::engine::Engine;
use crate::logs::pattern::Pattern;
use crate::logs::{LogQuery, LogRecord, function_of};
use crate::model::Timestamp;

/// The most lines one read returns, as CloudWatch Logs allows.
const MAX_EVENTS: usize = 10_000;

/// The most groups or streams one description returns.
const MAX_DESCRIBED: usize = 50;

/// A CloudWatch Logs error: its type and message.
struct Refusal(&'static str, String);

impl Refusal {
    fn invalid(message: impl Into<String>) -> Self {
        Self("InvalidParameterException", message.into())
    }
}

/// Answers the operation `operation` with the JSON request `body`.
pub(super) async fn dispatch(engine: &Engine, operation: &str, body: &[u8]) -> Response {
    let answer = match operation {
        "FilterLogEvents" => filter_log_events(engine, request(body)).await,
        "GetLogEvents" => get_log_events(engine, request(body)).await,
        "DescribeLogGroups" => describe_log_groups(engine, request(body)),
        "DescribeLogStreams" => describe_log_streams(engine, request(body)).await,
        other => Err(Refusal(
            "UnknownOperationException",
            format!(
                "Logs_20140328.{other} is not served here: this endpoint answers FilterLogEvents, GetLogEvents, DescribeLogGroups and DescribeLogStreams"
            ),
        )),
    };
    match answer {
        Ok(body) => reply(200, &body),
        Err(Refusal(kind, message)) => {
            let status = if kind == "ServiceUnavailableException" {
                503
            } else {
                400
            };
            reply(status, &json!({ "__type": kind, "message": message }))
        }
    }
}

fn reply(status: u16, body: &Value) -> Response {
    let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
    (
        status,
        [(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")],
        body.to_string(),
    )
        .into_response()
}

fn request<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|error| Refusal::invalid(format!("The request body is not valid: {error}")))
}

fn store_error(error: &crate::EngineError) -> Refusal {
    Refusal("ServiceUnavailableException", error.to_string())
}

/// The group a request names (by name, or by ARN as an identifier), which
/// must be a registered function's or hold lines.
async fn group(
    engine: &Engine,
    name: Option<&String>,
    identifier: Option<&String>,
) -> Result<String, Refusal> {
    let named = match (name, identifier) {
        (Some(name), None) => name.clone(),
        (None, Some(identifier)) => identifier
            .split_once(":log-group:")
            .map_or(identifier.as_str(), |(_, rest)| rest.trim_end_matches(":*"))
            .to_owned(),
        (Some(_), Some(_)) => {
            return Err(Refusal::invalid(
                "give logGroupName or logGroupIdentifier, not both",
            ));
        }
        (None, None) => {
            return Err(Refusal::invalid(
                "logGroupName or logGroupIdentifier is required",
            ));
        }
    };
    let registered =
        function_of(&named).is_some_and(|function| engine.resolve(function, None).is_ok());
    let written = || async {
        engine
            .log_streams(&named)
            .await
            .is_ok_and(|streams| !streams.is_empty())
    };
    if registered || written().await {
        Ok(named)
    } else {
        Err(Refusal(
            "ResourceNotFoundException",
            format!("The specified log group does not exist: {named}"),
        ))
    }
}

fn limit(limit: Option<usize>, most: usize) -> Result<usize, Refusal> {
    match limit {
        None => Ok(most),
        Some(limit) if (1..=most).contains(&limit) => Ok(limit),
        Some(limit) => Err(Refusal::invalid(format!(
            "limit must be from 1 to {most}, not {limit}"
        ))),
    }
}

fn token(text: Option<&String>, prefix: &str) -> Result<Option<u64>, Refusal> {
    text.map(|text| {
        text.strip_prefix(prefix)
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| Refusal::invalid(format!("The next token is not valid: {text}")))
    })
    .transpose()
}

fn event_id(line: &LogRecord) -> String {
    format!("{:020}", line.id)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    #[serde(default)]
    log_stream_names: Vec<String>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
    execution_arn: Option<String>,
}

async fn filter_log_events(
    engine: &Engine,
    request: Result<FilterRequest, Refusal>,
) -> Result<Value, Refusal> {
    let request = request?;
    let group = group(
        engine,
        request.log_group_name.as_ref(),
        request.log_group_identifier.as_ref(),
    )
    .await?;
    if !request.log_stream_names.is_empty() && request.log_stream_name_prefix.is_some() {
        return Err(Refusal::invalid(
            "give logStreamNames or logStreamNamePrefix, not both",
        ));
    }
    let pattern = Pattern::parse(request.filter_pattern.as_deref().unwrap_or_default())
        .map_err(|error| Refusal::invalid(error.to_string()))?;
    let query = LogQuery {
        group,
        streams: request.log_stream_names,
        stream_prefix: request.log_stream_name_prefix,
        execution_arn: request.execution_arn,
        start: request.start_time.map(Timestamp::from_millis),
        end: request.end_time.map(Timestamp::from_millis),
        after: token(request.next_token.as_ref(), "n/")?.unwrap_or_default(),
        before: None,
        newest_first: false,
        limit: limit(request.limit, MAX_EVENTS)?,
    };
    let page = engine
        .filter_logs(query, &pattern)
        .await
        .map_err(|error| store_error(&error))?;
    let events: Vec<Value> = page
        .lines
        .iter()
        .map(|line| {
            json!({
                "logStreamName": line.stream,
                "timestamp": line.timestamp.millis(),
                "message": line.message,
                "ingestionTime": line.timestamp.millis(),
                "eventId": event_id(line),
            })
        })
        .collect();
    let mut answer = json!({ "events": events, "searchedLogStreams": [] });
    if let Some(next) = page.next
        && let Some(members) = answer.as_object_mut()
    {
        members.insert("nextToken".to_owned(), json!(format!("n/{next}")));
    }
    Ok(answer)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<usize>,
    start_from_head: Option<bool>,
}

async fn get_log_events(
    engine: &Engine,
    request: Result<GetRequest, Refusal>,
) -> Result<Value, Refusal> {
    let request = request?;
    let group = group(
        engine,
        request.log_group_name.as_ref(),
        request.log_group_identifier.as_ref(),
    )
    .await?;
    let stream = request
        .log_stream_name
        .ok_or_else(|| Refusal::invalid("logStreamName is required"))?;
    let forward = token(request.next_token.as_ref(), "f/").ok().flatten();
    let backward = token(request.next_token.as_ref(), "b/").ok().flatten();
    if request.next_token.is_some() && forward.is_none() && backward.is_none() {
        return Err(Refusal::invalid(format!(
            "The next token is not valid: {}",
            request.next_token.unwrap_or_default()
        )));
    }
    let newest_first =
        backward.is_some() || (forward.is_none() && !request.start_from_head.unwrap_or(false));
    let query = LogQuery {
        group,
        streams: vec![stream],
        start: request.start_time.map(Timestamp::from_millis),
        end: request.end_time.map(Timestamp::from_millis),
        after: forward.unwrap_or_default(),
        before: backward,
        newest_first,
        limit: limit(request.limit, MAX_EVENTS)?,
        ..LogQuery::default()
    };
    let mut lines = engine
        .filter_logs(query, &Pattern::All)
        .await
        .map_err(|error| store_error(&error))?
        .lines;
    if newest_first {
        lines.reverse();
    }
    let first = lines
        .first()
        .map_or(backward.unwrap_or_default(), |line| line.id);
    let last = lines
        .last()
        .map_or(forward.unwrap_or_default(), |line| line.id);
    let events: Vec<Value> = lines
        .iter()
        .map(|line| {
            json!({
                "timestamp": line.timestamp.millis(),
                "message": line.message,
                "ingestionTime": line.timestamp.millis(),
            })
        })
        .collect();
    Ok(json!({
        "events": events,
        "nextForwardToken": format!("f/{last}"),
        "nextBackwardToken": format!("b/{first}"),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupsRequest {
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

fn describe_log_groups(
    engine: &Engine,
    request: Result<GroupsRequest, Refusal>,
) -> Result<Value, Refusal> {
    let request = request?;
    let limit = limit(request.limit, MAX_DESCRIBED)?;
    let options = engine.options();
    let skip = token(request.next_token.as_ref(), "g/")?.unwrap_or_default();
    let groups: Vec<String> = engine
        .log_groups()
        .into_iter()
        .filter(|group| {
            request
                .log_group_name_prefix
                .as_ref()
                .is_none_or(|prefix| group.starts_with(prefix.as_str()))
                && request
                    .log_group_name_pattern
                    .as_ref()
                    .is_none_or(|pattern| group.contains(pattern.as_str()))
        })
        .collect();
    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
    let page: Vec<Value> = groups
        .iter()
        .skip(skip)
        .take(limit)
        .map(|group| {
            let arn = format!(
                "arn:aws:logs:{}:{}:log-group:{group}",
                options.region, options.account
            );
            json!({
                "logGroupName": group,
                "creationTime": 0,
                "metricFilterCount": 0,
                "arn": format!("{arn}:*"),
                "logGroupArn": arn,
                "storedBytes": 0,
                "logGroupClass": "STANDARD",
            })
        })
        .collect();
    let mut answer = json!({ "logGroups": page });
    if skip.saturating_add(limit) < groups.len()
        && let Some(members) = answer.as_object_mut()
    {
        members.insert("nextToken".to_owned(), json!(format!("g/{}", skip + limit)));
    }
    Ok(answer)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<usize>,
}

async fn describe_log_streams(
    engine: &Engine,
    request: Result<StreamsRequest, Refusal>,
) -> Result<Value, Refusal> {
    let request = request?;
    let group = group(
        engine,
        request.log_group_name.as_ref(),
        request.log_group_identifier.as_ref(),
    )
    .await?;
    let limit = limit(request.limit, MAX_DESCRIBED)?;
    let by_time = match request.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => {
            if request.log_stream_name_prefix.is_some() {
                return Err(Refusal::invalid(
                    "Cannot order by LastEventTime with a logStreamNamePrefix.",
                ));
            }
            true
        }
        Some(other) => {
            return Err(Refusal::invalid(format!(
                "orderBy must be LogStreamName or LastEventTime, not {other}"
            )));
        }
    };
    let mut streams = engine
        .log_streams(&group)
        .await
        .map_err(|error| store_error(&error))?;
    streams.retain(|stream| {
        request
            .log_stream_name_prefix
            .as_ref()
            .is_none_or(|prefix| stream.name.starts_with(prefix.as_str()))
    });
    if by_time {
        streams.sort_by_key(|stream| stream.last);
    }
    if request.descending.unwrap_or(false) {
        streams.reverse();
    }
    let skip = usize::try_from(token(request.next_token.as_ref(), "s/")?.unwrap_or_default())
        .unwrap_or(usize::MAX);
    let options = engine.options();
    let page: Vec<Value> = streams
        .iter()
        .skip(skip)
        .take(limit)
        .map(|stream| {
            json!({
                "logStreamName": stream.name,
                "creationTime": stream.first.millis(),
                "firstEventTimestamp": stream.first.millis(),
                "lastEventTimestamp": stream.last.millis(),
                "lastIngestionTime": stream.last.millis(),
                "arn": format!(
                    "arn:aws:logs:{}:{}:log-group:{group}:log-stream:{}",
                    options.region, options.account, stream.name
                ),
                "storedBytes": stream.bytes,
            })
        })
        .collect();
    let mut answer = json!({ "logStreams": page });
    if skip.saturating_add(limit) < streams.len()
        && let Some(members) = answer.as_object_mut()
    {
        members.insert("nextToken".to_owned(), json!(format!("s/{}", skip + limit)));
    }
    Ok(answer)
}
