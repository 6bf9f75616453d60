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
}

impl WriteErrors {
    /// A counter for lines of kind `what` (named in the report: `log`, `metrics`).
    pub const fn new(what: &'static str) -> Self {
        WriteErrors {
            what,
            count: AtomicU64::new(0),
            reported: AtomicBool::new(false),
        }
    }

    /// Writes `line` with a single `write_all`; a failure is counted and reported once.
    #[inline]
    pub fn write_line(&self, mut writer: impl Write, line: &[u8]) {
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
