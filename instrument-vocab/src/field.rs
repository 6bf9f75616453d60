//! The fields of a tracked call's span (`#[track_performance]`).
//!
//! | field | value |
//! |---|---|
//! | [`FUNCTION`] | the metric base name: `reserve_ticket`, `Inventory::take`, or `name = "…"` |
//! | [`OUTCOME`] | recorded when the call ends: an [`Outcome`](crate::Outcome) |
//! | [`LATENCY_MS`] | recorded when the call ends: milliseconds (`f64`) |
//! | [`ERROR_TYPE`] | recorded on an error: what went wrong; `panic` on a panic |
//!
//! ```
//! use instrument_vocab::field;
//! assert_eq!(field::TRACKED, ["function", "outcome", "latency_ms"]);
//! assert!(field::is_reserved("function"));
//! assert!(!field::is_reserved("seats"));
//! ```

/// The metric base name of a tracked call.
pub const FUNCTION: &str = "function";
/// How a tracked call ended.
pub const OUTCOME: &str = "outcome";
/// A tracked call's duration in milliseconds.
pub const LATENCY_MS: &str = "latency_ms";
/// What went wrong in a failed tracked call.
pub const ERROR_TYPE: &str = "error_type";

/// The fields whose presence makes a span a tracked call.
pub const TRACKED: [&str; 3] = [FUNCTION, OUTCOME, LATENCY_MS];

/// The fields recorded when a tracked call ends.
pub const RECORDED_AT_END: [&str; 3] = [OUTCOME, LATENCY_MS, ERROR_TYPE];

/// Every field the macro writes itself: a user field, argument or dimension by one of these
/// names would be overwritten, so the macro rejects it.
pub const RESERVED: [&str; 4] = [FUNCTION, OUTCOME, LATENCY_MS, ERROR_TYPE];

/// Whether `name` is one of [`RESERVED`].
#[must_use]
pub fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name)
}
