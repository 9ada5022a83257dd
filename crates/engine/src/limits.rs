//! The service's limits, each written once.
//!
//! The API layer, the checkpoint rules, the engine and the `orders` command
//! all read them from here, so a request is held to the same number however
//! it arrives.

/// The largest payload of a synchronous invocation, request or response;
/// also the largest result an execution may end with (6 MiB).
pub const MAX_SYNC_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// The largest payload of an asynchronous (`Event`) invocation (1 MiB).
pub const MAX_ASYNC_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The largest request body the API reads: a checkpoint carrying a result
/// of [`MAX_SYNC_PAYLOAD_BYTES`], escaped inside its JSON, fits.
pub const MAX_REQUEST_BODY_BYTES: usize = MAX_SYNC_PAYLOAD_BYTES + MAX_SYNC_PAYLOAD_BYTES / 2;

/// The largest payload (result, input) one operation update may carry,
/// and the largest callback result.
pub const MAX_OPERATION_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The largest error object one update may carry, as JSON.
pub const MAX_ERROR_BYTES: usize = 1024 * 1024;

/// The longest wait or retry delay, in seconds (a year and a day).
pub const MAX_DELAY_SECONDS: i64 = 31_622_400;

/// The longest callback timeout, in seconds.
pub const MAX_CALLBACK_SECONDS: i64 = 99_999_999;

/// The most items one page of a listing or of state holds by default.
pub const DEFAULT_PAGE_ITEMS: usize = 100;

/// The most items one page may hold.
pub const MAX_PAGE_ITEMS: usize = 1000;

/// The most payload bytes one page of state (or the envelope) carries.
pub const MAX_PAGE_BYTES: usize = 5 * 1024 * 1024;

/// An execution paused with its timeout paused still times out this many
/// days after it started.
pub const MAX_PAUSED_LIFETIME_DAYS: i64 = 366;

/// The longest pause or resume reason, in characters.
pub const MAX_REASON_CHARS: usize = 1024;

/// The longest operation name, in bytes.
pub const MAX_OPERATION_NAME_BYTES: usize = 256;

/// How long a pause or resume request's client token makes a repeat of it
/// succeed without acting again, in milliseconds (15 minutes).
pub const CONTROL_TOKEN_MILLIS: i64 = 15 * 60 * 1000;

/// A day, in milliseconds.
pub const DAY_MILLIS: i64 = 86_400_000;

/// How long the log lines of plain functions' invocations are kept, in
/// days: as long as an execution is by default.
pub const PLAIN_LOG_DAYS: i64 = 14;

/// The longest function name or ARN a chained invoke may name, in bytes.
pub const MAX_FUNCTION_REFERENCE_BYTES: usize = 256;

/// The largest time scale (see `EngineOptions::time_scale`).
pub const MAX_TIME_SCALE: f64 = 1e6;

/// The size of a page asked for with `MaxItems`: the default when absent or
/// 0, and never more than [`MAX_PAGE_ITEMS`].
#[must_use]
pub fn page_items(max_items: Option<usize>) -> usize {
    match max_items {
        None | Some(0) => DEFAULT_PAGE_ITEMS,
        Some(items) => items.min(MAX_PAGE_ITEMS),
    }
}

/// Whether `name` is a valid execution name or operation id: 1 to 64
/// characters of `[a-zA-Z0-9-_]`.
#[must_use]
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What [`is_valid_name`] accepts, for error messages.
pub const VALID_NAME: &str = "1 to 64 characters of [a-zA-Z0-9-_]";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_and_cap() {
        assert_eq!(page_items(None), DEFAULT_PAGE_ITEMS);
        assert_eq!(page_items(Some(0)), DEFAULT_PAGE_ITEMS);
        assert_eq!(page_items(Some(7)), 7);
        assert_eq!(page_items(Some(5_000)), MAX_PAGE_ITEMS);
    }

    #[test]
    fn names_are_short_and_plain() {
        assert!(is_valid_name("order-42_b"));
        assert!(is_valid_name(&"a".repeat(64)));
        assert!(!is_valid_name(&"a".repeat(65)));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name("ä"));
    }
}
