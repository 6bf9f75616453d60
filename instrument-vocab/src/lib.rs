//! The vocabulary of [`instrument`](https://github.com/instrument-rs/instrument), defined once: the fields of a
//! tracked call's span, how a call ends, and the prefixes that make a field a metric.
//!
//! The `#[track_performance]` macro, the log layer and the EMF layer all read these names from
//! here (a proc-macro crate can depend on this small crate; it has no dependencies), so a
//! renamed field cannot drift between the code that writes it and the code that reads it.
//!
//! ```
//! use instrument_vocab::{field, Outcome};
//!
//! assert_eq!(field::LATENCY_MS, "latency_ms");
//! assert!(field::is_reserved("error_type"));
//! assert_eq!(Outcome::parse("error"), Some(Outcome::Error));
//! ```
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![no_std]

extern crate alloc;

pub mod context;
pub mod field;
pub mod metric;

mod outcome;

pub use outcome::Outcome;
