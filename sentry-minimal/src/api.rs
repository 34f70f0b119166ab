//! The functions a library calls.

use std::error::Error;

use crate::backend::{active_backend, is_active};
use crate::{Breadcrumb, Event, EventId, Level, Scope};

/// `true` while an SDK is installed and a client is enabled.
///
/// Use it to skip expensive preparation whose only purpose is reporting. The capture functions
/// already check it, so there is no need to guard them.
///
/// # Examples
///
/// ```
/// // No SDK is installed in this example.
/// assert!(!sentry_minimal::is_enabled());
/// ```
#[inline(always)]
pub fn is_enabled() -> bool {
    is_active()
}

/// Records a breadcrumb. The closure runs only when an SDK is enabled.
///
/// # Examples
///
/// ```
/// use sentry_minimal::{add_breadcrumb, Breadcrumb};
///
/// let user_id = 42;
/// add_breadcrumb(|| Breadcrumb::new(format!("loaded user {user_id}")).category("db"));
/// ```
#[inline(always)]
pub fn add_breadcrumb<F: FnOnce() -> Breadcrumb>(f: F) {
    if let Some(backend) = active_backend() {
        backend.add_breadcrumb(f());
    }
}

/// Captures a message at the given level and returns its event identifier (nil when nothing was
/// captured).
///
/// # Examples
///
/// ```
/// use sentry_minimal::{capture_message, Level};
///
/// let id = capture_message("cache rebuilt", Level::Info);
/// assert!(id.is_nil()); // no SDK in this example
/// ```
#[inline(always)]
pub fn capture_message(message: &str, level: Level) -> EventId {
    match active_backend() {
        Some(backend) => backend.capture_message(message, level),
        None => EventId::nil(),
    }
}

/// Captures an error together with its whole `source()` chain.
///
/// Pass a concrete error type when you have one: its type name becomes the exception type.
/// Trait objects (`&dyn Error`) work too.
///
/// # Examples
///
/// ```
/// use sentry_minimal::capture_error;
///
/// match "x".parse::<u32>() {
///     Ok(_) => {}
///     Err(err) => {
///         capture_error(&err);
///     }
/// }
///
/// let boxed: Box<dyn std::error::Error + Send + Sync> = "oops".into();
/// capture_error(boxed.as_ref());
/// ```
#[inline(always)]
pub fn capture_error<E: AsError + ?Sized>(error: &E) -> EventId {
    match active_backend() {
        Some(backend) => backend.capture_error(error.as_error(), error.type_name()),
        None => EventId::nil(),
    }
}

/// Captures an event built by the closure. The closure runs only when an SDK is enabled.
///
/// # Examples
///
/// ```
/// use sentry_minimal::{capture_event, Event, Level};
///
/// capture_event(|| Event::new().message("quota exceeded").level(Level::Warning));
/// ```
#[inline(always)]
pub fn capture_event<F: FnOnce() -> Event>(f: F) -> EventId {
    match active_backend() {
        Some(backend) => backend.capture_event(f()),
        None => EventId::nil(),
    }
}

/// Calls `f` with the current scope, to set data on every event that follows. The closure runs
/// only when an SDK is enabled.
///
/// # Examples
///
/// ```
/// sentry_minimal::configure_scope(|scope| scope.set_tag("shard", "7"));
/// ```
#[inline(always)]
pub fn configure_scope<F: FnOnce(&mut Scope<'_>)>(f: F) {
    if let Some(backend) = active_backend() {
        configure_scope_slow(backend, f);
    }
}

#[inline(never)]
fn configure_scope_slow<F: FnOnce(&mut Scope<'_>)>(backend: &dyn crate::backend::Backend, f: F) {
    let mut f = Some(f);
    backend.configure_scope(&mut |inner| {
        if let Some(f) = f.take() {
            f(&mut Scope::new(inner));
        }
    });
}

/// Runs `body` in a new scope forked from the current one, after `configure` has set data on it.
///
/// Data set in `configure` (or inside `body`) is applied only to events captured inside `body`.
/// `body` always runs; `configure` runs only when an SDK is enabled.
///
/// # Examples
///
/// ```
/// use sentry_minimal::{with_scope, capture_message, Level};
///
/// let answer = with_scope(
///     |scope| scope.set_tag("step", "import"),
///     || {
///         capture_message("import started", Level::Info);
///         42
///     },
/// );
/// assert_eq!(answer, 42);
/// ```
#[inline(always)]
pub fn with_scope<C, B, R>(configure: C, body: B) -> R
where
    C: FnOnce(&mut Scope<'_>),
    B: FnOnce() -> R,
{
    match active_backend() {
        Some(backend) => with_scope_slow(backend, configure, body),
        None => body(),
    }
}

#[inline(never)]
fn with_scope_slow<C, B, R>(backend: &dyn crate::backend::Backend, configure: C, body: B) -> R
where
    C: FnOnce(&mut Scope<'_>),
    B: FnOnce() -> R,
{
    let mut configure = Some(configure);
    let mut body = Some(body);
    let mut result = None;
    backend.with_scope(
        &mut |inner| {
            if let Some(configure) = configure.take() {
                configure(&mut Scope::new(inner));
            }
        },
        &mut || {
            if let Some(body) = body.take() {
                result = Some(body());
            }
        },
    );
    match (result, body) {
        (Some(result), _) => result,
        // A backend that broke its contract and never ran the body: run it here, so the
        // caller's code is never skipped.
        (None, Some(body)) => body(),
        // The body ran but produced no result: impossible, `result` is set right after it returns.
        (None, None) => body_did_not_return("with_scope"),
    }
}

/// The body of a facade call (`with_scope`, `with_span`) was taken but produced no result.
#[cold]
pub(crate) fn body_did_not_return<R>(function: &str) -> R {
    // `body` ran to completion (it was taken) yet `result` is unset; the only way is a panic
    // inside `body` that the backend caught. Re-raise it as a panic of the caller's own code.
    panic!("the body passed to {function} panicked and the panic was swallowed by the SDK")
}

/// The identifier of the last event captured in the current isolation scope, if any.
///
/// # Examples
///
/// ```
/// assert_eq!(sentry_minimal::last_event_id(), None); // no SDK in this example
/// ```
#[inline(always)]
pub fn last_event_id() -> Option<EventId> {
    active_backend().and_then(|backend| backend.last_event_id())
}

/// Errors that [`capture_error`] accepts: any concrete `Error + 'static` type, and the common
/// `dyn Error` trait objects.
pub trait AsError {
    /// This error as a trait object.
    fn as_error(&self) -> &(dyn Error + 'static);
    /// The concrete type's name, when known.
    fn type_name(&self) -> Option<&'static str>;
}

impl<E: Error + 'static> AsError for E {
    fn as_error(&self) -> &(dyn Error + 'static) {
        self
    }
    fn type_name(&self) -> Option<&'static str> {
        Some(std::any::type_name::<E>())
    }
}

macro_rules! dyn_as_error {
    ($($t:ty),*) => {$(
        impl AsError for $t {
            fn as_error(&self) -> &(dyn Error + 'static) {
                self
            }
            fn type_name(&self) -> Option<&'static str> {
                None
            }
        }
    )*};
}
dyn_as_error!(
    dyn Error + 'static,
    dyn Error + Send + 'static,
    dyn Error + Send + Sync + 'static
);
