//! End to end with live output: the examples run as their own processes (built first when
//! missing or stale, as the root `tests/examples.rs` does), and every saved query and
//! `emf check` run on what they print — so a change to the log contract that breaks a saved
//! query fails here, not only after the fixtures are regenerated.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use instrument_query::emf_check::{check, CheckOptions};
use instrument_query::{pack, Input, LogsQuery, Options};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The example's binary, built first if it is missing or older than its source.
fn example(name: &str) -> PathBuf {
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
    let fresh = binary.exists()
        && modified(&binary) >= modified(&workspace().join(format!("examples/{name}.rs")));
    if !fresh {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--features",
                "http,lambda",
                "--example",
                name,
            ])
            .current_dir(workspace())
            .status()
            .unwrap();
        assert!(status.success(), "building example {name} failed");
    }
    binary
}

fn run(name: &str, args: &[&str]) -> String {
    let mut command = Command::new(example(name));
    command
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("INSTRUMENT_")
            || key.starts_with("AWS_")
            || key.starts_with("POWERTOOLS_")
            || key == "RUST_LOG"
        {
            command.env_remove(key);
        }
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{name} failed");
    String::from_utf8(out.stdout).unwrap()
}

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
