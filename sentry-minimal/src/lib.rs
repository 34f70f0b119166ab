//! The Sentry facade for libraries: report errors and breadcrumbs without choosing an SDK.
//!
//! What `log` is to loggers, `sentry-minimal` is to Sentry. A library depends on this crate
//! alone (it has **no dependencies**) and calls [`capture_error`], [`add_breadcrumb`],
//! [`with_scope`] and friends. The application decides whether anything is reported by
//! installing the SDK (`sentry::init`), which plugs itself in as the [`backend`].
//!
//! # In libraries
//!
//! ```
//! use sentry_minimal::{add_breadcrumb, capture_error, with_scope, Breadcrumb};
//!
//! pub fn load_config(path: &str) -> Result<String, std::io::Error> {
//!     // The closure runs only when an SDK is installed and enabled.
//!     add_breadcrumb(|| Breadcrumb::new(format!("loading {path}")).category("config"));
//!     std::fs::read_to_string(path).map_err(|err| {
//!         with_scope(
//!             |scope| scope.set_extra("path", path.to_owned()),
//!             || capture_error(&err),
//!         );
//!         err
//!     })
//! }
//! # assert!(load_config("/nonexistent/file").is_err());
//! ```
//!
//! # In applications
//!
//! Applications initialise the full SDK (the `sentry` crate); every library's facade calls then
//! flow into it. Nothing else is needed: there is one backend per process.
//!
//! # What it costs when no SDK is installed
//!
//! Every function first loads one atomic flag (a relaxed load, the same cost as `log`'s level
//! check). While the flag is off:
//!
//! - closures passed to [`add_breadcrumb`], [`capture_event`], [`configure_scope`] and the
//!   `configure` closure of [`with_scope`] are never called, so the values they would build are
//!   never formatted or allocated;
//! - nothing allocates, no lock is taken and no thread-local is touched;
//! - [`with_scope`] just calls its body.
//!
//! The flag is on only while a backend is installed *and* an enabled client exists; closing the
//! client turns it off again.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod api;
pub mod backend;
mod breadcrumb;
mod event;
mod id;
mod level;
pub mod map;
mod scope;
mod span_status;
mod user;
mod value;

pub use api::{
    add_breadcrumb, capture_error, capture_event, capture_message, configure_scope, is_enabled,
    last_event_id, with_scope, AsError,
};
pub use breadcrumb::Breadcrumb;
pub use event::{Event, Exception};
pub use id::{EventId, ParseIdError, SpanId, TraceId};
pub use level::{Level, ParseLevelError};
pub use map::SortedMap;
pub use scope::Scope;
pub use span_status::SpanStatus;
pub use user::User;
pub use value::{Map, Value};
