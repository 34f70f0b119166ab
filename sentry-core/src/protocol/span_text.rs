//! [`SpanText`]: a span's operation, description or origin, kept without an allocation when
//! it is short or `'static`.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How many bytes a [`SpanText`] keeps inline (the type is 32 bytes, 8 more than a `String`).
/// Measured against 30 (the same size): spans of a transaction ran slower with 30 for reasons
/// not found (code layout, most likely); 22 holds the usual operations and short names.
const INLINE: usize = 22;

/// The text of a span's operation (`db.query`), description or origin (`auto.db.sqlx`).
///
/// Most of these texts are short or written in the program, and a span is started on the
/// application's own threads, often thousands of times a second: a `SpanText` keeps a
/// `&'static str` as it is ([`SpanText::from_static`]), copies a text of up to 22 bytes into
/// itself, and holds a longer one in a `String`. None of the first two allocates.
///
/// It reads as a `str` (it dereferences to one), compares by its text whatever its form, and is
/// written and read as a plain JSON string.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::SpanText;
///
/// let op = SpanText::from("db.query"); // short: kept inline, no allocation
/// assert_eq!(op, "db.query");
/// assert_eq!(op.len(), 8);
/// let origin = SpanText::from_static("auto.db.sqlx");
/// assert_eq!(origin.as_str(), "auto.db.sqlx");
/// let long = SpanText::from("SELECT id, name FROM users WHERE id = $1".to_owned());
/// assert!(long.starts_with("SELECT"));
/// assert_eq!(serde_json::to_string(&op).unwrap(), r#""db.query""#);
/// let back: SpanText = serde_json::from_str(r#""db.query""#).unwrap();
/// assert_eq!(back, op);
/// assert_eq!(String::from(long), "SELECT id, name FROM users WHERE id = $1");
/// ```
#[derive(Clone)]
pub struct SpanText(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    /// `len` bytes of valid UTF-8 at the start of `bytes`.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Owned(String),
}

impl SpanText {
    /// The empty text.
    pub const fn new() -> SpanText {
        SpanText(Repr::Static(""))
    }

    /// A text written in the program: kept as the reference, whatever its length.
    pub const fn from_static(text: &'static str) -> SpanText {
        SpanText(Repr::Static(text))
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(text) => text,
            Repr::Inline { len, bytes } => {
                // Always valid: copied whole from a `str` no longer than `INLINE` (safe code
                // cannot skip the check, which costs a few instructions for so short a text).
                std::str::from_utf8(bytes.get(..usize::from(*len)).unwrap_or_default())
                    .unwrap_or_default()
            }
            Repr::Owned(text) => text,
        }
    }

    /// The length in bytes (read without looking at the text).
    #[inline]
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Static(text) => text.len(),
            Repr::Inline { len, .. } => usize::from(*len),
            Repr::Owned(text) => text.len(),
        }
    }

    /// `true` for the empty text.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text as a `String` (moved when it is one already).
    #[inline]
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Owned(text) => text,
            _ => self.as_str().to_owned(),
        }
    }
}

impl Default for SpanText {
    /// The empty text.
    fn default() -> Self {
        SpanText::new()
    }
}

impl Deref for SpanText {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SpanText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SpanText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for SpanText {
    /// Copied inline when short, else into a `String`.
    #[inline]
    fn from(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                SpanText(Repr::Inline { len, bytes })
            }
            _ => SpanText(Repr::Owned(text.to_owned())),
        }
    }
}

impl From<&String> for SpanText {
    /// Copied inline when short, else into a `String`.
    fn from(text: &String) -> Self {
        SpanText::from(text.as_str())
    }
}

impl From<String> for SpanText {
    /// Kept as it is.
    #[inline]
    fn from(text: String) -> Self {
        SpanText(Repr::Owned(text))
    }
}

impl From<Cow<'static, str>> for SpanText {
    /// A borrowed text is kept as the reference, an owned one as it is.
    fn from(text: Cow<'static, str>) -> Self {
        match text {
            Cow::Borrowed(text) => SpanText::from_static(text),
            Cow::Owned(text) => SpanText::from(text),
        }
    }
}

impl From<SpanText> for String {
    /// Moved when it is a `String`, else copied into a new one.
    #[inline]
    fn from(text: SpanText) -> String {
        text.into_string()
    }
}

impl PartialEq for SpanText {
    fn eq(&self, other: &SpanText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SpanText {}

impl PartialEq<str> for SpanText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SpanText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SpanText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for SpanText {
    fn partial_cmp(&self, other: &SpanText) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SpanText {
    fn cmp(&self, other: &SpanText) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SpanText {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SpanText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SpanText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SpanText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpanText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(match text {
            Cow::Borrowed(text) => SpanText::from(text),
            Cow::Owned(text) => SpanText::from(text),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_inline_and_long_or_owned_text_a_string() {
        for text in ["", "db.query", "é".repeat(11).as_str(), &"x".repeat(22)] {
            let t = SpanText::from(text);
            assert!(matches!(t.0, Repr::Inline { .. }), "{text}");
            assert_eq!(t.as_str(), text);
            assert_eq!(t.len(), text.len());
            assert_eq!(String::from(t), text);
        }
        assert!(matches!(
            SpanText::from("x".repeat(23).as_str()).0,
            Repr::Owned(_)
        ));
        let long = "SELECT * FROM users WHERE id = $1";
        let t = SpanText::from(long);
        assert!(matches!(t.0, Repr::Owned(_)));
        assert_eq!(t.as_str(), long);
        assert_eq!(String::from(t), long);
        let owned = SpanText::from("db".to_owned());
        assert!(matches!(owned.0, Repr::Owned(_)));
        assert_eq!(owned.len(), 2);
        assert!(SpanText::default().is_empty());
        assert!(matches!(
            SpanText::from(Cow::Borrowed("manual")).0,
            Repr::Static("manual")
        ));
    }

    #[test]
    fn equal_texts_are_equal_whatever_their_form() {
        let forms = [
            SpanText::from_static("db.query"),
            SpanText::from("db.query"),
            SpanText::from("db.query".to_owned()),
        ];
        for a in &forms {
            for b in &forms {
                assert_eq!(a, b);
                assert_eq!(a.cmp(b), Ordering::Equal);
            }
        }
        let (a, b) = (SpanText::from("a"), SpanText::from_static("b"));
        assert!(a < b);
    }

    #[test]
    fn it_is_written_and_read_as_a_plain_string() {
        let long = "x".repeat(40);
        for text in ["", "db.query", long.as_str(), "quote \" and \\ escape"] {
            let json = serde_json::to_string(&SpanText::from(text)).unwrap();
            assert_eq!(json, serde_json::to_string(text).unwrap());
            let back: SpanText = serde_json::from_str(&json).unwrap();
            assert_eq!(back, text);
        }
        assert!(serde_json::from_str::<SpanText>("3").is_err());
    }

    #[test]
    fn it_is_no_larger_than_four_words_even_as_an_option() {
        assert_eq!(std::mem::size_of::<SpanText>(), 32);
        assert_eq!(std::mem::size_of::<Option<SpanText>>(), 32);
    }
}
