//! Sentry for web services built on [`tower`](https://docs.rs/tower): axum, hyper 1, tonic,
//! and anything else that serves `http` 1 requests through a `tower::Service`.
//!
//! Add one layer, [`SentryLayer`], and every request gets:
//!
//! - **its own isolation scope**, a fork of the scopes current when the request came in,
//!   entered around every poll of the handler's future: tags, user and breadcrumbs set while
//!   handling it stay with it, and work the handler binds to the current scopes
//!   ([`BindScopes::bind_scopes`](sentry_core::BindScopes::bind_scopes) with
//!   [`Scopes::current`](sentry_core::Scopes::current)) keeps them on any thread;
//! - **the caller's trace**: `sentry-trace` and `baggage` (or W3C `traceparent`) are
//!   continued, so events of the request carry the caller's trace id even with tracing off;
//! - **a transaction** (when tracing is on): op `http.server`, origin `auto.http.tower`,
//!   named `METHOD /route` with source `route` when axum says which route matched (feature
//!   `axum`), else `METHOD /path` with source `url`; it is current while the handler runs,
//!   gets `http.response.status_code` and the span status of the response, and is sent
//!   with status `internal_error` when the handler panics (the panic then carries on as if
//!   the layer were not there) and `cancelled` when the request is dropped unanswered;
//! - **the `request` interface** on every event and transaction it sends: method, URL,
//!   query string and headers, filtered as described below;
//! - **a request-mode session** when the client's `session_mode` is
//!   [`SessionMode::Request`](sentry_core::SessionMode::Request): errors captured in the
//!   request count for it, a panic crashes it, and sessions are sent as per-minute counts
//!   (a 5xx response alone counts as healthy; with `capture_server_errors` its event makes
//!   the session errored);
//! - optionally (see [`SentryLayer::capture_server_errors`]), an error event for a 5xx
//!   response;
//! - optionally, with a second layer ([`RequestBodyLayer`]) and `send_default_pii`, the
//!   request's body (text, up to a size) on what it sends.
//!
//! A panic in a handler is reported by the panic integration's hook while the request's
//! scopes are entered, so its event carries the request, the transaction's trace and the
//! scope's tags.
//!
//! # Where to put the layer
//!
//! **axum**: add it with `Router::layer`, after the routes. axum applies such a layer to each
//! route once it matched, which is when the route template (`MatchedPath`) is known: that is
//! what gives `GET /users/{id}` instead of one transaction name per user id. A request that
//! matches no route (axum's fallback) is named after its path. Wrapping the whole `Router`
//! from outside (`SentryLayer::new().layer(router)`) works too, but runs before routing, so
//! every name is a path with source `url`.
//!
//! Put it outside (after, in `Router::layer` order) layers whose work should be inside the
//! request's scope and transaction (authentication, timeouts), and inside layers that must
//! see the response the client gets (axum's or tower-http's `CatchPanicLayer`, which would
//! otherwise turn the panic into a 500 before the layer sees it).
//!
//! ```
//! use axum::extract::Path;
//! use axum::routing::get;
//! use axum::Router;
//! use sentry_tower::SentryLayer;
//!
//! async fn user(Path(id): Path<u32>) -> String {
//!     sentry_core::set_tag("user.id", id.to_string()); // this request's scope only
//!     format!("user {id}")
//! }
//!
//! fn app() -> Router {
//!     Router::new()
//!         .route("/users/{id}", get(user))
//!         .layer(SentryLayer::new().capture_server_errors(true))
//! }
//! # // Run one request through it, with a test client that records what it sends.
//! # use tower_service::Service;
//! # let options = sentry_core::ClientOptions {
//! #     traces_sample_rate: Some(1.0),
//! #     ..Default::default()
//! # };
//! # let transactions = sentry_core::test::with_captured_transactions_options(options, || {
//! #     let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! #     let request = http::Request::get("/users/42").body(axum::body::Body::empty()).unwrap();
//! #     let response = runtime.block_on(app().call(request)).unwrap();
//! #     assert_eq!(response.status(), 200);
//! # });
//! # assert_eq!(transactions[0].transaction.as_deref(), Some("GET /users/{id}"));
//! # assert_eq!(transactions[0].tags["user.id"], "42");
//! ```
//!
//! A complete server, with `sentry::init`, is `examples/axum.rs` in this crate's repository
//! (`cargo run -p sentry-tower --example axum --features axum`).
//!
//! **hyper, tonic and other tower stacks**: wrap the service with the layer
//! (`tower::ServiceBuilder::new().layer(SentryLayer::new()).service(svc)`, or
//! `SentryLayer::new().layer(svc)` with [`tower_layer::Layer`]). Names are paths (source
//! `url`) unless a router inside sets the name: a handler may call
//! [`sentry_core::set_transaction_name`] with source `route` itself.
//!
//! # What of a request is sent
//!
//! The `request` interface is built only when something is sent (an event, or a sampled
//! transaction): a request that sends nothing pays for one copy of its method, URI and
//! headers into a single buffer, not for strings.
//!
//! | data | without `send_default_pii` | with `send_default_pii` |
//! |---|---|---|
//! | method, URL (scheme, host, path; never user information) | sent | sent |
//! | query string | sent, values of sensitive parameters `[Filtered]` | the same |
//! | headers | sent; `Cookie`, `Set-Cookie` and client-address headers (`X-Forwarded-For`, `Forwarded`, `X-Real-Ip`, …) `[Filtered]` | sent as they are, except `Cookie` (see cookies) |
//! | sensitive headers (`Authorization`, `X-Api-Key`, `X-Csrf-Token`, …) | `[Filtered]` | `[Filtered]` |
//! | cookies | not sent | sent, values of sensitive cookies `[Filtered]` |
//! | body | not sent | not sent, unless [`RequestBodyLayer`] is added: then text bodies up to its limit that the handler read whole |
//! | the client's address (the connection's peer: axum's `ConnectInfo<SocketAddr>` with the `axum` feature and `into_make_service_with_connect_info`, or a `SocketAddr` in the request's extensions) | not sent | `env.REMOTE_ADDR` (Sentry sets the user's IP address from it); `client.address` on a streamed segment |
//!
//! A name is *sensitive* when it contains, in any case, one of `auth`, `token`, `secret`,
//! `password`, `passwd`, `pwd`, `key`, `jwt`, `bearer`, `sso`, `saml`, `csrf`, `xsrf`,
//! `credentials`, `session`, `sid`, `identity` (Sentry's data-handling denylist). These are
//! filtered whatever `send_default_pii` says: they are credentials, and Sentry's own
//! server-side scrubbing would remove them anyway. Data set explicitly (an event processor,
//! `before_send`, a `request` on an event captured by hand) is never changed.
//!
//! # Cargo features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `axum` | no | transaction names from axum's route templates (`MatchedPath`), source `route`; the client's address from `ConnectInfo<SocketAddr>` |
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod future;
mod layer;
mod name;
mod request;
mod scrub;
mod service;

pub use body::{RecordedBody, RequestBodyLayer, RequestBodyService};
pub use future::ResponseFuture;
pub use layer::SentryLayer;
pub use service::{SentryService, OP, ORIGIN};
