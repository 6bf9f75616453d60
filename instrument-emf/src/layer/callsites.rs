//! What the EMF layer knows of each callsite, decided once per (layer, callsite) and cached
//! per thread; the per-layer filter built on it.

use instrument_vocab::metric::tracked;
use std::cell::RefCell;
use std::collections::HashMap;

use tracing_core::subscriber::Interest;
use tracing_core::Metadata;
use tracing_subscriber::layer::{Context as LayerContext, Filter};

use super::state::EmfState;
use super::tracked::TrackedIds;
use crate::aggregator::{Kind, MetricDef};
use crate::unit::Unit;
use instrument_core::callsite::{self, Schema};

#[derive(Clone)]
pub(super) struct CallsiteEntry {
    pub(super) layer: usize,
    pub(super) meta: usize,
    pub(super) facts: &'static Schema,
    /// The function name the ids were made for (a tracked span's `function` value), shared with
    /// the memo so that refilling a slot never allocates.
    pub(super) tracked: Option<(std::rc::Rc<str>, TrackedIds)>,
    /// Address and length of a `&'static str` known to equal the `tracked` name (a deferred
    /// call's `function`): then a pointer comparison stands for the string comparison.
    pub(super) static_name: (usize, usize),
}

pub(super) const CACHE_ENTRIES: usize = 64;
/// The most entries of `CALLSITE_MEMO` (many layers built and dropped, as in tests): then it
/// starts over.
pub(super) const MEMO_ENTRIES: usize = 4096;

thread_local! {
    /// Direct-mapped by (layer, callsite): one probe per lookup.
    static CALLSITES: RefCell<[Option<CallsiteEntry>; CACHE_ENTRIES]> =
        const { RefCell::new([const { None }; CACHE_ENTRIES]) };
    /// Every (layer, callsite) entry this thread has made, never evicted (bounded by
    /// [`MEMO_ENTRIES`]): two callsites sharing a slot of `CALLSITES` evict each other on every
    /// call, and refilling from here costs a lookup, where recomputing would cost a metric-id
    /// interning and an allocation per call.
    static CALLSITE_MEMO: RefCell<HashMap<(usize, usize), CallsiteEntry>> =
        RefCell::new(HashMap::new());
}

/// This thread's memo of the entry for (layer, callsite), if any.
pub(super) fn remembered(layer: usize, meta: usize) -> Option<CallsiteEntry> {
    CALLSITE_MEMO
        .try_with(|m| m.borrow().get(&(layer, meta)).cloned())
        .ok()
        .flatten()
}

/// Keeps `entry` in this thread's memo.
pub(super) fn remember(entry: &CallsiteEntry) {
    let _ = CALLSITE_MEMO.try_with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MEMO_ENTRIES {
            m.clear();
        }
        m.insert((entry.layer, entry.meta), entry.clone());
    });
}

pub(super) fn slot(layer: usize, meta: usize) -> usize {
    ((layer ^ meta.rotate_left(17)) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) as usize
        >> (usize::BITS - CACHE_ENTRIES.trailing_zeros())
}

impl EmfState {
    #[inline]
    pub(super) fn facts(&self, meta: &'static Metadata<'static>) -> &'static Schema {
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
                                facts: callsite::schema(meta),
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
            .unwrap_or_else(|_| callsite::schema(meta))
    }

    /// [`facts`](EmfState::facts) and [`tracked_ids`](EmfState::tracked_ids) in one cache probe
    /// when both are cached (the steady state of a deferred tracked call).
    #[inline]
    pub(super) fn facts_and_ids(
        &self,
        meta: &'static Metadata<'static>,
        function: &'static str,
    ) -> (&'static Schema, TrackedIds) {
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

    pub(super) fn tracked_ids(
        &self,
        meta: &'static Metadata<'static>,
        function: &str,
    ) -> TrackedIds {
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
                name: tracked::name(function, suffix).into(),
                unit,
                resolution: 60,
                kind,
            })
        };
        let ids = TrackedIds {
            success: metric(tracked::SUCCESS, Unit::Count, Kind::Counter),
            error: metric(tracked::ERROR, Unit::Count, Kind::Counter),
            latency: metric(tracked::LATENCY, Unit::Milliseconds, Kind::Distribution),
            cancelled: metric(tracked::CANCELLED, Unit::Count, Kind::Counter),
        };
        let entry = CallsiteEntry {
            layer,
            meta: meta_key,
            facts: callsite::schema(meta),
            tracked: Some((function.into(), ids)),
            static_name: (0, 0),
        };
        remember(&entry);
        let _ = CALLSITES.try_with(|c| c.borrow_mut()[i] = Some(entry));
        ids
    }
}

/// The per-layer filter of [`EmfLayer`](super::EmfLayer): spans and events with metric, dimension, tracked-call
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
        self.on && callsite::schema(meta).metrics
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.on && callsite::schema(meta).metrics {
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
