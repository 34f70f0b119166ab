//! The interface between the facade and the SDK that implements it.
//!
//! Libraries never use this module. An SDK (`sentry-core`) implements [`Backend`],
//! [`ScopeBackend`] and [`SpanBackend`], installs itself once with [`set_backend`], and turns the
//! facade on and off with [`set_active`] as clients are bound and closed.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use crate::{Breadcrumb, Event, EventId, Level, Map, SpanStatus, User, Value};

static ACTIVE: AtomicBool = AtomicBool::new(false);
static BACKEND: OnceLock<&'static dyn Backend> = OnceLock::new();

/// An SDK that receives what the facade captures.
///
/// Every method is called only while the facade is active (see [`set_active`]), so an
/// implementation can assume a client is probably there, but must still cope with one having
/// been closed a moment ago.
///
/// # For implementors
///
/// No method may panic or block on the network. Closures handed in come from user code: run them
/// under `catch_unwind` if a panic in them must not unwind through the SDK.
///
/// # Examples
///
/// A backend that prints what it receives:
///
/// ```
/// use sentry_minimal::backend::{self, Backend, ScopeBackend};
/// use sentry_minimal::{Breadcrumb, Event, EventId, Level};
///
/// struct Printer;
///
/// impl Backend for Printer {
///     fn add_breadcrumb(&self, crumb: Breadcrumb) {
///         println!("breadcrumb: {:?}", crumb.message);
///     }
///     fn capture_event(&self, event: Event) -> EventId {
///         println!("event: {:?}", event.message);
///         EventId::from_bytes([1; 16])
///     }
///     fn capture_message(&self, message: &str, level: Level) -> EventId {
///         println!("{level}: {message}");
///         EventId::from_bytes([1; 16])
///     }
///     fn capture_error(&self, error: &(dyn std::error::Error + 'static), _: Option<&'static str>) -> EventId {
///         println!("error: {error}");
///         EventId::from_bytes([1; 16])
///     }
///     fn configure_scope(&self, _: &mut dyn FnMut(&mut dyn ScopeBackend)) {}
///     fn with_scope(&self, _: &mut dyn FnMut(&mut dyn ScopeBackend), body: &mut dyn FnMut()) {
///         body()
///     }
///     fn last_event_id(&self) -> Option<EventId> {
///         None
///     }
/// }
///
/// static PRINTER: Printer = Printer;
/// backend::set_backend(&PRINTER).unwrap();
/// backend::set_active(true);
/// let id = sentry_minimal::capture_message("hello", Level::Info);
/// assert_eq!(id, EventId::from_bytes([1; 16]));
/// ```
pub trait Backend: Send + Sync {
    /// Records a breadcrumb on the active scope.
    fn add_breadcrumb(&self, breadcrumb: Breadcrumb);

    /// Captures an event built by a library; returns its identifier, or the nil identifier if it
    /// was not captured.
    fn capture_event(&self, event: Event) -> EventId;

    /// Captures a plain message.
    fn capture_message(&self, message: &str, level: Level) -> EventId;

    /// Captures an error with its whole `source()` chain. `type_name` is the concrete type's name
    /// (`std::any::type_name`) when the caller knew it.
    fn capture_error(
        &self,
        error: &(dyn Error + 'static),
        type_name: Option<&'static str>,
    ) -> EventId;

    /// Calls `f` with the current scope.
    fn configure_scope(&self, f: &mut dyn FnMut(&mut dyn ScopeBackend));

    /// Forks the current scope, calls `configure` on the fork, then runs `body` with the fork
    /// active. `body` must be called exactly once, even if `configure` panics or no client exists.
    fn with_scope(&self, configure: &mut dyn FnMut(&mut dyn ScopeBackend), body: &mut dyn FnMut());

    /// The identifier of the last event captured in the current isolation scope.
    fn last_event_id(&self) -> Option<EventId>;

    /// Starts a span as a child of the current span, without making it current.
    ///
    /// Returns `None` when the span is not recorded (no current span, or it is not sampled), so
    /// the facade hands out an empty [`Span`](crate::Span) without allocating. The facade calls
    /// [`SpanBackend::finish`] exactly once on what this returns, when the library's `Span` is
    /// finished or dropped.
    ///
    /// The provided implementation records no spans.
    fn start_span(&self, op: &str, name: &str) -> Option<Box<dyn SpanBackend>> {
        let _ = (op, name);
        None
    }

    /// Starts a span as a child of the current span, makes it current while `body` runs, and
    /// finishes it after `body` returns (or unwinds).
    ///
    /// `body` gets the span, or `None` when it is not recorded. `body` must be called exactly
    /// once, even when no span is recorded or the SDK fails. The facade does not call
    /// [`SpanBackend::finish`] on the span lent to `body`: finishing it is the backend's job.
    ///
    /// The provided implementation records no spans and just calls `body(None)`.
    fn with_span(&self, op: &str, name: &str, body: &mut dyn FnMut(Option<&dyn SpanBackend>)) {
        let _ = (op, name);
        body(None)
    }
}

/// A recorded span, as the SDK implements it. See [`Span`](crate::Span), which forwards to it.
///
/// No method may panic or block. Calls after [`finish`](SpanBackend::finish) must be harmless
/// (ignored).
pub trait SpanBackend: Send + Sync {
    /// Sets a data attribute of the span; a later value for the same key replaces the earlier.
    fn set_data(&self, key: &str, value: Value);

    /// Sets the span's status.
    fn set_status(&self, status: SpanStatus);

    /// Ends the span: records its end time and hands it to its transaction.
    fn finish(&self);
}

/// The scope operations the facade forwards to the SDK. See [`Scope`](crate::Scope).
#[allow(missing_docs)] // Each method is documented on `Scope`, which forwards to it.
pub trait ScopeBackend {
    fn set_tag(&mut self, key: Cow<'static, str>, value: Cow<'static, str>);
    fn remove_tag(&mut self, key: &str);
    fn set_extra(&mut self, key: Cow<'static, str>, value: Value);
    fn remove_extra(&mut self, key: &str);
    fn set_context(&mut self, key: Cow<'static, str>, value: Map);
    fn remove_context(&mut self, key: &str);
    fn set_user(&mut self, user: Option<User>);
    fn set_level(&mut self, level: Option<Level>);
    fn set_fingerprint(&mut self, fingerprint: Option<&[&str]>);
    fn set_transaction(&mut self, transaction: Option<&str>);
    fn add_breadcrumb(&mut self, breadcrumb: Breadcrumb);
    fn clear_breadcrumbs(&mut self);
    fn clear(&mut self);
}

/// The error returned by [`set_backend`] when a backend is already installed.
pub struct SetBackendError(());

impl fmt::Debug for SetBackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetBackendError")
    }
}

impl fmt::Display for SetBackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Sentry backend is already installed in this process")
    }
}

impl Error for SetBackendError {}

/// Installs the process-wide backend. Only the first call succeeds.
///
/// Installing does not activate the facade; call [`set_active`] once a client can send.
///
/// # Errors
///
/// [`SetBackendError`] if a backend was installed before.
pub fn set_backend(backend: &'static dyn Backend) -> Result<(), SetBackendError> {
    BACKEND.set(backend).map_err(|_| SetBackendError(()))
}

/// Turns the facade on or off. While it is off, every facade call returns at once without
/// running closures, allocating or touching thread-locals.
///
/// Turning it on has no effect until a backend is installed.
pub fn set_active(active: bool) {
    ACTIVE.store(active && BACKEND.get().is_some(), Ordering::Release);
}

/// The installed backend, if the facade is active.
#[inline(always)]
pub(crate) fn active_backend() -> Option<&'static dyn Backend> {
    if ACTIVE.load(Ordering::Relaxed) {
        backend_slow()
    } else {
        None
    }
}

#[cold]
#[inline(never)]
fn backend_slow() -> Option<&'static dyn Backend> {
    BACKEND.get().copied()
}

/// `true` while a backend is installed and active.
#[inline(always)]
pub(crate) fn is_active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}
