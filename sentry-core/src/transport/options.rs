//! What a transport is told when it is created.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::client_reports::ClientReports;
use crate::dsn::Dsn;

/// The `User-Agent` (and `sentry_client` in the auth header) this SDK sends unless told
/// otherwise: `sentry.rust/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("sentry.rust/", env!("CARGO_PKG_VERSION"));

/// Default for [`TransportOptions::queue_capacity`]: 1000 envelopes.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1000;

/// Default for [`TransportOptions::queue_max_bytes`]: 32 MiB.
pub const DEFAULT_QUEUE_MAX_BYTES: usize = 32 * 1024 * 1024;

/// Default for [`CacheOptions::max_envelopes`]: 100 envelopes.
pub const DEFAULT_CACHE_MAX_ENVELOPES: usize = 100;

/// Default for [`CacheOptions::max_bytes`]: 16 MiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Default for [`TransportOptions::connect_timeout`]: 5 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Default for [`TransportOptions::timeout`]: 30 seconds for a whole request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default for [`TransportOptions::max_concurrent_requests`]: 16 requests at a time.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 16;

/// Default for [`TransportOptions::client_report_interval`]: 30 seconds.
pub const DEFAULT_CLIENT_REPORT_INTERVAL: Duration = Duration::from_secs(30);

/// Everything a [`Transport`](super::Transport) needs to know, handed to
/// [`TransportFactory::create_transport`](super::TransportFactory::create_transport).
///
/// The client builds one from the user's options. Transports outside this crate read the fields;
/// new fields may be added in later versions (the struct is `#[non_exhaustive]`), so build one
/// with [`TransportOptions::new`] and change the fields you need.
///
/// | field | default |
/// |---|---|
/// | [`queue_capacity`](Self::queue_capacity) | 1000 envelopes |
/// | [`queue_max_bytes`](Self::queue_max_bytes) | 32 MiB |
/// | [`http_proxy`](Self::http_proxy), [`https_proxy`](Self::https_proxy) | none (environment) |
/// | [`cache`](Self::cache) | none (off) |
/// | [`spotlight`](Self::spotlight) | none (off) |
/// | [`user_agent`](Self::user_agent) | `sentry.rust/<version>` |
/// | [`connect_timeout`](Self::connect_timeout) | 5 s |
/// | [`timeout`](Self::timeout) | 30 s |
/// | [`client_report_interval`](Self::client_report_interval) | 30 s |
/// | [`max_concurrent_requests`](Self::max_concurrent_requests) | 16 |
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sentry_core::client_reports::ClientReports;
/// use sentry_core::dsn::Dsn;
/// use sentry_core::transport::TransportOptions;
///
/// let dsn: Dsn = "https://public@example.invalid/42".parse().expect("valid DSN");
/// let mut options = TransportOptions::new(dsn, Arc::new(ClientReports::default()));
/// options.queue_capacity = 100;
/// options.timeout = Duration::from_secs(10);
/// assert_eq!(options.connect_timeout, Duration::from_secs(5));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct TransportOptions {
    /// Where envelopes go: the transport posts to [`Dsn::envelope_url`] and authenticates with
    /// [`Dsn::auth_header`].
    pub dsn: Dsn,
    /// The client's discard counters. The transport records what it drops here (queue overflow,
    /// rate limits, send and network errors) and sends the pending counts to Sentry.
    pub client_reports: Arc<ClientReports>,
    /// How many envelopes may wait for the transport before new ones are dropped (and counted
    /// as `queue_overflow`). Default 1000; a value of 0 is treated as 1.
    pub queue_capacity: usize,
    /// The `User-Agent` header and the `sentry_client` of the auth header, as
    /// `name/version`. Default `sentry.rust/<version>`.
    pub user_agent: String,
    /// How long to wait for a connection to be established. Default 5 s.
    pub connect_timeout: Duration,
    /// How long one whole request (connect, send, response) may take. Default 30 s.
    ///
    /// This bounds how long a worker thread can stay stuck on a hanging server after
    /// `shutdown` gave up waiting for it.
    pub timeout: Duration,
    /// How long pending client reports may wait for an envelope to ride along with before they
    /// are sent on their own. Default 30 s.
    pub client_report_interval: Duration,
    /// How many bytes (estimated, before compression) the queued envelopes may take together.
    /// Default 32 MiB.
    pub queue_max_bytes: usize,
    /// Proxy for `http://` URLs. `None`: the transport may read `HTTP_PROXY` / `http_proxy`.
    pub http_proxy: Option<String>,
    /// Proxy for `https://` URLs. `None`: the transport may read `HTTPS_PROXY` / `https_proxy`,
    /// then use [`http_proxy`](Self::http_proxy).
    pub https_proxy: Option<String>,
    /// The offline cache, when on.
    pub cache: Option<CacheOptions>,
    /// Where to also post every envelope for Spotlight, when on.
    pub spotlight: Option<String>,
    /// The client's structured-log buffer, when logs are on: a worker drains it on its own
    /// thread (woken when the buffer has logs worth a look, and at
    /// [`LogBuffer::next_deadline`](crate::batch::BatchBuffer::next_deadline)). The client also
    /// drains it into [`Transport::send_envelope`](super::Transport::send_envelope) on flush
    /// and close, so transports that ignore it still get every log then.
    pub logs: Option<Arc<crate::logs::LogBuffer>>,
    /// The client's metric buffer, when metrics are on; drained like [`logs`](Self::logs).
    pub metrics: Option<Arc<crate::metric_buffer::MetricBuffer>>,
    /// The client's per-minute counts of request sessions, in
    /// [`SessionMode::Request`](crate::SessionMode::Request): a worker sends them every 60
    /// seconds and at flush. The client also drains them into
    /// [`Transport::send_envelope`](super::Transport::send_envelope) on flush and close.
    pub sessions: Option<Arc<crate::session::SessionAggregator>>,
    /// The client's span buffer, with `trace_lifecycle = Stream`: a worker drains it on its
    /// own thread (every 5 seconds, at 1,000 spans or 5 MiB). The client also drains it into
    /// [`Transport::send_envelope`](super::Transport::send_envelope) on flush and close.
    pub spans: Option<Arc<super::SpanBuffer>>,
    /// How request bodies are compressed. Default [`Compression::Gzip`](super::Compression).
    pub compression: super::Compression,
    /// How many requests may be under way at once while the queue backs up. Default 16; `0`
    /// is treated as `1`.
    ///
    /// An idle transport sends on its one thread, one request at a time. When envelopes queue
    /// up behind a request (the server is far away or slow), a
    /// [`TransportWorker`](super::TransportWorker) whose [`Sender`](super::Sender) can
    /// [`fork`](super::Sender::fork) sends up to this many at once, each on a thread and
    /// connection of its own that ends when the backlog is gone. One request can deliver at
    /// most one envelope per round trip, so this bounds the rate: about
    /// `max_concurrent_requests / round-trip time` envelopes per second.
    pub max_concurrent_requests: usize,
}

/// Where and how much the offline cache keeps (see
/// [`ClientOptions::cache_dir`](crate::ClientOptions::cache_dir)).
///
/// Several processes may share one directory: each cached envelope is sent by one of them.
/// The cache reads, renames and deletes only files it names itself, so the directory may hold
/// other files too.
///
/// ```
/// use sentry_core::transport::CacheOptions;
///
/// let cache = CacheOptions::new("/var/cache/my-app/sentry");
/// assert_eq!(cache.max_envelopes, 100);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheOptions {
    /// The directory; created when missing, readable by the user only (`0700` on Unix; its
    /// files are `0600`). An existing directory's permissions are left as they are.
    pub dir: PathBuf,
    /// How many envelopes are kept at most (the oldest are dropped first). Default 100.
    pub max_envelopes: usize,
    /// How many bytes are kept at most (the oldest are dropped first; a single envelope larger
    /// than this is not cached). Default 16 MiB.
    pub max_bytes: u64,
}

impl CacheOptions {
    /// A cache in `dir` with the default limits.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CacheOptions {
            dir: dir.into(),
            max_envelopes: DEFAULT_CACHE_MAX_ENVELOPES,
            max_bytes: DEFAULT_CACHE_MAX_BYTES,
        }
    }
}

impl TransportOptions {
    /// Options for `dsn` with every other field at its default.
    pub fn new(dsn: Dsn, client_reports: Arc<ClientReports>) -> Self {
        TransportOptions {
            dsn,
            client_reports,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            client_report_interval: DEFAULT_CLIENT_REPORT_INTERVAL,
            queue_max_bytes: DEFAULT_QUEUE_MAX_BYTES,
            http_proxy: None,
            https_proxy: None,
            cache: None,
            spotlight: None,
            logs: None,
            metrics: None,
            sessions: None,
            spans: None,
            compression: super::Compression::Gzip,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
        }
    }
}

impl fmt::Debug for TransportOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportOptions")
            .field("dsn", &self.dsn)
            .field("queue_capacity", &self.queue_capacity)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("client_report_interval", &self.client_report_interval)
            .field("queue_max_bytes", &self.queue_max_bytes)
            .field("http_proxy", &self.http_proxy.is_some())
            .field("https_proxy", &self.https_proxy.is_some())
            .field("cache", &self.cache)
            .field("spotlight", &self.spotlight)
            .field("logs", &self.logs)
            .field("metrics", &self.metrics)
            .field("sessions", &self.sessions)
            .field("spans", &self.spans)
            .field("compression", &self.compression)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .finish_non_exhaustive()
    }
}
