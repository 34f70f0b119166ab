//! Panics (and error and message events with stacks) in real processes: this test binary (no libtest harness, so `main` is the real main
//! thread) re-executes itself once per scenario with `PANIC_SCENARIO` set. Each child
//! initialises the SDK against a loopback receiver in the parent, with the HTTP transport, and
//! panics. The parent checks how the child ended, what the receiver got, and runs every event
//! payload through Relay's normalizer.
//!
//! Run it alone with `cargo test -p sentry-panic --test panic_hook`; set `PANIC_HOOK_DUMP=1`
//! to print every event payload the receiver got.

// This binary is its own test harness: it reports on stdout like libtest does.
#![allow(clippy::print_stdout)]

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_backtrace::{ContextIntegration, StacktraceIntegration};
use sentry_core::protocol::Event;
use sentry_core::{ClientOptions, Level};
use sentry_panic::PanicIntegration;
use sentry_tests::relay;
use sentry_tests::server::{raw_event_payloads, Behavior, Request, TestServer};

const SCENARIO: &str = "PANIC_SCENARIO";
const DSN: &str = "PANIC_SCENARIO_DSN";
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The child side
// ---------------------------------------------------------------------------------------------

fn init(dsn: &str, before_send_panics: bool) -> sentry_core::ClientInitGuard {
    init_with(dsn, |options| {
        if before_send_panics {
            options.before_send = Some(Arc::new(|_, _| panic!("before_send is broken")));
        }
    })
}

fn init_with(
    dsn: &str,
    configure: impl FnOnce(&mut ClientOptions),
) -> sentry_core::ClientInitGuard {
    let mut options = ClientOptions {
        attach_stacktrace: true,
        dsn: dsn.parse().ok(),
        release: Some("panic-hook-test@1.0.0".into()),
        transport: Some(Arc::new(sentry_transport_http::HttpTransportFactory)),
        integrations: vec![
            Arc::new(PanicIntegration::new()),
            Arc::new(StacktraceIntegration::new()),
            Arc::new(ContextIntegration::new()),
        ],
        shutdown_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    };
    configure(&mut options);
    sentry_backtrace::set_modules(sentry_backtrace::cargo_lock_modules!("../Cargo.lock"));
    sentry_core::init(options)
}

/// What a child reports to its parent, on stderr: `name=value`.
fn report(name: &str, value: impl std::fmt::Display) {
    eprintln!("REPORT {name}={value}");
}

/// A value the child reported with [`report`].
fn reported(stderr: &str, name: &str) -> Option<String> {
    let prefix = format!("REPORT {name}=");
    stderr
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(str::to_owned)
}

fn reported_ms(stderr: &str, name: &str) -> u128 {
    reported(stderr, name)
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("the child did not report {name}:\n{stderr}"))
}

#[inline(never)]
fn panic_on_main_thread() {
    panic!("main thread exploded"); // MAIN_PANIC
}

#[inline(never)]
fn panic_on_named_thread() {
    let handle = std::thread::Builder::new()
        .name("worker-3".into())
        .spawn(|| {
            let id = 3;
            panic!("worker {id} gave up"); // WORKER_PANIC
        })
        .expect("thread spawned");
    assert!(handle.join().is_err());
}

struct Opaque;

#[inline(never)]
fn panic_with_opaque_payload() {
    std::panic::panic_any(Opaque); // OPAQUE_PANIC
}

#[inline(never)]
fn panic_then_abort() {
    // What `panic = "abort"` does: the hooks run, then the process aborts at once.
    let hooks = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        hooks(info);
        std::process::abort();
    }));
    let value: Option<u8> = std::hint::black_box(None);
    value.expect("no value to work with"); // ABORT_PANIC
}

/// A payload whose describer panics.
struct Troublesome;

#[inline(never)]
fn panic_with_troublesome_payload() {
    let handle = std::thread::spawn(|| std::panic::panic_any(Troublesome));
    assert!(handle.join().is_err());
}

static BEFORE_SEND_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[inline(never)]
fn panic_in_configure_scope() {
    let handle = std::thread::spawn(|| {
        sentry_core::configure_scope(|scope| {
            scope.set_tag("half", "done");
            panic!("inside configure_scope"); // CONFIGURE_PANIC
        });
    });
    assert!(handle.join().is_err());
}

#[inline(never)]
fn panic_in_configure_global_scope() {
    let handle = std::thread::spawn(|| {
        sentry_core::configure_global_scope(|_| {
            panic!("inside configure_global_scope"); // GLOBAL_PANIC
        });
    });
    assert!(handle.join().is_err());
}

#[inline(never)]
fn cold_panic() {
    panic!("first use of the SDK"); // COLD_PANIC
}

#[derive(Debug)]
struct LoadError(std::num::ParseIntError);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not load the configuration")
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[inline(never)]
fn report_error() {
    let err = LoadError("x".parse::<u8>().unwrap_err());
    sentry_core::capture_error(&err); // ERROR_CAPTURE
}

#[inline(never)]
fn recurse(depth: u32) -> u32 {
    if depth == 0 {
        report_error();
        return 0;
    }
    // Not a tail call, so every level keeps its frame.
    recurse(depth - 1) + std::hint::black_box(1)
}

fn run_child(scenario: &str, dsn: &str) {
    match scenario {
        "errors" => {
            let _guard = init(dsn, false);
            report_error();
            recurse(400);
            sentry_core::capture_message("with a stack", Level::Warning); // MESSAGE
        }
        "main" => {
            let _guard = init(dsn, false);
            panic_on_main_thread();
        }
        "thread" => {
            let _guard = init(dsn, false);
            panic_on_named_thread();
            // The process survives a panic on another thread.
            sentry_core::capture_message("after the worker panic", Level::Info);
        }
        "opaque" => {
            let _guard = init(dsn, false);
            panic_with_opaque_payload();
        }
        "abort" => {
            // A hook of the application's own ends the process: the SDK is told to wait.
            let _guard = init_with(dsn, |options| {
                options.integrations[0] = Arc::new(PanicIntegration::new().wait_for_delivery(true));
            });
            panic_then_abort();
        }
        "before_send" => {
            let _guard = init(dsn, true);
            panic!("original panic");
        }
        "describer" => {
            let _guard = init_with(dsn, |options| {
                options.integrations[0] = Arc::new(
                    PanicIntegration::new()
                        .describe_payload_with(|_: &Troublesome| panic!("describer is broken")),
                );
            });
            panic_with_troublesome_payload();
            sentry_core::capture_message("after the panic", Level::Info);
        }
        "callback_panics" => {
            let _guard = init_with(dsn, |options| {
                options.before_send = Some(Arc::new(|event, _| {
                    BEFORE_SEND_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if event.message.as_deref() == Some("trigger") {
                        panic!("before_send is broken for this one");
                    }
                    Some(event)
                }));
            });
            sentry_core::capture_message("trigger", Level::Info);
            report(
                "before_send_calls",
                BEFORE_SEND_CALLS.load(std::sync::atomic::Ordering::SeqCst),
            );
        }
        "caught" => {
            let _guard = init(dsn, false);
            // The server stalls on this one: the worker is stuck in its send.
            sentry_core::capture_message("before the panics", Level::Info);
            std::thread::sleep(Duration::from_millis(100));
            let started = Instant::now();
            for i in 0..5 {
                let caught = std::panic::catch_unwind(|| panic!("caught panic {i}"));
                assert!(caught.is_err());
            }
            report("caught_panics_ms", started.elapsed().as_millis());
        }
        "configure_scope" => {
            let _guard = init(dsn, false);
            sentry_core::configure_scope(|scope| scope.set_tag("half", "not yet"));
            let started = Instant::now();
            panic_in_configure_scope();
            report("panic_ms", started.elapsed().as_millis());
        }
        "global_scope" => {
            let _guard = init(dsn, false);
            panic_in_configure_global_scope();
        }
        "cold" => {
            // The default shutdown_timeout (2 s), and nothing symbolized before the panic.
            let cache = std::env::var_os("PANIC_SCENARIO_CACHE");
            let _guard = init_with(dsn, |options| {
                options.shutdown_timeout = ClientOptions::default().shutdown_timeout;
                options.cache_dir = cache.map(Into::into);
            });
            cold_panic();
        }
        other => {
            eprintln!("unknown scenario {other}");
            std::process::exit(2);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The parent side
// ---------------------------------------------------------------------------------------------

struct Outcome {
    status: ExitStatus,
    /// From the start of the child to its end.
    ran_for: Duration,
    stderr: String,
    requests: Vec<Request>,
    events: Vec<Event>,
    raw_events: Vec<serde_json::Value>,
}

fn spawn(scenario: &str, expected_events: usize) -> Outcome {
    spawn_with(scenario, expected_events, &TestServer::start(), &[])
}

/// Runs `scenario` in a child reporting to `server`, with extra environment variables.
fn spawn_with(
    scenario: &str,
    expected_events: usize,
    server: &TestServer,
    env: &[(&str, &std::ffi::OsStr)],
) -> Outcome {
    let exe = std::env::current_exe().expect("own path");
    let started = Instant::now();
    let mut command = Command::new(exe);
    command
        .env(SCENARIO, scenario)
        .env(DSN, server.dsn())
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("child started");
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("scenario {scenario} did not finish within {CHILD_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let ran_for = started.elapsed();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    // Everything was sent before the child ended; give the server a moment to record it.
    server.wait_idle(Duration::from_millis(200), Duration::from_secs(5));
    let requests = server.requests();
    let events = server.events();
    assert!(
        events.len() >= expected_events,
        "scenario {scenario}: expected {expected_events} events, got {}\nstderr:\n{stderr}",
        events.len()
    );
    let raw_events = raw_event_payloads(&requests);
    if std::env::var_os("PANIC_HOOK_DUMP").is_some() {
        for event in &raw_events {
            println!(
                "{}",
                serde_json::to_string_pretty(event).unwrap_or_default()
            );
        }
    }
    Outcome {
        status,
        ran_for,
        stderr,
        requests,
        events,
        raw_events,
    }
}

/// The line of this file that contains `marker`.
fn line_of(marker: &str) -> u64 {
    let source = include_str!("panic_hook.rs");
    let needle = format!("// {marker}");
    source
        .lines()
        .position(|l| l.trim_end().ends_with(&needle))
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("marker {marker} not found"))
}

fn dump(event: &Event) -> String {
    serde_json::to_string_pretty(event).unwrap_or_default()
}

/// The checks every panic event must pass.
fn assert_panic_event(event: &Event, value: &str, function: &str, marker: &str) {
    assert_eq!(event.level, Level::Fatal);
    assert_eq!(event.exception.len(), 1, "{}", dump(event));
    let exception = &event.exception[0];
    assert_eq!(exception.ty, "panic");
    assert_eq!(exception.value.as_deref(), Some(value));
    let mechanism = exception.mechanism.as_ref().expect("mechanism");
    assert_eq!(mechanism.ty, "panic");
    assert_eq!(mechanism.handled, Some(false));
    let location = mechanism.data["location"].to_string();
    assert!(
        location.contains(&format!("panic_hook.rs:{}:", line_of(marker))),
        "{location}"
    );
    // The panicking thread, linked to the exception.
    assert_eq!(event.threads.len(), 1);
    let thread = &event.threads[0];
    assert!(thread.crashed && thread.current);
    assert_eq!(exception.thread_id, thread.id);
    // The stack ends at the panic, in the application's code, with source context.
    let frames = &exception.stacktrace.as_ref().expect("stack").frames;
    let top = frames.last().expect("frames");
    assert_eq!(top.lineno, Some(line_of(marker)), "{}", dump(event));
    assert!(
        top.function.as_deref().unwrap_or("").starts_with(function),
        "{:?} does not start with {function}",
        top.function
    );
    assert_eq!(top.in_app, Some(true), "{}", dump(event));
    assert_eq!(top.module.as_deref(), Some("panic_hook"));
    assert_eq!(
        top.filename.as_deref(),
        Some("sentry-panic/tests/panic_hook.rs")
    );
    assert!(top.context_line.as_deref().unwrap_or("").contains(marker));
    assert_eq!(top.pre_context.len(), 5);
    assert_eq!(top.post_context.len(), 5);
    assert!(top.instruction_addr.is_some());
    assert!(frames
        .iter()
        .all(|f| !f.function.as_deref().unwrap_or("").starts_with("sentry_")));
    // Automatic data.
    for context in ["os", "runtime", "device", "app"] {
        assert!(event.contexts.contains_key(context), "{context} missing");
    }
    assert!(
        event.modules.contains_key("backtrace"),
        "modules from Cargo.lock"
    );
    assert!(
        event.server_name.is_none(),
        "no host name without send_default_pii"
    );
    if cfg!(target_os = "linux") {
        assert!(!event
            .debug_meta
            .as_ref()
            .expect("debug_meta")
            .images
            .is_empty());
    }
}

#[cfg(unix)]
fn signal_of(status: &ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_status: &ExitStatus) -> Option<i32> {
    None
}

fn scenario_main() {
    let out = spawn("main", 1);
    assert_eq!(out.status.code(), Some(101), "{}", out.stderr);
    assert!(
        out.stderr.contains("main thread exploded"),
        "the previous hook still prints: {}",
        out.stderr
    );
    let event = &out.events[0];
    assert_panic_event(
        event,
        "main thread exploded",
        "panic_hook::panic_on_main_thread",
        "MAIN_PANIC",
    );
    let thread = &event.threads[0];
    assert_eq!(thread.name.as_deref(), Some("main"));
    assert!(thread.main);
    relay::assert_conformant(&out.raw_events);
}

fn scenario_thread() {
    let out = spawn("thread", 2);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let panic = out
        .events
        .iter()
        .find(|e| !e.exception.is_empty())
        .expect("panic event");
    assert_panic_event(
        panic,
        "worker 3 gave up",
        "panic_hook::panic_on_named_thread::{{closure}}",
        "WORKER_PANIC",
    );
    let thread = &panic.threads[0];
    assert_eq!(thread.name.as_deref(), Some("worker-3"));
    assert!(!thread.main);
    assert!(out.events.iter().any(|e| e.message.is_some()));
    relay::assert_conformant(&out.raw_events);
}

fn scenario_opaque() {
    let out = spawn("opaque", 1);
    assert_eq!(out.status.code(), Some(101), "{}", out.stderr);
    assert_panic_event(
        &out.events[0],
        "panic payload of a non-string type (raised with std::panic::panic_any)",
        "panic_hook::panic_with_opaque_payload",
        "OPAQUE_PANIC",
    );
    relay::assert_conformant(&out.raw_events);
}

fn scenario_abort() {
    let out = spawn("abort", 1);
    if cfg!(unix) {
        assert_eq!(signal_of(&out.status), Some(6), "SIGABRT: {}", out.stderr);
    } else {
        assert!(!out.status.success());
    }
    assert_panic_event(
        &out.events[0],
        "no value to work with",
        "panic_hook::panic_then_abort",
        "ABORT_PANIC",
    );
    relay::assert_conformant(&out.raw_events);
}

/// The number of items the client reports counted as discarded for `reason`.
fn discarded(requests: &[Request], reason: &str) -> u64 {
    requests
        .iter()
        .filter_map(Request::parsed_envelope)
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            sentry_core::envelope::EnvelopeItem::ClientReport(report) => Some(report),
            _ => None,
        })
        .flat_map(|r| r.discarded_events.iter())
        .filter(|d| d.reason.to_string() == reason)
        .map(|d| d.quantity)
        .sum()
}

fn panic_events(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.exception.first().is_some_and(|x| x.ty == "panic"))
        .collect()
}

fn scenario_before_send() {
    let out = spawn("before_send", 0);
    // Neither an abort nor a hang: the process ends as a normal panic does, the event is
    // dropped and counted.
    assert_eq!(out.status.code(), Some(101), "{}", out.stderr);
    assert!(out.stderr.contains("original panic"), "{}", out.stderr);
    assert!(out.events.is_empty());
    assert_eq!(
        discarded(&out.requests, "before_send"),
        1,
        "a client report counts the dropped event"
    );
}

/// A panic inside `before_send` is the callback's, not the application's: its event is dropped
/// and counted, the callback is not run again, and no fatal event reports it.
fn scenario_callback_panics() {
    let out = spawn("callback_panics", 0);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert_eq!(
        reported(&out.stderr, "before_send_calls").as_deref(),
        Some("1"),
        "before_send ran once: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("before_send is broken for this one"),
        "the panic message is still printed: {}",
        out.stderr
    );
    assert!(
        out.events.is_empty(),
        "nothing is sent for the callback's panic: {:?}",
        out.events.iter().map(dump).collect::<Vec<_>>()
    );
    assert_eq!(discarded(&out.requests, "before_send"), 1);
}

/// A describer that panics runs on a helper thread: no abort, and the generic description.
fn scenario_describer() {
    let out = spawn("describer", 2);
    assert_eq!(out.status.code(), Some(0), "no abort: {}", out.stderr);
    let panics = panic_events(&out.events);
    assert_eq!(panics.len(), 1);
    assert_eq!(
        panics[0].exception[0].value.as_deref(),
        Some("panic payload of a non-string type (raised with std::panic::panic_any)")
    );
    assert!(out
        .events
        .iter()
        .any(|e| e.message.as_deref() == Some("after the panic")));
}

/// Caught panics cost their thread the queueing only, even while the server does not answer;
/// the events are sent once it does, or at close.
fn scenario_caught() {
    let server = TestServer::start();
    // The first request stalls (the server hangs, then heals).
    server.set_behavior(Behavior::sequence([Behavior::slow(
        Duration::from_millis(1500),
        Behavior::ok(),
    )]));
    let out = spawn_with("caught", 6, &server, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let took = reported_ms(&out.stderr, "caught_panics_ms");
    println!("  5 caught panics: {took} ms");
    assert!(
        took < 500,
        "5 caught panics took {took} ms against a stalled server"
    );
    assert_eq!(panic_events(&out.events).len(), 5);
    relay::assert_conformant(&out.raw_events);
}

/// The panic hook's helper never waits for the scope lock the panicking closure holds.
fn scenario_configure_scope() {
    let out = spawn("configure_scope", 1);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let took = reported_ms(&out.stderr, "panic_ms");
    println!("  the panic: {took} ms");
    assert!(took < 500, "the panic took {took} ms");
    let panics = panic_events(&out.events);
    assert_eq!(panics.len(), 1);
    let event = panics[0];
    assert_eq!(
        event.exception[0].value.as_deref(),
        Some("inside configure_scope")
    );
    // The scope as it was before the closure began.
    assert_eq!(event.tags.get("half").map(|t| &**t), Some("not yet"));
    relay::assert_conformant(&out.raw_events);
}

fn scenario_global_scope() {
    let out = spawn("global_scope", 1);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let panics = panic_events(&out.events);
    assert_eq!(panics.len(), 1, "{}", out.stderr);
    assert_eq!(
        panics[0].exception[0].value.as_deref(),
        Some("inside configure_global_scope")
    );
}

/// The first panic of a large debug binary, with the default `shutdown_timeout`: the guard's
/// close never runs past its 2 s, and the event arrives (or is on disk) with named frames
/// even when the DWARF is not read in time.
fn scenario_cold() {
    const BOUND: Duration = Duration::from_secs(3);
    let assert_named = |event: &Event| {
        let top = event.exception[0]
            .stacktrace
            .as_ref()
            .and_then(|s| s.frames.last())
            .expect("a stack");
        assert!(
            top.function
                .as_deref()
                .is_some_and(|f| f.starts_with("panic_hook::cold_panic")),
            "{}",
            dump(event)
        );
        assert_eq!(top.in_app, Some(true));
    };

    let out = spawn("cold", 1);
    println!("  healthy server: the child ran for {:?}", out.ran_for);
    assert_eq!(out.status.code(), Some(101), "{}", out.stderr);
    assert!(out.ran_for < BOUND, "the child ran for {:?}", out.ran_for);
    let panics = panic_events(&out.events);
    assert_eq!(panics.len(), 1);
    assert_named(panics[0]);
    relay::assert_conformant(&out.raw_events);

    // The server hangs: the event is on disk when the close gives up.
    let cache = std::env::temp_dir().join(format!("sentry-cold-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let hanging = TestServer::start();
    hanging.set_behavior(Behavior::Hang);
    let out = spawn_with(
        "cold",
        0,
        &hanging,
        &[("PANIC_SCENARIO_CACHE", cache.as_os_str())],
    );
    println!("  hanging server: the child ran for {:?}", out.ran_for);
    assert_eq!(out.status.code(), Some(101), "{}", out.stderr);
    assert!(
        out.ran_for < BOUND,
        "the child ran for {:?} with a hanging server",
        out.ran_for
    );
    let events = replay_cache(&cache);
    let _ = std::fs::remove_dir_all(&cache);
    assert_eq!(events.len(), 1, "the panic event is on disk");
    assert_named(&events[0]);
}

/// Sends what the offline cache in `dir` holds to a new server, and returns the events.
fn replay_cache(dir: &std::path::Path) -> Vec<Event> {
    let server = TestServer::start();
    let client = sentry_core::Client::new(ClientOptions {
        dsn: server.dsn().parse().ok(),
        transport: Some(Arc::new(sentry_transport_http::HttpTransportFactory)),
        cache_dir: Some(dir.to_owned()),
        ..ClientOptions::default()
    });
    assert!(client.flush(Some(Duration::from_secs(10))));
    client.close(Some(Duration::from_secs(5)));
    relay::assert_conformant(&raw_event_payloads(&server.requests()));
    server.events()
}

fn scenario_errors() {
    let out = spawn("errors", 3);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    let errors: Vec<&Event> = out
        .events
        .iter()
        .filter(|e| !e.exception.is_empty())
        .collect();
    assert_eq!(errors.len(), 2);
    for event in &errors {
        assert_eq!(event.level, Level::Error);
        let types: Vec<&str> = event.exception.iter().map(|e| e.ty.as_str()).collect();
        assert_eq!(types, ["ParseIntError", "LoadError"]);
        assert!(
            event.exception[0].stacktrace.is_none(),
            "the stack is on the outermost"
        );
        let frames = &event.exception[1]
            .stacktrace
            .as_ref()
            .expect("stack")
            .frames;
        assert!(frames.len() <= sentry_backtrace::MAX_FRAMES);
        let top = frames.last().expect("frames");
        assert_eq!(top.function.as_deref(), Some("panic_hook::report_error"));
        assert_eq!(top.lineno, Some(line_of("ERROR_CAPTURE")));
        assert_eq!(top.in_app, Some(true));
        assert!(top
            .context_line
            .as_deref()
            .unwrap_or("")
            .contains("ERROR_CAPTURE"));
    }
    // The deep one was cut to its two ends: `main` is still there, and the recursion.
    let deep = &errors[1].exception[1]
        .stacktrace
        .as_ref()
        .expect("stack")
        .frames;
    assert_eq!(deep.len(), sentry_backtrace::MAX_FRAMES, "{}", deep.len());
    assert!(deep
        .iter()
        .any(|f| f.function.as_deref() == Some("panic_hook::main")));
    let message = out
        .events
        .iter()
        .find(|e| e.message.is_some())
        .expect("message");
    let top = message
        .stacktrace
        .as_ref()
        .expect("attach_stacktrace")
        .frames
        .last()
        .cloned();
    assert_eq!(top.and_then(|f| f.lineno), Some(line_of("MESSAGE")));
    relay::assert_conformant(&out.raw_events);
}

// ---------------------------------------------------------------------------------------------
// A real `panic = "abort"` build
// ---------------------------------------------------------------------------------------------

/// Builds `examples/abort_on_panic.rs` with the workspace's `panic-abort` profile (in a target
/// directory of its own, so that this never waits on the build running the tests) and returns
/// the binary.
fn build_abort_example() -> std::path::PathBuf {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned();
    let target = workspace.join("target").join("panic-abort-build");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(&workspace)
        .args([
            "build",
            "--quiet",
            "-p",
            "sentry-panic",
            "--example",
            "abort_on_panic",
            "--profile",
            "panic-abort",
            "--target-dir",
        ])
        .arg(&target)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the panic = \"abort\" example failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target
        .join("panic-abort")
        .join("examples")
        .join(format!("abort_on_panic{}", std::env::consts::EXE_SUFFIX))
}

/// The line of the abort example that panics.
fn abort_example_line() -> u64 {
    include_str!("../examples/abort_on_panic.rs")
        .lines()
        .position(|l| l.trim_end().ends_with("// ABORT_EXAMPLE_PANIC"))
        .map(|i| i as u64 + 1)
        .expect("marker in the example")
}

fn run_abort_example(
    exe: &std::path::Path,
    dsn: &str,
    cache: Option<&std::path::Path>,
) -> (ExitStatus, String) {
    let mut command = Command::new(exe);
    command
        .env("SENTRY_DSN", dsn)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match cache {
        // The default `shutdown_timeout`: symbolication yields to it.
        Some(cache) => command.env("ABORT_CACHE_DIR", cache),
        // Time for the whole first symbolication of a debug build (files, lines, source
        // context): the hook returns as soon as the event is sent.
        None => command.env("ABORT_SHUTDOWN_MS", "60000"),
    };
    let output = command.output().expect("example runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `complete`: with files, lines and source context (not only function names).
fn assert_abort_event(event: &Event, complete: bool) {
    assert_eq!(event.level, Level::Fatal);
    let exception = &event.exception[0];
    assert_eq!(exception.ty, "panic");
    assert!(
        exception
            .value
            .as_deref()
            .unwrap_or("")
            .starts_with("the port must be a number"),
        "{}",
        dump(event)
    );
    let top = exception
        .stacktrace
        .as_ref()
        .and_then(|s| s.frames.last())
        .expect("a stack");
    assert_eq!(
        top.function.as_deref(),
        Some("abort_on_panic::parse_config")
    );
    assert_eq!(top.in_app, Some(true));
    if !complete {
        return;
    }
    assert_eq!(top.lineno, Some(abort_example_line()));
    assert!(top
        .context_line
        .as_deref()
        .unwrap_or("")
        .contains("ABORT_EXAMPLE_PANIC"));
}

fn scenario_real_abort() {
    let exe = build_abort_example();
    // Delivered directly before the abort.
    let server = TestServer::start();
    let (status, stderr) = run_abort_example(&exe, &server.dsn(), None);
    if cfg!(unix) {
        assert_eq!(signal_of(&status), Some(6), "SIGABRT: {stderr}");
    }
    assert!(stderr.contains("the port must be a number"), "{stderr}");
    server.wait_idle(Duration::from_millis(200), Duration::from_secs(5));
    let events = server.events();
    assert_eq!(events.len(), 1, "{stderr}");
    assert_abort_event(&events[0], true);
    relay::assert_conformant(&raw_event_payloads(&server.requests()));

    // The server hangs: the hook gives up after the default 2 s and the process aborts, but
    // the event was written to the offline cache first (named from the symbol table if the
    // DWARF could not be read in time); the next process sends it.
    let cache = std::env::temp_dir().join(format!("sentry-abort-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let hanging = TestServer::start();
    hanging.set_behavior(sentry_tests::server::Behavior::Hang);
    let started = Instant::now();
    let (status, stderr) = run_abort_example(&exe, &hanging.dsn(), Some(&cache));
    let ran_for = started.elapsed();
    println!("  abort build, hanging server: the example ran for {ran_for:?}");
    if cfg!(unix) {
        assert_eq!(signal_of(&status), Some(6), "SIGABRT: {stderr}");
    }
    assert!(
        ran_for < Duration::from_secs(3),
        "the hook ran past its 2 s: {ran_for:?}"
    );
    let cached = std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    assert_eq!(cached, 1, "the panic event is on disk");
    let events = replay_cache(&cache);
    let _ = std::fs::remove_dir_all(&cache);
    assert_eq!(events.len(), 1, "replayed from the cache");
    assert_abort_event(&events[0], false);
}

fn main() {
    if let Ok(scenario) = std::env::var(SCENARIO) {
        let dsn = std::env::var(DSN).unwrap_or_default();
        run_child(&scenario, &dsn);
        return;
    }
    if !sentry_backtrace::reads_debug_info() {
        // Every scenario checks files, lines and source context, which come from DWARF; an
        // optimized build without debug information has none to read.
        println!("\nrunning 0 tests (this build reads no DWARF; run with the test profile)");
        return;
    }
    let scenarios: [(&str, fn()); 13] = [
        ("errors_and_messages_with_stacks", scenario_errors),
        ("panic_on_main_thread", scenario_main),
        ("panic_on_named_thread", scenario_thread),
        ("panic_with_non_string_payload", scenario_opaque),
        ("panic_then_abort", scenario_abort),
        ("panic_inside_before_send", scenario_before_send),
        (
            "panic_in_a_callback_runs_it_once_and_is_not_reported",
            scenario_callback_panics,
        ),
        (
            "panicking_payload_describer_does_not_abort",
            scenario_describer,
        ),
        ("caught_panics_do_not_wait_for_the_server", scenario_caught),
        (
            "panic_inside_configure_scope_is_prompt",
            scenario_configure_scope,
        ),
        (
            "panic_inside_configure_global_scope_is_reported",
            scenario_global_scope,
        ),
        (
            "first_panic_of_a_debug_build_within_the_default_timeout",
            scenario_cold,
        ),
        (
            "panic_with_real_abort_build_and_offline_cache",
            scenario_real_abort,
        ),
    ];
    // Keep the parent's own failures readable (and out of any hook).
    let mut passed = 0;
    let mut failed = 0;
    println!("\nrunning {} tests", scenarios.len());
    for (name, run) in scenarios {
        match std::panic::catch_unwind(run) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(_) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }
    println!("\n{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
