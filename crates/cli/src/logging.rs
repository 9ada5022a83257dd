//! What `orders` logs, and where.
//!
//! The engine's own warnings (a function's process that exited, a function
//! that could not initialize, a store that refuses writes) always go to
//! stderr, as text. With `--logs`, the functions' own JSON lines go to
//! stderr too, so stdout carries only the command's answer.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Where the engine's records come from.
const ENGINE_TARGETS: [&str; 2] = ["durable_engine", "orders_cli"];

/// Installs logging: the engine's warnings on stderr, and with `functions`
/// the functions' JSON lines on stderr too, at the level `RUST_LOG` sets
/// (`info` by default).
pub fn init(functions: bool) {
    let engine = Targets::new()
        .with_target(ENGINE_TARGETS[0], LevelFilter::WARN)
        .with_target(ENGINE_TARGETS[1], LevelFilter::INFO);
    let engine_layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(engine);
    let function_layer = functions.then(|| {
        let level = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        order_functions::telemetry::json_layer(std::io::stderr)
            .with_filter(tracing_subscriber::filter::filter_fn(|metadata| {
                !ENGINE_TARGETS
                    .iter()
                    .any(|target| metadata.target().starts_with(target))
            }))
            .with_filter(level)
    });
    // A subscriber may already be installed (by a test harness): keep it.
    let _ = tracing_subscriber::registry()
        .with(engine_layer)
        .with(function_layer)
        .try_init();
}
