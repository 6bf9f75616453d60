//! Every setting, declared once: its name, its variables in precedence order
//! (`INSTRUMENT_*` › `RUST_LOG` › `POWERTOOLS_*` › `AWS_*`), what it accepts, its default and
//! what it does. [`Config::resolve`](super::Config::resolve), the error messages, the
//! layers' sections, the crate docs and the README's table all read these.
//!
//! ```
//! use instrument_core::config::table;
//! let variables: Vec<&str> = table::TABLE.iter().flat_map(|s| s.variables()).collect();
//! assert!(variables.contains(&"INSTRUMENT_FLUSH_ON_SIGTERM"));
//! ```

use std::time::Duration;

use tracing_core::LevelFilter;

use super::error::Rejection;
use super::parse;
use super::setting::{Declaration, Field, Section, Setting, Variable};
use super::{LogBuffering, MetricsDestination};

/// The [`Field`] of a [`Settings`](super::Settings) member.
macro_rules! field {
    ($name:ident) => {
        Some(Field {
            get: |s| &s.$name,
            get_mut: |s| &mut s.$name,
        })
    };
}

const SWITCH: &str = "on or off (also true/false, 1/0, yes/no)";
const LEVELS: &str = "one of trace, debug, info, warn (warning), error (critical, fatal), off";
const DIRECTIVES: &str = "a level (trace, debug, info, warn, error, off) or EnvFilter directives \
                          such as `info,my_crate=debug,hyper=warn`";
const SET_BY_LAMBDA: &str = "set by Lambda";

/// A setting whose value is text.
pub type Text = Setting<String>;

/// Every setting, in the order of the docs' table.
pub static TABLE: &[&dyn Declaration] = &[
    &SERVICE,
    &NAMESPACE,
    &ENVIRONMENT,
    &ENVIRONMENT_VAR,
    &LOG_LEVEL,
    &LAMBDA_LOG_LEVEL,
    &LOG_LOCATION,
    &LOG_SAMPLE_RATE,
    &LOG_BUFFER,
    &LOG_BUFFER_MAX_BYTES,
    &LOG_BUFFER_LEVEL,
    &METRICS,
    &METRICS_FLUSH_INTERVAL,
    &AGENT_ENDPOINT,
    &REDACT,
    &REDACT_HASH_KEY,
    &REDACT_DISABLE,
    &REDACT_KEYS,
    &LAMBDA_FUNCTION_NAME,
    &LAMBDA_FUNCTION_VERSION,
    &LAMBDA_FUNCTION_MEMORY_SIZE,
    &LAMBDA_INITIALIZATION_TYPE,
    &CORRELATION_PATHS,
    &LAMBDA_FLUSH_MARGIN,
    &CORRELATION_HEADERS,
    &FLUSH_ON_SIGTERM,
];

/// The `service` key and metric dimension.
pub const SERVICE: Setting<String> = Setting {
    name: "service",
    section: Section::Service,
    variables: &[
        Variable::new("INSTRUMENT_SERVICE"),
        Variable::new("POWERTOOLS_SERVICE_NAME"),
    ],
    accepted: "any text",
    default: "none",
    doc: "The `service` key on every line and the `service` metric dimension.",
    invalid: None,
    parse: parse::text,
    check: None,
    fallback: None,
    field: field!(service),
};

/// The CloudWatch metrics namespace.
pub const NAMESPACE: Setting<String> = Setting {
    name: "namespace",
    section: Section::Service,
    variables: &[
        Variable::new("INSTRUMENT_NAMESPACE"),
        Variable::new("POWERTOOLS_METRICS_NAMESPACE"),
    ],
    accepted: "any text",
    default: "none",
    doc: "The CloudWatch metrics namespace.",
    invalid: None,
    parse: parse::text,
    check: None,
    fallback: None,
    field: field!(namespace),
};

/// The `environment` key and metric dimension.
pub const ENVIRONMENT: Setting<String> = Setting {
    name: "environment",
    section: Section::Service,
    variables: &[Variable::new("INSTRUMENT_ENVIRONMENT")],
    accepted: "any text",
    default: "none",
    doc: "The `environment` key on every line and the `environment` metric dimension.",
    invalid: None,
    parse: parse::text,
    check: None,
    fallback: None,
    field: field!(environment),
};

/// The variable to read the environment name from.
pub const ENVIRONMENT_VAR: Setting<String> = Setting {
    name: "environment_var",
    section: Section::Service,
    variables: &[Variable::new("INSTRUMENT_ENVIRONMENT_VAR")],
    accepted: "the name of an environment variable (letters, digits and `_`, not starting with \
               a digit)",
    default: "none",
    doc: "Another variable to read the environment from (e.g. `PAVI_ENVIRONMENT`) when \
          `environment` is not set.",
    invalid: Some("not a name"),
    parse: parse::variable_name,
    check: Some(|name| parse::variable_name(&name)),
    fallback: None,
    field: field!(environment_var),
};

/// The log level or filter directives.
pub const LOG_LEVEL: Setting<String> = Setting {
    name: "log_level",
    section: Section::Logs,
    variables: &[
        Variable::new("INSTRUMENT_LOG_LEVEL"),
        Variable::parsed(
            "RUST_LOG",
            parse::lax_directives,
            "EnvFilter directives such as `info,my_crate=debug,hyper=warn`",
        ),
        Variable::parsed("POWERTOOLS_LOG_LEVEL", parse::level_directive, LEVELS),
    ],
    accepted: DIRECTIVES,
    default: "`info`",
    doc: "A level or `EnvFilter` directives (`info,hyper=warn`); `RUST_LOG` keeps its own \
          meaning (a lone word is a target). Metrics never depend on it.",
    invalid: Some("loud"),
    parse: parse::strict_directives,
    check: Some(|directives| parse::strict_directives(&directives)),
    fallback: Some(|| "info".to_string()),
    field: field!(log_level),
};

/// The cap Lambda's advanced logging controls put on the level.
pub const LAMBDA_LOG_LEVEL: Setting<LevelFilter> = Setting {
    name: "lambda_log_level",
    section: Section::Logs,
    variables: &[Variable::new("AWS_LAMBDA_LOG_LEVEL")],
    accepted: LEVELS,
    default: "none",
    doc: "Set by Lambda's advanced logging controls: caps the level (Lambda drops lower lines \
          anyway, so they are not even formatted).",
    invalid: Some("chatty"),
    parse: parse::level,
    check: None,
    fallback: None,
    field: None,
};

/// `location` on every line.
pub const LOG_LOCATION: Setting<bool> = Setting {
    name: "log_location",
    section: Section::Logs,
    variables: &[Variable::new("INSTRUMENT_LOG_LOCATION")],
    accepted: SWITCH,
    default: "`off`",
    doc: "Adds `\"location\": \"file:line\"` to every line.",
    invalid: Some("2"),
    parse: parse::switch,
    check: None,
    fallback: Some(|| false),
    field: field!(log_location),
};

/// Per-invocation `DEBUG` sampling.
pub const LOG_SAMPLE_RATE: Setting<f64> = Setting {
    name: "log_sample_rate",
    section: Section::Logs,
    variables: &[
        Variable::new("INSTRUMENT_LOG_SAMPLE_RATE"),
        Variable::new("POWERTOOLS_LOGGER_SAMPLE_RATE"),
    ],
    accepted: "a number from 0.0 to 1.0 (e.g. 0.1 for 10% of invocations)",
    default: "`0`",
    doc: "The share of Lambda invocations that log at `DEBUG` whatever the level, decided once \
          per invocation.",
    invalid: Some("often"),
    parse: parse::rate,
    check: Some(|rate| parse::rate(&rate.to_string())),
    fallback: Some(|| 0.0),
    field: field!(log_sample_rate),
};

/// Per-invocation buffering of verbose lines.
pub const LOG_BUFFER: Setting<bool> = Setting {
    name: "log_buffer",
    section: Section::Logs,
    variables: &[Variable::new("INSTRUMENT_LOG_BUFFER")],
    accepted: SWITCH,
    default: "`off`",
    doc: "Buffers each Lambda invocation's lines more verbose than the level and writes them \
          only if the invocation fails (logs an error, returns one, panics, times out).",
    invalid: Some("sometimes"),
    parse: parse::switch,
    check: None,
    fallback: Some(|| false),
    field: field!(log_buffer),
};

/// The bound of one invocation's buffer.
pub const LOG_BUFFER_MAX_BYTES: Setting<usize> = Setting {
    name: "log_buffer_max_bytes",
    section: Section::Logs,
    variables: &[Variable::new("INSTRUMENT_LOG_BUFFER_MAX_BYTES")],
    accepted: "a number of bytes greater than 0 (e.g. 20480)",
    default: "`20480`",
    doc: "The most bytes of lines one invocation's buffer holds; the oldest are evicted first.",
    invalid: Some("0"),
    parse: parse::bytes,
    check: Some(|n| parse::bytes(&n.to_string())),
    fallback: Some(|| LogBuffering::DEFAULT_MAX_BYTES),
    field: field!(log_buffer_max_bytes),
};

/// The most verbose level buffered.
pub const LOG_BUFFER_LEVEL: Setting<LevelFilter> = Setting {
    name: "log_buffer_level",
    section: Section::Logs,
    variables: &[Variable::new("INSTRUMENT_LOG_BUFFER_LEVEL")],
    accepted: "debug or trace",
    default: "`debug`",
    doc: "The most verbose level the buffer keeps.",
    invalid: Some("info"),
    parse: parse::verbose_level,
    check: Some(|level| parse::verbose_level(parse::level_name(level))),
    fallback: Some(|| LevelFilter::DEBUG),
    field: field!(log_buffer_level),
};

/// Where metrics go.
pub const METRICS: Setting<MetricsDestination> = Setting {
    name: "metrics",
    section: Section::Metrics,
    variables: &[Variable::new("INSTRUMENT_METRICS")],
    accepted: "one of stdout, agent, cloudwatch, off",
    default: "`stdout`",
    doc: "Where metrics go: EMF on stdout (Lambda extracts them), EMF to the CloudWatch agent, \
          the PutMetricData API (cargo feature `cloudwatch-api`), or nowhere.",
    invalid: Some("prometheus"),
    parse: parse::metrics_destination,
    check: None,
    fallback: Some(|| MetricsDestination::Stdout),
    field: field!(metrics),
};

/// How often long-running services flush metrics.
pub const METRICS_FLUSH_INTERVAL: Setting<Duration> = Setting {
    name: "metrics_flush_interval",
    section: Section::Metrics,
    variables: &[Variable::new("INSTRUMENT_METRICS_FLUSH_INTERVAL")],
    accepted: "a number of seconds greater than 0 and at most 86400 (e.g. 60 or 0.5)",
    default: "`60`",
    doc: "How often services outside Lambda flush metrics (Lambda flushes per invocation).",
    invalid: Some("soon"),
    parse: parse::seconds,
    check: Some(|d| {
        if d.is_zero() {
            Err(Rejection::new())
        } else {
            Ok(d)
        }
    }),
    fallback: Some(|| Duration::from_secs(60)),
    field: field!(metrics_flush_interval),
};

/// The CloudWatch agent's endpoint.
pub const AGENT_ENDPOINT: Setting<String> = Setting {
    name: "agent_endpoint",
    section: Section::Metrics,
    variables: &[Variable::new("AWS_EMF_AGENT_ENDPOINT")],
    accepted: "tcp://host:port or udp://host:port",
    default: "`tcp://127.0.0.1:25888`",
    doc: "Where the CloudWatch agent listens for EMF, when metrics go to the agent.",
    invalid: Some("http://x:1"),
    parse: parse::agent_endpoint,
    check: Some(|endpoint| parse::agent_endpoint(&endpoint)),
    fallback: Some(|| "tcp://127.0.0.1:25888".to_string()),
    field: field!(agent_endpoint),
};

/// Whether PII redaction is on.
pub const REDACT: Setting<bool> = Setting {
    name: "redact",
    section: Section::Redaction,
    variables: &[Variable::new("INSTRUMENT_REDACT")],
    accepted: SWITCH,
    default: "`on`",
    doc: "PII redaction of every line and metric dimension.",
    invalid: Some("maybe"),
    parse: parse::switch,
    check: None,
    fallback: Some(|| true),
    field: field!(redact),
};

/// The key of the `hash` method.
pub const REDACT_HASH_KEY: Setting<String> = Setting {
    name: "redact_hash_key",
    section: Section::Redaction,
    variables: &[Variable::new("INSTRUMENT_REDACT_HASH_KEY")],
    accepted: "a long random secret",
    default: "none",
    doc: "The HMAC key of the `hash` redaction method, unless the rules set one in code.",
    invalid: None,
    parse: parse::text,
    check: None,
    fallback: None,
    field: None,
};

/// Redaction rules to turn off.
pub const REDACT_DISABLE: Setting<Vec<String>> = Setting {
    name: "redact_disable",
    section: Section::Redaction,
    variables: &[Variable::new("INSTRUMENT_REDACT_DISABLE")],
    accepted: "comma-separated rule names (`ipv4,ipv6`)",
    default: "none",
    doc: "Redaction rules to turn off (names are checked when the redactor is built).",
    invalid: None,
    parse: parse::list,
    check: None,
    fallback: None,
    field: None,
};

/// Extra key globs to redact.
pub const REDACT_KEYS: Setting<Vec<String>> = Setting {
    name: "redact_keys",
    section: Section::Redaction,
    variables: &[Variable::new("INSTRUMENT_REDACT_KEYS")],
    accepted: "comma-separated field-name globs (`pin,*_pin`)",
    default: "none",
    doc: "More field names whose values are redacted (a key rule named `sensitive`).",
    invalid: None,
    parse: parse::list,
    check: None,
    fallback: None,
    field: None,
};

/// Lambda's function name: its presence means Lambda.
pub const LAMBDA_FUNCTION_NAME: Setting<String> = Setting {
    name: "lambda_function_name",
    section: Section::Lambda,
    variables: &[Variable::new("AWS_LAMBDA_FUNCTION_NAME")],
    accepted: SET_BY_LAMBDA,
    default: "none",
    doc: "The function's name (`function_name` key); when set, the process runs in Lambda.",
    invalid: None,
    parse: parse::text,
    check: None,
    fallback: None,
    field: None,
};

/// Lambda's function version.
pub const LAMBDA_FUNCTION_VERSION: Setting<String> = Setting {
    name: "lambda_function_version",
    section: Section::Lambda,
    variables: &[Variable::new("AWS_LAMBDA_FUNCTION_VERSION")],
    accepted: SET_BY_LAMBDA,
    default: "none",
    doc: "The function's version (`function_version` key).",
    invalid: None,
    parse: parse::text,
    check: None,
    fallback: None,
    field: None,
};

/// Lambda's memory size.
pub const LAMBDA_FUNCTION_MEMORY_SIZE: Setting<Option<u32>> = Setting {
    name: "lambda_function_memory_size",
    section: Section::Lambda,
    variables: &[Variable::new("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")],
    accepted: "a number of MB, set by Lambda (another value is ignored: it must not stop the \
               function)",
    default: "none",
    doc: "The function's memory in MB (`function_memory_size` key).",
    invalid: None,
    parse: parse::lenient_number,
    check: None,
    fallback: None,
    field: None,
};

/// How Lambda initialised the environment.
pub const LAMBDA_INITIALIZATION_TYPE: Setting<String> = Setting {
    name: "lambda_initialization_type",
    section: Section::Lambda,
    variables: &[Variable::new("AWS_LAMBDA_INITIALIZATION_TYPE")],
    accepted: "on-demand, provisioned-concurrency or snap-start, set by Lambda",
    default: "`on-demand`",
    doc: "How Lambda initialised the environment: only an on-demand one has a cold start.",
    invalid: None,
    parse: parse::text,
    check: None,
    fallback: Some(|| "on-demand".to_string()),
    field: None,
};

/// Where the Lambda layer finds correlation IDs.
pub const CORRELATION_PATHS: Setting<Vec<String>> = Setting {
    name: "correlation_paths",
    section: Section::Lambda,
    variables: &[Variable::new("INSTRUMENT_CORRELATION_PATHS")],
    accepted: "comma-separated presets and dotted paths (e.g. `detail.orderId,eventbridge`)",
    default: "every preset",
    doc: "Where `instrument::lambda::InvocationLayer` looks for the correlation ID in the \
          event, first match wins (its `correlation_paths` overrides).",
    invalid: Some("a..b"),
    parse: parse::path_list,
    check: None,
    fallback: None,
    field: None,
};

/// How long before the deadline the Lambda layer flushes.
pub const LAMBDA_FLUSH_MARGIN: Setting<Duration> = Setting {
    name: "lambda_flush_margin",
    section: Section::Lambda,
    variables: &[Variable::new("INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS")],
    accepted: "a number of milliseconds (e.g. 500)",
    default: "`500`",
    doc: "How long before an invocation's deadline `InvocationLayer` flushes metrics and \
          buffered lines (its `flush_margin` overrides).",
    invalid: Some("soon"),
    parse: parse::milliseconds,
    check: None,
    fallback: Some(|| Duration::from_millis(500)),
    field: None,
};

/// Which request headers carry the correlation ID.
pub const CORRELATION_HEADERS: Setting<Vec<String>> = Setting {
    name: "correlation_headers",
    section: Section::Http,
    variables: &[Variable::new("INSTRUMENT_CORRELATION_HEADERS")],
    accepted: "comma-separated HTTP header names (e.g. x-correlation-id,traceparent)",
    default: "`x-correlation-id,x-request-id,traceparent`",
    doc: "The request headers `instrument::http::RequestLayer` takes the correlation ID from, \
          first present wins (its `correlation_headers` overrides).",
    invalid: Some("bad header"),
    parse: parse::header_list,
    check: None,
    fallback: Some(|| {
        ["x-correlation-id", "x-request-id", "traceparent"]
            .map(String::from)
            .to_vec()
    }),
    field: None,
};

/// Whether `SIGTERM` flushes first.
pub const FLUSH_ON_SIGTERM: Setting<bool> = Setting {
    name: "flush_on_sigterm",
    section: Section::Process,
    variables: &[Variable::new("INSTRUMENT_FLUSH_ON_SIGTERM")],
    accepted: SWITCH,
    default: "`on`",
    doc: "`SIGTERM` flushes metrics and lines before the process ends as the signal would end \
          it (Unix; only if `SIGTERM` has its default action at `install`).",
    invalid: Some("later"),
    parse: parse::switch,
    check: None,
    fallback: Some(|| true),
    field: field!(flush_on_sigterm),
};
