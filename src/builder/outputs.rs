//! What the assembled pipeline writes through: the log writer shared with the guard, the sink
//! of metrics that are off, and the check for a closed stdout.

use std::sync::Arc;

use instrument_emf::Sink;
use tracing_subscriber::fmt::MakeWriter;

/// Shares one `MakeWriter` between the layer and the guard that flushes it.
pub(super) struct SharedWriter<W>(pub(super) Arc<W>);

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for SharedWriter<W> {
    type Writer = W::Writer;

    fn make_writer(&'a self) -> Self::Writer {
        self.0.make_writer()
    }

    fn make_writer_for(&'a self, meta: &tracing_core::Metadata<'_>) -> Self::Writer {
        self.0.make_writer_for(meta)
    }
}

/// Where metrics go when they are off: nowhere (nothing reaches it).
pub(super) struct NullSink;

impl Sink for NullSink {
    fn write(&self, _document: &[u8]) {}
}

/// Whether the writer `W` is the default (the process's stdout) and stdout is closed (`>&-`):
/// Rust's `Stdout` then reports every write as a success, and everything would be lost
/// silently.
pub(super) fn stdout_closed<W: 'static>() -> bool {
    if std::any::TypeId::of::<W>() != std::any::TypeId::of::<fn() -> std::io::Stdout>() {
        return false;
    }
    #[cfg(unix)]
    {
        // SAFETY: F_GETFD on a file descriptor number has no effect but its answer.
        unsafe { libc::fcntl(1, libc::F_GETFD) == -1 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}
