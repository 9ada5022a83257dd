//! The API over a real socket: which requests the server refuses before
//! they reach the API, and how long it waits for slow or idle clients.
//!
//! These run on wall-clock time, on purpose: a socket's I/O is outside
//! tokio's clock, which paused would jump past the server's read timeouts
//! while bytes are on their way. `PATIENCE` only stops a test that is
//! stuck; the server's timeouts are what is tested, and they are short.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod common;

use std::time::Duration;

use common::{config, engine, sleeper, start};
use durable_engine::api::ServeOptions;
use durable_engine::model::ExecutionStatus;
use durable_engine::{Engine, arn};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long a test waits for what it expects before failing.
const PATIENCE: Duration = Duration::from_secs(10);

/// Serves `engine` on a fresh loopback port with `options`; returns the
/// address and the signal that stops the server.
async fn served(
    engine: &Engine,
    options: ServeOptions,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let engine = engine.clone();
    engine.clone().spawn(async move {
        durable_engine::api::serve(engine, listener, &options, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (address, stop)
}

/// Sends `request` (raw HTTP/1.1) and returns the whole response.
async fn exchange(address: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response))
        .await
        .expect("the server answers")
        .unwrap();
    String::from_utf8_lossy(&response).into_owned()
}

fn get(path: &str, host: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n")
}

#[tokio::test]
async fn a_request_for_another_host_is_refused_and_loopback_names_are_answered() {
    let engine = engine();
    let (address, _stop) = served(&engine, ServeOptions::default()).await;
    let port = address.port();
    let evil = exchange(
        address,
        &get("/2015-03-31/functions", &format!("evil.example:{port}"), ""),
    )
    .await;
    assert!(evil.starts_with("HTTP/1.1 403"), "{evil}");
    assert!(evil.contains("AccessDeniedException"), "{evil}");
    assert!(evil.contains("--allow-host"), "{evil}");
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let answer = exchange(address, &get("/2015-03-31/functions", &host, "")).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let (allowed, _stop) = served(
        &engine,
        ServeOptions {
            allowed_hosts: vec!["orders.test".to_owned()],
            ..ServeOptions::default()
        },
    )
    .await;
    let answer = exchange(allowed, &get("/2015-03-31/functions", "orders.test", "")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_cross_origin_form_post_cannot_stop_an_execution() {
    let engine = engine();
    sleeper(&engine, "Sleeper", config(), Duration::from_hours(1));
    let arn = start(&engine, "Sleeper", "{}").await;
    let (address, _stop) = served(&engine, ServeOptions::default()).await;
    let host = format!("127.0.0.1:{}", address.port());
    let path = format!(
        "/2025-12-01/durable-executions/{}/stop",
        percent_encoding::utf8_percent_encode(&arn, percent_encoding::NON_ALPHANUMERIC)
    );
    let form = |origin: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        )
    };
    let refused = exchange(address, &form("http://evil.example")).await;
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert_eq!(
        engine.execution(&arn).await.unwrap().status,
        ExecutionStatus::Running
    );
    let sibling = exchange(
        address,
        &get(
            "/2015-03-31/functions",
            &host,
            "Sec-Fetch-Site: cross-site\r\n",
        ),
    )
    .await;
    assert!(sibling.starts_with("HTTP/1.1 403"), "{sibling}");
    let own = exchange(address, &form(&format!("http://{host}"))).await;
    assert!(own.starts_with("HTTP/1.1 200"), "{own}");
    assert_eq!(
        engine.execution(&arn).await.unwrap().status,
        ExecutionStatus::Stopped
    );
    assert!(arn.starts_with(&arn::function_arn(
        "us-east-1",
        "000000000000",
        "Sleeper",
        Some("$LATEST")
    )));
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_or_body_is_let_go() {
    let engine = engine();
    let (address, _stop) = served(
        &engine,
        ServeOptions {
            header_timeout: Duration::from_millis(200),
            body_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        },
    )
    .await;
    // Headers that never end: the server closes the connection.
    let mut stalled = TcpStream::connect(address).await.unwrap();
    stalled
        .write_all(b"GET /2015-03-31/functions HTTP/1.1\r\nHost: local")
        .await
        .unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, stalled.read_to_end(&mut rest))
        .await
        .expect("the connection is closed")
        .unwrap();
    // A body shorter than announced: answered 408.
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(
        format!(
            "POST /2025-12-01/durable-execution-callbacks/x/fail HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 100\r\n\r\n{{",
            address.port()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = vec![0_u8; 1024];
    let read = tokio::time::timeout(PATIENCE, slow.read(&mut answer))
        .await
        .expect("the server answers")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let engine = engine();
    let (address, _stop) = served(
        &engine,
        ServeOptions {
            max_connections: 1,
            ..ServeOptions::default()
        },
    )
    .await;
    let host = format!("127.0.0.1:{}", address.port());
    let keep_alive = format!("GET /2015-03-31/functions HTTP/1.1\r\nHost: {host}\r\n\r\n");
    // The holder connects first and is accepted; the second connection
    // asks before the holder does.
    let mut holder = TcpStream::connect(address).await.unwrap();
    let mut second = TcpStream::connect(address).await.unwrap();
    second
        .write_all(get("/2015-03-31/functions", &host, "").as_bytes())
        .await
        .unwrap();
    holder.write_all(keep_alive.as_bytes()).await.unwrap();
    let mut answer = vec![0_u8; 4096];
    let read = tokio::time::timeout(PATIENCE, holder.read(&mut answer))
        .await
        .expect("the holder is served")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 200"));
    // The holder keeps its connection open: the second, though it asked
    // first, has had no answer.
    let mut nothing = [0_u8; 16];
    assert!(
        matches!(second.try_read(&mut nothing), Err(error) if error.kind() == std::io::ErrorKind::WouldBlock),
        "served beyond the cap"
    );
    drop(holder);
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, second.read_to_end(&mut rest))
        .await
        .expect("served once the holder closes")
        .unwrap();
    assert!(String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 200"));
}
