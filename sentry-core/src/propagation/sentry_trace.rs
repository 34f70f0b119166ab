//! The `sentry-trace` header, and the W3C `traceparent` header it resembles.
//!
//! `sentry-trace` is `{trace_id}-{span_id}[-{sampled}]`: 32 hex digits, 16 hex digits, and an
//! optional `1` (sampled) or `0` (not sampled). Without the flag the sampling decision is
//! *deferred* to the next service. `traceparent` is W3C Trace Context's
//! `{version}-{trace_id}-{parent_id}-{flags}`, read here for interoperability with
//! OpenTelemetry services and written when the application asks for it.

use std::error::Error;
use std::fmt;
use std::str::FromStr;

use crate::protocol::{SpanId, TraceId};

/// A position in a distributed trace, as carried by the `sentry-trace` header: the trace, the
/// span that made the outgoing request, and that span's sampling decision (`None`: deferred).
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::SentryTrace;
///
/// let trace: SentryTrace = "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1".parse()?;
/// assert_eq!(trace.trace_id.to_string(), "771a43a4192642f0b136d5159a501700");
/// assert_eq!(trace.span_id.to_string(), "b0e6f15b45c36b12");
/// assert_eq!(trace.sampled, Some(true));
/// assert_eq!(trace.to_string(), "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1");
///
/// // No flag: the decision is deferred, and none is written back.
/// let deferred: SentryTrace = "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12".parse()?;
/// assert_eq!(deferred.sampled, None);
/// assert_eq!(deferred.to_string(), "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12");
/// # Ok::<(), sentry_core::propagation::ParseSentryTraceError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SentryTrace {
    /// The trace. Never all zero when parsed.
    pub trace_id: TraceId,
    /// The span the trace continues from (the parent of the receiver's first span). Never all
    /// zero when parsed.
    pub span_id: SpanId,
    /// The sampling decision: `Some(true)` sampled, `Some(false)` not sampled, `None` deferred.
    pub sampled: Option<bool>,
}

/// Why a string is not a valid `sentry-trace` value.
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::{ParseSentryTraceError, SentryTrace};
///
/// let error = "not-a-header".parse::<SentryTrace>().unwrap_err();
/// assert_eq!(error, ParseSentryTraceError::InvalidTraceId);
/// assert_eq!(
///     error.to_string(),
///     "invalid sentry-trace header: the trace id is not 32 hex digits, or is all zero"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseSentryTraceError {
    /// Not two or three `-`-separated parts.
    WrongShape,
    /// The trace id is not 32 hex digits, or is all zero.
    InvalidTraceId,
    /// The span id is not 16 hex digits, or is all zero.
    InvalidSpanId,
    /// The sampled flag is present but is not `1` or `0`.
    InvalidSampled,
}

impl fmt::Display for ParseSentryTraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid sentry-trace header: ")?;
        f.write_str(match self {
            ParseSentryTraceError::WrongShape => "expected {32 hex digits}-{16 hex digits}[-{1|0}]",
            ParseSentryTraceError::InvalidTraceId => {
                "the trace id is not 32 hex digits, or is all zero"
            }
            ParseSentryTraceError::InvalidSpanId => {
                "the span id is not 16 hex digits, or is all zero"
            }
            ParseSentryTraceError::InvalidSampled => "the sampled flag is not 1 or 0",
        })
    }
}

impl Error for ParseSentryTraceError {}

impl FromStr for SentryTrace {
    type Err = ParseSentryTraceError;

    /// Parses `{32 hex}-{16 hex}[-{1|0}]`. Surrounding whitespace is ignored and hex digits may
    /// be in either case; all-zero ids, ids of the wrong length, other characters, a fourth
    /// part and a flag other than `1`/`0` are rejected.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Split at the dashes by hand: a `split('-')` costs more than reading the ids.
        let (trace_id, rest) = split_dash(s.trim()).ok_or(ParseSentryTraceError::WrongShape)?;
        let (span_id, sampled) = match split_dash(rest) {
            Some((span_id, sampled)) if split_dash(sampled).is_none() => (span_id, Some(sampled)),
            Some(_) => return Err(ParseSentryTraceError::WrongShape),
            None => (rest, None),
        };
        let trace_id =
            parse_trace_id(trace_id, false).ok_or(ParseSentryTraceError::InvalidTraceId)?;
        let span_id = parse_span_id(span_id, false).ok_or(ParseSentryTraceError::InvalidSpanId)?;
        let sampled = match sampled {
            None => None,
            Some("1") => Some(true),
            Some("0") => Some(false),
            Some(_) => return Err(ParseSentryTraceError::InvalidSampled),
        };
        Ok(SentryTrace {
            trace_id,
            span_id,
            sampled,
        })
    }
}

impl fmt::Display for SentryTrace {
    /// `{trace_id}-{span_id}`, then `-1` or `-0` when a decision was made.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.trace_id, self.span_id)?;
        match self.sampled {
            Some(true) => f.write_str("-1"),
            Some(false) => f.write_str("-0"),
            None => Ok(()),
        }
    }
}

impl SentryTrace {
    /// Reads a W3C `traceparent` value, `{version}-{trace_id}-{parent_id}-{flags}`, as a
    /// [`SentryTrace`]: the sampled bit of the flags becomes `sampled` (so it is never `None`).
    ///
    /// Follows the W3C rules: two lowercase hex digits of version (`ff` is invalid), 32 and 16
    /// lowercase hex digits of ids (all-zero ids are invalid), two hex digits of flags. Version
    /// `00` has exactly these four parts; a later version may append more after a `-`, which
    /// are ignored. Anything else gives `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::SentryTrace;
    ///
    /// let trace = SentryTrace::from_traceparent(
    ///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    /// )
    /// .unwrap();
    /// assert_eq!(trace.sampled, Some(true));
    /// assert_eq!(trace.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1");
    ///
    /// assert!(SentryTrace::from_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none());
    /// ```
    pub fn from_traceparent(value: &str) -> Option<SentryTrace> {
        let mut parts = value.trim().split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let span_id = parts.next()?;
        let flags = parts.next()?;
        let version = parse_hex::<1>(version, true)?[0];
        if version == 0xff || (version == 0 && parts.next().is_some()) {
            return None;
        }
        let trace_id = parse_trace_id(trace_id, true)?;
        let span_id = parse_span_id(span_id, true)?;
        let flags = parse_hex::<1>(flags, true)?[0];
        Some(SentryTrace {
            trace_id,
            span_id,
            sampled: Some(flags & 1 == 1),
        })
    }

    /// This position as a W3C `traceparent` value: `00-{trace_id}-{span_id}-{flags}`, the
    /// flags `01` when sampled and `00` otherwise (a deferred decision too: `traceparent`
    /// cannot express one).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::SentryTrace;
    ///
    /// let trace: SentryTrace = "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12".parse()?;
    /// assert_eq!(
    ///     trace.to_traceparent(),
    ///     "00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-00"
    /// );
    /// # Ok::<(), sentry_core::propagation::ParseSentryTraceError>(())
    /// ```
    pub fn to_traceparent(&self) -> String {
        let flags = if self.sampled == Some(true) {
            "01"
        } else {
            "00"
        };
        format!("00-{}-{}-{flags}", self.trace_id, self.span_id)
    }
}

/// A trace id of exactly 32 hex digits, not all zero.
pub(super) fn parse_trace_id(s: &str, lowercase_only: bool) -> Option<TraceId> {
    parse_hex::<16>(s, lowercase_only)
        .map(TraceId::from_bytes)
        .filter(|id| !id.is_nil())
}

/// A span id of exactly 16 hex digits, not all zero.
fn parse_span_id(s: &str, lowercase_only: bool) -> Option<SpanId> {
    parse_hex::<8>(s, lowercase_only)
        .map(SpanId::from_bytes)
        .filter(|id| !id.is_nil())
}

/// The text before the first `-` and the text after it; `None` without a `-`.
fn split_dash(s: &str) -> Option<(&str, &str)> {
    let dash = s.bytes().position(|b| b == b'-')?;
    Some((s.get(..dash)?, s.get(dash + 1..)?))
}

/// Exactly `2 * N` hex digits (lowercase only, or either case) as `N` bytes.
fn parse_hex<const N: usize>(s: &str, lowercase_only: bool) -> Option<[u8; N]> {
    let digits = s.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_digit(pair[0], lowercase_only)? << 4) | hex_digit(pair[1], lowercase_only)?;
    }
    Some(out)
}

fn hex_digit(b: u8, lowercase_only: bool) -> Option<u8> {
    // One table load a digit instead of three range tests.
    let value = HEX_DIGITS[usize::from(b)];
    match value {
        0..=15 => Some(value),
        UPPER..=0x1f if !lowercase_only => Some(value & 0x0f),
        _ => None,
    }
}

/// Set beside the value of an uppercase digit (`A`–`F`).
const UPPER: u8 = 0x10;

/// The value of each byte as a hex digit: `0`–`9` and `a`–`f` their value, `A`–`F` their
/// value with [`UPPER`], anything else `0xff`.
static HEX_DIGITS: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = UPPER | (10 + i as u8);
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "771a43a4192642f0b136d5159a501700";
    const SPAN: &str = "b0e6f15b45c36b12";

    #[test]
    fn parses_sentry_trace() {
        let ok: &[(&str, Option<bool>)] = &[
            ("771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12", None),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
                Some(true),
            ),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0",
                Some(false),
            ),
            (
                "  771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1\t",
                Some(true),
            ),
            ("771A43A4192642F0B136D5159A501700-B0E6F15B45C36B12", None),
        ];
        for &(input, sampled) in ok {
            let trace: SentryTrace = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(trace.trace_id.to_string(), TRACE, "{input}");
            assert_eq!(trace.span_id.to_string(), SPAN, "{input}");
            assert_eq!(trace.sampled, sampled, "{input}");
        }
    }

    #[test]
    fn rejects_bad_sentry_trace() {
        use ParseSentryTraceError::*;
        let bad: &[(&str, ParseSentryTraceError)] = &[
            ("", WrongShape),
            ("   ", WrongShape),
            ("771a43a4192642f0b136d5159a501700", WrongShape),
            ("771a43a4192642f0b136d5159a501700-", InvalidSpanId),
            (
                "00000000000000000000000000000000-b0e6f15b45c36b12",
                InvalidTraceId,
            ),
            (
                "771a43a4192642f0b136d5159a501700-0000000000000000",
                InvalidSpanId,
            ),
            (
                "771a43a4192642f0b136d5159a50170-b0e6f15b45c36b12",
                InvalidTraceId,
            ),
            (
                "771a43a4192642f0b136d5159a5017000-b0e6f15b45c36b12",
                InvalidTraceId,
            ),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b1",
                InvalidSpanId,
            ),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b123",
                InvalidSpanId,
            ),
            (
                "771a43a4192642f0b136d5159a50170g-b0e6f15b45c36b12",
                InvalidTraceId,
            ),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b1z",
                InvalidSpanId,
            ),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-2",
                InvalidSampled,
            ),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-",
                InvalidSampled,
            ),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-true",
                InvalidSampled,
            ),
            (
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1-1",
                WrongShape,
            ),
            (
                "771a43a4-1926-42f0-b136-d5159a501700-b0e6f15b45c36b12",
                WrongShape,
            ),
            (
                "é71a43a4192642f0b136d5159a50170-b0e6f15b45c36b12",
                InvalidTraceId,
            ),
        ];
        for (input, error) in bad {
            assert_eq!(input.parse::<SentryTrace>(), Err(*error), "{input:?}");
        }
    }

    #[test]
    fn sentry_trace_round_trips() {
        for flag in ["", "-1", "-0"] {
            let input = format!("{TRACE}-{SPAN}{flag}");
            let trace: SentryTrace = input.parse().unwrap();
            assert_eq!(trace.to_string(), input);
        }
    }

    #[test]
    fn reads_traceparent() {
        let table: &[(&str, Option<Option<bool>>)] = &[
            (
                "00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-01",
                Some(Some(true)),
            ),
            (
                "00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-00",
                Some(Some(false)),
            ),
            // Only the sampled bit counts.
            (
                "00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-03",
                Some(Some(true)),
            ),
            (
                "00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-fe",
                Some(Some(false)),
            ),
            (
                " 00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-01 ",
                Some(Some(true)),
            ),
            // A later version may carry more fields.
            (
                "01-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-01-extra",
                Some(Some(true)),
            ),
            (
                "00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-01-extra",
                None,
            ),
            (
                "ff-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-01",
                None,
            ),
            (
                "0-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-01",
                None,
            ),
            (
                "00-00000000000000000000000000000000-b0e6f15b45c36b12-01",
                None,
            ),
            (
                "00-771a43a4192642f0b136d5159a501700-0000000000000000-01",
                None,
            ),
            (
                "00-771A43A4192642F0B136D5159A501700-b0e6f15b45c36b12-01",
                None,
            ),
            (
                "00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
                None,
            ),
            ("00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12", None),
            (
                "00-771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0g",
                None,
            ),
            ("771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1", None),
            ("", None),
        ];
        for &(input, expected) in table {
            let got = SentryTrace::from_traceparent(input);
            assert_eq!(got.map(|t| t.sampled), expected, "{input:?}");
            if let Some(trace) = got {
                assert_eq!(trace.trace_id.to_string(), TRACE);
                assert_eq!(trace.span_id.to_string(), SPAN);
            }
        }
    }

    #[test]
    fn writes_traceparent() {
        for (sampled, flags) in [(Some(true), "01"), (Some(false), "00"), (None, "00")] {
            let trace = SentryTrace {
                trace_id: TRACE.parse().unwrap(),
                span_id: SPAN.parse().unwrap(),
                sampled,
            };
            let header = trace.to_traceparent();
            assert_eq!(header, format!("00-{TRACE}-{SPAN}-{flags}"));
            let back = SentryTrace::from_traceparent(&header).unwrap();
            assert_eq!(back.sampled, Some(sampled == Some(true)));
        }
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        assert_eq!(
            ParseSentryTraceError::InvalidSampled.to_string(),
            "invalid sentry-trace header: the sampled flag is not 1 or 0"
        );
        assert!(ParseSentryTraceError::WrongShape
            .to_string()
            .contains("{32 hex digits}-{16 hex digits}[-{1|0}]"));
    }
}
