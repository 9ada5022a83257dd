//! The explorer's JSON routes: what the page reads and what it asks for.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::extract::{JsonBody as Json, Params as Query, ok};

use crate::engine::{Engine, Progress, StartRequest, WeakEngine};
use crate::error::Error;
use crate::execution::{ExecutionRecord, PauseRequest, ResumeRequest};
use crate::model::{ErrorObject, ExecutionStatus, Timestamp};
use crate::store::ListFilter;

type Answer = Result<Response, Error>;

fn live(engine: &WeakEngine) -> Result<Engine, Error> {
    engine
        .upgrade()
        .ok_or_else(|| Error::Service("the engine has stopped".to_owned()))
}

/// An execution as the page lists it; times in epoch milliseconds.
#[derive(Debug, Serialize)]
struct Listed<'a> {
    arn: &'a str,
    name: &'a str,
    function: &'a str,
    version: &'a str,
    status: ExecutionStatus,
    start: i64,
    end: Option<i64>,
    invocations: u64,
}

impl<'a> Listed<'a> {
    fn of(record: &'a ExecutionRecord) -> Self {
        Self {
            arn: &record.arn,
            name: &record.name,
            function: &record.function_name,
            version: &record.version,
            status: record.status,
            start: record.start.millis(),
            end: record.end.map(Timestamp::millis),
            invocations: record.invocations,
        }
    }
}

pub(super) async fn functions(State(engine): State<WeakEngine>) -> Answer {
    let engine = live(&engine)?;
    let functions: Vec<serde_json::Value> = engine
        .functions()
        .iter()
        .map(|function| {
            let config = function.config();
            let qualifier = config
                .aliases
                .first()
                .cloned()
                .unwrap_or_else(|| "$LATEST".to_owned());
            json!({
                "name": config.name,
                "durable": config.durable.is_some(),
                "aliases": config.aliases,
                "qualified": format!("{}:{qualifier}", config.name),
            })
        })
        .collect();
    Ok(ok(&json!({ "functions": functions })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListQuery {
    function: Option<String>,
    status: Option<String>,
    started_after: Option<String>,
    started_before: Option<String>,
    search: Option<String>,
    marker: Option<String>,
}

fn moment(key: &str, value: Option<&str>) -> Result<Option<Timestamp>, Error> {
    value
        .filter(|value| !value.is_empty())
        .map(|value| {
            Timestamp::parse_rfc3339(value).ok_or_else(|| {
                Error::invalid(format!("{key} must be an ISO 8601 moment, not '{value}'"))
            })
        })
        .transpose()
}

pub(super) async fn executions(
    State(engine): State<WeakEngine>,
    Query(query): Query<ListQuery>,
) -> Answer {
    let engine = live(&engine)?;
    let statuses = match query.status.as_deref().filter(|status| !status.is_empty()) {
        Some(status) => vec![
            ExecutionStatus::parse(status)
                .ok_or_else(|| Error::invalid(format!("'{status}' is not a status")))?,
        ],
        None => Vec::new(),
    };
    let filter = ListFilter {
        function_name: query.function.filter(|function| !function.is_empty()),
        statuses,
        started_after: moment("startedAfter", query.started_after.as_deref())?,
        started_before: moment("startedBefore", query.started_before.as_deref())?,
        search: query.search.filter(|search| !search.is_empty()),
        ..ListFilter::default()
    };
    let page = engine
        .list(filter, query.marker.as_deref(), Some(50))
        .await?;
    let listed: Vec<Listed<'_>> = page.executions.iter().map(Listed::of).collect();
    Ok(ok(
        &json!({ "executions": listed, "nextMarker": page.next_marker }),
    ))
}

pub(super) async fn execution(State(engine): State<WeakEngine>, Path(arn): Path<String>) -> Answer {
    let engine = live(&engine)?;
    let record = engine.execution(&arn).await?;
    let operations = engine.operations(&arn).await?;
    let mut events = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = engine
            .history(&arn, marker.as_deref(), Some(1000), false, true)
            .await?;
        events.extend(page.events);
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    let mut execution = serde_json::to_value(Listed::of(&record)).unwrap_or_default();
    if let Some(members) = execution.as_object_mut() {
        members.insert("input".to_owned(), json!(record.input));
        members.insert("result".to_owned(), json!(record.result));
        members.insert("error".to_owned(), json!(record.error));
        members.insert(
            "pause".to_owned(),
            json!(record.pause.as_ref().map(|pause| json!({
                "reason": pause.reason,
                "since": pause.since.map(Timestamp::millis),
            }))),
        );
    }
    Ok(ok(&json!({
        "execution": execution,
        "operations": operations,
        "events": events,
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ControlBody {
    reason: Option<String>,
    error_message: Option<String>,
}

pub(super) async fn control(
    State(engine): State<WeakEngine>,
    Path((arn, action)): Path<(String, String)>,
    Json(body): Json<ControlBody>,
) -> Answer {
    let engine = live(&engine)?;
    match action.as_str() {
        "stop" => {
            let error = body.error_message.map(ErrorObject::message);
            engine.stop(&arn, error).await?;
        }
        "pause" => {
            let request = PauseRequest {
                client_token: None,
                reason: body.reason,
                execution_timeout_paused: true,
            };
            engine.pause(&arn, request).await?;
        }
        "resume" => {
            let request = ResumeRequest {
                client_token: None,
                reason: body.reason,
            };
            engine.resume(&arn, request).await?;
        }
        other => {
            return Err(Error::not_found(format!(
                "No action '{other}': stop, pause or resume"
            )));
        }
    }
    Ok(ok(&json!({})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CallbackBody {
    callback_id: String,
    result: Option<String>,
    error_message: Option<String>,
}

pub(super) async fn callback(
    State(engine): State<WeakEngine>,
    Path(outcome): Path<String>,
    Json(body): Json<CallbackBody>,
) -> Answer {
    let engine = live(&engine)?;
    let id = body.callback_id.as_str();
    match outcome.as_str() {
        "succeed" => {
            if let Some(result) = &body.result {
                serde_json::from_str::<serde::de::IgnoredAny>(result)
                    .map_err(|error| Error::invalid(format!("The result is not JSON: {error}")))?;
            }
            engine.callback_succeed(id, body.result).await?;
        }
        "fail" => {
            let error = ErrorObject::message(body.error_message.unwrap_or_default());
            engine.callback_fail(id, error).await?;
        }
        "heartbeat" => engine.callback_heartbeat(id).await?,
        other => {
            return Err(Error::not_found(format!(
                "No callback outcome '{other}': succeed, fail or heartbeat"
            )));
        }
    }
    Ok(ok(&json!({})))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct StartBody {
    function: String,
    name: Option<String>,
    payload: String,
}

pub(super) async fn start(State(engine): State<WeakEngine>, Json(body): Json<StartBody>) -> Answer {
    let engine = live(&engine)?;
    let started = engine
        .start(StartRequest {
            function: body.function,
            qualifier: None,
            name: body.name.filter(|name| !name.is_empty()),
            input: body.payload.into_bytes(),
        })
        .await?;
    Ok(ok(
        &json!({ "arn": started.arn, "existing": started.existing }),
    ))
}

/// What a change is, for the page.
fn kind(progress: &Progress) -> &'static str {
    match progress {
        Progress::Started { .. } => "started",
        Progress::Operation { .. } => "operation",
        Progress::Invoked { .. } => "invoked",
        Progress::InvocationEnded { .. } => "invocation-ended",
        Progress::Status { .. } => "status",
        Progress::StoreRefused { .. } => "store-refused",
        Progress::Finished { .. } => "finished",
    }
}

pub(super) async fn events(
    State(engine): State<WeakEngine>,
) -> Result<Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>>, Error> {
    let engine = live(&engine)?;
    let stopping = {
        let engine = engine.clone();
        async move { engine.stopping().await }
    };
    let changes = tokio_stream::wrappers::BroadcastStream::new(engine.subscribe())
        .filter_map(|change| std::future::ready(change.ok()))
        .map(|change| {
            let data = json!({ "arn": change.arn(), "kind": kind(&change) }).to_string();
            Ok(SseEvent::default().data(data))
        })
        .take_until(stopping);
    Ok(Sse::new(changes).keep_alive(KeepAlive::default()))
}
