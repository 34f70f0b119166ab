//! Breadcrumbs: the trail of things that happened before an event.

use std::borrow::Cow;
use std::time::SystemTime;

use crate::{Level, Map, Value};

/// One entry in the trail of events that led up to an error.
///
/// String fields take `&'static str` without allocating, or an owned `String`.
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
