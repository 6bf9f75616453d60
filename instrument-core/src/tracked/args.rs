//! Recording arguments as span fields, by type, with autoref specialization.
//!
//! Only numbers and booleans are recorded by default: a string or a structure passed to a
//! tracked function is often a payload (a prompt, a request body, an email address), and a span
//! field is copied into every line logged inside the call. To record one, ask for it by name:
//! `fields(prompt = %prompt)`, `fields(request = ?request)`.
//!
//! The expansion records each argument as `(&&&ArgProbe(&arg)).__instrument_arg()` with the
//! traits in scope:
//!
//! | rank | argument type | recorded as |
//! |---|---|---|
//! | 1 | [`RecordedArg`]: integers, floats, `bool`, and references to them | the value itself (a JSON number or boolean) |
//! | 2 | anything else (`&str`, `String`, structures, …) | not recorded |
//!
//! Unlike `#[tracing::instrument]`, an argument whose type does not implement `Debug` is not a
//! compile error: it is left out, as every non-scalar argument is.

use tracing::field::{Empty, Value};

/// The argument types recorded by default: values whose recording is the value itself, fixed
/// when the call starts and never a payload. Integers, floats, `bool`, and references to them.
/// Not public API (the set is the documented default, not an extension point).
#[doc(hidden)]
pub trait RecordedArg: Value {}

macro_rules! recorded_arg {
    ($($t:ty),*) => { $(impl RecordedArg for $t {})* };
}
recorded_arg!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool);
impl<T: RecordedArg + ?Sized> RecordedArg for &T {}

/// Wraps a reference to an argument for recording. Not public API.
#[doc(hidden)]
pub struct ArgProbe<'a, T: ?Sized>(pub &'a T);

/// Rank 1: arguments recorded by default ([`RecordedArg`]).
#[doc(hidden)]
pub trait ArgValue {
    /// What is recorded.
    type Recorded;
    /// The field value.
    fn __instrument_arg(&self) -> Self::Recorded;
}

/// Rank 2: anything else, not recorded.
#[doc(hidden)]
pub trait ArgSkip {
    /// The field value.
    fn __instrument_arg(&self) -> Empty;
}

impl<'a, T: RecordedArg + ?Sized> ArgValue for &&ArgProbe<'a, T> {
    type Recorded = &'a T;
    #[inline]
    fn __instrument_arg(&self) -> &'a T {
        self.0
    }
}

impl<T: ?Sized> ArgSkip for ArgProbe<'_, T> {
    #[inline]
    fn __instrument_arg(&self) -> Empty {
        Empty
    }
}
