//! Builder-style setters on [`ClientOptions`], beside struct literals:
//! `ClientOptions::new().dsn("…").release("…").traces_sample_rate(0.2)`.
//!
//! Each setter takes the options by value and returns them, so a chain ends in the options
//! themselves (no `build()`), and a chain and a struct literal can be mixed freely. Setters
//! exist for the commonly set options; every other option is a public field.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sentry_minimal::Breadcrumb;

use super::{parse_optional_dsn, ClientOptions, OptionsError, ProfileLifecycle, Spotlight};
use crate::dsn::Dsn;
use crate::hint::Hint;
use crate::integration::Integration;
use crate::propagation::TracePropagationTargets;
use crate::protocol::{Event, Log};
use crate::sampling::SamplingContext;
use crate::session::SessionMode;
use crate::transport::TransportFactory;

/// What [`ClientOptions::dsn`] accepts: a parsed [`Dsn`], `Option<Dsn>`, or a DSN string
/// (empty: no DSN).
pub trait IntoDsn {
    /// The DSN, `None` for none, or why the text is not a DSN.
    ///
    /// # Errors
    ///
    /// [`OptionsError::Dsn`] for a string that is not a valid DSN.
    fn into_dsn(self) -> Result<Option<Dsn>, OptionsError>;
}

impl IntoDsn for Dsn {
    fn into_dsn(self) -> Result<Option<Dsn>, OptionsError> {
        Ok(Some(self))
    }
}

impl IntoDsn for Option<Dsn> {
    fn into_dsn(self) -> Result<Option<Dsn>, OptionsError> {
        Ok(self)
    }
}

impl IntoDsn for &str {
    fn into_dsn(self) -> Result<Option<Dsn>, OptionsError> {
        parse_optional_dsn(self)
    }
}

impl IntoDsn for String {
    fn into_dsn(self) -> Result<Option<Dsn>, OptionsError> {
        parse_optional_dsn(&self)
    }
}

impl IntoDsn for &String {
    fn into_dsn(self) -> Result<Option<Dsn>, OptionsError> {
        parse_optional_dsn(self)
    }
}

impl ClientOptions {
    /// Options with every field at its default, to chain setters on:
    ///
    /// ```
    /// use std::time::Duration;
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions::new()
    ///     .dsn("https://public@o1.ingest.sentry.io/42")
    ///     .release("my-app@1.2.3")
    ///     .environment("staging")
    ///     .sample_rate(0.5)
    ///     .traces_sample_rate(0.2)
    ///     .send_default_pii(true)
    ///     .shutdown_timeout(Duration::from_secs(5));
    /// assert_eq!(options.dsn.as_ref().map(|dsn| dsn.project_id()), Some("42"));
    /// assert_eq!(options.environment.as_deref(), Some("staging"));
    /// assert_eq!(options.traces_sample_rate, Some(0.2));
    ///
    /// // The same as a struct literal, which keeps working:
    /// let literal = ClientOptions {
    ///     release: Some("my-app@1.2.3".into()),
    ///     ..ClientOptions::default()
    /// };
    /// assert_eq!(literal.release, options.release);
    /// ```
    pub fn new() -> ClientOptions {
        ClientOptions::default()
    }

    /// Sets the DSN from a string, a [`Dsn`] or an `Option<Dsn>`; an empty string means no
    /// DSN.
    ///
    /// A string that is not a valid DSN leaves the options without one (a disabled SDK, as
    /// with no DSN) and prints why on stderr, since a chain has nowhere to return the error;
    /// [`try_dsn`](Self::try_dsn) returns it instead.
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// assert!(ClientOptions::new().dsn("https://key@sentry.example.com/1").dsn.is_some());
    /// assert!(ClientOptions::new().dsn("").dsn.is_none());
    /// assert!(ClientOptions::new().dsn("not a dsn").dsn.is_none());
    /// ```
    #[must_use]
    pub fn dsn(mut self, dsn: impl IntoDsn) -> ClientOptions {
        self.dsn = match dsn.into_dsn() {
            Ok(dsn) => dsn,
            Err(error) => {
                crate::debug::debug_print(format_args!("{error}; the SDK stays disabled"));
                None
            }
        };
        self
    }

    /// Sets the DSN, or says why it is invalid.
    ///
    /// # Errors
    ///
    /// [`OptionsError::Dsn`] when `dsn` is not a valid DSN.
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// assert!(ClientOptions::new().try_dsn("https://key@sentry.example.com/1").is_ok());
    /// let error = ClientOptions::new().try_dsn("https://sentry.example.com/1").unwrap_err();
    /// assert!(error.to_string().contains("DSN"));
    /// ```
    pub fn try_dsn(mut self, dsn: impl IntoDsn) -> Result<ClientOptions, OptionsError> {
        self.dsn = dsn.into_dsn()?;
        Ok(self)
    }

    /// Sets [`release`](Self::release).
    #[must_use]
    pub fn release(mut self, release: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.release = Some(release.into());
        self
    }

    /// Sets [`environment`](Self::environment) (read the one events get with
    /// [`effective_environment`](Self::effective_environment)).
    #[must_use]
    pub fn environment(mut self, environment: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.environment = Some(environment.into());
        self
    }

    /// Sets [`dist`](Self::dist).
    #[must_use]
    pub fn dist(mut self, dist: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.dist = Some(dist.into());
        self
    }

    /// Sets [`server_name`](Self::server_name).
    #[must_use]
    pub fn server_name(mut self, server_name: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.server_name = Some(server_name.into());
        self
    }

    /// Sets [`sample_rate`](Self::sample_rate) (checked by `init`: 0.0 to 1.0).
    #[must_use]
    pub fn sample_rate(mut self, rate: f32) -> ClientOptions {
        self.sample_rate = rate;
        self
    }

    /// Sets [`traces_sample_rate`](Self::traces_sample_rate), turning tracing on.
    #[must_use]
    pub fn traces_sample_rate(mut self, rate: f64) -> ClientOptions {
        self.traces_sample_rate = Some(rate);
        self
    }

    /// Sets [`traces_sampler`](Self::traces_sampler), turning tracing on.
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions::new()
    ///     .traces_sampler(|ctx| if ctx.name() == "GET /health" { 0.0 } else { 0.1 });
    /// assert!(options.tracing_enabled());
    /// ```
    #[must_use]
    pub fn traces_sampler(
        mut self,
        sampler: impl Fn(&SamplingContext<'_>) -> f64 + Send + Sync + 'static,
    ) -> ClientOptions {
        self.traces_sampler = Some(Arc::new(sampler));
        self
    }

    /// Sets [`debug`](Self::debug).
    #[must_use]
    pub fn debug(mut self, debug: bool) -> ClientOptions {
        self.debug = debug;
        self
    }

    /// Sets [`send_default_pii`](Self::send_default_pii).
    #[must_use]
    pub fn send_default_pii(mut self, send: bool) -> ClientOptions {
        self.send_default_pii = send;
        self
    }

    /// Sets [`attach_stacktrace`](Self::attach_stacktrace).
    #[must_use]
    pub fn attach_stacktrace(mut self, attach: bool) -> ClientOptions {
        self.attach_stacktrace = attach;
        self
    }

    /// Sets [`max_breadcrumbs`](Self::max_breadcrumbs).
    #[must_use]
    pub fn max_breadcrumbs(mut self, max: usize) -> ClientOptions {
        self.max_breadcrumbs = max;
        self
    }

    /// Sets [`shutdown_timeout`](Self::shutdown_timeout).
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> ClientOptions {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets [`enable_logs`](Self::enable_logs).
    #[must_use]
    pub fn enable_logs(mut self, enable: bool) -> ClientOptions {
        self.enable_logs = enable;
        self
    }

    /// Sets [`enable_metrics`](Self::enable_metrics).
    #[must_use]
    pub fn enable_metrics(mut self, enable: bool) -> ClientOptions {
        self.enable_metrics = enable;
        self
    }

    /// Sets [`before_send`](Self::before_send).
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions::new().before_send(|mut event, _hint| {
    ///     event.server_name = None;
    ///     Some(event)
    /// });
    /// assert!(options.before_send.is_some());
    /// ```
    #[must_use]
    pub fn before_send(
        mut self,
        callback: impl Fn(Event, &Hint<'_>) -> Option<Event> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send = Some(Arc::new(callback));
        self
    }

    /// Sets [`before_send_transaction`](Self::before_send_transaction).
    #[must_use]
    pub fn before_send_transaction(
        mut self,
        callback: impl Fn(Event, &Hint<'_>) -> Option<Event> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send_transaction = Some(Arc::new(callback));
        self
    }

    /// Sets [`before_breadcrumb`](Self::before_breadcrumb).
    #[must_use]
    pub fn before_breadcrumb(
        mut self,
        callback: impl Fn(Breadcrumb, &Hint<'_>) -> Option<Breadcrumb> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_breadcrumb = Some(Arc::new(callback));
        self
    }

    /// Sets [`before_send_log`](Self::before_send_log).
    #[must_use]
    pub fn before_send_log(
        mut self,
        callback: impl Fn(Log) -> Option<Log> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send_log = Some(Arc::new(callback));
        self
    }

    /// Adds an integration after those already listed.
    #[must_use]
    pub fn add_integration(mut self, integration: impl Integration) -> ClientOptions {
        self.integrations.push(Arc::new(integration));
        self
    }

    /// Sets [`transport`](Self::transport).
    #[must_use]
    pub fn transport(mut self, factory: impl TransportFactory) -> ClientOptions {
        self.transport = Some(Arc::new(factory));
        self
    }

    /// Sets [`spotlight`](Self::spotlight): `true` for the default sidecar URL, or a URL.
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions::new().spotlight(true);
    /// assert_eq!(options.spotlight.url(), Some("http://localhost:8969/stream"));
    /// ```
    #[must_use]
    pub fn spotlight(mut self, spotlight: impl Into<Spotlight>) -> ClientOptions {
        self.spotlight = spotlight.into();
        self
    }

    /// Sets [`auto_session_tracking`](Self::auto_session_tracking).
    #[must_use]
    pub fn auto_session_tracking(mut self, track: bool) -> ClientOptions {
        self.auto_session_tracking = track;
        self
    }

    /// Sets [`session_mode`](Self::session_mode).
    #[must_use]
    pub fn session_mode(mut self, mode: SessionMode) -> ClientOptions {
        self.session_mode = mode;
        self
    }

    /// Sets [`trace_propagation_targets`](Self::trace_propagation_targets).
    #[must_use]
    pub fn trace_propagation_targets(
        mut self,
        targets: impl Into<TracePropagationTargets>,
    ) -> ClientOptions {
        self.trace_propagation_targets = targets.into();
        self
    }

    /// Adds a module prefix to [`in_app_include`](Self::in_app_include).
    #[must_use]
    pub fn in_app_include(mut self, prefix: &'static str) -> ClientOptions {
        self.in_app_include.push(prefix);
        self
    }

    /// Adds a module prefix to [`in_app_exclude`](Self::in_app_exclude).
    #[must_use]
    pub fn in_app_exclude(mut self, prefix: &'static str) -> ClientOptions {
        self.in_app_exclude.push(prefix);
        self
    }

    /// Sets [`cache_dir`](Self::cache_dir), turning the offline cache on.
    #[must_use]
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> ClientOptions {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Sets [`http_proxy`](Self::http_proxy).
    #[must_use]
    pub fn http_proxy(mut self, proxy: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.http_proxy = Some(proxy.into());
        self
    }

    /// Sets [`https_proxy`](Self::https_proxy).
    #[must_use]
    pub fn https_proxy(mut self, proxy: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.https_proxy = Some(proxy.into());
        self
    }

    /// Sets [`profile_session_sample_rate`](Self::profile_session_sample_rate) (checked by
    /// `init`: 0.0 to 1.0).
    ///
    /// ```
    /// use sentry_core::{ClientOptions, ProfileLifecycle};
    ///
    /// let options = ClientOptions::new()
    ///     .profile_session_sample_rate(1.0)
    ///     .profile_lifecycle(ProfileLifecycle::Trace);
    /// assert_eq!(options.profile_session_sample_rate, 1.0);
    /// assert_eq!(options.profile_lifecycle, ProfileLifecycle::Trace);
    /// ```
    #[must_use]
    pub fn profile_session_sample_rate(mut self, rate: f32) -> ClientOptions {
        self.profile_session_sample_rate = rate;
        self
    }

    /// Sets [`profile_lifecycle`](Self::profile_lifecycle).
    #[must_use]
    pub fn profile_lifecycle(mut self, lifecycle: ProfileLifecycle) -> ClientOptions {
        self.profile_lifecycle = lifecycle;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_sets_what_a_literal_sets() {
        let chained = ClientOptions::new()
            .dsn("https://k@example.com/3")
            .release("r@1")
            .environment("env")
            .dist("7")
            .server_name("host")
            .sample_rate(0.5)
            .traces_sample_rate(0.25)
            .debug(true)
            .send_default_pii(true)
            .attach_stacktrace(true)
            .max_breadcrumbs(5)
            .enable_logs(true)
            .enable_metrics(false)
            .spotlight("http://127.0.0.1:9/stream")
            .auto_session_tracking(false)
            .session_mode(SessionMode::Request)
            .trace_propagation_targets(TracePropagationTargets::None)
            .in_app_include("my_app")
            .in_app_exclude("vendored")
            .cache_dir("/tmp/cache")
            .http_proxy("http://proxy:3128")
            .https_proxy("http://proxy:3129");
        let literal = ClientOptions {
            dsn: "https://k@example.com/3".parse().ok(),
            release: Some("r@1".into()),
            environment: Some("env".into()),
            dist: Some("7".into()),
            server_name: Some("host".into()),
            sample_rate: 0.5,
            traces_sample_rate: Some(0.25),
            debug: true,
            send_default_pii: true,
            attach_stacktrace: true,
            max_breadcrumbs: 5,
            enable_logs: true,
            enable_metrics: false,
            spotlight: Spotlight::from("http://127.0.0.1:9/stream"),
            auto_session_tracking: false,
            session_mode: SessionMode::Request,
            trace_propagation_targets: TracePropagationTargets::None,
            in_app_include: vec!["my_app"],
            in_app_exclude: vec!["vendored"],
            cache_dir: Some("/tmp/cache".into()),
            http_proxy: Some("http://proxy:3128".into()),
            https_proxy: Some("http://proxy:3129".into()),
            ..ClientOptions::default()
        };
        assert_eq!(format!("{chained:?}"), format!("{literal:?}"));
    }

    #[test]
    fn callbacks_and_factories_are_set() {
        let options = ClientOptions::new()
            .before_send(|event, _| Some(event))
            .before_send_transaction(|event, _| Some(event))
            .before_breadcrumb(|crumb, _| Some(crumb))
            .before_send_log(Some)
            .traces_sampler(|_| 0.5);
        assert!(options.before_send.is_some());
        assert!(options.before_send_transaction.is_some());
        assert!(options.before_breadcrumb.is_some());
        assert!(options.before_send_log.is_some());
        assert!(options.tracing_enabled());
    }

    #[test]
    fn integrations_and_transports_are_added() {
        struct Named;
        impl Integration for Named {
            fn name(&self) -> &'static str {
                "named"
            }
        }
        let shared = crate::test::TestTransport::new().factory();
        let options = ClientOptions::new()
            .add_integration(Named)
            .transport(shared);
        assert_eq!(options.integrations[0].name(), "named");
        assert!(options.transport.is_some());
    }

    #[test]
    fn an_invalid_dsn_leaves_none_or_is_returned() {
        assert!(ClientOptions::new().dsn("nope").dsn.is_none());
        assert!(matches!(
            ClientOptions::new().try_dsn("nope"),
            Err(OptionsError::Dsn(_))
        ));
        let dsn: Dsn = "https://k@example.com/3".parse().expect("valid");
        assert_eq!(ClientOptions::new().dsn(dsn.clone()).dsn, Some(dsn));
    }
}
