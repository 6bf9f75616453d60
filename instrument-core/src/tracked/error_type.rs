//! The `error_type` of a failed call: one name per kind of failure, the same on the metric
//! dimension and on the completion line's `error_type` and `error.type`.
//!
//! The rule, first match wins:
//!
//! 1. The error type implements [`ErrorType`] (by hand, or `#[derive(ErrorType)]`: the enum
//!    variant's name): what it says.
//! 2. The returned value decides its own outcome ([`TrackOutcome`](super::TrackOutcome), e.g.
//!    an HTTP status): the name it gives (`"500"`).
//! 3. The error is a `std::error::Error`, directly or behind `Box<dyn Error>`, `anyhow::Error`,
//!    `eyre::Report` (anything `AsRef<dyn Error>`): common standard-library errors by name
//!    (`std::io::Error`), otherwise the leading identifier of its `Debug` output, which for a
//!    derived `Debug` is the enum variant (`SoldOut`) or the struct's name (`Timeout`) of the
//!    *concrete* error, not of the box around it. An error with nothing to name (a boxed
//!    string, `anyhow!("...")`) is `Error`.
//! 4. Otherwise (`Result<T, String>`, …): the error type's short name (`String`).
//!
//! Values are bounded: variant and type names are finite, and past [`MAX_ERROR_NAMES`]
//! distinct names from rule 3 (a hand-written `Debug` that prints data) the rest are `other`.
//! The EMF layer bounds the `error_type` dimension again (`INSTRUMENT_MAX_ERROR_TYPES`).

use std::collections::HashSet;
use std::error::Error;
use std::fmt;
use std::sync::{Mutex, OnceLock, PoisonError};

/// Names a failure for the `error_type` metric dimension and log key: implement it (or derive
/// it, `#[derive(instrument::ErrorType)]`: each enum variant by its own name, a struct by the
/// type's name, `#[error_type = "..."]` on a variant or the type for another) to choose what a
/// dashboard's "errors by type" shows for your error type.
///
/// ```
/// use instrument_core::tracked::ErrorType;
///
/// // Group failures the way the alarms need them.
/// struct UpstreamError { status: u16 }
/// impl ErrorType for UpstreamError {
///     fn error_type(&self) -> &'static str {
///         if self.status >= 500 { "UpstreamDown" } else { "UpstreamRejected" }
///     }
/// }
/// assert_eq!(UpstreamError { status: 503 }.error_type(), "UpstreamDown");
/// ```
pub trait ErrorType {
    /// The name of this failure: a short, bounded identifier (one per kind of failure, never
    /// data such as an ID or a message).
    fn error_type(&self) -> &'static str;
}

impl<E: ErrorType + ?Sized> ErrorType for Box<E> {
    fn error_type(&self) -> &'static str {
        (**self).error_type()
    }
}

/// The most distinct names rule 3 of the [module documentation](self) hands out; later ones
/// are `other`.
pub const MAX_ERROR_NAMES: usize = 256;

/// Writes the name of `err` by rule 3 of the [module documentation](self), unquoted: known
/// standard-library errors by downcast, else the leading identifier of its `Debug` output,
/// else `Error`. The log layer's `error.type` and the tracked call's `error_type` both come
/// from here.
pub(crate) fn write_error_name(out: &mut Vec<u8>, err: &(dyn Error + 'static)) {
    macro_rules! known {
        ($($ty:ty => $name:literal),* $(,)?) => {
            $(if err.is::<$ty>() { return out.extend_from_slice($name.as_bytes()); })*
        };
    }
    known! {
        std::io::Error => "std::io::Error",
        std::fmt::Error => "std::fmt::Error",
        std::num::ParseIntError => "std::num::ParseIntError",
        std::num::ParseFloatError => "std::num::ParseFloatError",
        std::num::TryFromIntError => "std::num::TryFromIntError",
        std::str::Utf8Error => "std::str::Utf8Error",
        std::string::FromUtf8Error => "std::string::FromUtf8Error",
        std::str::ParseBoolError => "std::str::ParseBoolError",
        std::char::ParseCharError => "std::char::ParseCharError",
        std::time::SystemTimeError => "std::time::SystemTimeError",
        std::env::VarError => "std::env::VarError",
        std::net::AddrParseError => "std::net::AddrParseError",
    }
    let start = out.len();
    let _ = fmt::write(&mut LeadingIdent { out, start }, format_args!("{err:?}"));
    while out.len() > start && out.last() == Some(&b':') {
        out.pop();
    }
    if out.len() == start || out[start].is_ascii_digit() {
        out.truncate(start);
        out.extend_from_slice(b"Error");
    }
}

/// Keeps the leading identifier (`::`-separated) and stops the formatting at the first
/// other character, so a long `Debug` output is never formatted in full.
struct LeadingIdent<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
}
impl fmt::Write for LeadingIdent<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let ok = c == '_' || c.is_alphanumeric() || (c == ':' && self.out.len() > self.start);
            if !ok || self.out.len() - self.start >= MAX_NAME_BYTES {
                return Err(fmt::Error);
            }
            let mut tmp = [0u8; 4];
            self.out
                .extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }
        Ok(())
    }
}

/// The longest name rule 3 keeps (an identifier longer than this is cut).
const MAX_NAME_BYTES: usize = 64;

/// The name of `err` by rule 3, interned (bounded by [`MAX_ERROR_NAMES`]).
pub(crate) fn error_name(err: &(dyn Error + 'static)) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut name = Vec::with_capacity(32);
    write_error_name(&mut name, err);
    let name = String::from_utf8(name).unwrap_or_else(|_| "Error".to_string());
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name.as_str()) {
        return known;
    }
    if names.len() >= MAX_ERROR_NAMES {
        return "other";
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    names.insert(leaked);
    leaked
}

/// Wraps a reference to a call's return value to find an [`ErrorType`] name. Not public API.
#[doc(hidden)]
pub struct NameProbe<'a, T>(pub &'a T);

/// Rank 1: `Result<T, E: ErrorType>`. Not public API.
#[doc(hidden)]
pub trait ProbeErrorType {
    /// The error's own name, for an `Err`.
    fn __instrument_error_type(&self) -> Option<&'static str>;
}

/// Rank 2: anything else. Not public API.
#[doc(hidden)]
pub trait ProbeNoErrorType {
    /// `None`.
    fn __instrument_error_type(&self) -> Option<&'static str>;
}

impl<T, E: ErrorType> ProbeErrorType for &NameProbe<'_, Result<T, E>> {
    #[inline]
    fn __instrument_error_type(&self) -> Option<&'static str> {
        self.0.as_ref().err().map(ErrorType::error_type)
    }
}

impl<T> ProbeNoErrorType for NameProbe<'_, T> {
    #[inline]
    fn __instrument_error_type(&self) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)] // Read by the derived `Debug`, which names the variant.
    enum Booking {
        SoldOut,
        Payment { code: u16 },
    }
    impl fmt::Display for Booking {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("booking failed")
        }
    }
    impl Error for Booking {}

    #[test]
    fn names_the_concrete_error_behind_any_box() {
        assert_eq!(error_name(&Booking::SoldOut), "SoldOut");
        assert_eq!(error_name(&Booking::Payment { code: 5 }), "Payment");
        let boxed: Box<dyn Error + Send + Sync> = Box::new(Booking::SoldOut);
        assert_eq!(error_name(boxed.as_ref()), "SoldOut");
        let message: Box<dyn Error + Send + Sync> = "no seats".into();
        assert_eq!(error_name(message.as_ref()), "Error");
        assert_eq!(error_name(&std::io::Error::other("x")), "std::io::Error");
        // Interned: the same string each time.
        assert!(std::ptr::eq(
            error_name(&Booking::SoldOut),
            error_name(&Booking::SoldOut)
        ));
    }

    #[test]
    fn a_data_printing_debug_is_cut_and_bounded() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Wordy(u8);
        impl fmt::Display for Wordy {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("wordy")
            }
        }
        impl Error for Wordy {}
        struct Long;
        impl fmt::Debug for Long {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&"a".repeat(500))
            }
        }
        impl fmt::Display for Long {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("long")
            }
        }
        impl Error for Long {}
        assert_eq!(error_name(&Wordy(3)), "Wordy");
        assert_eq!(error_name(&Long).len(), MAX_NAME_BYTES);
    }
}
