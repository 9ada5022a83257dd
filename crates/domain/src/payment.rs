//! Payment: which methods are accepted and which amounts can be authorized.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::AuthorizationCode;
use crate::money::Money;

/// The most that one authorization may cover, in dollars.
pub const AUTHORIZATION_LIMIT: Money = Money::new(Decimal::from_parts(1_000_000, 0, 0, false, 2));

/// The method assumed when the customer names none.
pub const DEFAULT_METHOD: &str = "credit_card";

/// The payment methods this system accepts.
pub const ACCEPTED_METHODS: [&str; 3] = ["credit_card", "debit_card", "paypal"];

/// Why a payment cannot be authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decline {
    /// The method is not one of [`ACCEPTED_METHODS`].
    MethodNotAccepted(String),
    /// The amount is zero or negative.
    AmountNotPositive,
    /// The amount is above [`AUTHORIZATION_LIMIT`].
    OverLimit,
}

impl fmt::Display for Decline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MethodNotAccepted(method) => {
                write!(f, "Payment method '{method}' is not accepted")
            }
            Self::AmountNotPositive => f.write_str("Amount must be greater than 0"),
            Self::OverLimit => write!(
                f,
                "Amount exceeds the authorization limit of {AUTHORIZATION_LIMIT}"
            ),
        }
    }
}

/// Decides whether `amount` can be authorized on `method` (`None`: the
/// default method). The method is checked before the amount.
///
/// # Errors
///
/// The [`Decline`] that applies first.
pub fn authorize(method: Option<&str>, amount: Money) -> Result<(), Decline> {
    let method = method.unwrap_or(DEFAULT_METHOD);
    if !ACCEPTED_METHODS.contains(&method) {
        return Err(Decline::MethodNotAccepted(method.to_owned()));
    }
    if amount <= Money::ZERO {
        return Err(Decline::AmountNotPositive);
    }
    if amount > AUTHORIZATION_LIMIT {
        return Err(Decline::OverLimit);
    }
    Ok(())
}

/// `PaymentValidation`'s answer.
///
/// Also reads a malformed-request answer (`success: false`), whose other
/// members are then absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAnswer {
    /// Whether the request was understood.
    pub success: bool,
    /// Whether the payment is authorized.
    #[serde(default)]
    pub valid: bool,
    /// The authorization, when valid.
    #[serde(default)]
    pub authorization_code: Option<AuthorizationCode>,
    /// The amount asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The method used, after the default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    /// Why the payment was declined (or why the request was malformed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// 400 for a malformed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

impl PaymentAnswer {
    /// The answer for a decision: authorized with `code` (asked for only
    /// when authorized), or declined with the reason.
    pub fn decide(
        method: Option<&str>,
        amount: Money,
        code: impl FnOnce() -> AuthorizationCode,
    ) -> Self {
        let decision = authorize(method, amount);
        let valid = decision.is_ok();
        Self {
            success: true,
            valid,
            authorization_code: valid.then(code),
            amount: Some(amount),
            payment_method: Some(method.unwrap_or(DEFAULT_METHOD).to_owned()),
            message: decision.err().map(|decline| decline.to_string()),
            status_code: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    #[test]
    fn every_accepted_method_authorizes() {
        for method in ACCEPTED_METHODS {
            assert_eq!(authorize(Some(method), money("109.97")), Ok(()), "{method}");
        }
    }

    #[test]
    fn a_missing_method_means_credit_card() {
        assert_eq!(authorize(None, money("1")), Ok(()));
        let answer = PaymentAnswer::decide(None, money("1"), || {
            AuthorizationCode::generate(1_700_000_000_000, &mut rand::rng())
        });
        assert_eq!(answer.payment_method.as_deref(), Some("credit_card"));
    }

    #[test]
    fn an_unknown_method_is_declined_by_name() {
        let decline = authorize(Some("bitcoin"), money("10")).unwrap_err();
        assert_eq!(
            decline.to_string(),
            "Payment method 'bitcoin' is not accepted"
        );
    }

    #[test]
    fn the_method_is_checked_before_the_amount() {
        let decline = authorize(Some("cash"), money("0")).unwrap_err();
        assert_eq!(decline, Decline::MethodNotAccepted("cash".to_owned()));
    }

    #[test]
    fn zero_and_negative_amounts_are_declined() {
        for amount in ["0", "-5.00"] {
            let decline = authorize(None, money(amount)).unwrap_err();
            assert_eq!(decline.to_string(), "Amount must be greater than 0");
        }
    }

    #[test]
    fn the_limit_is_inclusive() {
        assert_eq!(authorize(None, money("10000.00")), Ok(()));
        let decline = authorize(None, money("10000.01")).unwrap_err();
        assert_eq!(
            decline.to_string(),
            "Amount exceeds the authorization limit of 10000.00"
        );
    }

    #[test]
    fn a_declined_answer_has_a_null_code_and_the_reason() {
        let answer = PaymentAnswer::decide(Some("bitcoin"), money("10"), || {
            unreachable!("no code is minted for a declined payment")
        });
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["valid"], false);
        assert_eq!(json["authorizationCode"], serde_json::Value::Null);
        assert_eq!(json["message"], "Payment method 'bitcoin' is not accepted");
    }
}
