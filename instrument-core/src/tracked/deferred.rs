//! Deferred spans: a synchronous tracked call under instrument's own pipeline opens its span
//! only when something needs it.
//!
//! Most tracked calls log nothing: their span exists only so that the EMF layer can count and
//! time them. Opening, entering, recording, exiting and closing a span costs every layer a
//! registry lookup per step, several times what the call's metrics cost. So when the process's
//! dispatcher is instrument's pipeline (it answers `downcast_ref::<`[`Deferral`]`>()`), a
//! synchronous tracked call instead pushes a *frame* on a thread-local stack: the span's
//! callsite, its `function` and its argument values (copied; see [`CopyProbe`]). When the call
//! ends, the pipeline records its metrics directly ([`Deferral::record`]).
//!
//! Whenever anything could observe the span, the pipeline opens it first, exactly as it would
//! have been opened at the start of the call (same callsite, same fields, same parent), and
//! enters it: before an event (a log line inside the call), a new span (its parent), entering or
//! exiting another span, recording on one, and `Span::current()`. From then on the call is an ordinary span and ends like
//! one. A completion log line (`log = "errors"` on an error or a panic) opens it too, so that the
//! line carries the span's fields. Observers cannot tell the difference, except for the span's
//! start time inside the registry, which no instrument layer reports.
//!
//! A call takes the deferred path only when all of this holds; otherwise it opens its span at
//! the start, as before:
//! * it is synchronous (a future may move between threads; its span stays real);
//! * every recorded argument is a `Copy` value recorded as such (numbers, `bool`, `&str`, …:
//!   copied into the frame, so the body may still move or mutate its arguments; an argument
//!   recorded through `Debug` would be formatted late) and there are no `fields(...)`
//!   (arbitrary expressions);
//! * `log` is not `"all"` (every call would open its span anyway);
//! * the dispatcher is instrument's pipeline built by `Builder::build_dispatch` or installed by
//!   `init()`: nothing can be layered on top of it, so no layer misses the span (a subscriber from
//!   `Builder::build()` may be wrapped by user layers and never defers).
#![allow(clippy::module_name_repetitions)]

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU8, Ordering};

use tracing::callsite::{Callsite as _, DefaultCallsite};
use tracing::field::{Field, Value, ValueSet};
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Metadata, Span};

use super::call::{with_outcome, Call, Site};
use super::clock::Stamp;
use super::names::short_type_name;
use super::outcome::{Detail, Outcome, OutcomeKind};

// ---------------------------------------------------------------------------------------------
// Capturing arguments.

/// Wraps a reference to an argument to copy it into a frame. Not public API.
///
/// `(&&CopyProbe(&arg)).__instrument_capture()` with [`CaptureValue`] and [`CaptureNone`] in
/// scope is a [`Copied`] when the argument is `Copy` and recorded as a `tracing` value
/// (integers, floats, `bool`, `&str`, references to those, …), and a [`NotCopied`] otherwise
/// (including generic types not bound that way). Only those: an argument recorded through
/// `Debug` is formatted when the span opens, which for a reference (`&Cell`, `&Mutex`, …) could
/// show a later value than the call started with, or block; such a call opens its span at the
/// start instead.
#[doc(hidden)]
pub struct CopyProbe<'a, T: ?Sized>(pub &'a T);

/// Rank 1 of [`CopyProbe`]: `Copy` arguments recorded as values.
#[doc(hidden)]
pub trait CaptureValue {
    /// The copy.
    type Captured;
    /// Copies the argument.
    fn __instrument_capture(&self) -> Self::Captured;
}

/// Rank 2 of [`CopyProbe`]: anything else.
#[doc(hidden)]
pub trait CaptureNone {
    /// Nothing.
    fn __instrument_capture(&self) -> NotCopied;
}

impl<T: Copy + Value> CaptureValue for &CopyProbe<'_, T> {
    type Captured = Copied<T>;
    #[inline]
    fn __instrument_capture(&self) -> Copied<T> {
        Copied(*self.0)
    }
}

impl<T: ?Sized> CaptureNone for CopyProbe<'_, T> {
    #[inline]
    fn __instrument_capture(&self) -> NotCopied {
        NotCopied
    }
}

/// A copied argument. Not public API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Copied<T>(T);

/// An argument that could not be copied: its call opens its span at the start. Not public API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct NotCopied;

/// What the expansion reads from a captured argument. Not public API.
#[doc(hidden)]
pub trait Captured {
    /// The argument's type (or `NotCopied`).
    type Target: ?Sized;
    /// Whether the argument was copied.
    fn copied(&self) -> bool;
    /// The copy, to record (for [`NotCopied`], itself: recorded as nothing, never used).
    fn get(&self) -> &Self::Target;
}

impl<T> Captured for Copied<T> {
    type Target = T;
    #[inline]
    fn copied(&self) -> bool {
        true
    }
    #[inline]
    fn get(&self) -> &T {
        &self.0
    }
}

impl Captured for NotCopied {
    type Target = NotCopied;
    #[inline]
    fn copied(&self) -> bool {
        false
    }
    #[inline]
    fn get(&self) -> &NotCopied {
        self
    }
}

/// The field values of a deferred call, rendered when (and each time) the span is needed. Not
/// public API.
#[doc(hidden)]
pub trait Fields {
    /// Whether every argument was copied (the call may be deferred).
    fn complete(&self) -> bool;
    /// Calls `f` with the span's values (`function` the `function` field's).
    fn with_values(&self, function: &'static str, f: &mut dyn FnMut(&ValueSet<'_>));
}

/// [`Fields`] from the expansion: the captured arguments and the closure that renders them.
/// Not public API.
#[doc(hidden)]
pub struct Deferred<C, F> {
    captured: C,
    complete: bool,
    render: F,
}

impl<C, F> Deferred<C, F>
where
    F: Fn(&C, &'static str, &mut dyn FnMut(&ValueSet<'_>)),
{
    /// `captured` (a tuple of [`Captured`]), `complete` (all of them copied) and how to render
    /// them.
    #[inline]
    pub fn new(captured: C, complete: bool, render: F) -> Self {
        Deferred {
            captured,
            complete,
            render,
        }
    }
}

impl<C, F> Fields for Deferred<C, F>
where
    F: Fn(&C, &'static str, &mut dyn FnMut(&ValueSet<'_>)),
{
    #[inline]
    fn complete(&self) -> bool {
        self.complete
    }

    fn with_values(&self, function: &'static str, f: &mut dyn FnMut(&ValueSet<'_>)) {
        (self.render)(&self.captured, function, f);
    }
}

/// Builds the `ValueSet` of `meta` from `values` (one per field, in order) and calls `f` with
/// it. Not public API.
#[doc(hidden)]
#[inline]
pub fn value_set<const N: usize>(
    meta: &'static Metadata<'static>,
    values: [Option<&dyn Value>; N],
    f: &mut dyn FnMut(&ValueSet<'_>),
) {
    let fields = meta.fields();
    let mut iter = fields.iter();
    let handles: [Field; N] = std::array::from_fn(|_| {
        iter.next()
            .expect("the expansion gives one value per field")
    });
    let pairs: [(&Field, Option<&dyn Value>); N] =
        std::array::from_fn(|i| (&handles[i], values[i]));
    f(&fields.value_set(&pairs));
}

// ---------------------------------------------------------------------------------------------
// The pipeline's side.

/// What instrument's pipeline offers deferred calls; found with
/// `dispatch.downcast_ref::<Deferral>()`. Not public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct Deferral {
    /// Records the metrics of a call whose span was never opened.
    pub record: fn(&Dispatch, &Ended<'_>),
    /// Opens the pending spans of this thread (the pipeline's `materialize`).
    pub open_pending: fn(&Dispatch),
    /// Whether spans of this callsite carry context for their children (dimensions,
    /// properties): a call below a pending one of these opens it first. `None`: the callsite
    /// is never deferred (e.g. a Lambda invocation).
    pub class: fn(&'static Metadata<'static>) -> Option<bool>,
    /// Whether the pipeline wants every tracked span (metrics are on), so that a deferred call
    /// need not ask `enabled`.
    pub wants_tracked: bool,
    /// Unique for the life of the process ([`Deferral::next_id`]): which pipeline deferred a
    /// call (an address could be reused by a later pipeline).
    pub id: u64,
}

impl Deferral {
    /// A fresh [`id`](Deferral::id).
    pub fn next_id() -> u64 {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }
}

/// A deferred call that ended without its span ever being opened. Not public API.
#[doc(hidden)]
pub struct Ended<'a> {
    /// The span's callsite.
    pub meta: &'static Metadata<'static>,
    /// The `function` value.
    pub function: &'static str,
    /// How it ended.
    pub outcome: OutcomeKind,
    /// The error's short type name (`"panic"` for a panic).
    pub error_type: Option<&'static str>,
    /// Milliseconds.
    pub latency_ms: f64,
    fields: &'a dyn Fields,
}

impl fmt::Debug for Ended<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ended")
            .field("function", &self.function)
            .field("outcome", &self.outcome)
            .field("latency_ms", &self.latency_ms)
            .field("error_type", &self.error_type)
            .finish_non_exhaustive()
    }
}

impl Ended<'_> {
    /// Calls `f` with the span's values as it would have been opened with (`outcome`,
    /// `latency_ms` and `error_type` empty).
    pub fn with_values(&self, f: &mut dyn FnMut(&ValueSet<'_>)) {
        self.fields.with_values(self.function, f);
    }
}

/// Opens, in order, every pending span of this thread that `owner` deferred: `open` is given
/// each callsite and values and returns the entered span's id (`None`: the pipeline does not
/// want the span now; the call then ends deferred). Cheap when nothing is pending. Not public
/// API.
#[doc(hidden)]
#[inline]
pub fn open_pending(owner: &Deferral, open: &mut Opener<'_>) {
    // The check every event and span makes, inlined into the pipeline: one load.
    if PENDING.get() != 0 {
        open_pending_now(owner, open);
    }
}

/// How a pipeline opens one pending span: given its callsite and values, the entered span's id
/// and the dispatcher it lives in (`None`: the pipeline does not want the span now). Not public
/// API.
#[doc(hidden)]
pub type Opener<'a> =
    dyn FnMut(&'static Metadata<'static>, &ValueSet<'_>) -> Option<(Id, Option<Dispatch>)> + 'a;

/// [`open_pending`] when something is pending.
#[inline(never)]
fn open_pending_now(owner: &Deferral, open: &mut Opener<'_>) {
    let owner = address(owner);
    let _ = FRAMES.try_with(|frames| {
        let Ok(mut frames) = frames.try_borrow_mut() else {
            return;
        };
        let frames = &mut *frames;
        for i in 0..frames.stack.len() {
            let frame = &mut frames.stack[i];
            if frame.owner != owner || !frame.state.is_pending() {
                continue;
            }
            // Settled before any other code runs: if opening panics, the frame is simply not
            // open (never left pending with fields about to go away).
            frame.state = State::Unwanted;
            PENDING.set(PENDING.get() - 1);
            let frame = &frames.stack[i];
            let meta = frame.site.callsite.metadata();
            let mut opened = None;
            // SAFETY: a frame lives on the stack exactly as long as the `SyncCall` that pushed
            // it, which borrows `fields`: the call removes its frame when it ends, on every
            // path (the expansion never leaks the call; `DeferredCall` pops in `Drop`).
            let fields = unsafe { &*frame.fields };
            fields.with_values(frame.function, &mut |set| opened = open(meta, set));
            if let Some((id, dispatch)) = opened {
                frames.stack[i].state = State::Open(id, dispatch);
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The call's side.

/// A synchronous tracked call site that may defer its span. Not public API.
#[doc(hidden)]
pub struct DeferredSite {
    callsite: &'static DefaultCallsite,
    site: &'static Site,
    /// 0: not known yet; 1: never defer; 2: defer, no context; 3: defer, carries context.
    class: AtomicU8,
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
            class: AtomicU8::new(0),
        }
    }

    /// Whether a call of this site could be tracked at all: its level passes the global
    /// maximum and some subscriber is interested in its callsite. When not, the expansion skips
    /// everything, argument copies included.
    #[inline]
    pub fn enabled(&self) -> bool {
        level_enabled(self.callsite.metadata()) && !self.callsite.interest().is_never()
    }

    /// `Some(carries context)` when calls of this site may be deferred.
    #[inline]
    fn class(&self, deferral: &Deferral) -> Option<bool> {
        match self.class.load(Ordering::Relaxed) {
            1 => None,
            2 => Some(false),
            3 => Some(true),
            _ => {
                // A pure function of the callsite, the same for every pipeline.
                let class = (deferral.class)(self.callsite.metadata());
                let code = match class {
                    None => 1,
                    Some(false) => 2,
                    Some(true) => 3,
                };
                self.class.store(code, Ordering::Relaxed);
                class
            }
        }
    }
}

#[derive(Debug, Clone)]
enum State {
    Pending,
    /// Opened and entered: the span's id, and the dispatcher it was opened in (the call ends it
    /// there even if the thread's default changed meanwhile).
    Open(Id, Option<Dispatch>),
    /// The pipeline did not want the span when asked to open it, or opening it failed.
    Unwanted,
}

impl State {
    fn is_pending(&self) -> bool {
        matches!(self, State::Pending)
    }
}

struct Frame {
    /// The `Deferral`'s id: which pipeline deferred this call.
    owner: u64,
    site: &'static DeferredSite,
    function: &'static str,
    /// Lifetime erased; see [`open_pending`].
    fields: *const (dyn Fields + 'static),
    state: State,
    carries_context: bool,
}

struct Frames {
    stack: Vec<Frame>,
}

thread_local! {
    static FRAMES: RefCell<Frames> = const {
        RefCell::new(Frames { stack: Vec::new() })
    };
    /// How many frames of the stack are `State::Pending`, kept apart from the stack so that the
    /// check every event makes is one load (a `const` thread-local without a destructor).
    static PENDING: Cell<usize> = const { Cell::new(0) };
}

/// One synchronous tracked call: deferred, with a span, or disabled. Not public API.
#[doc(hidden)]
#[must_use]
pub struct SyncCall<'a> {
    inner: Inner,
    _fields: PhantomData<&'a dyn Fields>,
}

enum Inner {
    Disabled,
    /// The span opened at the start (arguments that are not `Copy`, or another subscriber).
    Spanned(Call<Span>),
    Deferred(DeferredCall),
}

struct DeferredCall {
    start: Stamp,
    /// Index of the frame in the stack.
    depth: usize,
    owner: u64,
    site: &'static DeferredSite,
    function: &'static str,
    fields: *const (dyn Fields + 'static),
    /// Whether [`pop`](DeferredCall::pop) removed the frame already (then `Drop` need not).
    popped: Cell<bool>,
}

impl fmt::Debug for SyncCall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.inner {
            Inner::Disabled => "disabled",
            Inner::Spanned(_) => "spanned",
            Inner::Deferred(_) => "deferred",
        };
        f.debug_struct("SyncCall").field("state", &state).finish()
    }
}

/// A pipeline's identity.
#[inline]
fn address(deferral: &Deferral) -> u64 {
    deferral.id
}

/// Whether spans of `meta` are enabled, as `tracing::span!` decides it.
#[inline]
fn level_enabled(meta: &Metadata<'_>) -> bool {
    *meta.level() <= STATIC_MAX_LEVEL && *meta.level() <= LevelFilter::current()
}

impl<'a> SyncCall<'a> {
    /// Starts a call of `site`. Its span is deferred when the dispatcher allows it and
    /// `fields` are complete; otherwise opened now and entered.
    #[inline]
    pub fn start(
        site: &'static DeferredSite,
        function: impl FnOnce() -> &'static str,
        fields: &'a (dyn Fields + 'a),
    ) -> Self {
        // The disabled check inline (the whole cost of a call nobody wants), the rest not.
        let meta = site.callsite.metadata();
        if !level_enabled(meta) {
            return SyncCall::disabled();
        }
        let interest = site.callsite.interest();
        if interest.is_never() {
            return SyncCall::disabled();
        }
        SyncCall {
            inner: start_enabled(site, function(), fields, &interest),
            _fields: PhantomData,
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
            _fields: PhantomData,
        }
    }

    /// A call that records nothing (its site is not [`enabled`](DeferredSite::enabled)).
    #[inline]
    pub fn disabled() -> Self {
        SyncCall {
            inner: Inner::Disabled,
            _fields: PhantomData,
        }
    }

    /// Records how the call ended; `classify` only runs when the call is tracked.
    #[inline]
    pub fn finish<'r>(mut self, classify: impl FnOnce() -> Outcome<'r>) {
        if matches!(self.inner, Inner::Disabled) {
            return;
        }
        match std::mem::replace(&mut self.inner, Inner::Disabled) {
            Inner::Disabled => {}
            Inner::Spanned(call) => call.finish(classify),
            Inner::Deferred(call) => {
                let outcome = classify();
                let error_type = outcome.error_type.map(short_type_name);
                call.end(outcome.kind, error_type, outcome.detail);
            }
        }
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
                OutcomeKind::Panic
            } else {
                OutcomeKind::Cancelled
            };
            let error_type = (kind == OutcomeKind::Panic).then_some("panic");
            call.end(kind, error_type, Detail::None);
        }
    }
}

/// [`SyncCall::start`] once the callsite is known to be enabled somewhere.
fn start_enabled(
    site: &'static DeferredSite,
    function: &'static str,
    fields: &dyn Fields,
    interest: &tracing::subscriber::Interest,
) -> Inner {
    let meta = site.callsite.metadata();
    let inner = tracing::dispatcher::get_default(|dispatch| {
        if fields.complete() && site.site.defers() {
            if let Some(deferral) = dispatch.downcast_ref::<Deferral>() {
                // Deferred only when no `enabled` question is needed: the callsite is always
                // enabled, or the pipeline wants every tracked span (metrics on). Asking
                // `enabled` and then not opening the span would leave the per-layer filters'
                // answer behind for the next event (`enabled` runs when the span opens, if it
                // ever does).
                let wanted = interest.is_always() || deferral.wants_tracked;
                if let (true, Some(carries_context)) = (wanted, site.class(deferral)) {
                    if let Some(call) =
                        push(dispatch, deferral, site, function, fields, carries_context)
                    {
                        return Some(Inner::Deferred(call));
                    }
                }
            }
        }
        // Opened now: per-layer filters need `enabled` right before `new_span` (the pipeline's
        // `enabled` opens any pending spans around this call first, so nothing comes between).
        if !interest.is_always() && !dispatch.enabled(meta) {
            return None;
        }
        let mut span = None;
        fields.with_values(function, &mut |set| {
            span = Some(Span::new_with(meta, set, dispatch));
        });
        let span = span?;
        Some(Inner::Spanned(Call::start_entered(span, site.site, || {
            function
        })))
    });
    inner.unwrap_or(Inner::Disabled)
}

/// Pushes the frame of a deferred call; `None` when the stack is busy (a call made from inside
/// the pipeline itself) and the span must be opened now.
#[inline]
fn push(
    dispatch: &Dispatch,
    deferral: &Deferral,
    site: &'static DeferredSite,
    function: &'static str,
    fields: &dyn Fields,
    carries_context: bool,
) -> Option<DeferredCall> {
    let owner = address(deferral);
    // SAFETY (of the later dereferences): see `open_pending`.
    let fields: *const (dyn Fields + '_) = fields;
    #[allow(clippy::missing_transmute_annotations, clippy::transmute_ptr_to_ptr)]
    let fields: *const (dyn Fields + 'static) = unsafe { std::mem::transmute(fields) };
    // One borrow of the stack on the common path; a second one after opening the spans
    // around this call when one of them carries context (the pipeline reads inherited
    // dimensions from open spans).
    for attempt in 0..2 {
        let pushed = FRAMES
            .try_with(|frames| {
                let mut frames = frames.try_borrow_mut().ok()?;
                let frames = &mut *frames;
                if attempt == 0
                    && PENDING.get() > 0
                    && frames
                        .stack
                        .iter()
                        .any(|f| f.owner == owner && f.state.is_pending() && f.carries_context)
                {
                    return Some(None);
                }
                let depth = frames.stack.len();
                frames.stack.push(Frame {
                    owner,
                    site,
                    function,
                    fields,
                    state: State::Pending,
                    carries_context,
                });
                PENDING.set(PENDING.get() + 1);
                Some(Some(DeferredCall {
                    start: Stamp::now(),
                    depth,
                    owner,
                    site,
                    function,
                    fields,
                    popped: Cell::new(false),
                }))
            })
            .ok()
            .flatten()?;
        match pushed {
            Some(call) => return Some(call),
            None => (deferral.open_pending)(dispatch),
        }
    }
    None
}

impl DeferredCall {
    /// Pops the frame; records the call directly, or ends its span if it was opened.
    fn end(self, kind: OutcomeKind, error_type: Option<&'static str>, detail: Detail<'_>) {
        let latency_ms = self.start.elapsed_ms();
        // SAFETY: `self.fields` is borrowed by the `SyncCall` being finished or dropped.
        let fields = unsafe { &*self.fields };
        // A completion line that no dispatcher could want (its level is above every
        // subscriber's maximum) opens nothing.
        let meta = self.site.callsite.metadata();
        let line_level = match kind {
            OutcomeKind::Error => tracing::Level::WARN,
            OutcomeKind::Panic => tracing::Level::ERROR,
            OutcomeKind::Success | OutcomeKind::Cancelled => *meta.level(),
        };
        let log = self.site.site.logs(kind) && line_level <= LevelFilter::current();
        let opened = tracing::dispatcher::get_default(|dispatch| {
            // The pipeline that deferred the call, if it is still the default (a scoped default
            // may have ended during the call).
            let deferral = dispatch
                .downcast_ref::<Deferral>()
                .filter(|d| address(d) == self.owner);
            if let Some(deferral) = deferral {
                if log && self.is_pending() {
                    // The completion line is logged inside the span, with its fields.
                    (deferral.open_pending)(dispatch);
                }
            }
            match self.pop() {
                Some(State::Open(id, opened_in)) => {
                    // Ended in the dispatcher it was opened in, whatever the default is now.
                    let opened_in = match (opened_in, deferral) {
                        (Some(d), _) => d,
                        (None, Some(_)) => dispatch.clone(),
                        (None, None) => return None,
                    };
                    with_outcome(meta, kind, latency_ms, error_type, |values| {
                        opened_in.record(&id, &Record::new(values));
                    });
                    Some((id, opened_in))
                }
                Some(State::Pending | State::Unwanted) => {
                    // Without its pipeline (the default changed during the call) a call whose
                    // span never opened cannot be recorded.
                    if let Some(deferral) = deferral {
                        (deferral.record)(
                            dispatch,
                            &Ended {
                                meta,
                                function: self.function,
                                outcome: kind,
                                error_type,
                                latency_ms,
                                fields,
                            },
                        );
                    }
                    None
                }
                None => None,
            }
        });
        if let Some((id, dispatch)) = opened {
            // Outside `get_default`, which a scoped dispatcher does not re-enter: the completion
            // line is an event, and closing a span may close its parent (the registry does that
            // through `get_default`).
            if log {
                tracing::dispatcher::with_default(&dispatch, || {
                    self.site.site.emit(&super::call::Completion::new(
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

    fn is_pending(&self) -> bool {
        FRAMES
            .try_with(|frames| {
                let frames = frames.try_borrow().ok()?;
                frames.stack.get(self.depth).map(|f| f.state.is_pending())
            })
            .ok()
            .flatten()
            .unwrap_or(false)
    }

    /// Removes this call's frame (and any left above it), returning its state.
    fn pop(&self) -> Option<State> {
        self.popped.set(true);
        truncate_frames(self.depth)
    }
}

impl Drop for DeferredCall {
    /// Whatever happens (a panic in `classify`, in a layer opening the span), the frame goes:
    /// it must never outlive the fields it points to.
    fn drop(&mut self) {
        if !self.popped.get() {
            truncate_frames(self.depth);
        }
    }
}

/// Pops the frames at `depth` and above, returning the state of the one at `depth`.
fn truncate_frames(depth: usize) -> Option<State> {
    FRAMES
        .try_with(|frames| {
            let mut frames = frames.try_borrow_mut().ok()?;
            let mut state = None;
            while frames.stack.len() > depth {
                let frame = frames.stack.pop()?;
                if frame.state.is_pending() {
                    PENDING.set(PENDING.get() - 1);
                }
                state = Some(frame.state);
            }
            state
        })
        .ok()
        .flatten()
}

/// Opens a span of `meta` with `values` in `subscriber` (through `enabled`, as `span!` does) and
/// enters it: what a pipeline's `open_pending` does for each pending call. Not public API.
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

/// How many tracked calls of this thread have deferred their span and not opened it yet: a
/// window on the mechanism for tests. Not public API.
#[doc(hidden)]
#[must_use]
pub fn pending_calls() -> usize {
    PENDING.get()
}
