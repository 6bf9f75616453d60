//! Golden tests: the catalog of each example, read from its source, lists exactly the metric
//! names (and dimension sets) its real EMF output holds when it runs. A metric of the catalog
//! that the run does not emit must be one the run had no occasion for: the `.error` of a
//! function that never failed in it (its log has no failure line), a `.cancelled` with no
//! cancellation, a 4xx/5xx counter without such a response, a cold start outside Lambda.

#[path = "../../tests/support/run_example.rs"]
mod run_example;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use instrument_cli::catalog::{captured_metrics, Captured, Catalog, Comparison, Origin, When};
use instrument_cli::settings::{Overrides, ServiceSettings};
use serde_json::Value;

struct Run {
    catalog: Catalog,
    captured: BTreeMap<String, Captured>,
    logs: Vec<Value>,
    stdout: String,
}

fn run(example: &str, args: &[&str]) -> Run {
    let source = run_example::workspace().join(format!("examples/{example}.rs"));
    let catalog = Catalog::scan(&[source]).unwrap();
    let stdout = run_example::run(example, args);
    let captured = captured_metrics(stdout.as_bytes()).unwrap();
    let logs = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("_aws").is_none())
        .collect();
    Run {
        catalog,
        captured,
        logs,
        stdout,
    }
}

/// Why a declared metric may be absent from this run; panics when nothing explains it.
fn explain_absence(run: &Run, name: &str, when: When, origin: &Origin) {
    let failed = |function: &str| {
        run.logs.iter().any(|l| {
            l["function"] == function && matches!(l["outcome"].as_str(), Some("error" | "panic"))
        })
    };
    let status = |range: std::ops::Range<u64>| {
        run.logs
            .iter()
            .filter(|l| l["target"] == "instrument::http")
            .any(|l| {
                l["status_code"]
                    .as_u64()
                    .is_some_and(|s| range.contains(&s))
            })
    };
    match (when, origin) {
        (When::Failure | When::Panic, Origin::Function(f)) => {
            assert!(
                !failed(f),
                "{f} failed in the run, yet {name} was not emitted"
            );
        }
        (When::Cancelled, Origin::Function(f)) => assert!(
            !run.logs
                .iter()
                .any(|l| l["function"] == *f && l["outcome"] == "cancelled"),
            "{name}: a cancellation was logged"
        ),
        (When::ClientError, Origin::Http) => assert!(!status(400..500), "{name}"),
        (When::ServerError, Origin::Http) => assert!(!status(500..600), "{name}"),
        (When::ColdStart, Origin::Lambda) => assert!(
            !run.logs.iter().any(|l| l["cold_start"] == true),
            "{name}: a cold invocation was logged"
        ),
        _ => panic!("{name} ({when:?}) is declared and was not emitted"),
    }
}

fn check_exact(run: &Run, settings: &ServiceSettings) {
    let declared = run.catalog.metrics();
    let names: BTreeSet<&str> = declared.iter().map(|m| m.name.as_str()).collect();
    let emitted: BTreeSet<&str> = run.captured.keys().map(String::as_str).collect();
    let undeclared: Vec<&&str> = emitted.difference(&names).collect();
    assert!(
        undeclared.is_empty(),
        "emitted but not in the catalog: {undeclared:?}"
    );
    for metric in &declared {
        let Some(captured) = run.captured.get(&metric.name) else {
            explain_absence(run, &metric.name, metric.when, &metric.origin);
            continue;
        };
        // Every dimension set emitted is one the catalog declares (with the default dimensions).
        let environment = settings.environments.first().map(String::as_str);
        let defaults: Vec<String> = settings
            .default_dimensions(environment)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let declared_sets: BTreeSet<BTreeSet<String>> = metric
            .dimension_sets
            .iter()
            .map(|s| {
                if metric.exact_dimensions {
                    s.iter().cloned().collect()
                } else {
                    defaults.iter().chain(s).cloned().collect()
                }
            })
            .collect();
        for set in &captured.dimension_sets {
            let set: BTreeSet<String> = set.iter().cloned().collect();
            assert!(
                declared_sets.contains(&set),
                "{}: emitted with dimensions {set:?}, declared {declared_sets:?}",
                metric.name
            );
        }
        assert_eq!(
            captured.namespaces,
            BTreeSet::from([settings.namespace.clone()]),
            "{}",
            metric.name
        );
    }
}

fn settings(catalog: &Catalog) -> ServiceSettings {
    let overrides = Overrides {
        region: Some("eu-west-1".into()),
        ..Overrides::default()
    };
    ServiceSettings::resolve(catalog, &overrides, |_| None).unwrap()
}

#[test]
fn booking_catalog_is_exactly_its_emf_output() {
    let run = run("booking", &[]);
    let names: Vec<String> = run
        .catalog
        .functions
        .iter()
        .map(|f| f.name.clone())
        .collect();
    assert_eq!(names, ["Inventory::reserve", "pay", "notify"]);
    let settings = settings(&run.catalog);
    assert_eq!(settings.namespace, "Ticketing");
    assert_eq!(settings.service.as_deref(), Some("booking"));
    assert_eq!(settings.environments, ["dev"]);
    assert!(run.catalog.lambda && !run.catalog.http);
    check_exact(&run, &settings);
    // What this run exercised, so that the check above is not vacuous.
    for name in [
        "Inventory::reserve.success",
        "Inventory::reserve.latency",
        "pay.success",
        "pay.error",
        "notify.latency",
        "seats_reserved",
        "ColdStart",
    ] {
        assert!(run.captured.contains_key(name), "{name}");
    }
    let comparison = Comparison::new(&run.catalog, &run.captured);
    assert!(comparison.is_clean(), "{comparison:?}");
    let not_exercised: Vec<&str> = comparison
        .not_exercised
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(not_exercised, ["Inventory::reserve.error", "notify.error"]);
}

#[test]
fn axum_catalog_is_exactly_its_emf_output() {
    let run = run("axum_service", &["--demo"]);
    let settings = settings(&run.catalog);
    assert_eq!(settings.service.as_deref(), Some("booking-api"));
    assert!(settings.environments.is_empty());
    assert!(run.catalog.http && !run.catalog.lambda);
    check_exact(&run, &settings);
    for name in [
        "find_booking.success",
        "find_booking.error",
        "find_booking.latency",
        "http_request.success",
        "http_request.client_error",
        "http_request.server_error",
        "http_request.latency",
        "bookings_created",
        "seats_left",
    ] {
        assert!(run.captured.contains_key(name), "{name}");
    }
    let comparison = Comparison::new(&run.catalog, &run.captured);
    assert!(comparison.is_clean(), "{comparison:?}");
    let metrics = run.catalog.metrics();
    let units: BTreeMap<&str, &str> = metrics
        .iter()
        .map(|m| (m.name.as_str(), m.unit.as_str()))
        .collect();
    assert_eq!(units["seats_left"], "None");
    assert_eq!(units["http_request.latency"], "Milliseconds");
}

#[test]
fn the_command_compares_a_captured_log_strictly() {
    let run = run("booking", &[]);
    let dir = std::env::temp_dir().join(format!("instrument-catalog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("booking.log");
    std::fs::write(&log, &run.stdout).unwrap();
    let source = run_example::workspace().join("examples/booking.rs");
    let out = Command::new(env!("CARGO_BIN_EXE_instrument"))
        .args(["catalog", source.to_str().unwrap(), "--compare"])
        .arg(&log)
        .args(["--strict", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut stream = serde_json::Deserializer::from_slice(&out.stdout).into_iter::<Value>();
    let catalog = stream.next().unwrap().unwrap();
    let comparison = stream.next().unwrap().unwrap();
    assert_eq!(catalog["functions"][0]["name"], "Inventory::reserve");
    assert_eq!(comparison["undeclared"], serde_json::json!([]));
    assert_eq!(comparison["missing"], serde_json::json!([]));

    // A capture with a metric the code does not declare fails --strict, and says which.
    let mut extra = run.stdout.clone();
    extra.push_str(
        r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Ticketing","Dimensions":[["service"]],"Metrics":[{"Name":"refund.success","Unit":"Count"}]}]},"service":"booking","refund.success":1}"#,
    );
    extra.push('\n');
    std::fs::write(&log, extra).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_instrument"))
        .args(["catalog", source.to_str().unwrap(), "--compare"])
        .arg(&log)
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("emitted but undeclared:     refund.success"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
