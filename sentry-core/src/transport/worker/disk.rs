//! Writing envelopes to the offline cache, for the handle (on the calling thread, at shutdown)
//! and the worker loop alike, and disposing of envelopes nobody will send any more.

use std::path::{Path, PathBuf};

use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem};
use crate::protocol::DiscardReason;
use crate::transport::cache::{DiskCache, Release};
use crate::transport::discard::{record_envelope, record_outcomes};
use crate::transport::queue::Task;

/// Writes an envelope to the offline cache, saying why in the diagnostics if it cannot.
/// `queued`: the envelope is queued too; `raw`: the finalizers have not run on it.
pub(super) fn store(
    cache: &DiskCache,
    envelope: &Envelope,
    queued: bool,
    raw: bool,
) -> Option<PathBuf> {
    match cache.store(envelope, queued, raw) {
        Ok(path) => Some(path),
        Err(error) => {
            crate::sentry_debug!("offline cache: cannot store an envelope: {error}");
            None
        }
    }
}

/// Like [`store`], for the worker right before it sends: the file is claimed from the start.
pub(super) fn store_claimed(cache: &DiskCache, envelope: &Envelope) -> Option<PathBuf> {
    match cache.store_claimed(envelope) {
        Ok(path) => Some(path),
        Err(error) => {
            crate::sentry_debug!("offline cache: cannot store an envelope: {error}");
            None
        }
    }
}

/// Runs the deferred work (symbolication) on the calling thread, so that the file is complete,
/// and writes the envelope to the offline cache; `None` also when nothing is left to write
/// (see [`finalize`]).
pub(super) fn finalize_and_store(
    cache: &DiskCache,
    envelope: &mut Envelope,
    queued: bool,
    reports: &ClientReports,
) -> Option<PathBuf> {
    if !finalize(envelope, reports) {
        return None;
    }
    store(cache, envelope, queued, false)
}

/// Runs the finalizers on `envelope`, counting what they leave too large to send (removed from
/// it) as `invalid`; `false` if nothing is left to send.
pub(super) fn finalize(envelope: &mut Envelope, reports: &ClientReports) -> bool {
    let removed = crate::finalize::finalize_envelope(envelope);
    if !removed.is_empty() {
        record_outcomes(reports, DiscardReason::Invalid, removed);
    }
    !envelope.is_empty()
}

/// Whether a file written before the finalizers ran differs from the finished envelope.
pub(super) fn needs_finalized_copy(envelope: &Envelope) -> bool {
    crate::finalize::has_event_finalizers()
        && envelope
            .items()
            .any(|item| matches!(item, EnvelopeItem::Event(_)))
}

/// Replaces a raw cached file (written before the finalizers ran) with the finished envelope,
/// when the envelope will not be sent by this worker any more.
pub(super) fn finalize_on_disk(
    cache: &DiskCache,
    path: &Path,
    envelope: &mut Envelope,
    reports: &ClientReports,
) {
    if !needs_finalized_copy(envelope) {
        return;
    }
    // Gone: another process has it.
    let Some(claimed) = cache.claim(path) else {
        return;
    };
    if !finalize(envelope, reports) {
        // Nothing left that Sentry would take.
        cache.remove(&claimed);
        return;
    }
    if let Err(error) = cache.replace(&claimed, envelope) {
        crate::sentry_debug!("offline cache: cannot write the finished envelope: {error}");
    }
    cache.unclaim(&claimed);
}

/// Disposes of tasks nobody will handle any more: envelopes are saved to the offline cache
/// (unless they are on disk already) or, without one, counted as `queue_overflow`; flush
/// barriers are dropped, which their waiters see as "not flushed".
pub(super) fn abandon(tasks: Vec<Task>, cache: Option<&DiskCache>, reports: &ClientReports) {
    for task in tasks {
        let Task::Envelope(mut queued) = task else {
            continue;
        };
        let on_disk = match (cache, &queued.cached) {
            (Some(cache), Some(path)) => match cache.release(path) {
                Release::OnDisk { raw } => {
                    if raw {
                        finalize_on_disk(cache, path, &mut queued.envelope, reports);
                    }
                    true
                }
                // Another process has it.
                Release::Gone => true,
                Release::Evicted => false,
            },
            _ => false,
        };
        if on_disk {
            continue;
        }
        let stored = cache
            .and_then(|cache| finalize_and_store(cache, &mut queued.envelope, false, reports))
            .is_some();
        if !stored {
            record_envelope(reports, DiscardReason::QueueOverflow, &queued.envelope);
        }
    }
}
