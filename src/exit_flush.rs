//! The exit-time flush of an installed pipeline: when the process ends normally (returning from
//! `main`, or `std::process::exit`), the C runtime's `atexit` handlers run, and this one flushes
//! the metrics and the log writer and shuts the metrics pipeline down (with the exporter's
//! bounded wait), whether or not the [`Guard`](crate::Guard) was kept. A process killed by a
//! signal runs no `atexit` handler: `SIGTERM` has its own flush ([`crate::sigterm`]); an abort
//! or `SIGKILL` loses what was buffered, as for any program.
//!
//! Unix only (where the `libc` crate provides `atexit`); elsewhere the guard's drop is the
//! final flush.

use std::sync::{Arc, OnceLock};

use crate::guard::Flushers;

/// The installed pipeline's flushers: a process installs at most one global subscriber.
static INSTALLED: OnceLock<Arc<Flushers>> = OnceLock::new();

/// Registers the exit-time flush of `flushers` (once per process). Returns whether it is
/// registered, i.e. whether the exit will shut the pipeline down.
pub(crate) fn install(flushers: Arc<Flushers>) -> bool {
    if INSTALLED.set(flushers).is_err() {
        return false;
    }
    register()
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn register() -> bool {
    // SAFETY: `atexit` stores a function pointer for the C runtime to call once at exit;
    // `at_exit` is an `extern "C" fn` with no arguments that never unwinds (it catches any
    // panic), which is all the contract asks.
    unsafe { libc::atexit(at_exit) == 0 }
}

#[cfg(not(unix))]
fn register() -> bool {
    false
}

#[cfg(unix)]
extern "C" fn at_exit() {
    let _ = std::panic::catch_unwind(|| {
        if let Some(flushers) = INSTALLED.get() {
            flushers.shutdown();
        }
    });
}
