//! The options of span streaming: [`TraceLifecycle`], [`IgnoreSpan`] and the type of
//! `before_send_span`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use sentry_minimal::{Map, Value};

use crate::protocol::SpanV2;

/// How finished spans are sent ([`ClientOptions::trace_lifecycle`](crate::ClientOptions::trace_lifecycle)).
///
/// ```
/// use sentry_core::TraceLifecycle;
///
/// assert_eq!(TraceLifecycle::default(), TraceLifecycle::Static);
/// assert_eq!("stream".parse(), Ok(TraceLifecycle::Stream));
/// assert_eq!(" Static ".parse(), Ok(TraceLifecycle::Static));
/// assert!("both".parse::<TraceLifecycle>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TraceLifecycle {
    /// Spans are collected into their transaction, sent when its root span ends (the
    /// default, and what every Sentry version understands).
    #[default]
    Static,
    /// Every span is sent on its own once it ends, in `span` items of up to 1,000 spans of
    /// one trace, buffered for at most 5 seconds. Needs a Sentry that ingests span v2 items.
    Stream,
}

impl TraceLifecycle {
    /// `true` for [`TraceLifecycle::Stream`].
    pub fn is_stream(self) -> bool {
        self == TraceLifecycle::Stream
    }

    /// `"static"` or `"stream"` (also the value of the `sentry.trace_lifecycle` attribute).
    pub fn as_str(self) -> &'static str {
        match self {
            TraceLifecycle::Static => "static",
            TraceLifecycle::Stream => "stream",
        }
    }
}

impl FromStr for TraceLifecycle {
    type Err = String;

    /// `static` or `stream`, in any case, surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "static" => Ok(TraceLifecycle::Static),
            "stream" => Ok(TraceLifecycle::Stream),
            _ => Err(s.to_owned()),
        }
    }
}

/// A callback that may change a streamed span just before it is sent; it cannot drop it
/// (use [`ClientOptions::ignore_spans`](crate::ClientOptions::ignore_spans) for that). A
/// panic inside it leaves the span as it was.
pub type BeforeSendSpan = Arc<dyn Fn(SpanV2) -> SpanV2 + Send + Sync>;

/// A pattern matched against a span's name: the exact name, or a glob where `*` stands for
/// any run of characters (also none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamePattern {
    /// The whole name, exactly.
    Exact(String),
    /// A pattern with `*` wildcards.
    Glob(String),
}

impl NamePattern {
    /// Whether `name` matches.
    ///
    /// ```
    /// use sentry_core::NamePattern;
    ///
    /// let glob = NamePattern::Glob("GET /health*".into());
    /// assert!(glob.matches("GET /health"));
    /// assert!(glob.matches("GET /healthz"));
    /// assert!(!glob.matches("POST /health"));
    /// assert!(NamePattern::Glob("*cache*".into()).matches("redis cache get"));
    /// assert!(!NamePattern::Exact("a".into()).matches("ab"));
    /// ```
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NamePattern::Exact(exact) => exact == name,
            NamePattern::Glob(glob) => glob_matches(glob, name),
        }
    }
}

impl From<&str> for NamePattern {
    /// A glob if the text has a `*`, else the exact name.
    fn from(pattern: &str) -> Self {
        if pattern.contains('*') {
            NamePattern::Glob(pattern.to_owned())
        } else {
            NamePattern::Exact(pattern.to_owned())
        }
    }
}

/// `*` matches any run of characters; everything else matches itself. Greedy with
/// backtracking to the last star: linear in practice, never recursive.
fn glob_matches(glob: &str, name: &str) -> bool {
    let (g, n) = (glob.as_bytes(), name.as_bytes());
    let (mut gi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if gi < g.len() && g[gi] == b'*' {
            star = Some((gi, ni));
            gi += 1;
        } else if gi < g.len() && g[gi] == n[ni] {
            gi += 1;
            ni += 1;
        } else if let Some((sg, sn)) = star {
            gi = sg + 1;
            ni = sn + 1;
            star = Some((sg, sn + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == b'*')
}

/// A rule of [`ClientOptions::ignore_spans`](crate::ClientOptions::ignore_spans): a span
/// whose name matches `name` (when set) and that has every attribute of `attributes` with an
/// equal value (known when it starts) is not recorded. Build one from a name pattern
/// (`"GET /health*".into()`) and add attribute conditions with [`attribute`](Self::attribute).
///
/// ```
/// use sentry_core::{IgnoreSpan, Map};
///
/// let rule = IgnoreSpan::from("cache.*").attribute("cache.hit", true);
/// let mut attributes = Map::new();
/// attributes.insert("cache.hit".into(), true.into());
/// assert!(rule.matches("cache.get", &attributes));
/// assert!(!rule.matches("cache.get", &Map::new()));
/// assert!(IgnoreSpan::any().attribute("sentry.op", "db").matches("x", &{
///     let mut a = Map::new();
///     a.insert("sentry.op".into(), "db".into());
///     a
/// }));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct IgnoreSpan {
    /// The name pattern; `None` matches every name.
    pub name: Option<NamePattern>,
    /// Attributes the span must have, with these values.
    pub attributes: Vec<(String, Value)>,
}

impl IgnoreSpan {
    /// A rule matching every span (narrow it with [`attribute`](Self::attribute)).
    pub fn any() -> IgnoreSpan {
        IgnoreSpan {
            name: None,
            attributes: Vec::new(),
        }
    }

    /// Also requires the attribute `key` to equal `value`.
    #[must_use]
    pub fn attribute(mut self, key: &str, value: impl Into<Value>) -> IgnoreSpan {
        self.attributes.push((key.to_owned(), value.into()));
        self
    }

    /// Whether a span starting with `name` and `attributes` is ignored by this rule.
    pub fn matches(&self, name: &str, attributes: &Map) -> bool {
        if let Some(pattern) = &self.name {
            if !pattern.matches(name) {
                return false;
            }
        }
        self.attributes
            .iter()
            .all(|(key, value)| attributes.get(key.as_str()) == Some(value))
    }
}

impl From<&str> for IgnoreSpan {
    fn from(pattern: &str) -> Self {
        IgnoreSpan {
            name: Some(NamePattern::from(pattern)),
            attributes: Vec::new(),
        }
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamePattern::Exact(s) | NamePattern::Glob(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (glob, name, expected) in [
            ("*", "", true),
            ("*", "anything", true),
            ("a*c", "abc", true),
            ("a*c", "ac", true),
            ("a*c", "acb", false),
            ("*a*b*", "xxaxxbxx", true),
            ("a**b", "ab", true),
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("*.health", "GET.health", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
        ] {
            assert_eq!(glob_matches(glob, name), expected, "{glob} vs {name}");
        }
    }
}
