//! Drives an axum router in-process (through `tower::ServiceExt`) with a [`Capture`] as the
//! subscriber.
#![allow(dead_code)] // each test binary uses a different subset

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use instrument::testing::Capture;
use tower::ServiceExt;

/// Sends each request through `app` on a current-thread runtime with `capture` as subscriber.
pub fn send_all(
    capture: &Capture,
    app: &Router,
    requests: Vec<Request<Body>>,
) -> Vec<(StatusCode, HeaderMap, String)> {
    let _default = capture.set_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut out = Vec::new();
        for request in requests {
            let response = app.clone().oneshot(request).await.unwrap();
            let (parts, body) = response.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            out.push((
                parts.status,
                parts.headers,
                String::from_utf8(body.to_vec()).unwrap(),
            ));
        }
        out
    })
}

pub fn get_with(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}
