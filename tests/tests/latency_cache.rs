//! The offline cache under concurrent requests: envelopes left on disk while Sentry was
//! unreachable are sent, several at a time, by two transports sharing the directory, and each
//! file is sent exactly once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sentry::protocol::Event;
use sentry::{Client, ClientOptions};
use sentry_tests::places::{refused_dsn, temp_dir};
use sentry_tests::server::{Behavior, TestServer};
use sentry_transport_http::HttpTransportFactory;

fn cached_client(dsn: &str, dir: &Path) -> Client {
    Client::new(ClientOptions {
        dsn: Some(dsn.parse().expect("valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        cache_dir: Some(dir.to_path_buf()),
        max_concurrent_requests: 8,
        ..Default::default()
    })
}

fn message(text: String) -> Event {
    Event {
        message: Some(text),
        ..Event::default()
    }
}

/// The envelope files in `dir`, claimed ones included.
fn envelope_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|entry| entry.file_name().to_string_lossy().contains(".envelope"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn cached_envelopes_are_each_sent_once_by_concurrent_requests() {
    let dir = temp_dir("latency-cache");
    // Sentry unreachable: every error is written to disk before `capture_event` returns and
    // stays there.
    let offline = cached_client(&refused_dsn(), &dir);
    for i in 0..40 {
        offline.capture_event(message(format!("cached {i}")), None);
    }
    offline.close(Some(Duration::from_secs(2)));
    assert_eq!(envelope_files(&dir), 40);

    // Sentry 50 ms away; two transports share the directory and send what is on disk, eight
    // requests at a time each, while new errors arrive.
    let server = TestServer::start();
    server.set_behavior(Behavior::slow(Duration::from_millis(50), Behavior::ok()));
    let first = cached_client(&server.dsn(), &dir);
    let second = cached_client(&server.dsn(), &dir);
    for i in 0..10 {
        first.capture_event(message(format!("new {i}")), None);
    }
    assert!(first.flush(Some(Duration::from_secs(10))));
    assert!(second.flush(Some(Duration::from_secs(10))));

    let mut seen: HashMap<String, usize> = HashMap::new();
    for event in server.events() {
        *seen.entry(event.message.unwrap_or_default()).or_default() += 1;
    }
    for i in 0..40 {
        assert_eq!(seen.get(&format!("cached {i}")), Some(&1), "cached {i}");
    }
    for i in 0..10 {
        assert_eq!(seen.get(&format!("new {i}")), Some(&1), "new {i}");
    }
    assert_eq!(seen.values().sum::<usize>(), 50, "nothing sent twice");
    let connections: std::collections::HashSet<u64> = server
        .requests()
        .iter()
        .map(|request| request.connection)
        .collect();
    assert!(connections.len() > 2, "sent on several connections");
    assert!(first.close(Some(Duration::from_secs(5))));
    assert!(second.close(Some(Duration::from_secs(5))));
    assert_eq!(envelope_files(&dir), 0, "every file deleted once answered");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_network_error_on_one_connection_backs_off_and_the_file_is_sent_again_once() {
    let dir = temp_dir("latency-cache-reset");
    let server = TestServer::start();
    // The third request's connection is closed unanswered; the others take 50 ms.
    let mut script = vec![
        Behavior::slow(Duration::from_millis(50), Behavior::ok()),
        Behavior::slow(Duration::from_millis(50), Behavior::ok()),
        Behavior::Reset,
    ];
    script.extend((0..100).map(|_| Behavior::slow(Duration::from_millis(50), Behavior::ok())));
    server.set_behavior(Behavior::sequence(script));
    let client = cached_client(&server.dsn(), &dir);
    for i in 0..30 {
        client.capture_event(message(format!("error {i}")), None);
    }
    assert!(client.flush(Some(Duration::from_secs(10))));
    // What the backoff kept on disk goes out when it ends (after 1 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while envelope_files(&dir) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(envelope_files(&dir), 0, "every file answered and deleted");
    assert!(client.close(Some(Duration::from_secs(5))));

    let requests = server.requests();
    let message_of = |request: &sentry_tests::server::Request| {
        request
            .parsed_envelope()
            .and_then(|envelope| envelope.event().and_then(|event| event.message.clone()))
    };
    let reset = message_of(&requests[2]).expect("the reset request carried an error");
    let mut seen: HashMap<String, usize> = HashMap::new();
    for text in requests.iter().filter_map(message_of) {
        *seen.entry(text).or_default() += 1;
    }
    for i in 0..30 {
        let text = format!("error {i}");
        let expected = if text == reset { 2 } else { 1 };
        assert_eq!(seen.get(&text), Some(&expected), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
