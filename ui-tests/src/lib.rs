//! Compile-time tests of `#[track_performance]`: see `tests/track_ui.rs`. This crate has no
//! code; it exists so that trybuild builds the cases against the facade's default features
//! only.
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
