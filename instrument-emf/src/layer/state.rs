//! The EMF layer's state, shared by the layer, its handles and the flush thread: where
//! flushes go, the aggregator, and recording metric fields and cold starts into it.

use instrument_vocab::metric;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instrument_core::lambda::{self, ColdStart};
use instrument_core::redact::Redactor;
use tracing_core::Subscriber;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::flush::IntervalFlush;
use super::EmfSpan;
use crate::aggregator::{Aggregator, Context, ContextDef, Kind, MetricDef};
use crate::dropped::{DropReason, Dropped};
use crate::export::{EmfExporter, Exporter};
use crate::fields::Collected;
use crate::sink::Sink;
use crate::unit::Unit;

/// Where a layer's flushes go.
pub(super) enum Output {
    Sink(Arc<dyn Sink>),
    Exporter(Arc<dyn Exporter>),
}

/// Where a layer's flushes go, with the (validated) namespace they are recorded in.
pub(super) enum Exporting {
    /// EMF through a sink: held inline, its encoder knows the namespace.
    Emf(EmfExporter<Arc<dyn Sink>>),
    /// Any other exporter.
    Other {
        namespace: String,
        exporter: Arc<dyn Exporter>,
    },
}

impl Exporting {
    pub(super) fn namespace(&self) -> &str {
        match self {
            Exporting::Emf(emf) => emf.namespace(),
            Exporting::Other { namespace, .. } => namespace,
        }
    }

    pub(super) fn exporter(&self) -> &dyn Exporter {
        match self {
            Exporting::Emf(emf) => emf,
            Exporting::Other { exporter, .. } => &**exporter,
        }
    }
}

pub(super) struct EmfState {
    pub(super) aggregator: Aggregator,
    pub(super) exporting: Exporting,
    /// Boxed: over 400 bytes, and `EmfState` stays under the size the allocator serves from its
    /// per-thread cache (`init()` is paid on every Lambda cold start).
    pub(super) dropped: Box<Dropped>,
    /// The builder's dimensions; interned when the first span needs it.
    pub(super) root_def: ContextDef,
    pub(super) root: OnceLock<Arc<Context>>,
    /// The `ColdStart` metric's context (before the invocation's IDs) and id, made at the first
    /// cold start.
    pub(super) cold: OnceLock<(ContextDef, u32)>,
    pub(super) function_name: Option<String>,
    /// The `ColdStart` metric's dimensions besides `function_name`; `None`: `root_def`'s.
    pub(super) cold_def: Option<ContextDef>,
    pub(super) cold_start: Arc<ColdStart>,
    pub(super) error_type_dimension: bool,
    pub(super) max_error_types: usize,
    pub(super) error_types: RwLock<HashSet<Box<str>>>,
    pub(super) flush_lock: Mutex<()>,
    pub(super) flush_interval: Option<Duration>,
    pub(super) flusher: Mutex<Option<IntervalFlush>>,
    pub(super) flusher_started: std::sync::atomic::AtomicBool,
    pub(super) redactor: Option<Arc<Redactor>>,
    /// Boxed, as `dropped`: what the layer resolved per callsite.
    pub(super) handles: Box<super::handles::Handles>,
}

thread_local! {
    static SCRATCH: RefCell<Collected> = RefCell::new(Collected::default());
}

/// Runs `f` with this thread's reusable buffer, or a fresh one when it is busy (re-entrancy)
/// or gone (thread teardown).
pub(super) fn with_scratch<R>(f: impl FnOnce(&mut Collected) -> R) -> R {
    let mut f = Some(f);
    let reused = SCRATCH
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut c) => f.take().map(|f| f(&mut c)),
            Err(_) => None,
        })
        .ok()
        .flatten();
    match (reused, f) {
        (Some(r), _) => r,
        (None, Some(f)) => f(&mut Collected::default()),
        (None, None) => unreachable!("the closure ran or is still here"),
    }
}

impl EmfState {
    pub(super) fn root(&self) -> Arc<Context> {
        self.root_ref().clone()
    }

    pub(super) fn root_ref(&self) -> &Arc<Context> {
        self.root
            .get_or_init(|| self.aggregator.context_unbounded(self.root_def.clone()))
    }

    /// Unique for the life of the process (an address could be reused by a later layer, whose
    /// metric ids differ).
    pub(super) fn id(&self) -> usize {
        self.aggregator.id() as usize
    }

    /// Adds the metric fields of `collected` in `context`.
    pub(super) fn add_metrics(self: &Arc<Self>, context: &Arc<Context>, collected: &Collected) {
        if collected.metrics.is_empty() {
            return;
        }
        self.ensure_flusher();
        let mut ids: smallvec_like::Ids = Default::default();
        for (kind, name, value) in &collected.metrics {
            let unit = match collected.units.iter().find(|(n, _)| n == name) {
                Some((_, range)) => match Unit::parse(collected.str(*range)) {
                    Some(unit) => unit,
                    None => {
                        self.dropped.add(DropReason::InvalidUnit, 1);
                        Unit::None
                    }
                },
                None => Unit::from_name_suffix(name).unwrap_or(match kind {
                    Kind::Counter => Unit::Count,
                    _ => Unit::None,
                }),
            };
            let resolution = match collected.resolutions.iter().find(|(n, _)| n == name) {
                None => 60,
                Some((_, r)) if *r == 1.0 => 1,
                Some((_, r)) if *r == 60.0 => 60,
                Some(_) => {
                    self.dropped.add(DropReason::InvalidResolution, 1);
                    60
                }
            };
            let id = self.aggregator.metric(&MetricDef {
                name: (*name).into(),
                unit,
                resolution,
                kind: *kind,
            });
            ids.push((id, *kind, *value));
        }
        let ((), full) = self.aggregator.with_shard(|shard| {
            for (id, kind, value) in ids.iter() {
                shard.add(context.id, *id, *kind, *value);
            }
        });
        if full {
            self.flush_local();
        }
    }

    pub(super) fn count_cold_start<S>(&self, span: &SpanRef<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if !instrument_core::callsite::schema(span.metadata()).invocation {
            return;
        }
        let Some(invocation) = lambda::invocation(span, &self.cold_start) else {
            return;
        };
        if !invocation.cold_start {
            return;
        }
        let mut extensions = span.extensions_mut();
        // The invocation's request and trace IDs, as properties of the `ColdStart` document
        // (so Insights can go from the cold start to its invocation's lines).
        let mut ids = Vec::new();
        if let Some(state) = extensions.get_mut::<EmfSpan>() {
            if state.cold_start_counted {
                return;
            }
            state.cold_start_counted = true;
            ids.clone_from(&state.context.def.props);
        }
        drop(extensions);
        let (base, metric) = self.cold.get_or_init(|| {
            // `function_name` first, as Powertools publishes `[function_name, service]`.
            let mut def = ContextDef::default();
            if let Some(name) = &self.function_name {
                def = def.with_dimension(metric::FUNCTION_NAME_DIMENSION, name);
            }
            for (name, value) in &self.cold_def.as_ref().unwrap_or(&self.root_def).dims {
                def = def.with_dimension(name, value);
            }
            let metric = self.aggregator.metric(&MetricDef {
                name: metric::COLD_START.into(),
                unit: Unit::Count,
                resolution: 60,
                kind: Kind::Counter,
            });
            (def, metric)
        });
        let mut def = base.clone();
        for (name, value) in &ids {
            def = def.with_property(name, value);
        }
        // A cold start happens once per execution environment: one context each, never many.
        let context = self.aggregator.context_unbounded(def).id;
        let metric = *metric;
        self.aggregator
            .with_shard(|shard| shard.add(context, metric, Kind::Counter, 1.0));
    }
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

mod smallvec_like {
    /// Metric ids resolved for one event, on the stack for up to 8.
    pub(super) type Ids = smallvec::SmallVec<[(u32, super::Kind, f64); 8]>;
}
