//! Span streaming through the real pipeline: every span item field-checked against the span
//! protocol, the same workload serialized both ways, `ignore_spans`, `before_send_span`, the
//! span-first API and the trace header.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value as Json;

use sentry_core::envelope::{Envelope, EnvelopeItem, ItemType};
use sentry_core::protocol::{
    Context, DataCategory, DiscardReason, Event, SpanStatus, TransactionSource,
};
use sentry_core::test::{with_isolated_client, Discarded};
use sentry_core::{
    start_span_with, ClientOptions, IgnoreSpan, SpanOptions, TraceLifecycle, TransactionContext,
    User,
};

fn options(lifecycle: TraceLifecycle) -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(1.0),
        trace_lifecycle: lifecycle,
        release: Some("app@1.0".into()),
        environment: Some("test".into()),
        ..Default::default()
    }
}

fn stream() -> ClientOptions {
    options(TraceLifecycle::Stream)
}

/// The span items of `envelopes`: `(envelope, item headers, spans)`.
fn span_items(
    envelopes: &[Envelope],
) -> Vec<(&Envelope, serde_json::Map<String, Json>, Vec<Json>)> {
    let mut out = Vec::new();
    for envelope in envelopes {
        for item in envelope.items() {
            if let EnvelopeItem::Raw(raw) = item {
                if raw.ty == ItemType::Span {
                    let headers = serde_json::to_value(sentry_core::protocol::value_to_json(
                        &sentry_core::Value::Map(raw.headers.clone()),
                    ))
                    .expect("headers");
                    let payload: Json = serde_json::from_slice(&raw.payload).expect("payload");
                    let items = payload["items"].as_array().expect("items").clone();
                    out.push((
                        envelope,
                        headers.as_object().expect("object").clone(),
                        items,
                    ));
                    assert_eq!(payload["version"], 2);
                }
            }
        }
    }
    out
}

fn spans(envelopes: &[Envelope]) -> Vec<Json> {
    span_items(envelopes)
        .into_iter()
        .flat_map(|(_, _, items)| items)
        .collect()
}

fn attr<'a>(span: &'a Json, key: &str) -> Option<&'a Json> {
    span["attributes"].get(key).map(|a| &a["value"])
}

fn by_name<'a>(spans: &'a [Json], name: &str) -> &'a Json {
    spans
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
}

/// A workload with a nested tree, data, a status, a renamed root and an error.
fn workload() {
    let tx = sentry_core::start_transaction(TransactionContext::new("checkout", "http.server"));
    let tx = tx.enter();
    tx.set_data("http.request.method", "POST");
    {
        let db = sentry_core::start_span("db.query", "SELECT * FROM carts").enter();
        db.set_data("db.system", "postgresql");
        db.set_data("db.rows", 3);
        let inner = sentry_core::start_span("db.fetch", "").enter();
        inner.set_data("ratio", 0.5);
        inner.set_data("tags", vec!["a", "b"]);
        drop(inner);
    }
    let failed = sentry_core::start_span("http.client", "GET /prices");
    failed.set_status(SpanStatus::InternalError);
    failed.finish();
    tx.set_transaction_name("POST /checkout", TransactionSource::Route);
}

/// Checks every span against the span v2 protocol.
fn check_protocol(envelopes: &[Envelope]) {
    let items = span_items(envelopes);
    assert!(!items.is_empty(), "no span items");
    let mut segments: HashMap<String, usize> = HashMap::new();
    for (envelope, headers, spans) in &items {
        let wire = String::from_utf8(envelope.to_vec(None)).expect("UTF-8");
        let item_header: Json =
            serde_json::from_str(wire.lines().nth(1).expect("item header")).expect("JSON");
        assert_eq!(item_header["type"], "span");
        assert_eq!(item_header["item_count"], spans.len());
        assert_eq!(headers["item_count"], spans.len());
        assert_eq!(
            headers["content_type"],
            "application/vnd.sentry.items.span.v2+json"
        );
        assert!(spans.len() <= 1000);
        let trace = envelope
            .headers()
            .trace
            .as_ref()
            .expect("trace header on span envelopes");
        let trace_id = trace["trace_id"].as_str().expect("trace_id header");
        assert!(trace.get("public_key").is_some());
        for span in spans {
            let object = span.as_object().expect("a span is an object");
            for key in object.keys() {
                assert!(
                    [
                        "trace_id",
                        "span_id",
                        "parent_span_id",
                        "name",
                        "status",
                        "is_segment",
                        "start_timestamp",
                        "end_timestamp",
                        "attributes",
                        "links"
                    ]
                    .contains(&key.as_str()),
                    "unknown field {key}"
                );
            }
            assert_eq!(span["trace_id"], trace_id, "one trace per envelope");
            assert_eq!(span["trace_id"].as_str().map(str::len), Some(32));
            assert_eq!(span["span_id"].as_str().map(str::len), Some(16));
            if let Some(parent) = span.get("parent_span_id") {
                assert_eq!(parent.as_str().map(str::len), Some(16));
            }
            assert!(!span["name"].as_str().expect("name").is_empty());
            assert!(["ok", "error"].contains(&span["status"].as_str().expect("status")));
            let is_segment = span["is_segment"].as_bool().expect("is_segment");
            let start = span["start_timestamp"].as_f64().expect("float start");
            let end = span["end_timestamp"].as_f64().expect("float end");
            assert!(start > 1.6e9 && end >= start);
            for (key, attribute) in span["attributes"].as_object().expect("attributes") {
                let ty = attribute["type"].as_str().expect("typed");
                let value = &attribute["value"];
                let ok = match ty {
                    "string" => value.as_str().is_some_and(|s| !s.is_empty()),
                    "boolean" => value.is_boolean(),
                    "integer" => value.is_i64(),
                    "double" => value.is_f64(),
                    "array" => value.is_array(),
                    _ => false,
                };
                assert!(ok, "attribute {key}: {attribute}");
            }
            for key in [
                "sentry.segment.name",
                "sentry.segment.id",
                "sentry.trace_lifecycle",
                "sentry.release",
                "sentry.environment",
                "sentry.sdk.name",
                "sentry.sdk.version",
                "sentry.origin",
                "thread.id",
                "sentry.platform",
            ] {
                assert!(attr(span, key).is_some(), "{key} missing on {span}");
            }
            assert_eq!(attr(span, "sentry.trace_lifecycle").unwrap(), "stream");
            let segment_id = attr(span, "sentry.segment.id").unwrap().as_str().unwrap();
            if is_segment {
                *segments.entry(segment_id.to_owned()).or_default() += 1;
                assert_eq!(span["span_id"], segment_id);
                assert!(attr(span, "sentry.segment.name.source").is_some());
            } else {
                segments.entry(segment_id.to_owned()).or_default();
                assert!(attr(span, "sentry.segment.name.source").is_none());
            }
        }
    }
    for (segment, count) in segments {
        assert_eq!(count, 1, "segment {segment} has {count} segment spans");
    }
}

#[test]
fn every_span_item_follows_the_protocol() {
    let (envelopes, discarded) = with_isolated_client(stream(), workload);
    assert!(discarded.is_empty(), "{discarded:?}");
    assert!(
        !envelopes
            .iter()
            .flat_map(Envelope::items)
            .any(|i| i.ty() == ItemType::Transaction),
        "no transaction in stream mode"
    );
    check_protocol(&envelopes);
    let spans = spans(&envelopes);
    assert_eq!(spans.len(), 4);
    let root = by_name(&spans, "POST /checkout");
    assert_eq!(root["is_segment"], true);
    assert_eq!(attr(root, "sentry.op").unwrap(), "http.server");
    assert_eq!(attr(root, "sentry.segment.name.source").unwrap(), "route");
    assert_eq!(attr(root, "http.request.method").unwrap(), "POST");
    let db = by_name(&spans, "SELECT * FROM carts");
    assert_eq!(db["parent_span_id"], root["span_id"]);
    assert_eq!(db["attributes"]["db.rows"]["type"], "integer");
    // A span without a name is named by its operation.
    let fetch = by_name(&spans, "db.fetch");
    assert_eq!(fetch["parent_span_id"], db["span_id"]);
    assert_eq!(fetch["attributes"]["ratio"]["type"], "double");
    assert_eq!(fetch["attributes"]["tags"]["type"], "array");
    // Every span carries the final segment name, and the header its sampling context.
    for span in &spans {
        assert_eq!(attr(span, "sentry.segment.name").unwrap(), "POST /checkout");
    }
    assert_eq!(by_name(&spans, "GET /prices")["status"], "error");
    let header = envelopes[0].headers().trace.as_ref().unwrap();
    assert_eq!(header["transaction"].as_str(), Some("POST /checkout"));
    assert_eq!(header["sampled"].as_str(), Some("true"));
    assert_eq!(header["release"].as_str(), Some("app@1.0"));
}

/// The spans of a transaction as `(span_id, parent, name, op, data, start, end)`.
type Row = (
    String,
    Option<String>,
    String,
    String,
    serde_json::Map<String, Json>,
    f64,
    f64,
);

fn rows_of_transaction(event: &Event) -> Vec<Row> {
    let json = serde_json::to_value(event).expect("transaction JSON");
    let trace = &json["contexts"]["trace"];
    let mut data = trace["data"].as_object().cloned().unwrap_or_default();
    data.remove("sentry.trace_lifecycle");
    let mut rows = vec![(
        trace["span_id"].as_str().unwrap().to_owned(),
        trace["parent_span_id"].as_str().map(str::to_owned),
        json["transaction"].as_str().unwrap().to_owned(),
        trace["op"].as_str().unwrap_or_default().to_owned(),
        data,
        json["start_timestamp"].as_f64().unwrap(),
        json["timestamp"].as_f64().unwrap(),
    )];
    for span in json["spans"].as_array().unwrap() {
        let name = span["description"]
            .as_str()
            .or(span["op"].as_str())
            .unwrap()
            .to_owned();
        rows.push((
            span["span_id"].as_str().unwrap().to_owned(),
            span["parent_span_id"].as_str().map(str::to_owned),
            name,
            span["op"].as_str().unwrap_or_default().to_owned(),
            span["data"].as_object().cloned().unwrap_or_default(),
            span["start_timestamp"].as_f64().unwrap(),
            span["timestamp"].as_f64().unwrap(),
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn rows_of_stream(spans: &[Json]) -> Vec<Row> {
    let mut rows: Vec<Row> = spans
        .iter()
        .map(|span| {
            let mut data = serde_json::Map::new();
            for (key, attribute) in span["attributes"].as_object().unwrap() {
                if key.starts_with("sentry.") || key.starts_with("thread.") {
                    continue; // the common attributes (the thread's only while profiling in Static)
                }
                data.insert(key.clone(), attribute["value"].clone());
            }
            (
                span["span_id"].as_str().unwrap().to_owned(),
                span["parent_span_id"].as_str().map(str::to_owned),
                span["name"].as_str().unwrap().to_owned(),
                attr(span, "sentry.op")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                data,
                span["start_timestamp"].as_f64().unwrap(),
                span["end_timestamp"].as_f64().unwrap(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[test]
fn the_same_workload_gives_the_same_spans_in_both_modes() {
    // The same ids both times: one fixed trace, and the span ids of the runs compared by
    // position (they are random); so compare the trees by structure and content.
    let times = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let run = |lifecycle| {
        with_isolated_client(options(lifecycle), || {
            let ctx = TransactionContext::new("job", "task").with_start_timestamp(times);
            let tx = sentry_core::start_transaction(ctx);
            tx.set_data("attempt", 2);
            let a = tx.start_child_at(
                "db.query",
                "SELECT 1",
                Some(times + Duration::from_millis(1)),
            );
            a.set_data("db.system", "sqlite");
            a.set_data("rows", vec![1, 2]);
            let b = a.start_child_at("cache.get", "", Some(times + Duration::from_millis(2)));
            b.set_data("hit", true);
            b.finish_at(times + Duration::from_millis(3));
            a.finish_at(times + Duration::from_millis(4));
            tx.finish_at(times + Duration::from_millis(5));
        })
        .0
    };
    let static_envelopes = run(TraceLifecycle::Static);
    let stream_envelopes = run(TraceLifecycle::Stream);
    let transaction = static_envelopes
        .iter()
        .flat_map(Envelope::items)
        .find_map(EnvelopeItem::as_transaction)
        .expect("a transaction");
    let from_static = rows_of_transaction(transaction);
    let from_stream = rows_of_stream(&spans(&stream_envelopes));
    assert_eq!(from_static.len(), 3);
    assert_eq!(from_stream.len(), 3);
    // Ids are random per run: map each run's ids to the order of the span names.
    let normalize = |rows: Vec<Row>| {
        let id_of: HashMap<String, String> =
            rows.iter().map(|r| (r.0.clone(), r.2.clone())).collect();
        let mut out: Vec<_> = rows
            .into_iter()
            .map(|(id, parent, name, op, data, start, end)| {
                (
                    id_of[&id].clone(),
                    parent.map(|p| id_of.get(&p).cloned().unwrap_or(p)),
                    name,
                    op,
                    data,
                    start,
                    end,
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    };
    assert_eq!(normalize(from_static), normalize(from_stream));
}

#[test]
fn ids_and_parents_are_identical_when_serialized_both_ways_from_one_run() {
    // One span model: in stream mode the ids a span reports are the ids on the wire.
    let (envelopes, _) = with_isolated_client(stream(), || {
        let tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
        let child = sentry_core::start_span("op", "child");
        let ids = (
            tx.span_id().unwrap(),
            child.span_id().unwrap(),
            tx.trace_id().unwrap(),
        );
        child.finish();
        drop(tx);
        sentry_core::set_extra("ids", format!("{} {} {}", ids.0, ids.1, ids.2));
        sentry_core::capture_message("ids", sentry_core::Level::Info);
    });
    let spans = spans(&envelopes);
    let event = envelopes
        .iter()
        .flat_map(Envelope::items)
        .find_map(EnvelopeItem::as_event)
        .expect("the event");
    let ids = event.extra["ids"].as_str().unwrap().to_owned();
    let mut parts = ids.split(' ');
    let (root, child, trace) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let child_span = by_name(&spans, "child");
    assert_eq!(child_span["span_id"], child);
    assert_eq!(child_span["parent_span_id"], root);
    assert_eq!(child_span["trace_id"], trace);
}

#[test]
fn static_transactions_say_their_lifecycle() {
    let (envelopes, _) = with_isolated_client(options(TraceLifecycle::Static), || {
        let _tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
    });
    let transaction = envelopes
        .iter()
        .flat_map(Envelope::items)
        .find_map(EnvelopeItem::as_transaction)
        .expect("a transaction");
    let Some(Context::Trace(trace)) = transaction.contexts.get("trace") else {
        panic!("no trace context")
    };
    assert_eq!(
        trace
            .data
            .get("sentry.trace_lifecycle")
            .and_then(|v| v.as_str()),
        Some("static")
    );
}

fn count(discarded: &Discarded, reason: DiscardReason) -> u64 {
    discarded
        .iter()
        .filter(|(r, c, _)| *r == reason && *c == DataCategory::Span)
        .map(|(_, _, n)| n)
        .sum()
}

#[test]
fn ignored_spans_are_not_recorded_counted_and_their_children_reparented() {
    let options = ClientOptions {
        ignore_spans: vec![
            "GET /health*".into(),
            "cache.*".into(),
            IgnoreSpan::any().attribute("sentry.op", "noise"),
        ],
        ..stream()
    };
    let (envelopes, discarded) = with_isolated_client(options, || {
        // A whole segment ignored by its name: it and its children.
        {
            let _health =
                sentry_core::start_transaction(TransactionContext::new("GET /healthz", "http"))
                    .enter();
            sentry_core::start_span("db", "SELECT 1").finish();
        }
        let _tx = sentry_core::start_transaction(TransactionContext::new("work", "task")).enter();
        {
            let cache = sentry_core::start_span("cache", "cache.get user").enter();
            // Recorded, as a child of the ignored span's parent.
            sentry_core::start_span("db", "SELECT user").finish();
            drop(cache);
        }
        sentry_core::start_span("noise", "by attribute").finish();
        let _kept = start_span_with("kept", SpanOptions::new().attribute("sentry.op", "db"));
    });
    let spans = spans(&envelopes);
    let names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for name in ["work", "SELECT user", "kept"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let root = by_name(&spans, "work");
    assert_eq!(
        by_name(&spans, "SELECT user")["parent_span_id"],
        root["span_id"]
    );
    // The health segment (2 spans), the cache span and the noise span.
    assert_eq!(
        count(&discarded, DiscardReason::Ignored),
        4,
        "{discarded:?}"
    );
}

#[test]
fn before_send_span_may_change_spans_and_a_panic_leaves_them_unchanged() {
    let options = ClientOptions {
        before_send_span: Some(Arc::new(|mut span| {
            if span.name == "boom" {
                panic!("a bug in the callback");
            }
            span.attributes.remove("secret");
            span.name = span.name.to_uppercase();
            span
        })),
        ..stream()
    };
    let (envelopes, discarded) = with_isolated_client(options, || {
        let tx = sentry_core::start_transaction(TransactionContext::new("root", "task")).enter();
        let a = sentry_core::start_span("op", "changed");
        a.set_data("secret", "hunter2");
        a.finish();
        let b = sentry_core::start_span("op", "boom");
        b.set_data("secret", "kept");
        b.finish();
        drop(tx);
    });
    assert!(discarded.is_empty(), "never dropped: {discarded:?}");
    let spans = spans(&envelopes);
    assert_eq!(spans.len(), 3);
    assert!(attr(by_name(&spans, "CHANGED"), "secret").is_none());
    assert_eq!(attr(by_name(&spans, "boom"), "secret").unwrap(), "kept");
    assert!(by_name(&spans, "ROOT")["is_segment"].as_bool().unwrap());
}

#[test]
fn the_span_first_api_parents_activates_and_links() {
    let (envelopes, _) = with_isolated_client(stream(), || {
        let root = start_span_with(
            "request",
            SpanOptions::new().attribute("sentry.op", "http.server"),
        );
        // Inactive spans leave the current span as it is: these two are siblings.
        let a = start_span_with("a", SpanOptions::new().inactive());
        let b = start_span_with("b", SpanOptions::new().inactive());
        // Active: the next span is its child.
        let c = start_span_with("c", SpanOptions::new());
        let d = start_span_with("d", SpanOptions::new());
        d.end();
        c.end();
        // An explicit parent, and a new root while `root` is current.
        let e = start_span_with("e", SpanOptions::new().parent(&a).inactive());
        let other = start_span_with("other root", SpanOptions::new().new_root().inactive());
        other.add_link_to(&root, "follows_from");
        assert_eq!(other.name().as_deref(), Some("other root"));
        e.set_attributes([("x", 1.into()), ("y", "z".into())]);
        e.remove_attribute("y");
        assert_eq!(e.attributes().len(), 1);
        drop((e, other, b, a));
        root.end();
    });
    check_protocol(&envelopes);
    let spans = spans(&envelopes);
    let id = |name: &str| by_name(&spans, name)["span_id"].clone();
    let parent = |name: &str| by_name(&spans, name)["parent_span_id"].clone();
    assert_eq!(parent("a"), id("request"));
    assert_eq!(parent("b"), id("request"));
    assert_eq!(parent("c"), id("request"));
    assert_eq!(parent("d"), id("c"));
    assert_eq!(parent("e"), id("a"));
    let other = by_name(&spans, "other root");
    assert_eq!(other["is_segment"], true);
    // A new root starts a new trace unless the scopes continue one.
    assert_ne!(other["trace_id"], by_name(&spans, "request")["trace_id"]);
    assert_eq!(
        other["links"][0]["trace_id"],
        by_name(&spans, "request")["trace_id"]
    );
    assert_eq!(other["links"][0]["span_id"], id("request"));
    assert_eq!(
        other["links"][0]["attributes"]["sentry.link.type"]["value"],
        "follows_from"
    );
    assert_eq!(attr(by_name(&spans, "e"), "x").unwrap(), 1);
    assert!(attr(by_name(&spans, "e"), "y").is_none());
}

#[test]
fn unsampled_spans_are_no_ops_counted_as_sampled_out_spans() {
    let options = ClientOptions {
        traces_sample_rate: Some(0.0),
        ..stream()
    };
    let (envelopes, discarded) = with_isolated_client(options, || {
        let root = start_span_with("request", SpanOptions::new());
        assert!(!root.is_sampled());
        let child = start_span_with("child", SpanOptions::new());
        assert!(!child.is_sampled());
        child.set_attribute("x", 1);
        assert!(child.attributes().is_empty());
        drop(child);
        drop(root);
    });
    assert!(spans(&envelopes).is_empty());
    assert_eq!(
        discarded,
        [(DiscardReason::SampleRate, DataCategory::Span, 2)],
        "spans only: streaming sends no transactions"
    );
}

#[test]
fn user_attributes_follow_send_default_pii() {
    let run = |pii: bool| {
        let options = ClientOptions {
            send_default_pii: pii,
            ..stream()
        };
        let (envelopes, _) = with_isolated_client(options, || {
            sentry_core::set_user(Some(User {
                id: Some("42".into()),
                email: Some("a@example.com".into()),
                ..Default::default()
            }));
            let _tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
        });
        spans(&envelopes).remove(0)
    };
    let with = run(true);
    assert_eq!(attr(&with, "user.id").unwrap(), "42");
    assert_eq!(attr(&with, "user.email").unwrap(), "a@example.com");
    let without = run(false);
    assert!(attr(&without, "user.id").is_none());
}

#[test]
fn spans_ending_after_their_segment_are_still_sent() {
    let (envelopes, discarded) = with_isolated_client(stream(), || {
        let tx = sentry_core::start_transaction(TransactionContext::new("t", "task"));
        let late = tx.start_child("op", "late");
        tx.finish();
        late.finish();
    });
    assert!(discarded.is_empty(), "{discarded:?}");
    let spans = spans(&envelopes);
    assert_eq!(spans.len(), 2);
    assert_eq!(
        attr(by_name(&spans, "late"), "sentry.segment.name").unwrap(),
        "t"
    );
}

#[test]
fn nested_and_long_attributes_are_cut_not_fatal() {
    let options = ClientOptions {
        max_value_length: 100,
        ..stream()
    };
    let (envelopes, _) = with_isolated_client(options, || {
        let tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
        // Deep enough to overflow a recursive drop or writer.
        let mut deep = sentry_core::Value::from(1);
        for _ in 0..200_000 {
            deep = sentry_core::Value::Array(vec![deep]);
        }
        tx.set_data("deep", deep);
        tx.set_data("long", "x".repeat(10_000));
    });
    let spans = spans(&envelopes);
    let attributes = &spans[0]["attributes"];
    assert_eq!(attributes["deep"]["type"], "string");
    assert!(attributes["deep"]["value"]
        .as_str()
        .unwrap()
        .contains(sentry_core::limits::DEPTH_MARKER));
    assert!(
        attributes["long"]["value"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= 100
    );
}

/// Tags segments with a region and panics on spans named `boom`.
struct RegionIntegration;

impl sentry_core::Integration for RegionIntegration {
    fn name(&self) -> &'static str {
        "region"
    }

    fn process_span(&self, span: &mut sentry_core::protocol::SpanV2) {
        if span.name == "boom" {
            panic!("a bug in the integration");
        }
        if span.is_segment {
            span.attributes
                .insert("cloud.region".into(), "eu-west-1".into());
        }
    }
}

#[test]
fn integrations_process_streamed_spans_before_before_send_span() {
    let options = ClientOptions {
        integrations: vec![Arc::new(RegionIntegration)],
        // Sees what the integration did.
        before_send_span: Some(Arc::new(|mut span| {
            if span.attributes.contains_key("cloud.region") {
                span.attributes.insert("seen.region".into(), true.into());
            }
            span
        })),
        ..stream()
    };
    let (envelopes, discarded) = with_isolated_client(options, || {
        let tx = sentry_core::start_transaction(TransactionContext::new("root", "task")).enter();
        sentry_core::start_span("op", "child").finish();
        sentry_core::start_span("op", "boom").finish();
        drop(tx);
    });
    assert!(discarded.is_empty(), "never dropped: {discarded:?}");
    let spans = spans(&envelopes);
    assert_eq!(spans.len(), 3);
    let root = by_name(&spans, "root");
    assert_eq!(attr(root, "cloud.region").unwrap(), "eu-west-1");
    assert_eq!(attr(root, "seen.region").unwrap(), true);
    assert!(attr(by_name(&spans, "child"), "cloud.region").is_none());
    // The panicking hook is logged; its span is still sent, with its common attributes.
    let boom = by_name(&spans, "boom");
    assert!(attr(boom, "sentry.segment.id").is_some());
}

#[test]
fn a_root_span_is_ignored_by_the_attributes_it_starts_with() {
    let options = ClientOptions {
        ignore_spans: vec![IgnoreSpan::any().attribute("job.kind", "heartbeat")],
        ..stream()
    };
    let (envelopes, discarded) = with_isolated_client(options, || {
        {
            let heartbeat = start_span_with(
                "tick",
                SpanOptions::new()
                    .new_root()
                    .attribute("job.kind", "heartbeat"),
            );
            sentry_core::start_span("db", "UPDATE beats").finish();
            drop(heartbeat);
        }
        let job = start_span_with(
            "send mail",
            SpanOptions::new().new_root().attribute("job.kind", "mail"),
        );
        drop(job);
    });
    let spans = spans(&envelopes);
    let names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["send mail"]);
    assert_eq!(attr(&spans[0], "job.kind").unwrap(), "mail");
    // The heartbeat segment and its child.
    assert_eq!(
        count(&discarded, DiscardReason::Ignored),
        2,
        "{discarded:?}"
    );
}

#[test]
fn a_sampled_out_streamed_trace_propagates_the_scopes_ids_not_a_span_that_does_not_exist() {
    let options = ClientOptions {
        traces_sample_rate: Some(0.0),
        ..stream()
    };
    let (envelopes, _) = with_isolated_client(options, || {
        sentry_core::with_isolation_scope(
            |_| {},
            || {
                let incoming = "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12";
                sentry_core::continue_trace([("sentry-trace", incoming)]);
                let before = sentry_core::get_traceparent().expect("scope trace");
                let _root = start_span_with("GET /orders", SpanOptions::new());
                let _child = start_span_with("db", SpanOptions::new());
                // The scopes' ids, now with the decision made (sampled out).
                let inside = sentry_core::get_traceparent().expect("trace");
                assert_eq!(inside, format!("{before}-0"));
                assert!(before.starts_with("771a43a4192642f0b136d5159a501700-"));
                assert!(!before.contains("b0e6f15b45c36b12"), "{before}");
            },
        );
    });
    assert!(spans(&envelopes).is_empty());
}

#[test]
fn measurements_become_attributes_of_the_segment_span_with_their_units() {
    use sentry_core::protocol::MeasurementUnit;
    let (envelopes, discarded) = with_isolated_client(stream(), || {
        let tx = sentry_core::start_transaction(TransactionContext::new("job", "task"));
        tx.set_measurement("queue.wait", 12.5, MeasurementUnit::Millisecond);
        tx.set_measurement("items", 3.0, MeasurementUnit::None);
        tx.set_attribute("items", 4);
        let child = tx.start_child("db", "SELECT 1");
        child.finish();
        tx.finish();
    });
    assert!(discarded.is_empty(), "{discarded:?}");
    check_protocol(&envelopes);
    let spans = spans(&envelopes);
    let root = by_name(&spans, "job");
    assert_eq!(
        root["attributes"]["queue.wait"],
        serde_json::json!({"type": "double", "value": 12.5, "unit": "millisecond"})
    );
    // An attribute the span set itself wins over a measurement of the same name.
    assert_eq!(
        root["attributes"]["items"],
        serde_json::json!({"type": "integer", "value": 4})
    );
    assert!(by_name(&spans, "SELECT 1")["attributes"]
        .get("queue.wait")
        .is_none());
}
