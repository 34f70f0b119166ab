//! A continuous-profiling chunk (`profile_chunk` item, sample format version 2).

use std::collections::BTreeMap;

use sentry_minimal::EventId;
use serde::{Deserialize, Serialize};

use super::minimal_serde::wire;
use super::{Addr, DebugMeta};

/// The platform of the chunks this SDK sends. Sentry symbolicates `rust` profiles on the
/// server from their raw `instruction_addr`s and `debug_meta`.
pub const PROFILE_CHUNK_PLATFORM: &str = "rust";

/// The longest a chunk may cover: Relay rejects chunks over 66 s; the profiler cuts them
/// every 60 s.
pub const MAX_PROFILE_CHUNK_SECONDS: f64 = 66.0;

/// The largest chunk payload Relay accepts, in bytes.
pub const MAX_PROFILE_CHUNK_BYTES: usize = 50 * 1024 * 1024;

/// A piece of a continuous profile: what every thread was running, sampled at a fixed rate,
/// over at most a minute.
///
/// Samples point to stacks, stacks to frames, so that a frame or a stack seen many times is
/// written once. Frames are raw instruction addresses; Sentry resolves them with the images
/// of [`debug_meta`](Self::debug_meta).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{ProfileChunk, ProfileFrame, ProfileSample, Addr};
///
/// let mut chunk = ProfileChunk::new(sentry_core::protocol::new_event_id());
/// chunk.profile.frames.push(ProfileFrame::from_addr(0x5555_0000_1234));
/// chunk.profile.stacks.push(vec![0]);
/// chunk.profile.samples.push(ProfileSample {
///     timestamp: 1_700_000_000.25,
///     stack_id: 0,
///     thread_id: "4242".into(),
/// });
/// let json = serde_json::to_value(&chunk).unwrap();
/// assert_eq!(json["version"], "2");
/// assert_eq!(json["platform"], "rust");
/// assert_eq!(json["profile"]["frames"][0]["instruction_addr"], "0x555500001234");
/// let back: ProfileChunk = serde_json::from_value(json).unwrap();
/// assert_eq!(back, chunk);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileChunk {
    /// The sample format: `"2"`.
    pub version: String,
    /// The profiler session this chunk belongs to (the id transactions carry in
    /// `contexts.profile.profiler_id`).
    #[serde(with = "wire")]
    pub profiler_id: EventId,
    /// This chunk's own id.
    #[serde(with = "wire")]
    pub chunk_id: EventId,
    /// The platform, [`PROFILE_CHUNK_PLATFORM`]; the item header repeats it.
    pub platform: String,
    /// The SDK that sent the chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_sdk: Option<ProfileChunkSdk>,
    /// The release (Relay requires it; the client fills it from the options).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The environment (filled from the options).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The images the frames' addresses fall in.
    #[serde(default)]
    pub debug_meta: DebugMeta,
    /// The samples, stacks, frames and threads.
    pub profile: ProfileData,
}

/// The SDK that sent a chunk (`client_sdk`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChunkSdk {
    /// The SDK's name, `sentry.rust`.
    pub name: String,
    /// The SDK's version.
    pub version: String,
}

/// The body of a chunk (`profile`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileData {
    /// The samples, oldest first.
    #[serde(default)]
    pub samples: Vec<ProfileSample>,
    /// Stacks as indices into [`frames`](Self::frames), innermost (leaf) first.
    #[serde(default)]
    pub stacks: Vec<Vec<u32>>,
    /// The distinct frames.
    #[serde(default)]
    pub frames: Vec<ProfileFrame>,
    /// The threads seen, by id (the same string as the samples' `thread_id`).
    #[serde(default)]
    pub thread_metadata: BTreeMap<String, ProfileThread>,
}

/// One stack of one thread at one time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileSample {
    /// Seconds since the Unix epoch, to the microsecond.
    pub timestamp: f64,
    /// An index into [`ProfileData::stacks`].
    pub stack_id: u32,
    /// The thread's id (the kernel's thread id on Linux), as a string.
    pub thread_id: String,
}

/// One frame: a raw instruction address, symbolicated by Sentry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileFrame {
    /// The instruction's address.
    pub instruction_addr: Addr,
    /// The function's name, when the sender resolved it (this SDK leaves it to Sentry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

impl ProfileFrame {
    /// A frame of this address, unresolved.
    pub fn from_addr(addr: u64) -> ProfileFrame {
        ProfileFrame {
            instruction_addr: Addr(addr),
            function: None,
        }
    }
}

/// What is known of a thread (`thread_metadata` values).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileThread {
    /// The thread's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The thread's scheduling priority, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
}

impl ProfileChunk {
    /// An empty chunk of profiler `profiler_id`, with a new chunk id, version `"2"` and
    /// platform `rust`.
    pub fn new(profiler_id: EventId) -> ProfileChunk {
        ProfileChunk {
            version: "2".into(),
            profiler_id,
            chunk_id: super::new_event_id(),
            platform: PROFILE_CHUNK_PLATFORM.into(),
            client_sdk: None,
            release: None,
            environment: None,
            debug_meta: DebugMeta::default(),
            profile: ProfileData::default(),
        }
    }

    /// `true` when the chunk holds no sample (Sentry would reject it).
    pub fn is_empty(&self) -> bool {
        self.profile.samples.is_empty()
    }

    /// The time from the first sample to the last, in seconds (0 for fewer than 2 samples).
    ///
    /// ```
    /// use sentry_core::protocol::{ProfileChunk, ProfileSample};
    ///
    /// let mut chunk = ProfileChunk::new(sentry_core::protocol::new_event_id());
    /// for t in [10.0, 12.5, 11.0] {
    ///     chunk.profile.samples.push(ProfileSample { timestamp: t, stack_id: 0, thread_id: "1".into() });
    /// }
    /// assert_eq!(chunk.duration_seconds(), 2.5);
    /// ```
    pub fn duration_seconds(&self) -> f64 {
        let mut times = self.profile.samples.iter().map(|s| s.timestamp);
        let Some(first) = times.next() else {
            return 0.0;
        };
        let (min, max) = times.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t)));
        max - min
    }
}
