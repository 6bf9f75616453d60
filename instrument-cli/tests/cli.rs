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

fn temp_crate(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("instrument-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"svc\"\n").unwrap();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn a_source_that_does_not_parse_is_reported_with_file_and_line() {
    let dir = temp_crate(
        "broken",
        &[
            ("src/lib.rs", "mod handlers;\n"),
            (
                "src/handlers.rs",
                "#[instrument::track_performance]\nfn ok() {}\n\nfn broken( {\n",
            ),
        ],
    );
    let out = instrument(&["catalog", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "error: {}:4: this file does not parse",
        dir.join("src/handlers.rs").display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generating_without_a_namespace_says_how_to_give_one() {
    let dir = temp_crate(
        "no-namespace",
        &[("src/main.rs", "#[instrument::track_performance]\nfn pay() -> Result<(), E> { Ok(()) }\nfn main() {}\n")],
    );
    let out = instrument(&["dashboard", dir.to_str().unwrap(), "--region", "eu-west-1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: no metric namespace"), "{stderr}");
    assert!(stderr.contains("--namespace"), "{stderr}");

    // With one, the catalog of the crate's src/ makes a dashboard; alarms need an objective.
    let out = instrument(&[
        "dashboard",
        dir.to_str().unwrap(),
        "--region",
        "eu-west-1",
        "--namespace",
        "Shop",
        "--format",
        "api",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let api: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(api["PutDashboard"][0]["DashboardName"], "Shop");
    let out = instrument(&[
        "alarms",
        dir.to_str().unwrap(),
        "--region",
        "eu-west-1",
        "--namespace",
        "Shop",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: no objectives"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_explains_the_operations_subcommands_with_examples() {
    let out = instrument(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["catalog", "dashboard", "alarms", "queries", "generate"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(command)),
            "{command}: {text}"
        );
    }
    let out = instrument(&["alarms", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("instrument alarms --check app.log"), "{text}");
    assert!(text.contains("--alarm-topic <ARN>"), "{text}");
    assert!(text.contains("--environment <NAME[,NAME]>"), "{text}");
    assert!(text.contains("cloudformation-json"), "{text}");
}

#[cfg(not(feature = "apply"))]
#[test]
fn apply_without_the_feature_says_how_to_get_it() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/booking.rs");
    let out = instrument(&[
        "dashboard",
        file.to_str().unwrap(),
        "--region",
        "eu-west-1",
        "--apply",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--features apply"));
}
