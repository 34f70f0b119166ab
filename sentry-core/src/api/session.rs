//! Release health verbs: start and end a session.

use crate::protocol::SessionStatus;
use crate::scope::with_scopes;

/// Starts a release health session.
///
/// - In [`SessionMode::Request`](crate::SessionMode::Request): a session for the request
///   handled in the current isolation scope (fork one per request with
///   [`with_isolation_scope`](crate::with_isolation_scope) or
///   [`Scopes::fork_isolation`](crate::Scopes::fork_isolation)). Errors captured in that scope
///   count for it; when it ends it is counted in the per-minute aggregates. A session already
///   on the isolation scope ends as `exited` first.
/// - In [`SessionMode::Application`](crate::SessionMode::Application): a new session of the
///   application (`init` starts one already with
///   [`auto_session_tracking`](crate::ClientOptions::auto_session_tracking)); the open one
///   ends as `exited` first.
///
/// Does nothing without a release or an enabled client; after one atomic load when the SDK is
/// off.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::SessionStatus;
/// use sentry_core::{test::with_captured_envelopes_options, ClientOptions, SessionMode};
///
/// let options = ClientOptions {
///     release: Some("api@2.0.0".into()),
///     session_mode: SessionMode::Request,
///     ..Default::default()
/// };
/// let envelopes = with_captured_envelopes_options(options, || {
///     for failed in [false, true] {
///         sentry_core::with_isolation_scope(|_| {}, || {
///             sentry_core::start_session();
///             if failed {
///                 sentry_core::end_session_with_status(SessionStatus::Crashed);
///             } else {
///                 sentry_core::end_session();
///             }
///         });
///     }
/// });
/// let text = String::from_utf8(envelopes[0].to_vec(None)).unwrap();
/// assert!(text.contains(r#""exited":1"#) && text.contains(r#""crashed":1"#));
/// ```
#[inline]
pub fn start_session() {
    if !sentry_minimal::is_enabled() {
        return;
    }
    start_session_enabled();
}

#[inline(never)]
fn start_session_enabled() {
    with_scopes(|scopes| scopes.client().start_session_in(scopes));
}

/// Ends the session [`start_session`] started (or the application's), as `exited`.
#[inline]
pub fn end_session() {
    end_session_with_status(SessionStatus::Exited);
}

/// Ends the session [`start_session`] started (or the application's) with `status`:
/// `exited`, `crashed` (a request that failed the way an HTTP 500 does) or `abnormal`
/// (`ok` is taken as `exited`). A session that already reached a final state (it crashed)
/// keeps it.
#[inline]
pub fn end_session_with_status(status: SessionStatus) {
    if !sentry_minimal::is_enabled() {
        return;
    }
    end_session_enabled(status);
}

#[inline(never)]
fn end_session_enabled(status: SessionStatus) {
    with_scopes(|scopes| scopes.client().end_session_in(scopes, status));
}
