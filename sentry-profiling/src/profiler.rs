//! The one profiler of the process: started, flushed and stopped under one lock.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use sentry_core::profiling::{self, ProfilerId};
use sentry_core::protocol::EventId;
use sentry_core::Client;

use crate::aggregator::{Aggregator, Sources};
use crate::error::ProfilerError;
use crate::sampler::{self, Sampler, SamplerConfig};
use crate::sink::{self, ChunkSink};

struct Running {
    sampler: Sampler,
    aggregator: Arc<Mutex<Aggregator>>,
    /// The client the chunks go to: the one current where the profiler started (the global
    /// client for `start_profiler` on an application thread and for the control thread).
    client: Arc<Client>,
}

static RUNNING: Mutex<Option<Running>> = Mutex::new(None);

fn running() -> MutexGuard<'static, Option<Running>> {
    RUNNING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where the profiler learns thread names and loaded images.
const SOURCES: Sources = Sources {
    thread_name: sampler::thread_name,
    images: sentry_backtrace::debug_images,
};

/// `true` while the profiler samples.
pub(crate) fn is_running() -> bool {
    running().is_some()
}

/// Starts sampling with a new profiler id, sending to `client`, unless the profiler already
/// runs.
pub(crate) fn start(client: Arc<Client>) -> Result<(), ProfilerError> {
    let mut slot = running();
    if slot.is_some() {
        return Ok(());
    }
    let id = ProfilerId::new();
    let aggregator = Arc::new(Mutex::new(Aggregator::new(
        EventId::from_bytes(*id.as_bytes()),
        SOURCES,
        SystemTime::now(),
    )));
    let sink = ChunkSink::new(Arc::clone(&aggregator), Arc::clone(&client));
    let sampler = Sampler::start(SamplerConfig::default(), Box::new(sink))?;
    profiling::set_active_profiler(Some(id));
    sentry_core::sentry_debug!("profiler {id} started");
    *slot = Some(Running {
        sampler,
        aggregator,
        client,
    });
    Ok(())
}

/// Whether transactions go on naming the profiler after it stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterStop {
    /// They no longer carry a profiler id.
    Forget,
    /// They still carry the stopped profiler's id, until another profiler starts: in the
    /// `trace` lifecycle the transaction whose end stopped the profiler is still being
    /// finished on its own thread (its end told the control thread first), and the profiler
    /// covered it.
    KeepId,
}

/// Which profiler to stop.
#[derive(Clone, Copy)]
pub(crate) enum Which<'a> {
    /// Whichever runs.
    Any,
    /// Only one sending to this client (the client is closing).
    SendingTo(&'a Client),
}

/// Stops sampling and sends the last chunk through the profiler's client (an empty one is
/// counted there as `insufficient_data`). Does nothing if the profiler does not run (or
/// sends to another client than `which` names).
pub(crate) fn stop(which: Which<'_>, after: AfterStop) {
    let mut slot = running();
    if let (Which::SendingTo(client), Some(run)) = (which, slot.as_ref()) {
        if !std::ptr::eq(client, Arc::as_ptr(&run.client)) {
            return;
        }
    }
    if after == AfterStop::Forget {
        profiling::set_active_profiler(None);
    }
    let Some(run) = slot.take() else {
        return;
    };
    let stats = run.sampler.stats();
    sentry_core::sentry_debug!(
        "profiler stopping after {} rounds: {} samples ({} truncated, {} incomplete), {} \
         requests unanswered, {} module lists",
        stats.rounds,
        stats.samples,
        stats.truncated,
        stats.incomplete,
        stats.no_answer,
        stats.module_generations
    );
    // Joins the sampler's thread: no sample arrives after this.
    drop(run.sampler.stop());
    let (chunk, dropped) = sink::lock(&run.aggregator).take_chunk(SystemTime::now());
    sentry_core::sentry_debug!(
        "profiler stopped; last chunk {} with {} samples",
        chunk.chunk_id,
        chunk.profile.samples.len()
    );
    sink::send(&run.client, chunk, dropped);
}

/// Sends the samples collected so far, if there are any, when the profiler sends to
/// `client`; the profiler goes on with a new chunk.
pub(crate) fn flush(client: &Client) {
    let slot = running();
    let Some(run) = slot.as_ref() else {
        return;
    };
    if !std::ptr::eq(client, Arc::as_ptr(&run.client)) {
        return;
    }
    let taken = {
        let mut aggregator = sink::lock(&run.aggregator);
        (aggregator.len() > 0).then(|| aggregator.take_chunk(SystemTime::now()))
    };
    if let Some((chunk, dropped)) = taken {
        sink::send(client, chunk, dropped);
    }
}
