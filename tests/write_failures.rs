//! A writer that fails (closed stdout, broken pipe, full disk) never takes the application down:
//! failed lines are counted, the first failure is reported once on stderr, logging goes on.
//!
//! The stdout cases run in a child process: this test binary re-runs itself with
//! `INSTRUMENT_TEST_CHILD=<role> <binary> --exact <test> --nocapture`, and the test function plays
//! the child when that variable is set. The child ends with `std::process::exit(0)` right after
//! printing `child done`, because the test harness itself would fail (exit code 101) writing its
//! report to the stdout this test closes.

mod support;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

use support::{child_command, child_role, parse_strict, wait_or_kill};

/// How a writer fails.
#[derive(Clone, Copy, Debug)]
enum Failure {
    Error(io::ErrorKind),
    /// `Ok(0)`: `write_all` turns it into `WriteZero`.
    WritesNothing,
    /// Half the line, then an error.
    Torn,
}

struct FailingWriter {
    failure: Failure,
    wrote_half: bool,
}

impl Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.failure {
            Failure::Error(kind) => Err(io::Error::from(kind)),
            Failure::WritesNothing => Ok(0),
            Failure::Torn if !self.wrote_half && buf.len() > 1 => {
                self.wrote_half = true;
                Ok(buf.len() / 2)
            }
            Failure::Torn => Err(io::Error::other("disk full")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_failed_line_is_counted_and_logging_goes_on() {
    for failure in [
        Failure::Error(io::ErrorKind::Other),
        Failure::Error(io::ErrorKind::BrokenPipe),
        Failure::WritesNothing,
        Failure::Torn,
    ] {
        let layer = instrument_core::JsonLogLayer::new().with_writer(move || FailingWriter {
            failure,
            wrote_half: false,
        });
        let errors = layer.write_errors();
        let mut logged = 0;
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let span = tracing::info_span!("request", correlation_id = "c-1");
            let _entered = span.enter();
            for i in 0..1_000 {
                tracing::info!(i, "doomed line");
                logged += 1;
            }
        });
        assert_eq!(logged, 1_000, "{failure:?}");
        assert_eq!(errors.count(), 1_000, "{failure:?}");
    }
}

#[test]
fn the_built_subscriber_survives_a_failing_writer() {
    let make_writer = || FailingWriter {
        failure: Failure::Error(io::ErrorKind::BrokenPipe),
        wrote_half: false,
    };
    let (subscriber, guard) = instrument::builder()
        .writer(make_writer)
        .env_lookup(|_| None)
        .build()
        .expect("build");
    let mut logged = 0;
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..1_000 {
            tracing::info!(i, "doomed line");
            logged += 1;
        }
    });
    guard.flush();
    assert_eq!(logged, 1_000);
}

// ---------------------------------------------------------------------------------------------
// Real stdout, in a child process

const CHILD_EVENTS: u32 = 20_000;
const REPORT_PREFIX: &str = "instrument: writing a log line failed";
const DONE: &str = "child done";

/// Child: installs instrument on stdout, logs `CHILD_EVENTS` lines, says so on stderr, exits 0.
fn child_logs_to_stdout_then_exits() -> ! {
    let guard = instrument::builder()
        .env_lookup(|_| None)
        .install()
        .expect("install");
    let padding = "x".repeat(100);
    for i in 0..CHILD_EVENTS {
        tracing::info!(i, padding = padding.as_str(), "child line");
    }
    drop(guard);
    eprintln!("{DONE}");
    std::process::exit(0)
}

/// Reads the child's stdout until a line that is a JSON object satisfying `wanted` (the test
/// harness's own output is skipped); panics if stdout ends first.
fn read_until_json(
    reader: &mut impl BufRead,
    wanted: impl Fn(&serde_json::Map<String, Value>) -> bool,
) {
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .expect("read child stdout");
        assert!(n > 0, "child stdout ended before the expected line");
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if parse_strict(text).is_ok_and(|m| wanted(&m)) {
            return;
        }
    }
}

/// Waits for the child and returns its stderr lines, after checking it exited successfully.
fn finish(mut child: Child, stderr: std::thread::JoinHandle<String>) -> Vec<String> {
    let status = wait_or_kill(&mut child, Duration::from_secs(120));
    let stderr = stderr.join().unwrap();
    assert!(
        status.success(),
        "child failed ({status}); stderr:\n{stderr}"
    );
    stderr.lines().map(str::to_owned).collect()
}

fn spawn(test: &str, role: &str, stdin: Stdio) -> (Child, std::thread::JoinHandle<String>) {
    let mut child = child_command(test, role)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).expect("read child stderr");
        s
    });
    (child, reader)
}

fn assert_reported_once_and_done(stderr: &[String]) {
    let reports = stderr
        .iter()
        .filter(|l| l.starts_with(REPORT_PREFIX))
        .count();
    let done = stderr.iter().filter(|l| *l == DONE).count();
    assert_eq!((reports, done), (1, 1), "stderr:\n{}", stderr.join("\n"));
}

#[test]
fn stdout_closed_mid_stream_is_reported_once_and_the_app_keeps_running() {
    const TEST: &str = "stdout_closed_mid_stream_is_reported_once_and_the_app_keeps_running";
    if child_role().as_deref() == Some("broken_pipe") {
        child_logs_to_stdout_then_exits();
    }
    let (mut child, stderr) = spawn(TEST, "broken_pipe", Stdio::null());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // One real log line arrives, then the reader goes away: later writes hit a broken pipe
    // (the child writes far more than a pipe buffer holds, so it cannot finish before this).
    read_until_json(&mut stdout, |m| {
        m.get("message").is_some_and(|v| v == "child line")
    });
    drop(stdout);
    assert_reported_once_and_done(&finish(child, stderr));
}

#[test]
fn stdout_closed_before_the_first_line_is_reported_once_and_the_app_keeps_running() {
    const TEST: &str =
        "stdout_closed_before_the_first_line_is_reported_once_and_the_app_keeps_running";
    if child_role().as_deref() == Some("closed_before_start") {
        // Announce readiness, then wait for EOF on stdin: the parent closes stdin only after it
        // has closed its end of our stdout, so every log line below fails.
        println!("\n{}", serde_json::json!({"child_ready": true}));
        io::stdin()
            .read_to_end(&mut Vec::new())
            .expect("read stdin");
        child_logs_to_stdout_then_exits();
    }
    let (mut child, stderr) = spawn(TEST, "closed_before_start", Stdio::piped());
    let go = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    read_until_json(&mut stdout, |m| {
        m.get("child_ready") == Some(&Value::Bool(true))
    });
    drop(stdout);
    drop(go);
    assert_reported_once_and_done(&finish(child, stderr));
}
