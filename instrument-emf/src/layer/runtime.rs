//! Metrics named at run time (`instrument::metrics`, the `metrics`-crate recorder): handles
//! resolved once against one layer — the name, unit and dimensions interned into the same
//! aggregator as span and event metrics, under the same cardinality bound — so that recording
//! costs an atomic add (counters) or one shard update (histograms, gauges).
//!
//! A counter's handle holds an atomic cell of the aggregator, drained at each flush with the
//! shards; histograms and gauges go through the recording thread's shard like field metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::state::EmfState;
use super::{EmfHandle, EmfLayer};
use crate::aggregator::{Context, Kind, MetricDef};
use crate::dropped::DropReason;
use crate::unit::Unit;

/// A counter named at run time, bound to one layer ([`EmfHandle::counter`]). Cloning is
/// cheap; every clone adds to the same cell. A handle that could not be resolved (over the
/// cardinality bound, counted in `instrument.dropped`) records nothing.
#[derive(Clone, Debug, Default)]
pub struct RuntimeCounter {
    cell: Option<Arc<AtomicU64>>,
}

impl RuntimeCounter {
    /// Adds `n`.
    #[inline]
    pub fn add(&self, n: u64) {
        if let Some(cell) = &self.cell {
            cell.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Whether the handle records (false: no layer, or over the cardinality bound).
    #[must_use]
    pub fn is_recording(&self) -> bool {
        self.cell.is_some()
    }
}

/// A histogram or gauge named at run time, bound to one layer ([`EmfHandle::histogram`],
/// [`EmfHandle::gauge`]).
#[derive(Clone, Default)]
pub struct RuntimeValues {
    target: Option<(Arc<EmfState>, u32, u32, Kind)>,
}

impl std::fmt::Debug for RuntimeValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeValues")
            .field("recording", &self.target.is_some())
            .finish()
    }
}

impl RuntimeValues {
    /// Records `value` (a histogram keeps every value; a gauge its last).
    #[inline]
    pub fn record(&self, value: f64) {
        if let Some((state, context, metric, kind)) = &self.target {
            let ((), full) = state
                .aggregator
                .with_shard(|shard| shard.add(*context, *metric, *kind, value));
            if full {
                state.flush_local();
            }
        }
    }

    /// Whether the handle records (false: no layer, or over the cardinality bound).
    #[must_use]
    pub fn is_recording(&self) -> bool {
        self.target.is_some()
    }
}

impl EmfHandle {
    /// A counter named `name` with `dimensions` (besides the layer's default dimensions),
    /// resolved now: keep the handle where the name is fixed, or call this per use when it is
    /// not (a lookup of the name and dimensions).
    ///
    /// ```
    /// use instrument_emf::{EmfLayer, MemorySink};
    /// let sink = MemorySink::default();
    /// let layer = EmfLayer::builder(sink.clone()).dimension("service", "shop").build_unfiltered();
    /// let handle = layer.handle();
    /// let attempts = handle.counter("booking.attempts", &[("channel", "web")]);
    /// attempts.add(2);
    /// attempts.add(1);
    /// handle.flush();
    /// let doc: serde_json::Value = serde_json::from_slice(&sink.documents()[0]).unwrap();
    /// assert_eq!(doc["booking.attempts"], 3);
    /// assert_eq!(doc["channel"], "web");
    /// ```
    #[must_use]
    pub fn counter(&self, name: &str, dimensions: &[(&str, &str)]) -> RuntimeCounter {
        self.shared.counter(name, dimensions)
    }

    /// A histogram named `name` in `unit`, with `dimensions`, resolved now (see
    /// [`counter`](Self::counter)).
    #[must_use]
    pub fn histogram(&self, name: &str, unit: Unit, dimensions: &[(&str, &str)]) -> RuntimeValues {
        self.values(name, unit, dimensions, Kind::Distribution)
    }

    /// A gauge (its last value per flush) named `name` in `unit`, with `dimensions`, resolved
    /// now (see [`counter`](Self::counter)).
    #[must_use]
    pub fn gauge(&self, name: &str, unit: Unit, dimensions: &[(&str, &str)]) -> RuntimeValues {
        self.values(name, unit, dimensions, Kind::Gauge)
    }

    fn values(
        &self,
        name: &str,
        unit: Unit,
        dimensions: &[(&str, &str)],
        kind: Kind,
    ) -> RuntimeValues {
        let state = &self.shared;
        let Some(context) = state.runtime_context(dimensions) else {
            return RuntimeValues::default();
        };
        let metric = state.aggregator.metric(&MetricDef {
            name: name.into(),
            unit,
            resolution: 60,
            kind,
        });
        // The handle keeps the context alive (and so its id valid) while it exists.
        state.aggregator.keep(&context);
        RuntimeValues {
            target: Some((state.clone(), context.id, metric, kind)),
        }
    }
}

impl EmfLayer {
    /// [`EmfHandle::counter`], without a handle (what `instrument::metrics` calls per use).
    #[must_use]
    pub fn counter(&self, name: &str, dimensions: &[(&str, &str)]) -> RuntimeCounter {
        self.shared.counter(name, dimensions)
    }
}

impl EmfState {
    /// A runtime counter: a dimensionless one by name from a read-locked map (no allocation),
    /// else resolved through the aggregator.
    fn counter(&self, name: &str, dimensions: &[(&str, &str)]) -> RuntimeCounter {
        if dimensions.is_empty() {
            if let Some(cell) = self.aggregator.named_counter(name) {
                return RuntimeCounter { cell: Some(cell) };
            }
        }
        let Some(context) = self.runtime_context(dimensions) else {
            return RuntimeCounter::default();
        };
        let metric = self.aggregator.metric(&MetricDef {
            name: name.into(),
            unit: Unit::from_name_suffix(name).unwrap_or(Unit::Count),
            resolution: 60,
            kind: Kind::Counter,
        });
        let cell = self.aggregator.counter_cell(&context, metric);
        if dimensions.is_empty() {
            self.aggregator.name_counter(name, &cell);
        }
        RuntimeCounter { cell: Some(cell) }
    }

    /// The context of a runtime metric: the root (default dimensions) plus `dimensions`, their
    /// values redacted like span dimensions; `None` over the cardinality bound (counted).
    fn runtime_context(&self, dimensions: &[(&str, &str)]) -> Option<Arc<Context>> {
        if dimensions.is_empty() {
            return Some(self.root());
        }
        let mut def = self.root_ref().def.clone();
        for (name, value) in dimensions {
            def = def.with_dimension(name, &self.dimension_value(value));
        }
        let context = self.aggregator.context(def);
        if context.is_none() {
            self.dropped.add(DropReason::TooManyCombinations, 1);
        }
        context
    }
}
