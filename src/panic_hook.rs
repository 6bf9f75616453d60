use std::panic::{self, PanicHookInfo};
use std::sync::Arc;

use crate::guard::Flushers;

/// Logs a panic as one `ERROR` line (message, location, thread) and flushes the log writer, then
/// runs the hook that was installed before.
///
/// Metrics are flushed from the hook only where the panic can end the process without
/// unwinding through `main` (where the guard flushes them): always under `panic = "abort"`, and
/// on the main thread at most once a second. A panic that is caught (`catch_unwind`, a task
/// runtime) must not cost a flush, and most are: 500 caught panics wrote 500 EMF documents.
pub(crate) fn install(flushers: Arc<Flushers>) {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
        let message = payload_message(info);
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        let thread = std::thread::current();
        tracing::error!(
            target: "panic",
            panic_location = location.as_deref().unwrap_or("unknown"),
            thread = thread.name().unwrap_or("unnamed"),
            "panicked: {message}"
        );
        if cfg!(panic = "abort") || (thread.name() == Some("main") && metrics_flush_due()) {
            flushers.flush();
        } else {
            flushers.flush_logs();
        }
        previous(info);
    }));
}

fn payload_message<'a>(info: &'a PanicHookInfo<'_>) -> &'a str {
    let payload = info.payload();
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>")
}

/// Whether the hook may flush metrics now: not within a second of its last flush.
fn metrics_flush_due() -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    static LAST_MS: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let last = LAST_MS.load(Ordering::Relaxed);
    now.saturating_sub(last) >= 1_000
        && LAST_MS
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}
