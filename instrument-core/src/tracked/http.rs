//! How a tracked function that returns an HTTP status or response ended (feature `http`):
//! a 5xx status is a failure named by its code (`error_type` `"503"`); a 4xx status is the
//! client's mistake, a success, unless [`set_client_errors_fail`] (the setting
//! `INSTRUMENT_HTTP_CLIENT_ERRORS`) makes it a failure too. Everything else is a success.
//!
//! ```
//! use http::StatusCode;
//! use instrument_core::tracked::{Outcome, TrackOutcome};
//! assert_eq!(StatusCode::SERVICE_UNAVAILABLE.track_outcome().error_type(), Some("503"));
//! assert_eq!(StatusCode::NOT_FOUND.track_outcome().kind(), Outcome::Success);
//! let response = http::Response::builder().status(500).body(()).unwrap();
//! assert_eq!(response.track_outcome().kind(), Outcome::Error);
//! assert_eq!((StatusCode::BAD_GATEWAY, "upstream down").track_outcome().error_type(), Some("502"));
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use http::StatusCode;

use super::{Classified, TrackOutcome};

static CLIENT_ERRORS_FAIL: AtomicBool = AtomicBool::new(false);

/// Whether a 4xx status makes a tracked call a failure, for the whole process (the facade sets
/// it from `INSTRUMENT_HTTP_CLIENT_ERRORS` when it builds the pipeline).
pub fn set_client_errors_fail(fail: bool) {
    CLIENT_ERRORS_FAIL.store(fail, Ordering::Relaxed);
}

/// The outcome of a call that answered `status`.
#[must_use]
pub fn status_outcome(status: StatusCode) -> Classified<'static> {
    let fails = status.is_server_error()
        || (status.is_client_error() && CLIENT_ERRORS_FAIL.load(Ordering::Relaxed));
    if fails {
        Classified::error(code_name(status))
    } else {
        Classified::success()
    }
}

/// `"404"` for 404: the three digits as a `'static` string (100 to 999).
fn code_name(status: StatusCode) -> &'static str {
    static NAMES: OnceLock<Box<[Box<str>]>> = OnceLock::new();
    let names = NAMES.get_or_init(|| (100..1000).map(|c: u16| c.to_string().into()).collect());
    names
        .get(usize::from(status.as_u16()).wrapping_sub(100))
        .map_or("Error", |name| name)
}

impl TrackOutcome for StatusCode {
    fn track_outcome(&self) -> Classified<'_> {
        status_outcome(*self)
    }
}

impl<B> TrackOutcome for http::Response<B> {
    fn track_outcome(&self) -> Classified<'_> {
        status_outcome(self.status())
    }
}

impl TrackOutcome for http::response::Parts {
    fn track_outcome(&self) -> Classified<'_> {
        status_outcome(self.status)
    }
}

impl<T> TrackOutcome for (StatusCode, T) {
    fn track_outcome(&self) -> Classified<'_> {
        status_outcome(self.0)
    }
}

impl<T1, T2> TrackOutcome for (StatusCode, T1, T2) {
    fn track_outcome(&self) -> Classified<'_> {
        status_outcome(self.0)
    }
}

impl<T1, T2, T3> TrackOutcome for (StatusCode, T1, T2, T3) {
    fn track_outcome(&self) -> Classified<'_> {
        status_outcome(self.0)
    }
}
