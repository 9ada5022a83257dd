//! US state codes, compared case-insensitively and reported upper-case.

use std::fmt;

/// A state code, upper-cased (`"ca"` is `CA`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateCode(String);

impl StateCode {
    /// The code for `text`, upper-cased.
    #[must_use]
    pub fn new(text: &str) -> Self {
        Self(text.to_uppercase())
    }

    /// The upper-case code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
