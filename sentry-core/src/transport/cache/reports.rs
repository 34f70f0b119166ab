//! Client report counts persisted with the offline cache, so that what was dropped is reported
//! even when the process cannot send it before it ends.
//!
//! Cached envelopes never carry client reports: the counts live in memory and are restored
//! there when a send fails, so a copy inside a cached envelope would be counted twice. Counts
//! are instead *moved* between memory and `.client_report` files, never copied:
//!
//! - **Persisting** takes the pending counts out of memory and writes them to a new file (the
//!   counts go back into memory if the write fails). Earlier report files this cache knows of
//!   are folded in first, so a process keeps one file, not one per persist.
//! - **Absorbing** claims a report file (the same atomic rename as envelopes, so two processes
//!   never both take it), adds its counts to memory and keeps the claimed file until those
//!   counts have reached Sentry or have been persisted again; only then is it deleted. A
//!   process killed in between leaves the claimed file, which the next process reclaims.
//!
//! The only windows in which counts can be counted twice are the instants between writing a
//! file and deleting the files it replaced, and between Sentry's answer and the deletion,
//! the same windows every cached envelope has.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{MutexGuard, PoisonError};

use super::names::Kind;
use super::DiskCache;
use crate::protocol::ClientReport;

/// The report files a cache knows of.
#[derive(Default)]
pub(crate) struct ReportFiles {
    /// Unclaimed report files (names) found at open or persisted by this cache, not yet
    /// absorbed.
    waiting: Vec<String>,
    /// Claimed report files whose counts are now in memory (or riding on a send).
    absorbed: Vec<PathBuf>,
}

impl ReportFiles {
    /// Report files found in the directory when the cache was opened.
    pub(crate) fn found(waiting: Vec<String>) -> Self {
        ReportFiles {
            waiting,
            absorbed: Vec::new(),
        }
    }
}

impl DiskCache {
    fn report_files(&self) -> MutexGuard<'_, ReportFiles> {
        self.report_files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the counts of every waiting report file into memory, to be sent with the next
    /// report. Cheap when there is none.
    pub(crate) fn absorb_reports(&self) {
        let mut files = self.report_files();
        self.absorb_locked(&mut files);
    }

    fn absorb_locked(&self, files: &mut ReportFiles) {
        for name in std::mem::take(&mut files.waiting) {
            // Gone: another process absorbed it.
            let Some(claimed) = self.claim_file(&name) else {
                continue;
            };
            let parsed = fs::read(&claimed)
                .map_err(|error| error.to_string())
                .and_then(|bytes| ClientReport::from_json(&bytes));
            match parsed {
                Ok(report) => {
                    self.reports.restore(report);
                    files.absorbed.push(claimed);
                }
                Err(error) => {
                    // Not counted: a lost report is not itself reported.
                    crate::sentry_debug!("offline cache: dropping unreadable {name}: {error}");
                    remove_quietly(&claimed);
                }
            }
        }
    }

    /// Hands over the absorbed report files, whose counts are being taken out of memory to
    /// ride on a send: they go once that report is delivered, or come back with
    /// [`return_absorbed`](Self::return_absorbed).
    pub(crate) fn take_absorbed(&self) -> Vec<PathBuf> {
        std::mem::take(&mut self.report_files().absorbed)
    }

    /// Deletes absorbed report files whose counts were delivered.
    pub(crate) fn delete_absorbed(&self, files: &[PathBuf]) {
        files.iter().for_each(|path| remove_quietly(path));
    }

    /// Gives back absorbed report files whose counts went back into memory (their send
    /// failed).
    pub(crate) fn return_absorbed(&self, files: Vec<PathBuf>) {
        self.report_files().absorbed.extend(files);
    }

    /// Moves the pending counts to disk, together with `in_flight`, a report riding on a send
    /// that has not returned and the absorbed files its counts came from (written to a file
    /// of its own; those files go). Returns that file, so that the report can be taken back
    /// off the disk if the send turns out to have delivered it.
    pub(crate) fn persist_reports(
        &self,
        in_flight: Option<(&ClientReport, &[PathBuf])>,
    ) -> Option<PathBuf> {
        let mut files = self.report_files();
        self.absorb_locked(&mut files);
        let mut complete = true;
        if let Some(pending) = self.reports.take() {
            match self.write_report(&pending) {
                Ok(name) => {
                    crate::sentry_debug!(
                        "offline cache: {} discarded item(s) persisted for a later report",
                        pending.total()
                    );
                    files.waiting.push(name);
                }
                Err(error) => {
                    crate::sentry_debug!("offline cache: cannot persist client reports: {error}");
                    self.reports.restore(pending);
                    complete = false;
                }
            }
        }
        let in_flight_file =
            in_flight.and_then(|(report, sources)| match self.write_report(report) {
                Ok(name) => {
                    sources.iter().for_each(|path| remove_quietly(path));
                    Some(self.dir.join(name))
                }
                Err(error) => {
                    crate::sentry_debug!("offline cache: cannot persist client reports: {error}");
                    None
                }
            });
        if complete {
            // Their counts are in the new files now.
            for path in std::mem::take(&mut files.absorbed) {
                remove_quietly(&path);
            }
        }
        in_flight_file
    }

    /// Takes back a report file written by [`persist_reports`](Self::persist_reports) for a
    /// report that was delivered after all.
    pub(crate) fn discard_report_file(&self, path: &Path) {
        let claimed = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| self.claim_file(name));
        match claimed {
            Some(claimed) => remove_quietly(&claimed),
            None => crate::sentry_debug!(
                "offline cache: {} was taken by another process; its counts may be reported \
                 twice",
                path.display()
            ),
        }
    }

    fn write_report(&self, report: &ClientReport) -> io::Result<String> {
        let bytes = serde_json::to_vec(report).map_err(io::Error::other)?;
        let name = self.new_name(Kind::Reports);
        super::files::write_and_rename(&self.temp_path(), &self.dir.join(&name), &bytes)?;
        Ok(name)
    }
}

/// Deletes a file, saying so in the diagnostics if that fails for another reason than the
/// file being gone already.
pub(crate) fn remove_quietly(path: &Path) {
    if let Err(error) = fs::remove_file(path) {
        if error.kind() != io::ErrorKind::NotFound {
            crate::sentry_debug!("offline cache: cannot delete {}: {error}", path.display());
        }
    }
}
