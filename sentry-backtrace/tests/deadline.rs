//! Symbolication yields to the finalizer deadline: with time left it names frames from the
//! symbol table while the DWARF loads on its own thread, and past the deadline it loads nothing
//! and leaves addresses (with `debug_meta`) for Sentry.
//!
//! One test in its own process: the deadline and the symbolizer's caches are process-wide, and
//! this test needs them cold.

use std::time::{Duration, Instant};

use sentry_core::finalize::finish_by;
use sentry_core::protocol::{Event, Frame, Stacktrace};

#[inline(never)]
fn raw_stack_here() -> Stacktrace {
    let stack = sentry_backtrace::capture_unresolved();
    std::hint::black_box(&stack);
    stack
}

fn resolved(stack: &Stacktrace) -> (Event, Duration) {
    let mut event = Event {
        stacktrace: Some(stack.clone()),
        ..Event::default()
    };
    let started = Instant::now();
    assert!(sentry_backtrace::resolve_event(&mut event));
    (event, started.elapsed())
}

fn frames(event: &Event) -> &[Frame] {
    &event.stacktrace.as_ref().expect("a stack").frames
}

fn names_this_test(frames: &[Frame]) -> bool {
    frames.iter().any(|f| {
        f.function
            .as_deref()
            .is_some_and(|name| name.ends_with("raw_stack_here"))
    })
}

#[test]
fn the_deadline_wins_over_symbolication() {
    let stack = raw_stack_here();

    // Past the deadline: nothing is loaded; the frames keep their addresses, with the image
    // they belong to, and the event lists the images for Sentry to symbolicate.
    let passed = finish_by(Some(Instant::now()));
    let (event, _) = resolved(&stack);
    drop(passed);
    let raw = frames(&event);
    assert!(!raw.is_empty());
    assert!(
        raw.iter()
            .all(|f| f.function.is_none() && f.lineno.is_none()),
        "{raw:#?}"
    );
    assert!(raw.iter().all(|f| f.instruction_addr.is_some()));
    if cfg!(target_os = "linux") {
        assert!(raw
            .iter()
            .any(|f| f.package.is_some() && f.image_addr.is_some()));
        let images = &event.debug_meta.as_ref().expect("debug_meta").images;
        assert!(!images.is_empty());
    }

    // A deadline shortly ahead: the symbol table names the frames in time (the DWARF may or
    // may not have loaded by then), and symbolication stops waiting at the deadline.
    let soon = Instant::now() + Duration::from_millis(400);
    let guard = finish_by(Some(soon));
    let (event, took) = resolved(&stack);
    drop(guard);
    assert!(names_this_test(frames(&event)), "{:#?}", frames(&event));
    assert!(
        took < Duration::from_secs(2),
        "waited {took:?} past a deadline 400 ms ahead"
    );

    // Nobody waiting: the DWARF load (started above, on its own thread) is waited for, and
    // frames get files and lines where the build reads DWARF.
    let (event, _) = resolved(&stack);
    let me = frames(&event)
        .iter()
        .find(|f| {
            f.function
                .as_deref()
                .is_some_and(|name| name.ends_with("raw_stack_here"))
        })
        .expect("this test's frame");
    if sentry_backtrace::reads_debug_info() {
        assert!(me.lineno.is_some(), "{me:#?}");
        assert!(me
            .filename
            .as_deref()
            .is_some_and(|f| f.ends_with("deadline.rs")));
        assert!(me.context_line.is_some());
    }
}
