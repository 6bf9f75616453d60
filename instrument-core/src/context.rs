//! Reading the request context of the current span: what an application needs to pass the
//! correlation ID on to the services it calls.

pub use instrument_vocab::context::APPEND_KEYS_TARGET;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Registry;

use crate::log::SpanFields;

/// The correlation ID of the current span: its nearest `correlation_id` field (the HTTP
/// layer's request span, the Lambda layer's invocation span, or any span of your own), as the
/// log lines show it. Read from the text the log layer keeps on the span when the field is
/// recorded, not parsed back from the line's JSON.
///
/// `None` outside such a span, or when the current subscriber is not instrument's (a
/// `tracing_subscriber::Registry` with the [`JsonLogLayer`](crate::JsonLogLayer)).
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let subscriber = tracing_subscriber::registry().with(instrument_core::JsonLogLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     assert_eq!(instrument_core::context::correlation_id(), None);
///     let _span = tracing::info_span!("request", correlation_id = "c-42").entered();
///     let _inner = tracing::info_span!("db").entered();
///     assert_eq!(instrument_core::context::correlation_id().as_deref(), Some("c-42"));
/// });
/// ```
pub fn correlation_id() -> Option<String> {
    tracing::dispatcher::get_default(|dispatch| {
        let id = dispatch.current_span().id()?.clone();
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(&id)?;
        span.scope().find_map(|s| {
            s.extensions()
                .get::<SpanFields>()
                .and_then(|f| f.correlation_id().map(str::to_owned))
        })
    })
}

/// The trace and span ID of a span in a sampled trace, as log lines carry them (`trace_id`,
/// `span_id`): the trace ID in the form X-Ray's log correlation expects
/// (`1-5759e988-bd862e3fe1be46a994272793`: version, the 8 hex digits of the epoch seconds the
/// trace started, then 24 hex digits), the span ID as 16 hex digits. `instrument`'s trace layer
/// (feature `otel`) keeps it in the extensions of every exported span; the log layer writes the
/// innermost one's on each line when [`JsonLogLayer::with_trace_ids`](crate::JsonLogLayer::with_trace_ids)
/// is on.
///
/// ```
/// use instrument_core::context::TraceIds;
/// let ids = TraceIds::new(0x5759e988bd862e3fe1be46a994272793, 0x53995c3f42cd8ad8);
/// assert_eq!(ids.trace_id(), "1-5759e988-bd862e3fe1be46a994272793");
/// assert_eq!(ids.span_id(), "53995c3f42cd8ad8");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TraceIds {
    trace: [u8; 35],
    span: [u8; 16],
}

impl TraceIds {
    /// The IDs of a span: the 128-bit trace ID and the 64-bit span ID.
    pub fn new(trace_id: u128, span_id: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut trace = [0u8; 35];
        trace[0] = b'1';
        trace[1] = b'-';
        trace[10] = b'-';
        let mut at = 2;
        for i in (0..32).rev() {
            if at == 10 {
                at += 1;
            }
            trace[at] = HEX[((trace_id >> (i * 4)) & 0xf) as usize];
            at += 1;
        }
        let mut span = [0u8; 16];
        for (i, digit) in span.iter_mut().enumerate() {
            *digit = HEX[((span_id >> ((15 - i) * 4)) & 0xf) as usize];
        }
        TraceIds { trace, span }
    }

    /// `1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`.
    pub fn trace_id(&self) -> &str {
        // Only ASCII hex digits and dashes are ever written.
        std::str::from_utf8(&self.trace).unwrap_or_default()
    }

    /// 16 hex digits.
    pub fn span_id(&self) -> &str {
        std::str::from_utf8(&self.span).unwrap_or_default()
    }
}

impl std::fmt::Debug for TraceIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceIds")
            .field("trace_id", &self.trace_id())
            .field("span_id", &self.span_id())
            .finish()
    }
}
