//! Issue 14 (3): metrics named at run time — `instrument::metrics` handles and, with the cargo
//! feature `metrics`, `metrics::counter!`/`histogram!`/`gauge!` through instrument's recorder —
//! land in the same aggregator and documents as everything else, bounded by the same limits.
//! Every document is checked against AWS's EMF schema.

mod emf_common;

use std::sync::Arc;

use instrument::metrics::{self as m, Unit};
use instrument::testing::Capture;
use instrument_emf::{EmfLayer, MemorySink};
use serde_json::{json, Value};

/// Flushes `capture` and returns its documents, each checked against the EMF schema.
fn documents(capture: &Capture) -> Vec<Value> {
    capture.flush();
    emf_common::check_all(&capture.raw_metric_documents())
}

#[test]
fn runtime_named_counters_from_eight_threads_sum_exactly() {
    let capture = Arc::new(Capture::with(|b| b.service("booking")));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let capture = capture.clone();
            std::thread::spawn(move || {
                capture.run(|| {
                    let name = format!("tenant{}.bookings", t % 2);
                    let handle = m::counter(&name);
                    for i in 0..10_000u64 {
                        handle.add(1);
                        if i % 100 == 0 {
                            // The lookup path too: same cell.
                            m::counter_with("lookups", &[("shard", if t < 4 { "a" } else { "b" })])
                                .add(2);
                        }
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let docs = documents(&capture);
    assert_eq!(emf_common::sum(&docs, "tenant0.bookings"), 40_000.0);
    assert_eq!(emf_common::sum(&docs, "tenant1.bookings"), 40_000.0);
    assert_eq!(emf_common::sum(&docs, "lookups"), 8.0 * 100.0 * 2.0);
    let shard_a = docs
        .iter()
        .find(|d| d["shard"] == "a")
        .expect("a document per dimension value");
    assert_eq!(shard_a["lookups"], 800);
    assert_eq!(
        emf_common::dimension_sets(shard_a),
        json!([["service", "shard"], ["service"]]),
        "the default rollup applies to runtime metrics too"
    );
}

#[test]
fn histograms_and_gauges_with_units_and_no_subscriber_records_nothing() {
    // Outside instrument's subscriber: a handle that records nothing, no panic.
    m::counter("nowhere").add(1);
    let capture = Capture::new();
    capture.run(|| {
        let latency = m::histogram_with(
            "upstream.latency",
            Unit::Milliseconds,
            &[("upstream", "payments")],
        );
        for v in [3.0, 9.5, 1.25] {
            latency.record(v);
        }
        let depth = m::gauge("queue.depth", Unit::Count);
        depth.set(4.0);
        depth.set(2.0);
    });
    let docs = documents(&capture);
    let doc = docs
        .iter()
        .find(|d| d.get("upstream.latency").is_some())
        .unwrap();
    assert_eq!(
        emf_common::values(&docs, "upstream.latency"),
        [3.0, 9.5, 1.25]
    );
    assert_eq!(doc["upstream"], "payments");
    let declared = &doc["_aws"]["CloudWatchMetrics"][0]["Metrics"];
    assert!(declared
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["Name"] == "upstream.latency" && d["Unit"] == "Milliseconds"));
    assert_eq!(
        emf_common::values(&docs, "queue.depth"),
        [2.0],
        "a gauge's last value"
    );
    assert!(docs.iter().all(|d| d.get("nowhere").is_none()));
}

#[test]
fn over_the_cardinality_bound_nothing_is_recorded_and_the_drop_is_counted() {
    let sink = MemorySink::default();
    let layer = EmfLayer::builder(sink.clone())
        .dimension("service", "bounded")
        .max_combinations(4)
        .build_unfiltered();
    let handle = layer.handle();
    for user in 0..50 {
        handle
            .counter("logins", &[("user", &format!("u{user}"))])
            .add(1);
    }
    handle.flush();
    let docs = emf_common::check_all(&sink.documents());
    let recorded = emf_common::sum(&docs, "logins");
    assert!(recorded > 0.0 && recorded < 50.0, "{recorded}");
    let dropped: f64 = docs
        .iter()
        .filter(|d| d["reason"] == "too_many_combinations")
        .filter_map(|d| d["instrument.dropped"].as_f64())
        .sum();
    assert_eq!(
        recorded + dropped,
        50.0,
        "every refused combination is counted: {docs:#?}"
    );
}

/// A dependency that reports through the `metrics` facade, knowing nothing of instrument.
#[cfg(feature = "metrics")]
mod dependency {
    pub fn serve(hit: bool) {
        metrics::describe_histogram!("cache.fill_ms", metrics::Unit::Milliseconds, "fill time");
        metrics::counter!("cache.requests").increment(1);
        if hit {
            metrics::counter!("cache.hits", "cache" => "sessions").increment(1);
        } else {
            metrics::counter!("cache.misses", "cache" => "sessions").increment(1);
            metrics::histogram!("cache.fill_ms", "cache" => "sessions").record(2.5);
        }
        metrics::gauge!("cache.entries", "cache" => "sessions").increment(1.0);
    }
}

#[cfg(feature = "metrics")]
#[instrument::track_performance]
fn lookup(hit: bool) -> bool {
    dependency::serve(hit);
    hit
}

#[cfg(feature = "metrics")]
#[test]
fn the_metrics_crate_lands_in_the_same_documents_as_tracked_calls() {
    let capture = Capture::with(|b| b.service("cache-svc"));
    let recorder = capture.run(instrument::metrics::Recorder::current).unwrap();
    capture.run(|| {
        metrics::with_local_recorder(&recorder, || {
            for i in 0..10 {
                lookup(i % 5 != 0);
            }
        })
    });
    let docs = documents(&capture);
    assert_eq!(emf_common::sum(&docs, "cache.hits"), 8.0);
    assert_eq!(emf_common::sum(&docs, "cache.misses"), 2.0);
    assert_eq!(emf_common::values(&docs, "cache.fill_ms"), [2.5, 2.5]);
    assert_eq!(emf_common::values(&docs, "cache.entries"), [10.0]);
    assert_eq!(emf_common::sum(&docs, "lookup.success"), 10.0);
    let hits = docs.iter().find(|d| d.get("cache.hits").is_some()).unwrap();
    assert_eq!(hits["cache"], "sessions", "labels become dimensions");
    let fill = docs
        .iter()
        .find(|d| d.get("cache.fill_ms").is_some())
        .unwrap();
    assert!(fill["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["Name"] == "cache.fill_ms" && m["Unit"] == "Milliseconds"));
    // Same dimensions, same document: the dependency's label-less counter and the tracked
    // call's metrics.
    let both = docs
        .iter()
        .any(|d| d.get("lookup.success").is_some() && d["cache.requests"] == 10);
    assert!(both, "one document for the same dimensions: {docs:#?}");
}
