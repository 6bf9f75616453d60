//! The options of `#[track_performance(...)]` and its naming rules, in one place: the
//! `instrument-macros` proc macro expands from them, and the `instrument` CLI reads a crate's
//! sources with them to list what the service will publish (`instrument catalog`), so the two
//! cannot disagree about an option or a metric name.
//!
//! Parsing collects every error, each at the user's token, as the macro reports them.
//!
//! ```
//! use instrument_attr::{base_name, Options, Target};
//!
//! let (options, errors) = Options::parse(
//!     quote::quote!(dimensions(operation = "reserve"), objective(success = 99.9, latency_ms = 250)),
//!     Target::Function,
//! );
//! assert!(errors.is_none());
//! let sig: syn::Signature = syn::parse_quote!(fn reserve(&mut self, seats: u32) -> Result<u32, SoldOut>);
//! assert_eq!(base_name(&options, None, &sig).resolve(Some("Inventory")), "Inventory::reserve");
//!
//! let (_, errors) = Options::parse(quote::quote!(dimensions(error_type = "x")), Target::Function);
//! assert!(errors.unwrap().to_string().contains("records itself"));
//! ```
#![warn(missing_docs, rust_2018_idioms, unreachable_pub, clippy::pedantic)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod naming;
mod objective;
mod options;
mod size;
mod suggest;
mod values;

pub use naming::{base_name, is_track_performance, mentions_self, static_type_name, BaseName};
pub use objective::{Objective, DEFAULT_PERCENTILE, OBJECTIVE_KEYS};
pub use options::{
    Dimension, Errors, Field, Level, LogMode, Options, Sigil, Target, OPTIONS, RESERVED_FIELDS,
};
pub use size::MAX_ARGUMENT_TOKENS;
