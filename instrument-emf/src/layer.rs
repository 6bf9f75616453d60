//! [`EmfLayer`]: span fields become aggregated CloudWatch metrics.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instrument_core::lambda::{self, ColdStart, InitializationType, LambdaEnvironment};
use instrument_core::redact::Redactor;
use instrument_core::tracked::{CallRecord, OutcomeKind};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context as LayerContext, Filter, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::aggregator::{Aggregator, Cell, Context, ContextDef, Kind, MetricDef};
use crate::dropped::{DropReason, Dropped};
use crate::encoder::{Encoder, Group, Metric};
use crate::export::{EmfExporter, Exporter};
use crate::fields::{CallsiteFacts, Collected};
use crate::sink::Sink;
use crate::unit::Unit;

/// Outcome of a tracked call, as recorded in its span's `outcome` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Unknown,
    Success,
    Error,
    Panic,
    Cancelled,
}

impl Outcome {
    fn parse(s: &str) -> Outcome {
        match s {
            "success" | "ok" => Outcome::Success,
            "error" | "err" => Outcome::Error,
            "panic" => Outcome::Panic,
            "cancelled" | "canceled" => Outcome::Cancelled,
            _ => Outcome::Unknown,
        }
    }
}

/// Metric ids of one tracked function.
#[derive(Debug, Clone, Copy)]
struct TrackedIds {
    success: u32,
    error: u32,
    latency: u32,
    cancelled: u32,
}

#[derive(Debug)]
struct Tracked {
    ids: TrackedIds,
    outcome: Outcome,
    latency: Option<f64>,
    error_context: Option<Arc<Context>>,
}

/// What the EMF layer keeps in a span's extensions.
#[derive(Debug)]
struct EmfSpan {
    context: Arc<Context>,
    tracked: Option<Tracked>,
    cold_start_counted: bool,
}

/// Configures an [`EmfLayer`].
///
/// ```
/// use instrument_emf::{EmfLayer, MemorySink};
/// let sink = MemorySink::default();
/// let layer = EmfLayer::builder(sink.clone())
///     .namespace("Ticketing")
///     .dimension("service", "booking")
///     .build_unfiltered();
/// # let _ = layer;
/// ```
#[must_use]
pub struct EmfLayerBuilder {
    output: Output,
    namespace: String,
    dimensions: Vec<(String, String)>,
    error_type_dimension: bool,
    max_error_types: usize,
    max_contexts: usize,
    shard_value_limit: usize,
    lambda: Option<LambdaEnvironment>,
    cold_start: Option<Arc<ColdStart>>,
    flush_interval: Option<Duration>,
    redactor: Option<Arc<Redactor>>,
}

impl EmfLayerBuilder {
    /// Redacts PII in dimension and property values (once per distinct combination).
    pub fn redactor(mut self, redactor: Option<Arc<Redactor>>) -> Self {
        self.redactor = redactor.filter(|r| r.is_active());
        self
    }

    /// Flushes every `interval` on a background thread, started when the first metric is
    /// recorded (so building the layer stays cheap, and a process that records nothing runs no
    /// thread). [`EmfHandle::shutdown`] stops it. Not for Lambda, which flushes per invocation.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = Some(interval);
        self
    }

    /// The CloudWatch namespace (default `instrument`).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// A dimension on every metric (e.g. `service`, `environment`).
    pub fn dimension(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.dimensions.push((name.into(), value.into()));
        self
    }

    /// Whether `<name>.error` carries an `error_type` dimension (default on). It is also
    /// published without it, so the total stays one metric.
    pub fn error_type_dimension(mut self, on: bool) -> Self {
        self.error_type_dimension = on;
        self
    }

    /// How many distinct `error_type` values become dimensions; later ones are published as
    /// `other` (default 25), bounding cardinality.
    pub fn max_error_types(mut self, n: usize) -> Self {
        self.max_error_types = n;
        self
    }

    /// How many distinct dimension combinations may be live at once (default 10,000); metrics
    /// in further combinations are recorded without their span's dimensions, and counted as
    /// dropped (`too_many_combinations`).
    pub fn max_combinations(mut self, n: usize) -> Self {
        self.max_contexts = n.max(2);
        self
    }

    /// How many values one thread may buffer before it flushes them itself (default 10,000):
    /// the bound on memory between flushes.
    pub fn max_buffered_values(mut self, n: usize) -> Self {
        self.shard_value_limit = n.max(1);
        self
    }

    /// The Lambda environment: adds `function_name` to the `ColdStart` metric and decides cold
    /// starts from the initialisation type.
    pub fn lambda(mut self, lambda: Option<LambdaEnvironment>) -> Self {
        self.lambda = lambda;
        self
    }

    /// Shares the cold-start tracker with the log layer.
    pub fn cold_start(mut self, cold_start: Arc<ColdStart>) -> Self {
        self.cold_start = Some(cold_start);
        self
    }

    /// Builds the layer, behind the [`MetricsFilter`] that shows it only the spans and events
    /// that carry metrics, dimensions or invocation context (so the rest cost it nothing, and
    /// callsites no layer wants stay disabled). `layer.inner().handle()` flushes it.
    pub fn build<S>(self) -> Filtered<EmfLayer, MetricsFilter, S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.build_unfiltered()
            .with_filter(MetricsFilter::default())
    }

    /// Builds the bare layer, which sees every span and event it is given.
    pub fn build_unfiltered(self) -> EmfLayer {
        let aggregator = Aggregator::new(self.max_contexts, self.shard_value_limit);
        let root_def = ContextDef {
            dims: self
                .dimensions
                .iter()
                .map(|(n, v)| (n.as_str().into(), v.as_str().into()))
                .collect(),
            ..ContextDef::default()
        };
        let cold_start = self.cold_start.unwrap_or_else(|| {
            let init = self
                .lambda
                .as_ref()
                .map_or(InitializationType::OnDemand, |l| {
                    l.initialization_type.clone()
                });
            Arc::new(ColdStart::new(&init))
        });
        // An invalid (or unset) namespace is replaced by `instrument`, the same for every
        // exporter.
        let encoder = Encoder::owned(self.namespace);
        let exporting = match self.output {
            Output::Sink(sink) => Exporting::Emf(EmfExporter::with_encoder(encoder, sink)),
            Output::Exporter(exporter) => Exporting::Other {
                namespace: encoder.namespace().to_string(),
                exporter,
            },
        };
        EmfLayer {
            shared: Arc::new(Shared {
                aggregator,
                exporting,
                dropped: Box::default(),
                root: OnceLock::new(),
                cold: OnceLock::new(),
                root_def,
                function_name: self.lambda.map(|l| l.function_name),
                cold_start,
                error_type_dimension: self.error_type_dimension,
                max_error_types: self.max_error_types,
                error_types: RwLock::default(),
                flush_lock: Mutex::new(()),
                flush_interval: self.flush_interval,
                flusher: Mutex::new(None),
                flusher_started: std::sync::atomic::AtomicBool::new(false),
                redactor: self.redactor,
            }),
        }
    }
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
    shared: Arc<Shared>,
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
    shared: Arc<Shared>,
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

fn spawn_flusher(shared: std::sync::Weak<Shared>, interval: Duration) -> IntervalFlush {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("instrument-emf-flush".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(interval)
            {
                match shared.upgrade() {
                    Some(shared) => shared.flush_all(),
                    None => return,
                }
            }
            if let Some(shared) = shared.upgrade() {
                shared.flush_all();
            }
        })
        .ok();
    IntervalFlush {
        stop: Some(stop),
        thread,
    }
}

/// The background interval flush; stops (after a last flush) when dropped.
#[derive(Debug)]
pub struct IntervalFlush {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for IntervalFlush {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where a layer's flushes go.
enum Output {
    Sink(Arc<dyn Sink>),
    Exporter(Arc<dyn Exporter>),
}

/// Where a layer's flushes go, with the (validated) namespace they are recorded in.
enum Exporting {
    /// EMF through a sink: held inline, its encoder knows the namespace.
    Emf(EmfExporter<Arc<dyn Sink>>),
    /// Any other exporter.
    Other {
        namespace: String,
        exporter: Arc<dyn Exporter>,
    },
}

impl Exporting {
    fn namespace(&self) -> &str {
        match self {
            Exporting::Emf(emf) => emf.namespace(),
            Exporting::Other { namespace, .. } => namespace,
        }
    }

    fn exporter(&self) -> &dyn Exporter {
        match self {
            Exporting::Emf(emf) => emf,
            Exporting::Other { exporter, .. } => &**exporter,
        }
    }
}

struct Shared {
    aggregator: Aggregator,
    exporting: Exporting,
    /// Boxed: over 400 bytes, and `Shared` stays under the size the allocator serves from its
    /// per-thread cache (`init()` is paid on every Lambda cold start).
    dropped: Box<Dropped>,
    /// The builder's dimensions; interned when the first span needs it.
    root_def: ContextDef,
    root: OnceLock<Arc<Context>>,
    /// The `ColdStart` metric's context and id, interned at the first cold start.
    cold: OnceLock<(Arc<Context>, u32)>,
    function_name: Option<String>,
    cold_start: Arc<ColdStart>,
    error_type_dimension: bool,
    max_error_types: usize,
    error_types: RwLock<HashSet<Box<str>>>,
    flush_lock: Mutex<()>,
    flush_interval: Option<Duration>,
    flusher: Mutex<Option<IntervalFlush>>,
    flusher_started: std::sync::atomic::AtomicBool,
    redactor: Option<Arc<Redactor>>,
}

impl EmfLayer {
    /// Configures a layer writing to `sink`.
    pub fn builder(sink: impl Sink) -> EmfLayerBuilder {
        Self::builder_for(Output::Sink(Arc::new(sink)))
    }

    /// Configures a layer whose flushes go to `exporter` instead of being encoded as EMF (e.g.
    /// the `cloudwatch-api` feature's `CloudwatchSink`, which calls PutMetricData).
    ///
    /// ```
    /// use instrument_emf::{EmfExporter, EmfLayer, MemorySink};
    /// let layer = EmfLayer::with_exporter(EmfExporter::new("Shop", MemorySink::default()))
    ///     .namespace("Shop")
    ///     .build_unfiltered();
    /// # let _ = layer;
    /// ```
    pub fn with_exporter(exporter: impl Exporter) -> EmfLayerBuilder {
        Self::builder_for(Output::Exporter(Arc::new(exporter)))
    }

    /// [`builder`](Self::builder) for a sink that is already shared.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instrument_emf::{EmfLayer, MemorySink, Sink};
    /// let sink: Arc<dyn Sink> = Arc::new(MemorySink::default());
    /// let _layer = EmfLayer::builder_shared(sink).build_unfiltered();
    /// ```
    pub fn builder_shared(sink: Arc<dyn Sink>) -> EmfLayerBuilder {
        Self::builder_for(Output::Sink(sink))
    }

    fn builder_for(output: Output) -> EmfLayerBuilder {
        EmfLayerBuilder {
            output,
            // Empty: `instrument` (see `build_unfiltered`), without allocating it here.
            namespace: String::new(),
            dimensions: Vec::new(),
            error_type_dimension: true,
            max_error_types: 25,
            max_contexts: 10_000,
            shard_value_limit: 10_000,
            lambda: None,
            cold_start: None,
            flush_interval: None,
            redactor: None,
        }
    }

    /// A handle to flush this layer once it is inside a subscriber.
    pub fn handle(&self) -> EmfHandle {
        EmfHandle {
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
struct CallsiteEntry {
    layer: usize,
    meta: usize,
    facts: CallsiteFacts,
    /// The function name the ids were made for (a tracked span's `function` value), shared with
    /// the memo so that refilling a slot never allocates.
    tracked: Option<(std::rc::Rc<str>, TrackedIds)>,
    /// Address and length of a `&'static str` known to equal the `tracked` name (a deferred
    /// call's `function`): then a pointer comparison stands for the string comparison.
    static_name: (usize, usize),
}

struct ContextEntry {
    layer: usize,
    meta: usize,
    parent: u32,
    key: String,
    context: Arc<Context>,
}

const CACHE_ENTRIES: usize = 64;
/// The most entries of `CALLSITE_MEMO` (many layers built and dropped, as in tests): then it
/// starts over.
const MEMO_ENTRIES: usize = 4096;

thread_local! {
    static SCRATCH: RefCell<Collected> = RefCell::new(Collected::default());
    /// Direct-mapped by (layer, callsite): one probe per lookup.
    static CALLSITES: RefCell<[Option<CallsiteEntry>; CACHE_ENTRIES]> =
        const { RefCell::new([const { None }; CACHE_ENTRIES]) };
    /// Every (layer, callsite) entry this thread has made, never evicted (bounded by
    /// [`MEMO_ENTRIES`]): two callsites sharing a slot of `CALLSITES` evict each other on every
    /// call, and refilling from here costs a lookup, where recomputing would cost a metric-id
    /// interning and an allocation per call.
    static CALLSITE_MEMO: RefCell<HashMap<(usize, usize), CallsiteEntry>> =
        RefCell::new(HashMap::new());
    static CONTEXTS: RefCell<(Vec<ContextEntry>, String)> = const { RefCell::new((Vec::new(), String::new())) };
}

/// Runs `f` with this thread's reusable buffer, or a fresh one when it is busy (re-entrancy)
/// or gone (thread teardown).
fn with_scratch<R>(f: impl FnOnce(&mut Collected) -> R) -> R {
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

/// This thread's memo of the entry for (layer, callsite), if any.
fn remembered(layer: usize, meta: usize) -> Option<CallsiteEntry> {
    CALLSITE_MEMO
        .try_with(|m| m.borrow().get(&(layer, meta)).cloned())
        .ok()
        .flatten()
}

/// Keeps `entry` in this thread's memo.
fn remember(entry: &CallsiteEntry) {
    let _ = CALLSITE_MEMO.try_with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MEMO_ENTRIES {
            m.clear();
        }
        m.insert((entry.layer, entry.meta), entry.clone());
    });
}

fn slot(layer: usize, meta: usize) -> usize {
    ((layer ^ meta.rotate_left(17)) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) as usize
        >> (usize::BITS - CACHE_ENTRIES.trailing_zeros())
}

impl Shared {
    fn root(&self) -> Arc<Context> {
        self.root_ref().clone()
    }

    fn root_ref(&self) -> &Arc<Context> {
        self.root
            .get_or_init(|| self.aggregator.context_unbounded(self.root_def.clone()))
    }

    /// Starts the interval flush when the first metric is recorded.
    #[inline]
    fn ensure_flusher(self: &Arc<Self>) {
        use std::sync::atomic::Ordering;
        if self.flush_interval.is_none() || self.flusher_started.load(Ordering::Relaxed) {
            return;
        }
        if self.flusher_started.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(interval) = self.flush_interval {
            let flusher = spawn_flusher(Arc::downgrade(self), interval);
            *self.flusher.lock().unwrap_or_else(|e| e.into_inner()) = Some(flusher);
        }
    }

    /// Unique for the life of the process (an address could be reused by a later layer, whose
    /// metric ids differ).
    fn id(&self) -> usize {
        self.aggregator.id() as usize
    }

    #[inline]
    fn facts(&self, meta: &'static Metadata<'static>) -> CallsiteFacts {
        let (layer, meta_key) = (self.id(), meta as *const _ as usize);
        let i = slot(layer, meta_key);
        CALLSITES
            .try_with(|c| {
                let mut c = c.borrow_mut();
                match &c[i] {
                    Some(e) if e.layer == layer && e.meta == meta_key => e.facts,
                    _ => {
                        let entry = remembered(layer, meta_key).unwrap_or_else(|| {
                            let entry = CallsiteEntry {
                                layer,
                                meta: meta_key,
                                facts: CallsiteFacts::of(meta),
                                tracked: None,
                                static_name: (0, 0),
                            };
                            remember(&entry);
                            entry
                        });
                        let facts = entry.facts;
                        c[i] = Some(entry);
                        facts
                    }
                }
            })
            .unwrap_or_else(|_| CallsiteFacts::of(meta))
    }

    /// [`facts`](Shared::facts) and [`tracked_ids`](Shared::tracked_ids) in one cache probe
    /// when both are cached (the steady state of a deferred tracked call).
    #[inline]
    fn facts_and_ids(
        &self,
        meta: &'static Metadata<'static>,
        function: &'static str,
    ) -> (CallsiteFacts, TrackedIds) {
        let (layer, meta_key) = (self.id(), meta as *const _ as usize);
        let i = slot(layer, meta_key);
        let static_name = (function.as_ptr() as usize, function.len());
        let cached = CALLSITES
            .try_with(|c| match &mut c.borrow_mut()[i] {
                Some(e) if e.layer == layer && e.meta == meta_key => match &e.tracked {
                    Some((_, ids)) if e.static_name == static_name => Some((e.facts, *ids)),
                    Some((name, ids)) if **name == *function => {
                        let found = (e.facts, *ids);
                        e.static_name = static_name;
                        Some(found)
                    }
                    _ => None,
                },
                _ => None,
            })
            .ok()
            .flatten();
        cached.unwrap_or_else(|| (self.facts(meta), self.tracked_ids(meta, function)))
    }

    fn tracked_ids(&self, meta: &'static Metadata<'static>, function: &str) -> TrackedIds {
        let (layer, meta_key) = (self.id(), meta as *const _ as usize);
        let i = slot(layer, meta_key);
        let ids_for = |e: &CallsiteEntry| {
            e.tracked
                .as_ref()
                .filter(|(name, _)| &**name == function)
                .map(|(_, ids)| *ids)
        };
        let cached = CALLSITES
            .try_with(|c| {
                if let Some(e) = &c.borrow()[i] {
                    if e.layer == layer && e.meta == meta_key {
                        if let Some(ids) = ids_for(e) {
                            return Some(ids);
                        }
                    }
                }
                // Evicted from the slot (or never in it): refill from the memo.
                let entry = remembered(layer, meta_key)?;
                let ids = ids_for(&entry);
                if ids.is_some() {
                    c.borrow_mut()[i] = Some(entry);
                }
                ids
            })
            .ok()
            .flatten();
        if let Some(ids) = cached {
            return ids;
        }
        let metric = |suffix: &str, unit: Unit, kind: Kind| {
            self.aggregator.metric(&MetricDef {
                name: format!("{function}.{suffix}").into(),
                unit,
                resolution: 60,
                kind,
            })
        };
        let ids = TrackedIds {
            success: metric("success", Unit::Count, Kind::Counter),
            error: metric("error", Unit::Count, Kind::Counter),
            latency: metric("latency", Unit::Milliseconds, Kind::Distribution),
            cancelled: metric("cancelled", Unit::Count, Kind::Counter),
        };
        let entry = CallsiteEntry {
            layer,
            meta: meta_key,
            facts: CallsiteFacts::of(meta),
            tracked: Some((function.into(), ids)),
            static_name: (0, 0),
        };
        remember(&entry);
        let _ = CALLSITES.try_with(|c| c.borrow_mut()[i] = Some(entry));
        ids
    }

    /// The context of the nearest ancestor that has one, or the root.
    fn parent_context<S>(&self, span: Option<SpanRef<'_, S>>) -> Arc<Context>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(span) = span {
            for s in span.scope() {
                if let Some(data) = s.extensions().get::<EmfSpan>() {
                    return data.context.clone();
                }
            }
        }
        self.root()
    }

    /// `parent` with the dimensions and properties of `collected`.
    fn child_context(
        &self,
        meta: &'static Metadata<'static>,
        parent: Arc<Context>,
        collected: &Collected,
    ) -> Arc<Context> {
        if collected.dims.is_empty() && collected.props.is_empty() {
            return parent;
        }
        let layer = self.id();
        let meta_key = meta as *const _ as usize;
        let hit = CONTEXTS
            .try_with(|cell| {
                let (entries, key) = &mut *cell.borrow_mut();
                key.clear();
                for (name, range) in collected.dims.iter().chain(&collected.props) {
                    key.push_str(name);
                    key.push('\0');
                    key.push_str(collected.str(*range));
                    key.push('\0');
                }
                entries
                    .iter()
                    .find(|e| {
                        e.layer == layer
                            && e.meta == meta_key
                            && e.parent == parent.id
                            && e.key == *key
                    })
                    .map(|e| e.context.clone())
            })
            .ok()
            .flatten();
        if let Some(context) = hit {
            return context;
        }
        let mut def = parent.def.clone();
        let redact = |value: &'_ str| -> String {
            match &self.redactor {
                Some(r) => r.redact(value).into_owned(),
                None => value.to_string(),
            }
        };
        for (name, range) in &collected.dims {
            def = def.with_dimension(name, &redact(collected.str(*range)));
        }
        for (name, range) in &collected.props {
            // Request and trace IDs are identifiers, not PII.
            def = def.with_property(name, collected.str(*range));
        }
        let Some(context) = self.aggregator.context(def) else {
            self.dropped.add(DropReason::TooManyCombinations, 1);
            return parent;
        };
        let _ = CONTEXTS.try_with(|cell| {
            let (entries, key) = &mut *cell.borrow_mut();
            if entries.len() >= CACHE_ENTRIES {
                entries.remove(0);
            }
            entries.push(ContextEntry {
                layer,
                meta: meta_key,
                parent: parent.id,
                key: key.clone(),
                context: context.clone(),
            });
        });
        context
    }

    /// Adds the metric fields of `collected` in `context`.
    fn add_metrics(self: &Arc<Self>, context: &Arc<Context>, collected: &Collected) {
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

    fn error_context(&self, base: &Arc<Context>, error_type: &str) -> Option<Arc<Context>> {
        if !self.error_type_dimension {
            return None;
        }
        let known = self
            .error_types
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(error_type);
        let error_type = if known {
            error_type
        } else {
            let mut seen = self.error_types.write().unwrap_or_else(|e| e.into_inner());
            if seen.len() < self.max_error_types {
                seen.insert(error_type.into());
                error_type
            } else {
                "other"
            }
        };
        match self.aggregator.error_context(base, error_type) {
            Some(c) => Some(c),
            None => {
                self.dropped.add(DropReason::TooManyCombinations, 1);
                None
            }
        }
    }

    /// Applies recorded tracked-call fields to a span's state.
    fn record_tracked(&self, state: &mut EmfSpan, collected: &Collected) {
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
    fn end_tracked(self: &Arc<Self>, context: &Arc<Context>, tracked: &Tracked) {
        self.ensure_flusher();
        let ids = tracked.ids;
        let error_context = tracked.error_context.as_ref().unwrap_or(context);
        let ((), full) = self.aggregator.with_shard(|shard| {
            match (tracked.outcome, tracked.latency) {
                (Outcome::Success, Some(latency)) => {
                    shard.add_call(context.id, ids.success, ids.latency, latency);
                    return;
                }
                (Outcome::Success, None) => shard.add(context.id, ids.success, Kind::Counter, 1.0),
                (Outcome::Error | Outcome::Panic, _) => {
                    shard.add(error_context.id, ids.error, Kind::Counter, 1.0);
                }
                (Outcome::Cancelled, _) => {
                    shard.add(context.id, ids.cancelled, Kind::Counter, 1.0);
                    return;
                }
                (Outcome::Unknown, _) => {}
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
    fn record_call<S>(self: &Arc<Self>, ended: &CallRecord<'_>, parent: Option<SpanRef<'_, S>>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = ended.meta;
        let (facts, ids) = self.facts_and_ids(meta, ended.function);
        if !facts.relevant {
            return;
        }
        let outcome = match ended.outcome {
            OutcomeKind::Success => Outcome::Success,
            OutcomeKind::Error => Outcome::Error,
            OutcomeKind::Panic => Outcome::Panic,
            OutcomeKind::Cancelled => Outcome::Cancelled,
        };
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
            outcome,
            latency: Some(ended.latency_ms),
            error_context,
        };
        self.end_tracked(context, &tracked);
    }

    fn count_cold_start<S>(&self, span: &SpanRef<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if !self.facts(span.metadata()).invocation {
            return;
        }
        let Some(invocation) = lambda::invocation(span, &self.cold_start) else {
            return;
        };
        if !invocation.cold_start {
            return;
        }
        let mut extensions = span.extensions_mut();
        if let Some(state) = extensions.get_mut::<EmfSpan>() {
            if state.cold_start_counted {
                return;
            }
            state.cold_start_counted = true;
        }
        drop(extensions);
        let (context, metric) = self.cold.get_or_init(|| {
            let mut def = self.root_def.clone();
            if let Some(name) = &self.function_name {
                def = def.with_dimension("function_name", name);
            }
            let metric = self.aggregator.metric(&MetricDef {
                name: "ColdStart".into(),
                unit: Unit::Count,
                resolution: 60,
                kind: Kind::Counter,
            });
            (self.aggregator.context_unbounded(def), metric)
        });
        let (context, metric) = (context.id, *metric);
        self.aggregator
            .with_shard(|shard| shard.add(context, metric, Kind::Counter, 1.0));
    }

    fn flush_local(&self) {
        let _flushing = self.flush_lock.lock().unwrap_or_else(|e| e.into_inner());
        let drained = self.aggregator.drain_local();
        self.emit(drained.cells);
    }

    fn flush_all(&self) {
        self.flush_all_then(|exporter| exporter.flush());
    }

    /// Drains every shard to the exporter, then runs `finish` on it (flush or shutdown).
    fn flush_all_then(&self, finish: impl FnOnce(&dyn Exporter)) {
        let warnings = {
            let _flushing = self.flush_lock.lock().unwrap_or_else(|e| e.into_inner());
            let retired = self.aggregator.retire_unused();
            let drained = self.aggregator.drain_all();
            self.emit(drained.cells);
            drop(retired);
            self.emit_dropped()
        };
        finish(self.exporting.exporter());
        for (reason, n) in warnings {
            tracing::warn!(
                target: "instrument::emf",
                reason = reason.as_str(),
                count = n,
                "metric data was dropped or repaired to keep every EMF document valid; \
                 see the instrument.dropped metric"
            );
        }
    }

    /// Reports what was dropped since the last flush as `instrument.dropped`; returns the
    /// reasons due a warning line.
    fn emit_dropped(&self) -> Vec<(DropReason, u64)> {
        self.exporting.exporter().take_dropped(&self.dropped);
        let pending = self.dropped.take_pending();
        if pending.is_empty() {
            return Vec::new();
        }
        let timestamp = now_ms();
        for (reason, n, _) in &pending {
            let mut dimensions: Vec<(&str, &str)> = self
                .root_def
                .dims
                .iter()
                .map(|(n, v)| (&**n, &**v))
                .collect();
            dimensions.push(("reason", reason.as_str()));
            let values = [*n as f64];
            let group = Group {
                dimensions,
                metrics: vec![Metric {
                    name: "instrument.dropped",
                    unit: Unit::Count,
                    resolution: 60,
                    values: &values,
                }],
                ..Group::default()
            };
            self.exporting.exporter().export(
                self.exporting.namespace(),
                &group,
                timestamp,
                &self.dropped,
            );
        }
        pending
            .into_iter()
            .filter(|(_, _, warn)| *warn)
            .map(|(r, n, _)| (r, n))
            .collect()
    }

    /// Encodes drained cells, one group per context.
    fn emit(&self, cells: Vec<((u32, u32), Cell)>) {
        if cells.is_empty() {
            return;
        }
        // Merge what several threads recorded for the same metric in the same context.
        let mut merged: BTreeMap<u32, BTreeMap<u32, Cell>> = BTreeMap::new();
        for ((context, metric), cell) in cells {
            match merged.entry(context).or_default().entry(metric) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(cell);
                }
                std::collections::btree_map::Entry::Occupied(mut slot) => {
                    match (slot.get_mut(), cell) {
                        (Cell::Sum(a), Cell::Sum(b)) => *a += b,
                        (Cell::Values(a), Cell::Values(b)) => a.extend(b),
                        // The value set last wins, whichever thread set it.
                        (Cell::Last(a, a_set), Cell::Last(b, b_set)) => {
                            if b_set > *a_set {
                                (*a, *a_set) = (b, b_set);
                            }
                        }
                        // One metric id has one kind, so cells always match.
                        (_, other) => {
                            slot.insert(other);
                        }
                    }
                }
            }
        }
        let by_context = merged;
        let timestamp = now_ms();
        for (context_id, cells) in by_context {
            let cells: Vec<(u32, Cell)> = cells.into_iter().collect();
            let Some(context) = self.aggregator.context_by_id(context_id) else {
                continue;
            };
            let mut metrics: Vec<(Arc<MetricDef>, Vec<f64>)> = Vec::with_capacity(cells.len());
            for (metric, cell) in cells {
                let Some(def) = self.aggregator.metric_def(metric) else {
                    continue;
                };
                let values = match cell {
                    // `Calls` are split when drained and never get here.
                    Cell::Sum(v) | Cell::Last(v, _) | Cell::Calls { count: v, .. } => vec![v],
                    Cell::Values(v) => v,
                };
                metrics.push((def, values));
            }
            metrics.sort_by(|a, b| a.0.name.cmp(&b.0.name));
            let group = Group {
                dimensions: context.def.dims.iter().map(|(n, v)| (&**n, &**v)).collect(),
                dimension_sets: context.def.sets.clone(),
                properties: context
                    .def
                    .props
                    .iter()
                    .map(|(n, v)| (&**n, &**v))
                    .collect(),
                metrics: metrics
                    .iter()
                    .map(|(def, values)| Metric {
                        name: &def.name,
                        unit: def.unit,
                        resolution: def.resolution,
                        values,
                    })
                    .collect(),
            };
            self.exporting.exporter().export(
                self.exporting.namespace(),
                &group,
                timestamp,
                &self.dropped,
            );
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

mod smallvec_like {
    /// Metric ids resolved for one event, on the stack for up to 8.
    pub(super) type Ids = smallvec::SmallVec<[(u32, super::Kind, f64); 8]>;
}

impl<S> Layer<S> for EmfLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let shared = &self.shared;
        let meta = attrs.metadata();
        let facts = shared.facts(meta);
        if !facts.relevant {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        if facts.only_tracked {
            // The hot path: a tracked call starting. Only its name matters here.
            let mut function = FunctionIds {
                shared,
                meta,
                ids: None,
            };
            attrs.record(&mut function);
            let ids = function
                .ids
                .unwrap_or_else(|| shared.tracked_ids(meta, meta.name()));
            let state = EmfSpan {
                context: shared.parent_context(span.parent()),
                tracked: Some(Tracked {
                    ids,
                    outcome: Outcome::Unknown,
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
            let tracked = if facts.tracked {
                let function = collected.function.map_or(meta.name(), |r| collected.str(r));
                Some(Tracked {
                    ids: shared.tracked_ids(meta, function),
                    outcome: Outcome::Unknown,
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
        let facts = shared.facts(span.metadata());
        if !facts.relevant {
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
        let facts = shared.facts(event.metadata());
        if !facts.relevant {
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
        let ends_invocation = shared.facts(span.metadata()).invocation
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

/// How the EMF layer treats a tracked call's span of this callsite when its opening is
/// deferred (see `instrument_core::tracked::DeferredCalls::class`): `None` when it must be opened
/// (it may start a Lambda invocation), else whether it carries dimensions or properties for
/// the spans below it. Not public API.
#[doc(hidden)]
pub fn deferral_class(meta: &'static Metadata<'static>) -> Option<bool> {
    let facts = CallsiteFacts::of(meta);
    if facts.invocation {
        return None;
    }
    Some(!facts.only_tracked)
}

/// The per-layer filter of [`EmfLayer`]: spans and events with metric, dimension, tracked-call
/// or invocation fields, at any level. Metrics never depend on the log level.
#[derive(Debug, Clone, Copy)]
pub struct MetricsFilter {
    on: bool,
}

impl Default for MetricsFilter {
    fn default() -> Self {
        MetricsFilter { on: true }
    }
}

impl MetricsFilter {
    /// A filter letting nothing through: metrics off, at no cost to any callsite (a callsite
    /// no layer wants stays disabled, unlike with an absent `Option` layer).
    pub fn off() -> Self {
        MetricsFilter { on: false }
    }
}

impl<S> Filter<S> for MetricsFilter {
    fn enabled(&self, meta: &Metadata<'_>, _cx: &LayerContext<'_, S>) -> bool {
        self.on && CallsiteFacts::relevant(meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.on && CallsiteFacts::of(meta).relevant {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        if self.on {
            None
        } else {
            Some(tracing_core::LevelFilter::OFF)
        }
    }
}

/// Records the tracked-call fields straight into the span's state, copying nothing.
struct TrackedVisitor<'a> {
    shared: &'a Shared,
    state: &'a mut EmfSpan,
}

impl tracing_core::field::Visit for TrackedVisitor<'_> {
    fn record_f64(&mut self, field: &tracing_core::Field, value: f64) {
        if field.name() == "latency_ms" {
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
            "outcome" => tracked.outcome = Outcome::parse(value),
            "error_type" if !value.is_empty() => {
                tracked.error_context = self.shared.error_context(&self.state.context, value);
            }
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &tracing_core::Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "outcome" | "error_type" | "latency_ms") {
            let text = format!("{value:?}");
            match field.name() {
                "latency_ms" => {
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
/// are cached per callsite and checked against the name).
struct FunctionIds<'a> {
    shared: &'a Shared,
    meta: &'static Metadata<'static>,
    ids: Option<TrackedIds>,
}

impl tracing_core::field::Visit for FunctionIds<'_> {
    fn record_str(&mut self, field: &tracing_core::Field, value: &str) {
        if field.name() == "function" && self.ids.is_none() {
            self.ids = Some(self.shared.tracked_ids(self.meta, value));
        }
    }

    fn record_debug(&mut self, _field: &tracing_core::Field, _value: &dyn std::fmt::Debug) {}
}
