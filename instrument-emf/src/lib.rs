//! CloudWatch Embedded Metric Format layer of [`instrument`](https://docs.rs/instrument).
//!
//! The EMF layer (span fields → CloudWatch metrics) is not built yet; this crate holds its place
//! in the workspace so the dependency direction (`macros` ← `core` ← `emf` ← facade) is fixed.
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

pub use instrument_core;
