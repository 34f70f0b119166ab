//! `capture_anyhow`: the chain root cause first, each error named by its type, anyhow's own
//! backtrace on the outermost exception (this binary sets `RUST_LIB_BACKTRACE=1` before the
//! first error is made), grouping by root cause, and the payload accepted by Relay.

use std::sync::Once;

use anyhow::Context;
use sentry::integrations::anyhow::capture_anyhow;
use sentry::test::with_captured_events;
use sentry_tests::relay::assert_conformant;

/// anyhow captures a backtrace when `RUST_LIB_BACKTRACE` (or `RUST_BACKTRACE`) is set; it
/// reads the variable once per process.
fn enable_backtraces() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Set before any thread of this binary reads the environment through anyhow.
        std::env::set_var("RUST_LIB_BACKTRACE", "1");
    });
}

#[inline(never)]
fn read_port(text: &str) -> anyhow::Result<u16> {
    let port = text.parse::<u16>().context("the port is not a number")?;
    Ok(port)
}

#[inline(never)]
fn load_config(text: &str) -> anyhow::Result<u16> {
    read_port(text).context("could not load the configuration")
}

#[inline(never)]
fn open_config() -> anyhow::Result<String> {
    std::fs::read_to_string("/nonexistent/sentry-anyhow-test.toml")
        .context("could not load the configuration")
}

#[test]
fn the_chain_is_sent_root_cause_first_with_the_creation_stack() {
    enable_backtraces();
    let err = load_config("http").unwrap_err();
    let events = with_captured_events(|| {
        let id = capture_anyhow(&err);
        assert!(!id.is_nil());
    });
    assert_eq!(events.len(), 1);
    let exceptions = &events[0].exception;
    let types: Vec<_> = exceptions.iter().map(|e| e.ty.as_str()).collect();
    let values: Vec<_> = exceptions
        .iter()
        .map(|e| e.value.as_deref().unwrap())
        .collect();
    assert_eq!(types, ["ParseIntError", "Error", "Error"]);
    assert_eq!(
        values,
        [
            "invalid digit found in string",
            "the port is not a number",
            "could not load the configuration",
        ]
    );
    let outermost = exceptions.last().unwrap();
    let mechanism = outermost.mechanism.as_ref().unwrap();
    assert_eq!(
        (mechanism.ty.as_str(), mechanism.handled),
        ("anyhow", Some(true))
    );
    // The stack is where the error was made (in `read_port`, the innermost `context`), not
    // where it was captured, and anyhow's frames are trimmed from its top.
    let frames = &outermost
        .stacktrace
        .as_ref()
        .expect("anyhow's backtrace")
        .frames;
    let functions: Vec<_> = frames
        .iter()
        .filter_map(|f| f.function.as_deref())
        .collect();
    let top = functions.last().unwrap();
    assert!(top.ends_with("read_port"), "{functions:#?}");
    assert!(functions.iter().any(|f| f.ends_with("load_config")));
    assert!(!functions.iter().any(|f| f.contains("with_captured_events")));
    assert!(
        !functions.iter().any(|f| f.contains("anyhow::")),
        "{functions:#?}"
    );
    if sentry::integrations::backtrace::reads_debug_info() {
        let line = frames.last().unwrap().lineno.unwrap();
        let source = include_str!("anyhow_capture.rs");
        let text = source.lines().nth(line as usize - 1).unwrap();
        assert!(
            text.contains("context(\"the port is not a number\")"),
            "{text}"
        );
    }
    assert_conformant(&[serde_json::to_value(&events[0]).unwrap()]);
}

/// Two errors with different root causes behind the same context differ in the exception
/// types Sentry groups by; the same root cause with different messages does not.
#[test]
fn events_group_by_the_root_cause_not_the_wrapper() {
    enable_backtraces();
    let types = |err: &anyhow::Error| {
        let events = with_captured_events(|| {
            capture_anyhow(err);
        });
        events[0]
            .exception
            .iter()
            .map(|e| e.ty.clone())
            .collect::<Vec<_>>()
    };
    let parse = types(&load_config("x").unwrap_err());
    let parse_again = types(&load_config("99999999").unwrap_err());
    let io = types(&open_config().unwrap_err());
    assert_eq!(parse, parse_again);
    assert_ne!(parse[0], io[0], "{parse:?} vs {io:?}");
    assert!(!parse.iter().chain(&io).any(|t| t == "anyhow::Error"));
}

/// The hooks get the outermost error to downcast, as for `capture_error`.
#[test]
fn hooks_get_the_error() {
    use std::sync::Arc;
    let options = sentry::ClientOptions {
        before_send: Some(Arc::new(|event, hint| {
            let is_parse = hint
                .error()
                .and_then(|err| err.source())
                .and_then(|err| err.source())
                .is_some_and(|root| root.is::<std::num::ParseIntError>());
            is_parse.then_some(event)
        })),
        ..Default::default()
    };
    let events = sentry::test::with_captured_events_options(options, || {
        capture_anyhow(&load_config("x").unwrap_err());
        capture_anyhow(&open_config().unwrap_err());
    });
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].exception[0].ty, "ParseIntError");
}

#[test]
fn nothing_is_built_without_a_client() {
    let err = anyhow::anyhow!("no SDK");
    assert!(capture_anyhow(&err).is_nil());
}
