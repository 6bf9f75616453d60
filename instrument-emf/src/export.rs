//! Where a flush's aggregates go: the extension point between the aggregator and a destination.
//!
//! A flush hands every aggregated group (dimensions, metric names, units, resolutions and the
//! window's values), checked once against CloudWatch's rules ([`CheckedGroup`]), to an
//! [`Exporter`]. [`EmfExporter`] encodes them as EMF documents for a
//! [`Sink`] (stdout, the CloudWatch agent, …); the `cloudwatch-api` feature's
//! `CloudwatchExporter` turns them into PutMetricData requests. Neither parses the other's output.

use std::sync::Arc;

use crate::checked::CheckedGroup;
use crate::dropped::{DropReason, Dropped};
use crate::encoder::Encoder;
use crate::sink::Sink;

/// Receives a flush's aggregated groups.
///
/// Implementations must not panic and must not block for long in [`export`](Self::export)
/// (it runs on the flushing thread); failures are counted and handed back through
/// [`take_dropped`](Self::take_dropped), which the layer reports as `instrument.dropped`.
///
/// ```
/// use std::sync::Mutex;
/// use instrument_emf::{CheckedGroup, Dropped, EmfLayer, Exporter};
///
/// /// Counts metric values per flush.
/// #[derive(Default)]
/// struct CountValues(Mutex<usize>);
///
/// impl Exporter for CountValues {
///     fn export(&self, _namespace: &str, group: &CheckedGroup<'_>, _timestamp_ms: u64, _dropped: &Dropped) {
///         *self.0.lock().unwrap() += group.metrics().iter().map(|m| m.values.len()).sum::<usize>();
///     }
/// }
///
/// let layer = EmfLayer::with_exporter(CountValues::default()).build_unfiltered();
/// # let _ = layer;
/// ```
pub trait Exporter: Send + Sync + 'static {
    /// Takes one group of aggregates, all recorded in `namespace` and stamped `timestamp_ms`
    /// (milliseconds since the Unix epoch), already within CloudWatch's rules; what the
    /// destination itself cannot take (e.g. a document over its size limit) is counted in
    /// `dropped`.
    fn export(
        &self,
        namespace: &str,
        group: &CheckedGroup<'_>,
        timestamp_ms: u64,
        dropped: &Dropped,
    );

    /// Called at the end of each flush: deliver what is buffered (a bounded wait at most).
    fn flush(&self) {}

    /// Called once when the layer shuts down: deliver what is left within a bounded wait, then
    /// stop. Defaults to [`flush`](Self::flush).
    fn shutdown(&self) {
        self.flush()
    }

    /// Adds to `dropped` what was lost or rejected since the last call.
    fn take_dropped(&self, dropped: &Dropped) {
        let _ = dropped;
    }
}

impl<T: Exporter + ?Sized> Exporter for Arc<T> {
    fn export(
        &self,
        namespace: &str,
        group: &CheckedGroup<'_>,
        timestamp_ms: u64,
        dropped: &Dropped,
    ) {
        (**self).export(namespace, group, timestamp_ms, dropped)
    }
    fn flush(&self) {
        (**self).flush()
    }
    fn shutdown(&self) {
        (**self).shutdown()
    }
    fn take_dropped(&self, dropped: &Dropped) {
        (**self).take_dropped(dropped)
    }
}

/// The EMF exporter: encodes groups into valid EMF documents and writes them to a [`Sink`].
/// What [`EmfLayer::builder`](crate::EmfLayer::builder) uses.
///
/// ```
/// use instrument_emf::{CheckedGroup, Dropped, EmfExporter, Exporter, Group, MemorySink, Metric, Unit};
/// let sink = MemorySink::default();
/// let exporter = EmfExporter::new("Shop", sink.clone());
/// let group = Group {
///     metrics: vec![Metric { name: "orders", unit: Unit::Count, resolution: 60, values: &[3.0] }],
///     ..Group::default()
/// };
/// let dropped = Dropped::default();
/// exporter.export("Shop", &CheckedGroup::new(&group, &dropped), 1_795_000_000_000, &dropped);
/// let doc: serde_json::Value = serde_json::from_slice(&sink.documents()[0]).unwrap();
/// assert_eq!(doc["orders"], 3.0);
/// ```
#[derive(Debug)]
pub struct EmfExporter<S> {
    encoder: Encoder,
    sink: S,
}

impl<S: Sink> EmfExporter<S> {
    /// Encodes for `namespace` (see [`Encoder::new`]) within the sink's document size limit.
    pub fn new(namespace: &str, sink: S) -> Self {
        Self::with_encoder(Encoder::new(namespace), sink)
    }

    /// The namespace its documents are in.
    pub(crate) fn namespace(&self) -> &str {
        self.encoder.namespace()
    }

    /// An exporter around an encoder already made (its size limit lowered to the sink's).
    pub(crate) fn with_encoder(encoder: Encoder, sink: S) -> Self {
        let encoder = encoder.with_max_bytes(sink.max_document_bytes());
        EmfExporter { encoder, sink }
    }
}

impl<S: Sink> Exporter for EmfExporter<S> {
    fn export(
        &self,
        _namespace: &str,
        group: &CheckedGroup<'_>,
        timestamp_ms: u64,
        dropped: &Dropped,
    ) {
        self.encoder
            .encode_checked(group, timestamp_ms, dropped, &mut |doc| {
                self.sink.write(doc)
            });
    }

    fn flush(&self) {
        self.sink.flush()
    }

    fn shutdown(&self) {
        self.sink.shutdown()
    }

    fn take_dropped(&self, dropped: &Dropped) {
        let lost = self.sink.take_lost();
        if lost > 0 {
            dropped.add(DropReason::SinkFailure, lost);
        }
    }
}
