//! Each command of the query language, and the engine's defaults, on small inline logs.

mod common;

use common::{n, s};
use instrument_query::{Input, LogsQuery, Options, Table, Value};

const LOGS: &str = r#"{"timestamp":"2026-12-04T10:00:00.000Z","level":"INFO","function":"pay","latency_ms":10,"route":"/a","error":{"type":"E1","message":"boom"},"spans":["http_request","pay"]}
{"timestamp":"2026-12-04T10:01:00.000Z","level":"ERROR","function":"pay","latency_ms":30,"route":"/a","spans":["http_request"]}
{"timestamp":"2026-12-04T10:02:00.000Z","level":"INFO","function":"notify","latency_ms":20,"route":"/b","spans":[]}
not json: took 99ms
{"timestamp":"2026-12-04T10:07:00.000Z","level":"WARN","function":"pay","latency_ms":50,"route":"/b"}
"#;

fn q(query: &str) -> Table {
    LogsQuery::new(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
        .run_str(LOGS)
        .unwrap()
}

#[test]
fn fields_computes_and_selects() {
    let t = q(
        "fields function, latency_ms * 2 as double, error.message | sort @timestamp asc | limit 1",
    );
    assert_eq!(t.columns, ["function", "double", "error.message"]);
    assert_eq!(t.rows, vec![vec![s("pay"), n(20.0), s("boom")]]);
}

#[test]
fn display_chooses_the_columns() {
    let t = q("fields function, latency_ms | display latency_ms | sort latency_ms desc | limit 2");
    assert_eq!(t.columns, ["latency_ms"]);
    assert_eq!(t.rows, vec![vec![n(50.0)], vec![n(30.0)]]);
}

#[test]
fn filter_keeps_true_rows_only() {
    assert_eq!(
        q("filter latency_ms > 15 and function = 'pay'").rows.len(),
        2
    );
    assert_eq!(q("filter level in ['ERROR', 'WARN']").rows.len(), 2);
    assert_eq!(q("filter not ispresent(function)").rows.len(), 1);
    assert_eq!(
        q("filter route != '/a'").rows.len(),
        2,
        "the text line has no route: not kept"
    );
    assert_eq!(q("filter @message like /took \\d+ms/").rows.len(), 1);
}

#[test]
fn stats_with_several_groupings_and_bin() {
    let t = q("stats count(*) as n, sum(latency_ms) as total by bin(5m), function");
    assert_eq!(t.columns, ["bin(5m)", "function", "n", "total"]);
    let at = |s: &str| Value::Time(instrument_query::time::parse_rfc3339(s).unwrap());
    assert_eq!(
        t.rows,
        vec![
            vec![at("2026-12-04T10:00:00Z"), s("pay"), n(2.0), n(40.0)],
            vec![at("2026-12-04T10:00:00Z"), s("notify"), n(1.0), n(20.0)],
            vec![Value::Null, Value::Null, n(1.0), Value::Null],
            vec![at("2026-12-04T10:05:00Z"), s("pay"), n(1.0), n(50.0)],
        ]
    );
}

#[test]
fn every_aggregation_function() {
    let t = q("filter ispresent(function) | stats count(*), count(error.type), count_distinct(route), sum(latency_ms), avg(latency_ms), min(latency_ms), max(latency_ms), pct(latency_ms, 50), stddev(latency_ms), earliest(level), latest(level)");
    let row = &t.rows[0];
    assert_eq!(
        row[..9],
        [
            n(4.0),
            n(1.0),
            n(2.0),
            n(110.0),
            n(27.5),
            n(10.0),
            n(50.0),
            n(20.0),
            row[8].clone()
        ]
    );
    // sample standard deviation of 10, 30, 20, 50: sqrt(((17.5² + 2.5² + 7.5² + 22.5²) / 3)
    let Value::Num(sd) = row[8] else { panic!() };
    assert!((sd - (875.0f64 / 3.0).sqrt()).abs() < 1e-9);
    assert_eq!(row[9..], [s("INFO"), s("WARN")]);
}

#[test]
fn stats_expressions_combine_aggregations() {
    let t =
        q("filter ispresent(function) | stats 100 * sum(level = 'ERROR') / count(*) as error_pct");
    assert_eq!(t.rows, vec![vec![n(25.0)]]);
}

#[test]
fn commands_after_stats_work_on_its_rows() {
    let t = q("stats count(*) as n by function | filter n > 1 | fields n * 10 as ten");
    assert_eq!(t.columns, ["function", "n", "ten"]);
    assert_eq!(t.rows, vec![vec![s("pay"), n(3.0), n(30.0)]]);
}

#[test]
fn sort_and_limit() {
    let t = q("filter ispresent(latency_ms) | fields latency_ms | sort latency_ms asc | limit 3");
    assert_eq!(t.column("latency_ms"), vec![n(10.0), n(20.0), n(30.0)]);
    let t = q("fields function, latency_ms | sort function desc, latency_ms asc");
    assert_eq!(
        t.column("latency_ms")[..4],
        [n(10.0), n(30.0), n(50.0), n(20.0)]
    );
}

#[test]
fn parse_glob_and_regex() {
    let t = q("parse @message 'took *ms' as took | filter ispresent(took) | fields took");
    assert_eq!(t.rows, vec![vec![s("99")]]);
    let t = q("parse @message /took (?<took>\\d+)ms/ | filter took > 50 | fields took + 1 as next");
    assert_eq!(t.rows, vec![vec![n(100.0)]]);
}

#[test]
fn dedup_keeps_the_first_row_of_each_value() {
    let t = q("fields function, latency_ms | filter ispresent(function) | sort @timestamp asc | dedup function");
    assert_eq!(
        t.rows,
        vec![vec![s("pay"), n(10.0)], vec![s("notify"), n(20.0)]]
    );
}

#[test]
fn unnest_makes_a_row_per_element() {
    let t = q("unnest spans into span | filter ispresent(span) | stats count(*) by span");
    assert_eq!(
        t.rows,
        vec![vec![s("http_request"), n(2.0)], vec![s("pay"), n(1.0)]]
    );
}

#[test]
fn comments_and_case_rules() {
    let t = q("# errors only\nFILTER level = 'ERROR' # trailing\n| STATS COUNT(*) AS n");
    assert_eq!(t.rows, vec![vec![n(1.0)]]);
    // Field names are case-sensitive.
    assert_eq!(q("filter LEVEL = 'ERROR'").rows.len(), 0);
}

#[test]
fn default_columns_order_and_limit() {
    let t = q("filter ispresent(level)");
    assert_eq!(t.columns, ["@timestamp", "@message"]);
    let times: Vec<Value> = t.column("@timestamp");
    assert!(
        times
            .windows(2)
            .all(|w| w[0].to_string() >= w[1].to_string()),
        "newest first"
    );

    let many: String = (0..10_050).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    let t = LogsQuery::new("fields i").unwrap().run_str(&many).unwrap();
    assert_eq!(t.rows.len(), 10_000);
    let t = LogsQuery::new("fields i | limit 20000")
        .unwrap()
        .run_str(&many)
        .unwrap();
    assert_eq!(t.rows.len(), 10_000);
}

#[test]
fn system_fields_from_options() {
    let t = LogsQuery::new("stats count(*) by @log, @logStream")
        .unwrap()
        .run(
            &[Input::bytes("x.log", LOGS)],
            &Options {
                log_group: Some("/aws/lambda/booking".into()),
                log_stream: Some("2026/12/04/[$LATEST]abc".into()),
                threads: Some(2),
            },
        )
        .unwrap();
    assert_eq!(
        t.rows,
        vec![vec![
            s("/aws/lambda/booking"),
            s("2026/12/04/[$LATEST]abc"),
            n(5.0)
        ]]
    );
}

#[test]
fn many_threads_give_the_same_result_as_one() {
    let big: String = (0..200_000)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2026-12-04T10:{:02}:00.000Z\",\"f\":\"f{}\",\"v\":{}}}\n",
                i % 60,
                i % 7,
                i % 1000
            )
        })
        .collect();
    let query = LogsQuery::new("filter v >= 10 | stats count(*), pct(v, 95), avg(v), earliest(v), latest(v) by f, bin(10m) | sort f asc").unwrap();
    let run = |threads| {
        query
            .run(
                &[Input::bytes("big", &big)],
                &Options {
                    threads: Some(threads),
                    ..Options::default()
                },
            )
            .unwrap()
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn errors_name_the_position() {
    let err = |q: &str| LogsQuery::new(q).unwrap_err().to_string();
    assert_eq!(
        err("filter latency_ms >"),
        "expected a value after `>` at column 20"
    );
    assert_eq!(
        err("stats pct(latency_ms)"),
        "`pct` takes a field and a percentile: pct(latency_ms, 95) at column 7"
    );
    assert_eq!(
        err("fields count(*)"),
        "aggregation `count` may only be used in `stats` at column 8"
    );
    assert_eq!(
        err("stats x by y"),
        "`stats` needs at least one aggregation such as count(*) at column 1"
    );
    assert!(err("filter x like /(/").starts_with("invalid regular expression /(/"));
}

#[test]
fn json_parse_paths_and_unnest() {
    let logs = "{\"timestamp\":\"2026-12-04T10:00:00.000Z\",\"payload\":\"{\\\"records\\\":[{\\\"id\\\":1},{\\\"id\\\":2}],\\\"kind\\\":\\\"batch\\\"}\"}\n";
    let t = LogsQuery::new("fields jsonParse(payload) as j | unnest j.records into r | fields j.kind as kind, r.id as id, @ingestionTime")
        .unwrap()
        .run_str(logs)
        .unwrap();
    assert_eq!(t.columns, ["kind", "id", "@ingestionTime"]);
    let at = Value::Time(instrument_query::time::parse_rfc3339("2026-12-04T10:00:00Z").unwrap());
    assert_eq!(
        t.rows,
        vec![
            vec![s("batch"), n(1.0), at.clone()],
            vec![s("batch"), n(2.0), at]
        ]
    );
}

#[test]
fn sorting_while_streaming_keeps_the_right_rows() {
    let many: String = (0..25_000)
        .map(|i| format!("{{\"i\":{}}}\n", (i * 7919) % 25_000))
        .collect();
    let run = |q: &str| {
        LogsQuery::new(q)
            .unwrap()
            .run(
                &[Input::bytes("m", &many)],
                &Options {
                    threads: Some(2),
                    ..Options::default()
                },
            )
            .unwrap()
    };
    let t = run("fields i | sort i desc");
    assert_eq!(t.rows.len(), 10_000);
    assert_eq!(
        (t.rows[0][0].clone(), t.rows[9_999][0].clone()),
        (n(24_999.0), n(15_000.0))
    );
    let t = run("fields i | sort i asc | limit 3");
    assert_eq!(t.column("i"), vec![n(0.0), n(1.0), n(2.0)]);
}
