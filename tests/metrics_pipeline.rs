//! Metrics through the facade: the EMF layer installed by `builder()`, as users get it.

mod emf_common;

use std::collections::HashMap;
use std::time::Duration;

use emf_common::{check, sum};
use instrument::testing::{Capture, LogBuffer};
use serde_json::Value;
use tracing::field::Empty;

fn tracked_call(outcome: &str) {
    let span = tracing::info_span!(
        "reserve",
        function = "reserve",
        outcome = Empty,
        latency_ms = Empty,
        error_type = Empty
    );
    span.record("outcome", outcome);
    span.record("latency_ms", 1.25);
}

#[test]
fn emf_lines_and_log_lines_share_stdout_without_interleaving() {
    let buffer = LogBuffer::default();
    let (subscriber, guard) = instrument::builder()
        .writer(buffer.clone())
        .env_lookup(|_| None)
        .service("booking")
        .namespace("Ticketing")
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(subscriber);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..500 {
                        tracked_call(if i % 5 == 0 { "error" } else { "success" });
                        tracing::info!(i, "working");
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    guard.flush();
    let text = buffer.contents();
    let mut emf = Vec::new();
    let mut logs = 0;
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).expect("every line is one JSON object");
        if value.get("_aws").is_some() {
            emf.push(check(format!("{line}\n").as_bytes()));
        } else {
            assert_eq!(value["message"], "working");
            logs += 1;
        }
    }
    assert_eq!(logs, 2000);
    assert_eq!(
        sum(&emf, "reserve.success") + sum(&emf, "reserve.error"),
        2000.0
    );
    for doc in &emf {
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Ticketing"
        );
        assert_eq!(doc["service"], "booking");
    }
}

#[test]
fn long_running_services_flush_on_an_interval() {
    let capture = Capture::with(|b| b.metrics_flush_interval(Duration::from_millis(50)));
    capture.run(|| tracked_call("success"));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while capture.raw_metric_documents().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no interval flush within 5 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(capture.metric_sum("reserve.success"), 1.0);
}

#[test]
fn metrics_are_complete_when_every_log_line_is_filtered_out() {
    let capture = Capture::with(|b| b.log_level("off"));
    capture.run(|| {
        for _ in 0..10 {
            tracked_call("success");
        }
    });
    assert!(capture.logs().is_empty());
    assert_eq!(capture.metric_sum("reserve.success"), 10.0);
    assert_eq!(capture.metric_values("reserve.latency").len(), 10);
}

#[test]
fn metrics_off_emits_nothing() {
    let buffer = LogBuffer::default();
    let (subscriber, guard) = instrument::builder()
        .writer(buffer.clone())
        .env_lookup(|k| (k == "INSTRUMENT_METRICS").then(|| "off".to_string()))
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || tracked_call("success"));
    guard.flush();
    assert!(!buffer.contents().contains("_aws"));
}

#[cfg(not(feature = "cloudwatch-api"))]
#[test]
fn cloudwatch_metrics_need_the_cloudwatch_api_feature() {
    let err = instrument::builder()
        .env_lookup(|k| (k == "INSTRUMENT_METRICS").then(|| "cloudwatch".to_string()))
        .build()
        .err()
        .expect("not in this build");
    assert!(
        matches!(err, instrument::InitError::Unsupported(_)),
        "{err}"
    );
    assert!(err.to_string().contains("cloudwatch-api"), "{err}");
}

#[cfg(feature = "cloudwatch-api")]
#[test]
fn cloudwatch_metrics_build_with_the_cloudwatch_api_feature() {
    use instrument::instrument_emf::cloudwatch::CloudwatchOptions;
    // An endpoint where nothing listens: the sink starts, nothing is recorded, shutdown is
    // immediate (tests/cloudwatch_api.rs sends to a real server).
    let (_subscriber, guard) = instrument::builder()
        .env_lookup(|k| (k == "INSTRUMENT_METRICS").then(|| "cloudwatch".to_string()))
        .cloudwatch_options(CloudwatchOptions {
            endpoint: Some("http://127.0.0.1:9".into()),
            region: Some("us-east-1".into()),
            ..CloudwatchOptions::default()
        })
        .build()
        .expect("the PutMetricData sink starts");
    drop(guard);
    let err = instrument::builder()
        .env_lookup(|k| (k == "INSTRUMENT_METRICS").then(|| "cloudwatch".to_string()))
        .cloudwatch_endpoint("ftp://nowhere")
        .build()
        .err()
        .expect("a bad endpoint is an error");
    assert!(matches!(err, instrument::InitError::Cloudwatch(_)), "{err}");
}

#[test]
fn in_lambda_metrics_flush_per_invocation_with_a_cold_start() {
    let vars: HashMap<&str, &str> = [
        ("AWS_LAMBDA_FUNCTION_NAME", "booking-fn"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("INSTRUMENT_SERVICE", "booking"),
    ]
    .into_iter()
    .collect();
    let buffer = LogBuffer::default();
    let (subscriber, _guard) = instrument::builder()
        .writer(buffer.clone())
        .env_lookup(move |k| vars.get(k).map(|v| v.to_string()))
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        for request in ["r-1", "r-2"] {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = request);
            let _e = span.enter();
            tracked_call("success");
            tracing::info!("handled");
        }
    });
    // No explicit flush: each invocation flushed its own metrics when it ended.
    let docs: Vec<Value> = buffer
        .contents()
        .lines()
        .filter(|l| l.contains("\"_aws\""))
        .map(|l| check(format!("{l}\n").as_bytes()))
        .collect();
    let per_request: Vec<_> = docs
        .iter()
        .filter(|d| d.get("reserve.success").is_some())
        .map(|d| d["function_request_id"].clone())
        .collect();
    assert_eq!(per_request, ["r-1", "r-2"]);
    let cold: Vec<_> = docs
        .iter()
        .filter(|d| d.get("ColdStart").is_some())
        .collect();
    assert_eq!(cold.len(), 1);
    assert_eq!(cold[0]["function_name"], "booking-fn");
    assert_eq!(cold[0]["service"], "booking");
    // The log lines agree on which invocation was cold.
    let logs: Vec<Value> = buffer
        .contents()
        .lines()
        .filter(|l| !l.contains("\"_aws\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let colds: Vec<_> = logs.iter().map(|l| l["cold_start"].clone()).collect();
    assert_eq!(colds, [true, false]);
}

#[test]
fn dropped_data_is_announced_by_a_rate_limited_warning_and_a_metric() {
    let capture = Capture::new();
    capture.run(|| {
        tracing::info!(counter.ratio = f64::NAN);
    });
    capture.flush();
    capture.run(|| tracing::info!(counter.ratio = f64::INFINITY));
    capture.flush();
    let warnings: Vec<Value> = capture
        .logs()
        .into_iter()
        .filter(|l| l["target"] == "instrument::emf")
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning per reason per minute: {warnings:?}"
    );
    assert_eq!(warnings[0]["level"], "WARN");
    assert_eq!(warnings[0]["reason"], "non_finite_value");
    assert_eq!(warnings[0]["count"], 1);
    assert_eq!(capture.metric_sum("instrument.dropped"), 2.0);
}
