//! Writing finished lines: one `write_all` per line, and write errors that never take the
//! application down.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counts failed writes and reports the first one on stderr.
///
/// A closed stdout, a broken pipe or a full disk must not stop the service: the failed line is
/// counted, the first failure is reported once on stderr (later ones only counted, so a dead pipe
/// cannot flood stderr), and the application keeps running.
///
/// ```
/// use instrument_core::writer::WriteErrors;
/// let errors = WriteErrors::new("log");
/// let mut sink: Vec<u8> = Vec::new();
/// errors.write_line(&mut sink, b"{}\n");
/// assert_eq!(errors.count(), 0);
/// ```
#[derive(Debug)]
pub struct WriteErrors {
    what: &'static str,
    count: AtomicU64,
    reported: AtomicBool,
    /// How much of `count` [`take_new`](Self::take_new) has handed out.
    taken: AtomicU64,
    /// The destination is known to be closed: every line fails without a write.
    closed: AtomicBool,
}

impl WriteErrors {
    /// A counter for lines of kind `what` (named in the report: `log`, `metrics`).
    pub const fn new(what: &'static str) -> Self {
        WriteErrors {
            what,
            count: AtomicU64::new(0),
            reported: AtomicBool::new(false),
            taken: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// The destination is closed (stdout closed with `>&-`, which Rust's `Stdout` reports as
    /// success): from now on every line is counted as failed, the first reported.
    pub fn mark_closed(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    /// Failures since the last call: what a sink reports as lost.
    ///
    /// ```
    /// use instrument_core::writer::WriteErrors;
    /// let errors = WriteErrors::new("metrics");
    /// errors.failed(&std::io::ErrorKind::BrokenPipe.into());
    /// assert_eq!(errors.take_new(), 1);
    /// assert_eq!(errors.take_new(), 0);
    /// ```
    pub fn take_new(&self) -> u64 {
        let count = self.count.load(Ordering::Relaxed);
        count - self.taken.swap(count, Ordering::Relaxed).min(count)
    }

    /// Writes `line` with a single `write_all`; a failure is counted and reported once.
    #[inline]
    pub fn write_line(&self, mut writer: impl Write, line: &[u8]) {
        if self.closed.load(Ordering::Relaxed) {
            self.failed(&io::Error::new(
                io::ErrorKind::NotConnected,
                "the destination (stdout) is closed",
            ));
            return;
        }
        if let Err(err) = writer.write_all(line) {
            self.failed(&err);
        }
    }

    /// Records a failed write.
    #[cold]
    pub fn failed(&self, err: &io::Error) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if !self.reported.swap(true, Ordering::Relaxed) {
            // `eprintln!` would panic if stderr is gone too; a failed report is ignored.
            let _ = writeln!(
                io::stderr(),
                "instrument: writing a {} line failed: {err}; the line was dropped, \
                 further write failures are counted without being reported",
                self.what
            );
        }
    }

    /// How many lines failed to be written.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}
