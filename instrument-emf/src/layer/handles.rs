//! The EMF layer's handles per callsite: a tracked function's metric ids, resolved the first
//! time its callsite ends a call and then held in a [`PerCallsite`] table, found by the
//! callsite's index (as `metrics` handles are held), with no per-call lookup.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use instrument_core::callsite::{PerCallsite, Schema};
use instrument_vocab::metric::tracked;

use super::state::EmfState;
use super::tracked::TrackedIds;
use crate::aggregator::{Kind, MetricDef};
use crate::unit::Unit;

/// A tracked callsite's metric ids, for the `function` name they were made for.
struct TrackedHandle {
    function: Box<str>,
    ids: TrackedIds,
}

/// The ids of a callsite's other `function` names, by callsite index.
type Renamed = HashMap<u32, Vec<(Box<str>, TrackedIds)>>;

/// Every tracked callsite's handle in one layer.
#[derive(Default)]
pub(super) struct Handles {
    tracked: PerCallsite<TrackedHandle>,
    /// A callsite whose `function` changes from call to call (a trait's default method, named
    /// per implementing type; a hand-written span): the ids of its other names, by index.
    renamed: RwLock<Renamed>,
}

impl EmfState {
    /// The metric ids of a tracked call of `schema`'s callsite named `function`.
    #[inline]
    pub(super) fn tracked_ids(&self, schema: &Schema, function: &str) -> TrackedIds {
        let handle = self.handles.tracked.get_or_init(schema, || TrackedHandle {
            function: function.into(),
            ids: self.make_tracked_ids(function),
        });
        if *handle.function == *function {
            return handle.ids;
        }
        self.renamed_ids(schema, function)
    }

    #[cold]
    fn renamed_ids(&self, schema: &Schema, function: &str) -> TrackedIds {
        let find = |renamed: &Renamed| {
            renamed
                .get(&schema.index())?
                .iter()
                .find(|(name, _)| **name == *function)
                .map(|(_, ids)| *ids)
        };
        let renamed = &self.handles.renamed;
        if let Some(ids) = find(&renamed.read().unwrap_or_else(PoisonError::into_inner)) {
            return ids;
        }
        let mut renamed = renamed.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(ids) = find(&renamed) {
            return ids;
        }
        let ids = self.make_tracked_ids(function);
        renamed
            .entry(schema.index())
            .or_default()
            .push((function.into(), ids));
        ids
    }

    /// Interns the four metrics of the tracked function `function`.
    fn make_tracked_ids(&self, function: &str) -> TrackedIds {
        let metric = |suffix: &str, unit: Unit, kind: Kind| {
            self.aggregator.metric(&MetricDef {
                name: tracked::name(function, suffix).into(),
                unit,
                resolution: 60,
                kind,
            })
        };
        TrackedIds {
            success: metric(tracked::SUCCESS, Unit::Count, Kind::Counter),
            error: metric(tracked::ERROR, Unit::Count, Kind::Counter),
            latency: metric(tracked::LATENCY, Unit::Milliseconds, Kind::Distribution),
            cancelled: metric(tracked::CANCELLED, Unit::Count, Kind::Counter),
        }
    }
}
