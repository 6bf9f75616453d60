//! Issue 13 (8): only the last clone of the `Guard` ends the pipeline. Dropping a clone used
//! to shut it down (the interval flush stopped for good), because the guard guessed from the
//! `Arc`'s strong count whether the panic hook held the other reference.

use std::time::{Duration, Instant};

use instrument_emf::MemorySink;
use serde_json::Value;

fn orders(sink: &MemorySink) -> f64 {
    sink.documents()
        .iter()
        .map(|d| serde_json::from_slice::<Value>(d).expect("EMF JSON"))
        .filter_map(|d| d["orders"].as_f64())
        .sum()
}

#[test]
fn dropping_a_clone_keeps_the_interval_flush_running() {
    let sink = MemorySink::default();
    let (dispatch, guard) = instrument::builder()
        .writer(instrument::testing::LogBuffer::default())
        .env_lookup(|_| None)
        .metrics_sink(sink.clone())
        .metrics_flush_interval(Duration::from_millis(50))
        .build_dispatch()
        .expect("builds");
    let wait_for = |total: f64| {
        // No explicit flush: only the interval flush can deliver it.
        let deadline = Instant::now() + Duration::from_secs(5);
        while orders(&sink) < total && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(orders(&sink), total, "the interval flush runs");
    };
    // The first metric starts the interval flush.
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(counter.orders = 1, "ordered");
    });
    wait_for(1.0);
    drop(guard.clone());
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(counter.orders = 2, "ordered");
    });
    wait_for(3.0);

    // The last guard out flushes what is left.
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(counter.orders = 2, "ordered");
    });
    let clone = guard.clone();
    drop(guard);
    drop(clone);
    assert_eq!(orders(&sink), 5.0);
}
