//! The API over HTTP: the connections it takes, how long it waits for
//! them, and which requests it refuses before they reach the API.
//!
//! Requests are not authenticated (signatures are accepted with any
//! credentials), so on a loopback address the server answers only requests
//! a web page cannot forge: a `Host` that is a loopback name (or one allowed
//! by name), and no `Origin` but its own. That stops DNS rebinding and
//! cross-site form posts.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::error::Error;
use crate::limits::MAX_REQUEST_BODY_BYTES;

/// How the server takes connections and which requests it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
    /// Host names answered beyond the loopback ones (`localhost`,
    /// `127.0.0.1`, `[::1]`) and the address the server listens on; `*`
    /// answers any.
    pub allowed_hosts: Vec<String>,
    /// The most connections open at once; more wait to be accepted.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how
    /// long an idle connection stays open.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// How long a shutdown waits for requests under way.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            max_connections: 1024,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_mins(1),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Which requests the server answers, and how long it waits for a body.
#[derive(Debug)]
struct Guard {
    hosts: Vec<String>,
    any_host: bool,
    body_timeout: Duration,
}

impl Guard {
    fn new(address: SocketAddr, allowed: &[String], body_timeout: Duration) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        match address.ip() {
            ip if ip.is_unspecified() || ip.is_loopback() => {}
            IpAddr::V4(ip) => hosts.push(ip.to_string()),
            IpAddr::V6(ip) => hosts.push(format!("[{ip}]")),
        }
        hosts.extend(allowed.iter().map(|host| host.to_ascii_lowercase()));
        Self {
            any_host: allowed.iter().any(|host| host == "*"),
            hosts,
            body_timeout,
        }
    }

    /// Whether `host` (a `Host` header: a name, with or without a port) is
    /// answered.
    fn allows(&self, host: &str) -> bool {
        if self.any_host {
            return true;
        }
        let host = host.to_ascii_lowercase();
        let name = match host.rsplit_once(':') {
            Some((name, port))
                if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') =>
            {
                name
            }
            _ => host.as_str(),
        };
        self.hosts.iter().any(|allowed| *allowed == name)
    }
}

fn refused(message: String) -> Response {
    Error::AccessDenied(message).into_response()
}

/// Refuses a request with a `Host` the server does not answer for, or an
/// `Origin` that is not the server's own; reads its body within the body
/// timeout and the size limit.
async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let Some(host) = headers
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
    else {
        return refused("The request has no Host header.".to_owned());
    };
    if !guard.allows(host) {
        return refused(format!(
            "Host '{host}' is not served here; `orders serve --allow-host NAME` serves another name."
        ));
    }
    if let Some(origin) = headers.get(http::header::ORIGIN) {
        let own = format!("http://{host}");
        if origin.as_bytes() != own.as_bytes() {
            return refused(format!(
                "Origin '{}' is not this server's ({own}): requests from other web pages are refused.",
                String::from_utf8_lossy(origin.as_bytes())
            ));
        }
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site")
    {
        return refused("Requests from other web sites are refused.".to_owned());
    }
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, MAX_REQUEST_BODY_BYTES);
    let body = match tokio::time::timeout(guard.body_timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(error)) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(<dyn std::error::Error>::is::<http_body_util::LengthLimitError>);
            return if too_large {
                Error::payload_too_large(MAX_REQUEST_BODY_BYTES, "for this API").into_response()
            } else {
                Error::invalid(format!("The request body could not be read: {error}"))
                    .into_response()
            };
        }
        Err(_) => {
            let mut response = Error::invalid(format!(
                "The request body did not arrive within {} s.",
                guard.body_timeout.as_secs()
            ))
            .into_response();
            *response.status_mut() = http::StatusCode::REQUEST_TIMEOUT;
            return response;
        }
    };
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the
/// requests under way finish (within `options.shutdown_grace`).
///
/// # Errors
///
/// When the listener's address cannot be read.
pub async fn serve_app(
    app: Router,
    listener: tokio::net::TcpListener,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address = listener.local_addr()?;
    let guard = Arc::new(Guard::new(
        address,
        &options.allowed_hosts,
        options.body_timeout,
    ));
    let app = app.layer(axum::middleware::from_fn_with_state(guard, self::guard));
    let permits = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let connections = TaskTracker::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, _) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, a connection reset before it
                    // was taken: the next accept may succeed.
                    tracing::warn!(%error, "a connection could not be accepted");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                app.clone().oneshot(request.map(Body::new))
            });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(connection);
        connections.spawn(async move {
            let _ = watched.await;
            drop(permit);
        });
    }
    drop(listener);
    connections.close();
    let _ = tokio::time::timeout(options.shutdown_grace, graceful.shutdown()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_server_answers_loopback_names_and_the_allowed_ones() {
        let guard = Guard::new(
            "127.0.0.1:9001".parse().unwrap(),
            &["orders.test".to_owned()],
            Duration::from_secs(1),
        );
        for host in [
            "localhost:9001",
            "127.0.0.1:9001",
            "[::1]:9001",
            "LOCALHOST",
            "orders.test:80",
        ] {
            assert!(guard.allows(host), "{host}");
        }
        for host in [
            "evil.example:9001",
            "evil.example",
            "127.0.0.1.evil.example",
            "",
            "[::2]:9001",
        ] {
            assert!(!guard.allows(host), "{host}");
        }
        assert!(
            Guard::new(
                "127.0.0.1:1".parse().unwrap(),
                &["*".to_owned()],
                Duration::from_secs(1)
            )
            .allows("anything")
        );
    }

    #[test]
    fn a_server_on_an_address_answers_for_that_address() {
        let guard = Guard::new(
            "10.1.2.3:9001".parse().unwrap(),
            &[],
            Duration::from_secs(1),
        );
        assert!(guard.allows("10.1.2.3:9001"));
        assert!(!guard.allows("10.1.2.4:9001"));
    }
}
