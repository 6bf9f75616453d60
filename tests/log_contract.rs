//! The JSON log line contract (DESIGN §4), asserted on parsed lines.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{json, Map, Value};

/// Lines in memory: the `MakeWriter` instrument ships for tests.
type Capture = instrument::testing::LogBuffer;

/// Every line, parsed strictly: a duplicate key anywhere fails the test.
fn log_lines(capture: &Capture) -> Vec<Map<String, Value>> {
    {
        let text = capture.contents();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "last line unterminated"
        );
        // EMF documents share the writer (metrics default to stdout); they are tested elsewhere.
        text.lines()
            .map(parse_strict)
            .filter(|line| !line.contains_key("_aws"))
            .collect()
    }
}

/// Parses one JSON object, failing on duplicate keys (serde_json keeps the last silently).
fn parse_strict(line: &str) -> Map<String, Value> {
    struct Strict;
    impl<'de> Visitor<'de> for Strict {
        type Value = Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = Map::new();
            while let Some((k, v)) = access.next_entry::<String, Value>()? {
                if map.contains_key(&k) {
                    return Err(serde::de::Error::custom(format!("duplicate key {k:?}")));
                }
                map.insert(k, v);
            }
            Ok(map)
        }
    }
    let mut de = serde_json::Deserializer::from_str(line);
    let map = de
        .deserialize_map(Strict)
        .unwrap_or_else(|e| panic!("invalid line {line}: {e}"));
    de.end().expect("one object per line");
    map
}

fn keys(line: &Map<String, Value>) -> BTreeSet<&str> {
    line.keys().map(String::as_str).collect()
}

/// Runs `f` under instrument built with these "environment variables" and code settings.
fn run_with(
    vars: &[(&str, &str)],
    configure: impl FnOnce(instrument::Builder<Capture>) -> instrument::Builder<Capture>,
    f: impl FnOnce(),
) -> Vec<Map<String, Value>> {
    let capture = Capture::default();
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let builder = instrument::builder()
        .writer(capture.clone())
        .env_lookup(move |k| env.get(k).cloned());
    let (subscriber, guard) = configure(builder).build().expect("valid config");
    tracing::subscriber::with_default(subscriber, f);
    guard.flush();
    log_lines(&capture)
}

fn run(f: impl FnOnce()) -> Vec<Map<String, Value>> {
    run_with(&[], |b| b, f)
}

#[test]
fn a_plain_event_has_exactly_the_contract_keys() {
    let lines = run_with(
        &[],
        |b| b.service("booking").environment("prod"),
        || tracing::info!(target: "booking::api", seats = 2u64, vip = true, "reserved {}", 7),
    );
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(
        keys(line),
        BTreeSet::from([
            "timestamp",
            "level",
            "message",
            "target",
            "service",
            "environment",
            "seats",
            "vip"
        ])
    );
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["message"], "reserved 7");
    assert_eq!(line["target"], "booking::api");
    assert_eq!(line["service"], "booking");
    assert_eq!(line["environment"], "prod");
    assert_eq!(line["seats"], 2);
    assert_eq!(line["vip"], true);
    let ts = line["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 24, "{ts}");
    let b = ts.as_bytes();
    assert!(
        b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[19] == b'.',
        "{ts}"
    );
    assert!(ts.ends_with('Z'), "{ts}");
}

#[test]
fn every_level_is_spelled_in_capitals() {
    let lines = run_with(
        &[],
        |b| b.log_level("trace"),
        || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        },
    );
    let levels: Vec<_> = lines.iter().map(|l| l["level"].clone()).collect();
    assert_eq!(levels, ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]);
}

#[test]
fn an_event_without_a_message_still_has_one() {
    let lines = run(|| tracing::info!(x = 1));
    assert_eq!(lines[0]["message"], "");
    assert_eq!(lines[0]["x"], 1);
}

#[test]
fn span_fields_are_flattened_with_inner_over_outer_and_event_over_span() {
    let lines = run(|| {
        let outer = tracing::info_span!("outer", shared = "outer", only_outer = 1, by_event = "o");
        let _o = outer.enter();
        let inner = tracing::info_span!("inner", shared = "inner", only_inner = 2.5);
        let _i = inner.enter();
        tracing::info!(by_event = "event", own = "e", "inside");
    });
    let line = &lines[0];
    assert_eq!(line["shared"], "inner");
    assert_eq!(line["only_outer"], 1);
    assert_eq!(line["only_inner"], 2.5);
    assert_eq!(line["by_event"], "event");
    assert_eq!(line["own"], "e");
    assert_eq!(line["span"], "inner");
    assert_eq!(line["spans"], json!(["outer", "inner"]));
    assert!(!line.values().any(|v| v.is_object()), "flat: {line:?}");
}

#[test]
fn span_fields_recorded_later_replace_earlier_values() {
    let lines = run(|| {
        let span = tracing::info_span!("req", status = tracing::field::Empty, attempt = 1);
        let _e = span.enter();
        tracing::info!("before");
        span.record("status", 200);
        span.record("attempt", 2);
        tracing::info!("after");
    });
    assert!(lines[0].get("status").is_none());
    assert_eq!(lines[0]["attempt"], 1);
    assert_eq!(lines[1]["status"], 200);
    assert_eq!(lines[1]["attempt"], 2);
}

#[test]
fn user_fields_named_like_reserved_keys_are_kept_under_documented_keys() {
    let lines = run_with(
        &[],
        |b| b.service("svc"),
        || {
            let span = tracing::info_span!("s", message = "span message", target = "t");
            let _e = span.enter();
            tracing::info!(
                level = 5,
                timestamp = "yesterday",
                service = "other",
                field_level = "taken",
                spans = 3,
                "real message"
            );
        },
    );
    let line = &lines[0];
    assert_eq!(line["message"], "real message");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["service"], "svc");
    assert_eq!(line["field_level"], 5);
    assert_eq!(line["field_level_2"], "taken");
    assert_eq!(line["field_timestamp"], "yesterday");
    assert_eq!(line["field_service"], "other");
    assert_eq!(line["field_spans"], 3);
    assert_eq!(line["field_message"], "span message");
    assert_eq!(line["field_target"], "t");
    assert_eq!(line["spans"], json!(["s"]));
}

#[test]
fn correlation_id_comes_from_the_nearest_span_or_the_event() {
    let lines = run(|| {
        let outer = tracing::info_span!("request", correlation_id = "outer-id");
        let _o = outer.enter();
        tracing::info!("a");
        let inner = tracing::info_span!("step", correlation_id = "inner-id");
        let _i = inner.enter();
        tracing::info!("b");
        tracing::info!(correlation_id = "event-id", "c");
    });
    assert_eq!(lines[0]["correlation_id"], "outer-id");
    assert_eq!(lines[1]["correlation_id"], "inner-id");
    assert_eq!(lines[2]["correlation_id"], "event-id");
    for line in &lines {
        assert!(line.get("field_correlation_id").is_none());
    }
}

#[derive(Debug)]
struct PaymentDeclined {
    cause: io::Error,
}
impl fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment declined")
    }
}
impl std::error::Error for PaymentDeclined {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

#[test]
fn error_fields_become_an_error_object_with_its_chain() {
    let err = PaymentDeclined {
        cause: io::Error::new(io::ErrorKind::TimedOut, "gateway timed out"),
    };
    let lines = run(|| {
        tracing::error!(
            error = &err as &(dyn std::error::Error + 'static),
            order = 7,
            "could not pay"
        )
    });
    let line = &lines[0];
    assert_eq!(
        line["error"],
        json!({"type": "PaymentDeclined", "message": "payment declined", "chain": ["gateway timed out"]})
    );
    assert_eq!(line["order"], 7);
    assert_eq!(line["level"], "ERROR");
}

fn invocation(request_id: &str) {
    let span = tracing::info_span!(
        "Lambda runtime invoke",
        requestId = request_id,
        xrayTraceId = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    );
    let _e = span.enter();
    let handler = tracing::info_span!("handler", route = "/book");
    let _h = handler.enter();
    tracing::info!("handled");
}

const LAMBDA: [(&str, &str); 3] = [
    ("AWS_LAMBDA_FUNCTION_NAME", "booking-fn"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
];

#[test]
fn lambda_runtime_invocations_carry_request_trace_and_cold_start() {
    let mut vars = LAMBDA.to_vec();
    vars.push(("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"));
    let lines = run_with(
        &vars,
        |b| b,
        || {
            tracing::info!("init");
            invocation("req-1");
            invocation("req-2");
            tracing::info!("between");
        },
    );
    assert_eq!(lines.len(), 4);
    let (init, first, second, between) = (&lines[0], &lines[1], &lines[2], &lines[3]);
    for outside in [init, between] {
        for key in [
            "function_request_id",
            "xray_trace_id",
            "cold_start",
            "function_name",
            "function_version",
            "function_memory_size",
        ] {
            assert!(outside.get(key).is_none(), "{key} outside an invocation");
        }
    }
    assert_eq!(first["function_request_id"], "req-1");
    assert_eq!(second["function_request_id"], "req-2");
    assert_eq!(
        first["xray_trace_id"],
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    );
    assert_eq!(first["cold_start"], true);
    assert_eq!(second["cold_start"], false);
    for inside in [first, second] {
        assert_eq!(inside["function_name"], "booking-fn");
        assert_eq!(inside["function_version"], "$LATEST");
        assert_eq!(inside["function_memory_size"], 512);
        assert_eq!(inside["route"], "/book");
        assert_eq!(inside["spans"], json!(["Lambda runtime invoke", "handler"]));
        assert!(inside.get("requestId").is_none() && inside.get("xrayTraceId").is_none());
    }
}

#[test]
fn provisioned_and_snapstart_environments_are_never_cold() {
    for init_type in ["provisioned-concurrency", "snap-start"] {
        let mut vars = LAMBDA.to_vec();
        vars.push(("AWS_LAMBDA_INITIALIZATION_TYPE", init_type));
        let lines = run_with(
            &vars,
            |b| b,
            || {
                invocation("req-1");
                invocation("req-2");
            },
        );
        assert_eq!(lines.len(), 2);
        for line in &lines {
            assert_eq!(line["cold_start"], false, "{init_type}");
        }
    }
}

#[test]
fn a_span_named_like_lambdas_fields_elsewhere_is_just_fields() {
    let lines = run(|| {
        let span = tracing::info_span!("client call", requestId = "downstream-7");
        let _e = span.enter();
        tracing::info!("called");
    });
    assert_eq!(lines[0]["requestId"], "downstream-7");
    assert!(lines[0].get("function_request_id").is_none());
    assert!(lines[0].get("cold_start").is_none());
}

#[test]
fn the_log_level_filters_lines_but_never_request_context() {
    let lines = run_with(
        &[("INSTRUMENT_LOG_LEVEL", "warn")],
        |b| b,
        || {
            let span = tracing::info_span!("request", correlation_id = "c-9", route = "/pay");
            let _e = span.enter();
            tracing::info!("dropped");
            tracing::warn!("kept");
        },
    );
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["message"], "kept");
    assert_eq!(lines[0]["correlation_id"], "c-9");
    assert_eq!(lines[0]["route"], "/pay");
}

#[test]
fn lambda_invocation_context_survives_a_warn_level() {
    let lines = run_with(
        &[("INSTRUMENT_LOG_LEVEL", "warn")],
        |b| b,
        || {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-w");
            let _e = span.enter();
            tracing::error!("failed");
        },
    );
    assert_eq!(lines[0]["function_request_id"], "req-w");
    assert_eq!(lines[0]["cold_start"], true);
}

#[test]
fn directives_work_as_in_env_filter() {
    let lines = run_with(
        &[("RUST_LOG", "warn,payments=debug")],
        |b| b,
        || {
            tracing::debug!(target: "payments", "kept debug");
            tracing::info!(target: "inventory", "dropped info");
            tracing::warn!(target: "inventory", "kept warn");
            tracing::trace!(target: "payments", "dropped trace");
        },
    );
    let messages: Vec<_> = lines.iter().map(|l| l["message"].clone()).collect();
    assert_eq!(messages, ["kept debug", "kept warn"]);
}

#[test]
fn lambda_log_level_caps_the_configured_level() {
    let lines = run_with(
        &[
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
            ("INSTRUMENT_LOG_LEVEL", "debug"),
        ],
        |b| b,
        || {
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
        },
    );
    let messages: Vec<_> = lines.iter().map(|l| l["message"].clone()).collect();
    assert_eq!(messages, ["w"]);
}

#[test]
fn code_configuration_wins_over_the_environment() {
    let lines = run_with(
        &[
            ("INSTRUMENT_SERVICE", "env-svc"),
            ("POWERTOOLS_SERVICE_NAME", "pt-svc"),
            ("INSTRUMENT_LOG_LEVEL", "error"),
            ("INSTRUMENT_ENVIRONMENT_VAR", "PAVI_ENVIRONMENT"),
            ("PAVI_ENVIRONMENT", "staging"),
        ],
        |b| b.service("code-svc").log_level("info"),
        || tracing::info!("x"),
    );
    assert_eq!(lines[0]["service"], "code-svc");
    assert_eq!(lines[0]["environment"], "staging");
}

#[test]
fn location_is_opt_in() {
    let lines = run_with(
        &[("INSTRUMENT_LOG_LOCATION", "on")],
        |b| b,
        || tracing::info!("here"),
    );
    let location = lines[0]["location"].as_str().unwrap();
    assert!(location.starts_with("tests/log_contract.rs:"), "{location}");
    let lines = run(|| tracing::info!("here"));
    assert!(lines[0].get("location").is_none());
}

#[test]
fn bad_configuration_is_a_typed_error_naming_the_variable() {
    let err = instrument::builder()
        .env_lookup(|k| (k == "INSTRUMENT_LOG_LEVEL").then(|| "loud".to_string()))
        .build()
        .err()
        .expect("loud is not a level");
    match &err {
        instrument::InitError::Config(config) => {
            assert_eq!(
                config.origin,
                instrument::Source::Variable("INSTRUMENT_LOG_LEVEL".into())
            );
            assert_eq!(config.value, "loud");
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("INSTRUMENT_LOG_LEVEL") && msg.contains("\"loud\"") && msg.contains("warn")
    );
}

#[test]
fn debug_and_display_values_are_strings_and_numbers_stay_numbers() {
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Seat {
        row: char,
        n: u8,
    }
    let lines = run(|| {
        tracing::info!(
            seat = ?Seat { row: 'F', n: 12 },
            price = %"12.50 EUR",
            big = u128::MAX,
            neg = i64::MIN,
            ratio = f64::NAN,
            "priced"
        )
    });
    let line = &lines[0];
    assert_eq!(line["seat"], "Seat { row: 'F', n: 12 }");
    assert_eq!(line["price"], "12.50 EUR");
    assert_eq!(line["neg"], i64::MIN);
    assert_eq!(line["ratio"], "NaN");
    assert!(line["big"].is_number());
}
