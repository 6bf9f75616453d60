//! Issue 15 (5): `let _ = instrument::init();` dropped the guard at once, which shut the
//! metrics pipeline down: a short program's logs appeared and every metric was lost, and
//! `std::process::exit` lost what was buffered. The process's exit now flushes an installed
//! pipeline. Each case runs in a child process (installation is process-global), through
//! `init()` itself with the default stdout writer and stdout EMF metrics.
#![cfg(unix)]

use std::process::{Command, Stdio};

use serde_json::Value;

/// Set in the child's environment: how the child ends.
const MODE: &str = "INSTRUMENT_EXIT_FLUSH_CHILD";

#[instrument::track_performance]
fn reserve(seats: u32) -> Result<u32, std::io::Error> {
    Ok(seats)
}

/// The child process. Does nothing in a normal test run.
#[test]
fn child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    // The footgun: the guard is dropped on this line.
    let _ = instrument::init();
    tracing::info!(counter.orders = 3, "three orders");
    let _ = reserve(2);
    let _ = reserve(1);
    if mode == "exit" {
        // `std::process::exit` skips every destructor (the test harness's included).
        std::process::exit(0);
    }
    // Otherwise the test returns, the harness's `main` returns, and the process exits.
}

/// Runs the child in `mode` and returns the JSON documents it printed on stdout.
fn run_child(mode: &str) -> Vec<Value> {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .env("INSTRUMENT_SERVICE", "exit-test")
        .env_remove("AWS_LAMBDA_FUNCTION_NAME")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .expect("the child runs");
    assert!(out.status.success(), "{:?}", out.status);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // The test harness prints `test child ... ` without a newline before the first line.
        .filter_map(|l| l.find('{').map(|i| &l[i..]))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn metric_sum(docs: &[Value], name: &str) -> f64 {
    docs.iter()
        .filter(|d| d.get("_aws").is_some())
        .filter_map(|d| d[name].as_f64())
        .sum()
}

#[test]
fn a_dropped_guard_loses_no_metric_at_a_normal_exit() {
    let docs = run_child("return");
    assert!(
        docs.iter().any(|d| d["message"] == "three orders"),
        "{docs:#?}"
    );
    assert_eq!(metric_sum(&docs, "orders"), 3.0, "{docs:#?}");
    assert_eq!(metric_sum(&docs, "reserve.success"), 2.0, "{docs:#?}");
}

#[test]
fn process_exit_loses_no_metric() {
    let docs = run_child("exit");
    assert_eq!(metric_sum(&docs, "orders"), 3.0, "{docs:#?}");
    assert_eq!(metric_sum(&docs, "reserve.success"), 2.0, "{docs:#?}");
}
