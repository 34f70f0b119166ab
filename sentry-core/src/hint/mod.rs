//! [`Hint`]: what an event or a breadcrumb was made from, lent to the hooks that process it.

mod panic;
mod record;

use std::any::Any;
use std::error::Error;
use std::fmt;

use sentry_minimal::AsError;

pub use panic::PanicHint;
pub use record::RecordHint;

/// What an event or a breadcrumb was made from, handed to `before_send`, event processors,
/// [`Integration::process_event`](crate::Integration::process_event) and `before_breadcrumb`
/// beside the item itself.
///
/// The item is what will be sent; the hint is the original it was built from, which the item
/// no longer holds: the error value of [`capture_error`](crate::capture_error) (so a hook can
/// downcast it instead of matching on the exception's text), the panic of the panic
/// integration, the `log` record or `tracing` event of the bridges, or any value of your own
/// passed to [`capture_event_with_hint`](crate::capture_event_with_hint) or
/// [`add_breadcrumb_with_hint`](crate::add_breadcrumb_with_hint).
///
/// | captured by | what the hint holds |
/// |---|---|
/// | [`capture_error`](crate::capture_error), `sentry_minimal::capture_error` | [`error`](Self::error): the error passed in |
/// | [`capture_message`](crate::capture_message), [`capture_event`](crate::capture_event), [`add_breadcrumb`](crate::add_breadcrumb), facade calls other than `capture_error` | nothing |
/// | [`capture_event_with_hint`](crate::capture_event_with_hint), [`add_breadcrumb_with_hint`](crate::add_breadcrumb_with_hint) | what the caller put in |
/// | the panic integration (`sentry-panic`) | [`panic`](Self::panic): message, location and payload type |
/// | the `log` and `tracing` bridges (`sentry-log`) | [`record`](Self::record): level, target, location, fields; for `log`, also [`error`](Self::error) when the record has an `error` key-value holding an error |
///
/// # Cost
///
/// A hint only borrows: it lives on the stack of the thread that captures, for the duration
/// of the capture, and the pipeline runs on that thread. Building one is a few pointer
/// copies, and nothing is formatted or cloned for it, so a hint no hook reads costs nothing
/// measurable (see `benches/scopes.rs`, `capture_error` with and without a `before_send`).
/// Hooks cannot keep it: copy out what you need.
///
/// Attachments come from the scopes ([`Scope::add_attachment`](crate::Scope::add_attachment));
/// attachments meant for a single event are not part of the hint yet. They will be added
/// here, so the hooks' signatures stay as they are.
///
/// # Examples
///
/// Drop one error type in `before_send`, by type rather than by text:
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{test::with_captured_events_options, ClientOptions};
///
/// #[derive(Debug)]
/// struct ClientGone;
/// impl std::fmt::Display for ClientGone {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("the client closed the connection")
///     }
/// }
/// impl std::error::Error for ClientGone {}
///
/// let options = ClientOptions {
///     before_send: Some(Arc::new(|event, hint| {
///         if hint.error().is_some_and(|err| err.is::<ClientGone>()) {
///             return None; // expected, not worth an event
///         }
///         Some(event)
///     })),
///     ..Default::default()
/// };
/// let events = with_captured_events_options(options, || {
///     sentry_core::capture_error(&ClientGone);
///     sentry_core::capture_error(&"x".parse::<u8>().unwrap_err());
/// });
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].exception[0].ty, "ParseIntError");
/// ```
///
/// Hand a value of your own to the hooks:
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{protocol::Event, test::with_captured_events_options, ClientOptions, Hint};
///
/// struct Request { path: String }
///
/// let options = ClientOptions {
///     before_send: Some(Arc::new(|mut event, hint| {
///         if let Some(request) = hint.value::<Request>() {
///             event.tags.insert("route".into(), request.path.clone().into());
///         }
///         Some(event)
///     })),
///     ..Default::default()
/// };
/// let events = with_captured_events_options(options, || {
///     let request = Request { path: "/checkout".into() };
///     let event = Event { message: Some("slow request".into()), ..Default::default() };
///     sentry_core::capture_event_with_hint(event, &Hint::new().with_value(&request));
/// });
/// assert_eq!(events[0].tags["route"], "/checkout");
/// ```
#[derive(Clone, Copy, Default)]
pub struct Hint<'a> {
    error: Option<&'a (dyn Error + 'static)>,
    panic: Option<&'a PanicHint>,
    record: Option<&'a RecordHint<'a>>,
    value: Option<&'a dyn Any>,
    /// Made by `capture_message`: such events never count as a session's errors.
    message: bool,
}

impl<'a> Hint<'a> {
    /// An empty hint.
    pub const fn new() -> Self {
        Hint {
            error: None,
            panic: None,
            record: None,
            value: None,
            message: false,
        }
    }

    /// This hint, marking an event made by `capture_message` (which never counts as an error
    /// of a release health session, whatever its level).
    #[must_use]
    pub(crate) const fn for_message(mut self) -> Self {
        self.message = true;
        self
    }

    /// `true` for an event made by `capture_message`.
    pub(crate) fn is_message(&self) -> bool {
        self.message
    }

    /// This hint with the error the item was made from. Accepts a concrete error or a
    /// `dyn Error` trait object, like [`capture_error`](crate::capture_error).
    #[must_use]
    pub fn with_error<E: AsError + ?Sized>(mut self, error: &'a E) -> Self {
        self.error = Some(error.as_error());
        self
    }

    /// This hint with the panic the item was made from.
    #[must_use]
    pub fn with_panic(mut self, panic: &'a PanicHint) -> Self {
        self.panic = Some(panic);
        self
    }

    /// This hint with the log record the item was made from.
    #[must_use]
    pub fn with_record(mut self, record: &'a RecordHint<'a>) -> Self {
        self.record = Some(record);
        self
    }

    /// This hint with a value of the caller's, read back with [`value`](Self::value).
    #[must_use]
    pub fn with_value(mut self, value: &'a dyn Any) -> Self {
        self.value = Some(value);
        self
    }

    /// The error the item was made from. Downcast it to filter by type:
    /// `hint.error().and_then(|e| e.downcast_ref::<MyError>())`, or walk its `source()` chain.
    pub fn error(&self) -> Option<&'a (dyn Error + 'static)> {
        self.error
    }

    /// The panic the item was made from.
    pub fn panic(&self) -> Option<&'a PanicHint> {
        self.panic
    }

    /// The `log` record or `tracing` event the item was made from.
    pub fn record(&self) -> Option<&'a RecordHint<'a>> {
        self.record
    }

    /// The caller's value, if one of type `T` was passed with [`with_value`](Self::with_value).
    pub fn value<T: Any>(&self) -> Option<&'a T> {
        self.value.and_then(<dyn Any>::downcast_ref)
    }

    /// `true` when the hint holds nothing.
    pub fn is_empty(&self) -> bool {
        self.error.is_none()
            && self.panic.is_none()
            && self.record.is_none()
            && self.value.is_none()
    }
}

impl fmt::Debug for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hint")
            .field("error", &self.error)
            .field("panic", &self.panic)
            .field("record", &self.record)
            .field("value", &self.value.map(|_| "<value>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_it_is_given() {
        let err = "x".parse::<u8>().unwrap_err();
        let boxed: Box<dyn Error + Send + Sync> = "boxed".into();
        let value = 42_u32;
        assert!(Hint::new().is_empty());
        let hint = Hint::new().with_error(&err).with_value(&value);
        assert!(!hint.is_empty());
        assert!(hint.error().unwrap().is::<std::num::ParseIntError>());
        assert_eq!(hint.value::<u32>(), Some(&42));
        assert_eq!(hint.value::<u64>(), None);
        assert!(hint.panic().is_none() && hint.record().is_none());
        let hint = Hint::new().with_error(boxed.as_ref());
        assert_eq!(hint.error().unwrap().to_string(), "boxed");
        assert!(format!("{hint:?}").contains("boxed"));
    }
}
