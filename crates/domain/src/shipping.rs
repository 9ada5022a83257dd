//! Shipping: weight, cost, carrier and delivery estimate.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::request::StockRequest;
use crate::state::StateCode;

/// Pounds each unit weighs.
pub const POUNDS_PER_UNIT: u64 = 3;

/// The flat part of every shipment's cost, in dollars.
pub const BASE_COST: Money = Money::new(Decimal::from_parts(599, 0, 0, false, 2));

/// Dollars per pound.
pub const COST_PER_POUND: Money = Money::new(Decimal::from_parts(75, 0, 0, false, 2));

/// Shipments heavier than this many pounds go by FedEx; the rest by USPS.
pub const FEDEX_ABOVE_POUNDS: u64 = 10;

/// How a shipment goes and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingQuote {
    /// `round2(5.99 + 0.75 × weight)`.
    pub cost: Money,
    /// Days until delivery, by destination state.
    pub estimated_days: u32,
    /// `FedEx` above 10 lb, else `USPS`.
    pub carrier: String,
    /// Pounds: 3 per unit.
    pub weight: u64,
}

/// Quotes the shipment of `items` to `state`.
#[must_use]
pub fn quote(items: &[StockRequest], state: &StateCode) -> ShippingQuote {
    let units = items
        .iter()
        .map(|item| u64::from(item.quantity))
        .fold(0, u64::saturating_add);
    let weight = units.saturating_mul(POUNDS_PER_UNIT);
    let cost = Money::new(BASE_COST.amount() + COST_PER_POUND.amount() * Decimal::from(weight));
    ShippingQuote {
        cost: cost.round_to_cents(),
        estimated_days: estimated_days(state),
        carrier: if weight > FEDEX_ABOVE_POUNDS {
            "FedEx"
        } else {
            "USPS"
        }
        .to_owned(),
        weight,
    }
}

/// Days to deliver to `state`: the West Coast and Nevada 2; Arizona, Texas
/// and Illinois 3; the Northeast and Florida 4; anywhere else 5.
#[must_use]
pub fn estimated_days(state: &StateCode) -> u32 {
    match state.as_str() {
        "CA" | "OR" | "WA" | "NV" => 2,
        "AZ" | "TX" | "IL" => 3,
        "NY" | "NJ" | "PA" | "MA" | "FL" => 4,
        _ => 5,
    }
}

/// `ShippingCalculation`'s answer.
///
/// Also reads a malformed-request answer (`success: false`), whose quote
/// is then absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAnswer {
    /// Whether a quote was made.
    pub success: bool,
    /// The quote's cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Money>,
    /// The quote's delivery estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_days: Option<u32>,
    /// The quote's carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// The shipment's weight in pounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u64>,
    /// Why no quote was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// 400 for a malformed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

impl From<ShippingQuote> for ShippingAnswer {
    fn from(quote: ShippingQuote) -> Self {
        Self {
            success: true,
            cost: Some(quote.cost),
            estimated_days: Some(quote.estimated_days),
            carrier: Some(quote.carrier),
            weight: Some(quote.weight),
            message: None,
            status_code: None,
        }
    }
}

impl ShippingAnswer {
    /// The quote, when the answer is a success that carries one whole.
    #[must_use]
    pub fn quote(&self) -> Option<ShippingQuote> {
        if !self.success {
            return None;
        }
        Some(ShippingQuote {
            cost: self.cost?,
            estimated_days: self.estimated_days?,
            carrier: self.carrier.clone()?,
            weight: self.weight.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(quantities: &[u32]) -> Vec<StockRequest> {
        quantities
            .iter()
            .map(|&quantity| StockRequest {
                product_id: "PROD-001".to_owned(),
                quantity,
            })
            .collect()
    }

    fn state(code: &str) -> StateCode {
        StateCode::new(code)
    }

    #[test]
    fn the_seed_orders_cost_what_spec_says() {
        let ca = quote(&units(&[2, 1]), &state("CA"));
        assert_eq!(
            (
                ca.cost.to_string().as_str(),
                ca.carrier.as_str(),
                ca.estimated_days
            ),
            ("12.74", "USPS", 2)
        );
        let ny = quote(&units(&[1]), &state("NY"));
        assert_eq!(
            (
                ny.cost.to_string().as_str(),
                ny.carrier.as_str(),
                ny.estimated_days
            ),
            ("8.24", "USPS", 4)
        );
        let tx = quote(&units(&[5, 3, 2]), &state("TX"));
        assert_eq!(
            (
                tx.cost.to_string().as_str(),
                tx.carrier.as_str(),
                tx.estimated_days
            ),
            ("28.49", "FedEx", 3)
        );
    }

    #[test]
    fn ten_pounds_is_still_usps_and_eleven_is_fedex() {
        // 3 lb per unit: 3 units weigh 9 lb, 4 weigh 12 lb; 10 lb exactly is unreachable in whole
        // units, so the boundary is checked on the rule itself.
        assert_eq!(quote(&units(&[3]), &state("CA")).carrier, "USPS");
        assert_eq!(quote(&units(&[4]), &state("CA")).carrier, "FedEx");
        assert_eq!(quote(&units(&[4]), &state("CA")).weight, 12);
    }

    #[test]
    fn every_state_group_has_its_delivery_estimate() {
        for (code, days) in [
            ("CA", 2),
            ("OR", 2),
            ("WA", 2),
            ("NV", 2),
            ("AZ", 3),
            ("TX", 3),
            ("IL", 3),
            ("NY", 4),
            ("NJ", 4),
            ("PA", 4),
            ("MA", 4),
            ("FL", 4),
            ("OH", 5),
            ("ZZ", 5),
        ] {
            assert_eq!(estimated_days(&state(code)), days, "{code}");
        }
    }

    #[test]
    fn state_codes_are_case_insensitive() {
        assert_eq!(estimated_days(&state("ca")), 2);
        assert_eq!(estimated_days(&state("Tx")), 3);
    }

    #[test]
    fn a_failed_answer_has_no_quote() {
        let answer: ShippingAnswer =
            serde_json::from_str(r#"{"success": false, "statusCode": 400, "message": "x"}"#)
                .unwrap();
        assert_eq!(answer.quote(), None);
        let answer: ShippingAnswer = serde_json::from_str(r#"{"success": true}"#).unwrap();
        assert_eq!(answer.quote(), None, "a success without a cost is no quote");
    }
}
