//! The reserved keys of the log line contract and what happens to user fields that collide with
//! them.
//!
//! * **Fixed keys** are written by the layer itself: `timestamp`, `level`, `message`, `service`,
//!   `environment`, `target`, `location`, `span`, `spans`, `cold_start`, `function_name`,
//!   `function_version`, `function_memory_size`, `error`. A user field with one of these names is
//!   kept under `field_<name>` (e.g. a field `level = 3` becomes `"field_level":3`). If even that
//!   key is taken in the same line, `_2`, `_3`, … is appended. Nothing is dropped, no key repeats.
//! * **Context keys** — `correlation_id`, `function_request_id`, `xray_trace_id`, `function_arn` —
//!   are *promoted*: the nearest value wins (event field, then innermost span, outward), and
//!   appears once at the top of the line.
//! * An event's `message` field is the message; an event field recorded as `&dyn Error` becomes
//!   `error: {type, message, chain}`.

use instrument_vocab::context;

/// Keys the layer writes itself, with the key a colliding user field is kept under.
const FIXED: [(&str, &str); 14] = [
    ("timestamp", "field_timestamp"),
    ("level", "field_level"),
    ("message", "field_message"),
    ("service", "field_service"),
    ("environment", "field_environment"),
    ("target", "field_target"),
    ("location", "field_location"),
    ("span", "field_span"),
    ("spans", "field_spans"),
    ("cold_start", "field_cold_start"),
    ("function_name", "field_function_name"),
    ("function_version", "field_function_version"),
    ("function_memory_size", "field_function_memory_size"),
    ("error", "field_error"),
];

/// The promoted request-context keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContextKey {
    CorrelationId = 0,
    FunctionRequestId = 1,
    XrayTraceId = 2,
    FunctionArn = 3,
}

pub(crate) const CONTEXT_KEYS: [ContextKey; 4] = [
    ContextKey::CorrelationId,
    ContextKey::FunctionRequestId,
    ContextKey::XrayTraceId,
    ContextKey::FunctionArn,
];

impl ContextKey {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            ContextKey::CorrelationId => context::CORRELATION_ID,
            ContextKey::FunctionRequestId => context::FUNCTION_REQUEST_ID,
            ContextKey::XrayTraceId => context::XRAY_TRACE_ID,
            ContextKey::FunctionArn => context::FUNCTION_ARN,
        }
    }
}

/// The context key a field of this name sets, if any.
#[inline]
pub(crate) fn context_key(name: &str) -> Option<ContextKey> {
    match name {
        context::CORRELATION_ID => Some(ContextKey::CorrelationId),
        context::FUNCTION_REQUEST_ID => Some(ContextKey::FunctionRequestId),
        context::XRAY_TRACE_ID => Some(ContextKey::XrayTraceId),
        context::FUNCTION_ARN => Some(ContextKey::FunctionArn),
        _ => None,
    }
}

/// The key a user field named `name` is written under (its own name unless it is a fixed key).
#[inline]
pub(crate) fn user_key(name: &'static str) -> &'static str {
    // Fixed keys are 4 to 20 bytes long and mostly start with a handful of letters: a cheap
    // pre-check keeps ordinary names off the comparison loop.
    if !(4..=20).contains(&name.len())
        || !matches!(
            name.as_bytes()[0],
            b't' | b'l' | b'm' | b's' | b'e' | b'c' | b'f'
        )
    {
        return name;
    }
    for (fixed, alt) in FIXED {
        if fixed == name {
            return alt;
        }
    }
    name
}

/// A one-bit fingerprint of a key for a 64-bit Bloom filter of the keys already on a line.
#[inline]
pub(crate) fn bit(key: &str) -> u64 {
    let b = key.as_bytes();
    let h = match b {
        [] => 0u32,
        [only] => *only as u32,
        [first, .., last] => {
            (b.len() as u32)
                .wrapping_mul(0x9e37_79b9)
                .wrapping_add((*first as u32) << 8)
                ^ (*last as u32).wrapping_mul(31)
                ^ (b[b.len() / 2] as u32) << 16
        }
    };
    1u64 << (h.wrapping_mul(0x0100_0193) >> 26)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_keys_are_renamed_and_others_kept() {
        for (fixed, alt) in FIXED {
            assert_eq!(user_key(fixed), alt);
            assert_eq!(alt, format!("field_{fixed}"));
        }
        for name in [
            "user",
            "",
            "x",
            "latency_ms",
            "levels",
            "correlation_id",
            "field_level",
        ] {
            assert_eq!(user_key(name), name);
        }
    }

    #[test]
    fn bits_are_single_bits() {
        for name in ["a", "", "timestamp", "user_id", "💥"] {
            assert_eq!(bit(name).count_ones(), 1);
        }
    }
}
