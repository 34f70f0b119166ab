//! [`BodyEncoder`]: request bodies as [`Compression`] says, gzip, Brotli or as they are.

use sentry_core::transport::Compression;

use crate::gzip::{Gzip, GZIP_LEVEL};

/// The Brotli quality used for request bodies (0 to 11).
///
/// Measured on the SDK's typical 10.3 KB error event envelope, optimized build: quality 0
/// gives 1,773 bytes, 1 gives 1,564, 2 gives 1,080 (46 µs), 3 gives 1,067 (50 µs), 4 gives
/// 1,018 (72 µs), 5 gives 917 (over twice the time of 3). Quality 3 is where the size stops
/// falling fast for little more time; gzip level 1 gives 1,364 bytes in about 30 µs.
#[cfg(feature = "brotli")]
pub const BROTLI_QUALITY: u32 = 3;

/// A request body after encoding, with the `Content-Encoding` to send it with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Encoded {
    /// The encoded bytes.
    pub body: Vec<u8>,
    /// The `Content-Encoding` header value: `gzip` or `br`.
    pub content_encoding: &'static str,
}

/// Encodes request bodies as the client's [`Compression`] option says, keeping the
/// compressor's state between bodies (setting it up again for each body would cost more than
/// compressing one).
///
/// Bodies under [`GZIP_THRESHOLD`](crate::GZIP_THRESHOLD) (1 KiB), bodies that would not get smaller, and bodies the
/// compressor fails on are sent as they are. [`Compression::Brotli`] in a build without the
/// `brotli` cargo feature falls back to gzip, and the SDK diagnostics say so once.
///
/// ```
/// use sentry_core::transport::Compression;
/// use sentry_transport_http::BodyEncoder;
///
/// let mut encoder = BodyEncoder::new(Compression::Gzip);
/// let body = b"{\"message\":\"hello\"}\n".repeat(100);
/// let encoded = encoder.encode(&body).expect("large and repetitive: compressed");
/// assert_eq!(encoded.content_encoding, "gzip");
/// assert!(encoded.body.len() < body.len() / 10);
/// assert_eq!(encoder.encode(b"{}"), None, "small bodies go as they are");
/// assert_eq!(BodyEncoder::new(Compression::None).encode(&body), None);
/// ```
#[derive(Debug)]
pub struct BodyEncoder {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Gzip(Gzip),
    #[cfg(feature = "brotli")]
    Brotli,
    Identity,
}

impl BodyEncoder {
    /// An encoder for `compression`. Allocates nothing until the first body it compresses.
    pub fn new(compression: Compression) -> BodyEncoder {
        let kind = match compression {
            Compression::None => Kind::Identity,
            #[cfg(feature = "brotli")]
            Compression::Brotli => Kind::Brotli,
            #[cfg(not(feature = "brotli"))]
            Compression::Brotli => {
                sentry_core::sentry_debug!(
                    "Brotli compression needs the `brotli` cargo feature; sending gzip"
                );
                Kind::Gzip(Gzip::new(GZIP_LEVEL))
            }
            _ => Kind::Gzip(Gzip::new(GZIP_LEVEL)),
        };
        BodyEncoder { kind }
    }

    /// The encoded form of `body`, or `None` when it should be sent as it is.
    pub fn encode(&mut self, body: &[u8]) -> Option<Encoded> {
        match &mut self.kind {
            Kind::Gzip(gzip) => gzip.compress(body).map(|body| Encoded {
                body,
                content_encoding: "gzip",
            }),
            #[cfg(feature = "brotli")]
            Kind::Brotli => brotli_compress(body).map(|body| Encoded {
                body,
                content_encoding: "br",
            }),
            Kind::Identity => None,
        }
    }
}

/// The Brotli form of `body`, or `None` when it is small, does not shrink, or compression fails.
#[cfg(feature = "brotli")]
fn brotli_compress(body: &[u8]) -> Option<Vec<u8>> {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use crate::gzip::GZIP_THRESHOLD;

    if body.len() < GZIP_THRESHOLD {
        return None;
    }
    // The window: the smallest that holds the whole body, at least 64 KiB and at most Brotli's
    // default 4 MiB. The encoder sets up its ring buffer for every body, and the default window
    // made that four times the cost of compressing a 10 KB envelope (188 µs against 50 µs).
    let needed = usize::BITS - (body.len() + 16).leading_zeros();
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        lgwin: needed.clamp(16, 22) as i32,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 4);
    let result = catch_unwind(AssertUnwindSafe(|| {
        brotli::BrotliCompress(&mut &body[..], &mut out, &params)
    }));
    match result {
        Ok(Ok(_)) => (out.len() < body.len()).then_some(out),
        Ok(Err(error)) => {
            sentry_core::sentry_debug!("Brotli failed, sending uncompressed: {error}");
            None
        }
        Err(_) => {
            sentry_core::sentry_debug!("Brotli panicked, sending uncompressed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Vec<u8> {
        let event = sentry_tests::fixtures::typical_event(0);
        let mut body = Vec::new();
        sentry_core::envelope::Envelope::from_event(event)
            .to_writer(&mut body, None)
            .expect("serialized");
        body
    }

    #[test]
    fn gzip_round_trips() {
        let body = body();
        let encoded = BodyEncoder::new(Compression::Gzip)
            .encode(&body)
            .expect("compressed");
        assert_eq!(encoded.content_encoding, "gzip");
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&encoded.body[..]),
            &mut decoded,
        )
        .expect("valid gzip");
        assert_eq!(decoded, body);
    }

    #[cfg(feature = "brotli")]
    #[test]
    fn brotli_round_trips_and_is_smaller_than_gzip() {
        let body = body();
        let encoded = BodyEncoder::new(Compression::Brotli)
            .encode(&body)
            .expect("compressed");
        assert_eq!(encoded.content_encoding, "br");
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &encoded.body[..], &mut decoded).expect("valid brotli");
        assert_eq!(decoded, body);
        let gzip = BodyEncoder::new(Compression::Gzip)
            .encode(&body)
            .expect("compressed");
        assert!(encoded.body.len() < gzip.body.len());
    }

    #[cfg(not(feature = "brotli"))]
    #[test]
    fn brotli_without_the_feature_sends_gzip() {
        let encoded = BodyEncoder::new(Compression::Brotli)
            .encode(&body())
            .expect("compressed");
        assert_eq!(encoded.content_encoding, "gzip");
    }

    #[test]
    fn none_sends_bodies_as_they_are() {
        assert_eq!(BodyEncoder::new(Compression::None).encode(&body()), None);
    }
}
