//! The `tracing` bridge: each mapping, the defaults, field types, `&dyn Error` fields, span
//! fields as contexts, a custom mapper, and events emitted inside SDK callbacks.
//!
//! Each test installs its own subscriber for its own thread (`with_default`).

mod support;

use std::error::Error;
use std::sync::Arc;

use sentry_core::protocol::{Context, LogLevel, LogValue};
use sentry_core::{Breadcrumb, ClientOptions, Level, Value};
use sentry_log::tracing::LayerBuilder;
use sentry_log::{Mapping, RecordMapping};
use support::{capture, Sent};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::prelude::*;

/// Runs `f` with a subscriber made of the Sentry layer `builder` builds, and a recording client.
fn with_layer(options: ClientOptions, builder: LayerBuilder, f: impl FnOnce()) -> Sent {
    let subscriber = tracing_subscriber::registry().with(builder.build());
    capture(options, || tracing::subscriber::with_default(subscriber, f))
}

fn mapped(mapping: Mapping) -> LayerBuilder {
    LayerBuilder::new()
        .max_level(LevelFilter::TRACE)
        .filter(move |_| mapping)
}

#[test]
fn defaults_per_level() {
    let sent = with_layer(ClientOptions::default(), LayerBuilder::new(), || {
        tracing::trace!("t-trace");
        tracing::debug!("t-debug");
        tracing::info!("t-info");
        tracing::warn!("t-warn");
        tracing::error!("t-error");
    });
    assert_eq!(sent.events.len(), 1);
    let event = &sent.events[0];
    assert_eq!(event.message.as_deref(), Some("t-error"));
    assert_eq!(event.level, Level::Error);
    assert_eq!(event.logger.as_deref(), Some("tracing_mappings"));
    let crumbs: Vec<_> = event
        .breadcrumbs
        .iter()
        .filter_map(|b| b.message.as_deref())
        .collect();
    assert_eq!(crumbs, ["t-info", "t-warn"]);
    assert_eq!(
        event.breadcrumbs[0].origin.as_deref(),
        Some("auto.log.tracing")
    );
    let location = match event.contexts.get("tracing") {
        Some(Context::Other(map)) => map,
        other => panic!("no tracing context: {other:?}"),
    };
    assert_eq!(location["target"], Value::from("tracing_mappings"));
    assert!(location.contains_key("line"));
    let levels: Vec<_> = sent
        .logs
        .iter()
        .map(|l| (l.body.as_str(), l.level))
        .collect();
    assert_eq!(
        levels,
        [
            ("t-info", LogLevel::Info),
            ("t-warn", LogLevel::Warn),
            ("t-error", LogLevel::Error)
        ]
    );
    assert_eq!(
        sent.logs[0].attributes.get("sentry.origin"),
        Some(&LogValue::from("auto.log.tracing"))
    );
}

#[test]
fn each_mapping_alone() {
    let probe = |mapping: Mapping| {
        with_layer(ClientOptions::default(), mapped(mapping), || {
            tracing::debug!("m");
            sentry_core::capture_message("probe", Level::Info);
        })
    };
    let sent = probe(Mapping::IGNORE);
    assert_eq!((sent.events.len(), sent.logs.len()), (1, 0));
    assert!(sent.events[0].breadcrumbs.is_empty());

    let sent = probe(Mapping::BREADCRUMB);
    assert_eq!((sent.events.len(), sent.logs.len()), (1, 0));
    assert_eq!(sent.events[0].breadcrumbs[0].message.as_deref(), Some("m"));
    assert_eq!(sent.events[0].breadcrumbs[0].level, Level::Debug);

    let sent = probe(Mapping::EVENT);
    assert_eq!(sent.events_with_message("m").len(), 1);
    assert!(sent.events_with_message("m")[0].exception.is_empty());
    assert!(sent.logs.is_empty());

    let sent = probe(Mapping::EXCEPTION);
    let event = sent.events_with_message("m")[0];
    assert_eq!(event.exception[0].ty, "tracing_mappings");
    assert_eq!(
        event.exception[0].mechanism.as_ref().map(|m| m.ty.as_str()),
        Some("tracing")
    );

    let sent = probe(Mapping::LOG);
    assert_eq!(sent.logs.len(), 1);
    assert_eq!(sent.logs[0].level, LogLevel::Debug);
    assert_eq!(sent.events.len(), 1, "only the probe");
}

#[test]
fn fields_keep_their_types() {
    let all = Mapping::BREADCRUMB | Mapping::EVENT | Mapping::LOG;
    let sent = with_layer(ClientOptions::default(), mapped(all), || {
        tracing::warn!(
            count = 3u64,
            neg = -2i64,
            ratio = 0.5,
            ok = true,
            name = "x",
            dbg = ?(1, 2),
            shown = %"displayed",
            "typed {}",
            5
        );
        sentry_core::capture_message("probe", Level::Info);
    });
    let expected = [
        ("count", Value::U64(3)),
        ("neg", Value::I64(-2)),
        ("ratio", Value::F64(0.5)),
        ("ok", Value::Bool(true)),
        ("name", Value::from("x")),
        ("dbg", Value::from("(1, 2)")),
        ("shown", Value::from("displayed")),
    ];
    let event = sent.events_with_message("typed 5")[0];
    let crumb = &sent.events_with_message("probe")[0].breadcrumbs[0];
    assert_eq!(crumb.message.as_deref(), Some("typed 5"));
    for (key, value) in &expected {
        assert_eq!(event.extra.get(*key), Some(value), "event {key}");
        assert_eq!(crumb.data.get(*key), Some(value), "breadcrumb {key}");
    }
    assert!(!event.extra.contains_key("message"));
    let log = sent.logs_with_body("typed 5")[0];
    let attr = |key: &str| log.attributes.get(key).cloned();
    assert_eq!(attr("count"), Some(LogValue::from("3")), "u64 as string");
    assert_eq!(attr("neg"), Some(LogValue::I64(-2)));
    assert_eq!(attr("ratio"), Some(LogValue::F64(0.5)));
    assert_eq!(attr("ok"), Some(LogValue::Bool(true)));
    assert_eq!(attr("shown"), Some(LogValue::from("displayed")));
    assert_eq!(
        attr("logger.name"),
        Some(LogValue::from("tracing_mappings"))
    );
}

#[derive(Debug)]
struct QueryError(std::io::Error);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("query failed")
    }
}

impl Error for QueryError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn an_error_field_becomes_the_exception_with_its_chain() {
    let err = QueryError(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "timed out",
    ));
    let sent = with_layer(ClientOptions::default(), LayerBuilder::new(), || {
        tracing::error!(error = &err as &dyn Error, table = "users", "db down");
    });
    let event = &sent.events[0];
    assert_eq!(event.message.as_deref(), Some("db down"));
    let chain: Vec<_> = event
        .exception
        .iter()
        .map(|e| (e.ty.as_str(), e.value.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        chain,
        [("Error", "timed out"), ("QueryError", "query failed")],
        "root cause first"
    );
    let mechanism = event.exception[1].mechanism.as_ref().unwrap();
    assert_eq!(
        (mechanism.ty.as_str(), mechanism.handled),
        ("tracing", Some(true))
    );
    assert_eq!(event.extra["error"], Value::from("query failed"));
    assert_eq!(
        sent.logs[0].attributes.get("error"),
        Some(&LogValue::from("query failed"))
    );
}

#[test]
fn enclosing_span_fields_are_contexts() {
    let sent = with_layer(ClientOptions::default(), LayerBuilder::new(), || {
        let request = tracing::info_span!(
            "request",
            id = 7u64,
            path = "/cart",
            user = tracing::field::Empty
        );
        let _request = request.enter();
        request.record("user", "alice");
        let db = tracing::info_span!("db", table = "orders");
        let _db = db.enter();
        let again = tracing::info_span!("db", table = "items");
        let _again = again.enter();
        tracing::error!("in spans");
    });
    let contexts = &sent.events[0].contexts;
    let span = |name: &str| match contexts.get(name) {
        Some(Context::Other(map)) => map.clone(),
        other => panic!("no context {name}: {other:?} in {:?}", contexts.keys()),
    };
    let request = span("span:request");
    assert_eq!(request["id"], Value::U64(7));
    assert_eq!(request["path"], Value::from("/cart"));
    assert_eq!(
        request["user"],
        Value::from("alice"),
        "recorded after creation"
    );
    assert_eq!(span("span:db")["table"], Value::from("orders"));
    assert_eq!(span("span:db #2")["table"], Value::from("items"));
}

#[test]
fn a_mapper_replaces_the_conversion() {
    let builder = LayerBuilder::new().mapper(|event, mapping| {
        assert_eq!(mapping, Mapping::BREADCRUMB | Mapping::LOG);
        vec![RecordMapping::Breadcrumb(
            Breadcrumb::new(format!("mapped {}", event.metadata().name())).category("custom"),
        )]
    });
    let sent = with_layer(ClientOptions::default(), builder, || {
        tracing::info!("original");
        sentry_core::capture_message("probe", Level::Info);
    });
    assert!(sent.logs.is_empty());
    let crumb = &sent.events[0].breadcrumbs[0];
    assert_eq!(crumb.category.as_deref(), Some("custom"));
    assert!(crumb
        .message
        .as_deref()
        .unwrap()
        .starts_with("mapped event"));
}

#[test]
fn events_from_sdk_callbacks_are_not_captured() {
    let options = ClientOptions {
        before_send: Some(Arc::new(|event, _| {
            tracing::error!("from before_send");
            Some(event)
        })),
        before_send_log: Some(Arc::new(|log| {
            tracing::error!("from before_send_log");
            Some(log)
        })),
        ..Default::default()
    };
    let sent = with_layer(options, LayerBuilder::new(), || tracing::error!("app"));
    let messages: Vec<_> = sent
        .events
        .iter()
        .filter_map(|e| e.message.as_deref())
        .collect();
    assert_eq!(messages, ["app"]);
    let bodies: Vec<_> = sent.logs.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(bodies, ["app"]);
}
