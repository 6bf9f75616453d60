//! The trace layer: decides per span whether it belongs to a sampled trace, and hands only
//! the sampled spans to `tracing-opentelemetry`'s layer, which exports them.
//!
//! Unsampled spans and spans outside any trace cost the OpenTelemetry machinery nothing: no
//! span builder, no context, no export. The decision is kept in the span ([`Traced`]), so
//! that children inherit it and the other callbacks know whether to pass the span on.

use std::any::TypeId;
use std::sync::Arc;

use instrument_core::context::TraceIds;
use instrument_core::redact::Redactor;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context as OtelContext;
use opentelemetry_sdk::trace::SdkTracer;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::annotations;
use super::propagation::{unsampled_root_trace, TraceRoot};
use super::sampling::{take_preset, RateSampler, Traced, Unsampled};
use super::Traces;

/// How root decisions are taken: shared by the layer and the pipeline (where tracked calls
/// decide at their start).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sampling {
    rate: RateSampler,
}

impl Sampling {
    pub(crate) fn new(rate: f64) -> Self {
        Sampling {
            rate: RateSampler::new(rate),
        }
    }

    /// The decision of a span without a traced ancestor: `tracked` says whether it is a
    /// tracked call's. The remote parent's decision when the current OpenTelemetry context
    /// carries one (an HTTP request's or Lambda invocation's header), a draw when it is a trace
    /// root, else `None`: not part of any trace.
    pub(crate) fn root(&self, tracked: bool) -> Option<bool> {
        // (whether a trace root, the remote decision if any), without cloning the context.
        let (root, remote) = OtelContext::map_current(|cx| {
            let span = cx.span();
            let remote = span.span_context();
            // X-Ray's `Sampled=?` (flag 0x02, deferred) leaves the decision to us.
            let decided = remote.is_valid()
                && (remote.is_sampled() || remote.trace_flags().to_u8() & 0x02 == 0);
            (
                cx.get::<TraceRoot>().is_some(),
                decided.then(|| remote.is_sampled()),
            )
        });
        if remote.is_some() {
            return remote;
        }
        (root || tracked).then(|| self.rate.sample())
    }
}

/// Instrument's trace layer around `tracing-opentelemetry`'s.
pub(crate) struct TraceLayer<S> {
    inner: OpenTelemetryLayer<S, SdkTracer>,
    sampling: Sampling,
    redactor: Option<Arc<Redactor>>,
    /// The provider, found by the Lambda and HTTP layers with `downcast_ref::<Traces>()`.
    traces: Arc<Traces>,
}

impl<S> TraceLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    pub(crate) fn new(
        tracer: SdkTracer,
        sampling: Sampling,
        redactor: Option<Arc<Redactor>>,
        traces: Arc<Traces>,
    ) -> Self {
        let inner = OpenTelemetryLayer::new(tracer)
            // Log lines carry what events say; spans carry their fields.
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_error_records_to_exceptions(false)
            .with_error_fields_to_exceptions(false);
        TraceLayer {
            inner,
            sampling,
            redactor,
            traces,
        }
    }

    /// The span's decision, and whether it was taken here (a trace root) rather than inherited
    /// or preset by a tracked call.
    fn decide(&self, attrs: &Attributes<'_>, ctx: &Context<'_, S>) -> Option<(bool, bool)> {
        let meta = attrs.metadata();
        if let Some(preset) = take_preset(meta) {
            return Some((preset, false));
        }
        let parent = if let Some(parent) = attrs.parent() {
            ctx.span(parent)
        } else if attrs.is_contextual() {
            ctx.lookup_current()
        } else {
            None
        };
        let inherited = parent.and_then(|p| p.extensions().get::<Traced>().copied());
        match inherited {
            Some(Traced(sampled)) => Some((sampled, false)),
            None => self
                .sampling
                .root(instrument_core::callsite::schema(meta).is_tracked())
                .map(|sampled| (sampled, true)),
        }
    }

    fn sampled(id: &Id, ctx: &Context<'_, S>) -> bool {
        ctx.span(id)
            .is_some_and(|s| s.extensions().get::<Traced>() == Some(&Traced(true)))
    }
}

impl<S> Layer<S> for TraceLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some((sampled, root)) = self.decide(attrs, &ctx) else {
            return;
        };
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            extensions.insert(Traced(sampled));
            // An unsampled request or invocation keeps its trace, for the calls it makes.
            if root && !sampled {
                if let Some(trace) = unsampled_root_trace() {
                    extensions.insert(Unsampled(trace));
                }
            }
        }
        if sampled {
            // The OpenTelemetry layer gets the span without its fields (name, parent, times);
            // the fields become attributes here, redacted.
            let meta = attrs.metadata();
            let none: [(
                &tracing_core::field::Field,
                Option<&dyn tracing_core::field::Value>,
            ); 0] = [];
            let values = meta.fields().value_set(&none);
            let bare = if let Some(parent) = attrs.parent() {
                Attributes::child_of(parent.clone(), meta, &values)
            } else if attrs.is_root() {
                Attributes::new_root(meta, &values)
            } else {
                Attributes::new(meta, &values)
            };
            self.inner.on_new_span(&bare, id, ctx.clone());
            annotations::on_new_span(attrs, id, &ctx, self.redactor.as_deref());
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if Self::sampled(id, &ctx) {
            annotations::on_record(values, id, &ctx, self.redactor.as_deref());
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        if Self::sampled(id, &ctx) && Self::sampled(follows, &ctx) {
            self.inner.on_follows_from(id, follows, ctx);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        if span.extensions().get::<Traced>() == Some(&Traced(true)) {
            annotations::on_error_event(event, &span.id(), &ctx, self.redactor.as_deref());
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !Self::sampled(id, &ctx) {
            return;
        }
        self.inner.on_enter(id, ctx.clone());
        // Entering started the OpenTelemetry span and made its context current: its IDs are
        // known now, for the log lines inside it.
        let Some(span) = ctx.span(id) else {
            return;
        };
        if span.extensions().get::<TraceIds>().is_none() {
            let ids = OtelContext::map_current(|cx| {
                let sc = cx.span().span_context().clone();
                TraceIds::new(
                    u128::from_be_bytes(sc.trace_id().to_bytes()),
                    u64::from_be_bytes(sc.span_id().to_bytes()),
                )
            });
            span.extensions_mut().insert(ids);
        }
        annotations::apply(id, &ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if Self::sampled(id, &ctx) {
            annotations::apply(id, &ctx);
            self.inner.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if Self::sampled(&id, &ctx) {
            self.inner.on_close(id, ctx);
        }
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(std::ptr::from_ref(self).cast());
        }
        if id == TypeId::of::<Traces>() {
            return Some(Arc::as_ptr(&self.traces).cast());
        }
        // SAFETY: forwarded as is: `OpenTelemetrySpanExt` finds the inner layer's context
        // functions this way.
        unsafe { self.inner.downcast_raw(id) }
    }
}

/// Which callsites the trace layer sees: spans at `INFO` and above and every tracked call's
/// (whatever its level), to decide and export them; `WARN` and `ERROR` events, for the errors
/// of sampled spans. Nothing when traces are off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceFilter {
    on: bool,
}

impl TraceFilter {
    pub(crate) fn new(on: bool) -> Self {
        TraceFilter { on }
    }

    fn wants(&self, meta: &Metadata<'_>) -> bool {
        if !self.on {
            return false;
        }
        if meta.is_span() {
            *meta.level() <= Level::INFO || instrument_core::callsite::schema(meta).is_tracked()
        } else {
            *meta.level() <= Level::WARN
        }
    }
}

impl<S> Filter<S> for TraceFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.wants(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.wants(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        if self.on {
            // Tracked calls at any level.
            None
        } else {
            Some(tracing_core::LevelFilter::OFF)
        }
    }
}
