//! Many threads logging into one file or one OS pipe: every line arrives whole, exactly once.

mod support;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

use support::{child_command, child_role, parse_strict, wait_or_kill};

const THREADS: u64 = 8;

/// A payload long enough (~200 bytes) that a torn or interleaved write would be visible, and
/// specific to its (thread, seq) so that a line stitched from two writes is detected.
fn payload(thread: u64, seq: u64) -> String {
    let c = char::from(b'a' + thread as u8);
    format!("{thread}:{seq}:{}", c.to_string().repeat(180))
}

/// Logs `per_thread` events from each of `THREADS` threads through one `dispatch`.
fn log_from_threads(dispatch: &Dispatch, per_thread: u64) {
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            scope.spawn(move || {
                tracing::dispatcher::with_default(dispatch, || {
                    let span = tracing::info_span!("worker", thread, correlation_id = "c-1");
                    let _entered = span.enter();
                    for seq in 0..per_thread {
                        tracing::info!(thread, seq, payload = payload(thread, seq), "event");
                    }
                });
            });
        }
    });
}

/// Tallies lines: every line must be a valid JSON object with a known (thread, seq) pair and
/// that pair's payload; returns how many times each pair was seen.
struct Tally {
    seen: Vec<Vec<u32>>,
    lines: u64,
    bad: Vec<String>,
}

impl Tally {
    fn new(per_thread: u64) -> Self {
        Tally {
            seen: vec![vec![0; per_thread as usize]; THREADS as usize],
            lines: 0,
            bad: Vec::new(),
        }
    }

    fn line(&mut self, line: &[u8]) {
        self.lines += 1;
        let problem = match parse_strict(line) {
            Err(e) => Some(e),
            Ok(map) => {
                let pair = (map.get("thread").and_then(Value::as_u64))
                    .zip(map.get("seq").and_then(Value::as_u64));
                match pair {
                    Some((t, s)) if t < THREADS && (s as usize) < self.seen[0].len() => {
                        self.seen[t as usize][s as usize] += 1;
                        let ok = map["payload"] == payload(t, s)
                            && map["message"] == "event"
                            && map["span"] == "worker"
                            && map["correlation_id"] == "c-1";
                        (!ok).then(|| "wrong field values".to_owned())
                    }
                    _ => Some("no valid thread/seq".to_owned()),
                }
            }
        };
        if let Some(problem) = problem {
            if self.bad.len() < 5 {
                self.bad
                    .push(format!("{problem}: {}", String::from_utf8_lossy(line)));
            }
        }
    }

    /// `(lines, pairs seen exactly once, bad lines)` as JSON.
    fn summary(&self) -> Value {
        let once = self.seen.iter().flatten().filter(|n| **n == 1).count();
        json!({"lines": self.lines, "pairs_seen_once": once, "bad": self.bad})
    }
}

/// A file in the temp dir, removed on drop (also when the test fails).
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn eight_threads_append_to_one_file_without_tearing_a_line() {
    const PER_THREAD: u64 = 20_000;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = std::env::temp_dir().join(format!(
        "instrument-concurrency-{}-{nanos}.log",
        std::process::id()
    ));
    let _cleanup = TempFile(path.clone());
    let file: Arc<File> = Arc::new(
        OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .expect("temp file"),
    );

    let layer = instrument_core::JsonLogLayer::new().with_writer(file.clone());
    let errors = layer.write_errors();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    log_from_threads(&dispatch, PER_THREAD);
    drop(dispatch);
    drop(file);
    assert_eq!(errors.count(), 0);

    let bytes = std::fs::read(&path).expect("read back");
    assert_eq!(bytes.last(), Some(&b'\n'), "last line unterminated");
    let mut tally = Tally::new(PER_THREAD);
    for line in bytes[..bytes.len() - 1].split(|b| *b == b'\n') {
        tally.line(line);
    }
    let total = THREADS * PER_THREAD;
    assert_eq!(
        tally.summary(),
        json!({"lines": total, "pairs_seen_once": total, "bad": []})
    );
}

/// The test re-runs itself as a child process that reads the pipe and reports a summary.
const PIPE_TEST: &str = "eight_threads_write_to_one_os_pipe_without_tearing_a_line";
const PIPE_PER_THREAD: u64 = 5_000;
const SUMMARY_KEY: &str = "pipe_reader_summary";

#[test]
fn eight_threads_write_to_one_os_pipe_without_tearing_a_line() {
    if child_role().as_deref() == Some("pipe_reader") {
        // Child: count and check every line arriving on stdin (the read end of the pipe).
        let mut tally = Tally::new(PIPE_PER_THREAD);
        let mut stdin = std::io::stdin().lock();
        let mut line = Vec::new();
        let mut unterminated = false;
        while stdin.read_until(b'\n', &mut line).expect("read stdin") > 0 {
            match line.pop() {
                Some(b'\n') => {}
                _ => unterminated = true,
            }
            tally.line(&line);
            line.clear();
        }
        let mut summary = tally.summary();
        summary["unterminated"] = json!(unterminated);
        // On a line of its own: the harness has printed `test <name> ... ` already.
        println!("\n{}", json!({ SUMMARY_KEY: summary }));
        return;
    }

    let mut child = child_command(PIPE_TEST, "pipe_reader")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the reading child");
    // `&ChildStdin` is `Write`, so `Arc<ChildStdin>` is a `MakeWriter` writing to the pipe.
    let pipe = Arc::new(child.stdin.take().expect("child stdin"));
    let stdout = child.stdout.take().expect("child stdout");
    let reader = std::thread::spawn(move || {
        // Read to the end (the child's test harness still writes after the summary), then
        // pick the summary line out of the harness's own output.
        let lines: Vec<Vec<u8>> = BufReader::new(stdout)
            .split(b'\n')
            .map(|l| l.expect("read child stdout"))
            .collect();
        lines
            .iter()
            .filter_map(|l| parse_strict(l).ok())
            .find_map(|mut m| m.remove(SUMMARY_KEY))
    });

    let layer = instrument_core::JsonLogLayer::new().with_writer(pipe.clone());
    let errors = layer.write_errors();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    log_from_threads(&dispatch, PIPE_PER_THREAD);
    drop(dispatch);
    drop(pipe); // the last handle on the write end: the child sees EOF
    assert_eq!(errors.count(), 0);

    let status = wait_or_kill(&mut child, Duration::from_secs(120));
    assert!(status.success(), "reading child failed: {status}");
    let summary = reader
        .join()
        .unwrap()
        .expect("the child printed no summary");
    let total = THREADS * PIPE_PER_THREAD;
    assert_eq!(
        summary,
        json!({"lines": total, "pairs_seen_once": total, "bad": [], "unterminated": false})
    );
}
