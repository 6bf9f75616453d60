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
//!
//! A declaration reads: `CONST: type = "name" in Section` (`, code field` when code can set
//! it, as that [`Settings`](super::Settings) field), its variables (a variable with its own
//! parser says `as parser => "what it accepts"`), what it accepts, its default in words (`=`
//! the value, when there is one), its doc line, its parser (`, check` the check of values set
//! in code), and a value the parser refuses, if any.

use std::time::Duration;

use tracing_core::LevelFilter;

use super::error::Rejection;
use super::parse;
use super::setting::{Declaration, Field, Section, Setting, Variable};
use super::{LogBuffering, MetricsDestination};

/// `Some(x)` for one argument, `None` for none.
macro_rules! optional {
    () => {
        None
    };
    ($x:expr) => {
        Some($x)
    };
}

/// One [`Variable`]: named only, or with its own parser and accepted values.
macro_rules! variable {
    ($name:literal) => {
        Variable::new($name)
    };
    ($name:literal, $parse:path, $accepted:expr) => {
        Variable::parsed($name, $parse, $accepted)
    };
}

/// The declarations and [`TABLE`], which lists them in order.
macro_rules! settings {
    ($(
        $const:ident: $ty:ty = $name:literal in $section:ident $(, code $field:ident)? {
            variables: [$($var:literal $(as $vparse:path => $vaccepted:expr)?),+ $(,)?],
            accepts: $accepted:expr,
            default: $default:literal $(= $fallback:expr)?,
            doc: $doc:literal,
            parse: $parse:path $(, check $check:expr)?,
            $(invalid: $invalid:literal,)?
        }
    )*) => {
        /// Every setting, in the order of the docs' table.
        pub static TABLE: &[&dyn Declaration] = &[$(&$const),*];
        $(
            #[doc = $doc]
            pub const $const: Setting<$ty> = Setting {
                name: $name,
                section: Section::$section,
                variables: &[$(variable!($var $(, $vparse, $vaccepted)?)),+],
                accepted: $accepted,
                default: $default,
                doc: $doc,
                invalid: optional!($($invalid)?),
                parse: $parse,
                check: optional!($($check)?),
                fallback: optional!($(|| $fallback)?),
                field: optional!($(Field { get: |s| &s.$field, get_mut: |s| &mut s.$field })?),
            };
        )*
    };
}

const SWITCH: &str = "on or off (also true/false, 1/0, yes/no)";
const LEVELS: &str = "one of trace, debug, info, warn (warning), error (critical, fatal), off";
const DIRECTIVES: &str = "a level (trace, debug, info, warn, error, off) or EnvFilter directives \
                          such as `info,my_crate=debug,hyper=warn`";
const SET_BY_LAMBDA: &str = "set by Lambda";

/// A setting whose value is text.
pub type Text = Setting<String>;

settings! {
    SERVICE: String = "service" in Service, code service {
        variables: ["INSTRUMENT_SERVICE", "POWERTOOLS_SERVICE_NAME"],
        accepts: "any text",
        default: "none",
        doc: "The `service` key on every line and the `service` metric dimension.",
        parse: parse::text,
    }
    NAMESPACE: String = "namespace" in Service, code namespace {
        variables: ["INSTRUMENT_NAMESPACE", "POWERTOOLS_METRICS_NAMESPACE"],
        accepts: "any text",
        default: "none",
        doc: "The CloudWatch metrics namespace.",
        parse: parse::text,
    }
    ENVIRONMENT: String = "environment" in Service, code environment {
        variables: ["INSTRUMENT_ENVIRONMENT"],
        accepts: "any text",
        default: "none",
        doc: "The `environment` key on every line and the `environment` metric dimension.",
        parse: parse::text,
    }
    ENVIRONMENT_VAR: String = "environment_var" in Service, code environment_var {
        variables: ["INSTRUMENT_ENVIRONMENT_VAR"],
        accepts: "the name of an environment variable (letters, digits and `_`, not starting \
                  with a digit)",
        default: "none",
        doc: "Another variable to read the environment from (e.g. `PAVI_ENVIRONMENT`) when \
              `environment` is not set.",
        parse: parse::variable_name, check |name| parse::variable_name(&name),
        invalid: "not a name",
    }

    LOG_LEVEL: String = "log_level" in Logs, code log_level {
        variables: [
            "INSTRUMENT_LOG_LEVEL",
            "RUST_LOG" as parse::lax_directives
                => "EnvFilter directives such as `info,my_crate=debug,hyper=warn`",
            "POWERTOOLS_LOG_LEVEL" as parse::level_directive => LEVELS,
        ],
        accepts: DIRECTIVES,
        default: "`info`" = "info".to_string(),
        doc: "A level or `EnvFilter` directives (`info,hyper=warn`); `RUST_LOG` keeps its own \
              meaning (a lone word is a target). Metrics never depend on it.",
        parse: parse::strict_directives, check |directives| parse::strict_directives(&directives),
        invalid: "loud",
    }
    LAMBDA_LOG_LEVEL: LevelFilter = "lambda_log_level" in Logs {
        variables: ["AWS_LAMBDA_LOG_LEVEL"],
        accepts: LEVELS,
        default: "none",
        doc: "Set by Lambda's advanced logging controls: caps the level (Lambda drops lower \
              lines anyway, so they are not even formatted).",
        parse: parse::level,
        invalid: "chatty",
    }
    LOG_LOCATION: bool = "log_location" in Logs, code log_location {
        variables: ["INSTRUMENT_LOG_LOCATION"],
        accepts: SWITCH,
        default: "`off`" = false,
        doc: "Adds `\"location\": \"file:line\"` to every line.",
        parse: parse::switch,
        invalid: "2",
    }
    LOG_SAMPLE_RATE: f64 = "log_sample_rate" in Logs, code log_sample_rate {
        variables: ["INSTRUMENT_LOG_SAMPLE_RATE", "POWERTOOLS_LOGGER_SAMPLE_RATE"],
        accepts: "a number from 0.0 to 1.0 (e.g. 0.1 for 10% of invocations)",
        default: "`0`" = 0.0,
        doc: "The share of Lambda invocations that log at `DEBUG` whatever the level, decided \
              once per invocation.",
        parse: parse::rate, check |rate| parse::rate(&rate.to_string()),
        invalid: "often",
    }
    LOG_BUFFER: bool = "log_buffer" in Logs, code log_buffer {
        variables: ["INSTRUMENT_LOG_BUFFER"],
        accepts: SWITCH,
        default: "`off`" = false,
        doc: "Buffers each Lambda invocation's lines more verbose than the log level (down to \
              the buffer level) and writes them only if the invocation fails (logs an error, \
              returns one, panics, times out).",
        parse: parse::switch,
        invalid: "sometimes",
    }
    LOG_BUFFER_MAX_BYTES: usize = "log_buffer_max_bytes" in Logs, code log_buffer_max_bytes {
        variables: ["INSTRUMENT_LOG_BUFFER_MAX_BYTES"],
        accepts: "a number of bytes greater than 0 (e.g. 20480)",
        default: "`20480`" = LogBuffering::DEFAULT_MAX_BYTES,
        doc: "The most bytes of lines one invocation's buffer holds; the oldest are evicted \
              first.",
        parse: parse::bytes, check |n| parse::bytes(&n.to_string()),
        invalid: "0",
    }
    LOG_BUFFER_LEVEL: LevelFilter = "log_buffer_level" in Logs, code log_buffer_level {
        variables: ["INSTRUMENT_LOG_BUFFER_LEVEL"],
        accepts: "trace, debug, info or warn",
        default: "`debug`" = LevelFilter::DEBUG,
        doc: "The most verbose level the buffer keeps: every line the log level rejects, down \
              to this level, is buffered (with the level `warn`, `INFO` and `DEBUG` lines).",
        parse: parse::buffer_level, check |level| parse::buffer_level(parse::level_name(level)),
        invalid: "error",
    }

    METRICS: MetricsDestination = "metrics" in Metrics, code metrics {
        variables: ["INSTRUMENT_METRICS"],
        accepts: "one of stdout, agent, cloudwatch, off",
        default: "`stdout`" = MetricsDestination::Stdout,
        doc: "Where metrics go: EMF on stdout (Lambda extracts them), EMF to the CloudWatch \
              agent, the PutMetricData API (cargo feature `cloudwatch-api`), or nowhere.",
        parse: parse::metrics_destination,
        invalid: "prometheus",
    }
    DIMENSIONS: Vec<String> = "dimensions" in Metrics, code dimensions {
        variables: ["INSTRUMENT_DIMENSIONS"],
        accepts: "comma-separated Name=value pairs (e.g. InstanceId=i-123,Team=payments)",
        default: "none" = Vec::new(),
        doc: "Custom dimensions of every metric, besides `service` and `environment` (in code: \
              `Builder::dimension(name, value)`, repeatable).",
        parse: parse::dimension_list,
            check |items| items.iter().map(|i| parse::dimension_pair(i)).collect(),
        invalid: "InstanceId",
    }
    DEFAULT_DIMENSIONS: Vec<String> = "default_dimensions" in Metrics, code default_dimensions {
        variables: ["INSTRUMENT_DEFAULT_DIMENSIONS"],
        accepts: "comma-separated names, each optionally `as` the key to publish it under \
                  (e.g. service as Service,environment as Environment,InstanceId), or none",
        default: "`service`, `environment` and the custom dimensions, as named",
        doc: "Which of `service`, `environment` and the custom dimensions every metric carries, \
              under which keys; `none` for none.",
        parse: parse::default_dimensions,
            check |items| items.iter().map(|i| parse::default_dimension(i)).collect(),
        invalid: "service as",
    }
    ROLLUPS: Vec<String> = "rollups" in Metrics, code rollups {
        variables: ["INSTRUMENT_ROLLUPS"],
        accepts: "bracketed dimension sets (e.g. `[] [route] [route,method]`), or none",
        default: "`[]`" = vec![String::new()],
        doc: "The dimension sets every metric is also published under: each is the default \
              dimensions plus those listed that the metric has (`[]`: the service-wide total).",
        parse: parse::rollups,
            check |items| items.iter().map(|i| parse::rollup_set(i)).collect(),
        invalid: "route",
    }
    COLD_START_DIMENSIONS: String = "cold_start_dimensions" in Metrics,
        code cold_start_dimensions
    {
        variables: ["INSTRUMENT_COLD_START_DIMENSIONS"],
        accepts: "powertools or all",
        default: "`powertools`" = "powertools".to_string(),
        doc: "The `ColdStart` metric's dimensions: `powertools`, `function_name` and `service` as \
              Powertools publishes them; `all`, `function_name` and every default dimension.",
        parse: parse::cold_start_dimensions, check |v| parse::cold_start_dimensions(&v),
        invalid: "some",
    }
    LOG_METRIC_EVENTS: bool = "log_metric_events" in Logs, code log_metric_events {
        variables: ["INSTRUMENT_LOG_METRIC_EVENTS"],
        accepts: SWITCH,
        default: "`off`" = false,
        doc: "Whether an event with only metric fields and no message \
              (`info!(counter.orders = 1)`) also writes a log line.",
        parse: parse::switch,
        invalid: "sometimes",
    }
    METRICS_FLUSH_INTERVAL: Duration = "metrics_flush_interval" in Metrics,
        code metrics_flush_interval
    {
        variables: ["INSTRUMENT_METRICS_FLUSH_INTERVAL"],
        accepts: "a number of seconds greater than 0 and at most 86400 (e.g. 60 or 0.5)",
        default: "`60`" = Duration::from_secs(60),
        doc: "How often services outside Lambda flush metrics (Lambda flushes per invocation).",
        parse: parse::seconds,
            check |d| if d.is_zero() { Err(Rejection::new()) } else { Ok(d) },
        invalid: "soon",
    }
    AGENT_ENDPOINT: String = "agent_endpoint" in Metrics, code agent_endpoint {
        variables: ["AWS_EMF_AGENT_ENDPOINT"],
        accepts: "tcp://host:port or udp://host:port",
        default: "`tcp://127.0.0.1:25888`" = "tcp://127.0.0.1:25888".to_string(),
        doc: "Where the CloudWatch agent listens for EMF, when metrics go to the agent.",
        parse: parse::agent_endpoint, check |endpoint| parse::agent_endpoint(&endpoint),
        invalid: "http://x:1",
    }

    REDACT: bool = "redact" in Redaction, code redact {
        variables: ["INSTRUMENT_REDACT"],
        accepts: SWITCH,
        default: "`on`" = true,
        doc: "PII redaction of every line and metric dimension.",
        parse: parse::switch,
        invalid: "maybe",
    }
    REDACT_HASH_KEY: String = "redact_hash_key" in Redaction {
        variables: ["INSTRUMENT_REDACT_HASH_KEY"],
        accepts: "a long random secret",
        default: "none",
        doc: "The HMAC key of the `hash` redaction method, unless the rules set one in code.",
        parse: parse::text,
    }
    REDACT_DISABLE: Vec<String> = "redact_disable" in Redaction {
        variables: ["INSTRUMENT_REDACT_DISABLE"],
        accepts: "comma-separated rule or group names (`ipv4,vendor_secrets`)",
        default: "none",
        doc: "Redaction rules, or groups (`pii`, `secrets`, `vendor_secrets`, `keys`, `custom`), to turn off (names are checked when the redactor is built).",
        parse: parse::list,
    }
    REDACT_KEYS: Vec<String> = "redact_keys" in Redaction {
        variables: ["INSTRUMENT_REDACT_KEYS"],
        accepts: "comma-separated field-name globs (`pin,*_pin`)",
        default: "none",
        doc: "More field names whose values are redacted (a key rule named `sensitive`).",
        parse: parse::list,
    }

    LAMBDA_FUNCTION_NAME: String = "lambda_function_name" in Lambda {
        variables: ["AWS_LAMBDA_FUNCTION_NAME"],
        accepts: SET_BY_LAMBDA,
        default: "none",
        doc: "The function's name (`function_name` key); when set, the process runs in Lambda.",
        parse: parse::text,
    }
    LAMBDA_FUNCTION_VERSION: String = "lambda_function_version" in Lambda {
        variables: ["AWS_LAMBDA_FUNCTION_VERSION"],
        accepts: SET_BY_LAMBDA,
        default: "none",
        doc: "The function's version (`function_version` key).",
        parse: parse::text,
    }
    LAMBDA_FUNCTION_MEMORY_SIZE: Option<u32> = "lambda_function_memory_size" in Lambda {
        variables: ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        accepts: "a number of MB, set by Lambda (another value is ignored: it must not stop \
                  the function)",
        default: "none",
        doc: "The function's memory in MB (`function_memory_size` key).",
        parse: parse::lenient_number,
    }
    LAMBDA_INITIALIZATION_TYPE: String = "lambda_initialization_type" in Lambda {
        variables: ["AWS_LAMBDA_INITIALIZATION_TYPE"],
        accepts: "on-demand, provisioned-concurrency or snap-start, set by Lambda",
        default: "`on-demand`" = "on-demand".to_string(),
        doc: "How Lambda initialised the environment: only an on-demand one has a cold start.",
        parse: parse::text,
    }
    CORRELATION_PATHS: Vec<String> = "correlation_paths" in Lambda {
        variables: ["INSTRUMENT_CORRELATION_PATHS"],
        accepts: "comma-separated presets (header, api_gateway_rest, api_gateway_http, \
                  function_url, alb, alb_multi_value, eventbridge, sqs) and dotted paths \
                  (e.g. `detail.orderId,eventbridge`)",
        default: "every preset",
        doc: "Where `instrument::lambda::InvocationLayer` looks for the correlation ID in the \
              event, first match wins (its `correlation_paths` overrides).",
        parse: parse::path_list,
        invalid: "a..b",
    }
    LAMBDA_FLUSH_MARGIN: Duration = "lambda_flush_margin" in Lambda {
        variables: ["INSTRUMENT_LAMBDA_FLUSH_MARGIN_MS"],
        accepts: "a number of milliseconds (e.g. 500)",
        default: "`500`" = Duration::from_millis(500),
        doc: "How long before an invocation's deadline `InvocationLayer` flushes metrics and \
              buffered lines (its `flush_margin` overrides).",
        parse: parse::milliseconds,
        invalid: "soon",
    }

    LAMBDA_MEMORY_METRIC: bool = "lambda_memory_metric" in Lambda {
        variables: ["INSTRUMENT_LAMBDA_MEMORY_METRIC"],
        accepts: SWITCH,
        default: "`off`" = false,
        doc: "Each invocation also publishes the process's peak memory as the gauge \
              `max_memory_used_mb` (Megabytes; its end line always carries it as a field).",
        parse: parse::switch,
        invalid: "lots",
    }

    CORRELATION_HEADERS: Vec<String> = "correlation_headers" in Http {
        variables: ["INSTRUMENT_CORRELATION_HEADERS"],
        accepts: "comma-separated HTTP header names (e.g. x-correlation-id,traceparent)",
        default: "`x-correlation-id,x-request-id,traceparent`"
            = ["x-correlation-id", "x-request-id", "traceparent"].map(String::from).to_vec(),
        doc: "The request headers `instrument::http::RequestLayer` takes the correlation ID \
              from, first present wins (its `correlation_headers` overrides).",
        parse: parse::header_list,
        invalid: "bad header",
    }

    HTTP_CLIENT_ERRORS: bool = "http_client_errors" in Http, code http_client_errors {
        variables: ["INSTRUMENT_HTTP_CLIENT_ERRORS"],
        accepts: SWITCH,
        default: "`off`" = false,
        doc: "A tracked function that returns an HTTP status or response (feature `http`) fails \
              on 5xx; with this on, on 4xx too (off: a 4xx is the client's mistake, a success).",
        parse: parse::switch,
        invalid: "maybe",
    }

    TRACES: bool = "traces" in Traces, code traces {
        variables: [
            "INSTRUMENT_TRACES",
            "POWERTOOLS_TRACE_DISABLED" as parse::disabled_switch
                => "true to turn traces off (Powertools' meaning), false to keep them",
        ],
        accepts: SWITCH,
        default: "on when a traces endpoint is set (below), else off",
        doc: "Exports spans of tracked calls, HTTP requests and Lambda invocations through \
              OpenTelemetry (only in a build with the cargo feature `otel`).",
        parse: parse::switch,
        invalid: "traced",
    }
    TRACE_SAMPLE_RATE: f64 = "trace_sample_rate" in Traces, code trace_sample_rate {
        variables: ["INSTRUMENT_TRACE_SAMPLE_RATE", "OTEL_TRACES_SAMPLER_ARG"],
        accepts: "a number from 0.0 to 1.0 (e.g. 0.1 for 10% of traces)",
        default: "`0.05`" = 0.05,
        doc: "The share of traces started here (a tracked call, HTTP request or invocation \
              without a sampled or unsampled parent) that are sampled; inside a trace, the \
              parent's decision holds (X-Ray's default fixed rate is 5%).",
        parse: parse::rate, check |rate| parse::rate(&rate.to_string()),
        invalid: "half",
    }
    TRACE_ENDPOINT: String = "trace_endpoint" in Traces, code trace_endpoint {
        variables: [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" as parse::http_url => "an http:// URL",
            "OTEL_EXPORTER_OTLP_ENDPOINT" as parse::otlp_base_url
                => "an http:// URL, to which `/v1/traces` is appended",
        ],
        accepts: "an http:// URL of an OTLP/HTTP traces endpoint",
        default: "`http://localhost:4318/v1/traces` (the ADOT collector and its Lambda layer)",
        doc: "Where spans go: an OTLP/HTTP (protobuf) receiver, such as the ADOT collector or \
              its Lambda layer.",
        parse: parse::http_url,
        invalid: "localhost:4318",
    }

    FLUSH_ON_SIGTERM: bool = "flush_on_sigterm" in Process, code flush_on_sigterm {
        variables: ["INSTRUMENT_FLUSH_ON_SIGTERM"],
        accepts: SWITCH,
        default: "`on`" = true,
        doc: "`SIGTERM` flushes metrics and lines before the process ends as the signal would \
              end it (Unix; only if `SIGTERM` has its default action at `install`).",
        parse: parse::switch,
        invalid: "later",
    }
}
