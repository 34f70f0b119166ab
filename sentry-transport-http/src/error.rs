//! [`HttpTransportError`]: why a transport or a Spotlight sender could not be created.

use std::error::Error;
use std::fmt;
use std::io;

/// Why an [`HttpTransport`](crate::HttpTransport) (or a [`SpotlightSender`](crate::SpotlightSender))
/// could not be created.
///
/// ```
/// use sentry_transport_http::{HttpTransportError, SpotlightSender};
///
/// let error = SpotlightSender::new("localhost:8969", "my-app/1.0").unwrap_err();
/// assert!(matches!(error, HttpTransportError::InvalidUrl { .. }));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpTransportError {
    /// The DSN (or the Spotlight URL) does not give a usable `http://` or `https://` URL.
    InvalidUrl {
        /// The URL, with any `user:password@` replaced by `***@`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The worker thread could not be spawned.
    Spawn(io::Error),
}

impl fmt::Display for HttpTransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpTransportError::InvalidUrl { url, reason } => {
                write!(f, "invalid URL {url:?}: {reason}")
            }
            HttpTransportError::Spawn(_) => f.write_str("could not spawn the transport thread"),
        }
    }
}

impl Error for HttpTransportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            HttpTransportError::InvalidUrl { .. } => None,
            HttpTransportError::Spawn(error) => Some(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_says_what_went_wrong() {
        let error = HttpTransportError::Spawn(io::Error::other("no threads"));
        assert_eq!(error.to_string(), "could not spawn the transport thread");
        assert!(error.source().is_some());
    }
}
