//! The one owner of the SDK's on/off state: how many enabled clients exist, how many of them
//! have structured logs on, the two fast-path flags derived from those counts (the facade's
//! gate in `sentry-minimal` and [`logger::enabled`](crate::logger::enabled)), and the
//! installation of this crate as the facade's backend. Metrics have a flag of their own
//! ([`metrics::enabled`](crate::metrics::enabled)), from the count of clients with metrics on.
//!
//! Counts and flags change together under one lock. Two separate atomic steps (count, then
//! flag) would race: a thread dropping the last client could clear the facade's flag *after*
//! another thread had counted a new client and set it, leaving an enabled client behind a closed
//! gate, with every capture silently ignored. Readers never take the lock: they load one atomic
//! flag, and a client is counted here only while it is enabled, so the lock is taken once per
//! client creation and once per close.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, PoisonError};

/// This crate as the backend of the `sentry-minimal` facade, installed with the first enabled
/// client. What it does (forward facade calls to the scopes and clients) is its
/// `sentry_minimal::backend::Backend` impl in `backend.rs`, at the top of the crate: this
/// module, below the clients that call it, only hands it to the facade as a trait object.
#[derive(Debug)]
pub(crate) struct CoreBackend;

static CORE: CoreBackend = CoreBackend;

/// Installs [`CoreBackend`] as the facade's backend, once per process.
fn install_backend() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if sentry_minimal::backend::set_backend(&CORE).is_err() {
            crate::debug::debug_print(format_args!(
                "another Sentry backend is installed; sentry-minimal calls will not reach this SDK"
            ));
        }
    });
}

/// The counts behind the flags.
struct Counts {
    clients: usize,
    log_clients: usize,
}

static COUNTS: Mutex<Counts> = Mutex::new(Counts {
    clients: 0,
    log_clients: 0,
});

/// `true` while at least one enabled client has structured logs on.
static LOGS_ON: AtomicBool = AtomicBool::new(false);

/// Counts a client that has just become enabled, installs the facade backend (once per
/// process) and opens the gates.
pub(crate) fn open(with_logs: bool) {
    let mut counts = COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
    counts.clients += 1;
    if with_logs {
        counts.log_clients += 1;
    }
    install_backend();
    publish(&counts);
}

/// Uncounts a client that was counted by [`open`] with the same `with_logs`, and closes the
/// gates that no client keeps open any more.
pub(crate) fn close(with_logs: bool) {
    let mut counts = COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
    counts.clients = counts.clients.saturating_sub(1);
    if with_logs {
        counts.log_clients = counts.log_clients.saturating_sub(1);
    }
    publish(&counts);
}

/// Sets both flags from the counts; called with the lock held, so flags always match counts.
fn publish(counts: &Counts) {
    sentry_minimal::backend::set_active(counts.clients > 0);
    LOGS_ON.store(counts.log_clients > 0, Ordering::Release);
}

/// `true` while at least one enabled client has logs on: one relaxed atomic load.
#[inline(always)]
pub(crate) fn logs_on() -> bool {
    LOGS_ON.load(Ordering::Relaxed)
}

/// How many enabled clients have metrics on; changed under its own lock, like [`COUNTS`].
static METRIC_CLIENTS: Mutex<usize> = Mutex::new(0);

/// `true` while at least one enabled client has metrics on.
static METRICS_ON: AtomicBool = AtomicBool::new(false);

/// Counts an enabled client with metrics on (after [`open`]).
pub(crate) fn open_metrics() {
    let mut count = METRIC_CLIENTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    *count += 1;
    METRICS_ON.store(*count > 0, Ordering::Release);
}

/// Uncounts a client counted by [`open_metrics`].
pub(crate) fn close_metrics() {
    let mut count = METRIC_CLIENTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    *count = count.saturating_sub(1);
    METRICS_ON.store(*count > 0, Ordering::Release);
}

/// `true` while at least one enabled client has metrics on: one relaxed atomic load.
#[inline(always)]
pub(crate) fn metrics_on() -> bool {
    METRICS_ON.load(Ordering::Relaxed)
}
