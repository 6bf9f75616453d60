//! The sample queries of CloudWatch's documentation ("Sample queries", "CWL_QuerySyntax") that
//! apply to JSON logs, each run on tests/data/samples.log with a result checked by hand.
//! Where a sample parses `@message` of text logs, it is adapted to the JSON `message` field.

mod common;

use common::*;
use instrument_query::{time::parse_rfc3339, Value};

const FILE: &[&str] = &["samples.log"];

fn at(ts: &str) -> Value {
    Value::Time(parse_rfc3339(ts).unwrap())
}

#[test]
fn the_25_most_recent_events() {
    let t = run(
        "fields @timestamp, @message | sort @timestamp desc | limit 25",
        FILE,
    );
    assert_eq!(t.columns, ["@timestamp", "@message"]);
    assert_eq!(t.rows.len(), 9);
    assert_eq!(t.rows[0][0], at("2026-12-04T11:45:00.000Z"));
    assert_eq!(t.rows[1][0], at("2026-12-04T11:20:00.000Z"));
    assert_eq!(t.rows[2][0], at("2026-12-04T10:30:00.000Z"));
    // The text line has no timestamp: last.
    assert_eq!(
        t.rows[8],
        vec![
            Value::Null,
            s("2026-12-04 11:30:00 plain text line with IllegalStateException")
        ]
    );
}

#[test]
fn exceptions_per_hour() {
    let t = run(
        "fields @timestamp, @message | filter @message like /Exception/ | stats count(*) as exceptionCount by bin(1h) | sort exceptionCount desc",
        FILE,
    );
    assert_eq!(t.columns, ["bin(1h)", "exceptionCount"]);
    assert_eq!(
        t.rows,
        vec![
            vec![at("2026-12-04T10:00:00Z"), n(2.0)],
            vec![Value::Null, n(1.0)],
            vec![at("2026-12-04T11:00:00Z"), n(1.0)],
        ]
    );
}

#[test]
fn events_that_are_not_exceptions() {
    let t = run(
        "fields @message | filter @message not like /Exception/",
        FILE,
    );
    assert_eq!(t.columns, ["@message"]);
    assert_eq!(t.rows.len(), 5);
    assert!(t.rows.iter().all(|r| !text(&r[0]).contains("Exception")));
}

#[test]
fn events_per_log_stream() {
    let t = run("stats count(*) by @logStream | limit 100", FILE);
    assert_eq!(t.rows, vec![vec![s("samples.log"), n(9.0)]]);
}

#[test]
fn first_event_per_server_with_dedup() {
    let t = run(
        "fields @timestamp, server, severity, message | sort @timestamp asc | dedup server",
        FILE,
    );
    assert_eq!(t.columns, ["@timestamp", "server", "severity", "message"]);
    let servers: Vec<Value> = t.column("server");
    assert_eq!(servers, vec![s("a"), s("b"), s("c"), Value::Null]);
    assert_eq!(t.rows[1][0], at("2026-12-04T10:00:30Z"));
    assert_eq!(t.rows[2][0], at("2026-12-04T10:04:59.999Z"));
}

#[test]
fn parse_with_a_glob() {
    let t = run(
        "parse message \"user=*, method:*, latency := *\" as @user, @method, @latency | stats avg(@latency) by @method, @user",
        FILE,
    );
    assert_eq!(t.columns, ["@method", "@user", "avg(@latency)"]);
    assert_eq!(
        t.rows,
        vec![
            vec![s("GET"), s("alice"), n(30.0)],
            vec![s("POST"), s("bob"), n(90.0)],
            vec![Value::Null, Value::Null, Value::Null],
            vec![s("GET"), s("carol"), n(60.0)],
        ]
    );
}

#[test]
fn parse_with_a_regular_expression() {
    let t = run(
        r"parse message /user=(?<user2>.*?), method:(?<method2>.*?), latency := (?<latency2>\d+)/ | filter ispresent(user2) | stats avg(latency2) by method2, user2",
        FILE,
    );
    assert_eq!(
        t.rows,
        vec![
            vec![s("GET"), s("alice"), n(30.0)],
            vec![s("POST"), s("bob"), n(90.0)],
            vec![s("GET"), s("carol"), n(60.0)],
        ]
    );
}

#[test]
fn server_errors_per_5_minutes() {
    let t = run(
        r"filter statusCode like /5\d\d/ | stats count(*) by bin(5m)",
        FILE,
    );
    assert_eq!(
        t.rows,
        vec![
            vec![at("2026-12-04T10:00:00Z"), n(2.0)],
            vec![at("2026-12-04T10:30:00Z"), n(1.0)],
            vec![at("2026-12-04T11:45:00Z"), n(1.0)],
        ]
    );
}

#[test]
fn errors_by_server_top_n() {
    let t = run("filter severity = \"ERROR\" | stats count(*) as errors by server | sort errors desc | limit 2", FILE);
    assert_eq!(t.rows, vec![vec![s("b"), n(2.0)], vec![s("a"), n(1.0)]]);
}

#[test]
fn status_code_statistics_by_severity() {
    let t = run(
        "stats avg(statusCode), max(statusCode), min(statusCode), count(*) by severity | sort severity asc",
        FILE,
    );
    assert_eq!(
        t.columns,
        [
            "severity",
            "avg(statusCode)",
            "max(statusCode)",
            "min(statusCode)",
            "count(*)"
        ]
    );
    assert_eq!(
        t.rows,
        vec![
            vec![
                s("ERROR"),
                n((500.0 + 503.0 + 504.0 + 500.0) / 4.0),
                n(504.0),
                n(500.0),
                n(4.0)
            ],
            vec![s("INFO"), n(601.0 / 3.0), n(201.0), n(200.0), n(3.0)],
            vec![s("WARN"), n(404.0), n(404.0), n(404.0), n(1.0)],
            vec![Value::Null, Value::Null, Value::Null, Value::Null, n(1.0)],
        ]
    );
}
