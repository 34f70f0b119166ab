//! [`SpanGuard`]: a span made current for a stretch of code.

use std::ops::Deref;

use crate::protocol::SpanStatus;
use crate::scope::{current_with_span, ScopeGuard};

use super::Span;

impl Span {
    /// Makes this span the current one on this thread until the guard is dropped, which then
    /// finishes it and makes the previous span current again.
    ///
    /// Spans started with [`start_span`](crate::start_span) and events captured meanwhile
    /// belong to it. Entering does not fork the scope: data set on the scope meanwhile stays
    /// after the guard is dropped. A span that ends by a panic unwinding through its guard
    /// gets the status `internal_error` unless it has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::{start_span, start_transaction, TransactionContext};
    ///
    /// let _tx = start_transaction(TransactionContext::new("import", "task")).enter();
    /// for file in ["a.csv", "b.csv"] {
    ///     let span = start_span("file.read", file).enter();
    ///     span.set_data("file.name", file);
    /// } // each span ends here
    /// ```
    pub fn enter(self) -> SpanGuard {
        let scopes = if self.is_active() {
            Some(current_with_span(Some(self.clone())).enter())
        } else {
            None
        };
        SpanGuard {
            span: self,
            _scopes: scopes,
        }
    }
}

impl Span {
    /// A guard that finishes the span when dropped, making it current meanwhile if `active`.
    pub(crate) fn into_guard(self, active: bool) -> SpanGuard {
        if active {
            return self.enter();
        }
        SpanGuard {
            span: self,
            _scopes: None,
        }
    }
}

/// Keeps a span current; finishes it when dropped (see [`Span::enter`]).
///
/// Guards are not `Send`: a span is entered and left on the same thread. For async code,
/// bind the scopes of the span to the future instead:
/// `future.bind_scopes(Scopes::current().with_span(Some(span)))`.
#[must_use = "the span ends as soon as the guard is dropped"]
#[derive(Debug)]
pub struct SpanGuard {
    span: Span,
    _scopes: Option<ScopeGuard>,
}

impl SpanGuard {
    /// The span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Ends the span now (and makes the previous span current again); the same as dropping
    /// the guard.
    pub fn end(self) {
        drop(self);
    }
}

impl Deref for SpanGuard {
    type Target = Span;

    fn deref(&self) -> &Span {
        &self.span
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if std::thread::panicking() && self.span.status().is_none() {
            self.span.set_status(SpanStatus::InternalError);
        }
        self.span.finish();
    }
}
