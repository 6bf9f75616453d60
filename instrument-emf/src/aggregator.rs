//! Aggregation: interned dimension contexts and metric definitions, per-thread shards of cells.
//!
//! The hot path (a tracked call ending) locks only its own thread's shard — uncontended except
//! while a flush drains it — and adds numbers to cells keyed by two small integers. Strings are
//! interned once: metric definitions per callsite, dimension contexts per span.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use instrument_core::hash::FxHasher;

use crate::unit::Unit;

/// How a metric's values combine within a flush window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// Summed.
    Counter,
    /// Every value kept.
    Distribution,
    /// Last value wins.
    Gauge,
}

/// A metric definition: name, unit, resolution, kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct MetricDef {
    pub(crate) name: Box<str>,
    pub(crate) unit: Unit,
    pub(crate) resolution: u32,
    pub(crate) kind: Kind,
}

/// Dimension values, dimension sets and properties shared by the metrics recorded in a span.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct ContextDef {
    pub(crate) dims: Vec<(Box<str>, Box<str>)>,
    /// Dimension sets as indices into `dims`; empty = one set of all of them.
    pub(crate) sets: Vec<Vec<usize>>,
    pub(crate) props: Vec<(Box<str>, Box<str>)>,
}

impl ContextDef {
    /// This context with `name = value` added (replacing a dimension of the same name).
    pub(crate) fn with_dimension(&self, name: &str, value: &str) -> ContextDef {
        let mut next = self.clone();
        next.sets.clear();
        match next.dims.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = value.into(),
            None => next.dims.push((name.into(), value.into())),
        }
        next
    }

    /// This context with property `name = value` (replacing one of the same name).
    pub(crate) fn with_property(&self, name: &str, value: &str) -> ContextDef {
        let mut next = self.clone();
        match next.props.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = value.into(),
            None => next.props.push((name.into(), value.into())),
        }
        next
    }
}

/// An interned context: its id (the cell key) and definition.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) id: u32,
    pub(crate) def: ContextDef,
}

#[derive(Default)]
struct Interner {
    metrics: HashMap<MetricDef, u32>,
    metric_defs: Vec<Arc<MetricDef>>,
    contexts: HashMap<ContextDef, Arc<Context>>,
    by_id: HashMap<u32, Arc<Context>>,
    next_context: u32,
    /// (base context, error type) → the error context's id.
    error_contexts: HashMap<(u32, Box<str>), u32>,
    /// Contexts retired by the last full flush: still resolvable for one more flush, for cells
    /// added while they were being retired.
    graveyard: HashMap<u32, Arc<Context>>,
}

/// Values of one metric in one context within the current window.
#[derive(Debug)]
pub(crate) enum Cell {
    Sum(f64),
    Values(Vec<f64>),
    /// A gauge: its latest value, and when it was set ([`gauge_sequence`]), so that merging the
    /// shards of several threads keeps the value set last, not the last shard's.
    Last(f64, u64),
    /// Successful tracked calls, keyed by their count metric: the count and the latencies (of
    /// metric `latency`) in one cell, so that a call costs one lookup. Drained as a `Sum` and a
    /// `Values`.
    Calls {
        count: f64,
        latency: u32,
        values: Vec<f64>,
    },
}

/// Splits [`Cell::Calls`] into the two cells they stand for.
fn split_calls(cells: impl IntoIterator<Item = ((u32, u32), Cell)>) -> Vec<((u32, u32), Cell)> {
    let mut out = Vec::new();
    for ((context, metric), cell) in cells {
        match cell {
            Cell::Calls {
                count,
                latency,
                values,
            } => {
                out.push(((context, metric), Cell::Sum(count)));
                out.push(((context, latency), Cell::Values(values)));
            }
            cell => out.push(((context, metric), cell)),
        }
    }
    out
}

/// A process-wide order of gauge updates (one relaxed increment per update: gauges are set far
/// less often than counters are counted).
pub(crate) fn gauge_sequence() -> u64 {
    static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub(crate) type CellMap = HashMap<(u32, u32), Cell, std::hash::BuildHasherDefault<FxHasher>>;

#[derive(Default)]
pub(crate) struct Shard {
    pub(crate) cells: CellMap,
    pub(crate) values: usize,
}

impl Shard {
    #[inline]
    pub(crate) fn add(&mut self, context: u32, metric: u32, kind: Kind, value: f64) {
        self.values += 1;
        let cell = self
            .cells
            .entry((context, metric))
            .or_insert_with(|| match kind {
                Kind::Counter => Cell::Sum(0.0),
                Kind::Distribution => Cell::Values(Vec::new()),
                Kind::Gauge => Cell::Last(0.0, 0),
            });
        match cell {
            Cell::Sum(sum) | Cell::Calls { count: sum, .. } => *sum += value,
            Cell::Values(values) => values.push(value),
            Cell::Last(last, set) => (*last, *set) = (value, gauge_sequence()),
        }
    }

    /// One successful tracked call: 1 to metric `count` and `value` to metric `latency`.
    #[inline]
    pub(crate) fn add_call(&mut self, context: u32, count: u32, latency: u32, value: f64) {
        let cell = self
            .cells
            .entry((context, count))
            .or_insert_with(|| Cell::Calls {
                count: 0.0,
                latency,
                values: Vec::new(),
            });
        match cell {
            Cell::Calls {
                count,
                latency: l,
                values,
            } if *l == latency => {
                self.values += 2;
                *count += 1.0;
                values.push(value);
            }
            _ => {
                // The count metric is also used by hand (`counter.<name>.success`).
                self.add(context, count, Kind::Counter, 1.0);
                self.add(context, latency, Kind::Distribution, value);
            }
        }
    }
}

/// What a flush drains: cells by context, with the definitions needed to encode them.
pub(crate) struct Drained {
    pub(crate) cells: Vec<((u32, u32), Cell)>,
}

/// Interner plus the registry of every thread's shard.
pub(crate) struct Aggregator {
    id: u64,
    interner: RwLock<Interner>,
    shards: Mutex<Vec<Arc<Mutex<Shard>>>>,
    max_contexts: usize,
    pub(crate) shard_value_limit: usize,
    rollups: Rollups,
    /// Runtime counters' cells by (context, metric), with their context kept alive: drained
    /// with the shards.
    counters: Mutex<HashMap<(u32, u32), CounterCell>>,
    /// Contexts runtime histogram and gauge handles use, kept alive while the layer lives.
    kept: Mutex<Vec<Arc<Context>>>,
    /// Dimensionless runtime counters' cells by name: the per-use lookup, without allocating.
    named_counters: RwLock<HashMap<Box<str>, Arc<AtomicU64>>>,
}

/// A runtime counter's cell, with the context it counts in (kept alive by it).
type CounterCell = (Arc<Context>, Arc<AtomicU64>);

/// The dimension sets every metric is also published under: each rollup set is the default
/// dimensions plus those of its dimensions the metric has. With the rollup `[]`, a metric with
/// dimensions `[service, route, method]` is published under `[service, route, method]` and
/// `[service]`, from one aggregation, its values written once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rollups {
    /// The names of the default dimensions (those of every metric).
    pub(crate) defaults: Vec<Box<str>>,
    /// The rollup sets, by dimension name (beyond the defaults).
    pub(crate) sets: Vec<Vec<Box<str>>>,
}

impl Rollups {
    /// Adds the rollup sets of `def`'s dimensions to its sets (its own, or the one set of all
    /// of them).
    fn apply(&self, def: &mut ContextDef) {
        if self.sets.is_empty() {
            return;
        }
        let n = def.dims.len();
        let mut sets = if def.sets.is_empty() {
            vec![(0..n).collect::<Vec<usize>>()]
        } else {
            std::mem::take(&mut def.sets)
        };
        for rollup in &self.sets {
            let set: Vec<usize> = (0..n)
                .filter(|&i| {
                    let name = &def.dims[i].0;
                    self.defaults.contains(name) || rollup.contains(name)
                })
                .collect();
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
        if sets.len() > 1 {
            def.sets = sets;
        }
    }
}

/// This thread's shard of each live aggregator (usually one), by aggregator id.
type LocalShards = Vec<(u64, Arc<Mutex<Shard>>)>;

thread_local! {
    static LOCAL: std::cell::RefCell<LocalShards> = const { std::cell::RefCell::new(Vec::new()) };
}

static NEXT_AGGREGATOR: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Aggregator {
    pub(crate) fn new(max_contexts: usize, shard_value_limit: usize) -> Self {
        Aggregator {
            id: NEXT_AGGREGATOR.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            interner: RwLock::default(),
            shards: Mutex::default(),
            max_contexts,
            shard_value_limit,
            rollups: Rollups::default(),
            counters: Mutex::default(),
            kept: Mutex::default(),
            named_counters: RwLock::default(),
        }
    }

    /// The cell of the dimensionless runtime counter `name`, if it has been made.
    pub(crate) fn named_counter(&self, name: &str) -> Option<Arc<AtomicU64>> {
        let named = self
            .named_counters
            .read()
            .unwrap_or_else(|e| e.into_inner());
        named.get(name).cloned()
    }

    /// Remembers `cell` as the dimensionless runtime counter `name`.
    pub(crate) fn name_counter(&self, name: &str, cell: &Arc<AtomicU64>) {
        let mut named = self
            .named_counters
            .write()
            .unwrap_or_else(|e| e.into_inner());
        named.entry(name.into()).or_insert_with(|| cell.clone());
    }

    /// The atomic cell of a runtime counter of `metric` in `context` (one per pair, shared by
    /// every handle), drained at each flush.
    pub(crate) fn counter_cell(&self, context: &Arc<Context>, metric: u32) -> Arc<AtomicU64> {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters
            .entry((context.id, metric))
            .or_insert_with(|| (context.clone(), Arc::new(AtomicU64::new(0))))
            .1
            .clone()
    }

    /// Keeps `context` alive (a runtime handle refers to it by id).
    pub(crate) fn keep(&self, context: &Arc<Context>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if !kept.iter().any(|c| c.id == context.id) {
            kept.push(context.clone());
        }
    }

    /// The runtime counters' sums since the last drain, as cells.
    fn drain_counters(&self, cells: &mut Vec<((u32, u32), Cell)>) {
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        for (&key, (_, cell)) in counters.iter() {
            let n = cell.swap(0, std::sync::atomic::Ordering::Relaxed);
            if n > 0 {
                #[allow(clippy::cast_precision_loss)]
                cells.push((key, Cell::Sum(n as f64)));
            }
        }
    }

    /// Publishes every (bounded) context under `rollups` too.
    pub(crate) fn with_rollups(mut self, rollups: Rollups) -> Self {
        self.rollups = rollups;
        self
    }

    /// Unique among the aggregators of this process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Interner> {
        self.interner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Interner> {
        self.interner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The id of a metric definition.
    pub(crate) fn metric(&self, def: &MetricDef) -> u32 {
        if let Some(id) = self.read().metrics.get(def) {
            return *id;
        }
        let mut interner = self.write();
        if let Some(id) = interner.metrics.get(def) {
            return *id;
        }
        let id = interner.metric_defs.len() as u32;
        interner.metric_defs.push(Arc::new(def.clone()));
        interner.metrics.insert(def.clone(), id);
        id
    }

    pub(crate) fn metric_def(&self, id: u32) -> Option<Arc<MetricDef>> {
        self.read().metric_defs.get(id as usize).cloned()
    }

    /// The interned context for `def`, or `None` past the bound on distinct contexts.
    pub(crate) fn context(&self, mut def: ContextDef) -> Option<Arc<Context>> {
        self.rollups.apply(&mut def);
        self.intern(def, false)
    }

    /// Like [`context`](Self::context), within bounds or not (for the layer's own contexts).
    pub(crate) fn context_unbounded(&self, def: ContextDef) -> Arc<Context> {
        match self.intern(def.clone(), true) {
            Some(c) => c,
            None => Arc::new(Context { id: u32::MAX, def }),
        }
    }

    fn intern(&self, def: ContextDef, unbounded: bool) -> Option<Arc<Context>> {
        if let Some(c) = self.read().contexts.get(&def) {
            return Some(c.clone());
        }
        let mut interner = self.write();
        if let Some(c) = interner.contexts.get(&def) {
            return Some(c.clone());
        }
        if !unbounded && interner.contexts.len() >= self.max_contexts {
            return None;
        }
        let id = interner.next_context;
        interner.next_context = interner.next_context.wrapping_add(1);
        let context = Arc::new(Context {
            id,
            def: def.clone(),
        });
        interner.contexts.insert(def, context.clone());
        interner.by_id.insert(id, context.clone());
        Some(context)
    }

    /// The context of `base` plus an `error_type` dimension, published both with and without it.
    pub(crate) fn error_context(
        &self,
        base: &Arc<Context>,
        error_type: &str,
    ) -> Option<Arc<Context>> {
        {
            let interner = self.read();
            if let Some(id) = interner
                .error_contexts
                .get(&(base.id, Box::<str>::from(error_type)))
            {
                if let Some(c) = interner.by_id.get(id) {
                    return Some(c.clone());
                }
            }
        }
        let mut def = base.def.with_dimension("error_type", error_type);
        let n = def.dims.len();
        let without: Vec<usize> = (0..n)
            .filter(|&i| &*def.dims[i].0 != "error_type")
            .collect();
        def.sets = vec![(0..n).collect(), without];
        let context = self.context(def)?;
        self.write()
            .error_contexts
            .insert((base.id, error_type.into()), context.id);
        Some(context)
    }

    /// A context by id, live or retired by the last flush.
    pub(crate) fn context_by_id(&self, id: u32) -> Option<Arc<Context>> {
        let interner = self.read();
        interner
            .by_id
            .get(&id)
            .or_else(|| interner.graveyard.get(&id))
            .cloned()
    }

    /// Runs `f` on this thread's shard; returns whether the shard passed its value limit.
    #[inline]
    pub(crate) fn with_shard<R>(&self, f: impl FnOnce(&mut Shard) -> R) -> (R, bool) {
        let mut f = Some(f);
        // The hot path: this thread's shard exists; lock it in place (no `Arc` clone).
        let done = LOCAL
            .try_with(|local| {
                let local = local.try_borrow().ok()?;
                let (_, shard) = local.iter().find(|(id, _)| *id == self.id)?;
                let mut guard = shard.lock().unwrap_or_else(|e| e.into_inner());
                let result = (f.take()?)(&mut guard);
                Some((result, guard.values >= self.shard_value_limit))
            })
            .ok()
            .flatten();
        if let Some(done) = done {
            return done;
        }
        let f = f.expect("not called on the hot path");
        let shard = LOCAL
            .try_with(|local| {
                let mut local = local.try_borrow_mut().ok()?;
                if let Some((_, shard)) = local.iter().find(|(id, _)| *id == self.id) {
                    return Some(shard.clone());
                }
                // Forget shards of aggregators that are gone (only this list holds them).
                local.retain(|(_, shard)| Arc::strong_count(shard) > 1);
                let shard = Arc::new(Mutex::new(Shard::default()));
                self.shards
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(shard.clone());
                local.push((self.id, shard.clone()));
                Some(shard)
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                // Thread-local storage is being torn down (or busy): a registered one-off shard.
                let shard = Arc::new(Mutex::new(Shard::default()));
                self.shards
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(shard.clone());
                shard
            });
        let mut guard = shard.lock().unwrap_or_else(|e| e.into_inner());
        let result = f(&mut guard);
        let full = guard.values >= self.shard_value_limit;
        (result, full)
    }

    /// Takes everything recorded on this thread.
    pub(crate) fn drain_local(&self) -> Drained {
        // `drain` keeps the map's table for the next window.
        let (cells, _) = self.with_shard(|shard| {
            shard.values = 0;
            split_calls(shard.cells.drain())
        });
        Drained { cells }
    }

    /// Takes everything recorded on every thread, and forgets contexts nothing refers to any
    /// more (per-invocation contexts, once their invocation is flushed).
    pub(crate) fn drain_all(&self) -> Drained {
        let shards: Vec<Arc<Mutex<Shard>>> = {
            let mut shards = self.shards.lock().unwrap_or_else(|e| e.into_inner());
            // Threads that ended leave their shard here only: drain it one last time, then drop.
            let all = shards.clone();
            shards.retain(|s| Arc::strong_count(s) > 2);
            all
        };
        let mut cells = Vec::new();
        for shard in shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            shard.values = 0;
            cells.extend(split_calls(shard.cells.drain()));
        }
        self.drain_counters(&mut cells);
        Drained { cells }
    }

    /// Retires contexts no span refers to any more (per-invocation contexts once their
    /// invocation ended), so the interner stays bounded. Call before draining for a full flush;
    /// returns the contexts retired by the previous call, to drop once that flush is encoded.
    pub(crate) fn retire_unused(&self) -> HashMap<u32, Arc<Context>> {
        let mut interner = self.write();
        let old = std::mem::take(&mut interner.graveyard);
        // Held by `contexts` and `by_id` only: no span can add to it any more.
        let unused: Vec<u32> = interner
            .by_id
            .iter()
            .filter(|(_, c)| Arc::strong_count(c) <= 2)
            .map(|(id, _)| *id)
            .collect();
        for id in unused {
            if let Some(c) = interner.by_id.remove(&id) {
                interner.contexts.remove(&c.def);
                interner.graveyard.insert(id, c);
            }
        }
        let Interner {
            error_contexts,
            by_id,
            ..
        } = &mut *interner;
        error_contexts.retain(|(base, _), id| by_id.contains_key(base) && by_id.contains_key(id));
        old
    }
}
