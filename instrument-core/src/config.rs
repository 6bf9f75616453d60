//! Configuration: code settings, `INSTRUMENT_*` variables, Powertools names, Lambda's own variables.
//!
//! Precedence, highest first: code ([`Settings`]) › `INSTRUMENT_*` › `RUST_LOG` (log filter only) ›
//! Powertools names (`POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`) ›
//! defaults. `AWS_LAMBDA_LOG_LEVEL`, set by Lambda's advanced logging controls, *caps* the log level:
//! Lambda drops lines below it anyway, so they are not even formatted.
//!
//! Every value is validated; a bad one is a [`ConfigError`] that names the variable (or the builder
//! setting), the value, and what would have been accepted.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use tracing_core::LevelFilter;
use tracing_subscriber::EnvFilter;

use crate::lambda::LambdaEnvironment;

/// Where a configuration value came from; named in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An environment variable, by name.
    Variable(String),
    /// A builder method, by name (e.g. `log_level`).
    Code(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Variable(name) => write!(f, "environment variable {name}"),
            Source::Code(setting) => write!(f, "builder setting `{setting}`"),
        }
    }
}

/// A configuration value that cannot be used.
///
/// ```
/// use instrument_core::config::{Config, Settings};
/// let err = Config::resolve(&Settings::default(), |name| {
///     (name == "INSTRUMENT_LOG_LEVEL").then(|| "loud".to_string())
/// })
/// .unwrap_err();
/// assert!(err.to_string().contains("INSTRUMENT_LOG_LEVEL"));
/// assert!(err.to_string().contains("loud"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin} has an invalid value {value:?}: expected {expected}")]
pub struct ConfigError {
    /// Where the bad value came from.
    pub origin: Source,
    /// The value as given.
    pub value: String,
    /// What would have been accepted.
    pub expected: String,
}

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

/// What code sets through the builder. Every field left `None` falls back to the environment.
///
/// ```
/// use instrument_core::config::{Config, Settings};
/// let mut settings = Settings::default();
/// settings.service = Some("booking".into());
/// let config = Config::resolve(&settings, |_| None).unwrap();
/// assert_eq!(config.service.as_deref(), Some("booking"));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Settings {
    /// `service` key and dimension.
    pub service: Option<String>,
    /// CloudWatch metrics namespace.
    pub namespace: Option<String>,
    /// `environment` key and dimension.
    pub environment: Option<String>,
    /// Name of the variable to read the environment name from (e.g. `PAVI_ENVIRONMENT`).
    pub environment_var: Option<String>,
    /// A level (`info`) or `EnvFilter` directives (`info,hyper=warn`).
    pub log_level: Option<String>,
    /// Whether lines carry `location` (`file:line`).
    pub log_location: Option<bool>,
    /// Where metrics go.
    pub metrics: Option<MetricsDestination>,
    /// How often metrics are flushed by long-running services.
    pub metrics_flush_interval: Option<Duration>,
    /// Whether PII redaction is on.
    pub redact: Option<bool>,
    /// The share of Lambda invocations (0.0 to 1.0) that log at `DEBUG` whatever the level.
    pub log_sample_rate: Option<f64>,
    /// Per-invocation buffering of `DEBUG` lines, flushed only when the invocation fails.
    pub log_buffer: Option<bool>,
    /// The most bytes of lines one invocation's buffer holds (the oldest are evicted).
    pub log_buffer_max_bytes: Option<usize>,
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
}

const LEVELS: &str = "one of trace, debug, info, warn (warning), error (critical, fatal), off";
const DIRECTIVES: &str = "a level (trace, debug, info, warn, error, off) or EnvFilter directives \
                          such as `info,my_crate=debug,hyper=warn`";

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
        // Empty variables count as unset, as in most shells' `${VAR:-default}` idiom.
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| var(n).map(|v| (Source::Variable((*n).to_string()), v)))
        };

        let service = settings
            .service
            .clone()
            .or_else(|| first(&["INSTRUMENT_SERVICE", "POWERTOOLS_SERVICE_NAME"]).map(|(_, v)| v));
        let namespace = settings.namespace.clone().or_else(|| {
            first(&["INSTRUMENT_NAMESPACE", "POWERTOOLS_METRICS_NAMESPACE"]).map(|(_, v)| v)
        });

        let environment = match &settings.environment {
            Some(e) => Some(e.clone()),
            None => match var("INSTRUMENT_ENVIRONMENT") {
                Some(e) => Some(e),
                None => {
                    let from_code = settings
                        .environment_var
                        .clone()
                        .map(|v| (Source::Code("environment_var"), v));
                    let named = from_code.or_else(|| {
                        env("INSTRUMENT_ENVIRONMENT_VAR")
                            .map(|v| (Source::Variable("INSTRUMENT_ENVIRONMENT_VAR".into()), v))
                    });
                    match named {
                        Some((source, name)) => {
                            if !is_variable_name(&name) {
                                return Err(ConfigError {
                                    origin: source,
                                    value: name,
                                    expected:
                                        "the name of an environment variable \
                                               (letters, digits and `_`, not starting with a digit)"
                                            .into(),
                                });
                            }
                            var(&name)
                        }
                        None => None,
                    }
                }
            },
        };

        let (log_directives_source, log_directives) = match &settings.log_level {
            Some(level) => {
                let source = Source::Code("log_level");
                (source.clone(), parse_directives(source, level, true)?)
            }
            None => {
                if let Some(v) = var("INSTRUMENT_LOG_LEVEL") {
                    let source = Source::Variable("INSTRUMENT_LOG_LEVEL".into());
                    (source.clone(), parse_directives(source, &v, true)?)
                } else if let Some(v) = var("RUST_LOG") {
                    let source = Source::Variable("RUST_LOG".into());
                    (source.clone(), parse_directives(source, &v, false)?)
                } else if let Some(v) = var("POWERTOOLS_LOG_LEVEL") {
                    let source = Source::Variable("POWERTOOLS_LOG_LEVEL".into());
                    let level = parse_level(&v).ok_or_else(|| ConfigError {
                        origin: source.clone(),
                        value: v.clone(),
                        expected: LEVELS.into(),
                    })?;
                    (source, Cow::Borrowed(level_name(level)))
                } else {
                    (Source::Code("default"), Cow::Borrowed("info"))
                }
            }
        };

        let lambda_log_cap = match var("AWS_LAMBDA_LOG_LEVEL") {
            Some(v) => Some(parse_level(&v).ok_or_else(|| ConfigError {
                origin: Source::Variable("AWS_LAMBDA_LOG_LEVEL".into()),
                value: v.clone(),
                expected: LEVELS.into(),
            })?),
            None => None,
        };

        let log_location = match settings.log_location {
            Some(b) => b,
            None => parse_switch(&var, "INSTRUMENT_LOG_LOCATION")?.unwrap_or(false),
        };
        let redact = match settings.redact {
            Some(b) => b,
            None => parse_switch(&var, "INSTRUMENT_REDACT")?.unwrap_or(true),
        };

        let metrics = match settings.metrics {
            Some(m) => m,
            None => match var("INSTRUMENT_METRICS") {
                Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                    "stdout" => MetricsDestination::Stdout,
                    "agent" => MetricsDestination::Agent,
                    "cloudwatch" => MetricsDestination::Cloudwatch,
                    "off" => MetricsDestination::Off,
                    _ => {
                        return Err(ConfigError {
                            origin: Source::Variable("INSTRUMENT_METRICS".into()),
                            value: v,
                            expected: "one of stdout, agent, cloudwatch, off".into(),
                        })
                    }
                },
                None => MetricsDestination::Stdout,
            },
        };

        let metrics_flush_interval = match settings.metrics_flush_interval {
            Some(d) if d.is_zero() => {
                return Err(ConfigError {
                    origin: Source::Code("metrics_flush_interval"),
                    value: format!("{d:?}"),
                    expected: "a duration greater than zero".into(),
                })
            }
            Some(d) => d,
            None => match var("INSTRUMENT_METRICS_FLUSH_INTERVAL") {
                Some(v) => match v.trim().parse::<f64>() {
                    Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => {
                        Duration::from_secs_f64(secs)
                    }
                    _ => {
                        return Err(ConfigError {
                            origin: Source::Variable("INSTRUMENT_METRICS_FLUSH_INTERVAL".into()),
                            value: v,
                            expected: "a number of seconds greater than 0 and at most 86400 \
                                       (e.g. 60 or 0.5)"
                                .into(),
                        })
                    }
                },
                None => Duration::from_secs(60),
            },
        };

        let log_sample_rate = match settings.log_sample_rate {
            Some(r) if (0.0..=1.0).contains(&r) => r,
            Some(r) => {
                return Err(ConfigError {
                    origin: Source::Code("log_sample_rate"),
                    value: r.to_string(),
                    expected: "a number from 0.0 to 1.0".into(),
                })
            }
            None => match first(&[
                "INSTRUMENT_LOG_SAMPLE_RATE",
                "POWERTOOLS_LOGGER_SAMPLE_RATE",
            ]) {
                Some((origin, v)) => match v.trim().parse::<f64>() {
                    Ok(r) if (0.0..=1.0).contains(&r) => r,
                    _ => {
                        return Err(ConfigError {
                            origin,
                            value: v,
                            expected: "a number from 0.0 to 1.0 (e.g. 0.1 for 10% of invocations)"
                                .into(),
                        })
                    }
                },
                None => 0.0,
            },
        };
        let buffering = match settings.log_buffer {
            Some(b) => b,
            None => parse_switch(&var, "INSTRUMENT_LOG_BUFFER")?.unwrap_or(false),
        };
        let log_buffer = if buffering {
            let max_bytes = match settings.log_buffer_max_bytes {
                Some(0) => {
                    return Err(ConfigError {
                        origin: Source::Code("log_buffer_max_bytes"),
                        value: "0".into(),
                        expected: "a number of bytes greater than 0".into(),
                    })
                }
                Some(n) => n,
                None => match var("INSTRUMENT_LOG_BUFFER_MAX_BYTES") {
                    Some(v) => match v.trim().parse::<usize>() {
                        Ok(n) if n > 0 => n,
                        _ => {
                            return Err(ConfigError {
                                origin: Source::Variable("INSTRUMENT_LOG_BUFFER_MAX_BYTES".into()),
                                value: v,
                                expected: "a number of bytes greater than 0 (e.g. 20480)".into(),
                            })
                        }
                    },
                    None => LogBuffering::DEFAULT_MAX_BYTES,
                },
            };
            let level = match var("INSTRUMENT_LOG_BUFFER_LEVEL") {
                Some(v) => match parse_level(&v) {
                    Some(l) if l >= LevelFilter::DEBUG => l,
                    _ => {
                        return Err(ConfigError {
                            origin: Source::Variable("INSTRUMENT_LOG_BUFFER_LEVEL".into()),
                            value: v,
                            expected: "debug or trace".into(),
                        })
                    }
                },
                None => LevelFilter::DEBUG,
            };
            Some(LogBuffering { max_bytes, level })
        } else {
            None
        };

        let agent_endpoint: Cow<'static, str> = match var("AWS_EMF_AGENT_ENDPOINT") {
            Some(v) => Cow::Owned(v),
            None => Cow::Borrowed("tcp://127.0.0.1:25888"),
        };
        if !(agent_endpoint.starts_with("tcp://") || agent_endpoint.starts_with("udp://")) {
            return Err(ConfigError {
                origin: Source::Variable("AWS_EMF_AGENT_ENDPOINT".into()),
                value: agent_endpoint.into_owned(),
                expected: "tcp://host:port or udp://host:port".into(),
            });
        }

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
        if let Some(level) = parse_level(&self.log_directives) {
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

/// Parses a level name, case-insensitive, with the Powertools/Python aliases.
pub(crate) fn parse_level(s: &str) -> Option<LevelFilter> {
    const NAMES: [(&str, LevelFilter); 10] = [
        ("trace", LevelFilter::TRACE),
        ("debug", LevelFilter::DEBUG),
        ("info", LevelFilter::INFO),
        ("warn", LevelFilter::WARN),
        ("warning", LevelFilter::WARN),
        ("error", LevelFilter::ERROR),
        ("critical", LevelFilter::ERROR),
        ("fatal", LevelFilter::ERROR),
        ("off", LevelFilter::OFF),
        ("none", LevelFilter::OFF),
    ];
    let s = s.trim();
    NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, level)| level)
}

fn level_name(level: LevelFilter) -> &'static str {
    match level {
        LevelFilter::TRACE => "trace",
        LevelFilter::DEBUG => "debug",
        LevelFilter::INFO => "info",
        LevelFilter::WARN => "warn",
        LevelFilter::ERROR => "error",
        _ => "off",
    }
}

/// Validates a level or a directive string. With `strict`, a lone word must be a level: for
/// `INSTRUMENT_LOG_LEVEL=loud` a typo is far likelier than a target named `loud`.
fn parse_directives(
    source: Source,
    value: &str,
    strict: bool,
) -> Result<Cow<'static, str>, ConfigError> {
    let err = |expected: String| ConfigError {
        origin: source.clone(),
        value: value.to_string(),
        expected,
    };
    let trimmed = value.trim();
    if let Some(level) = parse_level(trimmed) {
        return Ok(Cow::Borrowed(level_name(level)));
    }
    if strict && !trimmed.contains(['=', ',', '[']) {
        return Err(err(DIRECTIVES.into()));
    }
    // Normalise level aliases (`warning`, `critical`) inside directives.
    let mut normalised = String::with_capacity(trimmed.len());
    for (i, part) in trimmed.split(',').enumerate() {
        if i > 0 {
            normalised.push(',');
        }
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        match part.rsplit_once('=') {
            Some((target, level)) => match parse_level(level) {
                Some(l) => {
                    normalised.push_str(target);
                    normalised.push('=');
                    normalised.push_str(level_name(l));
                }
                None => normalised.push_str(part),
            },
            None => match parse_level(part) {
                Some(l) => normalised.push_str(level_name(l)),
                None => normalised.push_str(part),
            },
        }
    }
    EnvFilter::builder()
        .parse(&normalised)
        .map_err(|e| err(format!("{DIRECTIVES} ({e})")))?;
    Ok(Cow::Owned(normalised))
}

fn parse_switch(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<bool>, ConfigError> {
    match var(name) {
        None => Ok(None),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Ok(Some(true)),
            "off" | "false" | "0" | "no" => Ok(Some(false)),
            _ => Err(ConfigError {
                origin: Source::Variable(name.into()),
                value: v,
                expected: "on or off (also true/false, 1/0, yes/no)".into(),
            }),
        },
    }
}

fn is_variable_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(settings: &Settings, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::resolve(settings, |k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = resolve(&Settings::default(), &[]).unwrap();
        assert_eq!(c.service, None);
        assert_eq!(c.namespace, None);
        assert_eq!(c.environment, None);
        assert_eq!(c.log_directives, "info");
        assert_eq!(c.metrics, MetricsDestination::Stdout);
        assert_eq!(c.metrics_flush_interval, Duration::from_secs(60));
        assert!(c.redact);
        assert!(!c.log_location);
        assert_eq!(c.agent_endpoint, "tcp://127.0.0.1:25888");
        assert!(c.lambda.is_none());
    }

    #[test]
    fn precedence_code_over_instrument_over_powertools() {
        let vars = [
            ("INSTRUMENT_SERVICE", "from-instrument"),
            ("POWERTOOLS_SERVICE_NAME", "from-powertools"),
            ("POWERTOOLS_METRICS_NAMESPACE", "PtNs"),
            ("INSTRUMENT_LOG_LEVEL", "warn"),
            ("RUST_LOG", "trace"),
            ("POWERTOOLS_LOG_LEVEL", "DEBUG"),
        ];
        let c = resolve(&Settings::default(), &vars).unwrap();
        assert_eq!(c.service.as_deref(), Some("from-instrument"));
        assert_eq!(c.namespace.as_deref(), Some("PtNs"));
        assert_eq!(c.log_directives, "warn");

        let code = Settings {
            service: Some("from-code".into()),
            log_level: Some("error".into()),
            ..Settings::default()
        };
        let c = resolve(&code, &vars).unwrap();
        assert_eq!(c.service.as_deref(), Some("from-code"));
        assert_eq!(c.log_directives, "error");
        assert_eq!(c.log_directives_source, Source::Code("log_level"));

        let c = resolve(&Settings::default(), &vars[1..]).unwrap();
        assert_eq!(c.service.as_deref(), Some("from-powertools"));
        assert_eq!(c.log_directives, "warn");
        let c = resolve(&Settings::default(), &vars[4..]).unwrap();
        assert_eq!(
            c.log_directives, "trace",
            "RUST_LOG outranks POWERTOOLS_LOG_LEVEL"
        );
        let c = resolve(&Settings::default(), &vars[5..]).unwrap();
        assert_eq!(c.log_directives, "debug");
    }

    #[test]
    fn environment_from_a_named_variable() {
        let vars = [
            ("INSTRUMENT_ENVIRONMENT_VAR", "PAVI_ENVIRONMENT"),
            ("PAVI_ENVIRONMENT", "staging"),
        ];
        let c = resolve(&Settings::default(), &vars).unwrap();
        assert_eq!(c.environment.as_deref(), Some("staging"));
        let mut with_direct = vars.to_vec();
        with_direct.push(("INSTRUMENT_ENVIRONMENT", "prod"));
        let c = resolve(&Settings::default(), &with_direct).unwrap();
        assert_eq!(c.environment.as_deref(), Some("prod"));
        let code = Settings {
            environment_var: Some("TEAM_ENV".into()),
            ..Settings::default()
        };
        let c = resolve(&code, &[("TEAM_ENV", "dev"), ("PAVI_ENVIRONMENT", "x")]).unwrap();
        assert_eq!(c.environment.as_deref(), Some("dev"));
        let err = resolve(
            &Settings::default(),
            &[("INSTRUMENT_ENVIRONMENT_VAR", "not a name")],
        )
        .unwrap_err();
        assert_eq!(
            err.origin,
            Source::Variable("INSTRUMENT_ENVIRONMENT_VAR".into())
        );
    }

    #[test]
    fn bad_values_name_the_variable_and_what_is_accepted() {
        let cases = [
            ("INSTRUMENT_LOG_LEVEL", "loud", "trace, debug"),
            ("INSTRUMENT_LOG_LEVEL", "info,x=loud", "directives"),
            ("POWERTOOLS_LOG_LEVEL", "verbose", "warn"),
            ("AWS_LAMBDA_LOG_LEVEL", "chatty", "error"),
            (
                "INSTRUMENT_METRICS",
                "prometheus",
                "stdout, agent, cloudwatch, off",
            ),
            ("INSTRUMENT_METRICS_FLUSH_INTERVAL", "soon", "seconds"),
            ("INSTRUMENT_METRICS_FLUSH_INTERVAL", "0", "greater than 0"),
            ("INSTRUMENT_METRICS_FLUSH_INTERVAL", "NaN", "seconds"),
            ("INSTRUMENT_REDACT", "maybe", "on or off"),
            ("INSTRUMENT_LOG_LOCATION", "2", "on or off"),
            ("AWS_EMF_AGENT_ENDPOINT", "http://x:1", "tcp://"),
            ("INSTRUMENT_LOG_SAMPLE_RATE", "2", "0.0 to 1.0"),
            ("POWERTOOLS_LOGGER_SAMPLE_RATE", "often", "0.0 to 1.0"),
            ("INSTRUMENT_LOG_BUFFER", "sometimes", "on or off"),
        ];
        for (var, value, expected) in cases {
            let err = resolve(&Settings::default(), &[(var, value)]).unwrap_err();
            assert_eq!(err.origin, Source::Variable(var.into()), "{var}");
            assert_eq!(err.value, value);
            let msg = err.to_string();
            assert!(msg.contains(var) && msg.contains(value), "{msg}");
            assert!(msg.contains(expected), "{msg} should mention {expected}");
        }
        let code = Settings {
            log_level: Some("shouty".into()),
            ..Settings::default()
        };
        let err = resolve(&code, &[]).unwrap_err();
        assert_eq!(err.origin, Source::Code("log_level"));
        assert!(err.to_string().contains("builder setting `log_level`"));
    }

    #[test]
    fn directives_and_aliases() {
        let c = resolve(
            &Settings::default(),
            &[("INSTRUMENT_LOG_LEVEL", "WARNING,booking=Debug")],
        )
        .unwrap();
        assert_eq!(c.log_directives, "warn,booking=debug");
        let c = resolve(
            &Settings::default(),
            &[("POWERTOOLS_LOG_LEVEL", "CRITICAL")],
        )
        .unwrap();
        assert_eq!(c.log_directives, "error");
        // RUST_LOG keeps EnvFilter's own meaning: a lone word is a target.
        let c = resolve(&Settings::default(), &[("RUST_LOG", "my_crate")]).unwrap();
        assert_eq!(c.log_directives, "my_crate");
    }

    #[test]
    fn lambda_log_level_is_a_cap() {
        let c = resolve(
            &Settings::default(),
            &[
                ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
                ("INSTRUMENT_LOG_LEVEL", "debug"),
            ],
        )
        .unwrap();
        assert_eq!(c.lambda_log_cap, Some(LevelFilter::WARN));
        assert_eq!(c.log_directives, "debug");
    }

    #[test]
    fn sampling_and_buffering() {
        let c = resolve(&Settings::default(), &[]).unwrap();
        assert_eq!(c.log_sample_rate, 0.0);
        assert_eq!(c.log_buffer, None);
        assert_eq!(c.invocation_log_level(), LevelFilter::OFF);

        let c = resolve(
            &Settings::default(),
            &[
                ("POWERTOOLS_LOGGER_SAMPLE_RATE", "0.25"),
                ("INSTRUMENT_LOG_BUFFER", "on"),
                ("INSTRUMENT_LOG_BUFFER_MAX_BYTES", "4096"),
                ("INSTRUMENT_LOG_BUFFER_LEVEL", "trace"),
            ],
        )
        .unwrap();
        assert_eq!(c.log_sample_rate, 0.25);
        assert_eq!(
            c.log_buffer,
            Some(LogBuffering {
                max_bytes: 4096,
                level: LevelFilter::TRACE
            })
        );
        assert_eq!(c.invocation_log_level(), LevelFilter::TRACE);

        let err = resolve(
            &Settings::default(),
            &[
                ("INSTRUMENT_LOG_BUFFER", "on"),
                ("INSTRUMENT_LOG_BUFFER_MAX_BYTES", "0"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.origin,
            Source::Variable("INSTRUMENT_LOG_BUFFER_MAX_BYTES".into())
        );
        let code = Settings {
            log_sample_rate: Some(1.5),
            ..Settings::default()
        };
        assert_eq!(
            resolve(&code, &[]).unwrap_err().origin,
            Source::Code("log_sample_rate")
        );
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let c = resolve(
            &Settings::default(),
            &[
                ("INSTRUMENT_SERVICE", ""),
                ("POWERTOOLS_SERVICE_NAME", "pt"),
            ],
        )
        .unwrap();
        assert_eq!(c.service.as_deref(), Some("pt"));
    }

    #[test]
    fn switches_and_intervals() {
        let c = resolve(
            &Settings::default(),
            &[
                ("INSTRUMENT_REDACT", "OFF"),
                ("INSTRUMENT_LOG_LOCATION", "true"),
                ("INSTRUMENT_METRICS", "Agent"),
                ("INSTRUMENT_METRICS_FLUSH_INTERVAL", "0.5"),
                ("AWS_EMF_AGENT_ENDPOINT", "udp://127.0.0.1:25888"),
            ],
        )
        .unwrap();
        assert!(!c.redact);
        assert!(c.log_location);
        assert_eq!(c.metrics, MetricsDestination::Agent);
        assert_eq!(c.metrics_flush_interval, Duration::from_millis(500));
        assert_eq!(c.agent_endpoint, "udp://127.0.0.1:25888");
    }
}
