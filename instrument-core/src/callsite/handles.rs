//! [`PerCallsite`]: what one consumer (a layer, an exporter) resolved for each callsite, held
//! like a handle and found by the callsite's [`Schema::index`], with no lock, hash or
//! thread-local lookup.

use std::sync::OnceLock;

use super::Schema;

/// Slots in the first bucket; bucket `b` holds `FIRST << b`.
const FIRST: usize = 64;
/// Buckets: room for `FIRST * (2^BUCKETS - 1)` callsites, every `u32` index (only the buckets
/// in use are allocated).
const BUCKETS: usize = 27;

/// One value per callsite, made the first time it is asked for and kept for the life of the
/// table: a consumer's handles (e.g. the metrics layer's metric ids of a tracked function),
/// resolved once, as `metrics` handles are.
///
/// Indexed by [`Schema::index`], a dense process-wide number, so a lookup is two atomic loads;
/// memory grows with the callsites actually met (buckets double in size, allocated on first use).
///
/// ```
/// use instrument_core::callsite::{self, PerCallsite};
///
/// let table: PerCallsite<String> = PerCallsite::new();
/// tracing::subscriber::with_default(tracing_subscriber::registry(), || {
///     let span = tracing::info_span!("checkout");
///     let schema = callsite::schema(span.metadata().unwrap());
///     assert!(table.get(schema).is_none());
///     let made = table.get_or_init(schema, || "resolved once".to_string());
///     assert_eq!(made, "resolved once");
///     // The second time the value is found, not made.
///     assert_eq!(table.get_or_init(schema, || unreachable!()), "resolved once");
/// });
/// ```
pub struct PerCallsite<T> {
    buckets: [OnceLock<Box<[OnceLock<T>]>>; BUCKETS],
}

impl<T> PerCallsite<T> {
    /// An empty table (allocates nothing until the first value).
    #[must_use]
    pub const fn new() -> Self {
        PerCallsite {
            buckets: [const { OnceLock::new() }; BUCKETS],
        }
    }

    /// The value for `schema`'s callsite, if one was made.
    #[inline]
    pub fn get(&self, schema: &Schema) -> Option<&T> {
        let (bucket, slot) = locate(schema.index());
        self.buckets[bucket].get()?[slot].get()
    }

    /// The value for `schema`'s callsite, made by `make` the first time (by one thread: others
    /// asking at the same moment wait for it).
    #[inline]
    pub fn get_or_init(&self, schema: &Schema, make: impl FnOnce() -> T) -> &T {
        let (bucket, slot) = locate(schema.index());
        self.buckets[bucket].get_or_init(|| (0..FIRST << bucket).map(|_| OnceLock::new()).collect())
            [slot]
            .get_or_init(make)
    }
}

impl<T> Default for PerCallsite<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for PerCallsite<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let made = self
            .buckets
            .iter()
            .filter_map(OnceLock::get)
            .flat_map(|b| b.iter())
            .filter(|slot| slot.get().is_some())
            .count();
        f.debug_struct("PerCallsite")
            .field("values", &made)
            .finish()
    }
}

/// The bucket and slot of callsite `index`: bucket `b` holds indexes
/// `FIRST * (2^b - 1) .. FIRST * (2^(b+1) - 1)`.
#[inline]
fn locate(index: u32) -> (usize, usize) {
    let i = index as usize + FIRST;
    let bucket = (usize::BITS - 1 - i.leading_zeros() - FIRST.trailing_zeros()) as usize;
    (bucket, i - (FIRST << bucket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_has_its_own_slot_in_order() {
        let mut expected = (0, 0);
        for index in 0..(FIRST * 15) as u32 {
            assert_eq!(locate(index), expected, "index {index}");
            expected.1 += 1;
            if expected.1 == FIRST << expected.0 {
                expected = (expected.0 + 1, 0);
            }
        }
        // Every u32 index has a slot, the last one in the last bucket.
        let (bucket, slot) = locate(u32::MAX);
        assert_eq!(bucket, BUCKETS - 1);
        assert!(slot < FIRST << bucket);
    }
}
