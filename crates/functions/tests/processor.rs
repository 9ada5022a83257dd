//! `ParallelProcessor` end to end on the SDK's in-memory `LocalRunner`,
//! the workers answering in process.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test helpers")]

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_durable_execution_sdk::DurableContext;
use aws_durable_execution_sdk::test_util::{LocalRunner, TestResult};
use order_domain::inventory::Catalog;
use order_domain::outcome::Confirmation;
use order_domain::{AuthorizationCode, Money, ReservationId};
use order_functions::{
    InventoryCheck, InvokeFailure, ParallelProcessor, PaymentValidation, ProcessorOptions,
    RetryPolicy, ShippingCalculation, TaxCalculation, WorkerClient, WorkerFunction,
    WorkerFunctions,
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The seed's four test orders, as `examples/` holds them.
const SEED_1: &str = include_str!("../../../examples/seed-order.json");
const SEED_2: &str = include_str!("../../../examples/test-ny.json");
const SEED_3: &str = include_str!("../../../examples/test-bulk.json");
const SEED_4: &str = include_str!("../../../examples/test-invalid.json");

/// How a worker misbehaves in a test.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Fails this many calls, then answers.
    FailTimes(u32),
    /// Never answers.
    Hang,
    /// Answers with this body.
    Answer(&'static str),
}

/// The four workers, answering in process, counting their calls.
#[derive(Default)]
struct Workers {
    faults: Mutex<HashMap<&'static str, Fault>>,
    calls: Mutex<HashMap<String, u32>>,
}

impl Workers {
    fn with_fault(function: &'static str, fault: Fault) -> Arc<Self> {
        let workers = Self::default();
        workers.faults.lock().unwrap().insert(function, fault);
        Arc::new(workers)
    }

    fn calls(&self, function: &str) -> u32 {
        self.calls
            .lock()
            .unwrap()
            .get(function)
            .copied()
            .unwrap_or(0)
    }
}

struct Client(Arc<Workers>);

static INVENTORY: std::sync::LazyLock<InventoryCheck> =
    std::sync::LazyLock::new(|| InventoryCheck::new(Catalog::default(), Duration::ZERO));
static PAYMENT: std::sync::LazyLock<PaymentValidation> =
    std::sync::LazyLock::new(|| PaymentValidation::new(Duration::ZERO));

impl WorkerClient for Client {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeFailure> {
        let call = {
            let mut calls = self.0.calls.lock().unwrap();
            let count = calls.entry(function.to_owned()).or_default();
            *count += 1;
            *count
        };
        let fault = self.0.faults.lock().unwrap().get(function).copied();
        match fault {
            Some(Fault::FailTimes(times)) if call <= times => {
                return Err(InvokeFailure::Transport(format!(
                    "connection refused (call {call})"
                )));
            }
            Some(Fault::Hang) => std::future::pending::<()>().await,
            Some(Fault::Answer(body)) => return Ok(body.as_bytes().to_vec()),
            _ => {}
        }
        let request = RawValue::from_string(String::from_utf8(payload).unwrap()).unwrap();
        let answer = match function {
            "InventoryCheck" => INVENTORY.handle(&request).await,
            "PaymentValidation" => PAYMENT.handle(&request).await,
            "ShippingCalculation" => {
                ShippingCalculation::new(Duration::ZERO)
                    .handle(&request)
                    .await
            }
            "TaxCalculation" => TaxCalculation::new(Duration::ZERO).handle(&request).await,
            other => return Err(InvokeFailure::Transport(format!("no function {other}"))),
        };
        Ok(answer.get().as_bytes().to_vec())
    }
}

fn options() -> ProcessorOptions {
    ProcessorOptions {
        retry: RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(4),
        },
        call_timeout: Duration::from_millis(50),
        ..ProcessorOptions::new(WorkerFunctions::by_name())
    }
}

/// Runs `payload` through the orchestrator on a `LocalRunner`.
async fn run_with(workers: Arc<Workers>, payload: &str) -> TestResult<Box<RawValue>> {
    let processor = ParallelProcessor::new(Client(workers), options());
    let event: Option<Box<RawValue>> = serde_json::from_str(payload).unwrap();
    LocalRunner::new()
        .run(
            move |event: Option<Box<RawValue>>, ctx: DurableContext| {
                let processor = processor.clone();
                async move {
                    let response = processor.process(event, ctx).await?;
                    Ok(serde_json::value::to_raw_value(&response)?)
                }
            },
            event,
        )
        .await
}

async fn run(payload: &str) -> (TestResult<Box<RawValue>>, serde_json::Value) {
    let result = run_with(Arc::default(), payload).await;
    assert!(
        result.is_success(),
        "{:?} {:?}",
        result.error_type(),
        result.error_message()
    );
    let json = serde_json::from_str(result.output().unwrap().get()).unwrap();
    (result, json)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Confirmed {
    success: bool,
    order_id: String,
    result: Confirmation,
    message: String,
    processing_time_ms: u64,
    timestamp: String,
}

fn money(text: &str) -> Money {
    text.parse().unwrap()
}

async fn confirmed(payload: &str) -> (TestResult<Box<RawValue>>, Confirmed) {
    let (result, _) = run(payload).await;
    let confirmed: Confirmed = serde_json::from_str(result.output().unwrap().get()).unwrap();
    (result, confirmed)
}

#[tokio::test(start_paused = true)]
async fn the_seed_orders_are_confirmed_with_spec_totals() {
    for (
        payload,
        order_id,
        subtotal,
        (shipping, carrier, days),
        (tax, rate, jurisdiction),
        total,
    ) in [
        (
            SEED_1,
            "ORD-12345",
            "109.97",
            ("12.74", "USPS", 2),
            ("7.97", "0.0725", "CA State Tax"),
            "130.68",
        ),
        (
            SEED_2,
            "ORD-NY-001",
            "100.00",
            ("8.24", "USPS", 4),
            ("4.00", "0.04", "NY State Tax"),
            "112.24",
        ),
        (
            SEED_3,
            "ORD-BULK-001",
            "339.90",
            ("28.49", "FedEx", 3),
            ("21.24", "0.0625", "TX State Tax"),
            "389.63",
        ),
    ] {
        let (_, response) = confirmed(payload).await;
        assert!(response.success);
        assert_eq!(response.order_id, order_id);
        assert_eq!(
            response.message,
            "Order processed successfully with parallel execution"
        );
        let result = response.result;
        assert_eq!(result.order_id, order_id);
        assert_eq!(result.status, "CONFIRMED");
        assert!(result.inventory.available);
        assert!(ReservationId::is_well_formed(
            result.inventory.reservation_id.as_str()
        ));
        assert!(result.payment.valid);
        assert!(AuthorizationCode::is_well_formed(
            result.payment.authorization_code.as_str()
        ));
        assert_eq!(result.shipping.cost, money(shipping));
        assert_eq!(result.shipping.carrier, carrier);
        assert_eq!(result.shipping.estimated_days, days);
        assert_eq!(result.tax.amount, money(tax));
        assert_eq!(result.tax.rate.to_string(), rate);
        assert_eq!(result.tax.jurisdiction, jurisdiction);
        assert_eq!(result.totals.subtotal, money(subtotal));
        assert_eq!(result.totals.shipping, money(shipping));
        assert_eq!(result.totals.tax, money(tax));
        assert_eq!(result.totals.total, money(total));
        assert_eq!(result.totals.currency, "USD");
        assert!(time_is_rfc3339(&result.confirmed_at));
        assert_eq!(response.timestamp, result.confirmed_at);
        assert!(response.processing_time_ms < 60_000);
    }
}

fn time_is_rfc3339(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

#[tokio::test(start_paused = true)]
async fn seed_test_4_is_a_validation_error() {
    let (result, json) = run(SEED_4).await;
    assert_eq!(json["success"], false);
    assert_eq!(json["error"]["name"], "ValidationError");
    assert_eq!(
        json["error"]["message"],
        "items array is required and must not be empty"
    );
    assert_eq!(json["error"]["field"], "items");
    assert_eq!(json["message"], "Order processing failed");
    assert!(json["processingTimeMs"].is_u64());
    assert!(time_is_rfc3339(json["timestamp"].as_str().unwrap()));
    let ops = result.operations();
    assert_eq!(ops.len(), 1, "nothing runs after a failed validation");
    assert_eq!(ops[0].name(), Some("validate-input"));
    assert!(ops[0].failed());
    assert_eq!(ops[0].error_type(), Some("ValidationError"));
    assert_eq!(ops[0].attempt(), 0, "a validation error is never retried");
}

#[tokio::test(start_paused = true)]
async fn every_validation_rule_ends_the_order_with_its_message_and_field() {
    let customer = r#""customer": {"id": "C-1", "address": {"state": "CA"}}"#;
    let item =
        |fields: &str| format!(r#"{{"orderId": "O-1", "items": [{{{fields}}}], {customer}}}"#);
    let cases = [
        (
            "null".to_owned(),
            "Event object is null or undefined",
            "event",
        ),
        (
            "[1]".to_owned(),
            "Event object is null or undefined",
            "event",
        ),
        (
            format!(r#"{{"items": [{{}}], {customer}}}"#),
            "orderId is required",
            "orderId",
        ),
        (
            format!(r#"{{"orderId": "O-1", {customer}}}"#),
            "items array is required and must not be empty",
            "items",
        ),
        (
            r#"{"orderId": "O-1", "items": [{}], "customer": {}}"#.to_owned(),
            "customer.id is required",
            "customer.id",
        ),
        (
            r#"{"orderId": "O-1", "items": [{}], "customer": {"id": "C-1"}}"#.to_owned(),
            "customer.address.state is required for tax calculation",
            "customer.address.state",
        ),
        (
            item(r#""quantity": 1, "price": 1"#),
            "items[0].productId is required",
            "items[0].productId",
        ),
        (
            item(r#""productId": "P", "quantity": 0.5, "price": 1"#),
            "items[0].quantity must be an integer from 1 to 10000",
            "items[0].quantity",
        ),
        (
            item(r#""productId": "P", "quantity": 1, "price": 0.001"#),
            "items[0].price must be a non-negative amount with at most 2 decimals",
            "items[0].price",
        ),
    ];
    for (payload, message, field) in cases {
        let (_, json) = run(&payload).await;
        assert_eq!(json["error"]["name"], "ValidationError", "{payload}");
        assert_eq!(json["error"]["message"], message, "{payload}");
        assert_eq!(json["error"]["field"], field, "{payload}");
    }
}

fn order(items: &str, state: &str, method: &str) -> String {
    format!(
        r#"{{"orderId": "ORD-X", "items": [{items}], "customer": {{"id": "C-1", "address": {{"state": "{state}"}}, "paymentMethod": "{method}"}}}}"#
    )
}

async fn rejection(payload: &str) -> Vec<(String, String)> {
    let (result, json) = run(payload).await;
    assert_eq!(json["success"], false);
    assert_eq!(json["orderId"], "ORD-X");
    assert_eq!(json["message"], "Order validation failed");
    assert!(json["processingTimeMs"].is_u64());
    let names: Vec<_> = result
        .operations()
        .iter()
        .filter_map(|op| op.name())
        .collect();
    assert!(
        !names.contains(&"wait-before-finalize"),
        "a rejected order does not wait: {names:?}"
    );
    json["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|failure| {
            (
                failure["worker"].as_str().unwrap().to_owned(),
                failure["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Checks that a Californian credit-card order of `items` is rejected by
/// inventory alone.
async fn rejected_by_inventory(items: &str) {
    let failures = rejection(&order(items, "CA", "credit_card")).await;
    assert_eq!(
        failures,
        vec![("inventory".to_owned(), "Some items unavailable".to_owned())]
    );
}

#[tokio::test(start_paused = true)]
async fn an_unknown_product_is_rejected_by_inventory() {
    rejected_by_inventory(r#"{"productId": "PROD-404", "quantity": 1, "price": 5}"#).await;
}

#[tokio::test(start_paused = true)]
async fn too_little_stock_is_rejected_by_inventory() {
    rejected_by_inventory(r#"{"productId": "PROD-001", "quantity": 501, "price": 5}"#).await;
}

#[tokio::test(start_paused = true)]
async fn each_payment_decline_is_reported_with_its_reason() {
    for (items, method, reason) in [
        (
            r#"{"productId": "PROD-001", "quantity": 1, "price": 5}"#,
            "bitcoin",
            "Payment method 'bitcoin' is not accepted",
        ),
        (
            r#"{"productId": "PROD-001", "quantity": 1, "price": 0}"#,
            "paypal",
            "Amount must be greater than 0",
        ),
        (
            r#"{"productId": "PROD-001", "quantity": 2, "price": 5000.01}"#,
            "debit_card",
            "Amount exceeds the authorization limit of 10000.00",
        ),
    ] {
        let failures = rejection(&order(items, "WA", method)).await;
        assert_eq!(
            failures,
            vec![("payment".to_owned(), reason.to_owned())],
            "{method}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn two_workers_saying_no_are_both_reported() {
    let failures = rejection(&order(
        r#"{"productId": "PROD-404", "quantity": 1, "price": 5}"#,
        "CA",
        "cash",
    ))
    .await;
    assert_eq!(
        failures,
        vec![
            ("inventory".to_owned(), "Some items unavailable".to_owned()),
            (
                "payment".to_owned(),
                "Payment method 'cash' is not accepted".to_owned()
            ),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_fails_twice_is_retried_and_the_order_confirmed() {
    let workers = Workers::with_fault("PaymentValidation", Fault::FailTimes(2));
    let result = run_with(Arc::clone(&workers), SEED_1).await;
    assert!(result.is_success());
    let json: serde_json::Value = serde_json::from_str(result.output().unwrap().get()).unwrap();
    assert_eq!(json["success"], true);
    assert_eq!(workers.calls("PaymentValidation"), 3);
    assert_eq!(workers.calls("InventoryCheck"), 1);
    let payment_step = result
        .operations()
        .iter()
        .find(|op| op.name() == Some("validate-payment") && op.op_type() == "Step")
        .unwrap();
    assert!(payment_step.succeeded());
    assert_eq!(payment_step.attempt(), 2, "two retries before the answer");
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_never_answers_ends_the_order_with_a_worker_invocation_error() {
    let workers = Workers::with_fault("PaymentValidation", Fault::Hang);
    let result = run_with(Arc::clone(&workers), SEED_1).await;
    assert!(
        result.is_success(),
        "the order failed; the execution did not"
    );
    let json: serde_json::Value = serde_json::from_str(result.output().unwrap().get()).unwrap();
    assert_eq!(json["success"], false);
    assert_eq!(json["error"]["name"], "WorkerInvocationError");
    assert_eq!(json["error"]["workerName"], "PaymentValidation");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("PaymentValidation worker error: "),
        "{message}"
    );
    assert!(message.contains("did not answer within 50 ms"), "{message}");
    assert_eq!(json["message"], "Order processing failed");
    assert_eq!(
        workers.calls("PaymentValidation"),
        3,
        "every attempt of the retry policy"
    );
}

#[tokio::test(start_paused = true)]
async fn the_operations_are_spec_names_in_spec_order() {
    let (result, _) = run(SEED_1).await;
    let top: Vec<(&str, &str)> = result
        .operations()
        .iter()
        .filter(|op| {
            ![
                "check-inventory",
                "validate-payment",
                "calculate-shipping",
                "calculate-tax",
            ]
            .contains(&op.name().unwrap_or(""))
        })
        .map(|op| (op.name().unwrap_or(""), op.op_type()))
        .collect();
    assert_eq!(
        top,
        vec![
            ("validate-input", "Step"),
            ("calculate-subtotal", "Step"),
            ("parallel-workers", "Context"),
            ("validate-results", "Step"),
            ("calculate-final-totals", "Step"),
            ("wait-before-finalize", "Wait"),
            ("finalize-order", "Step"),
        ]
    );
    for branch in [
        "check-inventory",
        "validate-payment",
        "calculate-shipping",
        "calculate-tax",
    ] {
        let kinds: Vec<&str> = result
            .operations()
            .iter()
            .filter(|op| op.name() == Some(branch))
            .map(aws_durable_execution_sdk::test_util::TestOperation::op_type)
            .collect();
        assert_eq!(
            kinds,
            vec!["Context", "Step"],
            "{branch}: a child context holding one step"
        );
    }
}

/// A writer collecting log lines in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn each_step_body_runs_once_and_each_log_line_appears_once() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::registry().with(order_functions::telemetry::json_layer(move || {
            writer.clone()
        }));
    let _guard = tracing::subscriber::set_default(subscriber);

    let workers = Arc::new(Workers::default());
    let result = run_with(Arc::clone(&workers), SEED_1).await;
    assert!(result.is_success());
    assert!(
        result.invocation_count() >= 2,
        "the wait suspends, so the order is replayed"
    );

    let lines = captured.lines();
    let count = |message: &str| {
        lines
            .iter()
            .filter(|line| line["message"] == message)
            .count()
    };
    for step in [
        "validate-input",
        "calculate-subtotal",
        "validate-results",
        "calculate-final-totals",
        "finalize-order",
    ] {
        let runs = lines
            .iter()
            .filter(|line| line["message"] == "running step" && line["operation"] == step)
            .count();
        assert_eq!(runs, 1, "{step} ran {runs} times");
    }
    for function in [
        "InventoryCheck",
        "PaymentValidation",
        "ShippingCalculation",
        "TaxCalculation",
    ] {
        assert_eq!(workers.calls(function), 1, "{function}");
        assert_eq!(
            count(&format!("Invoking {function} worker")),
            1,
            "{function}"
        );
    }
    assert_eq!(count("Starting parallel worker execution"), 1);
    assert_eq!(count("Parallel execution completed"), 1);

    let started = lines
        .iter()
        .find(|line| line["message"] == "Starting parallel worker execution")
        .unwrap();
    assert_eq!(started["orderId"], "ORD-12345");
    assert_eq!(started["operation"], "parallel-workers");
    assert!(
        started["span"]["executionArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:lambda:")
    );
    assert!(started["span"].get("requestId").is_some());
    let invoking = lines
        .iter()
        .find(|line| line["message"] == "Invoking TaxCalculation worker")
        .unwrap();
    assert_eq!(invoking["operation"], "calculate-tax");
    assert!(invoking["span"]["executionArn"].is_string());
}

#[tokio::test(start_paused = true)]
async fn an_absurd_amount_from_a_worker_fails_the_order_naming_it_without_a_panic() {
    let workers = Workers::with_fault(
        "TaxCalculation",
        Fault::Answer(
            r#"{"success":true,"amount":79228162514264337593543950335,"rate":0.0725,"jurisdiction":"CA State Tax"}"#,
        ),
    );
    let result = run_with(workers, SEED_1).await;
    assert!(
        !result.is_success(),
        "{:?}",
        result.output().map(|r| r.get().to_owned())
    );
    let message = result.error_message().unwrap_or_default().to_owned();
    assert!(
        message.contains("79228162514264337593543950335") && message.contains("does not fit"),
        "{message}"
    );
}
