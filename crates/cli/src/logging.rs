//! What `orders` logs, and where.
//!
//! The engine's own warnings (a function's process that exited, a function
//! that could not initialize, a store that refuses writes) always go to
//! stderr, as text. The functions' own JSON lines (those run in the
//! engine's process write them through `tracing`) go to the engine, which
//! keeps them in each function's log group, and with `--logs` to stderr
//! too, so stdout carries only the command's answer.

use std::io::Write;
use std::sync::OnceLock;

use durable_engine::logs::LogLine;
use durable_engine::{Engine, WeakEngine};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Where the engine's records come from.
const ENGINE_TARGETS: [&str; 2] = ["durable_engine", "orders_cli"];

/// The engine that keeps the in-process functions' lines, once there is one.
static KEEPER: OnceLock<WeakEngine> = OnceLock::new();

/// Whether the functions' lines are printed on stderr too.
static PRINT: OnceLock<bool> = OnceLock::new();

/// Installs logging: the engine's warnings on stderr, and the functions'
/// JSON lines (at the level `RUST_LOG` sets, `info` by default) to the
/// engine [`keep_lines`] names and, with `print`, on stderr.
pub fn init(print: bool) {
    let _ = PRINT.set(print);
    let engine = Targets::new()
        .with_target(ENGINE_TARGETS[0], LevelFilter::WARN)
        .with_target(ENGINE_TARGETS[1], LevelFilter::INFO);
    let engine_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .with_target(false)
        .with_filter(engine);
    let level = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let function_layer = order_functions::telemetry::json_layer(FunctionLines)
        .with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
            !ENGINE_TARGETS
                .iter()
                .any(|target| metadata.target().starts_with(target))
        }))
        .with_filter(level);
    // A subscriber may already be installed (by a test harness): keep it.
    let _ = tracing_subscriber::registry()
        .with(engine_layer)
        .with(function_layer)
        .try_init();
}

/// Whether the engine's lines on stderr carry colour codes: only on a
/// terminal, and not when `NO_COLOR` is set to anything but the empty
/// text (<https://no-color.org>).
fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(std::ffi::OsStr::is_empty)
}

/// Makes `engine` keep the lines the functions run in this process write.
pub fn keep_lines(engine: &Engine) {
    let _ = KEEPER.set(engine.downgrade());
}

/// What happens to the functions' execution environments, on stderr: each
/// cold start with its init duration, and each environment stopped while
/// idle or for a change to its code (failures are warnings of their own).
#[must_use]
pub fn environment_sink() -> durable_engine::process::EnvironmentSink {
    use durable_engine::process::{EnvironmentEvent, Stopped};
    std::sync::Arc::new(|function: &str, event: EnvironmentEvent| match event {
        EnvironmentEvent::Initialized { init } => {
            let init_duration = format!("{:.2} ms", init.as_secs_f64() * 1000.0);
            tracing::info!(function, init_duration, "cold start");
        }
        EnvironmentEvent::Stopped {
            reason: reason @ (Stopped::Idle | Stopped::CodeChanged),
        } => {
            tracing::info!(function, %reason, "execution environment stopped");
        }
        EnvironmentEvent::Stopped { .. } => {}
    })
}

/// What a function run as a process writes: a line for `engine`'s log of
/// `function`, printed on stderr too with `print`.
#[must_use]
pub fn process_sink(engine: &Engine, print: bool) -> durable_engine::process::LogSink {
    let keeper = engine.downgrade();
    std::sync::Arc::new(move |function: &str, request: Option<&str>, line: &str| {
        if print {
            eprintln!("{line}");
        }
        if let Some(engine) = keeper.upgrade() {
            engine.log(LogLine {
                function: Some(function.to_owned()),
                request_id: request.map(str::to_owned),
                execution_arn: None,
                message: line.to_owned(),
            });
        }
    })
}

/// The functions' JSON lines, each handed on as it is written.
struct FunctionLines;

impl<'writer> MakeWriter<'writer> for FunctionLines {
    type Writer = Line;

    fn make_writer(&'writer self) -> Self::Writer {
        Line(Vec::new())
    }
}

/// One record being written; handed on when dropped.
struct Line(Vec<u8>);

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let line = text.trim_end();
        if line.is_empty() {
            return;
        }
        if PRINT.get().copied().unwrap_or(false) {
            eprintln!("{line}");
        }
        if let Some(engine) = KEEPER.get().and_then(WeakEngine::upgrade) {
            engine.log(attributed(line));
        }
    }
}

/// `line` with who wrote it, as its JSON says: the SDK's span names the
/// execution and the invocation, the engine's invocation span the function.
fn attributed(line: &str) -> LogLine {
    let record: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    let field = |key: &str| {
        record
            .get("span")
            .and_then(|span| span.get(key))
            .or_else(|| record.get(key))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    LogLine {
        function: field("functionName"),
        request_id: field("requestId"),
        execution_arn: field("executionArn"),
        message: line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{attributed, colour};

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        let set = std::ffi::OsStr::new("1");
        let empty = std::ffi::OsStr::new("");
        assert!(colour(true, None));
        assert!(colour(true, Some(empty)), "NO_COLOR empty counts as unset");
        assert!(!colour(true, Some(set)));
        assert!(!colour(false, None), "not in a file");
    }

    #[test]
    fn a_line_is_attributed_by_its_span_then_its_own_fields() {
        let line = attributed(
            r#"{"message":"m","span":{"executionArn":"arn:e","requestId":"r1"},"functionName":"F"}"#,
        );
        assert_eq!(line.execution_arn.as_deref(), Some("arn:e"));
        assert_eq!(line.request_id.as_deref(), Some("r1"));
        assert_eq!(line.function.as_deref(), Some("F"));
        let plain = attributed("not json");
        assert_eq!((plain.function, plain.request_id), (None, None));
        assert_eq!(plain.message, "not json");
    }
}
