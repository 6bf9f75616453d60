//! The HTTP layer reads its section of the configuration `install()` resolved: what the
//! builder's `env_lookup` says, not the process environment. One test per binary, because
//! `install()` is process-global.

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use instrument::http::RequestLayer;
use tower::ServiceExt;

#[test]
fn the_http_layer_reads_the_installed_configuration() {
    assert!(std::env::var_os("INSTRUMENT_CORRELATION_HEADERS").is_none());
    let _guard = instrument::builder()
        .writer(instrument::testing::LogBuffer::default())
        .env_lookup(|name| {
            (name == "INSTRUMENT_CORRELATION_HEADERS").then(|| "X-Trace-Ref".to_string())
        })
        .install()
        .expect("install");

    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(RequestLayer::from_env().expect("the installed section"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let echoed = |header: &'static str| {
        let request = Request::get("/")
            .header(header, "ref-7")
            .body(Body::empty())
            .unwrap();
        let response = rt.block_on(app.clone().oneshot(request)).unwrap();
        response.headers()["x-correlation-id"]
            .to_str()
            .unwrap()
            .to_string()
    };
    // The installed section's header is read; the default list it replaced is not.
    assert_eq!(echoed("x-trace-ref"), "ref-7");
    assert_ne!(echoed("x-correlation-id"), "ref-7");
}
