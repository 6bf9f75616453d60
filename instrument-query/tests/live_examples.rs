//! End to end with live output: the examples run as their own processes (built first when
//! missing or stale, as the root `tests/examples.rs` does), and every saved query and
//! `emf check` run on what they print — so a change to the log contract that breaks a saved
//! query fails here, not only after the fixtures are regenerated.

#[path = "../../tests/support/run_example.rs"]
mod run_example;

use instrument_query::emf_check::{check, CheckOptions};
use instrument_query::{pack, Input, LogsQuery, Options};
use run_example::run;

#[test]
fn saved_queries_and_emf_check_on_live_output() {
    let booking = run("booking", &[]);
    let axum = run("axum_service", &["--demo"]);
    let inputs = [
        Input::bytes("booking", &booking),
        Input::bytes("axum", &axum),
    ];
    for q in pack::PACK {
        let params: Vec<(String, String)> = q
            .placeholders()
            .iter()
            .map(|p| (p.to_string(), "trip-42".to_string()))
            .collect();
        let text = q.render(&params).unwrap();
        let table = LogsQuery::new(&text)
            .unwrap()
            .run(&inputs, &Options::default())
            .unwrap();
        // Every saved query finds something in the examples' output, except the deadline one
        // (no invocation runs out of time there; tests/pack.rs covers it).
        if q.name != "lambda-deadline" {
            assert!(
                !table.rows.is_empty(),
                "{} returned no rows on the examples' output",
                q.name
            );
            for column in &table.columns {
                assert!(
                    table.column(column).iter().any(|v| !v.is_null()) || column.contains("init"),
                    "{}: column {column} is empty: a field name the log lines do not carry?",
                    q.name
                );
            }
        }
    }
    let report = check(&inputs, &CheckOptions::default()).unwrap();
    assert!(report.documents.len() >= 2);
    assert!(report.is_ok(), "{report:?}");
}
