//! What each `Compression` setting costs the transport thread per envelope, and what it saves
//! on the wire: the SDK's typical 10 KB error event envelope, encoder reused as the sender
//! reuses it. The sizes are printed once before the timings.

// A benchmark reports on stdout.
#![allow(clippy::print_stdout)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::envelope::Envelope;
use sentry_core::transport::Compression;
use sentry_transport_http::BodyEncoder;

fn body() -> Vec<u8> {
    let mut body = Vec::new();
    Envelope::from_event(sentry_tests::fixtures::typical_event(0))
        .to_writer(&mut body, None)
        .expect("serialized");
    body
}

fn compression(c: &mut Criterion) {
    let body = body();
    let mut settings = vec![("gzip", Compression::Gzip), ("none", Compression::None)];
    if cfg!(feature = "brotli") {
        settings.push(("brotli", Compression::Brotli));
    }
    for (name, setting) in &settings {
        let bytes = BodyEncoder::new(*setting)
            .encode(&body)
            .map_or(body.len(), |encoded| encoded.body.len());
        println!("compression {name}: {} bytes -> {bytes} bytes", body.len());
    }
    let mut group = c.benchmark_group("compression");
    for (name, setting) in settings {
        let mut encoder = BodyEncoder::new(setting);
        group.bench_function(name, |b| b.iter(|| encoder.encode(black_box(&body))));
    }
    group.finish();
}

criterion_group!(benches, compression);
criterion_main!(benches);
