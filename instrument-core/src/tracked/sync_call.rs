//! A synchronous tracked call: deferred, with a span, or disabled.
//!
//! The expansion builds a [`SyncCall`] (which touches nothing global), runs the body through
//! [`SyncCall::run`] and classifies the result with [`SyncCall::finish`]. `run` decides, at the
//! start of the body, whether the span is deferred; a deferred call's frame lives on the
//! thread's stack ([`frames`](super::frames)) exactly as long as `run` runs the body, so the
//! library, not the caller, owns the frame's lifetime: leaking a `SyncCall` leaks no frame.
//!
//! A call takes the deferred path only when all of this holds; otherwise it opens its span at
//! the start, as before:
//! * it is synchronous (a future may move between threads; its span stays real);
//! * every recorded argument is a `Copy` value recorded as such (numbers, `bool`, `&str`, …:
//!   copied into the frame, so the body may still move or mutate its arguments; an argument
//!   recorded through `Debug` would be formatted late) and there are no `fields(...)`
//!   (arbitrary expressions);
//! * `log` is not `"all"` (every call would open its span anyway);
//! * the host does not sample it into a trace (`DeferredCalls::start_sampled`, asked only of a
//!   host that exports traces: a sampled call's span is exported, so it opens at the start);
//! * the dispatcher is instrument's pipeline (it answers `downcast_ref::<Host>()`) built by
//!   `Builder::build_dispatch` or installed by `init()`: nothing can be layered on top of it, so no layer misses the span (a subscriber from
//!   `Builder::build()` may be wrapped by user layers and never defers).
#![allow(clippy::module_name_repetitions)]

use std::fmt;
use std::sync::OnceLock;

use tracing::callsite::{Callsite as _, DefaultCallsite};
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::span::Record;
use tracing::{Metadata, Span};

use super::call::{with_outcome, Call, Completion, Site};
use super::capture::Fields;
use super::clock::Stamp;
use super::frames::{self, NewFrame, State};
use super::host::{CallRecord, Host};
use super::outcome::{Classified, Detail, Outcome};
use crate::callsite::Schema;

/// A synchronous tracked call site that may defer its span. Not public API.
#[doc(hidden)]
pub struct DeferredSite {
    callsite: &'static DefaultCallsite,
    site: &'static Site,
    /// The callsite's schema, held from the first call on (the one home of its facts).
    schema: OnceLock<&'static Schema>,
}

impl fmt::Debug for DeferredSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredSite")
            .field("name", &self.callsite.metadata().name())
            .finish_non_exhaustive()
    }
}

impl DeferredSite {
    /// The call site of the span `callsite`, logging completions per `site`.
    pub const fn new(callsite: &'static DefaultCallsite, site: &'static Site) -> Self {
        DeferredSite {
            callsite,
            site,
            schema: OnceLock::new(),
        }
    }

    /// Whether a call of this site could be tracked at all: its level passes the global
    /// maximum and some subscriber is interested in its callsite. When not, the expansion skips
    /// everything, argument copies included.
    #[inline]
    pub fn enabled(&self) -> bool {
        level_enabled(self.callsite.metadata()) && !self.callsite.interest().is_never()
    }

    /// The callsite's schema: found in the process-wide table by the first call, then held.
    #[inline]
    fn schema(&self) -> &'static Schema {
        self.schema
            .get_or_init(|| crate::callsite::schema(self.callsite.metadata()))
    }
}

/// Whether spans of `meta` are enabled, as `tracing::span!` decides it.
#[inline]
fn level_enabled(meta: &Metadata<'_>) -> bool {
    *meta.level() <= STATIC_MAX_LEVEL && *meta.level() <= LevelFilter::current()
}

/// One synchronous tracked call: deferred, with a span, or disabled. Not public API.
#[doc(hidden)]
#[must_use]
pub struct SyncCall<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    Disabled,
    /// Built, not run yet: whether the span is deferred is decided when the body starts.
    Ready {
        site: &'static DeferredSite,
        function: &'static str,
        fields: &'a dyn Fields,
    },
    /// The span opened at the start (arguments that are not `Copy`, or another subscriber).
    Spanned(Call<Span>),
    /// The body ran deferred; its frame is gone, what became of its span is kept here.
    Deferred(Ran<'a>),
}

/// A deferred call whose body has run.
struct Ran<'a> {
    start: Stamp,
    owner: u64,
    site: &'static DeferredSite,
    function: &'static str,
    fields: &'a dyn Fields,
    state: State,
}

impl fmt::Debug for SyncCall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.inner {
            Inner::Disabled => "disabled",
            Inner::Ready { .. } => "ready",
            Inner::Spanned(_) => "spanned",
            Inner::Deferred(_) => "deferred",
        };
        f.debug_struct("SyncCall").field("state", &state).finish()
    }
}

impl<'a> SyncCall<'a> {
    /// A call of `site` whose span may be deferred when it [runs](SyncCall::run), recording
    /// `fields` (complete: every argument copied). Nothing global happens here.
    #[inline]
    pub fn deferrable(
        site: &'static DeferredSite,
        function: impl FnOnce() -> &'static str,
        fields: &'a (dyn Fields + 'a),
    ) -> Self {
        // The disabled check inline (the whole cost of a call nobody wants), the rest not.
        if !site.enabled() {
            return SyncCall::disabled();
        }
        SyncCall {
            inner: Inner::Ready {
                site,
                function: function(),
                fields,
            },
        }
    }

    /// A call whose span the expansion opened itself (`span!`, recording arguments that cannot be
    /// copied), entered until the call ends.
    #[inline]
    pub fn spanned(
        span: Span,
        site: &'static DeferredSite,
        function: impl FnOnce() -> &'static str,
    ) -> Self {
        SyncCall {
            inner: Inner::Spanned(Call::start_entered(span, site.site, function)),
        }
    }

    /// A call that records nothing (its site is not [`enabled`](DeferredSite::enabled)).
    #[inline]
    pub fn disabled() -> Self {
        SyncCall {
            inner: Inner::Disabled,
        }
    }

    /// Runs the call's body (the expansion names the return type `R` here so that `?` and
    /// coercions inside the body infer as in the original function). A deferred call's frame
    /// is on the thread's stack exactly while `body` runs.
    #[inline]
    pub fn run<R, F: FnOnce() -> R>(&mut self, body: F) -> R {
        if !matches!(self.inner, Inner::Ready { .. }) {
            return body();
        }
        let Inner::Ready {
            site,
            function,
            fields,
        } = self.inner
        else {
            return body();
        };
        let Some((owner, frame)) = self.start(site, function, fields) else {
            return body();
        };
        // Set before the body runs: if it unwinds, `Drop` records the panic with the frame's
        // state (the guard pops the frame first, being declared later).
        let start = Stamp::now();
        self.inner = Inner::Deferred(Ran {
            start,
            owner,
            site,
            function,
            fields,
            state: State::Pending,
        });
        let mut frame = FrameSlot(Some(frame), &mut self.inner);
        let result = body();
        frame.settle();
        result
    }

    /// Records how the call ended; `classify` only runs when the call is tracked. By reference:
    /// taking the call by value would move it (a few cache lines) before the one comparison a
    /// disabled call costs. A second `finish` records nothing.
    #[inline]
    pub fn finish<'r>(&mut self, classify: impl FnOnce() -> Classified<'r>) {
        // The whole cost of a call nobody wants: one comparison.
        if matches!(self.inner, Inner::Disabled) {
            return;
        }
        match std::mem::replace(&mut self.inner, Inner::Disabled) {
            Inner::Disabled | Inner::Ready { .. } => {}
            Inner::Spanned(call) => call.finish(classify),
            Inner::Deferred(call) => {
                let outcome = classify();
                let error_type = outcome.error_type();
                call.end(outcome.kind, error_type, outcome.detail);
            }
        }
    }

    /// Decides how a ready call starts: deferred (`Some`: the host's id and the pushed frame), or
    /// with its span opened now (`self` becomes `Spanned` or `Disabled`, `None`).
    fn start(
        &mut self,
        site: &'static DeferredSite,
        function: &'static str,
        fields: &'a dyn Fields,
    ) -> Option<(u64, frames::Frame<'a>)> {
        let meta = site.callsite.metadata();
        let interest = site.callsite.interest();
        let mut deferred = None;
        self.inner = tracing::dispatcher::get_default(|dispatch| {
            if site.site.defers() {
                if let Some(host) = dispatch.downcast_ref::<Host>() {
                    // Deferred only when no `enabled` question is needed: the callsite is always
                    // enabled, or the pipeline wants every tracked span (metrics on). Asking
                    // `enabled` and then not opening the span would leave the per-layer filters'
                    // answer behind for the next event (`enabled` runs when the span opens, if
                    // it ever does).
                    let wanted = interest.is_always() || host.wants_tracked();
                    // A call in a sampled trace opens its span now, to be exported.
                    let sampled = wanted && host.traces() && host.calls().start_sampled(meta);
                    if let (true, false, Some(carries_context)) =
                        (wanted, sampled, site.schema().defer_class())
                    {
                        if frames::pending_context() {
                            // The pipeline reads inherited dimensions from open spans.
                            host.calls().open_pending();
                        }
                        let frame = NewFrame {
                            owner: host.id(),
                            meta,
                            function,
                            fields,
                            carries_context,
                        };
                        // SAFETY: the guard goes back to `run`, which drops it when the body
                        // returns or unwinds, before `fields` (borrowed for 'a by `self`) ends.
                        if let Some(frame) = unsafe { frames::push(frame) } {
                            deferred = Some((host.id(), frame));
                            return Inner::Disabled;
                        }
                    }
                }
            }
            // Opened now: per-layer filters need `enabled` right before `new_span` (the
            // pipeline's `enabled` opens any pending spans around this call first, so nothing
            // comes between).
            if !interest.is_always() && !dispatch.enabled(meta) {
                return Inner::Disabled;
            }
            let mut span = None;
            fields.with_values(function, &mut |set| {
                span = Some(Span::new_with(meta, set, dispatch));
            });
            match span {
                Some(span) => Inner::Spanned(Call::start_entered(span, site.site, || function)),
                None => Inner::Disabled,
            }
        });
        deferred
    }
}

/// Holds a running deferred call's frame; when the body returns or unwinds, pops it and
/// keeps what became of its span in the call.
struct FrameSlot<'s, 'a>(Option<frames::Frame<'a>>, &'s mut Inner<'a>);

impl FrameSlot<'_, '_> {
    #[inline]
    fn settle(&mut self) {
        if let Some(frame) = self.0.take() {
            let state = frame.pop();
            if let (Inner::Deferred(ran), Some(state)) = (&mut *self.1, state) {
                ran.state = state;
            }
        }
    }
}

impl Drop for FrameSlot<'_, '_> {
    fn drop(&mut self) {
        self.settle();
    }
}

impl Drop for SyncCall<'_> {
    #[inline]
    fn drop(&mut self) {
        if matches!(self.inner, Inner::Deferred(_)) {
            self.abandon();
        }
        // `Inner::Spanned` records itself when dropped.
    }
}

impl SyncCall<'_> {
    /// A deferred call dropped without `finish`: the body unwound (a synchronous call cannot be
    /// cancelled).
    #[cold]
    fn abandon(&mut self) {
        if let Inner::Deferred(call) = std::mem::replace(&mut self.inner, Inner::Disabled) {
            let kind = if std::thread::panicking() {
                Outcome::Panic
            } else {
                Outcome::Cancelled
            };
            let error_type = (kind == Outcome::Panic).then_some("panic");
            call.end(kind, error_type, Detail::None);
        }
    }
}

impl Ran<'_> {
    /// Records the call directly, or ends its span if it was opened.
    fn end(self, kind: Outcome, error_type: Option<&'static str>, detail: Detail<'_>) {
        let latency_ms = self.start.elapsed_ms();
        let meta = self.site.callsite.metadata();
        // A completion line that no dispatcher could want (its level is above every
        // subscriber's maximum) opens nothing.
        let line_level = match kind {
            Outcome::Error => tracing::Level::WARN,
            Outcome::Panic => tracing::Level::ERROR,
            Outcome::Success | Outcome::Cancelled => *meta.level(),
        };
        let log = self.site.site.logs(kind) && line_level <= LevelFilter::current();
        let opened = tracing::dispatcher::get_default(|dispatch| {
            // The pipeline that deferred the call, if it is still the default (a scoped default
            // may have ended during the call).
            let host = dispatch
                .downcast_ref::<Host>()
                .filter(|h| h.id() == self.owner);
            let mut state = self.state.clone();
            if let (Some(host), true, true) = (host, log, state.is_pending()) {
                // The completion line is logged inside the span, with its fields: the spans
                // of the calls around it first, then its own.
                host.calls().open_pending();
                let mut opened = None;
                self.fields.with_values(self.function, &mut |set| {
                    opened = host.calls().open(meta, set);
                });
                state = match opened {
                    Some((id, opened_in)) => State::Open(id, opened_in),
                    None => State::Unwanted,
                };
            }
            match state {
                State::Open(id, opened_in) => {
                    // Ended in the dispatcher it was opened in, whatever the default is now.
                    let opened_in = match (opened_in, host) {
                        (Some(d), _) => d,
                        (None, Some(_)) => dispatch.clone(),
                        (None, None) => return None,
                    };
                    with_outcome(meta, kind, latency_ms, error_type, |values| {
                        opened_in.record(&id, &Record::new(values));
                    });
                    Some((id, opened_in))
                }
                State::Pending | State::Unwanted => {
                    // Without its pipeline (the default changed during the call) a call whose
                    // span never opened cannot be recorded.
                    if let Some(host) = host {
                        host.calls().record(&CallRecord {
                            meta,
                            schema: self.site.schema(),
                            function: self.function,
                            outcome: kind,
                            error_type,
                            latency_ms,
                            fields: self.fields,
                        });
                    }
                    None
                }
            }
        });
        if let Some((id, dispatch)) = opened {
            // Outside `get_default`, which a scoped dispatcher does not re-enter: the completion
            // line is an event, and closing a span may close its parent (the registry does that
            // through `get_default`).
            if log {
                tracing::dispatcher::with_default(&dispatch, || {
                    self.site.site.emit(&Completion::new(
                        self.function,
                        kind,
                        latency_ms,
                        error_type,
                        detail,
                    ));
                });
            }
            dispatch.exit(&id);
            dispatch.try_close(id);
        }
    }
}
