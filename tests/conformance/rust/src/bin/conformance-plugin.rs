//! The plugin suite's handlers (requirements 10-2 and 10-3).
//!
//! The Rust SDK has no plugin API. What it offers for instrumentation is
//! its observability contract (`aws_durable_execution_sdk::observability`):
//! `tracing` lifecycle events (`operation_started`, `operation_succeeded`,
//! `operation_failed`, `operation_retry_scheduled`, …) and a
//! `durable_operation` span around each live step body. The plugin here is
//! a `tracing` layer on that contract, printing the suite's JSON records
//! to stdout. The contract has no invocation-end event with the
//! invocation's status and no way to contain a failing observer, so 10-1
//! and 10-4 to 10-7 have no Rust function (see the findings).

use std::io::Write as _;
use std::time::Duration;

use aws_durable_execution_sdk::builders::{JitterStrategy, RetryStrategyConfig};
use aws_durable_execution_sdk::observability::{TARGET, event_names, field_names, span_names};
use aws_durable_execution_sdk::{self as durable, BoxError, DurableContext};
use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer, filter};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let handler = conformance_functions::handler();
    let hooks = match handler.as_str() {
        "plugin_operation_lifecycle" => Some(Hooks::Operation),
        "plugin_attempt_hooks_retry" => Some(Hooks::Attempt),
        _ => None,
    };
    init_logs_with_plugin(hooks.map(|hooks| ConfPlugin { hooks }));
    match handler.as_str() {
        "plugin_operation_lifecycle" => durable::run(plugin_operation_lifecycle).await,
        "plugin_attempt_hooks_retry" => durable::run(plugin_attempt_hooks_retry).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// The JSON log lines of `conformance_functions::json_lines`, plus `plugin`
/// (which sees the SDK's lifecycle events, at `DEBUG`, whatever the log
/// level).
fn init_logs_with_plugin(plugin: Option<ConfPlugin>) {
    let plugin = plugin.with_filter(filter::filter_fn(|metadata| {
        metadata.target() == TARGET || metadata.name() == span_names::OPERATION
    }));
    let _ = tracing_subscriber::registry()
        .with(conformance_functions::json_lines())
        .with(plugin)
        .try_init();
}

/// The hooks a handler's plugin logs.
#[derive(Debug, Clone, Copy)]
enum Hooks {
    /// 10-2: operation-start and operation-end of step operations.
    Operation,
    /// 10-3: attempt-start and attempt-end of each step attempt.
    Attempt,
}

/// The `CONFPLUGIN` plugin: a `tracing` layer turning the SDK's lifecycle
/// events and step spans into the suite's records.
#[derive(Debug)]
struct ConfPlugin {
    hooks: Hooks,
}

/// The contract fields of one lifecycle event or step span.
#[derive(Debug, Default)]
struct Fields {
    message: String,
    execution_arn: String,
    operation_id: String,
    operation_type: String,
    attempt: u64,
    is_replay: bool,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let slot = match field.name() {
            field_names::EXECUTION_ARN => &mut self.execution_arn,
            field_names::OPERATION_ID => &mut self.operation_id,
            field_names::OPERATION_TYPE => &mut self.operation_type,
            _ => return,
        };
        value.clone_into(slot);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == field_names::ATTEMPT {
            self.attempt = value;
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == field_names::IS_REPLAY {
            self.is_replay = value;
        }
    }
}

/// Prints one record of the plugin, as a JSON line on stdout, stamped with
/// the execution's ARN (which the SDK's event or span carries).
fn emit(hook: &str, fields: &Fields, extra: Value) {
    let mut record = Map::new();
    record.insert("plugin".to_owned(), json!("CONFPLUGIN"));
    record.insert("hook".to_owned(), json!(hook));
    if let Value::Object(extra) = extra {
        record.extend(extra);
    }
    record.insert(
        "durableExecutionArn".to_owned(),
        json!(fields.execution_arn),
    );
    let _ = writeln!(std::io::stdout().lock(), "{}", Value::Object(record));
}

impl<S: Subscriber> Layer<S> for ConfPlugin {
    /// attempt-start: the SDK opens the `durable_operation` span of a live
    /// step attempt just before running its body.
    fn on_new_span(&self, attributes: &Attributes<'_>, _id: &Id, _context: Context<'_, S>) {
        if !matches!(self.hooks, Hooks::Attempt)
            || attributes.metadata().name() != span_names::OPERATION
        {
            return;
        }
        let mut fields = Fields::default();
        attributes.record(&mut fields);
        if !fields.is_replay {
            let extra = json!({"n": fields.attempt, "op": fields.operation_id});
            emit("attempt-start", &fields, extra);
        }
    }

    /// operation-start and operation-end (10-2), attempt-end (10-3): the
    /// SDK's record-transition events of step operations.
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.is_replay || fields.operation_type != "Step" {
            return;
        }
        let op = fields.operation_id.clone();
        let attempt = fields.attempt;
        let (hook, extra) = match (self.hooks, fields.message.as_str()) {
            (Hooks::Operation, event_names::OPERATION_STARTED) => {
                ("operation-start", json!({"op": op}))
            }
            (Hooks::Operation, event_names::OPERATION_SUCCEEDED) => {
                ("operation-end", json!({"op": op, "status": "SUCCEEDED"}))
            }
            (Hooks::Operation, event_names::OPERATION_FAILED) => {
                ("operation-end", json!({"op": op, "status": "FAILED"}))
            }
            (Hooks::Attempt, event_names::OPERATION_SUCCEEDED) => (
                "attempt-end",
                json!({"n": attempt, "outcome": "SUCCEEDED", "op": op}),
            ),
            (
                Hooks::Attempt,
                event_names::OPERATION_RETRY_SCHEDULED | event_names::OPERATION_FAILED,
            ) => (
                "attempt-end",
                json!({"n": attempt, "outcome": "FAILED", "op": op}),
            ),
            _ => return,
        };
        emit(hook, &fields, extra);
    }
}

/// 10-2: one step returning a greeting, observed by a plugin logging the
/// step's operation-start and operation-end, with its operation id.
async fn plugin_operation_lifecycle(
    event: String,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let greeting = ctx
        .step(move |_| async move { Ok(format!("Hello, {event}!")) })
        .await?;
    Ok(greeting)
}

/// 10-3: a step failing at its first attempt and succeeding at the second
/// (3 attempts at most, 1 s apart, no jitter), observed by a plugin logging
/// each attempt's start and end, with the attempt number and outcome.
async fn plugin_attempt_hooks_retry(
    _event: Value,
    ctx: DurableContext,
) -> Result<String, BoxError> {
    let result = ctx
        .step(|step| async move {
            if step.attempt() == 1 {
                return Err("first attempt fails".into());
            }
            Ok("Operation succeeded".to_owned())
        })
        .retry_strategy_config(
            RetryStrategyConfig::builder()
                .max_attempts(3)
                .initial_delay(Duration::from_secs(1))
                .jitter(JitterStrategy::None)
                .build(),
        )
        .await?;
    Ok(result)
}
