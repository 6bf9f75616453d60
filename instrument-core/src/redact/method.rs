//! How a match is rewritten: replaced, masked or hashed.

use serde::{Deserialize, Serialize};

/// How a match is rewritten.
///
/// In configuration files: `"replace"`, `"hash"`, or `{ "mask": { "keep": 4 } }`.
///
/// ```
/// use instrument_core::redact::{Method, RedactConfig, Redactor};
///
/// let config = RedactConfig::default().method("card", Method::mask(4));
/// let redactor = Redactor::new(&config).unwrap();
/// assert_eq!(redactor.redact("card 4111 1111 1111 1111 ok"), "card **** **** **** 1111 ok");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Replace the match with `[REDACTED:<rule>]`.
    #[default]
    Replace,
    /// Replace every letter and digit with `*` except the last `keep` ones; separators stay.
    /// A value with no more than `2 × keep` letters and digits is masked completely, so a mask
    /// never shows half of a short secret.
    Mask {
        /// How many trailing letters and digits stay readable.
        #[serde(default = "default_keep")]
        keep: usize,
    },
    /// Replace the match with `[HASH:<rule>:<16 hex digits>]`: the first 64 bits of
    /// HMAC-SHA256(key, canonical value). Stable across lines, processes and formats (a card is
    /// hashed by its digits, an email lowercased), so one user can be followed without the value.
    /// Needs [`RedactConfig::hash_key`](super::RedactConfig::hash_key).
    Hash,
}

fn default_keep() -> usize {
    4
}

impl Method {
    /// [`Method::Mask`] keeping the last `keep` letters and digits.
    pub const fn mask(keep: usize) -> Method {
        Method::Mask { keep }
    }
}
