//! The PutMetricData sink against a real CloudWatch-compatible server: moto, behind the CBOR
//! adapter in `tests/support/cw_adapter.py`, started by `bash scripts/test.sh`.
//!
//! Without the server (plain `cargo test`) the tests that need it print a notice and pass
//! without checking anything; under `scripts/test.sh` a missing server is a failure.
//! Every test uses its own namespace and dimension value, so they run in parallel.

mod cloudwatch_support;

use std::sync::Arc;
use std::time::Duration;

use cloudwatch_support as cw;
use instrument_emf::cloudwatch::{CloudwatchExporter, CloudwatchOptions, RELATIVE_ERROR};
use instrument_emf::{CheckedGroup, DropReason, Dropped, EmfLayer, Exporter, Group, Metric, Unit};
use serde_json::json;
use tracing::field::Empty;
use tracing_subscriber::prelude::*;

/// A call in the shape `#[track_performance]` records.
fn tracked_call(function: &'static str, outcome: &str, latency_ms: f64, error_type: Option<&str>) {
    let span = tracing::info_span!(
        "call",
        function,
        outcome = Empty,
        latency_ms = Empty,
        error_type = Empty
    );
    span.record("outcome", outcome);
    span.record("latency_ms", latency_ms);
    if let Some(e) = error_type {
        span.record("error_type", e);
    }
}

fn sink(url: &cw::Server, options: CloudwatchOptions) -> Arc<CloudwatchExporter> {
    Arc::new(CloudwatchExporter::with_client(cw::client(url), options).expect("sender starts"))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[test]
fn tracked_calls_round_trip_exactly_per_outcome_and_dimension_set() {
    let Some(url) = cw::server() else { return };
    let namespace = cw::unique("RoundTrip");
    let test = cw::unique("round-trip");
    let sink = sink(&url, cw::options());
    let layer = EmfLayer::with_exporter(sink.clone())
        .namespace(&namespace)
        .dimension("test", &test)
        .build();
    let handle = layer.inner().handle();

    const CALLS: usize = 3_000;
    let (mut ok, mut sold_out, mut timeout) = (0.0, 0.0, 0.0);
    let mut latency_sum = 0.0;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..CALLS {
            // 120 distinct latencies: exact Values/Counts, so the sum is exact too.
            let latency = (i % 120) as f64 * 0.25 + 1.0;
            latency_sum += latency;
            match i % 5 {
                0 => {
                    tracked_call("reserve", "error", latency, Some("SoldOut"));
                    sold_out += 1.0;
                }
                1 => {
                    tracked_call("reserve", "panic", latency, Some("Timeout"));
                    timeout += 1.0;
                }
                _ => {
                    tracked_call("reserve", "success", latency, None);
                    ok += 1.0;
                }
            }
            if i == CALLS / 2 {
                handle.flush(); // two flush windows
            }
        }
    });
    handle.shutdown();

    let stats = sink.stats();
    assert_eq!((stats.lost, stats.rejected), (0, 0), "{stats:?}");
    let base = [("test", test.as_str())];
    let success = cw::query(&url, &namespace, "reserve.success", &base);
    assert_eq!(success.sum, ok);
    let errors = cw::query(&url, &namespace, "reserve.error", &base);
    assert_eq!(errors.sum, sold_out + timeout);
    let by_type = |t: &str| {
        cw::query(
            &url,
            &namespace,
            "reserve.error",
            &[("test", test.as_str()), ("error_type", t)],
        )
        .sum
    };
    assert_eq!(by_type("SoldOut"), sold_out);
    assert_eq!(by_type("Timeout"), timeout);
    let latency = cw::query(&url, &namespace, "reserve.latency", &base);
    assert_eq!(latency.sample_count, CALLS as f64);
    assert!((latency.sum - latency_sum).abs() < 1e-6 * latency_sum);
    assert_eq!(latency.minimum, 1.0);
    assert_eq!(latency.maximum, 119.0 * 0.25 + 1.0);
}

#[test]
fn many_distinct_latencies_keep_exact_counts_and_sums_within_one_percent() {
    let Some(url) = cw::server() else { return };
    let namespace = cw::unique("Buckets");
    let test = cw::unique("buckets");
    let sink = sink(&url, cw::options());
    let layer = EmfLayer::with_exporter(sink.clone())
        .namespace(&namespace)
        .dimension("test", &test)
        .build();
    let handle = layer.inner().handle();
    const CALLS: usize = 5_000;
    let latencies: Vec<f64> = (0..CALLS).map(|i| 0.1 * 1.002_f64.powi(i as i32)).collect();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for l in &latencies {
            tracked_call("search", "success", *l, None);
        }
    });
    handle.shutdown();
    assert_eq!(sink.stats().lost, 0);
    let requests = cw::requests(&url, &namespace);
    assert!(requests
        .iter()
        .all(|r| r["max_values"].as_u64().unwrap_or(0) <= 150));
    let latency = cw::query(&url, &namespace, "search.latency", &[("test", &test)]);
    assert_eq!(latency.sample_count, CALLS as f64);
    let truth: f64 = latencies.iter().sum();
    assert!((latency.sum - truth).abs() <= RELATIVE_ERROR * truth);
    assert_eq!(latency.minimum, latencies[0]);
    assert_eq!(latency.maximum, latencies[CALLS - 1]);
}

/// `n` counter metrics `m0…` in one group, exported straight to the sink.
fn export_metrics(sink: &CloudwatchExporter, namespace: &str, test: &str, n: usize) -> Dropped {
    let names: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    let values: Vec<f64> = (0..n).map(|i| i as f64 + 1.0).collect();
    let group = Group {
        dimensions: vec![("test", test)],
        metrics: names
            .iter()
            .zip(&values)
            .map(|(name, v)| Metric {
                name,
                unit: Unit::Count,
                resolution: 60,
                values: std::slice::from_ref(v),
            })
            .collect(),
        ..Group::default()
    };
    let dropped = Dropped::default();
    sink.export(
        namespace,
        &CheckedGroup::new(&group, &dropped),
        now_ms(),
        &dropped,
    );
    sink.flush();
    dropped
}

#[test]
fn requests_hold_at_most_1000_datums_999_1000_1001() {
    let Some(url) = cw::server() else { return };
    for (n, expected) in [
        (999usize, vec![999u64]),
        (1_000, vec![1_000]),
        (1_001, vec![1_000, 1]),
    ] {
        let namespace = cw::unique("Datums");
        let test = cw::unique("datums");
        let sink = sink(&url, cw::options());
        export_metrics(&sink, &namespace, &test, n);
        sink.close();
        let stats = sink.stats();
        assert_eq!((stats.datums_sent, stats.lost), (n as u64, 0));
        let per_request: Vec<u64> = cw::requests(&url, &namespace)
            .iter()
            .map(|r| r["datums"].as_u64().unwrap_or(0))
            .collect();
        assert_eq!(per_request, expected, "{n} metrics");
        // Every metric arrived: spot-check the first and the last.
        let first = cw::query(&url, &namespace, "m0", &[("test", &test)]);
        assert_eq!(first.sum, 1.0);
        let last = cw::query(&url, &namespace, &format!("m{}", n - 1), &[("test", &test)]);
        assert_eq!(last.sum, n as f64);
    }
}

#[test]
fn datums_carry_at_most_150_distinct_values_149_150_151() {
    let Some(url) = cw::server() else { return };
    for n in [149usize, 150, 151] {
        let namespace = cw::unique("Values");
        let test = cw::unique("values");
        let sink = sink(&url, cw::options());
        let values: Vec<f64> = (1..=n).map(|v| v as f64).collect();
        let group = Group {
            dimensions: vec![("test", &test)],
            metrics: vec![Metric {
                name: "latency",
                unit: Unit::Milliseconds,
                resolution: 60,
                values: &values,
            }],
            ..Group::default()
        };
        sink.export(
            &namespace,
            &CheckedGroup::new(&group, &Dropped::default()),
            now_ms(),
            &Dropped::default(),
        );
        sink.close();
        let requests = cw::requests(&url, &namespace);
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0]["datums"], 1);
        let max_values = requests[0]["max_values"].as_u64().unwrap_or(0);
        if n <= 150 {
            assert_eq!(max_values, n as u64, "exact below the limit");
        } else {
            assert!(max_values <= 150, "{max_values} values in one datum");
        }
        let stats = cw::query(&url, &namespace, "latency", &[("test", &test)]);
        assert_eq!(stats.sample_count, n as f64);
        assert_eq!((stats.minimum, stats.maximum), (1.0, n as f64));
        let truth = (n * (n + 1) / 2) as f64;
        if n <= 150 {
            assert_eq!(stats.sum, truth);
        } else {
            assert!((stats.sum - truth).abs() <= RELATIVE_ERROR * truth);
        }
    }
}

#[test]
fn requests_stay_under_1_mb_and_go_compressed() {
    let Some(url) = cw::server() else { return };
    let namespace = cw::unique("Bytes");
    let sink = sink(&url, cw::options());
    // 30 dimensions of 1000 characters and 150 values: about 33 KB per datum, so 200 datums
    // (6.6 MB) need at least 7 requests.
    let long: Vec<String> = (0..29)
        .map(|i| format!("{i:02}{}", "v".repeat(998)))
        .collect();
    let test = cw::unique("bytes");
    let mut dimensions: Vec<(&str, &str)> = vec![("test", &test)];
    let names: Vec<String> = (0..29).map(|i| format!("d{i:02}")).collect();
    dimensions.extend(
        names
            .iter()
            .map(String::as_str)
            .zip(long.iter().map(String::as_str)),
    );
    let values: Vec<f64> = (0..150).map(|v| v as f64 + 0.5).collect();
    let metric_names: Vec<String> = (0..200).map(|i| format!("big{i}")).collect();
    let group = Group {
        dimensions: dimensions.clone(),
        metrics: metric_names
            .iter()
            .map(|name| Metric {
                name,
                unit: Unit::Bytes,
                resolution: 60,
                values: &values,
            })
            .collect(),
        ..Group::default()
    };
    sink.export(
        &namespace,
        &CheckedGroup::new(&group, &Dropped::default()),
        now_ms(),
        &Dropped::default(),
    );
    sink.close();
    let stats = sink.stats();
    assert_eq!((stats.datums_sent, stats.lost), (200, 0), "{stats:?}");
    let requests = cw::requests(&url, &namespace);
    assert!(requests.len() >= 7, "{} requests", requests.len());
    let total: u64 = requests
        .iter()
        .map(|r| r["datums"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 200);
    for r in &requests {
        let bytes = r["bytes"].as_u64().unwrap_or(u64::MAX);
        assert!(bytes <= 1_000_000, "a request of {bytes} bytes");
        assert_eq!(r["max_dimensions"], 30);
        // The SDK gzip-compresses PutMetricData bodies (10 KB and more).
        assert!(r["encoding"].as_str().unwrap_or("").contains("gzip"), "{r}");
        assert!(r["bytes_sent"].as_u64().unwrap_or(u64::MAX) < bytes);
    }
    let one = cw::query(&url, &namespace, "big199", &dimensions);
    assert_eq!(one.sample_count, 150.0);
}

#[test]
fn throttling_and_5xx_are_retried_until_everything_arrives() {
    let Some(url) = cw::server() else { return };
    for fault in ["throttle", "error500"] {
        let namespace = cw::unique("Faults");
        let test = cw::unique("faults");
        // 7 failing answers: more than the SDK's 3 attempts, so our requeue is exercised too.
        cw::faults(&url, &namespace, json!({ fault: 7 }));
        let sink = sink(&url, cw::options());
        export_metrics(&sink, &namespace, &test, 10);
        sink.close();
        let stats = sink.stats();
        assert_eq!(
            (stats.datums_sent, stats.lost),
            (10, 0),
            "{fault}: {stats:?}"
        );
        assert!(stats.requeued >= 2, "{fault}: {stats:?}");
        let requests = cw::requests(&url, &namespace);
        let failed = requests.iter().filter(|r| !r["fault"].is_null()).count();
        let passed = requests.iter().filter(|r| r["fault"].is_null()).count();
        assert_eq!((failed, passed), (7, 1), "{fault}");
        for i in [0, 9] {
            let got = cw::query(&url, &namespace, &format!("m{i}"), &[("test", &test)]);
            assert_eq!(got.sum, i as f64 + 1.0);
        }
    }
}

#[test]
fn an_invalid_datum_is_dropped_alone() {
    let Some(url) = cw::server() else { return };
    let namespace = cw::unique("Invalid");
    let test = cw::unique("invalid");
    cw::faults(&url, &namespace, json!({ "reject_name": "m13" }));
    let sink = sink(&url, cw::options());
    export_metrics(&sink, &namespace, &test, 40);
    sink.close();
    let stats = sink.stats();
    assert_eq!(
        (stats.datums_sent, stats.rejected, stats.lost),
        (39, 1, 0),
        "{stats:?}"
    );
    let dropped = Dropped::default();
    sink.take_dropped(&dropped);
    assert_eq!(dropped.total(DropReason::Rejected), 1);
    for i in [0, 12, 14, 39] {
        let got = cw::query(&url, &namespace, &format!("m{i}"), &[("test", &test)]);
        assert_eq!(got.sum, i as f64 + 1.0, "m{i}");
    }
    let rejected = cw::query(&url, &namespace, "m13", &[("test", &test)]);
    assert_eq!(rejected.sample_count, 0.0);
}

#[test]
fn a_permanent_error_drops_its_batch_counted_without_retrying() {
    let Some(url) = cw::server() else { return };
    let namespace = cw::unique("Denied");
    let test = cw::unique("denied");
    cw::faults(&url, &namespace, json!({ "deny": 1 }));
    let sink = sink(&url, cw::options());
    export_metrics(&sink, &namespace, &test, 10);
    // The next batch goes through: the sink keeps working after a permanent failure.
    export_metrics(&sink, &namespace, &test, 3);
    sink.close();
    let stats = sink.stats();
    assert_eq!(
        (stats.datums_sent, stats.lost, stats.requeued),
        (3, 10, 0),
        "{stats:?}"
    );
    let dropped = Dropped::default();
    sink.take_dropped(&dropped);
    assert_eq!(dropped.total(DropReason::SinkFailure), 10);
    let requests = cw::requests(&url, &namespace);
    assert_eq!(requests.len(), 2, "no retry of a permanent error");
    assert_eq!(requests[0]["fault"], "deny");
}

/// No server needed: an address where nothing listens.
#[test]
fn server_down_at_shutdown_is_a_bounded_wait_and_a_counted_loss() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = cw::Server {
        url: format!("http://127.0.0.1:{port}"),
        region: "us-east-1".into(),
    };
    let sink = sink(
        &url,
        CloudwatchOptions {
            flush_timeout: Duration::from_millis(200),
            shutdown_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_millis(200),
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_send_attempts: 1_000,
            ..CloudwatchOptions::default()
        },
    );
    let layer = EmfLayer::with_exporter(sink.clone())
        .namespace("Down")
        .dimension("test", "down")
        .build();
    let handle = layer.inner().handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for i in 0..50 {
            tracked_call("pay", "success", f64::from(i % 7), None);
        }
    });
    // Returns (the wait is bounded), with every datum counted as lost and reported.
    handle.shutdown();
    let stats = sink.stats();
    // One flush: `pay.success` (one value) and `pay.latency` (7 distinct values).
    assert_eq!(
        (stats.datums_sent, stats.lost, stats.buffered),
        (0, 2, 0),
        "{stats:?}"
    );
    assert!(stats.requeued > 0, "{stats:?}");
    assert_eq!(handle.dropped().total(DropReason::SinkFailure), 2);
    // After shutdown, new data is counted too, never silently kept.
    let dropped = export_metrics(&sink, "Down", "down", 3);
    assert_eq!(dropped.total_all(), 0);
    assert_eq!(sink.stats().lost, 5);
}
