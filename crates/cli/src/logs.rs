//! `orders logs`: a function's log lines, from a store file or a served
//! engine, read as CloudWatch Logs gives them (`FilterLogEvents` on the
//! log group `/aws/lambda/<FUNCTION>`).

use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use crate::executions::Source;

/// How often `--follow` asks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// Arguments of `orders logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The function whose lines to print (its name).
    function: String,
    /// Only the lines of this durable execution (its ARN).
    #[arg(long, value_name = "ARN")]
    execution: Option<String>,
    /// Only lines matching this CloudWatch Logs filter pattern
    /// (`ERROR`, `"a phrase"`, `{ $.level = "WARN" }`).
    #[arg(long, value_name = "PATTERN")]
    filter: Option<String>,
    /// Keeps printing lines as they are written, until interrupted.
    #[arg(long)]
    follow: bool,
    /// Where to read from.
    #[command(flatten)]
    source: Source,
}

/// Runs `orders logs`.
///
/// # Errors
///
/// When the source cannot be read, or the function has no log group.
pub async fn run(args: LogsArgs) -> anyhow::Result<ExitCode> {
    let reader = args.source.reader()?;
    let mut token: Option<String> = None;
    loop {
        let request = json!({
            "logGroupName": format!("/aws/lambda/{}", args.function),
            "executionArn": args.execution,
            "filterPattern": args.filter,
            "nextToken": token,
        });
        let page = reader.logs("FilterLogEvents", &request).await?;
        let events = page
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for event in &events {
            print(event, args.source.json)?;
        }
        // Where the next read carries on: the page's token, else just
        // past the last line printed.
        if let Some(next) = page.get("nextToken").and_then(Value::as_str) {
            token = Some(next.to_owned());
            continue;
        }
        if let Some(last) = events
            .last()
            .and_then(|event| event.get("eventId"))
            .and_then(Value::as_str)
            .and_then(|id| id.parse::<u64>().ok())
        {
            token = Some(format!("n/{last}"));
        }
        if !args.follow {
            return Ok(ExitCode::SUCCESS);
        }
        tokio::select! {
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        }
    }
}

/// Prints one line: its time and message, or the event as JSON.
fn print(event: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(event)?);
        return Ok(());
    }
    let time = event
        .get("timestamp")
        .and_then(Value::as_u64)
        .map(|millis| order_domain::Moment::from_epoch_ms(millis).to_rfc3339())
        .unwrap_or_default();
    let message = event
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    println!("{time} {message}");
    Ok(())
}
