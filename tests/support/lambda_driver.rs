//! Drives the real `lambda_runtime` over a handler wrapped in instrument's invocation layer,
//! against the Runtime API of [`super::runtime_api`], with a [`Capture`] as the subscriber.
#![allow(dead_code)] // each test binary uses a different subset

use std::future::Future;
use std::sync::{Arc, Mutex};

use instrument::lambda::InvocationLayer;
use instrument::testing::Capture;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use tower::Layer;

use super::runtime_api::RuntimeApi;

/// `lambda_runtime` reads its configuration from the process environment: one scenario at a
/// time sets it.
static ENV: Mutex<()> = Mutex::new(());

/// The Lambda environment instrument's configuration sees (never the process's).
pub fn lambda_env(init: &'static str) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    move |name| {
        let value = match name {
            "AWS_LAMBDA_FUNCTION_NAME" => "booking",
            "AWS_LAMBDA_FUNCTION_VERSION" => "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "512",
            "AWS_LAMBDA_INITIALIZATION_TYPE" => init,
            _ => return None,
        };
        Some(value.to_string())
    }
}

/// Runs `lambda_runtime::run_concurrent` over `handler` wrapped in `layer`, with `capture` as
/// the subscriber, until `until` (run on a blocking thread) returns.
pub fn drive<F, Fut, T>(
    capture: &Arc<Capture>,
    api: &RuntimeApi,
    max_concurrency: Option<u32>,
    layer: InvocationLayer,
    handler: F,
    until: impl FnOnce() -> T + Send + 'static,
) -> T
where
    F: Fn(LambdaEvent<Value>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Value, lambda_runtime::Error>> + Send + 'static,
    T: Send + 'static,
{
    drive_runtime(capture, api, max_concurrency, true, layer, handler, until)
}

/// [`drive`], with `runtime_span: false` for a runtime built without `lambda_runtime`'s
/// tracing layer (no "Lambda runtime invoke" span around the handler).
pub fn drive_runtime<F, Fut, T>(
    capture: &Arc<Capture>,
    api: &RuntimeApi,
    max_concurrency: Option<u32>,
    runtime_span: bool,
    layer: InvocationLayer,
    handler: F,
    until: impl FnOnce() -> T + Send + 'static,
) -> T
where
    F: Fn(LambdaEvent<Value>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Value, lambda_runtime::Error>> + Send + 'static,
    T: Send + 'static,
{
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY-free in edition 2021; serialised by `ENV`.
    std::env::set_var("AWS_LAMBDA_RUNTIME_API", api.endpoint());
    std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "booking");
    std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512");
    std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    match max_concurrency {
        Some(n) => std::env::set_var("AWS_LAMBDA_MAX_CONCURRENCY", n.to_string()),
        None => std::env::remove_var("AWS_LAMBDA_MAX_CONCURRENCY"),
    }
    let _default = capture.set_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let service = layer.layer(service_fn(handler));
        let runtime = async move {
            if runtime_span {
                lambda_runtime::run_concurrent(service).await
            } else {
                lambda_runtime::Runtime::new(service).run_concurrent().await
            }
        };
        let waiter = tokio::task::spawn_blocking(until);
        tokio::select! {
            result = runtime => panic!("the runtime stopped: {result:?}"),
            done = waiter => done.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
        }
    })
}
