//! Flushing on `SIGTERM` (Unix).
//!
//! ECS, Kubernetes and Lambda (when extensions are registered) stop a process with `SIGTERM`.
//! A service that does not handle it dies at once, and the metrics of the last flush window (up
//! to a minute of them) and any buffered line die with it. [`install`] makes `SIGTERM` flush first:
//!
//! - only if `SIGTERM` still has its default action when instrument is installed: a process that
//!   already handles it keeps full control (its own shutdown drops the guard, which flushes);
//! - the signal handler itself only writes one byte to a pipe (async-signal-safe); a background
//!   thread does the flushing;
//! - after the signal, if the handler is still ours, nobody else handles `SIGTERM`: the thread
//!   shuts the pipeline down, restores the default action and raises the signal again, so the
//!   process ends exactly as it would have (killed by `SIGTERM`), with nothing lost;
//! - the flush is bounded in time ([`FLUSH_BOUND`]): it runs on a thread of its own, and when it
//!   cannot finish (stdout is a full pipe nobody reads, so every write blocks) the process ends
//!   anyway after the bound, as an orchestrator expects;
//! - if something installed its own handler after ours (a `tokio::signal` graceful shutdown, via
//!   `signal-hook`, which calls ours too), the thread only flushes and leaves the process running:
//!   the application's shutdown proceeds and the guard flushes again at the end.

use std::sync::Weak;
use std::time::Duration;

use crate::guard::Flushers;

/// How long a `SIGTERM` waits for the flush before the process ends (or goes on) without it.
pub(crate) const FLUSH_BOUND: Duration = Duration::from_secs(10);

/// Runs `f` on a thread of its own and waits for it at most `bound`; whether it finished.
#[cfg(unix)]
fn bounded(bound: Duration, f: impl FnOnce() + Send + 'static) -> bool {
    let (done, finished) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("instrument-sigterm-flush".into())
        .spawn(move || {
            f();
            let _ = done.send(());
        });
    spawned.is_ok() && finished.recv_timeout(bound).is_ok()
}

/// Makes `SIGTERM` flush `flushers` (see the module documentation). Returns whether the handler
/// was installed; a failure to install leaves `SIGTERM` as it was.
#[cfg(unix)]
pub(crate) fn install(flushers: Weak<Flushers>) -> bool {
    unix::install(flushers).unwrap_or(false)
}

/// `SIGTERM` does not exist here.
#[cfg(not(unix))]
pub(crate) fn install(_flushers: Weak<Flushers>) -> bool {
    false
}

#[cfg(unix)]
#[allow(unsafe_code)]
mod unix {
    use std::io;
    use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
    use std::sync::Weak;

    use crate::guard::Flushers;

    /// The pipe's write end, for the signal handler (-1 until installed).
    static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
    static INSTALLED: AtomicBool = AtomicBool::new(false);

    /// The signal handler: one `write` (async-signal-safe), `errno` preserved.
    extern "C" fn on_sigterm(_signal: libc::c_int) {
        let fd = WRITE_FD.load(Ordering::Relaxed);
        if fd < 0 {
            return;
        }
        let byte = 1u8;
        let write = || {
            // SAFETY: `write` is async-signal-safe and the byte outlives the call.
            let _ = unsafe { libc::write(fd, std::ptr::addr_of!(byte).cast(), 1) };
        };
        match errno_location() {
            // SAFETY: the calling thread's own errno, read and restored on this thread only.
            Some(errno) => unsafe {
                let saved = *errno;
                write();
                *errno = saved;
            },
            // No portable errno accessor on this platform: errno may be clobbered by the
            // `write`, which only matters to code inspecting errno across a signal. (Never a
            // shared scratch location: handlers run on any thread, and writing one from
            // several at once would be a data race.)
            None => write(),
        }
    }

    /// The calling thread's `errno`, where the platform has an accessor.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn errno_location() -> Option<*mut libc::c_int> {
        // SAFETY: always valid to call; returns the calling thread's errno.
        Some(unsafe { libc::__errno_location() })
    }

    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    fn errno_location() -> Option<*mut libc::c_int> {
        // SAFETY: always valid to call; returns the calling thread's errno.
        Some(unsafe { libc::__error() })
    }

    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    fn errno_location() -> Option<*mut libc::c_int> {
        None
    }

    fn check(result: libc::c_int) -> io::Result<()> {
        if result == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// The current action for `SIGTERM`.
    fn current_handler() -> io::Result<libc::sighandler_t> {
        // SAFETY: a zeroed `sigaction` is a valid out-parameter; a null new action only reads.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            check(libc::sigaction(
                libc::SIGTERM,
                std::ptr::null(),
                &mut current,
            ))?;
            Ok(current.sa_sigaction)
        }
    }

    fn set_handler(handler: libc::sighandler_t) -> io::Result<()> {
        // SAFETY: the action is fully initialised (empty mask, no flags but SA_RESTART).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler;
            action.sa_flags = libc::SA_RESTART;
            check(libc::sigemptyset(&mut action.sa_mask))?;
            check(libc::sigaction(
                libc::SIGTERM,
                &action,
                std::ptr::null_mut(),
            ))
        }
    }

    fn ours() -> libc::sighandler_t {
        on_sigterm as extern "C" fn(libc::c_int) as libc::sighandler_t
    }

    pub(super) fn install(flushers: Weak<Flushers>) -> io::Result<bool> {
        if current_handler()? != libc::SIG_DFL || INSTALLED.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors `pipe` writes.
        check(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
        let [read_fd, write_fd] = fds;
        // SAFETY: plain descriptor flag changes on descriptors this function owns.
        unsafe {
            check(libc::fcntl(read_fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
            check(libc::fcntl(write_fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
            // The handler must never block, even if signals pile up.
            check(libc::fcntl(write_fd, libc::F_SETFL, libc::O_NONBLOCK))?;
        }
        WRITE_FD.store(write_fd, Ordering::Relaxed);
        std::thread::Builder::new()
            .name("instrument-sigterm".into())
            .spawn(move || watch(read_fd, flushers))?;
        set_handler(ours())?;
        Ok(true)
    }

    /// Waits for signals; flushes on each.
    fn watch(read_fd: libc::c_int, flushers: Weak<Flushers>) {
        loop {
            let mut byte = 0u8;
            // SAFETY: reads at most one byte into `byte`.
            let n = unsafe { libc::read(read_fd, std::ptr::addr_of_mut!(byte).cast(), 1) };
            if n < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            }
            if n == 0 {
                return;
            }
            let alone = current_handler().is_ok_and(|h| h == ours());
            if let Some(flushers) = flushers.upgrade() {
                // Bounded: a blocked stdout must not keep the process alive.
                super::bounded(super::FLUSH_BOUND, move || {
                    if alone {
                        flushers.shutdown();
                    } else {
                        flushers.flush();
                    }
                });
            }
            if alone {
                // Nobody else handles SIGTERM: end the way the default action would have.
                if set_handler(libc::SIG_DFL).is_ok() {
                    // SAFETY: raising a signal whose action is the default one.
                    unsafe {
                        libc::raise(libc::SIGTERM);
                    }
                }
                return;
            }
        }
    }
}
