//! Traces (feature `otel`) exported to a real OTLP/HTTP receiver on 127.0.0.1
//! (`tests/support/otlp_receiver.py`, decoding with the published OpenTelemetry protobuf
//! definitions; started by `scripts/test.sh`, which sets `INSTRUMENT_TEST_OTLP_URL`). Without
//! it, plain `cargo test` prints a notice and skips these tests.
#![cfg(feature = "otel")]

mod support;

use std::collections::BTreeSet;
use std::fmt;

use instrument::testing::Capture;
use serde_json::Value;
use support::otlp;

#[derive(Debug)]
struct Declined(String);

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the card of {} was declined", self.0)
    }
}

impl std::error::Error for Declined {}

#[instrument::track_performance]
fn checkout(seats: u32) -> Result<u32, Declined> {
    let _cart = tracing::info_span!(
        "cart",
        annotation.customer = "acme",
        annotation.seats = seats,
        metadata.channel = "web",
        metadata.contact = "jane.doe@example.com"
    )
    .entered();
    tracing::info!("pricing");
    price(seats)
}

#[instrument::track_performance]
fn price(seats: u32) -> Result<u32, Declined> {
    if seats > 4 {
        Err(Declined("jane.doe@example.com".to_string()))
    } else {
        Ok(seats * 10)
    }
}

/// A capture exporting every trace (or `rate` of them) to the receiver as `service`.
fn traced(url: &str, service: &str, rate: f64) -> Capture {
    let endpoint = format!("{url}/v1/traces");
    let service = service.to_string();
    Capture::with(move |b| {
        b.service(service)
            .trace_endpoint(endpoint)
            .trace_sample_rate(rate)
    })
}

/// A numeric attribute (an unsigned one above `i64::MAX` is exported as text).
fn number(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.parse().expect("a number"),
        other => other.as_u64().expect("a number"),
    }
}

fn by_parent<'a>(spans: &'a [Value], parent: &Value) -> Vec<&'a Value> {
    spans
        .iter()
        .filter(|s| s["parent_span_id"] == parent["span_id"])
        .collect()
}

#[test]
fn sampled_calls_are_exported_with_xray_ids_links_annotations_and_errors() {
    let Some(url) = otlp::receiver() else { return };
    let service = otlp::unique_service("checkout");
    let capture = traced(&url, &service, 1.0);
    capture.run(|| {
        assert_eq!(checkout(2).unwrap(), 20);
        assert!(checkout(9).is_err());
    });
    capture.flush();
    let spans = otlp::wait_for_spans(&url, &service, 6);
    assert_eq!(spans.len(), 6, "{spans:#?}");

    let roots: Vec<&Value> = spans.iter().filter(|s| s["name"] == "checkout").collect();
    assert_eq!(roots.len(), 2);
    for root in &roots {
        assert_eq!(root["parent_span_id"], "", "a trace root: {root}");
        let trace_id = root["trace_id"].as_str().unwrap();
        otlp::assert_xray_trace_id(trace_id);
        // checkout → cart → price, all in the root's trace.
        let carts = by_parent(&spans, root);
        assert_eq!(carts.len(), 1, "{spans:#?}");
        let cart = carts[0];
        assert_eq!(cart["name"], "cart");
        let prices = by_parent(&spans, cart);
        assert_eq!(prices.len(), 1, "{spans:#?}");
        let price = prices[0];
        assert_eq!(price["name"], "price");
        for span in [cart, price] {
            assert_eq!(span["trace_id"], trace_id);
        }
        assert_eq!(root["attributes"]["function"], "checkout");
        // annotation.* → X-Ray annotations (listed in aws.xray.annotations), metadata.* → metadata.
        assert_eq!(cart["attributes"]["customer"], "acme");
        assert_eq!(cart["attributes"]["channel"], "web");
        // Span fields are redacted as the log lines' are.
        assert_eq!(cart["attributes"]["contact"], "[REDACTED:email]");
        assert!(
            cart["attributes"].get("annotation.customer").is_none(),
            "{cart}"
        );
        let annotated: BTreeSet<&str> = cart["attributes"]["aws.xray.annotations"]
            .as_array()
            .expect("the annotation keys")
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(annotated, BTreeSet::from(["customer", "seats"]));
    }

    let failed = roots
        .iter()
        .find(|r| number(&r["attributes"]["seats"]) == 9)
        .expect("the failed checkout");
    let ok = roots
        .iter()
        .find(|r| number(&r["attributes"]["seats"]) == 2)
        .expect("the good checkout");
    assert_ne!(failed["trace_id"], ok["trace_id"], "two traces");
    const ERROR: i64 = 2; // STATUS_CODE_ERROR
    assert_eq!(failed["status"]["code"], ERROR, "{failed}");
    assert_ne!(ok["status"]["code"], ERROR, "{ok}");
    let failed_price = by_parent(&spans, by_parent(&spans, failed)[0])[0];
    assert_eq!(failed_price["status"]["code"], ERROR);
    let exceptions: Vec<&Value> = failed_price["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "exception")
        .collect();
    assert_eq!(exceptions.len(), 1, "{failed_price}");
    let message = exceptions[0]["attributes"]["exception.message"]
        .as_str()
        .unwrap();
    assert_eq!(message, "the card of [REDACTED:email] was declined");
    assert!(
        !Value::Array(spans.clone()).to_string().contains("jane.doe"),
        "no PII in any exported span"
    );

    // Log lines inside a sampled span carry its trace ID (X-Ray's form) and span ID.
    let logs = capture.logs();
    let pricing: Vec<&Value> = logs.iter().filter(|l| l["message"] == "pricing").collect();
    assert_eq!(pricing.len(), 2);
    for line in pricing {
        let root = roots
            .iter()
            .find(|r| Some(number(&r["attributes"]["seats"])) == line["seats"].as_u64())
            .unwrap();
        let cart = by_parent(&spans, root)[0];
        let trace = root["trace_id"].as_str().unwrap();
        assert_eq!(
            line["trace_id"],
            format!("1-{}-{}", &trace[..8], &trace[8..]),
            "{line}"
        );
        assert_eq!(line["span_id"], cart["span_id"], "{line}");
    }
}

#[instrument::track_performance]
fn leaf(call: u64) -> bool {
    // Whether this call opened its span: a deferred call is pending while its body runs.
    instrument::__private::pending_calls() == 0
}

#[test]
fn the_sample_rate_holds_and_unsampled_calls_stay_deferred_and_export_nothing() {
    let Some(url) = otlp::receiver() else { return };
    let service = otlp::unique_service("rate");
    let capture = traced(&url, &service, 0.1);
    const CALLS: u64 = 10_000;
    let opened: BTreeSet<u64> = capture.run(|| (0..CALLS).filter(|&i| leaf(i)).collect());
    capture.flush();
    // Binomial(10000, 0.1): mean 1000, standard deviation 30; 5 of them either way.
    let n = opened.len() as f64;
    assert!((n - 1000.0).abs() < 150.0, "{n} of {CALLS} sampled");
    let spans = otlp::wait_for_spans(&url, &service, opened.len());
    let exported: BTreeSet<u64> = spans
        .iter()
        .map(|s| number(&s["attributes"]["call"]))
        .collect();
    assert_eq!(spans.len(), opened.len(), "one span per sampled call");
    assert_eq!(
        exported, opened,
        "exactly the calls that opened their span are exported; deferred ones are not"
    );
    // Metrics count every call, sampled or not.
    assert_eq!(capture.metric_sum("leaf.success"), CALLS as f64);
}

#[test]
fn a_zero_rate_exports_nothing_and_every_call_defers() {
    let Some(url) = otlp::receiver() else { return };
    let service = otlp::unique_service("never");
    let capture = traced(&url, &service, 0.0);
    let opened = capture.run(|| (0..1_000).filter(|&i| leaf(i)).count());
    assert_eq!(opened, 0);
    capture.run(|| {
        assert!(checkout(9).is_err(), "an error, logged: still not sampled");
    });
    capture.flush();
    // Give a late export every chance to arrive.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(otlp::spans(&url, &service), Vec::<Value>::new());
    assert!(
        capture.logs().iter().all(|l| l.get("trace_id").is_none()),
        "no trace IDs outside sampled traces"
    );
}

#[instrument::track_performance]
fn explode(seats: u32) -> u32 {
    if seats > 0 {
        panic!("no seats for jane.doe@example.com");
    }
    seats
}

#[test]
fn a_panicking_call_is_an_error_span() {
    let Some(url) = otlp::receiver() else { return };
    let service = otlp::unique_service("panic");
    let capture = traced(&url, &service, 1.0);
    let caught = capture.run(|| std::panic::catch_unwind(|| explode(1)));
    assert!(caught.is_err());
    capture.flush();
    let spans = otlp::wait_for_spans(&url, &service, 1);
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let span = &spans[0];
    assert_eq!(span["name"], "explode");
    assert_eq!(span["attributes"]["outcome"], "panic");
    assert_eq!(span["status"]["code"], 2, "{span}");
    assert_eq!(span["status"]["message"], "panic", "{span}");
    assert!(!span.to_string().contains("jane.doe"), "{span}");
}

/// `#[tokio::main] async fn main() { let _guard = instrument::init(); … }`: the exporter's
/// blocking HTTP client is built and dropped inside an async runtime without panicking, and
/// exports from there.
#[test]
fn the_pipeline_lives_and_dies_inside_an_async_runtime() {
    let Some(url) = otlp::receiver() else { return };
    let service = otlp::unique_service("async-main");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let capture = traced(&url, &service, 1.0);
        assert!(capture.run(|| leaf(7)), "sampled: its span opened");
        capture.flush();
        drop(capture);
    });
    let spans = otlp::wait_for_spans(&url, &service, 1);
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(number(&spans[0]["attributes"]["call"]), 7);
}
