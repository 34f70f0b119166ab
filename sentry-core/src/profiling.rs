//! The link between traces and a continuous profiler.
//!
//! A continuous profiler (the `sentry-profiling` crate) samples every thread of the process,
//! independent of transactions. Sentry joins its profile chunks to traces by the profiler's id:
//! while a profiler runs, transactions carry `contexts.profile.profiler_id` and spans the
//! `thread.id`/`thread.name` they ran on. This module is where the profiler announces itself,
//! and where tracing tells a profiler in `trace` lifecycle when sampled root spans start and
//! end. Without a profiler it costs one atomic load per root span.
//!
//! # Examples
//!
//! ```
//! use sentry_core::profiling::{self, ProfilerId};
//!
//! let id = ProfilerId::new();
//! profiling::set_active_profiler(Some(id));
//! assert_eq!(profiling::active_profiler(), Some(id));
//! profiling::set_active_profiler(None);
//! assert_eq!(profiling::active_profiler(), None);
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use sentry_minimal::EventId;

/// The identity of one profiler session: every chunk it sends carries it, and so do the
/// transactions recorded while it runs. Written as 32 lowercase hex digits.
///
/// # Examples
///
/// ```
/// use sentry_core::profiling::ProfilerId;
///
/// let id = ProfilerId::new();
/// assert_eq!(id.to_string().len(), 32);
/// assert_eq!(id.to_string().parse::<ProfilerId>().unwrap(), id);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProfilerId(EventId);

impl ProfilerId {
    /// A new random id (a version 4 UUID).
    pub fn new() -> ProfilerId {
        let mut bytes = crate::random::bytes16();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        ProfilerId(EventId::from_bytes(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl Default for ProfilerId {
    fn default() -> Self {
        ProfilerId::new()
    }
}

impl fmt::Display for ProfilerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ProfilerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProfilerId({})", self.0)
    }
}

impl FromStr for ProfilerId {
    type Err = sentry_minimal::ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(ProfilerId)
    }
}

impl serde::Serialize for ProfilerId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ProfilerId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

static ACTIVE: RwLock<Option<ProfilerId>> = RwLock::new(None);
/// Mirrors `ACTIVE.is_some()`, so code without a profiler pays one atomic load.
static HAS_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Announces the profiler that is now sampling (`Some`), or that none is (`None`).
///
/// Called by the profiler when it starts and stops; transactions started or finished while
/// an id is set carry it.
pub fn set_active_profiler(id: Option<ProfilerId>) {
    let mut active = ACTIVE.write().unwrap_or_else(PoisonError::into_inner);
    *active = id;
    HAS_ACTIVE.store(id.is_some(), Ordering::Release);
}

/// The profiler sampling now, if any.
pub fn active_profiler() -> Option<ProfilerId> {
    if !HAS_ACTIVE.load(Ordering::Acquire) {
        return None;
    }
    *ACTIVE.read().unwrap_or_else(PoisonError::into_inner)
}

/// What a profiler in `trace` lifecycle wants to hear about sampled root spans.
///
/// `first_started` runs when a sampled root span (a transaction) starts while none other is
/// running; `last_finished` when the last running one ends. Both run on the thread that
/// started or ended the span, so they must be quick (signal a thread, flip a flag).
#[derive(Clone, Copy, Debug)]
pub struct RootSpanHooks {
    /// The number of running sampled root spans went from 0 to 1.
    pub first_started: fn(),
    /// The number of running sampled root spans went from 1 to 0.
    pub last_finished: fn(),
}

static HOOKS: RwLock<Option<RootSpanHooks>> = RwLock::new(None);
static HAS_HOOKS: AtomicBool = AtomicBool::new(false);
static RUNNING_ROOTS: AtomicUsize = AtomicUsize::new(0);

/// Installs (`Some`) or removes (`None`) the hooks told about sampled root spans.
///
/// # Examples
///
/// ```
/// use sentry_core::profiling::{self, RootSpanHooks};
///
/// fn started() {}
/// fn finished() {}
/// profiling::set_root_span_hooks(Some(RootSpanHooks { first_started: started, last_finished: finished }));
/// profiling::set_root_span_hooks(None);
/// ```
pub fn set_root_span_hooks(hooks: Option<RootSpanHooks>) {
    let mut slot = HOOKS.write().unwrap_or_else(PoisonError::into_inner);
    *slot = hooks;
    HAS_HOOKS.store(hooks.is_some(), Ordering::Release);
}

/// How many sampled root spans are running now.
pub fn running_root_spans() -> usize {
    RUNNING_ROOTS.load(Ordering::Acquire)
}

fn hooks() -> Option<RootSpanHooks> {
    if !HAS_HOOKS.load(Ordering::Acquire) {
        return None;
    }
    *HOOKS.read().unwrap_or_else(PoisonError::into_inner)
}

/// A sampled root span started (called by tracing).
pub(crate) fn root_span_started() {
    if RUNNING_ROOTS.fetch_add(1, Ordering::AcqRel) == 0 {
        if let Some(hooks) = hooks() {
            let _ = crate::callback::run_callback("a profiler root-span hook", hooks.first_started);
        }
    }
}

/// A sampled root span that [`root_span_started`] counted ended (called by tracing, exactly
/// once per start).
pub(crate) fn root_span_finished() {
    let previous = RUNNING_ROOTS
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .unwrap_or(0);
    if previous == 1 {
        if let Some(hooks) = hooks() {
            let _ = crate::callback::run_callback("a profiler root-span hook", hooks.last_finished);
        }
    }
}

/// A thread as profiles and spans name it: its id (the kernel's thread id on Linux, where the
/// profiler runs; elsewhere a process-unique number) and its name, if it has one.
#[derive(Debug)]
pub(crate) struct ThreadInfo {
    pub(crate) id: u64,
    pub(crate) name: Option<String>,
}

/// The calling thread's [`ThreadInfo`], looked up once per thread: spans that name their
/// thread then cost a reference count.
pub(crate) fn this_thread() -> Arc<ThreadInfo> {
    thread_local! {
        static THREAD: Arc<ThreadInfo> = Arc::new(ThreadInfo {
            id: thread_id(),
            name: std::thread::current().name().map(str::to_owned),
        });
    }
    THREAD.with(Arc::clone)
}

/// The calling thread's id as the profiler names threads (the kernel's thread id on Linux,
/// where the profiler runs; elsewhere a process-unique number), and its name if it has one.
///
/// # Examples
///
/// ```
/// let (id, _name) = sentry_core::profiling::current_thread();
/// assert!(id > 0);
/// ```
pub fn current_thread() -> (u64, Option<String>) {
    let thread = this_thread();
    (thread.id, thread.name.clone())
}

#[cfg(target_os = "linux")]
fn thread_id() -> u64 {
    // The kernel's thread id, as `/proc/self/task` lists it.
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| p.file_name()?.to_str()?.parse().ok())
        .unwrap_or_else(fallback_thread_id)
}

#[cfg(not(target_os = "linux"))]
fn thread_id() -> u64 {
    fallback_thread_id()
}

fn fallback_thread_id() -> u64 {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static STARTS: AtomicUsize = AtomicUsize::new(0);
    static ENDS: AtomicUsize = AtomicUsize::new(0);

    fn on_start() {
        STARTS.fetch_add(1, Ordering::SeqCst);
    }
    fn on_end() {
        ENDS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn hooks_fire_on_the_first_start_and_the_last_end() {
        set_root_span_hooks(Some(RootSpanHooks {
            first_started: on_start,
            last_finished: on_end,
        }));
        root_span_started();
        root_span_started();
        root_span_finished();
        assert_eq!(
            (STARTS.load(Ordering::SeqCst), ENDS.load(Ordering::SeqCst)),
            (1, 0)
        );
        root_span_finished();
        assert_eq!(
            (STARTS.load(Ordering::SeqCst), ENDS.load(Ordering::SeqCst)),
            (1, 1)
        );
        // An unmatched end never underflows.
        root_span_finished();
        assert_eq!(running_root_spans(), 0);
        set_root_span_hooks(None);
    }

    #[test]
    fn profiler_ids_are_uuid4() {
        let id = ProfilerId::new();
        assert_eq!(id.as_bytes()[6] >> 4, 4);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json.len(), 34);
        let back: ProfilerId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn the_thread_id_is_the_kernel_tid_on_linux() {
        let (id, _) = current_thread();
        assert!(id > 0);
        let other = std::thread::spawn(|| current_thread().0).join().unwrap();
        assert_ne!(id, other);
    }
}
