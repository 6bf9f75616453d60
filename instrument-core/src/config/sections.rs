//! The sections of the configuration that layers outside the core read: the Lambda layer's,
//! the HTTP layer's, and what the environment adds to the redaction rules. Each resolves only
//! its own settings, so a layer built on its own reports only its own bad values.

use std::time::Duration;

use super::table::{
    CORRELATION_HEADERS, CORRELATION_PATHS, HTTP_CLIENT_ERRORS, LAMBDA_FLUSH_MARGIN,
    LAMBDA_MEMORY_METRIC, REDACT_DISABLE, REDACT_HASH_KEY, REDACT_KEYS, TRACES, TRACE_ENDPOINT,
    TRACE_SAMPLE_RATE,
};
use super::{ConfigError, Settings};

/// The Lambda layer's section ([`CORRELATION_PATHS`], [`LAMBDA_FLUSH_MARGIN`]).
///
/// ```
/// use instrument_core::config::{LambdaLayerConfig, Settings};
/// use std::time::Duration;
/// let section = LambdaLayerConfig::resolve(&Settings::default(), &|name| {
///     (name == "INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS").then(|| "250".to_string())
/// })
/// .unwrap();
/// assert_eq!(section.flush_margin, Duration::from_millis(250));
/// assert_eq!(section.correlation_paths, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LambdaLayerConfig {
    /// Correlation paths and presets, as text; `None`: the layer's presets.
    pub correlation_paths: Option<Vec<String>>,
    /// How long before the deadline a still-running invocation flushes.
    pub flush_margin: Duration,
    /// Whether each invocation publishes the peak memory as a metric ([`LAMBDA_MEMORY_METRIC`]).
    pub memory_metric: bool,
}

impl LambdaLayerConfig {
    /// Resolves the section from `env`.
    pub fn resolve(
        settings: &Settings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(LambdaLayerConfig {
            correlation_paths: CORRELATION_PATHS.value(settings, env)?,
            flush_margin: LAMBDA_FLUSH_MARGIN
                .value(settings, env)?
                .unwrap_or_default(),
            memory_metric: LAMBDA_MEMORY_METRIC
                .value(settings, env)?
                .unwrap_or_default(),
        })
    }
}

impl Default for LambdaLayerConfig {
    fn default() -> Self {
        LambdaLayerConfig {
            correlation_paths: CORRELATION_PATHS.default_value(),
            flush_margin: LAMBDA_FLUSH_MARGIN.default_value().unwrap_or_default(),
            memory_metric: LAMBDA_MEMORY_METRIC.default_value().unwrap_or_default(),
        }
    }
}

/// The HTTP section ([`CORRELATION_HEADERS`], [`HTTP_CLIENT_ERRORS`]).
///
/// ```
/// use instrument_core::config::{HttpLayerConfig, Settings};
/// let section = HttpLayerConfig::resolve(&Settings::default(), &|_| None).unwrap();
/// assert_eq!(section.correlation_headers, ["x-correlation-id", "x-request-id", "traceparent"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpLayerConfig {
    /// The request headers that may carry the correlation ID (lower case), first present wins.
    pub correlation_headers: Vec<String>,
    /// Whether a tracked function returning a 4xx status fails ([`HTTP_CLIENT_ERRORS`]).
    pub client_errors_fail: bool,
}

impl HttpLayerConfig {
    /// Resolves the section from `env`.
    pub fn resolve(
        settings: &Settings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(HttpLayerConfig {
            correlation_headers: CORRELATION_HEADERS
                .value(settings, env)?
                .unwrap_or_default(),
            client_errors_fail: HTTP_CLIENT_ERRORS.value(settings, env)?.unwrap_or_default(),
        })
    }
}

impl Default for HttpLayerConfig {
    fn default() -> Self {
        HttpLayerConfig {
            correlation_headers: CORRELATION_HEADERS.default_value().unwrap_or_default(),
            client_errors_fail: HTTP_CLIENT_ERRORS.default_value().unwrap_or_default(),
        }
    }
}

/// What the environment adds to the redaction rules ([`REDACT_HASH_KEY`], [`REDACT_DISABLE`],
/// [`REDACT_KEYS`]); applied by `RedactConfig::with_environment`.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RedactionConfig {
    /// The hash key, if set.
    pub hash_key: Option<String>,
    /// Rule names to turn off.
    pub disable: Vec<String>,
    /// More key globs, as a key rule named `sensitive`.
    pub keys: Vec<String>,
}

impl std::fmt::Debug for RedactionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedactionConfig")
            .field("hash_key", &self.hash_key.as_ref().map(|_| "<set>"))
            .field("disable", &self.disable)
            .field("keys", &self.keys)
            .finish()
    }
}

impl RedactionConfig {
    /// Resolves the section from `env`.
    pub fn resolve(
        settings: &Settings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Ok(RedactionConfig {
            hash_key: REDACT_HASH_KEY.value(settings, env)?,
            disable: REDACT_DISABLE.value(settings, env)?.unwrap_or_default(),
            keys: REDACT_KEYS.value(settings, env)?.unwrap_or_default(),
        })
    }

    /// Whether the environment adds nothing.
    pub fn is_empty(&self) -> bool {
        self == &RedactionConfig::default()
    }
}

/// The traces' section ([`TRACES`], [`TRACE_SAMPLE_RATE`], [`TRACE_ENDPOINT`]), read by
/// `instrument`'s feature `otel`.
///
/// ```
/// use instrument_core::config::{Settings, TracesConfig};
/// let section = TracesConfig::resolve(&Settings::default(), &|name| match name {
///     "POWERTOOLS_TRACE_DISABLED" => Some("true".to_string()),
///     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://collector:4318".to_string()),
///     _ => None,
/// })
/// .unwrap();
/// assert!(!section.enabled, "Powertools' switch wins over the endpoint");
/// assert_eq!(section.sample_rate, 0.05);
/// assert_eq!(section.endpoint, "http://collector:4318/v1/traces");
/// let unset = TracesConfig::resolve(&Settings::default(), &|_| None).unwrap();
/// assert!(!unset.enabled, "no endpoint configured: off");
/// assert_eq!(unset.endpoint, TracesConfig::DEFAULT_ENDPOINT);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TracesConfig {
    /// Whether spans are exported ([`TRACES`]).
    pub enabled: bool,
    /// The share of new traces sampled ([`TRACE_SAMPLE_RATE`]).
    pub sample_rate: f64,
    /// The OTLP/HTTP traces endpoint ([`TRACE_ENDPOINT`]).
    pub endpoint: String,
}

impl TracesConfig {
    /// Where the ADOT collector (and its Lambda layer) receives OTLP/HTTP traces.
    pub const DEFAULT_ENDPOINT: &'static str = "http://localhost:4318/v1/traces";

    /// Resolves the section from `env`: traces are on when `INSTRUMENT_TRACES` says so, or,
    /// unset, when an endpoint is configured.
    pub fn resolve(
        settings: &Settings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let endpoint = TRACE_ENDPOINT.value(settings, env)?;
        Ok(TracesConfig {
            enabled: TRACES.value(settings, env)?.unwrap_or(endpoint.is_some()),
            sample_rate: TRACE_SAMPLE_RATE.value(settings, env)?.unwrap_or_default(),
            endpoint: endpoint.unwrap_or_else(|| Self::DEFAULT_ENDPOINT.to_string()),
        })
    }
}
