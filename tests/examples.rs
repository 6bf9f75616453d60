//! End to end: each example runs as its own process, exactly as the README runs it, and its
//! output is parsed — every stdout line must be one JSON object (a log line or a valid EMF
//! document) — and checked.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// The example's binary, built first if it is missing or older than its source or the library
/// (`cargo test` builds every example before running tests; `cargo test --test examples` does
/// not).
fn example(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let modified = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let built = modified(&binary);
    let fresh = binary.exists()
        && built >= modified(&root.join(format!("examples/{name}.rs")))
        && built >= modified(&exe);
    if !fresh {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--all-features", "--example", name])
            .current_dir(root)
            .status()
            .unwrap();
        assert!(status.success(), "building example {name} failed");
    }
    binary
}

struct Output {
    logs: Vec<Value>,
    emf: Vec<Value>,
    stderr: String,
}

fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(example(name));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The examples configure themselves; keep the caller's settings out.
    for (key, _) in std::env::vars() {
        if key.starts_with("INSTRUMENT_")
            || key.starts_with("AWS_")
            || key.starts_with("POWERTOOLS_")
            || key == "RUST_LOG"
        {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    let status = support::wait_or_kill(&mut child, Duration::from_secs(120));
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    assert!(status.success(), "{name} failed: {status}\n{stderr}");
    let mut output = Output {
        logs: Vec::new(),
        emf: Vec::new(),
        stderr,
    };
    for line in stdout.lines() {
        let object = support::parse_strict(line.as_bytes()).unwrap_or_else(|e| {
            panic!("{name} printed a line that is not one JSON object ({e}): {line}")
        });
        if object.contains_key("_aws") {
            let violations = instrument::instrument_emf::validate::document(line.as_bytes());
            assert!(violations.is_empty(), "{violations:?}: {line}");
            output.emf.push(Value::Object(object));
        } else {
            assert!(
                object["level"].is_string() && object["timestamp"].is_string(),
                "{line}"
            );
            output.logs.push(Value::Object(object));
        }
    }
    output
}

fn sum(docs: &[Value], metric: &str, filter: impl Fn(&Value) -> bool) -> f64 {
    docs.iter()
        .filter(|d| filter(d))
        .map(|d| match d.get(metric) {
            Some(Value::Array(values)) => values.iter().filter_map(Value::as_f64).sum(),
            Some(v) => v.as_f64().unwrap_or(0.0),
            None => 0.0,
        })
        .sum()
}

#[test]
fn booking_prints_json_and_a_summary_that_matches_its_metrics() {
    let out = run("booking", &[], &[]);
    assert!(out
        .logs
        .iter()
        .any(|l| l["message"] == "booking service starting"));
    assert!(out
        .logs
        .iter()
        .filter(|l| l.get("recipient").is_some())
        .all(|l| l["recipient"] == "[REDACTED:email]"));

    // The summary table: `function calls errors p50 p99`, one row per tracked function.
    let rows: Vec<Vec<&str>> = out
        .stderr
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("function"))
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .filter(|cols: &Vec<&str>| cols.len() == 5)
        .collect();
    let functions: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        functions,
        ["Inventory::reserve", "notify", "pay"],
        "{}",
        out.stderr
    );
    for row in &rows {
        let [name, calls, errors, p50, p99] = row[..] else {
            unreachable!()
        };
        let (calls, errors): (f64, f64) = (calls.parse().unwrap(), errors.parse().unwrap());
        let (p50, p99): (f64, f64) = (p50.parse().unwrap(), p99.parse().unwrap());
        let all = |_: &Value| true;
        let successes = sum(&out.emf, &format!("{name}.success"), all);
        // Each error is one value, published with and without its `error_type` dimension.
        let failures = sum(&out.emf, &format!("{name}.error"), all);
        assert_eq!(calls, successes + failures, "{name}");
        assert_eq!(errors, failures, "{name}");
        assert!(calls > 0.0 && p50 <= p99, "{row:?}");
    }
}

#[test]
fn lambda_handler_runs_the_real_runtime_locally() {
    let out = run("lambda_handler", &[], &[]);
    let ids: Vec<String> = (1..=5)
        .map(|i| format!("8f5e0c1a-000{i}-4a1b-9c2d-3e4f5a6b7c0{i}"))
        .collect();
    let correlations = [
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "JKJaXmPLvHcESHA=",
        "booking-flow-7f3a",
        "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "0c2d4e6f-8a0b-4c2d-9e0f-1a2b3c4d5e6f",
    ];
    for (i, id) in ids.iter().enumerate() {
        let lines: Vec<&Value> = out
            .logs
            .iter()
            .filter(|l| l["function_request_id"] == id.as_str() && l["target"] == "lambda_handler")
            .collect();
        assert!(!lines.is_empty(), "{id}");
        for line in &lines {
            assert_eq!(line["correlation_id"], correlations[i]);
            assert_eq!(line["cold_start"], i == 0);
            assert_eq!(line["function_name"], "booking-handler");
            assert!(line["xray_trace_id"]
                .as_str()
                .unwrap()
                .starts_with("Root=1-"));
        }
        // Only the failing invocation (the last) shows its buffered DEBUG lines.
        let debug = lines.iter().filter(|l| l["level"] == "DEBUG").count();
        assert_eq!(debug > 0, i == 4, "{id}: {lines:#?}");
        let mine = |d: &Value| d["function_request_id"] == id.as_str();
        let calls = sum(&out.emf, "reserve.success", mine) + sum(&out.emf, "reserve.error", mine);
        assert_eq!(calls, 1.0, "{id}");
    }
    assert_eq!(sum(&out.emf, "ColdStart", |_| true), 1.0);
    let numbers: Vec<u32> = out
        .stderr
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers, [5, 4, 1], "{}", out.stderr);
}

#[test]
fn axum_service_demo_serves_and_measures_its_requests() {
    let out = run("axum_service", &["--demo"], &[]);
    let finished: Vec<&Value> = out
        .logs
        .iter()
        .filter(|l| l["target"] == "instrument::http")
        .collect();
    let seen: Vec<(&str, &str, u64)> = finished
        .iter()
        .map(|l| {
            (
                l["method"].as_str().unwrap(),
                l["route"].as_str().unwrap(),
                l["status_code"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/bookings/{id}", 200),
            ("GET", "/bookings/{id}", 200),
            ("GET", "/bookings/{id}", 404),
            ("GET", "/inventory", 200),
            ("POST", "/bookings", 201),
            ("GET", "/health/db", 503),
            ("GET", "unmatched", 404),
        ]
    );
    assert_eq!(finished[0]["correlation_id"], "trip-42");
    assert_eq!(
        finished[1]["correlation_id"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    // POST /bookings called /inventory with its correlation ID.
    assert_eq!(finished[3]["correlation_id"], "trip-42");
    assert_eq!(finished[4]["correlation_id"], "trip-42");
    let generated = finished[2]["correlation_id"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(generated).unwrap().get_version_num(),
        4
    );
    let found = out
        .logs
        .iter()
        .find(|l| l["message"] == "booking found")
        .unwrap();
    assert_eq!(found["route"], "/bookings/{id}");
    assert_eq!(found["correlation_id"], "trip-42");

    let route = |r: &'static str| move |d: &Value| d.get("route") == Some(&Value::from(r));
    assert_eq!(
        sum(&out.emf, "http_request.success", route("/bookings/{id}")),
        2.0
    );
    assert_eq!(
        sum(
            &out.emf,
            "http_request.client_error",
            route("/bookings/{id}")
        ),
        1.0
    );
    assert_eq!(
        sum(&out.emf, "http_request.server_error", route("/health/db")),
        1.0
    );
    assert_eq!(
        sum(&out.emf, "http_request.client_error", route("unmatched")),
        1.0
    );
    assert_eq!(sum(&out.emf, "find_booking.success", |_| true), 2.0);
    assert_eq!(sum(&out.emf, "find_booking.error", |_| true), 1.0);
}
