//! Sustained delivery throughput: events captured through the client pipeline, serialized,
//! (gzip-)compressed and POSTed over real HTTP to the loopback server, which parses every
//! envelope. One iteration is a burst of 1,000 typical (~10 KB) error events followed by a
//! flush, so the figure is end-to-end events per second, not enqueue speed.
//!
//! And what the same capture costs the calling thread with that transport
//! (`calling_thread/capture_typical_event_http`): the pipeline, the envelope and the queue's
//! bookkeeping, without the worker's serialization and sending (the flush after each burst of
//! 100 is not timed). Building the event is not timed either.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sentry::protocol::Event;
use sentry::{Client, ClientOptions};
use sentry_tests::fixtures::typical_event;
use sentry_tests::server::TestServer;
use sentry_transport_http::HttpTransportFactory;

const BURST: usize = 1000;

fn small_event(i: usize) -> Event {
    Event {
        message: Some(format!("throughput event {i}")),
        ..Event::default()
    }
}

fn throughput(c: &mut Criterion) {
    let server = TestServer::start();
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        ..Default::default()
    });
    let mut group = c.benchmark_group("http_throughput");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(BURST as u64));
    for (name, make) in [
        ("10KB_events", typical_event as fn(usize) -> Event),
        ("small_events", small_event),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                for i in 0..BURST {
                    client.capture_event(make(i), None);
                }
                assert!(client.flush(Some(Duration::from_secs(60))));
                server.clear();
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("calling_thread");
    group.bench_function("capture_typical_event_http", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            let mut i = 0;
            while left > 0 {
                let n = left.min(100);
                let mut events: Vec<Event> =
                    (0..n as usize).map(|k| typical_event(i + k)).collect();
                i += n as usize;
                let start = Instant::now();
                for event in events.drain(..) {
                    client.capture_event(event, None);
                }
                total += start.elapsed();
                assert!(client.flush(Some(Duration::from_secs(60))));
                server.clear();
                left -= n;
            }
            total
        })
    });
    group.finish();
    assert_eq!(
        client.client_reports().take().map_or(0, |r| r.total()),
        0,
        "nothing was dropped"
    );
    client.close(Some(Duration::from_secs(5)));
}

criterion_group!(benches, throughput);
criterion_main!(benches);
