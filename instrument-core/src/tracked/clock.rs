//! The monotonic clock a tracked call's latency is measured with.
//!
//! On Linux, `clock_gettime(CLOCK_MONOTONIC)` (the clock `std::time::Instant` reads) with the
//! difference computed straight in milliseconds; elsewhere `Instant`.

/// A point in time, to measure the milliseconds since.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp(Inner);

#[cfg(target_os = "linux")]
type Inner = (i64, i64);

#[cfg(not(target_os = "linux"))]
type Inner = std::time::Instant;

impl Stamp {
    /// Now.
    #[inline]
    #[cfg(target_os = "linux")]
    pub(crate) fn now() -> Stamp {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid `timespec` to write; CLOCK_MONOTONIC always exists on Linux.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut ts) };
        debug_assert_eq!(rc, 0);
        #[allow(clippy::useless_conversion)] // `time_t`/`c_long` are `i32` on some targets
        Stamp((i64::from(ts.tv_sec), i64::from(ts.tv_nsec)))
    }

    /// Milliseconds from `self` to now.
    #[inline]
    #[cfg(target_os = "linux")]
    #[allow(clippy::cast_precision_loss)] // whole seconds below 2^53
    pub(crate) fn elapsed_ms(self) -> f64 {
        let now = Stamp::now().0;
        let whole_seconds = now.0 - self.0 .0;
        let nanoseconds = now.1 - self.0 .1;
        whole_seconds as f64 * 1e3 + nanoseconds as f64 * 1e-6
    }

    /// Now.
    #[inline]
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn now() -> Stamp {
        Stamp(std::time::Instant::now())
    }

    /// Milliseconds from `self` to now.
    #[inline]
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn elapsed_ms(self) -> f64 {
        self.0.elapsed().as_secs_f64() * 1e3
    }
}

#[cfg(test)]
mod tests {
    use super::Stamp;
    use std::time::{Duration, Instant};

    #[test]
    fn agrees_with_instant() {
        let (stamp, instant) = (Stamp::now(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let ours = stamp.elapsed_ms();
        let std = instant.elapsed().as_secs_f64() * 1e3;
        assert!(ours >= 20.0, "{ours}");
        assert!((ours - std).abs() < 5.0, "{ours} vs {std}");
    }
}
