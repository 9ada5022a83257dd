//! The order: its typed form and the validation that produces it.

use std::fmt;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::json::{self, Json, Object};
use crate::money::{Money, OutOfRange, parse_json_number};

/// The largest quantity one line item may ask for.
pub const MAX_QUANTITY: u32 = 10_000;

/// The largest unit price, in dollars.
pub const MAX_PRICE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// The most line items one order may hold: every operation's payload stays
/// far below the service's 1 MiB limit.
pub const MAX_ITEMS: usize = 1_000;

/// The longest text an order carries in any field (`orderId`,
/// `customer.id`, a `productId`, the state, the ZIP code, the payment
/// method), in characters.
pub const MAX_TEXT_CHARS: usize = 128;

/// A validated order, as the orchestrator received it.
///
/// Built only by [`Order::from_event`] (or deserialized from a form it
/// serialized), so every order in hand satisfies the order system's validation table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(
    clippy::struct_field_names,
    reason = "`orderId` is the order's field in the order system's rules and on the wire"
)]
pub struct Order {
    order_id: String,
    items: Vec<LineItem>,
    customer: Customer,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// The catalog product.
    pub product_id: String,
    /// Units asked for, from 1 to [`MAX_QUANTITY`].
    pub quantity: u32,
    /// Unit price, from 0 to [`MAX_PRICE`], at most two decimals.
    pub price: Money,
}

/// Who placed the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The customer's id.
    pub id: String,
    /// Where the order ships; the state decides tax and delivery time.
    pub address: Address,
    /// How the customer pays, as given (`None`: the default, `credit_card`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
}

/// A shipping address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// The two-letter state code, as given.
    pub state: String,
    /// The ZIP code, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
}

impl Order {
    /// Validates an order event, applying the order system's rules in their order and
    /// stopping at the first that fails.
    ///
    /// `event` is `None` when no event was given at all.
    ///
    /// ```
    /// use order_domain::Order;
    /// use serde_json::value::RawValue;
    ///
    /// let event = RawValue::from_string(r#"{"orderId": "ORD-1", "items": [],
    ///     "customer": {"id": "C-1"}}"#.to_owned()).unwrap();
    /// let error = Order::from_event(Some(&event)).unwrap_err();
    /// assert_eq!(error.field(), "items");
    /// assert_eq!(error.message(), "items array is required and must not be empty");
    /// ```
    ///
    /// # Errors
    ///
    /// The first [`ValidationError`] in the order system's order.
    pub fn from_event(event: Option<&RawValue>) -> Result<Self, ValidationError> {
        let Some(Json::Object(event)) = event.map(json::classify) else {
            return Err(ValidationError(Rule::Event));
        };
        let order_id = event
            .non_empty_string("orderId")
            .ok_or(ValidationError(Rule::OrderId))?;
        short(&order_id, Text::OrderId)?;
        let items = match event.get("items") {
            Some(Json::Array(items)) if !items.is_empty() => items,
            _ => return Err(ValidationError(Rule::Items)),
        };
        if items.len() > MAX_ITEMS {
            return Err(ValidationError(Rule::TooManyItems));
        }
        let customer = event.object_or_empty("customer");
        let customer_id = customer
            .non_empty_string("id")
            .ok_or(ValidationError(Rule::CustomerId))?;
        short(&customer_id, Text::CustomerId)?;
        let address = customer.object_or_empty("address");
        let state = address
            .non_empty_string("state")
            .ok_or(ValidationError(Rule::State))?;
        short(&state, Text::State)?;

        let items: Vec<Object<'_>> = items
            .iter()
            .map(|item| match json::classify(item) {
                Json::Object(fields) => fields,
                _ => Object::default(),
            })
            .collect();
        let product_ids = items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let product_id = item
                    .non_empty_string("productId")
                    .ok_or(ValidationError(Rule::ProductId(index)))?;
                short(&product_id, Text::ProductId(index))?;
                Ok(product_id)
            })
            .collect::<Result<Vec<_>, ValidationError>>()?;
        let quantities = items
            .iter()
            .enumerate()
            .map(|(index, item)| quantity(item).ok_or(ValidationError(Rule::Quantity(index))))
            .collect::<Result<Vec<_>, _>>()?;
        let prices = items
            .iter()
            .enumerate()
            .map(|(index, item)| price(item).ok_or(ValidationError(Rule::Price(index))))
            .collect::<Result<Vec<_>, _>>()?;

        let items = product_ids
            .into_iter()
            .zip(quantities)
            .zip(prices)
            .map(|((product_id, quantity), price)| LineItem {
                product_id,
                quantity,
                price,
            })
            .collect();
        let zip_code = address.display_text("zipCode");
        if let Some(zip_code) = &zip_code {
            short(zip_code, Text::ZipCode)?;
        }
        let payment_method = customer.display_text("paymentMethod");
        if let Some(payment_method) = &payment_method {
            short(payment_method, Text::PaymentMethod)?;
        }
        Ok(Self {
            order_id,
            items,
            customer: Customer {
                id: customer_id,
                address: Address { state, zip_code },
                payment_method,
            },
        })
    }

    /// The order's id.
    #[must_use]
    pub fn order_id(&self) -> &str {
        &self.order_id
    }

    /// The order's lines, never empty.
    #[must_use]
    pub fn items(&self) -> &[LineItem] {
        &self.items
    }

    /// Who placed the order.
    #[must_use]
    pub fn customer(&self) -> &Customer {
        &self.customer
    }

    /// Σ price × quantity over the lines, exact (not rounded: prices have at
    /// most two decimals, so the sum has too).
    ///
    /// # Errors
    ///
    /// Never for a validated order, whose limits keep it far in range.
    pub fn subtotal(&self) -> Result<Money, OutOfRange> {
        let lines = self
            .items
            .iter()
            .map(|item| item.price.times(item.quantity))
            .collect::<Result<Vec<_>, _>>()?;
        Money::sum(lines)
    }
}

/// Checks that `text`, the value of the field `which`, is at most
/// [`MAX_TEXT_CHARS`] characters.
fn short(text: &str, which: Text) -> Result<(), ValidationError> {
    if text.chars().count() > MAX_TEXT_CHARS {
        Err(ValidationError(Rule::TooLong(which)))
    } else {
        Ok(())
    }
}

/// Reads a quantity: a JSON number whose value is an integer from 1 to
/// [`MAX_QUANTITY`] (`2.0` is the integer 2).
pub(crate) fn quantity(item: &Object<'_>) -> Option<u32> {
    let Some(Json::Number(text)) = item.get("quantity") else {
        return None;
    };
    let value = parse_json_number(text)?;
    if !value.fract().is_zero() {
        return None;
    }
    let whole = value.to_u32()?;
    (1..=MAX_QUANTITY).contains(&whole).then_some(whole)
}

/// Reads a price: a JSON number from 0 to [`MAX_PRICE`] with at most two
/// decimals once trailing zeros are dropped (`29.990` is `29.99`).
fn price(item: &Object<'_>) -> Option<Money> {
    let Some(Json::Number(text)) = item.get("price") else {
        return None;
    };
    let value = parse_json_number(text)?;
    let in_range = value >= Decimal::ZERO && value <= MAX_PRICE;
    (in_range && value.scale() <= 2).then_some(Money::new(value))
}

/// An order that breaks one of the order system's validation rules.
///
/// Its message and field are the order system's, word for word. Serializes as the
/// `error` member of the order's answer:
/// `{"name": "ValidationError", "message": ..., "field": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.message())]
pub struct ValidationError(Rule);

impl ValidationError {
    /// The rule that failed.
    #[must_use]
    pub const fn rule(&self) -> Rule {
        self.0
    }

    /// The rule's message.
    #[must_use]
    pub fn message(&self) -> String {
        self.0.message()
    }

    /// The path of the field at fault (`items[1].price`).
    #[must_use]
    pub fn field(&self) -> String {
        self.0.field()
    }
}

impl Serialize for ValidationError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut error = serializer.serialize_struct("ValidationError", 3)?;
        error.serialize_field("name", "ValidationError")?;
        error.serialize_field("message", &self.message())?;
        error.serialize_field("field", &self.field())?;
        error.end()
    }
}

/// the order system's validation rules, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// 1: the event is missing, `null`, or not an object.
    Event,
    /// 2: `orderId` is missing, empty or not a string.
    OrderId,
    /// 3: `items` is missing, not an array, or empty.
    Items,
    /// 4: `customer.id` is missing or empty.
    CustomerId,
    /// 5: `customer.address.state` is missing or empty.
    State,
    /// 6: the item at this index has no `productId`.
    ProductId(usize),
    /// 7: the item at this index has a quantity that is not an integer from 1 to 10000.
    Quantity(usize),
    /// 8: the item at this index has a price that is not an amount from 0 to 1000000 with at most 2 decimals.
    Price(usize),
    /// Beyond the order system's table, checked right after the rule of the same field:
    /// a text longer than [`MAX_TEXT_CHARS`].
    TooLong(Text),
    /// Beyond the order system's table, checked right after rule 3: more than
    /// [`MAX_ITEMS`] line items.
    TooManyItems,
}

/// A text field of the order, for [`Rule::TooLong`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// `orderId`.
    OrderId,
    /// `customer.id`.
    CustomerId,
    /// `customer.address.state`.
    State,
    /// The item at this index's `productId`.
    ProductId(usize),
    /// `customer.address.zipCode`.
    ZipCode,
    /// `customer.paymentMethod`.
    PaymentMethod,
}

impl Text {
    /// The field's path.
    fn field(self) -> String {
        match self {
            Self::OrderId => "orderId".to_owned(),
            Self::CustomerId => "customer.id".to_owned(),
            Self::State => "customer.address.state".to_owned(),
            Self::ProductId(index) => format!("items[{index}].productId"),
            Self::ZipCode => "customer.address.zipCode".to_owned(),
            Self::PaymentMethod => "customer.paymentMethod".to_owned(),
        }
    }
}

impl Rule {
    /// The rule's message, as the order system's rules word it.
    #[must_use]
    pub fn message(self) -> String {
        match self {
            Self::Event => "Event object is null or undefined".to_owned(),
            Self::OrderId => "orderId is required".to_owned(),
            Self::Items => "items array is required and must not be empty".to_owned(),
            Self::CustomerId => "customer.id is required".to_owned(),
            Self::State => "customer.address.state is required for tax calculation".to_owned(),
            Self::ProductId(_) => format!("{} is required", self.field()),
            Self::Quantity(_) => {
                format!(
                    "{} must be an integer from 1 to {MAX_QUANTITY}",
                    self.field()
                )
            }
            Self::Price(_) => format!(
                "{} must be a non-negative amount with at most 2 decimals",
                self.field()
            ),
            Self::TooLong(_) => format!(
                "{} must be at most {MAX_TEXT_CHARS} characters",
                self.field()
            ),
            Self::TooManyItems => format!("items must hold at most {MAX_ITEMS} items"),
        }
    }

    /// The path of the field the rule checks.
    #[must_use]
    pub fn field(self) -> String {
        match self {
            Self::Event => "event".to_owned(),
            Self::OrderId => "orderId".to_owned(),
            Self::Items | Self::TooManyItems => "items".to_owned(),
            Self::CustomerId => "customer.id".to_owned(),
            Self::State => "customer.address.state".to_owned(),
            Self::ProductId(index) => format!("items[{index}].productId"),
            Self::Quantity(index) => format!("items[{index}].quantity"),
            Self::Price(index) => format!("items[{index}].price"),
            Self::TooLong(text) => text.field(),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}
