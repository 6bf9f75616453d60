//! `Redactor::redact` throughput on PII-free and PII-dense log text, against a naive loop that
//! applies one regex per rule in turn (`instrument::redact::reference::NaiveRedactor`).
//!
//! Targets: ≥ 5× the naive loop on PII-free text, ≥ 3× on PII-dense and on digit-heavy text.
//! The naive loop covers the same rule set (value rules, vendor token formats, key names).
//! `cargo bench --bench redact` prints a ratio table after criterion's report: the six
//! contenders (redactor and naive loop on each text) timed in interleaved rounds by
//! `benches/support/timing.rs`, so that load on the machine hits both sides of a ratio alike,
//! with the median and the minimum batch (only in real runs); `cargo test --benches` runs each
//! body once.
//!
//! (The "log layer with redaction on vs off ≤ 1.15×" comparison belongs to the log layer's bench,
//! once the redactor is wired into it.)

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use instrument::redact::reference::NaiveRedactor;
use instrument::redact::Redactor;

#[path = "support/timing.rs"]
mod timing;
use timing::{Column, Ratio, Row, Timing};

/// Log text with no PII, but with what makes scrubbers work: numbers, UUIDs, ARNs, hashes,
/// timestamps, versions, `Debug` output, a Luhn-invalid 16-digit order number.
fn pii_free() -> Vec<String> {
    let lines = [
        "reserved 2 seats for event E-2026-11 in 34 ms",
        "request id 6f1c2d3e-5957-4abc-9def-0123456789ab done",
        "arn:aws:lambda:us-east-1:201250421420:function:booking invoked",
        "took 3274 ms at 2026-11-22T11:55:00.123Z",
        r#"Booking { id: 42, seats: 2, route: "/book", status: Confirmed, attempts: 1 }"#,
        "GET /api/v1/bookings/94958/seats?limit=20&offset=40 -> 200 (12.5 ms)",
        "cache miss for key user:profile:88421, fetching from dynamodb table bookings-prod",
        "sha256 ac2e6a4debdabefdce30fc952ffd670cbcea772a18cde049ac8b3a235c912396",
        "order 3787918442491975 shipped",
        "deployed version 6.18.3 (build 20261122.4) on instance i-0abc123def4567890",
        "retrying in 36s (attempt 7 of 10): connection reset by peer",
        "The booking service accepted the reservation request after validating the seat map, \
         the pricing rules and the customer's loyalty tier; the confirmation will be sent once \
         the payment provider acknowledges the authorisation, which usually takes less than a \
         second but can take up to thirty seconds when the provider is under load.",
    ];
    lines.iter().map(|s| s.to_string()).collect()
}

/// Log text dense in digits: timings, counts, ids, amounts, dates, addresses, with some PII
/// among them (a card, a phone number, an IP address, an SSN).
fn digit_heavy() -> Vec<String> {
    let lines = [
        "2026-11-22 11:55:00.123 took 3274 ms, 12 retries, 4096 bytes, 99.95 p99, 0.75 ratio",
        "order 3787918442491975 total 1249.99 EUR qty 12 sku 884213 at 2026-11-22T11:55:00Z",
        "batch 20261122 rows 1048576 errors 0 dup 17 size 2147483648 offset 65536 lag 42",
        "paid 4111 1111 1111 1111 amount 100.00 ref 77812 terminal 0042 batch 991",
        "metrics cpu 73.5 mem 1843 io 12093 net 9912 gc 14 threads 64 fds 1021 uptime 86400",
        "call from +44 20 7946 0958 at 11:55:03 duration 183 s queue 7 agent 4411",
        "client 203.0.113.9:51234 -> 10.0.4.17:443 rtt 12.5 ms seq 3490221 win 65535",
        "ssn 078-05-1120 dob 1984-03-12 zip 94107 acct 000123456 route 121000358",
        "ids 6f1c2d3e 5957 4abc 9def 0123456789ab v 6.18.3 build 20261122.4 pid 31337",
    ];
    lines.iter().map(|s| s.to_string()).collect()
}

/// Log text where every line carries PII or a secret.
fn pii_dense() -> Vec<String> {
    let lines = [
        "user bob.nguyen@example.io paid with 4111 1111 1111 1111 from 203.0.113.9",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcDEF123_-xyz",
        "refund to IBAN DE89 3704 0044 0532 0130 00 for ssn 078-05-1120, call (415) 555-2671",
        "aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "connecting to postgres://app:s3cr3tP4ss@db.internal:5432/bookings from 2001:db8::8a2e:370:7334",
        r#"Login { user: "alice@example.com", password: "hunter2", remember: true }"#,
        "sms to +44 20 7946 0958 queued, callback +1 415 555 2671",
    ];
    lines.iter().map(|s| s.to_string()).collect()
}

fn total_len(texts: &[String]) -> usize {
    texts.iter().map(String::len).sum()
}

fn bench(c: &mut Criterion) {
    let redactor = Redactor::default();
    let naive = NaiveRedactor::new();
    for (name, texts) in [
        ("pii_free", pii_free()),
        ("pii_dense", pii_dense()),
        ("digit_heavy", digit_heavy()),
    ] {
        let mut group = c.benchmark_group(format!("redact/{name}"));
        group.throughput(Throughput::Bytes(total_len(&texts) as u64));
        group.bench_function("redactor", |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(redactor.redact(black_box(t)));
                }
            })
        });
        group.bench_function("naive_regex_loop", |b| {
            b.iter(|| {
                for t in &texts {
                    black_box(naive.redact(black_box(t)));
                }
            })
        });
        group.finish();
    }
    let names = [
        "password",
        "user_id",
        "X-Api-Key",
        "http.request.method",
        "seats",
    ];
    c.bench_function("redact/key_rule_5_names", |b| {
        b.iter(|| {
            for n in names {
                black_box(redactor.key_rule(black_box(n)));
            }
        })
    });
}

/// The ratio table: each text under the redactor and the naive loop, interleaved.
fn ratio_table() {
    let redactor = Redactor::default();
    let naive = NaiveRedactor::new();
    let sets = [
        ("pii_free", pii_free(), 5),
        ("pii_dense", pii_dense(), 3),
        ("digit_heavy", digit_heavy(), 3),
    ];
    let names: [[&'static str; 2]; 3] = [
        ["pii_free/redactor", "pii_free/naive_regex_loop"],
        ["pii_dense/redactor", "pii_dense/naive_regex_loop"],
        ["digit_heavy/redactor", "digit_heavy/naive_regex_loop"],
    ];
    /// A row that redacts every text `iters` times with `redact` (which returns the result's
    /// length, so that the result is used).
    fn passes<'a>(
        name: &'static str,
        texts: &'a [String],
        redact: impl Fn(&str) -> usize + 'a,
    ) -> Row<'a> {
        Row::new(name, move |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                for t in texts {
                    black_box(redact(black_box(t)));
                }
            }
            start.elapsed()
        })
    }
    let mut rows = Vec::new();
    for ((_, texts, _), [ours, theirs]) in sets.iter().zip(names) {
        rows.push(passes(ours, texts, |t| redactor.redact(t).len()));
        rows.push(passes(theirs, texts, |t| naive.redact(t).len()));
    }
    let timing = Timing {
        probe_iters: 200,
        warm_up_iters: 100,
        min_iters: 10,
        ..Timing::DEFAULT
    };
    let times = timing::time_rows(&mut rows, &timing);
    let bytes: Vec<f64> = sets.iter().map(|(_, t, _)| total_len(t) as f64).collect();
    timing::print_times(
        &format!(
            "redact: ns per pass over each text (batch means; {})",
            timing.describe("contender")
        ),
        ("contender", 30),
        &[
            Column::median("median", 10),
            Column::min("min", 10),
            Column::new("MB/s (min)", 11, |name, stat| {
                let set = names.iter().position(|n| n.contains(&name)).unwrap_or(0);
                format!("{:.1}", bytes[set] / stat.min * 1e3)
            }),
        ],
        &times,
    );
    // A speed-up of at least `s` is a time ratio of at most 1/s (rounded down to 3 decimals).
    timing::print_ratios(
        &format!("redactor / naive loop ({:>6} {:>6})", "median", "min"),
        54,
        &sets
            .iter()
            .zip(names)
            .map(|((name, _, speed_up), [ours, theirs])| {
                let target = (1000.0 / f64::from(*speed_up)).floor() / 1000.0;
                let r = Ratio::of(&times, ours, theirs, Some(target));
                let label = format!(
                    "{name}: speed-up {:.1}× median, {:.1}× min (≥ {speed_up}×)",
                    1.0 / r.median,
                    1.0 / r.min.unwrap_or(r.median)
                );
                r.labelled(label)
            })
            .collect::<Vec<_>>(),
    );
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    bench(&mut c);
    c.final_summary();
    // Only under `cargo bench`: `cargo test --benches` runs each body once, untimed.
    if timing::measuring() {
        ratio_table();
    }
}
