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
//! Numbers: criterion measures each row (`init/<name>`); then, for the ratio table, the bench
//! times each row itself: batches calibrated to ~30 ms, 11 rounds, rows interleaved round-robin
//! inside each round, one discarded warm-up round; median and minimum batch mean in ns/iter, and
//! ratios from both (the minimum is the least disturbed by other load; a target is met when both
//! meet it). The table is printed only for real runs (`cargo bench`: `--bench`
//! without `--test`/`--list`/`--profile-time`).

use std::hint::black_box;
use std::io;
use std::time::{Duration, Instant};

use criterion::Criterion;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

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

struct Row {
    name: &'static str,
    run: fn(u64) -> Duration,
}

const ROWS: [Row; 3] = [
    Row {
        name: "instrument_build",
        run: |iters| time_builds::<1, _>(iters, instrument_build),
    },
    Row {
        name: "fmt_json_env_filter",
        run: |iters| time_builds::<1, _>(iters, fmt_json_env_filter),
    },
    Row {
        name: "config_resolve",
        run: |iters| time_builds::<64, _>(iters, config_resolve),
    },
];

/// Whether this is a real measuring run (not a smoke test or a listing).
fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list") && !has("--profile-time")
}

const TARGET_BATCH: Duration = Duration::from_millis(30);
const ROUNDS: usize = 11;

fn print_table() {
    let iters: Vec<u64> = ROWS
        .iter()
        .map(|row| {
            (row.run)(200);
            let per_iter = (row.run)(2_000).as_secs_f64() / 2_000.0;
            ((TARGET_BATCH.as_secs_f64() / per_iter) as u64).clamp(200, 1_000_000)
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(ROUNDS); ROWS.len()];
    for round in 0..=ROUNDS {
        for (i, row) in ROWS.iter().enumerate() {
            let ns = (row.run)(iters[i]).as_nanos() as f64 / iters[i] as f64;
            if round > 0 {
                samples[i].push(ns);
            }
        }
    }
    let stats: Vec<(f64, f64)> = samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            (s[s.len() / 2], s[0])
        })
        .collect();
    println!(
        "\ninit: ns/iter (batch means; {ROUNDS} rounds of ~{} ms per row, interleaved)",
        TARGET_BATCH.as_millis()
    );
    println!("  {:<20} {:>10} {:>10}", "row", "median", "min");
    for (row, (med, min)) in ROWS.iter().zip(&stats) {
        println!("  {:<20} {med:>10.1} {min:>10.1}", row.name);
    }
    println!("\nratios ({:>6} {:>6})", "median", "min");
    let (r_med, r_min) = (stats[0].0 / stats[1].0, stats[0].1 / stats[1].1);
    let verdict = match (r_med <= 1.0, r_min <= 1.0) {
        (true, true) => "met",
        (false, false) => "MISSED",
        _ => "borderline",
    };
    println!(
        "  {:<40} {r_med:>6.3} {r_min:>6.3}  target <= 1.0: {verdict}",
        "instrument_build / fmt_json_env_filter"
    );
    println!(
        "  {:<40} {:>6.3} {:>6.3}",
        "config_resolve / instrument_build",
        stats[2].0 / stats[0].0,
        stats[2].1 / stats[0].1
    );
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args();
    let mut group = criterion.benchmark_group("init");
    for row in &ROWS {
        group.bench_function(row.name, |b| b.iter_custom(row.run));
    }
    group.finish();
    criterion.final_summary();

    if measuring() {
        print_table();
    }
}
