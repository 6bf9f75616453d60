use std::panic::{self, PanicHookInfo};
use std::sync::Arc;

use crate::guard::Flushers;

/// Logs a panic as one `ERROR` line (message, location, thread) and flushes, then runs the hook
/// that was installed before.
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
        flushers.flush();
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
