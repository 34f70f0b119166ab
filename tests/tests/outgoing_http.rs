//! Outgoing HTTP requests through the `reqwest` (async and blocking) and `ureq` adapters,
//! against real servers on
//! 127.0.0.1: the `http.client` span (a child of the current span, its data and status), the
//! trace headers (only for propagation targets, `baggage` merged), the `http` breadcrumb, and
//! one trace across two services, sent over HTTP and accepted by Relay's normalizer.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use sentry::integrations::reqwest::SendTraced;
use sentry::integrations::ureq::SentryMiddleware;
use sentry::protocol::{Context, Event, Span as WireSpan, SpanStatus};
use sentry::test::with_isolated_client;
use sentry::transport_http::HttpTransportFactory;
use sentry::{Client, ClientOptions, Level, Scopes, TracePropagationTargets, TransactionContext};
use sentry_tests::relay::assert_conformant;
use sentry_tests::server::{raw_event_payloads, raw_transaction_payloads, Behavior, Request};
use sentry_tests::{Response, TestServer};

const WAIT: Duration = Duration::from_secs(10);

/// The tests that use the loopback servers' request lists one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Tracing on; trace headers only for URLs under `/traced` of `server`.
fn options(server: &TestServer) -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(1.0),
        trace_propagation_targets: TracePropagationTargets::from_iter([format!(
            "{}/traced",
            server.url()
        )]),
        ..Default::default()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .middleware(SentryMiddleware::new())
        .build()
        .into()
}

fn transactions_and_events(envelopes: &[sentry::envelope::Envelope]) -> (Vec<Event>, Vec<Event>) {
    let items = || envelopes.iter().flat_map(|e| e.items());
    (
        items()
            .filter_map(|i| i.as_transaction().cloned())
            .collect(),
        items().filter_map(|i| i.as_event().cloned()).collect(),
    )
}

fn trace_context(tx: &Event) -> &sentry::protocol::TraceContext {
    match tx.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace,
        other => panic!("no trace context: {other:?}"),
    }
}

fn span_named<'a>(tx: &'a Event, name: &str) -> &'a WireSpan {
    tx.spans
        .iter()
        .find(|s| s.description.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no span {name}: {:#?}", tx.spans))
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.header(name)
}

/// Checks what both adapters must do, from the requests `server` received and what the client
/// sent. `origin` is the adapter's.
fn check_requests_spans_and_breadcrumbs(
    server: &TestServer,
    envelopes: &[sentry::envelope::Envelope],
    origin: &str,
    sees_fragment: bool,
) {
    let requests = server.take_requests();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    let (transactions, events) = transactions_and_events(envelopes);
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0];
    let tx_trace = trace_context(tx);
    let base = server.url();

    // The traced call: its headers continue the trace from its own span.
    let traced = requests
        .iter()
        .find(|r| r.path.starts_with("/traced/"))
        .unwrap();
    let span = span_named(tx, &format!("GET {base}/traced/items"));
    assert_eq!(span.op.as_deref(), Some("http.client"));
    assert_eq!(
        span.parent_span_id,
        Some(tx_trace.span_id),
        "a child of the current span"
    );
    assert_eq!(span.trace_id, tx_trace.trace_id);
    assert_eq!(span.origin.as_deref(), Some(origin));
    assert_eq!(
        header(traced, "sentry-trace"),
        Some(format!("{}-{}-1", tx_trace.trace_id, span.span_id).as_str())
    );
    let baggage = header(traced, "baggage").unwrap();
    assert!(baggage.starts_with("othervendor=1,"), "{baggage}");
    assert!(
        baggage.contains(&format!("sentry-trace_id={}", tx_trace.trace_id)),
        "{baggage}"
    );
    assert_eq!(span.data["http.request.method"], "GET".into());
    assert_eq!(span.data["url"], format!("{base}/traced/items").into());
    assert_eq!(span.data["http.query"], "page=2".into());
    if sees_fragment {
        assert_eq!(span.data["http.fragment"], "top".into());
    } else {
        // Never sent, so not in what the client hands its middleware (ureq's `http::Uri`).
        assert!(!span.data.contains_key("http.fragment"));
    }
    assert_eq!(span.data["http.response.status_code"], 200.into());
    assert_eq!(span.status, Some(SpanStatus::Ok));

    // Not a propagation target: a span all the same, no trace headers, its baggage untouched.
    let plain = requests.iter().find(|r| r.path == "/plain").unwrap();
    assert_eq!(header(plain, "sentry-trace"), None);
    assert_eq!(header(plain, "traceparent"), None);
    assert_eq!(header(plain, "baggage"), Some("othervendor=1"));
    let span = span_named(tx, &format!("POST {base}/plain"));
    assert_eq!(span.parent_span_id, Some(tx_trace.span_id));
    assert_eq!(span.data["http.request.method"], "POST".into());

    // A server error: the span's status follows the code.
    let failed = span_named(tx, &format!("GET {base}/traced/broken"));
    assert_eq!(failed.data["http.response.status_code"], 503.into());
    assert_eq!(failed.status, Some(SpanStatus::Unavailable));

    // One `http` breadcrumb per request, on the event captured after them.
    assert_eq!(events.len(), 1);
    let crumbs: Vec<_> = events[0]
        .breadcrumbs
        .iter()
        .filter(|c| c.ty == "http")
        .collect();
    assert_eq!(crumbs.len(), 3, "{crumbs:#?}");
    assert_eq!(crumbs[0].category.as_deref(), Some("http"));
    assert_eq!(crumbs[0].data["url"], format!("{base}/traced/items").into());
    assert_eq!(crumbs[0].data["method"], "GET".into());
    assert_eq!(crumbs[0].data["status_code"], 200.into());
    assert_eq!(crumbs[0].origin.as_deref(), Some(origin));
    assert_eq!(crumbs[2].data["status_code"], 503.into());
    assert_eq!(crumbs[2].level, Level::Error);
}

#[test]
fn ureq_requests_are_spans_with_headers_for_targets_only() {
    let _serial = serial();
    let server = TestServer::start();
    let base = server.url();
    let agent = agent();
    let (envelopes, _) = with_isolated_client(options(&server), || {
        let tx = sentry::start_transaction(TransactionContext::new("sync job", "task")).enter();
        agent
            .get(format!("{base}/traced/items?page=2#top"))
            .header("baggage", "othervendor=1")
            .call()
            .expect("200");
        agent
            .post(format!("{base}/plain"))
            .header("baggage", "othervendor=1")
            .send_empty()
            .expect("200");
        server.set_behavior(Behavior::status(503));
        // ureq returns 4xx and 5xx as errors by default: the span still has the code.
        let err = agent
            .get(format!("{base}/traced/broken"))
            .call()
            .unwrap_err();
        assert!(matches!(err, ureq::Error::StatusCode(503)));
        server.set_behavior(Behavior::ok());
        sentry::capture_message("after the calls", Level::Info);
        drop(tx);
    });
    check_requests_spans_and_breadcrumbs(&server, &envelopes, "auto.http.ureq", false);
}

/// The three calls of the `reqwest` tests, through `send`: (method, URL, headers) → status.
fn three_calls(server: &TestServer, send: impl Fn(reqwest::Method, String, HeaderMap) -> u16) {
    let base = server.url();
    let mut baggage = HeaderMap::new();
    baggage.insert("baggage", HeaderValue::from_static("othervendor=1"));
    let url = format!("{base}/traced/items?page=2#top");
    assert_eq!(send(reqwest::Method::GET, url, baggage.clone()), 200);
    send(reqwest::Method::POST, format!("{base}/plain"), baggage);
    server.set_behavior(Behavior::status(503));
    let url = format!("{base}/traced/broken");
    assert_eq!(send(reqwest::Method::GET, url, HeaderMap::new()), 503);
    server.set_behavior(Behavior::ok());
}

/// Runs `calls` in a transaction, then checks what the `reqwest` adapter sent and recorded.
fn reqwest_test(calls: impl FnOnce(&TestServer)) {
    let _serial = serial();
    let server = TestServer::start();
    let (envelopes, _) = with_isolated_client(options(&server), || {
        let tx = sentry::start_transaction(TransactionContext::new("job", "task")).enter();
        calls(&server);
        sentry::capture_message("after the calls", Level::Info);
        drop(tx);
    });
    check_requests_spans_and_breadcrumbs(&server, &envelopes, "auto.http.reqwest", true);
}

#[test]
fn reqwest_requests_are_spans_with_headers_for_targets_only() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    reqwest_test(|server| {
        three_calls(server, |method, url, headers| {
            // The span starts when `send_traced` is called, before the future is polled.
            let sent = client.request(method, url).headers(headers).send_traced();
            runtime.block_on(sent).unwrap().status().as_u16()
        });
    });
}

#[test]
fn blocking_reqwest_requests_are_traced_alike() {
    use sentry::integrations::reqwest::blocking::SendTraced as _;
    let client = reqwest::blocking::Client::new();
    reqwest_test(|server| {
        three_calls(server, |method, url, headers| {
            let sent = client.request(method, url).headers(headers).send_traced();
            sent.unwrap().status().as_u16()
        });
    });
}

/// A request that gets no answer in time: its span ends `deadline_exceeded`, its breadcrumb
/// has no status code.
#[test]
fn a_timed_out_request_ends_its_span_deadline_exceeded() {
    let _serial = serial();
    let server = TestServer::start();
    server.set_behavior(Behavior::Hang);
    let url = format!("{}/traced/slow", server.url());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .middleware(SentryMiddleware::new())
        .timeout_global(Some(Duration::from_millis(200)))
        .build()
        .into();
    let (envelopes, _) = with_isolated_client(options(&server), || {
        let tx = sentry::start_transaction(TransactionContext::new("job", "task")).enter();
        assert!(matches!(
            agent.get(&url).call(),
            Err(ureq::Error::Timeout(_))
        ));
        sentry::capture_message("after the call", Level::Info);
        drop(tx);
    });
    let (transactions, events) = transactions_and_events(&envelopes);
    let span = span_named(&transactions[0], &format!("GET {url}"));
    assert_eq!(span.status, Some(SpanStatus::DeadlineExceeded));
    assert!(!span.data.contains_key("http.response.status_code"));
    let crumb = events[0]
        .breadcrumbs
        .iter()
        .find(|c| c.ty == "http")
        .unwrap();
    assert!(!crumb.data.contains_key("status_code"));
    assert_eq!(crumb.level, Level::Error);
}

/// A service sending to the ingest server over HTTP, in scopes of its own.
struct Service {
    client: Arc<Client>,
    scopes: Scopes,
}

impl Service {
    fn new(ingest: &TestServer, release: &str, options: ClientOptions) -> Service {
        let client = Arc::new(Client::new(ClientOptions {
            dsn: Some(ingest.dsn().parse().unwrap()),
            release: Some(release.to_owned().into()),
            transport: Some(Arc::new(HttpTransportFactory)),
            ..options
        }));
        let scopes = Scopes::current().fork_isolation();
        scopes.configure_isolation_scope(|scope| scope.set_client(Some(Arc::clone(&client))));
        Service { client, scopes }
    }
}

/// Service A calls service B through the `ureq` middleware; B continues the trace from the
/// headers it received. Both send over HTTP: one trace, B's transaction a child of A's
/// `http.client` span, every payload accepted by Relay's normalizer.
#[test]
fn two_services_make_one_trace() {
    let _serial = serial();
    let ingest = TestServer::start();
    let downstream = TestServer::start();
    downstream.set_behavior(Behavior::Respond(Response::new(201)));
    let a = Service::new(&ingest, "service-a@1", options(&downstream));
    let b = Service::new(&ingest, "service-b@1", options(&downstream));
    let agent = agent();

    a.scopes.bind(|| {
        let tx =
            sentry::start_transaction(TransactionContext::new("POST /checkout", "http.server"))
                .enter();
        agent
            .post(format!("{}/traced/reserve", downstream.url()))
            .send_empty()
            .unwrap();
        drop(tx);
    });
    // B handles the request A sent, from its headers.
    let received = downstream.take_requests();
    assert_eq!(received.len(), 1);
    let headers: Vec<(String, String)> = received[0].headers.clone();
    b.scopes.fork_isolation().bind(|| {
        let ctx = sentry::continue_trace(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .with_name("POST /reserve")
            .with_op("http.server");
        let tx = sentry::start_transaction(ctx).enter();
        sentry::capture_message("stock reserved", Level::Info);
        drop(tx);
    });
    assert!(a.client.close(Some(WAIT)));
    assert!(b.client.close(Some(WAIT)));

    let requests = ingest.wait_for_requests(3, WAIT);
    let transactions = raw_transaction_payloads(&requests);
    let events = raw_event_payloads(&requests);
    assert_eq!((transactions.len(), events.len()), (2, 1), "{requests:#?}");
    let by_release = |release: &str| {
        transactions
            .iter()
            .find(|t| t["release"] == release)
            .unwrap_or_else(|| panic!("no transaction of {release}"))
    };
    let (tx_a, tx_b) = (by_release("service-a@1"), by_release("service-b@1"));
    let trace_id = &tx_a["contexts"]["trace"]["trace_id"];
    let call = tx_a["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["op"] == "http.client")
        .expect("A's http.client span");
    assert_eq!(&tx_b["contexts"]["trace"]["trace_id"], trace_id);
    assert_eq!(events[0]["contexts"]["trace"]["trace_id"], *trace_id);
    assert_eq!(
        tx_b["contexts"]["trace"]["parent_span_id"], call["span_id"],
        "B's transaction is a child of A's call"
    );
    assert_eq!(call["data"]["http.response.status_code"], 201);
    let mut payloads = transactions.clone();
    payloads.extend(events);
    assert_conformant(&payloads);
}
