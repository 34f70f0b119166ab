//! A web service that reports to Sentry: an axum app with the Sentry layer.
//!
//! ```text
//! SENTRY_DSN=https://key@o0.ingest.sentry.io/0 cargo run -p sentry-tower --example axum
//! curl localhost:3000/users/42    # a transaction "GET /users/{id}", source route
//! curl localhost:3000/fail        # a 500: an error event (capture_server_errors) and its transaction
//! curl localhost:3000/panic       # a panic: the fatal event with the request, the transaction internal_error
//! ```
//!
//! `cargo xtask receive` prints a DSN of a local receiver that shows what would be sent.
//! Ctrl-C stops the server; the guard of `init` then sends what is queued.

use std::net::SocketAddr;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use sentry::integrations::tower::SentryLayer;

/// The application's routes, with the Sentry layer applied to each of them (`Router::layer`
/// runs after routing, so the layer sees the route template).
fn app() -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route("/fail", get(fail))
        .route("/panic", get(panic))
        .layer(SentryLayer::new().capture_server_errors(true))
}

async fn user(Path(id): Path<u64>) -> String {
    // Only this request's scope gets the tag, whatever else runs on the thread meanwhile.
    sentry::set_tag("user.id", id.to_string());
    sentry::with_span("db.query", "SELECT name FROM users WHERE id = $1", |_| ());
    format!("user {id}\n")
}

async fn fail() -> (StatusCode, &'static str) {
    (StatusCode::INTERNAL_SERVER_ERROR, "the database is down\n")
}

async fn panic() -> &'static str {
    let items: Vec<u32> = Vec::new();
    // A bug: reported with the request's data; the server answers by closing the connection.
    let _first = items[0];
    "unreachable\n"
}

fn main() -> std::io::Result<()> {
    // Before the runtime starts: its threads then report to this client from the first request.
    let _sentry = sentry::init(sentry::ClientOptions {
        release: Some("web-example@1.0.0".into()),
        traces_sample_rate: Some(1.0),
        // One session per request, sent as per-minute counts.
        session_mode: sentry::SessionMode::Request,
        ..Default::default()
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let addr = SocketAddr::from(([127, 0, 0, 1], 3000));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!("listening on http://{addr}");
        axum::serve(listener, app())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })
}
