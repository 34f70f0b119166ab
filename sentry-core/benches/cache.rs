//! The calling-thread cost of capturing an error with the offline cache on: the event is
//! prepared, serialized and written to a file (temp file + rename) before `capture_event`
//! returns, so that a kill right after cannot lose it. Compared with the same capture without
//! a cache (the envelope is only queued), on tmpfs (`/dev/shm`, when there is one) and on the
//! file system of the temp directory.
//!
//! `serialize_only` is the serialization part of a cached capture, for reference.
//!
//! Only the calling thread's time is measured. The events (`sentry_tests::fixtures::typical_event`:
//! a 24-frame stack trace and 20 breadcrumbs, about 10 KB of JSON) are built outside the
//! timing, and the worker is held in its first send while a timed run of at most 400 captures
//! is queued, so that it competes for neither the CPU nor the directory; between runs it is
//! let go and flushed, outside the timing.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::envelope::Envelope;
use sentry_core::transport::{SendOutcome, Transport, TransportOptions, TransportWorker};
use sentry_core::{Client, ClientOptions};
use sentry_tests::fixtures::typical_event;

/// Held by the benchmark during a timed run; the sender waits for it.
static GATE: Mutex<()> = Mutex::new(());

fn client(cache_dir: Option<PathBuf>) -> Client {
    let factory = |options: &TransportOptions| -> Arc<dyn Transport> {
        let sender = |_: Vec<u8>, _: &Envelope| {
            drop(GATE.lock().unwrap_or_else(PoisonError::into_inner));
            SendOutcome::status(200)
        };
        Arc::new(TransportWorker::spawn(sender, options).expect("worker thread"))
    };
    Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(factory)),
        cache_dir,
        cache_max_envelopes: 1000,
        release: Some("bench@1.0.0".into()),
        ..Default::default()
    })
}

/// Times `iters` captures in runs of at most 400 (the queue holds 1000), each run queued
/// behind a worker held in a send, then sent and flushed outside the timing.
fn timed(client: &Client, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    let mut n = 0;
    while left > 0 {
        let run = left.min(400);
        let events: Vec<_> = (0..run)
            .map(|_| {
                n += 1;
                typical_event(n)
            })
            .collect();
        let gate = GATE.lock().unwrap_or_else(PoisonError::into_inner);
        let start = Instant::now();
        for event in events {
            black_box(client.capture_event(event, None));
        }
        total += start.elapsed();
        drop(gate);
        assert!(client.flush(Some(Duration::from_secs(60))), "flushed");
        left -= run;
    }
    total
}

fn bench_dir(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(format!("sentry-bench-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cache(c: &mut Criterion) {
    let mut group = c.benchmark_group("capture_error");
    group.sample_size(20);

    // For reference: the serialization part of a cached capture.
    group.bench_function("serialize_only", |b| {
        b.iter_batched(
            || Envelope::from_event(typical_event(1)),
            |envelope| envelope.to_vec(None),
            criterion::BatchSize::SmallInput,
        )
    });

    let no_cache = client(None);
    group.bench_function("no_cache", |b| {
        b.iter_custom(|iters| timed(&no_cache, iters))
    });
    no_cache.close(Some(Duration::from_secs(5)));

    let mut dirs = vec![("cache_temp_dir", bench_dir(&std::env::temp_dir(), "temp"))];
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        dirs.push(("cache_tmpfs", bench_dir(shm, "tmpfs")));
    }
    for (name, dir) in dirs {
        let cached = client(Some(dir.clone()));
        group.bench_function(name, |b| b.iter_custom(|iters| timed(&cached, iters)));
        cached.close(Some(Duration::from_secs(5)));
        let _ = std::fs::remove_dir_all(&dir);
    }
    group.finish();
}

criterion_group!(benches, cache);
criterion_main!(benches);
