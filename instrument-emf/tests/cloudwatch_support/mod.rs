//! Talking to the CloudWatch-compatible test server (moto behind `tests/support/cw_adapter.py`)
//! that `bash scripts/test.sh` starts and names in `INSTRUMENT_TEST_CLOUDWATCH_URL`.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instrument_emf::cloudwatch::sdk;
use instrument_emf::cloudwatch::sdk::config::{BehaviorVersion, Credentials, Region};
use instrument_emf::cloudwatch::sdk::primitives::DateTime;
use instrument_emf::cloudwatch::sdk::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use instrument_emf::cloudwatch::CloudwatchOptions;

/// The variable naming the test server's URL.
pub const URL_VAR: &str = "INSTRUMENT_TEST_CLOUDWATCH_URL";
/// Set by `scripts/test.sh`: the server must be there (a missing URL is a failure, not a skip).
pub const REQUIRE_VAR: &str = "INSTRUMENT_TEST_REQUIRE_CLOUDWATCH";

/// The test server, and the region a test uses there.
#[derive(Debug, Clone)]
pub struct Server {
    pub url: String,
    /// moto keeps one store per region and scans all of it for every query: each test gets a
    /// region of its own (when there are few enough), so queries stay fast.
    pub region: String,
}

const REGIONS: [&str; 16] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
];

/// The server (in a region no other test of this process uses); `None` (with a printed
/// notice) when plain `cargo test` runs without it.
pub fn server() -> Option<Server> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(Server {
            url,
            region: REGIONS[NEXT.fetch_add(1, Ordering::Relaxed) as usize % REGIONS.len()]
                .to_string(),
        }),
        _ => {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "{URL_VAR} is not set, but {REQUIRE_VAR} says the CloudWatch test server must \
                 run: scripts/test.sh could not start moto (see its output above)"
            );
            eprintln!(
                "notice: skipping a CloudWatch API test: {URL_VAR} is not set. `bash \
                 scripts/test.sh` starts moto and sets it."
            );
            None
        }
    }
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An SDK client for the test server, with static test credentials.
pub fn client(server: &Server) -> sdk::Client {
    let config = sdk::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(server.region.clone()))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .endpoint_url(&server.url)
        .build();
    sdk::Client::from_conf(config)
}

/// Options for tests: short backoffs, generous flush and shutdown waits.
pub fn options() -> CloudwatchOptions {
    CloudwatchOptions {
        flush_timeout: Duration::from_secs(30),
        shutdown_timeout: Duration::from_secs(30),
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        ..CloudwatchOptions::default()
    }
}

/// One HTTP/1.1 request to the adapter's control endpoints; returns the body.
pub fn control(url: &str, method: &str, path: &str, body: &str) -> String {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect to the CloudWatch test server");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send control request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read control response");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    body.to_string()
}

/// Injects faults for PutMetricData requests in `namespace` (see `cw_adapter.py`).
pub fn faults(server: &Server, namespace: &str, faults: serde_json::Value) {
    control(
        &server.url,
        "POST",
        &format!("/__faults?namespace={namespace}"),
        &faults.to_string(),
    );
}

/// Every PutMetricData request the adapter saw for `namespace`.
pub fn requests(server: &Server, namespace: &str) -> Vec<serde_json::Value> {
    let body = control(
        &server.url,
        "GET",
        &format!("/__requests?namespace={namespace}"),
        "",
    );
    serde_json::from_str(&body).expect("the request log is JSON")
}

/// Statistics of one metric over the last five minutes, as CloudWatch's GetMetricData returns
/// them (summed / min'ed / max'ed over the periods it returns; one period here, since moto
/// scans every stored datum once per period).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub sum: f64,
    pub sample_count: f64,
    pub minimum: f64,
    pub maximum: f64,
}

/// Queries `metric` with exactly `dimensions` through the SDK (and so the adapter) with
/// GetMetricData.
pub fn query(server: &Server, namespace: &str, metric: &str, dimensions: &[(&str, &str)]) -> Stats {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client = client(server);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        let stat_query = |id: &str, stat: &str| {
            let mut m = Metric::builder().namespace(namespace).metric_name(metric);
            for (n, v) in dimensions {
                m = m.dimensions(Dimension::builder().name(*n).value(*v).build());
            }
            MetricDataQuery::builder()
                .id(id)
                .metric_stat(
                    MetricStat::builder()
                        .metric(m.build())
                        .period(360)
                        .stat(stat)
                        .build(),
                )
                .build()
        };
        let out = client
            .get_metric_data()
            .start_time(DateTime::from_secs(now - 300))
            .end_time(DateTime::from_secs(now + 59))
            .metric_data_queries(stat_query("s", "Sum"))
            .metric_data_queries(stat_query("n", "SampleCount"))
            .metric_data_queries(stat_query("lo", "Minimum"))
            .metric_data_queries(stat_query("hi", "Maximum"))
            .send()
            .await
            .expect("GetMetricData");
        let values = |id: &str| -> Vec<f64> {
            out.metric_data_results()
                .iter()
                .find(|r| r.id() == Some(id))
                .map(|r| r.values().to_vec())
                .unwrap_or_default()
        };
        Stats {
            sum: values("s").iter().sum(),
            sample_count: values("n").iter().sum(),
            minimum: values("lo").iter().copied().fold(f64::NAN, f64::min),
            maximum: values("hi").iter().copied().fold(f64::NAN, f64::max),
        }
    })
}
