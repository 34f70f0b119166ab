//! Reading the trace an incoming request (or the process's environment) carries.

use sentry_minimal::{SpanId, TraceId};

use super::baggage::MemberReader;
use super::dsc::{DscReader, DynamicSamplingContext};
use super::sampling::backfill_sample_rand;
use super::sentry_trace::SentryTrace;
use super::{
    BAGGAGE_HEADER, SENTRY_BAGGAGE_ENV, SENTRY_TRACE_ENV, SENTRY_TRACE_HEADER, TRACEPARENT_HEADER,
};

/// The trace data of an incoming request, message or process: where in which trace it comes
/// from, and the upstream dynamic sampling context (the `sentry-` members of its baggage;
/// other vendors' members are never passed on, so they are not kept).
///
/// Built from headers by [`from_headers`](Self::from_headers), from the environment by
/// [`from_env`](Self::from_env). Invalid values are ignored, so an `IncomingTrace` with no
/// `sentry_trace` means "start a new trace".
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::IncomingTrace;
///
/// let incoming = IncomingTrace::from_headers([
///     ("Content-Type", "application/json"),
///     ("Sentry-Trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1"),
///     ("baggage", "sentry-sample_rate=0.5,sentry-sample_rand=0.25"),
/// ]);
/// let trace = incoming.sentry_trace.unwrap();
/// assert_eq!(trace.sampled, Some(true));
/// let dsc = incoming.dynamic_sampling_context().unwrap();
/// assert_eq!(dsc.sample_rand, Some(0.25));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncomingTrace {
    /// The upstream position in the trace: from `sentry-trace`, or from `traceparent` when
    /// there was no valid `sentry-trace`. `None` when neither was valid.
    pub sentry_trace: Option<SentryTrace>,
    /// The `sentry-` entries of the upstream baggage (all `baggage` headers together, read as
    /// [`DynamicSamplingContext::from_baggage`] reads them); empty when there were none.
    pub dsc: DynamicSamplingContext,
    /// `true` if `sentry_trace` was read from a W3C `traceparent` header.
    pub from_traceparent: bool,
}

/// The headers a trace is read from.
#[derive(Clone, Copy)]
enum TraceHeader {
    SentryTrace,
    Traceparent,
    Baggage,
}

impl TraceHeader {
    /// The trace header `name` names (ASCII case and surrounding whitespace ignored).
    fn of(name: &str) -> Option<TraceHeader> {
        // Names as servers and `http` spell them, compared whole first: one length test and
        // one comparison instead of a trim and three case-insensitive comparisons.
        match name {
            SENTRY_TRACE_HEADER => return Some(TraceHeader::SentryTrace),
            BAGGAGE_HEADER => return Some(TraceHeader::Baggage),
            TRACEPARENT_HEADER => return Some(TraceHeader::Traceparent),
            _ => {}
        }
        let name = name.trim();
        if name.eq_ignore_ascii_case(SENTRY_TRACE_HEADER) {
            Some(TraceHeader::SentryTrace)
        } else if name.eq_ignore_ascii_case(TRACEPARENT_HEADER) {
            Some(TraceHeader::Traceparent)
        } else if name.eq_ignore_ascii_case(BAGGAGE_HEADER) {
            Some(TraceHeader::Baggage)
        } else {
            None
        }
    }
}

impl IncomingTrace {
    /// Reads the trace headers among `headers` (name, value), whatever else they hold.
    ///
    /// Header names are case-insensitive. The first valid `sentry-trace` wins; a `traceparent`
    /// is used only when there is no valid `sentry-trace`. Several `baggage` headers are read
    /// as one, joined with `,` (up to [`MAX_BAGGAGE_BYTES`](super::MAX_BAGGAGE_BYTES) in all).
    /// Invalid values are ignored.
    ///
    /// The baggage is read in place: only the values of the `sentry-` entries the context
    /// keeps are copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::IncomingTrace;
    ///
    /// let incoming = IncomingTrace::from_headers([
    ///     ("sentry-trace", "garbage"),
    ///     ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ///     ("baggage", "sentry-environment=prod"),
    ///     ("BAGGAGE", "sentry-release=1.0"),
    /// ]);
    /// assert!(incoming.from_traceparent);
    /// assert_eq!(incoming.dsc.environment.as_deref(), Some("prod"));
    /// assert_eq!(incoming.dsc.release.as_deref(), Some("1.0"));
    /// ```
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> IncomingTrace {
        let mut sentry_trace = None;
        let mut traceparent = None;
        let mut members = MemberReader::default();
        let mut dsc = DscReader::default();
        for (name, value) in headers {
            match TraceHeader::of(name) {
                Some(TraceHeader::SentryTrace) if sentry_trace.is_none() => {
                    sentry_trace = value.parse::<SentryTrace>().ok();
                }
                Some(TraceHeader::Traceparent) if traceparent.is_none() => {
                    traceparent = SentryTrace::from_traceparent(value);
                }
                Some(TraceHeader::Baggage) => {
                    members.read_header(value, |member| dsc.member(member));
                }
                _ => {}
            }
        }
        let from_traceparent = sentry_trace.is_none() && traceparent.is_some();
        IncomingTrace {
            sentry_trace: sentry_trace.or(traceparent),
            dsc: dsc.finish(),
            from_traceparent,
        }
    }

    /// The trace passed down by the parent process in the `SENTRY_TRACE` and `SENTRY_BAGGAGE`
    /// environment variables (see [`from_values`](Self::from_values)). A variable that is not
    /// set, or not valid Unicode, counts as absent.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use sentry_core::propagation::IncomingTrace;
    ///
    /// let incoming = IncomingTrace::from_env();
    /// if incoming.sentry_trace.is_some() {
    ///     // continue the parent process's trace
    /// }
    /// ```
    pub fn from_env() -> IncomingTrace {
        let trace = std::env::var(SENTRY_TRACE_ENV).ok();
        let baggage = std::env::var(SENTRY_BAGGAGE_ENV).ok();
        IncomingTrace::from_values(trace.as_deref(), baggage.as_deref())
    }

    /// The trace carried by a `sentry-trace` value and a `baggage` value, from wherever they
    /// came (environment variables, queue message metadata). Invalid values are ignored; the
    /// `traceparent` format is not accepted here.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::IncomingTrace;
    ///
    /// let incoming = IncomingTrace::from_values(
    ///     Some("771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12"),
    ///     Some("sentry-org_id=17"),
    /// );
    /// assert_eq!(incoming.sentry_trace.unwrap().sampled, None);
    /// assert_eq!(incoming.dsc.org_id.as_deref(), Some("17"));
    /// ```
    pub fn from_values(sentry_trace: Option<&str>, baggage: Option<&str>) -> IncomingTrace {
        IncomingTrace {
            sentry_trace: sentry_trace.and_then(|v| v.parse().ok()),
            dsc: baggage
                .map(DynamicSamplingContext::from_baggage_header)
                .unwrap_or_default(),
            from_traceparent: false,
        }
    }

    /// The upstream dynamic sampling context, when there is a trace to continue: the
    /// `sentry-` baggage entries, or an empty context when there were none (the upstream SDK
    /// sent none, and the receiver must not make one up). `None` without a trace.
    ///
    /// [`continued`](Self::continued) is what continuing the trace uses; this is the context
    /// alone, borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::IncomingTrace;
    ///
    /// let incoming = IncomingTrace::from_values(
    ///     Some("771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12"),
    ///     Some("vendor=1"),
    /// );
    /// assert!(incoming.dynamic_sampling_context().unwrap().is_empty());
    /// assert_eq!(IncomingTrace::default().dynamic_sampling_context(), None);
    /// ```
    pub fn dynamic_sampling_context(&self) -> Option<&DynamicSamplingContext> {
        self.sentry_trace?;
        Some(&self.dsc)
    }
}

/// What continuing an incoming trace means for this process: the trace and the caller's span,
/// the caller's decision, the trace's `sample_rand` (from the baggage, or backfilled from the
/// decision so that it agrees with it), and the caller's sampling context, frozen (empty when
/// the caller sent no `sentry-` baggage).
///
/// Built once per incoming trace by [`IncomingTrace::continued`], and used as it is by both the
/// transaction that continues it and the scope whose events belong to it, so they cannot
/// disagree (on `sample_rand` especially, which is random when backfilled).
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::IncomingTrace;
///
/// let incoming = IncomingTrace::from_values(
///     Some("771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0"),
///     Some("sentry-sample_rate=0.25"),
/// );
/// let continued = incoming.continued().unwrap();
/// assert_eq!(continued.sampled, Some(false));
/// assert!(continued.sample_rand >= 0.25); // not sampled at 0.25: drawn from [0.25, 1)
/// assert_eq!(continued.dsc.sample_rate, Some(0.25));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ContinuedTrace {
    /// The trace.
    pub trace_id: TraceId,
    /// The caller's span: the parent of this process's first span.
    pub parent_span_id: SpanId,
    /// The caller's sampling decision, if it made one.
    pub sampled: Option<bool>,
    /// The trace's random value in [0, 1) that sampling compares rates with.
    pub sample_rand: f64,
    /// The caller's dynamic sampling context, frozen.
    pub dsc: DynamicSamplingContext,
}

impl IncomingTrace {
    /// What continuing this trace means (see [`ContinuedTrace`]); `None` when it names no
    /// trace. Each call backfills a missing `sample_rand` anew: call it once per trace.
    pub fn continued(&self) -> Option<ContinuedTrace> {
        self.sentry_trace?;
        self.clone().into_continued()
    }

    /// [`continued`](Self::continued), taking the trace: its sampling context moves into
    /// the result instead of being copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::IncomingTrace;
    ///
    /// let incoming = IncomingTrace::from_values(
    ///     Some("771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1"),
    ///     Some("sentry-sample_rand=0.5,sentry-environment=prod"),
    /// );
    /// let continued = incoming.into_continued().unwrap();
    /// assert_eq!(continued.sample_rand, 0.5);
    /// assert_eq!(continued.dsc.environment.as_deref(), Some("prod"));
    /// ```
    pub fn into_continued(self) -> Option<ContinuedTrace> {
        let parent = self.sentry_trace?;
        let dsc = self.dsc;
        let sample_rand = dsc
            .sample_rand
            .unwrap_or_else(|| backfill_sample_rand(parent.sampled, dsc.sample_rate));
        Some(ContinuedTrace {
            trace_id: parent.trace_id,
            parent_span_id: parent.span_id,
            sampled: parent.sampled,
            sample_rand,
            dsc,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::baggage::{Baggage, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
    use super::*;

    const ST: &str = "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1";
    const ST_OTHER: &str = "11111111111111111111111111111111-2222222222222222-0";
    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn trace_of(incoming: &IncomingTrace) -> Option<String> {
        incoming.sentry_trace.map(|t| t.to_string())
    }

    #[test]
    fn header_table() {
        // (headers, expected sentry-trace, from traceparent)
        type Row<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, bool);
        let table: &[Row<'_>] = &[
            (&[], None, false),
            (&[("sentry-trace", ST)], Some(ST), false),
            (&[("SENTRY-TRACE", ST)], Some(ST), false),
            (&[(" Sentry-Trace ", ST)], Some(ST), false),
            (&[("sentry-trace", "junk")], None, false),
            (
                &[("sentry-trace", ST), ("sentry-trace", ST_OTHER)],
                Some(ST),
                false,
            ),
            (
                &[("sentry-trace", "junk"), ("sentry-trace", ST_OTHER)],
                Some(ST_OTHER),
                false,
            ),
            (
                &[("traceparent", TP)],
                Some("4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"),
                true,
            ),
            (
                &[("traceparent", TP), ("sentry-trace", ST)],
                Some(ST),
                false,
            ),
            (
                &[("sentry-trace", ST), ("Traceparent", TP)],
                Some(ST),
                false,
            ),
            (
                &[("sentry-trace", "junk"), ("traceparent", "junk")],
                None,
                false,
            ),
            (&[("x-sentry-trace", ST), ("trace", ST)], None, false),
        ];
        for (headers, expected, from_traceparent) in table {
            let incoming = IncomingTrace::from_headers(headers.iter().copied());
            assert_eq!(trace_of(&incoming).as_deref(), *expected, "{headers:?}");
            assert_eq!(incoming.from_traceparent, *from_traceparent, "{headers:?}");
        }
    }

    #[test]
    fn baggage_headers_are_joined() {
        let incoming = IncomingTrace::from_headers([
            ("baggage", "sentry-environment=prod, a=1"),
            ("Host", "example.com"),
            ("Baggage", ""),
            ("BAGGAGE", "sentry-environment=second,sentry-release=1.0"),
        ]);
        assert_eq!(incoming.dsc.environment.as_deref(), Some("prod"));
        assert_eq!(incoming.dsc.release.as_deref(), Some("1.0"));
        assert_eq!(incoming.sentry_trace, None);

        for junk in [" , ", "junk", "a=1", "sentry-=1"] {
            assert!(IncomingTrace::from_headers([("baggage", junk)])
                .dsc
                .is_empty());
        }
    }

    /// The old reading, kept as the reference: the headers joined into one string (up to
    /// the limit), then parsed whole.
    fn joined_then_parsed(headers: &[&str]) -> DynamicSamplingContext {
        let mut joined = String::new();
        for value in headers {
            if joined.len() > MAX_BAGGAGE_BYTES {
                continue;
            }
            if !joined.is_empty() {
                joined.push(',');
            }
            let room = MAX_BAGGAGE_BYTES + 1 - joined.len();
            joined.push_str(super::super::baggage::prefix(value, room));
        }
        DynamicSamplingContext::from_baggage(&Baggage::parse(&joined))
    }

    #[test]
    fn reading_in_place_equals_joining_then_parsing() {
        let member = "sentry-environment=e";
        let fill = |n: usize| format!("a={}", "x".repeat(n));
        // Headers around the byte limit: the `sentry-` member ends just before, at, or just
        // after it, in the first header or the next one, after empty headers or not.
        let mut cases: Vec<Vec<String>> = Vec::new();
        for delta in 0..4 {
            let n = MAX_BAGGAGE_BYTES - member.len() - "a=".len() - ",".len() - 2 + delta;
            cases.push(vec![format!("{},{member}", fill(n))]);
            cases.push(vec![fill(n), member.to_owned()]);
            cases.push(vec![String::new(), fill(n), member.to_owned()]);
            cases.push(vec![fill(n), String::new(), member.to_owned()]);
            cases.push(vec![fill(n + 1), "é".repeat(3), member.to_owned()]);
        }
        // Members past the member limit, spread over headers; repeated and empty keys.
        let many: Vec<String> = (0..MAX_BAGGAGE_MEMBERS - 1)
            .map(|i| format!("k{i}=v"))
            .collect();
        cases.push(vec![
            many.join(","),
            "sentry-release=r".into(),
            member.into(),
        ]);
        cases.push(vec![many.join(","), " , ,".into(), member.into()]);
        cases.push(vec![
            "sentry-release=,sentry-x=".into(),
            "sentry-release=late, sentry-x=late ;p".into(),
            "sentry-x=later,sentry-sample_rand=0.5,sentry-sample_rand=0.25".into(),
        ]);
        cases.push(vec!["".into(), "".into()]);
        for case in &cases {
            let headers: Vec<&str> = case.iter().map(String::as_str).collect();
            let read =
                IncomingTrace::from_headers(headers.iter().map(|value| ("baggage", *value))).dsc;
            assert_eq!(
                read,
                joined_then_parsed(&headers),
                "{:?}",
                case_summary(case)
            );
        }
    }

    fn case_summary(case: &[String]) -> Vec<(usize, String)> {
        case.iter()
            .map(|h| (h.len(), h.chars().rev().take(24).collect()))
            .collect()
    }

    #[test]
    fn baggage_is_bounded() {
        let big = format!("a={}", "x".repeat(MAX_BAGGAGE_BYTES - 12));
        let many: Vec<(&str, &str)> = std::iter::once(("baggage", big.as_str()))
            .chain(std::iter::repeat_n(
                ("baggage", "sentry-late=1,é=é"),
                10_000,
            ))
            .collect();
        let dsc = IncomingTrace::from_headers(many).dsc;
        assert!(dsc.other.is_empty());

        let head = "é".repeat(MAX_BAGGAGE_BYTES);
        let incoming = IncomingTrace::from_headers([("baggage", "sentry-a=1"), ("baggage", &head)]);
        assert_eq!(incoming.dsc.other["a"], "1");
    }

    #[test]
    fn values_as_from_the_environment() {
        let incoming = IncomingTrace::from_values(Some(ST), Some("sentry-sample_rand=0.5,v=1"));
        assert_eq!(trace_of(&incoming).as_deref(), Some(ST));
        let dsc = incoming.dynamic_sampling_context().unwrap();
        assert_eq!(dsc.sample_rand, Some(0.5));
        assert!(!incoming.from_traceparent);

        assert_eq!(
            IncomingTrace::from_values(None, None),
            IncomingTrace::default()
        );
        let junk = IncomingTrace::from_values(Some("junk"), Some(""));
        assert_eq!(junk, IncomingTrace::default());
        // traceparent is a header format only.
        assert_eq!(
            IncomingTrace::from_values(Some(TP), None).sentry_trace,
            None
        );
        // Baggage without a trace is kept, but gives no context to continue.
        let orphan = IncomingTrace::from_values(None, Some("sentry-release=1"));
        assert_eq!(orphan.dsc.release.as_deref(), Some("1"));
        assert_eq!(orphan.dynamic_sampling_context(), None);
        assert!(orphan.continued().is_none());
    }

    #[test]
    fn continued_by_reference_or_by_value_agree() {
        let incoming =
            IncomingTrace::from_values(Some(ST), Some("sentry-sample_rand=0.5,sentry-release=1"));
        assert_eq!(incoming.continued(), incoming.clone().into_continued());
        let continued = incoming.into_continued().unwrap();
        assert_eq!(continued.sample_rand, 0.5);
        assert_eq!(continued.dsc.release.as_deref(), Some("1"));
    }

    #[test]
    fn trace_without_sentry_baggage_has_an_empty_context() {
        let incoming = IncomingTrace::from_headers([("sentry-trace", ST)]);
        assert_eq!(
            incoming.dynamic_sampling_context(),
            Some(&DynamicSamplingContext::default())
        );
    }
}
