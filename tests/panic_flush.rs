//! Issue 13 (11): a caught panic costs no metrics flush. Every panic used to flush the EMF
//! layer from the panic hook: 1,000 calls with 500 caught panics wrote 1,001 documents.
//! One test per binary: `install()` is process-global.

use instrument::track_performance;
use instrument_emf::MemorySink;

#[track_performance]
fn risky(n: u64) -> u64 {
    assert!(n % 2 == 0, "odd");
    n
}

#[test]
fn caught_panics_do_not_flush_metrics() {
    let sink = MemorySink::default();
    let guard = instrument::builder()
        .writer(instrument::testing::LogBuffer::default())
        .env_lookup(|_| None)
        .metrics_sink(sink.clone())
        .install()
        .expect("installs");
    let mut caught = 0;
    for n in 0..1_000u64 {
        if std::panic::catch_unwind(|| risky(n)).is_err() {
            caught += 1;
        }
    }
    assert_eq!(caught, 500);
    let before_flush = sink.documents().len();
    guard.flush();
    let docs = sink.documents();
    assert!(
        before_flush <= 1,
        "{before_flush} EMF documents were written by panics before the flush"
    );
    let total: f64 = docs
        .iter()
        .map(|d| serde_json::from_slice::<serde_json::Value>(d).expect("EMF JSON"))
        .filter_map(|d| d["risky.error"].as_f64())
        .sum();
    assert_eq!(total, 500.0, "every failed call is still counted");
}
