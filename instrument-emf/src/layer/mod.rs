//! [`EmfLayer`]: span fields become aggregated CloudWatch metrics.
//!
//! | module | concern |
//! |---|---|
//! | `builder` | configuring and building the layer |
//! | `state` | the layer's state ([`EmfState`](state::EmfState)): where flushes go, metric fields into the aggregator, cold starts |
//! | `handles` | what the layer resolved per callsite (a tracked function's metric ids), held like handles |
//! | `filter` | the per-layer filter: the callsites the metrics layer reads, at any level |
//! | `context` | dimension and property contexts: inherited from parent spans, per error type |
//! | `tracked` | tracked calls: their metric ids, and one way to record a finished call for both the span path and the deferred path |
//! | `flush` | draining the aggregator into the exporter: on demand, on an interval, at shutdown |

mod builder;
mod context;
mod filter;
mod flush;
mod handles;
mod runtime;
mod state;
mod tracked;

use std::sync::Arc;
use std::time::Duration;

use instrument_core::tracked::CallRecord;
use instrument_core::{callsite, lambda};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::aggregator::Context;
use crate::dropped::Dropped;

pub use builder::EmfLayerBuilder;
pub use filter::MetricsFilter;
pub use flush::IntervalFlush;
pub use runtime::{RuntimeCounter, RuntimeValues};

use flush::spawn_flusher;
use state::{with_scratch, EmfState};
use tracked::{FunctionIds, Tracked, TrackedVisitor};

/// What the EMF layer keeps in a span's extensions.
#[derive(Debug)]
struct EmfSpan {
    pub(super) context: Arc<Context>,
    pub(super) tracked: Option<Tracked>,
    pub(super) cold_start_counted: bool,
}

/// A `tracing_subscriber` layer that turns span fields into CloudWatch metrics in Embedded
/// Metric Format (see the crate documentation for the conventions).
///
/// ```
/// use instrument_emf::{EmfLayer, MemorySink};
/// use tracing_subscriber::prelude::*;
///
/// let sink = MemorySink::default();
/// let layer = EmfLayer::builder(sink.clone()).namespace("Shop").build();
/// let handle = layer.inner().handle();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(counter.orders = 2, histogram.basket_bytes = 512, "ordered");
/// });
/// handle.flush();
/// let doc: serde_json::Value = serde_json::from_slice(&sink.documents()[0]).unwrap();
/// assert_eq!(doc["orders"], 2);
/// assert_eq!(doc["basket_bytes"], 512);
/// // Metrics are sorted by name: basket_bytes (Bytes, from its suffix), orders (Count).
/// assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"], "Bytes");
/// assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][1]["Unit"], "Count");
/// ```
pub struct EmfLayer {
    shared: Arc<EmfState>,
}

impl std::fmt::Debug for EmfLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmfLayer")
            .field("namespace", &self.shared.exporting.namespace())
            .finish_non_exhaustive()
    }
}

/// Flushes and inspects an [`EmfLayer`] after it moved into a subscriber.
#[derive(Clone)]
pub struct EmfHandle {
    shared: Arc<EmfState>,
}

impl std::fmt::Debug for EmfHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmfHandle").finish_non_exhaustive()
    }
}

impl EmfHandle {
    /// Records a tracked call whose span never opened (see `instrument_core::tracked::DeferredCalls`); `parent`
    /// is the innermost open span of the calling thread. Not public API.
    #[doc(hidden)]
    pub fn record_call<S>(&self, ended: &CallRecord<'_>, parent: Option<SpanRef<'_, S>>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.shared.record_call(ended, parent);
    }

    /// Encodes and writes everything recorded so far on every thread.
    pub fn flush(&self) {
        self.shared.flush_all();
    }

    /// What was dropped or repaired, per reason.
    pub fn dropped(&self) -> &Dropped {
        &self.shared.dropped
    }

    /// Flushes every `interval` on a background thread until the returned value is dropped
    /// (which flushes once more).
    pub fn flush_every(&self, interval: Duration) -> IntervalFlush {
        spawn_flusher(Arc::downgrade(&self.shared), interval)
    }

    /// Stops the interval flush (if one runs) and flushes: for the end of the program.
    pub fn shutdown(&self) {
        let flusher = self
            .shared
            .flusher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(flusher);
        // The exporter delivers what is left within its bounded wait; what it could not is
        // counted, not silent.
        self.shared.flush_all_then(|exporter| exporter.shutdown());
        self.shared
            .exporting
            .exporter()
            .take_dropped(&self.shared.dropped);
    }
}

impl<S> Layer<S> for EmfLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let shared = &self.shared;
        let meta = attrs.metadata();
        let facts = callsite::schema(meta);
        if !facts.metrics {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        if facts.only_tracked {
            // The hot path: a tracked call starting. Only its name matters here.
            let mut function = FunctionIds {
                shared,
                schema: facts,
                ids: None,
            };
            attrs.record(&mut function);
            let ids = function
                .ids
                .unwrap_or_else(|| shared.tracked_ids(facts, meta.name()));
            let state = EmfSpan {
                context: shared.parent_context(span.parent()),
                tracked: Some(Tracked {
                    ids,
                    outcome: None,
                    latency: None,
                    error_context: None,
                }),
                cold_start_counted: false,
            };
            span.extensions_mut().insert(state);
            return;
        }
        with_scratch(|collected| {
            collected.reset(facts);
            attrs.record(collected);
            let parent = shared.parent_context(span.parent());
            let context = shared.child_context(meta, parent, collected);
            let tracked = if facts.is_tracked() {
                let function = collected.function.map_or(meta.name(), |r| collected.str(r));
                Some(Tracked {
                    ids: shared.tracked_ids(facts, function),
                    outcome: None,
                    latency: None,
                    error_context: None,
                })
            } else {
                None
            };
            let mut state = EmfSpan {
                context,
                tracked,
                cold_start_counted: false,
            };
            shared.record_tracked(&mut state, collected);
            shared.add_metrics(&state.context, collected);
            span.extensions_mut().insert(state);
        });
        shared.count_cold_start(&span);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        let shared = &self.shared;
        let Some(span) = ctx.span(id) else {
            return;
        };
        let facts = callsite::schema(span.metadata());
        if !facts.metrics {
            return;
        }
        if facts.only_tracked {
            // The hot path: a tracked call recording its outcome and latency.
            let mut extensions = span.extensions_mut();
            if let Some(state) = extensions.get_mut::<EmfSpan>() {
                values.record(&mut TrackedVisitor { shared, state });
            }
            return;
        }
        with_scratch(|collected| {
            collected.reset(facts);
            values.record(collected);
            let mut extensions = span.extensions_mut();
            let Some(state) = extensions.get_mut::<EmfSpan>() else {
                return;
            };
            if !collected.dims.is_empty() || !collected.props.is_empty() {
                // Dimensions recorded late apply from now on, to this span and new children.
                let parent = state.context.clone();
                state.context = shared.child_context(span.metadata(), parent, collected);
            }
            shared.record_tracked(state, collected);
            let context = state.context.clone();
            drop(extensions);
            shared.add_metrics(&context, collected);
        });
        shared.count_cold_start(&span);
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let shared = &self.shared;
        let facts = callsite::schema(event.metadata());
        if !facts.metrics {
            return;
        }
        with_scratch(|collected| {
            collected.reset(facts);
            event.record(collected);
            if collected.metrics.is_empty() {
                return;
            }
            let parent = shared.parent_context(ctx.event_span(event));
            let context = shared.child_context(event.metadata(), parent, collected);
            shared.add_metrics(&context, collected);
        });
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let shared = &self.shared;
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let ends_invocation = callsite::schema(span.metadata()).invocation
            && span.extensions().get::<lambda::Invocation>().is_some();
        let state = span.extensions_mut().remove::<EmfSpan>();
        if let Some(EmfSpan {
            context,
            tracked: Some(tracked),
            ..
        }) = state
        {
            shared.end_tracked(&context, &tracked);
        }
        if ends_invocation {
            shared.flush_all();
        }
    }
}
