//! What a deferred call keeps of its arguments: copies of the `Copy` ones, and how to render
//! them into the span's field values when (and each time) the span is needed.
//!
//! A call takes the deferred path only when every recorded argument is a `Copy` value
//! recorded as such (numbers, `bool`, `&str`, …): copied here, so the body may still move or
//! mutate its arguments. An argument recorded through `Debug` would be formatted late; such a
//! call opens its span at the start instead.
#![allow(clippy::module_name_repetitions)]

use tracing::field::{Field, Value, ValueSet};
use tracing::Metadata;

/// Wraps a reference to an argument to copy it into a frame. Not public API.
///
/// `(&&CopyProbe(&arg)).__instrument_capture()` with [`CaptureValue`] and [`CaptureNone`] in
/// scope is a [`Copied`] when the argument is `Copy` and recorded as a `tracing` value
/// (integers, floats, `bool`, `&str`, references to those, …), and a [`NotCopied`] otherwise
/// (including generic types not bound that way). Only those: an argument recorded through
/// `Debug` is formatted when the span opens, which for a reference (`&Cell`, `&Mutex`, …) could
/// show a later value than the call started with, or block; such a call opens its span at the
/// start instead.
#[doc(hidden)]
pub struct CopyProbe<'a, T: ?Sized>(pub &'a T);

/// Rank 1 of [`CopyProbe`]: `Copy` arguments recorded as values ([`Snapshot`]s).
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

/// Values whose recording is their value, fixed when copied: numbers, `bool`, `str`, and
/// references to those. Not `fmt::Arguments`, `&dyn Error`, `DisplayValue` or `DebugValue`:
/// `Copy` and recorded through `tracing::Value` too, but formatted when recorded, so a copy
/// could show a later state than the call started with. Not public API.
#[doc(hidden)]
pub trait Snapshot {}

macro_rules! snapshot {
    ($($t:ty),*) => { $(impl Snapshot for $t {})* };
}
snapshot!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, str);
impl<T: Snapshot + ?Sized> Snapshot for &T {}

impl<T: Copy + Value + Snapshot> CaptureValue for &CopyProbe<'_, T> {
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

/// An argument that could not be copied: its call opens its span at the start. Not public API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct NotCopied;

/// What the expansion reads from a captured argument. Not public API.
#[doc(hidden)]
pub trait Captured {
    /// The argument's type (or `NotCopied`).
    type Target: ?Sized;
    /// Whether the argument was copied.
    fn copied(&self) -> bool;
    /// The copy, to record (for [`NotCopied`], itself: recorded as nothing, never used).
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
        false
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
