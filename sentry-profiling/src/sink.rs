//! The sampler's sink: samples go into the aggregator, and a chunk goes out every minute.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use sentry_core::protocol::ProfileChunk;
use sentry_core::{Client, Scopes};

use crate::aggregator::{Aggregator, Dropped};
use crate::sampler::{RawSample, SampleSink};

/// Feeds the aggregator on the sampler's thread and sends its chunk when it is due, through
/// the client bound to the global scope (the one `init` made).
pub(crate) struct ChunkSink {
    aggregator: Arc<Mutex<Aggregator>>,
}

impl ChunkSink {
    pub(crate) fn new(aggregator: Arc<Mutex<Aggregator>>) -> ChunkSink {
        ChunkSink { aggregator }
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
            send(&Scopes::current().client(), chunk, dropped);
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
