//! # instrument
//!
//! Production observability for Rust services on AWS — Lambda, ECS, EC2 — in one line:
//!
//! ```no_run
//! let _guard = instrument::init(); // JSON logs and metrics on stdout, configured from the environment
//! tracing::info!(seats = 2, "reserved");
//! // dropping the guard (at the end of `main`) flushes
//! ```
//!
//! Every `tracing` event becomes one flat JSON line, ready for CloudWatch Logs Insights, with
//! `timestamp`, `level`, `message`, `target`, `service`, `environment`, the nearest
//! `correlation_id`, Lambda's request ID, X-Ray trace ID and cold-start flag inside invocations,
//! and every span and event field flattened (the full contract is in [`instrument_core`]'s docs).
//! `log`-crate records from dependencies become JSON lines too, and a panic is logged as one
//! `ERROR` line before the previous panic hook runs.
//!
//! ## Integrations
//!
//! * `instrument::lambda` (cargo feature `lambda`): a tower layer around a `lambda_runtime`
//!   handler — per-invocation context, correlation IDs from the event, deadline flush, log
//!   sampling and buffering, safe under Lambda's concurrent mode.
//! * `instrument::http` (cargo feature `http`): a tower layer for axum, hyper and other `http`
//!   services — correlation IDs in and out, the request span, per-route request metrics.
//! * [`correlation_id`] reads the current correlation ID wherever you are.
//!
//! ## Configuration
//!
//! Code first ([`builder`]), then the environment: precedence, highest first, is code ›
//! `INSTRUMENT_*` › `RUST_LOG` (log filter only) › Powertools names › defaults, and
//! `AWS_LAMBDA_LOG_LEVEL` caps the level. Empty variables count as unset. A bad value is a
//! [`ConfigError`] naming the variable, the value and what is accepted. Every setting is declared
//! once, in [`instrument_core::config::table`]; this table is rendered from those declarations. A
//! setting with a name in the first column can be set in code with [`Builder::setting`] and, for
//! most, a builder method of that name.
//!
#![doc = include_str!("settings.md")]
//!
//! ## Metrics destinations
//!
//! `INSTRUMENT_METRICS` (or [`Builder::metrics`]): `stdout` (EMF lines; Lambda extracts them),
//! `agent` (EMF to the CloudWatch agent, `AWS_EMF_AGENT_ENDPOINT`), `off`, and, with the cargo
//! feature `cloudwatch-api`, `cloudwatch`: aggregates straight to the CloudWatch API with
//! PutMetricData (see [`instrument_emf::cloudwatch`]), with region, credentials and endpoint from
//! the standard AWS configuration chain. The guard's drop delivers what is buffered within a
//! bounded wait.
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod exit_flush;
mod filter_state;
mod guard;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
mod panic_hook;
mod pipeline;
mod sigterm;
pub mod testing;

pub use builder::{builder, Builder};
pub use guard::Guard;
pub use instrument_core::config::{ConfigError, MetricsDestination, Source};
pub use instrument_core::tracked::{Classified, ErrorType, TrackOutcome};
pub use instrument_core::{self, JsonLogLayer};
pub use instrument_emf::{self, EmfLayer};
pub use instrument_macros::{objectives, track_performance, ErrorType};

/// The correlation ID of the current span (the nearest `correlation_id` field: the Lambda
/// invocation's, the HTTP request's, or your own), to pass on to the services you call.
///
/// ```
/// let capture = instrument::testing::Capture::new();
/// capture.run(|| {
///     let _span = tracing::info_span!("request", correlation_id = "c-1").entered();
///     assert_eq!(instrument::correlation_id().as_deref(), Some("c-1"));
/// });
/// ```
pub fn correlation_id() -> Option<String> {
    instrument_core::context::correlation_id()
}

/// Adds keys to every later log line of the current request or Lambda invocation, as
/// Powertools' `append_keys` does: set a `user_id` once, and each line after it carries it,
/// instrument's own lines included (tracked calls' completions, the Lambda deadline warning,
/// `lambda_runtime`'s failure line, the HTTP layer's request line).
///
/// The keys are kept on the request's span: the outermost span around the call that carries
/// request context (the Lambda invocation, the HTTP layer's request, any span with a
/// `correlation_id`), or else the current span. They go when that span closes, so nothing
/// leaks into the next request. The syntax is `tracing`'s field syntax (`name = value`,
/// `name = %display`, `name = ?debug`, dotted names); values are redacted like any field, and
/// a key appended again replaces its value. A field of the same name on an inner span or on
/// the event itself wins on that line. Outside every span there is nowhere to keep the keys,
/// and the call does nothing.
///
/// It is an event with target `instrument::append_keys` that instrument's log layer keeps
/// instead of writing (at any log level); a `tracing` layer of your own added next to
/// instrument's sees it as an `INFO` event of that target.
///
/// ```
/// let capture = instrument::testing::Capture::new();
/// capture.run(|| {
///     let request = tracing::info_span!("request", correlation_id = "c-1");
///     let _entered = request.enter();
///     let user = "u-42";
///     instrument::append_keys!(user_id = %user, plan = "pro");
///     tracing::info!("booked");
///     let _inner = tracing::info_span!("payment").entered();
///     tracing::info!(plan = "trial", "charged");
/// });
/// let lines = capture.logs();
/// assert_eq!(lines.len(), 2, "append_keys! writes no line of its own");
/// assert_eq!(lines[0]["user_id"], "u-42");
/// assert_eq!(lines[0]["plan"], "pro");
/// assert_eq!(lines[1]["user_id"], "u-42", "inner spans' lines carry them too");
/// assert_eq!(lines[1]["plan"], "trial", "the event's own field wins");
/// ```
#[macro_export]
macro_rules! append_keys {
    ($($fields:tt)+) => {
        $crate::__private::tracing::event!(
            target: $crate::__private::APPEND_KEYS_TARGET,
            $crate::__private::tracing::Level::INFO,
            $($fields)+
        )
    };
}

/// Flushes the metrics of the current subscriber (if it is instrument's) now: what the Lambda
/// layer does just before an invocation's deadline.
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub(crate) fn flush_metrics() {
    tracing::dispatcher::get_default(|dispatch| {
        if let Some(emf) = dispatch.downcast_ref::<EmfLayer>() {
            emf.handle().flush();
        }
    });
}

// The README's Rust snippets are compiled (and run, unless `no_run`) as doctests.
#[cfg(all(doctest, feature = "lambda", feature = "http", feature = "otel"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// PII redaction: the [`Redactor`](redact::Redactor) applied to every log line.
pub mod redact {
    pub use instrument_core::redact::*;
}

/// What `#[track_performance]` expands to refers to these paths. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use instrument_core::context::APPEND_KEYS_TARGET;
    pub use instrument_core::tracked::*;
    pub use tracing;
}

/// Why [`try_init`] or [`Builder::install`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A configuration value is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The CloudWatch agent endpoint cannot be used.
    #[error(transparent)]
    Agent(instrument_emf::AgentError),
    /// The PutMetricData sink cannot start (feature `cloudwatch-api`).
    #[cfg(feature = "cloudwatch-api")]
    #[error(transparent)]
    Cloudwatch(instrument_emf::cloudwatch::CloudwatchError),
    /// The PII redaction rules are invalid (a bad custom regex, an empty hash key, …).
    #[error("invalid PII redaction configuration: {0}")]
    Redact(instrument_core::redact::RedactError),
    /// The trace exporter cannot start (feature `otel`).
    #[cfg(feature = "otel")]
    #[error("traces cannot be exported: {0}")]
    Traces(String),
    /// A configured feature is not available in this build.
    #[error("{0}")]
    Unsupported(&'static str),
    /// Another global `tracing` subscriber is installed already.
    #[error(
        "a global tracing subscriber is already installed: instrument must be the only one \
         (call instrument::init() once, at the start of main, and remove other subscriber setups)"
    )]
    AlreadyInstalled,
}

/// Installs instrument for the whole process, configured from the environment, writing to stdout.
///
/// Keep the guard (`let _guard = instrument::init();`). If it is dropped early — `let _ =
/// instrument::init();` drops it on that line — nothing is lost: dropping it only flushes, and
/// the process's normal exit (returning from `main`, or `std::process::exit`) flushes the
/// metrics and lines left and shuts the pipeline down (Unix; `SIGTERM` is flushed too, see
/// [`Builder::flush_on_sigterm`]).
///
/// # Panics
///
/// With a clear message when the configuration is invalid (e.g. `INSTRUMENT_LOG_LEVEL=loud`) or
/// another global subscriber is installed. Use [`try_init`] to handle those as errors.
///
/// ```no_run
/// let guard = instrument::init();
/// tracing::info!("ready");
/// guard.flush();
/// ```
#[must_use = "dropping the guard flushes and is meant to happen at the end of main"]
pub fn init() -> Guard {
    match try_init() {
        Ok(guard) => guard,
        Err(err) => panic!("instrument::init() failed: {err}"),
    }
}

/// Like [`init`], with the failure as a typed error.
///
/// ```no_run
/// match instrument::try_init() {
///     Ok(_guard) => tracing::info!("ready"),
///     Err(err) => eprintln!("observability is off: {err}"),
/// }
/// ```
pub fn try_init() -> Result<Guard, InitError> {
    builder().install()
}
