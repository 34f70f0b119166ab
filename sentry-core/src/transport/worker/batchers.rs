//! The batchers the worker drains: buffers of high-volume items that the client fills on the
//! calling threads and that the worker turns into envelopes of one batch each, when a batch is
//! full, when its oldest item has waited long enough, and at every flush.
//!
//! Logs, metrics, request sessions and streamed spans are the batchers today. Each batcher rings its own flag on the worker's signal when
//! it becomes worth a look, so that the worker waits for the batchers, the queue and a stop
//! request at once. Another batcher (spans, session aggregates) is a type that
//! implements [`Batcher`], a field of [`Batchers`], its flag in [`Batchers::FLAGS`] and a line
//! in each of the methods of [`Batchers`]: the fields are concrete types, so polling them costs
//! no dynamic dispatch.

use std::sync::Arc;
use std::time::Instant;

use crate::batch::{BatchBuffer, Batched};
use crate::envelope::Envelope;
use crate::logs::LogBuffer;
use crate::metric_buffer::MetricBuffer;
use crate::session::SessionAggregator;
use crate::signal::{Flags, Signal};
use crate::transport::queue::LOGS;
use crate::transport::TransportOptions;

use super::span_buffer::SpanBuffer;

/// Rung on the worker's signal by the metric buffer: it became non-empty or holds a full
/// batch. (`QUEUED`, `LOGS` and `REPORTS` are bits 0 to 2.)
pub(super) const METRICS: Flags = 1 << 3;

/// What the worker needs from a buffer it drains in batches.
pub(super) trait Batcher {
    /// Makes the buffer ring `flag` on `signal` whenever it becomes worth a look (and at once
    /// if it already is).
    fn link(&self, signal: &Arc<Signal>, flag: Flags);

    /// When the next batch is due by time; `None` while the buffer is empty.
    fn next_deadline(&self) -> Option<Instant>;

    /// Takes one batch as an envelope if one is due at `now`, or, with `force`, whatever
    /// waits. Called until it returns `None`.
    fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope>;
}

impl<T: Batched> Batcher for BatchBuffer<T> {
    fn link(&self, signal: &Arc<Signal>, flag: Flags) {
        BatchBuffer::link(self, signal, flag);
    }

    fn next_deadline(&self) -> Option<Instant> {
        BatchBuffer::next_deadline(self)
    }

    fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope> {
        BatchBuffer::take_batch(self, now, force)
    }
}

impl Batcher for SessionAggregator {
    fn link(&self, signal: &Arc<Signal>, flag: Flags) {
        SessionAggregator::link(self, signal, flag);
    }

    fn next_deadline(&self) -> Option<Instant> {
        SessionAggregator::next_deadline(self)
    }

    fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope> {
        SessionAggregator::take_batch(self, now, force)
    }
}

impl Batcher for SpanBuffer {
    fn link(&self, signal: &Arc<Signal>, flag: Flags) {
        SpanBuffer::link(self, signal, flag);
    }

    fn next_deadline(&self) -> Option<Instant> {
        SpanBuffer::next_deadline(self)
    }

    fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope> {
        SpanBuffer::take_batch(self, now, force)
    }
}

/// Rung by the span buffer when its first span arrives or a flush is due by count or size.
/// (Bit 5 is the pool's `DONE`.)
const SPANS: Flags = 1 << 6;

/// Rung by the session aggregator when its first count arrives or a full batch waits. (Bits
/// 0–2 are `QUEUED`, `LOGS` and the worker's `REPORTS`.)
const SESSIONS: Flags = 1 << 4;

/// The batchers of one worker, each present when its feature is on.
pub(super) struct Batchers {
    /// The client's structured-log buffer (with `enable_logs`); rings [`LOGS`].
    logs: Option<Arc<LogBuffer>>,
    /// The client's metric buffer (with `enable_metrics`); rings [`METRICS`].
    metrics: Option<Arc<MetricBuffer>>,
    /// The client's request-session counts (request mode); rings [`SESSIONS`].
    sessions: Option<Arc<SessionAggregator>>,
    /// The client's span buffer (`trace_lifecycle = Stream`); rings [`SPANS`].
    spans: Option<Arc<SpanBuffer>>,
}

impl Batchers {
    /// The flags the batchers ring on the worker's signal.
    pub(super) const FLAGS: Flags = LOGS | METRICS | SESSIONS | SPANS;

    /// The batchers of `options`, linked to the worker's `signal`.
    pub(super) fn new(options: &TransportOptions, signal: &Arc<Signal>) -> Batchers {
        let batchers = Batchers {
            logs: options.logs.clone(),
            metrics: options.metrics.clone(),
            sessions: options.sessions.clone(),
            spans: options.spans.clone(),
        };
        if let Some(logs) = &batchers.logs {
            Batcher::link(&**logs, signal, LOGS);
        }
        if let Some(metrics) = &batchers.metrics {
            Batcher::link(&**metrics, signal, METRICS);
        }
        if let Some(sessions) = &batchers.sessions {
            Batcher::link(&**sessions, signal, SESSIONS);
        }
        if let Some(spans) = &batchers.spans {
            Batcher::link(&**spans, signal, SPANS);
        }
        batchers
    }

    /// The earliest time a batch is due; `None` while every batcher is empty.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        [
            self.logs.as_deref().and_then(Batcher::next_deadline),
            self.metrics.as_deref().and_then(Batcher::next_deadline),
            self.sessions.as_deref().and_then(Batcher::next_deadline),
            self.spans.as_deref().and_then(Batcher::next_deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next batch that is due at `now` (with `force`, the next one that waits at all), of
    /// any batcher; `None` once nothing is due.
    pub(super) fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope> {
        self.logs
            .as_deref()
            .and_then(|logs| Batcher::take_batch(logs, now, force))
            .or_else(|| {
                self.metrics
                    .as_deref()
                    .and_then(|metrics| Batcher::take_batch(metrics, now, force))
            })
            .or_else(|| {
                self.sessions
                    .as_deref()
                    .and_then(|sessions| Batcher::take_batch(sessions, now, force))
            })
            .or_else(|| {
                self.spans
                    .as_deref()
                    .and_then(|spans| Batcher::take_batch(spans, now, force))
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    use crate::batch::MAX_BATCH_SIZE;
    use crate::envelope::ItemType;
    use crate::logs::LogBuffer;
    use crate::metric_buffer::MetricBuffer;
    use crate::protocol::{Log, LogLevel, Metric, MetricType};
    use crate::transport::test_support::*;
    use crate::transport::Transport;

    #[test]
    fn a_full_log_batch_wakes_the_idle_worker() {
        let mut options = options(10);
        let logs = Arc::new(LogBuffer::new(Arc::clone(&options.client_reports)));
        options.logs = Some(Arc::clone(&logs));
        // Nothing else would wake the worker during the test.
        options.client_report_interval = Duration::from_secs(60);
        let (sent, worker) = spawn_scripted(vec![], &options);
        thread::sleep(Duration::from_millis(50)); // idle, waiting
        for i in 0..MAX_BATCH_SIZE {
            logs.push(Log::new(LogLevel::Info, format!("log {i}")));
        }
        let elapsed = wait_until(|| !sent.is_empty());
        assert!(elapsed < Duration::from_secs(1), "batch took {elapsed:?}");
        assert_eq!(count_items(&sent.envelopes(), &ItemType::Log), 1);
        assert!(logs.is_empty());
        // Stopping still works while the worker waits for logs too.
        let start = Instant::now();
        assert!(worker.shutdown(LONG));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_full_metric_batch_wakes_the_idle_worker_and_a_partial_one_waits_for_its_deadline() {
        let mut options = options(10);
        let metrics = Arc::new(MetricBuffer::new(Arc::clone(&options.client_reports)));
        options.metrics = Some(Arc::clone(&metrics));
        options.client_report_interval = Duration::from_secs(60);
        let (sent, worker) = spawn_scripted(vec![], &options);
        thread::sleep(Duration::from_millis(50));
        for i in 0..MAX_BATCH_SIZE + 1 {
            metrics.push(Metric::new(MetricType::Counter, "n", i));
        }
        let elapsed = wait_until(|| !sent.is_empty());
        assert!(elapsed < Duration::from_secs(1), "batch took {elapsed:?}");
        assert_eq!(count_items(&sent.envelopes(), &ItemType::TraceMetric), 1);
        // The one left over waits for its deadline, or, as here, for a flush.
        assert_eq!(metrics.len(), 1);
        assert!(worker.flush(LONG));
        assert!(metrics.is_empty());
        assert_eq!(count_items(&sent.envelopes(), &ItemType::TraceMetric), 2);
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn rate_limited_metrics_are_dropped_as_trace_metric() {
        use crate::protocol::{DataCategory, DiscardReason};

        let mut options = options(10);
        let metrics = Arc::new(MetricBuffer::new(Arc::clone(&options.client_reports)));
        options.metrics = Some(Arc::clone(&metrics));
        let (sent, worker) = spawn_scripted(vec![rate_limited("60:trace_metric")], &options);
        metrics.push(Metric::new(MetricType::Counter, "n", 1));
        assert!(worker.flush(LONG));
        for i in 0..3 {
            metrics.push(Metric::new(MetricType::Counter, "n", i));
        }
        // An error still goes out: only the `trace_metric` category is limited.
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(count_items(&envelopes, &ItemType::TraceMetric), 1);
        assert_eq!(count_items(&envelopes, &ItemType::Event), 1);
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::RatelimitBackoff,
                DataCategory::TraceMetric
            ),
            3
        );
        assert!(worker.shutdown(LONG));
    }
}
