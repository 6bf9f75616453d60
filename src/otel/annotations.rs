//! What X-Ray shows besides names and times: span fields as attributes, redacted as the log
//! lines' are (`tracing-opentelemetry` is handed no fields, so nothing goes out unredacted);
//! `annotation.<k>` and `metadata.<k>` fields as X-Ray annotations (indexed, searchable) and
//! metadata; a failed call's error status; and an error logged inside a sampled span as an
//! `exception` event with its redacted message.
//!
//! The ADOT collector's X-Ray exporter turns span attributes into metadata, except those whose
//! keys the attribute `aws.xray.annotations` lists, which become annotations. Fields are
//! collected when recorded and applied to the OpenTelemetry span while it is current (when the
//! span is entered or exited, or at once for an event inside it).

use std::fmt;

use instrument_core::context::TraceIds;
use instrument_core::redact::Redactor;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Array, Context as OtelContext, KeyValue, StringValue, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The attribute listing which attributes are X-Ray annotations.
pub(crate) const ANNOTATIONS_KEY: &str = "aws.xray.annotations";

/// What is waiting to be applied to a span's OpenTelemetry span, kept in its extensions.
#[derive(Default)]
struct Pending {
    attributes: Vec<KeyValue>,
    /// Every annotation key so far (the attribute lists them all, each time).
    annotation_keys: Vec<StringValue>,
    annotations_changed: bool,
    status: Option<Status>,
    exception: Option<(String, String)>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.attributes.is_empty() && self.status.is_none() && self.exception.is_none()
    }
}

/// Collects a span's fields as attributes, redacted as the log lines' are: `annotation.<k>` as
/// the annotation `k`, `metadata.<k>` as `k`, any other field under its name; and a failed
/// call's `outcome`/`error_type` (or a 5xx `status_code`) as the error status.
struct Fields<'r> {
    pending: Pending,
    outcome: Option<String>,
    error_type: Option<String>,
    redactor: Option<&'r Redactor>,
}

impl<'r> Fields<'r> {
    fn new(redactor: Option<&'r Redactor>) -> Self {
        Fields {
            pending: Pending::default(),
            outcome: None,
            error_type: None,
            redactor,
        }
    }

    /// `value` as exported: text redacted, and any value of a sensitive key (`password`, …)
    /// replaced as the key rule says.
    fn redacted(&self, key: &str, value: Value) -> Value {
        let Some(redactor) = self.redactor else {
            return value;
        };
        if let Some(rule) = redactor.key_rule(key) {
            return Value::from(redactor.redact_keyed(rule, &value.as_str()).into_owned());
        }
        match value {
            Value::String(text) => match redactor.redact(text.as_str()) {
                std::borrow::Cow::Borrowed(_) => Value::String(text),
                std::borrow::Cow::Owned(redacted) => Value::from(redacted),
            },
            other => other,
        }
    }

    fn value(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if let Some(key) = name.strip_prefix("annotation.") {
            let value = self.redacted(key, value);
            let key = StringValue::from(key.to_string());
            if !self.pending.annotation_keys.contains(&key) {
                self.pending.annotation_keys.push(key.clone());
            }
            self.pending.annotations_changed = true;
            self.pending
                .attributes
                .push(KeyValue::new(key.as_str().to_string(), value));
            return;
        }
        if let Some(key) = name.strip_prefix("metadata.") {
            let value = self.redacted(key, value);
            self.pending
                .attributes
                .push(KeyValue::new(key.to_string(), value));
            return;
        }
        match name {
            "outcome" => self.outcome = Some(value.as_str().into_owned()),
            "error_type" => self.error_type = Some(value.as_str().into_owned()),
            "status_code" => {
                // An HTTP request's: a 5xx is the server's failure.
                if let Value::I64(code @ 500..=599) = value {
                    self.outcome = Some("error".to_string());
                    self.error_type = Some(code.to_string());
                }
            }
            _ => {}
        }
        // A tracked call's own fields hold names instrument chose, never user data.
        let value = match name {
            "function" | "outcome" | "error_type" => value,
            _ => self.redacted(name, value),
        };
        self.pending.attributes.push(KeyValue::new(name, value));
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.value(field, Value::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.value(field, Value::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.value(
            field,
            i64::try_from(value).map_or_else(|_| Value::from(value.to_string()), Value::I64),
        );
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.value(field, Value::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.value(field, Value::from(value.to_string()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.value(field, Value::from(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.value(field, Value::from(format!("{value:?}")));
    }
}

fn collect<S>(fields: Fields<'_>, id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut new = fields.pending;
    if let Some("error" | "panic") = fields.outcome.as_deref() {
        let what = fields.error_type.unwrap_or_else(|| "error".to_string());
        new.status = Some(Status::error(what));
    }
    if new.is_empty() && !new.annotations_changed {
        return;
    }
    let Some(span) = ctx.span(id) else { return };
    let mut extensions = span.extensions_mut();
    match extensions.get_mut::<Pending>() {
        Some(pending) => {
            pending.attributes.append(&mut new.attributes);
            for key in new.annotation_keys {
                if !pending.annotation_keys.contains(&key) {
                    pending.annotation_keys.push(key);
                }
            }
            pending.annotations_changed |= new.annotations_changed;
            pending.status = new.status.or(pending.status.take());
        }
        None => extensions.insert(new),
    }
}

/// A sampled span opens: its fields.
pub(crate) fn on_new_span<S>(
    attrs: &Attributes<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
    redactor: Option<&Redactor>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut fields = Fields::new(redactor);
    attrs.record(&mut fields);
    collect(fields, id, ctx);
}

/// Fields recorded on a sampled span, and how a tracked call ended.
pub(crate) fn on_record<S>(
    values: &Record<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
    redactor: Option<&Redactor>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut fields = Fields::new(redactor);
    values.record(&mut fields);
    collect(fields, id, ctx);
    apply(id, ctx);
}

/// Finds an error in a `WARN`/`ERROR` event: an `error` field (`&dyn Error`) or
/// `error_message`, as tracked calls' completion lines and `tracing::error!(error = …)` carry.
#[derive(Default)]
struct ErrorFields {
    message: Option<String>,
    error_type: Option<String>,
}

impl Visit for ErrorFields {
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if field.name() == "error" {
            self.message = Some(value.to_string());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "error_message" => self.message = Some(value.to_string()),
            "error_type" | "error.type" => self.error_type = Some(value.to_string()),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "error_message" | "error" => self.message = Some(format!("{value:?}")),
            "error_type" | "error.type" => self.error_type = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

/// An event inside a sampled span: an error becomes an `exception` event and the span's
/// error status, with the message redacted as the log line's is.
pub(crate) fn on_error_event<S>(
    event: &Event<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
    redactor: Option<&Redactor>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut found = ErrorFields::default();
    event.record(&mut found);
    let Some(message) = found.message else { return };
    let message = match redactor {
        Some(r) => r.redact(&message).into_owned(),
        None => message,
    };
    let error_type = found.error_type.unwrap_or_else(|| "error".to_string());
    let Some(span) = ctx.span(id) else { return };
    {
        let mut extensions = span.extensions_mut();
        let status = Some(Status::error(message.clone()));
        match extensions.get_mut::<Pending>() {
            Some(pending) => {
                pending.exception = Some((error_type, message));
                pending.status = status;
            }
            None => extensions.insert(Pending {
                exception: Some((error_type, message)),
                status,
                ..Pending::default()
            }),
        }
    }
    apply(id, ctx);
}

/// Applies what is pending to the span's OpenTelemetry span, if it is the current one.
pub(crate) fn apply<S>(id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    let mut extensions = span.extensions_mut();
    let Some(ids) = extensions.get_mut::<TraceIds>().map(|ids| *ids) else {
        return;
    };
    let Some(pending) = extensions.get_mut::<Pending>() else {
        return;
    };
    if pending.is_empty() && !pending.annotations_changed {
        return;
    }
    OtelContext::map_current(|cx| {
        let otel = cx.span();
        let current = u64::from_be_bytes(otel.span_context().span_id().to_bytes());
        if TraceIds::new(0, current).span_id() != ids.span_id() {
            return;
        }
        if !pending.attributes.is_empty() {
            otel.set_attributes(std::mem::take(&mut pending.attributes));
        }
        if pending.annotations_changed {
            pending.annotations_changed = false;
            otel.set_attribute(KeyValue::new(
                ANNOTATIONS_KEY,
                Value::Array(Array::String(pending.annotation_keys.clone())),
            ));
        }
        if let Some((error_type, message)) = pending.exception.take() {
            otel.add_event(
                "exception",
                vec![
                    KeyValue::new("exception.type", error_type),
                    KeyValue::new("exception.message", message),
                ],
            );
        }
        if let Some(status) = pending.status.take() {
            otel.set_status(status);
        }
    });
}
