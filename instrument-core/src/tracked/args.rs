//! Recording arguments as span fields, by type, with autoref specialization.
//!
//! The expansion records each argument as `(&&&ArgProbe(&arg)).__instrument_arg()` with the
//! traits in scope:
//!
//! | rank | argument type | recorded as |
//! |---|---|---|
//! | 1 | implements `tracing::Value` (integers, floats, `bool`, `str`, `String`, …) | the value itself (a JSON number, string, …) |
//! | 2 | implements `Debug` | its `Debug` text |
//! | 3 | anything else | not recorded |
//!
//! Unlike `#[tracing::instrument]`, an argument whose type does not implement `Debug` is not a
//! compile error: it is left out.

use std::fmt::Debug;

use tracing::field::{DebugValue, Empty, Value};

/// Wraps a reference to an argument for recording. Not public API.
#[doc(hidden)]
pub struct ArgProbe<'a, T: ?Sized>(pub &'a T);

/// Rank 1: arguments that are `tracing` values.
#[doc(hidden)]
pub trait ArgValue {
    /// What is recorded.
    type Recorded;
    /// The field value.
    fn __instrument_arg(&self) -> Self::Recorded;
}

/// Rank 2: `Debug` arguments.
#[doc(hidden)]
pub trait ArgDebug {
    /// What is recorded.
    type Recorded;
    /// The field value.
    fn __instrument_arg(&self) -> Self::Recorded;
}

/// Rank 3: anything else, not recorded.
#[doc(hidden)]
pub trait ArgSkip {
    /// The field value.
    fn __instrument_arg(&self) -> Empty;
}

impl<'a, T: Value + ?Sized> ArgValue for &&ArgProbe<'a, T> {
    type Recorded = &'a T;
    #[inline]
    fn __instrument_arg(&self) -> &'a T {
        self.0
    }
}

impl<'a, T: Debug + ?Sized> ArgDebug for &ArgProbe<'a, T> {
    type Recorded = DebugValue<&'a T>;
    #[inline]
    fn __instrument_arg(&self) -> DebugValue<&'a T> {
        tracing::field::debug(self.0)
    }
}

impl<T: ?Sized> ArgSkip for ArgProbe<'_, T> {
    #[inline]
    fn __instrument_arg(&self) -> Empty {
        Empty
    }
}
