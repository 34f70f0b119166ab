//! A panic under the capture helpers arrives before the helper returns, complete, even in a
//! debug build whose first stack symbolication (loading this binary's DWARF) takes longer than
//! the default `shutdown_timeout` the panic hook would otherwise wait.

use std::sync::Arc;

use sentry::integrations::backtrace::{ContextIntegration, StacktraceIntegration};
use sentry::integrations::panic::PanicIntegration;
use sentry::test::with_captured_events_options;
use sentry::{ClientOptions, Level, Scopes};

fn options() -> ClientOptions {
    ClientOptions {
        integrations: vec![
            Arc::new(PanicIntegration::new()),
            Arc::new(StacktraceIntegration::new()),
            Arc::new(ContextIntegration::new()),
        ],
        ..Default::default()
    }
}

/// The first panic of the process: the first symbolication too.
#[test]
fn the_first_panic_arrives_with_its_stack() {
    let mut line = 0;
    let events = with_captured_events_options(options(), || {
        let scopes = Scopes::current();
        line = line!() + 1;
        let result = std::thread::spawn(move || scopes.bind(|| panic!("first panic"))).join();
        assert!(result.is_err());
    });
    assert_eq!(events.len(), 1, "the panic event arrived");
    let event = &events[0];
    assert_eq!(event.level, Level::Fatal);
    assert_eq!(event.exception[0].value.as_deref(), Some("first panic"));
    let frames = &event.exception[0].stacktrace.as_ref().unwrap().frames;
    let top = frames.last().unwrap();
    assert!(
        top.function
            .as_deref()
            .is_some_and(|f| f.contains("the_first_panic_arrives_with_its_stack")),
        "{frames:#?}"
    );
    if sentry::integrations::backtrace::reads_debug_info() {
        // Complete, not cut short by a deadline: files and lines from the DWARF.
        assert_eq!(top.lineno, Some(u64::from(line)), "{frames:#?}");
        assert!(top.filename.is_some());
    }
}
