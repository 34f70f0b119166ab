//! A transport factory or an integration that panics while a client is created never takes the
//! application down: the client comes back (disabled, or without the integration's setup).

use std::sync::Arc;

use sentry_core::protocol::Event;
use sentry_core::test::TestTransport;
use sentry_core::transport::{Transport, TransportFactory, TransportOptions};
use sentry_core::{Client, ClientOptions, Integration};

struct PanickingFactory;

impl TransportFactory for PanickingFactory {
    fn create_transport(&self, _: &TransportOptions) -> Arc<dyn Transport> {
        panic!("the transport factory is broken");
    }
}

struct PanickingSetup;

impl Integration for PanickingSetup {
    fn name(&self) -> &'static str {
        "panicking-setup"
    }

    fn setup_once(&self) {
        panic!("setup_once is broken");
    }

    fn process_event(
        &self,
        event: Event,
        _: &sentry_core::Hint<'_>,
        _: &ClientOptions,
    ) -> Option<Event> {
        Some(event)
    }
}

fn dsn() -> Option<sentry_core::Dsn> {
    "https://public@sentry.invalid/1".parse().ok()
}

#[test]
fn a_panicking_transport_factory_gives_a_disabled_client() {
    let client = Client::new(ClientOptions {
        dsn: dsn(),
        transport: Some(Arc::new(PanickingFactory)),
        ..Default::default()
    });
    assert!(!client.is_enabled());
    assert!(!sentry_minimal::is_enabled());
}

#[test]
fn a_panicking_integration_setup_leaves_the_client_working() {
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: dsn(),
        transport: Some(transport.factory()),
        integrations: vec![Arc::new(PanickingSetup)],
        ..Default::default()
    }));
    assert!(client.is_enabled());
    let id = client.capture_event(Event::default(), None);
    assert!(!id.is_nil());
    client.close(None);
    assert_eq!(transport.envelopes().len(), 1);
}
