//! Issue 13 (3): a panic inside the pipeline never deadlocks it. A `Debug` impl that panics in
//! `span.record(..)` on the current span, under `install()`, used to hang the process for
//! good: the log layer held the span's extensions for writing while formatting the value, and
//! the panic hook's log line read them. A child process (this binary re-run in child mode)
//! runs the scenario; the parent kills it if it does not finish within a bound.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MODE: &str = "INSTRUMENT_PANIC_IN_RECORD_CHILD";

struct Explodes;

impl std::fmt::Debug for Explodes {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Debug exploded")
    }
}

/// The child process. Does nothing in a normal test run.
#[test]
fn child() {
    if std::env::var(MODE).is_err() {
        return;
    }
    let guard = instrument::builder()
        .service("panic-test")
        .env_lookup(|_| None)
        .install()
        .expect("instrument installs");
    let span = tracing::info_span!("work", detail = tracing::field::Empty, n = 1);
    let entered = span.enter();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        span.record("detail", tracing::field::debug(&Explodes));
    }));
    assert!(caught.is_err());
    tracing::info!("still logging");
    drop(entered);
    drop(guard);
    println!("DONE");
}

#[test]
fn a_panic_while_recording_on_the_current_span_does_not_hang() {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(status.is_some(), "the child hung; its output:\n{stdout}");
    assert!(stdout.contains("DONE"), "{stdout}");
    // The test harness may print `test child ... ` before the first line.
    let json_lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(&l[l.find('{')?..]).ok())
        .collect();
    let panic_line = json_lines
        .iter()
        .find(|l| l["level"] == "ERROR")
        .unwrap_or_else(|| panic!("the panic is logged: {stdout}"));
    assert_eq!(panic_line["span"], "work", "{panic_line}");
    assert!(
        json_lines.iter().any(|l| l["message"] == "still logging"),
        "{stdout}"
    );
}
