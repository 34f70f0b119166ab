//! A readable rendering of a `profile_chunk` item: its ids, threads, sample count and
//! duration, and its hottest stacks, symbolized here with the SDK's own symbolizer from the
//! images the chunk lists (the sender ran on this machine, so its files are here too).

use std::collections::HashMap;
use std::fmt::Write as _;

use sentry::integrations::backtrace::{symbolize_addresses, LoadedImage};
use sentry_core::envelope::RawItem;
use sentry_core::protocol::{DebugImage, ProfileChunk};

/// How many of the most sampled stacks are shown.
pub const HOT_STACKS_SHOWN: usize = 5;
/// How many frames of each hot stack are shown, innermost first.
pub const FRAMES_SHOWN: usize = 8;

/// Renders a `profile_chunk` item into `out`, indented like the other items of
/// [`format_envelope`](crate::display::format_envelope).
///
/// # Examples
///
/// ```
/// use sentry_core::envelope::{ItemType, RawItem};
/// use sentry_core::protocol::{ProfileChunk, ProfileFrame, ProfileSample};
///
/// let mut chunk = ProfileChunk::new(sentry_core::protocol::new_event_id());
/// chunk.profile.frames.push(ProfileFrame::from_addr(0x10));
/// chunk.profile.stacks.push(vec![0]);
/// chunk.profile.samples.push(ProfileSample { timestamp: 1.0, stack_id: 0, thread_id: "5".into() });
/// chunk.profile.thread_metadata.insert("5".into(), Default::default());
/// let item = RawItem::new(ItemType::ProfileChunk, serde_json::to_vec(&chunk).unwrap());
/// let mut out = String::new();
/// sentry_tests::display_profile::format_profile_chunk(&mut out, &item);
/// assert!(out.contains("1 sample"), "{out}");
/// assert!(out.contains("100.0%"), "{out}");
/// ```
pub fn format_profile_chunk(out: &mut String, raw: &RawItem) {
    let platform = raw
        .headers
        .get("platform")
        .and_then(|v| v.as_str())
        .unwrap_or("(no platform header)");
    let chunk: ProfileChunk = match serde_json::from_slice(&raw.payload) {
        Ok(chunk) => chunk,
        Err(err) => {
            let _ = writeln!(
                out,
                "      {} bytes, not a profile chunk: {err}",
                raw.payload.len()
            );
            return;
        }
    };
    let p = &chunk.profile;
    let _ = writeln!(
        out,
        "      profiler {}  chunk {}  platform {platform}  release {}  environment {}",
        chunk.profiler_id,
        chunk.chunk_id,
        chunk.release.as_deref().unwrap_or("-"),
        chunk.environment.as_deref().unwrap_or("-"),
    );
    let _ = writeln!(
        out,
        "      {} sample{} over {:.2} s; {} stacks, {} frames, {} images, {} bytes",
        p.samples.len(),
        if p.samples.len() == 1 { "" } else { "s" },
        chunk.duration_seconds(),
        p.stacks.len(),
        p.frames.len(),
        chunk.debug_meta.images.len(),
        raw.payload.len()
    );
    let mut per_thread: HashMap<&str, usize> = HashMap::new();
    for sample in &p.samples {
        *per_thread.entry(sample.thread_id.as_str()).or_default() += 1;
    }
    let mut threads: Vec<_> = per_thread.into_iter().collect();
    threads.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let thread_name = |tid: &str| {
        p.thread_metadata
            .get(tid)
            .and_then(|t| t.name.clone())
            .unwrap_or_else(|| "(unnamed)".into())
    };
    let list: Vec<String> = threads
        .iter()
        .map(|(tid, n)| format!("{tid} {} ({n})", thread_name(tid)))
        .collect();
    let _ = writeln!(out, "      threads: {}", list.join(", "));

    let images = loaded_images(&chunk.debug_meta.images);
    let total = p.samples.len().max(1);
    // Stacks by their functions, not their addresses: samples in one loop land on several
    // instructions of it, which are one stack to a reader.
    let mut names_of_frame: HashMap<u32, Vec<String>> = HashMap::new();
    let mut key_of_stack: HashMap<u32, Vec<String>> = HashMap::new();
    let mut per_key: HashMap<Vec<String>, (usize, &str)> = HashMap::new();
    for sample in &p.samples {
        let key = key_of_stack.entry(sample.stack_id).or_insert_with(|| {
            let frames = p.stacks.get(sample.stack_id as usize);
            frames
                .into_iter()
                .flatten()
                .flat_map(|&f| {
                    names_of_frame
                        .entry(f)
                        .or_insert_with(|| frame_names(&chunk, f, &images))
                        .clone()
                })
                .collect()
        });
        let entry = per_key
            .entry(key.clone())
            .or_insert((0, sample.thread_id.as_str()));
        entry.0 += 1;
    }
    // Where each sample was in code outside the standard library: in a debug build a loop's
    // samples land in many small std functions it calls, which hides the loop itself.
    let mut per_own: HashMap<&str, usize> = HashMap::new();
    for sample in &p.samples {
        let own = key_of_stack
            .get(&sample.stack_id)
            .and_then(|names| names.iter().find(|n| !is_std(n)));
        if let Some(own) = own {
            *per_own.entry(own.as_str()).or_default() += 1;
        }
    }
    let mut own: Vec<_> = per_own.into_iter().collect();
    own.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let list: Vec<String> = own
        .iter()
        .take(HOT_STACKS_SHOWN)
        .map(|(name, n)| format!("{name} {:.1}%", *n as f64 * 100.0 / total as f64))
        .collect();
    let _ = writeln!(
        out,
        "      innermost function outside std: {}",
        list.join(", ")
    );
    let mut hot: Vec<_> = per_key.into_iter().collect();
    hot.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
    for (rank, (names, (count, tid))) in hot.into_iter().take(HOT_STACKS_SHOWN).enumerate() {
        let _ = writeln!(
            out,
            "      #{} {:.1}% ({count} samples), e.g. thread {}",
            rank + 1,
            count as f64 * 100.0 / total as f64,
            thread_name(tid)
        );
        let shown = names.len().min(FRAMES_SHOWN);
        for name in &names[..shown] {
            let _ = writeln!(out, "           {name}");
        }
        if names.len() > shown {
            let _ = writeln!(out, "           … {} more frames", names.len() - shown);
        }
    }
}

/// The function names at frame `index` of a chunk, innermost first (an inlined call adds
/// one), or its address when it does not resolve.
fn frame_names(chunk: &ProfileChunk, index: u32, images: &[LoadedImage]) -> Vec<String> {
    let Some(addr) = chunk
        .profile
        .frames
        .get(index as usize)
        .map(|f| f.instruction_addr)
    else {
        return vec!["?".into()];
    };
    let names: Vec<String> = symbolize_addresses(&[addr.0], images)
        .into_iter()
        .filter_map(|frame| frame.function)
        .collect();
    if names.is_empty() {
        vec![addr.to_string()]
    } else {
        names
    }
}

/// `true` for a function of Rust's standard library, or of the C library below it (an
/// unresolved address, `syscall`, `clock_nanosleep`: names without a path).
fn is_std(name: &str) -> bool {
    if !name.contains("::") || name.starts_with("0x") {
        return true;
    }
    // `<Type as Trait>::method`: the type's crate decides, or the trait's for a generic
    // parameter (`<I as alloc::…>`).
    let path = name.trim_start_matches('<');
    let path = match path.split_once(" as ") {
        Some((ty, tr)) if !ty.contains("::") => tr,
        Some((ty, _)) => ty,
        None => path,
    };
    ["core::", "std::", "alloc::"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// The images of a chunk's `debug_meta`, as the symbolizer takes them.
pub fn loaded_images(images: &[DebugImage]) -> Vec<LoadedImage> {
    images
        .iter()
        .filter_map(|image| match image {
            DebugImage::Elf(native) | DebugImage::MachO(native) | DebugImage::Pe(native) => {
                let start = native.image_addr.0;
                Some(LoadedImage::from_range(
                    native.code_file.clone(),
                    start,
                    start.saturating_add(native.image_size),
                ))
            }
            _ => None,
        })
        .collect()
}

/// The function names of the stacks of a chunk, symbolized with its images: one list per
/// stack, innermost first. Tests look for their own functions in it.
pub fn symbolized_stacks(chunk: &ProfileChunk) -> Vec<Vec<String>> {
    let images = loaded_images(&chunk.debug_meta.images);
    chunk
        .profile
        .stacks
        .iter()
        .map(|stack| {
            let ips: Vec<u64> = stack
                .iter()
                .filter_map(|&f| chunk.profile.frames.get(f as usize))
                .map(|f| f.instruction_addr.0)
                .collect();
            symbolize_addresses(&ips, &images)
                .into_iter()
                .filter_map(|frame| frame.function)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::is_std;

    #[test]
    fn std_functions_are_told_apart() {
        for name in [
            "syscall",
            "0x7f00",
            "core::hint::black_box",
            "<core::iter::adapters::enumerate::Enumerate<I> as core::iter::traits::iterator::Iterator>::next",
            "<I as alloc::sync::ToArcSlice<T>>::to_arc_slice",
        ] {
            assert!(is_std(name), "{name}");
        }
        for name in [
            "demo::profiling::checksum_orders",
            "<demo::Config as core::fmt::Display>::fmt",
            "sentry_backtrace::symbolize::symbolize",
        ] {
            assert!(!is_std(name), "{name}");
        }
    }
}
