//! The copy of the open application session kept in the offline cache's directory, so that
//! the next start of the application can report a session that never ended (power loss,
//! `kill -9`, an abort that skipped the panic hook) as `abnormal`.
//!
//! | name | what |
//! |---|---|
//! | `session-<pid>.json` | the open session of process `<pid>` (10 digits), as its next update |
//! | `session-<pid>.json.tmp` | the same, being written (then renamed over it) |
//! | `session-<pid>.json.<claimer>.claimed` | a leftover taken by process `<claimer>` to report |
//!
//! The file is written when the session starts and whenever it changes, and removed when it
//! ends. At start, before it writes its own, a process takes the files whose process is gone:
//! on Linux, those whose `/proc/<pid>` is missing, and its own pid's (a process with the same
//! id that ran before, common in containers); elsewhere, where the SDK cannot tell whether a
//! process runs, every other file (processes sharing a directory there would report each
//! other's sessions). A file is claimed (renamed) before it is read, so two processes starting
//! together report it once. Only names of this pattern are read, renamed or deleted; the
//! offline cache's own files have other names.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::client_reports::ClientReports;
use crate::protocol::{DataCategory, DiscardReason, SessionUpdate};

const PREFIX: &str = "session-";
const SUFFIX: &str = ".json";
const PID_DIGITS: usize = 10;

/// The file name of process `pid`'s open session.
fn file_name(pid: u32) -> String {
    format!("{PREFIX}{pid:0PID_DIGITS$}{SUFFIX}")
}

/// The pid of an own session file name; `None` for any other name.
fn pid_of(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != PID_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether process `pid` runs: `Some` on Linux (through `/proc`), `None` where it cannot be
/// told cheaply.
fn process_alive(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") {
        Some(Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
    }
}

/// The session file of this process in one directory.
#[derive(Debug)]
pub(crate) struct SessionFile {
    path: PathBuf,
    temp: PathBuf,
}

impl SessionFile {
    /// This process's session file in `dir`.
    pub(crate) fn new(dir: &Path) -> SessionFile {
        let path = dir.join(file_name(std::process::id()));
        let mut temp = path.clone().into_os_string();
        temp.push(".tmp");
        SessionFile {
            path,
            temp: PathBuf::from(temp),
        }
    }

    /// Writes `update` as the open session (whole or not at all). Failures are reported in
    /// debug mode only: the session is still sent, only an abnormal end would go unnoticed.
    pub(crate) fn write(&self, update: &SessionUpdate) {
        let written = serde_json::to_vec(update)
            .map_err(io::Error::other)
            .and_then(|bytes| self.write_bytes(&bytes));
        if let Err(error) = written {
            crate::sentry_debug!(
                "cannot keep the open session in {}: {error}",
                self.path.display()
            );
        }
    }

    fn write_bytes(&self, bytes: &[u8]) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            if !dir.is_dir() {
                fs::create_dir_all(dir)?;
            }
        }
        let _ = fs::remove_file(&self.temp);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = options
            .open(&self.temp)
            .and_then(|mut file| file.write_all(bytes))
            .and_then(|()| fs::rename(&self.temp, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&self.temp);
        }
        written
    }

    /// Removes the file: the session ended and was handed to the transport.
    pub(crate) fn remove(&self) {
        match fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                crate::sentry_debug!("cannot remove {}: {error}", self.path.display());
            }
        }
    }
}

/// Takes the session files in `dir` left by processes that are gone, and returns the sessions
/// they held. Files that cannot be read as a session are deleted and counted
/// (`internal_sdk_error`, `session`).
pub(crate) fn take_leftovers(dir: &Path, reports: &ClientReports) -> Vec<SessionUpdate> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let own = std::process::id();
    let mut sessions = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(pid_of) else {
            continue;
        };
        if pid != own && process_alive(pid) == Some(true) {
            continue;
        }
        let path = entry.path();
        let mut claimed = path.clone().into_os_string();
        claimed.push(format!(".{own:0PID_DIGITS$}.claimed"));
        let claimed = PathBuf::from(claimed);
        if fs::rename(&path, &claimed).is_err() {
            // Another process took it.
            continue;
        }
        let read = fs::read(&claimed);
        let _ = fs::remove_file(&claimed);
        match read
            .map_err(|e| e.to_string())
            .and_then(|bytes| SessionUpdate::from_json(&bytes))
        {
            Ok(session) => sessions.push(session),
            Err(error) => {
                crate::sentry_debug!(
                    "the session file {} is damaged ({error}); deleted",
                    path.display()
                );
                reports.record(DiscardReason::InternalSdkError, DataCategory::Session, 1);
            }
        }
    }
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(file_name(42), "session-0000000042.json");
        assert_eq!(pid_of("session-0000000042.json"), Some(42));
        for other in [
            "session-42.json",
            "session-0000000042.json.tmp",
            "session-0000000042.json.0000000007.claimed",
            "000000000000000000000001-0000000042-0000000001.envelope",
            "session-00000000x2.json",
        ] {
            assert_eq!(pid_of(other), None, "{other}");
        }
    }
}
