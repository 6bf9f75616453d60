//! Procedural macros of [`instrument`](https://docs.rs/instrument).
//!
//! `#[track_performance]` lives here once it lands; the crate exists so the workspace layout and
//! the dependency direction (`macros` ← `core` ← `emf` ← facade) are in place.
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
