/// How a tracked call ended: the value of the span's `outcome` field.
///
/// ```
/// use instrument_vocab::Outcome;
/// assert_eq!(Outcome::Success.as_str(), "success");
/// assert!(Outcome::Panic.is_error());
/// assert!(!Outcome::Cancelled.is_error());
/// assert_eq!(Outcome::parse("cancelled"), Some(Outcome::Cancelled));
/// assert_eq!(Outcome::parse("maybe"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call returned, and not an `Err`.
    Success,
    /// The call returned `Err(_)`.
    Error,
    /// The call panicked (counted as an error; the panic goes on unwinding).
    Panic,
    /// The call's future was dropped before it completed (neither a success nor an error).
    Cancelled,
}

impl Outcome {
    /// `"success"`, `"error"`, `"panic"` or `"cancelled"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Error => "error",
            Outcome::Panic => "panic",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// Whether the call counts as an error (`error` and `panic`).
    #[must_use]
    pub const fn is_error(self) -> bool {
        matches!(self, Outcome::Error | Outcome::Panic)
    }

    /// The outcome an `outcome` field's value names: [`as_str`](Outcome::as_str)'s words, and
    /// the spellings hand-written spans use (`ok`, `err`, `canceled`).
    #[must_use]
    pub fn parse(value: &str) -> Option<Outcome> {
        match value {
            "success" | "ok" => Some(Outcome::Success),
            "error" | "err" => Some(Outcome::Error),
            "panic" => Some(Outcome::Panic),
            "cancelled" | "canceled" => Some(Outcome::Cancelled),
            _ => None,
        }
    }
}
