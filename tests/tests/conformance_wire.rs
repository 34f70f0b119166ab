//! Wire conformance of the protocol types: events built with `sentry_core::protocol`, serialized
//! with serde, must pass Relay's normalizer with no `errors` and no `_meta` (invariant 4).
//!
//! Needs a Python with `sentry-relay`; `sentry_tests::relay` sets one up on first use.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sentry_core::envelope::Envelope;
use sentry_core::protocol::{
    new_span_id, new_trace_id, Addr, AppContext, Breadcrumb, ClientSdkInfo, ClientSdkPackage,
    Context, DebugImage, DebugMeta, DeviceContext, Event, EventType, Exception, Frame, Level, Map,
    Measurement, MeasurementUnit, Mechanism, NativeDebugImage, OsContext, Request, RuntimeContext,
    SortedMap, Span, SpanStatus, Stacktrace, Thread, TraceContext, TransactionInfo,
    TransactionSource, User, Value,
};
use sentry_core::test::with_captured_transactions_options;
use sentry_core::{ClientOptions, TransactionContext};
use sentry_tests::relay::{assert_conformant, normalize_events};
use serde_json::json;

fn sdk() -> Arc<ClientSdkInfo> {
    Arc::new(ClientSdkInfo {
        name: "sentry.rust".into(),
        version: "0.1.0".into(),
        integrations: vec!["panic".into(), "backtrace".into()],
        packages: vec![ClientSdkPackage {
            name: "cargo:sentry".into(),
            version: "0.1.0".into(),
        }],
    })
}

fn message_event() -> Event {
    Event {
        level: Level::Info,
        message: Some("Hello from the conformance test".into()),
        logger: Some("conformance".into()),
        release: Some("conformance@1.0.0".into()),
        environment: Some("test".into()),
        sdk: Some(sdk()),
        ..Event::new()
    }
}

fn frame(function: &str, lineno: u64, in_app: bool) -> Frame {
    Frame {
        function: Some(function.into()),
        module: Some("conformance::module".into()),
        filename: Some("src/main.rs".into()),
        abs_path: Some("/app/src/main.rs".into()),
        lineno: Some(lineno),
        colno: Some(5),
        pre_context: vec!["fn before() {}".into()],
        context_line: Some("    do_the_thing()?;".into()),
        post_context: vec!["}".into()],
        in_app: Some(in_app),
        instruction_addr: Some(Addr(0x5555_0000_1234)),
        ..Frame::default()
    }
}

fn error_event() -> Event {
    let root = Exception {
        ty: "std::io::Error".into(),
        value: Some("No such file or directory (os error 2)".into()),
        module: Some("std::io".into()),
        mechanism: Some(Mechanism {
            ty: "chained".into(),
            source: Some("source".into()),
            exception_id: Some(2),
            parent_id: Some(1),
            ..Mechanism::default()
        }),
        ..Exception::default()
    };
    let middle = Exception {
        ty: "config::LoadError".into(),
        value: Some("cannot read config.toml".into()),
        mechanism: Some(Mechanism {
            ty: "chained".into(),
            source: Some("source".into()),
            exception_id: Some(1),
            parent_id: Some(0),
            ..Mechanism::default()
        }),
        ..Exception::default()
    };
    let outer = Exception {
        ty: "app::StartupError".into(),
        value: Some("startup failed".into()),
        stacktrace: Some(Stacktrace {
            frames: vec![frame("main", 10, true), frame("app::start", 42, true)],
            ..Stacktrace::default()
        }),
        mechanism: Some(Mechanism {
            ty: "generic".into(),
            handled: Some(true),
            exception_id: Some(0),
            description: Some("captured with capture_error".into()),
            ..Mechanism::default()
        }),
        ..Exception::default()
    };

    let mut tags = SortedMap::new();
    tags.insert(Cow::from("component"), Cow::from("startup"));
    tags.insert(Cow::from("region"), Cow::from("eu-west"));

    let mut extra = Map::new();
    extra.insert("attempt".into(), Value::I64(3));
    extra.insert("ratio".into(), Value::F64(0.25));
    extra.insert("path".into(), Value::from("/etc/app/config.toml"));
    extra.insert(
        "nested".into(),
        Value::Map(Map::from([(
            "list".into(),
            Value::Array(vec![Value::Bool(true), Value::Null]),
        )])),
    );

    let mut contexts = SortedMap::new();
    contexts.insert(
        Cow::from("os"),
        Context::from(OsContext {
            name: Some("Linux".into()),
            version: Some("6.1.0".into()),
            kernel_version: Some("6.1.0-18-amd64".into()),
            ..OsContext::default()
        }),
    );
    contexts.insert(
        Cow::from("runtime"),
        Context::from(RuntimeContext {
            name: Some("rustc".into()),
            version: Some("1.85.0".into()),
            ..RuntimeContext::default()
        }),
    );
    contexts.insert(
        Cow::from("device"),
        Context::from(DeviceContext {
            arch: Some("x86_64".into()),
            processor_count: Some(8),
            memory_size: Some(16 * 1024 * 1024 * 1024),
            boot_time: Some(SystemTime::now() - Duration::from_secs(3600)),
            ..DeviceContext::default()
        }),
    );
    contexts.insert(
        Cow::from("app"),
        Context::from(AppContext {
            app_name: Some("conformance".into()),
            app_version: Some("1.0.0".into()),
            app_start_time: Some(SystemTime::now() - Duration::from_secs(5)),
            ..AppContext::default()
        }),
    );
    contexts.insert(
        Cow::from("trace"),
        Context::from(TraceContext {
            trace_id: new_trace_id(),
            span_id: new_span_id(),
            parent_span_id: Some(new_span_id()),
            op: Some("http.server".into()),
            status: Some(SpanStatus::Ok),
            ..TraceContext::default()
        }),
    );
    contexts.insert(
        Cow::from("custom"),
        Context::from(Map::from([("answer".into(), Value::I64(42))])),
    );

    let breadcrumbs = vec![
        Arc::new(
            Breadcrumb::new("loading config")
                .category("config")
                .level(Level::Debug),
        ),
        Arc::new(
            Breadcrumb::new("GET https://example.invalid/config")
                .ty("http")
                .category("http")
                .data("method", "GET")
                .data("status_code", 404),
        ),
        Arc::new(
            Breadcrumb::new("retrying")
                .level(Level::Warning)
                .origin("auto.log.log"),
        ),
    ];

    let mut modules = SortedMap::new();
    modules.insert("serde".into(), "1.0.200".into());
    modules.insert("sentry".into(), "0.1.0".into());

    let mut headers = SortedMap::new();
    headers.insert("Content-Type".into(), "application/json".into());
    headers.insert("User-Agent".into(), "conformance/1.0".into());

    Event {
        level: Level::Error,
        message: Some("startup failed: cannot read config.toml".into()),
        exception: vec![root, middle, outer],
        transaction: Some("GET /start".into()),
        server_name: Some("host-1".into()),
        release: Some("conformance@1.0.0".into()),
        dist: Some("1".into()),
        environment: Some("production".into()),
        tags,
        extra,
        contexts,
        user: Some(User {
            id: Some("42".into()),
            email: Some("jane@example.invalid".into()),
            username: Some("jane".into()),
            ip_address: Some("127.0.0.1".into()),
            ..User::default()
        }),
        request: Some(Request {
            method: Some("GET".into()),
            url: Some("https://example.invalid/start".into()),
            query_string: Some("verbose=1".into()),
            headers,
            ..Request::default()
        }),
        breadcrumbs,
        fingerprint: vec!["{{ default }}".into(), "startup".into()],
        modules,
        sdk: Some(sdk()),
        ..Event::new()
    }
}

/// Threads, a top-level stack trace and debug images: what a panic or native crash carries.
fn native_event() -> Event {
    Event {
        level: Level::Fatal,
        message: Some("thread 'worker' panicked at src/worker.rs:7:5".into()),
        threads: vec![Thread {
            id: Some(7u64.into()),
            name: Some("worker".into()),
            crashed: true,
            current: true,
            stacktrace: Some(Stacktrace {
                frames: vec![
                    frame("std::panicking::begin_panic", 1, false),
                    frame("worker::run", 7, true),
                ],
                ..Stacktrace::default()
            }),
            ..Thread::default()
        }],
        debug_meta: Some(DebugMeta {
            images: vec![DebugImage::Elf(NativeDebugImage {
                code_file: "/app/bin/worker".into(),
                debug_id: "c0bcc3f1-9827-fe65-3058-404b2831d9e6".into(),
                code_id: Some("f1c3bcc0279865fe3058404b2831d9e64135386c".into()),
                image_addr: Addr(0x5555_0000_0000),
                image_size: 4096 * 1024,
                arch: Some("x86_64".into()),
                ..NativeDebugImage::default()
            })],
        }),
        sdk: Some(sdk()),
        ..Event::new()
    }
}

fn to_json(event: &Event) -> serde_json::Value {
    serde_json::to_value(event).expect("events serialize")
}

/// Rounds every numeric `timestamp` to whole microseconds: the wire resolution of timestamps,
/// below which a write-read cycle need not be exact.
fn round_timestamps(mut value: serde_json::Value) -> serde_json::Value {
    match &mut value {
        serde_json::Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "timestamp" {
                    if let Some(secs) = child.as_f64() {
                        *child = json!((secs * 1e6).round() as i64);
                        continue;
                    }
                }
                *child = round_timestamps(child.take());
            }
        }
        serde_json::Value::Array(items) => {
            for child in items.iter_mut() {
                *child = round_timestamps(child.take());
            }
        }
        _ => {}
    }
    value
}

#[test]
fn message_event_is_conformant() {
    assert_conformant(&[to_json(&message_event())]);
}

#[test]
fn error_event_with_everything_is_conformant() {
    assert_conformant(&[to_json(&error_event())]);
}

#[test]
fn native_event_is_conformant() {
    assert_conformant(&[to_json(&native_event())]);
}

#[test]
fn default_event_is_conformant() {
    assert_conformant(&[to_json(&Event::new())]);
}

#[test]
fn events_survive_an_envelope_round_trip_and_stay_conformant() {
    // What the server parses back out of the bytes the SDK writes must still conform.
    let events = [
        message_event(),
        error_event(),
        native_event(),
        transaction_event(),
    ];
    let mut reparsed = Vec::new();
    for event in events {
        let bytes = Envelope::from_event(event.clone()).to_vec(Some(SystemTime::now()));
        let envelope = Envelope::from_bytes(&bytes).expect("the SDK's own envelopes parse");
        let back = envelope
            .event()
            .or(envelope.transaction())
            .expect("event or transaction item")
            .clone();
        assert_eq!(
            round_timestamps(to_json(&back)),
            round_timestamps(to_json(&event)),
            "the event survives the round trip"
        );
        reparsed.push(to_json(&back));
    }
    assert_conformant(&reparsed);
}

/// A transaction built by hand: nested spans with data and statuses, measurements, a name from
/// a URL and a status that is not `ok`.
fn transaction_event() -> Event {
    let trace_id = new_trace_id();
    let root = new_span_id();
    let start = SystemTime::now() - Duration::from_millis(250);
    let at = |ms: u64| start + Duration::from_millis(ms);
    let query = new_span_id();
    let spans = vec![
        Span {
            span_id: query,
            trace_id,
            parent_span_id: Some(root),
            op: Some("db.query".into()),
            description: Some("SELECT * FROM users WHERE id = ?".into()),
            start_timestamp: at(10),
            timestamp: at(60),
            status: Some(SpanStatus::Ok),
            data: Map::from([
                ("db.system".into(), Value::from("postgresql")),
                ("db.rows".into(), Value::I64(1)),
            ]),
            origin: Some("manual".into()),
            ..Span::default()
        },
        Span {
            trace_id,
            parent_span_id: Some(query),
            op: Some("db.connect".into()),
            start_timestamp: at(10),
            timestamp: at(20),
            status: Some(SpanStatus::DeadlineExceeded),
            ..Span::default()
        },
        Span {
            trace_id,
            parent_span_id: Some(root),
            op: Some("http.client".into()),
            description: Some("GET https://api.example.invalid/profile".into()),
            start_timestamp: at(70),
            timestamp: at(240),
            status: Some(SpanStatus::NotFound),
            tags: SortedMap::from([("http.status_code".into(), "404".into())]),
            ..Span::default()
        },
    ];
    let mut contexts = SortedMap::new();
    contexts.insert(
        Cow::from("trace"),
        Context::from(TraceContext {
            trace_id,
            span_id: root,
            parent_span_id: Some(new_span_id()),
            op: Some("http.server".into()),
            status: Some(SpanStatus::NotFound),
            origin: Some("manual".into()),
            ..TraceContext::default()
        }),
    );
    let mut measurements = SortedMap::new();
    measurements.insert(
        "time_to_first_byte".into(),
        Measurement {
            value: 42.5,
            unit: Some(MeasurementUnit::Millisecond),
        },
    );
    measurements.insert(
        "cache.hit_ratio".into(),
        Measurement {
            value: 0.75,
            unit: Some(MeasurementUnit::Ratio),
        },
    );
    Event {
        ty: EventType::Transaction,
        level: Level::Info,
        // Relay rewrites id-like segments of a URL name (`/users/42` → `/users/*`, noted in
        // `_meta`): that is its normalization of such names, not something the SDK can fix.
        transaction: Some("/account/profile".into()),
        transaction_info: Some(TransactionInfo {
            source: TransactionSource::Url,
        }),
        start_timestamp: Some(start),
        timestamp: at(250),
        release: Some("conformance@1.0.0".into()),
        environment: Some("production".into()),
        spans,
        measurements,
        contexts,
        sdk: Some(sdk()),
        ..Event::new()
    }
}

#[test]
fn transaction_with_spans_and_measurements_is_conformant() {
    assert_conformant(&[to_json(&transaction_event())]);
}

/// The same kinds of data, but produced by the SDK's tracing API and pipeline.
#[test]
fn transactions_from_the_sdk_are_conformant() {
    let options = ClientOptions {
        dsn: Some("https://public@o1.ingest.sentry.io/1".parse().expect("DSN")),
        release: Some("conformance@1.0.0".into()),
        traces_sample_rate: Some(1.0),
        ..Default::default()
    };
    let transactions = with_captured_transactions_options(options, || {
        let headers = [
            (
                "sentry-trace",
                "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
            ),
            (
                "baggage",
                "sentry-trace_id=771a43a4192642f0b136d5159a501700",
            ),
        ];
        let ctx = sentry_core::continue_trace(headers)
            .with_name("/account/profile")
            .with_op("http.server")
            .with_source(TransactionSource::Url);
        let tx = sentry_core::start_transaction(ctx).enter();
        tx.set_data("http.request.method", "GET");
        tx.set_measurement("time_to_first_byte", 42.5, MeasurementUnit::Millisecond);
        tx.set_measurement("items", 3.0, MeasurementUnit::None);
        sentry_core::with_span("db.query", "SELECT * FROM users WHERE id = ?", |span| {
            span.set_data("db.system", "postgresql");
            span.set_data("db.rows", 1);
            let inner = sentry_core::start_span("db.connect", "pool");
            inner.set_status(SpanStatus::DeadlineExceeded);
            inner.finish();
        });
        let call = sentry_core::start_span("http.client", "GET https://api.example.invalid/x");
        call.set_tag("http.status_code", "404");
        call.set_status(SpanStatus::NotFound);
        call.finish();
        tx.set_status(SpanStatus::NotFound);
        // A transaction that is not sampled is never sent; this one is: a second, plain one.
        drop(tx);
        sentry_core::start_transaction(TransactionContext::new("nightly", "task")).finish();
    });
    assert_eq!(transactions.len(), 2);
    assert_eq!(transactions[0].spans.len(), 3);
    assert_eq!(transactions[0].measurements.len(), 2);
    let json: Vec<_> = transactions.iter().map(to_json).collect();
    assert_conformant(&json);
}

/// The checker itself must catch what Relay objects to, or a green run proves nothing.
#[test]
fn the_checker_flags_meta_and_errors() {
    let results = normalize_events(&[
        json!({"platform": "rust", "message": "wrong platform"}),
        json!({"level": "catastrophic", "message": "bad level"}),
        json!({"timestamp": "not a time", "platform": "native"}),
        json!({"platform": "native", "logentry": {"formatted": "fine"}}),
    ])
    .expect("Relay runs");
    assert_eq!(results.len(), 4);
    assert!(
        results[0]
            .problems()
            .iter()
            .any(|p| p.contains("_meta") && p.contains("rust")),
        "{:?}",
        results[0]
    );
    assert!(!results[1].is_conformant(), "{:?}", results[1]);
    assert!(!results[2].is_conformant(), "{:?}", results[2]);
    assert!(results[3].is_conformant(), "{:?}", results[3].problems());

    let caught = std::panic::catch_unwind(|| {
        assert_conformant(&[json!({"platform": "native"}), json!({"platform": "rust"})]);
    });
    let message = caught.expect_err("a non-conformant event fails the assertion");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| message.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(message.contains("event #1"), "{message}");
    assert!(!message.contains("event #0"), "{message}");
}
