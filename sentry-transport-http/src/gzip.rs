//! gzip compression of request bodies.
//!
//! Raw deflate comes from `miniz_oxide` (already linked into every application through
//! `backtrace`); the gzip header and trailer are written here, with the CRC-32 of
//! [`crate::crc32`].

use std::panic::{catch_unwind, AssertUnwindSafe};

use miniz_oxide::deflate::core::{
    compress, create_comp_flags_from_zip_params, CompressionStrategy, CompressorOxide, TDEFLFlush,
    TDEFLStatus,
};
use miniz_oxide::MZ_DEFAULT_WINDOW_BITS;

use crate::crc32::crc32;

/// Bodies of at least this many bytes are sent gzip-compressed; smaller ones go as they are.
///
/// Below 1 KiB compression saves a few hundred bytes at most, less than the request's own
/// headers, and small envelopes (a client report, a session update) compress poorly.
pub const GZIP_THRESHOLD: usize = 1024;

/// The gzip (deflate) level used for request bodies: 1, the fastest.
///
/// Measured on 10.4 KB error event envelopes (24-frame stack trace, 20 breadcrumbs, tags, 30
/// modules), compressor reused, optimized build, one core; times include the gzip CRC-32
/// (about 5.5 µs of them, see `crc32.rs`):
///
/// | level | time per envelope | compressed size |
/// |---|---|---|
/// | 1 | 29 µs | 13.4 % |
/// | 2 | 48 µs | 12.2 % |
/// | 4 | 55 µs | 11.4 % |
/// | 6 (zlib's default) | 74 µs | 11.0 % |
/// | 9 | 90 µs | 11.0 % |
///
/// The worker compresses on its one thread, so level 1 keeps compression a small part of the
/// cost of an event (under 3 % of a core at 1,000 events per second) for 2–3 % more bytes.
pub const GZIP_LEVEL: u32 = 1;

/// The fixed gzip member header (RFC 1952): magic, deflate, no flags, no modification time,
/// no extra flags, unknown operating system.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// The size of the gzip trailer: CRC-32 and ISIZE, 4 bytes each.
const TRAILER_LEN: usize = 8;

/// A reusable gzip compressor.
///
/// The deflate state (a few hundred KiB) is allocated on the first body large enough to be
/// compressed and reused afterwards: setting it up again for every body would cost several
/// times more than compressing a 10 KB envelope.
pub(crate) struct Gzip {
    /// The deflate level, 0 to 9.
    level: u32,
    /// The deflate state, once a body has been compressed (boxed: its inline part alone is
    /// over 64 KiB).
    compressor: Option<Box<CompressorOxide>>,
}

impl std::fmt::Debug for Gzip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gzip").field("level", &self.level).finish()
    }
}

impl Gzip {
    /// A compressor at `level` (0 to 9, higher values count as 9). Allocates nothing yet.
    pub(crate) fn new(level: u32) -> Gzip {
        Gzip {
            level: level.min(9),
            compressor: None,
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
                self.compressor = None;
                None
            }
            Err(_) => {
                sentry_core::sentry_debug!("gzip panicked, sending uncompressed");
                self.compressor = None;
                None
            }
        }
    }

    /// `Ok(None)` when the result would not be smaller than `body`.
    fn try_compress(&mut self, body: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
        let level = self.level;
        let compressor = self.compressor.get_or_insert_with(|| {
            // Raw deflate (negative window bits): the gzip framing is written here.
            let flags = create_comp_flags_from_zip_params(
                i32::try_from(level).unwrap_or(9),
                -MZ_DEFAULT_WINDOW_BITS,
                CompressionStrategy::Default as i32,
            );
            Box::new(CompressorOxide::new(flags))
        });
        compressor.reset();
        // Only a result smaller than the body is of use, so the deflate stream gets exactly the
        // room that allows for one (over 1 KiB: bodies are never below the threshold) and
        // running out of it means "send uncompressed". The buffer is never reallocated;
        // envelopes typically shrink to well under a quarter.
        let Some(room) = body.len().checked_sub(HEADER.len() + TRAILER_LEN + 1) else {
            return Ok(None);
        };
        let end = HEADER.len() + room;
        let mut out = vec![0; end + TRAILER_LEN];
        out[..HEADER.len()].copy_from_slice(&HEADER);
        let (mut consumed, mut written) = (0, HEADER.len());
        loop {
            let input = body
                .get(consumed..)
                .ok_or("the compressor consumed more than the input")?;
            let output = out
                .get_mut(written..end)
                .ok_or("the compressor wrote more than the output")?;
            if output.is_empty() {
                return Ok(None);
            }
            let (status, read, wrote) = compress(compressor, input, output, TDEFLFlush::Finish);
            consumed += read;
            written += wrote;
            match status {
                TDEFLStatus::Done => break,
                TDEFLStatus::Okay if read > 0 || wrote > 0 => {}
                TDEFLStatus::Okay => return Err("the compressor made no progress"),
                TDEFLStatus::BadParam => return Err("bad compressor parameters"),
                TDEFLStatus::PutBufFailed => return Err("the compressor could not write"),
            }
        }
        if consumed != body.len() || written > end {
            return Err("the compressor stopped at the wrong place");
        }
        out.truncate(written);
        out.extend_from_slice(&crc32(body).to_le_bytes());
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
        let mut gzip = Gzip::new(GZIP_LEVEL);
        assert_eq!(gzip.compress(&noise(20_000, 0x2545_f491_4f6c_dd1d)), None);
        // And the compressor still works afterwards.
        let body = envelope_like(4_000);
        assert_eq!(gunzip(&gzip.compress(&body).expect("compressed")), body);
    }

    /// A xorshift stream of `len` bytes: no redundancy for deflate to find.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[3]
            })
            .collect()
    }

    #[test]
    fn every_level_round_trips_with_a_correct_trailer() {
        for level in 1..=12 {
            let mut gzip = Gzip::new(level);
            for len in [GZIP_THRESHOLD, 1_031, 8_191, 65_537, 300_001] {
                let body = envelope_like(len);
                let compressed = gzip.compress(&body).expect("compressed");
                assert_eq!(&compressed[..HEADER.len()], &HEADER, "level {level}, {len}");
                let trailer = &compressed[compressed.len() - TRAILER_LEN..];
                assert_eq!(
                    trailer[..4],
                    crc32(&body).to_le_bytes(),
                    "level {level}, {len}"
                );
                assert_eq!(
                    trailer[4..],
                    (len as u32).to_le_bytes(),
                    "level {level}, {len}"
                );
                assert_eq!(gunzip(&compressed), body, "level {level}, {len}");
            }
        }
        // Level 0 only stores: never smaller.
        assert_eq!(Gzip::new(0).compress(&envelope_like(10_000)), None);
    }

    #[test]
    fn barely_compressible_bodies_round_trip_or_stay_uncompressed() {
        // Noise with a growing share of text: the compressed size crosses the body's size, the
        // case where the output room runs out.
        let mut gzip = Gzip::new(GZIP_LEVEL);
        let (mut compressed_some, mut kept_some) = (false, false);
        for len in [GZIP_THRESHOLD, 3_000, 20_000, 200_000] {
            for text_percent in (0..=20).step_by(2) {
                let text = len * text_percent / 100;
                let mut body = envelope_like(text);
                body.extend_from_slice(&noise(len - text, len as u64 + text as u64));
                match gzip.compress(&body) {
                    Some(compressed) => {
                        compressed_some = true;
                        assert!(compressed.len() < body.len(), "{len}, {text_percent} %");
                        assert_eq!(gunzip(&compressed), body, "{len}, {text_percent} %");
                    }
                    None => kept_some = true,
                }
            }
        }
        assert!(compressed_some && kept_some);
        // The compressor still works afterwards.
        let body = envelope_like(4_000);
        assert_eq!(gunzip(&gzip.compress(&body).expect("compressed")), body);
    }

    /// A realistic error event envelope of about 10 KB (see `sentry_tests::fixtures::typical_event`).
    fn event_envelope(i: usize) -> Vec<u8> {
        sentry_core::envelope::Envelope::from_event(sentry_tests::fixtures::typical_event(i))
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

    /// Prints the time of the CRC-32 alone and the time and ratio of each level on event
    /// envelopes. Run with
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
        let mut best = f64::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            for body in &bodies {
                std::hint::black_box(crc32(std::hint::black_box(body)));
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        eprintln!(
            "CRC-32 alone: {:.1} µs per body",
            best * 1e6 / bodies.len() as f64
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
