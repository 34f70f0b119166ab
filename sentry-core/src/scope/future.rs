//! Binding [`Scopes`] to a future so async tasks keep their data across polls and threads.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::scopes::Scopes;

/// Adds [`bind_scopes`](BindScopes::bind_scopes) to every future. Works with any executor.
///
/// # Examples
///
/// ```
/// use sentry_core::{BindScopes, Scopes};
///
/// async fn handle_request() {
///     sentry_core::set_tag("route", "/checkout"); // the request's isolation scope
/// }
///
/// let scopes = Scopes::current().fork_isolation();
/// let task = handle_request().bind_scopes(scopes);
/// # let _ = task;
/// // Spawn `task` on any runtime: every poll, on whatever thread, runs with `scopes` entered.
/// ```
pub trait BindScopes: Future + Sized {
    /// Wraps the future so each poll runs with `scopes` entered.
    fn bind_scopes(self, scopes: Scopes) -> ScopesBound<Self> {
        ScopesBound {
            future: Box::pin(self),
            scopes,
        }
    }
}

impl<F: Future> BindScopes for F {}

/// A future that enters its [`Scopes`] around every poll. See [`BindScopes`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct ScopesBound<F> {
    future: Pin<Box<F>>,
    scopes: Scopes,
}

impl<F: Future> Future for ScopesBound<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let _guard = this.scopes.clone().enter();
        this.future.as_mut().poll(cx)
    }
}
