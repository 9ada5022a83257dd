//! `orders executions`: reading executions from the store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use durable_engine::execution::ExecutionRecord;
use durable_engine::model::Timestamp;
use durable_engine::store::{ListFilter, SqliteStore};
use durable_engine::{Engine, EngineOptions};

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

/// Where executions are read from.
#[derive(Debug, clap::Args)]
pub struct Source {
    /// The engine's SQLite database [default: $XDG_DATA_HOME/orders/orders.db].
    #[arg(long)]
    db: Option<PathBuf>,
    /// JSON for scripts instead of a table for people.
    #[arg(long)]
    json: bool,
}

impl Source {
    fn engine(&self) -> anyhow::Result<Engine> {
        let db = self.db.clone().unwrap_or_else(crate::default_db);
        if !db.exists() {
            anyhow::bail!(
                "no store at {} (run `orders invoke` first, or pass --db)",
                db.display()
            );
        }
        let store = SqliteStore::open(&db)
            .with_context(|| format!("cannot open the store {}", db.display()))?;
        Ok(Engine::new(EngineOptions::default(), Arc::new(store)))
    }
}

fn time(timestamp: Option<Timestamp>) -> String {
    timestamp.map(Timestamp::to_rfc3339).unwrap_or_default()
}

fn duration(record: &ExecutionRecord) -> String {
    record
        .end
        .map(|end| format!("{} ms", end.millis() - record.start.millis()))
        .unwrap_or_else(|| "-".to_owned())
}

fn summary(record: &ExecutionRecord) -> serde_json::Value {
    serde_json::json!({
        "DurableExecutionArn": record.arn,
        "DurableExecutionName": record.name,
        "FunctionName": record.function_name,
        "Version": record.version,
        "Status": record.status,
        "StartTimestamp": record.start,
        "EndTimestamp": record.end,
        "Invocations": record.invocations,
    })
}

/// Runs `orders executions …`.
///
/// # Errors
///
/// When the store cannot be read or the execution does not exist.
pub async fn run(command: ExecutionsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ExecutionsCommand::List {
            source,
            function,
            limit,
        } => {
            let engine = source.engine()?;
            let records = engine
                .store()
                .list(ListFilter {
                    function_name: function,
                    limit,
                    ..ListFilter::default()
                })
                .await?;
            if source.json {
                let list: Vec<_> = records.iter().map(summary).collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!(
                    "{:<28} {:<10} {:<26} {:>10}  ARN",
                    "NAME", "STATUS", "STARTED", "DURATION"
                );
                for record in &records {
                    println!(
                        "{:<28} {:<10} {:<26} {:>10}  {}",
                        record.name,
                        record.status.as_str(),
                        time(Some(record.start)),
                        duration(record),
                        record.arn
                    );
                }
            }
        }
        ExecutionsCommand::Get { source, arn } => {
            let engine = source.engine()?;
            let record = engine.execution(&arn).await?;
            if source.json {
                let mut body = summary(&record);
                if let Some(members) = body.as_object_mut() {
                    members.insert("InputPayload".to_owned(), record.input.clone().into());
                    members.insert("Result".to_owned(), record.result.clone().into());
                    members.insert("Error".to_owned(), serde_json::to_value(&record.error)?);
                }
                println!("{}", serde_json::to_string_pretty(&body)?);
            } else {
                println!("arn:         {}", record.arn);
                println!("name:        {}", record.name);
                println!("function:    {}:{}", record.function_name, record.version);
                println!("status:      {}", record.status);
                println!("started:     {}", time(Some(record.start)));
                println!("ended:       {}", time(record.end));
                println!("duration:    {}", duration(&record));
                println!("invocations: {}", record.invocations);
                println!("input:       {}", record.input);
                if let Some(result) = &record.result {
                    println!("result:      {result}");
                }
                if let Some(error) = &record.error {
                    println!("error:       {}", serde_json::to_string(error)?);
                }
            }
        }
        ExecutionsCommand::History { source, arn } => {
            let engine = source.engine()?;
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
            if source.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({ "Events": events }))?
                );
            } else {
                println!(
                    "{:>4}  {:<26} {:<24} {:<24} SUBTYPE",
                    "ID", "TIME", "EVENT", "NAME"
                );
                for event in &events {
                    println!(
                        "{:>4}  {:<26} {:<24} {:<24} {}",
                        event.event_id,
                        event.event_timestamp.to_rfc3339(),
                        event.event_type,
                        event.name.as_deref().unwrap_or("-"),
                        event.sub_type.as_deref().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
