//! The OTLP/HTTP receiver the trace tests export to (`tests/support/otlp_receiver.py`, started
//! by `scripts/test.sh`), and reading back what it decoded.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const URL_VAR: &str = "INSTRUMENT_TEST_OTLP_URL";
pub const REQUIRE_VAR: &str = "INSTRUMENT_TEST_REQUIRE_OTLP";

/// The receiver's base URL; `None` (with a notice) when it is not running, unless the test
/// script requires it.
pub fn receiver() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "{URL_VAR} is not set, but {REQUIRE_VAR} says the OTLP receiver must run: \
                 scripts/test.sh could not start tests/support/otlp_receiver.py (see its output)"
            );
            eprintln!(
                "notice: skipping a trace test: {URL_VAR} is not set. `bash scripts/test.sh` \
                 starts the OTLP receiver and sets it."
            );
            None
        }
    }
}

/// A service name no other test uses: the receiver keeps spans by service.
pub fn unique_service(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// GET `path` from the receiver (plain HTTP/1.0 on 127.0.0.1), as JSON.
fn get(url: &str, path: &str) -> Value {
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("the OTLP receiver answers");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .expect("an HTTP response");
    serde_json::from_str(body).expect("JSON from the receiver")
}

/// The spans of `service` the receiver has decoded so far.
pub fn spans(url: &str, service: &str) -> Vec<Value> {
    match get(url, &format!("/spans?service={service}")) {
        Value::Array(spans) => spans,
        other => panic!("not a list of spans: {other}"),
    }
}

/// Waits until the receiver holds at least `n` spans of `service` (exports are asynchronous
/// even after a flush returns, when the receiver is slow), then returns them all.
pub fn wait_for_spans(url: &str, service: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let spans = spans(url, service);
        if spans.len() >= n || start.elapsed() > Duration::from_secs(20) {
            return spans;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The span named `name` (the only one).
pub fn named<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    let found: Vec<&Value> = spans.iter().filter(|s| s["name"] == name).collect();
    assert_eq!(found.len(), 1, "one span named {name} in {spans:#?}");
    found[0]
}

/// An X-Ray trace ID's first 8 hex digits are the epoch seconds the trace started.
pub fn assert_xray_trace_id(trace_id: &str) {
    assert_eq!(trace_id.len(), 32, "{trace_id}");
    let seconds = u64::from_str_radix(&trace_id[..8], 16).expect("hex");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        seconds <= now && now - seconds < 600,
        "trace ID {trace_id} starts with {seconds}, now is {now}"
    );
}
