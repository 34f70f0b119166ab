//! [`Compression`]: how a transport encodes request bodies.

/// How request bodies are compressed before they are sent
/// ([`ClientOptions::compression`](crate::ClientOptions::compression)).
///
/// Sentry accepts `gzip` and `br` (Brotli) bodies. Measured on the SDK's typical 10.3 KB error
/// event envelope (optimized build, compressor reused):
///
/// | setting | bytes on the wire | worker time per envelope |
/// |---|---|---|
/// | `Gzip` (level 1) | 1,364 (13 %) | about 30 µs |
/// | `Brotli` (quality 3) | 1,067 (10 %) | about 50 µs |
/// | `None` | 10,296 | 0 |
///
/// (`cargo bench -p sentry-transport-http --features brotli --bench compression`; the two
/// times were 1.6 to 1.7 apart in every run.) Brotli saves a fifth of the bytes for about
/// two thirds more CPU on the worker thread; worth
/// it where bandwidth costs more than CPU (metered or slow links). Its encoder is in the HTTP
/// transport's `brotli` cargo feature (off by default, so the default build does not grow);
/// a transport built without it sends gzip and says so in the SDK diagnostics.
///
/// ```
/// use sentry_core::transport::Compression;
///
/// let options = sentry_core::ClientOptions {
///     compression: Compression::None, // e.g. for a local Relay on the same host
///     ..Default::default()
/// };
/// assert_eq!(sentry_core::ClientOptions::default().compression, Compression::Gzip);
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (level 1, the fastest) for bodies of 1 KiB or more: the default.
    #[default]
    Gzip,
    /// Brotli (quality 3) for bodies of 1 KiB or more; needs the HTTP transport's `brotli`
    /// cargo feature (the `sentry` crate's `brotli` feature).
    Brotli,
    /// Bodies are sent as they are.
    None,
}
