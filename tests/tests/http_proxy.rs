//! The HTTP transport through a real proxy on loopback: explicit options, environment variables
//! (injected, or set on a child process, never on this one), `NO_PROXY`, credentials and
//! failures. Every test checks the proxy's own record, so "it arrived" always also means "it
//! went through the proxy" (or, for bypasses, that it did not).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_core::client_reports::ClientReports;
use sentry_core::envelope::Envelope;
use sentry_core::protocol::DiscardReason;
use sentry_core::protocol::Event;
use sentry_core::transport::{Transport, TransportOptions};
use sentry_core::{Client, ClientOptions};
use sentry_tests::proxy::{ProxiedKind, TestProxy};
use sentry_tests::server::TestServer;
use sentry_transport_http::{HttpTransport, HttpTransportFactory};

const WAIT: Duration = Duration::from_secs(10);

fn options_for(dsn: &str) -> TransportOptions {
    let dsn = dsn.parse().expect("a valid DSN");
    TransportOptions::new(dsn, Arc::new(ClientReports::new()))
}

fn event(message: &str) -> Envelope {
    Envelope::from_event(Event {
        message: Some(message.into()),
        ..Event::default()
    })
}

/// An environment lookup over fixed pairs.
fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Sends `count` events through `transport` and waits until they are handled.
fn send_events(transport: &HttpTransport, count: usize) {
    for i in 0..count {
        transport.send_envelope(event(&format!("through the proxy {i}")));
    }
    assert!(transport.flush(WAIT), "flushed in time");
}

#[test]
fn events_go_through_the_http_proxy_option() {
    let server = TestServer::start();
    let proxy = TestProxy::start();
    let mut options = options_for(&server.dsn());
    options.http_proxy = Some(proxy.url());
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    send_events(&transport, 3);
    assert!(transport.shutdown(WAIT));

    let messages: Vec<_> = server
        .events()
        .into_iter()
        .filter_map(|e| e.message)
        .collect();
    assert_eq!(
        messages,
        [
            "through the proxy 0",
            "through the proxy 1",
            "through the proxy 2"
        ]
    );
    // ureq tunnels every proxied request; the tunnel is kept alive for all three.
    assert_eq!(proxy.connect_targets(), [server.addr().to_string()]);
    assert_eq!(proxy.requests()[0].status, 200);
    assert_eq!(
        server.connections_accepted(),
        1,
        "one tunnel, one origin connection"
    );
    assert!(options.client_reports.is_empty());
}

#[test]
fn a_client_with_the_http_transport_uses_the_proxy_option() {
    let server = TestServer::start();
    let proxy = TestProxy::start();
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("a valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        http_proxy: Some(proxy.url().into()),
        ..ClientOptions::default()
    });
    client.capture_event(
        Event {
            message: Some("from the client".into()),
            ..Event::default()
        },
        None,
    );
    assert!(client.flush(Some(WAIT)));
    assert!(client.close(Some(WAIT)));

    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("from the client"));
    assert_eq!(proxy.connect_targets(), [server.addr().to_string()]);
}

#[test]
fn an_explicit_option_beats_the_environment() {
    let server = TestServer::start();
    let chosen = TestProxy::start();
    let from_env = TestProxy::start();
    let mut options = options_for(&server.dsn());
    options.http_proxy = Some(chosen.url());
    let env = env_of(&[
        ("HTTP_PROXY", &from_env.url()),
        ("http_proxy", &from_env.url()),
    ]);
    let transport = HttpTransport::with_env(&options, env).expect("transport");
    send_events(&transport, 2);
    assert!(transport.shutdown(WAIT));

    assert_eq!(server.events().len(), 2);
    assert_eq!(chosen.connect_targets(), [server.addr().to_string()]);
    assert_eq!(from_env.request_count(), 0);
    assert_eq!(from_env.connections_accepted(), 0);
}

#[test]
fn the_environment_proxy_is_used_without_options() {
    for variable in ["HTTP_PROXY", "http_proxy"] {
        let server = TestServer::start();
        let proxy = TestProxy::start();
        let options = options_for(&server.dsn());
        let env = env_of(&[(variable, &proxy.url())]);
        let transport = HttpTransport::with_env(&options, env).expect("transport");
        send_events(&transport, 2);
        assert!(transport.shutdown(WAIT));

        assert_eq!(server.events().len(), 2, "{variable}");
        assert_eq!(
            proxy.connect_targets(),
            [server.addr().to_string()],
            "{variable}"
        );
    }
}

#[test]
fn no_proxy_bypasses_the_environment_proxy() {
    let server = TestServer::start();
    let port = server.addr().port();
    for (no_proxy, bypassed) in [
        ("127.0.0.1".to_owned(), true),
        ("localhost, 127.0.0.0/8".to_owned(), true),
        (format!("127.0.0.1:{port}"), true),
        ("*".to_owned(), true),
        (format!("127.0.0.1:{}", port.wrapping_add(1)), false),
        ("example.com,.internal".to_owned(), false),
    ] {
        server.clear();
        let proxy = TestProxy::start();
        let env = env_of(&[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", &no_proxy)]);

        let transport =
            HttpTransport::with_env(&options_for(&server.dsn()), env).expect("transport");
        send_events(&transport, 1);
        assert!(transport.shutdown(WAIT));
        assert_eq!(server.events().len(), 1, "NO_PROXY={no_proxy}");
        let expected = usize::from(!bypassed);
        assert_eq!(proxy.request_count(), expected, "NO_PROXY={no_proxy}");
    }
}

#[test]
fn no_proxy_does_not_apply_to_an_explicit_option() {
    let server = TestServer::start();
    let proxy = TestProxy::start();
    let mut options = options_for(&server.dsn());
    options.http_proxy = Some(proxy.url());
    let transport =
        HttpTransport::with_env(&options, env_of(&[("NO_PROXY", "*")])).expect("transport");
    send_events(&transport, 1);
    assert!(transport.shutdown(WAIT));
    assert_eq!(server.events().len(), 1);
    assert_eq!(proxy.request_count(), 1);
}

#[test]
fn an_empty_option_switches_the_environment_proxy_off() {
    let server = TestServer::start();
    let proxy = TestProxy::start();
    let mut options = options_for(&server.dsn());
    options.http_proxy = Some(String::new());
    let env = env_of(&[("HTTP_PROXY", &proxy.url())]);
    let transport = HttpTransport::with_env(&options, env).expect("transport");
    send_events(&transport, 1);
    assert!(transport.shutdown(WAIT));
    assert_eq!(server.events().len(), 1);
    assert_eq!(proxy.connections_accepted(), 0);
}

#[test]
fn https_dsns_are_tunnelled_through_the_https_proxy() {
    // The loopback server speaks plain HTTP, so the TLS handshake inside the tunnel fails; what
    // matters here is that the connection was asked of the right proxy, with CONNECT.
    let server = TestServer::start();
    let https_proxy = TestProxy::start();
    let http_proxy = TestProxy::start();
    let dsn = format!("https://public@{}/1", server.addr());
    let options = options_for(&dsn);
    let env = env_of(&[
        ("HTTPS_PROXY", &https_proxy.url()),
        ("HTTP_PROXY", &http_proxy.url()),
    ]);
    let transport = HttpTransport::with_env(&options, env).expect("transport");
    transport.send_envelope(event("over TLS"));
    assert!(transport.flush(WAIT));
    assert!(transport.shutdown(WAIT));

    // The event, then the client report counting its loss (which fails the same way).
    let targets = https_proxy.connect_targets();
    assert!(!targets.is_empty());
    assert!(
        targets.iter().all(|t| *t == server.addr().to_string()),
        "{targets:?}"
    );
    assert_eq!(http_proxy.request_count(), 0);
    assert!(server.events().is_empty());
    let report = options.client_reports.take().expect("the loss was counted");
    assert_eq!(
        report.discarded_events[0].reason,
        DiscardReason::NetworkError
    );

    // Without HTTPS_PROXY, the http proxy is the fallback for https DSNs.
    let options = options_for(&dsn);
    let env = env_of(&[("HTTP_PROXY", &http_proxy.url())]);
    let transport = HttpTransport::with_env(&options, env).expect("transport");
    transport.send_envelope(event("over TLS"));
    assert!(transport.flush(WAIT));
    assert!(transport.shutdown(WAIT));
    let targets = http_proxy.connect_targets();
    assert!(!targets.is_empty());
    assert!(
        targets.iter().all(|t| *t == server.addr().to_string()),
        "{targets:?}"
    );
}

#[test]
fn credentials_in_the_proxy_url_are_sent_to_the_proxy() {
    let server = TestServer::start();
    let proxy = TestProxy::start_with_credentials("sdk", "s3cret");
    let mut options = options_for(&server.dsn());
    options.http_proxy = Some(proxy.url_with_credentials("sdk", "s3cret"));
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    send_events(&transport, 1);
    assert!(transport.shutdown(WAIT));

    assert_eq!(server.events().len(), 1);
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, 200);
    // base64("sdk:s3cret")
    assert_eq!(
        requests[0].proxy_authorization.as_deref(),
        Some("Basic c2RrOnMzY3JldA==")
    );
}

#[test]
fn wrong_proxy_credentials_are_a_network_error() {
    let server = TestServer::start();
    let proxy = TestProxy::start_with_credentials("sdk", "s3cret");
    let mut options = options_for(&server.dsn());
    options.http_proxy = Some(proxy.url_with_credentials("sdk", "wrong"));
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    transport.send_envelope(event("refused by the proxy"));
    assert!(transport.flush(WAIT));
    assert!(transport.shutdown(WAIT));

    assert_eq!(proxy.requests()[0].status, 407);
    assert_eq!(server.request_count(), 0, "nothing got past the proxy");
    let report = options.client_reports.take().expect("the loss was counted");
    assert_eq!(
        report.discarded_events[0].reason,
        DiscardReason::NetworkError
    );
}

#[test]
fn an_invalid_proxy_url_means_a_direct_connection() {
    let server = TestServer::start();
    for invalid in [
        "http://[::1",
        "socks5://127.0.0.1:1080",
        "http://exa mple:80",
    ] {
        server.clear();
        let mut options = options_for(&server.dsn());
        options.http_proxy = Some(invalid.to_owned());
        let transport = HttpTransport::with_env(&options, no_env).expect("transport");
        send_events(&transport, 1);
        assert!(transport.shutdown(WAIT));
        assert_eq!(server.events().len(), 1, "{invalid}");
    }
}

#[test]
fn an_unreachable_proxy_is_a_network_error_and_does_not_block() {
    let server = TestServer::start();
    let mut options = options_for(&server.dsn());
    options.http_proxy = Some(format!("http://127.0.0.1:{}", free_port()));
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    let started = Instant::now();
    transport.send_envelope(event("nowhere to go"));
    assert!(transport.flush(WAIT));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(transport.shutdown(WAIT));

    assert_eq!(server.request_count(), 0);
    let report = options.client_reports.take().expect("the loss was counted");
    assert_eq!(
        report.discarded_events[0].reason,
        DiscardReason::NetworkError
    );
}

#[test]
fn the_test_proxy_forwards_absolute_form_requests() {
    let server = TestServer::start();
    let proxy = TestProxy::start();
    let payload = r#"{"message":"forwarded","level":"error"}"#;
    let body = format!(
        "{{}}\n{{\"type\":\"event\",\"length\":{}}}\n{payload}\n",
        payload.len()
    );
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nProxy-Authorization: Basic eDp5\r\n\
         Content-Type: application/x-sentry-envelope\r\nContent-Length: {}\r\n\r\n{body}",
        server.envelope_url(),
        server.addr(),
        body.len()
    );
    let mut stream = TcpStream::connect(proxy.addr()).expect("connect to the proxy");
    stream
        .set_read_timeout(Some(WAIT))
        .expect("set a read timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read to the end");
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");

    assert_eq!(proxy.forwarded_count(), 1);
    assert_eq!(
        proxy.requests()[0].kind,
        ProxiedKind::Forward {
            method: "POST".into(),
            uri: server.envelope_url(),
        }
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/1/envelope/");
    assert_eq!(requests[0].header("proxy-authorization"), None);
    assert_eq!(requests[0].header("connection"), Some("close"));
    let events = server.events();
    assert_eq!(events[0].message.as_deref(), Some("forwarded"));
}

/// The environment variable naming the DSN for [`child_sends_one_event`].
const CHILD_DSN: &str = "SENTRY_TESTS_CHILD_DSN";

/// Runs this test binary's [`child_sends_one_event`] in a child process with `vars` as its
/// only proxy-related environment.
fn run_child(server: &TestServer, vars: &[(&str, &str)]) {
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = Command::new(exe);
    command
        .args([
            "child_sends_one_event",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CHILD_DSN, server.dsn());
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(name);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().expect("the child ran");
    assert!(
        output.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 passed"), "the child test ran: {stdout}");
}

#[test]
fn the_process_environment_is_read() {
    let server = TestServer::start();
    let proxy = TestProxy::start();
    run_child(&server, &[("HTTP_PROXY", &proxy.url())]);
    assert_eq!(server.events().len(), 1);
    assert_eq!(proxy.connect_targets(), [server.addr().to_string()]);

    let bypassed = TestProxy::start();
    run_child(
        &server,
        &[("http_proxy", &bypassed.url()), ("no_proxy", "127.0.0.1")],
    );
    assert_eq!(server.events().len(), 2);
    assert_eq!(bypassed.connections_accepted(), 0);
}

/// Not a test on its own: run by [`the_process_environment_is_read`] in a child process with
/// proxy variables set; does nothing without [`CHILD_DSN`].
#[test]
#[ignore = "run in a child process by the_process_environment_is_read"]
fn child_sends_one_event() {
    let Ok(dsn) = std::env::var(CHILD_DSN) else {
        return;
    };
    let options = options_for(&dsn);
    let transport = HttpTransport::new(&options).expect("transport");
    transport.send_envelope(event("from a child process"));
    assert!(transport.flush(WAIT));
    assert!(transport.shutdown(WAIT));
    assert!(options.client_reports.is_empty(), "delivered");
}
