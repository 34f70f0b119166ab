//! [`MetricBuffer`]: where captured metrics wait to be sent in batches. Public as
//! `transport::MetricBuffer`, for transports that drain it themselves.

use crate::batch::{sealed, BatchBuffer, Batched};
use crate::envelope::EnvelopeItem;
use crate::protocol::{DataCategory, Metric};

/// Captured metrics waiting to be sent, in capture order: the [`BatchBuffer`] of
/// [`Metric`]s, in envelopes of one `trace_metric` item each (at most 100 metrics), due when
/// 100 wait or the oldest is 5 seconds old.
///
/// A metric dropped because the buffer is full (1,000 waiting) counts as `buffer_overflow` in
/// `trace_metric`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use sentry_core::client_reports::ClientReports;
/// use sentry_core::envelope::EnvelopeItem;
/// use sentry_core::protocol::{Metric, MetricType};
/// use sentry_core::transport::MetricBuffer;
///
/// let buffer = MetricBuffer::new(Arc::new(ClientReports::default()));
/// buffer.push(Metric::new(MetricType::Counter, "orders", 1));
/// let envelope = buffer.take_batch(Instant::now(), true).expect("forced");
/// assert!(matches!(envelope.items().next(), Some(EnvelopeItem::Metrics(m)) if m.len() == 1));
/// ```
pub type MetricBuffer = BatchBuffer<Metric>;

impl sealed::Sealed for Metric {}

impl Batched for Metric {
    const CATEGORY: DataCategory = DataCategory::TraceMetric;
    const BYTE_CATEGORY: Option<DataCategory> = None;

    fn batch_size(&self) -> usize {
        self.estimated_size()
    }

    fn into_item(batch: Vec<Self>) -> EnvelopeItem {
        EnvelopeItem::Metrics(batch)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use super::*;
    use crate::batch::{MAX_BATCH_SIZE, MAX_QUEUED};
    use crate::client_reports::ClientReports;
    use crate::envelope::Envelope;
    use crate::protocol::{DiscardReason, MetricType};

    fn metrics_of(envelope: &Envelope) -> &[Metric] {
        match envelope.items().next() {
            Some(EnvelopeItem::Metrics(metrics)) => metrics,
            other => panic!("expected a trace_metric item, got {other:?}"),
        }
    }

    #[test]
    fn overflow_is_counted_as_trace_metric_only() {
        let reports = Arc::new(ClientReports::default());
        let buffer = MetricBuffer::new(Arc::clone(&reports));
        for i in 0..MAX_QUEUED + 5 {
            buffer.push(Metric::new(MetricType::Counter, "n", i));
        }
        assert_eq!(buffer.len(), MAX_QUEUED);
        let report = reports.take().expect("drops were counted");
        assert_eq!(report.discarded_events.len(), 1, "{report:?}");
        let dropped = &report.discarded_events[0];
        assert_eq!(dropped.reason, DiscardReason::BufferOverflow);
        assert_eq!(dropped.category, DataCategory::TraceMetric);
        assert_eq!(dropped.quantity, 5);
        let first = buffer
            .take_batch(Instant::now(), false)
            .expect("full batch");
        assert_eq!(metrics_of(&first).len(), MAX_BATCH_SIZE);
    }

    #[test]
    fn finish_runs_on_every_taken_metric() {
        let buffer = MetricBuffer::new(Arc::default()).with_finish(Box::new(|m: &mut Metric| {
            m.attributes.insert("finished", true);
        }));
        buffer.push(Metric::new(MetricType::Gauge, "g", 1));
        buffer.push(Metric::new(MetricType::Gauge, "g", 2));
        let envelope = buffer.take_batch(Instant::now(), true).expect("forced");
        for metric in metrics_of(&envelope) {
            assert!(metric.attributes.contains_key("finished"));
        }
    }
}
