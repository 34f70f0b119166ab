//! The `tracing` bridge and the tower layer, unchanged, in `trace_lifecycle = Stream`: their
//! spans arrive as span v2 items (no transaction), parented as in `Static` mode.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use sentry::integrations::tower::SentryLayer;
use sentry::{ClientOptions, TraceLifecycle};
use sentry_tests::server::{Request, TestServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing_subscriber::prelude::*;

fn stream() -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(1.0),
        trace_lifecycle: TraceLifecycle::Stream,
        ..Default::default()
    }
}

/// The streamed spans of the captured envelopes.
fn spans_of(envelopes: &[sentry::envelope::Envelope]) -> Vec<Value> {
    let mut spans = Vec::new();
    for item in envelopes.iter().flat_map(sentry::envelope::Envelope::items) {
        assert_ne!(
            item.ty(),
            sentry::envelope::ItemType::Transaction,
            "no transactions in stream mode"
        );
        if let sentry::envelope::EnvelopeItem::Raw(raw) = item {
            if raw.ty == sentry::envelope::ItemType::Span {
                let payload: Value = serde_json::from_slice(&raw.payload).expect("JSON");
                use sentry::protocol::ValueJsonExt;
                let mut header = sentry::Value::Map(raw.headers.clone()).to_json();
                header["type"] = "span".into();
                if let Err(problems) = sentry_tests::span_v2::check_span_item(&header, &payload) {
                    panic!("span item against the spec: {problems:#?}");
                }
                spans.extend(payload["items"].as_array().expect("items").iter().cloned());
            }
        }
    }
    spans
}

fn named<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    spans
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no span {name}: {spans:#?}"))
}

#[test]
fn tracing_spans_stream_with_their_tree() {
    let subscriber = tracing_subscriber::registry().with(sentry::integrations::tracing::layer());
    let (envelopes, discarded) = sentry::test::with_isolated_client(stream(), || {
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("import", file = "a.csv");
            let _outer = outer.enter();
            for row in 0..2 {
                let inner = tracing::info_span!("row", n = row);
                let _inner = inner.enter();
            }
        });
    });
    assert!(discarded.is_empty(), "{discarded:?}");
    let spans = spans_of(&envelopes);
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let import = named(&spans, "import");
    assert_eq!(import["is_segment"], true);
    assert_eq!(import["attributes"]["file"]["value"], "a.csv");
    assert_eq!(
        import["attributes"]["sentry.origin"]["value"],
        "auto.tracing"
    );
    let rows: Vec<&Value> = spans.iter().filter(|s| s["name"] == "row").collect();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row["parent_span_id"], import["span_id"]);
        assert_eq!(row["is_segment"], false);
        assert_eq!(row["attributes"]["sentry.segment.name"]["value"], "import");
        assert_eq!(row["attributes"]["n"]["type"], "integer");
    }
}

/// `follows_from` between `tracing` spans becomes a span link.
#[test]
fn a_tracing_follows_from_is_a_span_link() {
    let subscriber = tracing_subscriber::registry().with(sentry::integrations::tracing::layer());
    let (envelopes, discarded) = sentry::test::with_isolated_client(stream(), || {
        tracing::subscriber::with_default(subscriber, || {
            let scheduled = tracing::info_span!("schedule");
            drop(scheduled.enter());
            let run = tracing::info_span!(parent: None, "run");
            run.follows_from(&scheduled);
            drop(run.enter());
            drop(run);
            drop(scheduled);
        });
    });
    assert!(discarded.is_empty(), "{discarded:?}");
    let spans = spans_of(&envelopes);
    let schedule = named(&spans, "schedule");
    let run = named(&spans, "run");
    assert_eq!(run["links"][0]["span_id"], schedule["span_id"]);
    assert_eq!(run["links"][0]["trace_id"], schedule["trace_id"]);
    assert_eq!(
        run["links"][0]["attributes"]["sentry.link.type"]["value"],
        "follows_from"
    );
    assert!(schedule
        .get("links")
        .is_none_or(|l| l.as_array().is_some_and(Vec::is_empty)));
}

/// A `tracing` span's fields are its data from its start, so `ignore_spans` rules match them:
/// the matching child is not sent (counted `ignored`), its children go under its parent.
#[test]
fn ignore_spans_match_the_fields_of_tracing_spans() {
    let options = ClientOptions {
        ignore_spans: vec![sentry::IgnoreSpan::any().attribute("cache.hit", true)],
        ..stream()
    };
    let subscriber = tracing_subscriber::registry().with(sentry::integrations::tracing::layer());
    let (envelopes, discarded) = sentry::test::with_isolated_client(options, || {
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request");
            let _request = request.enter();
            let hit = tracing::info_span!("cache lookup", cache.hit = true);
            let _hit = hit.enter();
            let _miss = tracing::info_span!("query", cache.hit = false).entered();
        });
    });
    let spans = spans_of(&envelopes);
    let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(!names.contains(&"cache lookup"), "{names:?}");
    assert_eq!(
        named(&spans, "query")["parent_span_id"],
        named(&spans, "request")["span_id"]
    );
    assert!(
        discarded
            .iter()
            .any(|d| d.0 == sentry::protocol::DiscardReason::Ignored),
        "{discarded:?}"
    );
}

async fn user(Path(id): Path<u32>) -> String {
    let span = sentry::start_span("db.query", "SELECT user");
    span.set_data("user.id", id);
    span.finish();
    format!("user {id}")
}

async fn call(addr: SocketAddr, target: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer secret\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response)
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn tower_requests_stream_as_segments() {
    let receiver = TestServer::start();
    let guard = sentry::init(ClientOptions {
        dsn: Some(receiver.dsn().parse().expect("the receiver's DSN")),
        release: Some("axum-stream@1.0.0".into()),
        shutdown_timeout: Duration::from_secs(30),
        ..stream()
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("its address");
        let app = Router::new()
            .route("/users/{id}", get(user))
            .layer(SentryLayer::new());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serving");
        });
        for id in [1, 2, 3] {
            assert_eq!(call(addr, &format!("/users/{id}")).await, Some(200));
        }
        server.abort();
    });
    drop(runtime);
    drop(guard);
    receiver.wait_idle(Duration::from_millis(200), Duration::from_secs(10));
    let requests = receiver.requests();
    let items: Vec<(Value, Vec<u8>)> = requests.iter().flat_map(Request::raw_items).collect();
    assert!(items.iter().all(|(h, _)| h["type"] != "transaction"));
    let mut spans = Vec::new();
    for (header, payload) in items.iter().filter(|(h, _)| h["type"] == "span") {
        assert_eq!(
            header["content_type"],
            "application/vnd.sentry.items.span.v2+json"
        );
        let payload: Value = serde_json::from_slice(payload).expect("JSON");
        // The item as sent, header included, against the span protocol.
        if let Err(problems) = sentry_tests::span_v2::check_span_item(header, &payload) {
            panic!("span item against the spec: {problems:#?}");
        }
        spans.extend(payload["items"].as_array().expect("items").iter().cloned());
    }
    let segments: Vec<&Value> = spans.iter().filter(|s| s["is_segment"] == true).collect();
    assert_eq!(segments.len(), 3, "{spans:#?}");
    for segment in &segments {
        assert_eq!(segment["name"], "GET /users/{id}");
        assert_eq!(segment["attributes"]["sentry.op"]["value"], "http.server");
        assert_eq!(
            segment["attributes"]["sentry.segment.name.source"]["value"],
            "route"
        );
        assert_eq!(
            segment["attributes"]["sentry.release"]["value"],
            "axum-stream@1.0.0"
        );
        // The request travels as the segment's attributes, filtered as the interface is.
        let attributes = &segment["attributes"];
        assert_eq!(attributes["http.request.method"]["value"], "GET");
        assert_eq!(
            attributes["url.path"]["value"]
                .as_str()
                .map(|p| p.starts_with("/users/")),
            Some(true)
        );
        assert_eq!(attributes["http.request.header.host"]["type"], "array");
        assert_eq!(
            attributes["http.request.header.authorization"]["value"],
            serde_json::json!(["[Filtered]"])
        );
        let query = spans
            .iter()
            .find(|s| s["parent_span_id"] == segment["span_id"])
            .expect("the handler's span");
        assert_eq!(query["name"], "SELECT user");
        assert_eq!(query["trace_id"], segment["trace_id"]);
    }
}
