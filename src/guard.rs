use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Returned by [`init`](crate::init); flushes buffered output when dropped.
///
/// Keep it alive for the life of the program (`let _guard = instrument::init();` at the top of
/// `main`). [`flush`](Guard::flush) flushes without giving it up, e.g. at the end of a Lambda
/// invocation.
///
/// With [`init`](crate::init) or [`Builder::install`](crate::Builder::install) nothing is lost
/// if the guard goes early (`let _ = instrument::init();` drops it at once): dropping it only
/// flushes, the pipeline keeps working, and the process's exit (returning from `main`, or
/// `std::process::exit`) flushes and shuts it down, on Unix. A pipeline from
/// [`Builder::build`](crate::Builder::build) is shut down when the last clone of its guard is
/// dropped.
#[must_use = "dropping the guard flushes and is meant to happen at the end of main"]
#[derive(Clone)]
pub struct Guard {
    pub(crate) flushers: Arc<Flushers>,
    /// Shared by the clones of one guard only (the panic hook and the SIGTERM handler hold
    /// `flushers`, never this): when the last clone goes, it shuts the pipeline down.
    _last: Arc<LastGuard>,
}

/// Shuts the pipeline down when the last clone of a [`Guard`] is dropped, unless the process's
/// exit does it (an installed pipeline, see [`crate::exit_flush`]): then it only flushes, and
/// the pipeline keeps working until the process ends however early the guard went.
struct LastGuard {
    flushers: Arc<Flushers>,
    exit_shuts_down: AtomicBool,
}

impl Drop for LastGuard {
    fn drop(&mut self) {
        if self.exit_shuts_down.load(Ordering::Acquire) {
            self.flushers.flush();
        } else {
            self.flushers.shutdown();
        }
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

/// Everything that buffers output and must be flushed at the end.
pub(crate) struct Flushers {
    /// The metrics layer, if metrics are on.
    pub(crate) metrics: Option<instrument_emf::EmfHandle>,
    /// The log writer (the same `Arc` the log layer writes through).
    pub(crate) writer: Arc<dyn FlushWriter>,
    /// The most verbose level the log filter lets through.
    pub(crate) max_level: tracing_core::LevelFilter,
    /// Traces, when exported (feature `otel`).
    #[cfg(feature = "otel")]
    pub(crate) tracing: Option<crate::otel::Tracing>,
}

impl Flushers {
    /// Flushes metrics, then the log writer (metrics may go through it).
    pub(crate) fn flush(&self) {
        if let Some(metrics) = &self.metrics {
            metrics.flush();
        }
        #[cfg(feature = "otel")]
        if let Some(tracing) = &self.tracing {
            tracing.traces.flush();
        }
        self.writer.flush_writer();
    }

    /// Flushes the log writer only.
    pub(crate) fn flush_logs(&self) {
        self.writer.flush_writer();
    }

    /// Stops the metrics interval flush, then flushes everything.
    pub(crate) fn shutdown(&self) {
        if let Some(metrics) = &self.metrics {
            metrics.shutdown();
        }
        #[cfg(feature = "otel")]
        if let Some(tracing) = &self.tracing {
            tracing.traces.shutdown();
        }
        self.writer.flush_writer();
    }
}

/// A `MakeWriter` whose writers can be flushed from the guard.
pub(crate) trait FlushWriter: Send + Sync {
    fn flush_writer(&self);
}

impl<W> FlushWriter for W
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync,
{
    fn flush_writer(&self) {
        let _ = std::io::Write::flush(&mut self.make_writer());
    }
}

impl Guard {
    /// The guard of a pipeline that buffers in `flushers`.
    pub(crate) fn new(flushers: Arc<Flushers>) -> Guard {
        Guard {
            _last: Arc::new(LastGuard {
                flushers: flushers.clone(),
                exit_shuts_down: AtomicBool::new(false),
            }),
            flushers,
        }
    }

    /// Leaves the final shutdown to the process's exit ([`crate::exit_flush`]): dropping the
    /// guard only flushes.
    pub(crate) fn leave_shutdown_to_exit(&self) {
        self._last.exit_shuts_down.store(true, Ordering::Release);
    }

    /// Flushes every buffered log line and metric now.
    ///
    /// ```
    /// let (_subscriber, guard) = instrument::builder().build().unwrap();
    /// guard.flush();
    /// ```
    pub fn flush(&self) {
        self.flushers.flush();
    }
}
