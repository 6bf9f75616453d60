//! Keeps `tracing-subscriber`'s per-layer filter state right for every span and event.
//!
//! With per-layer filters (the log layer's level, the metrics layer's "has metric fields"), the
//! registry remembers what each filter answered in `enabled` in a thread-local, and the span or
//! event that comes next is shown only to the layers whose filter said yes. That works when
//! `enabled` is always followed by its own span or event. Two things break it (issue 13):
//! * a question nobody acts on: `tracing::enabled!`, `log::log_enabled!`. Its answers stay
//!   behind, and the next span or event whose callsite is always enabled (so it asks nothing)
//!   is judged by them: `enabled!(INFO)` then `info!(counter.orders = 1)` recorded no orders;
//! * a question interrupted: `info!(x = f())` asks for the event, then evaluates `f()`, whose
//!   spans and events ask and consume their own answers; the event then found none of its own
//!   (a `DEBUG` event at level `info` was written).
//!
//! The pipeline tells this module about each question ([`asked`]) and, before each span or
//! event, asks whether the answers in the filter state belong to it ([`must_ask_again`]);
//! when not, it asks again for that span or event. A span or event whose answers are in place
//! (the common case) costs two thread-local reads.

use std::cell::Cell;

/// The most interrupted questions remembered; older ones are forgotten (their events then see
/// a clean state, as before this module).
const DEPTH: usize = 8;

thread_local! {
    /// The callsite (its metadata's address) whose answers are in the filter state, 0 when the
    /// state was consumed by a span or event.
    static ANSWERED: Cell<usize> = const { Cell::new(0) };
    /// Callsites that asked and whose answers were then overwritten or consumed by another.
    static INTERRUPTED: Cell<[usize; DEPTH]> = const { Cell::new([0; DEPTH]) };
    /// How many entries of `INTERRUPTED` are in use.
    static INTERRUPTED_LEN: Cell<usize> = const { Cell::new(0) };
}

/// A callsite's identity for this module.
#[inline]
pub(crate) fn key<T: ?Sized>(metadata: &T) -> usize {
    std::ptr::from_ref(metadata).cast::<()>() as usize
}

fn interrupt(callsite: usize) {
    let mut stack = INTERRUPTED.get();
    let len = INTERRUPTED_LEN.get();
    if stack[..len].contains(&callsite) {
        return;
    }
    if len == DEPTH {
        stack.copy_within(1.., 0);
        stack[DEPTH - 1] = callsite;
    } else {
        stack[len] = callsite;
        INTERRUPTED_LEN.set(len + 1);
    }
    INTERRUPTED.set(stack);
}

/// Removes `callsite` from the interrupted questions; whether it was there.
fn resume(callsite: usize) -> bool {
    let len = INTERRUPTED_LEN.get();
    if len == 0 {
        return false;
    }
    let mut stack = INTERRUPTED.get();
    let Some(i) = stack[..len].iter().position(|c| *c == callsite) else {
        return false;
    };
    stack.copy_within(i + 1..len, i);
    stack[len - 1] = 0;
    INTERRUPTED.set(stack);
    INTERRUPTED_LEN.set(len - 1);
    true
}

/// The filters were just asked about `callsite`.
#[inline]
pub(crate) fn asked(callsite: usize) {
    let before = ANSWERED.replace(callsite);
    if before != 0 && before != callsite {
        interrupt(before);
    }
}

/// A span or event of `callsite` is about to be shown to the layers, which will consume the
/// filter state: whether the filters must be asked again for it first. Marks the state
/// consumed.
#[inline]
pub(crate) fn must_ask_again(callsite: usize) -> bool {
    let answered = ANSWERED.replace(0);
    if answered == callsite {
        return false;
    }
    if answered != 0 {
        // The answers in place are another callsite's: theirs is interrupted, ours is needed.
        interrupt(answered);
        resume(callsite);
        return true;
    }
    // A clean state is right for a callsite every filter always enables, which asks nothing;
    // a callsite that asked and was interrupted needs its answers again.
    resume(callsite)
}

/// Something outside the pipeline's own span and event path (opening a deferred span) is
/// about to ask and consume: the question in place, if any, is interrupted.
#[inline]
pub(crate) fn consumed_elsewhere() {
    let answered = ANSWERED.replace(0);
    if answered != 0 {
        interrupt(answered);
    }
}
