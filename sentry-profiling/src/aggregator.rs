//! Samples into profile chunks: frames and stacks deduplicated, threads named, images listed.
//!
//! The aggregator runs on the sampler's thread (through [`ChunkSink`](crate::sink::ChunkSink)),
//! so a sample costs a few hash lookups there and nothing on the sampled threads. Memory is
//! bounded per chunk: at most [`MAX_SAMPLES`] samples, [`MAX_FRAMES`] distinct frames and
//! [`MAX_STACK_ENTRIES`] frame indices in distinct stacks; what comes beyond is dropped and
//! counted.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sentry_core::protocol::{
    DebugImage, DebugMeta, EventId, ProfileChunk, ProfileFrame, ProfileSample, ProfileThread,
};

use crate::hash::FastHash;
use crate::sampler::RawSample;

/// How long a chunk covers before it is sent (Relay accepts up to 66 s).
pub(crate) const CHUNK_INTERVAL: Duration = Duration::from_secs(60);

/// The most samples one chunk holds: a minute of 32 threads at 101 Hz. At 24 bytes a sample
/// in memory that is 4.7 MB, about 13 MB of JSON.
pub(crate) const MAX_SAMPLES: usize = 101 * 60 * 32;

/// The most frame indices the distinct stacks of one chunk hold together (4 bytes each in
/// memory, 8 MB; a few bytes each in JSON).
pub(crate) const MAX_STACK_ENTRIES: usize = 2_000_000;

/// The most distinct frames one chunk holds (about 48 bytes each with their index).
pub(crate) const MAX_FRAMES: usize = 500_000;

/// The least time between two reloads of the image list (an address outside every known
/// image asks for one; code outside any file, such as JIT code, must not reload on every
/// sample).
const IMAGE_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// Where the aggregator learns thread names and loaded images (the sampler and
/// `sentry_backtrace` in the profiler; fixed tables in tests).
#[derive(Clone, Copy)]
pub(crate) struct Sources {
    /// The name of a thread of this process.
    pub(crate) thread_name: fn(u64) -> Option<String>,
    /// The images loaded now.
    pub(crate) images: fn() -> Vec<DebugImage>,
}

/// One sample as kept until the chunk is built.
struct Sample {
    timestamp: f64,
    stack_id: u32,
    thread_id: u64,
}

/// The drops of one chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Samples beyond [`MAX_SAMPLES`] or whose new stack did not fit [`MAX_STACK_ENTRIES`].
    pub(crate) over_capacity: u64,
    /// Samples with no frame at all.
    pub(crate) empty: u64,
}

/// Collects the samples of one chunk at a time.
pub(crate) struct Aggregator {
    profiler_id: EventId,
    sources: Sources,
    frames: Vec<ProfileFrame>,
    frame_ids: HashMap<u64, u32, FastHash>,
    stacks: Vec<Vec<u32>>,
    stack_ids: HashMap<Vec<u32>, u32, FastHash>,
    stack_entries: usize,
    samples: Vec<Sample>,
    threads: BTreeMap<u64, Option<String>>,
    images: Vec<DebugImage>,
    /// `(start, end)` of each image, sorted by start.
    ranges: Vec<(u64, u64)>,
    images_loaded_at: Option<SystemTime>,
    chunk_started: SystemTime,
    dropped: Dropped,
    /// A scratch buffer for a sample's frame indices.
    scratch: Vec<u32>,
}

impl Aggregator {
    pub(crate) fn new(profiler_id: EventId, sources: Sources, now: SystemTime) -> Aggregator {
        Aggregator {
            profiler_id,
            sources,
            frames: Vec::new(),
            frame_ids: HashMap::default(),
            stacks: Vec::new(),
            stack_ids: HashMap::default(),
            stack_entries: 0,
            samples: Vec::new(),
            threads: BTreeMap::new(),
            images: Vec::new(),
            ranges: Vec::new(),
            images_loaded_at: None,
            chunk_started: now,
            dropped: Dropped::default(),
            scratch: Vec::new(),
        }
    }

    /// Adds one sample.
    pub(crate) fn add(&mut self, sample: &RawSample<'_>) {
        if sample.frames.iter().all(|&addr| addr == 0) {
            self.dropped.empty += 1;
            return;
        }
        if self.samples.len() >= MAX_SAMPLES {
            self.dropped.over_capacity += 1;
            return;
        }
        self.scratch.clear();
        let mut unknown_image = false;
        for &addr in sample.frames.iter().filter(|&&addr| addr != 0) {
            let id = match self.frame_ids.get(&addr) {
                Some(&id) => id,
                None if self.frames.len() >= MAX_FRAMES => {
                    self.dropped.over_capacity += 1;
                    return;
                }
                None => {
                    let id = self.frames.len() as u32;
                    self.frame_ids.insert(addr, id);
                    self.frames.push(ProfileFrame::from_addr(addr));
                    unknown_image |= !self.in_known_image(addr);
                    id
                }
            };
            self.scratch.push(id);
        }
        let stack_id = match self.stack_ids.get(self.scratch.as_slice()) {
            Some(&id) => id,
            None => {
                if self.stack_entries + self.scratch.len() > MAX_STACK_ENTRIES {
                    self.dropped.over_capacity += 1;
                    return;
                }
                let id = self.stacks.len() as u32;
                self.stack_entries += self.scratch.len();
                let stack = self.scratch.clone();
                self.stack_ids.insert(stack.clone(), id);
                self.stacks.push(stack);
                id
            }
        };
        if unknown_image {
            self.reload_images(sample.timestamp);
        }
        let thread_id = sample.thread_id;
        if !self.threads.contains_key(&thread_id) {
            let name = (self.sources.thread_name)(thread_id);
            self.threads.insert(thread_id, name);
        }
        self.samples.push(Sample {
            timestamp: seconds(sample.timestamp),
            stack_id,
            thread_id,
        });
    }

    fn in_known_image(&self, addr: u64) -> bool {
        let i = self.ranges.partition_point(|&(start, _)| start <= addr);
        i > 0 && addr < self.ranges[i - 1].1
    }

    fn reload_images(&mut self, now: SystemTime) {
        let recent = self.images_loaded_at.is_some_and(|at| {
            now.duration_since(at)
                .is_ok_and(|age| age < IMAGE_RELOAD_INTERVAL)
        });
        if recent {
            return;
        }
        self.images_loaded_at = Some(now);
        self.images = (self.sources.images)();
        self.ranges = self.images.iter().filter_map(range).collect();
        self.ranges.sort_unstable();
    }

    /// `true` once the chunk has covered [`CHUNK_INTERVAL`] at `now`.
    pub(crate) fn is_due(&self, now: SystemTime) -> bool {
        now.duration_since(self.chunk_started)
            .is_ok_and(|age| age >= CHUNK_INTERVAL)
    }

    /// How many samples the current chunk holds.
    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Ends the current chunk: returns it (possibly empty; the client counts an empty one)
    /// with what was dropped from it, and starts the next at `now`.
    pub(crate) fn take_chunk(&mut self, now: SystemTime) -> (ProfileChunk, Dropped) {
        let mut chunk = ProfileChunk::new(self.profiler_id);
        let samples = std::mem::take(&mut self.samples);
        let threads = std::mem::take(&mut self.threads);
        chunk.profile.samples = samples
            .into_iter()
            .map(|s| ProfileSample {
                timestamp: s.timestamp,
                stack_id: s.stack_id,
                thread_id: s.thread_id.to_string(),
            })
            .collect();
        chunk.profile.thread_metadata = threads
            .into_iter()
            .map(|(id, name)| {
                (
                    id.to_string(),
                    ProfileThread {
                        name,
                        priority: None,
                    },
                )
            })
            .collect();
        // Only the images some frame points into.
        let frames = std::mem::take(&mut self.frames);
        chunk.debug_meta = DebugMeta {
            images: self
                .images
                .iter()
                .filter(|image| {
                    range(image).is_some_and(|(start, end)| {
                        frames
                            .iter()
                            .any(|f| (start..end).contains(&f.instruction_addr.0))
                    })
                })
                .cloned()
                .collect(),
        };
        chunk.profile.frames = frames;
        chunk.profile.stacks = std::mem::take(&mut self.stacks);
        self.frame_ids.clear();
        self.stack_ids.clear();
        self.stack_entries = 0;
        self.chunk_started = now;
        (chunk, std::mem::take(&mut self.dropped))
    }
}

/// An image's `[start, end)`.
fn range(image: &DebugImage) -> Option<(u64, u64)> {
    match image {
        DebugImage::Elf(native) | DebugImage::MachO(native) | DebugImage::Pe(native) => {
            let start = native.image_addr.0;
            Some((start, start.saturating_add(native.image_size)))
        }
        _ => None,
    }
}

/// Seconds since the Unix epoch, to the microsecond.
pub(crate) fn seconds(time: SystemTime) -> f64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_secs() as f64 + f64::from(since.subsec_micros()) / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::{Addr, NativeDebugImage};

    fn name_of(tid: u64) -> Option<String> {
        (tid == 1).then(|| "main".to_owned())
    }

    fn one_image() -> Vec<DebugImage> {
        vec![DebugImage::Elf(NativeDebugImage {
            code_file: "/bin/app".into(),
            debug_id: "dfb8e43a-f242-3d73-a453-aeb6a777ef75".into(),
            image_addr: Addr(0x1000),
            image_size: 0x1000,
            ..NativeDebugImage::default()
        })]
    }

    fn no_images() -> Vec<DebugImage> {
        Vec::new()
    }

    const SOURCES: Sources = Sources {
        thread_name: name_of,
        images: one_image,
    };

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_millis(ms)
    }

    fn sample(tid: u64, ms: u64, frames: &[u64]) -> RawSample<'_> {
        RawSample {
            thread_id: tid,
            timestamp: at(ms),
            frames,
        }
    }

    #[test]
    fn frames_and_stacks_are_deduplicated() {
        let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
        agg.add(&sample(1, 10, &[0x1100, 0x1200, 0x1300]));
        agg.add(&sample(1, 20, &[0x1100, 0x1200, 0x1300]));
        agg.add(&sample(2, 20, &[0x1150, 0x1200, 0x1300]));
        let (chunk, dropped) = agg.take_chunk(at(30));
        assert_eq!(dropped, Dropped::default());
        let p = &chunk.profile;
        assert_eq!(p.frames.len(), 4);
        assert_eq!(p.stacks, vec![vec![0, 1, 2], vec![3, 1, 2]]);
        let ids: Vec<_> = p.samples.iter().map(|s| s.stack_id).collect();
        assert_eq!(ids, [0, 0, 1]);
        assert_eq!(p.frames[3].instruction_addr, Addr(0x1150));
        assert_eq!(p.samples[0].thread_id, "1");
        assert!((p.samples[1].timestamp - 1_700_000_000.02).abs() < 1e-6);
        // Every index points at something.
        for stack in &p.stacks {
            assert!(stack.iter().all(|&f| (f as usize) < p.frames.len()));
        }
    }

    #[test]
    fn threads_are_named_once_per_chunk() {
        let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
        agg.add(&sample(1, 10, &[0x1100]));
        agg.add(&sample(7, 10, &[0x1100]));
        let (chunk, _) = agg.take_chunk(at(20));
        let threads = &chunk.profile.thread_metadata;
        assert_eq!(threads.len(), 2);
        assert_eq!(threads["1"].name.as_deref(), Some("main"));
        assert_eq!(threads["7"].name, None);
    }

    #[test]
    fn a_new_chunk_starts_empty_and_restarts_its_tables() {
        let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
        agg.add(&sample(1, 10, &[0x1100, 0x1200]));
        let (first, _) = agg.take_chunk(at(20));
        agg.add(&sample(1, 30, &[0x1200]));
        let (second, _) = agg.take_chunk(at(40));
        assert_ne!(first.chunk_id, second.chunk_id);
        assert_eq!(second.profile.frames.len(), 1);
        assert_eq!(second.profile.stacks, vec![vec![0]]);
        assert_eq!(second.profile.samples.len(), 1);
        let (third, _) = agg.take_chunk(at(50));
        assert!(third.is_empty());
    }

    #[test]
    fn chunks_are_due_every_sixty_seconds() {
        let agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
        assert!(!agg.is_due(at(59_999)));
        assert!(agg.is_due(at(60_000)));
        let mut agg = agg;
        let _ = agg.take_chunk(at(60_000));
        assert!(!agg.is_due(at(119_000)));
        assert!(agg.is_due(at(120_000)));
    }

    #[test]
    fn debug_meta_lists_the_images_frames_point_into() {
        let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
        agg.add(&sample(1, 10, &[0x1100, 0x9999]));
        let (chunk, _) = agg.take_chunk(at(20));
        assert_eq!(chunk.debug_meta.images.len(), 1);
        // No frame in the image: none listed.
        agg.add(&sample(1, 30, &[0x9999]));
        let (chunk, _) = agg.take_chunk(at(40));
        assert!(chunk.debug_meta.images.is_empty());

        let mut without = Aggregator::new(
            EventId::nil(),
            Sources {
                thread_name: name_of,
                images: no_images,
            },
            at(0),
        );
        without.add(&sample(1, 10, &[0x1100]));
        assert!(without.take_chunk(at(20)).0.debug_meta.images.is_empty());
    }

    #[test]
    fn samples_beyond_the_cap_are_dropped_and_counted() {
        let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
        for i in 0..MAX_SAMPLES as u64 + 5 {
            agg.add(&sample(1, i % 60_000, &[0x1100]));
        }
        agg.add(&sample(1, 10, &[0, 0]));
        assert_eq!(agg.len(), MAX_SAMPLES);
        let (chunk, dropped) = agg.take_chunk(at(60_000));
        assert_eq!(chunk.profile.samples.len(), MAX_SAMPLES);
        assert_eq!(
            dropped,
            Dropped {
                over_capacity: 5,
                empty: 1
            }
        );
        // The next chunk starts with nothing dropped.
        assert_eq!(agg.take_chunk(at(60_001)).1, Dropped::default());
    }

    #[test]
    fn distinct_stacks_are_capped_too() {
        let mut agg = Aggregator::new(EventId::nil(), SOURCES, at(0));
        let deep: Vec<u64> = (0..1000).map(|i| 0x1000 + i).collect();
        let mut frames = deep.clone();
        // Each sample a new stack of 1000 frames: 2000 of them fill the entries.
        for i in 0..(MAX_STACK_ENTRIES / 1000) as u64 + 3 {
            frames[0] = 0x10_0000 + i;
            agg.add(&sample(1, 10, &frames));
        }
        let (chunk, dropped) = agg.take_chunk(at(20));
        assert_eq!(chunk.profile.stacks.len(), MAX_STACK_ENTRIES / 1000);
        assert_eq!(dropped.over_capacity, 3);
        // A stack already seen still counts.
        let _ = deep;
    }
}
