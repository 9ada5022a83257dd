//! `orders invoke`: one order, end to end, on the embedded engine.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use durable_engine::execution::ExecutionRecord;
use durable_engine::model::{ExecutionStatus, OperationStatus, OperationType};
use durable_engine::{Engine, Progress, StartRequest};
use order_domain::inventory::Catalog;
use tokio::sync::broadcast;

use crate::system::{self, OrderSystem};

/// Arguments of `orders invoke`.
#[derive(Debug, clap::Args)]
pub struct InvokeArgs {
    /// The order, a JSON file (`-` for standard input).
    #[arg(long)]
    payload: PathBuf,
    /// The execution's name: invoking again with the same name (and order)
    /// returns that execution, resuming it if it was interrupted.
    #[arg(long)]
    name: Option<String>,
    /// A worker's simulated latency, WORKER=MS (inventory, payment, shipping,
    /// tax; repeatable) [default: the seed's 150, 200, 125, 100 ms].
    #[arg(long = "latency", value_name = "WORKER=MS", value_parser = system::parse_latency)]
    latency: Vec<(order_domain::Worker, Duration)>,
    /// A catalog file replacing the built-in one (JSON: product id → stock).
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// The engine.
    #[command(flatten)]
    engine: crate::EngineArgs,
    /// Prints the functions' own JSON log lines on stderr (stdout carries
    /// only the result).
    #[arg(long)]
    logs: bool,
    /// Prints no progress on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `orders invoke`.
///
/// # Errors
///
/// When the payload, the store or the engine fail.
pub async fn run(args: InvokeArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(args.logs);
    let input = if args.payload.as_os_str() == "-" {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut text)
            .context("cannot read the order from stdin")?;
        text
    } else {
        std::fs::read(&args.payload)
            .with_context(|| format!("cannot read the order {}", args.payload.display()))?
    };
    // The inventory worker reads the catalog itself; check it here, where the error is clear.
    if let Some(path) = &args.catalog {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Catalog::from_json(&text)
            .with_context(|| format!("{} is not a catalog", path.display()))?;
    }
    let engine = args.engine.engine()?;
    crate::logging::keep_lines(&engine);
    let system = system::install(
        &engine,
        &args.latency.iter().copied().collect(),
        args.catalog.as_ref(),
    )?;
    let order = Order {
        input,
        name: args.name.clone(),
        quiet: args.quiet,
    };
    let outcome = run_order(&engine, &system, order).await;
    engine.shutdown(SHUTDOWN_GRACE).await;
    let record = outcome?;
    if !args.quiet {
        eprintln!(
            "{} after {} invocation(s)",
            record.status, record.invocations
        );
    }
    if record.status == ExecutionStatus::Succeeded {
        println!("{}", record.result.unwrap_or_else(|| "null".to_owned()));
        Ok(ExitCode::SUCCESS)
    } else {
        let error = record.error.unwrap_or_default();
        let body = serde_json::json!({
            "errorType": error.error_type.unwrap_or_else(|| record.status.to_string()),
            "errorMessage": error.error_message.unwrap_or_default(),
        });
        println!("{body}");
        Ok(ExitCode::FAILURE)
    }
}

/// How long `orders invoke` waits, once its order is over, for what else
/// runs in its engine (other executions it resumed) to reach a checkpoint.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// One order to run.
#[derive(Debug, Clone)]
pub struct Order {
    /// The order, as JSON bytes.
    pub input: Vec<u8>,
    /// The execution's name, which makes the start idempotent.
    pub name: Option<String>,
    /// Whether to print no progress.
    pub quiet: bool,
}

/// Runs `order` on `engine`, which has `system` installed: resumes the
/// store's running executions, purges expired ones beside it, and returns
/// the order's execution once it ended.
///
/// # Errors
///
/// When the engine refuses the order, or the store refuses a write of its
/// execution (a full disk): the execution then carries on the next time it
/// is invoked under its name.
pub async fn run_order(
    engine: &Engine,
    system: &OrderSystem,
    order: Order,
) -> anyhow::Result<ExecutionRecord> {
    let progress = engine.subscribe();
    let refusals = engine.subscribe();
    engine
        .recover()
        .await
        .context("cannot resume the store's running executions")?;
    // Off the order's path: it reads every execution ended over a day ago.
    let purging = {
        let purger = engine.clone();
        engine.spawn(async move { purger.purge_expired().await })
    };
    let started = engine
        .start(StartRequest {
            name: order.name.clone(),
            ..system.order(order.input)
        })
        .await?;
    // An execution that already ended publishes nothing more.
    let running = !engine.execution(&started.arn).await?.status.is_terminal();
    if !order.quiet {
        eprintln!("execution {}", started.arn);
        if started.existing {
            eprintln!(
                "  (already started under this name{})",
                if running { "; resuming it" } else { "" }
            );
        }
    }
    let printer = (!order.quiet && running).then(|| {
        engine.spawn(print_progress(
            engine.clone(),
            progress,
            started.arn.clone(),
        ))
    });
    let record = tokio::select! {
        record = engine.wait(&started.arn) => record?,
        error = store_refused(refusals, &started.arn) => {
            if let Some(printer) = printer {
                printer.abort();
            }
            anyhow::bail!("{error} (the execution {} carries on when it is invoked again)", started.arn);
        }
    };
    purging
        .await
        .context("the retention purge stopped")?
        .context("cannot delete the executions past their retention period")?;
    if let Some(printer) = printer {
        // It ends with the execution's end, having printed all before it.
        printer.await.context("the progress printer stopped")?;
    }
    Ok(record)
}

/// The store's error, once it refuses a write of the execution `arn`.
async fn store_refused(mut progress: broadcast::Receiver<Progress>, arn: &str) -> String {
    loop {
        match progress.recv().await {
            Ok(Progress::StoreRefused { arn: of, error }) if of == arn => return error,
            Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
            _ => {}
        }
    }
}

/// Prints each operation of `arn` as it completes, on stderr, with the
/// milliseconds since it began; returns at the execution's end.
async fn print_progress(engine: Engine, mut progress: broadcast::Receiver<Progress>, arn: String) {
    let start = engine.now();
    loop {
        match progress.recv().await {
            Ok(Progress::Operation {
                arn: of,
                name,
                kind,
                status,
                nested,
                started,
                ended,
            }) if of == arn => {
                let shown = status.is_terminal()
                    || matches!(status, OperationStatus::Pending)
                    || kind == OperationType::Wait;
                if !shown {
                    continue;
                }
                let took = ended
                    .map(|end| format!("{} ms", end.millis() - started.millis()))
                    .unwrap_or_default();
                let at = engine.now().millis() - start.millis();
                let indent = if nested { "    " } else { "  " };
                eprintln!(
                    "{indent}{name:<24} {:<14} {:<10} {took:>8}   (+{at} ms)",
                    kind.as_str(),
                    status.as_str()
                );
            }
            Ok(Progress::Invoked { arn: of, number }) if of == arn => {
                eprintln!("  invocation {number}");
            }
            Ok(Progress::Finished { arn: of, .. }) if of == arn => return,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Its end may be among what was missed.
                let ended = engine
                    .execution(&arn)
                    .await
                    .map_or(true, |record| record.status.is_terminal());
                if ended {
                    return;
                }
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
