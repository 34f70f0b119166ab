//! The W3C `baggage` header: reading its `sentry-` members, and writing ours next to the
//! members other tools put on an outgoing request.
//!
//! A header is a comma-separated list of members, each `key=value` optionally followed by
//! `;`-separated properties. Sentry's members have keys starting with `sentry-`; together they
//! are the [dynamic sampling context](super::DynamicSamplingContext). Values are
//! percent-encoded.
//!
//! Both directions are bounded by the W3C limits, [`MAX_BAGGAGE_BYTES`] and
//! [`MAX_BAGGAGE_MEMBERS`].

use std::borrow::Cow;

use crate::protocol::SortedMap;

use super::dsc::DynamicSamplingContext;

/// The most bytes of baggage read or written (the W3C limit for a whole header).
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// The most members of baggage read or written (the W3C limit for a whole header).
pub const MAX_BAGGAGE_MEMBERS: usize = 180;

/// The prefix of Sentry's keys.
const SENTRY_PREFIX: &str = "sentry-";

/// A parsed `baggage` header: Sentry's entries, decoded, and everyone else's members as they
/// were received.
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::Baggage;
///
/// let baggage = Baggage::parse(
///     "sentry-trace_id=771a43a4192642f0b136d5159a501700, sentry-release=shop%401.0, \
///      vendor=x;prop=1",
/// );
/// assert!(baggage.has_sentry_entries());
/// assert_eq!(baggage.sentry_entry("release"), Some("shop@1.0"));
/// assert_eq!(baggage.third_party(), ["vendor=x;prop=1"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baggage {
    /// `sentry-` keys without the prefix → percent-decoded values.
    sentry: SortedMap<String, String>,
    /// Other members, trimmed, otherwise as received.
    third_party: Vec<String>,
}

impl Baggage {
    /// Parses a `baggage` header; several headers may be passed joined with `,`.
    ///
    /// Lenient, and never fails: whitespace around members, keys and values is trimmed, empty
    /// members and members without `=` are skipped, and properties after `;` stay in a
    /// third-party member's raw text but are ignored for a `sentry-` entry, whose value is
    /// percent-decoded (a `%` not followed by two hex digits is kept as it is; bytes that do
    /// not decode to UTF-8 become U+FFFD). When a `sentry-` key repeats, the first value wins.
    ///
    /// Bounded: only members that end within the first [`MAX_BAGGAGE_BYTES`] bytes are read,
    /// and at most [`MAX_BAGGAGE_MEMBERS`] of them; the rest is ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::Baggage;
    ///
    /// let baggage = Baggage::parse("sentry-environment=prod,,junk, other=1");
    /// assert_eq!(baggage.sentry_entry("environment"), Some("prod"));
    /// assert_eq!(baggage.third_party(), ["other=1"]);
    /// ```
    pub fn parse(header: &str) -> Baggage {
        let mut baggage = Baggage::default();
        MemberReader::default().read(header, |member| match member.sentry_key() {
            Some(name) => {
                if !name.is_empty() && !baggage.sentry.contains_key(name) {
                    baggage
                        .sentry
                        .insert(name.to_owned(), percent_decode(member.value).into_owned());
                }
            }
            None => baggage.third_party.push(member.text.to_owned()),
        });
        baggage
    }

    /// `true` if the header had at least one `sentry-` entry.
    ///
    /// An incoming `sentry-trace` without any `sentry-` baggage means the upstream SDK sent no
    /// dynamic sampling context: the receiver freezes an empty one rather than making its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::Baggage;
    ///
    /// assert!(Baggage::parse("sentry-sampled=true").has_sentry_entries());
    /// assert!(!Baggage::parse("other=1").has_sentry_entries());
    /// ```
    pub fn has_sentry_entries(&self) -> bool {
        !self.sentry.is_empty()
    }

    /// `true` if the header had no member worth keeping, Sentry's or anyone else's.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::Baggage;
    ///
    /// assert!(Baggage::parse(" , junk").is_empty());
    /// assert!(!Baggage::parse("other=1").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.sentry.is_empty() && self.third_party.is_empty()
    }

    /// The decoded value of the `sentry-{key}` entry (`key` without the prefix).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::Baggage;
    ///
    /// let baggage = Baggage::parse("sentry-transaction=GET%20%2Fusers");
    /// assert_eq!(baggage.sentry_entry("transaction"), Some("GET /users"));
    /// assert_eq!(baggage.sentry_entry("release"), None);
    /// ```
    pub fn sentry_entry(&self, key: &str) -> Option<&str> {
        self.sentry.get(key).map(String::as_str)
    }

    /// Every `sentry-` entry as (key without the prefix, decoded value), in key order.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::Baggage;
    ///
    /// let baggage = Baggage::parse("sentry-sampled=true,sentry-environment=prod");
    /// let entries: Vec<_> = baggage.sentry_entries().collect();
    /// assert_eq!(entries, [("environment", "prod"), ("sampled", "true")]);
    /// ```
    pub fn sentry_entries(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.sentry.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The members that are not Sentry's, trimmed, as received (properties included), in
    /// header order.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::Baggage;
    ///
    /// let baggage = Baggage::parse("a=1;p, sentry-release=1, b=%20");
    /// assert_eq!(baggage.third_party(), ["a=1;p", "b=%20"]);
    /// ```
    pub fn third_party(&self) -> &[String] {
        &self.third_party
    }
}

/// The `baggage` header for an outgoing request: the members of the request's own header
/// (`existing`) that are not Sentry's, then `dsc`'s entries as `sentry-{key}={value}` with
/// percent-encoded values. `None` when there is nothing to send.
///
/// `existing` is the header the request already carries (set by the application or another
/// tool), not the incoming request's baggage: other vendors' incoming members are never
/// forwarded, and `sentry-` members already present are replaced by ours.
///
/// The result respects [`MAX_BAGGAGE_BYTES`] and [`MAX_BAGGAGE_MEMBERS`] by dropping whole
/// members of `existing`, last first. Sentry's own entries are never dropped; in the
/// pathological case where they alone exceed the limits (a transaction name of several
/// kilobytes), the result is longer than the limit.
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::{merge_baggage, DynamicSamplingContext};
///
/// let dsc = DynamicSamplingContext {
///     public_key: Some("abc".into()),
///     release: Some("shop@1.0".into()),
///     ..Default::default()
/// };
/// assert_eq!(
///     merge_baggage(Some("vendor=1, sentry-release=old"), &dsc).as_deref(),
///     Some("vendor=1,sentry-public_key=abc,sentry-release=shop%401.0")
/// );
/// assert_eq!(merge_baggage(None, &DynamicSamplingContext::default()), None);
/// ```
pub fn merge_baggage(existing: Option<&str>, dsc: &DynamicSamplingContext) -> Option<String> {
    let ours: Vec<String> = dsc
        .to_entries()
        .into_iter()
        .map(|(key, value)| format_member(key, &value))
        .collect();
    // The other vendors' members, borrowed from `existing`: only the joined result is copied.
    let mut theirs: Vec<&str> = Vec::new();
    if let Some(header) = existing {
        MemberReader::default().read(header, |member| {
            if member.sentry_key().is_none() {
                theirs.push(member.text);
            }
        });
    }

    let ours_length = ours.iter().map(|m| m.len() + 1).sum::<usize>();
    let mut theirs_length = theirs.iter().map(|m| m.len() + 1).sum::<usize>();
    while !theirs.is_empty()
        && (ours_length + theirs_length > MAX_BAGGAGE_BYTES + 1
            || ours.len() + theirs.len() > MAX_BAGGAGE_MEMBERS)
    {
        if let Some(dropped) = theirs.pop() {
            theirs_length -= dropped.len() + 1;
        }
    }

    if theirs.is_empty() && ours.is_empty() {
        return None;
    }
    let mut header = String::with_capacity(theirs_length + ours_length);
    for member in theirs.into_iter().chain(ours.iter().map(String::as_str)) {
        if !header.is_empty() {
            header.push(',');
        }
        header.push_str(member);
    }
    Some(header)
}

/// One member of a `baggage` header, borrowed from it: `key=value` and its properties.
#[derive(Clone, Copy, Debug)]
pub(super) struct Member<'a> {
    /// The whole member, trimmed, properties included.
    pub(super) text: &'a str,
    /// The key, trimmed; never empty.
    pub(super) key: &'a str,
    /// The value without the properties, trimmed and still percent-encoded.
    pub(super) value: &'a str,
}

impl<'a> Member<'a> {
    /// The key without the `sentry-` prefix, for one of Sentry's members (empty for the bare
    /// key `sentry-`, which is Sentry's but names nothing); `None` for another vendor's.
    pub(super) fn sentry_key(&self) -> Option<&'a str> {
        self.key.strip_prefix(SENTRY_PREFIX)
    }
}

/// Reads the members of `baggage` text in place, within the W3C bounds: nothing is copied, so
/// a reader that keeps a few `sentry-` entries allocates only for those.
///
/// The text may come in parts (several `baggage` headers): [`read_header`](Self::read_header)
/// reads each as if all were joined with `,`, so the bounds apply to the whole, exactly as
/// [`read`](Self::read) applies them to one joined string.
#[derive(Debug, Default)]
pub(super) struct MemberReader {
    /// The bytes of the text read so far, a separator after each piece included.
    end: usize,
    /// The members read so far (empty ones are not counted).
    members: usize,
    /// The length of the headers joined so far, as [`read_header`](Self::read_header) joins
    /// them.
    joined: usize,
    /// A bound was reached: nothing more is read.
    done: bool,
}

impl MemberReader {
    /// Calls `each` with every member of `text` that has a key and a `=`, in order, until a
    /// bound is reached: only members that end within the first [`MAX_BAGGAGE_BYTES`] bytes
    /// are read, and at most [`MAX_BAGGAGE_MEMBERS`] of them.
    pub(super) fn read<'a>(&mut self, text: &'a str, mut each: impl FnMut(Member<'a>)) {
        let mut rest = text;
        while !self.done {
            let piece = Piece::find(rest);
            self.end += piece.len + 1;
            // `end` counts a separator after the last member too.
            if self.end - 1 > MAX_BAGGAGE_BYTES || self.members == MAX_BAGGAGE_MEMBERS {
                self.done = true;
                break;
            }
            if let Some(member) = piece.member(rest, &mut self.members) {
                each(member);
            }
            match rest.get(piece.len + 1..) {
                Some(next) if piece.len < rest.len() => rest = next,
                _ => break,
            }
        }
    }

    /// Reads one of several `baggage` headers (see [`read`](Self::read)), as if it were
    /// appended to those read before with a `,` between them. An empty header adds nothing
    /// before the first non-empty one, and no more than [`MAX_BAGGAGE_BYTES`] of all the
    /// headers together is ever looked at.
    pub(super) fn read_header<'a>(&mut self, header: &'a str, each: impl FnMut(Member<'a>)) {
        if self.joined > MAX_BAGGAGE_BYTES {
            return;
        }
        let after_another = self.joined > 0;
        if after_another {
            self.joined += 1;
        }
        let part = prefix(header, MAX_BAGGAGE_BYTES + 1 - self.joined);
        self.joined += part.len();
        if after_another || !part.is_empty() {
            self.read(part, each);
        }
    }
}

/// Where the first member of some text ends, and where its first `=` and `;` are: one pass
/// over the bytes (the separators are ASCII, so every position is a character boundary).
struct Piece {
    /// The length of the member, up to the first `,` (or the end).
    len: usize,
    /// The first `=` before the first `;`.
    equals: Option<usize>,
    /// The first `;`.
    semicolon: Option<usize>,
}

impl Piece {
    fn find(text: &str) -> Piece {
        let mut piece = Piece {
            len: text.len(),
            equals: None,
            semicolon: None,
        };
        for (i, &b) in text.as_bytes().iter().enumerate() {
            // One table load per byte; the three-way test only for the rare separators.
            if !SEPARATORS[usize::from(b)] {
                continue;
            }
            match b {
                b',' => {
                    piece.len = i;
                    break;
                }
                b';' if piece.semicolon.is_none() => piece.semicolon = Some(i),
                b'=' if piece.equals.is_none() && piece.semicolon.is_none() => {
                    piece.equals = Some(i)
                }
                _ => {}
            }
        }
        piece
    }

    /// The member this piece of `text` holds, counted in `members` when it is not empty;
    /// `None` when it is empty or has no `=` or no key.
    fn member<'a>(&self, text: &'a str, members: &mut usize) -> Option<Member<'a>> {
        let raw = text.get(..self.len)?;
        let trimmed = trim(raw);
        if trimmed.is_empty() {
            return None;
        }
        *members += 1;
        let equals = self.equals?;
        let key = trim(raw.get(..equals)?);
        if key.is_empty() {
            return None;
        }
        let value = raw.get(equals + 1..self.semicolon.unwrap_or(self.len))?;
        Some(Member {
            text: trimmed,
            key,
            value: trim(value),
        })
    }
}

/// The bytes [`Piece::find`] stops at: `,` `;` `=`.
static SEPARATORS: [bool; 256] = {
    let mut table = [false; 256];
    table[b',' as usize] = true;
    table[b';' as usize] = true;
    table[b'=' as usize] = true;
    table
};

/// `s` without leading and trailing whitespace (as `str::trim`), returned at once when it
/// starts and ends with a plain ASCII character, as header text almost always does.
fn trim(s: &str) -> &str {
    let plain = |b: &u8| b.is_ascii() && !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if plain(first) && plain(last) => s,
        _ => s.trim(),
    }
}

/// At most `max` bytes of the start of `s`, cut at a character boundary.
pub(super) fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `sentry-{key}={percent-encoded value}`.
pub(super) fn format_member(key: &str, value: &str) -> String {
    let mut member = String::with_capacity(SENTRY_PREFIX.len() + key.len() + 1 + value.len());
    member.push_str(SENTRY_PREFIX);
    member.push_str(key);
    member.push('=');
    percent_encode_into(&mut member, value);
    member
}

/// Appends `value` with every byte except the unreserved `A-Z a-z 0-9 - _ . ~` written as
/// `%XX` (uppercase hex).
fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept as it is, and bytes that
/// are not UTF-8 become U+FFFD.
pub(super) fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.contains('%') {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => hex_value(hi).zip(hex_value(lo)),
            _ => None,
        };
        match escaped {
            Some((hi, lo)) => {
                out.push((hi << 4) | lo);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    Cow::Owned(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: &str) -> String {
        let mut out = String::new();
        percent_encode_into(&mut out, value);
        out
    }

    #[test]
    fn percent_encoding() {
        let table = [
            ("", ""),
            ("abcXYZ019-_.~", "abcXYZ019-_.~"),
            ("a b", "a%20b"),
            ("shop@1.0+build", "shop%401.0%2Bbuild"),
            ("GET /users/{id}", "GET%20%2Fusers%2F%7Bid%7D"),
            ("a,b;c=d%e", "a%2Cb%3Bc%3Dd%25e"),
            ("é", "%C3%A9"),
            ("\n", "%0A"),
        ];
        for (plain, encoded) in table {
            assert_eq!(encode(plain), encoded, "{plain:?}");
            assert_eq!(percent_decode(encoded), plain, "{encoded:?}");
        }
    }

    #[test]
    fn percent_decoding_is_lenient() {
        let table = [
            ("100%", "100%"),
            ("%", "%"),
            ("%4", "%4"),
            ("%zz", "%zz"),
            ("%2x%41", "%2xA"),
            ("%c3%a9", "é"),
            ("a+b", "a+b"),
            ("%FF", "\u{FFFD}"),
            ("%%41", "%A"),
        ];
        for (encoded, plain) in table {
            assert_eq!(percent_decode(encoded), plain, "{encoded:?}");
        }
    }

    #[test]
    fn parses_members() {
        let baggage = Baggage::parse(
            " sentry-trace_id = 771a43a4192642f0b136d5159a501700 ;prop ,\tother=1;p=2 , , \
             novalue, =x, sentry-=y, sentry-release=a%2Cb, sentry-release=second, k=v=w",
        );
        let entries: Vec<_> = baggage.sentry_entries().collect();
        assert_eq!(
            entries,
            [
                ("release", "a,b"),
                ("trace_id", "771a43a4192642f0b136d5159a501700")
            ]
        );
        assert_eq!(baggage.third_party(), ["other=1;p=2", "k=v=w"]);
        assert!(baggage.has_sentry_entries());
        assert!(!baggage.is_empty());
    }

    #[test]
    fn parses_garbage_without_panicking() {
        for input in [
            "",
            ",,,",
            "=",
            "==",
            ";;;",
            "sentry-",
            "sentry-=",
            "%%%",
            "sentry-a=%",
            "sentry-a=%e",
            "\u{0}\u{1}",
            "é=é,sentry-é=%C3",
        ] {
            let baggage = Baggage::parse(input);
            let _ = baggage.sentry_entries().count();
        }
        let baggage = Baggage::parse("é=é,sentry-é=%C3");
        assert_eq!(baggage.sentry_entry("é"), Some("\u{FFFD}"));
        assert_eq!(baggage.third_party(), ["é=é"]);
        assert!(Baggage::parse(",, ,").is_empty());
    }

    #[test]
    fn stops_at_the_byte_limit() {
        // A member that ends exactly at the limit is read; one that crosses it is not.
        let filler = format!(
            "a={}",
            "x".repeat(MAX_BAGGAGE_BYTES - "a=".len() - ",sentry-k=v".len())
        );
        let at_limit = format!("{filler},sentry-k=v");
        assert_eq!(at_limit.len(), MAX_BAGGAGE_BYTES);
        assert_eq!(Baggage::parse(&at_limit).sentry_entry("k"), Some("v"));
        let over = format!("{filler},sentry-k=vv");
        let baggage = Baggage::parse(&over);
        assert_eq!(baggage.sentry_entry("k"), None);
        assert_eq!(baggage.third_party().len(), 1);

        let huge = "sentry-a=1,".repeat(100_000);
        assert_eq!(Baggage::parse(&huge).sentry_entry("a"), Some("1"));
    }

    #[test]
    fn stops_at_the_member_limit() {
        let mut header: Vec<String> = (0..MAX_BAGGAGE_MEMBERS)
            .map(|i| format!("k{i}=v"))
            .collect();
        header.push("sentry-late=1".to_owned());
        let baggage = Baggage::parse(&header.join(","));
        assert_eq!(baggage.third_party().len(), MAX_BAGGAGE_MEMBERS);
        assert_eq!(baggage.sentry_entry("late"), None);
        // Empty members do not count.
        let mut header = vec![String::new(); 500];
        header.push("sentry-late=1".to_owned());
        assert_eq!(
            Baggage::parse(&header.join(",")).sentry_entry("late"),
            Some("1")
        );
    }

    fn dsc() -> DynamicSamplingContext {
        DynamicSamplingContext {
            trace_id: Some("771a43a4192642f0b136d5159a501700".parse().unwrap()),
            public_key: Some("pk".into()),
            sample_rate: Some(0.5),
            ..Default::default()
        }
    }

    const OURS: &str = "sentry-trace_id=771a43a4192642f0b136d5159a501700,\
                        sentry-public_key=pk,sentry-sample_rate=0.5";

    #[test]
    fn merges_with_an_existing_header() {
        let table: &[(Option<&str>, String)] = &[
            (None, OURS.to_owned()),
            (Some(""), OURS.to_owned()),
            (Some("sentry-trace_id=abc,sentry-foo=1"), OURS.to_owned()),
            (Some("a=1, b=2;p"), format!("a=1,b=2;p,{OURS}")),
            (Some("a=1,sentry-x=2,junk,c=3"), format!("a=1,c=3,{OURS}")),
        ];
        for (existing, expected) in table {
            assert_eq!(
                merge_baggage(*existing, &dsc()).as_deref(),
                Some(expected.as_str()),
                "{existing:?}"
            );
        }
    }

    #[test]
    fn merge_without_anything_to_send_is_none() {
        let empty = DynamicSamplingContext::default();
        assert_eq!(merge_baggage(None, &empty), None);
        assert_eq!(merge_baggage(Some(""), &empty), None);
        assert_eq!(merge_baggage(Some("sentry-release=1"), &empty), None);
        assert_eq!(merge_baggage(Some("a=1"), &empty).as_deref(), Some("a=1"));
    }

    #[test]
    fn merge_drops_foreign_members_from_the_end_to_fit() {
        let big = "x".repeat(3000);
        let existing = format!("a={big},b={big},c={big}");
        let merged = merge_baggage(Some(&existing), &dsc()).unwrap();
        assert!(merged.len() <= MAX_BAGGAGE_BYTES, "{}", merged.len());
        assert_eq!(merged, format!("a={big},b={big},{OURS}"));

        // Exactly at the limit is kept.
        let fill = MAX_BAGGAGE_BYTES - OURS.len() - ",".len() - "a=".len();
        let existing = format!("a={}", "x".repeat(fill));
        let merged = merge_baggage(Some(&existing), &dsc()).unwrap();
        assert_eq!(merged.len(), MAX_BAGGAGE_BYTES);
        let existing = format!("a={}", "x".repeat(fill + 1));
        assert_eq!(merge_baggage(Some(&existing), &dsc()).unwrap(), OURS);

        // Too many members.
        let existing: Vec<String> = (0..MAX_BAGGAGE_MEMBERS)
            .map(|i| format!("k{i}=v"))
            .collect();
        let merged = merge_baggage(Some(&existing.join(",")), &dsc()).unwrap();
        assert_eq!(merged.split(',').count(), MAX_BAGGAGE_MEMBERS);
        assert!(merged.ends_with(OURS));
        assert!(merged.starts_with("k0=v,"));
    }

    #[test]
    fn merge_never_drops_our_entries() {
        let mut dsc = dsc();
        dsc.transaction = Some("t".repeat(MAX_BAGGAGE_BYTES));
        let merged = merge_baggage(Some("a=1"), &dsc).unwrap();
        assert!(merged.starts_with("sentry-trace_id="));
        assert!(merged.ends_with(&"t".repeat(MAX_BAGGAGE_BYTES)));
    }

    #[test]
    fn merged_header_parses_back() {
        let mut dsc = dsc();
        dsc.release = Some("shop@1.0, \"beta\"; x=y".into());
        dsc.other.insert("custom".into(), "a=b".into());
        let merged = merge_baggage(Some("vendor=1"), &dsc).unwrap();
        let baggage = Baggage::parse(&merged);
        assert_eq!(DynamicSamplingContext::from_baggage(&baggage), dsc);
        assert_eq!(baggage.third_party(), ["vendor=1"]);
    }
}
