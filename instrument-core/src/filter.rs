//! The log layer's per-layer filter.
//!
//! Levels filter *lines*, not *context*: a span that carries request context (`correlation_id`,
//! the Lambda invocation span, …) is always seen by the log layer, so a `WARN` line inside an
//! `INFO` span still carries its request ID when the level is `warn`. Every other span and event
//! goes through the `EnvFilter` directives and the `AWS_LAMBDA_LOG_LEVEL` cap.

use tracing_core::{subscriber::Interest, Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::keys;
use crate::lambda::RUNTIME_INVOKE_SPAN;

/// Directives plus a level cap, letting context spans through at any level.
///
/// ```
/// use instrument_core::filter::LogFilter;
/// use tracing_subscriber::{EnvFilter, filter::LevelFilter};
/// let filter = LogFilter::new(EnvFilter::new("info,hyper=warn"), LevelFilter::TRACE);
/// # let _ = filter;
/// ```
#[derive(Debug)]
pub struct LogFilter {
    directives: EnvFilter,
    cap: LevelFilter,
    most_verbose: LevelFilter,
}

impl LogFilter {
    /// `directives`, with nothing more verbose than `cap` let through.
    pub fn new(directives: EnvFilter, cap: LevelFilter) -> Self {
        let hint =
            tracing_subscriber::Layer::<tracing_subscriber::Registry>::max_level_hint(&directives)
                .unwrap_or(LevelFilter::TRACE);
        LogFilter {
            directives,
            cap,
            most_verbose: hint.min(cap),
        }
    }

    /// The most verbose level a line can have (e.g. to set the `log` crate's maximum).
    pub fn most_verbose(&self) -> LevelFilter {
        self.most_verbose
    }
}

/// Whether a span callsite carries request context the log lines inside it need.
pub(crate) fn is_context_span(meta: &Metadata<'_>) -> bool {
    meta.is_span()
        && (meta.name() == RUNTIME_INVOKE_SPAN
            || meta
                .fields()
                .iter()
                .any(|f| keys::context_key(f.name()).is_some()))
}

impl<S> Filter<S> for LogFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if is_context_span(meta) {
            return true;
        }
        self.cap >= *meta.level() && Filter::<S>::enabled(&self.directives, meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_context_span(meta) {
            return Interest::always();
        }
        if self.cap < *meta.level() {
            return Interest::never();
        }
        Filter::<S>::callsite_enabled(&self.directives, meta)
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        Filter::<S>::event_enabled(&self.directives, event, cx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Context spans pass at any level, so no global hint may hide them.
        None
    }

    fn on_new_span(
        &self,
        attrs: &tracing_core::span::Attributes<'_>,
        id: &tracing_core::span::Id,
        ctx: Context<'_, S>,
    ) {
        Filter::<S>::on_new_span(&self.directives, attrs, id, ctx)
    }

    fn on_record(
        &self,
        id: &tracing_core::span::Id,
        values: &tracing_core::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        Filter::<S>::on_record(&self.directives, id, values, ctx)
    }

    fn on_enter(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
        Filter::<S>::on_enter(&self.directives, id, ctx)
    }

    fn on_exit(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
        Filter::<S>::on_exit(&self.directives, id, ctx)
    }

    fn on_close(&self, id: tracing_core::span::Id, ctx: Context<'_, S>) {
        Filter::<S>::on_close(&self.directives, id, ctx)
    }
}
