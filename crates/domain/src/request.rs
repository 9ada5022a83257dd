//! What makes a worker request well formed.
//!
//! Each worker is its own function and can be called by anyone, so each
//! reads its request as untrusted JSON. A malformed request is answered with
//! `{"success": false, "statusCode": 400, "message": ...}`; see
//! [`MalformedRequest`].

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::json::{self, Json, Object};
use crate::money::{Money, parse_json_number};
use crate::order::{MAX_QUANTITY, quantity};

/// A request a worker cannot read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MalformedRequest {
    message: String,
}

impl MalformedRequest {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// What is wrong with the request, naming the field.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// The answer to a malformed request:
/// `{"success": false, "statusCode": 400, "message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BadRequestAnswer {
    /// Always `false`.
    pub success: bool,
    /// Always 400.
    pub status_code: u16,
    /// What is wrong with the request.
    pub message: String,
}

impl From<crate::money::OutOfRange> for MalformedRequest {
    fn from(error: crate::money::OutOfRange) -> Self {
        Self::new(error.to_string())
    }
}

impl From<MalformedRequest> for BadRequestAnswer {
    fn from(error: MalformedRequest) -> Self {
        Self {
            success: false,
            status_code: 400,
            message: error.message,
        }
    }
}

/// A product and how many units of it are wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockRequest {
    /// The catalog product.
    pub product_id: String,
    /// Units wanted.
    pub quantity: u32,
}

/// `InventoryCheck`'s request: `{orderId, items}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryRequest {
    /// The order the stock is for; reservations are made per order.
    pub order_id: String,
    /// What to check and reserve.
    pub items: Vec<StockRequest>,
}

/// `PaymentValidation`'s request: `{orderId, customer, amount}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequest {
    /// The order being paid; authorizations are made per order.
    pub order_id: String,
    /// The paying customer (only `paymentMethod` matters here).
    pub customer: PaymentCustomer,
    /// The amount to authorize.
    pub amount: Money,
}

/// The part of the customer a payment needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCustomer {
    /// The customer's id, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The payment method as given; `None` means `credit_card`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
}

/// `ShippingCalculation`'s request: `{orderId, items, address}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingRequest {
    /// The order being shipped.
    pub order_id: String,
    /// What ships (the quantities decide the weight).
    pub items: Vec<StockRequest>,
    /// Where it ships.
    pub address: ShippingAddress,
}

/// The part of the address shipping needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    /// The destination state.
    pub state: String,
}

/// `TaxCalculation`'s request: `{orderId, subtotal, state}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRequest {
    /// The order being taxed.
    pub order_id: String,
    /// The amount taxed.
    pub subtotal: Money,
    /// The state whose rate applies.
    pub state: String,
}

fn object(raw: &RawValue) -> Result<Object<'_>, MalformedRequest> {
    match json::classify(raw) {
        Json::Object(object) => Ok(object),
        _ => Err(MalformedRequest::new("the request must be a JSON object")),
    }
}

fn order_id(request: &Object<'_>) -> Result<String, MalformedRequest> {
    request
        .non_empty_string("orderId")
        .ok_or_else(|| MalformedRequest::new("orderId is required"))
}

fn amount(request: &Object<'_>, key: &str) -> Result<Money, MalformedRequest> {
    match request.get(key) {
        Some(Json::Number(text)) => parse_json_number(text)
            .map(Money::new)
            .ok_or_else(|| MalformedRequest::new(format!("{key} must be a number"))),
        _ => Err(MalformedRequest::new(format!(
            "{key} is required and must be a number"
        ))),
    }
}

fn stock_requests(request: &Object<'_>) -> Result<Vec<StockRequest>, MalformedRequest> {
    let items = match request.get("items") {
        Some(Json::Array(items)) if !items.is_empty() => items,
        _ => {
            return Err(MalformedRequest::new(
                "items array is required and must not be empty",
            ));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let Json::Object(item) = json::classify(item) else {
                return Err(MalformedRequest::new(format!(
                    "items[{index}] must be an object"
                )));
            };
            let product_id = item.non_empty_string("productId").ok_or_else(|| {
                MalformedRequest::new(format!("items[{index}].productId is required"))
            })?;
            let quantity = quantity(&item).ok_or_else(|| {
                MalformedRequest::new(format!(
                    "items[{index}].quantity must be an integer from 1 to {MAX_QUANTITY}"
                ))
            })?;
            Ok(StockRequest {
                product_id,
                quantity,
            })
        })
        .collect()
}

impl InventoryRequest {
    /// Reads an inventory request.
    ///
    /// # Errors
    ///
    /// [`MalformedRequest`] naming the first field that is missing or wrong.
    pub fn parse(raw: &RawValue) -> Result<Self, MalformedRequest> {
        let request = object(raw)?;
        Ok(Self {
            order_id: order_id(&request)?,
            items: stock_requests(&request)?,
        })
    }
}

impl PaymentRequest {
    /// Reads a payment request.
    ///
    /// # Errors
    ///
    /// [`MalformedRequest`] naming the first field that is missing or wrong.
    pub fn parse(raw: &RawValue) -> Result<Self, MalformedRequest> {
        let request = object(raw)?;
        let order_id = order_id(&request)?;
        let Some(Json::Object(customer)) = request.get("customer") else {
            return Err(MalformedRequest::new("customer is required"));
        };
        Ok(Self {
            order_id,
            customer: PaymentCustomer {
                id: customer.display_text("id"),
                payment_method: customer.display_text("paymentMethod"),
            },
            amount: amount(&request, "amount")?,
        })
    }
}

impl ShippingRequest {
    /// Reads a shipping request.
    ///
    /// # Errors
    ///
    /// [`MalformedRequest`] naming the first field that is missing or wrong.
    pub fn parse(raw: &RawValue) -> Result<Self, MalformedRequest> {
        let request = object(raw)?;
        let order_id = order_id(&request)?;
        let items = stock_requests(&request)?;
        let state = request
            .object_or_empty("address")
            .non_empty_string("state")
            .ok_or_else(|| MalformedRequest::new("address.state is required"))?;
        Ok(Self {
            order_id,
            items,
            address: ShippingAddress { state },
        })
    }
}

impl TaxRequest {
    /// Reads a tax request.
    ///
    /// # Errors
    ///
    /// [`MalformedRequest`] naming the first field that is missing or wrong.
    pub fn parse(raw: &RawValue) -> Result<Self, MalformedRequest> {
        let request = object(raw)?;
        let order_id = order_id(&request)?;
        let subtotal = amount(&request, "subtotal")?;
        let state = request
            .non_empty_string("state")
            .ok_or_else(|| MalformedRequest::new("state is required"))?;
        Ok(Self {
            order_id,
            subtotal,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn an_inventory_request_needs_an_order_id_and_items() {
        let error = InventoryRequest::parse(&raw(r#"{"items": []}"#)).unwrap_err();
        assert_eq!(error.message(), "orderId is required");
        let error = InventoryRequest::parse(&raw(r#"{"orderId": "O", "items": []}"#)).unwrap_err();
        assert_eq!(
            error.message(),
            "items array is required and must not be empty"
        );
        let error = InventoryRequest::parse(&raw(
            r#"{"orderId": "O", "items": [{"productId": "P", "quantity": 0}]}"#,
        ))
        .unwrap_err();
        assert_eq!(
            error.message(),
            "items[0].quantity must be an integer from 1 to 10000"
        );
    }

    #[test]
    fn a_request_that_is_not_an_object_is_malformed() {
        for text in ["null", "[]", "\"order\"", "42"] {
            let error = TaxRequest::parse(&raw(text)).unwrap_err();
            assert_eq!(error.message(), "the request must be a JSON object");
        }
    }

    #[test]
    fn a_payment_request_reads_its_amount_exactly() {
        let request = PaymentRequest::parse(&raw(
            r#"{"orderId": "O", "customer": {"paymentMethod": "paypal"}, "amount": 109.97}"#,
        ))
        .unwrap();
        assert_eq!(request.amount, "109.97".parse().unwrap());
        assert_eq!(request.customer.payment_method.as_deref(), Some("paypal"));
        let error =
            PaymentRequest::parse(&raw(r#"{"orderId": "O", "customer": {}, "amount": "1"}"#))
                .unwrap_err();
        assert_eq!(error.message(), "amount is required and must be a number");
    }

    #[test]
    fn shipping_and_tax_need_a_state() {
        let error = ShippingRequest::parse(&raw(
            r#"{"orderId": "O", "items": [{"productId": "P", "quantity": 1}], "address": {}}"#,
        ))
        .unwrap_err();
        assert_eq!(error.message(), "address.state is required");
        let error = TaxRequest::parse(&raw(r#"{"orderId": "O", "subtotal": 10}"#)).unwrap_err();
        assert_eq!(error.message(), "state is required");
    }

    #[test]
    fn a_bad_request_answer_has_status_400() {
        let answer = BadRequestAnswer::from(MalformedRequest::new("orderId is required"));
        let text = serde_json::to_string(&answer).unwrap();
        assert_eq!(
            text,
            r#"{"success":false,"statusCode":400,"message":"orderId is required"}"#
        );
    }
}
