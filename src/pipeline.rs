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

use std::any::TypeId;
use std::cell::Cell;
use std::sync::OnceLock;

use instrument_core::tracked::{open_in, open_pending, Deferral, Ended};
use instrument_emf::{deferral_class, EmfHandle};
use tracing::dispatcher::WeakDispatch;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_core::span::Current;
use tracing_core::LevelFilter;
use tracing_subscriber::registry::LookupSpan;

thread_local! {
    /// Spans entered on this thread through a pipeline and not exited yet (any pipeline: an
    /// over-count only costs a lookup). Zero means the registry has no current span here, so a
    /// deferred call's metrics need not look for a parent.
    static ENTERED: Cell<usize> = const { Cell::new(0) };
}

/// Instrument's layers with deferred spans.
pub(crate) struct Pipeline<S> {
    inner: S,
    deferral: Deferral,
    metrics: Option<EmfHandle>,
    /// The `Dispatch` this pipeline lives in (weak: it owns us), for the spans it opens: a
    /// call ends its span there even if the thread's default changed during the call.
    dispatch: OnceLock<WeakDispatch>,
}

impl<S> Pipeline<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    /// `inner` recording deferred calls' metrics into `metrics` (`None`: metrics off).
    pub(crate) fn new(inner: S, metrics: Option<EmfHandle>) -> Self {
        Pipeline {
            inner,
            deferral: Deferral {
                record: record::<S>,
                open_pending: open::<S>,
                class: deferral_class,
                wants_tracked: metrics.is_some(),
                id: Deferral::next_id(),
            },
            metrics,
            dispatch: OnceLock::new(),
        }
    }

    /// Opens this thread's pending spans; cheap when there are none.
    #[inline]
    fn open_pending(&self) {
        open_pending(&self.deferral, &mut |meta, values| {
            let id = open_in(&self.inner, meta, values)?;
            ENTERED.set(ENTERED.get() + 1);
            let dispatch = self.dispatch.get().and_then(WeakDispatch::upgrade);
            Some((id, dispatch))
        });
    }
}

/// [`Deferral::record`] of `Pipeline<S>`.
fn record<S>(dispatch: &Dispatch, ended: &Ended<'_>)
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    let Some(pipeline) = dispatch.downcast_ref::<Pipeline<S>>() else {
        return;
    };
    let Some(metrics) = &pipeline.metrics else {
        return;
    };
    if ENTERED.get() == 0 {
        metrics.record_ended::<S>(ended, None);
        return;
    }
    let current = pipeline.inner.current_span();
    let parent = current.id().and_then(|id| pipeline.inner.span(id));
    metrics.record_ended(ended, parent);
}

/// [`Deferral::open_pending`] of `Pipeline<S>`.
fn open<S>(dispatch: &Dispatch)
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    if let Some(pipeline) = dispatch.downcast_ref::<Pipeline<S>>() {
        pipeline.open_pending();
    }
}

impl<S> Subscriber for Pipeline<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
        self.inner.on_register_dispatch(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    #[inline]
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // Per-layer filters keep what `enabled` decided for the span or event that follows:
        // the pending spans open (each through its own `enabled`) before, not after.
        self.open_pending();
        self.inner.enabled(metadata)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    #[inline]
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.open_pending();
        self.inner.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        // Dimensions recorded on a parent apply to the pending calls below it from when they
        // would have been opened, as with spans opened at the start.
        self.open_pending();
        self.inner.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.inner.record_follows_from(span, follows);
    }

    #[inline]
    fn event_enabled(&self, event: &Event<'_>) -> bool {
        self.open_pending();
        self.inner.event_enabled(event)
    }

    #[inline]
    fn event(&self, event: &Event<'_>) {
        // `Dispatch::event` asks `event_enabled` first, which opened the pending spans.
        self.inner.event(event);
    }

    #[inline]
    fn enter(&self, span: &Id) {
        self.open_pending();
        ENTERED.set(ENTERED.get() + 1);
        self.inner.enter(span);
    }

    #[inline]
    fn exit(&self, span: &Id) {
        // Pending calls keep the parent they had when they started.
        self.open_pending();
        ENTERED.set(ENTERED.get().saturating_sub(1));
        self.inner.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.inner.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.inner.try_close(id)
    }

    fn current_span(&self) -> Current {
        self.open_pending();
        self.inner.current_span()
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        // `Deferral` first: every tracked call asks for it.
        if id == TypeId::of::<Deferral>() {
            return Some(std::ptr::from_ref(&self.deferral).cast());
        }
        if id == TypeId::of::<Self>() {
            return Some(std::ptr::from_ref(self).cast());
        }
        // SAFETY: forwarded as is; the caller's contract is the inner subscriber's.
        unsafe { self.inner.downcast_raw(id) }
    }
}
