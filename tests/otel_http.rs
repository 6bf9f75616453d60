//! Traces of HTTP requests (features `otel` and `http`) around a real axum router, exported to
//! the OTLP/HTTP receiver `scripts/test.sh` starts (skipped with a notice without it): the
//! caller's `traceparent` or `X-Amzn-Trace-Id` is the parent and decides, and outgoing headers
//! carry the trace and its decision on next to the correlation ID, sampled or not.
#![cfg(all(feature = "otel", feature = "http"))]

mod support;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use instrument::http::{CorrelationHeaders, RequestLayer};
use instrument::testing::Capture;
use serde_json::{json, Value};
use support::http_driver::{get_with, send_all};
use support::otlp;

#[instrument::track_performance]
fn load(id: u32) -> u32 {
    id * 2
}

/// The handler calls a tracked function and answers with the headers it would send to the
/// next service.
fn app() -> Router {
    Router::new()
        .route(
            "/bookings",
            get(|| async {
                load(21);
                let mut outgoing = HeaderMap::new();
                outgoing.insert_correlation_id();
                let headers: serde_json::Map<String, Value> = outgoing
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap())))
                    .collect();
                axum::Json(Value::Object(headers))
            }),
        )
        .route("/fail", get(|| async { StatusCode::BAD_GATEWAY }))
        .layer(RequestLayer::new())
}

fn send(capture: &Capture, requests: Vec<Request<Body>>) -> Vec<(StatusCode, Value)> {
    send_all(capture, &app(), requests)
        .into_iter()
        .map(|(status, _, body)| (status, serde_json::from_str(&body).unwrap_or(Value::Null)))
        .collect()
}

#[test]
fn callers_trace_headers_parent_and_decide_and_outgoing_headers_carry_the_trace() {
    let Some(url) = otlp::receiver() else { return };
    let service = otlp::unique_service("http");
    let endpoint = format!("{url}/v1/traces");
    let name = service.clone();
    let capture = Capture::with(move |b| {
        b.service(name)
            .trace_endpoint(endpoint)
            // Only the callers decide.
            .trace_sample_rate(0.0)
    });
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let w3c_trace = format!("{seconds:08x}0123456789abcdef01234567");
    let xray_trace = format!("{seconds:08x}fedcba9876543210fedcba98");
    let traceparent = format!("00-{w3c_trace}-00f067aa0ba902b7-01");
    let xray = format!(
        "Root=1-{}-{};Parent=53995c3f42cd8ad8;Sampled=1",
        &xray_trace[..8],
        &xray_trace[8..]
    );
    let unsampled = format!("00-{seconds:08x}aaaaaaaaaaaaaaaaaaaaaaaa-00f067aa0ba902b7-00");
    let answers = send(
        &capture,
        vec![
            get_with("/bookings", &[("traceparent", &traceparent)]),
            get_with("/bookings", &[("x-amzn-trace-id", &xray)]),
            get_with("/bookings", &[("traceparent", &unsampled)]),
            get_with("/bookings", &[]),
            get_with("/fail", &[("traceparent", &traceparent)]),
        ],
    );
    assert!(answers[..4].iter().all(|(s, _)| *s == StatusCode::OK));
    capture.flush();
    // Sampled: two requests with a tracked call each, and the failing one.
    let spans = otlp::wait_for_spans(&url, &service, 5);
    assert_eq!(spans.len(), 5, "{spans:#?}");

    for (answer, trace, parent) in [
        (&answers[0].1, &w3c_trace, "00f067aa0ba902b7"),
        (&answers[1].1, &xray_trace, "53995c3f42cd8ad8"),
    ] {
        let request = spans
            .iter()
            .find(|s| {
                s["name"] == "http_request" && s["trace_id"] == *trace && s["status"]["code"] != 2
            })
            .expect("the request's span");
        assert_eq!(request["parent_span_id"], parent, "{request}");
        let load = spans
            .iter()
            .find(|s| s["name"] == "load" && s["trace_id"] == *trace)
            .expect("the tracked call's span");
        assert_eq!(load["parent_span_id"], request["span_id"]);
        // The next service joins the trace under the request's span (current in the handler).
        let span_id = request["span_id"].as_str().unwrap();
        assert_eq!(
            answer["traceparent"],
            format!("00-{trace}-{span_id}-01"),
            "{answer}"
        );
        assert_eq!(
            answer["x-amzn-trace-id"],
            format!(
                "Root=1-{}-{};Parent={span_id};Sampled=1",
                &trace[..8],
                &trace[8..]
            ),
            "{answer}"
        );
        assert!(answer["x-correlation-id"].is_string(), "{answer}");
    }
    // Unsampled by the caller, or decided unsampled here at a zero rate: no spans, and the
    // next service is told so (flags `00`, `Sampled=0`) in the caller's trace, else in one
    // drawn for the request (X-Ray's form: its first 8 hex digits are the epoch seconds).
    let caller = format!("{seconds:08x}aaaaaaaaaaaaaaaaaaaaaaaa");
    for (answer, trace) in [(&answers[2].1, Some(&caller)), (&answers[3].1, None)] {
        let traceparent = answer["traceparent"].as_str().expect("traceparent");
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{answer}");
        assert_eq!((parts[0], parts[3]), ("00", "00"), "{answer}");
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        assert!(hex(parts[1], 32) && hex(parts[2], 16), "{answer}");
        match trace {
            Some(trace) => assert_eq!(parts[1], trace, "{answer}"),
            None => {
                let started = u64::from_str_radix(&parts[1][..8], 16).unwrap();
                assert!(started.abs_diff(seconds) < 600, "{answer}");
            }
        }
        assert_eq!(
            answer["x-amzn-trace-id"],
            format!(
                "Root=1-{}-{};Parent={};Sampled=0",
                &parts[1][..8],
                &parts[1][8..],
                parts[2]
            ),
            "{answer}"
        );
        assert!(answer["x-correlation-id"].is_string(), "{answer}");
    }
    // A 5xx is the request span's error.
    let failed: Vec<&Value> = spans
        .iter()
        .filter(|s| s["name"] == "http_request" && s["status"]["code"] == 2)
        .collect();
    assert_eq!(failed.len(), 1, "{spans:#?}");
    assert_eq!(failed[0]["trace_id"], w3c_trace);
}
