//! Function logs and the stack's resources, as CloudWatch Logs and
//! CloudFormation serve them (`POST /`), through the engine's router.
#![allow(clippy::panic, reason = "test helpers")]

mod common;

use std::sync::Arc;

use aws_durable_execution_sdk::DurableContext;
use axum::body::Body;
use common::{config, durable, engine, run};
use durable_engine::Engine;
use durable_engine::functions::{Function, FunctionConfig, Origin, in_process};
use durable_engine::logs::LogLine;
use serde_json::{Value, json};

/// Sends one CloudWatch Logs request and returns its status and JSON body.
async fn logs(engine: &Engine, operation: &str, body: &Value) -> (u16, Value) {
    let request = http::Request::post("/")
        .header("x-amz-target", format!("Logs_20140328.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|error| panic!("{error}"));
    let response = durable_engine::api::handle(engine, request).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

fn messages(answer: &Value) -> Vec<String> {
    answer["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| event["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A plain function `Echo` that writes one line per invocation, naming
/// only its invocation (as a process's output does).
fn echo(engine: &Engine) {
    let keeper = engine.downgrade();
    engine.register(Function::new(
        FunctionConfig::plain("Echo"),
        in_process(move |event: lambda_runtime::LambdaEvent<Value>| {
            let keeper = keeper.clone();
            async move {
                if let Some(engine) = keeper.upgrade() {
                    engine.log(LogLine {
                        request_id: Some(event.context.request_id.clone()),
                        message: format!("echo {}", event.payload),
                        ..LogLine::default()
                    });
                }
                Ok::<_, std::convert::Infallible>(event.payload)
            }
        }),
    ));
}

/// A durable function `Chatty` whose every invocation writes a line
/// naming only its invocation.
fn chatty(engine: &Engine) {
    let keeper = Arc::new(engine.downgrade());
    durable(
        engine,
        "Chatty",
        config(),
        move |word: String, ctx: DurableContext| {
            let keeper = Arc::clone(&keeper);
            async move {
                if let Some(engine) = keeper.upgrade() {
                    engine.log(LogLine {
                        request_id: Some(ctx.lambda_context().request_id.clone()),
                        message: format!("{{\"level\":\"INFO\",\"word\":\"{word}\"}}"),
                        ..LogLine::default()
                    });
                }
                Ok(word)
            }
        },
    );
}

#[tokio::test(start_paused = true)]
async fn a_line_is_kept_in_its_functions_group_with_the_execution_that_wrote_it() {
    let engine = engine();
    chatty(&engine);
    let first = run(&engine, "Chatty", "\"alpha\"").await;
    let second = run(&engine, "Chatty", "\"beta\"").await;
    let group = json!({ "logGroupName": "/aws/lambda/Chatty" });
    let (status, all) = logs(&engine, "FilterLogEvents", &group).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        messages(&all),
        [
            r#"{"level":"INFO","word":"alpha"}"#,
            r#"{"level":"INFO","word":"beta"}"#
        ]
    );
    let event = &all["events"][0];
    assert!(
        event["logStreamName"]
            .as_str()
            .unwrap_or_default()
            .contains("[$LATEST]")
    );
    assert!(
        event["timestamp"].is_i64() && event["eventId"].is_string(),
        "{event}"
    );
    let only_second = json!({ "logGroupName": "/aws/lambda/Chatty", "executionArn": second.arn });
    let (_, answer) = logs(&engine, "FilterLogEvents", &only_second).await;
    assert_eq!(messages(&answer), [r#"{"level":"INFO","word":"beta"}"#]);
    // Deleted with its execution, and only its own lines.
    engine
        .delete(&first.arn)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let (_, left) = logs(&engine, "FilterLogEvents", &group).await;
    assert_eq!(messages(&left), [r#"{"level":"INFO","word":"beta"}"#]);
}

#[tokio::test(start_paused = true)]
async fn filter_patterns_select_lines_as_cloudwatch_does() {
    let engine = engine();
    chatty(&engine);
    for word in ["alpha", "beta", "gamma"] {
        run(&engine, "Chatty", &format!("\"{word}\"")).await;
    }
    let filter =
        |pattern: &str| json!({ "logGroupName": "/aws/lambda/Chatty", "filterPattern": pattern });
    let (_, json_pattern) = logs(&engine, "FilterLogEvents", &filter(r#"{ $.word = "b*" }"#)).await;
    assert_eq!(messages(&json_pattern).len(), 1, "{json_pattern}");
    let (_, terms) = logs(&engine, "FilterLogEvents", &filter("?alpha ?gamma")).await;
    assert_eq!(messages(&terms).len(), 2, "{terms}");
    let (status, refused) = logs(&engine, "FilterLogEvents", &filter("{ $.word = ")).await;
    assert_eq!(status, 400);
    assert_eq!(refused["__type"], "InvalidParameterException");
    // A page of one carries a token to the rest.
    let paged = json!({ "logGroupName": "/aws/lambda/Chatty", "limit": 1 });
    let (_, page) = logs(&engine, "FilterLogEvents", &paged).await;
    let token = page["nextToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{page}"));
    let rest = json!({ "logGroupName": "/aws/lambda/Chatty", "nextToken": token });
    let (_, rest) = logs(&engine, "FilterLogEvents", &rest).await;
    assert_eq!(messages(&page).len() + messages(&rest).len(), 3);
}

#[tokio::test(start_paused = true)]
async fn streams_groups_and_get_log_events_read_a_plain_functions_lines() {
    let engine = engine();
    echo(&engine);
    let lambda = durable_engine::transport::lambda_client(&engine);
    for n in 1..=3 {
        lambda
            .invoke()
            .function_name("Echo")
            .payload(aws_sdk_lambda::primitives::Blob::new(n.to_string()))
            .send()
            .await
            .unwrap_or_else(|error| panic!("{error:?}"));
    }
    let (_, groups) = logs(&engine, "DescribeLogGroups", &json!({})).await;
    assert_eq!(groups["logGroups"][0]["logGroupName"], "/aws/lambda/Echo");
    let (_, streams) = logs(
        &engine,
        "DescribeLogStreams",
        &json!({ "logGroupName": "/aws/lambda/Echo" }),
    )
    .await;
    let stream = streams["logStreams"][0]["logStreamName"]
        .as_str()
        .unwrap_or_else(|| panic!("{streams}"))
        .to_owned();
    // The newest two, oldest first; the backward token reaches the first.
    let (_, newest) = logs(
        &engine,
        "GetLogEvents",
        &json!({ "logGroupName": "/aws/lambda/Echo", "logStreamName": stream, "limit": 2 }),
    )
    .await;
    assert_eq!(messages(&newest), ["echo 2", "echo 3"]);
    let backward = newest["nextBackwardToken"].clone();
    let (_, older) = logs(
        &engine,
        "GetLogEvents",
        &json!({ "logGroupName": "/aws/lambda/Echo", "logStreamName": stream, "nextToken": backward }),
    )
    .await;
    assert_eq!(messages(&older), ["echo 1"]);
    let (status, missing) = logs(
        &engine,
        "FilterLogEvents",
        &json!({ "logGroupName": "/aws/lambda/Nobody" }),
    )
    .await;
    assert_eq!(
        (status, missing["__type"].as_str()),
        (400, Some("ResourceNotFoundException"))
    );
    let (status, unknown) = logs(&engine, "PutLogEvents", &json!({})).await;
    assert_eq!(status, 400, "{unknown}");
}

/// Sends one CloudFormation (Query protocol) request; its status and XML.
async fn cloudformation(engine: &Engine, form: &str) -> (u16, String) {
    let request = http::Request::post("/")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(Body::from(form.to_owned()))
        .unwrap_or_else(|error| panic!("{error}"));
    let response = durable_engine::api::handle(engine, request).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test(start_paused = true)]
async fn a_templates_stack_lists_its_functions_by_logical_id() {
    let engine = engine();
    let mut config = FunctionConfig::plain("shop-Checkout");
    config.origin = Some(Origin {
        stack: "shop".to_owned(),
        logical_id: "CheckoutFunction".to_owned(),
    });
    engine.register(Function::new(
        config,
        in_process(|event: lambda_runtime::LambdaEvent<Value>| async move {
            Ok::<_, std::convert::Infallible>(event.payload)
        }),
    ));
    let (status, listed) = cloudformation(
        &engine,
        "Action=ListStackResources&StackName=shop&Version=2010-05-15",
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert!(
        listed.contains("<LogicalResourceId>CheckoutFunction</LogicalResourceId>"),
        "{listed}"
    );
    assert!(
        listed.contains("<PhysicalResourceId>shop-Checkout</PhysicalResourceId>"),
        "{listed}"
    );
    let (status, described) = cloudformation(
        &engine,
        "Action=DescribeStackResource&StackName=shop&LogicalResourceId=CheckoutFunction",
    )
    .await;
    assert_eq!(status, 200, "{described}");
    assert!(
        described.contains("<StackName>shop</StackName>"),
        "{described}"
    );
    let (status, missing) =
        cloudformation(&engine, "Action=ListStackResources&StackName=nope").await;
    assert_eq!(status, 400);
    assert!(
        missing.contains("<Code>ValidationError</Code>")
            && missing.contains("Stack with id nope does not exist"),
        "{missing}"
    );
    let (status, other) = cloudformation(&engine, "Action=DeleteStack&StackName=shop").await;
    assert_eq!(status, 400);
    assert!(other.contains("InvalidAction"), "{other}");
    // GetFunction shows the tags CloudFormation gives what it creates.
    let function = durable_engine::transport::lambda_client(&engine)
        .get_function()
        .function_name("shop-Checkout")
        .send()
        .await
        .unwrap_or_else(|error| panic!("{error:?}"));
    let tags = function.tags().cloned().unwrap_or_default();
    assert_eq!(
        tags.get("aws:cloudformation:logical-id")
            .map(String::as_str),
        Some("CheckoutFunction")
    );
}
