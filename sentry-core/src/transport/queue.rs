//! The transport queue: bounded by envelopes and by bytes, shedding low-priority data first.
//!
//! A channel cannot evict, so the queue is a `VecDeque` behind a mutex with a [`Signal`] that
//! wakes the worker thread: the queue rings it with [`QUEUED`], the log buffer with [`LOGS`],
//! and closing it tells the worker to stop, so that the worker waits for all three (and its
//! deadlines) at once. Flush barriers travel in the same deque so that "everything queued
//! before the flush" keeps its meaning.
//!
//! When a new envelope does not fit, the queue evicts the oldest envelope of the lowest
//! priority present, as long as that priority is *strictly lower* than the newcomer's: logs and
//! sessions go before transactions, transactions before errors. Among equals the newcomer is
//! the one dropped, so a burst of errors keeps its first (usually most telling) members.
//! Every envelope that leaves the queue without being sent is handed back to the caller to
//! be counted.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::envelope::{Envelope, EnvelopeItem};
use crate::limits;
use crate::protocol::DataCategory;
use crate::signal::{Flags, Notifier, Signal};

/// Rung on the queue's [`signal`](Queue::signal) when a task was queued.
pub(crate) const QUEUED: Flags = 1 << 0;

/// Rung on the queue's [`signal`](Queue::signal) by the log buffer the worker drains (see
/// `LogBuffer::link`): it became non-empty or holds a full batch.
pub(crate) const LOGS: Flags = 1 << 1;

/// How much an envelope matters when the queue must shed load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Priority {
    /// Logs, sessions, replays, metrics: high volume, individually expendable.
    Low = 0,
    /// Transactions, spans, profiles.
    Normal = 1,
    /// Errors, check-ins, feedback, attachments and the SDK's own reports.
    High = 2,
}

impl Priority {
    const COUNT: usize = 3;

    /// The priority of an envelope: that of its most important item.
    pub(crate) fn of(envelope: &Envelope) -> Priority {
        envelope
            .items()
            .map(|item| Priority::of_category(item.category()))
            .max()
            .unwrap_or(Priority::Low)
    }

    fn of_category(category: DataCategory) -> Priority {
        match category {
            DataCategory::Error
            | DataCategory::Default
            | DataCategory::Monitor
            | DataCategory::Feedback
            | DataCategory::Attachment
            | DataCategory::Security
            | DataCategory::Internal => Priority::High,
            DataCategory::Transaction
            | DataCategory::Span
            | DataCategory::Profile
            | DataCategory::ProfileChunk => Priority::Normal,
            _ => Priority::Low,
        }
    }
}

/// An envelope waiting for the worker.
pub(crate) struct Queued {
    pub(crate) envelope: Envelope,
    /// Its file in the offline cache, when it was written there before being queued.
    pub(crate) cached: Option<PathBuf>,
    size: usize,
    priority: Priority,
}

impl Queued {
    /// An envelope (and its cache file, if it has one) with its size and priority worked out.
    pub(crate) fn new(envelope: Envelope, cached: Option<PathBuf>) -> Queued {
        Queued {
            size: estimated_size(&envelope),
            priority: Priority::of(&envelope),
            envelope,
            cached,
        }
    }
}

/// What the worker takes from the queue.
pub(crate) enum Task {
    Envelope(Queued),
    /// A barrier: reply once everything queued before it has been handled.
    Flush(Notifier),
}

/// The bounded, priority-aware queue between capturing threads and the worker.
pub(crate) struct Queue {
    state: Mutex<State>,
    signal: Arc<Signal>,
}

struct State {
    tasks: VecDeque<Task>,
    envelopes: usize,
    bytes: usize,
    by_priority: [usize; Priority::COUNT],
    max_envelopes: usize,
    max_bytes: usize,
}

impl Queue {
    /// A queue for at most `max_envelopes` envelopes of `max_bytes` (estimated) in all.
    pub(crate) fn new(max_envelopes: usize, max_bytes: usize) -> Queue {
        Queue {
            state: Mutex::new(State {
                tasks: VecDeque::new(),
                envelopes: 0,
                bytes: 0,
                by_priority: [0; Priority::COUNT],
                max_envelopes: max_envelopes.max(1),
                max_bytes: max_bytes.max(1),
            }),
            signal: Arc::new(Signal::new()),
        }
    }

    /// The worker's signal: rung with [`QUEUED`] when something was queued, with [`LOGS`] by
    /// the log buffer, and closed to stop the worker. The worker waits on it when the queue is
    /// empty.
    pub(crate) fn signal(&self) -> &Arc<Signal> {
        &self.signal
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rings `QUEUED` after a push into an empty queue. A push into a non-empty one needs no
    /// ring: the worker only waits after a `pop` found the queue empty, and every push after
    /// that pop finds it empty too and rings. Bursts thus pay for one ring, not one each.
    fn ring(&self) {
        self.signal.ring(QUEUED);
    }

    /// Queues an envelope. Returns what did not fit and must be counted as `queue_overflow`:
    /// the newcomer itself, or older envelopes of lower priority that were evicted for it.
    pub(crate) fn push(&self, envelope: Envelope, cached: Option<PathBuf>) -> Vec<Queued> {
        let queued = Queued::new(envelope, cached);
        let mut dropped = Vec::new();
        let was_empty;
        {
            let mut state = self.lock();
            if queued.size > state.max_bytes {
                dropped.push(queued);
                return dropped;
            }
            while state.envelopes + 1 > state.max_envelopes
                || state.bytes + queued.size > state.max_bytes
            {
                match state.evict_below(queued.priority) {
                    Some(victim) => dropped.push(victim),
                    None => {
                        dropped.push(queued);
                        return dropped;
                    }
                }
            }
            state.envelopes += 1;
            state.bytes += queued.size;
            state.by_priority[queued.priority as usize] += 1;
            was_empty = state.tasks.is_empty();
            state.tasks.push_back(Task::Envelope(queued));
        }
        if was_empty {
            self.ring();
        }
        dropped
    }

    /// Queues a flush barrier; barriers are never refused.
    pub(crate) fn push_flush(&self, reply: Notifier) {
        let mut state = self.lock();
        let was_empty = state.tasks.is_empty();
        state.tasks.push_back(Task::Flush(reply));
        drop(state);
        if was_empty {
            self.ring();
        }
    }

    /// The oldest task, if any.
    pub(crate) fn pop(&self) -> Option<Task> {
        let mut state = self.lock();
        let task = state.tasks.pop_front()?;
        if let Task::Envelope(queued) = &task {
            state.forget(queued);
        }
        Some(task)
    }

    /// Takes every task still queued.
    pub(crate) fn drain(&self) -> Vec<Task> {
        let mut state = self.lock();
        state.envelopes = 0;
        state.bytes = 0;
        state.by_priority = [0; Priority::COUNT];
        state.tasks.drain(..).collect()
    }

    /// The number of envelopes waiting.
    pub(crate) fn len(&self) -> usize {
        self.lock().envelopes
    }
}

impl State {
    fn forget(&mut self, queued: &Queued) {
        self.envelopes -= 1;
        self.bytes -= queued.size;
        self.by_priority[queued.priority as usize] -= 1;
    }

    /// Removes the oldest envelope of the lowest priority present, if that priority is below
    /// `priority`.
    fn evict_below(&mut self, priority: Priority) -> Option<Queued> {
        let lowest = self.by_priority.iter().position(|&count| count > 0)?;
        if lowest >= priority as usize {
            return None;
        }
        let index = self.tasks.iter().position(
            |task| matches!(task, Task::Envelope(queued) if queued.priority as usize == lowest),
        )?;
        match self.tasks.remove(index) {
            Some(Task::Envelope(victim)) => {
                self.forget(&victim);
                Some(victim)
            }
            // `position` matched an envelope at `index`.
            Some(other) => {
                self.tasks.insert(index, other);
                None
            }
            None => None,
        }
    }
}

/// A cheap estimate of an envelope's serialized size, without serializing it.
///
/// Exact for items that are already bytes. Events and transactions are walked field by field,
/// every string and every value in their data (and their spans') included
/// ([`limits::estimated_event_size`]), so the estimate also tracks the memory a queued event
/// holds; logs count their body and attributes; attachments their bytes and header strings
/// (their bytes count in full in every envelope that carries them, though envelopes share
/// them: the bound is on what would be sent).
///
/// An event the client's pipeline has just measured (its limits walk the whole event) is not
/// walked again: the envelope carries that size ([`Envelope::event_size`]) for its first event,
/// transaction or feedback item.
pub(crate) fn estimated_size(envelope: &Envelope) -> usize {
    let mut measured = envelope.event_size();
    64 + envelope
        .items()
        .map(|item| {
            64 + match item {
                EnvelopeItem::Event(event)
                | EnvelopeItem::Transaction(event)
                | EnvelopeItem::Feedback(event) => match measured.take() {
                    Some(size) => size,
                    None => limits::estimated_event_size(event),
                },
                EnvelopeItem::CheckIn(check_in) => 256 + check_in.monitor_slug.len(),
                EnvelopeItem::ClientReport(report) => 64 + report.discarded_events.len() * 64,
                EnvelopeItem::Raw(raw) => raw.payload.len(),
                EnvelopeItem::Attachment(attachment) => {
                    attachment.len()
                        + attachment.filename.len()
                        + attachment.attachment_type.as_str().len()
                        + attachment.content_type().len()
                }
                EnvelopeItem::Logs(logs) => logs.iter().map(|log| log.estimated_size()).sum(),
                EnvelopeItem::Metrics(metrics) => metrics.iter().map(|m| m.estimated_size()).sum(),
                #[allow(unreachable_patterns)]
                _ => 1024,
            }
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{ItemType, RawItem};
    use crate::protocol::Event;
    use crate::Value;

    fn raw(ty: ItemType, len: usize) -> Envelope {
        let mut envelope = Envelope::new();
        envelope.add_item(RawItem::new(ty, vec![b'x'; len]));
        envelope
    }

    fn error() -> Envelope {
        Envelope::from_event(Event::default())
    }

    fn types(tasks: Vec<Task>) -> Vec<ItemType> {
        tasks
            .into_iter()
            .filter_map(|task| match task {
                Task::Envelope(queued) => queued.envelope.items().next().map(EnvelopeItem::ty),
                Task::Flush(_) => None,
            })
            .collect()
    }

    #[test]
    fn priorities_follow_the_most_important_item() {
        assert_eq!(Priority::of(&error()), Priority::High);
        assert_eq!(Priority::of(&raw(ItemType::Log, 1)), Priority::Low);
        assert_eq!(Priority::of(&raw(ItemType::Session, 1)), Priority::Low);
        assert_eq!(
            Priority::of(&raw(ItemType::Transaction, 1)),
            Priority::Normal
        );
        let typed = Envelope::from_transaction(Event::default());
        assert_eq!(Priority::of(&typed), Priority::Normal);
        let mut mixed = raw(ItemType::Session, 1);
        mixed.add_item(Event::default());
        assert_eq!(Priority::of(&mixed), Priority::High);
    }

    #[test]
    fn full_queue_evicts_the_oldest_lower_priority_envelope() {
        let queue = Queue::new(3, usize::MAX);
        assert!(queue.push(raw(ItemType::Log, 10), None).is_empty());
        assert!(queue.push(raw(ItemType::Session, 10), None).is_empty());
        assert!(queue.push(raw(ItemType::Transaction, 10), None).is_empty());
        // An error evicts the oldest low-priority envelope (the log).
        let dropped = queue.push(error(), None);
        assert_eq!(
            types(dropped.into_iter().map(Task::Envelope).collect()),
            [ItemType::Log]
        );
        // Then the session.
        let dropped = queue.push(error(), None);
        assert_eq!(
            types(dropped.into_iter().map(Task::Envelope).collect()),
            [ItemType::Session]
        );
        // A log does not evict anything of higher priority: it is refused.
        let dropped = queue.push(raw(ItemType::Log, 10), None);
        assert_eq!(
            types(dropped.into_iter().map(Task::Envelope).collect()),
            [ItemType::Log]
        );
        // Nor does an error evict another error: the newcomer goes.
        let _ = queue.push(error(), None); // evicts the transaction
        let dropped = queue.push(error(), None);
        assert_eq!(
            types(dropped.into_iter().map(Task::Envelope).collect()),
            [ItemType::Event]
        );
        assert_eq!(queue.len(), 3);
        assert_eq!(
            types(queue.drain()),
            [ItemType::Event, ItemType::Event, ItemType::Event]
        );
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn the_byte_bound_applies_too() {
        let queue = Queue::new(100, 1300); // each 400-byte log is estimated at 528 bytes
        assert!(queue.push(raw(ItemType::Log, 400), None).is_empty());
        assert!(queue.push(raw(ItemType::Log, 400), None).is_empty());
        // Does not fit next to the two logs, and cannot evict its equals.
        assert_eq!(queue.push(raw(ItemType::Log, 400), None).len(), 1);
        // An error evicts logs until it fits.
        assert_eq!(queue.push(raw(ItemType::Event, 600), None).len(), 1);
        // Larger than the whole queue: refused outright.
        assert_eq!(queue.push(raw(ItemType::Event, 5000), None).len(), 1);
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn tasks_come_out_in_order_with_barriers() {
        let queue = Queue::new(10, usize::MAX);
        let (notifier, _notice) = crate::signal::notice();
        assert_eq!(queue.signal().take(QUEUED), 0);
        let _ = queue.push(error(), None);
        queue.push_flush(notifier);
        let _ = queue.push(raw(ItemType::Log, 1), None);
        assert_eq!(queue.signal().take(QUEUED | LOGS), QUEUED, "rung, once");
        assert!(matches!(queue.pop(), Some(Task::Envelope(_))));
        assert!(matches!(queue.pop(), Some(Task::Flush(_))));
        assert!(matches!(queue.pop(), Some(Task::Envelope(_))));
        assert!(queue.pop().is_none());
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn only_a_push_into_an_empty_queue_rings() {
        let queue = Queue::new(10, usize::MAX);
        let _ = queue.push(error(), None);
        assert_eq!(queue.signal().take(QUEUED), QUEUED);
        // The worker has not popped yet: it will see this one without a ring.
        let _ = queue.push(error(), None);
        assert_eq!(queue.signal().take(QUEUED), 0);
        assert!(queue.pop().is_some() && queue.pop().is_some() && queue.pop().is_none());
        // Emptied by the worker: the next push rings again, as does a barrier into it.
        let _ = queue.push(error(), None);
        assert_eq!(queue.signal().take(QUEUED), QUEUED);
        assert!(queue.pop().is_some());
        let (notifier, _notice) = crate::signal::notice();
        queue.push_flush(notifier);
        assert_eq!(queue.signal().take(QUEUED), QUEUED);
    }

    #[test]
    fn attachment_bytes_count() {
        let base = estimated_size(&error());
        let mut envelope = error();
        envelope.add_item(crate::protocol::Attachment::from_bytes(
            "a.bin",
            vec![0; 100_000],
        ));
        assert!(estimated_size(&envelope) >= base + 100_000);
        let written = envelope.to_vec(None).len();
        assert!(estimated_size(&envelope) >= written, "{written}");
    }

    /// An event the pipeline measured is not walked again; once its items can have changed,
    /// the envelope is walked as any other.
    #[test]
    fn a_measured_event_is_not_walked_again() {
        let event = Event {
            message: Some("x".repeat(10_000)),
            ..Event::default()
        };
        let mut envelope = Envelope::from_event(event);
        let walked = estimated_size(&envelope);
        envelope.set_event_size(123);
        assert_eq!(estimated_size(&envelope), 64 + 64 + 123);
        // A second event item is walked.
        envelope.add_item(Event {
            message: Some("y".repeat(10_000)),
            ..Event::default()
        });
        assert!(estimated_size(&envelope) > 64 + 64 + 123 + 10_000);
        let _ = envelope.items_mut();
        assert!(estimated_size(&envelope) > walked + 10_000);
        envelope.set_event_size(123);
        envelope.retain_items(|_| true);
        assert_eq!(envelope.event_size(), None);
        envelope.set_event_size(123);
        let items = envelope.take_items();
        assert_eq!((items.len(), envelope.event_size()), (2, None));
    }

    #[test]
    fn event_estimates_grow_with_content() {
        let small = estimated_size(&error());
        let mut event = Event {
            message: Some("x".repeat(10_000)),
            ..Event::default()
        };
        event.tags.insert("a".into(), "b".into());
        let large = estimated_size(&Envelope::from_event(event));
        assert!(large > small + 10_000, "{small} {large}");
    }

    /// Every part of an event counts: extra, contexts, user and breadcrumb data included, and a
    /// transaction's spans.
    #[test]
    fn event_estimates_cover_all_data() {
        let blob = || Value::from("x".repeat(100_000));
        let base = estimated_size(&error());
        let mut extra = Event::default();
        extra.extra.insert("blob".into(), blob());
        let mut context = Event::default();
        context.contexts.insert(
            "ctx".into(),
            crate::protocol::Context::Other([("blob".to_owned(), blob())].into_iter().collect()),
        );
        let user = Event {
            user: Some(crate::User {
                other: [("blob".to_owned(), blob())].into_iter().collect(),
                ..Default::default()
            }),
            ..Event::default()
        };
        let mut crumb = Event::default();
        crumb.breadcrumbs.push(std::sync::Arc::new(
            crate::Breadcrumb::new("b").data("blob", blob()),
        ));
        let mut tags = Event::default();
        tags.tags.insert("blob".into(), "x".repeat(100_000).into());
        let mut span_data = Event {
            ty: crate::protocol::EventType::Transaction,
            spans: vec![crate::protocol::Span::default(); 2],
            ..Event::default()
        };
        span_data.spans[1].data.insert("blob".into(), blob());
        let mut span_description = span_data.clone();
        span_description.spans[1].data.clear();
        span_description.spans[0].description = Some("x".repeat(100_000).into());
        for event in [
            extra,
            context,
            user,
            crumb,
            tags,
            span_data,
            span_description,
        ] {
            let written = serde_json::to_vec(&event).unwrap().len();
            let estimate = estimated_size(&Envelope::from_event(event));
            assert!(estimate >= base + 100_000, "{estimate}");
            assert!(estimate + 64 >= written, "{estimate} < {written}");
        }
    }
}
