//! Tracked calls (`#[track_performance]`): their metric ids, and how a finished call is
//! counted, whether its span closed (the span path) or never opened (the deferred path).

use std::sync::Arc;

use instrument_core::callsite::Schema;
use instrument_core::tracked::{CallRecord, Outcome};
use instrument_vocab::field;
use tracing_core::Subscriber;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::state::{with_scratch, EmfState};
use super::EmfSpan;
use crate::aggregator::{Context, Kind};
use crate::fields::Collected;

/// Metric ids of one tracked function.
#[derive(Debug, Clone, Copy)]
pub(super) struct TrackedIds {
    pub(super) success: u32,
    pub(super) error: u32,
    pub(super) latency: u32,
    pub(super) cancelled: u32,
}

#[derive(Debug)]
pub(super) struct Tracked {
    pub(super) ids: TrackedIds,
    /// `None` until the call ends (or for an `outcome` value no one knows).
    pub(super) outcome: Option<Outcome>,
    pub(super) latency: Option<f64>,
    pub(super) error_context: Option<Arc<Context>>,
}

impl EmfState {
    /// Applies recorded tracked-call fields to a span's state.
    pub(super) fn record_tracked(&self, state: &mut EmfSpan, collected: &Collected) {
        let Some(tracked) = state.tracked.as_mut() else {
            return;
        };
        if let Some(range) = collected.outcome {
            tracked.outcome = Outcome::parse(collected.str(range));
        }
        if let Some(latency) = collected.latency {
            tracked.latency = Some(latency);
        }
        if let Some(range) = collected.error_type {
            let error_type = collected.str(range);
            if !error_type.is_empty() {
                tracked.error_context = self.error_context(&state.context, error_type);
            }
        }
    }

    /// Counts a tracked call that ended (its span closing, or a deferred call).
    pub(super) fn end_tracked(self: &Arc<Self>, context: &Arc<Context>, tracked: &Tracked) {
        self.ensure_flusher();
        let ids = tracked.ids;
        let error_context = tracked.error_context.as_ref().unwrap_or(context);
        let ((), full) = self.aggregator.with_shard(|shard| {
            match (tracked.outcome, tracked.latency) {
                (Some(Outcome::Success), Some(latency)) => {
                    shard.add_call(context.id, ids.success, ids.latency, latency);
                    return;
                }
                (Some(Outcome::Success), None) => {
                    shard.add(context.id, ids.success, Kind::Counter, 1.0)
                }
                (Some(Outcome::Error | Outcome::Panic), _) => {
                    shard.add(error_context.id, ids.error, Kind::Counter, 1.0);
                }
                (Some(Outcome::Cancelled), _) => {
                    shard.add(context.id, ids.cancelled, Kind::Counter, 1.0);
                    return;
                }
                (None, _) => {}
            }
            if let Some(latency) = tracked.latency {
                shard.add(context.id, ids.latency, Kind::Distribution, latency);
            }
        });
        if full {
            self.flush_local();
        }
    }

    /// What `on_new_span`, `on_record` and `on_close` together do for a tracked call whose
    /// span was never opened; `parent` is the innermost open span.
    pub(super) fn record_call<S>(
        self: &Arc<Self>,
        ended: &CallRecord<'_>,
        parent: Option<SpanRef<'_, S>>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let (meta, facts) = (ended.meta, ended.schema);
        if !facts.metrics {
            return;
        }
        let ids = self.tracked_ids(facts, ended.function);
        // The root context is borrowed, not cloned: the common case (no open span with a
        // context) touches no reference count.
        let inherited = parent.and_then(|span| {
            span.scope()
                .find_map(|s| s.extensions().get::<EmfSpan>().map(|d| d.context.clone()))
        });
        let parent = match &inherited {
            Some(context) => context,
            None => self.root_ref(),
        };
        let own;
        let context = if facts.only_tracked {
            parent
        } else {
            own = with_scratch(|collected| {
                collected.reset(facts);
                ended.with_values(&mut |values| values.record(collected));
                let context = self.child_context(meta, parent.clone(), collected);
                self.add_metrics(&context, collected);
                context
            });
            &own
        };
        let error_context = match ended.error_type {
            Some(error_type) if !error_type.is_empty() => self.error_context(context, error_type),
            _ => None,
        };
        let tracked = Tracked {
            ids,
            outcome: Some(ended.outcome),
            latency: Some(ended.latency_ms),
            error_context,
        };
        self.end_tracked(context, &tracked);
    }
}

/// Records the tracked-call fields straight into the span's state, copying nothing.
pub(super) struct TrackedVisitor<'a> {
    pub(super) shared: &'a EmfState,
    pub(super) state: &'a mut EmfSpan,
}

impl tracing_core::field::Visit for TrackedVisitor<'_> {
    fn record_f64(&mut self, field: &tracing_core::Field, value: f64) {
        if field.name() == field::LATENCY_MS {
            if let Some(t) = self.state.tracked.as_mut() {
                t.latency = Some(value);
            }
        }
    }

    fn record_u64(&mut self, field: &tracing_core::Field, value: u64) {
        self.record_f64(field, value as f64)
    }

    fn record_i64(&mut self, field: &tracing_core::Field, value: i64) {
        self.record_f64(field, value as f64)
    }

    fn record_str(&mut self, field: &tracing_core::Field, value: &str) {
        let Some(tracked) = self.state.tracked.as_mut() else {
            return;
        };
        match field.name() {
            field::OUTCOME => tracked.outcome = Outcome::parse(value),
            field::ERROR_TYPE if !value.is_empty() => {
                tracked.error_context = self.shared.error_context(&self.state.context, value);
            }
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &tracing_core::Field, value: &dyn std::fmt::Debug) {
        if field::RECORDED_AT_END.contains(&field.name()) {
            let text = format!("{value:?}");
            match field.name() {
                field::LATENCY_MS => {
                    if let Ok(v) = text.parse() {
                        self.record_f64(field, v)
                    }
                }
                _ => self.record_str(field, text.trim_matches('"')),
            }
        }
    }
}

/// Resolves a tracked call's metric ids from its `function` field, copying nothing (the ids
/// are held per callsite and checked against the name).
pub(super) struct FunctionIds<'a> {
    pub(super) shared: &'a EmfState,
    pub(super) schema: &'static Schema,
    pub(super) ids: Option<TrackedIds>,
}

impl tracing_core::field::Visit for FunctionIds<'_> {
    fn record_str(&mut self, field: &tracing_core::Field, value: &str) {
        if field.name() == field::FUNCTION && self.ids.is_none() {
            self.ids = Some(self.shared.tracked_ids(self.schema, value));
        }
    }

    fn record_debug(&mut self, _field: &tracing_core::Field, _value: &dyn std::fmt::Debug) {}
}
