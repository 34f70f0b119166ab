//! Holding a structured log to the limits.

use super::{truncate_chars, truncate_cow, MAX_LOG_BYTES};
use crate::protocol::{Log, LogValue};

/// Cuts the log's body and string attributes to `max_chars` characters. Returns the log's
/// size when it is still larger than [`MAX_LOG_BYTES`] (too large to send), `None` when it
/// fits.
pub(crate) fn enforce_log(log: &mut Log, max_chars: usize) -> Option<usize> {
    truncate_chars(&mut log.body, max_chars);
    let mut strings = log.body.len();
    for value in log.attributes.values_mut() {
        if let LogValue::String(s) = value {
            truncate_cow(s, max_chars);
            strings += s.len();
        }
    }
    // The estimate leaves out escaping, which can make a string up to six times longer.
    let estimate = log.estimated_size();
    if estimate.saturating_add(strings.saturating_mul(5)) <= MAX_LOG_BYTES {
        return None;
    }
    let mut counter = Counter(0);
    let size = match serde_json::to_writer(&mut counter, &*log) {
        Ok(()) => counter.0,
        Err(_) => estimate,
    };
    (size > MAX_LOG_BYTES).then_some(size)
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
