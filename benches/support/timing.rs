//! The ratio-table harness shared by the benches (`#[path = "support/timing.rs"] mod timing;`).
//!
//! Criterion measures every row as usual (`<group>/<name>`, [`run`]), but its estimates
//! are not easy to read back reliably, so for the ratio table a bench then times each row itself
//! ([`time_rows`]):
//!
//! * calibration: each row runs [`Timing::warm_up_iters`] untimed, then
//!   [`Timing::probe_iters`] timed; its batch size is the number of iterations that fill
//!   [`Timing::batch`] at that speed, clamped to [`Timing::min_iters`]..=[`Timing::max_iters`];
//! * [`Timing::rounds`] rounds plus one discarded warm-up round; inside each round the rows run
//!   one batch each, interleaved round-robin, so drift on the machine hits all of them alike;
//! * per row, the median and the minimum batch mean in ns per iteration ([`Stat`]).
//!
//! Ratios ([`Ratio`], [`print_ratios`]) are given for both: the median is the usual figure, the
//! minimum is the one least disturbed by other load on the machine (noise only ever adds time).
//! A target `t` (a ratio is good when `<= t`) is `met` when both meet it, `borderline` when one
//! does and `MISSED` when neither does.
//!
//! Use: a bench lists its contenders as [`Row`]s and hands them to [`run`] with its table
//! function, which calls [`time_rows`] with the bench's [`Timing`], then [`print_times`] (a
//! title, the rows with their median and minimum and any columns of the bench's own) and
//! [`print_ratios`] (the bench's list of ratios and targets).
//!
//! The table is only worth its time in real runs: [`measuring`] is true for `cargo bench` (the
//! binary gets `--bench`) without `--test`/`--list`/`--profile-time`; `cargo test --benches` and
//! `cargo bench -- --test` only run the bench's checks and criterion's single-iteration smoke
//! test.
#![allow(dead_code)] // each bench uses a different subset
// Timing arithmetic converts between integers and floats.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::time::Duration;

use criterion::Criterion;

/// One contender: its name (criterion's `<group>/<name>`, the table's row) and how to run it.
pub struct Row<'a> {
    pub name: &'static str,
    /// Runs `iters` iterations; returns the time they took (setup outside the clock excluded).
    pub run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

impl<'a> Row<'a> {
    pub fn new(name: &'static str, run: impl FnMut(u64) -> Duration + 'a) -> Self {
        Row {
            name,
            run: Box::new(run),
        }
    }
}

/// How [`time_rows`] times the rows (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The time one batch should take.
    pub batch: Duration,
    /// Rounds kept (one more, the first, is discarded).
    pub rounds: usize,
    /// Calibration: iterations run untimed first.
    pub warm_up_iters: u64,
    /// Calibration: iterations timed to estimate the time per iteration.
    pub probe_iters: u64,
    /// The smallest batch, in iterations.
    pub min_iters: u64,
    /// The largest batch, in iterations.
    pub max_iters: u64,
}

impl Timing {
    /// Batches of ~40 ms, 11 rounds; calibrated on 2,000 + 20,000 iterations, a batch of
    /// 1,000..=2,000,000 iterations.
    pub const DEFAULT: Timing = Timing {
        batch: Duration::from_millis(40),
        rounds: 11,
        warm_up_iters: 2_000,
        probe_iters: 20_000,
        min_iters: 1_000,
        max_iters: 2_000_000,
    };

    /// `"<rounds> rounds of ~<batch> ms per <per>, interleaved"`, for the table's title.
    pub fn describe(&self, per: &str) -> String {
        format!(
            "{} rounds of ~{} ms per {per}, interleaved",
            self.rounds,
            self.batch.as_millis()
        )
    }
}

/// Whether this is a real measuring run (not a smoke test or a listing).
pub fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    has("--bench") && !has("--test") && !has("--list") && !has("--profile-time")
}

/// Criterion's settings for the benches: 1 s warm-up, 2 s of measurement, 50 samples (a bench
/// may change them; the command line's apply on top, in [`run`]).
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

/// A bench's measuring part: criterion measures every row as group `group` (settings from
/// `criterion`, the command line's applied on top) and prints its final summary; then, in real
/// runs only ([`measuring`]), `table` gets the rows to time them ([`time_rows`]) and print the
/// ratio table.
pub fn run<'a>(
    criterion: Criterion,
    group: &str,
    mut rows: Vec<Row<'a>>,
    table: impl FnOnce(&mut [Row<'a>]),
) {
    let mut criterion = criterion.configure_from_args();
    let mut benchmark_group = criterion.benchmark_group(group);
    for row in &mut rows {
        benchmark_group.bench_function(row.name, |b| b.iter_custom(&mut row.run));
    }
    benchmark_group.finish();
    criterion.final_summary();
    if measuring() {
        table(&mut rows);
    }
}

/// Median and minimum batch mean of a row, ns per iteration.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
}

/// What [`time_rows`] measured: one [`Stat`] per row, in the rows' order.
pub struct Times {
    rows: Vec<(&'static str, Stat)>,
}

impl Times {
    /// The row called `name`.
    pub fn get(&self, name: &str) -> Stat {
        self.rows
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no row {name:?}"))
            .1
    }

    /// Every row, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Stat)> + '_ {
        self.rows.iter().copied()
    }
}

/// Calibrates, then times every row in interleaved rounds (see the module docs).
pub fn time_rows(rows: &mut [Row<'_>], timing: &Timing) -> Times {
    let iters: Vec<u64> = rows
        .iter_mut()
        .map(|row| {
            (row.run)(timing.warm_up_iters);
            let per_iter = (row.run)(timing.probe_iters).as_secs_f64() / timing.probe_iters as f64;
            ((timing.batch.as_secs_f64() / per_iter) as u64)
                .clamp(timing.min_iters, timing.max_iters)
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(timing.rounds); rows.len()];
    for round in 0..=timing.rounds {
        for (i, row) in rows.iter_mut().enumerate() {
            let ns = (row.run)(iters[i]).as_nanos() as f64 / iters[i] as f64;
            if round > 0 {
                samples[i].push(ns);
            }
        }
    }
    Times {
        rows: rows
            .iter()
            .zip(samples)
            .map(|(row, mut s)| {
                s.sort_by(f64::total_cmp);
                let stat = Stat {
                    median: s[s.len() / 2],
                    min: s[0],
                };
                (row.name, stat)
            })
            .collect(),
    }
}

/// A column of the times table after the name: a heading and a right-aligned cell per row.
pub struct Column<'a> {
    head: &'a str,
    width: usize,
    cell: Box<dyn Fn(&'static str, Stat) -> String + 'a>,
}

impl<'a> Column<'a> {
    /// A column showing `cell(row name, its stat)`.
    pub fn new(
        head: &'a str,
        width: usize,
        cell: impl Fn(&'static str, Stat) -> String + 'a,
    ) -> Self {
        Column {
            head,
            width,
            cell: Box::new(cell),
        }
    }

    /// The median, one decimal.
    pub fn median(head: &'a str, width: usize) -> Self {
        Column::new(head, width, |_, stat| format!("{:.1}", stat.median))
    }

    /// The minimum, one decimal.
    pub fn min(head: &'a str, width: usize) -> Self {
        Column::new(head, width, |_, stat| format!("{:.1}", stat.min))
    }
}

/// Prints a blank line, `title`, then a table: the row names (headed `name_head`, left-aligned
/// in `name_width`) and `columns`, one line per row of `times`.
pub fn print_times(
    title: &str,
    (name_head, name_width): (&str, usize),
    columns: &[Column<'_>],
    times: &Times,
) {
    println!("\n{title}");
    print!("  {name_head:<name_width$}");
    for c in columns {
        print!(" {:>width$}", c.head, width = c.width);
    }
    println!();
    for (name, stat) in times.iter() {
        print!("  {name:<name_width$}");
        for c in columns {
            print!(" {:>width$}", (c.cell)(name, stat), width = c.width);
        }
        println!();
    }
}

/// One line of the ratios: the `median` ratio and, where there is one, the `min` ratio;
/// `target`, if any, is the largest good value.
#[derive(Debug, Clone)]
pub struct Ratio {
    pub label: String,
    pub median: f64,
    pub min: Option<f64>,
    pub target: Option<f64>,
}

impl Ratio {
    /// Row `num` over row `den`, median over median and minimum over minimum, labelled
    /// `"num / den"`.
    pub fn of(times: &Times, num: &str, den: &str, target: Option<f64>) -> Self {
        let (n, d) = (times.get(num), times.get(den));
        Ratio {
            label: format!("{num} / {den}"),
            median: n.median / d.median,
            min: Some(n.min / d.min),
            target,
        }
    }

    /// The same ratio under another label.
    pub fn labelled(self, label: String) -> Self {
        Ratio { label, ..self }
    }

    /// `target <= t: met` (both ratios meet it), `borderline` (one does) or `MISSED`; empty
    /// without a target. Without a minimum, the median decides alone.
    pub fn verdict(&self) -> String {
        let Some(t) = self.target else {
            return String::new();
        };
        let min = self.min.unwrap_or(self.median);
        let verdict = match (self.median <= t, min <= t) {
            (true, true) => "met",
            (false, false) => "MISSED",
            _ => "borderline",
        };
        // `{:?}` keeps the decimal point of a whole target: `1.0`, not `1`.
        format!("target <= {t:?}: {verdict}")
    }
}

/// Prints a blank line, `heading` (the bench's line over the ratios), then one line per ratio:
/// its label (left-aligned in `label_width`), the median and minimum ratios (three decimals,
/// right-aligned in 6) and the verdict ([`Ratio::verdict`]).
pub fn print_ratios(heading: &str, label_width: usize, ratios: &[Ratio]) {
    println!("\n{heading}");
    for r in ratios {
        let min = r.min.map_or(String::new(), |m| format!("{m:.3}"));
        println!(
            "  {:<label_width$} {:>6.3} {min:>6}  {}",
            r.label,
            r.median,
            r.verdict()
        );
    }
}
