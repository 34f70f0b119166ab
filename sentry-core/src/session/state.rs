//! The state machine of one session, and the updates it produces.
//!
//! | state | error event | crash (unhandled error) | end with `s` |
//! |---|---|---|---|
//! | `ok`, 0 errors | `ok`, 1 error: *became errored* | `crashed`, errors + 1: *ended* | `s` (`ok` means `exited`): *ended* |
//! | `ok`, n > 0 errors | `ok`, n + 1 errors: *counted* | `crashed`, n + 1: *ended* | `s`: *ended* |
//! | `exited`, `crashed`, `abnormal` | *ignored* | *ignored* | *ignored* |
//!
//! Nothing changes a session in a final state: no update of it is ever produced again.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sentry_minimal::{EventId, User};

use crate::protocol::{new_event_id, SessionAttributes, SessionStatus, SessionUpdate};

/// What happens to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionEvent {
    /// An error that counts was captured (see the client's rule).
    Error,
    /// An unhandled error (a panic) was captured: the session crashed.
    Crash,
    /// The session ended with this status (`ok` is taken as `exited`).
    End(SessionStatus),
}

/// What an event did to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing: the session was already in a final state.
    Ignored,
    /// One more error, and it was not the first.
    Counted,
    /// The first error: the session went from healthy to errored.
    Errored,
    /// The session reached a final state.
    Ended,
}

impl Change {
    /// `true` when an application session sends an update for this change: its first error
    /// and its end. Later errors are only counted (the end carries the count).
    pub(crate) fn is_reported(self) -> bool {
        matches!(self, Change::Errored | Change::Ended)
    }
}

/// The part of a session the state machine changes: the status and the error count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) status: SessionStatus,
    pub(crate) errors: u64,
}

impl Progress {
    /// Applies `event` (see the table in the module's documentation).
    pub(crate) fn apply(&mut self, event: SessionEvent) -> Change {
        if self.status.is_terminal() {
            return Change::Ignored;
        }
        match event {
            SessionEvent::Error => {
                self.errors = self.errors.saturating_add(1);
                if self.errors == 1 {
                    Change::Errored
                } else {
                    Change::Counted
                }
            }
            SessionEvent::Crash => {
                self.errors = self.errors.saturating_add(1);
                self.status = SessionStatus::Crashed;
                Change::Ended
            }
            SessionEvent::End(status) => {
                self.status = match status {
                    SessionStatus::Ok => SessionStatus::Exited,
                    other => other,
                };
                Change::Ended
            }
        }
    }
}

/// A session whose updates are sent one by one (the application session).
#[derive(Clone, Debug)]
pub(crate) struct SessionState {
    sid: EventId,
    did: Option<String>,
    started: SystemTime,
    started_at: Instant,
    progress: Progress,
    /// An update was sent already: `init` is false from now on, and `did`, `started` and
    /// `attrs` never change again.
    sent: bool,
    /// The `seq` of the last update made.
    seq: u64,
    attrs: SessionAttributes,
}

impl SessionState {
    /// A new healthy session that started at `started` (`started_at` on the monotonic clock).
    pub(crate) fn new(
        attrs: SessionAttributes,
        did: Option<String>,
        started: SystemTime,
        started_at: Instant,
    ) -> SessionState {
        SessionState {
            sid: new_event_id(),
            did,
            started,
            started_at,
            progress: Progress::default(),
            sent: false,
            seq: 0,
            attrs,
        }
    }

    /// The status and error count.
    pub(crate) fn progress(&self) -> Progress {
        self.progress
    }

    /// Applies `event` (see the module's table).
    pub(crate) fn apply(&mut self, event: SessionEvent) -> Change {
        self.progress.apply(event)
    }

    /// Takes the distinct id and IP address from the user known now, while nothing was sent
    /// (they are immutable after the first update). The IP address only with
    /// `send_default_pii`.
    pub(crate) fn learn_user(&mut self, user: Option<&User>, send_default_pii: bool) {
        if self.sent {
            return;
        }
        let Some(user) = user else {
            return;
        };
        if self.did.is_none() {
            self.did = did_of(user);
        }
        if send_default_pii && self.attrs.ip_address.is_none() {
            self.attrs.ip_address.clone_from(&user.ip_address);
        }
    }

    /// The update to send now; from now on the session counts as sent.
    pub(crate) fn take_update(&mut self, now: SystemTime, now_at: Instant) -> SessionUpdate {
        let update = self.peek_update(now, now_at);
        self.sent = true;
        self.seq = update.seq;
        update
    }

    /// The update that would be sent now, without counting it as sent (for the copy kept on
    /// disk).
    pub(crate) fn peek_update(&self, now: SystemTime, now_at: Instant) -> SessionUpdate {
        let init = !self.sent;
        let seq = if init {
            0
        } else {
            let millis = now
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            millis.max(self.seq.saturating_add(1))
        };
        SessionUpdate {
            sid: self.sid,
            did: self.did.clone(),
            seq,
            timestamp: Some(now),
            started: self.started,
            init,
            duration: Some(
                now_at
                    .saturating_duration_since(self.started_at)
                    .as_secs_f64(),
            ),
            status: self.progress.status,
            errors: self.progress.errors,
            abnormal_mechanism: None,
            attrs: self.attrs.clone(),
        }
    }
}

/// The distinct id of a user: the id, else the email, else the username.
pub(crate) fn did_of(user: &User) -> Option<String> {
    user.id
        .clone()
        .or_else(|| user.email.clone())
        .or_else(|| user.username.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    use SessionEvent::{Crash, End, Error};
    use SessionStatus::{Abnormal, Crashed, Exited, Ok};

    #[test]
    fn the_state_machine() {
        // (events applied in order, the changes they make, the final status and errors)
        let table: &[(&[SessionEvent], &[Change], SessionStatus, u64)] = &[
            (&[], &[], Ok, 0),
            (&[Error], &[Change::Errored], Ok, 1),
            (&[Error, Error], &[Change::Errored, Change::Counted], Ok, 2),
            (&[Crash], &[Change::Ended], Crashed, 1),
            (
                &[Error, Crash],
                &[Change::Errored, Change::Ended],
                Crashed,
                2,
            ),
            (&[End(Ok)], &[Change::Ended], Exited, 0),
            (&[End(Exited)], &[Change::Ended], Exited, 0),
            (&[End(Abnormal)], &[Change::Ended], Abnormal, 0),
            (
                &[Error, End(Exited)],
                &[Change::Errored, Change::Ended],
                Exited,
                1,
            ),
            // Nothing after a final state.
            (
                &[End(Exited), Error],
                &[Change::Ended, Change::Ignored],
                Exited,
                0,
            ),
            (
                &[End(Exited), Crash],
                &[Change::Ended, Change::Ignored],
                Exited,
                0,
            ),
            (
                &[Crash, End(Exited)],
                &[Change::Ended, Change::Ignored],
                Crashed,
                1,
            ),
            (
                &[Crash, Error],
                &[Change::Ended, Change::Ignored],
                Crashed,
                1,
            ),
            (
                &[End(Abnormal), End(Exited)],
                &[Change::Ended, Change::Ignored],
                Abnormal,
                0,
            ),
        ];
        for (events, changes, status, errors) in table {
            let mut progress = Progress::default();
            let seen: Vec<Change> = events.iter().map(|e| progress.apply(*e)).collect();
            assert_eq!(&seen, changes, "{events:?}");
            assert_eq!(progress.status, *status, "{events:?}");
            assert_eq!(progress.errors, *errors, "{events:?}");
        }
    }

    #[test]
    fn updates_follow_the_spec() {
        let start = SystemTime::now();
        let start_at = Instant::now();
        let attrs = SessionAttributes {
            release: "app@1".into(),
            ..SessionAttributes::default()
        };
        let mut session = SessionState::new(attrs, None, start, start_at);
        let user = User {
            id: None,
            email: Some("a@example.com".into()),
            ip_address: Some("10.0.0.1".into()),
            ..User::default()
        };
        session.learn_user(Some(&user), false);
        let peeked = session.peek_update(start, start_at);
        assert!(peeked.init);
        let first = session.take_update(start, start_at);
        assert_eq!(first, peeked);
        assert_eq!((first.init, first.seq), (true, 0));
        assert_eq!(first.did.as_deref(), Some("a@example.com"));
        assert_eq!(first.attrs.ip_address, None, "only with send_default_pii");
        // Immutable after the first send.
        session.learn_user(
            Some(&User {
                id: Some("7".into()),
                ..User::default()
            }),
            true,
        );
        session.apply(End(Exited));
        let later = start + std::time::Duration::from_secs(5);
        let last = session.take_update(later, start_at + std::time::Duration::from_secs(5));
        assert!(!last.init);
        assert!(last.seq > 0);
        assert_eq!(last.did.as_deref(), Some("a@example.com"));
        assert_eq!(last.status, Exited);
        assert_eq!(last.duration, Some(5.0));
        assert_eq!(last.started, start);
        // seq grows even when the wall clock does not.
        let again = session.take_update(later, start_at);
        assert!(again.seq > last.seq);
    }
}
