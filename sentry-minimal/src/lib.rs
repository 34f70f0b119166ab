//! The Sentry facade for libraries: report errors and breadcrumbs without choosing an SDK.
//!
//! What `log` is to loggers, `sentry-minimal` is to Sentry. A library depends on this crate
//! alone (it has **no dependencies**) and calls [`capture_error`], [`add_breadcrumb`],
//! [`with_scope`], [`with_span`] and friends. The application decides whether anything is
//! reported by installing the SDK (`sentry::init`), which plugs itself in as the [`backend`].
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
//! # Spans
//!
//! [`with_span`] and [`start_span`] time a piece of the library's work as a child of whatever
//! span the application has made current (typically its transaction), with data and a
//! [`SpanStatus`]:
//!
//! ```
//! use sentry_minimal::{with_span, SpanStatus};
//!
//! pub fn fetch(url: &str) -> Result<Vec<u8>, String> {
//!     with_span("http.client", &format!("GET {url}"), |span| {
//!         let status_code = 404; // the actual request
//!         span.set_data("http.response.status_code", status_code);
//!         if let Some(status) = SpanStatus::from_http_status(status_code) {
//!             span.set_status(status);
//!         }
//!         Err(format!("{url}: {status_code}"))
//!     })
//! }
//! # assert!(fetch("https://example.com").is_err());
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
//! - [`with_scope`] just calls its body, and [`with_span`] calls its body with an empty
//!   [`Span`];
//! - [`start_span`] returns an empty [`Span`], whose methods return at once.
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
mod span;
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
pub use span::{start_span, with_span, Span};
pub use span_status::SpanStatus;
pub use user::User;
pub use value::{Map, Value};
