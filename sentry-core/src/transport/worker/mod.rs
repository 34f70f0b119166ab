//! The reusable transport worker: one thread, a bounded queue, rate limits, client reports,
//! the offline cache, flush barriers and bounded shutdown around a [`Sender`](super::Sender)
//! that only knows how to send bytes.
//!
//! - [`handle`]: the [`TransportWorker`] the client holds (spawn, `send_envelope`, flush,
//!   shutdown, drop), on the application's threads.
//! - [`run`]: the loop on the worker thread and what it does with each envelope.
//! - [`batchers`]: the buffers the loop drains in batches (logs).
//! - [`disk`]: writing envelopes to the offline cache, shared by both sides.
//! - [`pool`]: the helper threads that send at the same time while the queue backs up.
//! - [`span_buffer`]: streamed spans, bucketed by trace, waiting for the worker.

mod batchers;
mod disk;
mod handle;
mod pool;
mod run;
pub(crate) mod span_buffer;

use std::time::Instant;

use crate::signal::Flags;

pub use handle::TransportWorker;
pub use span_buffer::SpanBuffer;

/// The name of the thread a [`TransportWorker`] runs on.
///
/// Integrations that capture things happening on threads (a panic hook, a log bridge) check
/// for this name so that the SDK never reports on its own worker in a loop.
pub const WORKER_THREAD_NAME: &str = "sentry-transport";

/// Rung on the queue's signal by the client's
/// [`ClientReports`](crate::client_reports::ClientReports) when counts appear, so that the
/// worker persists them with the offline cache. (`QUEUED` and `LOGS`, in `queue.rs`, are bits 0
/// and 1.)
const REPORTS: Flags = 1 << 2;

/// When a shutting-down worker stops sending queued envelopes (`wind_down`), to send its final
/// client report before the shutdown's deadline (`end`).
#[derive(Clone, Copy)]
struct WindDown {
    wind_down: Instant,
    end: Instant,
}
