//! What the EMF layer had to drop or repair, counted per reason.
//!
//! Nothing invalid reaches CloudWatch (which would drop the whole document silently), and nothing
//! is dropped silently either: every drop or repair is counted here, reported at the next flush as
//! the self-metric `instrument.dropped` (dimension `reason`), and announced by a rate-limited
//! `WARN` line (at most one per reason per minute).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a metric, value, dimension or document was dropped or repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// A NaN or infinite value (dropped).
    NonFiniteValue,
    /// A unit string that is not one of CloudWatch's 27 (repaired to `None`).
    InvalidUnit,
    /// A storage resolution other than 1 or 60 (repaired to 60).
    InvalidResolution,
    /// More than 30 dimensions in one set (the extra ones dropped).
    TooManyDimensions,
    /// A dimension value over 1024 characters (truncated).
    DimensionValueTooLong,
    /// An empty dimension value, or one of only whitespace (dimension dropped).
    EmptyDimensionValue,
    /// A dimension value with control or non-ASCII characters, which CloudWatch rejects
    /// (repaired: each such character replaced by `?`).
    InvalidDimensionValue,
    /// A dimension name that is empty, over 250 characters, not ASCII or starting with `:`
    /// (dimension dropped).
    InvalidDimensionName,
    /// A metric name that is empty, only whitespace, over 255 characters or with control
    /// characters such as a line break (metric dropped).
    InvalidMetricName,
    /// A metric, dimension or property named `_aws`, or a metric named like a dimension or
    /// property of the same document (the later one dropped).
    NameConflict,
    /// A document that cannot be brought under the size limit (dropped).
    DocumentTooLarge,
    /// More distinct dimension combinations than the configured bound (metric dropped).
    TooManyCombinations,
    /// The sink could not deliver a document or datum (queue full, connection lost, the
    /// destination kept failing past the retries, or shutdown's bounded wait ran out).
    SinkFailure,
    /// The destination rejected a datum as invalid (CloudWatch's `InvalidParameterValue`):
    /// that datum alone is dropped, the rest of its request is delivered.
    Rejected,
}

impl DropReason {
    /// All reasons, in a fixed order.
    pub const ALL: [DropReason; 14] = [
        DropReason::NonFiniteValue,
        DropReason::InvalidUnit,
        DropReason::InvalidResolution,
        DropReason::TooManyDimensions,
        DropReason::DimensionValueTooLong,
        DropReason::EmptyDimensionValue,
        DropReason::InvalidDimensionValue,
        DropReason::InvalidDimensionName,
        DropReason::InvalidMetricName,
        DropReason::NameConflict,
        DropReason::DocumentTooLarge,
        DropReason::TooManyCombinations,
        DropReason::SinkFailure,
        DropReason::Rejected,
    ];

    /// The value of the `reason` dimension.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::NonFiniteValue => "non_finite_value",
            DropReason::InvalidUnit => "invalid_unit",
            DropReason::InvalidResolution => "invalid_resolution",
            DropReason::TooManyDimensions => "too_many_dimensions",
            DropReason::DimensionValueTooLong => "dimension_value_too_long",
            DropReason::EmptyDimensionValue => "empty_dimension_value",
            DropReason::InvalidDimensionValue => "invalid_dimension_value",
            DropReason::InvalidDimensionName => "invalid_dimension_name",
            DropReason::InvalidMetricName => "invalid_metric_name",
            DropReason::NameConflict => "name_conflict",
            DropReason::DocumentTooLarge => "document_too_large",
            DropReason::TooManyCombinations => "too_many_combinations",
            DropReason::SinkFailure => "sink_failure",
            DropReason::Rejected => "rejected",
        }
    }
}

const WARN_EVERY: Duration = Duration::from_secs(60);

/// Counters per [`DropReason`], shared by the layer, the encoder and the sinks.
///
/// ```
/// use instrument_emf::{DropReason, Dropped};
/// let dropped = Dropped::default();
/// dropped.add(DropReason::NonFiniteValue, 2);
/// assert_eq!(dropped.total(DropReason::NonFiniteValue), 2);
/// ```
#[derive(Debug, Default)]
pub struct Dropped {
    /// Not yet reported in a self-metric.
    pending: [AtomicU64; DropReason::ALL.len()],
    /// Since start.
    total: [AtomicU64; DropReason::ALL.len()],
    last_warned: Mutex<[Option<Instant>; DropReason::ALL.len()]>,
}

impl Dropped {
    fn index(reason: DropReason) -> usize {
        DropReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or_default()
    }

    /// Counts `n` drops for `reason`.
    pub fn add(&self, reason: DropReason, n: u64) {
        let i = Self::index(reason);
        self.pending[i].fetch_add(n, Ordering::Relaxed);
        self.total[i].fetch_add(n, Ordering::Relaxed);
    }

    /// Drops for `reason` since start.
    pub fn total(&self, reason: DropReason) -> u64 {
        self.total[Self::index(reason)].load(Ordering::Relaxed)
    }

    /// Drops for all reasons since start.
    pub fn total_all(&self) -> u64 {
        self.total.iter().map(|t| t.load(Ordering::Relaxed)).sum()
    }

    /// Takes the counts not reported yet, and the reasons due a warning line now.
    pub(crate) fn take_pending(&self) -> Vec<(DropReason, u64, bool)> {
        let now = Instant::now();
        let mut last = self
            .last_warned
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = Vec::new();
        for (i, reason) in DropReason::ALL.iter().enumerate() {
            let n = self.pending[i].swap(0, Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            let warn = last[i].is_none_or(|t| now.duration_since(t) >= WARN_EVERY);
            if warn {
                last[i] = Some(now);
            }
            out.push((*reason, n, warn));
        }
        out
    }
}
