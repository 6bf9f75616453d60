//! An HTTP service on axum with instrument's tower layer.
//!
//! ```text
//! cargo run --example axum_service --features http            # serves 127.0.0.1:3000
//! curl -i -H 'x-correlation-id: trip-42' localhost:3000/bookings/17
//! curl -i -X POST localhost:3000/bookings                      # calls /inventory with the same ID
//!
//! cargo run --example axum_service --features http -- --demo   # sends itself a few requests, exits
//! ```
//!
//! Every request gets an `http_request` span with its correlation ID (from `x-correlation-id`,
//! `x-request-id` or `traceparent`, else a fresh UUID v4, echoed on the response), method,
//! matched route (`/bookings/{id}`, never the raw path), status code and latency; its lines
//! carry them all. `POST /bookings` calls `GET /inventory` on the same service with the
//! correlation ID injected into the outgoing headers, so both requests' lines share it.
//! stdout gets the JSON lines and, every few seconds (and at exit), the EMF documents with
//! `http_request.success` / `.client_error` / `.server_error` / `.latency` per route and
//! method. The demo ends with a short summary on stderr.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{MatchedPath, Path};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use instrument::http::{CorrelationHeaders, RequestLayer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[instrument::track_performance(objective(success = 99.9, latency_ms = 100, percentile = 95))]
async fn find_booking(id: u64) -> Result<String, StatusCode> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    if id == 0 {
        tracing::warn!(id, "no such booking");
        return Err(StatusCode::NOT_FOUND);
    }
    tracing::info!(id, "booking found");
    Ok(format!("{{\"id\":{id},\"seats\":2}}"))
}

async fn get_booking(Path(id): Path<u64>) -> Result<String, StatusCode> {
    find_booking(id).await
}

async fn create_booking(
    axum::extract::State(addr): axum::extract::State<SocketAddr>,
) -> (StatusCode, String) {
    // The next service (here: ourselves) sees the same correlation ID.
    let mut headers = axum::http::HeaderMap::new();
    headers.insert_correlation_id();
    match call(addr, "GET", "/inventory", &headers).await {
        Ok((200, body)) => {
            tracing::info!(
                counter.bookings_created = 1,
                inventory = body.as_str(),
                "booking created"
            );
            (StatusCode::CREATED, "{\"created\":true}".into())
        }
        other => {
            tracing::error!(inventory = ?other, "the inventory did not answer");
            (StatusCode::BAD_GATEWAY, String::new())
        }
    }
}

async fn inventory() -> &'static str {
    tracing::info!(gauge.seats_left = 40, "inventory checked");
    "{\"seats_left\":40}"
}

async fn boom() -> StatusCode {
    tracing::error!("the database is unreachable");
    StatusCode::SERVICE_UNAVAILABLE
}

fn app(addr: SocketAddr) -> Router {
    Router::new()
        .route("/bookings/{id}", get(get_booking))
        .route("/bookings", axum::routing::post(create_booking))
        .route("/inventory", get(inventory))
        .route("/health/db", get(boom))
        .with_state(addr)
        .layer(RequestLayer::new().route(|extensions| {
            extensions
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_owned())
        }))
}

/// A minimal HTTP/1.1 client over a plain socket: (status, body).
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &axum::http::HeaderMap,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: 0\r\n"
    );
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Ok((status, body))
}

#[tokio::main]
async fn main() {
    let demo = std::env::args().any(|a| a == "--demo");
    let guard = instrument::builder()
        .service("booking-api")
        .namespace("Ticketing")
        .metrics_flush_interval(Duration::from_secs(5))
        .install()
        .unwrap_or_else(|err| {
            eprintln!("axum_service: {err}");
            std::process::exit(2)
        });
    let bind = if demo {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3000"
    };
    let listener = match TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("axum_service: cannot listen on {bind}: {err}");
            std::process::exit(1)
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("axum_service: {err}");
            std::process::exit(1)
        }
    };
    tracing::info!(%addr, "listening");
    let server = tokio::spawn(async move { axum::serve(listener, app(addr)).await });
    if !demo {
        eprintln!("axum_service: listening on http://{addr} (try: curl -i -H 'x-correlation-id: trip-42' {addr}/bookings/17)");
        let _ = server.await;
        return;
    }

    let mut with_id = axum::http::HeaderMap::new();
    with_id.insert(
        "x-correlation-id",
        axum::http::HeaderValue::from_static("trip-42"),
    );
    let traceparent = axum::http::HeaderValue::from_static(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    );
    let mut traced = axum::http::HeaderMap::new();
    traced.insert("traceparent", traceparent);
    let none = axum::http::HeaderMap::new();
    let requests = [
        ("GET", "/bookings/17", &with_id),
        ("GET", "/bookings/18", &traced),
        ("GET", "/bookings/0", &none),
        ("POST", "/bookings", &with_id),
        ("GET", "/health/db", &none),
        ("GET", "/no/such/page", &none),
    ];
    let mut statuses = Vec::new();
    for (method, path, headers) in requests {
        match call(addr, method, path, headers).await {
            Ok((status, _)) => statuses.push(status),
            Err(err) => {
                eprintln!("axum_service: {method} {path} failed: {err}");
                std::process::exit(1)
            }
        }
    }
    server.abort();
    guard.flush();
    let count = |range: std::ops::Range<u16>| statuses.iter().filter(|s| range.contains(s)).count();
    eprintln!(
        "axum_service: {} requests served on {addr}: {} succeeded, {} client errors, {} server \
         errors; logs and EMF metrics are on stdout",
        statuses.len(),
        count(200..400),
        count(400..500),
        count(500..600),
    );
}
