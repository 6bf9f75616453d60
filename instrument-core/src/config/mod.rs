//! Configuration: code settings, `INSTRUMENT_*` variables, Powertools names, Lambda's own variables.
//!
//! Every setting is declared once, in [`table`]: its name, its variables in precedence order,
//! its parser, what it accepts, its default and what it does. [`Config::resolve`] resolves all
//! of them once; the error messages, the layers' sections ([`LambdaLayerConfig`],
//! [`HttpLayerConfig`], [`RedactionConfig`]) and the table below come from those declarations.
//!
//! Precedence, highest first: code ([`Settings`]) › `INSTRUMENT_*` › `RUST_LOG` (log filter only) ›
//! Powertools names (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`) ›
//! defaults. `AWS_LAMBDA_LOG_LEVEL`, set by Lambda's advanced logging controls, *caps* the log level:
//! Lambda drops lines below it anyway, so they are not even formatted. Empty variables count as
//! unset.
//!
//! Every value is validated; a bad one is a [`ConfigError`] that names the variable (or the builder
//! setting), the value, and what would have been accepted.
//!
//! # Settings
//!
#![doc = include_str!("settings.md")]

use std::borrow::Cow;
use std::time::Duration;

use tracing_core::LevelFilter;
use tracing_subscriber::EnvFilter;

use crate::lambda::LambdaEnvironment;

pub mod docs;
mod error;
pub mod parse;
mod sections;
mod setting;
pub mod table;
#[cfg(test)]
mod tests;

pub use error::{ConfigError, Rejection, Source};
pub use sections::{HttpLayerConfig, LambdaLayerConfig, RedactionConfig, TracesConfig};
pub use setting::{Declaration, Section, Setting, Value, Variable};

/// Where metrics go (`INSTRUMENT_METRICS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetricsDestination {
    /// EMF documents on stdout (the Lambda default).
    #[default]
    Stdout,
    /// The CloudWatch agent at `AWS_EMF_AGENT_ENDPOINT`.
    Agent,
    /// The PutMetricData API (cargo feature `cloudwatch-api`).
    Cloudwatch,
    /// No metrics.
    Off,
}

/// What code sets through the builder. Every field left `None` falls back to the environment;
/// each is declared, with its variables, in [`table`].
///
/// ```
/// use instrument_core::config::{table, Config, Settings};
/// let mut settings = Settings::default();
/// settings.service = Some("booking".into());
/// table::LOG_LOCATION.set(&mut settings, true);
/// let config = Config::resolve(&settings, |_| None).unwrap();
/// assert_eq!(config.service.as_deref(), Some("booking"));
/// assert!(config.log_location);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Settings {
    /// [`table::SERVICE`].
    pub service: Option<String>,
    /// [`table::NAMESPACE`].
    pub namespace: Option<String>,
    /// [`table::ENVIRONMENT`].
    pub environment: Option<String>,
    /// [`table::ENVIRONMENT_VAR`].
    pub environment_var: Option<String>,
    /// [`table::LOG_LEVEL`].
    pub log_level: Option<String>,
    /// [`table::LOG_LOCATION`].
    pub log_location: Option<bool>,
    /// [`table::METRICS`].
    pub metrics: Option<MetricsDestination>,
    /// [`table::METRICS_FLUSH_INTERVAL`].
    pub metrics_flush_interval: Option<Duration>,
    /// [`table::REDACT`].
    pub redact: Option<bool>,
    /// [`table::LOG_SAMPLE_RATE`].
    pub log_sample_rate: Option<f64>,
    /// [`table::LOG_BUFFER`].
    pub log_buffer: Option<bool>,
    /// [`table::LOG_BUFFER_MAX_BYTES`].
    pub log_buffer_max_bytes: Option<usize>,
    /// [`table::LOG_BUFFER_LEVEL`].
    pub log_buffer_level: Option<LevelFilter>,
    /// [`table::AGENT_ENDPOINT`].
    pub agent_endpoint: Option<String>,
    /// [`table::FLUSH_ON_SIGTERM`].
    pub flush_on_sigterm: Option<bool>,
    /// [`table::HTTP_CLIENT_ERRORS`].
    pub http_client_errors: Option<bool>,
    /// [`table::TRACES`].
    pub traces: Option<bool>,
    /// [`table::TRACE_SAMPLE_RATE`].
    pub trace_sample_rate: Option<f64>,
    /// [`table::TRACE_ENDPOINT`].
    pub trace_endpoint: Option<String>,
    /// [`table::DIMENSIONS`].
    pub dimensions: Option<Vec<String>>,
    /// [`table::DEFAULT_DIMENSIONS`].
    pub default_dimensions: Option<Vec<String>>,
    /// [`table::COLD_START_DIMENSIONS`].
    pub cold_start_dimensions: Option<String>,
    /// [`table::LOG_METRIC_EVENTS`].
    pub log_metric_events: Option<bool>,
    /// [`table::ROLLUPS`].
    pub rollups: Option<Vec<String>>,
}

/// Per-invocation log buffering: lines more verbose than the log level, down to `level`, are
/// kept in the invocation's buffer and written only if the invocation logs an error, returns
/// an error or panics (see [`crate::buffer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogBuffering {
    /// The most bytes of buffered lines per invocation; the oldest lines are evicted first.
    pub max_bytes: usize,
    /// The most verbose level buffered (`DEBUG` by default).
    pub level: LevelFilter,
}

impl LogBuffering {
    /// The default bound: 20 KiB per invocation, as in Powertools.
    pub const DEFAULT_MAX_BYTES: usize = 20 * 1024;
}

/// The resolved configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Service name, if configured.
    pub service: Option<String>,
    /// Metrics namespace, if configured.
    pub namespace: Option<String>,
    /// Environment name, if configured.
    pub environment: Option<String>,
    /// Log filter directives in `EnvFilter` syntax (already validated).
    pub log_directives: Cow<'static, str>,
    /// Where `log_directives` came from.
    pub log_directives_source: Source,
    /// The cap `AWS_LAMBDA_LOG_LEVEL` puts on the log level, if set.
    pub lambda_log_cap: Option<LevelFilter>,
    /// Whether lines carry `location`.
    pub log_location: bool,
    /// Where metrics go.
    pub metrics: MetricsDestination,
    /// How often metrics are flushed by long-running services.
    pub metrics_flush_interval: Duration,
    /// Whether PII redaction is on.
    pub redact: bool,
    /// The CloudWatch agent endpoint (`AWS_EMF_AGENT_ENDPOINT`).
    pub agent_endpoint: Cow<'static, str>,
    /// Lambda's environment, when running in Lambda (`AWS_LAMBDA_FUNCTION_NAME` set).
    pub lambda: Option<LambdaEnvironment>,
    /// The share of invocations that log at `DEBUG` (`INSTRUMENT_LOG_SAMPLE_RATE`), 0 to 1.
    pub log_sample_rate: f64,
    /// Per-invocation buffering of verbose lines (`INSTRUMENT_LOG_BUFFER`), if on.
    pub log_buffer: Option<LogBuffering>,
    /// Whether `SIGTERM` flushes before the process ends (`INSTRUMENT_FLUSH_ON_SIGTERM`).
    pub flush_on_sigterm: bool,
    /// The dimensions of every metric, as (published key, value): `service`, `environment`
    /// and the custom dimensions ([`table::DIMENSIONS`]), chosen and renamed by
    /// [`table::DEFAULT_DIMENSIONS`].
    pub metric_dimensions: Vec<(String, String)>,
    /// The `ColdStart` metric's dimensions besides `function_name` (as (key, value)), or
    /// `None` for every default dimension ([`table::COLD_START_DIMENSIONS`] `all`).
    pub cold_start_dimensions: Option<Vec<(String, String)>>,
    /// Whether an event with only metric fields and no message writes a line
    /// ([`table::LOG_METRIC_EVENTS`]).
    pub log_metric_events: bool,
    /// The rollup dimension sets, by name ([`table::ROLLUPS`]).
    pub rollups: Vec<Vec<String>>,
    /// What the environment adds to the redaction rules.
    pub redaction: RedactionConfig,
    /// The Lambda layer's section.
    pub lambda_layer: LambdaLayerConfig,
    /// The HTTP layer's section.
    pub http_layer: HttpLayerConfig,
    /// The traces' section (feature `otel` of `instrument`).
    pub traces: TracesConfig,
}

impl Config {
    /// Resolves the configuration from the process environment.
    pub fn from_env(settings: &Settings) -> Result<Config, ConfigError> {
        Config::resolve(settings, |name| std::env::var(name).ok())
    }

    /// Resolves the configuration with `env` as the environment (testable without touching the
    /// process environment).
    pub fn resolve(
        settings: &Settings,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        use table::*;
        let env: &dyn Fn(&str) -> Option<String> = &env;
        // Empty variables count as unset, as in most shells' `${VAR:-default}` idiom.
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());

        let service = SERVICE.value(settings, env)?;
        let namespace = NAMESPACE.value(settings, env)?;
        let environment_var = ENVIRONMENT_VAR.value(settings, env)?;
        let environment = match ENVIRONMENT.value(settings, env)? {
            Some(e) => Some(e),
            None => environment_var.and_then(|name| var(&name)),
        };

        let (log_directives_source, log_directives) = match LOG_LEVEL.find(settings, env)? {
            Some((source, directives)) => (source, Cow::Owned(directives)),
            None => (
                Source::Code("default"),
                Cow::Owned(LOG_LEVEL.default_value().unwrap_or_default()),
            ),
        };
        let lambda_log_cap = LAMBDA_LOG_LEVEL.value(settings, env)?;
        let log_location = LOG_LOCATION.value(settings, env)?.unwrap_or_default();
        let redact = REDACT.value(settings, env)?.unwrap_or_default();
        let metrics = METRICS.value(settings, env)?.unwrap_or_default();
        let metrics_flush_interval = METRICS_FLUSH_INTERVAL
            .value(settings, env)?
            .unwrap_or_default();
        let log_sample_rate = LOG_SAMPLE_RATE.value(settings, env)?.unwrap_or_default();

        let buffering = LOG_BUFFER.value(settings, env)?.unwrap_or_default();
        let max_bytes = LOG_BUFFER_MAX_BYTES.value(settings, env)?;
        let level = LOG_BUFFER_LEVEL.value(settings, env)?;
        let log_buffer = match (buffering, max_bytes, level) {
            (true, Some(max_bytes), Some(level)) => Some(LogBuffering { max_bytes, level }),
            _ => None,
        };
        let agent_endpoint = Cow::Owned(AGENT_ENDPOINT.value(settings, env)?.unwrap_or_default());
        let flush_on_sigterm = FLUSH_ON_SIGTERM.value(settings, env)?.unwrap_or_default();
        let (metric_dimensions, service_key) =
            metric_dimensions(settings, env, service.as_deref(), environment.as_deref())?;
        let cold_start_dimensions = match COLD_START_DIMENSIONS
            .value(settings, env)?
            .unwrap_or_default()
            .as_str()
        {
            "all" => None,
            // Powertools: `function_name` and `service` (under the key the service is
            // published under).
            _ => Some(
                service
                    .iter()
                    .map(|s| (service_key.clone(), s.clone()))
                    .collect(),
            ),
        };
        let log_metric_events = LOG_METRIC_EVENTS.value(settings, env)?.unwrap_or_default();
        let rollups = ROLLUPS
            .value(settings, env)?
            .unwrap_or_default()
            .iter()
            .map(|set| {
                set.split(',')
                    .filter(|n| !n.is_empty())
                    .map(String::from)
                    .collect()
            })
            .collect();

        Ok(Config {
            service,
            namespace,
            environment,
            log_directives,
            log_directives_source,
            lambda_log_cap,
            log_location,
            metrics,
            metrics_flush_interval,
            redact,
            agent_endpoint,
            lambda: LambdaEnvironment::from_lookup(&var),
            log_sample_rate,
            log_buffer,
            flush_on_sigterm,
            metric_dimensions,
            cold_start_dimensions,
            log_metric_events,
            rollups,
            redaction: RedactionConfig::resolve(settings, env)?,
            lambda_layer: LambdaLayerConfig::resolve(settings, env)?,
            http_layer: HttpLayerConfig::resolve(settings, env)?,
            traces: TracesConfig::resolve(settings, env)?,
        })
    }

    /// Builds the log filter: the directives, capped by `AWS_LAMBDA_LOG_LEVEL`.
    ///
    /// ```
    /// use instrument_core::config::{Config, Settings};
    /// let config = Config::resolve(&Settings::default(), |_| None).unwrap();
    /// assert_eq!(config.log_directives, "info");
    /// let _filter = config.log_filter();
    /// ```
    pub fn log_filter(&self) -> crate::filter::LogFilter {
        let cap = self.lambda_log_cap.unwrap_or(LevelFilter::TRACE);
        let invocation = self.invocation_log_level();
        if let Some(level) = parse::level_filter(&self.log_directives) {
            return crate::filter::LogFilter::level(level, cap).with_invocation_level(invocation);
        }
        let directives = EnvFilter::builder()
            .with_default_directive(LevelFilter::OFF.into())
            .parse_lossy(&self.log_directives);
        crate::filter::LogFilter::new(directives, cap).with_invocation_level(invocation)
    }

    /// The most verbose level that per-invocation sampling or buffering may need to see
    /// (`OFF` when neither is on): lines more verbose than the log level, down to this one,
    /// reach the log layer, which writes, buffers or drops them per invocation.
    pub fn invocation_log_level(&self) -> LevelFilter {
        let sampled = if self.log_sample_rate > 0.0 {
            LevelFilter::DEBUG
        } else {
            LevelFilter::OFF
        };
        let buffered = self.log_buffer.map_or(LevelFilter::OFF, |b| b.level);
        sampled.max(buffered)
    }
}

/// The dimensions of every metric as (published key, value), and the key `service` is published
/// under (`service` when it is not a default dimension).
fn metric_dimensions(
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
    service: Option<&str>,
    environment: Option<&str>,
) -> Result<(Vec<(String, String)>, String), ConfigError> {
    use table::{DEFAULT_DIMENSIONS, DIMENSIONS};
    let custom = DIMENSIONS.value(settings, env)?.unwrap_or_default();
    let mut available: Vec<(String, String)> = Vec::new();
    if let Some(service) = service {
        available.push((
            instrument_vocab::metric::SERVICE_DIMENSION.into(),
            service.into(),
        ));
    }
    if let Some(environment) = environment {
        available.push((
            instrument_vocab::metric::ENVIRONMENT_DIMENSION.into(),
            environment.into(),
        ));
    }
    for pair in &custom {
        if let Some((name, value)) = pair.split_once('=') {
            available.retain(|(n, _)| n != name);
            available.push((name.into(), value.into()));
        }
    }
    let Some((origin, chosen)) = DEFAULT_DIMENSIONS.find(settings, env)? else {
        let service_key = instrument_vocab::metric::SERVICE_DIMENSION.to_string();
        return Ok((available, service_key));
    };
    let mut dimensions = Vec::with_capacity(chosen.len());
    let mut service_key = instrument_vocab::metric::SERVICE_DIMENSION.to_string();
    for item in &chosen {
        let (source, published) = item.split_once(" as ").unwrap_or((item, item));
        let Some((_, value)) = available.iter().find(|(n, _)| n == source) else {
            return Err(ConfigError {
                origin: origin.clone(),
                value: chosen.join(","),
                expected: format!(
                    "dimensions that have a value: {source:?} has none (set it with \
                     INSTRUMENT_{}, or as a custom dimension in INSTRUMENT_DIMENSIONS)",
                    source.to_ascii_uppercase()
                ),
            });
        };
        if source == instrument_vocab::metric::SERVICE_DIMENSION {
            service_key = published.to_string();
        }
        dimensions.push((published.to_string(), value.clone()));
    }
    Ok((dimensions, service_key))
}
