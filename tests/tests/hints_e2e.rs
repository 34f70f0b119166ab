//! End to end: a `before_send` that drops one error type by downcasting the hint's error, with
//! the `sentry` crate, its HTTP transport and the loopback server; tags set with `set_tags`
//! arrive with the kept event.

use std::sync::Arc;
use std::time::Duration;

use sentry::ClientOptions;
use sentry_tests::server::TestServer;

/// An error the application expects and does not want reported.
#[derive(Debug)]
struct ClientDisconnected;

impl std::fmt::Display for ClientDisconnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the client went away")
    }
}

impl std::error::Error for ClientDisconnected {}

#[test]
fn before_send_drops_an_error_type_by_downcast_over_http() {
    let server = TestServer::start();
    let guard = sentry::init((
        server.dsn().as_str(),
        ClientOptions {
            before_send: Some(Arc::new(|event, hint| {
                if hint
                    .error()
                    .is_some_and(|err| err.is::<ClientDisconnected>())
                {
                    return None;
                }
                Some(event)
            })),
            ..Default::default()
        },
    ));
    sentry::set_tags([("service", "checkout"), ("region", "eu")]);
    sentry::capture_error(&ClientDisconnected);
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(ClientDisconnected);
    sentry::capture_error(boxed.as_ref());
    let kept = "x".parse::<u16>().unwrap_err();
    sentry::capture_error(&kept);
    drop(guard);
    server.wait_idle(Duration::from_millis(200), Duration::from_secs(5));

    let events = server.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].exception[0].ty, "ParseIntError");
    assert_eq!(events[0].tags["service"], "checkout");
    assert_eq!(events[0].tags["region"], "eu");
    assert_eq!(server.discarded("before_send", "error"), 2);
}
