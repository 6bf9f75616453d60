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
    let lookup = |k: &str| (k == "INSTRUMENT_METRICS").then(|| "cloudwatch".to_string());
    let (subscriber, guard) = instrument::builder()
        .env_lookup(lookup)
        .service(&service)
        .namespace(&namespace)
        .log_level("off")
        .cloudwatch_options(CloudwatchOptions {
            region: Some(server.region.clone()),
            ..cw::options()
        })
        .cloudwatch_endpoint(&server.url)
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
