//! The `orders` command: the order system on the embedded durable engine.
//!
//! ```text
//! orders invoke --payload examples/seed-order.json     run one order end to end
//! orders executions list | get ARN | history ARN       read the store
//! ```

pub mod control;
pub mod executions;
pub mod invoke;
pub mod logging;
pub mod logs;
pub mod remote;
pub mod runtimes;
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
    /// Prints a function's log lines (all, one execution's, or as they
    /// are written), from the store or a served engine.
    Logs(logs::LogsArgs),
    /// Serves the engine as a local Lambda endpoint for the `aws` CLI, boto3,
    /// the AWS SDKs and functions built for Lambda.
    Serve(serve::ServeArgs),
    /// Measures the seed order (B1), a burst of orders (B2), the engine's
    /// overhead (B3) and a Python function beside a peer (B4): runs `orders-bench` (`cargo build --release -p
    /// orders-bench`), found beside `orders`, with these arguments.
    #[command(disable_help_flag = true)]
    Bench {
        /// `b1 | b2 | b3 | b4 | all` and its options (`orders bench --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        arguments: Vec<String>,
    },
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
    /// Pauses an execution on a served engine: no invocation starts until it
    /// is resumed. An invocation under way runs to its next checkpoint first
    /// (PAUSING).
    Pause {
        /// The execution's ARN.
        arn: String,
        /// Why, for the execution's history.
        #[arg(long)]
        reason: Option<String>,
        /// Keep the execution timeout running while paused (by default it
        /// stops, and the timeout moves by the time spent paused).
        #[arg(long)]
        no_execution_timeout_paused: bool,
        /// The endpoint.
        #[command(flatten)]
        target: control::Target,
    },
    /// Resumes a paused execution on a served engine, or cancels a pause not
    /// yet in effect.
    Resume {
        /// The execution's ARN.
        arn: String,
        /// Why, for the execution's history.
        #[arg(long)]
        reason: Option<String>,
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

/// How an `orders` command that runs an engine sets it up.
#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// The engine's SQLite database [default: $XDG_DATA_HOME/orders/orders.db].
    #[expect(
        clippy::doc_markdown,
        reason = "clap shows this comment as --help text"
    )]
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Multiplies durable waits and retry delays (0.01 makes a one-second
    /// wait take 10 ms); for tests and benchmarks.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// How each commit is synced: full (every commit reaches the disk before
    /// it is acknowledged) or normal (synced at WAL checkpoints: safe when the
    /// process dies, not when the machine does).
    #[arg(long, default_value = "full", value_parser = parse_durability)]
    pub sync: durable_engine::store::Durability,
    /// Invocations of durable functions the engine runs at once; more wait
    /// their turn (Lambda's default concurrency is 1,000).
    #[arg(long, default_value_t = 1000)]
    pub max_concurrency: usize,
}

impl EngineArgs {
    /// The store's path: `--db`, or the default.
    #[must_use]
    pub fn db(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(default_db)
    }

    /// An engine over the store (locked for this process), with no functions yet.
    ///
    /// # Errors
    ///
    /// When an option is out of range or the store cannot be opened.
    pub fn engine(&self) -> anyhow::Result<durable_engine::Engine> {
        use anyhow::Context as _;
        anyhow::ensure!(
            self.time_scale.is_finite() && self.time_scale >= 0.0,
            "--time-scale must be a number from 0 up, not {}",
            self.time_scale
        );
        anyhow::ensure!(
            self.max_concurrency > 0,
            "--max-concurrency must be at least 1"
        );
        let db = self.db();
        let store = durable_engine::store::SqliteStore::open_with(&db, self.sync)
            .with_context(|| format!("cannot open the store {}", db.display()))?;
        Ok(durable_engine::Engine::new(
            durable_engine::EngineOptions {
                time_scale: self.time_scale,
                max_concurrent_invocations: self.max_concurrency,
                ..durable_engine::EngineOptions::default()
            },
            std::sync::Arc::new(store),
        ))
    }
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

/// Runs `orders-bench`, the benchmarks' own binary, from beside this one.
fn bench(arguments: &[String]) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let here = std::env::current_exe().context("cannot find the orders binary")?;
    let bench = here.with_file_name(format!("orders-bench{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        bench.is_file(),
        "the benchmarks are a binary of their own: build it beside {} with `cargo build --release -p orders-bench`",
        here.display()
    );
    let status = std::process::Command::new(&bench)
        .args(arguments)
        .status()
        .with_context(|| format!("cannot run {}", bench.display()))?;
    Ok(status
        .code()
        .and_then(|code| u8::try_from(code).ok())
        .map_or(ExitCode::FAILURE, ExitCode::from))
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
        Command::Logs(args) => logs::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Bench { arguments } => bench(&arguments),
        Command::Callback(command) => control::callback(command).await,
        Command::Stop {
            arn,
            error_message,
            target,
        } => control::control(control::Control::Stop, &arn, error_message, &target).await,
        Command::Pause {
            arn,
            reason,
            no_execution_timeout_paused,
            target,
        } => {
            let pause = control::Control::Pause {
                execution_timeout_paused: !no_execution_timeout_paused,
            };
            control::control(pause, &arn, reason, &target).await
        }
        Command::Resume {
            arn,
            reason,
            target,
        } => control::control(control::Control::Resume, &arn, reason, &target).await,
    }
}
