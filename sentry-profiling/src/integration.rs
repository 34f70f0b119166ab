//! The integration that ties the profiler to a client's options and to its flush and close.

use std::sync::Arc;

use sentry_core::__private::{set_profiler_hooks, ProfilerHooks};
use sentry_core::{Client, ClientOptions, Integration, ProfileLifecycle};

use crate::{lifecycle, profiler, session};

/// Connects continuous profiling to the SDK: reads `profile_session_sample_rate` and
/// `profile_lifecycle`, runs the profiler while sampled transactions run in the `Trace`
/// lifecycle, and has `flush` and `close` send the profiler's pending chunk.
///
/// `sentry::init` adds it when the `profiling` feature is on; with `sentry-core` alone, add it
/// to the options' integrations.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{ClientOptions, ProfileLifecycle};
///
/// let options = ClientOptions {
///     profile_session_sample_rate: 1.0,
///     profile_lifecycle: ProfileLifecycle::Manual,
///     integrations: vec![Arc::new(sentry_profiling::ProfilingIntegration::new())],
///     ..Default::default()
/// };
/// let _guard = sentry_core::init(options); // no DSN here: nothing runs
/// assert!(!sentry_profiling::is_profiler_running());
/// ```
#[derive(Debug, Default)]
pub struct ProfilingIntegration {
    _private: (),
}

impl ProfilingIntegration {
    /// The integration.
    pub fn new() -> ProfilingIntegration {
        ProfilingIntegration::default()
    }

    /// The integration, shared, for the options' list.
    pub fn shared() -> Arc<dyn Integration> {
        Arc::new(ProfilingIntegration::new())
    }
}

impl Integration for ProfilingIntegration {
    fn name(&self) -> &'static str {
        "profiling"
    }

    fn setup(&self, options: &ClientOptions) {
        set_profiler_hooks(Some(ProfilerHooks {
            flush: on_flush,
            close: on_close,
        }));
        let rate = options.profile_session_sample_rate;
        if options.dsn.is_none() || rate.is_nan() || rate <= 0.0 {
            lifecycle::uninstall();
            return;
        }
        if let Some(why) = crate::unsupported() {
            sentry_core::__private::debug_print(format_args!(
                "profile_session_sample_rate is set, but profiling is not supported here: {why}"
            ));
            return;
        }
        match options.profile_lifecycle {
            ProfileLifecycle::Trace => {
                if !options.tracing_enabled() {
                    sentry_core::__private::debug_print(format_args!(
                        "profile_lifecycle is Trace but tracing is off (no traces_sample_rate \
                         or traces_sampler): the profiler will not run"
                    ));
                    lifecycle::uninstall();
                } else if session::process_sampled(rate) {
                    lifecycle::install();
                } else {
                    session::log_not_sampled(rate);
                    lifecycle::uninstall();
                }
            }
            _ => lifecycle::uninstall(),
        }
    }
}

fn on_flush(client: &Client) {
    profiler::flush(client);
}

fn on_close(client: &Client) {
    // Only the client the profiler sends to stops it (another client closing, such as one a
    // service keeps for itself, leaves it running).
    profiler::stop(
        profiler::Which::SendingTo(client),
        profiler::AfterStop::Forget,
    );
}
