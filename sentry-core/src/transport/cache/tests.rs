use std::time::SystemTime;

use super::*;
use crate::envelope::ItemType;
use crate::protocol::{ClientReport, DataCategory, DiscardedEvent};
use crate::transport::test_support::{message_envelope as event, temp_dir};

const TIMEOUT: Duration = Duration::from_secs(35);

fn open(dir: &Path) -> DiskCache {
    DiskCache::open(&CacheOptions::new(dir), Arc::default(), TIMEOUT).expect("open")
}

/// The message of the envelope's event; cached envelopes come back with raw items.
fn message(envelope: &Envelope) -> Option<String> {
    envelope.items().find_map(|item| match item {
        EnvelopeItem::Raw(raw) if raw.ty == ItemType::Event => {
            serde_json::from_slice::<serde_json::Value>(&raw.payload)
                .ok()?
                .pointer("/logentry/formatted")?
                .as_str()
                .map(str::to_owned)
        }
        _ => None,
    })
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn stores_claims_reloads_and_removes_in_age_order() {
    let dir = temp_dir("order");
    let cache = open(&dir);
    let first = cache.store(&event("one"), false, false).expect("store");
    let second = cache.store(&event("two"), false, false).expect("store");
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.oldest_sendable().as_deref(), Some(first.as_path()));
    let bytes = fs::read(&first).expect("read");
    assert!(
        !String::from_utf8_lossy(&bytes).contains("sent_at"),
        "sent_at is never persisted"
    );
    // A second process sees the same files, oldest first, and claims before loading.
    let reopened = open(&dir);
    assert_eq!(reopened.len(), 2);
    let claimed = reopened.claim(&first).expect("claimed");
    assert!(!first.exists());
    assert!(cache.claim(&first).is_none(), "a file is claimed once");
    let loaded = reopened.load(&claimed).expect("parses");
    assert_eq!(message(&loaded).as_deref(), Some("one"));
    reopened.remove(&claimed);
    assert_eq!(
        reopened.oldest_sendable().as_deref(),
        Some(second.as_path())
    );
    assert!(!claimed.exists());
    // A failed send gives the file back under its own name.
    let claimed = reopened.claim(&second).expect("claimed");
    assert_eq!(reopened.len(), 0);
    reopened.unclaim(&claimed);
    assert!(second.exists());
    assert_eq!(reopened.len(), 1);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn over_the_bounds_the_oldest_go_and_are_counted() {
    let dir = temp_dir("bounds");
    let reports = Arc::new(ClientReports::new());
    let mut options = CacheOptions::new(&dir);
    options.max_envelopes = 3;
    let cache = DiskCache::open(&options, Arc::clone(&reports), TIMEOUT).expect("open");
    let paths: Vec<PathBuf> = (0..5)
        .map(|i| {
            cache
                .store(&event(&format!("e{i}")), false, false)
                .expect("store")
        })
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
    let small = DiskCache::open(&options, Arc::default(), TIMEOUT).expect("open");
    assert!(small.store(&event(&"x".repeat(100)), false, false).is_err());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn evicting_a_queued_file_is_not_a_loss() {
    let dir = temp_dir("queued");
    let reports = Arc::new(ClientReports::new());
    let mut options = CacheOptions::new(&dir);
    options.max_envelopes = 2;
    let cache = DiskCache::open(&options, Arc::clone(&reports), TIMEOUT).expect("open");
    let queued = cache.store(&event("q"), true, true).expect("store");
    assert_eq!(cache.sendable(), 0, "a queued file is not sent from disk");
    assert_eq!(cache.oldest_sendable(), None);
    let _newer = cache.store(&event("a"), false, false).expect("store");
    let _newest = cache.store(&event("b"), false, false).expect("store");
    assert!(!queued.exists(), "evicted");
    assert!(reports.is_empty(), "its envelope is still queued in memory");
    assert_eq!(cache.release(&queued), Release::Evicted);
    assert_eq!(cache.release(&queued), Release::Gone);

    let kept = cache.store(&event("k"), true, true).expect("store");
    assert_eq!(cache.release(&kept), Release::OnDisk { raw: true });
    assert_eq!(cache.sendable(), 2);
    // Claimed by someone else: gone.
    let other = cache.store(&event("o"), true, false).expect("store");
    let taken = open(&dir).claim(&other).expect("claimed by another cache");
    assert_eq!(cache.release(&other), Release::OnDisk { raw: false });
    assert!(cache.claim(&other).is_none());
    assert!(taken.exists());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn only_own_files_are_touched() {
    let dir = temp_dir("foreign");
    fs::create_dir_all(&dir).expect("mkdir");
    let foreign = [
        "0-0-0.envelope",
        "zz-not-ours.envelope",
        "notes.txt",
        ".tmp-notes",
    ];
    for name in foreign {
        fs::write(dir.join(name), b"not an envelope").expect("write");
    }
    let damaged = names::new_name(Kind::Envelope, 1);
    fs::write(dir.join(&damaged), b"not an envelope").expect("write");
    let half = format!(
        "{}{}",
        names::TEMP_PREFIX,
        names::new_name(Kind::Envelope, 2)
    );
    fs::write(dir.join(&half), b"half").expect("write");
    let reports = Arc::new(ClientReports::new());
    let cache =
        DiskCache::open(&CacheOptions::new(&dir), Arc::clone(&reports), TIMEOUT).expect("open");
    assert_eq!(cache.len(), 1, "only the own file is indexed");
    assert!(dir.join(&half).exists(), "a fresh temp file may be in use");
    let path = cache.oldest_sendable().expect("indexed");
    let claimed = cache.claim(&path).expect("claimed");
    assert!(cache.load(&claimed).is_none());
    assert_eq!(cache.len(), 0);
    assert!(!claimed.exists() && !path.exists());
    let report = reports.take().expect("the damaged file is counted");
    assert_eq!(
        report.discarded_events,
        [DiscardedEvent {
            reason: DiscardReason::InternalSdkError,
            category: DataCategory::Error,
            quantity: 1
        }]
    );
    for name in foreign {
        assert!(dir.join(name).exists(), "{name} is left alone");
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn an_oversized_file_is_dropped_alone() {
    let dir = temp_dir("oversized");
    let mut options = CacheOptions::new(&dir);
    options.max_bytes = 4096;
    let cache = DiskCache::open(&options, Arc::default(), TIMEOUT).expect("open");
    let small: Vec<PathBuf> = (0..3)
        .map(|i| {
            cache
                .store(&event(&format!("s{i}")), false, false)
                .expect("store")
        })
        .collect();
    // Newest of all, and larger than the whole cache.
    let huge = dir.join(names::new_name(Kind::Envelope, 99));
    let mut body = b"{}\n{\"type\":\"transaction\",\"length\":10000}\n".to_vec();
    body.resize(body.len() + 10_000, b' ');
    fs::write(&huge, body).expect("write");
    let reports = Arc::new(ClientReports::new());
    let reopened = DiskCache::open(&options, Arc::clone(&reports), TIMEOUT).expect("open");
    assert!(!huge.exists());
    assert!(
        small.iter().all(|path| path.exists()),
        "nothing else evicted"
    );
    assert_eq!(reopened.len(), 3);
    let report = reports.take().expect("counted");
    let counted: Vec<(DiscardReason, DataCategory, u64)> = report
        .discarded_events
        .iter()
        .map(|e| (e.reason, e.category, e.quantity))
        .collect();
    assert_eq!(
        counted,
        [
            (DiscardReason::CacheOverflow, DataCategory::Transaction, 1),
            (DiscardReason::CacheOverflow, DataCategory::Span, 1),
        ]
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn claims_of_dead_processes_are_taken_back_live_ones_are_not() {
    let dir = temp_dir("claims");
    let cache = open(&dir);
    let live = cache.store(&event("live"), false, false).expect("store");
    let live_claim = cache.claim(&live).expect("claimed");
    let dead = cache.store(&event("dead"), false, false).expect("store");
    let dead_name = dead.file_name().and_then(|n| n.to_str()).expect("name");
    // Beyond Linux's pid_max: no such process.
    let dead_claim = dir.join(names::claimed(dead_name, 4_000_000_000));
    fs::rename(&dead, &dead_claim).expect("claim as a dead process");

    let reopened = open(&dir);
    if files::process_alive(1).is_some() {
        assert_eq!(reopened.len(), 1, "the dead process's claim is taken back");
        assert!(dead.exists());
    }
    assert!(live_claim.exists(), "a live claim stays");

    // Any claim is taken back once older than twice the request timeout (at least 1 min).
    let old = SystemTime::now() - Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&live_claim)
        .and_then(|file| file.set_modified(old))
        .expect("age the claim");
    let later = open(&dir);
    assert!(live.exists(), "an abandoned claim is taken back");
    assert_eq!(later.len(), 2);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn counts_move_between_memory_and_disk_without_copies() {
    let dir = temp_dir("reports");
    let reports = Arc::new(ClientReports::new());
    let cache =
        DiskCache::open(&CacheOptions::new(&dir), Arc::clone(&reports), TIMEOUT).expect("open");
    reports.record(DiscardReason::CacheOverflow, DataCategory::Error, 9);
    assert!(cache.persist_reports(None).is_none());
    assert!(reports.is_empty(), "moved, not copied");
    reports.record(DiscardReason::SampleRate, DataCategory::Error, 1);
    assert!(cache.persist_reports(None).is_none());
    let on_disk: Vec<String> = names_in(&dir);
    assert_eq!(on_disk.len(), 1, "one file per process: {on_disk:?}");
    assert!(on_disk[0].ends_with(".client_report"));

    // Another process absorbs it: the counts are in its memory, the file is claimed.
    let next_reports = Arc::new(ClientReports::new());
    let next = DiskCache::open(&CacheOptions::new(&dir), Arc::clone(&next_reports), TIMEOUT)
        .expect("open");
    next.absorb_reports();
    assert_eq!(next_reports.take().map(|r| r.total()), Some(10));
    // The first process cannot take them back.
    cache.absorb_reports();
    assert!(reports.is_empty());
    assert!(names_in(&dir)[0].ends_with(".claimed"));
    let files = next.take_absorbed();
    assert_eq!(files.len(), 1);
    next.delete_absorbed(&files);
    assert!(names_in(&dir).is_empty(), "delivered: the file goes");

    // A report riding on a stuck send is persisted apart, and taken back if delivered after
    // all.
    let riding = ClientReport {
        timestamp: None,
        discarded_events: vec![DiscardedEvent {
            reason: DiscardReason::BeforeSend,
            category: DataCategory::Error,
            quantity: 3,
        }],
    };
    reports.record(DiscardReason::SampleRate, DataCategory::Error, 2);
    let file = cache
        .persist_reports(Some((&riding, &[])))
        .expect("written apart");
    assert_eq!(names_in(&dir).len(), 2);
    cache.discard_report_file(&file);
    assert_eq!(names_in(&dir).len(), 1);
    let third_reports = Arc::new(ClientReports::new());
    let third = DiskCache::open(
        &CacheOptions::new(&dir),
        Arc::clone(&third_reports),
        TIMEOUT,
    )
    .expect("open");
    third.absorb_reports();
    assert_eq!(third_reports.take().map(|r| r.total()), Some(2));
    let _ = fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn the_directory_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;

    let parent = temp_dir("modes");
    let dir = parent.join("cache");
    let cache = open(&dir);
    let path = cache.store(&event("private"), false, false).expect("store");
    let reports = Arc::clone(&cache.reports);
    reports.record(DiscardReason::SampleRate, DataCategory::Error, 1);
    cache.persist_reports(None);
    let mode = |path: &Path| fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&path), 0o600);
    for name in names_in(&dir) {
        assert_eq!(mode(&dir.join(&name)), 0o600, "{name}");
    }
    // An existing directory is left as it is.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).expect("chmod");
    let _again = open(&dir);
    assert_eq!(mode(&dir), 0o750);
    let _ = fs::remove_dir_all(&parent);
}

#[test]
fn an_unusable_directory_is_an_error() {
    let dir = temp_dir("file");
    fs::write(&dir, b"a file, not a directory").expect("write");
    assert!(DiskCache::open(&CacheOptions::new(&dir), Arc::default(), TIMEOUT).is_err());
    let _ = fs::remove_file(&dir);
}
