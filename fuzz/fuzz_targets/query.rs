//! Fuzzes the Logs Insights and Metrics Insights engines: the input is a query and a log, split
//! at the first NUL byte. Parsing never panics and every error points inside the query text;
//! a query that parses runs over the log (JSON lines, EMF documents and other text alike)
//! without panicking, returns at most `MAX_ROWS` rows of the declared width, and gives the same
//! table with one worker thread as with two.

#![no_main]

use instrument_query::metrics_sql::MetricsQuery;
use instrument_query::{Input, LogsQuery, Options, MAX_ROWS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (query, log) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let inputs = [Input::bytes("app.log", log)];
    match LogsQuery::new(query) {
        Ok(q) => {
            let one = Options {
                threads: Some(1),
                ..Options::default()
            };
            let two = Options {
                threads: Some(2),
                ..Options::default()
            };
            if let Ok(table) = q.run(&inputs, &one) {
                assert!(table.rows.len() <= MAX_ROWS);
                for row in &table.rows {
                    assert_eq!(row.len(), table.columns.len());
                }
                let again = q.run(&inputs, &two).expect("ran with one thread");
                assert_eq!(
                    format!("{:?}", table.rows),
                    format!("{:?}", again.rows),
                    "one and two threads disagree"
                );
            }
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.is_empty());
        }
    }
    if let Ok(q) = MetricsQuery::new(query) {
        let _ = q.run(&inputs);
    }
});
