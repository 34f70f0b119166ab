//! The application session a client holds (application mode): which changes are sent, and
//! the copy kept on disk.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sentry_minimal::User;

use super::persist::SessionFile;
use super::state::{Change, SessionEvent, SessionState};
use crate::protocol::{SessionAttributes, SessionStatus, SessionUpdate};

/// The one session of a run of the application.
///
/// An update is produced when something worth sending happens: the first error (the session
/// became errored), and the end (exited, crashed or abnormal), which carries the final error
/// count. Later errors are only counted. With an offline cache the session is also written to
/// disk at its start and at every change, and removed at its end.
#[derive(Debug)]
pub(crate) struct AppSession {
    state: Mutex<Option<SessionState>>,
    file: Option<SessionFile>,
}

impl AppSession {
    /// No session yet; `cache_dir` is where the open session is kept, if anywhere.
    pub(crate) fn new(cache_dir: Option<&Path>) -> AppSession {
        AppSession {
            state: Mutex::new(None),
            file: cache_dir.map(SessionFile::new),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<SessionState>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a new session. A session still open ends as `exited` first: its update is
    /// returned.
    pub(crate) fn start(
        &self,
        attrs: SessionAttributes,
        user: Option<&User>,
        send_default_pii: bool,
    ) -> Option<SessionUpdate> {
        let mut state = self.lock();
        let previous = state
            .as_mut()
            .and_then(|session| end_locked(session, SessionStatus::Exited));
        let mut session = SessionState::new(attrs, None, SystemTime::now(), Instant::now());
        session.learn_user(user, send_default_pii);
        if let Some(file) = &self.file {
            file.write(&session.peek_update(SystemTime::now(), Instant::now()));
        }
        *state = Some(session);
        previous
    }

    /// `true` while a session is open (started and not in a final state).
    pub(crate) fn is_open(&self) -> bool {
        self.lock()
            .as_ref()
            .is_some_and(|s| !s.progress().status.is_terminal())
    }

    /// Applies `event` to the open session; returns the update to send when the change is one
    /// that is sent. `user` is the user the event was captured with: it names the session
    /// while nothing was sent.
    pub(crate) fn apply(
        &self,
        event: SessionEvent,
        user: Option<&User>,
        send_default_pii: bool,
    ) -> Option<SessionUpdate> {
        let mut state = self.lock();
        let session = state.as_mut()?;
        if session.progress().status.is_terminal() {
            return None;
        }
        session.learn_user(user, send_default_pii);
        let change = session.apply(event);
        let (now, now_at) = (SystemTime::now(), Instant::now());
        let update = change
            .is_reported()
            .then(|| session.take_update(now, now_at));
        if let Some(file) = &self.file {
            match change {
                Change::Ended => file.remove(),
                Change::Errored | Change::Counted => {
                    file.write(&session.peek_update(now, now_at));
                }
                Change::Ignored => {}
            }
        }
        update
    }

    /// Ends the open session with `status` (`ok` is taken as `exited`); its update, or `None`
    /// when no session was open. `user` names the session if nothing was sent yet.
    pub(crate) fn end(
        &self,
        status: SessionStatus,
        user: Option<&User>,
        send_default_pii: bool,
    ) -> Option<SessionUpdate> {
        let mut state = self.lock();
        let session = state.as_mut()?;
        session.learn_user(user, send_default_pii);
        let update = end_locked(session, status);
        if update.is_some() {
            if let Some(file) = &self.file {
                file.remove();
            }
        }
        update
    }
}

fn end_locked(session: &mut SessionState, status: SessionStatus) -> Option<SessionUpdate> {
    (session.apply(SessionEvent::End(status)) == Change::Ended)
        .then(|| session.take_update(SystemTime::now(), Instant::now()))
}

/// The update that reports a session found open on disk by a later process: `abnormal`, its
/// duration up to its last recorded change.
pub(crate) fn abnormal_update(mut update: SessionUpdate, now: SystemTime) -> SessionUpdate {
    let last_seen = update.timestamp.unwrap_or(update.started);
    update.duration = last_seen
        .duration_since(update.started)
        .ok()
        .map(|d| d.as_secs_f64());
    update.status = SessionStatus::Abnormal;
    update.timestamp = Some(now);
    if !update.init {
        let millis = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        update.seq = millis.max(update.seq.saturating_add(1));
    } else {
        update.seq = 0;
    }
    update
}
