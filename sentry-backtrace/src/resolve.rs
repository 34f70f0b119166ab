//! Completing captured stacks: symbols, trimming, in-app rules, source context, debug images.
//!
//! This is the expensive half of a stack trace. It runs either inside the pipeline (the
//! integration's `process_event`, on the capturing thread) or, once the transport worker calls
//! [`finalize_event`] before serializing, on the worker thread; see
//! [`set_deferred_symbolication`].

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use sentry_core::protocol::{Event, Frame, Stacktrace};
use sentry_core::EventId;

use crate::capture::is_unresolved;
use crate::images::{debug_images_of, images_covering, LoadedImage};
use crate::in_app::InAppRules;
use crate::source::add_source_context;
use crate::symbolize::symbolize;
use crate::trim::{trim_stack, PanicLocation};

/// How stacks are completed: in-app rules and what to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveConfig {
    /// Which frames are the application's.
    pub in_app: InAppRules,
    /// Add source lines around each frame's line (when the file exists). Default: on.
    pub source_context: bool,
    /// Add the loaded images to `debug_meta` of events with native frames. Default: on.
    pub debug_images: bool,
}

impl Default for ResolveConfig {
    fn default() -> Self {
        ResolveConfig {
            in_app: InAppRules::new(&[], &[]),
            source_context: true,
            debug_images: true,
        }
    }
}

static CONFIG: RwLock<Option<Arc<ResolveConfig>>> = RwLock::new(None);
static DEFERRED: AtomicBool = AtomicBool::new(false);

/// Sets the configuration used to complete stacks from now on (the integration does this when
/// a client is created; the most recent client's options win).
pub fn set_resolve_config(config: ResolveConfig) {
    *CONFIG.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(config));
}

/// The configuration used to complete stacks.
pub fn resolve_config() -> Arc<ResolveConfig> {
    if let Some(config) = CONFIG
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        return Arc::clone(config);
    }
    let mut slot = CONFIG.write().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(slot.get_or_insert_with(|| Arc::new(ResolveConfig::default())))
}

/// Chooses where stacks are completed.
///
/// Off (the default): the integrations resolve stacks in `process_event`, on the thread that
/// captured the event, before `before_send` sees it.
///
/// On: captured events keep raw addresses through the pipeline, and [`finalize_event`] —
/// registered with the transport worker, which calls it right before it serializes an event —
/// does the work on the worker thread. The capturing thread then pays only for walking its
/// stack. Turn this on only where the worker calls [`finalize_event`]; a `before_send` that
/// needs function names can call [`resolve_event`] itself.
///
/// # Examples
///
/// ```
/// sentry_backtrace::set_deferred_symbolication(false);
/// assert!(!sentry_backtrace::is_deferred_symbolication());
/// ```
pub fn set_deferred_symbolication(on: bool) {
    DEFERRED.store(on, Ordering::Release);
}

/// Whether stacks are completed on the transport worker; see [`set_deferred_symbolication`].
pub fn is_deferred_symbolication() -> bool {
    DEFERRED.load(Ordering::Acquire)
}

thread_local! {
    static IN_SDK: Cell<bool> = const { Cell::new(false) };
}

/// `true` while this thread is capturing or resolving a stack for the SDK. A panic hook uses
/// it to ignore panics raised by the SDK's own machinery.
pub fn in_sdk_code() -> bool {
    IN_SDK.try_with(Cell::get).unwrap_or(true)
}

/// Marks this thread as running SDK code until dropped.
pub(crate) struct SdkCodeGuard(bool);

impl SdkCodeGuard {
    pub(crate) fn enter() -> SdkCodeGuard {
        SdkCodeGuard(IN_SDK.try_with(|c| c.replace(true)).unwrap_or(true))
    }
}

impl Drop for SdkCodeGuard {
    fn drop(&mut self) {
        let _ = IN_SDK.try_with(|c| c.set(self.0));
    }
}

/// Panic locations waiting for their event's stack to be resolved, by event id.
static LOCATIONS: Mutex<VecDeque<(EventId, PanicLocation)>> = Mutex::new(VecDeque::new());
/// Events whose location is never looked up (dropped before sending) are forgotten after this
/// many newer ones.
const MAX_PENDING_LOCATIONS: usize = 64;

/// Records where a panic happened, so that resolving the stack of event `event_id` cuts it at
/// that file and line (the panic integration calls this).
pub fn set_panic_location(event_id: EventId, location: PanicLocation) {
    let mut pending = LOCATIONS.lock().unwrap_or_else(PoisonError::into_inner);
    while pending.len() >= MAX_PENDING_LOCATIONS {
        pending.pop_front();
    }
    pending.push_back((event_id, location));
}

fn take_panic_location(event_id: EventId) -> Option<PanicLocation> {
    let mut pending = LOCATIONS.lock().unwrap_or_else(PoisonError::into_inner);
    let idx = pending.iter().position(|(id, _)| *id == event_id)?;
    pending.remove(idx).map(|(_, location)| location)
}

fn has_unresolved(trace: &Stacktrace) -> bool {
    trace.frames.iter().any(is_unresolved)
}

/// `true` if any stack of the event still has frames with raw addresses only.
pub fn needs_resolution(event: &Event) -> bool {
    event
        .exception
        .iter()
        .filter_map(|e| e.stacktrace.as_ref())
        .chain(event.threads.iter().filter_map(|t| t.stacktrace.as_ref()))
        .chain(event.stacktrace.as_ref())
        .any(has_unresolved)
}

/// Completes every stack of the event that still has raw addresses: symbols (demangled,
/// without hashes), module, file names and lines, then trims the SDK's capture path and the
/// panic machinery from the top, marks in-app frames, adds source context, and adds the loaded
/// images to `debug_meta`. Returns `true` if there was anything to do.
///
/// Cheap when there is nothing to resolve, and idempotent. A failure inside the symbolizer
/// leaves the frames as they were.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::Event;
///
/// let mut event = Event { stacktrace: Some(sentry_backtrace::capture_unresolved()), ..Event::default() };
/// assert!(sentry_backtrace::resolve_event(&mut event));
/// let frames = &event.stacktrace.as_ref().unwrap().frames;
/// // The capture machinery is gone: the last frame is this doctest's code.
/// let last = frames.last().unwrap();
/// assert!(last.function.as_deref().unwrap().contains("main"), "{last:?}");
/// assert!(!sentry_backtrace::resolve_event(&mut event));
/// ```
pub fn resolve_event(event: &mut Event) -> bool {
    if !needs_resolution(event) {
        return false;
    }
    resolve_with(event, &resolve_config())
}

/// [`resolve_event`] with an explicit configuration.
pub(crate) fn resolve_with(event: &mut Event, config: &ResolveConfig) -> bool {
    if !needs_resolution(event) {
        return false;
    }
    let _guard = SdkCodeGuard::enter();
    let location = take_panic_location(event.event_id);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let addrs: Vec<u64> = event
            .exception
            .iter()
            .filter_map(|e| e.stacktrace.as_ref())
            .chain(event.threads.iter().filter_map(|t| t.stacktrace.as_ref()))
            .chain(event.stacktrace.as_ref())
            .flat_map(|t| t.frames.iter())
            .filter(|f| is_unresolved(f))
            .filter_map(|f| f.instruction_addr.map(|a| a.as_u64()))
            .collect();
        let images = images_covering(&addrs);
        let images = images.as_slice();
        let traces = event.stacktraces_mut();
        for trace in traces {
            if has_unresolved(trace) {
                resolve_stacktrace(trace, images, config, location.as_ref());
            }
        }
        if config.debug_images && event.debug_meta.as_ref().is_none_or(|m| m.is_empty()) {
            let images = debug_images_of(images);
            if !images.is_empty() {
                event.debug_meta = Some(sentry_core::protocol::DebugMeta { images });
            }
        }
    }));
    result.is_ok()
}

/// [`resolve_event`], plus the work other integrations of this crate leave to the worker when
/// symbolication is deferred (the `modules` list). This is the function to register with the
/// transport worker.
pub fn finalize_event(event: &mut Event) {
    resolve_event(event);
    if is_deferred_symbolication() {
        crate::contexts::add_modules(event);
    }
}

fn resolve_stacktrace(
    trace: &mut Stacktrace,
    images: &[LoadedImage],
    config: &ResolveConfig,
    location: Option<&PanicLocation>,
) {
    // Innermost first, the order of the symbolizer.
    let mut resolved: Vec<Frame> = Vec::with_capacity(trace.frames.len() + 8);
    for frame in std::mem::take(&mut trace.frames).into_iter().rev() {
        match frame.instruction_addr {
            Some(ip) if is_unresolved(&frame) => {
                resolved.extend(symbolize(&[ip.as_u64()], images));
            }
            _ => resolved.push(frame),
        }
    }
    resolved.reverse();
    trim_stack(&mut resolved, location);
    for frame in &mut resolved {
        if frame.in_app.is_none() {
            frame.in_app = config
                .in_app
                .classify(frame.function.as_deref(), frame.abs_path.as_deref());
        }
        // Source files are read only while nobody's deadline has passed.
        if config.source_context
            && frame.context_line.is_none()
            && !sentry_core::finalize::past_deadline()
        {
            add_source_context(frame);
        }
    }
    if resolved.len() > crate::capture::MAX_FRAMES {
        let extra = resolved.len() - crate::capture::MAX_FRAMES;
        let outer = crate::capture::KEEP_OUTER;
        resolved.drain(outer..outer + extra);
    }
    trace.frames = resolved;
}
