//! Client reports: counting what the SDK drops, so Sentry can show it.
//!
//! Every item the SDK discards (sampled out, filtered by `before_send`, dropped by a full queue,
//! held back by a rate limit, …) is counted by reason and [`DataCategory`] in a
//! [`ClientReports`]. The transport worker periodically takes the counts as a
//! [`ClientReport`] and attaches it to an outgoing envelope.
//!
//! # Examples
//!
//! ```
//! use sentry_core::client_reports::ClientReports;
//! use sentry_core::protocol::{DataCategory, DiscardReason};
//!
//! let reports = ClientReports::default();
//! reports.record(DiscardReason::SampleRate, DataCategory::Error, 1);
//! reports.record(DiscardReason::SampleRate, DataCategory::Error, 2);
//! let report = reports.take().unwrap();
//! assert_eq!(report.discarded_events[0].quantity, 3);
//! assert!(reports.take().is_none());
//! ```

use sentry_minimal::SortedMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::SystemTime;

use crate::protocol::{ClientReport, DataCategory, DiscardReason, DiscardedEvent};
use crate::signal::{Flags, Signal};

/// Thread-safe counts of discarded items, by reason and category.
///
/// One per client. Recording is a short lock; [`take`](Self::take) reads and resets the counts
/// atomically, so no count is lost or sent twice.
#[derive(Default)]
pub struct ClientReports {
    counts: Mutex<SortedMap<(DiscardReason, DataCategory), u64>>,
    /// Rung when counts appear where there were none (see [`link`](Self::link)).
    linked: Mutex<Option<(Weak<Signal>, Flags)>>,
}

impl fmt::Debug for ClientReports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = self.lock();
        f.debug_map()
            .entries(
                counts
                    .iter()
                    .map(|((reason, category), n)| (format!("{reason}/{category}"), n)),
            )
            .finish()
    }
}

impl ClientReports {
    /// Empty counts.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SortedMap<(DiscardReason, DataCategory), u64>> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts `quantity` discarded items of `category` for `reason`. A quantity of 0 is ignored.
    pub fn record(&self, reason: DiscardReason, category: DataCategory, quantity: u64) {
        self.record_all(reason, [(category, quantity)]);
    }

    /// Records every `(category, quantity)` pair for one reason, such as the
    /// [`outcomes`](crate::envelope::EnvelopeItem::outcomes) of the items of a dropped envelope.
    pub fn record_all(
        &self,
        reason: DiscardReason,
        outcomes: impl IntoIterator<Item = (DataCategory, u64)>,
    ) {
        let mut counts = self.lock();
        let was_empty = counts.is_empty();
        for (category, quantity) in outcomes {
            if quantity > 0 {
                let count = counts.entry((reason, category)).or_insert(0);
                *count = count.saturating_add(quantity);
            }
        }
        let first = was_empty && !counts.is_empty();
        drop(counts);
        if first {
            self.ring();
        }
    }

    /// Makes the counters ring `flags` on `signal` whenever counts appear where there were
    /// none, for as long as `signal` lives (replacing an earlier link). The transport worker
    /// links its queue's signal when it persists counts with an offline cache, so that counts
    /// recorded anywhere reach the disk promptly.
    pub(crate) fn link(&self, signal: &Arc<Signal>, flags: Flags) {
        *self.linked.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Arc::downgrade(signal), flags));
        if !self.is_empty() {
            signal.ring(flags);
        }
    }

    fn ring(&self) {
        let linked = self
            .linked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|(signal, flags)| Some((signal.upgrade()?, *flags)));
        if let Some((signal, flags)) = linked {
            signal.ring(flags);
        }
    }

    /// Takes the counts as a report stamped with the current time, leaving the counts empty.
    /// `None` when nothing was recorded.
    pub fn take(&self) -> Option<ClientReport> {
        let counts = std::mem::take(&mut *self.lock());
        if counts.is_empty() {
            return None;
        }
        Some(ClientReport {
            timestamp: Some(SystemTime::now()),
            discarded_events: counts
                .into_iter()
                .map(|((reason, category), quantity)| DiscardedEvent {
                    reason,
                    category,
                    quantity,
                })
                .collect(),
        })
    }

    /// Adds a report's counts back, for a report that could not be sent.
    pub fn restore(&self, report: ClientReport) {
        let mut counts = self.lock();
        for event in report.discarded_events {
            if event.quantity > 0 {
                let count = counts.entry((event.reason, event.category)).or_insert(0);
                *count = count.saturating_add(event.quantity);
            }
        }
    }

    /// `true` when nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn record_take_and_reset() {
        let reports = ClientReports::new();
        assert!(reports.is_empty());
        assert!(reports.take().is_none());
        reports.record(DiscardReason::BeforeSend, DataCategory::Error, 0);
        assert!(reports.is_empty());
        reports.record(DiscardReason::BeforeSend, DataCategory::Error, 1);
        reports.record(DiscardReason::QueueOverflow, DataCategory::Transaction, 2);
        reports.record(DiscardReason::BeforeSend, DataCategory::Error, 4);
        reports.record_all(
            DiscardReason::RatelimitBackoff,
            [(DataCategory::LogItem, 2), (DataCategory::LogByte, 0)],
        );
        assert!(!reports.is_empty());
        assert!(format!("{reports:?}").contains("before_send/error"));
        let report = reports.take().unwrap();
        assert!(report.timestamp.is_some());
        assert_eq!(
            report.discarded_events,
            [
                DiscardedEvent {
                    reason: DiscardReason::QueueOverflow,
                    category: DataCategory::Transaction,
                    quantity: 2
                },
                DiscardedEvent {
                    reason: DiscardReason::RatelimitBackoff,
                    category: DataCategory::LogItem,
                    quantity: 2
                },
                DiscardedEvent {
                    reason: DiscardReason::BeforeSend,
                    category: DataCategory::Error,
                    quantity: 5
                },
            ]
        );
        assert!(reports.is_empty());
        assert!(reports.take().is_none());

        // A report that could not be sent goes back and adds up with new counts.
        reports.record(DiscardReason::BeforeSend, DataCategory::Error, 1);
        reports.restore(report);
        let again = reports.take().unwrap();
        assert_eq!(again.total(), 10);
    }

    #[test]
    fn a_linked_signal_is_rung_when_counts_appear() {
        const FLAG: Flags = 4;
        let reports = ClientReports::new();
        let signal = Arc::new(Signal::new());
        reports.link(&signal, FLAG);
        assert_eq!(signal.take(FLAG), 0, "nothing counted yet");
        reports.record(DiscardReason::SampleRate, DataCategory::Error, 1);
        assert_eq!(signal.take(FLAG), FLAG);
        reports.record(DiscardReason::SampleRate, DataCategory::Error, 1);
        assert_eq!(signal.take(FLAG), 0, "only the first count rings");
        let report = reports.take().unwrap();
        reports.restore(report);
        assert_eq!(signal.take(FLAG), 0, "putting counts back does not ring");
        // Linking to non-empty counters rings at once; a dropped signal is not rung.
        let late = Arc::new(Signal::new());
        reports.link(&late, FLAG);
        assert_eq!(late.take(FLAG), FLAG);
        drop(late);
        let _ = reports.take();
        reports.record(DiscardReason::SampleRate, DataCategory::Error, 1);
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        let reports = ClientReports::new();
        reports.record(DiscardReason::Invalid, DataCategory::Span, u64::MAX);
        reports.record(DiscardReason::Invalid, DataCategory::Span, 5);
        assert_eq!(reports.take().map(|r| r.total()), Some(u64::MAX));
    }

    #[test]
    fn concurrent_recording_sums_exactly() {
        let reports = Arc::new(ClientReports::new());
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let reports = Arc::clone(&reports);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        reports.record(DiscardReason::QueueOverflow, DataCategory::Error, 1);
                        if i % 2 == 0 {
                            reports.record(DiscardReason::SampleRate, DataCategory::Span, 2);
                        }
                    }
                })
            })
            .collect();
        // Take concurrently too: nothing may be lost or counted twice.
        let mut taken = 0u64;
        for _ in 0..50 {
            taken += reports.take().map_or(0, |r| r.total());
            std::thread::yield_now();
        }
        for t in threads {
            t.join().unwrap();
        }
        taken += reports.take().map_or(0, |r| r.total());
        assert_eq!(taken, 8 * 1000 + 4 * 1000 * 2);
    }

    #[test]
    fn poisoned_lock_recovers() {
        let reports = Arc::new(ClientReports::new());
        let r = Arc::clone(&reports);
        let _ = std::thread::spawn(move || {
            let _guard = r.counts.lock();
            panic!("poison");
        })
        .join();
        reports.record(DiscardReason::Invalid, DataCategory::Error, 1);
        assert_eq!(reports.take().map(|r| r.total()), Some(1));
    }
}
