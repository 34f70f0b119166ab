//! What the profiler costs on its sampler's thread: adding one sample to the chunk being
//! built (a stack seen before, and a new one), and turning a full minute of samples into a
//! chunk and its JSON.
//!
//! `cargo bench -p sentry-profiling --bench aggregate`.

// The crate's modules are compiled in here by path; their `#[test]` functions are not (no test
// harness), which leaves their test modules' imports unused.
#![allow(dead_code, unreachable_pub, unused_imports)]

#[path = "../src/aggregator.rs"]
mod aggregator;
#[path = "../src/hash.rs"]
mod hash;
#[path = "../src/sampler/mod.rs"]
mod sampler;

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sentry_core::protocol::{Addr, DebugImage, EventId, NativeDebugImage};

use aggregator::{Aggregator, Sources};
use sampler::RawSample;

fn name_of(_: u64) -> Option<String> {
    Some("worker".into())
}

fn image() -> Vec<DebugImage> {
    vec![DebugImage::Elf(NativeDebugImage {
        code_file: "/bin/app".into(),
        debug_id: "dfb8e43a-f242-3d73-a453-aeb6a777ef75".into(),
        image_addr: Addr(0x10_0000),
        image_size: 0x100_0000,
        ..NativeDebugImage::default()
    })]
}

const SOURCES: Sources = Sources {
    thread_name: name_of,
    images: image,
};

/// A 40-frame stack whose innermost `vary` frames depend on `seed`.
fn stack(seed: u64, vary: usize) -> Vec<u64> {
    (0..40u64)
        .map(|depth| {
            let base = 0x10_0000 + depth * 0x1000;
            if (depth as usize) < vary {
                base + (seed % 64) * 8
            } else {
                base
            }
        })
        .collect()
}

fn at(round: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_micros(round * 9901)
}

fn aggregate(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate");
    group.throughput(Throughput::Elements(1));

    let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
    let known = stack(1, 0);
    let mut round = 0u64;
    group.bench_function("sample_seen_stack", |b| {
        b.iter(|| {
            round += 1;
            if agg.len() >= aggregator::MAX_SAMPLES {
                let _ = agg.take_chunk(at(round));
            }
            agg.add(black_box(&RawSample {
                thread_id: 7,
                timestamp: at(round),
                frames: &known,
            }));
        });
    });

    let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
    let mut seed = 0u64;
    group.bench_function("sample_varied_leaf_stack", |b| {
        b.iter(|| {
            seed += 1;
            if agg.len() >= aggregator::MAX_SAMPLES {
                let _ = agg.take_chunk(at(seed));
            }
            let frames = stack(seed, 3);
            agg.add(black_box(&RawSample {
                thread_id: 7 + seed % 8,
                timestamp: at(seed),
                frames: &frames,
            }));
        });
    });
    group.finish();

    // A minute of 8 threads at 101 Hz, the stacks varying in their 3 innermost frames.
    let mut group = c.benchmark_group("chunk");
    group.sample_size(10);
    let samples = 101 * 60 * 8u64;
    group.throughput(Throughput::Elements(samples));
    group.bench_function("minute_of_8_threads_to_json", |b| {
        b.iter_batched(
            || {
                let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
                for i in 0..samples {
                    let frames = stack(i / 8, 3);
                    agg.add(&RawSample {
                        thread_id: 100 + i % 8,
                        timestamp: at(i / 8),
                        frames: &frames,
                    });
                }
                agg
            },
            |mut agg| {
                let (chunk, _) = agg.take_chunk(at(samples));
                let json = serde_json::to_vec(&chunk).expect("a chunk serializes");
                black_box(json.len())
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, aggregate);
criterion_main!(benches);
