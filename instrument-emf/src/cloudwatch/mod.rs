//! Metrics straight to the CloudWatch API: the PutMetricData sink (feature `cloudwatch-api`).
//!
//! For services that run where neither Lambda's log extraction nor the CloudWatch agent is
//! available. [`CloudwatchExporter`] is an [`Exporter`]: the layer hands it each flush's aggregates
//! (no EMF is encoded or parsed), it turns them into PutMetricData datums and a background task
//! sends them.
//!
//! * **Batching to the API's limits**: at most 1000 datums and 1 MB per request (the SDK
//!   gzip-compresses PutMetricData bodies of 10 KB and more), at most 150 distinct values per
//!   datum as `Values` + `Counts`, at most 30 dimensions. Distributions with more distinct values
//!   are compressed into value buckets with at most 1 % relative error and exact counts (see
//!   [`RELATIVE_ERROR`]), so CloudWatch's sample counts are exact and its percentiles within 1 %.
//! * **When**: a request goes out as soon as a batch is full, at every flush of the layer
//!   (its interval, 60 s by default), when the oldest buffered datum has waited
//!   [`max_delay`](CloudwatchOptions::max_delay), and at shutdown within a bounded wait.
//! * **Failures**: the SDK retries throttling, 5xx and transient errors with exponential backoff
//!   and jitter; a batch that still fails is requeued (with our own backoff and jitter) up to
//!   [`max_send_attempts`](CloudwatchOptions::max_send_attempts). The buffer is bounded. What
//!   has to be dropped is counted ([`CloudwatchStats::lost`]), reported once on stderr and as
//!   `instrument.dropped{reason=sink_failure}`. A datum CloudWatch rejects as invalid
//!   (`InvalidParameterValue`) is found by halving its request and dropped alone
//!   (`reason=rejected`); the rest of the request is delivered.
//! * **Where**: endpoint, region and credentials come from the standard AWS configuration chain
//!   (`aws-config`: environment, profiles, container and instance roles, `AWS_ENDPOINT_URL`),
//!   with [`endpoint`](CloudwatchOptions::endpoint) and [`region`](CloudwatchOptions::region)
//!   overrides for VPC endpoints and tests. To keep the build lean, aws-config's `sso` and
//!   `credentials-process` features are off; a service that needs them adds `aws-config` with
//!   those features to its own `Cargo.toml` (cargo unifies features), or hands a client of its
//!   own to [`CloudwatchExporter::with_client`].
//! * **After shutdown** the layer can no longer publish `instrument.dropped`: what shutdown's
//!   bounded wait could not deliver is counted in [`CloudwatchStats::lost`] and the layer's
//!   [`Dropped`] (`EmfHandle::dropped`), and reported once on stderr.
//!
//! ```no_run
//! use instrument_emf::cloudwatch::{CloudwatchOptions, CloudwatchExporter};
//! use instrument_emf::EmfLayer;
//! use tracing_subscriber::prelude::*;
//!
//! let sink = CloudwatchExporter::new(CloudwatchOptions::default()).expect("sender thread");
//! let layer = EmfLayer::with_exporter(sink)
//!     .namespace("Ticketing")
//!     .dimension("service", "booking")
//!     .flush_interval(std::time::Duration::from_secs(60))
//!     .build();
//! let handle = layer.inner().handle();
//! tracing_subscriber::registry().with(layer).init();
//! // … at the end of main: deliver what is buffered, within a bounded wait.
//! handle.shutdown();
//! ```

mod batch;
mod buckets;
mod client;
mod datum;
mod sender;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::checked::CheckedGroup;
use crate::dropped::{DropReason, Dropped};
use crate::export::Exporter;

/// The AWS SDK for CloudWatch this sink is built on, for [`CloudwatchExporter::with_client`].
pub use aws_sdk_cloudwatch as sdk;
pub use batch::{MAX_DATUMS_PER_REQUEST, MAX_REQUEST_BYTES};
pub use buckets::{MAX_VALUES_PER_DATUM, RELATIVE_ERROR};
pub use datum::{MAX_DIMENSIONS_PER_DATUM, MAX_DIMENSION_VALUE, MAX_MAGNITUDE, MAX_NAME};

/// Why a [`CloudwatchExporter`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CloudwatchError {
    /// The endpoint override is not an `http://` or `https://` URL.
    #[error(
        "invalid CloudWatch endpoint {0:?}: expected http://host[:port] or https://host[:port]"
    )]
    InvalidEndpoint(String),
    /// The sender's runtime or thread could not start.
    #[error("cannot start the CloudWatch sender: {0}")]
    Start(std::io::Error),
}

/// Tuning of a [`CloudwatchExporter`]; [`Default`] suits production.
///
/// ```
/// use std::time::Duration;
/// use instrument_emf::cloudwatch::CloudwatchOptions;
/// let options = CloudwatchOptions {
///     endpoint: Some("https://monitoring.eu-west-1.amazonaws.com".into()),
///     shutdown_timeout: Duration::from_secs(2),
///     ..CloudwatchOptions::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct CloudwatchOptions {
    /// Endpoint override (a VPC endpoint, a local test server); default: the AWS chain's
    /// (`AWS_ENDPOINT_URL_CLOUDWATCH`, `AWS_ENDPOINT_URL`, else the region's endpoint).
    pub endpoint: Option<String>,
    /// Region override; default: the AWS chain's (`AWS_REGION`, profile, instance metadata).
    pub region: Option<String>,
    /// Datums buffered at most (waiting or being retried); more are dropped and counted
    /// (default 100,000, about 100 full requests).
    pub max_buffered_datums: usize,
    /// The longest a datum waits in the buffer before it is sent even without a flush
    /// (default 60 s).
    pub max_delay: Duration,
    /// How long a flush waits for delivery (default 5 s).
    pub flush_timeout: Duration,
    /// How long shutdown keeps trying to deliver what is left; the rest is counted as lost
    /// (default 5 s).
    pub shutdown_timeout: Duration,
    /// Timeout of one HTTP attempt and of connecting (default 10 s).
    pub request_timeout: Duration,
    /// Attempts the SDK makes per request, its own retries included (default 3).
    pub sdk_max_attempts: u32,
    /// Times a batch is sent (each time with the SDK's retries) before it is dropped and
    /// counted (default 8).
    pub max_send_attempts: u32,
    /// First backoff after a failure, doubled per consecutive failure, with jitter
    /// (default 200 ms).
    pub initial_backoff: Duration,
    /// Longest backoff (default 20 s).
    pub max_backoff: Duration,
}

impl Default for CloudwatchOptions {
    fn default() -> Self {
        CloudwatchOptions {
            endpoint: None,
            region: None,
            max_buffered_datums: 100_000,
            max_delay: Duration::from_secs(60),
            flush_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            sdk_max_attempts: 3,
            max_send_attempts: 8,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
        }
    }
}

/// Counters shared by the sink, the task and the SDK interceptor.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) http_requests: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) requests_ok: AtomicU64,
    pub(crate) datums_sent: AtomicU64,
    pub(crate) requeued: AtomicU64,
    pub(crate) lost: AtomicU64,
    lost_unreported: AtomicU64,
    rejected: AtomicU64,
    rejected_unreported: AtomicU64,
    warned_lost: AtomicBool,
    warned_rejected: AtomicBool,
}

impl Counters {
    pub(crate) fn lose(&self, n: u64, why: &dyn std::fmt::Display) {
        if n == 0 {
            return;
        }
        self.lost.fetch_add(n, Ordering::Relaxed);
        self.lost_unreported.fetch_add(n, Ordering::Relaxed);
        if !self.warned_lost.swap(true, Ordering::Relaxed) {
            let _ = writeln!(
                std::io::stderr(),
                "instrument: {n} metric datum(s) could not be delivered to CloudWatch ({why}); \
                 losses are counted in the instrument.dropped metric (reason sink_failure)"
            );
        }
    }

    pub(crate) fn reject(&self, n: u64, why: &dyn std::fmt::Display) {
        self.rejected.fetch_add(n, Ordering::Relaxed);
        self.rejected_unreported.fetch_add(n, Ordering::Relaxed);
        if !self.warned_rejected.swap(true, Ordering::Relaxed) {
            let _ = writeln!(
                std::io::stderr(),
                "instrument: CloudWatch rejected a metric datum as invalid ({why}); it was \
                 dropped alone, counted in the instrument.dropped metric (reason rejected)"
            );
        }
    }
}

/// What a [`CloudwatchExporter`] has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloudwatchStats {
    /// HTTP requests sent, the SDK's retries included.
    pub http_requests: u64,
    /// Request body bytes sent, as transmitted (gzip-compressed when the SDK compressed).
    pub bytes_sent: u64,
    /// PutMetricData calls that succeeded.
    pub requests_ok: u64,
    /// Datums CloudWatch accepted.
    pub datums_sent: u64,
    /// Failed batches put back in the buffer for another attempt.
    pub requeued: u64,
    /// Datums dropped: buffer full, retries exhausted, permanent errors, shutdown deadline.
    pub lost: u64,
    /// Datums CloudWatch rejected as invalid (each dropped alone).
    pub rejected: u64,
    /// Datums waiting in the buffer now.
    pub buffered: u64,
}

/// Sends the layer's aggregates to CloudWatch with PutMetricData; see the
/// [module documentation](self).
///
/// ```no_run
/// use instrument_emf::cloudwatch::{CloudwatchOptions, CloudwatchExporter};
/// let sink = CloudwatchExporter::new(CloudwatchOptions {
///     endpoint: Some("http://127.0.0.1:4566".into()),
///     region: Some("us-east-1".into()),
///     ..CloudwatchOptions::default()
/// })
/// .unwrap();
/// assert_eq!(sink.stats().lost, 0);
/// ```
#[derive(Debug)]
pub struct CloudwatchExporter {
    queue: Arc<sender::Queue>,
    counters: Arc<Counters>,
    options: CloudwatchOptions,
    thread: Mutex<Option<JoinHandle<()>>>,
    namespace: Mutex<Option<Arc<str>>>,
}

/// The former name of [`CloudwatchExporter`] (it exports aggregates; it is not a [`Sink`] of
/// EMF documents).
///
/// [`Sink`]: crate::Sink
#[deprecated(since = "0.1.0", note = "renamed CloudwatchExporter")]
pub type CloudwatchSink = CloudwatchExporter;

impl CloudwatchExporter {
    /// Starts the sender; the client comes from the standard AWS configuration chain (loaded
    /// on the sender's thread, so this returns at once).
    pub fn new(options: CloudwatchOptions) -> Result<Self, CloudwatchError> {
        Self::start(None, options)
    }

    /// Starts the sender with the configuration of `client` (credentials, HTTP client, …);
    /// `options` still set the endpoint and region overrides, retries and timeouts.
    pub fn with_client(
        client: aws_sdk_cloudwatch::Client,
        options: CloudwatchOptions,
    ) -> Result<Self, CloudwatchError> {
        Self::start(Some(client), options)
    }

    fn start(
        client: Option<aws_sdk_cloudwatch::Client>,
        options: CloudwatchOptions,
    ) -> Result<Self, CloudwatchError> {
        if let Some(endpoint) = &options.endpoint {
            let rest = endpoint
                .strip_prefix("http://")
                .or_else(|| endpoint.strip_prefix("https://"));
            if rest.is_none_or(|host| host.is_empty() || host.starts_with('/')) {
                return Err(CloudwatchError::InvalidEndpoint(endpoint.clone()));
            }
        }
        let counters = Arc::new(Counters::default());
        let queue = Arc::new(sender::Queue::new(
            options.max_buffered_datums,
            batch::Limits::default(),
            counters.clone(),
        ));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(CloudwatchError::Start)?;
        let task_queue = queue.clone();
        let task_options = options.clone();
        let thread = std::thread::Builder::new()
            .name("instrument-cloudwatch".into())
            .spawn(move || {
                runtime.block_on(async {
                    let client =
                        client::build(client, &task_options, task_queue.counters.clone()).await;
                    sender::run(task_queue.clone(), client, task_options).await;
                });
                // Connections still open are closed without waiting for them.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(CloudwatchError::Start)?;
        Ok(CloudwatchExporter {
            queue,
            counters,
            options,
            thread: Mutex::new(Some(thread)),
            namespace: Mutex::new(None),
        })
    }

    /// What the sink has done so far.
    pub fn stats(&self) -> CloudwatchStats {
        let c = &self.counters;
        CloudwatchStats {
            http_requests: c.http_requests.load(Ordering::Relaxed),
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            requests_ok: c.requests_ok.load(Ordering::Relaxed),
            datums_sent: c.datums_sent.load(Ordering::Relaxed),
            requeued: c.requeued.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            buffered: self.queue.buffered() as u64,
        }
    }

    /// Sends everything buffered now; waits for delivery at most
    /// [`flush_timeout`](CloudwatchOptions::flush_timeout).
    pub fn flush_now(&self) {
        self.queue.flush(self.options.flush_timeout);
    }

    /// Delivers what is left within [`shutdown_timeout`](CloudwatchOptions::shutdown_timeout),
    /// counts the rest as lost and stops the sender. Later calls do nothing; datums exported
    /// afterwards are counted as lost.
    pub fn close(&self) {
        let stopped = self.queue.shutdown(self.options.shutdown_timeout);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let (true, Some(thread)) = (stopped, thread) {
            let _ = thread.join();
        }
    }

    fn namespace(&self, namespace: &str) -> Arc<str> {
        let mut cached = self.namespace.lock().unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some(ns) if &**ns == namespace => ns.clone(),
            _ => {
                let ns: Arc<str> = Arc::from(namespace);
                *cached = Some(ns.clone());
                ns
            }
        }
    }
}

impl Exporter for CloudwatchExporter {
    fn export(
        &self,
        namespace: &str,
        group: &CheckedGroup<'_>,
        timestamp_ms: u64,
        _dropped: &Dropped,
    ) {
        let namespace = self.namespace(namespace);
        let mut datums = Vec::with_capacity(group.metrics().len());
        datum::from_group(&namespace, group, timestamp_ms, &mut datums);
        self.queue.push(datums);
    }

    fn flush(&self) {
        self.flush_now();
    }

    fn shutdown(&self) {
        self.close();
    }

    fn take_dropped(&self, dropped: &Dropped) {
        let lost = self.counters.lost_unreported.swap(0, Ordering::Relaxed);
        if lost > 0 {
            dropped.add(DropReason::SinkFailure, lost);
        }
        let rejected = self.counters.rejected_unreported.swap(0, Ordering::Relaxed);
        if rejected > 0 {
            dropped.add(DropReason::Rejected, rejected);
        }
    }
}

impl Drop for CloudwatchExporter {
    fn drop(&mut self) {
        self.close();
    }
}
