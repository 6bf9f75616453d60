//! PutMetricData's request limits, and cutting the buffer into requests that respect them.

use std::collections::VecDeque;

use super::datum::Datum;

/// The most datums in one PutMetricData request.
pub const MAX_DATUMS_PER_REQUEST: usize = 1_000;

/// The largest request body we build, in bytes (uncompressed): CloudWatch's limit is 1 MB
/// per request; this stays under it with the request envelope included.
pub const MAX_REQUEST_BYTES: usize = 1_000_000;

/// Request envelope: the top-level map, `Namespace` and `MetricData` keys, array header.
fn envelope(namespace: &str) -> usize {
    1 + (1 + 9) + (3 + namespace.len()) + (1 + 10) + 5
}

/// The limits a batch is cut to (smaller in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) max_datums: usize,
    pub(crate) max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_datums: MAX_DATUMS_PER_REQUEST,
            max_bytes: MAX_REQUEST_BYTES,
        }
    }
}

/// One request's worth of datums, all in one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) datums: Vec<Datum>,
    /// Upper bound of the request body size.
    pub(crate) bytes: usize,
    /// Failed attempts so far (our requeues, not the SDK's own retries).
    pub(crate) attempts: u32,
}

impl Batch {
    pub(crate) fn namespace(&self) -> &str {
        self.datums.first().map_or("", |d| &d.namespace)
    }

    /// Splits a batch in two halves (to find the one datum CloudWatch rejects).
    pub(crate) fn split(mut self) -> (Batch, Batch) {
        let tail = self.datums.split_off(self.datums.len() / 2);
        (
            Batch::of(self.datums, self.attempts),
            Batch::of(tail, self.attempts),
        )
    }

    pub(crate) fn of(datums: Vec<Datum>, attempts: u32) -> Batch {
        let bytes = datums.first().map_or(0, |d| envelope(&d.namespace))
            + datums.iter().map(Datum::encoded_size).sum::<usize>();
        Batch {
            datums,
            bytes,
            attempts,
        }
    }
}

/// Takes the next batch from the front of `queue`: as many datums as fit the limits, all of
/// the first datum's namespace. A datum that alone exceeds the byte limit (not possible with
/// valid datums: 30 dimensions of 1024 characters and 150 values stay far below 1 MB) still
/// goes alone.
pub(crate) fn take(queue: &mut VecDeque<Datum>, limits: Limits) -> Option<Batch> {
    let first = queue.front()?;
    let namespace = first.namespace.clone();
    let mut bytes = envelope(&namespace);
    let mut n = 0;
    for datum in queue.iter() {
        if n == limits.max_datums || datum.namespace != namespace {
            break;
        }
        let size = datum.encoded_size();
        if n > 0 && bytes + size > limits.max_bytes {
            break;
        }
        bytes += size;
        n += 1;
    }
    let datums: Vec<Datum> = queue.drain(..n).collect();
    Some(Batch {
        datums,
        bytes,
        attempts: 0,
    })
}

/// Whether `queue` holds at least one full batch (by count or bytes).
pub(crate) fn has_full_batch(len: usize, bytes: usize, limits: Limits) -> bool {
    len >= limits.max_datums || bytes >= limits.max_bytes
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cloudwatch::datum::Values;
    use crate::unit::Unit;

    fn datum(namespace: &Arc<str>, name: String, dims: usize, values: usize) -> Datum {
        let dimensions: Vec<(Box<str>, Box<str>)> = (0..dims)
            .map(|i| (format!("dimension{i}").into(), "v".repeat(1024).into()))
            .collect();
        Datum {
            namespace: namespace.clone(),
            name: name.into(),
            unit: Unit::Milliseconds,
            resolution: 60,
            timestamp_ms: 0,
            dimensions: dimensions.into(),
            values: if values == 1 {
                Values::One(1.0)
            } else {
                Values::Many {
                    values: (0..values).map(|v| v as f64).collect(),
                    counts: vec![1.0; values],
                }
            },
        }
    }

    fn queue(n: usize, dims: usize, values: usize) -> VecDeque<Datum> {
        let ns: Arc<str> = Arc::from("Test");
        (0..n)
            .map(|i| datum(&ns, format!("m{i}"), dims, values))
            .collect()
    }

    fn sizes(mut q: VecDeque<Datum>) -> Vec<usize> {
        let mut out = Vec::new();
        while let Some(batch) = take(&mut q, Limits::default()) {
            assert!(batch.bytes <= MAX_REQUEST_BYTES || batch.datums.len() == 1);
            out.push(batch.datums.len());
        }
        out
    }

    #[test]
    fn datums_999_1000_1001() {
        assert_eq!(sizes(queue(999, 0, 1)), vec![999]);
        assert_eq!(sizes(queue(1_000, 0, 1)), vec![1_000]);
        assert_eq!(sizes(queue(1_001, 0, 1)), vec![1_000, 1]);
        assert!(!has_full_batch(999, 0, Limits::default()));
        assert!(has_full_batch(1_000, 0, Limits::default()));
    }

    #[test]
    fn the_byte_limit_cuts_batches_before_the_count_limit() {
        // Each datum: 5 dimensions of 1 KB and 150 values: about 8 KB, so ~120 per request.
        let q = queue(1_000, 5, 150);
        let one = q[0].encoded_size();
        assert!(one > 5 * 1024 + 150 * 18);
        let sizes = sizes(q);
        assert!(sizes.len() > 1);
        assert_eq!(sizes.iter().sum::<usize>(), 1_000);
        let per = MAX_REQUEST_BYTES / one;
        assert!(sizes[..sizes.len() - 1]
            .iter()
            .all(|n| *n <= per && *n + 1 >= per));
    }

    #[test]
    fn a_batch_holds_one_namespace() {
        let a: Arc<str> = Arc::from("A");
        let b: Arc<str> = Arc::from("B");
        let mut q: VecDeque<Datum> = [
            datum(&a, "x".into(), 0, 1),
            datum(&a, "y".into(), 0, 1),
            datum(&b, "z".into(), 0, 1),
        ]
        .into();
        let first = take(&mut q, Limits::default()).map(|b| b.datums.len());
        assert_eq!(first, Some(2));
        let second = take(&mut q, Limits::default()).map(|b| b.namespace().to_string());
        assert_eq!(second.as_deref(), Some("B"));
        assert!(take(&mut q, Limits::default()).is_none());
    }

    #[test]
    fn split_halves_keep_every_datum() {
        let q = queue(5, 0, 1);
        let batch = Batch::of(q.into_iter().collect(), 2);
        let (a, b) = batch.split();
        assert_eq!((a.datums.len(), b.datums.len()), (2, 3));
        assert_eq!((a.attempts, b.attempts), (2, 2));
    }
}
