//! The log layer's per-layer filter.
//!
//! Levels filter *lines*, not *context*: a span that carries request context (`correlation_id`,
//! the Lambda invocation span, …) is always seen by the log layer, so a `WARN` line inside an
//! `INFO` span still carries its request ID when the level is `warn`. Every other span and event
//! goes through the `EnvFilter` directives and the `AWS_LAMBDA_LOG_LEVEL` cap.
//!
//! With per-invocation sampling or buffering on ([`LogFilter::with_invocation_level`]), events
//! the directives reject but that are no more verbose than the invocation level (`INFO` lines
//! under `warn`, `DEBUG` lines under `info`, …) pass too, *marked* as such, and the log layer writes, buffers or drops them per
//! invocation.

use std::cell::Cell;

use tracing_core::{subscriber::Interest, Event, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// Directives plus a level cap, letting context spans through at any level.
///
/// ```
/// use instrument_core::filter::LogFilter;
/// use tracing_subscriber::{EnvFilter, filter::LevelFilter};
/// let filter = LogFilter::new(EnvFilter::new("info,hyper=warn"), LevelFilter::TRACE);
/// # let _ = filter;
/// ```
#[derive(Debug)]
pub struct LogFilter {
    directives: Directives,
    cap: LevelFilter,
    most_verbose: LevelFilter,
    /// Events the directives reject pass up to this level, marked (`OFF`: none).
    invocation: LevelFilter,
}

thread_local! {
    /// The callsite of the event being dispatched on this thread, when this filter let it
    /// through only for per-invocation sampling or buffering (0: none). Set in `enabled`, taken
    /// by the log layer in `on_event`; keyed by callsite so a stale mark can never apply to
    /// another event.
    static MARKED: Cell<usize> = const { Cell::new(0) };
}

fn callsite_key(meta: &Metadata<'_>) -> usize {
    meta as *const Metadata<'_> as *const () as usize
}

/// Whether the filter let this event through only for per-invocation sampling or buffering
/// (clears the mark).
#[inline]
pub(crate) fn take_invocation_mark(meta: &Metadata<'_>) -> bool {
    let key = callsite_key(meta);
    MARKED
        .try_with(|m| {
            if m.get() == key {
                m.set(0);
                true
            } else {
                false
            }
        })
        .unwrap_or(false)
}

/// What decides a line: one level for everything (the usual `info`, nothing to parse or
/// match per target), or `EnvFilter` directives.
#[derive(Debug)]
enum Directives {
    Level(LevelFilter),
    // Boxed: an `EnvFilter` is over a kilobyte, and the filter is moved several times while a
    // subscriber is assembled.
    Env(Box<EnvFilter>),
}

impl LogFilter {
    /// `directives`, with nothing more verbose than `cap` let through.
    pub fn new(directives: EnvFilter, cap: LevelFilter) -> Self {
        let hint =
            tracing_subscriber::Layer::<tracing_subscriber::Registry>::max_level_hint(&directives)
                .unwrap_or(LevelFilter::TRACE);
        LogFilter {
            directives: Directives::Env(Box::new(directives)),
            cap,
            most_verbose: hint.min(cap),
            invocation: LevelFilter::OFF,
        }
    }

    /// Lines at `level` or less verbose, for every target, with nothing more verbose than
    /// `cap` let through: what `EnvFilter::new("info")` does, without building one.
    ///
    /// ```
    /// use instrument_core::filter::LogFilter;
    /// use tracing_subscriber::filter::LevelFilter;
    /// let filter = LogFilter::level(LevelFilter::INFO, LevelFilter::TRACE);
    /// assert_eq!(filter.most_verbose(), LevelFilter::INFO);
    /// ```
    pub fn level(level: LevelFilter, cap: LevelFilter) -> Self {
        LogFilter {
            directives: Directives::Level(level),
            cap,
            most_verbose: level.min(cap),
            invocation: LevelFilter::OFF,
        }
    }

    /// Also lets through events down to `level` that the directives reject, for the log layer
    /// to write, buffer or drop per Lambda invocation (sampling, buffering). Still capped.
    pub fn with_invocation_level(mut self, level: LevelFilter) -> Self {
        self.invocation = level.min(self.cap);
        self
    }

    /// The most verbose level a line can have (e.g. to set the `log` crate's maximum).
    pub fn most_verbose(&self) -> LevelFilter {
        self.most_verbose.max(self.invocation)
    }

    /// Whether an event at this level is one that sampling or buffering may want when the
    /// directives reject it: every level down to the invocation level. With `warn` and
    /// buffering down to `debug`, the `INFO` and `DEBUG` lines are both buffered; a target a
    /// directive quiets (`hyper=warn`) is no exception, as its lines are context of a failure
    /// like any other.
    fn marks(&self, meta: &Metadata<'_>) -> bool {
        self.invocation >= *meta.level()
    }

    fn base_enabled<S>(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.cap >= *meta.level()
            && match &self.directives {
                Directives::Level(level) => level >= meta.level(),
                Directives::Env(env) => Filter::<S>::enabled(&**env, meta, cx),
            }
    }
}

/// Whether a span callsite carries request context the log lines inside it need.
pub(crate) fn is_context_span(meta: &Metadata<'_>) -> bool {
    crate::callsite::schema(meta).context
}

impl<S> Filter<S> for LogFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if is_context_span(meta) {
            return true;
        }
        let base = self.base_enabled(meta, cx);
        if self.invocation == LevelFilter::OFF || !meta.is_event() {
            return base;
        }
        let key = callsite_key(meta);
        let marked = !base && self.marks(meta);
        let _ = MARKED.try_with(|m| {
            if marked {
                m.set(key);
            } else if m.get() == key {
                m.set(0);
            }
        });
        base || marked
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_context_span(meta) {
            return Interest::always();
        }
        let base = if self.cap < *meta.level() {
            Interest::never()
        } else {
            match &self.directives {
                Directives::Level(level) if level >= meta.level() => Interest::always(),
                Directives::Level(_) => Interest::never(),
                Directives::Env(env) => Filter::<S>::callsite_enabled(&**env, meta),
            }
        };
        if base.is_always() || !meta.is_event() || !self.marks(meta) {
            return base;
        }
        // Decided per event, so that `enabled` can mark the events let through only for
        // per-invocation sampling or buffering.
        Interest::sometimes()
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        let meta = event.metadata();
        let marked = MARKED.try_with(|m| m.get() == callsite_key(meta)) == Ok(true);
        marked
            || match &self.directives {
                Directives::Level(_) => true,
                Directives::Env(env) => Filter::<S>::event_enabled(&**env, event, cx),
            }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // Context spans pass at any level, so no global hint may hide them, unless no line is
        // ever written: then their context is needed by nothing, and `OFF` lets every disabled
        // callsite (with metrics off too) cost one comparison.
        (self.most_verbose() == LevelFilter::OFF).then_some(LevelFilter::OFF)
    }

    fn on_new_span(
        &self,
        attrs: &tracing_core::span::Attributes<'_>,
        id: &tracing_core::span::Id,
        ctx: Context<'_, S>,
    ) {
        if let Directives::Env(env) = &self.directives {
            Filter::<S>::on_new_span(&**env, attrs, id, ctx)
        }
    }

    fn on_record(
        &self,
        id: &tracing_core::span::Id,
        values: &tracing_core::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        if let Directives::Env(env) = &self.directives {
            Filter::<S>::on_record(&**env, id, values, ctx)
        }
    }

    fn on_enter(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
        if let Directives::Env(env) = &self.directives {
            Filter::<S>::on_enter(&**env, id, ctx)
        }
    }

    fn on_exit(&self, id: &tracing_core::span::Id, ctx: Context<'_, S>) {
        if let Directives::Env(env) = &self.directives {
            Filter::<S>::on_exit(&**env, id, ctx)
        }
    }

    fn on_close(&self, id: tracing_core::span::Id, ctx: Context<'_, S>) {
        if let Directives::Env(env) = &self.directives {
            Filter::<S>::on_close(&**env, id, ctx)
        }
    }
}
