//! The sampler's sink: samples go into the aggregator, and a chunk goes out every minute.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use sentry_core::protocol::ProfileChunk;
use sentry_core::Client;

use crate::aggregator::{Aggregator, Dropped};
use crate::sampler::{RawSample, SampleSink};

/// Feeds the aggregator on the sampler's thread and sends its chunk when it is due, through
/// the profiler's client.
pub(crate) struct ChunkSink {
    aggregator: Arc<Mutex<Aggregator>>,
    client: Arc<Client>,
}

impl ChunkSink {
    pub(crate) fn new(aggregator: Arc<Mutex<Aggregator>>, client: Arc<Client>) -> ChunkSink {
        ChunkSink { aggregator, client }
    }
}

impl SampleSink for ChunkSink {
    fn on_sample(&mut self, sample: &RawSample<'_>) {
        lock(&self.aggregator).add(sample);
    }

    fn on_round(&mut self, now: SystemTime) {
        let due = {
            let mut aggregator = lock(&self.aggregator);
            aggregator.is_due(now).then(|| aggregator.take_chunk(now))
        };
        if let Some((chunk, dropped)) = due {
            send(&self.client, chunk, dropped);
        }
    }
}

/// Locks the aggregator, whatever a panic elsewhere left behind (its state stays consistent
/// between calls).
pub(crate) fn lock(aggregator: &Mutex<Aggregator>) -> std::sync::MutexGuard<'_, Aggregator> {
    aggregator.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends a chunk through `client`, saying what was dropped from it.
pub(crate) fn send(client: &Client, chunk: ProfileChunk, dropped: Dropped) {
    if dropped.over_capacity > 0 {
        sentry_core::sentry_debug!(
            "profile chunk {}: {} samples dropped over its capacity",
            chunk.chunk_id,
            dropped.over_capacity
        );
    }
    client.send_profile_chunk(chunk);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregator::Sources;
    use sentry_core::protocol::{DataCategory, DebugImage, DiscardReason, EventId};
    use sentry_core::test::TestTransport;
    use sentry_core::ClientOptions;
    use std::time::{Duration, UNIX_EPOCH};

    fn no_name(_: u64) -> Option<String> {
        None
    }

    fn no_images() -> Vec<DebugImage> {
        Vec::new()
    }

    #[test]
    fn an_empty_chunk_is_counted_as_insufficient_data() {
        let transport = TestTransport::new();
        let client = Client::new(ClientOptions {
            dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
            release: Some("app@1".into()),
            transport: Some(transport.factory()),
            ..Default::default()
        });
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let sources = Sources {
            thread_name: no_name,
            images: no_images,
        };
        let mut aggregator = Aggregator::new(EventId::nil(), sources, start);
        let (chunk, dropped) = aggregator.take_chunk(start + Duration::from_secs(60));
        send(&client, chunk, dropped);
        assert!(transport.envelopes().is_empty());
        let report = client.client_reports().take().expect("a report");
        assert_eq!(report.discarded_events.len(), 1);
        let entry = &report.discarded_events[0];
        assert_eq!(
            (entry.reason, entry.category, entry.quantity),
            (
                DiscardReason::InsufficientData,
                DataCategory::ProfileChunk,
                1
            )
        );

        // One sample: sent, with the `platform` item header.
        aggregator.add(&RawSample {
            thread_id: 3,
            timestamp: start + Duration::from_secs(61),
            frames: &[0x1234, 0x5678],
        });
        let (chunk, dropped) = aggregator.take_chunk(start + Duration::from_secs(62));
        send(&client, chunk, dropped);
        let envelopes = transport.envelopes();
        assert_eq!(envelopes.len(), 1);
        let text = String::from_utf8(envelopes[0].to_vec(None)).unwrap();
        let header = text.lines().nth(1).unwrap();
        assert!(
            header.starts_with(r#"{"type":"profile_chunk","length":"#),
            "{header}"
        );
        assert!(header.ends_with(r#","platform":"rust"}"#), "{header}");
    }
}
