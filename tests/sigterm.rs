//! `SIGTERM` flushes: a child process (this test binary, re-run in child mode) installs
//! instrument with metrics on stdout and a 60 s flush interval, records a counter, and is sent
//! `SIGTERM`. Nothing it recorded may be lost:
//!
//! - a process that does not handle `SIGTERM` still dies of it (as it would without instrument),
//!   but only after its metrics were written;
//! - a process that handles `SIGTERM` itself, the way `tokio::signal` does (through
//!   `signal-hook`, installed after instrument), keeps running its own shutdown.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Set in the child's environment: which kind of process to be.
const MODE: &str = "INSTRUMENT_SIGTERM_TEST_CHILD";

/// The child process. Does nothing in a normal test run.
#[test]
fn child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    let guard = instrument::builder()
        .service("sigterm-test")
        .env_lookup(|_| None)
        .flush_on_sigterm(mode != "off")
        .install()
        .expect("instrument installs");
    let stop = Arc::new(AtomicBool::new(false));
    if mode == "handled" {
        // What a graceful shutdown through tokio::signal registers, after instrument.
        signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())
            .expect("signal-hook registers");
    }
    tracing::info!(counter.jobs_done = 3, "three jobs done");
    println!("READY");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if mode == "handled" {
        // A graceful shutdown takes a while (draining requests); the metrics are out already.
        std::thread::sleep(Duration::from_millis(300));
    }
    println!("SHUTTING DOWN");
    drop(guard);
}

/// Runs the child in `mode`, sends it `SIGTERM` once it is ready, and returns how it ended
/// and the JSON lines it printed.
fn terminate_child(mode: &str) -> (ExitStatus, Vec<Value>, Vec<String>) {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the child gets ready within a minute");
        let ready = line == "READY";
        lines.push(line);
        if ready {
            break;
        }
    }
    // SAFETY: sending a signal to our own child process.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0, "SIGTERM sent");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not end within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    reader.join().expect("reader thread");
    lines.extend(rx.try_iter());
    // The test harness prints `test child ... ` without a newline before the first line.
    let json = lines
        .iter()
        .filter_map(|l| l.find('{').map(|i| &l[i..]))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (status, json, lines)
}

/// The sum of `metric` over the EMF documents among `lines`.
fn metric_sum(lines: &[Value], metric: &str) -> f64 {
    lines
        .iter()
        .filter(|l| l.get("_aws").is_some())
        .filter_map(|doc| doc.get(metric))
        .map(|v| match v {
            Value::Array(values) => values.iter().filter_map(Value::as_f64).sum(),
            other => other.as_f64().unwrap_or(0.0),
        })
        .sum()
}

#[test]
fn an_unhandled_sigterm_still_kills_but_only_after_the_metrics_are_out() {
    let (status, json, lines) = terminate_child("plain");
    assert_eq!(
        status.signal(),
        Some(libc::SIGTERM),
        "the process ends as SIGTERM's default action ends it: {status:?}"
    );
    assert!(
        !lines.iter().any(|l| l == "SHUTTING DOWN"),
        "it did not run on past the signal"
    );
    assert_eq!(metric_sum(&json, "jobs_done"), 3.0, "{lines:#?}");
    assert!(
        json.iter().any(|l| l["message"] == "three jobs done"),
        "the log line is there too: {lines:#?}"
    );
}

#[test]
fn a_handled_sigterm_flushes_and_leaves_the_shutdown_to_the_application() {
    let (status, json, lines) = terminate_child("handled");
    assert!(
        status.success(),
        "the application's own handler ran its shutdown: {status:?}\n{lines:#?}"
    );
    // Flushed at the signal, while the application was still draining: before its shutdown.
    let position = |pred: &dyn Fn(&String) -> bool| lines.iter().position(pred);
    let flushed = position(&|l| l.contains("\"_aws\"")).expect("an EMF document");
    let shutdown = position(&|l| l == "SHUTTING DOWN").expect("the application's shutdown");
    assert!(flushed < shutdown, "{lines:#?}");
    // Counted once: nothing was left for the guard's final flush.
    assert_eq!(metric_sum(&json, "jobs_done"), 3.0, "{lines:#?}");
}

#[test]
fn switched_off_sigterm_is_left_alone() {
    // Without the flush, SIGTERM's default action takes the unflushed metrics with it: what
    // the feature exists to prevent.
    let (status, json, lines) = terminate_child("off");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert_eq!(metric_sum(&json, "jobs_done"), 0.0, "{lines:#?}");
}

#[test]
fn a_bad_sigterm_setting_is_a_clear_error() {
    let err = instrument::builder()
        .env_lookup(|name| (name == "INSTRUMENT_FLUSH_ON_SIGTERM").then(|| "maybe".to_string()))
        .install()
        .expect_err("`maybe` is neither on nor off");
    let message = err.to_string();
    assert!(message.contains("INSTRUMENT_FLUSH_ON_SIGTERM"), "{message}");
    assert!(message.contains("maybe"), "{message}");
    assert!(message.contains("on or off"), "{message}");
}
