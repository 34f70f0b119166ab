//! Panic hook integration for the Sentry SDK: every panic of the application becomes a fatal
//! event, without stalling the panicking thread.
//!
//! [`PanicIntegration`] installs a process-wide panic hook the first time a client with it is
//! created (once per process, whatever the number of clients). On a panic the hook:
//!
//! 1. captures the panicking thread's stack as raw addresses (no symbolication on the
//!    panicking thread; see `sentry-backtrace`), the message, the location and the thread;
//! 2. runs the event through the client pipeline **on a short-lived helper thread**
//!    (`sentry-panic`) bound to the panicking thread's scopes, and waits until the event is
//!    queued (at most `shutdown_timeout`). Rust aborts the process if anything panics while a
//!    panic hook runs, so user callbacks (`before_send`, event processors) must not run on the
//!    panicking thread: on the helper a panicking `before_send` only drops the event. The
//!    helper never waits for the panicking thread: scope data is read without the locks a
//!    panicking `configure_scope` closure holds;
//! 3. when the process ends right after the hook (a `panic = "abort"` build, or
//!    [`wait_for_delivery`](PanicIntegration::wait_for_delivery)), makes sure the event
//!    survives it: with an offline cache (`cache_dir`) the event is written to disk on the
//!    helper before anything is sent ([`sentry_core::transport::durable`]), and the client is
//!    flushed. The whole hook then takes at most `shutdown_timeout`, and stack symbolication
//!    yields to that deadline ([`sentry_core::finalize`]). In an unwinding build the hook does
//!    neither: a panic caught by `catch_unwind` or by an async runtime costs its thread the
//!    queueing only, even when the server hangs, and the event is sent by the transport's
//!    worker; a panic that ends `main` unwinds through the `init` guard, whose drop flushes;
//! 4. calls the hook that was installed before, so the usual message is still printed.
//!
//! Panics the SDK raised itself are not reported: on its own threads (the transport worker,
//! the helper, the symbolizer), while it resolves a stack, and inside the callbacks it runs
//! (`before_send`, event processors, `before_breadcrumb`, `before_send_log`, the `log`
//! bridge's filter…; see [`sentry_core::integration::run_user_callback`]). The callback's item
//! is dropped and counted instead, and the callback is not run again.
//!
//! # The event
//!
//! - one exception: `type: "panic"`, `value`: the message (`&str` and `String` payloads;
//!   other payloads are described, see [`describe_payload`]), `mechanism: {type: "panic",
//!   handled: false, data: {location}}`, `thread_id` of the panicking thread, and its stack,
//!   trimmed so that the last frame is the panic's location;
//! - `level: fatal`;
//! - `threads`: the panicking thread (`id`, `name`, `crashed`, `current`, `main`). Its stack is
//!   the exception's, linked through `thread_id`, as Sentry expects for a crashed thread.
//!
//! # The hint
//!
//! `before_send`, event processors and integrations get a [`PanicHint`] in the
//! [`Hint`]: the message, the location and the payload's type
//! ([`PanicHint::payload_is`]). The payload itself cannot be passed on: the panic hook only
//! borrows it, and the hooks run on the helper thread. Drop one kind of panic by its payload:
//!
//! ```
//! use std::sync::Arc;
//! use sentry_core::ClientOptions;
//!
//! /// Raised with `std::panic::panic_any(Cancelled)` to unwind a cancelled job.
//! struct Cancelled;
//!
//! let options = ClientOptions {
//!     before_send: Some(Arc::new(|event, hint| {
//!         let cancelled = hint.panic().is_some_and(|panic| panic.payload_is::<Cancelled>());
//!         (!cancelled).then_some(event)
//!     })),
//!     ..Default::default()
//! };
//! # let _ = options;
//! ```
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use sentry_core::{test::with_captured_events_options, ClientOptions, Level};
//! use sentry_panic::PanicIntegration;
//!
//! let options = ClientOptions { integrations: vec![Arc::new(PanicIntegration::new())], ..Default::default() };
//! let events = with_captured_events_options(options, || {
//!     // A thread the test starts carries its scopes (see `sentry_core::test`).
//!     let scopes = sentry_core::Scopes::current();
//!     let _ = std::thread::spawn(move || scopes.bind(|| panic!("disk full"))).join();
//! });
//! assert_eq!(events[0].level, Level::Fatal);
//! let exception = &events[0].exception[0];
//! assert_eq!(exception.ty, "panic");
//! assert_eq!(exception.value.as_deref(), Some("disk full"));
//! assert_eq!(exception.mechanism.as_ref().unwrap().handled, Some(false));
//! assert!(events[0].threads[0].crashed);
//! ```
//!
//! # In tests
//!
//! Under the capture helpers of `sentry_core::test` (feature `test`), a panic on a thread that
//! carries the test's scopes is captured before the helper returns: their client gives the
//! hook `sentry_core::test::PANIC_CAPTURE_TIMEOUT` to wait, and their transport symbolicates
//! when the test reads the events, so the first symbolication of a debug build never cuts
//! the event off.
//!
//! # `panic = "abort"`
//!
//! With `panic = "abort"` the process aborts as soon as the hooks return. Step 3 happens before
//! that, so the event is delivered, or on disk with `cache_dir` when the server does not answer
//! in time (the next process that starts the SDK sends it). What cannot be reported is an
//! abort that skips the panic machinery (`std::process::abort`, a signal).
//!
//! # Hooks that end the process
//!
//! In an unwinding build, a hook of your own that ends the process after this one
//! (`std::process::exit` or `abort` in it), or a panic while panicking, would cut the queued
//! event off. Turn on [`wait_for_delivery`](PanicIntegration::wait_for_delivery) for such
//! programs.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::any::Any;
use std::marker::PhantomData;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use sentry_backtrace::{PanicLocation, RawStack};
use sentry_core::__private::{run_off_thread, OffThreadError};
use sentry_core::hint::PanicHint;
use sentry_core::protocol::{DataCategory, DiscardReason};
use sentry_core::protocol::{Event, Exception, Mechanism, Thread, ThreadId};
use sentry_core::transport::{durable, WORKER_THREAD_NAME};
use sentry_core::{ClientOptions, EventId, Hint, Integration, Level, Map, Scopes, Value};

/// The name of the short-lived threads that run a panic event through the pipeline and the
/// payload describers.
pub const HELPER_THREAD_NAME: &str = "sentry-panic";

/// Reports panics as fatal events; see the [crate documentation](crate).
#[derive(Clone, Default)]
pub struct PanicIntegration {
    describers: Vec<Arc<dyn Describe>>,
    wait_for_delivery: Option<bool>,
}

impl std::fmt::Debug for PanicIntegration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PanicIntegration")
            .field("describers", &self.describers.len())
            .field("wait_for_delivery", &self.waits_for_delivery())
            .finish()
    }
}

impl PanicIntegration {
    /// The integration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a way to describe panic payloads of a type of your own (raised with
    /// `std::panic::panic_any`). Describers run in the order they were added, before the
    /// built-in descriptions.
    ///
    /// A describer is application code, and Rust aborts the process if code panics while a
    /// panic hook runs; so it runs on a helper thread while the panicking thread waits for it
    /// (which is why the payload type must be `Sync`). A describer that panics is skipped (the
    /// next description applies); one must not wait for anything the panicking thread holds.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Code(u16);
    /// let integration = sentry_panic::PanicIntegration::new()
    ///     .describe_payload_with(|code: &Code| format!("error code {}", code.0));
    /// # let _ = integration;
    /// ```
    pub fn describe_payload_with<T, F>(mut self, describer: F) -> Self
    where
        T: Any + Sync,
        F: Fn(&T) -> String + Send + Sync + 'static,
    {
        self.describers.push(Arc::new(Typed {
            describe: describer,
            payload: PhantomData,
        }));
        self
    }

    /// Whether the hook waits, at most `shutdown_timeout`, until the panic event is sent (or,
    /// with `cache_dir`, on disk) before it returns. Default: only in a `panic = "abort"`
    /// build, where the process ends with the hook. Turn it on when the process may end right
    /// after a panic in an unwinding build too (a hook of your own that exits); leave it off
    /// otherwise, or every panic — caught ones included — waits for the network.
    ///
    /// # Examples
    ///
    /// ```
    /// let integration = sentry_panic::PanicIntegration::new().wait_for_delivery(true);
    /// # let _ = integration;
    /// ```
    pub fn wait_for_delivery(mut self, wait: bool) -> Self {
        self.wait_for_delivery = Some(wait);
        self
    }

    fn waits_for_delivery(&self) -> bool {
        self.wait_for_delivery.unwrap_or(cfg!(panic = "abort"))
    }
}

/// A describer of one payload type, behind a type-erased interface.
trait Describe: Send + Sync {
    /// `None` if the payload is not of this describer's type; `Some(None)` if the describer
    /// panicked (or no helper thread could run it).
    fn describe(&self, payload: &(dyn Any + Send)) -> Option<Option<String>>;
}

struct Typed<T, F> {
    describe: F,
    payload: PhantomData<fn(&T)>,
}

impl<T, F> Describe for Typed<T, F>
where
    T: Any + Sync,
    F: Fn(&T) -> String + Send + Sync,
{
    fn describe(&self, payload: &(dyn Any + Send)) -> Option<Option<String>> {
        let value = payload.downcast_ref::<T>()?;
        let describe = &self.describe;
        Some(on_helper_thread(Box::new(move || describe(value))))
    }
}

/// Runs a describer on a helper thread and waits for it; `None` if it panicked or no thread
/// could be started. (Boxed, so that every describer shares one thread entry point.)
fn on_helper_thread(job: Box<dyn FnOnce() -> String + Send + '_>) -> Option<String> {
    thread::scope(|scope| {
        let spawned = thread::Builder::new()
            .name(HELPER_THREAD_NAME.into())
            .spawn_scoped(scope, job);
        let Ok(handle) = spawned else {
            sentry_core::sentry_debug!("no thread to describe a panic payload on");
            return None;
        };
        let described = handle.join().ok();
        if described.is_none() {
            sentry_core::sentry_debug!("a panic payload describer panicked; skipped");
        }
        described
    })
}

static DESCRIBERS: RwLock<Vec<Arc<dyn Describe>>> = RwLock::new(Vec::new());
static WAIT_FOR_DELIVERY: AtomicBool = AtomicBool::new(cfg!(panic = "abort"));
static INSTALL: Once = Once::new();

impl Integration for PanicIntegration {
    fn name(&self) -> &'static str {
        "panic"
    }

    fn setup_once(&self) {
        install_hook();
    }

    fn setup(&self, _options: &ClientOptions) {
        *DESCRIBERS.write().unwrap_or_else(PoisonError::into_inner) = self.describers.clone();
        WAIT_FOR_DELIVERY.store(self.waits_for_delivery(), Ordering::Release);
    }

    fn process_event(
        &self,
        mut event: Event,
        hint: &Hint<'_>,
        options: &ClientOptions,
    ) -> Option<Event> {
        self.process_event_in_place(&mut event, hint, options)
            .then_some(event)
    }

    fn process_event_in_place(
        &self,
        event: &mut Event,
        _hint: &Hint<'_>,
        _options: &ClientOptions,
    ) -> bool {
        // Panic events carry raw addresses; complete them here unless the transport worker
        // does it (the stack trace integration may not be installed).
        if !sentry_backtrace::is_deferred_symbolication() {
            sentry_backtrace::resolve_event(event);
        }
        true
    }
}

/// Installs the panic hook (once per process; later calls do nothing). The hook installed
/// before runs after ours.
pub fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            panic_handler(info);
            previous(info);
        }));
    });
}

/// Reports a panic: the body of the hook [`install_hook`] installs, for applications that
/// compose panic hooks themselves. Returns the event's id (nil if nothing was captured).
pub fn panic_handler(info: &PanicHookInfo<'_>) -> EventId {
    if should_ignore() {
        return EventId::nil();
    }
    let scopes = Scopes::current();
    let client = scopes.client();
    if !client.is_enabled() {
        return EventId::nil();
    }
    let timeout = client.options().shutdown_timeout;
    let deadline = Instant::now().checked_add(timeout);
    // Stack symbolication that happens before this returns (a transport without a worker,
    // the offline cache, the flush) yields to the hook's deadline.
    let _finish_by = sentry_core::finalize::finish_by(deadline);
    let event = event_from_panic(info);
    let hint = panic_hint(info, &event);
    let ends_process = WAIT_FOR_DELIVERY.load(Ordering::Acquire);
    let Some(id) = capture_elsewhere(scopes, event, hint, timeout, ends_process) else {
        sentry_core::sentry_debug!("no thread to capture the panic on; the panic event is dropped");
        client
            .client_reports()
            .record(DiscardReason::InternalSdkError, DataCategory::Error, 1);
        return EventId::nil();
    };
    if ends_process && !id.is_nil() {
        let left = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
        client.flush(Some(left));
    }
    id
}

/// Panics the SDK must not report: on its own threads, raised by its own machinery, or inside
/// a callback it runs (whose item it drops and counts instead).
fn should_ignore() -> bool {
    if !sentry_core_enabled()
        || sentry_backtrace::in_sdk_code()
        || sentry_core::integration::inside_sdk()
    {
        return true;
    }
    let current = thread::current();
    matches!(
        current.name(),
        Some(WORKER_THREAD_NAME | HELPER_THREAD_NAME)
    )
}

fn sentry_core_enabled() -> bool {
    // One atomic load when no client is enabled.
    Scopes::current().client().is_enabled()
}

/// What the hooks get in [`Hint::panic`]: the message the event was built with, the location
/// and the payload's type. The payload itself is lent to the panic hook only, and the hooks
/// run on the helper thread, so it cannot be handed on.
fn panic_hint(info: &PanicHookInfo<'_>, event: &Event) -> PanicHint {
    let message = event
        .exception
        .first()
        .and_then(|exception| exception.value.clone())
        .unwrap_or_default();
    let hint = PanicHint::new(message, <dyn Any>::type_id(info.payload()));
    match info.location() {
        Some(location) => hint.with_location(location.file(), location.line(), location.column()),
        None => hint,
    }
}

/// Runs the event through the pipeline on a helper thread bound to `scopes`, waiting at most
/// `timeout` for it to be queued (and, when the process ends after the hook, written to the
/// offline cache first). `None` if no thread could be started: the pipeline runs user
/// callbacks, which must not run on the panicking thread.
fn capture_elsewhere(
    scopes: Scopes,
    event: Event,
    hint: PanicHint,
    timeout: Duration,
    ends_process: bool,
) -> Option<EventId> {
    let slot = Arc::new(Mutex::new(Some((event, hint))));
    let work = {
        let slot = Arc::clone(&slot);
        move || capture_taken(&slot, &scopes, ends_process)
    };
    match run_off_thread(HELPER_THREAD_NAME, timeout, work) {
        Ok(id) => Some(id),
        // Still running at the deadline (a slow `before_send`?): it goes on without us.
        Err(OffThreadError::TimedOut | OffThreadError::Panicked) => Some(EventId::nil()),
        Err(OffThreadError::Spawn(_)) => None,
    }
}

/// Captures the event in `slot` with its hint, bound to `scopes` (durably when the process is
/// about to end).
fn capture_taken(
    slot: &Mutex<Option<(Event, PanicHint)>>,
    scopes: &Scopes,
    durably: bool,
) -> EventId {
    let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    let Some((event, panic)) = taken else {
        return EventId::nil();
    };
    let hint = Hint::new().with_panic(&panic);
    scopes.bind(|| {
        if durably {
            durable(|| sentry_core::capture_event_with_hint(event, &hint))
        } else {
            sentry_core::capture_event_with_hint(event, &hint)
        }
    })
}

/// The message of a panic: the `&str` or `String` payload, or a description of another
/// payload (see [`describe_payload`]).
pub fn panic_message(info: &PanicHookInfo<'_>) -> String {
    describe_payload(info.payload())
}

/// Describes a panic payload: strings as they are, numbers, booleans and characters by value,
/// errors by their message, types known to a describer registered with
/// [`PanicIntegration::describe_payload_with`] (run on a helper thread), and anything else
/// with a generic description (never `Box<dyn Any>`).
///
/// # Examples
///
/// ```
/// use sentry_panic::describe_payload;
///
/// assert_eq!(describe_payload(&"boom"), "boom");
/// assert_eq!(describe_payload(&String::from("boom")), "boom");
/// assert_eq!(describe_payload(&42_i32), "42 (panic payload of type i32)");
/// struct Opaque;
/// assert_eq!(
///     describe_payload(&Opaque),
///     "panic payload of a non-string type (raised with std::panic::panic_any)"
/// );
/// ```
pub fn describe_payload(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        return (*s).to_owned();
    }
    if let Some(s) = payload.downcast_ref::<String>() {
        return s.clone();
    }
    let describers = DESCRIBERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(text) = describers
        .iter()
        .find_map(|d| d.describe(payload).flatten())
    {
        return text;
    }
    macro_rules! by_value {
        ($($ty:ty),*) => {
            $(if let Some(v) = payload.downcast_ref::<$ty>() {
                return format!("{v} (panic payload of type {})", stringify!($ty));
            })*
        };
    }
    by_value!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char);
    if let Some(err) = payload.downcast_ref::<Box<dyn std::error::Error + Send + Sync>>() {
        return err.to_string();
    }
    if let Some(err) = payload.downcast_ref::<std::io::Error>() {
        return err.to_string();
    }
    if let Some(s) = payload.downcast_ref::<std::borrow::Cow<'static, str>>() {
        return s.to_string();
    }
    "panic payload of a non-string type (raised with std::panic::panic_any)".to_owned()
}

/// The panicking thread's id: the OS thread id on Linux, otherwise the number of Rust's
/// `ThreadId`.
fn thread_id() -> ThreadId {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Ok(link) = std::fs::read_link("/proc/thread-self") {
        if let Some(tid) = link
            .to_str()
            .and_then(|s| s.rsplit('/').next())
            .and_then(|s| s.parse::<u64>().ok())
        {
            return ThreadId::Int(tid);
        }
    }
    let debug = format!("{:?}", thread::current().id());
    let digits: String = debug.chars().filter(char::is_ascii_digit).collect();
    match digits.parse::<u64>() {
        Ok(id) => ThreadId::Int(id),
        Err(_) => ThreadId::String(debug),
    }
}

fn is_main_thread(id: &ThreadId, name: Option<&str>) -> bool {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        if let ThreadId::Int(tid) = id {
            return *tid == u64::from(std::process::id());
        }
    }
    name == Some("main")
}

/// Builds the event for a panic, capturing the calling thread's stack (raw addresses; the
/// pipeline completes them). Call it on the panicking thread, from a panic hook.
#[inline(never)]
pub fn event_from_panic(info: &PanicHookInfo<'_>) -> Event {
    let stack = RawStack::capture();
    let message = panic_message(info);
    let current = thread::current();
    let name = current.name().map(str::to_owned);
    let id = thread_id();
    let main = is_main_thread(&id, name.as_deref());
    let mut data = Map::new();
    if let Some(location) = info.location() {
        data.insert(
            "location".into(),
            Value::from(format!(
                "{}:{}:{}",
                location.file(),
                location.line(),
                location.column()
            )),
        );
    }
    let event = Event {
        level: Level::Fatal,
        exception: vec![Exception {
            ty: "panic".into(),
            value: Some(message),
            stacktrace: Some(stack.into_stacktrace()),
            mechanism: Some(Mechanism {
                ty: "panic".into(),
                handled: Some(false),
                data,
                ..Mechanism::default()
            }),
            thread_id: Some(id.clone()),
            ..Exception::default()
        }],
        threads: vec![Thread {
            id: Some(id),
            name,
            crashed: true,
            current: true,
            main,
            ..Thread::default()
        }],
        ..Event::default()
    };
    if let Some(location) = info.location() {
        sentry_backtrace::set_panic_location(
            event.event_id,
            PanicLocation {
                file: location.file().to_owned(),
                line: location.line(),
            },
        );
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::test::with_captured_events_options;

    /// Runs `f` on a new thread (named `name`) that carries the calling thread's scopes, so
    /// that the test helpers capture its panic.
    fn spawn_bound(name: Option<&str>, f: impl FnOnce() + Send + 'static) -> thread::Result<()> {
        let scopes = Scopes::current();
        let mut builder = thread::Builder::new();
        if let Some(name) = name {
            builder = builder.name(name.into());
        }
        builder
            .spawn(move || scopes.bind(f))
            .expect("thread spawned")
            .join()
    }

    fn options() -> ClientOptions {
        ClientOptions {
            integrations: vec![Arc::new(
                PanicIntegration::new()
                    .describe_payload_with(|bytes: &Vec<u8>| format!("{} bytes", bytes.len())),
            )],
            ..ClientOptions::default()
        }
    }

    #[test]
    fn payloads_are_described() {
        let events = with_captured_events_options(options(), || {
            let _ = spawn_bound(Some("worker-7"), || std::panic::panic_any(vec![1u8, 2, 3]));
            let _ = spawn_bound(None, || std::panic::panic_any(7_u64));
            let _ = spawn_bound(None, || panic!("formatted {}", 5));
        });
        let values: Vec<_> = events
            .iter()
            .map(|e| e.exception[0].value.clone().unwrap())
            .collect();
        assert_eq!(
            values,
            ["3 bytes", "7 (panic payload of type u64)", "formatted 5"]
        );
        let thread = &events[0].threads[0];
        assert_eq!(thread.name.as_deref(), Some("worker-7"));
        assert!(thread.crashed && thread.current && !thread.main);
        assert_eq!(events[0].exception[0].thread_id, thread.id);
    }

    #[test]
    fn stack_ends_at_the_panic_location() {
        if !sentry_backtrace::reads_debug_info() {
            eprintln!("skipped: this build reads no DWARF (files, lines and inlined frames)");
            return;
        }
        let mut line = 0;
        // Files and lines need the DWARF, whose first load may take seconds in a debug build:
        // under the test helpers the hook waits for it (`test::PANIC_CAPTURE_TIMEOUT`).
        let events = with_captured_events_options(options(), || {
            line = line!() + 1;
            let _ = spawn_bound(None, || panic!("here"));
        });
        let exception = &events[0].exception[0];
        let frames = &exception.stacktrace.as_ref().unwrap().frames;
        let top = frames.last().unwrap();
        assert_eq!(top.lineno, Some(u64::from(line)), "{frames:#?}");
        assert!(top
            .function
            .as_deref()
            .unwrap()
            .starts_with("sentry_panic::tests::stack_ends_at_the_panic_location"));
        // This crate is the SDK, so its frames are not in-app here (see the child-process
        // tests in `tests/` for an application's view).
        assert_eq!(top.in_app, Some(false));
        assert!(top
            .context_line
            .as_deref()
            .unwrap()
            .contains("panic!(\"here\")"));
        let location = &exception.mechanism.as_ref().unwrap().data["location"];
        assert_eq!(
            location,
            &Value::from(format!("sentry-panic/src/lib.rs:{line}:42"))
        );
    }

    /// The hooks get the panic in the hint: the message, the location and the payload's type,
    /// enough to drop one kind of panic by payload type.
    #[test]
    fn hooks_get_the_panic_in_the_hint() {
        struct Shutdown;
        struct Code(#[allow(dead_code)] u16);
        static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let options = ClientOptions {
            before_send: Some(Arc::new(|event, hint| {
                let panic = hint.panic()?;
                let (file, line, _) = panic.location()?;
                SEEN.lock().unwrap().push(format!(
                    "{} | str={} string={} code={} | {file}:{line}",
                    panic.message(),
                    panic.payload_is::<&str>(),
                    panic.payload_is::<String>(),
                    panic.payload_is::<Code>(),
                ));
                (!panic.payload_is::<Shutdown>()).then_some(event)
            })),
            ..options()
        };
        let mut line = 0;
        let events = with_captured_events_options(options, || {
            line = line!() + 1;
            let _ = spawn_bound(None, || panic!("literal"));
            let _ = spawn_bound(None, || panic!("formatted {}", std::hint::black_box(1)));
            let _ = spawn_bound(None, || std::panic::panic_any(Code(7)));
            let _ = spawn_bound(None, || std::panic::panic_any(Shutdown));
        });
        let file = "sentry-panic/src/lib.rs";
        let other = "panic payload of a non-string type (raised with std::panic::panic_any)";
        assert_eq!(
            *SEEN.lock().unwrap(),
            [
                format!("literal | str=true string=false code=false | {file}:{line}"),
                format!(
                    "formatted 1 | str=false string=true code=false | {file}:{}",
                    line + 1
                ),
                format!(
                    "{other} | str=false string=false code=true | {file}:{}",
                    line + 2
                ),
                format!(
                    "{other} | str=false string=false code=false | {file}:{}",
                    line + 3
                ),
            ]
        );
        // The `Shutdown` panic was dropped by its payload type.
        assert_eq!(events.len(), 3);
    }

    #[test]
    fn panics_on_the_sdk_threads_are_ignored() {
        let events = with_captured_events_options(options(), || {
            for name in [WORKER_THREAD_NAME, HELPER_THREAD_NAME] {
                let _ = spawn_bound(Some(name), || panic!("inside the SDK"));
            }
        });
        assert!(events.is_empty());
    }

    /// The helper never waits for the scope lock the panicking closure holds: the event is
    /// captured before the hook returns, with the scope as it was before the closure began.
    #[test]
    fn a_panic_inside_configure_scope_is_reported() {
        let events = with_captured_events_options(options(), || {
            sentry_core::configure_scope(|scope| scope.set_tag("phase", "before"));
            let _ = spawn_bound(None, || {
                sentry_core::configure_scope(|scope| {
                    scope.set_tag("phase", "during");
                    panic!("inside configure_scope");
                });
            });
            sentry_core::configure_scope(|scope| scope.remove_tag("phase"));
        });
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].exception[0].value.as_deref(),
            Some("inside configure_scope")
        );
        assert_eq!(events[0].tags["phase"], "before");
    }

    #[test]
    fn a_panic_inside_configure_global_scope_is_reported() {
        let events = with_captured_events_options(options(), || {
            let _ = spawn_bound(None, || {
                sentry_core::configure_global_scope(|_| panic!("inside the global scope"));
            });
        });
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].exception[0].value.as_deref(),
            Some("inside the global scope")
        );
    }

    /// A panic inside a callback the SDK runs is the callback's: the hook does not report it,
    /// so the callback is not run again on a panic event.
    #[test]
    fn panics_in_callbacks_are_not_reported() {
        use std::sync::atomic::AtomicUsize;
        static PROCESSOR_CALLS: AtomicUsize = AtomicUsize::new(0);
        static BREADCRUMB_CALLS: AtomicUsize = AtomicUsize::new(0);
        let options = ClientOptions {
            before_breadcrumb: Some(Arc::new(|crumb, _| {
                BREADCRUMB_CALLS.fetch_add(1, Ordering::SeqCst);
                if crumb.message.as_deref() == Some("trigger") {
                    panic!("before_breadcrumb is broken");
                }
                Some(crumb)
            })),
            ..options()
        };
        let events = with_captured_events_options(options, || {
            sentry_core::add_breadcrumb(sentry_core::Breadcrumb::new("trigger"));
            sentry_core::with_scope(
                |scope| {
                    scope.add_event_processor(|event, _| {
                        PROCESSOR_CALLS.fetch_add(1, Ordering::SeqCst);
                        if event.message.as_deref() == Some("trigger") {
                            panic!("the event processor is broken");
                        }
                        Some(event)
                    });
                },
                || sentry_core::capture_message("trigger", Level::Info),
            );
        });
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(BREADCRUMB_CALLS.load(Ordering::SeqCst), 1);
        assert_eq!(PROCESSOR_CALLS.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn panics_in_before_send_drop_the_event_without_aborting() {
        let options = ClientOptions {
            before_send: Some(Arc::new(|_, _| panic!("before_send is broken"))),
            ..options()
        };
        let events = with_captured_events_options(options, || {
            let _ = spawn_bound(None, || panic!("original"));
        });
        assert!(events.is_empty());
    }
}
