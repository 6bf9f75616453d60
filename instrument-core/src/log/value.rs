//! Writing field values into a line with PII redaction applied: strings, `Debug`/`Display`
//! output, error messages, long integers (a `u64` can hold a card number), and whole values of
//! fields whose *name* a key rule matches (`password`, `token`, …).
//!
//! With no redactor everything goes straight to the JSON writer. With one, text is scanned once
//! and, when nothing matches, escaped straight into the line without a copy.

use std::cell::RefCell;
use std::error::Error;
use std::fmt::{self, Write as _};

use crate::json;
use tracing_core::field::Field;

use crate::callsite::Schema;
use crate::redact::{KeyMatch, Redactor};

/// How deep an error's `source()` chain is followed (guards against cyclic chains).
const MAX_CHAIN: usize = 32;

/// Integers with at least this many digits are checked as text (cards, SSNs, phone numbers).
const CHECKED_INTEGER: u128 = 10_000_000;

/// A value as tracing hands it over.
#[derive(Clone, Copy)]
pub(crate) enum Value<'v> {
    F64(f64),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    Bool(bool),
    Str(&'v str),
    Debug(&'v dyn fmt::Debug),
    Error(&'v (dyn Error + 'static)),
}

impl Value<'_> {
    /// Whether this is a plain string value.
    #[inline]
    pub(crate) fn is_str(&self) -> bool {
        matches!(self, Value::Str(_))
    }
}

/// What applies to one value.
#[derive(Clone, Copy)]
pub(crate) struct Policy<'r> {
    pub(crate) redactor: Option<&'r Redactor>,
    /// The field's name matched a key rule: the whole value is replaced.
    pub(crate) key: Option<KeyMatch>,
    /// Written as a JSON string whatever its type (the message).
    pub(crate) as_string: bool,
}

impl<'r> Policy<'r> {
    /// The policy for `field` of the callsite `schema`; `exempt` fields (request IDs, trace
    /// IDs) are identifiers, never PII, and skip the scan.
    #[inline]
    pub(crate) fn for_field(
        redactor: Option<&'r Redactor>,
        schema: &Schema,
        field: &Field,
        exempt: bool,
    ) -> Self {
        let redactor = if exempt { None } else { redactor };
        Policy {
            redactor,
            key: redactor.and_then(|r| schema.key_rule(field, r)),
            as_string: false,
        }
    }
}

thread_local! {
    /// Reused for formatting `Debug`/`Display` values before they are scanned.
    static TEXT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Formats with the reusable thread-local buffer (or a fresh one when it is busy).
fn with_text<R>(args: fmt::Arguments<'_>, f: impl FnOnce(&str) -> R) -> R {
    let mut f = Some(f);
    let reused = TEXT
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut text) => {
                text.clear();
                let _ = text.write_fmt(args);
                f.take().map(|f| f(&text))
            }
            Err(_) => None,
        })
        .ok()
        .flatten();
    match (reused, f) {
        (Some(r), _) => r,
        (None, Some(f)) => f(&args.to_string()),
        (None, None) => unreachable!("the closure ran or is still here"),
    }
}

/// Writes `text` as a JSON string, redacted.
#[inline]
fn write_scanned(out: &mut Vec<u8>, text: &str, redactor: &Redactor) {
    out.push(b'"');
    redactor.redact_with(text, |piece| json::escape_into(out, piece));
    out.push(b'"');
}

fn write_keyed(out: &mut Vec<u8>, redactor: &Redactor, key: KeyMatch, text: &str) {
    out.push(b'"');
    redactor.redact_keyed_with(key, text, |piece| json::escape_into(out, piece));
    out.push(b'"');
}

/// Writes a value under `policy`.
pub(crate) fn write(out: &mut Vec<u8>, value: Value<'_>, policy: Policy<'_>) {
    let Some(redactor) = policy.redactor else {
        return write_plain(out, value, policy.as_string);
    };
    if let Some(key) = policy.key {
        return match value {
            Value::Str(s) => write_keyed(out, redactor, key, s),
            Value::Debug(d) => with_text(format_args!("{d:?}"), |t| {
                write_keyed(out, redactor, key, t)
            }),
            Value::Error(e) => {
                with_text(format_args!("{e}"), |t| write_keyed(out, redactor, key, t))
            }
            other => {
                let mut text = Vec::new();
                write_plain(&mut text, other, false);
                write_keyed(out, redactor, key, &String::from_utf8_lossy(&text))
            }
        };
    }
    match value {
        Value::Str(s) => write_scanned(out, s, redactor),
        Value::Debug(d) => with_text(format_args!("{d:?}"), |t| write_scanned(out, t, redactor)),
        Value::Error(e) => write_error(out, e, Some(redactor)),
        Value::I64(v) if u128::from(v.unsigned_abs()) >= CHECKED_INTEGER => write_integer_text(
            out,
            itoa::Buffer::new().format(v),
            redactor,
            policy.as_string,
        ),
        Value::U64(v) if u128::from(v) >= CHECKED_INTEGER => write_integer_text(
            out,
            itoa::Buffer::new().format(v),
            redactor,
            policy.as_string,
        ),
        Value::I128(v) if v.unsigned_abs() >= CHECKED_INTEGER => write_integer_text(
            out,
            itoa::Buffer::new().format(v),
            redactor,
            policy.as_string,
        ),
        Value::U128(v) if v >= CHECKED_INTEGER => write_integer_text(
            out,
            itoa::Buffer::new().format(v),
            redactor,
            policy.as_string,
        ),
        other => write_plain(out, other, policy.as_string),
    }
}

/// A long integer: as a number, unless it is PII (then as the redacted string).
fn write_integer_text(out: &mut Vec<u8>, digits: &str, redactor: &Redactor, as_string: bool) {
    if redactor.contains_pii(digits) {
        write_scanned(out, digits, redactor);
    } else if as_string {
        json::write_str(out, digits);
    } else {
        out.extend_from_slice(digits.as_bytes());
    }
}

fn write_plain(out: &mut Vec<u8>, value: Value<'_>, as_string: bool) {
    let quote = as_string && !matches!(value, Value::Str(_) | Value::Debug(_) | Value::Error(_));
    if quote {
        out.push(b'"');
    }
    match value {
        Value::F64(v) if quote && !v.is_finite() => out.extend_from_slice(if v.is_nan() {
            b"NaN"
        } else if v > 0.0 {
            b"inf"
        } else {
            b"-inf"
        }),
        Value::F64(v) => json::write_f64(out, v),
        Value::I64(v) => json::write_i64(out, v),
        Value::U64(v) => json::write_u64(out, v),
        Value::I128(v) => json::write_i128(out, v),
        Value::U128(v) => json::write_u128(out, v),
        Value::Bool(v) => json::write_bool(out, v),
        Value::Str(s) => json::write_str(out, s),
        Value::Debug(d) => json::write_debug(out, d),
        Value::Error(e) if as_string => json::write_display(out, e),
        Value::Error(e) => write_error(out, e, None),
    }
    if quote {
        out.push(b'"');
    }
}

/// Writes `{"type":…,"message":…,"chain":[…]}` for an error and its `source()` chain, the
/// messages redacted.
pub(crate) fn write_error(
    out: &mut Vec<u8>,
    err: &(dyn Error + 'static),
    redactor: Option<&Redactor>,
) {
    write_error_typed(out, err, redactor, None)
}

/// [`write_error`], with `type_json` (a JSON string) as the type when given: a tracked call's
/// completion line names the error as its `error_type` does.
pub(crate) fn write_error_typed(
    out: &mut Vec<u8>,
    err: &(dyn Error + 'static),
    redactor: Option<&Redactor>,
    type_json: Option<&[u8]>,
) {
    let message = |out: &mut Vec<u8>, e: &dyn Error| match redactor {
        Some(r) => with_text(format_args!("{e}"), |t| write_scanned(out, t, r)),
        None => json::write_display(out, e),
    };
    out.extend_from_slice(b"{\"type\":");
    match type_json {
        Some(json) => out.extend_from_slice(json),
        None => write_error_type(out, err),
    }
    out.extend_from_slice(b",\"message\":");
    message(out, err);
    out.extend_from_slice(b",\"chain\":[");
    let mut source = err.source();
    let mut n = 0;
    while let Some(cause) = source {
        if n == MAX_CHAIN {
            break;
        }
        if n > 0 {
            out.push(b',');
        }
        message(out, cause);
        source = cause.source();
        n += 1;
    }
    out.extend_from_slice(b"]}");
}

/// The error's type name (see [`crate::tracked::error_type`]), as a JSON string.
fn write_error_type(out: &mut Vec<u8>, err: &(dyn Error + 'static)) {
    out.push(b'"');
    crate::tracked::error_type::write_error_name(out, err);
    out.push(b'"');
}
