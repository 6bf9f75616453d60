//! End to end, as a user sees it: `#[track_performance]` functions, `INSTRUMENT_METRICS=cloudwatch`
//! (feature `cloudwatch-api`), the guard's drop, and CloudWatch's own statistics (moto behind
//! `tests/support/cw_adapter.py`, started by `bash scripts/test.sh`). Without that server, plain
//! `cargo test` prints a notice and skips.
#![cfg(feature = "cloudwatch-api")]

#[path = "../instrument-emf/tests/cloudwatch_support/mod.rs"]
mod cloudwatch_support;

use std::fmt;

use cloudwatch_support as cw;
use instrument::instrument_emf::cloudwatch::CloudwatchOptions;

#[derive(Debug)]
struct SoldOut;

impl fmt::Display for SoldOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sold out")
    }
}

impl std::error::Error for SoldOut {}

#[instrument::track_performance]
fn reserve(seat: u32) -> Result<u32, SoldOut> {
    if seat % 4 == 0 {
        Err(SoldOut)
    } else {
        Ok(seat)
    }
}

#[instrument::track_performance]
async fn confirm(seat: u32) -> u32 {
    seat + 1
}

/// The facade's builder with the PutMetricData sink pointed at the test server.
fn builder(
    server: &cw::Server,
    namespace: &str,
    service: &str,
) -> instrument::Builder<fn() -> std::io::Stdout> {
    let lookup = |k: &str| (k == "INSTRUMENT_METRICS").then(|| "cloudwatch".to_string());
    instrument::builder()
        .env_lookup(lookup)
        .service(service)
        .namespace(namespace)
        .log_level("off")
        .cloudwatch_options(CloudwatchOptions {
            region: Some(server.region.clone()),
            ..cw::options()
        })
        .cloudwatch_endpoint(&server.url)
}

#[test]
fn tracked_calls_reach_cloudwatch_through_the_builder_and_the_guard() {
    let Some(server) = cw::server() else { return };
    assert!(
        std::env::var_os("AWS_ACCESS_KEY_ID").is_some(),
        "the AWS configuration chain needs credentials: scripts/test.sh exports test ones \
         (AWS_ACCESS_KEY_ID=testing …)"
    );
    let namespace = cw::unique("Facade");
    let service = cw::unique("booking");
    let (subscriber, guard) = builder(&server, &namespace, &service)
        .build()
        .expect("the PutMetricData sink starts");

    const CALLS: u32 = 1_000;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::subscriber::with_default(subscriber, || {
        for seat in 0..CALLS {
            let _ = reserve(seat);
        }
        runtime.block_on(async {
            for seat in 0..CALLS / 2 {
                confirm(seat).await;
            }
        });
    });
    // Dropping the guard delivers what is buffered (bounded wait).
    drop(guard);

    let dims = [("service", service.as_str())];
    let errors = f64::from(CALLS / 4);
    let ok = f64::from(CALLS) - errors;
    assert_eq!(
        cw::query(&server, &namespace, "reserve.success", &dims).sum,
        ok
    );
    assert_eq!(
        cw::query(&server, &namespace, "reserve.error", &dims).sum,
        errors
    );
    let by_type = [("service", service.as_str()), ("error_type", "SoldOut")];
    assert_eq!(
        cw::query(&server, &namespace, "reserve.error", &by_type).sum,
        errors
    );
    let latency = cw::query(&server, &namespace, "reserve.latency", &dims);
    assert_eq!(latency.sample_count, f64::from(CALLS));
    let confirmed = cw::query(&server, &namespace, "confirm.success", &dims);
    assert_eq!(confirmed.sum, f64::from(CALLS / 2));
    let confirm_latency = cw::query(&server, &namespace, "confirm.latency", &dims);
    assert_eq!(confirm_latency.sample_count, f64::from(CALLS / 2));
}

/// Issue 14: several dimension sets round-trip through PutMetricData exactly: one datum per
/// set, each with the same statistics.
#[test]
fn rollup_dimension_sets_reach_cloudwatch_with_the_same_statistics() {
    let Some(server) = cw::server() else { return };
    let namespace = cw::unique("Rollups");
    let service = cw::unique("api");
    let (subscriber, guard) = builder(&server, &namespace, &service)
        .rollups([vec![], vec!["route"]])
        .build()
        .expect("the PutMetricData sink starts");
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..30u32 {
            let (route, method) = match i % 3 {
                0 => ("/book", "POST"),
                1 => ("/book", "GET"),
                _ => ("/pay", "POST"),
            };
            tracing::info!(
                dimension.route = route,
                dimension.method = method,
                counter.requests = 2,
                histogram.request_ms = f64::from(i)
            );
        }
    });
    drop(guard);
    let s = service.as_str();
    let total = cw::query(&server, &namespace, "requests", &[("service", s)]);
    assert_eq!(total.sum, 60.0, "the service-wide set");
    let book = [("service", s), ("route", "/book")];
    assert_eq!(cw::query(&server, &namespace, "requests", &book).sum, 40.0);
    let book_get = [("service", s), ("route", "/book"), ("method", "GET")];
    assert_eq!(
        cw::query(&server, &namespace, "requests", &book_get).sum,
        20.0
    );
    let latency = cw::query(&server, &namespace, "request_ms", &[("service", s)]);
    assert_eq!(latency.sample_count, 30.0);
    assert_eq!(latency.sum, (0..30).sum::<u32>() as f64);
    let pay = [("service", s), ("route", "/pay"), ("method", "POST")];
    assert_eq!(
        cw::query(&server, &namespace, "request_ms", &pay).sample_count,
        10.0
    );
}
