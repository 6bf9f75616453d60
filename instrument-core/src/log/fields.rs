//! Field serialisation: span fields once when recorded, event fields straight into the line.

use std::error::Error;
use std::fmt;

use tracing_core::field::{Field, Visit};

use smallvec::SmallVec;

use crate::callsite::{Kind as CallsiteKind, Schema};
use crate::json;
use crate::keys::{self, ContextKey};
use crate::log::field_info::FieldInfo;
use crate::log::value::{self, Policy, Value};
use crate::redact::Redactor;

/// One serialised span field: its final key and its JSON value, a range of [`SpanFields::buf`].
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    /// The field's name: what precedence (event over span, inner over outer) compares.
    name: &'static str,
    /// The key it is written under (`field_<name>` for reserved names).
    key: &'static str,
    /// Bloom bit of `name`.
    bit: u64,
    /// Bloom bit of `key`.
    key_bit: u64,
    /// Where `,"key":` starts in the buffer: `kstart..end` is the whole pair, ready to copy.
    kstart: u32,
    start: u32,
    end: u32,
}

/// A span's fields, serialised to JSON once when recorded and copied verbatim into every line
/// logged inside the span. Stored in the span's extensions.
#[derive(Debug, Default)]
pub(crate) struct SpanFields {
    buf: Vec<u8>,
    /// Inline: a typical span's entries need no allocation of their own.
    entries: SmallVec<[Entry; 6]>,
    context: [Option<(u32, u32)>; 4],
    /// The span's `correlation_id` as text (not JSON), for `context::correlation_id()`.
    correlation_id: Option<Box<str>>,
    /// `Some(cold_start)` on the outermost span of a Lambda invocation.
    pub(crate) invocation: Option<bool>,
}

impl SpanFields {
    /// The `correlation_id` set on this span, as text.
    #[inline]
    pub(crate) fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// The JSON value of a context key set on this span.
    #[inline]
    pub(crate) fn context(&self, key: ContextKey) -> Option<&[u8]> {
        self.context[key as usize].map(|(s, e)| &self.buf[s as usize..e as usize])
    }

    /// Each field as (name, name bit, key, key bit, `,"key":value`, value).
    #[inline]
    pub(crate) fn entries(&self) -> impl Iterator<Item = SpanEntry<'_>> + '_ {
        self.entries.iter().map(|e| SpanEntry {
            name: e.name,
            bit: e.bit,
            key: e.key,
            key_bit: e.key_bit,
            pair: &self.buf[e.kstart as usize..e.end as usize],
            value: &self.buf[e.start as usize..e.end as usize],
        })
    }

    /// Records `values` of a span of the callsite `schema` (`lambda_runtime`'s invocation
    /// span's `requestId` and `xrayTraceId` are context).
    pub(crate) fn record(
        &mut self,
        values: &dyn RecordFields,
        schema: &'static Schema,
        redactor: Option<&Redactor>,
        tracked: Tracked,
    ) {
        if self.buf.capacity() == 0 {
            // One allocation for a typical span's pairs instead of a series of regrowths.
            self.buf.reserve(INITIAL_CAPACITY);
        }
        values.record_into(&mut SpanVisitor {
            fields: self,
            schema,
            redactor,
            tracked,
        });
        self.compact_if_wasteful();
    }

    fn start_value(&mut self) -> u32 {
        self.buf.len() as u32
    }

    fn finish_value(
        &mut self,
        name: &'static str,
        info: &FieldInfo,
        kstart: u32,
        start: u32,
        context: Option<ContextKey>,
    ) {
        let end = self.buf.len() as u32;
        if let Some(c) = context {
            self.context[c as usize] = Some((start, end));
            return;
        }
        // A field recorded again replaces its earlier value.
        if !self.entries.is_empty() {
            self.entries.retain(|e| e.name != name);
        }
        self.entries.push(Entry {
            name,
            key: info.key,
            bit: info.bit,
            key_bit: info.key_bit,
            kstart,
            start,
            end,
        });
    }

    /// Re-recorded fields leave dead bytes behind; rewrite the buffer when they dominate.
    fn compact_if_wasteful(&mut self) {
        let live: usize = self
            .entries
            .iter()
            .map(|e| (e.end - e.kstart) as usize)
            .sum::<usize>()
            + self
                .context
                .iter()
                .flatten()
                .map(|(s, e)| (e - s) as usize)
                .sum::<usize>();
        if self.buf.len() < 1024 || self.buf.len() < 2 * live {
            return;
        }
        let mut buf = Vec::with_capacity(live);
        for e in &mut self.entries {
            let kstart = buf.len() as u32;
            buf.extend_from_slice(&self.buf[e.kstart as usize..e.end as usize]);
            let shift = e.start - e.kstart;
            (e.kstart, e.start, e.end) = (kstart, kstart + shift, buf.len() as u32);
        }
        for range in self.context.iter_mut().flatten() {
            let start = buf.len() as u32;
            buf.extend_from_slice(&self.buf[range.0 as usize..range.1 as usize]);
            *range = (start, buf.len() as u32);
        }
        self.buf = buf;
    }
}

/// Bytes reserved for a span's pairs when its first field is recorded.
const INITIAL_CAPACITY: usize = 64;

/// What a span's callsite says about `#[track_performance]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tracked {
    /// Not a tracked call's span.
    No,
    /// A tracked call's span, recorded when it opens: its `function` value is the function's
    /// name, written by the macro, and not scanned for PII.
    Opening,
    /// The completion of a tracked call: its outcome, latency and error type are on the
    /// completion line already, and the span closes right after, so no other line can show
    /// them: they are not serialised.
    Completion,
}

/// The fields a tracked call records when it completes.
pub(crate) fn is_completion_field(name: &str) -> bool {
    instrument_vocab::field::RECORDED_AT_END.contains(&name)
}

/// Whether `values` holds nothing but completion fields (nothing for a log line to keep).
pub(crate) fn only_completion_fields(values: &dyn RecordFields) -> bool {
    struct Check(bool);
    impl Visit for Check {
        fn record_debug(&mut self, field: &Field, _: &dyn fmt::Debug) {
            self.0 &= is_completion_field(field.name());
        }
    }
    let mut check = Check(true);
    values.record_into(&mut check);
    check.0
}

/// One span field as the line writer needs it.
pub(crate) struct SpanEntry<'a> {
    pub(crate) name: &'static str,
    pub(crate) bit: u64,
    pub(crate) key: &'static str,
    pub(crate) key_bit: u64,
    /// `,"key":value`.
    pub(crate) pair: &'a [u8],
    pub(crate) value: &'a [u8],
}

/// `Attributes`, `Record` and (for `append_keys!`) `Event` all record into a visitor.
pub(crate) trait RecordFields {
    fn record_into(&self, visitor: &mut dyn Visit);
}

impl RecordFields for tracing_core::span::Attributes<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor)
    }
}

impl RecordFields for tracing_core::span::Record<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor)
    }
}

impl RecordFields for tracing_core::Event<'_> {
    fn record_into(&self, visitor: &mut dyn Visit) {
        self.record(visitor)
    }
}

/// `impl Visit` for a visitor whose `value(field, Value)` takes every kind of value: the span
/// and event visitors differ only in what they do with a value.
macro_rules! value_visitor {
    ($visitor:ident) => {
        impl Visit for $visitor<'_> {
            fn record_f64(&mut self, field: &Field, value: f64) {
                self.value(field, Value::F64(value))
            }
            fn record_i64(&mut self, field: &Field, value: i64) {
                self.value(field, Value::I64(value))
            }
            fn record_u64(&mut self, field: &Field, value: u64) {
                self.value(field, Value::U64(value))
            }
            fn record_i128(&mut self, field: &Field, value: i128) {
                self.value(field, Value::I128(value))
            }
            fn record_u128(&mut self, field: &Field, value: u128) {
                self.value(field, Value::U128(value))
            }
            fn record_bool(&mut self, field: &Field, value: bool) {
                self.value(field, Value::Bool(value))
            }
            fn record_str(&mut self, field: &Field, value: &str) {
                self.value(field, Value::Str(value))
            }
            fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
                self.value(field, Value::Error(value))
            }
            fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                self.value(field, Value::Debug(value))
            }
        }
    };
}

struct SpanVisitor<'a> {
    fields: &'a mut SpanFields,
    schema: &'static Schema,
    redactor: Option<&'a Redactor>,
    tracked: Tracked,
}

impl SpanVisitor<'_> {
    #[inline]
    fn value(&mut self, field: &Field, value: Value<'_>) {
        let name = field.name();
        if self.tracked == Tracked::Completion && is_completion_field(name) {
            return;
        }
        let info = self.schema.log_field(field);
        if info.hidden {
            return;
        }
        let context_key = match self.schema.kind {
            CallsiteKind::LambdaRuntime => {
                instrument_vocab::context::from_lambda_runtime(name).and_then(keys::context_key)
            }
            _ => None,
        }
        .or(info.context);
        let exempt = context_key.is_some()
            || (self.tracked == Tracked::Opening
                && name == instrument_vocab::field::FUNCTION
                && value.is_str());
        let policy = Policy::for_field(self.redactor, self.schema, field, exempt);
        let kstart = self.fields.start_value();
        if context_key.is_none() {
            // `,"key":` is stored with the value, so a line copies the pair in one go (the
            // buffer never ends in `{`, so the key gets its comma).
            write_rendered(&mut self.fields.buf, info.rendered);
        }
        let start = self.fields.start_value();
        value::write(&mut self.fields.buf, value, policy);
        if context_key == Some(ContextKey::CorrelationId) {
            self.fields.correlation_id = Some(match value {
                Value::Str(s) => s.into(),
                // A number or a formatted value: its JSON text, a string's unquoted.
                _ => {
                    let json = &self.fields.buf[start as usize..];
                    match serde_json::from_slice::<serde_json::Value>(json) {
                        Ok(serde_json::Value::String(s)) => s.into(),
                        _ => String::from_utf8_lossy(json).into(),
                    }
                }
            });
        }
        self.fields
            .finish_value(name, &info, kstart, start, context_key);
    }
}

value_visitor!(SpanVisitor);

/// Keys already on the line being written: a 64-bit Bloom filter in front of a short list.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    bloom: u64,
    keys: Vec<&'static str>,
    /// Keys made up for collisions (`field_level_2`): rare, so they may allocate.
    made_up: Vec<String>,
}

impl KeySet {
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.bloom = 0;
        self.keys.clear();
        self.made_up.clear();
    }

    #[inline]
    pub(crate) fn contains(&self, key: &str, bit: u64) -> bool {
        self.bloom & bit != 0 && (self.keys.contains(&key) || self.made_up.iter().any(|k| k == key))
    }

    /// Inserts `key` if absent; returns whether it was inserted.
    #[inline]
    pub(crate) fn insert(&mut self, key: &'static str, bit: u64) -> bool {
        if self.contains(key, bit) {
            return false;
        }
        self.bloom |= bit;
        self.keys.push(key);
        true
    }

    /// Writes `"key":` for a field that must not be dropped: under `key` (`rendered` is its
    /// `,"key":`, `bit` its Bloom bit), or, if the line has it already, under the first free
    /// `key_2`, `key_3`, ….
    #[inline]
    pub(crate) fn write_unique_key(
        &mut self,
        out: &mut Vec<u8>,
        key: &'static str,
        bit: u64,
        rendered: &'static [u8],
    ) {
        if self.insert(key, bit) {
            write_rendered(out, rendered);
            return;
        }
        self.write_made_up_key(out, key);
    }

    /// Writes `"key_N":` for the first `N` from 2 up that the line does not have (the line has
    /// `key` already).
    pub(crate) fn write_made_up_key(&mut self, out: &mut Vec<u8>, key: &str) {
        let mut n = 2u32;
        let made_up = loop {
            let candidate = format!("{key}_{n}");
            let bit = keys::bit(&candidate);
            if !self.contains(&candidate, bit) {
                self.bloom |= bit;
                break candidate;
            }
            n += 1;
        };
        json::write_key(out, &made_up);
        self.made_up.push(made_up);
    }
}

/// Writes a rendered `,"key":` (see [`FieldInfo::rendered`]), without its comma at the start of
/// an object.
#[inline]
fn write_rendered(out: &mut Vec<u8>, rendered: &'static [u8]) {
    let comma = out.last() != Some(&b'{');
    out.extend_from_slice(if comma { rendered } else { &rendered[1..] });
}

/// Writes the fields of an event as `,"key":value` pairs into `out`, the message under
/// `message`.
pub(crate) struct EventVisitor<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) keys: &'a mut KeySet,
    /// Names of the event's fields, which hide span fields of the same name.
    pub(crate) names: &'a mut KeySet,
    pub(crate) has_message: bool,
    pub(crate) has_error: bool,
    /// Where in `out` the value of an `error_type` field was written (a tracked call's
    /// completion line records it before `error`, whose `type` it then is).
    pub(crate) error_type_at: Option<(usize, usize)>,
    /// Events bridged from the `log` crate carry `log.*` metadata fields: not user data.
    pub(crate) skip_log_fields: bool,
    pub(crate) redactor: Option<&'a Redactor>,
    /// The event's callsite.
    pub(crate) schema: &'static Schema,
}

impl EventVisitor<'_> {
    #[inline]
    fn value(&mut self, field: &Field, value: Value<'_>) {
        let name = field.name();
        if let (Value::Error(_), false) = (value, self.has_error) {
            // The first error is the line's `error` object; it hides no span field.
            self.has_error = true;
            json::write_key(self.out, "error");
            let policy = Policy::for_field(self.redactor, self.schema, field, false);
            if let (Value::Error(e), Some((start, end)), None) =
                (value, self.error_type_at, policy.key)
            {
                let named: SmallVec<[u8; 48]> = SmallVec::from_slice(&self.out[start..end]);
                return value::write_error_typed(self.out, e, policy.redactor, Some(&named));
            }
            return value::write(self.out, value, policy);
        }
        if name == "message" && !self.has_message {
            self.has_message = true;
            let policy = Policy {
                redactor: self.redactor,
                key: None,
                as_string: true,
            };
            json::write_key(self.out, "message");
            return value::write(self.out, value, policy);
        }
        if self.skip_log_fields && name.starts_with("log.") {
            return;
        }
        let info = self.schema.log_field(field);
        if info.hidden {
            return;
        }
        self.names.insert(name, info.bit);
        // A context key as an event field is written under its own name (`info.key`).
        self.keys
            .write_unique_key(self.out, info.key, info.key_bit, info.rendered);
        let policy = Policy::for_field(self.redactor, self.schema, field, info.context.is_some());
        let start = self.out.len();
        value::write(self.out, value, policy);
        if name == instrument_vocab::field::ERROR_TYPE && matches!(value, Value::Str(_)) {
            self.error_type_at = Some((start, self.out.len()));
        }
    }
}

value_visitor!(EventVisitor);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("reservation failed")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn error_object_with_type_and_chain() {
        let err = Outer(std::io::Error::other("disk \"full\""));
        let mut out = Vec::new();
        crate::log::value::write_error(&mut out, &err, None);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["type"], "Outer");
        assert_eq!(v["message"], "reservation failed");
        assert_eq!(v["chain"], serde_json::json!(["disk \"full\""]));

        let io = std::io::Error::other("x");
        let mut out = Vec::new();
        crate::log::value::write_error(&mut out, &io, None);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["type"], "std::io::Error");
        assert_eq!(v["chain"], serde_json::json!([]));
    }

    #[test]
    fn key_set_makes_up_unique_keys() {
        let mut set = KeySet::default();
        let mut out = b"{".to_vec();
        let write = |set: &mut KeySet, out: &mut Vec<u8>, key: &'static str| {
            let info = FieldInfo::of(key);
            set.write_unique_key(out, info.key, info.bit, info.rendered);
        };
        write(&mut set, &mut out, "a");
        out.extend_from_slice(b"1");
        write(&mut set, &mut out, "a");
        out.extend_from_slice(b"2");
        write(&mut set, &mut out, "a_2");
        out.extend_from_slice(b"3");
        out.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, serde_json::json!({"a": 1, "a_2": 2, "a_2_2": 3}));
    }
}
