//! The threads of this process, as the kernel lists them (`/proc/self/task`), and their names.

use std::fs;

/// Appends the kernel thread ids of every thread of this process to `out` (cleared first).
/// A thread that exits while the directory is read is simply missing or listed: the sampler
/// skips threads that are gone when it signals them.
pub(super) fn list_threads(out: &mut Vec<u64>) -> std::io::Result<()> {
    out.clear();
    for entry in fs::read_dir("/proc/self/task")? {
        let Ok(entry) = entry else { continue };
        if let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
            out.push(tid);
        }
    }
    Ok(())
}

/// The name of thread `thread_id` of this process (`/proc/self/task/<tid>/comm`), `None` if
/// the thread is gone or the name is empty.
pub(super) fn thread_name(thread_id: u64) -> Option<String> {
    let comm = fs::read_to_string(format!("/proc/self/task/{thread_id}/comm")).ok()?;
    let name = comm.trim_end_matches('\n');
    (!name.is_empty()).then(|| name.to_owned())
}

/// Whether thread `thread_id` of this process blocks `signal` now (the `SigBlk` mask of
/// `/proc/self/task/<tid>/status`); `false` if that cannot be read.
pub(super) fn blocks_signal(thread_id: u64, signal: i32) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/self/task/{thread_id}/status")) else {
        return false;
    };
    let Some(mask) = status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
    else {
        return false;
    };
    (1..=64).contains(&signal) && mask & (1 << (signal - 1)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_this_thread_and_reads_names_and_masks() {
        let (tid, _) = sentry_core::profiling::current_thread();
        let mut threads = Vec::new();
        list_threads(&mut threads).unwrap();
        assert!(threads.contains(&tid));
        let named = std::thread::Builder::new()
            .name("tasks-test".into())
            .spawn(|| {
                let tid = sentry_core::profiling::current_thread().0;
                thread_name(tid)
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(named.as_deref(), Some("tasks-test"));
        // The test harness does not block SIGURG.
        assert!(!blocks_signal(tid, libc::SIGURG));
    }
}
