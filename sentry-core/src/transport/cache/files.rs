//! File system operations of the offline cache: a private directory, private files written
//! whole or not at all, claim times, and whether the process that claimed a file is alive.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

/// Creates `dir` when it is missing, readable by the user only (`0700` on Unix; missing
/// parents are created with the default mode). An existing directory is left as it is: it may
/// be shared on purpose.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        // Another process created it meanwhile.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        result => result,
    }
}

/// Writes `bytes` to a new file at `temp` (readable and writable by the user only: `0600` on
/// Unix) and renames it to `target`, replacing `target` if it exists. A reader sees either
/// the whole new file or none; the temp file is removed on failure.
pub(crate) fn write_and_rename(temp: &Path, target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options
        .open(temp)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| fs::rename(temp, target));
    if written.is_err() {
        let _ = fs::remove_file(temp);
    }
    written
}

/// Sets the modification time of a file just claimed, which is what its claim's age is
/// measured from (a rename keeps the time of the last write).
pub(crate) fn mark_claimed_now(path: &Path) {
    let touched = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(SystemTime::now()));
    if let Err(error) = touched {
        crate::sentry_debug!(
            "offline cache: cannot stamp the claim {}: {error}",
            path.display()
        );
    }
}

/// Whether the process `pid` is running: `Some` where the platform says so cheaply (Linux,
/// through `/proc`), `None` where it cannot be told.
pub(crate) fn process_alive(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") {
        Some(Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
    }
}

/// How long ago `path` was last modified; `None` when unknown.
pub(crate) fn age(metadata: &fs::Metadata) -> Option<std::time::Duration> {
    metadata.modified().ok()?.elapsed().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive() {
        if let Some(alive) = process_alive(std::process::id()) {
            assert!(alive);
        }
        // Beyond Linux's pid_max (2^22).
        assert_ne!(process_alive(u32::MAX), Some(true));
    }
}
