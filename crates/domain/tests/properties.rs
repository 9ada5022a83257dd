//! Properties of the order's parsing and of money, over generated input.
#![allow(clippy::unwrap_used, reason = "tests")]

use order_domain::money::parse_json_number;
use order_domain::{MAX_ITEMS, MAX_TEXT_CHARS, Money, Order};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::value::RawValue;

/// JSON values, nested a few levels, with the order's own keys among the
/// object keys so that some of them get far into validation.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1.0e30_f64..1.0e30).prop_map(serde_json::Value::from),
        "[a-zA-Z0-9 .-]{0,12}".prop_map(serde_json::Value::from),
        "[0-9]{1,40}(\\.[0-9]{1,40})?".prop_map(|digits| {
            serde_json::from_str(&digits).unwrap_or(serde_json::Value::Null)
        }),
    ];
    let keys = prop_oneof![
        Just("orderId".to_owned()),
        Just("items".to_owned()),
        Just("customer".to_owned()),
        Just("id".to_owned()),
        Just("address".to_owned()),
        Just("state".to_owned()),
        Just("productId".to_owned()),
        Just("quantity".to_owned()),
        Just("price".to_owned()),
        "[a-z]{1,6}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_json_event_is_accepted_within_the_limits_or_refused_naming_a_field(value in json()) {
        let raw = RawValue::from_string(value.to_string()).unwrap();
        match Order::from_event(Some(&raw)) {
            Ok(order) => {
                prop_assert!(!order.items().is_empty() && order.items().len() <= MAX_ITEMS);
                prop_assert!(order.order_id().chars().count() <= MAX_TEXT_CHARS);
                prop_assert!(order.subtotal().is_ok());
                let text = serde_json::to_string(&order).unwrap();
                let back: Order = serde_json::from_str(&text).unwrap();
                prop_assert_eq!(back, order);
            }
            Err(error) => {
                prop_assert!(!error.field().is_empty());
                prop_assert!(!error.message().is_empty());
            }
        }
    }

    #[test]
    fn a_decimal_reads_back_from_its_own_text(mantissa in any::<i64>(), scale in 0_u32..20) {
        let value = Decimal::new(mantissa, scale);
        prop_assert_eq!(parse_json_number(&value.to_string()), Some(value.normalize()));
        let padded = format!("{value}{}", if scale > 0 { "0".repeat(30) } else { String::new() });
        prop_assert_eq!(parse_json_number(&padded), Some(value.normalize()));
    }

    #[test]
    fn money_arithmetic_never_panics_and_is_exact_in_range(
        a in any::<i64>(), b in any::<i64>(), scale in 0_u32..4, quantity in any::<u32>()
    ) {
        let (a, b) = (Money::new(Decimal::new(a, scale)), Money::new(Decimal::new(b, scale)));
        let sum = a.plus(b).unwrap();
        prop_assert_eq!(sum, b.plus(a).unwrap());
        prop_assert_eq!(sum.amount(), a.amount() + b.amount());
        if let Ok(product) = a.times(quantity) {
            prop_assert_eq!(product.amount(), a.amount() * Decimal::from(quantity));
        }
        let huge = Money::new(Decimal::MAX);
        prop_assert!(huge.plus(huge).is_err());
        prop_assert_eq!(Money::sum([a, b]), Ok(sum));
    }
}
