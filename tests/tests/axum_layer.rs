//! End to end: an axum app behind `SentryLayer`, served over TCP on 127.0.0.1 by a tokio
//! runtime, called by raw HTTP/1.1 clients, reporting over the HTTP transport to the loopback
//! server; transactions and events checked field by field and by Relay's normalizer.
//!
//! The SDK is initialised with `sentry::init` (the global client), so the tests take turns.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use sentry::integrations::tower::{RequestBodyLayer, SentryLayer};
use sentry::{BindScopes, ClientOptions, Scopes, SessionMode};
use sentry_tests::relay::assert_conformant;
use sentry_tests::server::{raw_event_payloads, raw_transaction_payloads, Request, TestServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The trace id every caller of a test uses; each caller has its own span id.
const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";

/// The caller's span id for request number `n`.
fn caller_span(n: usize) -> String {
    format!("{:016x}", 0xb0e6_f15b_0000_0000_u64 + n as u64)
}

// ---------------------------------------------------------------------------------------------
// The application
// ---------------------------------------------------------------------------------------------

/// Tags the request's scope with its `x-request-n` header, gives other requests time to run
/// on the same threads, then (every fourth request, to keep the test short) captures an
/// error from a spawned task bound to the request's scopes.
async fn user(Path(id): Path<u32>, headers: HeaderMap) -> String {
    let n = headers
        .get("x-request-n")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    sentry::set_tag("request.n", n.clone());
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    let report = n.parse::<usize>().is_ok_and(|n| n % 4 == 0);
    let spawned = tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            if report {
                sentry::capture_error(&io::Error::other(format!("user {id}")));
            }
        }
        .bind_scopes(Scopes::current()),
    );
    spawned.await.expect("the spawned task");
    format!("user {id} request {n}")
}

async fn echo() -> &'static str {
    sentry::capture_message("echo", sentry::Level::Warning);
    "echo"
}

async fn order(body: String) -> String {
    sentry::capture_message("order", sentry::Level::Warning);
    body.len().to_string()
}

async fn fail() -> (StatusCode, &'static str) {
    (StatusCode::INTERNAL_SERVER_ERROR, "down")
}

async fn broken() -> StatusCode {
    let err = "x".parse::<u8>().unwrap_err();
    sentry::capture_error(&err);
    StatusCode::BAD_REQUEST
}

async fn panics() -> &'static str {
    sentry::set_tag("before.panic", "yes");
    let empty: Vec<u32> = Vec::new();
    let _ = empty[0];
    "unreachable"
}

fn app(layer: SentryLayer) -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route("/echo", get(echo).options(echo))
        .route("/fail", get(fail))
        .route("/broken", get(broken))
        .route("/panic", get(panics))
        .route("/orders", axum::routing::post(order))
        .layer(RequestBodyLayer::new(64))
        .layer(layer)
}

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

/// A server-side run: `sentry::init` against the loopback receiver, the app on a tokio
/// runtime, `calls` made by the test's clients; returns what the receiver got once the
/// guard of `init` closed the client.
fn run<F, Fut>(options: ClientOptions, layer: SentryLayer, calls: F) -> Vec<Request>
where
    F: FnOnce(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let receiver = TestServer::start();
    let guard = sentry::init(ClientOptions {
        dsn: Some(receiver.dsn().parse().expect("the receiver's DSN")),
        release: Some("axum-test@1.0.0".into()),
        // Time for everything queued to reach the receiver at close.
        shutdown_timeout: Duration::from_secs(30),
        ..options
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("its address");
        let server = tokio::spawn(async move {
            // With the peer's address in each request, as most axum apps are served.
            let app = app(layer).into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.expect("serving");
        });
        calls(addr).await;
        server.abort();
    });
    drop(runtime);
    drop(guard); // close: flushes everything, the session aggregates included
    receiver.wait_idle(Duration::from_millis(200), Duration::from_secs(10));
    receiver.requests()
}

/// One HTTP/1.1 request; the status code, or `None` when the server closed the connection
/// without answering.
async fn call(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Option<u16> {
    call_with_body(addr, method, target, headers, "").await
}

/// [`call`] with a request body.
async fn call_with_body(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1)?.parse().ok()
}

fn traced() -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(1.0),
        ..Default::default()
    }
}

fn items_of(requests: &[Request], ty: &str) -> Vec<Value> {
    requests
        .iter()
        .flat_map(Request::raw_items)
        .filter(|(header, _)| header["type"] == ty)
        .map(|(_, payload)| serde_json::from_slice(&payload).expect("JSON"))
        .collect()
}

fn conformant(requests: &[Request]) {
    let mut payloads = raw_transaction_payloads(requests);
    payloads.extend(raw_event_payloads(requests));
    assert_conformant(&payloads);
}

fn named<'a>(transactions: &'a [Value], name: &str) -> Vec<&'a Value> {
    transactions
        .iter()
        .filter(|t| t["transaction"] == name)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// 200 concurrent requests on four worker threads: each transaction continues its own
/// caller's span and carries its own request's tag and URL; each event (captured in a task
/// the handler spawned, bound to the request's scopes) carries its own request's tag, trace,
/// span and URL: no tag leaks into another request.
#[test]
fn concurrent_requests_keep_their_scopes_and_traces() {
    let _serial = serial();
    const N: usize = 200;
    let requests = run(traced(), SentryLayer::new(), |addr| async move {
        let mut calls = Vec::new();
        for n in 0..N {
            calls.push(tokio::spawn(async move {
                let trace = format!("{TRACE_ID}-{}-1", caller_span(n));
                let n_text = n.to_string();
                let target = format!("/users/{}", 1000 + n);
                let headers = [
                    ("sentry-trace", trace.as_str()),
                    ("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=1,sentry-sample_rand=0.5"),
                    ("x-request-n", n_text.as_str()),
                ];
                call(addr, "GET", &target, &headers).await
            }));
        }
        for c in calls {
            assert_eq!(c.await.expect("the client"), Some(200));
        }
    });

    let transactions = items_of(&requests, "transaction");
    let events = items_of(&requests, "event");
    let reports = items_of(&requests, "client_report");
    assert_eq!(
        transactions.len(),
        N,
        "one transaction per request; {reports:?}"
    );
    assert_eq!(events.len(), N / 4, "one event per fourth request");

    let mut seen = BTreeMap::new();
    for tx in &transactions {
        assert_eq!(tx["transaction"], "GET /users/{id}");
        assert_eq!(tx["transaction_info"]["source"], "route");
        let trace = &tx["contexts"]["trace"];
        assert_eq!(trace["op"], "http.server");
        assert_eq!(trace["origin"], "auto.http.tower");
        assert_eq!(trace["status"], "ok");
        assert_eq!(trace["trace_id"], TRACE_ID);
        assert_eq!(trace["data"]["http.response.status_code"], 200);
        let n: usize = tx["tags"]["request.n"]
            .as_str()
            .expect("the tag")
            .parse()
            .unwrap();
        assert_eq!(trace["parent_span_id"], caller_span(n), "request {n}");
        assert_eq!(
            tx["request"]["url"].as_str().unwrap().rsplit('/').next(),
            Some((1000 + n).to_string().as_str())
        );
        assert!(
            seen.insert(n, trace["span_id"].clone()).is_none(),
            "request {n} twice"
        );
    }
    for event in &events {
        let n: usize = event["tags"]["request.n"]
            .as_str()
            .expect("the tag")
            .parse()
            .unwrap();
        let message = event["exception"]["values"][0]["value"].as_str().unwrap();
        assert_eq!(
            message,
            format!("user {}", 1000 + n),
            "request {n}'s tag on another's event"
        );
        assert_eq!(event["contexts"]["trace"]["trace_id"], TRACE_ID);
        assert_eq!(
            event["contexts"]["trace"]["span_id"], seen[&n],
            "request {n}"
        );
        assert_eq!(event["transaction"], "GET /users/{id}");
        assert!(event["request"]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/users/{}", 1000 + n)));
    }
    conformant(&requests[..requests.len().min(40)]);
}

/// Route templates with source `route`; a request no route matched is named by its path with
/// source `url` and gets `not_found`; `OPTIONS` gets no transaction unless asked for.
#[test]
fn transaction_names_statuses_and_options() {
    let _serial = serial();
    let requests = run(traced(), SentryLayer::new(), |addr| async move {
        assert_eq!(call(addr, "GET", "/users/7", &[]).await, Some(200));
        assert_eq!(call(addr, "GET", "/nowhere/7", &[]).await, Some(404));
        assert_eq!(call(addr, "GET", "/broken", &[]).await, Some(400));
        assert_eq!(call(addr, "OPTIONS", "/echo", &[]).await, Some(200));
    });
    let transactions = items_of(&requests, "transaction");
    let users = named(&transactions, "GET /users/{id}");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["transaction_info"]["source"], "route");
    let broken = named(&transactions, "GET /broken");
    assert_eq!(broken[0]["contexts"]["trace"]["status"], "invalid_argument");
    assert_eq!(
        broken[0]["contexts"]["trace"]["data"]["http.response.status_code"],
        400
    );
    // axum's fallback is wrapped too, but has no route template: named by its path.
    let nowhere = named(&transactions, "GET /nowhere/7");
    assert_eq!(nowhere[0]["transaction_info"]["source"], "url");
    assert_eq!(nowhere[0]["contexts"]["trace"]["status"], "not_found");
    assert!(transactions
        .iter()
        .all(|t| !t["transaction"].as_str().unwrap().starts_with("OPTIONS")));
    assert_eq!(transactions.len(), 3);
    // The OPTIONS request still had its scope and request data.
    let events = items_of(&requests, "event");
    let echo = events
        .iter()
        .find(|e| e["message"] == "echo" || e["logentry"]["formatted"] == "echo");
    assert_eq!(
        echo.expect("the echo event")["request"]["method"],
        "OPTIONS"
    );
    conformant(&requests);

    let requests = run(
        traced(),
        SentryLayer::new().trace_options_requests(true),
        |addr| async move {
            assert_eq!(call(addr, "OPTIONS", "/echo", &[]).await, Some(200));
        },
    );
    let transactions = items_of(&requests, "transaction");
    assert_eq!(named(&transactions, "OPTIONS /echo").len(), 1);
}

/// What of the request is sent, with and without `send_default_pii`.
#[test]
fn request_data_pii_table() {
    let _serial = serial();
    let headers = [
        ("authorization", "Bearer s3cr3t"),
        ("cookie", "theme=dark; sessionid=abc123"),
        ("x-forwarded-for", "203.0.113.7"),
        ("x-real-ip", "203.0.113.8"),
        ("x-api-key", "k3y"),
        ("user-agent", "pii-test/1.0"),
    ];
    let mut seen = Vec::new();
    for pii in [false, true] {
        let options = ClientOptions {
            send_default_pii: pii,
            ..traced()
        };
        let requests = run(options, SentryLayer::new(), |addr| async move {
            let target = "/echo?q=rust&access_token=t0k&page=2";
            assert_eq!(call(addr, "GET", target, &headers).await, Some(200));
        });
        let events = items_of(&requests, "event");
        let transactions = items_of(&requests, "transaction");
        assert_eq!((events.len(), transactions.len()), (1, 1));
        // The transaction carries the same request interface as the event.
        assert_eq!(events[0]["request"], transactions[0]["request"]);
        conformant(&requests);
        seen.push(events[0]["request"].clone());
    }
    let filtered = Value::from("[Filtered]");
    let absent = Value::Null;
    // (field, without send_default_pii, with send_default_pii)
    let table: &[(&str, Value, Value)] = &[
        ("/method", "GET".into(), "GET".into()),
        (
            "/query_string",
            "q=rust&access_token=[Filtered]&page=2".into(),
            "q=rust&access_token=[Filtered]&page=2".into(),
        ),
        ("/headers/authorization", filtered.clone(), filtered.clone()),
        ("/headers/x-api-key", filtered.clone(), filtered.clone()),
        ("/headers/cookie", filtered.clone(), absent.clone()),
        (
            "/cookies",
            absent.clone(),
            "theme=dark; sessionid=[Filtered]".into(),
        ),
        (
            "/headers/x-forwarded-for",
            filtered.clone(),
            "203.0.113.7".into(),
        ),
        ("/headers/x-real-ip", filtered.clone(), "203.0.113.8".into()),
        (
            "/headers/user-agent",
            "pii-test/1.0".into(),
            "pii-test/1.0".into(),
        ),
        ("/data", absent.clone(), absent.clone()),
        ("/env/REMOTE_ADDR", absent.clone(), "127.0.0.1".into()),
    ];
    for (field, without, with) in table {
        let got = |request: &Value| request.pointer(field).cloned().unwrap_or(Value::Null);
        assert_eq!(&got(&seen[0]), without, "{field} without send_default_pii");
        assert_eq!(&got(&seen[1]), with, "{field} with send_default_pii");
    }
    assert!(seen[0]["url"].as_str().unwrap().ends_with("/echo"));
}

/// A panicking handler: the panic's event carries the request, the scope's tag and the
/// request's trace; the transaction is still sent, `internal_error`; the server closes the
/// connection as it would without the layer, and serves the next request.
#[test]
fn panic_in_handler_reports_event_and_transaction() {
    let _serial = serial();
    let trace = format!("{TRACE_ID}-{}-1", caller_span(1));
    let requests = run(traced(), SentryLayer::new(), |addr| async move {
        assert_eq!(
            call(addr, "GET", "/panic", &[("sentry-trace", trace.as_str())]).await,
            None
        );
        assert_eq!(call(addr, "GET", "/echo", &[]).await, Some(200));
    });
    let events = items_of(&requests, "event");
    let panic = events
        .iter()
        .find(|e| e["exception"]["values"][0]["mechanism"]["type"] == "panic")
        .expect("the panic event");
    assert_eq!(
        panic["exception"]["values"][0]["mechanism"]["handled"],
        false
    );
    assert_eq!(panic["tags"]["before.panic"], "yes");
    assert_eq!(panic["request"]["method"], "GET");
    assert!(panic["request"]["url"]
        .as_str()
        .unwrap()
        .ends_with("/panic"));
    assert_eq!(panic["contexts"]["trace"]["trace_id"], TRACE_ID);
    assert_eq!(panic["transaction"], "GET /panic");

    let transactions = items_of(&requests, "transaction");
    let tx = named(&transactions, "GET /panic");
    assert_eq!(
        tx.len(),
        1,
        "the transaction of the panicking request is sent"
    );
    let context = &tx[0]["contexts"]["trace"];
    assert_eq!(context["status"], "internal_error");
    assert_eq!(context["trace_id"], TRACE_ID);
    assert_eq!(context["parent_span_id"], caller_span(1));
    assert_eq!(panic["contexts"]["trace"]["span_id"], context["span_id"]);
    assert_eq!(named(&transactions, "GET /echo").len(), 1);
    conformant(&requests);
}

/// Request-mode sessions: one per request, counted per minute: healthy, errored (an error
/// captured in the request) and crashed (a panic).
#[test]
fn request_sessions_are_aggregated() {
    let _serial = serial();
    let options = ClientOptions {
        session_mode: SessionMode::Request,
        ..Default::default()
    };
    let requests = run(options, SentryLayer::new(), |addr| async move {
        for _ in 0..5 {
            assert_eq!(call(addr, "GET", "/fail", &[]).await, Some(500));
        }
        for _ in 0..2 {
            assert_eq!(call(addr, "GET", "/broken", &[]).await, Some(400));
        }
        assert_eq!(call(addr, "GET", "/panic", &[]).await, None);
    });
    let mut totals = BTreeMap::new();
    let aggregates = items_of(&requests, "sessions");
    assert!(!aggregates.is_empty(), "a sessions item");
    for item in &aggregates {
        assert_eq!(item["attrs"]["release"], "axum-test@1.0.0");
        for bucket in item["aggregates"].as_array().unwrap() {
            for key in ["exited", "errored", "crashed", "abnormal"] {
                *totals.entry(key).or_insert(0) += bucket[key].as_u64().unwrap_or(0);
            }
        }
    }
    assert_eq!(totals["exited"], 5, "{totals:?}");
    assert_eq!(totals["errored"], 2, "{totals:?}");
    assert_eq!(totals["crashed"], 1, "{totals:?}");
    assert_eq!(totals["abnormal"], 0, "{totals:?}");
    assert!(
        items_of(&requests, "session").is_empty(),
        "no application session"
    );
}

/// `capture_server_errors`: a 5xx response becomes an error event in the request's scope
/// and transaction; off by default.
#[test]
fn server_errors_captured_on_request() {
    let _serial = serial();
    for capture in [false, true] {
        let layer = SentryLayer::new().capture_server_errors(capture);
        let requests = run(traced(), layer, |addr| async move {
            assert_eq!(call(addr, "GET", "/fail", &[]).await, Some(500));
        });
        let transactions = items_of(&requests, "transaction");
        assert_eq!(transactions.len(), 1);
        let context = &transactions[0]["contexts"]["trace"];
        assert_eq!(context["status"], "internal_error");
        assert_eq!(context["data"]["http.response.status_code"], 500);
        let events = items_of(&requests, "event");
        if !capture {
            assert!(events.is_empty());
            continue;
        }
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(event["level"], "error");
        let message = event["message"]
            .as_str()
            .or(event["logentry"]["formatted"].as_str())
            .or(event["logentry"]["message"].as_str());
        assert_eq!(message, Some("500 Internal Server Error"));
        assert_eq!(event["tags"]["http.status_code"], "500");
        assert_eq!(event["transaction"], "GET /fail");
        assert_eq!(event["contexts"]["trace"]["span_id"], context["span_id"]);
        assert!(event["request"]["url"].as_str().unwrap().ends_with("/fail"));
        conformant(&requests);
    }
}

/// `RequestBodyLayer`: a body the handler read whole, within the limit, is on the event and
/// the transaction with `send_default_pii`; never without it, never over the limit.
#[test]
fn request_bodies_by_option() {
    let _serial = serial();
    let small = r#"{"item":"book","qty":2}"#;
    let large = "x".repeat(65);
    for pii in [false, true] {
        let options = ClientOptions {
            send_default_pii: pii,
            ..traced()
        };
        let large = large.clone();
        let requests = run(options, SentryLayer::new(), |addr| async move {
            let json = [("content-type", "application/json")];
            assert_eq!(
                call_with_body(addr, "POST", "/orders?n=1", &json, small).await,
                Some(200)
            );
            assert_eq!(
                call_with_body(addr, "POST", "/orders?n=2", &[], &large).await,
                Some(200)
            );
        });
        let events = items_of(&requests, "event");
        let transactions = items_of(&requests, "transaction");
        assert_eq!((events.len(), transactions.len()), (2, 2));
        for item in events.iter().chain(&transactions) {
            let data = &item["request"]["data"];
            let first = item["request"]["query_string"] == "n=1";
            if pii && first {
                assert_eq!(data, small, "{item}");
            } else {
                assert!(data.is_null(), "pii {pii}: {data}");
            }
        }
        conformant(&requests);
    }
}
