//! How a tracked call ended, decided by the type it returns: `error_type` names what went
//! wrong (the enum variant, the concrete error behind a box, an `ErrorType`'s own name), the
//! same on the metric dimension, the completion line's `error_type` and its `error.type`; HTTP
//! statuses and responses returned through a real axum router fail on 5xx (and on 4xx when
//! configured). One test per scenario group, run one after another: the 4xx policy is
//! process-wide.

use std::error::Error;
use std::fmt;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use instrument::testing::Capture;
use instrument::{track_performance, ErrorType};
use serde_json::Value;
use tower::ServiceExt;

/// Building a pipeline sets the process-wide 4xx policy: one test builds at a time.
static BUILDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[derive(Debug)]
enum BookingError {
    SoldOut,
    #[allow(dead_code)]
    Payment {
        code: u16,
    },
}
impl fmt::Display for BookingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the booking failed")
    }
}
impl Error for BookingError {}

#[derive(Debug, ErrorType)]
enum LedgerError {
    #[error_type = "LedgerLocked"]
    Locked,
    #[allow(dead_code)]
    Closed(u32),
}
impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the ledger refused")
    }
}
impl Error for LedgerError {}

#[track_performance]
fn book(seats: u32) -> Result<u32, BookingError> {
    match seats {
        0 => Err(BookingError::Payment { code: 51 }),
        s if s > 4 => Err(BookingError::SoldOut),
        s => Ok(s),
    }
}

#[track_performance]
fn book_boxed(seats: u32) -> Result<u32, Box<dyn Error + Send + Sync>> {
    match seats {
        0 => Err("no seats at all".into()),
        s => Ok(book(s)?),
    }
}

#[track_performance]
fn book_anyhow(seats: u32) -> anyhow::Result<u32> {
    Ok(book(seats)?)
}

#[track_performance]
fn post_ledger() -> Result<(), LedgerError> {
    Err(LedgerError::Locked)
}

/// `(error_type dimension of each .error document, completion lines' (error_type, error.type))`
/// of the function `function`.
fn failures(capture: &Capture, function: &str) -> (Vec<String>, Vec<(Value, Value)>) {
    let docs = capture.emf_documents();
    let mut dims: Vec<String> = docs
        .iter()
        .filter(|d| d.get(format!("{function}.error")).is_some())
        .map(|d| d["error_type"].as_str().unwrap_or("<none>").to_string())
        .collect();
    dims.sort();
    let lines = capture
        .logs()
        .into_iter()
        .filter(|l| l["function"] == function && l["outcome"] == "error")
        .map(|l| (l["error_type"].clone(), l["error"]["type"].clone()))
        .collect();
    (dims, lines)
}

#[test]
fn error_type_names_what_went_wrong_the_same_everywhere() {
    let _one = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let capture = Capture::new();
    capture.run(|| {
        let _ = book(9);
        let _ = book(0);
        let _ = post_ledger();
    });
    let (dims, lines) = failures(&capture, "book");
    assert_eq!(dims, ["Payment", "SoldOut"], "one series per variant");
    assert_eq!(
        lines,
        [
            ("SoldOut".into(), "SoldOut".into()),
            ("Payment".into(), "Payment".into())
        ]
    );
    let (dims, lines) = failures(&capture, "post_ledger");
    assert_eq!(dims, ["LedgerLocked"], "a derived ErrorType's own name");
    assert_eq!(lines, [("LedgerLocked".into(), "LedgerLocked".into())]);

    let capture = Capture::new();
    capture.run(|| {
        let _ = book_boxed(9);
        let _ = book_boxed(0);
        let _ = book_anyhow(0);
    });
    let (dims, lines) = failures(&capture, "book_boxed");
    assert_eq!(
        dims,
        ["Error", "SoldOut"],
        "the concrete error behind the box"
    );
    assert_eq!(
        lines,
        [
            ("SoldOut".into(), "SoldOut".into()),
            ("Error".into(), "Error".into())
        ]
    );
    let (dims, lines) = failures(&capture, "book_anyhow");
    assert_eq!(dims, ["Payment"], "the concrete error behind anyhow::Error");
    assert_eq!(lines, [("Payment".into(), "Payment".into())]);
}

#[track_performance]
async fn status_only(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}

#[track_performance]
async fn with_body(code: u16) -> (StatusCode, &'static str) {
    (StatusCode::from_u16(code).unwrap(), "body")
}

#[track_performance]
async fn full_response(code: u16) -> Response {
    (StatusCode::from_u16(code).unwrap(), "body").into_response()
}

#[track_performance]
async fn fallible(code: u16) -> Result<(StatusCode, String), BookingError> {
    if code == 0 {
        return Err(BookingError::SoldOut);
    }
    Ok((StatusCode::from_u16(code).unwrap(), "ok".to_string()))
}

fn router() -> Router {
    let code = |uri: &axum::http::Uri| uri.query().unwrap_or("200").parse::<u16>().unwrap();
    Router::new()
        .route(
            "/status",
            get(move |uri: axum::http::Uri| async move { status_only(code(&uri)).await }),
        )
        .route(
            "/body",
            get(move |uri: axum::http::Uri| async move { with_body(code(&uri)).await }),
        )
        .route(
            "/response",
            get(move |uri: axum::http::Uri| async move { full_response(code(&uri)).await }),
        )
        .route(
            "/fallible",
            get(move |uri: axum::http::Uri| async move {
                fallible(code(&uri)).await.map_err(|_| StatusCode::CONFLICT)
            }),
        )
}

fn send(capture: &Capture, paths: &[&str]) {
    let _default = capture.set_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = router();
    rt.block_on(async {
        for path in paths {
            let request = Request::get(*path).body(Body::empty()).unwrap();
            app.clone().oneshot(request).await.unwrap();
        }
    });
}

fn counts(capture: &Capture, function: &str) -> (f64, f64) {
    (
        capture.metric_sum(&format!("{function}.success")),
        capture.metric_sum(&format!("{function}.error")),
    )
}

#[test]
fn http_statuses_decide_the_outcome_through_a_real_router() {
    let paths = [
        "/status?200",
        "/status?404",
        "/status?503",
        "/body?201",
        "/body?500",
        "/response?204",
        "/response?502",
        "/fallible?200",
        "/fallible?503",
        "/fallible?0",
        "/fallible?409",
    ];
    let _one = BUILDS.lock().unwrap_or_else(|e| e.into_inner());
    let capture = Capture::new();
    send(&capture, &paths);
    assert_eq!(
        counts(&capture, "status_only"),
        (2.0, 1.0),
        "404 is a success"
    );
    assert_eq!(counts(&capture, "with_body"), (1.0, 1.0));
    assert_eq!(counts(&capture, "full_response"), (1.0, 1.0));
    assert_eq!(
        counts(&capture, "fallible"),
        (2.0, 2.0),
        "Ok(503) and Err fail"
    );
    let (dims, lines) = failures(&capture, "fallible");
    assert_eq!(dims, ["503", "SoldOut"]);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].0, "503");
    let (dims, _) = failures(&capture, "full_response");
    assert_eq!(dims, ["502"]);

    // INSTRUMENT_HTTP_CLIENT_ERRORS=on: a 4xx fails too.
    let capture = Capture::with(|b| {
        b.env_lookup(|name| (name == "INSTRUMENT_HTTP_CLIENT_ERRORS").then(|| "on".to_string()))
    });
    send(&capture, &["/status?404", "/status?200", "/fallible?409"]);
    assert_eq!(counts(&capture, "status_only"), (1.0, 1.0));
    assert_eq!(failures(&capture, "status_only").0, ["404"]);
    assert_eq!(counts(&capture, "fallible"), (0.0, 1.0));
}
