//! The Lambda integration driven by the real `lambda_runtime`, polling a Lambda Runtime API
//! served on 127.0.0.1 by `support::runtime_api`, with real event payloads
//! (`tests/data/lambda/`). Every assertion is on parsed JSON: log lines, EMF documents and what
//! the runtime reported to the Runtime API.

mod support;

use std::sync::Arc;
use std::time::Duration;

use instrument::lambda::{CorrelationPath, InvocationLayer};
use instrument::testing::Capture;
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use support::lambda_driver::{drive, drive_runtime, lambda_env};
use support::runtime_api::{Invocation, Outcome, RuntimeApi};

const FUNCTION_ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:booking";

fn event(name: &str) -> Value {
    let path = format!(
        "{}/tests/data/lambda/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn capture(
    configure: impl FnOnce(
        instrument::Builder<instrument::testing::LogBuffer>,
    ) -> instrument::Builder<instrument::testing::LogBuffer>,
) -> Arc<Capture> {
    Arc::new(Capture::with(|b| {
        configure(b.service("booking").env_lookup(lambda_env("on-demand")))
    }))
}

fn emf(capture: &Capture) -> Vec<Value> {
    capture
        .raw_metric_documents()
        .iter()
        .map(|doc| {
            let violations = instrument::instrument_emf::validate::document(doc);
            assert!(violations.is_empty(), "{violations:?}");
            serde_json::from_slice(doc).unwrap()
        })
        .collect()
}

/// The log lines of the invocation `request_id` written by this test's handlers and by
/// instrument (not by the runtime or the HTTP client it uses), but for the invocation's end
/// line (`the_invocation_ends_with_its_duration_and_peak_memory` checks that one).
fn lines_of(logs: &[Value], request_id: &str) -> Vec<Value> {
    logs.iter()
        .filter(|l| l["function_request_id"] == request_id)
        .filter(|l| l["message"] != "the invocation ended")
        .filter(|l| {
            let target = l["target"].as_str().unwrap_or_default();
            target == "lambda_integration" || target.starts_with("instrument")
        })
        .cloned()
        .collect()
}

fn messages(lines: &[Value]) -> Vec<&str> {
    lines.iter().filter_map(|l| l["message"].as_str()).collect()
}

#[test]
fn every_invocation_carries_its_context_from_real_events() {
    let cases = [
        ("apigw_rest", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"),
        ("apigw_http", "JKJaXmPLvHcESHA="),
        ("function_url", "caller-chosen-42"),
        ("alb", "Root=1-6740c2a2-7a6b5c4d3e2f1a0b9c8d7e6f"),
        ("eventbridge", "6a7e8feb-b491-4cf7-a9f1-bf3703467718"),
        ("sqs", "booking-flow-7f3a"),
    ];
    let capture = capture(|b| b);
    let api = Arc::new(RuntimeApi::start());
    let mut invocations = Vec::new();
    for (i, (name, _)) in cases.iter().enumerate() {
        invocations.push(Invocation::new(&format!("req-{i}-{name}"), event(name)));
    }
    invocations.push(Invocation::new("req-unknown", json!({"anything": 1})));
    let mut untraced = Invocation::new("req-untraced", json!({"id": "e-2"}));
    untraced.trace_id = None;
    invocations.push(untraced);
    for i in &invocations {
        api.push(i.clone());
    }
    let n = invocations.len();
    let waiting = api.clone();
    let outcomes = drive(
        &capture,
        &api,
        None,
        InvocationLayer::new(),
        |event: LambdaEvent<Value>| async move {
            let source = event.payload["source"]
                .as_str()
                .unwrap_or("http")
                .to_string();
            tracing::info!(counter.bookings = 1, source, "handled");
            Ok(json!({"ok": true}))
        },
        move || waiting.wait_for(n, Duration::from_secs(20)),
    );
    for i in &invocations {
        assert!(
            outcomes.contains(&Outcome::Response {
                request_id: i.request_id.clone(),
                body: json!({"ok": true})
            }),
            "{outcomes:?}"
        );
    }

    let logs = capture.logs();
    for (i, invocation) in invocations.iter().enumerate() {
        let lines = lines_of(&logs, &invocation.request_id);
        let handled: Vec<&Value> = lines.iter().filter(|l| l["message"] == "handled").collect();
        assert_eq!(handled.len(), 1, "{lines:#?}");
        let line = handled[0];
        assert_eq!(line["function_arn"], FUNCTION_ARN);
        assert_eq!(line["function_name"], "booking");
        assert_eq!(line["function_version"], "$LATEST");
        assert_eq!(line["function_memory_size"], 512);
        assert_eq!(line["service"], "booking");
        assert_eq!(
            line["cold_start"],
            i == 0,
            "only the first invocation is cold"
        );
        match &invocation.trace_id {
            Some(trace) => assert_eq!(&line["xray_trace_id"], trace),
            None => assert!(line.get("xray_trace_id").is_none(), "{line}"),
        }
        assert_eq!(line["span"], "lambda_invocation");
        assert_eq!(
            line["spans"],
            json!(["Lambda runtime invoke", "lambda_invocation"])
        );
        match cases.get(i) {
            Some((_, correlation)) => assert_eq!(line["correlation_id"], *correlation),
            None if invocation.request_id == "req-untraced" => {
                assert_eq!(line["correlation_id"], "e-2")
            }
            None => {
                let id = line["correlation_id"].as_str().unwrap();
                let uuid = uuid::Uuid::parse_str(id).unwrap();
                assert_eq!(uuid.get_version_num(), 4, "a fresh UUID v4: {id}");
            }
        }
    }

    // Each invocation's metrics were flushed when it ended (the test never flushed), in
    // documents carrying its request ID.
    let docs = emf(&capture);
    for invocation in &invocations {
        let mine: Vec<&Value> = docs
            .iter()
            .filter(|d| d["function_request_id"] == invocation.request_id.as_str())
            .filter(|d| d.get("ColdStart").is_none())
            .collect();
        assert_eq!(mine.len(), 1, "{docs:#?}");
        assert_eq!(mine[0]["bookings"], 1);
    }
    let cold: Vec<&Value> = docs
        .iter()
        .filter(|d| d.get("ColdStart").is_some())
        .collect();
    assert_eq!(cold.len(), 1, "{docs:#?}");
    assert_eq!(cold[0]["ColdStart"], 1);
    assert_eq!(cold[0]["function_name"], "booking");
    // The cold start names its invocation, as every other document of it does.
    assert_eq!(
        cold[0]["function_request_id"],
        invocations[0].request_id.as_str()
    );
    assert_eq!(
        &cold[0]["xray_trace_id"],
        invocations[0].trace_id.as_ref().unwrap()
    );
}

#[test]
fn provisioned_concurrency_is_never_a_cold_start() {
    let capture = Arc::new(Capture::with(|b| {
        b.env_lookup(lambda_env("provisioned-concurrency"))
    }));
    let api = Arc::new(RuntimeApi::start());
    for i in 0..2 {
        api.push(Invocation::new(&format!("pc-{i}"), event("eventbridge")));
    }
    let waiting = api.clone();
    drive(
        &capture,
        &api,
        None,
        InvocationLayer::new(),
        |_event: LambdaEvent<Value>| async move {
            tracing::info!("handled");
            Ok(Value::Null)
        },
        move || waiting.wait_for(2, Duration::from_secs(20)),
    );
    let logs = capture.logs();
    let handled: Vec<&Value> = logs.iter().filter(|l| l["message"] == "handled").collect();
    assert_eq!(handled.len(), 2);
    for line in handled {
        assert_eq!(line["cold_start"], false);
    }
    capture.flush();
    assert!(emf(&capture).iter().all(|d| d.get("ColdStart").is_none()));
}

#[test]
fn custom_correlation_paths_replace_the_presets() {
    let capture = capture(|b| b);
    let api = Arc::new(RuntimeApi::start());
    api.push(Invocation::new("custom-1", event("eventbridge")));
    api.push(Invocation::new("custom-2", event("apigw_rest")));
    let waiting = api.clone();
    let layer = InvocationLayer::new().correlation_paths([
        "detail.orderId".parse::<CorrelationPath>().unwrap(),
        CorrelationPath::API_GATEWAY_REST,
    ]);
    drive(
        &capture,
        &api,
        None,
        layer,
        |_event: LambdaEvent<Value>| async move {
            tracing::info!(correlation = instrument::correlation_id(), "handled");
            Ok(Value::Null)
        },
        move || waiting.wait_for(2, Duration::from_secs(20)),
    );
    let logs = capture.logs();
    let first = &lines_of(&logs, "custom-1")[0];
    assert_eq!(first["correlation_id"], "order-40017");
    assert_eq!(first["correlation"], "order-40017", "the accessor reads it");
    let second = &lines_of(&logs, "custom-2")[0];
    assert_eq!(
        second["correlation_id"],
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    );
}

/// With buffering on and the level at `info`, an invocation's `DEBUG` lines appear only when it
/// fails (returns an error or panics), before the error, and never those logged during init.
#[test]
fn buffered_debug_lines_are_written_only_for_failing_invocations() {
    // `noisy=warn`: that target's INFO lines are buffered like its DEBUG lines.
    let capture = capture(|b| b.log_level("info,noisy=warn").log_buffer(16 * 1024));
    capture.run(|| tracing::debug!("init detail"));
    let api = Arc::new(RuntimeApi::start());
    for (id, action) in [
        ("ok-1", "ok"),
        ("err-1", "error"),
        ("panic-1", "panic"),
        ("ok-2", "ok"),
    ] {
        api.push(Invocation::new(id, json!({"action": action})));
    }
    let waiting = api.clone();
    let outcomes = drive(
        &capture,
        &api,
        None,
        InvocationLayer::new(),
        |event: LambdaEvent<Value>| async move {
            let action = event.payload["action"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            tracing::info!(target: "noisy", "silenced by its directive");
            tracing::debug!(target: "noisy", "noisy detail");
            tracing::debug!(step = 1, "loaded the booking");
            tracing::info!("working");
            tracing::debug!(step = 2, "priced the booking");
            match action.as_str() {
                "error" => Err("payment declined".into()),
                "panic" => panic!("inventory corrupted"),
                _ => Ok(Value::Null),
            }
        },
        move || waiting.wait_for(4, Duration::from_secs(20)),
    );
    assert!(matches!(
        outcomes.iter().find(|o| o.request_id() == Some("err-1")),
        Some(Outcome::Error { .. })
    ));
    assert!(matches!(
        outcomes.iter().find(|o| o.request_id() == Some("panic-1")),
        Some(Outcome::Error { .. })
    ));

    let logs = capture.logs();
    assert!(
        logs.iter().all(|l| l["message"] != "init detail"),
        "nothing is buffered during init"
    );
    for message in ["silenced by its directive", "noisy detail"] {
        let ids: Vec<&Value> = logs
            .iter()
            .filter(|l| l["message"] == message)
            .map(|l| &l["function_request_id"])
            .collect();
        assert_eq!(
            ids,
            ["err-1", "panic-1"],
            "every line a directive rejects is buffered, of any target and level: {message}"
        );
    }
    assert!(
        logs.iter().all(|l| l["message"] != "the invocation failed"),
        "inside lambda_runtime's span the runtime logs failures, once"
    );
    for ok in ["ok-1", "ok-2"] {
        let lines = lines_of(&logs, ok);
        assert_eq!(messages(&lines), ["working"], "{lines:#?}");
    }
    for failing in ["err-1", "panic-1"] {
        let lines = lines_of(&logs, failing);
        // `working` went out at once; the buffered DEBUG lines follow, in order, written when
        // the runtime logged the handler's error or panic (an ERROR line right after them).
        assert_eq!(
            messages(&lines),
            ["working", "loaded the booking", "priced the booking"],
            "{lines:#?}"
        );
        assert_eq!(lines[1]["level"], "DEBUG");
        assert_eq!(lines[1]["step"], 1);
        assert_eq!(lines[2]["step"], 2);
        assert!(lines
            .iter()
            .all(|l| l["correlation_id"] == lines[0]["correlation_id"]));
        let all: Vec<&Value> = logs
            .iter()
            .filter(|l| l["function_request_id"] == failing)
            .collect();
        let last_debug = all.iter().rposition(|l| l["step"] == 2).unwrap();
        assert_eq!(all[last_debug + 1]["level"], "ERROR", "{all:#?}");
    }
}

/// With the level `warn`, a failing invocation's `INFO` lines are buffered and written with its
/// `DEBUG` lines, in the order they were logged, and those after the error go straight out; a
/// buffer level of `info` keeps `INFO` lines and drops `DEBUG` ones.
#[test]
fn buffered_lines_include_every_level_the_log_level_rejects() {
    use instrument::instrument_core::config::table;
    use tracing_core::LevelFilter;
    for (buffer_level, expected) in [
        (
            LevelFilter::DEBUG,
            &[
                "info before",
                "debug before",
                "failed here",
                "info after",
                "debug after",
            ][..],
        ),
        (
            LevelFilter::INFO,
            &["info before", "failed here", "info after"][..],
        ),
    ] {
        let capture = capture(|b| {
            b.log_level("warn")
                .log_buffer(16 * 1024)
                .setting(&table::LOG_BUFFER_LEVEL, buffer_level)
        });
        let api = Arc::new(RuntimeApi::start());
        api.push(Invocation::new("warn-ok", json!({"fail": false})));
        api.push(Invocation::new("warn-err", json!({"fail": true})));
        let waiting = api.clone();
        drive(
            &capture,
            &api,
            None,
            InvocationLayer::new(),
            |event: LambdaEvent<Value>| async move {
                tracing::info!("info before");
                tracing::debug!("debug before");
                if event.payload["fail"] == true {
                    tracing::error!("failed here");
                }
                tracing::info!("info after");
                tracing::debug!("debug after");
                Ok(Value::Null)
            },
            move || waiting.wait_for(2, Duration::from_secs(20)),
        );
        let logs = capture.logs();
        assert_eq!(
            messages(&lines_of(&logs, "warn-ok")),
            Vec::<&str>::new(),
            "an invocation that ends well drops its buffer"
        );
        assert_eq!(
            messages(&lines_of(&logs, "warn-err")),
            expected,
            "buffer level {buffer_level}"
        );
    }
}

/// Without the runtime's span (a `Runtime` built without its tracing layer), the invocation
/// layer's span is the invocation, and the layer logs a failed invocation's error itself, which
/// writes the buffered lines.
#[test]
fn without_the_runtimes_span_the_layer_logs_failures_itself() {
    let capture = capture(|b| b.log_level("info").log_buffer(16 * 1024));
    let api = Arc::new(RuntimeApi::start());
    api.push(Invocation::new("bare-ok", json!({"fail": false})));
    api.push(Invocation::new("bare-err", json!({"fail": true})));
    let waiting = api.clone();
    drive_runtime(
        &capture,
        &api,
        None,
        false,
        InvocationLayer::new(),
        |event: LambdaEvent<Value>| async move {
            tracing::debug!("loaded the booking");
            if event.payload["fail"] == true {
                return Err("payment declined".into());
            }
            tracing::info!("booked");
            Ok(Value::Null)
        },
        move || waiting.wait_for(2, Duration::from_secs(20)),
    );
    let logs = capture.logs();
    let ok = lines_of(&logs, "bare-ok");
    assert_eq!(messages(&ok), ["booked"]);
    assert_eq!(ok[0]["cold_start"], true);
    assert_eq!(ok[0]["spans"], json!(["lambda_invocation"]));
    let failed = lines_of(&logs, "bare-err");
    assert_eq!(
        messages(&failed),
        ["loaded the booking", "the invocation failed"]
    );
    assert_eq!(failed[1]["level"], "ERROR");
    assert_eq!(failed[1]["target"], "instrument::lambda");
    assert_eq!(failed[1]["handler_error"], "\"payment declined\"");
    assert_eq!(failed[1]["cold_start"], false);
}

#[test]
fn a_full_buffer_evicts_its_oldest_lines_and_says_so() {
    let capture = capture(|b| b.log_level("info").log_buffer(1024));
    let api = Arc::new(RuntimeApi::start());
    api.push(Invocation::new("evict-1", json!({})));
    let waiting = api.clone();
    drive(
        &capture,
        &api,
        None,
        InvocationLayer::new(),
        |_event: LambdaEvent<Value>| async move {
            for step in 0..50 {
                tracing::debug!(step, "step done");
            }
            tracing::error!("giving up");
            Ok(Value::Null)
        },
        move || waiting.wait_for(1, Duration::from_secs(20)),
    );
    let lines = lines_of(&capture.logs(), "evict-1");
    let warning = lines
        .iter()
        .find(|l| l["level"] == "WARN")
        .expect("an eviction warning");
    let evicted = warning["evicted_lines"].as_u64().unwrap();
    let steps: Vec<u64> = lines.iter().filter_map(|l| l["step"].as_u64()).collect();
    assert!(evicted > 0 && !steps.is_empty());
    assert_eq!(evicted as usize + steps.len(), 50);
    // The newest lines are kept, in order, and the total stays within the bound.
    let expected: Vec<u64> = (evicted..50).collect();
    assert_eq!(steps, expected);
    let kept_bytes: usize = lines
        .iter()
        .filter(|l| l["step"].is_u64())
        .map(|l| serde_json::to_string(l).unwrap().len() + 1)
        .sum();
    assert!(kept_bytes <= 1024, "{kept_bytes}");
    assert_eq!(lines.last().unwrap()["message"], "giving up");
}

#[test]
fn sampled_invocations_log_at_debug() {
    let sampled = capture(|b| b.log_level("info").log_sample_rate(1.0));
    let unsampled = capture(|b| b.log_level("info"));
    for (capture, expect_debug) in [(sampled, true), (unsampled, false)] {
        capture.run(|| tracing::debug!("init detail"));
        let api = Arc::new(RuntimeApi::start());
        api.push(Invocation::new("sample-1", json!({})));
        let waiting = api.clone();
        drive(
            &capture,
            &api,
            None,
            InvocationLayer::new(),
            |_event: LambdaEvent<Value>| async move {
                tracing::debug!("detail");
                tracing::info!("done");
                Ok(Value::Null)
            },
            move || waiting.wait_for(1, Duration::from_secs(20)),
        );
        let logs = capture.logs();
        let lines = lines_of(&logs, "sample-1");
        let expected: &[&str] = if expect_debug {
            &["detail", "done"]
        } else {
            &["done"]
        };
        assert_eq!(messages(&lines), expected);
        assert!(logs.iter().all(|l| l["message"] != "init detail"));
    }
}

/// Four invocations overlap in one process (`AWS_LAMBDA_MAX_CONCURRENCY=4`): each waits until
/// all four are in flight before it logs, records metrics and (one of them) fails. Any
/// per-invocation state kept in a process global would show up on the others' lines.
#[test]
fn concurrent_invocations_never_see_each_others_context() {
    let capture = capture(|b| b.log_level("info").log_buffer(16 * 1024));
    let api = Arc::new(RuntimeApi::start());
    let ids = ["conc-a", "conc-b", "conc-c", "conc-d"];
    for id in ids {
        let mut invocation = Invocation::new(
            id,
            json!({"id": format!("corr-{id}"), "fail": id == "conc-c"}),
        );
        invocation.trace_id = Some(format!("Root=1-00000000-{id}"));
        api.push(invocation);
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
                let me = event.context.request_id.clone();
                tracing::debug!(me = me.as_str(), "before the barrier");
                tokio::time::timeout(Duration::from_secs(10), barrier.wait())
                    .await
                    .map_err(|_| "the invocations did not overlap")?;
                tracing::info!(me = me.as_str(), counter.handled = 1, "after the barrier");
                let correlation = instrument::correlation_id();
                tokio::task::yield_now().await;
                tracing::info!(me = me.as_str(), correlation, "still mine");
                if event.payload["fail"] == true {
                    tracing::error!(me = me.as_str(), "failed");
                }
                Ok(Value::Null)
            }
        },
        move || waiting.wait_for(4, Duration::from_secs(30)),
    );
    assert_eq!(outcomes.len(), 4);
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Response { .. })),
        "{outcomes:?}"
    );

    let logs = capture.logs();
    for id in ids {
        let lines: Vec<&Value> = logs.iter().filter(|l| l["me"] == id).collect();
        let expected: &[&str] = if id == "conc-c" {
            // Its buffered DEBUG line is written just before its first ERROR line.
            &[
                "after the barrier",
                "still mine",
                "before the barrier",
                "failed",
            ]
        } else {
            &["after the barrier", "still mine"]
        };
        let msgs: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
        assert_eq!(msgs, expected, "{id}");
        for line in &lines {
            assert_eq!(line["function_request_id"], id, "{line}");
            assert_eq!(line["correlation_id"], format!("corr-{id}"), "{line}");
            assert_eq!(
                line["xray_trace_id"],
                format!("Root=1-00000000-{id}"),
                "{line}"
            );
        }
        let still = lines.iter().find(|l| l["message"] == "still mine").unwrap();
        assert_eq!(still["correlation"], format!("corr-{id}"));
    }
    let docs = emf(&capture);
    for id in ids {
        let mine: f64 = docs
            .iter()
            .filter(|d| d["function_request_id"] == id)
            .filter_map(|d| d["handled"].as_f64())
            .sum();
        assert_eq!(mine, 1.0, "{id}: {docs:#?}");
        assert!(docs
            .iter()
            .filter(|d| d["function_request_id"] == id)
            .all(|d| d["xray_trace_id"] == format!("Root=1-00000000-{id}")));
    }
}

/// The handler sleeps past its deadline: before the deadline, the layer logs an `ERROR` line,
/// writes the buffered lines and flushes the metrics recorded so far, while the invocation is
/// still running (it never reports an outcome).
#[test]
fn a_timing_out_invocation_still_reports_what_it_recorded() {
    let capture = capture(|b| b.log_level("info").log_buffer(16 * 1024));
    let api = Arc::new(RuntimeApi::start());
    api.push(Invocation::new("slow-1", json!({})).with_deadline_in(1_000));
    let watching = capture.clone();
    let layer = InvocationLayer::new().flush_margin(Duration::from_millis(600));
    let docs = drive(
        &capture,
        &api,
        None,
        layer,
        |_event: LambdaEvent<Value>| async move {
            tracing::info!(counter.seats_reserved = 2, "reserved");
            tracing::debug!("calling the slow payment gateway");
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Value::Null)
        },
        move || {
            // Wait (bounded) for the invocation's metrics to appear without anyone flushing.
            for _ in 0..400 {
                let docs = emf(&watching);
                if docs.iter().any(|d| d.get("seats_reserved").is_some()) {
                    return docs;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            panic!("the timing-out invocation's metrics never appeared")
        },
    );
    assert!(
        api.outcomes().is_empty(),
        "the invocation was still running"
    );
    let doc = docs
        .iter()
        .find(|d| d.get("seats_reserved").is_some())
        .unwrap();
    assert_eq!(doc["seats_reserved"], 2);
    assert_eq!(doc["function_request_id"], "slow-1");

    let lines = lines_of(&capture.logs(), "slow-1");
    let msgs = messages(&lines);
    assert_eq!(msgs[..2], ["reserved", "calling the slow payment gateway"]);
    let warning = &lines[2];
    assert_eq!(warning["level"], "ERROR");
    assert_eq!(warning["target"], "instrument::lambda");
    assert!(warning["remaining_ms"].as_u64().unwrap() <= 1_000);
}

#[instrument::track_performance]
fn charge(user: &str) -> Result<u32, std::io::Error> {
    if user == "u-broke" {
        return Err(std::io::Error::other("card declined"));
    }
    Ok(42)
}

/// Every line of an invocation carries its IDs and the keys the handler appended, the
/// runtime's own failure line and instrument's completion and deadline lines included; the
/// next invocation starts without them.
#[test]
fn appended_keys_and_ids_reach_every_line_of_the_invocation_the_runtimes_included() {
    let capture = capture(|b| b.log_level("info"));
    let api = Arc::new(RuntimeApi::start());
    api.push(Invocation::new("keys-err", json!({"user": "u-broke"})));
    api.push(Invocation::new("keys-next", json!({})));
    api.push(Invocation::new("keys-slow", json!({"user": "u-slow"})).with_deadline_in(1_000));
    let waiting = api.clone();
    let watching = capture.clone();
    let layer = InvocationLayer::new().flush_margin(Duration::from_millis(600));
    drive(
        &capture,
        &api,
        None,
        layer,
        |event: LambdaEvent<Value>| async move {
            if let Some(user) = event.payload["user"].as_str() {
                instrument::append_keys!(user_id = user, plan = "pro");
            }
            tracing::info!("handling");
            if event.payload["user"] == "u-slow" {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            let user = event.payload["user"]
                .as_str()
                .unwrap_or("u-none")
                .to_string();
            charge(&user)?;
            Ok(Value::Null)
        },
        move || {
            waiting.wait_for(2, Duration::from_secs(20));
            // The slow invocation's deadline warning, written while it still runs.
            for _ in 0..400 {
                let logs = watching.logs();
                if logs
                    .iter()
                    .any(|l| l["function_request_id"] == "keys-slow" && l["level"] == "ERROR")
                {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            panic!("the deadline warning never appeared")
        },
    );
    let logs = capture.logs();
    let of = |id: &str| -> Vec<Value> {
        logs.iter()
            .filter(|l| l["function_request_id"] == id)
            .cloned()
            .collect()
    };

    let failing = of("keys-err");
    let targets: Vec<&str> = failing
        .iter()
        .filter_map(|l| l["target"].as_str())
        .collect();
    assert!(
        targets.iter().any(|t| t.starts_with("lambda_runtime")),
        "the runtime's failure line: {failing:#?}"
    );
    assert!(
        failing.iter().any(|l| l["function"] == "charge"),
        "the tracked call's completion line: {failing:#?}"
    );
    let correlation = &failing[0]["correlation_id"];
    assert!(correlation.is_string(), "{failing:#?}");
    for line in &failing {
        assert_eq!(&line["correlation_id"], correlation, "{line}");
        assert_eq!(line["function_arn"], FUNCTION_ARN, "{line}");
        assert_eq!(line["user_id"], "u-broke", "{line}");
        assert_eq!(line["plan"], "pro", "{line}");
    }

    let next = of("keys-next");
    assert!(!next.is_empty());
    for line in &next {
        assert!(
            line.get("user_id").is_none(),
            "keys end with their invocation: {line}"
        );
        assert!(line["correlation_id"].is_string(), "{line}");
    }

    let slow = of("keys-slow");
    let deadline = slow.iter().find(|l| l["level"] == "ERROR").unwrap();
    assert_eq!(deadline["target"], "instrument::lambda");
    assert_eq!(deadline["user_id"], "u-slow");
}

/// Issue 15 (11): each invocation ends with one line carrying its duration and the process's
/// peak memory (no `log = "all"` needed), and with the memory metric on, a `max_memory_used_mb`
/// gauge in the invocation's EMF document.
#[test]
fn the_invocation_ends_with_its_duration_and_peak_memory() {
    for memory_metric in [false, true] {
        let capture = capture(|b| b.log_level("info"));
        let api = Arc::new(RuntimeApi::start());
        api.push(Invocation::new("timed-ok", json!({"fail": false})));
        api.push(Invocation::new("timed-err", json!({"fail": true})));
        let waiting = api.clone();
        drive(
            &capture,
            &api,
            None,
            InvocationLayer::new().memory_metric(memory_metric),
            |event: LambdaEvent<Value>| async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                if event.payload["fail"] == true {
                    return Err("declined".into());
                }
                Ok(Value::Null)
            },
            move || waiting.wait_for(2, Duration::from_secs(20)),
        );
        let logs = capture.logs();
        for (id, outcome) in [("timed-ok", "success"), ("timed-err", "error")] {
            let ended: Vec<&Value> = logs
                .iter()
                .filter(|l| {
                    l["function_request_id"] == id && l["message"] == "the invocation ended"
                })
                .collect();
            assert_eq!(ended.len(), 1, "{logs:#?}");
            let line = ended[0];
            assert_eq!(line["level"], "INFO");
            assert_eq!(line["target"], "instrument::lambda");
            assert_eq!(line["outcome"], outcome);
            assert!(line["correlation_id"].is_string(), "{line}");
            let duration = line["duration_ms"].as_f64().unwrap();
            assert!((30.0..20_000.0).contains(&duration), "{line}");
            let key = if memory_metric {
                "gauge.max_memory_used_mb"
            } else {
                "max_memory_used_mb"
            };
            assert!(line[key].as_u64().unwrap() > 0, "{line}");
        }
        let docs = emf(&capture);
        let memory: Vec<&Value> = docs
            .iter()
            .filter(|d| d.get("max_memory_used_mb").is_some())
            .collect();
        if memory_metric {
            assert_eq!(memory.len(), 2, "{docs:#?}");
            for doc in memory {
                assert!(doc["max_memory_used_mb"].as_f64().unwrap() > 0.0);
                assert!(doc["function_request_id"].is_string());
                let metrics = &doc["_aws"]["CloudWatchMetrics"][0]["Metrics"];
                assert!(metrics
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["Name"] == "max_memory_used_mb" && m["Unit"] == "Megabytes"));
            }
        } else {
            assert!(memory.is_empty(), "off by default: {docs:#?}");
        }
    }
}
