//! The monotonic clock a tracked call's latency is measured with: [`quanta`]'s, which reads the
//! CPU's invariant time-stamp counter (calibrated once against the OS monotonic clock, in about
//! a millisecond) where that counter is reliable, and the OS monotonic clock elsewhere (e.g. on
//! ARM). Differences are whole nanoseconds; a clock read back in time (counters of two cores
//! can differ slightly) gives 0, never a negative or huge latency.

use std::sync::OnceLock;

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

#[inline]
fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Calibrates the clock now rather than in the first tracked call (`init()` does this). Not
/// public API.
#[doc(hidden)]
pub fn calibrate_clock() {
    let _ = clock();
}

/// A point in time, to measure the milliseconds since.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp(u64);

impl Stamp {
    /// Now.
    #[inline]
    pub(crate) fn now() -> Stamp {
        Stamp(clock().raw())
    }

    /// Milliseconds from `self` to now.
    #[inline]
    #[allow(clippy::cast_precision_loss)] // nanoseconds below 2^53: 104 days
    pub(crate) fn elapsed_ms(self) -> f64 {
        let clock = clock();
        clock.delta_as_nanos(self.0, clock.raw()) as f64 * 1e-6
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
        assert!(ours >= 19.9, "{ours}");
        assert!((ours - std).abs() < 5.0, "{ours} vs {std}");
    }

    #[test]
    fn short_intervals_are_small_and_never_negative() {
        for _ in 0..1000 {
            let ms = Stamp::now().elapsed_ms();
            assert!((0.0..1.0).contains(&ms), "{ms}");
        }
    }
}
