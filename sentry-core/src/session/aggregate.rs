//! [`SessionAggregator`]: ended request sessions counted per minute, sent in batches.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem};
use crate::protocol::{
    ClientSdkInfo, DataCategory, DiscardReason, SessionAggregateItem, SessionAggregates,
    SessionAttributes, SessionStatus,
};
use crate::signal::{Flags, Signal};

/// How long the first counted session waits before its batch is due.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// How many buckets go into one `sessions` item (and envelope) at most, and how many make a
/// batch due at once.
pub(crate) const MAX_BUCKETS_PER_ITEM: usize = 100;

/// How many buckets may wait at most; a session that needs a new bucket beyond that is dropped
/// and counted as `buffer_overflow` (`session`).
pub(crate) const MAX_BUCKETS: usize = 10 * MAX_BUCKETS_PER_ITEM;

/// Ended request sessions, counted per start minute and distinct id until they are sent.
///
/// The client [`record`](Self::record)s a session when it ends, on the calling thread (a short
/// lock, no allocation unless a new bucket starts). The transport worker sends the counts as
/// one `sessions` item per envelope (at most 100 buckets each), 60 seconds after the first
/// session was counted, as soon as 100 buckets wait, and at every flush and close.
///
/// Time is a parameter: a session's bucket is the minute of the `started` time it is recorded
/// with, and [`take_batch`](Self::take_batch) is told the time, so the batching can be tested
/// without waiting.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::{Duration, Instant, UNIX_EPOCH};
/// use sentry_core::client_reports::ClientReports;
/// use sentry_core::protocol::{SessionAttributes, SessionStatus};
/// use sentry_core::transport::SessionAggregator;
///
/// let attrs = SessionAttributes { release: "api@2".into(), ..Default::default() };
/// let aggregator = SessionAggregator::new(attrs, Arc::new(ClientReports::default()));
/// let noon = UNIX_EPOCH + Duration::from_secs(1_714_564_800);
/// aggregator.record(noon + Duration::from_secs(59), None, SessionStatus::Exited, 0);
/// aggregator.record(noon + Duration::from_secs(60), None, SessionStatus::Exited, 2);
/// let now = Instant::now();
/// assert!(aggregator.take_batch(now, false).is_none()); // not due yet
/// let envelope = aggregator.take_batch(now + Duration::from_secs(60), false).unwrap();
/// let text = String::from_utf8(envelope.to_vec(None)).unwrap();
/// // Two buckets: 12:00 (one exited) and 12:01 (one errored).
/// assert!(text.contains(r#"{"started":"2024-05-01T12:00:00.000000Z","exited":1}"#));
/// assert!(text.contains(r#"{"started":"2024-05-01T12:01:00.000000Z","errored":1}"#));
/// assert!(aggregator.is_empty());
/// ```
pub struct SessionAggregator {
    state: Mutex<State>,
    attrs: SessionAttributes,
    /// The signals of the transport workers draining this aggregator, each with the flag it
    /// wants rung; the signals of workers that are gone are pruned.
    linked: Mutex<Vec<(Weak<Signal>, Flags)>>,
    client_reports: Arc<ClientReports>,
    sdk: Option<Arc<ClientSdkInfo>>,
}

#[derive(Default)]
struct State {
    /// In the order they were opened.
    buckets: Vec<Bucket>,
    /// When the oldest waiting count was made; `None` while empty.
    first_at: Option<Instant>,
}

struct Bucket {
    /// The start minute, in seconds since the epoch.
    minute: u64,
    did: Option<String>,
    exited: u64,
    errored: u64,
    abnormal: u64,
    crashed: u64,
}

impl fmt::Debug for SessionAggregator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionAggregator")
            .field("attrs", &self.attrs)
            .field("buckets", &self.len())
            .finish_non_exhaustive()
    }
}

impl SessionAggregator {
    /// An empty aggregator whose buckets belong to `attrs` (release, environment), counting its
    /// drops in `client_reports`.
    pub fn new(attrs: SessionAttributes, client_reports: Arc<ClientReports>) -> Self {
        SessionAggregator {
            state: Mutex::new(State::default()),
            attrs,
            linked: Mutex::new(Vec::new()),
            client_reports,
            sdk: None,
        }
    }

    /// Sets the `sdk` header of the envelopes this aggregator makes.
    #[must_use]
    pub fn with_sdk_info(mut self, sdk: Arc<ClientSdkInfo>) -> Self {
        self.sdk = Some(sdk);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a session that ended with `status` after `errors` errors, in the bucket of the
    /// minute `started` falls in (and of `did`). `exited` with errors counts as errored; an
    /// `ok` status is taken as `exited`.
    pub fn record(
        &self,
        started: SystemTime,
        did: Option<&str>,
        status: SessionStatus,
        errors: u64,
    ) {
        self.record_at(started, did, status, errors, Instant::now());
    }

    /// [`record`](Self::record) at `now` (when the batch's wait starts if it is the first).
    pub(crate) fn record_at(
        &self,
        started: SystemTime,
        did: Option<&str>,
        status: SessionStatus,
        errors: u64,
        now: Instant,
    ) {
        let secs = started
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let minute = secs - secs % 60;
        let mut state = self.lock();
        // Recent buckets are at the end.
        let found = state
            .buckets
            .iter()
            .rposition(|b| b.minute == minute && b.did.as_deref() == did);
        let index = match found {
            Some(index) => index,
            None if state.buckets.len() >= MAX_BUCKETS => {
                drop(state);
                self.client_reports
                    .record(DiscardReason::BufferOverflow, DataCategory::Session, 1);
                return;
            }
            None => {
                state.buckets.push(Bucket {
                    minute,
                    did: did.map(str::to_owned),
                    exited: 0,
                    errored: 0,
                    abnormal: 0,
                    crashed: 0,
                });
                state.buckets.len() - 1
            }
        };
        let bucket = &mut state.buckets[index];
        let count = match status {
            SessionStatus::Ok | SessionStatus::Exited if errors > 0 => &mut bucket.errored,
            SessionStatus::Ok | SessionStatus::Exited => &mut bucket.exited,
            SessionStatus::Crashed => &mut bucket.crashed,
            SessionStatus::Abnormal => &mut bucket.abnormal,
        };
        *count = count.saturating_add(1);
        let became_non_empty = state.first_at.is_none();
        if became_non_empty {
            state.first_at = Some(now);
        }
        let len = state.buckets.len();
        drop(state);
        if became_non_empty || (found.is_none() && len % MAX_BUCKETS_PER_ITEM == 0) {
            self.wake();
        }
    }

    /// Rings every linked worker's signal.
    fn wake(&self) {
        self.linked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(signal, flags)| {
                let Some(signal) = signal.upgrade() else {
                    return false;
                };
                signal.ring(*flags);
                true
            });
    }

    /// Makes the aggregator ring `flags` on `signal` when its first count arrives (a deadline
    /// starts) and when another full batch waits, for as long as `signal` lives. Rings at once
    /// if counts are already waiting.
    pub(crate) fn link(&self, signal: &Arc<Signal>, flags: Flags) {
        self.linked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((Arc::downgrade(signal), flags));
        if !self.is_empty() {
            signal.ring(flags);
        }
    }

    /// When the waiting counts are due (60 seconds after the first); `None` while empty.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.lock().first_at.map(|t| t + FLUSH_INTERVAL)
    }

    /// Takes up to 100 of the oldest buckets as an envelope with one `sessions` item, if a
    /// batch is due at `now` (the first count is 60 seconds old, or 100 buckets wait) or
    /// `force` is set. `None` when nothing is due or nothing waits. Call it again until it
    /// returns `None` to drain.
    pub fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope> {
        let mut state = self.lock();
        let first_at = state.first_at?;
        let due = force
            || state.buckets.len() >= MAX_BUCKETS_PER_ITEM
            || now.saturating_duration_since(first_at) >= FLUSH_INTERVAL;
        if !due || state.buckets.is_empty() {
            return None;
        }
        let count = state.buckets.len().min(MAX_BUCKETS_PER_ITEM);
        let taken: Vec<Bucket> = state.buckets.drain(..count).collect();
        if state.buckets.is_empty() {
            state.first_at = None;
        }
        drop(state);
        let aggregates = taken
            .into_iter()
            .map(|b| SessionAggregateItem {
                started: UNIX_EPOCH + Duration::from_secs(b.minute),
                did: b.did,
                exited: b.exited,
                errored: b.errored,
                abnormal: b.abnormal,
                crashed: b.crashed,
            })
            .collect();
        let mut envelope = Envelope::new();
        envelope.headers_mut().sdk.clone_from(&self.sdk);
        envelope.add_item(EnvelopeItem::SessionAggregates(SessionAggregates {
            aggregates,
            attrs: self.attrs.clone(),
        }));
        Some(envelope)
    }

    /// How many buckets wait.
    pub fn len(&self) -> usize {
        self.lock().buckets.len()
    }

    /// `true` when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregator() -> SessionAggregator {
        SessionAggregator::new(
            SessionAttributes {
                release: "r@1".into(),
                ..SessionAttributes::default()
            },
            Arc::new(ClientReports::default()),
        )
    }

    fn items(envelope: &Envelope) -> &SessionAggregates {
        match envelope.items().next() {
            Some(EnvelopeItem::SessionAggregates(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_full_batch_is_due_at_once_and_holds_at_most_100_buckets() {
        let agg = aggregator();
        let now = Instant::now();
        let base = UNIX_EPOCH + Duration::from_secs(1_714_564_800);
        for i in 0..150 {
            agg.record_at(
                base,
                Some(&format!("user-{i}")),
                SessionStatus::Exited,
                0,
                now,
            );
        }
        let first = agg.take_batch(now, false).expect("100 buckets are due");
        assert_eq!(items(&first).aggregates.len(), 100);
        assert!(agg.take_batch(now, false).is_none());
        let rest = agg.take_batch(now, true).expect("forced");
        assert_eq!(items(&rest).aggregates.len(), 50);
        assert!(agg.is_empty() && agg.next_deadline().is_none());
    }

    #[test]
    fn too_many_buckets_are_counted() {
        let reports = Arc::new(ClientReports::default());
        let agg = SessionAggregator::new(SessionAttributes::default(), Arc::clone(&reports));
        let now = Instant::now();
        for i in 0..=MAX_BUCKETS as u64 {
            agg.record_at(
                UNIX_EPOCH + Duration::from_secs(60 * i),
                None,
                SessionStatus::Exited,
                0,
                now,
            );
        }
        assert_eq!(agg.len(), MAX_BUCKETS);
        let report = reports.take().expect("a drop was counted");
        assert_eq!(report.total(), 1);
        assert_eq!(report.discarded_events[0].category, DataCategory::Session);
    }
}
