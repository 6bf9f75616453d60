//! Where EMF documents go.

use std::io::Write;
use std::sync::{Arc, Mutex};

use instrument_core::writer::WriteErrors;

use crate::encoder::MAX_DOCUMENT_BYTES;

/// A destination for EMF documents. Each document arrives as one complete line (ending in `\n`).
pub trait Sink: Send + Sync + 'static {
    /// Writes one document. Must not panic; failures are the sink's to count.
    fn write(&self, document: &[u8]);

    /// Flushes anything buffered.
    fn flush(&self) {}

    /// Called once when the layer shuts down: deliver what is left within a bounded wait, then
    /// stop, counting what could not be delivered (in [`take_lost`](Self::take_lost)). The sink
    /// may never be dropped (under `init()` it lives in the global dispatcher), so this is
    /// where a shutdown's losses must be accounted. Defaults to [`flush`](Self::flush).
    fn shutdown(&self) {
        self.flush()
    }

    /// The largest document this sink can carry (256 KB; less for UDP).
    fn max_document_bytes(&self) -> usize {
        MAX_DOCUMENT_BYTES
    }

    /// Documents lost since the last call (reported by the layer as `instrument.dropped`).
    fn take_lost(&self) -> u64 {
        0
    }
}

/// Writes documents to stdout, one `write_all` per line through the process's stdout lock, so
/// EMF lines and log lines never interleave mid-line. The Lambda default: Lambda extracts the
/// metrics from the function's log stream.
///
/// ```
/// let _sink = instrument_emf::StdoutSink::default();
/// ```
#[derive(Debug)]
pub struct StdoutSink {
    errors: WriteErrors,
}

impl Default for StdoutSink {
    fn default() -> Self {
        StdoutSink {
            errors: WriteErrors::new("metrics"),
        }
    }
}

impl Sink for StdoutSink {
    fn write(&self, document: &[u8]) {
        self.errors.write_line(std::io::stdout(), document);
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }

    fn take_lost(&self) -> u64 {
        self.errors.take_new()
    }
}

/// Writes documents through a `tracing_subscriber` [`MakeWriter`], one `write_all` per line:
/// the log layer's writer, so that EMF lines and log lines never interleave mid-line. Failed
/// writes are counted as lost documents (reported as `instrument.dropped`), apart from the log
/// lines' failures.
///
/// [`MakeWriter`]: tracing_subscriber::fmt::MakeWriter
///
/// ```
/// let sink = instrument_emf::MakeWriterSink::new(std::io::stdout);
/// # let _ = sink;
/// ```
#[derive(Debug)]
pub struct MakeWriterSink<M> {
    make: M,
    errors: WriteErrors,
}

impl<M> MakeWriterSink<M> {
    /// Documents written through `make`.
    pub fn new(make: M) -> Self {
        MakeWriterSink {
            make,
            errors: WriteErrors::new("metrics"),
        }
    }

    /// The write failures of this sink (e.g. to mark the destination closed).
    pub fn errors(&self) -> &WriteErrors {
        &self.errors
    }
}

impl<M> Sink for MakeWriterSink<M>
where
    M: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    fn write(&self, document: &[u8]) {
        self.errors.write_line(self.make.make_writer(), document);
    }

    fn flush(&self) {
        let _ = self.make.make_writer().flush();
    }

    fn take_lost(&self) -> u64 {
        self.errors.take_new()
    }
}

/// Writes documents with a function: to share the log layer's writer, or anything else.
///
/// ```
/// let sink = instrument_emf::FnSink::new(|line: &[u8]| {
///     let _ = std::io::Write::write_all(&mut std::io::stderr(), line);
/// });
/// # let _ = sink;
/// ```
pub struct FnSink<F>(F);

impl<F> FnSink<F>
where
    F: Fn(&[u8]) + Send + Sync + 'static,
{
    /// A sink calling `write` for every document line.
    pub fn new(write: F) -> Self {
        FnSink(write)
    }
}

impl<F> std::fmt::Debug for FnSink<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnSink")
    }
}

impl<F> Sink for FnSink<F>
where
    F: Fn(&[u8]) + Send + Sync + 'static,
{
    fn write(&self, document: &[u8]) {
        (self.0)(document)
    }
}

/// Writes documents to any `io::Write` (a file, a socket, a buffer in a test).
///
/// ```
/// let sink = instrument_emf::WriterSink::new(Vec::<u8>::new());
/// # let _ = sink;
/// ```
#[derive(Debug)]
pub struct WriterSink<W> {
    writer: Mutex<W>,
    errors: WriteErrors,
}

impl<W: Write + Send + 'static> WriterSink<W> {
    /// A sink writing to `writer`.
    pub fn new(writer: W) -> Self {
        WriterSink {
            writer: Mutex::new(writer),
            errors: WriteErrors::new("metrics"),
        }
    }

    /// Lines that could not be written.
    pub fn write_errors(&self) -> u64 {
        self.errors.count()
    }
}

impl<W: Write + Send + 'static> Sink for WriterSink<W> {
    fn write(&self, document: &[u8]) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.errors.write_line(&mut *writer, document);
    }

    fn flush(&self) {
        let _ = self
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .flush();
    }
}

/// Keeps documents in memory (for tests); clones share the same documents.
///
/// ```
/// let sink = instrument_emf::MemorySink::default();
/// assert!(sink.documents().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink(Arc<Mutex<Vec<Vec<u8>>>>);

impl MemorySink {
    /// Every document written so far, each one line ending in `\n`.
    pub fn documents(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Removes and returns the documents written so far.
    pub fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Sink for MemorySink {
    fn write(&self, document: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(document.to_vec());
    }
}

impl<T: Sink + ?Sized> Sink for Arc<T> {
    fn write(&self, document: &[u8]) {
        (**self).write(document)
    }
    fn flush(&self) {
        (**self).flush()
    }
    fn shutdown(&self) {
        (**self).shutdown()
    }
    fn max_document_bytes(&self) -> usize {
        (**self).max_document_bytes()
    }
    fn take_lost(&self) -> u64 {
        (**self).take_lost()
    }
}
