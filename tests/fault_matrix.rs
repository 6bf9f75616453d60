//! Issue 13: a user-like program (this binary re-run in child mode: `install()`, log lines
//! with metric fields from two threads, metrics on stdout or to the agent) run under faults of
//! its destinations, and ended with `SIGTERM`. Every run must end within a bound, killed by the
//! signal as it would be without instrument, and every kind of loss must be reported on stderr
//! exactly once (then only counted). (A stdout that blocks is `tests/sigterm_blocked.rs`.)

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MODE: &str = "INSTRUMENT_FAULT_MATRIX_CHILD";
/// How the child breaks its own stdout before it installs instrument (the test harness writes
/// to stdout first, so the parent cannot hand it a broken one).
const STDOUT: &str = "INSTRUMENT_FAULT_MATRIX_STDOUT";
const AGENT: &str = "INSTRUMENT_FAULT_MATRIX_AGENT";

const LOG_LOST: &str = "writing a log line failed";
const METRICS_LOST: &str = "writing a metrics line failed";
const AGENT_LOST: &str = "EMF documents for the CloudWatch agent were lost";

/// The child process. Does nothing in a normal test run.
#[test]
fn child() {
    if std::env::var(MODE).is_err() {
        return;
    }
    break_stdout(std::env::var(STDOUT).ok().as_deref());
    let agent = std::env::var(AGENT).ok();
    let mut builder = instrument::builder()
        .service("faults")
        .flush_on_sigterm(true)
        .metrics_flush_interval(Duration::from_millis(200));
    builder = match agent {
        Some(endpoint) => builder
            .env_lookup(move |name| (name == "AWS_EMF_AGENT_ENDPOINT").then(|| endpoint.clone()))
            .metrics(instrument::MetricsDestination::Agent),
        None => builder.env_lookup(|_| None),
    };
    let _guard = builder.install().expect("instrument installs");
    let worker = std::thread::spawn(|| {
        for i in 0..200 {
            tracing::info!(counter.jobs = 1, job = i, "job done");
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    for i in 0..200 {
        tracing::info!(counter.requests = 1, request = i, "request served");
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = worker.join();
    // Let an interval flush happen, so documents are in flight when the signal comes.
    std::thread::sleep(Duration::from_millis(400));
    tracing::info!(counter.requests = 1, "one more");
    eprintln!("READY");
    std::thread::sleep(Duration::from_secs(60));
}

/// Points fd 1 at a broken destination: closed, `/dev/full`, or a pipe nobody can read.
fn break_stdout(how: Option<&str>) {
    use std::os::fd::IntoRawFd;
    // SAFETY: file descriptor calls on descriptors this process owns.
    unsafe {
        match how {
            Some("closed") => {
                libc::close(1);
            }
            Some("full") => {
                let full = std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .expect("/dev/full")
                    .into_raw_fd();
                libc::dup2(full, 1);
            }
            Some("broken") => {
                let mut fds = [0; 2];
                assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
                libc::close(fds[0]);
                libc::dup2(fds[1], 1);
            }
            _ => {}
        }
    }
}

/// How the child's stdout is set up.
enum Stdout {
    /// Closed (`>&-`).
    Closed,
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
    /// A pipe whose reading end is closed: EPIPE.
    Broken,
    /// A pipe the parent drains.
    Drained,
}

/// Runs the child, sends `SIGTERM` when it is ready, and returns its stderr.
fn run(stdout: Stdout, agent: Option<String>) -> String {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, "1")
        .stderr(Stdio::piped());
    if let Some(endpoint) = &agent {
        command.env(AGENT, endpoint);
    }
    let broken = match stdout {
        Stdout::Closed => Some("closed"),
        Stdout::Full => Some("full"),
        Stdout::Broken => Some("broken"),
        Stdout::Drained => None,
    };
    if let Some(how) = broken {
        command.env(STDOUT, how);
    }
    command.stdout(Stdio::piped());
    let mut child = command.spawn().expect("child starts");
    let drain = child.stdout.take().map(|mut out| {
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        })
    });
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut before = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("stderr") == 0 {
            panic!("the child ended before it was ready:\n{before}");
        }
        if line.contains("READY") {
            break;
        }
        before.push_str(&line);
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let sent = Instant::now();
    let mut after = String::new();
    let reader = std::thread::spawn(move || {
        let _ = stderr.read_to_string(&mut after);
        after
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("still alive 20 s after SIGTERM:\n{before}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        sent.elapsed() < Duration::from_secs(15),
        "ended {:?} after SIGTERM",
        sent.elapsed()
    );
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    if let Some(drain) = drain {
        let _ = drain.join();
    }
    before + &reader.join().expect("stderr reader")
}

fn reports(stderr: &str, what: &str) -> usize {
    stderr.lines().filter(|l| l.contains(what)).count()
}

#[test]
fn closed_stdout_losses_are_reported_once_each() {
    let stderr = run(Stdout::Closed, None);
    assert_eq!(reports(&stderr, LOG_LOST), 1, "{stderr}");
    assert_eq!(reports(&stderr, METRICS_LOST), 1, "{stderr}");
}

#[test]
fn full_stdout_losses_are_reported_once_each() {
    let stderr = run(Stdout::Full, None);
    assert_eq!(reports(&stderr, LOG_LOST), 1, "{stderr}");
    assert_eq!(reports(&stderr, METRICS_LOST), 1, "{stderr}");
}

#[test]
fn broken_pipe_losses_are_reported_once_each() {
    let stderr = run(Stdout::Broken, None);
    assert_eq!(reports(&stderr, LOG_LOST), 1, "{stderr}");
    assert_eq!(reports(&stderr, METRICS_LOST), 1, "{stderr}");
}

#[test]
fn an_agent_that_refuses_is_reported_once() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stderr = run(Stdout::Drained, Some(format!("tcp://127.0.0.1:{port}")));
    assert_eq!(reports(&stderr, AGENT_LOST), 1, "{stderr}");
    assert_eq!(reports(&stderr, LOG_LOST), 0, "{stderr}");
}

#[test]
fn an_agent_that_never_reads_cannot_hold_the_process() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let stderr = run(Stdout::Drained, Some(endpoint));
    assert!(reports(&stderr, AGENT_LOST) <= 1, "{stderr}");
}

#[test]
fn an_agent_that_disappears_mid_stream_is_reported_at_most_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        // Reads the first document, then goes away: connection and listener closed.
        if let Ok((stream, _)) = listener.accept() {
            let mut line = String::new();
            let _ = BufReader::new(stream).read_line(&mut line);
        }
    });
    let stderr = run(Stdout::Drained, Some(endpoint));
    assert!(reports(&stderr, AGENT_LOST) <= 1, "{stderr}");
}
