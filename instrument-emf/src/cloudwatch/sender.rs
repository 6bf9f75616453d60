//! The buffer between the flushing thread and the sender task, and the task itself.
//!
//! The task runs on a thread of its own with a current-thread tokio runtime, so it works the
//! same in a tokio application, in a synchronous one, and after the application's runtime is
//! gone (at guard drop).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::Client;

use super::batch::{self, Batch, Limits};
use super::client::{self, Failure};
use super::datum::Datum;
use super::{CloudwatchOptions, Counters};

/// What the flushing side and the task share.
#[derive(Debug)]
pub(crate) struct Queue {
    state: Mutex<State>,
    /// Wakes the task (a permit is kept when it is not waiting, so no wake-up is lost).
    wake: tokio::sync::Notify,
    /// Wakes threads waiting for a flush or the shutdown to complete.
    changed: Condvar,
    pub(crate) counters: Arc<Counters>,
    capacity: usize,
    limits: Limits,
}

#[derive(Debug, Default)]
struct State {
    pending: VecDeque<Datum>,
    pending_bytes: usize,
    /// Batches to send again (failed, or halves of a rejected one), before anything new.
    retry: VecDeque<Batch>,
    retry_datums: usize,
    /// When the oldest pending datum arrived.
    oldest: Option<Instant>,
    flush_requested: u64,
    flush_done: u64,
    /// Set by shutdown: deliver until then, count the rest as lost.
    deadline: Option<Instant>,
    exited: bool,
}

impl State {
    fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.retry.is_empty()
    }

    fn buffered(&self) -> usize {
        self.pending.len() + self.retry_datums
    }

    /// Removes everything still buffered; returns how many datums that was.
    fn clear(&mut self) -> usize {
        let n = self.buffered();
        self.pending.clear();
        self.retry.clear();
        self.pending_bytes = 0;
        self.retry_datums = 0;
        self.oldest = None;
        n
    }
}

impl Queue {
    pub(crate) fn new(capacity: usize, limits: Limits, counters: Arc<Counters>) -> Queue {
        Queue {
            state: Mutex::default(),
            wake: tokio::sync::Notify::new(),
            changed: Condvar::new(),
            counters,
            capacity: capacity.max(1),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Buffers datums for the task; what does not fit the bound is counted as lost.
    pub(crate) fn push(&self, datums: Vec<Datum>) {
        if datums.is_empty() {
            return;
        }
        let mut state = self.lock();
        if state.exited || state.deadline.is_some() {
            let n = datums.len();
            drop(state);
            self.counters
                .lose(n as u64, &"the CloudWatch sink is shut down");
            return;
        }
        let room = self.capacity.saturating_sub(state.buffered());
        let total = datums.len();
        if state.pending.is_empty() {
            state.oldest = Some(Instant::now());
        }
        for datum in datums.into_iter().take(room) {
            state.pending_bytes += datum.encoded_size();
            state.pending.push_back(datum);
        }
        let full = batch::has_full_batch(state.pending.len(), state.pending_bytes, self.limits);
        drop(state);
        if total > room {
            self.counters.lose(
                (total - room) as u64,
                &"its buffer is full (CloudWatch is slower than the application, or away)",
            );
        }
        if full {
            self.wake.notify_one();
        }
    }

    /// Asks the task to send everything buffered, and waits for that (at most `timeout`).
    pub(crate) fn flush(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        let mut state = self.lock();
        if state.exited {
            return;
        }
        state.flush_requested += 1;
        let target = state.flush_requested;
        self.wake.notify_one();
        while !state.exited && state.flush_done < target {
            let now = Instant::now();
            if now >= until {
                return;
            }
            state = self
                .changed
                .wait_timeout(state, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Tells the task to deliver what is left until `timeout` from now, then stop; waits for it
    /// (a moment longer, for its last HTTP call to be cut off). Returns whether it stopped.
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let until = deadline + Duration::from_millis(500);
        let mut state = self.lock();
        if state.deadline.is_none() {
            state.deadline = Some(deadline);
        }
        self.wake.notify_one();
        while !state.exited {
            let now = Instant::now();
            if now >= until {
                // The task is stuck (it never got to run, or its runtime is gone): count what it
                // still holds, and let it exit whenever it wakes.
                let n = state.clear();
                state.exited = true;
                drop(state);
                self.counters
                    .lose(n as u64, &"shutdown's bounded wait ran out");
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Datums buffered now.
    pub(crate) fn buffered(&self) -> usize {
        self.lock().buffered()
    }
}

enum Next {
    Send(Batch),
    Wait(Option<Duration>),
    Exit,
}

/// A small xorshift for backoff jitter (no dependency for a few random bits).
struct Jitter(u64);

impl Jitter {
    fn new() -> Jitter {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
        Jitter(seed | 1)
    }

    /// A duration drawn uniformly from `[d/2, d]` ("equal jitter").
    fn apply(&mut self, d: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let fraction = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        d.mul_f64(0.5 + fraction / 2.0)
    }
}

/// The sender task: sends a batch when one is full, when a flush asks, when the oldest datum
/// has waited `max_delay`, and everything at shutdown; requeues what fails, with exponential
/// backoff and jitter, up to `max_send_attempts`; isolates rejected datums by halving.
pub(crate) async fn run(queue: Arc<Queue>, client: Client, options: CloudwatchOptions) {
    let mut failures: u32 = 0;
    let mut resume_at: Option<Instant> = None;
    let mut jitter = Jitter::new();
    loop {
        let now = Instant::now();
        let (next, deadline) = {
            let mut state = queue.lock();
            let deadline = state.deadline;
            let next = if state.exited {
                Next::Exit
            } else if deadline.is_some_and(|d| now >= d) {
                let n = state.clear();
                queue.counters.lose(
                    n as u64,
                    &"CloudWatch did not accept them before shutdown's deadline",
                );
                Next::Exit
            } else if state.is_empty() {
                state.flush_done = state.flush_requested;
                queue.changed.notify_all();
                if deadline.is_some() {
                    Next::Exit
                } else {
                    Next::Wait(None)
                }
            } else if let Some(at) = resume_at.filter(|at| *at > now) {
                Next::Wait(Some(at - now))
            } else if let Some(batch) = state.retry.pop_front() {
                state.retry_datums -= batch.datums.len();
                Next::Send(batch)
            } else {
                let due = deadline.is_some()
                    || state.flush_requested > state.flush_done
                    || batch::has_full_batch(
                        state.pending.len(),
                        state.pending_bytes,
                        queue.limits,
                    )
                    || state
                        .oldest
                        .is_some_and(|t| now.duration_since(t) >= options.max_delay);
                if due {
                    match batch::take(&mut state.pending, queue.limits) {
                        Some(batch) => {
                            state.pending_bytes = state.pending_bytes.saturating_sub(batch.bytes);
                            if state.pending.is_empty() {
                                state.pending_bytes = 0;
                                state.oldest = None;
                            }
                            Next::Send(batch)
                        }
                        None => Next::Wait(None),
                    }
                } else {
                    let waited = state
                        .oldest
                        .map_or(Duration::ZERO, |t| now.duration_since(t));
                    Next::Wait(Some(options.max_delay.saturating_sub(waited)))
                }
            };
            if matches!(next, Next::Exit) {
                state.exited = true;
                queue.changed.notify_all();
            }
            (next, deadline)
        };
        let left = deadline.map(|d| d.saturating_duration_since(now));
        match next {
            Next::Exit => return,
            Next::Wait(wait) => {
                let wait = match (wait, left) {
                    (Some(w), Some(l)) => Some(w.min(l)),
                    (w, l) => w.or(l),
                };
                match wait {
                    Some(w) => {
                        let _ = tokio::time::timeout(w, queue.wake.notified()).await;
                    }
                    None => queue.wake.notified().await,
                }
            }
            Next::Send(batch) => {
                let result = match left {
                    Some(left) => {
                        match tokio::time::timeout(left, client::put(&client, &batch)).await {
                            Ok(result) => result,
                            Err(_) => Err(Failure::Retry("shutdown's deadline passed".into())),
                        }
                    }
                    None => client::put(&client, &batch).await,
                };
                match result {
                    Ok(()) => {
                        failures = 0;
                        resume_at = None;
                        queue.counters.requests_ok.fetch_add(1, Ordering::Relaxed);
                        queue
                            .counters
                            .datums_sent
                            .fetch_add(batch.datums.len() as u64, Ordering::Relaxed);
                    }
                    Err(Failure::Invalid(message)) => {
                        if batch.datums.len() > 1 {
                            let (a, b) = batch.split();
                            let mut state = queue.lock();
                            state.retry_datums += a.datums.len() + b.datums.len();
                            state.retry.push_front(b);
                            state.retry.push_front(a);
                        } else {
                            queue.counters.reject(batch.datums.len() as u64, &message);
                        }
                    }
                    Err(Failure::Retry(message)) => {
                        failures = failures.saturating_add(1);
                        let backoff = options
                            .initial_backoff
                            .saturating_mul(1u32 << failures.min(16).saturating_sub(1))
                            .min(options.max_backoff);
                        resume_at = Some(Instant::now() + jitter.apply(backoff));
                        let mut batch = batch;
                        batch.attempts += 1;
                        if batch.attempts >= options.max_send_attempts.max(1) {
                            queue.counters.lose(batch.datums.len() as u64, &message);
                        } else {
                            queue.counters.requeued.fetch_add(1, Ordering::Relaxed);
                            let mut state = queue.lock();
                            state.retry_datums += batch.datums.len();
                            state.retry.push_front(batch);
                        }
                    }
                    Err(Failure::Permanent(message)) => {
                        queue.counters.lose(batch.datums.len() as u64, &message);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch::datum::Values;
    use crate::unit::Unit;

    fn datums(n: usize) -> Vec<Datum> {
        let namespace: Arc<str> = Arc::from("Test");
        (0..n)
            .map(|i| Datum {
                namespace: namespace.clone(),
                name: format!("m{i}").into(),
                unit: Unit::Count,
                resolution: 60,
                timestamp_ms: 0,
                dimensions: Vec::new().into(),
                values: Values::One(1.0),
            })
            .collect()
    }

    #[test]
    fn the_buffer_is_bounded_and_overflow_is_counted() {
        let counters = Arc::new(Counters::default());
        let queue = Queue::new(5, Limits::default(), counters.clone());
        queue.push(datums(3));
        queue.push(datums(4));
        assert_eq!(queue.buffered(), 5);
        assert_eq!(counters.lost.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn after_shutdown_new_datums_are_counted_not_kept() {
        let counters = Arc::new(Counters::default());
        let queue = Queue::new(100, Limits::default(), counters.clone());
        queue.push(datums(2));
        // No task runs: shutdown's wait runs out and counts what is left.
        assert!(!queue.shutdown(Duration::ZERO));
        queue.push(datums(3));
        assert_eq!(queue.buffered(), 0);
        assert_eq!(counters.lost.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_backoff() {
        let mut jitter = Jitter::new();
        for _ in 0..1_000 {
            let d = jitter.apply(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(50) && d <= Duration::from_millis(100));
        }
    }
}
