//! Tracing across two services that talk HTTP/1.1 on the loopback.
//!
//! Service A is the demo itself (the client of `init`): it starts the transaction `checkout`,
//! whose span `checkout.prepare` holds a span from a facade library (`inventory.reserve`) and
//! one from a `tracing` span (`load_cart`, through the bridge's layer), followed by the HTTP
//! call to service B (`http.client`), which carries the trace headers.
//!
//! Service B (`inventory-service`) runs on a thread of its own with its own client (another
//! release and server name), bound to scopes of its own. It continues the trace from the
//! request's headers and sends a transaction of its own, with a child span and a warning
//! captured inside it. Both transactions have one trace id; B's root span has A's `http.client`
//! span as its parent, and B passes on A's sampling decision and `sample_rand` unchanged.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use sentry::protocol::{MeasurementUnit, SpanStatus, TransactionSource};
use sentry::{Client, ClientOptions, Level, Scopes, TraceHeaders, TransactionContext};

/// Sends `tracing` spans and events to Sentry through the bridge's layer.
pub(crate) fn install_tracing() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let subscriber = tracing_subscriber::registry().with(sentry::integrations::tracing::layer());
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!("demo: a tracing subscriber was already installed");
    }
}

/// Service A's transaction, calling service B.
pub(crate) fn distributed_checkout() {
    let (addr, service_b) = match start_service_b() {
        Ok(started) => started,
        Err(err) => {
            eprintln!("demo: cannot start service B: {err}");
            return;
        }
    };

    let tx = sentry::start_transaction(TransactionContext::new("checkout", "task")).enter();
    tx.set_measurement("cart.items", 3.0, MeasurementUnit::None);

    // Preparing the order: a span of the application, with nested spans from a library that
    // depends on `sentry-minimal` only and from a `tracing` span.
    sentry::with_span("checkout.prepare", "prepare the order", |_| {
        let _ = crate::inventory::reserve("widgets", 2);
        let span = tracing::info_span!("load_cart", cart_id = 7);
        let _entered = span.enter();
        tracing::info!(items = 3, "cart loaded");
        thread::sleep(Duration::from_millis(2));
    });

    // An AI agent suggesting add-ons, monitored with the AI helpers: an agent span holding a
    // chat call (with its token usage) and a tool call.
    sentry::gen_ai::with_pipeline_name("checkout-suggestions", || {
        let agent = sentry::gen_ai::start_invoke_agent_span("upsell", Some("gpt-4o-mini")).enter();
        let chat = sentry::gen_ai::start_chat_span("openai", "gpt-4o-mini").enter();
        sentry::gen_ai::record_token_usage(&chat, Some(420), Some(300), Some(35), None, None);
        drop(chat);
        let tool = sentry::gen_ai::start_execute_tool_span("stock_lookup").enter();
        tool.set_data("gen_ai.tool.call.result", "7 in stock");
        drop(tool);
        drop(agent);
    });

    // The call to service B: `start_outgoing_request` makes its `http.client` span and the
    // headers that continue the trace from it, so B's transaction is that span's child.
    let path = "/inventory/widgets";
    let url = format!("http://{addr}{path}");
    let call = sentry::start_outgoing_request("GET", &url);
    eprintln!("demo: service A calls {url} with {:?}", call.headers());
    match http_get(addr, path, call.headers()) {
        Ok((status, body)) => {
            eprintln!("demo: service B answered {status}: {body}");
            call.finish(status);
        }
        Err(err) => {
            eprintln!("demo: the call to service B failed: {err}");
            call.fail(SpanStatus::Unavailable);
        }
    }
    drop(tx);

    if service_b.join().is_err() {
        eprintln!("demo: service B's thread panicked");
    }
}

/// Starts service B on a free loopback port: it serves one request, then closes its client
/// (sending what it captured).
fn start_service_b() -> io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let options = ClientOptions {
        dsn: Scopes::current().client().options().dsn.clone(),
        release: Some("inventory-service@2.4.1".into()),
        environment: Some("demo".into()),
        server_name: Some("inventory-host".into()),
        traces_sample_rate: Some(1.0),
        // Service B streams its spans (span v2 items, as a service on the span-first
        // protocol would), whatever service A does: one trace shows both formats, and
        // `SENTRY_TRACE_LIFECYCLE=stream` makes service A stream too.
        trace_lifecycle: sentry::TraceLifecycle::Stream,
        transport: Some(Arc::new(sentry::transport_http::HttpTransportFactory)),
        ..Default::default()
    };
    let client = Arc::new(Client::new(options));
    // Scopes of its own: none of service A's data, its own client and trace.
    let scopes = Scopes::current().fork_isolation();
    scopes.configure_isolation_scope(|scope| {
        scope.clear();
        scope.set_client(Some(Arc::clone(&client)));
    });
    scopes.configure_scope(|scope| scope.clear());
    let handle = thread::Builder::new()
        .name("inventory-service".into())
        .spawn(move || {
            scopes.bind(|| match listener.accept() {
                Ok((stream, _)) => {
                    if let Err(err) = serve(stream) {
                        eprintln!("demo: service B: {err}");
                    }
                }
                Err(err) => eprintln!("demo: service B cannot accept: {err}"),
            });
            client.close(Some(Duration::from_secs(5)));
        })?;
    Ok((addr, handle))
}

/// Service B's handler for `GET /inventory/{sku}`.
fn serve(stream: TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let sku = path.rsplit('/').next().unwrap_or_default();

    let ctx = sentry::continue_trace(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .with_name("GET /inventory/{sku}")
        .with_op("http.server")
        .with_source(TransactionSource::Route);
    let tx = sentry::start_transaction(ctx).enter();
    tx.set_data("http.request.method", "GET");
    tx.set_data("url.path", path);

    let stock = sentry::with_span(
        "db.query",
        "SELECT stock FROM inventory WHERE sku = ?",
        |span| {
            span.set_data("db.system", "sqlite");
            thread::sleep(Duration::from_millis(3));
            7
        },
    );
    if stock < 10 {
        // An event inside the transaction: it carries the same trace.
        sentry::capture_message("stock of widgets running low", Level::Warning);
    }

    let body = format!("{{\"sku\":\"{sku}\",\"stock\":{stock}}}");
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    tx.set_data("http.response.status_code", 200);
    tx.set_status(SpanStatus::Ok);
    Ok(())
}

/// A hand-written `GET` with the trace headers; returns the status code and the body.
fn http_get(addr: SocketAddr, path: &str, trace: &TraceHeaders) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in trace.iter() {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no status line"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}
