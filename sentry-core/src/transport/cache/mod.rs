//! The offline cache: envelopes on disk until Sentry has answered for them.
//!
//! One file per envelope, named `<unix nanos>-<pid>-<counter>.envelope` (see [`names`]), so
//! that names sort oldest first and never collide between processes sharing a directory. Only
//! files named exactly so are ever read, renamed or deleted; anything else in the directory is
//! left alone. A file is written under a `.tmp-` name and renamed into place, so a reader (the
//! next process, after a crash) never sees half an envelope. Files hold the envelope exactly as
//! it is sent, minus `sent_at` (stamped at each attempt) and minus client reports (persisted
//! separately, see [`reports`]). The directory is created `0700` and files `0600` on Unix.
//!
//! **Claims.** Before sending (or evicting, or absorbing) a file, a process renames it to
//! `<name>.<pid>.claimed`. The rename is atomic, so when two processes share a directory
//! exactly one of them gets each file; the other sees it gone and moves on. A claim is held for
//! one send: answered, the file is deleted; not answered, it is renamed back for a later retry.
//! A claim left by a process that died is taken back when a cache is opened: at once when its
//! process is no longer running (Linux, through `/proc`; processes sharing a directory must
//! see each other's pids), and in any case once it is older than twice the transport's request
//! timeout (at least a minute). `File::lock` would do as well, but needs Rust 1.89 and the
//! workspace supports 1.85.
//!
//! **Bounds.** The cache is bounded by a number of files and a number of bytes; storing past
//! either bound deletes the oldest files, whose items are counted as `cache_overflow`. A file
//! larger than the byte bound on its own is dropped by itself (counted the same way), never by
//! evicting others. Report files do not count against the bounds (a process keeps one).
//!
//! **Queued files.** An envelope written on the capturing thread is also queued in memory for
//! the worker. Its file is *queued* until the worker (or whoever drops it from the queue)
//! [releases](DiskCache::release) it: the worker does not send it from disk meanwhile, and
//! evicting it is not a loss (the copy in memory is still sent; only its crash safety is gone).
//!
//! Writes are not `fsync`ed: the cache survives the process crashing or being killed (the
//! kernel has the data), not the machine losing power.

mod files;
mod names;
mod reports;

use sentry_minimal::{SortedMap, Value};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::discard::{record_envelope, record_outcomes};
use super::CacheOptions;
use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem, ItemType, RawItem};
use crate::protocol::{DataCategory, DiscardReason};
use names::Kind;
use reports::{remove_quietly, ReportFiles};

/// Temp files older than this are leftovers of a crashed writer and are removed at open.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);
/// A claim is taken back after at least this long, whatever its process seems to be doing.
const MIN_STALE_CLAIM_AGE: Duration = Duration::from_secs(60);
/// How much of an oversized file is read to count it by its first item.
const PREFIX_LEN: u64 = 64 * 1024;

/// What became of a queued file when its envelope leaves the queue.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Release {
    /// The file is there; `raw` when it was written before the event finalizers ran.
    OnDisk { raw: bool },
    /// The file was evicted to keep the cache within its bounds while the envelope was queued:
    /// the envelope is only in memory now.
    Evicted,
    /// Another process took the file (and sends it).
    Gone,
}

#[derive(Clone, Copy)]
struct Entry {
    size: u64,
    queued: bool,
    raw: bool,
}

/// The unclaimed envelope files of the directory, oldest first.
#[derive(Default)]
struct Index {
    files: SortedMap<String, Entry>,
    bytes: u64,
    queued: usize,
    /// Queued files that were evicted, until their envelopes leave the queue.
    evicted: Vec<String>,
}

impl Index {
    fn insert(&mut self, name: String, entry: Entry) {
        self.bytes = self.bytes.saturating_add(entry.size);
        self.queued += usize::from(entry.queued);
        if let Some(old) = self.files.insert(name, entry) {
            self.forget(old);
        }
    }

    fn remove(&mut self, name: &str) -> Option<Entry> {
        let entry = self.files.remove(name)?;
        self.forget(entry);
        Some(entry)
    }

    fn forget(&mut self, entry: Entry) {
        self.bytes = self.bytes.saturating_sub(entry.size);
        self.queued -= usize::from(entry.queued);
    }
}

/// Envelopes on disk, oldest first.
pub(crate) struct DiskCache {
    dir: PathBuf,
    max_envelopes: usize,
    max_bytes: u64,
    stale_claim_age: Duration,
    pid: u32,
    index: Mutex<Index>,
    counter: AtomicU64,
    reports: Arc<ClientReports>,
    report_files: Mutex<ReportFiles>,
}

impl DiskCache {
    /// Opens (creating if needed) the cache directory and indexes the envelopes already there,
    /// which are the ones earlier processes did not get delivered. Claims of processes that are
    /// gone are taken back; oversized files are dropped and counted.
    ///
    /// `request_timeout` is how long one send may take; a claim older than twice that is
    /// considered abandoned.
    pub(crate) fn open(
        options: &CacheOptions,
        reports: Arc<ClientReports>,
        request_timeout: Duration,
    ) -> io::Result<Self> {
        files::create_private_dir(&options.dir)?;
        let mut cache = DiskCache {
            dir: options.dir.clone(),
            max_envelopes: options.max_envelopes.max(1),
            max_bytes: options.max_bytes.max(1),
            stale_claim_age: request_timeout.saturating_mul(2).max(MIN_STALE_CLAIM_AGE),
            pid: std::process::id(),
            index: Mutex::default(),
            counter: AtomicU64::new(0),
            reports,
            report_files: Mutex::default(),
        };
        let mut index = Index::default();
        let mut report_files = Vec::new();
        let mut oversized = Vec::new();
        for entry in fs::read_dir(&options.dir)? {
            let Ok(entry) = entry else { continue };
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            if names::is_temp(&name) {
                if files::age(&metadata).is_some_and(|age| age > STALE_TEMP_AGE) {
                    remove_quietly(&entry.path());
                }
                continue;
            }
            let (name, kind) = match names::kind_of(&name) {
                Some(kind) => (name, kind),
                None => match names::parse_claimed(&name) {
                    Some((original, kind, claimer)) => {
                        if !cache.claim_is_stale(claimer, &metadata) {
                            continue;
                        }
                        let original = original.to_owned();
                        if fs::rename(entry.path(), cache.dir.join(&original)).is_err() {
                            // Another process took it back first.
                            continue;
                        }
                        crate::sentry_debug!(
                            "offline cache: took back {original}, claimed by process {claimer}"
                        );
                        (original, kind)
                    }
                    None => continue,
                },
            };
            match kind {
                Kind::Reports => report_files.push(name),
                Kind::Envelope if metadata.len() > cache.max_bytes => oversized.push(name),
                Kind::Envelope => index.insert(
                    name,
                    Entry {
                        size: metadata.len(),
                        queued: false,
                        raw: false,
                    },
                ),
            }
        }
        if !index.files.is_empty() {
            crate::sentry_debug!(
                "offline cache {}: {} envelope(s) from earlier runs to send",
                options.dir.display(),
                index.files.len()
            );
        }
        cache.index = Mutex::new(index);
        cache.report_files = Mutex::new(ReportFiles::found(report_files));
        for name in oversized {
            cache.drop_oversized(&name);
        }
        cache.enforce_limits(None);
        Ok(cache)
    }

    /// Whether a claim by `claimer` whose file has `metadata` was abandoned.
    fn claim_is_stale(&self, claimer: u32, metadata: &fs::Metadata) -> bool {
        if files::age(metadata).is_some_and(|age| age > self.stale_claim_age) {
            return true;
        }
        // Another client of this very process may be sending it.
        claimer != self.pid && files::process_alive(claimer) == Some(false)
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn new_name(&self, kind: Kind) -> String {
        names::new_name(kind, self.counter.fetch_add(1, Ordering::Relaxed))
    }

    /// A fresh name for a file being written.
    fn temp_path(&self) -> PathBuf {
        self.dir.join(format!(
            "{}{}",
            names::TEMP_PREFIX,
            self.new_name(Kind::Envelope)
        ))
    }

    /// The envelope as it is written to disk, or `InvalidInput` when it alone is larger than
    /// the cache may hold.
    fn body(&self, envelope: &Envelope) -> io::Result<Vec<u8>> {
        let body = envelope.to_vec(None);
        if body.len() as u64 > self.max_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "envelope is larger than the offline cache",
            ));
        }
        Ok(body)
    }

    /// Writes `envelope` (without `sent_at`) to a new file and returns its path. Older files
    /// are evicted if the cache is over its bounds. A `queued` file is one whose envelope is
    /// also in the worker's queue (see [`release`](Self::release)); `raw` says the finalizers
    /// have not run on it yet.
    ///
    /// # Errors
    ///
    /// The file system's error, or `InvalidInput` when the envelope alone is larger than the
    /// cache may hold.
    pub(crate) fn store(
        &self,
        envelope: &Envelope,
        queued: bool,
        raw: bool,
    ) -> io::Result<PathBuf> {
        let body = self.body(envelope)?;
        let name = self.new_name(Kind::Envelope);
        let path = self.dir.join(&name);
        files::write_and_rename(&self.temp_path(), &path, &body)?;
        let entry = Entry {
            size: body.len() as u64,
            queued,
            raw,
        };
        self.index().insert(name.clone(), entry);
        self.enforce_limits(Some(&name));
        Ok(path)
    }

    /// Writes `envelope` to a new file that is claimed by this process from the start (the
    /// worker, right before sending it). It joins the cache's bounds when it is
    /// [unclaimed](Self::unclaim) after a failed send.
    ///
    /// # Errors
    ///
    /// As for [`store`](Self::store).
    pub(crate) fn store_claimed(&self, envelope: &Envelope) -> io::Result<PathBuf> {
        let body = self.body(envelope)?;
        let name = self.new_name(Kind::Envelope);
        let path = self.dir.join(names::claimed(&name, self.pid));
        files::write_and_rename(&self.temp_path(), &path, &body)?;
        Ok(path)
    }

    /// Replaces the content of a file this process has claimed with `envelope` (the worker
    /// writes the finalized version over the raw one written on the capturing thread).
    ///
    /// # Errors
    ///
    /// As for [`store`](Self::store); the old content is then left as it was.
    pub(crate) fn replace(&self, claimed: &Path, envelope: &Envelope) -> io::Result<()> {
        let body = self.body(envelope)?;
        files::write_and_rename(&self.temp_path(), claimed, &body)
    }

    /// Claims `name` for this process (see the module docs); `None` when the file is gone.
    fn claim_file(&self, name: &str) -> Option<PathBuf> {
        let claimed = self.dir.join(names::claimed(name, self.pid));
        match fs::rename(self.dir.join(name), &claimed) {
            Ok(()) => {
                files::mark_claimed_now(&claimed);
                Some(claimed)
            }
            Err(error) => {
                if error.kind() != io::ErrorKind::NotFound {
                    crate::sentry_debug!("offline cache: cannot claim {name}: {error}");
                }
                None
            }
        }
    }

    /// Claims a cached envelope for sending and returns its new path; `None` when another
    /// process has taken it (or it is gone). Either way it leaves the index.
    pub(crate) fn claim(&self, path: &Path) -> Option<PathBuf> {
        let name = path.file_name()?.to_str()?;
        self.index().remove(name);
        self.claim_file(name)
    }

    /// Gives a claimed envelope back to the cache (its send failed; it is retried later), where
    /// it counts against the bounds again.
    pub(crate) fn unclaim(&self, claimed: &Path) {
        let Some((original, Kind::Envelope, _)) = claimed
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(names::parse_claimed)
        else {
            return;
        };
        let path = self.dir.join(original);
        let size = fs::rename(claimed, &path).and_then(|()| fs::metadata(&path));
        match size {
            Ok(metadata) => {
                let entry = Entry {
                    size: metadata.len(),
                    queued: false,
                    raw: false,
                };
                self.index().insert(original.to_owned(), entry);
                self.enforce_limits(Some(original));
            }
            Err(error) => crate::sentry_debug!(
                "offline cache: cannot give back {}: {error}",
                claimed.display()
            ),
        }
    }

    /// The envelope of a queued file left the queue (to be sent, or dropped): the file becomes
    /// an ordinary cached envelope, and the caller learns whether it is still there.
    pub(crate) fn release(&self, path: &Path) -> Release {
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            return Release::Gone;
        };
        let mut index = self.index();
        let index = &mut *index;
        if let Some(entry) = index.files.get_mut(name) {
            if entry.queued {
                entry.queued = false;
                index.queued -= 1;
            }
            return Release::OnDisk { raw: entry.raw };
        }
        match index.evicted.iter().position(|evicted| evicted == name) {
            Some(position) => {
                index.evicted.swap_remove(position);
                Release::Evicted
            }
            None => Release::Gone,
        }
    }

    /// Deletes the oldest files (never `keep`) while over a bound. Files not in the queue are
    /// counted as `cache_overflow`; queued ones are still in memory and only lose their copy.
    fn enforce_limits(&self, keep: Option<&str>) {
        loop {
            let (victim, entry) = {
                let mut index = self.index();
                if index.files.len() <= self.max_envelopes && index.bytes <= self.max_bytes {
                    return;
                }
                let Some(name) = index
                    .files
                    .keys()
                    .find(|name| Some(name.as_str()) != keep)
                    .cloned()
                else {
                    return;
                };
                let Some(entry) = index.remove(&name) else {
                    return;
                };
                if entry.queued {
                    index.evicted.push(name.clone());
                }
                (name, entry)
            };
            let Some(claimed) = self.claim_file(&victim) else {
                // Another process took it: it is theirs to send.
                if entry.queued {
                    self.index().evicted.retain(|name| *name != victim);
                }
                continue;
            };
            if entry.queued {
                crate::sentry_debug!("offline cache is full: {victim} stays in memory only");
            } else {
                crate::sentry_debug!("offline cache is full: dropping {victim}");
                self.count_file(&claimed, DiscardReason::CacheOverflow);
            }
            remove_quietly(&claimed);
        }
    }

    /// Counts the items of a file that is being dropped.
    fn count_file(&self, path: &Path, reason: DiscardReason) {
        match fs::read(path) {
            Ok(bytes) => match Envelope::from_bytes_raw(&bytes) {
                Ok(envelope) => record_envelope(&self.reports, reason, &envelope),
                Err(_) => record_outcomes(&self.reports, reason, outcomes_of_prefix(&bytes)),
            },
            Err(_) => record_outcomes(&self.reports, reason, outcomes_of_prefix(&[])),
        }
    }

    /// Drops a claimed file, counting its items for `reason`.
    pub(crate) fn discard(&self, claimed: &Path, reason: DiscardReason) {
        self.count_file(claimed, reason);
        remove_quietly(claimed);
    }

    /// Drops a file larger than the whole cache, by itself, counting it by its first item.
    fn drop_oversized(&self, name: &str) {
        let Some(claimed) = self.claim_file(name) else {
            return;
        };
        crate::sentry_debug!("offline cache: dropping {name}, larger than the cache");
        let mut prefix = Vec::new();
        let _ = fs::File::open(&claimed)
            .and_then(|file| file.take(PREFIX_LEN).read_to_end(&mut prefix));
        record_outcomes(
            &self.reports,
            DiscardReason::CacheOverflow,
            outcomes_of_prefix(&prefix),
        );
        remove_quietly(&claimed);
    }

    /// The oldest cached envelope that is not queued, to be [claimed](Self::claim) and sent.
    pub(crate) fn oldest_sendable(&self) -> Option<PathBuf> {
        self.index()
            .files
            .iter()
            .find(|(_, entry)| !entry.queued)
            .map(|(name, _)| self.dir.join(name))
    }

    /// How many cached envelopes are waiting to be sent from disk (queued ones are not).
    pub(crate) fn sendable(&self) -> usize {
        let index = self.index();
        index.files.len() - index.queued
    }

    /// How many envelopes are cached.
    pub(crate) fn len(&self) -> usize {
        self.index().files.len()
    }

    /// Reads a claimed envelope. A file that cannot be read or parsed (damaged) is removed,
    /// counted as `internal_sdk_error`, and `None` returned.
    pub(crate) fn load(&self, claimed: &Path) -> Option<Envelope> {
        let bytes = fs::read(claimed);
        let parsed = match &bytes {
            Ok(bytes) => Envelope::from_bytes_raw(bytes).map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match parsed {
            Ok(envelope) => Some(envelope),
            Err(error) => {
                crate::sentry_debug!(
                    "offline cache: dropping unreadable {}: {error}",
                    claimed.display()
                );
                let prefix = bytes.as_deref().unwrap_or_default();
                record_outcomes(
                    &self.reports,
                    DiscardReason::InternalSdkError,
                    outcomes_of_prefix(prefix),
                );
                remove_quietly(claimed);
                None
            }
        }
    }

    /// Deletes a cached envelope (claimed or not), after a final answer from the server.
    pub(crate) fn remove(&self, path: &Path) {
        if let Some(name) = path.file_name().and_then(|name| name.to_str()) {
            self.index().remove(name);
        }
        remove_quietly(path);
    }
}

/// What to count for a file that cannot be read whole: its first item, read from the header
/// lines at the start of `bytes`, or one error when those cannot be read either.
fn outcomes_of_prefix(bytes: &[u8]) -> Vec<(DataCategory, u64)> {
    let first_item = bytes
        .split(|&b| b == b'\n')
        .nth(1)
        .and_then(|line| crate::protocol::json::from_slice(line).ok())
        .and_then(|header| match header {
            Value::Map(mut headers) => {
                let ty = headers.remove("type")?;
                Some((ItemType::from_name(ty.as_str()?), headers))
            }
            _ => None,
        });
    match first_item {
        Some((ty, headers)) if ty != ItemType::ClientReport => {
            let mut item = RawItem::new(ty, Vec::new());
            item.headers = headers;
            EnvelopeItem::Raw(item).outcomes()
        }
        _ => vec![(DataCategory::Error, 1)],
    }
}

#[cfg(test)]
mod tests;
