use std::io;
use std::sync::Arc;
use std::time::Duration;

use instrument_core::config::{
    table, Config, ConfigError, MetricsDestination, Setting, Settings, Source, Value,
};
use instrument_core::redact::{RedactConfig, Redactor};
use instrument_core::JsonLogLayer;
use instrument_emf::{AgentSink, EmfLayer, Exporter, MakeWriterSink, MetricsFilter, Sink};
use tracing_core::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::guard::{Flushers, Guard};
use crate::InitError;

mod metric_shape;
mod outputs;
#[cfg(feature = "otel")]
mod traces;

use outputs::{stdout_closed, NullSink, SharedWriter};

type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The configuration [`Builder::install`] resolved for the process-wide pipeline.
static INSTALLED: std::sync::OnceLock<Config> = std::sync::OnceLock::new();

/// The configuration of the installed pipeline, if instrument is installed: the Lambda and HTTP
/// layers read their sections from it, so they see what `init`/`install` saw (through
/// [`Builder::env_lookup`] too) without resolving anything again.
#[cfg_attr(not(any(feature = "lambda", feature = "http")), allow(dead_code))]
pub(crate) fn installed_config() -> Option<&'static Config> {
    INSTALLED.get()
}

/// Configures instrument in code; anything not set here comes from the environment.
///
/// ```no_run
/// let _guard = instrument::builder()
///     .service("booking")
///     .namespace("Ticketing")
///     .environment("prod")
///     .install()
///     .expect("observability");
/// ```
#[must_use = "a builder does nothing until `install` or `build`"]
pub struct Builder<W = fn() -> io::Stdout> {
    settings: Settings,
    env: Option<EnvLookup>,
    make_writer: W,
    metrics_sink: Option<Arc<dyn Sink>>,
    redaction: Option<RedactConfig>,
    /// A setting code cannot set, given to [`setting`](Builder::setting): reported by `build`.
    refused: Option<ConfigError>,
    #[cfg(feature = "cloudwatch-api")]
    cloudwatch: instrument_emf::cloudwatch::CloudwatchOptions,
}

/// Where the EMF layer's flushes go.
enum MetricsOutput {
    Sink(Arc<dyn Sink>),
    #[cfg_attr(not(feature = "cloudwatch-api"), allow(dead_code))]
    Exporter(Arc<dyn Exporter>),
}

/// Starts configuring instrument in code; see [`Builder`].
pub fn builder() -> Builder {
    Builder {
        settings: Settings::default(),
        env: None,
        make_writer: io::stdout,
        metrics_sink: None,
        redaction: None,
        refused: None,
        #[cfg(feature = "cloudwatch-api")]
        cloudwatch: Default::default(),
    }
}

impl<W> std::fmt::Debug for Builder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<W> Builder<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    /// The `service` key on every line and the `service` metric dimension.
    pub fn service(self, name: impl Into<String>) -> Self {
        self.setting(&table::SERVICE, name.into())
    }

    /// The CloudWatch metrics namespace.
    pub fn namespace(self, namespace: impl Into<String>) -> Self {
        self.setting(&table::NAMESPACE, namespace.into())
    }

    /// The `environment` key on every line and the `environment` metric dimension.
    pub fn environment(self, name: impl Into<String>) -> Self {
        self.setting(&table::ENVIRONMENT, name.into())
    }

    /// Reads the environment name from this variable (e.g. a team's `PAVI_ENVIRONMENT`) when
    /// neither [`environment`](Self::environment) nor `INSTRUMENT_ENVIRONMENT` is set.
    pub fn environment_var(self, variable: impl Into<String>) -> Self {
        self.setting(&table::ENVIRONMENT_VAR, variable.into())
    }

    /// The log level (`"debug"`) or `EnvFilter` directives (`"info,hyper=warn"`). Overrides
    /// `INSTRUMENT_LOG_LEVEL`, `RUST_LOG` and `POWERTOOLS_LOG_LEVEL`; metrics never depend on it.
    pub fn log_level(self, directives: impl Into<String>) -> Self {
        self.setting(&table::LOG_LEVEL, directives.into())
    }

    /// Adds `"location": "file:line"` to every line.
    pub fn log_location(self, on: bool) -> Self {
        self.setting(&table::LOG_LOCATION, on)
    }

    /// Where metrics go.
    pub fn metrics(self, destination: MetricsDestination) -> Self {
        self.setting(&table::METRICS, destination)
    }

    /// How often long-running services flush metrics.
    pub fn metrics_flush_interval(self, interval: Duration) -> Self {
        self.setting(&table::METRICS_FLUSH_INTERVAL, interval)
    }

    /// Makes this share of Lambda invocations (0.0 to 1.0) log at `DEBUG` whatever the level
    /// (`INSTRUMENT_LOG_SAMPLE_RATE`), decided once per invocation.
    ///
    /// ```
    /// let (_subscriber, _guard) = instrument::builder().log_sample_rate(0.1).build().unwrap();
    /// ```
    pub fn log_sample_rate(self, rate: f64) -> Self {
        self.setting(&table::LOG_SAMPLE_RATE, rate)
    }

    /// Buffers each Lambda invocation's lines that the log level rejects, down to `DEBUG` (at
    /// most `max_bytes`, the oldest evicted first), and writes them only if the invocation
    /// logs an error, returns an error, panics or is about to time out
    /// (`INSTRUMENT_LOG_BUFFER=on`, `INSTRUMENT_LOG_BUFFER_MAX_BYTES`). With the level `warn`,
    /// a failing invocation's `INFO` and `DEBUG` lines are both written, in order;
    /// [`table::LOG_BUFFER_LEVEL`] sets how verbose a buffered line can be (`trace` to `warn`).
    /// Nothing is buffered outside invocations.
    ///
    /// ```
    /// let (_subscriber, _guard) = instrument::builder().log_buffer(20 * 1024).build().unwrap();
    /// ```
    pub fn log_buffer(self, max_bytes: usize) -> Self {
        self.setting(&table::LOG_BUFFER, true)
            .setting(&table::LOG_BUFFER_MAX_BYTES, max_bytes)
    }

    /// Turns PII redaction on or off.
    pub fn redact(self, on: bool) -> Self {
        self.setting(&table::REDACT, on)
    }

    /// Whether `SIGTERM` flushes metrics and log lines before the process ends (Unix; default
    /// on; `INSTRUMENT_FLUSH_ON_SIGTERM=off` in the environment). Only takes effect in
    /// [`install`](Self::install), and only if `SIGTERM` still has its default action then: the
    /// process ends as it would have, killed by the signal, with nothing lost. An application
    /// that handles `SIGTERM` itself (a graceful shutdown through `tokio::signal`, installed
    /// before or after) keeps running; instrument only flushes, and the guard flushes again when
    /// the application's shutdown drops it.
    ///
    /// ```no_run
    /// let _guard = instrument::builder().flush_on_sigterm(false).install().unwrap();
    /// ```
    pub fn flush_on_sigterm(self, on: bool) -> Self {
        self.setting(&table::FLUSH_ON_SIGTERM, on)
    }

    /// Sets any setting of [`instrument_core::config::table`] that code can set (those with a
    /// name in the first column of the README's configuration table), overriding its
    /// variables: the path every method above takes, and the one for settings without a
    /// method of their own. A setting only the environment sets (Lambda's own variables) makes
    /// `build`/`install` fail with an error that names it.
    ///
    /// ```
    /// use instrument::instrument_core::config::table;
    /// use tracing_core::LevelFilter;
    /// let (_subscriber, _guard) = instrument::builder()
    ///     .log_buffer(4096)
    ///     .setting(&table::LOG_BUFFER_LEVEL, LevelFilter::TRACE)
    ///     .env_lookup(|_| None)
    ///     .build()
    ///     .unwrap();
    /// let refused = instrument::builder()
    ///     .setting(&table::LAMBDA_FUNCTION_NAME, "booking".to_string())
    ///     .env_lookup(|_| None)
    ///     .build();
    /// assert!(refused.err().unwrap().to_string().contains("lambda_function_name"));
    /// ```
    pub fn setting<T: Value>(mut self, setting: &'static Setting<T>, value: T) -> Self {
        if !setting.set(&mut self.settings, value.clone()) && self.refused.is_none() {
            self.refused = Some(ConfigError {
                origin: Source::Code(setting.name),
                value: value.show(),
                expected: format!("no value from code: only {} sets it", setting.variable()),
            });
        }
        self
    }

    /// Reads "environment variables" through `lookup` instead of the process environment, so
    /// tests can configure instrument without mutating global state.
    ///
    /// ```
    /// let result = instrument::builder()
    ///     .env_lookup(|name| (name == "INSTRUMENT_LOG_LEVEL").then(|| "loud".to_string()))
    ///     .build();
    /// let err = result.err().unwrap();
    /// assert!(err.to_string().contains("INSTRUMENT_LOG_LEVEL"));
    /// ```
    pub fn env_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Some(Box::new(lookup));
        self
    }

    /// Writes log lines to `make_writer` (any `tracing_subscriber` `MakeWriter`) instead of stdout.
    pub fn writer<W2>(self, make_writer: W2) -> Builder<W2>
    where
        W2: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        Builder {
            settings: self.settings,
            env: self.env,
            make_writer,
            metrics_sink: self.metrics_sink,
            redaction: self.redaction,
            refused: self.refused,
            #[cfg(feature = "cloudwatch-api")]
            cloudwatch: self.cloudwatch,
        }
    }

    fn config(&self) -> Result<Config, InitError> {
        if let Some(refused) = &self.refused {
            return Err(refused.clone().into());
        }
        let config = match &self.env {
            Some(lookup) => Config::resolve(&self.settings, lookup)?,
            None => Config::from_env(&self.settings)?,
        };
        Ok(config)
    }

    /// The redactor, when redaction is on: the rules set in code (or the defaults), adjusted
    /// by what the configuration's redaction section adds (`INSTRUMENT_REDACT_HASH_KEY`,
    /// `INSTRUMENT_REDACT_DISABLE`, `INSTRUMENT_REDACT_KEYS`).
    fn redactor(&self, config: &Config) -> Result<Option<Arc<Redactor>>, InitError> {
        if !config.redact {
            return Ok(None);
        }
        // The default rules are compiled once per process and shared.
        static DEFAULT: std::sync::OnceLock<Arc<Redactor>> = std::sync::OnceLock::new();
        let shared = || {
            Ok(Some(
                DEFAULT
                    .get_or_init(|| Arc::new(Redactor::default()))
                    .clone(),
            ))
        };
        if self.redaction.is_none() && config.redaction.is_empty() {
            return shared();
        }
        let rules = self
            .redaction
            .clone()
            .unwrap_or_default()
            .with_environment(&config.redaction);
        if rules == RedactConfig::default() {
            return shared();
        }
        Ok(Some(Arc::new(
            Redactor::new(&rules).map_err(InitError::Redact)?,
        )))
    }

    /// PII redaction rules (which rules, which methods, custom rules, the hash key), instead of
    /// the defaults. Redaction itself is switched by [`redact`](Self::redact) /
    /// `INSTRUMENT_REDACT`.
    ///
    /// ```
    /// use instrument::redact::{Method, RedactConfig};
    /// let (_subscriber, _guard) = instrument::builder()
    ///     .redaction(RedactConfig::default().method("card", Method::Mask { keep: 4 }))
    ///     .env_lookup(|_| None)
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn redaction(mut self, rules: RedactConfig) -> Self {
        self.redaction = Some(rules);
        self
    }

    /// Sends EMF documents to `sink` instead of the destination `INSTRUMENT_METRICS` selects
    /// (stdout by default): a file, a socket, or an in-memory sink in tests.
    pub fn metrics_sink(mut self, sink: impl Sink) -> Self {
        self.metrics_sink = Some(Arc::new(sink));
        self
    }

    /// Sends metrics to this CloudWatch endpoint (a VPC endpoint, a local test server) when
    /// they go to the CloudWatch API (`INSTRUMENT_METRICS=cloudwatch` or
    /// [`metrics`](Self::metrics)`(MetricsDestination::Cloudwatch)`), instead of the endpoint
    /// the AWS configuration chain gives (`AWS_ENDPOINT_URL_CLOUDWATCH`, `AWS_ENDPOINT_URL`, else
    /// the region's).
    ///
    /// ```no_run
    /// use instrument::MetricsDestination;
    /// let _guard = instrument::builder()
    ///     .namespace("Ticketing")
    ///     .metrics(MetricsDestination::Cloudwatch)
    ///     .cloudwatch_endpoint("https://vpce-0abc.monitoring.eu-west-1.vpce.amazonaws.com")
    ///     .install()
    ///     .expect("observability");
    /// ```
    #[cfg(feature = "cloudwatch-api")]
    pub fn cloudwatch_endpoint(mut self, url: impl Into<String>) -> Self {
        self.cloudwatch.endpoint = Some(url.into());
        self
    }

    /// Every setting of the PutMetricData sink (endpoint, region, buffer bound, timeouts,
    /// retries), for when metrics go to the CloudWatch API. Replaces what was set before,
    /// [`cloudwatch_endpoint`](Self::cloudwatch_endpoint) included (call that one after).
    ///
    /// ```
    /// use std::time::Duration;
    /// use instrument::instrument_emf::cloudwatch::CloudwatchOptions;
    /// let builder = instrument::builder().cloudwatch_options(CloudwatchOptions {
    ///     shutdown_timeout: Duration::from_secs(2),
    ///     ..CloudwatchOptions::default()
    /// });
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "cloudwatch-api")]
    pub fn cloudwatch_options(
        mut self,
        options: instrument_emf::cloudwatch::CloudwatchOptions,
    ) -> Self {
        self.cloudwatch = options;
        self
    }

    /// Builds the subscriber without installing it, for composing with other layers
    /// (`subscriber.with(layer)`).
    ///
    /// Every tracked call opens its span at the start here, since a layer put on top must see
    /// every span. To run the pipeline exactly as [`install`](Builder::install) does (tracked
    /// calls that nothing observes record their metrics without opening a span), use
    /// [`build_dispatch`](Builder::build_dispatch).
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let (subscriber, _guard) = instrument::builder().service("test").build().unwrap();
    /// let subscriber = subscriber.with(tracing_subscriber::layer::Identity::new());
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
    /// ```
    pub fn build(self) -> Result<(impl Subscriber + Send + Sync + 'static, Guard), InitError> {
        let (subscriber, guard, _) = self.assemble()?;
        Ok((
            crate::pipeline::Pipeline::without_deferral(subscriber),
            guard,
        ))
    }

    /// Builds the complete pipeline as a [`Dispatch`](tracing::Dispatch) without installing
    /// it: what [`install`](Builder::install) installs globally, for
    /// `tracing::dispatcher::with_default` in tests and benchmarks.
    ///
    /// Synchronous tracked calls defer their span: when nothing inside the call logs, opens a
    /// span or looks at the current span, the call's metrics are recorded without the span ever
    /// being opened, several times faster; as soon as something would observe it, the span is
    /// opened exactly as it would have been at the start of the call. A `Dispatch` cannot be
    /// wrapped in further layers, which is what makes this sound; to compose with other layers,
    /// use [`build`](Builder::build).
    ///
    /// ```
    /// use instrument::track_performance;
    ///
    /// #[track_performance]
    /// fn reserve(seats: u32) -> Result<u32, std::io::Error> {
    ///     tracing::info!(seats, "reserving");
    ///     Ok(seats)
    /// }
    ///
    /// let (dispatch, _guard) = instrument::builder().service("test").build_dispatch().unwrap();
    /// tracing::dispatcher::with_default(&dispatch, || reserve(2)).unwrap();
    /// ```
    pub fn build_dispatch(self) -> Result<(tracing::Dispatch, Guard), InitError> {
        let (dispatch, guard, _) = self.assemble_dispatch()?;
        Ok((dispatch, guard))
    }

    /// [`build_dispatch`](Builder::build_dispatch), with the configuration it resolved.
    fn assemble_dispatch(self) -> Result<(tracing::Dispatch, Guard, Config), InitError> {
        let (subscriber, guard, config) = self.assemble()?;
        let metrics = guard.flushers.metrics.clone();
        #[cfg(feature = "otel")]
        let pipeline =
            crate::pipeline::Pipeline::new(subscriber, metrics, guard.flushers.tracing.clone());
        #[cfg(not(feature = "otel"))]
        let pipeline = crate::pipeline::Pipeline::new(subscriber, metrics);
        Ok((tracing::Dispatch::new(pipeline), guard, config))
    }

    /// The layers of [`build`](Builder::build).
    fn assemble(
        self,
    ) -> Result<
        (
            impl Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
            Guard,
            Config,
        ),
        InitError,
    > {
        // The tracked-call clock calibrates here (about a millisecond), not in the first call.
        instrument_core::tracked::calibrate_clock();
        let config = self.config()?;
        let redactor = self.redactor(&config)?;
        // How a tracked function returning an HTTP status ends: decided where the call ends,
        // before any subscriber sees it, so it is process-wide.
        #[cfg(feature = "http")]
        instrument_core::tracked::http::set_client_errors_fail(
            config.http_layer.client_errors_fail,
        );
        let make_writer = Arc::new(self.make_writer);
        let log_layer = JsonLogLayer::from_config(&config)
            .with_redactor(redactor.clone())
            .with_trace_ids(cfg!(feature = "otel") && config.traces.enabled);
        #[cfg(feature = "otel")]
        let (trace_layer, tracing) = traces::layer(&config, redactor.clone())?;
        let cold_start = log_layer.cold_start();
        let log_errors = log_layer.write_errors();
        if stdout_closed::<W>() {
            log_errors.mark_closed();
        }
        let log_layer = log_layer.with_writer(SharedWriter(make_writer.clone()));
        let log_filter = config.log_filter();

        let output: Option<MetricsOutput> =
            match (self.metrics_sink, config.metrics) {
                (_, MetricsDestination::Off) => None,
                (Some(sink), _) => Some(MetricsOutput::Sink(sink)),
                (None, MetricsDestination::Stdout) => {
                    // Through the log writer: EMF lines and log lines never interleave mid-line.
                    // Failures are counted as lost documents, apart from the log lines'.
                    let sink = MakeWriterSink::new(SharedWriter(make_writer.clone()));
                    if stdout_closed::<W>() {
                        sink.errors().mark_closed();
                    }
                    Some(MetricsOutput::Sink(Arc::new(sink)))
                }
                (None, MetricsDestination::Agent) => Some(MetricsOutput::Sink(Arc::new(
                    AgentSink::connect(&config.agent_endpoint).map_err(InitError::Agent)?,
                ))),
                #[cfg(feature = "cloudwatch-api")]
                (None, MetricsDestination::Cloudwatch) => Some(MetricsOutput::Exporter(Arc::new(
                    instrument_emf::cloudwatch::CloudwatchExporter::new(self.cloudwatch)
                        .map_err(InitError::Cloudwatch)?,
                ))),
                #[cfg(not(feature = "cloudwatch-api"))]
                (None, MetricsDestination::Cloudwatch) => return Err(InitError::Unsupported(
                    "INSTRUMENT_METRICS=cloudwatch needs the PutMetricData sink: build instrument \
                     with its cargo feature `cloudwatch-api`, or use stdout (Lambda) or agent \
                     (ECS/EC2)",
                )),
            };
        let mut metrics = None;
        let emf_layer = match output {
            Some(output) => {
                let emf = match output {
                    MetricsOutput::Sink(sink) => EmfLayer::builder_shared(sink),
                    MetricsOutput::Exporter(exporter) => EmfLayer::with_exporter(exporter),
                };
                let mut emf = emf
                    .redactor(redactor)
                    .lambda(config.lambda.clone())
                    .cold_start(cold_start);
                if let Some(namespace) = &config.namespace {
                    emf = emf.namespace(namespace.as_str());
                }
                for (name, value) in &config.metric_dimensions {
                    emf = emf.dimension(name.as_str(), value.as_str());
                }
                emf = emf
                    .cold_start_dimensions(config.cold_start_dimensions.clone())
                    .rollups(config.rollups.clone());
                // Lambda flushes at the end of each invocation; everything else on an interval.
                if config.lambda.is_none() {
                    emf = emf.flush_interval(config.metrics_flush_interval);
                }
                let layer = emf.build();
                metrics = Some(layer.inner().handle());
                layer
            }
            // Metrics off: a layer whose filter wants nothing, so a callsite the log filter
            // rejects stays disabled (an absent `Option` layer would enable every callsite).
            None => EmfLayer::builder(NullSink)
                .build_unfiltered()
                .with_filter(MetricsFilter::off()),
        };
        let max_level = log_filter.most_verbose();
        let log_layer = log_layer.with_filter(log_filter);
        let subscriber = tracing_subscriber::registry()
            .with(log_layer)
            .with(emf_layer);
        #[cfg(feature = "otel")]
        let subscriber = subscriber.with(trace_layer);
        let guard = Guard::new(Arc::new(Flushers {
            metrics,
            writer: make_writer,
            max_level,
            #[cfg(feature = "otel")]
            tracing,
        }));
        Ok((subscriber, guard, config))
    }

    /// Installs instrument as the process's global subscriber, bridges `log` records into it and
    /// logs panics; returns the guard that flushes on drop.
    pub fn install(self) -> Result<Guard, InitError> {
        let (dispatch, guard, config) = self.assemble_dispatch()?;
        tracing::dispatcher::set_global_default(dispatch)
            .map_err(|_| InitError::AlreadyInstalled)?;
        let config = INSTALLED.get_or_init(|| config);
        // Let `log` reject what the filter would drop anyway, before formatting anything.
        let log_level = match guard.flushers.max_level {
            tracing_core::LevelFilter::OFF => log::LevelFilter::Off,
            tracing_core::LevelFilter::ERROR => log::LevelFilter::Error,
            tracing_core::LevelFilter::WARN => log::LevelFilter::Warn,
            tracing_core::LevelFilter::INFO => log::LevelFilter::Info,
            tracing_core::LevelFilter::DEBUG => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        };
        if tracing_log::LogTracer::builder()
            .with_max_level(log_level)
            .init()
            .is_err()
        {
            tracing::warn!(
                target: "instrument",
                "a `log` logger was already installed: records of the `log` crate will not \
                 become JSON lines"
            );
        }
        // `metrics::counter!` and co. from any dependency into the same documents, unless the
        // application set its own recorder.
        #[cfg(feature = "metrics")]
        if let Some(recorder) = crate::metrics::Recorder::current() {
            let _ = ::metrics::set_global_recorder(recorder);
        }
        if crate::exit_flush::install(guard.flushers.clone()) {
            guard.leave_shutdown_to_exit();
        }
        crate::panic_hook::install(guard.flushers.clone());
        if config.flush_on_sigterm {
            crate::sigterm::install(Arc::downgrade(&guard.flushers));
        }
        Ok(guard)
    }
}
