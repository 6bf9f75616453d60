//! In-memory capture of logs and metrics for users' unit tests — what Python teams get by
//! mocking a metrics service, without a mock.
//!
//! ```
//! use instrument::testing::Capture;
//!
//! fn reserve(seats: u32) {
//!     let _span = tracing::info_span!("reserve", dimension.operation = "reserve").entered();
//!     tracing::info!(counter.seats_reserved = seats, "reserved");
//! }
//!
//! let capture = Capture::new();
//! capture.run(|| {
//!     reserve(2);
//!     reserve(3);
//! });
//! assert_eq!(capture.metric_sum("seats_reserved"), 5.0);
//! assert_eq!(capture.logs().len(), 2);
//! assert_eq!(capture.logs()[0]["message"], "reserved");
//! ```

use std::io;
use std::sync::{Arc, Mutex};

use instrument_emf::MemorySink;
use serde_json::Value;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;

use crate::{Builder, Guard};

/// Log lines kept in memory (a `MakeWriter`).
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    /// Everything written so far, as text.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

/// A complete instrument pipeline (log layer and EMF layer) writing into memory.
///
/// It ignores the process environment (so tests are deterministic), logs at `trace`, and
/// checks every EMF document against every CloudWatch rule: an invalid document fails the test
/// with the list of violations.
pub struct Capture {
    logs: LogBuffer,
    metrics: MemorySink,
    dispatch: Dispatch,
    guard: Guard,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").finish_non_exhaustive()
    }
}

impl Default for Capture {
    fn default() -> Self {
        Capture::new()
    }
}

impl Capture {
    /// A capture with default settings.
    pub fn new() -> Capture {
        Capture::with(|builder| builder)
    }

    /// A capture configured further, e.g. `Capture::with(|b| b.service("booking"))`.
    ///
    /// # Panics
    ///
    /// If the configuration is invalid.
    pub fn with(configure: impl FnOnce(Builder<LogBuffer>) -> Builder<LogBuffer>) -> Capture {
        let logs = LogBuffer::default();
        let metrics = MemorySink::default();
        let builder = crate::builder()
            .writer(logs.clone())
            .env_lookup(|_| None)
            .log_level("trace")
            .metrics_sink(metrics.clone());
        // The pipeline as `init()` installs it, deferred spans included.
        let (dispatch, guard) = configure(builder)
            .build_dispatch()
            .unwrap_or_else(|e| panic!("invalid Capture configuration: {e}"));
        Capture {
            logs,
            metrics,
            dispatch,
            guard,
        }
    }

    /// Runs `f` with this capture as the thread's subscriber.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// Makes this capture the thread's subscriber until the returned guard is dropped.
    ///
    /// It covers **this thread only**: what threads the test spawns, and the tasks a
    /// multi-thread tokio runtime runs on its workers, go to the global subscriber (none, in a
    /// test). For those, give the runtime [`on_thread_start`](Capture::on_thread_start), or
    /// make the capture the process's subscriber with
    /// [`set_global_default`](Capture::set_global_default) (for `#[tokio::test(flavor =
    /// "multi_thread")]`, whose runtime a test cannot configure).
    pub fn set_default(&self) -> tracing::subscriber::DefaultGuard {
        tracing::dispatcher::set_default(&self.dispatch)
    }

    /// A hook that makes this capture the subscriber of each thread it runs on, for the rest
    /// of that thread's life: for `tokio::runtime::Builder::on_thread_start`, so that the
    /// tasks a multi-thread runtime spawns, on any worker, are captured (or call it first
    /// thing in a thread you spawn).
    ///
    /// ```
    /// let capture = instrument::testing::Capture::new();
    /// let runtime = tokio::runtime::Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .on_thread_start(capture.on_thread_start())
    ///     .build()
    ///     .unwrap();
    /// runtime.block_on(async {
    ///     let tasks: Vec<_> = (0..4)
    ///         .map(|_| tokio::spawn(async { tracing::info!(counter.jobs = 1, "job") }))
    ///         .collect();
    ///     for task in tasks {
    ///         task.await.unwrap();
    ///     }
    /// });
    /// assert_eq!(capture.metric_sum("jobs"), 4.0);
    /// ```
    pub fn on_thread_start(&self) -> impl Fn() + Send + Sync + 'static {
        let dispatch = self.dispatch.clone();
        move || {
            // The thread keeps the capture as its default until it ends.
            std::mem::forget(tracing::dispatcher::set_default(&dispatch));
        }
    }

    /// Makes this capture the process's global subscriber: every thread without a subscriber
    /// of its own reports to it, for the rest of the process. A process has one global
    /// subscriber, set once: use it in a test binary with a single such test (a file under
    /// `tests/` of its own), e.g. around `#[tokio::test(flavor = "multi_thread")]`.
    ///
    /// # Errors
    ///
    /// When a global subscriber is set already ([`InitError::AlreadyInstalled`](crate::InitError)).
    pub fn set_global_default(&self) -> Result<(), crate::InitError> {
        tracing::dispatcher::set_global_default(self.dispatch.clone())
            .map_err(|_| crate::InitError::AlreadyInstalled)
    }

    /// The subscriber, e.g. to install in other threads with `tracing::dispatcher::with_default`.
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// Flushes buffered metrics into the capture (inside the capture's subscriber, so what the
    /// flush itself logs — warnings about dropped data — is captured too).
    pub fn flush(&self) {
        self.run(|| self.guard.flush());
    }

    /// Every log line so far, parsed.
    pub fn logs(&self) -> Vec<Value> {
        self.logs
            .contents()
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("invalid JSON log line {line:?}: {e}"))
            })
            .collect()
    }

    /// The EMF documents written so far, as written, without flushing.
    pub fn raw_metric_documents(&self) -> Vec<Vec<u8>> {
        self.metrics.documents()
    }

    /// Every EMF document so far (after a flush), parsed and validated.
    ///
    /// # Panics
    ///
    /// If a document breaks a CloudWatch rule, listing what is wrong.
    pub fn emf_documents(&self) -> Vec<Value> {
        self.flush();
        self.metrics
            .documents()
            .iter()
            .map(|doc| {
                let violations = instrument_emf::validate::document(doc);
                assert!(
                    violations.is_empty(),
                    "invalid EMF document {}: {violations:#?}",
                    String::from_utf8_lossy(doc)
                );
                serde_json::from_slice(doc).unwrap_or_else(|e| panic!("invalid EMF JSON: {e}"))
            })
            .collect()
    }

    /// Every value recorded for metric `name`, across documents (a counter's sum per flush
    /// window is one value).
    pub fn metric_values(&self, name: &str) -> Vec<f64> {
        let mut values = Vec::new();
        for doc in self.emf_documents() {
            let declared = doc["_aws"]["CloudWatchMetrics"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|d| d["Metrics"].as_array().into_iter().flatten())
                .any(|m| m["Name"] == name);
            if !declared {
                continue;
            }
            match &doc[name] {
                Value::Array(vs) => values.extend(vs.iter().filter_map(Value::as_f64)),
                v => values.extend(v.as_f64()),
            }
        }
        values
    }

    /// The sum of every value of metric `name`: for a counter, its total.
    pub fn metric_sum(&self, name: &str) -> f64 {
        self.metric_values(name).iter().sum()
    }
}
