//! Reservation and authorization ids: `RES-<epoch ms>-<9 chars>`.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

const SUFFIX_LEN: usize = 9;
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A stock reservation: `RES-<13-digit epoch ms>-<9 chars [a-z0-9]>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReservationId(String);

/// A payment authorization: `AUTH-<13-digit epoch ms>-<9 chars [A-Z0-9]>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuthorizationCode(String);

impl ReservationId {
    /// A new reservation id minted at `epoch_ms`.
    pub fn generate(epoch_ms: u64, rng: &mut impl Rng) -> Self {
        Self(mint("RES", epoch_ms, LOWER, rng))
    }

    /// Whether `text` has the reservation id's format.
    #[must_use]
    pub fn is_well_formed(text: &str) -> bool {
        well_formed(text, "RES", LOWER)
    }

    /// The id's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AuthorizationCode {
    /// A new authorization code minted at `epoch_ms`.
    pub fn generate(epoch_ms: u64, rng: &mut impl Rng) -> Self {
        Self(mint("AUTH", epoch_ms, UPPER, rng))
    }

    /// Whether `text` has the authorization code's format.
    #[must_use]
    pub fn is_well_formed(text: &str) -> bool {
        well_formed(text, "AUTH", UPPER)
    }

    /// The code's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn mint(prefix: &str, epoch_ms: u64, alphabet: &[u8], rng: &mut impl Rng) -> String {
    let suffix: String = (0..SUFFIX_LEN)
        .filter_map(|_| alphabet.get(rng.random_range(0..alphabet.len())))
        .map(|&byte| char::from(byte))
        .collect();
    format!("{prefix}-{epoch_ms:013}-{suffix}")
}

fn well_formed(text: &str, prefix: &str, alphabet: &[u8]) -> bool {
    let mut parts = text.splitn(3, '-');
    let (Some(head), Some(millis), Some(suffix)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    head == prefix
        && millis.len() == 13
        && millis.bytes().all(|b| b.is_ascii_digit())
        && suffix.len() == SUFFIX_LEN
        && suffix.bytes().all(|b| alphabet.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_have_the_documented_format() {
        let mut rng = rand::rng();
        let reservation = ReservationId::generate(1_707_423_456_789, &mut rng);
        assert!(
            ReservationId::is_well_formed(reservation.as_str()),
            "{reservation}"
        );
        assert!(reservation.as_str().starts_with("RES-1707423456789-"));
        let code = AuthorizationCode::generate(1_707_423_456_789, &mut rng);
        assert!(AuthorizationCode::is_well_formed(code.as_str()), "{code}");
    }

    #[test]
    fn the_format_check_rejects_near_misses() {
        assert!(ReservationId::is_well_formed("RES-1707423456789-abc123def"));
        assert!(!ReservationId::is_well_formed(
            "RES-1707423456789-ABC123DEF"
        ));
        assert!(!ReservationId::is_well_formed("RES-170742345678-abc123def"));
        assert!(!ReservationId::is_well_formed("RES-1707423456789-abc123de"));
        assert!(AuthorizationCode::is_well_formed(
            "AUTH-1707423456789-XYZ789ABC"
        ));
        assert!(!AuthorizationCode::is_well_formed(
            "AUTH-1707423456789-xyz789abc"
        ));
    }
}
