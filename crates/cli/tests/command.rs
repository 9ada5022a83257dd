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
fn orders_logs_prints_an_orders_lines_from_the_store_by_execution_and_pattern() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("orders.db");
    let db = db.to_str().unwrap();
    let invoke = |payload: &str| {
        let output = orders(&[
            "invoke",
            "--payload",
            &example(payload),
            "--db",
            db,
            "--time-scale",
            "0.01",
            "--quiet",
        ]);
        assert!(output.status.success(), "{output:?}");
    };
    invoke("seed-order.json");
    invoke("test-ny.json");
    let printed = |arguments: &[&str]| {
        let output =
            orders(&[&["logs", "orders-ParallelProcessor", "--db", db], arguments].concat());
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let all = printed(&[]);
    assert_eq!(all.matches("Order confirmed").count(), 2, "{all}");
    let confirmed = printed(&[
        "--filter",
        r#"{ $.operation = "finalize-order" }"#,
        "--json",
    ]);
    let events: Vec<serde_json::Value> = confirmed
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{confirmed}");
    // One execution's lines: its ARN is in each of its JSON records.
    let message: serde_json::Value =
        serde_json::from_str(events[0]["message"].as_str().unwrap()).unwrap();
    let arn = message["span"]["executionArn"].as_str().unwrap();
    let one = printed(&["--execution", arn]);
    assert_eq!(one.matches("Order confirmed").count(), 1, "{one}");
    assert!(one.lines().all(|line| line.contains(arn)), "{one}");
    let missing = orders(&["logs", "Nobody", "--db", db]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("log group does not exist: /aws/lambda/Nobody"),
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

/// Reads `orders serve`'s stderr until it names its endpoint.
fn endpoint_of(stderr: &mut impl std::io::BufRead) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve ended early"
        );
        if let Some(rest) = line.trim().strip_prefix("serving the Lambda API on ") {
            return rest.split_whitespace().next().unwrap().to_owned();
        }
    }
}

#[test]
fn serve_stops_in_order_on_sigterm_and_exits_0() {
    let directory = tempfile::tempdir().unwrap();
    let db = directory.path().join("orders.db");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_orders"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            db.to_str().unwrap(),
        ])
        .current_dir(directory.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(serve.stderr.take().unwrap());
    let endpoint = endpoint_of(&mut stderr);
    let address = endpoint.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!(
            "GET /2015-03-31/functions HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the server answers before it is stopped: {answer}"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let exit = serve.wait().unwrap();
    assert!(exit.success(), "{exit:?}: {rest}");
    assert!(rest.contains("stopping"), "{rest}");
    // The store is whole: another engine opens it at once.
    let listed = orders(&["executions", "list", "--db", db.to_str().unwrap(), "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
}
