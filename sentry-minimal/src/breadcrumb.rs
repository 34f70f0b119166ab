//! Breadcrumbs: the trail of things that happened before an event.

use std::borrow::Cow;
use std::time::SystemTime;

use crate::{Level, Map, Value};

/// One entry in the trail of events that led up to an error.
///
/// String fields take `&'static str` without allocating, or an owned `String`. The struct is
/// `#[non_exhaustive]`, so it is not built with a struct literal: start from [`new`](Self::new)
/// or one of the typed constructors ([`http`](Self::http), [`navigation`](Self::navigation),
/// [`query`](Self::query), [`user`](Self::user), [`error`](Self::error),
/// [`debug`](Self::debug)) and chain the setters, or change the public fields of
/// [`Breadcrumb::default()`] in place.
///
/// # Examples
///
/// ```
/// use sentry_minimal::{Breadcrumb, Level};
///
/// let crumb = Breadcrumb::new("cache miss")
///     .category("cache")
///     .level(Level::Debug)
///     .data("key", "user:42");
/// assert_eq!(crumb.message.as_deref(), Some("cache miss"));
/// assert_eq!(crumb.ty, "default");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Breadcrumb {
    /// When it happened. Set to the current time by the constructors.
    pub timestamp: SystemTime,
    /// The breadcrumb type (`"default"`, `"http"`, `"navigation"`, `"error"`, …).
    pub ty: Cow<'static, str>,
    /// A dotted category such as `"db.query"` or `"ui.click"`.
    pub category: Option<Cow<'static, str>>,
    /// A human-readable message.
    pub message: Option<Cow<'static, str>>,
    /// Arbitrary structured data.
    pub data: Map,
    /// The severity; [`Level::Info`] by default.
    pub level: Level,
    /// What recorded it, such as `"auto.log.log"`; `None` for manual breadcrumbs.
    pub origin: Option<Cow<'static, str>>,
}

impl Default for Breadcrumb {
    fn default() -> Self {
        Breadcrumb {
            timestamp: SystemTime::now(),
            ty: Cow::Borrowed("default"),
            category: None,
            message: None,
            data: Map::new(),
            level: Level::Info,
            origin: None,
        }
    }
}

impl Breadcrumb {
    /// A breadcrumb with a message, stamped with the current time.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Breadcrumb {
            message: Some(message.into()),
            ..Breadcrumb::default()
        }
    }

    /// An outgoing HTTP request: type and category `http`, with the `method` and `url` data
    /// Sentry shows for it; add the answer with [`status_code`](Self::status_code).
    ///
    /// ```
    /// use sentry_minimal::{Breadcrumb, Value};
    ///
    /// let crumb = Breadcrumb::http("GET", "https://api.example.com/users").status_code(404);
    /// assert_eq!(crumb.ty, "http");
    /// assert_eq!(crumb.data["method"], Value::from("GET"));
    /// assert_eq!(crumb.data["status_code"], Value::from(404u16));
    /// ```
    pub fn http(method: impl Into<Value>, url: impl Into<Value>) -> Self {
        let mut crumb = Breadcrumb {
            ty: Cow::Borrowed("http"),
            category: Some(Cow::Borrowed("http")),
            ..Breadcrumb::default()
        };
        crumb.data.insert("method".into(), method.into());
        crumb.data.insert("url".into(), url.into());
        crumb
    }

    /// The HTTP status of an [`http`](Self::http) breadcrumb (data `status_code`).
    #[must_use]
    pub fn status_code(self, status: u16) -> Self {
        self.data("status_code", status)
    }

    /// A move from one place to another (a route, a screen): type and category `navigation`,
    /// with the `from` and `to` data.
    ///
    /// ```
    /// use sentry_minimal::{Breadcrumb, Value};
    ///
    /// let crumb = Breadcrumb::navigation("/cart", "/checkout");
    /// assert_eq!(crumb.data["to"], Value::from("/checkout"));
    /// ```
    pub fn navigation(from: impl Into<Value>, to: impl Into<Value>) -> Self {
        let mut crumb = Breadcrumb {
            ty: Cow::Borrowed("navigation"),
            category: Some(Cow::Borrowed("navigation")),
            ..Breadcrumb::default()
        };
        crumb.data.insert("from".into(), from.into());
        crumb.data.insert("to".into(), to.into());
        crumb
    }

    /// A database query: type `query`, the statement as the message; give the category
    /// (`"db.query"`, `"redis"`, …) with [`category`](Self::category).
    ///
    /// ```
    /// use sentry_minimal::Breadcrumb;
    ///
    /// let crumb = Breadcrumb::query("SELECT * FROM users WHERE id = $1").category("db.query");
    /// assert_eq!(crumb.ty, "query");
    /// ```
    pub fn query(statement: impl Into<Cow<'static, str>>) -> Self {
        Breadcrumb::new(statement).ty("query")
    }

    /// Something the user did: type `user`, in `category` (such as `"ui.click"`).
    ///
    /// ```
    /// use sentry_minimal::Breadcrumb;
    ///
    /// let crumb = Breadcrumb::user("ui.click", "clicked 'Pay'");
    /// assert_eq!(crumb.category.as_deref(), Some("ui.click"));
    /// ```
    pub fn user(
        category: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Breadcrumb::new(message).ty("user").category(category)
    }

    /// An error that was handled (and not captured): type `error`, level
    /// [`Error`](Level::Error).
    ///
    /// ```
    /// use sentry_minimal::{Breadcrumb, Level};
    ///
    /// let crumb = Breadcrumb::error("retrying after a timeout");
    /// assert_eq!((crumb.ty.as_ref(), crumb.level), ("error", Level::Error));
    /// ```
    pub fn error(message: impl Into<Cow<'static, str>>) -> Self {
        Breadcrumb::new(message).ty("error").level(Level::Error)
    }

    /// A diagnostic detail: type `debug`, level [`Debug`](Level::Debug).
    ///
    /// ```
    /// use sentry_minimal::{Breadcrumb, Level};
    ///
    /// assert_eq!(Breadcrumb::debug("cache warmed").level, Level::Debug);
    /// ```
    pub fn debug(message: impl Into<Cow<'static, str>>) -> Self {
        Breadcrumb::new(message).ty("debug").level(Level::Debug)
    }

    /// Sets the message.
    #[must_use]
    pub fn message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets when it happened (the constructors use the current time).
    #[must_use]
    pub fn timestamp(mut self, timestamp: SystemTime) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// Adds several data entries.
    ///
    /// ```
    /// use sentry_minimal::Breadcrumb;
    ///
    /// let crumb = Breadcrumb::new("batch done").extend_data([("ok", 98), ("failed", 2)]);
    /// assert_eq!(crumb.data.len(), 2);
    /// ```
    #[must_use]
    pub fn extend_data<K, V>(mut self, entries: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<Value>,
    {
        for (key, value) in entries {
            self.data.insert(key.into(), value.into());
        }
        self
    }

    /// Sets the type.
    #[must_use]
    pub fn ty(mut self, ty: impl Into<Cow<'static, str>>) -> Self {
        self.ty = ty.into();
        self
    }

    /// Sets the category.
    #[must_use]
    pub fn category(mut self, category: impl Into<Cow<'static, str>>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// Sets the level.
    #[must_use]
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Adds one data entry.
    #[must_use]
    pub fn data(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    /// Sets the origin.
    #[must_use]
    pub fn origin(mut self, origin: impl Into<Cow<'static, str>>) -> Self {
        self.origin = Some(origin.into());
        self
    }
}
