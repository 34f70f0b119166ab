//! [`Attachment`]: a file sent along with an event, from bytes in memory or from a path.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The default of [`ClientOptions::max_attachment_size`](crate::ClientOptions::max_attachment_size):
/// 20 MiB, the largest attachment the SDKs' common rules send.
pub const DEFAULT_MAX_ATTACHMENT_SIZE: usize = 20 * 1024 * 1024;

/// The content type of an attachment whose type is neither given nor known from its file name.
pub const DEFAULT_ATTACHMENT_CONTENT_TYPE: &str = "application/octet-stream";

/// Where an attachment's bytes come from.
#[derive(Clone, PartialEq, Eq)]
pub enum AttachmentData {
    /// Bytes in memory, shared: every event the attachment goes with points to the same
    /// buffer, none copies it.
    Bytes(Arc<[u8]>),
    /// A file, read when an event is captured (not when the attachment is added), so that it
    /// holds what the file held at the time of the event. A file that cannot be read then is
    /// left out of that event alone.
    Path(PathBuf),
}

impl fmt::Debug for AttachmentData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachmentData::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            AttachmentData::Path(path) => f.debug_tuple("Path").field(path).finish(),
        }
    }
}

/// What an attachment is to Sentry (its `attachment_type` item header).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::AttachmentType;
///
/// assert_eq!(AttachmentType::default().as_str(), "event.attachment");
/// assert_eq!(AttachmentType::from_name("event.minidump"), AttachmentType::Minidump);
/// assert_eq!(
///     AttachmentType::from_name("acme.trace"),
///     AttachmentType::Custom("acme.trace".into())
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttachmentType {
    /// A plain file (`event.attachment`); the default.
    #[default]
    Attachment,
    /// A minidump of a crashed process (`event.minidump`); Sentry processes it as the crash.
    Minidump,
    /// An Apple crash report (`event.applecrashreport`).
    AppleCrashReport,
    /// The context of an Unreal Engine crash (`unreal.context`).
    UnrealContext,
    /// The logs of an Unreal Engine crash (`unreal.logs`).
    UnrealLogs,
    /// A JSON description of the user interface at the time of the event
    /// (`event.view_hierarchy`).
    ViewHierarchy,
    /// Any other type, by its name.
    Custom(String),
}

impl AttachmentType {
    /// The wire name, such as `"event.attachment"`.
    pub fn as_str(&self) -> &str {
        match self {
            AttachmentType::Attachment => "event.attachment",
            AttachmentType::Minidump => "event.minidump",
            AttachmentType::AppleCrashReport => "event.applecrashreport",
            AttachmentType::UnrealContext => "unreal.context",
            AttachmentType::UnrealLogs => "unreal.logs",
            AttachmentType::ViewHierarchy => "event.view_hierarchy",
            AttachmentType::Custom(name) => name,
        }
    }

    /// The type with this wire name; [`AttachmentType::Custom`] for other names.
    pub fn from_name(name: &str) -> AttachmentType {
        match name {
            "event.attachment" => AttachmentType::Attachment,
            "event.minidump" => AttachmentType::Minidump,
            "event.applecrashreport" => AttachmentType::AppleCrashReport,
            "unreal.context" => AttachmentType::UnrealContext,
            "unreal.logs" => AttachmentType::UnrealLogs,
            "event.view_hierarchy" => AttachmentType::ViewHierarchy,
            other => AttachmentType::Custom(other.to_owned()),
        }
    }
}

impl fmt::Display for AttachmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file sent in the envelope of an event, as an `attachment` item.
///
/// Add it to a scope ([`Scope::add_attachment`](crate::Scope::add_attachment), or
/// [`add_attachment`](crate::add_attachment) for the isolation scope): every error or message
/// event captured while the scope is active carries it, and transactions too when
/// [`add_to_transactions`](Self::add_to_transactions) is set. The bytes are shared, never
/// copied per event. An attachment larger than the client's
/// [`max_attachment_size`](crate::ClientOptions::max_attachment_size) (20 MiB by default) is
/// left out and counted in a client report.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Attachment, AttachmentType};
/// use sentry_core::test::with_captured_envelopes;
///
/// let envelopes = with_captured_envelopes(|| {
///     sentry_core::with_scope(
///         |scope| {
///             scope.add_attachment(Attachment::from_bytes("config.json", br#"{"port":80}"#.to_vec()));
///             scope.add_attachment(
///                 Attachment::from_path("/var/log/app/current.log")
///                     .with_content_type("text/plain; charset=utf-8"),
///             );
///         },
///         || sentry_core::capture_message("bad config", sentry_core::Level::Error),
///     );
/// });
/// // The log file does not exist here: only that attachment is left out.
/// let text = String::from_utf8(envelopes[0].to_vec(None)).unwrap();
/// assert!(text.contains(
///     r#"{"type":"attachment","length":11,"filename":"config.json","attachment_type":"event.attachment","content_type":"application/json"}"#
/// ));
/// assert!(!text.contains("current.log"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The bytes, or the file to read them from.
    pub data: AttachmentData,
    /// The file name shown in Sentry (no directories).
    pub filename: String,
    /// The MIME type; `None` infers it from the file name's extension
    /// ([`content_type_for`]).
    pub content_type: Option<String>,
    /// What the attachment is to Sentry. Default: [`AttachmentType::Attachment`].
    pub attachment_type: AttachmentType,
    /// Also send it with transactions, not only with error and message events. Default:
    /// `false`.
    pub add_to_transactions: bool,
}

impl Attachment {
    /// An attachment of bytes in memory, named `filename`.
    ///
    /// The bytes are held in an `Arc<[u8]>`: pass a `Vec<u8>`, a `Box<[u8]>` or an
    /// `Arc<[u8]>` you already share, and no event copies them.
    ///
    /// ```
    /// use sentry_core::protocol::Attachment;
    ///
    /// let attachment = Attachment::from_bytes("notes.txt", b"hello".to_vec());
    /// assert_eq!(attachment.content_type(), "text/plain");
    /// assert_eq!(attachment.bytes().map(<[u8]>::len), Some(5));
    /// ```
    pub fn from_bytes(filename: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Attachment {
        Attachment {
            data: AttachmentData::Bytes(bytes.into()),
            filename: filename.into(),
            content_type: None,
            attachment_type: AttachmentType::Attachment,
            add_to_transactions: false,
        }
    }

    /// An attachment of the file at `path`, read each time an event is captured. Its file
    /// name is the path's last component (no directories).
    ///
    /// ```
    /// use sentry_core::protocol::Attachment;
    ///
    /// let attachment = Attachment::from_path("/var/log/app/current.log");
    /// assert_eq!(attachment.filename, "current.log");
    /// assert_eq!(attachment.content_type(), "text/plain");
    /// ```
    pub fn from_path(path: impl Into<PathBuf>) -> Attachment {
        let path = path.into();
        let filename = file_name_of(&path);
        Attachment {
            data: AttachmentData::Path(path),
            filename,
            content_type: None,
            attachment_type: AttachmentType::Attachment,
            add_to_transactions: false,
        }
    }

    /// Sets the file name shown in Sentry.
    pub fn with_filename(mut self, filename: impl Into<String>) -> Attachment {
        self.filename = filename.into();
        self
    }

    /// Sets the MIME type, instead of inferring it from the file name.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Attachment {
        self.content_type = Some(content_type.into());
        self
    }

    /// Sets what the attachment is to Sentry.
    ///
    /// ```
    /// use sentry_core::protocol::{Attachment, AttachmentType};
    ///
    /// let dump = Attachment::from_path("crash.dmp").with_attachment_type(AttachmentType::Minidump);
    /// assert_eq!(dump.attachment_type.as_str(), "event.minidump");
    /// ```
    pub fn with_attachment_type(mut self, attachment_type: AttachmentType) -> Attachment {
        self.attachment_type = attachment_type;
        self
    }

    /// Sends the attachment with transactions too (`true`), or only with error and message
    /// events (`false`, the default).
    pub fn add_to_transactions(mut self, add: bool) -> Attachment {
        self.add_to_transactions = add;
        self
    }

    /// The MIME type written in the `content_type` header: the one set, or else the one
    /// inferred from the file name ([`content_type_for`]).
    pub fn content_type(&self) -> &str {
        match &self.content_type {
            Some(content_type) => content_type,
            None => content_type_for(&self.filename),
        }
    }

    /// The bytes, when they are in memory ([`AttachmentData::Bytes`]).
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.data {
            AttachmentData::Bytes(bytes) => Some(bytes),
            AttachmentData::Path(_) => None,
        }
    }

    /// The size in bytes when the bytes are in memory; 0 for a file not read yet.
    pub fn len(&self) -> usize {
        self.bytes().map_or(0, <[u8]>::len)
    }

    /// `true` when there are no bytes in memory (empty, or a file not read yet).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same attachment with `bytes` in place of its data (a file, once read).
    pub(crate) fn with_bytes(&self, bytes: Arc<[u8]>) -> Attachment {
        Attachment {
            data: AttachmentData::Bytes(bytes),
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            attachment_type: self.attachment_type.clone(),
            add_to_transactions: self.add_to_transactions,
        }
    }
}

/// The last component of `path`, or `"attachment"` when it has none (such as `/` or `..`).
fn file_name_of(path: &Path) -> String {
    match path.file_name() {
        Some(name) => match name.to_string_lossy() {
            Cow::Borrowed(name) => name.to_owned(),
            Cow::Owned(name) => name,
        },
        None => "attachment".to_owned(),
    }
}

/// The MIME type of a file name's extension (compared without regard to case), or
/// [`DEFAULT_ATTACHMENT_CONTENT_TYPE`] for other extensions and names without one.
///
/// Known: `txt`, `log`, `md`, `json`, `xml`, `html`/`htm`, `csv`, `png`, `jpg`/`jpeg`, `gif`,
/// `webp`, `svg`, `pdf`, `zip`, `gz`. A minidump (`.dmp`) has no registered type and is sent
/// as `application/octet-stream`.
///
/// ```
/// use sentry_core::protocol::content_type_for;
///
/// assert_eq!(content_type_for("state.JSON"), "application/json");
/// assert_eq!(content_type_for("photo.jpeg"), "image/jpeg");
/// assert_eq!(content_type_for("crash.dmp"), "application/octet-stream");
/// assert_eq!(content_type_for("README"), "application/octet-stream");
/// ```
pub fn content_type_for(filename: &str) -> &'static str {
    let Some((stem, extension)) = filename.rsplit_once('.') else {
        return DEFAULT_ATTACHMENT_CONTENT_TYPE;
    };
    if stem.is_empty() {
        // A dot file such as `.env` has no extension.
        return DEFAULT_ATTACHMENT_CONTENT_TYPE;
    }
    const TABLE: &[(&str, &str)] = &[
        ("txt", "text/plain"),
        ("log", "text/plain"),
        ("md", "text/markdown"),
        ("json", "application/json"),
        ("xml", "application/xml"),
        ("html", "text/html"),
        ("htm", "text/html"),
        ("csv", "text/csv"),
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("gif", "image/gif"),
        ("webp", "image/webp"),
        ("svg", "image/svg+xml"),
        ("pdf", "application/pdf"),
        ("zip", "application/zip"),
        ("gz", "application/gzip"),
    ];
    TABLE
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(extension))
        .map_or(DEFAULT_ATTACHMENT_CONTENT_TYPE, |&(_, content_type)| {
            content_type
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        for ty in [
            AttachmentType::Attachment,
            AttachmentType::Minidump,
            AttachmentType::AppleCrashReport,
            AttachmentType::UnrealContext,
            AttachmentType::UnrealLogs,
            AttachmentType::ViewHierarchy,
            AttachmentType::Custom("x.y".into()),
        ] {
            assert_eq!(AttachmentType::from_name(ty.as_str()), ty);
            assert_eq!(ty.to_string(), ty.as_str());
        }
    }

    #[test]
    fn file_names_have_no_directories() {
        assert_eq!(Attachment::from_path("a/b/c.txt").filename, "c.txt");
        assert_eq!(Attachment::from_path("c.txt").filename, "c.txt");
        assert_eq!(Attachment::from_path("/").filename, "attachment");
        assert_eq!(Attachment::from_path("a/..").filename, "attachment");
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type_for("a.txt"), "text/plain");
        assert_eq!(content_type_for("a.tar.gz"), "application/gzip");
        assert_eq!(content_type_for("a.PNG"), "image/png");
        assert_eq!(content_type_for(".json"), DEFAULT_ATTACHMENT_CONTENT_TYPE);
        assert_eq!(content_type_for(".cfg.json"), "application/json");
        assert_eq!(content_type_for("a."), DEFAULT_ATTACHMENT_CONTENT_TYPE);
        assert_eq!(content_type_for(""), DEFAULT_ATTACHMENT_CONTENT_TYPE);
        let set = Attachment::from_bytes("a.txt", Vec::new()).with_content_type("text/x-custom");
        assert_eq!(set.content_type(), "text/x-custom");
    }

    #[test]
    fn debug_does_not_dump_bytes() {
        let attachment = Attachment::from_bytes("a.bin", vec![7u8; 1000]);
        let debug = format!("{attachment:?}");
        assert!(debug.contains("1000 bytes"), "{debug}");
        assert!(!debug.contains("7, 7"));
    }
}
