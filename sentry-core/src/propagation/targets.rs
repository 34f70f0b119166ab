//! Which outgoing requests carry trace headers: the `trace_propagation_targets` option.

use std::fmt;
use std::sync::Arc;

use crate::callback::run_callback;

/// Which outgoing requests get `sentry-trace`, `baggage` (and `traceparent`, when enabled):
/// every request, none, or those whose URL one of a list of matchers accepts.
///
/// The default is [`All`](Self::All), which is what Sentry's specification means by an unset
/// option. An empty list sends headers nowhere — an incoming trace is still continued, just not
/// passed on.
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::{TargetMatcher, TracePropagationTargets};
///
/// let targets: TracePropagationTargets = [
///     TargetMatcher::from("api.example.com"),
///     TargetMatcher::predicate(|url| url.starts_with("http://localhost:")),
/// ]
/// .into_iter()
/// .collect();
/// assert!(targets.matches("https://api.example.com/v2/users"));
/// assert!(targets.matches("http://localhost:8080/"));
/// assert!(!targets.matches("https://cdn.other.org/app.js"));
///
/// assert!(TracePropagationTargets::default().matches("https://anywhere/"));
/// assert!(!TracePropagationTargets::None.matches("https://anywhere/"));
/// ```
#[derive(Clone, Debug, Default)]
pub enum TracePropagationTargets {
    /// Every request (the default).
    #[default]
    All,
    /// No request.
    None,
    /// The requests whose URL at least one matcher accepts; an empty list accepts none.
    List(Vec<TargetMatcher>),
}

impl TracePropagationTargets {
    /// `true` if a request to `url` gets trace headers.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::TracePropagationTargets;
    ///
    /// let targets: TracePropagationTargets = ["localhost", "/api/"].into_iter().collect();
    /// assert!(targets.matches("http://mylocalhost:8080/"));
    /// assert!(targets.matches("https://shop.example/api/cart"));
    /// assert!(!targets.matches("https://shop.example/static/app.js"));
    /// ```
    pub fn matches(&self, url: &str) -> bool {
        match self {
            TracePropagationTargets::All => true,
            TracePropagationTargets::None => false,
            TracePropagationTargets::List(matchers) => matchers.iter().any(|m| m.matches(url)),
        }
    }
}

impl<T: Into<TargetMatcher>> FromIterator<T> for TracePropagationTargets {
    /// A [`List`](TracePropagationTargets::List) of the matchers (possibly empty).
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        TracePropagationTargets::List(iter.into_iter().map(Into::into).collect())
    }
}

/// One entry of [`TracePropagationTargets::List`].
///
/// Sentry's other SDKs accept strings and regular expressions. Here a string is a substring
/// match, and anything else — a regular expression included — is a predicate closure; this
/// crate takes no regex dependency, so an application that wants one wraps its own:
/// `TargetMatcher::predicate(move |url| re.is_match(url))`.
///
/// # Examples
///
/// ```
/// use sentry_core::propagation::TargetMatcher;
///
/// assert!(TargetMatcher::from("example.com").matches("https://api.example.com/"));
/// let v2_to_v4 = TargetMatcher::predicate(|url| {
///     ["/v2/", "/v3/", "/v4/"].iter().any(|v| url.contains(v))
/// });
/// assert!(v2_to_v4.matches("https://myapi.com/v3/projects"));
/// assert!(!v2_to_v4.matches("https://myapi.com/v1/projects"));
/// ```
#[derive(Clone)]
pub enum TargetMatcher {
    /// Accepts a URL that contains this string (case-sensitive).
    Substring(String),
    /// Accepts a URL for which the function returns `true`. A function that panics accepts
    /// nothing (the panic is caught).
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl TargetMatcher {
    /// A [`Predicate`](Self::Predicate) matcher from a closure.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::TargetMatcher;
    ///
    /// let https_only = TargetMatcher::predicate(|url| url.starts_with("https://"));
    /// assert!(https_only.matches("https://example.com"));
    /// assert!(!https_only.matches("http://example.com"));
    /// ```
    pub fn predicate(f: impl Fn(&str) -> bool + Send + Sync + 'static) -> TargetMatcher {
        TargetMatcher::Predicate(Arc::new(f))
    }

    /// `true` if this matcher accepts `url`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::propagation::TargetMatcher;
    ///
    /// assert!(TargetMatcher::from("localhost").matches("http://localhost:3000/x"));
    /// assert!(!TargetMatcher::predicate(|_| panic!("bug")).matches("http://localhost/"));
    /// ```
    pub fn matches(&self, url: &str) -> bool {
        match self {
            TargetMatcher::Substring(needle) => url.contains(needle.as_str()),
            TargetMatcher::Predicate(f) => {
                run_callback("a trace_propagation_targets predicate", || f(url)).unwrap_or(false)
            }
        }
    }
}

impl fmt::Debug for TargetMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetMatcher::Substring(needle) => f.debug_tuple("Substring").field(needle).finish(),
            TargetMatcher::Predicate(_) => f.write_str("Predicate(<fn>)"),
        }
    }
}

impl From<&str> for TargetMatcher {
    /// A [`Substring`](TargetMatcher::Substring) matcher.
    fn from(needle: &str) -> Self {
        TargetMatcher::Substring(needle.to_owned())
    }
}

impl From<String> for TargetMatcher {
    /// A [`Substring`](TargetMatcher::Substring) matcher.
    fn from(needle: String) -> Self {
        TargetMatcher::Substring(needle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_table() {
        let list: TracePropagationTargets = vec![
            TargetMatcher::from("localhost"),
            TargetMatcher::from(String::from("myApi.com/v2")),
            TargetMatcher::predicate(|url| url.starts_with('/')),
        ]
        .into_iter()
        .collect();
        let empty: TracePropagationTargets = Vec::<TargetMatcher>::new().into_iter().collect();
        let table: &[(&str, bool)] = &[
            ("localhost:8443/api/users", true),
            ("mylocalhost:8080/api/users", true),
            ("/api/envelopes", true),
            ("myApi.com/v2/projects", true),
            ("myapi.com/v2/projects", false),
            ("someHost.com/data", false),
            ("myApi.com/v1/projects", false),
            ("", false),
        ];
        for &(url, expected) in table {
            assert_eq!(list.matches(url), expected, "{url}");
            assert!(TracePropagationTargets::All.matches(url));
            assert!(TracePropagationTargets::default().matches(url));
            assert!(!TracePropagationTargets::None.matches(url));
            assert!(!empty.matches(url));
        }
    }

    #[test]
    fn a_panicking_predicate_matches_nothing() {
        let targets: TracePropagationTargets = [
            TargetMatcher::predicate(|url| {
                assert!(!url.contains("boom"));
                false
            }),
            TargetMatcher::from("ok"),
        ]
        .into_iter()
        .collect();
        assert!(!targets.matches("https://boom/"));
        assert!(targets.matches("https://boom/ok"));
        assert!(!targets.matches("https://fine/"));
    }

    #[test]
    fn debug_and_clone() {
        let targets: TracePropagationTargets = [
            TargetMatcher::from("a"),
            TargetMatcher::predicate(|url| url.is_empty()),
        ]
        .into_iter()
        .collect();
        let copy = targets.clone();
        assert!(copy.matches(""));
        assert_eq!(
            format!("{copy:?}"),
            r#"List([Substring("a"), Predicate(<fn>)])"#
        );
        assert_eq!(format!("{:?}", TracePropagationTargets::default()), "All");
    }
}
