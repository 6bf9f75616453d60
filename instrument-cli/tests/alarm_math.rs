//! An alarm generated from an objective in this file, evaluated on the EMF stream the real
//! pipeline writes for this file's tracked function: a run with 5 % errors against a 99.9 %
//! objective goes into ALARM, a clean run stays OK. Each flush of the pipeline stands for one
//! minute of traffic (its documents get that minute's timestamp), so the alarm's "3 of the last
//! 5 one-minute periods" has periods to count.

use std::process::Command;

use instrument_cli::catalog::Catalog;
use instrument_cli::generate::evaluate::{evaluate, State};
use instrument_cli::generate::{plan, Parts};
use instrument_cli::settings::{Overrides, ServiceSettings};
use instrument_query::emf::{extract, Datapoint};

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}

impl std::error::Error for Declined {}

#[instrument::track_performance(objective(success = 99.9, latency_ms = 250))]
fn charge(n: u32, fail_every: u32) -> Result<u32, Declined> {
    if fail_every > 0 && n % fail_every == 0 {
        Err(Declined)
    } else {
        Ok(n)
    }
}

const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/alarm_math.rs");
const CALLS_PER_MINUTE: u32 = 200;
const MINUTES: i64 = 5;
const T0: i64 = 1_796_000_000_000;

/// The EMF lines of `MINUTES` minutes of `charge` calls, one call in `fail_every` failing
/// (`0`: none).
fn stream(fail_every: u32) -> String {
    let capture = instrument::testing::Capture::with(|b| {
        b.service("payments")
            .namespace("Shop")
            .environment("prod")
            .log_level("off")
    });
    let mut out = String::new();
    let mut seen = 0;
    for minute in 0..MINUTES {
        capture.run(|| {
            for n in 1..=CALLS_PER_MINUTE {
                let _ = charge(n, fail_every);
            }
        });
        capture.flush();
        let documents = capture.raw_metric_documents();
        for doc in &documents[seen..] {
            let mut doc: serde_json::Value = serde_json::from_slice(doc).unwrap();
            doc["_aws"]["Timestamp"] = (T0 + minute * 60_000).into();
            out.push_str(&doc.to_string());
            out.push('\n');
        }
        seen = documents.len();
    }
    out
}

fn points(stream: &str) -> Vec<Datapoint> {
    stream
        .lines()
        .flat_map(|l| {
            extract(
                serde_json::from_str::<serde_json::Value>(l)
                    .unwrap()
                    .as_object()
                    .unwrap(),
            )
        })
        .collect()
}

fn settings(catalog: &Catalog) -> ServiceSettings {
    let overrides = Overrides {
        namespace: Some("Shop".into()),
        service: Some("payments".into()),
        environments: vec!["prod".into()],
        region: Some("us-east-1".into()),
        ..Overrides::default()
    };
    ServiceSettings::resolve(catalog, &overrides, |_| None).unwrap()
}

#[test]
fn five_percent_errors_against_a_999_objective_alarms_and_a_clean_run_does_not() {
    let catalog = Catalog::scan(&[SOURCE.into()]).unwrap();
    let plan = plan(
        &catalog,
        &settings(&catalog),
        Parts {
            dashboard: false,
            alarms: true,
            queries: false,
        },
    )
    .unwrap();
    let names: Vec<&str> = plan.alarms.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "payments-prod-charge-error-rate",
            "payments-prod-charge-latency-p99"
        ]
    );
    let (error_rate, latency) = (&plan.alarms[0], &plan.alarms[1]);

    let failing = points(&stream(20)); // 10 of 200 calls a minute: 5 %
    let evaluation = evaluate(error_rate, &failing);
    assert_eq!(evaluation.state, State::Alarm, "{evaluation:?}");
    assert_eq!(evaluation.series.len(), MINUTES as usize);
    for (_, rate) in &evaluation.series {
        assert!((rate - 5.0).abs() < 1e-9, "{evaluation:?}");
    }
    assert_eq!(evaluation.breaching, 5);
    assert_eq!(evaluate(latency, &failing).state, State::Ok);

    let clean = points(&stream(0));
    let evaluation = evaluate(error_rate, &clean);
    assert_eq!(evaluation.state, State::Ok, "{evaluation:?}");
    // No `.error` datapoint at all in a clean run: FILL makes each minute 0 %, not missing.
    assert_eq!(evaluation.series.len(), MINUTES as usize);
    assert!(evaluation.series.iter().all(|(_, rate)| *rate == 0.0));
    assert_eq!(evaluate(latency, &clean).state, State::Ok);

    // Below the objective's error budget: 1 error in 2,000 calls a minute is 0.05 %, OK.
    let within_budget = points(&stream(CALLS_PER_MINUTE * 10));
    assert_eq!(evaluate(error_rate, &within_budget).state, State::Ok);
}

#[test]
fn alarms_check_on_a_captured_log_exits_1_in_alarm() {
    let dir = std::env::temp_dir().join(format!("instrument-alarm-math-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let check = |fail_every: u32| {
        let log = dir.join(format!("stream-{fail_every}.log"));
        std::fs::write(&log, stream(fail_every)).unwrap();
        Command::new(env!("CARGO_BIN_EXE_instrument"))
            .args([
                "alarms",
                SOURCE,
                "--namespace",
                "Shop",
                "--service",
                "payments",
            ])
            .args(["--environment", "prod", "--check"])
            .env_remove("AWS_REGION")
            .arg(&log)
            .output()
            .unwrap()
    };
    let out = check(20);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("ALARM") && l.contains("payments-prod-charge-error-rate")),
        "{text}"
    );
    let out = check(0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("OK")).count(),
        2,
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
