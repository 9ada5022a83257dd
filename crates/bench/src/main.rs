//! `orders bench`: the seed order, a burst of 10,000, and the engine's
//! overhead beside the SDK's in-memory runner. Run on a release build.
//!
//! A binary of its own, so that the shipped `orders` carries neither the
//! plotting library nor the SDK's test runner; `orders bench …` runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_durable_execution_sdk::DurableContext;
use aws_durable_execution_sdk::test_util::LocalRunner;
use durable_engine::model::{ExecutionStatus, OperationType};
use durable_engine::store::{Durability, MemoryStore, SqliteStore, Store};
use durable_engine::testing::TestEngine;
use durable_engine::{Engine, EngineStats, StartRequest};
use order_domain::Worker;
use order_domain::inventory::Catalog;
use order_functions::{
    InventoryCheck, InvokeFailure, ParallelProcessor, PaymentValidation, ProcessorOptions,
    ShippingCalculation, TaxCalculation, WorkerClient, WorkerFunction, WorkerFunctions,
};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::Semaphore;

use clap::Parser as _;
use orders_cli::system;

mod b5;

/// The same allocator as `orders`, so the engine is measured as it ships.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Measures the seed order (B1), a burst of orders (B2) and the engine's
/// overhead (B3); build with --release.
#[derive(Debug, clap::Parser)]
#[command(name = "orders bench", version)]
struct BenchArgs {
    /// Which scenario: b1 (the seed order), b2 (a burst), b3 (overhead),
    /// b4 (a Python function on orders serve and on the Python SDK's
    /// emulator), b5 (orders at rest on orders serve), or all (but b5,
    /// which runs on its own).
    #[arg(value_parser = ["b1", "b2", "b3", "b4", "b5", "all"])]
    scenario: String,
    /// Where results (JSON) and the plot (SVG) go.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// How each commit is synced: full (every commit) or normal (at WAL checkpoints).
    #[arg(long, default_value = "full", value_parser = orders_cli::parse_durability)]
    sync: Durability,
    /// Runs of the seed order in B1.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Orders in the B2 burst.
    #[arg(long, default_value_t = 10_000)]
    burst: usize,
    /// Orders in B3 (per runner).
    #[arg(long, default_value_t = 3_000)]
    orders: usize,
    /// Orders in flight in B3.
    #[arg(long, default_value_t = 64)]
    in_flight: usize,
    /// Executions in B4 (per engine).
    #[arg(long, default_value_t = 300)]
    b4_executions: usize,
    /// Executions in flight in B4 (at most 10: a function's environments).
    #[arg(long, default_value_t = 8)]
    b4_concurrency: usize,
    /// Durable invocations the engine runs at once (as `serve --max-concurrency`).
    #[arg(long, default_value_t = 1000)]
    max_concurrency: usize,
    /// Orders in B5.
    #[arg(long, default_value_t = 100_000)]
    b5_orders: usize,
    /// Event invocations in flight while B5 starts its orders.
    #[arg(long, default_value_t = 64)]
    b5_in_flight: usize,
    /// How long each B5 order's durable wait lasts, in seconds.
    #[arg(long, default_value_t = 1_200)]
    b5_wait_seconds: u64,
}

/// The seed order (`examples/seed-order.json`), with a distinct id `n`.
fn order(n: usize) -> Vec<u8> {
    const SEED: &str = include_str!("../../../examples/seed-order.json");
    SEED.replacen("ORD-12345", &format!("ORD-{n}"), 1)
        .into_bytes()
}

/// An engine over a fresh store file in `directory`, the order system in
/// it; the orchestrator's name and alias.
fn engine(
    args: &BenchArgs,
    directory: &Path,
    latency: &BTreeMap<Worker, Duration>,
    time_scale: f64,
) -> anyhow::Result<Bench> {
    let path = directory.join(format!("bench-{}.db", uuid_like()));
    let store = Arc::new(SqliteStore::open_with(&path, args.sync)?);
    let file = StoreFile {
        store: Arc::clone(&store),
        path,
    };
    installed(args, store, latency, time_scale, Some(file))
}

/// An engine over a store in memory (nothing written anywhere), the order
/// system in it: the engine's cost without its store's.
fn engine_in_memory(
    args: &BenchArgs,
    latency: &BTreeMap<Worker, Duration>,
    time_scale: f64,
) -> anyhow::Result<Bench> {
    let store = Arc::new(MemoryStore::new());
    installed(args, store, latency, time_scale, None)
}

fn installed(
    args: &BenchArgs,
    store: Arc<dyn Store>,
    latency: &BTreeMap<Worker, Duration>,
    time_scale: f64,
    file: Option<StoreFile>,
) -> anyhow::Result<Bench> {
    let engine = TestEngine::new()
        .time_scale(time_scale)
        .options(|options| options.max_concurrent_invocations = args.max_concurrency)
        .store(store)
        .build();
    let system = system::install(&engine, latency, None)?;
    let (processor, alias) = (system.processor, system.alias);
    Ok(Bench {
        engine,
        file,
        processor,
        alias,
    })
}

/// A SQLite store and the file it writes.
struct StoreFile {
    store: Arc<SqliteStore>,
    path: PathBuf,
}

/// An engine with the order system, and its store.
struct Bench {
    engine: Engine,
    /// The store's file; `None` for a store in memory.
    file: Option<StoreFile>,
    processor: String,
    alias: String,
}

impl Bench {
    fn start_request(&self, input: Vec<u8>) -> StartRequest {
        StartRequest {
            function: self.processor.clone(),
            qualifier: Some(self.alias.clone()),
            name: None,
            input,
        }
    }

    /// The database file's size once the writer has handed its free pages
    /// back (as it does by itself when idle) and the WAL is folded into it;
    /// 0 for a store in memory.
    async fn store_bytes(&self) -> anyhow::Result<u64> {
        let Some(file) = &self.file else {
            return Ok(0);
        };
        file.store.trim().await?;
        file.store.fold_wal().await?;
        Ok(std::fs::metadata(&file.path).map_or(0, |metadata| metadata.len()))
    }
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    )
}

/// One finished order: its answer's processing time and its execution.
struct Finished {
    processing_ms: u64,
    record: durable_engine::execution::ExecutionRecord,
}

async fn run_order(bench: &Bench, input: Vec<u8>) -> anyhow::Result<Finished> {
    let started = bench.engine.start(bench.start_request(input)).await?;
    let record = bench.engine.wait(&started.arn).await?;
    finished(record)
}

fn finished(record: durable_engine::execution::ExecutionRecord) -> anyhow::Result<Finished> {
    anyhow::ensure!(
        record.status == ExecutionStatus::Succeeded,
        "an order's execution {}: {:?}",
        record.status,
        record.error
    );
    let result: serde_json::Value =
        serde_json::from_str(record.result.as_deref().unwrap_or("null"))?;
    anyhow::ensure!(
        result.get("success") == Some(&serde_json::Value::Bool(true)),
        "an order was not confirmed: {result}"
    );
    let processing_ms = result
        .get("processingTimeMs")
        .and_then(serde_json::Value::as_u64)
        .context("no processingTimeMs")?;
    Ok(Finished {
        processing_ms,
        record,
    })
}

/// The `p`-th percentile (0–100) of `values`, nearest rank.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "ranks of small samples"
    )]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied().unwrap_or_default()
}

#[derive(Debug, Serialize)]
struct Distribution {
    median: f64,
    p95: f64,
    p99: f64,
    min: f64,
    max: f64,
}

impl Distribution {
    fn of(values: &[f64]) -> Self {
        Self {
            median: percentile(values, 50.0),
            p95: percentile(values, 95.0),
            p99: percentile(values, 99.0),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(0.0, f64::max),
        }
    }
}

#[derive(Debug, Serialize)]
struct PerOrder {
    checkpoints: f64,
    store_commits: f64,
    store_batches: f64,
    invocations: f64,
    bytes_on_disk: f64,
    /// Pages the commits appended to the WAL.
    wal_pages: f64,
    /// Bytes this process wrote to the disk (`write_bytes` of
    /// `/proc/self/io`): the WAL, and the pages it folds into the file.
    bytes_written: f64,
}

#[expect(clippy::cast_precision_loss, reason = "counters far below 2^52")]
fn per_order(
    before: (EngineStats, u64),
    after: (EngineStats, u64),
    orders: usize,
    bytes: u64,
) -> PerOrder {
    let ((before, written_before), (after, written_after)) = (before, after);
    let n = orders.max(1) as f64;
    PerOrder {
        checkpoints: (after.checkpoints - before.checkpoints) as f64 / n,
        store_commits: (after.store_commits - before.store_commits) as f64 / n,
        store_batches: (after.store_batches - before.store_batches) as f64 / n,
        invocations: (after.invocations - before.invocations) as f64 / n,
        bytes_on_disk: bytes as f64 / n,
        wal_pages: (after.store_pages_logged - before.store_pages_logged) as f64 / n,
        bytes_written: written_after.saturating_sub(written_before) as f64 / n,
    }
}

/// What this process has written to the disk, in bytes (`write_bytes` of
/// `/proc/self/io`).
fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|line| line.strip_prefix("write_bytes:"))
                .and_then(|bytes| bytes.trim().parse().ok())
        })
        .unwrap_or_default()
}

/// Peak resident memory of this process, in bytes (`VmHWM`).
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn seed_latencies() -> BTreeMap<Worker, Duration> {
    Worker::ALL
        .into_iter()
        .map(|worker| (worker, order_functions::default_latency(worker)))
        .collect()
}

fn zero_latencies() -> BTreeMap<Worker, Duration> {
    Worker::ALL
        .into_iter()
        .map(|worker| (worker, Duration::ZERO))
        .collect()
}

// ---------------------------------------------------------------- B1

#[derive(Debug, Serialize)]
struct B1Path {
    processing_time_ms: Distribution,
    parallel_phase_ms: Distribution,
    sequential_sum_ms: Distribution,
    speedup_median: f64,
    runs: Vec<u64>,
}

/// The parallel phase's duration and the four worker steps' summed durations.
async fn phases(engine: &Engine, arn: &str) -> anyhow::Result<(f64, f64)> {
    let operations = engine.operations(arn).await?;
    let millis = |op: &durable_engine::model::Operation| {
        #[expect(clippy::cast_precision_loss, reason = "milliseconds of one order")]
        let ms = op
            .end_timestamp
            .map_or(0, |end| end.millis() - op.start_timestamp.millis()) as f64;
        ms
    };
    let parallel = operations
        .iter()
        .find(|op| op.name.as_deref() == Some("parallel-workers"))
        .map(millis)
        .context("no parallel-workers operation")?;
    let sequential: f64 = operations
        .iter()
        .filter(|op| op.kind == OperationType::Step)
        .filter(|op| {
            Worker::ALL
                .iter()
                .any(|worker| op.name.as_deref() == Some(worker.step_name()))
        })
        .map(millis)
        .sum();
    Ok((parallel, sequential))
}

#[expect(clippy::cast_precision_loss, reason = "milliseconds")]
fn b1_path(runs: &[(u64, f64, f64)]) -> B1Path {
    let processing: Vec<f64> = runs.iter().map(|run| run.0 as f64).collect();
    let parallel: Vec<f64> = runs.iter().map(|run| run.1).collect();
    let sequential: Vec<f64> = runs.iter().map(|run| run.2).collect();
    let parallel_phase = Distribution::of(&parallel);
    let sequential_sum = Distribution::of(&sequential);
    B1Path {
        speedup_median: sequential_sum.median / parallel_phase.median.max(1.0),
        processing_time_ms: Distribution::of(&processing),
        parallel_phase_ms: parallel_phase,
        sequential_sum_ms: sequential_sum,
        runs: runs.iter().map(|run| run.0).collect(),
    }
}

async fn b1(args: &BenchArgs, directory: &Path) -> anyhow::Result<serde_json::Value> {
    let bench = engine(args, directory, &seed_latencies(), 1.0)?;
    let engine = &bench.engine;
    // One order first, untimed: the first invocation builds clients and caches.
    run_order(&bench, order(0)).await?;
    let mut in_process = Vec::new();
    for n in 0..args.runs {
        let done = run_order(&bench, order(n)).await?;
        let (parallel, sequential) = phases(engine, &done.record.arn).await?;
        in_process.push((done.processing_ms, parallel, sequential));
    }
    eprintln!(
        "B1 in process: {:?}",
        in_process.iter().map(|run| run.0).collect::<Vec<_>>()
    );

    // The same through `orders serve`: an HTTP client invoking synchronously.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let served = engine.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let http_server = engine.spawn(async move {
        let options = durable_engine::api::ServeOptions::default();
        let _ = durable_engine::api::serve(served, listener, &options, async move {
            let _ = stopped.await;
        })
        .await;
    });
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "local", "local", None, None, "bench",
        ))
        .endpoint_url(format!("http://{address}"))
        .build();
    let client = aws_sdk_lambda::Client::from_conf(config);
    let mut over_http = Vec::new();
    for n in 0..=args.runs {
        let output = client
            .invoke()
            .function_name(format!("{}:{}", bench.processor, bench.alias))
            .payload(aws_sdk_lambda::primitives::Blob::new(order(n)))
            .send()
            .await?;
        let arn = output
            .durable_execution_arn()
            .context("no execution ARN")?
            .to_owned();
        let record = engine.execution(&arn).await?;
        let done = finished(record)?;
        if n > 0 {
            let (parallel, sequential) = phases(engine, &arn).await?;
            over_http.push((done.processing_ms, parallel, sequential));
        }
    }
    let _ = stop.send(());
    http_server.await?;
    eprintln!(
        "B1 over HTTP: {:?}",
        over_http.iter().map(|run| run.0).collect::<Vec<_>>()
    );
    Ok(serde_json::json!({
        "in_process": b1_path(&in_process),
        "over_http": b1_path(&over_http),
    }))
}

// ---------------------------------------------------------------- B2

async fn b2(args: &BenchArgs, directory: &Path) -> anyhow::Result<serde_json::Value> {
    let bench = Arc::new(engine(args, directory, &seed_latencies(), 1.0)?);
    let engine = &bench.engine;
    run_order(&bench, order(0)).await?;
    let before = (engine.stats(), bytes_written());
    let start = Instant::now();
    let first = engine.now();
    let starts: Vec<_> = (0..args.burst)
        .map(|n| {
            let starter = Arc::clone(&bench);
            engine.spawn(async move {
                starter
                    .engine
                    .start(starter.start_request(order(n + 1)))
                    .await
            })
        })
        .collect();
    let mut executions = Vec::with_capacity(args.burst);
    for started in starts {
        executions.push(started.await??.arn);
    }
    let started_all = start.elapsed();
    let waits: Vec<_> = executions
        .into_iter()
        .map(|arn| {
            let waiter = engine.clone();
            engine.spawn(async move { waiter.wait(&arn).await })
        })
        .collect();
    let mut processing = Vec::with_capacity(args.burst);
    let mut ends = Vec::with_capacity(args.burst);
    for wait in waits {
        let done = finished(wait.await??)?;
        #[expect(clippy::cast_precision_loss, reason = "milliseconds")]
        processing.push(done.processing_ms as f64);
        ends.push(
            done.record
                .end
                .map_or(0, |end| end.millis() - first.millis()),
        );
    }
    let wall = start.elapsed();
    let after = (engine.stats(), bytes_written());
    let bytes = bench.store_bytes().await?;
    let latest_end_ms = ends.iter().copied().max().unwrap_or_default();
    #[expect(clippy::cast_precision_loss, reason = "counts")]
    let rate = args.burst as f64 / wall.as_secs_f64();
    plot_burst(&args.out.join("b2-burst.svg"), &processing, &ends)?;
    Ok(serde_json::json!({
        "orders": args.burst,
        "all_started_after_ms": started_all.as_millis(),
        "wall_ms": wall.as_millis(),
        "last_success_after_first_start_ms": latest_end_ms,
        "orders_per_second": rate,
        "processing_time_ms": Distribution::of(&processing),
        "peak_rss_bytes": peak_rss(),
        "store_bytes": bytes,
        "per_order": per_order(before, after, args.burst, bytes),
    }))
}

/// The burst's plot: per-order processing time (histogram) and orders
/// completed per 100 ms.
fn plot_burst(path: &Path, processing: &[f64], ends_ms: &[i64]) -> anyhow::Result<()> {
    use plotters::prelude::*;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let root = SVGBackend::new(path, (1000, 800)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let (top, bottom) = root.split_vertically(400);
    let plot_error = |error: DrawingAreaErrorKind<std::io::Error>| anyhow::anyhow!("plot: {error}");

    // About 80 bars, in whole multiples of 25 ms.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "milliseconds of one order"
    )]
    let spread = (processing.iter().copied().fold(0.0, f64::max)
        - processing.iter().copied().fold(f64::INFINITY, f64::min))
    .max(0.0) as u32;
    let bucket = (spread / 80 / 25).max(1) * 25;
    let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
    for &ms in processing {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "milliseconds of one order"
        )]
        let key = (ms as u32 / bucket) * bucket;
        *counts.entry(key).or_default() += 1;
    }
    let low = counts.keys().next().copied().unwrap_or(0);
    let high = counts.keys().last().copied().unwrap_or(0) + bucket;
    let tallest = counts.values().copied().max().unwrap_or(1);
    let mut chart = ChartBuilder::on(&top)
        .caption(
            format!("B2: processingTimeMs of each order ({bucket} ms buckets)"),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(low..high, 0..tallest + tallest / 10 + 1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("processingTimeMs")
        .y_desc("orders")
        .draw()
        .map_err(plot_error)?;
    chart
        .draw_series(counts.iter().map(|(&start, &count)| {
            Rectangle::new(
                [(start, 0), (start + bucket, count)],
                BLUE.mix(0.6).filled(),
            )
        }))
        .map_err(plot_error)?;

    let step = 100_i64;
    let mut completed: BTreeMap<i64, u32> = BTreeMap::new();
    for &end in ends_ms {
        *completed.entry((end / step) * step).or_default() += 1;
    }
    let last = completed.keys().last().copied().unwrap_or(0) + step;
    let peak = f64::from(completed.values().copied().max().unwrap_or(1)) * 10.0;
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            "B2: orders completed per second (100 ms windows) after the first start",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0..last, 0.0..peak * 1.1 + 1.0)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("ms after the first start")
        .y_desc("orders/s")
        .draw()
        .map_err(plot_error)?;
    chart
        .draw_series(LineSeries::new(
            (0..last).step_by(100).map(|at| {
                (
                    at,
                    f64::from(completed.get(&at).copied().unwrap_or(0)) * 10.0,
                )
            }),
            &RED,
        ))
        .map_err(plot_error)?;
    root.present()
        .map_err(|error| anyhow::anyhow!("plot: {error}"))?;
    Ok(())
}

// ---------------------------------------------------------------- B3

/// The workers answering in process, for the SDK's in-memory runner.
struct DirectWorkers {
    inventory: InventoryCheck,
    payment: PaymentValidation,
    shipping: ShippingCalculation,
    tax: TaxCalculation,
}

impl WorkerClient for DirectWorkers {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeFailure> {
        let text = String::from_utf8(payload)
            .map_err(|error| InvokeFailure::Transport(error.to_string()))?;
        let request = RawValue::from_string(text)
            .map_err(|error| InvokeFailure::Transport(error.to_string()))?;
        let answer = match function {
            "InventoryCheck" => self.inventory.handle(&request).await,
            "PaymentValidation" => self.payment.handle(&request).await,
            "ShippingCalculation" => self.shipping.handle(&request).await,
            "TaxCalculation" => self.tax.handle(&request).await,
            other => return Err(InvokeFailure::Transport(format!("no function {other}"))),
        };
        Ok(answer.get().as_bytes().to_vec())
    }
}

#[derive(Debug, Serialize)]
struct Throughput {
    orders: usize,
    wall_ms: u128,
    orders_per_second: f64,
    latency_ms: Distribution,
}

async fn limited<F, Fut>(orders: usize, in_flight: usize, run: F) -> anyhow::Result<Throughput>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(in_flight));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..orders {
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let work = run(n);
        tasks.spawn(async move {
            let began = Instant::now();
            let outcome = work.await;
            drop(permit);
            outcome.map(|()| began.elapsed())
        });
    }
    let mut latencies = Vec::with_capacity(orders);
    while let Some(task) = tasks.join_next().await {
        latencies.push(task??.as_secs_f64() * 1000.0);
    }
    let wall = start.elapsed();
    #[expect(clippy::cast_precision_loss, reason = "counts")]
    let rate = orders as f64 / wall.as_secs_f64();
    Ok(Throughput {
        orders,
        wall_ms: wall.as_millis(),
        orders_per_second: rate,
        latency_ms: Distribution::of(&latencies),
    })
}

/// `args.orders` orders on `bench`'s engine, `args.in_flight` at a time.
async fn orders_on(bench: &Arc<Bench>, args: &BenchArgs) -> anyhow::Result<Throughput> {
    let bench = Arc::clone(bench);
    limited(args.orders, args.in_flight, move |n| {
        let bench = Arc::clone(&bench);
        async move { run_order(&bench, order(n)).await.map(drop) }
    })
    .await
}

async fn b3(args: &BenchArgs, directory: &Path) -> anyhow::Result<serde_json::Value> {
    let bench = Arc::new(engine(args, directory, &zero_latencies(), 0.0)?);
    let engine = &bench.engine;
    run_order(&bench, order(0)).await?;
    let before = (engine.stats(), bytes_written());
    let bytes_before = bench.store_bytes().await?;
    let on_engine = orders_on(&bench, args).await?;
    let after = (engine.stats(), bytes_written());
    let bytes = bench.store_bytes().await?.saturating_sub(bytes_before);

    // The same orders on an engine whose store is in memory: what the
    // engine and the SDK's calls into it cost without SQLite.
    let in_memory = Arc::new(engine_in_memory(args, &zero_latencies(), 0.0)?);
    run_order(&in_memory, order(0)).await?;
    let on_memory = orders_on(&in_memory, args).await?;

    let workers = DirectWorkers {
        inventory: InventoryCheck::new(Catalog::default(), Duration::ZERO),
        payment: PaymentValidation::new(Duration::ZERO),
        shipping: ShippingCalculation::new(Duration::ZERO),
        tax: TaxCalculation::new(Duration::ZERO),
    };
    let processor =
        ParallelProcessor::new(workers, ProcessorOptions::new(WorkerFunctions::by_name()));
    let on_local_runner = limited(args.orders, args.in_flight, move |n| {
        let processor = processor.clone();
        async move {
            let event: Option<Box<RawValue>> =
                Some(RawValue::from_string(String::from_utf8(order(n))?)?);
            let result = LocalRunner::new()
                .single_page()
                .run(
                    move |event: Option<Box<RawValue>>, ctx: DurableContext| {
                        let processor = processor.clone();
                        async move {
                            Ok(serde_json::value::to_raw_value(
                                &processor.process(event, ctx).await?,
                            )?)
                        }
                    },
                    event,
                )
                .await;
            anyhow::ensure!(
                result.is_success(),
                "LocalRunner: {:?}",
                result.error_message()
            );
            Ok(())
        }
    })
    .await?;
    let local = on_local_runner.orders_per_second.max(f64::EPSILON);
    Ok(serde_json::json!({
        "in_flight": args.in_flight,
        "engine": on_engine,
        "engine_store_in_memory": on_memory,
        "local_runner": on_local_runner,
        "ratio_to_local_runner": on_engine.orders_per_second / local,
        "ratio_in_memory_to_local_runner": on_memory.orders_per_second / local,
        "per_order": per_order(before, after, args.orders, bytes),
    }))
}

fn main() -> std::process::ExitCode {
    let args = BenchArgs::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("orders bench: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("orders bench: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Where B4's Python environment goes, and what it installs.
const B4_VENV: &str = ".tools/b4";
const B4_REQUIREMENTS: &str = "tools/b4-requirements.txt";

/// B4: `crates/bench/b4/b4.py`, run with the Python environment it needs
/// (installed into `.tools/b4/` when missing), against the `orders` binary
/// beside this one. Run from the repository's root.
fn b4(args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = root.join(B4_VENV);
    let python = venv.join("bin/python");
    if !venv.join("bin/dex-local-runner").exists() {
        eprintln!("B4: installing {B4_REQUIREMENTS} into {B4_VENV}");
        let created = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()?;
        anyhow::ensure!(created.success(), "python3 -m venv {B4_VENV} failed");
        let installed = std::process::Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(root.join(B4_REQUIREMENTS))
            .status()?;
        anyhow::ensure!(installed.success(), "installing {B4_REQUIREMENTS} failed");
    }
    let orders = std::env::current_exe()?.with_file_name("orders");
    anyhow::ensure!(
        orders.exists(),
        "B4 runs {}: build it (cargo build --release --bin orders)",
        orders.display()
    );
    eprintln!(
        "B4: {} executions, {} at a time, on orders serve and on dex-local-runner",
        args.b4_executions, args.b4_concurrency
    );
    let output = std::process::Command::new(&python)
        .arg(root.join("crates/bench/b4/b4.py"))
        .arg("--orders")
        .arg(&orders)
        .args(["-n", &args.b4_executions.to_string()])
        .args(["-c", &args.b4_concurrency.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "B4 failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// Runs the scenarios `args` names.
///
/// # Errors
///
/// When a scenario fails (an order not confirmed, the store unusable).
async fn run(args: BenchArgs) -> anyhow::Result<std::process::ExitCode> {
    let sync = match args.sync {
        Durability::Full => "full",
        Durability::Normal => "normal",
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let directory = args.out.join("stores");
    std::fs::create_dir_all(&directory)?;
    let mut results = serde_json::Map::new();
    results.insert("sync".to_owned(), sync.into());
    results.insert(
        "max_concurrent_invocations".to_owned(),
        args.max_concurrency.into(),
    );
    results.insert(
        "cpus".to_owned(),
        std::thread::available_parallelism()
            .map_or(0, usize::from)
            .into(),
    );
    let all = args.scenario == "all";
    if all || args.scenario == "b1" {
        results.insert("b1".to_owned(), b1(&args, &directory).await?);
    }
    if all || args.scenario == "b3" {
        results.insert("b3".to_owned(), b3(&args, &directory).await?);
    }
    if all || args.scenario == "b2" {
        results.insert("b2".to_owned(), b2(&args, &directory).await?);
    }
    if all || args.scenario == "b4" {
        results.insert("b4".to_owned(), b4(&args)?);
    }
    if args.scenario == "b5" {
        let b5_args = b5::B5Args {
            orders: args.b5_orders,
            in_flight: args.b5_in_flight,
            wait_seconds: args.b5_wait_seconds,
            max_concurrency: args.max_concurrency,
            directory: std::path::absolute(args.out.join("b5"))?,
        };
        results.insert("b5".to_owned(), b5::b5(&b5_args).await?);
    }
    let text = serde_json::to_string_pretty(&results)?;
    let file = args.out.join(format!("{}-{sync}.json", args.scenario));
    std::fs::write(&file, &text).with_context(|| format!("cannot write {}", file.display()))?;
    let _ = std::fs::remove_dir_all(&directory);
    println!("{text}");
    eprintln!("results in {}", file.display());
    Ok(std::process::ExitCode::SUCCESS)
}
