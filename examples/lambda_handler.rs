//! A real AWS Lambda function on `lambda_runtime`, instrumented with one line.
//!
//! **Run it here**, no AWS account needed:
//!
//! ```text
//! cargo run --example lambda_handler --features lambda
//! ```
//!
//! Without `AWS_LAMBDA_RUNTIME_API` set, the example serves Lambda's Runtime API itself on
//! 127.0.0.1 (the same small server the tests use), feeds the real runtime a handful of real
//! event payloads — API Gateway REST and HTTP, SQS, EventBridge, one that fails — and exits once
//! every invocation has answered. stdout is what CloudWatch would receive: one JSON log line per
//! event, each carrying its invocation's `function_request_id`, `xray_trace_id`,
//! `correlation_id` and `cold_start`, and the EMF documents (one per invocation, flushed when it
//! ends) that become CloudWatch metrics. The failing invocation also shows its buffered `DEBUG`
//! lines (`INSTRUMENT_LOG_BUFFER=on`); the others keep theirs to themselves. stderr gets a short
//! summary.
//!
//! **Deploy it** with [cargo-lambda](https://www.cargo-lambda.info):
//!
//! ```text
//! cargo lambda build --release --example lambda_handler --features lambda
//! cargo lambda deploy --binary-name lambda_handler booking-handler
//! ```
//!
//! or run it under cargo-lambda's local emulator (`cargo lambda watch`, then
//! `cargo lambda invoke --data-file tests/data/lambda/apigw_rest.json`). In both cases
//! `AWS_LAMBDA_RUNTIME_API` is set and the example is just the function.

use std::time::Duration;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[allow(dead_code)] // the example uses a part of the test server
#[path = "../tests/support/runtime_api.rs"]
mod runtime_api;

#[derive(Debug)]
struct SoldOut;

impl std::fmt::Display for SoldOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not enough seats left")
    }
}

impl std::error::Error for SoldOut {}

#[instrument::track_performance]
async fn reserve(seats: u64) -> Result<u64, SoldOut> {
    tokio::time::sleep(Duration::from_millis(2)).await;
    tracing::debug!(seats, "checking the inventory");
    if seats > 8 {
        return Err(SoldOut);
    }
    tracing::info!(counter.seats_reserved = seats, "seats reserved");
    Ok(seats)
}

/// The function: books seats for whatever event source invoked it.
async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let payload = &event.payload;
    let source = if payload.get("Records").is_some() {
        "sqs"
    } else if payload.get("detail-type").is_some() {
        "eventbridge"
    } else {
        "http"
    };
    tracing::debug!(source, "event received");
    let seats = payload["detail"]["seats"]
        .as_u64()
        .or_else(|| {
            payload["body"]
                .as_str()
                .and_then(|b| serde_json::from_str::<Value>(b).ok())
                .and_then(|b| b["seats"].as_u64())
        })
        .unwrap_or(1);
    tracing::info!(source, seats, "booking requested");
    let reserved = reserve(seats).await?;
    Ok(json!({ "statusCode": 201, "body": json!({ "reserved": reserved }).to_string() }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        let _guard = instrument::init();
        return lambda_runtime::run(instrument::lambda::service(service_fn(handler))).await;
    }
    run_locally().await
}

/// Plays Lambda: serves the Runtime API on 127.0.0.1 and invokes the function with sample
/// events until each has answered.
async fn run_locally() -> Result<(), Error> {
    let api = std::sync::Arc::new(runtime_api::RuntimeApi::start());
    // What Lambda sets for a function (before any thread that reads the environment starts).
    for (name, value) in [
        ("AWS_LAMBDA_RUNTIME_API", api.endpoint().as_str()),
        ("AWS_LAMBDA_FUNCTION_NAME", "booking-handler"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("INSTRUMENT_SERVICE", "booking"),
        ("INSTRUMENT_NAMESPACE", "Ticketing"),
        ("INSTRUMENT_LOG_BUFFER", "on"),
    ] {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
    let guard = instrument::init();

    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lambda");
    let mut invocations = Vec::new();
    for (id, file) in [
        ("8f5e0c1a-0001-4a1b-9c2d-3e4f5a6b7c01", "apigw_rest"),
        ("8f5e0c1a-0002-4a1b-9c2d-3e4f5a6b7c02", "apigw_http"),
        ("8f5e0c1a-0003-4a1b-9c2d-3e4f5a6b7c03", "sqs"),
        ("8f5e0c1a-0004-4a1b-9c2d-3e4f5a6b7c04", "eventbridge"),
    ] {
        let text = std::fs::read_to_string(format!("{data}/{file}.json"))?;
        invocations.push(runtime_api::Invocation::new(
            id,
            serde_json::from_str(&text)?,
        ));
    }
    // An EventBridge event asking for more seats than there are: the handler fails.
    let mut too_many: Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{data}/eventbridge.json"
    ))?)?;
    too_many["id"] = json!("0c2d4e6f-8a0b-4c2d-9e0f-1a2b3c4d5e6f");
    too_many["detail"]["seats"] = json!(12);
    invocations.push(runtime_api::Invocation::new(
        "8f5e0c1a-0005-4a1b-9c2d-3e4f5a6b7c05",
        too_many,
    ));
    let total = invocations.len();
    for invocation in invocations {
        api.push(invocation);
    }

    let waiting = api.clone();
    let done =
        tokio::task::spawn_blocking(move || waiting.wait_for(total, Duration::from_secs(60)));
    let outcomes = tokio::select! {
        result = lambda_runtime::run(instrument::lambda::service(service_fn(handler))) => {
            result?;
            return Err("the runtime stopped early".into());
        }
        outcomes = done => outcomes?,
    };
    guard.flush();

    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, runtime_api::Outcome::Error { .. }))
        .count();
    eprintln!(
        "lambda_handler: {total} invocations through the real lambda_runtime, {} succeeded, \
         {failed} failed (its buffered DEBUG lines were written); logs and EMF metrics are on stdout",
        total - failed
    );
    Ok(())
}
