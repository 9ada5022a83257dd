//! The `orders` command: the order system on the embedded durable engine.
//!
//! ```text
//! orders invoke --payload examples/seed-order.json     run one order end to end
//! orders executions list | get ARN | history ARN       read the store
//! ```

pub mod bench;
pub mod control;
pub mod executions;
pub mod invoke;
pub mod remote;
pub mod serve;
pub mod system;
pub mod template;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Parallel order processing on a local AWS Lambda durable-execution engine.
#[derive(Debug, Parser)]
#[command(name = "orders", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs one order end to end on the embedded engine and prints the
    /// execution's result on stdout.
    Invoke(invoke::InvokeArgs),
    /// Reads executions from the store, or from a served engine.
    #[command(subcommand)]
    Executions(executions::ExecutionsCommand),
    /// Serves the engine as a local Lambda endpoint for the `aws` CLI, boto3,
    /// the AWS SDKs and functions built for Lambda.
    Serve(serve::ServeArgs),
    /// Measures the seed order (B1), a burst of orders (B2) and the engine's
    /// overhead (B3); build with --release.
    Bench(bench::BenchArgs),
    /// Completes, fails or heartbeats a callback on a served engine.
    #[command(subcommand)]
    Callback(control::CallbackCommand),
    /// Stops an execution on a served engine.
    Stop {
        /// The execution's ARN.
        arn: String,
        /// Why it is stopped.
        #[arg(long)]
        error_message: Option<String>,
        /// The endpoint.
        #[command(flatten)]
        target: control::Target,
    },
    /// Pauses an execution on a served engine: no invocation starts until it is resumed.
    Pause {
        /// The execution's ARN.
        arn: String,
        /// The endpoint.
        #[command(flatten)]
        target: control::Target,
    },
    /// Resumes a paused execution on a served engine.
    Resume {
        /// The execution's ARN.
        arn: String,
        /// The endpoint.
        #[command(flatten)]
        target: control::Target,
    },
}

/// Where the engine keeps its data unless `--db` says otherwise:
/// `$XDG_DATA_HOME/orders/orders.db` (`~/.local/share/orders/orders.db`).
#[must_use]
pub fn default_db() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("orders")
        .join("orders.db")
}

/// Parses `--sync full|normal`.
///
/// # Errors
///
/// For anything else.
pub fn parse_durability(text: &str) -> anyhow::Result<durable_engine::store::Durability> {
    match text {
        "full" => Ok(durable_engine::store::Durability::Full),
        "normal" => Ok(durable_engine::store::Durability::Normal),
        other => anyhow::bail!("--sync takes full or normal, not {other}"),
    }
}

/// Runs the command line `cli`.
///
/// # Errors
///
/// What went wrong, for the binary to print.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Invoke(args) => invoke::run(args).await,
        Command::Executions(command) => executions::run(command).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Callback(command) => control::callback(command).await,
        Command::Stop {
            arn,
            error_message,
            target,
        } => control::control(control::Control::Stop, &arn, error_message, &target).await,
        Command::Pause { arn, target } => {
            control::control(control::Control::Pause, &arn, None, &target).await
        }
        Command::Resume { arn, target } => {
            control::control(control::Control::Resume, &arn, None, &target).await
        }
    }
}
