//! Judging the workers' answers, totalling the order, and the order's answer.

use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize, Serializer};

use crate::ids::{AuthorizationCode, ReservationId};
use crate::inventory::InventoryAnswer;
use crate::moment::Moment;
use crate::money::{Money, OutOfRange, Rate};
use crate::order::ValidationError;
use crate::payment::PaymentAnswer;
use crate::shipping::{ShippingAnswer, ShippingQuote};
use crate::tax::{TaxAnswer, TaxAssessment};

/// The currency of every total.
pub const CURRENCY: &str = "USD";

/// The four workers an order needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Worker {
    /// Checks stock and reserves it.
    Inventory,
    /// Validates the payment method and authorizes the amount.
    Payment,
    /// Quotes shipping.
    Shipping,
    /// Assesses tax.
    Tax,
}

impl Worker {
    /// All four, in the order the parallel branches list them.
    pub const ALL: [Self; 4] = [Self::Inventory, Self::Payment, Self::Shipping, Self::Tax];

    /// The worker's key in answers: `inventory`, `payment`, `shipping`, `tax`.
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            Self::Inventory => "inventory",
            Self::Payment => "payment",
            Self::Shipping => "shipping",
            Self::Tax => "tax",
        }
    }

    /// The worker's function: `InventoryCheck`, `PaymentValidation`,
    /// `ShippingCalculation`, `TaxCalculation`.
    #[must_use]
    pub const fn function_name(self) -> &'static str {
        match self {
            Self::Inventory => "InventoryCheck",
            Self::Payment => "PaymentValidation",
            Self::Shipping => "ShippingCalculation",
            Self::Tax => "TaxCalculation",
        }
    }

    /// The name of the parallel branch, and of the step in it, that calls
    /// the worker.
    #[must_use]
    pub const fn step_name(self) -> &'static str {
        match self {
            Self::Inventory => "check-inventory",
            Self::Payment => "validate-payment",
            Self::Shipping => "calculate-shipping",
            Self::Tax => "calculate-tax",
        }
    }

    /// The reason given when the worker's answer is not a success and
    /// carries no message of its own.
    const fn default_reason(self) -> &'static str {
        match self {
            Self::Inventory => "Items not available",
            Self::Payment => "Payment validation failed",
            Self::Shipping => "Shipping calculation failed",
            Self::Tax => "Tax calculation failed",
        }
    }
}

/// A worker that said no, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Which worker.
    pub worker: Worker,
    /// Its reason.
    pub reason: String,
}

/// What the four workers answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerAnswers {
    /// `InventoryCheck`'s answer.
    pub inventory: InventoryAnswer,
    /// `PaymentValidation`'s answer.
    pub payment: PaymentAnswer,
    /// `ShippingCalculation`'s answer.
    pub shipping: ShippingAnswer,
    /// `TaxCalculation`'s answer.
    pub tax: TaxAnswer,
}

/// Everything the workers granted, once all four said yes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// The stock reservation.
    pub reservation_id: ReservationId,
    /// The payment authorization.
    pub authorization_code: AuthorizationCode,
    /// The shipping quote.
    pub shipping: ShippingQuote,
    /// The tax.
    pub tax: TaxAssessment,
}

impl WorkerAnswers {
    /// The approval, or a failure for each worker whose answer is not a
    /// success (in the order inventory, payment, shipping, tax).
    ///
    /// # Errors
    ///
    /// The failures, when there is at least one.
    pub fn judge(&self) -> Result<Approval, Vec<Failure>> {
        let reason = |worker: Worker, message: Option<&String>| Failure {
            worker,
            reason: message.map_or_else(|| worker.default_reason().to_owned(), Clone::clone),
        };
        let reservation = self
            .inventory
            .reservation_id
            .clone()
            .filter(|_| self.inventory.available)
            .ok_or_else(|| reason(Worker::Inventory, self.inventory.message.as_ref()));
        let authorization = self
            .payment
            .authorization_code
            .clone()
            .filter(|_| self.payment.valid)
            .ok_or_else(|| reason(Worker::Payment, self.payment.message.as_ref()));
        let shipping = self
            .shipping
            .quote()
            .ok_or_else(|| reason(Worker::Shipping, None));
        let tax = self
            .tax
            .assessment()
            .ok_or_else(|| reason(Worker::Tax, None));
        match (reservation, authorization, shipping, tax) {
            (Ok(reservation_id), Ok(authorization_code), Ok(shipping), Ok(tax)) => Ok(Approval {
                reservation_id,
                authorization_code,
                shipping,
                tax,
            }),
            (reservation, authorization, shipping, tax) => Err([
                reservation.err(),
                authorization.err(),
                shipping.err(),
                tax.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// An order's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Σ price × quantity.
    pub subtotal: Money,
    /// The shipping cost.
    pub shipping: Money,
    /// The tax.
    pub tax: Money,
    /// `subtotal + shipping + tax`.
    pub total: Money,
    /// Always `USD`.
    pub currency: String,
}

impl Totals {
    /// `total = subtotal + shipping + tax`, in US dollars.
    ///
    /// # Errors
    ///
    /// When the total does not fit an exact decimal (a worker answered with
    /// an absurd amount).
    pub fn new(subtotal: Money, shipping: Money, tax: Money) -> Result<Self, OutOfRange> {
        Ok(Self {
            subtotal,
            shipping,
            tax,
            total: Money::sum([subtotal, shipping, tax])?.round_to_cents(),
            currency: CURRENCY.to_owned(),
        })
    }
}

/// A confirmed order: the `result` member of a successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    /// The order's id.
    pub order_id: String,
    /// Always `CONFIRMED`.
    pub status: String,
    /// `{available, reservationId}`.
    pub inventory: InventorySummary,
    /// `{valid, authorizationCode}`.
    pub payment: PaymentSummary,
    /// `{cost, estimatedDays, carrier}`.
    pub shipping: ShippingSummary,
    /// `{amount, rate, jurisdiction}`.
    pub tax: TaxSummary,
    /// The totals.
    pub totals: Totals,
    /// When the order was confirmed, RFC 3339.
    pub confirmed_at: String,
}

/// Inventory, as a confirmation reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventorySummary {
    /// Always `true` in a confirmation.
    pub available: bool,
    /// The reservation.
    pub reservation_id: ReservationId,
}

/// Payment, as a confirmation reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentSummary {
    /// Always `true` in a confirmation.
    pub valid: bool,
    /// The authorization.
    pub authorization_code: AuthorizationCode,
}

/// Shipping, as a confirmation reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingSummary {
    /// The cost.
    pub cost: Money,
    /// Days to deliver.
    pub estimated_days: u32,
    /// The carrier.
    pub carrier: String,
}

/// Tax, as a confirmation reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxSummary {
    /// The tax.
    pub amount: Money,
    /// The rate.
    pub rate: Rate,
    /// Whose tax.
    pub jurisdiction: String,
}

impl Confirmation {
    /// Confirms order `order_id` with what the workers granted, at `at`.
    #[must_use]
    pub fn new(order_id: &str, approval: Approval, totals: Totals, at: Moment) -> Self {
        Self {
            order_id: order_id.to_owned(),
            status: "CONFIRMED".to_owned(),
            inventory: InventorySummary {
                available: true,
                reservation_id: approval.reservation_id,
            },
            payment: PaymentSummary {
                valid: true,
                authorization_code: approval.authorization_code,
            },
            shipping: ShippingSummary {
                cost: approval.shipping.cost,
                estimated_days: approval.shipping.estimated_days,
                carrier: approval.shipping.carrier,
            },
            tax: TaxSummary {
                amount: approval.tax.amount,
                rate: approval.tax.rate,
                jurisdiction: approval.tax.jurisdiction,
            },
            totals,
            confirmed_at: at.to_rfc3339(),
        }
    }
}

/// A worker that could not be reached after every retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} worker error: {detail}", .worker.function_name())]
pub struct WorkerInvocationError {
    worker: Worker,
    detail: String,
}

impl WorkerInvocationError {
    /// `worker` could not be reached; `detail` says what happened last.
    #[must_use]
    pub fn new(worker: Worker, detail: impl Into<String>) -> Self {
        Self {
            worker,
            detail: detail.into(),
        }
    }

    /// The worker that could not be reached.
    #[must_use]
    pub const fn worker(&self) -> Worker {
        self.worker
    }
}

/// How an order ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every worker said yes: the order is confirmed.
    Confirmed(Box<Confirmation>),
    /// The order broke a validation rule.
    Invalid(ValidationError),
    /// At least one worker said no.
    Rejected {
        /// The order's id.
        order_id: String,
        /// Each worker that said no.
        failures: Vec<Failure>,
    },
    /// A worker could not be reached.
    WorkerUnreachable(WorkerInvocationError),
}

/// The order's answer: the durable execution's result.
///
/// Serializes to one of the order system's four response shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderResponse {
    outcome: Outcome,
    processing_time_ms: u64,
    timestamp: Moment,
}

impl OrderResponse {
    /// The answer for `outcome`, for an order that started at `started`
    /// and ended at `ended`.
    #[must_use]
    pub fn new(outcome: Outcome, started: Moment, ended: Moment) -> Self {
        Self {
            outcome,
            processing_time_ms: ended.millis_since(started),
            timestamp: ended,
        }
    }

    /// How the order ended.
    #[must_use]
    pub const fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// Milliseconds from the order's start to its end.
    #[must_use]
    pub const fn processing_time_ms(&self) -> u64 {
        self.processing_time_ms
    }
}

/// The message of a confirmed order.
pub const CONFIRMED_MESSAGE: &str = "Order processed successfully with parallel execution";
/// The message of an order that broke a rule or could not reach a worker.
pub const FAILED_MESSAGE: &str = "Order processing failed";
/// The message of an order a worker said no to.
pub const REJECTED_MESSAGE: &str = "Order validation failed";

impl Serialize for OrderResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct InvocationErrorBody<'a> {
            name: &'a str,
            message: String,
            worker_name: &'a str,
        }

        let mut map = serializer.serialize_map(None)?;
        match &self.outcome {
            Outcome::Confirmed(confirmation) => {
                map.serialize_entry("success", &true)?;
                map.serialize_entry("orderId", &confirmation.order_id)?;
                map.serialize_entry("result", confirmation)?;
                map.serialize_entry("message", CONFIRMED_MESSAGE)?;
            }
            Outcome::Invalid(error) => {
                map.serialize_entry("success", &false)?;
                map.serialize_entry("error", error)?;
                map.serialize_entry("message", FAILED_MESSAGE)?;
            }
            Outcome::Rejected { order_id, failures } => {
                map.serialize_entry("success", &false)?;
                map.serialize_entry("orderId", order_id)?;
                map.serialize_entry("message", REJECTED_MESSAGE)?;
                map.serialize_entry("failures", failures)?;
            }
            Outcome::WorkerUnreachable(error) => {
                map.serialize_entry("success", &false)?;
                map.serialize_entry(
                    "error",
                    &InvocationErrorBody {
                        name: "WorkerInvocationError",
                        message: error.to_string(),
                        worker_name: error.worker.function_name(),
                    },
                )?;
                map.serialize_entry("message", FAILED_MESSAGE)?;
            }
        }
        map.serialize_entry("processingTimeMs", &self.processing_time_ms)?;
        map.serialize_entry("timestamp", &self.timestamp.to_rfc3339())?;
        map.end()
    }
}
