//! The session of one request, kept on the request's isolation scope (request mode).

use std::sync::{Mutex, PoisonError, Weak};
use std::time::{Instant, SystemTime};

use super::aggregate::SessionAggregator;
use super::state::{Change, Progress, SessionEvent};
use crate::protocol::SessionStatus;

/// A request's session: never sent on its own; when it ends, the aggregator counts it in the
/// bucket of the minute it started in. One that is dropped without being ended (its isolation
/// scope went away) counts as `exited`.
#[derive(Debug)]
pub(crate) struct RequestSession {
    started: SystemTime,
    did: Option<String>,
    progress: Mutex<Progress>,
    aggregator: Weak<SessionAggregator>,
}

impl RequestSession {
    /// A healthy session that started at `started`, counted by `aggregator` when it ends.
    pub(crate) fn new(
        started: SystemTime,
        did: Option<String>,
        aggregator: Weak<SessionAggregator>,
    ) -> RequestSession {
        RequestSession {
            started,
            did,
            progress: Mutex::new(Progress::default()),
            aggregator,
        }
    }

    /// Applies `event`; an end (a crash included) is counted by the aggregator.
    pub(crate) fn apply(&self, event: SessionEvent) -> Change {
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        let change = progress.apply(event);
        let ended = *progress;
        drop(progress);
        if change == Change::Ended {
            if let Some(aggregator) = self.aggregator.upgrade() {
                aggregator.record_at(
                    self.started,
                    self.did.as_deref(),
                    ended.status,
                    ended.errors,
                    Instant::now(),
                );
            }
        }
        change
    }
}

impl Drop for RequestSession {
    fn drop(&mut self) {
        self.apply(SessionEvent::End(SessionStatus::Exited));
    }
}
