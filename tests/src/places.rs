//! Places the tests point the SDK at: a fresh directory, a port with nothing listening.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// A directory under the system's temporary directory that does not exist yet, unique to this
/// process, `name` and the moment (the caller or the SDK creates it).
pub fn temp_dir(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("sentry-{name}-{}-{nanos}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A DSN for a loopback port with nothing listening: every connection is refused.
///
/// # Panics
///
/// When no free port can be found (a test fixture).
pub fn refused_dsn() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    format!("http://public@127.0.0.1:{port}/1")
}
