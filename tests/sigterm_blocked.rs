//! Issue 13 (4): `SIGTERM` ends a process whose stdout is blocked (a full pipe nobody reads)
//! within a bound. The flush used to wait for the stdout lock, held by the blocked writer, so
//! the process was still alive 15 s after `SIGTERM` (without instrument it ends at once).
//! A child process (this binary re-run in child mode) logs into a pipe the parent never reads.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MODE: &str = "INSTRUMENT_SIGTERM_BLOCKED_CHILD";

/// The child process. Does nothing in a normal test run.
#[test]
fn child() {
    if std::env::var(MODE).is_err() {
        return;
    }
    let _guard = instrument::builder()
        .service("blocked")
        .env_lookup(|_| None)
        .flush_on_sigterm(true)
        .install()
        .expect("instrument installs");
    std::thread::spawn(|| loop {
        tracing::info!(
            counter.lines = 1,
            "a line nobody reads, padded {}",
            "x".repeat(512)
        );
    });
    // Long enough for the pipe to fill and the writer to block.
    std::thread::sleep(Duration::from_millis(500));
    eprintln!("READY");
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn sigterm_ends_a_process_whose_stdout_is_blocked_within_a_bound() {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child starts");
    // stdout is never read: the child's pipe fills up.
    let _stdout = child.stdout.take();
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    for line in stderr.lines() {
        if line.expect("stderr line").contains("READY") {
            break;
        }
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if sent.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let status = status.expect("the child was still alive 20 s after SIGTERM");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(
        sent.elapsed() < Duration::from_secs(15),
        "ended {:?} after SIGTERM",
        sent.elapsed()
    );
}
