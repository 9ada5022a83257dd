//! The `orders` command: the order system on the embedded durable engine.
//!
//! ```text
//! orders invoke --payload examples/seed-order.json     run one order end to end
//! orders executions list | get ARN | history ARN       read the store
//! ```

pub mod executions;
pub mod invoke;
pub mod system;

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
    /// Reads executions from the store.
    #[command(subcommand)]
    Executions(executions::ExecutionsCommand),
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

/// Runs the command line `cli`.
///
/// # Errors
///
/// What went wrong, for the binary to print.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Invoke(args) => invoke::run(args).await,
        Command::Executions(command) => executions::run(command).await,
    }
}
