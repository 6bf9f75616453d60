//! Which spans belong to a sampled trace, decided once per span when it starts.
//!
//! A span inside a traced span inherits its decision (parent-based). A span with no traced
//! ancestor starts a trace only if it is a tracked call, an HTTP request or a Lambda
//! invocation (a *trace root*): the remote parent's decision when the request or invocation
//! carries one (`Sampled=1`/`0`, W3C's `sampled` flag), else a draw at the configured rate.
//! Other spans without a traced ancestor (`lambda_runtime`'s own span, a plain
//! `info_span!` at the top) are not part of any trace and are never exported.
//!
//! The decision of a span is kept in its extensions as [`Traced`]. Tracked calls decide at
//! their start, before they know whether they will open a span: an unsampled call keeps the
//! deferred fast path, and the span it may open later (when something observes it) is told
//! the decision through [`preset`], as a sampled one opening its span at once is.

use std::cell::Cell;

use tracing_core::Metadata;

/// A span's trace decision, kept in its extensions: `Traced(true)` for a sampled span
/// (exported), `Traced(false)` for an unsampled one. A span without it is part of no trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Traced(pub(crate) bool);

/// The trace of an HTTP request or Lambda invocation decided *unsampled*: its caller's trace
/// ID, else one drawn for it (X-Ray's form). Kept in the extensions of the request's span, so
/// that calls to other services inside it carry the trace on with the sampled flag off
/// (`traceparent` flags `00`, `Sampled=0`) and the next service does not sample a trace this
/// one did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsampled(pub(crate) opentelemetry::trace::TraceId);

/// Draws root decisions at a rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RateSampler {
    /// A draw below this samples; `u64::MAX` with `always`.
    threshold: u64,
    always: bool,
}

impl RateSampler {
    /// Samples `rate` (0 to 1) of the draws.
    pub(crate) fn new(rate: f64) -> Self {
        let rate = rate.clamp(0.0, 1.0);
        RateSampler {
            // 2^64 · rate, exact enough: the draw is uniform over u64.
            threshold: (rate * 18_446_744_073_709_551_616.0) as u64,
            always: rate >= 1.0,
        }
    }

    /// One draw.
    #[inline]
    pub(crate) fn sample(&self) -> bool {
        self.always || next_random() < self.threshold
    }
}

thread_local! {
    /// xorshift64* state, seeded per thread from the process's random hasher keys.
    static RANDOM: Cell<u64> = Cell::new(seed());
    /// The decision a tracked call took at its start for the span it opens next (the
    /// callsite's metadata address, and the decision).
    static PRESET: Cell<Option<(usize, bool)>> = const { Cell::new(None) };
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x9e37_79b9_7f4a_7c15);
    hasher.finish() | 1
}

#[inline]
fn next_random() -> u64 {
    RANDOM.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

fn key(meta: &'static Metadata<'static>) -> usize {
    std::ptr::from_ref(meta) as usize
}

/// The next span of `meta` opened on this thread takes `sampled` as its decision (a tracked
/// call decided at its start).
#[inline]
pub(crate) fn preset(meta: &'static Metadata<'static>, sampled: bool) {
    PRESET.set(Some((key(meta), sampled)));
}

/// The decision preset for a new span of `meta`, if any; clears whatever was preset.
#[inline]
pub(crate) fn take_preset(meta: &'static Metadata<'static>) -> Option<bool> {
    match PRESET.take() {
        Some((k, sampled)) if k == key(meta) => Some(sampled),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_at_the_edges_and_between() {
        assert!((0..1000).all(|_| RateSampler::new(1.0).sample()));
        assert!((0..1000).all(|_| !RateSampler::new(0.0).sample()));
        let sampler = RateSampler::new(0.25);
        let n = 100_000;
        let hits = (0..n).filter(|_| sampler.sample()).count() as f64;
        // Binomial(100000, 0.25): sd ≈ 137; 6 sd either way.
        assert!((hits - 25_000.0).abs() < 6.0 * 137.0, "{hits}");
    }
}
