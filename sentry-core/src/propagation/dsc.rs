//! The dynamic sampling context (DSC): what Sentry needs to sample a whole trace the same way,
//! carried in `baggage` as `sentry-` members and on envelopes as the `trace` header.

use crate::protocol::{Map, SortedMap, TraceId, Value};

use super::baggage::{format_member, percent_decode, Baggage, Member, MemberReader};
use super::sentry_trace::parse_trace_id;

/// The dynamic sampling context of a trace.
///
/// The head of a trace (the first SDK in it) fills it in; every other SDK takes it from the
/// incoming `baggage` and passes it on unchanged. Once it has been sent (in `baggage` or on an
/// envelope) it is frozen for the rest of the trace: the caller keeps it, this type only
/// converts.
///
/// All fields are optional; a field that is `None` is neither sent nor written to the
/// envelope header. Keys this SDK does not know are kept in [`other`](Self::other) and passed
/// on.
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::{Baggage, DynamicSamplingContext};
///
/// let baggage = Baggage::parse(
///     "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.25,\
///      sentry-sample_rand=0.1234567,sentry-sampled=true,sentry-future=x",
/// );
/// let dsc = DynamicSamplingContext::from_baggage(&baggage);
/// assert_eq!(dsc.sample_rate, Some(0.25));
/// assert_eq!(dsc.sampled, Some(true));
/// assert_eq!(dsc.other["future"], "x");
/// // sample_rand is written with six decimals, truncated.
/// assert_eq!(
///     dsc.to_baggage(),
///     "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.25,\
///      sentry-sample_rand=0.123456,sentry-sampled=true,sentry-future=x"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DynamicSamplingContext {
    /// The trace (`trace_id`).
    pub trace_id: Option<TraceId>,
    /// The public key of the head SDK's DSN (`public_key`).
    pub public_key: Option<String>,
    /// The sample rate the head used for the trace, in `[0, 1]` (`sample_rate`).
    pub sample_rate: Option<f64>,
    /// The trace's random value, in `[0, 1)`: the trace is sampled when
    /// `sample_rand < sample_rate` (`sample_rand`).
    pub sample_rand: Option<f64>,
    /// The head's sampling decision (`sampled`); absent while the decision is deferred.
    pub sampled: Option<bool>,
    /// The head's release (`release`).
    pub release: Option<String>,
    /// The head's environment (`environment`).
    pub environment: Option<String>,
    /// The name of the head's root transaction (`transaction`); set only for names of good
    /// quality (not raw URLs).
    pub transaction: Option<String>,
    /// The Sentry organization of the head (`org_id`).
    pub org_id: Option<String>,
    /// Other `sentry-` keys received, without the prefix, passed on as they are.
    pub other: SortedMap<String, String>,
}

impl DynamicSamplingContext {
    /// The context carried by the `sentry-` entries of `baggage`.
    ///
    /// Lenient: a value that does not parse is dropped — a `trace_id` that is not 32 hex digits
    /// (or is all zero), a `sample_rate` that is not a number in `[0, 1]`, a `sample_rand` that
    /// is not a number in `[0, 1)`, a `sampled` other than `true`/`false` — and so are empty
    /// values. Unknown keys go to [`other`](Self::other).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::{Baggage, DynamicSamplingContext};
    ///
    /// let baggage = Baggage::parse(
    ///     "sentry-sample_rate=2,sentry-sample_rand=0.5,sentry-sampled=yes,sentry-release=1.0",
    /// );
    /// let dsc = DynamicSamplingContext::from_baggage(&baggage);
    /// assert_eq!(dsc.sample_rate, None);
    /// assert_eq!(dsc.sample_rand, Some(0.5));
    /// assert_eq!(dsc.sampled, None);
    /// assert_eq!(dsc.release.as_deref(), Some("1.0"));
    /// ```
    pub fn from_baggage(baggage: &Baggage) -> DynamicSamplingContext {
        let mut dsc = DynamicSamplingContext::default();
        for (key, value) in baggage.sentry_entries() {
            dsc.set(key, value);
        }
        dsc
    }

    /// The context carried by the `sentry-` members of a `baggage` header, read in place:
    /// the same as [`from_baggage`](Self::from_baggage) of the parsed header, without a copy
    /// of the members it does not keep.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::DynamicSamplingContext;
    ///
    /// let dsc = DynamicSamplingContext::from_baggage_header(
    ///     "vendor=1, sentry-environment=prod, sentry-environment=second, sentry-release=a%40b",
    /// );
    /// assert_eq!(dsc.environment.as_deref(), Some("prod"));
    /// assert_eq!(dsc.release.as_deref(), Some("a@b"));
    /// ```
    pub fn from_baggage_header(header: &str) -> DynamicSamplingContext {
        let mut reader = DscReader::default();
        MemberReader::default().read(header, |member| reader.member(member));
        reader.finish()
    }

    /// Sets the field of `key` (without the `sentry-` prefix) from its decoded `value`; an
    /// empty value is no value.
    fn set(&mut self, key: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        match known_key(key) {
            Some(index) => self.set_known(index, value),
            None => {
                self.other.insert(key.to_owned(), value.to_owned());
            }
        }
    }

    /// Sets the field of the known key `index` (in [`KNOWN_KEYS`]) from its decoded,
    /// non-empty `value`.
    fn set_known(&mut self, index: usize, value: &str) {
        let text = || Some(value.to_owned());
        match index {
            0 => self.trace_id = parse_trace_id(value, false),
            1 => self.public_key = text(),
            2 => self.sample_rate = parse_number(value).filter(|r| (0.0..=1.0).contains(r)),
            3 => self.sample_rand = parse_number(value).filter(|r| (0.0..1.0).contains(r)),
            4 => {
                self.sampled = match value {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                }
            }
            5 => self.release = text(),
            6 => self.environment = text(),
            7 => self.transaction = text(),
            8 => self.org_id = text(),
            _ => {}
        }
    }

    /// `true` if no field is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::DynamicSamplingContext;
    ///
    /// assert!(DynamicSamplingContext::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.to_entries().is_empty()
    }

    /// The entries to send, as (key without the `sentry-` prefix, value), in a fixed order:
    /// `trace_id`, `public_key`, `sample_rate`, `sample_rand`, `sampled`, `release`,
    /// `environment`, `transaction`, `org_id`, then [`other`](Self::other) in key order (an
    /// `other` key that names a known field is left out: the field wins).
    ///
    /// Numbers are written in plain decimal notation, never with an exponent: `sample_rate` as
    /// the shortest decimal that reads back as the same number (`1e-7` as `0.0000001`), and
    /// `sample_rand` with exactly six decimals, truncated (`0.9999999` as `0.999999`, never
    /// `1.000000`). A number that is not finite is left out; one outside its range is clamped
    /// into it (`[0, 1]` for the rate, `[0, 0.999999]` for the random value).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::DynamicSamplingContext;
    ///
    /// let dsc = DynamicSamplingContext {
    ///     sample_rate: Some(0.0000001),
    ///     sample_rand: Some(0.9999999),
    ///     sampled: Some(false),
    ///     ..Default::default()
    /// };
    /// assert_eq!(
    ///     dsc.to_entries(),
    ///     [
    ///         ("sample_rate", "0.0000001".to_owned()),
    ///         ("sample_rand", "0.999999".to_owned()),
    ///         ("sampled", "false".to_owned()),
    ///     ]
    /// );
    /// ```
    pub fn to_entries(&self) -> Vec<(&str, String)> {
        let mut entries = Vec::with_capacity(9 + self.other.len());
        let mut push = |key: &'static str, value: Option<String>| {
            if let Some(value) = value {
                entries.push((key, value));
            }
        };
        push("trace_id", self.trace_id.map(|id| id.to_string()));
        push("public_key", self.public_key.clone());
        push("sample_rate", self.sample_rate.and_then(format_sample_rate));
        push("sample_rand", self.sample_rand.and_then(format_sample_rand));
        push("sampled", self.sampled.map(|s| s.to_string()));
        push("release", self.release.clone());
        push("environment", self.environment.clone());
        push("transaction", self.transaction.clone());
        push("org_id", self.org_id.clone());
        for (key, value) in &self.other {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                entries.push((key.as_str(), value.clone()));
            }
        }
        entries
    }

    /// The envelope `trace` header: the [entries](Self::to_entries) as a map of strings,
    /// without the `sentry-` prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::DynamicSamplingContext;
    /// use sentry_core::protocol::Value;
    ///
    /// let dsc = DynamicSamplingContext {
    ///     public_key: Some("abc".into()),
    ///     sample_rate: Some(1.0),
    ///     ..Default::default()
    /// };
    /// let header = dsc.to_header_map();
    /// assert_eq!(header["public_key"], Value::from("abc"));
    /// assert_eq!(header["sample_rate"], Value::from("1"));
    /// ```
    pub fn to_header_map(&self) -> Map {
        self.to_entries()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), Value::String(value)))
            .collect()
    }

    /// The `sentry-` members of a `baggage` header carrying this context, comma-separated with
    /// percent-encoded values; empty when no field is set. To add them to a header that already
    /// has members, use [`merge_baggage`](super::merge_baggage).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::DynamicSamplingContext;
    ///
    /// let dsc = DynamicSamplingContext {
    ///     environment: Some("prod".into()),
    ///     transaction: Some("GET /users".into()),
    ///     ..Default::default()
    /// };
    /// assert_eq!(dsc.to_baggage(), "sentry-environment=prod,sentry-transaction=GET%20%2Fusers");
    /// ```
    pub fn to_baggage(&self) -> String {
        let mut out = String::new();
        for (key, value) in self.to_entries() {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&format_member(key, &value));
        }
        out
    }
}

/// Builds a [`DynamicSamplingContext`] from `baggage` members as a [`MemberReader`] reads
/// them, keeping the first value of each `sentry-` key (as [`Baggage::parse`] does) and
/// copying only the values it keeps.
#[derive(Debug, Default)]
pub(super) struct DscReader<'a> {
    dsc: DynamicSamplingContext,
    /// The known keys seen, one bit each (by their index in [`KNOWN_KEYS`]).
    seen_known: u16,
    /// The other `sentry-` keys seen (rare: allocated only when there is one).
    seen_other: Vec<&'a str>,
}

impl<'a> DscReader<'a> {
    /// Reads `member`: a `sentry-` member not seen before sets its field; others are ignored.
    pub(super) fn member(&mut self, member: Member<'a>) {
        let Some(key) = member.sentry_key().filter(|key| !key.is_empty()) else {
            return;
        };
        let known = known_key(key);
        let first = match known {
            Some(index) => {
                let bit = 1 << index;
                let first = self.seen_known & bit == 0;
                self.seen_known |= bit;
                first
            }
            None => {
                let first = !self.seen_other.contains(&key);
                if first {
                    self.seen_other.push(key);
                }
                first
            }
        };
        if !first {
            return;
        }
        let value = percent_decode(member.value);
        if value.is_empty() {
            return;
        }
        match known {
            Some(index) => self.dsc.set_known(index, &value),
            None => {
                self.dsc.other.insert(key.to_owned(), value.into_owned());
            }
        }
    }

    /// The context read.
    pub(super) fn finish(self) -> DynamicSamplingContext {
        self.dsc
    }
}

/// The keys that have a field of their own.
const KNOWN_KEYS: [&str; 9] = [
    "trace_id",
    "public_key",
    "sample_rate",
    "sample_rand",
    "sampled",
    "release",
    "environment",
    "transaction",
    "org_id",
];

/// The index of `key` in [`KNOWN_KEYS`]: one match (by length, then the bytes) instead of
/// a comparison with each key in turn.
fn known_key(key: &str) -> Option<usize> {
    Some(match key {
        "trace_id" => 0,
        "public_key" => 1,
        "sample_rate" => 2,
        "sample_rand" => 3,
        "sampled" => 4,
        "release" => 5,
        "environment" => 6,
        "transaction" => 7,
        "org_id" => 8,
        _ => return None,
    })
}

/// A finite number, in any notation `f64` parses (`0.5`, `5e-1`).
fn parse_number(value: &str) -> Option<f64> {
    value.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The shortest decimal that reads back as `rate` (clamped into `[0, 1]`); `f64`'s `Display`
/// never uses an exponent.
fn format_sample_rate(rate: f64) -> Option<String> {
    if rate.is_nan() {
        return None;
    }
    // `<=` also maps -0.0 to 0.
    let rate = if rate <= 0.0 { 0.0 } else { rate.min(1.0) };
    Some(rate.to_string())
}

/// Exactly six decimals, truncated, of `rand` clamped into `[0, 0.999999]`.
///
/// Truncation works on the shortest decimal that reads back as `rand`, not on its exact binary
/// value: `0.123456` (stored as slightly less than that) is written `0.123456`, not `0.123455`.
pub(super) fn format_sample_rand(rand: f64) -> Option<String> {
    if rand.is_nan() {
        return None;
    }
    if rand <= 0.0 {
        return Some("0.000000".to_owned());
    }
    if rand >= 1.0 {
        return Some("0.999999".to_owned());
    }
    let shortest = rand.to_string();
    // `Display` writes a number in (0, 1) as `0.` and at least one digit.
    let decimals = shortest.strip_prefix("0.").unwrap_or("0");
    let mut out = String::with_capacity(8);
    out.push_str("0.");
    out.extend(decimals.chars().chain(std::iter::repeat('0')).take(6));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_match_their_table() {
        for (index, key) in KNOWN_KEYS.iter().enumerate() {
            assert_eq!(known_key(key), Some(index), "{key}");
        }
        assert_eq!(known_key("future"), None);
    }

    #[test]
    fn formats_sample_rand() {
        let table: &[(f64, Option<&str>)] = &[
            (0.0, Some("0.000000")),
            (-0.0, Some("0.000000")),
            (-1.0, Some("0.000000")),
            (0.5, Some("0.500000")),
            (0.123456, Some("0.123456")),
            (0.1234567, Some("0.123456")),
            (0.1234569, Some("0.123456")),
            (0.9999999, Some("0.999999")),
            (0.99999999999, Some("0.999999")),
            (1.0 - f64::EPSILON, Some("0.999999")),
            (1.0, Some("0.999999")),
            (7.0, Some("0.999999")),
            (1e-7, Some("0.000000")),
            (1e-6, Some("0.000001")),
            (0.000_001_9, Some("0.000001")),
            (f64::MIN_POSITIVE, Some("0.000000")),
            (f64::INFINITY, Some("0.999999")),
            (f64::NAN, None),
        ];
        for &(rand, expected) in table {
            assert_eq!(format_sample_rand(rand).as_deref(), expected, "{rand}");
        }
        // Every six-decimal value is written as itself.
        for n in (0..1_000_000u32).step_by(7) {
            let text = format!("0.{n:06}");
            let value: f64 = text.parse().unwrap();
            assert_eq!(format_sample_rand(value).unwrap(), text);
            assert_eq!(format_sample_rand(f64::from(n) / 1e6).unwrap(), text);
        }
    }

    #[test]
    fn formats_sample_rate() {
        let table: &[(f64, Option<&str>)] = &[
            (0.0, Some("0")),
            (-0.0, Some("0")),
            (1.0, Some("1")),
            (0.25, Some("0.25")),
            (0.1, Some("0.1")),
            (1e-7, Some("0.0000001")),
            (1.5e-10, Some("0.00000000015")),
            (2.0, Some("1")),
            (-0.5, Some("0")),
            (f64::NAN, None),
        ];
        for &(rate, expected) in table {
            assert_eq!(format_sample_rate(rate).as_deref(), expected, "{rate}");
        }
    }

    #[test]
    fn reads_baggage_leniently() {
        type Check = fn(&DynamicSamplingContext) -> bool;
        let table: &[(&str, Check)] = &[
            ("sentry-trace_id=771a43a4192642f0b136d5159a501700", |d| {
                d.trace_id.map(|t| t.to_string()).as_deref()
                    == Some("771a43a4192642f0b136d5159a501700")
            }),
            ("sentry-trace_id=00000000000000000000000000000000", |d| {
                d.trace_id.is_none()
            }),
            ("sentry-trace_id=771a43a4", |d| d.trace_id.is_none()),
            ("sentry-sample_rate=0", |d| d.sample_rate == Some(0.0)),
            ("sentry-sample_rate=1", |d| d.sample_rate == Some(1.0)),
            ("sentry-sample_rate=1e-3", |d| d.sample_rate == Some(0.001)),
            ("sentry-sample_rate=1.01", |d| d.sample_rate.is_none()),
            ("sentry-sample_rate=-0.1", |d| d.sample_rate.is_none()),
            ("sentry-sample_rate=NaN", |d| d.sample_rate.is_none()),
            ("sentry-sample_rate=inf", |d| d.sample_rate.is_none()),
            ("sentry-sample_rate=half", |d| d.sample_rate.is_none()),
            ("sentry-sample_rand=0", |d| d.sample_rand == Some(0.0)),
            ("sentry-sample_rand=0.999999", |d| {
                d.sample_rand == Some(0.999999)
            }),
            ("sentry-sample_rand=1", |d| d.sample_rand.is_none()),
            ("sentry-sample_rand=1.0", |d| d.sample_rand.is_none()),
            ("sentry-sample_rand=-0.5", |d| d.sample_rand.is_none()),
            ("sentry-sampled=true", |d| d.sampled == Some(true)),
            ("sentry-sampled=false", |d| d.sampled == Some(false)),
            ("sentry-sampled=True", |d| d.sampled.is_none()),
            ("sentry-sampled=1", |d| d.sampled.is_none()),
            ("sentry-public_key=abc", |d| {
                d.public_key.as_deref() == Some("abc")
            }),
            ("sentry-release=a%20b", |d| {
                d.release.as_deref() == Some("a b")
            }),
            ("sentry-environment=prod", |d| {
                d.environment.as_deref() == Some("prod")
            }),
            ("sentry-transaction=GET%20%2F", |d| {
                d.transaction.as_deref() == Some("GET /")
            }),
            ("sentry-org_id=17", |d| d.org_id.as_deref() == Some("17")),
            ("sentry-release=", |d| d.release.is_none()),
            ("sentry-replay_id=r1", |d| {
                d.other.get("replay_id").map(String::as_str) == Some("r1")
            }),
            ("other=1", |d| d.is_empty()),
        ];
        for (header, check) in table {
            let dsc = DynamicSamplingContext::from_baggage(&Baggage::parse(header));
            assert!(check(&dsc), "{header}: {dsc:?}");
        }
    }

    fn full() -> DynamicSamplingContext {
        let mut other = SortedMap::new();
        other.insert("replay_id".to_owned(), "r 1".to_owned());
        other.insert("a_first".to_owned(), "x".to_owned());
        DynamicSamplingContext {
            trace_id: Some("771a43a4192642f0b136d5159a501700".parse().unwrap()),
            public_key: Some("pk".into()),
            sample_rate: Some(0.5),
            sample_rand: Some(0.25),
            sampled: Some(true),
            release: Some("shop@1.0".into()),
            environment: Some("prod".into()),
            transaction: Some("GET /users".into()),
            org_id: Some("17".into()),
            other,
        }
    }

    #[test]
    fn entries_in_fixed_order() {
        let dsc = full();
        let entries = dsc.to_entries();
        let keys: Vec<&str> = entries.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "trace_id",
                "public_key",
                "sample_rate",
                "sample_rand",
                "sampled",
                "release",
                "environment",
                "transaction",
                "org_id",
                "a_first",
                "replay_id"
            ]
        );
        assert_eq!(entries[3].1, "0.250000");
        assert_eq!(entries[4].1, "true");
        assert!(DynamicSamplingContext::default().to_entries().is_empty());
    }

    #[test]
    fn other_cannot_shadow_a_field() {
        let mut dsc = DynamicSamplingContext::default();
        dsc.other.insert("release".into(), "sneaky".into());
        assert!(dsc.to_entries().is_empty());
        dsc.release = Some("real".into());
        assert_eq!(dsc.to_baggage(), "sentry-release=real");
    }

    #[test]
    fn baggage_and_header_map_agree() {
        let dsc = full();
        assert_eq!(
            dsc.to_baggage(),
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=pk,\
             sentry-sample_rate=0.5,sentry-sample_rand=0.250000,sentry-sampled=true,\
             sentry-release=shop%401.0,sentry-environment=prod,\
             sentry-transaction=GET%20%2Fusers,sentry-org_id=17,sentry-a_first=x,\
             sentry-replay_id=r%201"
        );
        let map = dsc.to_header_map();
        assert_eq!(map.len(), 11);
        assert_eq!(map["release"], Value::from("shop@1.0"));
        assert_eq!(map["sample_rand"], Value::from("0.250000"));
        assert_eq!(map["replay_id"], Value::from("r 1"));
        // Reads back what it writes (sample_rand already has six decimals).
        assert_eq!(
            DynamicSamplingContext::from_baggage(&Baggage::parse(&dsc.to_baggage())),
            dsc
        );
    }
}
