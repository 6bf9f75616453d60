//! Classifying a call's return value, by type, with autoref specialization.
//!
//! The expansion calls `(&&&&&&&Probe(&result)).__instrument_outcome()` with the probe traits in
//! scope. Method resolution picks the impl reached with the fewest auto-derefs, so the most
//! specific impl that applies to the *type* of `result` wins:
//!
//! | rank | type | outcome on `Err(e)` |
//! |---|---|---|
//! | 1 | `Result<T, E>`, `E: Error + 'static` | error, `e` as `&dyn Error` |
//! | 2 | `Result<T, E>`, `E: AsRef<dyn Error + Send + Sync>` (`anyhow::Error`, `Box<dyn Error + Send + Sync>`, `eyre::Report`) | error, `e.as_ref()` |
//! | 3 | `Result<T, E>`, `E: AsRef<dyn Error>` (`Box<dyn Error>`) | error, `e.as_ref()` |
//! | 4 | `Result<T, E>`, `E: Display` (`String`, `&str`) | error, message via `Display` |
//! | 5 | `Result<T, E>`, `E: Debug` | error, message via `Debug` |
//! | 6 | `Result<T, E>` | error |
//! | 7 | anything else | success |
//!
//! Because the decision is made on the type, `io::Result<T>`, `anyhow::Result<T>` and any other
//! alias of `Result` are errors on `Err`, whatever they are called. Inside generic code the
//! decision uses what the bounds say: a `fn f<R>() -> R` is always a success.

use std::error::Error;
use std::fmt::{Debug, Display};

pub use instrument_vocab::Outcome;

/// What the error of a failed call offers to the completion log line.
#[derive(Clone, Copy)]
pub(crate) enum Detail<'a> {
    None,
    Error(&'a (dyn Error + 'static)),
    Display(&'a dyn Display),
    Debug(&'a dyn Debug),
}

/// A call's return value, classified. Built by the probe traits; not public API.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Classified<'a> {
    pub(crate) kind: Outcome,
    /// `std::any::type_name` of the error type.
    pub(crate) error_type: Option<&'static str>,
    pub(crate) detail: Detail<'a>,
}

impl Classified<'_> {
    /// A success.
    pub const SUCCESS: Classified<'static> = Classified {
        kind: Outcome::Success,
        error_type: None,
        detail: Detail::None,
    };

    fn error<E: ?Sized>(detail: Detail<'_>) -> Classified<'_> {
        Classified {
            kind: Outcome::Error,
            error_type: Some(std::any::type_name::<E>()),
            detail,
        }
    }

    /// How the call ended.
    #[must_use]
    pub fn kind(&self) -> Outcome {
        self.kind
    }
}

/// Wraps a reference to a call's return value for classification. Not public API.
#[doc(hidden)]
pub struct Probe<'a, T>(pub &'a T);

macro_rules! probe {
    ($(#[$doc:meta])* $trait:ident $(,)?) => {
        $(#[$doc])*
        #[doc(hidden)]
        pub trait $trait<'a> {
            /// Classifies the probed value.
            fn __instrument_outcome(&self) -> Classified<'a>;
        }
    };
}

probe!(
    /// Rank 1: `Result<T, E: Error + 'static>`.
    ProbeStdError,
);
probe!(
    /// Rank 2: `Result<T, E: AsRef<dyn Error + Send + Sync>>`.
    ProbeAsDynSendError,
);
probe!(
    /// Rank 3: `Result<T, E: AsRef<dyn Error>>`.
    ProbeAsDynError,
);
probe!(
    /// Rank 4: `Result<T, E: Display>`.
    ProbeDisplayError,
);
probe!(
    /// Rank 5: `Result<T, E: Debug>`.
    ProbeDebugError,
);
probe!(
    /// Rank 6: any `Result<T, E>`.
    ProbeAnyError,
);
probe!(
    /// Rank 7: anything else.
    ProbeNotResult,
);

impl<'a, T, E: Error + 'static> ProbeStdError<'a> for &&&&&&Probe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => Classified::error::<E>(Detail::Error(e)),
        }
    }
}

impl<'a, T, E> ProbeAsDynSendError<'a> for &&&&&Probe<'a, Result<T, E>>
where
    E: AsRef<dyn Error + Send + Sync + 'static>,
{
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => {
                let err: &'a (dyn Error + Send + Sync + 'static) = e.as_ref();
                Classified::error::<E>(Detail::Error(err))
            }
        }
    }
}

impl<'a, T, E> ProbeAsDynError<'a> for &&&&Probe<'a, Result<T, E>>
where
    E: AsRef<dyn Error + 'static>,
{
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => Classified::error::<E>(Detail::Error(e.as_ref())),
        }
    }
}

impl<'a, T, E: Display> ProbeDisplayError<'a> for &&&Probe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => Classified::error::<E>(Detail::Display(e)),
        }
    }
}

impl<'a, T, E: Debug> ProbeDebugError<'a> for &&Probe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => Classified::error::<E>(Detail::Debug(e)),
        }
    }
}

impl<'a, T, E> ProbeAnyError<'a> for &Probe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(_) => Classified::error::<E>(Detail::None),
        }
    }
}

impl<'a, T> ProbeNotResult<'a> for Probe<'a, T> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        Classified::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    macro_rules! classify {
        ($value:expr) => {{
            #[allow(unused_imports)]
            use super::{
                ProbeAnyError as _, ProbeAsDynError as _, ProbeAsDynSendError as _,
                ProbeDebugError as _, ProbeDisplayError as _, ProbeNotResult as _,
                ProbeStdError as _,
            };
            let value = $value;
            let outcome = (&&&&&&&Probe(&value)).__instrument_outcome();
            let detail = match outcome.detail {
                Detail::None => "none",
                Detail::Error(_) => "error",
                Detail::Display(_) => "display",
                Detail::Debug(_) => "debug",
            };
            (outcome.kind, outcome.error_type, detail)
        }};
    }

    #[derive(Debug)]
    struct Plain;

    struct Opaque;

    #[derive(Debug)]
    struct Failure;
    impl fmt::Display for Failure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("failure")
        }
    }
    impl Error for Failure {}

    type Alias<T> = std::io::Result<T>;

    #[test]
    fn classifies_by_type() {
        assert_eq!(classify!(3_u8), (Outcome::Success, None, "none"));
        assert_eq!(classify!(Ok::<u8, Failure>(1)).0, Outcome::Success);
        let io: Alias<()> = Err(std::io::Error::other("x"));
        let (kind, ty, detail) = classify!(io);
        assert_eq!(kind, Outcome::Error);
        assert_eq!(ty, Some("std::io::error::Error"));
        assert_eq!(detail, "error");
        let boxed: Result<(), Box<dyn Error + Send + Sync>> = Err("x".into());
        assert_eq!(classify!(boxed).2, "error");
        let boxed: Result<(), Box<dyn Error>> = Err("x".into());
        assert_eq!(classify!(boxed).2, "error");
        assert_eq!(classify!(Err::<(), _>(String::from("x"))).2, "display");
        assert_eq!(classify!(Err::<(), _>(Plain)).2, "debug");
        let (kind, _, detail) = classify!(Err::<(), _>(Opaque));
        assert_eq!((kind, detail), (Outcome::Error, "none"));
        assert_eq!(classify!(Err::<(), _>(Failure)).2, "error");
    }
}
