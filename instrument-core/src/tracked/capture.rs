//! What a deferred call keeps of its arguments: copies of the recorded ones, and how to
//! render them into the span's field values when (and each time) the span is needed.
//!
//! The arguments recorded by default ([`RecordedArg`](super::args::RecordedArg): numbers and
//! booleans) are all `Copy` and recorded as their value, so they are copied here and the body
//! may still move or mutate its arguments; the others are not recorded and need nothing kept.
//! A call that records more (`fields(...)`, formatted when the span opens) opens its span at the
//! start instead.
#![allow(clippy::module_name_repetitions)]

use tracing::field::{Field, Value, ValueSet};
use tracing::Metadata;

use super::args::RecordedArg;

/// Wraps a reference to an argument to copy it into a frame. Not public API.
///
/// `(&&CopyProbe(&arg)).__instrument_capture()` with [`CaptureValue`] and [`CaptureNone`] in
/// scope is a [`Copied`] when the argument is recorded ([`RecordedArg`]), and a [`NotCopied`]
/// otherwise: an argument that is not recorded, which a deferred call has no need to keep.
#[doc(hidden)]
pub struct CopyProbe<'a, T: ?Sized>(pub &'a T);

/// Rank 1 of [`CopyProbe`]: recorded arguments.
#[doc(hidden)]
pub trait CaptureValue {
    /// The copy.
    type Captured;
    /// Copies the argument.
    fn __instrument_capture(&self) -> Self::Captured;
}

/// Rank 2 of [`CopyProbe`]: anything else.
#[doc(hidden)]
pub trait CaptureNone {
    /// Nothing.
    fn __instrument_capture(&self) -> NotCopied;
}

impl<T: Copy + RecordedArg> CaptureValue for &CopyProbe<'_, T> {
    type Captured = Copied<T>;
    #[inline]
    fn __instrument_capture(&self) -> Copied<T> {
        Copied(*self.0)
    }
}

impl<T: ?Sized> CaptureNone for CopyProbe<'_, T> {
    #[inline]
    fn __instrument_capture(&self) -> NotCopied {
        NotCopied
    }
}

/// A copied argument. Not public API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Copied<T>(T);

/// An argument that is not recorded, so nothing of it is kept. Not public API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct NotCopied;

/// What the expansion reads from a captured argument. Not public API.
#[doc(hidden)]
pub trait Captured {
    /// The argument's type (or `NotCopied`).
    type Target: ?Sized;
    /// Whether what the span needs of the argument was kept (a copy, or nothing for an
    /// argument that is not recorded).
    fn copied(&self) -> bool;
    /// The copy, to record (for [`NotCopied`], itself: recorded as nothing).
    fn get(&self) -> &Self::Target;
}

impl<T> Captured for Copied<T> {
    type Target = T;
    #[inline]
    fn copied(&self) -> bool {
        true
    }
    #[inline]
    fn get(&self) -> &T {
        &self.0
    }
}

impl Captured for NotCopied {
    type Target = NotCopied;
    #[inline]
    fn copied(&self) -> bool {
        true
    }
    #[inline]
    fn get(&self) -> &NotCopied {
        self
    }
}

/// The field values of a deferred call, rendered when (and each time) the span is needed. Not
/// public API.
#[doc(hidden)]
pub trait Fields {
    /// Whether every argument was copied (the call may be deferred).
    fn complete(&self) -> bool;
    /// Calls `f` with the span's values (`function` the `function` field's).
    fn with_values(&self, function: &'static str, f: &mut dyn FnMut(&ValueSet<'_>));
}

/// [`Fields`] from the expansion: the captured arguments and the closure that renders them.
/// Not public API.
#[doc(hidden)]
pub struct Deferred<C, F> {
    captured: C,
    complete: bool,
    render: F,
}

impl<C, F> Deferred<C, F>
where
    F: Fn(&C, &'static str, &mut dyn FnMut(&ValueSet<'_>)),
{
    /// `captured` (a tuple of [`Captured`]), `complete` (all of them copied) and how to render
    /// them.
    #[inline]
    pub fn new(captured: C, complete: bool, render: F) -> Self {
        Deferred {
            captured,
            complete,
            render,
        }
    }
}

impl<C, F> Fields for Deferred<C, F>
where
    F: Fn(&C, &'static str, &mut dyn FnMut(&ValueSet<'_>)),
{
    #[inline]
    fn complete(&self) -> bool {
        self.complete
    }

    fn with_values(&self, function: &'static str, f: &mut dyn FnMut(&ValueSet<'_>)) {
        (self.render)(&self.captured, function, f);
    }
}

/// Builds the `ValueSet` of `meta` from `values` (one per field, in order) and calls `f` with
/// it. Not public API.
#[doc(hidden)]
#[inline]
pub fn value_set<const N: usize>(
    meta: &'static Metadata<'static>,
    values: [Option<&dyn Value>; N],
    f: &mut dyn FnMut(&ValueSet<'_>),
) {
    let fields = meta.fields();
    let mut iter = fields.iter();
    let handles: [Field; N] = std::array::from_fn(|_| {
        iter.next()
            .expect("the expansion gives one value per field")
    });
    let pairs: [(&Field, Option<&dyn Value>); N] =
        std::array::from_fn(|i| (&handles[i], values[i]));
    f(&fields.value_set(&pairs));
}
