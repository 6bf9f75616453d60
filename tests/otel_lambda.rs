//! Traces of Lambda invocations (features `otel` and `lambda`) through the real
//! `lambda_runtime`, exported to the OTLP/HTTP receiver `scripts/test.sh` starts (skipped with
//! a notice without it): the invocation's own X-Ray header is the parent and its `Sampled`
//! decides, also when invocations overlap, and outgoing calls carry that trace and decision on.
#![cfg(all(feature = "otel", feature = "lambda"))]

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instrument::lambda::InvocationLayer;
use instrument::testing::Capture;
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use support::lambda_driver::{drive, lambda_env};
use support::otlp;
use support::runtime_api::{Invocation, Outcome, RuntimeApi};

#[instrument::track_performance]
fn reserve(seats: u32) -> u32 {
    seats + 1
}

#[instrument::track_performance]
async fn confirm(seats: u32) -> u32 {
    tokio::task::yield_now().await;
    seats * 2
}

/// The X-Ray header a call to another service would carry from here (feature `http`).
fn outgoing_xray_header() -> Option<String> {
    #[cfg(feature = "http")]
    {
        use instrument::http::CorrelationHeaders;
        let mut headers = http::HeaderMap::new();
        headers.insert_correlation_id();
        headers
            .get("x-amzn-trace-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
    #[cfg(not(feature = "http"))]
    None
}

/// An X-Ray trace header as Lambda passes it: (header, root as OTLP hex, parent).
fn header(n: u32, sampled: bool) -> (String, String, String) {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let epoch = format!("{seconds:08x}");
    let unique = format!(
        "{:024x}",
        (u128::from(std::process::id()) << 32) | u128::from(n)
    );
    let parent = format!("{:016x}", 0x5eed_0000_0000_0000u64 + u64::from(n));
    let flag = if sampled { 1 } else { 0 };
    (
        format!("Root=1-{epoch}-{unique};Parent={parent};Sampled={flag}"),
        format!("{epoch}{unique}"),
        parent,
    )
}

#[test]
fn only_sampled_invocations_are_traced_each_under_its_own_header() {
    let Some(url) = otlp::receiver() else { return };
    let service = otlp::unique_service("lambda");
    let endpoint = format!("{url}/v1/traces");
    let name = service.clone();
    let capture = Arc::new(Capture::with(move |b| {
        b.service(name)
            .env_lookup(lambda_env("on-demand"))
            .trace_endpoint(endpoint)
            // Only the invocations' headers decide: no trace starts by rate.
            .trace_sample_rate(0.0)
    }));
    let api = Arc::new(RuntimeApi::start());
    let ids = ["inv-a", "inv-b", "inv-c", "inv-d"];
    let mut headers = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let sampled = n % 2 == 0;
        let (value, root, parent) = header(n as u32, sampled);
        let mut invocation = Invocation::new(id, json!({ "seats": n }));
        invocation.trace_id = Some(value);
        api.push(invocation);
        headers.push((*id, sampled, root, parent));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(ids.len()));
    let waiting = api.clone();
    let outcomes = drive(
        &capture,
        &api,
        Some(ids.len() as u32),
        InvocationLayer::new(),
        move |event: LambdaEvent<Value>| {
            let barrier = barrier.clone();
            async move {
                let seats = event.payload["seats"].as_u64().unwrap() as u32;
                // Every invocation is running before any goes on: they overlap.
                tokio::time::timeout(Duration::from_secs(10), barrier.wait())
                    .await
                    .map_err(|_| "the invocations did not overlap")?;
                let reserved = reserve(seats);
                tracing::info!(reserved, "reserved");
                let confirmed = confirm(reserved).await;
                Ok(json!({ "confirmed": confirmed, "outgoing": outgoing_xray_header() }))
            }
        },
        move || waiting.wait_for(4, Duration::from_secs(30)),
    );
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Response { .. })),
        "{outcomes:?}"
    );

    // Each invocation's calls to other services carry its own trace and decision on
    // (`Sampled=0` too, so the next service does not sample what this one did not).
    if cfg!(feature = "http") {
        for outcome in &outcomes {
            let Outcome::Response { request_id, body } = outcome else {
                unreachable!()
            };
            let (_, sampled, root, _) = headers.iter().find(|h| h.0 == request_id).unwrap();
            let out = body["outgoing"].as_str().expect("an outgoing X-Ray header");
            let prefix = format!("Root=1-{}-{};Parent=", &root[..8], &root[8..]);
            let suffix = format!(";Sampled={}", u8::from(*sampled));
            assert!(
                out.starts_with(&prefix) && out.ends_with(&suffix),
                "{request_id}: {out}"
            );
        }
    }

    // Two sampled invocations, three spans each: the invocation, reserve, confirm.
    let spans = otlp::wait_for_spans(&url, &service, 6);
    assert_eq!(spans.len(), 6, "{spans:#?}");
    let logs = capture.logs();
    for (id, sampled, root, parent) in &headers {
        let mine: Vec<&Value> = spans.iter().filter(|s| s["trace_id"] == *root).collect();
        if !sampled {
            assert!(mine.is_empty(), "{id} said Sampled=0: {mine:#?}");
            let lines: Vec<&Value> = logs
                .iter()
                .filter(|l| l["function_request_id"] == *id)
                .collect();
            assert!(!lines.is_empty());
            assert!(
                lines.iter().all(|l| l.get("trace_id").is_none()),
                "{lines:#?}"
            );
            continue;
        }
        assert_eq!(mine.len(), 3, "{id}: {spans:#?}");
        let invocation = mine
            .iter()
            .find(|s| s["name"] == "lambda_invocation")
            .expect("the invocation's span");
        assert_eq!(
            invocation["parent_span_id"], *parent,
            "{id}: parented on the header's Parent"
        );
        assert_eq!(invocation["attributes"]["function_request_id"], *id);
        for child in ["reserve", "confirm"] {
            let span = mine
                .iter()
                .find(|s| s["name"] == child)
                .unwrap_or_else(|| panic!("{id}: no {child} span"));
            assert_eq!(
                span["parent_span_id"], invocation["span_id"],
                "{id}: {child}"
            );
        }
        // The invocation's lines join its trace.
        let line = logs
            .iter()
            .find(|l| l["function_request_id"] == *id && l["message"] == "reserved")
            .expect("the reserved line");
        assert_eq!(
            line["trace_id"],
            format!("1-{}-{}", &root[..8], &root[8..]),
            "{line}"
        );
    }
}
