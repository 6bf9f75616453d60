//! PutMetricData requests and bytes per 1,000,000 tracked calls in one (simulated) minute:
//! the `cloudwatch-api` sink (batched, bucketed) against the naive way, one request per metric
//! per flush.
//!
//! Workload: 10 tracked functions × 5 endpoints (a `dimension.endpoint` span around the calls),
//! 20 % errors over 3 error types, latencies log-uniform over 0.05–2,000 ms rounded to whole
//! microseconds (so a minute's distribution has far more than 150 distinct values). The
//! interval flush (60 s) is simulated by one `flush` at the end of the minute. Two layer
//! settings, one table each:
//! * production defaults: each thread also flushes its own shard every 10,000 buffered values
//!   (`max_buffered_values`), i.e. every 5,000 calls here, 200 partial flushes a minute;
//! * one flush a minute (`max_buffered_values(usize::MAX)`): each metric's whole minute in one
//!   distribution, where value bucketing matters.
//!
//! Both contenders see exactly the same flushes (a tee exporter hands every group to both):
//! * `instrument`: [`CloudwatchExporter`] — up to 1,000 datums and 1 MB per request, at most 150
//!   distinct values per datum (bucketed with ≤ 1 % error beyond), sent when a batch is full,
//!   at each full flush, at shutdown.
//! * `naive`: every metric × dimension set of every flush as its own PutMetricData request,
//!   with its exact distinct values (`Values`/`Counts`, 150 per datum).
//!
//! Both go through the same SDK client configuration (request compression on: bodies of 10 KB
//! and more are gzipped) to a local HTTP endpoint on 127.0.0.1 that answers every request with
//! an empty PutMetricData success and counts requests and body bytes as received.
//!
//! `cargo bench --features cloudwatch-api --bench cloudwatch` prints the table;
//! `cargo test --benches` runs a 20,000-call smoke pass that checks the counts and prints it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use instrument_emf::cloudwatch::sdk;
use instrument_emf::cloudwatch::sdk::config::{BehaviorVersion, Credentials, Region};
use instrument_emf::cloudwatch::sdk::types::{Dimension, MetricDatum, StandardUnit};
use instrument_emf::cloudwatch::{CloudwatchExporter, CloudwatchOptions, MAX_VALUES_PER_DATUM};
use instrument_emf::{CheckedGroup, Dropped, EmfLayer, Exporter};
use tracing::field::Empty;
use tracing_subscriber::prelude::*;

const FUNCTIONS: [&str; 10] = [
    "reserve", "confirm", "cancel", "search", "quote", "pay", "refund", "notify", "login",
    "profile",
];
const ENDPOINTS: [&str; 5] = ["/a", "/b", "/c", "/d", "/e"];
const ERRORS: [&str; 3] = ["SoldOut", "Timeout", "Invalid"];

/// Counts what a local PutMetricData endpoint receives.
#[derive(Default)]
struct Wire {
    requests: AtomicU64,
    bytes: AtomicU64,
}

/// A keep-alive HTTP/1.1 endpoint on 127.0.0.1 answering every request with an empty
/// rpcv2Cbor success (`{}`); its threads end with the process.
fn endpoint(wire: Arc<Wire>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let wire = wire.clone();
            std::thread::spawn(move || serve(stream, &wire));
        }
    });
    url
}

fn serve(stream: TcpStream, wire: &Wire) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        wire.requests.fetch_add(1, Ordering::Relaxed);
        wire.bytes.fetch_add(length as u64, Ordering::Relaxed);
        let answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\n\
            smithy-protocol: rpc-v2-cbor\r\nContent-Length: 1\r\n\r\n\xa0";
        if out.write_all(answer).is_err() {
            return;
        }
    }
}

fn client(url: &str) -> sdk::Client {
    sdk::Client::from_conf(
        sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
            .endpoint_url(url)
            .build(),
    )
}

/// One naive request: a metric × dimension set of one flush, exact values.
struct NaiveRequest {
    namespace: String,
    data: Vec<MetricDatum>,
}

/// Hands every group to the real sink and records the naive requests for it.
struct Tee {
    sink: Arc<CloudwatchExporter>,
    naive: Mutex<Vec<NaiveRequest>>,
}

impl Exporter for Tee {
    fn export(
        &self,
        namespace: &str,
        group: &CheckedGroup<'_>,
        timestamp_ms: u64,
        dropped: &Dropped,
    ) {
        self.sink.export(namespace, group, timestamp_ms, dropped);
        let sets: Vec<&[usize]> = group.sets().iter().map(Vec::as_slice).collect();
        let mut naive = self.naive.lock().expect("naive requests");
        for metric in group.metrics() {
            let mut distinct: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
            for v in metric.values.iter() {
                distinct.entry(v.to_bits()).or_insert((*v, 0.0)).1 += 1.0;
            }
            let entries: Vec<(f64, f64)> = distinct.into_values().collect();
            for set in &sets {
                let data = entries
                    .chunks(MAX_VALUES_PER_DATUM)
                    .map(|chunk| {
                        let mut b = MetricDatum::builder()
                            .metric_name(metric.name)
                            .timestamp(sdk::primitives::DateTime::from_millis(timestamp_ms as i64))
                            .unit(StandardUnit::from(metric.unit.as_str()))
                            .set_values(Some(chunk.iter().map(|e| e.0).collect()))
                            .set_counts(Some(chunk.iter().map(|e| e.1).collect()));
                        for &i in *set {
                            let (name, value) = group.dimension(i);
                            b = b.dimensions(Dimension::builder().name(name).value(value).build());
                        }
                        b.build()
                    })
                    .collect();
                naive.push(NaiveRequest {
                    namespace: namespace.to_string(),
                    data,
                });
            }
        }
    }

    fn flush(&self) {
        self.sink.flush();
    }

    fn shutdown(&self) {
        self.sink.shutdown();
    }

    fn take_dropped(&self, dropped: &Dropped) {
        self.sink.take_dropped(dropped);
    }
}

/// A deterministic log-uniform latency in 0.05–2,000 ms, whole microseconds.
fn latency(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    let u = (*state >> 11) as f64 / (1u64 << 53) as f64;
    let ms = 0.05 * (2_000.0f64 / 0.05).powf(u);
    (ms * 1_000.0).round() / 1_000.0
}

struct Row {
    requests: u64,
    bytes: u64,
    datums: u64,
}

fn run(calls: u64, max_buffered_values: usize) -> (Row, Row, u64) {
    let wire = Arc::new(Wire::default());
    let url = endpoint(wire.clone());
    let sink = Arc::new(
        CloudwatchExporter::with_client(client(&url), CloudwatchOptions::default())
            .expect("sender starts"),
    );
    let tee = Arc::new(Tee {
        sink: sink.clone(),
        naive: Mutex::new(Vec::new()),
    });
    let layer = EmfLayer::with_exporter(tee.clone())
        .namespace("Bench")
        .dimension("service", "bench")
        .max_buffered_values(max_buffered_values)
        .build();
    let handle = layer.inner().handle();
    let mut errors = 0u64;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut call = 0u64;
        while call < calls {
            let endpoint = ENDPOINTS[(call / 1_000) as usize % ENDPOINTS.len()];
            let request = tracing::info_span!("request", dimension.endpoint = endpoint);
            let _entered = request.enter();
            for _ in 0..1_000.min(calls - call) {
                let function = FUNCTIONS[(call % FUNCTIONS.len() as u64) as usize];
                let span = tracing::info_span!(
                    "call",
                    function,
                    outcome = Empty,
                    latency_ms = Empty,
                    error_type = Empty
                );
                if call % 5 == 0 {
                    span.record("outcome", "error");
                    span.record("error_type", ERRORS[(call / 5 % 3) as usize]);
                    errors += 1;
                } else {
                    span.record("outcome", "success");
                }
                span.record("latency_ms", latency(&mut state));
                drop(span);
                call += 1;
            }
        }
    });
    // The minute's interval flush, then the guard's shutdown.
    handle.flush();
    handle.shutdown();
    let stats = sink.stats();
    assert_eq!((stats.lost, stats.rejected), (0, 0), "{stats:?}");
    let ours = Row {
        requests: wire.requests.swap(0, Ordering::Relaxed),
        bytes: wire.bytes.swap(0, Ordering::Relaxed),
        datums: stats.datums_sent,
    };
    assert_eq!(ours.requests, stats.http_requests);

    // The naive requests, one by one, to the same endpoint.
    let naive = std::mem::take(&mut *tee.naive.lock().expect("naive requests"));
    let datums: u64 = naive.iter().map(|r| r.data.len() as u64).sum();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let naive_client = client(&url);
    let sent = naive.len() as u64;
    runtime.block_on(async {
        for request in naive {
            naive_client
                .put_metric_data()
                .namespace(request.namespace)
                .set_metric_data(Some(request.data))
                .send()
                .await
                .expect("the local endpoint accepts everything");
        }
    });
    let naive = Row {
        requests: wire.requests.load(Ordering::Relaxed),
        bytes: wire.bytes.load(Ordering::Relaxed),
        datums,
    };
    assert_eq!(naive.requests, sent);
    (ours, naive, errors)
}

fn main() {
    let real = std::env::args().any(|a| a == "--bench");
    let calls: u64 = if real { 1_000_000 } else { 20_000 };
    for (setting, max_buffered) in [
        (
            "layer defaults: a partial flush every 10,000 values",
            10_000,
        ),
        ("one flush a minute", usize::MAX),
    ] {
        let (ours, naive, errors) = run(calls, max_buffered);
        assert!(errors > 0 && ours.requests > 0 && ours.requests <= naive.requests);
        println!(
            "\nPutMetricData per {calls} tracked calls in one simulated minute, {setting} \
             ({} functions x {} endpoints, 20 % errors{})",
            FUNCTIONS.len(),
            ENDPOINTS.len(),
            if real {
                ""
            } else {
                "; smoke run, `cargo bench` runs 1,000,000"
            }
        );
        println!(
            "{:<40} {:>12} {:>16} {:>12}",
            "", "requests", "bytes sent", "datums"
        );
        for (name, row) in [
            ("instrument (batched, bucketed)", &ours),
            ("naive (1 request / metric / flush)", &naive),
        ] {
            println!(
                "{:<40} {:>12} {:>16} {:>12}",
                name, row.requests, row.bytes, row.datums
            );
        }
        println!(
            "{:<40} {:>11.1}x {:>15.1}x {:>11.1}x",
            "naive / instrument",
            naive.requests as f64 / ours.requests as f64,
            naive.bytes as f64 / ours.bytes.max(1) as f64,
            naive.datums as f64 / ours.datums.max(1) as f64
        );
    }
}
