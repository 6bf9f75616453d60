//! Traces (feature `otel`): what a tracked call costs when traces are on, side by side in one
//! run. Every contender calls the same small function (`work`: an FNV-1a hash over 64 bytes):
//!
//! * `deferred`: `#[track_performance(log = "off")]` under `build_dispatch()` with traces off:
//!   today's deferred call (no span opened, metrics recorded directly).
//! * `unsampled`: the same with traces on at a sample rate of 0: the call decides at its start
//!   that it is not sampled and keeps the deferred path. Target: within 10 % of `deferred`.
//! * `sampled`: traces on at a rate of 1: every call opens its span, which the trace layer hands
//!   to `tracing-opentelemetry` and the SDK's batch processor (log and EMF layers as well).
//! * `tracing_otel`: `#[tracing::instrument]` under a registry with `tracing-opentelemetry`'s
//!   layer alone, on the same SDK pipeline (X-Ray ids, batch processor, OTLP/HTTP exporter):
//!   the peer of `sampled`.
//!
//! Both exporting contenders send to 127.0.0.1:9, where nothing listens: export attempts fail
//! at once on the batch thread, and spans beyond the queue (2048) are dropped; what is timed is
//! the calling thread's cost, the same for both.
//!
//! Each pipeline is built once and kept for the whole run, as in a process: building one starts
//! the SDK's batch thread and the HTTP client's, which would otherwise start up on this 2-core
//! machine while the next batch is timed. Every tracked callsite is always-interesting to all
//! of them, so their coexistence changes no callsite's interest.
//!
//! Before anything is timed, the paths are checked: under `unsampled` a call is deferred, under
//! `sampled` it has opened its span.

#![allow(clippy::unnecessary_wraps, clippy::inline_always)]

use std::hint::black_box;
use std::io;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use instrument::track_performance;
use opentelemetry::trace::TracerProvider as _;
use tracing::Dispatch;

#[path = "support/timing.rs"]
mod timing;

use timing::{Column, Ratio, Row, Timing};

const ENDPOINT: &str = "http://127.0.0.1:9/v1/traces";

#[inline(always)]
fn work(n: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for i in 0..64_u64 {
        hash ^= n.wrapping_add(i) & 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[track_performance(log = "off")]
#[inline(never)]
fn with_track(n: u64) -> u64 {
    work(n)
}

#[tracing::instrument]
#[inline(never)]
fn with_tracing(n: u64) -> u64 {
    work(n)
}

#[track_performance(log = "off")]
fn deferred_now() -> bool {
    instrument::__private::pending_calls() == 1
}

type Setup = (Dispatch, Option<instrument::Guard>, Option<Provider>);
type Provider = opentelemetry_sdk::trace::SdkTracerProvider;

fn instrument_with(traces: Option<f64>) -> Setup {
    let mut builder = instrument::builder().writer(io::sink).env_lookup(|_| None);
    if let Some(rate) = traces {
        builder = builder.trace_endpoint(ENDPOINT).trace_sample_rate(rate);
    }
    let (dispatch, guard) = builder.build_dispatch().expect("instrument builds");
    (dispatch, Some(guard), None)
}

fn deferred() -> Setup {
    instrument_with(None)
}

fn unsampled() -> Setup {
    instrument_with(Some(0.0))
}

fn sampled() -> Setup {
    instrument_with(Some(1.0))
}

/// `tracing-opentelemetry` alone, on the pipeline instrument builds.
fn tracing_otel() -> Setup {
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use tracing_subscriber::layer::SubscriberExt;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(ENDPOINT)
        .build()
        .expect("the exporter builds");
    let provider = Provider::builder()
        .with_batch_exporter(exporter)
        .with_id_generator(opentelemetry_aws::trace::XrayIdGenerator::default())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    (dispatch, None, Some(provider))
}

struct Contender {
    name: &'static str,
    setup: &'static LazyLock<Setup>,
    calls: fn(u64) -> Duration,
}

static DEFERRED: LazyLock<Setup> = LazyLock::new(deferred);
static UNSAMPLED: LazyLock<Setup> = LazyLock::new(unsampled);
static SAMPLED: LazyLock<Setup> = LazyLock::new(sampled);
static TRACING_OTEL: LazyLock<Setup> = LazyLock::new(tracing_otel);

#[inline(always)]
fn timed(iters: u64, f: impl Fn(u64) -> u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        black_box(f(black_box(i)));
    }
    start.elapsed()
}

impl Contender {
    fn run(&self, iters: u64) -> Duration {
        let (dispatch, _, _) = &**self.setup;
        tracing::dispatcher::with_default(dispatch, || (self.calls)(iters))
    }
}

const CONTENDERS: [Contender; 4] = [
    Contender {
        name: "deferred",
        setup: &DEFERRED,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "unsampled",
        setup: &UNSAMPLED,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "sampled",
        setup: &SAMPLED,
        calls: |iters| timed(iters, with_track),
    },
    Contender {
        name: "tracing_otel",
        setup: &TRACING_OTEL,
        calls: |iters| timed(iters, with_tracing),
    },
];

/// The contenders take the paths they are named for.
fn check() {
    for (setup, deferred) in [
        (deferred as fn() -> Setup, true),
        (unsampled, true),
        (sampled, false),
    ] {
        let (dispatch, guard, _) = setup();
        let was = tracing::dispatcher::with_default(&dispatch, deferred_now);
        assert_eq!(
            was, deferred,
            "a call defers exactly when it is not sampled"
        );
        drop(guard);
    }
}

const TIMING: Timing = Timing {
    batch: Duration::from_millis(25),
    rounds: 9,
    warm_up_iters: 5_000,
    probe_iters: 20_000,
    min_iters: 2_000,
    max_iters: 2_000_000,
};

fn print_table(rows: &mut [Row<'_>]) {
    let times = timing::time_rows(rows, &TIMING);
    timing::print_times(
        &format!(
            "traces: ns/call (batch means; {})",
            TIMING.describe("contender")
        ),
        ("contender", 14),
        &[Column::median("median", 9), Column::min("min", 9)],
        &times,
    );
    let ratio = |num, den, target| Ratio::of(&times, num, den, target);
    timing::print_ratios(
        &format!("ratios {:>27} {:>6}", "median", "min"),
        26,
        &[
            ratio("unsampled", "deferred", Some(1.1)),
            ratio("sampled", "tracing_otel", None),
            ratio("sampled", "deferred", None),
        ],
    );
}

fn main() {
    check();
    timing::run(
        timing::criterion()
            .warm_up_time(Duration::from_millis(500))
            .sample_size(20),
        "traces",
        CONTENDERS
            .iter()
            .map(|c| Row::new(c.name, |iters| c.run(iters)))
            .collect(),
        print_table,
    );
}
