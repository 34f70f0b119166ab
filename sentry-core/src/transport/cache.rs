//! The offline cache: envelopes on disk until Sentry has answered for them.
//!
//! One file per envelope, named `<unix nanos>-<pid>-<counter>.envelope` so that names sort
//! oldest first and never collide between processes sharing a directory. A file is written
//! under a `.tmp` name and renamed into place, so a reader (the next process, after a crash)
//! never sees half an envelope. Files hold the envelope exactly as it is sent, minus `sent_at`
//! (stamped at each attempt) and minus client reports (their counts live in memory and are
//! restored on failure, so persisting them would count twice).
//!
//! The cache is bounded by a number of files and a number of bytes; storing past either bound
//! deletes the oldest files, whose items are counted as `cache_overflow`.
//!
//! Writes are not `fsync`ed: the cache survives the process crashing or being killed (the
//! kernel has the data), not the machine losing power.

use sentry_minimal::SortedMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::discard::record_envelope;
use super::CacheOptions;
use crate::client_reports::{ClientReports, DiscardReason};
use crate::envelope::Envelope;

/// The extension of finished cache files.
const EXTENSION: &str = "envelope";
/// The prefix of files being written.
const TEMP_PREFIX: &str = ".tmp-";
/// Temp files older than this are leftovers of a crashed writer and are removed at open.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Envelopes on disk, oldest first.
pub(crate) struct DiskCache {
    dir: PathBuf,
    max_envelopes: usize,
    max_bytes: u64,
    /// File name → size, in name (= age) order.
    index: Mutex<SortedMap<String, u64>>,
    counter: AtomicU64,
    reports: Arc<ClientReports>,
}

impl DiskCache {
    /// Opens (creating if needed) the cache directory and indexes the envelopes already there,
    /// which are the ones a previous process did not get delivered.
    pub(crate) fn open(options: &CacheOptions, reports: Arc<ClientReports>) -> io::Result<Self> {
        fs::create_dir_all(&options.dir)?;
        let mut index = SortedMap::new();
        for entry in fs::read_dir(&options.dir)? {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            if name.starts_with(TEMP_PREFIX) {
                let stale = metadata
                    .modified()
                    .ok()
                    .and_then(|modified| modified.elapsed().ok())
                    .is_some_and(|age| age > STALE_TEMP_AGE);
                if stale {
                    let _ = fs::remove_file(entry.path());
                }
                continue;
            }
            if Path::new(&name)
                .extension()
                .is_some_and(|ext| ext == EXTENSION)
            {
                index.insert(name, metadata.len());
            }
        }
        if !index.is_empty() {
            crate::sentry_debug!(
                "offline cache {}: {} envelope(s) from earlier runs to send",
                options.dir.display(),
                index.len()
            );
        }
        let cache = DiskCache {
            dir: options.dir.clone(),
            max_envelopes: options.max_envelopes.max(1),
            max_bytes: options.max_bytes.max(1),
            index: Mutex::new(index),
            counter: AtomicU64::new(0),
            reports,
        };
        cache.enforce_limits(None);
        Ok(cache)
    }

    fn index(&self) -> std::sync::MutexGuard<'_, SortedMap<String, u64>> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `envelope` (without `sent_at`) to a new file and returns its path. Older files
    /// are evicted if the cache is over its bounds.
    ///
    /// # Errors
    ///
    /// The file system's error, or `InvalidInput` when the envelope alone is larger than the
    /// cache may hold.
    pub(crate) fn store(&self, envelope: &Envelope) -> io::Result<PathBuf> {
        let body = envelope.to_vec(None);
        if body.len() as u64 > self.max_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "envelope is larger than the offline cache",
            ));
        }
        let name = self.new_name();
        let path = self.dir.join(&name);
        let temp = self.dir.join(format!("{TEMP_PREFIX}{name}"));
        let written = fs::File::create(&temp)
            .and_then(|mut file| file.write_all(&body))
            .and_then(|()| fs::rename(&temp, &path));
        if let Err(error) = written {
            let _ = fs::remove_file(&temp);
            return Err(error);
        }
        self.index().insert(name.clone(), body.len() as u64);
        self.enforce_limits(Some(&name));
        Ok(path)
    }

    fn new_name(&self) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let counter = self.counter.fetch_add(1, Ordering::Relaxed);
        format!(
            "{nanos:024}-{pid:010}-{counter:010}.{EXTENSION}",
            pid = std::process::id()
        )
    }

    /// Deletes the oldest files (never `keep`) while over a bound, counting their items as
    /// `cache_overflow`.
    fn enforce_limits(&self, keep: Option<&str>) {
        loop {
            let victim = {
                let mut index = self.index();
                let total: u64 = index.values().sum();
                if index.len() <= self.max_envelopes && total <= self.max_bytes {
                    return;
                }
                let Some(name) = index
                    .keys()
                    .find(|name| Some(name.as_str()) != keep)
                    .cloned()
                else {
                    return;
                };
                index.remove(&name);
                name
            };
            let path = self.dir.join(&victim);
            crate::sentry_debug!("offline cache is full: dropping {victim}");
            if let Ok(bytes) = fs::read(&path) {
                if let Ok(envelope) = Envelope::from_bytes_raw(&bytes) {
                    record_envelope(&self.reports, DiscardReason::CacheOverflow, &envelope);
                }
            }
            let _ = fs::remove_file(&path);
        }
    }

    /// The oldest cached envelope's path.
    pub(crate) fn oldest(&self) -> Option<PathBuf> {
        self.index().keys().next().map(|name| self.dir.join(name))
    }

    /// How many envelopes are cached.
    pub(crate) fn len(&self) -> usize {
        self.index().len()
    }

    /// Reads a cached envelope. A file that cannot be read or parsed (damaged, written by
    /// something else) is removed and `None` returned.
    pub(crate) fn load(&self, path: &Path) -> Option<Envelope> {
        let parsed = fs::read(path)
            .map_err(|error| error.to_string())
            .and_then(|bytes| Envelope::from_bytes_raw(&bytes).map_err(|error| error.to_string()));
        match parsed {
            Ok(envelope) => Some(envelope),
            Err(error) => {
                crate::sentry_debug!(
                    "offline cache: dropping unreadable {}: {error}",
                    path.display()
                );
                self.remove(path);
                None
            }
        }
    }

    /// Deletes a cached envelope (after a final answer from the server).
    pub(crate) fn remove(&self, path: &Path) {
        if let Some(name) = path.file_name().and_then(|name| name.to_str()) {
            self.index().remove(name);
        }
        if let Err(error) = fs::remove_file(path) {
            if error.kind() != io::ErrorKind::NotFound {
                crate::sentry_debug!("offline cache: cannot delete {}: {error}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client_reports::DiscardReason;
    use crate::envelope::{DataCategory, ItemType};
    use crate::protocol::Event;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sentry-cache-test-{name}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn event(message: &str) -> Envelope {
        Envelope::from_event(Event {
            message: Some(message.to_owned()),
            ..Event::default()
        })
    }

    /// The message of the envelope's event; cached envelopes come back with raw items.
    fn message(envelope: &Envelope) -> Option<String> {
        envelope.items().find_map(|item| match item {
            crate::envelope::EnvelopeItem::Raw(raw) if raw.ty == ItemType::Event => {
                serde_json::from_slice::<serde_json::Value>(&raw.payload)
                    .ok()?
                    .pointer("/logentry/formatted")?
                    .as_str()
                    .map(str::to_owned)
            }
            _ => None,
        })
    }

    #[test]
    fn stores_reloads_and_removes_in_age_order() {
        let dir = temp_dir("order");
        let cache = DiskCache::open(&CacheOptions::new(&dir), Arc::default()).expect("open");
        let first = cache.store(&event("one")).expect("store");
        let second = cache.store(&event("two")).expect("store");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.oldest().as_deref(), Some(first.as_path()));
        let bytes = fs::read(&first).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains("sent_at"),
            "sent_at is never persisted"
        );
        // A second process sees the same files, oldest first.
        let reopened = DiskCache::open(&CacheOptions::new(&dir), Arc::default()).expect("open");
        assert_eq!(reopened.len(), 2);
        let loaded = reopened.load(&first).expect("parses");
        assert_eq!(message(&loaded).as_deref(), Some("one"));
        reopened.remove(&first);
        assert_eq!(reopened.oldest().as_deref(), Some(second.as_path()));
        assert!(!first.exists());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn over_the_bounds_the_oldest_go_and_are_counted() {
        let dir = temp_dir("bounds");
        let reports = Arc::new(ClientReports::new());
        let mut options = CacheOptions::new(&dir);
        options.max_envelopes = 3;
        let cache = DiskCache::open(&options, Arc::clone(&reports)).expect("open");
        let paths: Vec<PathBuf> = (0..5)
            .map(|i| cache.store(&event(&format!("e{i}"))).expect("store"))
            .collect();
        assert_eq!(cache.len(), 3);
        assert!(!paths[0].exists() && !paths[1].exists());
        assert!(paths[2..].iter().all(|path| path.exists()));
        let report = reports.take().expect("overflow counted");
        assert_eq!(report.total(), 2);
        assert_eq!(
            report.discarded_events[0].reason,
            DiscardReason::CacheOverflow
        );
        assert_eq!(report.discarded_events[0].category, DataCategory::Error);

        // The byte bound: an envelope larger than the cache is refused outright.
        let mut options = CacheOptions::new(&dir);
        options.max_bytes = 64;
        let small = DiskCache::open(&options, Arc::default()).expect("open");
        assert!(small.store(&event(&"x".repeat(100))).is_err());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn damaged_files_are_dropped_and_stray_files_ignored() {
        let dir = temp_dir("damaged");
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join("0-0-0.envelope"), b"not an envelope").expect("write");
        fs::write(dir.join("notes.txt"), b"unrelated").expect("write");
        fs::write(dir.join(".tmp-1-1-1.envelope"), b"half").expect("write");
        let cache = DiskCache::open(&CacheOptions::new(&dir), Arc::default()).expect("open");
        assert_eq!(cache.len(), 1);
        let path = cache.oldest().expect("indexed");
        assert!(cache.load(&path).is_none());
        assert_eq!(cache.len(), 0);
        assert!(!path.exists());
        assert!(
            dir.join("notes.txt").exists(),
            "foreign files are left alone"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unusable_directory_is_an_error() {
        let dir = temp_dir("file");
        fs::write(&dir, b"a file, not a directory").expect("write");
        assert!(DiskCache::open(&CacheOptions::new(&dir), Arc::default()).is_err());
        let _ = fs::remove_file(&dir);
    }
}
