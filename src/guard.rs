use std::sync::Arc;

/// Returned by [`init`](crate::init); flushes buffered output when dropped.
///
/// Keep it alive for the life of the program (`let _guard = instrument::init();` at the top of
/// `main`). [`flush`](Guard::flush) flushes without giving it up, e.g. at the end of a Lambda
/// invocation.
#[must_use = "dropping the guard flushes and is meant to happen at the end of main"]
#[derive(Clone)]
pub struct Guard {
    pub(crate) flushers: Arc<Flushers>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

/// Everything that buffers output and must be flushed at the end.
#[derive(Default)]
pub(crate) struct Flushers(pub(crate) Vec<Box<dyn Fn() + Send + Sync>>);

impl Flushers {
    pub(crate) fn flush(&self) {
        for flush in &self.0 {
            flush();
        }
    }
}

impl Guard {
    /// Flushes every buffered log line and metric now.
    ///
    /// ```
    /// let (_subscriber, guard) = instrument::builder().build().unwrap();
    /// guard.flush();
    /// ```
    pub fn flush(&self) {
        self.flushers.flush();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Clones share the flushers; the last one out flushes.
        if Arc::strong_count(&self.flushers) == 1 {
            self.flush();
        }
    }
}
