//! The drop guard of a tracked call and the future wrapper of an async one.

use std::borrow::Borrow;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::field::{DisplayValue, Value};
use tracing::Span;

use super::clock::Stamp;
use super::outcome::{Classified, Detail, Outcome};

/// Which calls write a completion log line (`log = "…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    /// None.
    Off,
    /// Calls that return `Err` (at `WARN`) or panic (at `ERROR`). The default.
    Errors,
    /// Every call: successes and cancellations at the span's level, errors and panics as above.
    All,
}

impl LogMode {
    #[inline]
    fn includes(self, kind: Outcome) -> bool {
        match self {
            LogMode::Off => false,
            LogMode::Errors => kind.is_error(),
            LogMode::All => true,
        }
    }
}

/// What a call site of `#[track_performance]` decided at compile time. Not public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct Site {
    log: LogMode,
    emit: fn(&Completion<'_>),
}

impl Site {
    /// A call site logging completions per `log` through `emit` (generated: its events carry the
    /// user's module as target).
    pub const fn new(log: LogMode, emit: fn(&Completion<'_>)) -> Self {
        Site { log, emit }
    }

    /// A call site without completion log lines.
    pub const OFF: Site = Site {
        log: LogMode::Off,
        emit: |_| {},
    };

    /// Whether a call of this site may defer its span: not when every call logs a completion
    /// line (and so opens its span anyway).
    #[inline]
    pub(crate) fn defers(&self) -> bool {
        self.log != LogMode::All
    }

    /// Whether a call ending as `kind` writes a completion line.
    #[inline]
    pub(crate) fn logs(&self, kind: Outcome) -> bool {
        self.log.includes(kind)
    }

    /// Writes the completion line (inside the span, which the caller has entered).
    pub(crate) fn emit(&self, completion: &Completion<'_>) {
        (self.emit)(completion);
    }
}

/// A finished call, as the completion log line reports it.
///
/// The generated code writes one event from it, inside the call's span, with the fields
/// `function`, `outcome`, `latency_ms` and, for errors, `error_type` plus `error` (an error type
/// implementing `std::error::Error`, or reachable through `AsRef<dyn Error>` like
/// `anyhow::Error`) or `error_message` (its `Display`, else `Debug`, text).
pub struct Completion<'a> {
    /// The `function` name.
    pub function: &'static str,
    /// How the call ended.
    pub outcome: Outcome,
    /// The call's duration in milliseconds.
    pub latency_ms: f64,
    /// The short type name of the error, `"panic"` for a panic.
    pub error_type: Option<&'static str>,
    detail: Detail<'a>,
}

impl fmt::Debug for Completion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completion")
            .field("function", &self.function)
            .field("outcome", &self.outcome)
            .field("latency_ms", &self.latency_ms)
            .field("error_type", &self.error_type)
            .finish_non_exhaustive()
    }
}

impl<'a> Completion<'a> {
    pub(crate) fn new(
        function: &'static str,
        outcome: Outcome,
        latency_ms: f64,
        error_type: Option<&'static str>,
        detail: Detail<'a>,
    ) -> Self {
        Completion {
            function,
            outcome,
            latency_ms,
            error_type,
            detail,
        }
    }

    /// The error, when its type is a `std::error::Error` (directly or via `AsRef`).
    #[must_use]
    pub fn error(&self) -> Option<&'a (dyn Error + 'static)> {
        match self.detail {
            Detail::Error(e) => Some(e),
            _ => None,
        }
    }

    /// The error's text, when it is not a `std::error::Error` but implements `Display` or
    /// `Debug`.
    #[must_use]
    pub fn error_message(&self) -> Option<DisplayValue<ErrorMessage<'a>>> {
        match self.detail {
            Detail::Display(_) | Detail::Debug(_) => {
                Some(tracing::field::display(ErrorMessage(self.detail)))
            }
            _ => None,
        }
    }
}

/// The text of an error that is not a `std::error::Error`; see [`Completion::error_message`].
pub struct ErrorMessage<'a>(Detail<'a>);

impl fmt::Display for ErrorMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Detail::Display(d) => fmt::Display::fmt(d, f),
            Detail::Debug(d) => fmt::Debug::fmt(d, f),
            Detail::Error(e) => fmt::Display::fmt(e, f),
            Detail::None => Ok(()),
        }
    }
}

impl fmt::Debug for ErrorMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One tracked call in progress: the span, the start time, and the guarantee that the call is
/// recorded exactly once. Not public API.
///
/// Dropped without [`finish`](Call::finish), it records `panic` while unwinding and `cancelled`
/// otherwise (an async call whose future was dropped).
///
/// `S` is the span, owned (`Call<Span>`, for futures that carry their call with them) or
/// borrowed from a local of the tracked function (`Call<&Span>`, so that a disabled call moves
/// nothing around).
#[doc(hidden)]
pub struct Call<S: Borrow<Span> = Span> {
    span: S,
    /// `None` when the span is disabled, or once recorded.
    active: Option<Active>,
}

/// What only an enabled call needs.
struct Active {
    start: Stamp,
    function: &'static str,
    site: &'static Site,
    /// Whether this guard entered the span (synchronous calls) and must exit it.
    entered: bool,
}

impl<S: Borrow<Span>> fmt::Debug for Call<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("span", self.span.borrow())
            .field("function", &self.active.as_ref().map(|a| a.function))
            .finish_non_exhaustive()
    }
}

impl<S: Borrow<Span>> Call<S> {
    /// Starts tracking a call in `span`. When the span is disabled nothing else happens: no
    /// clock read, `function` is not called.
    #[inline]
    pub fn start(span: S, site: &'static Site, function: impl FnOnce() -> &'static str) -> Self {
        let active = if span.borrow().is_disabled() {
            None
        } else {
            Some(Active {
                function: function(),
                site,
                entered: false,
                start: Stamp::now(),
            })
        };
        Call { span, active }
    }

    /// Like [`start`](Call::start), and enters the span until the guard is dropped (synchronous
    /// calls).
    #[inline]
    pub fn start_entered(
        span: S,
        site: &'static Site,
        function: impl FnOnce() -> &'static str,
    ) -> Self {
        // Built in one go on each path: the disabled one (the hot one when metrics are off and
        // the level filtered) is two stores, with no struct copied around.
        if span.borrow().is_disabled() {
            return Call { span, active: None };
        }
        enter(span.borrow());
        Call {
            active: Some(Active {
                function: function(),
                site,
                entered: true,
                start: Stamp::now(),
            }),
            span,
        }
    }

    /// Runs `f` inside the span: the synchronous part of a function returning a future.
    #[inline]
    pub fn in_scope<R, F: FnOnce() -> R>(&self, f: F) -> R {
        if self.active.is_some() {
            self.span.borrow().in_scope(f)
        } else {
            f()
        }
    }

    /// Polls `future` inside the span, recording `panic` if a poll unwinds.
    #[inline]
    pub fn run<'a, F: Future + ?Sized>(&'a mut self, future: Pin<&'a mut F>) -> Running<'a, F, S> {
        Running { call: self, future }
    }

    /// Records how the call ended; `classify` (the return value's classification) only runs
    /// when the call is tracked.
    #[inline]
    pub fn finish<'r>(mut self, classify: impl FnOnce() -> Classified<'r>) {
        if let Some(active) = self.active.take() {
            let outcome = classify();
            let error_type = outcome.error_type();
            self.complete(&active, outcome.kind, error_type, outcome.detail);
            if active.entered {
                exit(self.span.borrow());
            }
        }
    }

    /// Records the outcome, latency and error type on the span in one `record` (one `on_record`
    /// per layer), then writes the completion line if the site asks for one.
    fn complete(
        &self,
        active: &Active,
        kind: Outcome,
        error_type: Option<&'static str>,
        detail: Detail<'_>,
    ) {
        let latency_ms = active.start.elapsed_ms();
        let span = self.span.borrow();
        if let Some(meta) = span.metadata() {
            with_outcome(meta, kind, latency_ms, error_type, |values| {
                span.record_all(values);
            });
        }
        if active.site.log.includes(kind) {
            let completion = Completion {
                function: active.function,
                outcome: kind,
                latency_ms,
                error_type,
                detail,
            };
            if active.entered {
                (active.site.emit)(&completion);
            } else {
                span.in_scope(|| (active.site.emit)(&completion));
            }
        }
    }

    /// Records a call that ended without [`finish`](Call::finish); `entered` says whether the
    /// span is entered right now.
    #[cold]
    fn abandon(&mut self, kind: Outcome, entered: bool) {
        if let Some(mut active) = self.active.take() {
            let error_type = (kind == Outcome::Panic).then_some("panic");
            let was_entered = std::mem::replace(&mut active.entered, entered);
            self.complete(&active, kind, error_type, Detail::None);
            if was_entered {
                exit(self.span.borrow());
            }
        }
    }
}

impl<S: Borrow<Span>> Drop for Call<S> {
    #[inline]
    fn drop(&mut self) {
        if let Some(active) = &self.active {
            let kind = if std::thread::panicking() {
                Outcome::Panic
            } else {
                Outcome::Cancelled
            };
            let entered = active.entered;
            self.abandon(kind, entered);
        }
    }
}

/// Calls `f` with the values of a tracked span's `outcome`, `latency_ms` and `error_type`
/// fields, which the expansion declares right after `function`.
pub(crate) fn with_outcome(
    meta: &'static tracing::Metadata<'static>,
    kind: Outcome,
    latency_ms: f64,
    error_type: Option<&'static str>,
    f: impl FnOnce(&tracing::field::ValueSet<'_>),
) {
    let fields = meta.fields();
    let mut iter = fields.iter().skip(1);
    if let (Some(outcome), Some(latency), Some(error)) = (iter.next(), iter.next(), iter.next()) {
        debug_assert_eq!(
            [outcome.name(), latency.name(), error.name()],
            instrument_vocab::field::RECORDED_AT_END
        );
        let outcome_str = kind.as_str();
        let values = [
            (&outcome, Some(&outcome_str as &dyn Value)),
            (&latency, Some(&latency_ms as &dyn Value)),
            (&error, error_type.as_ref().map(|t| t as &dyn Value)),
        ];
        f(&fields.value_set(&values));
    }
}

fn enter(span: &Span) {
    span.with_subscriber(|(id, dispatch)| dispatch.enter(id));
}

fn exit(span: &Span) {
    span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
}

/// The future of a tracked async call: polls the body inside the span; a poll that unwinds is
/// recorded as `panic` right away (executors such as tokio catch the panic and drop the future
/// later, when the thread is no longer panicking). Not public API.
#[doc(hidden)]
#[must_use = "futures do nothing unless polled"]
pub struct Running<'a, F: ?Sized, S: Borrow<Span> = Span> {
    call: &'a mut Call<S>,
    future: Pin<&'a mut F>,
}

impl<F: ?Sized, S: Borrow<Span>> fmt::Debug for Running<'_, F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running")
            .field("call", &self.call)
            .finish_non_exhaustive()
    }
}

impl<F: Future + ?Sized, S: Borrow<Span>> Future for Running<'_, F, S> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if this.call.active.is_none() {
            return this.future.as_mut().poll(cx);
        }
        let mut polling = Polling::enter(&mut *this.call);
        let poll = this.future.as_mut().poll(cx);
        polling.unwinding = false;
        poll
    }
}

/// Enters the span for one poll; records `panic` if the poll unwinds.
struct Polling<'a, S: Borrow<Span>> {
    call: &'a mut Call<S>,
    unwinding: bool,
}

impl<'a, S: Borrow<Span>> Polling<'a, S> {
    #[inline]
    fn enter(call: &'a mut Call<S>) -> Self {
        enter(call.span.borrow());
        Polling {
            call,
            unwinding: true,
        }
    }
}

impl<S: Borrow<Span>> Drop for Polling<'_, S> {
    #[inline]
    fn drop(&mut self) {
        if self.unwinding {
            // Still inside the span (entered for this poll): the completion line goes there.
            self.call.abandon(Outcome::Panic, true);
        }
        exit(self.call.span.borrow());
    }
}

/// Calls `f`: the expansion wraps a synchronous body in a closure so that `return` and `?`
/// come back through the guard, and names the return type here so that `?` and coercions
/// inside the body infer as in the original function. Not public API.
#[doc(hidden)]
#[inline]
pub fn invoke<R, F: FnOnce() -> R>(f: F) -> R {
    f()
}
