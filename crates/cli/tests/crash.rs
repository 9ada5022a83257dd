//! Crash recovery: `orders invoke` killed with SIGKILL and run again.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test helpers")]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use durable_engine::store::{SqliteStore, Store as _};

fn orders(db: &Path, name: &str, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orders"));
    let payload = format!(
        "{}/../../examples/seed-order.json",
        env!("CARGO_MANIFEST_DIR")
    );
    command
        .args(["invoke", "--payload", &payload, "--db"])
        .arg(db)
        .args(["--name", name])
        .args(extra);
    command
}

/// Runs `orders invoke` until a progress line on stderr contains every one
/// of `needles`, then kills it with SIGKILL.
fn run_until_killed(mut command: Command, needles: &[&str]) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (seen, lines) = mpsc::channel();
    let wanted: Vec<String> = needles.iter().map(|needle| (*needle).to_owned()).collect();
    let reader = std::thread::Builder::new()
        .name("stderr".to_owned())
        .spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if wanted.iter().all(|needle| line.contains(needle.as_str())) {
                    let _ = seen.send(line);
                    return;
                }
            }
        })
        .unwrap();
    let line = lines.recv_timeout(Duration::from_secs(30));
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    assert!(
        line.is_ok(),
        "the progress line with {needles:?} never came"
    );
}

/// Runs `orders invoke` to the end and returns its stdout as JSON.
fn run_to_the_end(mut command: Command) -> serde_json::Value {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn worker_calls(db: &Path, function: &str) -> usize {
    let store = SqliteStore::open_shared(db).unwrap();
    store.invocations(Some(function)).await.unwrap().len()
}

/// How many times each step started, by name.
async fn step_starts(db: &Path) -> std::collections::BTreeMap<String, usize> {
    let store = SqliteStore::open_shared(db).unwrap();
    let executions = store
        .list(durable_engine::store::ListFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(executions.len(), 1);
    let events = store
        .events(&executions[0].arn, 1, 10_000, false)
        .await
        .unwrap();
    let mut starts = std::collections::BTreeMap::new();
    for event in events
        .iter()
        .filter(|event| event.event_type == "StepStarted")
    {
        *starts
            .entry(event.name.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    starts
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_during_the_wait_the_order_resumes_without_running_anything_again() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("orders.db");
    run_until_killed(
        orders(&db, "crash-in-wait", &["--time-scale", "3"]),
        &["wait-before-finalize", "STARTED"],
    );
    let result = run_to_the_end(orders(&db, "crash-in-wait", &[]));
    assert_eq!(result["success"], true);
    assert_eq!(result["result"]["status"], "CONFIRMED");
    for function in [
        "orders-InventoryCheck",
        "orders-PaymentValidation",
        "orders-ShippingCalculation",
        "orders-TaxCalculation",
    ] {
        assert_eq!(
            worker_calls(&db, function).await,
            1,
            "{function} was called once"
        );
    }
    for (step, starts) in step_starts(&db).await {
        assert_eq!(starts, 1, "{step} ran once");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_during_the_parallel_branches_no_completed_branch_runs_again() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("orders.db");
    let slow = [
        "--latency",
        "inventory=0",
        "--latency",
        "tax=0",
        "--latency",
        "shipping=20000",
    ];
    run_until_killed(
        orders(&db, "crash-in-parallel", &slow),
        &["check-inventory", "STEP", "SUCCEEDED"],
    );
    let result = run_to_the_end(orders(
        &db,
        "crash-in-parallel",
        &["--latency", "shipping=0"],
    ));
    assert_eq!(result["success"], true);
    assert_eq!(result["result"]["status"], "CONFIRMED");
    assert_eq!(
        worker_calls(&db, "orders-InventoryCheck").await,
        1,
        "the completed inventory branch was not called again"
    );
    assert_eq!(
        worker_calls(&db, "orders-ShippingCalculation").await,
        1,
        "the interrupted call left no record; it ran once after"
    );
    let starts = step_starts(&db).await;
    for step in [
        "validate-input",
        "calculate-subtotal",
        "check-inventory",
        "validate-results",
        "calculate-final-totals",
        "finalize-order",
    ] {
        assert_eq!(starts.get(step), Some(&1), "{step} ran once: {starts:?}");
    }
}
