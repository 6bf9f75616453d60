//! Issue 13 (5): with the CloudWatch agent unreachable, the documents still queued when the
//! program ends are counted and reported (one line on stderr), within a bounded wait. Under
//! `install()` the sink lives in the global dispatcher and is never dropped, so its drop-time
//! accounting never ran: 4 s of waiting, then nothing. A child process (this binary re-run in
//! child mode) runs the program.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MODE: &str = "INSTRUMENT_AGENT_UNREACHABLE_CHILD";

/// The child process. Does nothing in a normal test run.
#[test]
fn child() {
    let Ok(endpoint) = std::env::var(MODE) else {
        return;
    };
    let guard = instrument::builder()
        .service("agent-test")
        .env_lookup(move |name| (name == "AWS_EMF_AGENT_ENDPOINT").then(|| endpoint.clone()))
        .metrics(instrument::MetricsDestination::Agent)
        .install()
        .expect("instrument installs");
    tracing::info!(counter.orders = 2, "ordered");
    drop(guard);
    println!("DONE");
}

#[test]
fn queued_documents_are_counted_and_reported_when_the_agent_is_unreachable() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, format!("tcp://127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child starts");
    let deadline = started + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not end within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("DONE"), "{stdout}\n{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "shutdown took {:?}",
        started.elapsed()
    );
    let reports = stderr
        .lines()
        .filter(|l| l.contains("EMF documents for the CloudWatch agent were lost"))
        .count();
    assert_eq!(reports, 1, "reported once on stderr:\n{stderr}");
}
