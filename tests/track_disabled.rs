//! With metrics off and the tracked span's level filtered out of the logs, a tracked call does
//! not track: its span is disabled, nothing is recorded and no completion line is written.
//!
//! In its own binary: tracing caches callsite interest process-wide, and the scoped subscribers
//! of concurrent tests in the same process would blur what "disabled" means.

use instrument::track_performance;

#[derive(Debug)]
struct SoldOut;

/// Reports whether it ran inside an enabled span.
#[track_performance]
fn reserve(seats: u32) -> Result<bool, SoldOut> {
    let tracked = !tracing::Span::current().is_disabled();
    if seats > 4 {
        Err(SoldOut)
    } else {
        Ok(tracked)
    }
}

#[track_performance(level = "warn", log = "all")]
fn important() -> bool {
    !tracing::Span::current().is_disabled()
}

#[track_performance]
async fn reserve_async() -> bool {
    !tracing::Span::current().is_disabled()
}

/// JSON lines in memory: the `MakeWriter` instrument ships for tests.
type Lines = instrument::testing::LogBuffer;

/// What the instrument subscriber is with metrics off: the registry and the JSON log layer
/// behind its per-layer filter.
fn metrics_off_subscriber(lines: &Lines) -> impl tracing::Subscriber + Send + Sync {
    use instrument::instrument_core::config::{Config, Settings};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;

    let mut settings = Settings::default();
    settings.log_level = Some("warn".into());
    let config = Config::resolve(&settings, |_| None).unwrap();
    let log = instrument::JsonLogLayer::from_config(&config)
        .with_writer(lines.clone())
        .with_filter(config.log_filter());
    tracing_subscriber::registry().with(log)
}

fn check_untracked(lines: &Lines) {
    assert!(!reserve(1).unwrap(), "the INFO span is disabled");
    assert!(reserve(9).is_err());
    assert!(!futures::executor::block_on(reserve_async()));
    // No completion line for the error: the call was not tracked at all.
    assert!(lines.contents().is_empty());

    // A WARN-level tracked function is still tracked and logged.
    assert!(important());
    let text = lines.contents();
    let parsed: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed.len(), 1, "{text}");
    assert_eq!(parsed[0]["message"], "important completed");
    assert_eq!(parsed[0]["outcome"], "success");
}

/// Both subscribers, one after the other (concurrent tests would race on tracing's process-wide
/// interest cache).
#[test]
fn metrics_off_and_level_filtered_out_means_untracked() {
    // The subscriber `build()` makes with metrics off: registry and filtered JSON log layer.
    let lines = Lines::default();
    tracing::subscriber::with_default(metrics_off_subscriber(&lines), || check_untracked(&lines));

    // The same through `instrument::builder()`.
    let lines = Lines::default();
    let (subscriber, _guard) = instrument::builder()
        .writer(lines.clone())
        .log_level("warn")
        .env_lookup(|name| (name == "INSTRUMENT_METRICS").then(|| "off".to_string()))
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || check_untracked(&lines));
}
