//! Exact decimal amounts: money, quantities of money and tax rates.
//!
//! Amounts are [`rust_decimal::Decimal`] from the JSON text to the JSON text:
//! they are parsed from the number's digits (never through `f64`) and written
//! back as JSON numbers with exactly the digits they hold.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// An amount of money in US dollars, exact to the cent once rounded.
///
/// Arithmetic is checked: an amount too large for an exact decimal is an
/// error naming the values, never a panic.
///
/// ```
/// use order_domain::Money;
///
/// let price: Money = "29.99".parse().unwrap();
/// let total = price.times(2)?.plus("49.99".parse().unwrap())?;
/// assert_eq!(total.to_string(), "109.97");
/// # Ok::<(), order_domain::money::OutOfRange>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// Zero dollars.
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// Wraps an exact decimal amount.
    #[must_use]
    pub const fn new(amount: Decimal) -> Self {
        Self(amount)
    }

    /// The amount as an exact decimal.
    #[must_use]
    pub const fn amount(self) -> Decimal {
        self.0
    }

    /// Rounds to cents, half away from zero (`0.125` → `0.13`).
    #[must_use]
    pub fn round_to_cents(self) -> Self {
        Self(round_to_cents(self.0))
    }

    /// `self + other`.
    ///
    /// # Errors
    ///
    /// When the sum does not fit an exact decimal.
    pub fn plus(self, other: Self) -> Result<Self, OutOfRange> {
        self.0
            .checked_add(other.0)
            .map(Self)
            .ok_or_else(|| OutOfRange(format!("{self} + {other}")))
    }

    /// `self × quantity`.
    ///
    /// # Errors
    ///
    /// When the product does not fit an exact decimal.
    pub fn times(self, quantity: u32) -> Result<Self, OutOfRange> {
        self.0
            .checked_mul(Decimal::from(quantity))
            .map(Self)
            .ok_or_else(|| OutOfRange(format!("{self} × {quantity}")))
    }

    /// The sum of `amounts`.
    ///
    /// # Errors
    ///
    /// When a partial sum does not fit an exact decimal.
    pub fn sum(amounts: impl IntoIterator<Item = Self>) -> Result<Self, OutOfRange> {
        amounts.into_iter().try_fold(Self::ZERO, Self::plus)
    }
}

/// An amount too large for an exact decimal (about 7.9 × 10²⁸), with the
/// operation that produced it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("amount out of range: {0} does not fit an exact decimal")]
pub struct OutOfRange(String);

/// Rounds an exact decimal to two places, half away from zero.
pub(crate) fn round_to_cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Money {
    type Err = NotANumber;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_json_number(text).map(Self).ok_or(NotANumber)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_decimal(deserializer).map(Self)
    }
}

/// A tax rate, as an exact fraction (`0.0725` is 7.25 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(Decimal);

impl Rate {
    /// Wraps an exact fraction.
    #[must_use]
    pub const fn new(fraction: Decimal) -> Self {
        Self(fraction)
    }

    /// The rate as an exact fraction.
    #[must_use]
    pub const fn fraction(self) -> Decimal {
        self.0
    }

    /// `amount × rate`, rounded to cents half away from zero.
    ///
    /// # Errors
    ///
    /// When the product does not fit an exact decimal.
    pub fn apply(self, amount: Money) -> Result<Money, OutOfRange> {
        amount
            .0
            .checked_mul(self.0)
            .map(|tax| Money(round_to_cents(tax)))
            .ok_or_else(|| OutOfRange(format!("{amount} × {self}")))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_decimal(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_decimal(deserializer).map(Self)
    }
}

/// The text was not a JSON number that fits an exact decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a JSON number that fits an exact decimal")]
pub struct NotANumber;

/// Parses the text of one JSON number exactly.
///
/// Accepts the JSON number grammar, exponents included (`1e2`, `2.5E-1`).
/// Returns `None` for anything else (strings, `true`, `NaN`) and for numbers
/// an exact decimal cannot hold.
#[must_use]
pub fn parse_json_number(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let first = text.chars().next()?;
    if !(first == '-' || first.is_ascii_digit()) {
        return None;
    }
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
    {
        return None;
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    // Trailing zeros of the fraction change nothing but the scale, which an
    // exact decimal holds to 28 places: `29.99000…0` is `29.99`.
    if mantissa.ends_with('.') {
        return None;
    }
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    let value = if exponent.is_empty() {
        Decimal::from_str_exact(mantissa).ok()?
    } else {
        Decimal::from_scientific(&format!("{mantissa}{exponent}")).ok()?
    };
    Some(value.normalize())
}

fn serialize_decimal<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(value.to_string()).map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

fn deserialize_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    let raw = Box::<RawValue>::deserialize(deserializer)?;
    parse_json_number(raw.get()).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "expected an exact decimal number, found {}",
            raw.get()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(money("0.125").round_to_cents(), money("0.13"));
        assert_eq!(money("0.135").round_to_cents(), money("0.14"));
        assert_eq!(money("-0.125").round_to_cents(), money("-0.13"));
        assert_eq!(money("7.972825").round_to_cents(), money("7.97"));
    }

    #[test]
    fn parses_json_numbers_exactly() {
        assert_eq!(parse_json_number("29.99"), Some(Decimal::new(2999, 2)));
        assert_eq!(parse_json_number("1e2"), Some(Decimal::from(100)));
        assert_eq!(parse_json_number("2.5E-1"), Some(Decimal::new(25, 2)));
        assert_eq!(parse_json_number("100.00"), Some(Decimal::from(100)));
        assert_eq!(parse_json_number("\"29.99\""), None);
        assert_eq!(parse_json_number("true"), None);
        assert_eq!(parse_json_number("1e400"), None);
    }

    #[test]
    fn a_float_sum_that_drifts_stays_exact() {
        // 0.1 + 0.2 is 0.30000000000000004 in binary floating point.
        assert_eq!(money("0.1").plus(money("0.2")), Ok(money("0.3")));
    }

    #[test]
    fn trailing_zeros_past_the_exact_scale_are_dropped() {
        let long = format!("29.99{}", "0".repeat(26));
        assert_eq!(parse_json_number(&long), Some(Decimal::new(2999, 2)));
        assert_eq!(
            parse_json_number(&format!("{long}e1")),
            Some(Decimal::new(2999, 1))
        );
        assert_eq!(parse_json_number("100."), None, "not a JSON number");
        assert_eq!(
            parse_json_number(&format!("0.{}1", "0".repeat(30))),
            None,
            "a digit past the 28th place is not exact"
        );
    }

    #[test]
    fn amounts_too_large_are_an_error_naming_them() {
        let huge = money("79000000000000000000000000000");
        let error = huge.plus(huge).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("79000000000000000000000000000 + "),
            "{error}"
        );
        assert!(huge.times(10).is_err());
        assert!(Rate::new(Decimal::from(2)).apply(huge).is_err());
        assert!(Money::sum([huge, huge]).is_err());
    }

    #[test]
    fn serializes_as_a_json_number_with_its_digits() {
        #[derive(Serialize, Deserialize)]
        struct Holder {
            cost: Money,
            rate: Rate,
        }
        let holder = Holder {
            cost: money("12.74"),
            rate: Rate::new(Decimal::new(725, 4)),
        };
        let text = serde_json::to_string(&holder).unwrap();
        assert_eq!(text, r#"{"cost":12.74,"rate":0.0725}"#);
        let back: Holder = serde_json::from_str(&text).unwrap();
        assert_eq!(back.cost, money("12.74"));
        assert_eq!(back.rate.fraction(), Decimal::new(725, 4));
    }

    #[test]
    fn refuses_a_string_where_a_number_belongs() {
        let parsed = serde_json::from_str::<Money>("\"12.74\"");
        assert!(parsed.is_err());
    }

    #[test]
    fn applies_a_rate_rounding_to_cents() {
        let rate = Rate::new(Decimal::new(625, 4));
        assert_eq!(rate.apply(money("339.90")), Ok(money("21.24")));
    }
}
