//! The value parsers every setting shares: switches, levels, directives, numbers, durations,
//! rates, byte sizes, lists. Each returns the typed value or a [`Rejection`], which the
//! declaration turns into a [`ConfigError`](super::ConfigError) naming the variable, the value
//! and what it accepts.
//!
//! ```
//! use instrument_core::config::parse;
//! use std::time::Duration;
//! assert_eq!(parse::seconds("0.5"), Ok(Duration::from_millis(500)));
//! assert_eq!(parse::strict_directives("WARNING,booking=Debug").unwrap(), "warn,booking=debug");
//! assert!(parse::strict_directives("loud").is_err());
//! assert_eq!(parse::lax_directives("my_crate").unwrap(), "my_crate");
//! assert_eq!(parse::header_list("X-Request-Id").unwrap(), ["x-request-id"]);
//! assert!(parse::path_list("detail..id").is_err());
//! ```

use std::time::Duration;

use tracing_core::LevelFilter;
use tracing_subscriber::EnvFilter;

use super::error::Rejection;
use super::MetricsDestination;

/// A parser of one setting's text.
pub type Parser<T> = fn(&str) -> Result<T, Rejection>;

/// Any text, as given (never rejects).
pub fn text(value: &str) -> Result<String, Rejection> {
    Ok(value.to_string())
}

/// `on`/`off`, `true`/`false`, `1`/`0`, `yes`/`no`, case-insensitive.
///
/// ```
/// use instrument_core::config::parse::switch;
/// assert_eq!(switch("ON"), Ok(true));
/// assert_eq!(switch("0"), Ok(false));
/// assert!(switch("maybe").is_err());
/// ```
pub fn switch(value: &str) -> Result<bool, Rejection> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(Rejection::new()),
    }
}

/// A switch that says whether something is *disabled* (Powertools' `POWERTOOLS_TRACE_DISABLED`):
/// `true` means off.
///
/// ```
/// use instrument_core::config::parse::disabled_switch;
/// assert_eq!(disabled_switch("true"), Ok(false));
/// assert_eq!(disabled_switch("0"), Ok(true));
/// ```
pub fn disabled_switch(value: &str) -> Result<bool, Rejection> {
    switch(value).map(|disabled| !disabled)
}

/// An `http://` URL with a host (`http://localhost:4318/v1/traces`): the OTLP exporter talks
/// plain HTTP to a collector next to the process (the ADOT collector, its Lambda layer).
///
/// ```
/// use instrument_core::config::parse::http_url;
/// assert!(http_url("http://127.0.0.1:4318/v1/traces").is_ok());
/// assert!(http_url("localhost:4318").is_err());
/// assert!(http_url("https://collector:4318").is_err());
/// ```
pub fn http_url(value: &str) -> Result<String, Rejection> {
    let value = value.trim();
    match value.strip_prefix("http://") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(value.to_string()),
        _ => Err(Rejection::new()),
    }
}

/// OpenTelemetry's base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`): the traces endpoint is the
/// URL with `/v1/traces` appended, as the OTLP exporter specification says.
///
/// ```
/// use instrument_core::config::parse::otlp_base_url;
/// assert_eq!(otlp_base_url("http://collector:4318/").unwrap(), "http://collector:4318/v1/traces");
/// ```
pub fn otlp_base_url(value: &str) -> Result<String, Rejection> {
    let base = http_url(value)?;
    Ok(format!("{}/v1/traces", base.trim_end_matches('/')))
}

/// A level name, case-insensitive, with the Powertools/Python aliases (`warning`, `critical`,
/// `fatal`, `none`).
///
/// ```
/// use instrument_core::config::parse::level;
/// use tracing_core::LevelFilter;
/// assert_eq!(level("Warning"), Ok(LevelFilter::WARN));
/// assert!(level("loud").is_err());
/// ```
pub fn level(value: &str) -> Result<LevelFilter, Rejection> {
    level_filter(value).ok_or_else(Rejection::new)
}

/// A level lines can be buffered at: `trace`, `debug`, `info` or `warn` (an `ERROR` line is
/// what writes a buffer, so it is never buffered itself).
///
/// ```
/// use instrument_core::config::parse::buffer_level;
/// use tracing_core::LevelFilter;
/// assert_eq!(buffer_level("info"), Ok(LevelFilter::INFO));
/// assert_eq!(buffer_level("WARNING"), Ok(LevelFilter::WARN));
/// assert!(buffer_level("error").is_err());
/// assert!(buffer_level("off").is_err());
/// ```
pub fn buffer_level(value: &str) -> Result<LevelFilter, Rejection> {
    match level_filter(value) {
        Some(l) if l >= LevelFilter::WARN => Ok(l),
        _ => Err(Rejection::new()),
    }
}

/// A level, normalised to its canonical name (`CRITICAL` is `error`): `POWERTOOLS_LOG_LEVEL`.
pub fn level_directive(value: &str) -> Result<String, Rejection> {
    level(value).map(|l| level_name(l).to_string())
}

/// A level or `EnvFilter` directives, where a lone word must be a level: for
/// `INSTRUMENT_LOG_LEVEL=loud` a typo is far likelier than a target named `loud`.
pub fn strict_directives(value: &str) -> Result<String, Rejection> {
    directives(value, true)
}

/// `EnvFilter` directives with their own meaning (a lone word is a target): `RUST_LOG`.
pub fn lax_directives(value: &str) -> Result<String, Rejection> {
    directives(value, false)
}

/// `stdout`, `agent`, `cloudwatch` or `off`, case-insensitive.
pub fn metrics_destination(value: &str) -> Result<MetricsDestination, Rejection> {
    match value.trim().to_ascii_lowercase().as_str() {
        "stdout" => Ok(MetricsDestination::Stdout),
        "agent" => Ok(MetricsDestination::Agent),
        "cloudwatch" => Ok(MetricsDestination::Cloudwatch),
        "off" => Ok(MetricsDestination::Off),
        _ => Err(Rejection::new()),
    }
}

/// A number of seconds, greater than 0 and at most a day (`60`, `0.5`).
pub fn seconds(value: &str) -> Result<Duration, Rejection> {
    match value.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(Rejection::new()),
    }
}

/// A whole number of milliseconds (`500`).
pub fn milliseconds(value: &str) -> Result<Duration, Rejection> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| Rejection::new())
}

/// A share from 0.0 to 1.0 (`0.1`).
pub fn rate(value: &str) -> Result<f64, Rejection> {
    match value.trim().parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(Rejection::new()),
    }
}

/// A number of bytes greater than 0 (`20480`).
pub fn bytes(value: &str) -> Result<usize, Rejection> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Rejection::new()),
    }
}

/// A number, or nothing when the text is not one: for values Lambda sets itself, where a
/// broken value must not stop the function.
pub fn lenient_number(value: &str) -> Result<Option<u32>, Rejection> {
    Ok(value.trim().parse().ok())
}

/// A comma-separated list; items are trimmed, empty ones dropped (never rejects).
///
/// ```
/// use instrument_core::config::parse::list;
/// assert_eq!(list(" ipv4, ipv6,,").unwrap(), ["ipv4", "ipv6"]);
/// ```
pub fn list(value: &str) -> Result<Vec<String>, Rejection> {
    Ok(value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(String::from)
        .collect())
}

/// A comma-separated list of dotted paths or preset names (`detail.orderId,sqs`): no item and
/// no segment empty.
pub fn path_list(value: &str) -> Result<Vec<String>, Rejection> {
    let items: Vec<String> = value.split(',').map(|i| i.trim().to_string()).collect();
    match items
        .iter()
        .find(|item| item.is_empty() || item.split('.').any(str::is_empty))
    {
        Some(bad) => Err(Rejection::because(format!("invalid path {bad:?}"))),
        None => Ok(items),
    }
}

/// A comma-separated list of HTTP header names (RFC 9110 tokens), lower-cased.
pub fn header_list(value: &str) -> Result<Vec<String>, Rejection> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let items: Vec<String> = value
        .split(',')
        .map(|i| i.trim().to_ascii_lowercase())
        .collect();
    match items
        .iter()
        .find(|item| item.is_empty() || !item.bytes().all(token))
    {
        Some(bad) => Err(Rejection::because(format!("invalid header name {bad:?}"))),
        None => Ok(items),
    }
}

/// `Name=value` pairs, comma-separated: custom metric dimensions
/// (`InstanceId=i-123,Team=payments`). A name is 1 to 255 characters without `=`, `,` or a
/// leading `:`; a value is 1 to 1024 characters (CloudWatch's limits).
///
/// ```
/// use instrument_core::config::parse::dimension_list;
/// assert_eq!(
///     dimension_list("InstanceId=i-123, Team=payments").unwrap(),
///     ["InstanceId=i-123", "Team=payments"]
/// );
/// assert!(dimension_list("InstanceId").is_err());
/// assert!(dimension_list("=x").is_err());
/// ```
pub fn dimension_list(value: &str) -> Result<Vec<String>, Rejection> {
    value.split(',').map(dimension_pair).collect()
}

/// One `Name=value` pair of [`dimension_list`], trimmed.
pub fn dimension_pair(item: &str) -> Result<String, Rejection> {
    let Some((name, value)) = item.split_once('=') else {
        return Err(Rejection::because(format!(
            "{:?} is not Name=value",
            item.trim()
        )));
    };
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() || name.len() > 255 || name.starts_with(':') || name.contains(',') {
        return Err(Rejection::because(format!(
            "invalid dimension name {name:?} (1 to 255 characters, not starting with ':')"
        )));
    }
    if value.is_empty() || value.chars().count() > 1024 {
        return Err(Rejection::because(format!(
            "the dimension {name} needs a value of 1 to 1024 characters"
        )));
    }
    Ok(format!("{name}={value}"))
}

/// The default dimensions: comma-separated `source` or `source as Published` items, where a
/// source is `service`, `environment` or a custom dimension's name, and `Published` the key
/// it is published under; `none` for no default dimension at all.
///
/// ```
/// use instrument_core::config::parse::default_dimensions;
/// assert_eq!(
///     default_dimensions("service as Service, environment as Environment, InstanceId").unwrap(),
///     ["service as Service", "environment as Environment", "InstanceId as InstanceId"]
/// );
/// assert_eq!(default_dimensions("none").unwrap(), Vec::<String>::new());
/// assert!(default_dimensions("service as").is_err());
/// ```
pub fn default_dimensions(value: &str) -> Result<Vec<String>, Rejection> {
    if value.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    value.split(',').map(default_dimension).collect()
}

/// One item of [`default_dimensions`], normalised to `source as Published`.
pub fn default_dimension(item: &str) -> Result<String, Rejection> {
    let item = item.trim();
    let (source, published) = match item.split_once(" as ") {
        Some((source, published)) => (source.trim(), published.trim()),
        None => (item, item),
    };
    let ok = |n: &str| {
        !n.is_empty() && n.len() <= 255 && !n.starts_with(':') && !n.contains([',', '=', ' '])
    };
    if ok(source) && ok(published) {
        Ok(format!("{source} as {published}"))
    } else {
        Err(Rejection::because(format!(
            "{item:?} is not `name` or `name as PublishedName`"
        )))
    }
}

/// Rollup sets: bracketed lists of dimension names, e.g. `[] [route] [route,method]`, each
/// item normalised to its names joined by `,` (`""` for `[]`); `none` for no rollup.
///
/// ```
/// use instrument_core::config::parse::rollups;
/// assert_eq!(rollups("[] [route] [route, method]").unwrap(), ["", "route", "route,method"]);
/// assert_eq!(rollups("none").unwrap(), Vec::<String>::new());
/// assert!(rollups("route").is_err());
/// ```
pub fn rollups(value: &str) -> Result<Vec<String>, Rejection> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut sets = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            return Err(Rejection::because(format!("expected `[` at {rest:?}")));
        };
        let Some((set, after)) = inner.split_once(']') else {
            return Err(Rejection::because("a `[` without its `]`"));
        };
        sets.push(rollup_set(set)?);
        rest = after.trim_start_matches([' ', ',', ';']);
    }
    if sets.is_empty() {
        return Err(Rejection::new());
    }
    Ok(sets)
}

/// One rollup set: comma-separated dimension names, normalised (trimmed, joined by `,`).
pub fn rollup_set(set: &str) -> Result<String, Rejection> {
    let names: Vec<&str> = set
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if let Some(bad) = names
        .iter()
        .find(|n| n.len() > 255 || n.starts_with(':') || n.contains([' ', '=', '[', ']']))
    {
        return Err(Rejection::because(format!(
            "invalid dimension name {bad:?}"
        )));
    }
    Ok(names.join(","))
}

/// `powertools` or `all` (case-insensitive), normalised to lower case.
pub fn cold_start_dimensions(value: &str) -> Result<String, Rejection> {
    match value.trim().to_ascii_lowercase().as_str() {
        v @ ("powertools" | "all") => Ok(v.to_string()),
        _ => Err(Rejection::new()),
    }
}

/// `tcp://host:port` or `udp://host:port`.
pub fn agent_endpoint(value: &str) -> Result<String, Rejection> {
    if value.starts_with("tcp://") || value.starts_with("udp://") {
        Ok(value.to_string())
    } else {
        Err(Rejection::new())
    }
}

/// The name of an environment variable: letters, digits and `_`, not starting with a digit.
pub fn variable_name(value: &str) -> Result<String, Rejection> {
    let mut chars = value.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(value.to_string())
    } else {
        Err(Rejection::new())
    }
}

/// Parses a level name, case-insensitive, with the Powertools/Python aliases.
pub(crate) fn level_filter(s: &str) -> Option<LevelFilter> {
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

pub(crate) fn level_name(level: LevelFilter) -> &'static str {
    match level {
        LevelFilter::TRACE => "trace",
        LevelFilter::DEBUG => "debug",
        LevelFilter::INFO => "info",
        LevelFilter::WARN => "warn",
        LevelFilter::ERROR => "error",
        _ => "off",
    }
}

/// Validates a level or a directive string, normalising level aliases inside directives.
fn directives(value: &str, strict: bool) -> Result<String, Rejection> {
    let trimmed = value.trim();
    if let Some(level) = level_filter(trimmed) {
        return Ok(level_name(level).to_string());
    }
    if strict && !trimmed.contains(['=', ',', '[']) {
        return Err(Rejection::new());
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
            Some((target, level)) => match level_filter(level) {
                Some(l) => {
                    normalised.push_str(target);
                    normalised.push('=');
                    normalised.push_str(level_name(l));
                }
                None => normalised.push_str(part),
            },
            None => match level_filter(part) {
                Some(l) => normalised.push_str(level_name(l)),
                None => normalised.push_str(part),
            },
        }
    }
    EnvFilter::builder()
        .parse(&normalised)
        .map_err(|e| Rejection::because(e.to_string()))?;
    Ok(normalised)
}
