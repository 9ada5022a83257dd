//! `orders` as a user runs it: what goes to stdout and stderr, and the
//! errors bad input gets.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::process::{Command, Output};

fn orders(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orders"))
        .args(arguments)
        .output()
        .unwrap()
}

fn example(name: &str) -> String {
    format!("{}/../../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn with_logs_stdout_carries_only_the_result_and_the_lines_go_to_stderr() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("orders.db");
    let output = orders(&[
        "invoke",
        "--payload",
        &example("seed-order.json"),
        "--db",
        db.to_str().unwrap(),
        "--time-scale",
        "0.01",
        "--logs",
    ]);
    assert!(output.status.success());
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["success"], true);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#""message":"Starting parallel worker execution""#),
        "{stderr}"
    );
}

#[test]
fn an_order_larger_than_a_synchronous_invocation_takes_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("orders.db");
    let payload = directory.path().join("large.json");
    let padding = "x".repeat(6 * 1024 * 1024);
    std::fs::write(
        &payload,
        format!(r#"{{"orderId": "O", "padding": "{padding}"}}"#),
    )
    .unwrap();
    let output = orders(&[
        "invoke",
        "--payload",
        payload.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Request must be smaller than 6291456 bytes"),
        "{stderr}"
    );
}
