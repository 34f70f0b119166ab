//! Release health in the client: which events count as a session's errors, the application
//! session's updates (in the envelope of the event that changed it), request sessions on
//! isolation scopes, and ending everything at close.
//!
//! **What counts.** After `before_send` (events dropped by an event processor, an integration
//! or `before_send` do not count; events dropped by `sample_rate` or later by a rate limit
//! do): an event with an exception, or any other event at level `error` or `fatal`, except
//! events made by `capture_message`, which never count whatever their level (they are marked
//! on their way in, by a flag in the pipeline's hint, rather than recognised by their shape:
//! `capture_event` of a message-only event at level `error` counts). An exception whose
//! mechanism says `handled: false` (a panic, reported by the panic integration) crashes the
//! session.

use std::sync::Arc;
use std::time::Instant;

use sentry_minimal::{Level, User};

use super::Client;
use crate::client_reports::ClientReports;
use crate::envelope::Envelope;
use crate::hint::Hint;
use crate::options::ClientOptions;
use crate::protocol::{ClientSdkInfo, Event, SessionAttributes, SessionStatus, SessionUpdate};
use crate::scope::{global_slot, Scope, Scopes};
use crate::session::app::{abnormal_update, AppSession};
use crate::session::persist::take_leftovers;
use crate::session::request::RequestSession;
use crate::session::state::{did_of, SessionEvent};
use crate::session::{SessionAggregator, SessionMode};
use crate::transport::Transport;

/// A client's release health state.
#[derive(Debug)]
pub(crate) struct ClientSessions {
    /// What sessions belong to; `None` when sessions are off (no release, or a disabled
    /// client).
    attrs: Option<SessionAttributes>,
    app: AppSession,
    /// The per-minute counts of request sessions (request mode).
    aggregator: Option<Arc<SessionAggregator>>,
}

impl ClientSessions {
    /// Sessions for a client with these options: on when a release is set and `enabled` (a DSN
    /// and a transport).
    pub(crate) fn new(
        options: &ClientOptions,
        enabled: bool,
        client_reports: &Arc<ClientReports>,
        sdk_info: &Arc<ClientSdkInfo>,
    ) -> ClientSessions {
        let attrs = match &options.release {
            Some(release) if enabled && !release.is_empty() => Some(SessionAttributes {
                release: release.to_string(),
                environment: Some(options.effective_environment().to_owned()),
                ip_address: None,
                user_agent: None,
            }),
            _ => None,
        };
        let aggregator = match (&attrs, options.session_mode) {
            (Some(attrs), SessionMode::Request) => Some(Arc::new(
                SessionAggregator::new(attrs.clone(), Arc::clone(client_reports))
                    .with_sdk_info(Arc::clone(sdk_info)),
            )),
            _ => None,
        };
        let cache_dir = match options.session_mode {
            SessionMode::Application => options.cache_dir.as_deref(),
            SessionMode::Request => None,
        };
        ClientSessions {
            attrs,
            app: AppSession::new(cache_dir),
            aggregator,
        }
    }

    /// No sessions (a disabled client).
    pub(crate) fn off() -> ClientSessions {
        ClientSessions {
            attrs: None,
            app: AppSession::new(None),
            aggregator: None,
        }
    }

    /// The aggregator the transport worker drains (request mode).
    pub(crate) fn aggregator(&self) -> Option<&Arc<SessionAggregator>> {
        self.aggregator.as_ref()
    }
}

/// What `event` does to a session, if anything (see the module's documentation).
fn session_event(event: &Event, hint: &Hint<'_>) -> Option<SessionEvent> {
    if hint.is_message() {
        return None;
    }
    let unhandled = event.exception.iter().any(|exception| {
        exception
            .mechanism
            .as_ref()
            .is_some_and(|mechanism| mechanism.handled == Some(false))
    });
    if unhandled {
        Some(SessionEvent::Crash)
    } else if !event.exception.is_empty() || event.level >= Level::Error {
        Some(SessionEvent::Error)
    } else {
        None
    }
}

/// The user of `scopes` (current → isolation → global).
fn user_of(scopes: &Scopes) -> Option<Arc<User>> {
    scopes
        .current
        .read(|scope| scope.user.clone())
        .or_else(|| scopes.isolation.read(|scope| scope.user.clone()))
        .or_else(|| global_slot().read(|scope| scope.user.clone()))
}

impl Client {
    /// What `init` does for release health: reports the sessions earlier processes left open
    /// (with an offline cache) as `abnormal`, then, in application mode with
    /// `auto_session_tracking`, starts the application's session.
    pub(crate) fn start_auto_session(&self) {
        let Some(attrs) = &self.sessions.attrs else {
            return;
        };
        let Some(transport) = self.transport() else {
            return;
        };
        if let (Some(dir), SessionMode::Application) =
            (&self.options.cache_dir, self.options.session_mode)
        {
            let now = std::time::SystemTime::now();
            for leftover in take_leftovers(dir, &self.client_reports) {
                if leftover.status.is_terminal() {
                    continue;
                }
                self.send_session_update(abnormal_update(leftover, now), &*transport);
            }
        }
        if self.options.auto_session_tracking
            && self.options.session_mode == SessionMode::Application
        {
            let user = crate::scope::with_scopes(user_of);
            let previous = self.sessions.app.start(
                attrs.clone(),
                user.as_deref(),
                self.options.send_default_pii,
            );
            if let Some(previous) = previous {
                self.send_session_update(previous, &*transport);
            }
        }
    }

    /// `start_session` with these scopes: a new application session (application mode; an
    /// open one ends as `exited`), or a new session on the isolation scope (request mode; one
    /// already there ends as `exited`).
    pub(crate) fn start_session_in(&self, scopes: &Scopes) {
        let Some(attrs) = &self.sessions.attrs else {
            return;
        };
        match &self.sessions.aggregator {
            Some(aggregator) => {
                let aggregator = Arc::downgrade(aggregator);
                let started = std::time::SystemTime::now();
                let previous = scopes.isolation.update(|scope| {
                    let did = scope.user.as_deref().and_then(did_of);
                    scope
                        .session
                        .replace(Arc::new(RequestSession::new(started, did, aggregator)))
                });
                // Ends (and counts) a session that was never ended, outside the scope's lock.
                drop(previous);
            }
            None => {
                let Some(transport) = self.transport() else {
                    return;
                };
                let user = user_of(scopes);
                let previous = self.sessions.app.start(
                    attrs.clone(),
                    user.as_deref(),
                    self.options.send_default_pii,
                );
                if let Some(previous) = previous {
                    self.send_session_update(previous, &*transport);
                }
            }
        }
    }

    /// `end_session_with_status` with these scopes: ends the isolation scope's session
    /// (request mode) or the application session.
    pub(crate) fn end_session_in(&self, scopes: &Scopes, status: SessionStatus) {
        if self.sessions.attrs.is_none() {
            return;
        }
        if self.sessions.aggregator.is_some() {
            let session = scopes
                .isolation
                .update(|scope| scope.session.take())
                .flatten();
            if let Some(session) = session {
                session.apply(SessionEvent::End(status));
            }
            return;
        }
        let Some(transport) = self.transport() else {
            return;
        };
        let user = user_of(scopes);
        let ended = self
            .sessions
            .app
            .end(status, user.as_deref(), self.options.send_default_pii);
        if let Some(update) = ended {
            self.send_session_update(update, &*transport);
        }
    }

    /// Applies a captured `event` (which passed `before_send`, or was sampled out) to the
    /// session it belongs to: the isolation scope's request session, else the application
    /// session. Returns the application session's update when this change is one that is sent.
    pub(super) fn track_event(
        &self,
        event: &Event,
        hint: &Hint<'_>,
        scopes: Option<[&Scope; 3]>,
    ) -> Option<SessionUpdate> {
        self.sessions.attrs.as_ref()?;
        let session_event = session_event(event, hint)?;
        if let Some(session) = scopes.and_then(|[_, isolation, _]| isolation.session.as_ref()) {
            session.apply(session_event);
            return None;
        }
        self.sessions.app.apply(
            session_event,
            event.user.as_ref(),
            self.options.send_default_pii,
        )
    }

    /// Sends a session update in an envelope of its own.
    pub(super) fn send_session_update(&self, update: SessionUpdate, transport: &dyn Transport) {
        let mut envelope = Envelope::new();
        envelope.headers_mut().sdk = Some(Arc::clone(&self.sdk_info));
        envelope.add_item(update);
        transport.send_envelope(envelope);
    }

    /// Hands every waiting request-session count to `transport` (flush and close).
    pub(super) fn drain_sessions(&self, transport: &dyn Transport) {
        if let Some(aggregator) = &self.sessions.aggregator {
            let now = Instant::now();
            while let Some(envelope) = aggregator.take_batch(now, true) {
                transport.send_envelope(envelope);
            }
        }
    }

    /// At close: ends the application session as `exited` (unless it reached a final state
    /// already) and hands its update and the waiting request-session counts to `transport`.
    pub(super) fn finish_sessions(&self, transport: &dyn Transport) {
        if self.sessions.attrs.is_none() {
            return;
        }
        let user = if self.sessions.app.is_open() {
            crate::scope::with_scopes(user_of)
        } else {
            None
        };
        let ended = self.sessions.app.end(
            SessionStatus::Exited,
            user.as_deref(),
            self.options.send_default_pii,
        );
        if let Some(update) = ended {
            self.send_session_update(update, transport);
        }
        self.drain_sessions(transport);
    }
}
