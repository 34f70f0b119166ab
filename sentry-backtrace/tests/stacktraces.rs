//! Stack traces on captured events, through the real pipeline.

use std::sync::Arc;

use sentry_backtrace::{ContextIntegration, StacktraceIntegration};
use sentry_core::protocol::{Event, Frame};
use sentry_core::test::with_captured_events_options;
use sentry_core::{ClientOptions, Level};

fn options() -> ClientOptions {
    ClientOptions {
        attach_stacktrace: true,
        integrations: vec![
            Arc::new(StacktraceIntegration::new()),
            Arc::new(ContextIntegration::new()),
        ],
        ..ClientOptions::default()
    }
}

#[derive(Debug)]
struct LoadError(std::num::ParseIntError);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not load")
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[inline(never)]
fn report_error() -> u32 {
    let err = LoadError("x".parse::<u8>().unwrap_err());
    sentry_core::capture_error(&err); // REPORT_LINE
    line!() - 1
}

fn dump(frames: &[Frame]) -> String {
    frames
        .iter()
        .map(|f| {
            format!(
                "{:?} {:?}:{:?} in_app={:?}\n",
                f.function, f.filename, f.lineno, f.in_app
            )
        })
        .collect()
}

#[test]
fn error_events_get_a_trimmed_stack_on_the_outermost_exception() {
    if !sentry_backtrace::reads_debug_info() {
        eprintln!("skipped: this build reads no DWARF (files, lines and inlined frames)");
        return;
    }
    let mut line = 0;
    let events: Vec<Event> = with_captured_events_options(options(), || line = report_error());
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.exception.len(), 2);
    assert!(event.exception[0].stacktrace.is_none());
    let frames = &event.exception[1].stacktrace.as_ref().unwrap().frames;
    let top = frames.last().unwrap();
    assert_eq!(
        top.function.as_deref(),
        Some("stacktraces::report_error"),
        "{}",
        dump(frames)
    );
    assert_eq!(top.module.as_deref(), Some("stacktraces"));
    assert_eq!(top.lineno, Some(u64::from(line)), "{}", dump(frames));
    assert!(top.colno.is_some());
    assert_eq!(top.in_app, Some(true));
    assert_eq!(
        top.filename.as_deref(),
        Some("sentry-backtrace/tests/stacktraces.rs")
    );
    assert!(top
        .abs_path
        .as_deref()
        .unwrap()
        .ends_with("/sentry-backtrace/tests/stacktraces.rs"));
    assert!(top.context_line.as_deref().unwrap().contains("REPORT_LINE"));
    assert_eq!(top.pre_context.len(), 5);
    assert_eq!(top.post_context.len(), 5);
    assert!(top.instruction_addr.is_some() && top.symbol_addr.is_some());
    // The SDK's frames are not in-app, nor are std's; no hash is left in a name.
    for frame in frames {
        let function = frame.function.as_deref().unwrap_or("");
        assert!(!function.contains("::h"), "hash left in {function}");
        if function.starts_with("sentry") {
            assert_eq!(frame.in_app, Some(false), "{function}");
        }
        if function.starts_with("std::") || function.starts_with("core::") {
            assert_eq!(frame.in_app, Some(false), "{function}");
        }
    }
    if cfg!(target_os = "linux") {
        let images = &event.debug_meta.as_ref().expect("debug images").images;
        assert!(!images.is_empty());
        assert!(top.image_addr.is_some() && top.package.is_some());
    }
}

#[test]
fn attach_stacktrace_puts_the_stack_on_messages() {
    if !sentry_backtrace::reads_debug_info() {
        eprintln!("skipped: this build reads no DWARF (files, lines and inlined frames)");
        return;
    }
    let events = with_captured_events_options(options(), || {
        sentry_core::capture_message("hello", Level::Info);
    });
    let frames = &events[0].stacktrace.as_ref().expect("a stack").frames;
    let top = frames.last().unwrap();
    assert!(
        top.function
            .as_deref()
            .unwrap()
            .starts_with("stacktraces::attach_stacktrace_puts_the_stack_on_messages"),
        "{}",
        dump(frames)
    );
    let events = with_captured_events_options(
        ClientOptions {
            attach_stacktrace: false,
            ..options()
        },
        || {
            sentry_core::capture_message("hello", Level::Info);
        },
    );
    assert!(events[0].stacktrace.is_none());
}

#[test]
fn server_name_and_device_name_only_with_send_default_pii() {
    let capture = |pii: bool| {
        with_captured_events_options(
            ClientOptions {
                send_default_pii: pii,
                ..options()
            },
            || {
                sentry_core::capture_message("hello", Level::Info);
            },
        )
    };
    let without = capture(false);
    assert!(without[0].server_name.is_none());
    let json = serde_json::to_value(&without[0].contexts["device"]).unwrap();
    assert!(json.get("name").is_none());
    let with = capture(true);
    if std::fs::read_to_string("/proc/sys/kernel/hostname").is_ok() {
        assert!(with[0].server_name.is_some());
        let json = serde_json::to_value(&with[0].contexts["device"]).unwrap();
        assert_eq!(json["name"], with[0].server_name.as_deref().unwrap());
    }
}

#[inline(never)]
fn report_event_from_error() -> u32 {
    let err = LoadError("x".parse::<u8>().unwrap_err());
    sentry_core::capture_event(sentry_core::event_from_error(&err)); // EVENT_LINE
    line!() - 1
}

/// `capture_error` walks the stack at its entry point and lends it to the integration; an error
/// event captured any other way (or by a client that samples) is walked by the integration.
/// Both stacks end at the caller.
#[test]
fn errors_walked_at_the_entry_point_or_in_the_pipeline_end_at_the_caller() {
    if !sentry_backtrace::reads_debug_info() {
        eprintln!("skipped: this build reads no DWARF (files, lines and inlined frames)");
        return;
    }
    let mut lines = (0, 0);
    let events = with_captured_events_options(options(), || {
        lines = (report_error(), report_event_from_error());
    });
    assert_eq!(events.len(), 2);
    let expected = [
        ("stacktraces::report_error", lines.0),
        ("stacktraces::report_event_from_error", lines.1),
    ];
    for (event, (function, line)) in events.iter().zip(expected) {
        let frames = &event.exception[1].stacktrace.as_ref().unwrap().frames;
        let top = frames.last().unwrap();
        assert_eq!(top.function.as_deref(), Some(function), "{}", dump(frames));
        assert_eq!(top.lineno, Some(u64::from(line)), "{}", dump(frames));
    }
}

/// The walker is registered for the process once a client has the integration; a client
/// without it still gets no stack on its errors.
#[test]
fn a_client_without_the_integration_gets_no_stack() {
    let events = with_captured_events_options(options(), || {
        report_error();
    });
    assert!(events[0].exception[1].stacktrace.is_some());
    let events = with_captured_events_options(ClientOptions::default(), || {
        report_error();
    });
    assert_eq!(events.len(), 1);
    assert!(events[0].exception.iter().all(|e| e.stacktrace.is_none()));
}

/// `error_stacktraces(false)` keeps errors stackless, walked at the entry point or not.
#[test]
fn error_stacktraces_off_gets_no_stack() {
    let options = ClientOptions {
        integrations: vec![Arc::new(
            StacktraceIntegration::new().error_stacktraces(false),
        )],
        ..ClientOptions::default()
    };
    let events = with_captured_events_options(options, || {
        report_error();
        report_event_from_error();
    });
    assert_eq!(events.len(), 2);
    for event in &events {
        assert!(event.exception.iter().all(|e| e.stacktrace.is_none()));
    }
}
