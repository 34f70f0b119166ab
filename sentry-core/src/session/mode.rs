//! [`SessionMode`]: what a session stands for.

/// What a release health session stands for (option
/// [`session_mode`](crate::ClientOptions::session_mode)).
///
/// # Examples
///
/// ```
/// use sentry_core::{ClientOptions, SessionMode};
///
/// // A server: one session per request, sent as per-minute counts.
/// let options = ClientOptions {
///     release: Some("api@2.0.0".into()),
///     session_mode: SessionMode::Request,
///     ..Default::default()
/// };
/// # let _ = options;
/// assert_eq!(SessionMode::default(), SessionMode::Application);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SessionMode {
    /// One session per run of the application: started by `init` (with
    /// [`auto_session_tracking`](crate::ClientOptions::auto_session_tracking)), ended by
    /// `close`. Its updates are sent one by one (`session` items). The default.
    #[default]
    Application,
    /// One session per request, started and ended with [`start_session`](crate::start_session)
    /// and [`end_session`](crate::end_session) on the request's isolation scope (a web
    /// integration does it for each request). Ended sessions are counted per minute and sent
    /// as `sessions` items every 60 seconds and at flush; no application-wide session is
    /// tracked.
    Request,
}
