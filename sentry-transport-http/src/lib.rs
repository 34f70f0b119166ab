//! The HTTP transport of the Sentry SDK: envelopes are POSTed with [`ureq`] over rustls,
//! gzip-compressed, through a proxy when one is configured, and mirrored to Spotlight on
//! request.
//!
//! [`HttpTransport`] is a [`TransportWorker`](sentry_core::transport::TransportWorker) around a
//! small ureq-based [`Sender`](sentry_core::transport::Sender): the worker owns the queue, the
//! background thread, rate limits, client reports, flush and bounded shutdown; this crate
//! only says how to send the bytes. Connections are kept alive between envelopes. While
//! envelopes queue up (Sentry far away or slow), up to
//! [`max_concurrent_requests`](sentry_core::transport::TransportOptions::max_concurrent_requests)
//! requests (default 16) run at once, on forks of the sender that share one agent and its
//! pool of keep-alive connections.
//!
//! # What goes over the wire
//!
//! | what | value |
//! |---|---|
//! | request | `POST` to [`Dsn::envelope_url`](sentry_core::dsn::Dsn::envelope_url), e.g. `https://o1.ingest.sentry.io/api/42/envelope/` |
//! | `X-Sentry-Auth` | [`Dsn::auth_header`](sentry_core::dsn::Dsn::auth_header) with [`TransportOptions::user_agent`](sentry_core::transport::TransportOptions::user_agent) as `sentry_client` |
//! | `User-Agent` | [`TransportOptions::user_agent`](sentry_core::transport::TransportOptions::user_agent), by default `sentry.rust/<version>` |
//! | `Content-Type` | `application/x-sentry-envelope` |
//! | `Content-Length` | always (bodies are never chunked) |
//! | `Content-Encoding` | `gzip` when the body is at least [`GZIP_THRESHOLD`] (1 KiB) and compresses to fewer bytes; otherwise absent. Level [`GZIP_LEVEL`] (1, the fastest). If compression fails for any reason the body is sent uncompressed. |
//! | connect timeout | [`TransportOptions::connect_timeout`](sentry_core::transport::TransportOptions::connect_timeout) (default 5 s), proxy negotiation and TLS included |
//! | request timeout | [`TransportOptions::timeout`](sentry_core::transport::TransportOptions::timeout) (default 30 s) for the whole request: a hanging server holds the worker at most that long |
//! | redirects | not followed: a `3xx` answer counts as a failed send |
//! | response body | read (at most 64 KiB) and discarded, so the connection can be reused |
//! | proxy | chosen once at creation by the rules in the [crate documentation](crate): the `https_proxy` option, `HTTPS_PROXY`, `https_proxy`, the `http_proxy` option, `HTTP_PROXY`, `http_proxy` for `https://` DSNs; the `http_proxy` option, `HTTP_PROXY`, `http_proxy` for `http://` DSNs. Options beat the environment; an option set to `""` means "no proxy". `NO_PROXY` / `no_proxy` exempts hosts from environment proxies. Proxies are `http://` or `https://` URLs, credentials (`user:password@`) are sent as `Proxy-Authorization: Basic` and never printed. Every proxied request is tunnelled with `CONNECT host:port`, for `http://` DSNs too. |
//! | invalid proxy URL | written to the SDK diagnostics, credentials hidden; the transport then connects directly |
//! | name resolution | IP addresses are used as they are; a host name's addresses are kept for 60 s (reused if a later lookup fails). A lookup runs on a short-lived `sentry-dns` thread bounded by the request timeout, so no request spawns a thread or queries DNS while the cache is fresh. |
//! | Spotlight | with [`TransportOptions::spotlight`](sentry_core::transport::TransportOptions::spotlight) set, every envelope (before rate limiting) is also posted uncompressed to that URL by a [`SpotlightSender`]: 500 ms connect / 2 s request timeouts, no proxy, outcome ignored, paused for 1–60 s after the sidecar could not be reached |
//! | TLS | rustls with Mozilla's root certificates (webpki-roots); with the `native-tls` cargo feature, the platform's TLS library and its root certificates |
//!
//! # Why gzip and why this level
//!
//! Sentry accepts compressed envelopes and compression is encouraged: a typical error event
//! envelope (stack trace, breadcrumbs, modules) of about 10 KB shrinks to about 13 %.
//! Compression uses the pure-Rust `miniz_oxide` directly (the gzip framing and its CRC-32 are
//! written by this crate), which the SDK's stack trace support already depends on (through
//! `backtrace`), so it adds very little to the build and needs no C compiler. The level is
//! chosen for throughput (measurements at [`GZIP_LEVEL`]): the one worker thread must keep up
//! with thousands of events per second, and level 1 compresses a 10 KB event in about 29 µs,
//! two and a half times faster than the usual default level 6, for 2–3 % more bytes. The
//! deflate state is allocated once and reused between envelopes, which matters as much as the
//! level: setting it up afresh for every envelope costs several times more than compressing one.
//!
//! End to end (client pipeline, serialization, gzip, HTTP over loopback to a server that only
//! acknowledges), optimized build, on a busy 2-core machine, ~10 KB events: about 7,000 events
//! per second at level 1, 4,500 at level 6 and 3,400 at level 9.
//!
//! # Dependencies
//!
//! ureq is pinned to one minor version (`~3.5`): the cached resolver, the connector chain and
//! the lean rustls provider plug into ureq's `unversioned` API, which may change in minor
//! releases. Every use of that API is in one module (`agent.rs`), so moving to a new ureq is a
//! change to that file. An application that depends on ureq itself shares this pin.
//!
//! # Cargo features
//!
//! - `native-tls` (off by default): use the platform's TLS library (OpenSSL on Linux,
//!   Secure Transport on macOS, SChannel on Windows) with the platform's root certificates
//!   instead of rustls. Needs the platform's development files (on Linux, OpenSSL headers).
//!
//! # Example
//!
//! The `sentry` crate plugs in [`HttpTransportFactory`] by default. To use the transport with
//! custom options directly:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use sentry_core::client_reports::ClientReports;
//! use sentry_core::transport::{Transport, TransportOptions};
//! use sentry_transport_http::HttpTransport;
//!
//! let dsn = "https://public@example.invalid/42".parse().expect("valid DSN");
//! let mut options = TransportOptions::new(dsn, Arc::new(ClientReports::default()));
//! options.queue_capacity = 100;
//! options.connect_timeout = Duration::from_secs(2);
//! options.timeout = Duration::from_secs(10);
//! options.https_proxy = Some("http://proxy.internal:3128".into());
//! options.spotlight = Some("http://localhost:8969/stream".into());
//!
//! let transport = HttpTransport::new(&options).expect("transport started");
//! // transport.send_envelope(envelope);
//! assert!(transport.shutdown(Duration::from_secs(2)));
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod agent;
mod crc32;
mod encoding;
mod error;
mod gzip;
mod proxy;
mod resolver;
mod sender;
mod spotlight;
#[cfg(test)]
mod test_support;
#[cfg(not(feature = "native-tls"))]
mod tls;
mod transport;

#[cfg(feature = "brotli")]
#[cfg_attr(docsrs, doc(cfg(feature = "brotli")))]
pub use encoding::BROTLI_QUALITY;
pub use encoding::{BodyEncoder, Encoded};
pub use error::HttpTransportError;
pub use gzip::{GZIP_LEVEL, GZIP_THRESHOLD};
pub use spotlight::{
    SpotlightSender, SPOTLIGHT_CONNECT_TIMEOUT, SPOTLIGHT_INITIAL_BACKOFF, SPOTLIGHT_MAX_BACKOFF,
    SPOTLIGHT_TIMEOUT,
};
pub use transport::{factory, HttpTransport, HttpTransportFactory};
