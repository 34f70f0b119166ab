//! Source context: the lines around a frame's line, read from its source file.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use sentry_core::protocol::{Frame, SortedMap};

/// Lines of context before and after a frame's line.
pub const CONTEXT_LINES: usize = 5;
/// Source files larger than this are not read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// How many files the cache keeps (the oldest is evicted first).
pub const MAX_CACHED_FILES: usize = 64;
/// Context lines longer than this many characters are cut.
const MAX_LINE_CHARS: usize = 200;

type Lines = Option<Arc<[String]>>;

#[derive(Default)]
struct Cache {
    files: SortedMap<String, Lines>,
    order: VecDeque<String>,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

/// The lines of a file, read once and cached; `None` if it is missing, too big or not text.
fn lines_of(path: &str) -> Lines {
    {
        let mut guard = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = guard.get_or_insert_with(Cache::default).files.get(path) {
            return hit.clone();
        }
    }
    // Read outside the lock.
    let lines = read_lines(path);
    let mut guard = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = guard.get_or_insert_with(Cache::default);
    if !cache.files.contains_key(path) {
        while cache.order.len() >= MAX_CACHED_FILES {
            match cache.order.pop_front() {
                Some(old) => {
                    cache.files.remove(&old);
                }
                None => break,
            }
        }
        cache.order.push_back(path.to_owned());
        cache.files.insert(path.to_owned(), lines.clone());
    }
    lines
}

fn read_lines(path: &str) -> Lines {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.lines().map(cut_line).collect())
}

fn cut_line(line: &str) -> String {
    let line = line.trim_end_matches('\r');
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((idx, _)) => line[..idx].to_owned(),
        None => line.to_owned(),
    }
}

/// Fills `pre_context`, `context_line` and `post_context` ([`CONTEXT_LINES`] each) from the
/// frame's `abs_path` and `lineno`, when the file exists. Returns `true` if it did.
///
/// Files are read once and cached ([`MAX_CACHED_FILES`] files, none larger than
/// [`MAX_FILE_BYTES`]).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::Frame;
///
/// let mut frame = Frame {
///     abs_path: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/src/source.rs").into()),
///     lineno: Some(1),
///     ..Frame::default()
/// };
/// assert!(sentry_backtrace::add_source_context(&mut frame));
/// assert!(frame.context_line.unwrap().starts_with("//! Source context"));
/// assert!(frame.pre_context.is_empty());
/// assert_eq!(frame.post_context.len(), 5);
/// ```
pub fn add_source_context(frame: &mut Frame) -> bool {
    let (Some(path), Some(lineno)) = (frame.abs_path.as_deref(), frame.lineno) else {
        return false;
    };
    let Some(lines) = lines_of(path) else {
        return false;
    };
    let Ok(idx) = usize::try_from(lineno) else {
        return false;
    };
    if idx == 0 || idx > lines.len() {
        return false;
    }
    let idx = idx - 1;
    frame.pre_context = lines[idx.saturating_sub(CONTEXT_LINES)..idx].to_vec();
    frame.context_line = Some(lines[idx].clone());
    frame.post_context = lines[idx + 1..(idx + 1 + CONTEXT_LINES).min(lines.len())].to_vec();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_out_of_range() {
        let mut frame = Frame {
            abs_path: Some("/definitely/not/here.rs".into()),
            lineno: Some(3),
            ..Frame::default()
        };
        assert!(!add_source_context(&mut frame));
        frame.abs_path = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/src/source.rs").into());
        frame.lineno = Some(1_000_000);
        assert!(!add_source_context(&mut frame));
        frame.lineno = Some(8);
        assert!(add_source_context(&mut frame));
        assert_eq!(frame.pre_context.len(), 5);
        assert!(frame.context_line.is_some());
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "é".repeat(500);
        assert_eq!(cut_line(&long).chars().count(), MAX_LINE_CHARS);
    }
}
