//! The Lambda API, through the real `aws-sdk-lambda` client (in process).
#![allow(clippy::panic, reason = "test helpers")]

mod common;

use std::time::Duration;

use aws_sdk_lambda::error::ProvideErrorMetadata as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{ExecutionStatus, InvocationType};
use common::{config, engine};
use durable_engine::functions::{Function, FunctionConfig, in_process};

fn client(engine: &durable_engine::Engine) -> aws_sdk_lambda::Client {
    durable_engine::transport::lambda_client(engine)
}

/// A function that waits 50 s (0.5 s at the tests' time scale).
fn sleeper(engine: &durable_engine::Engine) {
    common::sleeper(engine, "Sleeper", config(), Duration::from_secs(50));
}

/// Starts `function` (qualified) with an asynchronous invoke and returns the
/// execution's ARN.
async fn start_by_event(lambda: &aws_sdk_lambda::Client, function: &str) -> String {
    let started = lambda
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::Event)
        .send()
        .await
        .unwrap_or_else(|error| panic!("{function} starts: {error:?}"));
    started
        .durable_execution_arn()
        .unwrap_or_else(|| panic!("{function} is durable"))
        .to_owned()
}

#[tokio::test(start_paused = true)]
async fn a_synchronous_invoke_returns_the_execution_result() {
    let engine = engine();
    sleeper(&engine);
    let output = client(&engine)
        .invoke()
        .function_name("Sleeper:live")
        .payload(Blob::new(r#"{"hello":"world"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(output.status_code(), 200);
    assert_eq!(output.payload().unwrap().as_ref(), br#"{"hello":"world"}"#);
    assert_eq!(output.executed_version(), Some("1"));
    let arn = output.durable_execution_arn().unwrap();
    assert!(
        arn.contains(":function:Sleeper:1/durable-execution/"),
        "{arn}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_durable_function_invoked_unqualified_is_refused() {
    let engine = engine();
    sleeper(&engine);
    let error = client(&engine)
        .invoke()
        .function_name("Sleeper")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidParameterValueException"));
    assert_eq!(
        error.message(),
        Some("You cannot invoke a durable function using an unqualified ARN.")
    );
}

#[tokio::test(start_paused = true)]
async fn an_event_invoke_answers_202_with_the_execution_arn_and_the_name_is_idempotent() {
    let engine = engine();
    sleeper(&engine);
    let lambda = client(&engine);
    let invoke = |payload: &'static str| {
        lambda
            .invoke()
            .function_name("Sleeper")
            .qualifier("$LATEST")
            .invocation_type(InvocationType::Event)
            .durable_execution_name("order-1")
            .payload(Blob::new(payload))
            .send()
    };
    let first = invoke(r#"{"n":1}"#).await.unwrap();
    assert_eq!(first.status_code(), 202);
    let arn = first.durable_execution_arn().unwrap().to_owned();
    let again = invoke(r#"{"n": 1}"#).await.unwrap();
    assert_eq!(
        again.durable_execution_arn(),
        Some(arn.as_str()),
        "same name, same input: same execution"
    );
    let conflict = invoke(r#"{"n":2}"#).await.unwrap_err();
    assert_eq!(
        conflict.code(),
        Some("DurableExecutionAlreadyStartedException")
    );

    let running = lambda
        .get_durable_execution()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(running.status(), &ExecutionStatus::Running);
    assert_eq!(running.durable_execution_name(), "order-1");
    engine.wait(&arn).await.unwrap();
    let done = lambda
        .get_durable_execution()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), &ExecutionStatus::Succeeded);
    assert_eq!(done.result(), Some(r#"{"n":1}"#));
    assert!(done.end_timestamp().is_some());

    let listed = lambda
        .list_durable_executions_by_function()
        .function_name("Sleeper")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.durable_executions().len(), 1);
    assert_eq!(listed.durable_executions()[0].durable_execution_arn(), arn);

    let history = lambda
        .get_durable_execution_history()
        .durable_execution_arn(&arn)
        .send()
        .await
        .unwrap();
    let types: Vec<&str> = history
        .events()
        .iter()
        .map(|event| event.event_type().unwrap().as_str())
        .collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
    assert!(types.contains(&"WaitStarted") && types.contains(&"WaitSucceeded"));
}

#[tokio::test(start_paused = true)]
async fn a_stale_checkpoint_token_is_refused_as_the_sdks_expect() {
    let engine = engine();
    sleeper(&engine);
    let lambda = client(&engine);
    let arn = start_by_event(&lambda, "Sleeper:$LATEST").await;
    let error = lambda
        .checkpoint_durable_execution()
        .durable_execution_arn(&arn)
        .checkpoint_token("bm90LWEtdG9rZW4=")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("InvalidParameterValueException"));
    assert!(
        error
            .message()
            .unwrap()
            .starts_with("Invalid Checkpoint Token"),
        "{:?}",
        error.message()
    );
    let missing = lambda
        .get_durable_execution()
        .durable_execution_arn("arn:nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
}

#[tokio::test(start_paused = true)]
async fn stop_through_the_api_stops_a_waiting_execution() {
    let engine = engine();
    common::sleeper(&engine, "Patient", config(), Duration::from_secs(100_000));
    let lambda = client(&engine);
    let arn = start_by_event(&lambda, "Patient:live").await;
    let stopped = lambda
        .stop_durable_execution()
        .durable_execution_arn(&arn)
        .error(
            aws_sdk_lambda::types::ErrorObject::builder()
                .error_message("enough")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(stopped.stop_timestamp().secs() > 0);
    let record = engine.wait(&arn).await.unwrap();
    assert_eq!(
        record.status,
        durable_engine::model::ExecutionStatus::Stopped
    );
    assert_eq!(
        record.error.unwrap().error_message.as_deref(),
        Some("enough")
    );
}

#[tokio::test(start_paused = true)]
async fn a_plain_function_answers_or_reports_its_error() {
    let engine = engine();
    engine.register(Function::new(
        FunctionConfig::plain("Echo"),
        in_process(
            |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                if event.payload["fail"] == true {
                    return Err("asked to fail".to_owned());
                }
                Ok(event.payload)
            },
        ),
    ));
    let lambda = client(&engine);
    let ok = lambda
        .invoke()
        .function_name("Echo")
        .payload(Blob::new(r#"{"a":1}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.payload().unwrap().as_ref(), br#"{"a":1}"#);
    assert_eq!(ok.function_error(), None);
    let failed = lambda
        .invoke()
        .function_name("Echo")
        .payload(Blob::new(r#"{"fail":true}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.function_error(), Some("Unhandled"));
    let body: serde_json::Value =
        serde_json::from_slice(failed.payload().unwrap().as_ref()).unwrap();
    assert_eq!(body["errorMessage"], "asked to fail");
    let bad = lambda
        .invoke()
        .function_name("Echo")
        .payload(Blob::new("{not json"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("InvalidRequestContentException"));
    let unknown = lambda
        .invoke()
        .function_name("Nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("ResourceNotFoundException"));
    let invocations = engine.store().invocations(Some("Echo")).await.unwrap();
    assert_eq!(invocations.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_route_is_a_not_found_error_not_a_crash() {
    let engine = engine();
    let request = http::Request::put("/2025-12-01/whatever/%ZZ?a=%")
        .body(axum::body::Body::from(&b"\xff\xfe"[..]))
        .unwrap();
    let response = durable_engine::api::handle(&engine, request).await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["x-amzn-ErrorType"],
        "ResourceNotFoundException"
    );
    for (method, path) in [
        (
            http::Method::DELETE,
            "/2025-12-01/durable-executions/x/checkpoint",
        ),
        (http::Method::GET, "/2025-12-01/durable-executions/x/stop"),
    ] {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = durable_engine::api::handle(&engine, request).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "an API error, not a bare status"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_of_a_durable_function_starts_nothing() {
    let engine = engine();
    sleeper(&engine);
    let output = client(&engine)
        .invoke()
        .function_name("Sleeper:live")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(output.status_code(), 204);
    let listed = client(&engine)
        .list_durable_executions_by_function()
        .function_name("Sleeper")
        .send()
        .await
        .unwrap();
    assert!(listed.durable_executions().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_callback_result_that_is_not_text_is_refused() {
    let engine = engine();
    let request = http::Request::post("/2025-12-01/durable-execution-callbacks/abc/succeed")
        .body(axum::body::Body::from(&b"\xff\xfe"[..]))
        .unwrap();
    let response = durable_engine::api::handle(&engine, request).await;
    assert_eq!(response.status(), 400);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains("UTF-8"));
}

#[test]
fn one_engine_at_a_time_drives_a_store_file() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("engine.db");
    let first = durable_engine::store::SqliteStore::open(&path).unwrap();
    let second = durable_engine::store::SqliteStore::open(&path).unwrap_err();
    assert!(
        second.to_string().contains("in use by another engine"),
        "{second}"
    );
    durable_engine::store::SqliteStore::open_shared(&path).expect("a reader may look at it");
    drop(first);
    durable_engine::store::SqliteStore::open(&path)
        .expect("free again once the first engine is gone");
}
