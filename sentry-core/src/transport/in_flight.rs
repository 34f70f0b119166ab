//! The client report riding on the send in progress, shared by the worker thread and its
//! handle.
//!
//! The worker takes the pending counts out of [`ClientReports`] to attach them to an envelope,
//! and puts them back if the envelope is not delivered. While that send runs, the counts are
//! nowhere else (but in the report files of the offline cache they were absorbed from, which
//! go once the report is delivered). When `shutdown` gives up on a worker stuck in such a
//! send, the handle persists them with the offline cache (next to the counts still in memory)
//! so that the next process reports them; should the stuck send deliver them after all, the
//! worker takes that file back.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::cache::DiskCache;
use crate::client_reports::ClientReports;
use crate::protocol::ClientReport;

/// Where the counts of the current send's report are.
enum Slot {
    /// No report rides on a send.
    Empty,
    /// This report rides on the send in progress; `files` are the absorbed report files its
    /// counts came from.
    Riding {
        report: ClientReport,
        files: Vec<PathBuf>,
    },
    /// The report rode on a send that did not return in time; it was written to this file.
    Persisted(PathBuf),
}

/// The report of the send in progress (see the module docs).
pub(crate) struct InFlight {
    slot: Mutex<Slot>,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight {
            slot: Mutex::new(Slot::Empty),
        }
    }
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the pending counts to ride on a send; `None` when nothing is pending or a report
    /// rides already.
    pub(crate) fn take(
        &self,
        reports: &ClientReports,
        cache: Option<&DiskCache>,
    ) -> Option<ClientReport> {
        let mut slot = self.lock();
        if !matches!(*slot, Slot::Empty) {
            return None;
        }
        let report = reports.take()?;
        let files = cache.map(DiskCache::take_absorbed).unwrap_or_default();
        *slot = Slot::Riding {
            report: report.clone(),
            files,
        };
        Some(report)
    }

    /// The send returned. A report that was `delivered` is done with (as are the report files
    /// whose counts it carried); one that was not goes back into `reports`. Returns whether a
    /// report was delivered.
    pub(crate) fn finish(
        &self,
        delivered: bool,
        reports: &ClientReports,
        cache: Option<&DiskCache>,
    ) -> bool {
        let slot = std::mem::replace(&mut *self.lock(), Slot::Empty);
        match slot {
            Slot::Empty => false,
            Slot::Riding { report, files } => {
                match cache {
                    Some(cache) if delivered => cache.delete_absorbed(&files),
                    Some(cache) => {
                        reports.restore(report);
                        cache.return_absorbed(files);
                    }
                    None if delivered => {}
                    None => reports.restore(report),
                }
                delivered
            }
            Slot::Persisted(path) => {
                if delivered {
                    if let Some(cache) = cache {
                        cache.discard_report_file(&path);
                    }
                }
                delivered
            }
        }
    }

    /// Persists the counts in `reports` and the riding report, if any, with `cache`.
    pub(crate) fn persist(&self, reports: &ClientReports, cache: &DiskCache) {
        let mut slot = self.lock();
        let riding = match &*slot {
            Slot::Riding { report, files } => Some((report, files.as_slice())),
            _ => None,
        };
        if riding.is_none() && reports.is_empty() {
            return;
        }
        if let Some(path) = cache.persist_reports(riding) {
            *slot = Slot::Persisted(path);
        }
    }
}
