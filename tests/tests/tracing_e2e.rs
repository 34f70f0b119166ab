//! End to end: traces across services, over the HTTP transport to the loopback server, and
//! every transaction and event that arrives through Relay's normalizer.
//!
//! A "service" is a `Client` of its own (its own release) bound to scopes of its own; each
//! request it handles runs on a thread of its own in a fork of those scopes, continuing the
//! trace from the headers the caller passed (`trace_headers` on the way out, `continue_trace`
//! on the way in). The environment-variable test spawns this test binary as a child process.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use sentry::protocol::{Context, Event, Map, MeasurementUnit, TraceContext, TransactionSource};
use sentry::transport_http::HttpTransportFactory;
use sentry::{Client, ClientOptions, Level, Scopes, Span, SpanId, TransactionContext};
use sentry_tests::relay::assert_conformant;
use sentry_tests::server::{raw_event_payloads, raw_transaction_payloads, Request, TestServer};

/// The services of a test share the process's gate and default scopes: tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

const WAIT: Duration = Duration::from_secs(10);

/// Trace headers as they travel between services.
type Headers = Vec<(String, String)>;

/// A service: its client (sending to the loopback server over HTTP) bound to scopes of its own.
struct Service {
    client: Arc<Client>,
    scopes: Scopes,
}

impl Service {
    fn new(server: &TestServer, release: &str, options: ClientOptions) -> Service {
        let client = Arc::new(Client::new(ClientOptions {
            dsn: Some(server.dsn().parse().expect("the server's DSN")),
            release: Some(release.to_owned().into()),
            transport: Some(Arc::new(HttpTransportFactory)),
            ..options
        }));
        assert!(client.is_enabled());
        let scopes = Scopes::current().fork_isolation();
        scopes.configure_isolation_scope(|scope| {
            scope.clear();
            scope.set_client(Some(Arc::clone(&client)));
        });
        Service { client, scopes }
    }

    /// Handles one request on a thread of its own, in a fork of the service's scopes: the
    /// trace of `incoming` is continued and `work` runs inside the transaction `name`.
    fn handle<R: Send>(
        &self,
        name: &str,
        incoming: &Headers,
        work: impl FnOnce(&Span) -> R + Send,
    ) -> R {
        let request = self.scopes.fork_isolation();
        thread::scope(|s| {
            s.spawn(|| {
                request.bind(|| {
                    let ctx = sentry::continue_trace(
                        incoming.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                    )
                    .with_name(name)
                    .with_op("http.server")
                    .with_source(TransactionSource::Route);
                    let tx = sentry::start_transaction(ctx).enter();
                    work(&tx)
                })
            })
            .join()
            .expect("the request thread")
        })
    }

    /// Sends everything queued, the client report included.
    fn close(&self) {
        assert!(self.client.close(Some(WAIT)), "closed in time");
    }
}

fn traced() -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(1.0),
        ..Default::default()
    }
}

/// An outgoing call to `url` from the current span, in an `http.client` span: `downstream`
/// gets the trace headers. Returns the call span's id (what the callee's parent must be).
fn call(url: &str, downstream: impl FnOnce(Headers)) -> Option<SpanId> {
    let span = sentry::start_span("http.client", &format!("GET {url}")).enter();
    let headers = sentry::trace_headers(url)
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    downstream(headers);
    span.span_id()
}

fn trace_of(event: &Event) -> &TraceContext {
    match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace,
        other => panic!("no trace context in {:?}: {other:?}", event.message),
    }
}

fn transaction<'a>(all: &'a [(Event, Option<Map>)], release: &str) -> &'a (Event, Option<Map>) {
    let found: Vec<_> = all
        .iter()
        .filter(|(tx, _)| tx.release.as_deref() == Some(release))
        .collect();
    assert_eq!(found.len(), 1, "one transaction of {release}: {all:#?}");
    found[0]
}

/// Every event item with its envelope's `trace` header.
fn events_with_dsc(requests: &[Request]) -> Vec<(Event, Option<Map>)> {
    requests
        .iter()
        .filter_map(Request::parsed_envelope)
        .flat_map(|envelope| {
            envelope
                .items()
                .filter_map(|item| item.as_event().cloned())
                .map(|event| (event, envelope.headers().trace.as_deref().cloned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn dsc_str<'a>(dsc: &'a Map, key: &str) -> Option<&'a str> {
    dsc.get(key)?.as_str()
}

/// The DSC's `sample_rand` (written with six decimals, whatever the incoming baggage had).
fn sample_rand(dsc: &Map) -> Option<f64> {
    dsc_str(dsc, "sample_rand")?.parse().ok()
}

/// Relay accepts every transaction and event that arrived, unchanged.
fn assert_all_conformant(requests: &[Request]) {
    let mut payloads = raw_transaction_payloads(requests);
    payloads.extend(raw_event_payloads(requests));
    if !payloads.is_empty() {
        assert_conformant(&payloads);
    }
}

/// What the three services of [`three_services`] saw.
struct Run {
    a_call: Option<SpanId>,
    b_call: Option<SpanId>,
    b_error_span: Option<SpanId>,
}

/// A → B → C: A's transaction calls B, whose transaction calls C after capturing an error in
/// a span; C captures an error in a span of its own too. `a_options` are the head's.
fn three_services(server: &TestServer, a_options: ClientOptions) -> Run {
    let a = Service::new(server, "service-a@1.0.0", a_options);
    let b = Service::new(server, "service-b@2.0.0", traced());
    let c = Service::new(server, "service-c@3.0.0", traced());
    let mut b_call = None;
    let mut b_error_span = None;
    let a_call = a.handle("GET /checkout", &Vec::new(), |tx| {
        tx.set_measurement("cart.items", 3.0, MeasurementUnit::None);
        call("http://service-b.internal/reserve", |headers| {
            b.handle("POST /reserve", &headers, |_| {
                b_error_span = sentry::with_span("db.query", "UPDATE stock", |span| {
                    sentry::capture_message("stock is low", Level::Warning);
                    span.span_id()
                });
                b_call = call("http://service-c.internal/notify", |headers| {
                    c.handle("POST /notify", &headers, |_| {
                        sentry::with_span("queue.publish", "stock-events", |_| {
                            sentry::capture_message("notified", Level::Info);
                        });
                    });
                });
            });
        })
    });
    a.close();
    b.close();
    c.close();
    Run {
        a_call,
        b_call,
        b_error_span,
    }
}

#[test]
fn three_services_share_one_trace_and_one_frozen_dsc() {
    let _serial = serial();
    let server = TestServer::start();
    let run = three_services(&server, traced());
    server.wait_idle(Duration::from_millis(200), WAIT);
    let requests = server.requests();
    let transactions = server.transactions();
    assert_eq!(transactions.len(), 3, "{transactions:#?}");

    let (a, a_dsc) = transaction(&transactions, "service-a@1.0.0");
    let (b, b_dsc) = transaction(&transactions, "service-b@2.0.0");
    let (c, c_dsc) = transaction(&transactions, "service-c@3.0.0");
    let trace_id = trace_of(a).trace_id;
    for tx in [a, b, c] {
        assert_eq!(trace_of(tx).trace_id, trace_id, "one trace id end to end");
        for span in &tx.spans {
            assert_eq!(span.trace_id, trace_id);
        }
    }
    // Parentage across the services: each callee's root span is the caller's call span.
    assert_eq!(trace_of(a).parent_span_id, None, "A is the head");
    assert!(run.a_call.is_some() && run.b_call.is_some());
    assert_eq!(trace_of(b).parent_span_id, run.a_call);
    assert_eq!(trace_of(c).parent_span_id, run.b_call);
    assert!(a.spans.iter().any(|s| Some(s.span_id) == run.a_call));
    assert!(b.spans.iter().any(|s| Some(s.span_id) == run.b_call));
    assert_eq!(a.measurements.get("cart.items").map(|m| m.value), Some(3.0));

    // The DSC is frozen at the head: C's is A's, byte for byte, and so is B's.
    let a_dsc = a_dsc.as_ref().expect("A's transaction has a trace header");
    assert_eq!(dsc_str(a_dsc, "trace_id"), Some(&*trace_id.to_string()));
    assert_eq!(dsc_str(a_dsc, "sampled"), Some("true"));
    assert_eq!(dsc_str(a_dsc, "sample_rate"), Some("1"));
    assert_eq!(dsc_str(a_dsc, "release"), Some("service-a@1.0.0"));
    assert_eq!(dsc_str(a_dsc, "transaction"), Some("GET /checkout"));
    assert!(dsc_str(a_dsc, "sample_rand").is_some(), "{a_dsc:?}");
    assert_eq!(c_dsc.as_ref(), Some(a_dsc), "C's DSC is A's");
    assert_eq!(b_dsc.as_ref(), Some(a_dsc), "B's DSC is A's");

    // Errors captured inside spans: same DSC on their envelopes, the span's ids in the event.
    let events = events_with_dsc(&requests);
    assert_eq!(events.len(), 2, "{events:#?}");
    for (event, dsc) in &events {
        assert_eq!(dsc.as_ref(), Some(a_dsc), "every envelope of the trace");
        assert_eq!(trace_of(event).trace_id, trace_id);
    }
    let low = events
        .iter()
        .find(|(e, _)| e.message.as_deref() == Some("stock is low"))
        .expect("B's event");
    assert_eq!(Some(trace_of(&low.0).span_id), run.b_error_span);
    let b_db = b
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some("db.query"))
        .expect("B's db span");
    assert_eq!(trace_of(&low.0).parent_span_id, Some(trace_of(b).span_id));
    assert_eq!(Some(b_db.span_id), run.b_error_span);
    let notified = events
        .iter()
        .find(|(e, _)| e.message.as_deref() == Some("notified"))
        .expect("C's event");
    let c_queue = c
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some("queue.publish"));
    assert_eq!(
        Some(trace_of(&notified.0).span_id),
        c_queue.map(|s| s.span_id)
    );

    assert_eq!(server.discarded_total(), 0, "nothing dropped");
    assert_all_conformant(&requests);
}

#[test]
fn a_head_sampled_out_sends_no_transaction_anywhere_and_counts_them() {
    let _serial = serial();
    let server = TestServer::start();
    let head = ClientOptions {
        traces_sample_rate: Some(0.0),
        ..Default::default()
    };
    three_services(&server, head);
    server.wait_idle(Duration::from_millis(200), WAIT);
    let requests = server.requests();
    assert!(
        server.transactions().is_empty(),
        "B and C follow the head's decision"
    );
    // Each service counts its own transaction, and its spans plus the root: A one call span,
    // B a db span and a call span, C a queue span.
    assert_eq!(server.discarded("sample_rate", "transaction"), 3);
    assert_eq!(server.discarded("sample_rate", "span"), 2 + 3 + 2);

    // The errors still carry the trace, with the negative decision.
    let events = events_with_dsc(&requests);
    assert_eq!(events.len(), 2, "{events:#?}");
    let first = events[0].1.as_ref().expect("trace header");
    assert_eq!(dsc_str(first, "sampled"), Some("false"));
    assert_eq!(dsc_str(first, "sample_rate"), Some("0"));
    for (event, dsc) in &events {
        assert_eq!(dsc.as_ref(), Some(first), "one DSC for the whole trace");
        assert_eq!(
            trace_of(event).trace_id.to_string(),
            dsc_str(first, "trace_id").unwrap_or_default()
        );
    }
    assert_all_conformant(&requests);
}

#[test]
fn before_send_transaction_drops_and_edits() {
    let _serial = serial();
    let server = TestServer::start();
    let service = Service::new(
        &server,
        "hooks@1.0.0",
        ClientOptions {
            before_send_transaction: Some(Arc::new(|mut tx, _hint| {
                if tx.transaction.as_deref() == Some("GET /health") {
                    return None;
                }
                tx.spans.retain(|s| s.op.as_deref() != Some("noise"));
                tx.tags.insert("edited".into(), "yes".into());
                Some(tx)
            })),
            ..traced()
        },
    );
    service.handle("GET /health", &Vec::new(), |_| {
        sentry::start_span("db.ping", "SELECT 1").finish();
        sentry::start_span("db.ping", "SELECT 2").finish();
    });
    service.handle("GET /orders", &Vec::new(), |_| {
        sentry::start_span("noise", "tick").finish();
        sentry::start_span("db.query", "SELECT * FROM orders").finish();
    });
    service.close();
    server.wait_idle(Duration::from_millis(200), WAIT);

    let transactions = server.transactions();
    assert_eq!(transactions.len(), 1, "{transactions:#?}");
    let tx = &transactions[0].0;
    assert_eq!(tx.transaction.as_deref(), Some("GET /orders"));
    assert_eq!(tx.tags.get("edited").map(|v| v.as_ref()), Some("yes"));
    let ops: Vec<_> = tx.spans.iter().filter_map(|s| s.op.as_deref()).collect();
    assert_eq!(ops, ["db.query"]);
    assert_eq!(server.discarded("before_send", "transaction"), 1);
    assert_eq!(
        server.discarded("before_send", "span"),
        3,
        "two spans + the root"
    );
    assert_all_conformant(&server.requests());
}

#[test]
fn at_most_1000_spans_are_sent_and_the_rest_counted() {
    let _serial = serial();
    let server = TestServer::start();
    let service = Service::new(&server, "many@1.0.0", traced());
    service.handle("batch", &Vec::new(), |_| {
        for i in 0..1005 {
            sentry::start_span("item.process", &format!("item {i}")).finish();
        }
    });
    service.close();
    server.wait_idle(Duration::from_millis(200), WAIT);
    let transactions = server.transactions();
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].0.spans.len(), 1000);
    assert_eq!(server.discarded("buffer_overflow", "span"), 5);
    assert_all_conformant(&server.requests());
}

const INCOMING_TRACE: &str = "771a43a4192642f0b136d5159a501700";
const INCOMING_SPAN: &str = "b0e6f15b45c36b12";

fn incoming(baggage: &str) -> Headers {
    vec![
        (
            "sentry-trace".to_owned(),
            format!("{INCOMING_TRACE}-{INCOMING_SPAN}-1"),
        ),
        ("baggage".to_owned(), baggage.to_owned()),
    ]
}

/// The org-id table: (own org id, strict, incoming baggage, continued?).
#[test]
fn org_ids_decide_whether_a_trace_is_continued() {
    let _serial = serial();
    let with_org = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.5,\
                    sentry-sampled=true,sentry-org_id=1";
    let without_org =
        "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.5,sentry-sampled=true";
    let other_org = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.5,\
                     sentry-sampled=true,sentry-org_id=2";
    let table: [(Option<&str>, bool, &str, bool); 8] = [
        (Some("1"), false, with_org, true),
        (Some("1"), true, with_org, true),
        (Some("1"), false, other_org, false),
        (Some("1"), true, other_org, false),
        (Some("1"), false, without_org, true),
        (Some("1"), true, without_org, false),
        (None, false, with_org, true),
        (None, true, with_org, false),
    ];
    for (org_id, strict, baggage, continued) in table {
        let server = TestServer::start();
        let service = Service::new(
            &server,
            "org@1.0.0",
            ClientOptions {
                org_id: org_id.map(Into::into),
                strict_trace_continuation: strict,
                ..traced()
            },
        );
        service.handle("GET /x", &incoming(baggage), |_| {
            sentry::capture_message("inside", Level::Info);
        });
        service.close();
        server.wait_idle(Duration::from_millis(100), WAIT);
        let case = format!("own org {org_id:?}, strict {strict}, incoming {baggage}");
        let transactions = server.transactions();
        assert_eq!(transactions.len(), 1, "{case}");
        let (tx, dsc) = &transactions[0];
        let dsc = dsc.as_ref().expect("trace header");
        let same = trace_of(tx).trace_id.to_string() == INCOMING_TRACE;
        assert_eq!(same, continued, "{case}");
        if continued {
            assert_eq!(
                trace_of(tx)
                    .parent_span_id
                    .map(|s| s.to_string())
                    .as_deref(),
                Some(INCOMING_SPAN),
                "{case}"
            );
            assert_eq!(sample_rand(dsc), Some(0.5), "{case}");
        } else {
            // A new trace: no parent, a DSC of its own (with this SDK's org id).
            assert_eq!(trace_of(tx).parent_span_id, None, "{case}");
            assert_eq!(dsc_str(dsc, "release"), Some("org@1.0.0"), "{case}");
            assert_eq!(dsc_str(dsc, "org_id"), org_id, "{case}");
        }
        let events = events_with_dsc(&server.requests());
        assert_eq!(events.len(), 1, "{case}");
        assert_eq!(
            trace_of(&events[0].0).trace_id,
            trace_of(tx).trace_id,
            "{case}: the event follows the transaction"
        );
        assert_eq!(events[0].1.as_ref(), Some(dsc), "{case}");
    }
}

#[test]
fn without_tracing_events_carry_the_trace_and_incoming_traces_are_continued() {
    let _serial = serial();
    let server = TestServer::start();
    let service = Service::new(&server, "twp@1.0.0", ClientOptions::default());
    // A new trace of its own.
    let own = service.scopes.fork_isolation().bind(|| {
        sentry::capture_message("on its own", Level::Info);
        sentry::get_traceparent()
    });
    // Continuing the caller's trace, and passing it on.
    let baggage = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.5,\
                   sentry-sampled=true,sentry-sample_rate=1,sentry-release=upstream%401";
    let outgoing = service.handle("GET /twp", &incoming(baggage), |tx| {
        assert!(!tx.is_active(), "no transaction without a rate");
        sentry::capture_message("continued", Level::Warning);
        let headers = sentry::trace_headers("http://downstream.internal/");
        (
            headers.sentry_trace().map(str::to_owned),
            headers.baggage().map(str::to_owned),
        )
    });
    service.close();
    server.wait_idle(Duration::from_millis(200), WAIT);
    let requests = server.requests();
    assert!(server.transactions().is_empty());

    let events = events_with_dsc(&requests);
    assert_eq!(events.len(), 2, "{events:#?}");
    for (event, dsc) in &events {
        assert!(dsc.is_some(), "every event has a trace header");
        let trace = trace_of(event);
        assert_eq!(
            dsc.as_ref().and_then(|d| dsc_str(d, "trace_id")),
            Some(&*trace.trace_id.to_string())
        );
    }
    let own_event = &events
        .iter()
        .find(|(e, _)| e.message.as_deref() == Some("on its own"))
        .expect("own event")
        .0;
    assert_ne!(trace_of(own_event).trace_id.to_string(), INCOMING_TRACE);
    let own = own.expect("a sentry-trace value");
    assert!(own.starts_with(&trace_of(own_event).trace_id.to_string()));

    let (continued, dsc) = events
        .iter()
        .find(|(e, _)| e.message.as_deref() == Some("continued"))
        .expect("continued event");
    assert_eq!(trace_of(continued).trace_id.to_string(), INCOMING_TRACE);
    assert_eq!(
        trace_of(continued)
            .parent_span_id
            .map(|s| s.to_string())
            .as_deref(),
        Some(INCOMING_SPAN)
    );
    let dsc = dsc.as_ref().expect("trace header");
    assert_eq!(
        dsc_str(dsc, "release"),
        Some("upstream@1"),
        "frozen on arrival"
    );
    assert_eq!(sample_rand(dsc), Some(0.5));
    let (sentry_trace, baggage) = outgoing;
    let sentry_trace = sentry_trace.expect("propagated without tracing");
    assert!(sentry_trace.starts_with(INCOMING_TRACE), "{sentry_trace}");
    let baggage = baggage.expect("baggage");
    assert!(baggage.contains("sentry-release=upstream%401"), "{baggage}");
    assert_all_conformant(&requests);
}

/// Set in the environment of the child process of
/// [`a_child_process_continues_the_trace_of_its_environment`].
const CHILD_DSN: &str = "TRACING_E2E_CHILD_DSN";

/// The child: `init` reads `SENTRY_TRACE`/`SENTRY_BAGGAGE`; an event and a transaction follow.
#[test]
#[ignore = "the child process of a_child_process_continues_the_trace_of_its_environment"]
fn env_child_process() {
    let Ok(dsn) = std::env::var(CHILD_DSN) else {
        return;
    };
    let guard = sentry::init((
        dsn.as_str(),
        ClientOptions {
            release: Some("child@1.0.0".into()),
            traces_sample_rate: Some(1.0),
            ..Default::default()
        },
    ));
    assert!(guard.is_enabled());
    sentry::capture_message("from the child", Level::Info);
    let tx = sentry::start_transaction(TransactionContext::new("child job", "task")).enter();
    sentry::start_span("work", "step").finish();
    drop(tx);
    drop(guard);
}

/// Runs [`env_child_process`] with `SENTRY_TRACE`/`SENTRY_BAGGAGE` set, reporting to `server`.
fn run_env_child(server: &TestServer) {
    let baggage = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.5,\
                   sentry-sampled=true,sentry-sample_rate=1,sentry-release=parent%401";
    let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["env_child_process", "--exact", "--ignored", "--nocapture"])
        .env(CHILD_DSN, server.dsn())
        .env(
            "SENTRY_TRACE",
            format!("{INCOMING_TRACE}-{INCOMING_SPAN}-1"),
        )
        .env("SENTRY_BAGGAGE", baggage)
        .status()
        .expect("the child runs");
    assert!(status.success(), "{status}");
    server.wait_idle(Duration::from_millis(200), WAIT);
}

#[test]
fn a_child_process_continues_the_trace_of_its_environment() {
    let _serial = serial();
    let server = TestServer::start();
    run_env_child(&server);
    let requests = server.requests();
    let events = events_with_dsc(&requests);
    assert_eq!(events.len(), 1, "{events:#?}");
    let (event, dsc) = &events[0];
    assert_eq!(trace_of(event).trace_id.to_string(), INCOMING_TRACE);
    assert_eq!(
        trace_of(event)
            .parent_span_id
            .map(|s| s.to_string())
            .as_deref(),
        Some(INCOMING_SPAN)
    );
    let dsc = dsc.as_ref().expect("trace header");
    assert_eq!(
        dsc_str(dsc, "release"),
        Some("parent@1"),
        "the parent's DSC"
    );
    assert_eq!(sample_rand(dsc), Some(0.5));
    assert_eq!(server.transactions().len(), 1);
    assert_all_conformant(&requests);
}

/// A transaction a child process starts with `TransactionContext::new` should belong to the
/// trace of its environment too, as its events do.
#[test]
fn a_child_process_transaction_continues_the_trace_of_its_environment() {
    let _serial = serial();
    let server = TestServer::start();
    run_env_child(&server);
    let events = events_with_dsc(&server.requests());
    let transactions = server.transactions();
    assert_eq!(transactions.len(), 1, "{transactions:#?}");
    let (tx, tx_dsc) = &transactions[0];
    assert_eq!(
        trace_of(tx).trace_id.to_string(),
        INCOMING_TRACE,
        "the child's transaction continues its parent's trace"
    );
    assert_eq!(
        trace_of(tx)
            .parent_span_id
            .map(|s| s.to_string())
            .as_deref(),
        Some(INCOMING_SPAN)
    );
    assert_eq!(tx_dsc.as_ref(), events[0].1.as_ref(), "one DSC");
}
