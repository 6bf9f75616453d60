//! Classifying a call's return value, by type, with autoref specialization.
//!
//! The expansion calls `(&&&&&&&&Probe(&result)).__instrument_outcome()` with the probe traits
//! in scope. Method resolution picks the impl reached with the fewest auto-derefs, so the most
//! specific impl that applies to the *type* of `result` wins:
//!
//! | rank | type | outcome |
//! |---|---|---|
//! | 0 | `T: TrackOutcome` (an HTTP status or response, your own types) | what it says |
//! | 1 | `Result<T, E>`, `E: Error + 'static` | error on `Err(e)`, `e` as `&dyn Error` |
//! | 2 | `Result<T, E>`, `E: AsRef<dyn Error + Send + Sync>` (`anyhow::Error`, `Box<dyn Error + Send + Sync>`, `eyre::Report`) | error, `e.as_ref()` |
//! | 3 | `Result<T, E>`, `E: AsRef<dyn Error>` (`Box<dyn Error>`) | error, `e.as_ref()` |
//! | 4 | `Result<T, E>`, `E: Display` (`String`, `&str`) | error, message via `Display` |
//! | 5 | `Result<T, E>`, `E: Debug` | error, message via `Debug` |
//! | 6 | `Result<T, E>` | error |
//! | 7 | anything else | success |
//!
//! Two more probes refine it, each by type in the same way: an `Ok(value)` whose type is
//! `TrackOutcome` takes the value's outcome ([`OkProbe`]: `Result<Response, E>` returning a 500
//! is a failure), and an `Err(e)` whose type is [`ErrorType`](super::ErrorType) names itself
//! ([`NameProbe`](super::NameProbe)). The failure's `error_type` follows the rule of
//! [`error_type`](super::error_type).
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

/// How a tracked call ended, as its return value says: built by the probes of the expansion,
/// or by your [`TrackOutcome`] implementation.
#[derive(Clone, Copy)]
pub struct Classified<'a> {
    pub(crate) kind: Outcome,
    /// The name an [`ErrorType`](super::ErrorType) or [`TrackOutcome`] gave the failure.
    pub(crate) name: Option<&'static str>,
    /// `std::any::type_name` of the error type.
    pub(crate) type_name: Option<&'static str>,
    pub(crate) detail: Detail<'a>,
}

impl<'a> Classified<'a> {
    /// A success.
    pub const SUCCESS: Classified<'static> = Classified {
        kind: Outcome::Success,
        name: None,
        type_name: None,
        detail: Detail::None,
    };

    /// A success.
    ///
    /// ```
    /// use instrument_core::tracked::{Classified, Outcome};
    /// assert_eq!(Classified::success().kind(), Outcome::Success);
    /// ```
    #[must_use]
    pub const fn success() -> Classified<'static> {
        Classified::SUCCESS
    }

    /// A failure named `error_type` (the `error_type` dimension and log key: a short, bounded
    /// name such as `"500"` or `"SoldOut"`, never data).
    ///
    /// ```
    /// use instrument_core::tracked::{Classified, Outcome};
    /// let failed = Classified::error("UpstreamDown");
    /// assert_eq!(failed.kind(), Outcome::Error);
    /// assert_eq!(failed.error_type(), Some("UpstreamDown"));
    /// ```
    #[must_use]
    pub const fn error(error_type: &'static str) -> Classified<'static> {
        Classified {
            kind: Outcome::Error,
            name: Some(error_type),
            type_name: None,
            detail: Detail::None,
        }
    }

    /// This failure with the error its completion line shows as `error` (type, message,
    /// source chain).
    #[must_use]
    pub fn with_error(self, error: &'a (dyn Error + 'static)) -> Classified<'a> {
        Classified {
            detail: Detail::Error(error),
            ..self
        }
    }

    /// This failure with a message its completion line shows as `error_message`.
    #[must_use]
    pub fn with_message(self, message: &'a dyn Display) -> Classified<'a> {
        Classified {
            detail: Detail::Display(message),
            ..self
        }
    }

    fn by_type<E: ?Sized>(detail: Detail<'_>) -> Classified<'_> {
        Classified {
            kind: Outcome::Error,
            name: None,
            type_name: Some(std::any::type_name::<E>()),
            detail,
        }
    }

    /// How the call ended.
    #[must_use]
    pub fn kind(&self) -> Outcome {
        self.kind
    }

    /// The failure's `error_type` (`None` for a success), by the rule of
    /// [`error_type`](super::error_type).
    #[must_use]
    pub fn error_type(&self) -> Option<&'static str> {
        if self.kind != Outcome::Error {
            return None;
        }
        if let Some(name) = self.name {
            return Some(name);
        }
        Some(match (self.detail, self.type_name) {
            (Detail::Error(e), _) => super::error_type::error_name(e),
            (_, Some(type_name)) => super::names::short_type_name(type_name),
            (_, None) => "Error",
        })
    }

    /// The outcome of `Ok(value)`'s value, for a `Result` whose `Ok` type decides its own
    /// ([`TrackOutcome`]). Not public API.
    #[doc(hidden)]
    #[inline]
    #[must_use]
    pub fn or_ok(self, ok: Option<Classified<'a>>) -> Classified<'a> {
        match ok {
            Some(ok) if self.kind == Outcome::Success => ok,
            _ => self,
        }
    }

    /// The name the error type gives itself ([`ErrorType`](super::ErrorType)). Not public API.
    #[doc(hidden)]
    #[inline]
    #[must_use]
    pub fn named(mut self, name: Option<&'static str>) -> Classified<'a> {
        if self.kind == Outcome::Error && name.is_some() {
            self.name = name;
        }
        self
    }
}

/// Decides how a tracked call ended from the value it returned, for return types that are not
/// a `Result` or whose `Ok` value can still be a failure (an HTTP response with status 500).
/// Implemented for `http` types under the facade's feature `http`; implement it for your own.
///
/// `#[track_performance]` uses it for a function returning `T: TrackOutcome`, and for
/// `Result<T, E>` with `T: TrackOutcome` when it returns `Ok` (an `Err` is a failure as
/// always). It is chosen by the *declared* type: a function returning `impl IntoResponse`
/// hides it, so return the concrete type.
///
/// ```
/// use instrument_core::tracked::{Classified, TrackOutcome};
///
/// enum Reply { Done, Rejected, Failed(&'static str) }
/// impl TrackOutcome for Reply {
///     fn track_outcome(&self) -> Classified<'_> {
///         match self {
///             Reply::Done | Reply::Rejected => Classified::success(),
///             Reply::Failed(_) => Classified::error("ReplyFailed"),
///         }
///     }
/// }
/// assert_eq!(Reply::Failed("x").track_outcome().error_type(), Some("ReplyFailed"));
/// ```
pub trait TrackOutcome {
    /// How a call that returned `self` ended.
    fn track_outcome(&self) -> Classified<'_>;
}

/// Wraps a reference to a call's return value to ask its `Ok` value's [`TrackOutcome`]. Not
/// public API.
#[doc(hidden)]
pub struct OkProbe<'a, T>(pub &'a T);

/// Rank 1: `Result<T: TrackOutcome, E>`. Not public API.
#[doc(hidden)]
pub trait ProbeOkOutcome<'a> {
    /// The `Ok` value's outcome.
    fn __instrument_ok_outcome(&self) -> Option<Classified<'a>>;
}

/// Rank 2: anything else. Not public API.
#[doc(hidden)]
pub trait ProbeOkOther<'a> {
    /// `None`.
    fn __instrument_ok_outcome(&self) -> Option<Classified<'a>>;
}

impl<'a, T: TrackOutcome, E> ProbeOkOutcome<'a> for &OkProbe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_ok_outcome(&self) -> Option<Classified<'a>> {
        self.0.as_ref().ok().map(TrackOutcome::track_outcome)
    }
}

impl<'a, T> ProbeOkOther<'a> for OkProbe<'a, T> {
    #[inline]
    fn __instrument_ok_outcome(&self) -> Option<Classified<'a>> {
        None
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
    /// Rank 0: a type that decides its own outcome ([`TrackOutcome`]).
    ProbeTrackOutcome,
);
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

impl<'a, T: TrackOutcome> ProbeTrackOutcome<'a> for &&&&&&&Probe<'a, T> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        self.0.track_outcome()
    }
}

impl<'a, T, E: Error + 'static> ProbeStdError<'a> for &&&&&&Probe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => Classified::by_type::<E>(Detail::Error(e)),
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
                Classified::by_type::<E>(Detail::Error(err))
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
            Err(e) => Classified::by_type::<E>(Detail::Error(e.as_ref())),
        }
    }
}

impl<'a, T, E: Display> ProbeDisplayError<'a> for &&&Probe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => Classified::by_type::<E>(Detail::Display(e)),
        }
    }
}

impl<'a, T, E: Debug> ProbeDebugError<'a> for &&Probe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(e) => Classified::by_type::<E>(Detail::Debug(e)),
        }
    }
}

impl<'a, T, E> ProbeAnyError<'a> for &Probe<'a, Result<T, E>> {
    #[inline]
    fn __instrument_outcome(&self) -> Classified<'a> {
        match self.0 {
            Ok(_) => Classified::SUCCESS,
            Err(_) => Classified::by_type::<E>(Detail::None),
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
            use super::super::error_type::{NameProbe, ProbeErrorType as _, ProbeNoErrorType as _};
            #[allow(unused_imports)]
            use super::{
                ProbeAnyError as _, ProbeAsDynError as _, ProbeAsDynSendError as _,
                ProbeDebugError as _, ProbeDisplayError as _, ProbeNotResult as _,
                ProbeStdError as _,
            };
            #[allow(unused_imports)]
            use super::{ProbeOkOther as _, ProbeOkOutcome as _, ProbeTrackOutcome as _};
            let value = $value;
            let outcome = (&&&&&&&&Probe(&value))
                .__instrument_outcome()
                .or_ok((&&OkProbe(&value)).__instrument_ok_outcome())
                .named((&&NameProbe(&value)).__instrument_error_type());
            let detail = match outcome.detail {
                Detail::None => "none",
                Detail::Error(_) => "error",
                Detail::Display(_) => "display",
                Detail::Debug(_) => "debug",
            };
            (
                outcome.kind,
                outcome.type_name,
                detail,
                outcome.error_type(),
            )
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
        assert_eq!(classify!(3_u8), (Outcome::Success, None, "none", None));
        assert_eq!(classify!(Ok::<u8, Failure>(1)).0, Outcome::Success);
        let io: Alias<()> = Err(std::io::Error::other("x"));
        let (kind, ty, detail, name) = classify!(io);
        assert_eq!(kind, Outcome::Error);
        assert_eq!(ty, Some("std::io::error::Error"));
        assert_eq!(detail, "error");
        assert_eq!(name, Some("std::io::Error"));
        let boxed: Result<(), Box<dyn Error + Send + Sync>> = Err("x".into());
        assert_eq!(classify!(boxed).2, "error");
        let boxed: Result<(), Box<dyn Error>> = Err("x".into());
        assert_eq!(classify!(boxed).2, "error");
        assert_eq!(classify!(Err::<(), _>(String::from("x"))).2, "display");
        assert_eq!(classify!(Err::<(), _>(Plain)).2, "debug");
        let (kind, _, detail, _) = classify!(Err::<(), _>(Opaque));
        assert_eq!((kind, detail), (Outcome::Error, "none"));
        assert_eq!(classify!(Err::<(), _>(Failure)).2, "error");
    }

    #[derive(Debug)]
    #[allow(dead_code)] // Read by the derived `Debug`, which names the variant.
    enum Booking {
        SoldOut,
        Payment(u16),
    }
    impl fmt::Display for Booking {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("booking failed")
        }
    }
    impl Error for Booking {}

    #[derive(Debug)]
    struct Named;
    impl crate::tracked::ErrorType for Named {
        fn error_type(&self) -> &'static str {
            "Chosen"
        }
    }

    struct Status(u16);
    impl TrackOutcome for Status {
        fn track_outcome(&self) -> Classified<'_> {
            if self.0 >= 500 {
                Classified::error("5xx")
            } else {
                Classified::success()
            }
        }
    }

    #[test]
    fn names_what_went_wrong() {
        let name = |c: (Outcome, Option<&str>, &str, Option<&'static str>)| c.3;
        assert_eq!(
            name(classify!(Err::<(), _>(Booking::SoldOut))),
            Some("SoldOut")
        );
        assert_eq!(
            name(classify!(Err::<(), _>(Booking::Payment(3)))),
            Some("Payment")
        );
        let boxed: Result<(), Box<dyn Error + Send + Sync>> = Err(Box::new(Booking::SoldOut));
        assert_eq!(
            name(classify!(boxed)),
            Some("SoldOut"),
            "the concrete error"
        );
        let boxed: Result<(), Box<dyn Error>> = Err(Box::new(Booking::Payment(1)));
        assert_eq!(name(classify!(boxed)), Some("Payment"));
        let message: Result<(), Box<dyn Error + Send + Sync>> = Err("no seats".into());
        assert_eq!(name(classify!(message)), Some("Error"));
        assert_eq!(
            name(classify!(Err::<(), _>(String::from("x")))),
            Some("String")
        );
        assert_eq!(name(classify!(Err::<(), _>(Named))), Some("Chosen"));
        assert_eq!(name(classify!(Ok::<u8, Named>(1))), None);
    }

    #[test]
    fn a_returned_value_decides_its_own_outcome() {
        assert_eq!(classify!(Status(503)).0, Outcome::Error);
        assert_eq!(classify!(Status(503)).3, Some("5xx"));
        assert_eq!(classify!(Status(404)).0, Outcome::Success);
        assert_eq!(classify!(Ok::<_, Booking>(Status(500))).3, Some("5xx"));
        assert_eq!(classify!(Ok::<_, Booking>(Status(200))).0, Outcome::Success);
        assert_eq!(
            classify!(Err::<Status, _>(Booking::SoldOut)).3,
            Some("SoldOut")
        );
    }
}
