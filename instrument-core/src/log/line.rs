//! Formatting one event as one line: the fixed keys, the event's fields, the spans' fields and
//! context keys (inner wins), the invocation's fields and the span names.

use smallvec::SmallVec;
use tracing_core::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::layer::{JsonLogLayer, Scratch};
use crate::json;
use crate::keys::{self, CONTEXT_KEYS};
use crate::log::fields::{EventVisitor, SpanFields};
use crate::timestamp;

fn level_json(level: &Level) -> &'static [u8] {
    match *level {
        Level::TRACE => b"\"TRACE\"",
        Level::DEBUG => b"\"DEBUG\"",
        Level::INFO => b"\"INFO\"",
        Level::WARN => b"\"WARN\"",
        Level::ERROR => b"\"ERROR\"",
    }
}

impl<W> JsonLogLayer<W> {
    /// Writes the line straight into `s.line`, with no intermediate buffer: the fixed keys,
    /// then the event's fields (they win over span fields of the same name), then span fields
    /// and context keys innermost span first (inner wins, nearest context wins), then the
    /// invocation and span names.
    pub(super) fn format<S>(&self, s: &mut Scratch, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Scratch { line, keys, names } = s;
        line.clear();
        keys.clear();
        names.clear();

        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());

        line.extend_from_slice(b"{\"timestamp\":\"");
        timestamp::write_now(line);
        line.extend_from_slice(b"\",\"level\":");
        line.extend_from_slice(level_json(meta.level()));
        line.extend_from_slice(b",\"target\":");
        json::write_str(line, meta.target());
        if self.location {
            if let (Some(file), Some(n)) = (meta.file(), meta.line()) {
                line.extend_from_slice(b",\"location\":\"");
                json::escape_into(line, file);
                line.push(b':');
                json::write_u64(line, n.into());
                line.push(b'"');
            }
        }
        line.extend_from_slice(&self.static_fields);

        let mut visitor = EventVisitor {
            out: line,
            keys,
            names,
            has_message: false,
            has_error: false,
            error_type_at: None,
            skip_log_fields: normalized.is_some(),
            redactor: self.redactor.as_deref(),
            schema: crate::callsite::schema(event.metadata()),
        };
        event.record(&mut visitor);
        if !visitor.has_message {
            line.extend_from_slice(b",\"message\":\"\"");
        }

        // Collected in place: moving a filled inline array out of an `Option` costs a copy of
        // the whole array on every line.
        let mut spans: SmallVec<[SpanRef<'_, S>; 16]> = SmallVec::new();
        if let Some(scope) = ctx.event_scope(event) {
            spans.extend(scope);
        }
        let mut found = [false; 4];
        for key in CONTEXT_KEYS {
            found[key as usize] = keys.contains(key.name(), keys::bit(key.name()));
        }
        let mut cold_start = None;
        let mut trace = None;
        for span in &spans {
            let extensions = span.extensions();
            if self.trace_ids && trace.is_none() {
                trace = extensions.get::<crate::context::TraceIds>().copied();
            }
            let Some(fields) = extensions.get::<SpanFields>() else {
                continue;
            };
            // Hidden by an event field or an inner span's field of the same name; otherwise
            // kept, under a unique key.
            for e in fields.entries() {
                if !names.insert(e.name, e.bit) {
                    continue;
                }
                if keys.insert(e.key, e.key_bit) {
                    line.extend_from_slice(e.pair);
                } else {
                    keys.write_made_up_key(line, e.key);
                    line.extend_from_slice(e.value);
                }
            }
            for key in CONTEXT_KEYS {
                if found[key as usize] {
                    continue;
                }
                if let Some(value) = fields.context(key) {
                    found[key as usize] = true;
                    json::write_key(line, key.name());
                    line.extend_from_slice(value);
                }
            }
            if cold_start.is_none() {
                cold_start = fields.invocation;
            }
        }
        if let Some(cold) = cold_start {
            line.extend_from_slice(b",\"cold_start\":");
            json::write_bool(line, cold);
            line.extend_from_slice(&self.lambda_fields);
        }
        if let Some(ids) = trace {
            for (key, value) in [("trace_id", ids.trace_id()), ("span_id", ids.span_id())] {
                if keys.insert(key, keys::bit(key)) {
                    json::write_key(line, key);
                } else {
                    keys.write_made_up_key(line, key);
                }
                json::write_str(line, value);
            }
        }
        if let Some(leaf) = spans.first() {
            line.extend_from_slice(b",\"span\":");
            json::write_str(line, leaf.name());
            line.extend_from_slice(b",\"spans\":[");
            for (i, span) in spans.iter().rev().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                json::write_str(line, span.name());
            }
            line.push(b']');
        }
        line.extend_from_slice(b"}\n");
    }
}
