//! Spotlight without a DSN, against a loopback server standing in for the sidecar: the client
//! is enabled with Spotlight as its only destination, turns on what local debugging needs,
//! and stays disabled when nothing can reach Spotlight. (`spotlight_sidecar.rs` runs the real
//! sidecar.)

use std::sync::Arc;
use std::time::Duration;

use sentry_core::envelope::Envelope;
use sentry_core::protocol::Event;
use sentry_core::transport::{SendOutcome, TransportOptions, TransportWorker};
use sentry_core::{Client, ClientOptions, Level};
use sentry_tests::TestServer;
use sentry_transport_http::HttpTransportFactory;

const WAIT: Duration = Duration::from_secs(10);

fn spotlight_only(server: &TestServer) -> ClientOptions {
    ClientOptions::new()
        .spotlight(format!("{}/stream", server.url()))
        .transport(HttpTransportFactory)
}

#[test]
fn every_envelope_goes_to_spotlight_alone() {
    let sidecar = TestServer::start();
    let client = Client::new(spotlight_only(&sidecar));
    assert!(client.is_enabled());
    let id = client.capture_event(
        Event {
            message: Some("local only".into()),
            level: Level::Warning,
            ..Event::default()
        },
        None,
    );
    assert!(!id.is_nil());
    assert!(client.close(Some(WAIT)));

    let requests = sidecar.wait_for_requests(1, WAIT);
    let request = requests
        .iter()
        .find(|r| r.parsed_envelope().and_then(Envelope::event).is_some())
        .expect("the event reached the sidecar");
    assert_eq!(request.path_only(), "/stream");
    assert_eq!(request.content_encoding(), None, "never compressed");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-sentry-envelope")
    );
    assert!(request.header("x-sentry-auth").is_none(), "no Sentry auth");
    let event = request
        .parsed_envelope()
        .and_then(Envelope::event)
        .expect("an event");
    assert_eq!(event.message.as_deref(), Some("local only"));
}

#[test]
fn local_debugging_defaults_are_turned_on_and_set_rates_kept() {
    let sidecar = TestServer::start();
    let client = Client::new(spotlight_only(&sidecar));
    let options = client.options();
    assert_eq!(options.traces_sample_rate, Some(1.0));
    assert!(options.enable_logs);
    assert!(options.send_default_pii);
    drop(client);

    let client = Client::new(spotlight_only(&sidecar).traces_sample_rate(0.25));
    assert_eq!(client.options().traces_sample_rate, Some(0.25), "kept");
    let client = Client::new(spotlight_only(&sidecar).traces_sampler(|_| 0.5));
    assert_eq!(
        client.options().traces_sample_rate,
        None,
        "a sampler is kept alone"
    );

    // With a DSN nothing is changed: Spotlight only gets a copy.
    let with_dsn = Client::new(spotlight_only(&sidecar).dsn(sidecar.dsn()));
    assert_eq!(with_dsn.options().traces_sample_rate, None);
    assert!(!with_dsn.options().enable_logs);
}

#[test]
fn without_a_way_to_reach_spotlight_the_client_is_disabled() {
    // No DSN, no Spotlight.
    assert!(!Client::new(ClientOptions::new().transport(HttpTransportFactory)).is_enabled());
    // Spotlight on, but a factory that has no Spotlight sender.
    let factory = |options: &TransportOptions| -> Arc<dyn sentry_core::transport::Transport> {
        let sender = |_: Vec<u8>, _: &Envelope| SendOutcome::status(200);
        Arc::new(TransportWorker::spawn(sender, options).expect("thread"))
    };
    let options = ClientOptions::new().spotlight(true).transport(factory);
    assert!(!Client::new(options).is_enabled());
    // An invalid Spotlight URL.
    let options = ClientOptions::new()
        .spotlight("not a url")
        .transport(HttpTransportFactory);
    assert!(!Client::new(options).is_enabled());
}

/// `SENTRY_SPOTLIGHT` alone (what `init` reads through `apply_env`) makes a Spotlight-only
/// client; `1` means the default sidecar URL.
#[test]
fn the_environment_variable_alone_turns_it_on() {
    let sidecar = TestServer::start();
    let url = format!("{}/stream", sidecar.url());
    let mut options = ClientOptions::new().transport(HttpTransportFactory);
    options
        .apply_env_from(|name| (name == "SENTRY_SPOTLIGHT").then(|| url.clone()))
        .expect("valid");
    let client = Client::new(options);
    assert!(client.is_enabled());
    client.capture_event(Event::default(), None);
    assert!(client.close(Some(WAIT)));
    assert!(!sidecar.wait_for_requests(1, WAIT).is_empty());

    let mut options = ClientOptions::new();
    options
        .apply_env_from(|name| (name == "SENTRY_SPOTLIGHT").then(|| "1".to_owned()))
        .expect("valid");
    assert_eq!(
        options.spotlight.url(),
        Some("http://localhost:8969/stream")
    );
}
