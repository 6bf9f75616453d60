//! `#[track_performance]` against its peers, one run, side by side. Every contender calls the same
//! small function (`work`: an FNV-1a hash over 64 bytes, about the cost of a tiny handler body)
//! with its own instrumentation:
//!
//! * `bare`: no instrumentation.
//! * `tracing_instrument`: `#[tracing::instrument]` under a bare `tracing_subscriber::Registry`.
//! * `autometrics`: `#[autometrics]` (feature `metrics-0_24`) recording into a
//!   `metrics_util` atomic registry installed as the `metrics` recorder: the storage the
//!   Prometheus exporter uses, without an exporter.
//! * `metered`: `#[measure([HitCount, ErrorCount, ResponseTime])]`.
//! * `track_performance`: `#[track_performance(log = "off")]` under the full instrument pipeline,
//!   `instrument::builder().writer(sink).env_lookup(|_| None).build_dispatch()` (JSON log layer
//!   and EMF layer, metrics to the sink writer), as `init()` installs it.
//! * `track_disabled`: the same function with metrics off and the level filtered out
//!   (`INSTRUMENT_METRICS=off`, `log_level("off")`), through `build_dispatch()`.
//! * `track_disabled_log_only`: the same, with the subscriber assembled by hand as the registry
//!   and the filtered JSON log layer only (what `build()` amounts to with metrics off).
//!
//! Diagnostic rows, to see where the full pipeline's time goes:
//!
//! * `track_spans`: the full pipeline from `build()`, where every tracked call opens its span at
//!   the start (what a subscriber composed with further layers does), against `track_performance`
//!   from `build_dispatch()` (what `init()` installs), where a call that nothing observes records
//!   its metrics without opening a span.
//! * `track_registry`: `#[track_performance]` under a bare `Registry`, the macro's own cost on
//!   the same footing as `tracing_instrument`.
//! * `track_log_layer`, `track_emf_layer`: under the registry with only the JSON log layer (at
//!   `info`), or only the EMF layer.
//! * `tracing_disabled`: `#[tracing::instrument]` under the metrics-off subscriber, the floor of a
//!   disabled span.
//!
//! Each contender is timed with only its own subscriber alive (as in production, where one
//! global subscriber decides the callsites' interest).
//!
//! Before anything is timed, each peer is checked to really record: autometrics' counter,
//! metered's hit count, instrument's EMF document.
//!
//! Numbers: criterion measures every contender (`track_performance/<name>`); then, for the
//! ratio table, the bench times each contender itself as `benches/support/timing.rs` describes
//! ([`TIMING`]: batches of ~25 ms, 9 rounds, contenders interleaved; median and minimum batch
//! mean in ns/call, a target met when both ratios meet it). The table is printed only for real
//! runs (`cargo bench`); `cargo test --benches` runs the checks and criterion's
//! single-iteration smoke test.

// Bench code, not generated code: setups share one fn-pointer shape and the timing loop is
// inlined on purpose.
#![allow(clippy::unnecessary_wraps, clippy::inline_always)]

use std::hint::black_box;
use std::io::{self, Write};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::{Duration, Instant};

use instrument::track_performance;
use metered::{metered, ErrorCount, HitCount, ResponseTime};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry as MetricsRegistry};
use tracing::Dispatch;

#[path = "support/timing.rs"]
mod timing;

use timing::{Column, Ratio, Row, Timing};

// ---------------------------------------------------------------------------------------------
// The function under test, in every flavour.

#[derive(Debug)]
pub struct WorkError;

impl std::fmt::Display for WorkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("work failed")
    }
}

impl std::error::Error for WorkError {}

#[inline(always)]
fn work(n: u64) -> Result<u64, WorkError> {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for i in 0..64_u64 {
        hash ^= n.wrapping_add(i) & 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if hash == 0 {
        Err(WorkError)
    } else {
        Ok(hash)
    }
}

#[inline(never)]
fn bare(n: u64) -> Result<u64, WorkError> {
    work(n)
}

#[tracing::instrument]
#[inline(never)]
fn with_tracing(n: u64) -> Result<u64, WorkError> {
    work(n)
}

#[autometrics::autometrics]
#[inline(never)]
fn with_autometrics(n: u64) -> Result<u64, WorkError> {
    work(n)
}

#[derive(Default, Debug)]
struct Metered {
    metrics: MeteredMetrics,
}

#[metered(registry = MeteredMetrics)]
impl Metered {
    #[measure([HitCount, ErrorCount, ResponseTime])]
    #[inline(never)]
    fn with_metered(&self, n: u64) -> Result<u64, WorkError> {
        work(n)
    }
}

static METERED: LazyLock<Metered> = LazyLock::new(Metered::default);

#[track_performance(log = "off")]
#[inline(never)]
fn with_track(n: u64) -> Result<u64, WorkError> {
    work(n)
}

// ---------------------------------------------------------------------------------------------
// autometrics' backend: the `metrics` recorder.

struct Recorder {
    registry: MetricsRegistry<Key, AtomicStorage>,
}

impl metrics::Recorder for Recorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.registry
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.registry
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.registry
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}

fn recorder() -> &'static Recorder {
    static RECORDER: OnceLock<&'static Recorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder: &'static Recorder = Box::leak(Box::new(Recorder {
            registry: MetricsRegistry::atomic(),
        }));
        metrics::set_global_recorder(recorder).expect("no other metrics recorder");
        recorder
    })
}

/// Empties the histograms (as an exporter's scrape would), so memory stays flat.
fn drain_histograms() {
    recorder().registry.visit_histograms(|_, h| h.clear());
}

// ---------------------------------------------------------------------------------------------
// Subscribers.

/// A `MakeWriter` keeping what is written, for the checks.
#[derive(Clone, Default)]
struct Kept(Arc<Mutex<Vec<u8>>>);

impl Write for Kept {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Kept {
    type Writer = Kept;
    fn make_writer(&'a self) -> Kept {
        self.clone()
    }
}

/// What a contender runs under: a dispatcher, and the instrument guard to keep alive.
type Setup = Option<(Dispatch, Option<instrument::Guard>)>;

fn no_subscriber() -> Setup {
    None
}

fn bare_registry() -> Setup {
    Some((Dispatch::new(tracing_subscriber::registry()), None))
}

fn instrument_full() -> Setup {
    let (dispatch, guard) = instrument::builder()
        .writer(io::sink)
        .env_lookup(|_| None)
        .build_dispatch()
        .expect("instrument builds");
    Some((dispatch, Some(guard)))
}

fn instrument_spans() -> Setup {
    let (subscriber, guard) = instrument::builder()
        .writer(io::sink)
        .env_lookup(|_| None)
        .build()
        .expect("instrument builds");
    Some((Dispatch::new(subscriber), Some(guard)))
}

fn log_layer_only() -> Setup {
    use instrument::instrument_core::config::{Config, Settings};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;

    let config = Config::resolve(&Settings::default(), |_| None).expect("valid configuration");
    let log = instrument::JsonLogLayer::from_config(&config)
        .with_writer(io::sink)
        .with_filter(config.log_filter());
    Some((
        Dispatch::new(tracing_subscriber::registry().with(log)),
        None,
    ))
}

fn emf_layer_only() -> Setup {
    use tracing_subscriber::layer::SubscriberExt;
    let sink = instrument_emf::FnSink::new(|_: &[u8]| {});
    let emf = instrument_emf::EmfLayer::builder(sink).build();
    Some((
        Dispatch::new(tracing_subscriber::registry().with(emf)),
        None,
    ))
}

fn instrument_disabled() -> Setup {
    let (dispatch, guard) = instrument::builder()
        .writer(io::sink)
        .log_level("off")
        .env_lookup(|name| (name == "INSTRUMENT_METRICS").then(|| "off".to_string()))
        .build_dispatch()
        .expect("instrument builds");
    Some((dispatch, Some(guard)))
}

fn instrument_log_only_off() -> Setup {
    use instrument::instrument_core::config::{Config, Settings};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;

    let mut settings = Settings::default();
    settings.log_level = Some("off".into());
    let config = Config::resolve(&settings, |_| None).expect("valid configuration");
    let log = instrument::JsonLogLayer::from_config(&config)
        .with_writer(io::sink)
        .with_filter(config.log_filter());
    Some((
        Dispatch::new(tracing_subscriber::registry().with(log)),
        None,
    ))
}

// ---------------------------------------------------------------------------------------------
// Contenders.

struct Contender {
    name: &'static str,
    setup: fn() -> Setup,
    /// Times `iters` calls.
    calls: fn(u64) -> Duration,
}

#[inline(always)]
fn timed(iters: u64, f: impl Fn(u64) -> Result<u64, WorkError>) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let _ = black_box(f(black_box(i)));
    }
    start.elapsed()
}

impl Contender {
    fn run(&self, iters: u64) -> Duration {
        if self.name == "autometrics" {
            drain_histograms();
        }
        match (self.setup)() {
            Some((dispatch, guard)) => {
                let elapsed = tracing::dispatcher::with_default(&dispatch, || (self.calls)(iters));
                drop(guard);
                elapsed
            }
            None => (self.calls)(iters),
        }
    }
}

const CONTENDERS: [Contender; 12] = [
    Contender {
        name: "bare",
        setup: no_subscriber,
        calls: |iters| timed(iters, bare),
    },
    Contender {
        name: "tracing_instrument",
        setup: bare_registry,
        calls: |iters| timed(iters, with_tracing),
    },
    Contender {
        name: "autometrics",
        setup: no_subscriber,
        calls: |iters| timed(iters, with_autometrics),
    },
    Contender {
        name: "metered",
        setup: no_subscriber,
        calls: |iters| timed(iters, |n| METERED.with_metered(n)),
    },
    Contender {
        name: "track_performance",
        setup: instrument_full,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "track_spans",
        setup: instrument_spans,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "track_registry",
        setup: bare_registry,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "track_log_layer",
        setup: log_layer_only,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "track_emf_layer",
        setup: emf_layer_only,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "track_disabled",
        setup: instrument_disabled,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "tracing_disabled",
        setup: instrument_log_only_off,
        calls: |iters| timed(iters, with_tracing),
    },
    Contender {
        name: "track_disabled_log_only",
        setup: instrument_log_only_off,
        calls: |iters| timed(iters, with_track),
    },
];

/// Every peer really records what the bench says it does.
fn check() {
    recorder();
    for n in 0..10 {
        assert!(bare(n).is_ok());
        assert!(with_autometrics(n).is_ok());
        assert!(METERED.with_metered(n).is_ok());
    }
    let mut calls = 0;
    recorder().registry.visit_counters(|key, counter| {
        if key.name() == "function_calls_total" {
            calls += counter.load(std::sync::atomic::Ordering::Relaxed);
        }
    });
    assert!(calls >= 10, "autometrics records into the metrics recorder");
    let hits = METERED.metrics.with_metered.hit_count.0.get();
    assert!(hits >= 10, "metered counts hits");

    let kept = Kept::default();
    let (dispatch, guard) = instrument::builder()
        .writer(kept.clone())
        .env_lookup(|_| None)
        .build_dispatch()
        .expect("instrument builds");
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..10 {
            assert!(with_track(n).is_ok());
        }
    });
    guard.flush();
    drop(guard);
    let text = String::from_utf8(kept.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("with_track.success") && text.contains("with_track.latency"),
        "instrument writes an EMF document for the tracked calls: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// The ratio table.

const TIMING: Timing = Timing {
    batch: Duration::from_millis(25),
    rounds: 9,
    warm_up_iters: 5_000,
    probe_iters: 50_000,
    min_iters: 10_000,
    max_iters: 5_000_000,
};

fn print_table(rows: &mut [Row<'_>]) {
    let times = timing::time_rows(rows, &TIMING);
    let bare = times.get("bare").median;
    timing::print_times(
        &format!(
            "track_performance: ns/call (batch means; {})",
            TIMING.describe("contender")
        ),
        ("contender", 26),
        &[
            Column::median("median", 9),
            Column::min("min", 9),
            Column::new("over bare", 14, |_, stat| {
                format!("{:>11.1} ns", stat.median - bare)
            }),
        ],
        &times,
    );
    let ratio = |num, den, target| Ratio::of(&times, num, den, target);
    timing::print_ratios(
        &format!("ratios {:>39} {:>6}", "median", "min"),
        38,
        &[
            ratio("track_performance", "autometrics", Some(0.45)),
            ratio("track_performance", "tracing_instrument", Some(1.7)),
            ratio("track_disabled", "bare", Some(1.1)),
            ratio("track_registry", "tracing_instrument", None),
            ratio("track_spans", "tracing_instrument", None),
            ratio("track_disabled_log_only", "bare", None),
            ratio("track_performance", "metered", None),
            ratio("track_performance", "bare", None),
        ],
    );
}

fn main() {
    check();

    timing::run(
        timing::criterion()
            .warm_up_time(Duration::from_millis(500))
            .sample_size(30),
        "track_performance",
        CONTENDERS
            .iter()
            .map(|c| Row::new(c.name, |iters| c.run(iters)))
            .collect(),
        print_table,
    );
}
