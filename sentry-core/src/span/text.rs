//! [`SpanText`]: a span's operation or name as it records it, kept inline when short.

use std::fmt;

/// How many bytes a [`SpanText`] keeps inline (the type is 32 bytes, 8 more than a `String`).
/// Measured against 30 (the same size): spans of a transaction, which never use the inline
/// form, ran 216–223 ns with 22 and 236–240 ns with 30, for reasons not found (code layout,
/// most likely); 22 holds the usual operations and short names.
const INLINE: usize = 22;

/// A span's operation or name: up to 22 bytes inline, or an owned `String`.
///
/// A streamed span is converted to its wire form on the transport worker, so the thread that
/// starts it keeps short texts (operations such as `db.query`, many names) inline and saves
/// the two allocations a start would otherwise make; the worker makes the `String`s. A span
/// of a transaction is converted on the thread that ends it into the transaction's wire span,
/// which holds `String`s: it starts with owned texts, moved rather than copied at the end.
/// (Reading inline text checks it is UTF-8 again, which safe code cannot skip: on the worker
/// only, at conversion.)
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum SpanText {
    /// `len` bytes of valid UTF-8 at the start of `bytes`.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Owned(String),
}

impl SpanText {
    /// The text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match self {
            SpanText::Inline { len, bytes } => {
                // Always valid: copied whole from a `str` no longer than `INLINE`.
                std::str::from_utf8(bytes.get(..usize::from(*len)).unwrap_or_default())
                    .unwrap_or_default()
            }
            SpanText::Owned(text) => text,
        }
    }

    /// The text in a new `String`.
    #[cold]
    fn copied(&self) -> String {
        self.as_str().to_owned()
    }

    /// `true` for the empty text.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The length in bytes.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            SpanText::Inline { len, .. } => usize::from(*len),
            SpanText::Owned(text) => text.len(),
        }
    }
}

impl Default for SpanText {
    fn default() -> Self {
        SpanText::Inline {
            len: 0,
            bytes: [0; INLINE],
        }
    }
}

impl From<&str> for SpanText {
    #[inline]
    fn from(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                SpanText::Inline { len, bytes }
            }
            _ => SpanText::Owned(text.to_owned()),
        }
    }
}

impl From<String> for SpanText {
    /// Owned text, kept as it is.
    #[inline]
    fn from(text: String) -> Self {
        SpanText::Owned(text)
    }
}

impl From<SpanText> for String {
    /// Owned text is moved; inline text is copied into a new `String`.
    #[inline(always)]
    fn from(text: SpanText) -> String {
        match text {
            SpanText::Owned(text) => text,
            inline => inline.copied(),
        }
    }
}

impl fmt::Debug for SpanText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_inline_and_long_or_owned_text_a_string() {
        for text in ["", "db.query", "é".repeat(11).as_str(), &"x".repeat(22)] {
            let t = SpanText::from(text);
            assert!(matches!(t, SpanText::Inline { .. }), "{text}");
            assert_eq!(t.as_str(), text);
            assert_eq!(t.len(), text.len());
            assert_eq!(String::from(t), text);
        }
        assert!(matches!(
            SpanText::from("x".repeat(23).as_str()),
            SpanText::Owned(_)
        ));
        let long = "SELECT * FROM users WHERE id = $1";
        let t = SpanText::from(long);
        assert!(matches!(t, SpanText::Owned(_)));
        assert_eq!(t.as_str(), long);
        assert_eq!(String::from(t), long);
        let owned = SpanText::from("db".to_owned());
        assert!(matches!(owned, SpanText::Owned(_)));
        assert_eq!(owned.len(), 2);
        assert!(SpanText::default().is_empty());
    }
}
