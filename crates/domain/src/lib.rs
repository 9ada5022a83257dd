//! The order domain of the parallel order processor.
//!
//! Pure rules, no I/O: the typed [`Order`] and its validation, exact
//! [`Money`], the four workers' rules ([`inventory`], [`payment`],
//! [`shipping`], [`tax`]), how their answers are judged and totalled
//! ([`outcome`]), and the order's answer ([`OrderResponse`]). Every
//! message and number here is the one `docs/ORDER_SYSTEM.md` gives.
//!
//! ```
//! use order_domain::{Order, StateCode, shipping, tax};
//! use serde_json::value::RawValue;
//!
//! let event = RawValue::from_string(r#"{
//!     "orderId": "ORD-12345",
//!     "items": [{"productId": "PROD-001", "quantity": 2, "price": 29.99},
//!               {"productId": "PROD-002", "quantity": 1, "price": 49.99}],
//!     "customer": {"id": "CUST-789", "address": {"state": "CA", "zipCode": "94102"}}
//! }"#.to_owned()).unwrap();
//! let order = Order::from_event(Some(&event)).unwrap();
//! let subtotal = order.subtotal()?;
//! assert_eq!(subtotal.to_string(), "109.97");
//! let state = StateCode::new(&order.customer().address.state);
//! assert_eq!(tax::assess(subtotal, &state)?.amount.to_string(), "7.97");
//! # Ok::<(), order_domain::money::OutOfRange>(())
//! ```

pub mod ids;
pub mod inventory;
mod json;
mod moment;
pub mod money;
mod order;
pub mod outcome;
pub mod payment;
pub mod request;
pub mod shipping;
mod state;
pub mod tax;

pub use self::ids::{AuthorizationCode, ReservationId};
pub use self::moment::Moment;
pub use self::money::{Money, Rate};
pub use self::order::{
    Address, Customer, LineItem, MAX_ITEMS, MAX_PRICE, MAX_QUANTITY, MAX_TEXT_CHARS, Order, Rule,
    Text, ValidationError,
};
pub use self::outcome::{OrderResponse, Outcome, Worker};
pub use self::state::StateCode;
