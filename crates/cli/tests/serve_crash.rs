//! Crash recovery of `orders serve` with executions at rest: the engine is
//! killed with SIGKILL again and again while orders start, go to rest in
//! their durable wait, are loaded again as it ends, and complete. Each
//! order must end once, and nothing whose completion was recorded may run
//! again.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test helpers")]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use durable_engine::store::{ListFilter, SqliteStore, Store as _};

const ORDERS: usize = 24;

const WORKERS: [&str; 4] = [
    "orders-InventoryCheck",
    "orders-PaymentValidation",
    "orders-ShippingCalculation",
    "orders-TaxCalculation",
];

/// `orders serve` on `db`, with its API's address once it listens.
fn serve(db: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orders"))
        .args(["serve", "--addr", "127.0.0.1:0", "--no-explorer"])
        .arg("--db")
        .arg(db)
        // The one-second wait lasts six: long enough for the execution to
        // go to rest (two idle seconds) before its timer loads it again.
        .args(["--time-scale", "6"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (found, address) = mpsc::channel();
    std::thread::Builder::new()
        .name("serve-stderr".to_owned())
        .spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving the Lambda API on http://").nth(1) {
                    let _ = found.send(rest.split_whitespace().next().unwrap().to_owned());
                }
            }
        })
        .unwrap();
    let address = address.recv_timeout(Duration::from_mins(1)).unwrap();
    (child, address)
}

/// Starts order `n` as an `Event` invocation; whether the engine took it.
fn start_order(address: &str, n: usize) -> bool {
    let seed = std::fs::read_to_string(format!(
        "{}/../../examples/seed-order.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut order: serde_json::Value = serde_json::from_str(&seed).unwrap();
    order["orderId"] = format!("ORD-CRASH-{n}").into();
    let body = order.to_string();
    let Ok(mut stream) = TcpStream::connect(address) else {
        return false;
    };
    let request = format!(
        "POST /2015-03-31/functions/orders-ParallelProcessor/invocations?Qualifier=prod HTTP/1.1\r\n\
         Host: {address}\r\nX-Amz-Invocation-Type: Event\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut answer = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 202")
}

fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

async fn finished(db: &Path) -> usize {
    let store = SqliteStore::open_shared(db).unwrap();
    store
        .list(ListFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .filter(|record| record.status.is_terminal())
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_again_and_again_each_order_ends_once_and_nothing_runs_twice() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("orders.db");
    let mut started = 0;
    let mut kills = 0;
    // Six lives of a second to four each: orders start in the first four,
    // and every life ends with SIGKILL, whatever is under way.
    for life in 0..6_u64 {
        let (child, address) = serve(&db);
        let began = Instant::now();
        let lasts = Duration::from_millis(1000 + (life * 577) % 3000);
        while began.elapsed() < lasts {
            if life < 4 && started < ORDERS * (usize::try_from(life).unwrap() + 1) / 4 {
                if start_order(&address, started) {
                    started += 1;
                }
            } else {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        kill(child);
        kills += 1;
    }
    assert_eq!(started, ORDERS, "every order was taken");
    let (child, _) = serve(&db);
    let deadline = Instant::now() + Duration::from_mins(2);
    while finished(&db).await < ORDERS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    kill(child);

    let store = SqliteStore::open_shared(&db).unwrap();
    let executions = store
        .list(ListFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(executions.len(), ORDERS, "one execution per order");
    for record in &executions {
        assert_eq!(
            record.status.as_str(),
            "SUCCEEDED",
            "{} after {kills} kills",
            record.arn
        );
        let events = store.events(&record.arn, 1, 10_000, false).await.unwrap();
        let ids: Vec<u64> = events.iter().map(|event| event.event_id).collect();
        assert_eq!(
            ids,
            (1..=u64::try_from(ids.len()).unwrap()).collect::<Vec<_>>(),
            "{}: event ids follow each other",
            record.arn
        );
        let count = |kind: &str| {
            let mut by_name = BTreeMap::<String, usize>::new();
            for event in events.iter().filter(|event| event.event_type == kind) {
                *by_name
                    .entry(event.name.clone().unwrap_or_default())
                    .or_default() += 1;
            }
            by_name
        };
        assert_eq!(
            events
                .iter()
                .filter(|event| event.event_type.starts_with("Execution")
                    && event.event_type != "ExecutionStarted")
                .count(),
            1,
            "{}: it ended once",
            record.arn
        );
        for (kind, expected) in [
            ("StepSucceeded", 9),
            ("ContextSucceeded", 5),
            ("WaitSucceeded", 1),
        ] {
            let by_name = count(kind);
            assert_eq!(
                by_name.values().sum::<usize>(),
                expected,
                "{}: {kind} {by_name:?}",
                record.arn
            );
            assert!(
                by_name.values().all(|&n| n == 1),
                "{}: each {kind} once: {by_name:?}",
                record.arn
            );
        }
    }
    // A worker step cut short by a kill runs again, as steps do on Lambda
    // (at least once): its worker may then have completed twice. None was
    // left uncalled.
    for function in WORKERS {
        let calls = store.invocations(Some(function)).await.unwrap().len();
        assert!(calls >= ORDERS, "{function} completed {calls} times");
    }
}
