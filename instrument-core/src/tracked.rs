//! Runtime of `#[track_performance]`: what a tracked call records, and the support code the
//! attribute expands to.
//!
//! Every call of a tracked function opens a span named after the function with these fields,
//! which the EMF layer turns into `<function>.success` / `<function>.error` counts and a
//! `<function>.latency` distribution, and the log layer flattens into every line logged inside
//! the call:
//!
//! | field | value |
//! |---|---|
//! | `function` | the metric base name: `reserve_ticket`, `Inventory::take`, or `name = "…"` |
//! | `outcome` | recorded when the call ends: `success`, `error`, `panic` or `cancelled` ([`Outcome`]) |
//! | `latency_ms` | recorded when the call ends: milliseconds (`f64`) from a monotonic clock |
//! | `error_type` | recorded on `error`: the short type name of `E` ([`short_type_name`]); `panic` on panic |
//! | `dimension.<k>` | one per `dimensions(k = "v")` option |
//! | arguments, `fields(…)` | as `#[tracing::instrument]` records them |
//!
//! `outcome` and `latency_ms` are recorded *before* the span closes, so a layer reading them in
//! `on_close` always sees them. A call is recorded exactly once, whichever way it ends: `return`,
//! `?`, a panic unwinding through it, or (for async calls) its future being dropped before it
//! completed.
//!
//! When the span is disabled (no layer wants it: metrics off and its level filtered out of the
//! logs), a tracked call reads no clock, allocates nothing and records nothing.
//!
//! # Deferred spans
//!
//! Under instrument's own pipeline (`Builder::build_dispatch`, what `init()` installs), a
//! synchronous call whose recorded arguments are all `Copy` `tracing` values (numbers, `bool`,
//! `&str`, …; see [`CopyProbe`]) and that has no `fields(...)` and
//! no `log = "all"` does not open its span at the start. It pushes a frame on a thread-local
//! stack (the span's callsite, `function`, the arguments copied) and, when it ends, the pipeline
//! records its metrics directly ([`DeferredCalls`]). Before anything could observe the span — an
//! event, a new span, entering, exiting or recording on a span, `Span::current()`, or the
//! `enabled` question that comes first — the pipeline opens every pending span of the thread, in order, with the fields and
//! parent it would have had, and enters it; from then on the call ends like any other. A
//! completion line opens the span as well, so that it carries the span's fields. Nothing
//! else can observe a span that never opened: a subscriber that user layers may wrap
//! (`Builder::build`) never defers.
//!
//! ```
//! use instrument_core::tracked::{short_type_name, Outcome};
//!
//! assert_eq!(Outcome::Error.as_str(), "error");
//! assert_eq!(short_type_name(std::any::type_name::<std::io::Error>()), "Error");
//! ```
#![warn(clippy::pedantic)]

mod args;
mod call;
mod capture;
mod clock;
pub mod error_type;
mod frames;
mod host;
#[cfg(feature = "http")]
pub mod http;
mod names;
mod outcome;
mod sync_call;

pub use args::{ArgDebug, ArgProbe, ArgSkip, ArgValue};
pub use call::{invoke, Call, Completion, ErrorMessage, LogMode, Running, Site};
pub use capture::{
    value_set, CaptureNone, CaptureValue, Captured, Copied, CopyProbe, Deferred, Fields, NotCopied,
    Snapshot,
};
pub use clock::calibrate_clock;
pub use error_type::{ErrorType, NameProbe, ProbeErrorType, ProbeNoErrorType};
pub use frames::{open_pending, pending_calls, Opener};
pub use host::{open_in, CallRecord, DeferredCalls, Host};
pub use names::{short_type_name, type_base_name, MethodName};
pub use outcome::{
    Classified, OkProbe, Outcome, Probe, ProbeAnyError, ProbeAsDynError, ProbeAsDynSendError,
    ProbeDebugError, ProbeDisplayError, ProbeNotResult, ProbeOkOther, ProbeOkOutcome,
    ProbeStdError, ProbeTrackOutcome, TrackOutcome,
};
pub use sync_call::{DeferredSite, SyncCall};
