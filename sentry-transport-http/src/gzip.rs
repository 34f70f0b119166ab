//! gzip compression of request bodies.

use std::panic::{catch_unwind, AssertUnwindSafe};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Bodies of at least this many bytes are sent gzip-compressed; smaller ones go as they are.
///
/// Below 1 KiB compression saves a few hundred bytes at most, less than the request's own
/// headers, and small envelopes (a client report, a session update) compress poorly.
pub const GZIP_THRESHOLD: usize = 1024;

/// The gzip (deflate) level used for request bodies: 1, the fastest.
///
/// Measured on 10.4 KB error event envelopes (24-frame stack trace, 20 breadcrumbs, tags, 30
/// modules), compressor reused, optimized build, one core:
///
/// | level | time per envelope | compressed size |
/// |---|---|---|
/// | 1 | 26 µs | 13.4 % |
/// | 2 | 45 µs | 12.2 % |
/// | 4 | 51 µs | 11.4 % |
/// | 6 (zlib's default) | 71 µs | 11.0 % |
/// | 9 | 86 µs | 11.0 % |
///
/// The worker compresses on its one thread, so level 1 keeps compression a small part of the
/// cost of an event (under 3 % of a core at 1,000 events per second) for 2–3 % more bytes.
pub const GZIP_LEVEL: u32 = 1;

/// The fixed gzip member header (RFC 1952): magic, deflate, no flags, no modification time,
/// no extra flags, unknown operating system.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// How many bytes of output space are added at a time when the estimate was too small.
const GROW: usize = 16 * 1024;

/// A reusable gzip compressor.
///
/// The deflate state (a few hundred KiB) is allocated on the first body large enough to be
/// compressed and reused afterwards: setting it up again for every body would cost several
/// times more than compressing a 10 KB envelope.
pub(crate) struct Gzip {
    level: u32,
    compress: Option<Compress>,
}

impl Gzip {
    pub(crate) fn new(level: u32) -> Gzip {
        Gzip {
            level: level.min(9),
            compress: None,
        }
    }

    /// The gzip form of `body`, or `None` when it should be sent as it is: smaller than
    /// [`GZIP_THRESHOLD`], no smaller once compressed, or compression failed.
    pub(crate) fn compress(&mut self, body: &[u8]) -> Option<Vec<u8>> {
        if body.len() < GZIP_THRESHOLD {
            return None;
        }
        let result = catch_unwind(AssertUnwindSafe(|| self.try_compress(body)));
        match result {
            Ok(Ok(compressed)) => compressed,
            Ok(Err(error)) => {
                sentry_core::sentry_debug!("gzip failed, sending uncompressed: {error}");
                self.compress = None;
                None
            }
            Err(_) => {
                sentry_core::sentry_debug!("gzip panicked, sending uncompressed");
                self.compress = None;
                None
            }
        }
    }

    /// `Ok(None)` when the result would not be smaller than `body`.
    fn try_compress(&mut self, body: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let level = self.level;
        let compress = self
            .compress
            .get_or_insert_with(|| Compress::new(Compression::new(level), false));
        compress.reset();
        // Envelopes typically shrink to well under a quarter; grow when they do not.
        let mut out = Vec::with_capacity(body.len() + HEADER.len() + 64);
        out.extend_from_slice(&HEADER);
        loop {
            let consumed = usize::try_from(compress.total_in()).map_err(|e| e.to_string())?;
            let input = body
                .get(consumed..)
                .ok_or("the compressor consumed more than the input")?;
            if out.len() >= body.len() {
                return Ok(None);
            }
            if out.capacity() - out.len() < 64 {
                out.reserve(GROW.min(body.len()));
            }
            let before = (compress.total_in(), compress.total_out());
            let status = compress
                .compress_vec(input, &mut out, FlushCompress::Finish)
                .map_err(|e| e.to_string())?;
            match status {
                Status::StreamEnd => break,
                Status::Ok | Status::BufError => {
                    if before == (compress.total_in(), compress.total_out())
                        && out.capacity() > out.len()
                    {
                        return Err("the compressor made no progress".into());
                    }
                }
            }
        }
        let mut crc = Crc::new();
        crc.update(body);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE is the input length modulo 2^32 (RFC 1952).
        out.extend_from_slice(&((body.len() as u64 & 0xffff_ffff) as u32).to_le_bytes());
        Ok((out.len() < body.len()).then_some(out))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::Instant;

    use super::*;

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .expect("valid gzip");
        out
    }

    /// Envelope-like text: JSON lines with repetition, as real events have.
    fn envelope_like(len: usize) -> Vec<u8> {
        let mut body = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n".to_vec();
        let mut i = 0u64;
        while body.len() < len {
            body.extend_from_slice(
                format!(
                    "{{\"function\":\"my_app::module_{}::handler\",\"lineno\":{},\"in_app\":true}}\n",
                    i % 13,
                    i * 7
                )
                .as_bytes(),
            );
            i += 1;
        }
        body.truncate(len);
        body
    }

    #[test]
    fn decodes_back_to_the_original() {
        let mut gzip = Gzip::new(GZIP_LEVEL);
        for len in [GZIP_THRESHOLD, 5_000, 10_000, 100_000, 3_000_000] {
            let body = envelope_like(len);
            let compressed = gzip.compress(&body).expect("compressed");
            assert!(compressed.len() < body.len() / 2, "{len}");
            assert_eq!(&compressed[..2], &[0x1f, 0x8b]);
            assert_eq!(gunzip(&compressed), body, "{len}");
        }
    }

    #[test]
    fn the_compressor_is_reused_correctly() {
        let mut gzip = Gzip::new(GZIP_LEVEL);
        let first = envelope_like(50_000);
        let second: Vec<u8> = envelope_like(20_000).into_iter().rev().collect();
        for _ in 0..3 {
            assert_eq!(gunzip(&gzip.compress(&first).expect("compressed")), first);
            assert_eq!(gunzip(&gzip.compress(&second).expect("compressed")), second);
        }
    }

    #[test]
    fn small_bodies_stay_uncompressed() {
        let mut gzip = Gzip::new(GZIP_LEVEL);
        assert_eq!(gzip.compress(b""), None);
        assert_eq!(gzip.compress(b"{}\n"), None);
        assert_eq!(gzip.compress(&envelope_like(GZIP_THRESHOLD - 1)), None);
        assert!(gzip.compress(&envelope_like(GZIP_THRESHOLD)).is_some());
    }

    #[test]
    fn incompressible_bodies_stay_uncompressed() {
        // A xorshift stream: no redundancy for deflate to find.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..20_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[3]
            })
            .collect();
        let mut gzip = Gzip::new(GZIP_LEVEL);
        assert_eq!(gzip.compress(&noise), None);
        // And the compressor still works afterwards.
        let body = envelope_like(4_000);
        assert_eq!(gunzip(&gzip.compress(&body).expect("compressed")), body);
    }

    /// A realistic error event envelope of about 10 KB (see `typical_event`).
    fn event_envelope(i: usize) -> Vec<u8> {
        sentry_core::envelope::Envelope::from_event(sentry_core::test::typical_event(i))
            .to_vec(None)
    }

    #[test]
    fn event_envelopes_shrink() {
        let body = event_envelope(7);
        assert!(
            (5_000..20_000).contains(&body.len()),
            "{} bytes",
            body.len()
        );
        let compressed = Gzip::new(GZIP_LEVEL).compress(&body).expect("compressed");
        assert!(
            compressed.len() < body.len() / 4,
            "{} bytes",
            compressed.len()
        );
        assert_eq!(gunzip(&compressed), body);
    }

    /// Prints the time and ratio of each level on event envelopes. Run with
    /// `cargo test --release -p sentry-transport-http -- --ignored --nocapture measure_levels`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn measure_levels() {
        let bodies: Vec<Vec<u8>> = (0..500).map(event_envelope).collect();
        let total: usize = bodies.iter().map(Vec::len).sum();
        eprintln!(
            "{} bodies of {} bytes on average",
            bodies.len(),
            total / bodies.len()
        );
        for level in [1, 2, 3, 4, 6, 9] {
            let mut gzip = Gzip::new(level);
            let mut best = f64::MAX;
            let mut compressed = 0;
            for _ in 0..5 {
                let start = Instant::now();
                compressed = 0;
                for body in &bodies {
                    compressed += gzip.compress(body).map_or(body.len(), |c| c.len());
                }
                best = best.min(start.elapsed().as_secs_f64());
            }
            eprintln!(
                "level {level}: {:.1} µs per body, {:.1} % of the size",
                best * 1e6 / bodies.len() as f64,
                compressed as f64 * 100.0 / total as f64
            );
        }
    }
}
