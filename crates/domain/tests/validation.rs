//! Every row of the order system's validation table, in its order.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests may unwrap")]

use order_domain::{Order, Rule};
use serde_json::value::RawValue;

fn validate(text: &str) -> Result<Order, order_domain::ValidationError> {
    let event = RawValue::from_string(text.to_owned()).unwrap();
    Order::from_event(Some(&event))
}

fn rejects(text: &str, message: &str, field: &str) {
    let error = validate(text).expect_err(text);
    assert_eq!(error.message(), message, "{text}");
    assert_eq!(error.field(), field, "{text}");
}

/// Checks that every order `order_with` builds from one of `fragments` is
/// rejected with `message` on `field`.
fn rejects_each(
    fragments: &[&str],
    order_with: impl Fn(&str) -> String,
    message: &str,
    field: &str,
) {
    for fragment in fragments {
        rejects(&order_with(fragment), message, field);
    }
}

const CUSTOMER: &str = r#""customer": {"id": "C-1", "address": {"state": "CA"}}"#;

/// An order of one item with `fields`, for a valid customer.
fn one_item(fields: &str) -> String {
    format!(r#"{{"orderId": "O-1", "items": [{{{fields}}}], {CUSTOMER}}}"#)
}

/// Checks values of one field of the only item, which `fields_with` puts
/// among the item's fields: each `rejected` value is refused with `message`
/// on `field`, and each `accepted` one is valid.
fn checks_item_values(
    fields_with: impl Fn(&str) -> String,
    rejected: &[&str],
    accepted: &[&str],
    message: &str,
    field: &str,
) {
    rejects_each(
        rejected,
        |value| one_item(&fields_with(value)),
        message,
        field,
    );
    for value in accepted {
        assert!(
            validate(&one_item(&fields_with(value))).is_ok(),
            "{field} {value} is valid"
        );
    }
}

#[test]
fn rule_1_the_event_must_be_an_object() {
    let error = Order::from_event(None).unwrap_err();
    assert_eq!(
        (error.message().as_str(), error.field().as_str()),
        ("Event object is null or undefined", "event")
    );
    rejects_each(
        &["null", "[]", "\"order\"", "42", "true"],
        str::to_owned,
        "Event object is null or undefined",
        "event",
    );
}

#[test]
fn rule_2_the_order_id_must_be_a_non_empty_string() {
    rejects_each(
        &[
            "",
            r#""orderId": null,"#,
            r#""orderId": "","#,
            r#""orderId": 12345,"#,
        ],
        |order_id| format!(r#"{{{order_id} "items": [], {CUSTOMER}}}"#),
        "orderId is required",
        "orderId",
    );
}

#[test]
fn rule_3_items_must_be_a_non_empty_array() {
    rejects_each(
        &[
            "",
            r#""items": null,"#,
            r#""items": [],"#,
            r#""items": {"a": 1},"#,
            r#""items": "PROD-001","#,
        ],
        |items| format!(r#"{{"orderId": "O-1", {items} {CUSTOMER}}}"#),
        "items array is required and must not be empty",
        "items",
    );
}

#[test]
fn rule_4_the_customer_id_is_required() {
    rejects_each(
        &[
            "",
            r#", "customer": null"#,
            r#", "customer": {"address": {"state": "CA"}}"#,
            r#", "customer": {"id": "", "address": {"state": "CA"}}"#,
        ],
        |customer| format!(r#"{{"orderId": "O-1", "items": [{{}}]{customer}}}"#),
        "customer.id is required",
        "customer.id",
    );
}

#[test]
fn rule_5_the_state_is_required() {
    rejects_each(
        &[
            "",
            r#", "address": {}"#,
            r#", "address": {"state": ""}"#,
            r#", "address": {"zipCode": "94102"}"#,
        ],
        |address| {
            format!(
                r#"{{"orderId": "O-1", "items": [{{}}], "customer": {{"id": "C-1"{address}}}}}"#
            )
        },
        "customer.address.state is required for tax calculation",
        "customer.address.state",
    );
}

#[test]
fn rule_6_every_item_needs_a_product_id() {
    let text = format!(
        r#"{{"orderId": "O-1", "items": [{{"productId": "P", "quantity": 1, "price": 1}}, {{"productId": "", "quantity": 1, "price": 1}}], {CUSTOMER}}}"#
    );
    rejects(
        &text,
        "items[1].productId is required",
        "items[1].productId",
    );
    let text = format!(r#"{{"orderId": "O-1", "items": ["PROD-001"], {CUSTOMER}}}"#);
    rejects(
        &text,
        "items[0].productId is required",
        "items[0].productId",
    );
}

#[test]
fn rule_7_quantities_are_integers_from_1_to_10000() {
    checks_item_values(
        |quantity| format!(r#""productId": "P", "quantity": {quantity}, "price": 1"#),
        &["0", "-1", "1.5", "10001", "\"2\"", "null", "1e5"],
        &["1", "10000", "2.0", "1e3"],
        "items[0].quantity must be an integer from 1 to 10000",
        "items[0].quantity",
    );
}

#[test]
fn rule_8_prices_are_amounts_from_0_to_1000000_with_two_decimals() {
    checks_item_values(
        |price| format!(r#""productId": "P", "quantity": 1, "price": {price}"#),
        &["-0.01", "1.999", "1000000.01", "\"29.99\"", "null", "1e7"],
        &["0", "29.99", "29.990", "1000000", "1e2"],
        "items[0].price must be a non-negative amount with at most 2 decimals",
        "items[0].price",
    );
}

#[test]
fn rules_apply_in_table_order() {
    // Item 0 has a bad price and item 1 no product: rule 6 comes first.
    let text = format!(
        r#"{{"orderId": "O-1", "items": [{{"productId": "P", "quantity": 1, "price": -1}}, {{"quantity": 1, "price": 1}}], {CUSTOMER}}}"#
    );
    assert_eq!(validate(&text).unwrap_err().rule(), Rule::ProductId(1));
    // Everything is wrong: rule 2 is reported.
    assert_eq!(
        validate(r#"{"items": 3}"#).unwrap_err().rule(),
        Rule::OrderId
    );
}

#[test]
fn seed_test_4_fails_on_items() {
    rejects(
        r#"{"orderId": "ORD-INVALID", "items": [], "customer": {"id": "CUST-999"}}"#,
        "items array is required and must not be empty",
        "items",
    );
}

#[test]
fn a_valid_order_keeps_what_the_workers_need() {
    let order = validate(
        r#"{"orderId": "ORD-12345", "items": [{"productId": "PROD-001", "quantity": 2, "price": 29.99}],
            "customer": {"id": "CUST-789", "address": {"state": "ca", "zipCode": "94102"}, "paymentMethod": "paypal"}}"#,
    )
    .unwrap();
    assert_eq!(order.order_id(), "ORD-12345");
    assert_eq!(order.items()[0].quantity, 2);
    assert_eq!(order.customer().address.state, "ca");
    assert_eq!(order.customer().address.zip_code.as_deref(), Some("94102"));
    assert_eq!(order.customer().payment_method.as_deref(), Some("paypal"));
    let round_trip: Order = serde_json::from_str(&serde_json::to_string(&order).unwrap()).unwrap();
    assert_eq!(round_trip, order);
}

#[test]
fn texts_longer_than_the_limit_are_refused_naming_the_field_and_the_limit() {
    let long = "x".repeat(order_domain::MAX_TEXT_CHARS + 1);
    let fits = "x".repeat(order_domain::MAX_TEXT_CHARS);
    let order = |order_id: &str,
                 product: &str,
                 customer: &str,
                 state: &str,
                 zip: &str,
                 method: &str| {
        format!(
            r#"{{"orderId": "{order_id}", "items": [{{"productId": "{product}", "quantity": 1, "price": 1}}],
                "customer": {{"id": "{customer}", "address": {{"state": "{state}", "zipCode": "{zip}"}}, "paymentMethod": "{method}"}}}}"#
        )
    };
    assert!(validate(&order(&fits, &fits, &fits, &fits, &fits, &fits)).is_ok());
    for (text, field) in [
        (order(&long, "P", "C", "CA", "1", "paypal"), "orderId"),
        (
            order("O", &long, "C", "CA", "1", "paypal"),
            "items[0].productId",
        ),
        (order("O", "P", &long, "CA", "1", "paypal"), "customer.id"),
        (
            order("O", "P", "C", &long, "1", "paypal"),
            "customer.address.state",
        ),
        (
            order("O", "P", "C", "CA", &long, "paypal"),
            "customer.address.zipCode",
        ),
        (
            order("O", "P", "C", "CA", "1", &long),
            "customer.paymentMethod",
        ),
    ] {
        rejects(
            &text,
            &format!("{field} must be at most 128 characters"),
            field,
        );
    }
}

#[test]
fn more_items_than_the_limit_are_refused() {
    let item = r#"{"productId": "P", "quantity": 1, "price": 1}"#;
    let items = |count: usize| vec![item; count].join(",");
    let order = |count: usize| {
        format!(
            r#"{{"orderId": "O", "items": [{}], {CUSTOMER}}}"#,
            items(count)
        )
    };
    assert!(validate(&order(order_domain::MAX_ITEMS)).is_ok());
    rejects(
        &order(order_domain::MAX_ITEMS + 1),
        "items must hold at most 1000 items",
        "items",
    );
    // A megabyte of orderId is refused before anything else is read.
    let huge = format!(
        r#"{{"orderId": "{}", "items": [{}], {CUSTOMER}}}"#,
        "x".repeat(1 << 20),
        items(50_000)
    );
    assert_eq!(validate(&huge).unwrap_err().field(), "orderId");
}
