//! The `instrument` binary as a user runs it.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../instrument-query/tests/data")
        .join(name)
}

fn instrument(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_instrument"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json_rows(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn query_prints_json_rows_when_piped() {
    let file = data("samples.log");
    let out = instrument(&[
        "query",
        "filter severity = 'ERROR' | stats count(*) as errors by server | sort errors desc",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_rows(&out);
    assert_eq!(rows[0], serde_json::json!({"server": "b", "errors": 2}));
    assert_eq!(rows.len(), 3);
}

#[test]
fn query_reads_stdin_and_writes_csv() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_instrument"))
        .args(["query", "stats count(*) as n", "--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"a\":1}\nplain\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n\n2\n");
}

#[test]
fn saved_queries_list_print_and_run() {
    let out = instrument(&["query", "--list"]);
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    let names: Vec<&str> = instrument_query::pack::PACK
        .iter()
        .map(|q| q.name)
        .collect();
    assert_eq!(listed, names);

    let out = instrument(&[
        "query",
        "--saved",
        "correlation-id",
        "--param",
        "correlation_id=trip-42",
        "--print",
    ]);
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("filter correlation_id = \"trip-42\""));
    assert!(instrument_query::LogsQuery::new(&printed).is_ok());

    let booking = data("booking.log");
    let out = instrument(&[
        "query",
        "--saved",
        "errors-by-function",
        booking.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(
        json_rows(&out),
        vec![serde_json::json!({"function": "pay", "error_type": "PaymentError", "errors": 1})]
    );

    let out = instrument(&["query", "--saved", "correlation-id"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--param correlation_id=VALUE"));
}

#[test]
fn bad_queries_fail_with_the_position() {
    let out = instrument(&[
        "query",
        "filter latency_ms >",
        data("samples.log").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: expected a value after `>` at column 20"
    );
}

#[test]
fn emf_check_exit_status() {
    let broken = data("emf_broken.log");
    let out = instrument(&[
        "emf",
        "check",
        "--now",
        "2026-12-04T12:39:37.223Z",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("emf_broken.log:5: rejected"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("9 EMF documents, 1 accepted, 8 rejected"),
        "{text}"
    );

    let axum = data("axum.log");
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&axum)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let out = instrument(&[
        "emf",
        "check",
        "--now",
        first["timestamp"].as_str().unwrap(),
        axum.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn metrics_runs_sql() {
    let axum = data("axum.log");
    let out = instrument(&["metrics", "SELECT SUM(\"http_request.success\") FROM \"Ticketing\" WHERE route = '/inventory' GROUP BY route", axum.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json_rows(&out),
        vec![serde_json::json!({"route": "/inventory", "SUM(http_request.success)": 1})]
    );
}

#[test]
fn help_is_readable() {
    let out = instrument(&["query", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("--saved <NAME>") && help.contains("Examples:"),
        "{help}"
    );
}
