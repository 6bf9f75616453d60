//! The subscriber of [`Builder::build_dispatch`](crate::Builder::build_dispatch) and
//! [`init`](crate::init): the layers of [`Builder::build`](crate::Builder::build), plus deferred
//! spans for synchronous tracked calls.
//!
//! A tracked call that nobody observes needs no span: the pipeline records its metrics directly
//! when it ends. Before anything could observe a pending call's span (an event, a new span,
//! entering a span, `Span::current()`, or just asking whether one of these is enabled), the
//! pipeline opens the pending spans of the thread, in order, as they would have been opened at
//! the start of their calls. See `instrument_core::tracked` (module `deferred`) for the rules.
//!
//! Deferring is only sound because nothing wraps this subscriber: a layer on top would miss the
//! spans that never open. That is why it lives behind a [`Dispatch`], which cannot be layered.
//! [`Builder::build`](crate::Builder::build) returns the same pipeline without deferral
//! ([`Pipeline::without_deferral`]), which may be wrapped: it keeps the per-layer filters'
//! answers right (see [`filter_state`]) the same way.

use std::any::TypeId;
use std::cell::Cell;
use std::sync::{Arc, OnceLock};

use instrument_core::tracked::{open_in, open_pending, CallRecord, DeferredCalls, Host};
use instrument_emf::EmfHandle;
use tracing::dispatcher::WeakDispatch;
use tracing::field::ValueSet;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_core::span::Current;
use tracing_core::LevelFilter;
use tracing_subscriber::registry::LookupSpan;

use crate::filter_state;

thread_local! {
    /// Spans entered on this thread through a pipeline and not exited yet (any pipeline: an
    /// over-count only costs a lookup). Zero means the registry has no current span here, so a
    /// deferred call's metrics need not look for a parent.
    static ENTERED: Cell<usize> = const { Cell::new(0) };
}

/// Instrument's layers with deferred spans.
pub(crate) struct Pipeline<S> {
    layers: Arc<Layers<S>>,
    /// `layers` as deferred calls see them (`dispatch.downcast_ref::<Host>()`); `None`: calls
    /// never defer under this pipeline.
    host: Option<Host>,
}

/// The subscriber of [`Builder::build`](crate::Builder::build) and what deferred calls need
/// besides it: shared by the pipeline and its [`Host`].
struct Layers<S> {
    inner: S,
    /// Unique per pipeline: which pipeline deferred a call (see `Host::id`).
    id: u64,
    metrics: Option<EmfHandle>,
    /// The `Dispatch` this pipeline lives in (weak: it owns us), for the spans it opens: a
    /// call ends its span there even if the thread's default changed during the call.
    dispatch: OnceLock<WeakDispatch>,
    /// Traces, when exported: tracked calls decide their sampling at their start.
    #[cfg(feature = "otel")]
    tracing: Option<crate::otel::Tracing>,
}

impl<S> Pipeline<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    /// `inner` recording deferred calls' metrics into `metrics` (`None`: metrics off).
    pub(crate) fn new(
        inner: S,
        metrics: Option<EmfHandle>,
        #[cfg(feature = "otel")] tracing: Option<crate::otel::Tracing>,
    ) -> Self {
        let wants_tracked = metrics.is_some();
        let id = Host::fresh_id();
        #[cfg(feature = "otel")]
        let traces = tracing.is_some();
        #[cfg(not(feature = "otel"))]
        let traces = false;
        let layers = Arc::new(Layers {
            inner,
            id,
            metrics,
            dispatch: OnceLock::new(),
            #[cfg(feature = "otel")]
            tracing,
        });
        let host = Host::new(id, layers.clone(), wants_tracked).with_traces(traces);
        Pipeline {
            layers,
            host: Some(host),
        }
    }

    /// `inner` under which no call defers (it may be wrapped in further layers).
    pub(crate) fn without_deferral(inner: S) -> Self {
        Pipeline {
            layers: Arc::new(Layers {
                inner,
                id: Host::fresh_id(),
                metrics: None,
                dispatch: OnceLock::new(),
                #[cfg(feature = "otel")]
                tracing: None,
            }),
            host: None,
        }
    }

    /// Opens this thread's pending spans; cheap when there are none.
    #[inline]
    fn open_pending(&self) {
        self.layers.open_pending();
    }

    /// Makes sure the per-layer filters' answers in place are this span's or event's (see
    /// [`filter_state`]): asks again when a question nobody acted on, or another callsite's
    /// span or event, left other answers behind.
    #[inline]
    fn fresh_filters(&self, metadata: &'static Metadata<'static>) {
        if filter_state::must_ask_again(filter_state::key(metadata)) {
            let _ = self.layers.inner.enabled(metadata);
        }
    }
}

impl<S> Layers<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    fn open_span(
        &self,
        meta: &'static Metadata<'static>,
        values: &ValueSet<'_>,
    ) -> Option<(Id, Option<Dispatch>)> {
        // Opening asks and consumes: a question in place is interrupted.
        filter_state::consumed_elsewhere();
        // A deferred call was not sampled when it started (a sampled one never defers).
        #[cfg(feature = "otel")]
        if self.tracing.is_some() {
            crate::otel::preset(meta, false);
        }
        let id = open_in(&self.inner, meta, values)?;
        ENTERED.set(ENTERED.get() + 1);
        let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade);
        Some((id, dispatch))
    }
}

impl<S> DeferredCalls for Layers<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    #[inline]
    fn open_pending(&self) {
        open_pending(self.id, &mut |meta, values| self.open_span(meta, values));
    }

    fn open(
        &self,
        meta: &'static Metadata<'static>,
        values: &ValueSet<'_>,
    ) -> Option<(Id, Option<Dispatch>)> {
        self.open_span(meta, values)
    }

    fn record(&self, call: &CallRecord<'_>) {
        let Some(metrics) = &self.metrics else {
            return;
        };
        if ENTERED.get() == 0 {
            metrics.record_call::<S>(call, None);
            return;
        }
        let current = self.inner.current_span();
        let parent = current.id().and_then(|id| self.inner.span(id));
        metrics.record_call(call, parent);
    }

    #[cfg(feature = "otel")]
    fn start_sampled(&self, meta: &'static Metadata<'static>) -> bool {
        let Some(tracing) = &self.tracing else {
            return false;
        };
        let sampled = if instrument_core::tracked::pending_calls() > 0 {
            // Inside a deferred call: an unsampled one.
            false
        } else {
            let inherited = if ENTERED.get() == 0 {
                None
            } else {
                let current = self.inner.current_span();
                current
                    .id()
                    .and_then(|id| self.inner.span(id))
                    .and_then(|span| span.extensions().get::<crate::otel::Traced>().copied())
            };
            match inherited {
                Some(crate::otel::Traced(sampled)) => sampled,
                None => tracing.sampling.root(true).unwrap_or(false),
            }
        };
        if sampled {
            crate::otel::preset(meta, true);
        }
        sampled
    }
}

impl<S> Subscriber for Pipeline<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.layers.dispatch.set(subscriber.downgrade());
        self.layers.inner.on_register_dispatch(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.layers.inner.register_callsite(metadata)
    }

    #[inline]
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // Per-layer filters keep what `enabled` decided for the span or event that follows:
        // the pending spans open (each through its own `enabled`) before, not after.
        self.open_pending();
        let enabled = self.layers.inner.enabled(metadata);
        filter_state::asked(filter_state::key(metadata));
        enabled
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.layers.inner.max_level_hint()
    }

    #[inline]
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.open_pending();
        self.fresh_filters(span.metadata());
        self.layers.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        // Dimensions recorded on a parent apply to the pending calls below it from when they
        // would have been opened, as with spans opened at the start.
        self.open_pending();
        self.layers.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.layers.inner.record_follows_from(span, follows);
    }

    #[inline]
    fn event_enabled(&self, event: &Event<'_>) -> bool {
        self.open_pending();
        self.fresh_filters(event.metadata());
        self.layers.inner.event_enabled(event)
    }

    #[inline]
    fn event(&self, event: &Event<'_>) {
        // `Dispatch::event` asks `event_enabled` first, which opened the pending spans.
        self.layers.inner.event(event);
    }

    #[inline]
    fn enter(&self, span: &Id) {
        self.open_pending();
        ENTERED.set(ENTERED.get() + 1);
        self.layers.inner.enter(span);
    }

    #[inline]
    fn exit(&self, span: &Id) {
        // Pending calls keep the parent they had when they started.
        self.open_pending();
        ENTERED.set(ENTERED.get().saturating_sub(1));
        self.layers.inner.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.layers.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.layers.inner.try_close(id)
    }

    fn current_span(&self) -> Current {
        self.open_pending();
        self.layers.inner.current_span()
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        // `Host` first: every tracked call asks for it.
        if id == TypeId::of::<Host>() {
            return self.host.as_ref().map(|h| std::ptr::from_ref(h).cast());
        }
        if id == TypeId::of::<Self>() {
            return Some(std::ptr::from_ref(self).cast());
        }
        // SAFETY: forwarded as is; the caller's contract is the inner subscriber's.
        unsafe { self.layers.inner.downcast_raw(id) }
    }
}
