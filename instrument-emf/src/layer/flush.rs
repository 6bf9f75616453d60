//! Draining the aggregator into the exporter: on demand, on an interval, at shutdown; and the
//! `instrument.dropped` self-metric.

use std::cell::Cell as FlagCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::state::{now_ms, EmfState};
use crate::aggregator::{Cell, MetricDef};
use crate::checked::CheckedGroup;
use crate::dropped::DropReason;
use crate::encoder::{Group, Metric};
use crate::export::Exporter;
use crate::unit::Unit;

pub(super) fn spawn_flusher(
    shared: std::sync::Weak<EmfState>,
    interval: Duration,
) -> IntervalFlush {
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

thread_local! {
    /// Whether this thread is inside a flush.
    static FLUSHING: FlagCell<bool> = const { FlagCell::new(false) };
}

/// Marks this thread as flushing until dropped; `None` when it is flushing already.
struct Reentry;

impl Reentry {
    fn enter() -> Option<Reentry> {
        if FLUSHING.with(FlagCell::get) {
            return None;
        }
        FLUSHING.with(|f| f.set(true));
        Some(Reentry)
    }
}

impl Drop for Reentry {
    fn drop(&mut self) {
        FLUSHING.with(|f| f.set(false));
    }
}

impl EmfState {
    /// Starts the interval flush when the first metric is recorded.
    #[inline]
    pub(super) fn ensure_flusher(self: &Arc<Self>) {
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

    pub(super) fn flush_local(&self) {
        let Some(_reentry) = Reentry::enter() else {
            return;
        };
        let _flushing = self.flush_lock.lock().unwrap_or_else(|e| e.into_inner());
        let drained = self.aggregator.drain_local();
        self.emit(drained.cells);
    }

    pub(super) fn flush_all(&self) {
        self.flush_all_then(|exporter| exporter.flush());
    }

    /// Drains every shard to the exporter, then runs `finish` on it (flush or shutdown).
    pub(super) fn flush_all_then(&self, finish: impl FnOnce(&dyn Exporter)) {
        // A flush started from inside a flush on this thread (a sink that panicked mid-flush,
        // and the panic hook flushing) would wait for its own lock forever.
        let Some(_flushing) = Reentry::enter() else {
            return;
        };
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

    /// The snapshot step: `group` is checked against CloudWatch's rules once, here, and the
    /// exporter receives what passed (repairs and drops counted in `instrument.dropped`).
    fn export(&self, group: &Group<'_>, timestamp_ms: u64) {
        let checked = CheckedGroup::new(group, &self.dropped);
        self.exporting.exporter().export(
            self.exporting.namespace(),
            &checked,
            timestamp_ms,
            &self.dropped,
        );
    }

    /// Reports what was dropped since the last flush as `instrument.dropped`; returns the
    /// reasons due a warning line.
    pub(super) fn emit_dropped(&self) -> Vec<(DropReason, u64)> {
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
            self.export(&group, timestamp);
        }
        pending
            .into_iter()
            .filter(|(_, _, warn)| *warn)
            .map(|(r, n, _)| (r, n))
            .collect()
    }

    /// Encodes drained cells, one group per context.
    pub(super) fn emit(&self, cells: Vec<((u32, u32), Cell)>) {
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
            self.export(&group, timestamp);
        }
    }
}
