//! Reading span and event fields: which are metrics, dimensions, units, properties, and the
//! tracked-call fields of `#[track_performance]`.

use std::fmt;

use tracing_core::field::{Field, Visit};
use tracing_core::Metadata;

use instrument_vocab::field;
use instrument_vocab::metric::{self, Prefix};

use crate::aggregator::Kind;

/// The fields that make a span a tracked call (see `#[track_performance]`).
pub(crate) use instrument_vocab::field::TRACKED as TRACKED_FIELDS;

/// What a field name means to the EMF layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Role {
    Metric(Kind, &'static str),
    Unit(&'static str),
    Resolution(&'static str),
    Dimension(&'static str),
    Property(&'static str),
    Function,
    Outcome,
    Latency,
    ErrorType,
    Other,
}

/// Classifies a field name. `lambda_runtime` marks `lambda_runtime`'s invocation span, whose
/// `requestId` and `xrayTraceId` are the invocation's properties.
#[inline]
pub(crate) fn role(name: &'static str, tracked: bool, lambda_runtime: bool) -> Role {
    if let Some((prefix, rest)) = metric::prefix(name) {
        return match prefix {
            Prefix::Counter => Role::Metric(Kind::Counter, rest),
            Prefix::Histogram => Role::Metric(Kind::Distribution, rest),
            Prefix::Gauge => Role::Metric(Kind::Gauge, rest),
            Prefix::Unit => Role::Unit(rest),
            Prefix::Resolution => Role::Resolution(rest),
            Prefix::Dimension => Role::Dimension(rest),
        };
    }
    if name.contains('.') {
        return Role::Other;
    }
    match (name, tracked, lambda_runtime) {
        (field::FUNCTION, true, _) => Role::Function,
        (field::OUTCOME, true, _) => Role::Outcome,
        (field::LATENCY_MS, true, _) => Role::Latency,
        (field::ERROR_TYPE, true, _) => Role::ErrorType,
        ("requestId", _, true) | ("function_request_id", _, _) => {
            Role::Property("function_request_id")
        }
        ("xrayTraceId", _, true) | ("xray_trace_id", _, _) => Role::Property("xray_trace_id"),
        _ => Role::Other,
    }
}

/// Per-callsite facts, decided once.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallsiteFacts {
    pub(crate) tracked: bool,
    pub(crate) lambda_runtime: bool,
    pub(crate) relevant: bool,
    /// A tracked call with no other field the layer reads (the common case).
    pub(crate) only_tracked: bool,
    /// Spans of this callsite may start a Lambda invocation.
    pub(crate) invocation: bool,
}

impl CallsiteFacts {
    pub(crate) fn of(meta: &Metadata<'_>) -> CallsiteFacts {
        let fields = meta.fields();
        let tracked = meta.is_span() && TRACKED_FIELDS.iter().all(|f| fields.field(f).is_some());
        let lambda_runtime =
            meta.is_span() && meta.name() == instrument_core::lambda::RUNTIME_INVOKE_SPAN;
        let other = fields
            .iter()
            .any(|f| !matches!(role(f.name(), false, false), Role::Other));
        let invocation = instrument_core::lambda::is_invocation_callsite(meta);
        CallsiteFacts {
            tracked,
            lambda_runtime,
            relevant: tracked || lambda_runtime || other,
            only_tracked: tracked && !other && !invocation,
            invocation,
        }
    }
}

/// (callsite, relevant?) per thread, direct-mapped by the callsite's address.
type RelevanceEntry = Option<(tracing_core::callsite::Identifier, bool)>;

thread_local! {
    static RELEVANCE: std::cell::RefCell<[RelevanceEntry; 64]> =
        const { std::cell::RefCell::new([const { None }; 64]) };
}

impl CallsiteFacts {
    /// `CallsiteFacts::of(meta).relevant`, cached per thread and callsite. A per-layer filter's
    /// `enabled` runs for every span and event whatever the callsite's interest (the registry
    /// needs each layer's verdict), so it must not walk the field list each time. Facts depend
    /// only on the callsite (its name, kind and fields), so its identifier is the key.
    pub(crate) fn relevant(meta: &Metadata<'_>) -> bool {
        use std::hash::{Hash, Hasher};
        let id = meta.callsite();
        let mut hasher = crate::aggregator::FxHasher::default();
        id.hash(&mut hasher);
        let slot = (hasher.finish() >> 58) as usize;
        RELEVANCE
            .try_with(|cache| {
                let mut cache = cache.borrow_mut();
                match &cache[slot] {
                    Some((cached, relevant)) if *cached == id => *relevant,
                    _ => {
                        let relevant = CallsiteFacts::of(meta).relevant;
                        cache[slot] = Some((id, relevant));
                        relevant
                    }
                }
            })
            .unwrap_or_else(|_| CallsiteFacts::of(meta).relevant)
    }
}

/// Values collected from one span or event; strings copied into one reusable buffer.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) text: String,
    pub(crate) function: Option<(usize, usize)>,
    pub(crate) outcome: Option<(usize, usize)>,
    pub(crate) error_type: Option<(usize, usize)>,
    pub(crate) latency: Option<f64>,
    pub(crate) dims: Vec<(&'static str, (usize, usize))>,
    pub(crate) props: Vec<(&'static str, (usize, usize))>,
    pub(crate) units: Vec<(&'static str, (usize, usize))>,
    pub(crate) resolutions: Vec<(&'static str, f64)>,
    pub(crate) metrics: Vec<(Kind, &'static str, f64)>,
    pub(crate) tracked: bool,
    pub(crate) lambda_runtime: bool,
}

impl Collected {
    pub(crate) fn reset(&mut self, facts: CallsiteFacts) {
        self.text.clear();
        self.function = None;
        self.outcome = None;
        self.error_type = None;
        self.latency = None;
        self.dims.clear();
        self.props.clear();
        self.units.clear();
        self.resolutions.clear();
        self.metrics.clear();
        self.tracked = facts.tracked;
        self.lambda_runtime = facts.lambda_runtime;
    }

    #[inline]
    pub(crate) fn str(&self, range: (usize, usize)) -> &str {
        &self.text[range.0..range.1]
    }

    fn push_str(&mut self, s: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(s);
        (start, self.text.len())
    }

    fn push_display(&mut self, value: &dyn fmt::Debug) -> (usize, usize) {
        use fmt::Write;
        let start = self.text.len();
        let _ = write!(self.text, "{value:?}");
        (start, self.text.len())
    }

    fn number(&mut self, field: &Field, value: f64) {
        match role(field.name(), self.tracked, self.lambda_runtime) {
            Role::Metric(kind, name) => self.metrics.push((kind, name, value)),
            Role::Latency => self.latency = Some(value),
            Role::Resolution(name) => self.resolutions.push((name, value)),
            // Numbers as dimension or property values are kept as their text.
            Role::Dimension(name) => {
                let r = self.push_display(&value);
                self.dims.push((name, r));
            }
            Role::Property(name) => {
                let r = self.push_display(&value);
                self.props.push((name, r));
            }
            _ => {}
        }
    }

    /// Integers stay exact as dimension and property text (`3`, not `3.0`).
    fn integer(&mut self, field: &Field, value: i128) {
        match role(field.name(), self.tracked, self.lambda_runtime) {
            Role::Dimension(_) | Role::Property(_) => {
                self.text_value(field, itoa::Buffer::new().format(value))
            }
            _ => self.number(field, value as f64),
        }
    }

    fn text_value(&mut self, field: &Field, value: &str) {
        match role(field.name(), self.tracked, self.lambda_runtime) {
            Role::Function => self.function = Some(self.push_str(value)),
            Role::Outcome => self.outcome = Some(self.push_str(value)),
            Role::ErrorType => self.error_type = Some(self.push_str(value)),
            Role::Unit(name) => {
                let r = self.push_str(value);
                self.units.push((name, r));
            }
            Role::Dimension(name) => {
                let r = self.push_str(value);
                self.dims.push((name, r));
            }
            Role::Property(name) => {
                let r = self.push_str(value);
                self.props.push((name, r));
            }
            // A metric given as text: parse it, or count it as non-finite (dropped, reported).
            Role::Metric(kind, name) => {
                let v = value.trim().parse::<f64>().unwrap_or(f64::NAN);
                self.metrics.push((kind, name, v));
            }
            Role::Latency => self.latency = value.trim().parse().ok(),
            _ => {}
        }
    }
}

impl Visit for Collected {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.number(field, value)
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.integer(field, value.into())
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value.into())
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.integer(field, value)
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        match i128::try_from(value) {
            Ok(v) => self.integer(field, v),
            Err(_) => self.number(field, value as f64),
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.text_value(field, if value { "true" } else { "false" })
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text_value(field, value)
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if matches!(
            role(field.name(), self.tracked, self.lambda_runtime),
            Role::Other
        ) {
            return;
        }
        let mut tmp = String::new();
        {
            use fmt::Write;
            let _ = write!(tmp, "{value:?}");
        }
        self.text_value(field, &tmp)
    }
}
