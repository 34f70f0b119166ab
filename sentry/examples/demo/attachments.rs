//! Attachments: an error sent with a small text file and a JSON document in its envelope.
//!
//! The attachments are added to a scope that lives only for this capture, so no other event
//! of the demo carries them.

use sentry::protocol::Attachment;

/// Captures a configuration error with two attachments: the (pretend) log lines that led to
/// it, as text, and the configuration that was being read, as JSON.
pub(crate) fn run() {
    let log = "12:00:01 loading /etc/demo.toml\n12:00:01 port = \"80a\"\n12:00:01 giving up\n";
    let config = br#"{"path":"/etc/demo.toml","port":"80a","retries":3}"#;
    let error = "80a".parse::<u16>().unwrap_err();
    sentry::with_scope(
        |scope| {
            // `.log` is sent as `text/plain` and `.json` as `application/json`, inferred from
            // the file names.
            scope.add_attachment(Attachment::from_bytes(
                "startup.log",
                log.as_bytes().to_vec(),
            ));
            scope.add_attachment(Attachment::from_bytes("config.json", config.to_vec()));
        },
        || sentry::capture_error(&error),
    );
}
