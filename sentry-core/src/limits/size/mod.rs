//! The read-only walk over an event (a transaction's spans included): its JSON size, and
//! whether anything in it exceeds a limit.
//!
//! The walk mirrors what the serializer writes, field by field, and errs on the large side:
//! numbers count their longest form, timestamps and addresses a fixed width, and a stack frame
//! not yet symbolicated [`SYMBOLICATION_ALLOWANCE`](crate::limits::SYMBOLICATION_ALLOWANCE) more. In *raw* mode a string counts its
//! bytes plus the quotes; escaping (`\n`, `\u0001`, …) can add up to five bytes per byte, so
//! [`Sizer::upper_bound`] adds that worst case. Only when the worst case is over a limit does a
//! caller walk again in *exact* mode, which counts the escapes. A typical event is far from the
//! limits and is walked once, without reading its strings.

use sentry_minimal::{Breadcrumb, Map, Value};

mod interfaces;
mod stack;
mod transaction;

use super::MAX_BREADTH;
use crate::depth::{DEPTH_MARKER, MAX_DEPTH};
use crate::protocol::Event;

/// The widest a number is written: `-9223372036854775808`, `1.7976931348623157e308`.
const NUMBER: usize = 24;
/// A timestamp as float seconds.
const TIMESTAMP: usize = NUMBER;
/// An RFC 3339 timestamp in quotes.
const RFC3339: usize = 40;
/// An address in quotes: `"0x` and 16 hex digits `"`.
const ADDR: usize = 20;

/// Walks data and adds up its JSON size, noting values over the limits.
///
/// The counts are `u64` added with wrapping: no walk over data held in memory comes near 2^64
/// bytes, and a plain add keeps the walk's dependency chain short (a saturating add per field
/// made it twice as slow).
#[derive(Debug, Clone)]
pub(crate) struct Sizer {
    bytes: u64,
    strings: u64,
    exact: bool,
    max_chars: usize,
    over: bool,
}

impl Sizer {
    /// A walk that checks strings against `max_chars` characters (`usize::MAX`: no check).
    /// `exact` counts the bytes JSON escaping adds to strings.
    pub(crate) fn new(exact: bool, max_chars: usize) -> Sizer {
        Sizer {
            bytes: 0,
            strings: 0,
            exact,
            max_chars,
            over: false,
        }
    }

    /// The size walked so far. In raw mode it leaves out escaping.
    pub(crate) fn bytes(&self) -> usize {
        usize::try_from(self.bytes).unwrap_or(usize::MAX)
    }

    /// At least the serialized size: exact mode's count, or raw mode's with every string byte
    /// escaped to six.
    pub(crate) fn upper_bound(&self) -> usize {
        let bound = if self.exact {
            self.bytes
        } else {
            self.bytes.saturating_add(self.strings.saturating_mul(5))
        };
        usize::try_from(bound).unwrap_or(usize::MAX)
    }

    /// Whether something walked exceeds the depth, breadth or string length limit.
    pub(crate) fn over_limits(&self) -> bool {
        self.over
    }

    #[inline]
    fn add(&mut self, n: usize) {
        self.bytes = self.bytes.wrapping_add(n as u64);
    }

    /// A string that the limits do not apply to.
    #[inline]
    pub(crate) fn str(&mut self, s: &str) {
        let escapes = if self.exact { escaped_extra(s) } else { 0 };
        self.add(2 + escapes);
        self.add(s.len());
        self.strings = self.strings.wrapping_add(s.len() as u64);
    }

    /// A string subject to `max_value_length`.
    #[inline]
    pub(crate) fn limited(&mut self, s: &str) {
        self.str(s);
        // A string has at most as many characters as bytes: count only the long ones.
        if s.len() > self.max_chars && s.chars().count() > self.max_chars {
            self.over = true;
        }
    }

    /// `"name":` and the comma after the field.
    #[inline]
    fn field(&mut self, name: &str) {
        self.add(name.len() + 4);
    }

    #[inline]
    fn opt(&mut self, name: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.field(name);
            self.str(value);
        }
    }

    fn number(&mut self, name: &str, present: bool) {
        if present {
            self.field(name);
            self.add(NUMBER);
        }
    }

    fn flag(&mut self, name: &str, present: bool) {
        if present {
            self.field(name);
            self.add(5);
        }
    }

    /// A value stored `depth` maps and arrays deep in its data bag (0 for the value under a
    /// bag's key). A map or array at [`MAX_DEPTH`] is counted as the marker it is written as,
    /// without looking inside.
    pub(crate) fn value(&mut self, value: &Value, depth: usize) {
        match value {
            Value::Null => self.add(4),
            Value::Bool(_) => self.add(5),
            Value::I64(n) => self.add(signed_len(*n)),
            Value::U64(n) => self.add(unsigned_len(*n)),
            Value::F64(_) => self.add(NUMBER),
            Value::String(s) => self.limited(s),
            Value::Array(_) | Value::Map(_) if depth >= MAX_DEPTH => {
                self.over = true;
                self.str(DEPTH_MARKER);
            }
            Value::Array(items) => {
                if items.len() > MAX_BREADTH {
                    self.over = true;
                }
                self.add(2 + items.len());
                for item in items {
                    self.value(item, depth + 1);
                }
            }
            Value::Map(map) => self.entries(map, depth + 1, 2),
            // `Value` is non-exhaustive; a future variant is written as its JSON text.
            #[allow(unreachable_patterns)]
            other => self.str(&other.to_string()),
        }
    }

    /// A data bag (`extra`, breadcrumb `data`, a context's fields, …): a map whose values are
    /// at depth 0.
    pub(crate) fn bag(&mut self, map: &Map) {
        self.entries(map, 0, 2);
    }

    /// The entries of a map whose values are at `depth`, plus `braces` bytes around them.
    fn entries(&mut self, map: &Map, depth: usize, braces: usize) {
        if map.len() > MAX_BREADTH {
            self.over = true;
        }
        self.add(braces + map.len() * 2);
        for (key, value) in map {
            self.limited(key);
            self.value(value, depth);
        }
    }

    /// A whole event.
    pub(crate) fn event(&mut self, event: &Event) {
        self.add(2);
        self.field("event_id");
        self.add(34);
        self.field("level");
        self.add(9);
        self.field("platform");
        self.str(&event.platform);
        self.field("timestamp");
        self.add(TIMESTAMP);
        self.opt("logger", event.logger.as_deref());
        self.opt("transaction", event.transaction.as_deref());
        self.opt("server_name", event.server_name.as_deref());
        self.opt("release", event.release.as_deref());
        self.opt("dist", event.dist.as_deref());
        self.opt("environment", event.environment.as_deref());
        if let Some(message) = &event.message {
            // Written twice: `logentry.formatted` and the top-level `message`.
            self.field("logentry");
            self.add(2);
            self.field("formatted");
            self.limited(message);
            self.field("message");
            self.str(message);
        }
        if !event.exception.is_empty() {
            self.values_wrapper("exception", event.exception.len());
            for exception in &event.exception {
                self.exception(exception);
            }
        }
        if !event.threads.is_empty() {
            self.values_wrapper("threads", event.threads.len());
            for thread in &event.threads {
                self.thread(thread);
            }
        }
        if let Some(stacktrace) = &event.stacktrace {
            self.field("stacktrace");
            self.stacktrace(stacktrace);
        }
        if !event.breadcrumbs.is_empty() {
            self.values_wrapper("breadcrumbs", event.breadcrumbs.len());
            for crumb in &event.breadcrumbs {
                self.breadcrumb(crumb);
            }
        }
        if !event.tags.is_empty() {
            self.field("tags");
            self.add(2 + event.tags.len() * 2);
            for (key, value) in &event.tags {
                self.str(key);
                self.str(value);
            }
        }
        if !event.extra.is_empty() {
            self.field("extra");
            self.bag(&event.extra);
        }
        if !event.contexts.is_empty() {
            self.field("contexts");
            self.add(2 + event.contexts.len() * 2);
            for (name, context) in &event.contexts {
                self.str(name);
                self.context(context);
            }
        }
        if let Some(user) = &event.user {
            self.field("user");
            self.user(user);
        }
        if let Some(request) = &event.request {
            self.field("request");
            self.request(request);
        }
        if !event.fingerprint.is_empty() {
            self.field("fingerprint");
            self.add(2 + event.fingerprint.len());
            for part in &event.fingerprint {
                self.str(part);
            }
        }
        if !event.modules.is_empty() {
            self.field("modules");
            self.add(2 + event.modules.len() * 2);
            for (name, version) in &event.modules {
                self.str(name);
                self.str(version);
            }
        }
        if let Some(sdk) = &event.sdk {
            self.field("sdk");
            self.sdk(sdk);
        }
        if let Some(debug_meta) = &event.debug_meta {
            self.field("debug_meta");
            self.add(2);
            self.field("images");
            self.add(2 + debug_meta.images.len());
            for image in &debug_meta.images {
                self.debug_image(image);
            }
        }
        self.transaction_parts(event);
    }

    /// `"name":{"values":[` … `]}` around `count` items, with their commas.
    fn values_wrapper(&mut self, name: &str, count: usize) {
        self.field(name);
        self.add(2);
        self.field("values");
        self.add(2 + count);
    }

    /// A breadcrumb, added up in one go (every capture walks every breadcrumb of its scopes):
    /// the fixed parts (braces, `timestamp`, `type` and `level`, which the count always
    /// includes) are one constant, and the strings' lengths are summed before being added. In
    /// exact mode their escapes are added on top.
    pub(crate) fn breadcrumb(&mut self, crumb: &Breadcrumb) {
        // The mode is a constant in each copy, so the raw one reads no string's bytes.
        if self.exact {
            self.breadcrumb_in::<true>(crumb);
        } else {
            self.breadcrumb_in::<false>(crumb);
        }
    }

    /// [`breadcrumb`](Self::breadcrumb) in one mode.
    fn breadcrumb_in<const EXACT: bool>(&mut self, crumb: &Breadcrumb) {
        /// `{}`, `"timestamp":N,`, `"type":"",` and `"level":"warning",`.
        const FIXED: usize = 2
            + ("timestamp".len() + 4)
            + TIMESTAMP
            + ("type".len() + 4 + 2)
            + ("level".len() + 4)
            + 9;
        let escapes = |s: &str| if EXACT { escaped_extra(s) } else { 0 };
        let mut bytes = FIXED + escapes(&crumb.ty);
        let mut text = crumb.ty.len();
        if let Some(category) = &crumb.category {
            bytes += "category".len() + 4 + 2 + escapes(category);
            text += category.len();
        }
        if let Some(message) = &crumb.message {
            bytes += "message".len() + 4 + 2 + escapes(message);
            text += message.len();
        }
        if let Some(origin) = &crumb.origin {
            bytes += "origin".len() + 4 + 2 + escapes(origin);
            text += origin.len();
        }
        if let Some(message) = &crumb.message {
            if message.len() > self.max_chars && message.chars().count() > self.max_chars {
                self.over = true;
            }
        }
        self.add(bytes + text);
        self.strings = self.strings.wrapping_add(text as u64);
        if !crumb.data.is_empty() {
            self.field("data");
            self.bag(&crumb.data);
        }
    }
}

/// An estimate of an event's serialized size, without serializing it: what the transport
/// queue counts against `queue_max_bytes`. Strings count their bytes (without escaping), so
/// this is close to the memory the event's content takes too.
pub(crate) fn estimated_event_size(event: &Event) -> usize {
    let mut sizer = Sizer::new(false, usize::MAX);
    sizer.event(event);
    sizer.bytes()
}

/// The bytes JSON escaping adds to `s`: one for `"`, `\` and the control characters with a
/// short escape, five for the other control characters (`\u0001`).
fn escaped_extra(s: &str) -> usize {
    s.bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum()
}

fn unsigned_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |digits| digits as usize + 1)
}

fn signed_len(n: i64) -> usize {
    unsigned_len(n.unsigned_abs()) + usize::from(n < 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A breadcrumb's count covers what the serializer writes for it (exact mode counts the
    /// escapes, raw mode only the bytes), and checks its message against the limit.
    #[test]
    fn a_breadcrumb_counts_what_is_written() {
        let mut full = Breadcrumb::new("line\n\"quoted\"").category("http");
        full.origin = Some("auto.http".into());
        full.data.insert("status".into(), 200.into());
        full.level = sentry_minimal::Level::Warning;
        full.ty = "http".into();
        let crumbs = [
            Breadcrumb::default(),
            Breadcrumb::new("clicked"),
            Breadcrumb::new("ü".repeat(30)).category("ui"),
            full,
        ];
        for crumb in &crumbs {
            let written = serde_json::to_vec(&crate::protocol::Ser(crumb))
                .unwrap()
                .len();
            let mut exact = Sizer::new(true, usize::MAX);
            exact.breadcrumb(crumb);
            assert!(
                exact.bytes() >= written,
                "{crumb:?}: {} < {written}",
                exact.bytes()
            );
            let mut raw = Sizer::new(false, usize::MAX);
            raw.breadcrumb(crumb);
            assert_eq!(
                exact.bytes() - raw.bytes(),
                crumb.message.as_deref().map_or(0, escaped_extra),
                "{crumb:?}"
            );
            assert!(!raw.over_limits());
        }
        let mut limited = Sizer::new(false, 20);
        limited.breadcrumb(&crumbs[2]);
        assert!(limited.over_limits(), "30 characters against 20");
        let mut within = Sizer::new(false, 40);
        within.breadcrumb(&crumbs[2]);
        assert!(
            !within.over_limits(),
            "60 bytes, but 30 characters against 40"
        );
    }

    /// A span's op, description and origin count by their length in raw mode, as the same
    /// strings do in exact mode (which reads them), the limit check on the description included.
    #[test]
    fn a_spans_texts_count_as_their_strings() {
        use crate::protocol::{Span, SpanText};

        let texts = [
            ("db.query", "SELECT 1".to_owned()),
            (
                "http.client",
                "GET https://example.com/a/rather/long/path".to_owned(),
            ),
            ("cache.get", "ü".repeat(20)),
        ];
        for (op, description) in texts {
            let span = Span {
                op: Some(SpanText::from(op)),
                description: Some(SpanText::from(description)),
                origin: Some(SpanText::from_static("auto.db.sqlx")),
                ..Span::default()
            };
            for max_chars in [usize::MAX, 30, 15] {
                let mut raw = Sizer::new(false, max_chars);
                raw.span(&span);
                let mut exact = Sizer::new(true, max_chars);
                exact.span(&span);
                assert_eq!(
                    (raw.bytes, raw.strings, raw.over),
                    (exact.bytes, exact.strings, exact.over),
                    "{op} {max_chars}"
                );
            }
        }
    }

    #[test]
    fn numbers_count_their_digits() {
        for n in [0i64, 7, -7, 10, 99, -100, i64::MAX, i64::MIN] {
            assert_eq!(signed_len(n), n.to_string().len(), "{n}");
        }
        for n in [0u64, 9, 10, u64::MAX] {
            assert_eq!(unsigned_len(n), n.to_string().len(), "{n}");
        }
    }

    #[test]
    fn escapes_are_counted_as_serde_json_writes_them() {
        for s in [
            "plain",
            "quote\" back\\",
            "tab\tnl\ncr\r",
            "\u{1}\u{1f}\u{8}\u{c}",
            "é…",
        ] {
            let written = serde_json::to_string(s).unwrap().len();
            assert_eq!(s.len() + 2 + escaped_extra(s), written, "{s:?}");
        }
    }
}
