//! `orders executions`: reading executions from a store file or a served
//! engine. Both give the Lambda API's shapes (`--json` prints them as is).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use durable_engine::api::handle;
use durable_engine::store::{ListFilter, SqliteStore};
use durable_engine::{Engine, EngineOptions};
use serde_json::Value;

use crate::remote::{Endpoint, segment};

/// `orders executions …`.
#[derive(Debug, clap::Subcommand)]
pub enum ExecutionsCommand {
    /// Lists executions, newest first.
    List {
        /// Where to read from.
        #[command(flatten)]
        source: Source,
        /// Only this function's executions.
        #[arg(long)]
        function: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Shows one execution.
    Get {
        /// Where to read from.
        #[command(flatten)]
        source: Source,
        /// The execution's ARN.
        arn: String,
    },
    /// Shows an execution's history.
    History {
        /// Where to read from.
        #[command(flatten)]
        source: Source,
        /// The execution's ARN.
        arn: String,
    },
}

/// Where executions (and logs) are read from.
#[derive(Debug, clap::Args)]
pub struct Source {
    /// The engine's SQLite database [default: $XDG_DATA_HOME/orders/orders.db].
    #[expect(
        clippy::doc_markdown,
        reason = "clap shows this comment as --help text"
    )]
    #[arg(long, conflicts_with = "endpoint")]
    db: Option<PathBuf>,
    /// A served engine (or any Lambda endpoint) instead of a store file.
    #[arg(long)]
    endpoint: Option<String>,
    /// JSON for scripts instead of a table for people.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) enum Reader {
    Store(Engine),
    Remote(Endpoint),
}

impl Source {
    pub(crate) fn reader(&self) -> anyhow::Result<Reader> {
        if let Some(endpoint) = &self.endpoint {
            return Ok(Reader::Remote(Endpoint::new(endpoint)));
        }
        let db = self.db.clone().unwrap_or_else(crate::default_db);
        anyhow::ensure!(
            db.exists(),
            "no store at {} (run `orders invoke` first, or pass --db or --endpoint)",
            db.display()
        );
        let store = SqliteStore::open_shared(&db)
            .with_context(|| format!("cannot open the store {}", db.display()))?;
        Ok(Reader::Store(Engine::new(
            EngineOptions::default(),
            Arc::new(store),
        )))
    }
}

impl Reader {
    /// One GET of the Lambda API, from the store or the endpoint.
    async fn get(&self, path: &str, query: Option<String>) -> anyhow::Result<Value> {
        let uri = query.map_or_else(|| path.to_owned(), |query| format!("{path}?{query}"));
        match self {
            Self::Remote(endpoint) => endpoint.call(http::Method::GET, &uri, None).await,
            Self::Store(engine) => {
                let request = http::Request::get(uri).body(axum::body::Body::empty())?;
                Self::answer(engine, request).await
            }
        }
    }

    /// One CloudWatch Logs request (`Logs_20140328.<operation>`), to the
    /// store or the endpoint.
    pub(crate) async fn logs(&self, operation: &str, body: &Value) -> anyhow::Result<Value> {
        let target = format!("Logs_20140328.{operation}");
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let body = serde_json::to_vec(body)?;
        match self {
            Self::Remote(endpoint) => {
                endpoint
                    .call_with(http::Method::POST, "/", &headers, Some(body))
                    .await
            }
            Self::Store(engine) => {
                let mut request = http::Request::post("/");
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                Self::answer(engine, request.body(axum::body::Body::from(body))?).await
            }
        }
    }

    /// `request`'s JSON answer from `engine`, or its error's message.
    async fn answer(
        engine: &Engine,
        request: http::Request<axum::body::Body>,
    ) -> anyhow::Result<Value> {
        let response = handle(engine, request).await;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        let body: Value = serde_json::from_slice(&body).unwrap_or_default();
        if status.as_u16() >= 300 {
            let message = body
                .get("Message")
                .or_else(|| body.get("message"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            anyhow::bail!("{message}");
        }
        Ok(body)
    }

    async fn list(&self, function: Option<String>, limit: usize) -> anyhow::Result<Vec<Value>> {
        let functions = match (function, self) {
            (Some(function), _) => vec![function],
            (None, Self::Store(engine)) => {
                let records = engine
                    .store()
                    .list(ListFilter {
                        limit,
                        ..ListFilter::default()
                    })
                    .await?;
                return records
                    .iter()
                    .map(|record| Ok(serde_json::to_value(record.summary())?))
                    .collect();
            }
            (None, Self::Remote(_)) => {
                let listed = self.get("/2015-03-31/functions", None).await?;
                field(&listed, "Functions")
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|function| function.get("DurableConfig").is_some())
                    .filter_map(|function| {
                        field(function, "FunctionName").as_str().map(str::to_owned)
                    })
                    .collect()
            }
        };
        let mut executions = Vec::new();
        for function in functions {
            let path = format!(
                "/2025-12-01/functions/{}/durable-executions",
                segment(&function)
            );
            let page = self
                .get(&path, Some(format!("MaxItems={}", limit.min(1000))))
                .await?;
            executions.extend(
                field(&page, "DurableExecutions")
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        executions.sort_by(|a, b| {
            field(b, "StartTimestamp")
                .as_f64()
                .partial_cmp(&field(a, "StartTimestamp").as_f64())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        executions.truncate(limit);
        Ok(executions)
    }

    async fn history(&self, arn: &str) -> anyhow::Result<Vec<Value>> {
        let path = format!("/2025-12-01/durable-executions/{}/history", segment(arn));
        let mut events = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let query = match &marker {
                Some(marker) => format!("MaxItems=1000&Marker={}", segment(marker)),
                None => "MaxItems=1000".to_owned(),
            };
            let page = self.get(&path, Some(query)).await?;
            events.extend(
                field(&page, "Events")
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            match field(&page, "NextMarker").as_str() {
                Some(next) => marker = Some(next.to_owned()),
                None => return Ok(events),
            }
        }
    }
}

/// The member `key` of `value` (`null` when absent).
fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&Value::Null)
}

/// An API timestamp (epoch seconds) as RFC 3339.
fn time(value: &Value) -> String {
    value.as_f64().map_or_else(String::new, |seconds| {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "epoch milliseconds fit an i64"
        )]
        let millis = (seconds * 1000.0).round() as i64;
        u64::try_from(millis)
            .map(|millis| order_domain::Moment::from_epoch_ms(millis).to_rfc3339())
            .unwrap_or_default()
    })
}

fn duration(execution: &Value) -> String {
    match (
        field(execution, "StartTimestamp").as_f64(),
        field(execution, "EndTimestamp").as_f64(),
    ) {
        (Some(start), Some(end)) => format!("{:.0} ms", (end - start) * 1000.0),
        _ => "-".to_owned(),
    }
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("-")
}

/// Runs `orders executions …`.
///
/// # Errors
///
/// When the source cannot be read or the execution does not exist.
pub async fn run(command: ExecutionsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ExecutionsCommand::List {
            source,
            function,
            limit,
        } => {
            let executions = source.reader()?.list(function, limit).await?;
            if source.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "DurableExecutions": executions })
                    )?
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:<36} {:<10} {:<26} {:>10}  ARN",
                "NAME", "STATUS", "STARTED", "DURATION"
            );
            for execution in &executions {
                println!(
                    "{:<36} {:<10} {:<26} {:>10}  {}",
                    text(field(execution, "DurableExecutionName")),
                    text(field(execution, "Status")),
                    time(field(execution, "StartTimestamp")),
                    duration(execution),
                    text(field(execution, "DurableExecutionArn"))
                );
            }
        }
        ExecutionsCommand::Get { source, arn } => {
            let path = format!("/2025-12-01/durable-executions/{}", segment(&arn));
            let execution = source.reader()?.get(&path, None).await?;
            if source.json {
                println!("{}", serde_json::to_string_pretty(&execution)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "arn:       {}",
                text(field(&execution, "DurableExecutionArn"))
            );
            println!(
                "name:      {}",
                text(field(&execution, "DurableExecutionName"))
            );
            println!("function:  {}", text(field(&execution, "FunctionArn")));
            println!("status:    {}", text(field(&execution, "Status")));
            if let Some(pause) = execution.get("PauseDetails") {
                let timeout = if field(pause, "ExecutionTimeoutPaused").as_bool() == Some(false) {
                    "keeps running"
                } else {
                    "paused"
                };
                println!(
                    "pause:     asked {}, reason {}, timeout {timeout}",
                    time(field(pause, "PauseRequestTimestamp")),
                    text(field(pause, "Reason")),
                );
            }
            println!("started:   {}", time(field(&execution, "StartTimestamp")));
            println!("ended:     {}", time(field(&execution, "EndTimestamp")));
            println!("duration:  {}", duration(&execution));
            println!("input:     {}", text(field(&execution, "InputPayload")));
            if let Some(result) = field(&execution, "Result").as_str() {
                println!("result:    {result}");
            }
            if let Some(error) = execution.get("Error") {
                println!("error:     {error}");
            }
        }
        ExecutionsCommand::History { source, arn } => {
            let events = source.reader()?.history(&arn).await?;
            if source.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "Events": events }))?
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:>4}  {:<26} {:<24} {:<24} SUBTYPE",
                "ID", "TIME", "EVENT", "NAME"
            );
            for event in &events {
                println!(
                    "{:>4}  {:<26} {:<24} {:<24} {}",
                    field(event, "EventId"),
                    time(field(event, "EventTimestamp")),
                    text(field(event, "EventType")),
                    text(field(event, "Name")),
                    field(event, "SubType").as_str().unwrap_or("")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
