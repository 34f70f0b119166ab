//! The names of the offline cache's files. The cache reads, renames and deletes only files
//! named this way; anything else in the directory belongs to somebody else and is left alone.
//!
//! | name | what |
//! |---|---|
//! | `<nanos>-<pid>-<n>.envelope` | an envelope waiting to be sent |
//! | `<nanos>-<pid>-<n>.client_report` | client report counts waiting to be sent |
//! | `<one of the above>.<pid>.claimed` | the same file while process `<pid>` sends it |
//! | `.tmp-<nanos>-<pid>-<n>.<kind>` | a file being written |
//!
//! `<nanos>` (24 digits, Unix time in nanoseconds), `<pid>` (10 digits) and `<n>` (10 digits,
//! a per-cache counter) make names unique across processes sharing a directory and make them
//! sort oldest first.

use std::time::{SystemTime, UNIX_EPOCH};

/// The two kinds of file the cache keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An envelope, exactly as it is sent minus `sent_at`.
    Envelope,
    /// Persisted client report counts (a `ClientReport` payload).
    Reports,
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::Envelope => "envelope",
            Kind::Reports => "client_report",
        }
    }
}

/// The prefix of files being written.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";
const CLAIMED_SUFFIX: &str = ".claimed";
const NANOS_DIGITS: usize = 24;
const PID_DIGITS: usize = 10;
const COUNTER_DIGITS: usize = 10;

/// A new file name of `kind`, unique thanks to the time, this process's id and `counter`.
pub(crate) fn new_name(kind: Kind, counter: u64) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!(
        "{nanos:0NANOS_DIGITS$}-{pid:0PID_DIGITS$}-{counter:0COUNTER_DIGITS$}.{ext}",
        pid = std::process::id(),
        ext = kind.extension()
    )
}

/// The kind of an own, unclaimed file name; `None` for any other name.
pub(crate) fn kind_of(name: &str) -> Option<Kind> {
    let (stem, extension) = name.split_once('.')?;
    let kind = [Kind::Envelope, Kind::Reports]
        .into_iter()
        .find(|kind| kind.extension() == extension)?;
    is_stem(stem).then_some(kind)
}

/// `<nanos>-<pid>-<n>` with the exact number of digits of each part.
fn is_stem(stem: &str) -> bool {
    let mut parts = stem.split('-');
    let widths = [NANOS_DIGITS, PID_DIGITS, COUNTER_DIGITS];
    widths.iter().all(|&width| {
        parts
            .next()
            .is_some_and(|part| part.len() == width && part.bytes().all(|b| b.is_ascii_digit()))
    }) && parts.next().is_none()
}

/// The name of `name` claimed by process `pid`.
pub(crate) fn claimed(name: &str, pid: u32) -> String {
    format!("{name}.{pid:0PID_DIGITS$}{CLAIMED_SUFFIX}")
}

/// A claimed own file: the name it had before it was claimed, its kind and the claiming
/// process; `None` for any other name.
pub(crate) fn parse_claimed(name: &str) -> Option<(&str, Kind, u32)> {
    let rest = name.strip_suffix(CLAIMED_SUFFIX)?;
    let (original, pid) = rest.rsplit_once('.')?;
    if pid.len() != PID_DIGITS || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let kind = kind_of(original)?;
    Some((original, kind, pid.parse().ok()?))
}

/// Whether `name` is a file the cache was writing (`.tmp-` and an own name).
pub(crate) fn is_temp(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .is_some_and(|rest| kind_of(rest).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_names_round_trip_and_others_are_refused() {
        let name = new_name(Kind::Envelope, 7);
        assert_eq!(kind_of(&name), Some(Kind::Envelope));
        let report = new_name(Kind::Reports, 8);
        assert_eq!(kind_of(&report), Some(Kind::Reports));
        assert!(report.ends_with(".client_report"));
        assert!(name < report, "names sort oldest first");

        let pid = std::process::id();
        let claimed_name = claimed(&name, pid);
        assert_eq!(
            kind_of(&claimed_name),
            None,
            "a claimed file is not sendable"
        );
        assert_eq!(
            parse_claimed(&claimed_name),
            Some((name.as_str(), Kind::Envelope, pid))
        );
        assert!(is_temp(&format!("{TEMP_PREFIX}{name}")));

        for foreign in [
            "zz-not-ours.envelope",
            "notes.txt",
            "0-0-0.envelope",
            "000000000000000000000001-0000000001-0000000001.envelope.bak",
            "000000000000000000000001-0000000001-0000000001.json",
            "00000000000000000000000x-0000000001-0000000001.envelope",
            "000000000000000000000001-0000000001-0000000001-1.envelope",
            ".tmp-notes.txt",
            "000000000000000000000001-0000000001-0000000001.envelope.12.claimed",
            "zz.envelope.0000000001.claimed",
        ] {
            assert_eq!(kind_of(foreign), None, "{foreign}");
            assert_eq!(parse_claimed(foreign), None, "{foreign}");
            assert!(!is_temp(foreign), "{foreign}");
        }
    }
}
