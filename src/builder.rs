use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use instrument_core::config::{Config, MetricsDestination, Settings};
use instrument_core::JsonLogLayer;
use tracing_core::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use crate::guard::{Flushers, Guard};
use crate::InitError;

type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

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
}

/// Starts configuring instrument in code; see [`Builder`].
pub fn builder() -> Builder {
    Builder {
        settings: Settings::default(),
        env: None,
        make_writer: io::stdout,
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
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.settings.service = Some(name.into());
        self
    }

    /// The CloudWatch metrics namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.settings.namespace = Some(namespace.into());
        self
    }

    /// The `environment` key on every line and the `environment` metric dimension.
    pub fn environment(mut self, name: impl Into<String>) -> Self {
        self.settings.environment = Some(name.into());
        self
    }

    /// Reads the environment name from this variable (e.g. a team's `PAVI_ENVIRONMENT`) when
    /// neither [`environment`](Self::environment) nor `INSTRUMENT_ENVIRONMENT` is set.
    pub fn environment_var(mut self, variable: impl Into<String>) -> Self {
        self.settings.environment_var = Some(variable.into());
        self
    }

    /// The log level (`"debug"`) or `EnvFilter` directives (`"info,hyper=warn"`). Overrides
    /// `INSTRUMENT_LOG_LEVEL`, `RUST_LOG` and `POWERTOOLS_LOG_LEVEL`; metrics never depend on it.
    pub fn log_level(mut self, directives: impl Into<String>) -> Self {
        self.settings.log_level = Some(directives.into());
        self
    }

    /// Adds `"location": "file:line"` to every line.
    pub fn log_location(mut self, on: bool) -> Self {
        self.settings.log_location = Some(on);
        self
    }

    /// Where metrics go.
    pub fn metrics(mut self, destination: MetricsDestination) -> Self {
        self.settings.metrics = Some(destination);
        self
    }

    /// How often long-running services flush metrics.
    pub fn metrics_flush_interval(mut self, interval: Duration) -> Self {
        self.settings.metrics_flush_interval = Some(interval);
        self
    }

    /// Turns PII redaction on or off.
    pub fn redact(mut self, on: bool) -> Self {
        self.settings.redact = Some(on);
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
        }
    }

    fn config(&self) -> Result<Config, InitError> {
        let config = match &self.env {
            Some(lookup) => Config::resolve(&self.settings, lookup)?,
            None => Config::from_env(&self.settings)?,
        };
        Ok(config)
    }

    /// Builds the subscriber without installing it, for `tracing::subscriber::with_default` in
    /// tests or for composing with other layers.
    ///
    /// ```
    /// let (subscriber, _guard) = instrument::builder().service("test").build().unwrap();
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
    /// ```
    pub fn build(self) -> Result<(impl Subscriber + Send + Sync + 'static, Guard), InitError> {
        let config = self.config()?;
        let make_writer = Arc::new(self.make_writer);
        let flush_writer = make_writer.clone();
        let layer = JsonLogLayer::from_config(&config)
            .with_writer(SharedWriter(make_writer))
            .with_filter(config.log_filter());
        let subscriber = tracing_subscriber::registry().with(layer);
        let flushers = Flushers(vec![Box::new(move || {
            let _ = flush_writer.make_writer().flush();
        })]);
        Ok((
            subscriber,
            Guard {
                flushers: Arc::new(flushers),
            },
        ))
    }

    /// Installs instrument as the process's global subscriber, bridges `log` records into it and
    /// logs panics; returns the guard that flushes on drop.
    pub fn install(self) -> Result<Guard, InitError> {
        let (subscriber, guard) = self.build()?;
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| InitError::AlreadyInstalled)?;
        if tracing_log::LogTracer::init().is_err() {
            tracing::warn!(
                target: "instrument",
                "a `log` logger was already installed: records of the `log` crate will not \
                 become JSON lines"
            );
        }
        crate::panic_hook::install(guard.flushers.clone());
        Ok(guard)
    }
}

/// Shares one `MakeWriter` between the layer and the guard that flushes it.
struct SharedWriter<W>(Arc<W>);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for SharedWriter<W> {
    type Writer = W::Writer;

    fn make_writer(&'a self) -> Self::Writer {
        self.0.make_writer()
    }

    fn make_writer_for(&'a self, meta: &tracing_core::Metadata<'_>) -> Self::Writer {
        self.0.make_writer_for(meta)
    }
}
