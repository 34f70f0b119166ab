//! The top-level functions applications call: capture, breadcrumbs, scope data, (in `trace`)
//! spans and trace propagation, cron check-ins and user feedback.

mod check_in;
mod feedback;
mod outgoing;
mod session;
mod spans;
pub(crate) mod trace;

pub use check_in::{
    capture_check_in, monitor, monitor_async, try_capture_check_in, MonitorFuture, MonitorResult,
};
pub use feedback::capture_feedback;
pub use outgoing::{start_outgoing_request, OutgoingRequest};
pub use session::{end_session, end_session_with_status, start_session};
pub use spans::{start_span_with, SpanOptions, SpanParent};
pub use trace::{
    continue_trace, get_baggage, get_current_span, get_traceparent, set_transaction_name,
    start_new_trace, start_span, start_transaction, trace, trace_headers, update_current_span,
    with_span, TraceHeaders,
};

use std::any::Any;
use std::borrow::Cow;
use std::error::Error;
use std::sync::OnceLock;
use std::time::Duration;

use sentry_minimal::{AsError, Breadcrumb, EventId, Level, User, Value};

use crate::client::convert::event_from_message;
use crate::hint::Hint;
use crate::protocol::{Attachment, Context, Event, Log, LogValue};
use crate::scope::{record_breadcrumb, with_scopes, Scope, Scopes, Snapshots};
use crate::span::Span;

/// Captures an event through the pipeline of the current client, with the current scopes.
/// Returns its identifier, or the nil identifier if it was not captured.
///
/// The hooks get an empty [`Hint`]; use [`capture_event_with_hint`] to pass one.
///
/// # Examples
///
/// ```
/// use sentry_core::{protocol::Event, test::with_captured_events, Level};
///
/// let events = with_captured_events(|| {
///     sentry_core::capture_event(Event { message: Some("hi".into()), level: Level::Info, ..Default::default() });
/// });
/// assert_eq!(events[0].message.as_deref(), Some("hi"));
/// ```
#[inline]
pub fn capture_event(event: Event) -> EventId {
    if !sentry_minimal::is_enabled() {
        return EventId::nil();
    }
    capture_event_enabled(event, &Hint::new())
}

/// Captures an event like [`capture_event`], handing `hint` to the event processors,
/// integrations and `before_send` beside it: the error it was made from, or a value of your
/// own (see [`Hint`]).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{test::with_captured_events_options, ClientOptions, Hint};
///
/// let options = ClientOptions {
///     before_send: Some(Arc::new(|mut event, hint| {
///         if let Some(attempt) = hint.value::<u32>() {
///             event.tags.insert("attempt".into(), attempt.to_string().into());
///         }
///         Some(event)
///     })),
///     ..Default::default()
/// };
/// let events = with_captured_events_options(options, || {
///     let err = "x".parse::<u8>().unwrap_err();
///     let mut event = sentry_core::event_from_error(&err);
///     event.logger = Some("importer".into());
///     let attempt = 3_u32;
///     sentry_core::capture_event_with_hint(event, &Hint::new().with_error(&err).with_value(&attempt));
/// });
/// assert_eq!(events[0].tags["attempt"], "3");
/// ```
#[inline]
pub fn capture_event_with_hint(event: Event, hint: &Hint<'_>) -> EventId {
    if !sentry_minimal::is_enabled() {
        return EventId::nil();
    }
    capture_event_enabled(event, hint)
}

#[inline(never)]
fn capture_event_enabled(event: Event, hint: &Hint<'_>) -> EventId {
    with_scopes(|scopes| capture_in(scopes, event, hint))
}

pub(crate) fn capture_in(scopes: &Scopes, event: Event, hint: &Hint<'_>) -> EventId {
    capture_with(scopes, &Snapshots::of(scopes), &mut Some(event), hint)
}

/// [`capture_in`] with the scopes' snapshots already taken, for the event in `event` (taken
/// from it: the event is not copied at each hand-over).
fn capture_with(
    scopes: &Scopes,
    snapshots: &Snapshots,
    event: &mut Option<Event>,
    hint: &Hint<'_>,
) -> EventId {
    let client = snapshots.client();
    let Some(client) = client else {
        return EventId::nil();
    };
    let id =
        client.capture_slot_in_span(event, hint, Some(snapshots.scopes()), scopes.span.as_ref());
    if !id.is_nil() {
        scopes.isolation.set_last_event_id(id);
    }
    id
}

/// Captures a message.
///
/// # Examples
///
/// ```
/// use sentry_core::{test::with_captured_events, Level};
///
/// let events = with_captured_events(|| {
///     sentry_core::capture_message("cache rebuilt", Level::Info);
/// });
/// assert_eq!(events[0].level, Level::Info);
/// ```
#[inline]
pub fn capture_message(message: &str, level: Level) -> EventId {
    if !sentry_minimal::is_enabled() {
        return EventId::nil();
    }
    capture_message_enabled(message, level)
}

#[inline(never)]
fn capture_message_enabled(message: &str, level: Level) -> EventId {
    capture_event_enabled(
        event_from_message(message, level),
        &Hint::new().for_message(),
    )
}

/// Captures an error with its whole `source()` chain, root cause first. The hooks get the
/// error itself in the [`Hint`], to downcast it.
///
/// # Examples
///
/// ```
/// use sentry_core::test::with_captured_events;
///
/// let events = with_captured_events(|| {
///     let err = "x".parse::<u8>().unwrap_err();
///     sentry_core::capture_error(&err);
/// });
/// assert_eq!(events[0].exception[0].ty, "ParseIntError");
/// ```
#[inline]
pub fn capture_error<E: AsError + ?Sized>(error: &E) -> EventId {
    if !sentry_minimal::is_enabled() {
        return EventId::nil();
    }
    // The stack is walked from the caller's own frame (this function and the next are
    // inlined there): every SDK frame between the caller and the walker is one more frame
    // for the unwinder.
    capture_error_here(error.as_error(), error.type_name())
}

/// The body of [`capture_error`] once the gate is open, for the facade's backend.
///
/// When a stack walker is registered ([`set_error_stack_walker`]) and the event is sure to
/// reach the integrations (an enabled client is bound, it samples every error, and this is not
/// a capture from inside an SDK callback), the stack is walked at the public entry point, and
/// lent to the pipeline through the hint's value: the unwinder then walks only the frames above
/// the caller instead of the whole pipeline's as well (half of a shallow stack's frames).
/// Otherwise the integration walks the stack itself, after sampling.
#[inline(never)]
pub(crate) fn capture_error_enabled(
    error: &(dyn Error + 'static),
    type_name: Option<&str>,
) -> EventId {
    capture_error_here(error, type_name)
}

/// Captures `error`, its stack walked from the frame this is inlined into when the walker
/// applies (see [`capture_error_enabled`]).
#[inline(always)]
fn capture_error_here(error: &(dyn Error + 'static), type_name: Option<&str>) -> EventId {
    match entry_walker() {
        Some(walker) => capture_error_walked_by(walker, error, type_name),
        None => capture_error_with_stack(error, type_name, None),
    }
}

/// The registered walker, when an error captured now should be walked at the entry point (see
/// [`capture_error_enabled`]).
#[inline(never)]
pub(crate) fn entry_walker() -> Option<ErrorStackWalker> {
    let walker = *ERROR_STACK_WALKER.get()?;
    walks_at_entry().then_some(walker)
}

/// Has `walker` walk the stack from the calling frame (inlined there) and captures the error
/// with what it lent; without it if the walker never called back.
#[inline(always)]
fn capture_error_walked_by(
    walker: ErrorStackWalker,
    error: &(dyn Error + 'static),
    type_name: Option<&str>,
) -> EventId {
    let mut id = None;
    walker(&mut |stack| {
        if id.is_none() {
            id = Some(capture_error_with_stack(error, type_name, Some(stack)));
        }
    });
    id.unwrap_or_else(|| capture_error_with_stack(error, type_name, None))
}

/// Captures `error` with the stack a walker lent (the hint's value), if any.
#[inline(never)]
fn capture_error_with_stack(
    error: &(dyn Error + 'static),
    type_name: Option<&str>,
    stack: Option<&dyn Any>,
) -> EventId {
    let mut event = Some(crate::client::convert::event_from_error(error, type_name));
    with_scopes(|scopes| {
        let snapshots = Snapshots::of(scopes);
        let hint = Hint::new().with_error(error);
        match stack {
            Some(stack) => capture_with(scopes, &snapshots, &mut event, &hint.with_value(stack)),
            None => capture_with(scopes, &snapshots, &mut event, &hint),
        }
    })
}

/// Walks the calling thread's stack and hands the result to the callback (once), as the value
/// of `capture_error`'s hint. See [`set_error_stack_walker`].
pub type ErrorStackWalker = fn(&mut dyn FnMut(&dyn Any));

/// The registered walker, if a stack-trace integration is set up.
static ERROR_STACK_WALKER: OnceLock<ErrorStackWalker> = OnceLock::new();

/// Registers the function that walks the stack at `capture_error`'s entry point (the first
/// registration wins; a stack-trace integration calls this in its `setup_once`).
///
/// The walker lends what it captured to the pipeline as the hint's
/// [`value`](Hint::value); the integration that registered it finds it there and uses it
/// instead of walking the stack again. Integrations that do not know the value's type ignore
/// it, so a client without that integration gets no stack.
///
/// # Examples
///
/// ```
/// use std::any::Any;
///
/// /// The integration's own type, which its `process_event` downcasts the hint's value to.
/// struct WalkedStack(Vec<u64>);
///
/// fn walk(capture: &mut dyn FnMut(&dyn Any)) {
///     let stack = WalkedStack(Vec::new()); // return addresses, from an unwinder
///     capture(&stack);
/// }
/// sentry_core::__private::set_error_stack_walker(walk);
/// ```
pub fn set_error_stack_walker(walker: ErrorStackWalker) {
    let _ = ERROR_STACK_WALKER.set(walker);
}

/// `true` if an error captured now reaches the integrations: an enabled client is bound, it
/// keeps every error (a sampled-out error must not pay for a walk), and the capture does not
/// come from inside an SDK callback (which the client drops).
fn walks_at_entry() -> bool {
    !crate::integration::inside_sdk()
        && with_scopes(|scopes| {
            let client = scopes.client();
            client.is_enabled() && client.options().sample_rate >= 1.0
        })
}

/// Builds the event [`capture_error`] would capture for `error` (its whole `source()` chain,
/// root cause first), without capturing it: for integrations that add a message, a logger or
/// extra data first and then call [`capture_event`].
///
/// # Examples
///
/// ```
/// let err = "x".parse::<u8>().unwrap_err();
/// let mut event = sentry_core::event_from_error(&err);
/// event.logger = Some("my_app::config".into());
/// assert_eq!(event.exception[0].ty, "ParseIntError");
/// ```
pub fn event_from_error<E: AsError + ?Sized>(error: &E) -> Event {
    crate::client::convert::event_from_error(error.as_error(), error.type_name())
}

/// Captures a structured log with the current scopes: the SDK adds the trace, its default
/// attributes and (with `send_default_pii`) the user, runs `before_send_log` and buffers it.
///
/// This is the entry point for integrations that build [`Log`] records themselves; the
/// [`logger`](crate::logger) functions and macros build them for you. It returns at once, after
/// one atomic load, when no client has [`enable_logs`](crate::ClientOptions::enable_logs) on.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Log, LogLevel};
/// use sentry_core::{test::with_captured_logs, ClientOptions};
///
/// let logs = with_captured_logs(ClientOptions::default(), || {
///     let mut log = Log::new(LogLevel::Warn, "slow query");
///     log.attributes.insert("db.duration_ms", 1200);
///     log.attributes.insert("sentry.origin", "auto.db.my_integration");
///     sentry_core::capture_log(log);
/// });
/// assert_eq!(logs[0].attributes.get("sentry.environment").unwrap().as_str(), Some("production"));
/// ```
#[inline]
pub fn capture_log(log: Log) {
    if crate::gate::logs_on() {
        capture_log_enabled(log);
    }
}

#[inline(never)]
fn capture_log_enabled(mut log: Log) {
    with_scopes(|scopes| {
        if log.trace_id.is_nil() {
            // The span's ids need no lock (its context would clone its op).
            if let Some((trace_id, span_id)) = scopes.span.as_ref().and_then(Span::ids) {
                log.trace_id = trace_id;
                log.span_id = Some(span_id);
            }
        }
        let snapshots = Snapshots::of(scopes);
        let client = snapshots.client();
        if let Some(client) = client {
            client.capture_log(log, Some(snapshots.scopes()));
        }
    });
}

/// Values [`add_breadcrumb`] accepts: a [`Breadcrumb`], an `Option<Breadcrumb>`, or a closure
/// returning either (run only when the SDK is enabled).
pub trait IntoBreadcrumb {
    /// The breadcrumb, if any.
    fn into_breadcrumb(self) -> Option<Breadcrumb>;
}

impl IntoBreadcrumb for Breadcrumb {
    fn into_breadcrumb(self) -> Option<Breadcrumb> {
        Some(self)
    }
}

impl IntoBreadcrumb for Option<Breadcrumb> {
    fn into_breadcrumb(self) -> Option<Breadcrumb> {
        self
    }
}

impl<F: FnOnce() -> B, B: IntoBreadcrumb> IntoBreadcrumb for F {
    fn into_breadcrumb(self) -> Option<Breadcrumb> {
        self().into_breadcrumb()
    }
}

/// Records a breadcrumb on the isolation scope, after `before_breadcrumb` (which gets an
/// empty [`Hint`]; see [`add_breadcrumb_with_hint`]).
///
/// # Examples
///
/// ```
/// use sentry_core::Breadcrumb;
///
/// sentry_core::add_breadcrumb(|| Breadcrumb::new("user logged in").category("auth"));
/// ```
#[inline]
pub fn add_breadcrumb<B: IntoBreadcrumb>(breadcrumb: B) {
    if sentry_minimal::is_enabled() {
        // Lent, not moved: the breadcrumb is copied once, into the ring (what is left here,
        // an evicted breadcrumb, is dropped after the scope's lock is released).
        let mut crumb = breadcrumb.into_breadcrumb();
        if crumb.is_some() {
            record_breadcrumb(&mut crumb, &Hint::new());
        }
    }
}

/// Records a breadcrumb like [`add_breadcrumb`], handing `hint` to `before_breadcrumb` beside
/// it: what the breadcrumb was made from.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{test::with_captured_events_options, Breadcrumb, ClientOptions, Hint, Level};
///
/// struct Query { rows: usize }
///
/// let options = ClientOptions {
///     // Keep only the breadcrumbs of queries that returned many rows.
///     before_breadcrumb: Some(Arc::new(|crumb, hint| match hint.value::<Query>() {
///         Some(query) if query.rows < 1000 => None,
///         _ => Some(crumb),
///     })),
///     ..Default::default()
/// };
/// let events = with_captured_events_options(options, || {
///     for rows in [3, 5000] {
///         let query = Query { rows };
///         sentry_core::add_breadcrumb_with_hint(
///             Breadcrumb::new(format!("{rows} rows")).category("db"),
///             &Hint::new().with_value(&query),
///         );
///     }
///     sentry_core::capture_message("done", Level::Info);
/// });
/// let kept: Vec<_> = events[0].breadcrumbs.iter().filter_map(|b| b.message.as_deref()).collect();
/// assert!(kept.contains(&"5000 rows") && !kept.contains(&"3 rows"));
/// ```
#[inline]
pub fn add_breadcrumb_with_hint<B: IntoBreadcrumb>(breadcrumb: B, hint: &Hint<'_>) {
    if sentry_minimal::is_enabled() {
        // Lent, not moved: the breadcrumb is copied once, into the ring (what is left here,
        // an evicted breadcrumb, is dropped after the scope's lock is released).
        let mut crumb = breadcrumb.into_breadcrumb();
        if crumb.is_some() {
            record_breadcrumb(&mut crumb, hint);
        }
    }
}

#[inline]
fn update_isolation(f: impl FnOnce(&mut Scope)) {
    if sentry_minimal::is_enabled() {
        with_scopes(|scopes| scopes.isolation.update(f));
    }
}

/// Adds an attachment to the isolation scope: every error and message event captured in it
/// from now on carries the file (see [`Scope::add_attachment`]). Does nothing while the SDK
/// is disabled.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::Attachment;
///
/// sentry_core::add_attachment(Attachment::from_path("/var/log/app/current.log"));
/// sentry_core::add_attachment(Attachment::from_bytes("build.txt", b"commit abc123".to_vec()));
/// ```
pub fn add_attachment(attachment: Attachment) {
    update_isolation(|scope| scope.add_attachment(attachment));
}

/// Sets a tag on the isolation scope.
///
/// # Examples
///
/// ```
/// sentry_core::set_tag("tenant", "acme");
/// ```
pub fn set_tag(key: impl Into<Cow<'static, str>>, value: impl Into<Cow<'static, str>>) {
    update_isolation(|scope| scope.set_tag(key, value));
}

/// Sets several tags on the isolation scope at once (a later pair wins over an earlier one
/// with the same key). The iterator is not consumed while the SDK is disabled.
///
/// # Examples
///
/// ```
/// use sentry_core::{test::with_captured_events, Level};
///
/// let events = with_captured_events(|| {
///     sentry_core::set_tags([("tenant", "acme"), ("plan", "pro")]);
///     sentry_core::capture_message("upgraded", Level::Info);
/// });
/// assert_eq!(events[0].tags["tenant"], "acme");
/// assert_eq!(events[0].tags["plan"], "pro");
/// ```
pub fn set_tags<I, K, V>(tags: I)
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<Cow<'static, str>>,
    V: Into<Cow<'static, str>>,
{
    update_isolation(|scope| scope.set_tags(tags));
}

/// Removes a tag from the isolation scope.
pub fn remove_tag(key: &str) {
    update_isolation(|scope| scope.remove_tag(key));
}

/// Sets an attribute on the isolation scope: every log, metric and streamed span captured
/// in it from now on carries it (see [`Scope::set_attribute`]). Values are typed: strings,
/// booleans, integers and floats.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Log, LogLevel, LogValue};
/// use sentry_core::{test::with_captured_logs, ClientOptions};
///
/// let logs = with_captured_logs(ClientOptions::default(), || {
///     sentry_core::set_attribute("tenant", "acme");
///     sentry_core::set_attribute("is_admin", true);
///     sentry_core::remove_attribute("is_admin");
///     sentry_core::capture_log(Log::new(LogLevel::Info, "order placed"));
/// });
/// assert_eq!(logs[0].attributes.get("tenant"), Some(&LogValue::from("acme")));
/// assert!(logs[0].attributes.get("is_admin").is_none());
/// ```
pub fn set_attribute(key: impl Into<Cow<'static, str>>, value: impl Into<LogValue>) {
    update_isolation(|scope| scope.set_attribute(key, value));
}

/// Sets several attributes on the isolation scope at once (see [`set_attribute`]). The
/// iterator is not consumed while the SDK is disabled.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::LogValue;
///
/// sentry_core::set_attributes([("plan", LogValue::from("pro")), ("seats", LogValue::from(12))]);
/// ```
pub fn set_attributes<I, K, V>(attributes: I)
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<Cow<'static, str>>,
    V: Into<LogValue>,
{
    update_isolation(|scope| scope.set_attributes(attributes));
}

/// Removes an attribute from the isolation scope.
pub fn remove_attribute(key: &str) {
    update_isolation(|scope| scope.remove_attribute(key));
}

/// Sets an extra value on the isolation scope.
pub fn set_extra(key: impl Into<String>, value: impl Into<Value>) {
    update_isolation(|scope| scope.set_extra(key, value));
}

/// Removes an extra value from the isolation scope.
pub fn remove_extra(key: &str) {
    update_isolation(|scope| scope.remove_extra(key));
}

/// Sets a context on the isolation scope.
pub fn set_context(key: impl Into<Cow<'static, str>>, value: impl Into<Context>) {
    update_isolation(|scope| scope.set_context(key, value));
}

/// Removes a context from the isolation scope.
///
/// # Examples
///
/// ```
/// use sentry_core::{protocol::Context, test::with_captured_events, Level, Map};
///
/// let events = with_captured_events(|| {
///     let mut order = Map::new();
///     order.insert("id".into(), 7.into());
///     sentry_core::set_context("order", Context::from(order));
///     sentry_core::remove_context("order");
///     sentry_core::capture_message("no order", Level::Info);
/// });
/// assert!(!events[0].contexts.contains_key("order"));
/// ```
pub fn remove_context(key: &str) {
    update_isolation(|scope| scope.remove_context(key));
}

/// Sets or clears the user on the isolation scope.
pub fn set_user(user: Option<User>) {
    update_isolation(|scope| scope.set_user(user));
}

/// Overrides the level of events captured in the isolation scope.
pub fn set_level(level: Option<Level>) {
    update_isolation(|scope| scope.set_level(level));
}

/// `true` when the client the calling thread reports to is enabled: `init` was given a DSN (or
/// a client was bound), and it was not closed. Use it to skip work whose only purpose is
/// reporting; the capture functions check it themselves.
///
/// While no client in the process is enabled this is one atomic load.
///
/// # Examples
///
/// ```
/// assert!(!sentry_core::is_enabled()); // no init in this example
/// let guard = sentry_core::init(""); // no DSN: disabled
/// assert!(!sentry_core::is_enabled());
/// # drop(guard);
/// ```
#[inline]
pub fn is_enabled() -> bool {
    sentry_minimal::is_enabled() && current_client_enabled()
}

#[inline(never)]
fn current_client_enabled() -> bool {
    with_scopes(|scopes| scopes.client().is_enabled())
}

/// The identifier of the last event captured in the current isolation scope.
///
/// # Examples
///
/// ```
/// use sentry_core::{test::with_captured_events, Level};
///
/// with_captured_events(|| {
///     let id = sentry_core::capture_message("hello", Level::Info);
///     assert_eq!(sentry_core::last_event_id(), Some(id));
/// });
/// ```
#[inline]
pub fn last_event_id() -> Option<EventId> {
    if !sentry_minimal::is_enabled() {
        return None;
    }
    with_scopes(|scopes| scopes.isolation.last_event_id())
}

/// Flushes the current client for at most `timeout` (its `shutdown_timeout` when `None`).
/// Returns `true` when everything queued was sent, or there is nothing to flush.
pub fn flush(timeout: Option<Duration>) -> bool {
    Scopes::current().client().flush(timeout)
}
