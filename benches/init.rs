//! Cost of building the subscriber: instrument against `tracing_subscriber::fmt` with the same
//! directives, measured in the same run.
//!
//! Rows:
//!
//! * `instrument_build`: `instrument::builder().writer(Sink).env_lookup(|_| None).build()`,
//!   building only (never installed as the global subscriber); the default directives are `info`.
//! * `fmt_json_env_filter`: `tracing_subscriber::fmt().json()
//!   .with_env_filter(EnvFilter::new("info")).with_writer(Sink).finish()`.
//! * `config_resolve`: `instrument_core::config::Config::resolve(&Default::default(), |_| None)`
//!   alone, the configuration part of `instrument_build`.
//!
//! Only building is timed: outputs are dropped after the clock stops. The two subscribers are
//! built one per timed chunk (each holds a 32 KiB slab table: keeping many alive makes glibc grow
//! and trim the heap on every chunk, and `brk` calls and page faults then dominate and swing the
//! numbers several-fold); the two `Instant::now()` per build (~50 ns) are included in both rows
//! alike. `config_resolve` is small and fast, so it is timed 64 builds per chunk.
//! [`Sink`] discards everything; nothing is written here anyway.
//!
//! Numbers: criterion measures each row (`init/<name>`); then the bench times the rows itself
//! for the ratio table, as `benches/support/timing.rs` describes ([`TIMING`]: batches of ~30 ms,
//! 11 rounds, rows interleaved; median and minimum in ns/iter). The table is printed only for
//! real runs (`cargo bench`).

use std::hint::black_box;
use std::io;
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

#[path = "support/timing.rs"]
mod timing;

use timing::{Column, Ratio, Row, Timing};

/// Discards what it is given.
#[derive(Debug, Clone, Copy, Default)]
struct Sink;

impl io::Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = Sink;

    fn make_writer(&'a self) -> Sink {
        Sink
    }
}

/// Runs `build` `iters` times in chunks of `CHUNK`; returns the time spent building: each chunk's
/// outputs are dropped after the clock stops.
fn time_builds<const CHUNK: usize, T>(iters: u64, build: impl Fn() -> T) -> Duration {
    let mut outputs = Vec::with_capacity(CHUNK);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK as u64);
        let start = Instant::now();
        for _ in 0..n {
            outputs.push(black_box(build()));
        }
        total += start.elapsed();
        outputs.clear();
        left -= n;
    }
    total
}

fn instrument_build() -> impl Sized {
    instrument::builder()
        .writer(Sink)
        .env_lookup(|_| None)
        .build()
        .expect("default configuration builds")
}

fn fmt_json_env_filter() -> impl Sized {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::new(black_box("info")))
        .with_writer(Sink)
        .finish()
}

fn config_resolve() -> impl Sized {
    instrument_core::config::Config::resolve(&Default::default(), |_| None)
        .expect("default configuration resolves")
}

fn rows() -> Vec<Row<'static>> {
    vec![
        Row::new("instrument_build", |iters| {
            time_builds::<1, _>(iters, instrument_build)
        }),
        Row::new("fmt_json_env_filter", |iters| {
            time_builds::<1, _>(iters, fmt_json_env_filter)
        }),
        Row::new("config_resolve", |iters| {
            time_builds::<64, _>(iters, config_resolve)
        }),
    ]
}

const TIMING: Timing = Timing {
    batch: Duration::from_millis(30),
    rounds: 11,
    warm_up_iters: 200,
    probe_iters: 2_000,
    min_iters: 200,
    max_iters: 1_000_000,
};

fn print_table(rows: &mut [Row<'_>]) {
    let times = timing::time_rows(rows, &TIMING);
    timing::print_times(
        &format!("init: ns/iter (batch means; {})", TIMING.describe("row")),
        ("row", 20),
        &[Column::median("median", 10), Column::min("min", 10)],
        &times,
    );
    timing::print_ratios(
        &format!("ratios ({:>6} {:>6})", "median", "min"),
        40,
        &[
            Ratio::of(&times, "instrument_build", "fmt_json_env_filter", Some(1.0)),
            Ratio::of(&times, "config_resolve", "instrument_build", None),
        ],
    );
}

fn main() {
    timing::run(timing::criterion(), "init", rows(), print_table);
}
