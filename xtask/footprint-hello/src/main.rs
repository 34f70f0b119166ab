//! A hello world using `sentry` with default features, which reports what initialising the
//! SDK cost the process: resident memory before and after `sentry::init`, and the threads
//! running afterwards. `cargo xtask footprint` builds and runs it; the output is one
//! `key=value` per line.
//!
//! The DSN points at a closed port on the loopback interface, so the SDK is fully enabled but
//! never reaches a server (and this program sends nothing anyway).

use std::time::Duration;

/// The `/proc/self/status` fields reported: all resident memory, then its private (anonymous)
/// and file-backed (code and read-only data of the binary, shared libraries) parts.
const FIELDS: [(&str, &str); 3] = [
    ("VmRSS", "rss"),
    ("RssAnon", "rss_anon"),
    ("RssFile", "rss_file"),
];

fn main() {
    let before = FIELDS.map(|(field, _)| status_kib(field));
    let guard = sentry::init("https://public@127.0.0.1:9/1");
    // Give the transport worker a moment to start and settle.
    std::thread::sleep(Duration::from_millis(300));
    let after = FIELDS.map(|(field, _)| status_kib(field));
    let threads = thread_names();
    for (index, (_, key)) in FIELDS.iter().enumerate() {
        println!("{key}_before_kib={}", before[index].unwrap_or(0));
        println!("{key}_after_kib={}", after[index].unwrap_or(0));
    }
    println!("threads={}", threads.len());
    for name in threads.iter().filter(|name| name.starts_with("sentry-")) {
        println!("sdk_thread={name}");
    }
    drop(guard);
}

/// A `/proc/self/status` field given in kB (KiB).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The names of this process's threads (the kernel keeps the first 15 bytes of each name).
fn thread_names() -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| {
            let path = task.ok()?.path().join("comm");
            Some(std::fs::read_to_string(path).ok()?.trim_end().to_owned())
        })
        .collect()
}
