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
