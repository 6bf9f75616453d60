//! Issue 14: a counter named at run time, instrument's against the `metrics` crate recording
//! into `metrics_cloudwatch_embedded` (the process's global `metrics` recorder), in the same
//! run, both variants of each:
//!
//! * `instrument_handle`: `instrument::metrics::counter("bench.handle")` resolved once, then
//!   `handle.add(1)` per iteration (one atomic add into the aggregator's cell);
//! * `mce_handle`: `metrics::counter!("bench.handle")` resolved once, then `.increment(1)`;
//! * `instrument_lookup`: `instrument::metrics::counter("bench.lookup").add(1)` per iteration
//!   (the current subscriber's layer, the name and dimensions looked up each time);
//! * `mce_lookup`: `metrics::counter!("bench.lookup").increment(1)` per iteration.
//!
//! The instrument rows run under `build_dispatch()` (what `init()` installs) as this thread's
//! default, into a `MemorySink`. Neither side flushes inside the loop: this is the cost of
//! recording. Before timing, both sides record 10,000 adds and their flushed output must sum
//! to 10,000 (instrument's documents checked by `instrument_emf::validate::document`); the
//! run panics otherwise.
//!
//! Numbers: criterion as usual (`runtime_metrics/<name>`), then the ratio table of
//! `benches/support/timing.rs` (interleaved batches, median and minimum).
#![allow(missing_docs)]

#[path = "support/timing.rs"]
mod timing;

use std::hint::black_box;
use std::time::Instant;

use instrument_emf::MemorySink;
use timing::{Column, Ratio, Row, Timing};

const CHECK: u64 = 10_000;

fn main() {
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace("Bench")
        .with_dimension("service", "bench")
        .init()
        .expect("the metrics_cloudwatch_embedded recorder installs once");
    let sink = MemorySink::default();
    let (dispatch, guard) = instrument::builder()
        .env_lookup(|_| None)
        .service("bench")
        .log_level("off")
        .metrics_sink(sink.clone())
        .build_dispatch()
        .expect("instrument builds");
    let _default = tracing::dispatcher::set_default(&dispatch);

    // The checks: every add reaches the output, on both sides.
    let check_handle = instrument::metrics::counter("bench.check");
    for _ in 0..CHECK {
        check_handle.add(1);
    }
    guard.flush();
    let total: f64 = sink
        .documents()
        .iter()
        .map(|d| {
            assert!(instrument_emf::validate::document(d).is_empty());
            serde_json::from_slice::<serde_json::Value>(d).expect("EMF JSON")
        })
        .filter_map(|d| d["bench.check"].as_f64())
        .sum();
    assert_eq!(total, CHECK as f64, "instrument counted every add");
    let mce = metrics::counter!("bench.check");
    for _ in 0..CHECK {
        mce.increment(1);
    }
    let mut out = Vec::new();
    collector.flush(&mut out).expect("writes to a Vec");
    let mce_total: f64 = String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|d| d["bench.check"].as_f64())
        .sum();
    assert_eq!(
        mce_total, CHECK as f64,
        "metrics_cloudwatch_embedded counted every add"
    );

    let handle = instrument::metrics::counter("bench.handle");
    let mce_handle = metrics::counter!("bench.handle");
    let rows = vec![
        Row::new("instrument_handle", move |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(&handle).add(1);
            }
            start.elapsed()
        }),
        Row::new("mce_handle", move |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(&mce_handle).increment(1);
            }
            start.elapsed()
        }),
        Row::new("instrument_lookup", |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                instrument::metrics::counter(black_box("bench.lookup")).add(1);
            }
            start.elapsed()
        }),
        Row::new("mce_lookup", |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                metrics::counter!(black_box("bench.lookup")).increment(1);
            }
            start.elapsed()
        }),
    ];
    timing::run(timing::criterion(), "runtime_metrics", rows, |rows| {
        let times = timing::time_rows(rows, &TIMING);
        timing::print_times(
            &format!(
                "runtime_metrics: ns per counter add ({})",
                TIMING.describe("row")
            ),
            ("row", 20),
            &[Column::median("ns median", 9), Column::min("ns min", 9)],
            &times,
        );
        timing::print_ratios(
            &format!("ratios {:>52} {:>6}", "median", "min"),
            56,
            &[
                Ratio::of(&times, "instrument_handle", "mce_handle", Some(1.0)),
                Ratio::of(&times, "instrument_lookup", "mce_lookup", Some(1.0)),
            ],
        );
    });
    drop(guard);
}

const TIMING: Timing = Timing::DEFAULT;
