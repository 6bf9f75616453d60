//! Per-invocation log sampling and buffering, as Powertools users know them.
//!
//! * **Sampling** (`INSTRUMENT_LOG_SAMPLE_RATE`, 0 to 1): that share of Lambda invocations logs
//!   at `DEBUG` whatever the log level, decided once when the invocation starts.
//! * **Buffering** (`INSTRUMENT_LOG_BUFFER=on`): every line the log level rejects, down to
//!   `INSTRUMENT_LOG_BUFFER_LEVEL` (`debug` by default: with the level `warn`, `INFO` and
//!   `DEBUG` lines) are kept in the invocation's buffer,
//!   bounded by `INSTRUMENT_LOG_BUFFER_MAX_BYTES` (oldest evicted first), and written only when
//!   the invocation logs an `ERROR` line — which `lambda_runtime` does when the handler returns
//!   an error or panics, and instrument's Lambda layer does when an invocation is about to time
//!   out. An invocation that ends well drops its buffer unseen. If lines were evicted, a `WARN`
//!   line says how many before the buffer is written. After that first error the invocation's
//!   verbose lines are written straight away.
//!
//! Both apply inside invocations only: lines outside (initialisation, background tasks) follow
//! the log level alone, so nothing is ever buffered during init. The state lives in the
//! extensions of the invocation's outermost span, so concurrent invocations in one process
//! (Lambda's `AWS_LAMBDA_MAX_CONCURRENCY`) never share a buffer or a sampling decision.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::LevelFilter;

use crate::config::LogBuffering;

/// What the log layer does with verbose lines inside invocations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct InvocationLogging {
    pub(crate) sample_rate: f64,
    pub(crate) buffer: Option<LogBuffering>,
}

impl InvocationLogging {
    /// `None` when neither sampling nor buffering is on (the layer then does no extra work).
    pub(crate) fn new(sample_rate: f64, buffer: Option<LogBuffering>) -> Option<Self> {
        (sample_rate > 0.0 || buffer.is_some()).then_some(InvocationLogging {
            sample_rate,
            buffer,
        })
    }

    /// The state of a new invocation: sampled or not, with an empty buffer.
    pub(crate) fn start(&self) -> InvocationLog {
        InvocationLog {
            sampled: sample(self.sample_rate),
            buffer: VecDeque::new(),
            bytes: 0,
            evicted: 0,
            flushed: false,
        }
    }
}

/// One invocation's log state, kept in its outermost span's extensions.
#[derive(Debug)]
pub(crate) struct InvocationLog {
    /// Whether this invocation logs at `DEBUG` (sampling).
    pub(crate) sampled: bool,
    buffer: VecDeque<Box<[u8]>>,
    bytes: usize,
    evicted: u64,
    /// Whether the invocation logged an error (its buffer was written; verbose lines go
    /// straight out from then on).
    pub(crate) flushed: bool,
}

/// What to do with a verbose line inside an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verbose {
    Write,
    Buffer,
    Drop,
}

impl InvocationLog {
    /// The fate of a line at `level` that only sampling or buffering let through.
    pub(crate) fn verbose(&self, level: LevelFilter, config: &InvocationLogging) -> Verbose {
        if self.flushed || (self.sampled && level <= LevelFilter::DEBUG) {
            return Verbose::Write;
        }
        match config.buffer {
            Some(b) if level <= b.level => Verbose::Buffer,
            _ => Verbose::Drop,
        }
    }

    /// Keeps `line`, evicting the oldest lines beyond `max_bytes`.
    pub(crate) fn push(&mut self, line: &[u8], max_bytes: usize) {
        self.buffer.push_back(line.into());
        self.bytes += line.len();
        while self.bytes > max_bytes {
            let Some(old) = self.buffer.pop_front() else {
                break;
            };
            self.bytes -= old.len();
            self.evicted += 1;
        }
    }

    /// Marks the invocation as failed and hands out what was buffered and how many lines were
    /// evicted; `None` if it had been flushed already.
    pub(crate) fn take(&mut self) -> Option<(VecDeque<Box<[u8]>>, u64)> {
        if self.flushed {
            return None;
        }
        self.flushed = true;
        self.bytes = 0;
        Some((
            std::mem::take(&mut self.buffer),
            std::mem::take(&mut self.evicted),
        ))
    }
}

/// A sampling decision: `true` with probability `rate`. A splitmix64 sequence over a per-process
/// counter, seeded from the clock: no dependency, no lock, independent across invocations.
fn sample(rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    if rate >= 1.0 {
        return true;
    }
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut seed = STATE.load(Ordering::Relaxed);
    if seed == 0 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x5eed, |d| d.as_nanos() as u64);
        let _ = STATE.compare_exchange(0, now | 1, Ordering::Relaxed, Ordering::Relaxed);
        seed = STATE.load(Ordering::Relaxed);
    }
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        .wrapping_add(seed ^ 0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    // 53 random bits as a float in [0, 1).
    ((z >> 11) as f64 / (1u64 << 53) as f64) < rate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_keeps_the_newest_lines_within_the_bound() {
        let config = InvocationLogging::new(
            0.0,
            Some(LogBuffering {
                max_bytes: 10,
                level: LevelFilter::DEBUG,
            }),
        )
        .unwrap();
        let mut log = config.start();
        assert_eq!(log.verbose(LevelFilter::DEBUG, &config), Verbose::Buffer);
        assert_eq!(log.verbose(LevelFilter::TRACE, &config), Verbose::Drop);
        for line in [b"aaaa", b"bbbb", b"cccc"] {
            log.push(line, 10);
        }
        let (lines, evicted) = log.take().unwrap();
        assert_eq!(evicted, 1);
        assert_eq!(
            lines,
            vec![b"bbbb".to_vec().into(), b"cccc".to_vec().into()]
        );
        assert!(log.take().is_none(), "a buffer is written once");
        assert_eq!(log.verbose(LevelFilter::DEBUG, &config), Verbose::Write);
    }

    #[test]
    fn sampling_rate_is_respected_roughly() {
        assert!(!sample(0.0));
        assert!(sample(1.0));
        let hits = (0..10_000).filter(|_| sample(0.5)).count();
        assert!((4_000..6_000).contains(&hits), "{hits}");
    }
}
