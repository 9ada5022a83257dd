//! The four workers: plain functions applying the domain's rules.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use order_domain::inventory::Catalog;
use order_domain::payment::PaymentAnswer;
use order_domain::request::{
    BadRequestAnswer, InventoryRequest, MalformedRequest, PaymentRequest, ShippingRequest,
    TaxRequest,
};
use order_domain::shipping::{self, ShippingAnswer};
use order_domain::tax::{self, TaxAnswer};
use order_domain::{AuthorizationCode, Moment, ReservationId, StateCode, Worker};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::settings::{self, SettingsError, Vars};

/// The environment variable that sets a worker's simulated latency, in ms.
pub const LATENCY_VARIABLE: &str = "SIMULATED_LATENCY_MS";

/// The environment variable naming a catalog file that replaces the
/// built-in one (a JSON object of product ids to stock levels).
pub const CATALOG_VARIABLE: &str = "CATALOG_FILE";

/// One of the four workers, callable with a raw JSON request.
pub trait WorkerFunction: Send + Sync + 'static {
    /// Which worker this is.
    const WORKER: Worker;

    /// Answers `request`: the worker's answer, or
    /// `{"success": false, "statusCode": 400, ...}` when it is malformed.
    fn handle(&self, request: &RawValue) -> impl Future<Output = Box<RawValue>> + Send;
}

/// The latency the seed gives each worker's external system.
#[must_use]
pub const fn default_latency(worker: Worker) -> Duration {
    Duration::from_millis(match worker {
        Worker::Inventory => 150,
        Worker::Payment => 200,
        Worker::Shipping => 125,
        Worker::Tax => 100,
    })
}

fn latency_from(vars: &dyn Vars, worker: Worker) -> Result<Duration, SettingsError> {
    let default = u64::try_from(default_latency(worker).as_millis()).unwrap_or(u64::MAX);
    let millis = settings::parsed_or(
        vars,
        LATENCY_VARIABLE,
        default,
        "a whole number of milliseconds",
    )?;
    Ok(Duration::from_millis(millis))
}

/// Answers with `answer`, after the simulated latency; or at once with a
/// 400 when the request was malformed (it never reaches the external system).
async fn reply<T: Serialize>(
    latency: Duration,
    answer: Result<impl FnOnce() -> T, MalformedRequest>,
) -> Box<RawValue> {
    match answer {
        Ok(answer) => {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            to_raw(&answer())
        }
        Err(malformed) => to_raw(&BadRequestAnswer::from(malformed)),
    }
}

fn to_raw(answer: &impl Serialize) -> Box<RawValue> {
    serde_json::value::to_raw_value(answer).unwrap_or_else(|error| {
        tracing::error!(%error, "answer could not be serialized");
        RawValue::from_string(r#"{"success":false,"message":"internal error"}"#.to_owned())
            .unwrap_or_default()
    })
}

/// What was handed out per order, so that asking again gets the same thing.
#[derive(Debug)]
struct Ledger<T> {
    entries: Mutex<HashMap<String, T>>,
}

impl<T: Clone> Ledger<T> {
    fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The entry for `order_id`, minted on first request.
    fn get_or_mint(&self, order_id: &str, mint: impl FnOnce() -> T) -> T {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .entry(order_id.to_owned())
            .or_insert_with(mint)
            .clone()
    }
}

/// `InventoryCheck`: checks stock against the catalog and reserves it.
///
/// Reservations are idempotent per order within this function's process.
#[derive(Debug, Clone)]
pub struct InventoryCheck {
    catalog: Arc<Catalog>,
    reservations: Arc<Ledger<ReservationId>>,
    latency: Duration,
}

impl InventoryCheck {
    /// A worker over `catalog` answering after `latency`.
    #[must_use]
    pub fn new(catalog: Catalog, latency: Duration) -> Self {
        Self {
            catalog: Arc::new(catalog),
            reservations: Arc::new(Ledger::new()),
            latency,
        }
    }

    /// Configured from `SIMULATED_LATENCY_MS` (default 150) and
    /// `CATALOG_FILE` (default: the built-in catalog).
    ///
    /// # Errors
    ///
    /// A message naming the variable or file that cannot be used.
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, lambda_runtime::Error> {
        let catalog = match vars.var(CATALOG_VARIABLE) {
            Some(path) if !path.is_empty() => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|error| format!("{CATALOG_VARIABLE}={path}: {error}"))?;
                Catalog::from_json(&text)
                    .map_err(|error| format!("{CATALOG_VARIABLE}={path}: {error}"))?
            }
            _ => Catalog::default(),
        };
        Ok(Self::new(catalog, latency_from(vars, Worker::Inventory)?))
    }
}

impl WorkerFunction for InventoryCheck {
    const WORKER: Worker = Worker::Inventory;

    async fn handle(&self, request: &RawValue) -> Box<RawValue> {
        let answer = InventoryRequest::parse(request).map(|request| {
            move || {
                self.catalog.check(&request.items).answer(|| {
                    self.reservations.get_or_mint(&request.order_id, || {
                        ReservationId::generate(Moment::now().epoch_ms(), &mut rand::rng())
                    })
                })
            }
        });
        reply(self.latency, answer).await
    }
}

/// `PaymentValidation`: validates the method and authorizes the amount.
///
/// Authorizations are idempotent per order within this function's process.
#[derive(Debug, Clone)]
pub struct PaymentValidation {
    authorizations: Arc<Ledger<AuthorizationCode>>,
    latency: Duration,
}

impl PaymentValidation {
    /// A worker answering after `latency`.
    #[must_use]
    pub fn new(latency: Duration) -> Self {
        Self {
            authorizations: Arc::new(Ledger::new()),
            latency,
        }
    }

    /// Configured from `SIMULATED_LATENCY_MS` (default 200).
    ///
    /// # Errors
    ///
    /// A message naming the variable that cannot be used.
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, lambda_runtime::Error> {
        Ok(Self::new(latency_from(vars, Worker::Payment)?))
    }
}

impl WorkerFunction for PaymentValidation {
    const WORKER: Worker = Worker::Payment;

    async fn handle(&self, request: &RawValue) -> Box<RawValue> {
        let answer = PaymentRequest::parse(request).map(|request| {
            move || {
                PaymentAnswer::decide(
                    request.customer.payment_method.as_deref(),
                    request.amount,
                    || {
                        self.authorizations.get_or_mint(&request.order_id, || {
                            AuthorizationCode::generate(Moment::now().epoch_ms(), &mut rand::rng())
                        })
                    },
                )
            }
        });
        reply(self.latency, answer).await
    }
}

/// `ShippingCalculation`: quotes cost, carrier and delivery time.
#[derive(Debug, Clone)]
pub struct ShippingCalculation {
    latency: Duration,
}

impl ShippingCalculation {
    /// A worker answering after `latency`.
    #[must_use]
    pub const fn new(latency: Duration) -> Self {
        Self { latency }
    }

    /// Configured from `SIMULATED_LATENCY_MS` (default 125).
    ///
    /// # Errors
    ///
    /// A message naming the variable that cannot be used.
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, lambda_runtime::Error> {
        Ok(Self::new(latency_from(vars, Worker::Shipping)?))
    }
}

impl WorkerFunction for ShippingCalculation {
    const WORKER: Worker = Worker::Shipping;

    async fn handle(&self, request: &RawValue) -> Box<RawValue> {
        let answer = ShippingRequest::parse(request).map(|request| {
            move || {
                ShippingAnswer::from(shipping::quote(
                    &request.items,
                    &StateCode::new(&request.address.state),
                ))
            }
        });
        reply(self.latency, answer).await
    }
}

/// `TaxCalculation`: the tax by state.
#[derive(Debug, Clone)]
pub struct TaxCalculation {
    latency: Duration,
}

impl TaxCalculation {
    /// A worker answering after `latency`.
    #[must_use]
    pub const fn new(latency: Duration) -> Self {
        Self { latency }
    }

    /// Configured from `SIMULATED_LATENCY_MS` (default 100).
    ///
    /// # Errors
    ///
    /// A message naming the variable that cannot be used.
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, lambda_runtime::Error> {
        Ok(Self::new(latency_from(vars, Worker::Tax)?))
    }
}

impl WorkerFunction for TaxCalculation {
    const WORKER: Worker = Worker::Tax;

    async fn handle(&self, request: &RawValue) -> Box<RawValue> {
        let answer = TaxRequest::parse(request)
            .and_then(|request| {
                Ok(tax::assess(
                    request.subtotal,
                    &StateCode::new(&request.state),
                )?)
            })
            .map(|assessment| move || TaxAnswer::from(assessment));
        reply(self.latency, answer).await
    }
}

/// Runs `worker` as a Lambda function (the Runtime API loop).
///
/// # Errors
///
/// When the runtime cannot start or loses the Runtime API.
pub async fn serve_worker<W: WorkerFunction>(worker: W) -> Result<(), lambda_runtime::Error> {
    let worker = Arc::new(worker);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Box<RawValue>>| {
            let worker = Arc::clone(&worker);
            async move {
                let answer = worker.handle(&event.payload).await;
                Ok::<_, lambda_runtime::Error>(answer)
            }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn json(answer: &RawValue) -> serde_json::Value {
        serde_json::from_str(answer.get()).unwrap()
    }

    #[tokio::test]
    async fn a_reservation_is_idempotent_per_order() {
        let worker = InventoryCheck::new(Catalog::default(), Duration::ZERO);
        let request =
            raw(r#"{"orderId": "ORD-1", "items": [{"productId": "PROD-001", "quantity": 1}]}"#);
        let first = json(&worker.handle(&request).await);
        let second = json(&worker.handle(&request).await);
        assert!(ReservationId::is_well_formed(
            first["reservationId"].as_str().unwrap()
        ));
        assert_eq!(first["reservationId"], second["reservationId"]);
        let other =
            raw(r#"{"orderId": "ORD-2", "items": [{"productId": "PROD-001", "quantity": 1}]}"#);
        assert_ne!(
            json(&worker.handle(&other).await)["reservationId"],
            first["reservationId"]
        );
    }

    #[tokio::test]
    async fn an_authorization_is_idempotent_per_order() {
        let worker = PaymentValidation::new(Duration::ZERO);
        let request = raw(r#"{"orderId": "ORD-1", "customer": {"id": "C"}, "amount": 10}"#);
        let first = json(&worker.handle(&request).await);
        let second = json(&worker.handle(&request).await);
        assert!(AuthorizationCode::is_well_formed(
            first["authorizationCode"].as_str().unwrap()
        ));
        assert_eq!(first["authorizationCode"], second["authorizationCode"]);
    }

    #[tokio::test]
    async fn every_worker_answers_a_malformed_request_with_400() {
        let request = raw(r#"{"items": 1}"#);
        for answer in [
            InventoryCheck::new(Catalog::default(), Duration::ZERO)
                .handle(&request)
                .await,
            PaymentValidation::new(Duration::ZERO)
                .handle(&request)
                .await,
            ShippingCalculation::new(Duration::ZERO)
                .handle(&request)
                .await,
            TaxCalculation::new(Duration::ZERO).handle(&request).await,
        ] {
            let answer = json(&answer);
            assert_eq!(answer["success"], false);
            assert_eq!(answer["statusCode"], 400);
            assert_eq!(answer["message"], "orderId is required");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_answers_after_its_latency() {
        let worker = TaxCalculation::new(Duration::from_millis(100));
        let request = raw(r#"{"orderId": "O", "subtotal": 100, "state": "ny"}"#);
        let started = tokio::time::Instant::now();
        let answer = worker.handle(&request).await;
        assert_eq!(started.elapsed(), Duration::from_millis(100));
        assert_eq!(
            answer.get(),
            r#"{"success":true,"amount":4.00,"rate":0.04,"jurisdiction":"NY State Tax","state":"NY"}"#
        );
    }

    #[tokio::test]
    async fn shipping_quotes_by_weight_and_state() {
        let worker = ShippingCalculation::new(Duration::ZERO);
        let request = raw(
            r#"{"orderId": "O", "items": [{"productId": "P", "quantity": 4}], "address": {"state": "il"}}"#,
        );
        let answer = worker.handle(&request).await;
        assert_eq!(
            answer.get(),
            r#"{"success":true,"cost":14.99,"estimatedDays":3,"carrier":"FedEx","weight":12}"#
        );
    }
}
