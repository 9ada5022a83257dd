//! B5: executions at rest. Many seed orders started on `orders serve` as a
//! user starts them (`Event` invocations over HTTP), their durable wait
//! stretched so that all of them wait at once; then `orders serve` killed
//! with SIGKILL and started again while they wait; then the waits end.
//!
//! Measured from outside the server's process, as a user would: the start
//! rate; its resident memory once every order waits (5 s after, and a
//! minute after that, settled) and after the restart;
//! the WAL's size, sampled every 200 ms throughout; the bytes it wrote
//! (`write_bytes` of `/proc/PID/io`) per order; how long the restarted
//! server takes to listen; and the orders that succeeded, each worker
//! called once per order.
//!
//! The orders run the order system built into `orders`, from a copy of its
//! template whose orchestrator may run a day (its own 300 s would end a
//! stretched wait), over a store file of its own.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;
use tokio::sync::Semaphore;

/// How long after every order waits (and five seconds more) the server's
/// memory at rest is read again, once the burst's freed memory has gone
/// back to the system.
const SETTLE: Duration = Duration::from_mins(1);

/// How often the sampler reads the server's memory, writes and WAL.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// What B5 is asked to do.
pub(crate) struct B5Args {
    /// Orders started.
    pub(crate) orders: usize,
    /// Requests in flight while starting them.
    pub(crate) in_flight: usize,
    /// How long the durable wait lasts, in seconds (the order's one second,
    /// stretched).
    pub(crate) wait_seconds: u64,
    /// Durable invocations the server runs at once.
    pub(crate) max_concurrency: usize,
    /// Where the store and the server's output go.
    pub(crate) directory: PathBuf,
}

/// A running `orders serve` and where it listens.
struct Server {
    child: Child,
    url: String,
    listening_after: Duration,
}

/// The server's counters read from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    rss: u64,
    write_bytes: u64,
}

fn proc_sample(pid: u32) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    let field = |text: &str, name: &str| -> u64 {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    Sample {
        rss: field(&status, "VmRSS:") * 1024,
        write_bytes: field(&io, "write_bytes:"),
    }
}

/// Starts `orders serve` on `template` over `db`, and waits until it says
/// where it listens.
fn serve(
    orders: &Path,
    template: &Path,
    db: &Path,
    args: &B5Args,
    log: &Path,
) -> anyhow::Result<Server> {
    let began = Instant::now();
    let mut child = Command::new(orders)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--no-explorer",
            "--stack-name",
            "orders",
        ])
        .arg("--template")
        .arg(template)
        .arg("--db")
        .arg(db)
        .args(["--time-scale", &args.wait_seconds.to_string()])
        .args(["--max-concurrency", &args.max_concurrency.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", orders.display()))?;
    let stderr = child.stderr.take().context("no stderr")?;
    let (found, url) = std::sync::mpsc::channel();
    let log = std::fs::File::create(log)?;
    std::thread::Builder::new()
        .name("b5-serve-log".to_owned())
        .spawn(move || {
            let mut log = std::io::LineWriter::new(log);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving the Lambda API on ").nth(1) {
                    let _ = found.send(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                let _ = std::io::Write::write_all(&mut log, format!("{line}\n").as_bytes());
            }
        })?;
    let url = url
        .recv_timeout(Duration::from_mins(2))
        .context("orders serve did not say where it listens")?;
    Ok(Server {
        child,
        url,
        listening_after: began.elapsed(),
    })
}

/// The built-in template, its orchestrator allowed a day.
fn template(directory: &Path) -> anyhow::Result<PathBuf> {
    let text =
        orders_cli::system::TEMPLATE.replace("ExecutionTimeout: 300", "ExecutionTimeout: 86400");
    anyhow::ensure!(
        text != orders_cli::system::TEMPLATE,
        "the built-in template's ExecutionTimeout changed"
    );
    let path = directory.join("template.yaml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Counts the executions of the store `db` for which `sql` holds.
fn count(db: &Path, sql: &str, now_ms: i64) -> anyhow::Result<usize> {
    let connection =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let counted: i64 = connection.query_row(sql, [now_ms], |row| row.get(0))?;
    Ok(usize::try_from(counted).unwrap_or(0))
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(i64::MAX)
}

/// Waits until `sql` counts `wanted` executions, looking every second.
async fn until_counted(
    db: &Path,
    sql: &str,
    wanted: usize,
    patience: Duration,
) -> anyhow::Result<Duration> {
    let began = Instant::now();
    loop {
        let counted = count(db, sql, now_ms()).unwrap_or(0);
        if counted >= wanted {
            return Ok(began.elapsed());
        }
        anyhow::ensure!(
            began.elapsed() < patience,
            "{counted} of {wanted} after {} s: {sql}",
            patience.as_secs()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Starts the orders with `Event` invocations, `in_flight` at a time.
async fn start_orders(url: &str, args: &B5Args) -> anyhow::Result<Duration> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_max_idle_per_host(args.in_flight)
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let uri: http::Uri =
        format!("{url}/2015-03-31/functions/orders-ParallelProcessor/invocations?Qualifier=prod")
            .parse()?;
    let slots = Arc::new(Semaphore::new(args.in_flight));
    let began = Instant::now();
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..args.orders {
        let slot = Arc::clone(&slots).acquire_owned().await?;
        let client = client.clone();
        let uri = uri.clone();
        let body = crate::order(n);
        requests.spawn(async move {
            let _slot = slot;
            let request = http::Request::post(uri)
                .header("X-Amz-Invocation-Type", "Event")
                .header("Content-Type", "application/json")
                .body(http_body_util::Full::new(bytes::Bytes::from(body)))?;
            let response = client.request(request).await?;
            anyhow::ensure!(
                response.status() == http::StatusCode::ACCEPTED,
                "an Event invocation was answered {}",
                response.status()
            );
            Ok(())
        });
        while let Some(done) = requests.try_join_next() {
            done??;
        }
    }
    while let Some(done) = requests.join_next().await {
        done??;
    }
    Ok(began.elapsed())
}

/// The WAL's size and the server's memory, sampled until stopped.
#[derive(Debug, Default)]
struct Sampler {
    /// The largest WAL while the orders start and go to rest.
    starting: AtomicU64,
    /// The largest WAL at rest, until the SIGKILL.
    at_rest: AtomicU64,
    /// The largest WAL after the restart.
    restarted: AtomicU64,
    /// 0, 1, 2: the phase now.
    phase: AtomicUsize,
    samples: AtomicU64,
}

impl Sampler {
    fn sample(&self, db: &Path) {
        let largest = match self.phase.load(Ordering::Relaxed) {
            0 => &self.starting,
            1 => &self.at_rest,
            _ => &self.restarted,
        };
        largest.fetch_max(sample_wal(db), Ordering::Relaxed);
        self.samples.fetch_add(1, Ordering::Relaxed);
    }

    fn sizes(&self) -> WalSizes {
        let [until_at_rest, at_rest, after_restart] =
            [&self.starting, &self.at_rest, &self.restarted]
                .map(|largest| largest.load(Ordering::Relaxed));
        WalSizes {
            largest_wal_bytes: until_at_rest.max(at_rest).max(after_restart),
            largest_wal_bytes_until_at_rest: until_at_rest,
            largest_wal_bytes_at_rest: at_rest,
            largest_wal_bytes_after_restart: after_restart,
            wal_samples: self.samples.load(Ordering::Relaxed),
        }
    }
}

/// The WAL's largest size, in all and in each phase.
#[derive(Debug, Serialize)]
struct WalSizes {
    largest_wal_bytes: u64,
    largest_wal_bytes_until_at_rest: u64,
    largest_wal_bytes_at_rest: u64,
    largest_wal_bytes_after_restart: u64,
    wal_samples: u64,
}

fn sample_wal(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).map_or(0, |metadata| metadata.len())
}

#[derive(Debug, Serialize)]
struct B5Result {
    orders: usize,
    wait_seconds: u64,
    start_seconds: f64,
    starts_per_second: f64,
    all_waiting_after_seconds: f64,
    rss_5s_after_all_waiting_bytes: u64,
    rss_at_rest_bytes: u64,
    bytes_written_per_order_until_at_rest: u64,
    listening_after_restart_ms: u128,
    rss_after_restart_bytes: u64,
    all_succeeded_after_restart_seconds: f64,
    succeeded: usize,
    worker_calls_per_order: f64,
    bytes_written_per_order: u64,
    #[serde(flatten)]
    wal: WalSizes,
}

/// The server `pid` once every order waits: five seconds after (idle
/// executions go to rest after two), and [`SETTLE`] after that, once the
/// memory the burst freed has gone back to the system.
async fn at_rest(pid: u32) -> (Sample, Sample) {
    tokio::time::sleep(Duration::from_secs(5)).await;
    let soon_after = proc_sample(pid);
    eprintln!("B5: all waiting; RSS {} MB", soon_after.rss >> 20);
    tokio::time::sleep(SETTLE).await;
    let settled = proc_sample(pid);
    eprintln!(
        "B5: {} s later, RSS {} MB",
        SETTLE.as_secs(),
        settled.rss >> 20
    );
    (soon_after, settled)
}

/// Runs B5 with the `orders` binary beside this one.
pub(crate) async fn b5(args: &B5Args) -> anyhow::Result<serde_json::Value> {
    let orders = std::env::current_exe()?.with_file_name("orders");
    anyhow::ensure!(
        orders.exists(),
        "B5 runs {}: build it (cargo build --release --bin orders)",
        orders.display()
    );
    std::fs::create_dir_all(&args.directory)?;
    let template = template(&args.directory)?;
    let db = args.directory.join("b5.db");
    for stale in ["b5.db", "b5.db-wal", "b5.db-shm"] {
        let _ = std::fs::remove_file(args.directory.join(stale));
    }
    let sampler = Arc::new(Sampler::default());
    let sampling = tokio_util::sync::CancellationToken::new();
    let tasks = tokio_util::task::TaskTracker::new();
    {
        let (sampler, sampling, db) = (Arc::clone(&sampler), sampling.clone(), db.clone());
        tasks.spawn(async move {
            while !sampling.is_cancelled() {
                sampler.sample(&db);
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
        });
    }
    eprintln!(
        "B5: {} orders, waits of {} s",
        args.orders, args.wait_seconds
    );
    let mut server = serve(
        &orders,
        &template,
        &db,
        args,
        &args.directory.join("serve-1.log"),
    )?;
    let started_in = start_orders(&server.url, args).await?;
    eprintln!("B5: started in {:.1} s", started_in.as_secs_f64());
    // Every order waits once its due moment is its wait's end, later than now.
    let waiting = "SELECT COUNT(*) FROM executions WHERE status = 'RUNNING' AND due_ms > ?1 + 1000";
    let all_waiting = until_counted(&db, waiting, args.orders, Duration::from_hours(2)).await?;
    sampler.phase.store(1, Ordering::Relaxed);
    let (soon_after, at_rest) = at_rest(server.child.id()).await;
    server.child.kill()?;
    server.child.wait()?;
    sampler.phase.store(2, Ordering::Relaxed);
    let restarted = serve(
        &orders,
        &template,
        &db,
        args,
        &args.directory.join("serve-2.log"),
    )?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after_restart = proc_sample(restarted.child.id());
    eprintln!(
        "B5: listening {} ms after the restart; RSS {} MB",
        restarted.listening_after.as_millis(),
        after_restart.rss >> 20
    );
    let succeeded_sql = "SELECT COUNT(*) FROM executions WHERE status = 'SUCCEEDED' AND ?1 > 0";
    let patience = Duration::from_secs(args.wait_seconds) + Duration::from_hours(1);
    let finished = until_counted(&db, succeeded_sql, args.orders, patience).await?;
    let ended = proc_sample(restarted.child.id());
    let mut restarted = restarted;
    restarted.child.kill()?;
    restarted.child.wait()?;
    sampling.cancel();
    tasks.close();
    tasks.wait().await;
    let succeeded = count(&db, succeeded_sql, 1)?;
    let worker_calls = count(
        &db,
        "SELECT COUNT(*) FROM invocations WHERE function_name = 'orders-InventoryCheck' AND ?1 > 0",
        1,
    )?;
    let written = at_rest.write_bytes + ended.write_bytes;
    let orders_u64 = u64::try_from(args.orders.max(1)).unwrap_or(1);
    #[expect(clippy::cast_precision_loss, reason = "counts and seconds")]
    let result = B5Result {
        orders: args.orders,
        wait_seconds: args.wait_seconds,
        start_seconds: started_in.as_secs_f64(),
        starts_per_second: args.orders as f64 / started_in.as_secs_f64(),
        all_waiting_after_seconds: (started_in + all_waiting).as_secs_f64(),
        rss_5s_after_all_waiting_bytes: soon_after.rss,
        rss_at_rest_bytes: at_rest.rss,
        bytes_written_per_order_until_at_rest: at_rest.write_bytes / orders_u64,
        listening_after_restart_ms: restarted.listening_after.as_millis(),
        rss_after_restart_bytes: after_restart.rss,
        all_succeeded_after_restart_seconds: finished.as_secs_f64(),
        succeeded,
        worker_calls_per_order: worker_calls as f64 / args.orders.max(1) as f64,
        bytes_written_per_order: written / orders_u64,
        wal: sampler.sizes(),
    };
    Ok(serde_json::to_value(result)?)
}
