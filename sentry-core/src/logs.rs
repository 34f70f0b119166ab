//! [`LogBuffer`]: where captured logs wait to be sent in batches. Public as
//! `transport::LogBuffer`, for transports that drain it themselves.

use crate::batch::{sealed, BatchBuffer, Batched};
use crate::envelope::EnvelopeItem;
use crate::protocol::{DataCategory, Log};

/// Captured structured logs waiting to be sent, in capture order: the [`BatchBuffer`] of
/// [`Log`]s, in envelopes of one `log` item each (at most 100 logs and 1 MiB).
///
/// A log dropped because the buffer is full counts as `buffer_overflow` in `log_item` and, with
/// its estimated size, in `log_byte`.
pub type LogBuffer = BatchBuffer<Log>;

impl sealed::Sealed for Log {}

impl Batched for Log {
    const CATEGORY: DataCategory = DataCategory::LogItem;
    const BYTE_CATEGORY: Option<DataCategory> = Some(DataCategory::LogByte);

    fn batch_size(&self) -> usize {
        self.estimated_size()
    }

    fn into_item(batch: Vec<Self>) -> EnvelopeItem {
        EnvelopeItem::Logs(batch)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, PoisonError};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::batch::{BATCH_TIMEOUT, MAX_BATCH_BYTES, MAX_QUEUED, MAX_QUEUED_BYTES};
    use crate::client_reports::ClientReports;
    use crate::envelope::{Envelope, EnvelopeItem};
    use crate::protocol::{ClientSdkInfo, DataCategory, DiscardReason, LogLevel};
    use crate::signal::{Flags, Signal};

    fn buffer() -> (LogBuffer, Arc<ClientReports>) {
        let reports = Arc::new(ClientReports::default());
        (LogBuffer::new(Arc::clone(&reports)), reports)
    }

    fn log(i: usize) -> Log {
        Log::new(LogLevel::Info, format!("log {i}"))
    }

    fn logs_of(envelope: &Envelope) -> &[Log] {
        match envelope.items().next() {
            Some(EnvelopeItem::Logs(logs)) => logs,
            other => panic!("expected a log item, got {other:?}"),
        }
    }

    #[test]
    fn a_full_batch_is_due_at_once_and_capped_at_100() {
        let (buffer, _) = buffer();
        for i in 0..250 {
            buffer.push(log(i));
        }
        let now = Instant::now();
        let first = buffer.take_batch(now, false).expect("100 are waiting");
        assert_eq!(logs_of(&first).len(), 100);
        assert_eq!(logs_of(&first)[0].body, "log 0");
        let second = buffer.take_batch(now, false).expect("150 were waiting");
        assert_eq!(logs_of(&second)[0].body, "log 100");
        // 50 left: not a full batch and not old enough.
        assert!(buffer.take_batch(now, false).is_none());
        assert_eq!(buffer.len(), 50);
        let rest = buffer.take_batch(now, true).expect("forced");
        assert_eq!(logs_of(&rest).len(), 50);
        assert!(buffer.take_batch(now, true).is_none());
        assert_eq!(buffer.next_deadline(), None);
    }

    #[test]
    fn a_batch_is_due_five_seconds_after_its_first_log() {
        let (buffer, _) = buffer();
        let before = Instant::now();
        buffer.push(log(0));
        let deadline = buffer.next_deadline().expect("one log waits");
        assert!(deadline >= before + BATCH_TIMEOUT);
        assert!(deadline <= Instant::now() + BATCH_TIMEOUT);
        // Later logs do not move the deadline.
        buffer.push(log(1));
        assert_eq!(buffer.next_deadline(), Some(deadline));
        assert!(buffer
            .take_batch(deadline - Duration::from_millis(1), false)
            .is_none());
        let batch = buffer.take_batch(deadline, false).expect("due");
        assert_eq!(logs_of(&batch).len(), 2);
        assert_eq!(buffer.next_deadline(), None);
    }

    #[test]
    fn over_1000_queued_logs_are_dropped_and_counted() {
        let (buffer, reports) = buffer();
        for i in 0..1003 {
            buffer.push(log(i));
        }
        assert_eq!(buffer.len(), MAX_QUEUED);
        let report = reports.take().expect("drops were counted");
        let count = |category| {
            report
                .discarded_events
                .iter()
                .find(|d| d.reason == DiscardReason::BufferOverflow && d.category == category)
                .map_or(0, |d| d.quantity)
        };
        assert_eq!(count(DataCategory::LogItem), 3);
        assert_eq!(
            count(DataCategory::LogByte),
            3 * log(1000).estimated_size() as u64
        );
        // Draining makes room again.
        while buffer.take_batch(Instant::now(), true).is_some() {}
        buffer.push(log(0));
        assert_eq!(buffer.len(), 1);
    }

    /// Logs near Relay's 1 MiB limit: the buffer holds at most `MAX_QUEUED_BYTES` of them
    /// (not 1,000), and each envelope at most `MAX_BATCH_BYTES`.
    #[test]
    fn large_logs_are_bounded_by_bytes_in_the_buffer_and_in_each_batch() {
        let (buffer, reports) = buffer();
        let big = |i: usize| Log::new(LogLevel::Info, format!("{i} {}", "x".repeat(400_000)));
        let size = big(0).estimated_size();
        for i in 0..40 {
            buffer.push(big(i));
        }
        let kept = MAX_QUEUED_BYTES / size;
        assert_eq!(buffer.len(), kept);
        let report = reports.take().expect("drops were counted");
        let items = report
            .discarded_events
            .iter()
            .find(|d| {
                d.reason == DiscardReason::BufferOverflow && d.category == DataCategory::LogItem
            })
            .map_or(0, |d| d.quantity);
        assert_eq!(items, (40 - kept) as u64);
        // Due at once (over a batch's bytes), and every batch within MAX_BATCH_BYTES.
        let mut taken = 0;
        while let Some(envelope) = buffer.take_batch(Instant::now(), false) {
            let logs = logs_of(&envelope);
            let bytes: usize = logs.iter().map(Log::estimated_size).sum();
            assert!(bytes <= MAX_BATCH_BYTES, "{bytes} bytes in one batch");
            assert!(!logs.is_empty());
            taken += logs.len();
        }
        // What is left is less than a batch's bytes, waiting for its deadline.
        let left = buffer.len();
        assert!(left * size < MAX_BATCH_BYTES);
        assert_eq!(taken + left, kept);
        while buffer.take_batch(Instant::now(), true).is_some() {}
        assert!(buffer.is_empty());
        // The byte count went back to zero: the buffer takes as many again.
        for i in 0..kept {
            buffer.push(big(i));
        }
        assert_eq!(buffer.len(), kept);
    }

    #[test]
    fn wakes_when_non_empty_and_per_full_batch() {
        let (buffer, _) = buffer();
        assert!(!buffer.take_wakeup());
        buffer.push(log(0));
        assert!(buffer.take_wakeup());
        for i in 1..99 {
            buffer.push(log(i));
        }
        assert!(!buffer.take_wakeup(), "no wake-up before 100");
        buffer.push(log(99));
        assert!(buffer.take_wakeup());
        // Never blocks when nobody listens.
        for i in 0..300 {
            buffer.push(log(i));
        }
        assert!(buffer.take_wakeup());
        assert!(!buffer.take_wakeup(), "wake-ups coalesce");
    }

    #[test]
    fn wait_wakeup_waits_for_a_push_or_the_timeout() {
        let (buffer, _) = buffer();
        let start = Instant::now();
        assert!(!buffer.wait_wakeup(Duration::from_millis(30)));
        assert!(start.elapsed() >= Duration::from_millis(30));
        let buffer = Arc::new(buffer);
        let pusher = {
            let buffer = Arc::clone(&buffer);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                buffer.push(log(0));
            })
        };
        assert!(buffer.wait_wakeup(Duration::from_secs(10)));
        pusher.join().expect("pusher");
    }

    #[test]
    fn linked_signals_are_rung_while_they_live() {
        const FLAG: Flags = 4;
        let (buffer, _) = buffer();
        let signal = Arc::new(Signal::new());
        buffer.link(&signal, FLAG);
        assert_eq!(signal.take(FLAG), 0, "nothing waits yet");
        buffer.push(log(0));
        assert_eq!(signal.take(FLAG), FLAG);
        // The buffer's own wake-up is independent of the linked ones.
        assert!(buffer.take_wakeup());
        // Linking to a non-empty buffer rings at once.
        let late = Arc::new(Signal::new());
        buffer.link(&late, FLAG);
        assert_eq!(late.take(FLAG), FLAG);
        // A dropped signal is forgotten at the next wake-up.
        drop(late);
        while buffer.take_batch(Instant::now(), true).is_some() {}
        buffer.push(log(1));
        assert_eq!(signal.take(FLAG), FLAG);
        assert_eq!(
            buffer
                .linked
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
            1
        );
    }

    #[test]
    fn envelopes_carry_the_sdk_header() {
        let sdk = Arc::new(ClientSdkInfo {
            name: "sentry.rust".into(),
            ..Default::default()
        });
        let buffer = LogBuffer::new(Arc::default()).with_sdk_info(Arc::clone(&sdk));
        buffer.push(log(0));
        let envelope = buffer.take_batch(Instant::now(), true).unwrap();
        assert_eq!(envelope.headers().sdk, Some(sdk));
        assert!(envelope.headers().event_id.is_none());
        assert!(format!("{buffer:?}").contains("queued"));
    }
}
