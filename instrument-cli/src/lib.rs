//! The library behind the `instrument` command's operations subcommands: the [`catalog`] of
//! what a service publishes, read from its sources with the macro's own parser
//! (`instrument-attr`); the [`settings`] of the service; and the dashboards, alarms and saved
//! queries [`generate`]d from them, as CloudFormation, Terraform JSON or the raw CloudWatch API
//! payloads, applied with the AWS SDK under the cargo feature `apply`.
//!
//! ```
//! use instrument_cli::catalog::Catalog;
//!
//! let catalog = Catalog::from_sources(&[(
//!     "src/main.rs".into(),
//!     "#[instrument::track_performance] async fn find_booking(id: u64) -> Result<String, E> { todo!() }".into(),
//! )]).unwrap();
//! let names: Vec<String> = catalog.metrics().into_iter().map(|m| m.name).collect();
//! assert_eq!(names, ["find_booking.success", "find_booking.error", "find_booking.latency", "find_booking.cancelled"]);
//! ```
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "apply")]
pub mod apply;
pub mod catalog;
pub mod generate;
pub mod settings;
