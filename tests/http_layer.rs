//! The HTTP layer around a real axum router (driven in-process through `tower::ServiceExt`):
//! correlation IDs in and out, the request span, the matched route, and the request metrics.
//! Every assertion is on parsed JSON lines and EMF documents.

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderMap, HeaderName, Request, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use instrument::http::{CorrelationHeaders, RequestLayer};
use instrument::testing::Capture;
use serde_json::Value;
use support::http_driver::{get_with, send_all};
use tower::ServiceExt;

fn axum_route(extensions: &http::Extensions) -> Option<String> {
    extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
}

fn app(layer: RequestLayer) -> Router {
    Router::new()
        .route(
            "/bookings/{id}",
            get(|| async {
                tracing::info!("loading the booking");
                "booking"
            }),
        )
        .route("/bookings", post(|| async { StatusCode::CREATED }))
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route(
            "/whoami",
            get(|| async { instrument::correlation_id().unwrap_or_default() }),
        )
        .layer(layer.route(axum_route))
}

fn capture(
    configure: impl FnOnce(
        instrument::Builder<instrument::testing::LogBuffer>,
    ) -> instrument::Builder<instrument::testing::LogBuffer>,
) -> Capture {
    Capture::with(|b| configure(b.service("booking")))
}

fn finished_lines(capture: &Capture) -> Vec<Value> {
    capture
        .logs()
        .into_iter()
        .filter(|l| l["target"] == "instrument::http")
        .collect()
}

#[test]
fn the_correlation_id_comes_from_the_headers_else_a_fresh_uuid_and_is_echoed() {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");
    // (request headers, the expected correlation ID; `None`: a fresh UUID v4)
    type Case<'a> = (Vec<(&'a str, &'a str)>, Option<&'a str>);
    let cases: Vec<Case<'_>> = vec![
        (vec![("x-correlation-id", "corr-1")], Some("corr-1")),
        (vec![("x-request-id", "req-2")], Some("req-2")),
        (vec![("traceparent", traceparent.as_str())], Some(trace)),
        (
            vec![
                ("traceparent", traceparent.as_str()),
                ("X-Correlation-ID", "corr-3"),
            ],
            Some("corr-3"),
        ),
        (vec![("traceparent", "00-nope-01")], None),
        (vec![], None),
    ];
    let capture = capture(|b| b);
    let app = app(RequestLayer::new());
    let requests = cases
        .iter()
        .map(|(headers, _)| get_with("/whoami", headers))
        .collect();
    let responses = send_all(&capture, &app, requests);
    let lines = finished_lines(&capture);
    assert_eq!(lines.len(), cases.len());
    for (((_, expected), (status, headers, body)), line) in cases.iter().zip(&responses).zip(&lines)
    {
        assert_eq!(*status, StatusCode::OK);
        let echoed = headers["x-correlation-id"].to_str().unwrap();
        match expected {
            Some(id) => assert_eq!(echoed, *id),
            None => {
                let uuid = uuid::Uuid::parse_str(echoed).unwrap();
                assert_eq!(uuid.get_version_num(), 4, "{echoed}");
            }
        }
        assert_eq!(body, echoed, "the handler reads the same ID");
        assert_eq!(line["correlation_id"], echoed);
    }
}

#[test]
fn the_correlation_headers_are_configurable() {
    let capture = capture(|b| b);
    let layer = RequestLayer::new()
        .correlation_headers([HeaderName::from_static("x-amzn-trace-id")])
        .response_header(HeaderName::from_static("x-amzn-trace-id"));
    let app = app(layer);
    let responses = send_all(
        &capture,
        &app,
        vec![get_with(
            "/whoami",
            &[
                ("x-amzn-trace-id", "Root=1-abc"),
                ("x-correlation-id", "ignored"),
            ],
        )],
    );
    assert_eq!(responses[0].2, "Root=1-abc");
    assert_eq!(responses[0].1["x-amzn-trace-id"], "Root=1-abc");
    assert!(responses[0].1.get("x-correlation-id").is_none());
}

#[test]
fn lines_inside_a_request_carry_its_span_and_the_matched_route() {
    let capture = capture(|b| b);
    let app = app(RequestLayer::new());
    send_all(
        &capture,
        &app,
        vec![
            get_with("/bookings/17", &[("x-correlation-id", "c-17")]),
            get_with("/bookings/18", &[]),
            get_with("/nowhere/19", &[]),
        ],
    );
    let logs = capture.logs();
    let loading: Vec<&Value> = logs
        .iter()
        .filter(|l| l["message"] == "loading the booking")
        .collect();
    assert_eq!(loading.len(), 2);
    assert_eq!(loading[0]["correlation_id"], "c-17");
    for line in &loading {
        assert_eq!(line["span"], "http_request");
        assert_eq!(line["method"], "GET");
        assert_eq!(
            line["route"], "/bookings/{id}",
            "the template, not the path"
        );
    }
    let finished = finished_lines(&capture);
    let routes: Vec<&str> = finished
        .iter()
        .map(|l| l["route"].as_str().unwrap())
        .collect();
    assert_eq!(routes, ["/bookings/{id}", "/bookings/{id}", "unmatched"]);
    assert_eq!(finished[0]["status_code"], 200);
    assert_eq!(finished[0]["level"], "INFO");
    assert!(finished[0]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(finished[2]["status_code"], 404);
    assert_eq!(finished[2]["level"], "WARN");
}

/// `http_request.success` / `.client_error` / `.server_error` and `.latency`, per route and
/// method — with every log line filtered out, since metrics never depend on the log level.
#[test]
fn request_metrics_per_status_family_route_and_method() {
    let capture = capture(|b| b.log_level("off"));
    let app = app(RequestLayer::new());
    send_all(
        &capture,
        &app,
        vec![
            get_with("/bookings/1", &[]),
            get_with("/bookings/2", &[]),
            Request::post("/bookings").body(Body::empty()).unwrap(),
            get_with("/fail", &[]),
            get_with("/missing/3", &[]),
        ],
    );
    assert!(capture.logs().is_empty());
    let docs = capture.emf_documents();
    let sum = |metric: &str, route: &str, method: &str| -> f64 {
        docs.iter()
            .filter(|d| d["route"] == route && d["method"] == method)
            .filter_map(|d| d[metric].as_f64())
            .sum()
    };
    assert_eq!(sum("http_request.success", "/bookings/{id}", "GET"), 2.0);
    assert_eq!(sum("http_request.success", "/bookings", "POST"), 1.0);
    assert_eq!(sum("http_request.server_error", "/fail", "GET"), 1.0);
    assert_eq!(sum("http_request.client_error", "unmatched", "GET"), 1.0);
    assert_eq!(
        sum("http_request.client_error", "/bookings/{id}", "GET"),
        0.0
    );
    // Raw paths never become dimension values.
    assert!(docs
        .iter()
        .all(|d| d["route"] != "/bookings/1" && d["route"] != "/missing/3"));

    let latencies: usize = docs
        .iter()
        .map(|d| match &d["http_request.latency"] {
            Value::Array(values) => values.len(),
            Value::Number(_) => 1,
            _ => 0,
        })
        .sum();
    assert_eq!(latencies, 5);
    for doc in &docs {
        for directive in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            for metric in directive["Metrics"].as_array().unwrap() {
                let expected = if metric["Name"] == "http_request.latency" {
                    "Milliseconds"
                } else {
                    "Count"
                };
                assert_eq!(metric["Unit"], expected, "{doc}");
            }
            let dims = &directive["Dimensions"][0];
            assert_eq!(
                *dims,
                serde_json::json!(["service", "route", "method"]),
                "{doc}"
            );
        }
        assert_eq!(doc["service"], "booking");
    }
}

/// A service calls another with `HeaderMap::insert_correlation_id`: both log the caller's ID.
#[test]
fn the_correlation_id_follows_outgoing_calls() {
    let capture = capture(|b| b);
    let downstream = Router::new()
        .route(
            "/seats",
            get(|| async {
                tracing::info!("counting seats");
                "12"
            }),
        )
        .layer(RequestLayer::new().route(axum_route));
    let downstream = Arc::new(downstream);
    let front = Router::new()
        .route(
            "/book",
            get(move || {
                let downstream = downstream.clone();
                async move {
                    let mut request = Request::get("/seats").body(Body::empty()).unwrap();
                    let sent = request.headers_mut().insert_correlation_id();
                    let response = (*downstream).clone().oneshot(request).await.unwrap();
                    let echoed = response.headers()["x-correlation-id"]
                        .to_str()
                        .unwrap()
                        .to_owned();
                    assert_eq!(sent.as_deref(), Some(echoed.as_str()));
                    echoed
                }
            }),
        )
        .layer(RequestLayer::new().route(axum_route));
    let responses = send_all(
        &capture,
        &front,
        vec![get_with("/book", &[("x-request-id", "trip-9")])],
    );
    assert_eq!(responses[0].2, "trip-9");
    let logs = capture.logs();
    let counting = logs
        .iter()
        .find(|l| l["message"] == "counting seats")
        .unwrap();
    assert_eq!(counting["correlation_id"], "trip-9");
    assert_eq!(counting["route"], "/seats");
    let finished = finished_lines(&capture);
    let routes: Vec<(&str, &str)> = finished
        .iter()
        .map(|l| {
            (
                l["route"].as_str().unwrap(),
                l["correlation_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(routes, [("/seats", "trip-9"), ("/book", "trip-9")]);

    // Outside any request there is nothing to send.
    let mut headers = HeaderMap::new();
    assert_eq!(capture.run(|| headers.insert_correlation_id()), None);
    assert!(headers.is_empty());
}

/// Issue 15 (9): keys appended by a handler are on every later line of its request — the
/// HTTP layer's completion line included — and never on the next request's.
#[test]
fn appended_keys_reach_the_completion_line_and_end_with_the_request() {
    let capture = capture(|b| b);
    let app = Router::new()
        .route(
            "/me",
            get(|headers: HeaderMap| async move {
                if let Some(user) = headers.get("x-user") {
                    let user = user.to_str().unwrap().to_string();
                    instrument::append_keys!(user_id = %user);
                }
                tracing::info!("serving");
                "me"
            }),
        )
        .layer(RequestLayer::new().route(axum_route));
    send_all(
        &capture,
        &app,
        vec![get_with("/me", &[("x-user", "u-7")]), get_with("/me", &[])],
    );
    let serving: Vec<Value> = capture
        .logs()
        .into_iter()
        .filter(|l| l["message"] == "serving")
        .collect();
    assert_eq!(serving[0]["user_id"], "u-7");
    assert!(serving[1].get("user_id").is_none(), "{}", serving[1]);
    let finished = finished_lines(&capture);
    assert_eq!(finished.len(), 2);
    assert_eq!(finished[0]["user_id"], "u-7", "{}", finished[0]);
    assert!(finished[1].get("user_id").is_none(), "{}", finished[1]);
}
