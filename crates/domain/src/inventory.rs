//! Inventory: a catalog of stock levels, and which items it can supply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::ReservationId;
use crate::request::StockRequest;

/// Stock per product in the built-in catalog.
pub const DEFAULT_STOCK: u32 = 500;

/// Products in the built-in catalog: `PROD-001` … `PROD-010`.
pub const DEFAULT_PRODUCTS: u32 = 10;

/// The message of an answer where everything is available.
pub const ALL_AVAILABLE: &str = "All items available";

/// The message of an answer where something is not.
pub const SOME_UNAVAILABLE: &str = "Some items unavailable";

/// Products and their stock levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    stock: BTreeMap<String, u32>,
}

impl Default for Catalog {
    /// `PROD-001` … `PROD-010`, 500 units each.
    fn default() -> Self {
        Self {
            stock: (1..=DEFAULT_PRODUCTS)
                .map(|n| (format!("PROD-{n:03}"), DEFAULT_STOCK))
                .collect(),
        }
    }
}

/// A catalog file that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error(
    "catalog is not a JSON object of product ids to stock levels (e.g. {{\"PROD-001\": 500}}): {0}"
)]
pub struct CatalogError(#[from] serde_json::Error);

impl Catalog {
    /// A catalog from a JSON object mapping product ids to whole stock levels,
    /// `{"PROD-001": 500, "PROD-XL": 3}`.
    ///
    /// # Errors
    ///
    /// [`CatalogError`] when the text is not such an object.
    pub fn from_json(text: &str) -> Result<Self, CatalogError> {
        Ok(Self {
            stock: serde_json::from_str(text)?,
        })
    }

    /// Units in stock of `product_id`; `None` when the catalog lacks it.
    #[must_use]
    pub fn stock_of(&self, product_id: &str) -> Option<u32> {
        self.stock.get(product_id).copied()
    }

    /// Checks every requested item: available when the product exists and
    /// the quantity does not exceed its stock.
    #[must_use]
    pub fn check(&self, items: &[StockRequest]) -> StockCheck {
        let items: Vec<ItemAvailability> = items
            .iter()
            .map(|item| {
                let stock = self.stock_of(&item.product_id);
                ItemAvailability {
                    product_id: item.product_id.clone(),
                    requested: item.quantity,
                    available: stock.is_some_and(|level| item.quantity <= level),
                    stock_level: stock.unwrap_or(0),
                }
            })
            .collect();
        StockCheck { items }
    }
}

/// The outcome of checking items against the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockCheck {
    items: Vec<ItemAvailability>,
}

impl StockCheck {
    /// Whether every item is available.
    #[must_use]
    pub fn all_available(&self) -> bool {
        self.items.iter().all(|item| item.available)
    }

    /// The answer to give, with `reservation` when everything is available.
    ///
    /// `reservation` is asked for only when it is needed, so a reservation
    /// is never made for an order that cannot be supplied.
    pub fn answer(self, reservation: impl FnOnce() -> ReservationId) -> InventoryAnswer {
        let available = self.all_available();
        InventoryAnswer {
            success: true,
            available,
            reservation_id: available.then(reservation),
            message: Some(
                if available {
                    ALL_AVAILABLE
                } else {
                    SOME_UNAVAILABLE
                }
                .to_owned(),
            ),
            items: self.items,
            status_code: None,
        }
    }
}

/// One item's availability, as the answer lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemAvailability {
    /// The product asked for.
    pub product_id: String,
    /// Units asked for.
    pub requested: u32,
    /// Whether the catalog can supply them.
    pub available: bool,
    /// Units in stock (0 for an unknown product).
    pub stock_level: u32,
}

/// `InventoryCheck`'s answer.
///
/// Also reads a malformed-request answer (`success: false`), whose other
/// members are then absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryAnswer {
    /// Whether the request was understood.
    pub success: bool,
    /// Whether every item is available.
    #[serde(default)]
    pub available: bool,
    /// The reservation, when every item is available.
    #[serde(default)]
    pub reservation_id: Option<ReservationId>,
    /// A human-readable summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Each item's availability.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemAvailability>,
    /// 400 for a malformed request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(product_id: &str, quantity: u32) -> StockRequest {
        StockRequest {
            product_id: product_id.to_owned(),
            quantity,
        }
    }

    fn reservation() -> ReservationId {
        ReservationId::generate(1_700_000_000_000, &mut rand::rng())
    }

    #[test]
    fn the_default_catalog_has_ten_products_of_500() {
        let catalog = Catalog::default();
        assert_eq!(catalog.stock_of("PROD-001"), Some(500));
        assert_eq!(catalog.stock_of("PROD-010"), Some(500));
        assert_eq!(catalog.stock_of("PROD-011"), None);
    }

    #[test]
    fn all_available_items_get_a_reservation() {
        let answer = Catalog::default()
            .check(&[ask("PROD-001", 2), ask("PROD-002", 500)])
            .answer(reservation);
        assert!(answer.available);
        assert_eq!(answer.message.as_deref(), Some("All items available"));
        assert!(answer.reservation_id.is_some());
        assert_eq!(answer.items.len(), 2);
        assert!(
            answer
                .items
                .iter()
                .all(|item| item.available && item.stock_level == 500)
        );
    }

    #[test]
    fn an_unknown_product_is_unavailable_with_stock_zero() {
        let answer = Catalog::default()
            .check(&[ask("PROD-999", 1)])
            .answer(reservation);
        assert!(!answer.available);
        assert_eq!(answer.reservation_id, None);
        assert_eq!(answer.message.as_deref(), Some("Some items unavailable"));
        assert_eq!(
            answer.items,
            vec![ItemAvailability {
                product_id: "PROD-999".to_owned(),
                requested: 1,
                available: false,
                stock_level: 0,
            }]
        );
    }

    #[test]
    fn asking_for_more_than_the_stock_is_unavailable() {
        let mut reserved = false;
        let answer = Catalog::default()
            .check(&[ask("PROD-001", 1), ask("PROD-003", 501)])
            .answer(|| {
                reserved = true;
                reservation()
            });
        assert!(!answer.available);
        assert!(
            !reserved,
            "no reservation is made for an order that cannot be supplied"
        );
        assert!(answer.items[0].available);
        assert!(!answer.items[1].available);
        assert_eq!(answer.items[1].stock_level, 500);
    }

    #[test]
    fn a_catalog_file_replaces_the_default() {
        let catalog = Catalog::from_json(r#"{"WIDGET": 3}"#).unwrap();
        assert_eq!(catalog.stock_of("WIDGET"), Some(3));
        assert_eq!(catalog.stock_of("PROD-001"), None);
        assert!(Catalog::from_json(r#"{"WIDGET": -1}"#).is_err());
        assert!(Catalog::from_json("[1]").is_err());
    }

    #[test]
    fn the_answer_serializes_with_a_null_reservation_when_unavailable() {
        let answer = Catalog::default()
            .check(&[ask("NOPE", 1)])
            .answer(reservation);
        let json: serde_json::Value = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["reservationId"], serde_json::Value::Null);
        assert_eq!(json["available"], false);
        assert_eq!(json["success"], true);
    }
}
