//! The seam between deferred calls and the subscriber that hosts them.
//!
//! A synchronous tracked call may defer its span only under a subscriber that nothing can wrap
//! (a layer on top would miss the spans that never open): instrument's pipeline, installed by
//! `init()`. The pipeline implements [`DeferredCalls`] and answers
//! `dispatch.downcast_ref::<`[`Host`]`>()`; a call asks once when it starts and once when it
//! ends, and calls the trait directly.
#![allow(clippy::module_name_repetitions)]

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing::field::ValueSet;
use tracing::span::{Attributes, Id};
use tracing::{Dispatch, Metadata};

use super::capture::Fields;
use super::outcome::Outcome;

/// What a subscriber hosting deferred calls does for them. Not public API.
#[doc(hidden)]
pub trait DeferredCalls: Send + Sync {
    /// Opens, in order, every pending span of this thread deferred under this host (see
    /// `open_pending`).
    fn open_pending(&self);

    /// Opens a span of `meta` with `values` and enters it: the span of a call that ended
    /// pending and must now log a completion line inside its span. Returns the span's id and
    /// the dispatcher it lives in, `None` when the subscriber does not want the span.
    fn open(
        &self,
        meta: &'static Metadata<'static>,
        values: &ValueSet<'_>,
    ) -> Option<(Id, Option<Dispatch>)>;

    /// Records the metrics of a call whose span never opened.
    fn record(&self, call: &CallRecord<'_>);

    /// Whether a tracked call of `meta` starting now on this thread belongs to a sampled trace
    /// (asked only of a host that [traces](Host::traces)). A sampled call opens its span at
    /// once instead of deferring it; the host keeps the decision for that span, and gives an
    /// unsampled call's span, if it is opened later, the decision taken here.
    fn start_sampled(&self, meta: &'static Metadata<'static>) -> bool {
        let _ = meta;
        false
    }
}

/// A subscriber's [`DeferredCalls`], found with `dispatch.downcast_ref::<Host>()`. Not public
/// API.
#[doc(hidden)]
pub struct Host {
    id: u64,
    wants_tracked: bool,
    traces: bool,
    calls: Arc<dyn DeferredCalls>,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("id", &self.id)
            .field("wants_tracked", &self.wants_tracked)
            .finish_non_exhaustive()
    }
}

impl Host {
    /// A fresh id, unique for the life of the process, for [`new`](Host::new).
    #[must_use]
    pub fn fresh_id() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    /// The host `id` (from [`fresh_id`](Host::fresh_id)) for `calls`; `wants_tracked`: the
    /// subscriber wants every tracked span (metrics are on), so a deferred call need not ask
    /// `enabled`.
    pub fn new(id: u64, calls: Arc<dyn DeferredCalls>, wants_tracked: bool) -> Self {
        Host {
            id,
            wants_tracked,
            traces: false,
            calls,
        }
    }

    /// The host samples traces: a tracked call asks
    /// [`start_sampled`](DeferredCalls::start_sampled) before it defers.
    #[must_use]
    pub fn with_traces(mut self, on: bool) -> Self {
        self.traces = on;
        self
    }

    /// Whether the host samples traces.
    #[inline]
    #[must_use]
    pub fn traces(&self) -> bool {
        self.traces
    }

    /// Unique for the life of the process: which pipeline deferred a call (an address could be
    /// reused by a later pipeline).
    #[inline]
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether the subscriber wants every tracked span.
    #[inline]
    #[must_use]
    pub fn wants_tracked(&self) -> bool {
        self.wants_tracked
    }

    /// The host's side of the seam.
    #[inline]
    #[must_use]
    pub fn calls(&self) -> &dyn DeferredCalls {
        &*self.calls
    }
}

/// A tracked call that ended without its span ever being opened: what the metrics layer
/// records for it. Not public API.
#[doc(hidden)]
pub struct CallRecord<'a> {
    /// The span's callsite.
    pub meta: &'static Metadata<'static>,
    /// The callsite's schema (its facts and its [`index`](crate::callsite::Schema::index) for
    /// per-callsite handles).
    pub schema: &'static crate::callsite::Schema,
    /// The `function` value.
    pub function: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// The error's short type name (`"panic"` for a panic).
    pub error_type: Option<&'static str>,
    /// Milliseconds.
    pub latency_ms: f64,
    pub(super) fields: &'a dyn Fields,
}

impl fmt::Debug for CallRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallRecord")
            .field("function", &self.function)
            .field("outcome", &self.outcome)
            .field("latency_ms", &self.latency_ms)
            .field("error_type", &self.error_type)
            .finish_non_exhaustive()
    }
}

impl CallRecord<'_> {
    /// Calls `f` with the span's values as it would have been opened with (`outcome`,
    /// `latency_ms` and `error_type` empty).
    pub fn with_values(&self, f: &mut dyn FnMut(&ValueSet<'_>)) {
        self.fields.with_values(self.function, f);
    }
}

/// Opens a span of `meta` with `values` in `subscriber` (through `enabled`, as `span!` does) and
/// enters it: what a host's [`DeferredCalls::open`] does. Not public API.
#[doc(hidden)]
pub fn open_in<S: tracing::Subscriber + ?Sized>(
    subscriber: &S,
    meta: &'static Metadata<'static>,
    values: &ValueSet<'_>,
) -> Option<Id> {
    if !subscriber.enabled(meta) {
        return None;
    }
    let id = subscriber.new_span(&Attributes::new(meta, values));
    subscriber.enter(&id);
    Some(id)
}
