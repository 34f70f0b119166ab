//! The scope a library configures through the facade.

use std::borrow::Cow;
use std::fmt;

use crate::backend::ScopeBackend;
use crate::{Breadcrumb, Level, Map, User, Value};

/// A scope being configured, handed to the closures of [`configure_scope`](crate::configure_scope)
/// and [`with_scope`](crate::with_scope).
///
/// Data set here is applied to every event captured while the scope is active. The SDK owns the
/// scope; this is a handle that forwards each change to it.
///
/// # Examples
///
/// ```
/// sentry_minimal::configure_scope(|scope| {
///     scope.set_tag("component", "parser");
///     scope.set_extra("input_len", 512);
/// });
/// ```
pub struct Scope<'a> {
    inner: &'a mut dyn ScopeBackend,
}

impl fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

impl<'a> Scope<'a> {
    pub(crate) fn new(inner: &'a mut dyn ScopeBackend) -> Self {
        Scope { inner }
    }

    /// Sets a tag. Tags are searchable strings.
    pub fn set_tag(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<Cow<'static, str>>,
    ) {
        self.inner.set_tag(key.into(), value.into());
    }

    /// Sets several tags at once (a later pair wins over an earlier one with the same key).
    ///
    /// ```
    /// sentry_minimal::configure_scope(|scope| {
    ///     scope.set_tags([("component", "parser"), ("format", "toml")]);
    /// });
    /// ```
    pub fn set_tags<I, K, V>(&mut self, tags: I)
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<Cow<'static, str>>,
        V: Into<Cow<'static, str>>,
    {
        for (key, value) in tags {
            self.inner.set_tag(key.into(), value.into());
        }
    }

    /// Removes a tag.
    pub fn remove_tag(&mut self, key: &str) {
        self.inner.remove_tag(key);
    }

    /// Sets an extra value.
    pub fn set_extra(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        self.inner.set_extra(key.into(), value.into());
    }

    /// Removes an extra value.
    pub fn remove_extra(&mut self, key: &str) {
        self.inner.remove_extra(key);
    }

    /// Sets a named context, such as `"order"` → `{ "id": 7 }`.
    pub fn set_context(&mut self, key: impl Into<Cow<'static, str>>, value: Map) {
        self.inner.set_context(key.into(), value);
    }

    /// Removes a named context.
    pub fn remove_context(&mut self, key: &str) {
        self.inner.remove_context(key);
    }

    /// Sets or clears the user.
    pub fn set_user(&mut self, user: Option<User>) {
        self.inner.set_user(user);
    }

    /// Overrides the level of every event captured in this scope, or stops overriding it.
    pub fn set_level(&mut self, level: Option<Level>) {
        self.inner.set_level(level);
    }

    /// Sets or clears the grouping fingerprint.
    pub fn set_fingerprint(&mut self, fingerprint: Option<&[&str]>) {
        self.inner.set_fingerprint(fingerprint);
    }

    /// Sets or clears the transaction name.
    pub fn set_transaction(&mut self, transaction: Option<&str>) {
        self.inner.set_transaction(transaction);
    }

    /// Adds a breadcrumb to this scope.
    pub fn add_breadcrumb(&mut self, breadcrumb: Breadcrumb) {
        self.inner.add_breadcrumb(breadcrumb);
    }

    /// Removes every breadcrumb from this scope.
    pub fn clear_breadcrumbs(&mut self) {
        self.inner.clear_breadcrumbs();
    }

    /// Removes all data from this scope.
    pub fn clear(&mut self) {
        self.inner.clear();
    }
}
