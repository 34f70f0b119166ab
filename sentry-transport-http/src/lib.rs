//! The HTTP transport of the Sentry SDK: envelopes are POSTed with [`ureq`] over rustls,
//! gzip-compressed, through a proxy when one is configured, and mirrored to Spotlight on
//! request.
//!
//! [`HttpTransport`] is a [`TransportWorker`] around a small ureq-based [`Sender`]: the worker
//! owns the queue, the one background thread, rate limits, client reports, flush and bounded
//! shutdown; this crate only says how to send the bytes. Connections are kept alive between
//! envelopes.
//!
//! # What goes over the wire
//!
//! | what | value |
//! |---|---|
//! | request | `POST` to [`Dsn::envelope_url`](sentry_core::dsn::Dsn::envelope_url), e.g. `https://o1.ingest.sentry.io/api/42/envelope/` |
//! | `X-Sentry-Auth` | [`Dsn::auth_header`](sentry_core::dsn::Dsn::auth_header) with [`TransportOptions::user_agent`] as `sentry_client` |
//! | `User-Agent` | [`TransportOptions::user_agent`], by default `sentry.rust/<version>` |
//! | `Content-Type` | `application/x-sentry-envelope` |
//! | `Content-Length` | always (bodies are never chunked) |
//! | `Content-Encoding` | `gzip` when the body is at least [`GZIP_THRESHOLD`] (1 KiB) and compresses to fewer bytes; otherwise absent. Level [`GZIP_LEVEL`] (1, the fastest). If compression fails for any reason the body is sent uncompressed. |
//! | connect timeout | [`TransportOptions::connect_timeout`] (default 5 s), proxy negotiation and TLS included |
//! | request timeout | [`TransportOptions::timeout`] (default 30 s) for the whole request: a hanging server holds the worker at most that long |
//! | redirects | not followed: a `3xx` answer counts as a failed send |
//! | response body | read (at most 64 KiB) and discarded, so the connection can be reused |
//! | proxy | chosen once at creation by [`select_proxy`]: the `https_proxy` option, `HTTPS_PROXY`, `https_proxy`, the `http_proxy` option, `HTTP_PROXY`, `http_proxy` for `https://` DSNs; the `http_proxy` option, `HTTP_PROXY`, `http_proxy` for `http://` DSNs. Options beat the environment; an option set to `""` means "no proxy". `NO_PROXY` / `no_proxy` exempts hosts from environment proxies. Proxies are `http://` or `https://` URLs, credentials (`user:password@`) are sent as `Proxy-Authorization: Basic` and never printed. Every proxied request is tunnelled with `CONNECT host:port`, for `http://` DSNs too. |
//! | invalid proxy URL | written to the SDK diagnostics, credentials hidden; the transport then connects directly |
//! | name resolution | IP addresses are used as they are; a host name's addresses are kept for 60 s (reused if a later lookup fails). A lookup runs on a short-lived `sentry-dns` thread bounded by the request timeout, so no request spawns a thread or queries DNS while the cache is fresh. |
//! | Spotlight | with [`TransportOptions::spotlight`] set, every envelope (before rate limiting) is also posted uncompressed to that URL by a [`SpotlightSender`]: 500 ms connect / 2 s request timeouts, no proxy, outcome ignored, paused for 1–16 s after the sidecar could not be reached |
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
//! ureq is pinned to one minor version (`~3.5`): the cached resolver plugs into ureq's
//! `unversioned` API, which may change in minor releases.
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
#![warn(missing_docs)]

use std::error::Error;
use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use sentry_core::client_reports::{ClientReports, DiscardReason};
use sentry_core::envelope::Envelope;
use sentry_core::transport::{
    SendOutcome, Sender, Transport, TransportFactory, TransportOptions, TransportWorker,
};

mod crc32;
mod gzip;
mod proxy;
mod resolver;
mod spotlight;
#[cfg(not(feature = "native-tls"))]
mod tls;

pub use gzip::{GZIP_LEVEL, GZIP_THRESHOLD};
pub use proxy::{select_proxy, ProxySelection, ProxySource};
pub use spotlight::{
    SpotlightSender, SPOTLIGHT_CONNECT_TIMEOUT, SPOTLIGHT_INITIAL_BACKOFF, SPOTLIGHT_MAX_BACKOFF,
    SPOTLIGHT_TIMEOUT,
};

/// How much of a response body is read (and thrown away) so that the connection can be reused.
/// Sentry's answers are tiny JSON objects; a connection with a longer answer is not reused.
const MAX_RESPONSE_BODY: u64 = 64 * 1024;

/// Content type of an envelope request.
const ENVELOPE_CONTENT_TYPE: &str = "application/x-sentry-envelope";

/// Why an [`HttpTransport`] (or a [`SpotlightSender`]) could not be created.
///
/// ```
/// use sentry_transport_http::{HttpTransportError, SpotlightSender};
///
/// let error = SpotlightSender::new("localhost:8969", "my-app/1.0").unwrap_err();
/// assert!(matches!(error, HttpTransportError::InvalidUrl { .. }));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpTransportError {
    /// The DSN (or the Spotlight URL) does not give a usable `http://` or `https://` URL.
    InvalidUrl {
        /// The URL, with any `user:password@` replaced by `***@`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The worker thread could not be spawned.
    Spawn(io::Error),
}

impl fmt::Display for HttpTransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpTransportError::InvalidUrl { url, reason } => {
                write!(f, "invalid URL {url:?}: {reason}")
            }
            HttpTransportError::Spawn(_) => f.write_str("could not spawn the transport thread"),
        }
    }
}

impl Error for HttpTransportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            HttpTransportError::InvalidUrl { .. } => None,
            HttpTransportError::Spawn(error) => Some(error),
        }
    }
}

/// Sends envelopes to Sentry over HTTP(S), on one background thread.
///
/// See the [crate documentation](crate) for what it sends and an example.
#[derive(Debug)]
pub struct HttpTransport {
    worker: TransportWorker,
}

impl HttpTransport {
    /// Starts a transport that posts to the DSN of `options`, with its timeouts, queue capacity,
    /// user agent, proxies and Spotlight URL. Proxy environment variables are read from the
    /// process environment (see [`select_proxy`]).
    ///
    /// An invalid proxy URL or Spotlight URL does not fail the transport: it is reported in the
    /// SDK diagnostics and the transport connects directly or without Spotlight.
    ///
    /// # Errors
    ///
    /// [`HttpTransportError::InvalidUrl`] if the DSN's envelope URL is not a valid URL,
    /// [`HttpTransportError::Spawn`] if the worker thread cannot be started.
    pub fn new(options: &TransportOptions) -> Result<HttpTransport, HttpTransportError> {
        HttpTransport::with_env(options, |name| std::env::var(name).ok())
    }

    /// Like [`new`](Self::new), with `env` instead of the process environment as the source of
    /// the proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` and their lowercase forms).
    /// Useful for tests and for programs that keep their configuration elsewhere.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use sentry_core::client_reports::ClientReports;
    /// use sentry_core::transport::{Transport, TransportOptions};
    /// use sentry_transport_http::HttpTransport;
    ///
    /// let dsn = "https://public@sentry.internal.example/42".parse().expect("valid DSN");
    /// let options = TransportOptions::new(dsn, Arc::new(ClientReports::default()));
    /// let env = |name: &str| match name {
    ///     "HTTPS_PROXY" => Some("http://proxy.internal.example:3128".to_owned()),
    ///     "NO_PROXY" => Some(".internal.example".to_owned()),
    ///     _ => None,
    /// };
    /// // The DSN's host is listed in NO_PROXY: this transport connects directly.
    /// let transport = HttpTransport::with_env(&options, env).expect("transport started");
    /// assert!(transport.shutdown(Duration::from_secs(2)));
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new).
    pub fn with_env(
        options: &TransportOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<HttpTransport, HttpTransportError> {
        let sender = UreqSender::new(options, env)?;
        let mirror = options.spotlight.as_deref().and_then(|url| {
            match SpotlightSender::new(url, &options.user_agent) {
                Ok(spotlight) => Some(Box::new(spotlight) as Box<dyn Sender>),
                Err(error) => {
                    sentry_core::sentry_debug!("Spotlight is off: {error}");
                    None
                }
            }
        });
        let worker = TransportWorker::spawn_with_mirror(sender, mirror, options)
            .map_err(HttpTransportError::Spawn)?;
        Ok(HttpTransport { worker })
    }
}

impl Transport for HttpTransport {
    fn send_envelope(&self, envelope: Envelope) {
        self.worker.send_envelope(envelope);
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.worker.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.worker.shutdown(timeout)
    }
}

/// Creates an [`HttpTransport`] for each client: the default transport of the `sentry` crate.
///
/// If the transport cannot be created (invalid URL, no thread), the client gets a transport
/// that drops every envelope, counts it as `internal_sdk_error` and says why in the SDK
/// diagnostics: a broken transport never panics the host program.
///
/// The factory is stateless: everything a transport is configured with comes from the
/// client's [`TransportOptions`] (and the proxy variables of the process environment).
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::transport::TransportFactory;
///
/// let factory: Arc<dyn TransportFactory> = Arc::new(sentry_transport_http::factory());
/// # let _ = factory;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpTransportFactory;

impl TransportFactory for HttpTransportFactory {
    fn create_transport(&self, options: &TransportOptions) -> Arc<dyn Transport> {
        match HttpTransport::new(options) {
            Ok(transport) => Arc::new(transport),
            Err(error) => {
                sentry_core::sentry_debug!("HTTP transport unavailable, dropping events: {error}");
                Arc::new(FailedTransport {
                    client_reports: Arc::clone(&options.client_reports),
                })
            }
        }
    }
}

/// The [`HttpTransportFactory`].
///
/// ```
/// use sentry_core::transport::TransportFactory;
///
/// fn takes_a_factory(_: impl TransportFactory) {}
/// takes_a_factory(sentry_transport_http::factory());
/// ```
pub fn factory() -> HttpTransportFactory {
    HttpTransportFactory
}

/// Stands in for a transport that could not be created: drops and counts.
struct FailedTransport {
    client_reports: Arc<ClientReports>,
}

impl Transport for FailedTransport {
    fn send_envelope(&self, envelope: Envelope) {
        for item in envelope.items() {
            // Client reports are never counted as lost themselves.
            let category = item.category();
            if category != sentry_core::envelope::DataCategory::Internal {
                self.client_reports
                    .record(DiscardReason::InternalSdkError, category, 1);
            }
        }
    }

    fn flush(&self, _timeout: Duration) -> bool {
        true
    }

    fn shutdown(&self, _timeout: Duration) -> bool {
        true
    }
}

/// Checks that `url` is an absolute `http://` or `https://` URL with a host.
fn check_url(url: &str) -> Result<(), HttpTransportError> {
    let invalid = |reason: String| HttpTransportError::InvalidUrl {
        url: proxy::redact_userinfo(url),
        reason,
    };
    let uri = url
        .parse::<ureq::http::Uri>()
        .map_err(|error| invalid(error.to_string()))?;
    match uri.scheme_str() {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => {}
        _ => return Err(invalid("the scheme must be http or https".into())),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host".into()));
    }
    Ok(())
}

/// An agent with `config` and this crate's resolver (see the `resolver` module: no thread
/// and no DNS query per request).
fn new_agent(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        resolver::CachingResolver::default(),
    )
}

/// The agent settings shared by every request this crate makes: error statuses are answers,
/// redirects are not followed, and the TLS provider follows the cargo features.
fn agent_config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    let builder = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Sentry does not redirect envelope posts; a redirect is answered as a failure.
        .max_redirects(0);
    #[cfg(feature = "native-tls")]
    let builder = builder.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build(),
    );
    #[cfg(not(feature = "native-tls"))]
    let builder = builder.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(ureq::tls::RootCerts::WebPki)
            .unversioned_rustls_crypto_provider(tls::provider())
            .build(),
    );
    builder
}

/// Posts envelopes with a keep-alive ureq agent, gzip-compressing large bodies.
struct UreqSender {
    /// Built on the first send: a program that initialises the SDK and never sends pays for
    /// none of ureq's and rustls' setup, and touches none of their code.
    agent: Option<ureq::Agent>,
    settings: AgentSettings,
    url: String,
    auth: String,
    gzip: gzip::Gzip,
}

/// What the agent is built from.
struct AgentSettings {
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    proxy: Option<ureq::Proxy>,
}

impl UreqSender {
    fn new(
        options: &TransportOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<UreqSender, HttpTransportError> {
        let url = options.dsn.envelope_url();
        check_url(&url)?;
        let selection = select_proxy(
            &url,
            options.http_proxy.as_deref(),
            options.https_proxy.as_deref(),
            env,
        );
        let proxy = match &selection {
            ProxySelection::Proxy { url: proxy_url, .. } => match proxy::to_ureq_proxy(proxy_url) {
                Ok(proxy) => {
                    sentry_core::sentry_debug!("sending to Sentry through {selection}");
                    Some(proxy)
                }
                Err(error) => {
                    sentry_core::sentry_debug!(
                        "ignoring the invalid {selection}: {error}; connecting directly"
                    );
                    None
                }
            },
            ProxySelection::NoProxy => {
                sentry_core::sentry_debug!("sending to Sentry with {selection}");
                None
            }
            ProxySelection::Direct => None,
        };
        Ok(UreqSender {
            agent: None,
            settings: AgentSettings {
                connect_timeout: options.connect_timeout,
                timeout: options.timeout,
                user_agent: options.user_agent.clone(),
                proxy,
            },
            url,
            auth: options.dsn.auth_header(&options.user_agent),
            gzip: gzip::Gzip::new(GZIP_LEVEL),
        })
    }
}

impl UreqSender {
    /// The keep-alive agent, built on first use.
    #[cfg(test)]
    fn agent(&mut self) -> &ureq::Agent {
        lazy_agent(&mut self.agent, &self.settings)
    }
}

/// `agent`, built from `settings` if it is not yet.
fn lazy_agent<'a>(agent: &'a mut Option<ureq::Agent>, settings: &AgentSettings) -> &'a ureq::Agent {
    agent.get_or_insert_with(|| {
        new_agent(
            agent_config()
                .timeout_connect(Some(settings.connect_timeout))
                .timeout_global(Some(settings.timeout))
                .user_agent(settings.user_agent.as_str())
                // Always set, so that ureq does not read the environment on its own.
                .proxy(settings.proxy.clone())
                .build(),
        )
    })
}

impl Sender for UreqSender {
    fn send(&mut self, body: Vec<u8>, _envelope: &Envelope) -> SendOutcome {
        let compressed = self.gzip.compress(&body);
        let mut request = lazy_agent(&mut self.agent, &self.settings)
            .post(&self.url)
            .header("X-Sentry-Auth", &self.auth)
            .header("Content-Type", ENVELOPE_CONTENT_TYPE);
        let payload: &[u8] = match &compressed {
            Some(compressed) => {
                request = request.header("Content-Encoding", "gzip");
                compressed
            }
            None => &body,
        };
        let mut response = match request.send(payload) {
            Ok(response) => response,
            Err(error) => return SendOutcome::NetworkError(error.to_string()),
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let outcome = SendOutcome::Response {
            status: response.status().as_u16(),
            rate_limits: header("x-sentry-rate-limits"),
            retry_after: header("retry-after"),
        };
        // Read the (small) body to the end so the connection goes back to the pool. A failure
        // here does not change the outcome: the server has answered.
        let mut reader = response.body_mut().as_reader().take(MAX_RESPONSE_BODY);
        let _ = io::copy(&mut reader, &mut io::sink());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::thread;

    use super::*;

    fn options_for(dsn: &str) -> TransportOptions {
        let dsn = dsn.parse().expect("valid DSN");
        TransportOptions::new(dsn, Arc::new(ClientReports::new()))
    }

    /// An empty environment: no proxy variables.
    fn no_env(_: &str) -> Option<String> {
        None
    }

    /// Whether `head` has the header line `name: value` (name compared case-insensitively).
    fn has_header(head: &[String], name: &str, value: &str) -> bool {
        head.iter().any(|line| {
            line.split_once(':')
                .is_some_and(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim() == value)
        })
    }

    /// The request head (lines) and body one-shot server received.
    type Received = thread::JoinHandle<(Vec<String>, Vec<u8>)>;

    /// Answers one request with `response`; returns a DSN pointing at it and what it received.
    fn answer_once(response: &'static str) -> (String, Received) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read");
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().expect("length");
                    }
                }
                head.push(line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let mut stream = stream;
            stream.write_all(response.as_bytes()).expect("write");
            (head, body)
        });
        (format!("http://public@127.0.0.1:{port}/1"), handle)
    }

    #[test]
    fn sender_posts_with_headers_and_reads_rate_limits() {
        let (dsn, server) = answer_once(
            "HTTP/1.1 429 Too Many Requests\r\nX-Sentry-Rate-Limits: 60:error:organization\r\n\
             Retry-After: 60\r\nContent-Length: 2\r\n\r\n{}",
        );
        let options = options_for(&dsn);
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let envelope = Envelope::new();
        let outcome = sender.send(b"{}\n".to_vec(), &envelope);
        assert_eq!(
            outcome,
            SendOutcome::Response {
                status: 429,
                rate_limits: Some("60:error:organization".into()),
                retry_after: Some("60".into()),
            }
        );
        let (head, body) = server.join().expect("server thread");
        assert_eq!(head[0], "POST /api/1/envelope/ HTTP/1.1");
        let has = |expected: &str| {
            head.iter().any(|line| {
                line.split_once(':').is_some_and(|(name, value)| {
                    format!("{}: {}", name.to_ascii_lowercase(), value.trim()) == expected
                })
            })
        };
        assert!(
            has("content-type: application/x-sentry-envelope"),
            "{head:?}"
        );
        assert!(
            has(&format!("user-agent: {}", options.user_agent)),
            "{head:?}"
        );
        assert!(has(&format!(
            "x-sentry-auth: {}",
            options.dsn.auth_header(&options.user_agent)
        )));
        assert_eq!(body, b"{}\n");
        assert!(
            !head
                .iter()
                .any(|line| line.to_ascii_lowercase().starts_with("content-encoding")),
            "a small body is sent uncompressed: {head:?}"
        );
    }

    #[test]
    fn large_bodies_are_sent_gzip_compressed() {
        let (dsn, server) = answer_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let options = options_for(&dsn);
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let mut original = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n".to_vec();
        while original.len() < 20_000 {
            original.extend_from_slice(b"{\"type\":\"event\"}\n{\"message\":\"hello\"}\n");
        }
        let outcome = sender.send(original.clone(), &Envelope::new());
        assert_eq!(outcome, SendOutcome::status(200));
        let (head, body) = server.join().expect("server thread");
        assert!(has_header(&head, "content-encoding", "gzip"), "{head:?}");
        assert!(
            has_header(&head, "content-length", &body.len().to_string()),
            "{head:?}"
        );
        assert!(body.len() < original.len() / 4, "{} bytes", body.len());
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut decoded)
            .expect("a gzip body");
        assert_eq!(decoded, original);
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://o1.ingest.sentry.io/api/1/envelope/").is_ok());
        assert!(check_url("http://[::1]:9000/api/1/envelope/").is_ok());
        for url in [
            "",
            "/api/1/envelope/",
            "ftp://host/x",
            "http://",
            "http://exa mple/",
        ] {
            let error = check_url(url).expect_err(url);
            assert!(error.to_string().starts_with("invalid URL"), "{error}");
        }
        let error = check_url("ftp://user:secret@host/").expect_err("ftp");
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(!format!("{error:?}").contains("secret"), "{error:?}");
    }

    #[test]
    fn proxy_settings_reach_the_agent() {
        let mut options = options_for("http://public@127.0.0.1:9/1");
        options.http_proxy = Some("http://user:pw@127.0.0.1:3128".into());
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let proxy = sender.agent().config().proxy().expect("a proxy");
        assert_eq!(proxy.port(), 3128);
        assert_eq!(proxy.username(), Some("user"));

        // The environment is read through the lookup, and an invalid URL means no proxy.
        options.http_proxy = None;
        let env = |name: &str| (name == "HTTP_PROXY").then(|| "http://[::1".to_owned());
        let mut sender = UreqSender::new(&options, env).expect("sender");
        assert!(sender.agent().config().proxy().is_none());
        let env = |name: &str| (name == "http_proxy").then(|| "127.0.0.1:8888".to_owned());
        let mut sender = UreqSender::new(&options, env).expect("sender");
        assert_eq!(
            sender.agent().config().proxy().map(ureq::Proxy::port),
            Some(8888)
        );
        // Nothing set: no proxy, whatever the process environment says.
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        assert!(sender.agent().config().proxy().is_none());
    }

    #[test]
    fn the_tls_provider_follows_the_cargo_features() {
        let options = options_for("https://public@127.0.0.1:9/1");
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let expected = if cfg!(feature = "native-tls") {
            ureq::tls::TlsProvider::NativeTls
        } else {
            ureq::tls::TlsProvider::Rustls
        };
        assert_eq!(sender.agent().config().tls_config().provider(), expected);
    }

    #[test]
    fn an_invalid_spotlight_url_leaves_the_transport_working() {
        let (dsn, server) = answer_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let mut options = options_for(&dsn);
        options.spotlight = Some("not a url".into());
        let transport = HttpTransport::with_env(&options, no_env).expect("transport");
        transport.send_envelope(Envelope::from_event(sentry_core::protocol::Event::default()));
        assert!(transport.flush(Duration::from_secs(5)));
        assert!(transport.shutdown(Duration::from_secs(5)));
        let (head, _) = server.join().expect("server thread");
        assert_eq!(head[0], "POST /api/1/envelope/ HTTP/1.1");
    }

    #[test]
    fn refused_connection_is_a_network_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let options = options_for(&format!("http://public@127.0.0.1:{port}/1"));
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let outcome = sender.send(b"{}\n".to_vec(), &Envelope::new());
        assert!(
            matches!(outcome, SendOutcome::NetworkError(_)),
            "{outcome:?}"
        );
    }

    #[test]
    fn factory_creates_a_transport() {
        let (dsn, server) = answer_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let options = options_for(&dsn);
        let transport = factory().create_transport(&options);
        let mut envelope = Envelope::new();
        envelope.add_item(sentry_core::protocol::Event::default());
        transport.send_envelope(envelope);
        assert!(transport.flush(Duration::from_secs(5)));
        assert!(transport.shutdown(Duration::from_secs(5)));
        let (head, _) = server.join().expect("server thread");
        assert_eq!(head[0], "POST /api/1/envelope/ HTTP/1.1");
        assert!(options.client_reports.is_empty());
    }

    #[test]
    fn failed_transport_counts_what_it_drops() {
        let options = options_for("http://public@127.0.0.1:9/1");
        let transport = FailedTransport {
            client_reports: Arc::clone(&options.client_reports),
        };
        let mut envelope = Envelope::new();
        envelope.add_item(sentry_core::protocol::Event::default());
        transport.send_envelope(envelope);
        let report = options.client_reports.take().expect("counted");
        assert_eq!(report.total(), 1);
        assert_eq!(
            report.discarded_events[0].reason,
            DiscardReason::InternalSdkError
        );
        assert!(transport.flush(Duration::ZERO));
        assert!(transport.shutdown(Duration::ZERO));
    }

    #[test]
    fn error_says_what_went_wrong() {
        let error = HttpTransportError::Spawn(io::Error::other("no threads"));
        assert_eq!(error.to_string(), "could not spawn the transport thread");
        assert!(error.source().is_some());
    }
}
