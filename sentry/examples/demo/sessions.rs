//! Release health in the demo: a second client in request mode, as a server would have, that
//! tracks a few request sessions (one failed, one crashed) so that a `sessions` aggregate
//! arrives. The main client's application session shows by itself (its release is set): it
//! starts at `init` and ends at close, or crashes with the demo's panic.

use std::sync::Arc;

use sentry::protocol::SessionStatus;
use sentry::{Client, ClientOptions, Scopes, SessionMode};

/// Runs five "requests" on a client of their own, in request mode, and closes it, which sends
/// their per-minute counts.
pub(crate) fn run() {
    let main = Scopes::current().client();
    let options = main.options();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: options.dsn.clone(),
        transport: options.transport.clone(),
        release: options.release.clone(),
        environment: options.environment.clone(),
        session_mode: SessionMode::Request,
        ..ClientOptions::default()
    }));
    let outcomes = [
        ("GET /", None),
        ("GET /items", None),
        ("POST /checkout", Some("card declined")),
        ("GET /report", None),
        ("POST /upload", None),
    ];
    for (index, (route, error)) in outcomes.into_iter().enumerate() {
        let request = Scopes::current().fork_isolation();
        request.configure_isolation_scope(|scope| {
            scope.set_client(Some(Arc::clone(&client)));
            scope.set_tag("route", route);
        });
        request.bind(|| {
            sentry::start_session();
            if let Some(error) = error {
                let err: Box<dyn std::error::Error + Send + Sync> = error.into();
                sentry::capture_error(err.as_ref());
            }
            if index == 3 {
                // Answered with a 500: the session crashed.
                sentry::end_session_with_status(SessionStatus::Crashed);
            } else {
                sentry::end_session();
            }
        });
    }
    client.close(None);
}
