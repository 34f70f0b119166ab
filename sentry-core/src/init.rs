//! `init`: create a client from options and bind it to the global scope.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::client::Client;
use crate::options::{ClientOptions, OptionsError};
use crate::scope::{bind_client, global_slot, set_global_client};

/// What [`init`] accepts: [`ClientOptions`], a DSN string (empty = disabled), or a
/// `(dsn, options)` pair.
pub trait IntoOptions {
    /// The options, or why they are invalid.
    ///
    /// # Errors
    ///
    /// An invalid DSN string.
    fn into_options(self) -> Result<ClientOptions, OptionsError>;
}

impl IntoOptions for ClientOptions {
    fn into_options(self) -> Result<ClientOptions, OptionsError> {
        Ok(self)
    }
}

impl IntoOptions for &str {
    fn into_options(self) -> Result<ClientOptions, OptionsError> {
        ClientOptions::from_dsn(self)
    }
}

impl IntoOptions for String {
    fn into_options(self) -> Result<ClientOptions, OptionsError> {
        ClientOptions::from_dsn(&self)
    }
}

impl IntoOptions for (&str, ClientOptions) {
    fn into_options(self) -> Result<ClientOptions, OptionsError> {
        let (dsn, options) = self;
        Ok(ClientOptions {
            dsn: ClientOptions::from_dsn(dsn)?.dsn,
            ..options
        })
    }
}

/// Creates a client from the options (filled from `SENTRY_*` environment variables), binds it
/// to the global scope so every thread reports to it, and returns a guard that closes it.
///
/// Invalid options never panic: they print one line on stderr and give a disabled SDK. Use
/// [`try_init`] to handle the error yourself.
///
/// Call it early in `main`; calling it later (after threads or an async runtime started) works
/// too, because threads read the global scope when they capture.
///
/// # Examples
///
/// ```
/// let _guard = sentry_core::init(""); // empty DSN: disabled, no thread, no network
/// assert!(!_guard.is_enabled());
/// ```
pub fn init(options: impl IntoOptions) -> ClientInitGuard {
    match try_init(options) {
        Ok(guard) => guard,
        Err(err) => {
            crate::debug::debug_print(format_args!("the SDK is disabled: {err}"));
            ClientInitGuard { client: None }
        }
    }
}

/// Like [`init`], but returns the error for invalid options.
///
/// # Errors
///
/// An invalid DSN, an out-of-range option, or a malformed `SENTRY_*` environment variable.
///
/// # Examples
///
/// ```
/// let err = sentry_core::try_init("http://missing-project-id@example.com").unwrap_err();
/// assert!(err.to_string().contains("DSN"));
/// ```
pub fn try_init(options: impl IntoOptions) -> Result<ClientInitGuard, OptionsError> {
    let mut options = options.into_options()?;
    options.apply_env()?;
    let client = Arc::new(Client::try_new(options)?);
    bind_client(Some(Arc::clone(&client)));
    // Release health: the application's session starts now (and sessions earlier runs left
    // open are reported).
    client.start_auto_session();
    // A process started inside a trace (by a parent that set `SENTRY_TRACE`/`SENTRY_BAGGAGE`)
    // continues it.
    let incoming = crate::propagation::IncomingTrace::from_env();
    if incoming.sentry_trace.is_some() {
        crate::api::trace::continue_incoming(&incoming);
    }
    Ok(ClientInitGuard {
        client: Some(client),
    })
}

/// Closes its client when dropped, waiting at most the client's `shutdown_timeout` for queued
/// events.
#[must_use = "the client is closed as soon as the guard is dropped"]
pub struct ClientInitGuard {
    client: Option<Arc<Client>>,
}

impl fmt::Debug for ClientInitGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientInitGuard")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl ClientInitGuard {
    /// `true` if the client can send (a transport and a valid DSN, or Spotlight without a
    /// DSN).
    pub fn is_enabled(&self) -> bool {
        self.client.as_ref().is_some_and(|c| c.is_enabled())
    }

    /// The client, if options were valid.
    pub fn client(&self) -> Option<&Arc<Client>> {
        self.client.as_ref()
    }

    /// Flushes the client for at most `timeout` (its `shutdown_timeout` when `None`).
    pub fn flush(&self, timeout: Option<Duration>) -> bool {
        self.client.as_ref().is_none_or(|c| c.flush(timeout))
    }
}

impl Drop for ClientInitGuard {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        client.close(None);
        // Unbind it, unless another init replaced it meanwhile.
        global_slot().update(|scope| {
            if scope.client().is_some_and(|c| Arc::ptr_eq(c, &client)) {
                set_global_client(scope, None);
            }
        });
    }
}

/// The release name of the crate that calls it: `"{CARGO_PKG_NAME}@{CARGO_PKG_VERSION}"`, as an
/// `Option<Cow<'static, str>>` ready for [`ClientOptions::release`].
///
/// # Examples
///
/// ```
/// let release = sentry_core::release_name!();
/// assert_eq!(release.as_deref(), Some(concat!(env!("CARGO_PKG_NAME"), "@", env!("CARGO_PKG_VERSION"))));
/// ```
#[macro_export]
macro_rules! release_name {
    () => {
        ::std::option::Option::Some(::std::borrow::Cow::Borrowed(concat!(
            env!("CARGO_PKG_NAME"),
            "@",
            env!("CARGO_PKG_VERSION")
        )))
    };
}
