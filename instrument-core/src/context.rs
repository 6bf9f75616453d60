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
