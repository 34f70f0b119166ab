//! The scopes' attachments, added to the envelope of an event the pipeline kept.
//!
//! Each attachment becomes one `attachment` item, in scope order (global → isolation →
//! current, each in the order its attachments were added). Bytes in memory are shared with
//! the scope, not copied. A file is read now, at capture time, bounded by
//! `max_attachment_size`. What is left out is counted in the client's reports, its bytes as
//! `attachment` and one `attachment_item`:
//!
//! - larger than `max_attachment_size`: reason `invalid` (a file is not read past the limit);
//! - a file that cannot be read: reason `internal_sdk_error`, with its size when the file
//!   could be opened and measured (otherwise only the `attachment_item`).
//!
//! The event goes either way: only the attachment is left out.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem};
use crate::protocol::{Attachment, AttachmentData, DataCategory, DiscardReason};
use crate::scope::Scope;

use super::Client;

impl Client {
    /// Adds the attachments of `scopes` to the envelope of a kept event; for a transaction
    /// (`transaction`), only those marked `add_to_transactions`.
    pub(super) fn add_attachments(
        &self,
        envelope: &mut Envelope,
        scopes: [&Scope; 3],
        transaction: bool,
    ) {
        let max = self.options().max_attachment_size;
        for scope in scopes {
            for attachment in scope.attachments.iter() {
                if transaction && !attachment.add_to_transactions {
                    continue;
                }
                if let Some(ready) = ready(attachment, max, self.client_reports()) {
                    envelope.add_item(EnvelopeItem::Attachment(ready));
                }
            }
        }
    }

    /// Makes the typed attachments of a hand-built envelope ready to send: files are read,
    /// and attachments over `max_attachment_size` or whose file cannot be read are removed
    /// (and counted).
    pub(super) fn ready_attachments(&self, envelope: &mut Envelope) {
        if envelope.items().all(|item| item.as_attachment().is_none()) {
            return;
        }
        let max = self.options().max_attachment_size;
        let reports = self.client_reports();
        let mut keep = Vec::with_capacity(envelope.len());
        for item in envelope.items_mut() {
            keep.push(match item {
                EnvelopeItem::Attachment(attachment) => match ready(attachment, max, reports) {
                    Some(ready) => {
                        *attachment = ready;
                        true
                    }
                    None => false,
                },
                _ => true,
            });
        }
        let mut keep = keep.into_iter();
        envelope.retain_items(|_| keep.next().unwrap_or(true));
    }
}

/// The attachment as it is sent: its bytes shared, or its file read. `None` (counted) when
/// it is over `max` bytes or its file cannot be read.
fn ready(attachment: &Attachment, max: usize, reports: &ClientReports) -> Option<Attachment> {
    match &attachment.data {
        AttachmentData::Bytes(bytes) => {
            if bytes.len() > max {
                too_large(attachment, bytes.len() as u64, max, reports);
                return None;
            }
            Some(attachment.clone())
        }
        AttachmentData::Path(path) => match read_bounded(path, max) {
            Ok(bytes) => Some(attachment.with_bytes(bytes)),
            Err(ReadError::TooLarge(size)) => {
                too_large(attachment, size, max, reports);
                None
            }
            Err(ReadError::Io(err, size)) => {
                crate::sentry_debug!(
                    "attachment {} could not be read from {}: {err}; left out",
                    attachment.filename,
                    path.display()
                );
                count(reports, DiscardReason::InternalSdkError, size.unwrap_or(0));
                None
            }
        },
    }
}

fn too_large(attachment: &Attachment, size: u64, max: usize, reports: &ClientReports) {
    crate::sentry_debug!(
        "attachment {} has {size} bytes, more than max_attachment_size ({max}); left out",
        attachment.filename
    );
    count(reports, DiscardReason::Invalid, size);
}

fn count(reports: &ClientReports, reason: DiscardReason, bytes: u64) {
    reports.record_all(
        reason,
        [
            (DataCategory::Attachment, bytes),
            (DataCategory::AttachmentItem, 1),
        ],
    );
}

enum ReadError {
    /// Over the limit: the size the file reported, or what was read past the limit.
    TooLarge(u64),
    /// Opening or reading failed; the file's size, if it was known.
    Io(io::Error, Option<u64>),
}

/// Reads the file at `path`, never more than `max + 1` bytes: a file that says it is larger
/// is not read at all, and one that grows (or a device without a size) stops at the limit.
fn read_bounded(path: &Path, max: usize) -> Result<Arc<[u8]>, ReadError> {
    let file = File::open(path).map_err(|err| ReadError::Io(err, None))?;
    let size = file.metadata().ok().map(|meta| meta.len());
    if let Some(size) = size {
        if size > max as u64 {
            return Err(ReadError::TooLarge(size));
        }
    }
    let capacity = size.map_or(0, |size| usize::try_from(size).unwrap_or(max).min(max));
    let mut bytes = Vec::with_capacity(capacity);
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| ReadError::Io(err, size))?;
    if bytes.len() > max {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(Arc::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("sentry-attach-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn files_are_read_up_to_the_limit() {
        let path = temp_file("ten.bin", &[1; 10]);
        assert_eq!(read_bounded(&path, 10).ok().as_deref(), Some(&[1; 10][..]));
        assert!(matches!(
            read_bounded(&path, 9),
            Err(ReadError::TooLarge(10))
        ));
        assert!(matches!(
            read_bounded(&path.with_file_name("missing"), 9),
            Err(ReadError::Io(_, None))
        ));
        // A directory opens but cannot be read; its size is known.
        assert!(matches!(
            read_bounded(path.parent().unwrap(), usize::MAX / 2),
            Err(ReadError::Io(_, _))
        ));
        let _ = std::fs::remove_file(path);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn endless_files_stop_at_the_limit() {
        // `/dev/zero` reports no size and never ends.
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 1000),
            Err(ReadError::TooLarge(1001))
        ));
    }

    #[test]
    fn counts_bytes_and_items() {
        let reports = ClientReports::new();
        let big = Attachment::from_bytes("big", vec![0; 11]);
        assert!(ready(&big, 10, &reports).is_none());
        let missing = Attachment::from_path("/nonexistent/sentry/file.txt");
        assert!(ready(&missing, 10, &reports).is_none());
        let small = Attachment::from_bytes("small", vec![0; 10]);
        assert!(ready(&small, 10, &reports).is_some());
        let report = reports.take().unwrap();
        let counts: Vec<_> = report
            .discarded_events
            .iter()
            .map(|d| (d.reason, d.category, d.quantity))
            .collect();
        assert_eq!(
            counts,
            [
                (
                    DiscardReason::InternalSdkError,
                    DataCategory::AttachmentItem,
                    1
                ),
                (DiscardReason::Invalid, DataCategory::Attachment, 11),
                (DiscardReason::Invalid, DataCategory::AttachmentItem, 1),
            ]
        );
    }
}
