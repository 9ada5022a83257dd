//! Tax: a rate per state, and the amount it makes.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Money, OutOfRange, Rate};
use crate::state::StateCode;

/// State tax rates in ten-thousandths (`725` is 7.25 %).
const RATES: [(&str, i64); 20] = [
    ("CA", 725),
    ("NY", 400),
    ("TX", 625),
    ("FL", 600),
    ("WA", 650),
    ("IL", 625),
    ("PA", 600),
    ("OH", 575),
    ("GA", 400),
    ("NC", 475),
    ("MI", 600),
    ("NJ", 663),
    ("VA", 530),
    ("MA", 625),
    ("AZ", 560),
    ("TN", 700),
    ("IN", 700),
    ("MO", 423),
    ("MD", 600),
    ("WI", 500),
];

/// The rate for states without one of their own, in ten-thousandths.
const DEFAULT_RATE: i64 = 500;

/// The tax on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxAssessment {
    /// `round2(subtotal × rate)`.
    pub amount: Money,
    /// The state's rate.
    pub rate: Rate,
    /// `"<ST> State Tax"`, or `"<ST> State Tax (Default Rate)"`.
    pub jurisdiction: String,
    /// The state, upper-case.
    pub state: String,
}

/// The rate `state` charges, and whether it is the default.
#[must_use]
pub fn rate_for(state: &StateCode) -> (Rate, bool) {
    let (ten_thousandths, default) = RATES
        .iter()
        .find(|(code, _)| *code == state.as_str())
        .map_or((DEFAULT_RATE, true), |&(_, rate)| (rate, false));
    (
        Rate::new(Decimal::new(ten_thousandths, 4).normalize()),
        default,
    )
}

/// The tax on `subtotal` in `state`.
///
/// # Errors
///
/// When the tax on `subtotal` does not fit an exact decimal.
pub fn assess(subtotal: Money, state: &StateCode) -> Result<TaxAssessment, OutOfRange> {
    let (rate, default) = rate_for(state);
    let jurisdiction = if default {
        format!("{state} State Tax (Default Rate)")
    } else {
        format!("{state} State Tax")
    };
    Ok(TaxAssessment {
        amount: rate.apply(subtotal)?,
        rate,
        jurisdiction,
        state: state.to_string(),
    })
}

/// `TaxCalculation`'s answer.
///
/// Also reads a malformed-request answer (`success: false`), whose
/// assessment is then absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxAnswer {
    /// Whether the tax was assessed.
    pub success: bool,
    /// The tax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The rate applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// Whose tax it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    /// The state, upper-case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Why no tax was assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// 400 for a malformed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

impl From<TaxAssessment> for TaxAnswer {
    fn from(tax: TaxAssessment) -> Self {
        Self {
            success: true,
            amount: Some(tax.amount),
            rate: Some(tax.rate),
            jurisdiction: Some(tax.jurisdiction),
            state: Some(tax.state),
            message: None,
            status_code: None,
        }
    }
}

impl TaxAnswer {
    /// The assessment, when the answer is a success that carries one whole.
    #[must_use]
    pub fn assessment(&self) -> Option<TaxAssessment> {
        if !self.success {
            return None;
        }
        Some(TaxAssessment {
            amount: self.amount?,
            rate: self.rate?,
            jurisdiction: self.jurisdiction.clone()?,
            state: self.state.clone().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    #[test]
    fn every_listed_state_has_its_rate() {
        for (code, rate) in [
            ("CA", "0.0725"),
            ("NY", "0.04"),
            ("TX", "0.0625"),
            ("FL", "0.06"),
            ("WA", "0.065"),
            ("IL", "0.0625"),
            ("PA", "0.06"),
            ("OH", "0.0575"),
            ("GA", "0.04"),
            ("NC", "0.0475"),
            ("MI", "0.06"),
            ("NJ", "0.0663"),
            ("VA", "0.053"),
            ("MA", "0.0625"),
            ("AZ", "0.056"),
            ("TN", "0.07"),
            ("IN", "0.07"),
            ("MO", "0.0423"),
            ("MD", "0.06"),
            ("WI", "0.05"),
        ] {
            let tax = assess(money("100"), &StateCode::new(code)).unwrap();
            assert_eq!(tax.rate.to_string(), rate, "{code}");
            assert_eq!(tax.jurisdiction, format!("{code} State Tax"));
        }
    }

    #[test]
    fn other_states_pay_the_default_rate() {
        let tax = assess(money("100"), &StateCode::new("OK")).unwrap();
        assert_eq!(tax.rate.to_string(), "0.05");
        assert_eq!(tax.amount, money("5.00"));
        assert_eq!(tax.jurisdiction, "OK State Tax (Default Rate)");
    }

    #[test]
    fn the_seed_orders_are_taxed_as_spec_says() {
        assert_eq!(
            assess(money("109.97"), &StateCode::new("CA"))
                .unwrap()
                .amount,
            money("7.97")
        );
        assert_eq!(
            assess(money("100.00"), &StateCode::new("NY"))
                .unwrap()
                .amount,
            money("4.00")
        );
        assert_eq!(
            assess(money("339.90"), &StateCode::new("TX"))
                .unwrap()
                .amount,
            money("21.24")
        );
    }

    #[test]
    fn the_state_is_matched_case_insensitively_and_reported_upper_case() {
        let tax = assess(money("10"), &StateCode::new("ny")).unwrap();
        assert_eq!(tax.state, "NY");
        assert_eq!(tax.jurisdiction, "NY State Tax");
        assert_eq!(tax.rate.to_string(), "0.04");
    }

    #[test]
    fn the_amount_rounds_half_away_from_zero() {
        // 0.10 × 0.0625 = 0.00625 → 0.01; 0.30 × 0.0475 = 0.01425 → 0.01.
        assert_eq!(
            assess(money("0.10"), &StateCode::new("TX")).unwrap().amount,
            money("0.01")
        );
        assert_eq!(
            assess(money("0.30"), &StateCode::new("NC")).unwrap().amount,
            money("0.01")
        );
        // 2.00 × 0.0575 = 0.115 → 0.12 (half away from zero, not to even).
        assert_eq!(
            assess(money("2.00"), &StateCode::new("OH")).unwrap().amount,
            money("0.12")
        );
    }
}
