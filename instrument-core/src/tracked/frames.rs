//! The thread's stack of deferred calls: all the unsafe code of deferred spans lives here.
//!
//! A deferred call pushes a *frame*: the span's callsite, its `function`, and a pointer to the
//! call's [`Fields`] (its copied arguments), whose lifetime is erased so that the frame can sit
//! in a thread-local. Whenever anything could observe a pending span, [`open_pending`] walks the
//! stack and opens each pending span from its frame's fields.
//!
//! Soundness rests on one rule: **a frame never outlives the fields it points to.** The module
//! upholds it with two facts:
//! * frames are pushed only by [`push`], an `unsafe fn` whose contract is that the returned
//!   [`Frame`] guard is dropped (never leaked) before the fields' borrow ends; its only caller,
//!   `SyncCall::run`, holds the guard in a local for the duration of the call's body, so the
//!   guard is dropped when the body returns or unwinds. Nothing outside this crate can get a
//!   guard: the safe public API (`SyncCall`) owns the frame's lifetime, and leaking a `SyncCall`
//!   (`std::mem::forget`) leaks no frame;
//! * the guard removes its frame (and any above it) when dropped, so the stack is always a
//!   prefix of the calls running on this thread's call stack, innermost last.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;

use tracing::span::Id;
use tracing::{Dispatch, Metadata};

use super::capture::Fields;

/// What became of a deferred call's span.
#[derive(Debug, Clone)]
pub(super) enum State {
    /// Not opened (yet).
    Pending,
    /// Opened and entered: the span's id, and the dispatcher it was opened in (the call ends it
    /// there even if the thread's default changed meanwhile).
    Open(Id, Option<Dispatch>),
    /// The pipeline did not want the span when asked to open it, or opening it failed.
    Unwanted,
}

impl State {
    pub(super) fn is_pending(&self) -> bool {
        matches!(self, State::Pending)
    }
}

struct Entry {
    /// The id of the pipeline that deferred this call (see `Host::id`).
    owner: u64,
    meta: &'static Metadata<'static>,
    function: &'static str,
    /// Lifetime erased; valid while the entry is on the stack (module docs).
    fields: *const (dyn Fields + 'static),
    state: State,
    carries_context: bool,
}

thread_local! {
    static FRAMES: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    /// How many entries of the stack are `State::Pending`, kept apart from the stack so that the
    /// check every event makes is one load (a `const` thread-local without a destructor).
    static PENDING: Cell<usize> = const { Cell::new(0) };
    /// How many of the pending entries carry context: a new call asks this, not the stack
    /// (a scan per call made deep recursion quadratic).
    static PENDING_CONTEXT: Cell<usize> = const { Cell::new(0) };
}

/// An entry leaves the pending state.
#[inline]
fn settle(entry: &Entry) {
    PENDING.set(PENDING.get() - 1);
    if entry.carries_context {
        PENDING_CONTEXT.set(PENDING_CONTEXT.get() - 1);
    }
}

/// The frame of one deferred call, on this thread's stack until dropped.
pub(super) struct Frame<'a> {
    depth: usize,
    popped: bool,
    _fields: PhantomData<&'a dyn Fields>,
}

/// What a frame is pushed with.
#[derive(Clone, Copy)]
pub(super) struct NewFrame<'a> {
    pub(super) owner: u64,
    pub(super) meta: &'static Metadata<'static>,
    pub(super) function: &'static str,
    pub(super) fields: &'a dyn Fields,
    pub(super) carries_context: bool,
}

/// Pushes a pending frame; `None` when the stack is busy (a call made from inside
/// [`open_pending`], i.e. from a layer opening a span) and the call must open its span now.
///
/// # Safety
///
/// The returned guard must be dropped, not leaked, before `frame.fields`' borrow ends: the
/// stack keeps a lifetime-erased pointer to the fields until then.
pub(super) unsafe fn push<'a>(frame: NewFrame<'a>) -> Option<Frame<'a>> {
    let fields: *const (dyn Fields + 'a) = frame.fields;
    // SAFETY: only the lifetime changes (a fat pointer to a fat pointer of the same trait); the
    // caller guarantees the pointer is dereferenced only while the fields are alive.
    #[allow(clippy::missing_transmute_annotations, clippy::transmute_ptr_to_ptr)]
    let fields: *const (dyn Fields + 'static) = unsafe { std::mem::transmute(fields) };
    FRAMES
        .try_with(|frames| {
            let mut frames = frames.try_borrow_mut().ok()?;
            let depth = frames.len();
            frames.push(Entry {
                owner: frame.owner,
                meta: frame.meta,
                function: frame.function,
                fields,
                state: State::Pending,
                carries_context: frame.carries_context,
            });
            PENDING.set(PENDING.get() + 1);
            if frame.carries_context {
                PENDING_CONTEXT.set(PENDING_CONTEXT.get() + 1);
            }
            Some(Frame {
                depth,
                popped: false,
                _fields: PhantomData,
            })
        })
        .ok()
        .flatten()
}

impl Frame<'_> {
    /// Removes the frame, returning what became of its span.
    pub(super) fn pop(mut self) -> Option<State> {
        self.popped = true;
        truncate(self.depth)
    }
}

impl Drop for Frame<'_> {
    /// Whatever happens (a panic in the body, in a layer opening the span), the frame goes: it
    /// must never outlive the fields it points to.
    fn drop(&mut self) {
        if !self.popped {
            truncate(self.depth);
        }
    }
}

/// Pops the entries at `depth` and above, returning the state of the one at `depth`.
fn truncate(depth: usize) -> Option<State> {
    FRAMES
        .try_with(|frames| {
            // The stack is borrowed only inside `push`, `is_pending` and `open_pending`, none of
            // which runs user code with the borrow held except `open_pending`'s opener, and a
            // frame pushed before that borrow is popped only after it ends (frames are LIFO with
            // the call stack). A failure here would leave a dangling pointer behind: abort
            // rather than risk it.
            let Ok(mut frames) = frames.try_borrow_mut() else {
                std::process::abort();
            };
            let mut state = None;
            while frames.len() > depth {
                let entry = frames.pop()?;
                if entry.state.is_pending() {
                    settle(&entry);
                }
                state = Some(entry.state);
            }
            state
        })
        .ok()
        .flatten()
}

/// Whether a pending call on this thread carries context (dimensions, properties) for the
/// calls below it: a new call must then open the pending spans first, so that its metrics
/// inherit. (Counted for every pipeline: opening another pipeline's pending spans is a no-op.)
#[inline]
pub(super) fn pending_context() -> bool {
    PENDING_CONTEXT.get() > 0
}

/// How a pipeline opens one pending span: given its callsite and values, the entered span's id
/// and the dispatcher it lives in (`None`: the pipeline does not want the span now). Not public
/// API.
#[doc(hidden)]
pub type Opener<'a> = dyn FnMut(
        &'static Metadata<'static>,
        &tracing::field::ValueSet<'_>,
    ) -> Option<(Id, Option<Dispatch>)>
    + 'a;

/// Opens, in order, every pending span of this thread that the pipeline `owner` deferred,
/// through `open`. Cheap when nothing is pending (one thread-local load). Not public API.
#[doc(hidden)]
#[inline]
pub fn open_pending(owner: u64, open: &mut Opener<'_>) {
    if PENDING.get() != 0 {
        open_pending_now(owner, open);
    }
}

/// [`open_pending`] when something is pending.
#[inline(never)]
fn open_pending_now(owner: u64, open: &mut Opener<'_>) {
    let _ = FRAMES.try_with(|frames| {
        // Busy: this is a layer opening a pending span, which is itself observing the thread
        // (its events and spans come in here); the spans being opened are opened once.
        let Ok(mut frames) = frames.try_borrow_mut() else {
            return;
        };
        for i in 0..frames.len() {
            let entry = &mut frames[i];
            if entry.owner != owner || !entry.state.is_pending() {
                continue;
            }
            // Settled before any other code runs: if opening panics, the frame is simply not
            // open (never left pending with fields about to go away).
            entry.state = State::Unwanted;
            settle(entry);
            let (meta, function, fields) = (entry.meta, entry.function, entry.fields);
            // SAFETY: the entry is on the stack, so the `Frame` guard that pushed it has not
            // been dropped yet, and by `push`'s contract the fields are still borrowed.
            let fields = unsafe { &*fields };
            let mut opened = None;
            fields.with_values(function, &mut |set| opened = open(meta, set));
            if let Some((id, dispatch)) = opened {
                frames[i].state = State::Open(id, dispatch);
            }
        }
    });
}

/// How many tracked calls of this thread have deferred their span and not opened it yet: a
/// window on the mechanism for tests. Not public API.
#[doc(hidden)]
#[must_use]
pub fn pending_calls() -> usize {
    PENDING.get()
}
