//! `log` and `tracing` bridges for the Sentry SDK.
//!
//! Both bridges turn records into Sentry data according to a [`Mapping`] per record:
//! [breadcrumbs](Mapping::BREADCRUMB), [events](Mapping::EVENT),
//! [exception events](Mapping::EXCEPTION) and [structured logs](Mapping::LOG) (sent when the
//! client has `enable_logs` on), in any combination. By default errors become events and logs,
//! warnings and infos breadcrumbs and logs, and debug and trace records are ignored.
//!
//! # `log`
//!
//! [`SentryLogger`] is a `log::Log` that captures records and forwards each one to a
//! destination logger of your choice; install it with one call:
//!
//! ```
//! // Before (or after) sentry::init; with no destination:
//! sentry_log::init().expect("no other logger installed");
//! log::info!(user = 42; "logged in"); // a breadcrumb with data {"user": 42}, and a log
//! ```
//!
//! Key-values keep their types (integers, floats, booleans, strings); a key-value named
//! `error` holding an error (`log::error!(error:err = e; "…")`) becomes the exception of the
//! event, with its `source()` chain. See [`SentryLogger`] for a destination logger, a custom
//! filter or mapper, and the maximum level.
//!
//! # `tracing` (feature `tracing`)
//!
//! `sentry_log::tracing::layer()` is a `tracing_subscriber` layer with the same mapping for
//! events; with tracing on in the client, its spans become Sentry spans and transactions,
//! parented by `tracing`'s own span tree. See the `tracing` module (built only with the
//! feature).
//!
//! # `log` and `tracing` together
//!
//! Install one bridge for `log` records. With tracing-subscriber, whose `init()` installs
//! tracing-log's `LogTracer` as `log`'s logger (its default `tracing-log` feature), add the
//! Sentry layer to the subscriber and do not install the `log` bridge: `log` records become
//! `tracing` events and reach Sentry through the layer, exactly once, with their own target,
//! module, file and line (tracing-log carries no key-values):
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! tracing_subscriber::registry()
//!     .with(sentry_log::tracing::layer())
//!     .init(); // with tracing-subscriber's `tracing-log` feature, also `LogTracer::init()`
//! # let _ = log::set_boxed_logger(Box::new(sentry_log::NoDestination));
//! // `log` already has a logger: the bridge is not installed, and the error says why.
//! let err = sentry_log::init().unwrap_err();
//! assert!(err.to_string().contains("through the layer; remove this call"));
//! ```
//!
//! A [`SentryLogger`] whose destination is `LogTracer` would hand every record to the layer
//! as well. Such a record is captured once, by the `SentryLogger`; the first one prints what
//! to do on stderr, and [`double_setup_detected`] says it happened.
//!
//! # Hints
//!
//! `before_send` and `before_breadcrumb` get the record in the hint
//! ([`Hint::record`](sentry_core::Hint::record)): level, target, module, file and line, and
//! for events also the message and the fields (a breadcrumb holds those itself). For `log`,
//! the error of an `error` key-value is the hint's [`error`](sentry_core::Hint::error), to
//! downcast; `tracing` lends an error field only while it is visited, so there it is the
//! event's exception but not in the hint.
//!
//! ```
//! use std::sync::Arc;
//! use sentry_core::ClientOptions;
//!
//! let options = ClientOptions {
//!     // No events from the records of the `hyper` crate.
//!     before_send: Some(Arc::new(|event, hint| match hint.record() {
//!         Some(record) if record.target().starts_with("hyper") => None,
//!         _ => Some(event),
//!     })),
//!     ..Default::default()
//! };
//! # let _ = options;
//! ```
//!
//! # Never reporting on itself
//!
//! Records produced on the SDK's transport thread (such as the HTTP client's own logging), inside
//! SDK callbacks (`before_send`, …) or while a bridge is already capturing on the same thread
//! are passed to the destination but never captured, so the SDK cannot feed itself in a loop
//! (see [`sentry_core::integration::inside_sdk`]).
//!
//! # Callbacks that panic
//!
//! Filters, mappers and the destination logger are the application's code, run by the SDK
//! like `before_send` (see [`sentry_core::integration::run_user_callback`]): a panic in one
//! never reaches the `log::error!` or `tracing::error!` call site, and the panic hook does not
//! report it. A panicking filter or mapper drops that record's captures (counted in a client
//! report as `event_processor`: the event and the log it would have become); a panicking
//! destination logger misses that record, which is still captured.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tracing` | no | the `tracing` module: a `tracing_subscriber::Layer` (depends on `tracing-core` and `tracing-subscriber` with the `registry` feature) |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod capture;
mod guard;
mod kv;
mod logger;
mod mapping;
mod protect;
mod setup;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod tracing;

pub use logger::{default_filter, init, log_level, NoDestination, SentryLogger};
pub use mapping::{Mapping, RecordMapping};
pub use setup::{double_setup_detected, InitError};
