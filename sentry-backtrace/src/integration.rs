//! The integration that puts stack traces on events.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};

use sentry_core::protocol::Event;
use sentry_core::{ClientOptions, Integration};

use crate::capture::RawStack;
use crate::in_app::InAppRules;
use crate::resolve::{
    is_deferred_symbolication, resolve_event, set_resolve_config, ResolveConfig, SdkCodeGuard,
};

/// Adds stack traces to events and completes them.
///
/// - An event with exceptions and no stack trace anywhere (such as one from `capture_error`)
///   gets the current stack on its outermost (last) exception.
/// - With `attach_stacktrace` in the options, an event without exceptions, stack trace or
///   threads (a message) gets the current stack as `stacktrace`.
/// - `capture_error` walks the stack at its entry point, before the pipeline, so the SDK's own
///   frames are not unwound, and lends it to this integration as the hint's value (hooks see
///   it as `hint.value::<RawStack>()`). It does so only for a client that keeps every error
///   (`sample_rate` 1.0); otherwise, and for error events captured another way, the stack is
///   walked here.
/// - Stacks are captured as raw addresses; they are completed (symbols, trimming of the SDK's
///   frames, in-app rules from `in_app_include`/`in_app_exclude`, source context, debug images)
///   here, or on the transport worker when [`set_deferred_symbolication`] is on.
///
/// [`set_deferred_symbolication`]: crate::set_deferred_symbolication
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_backtrace::StacktraceIntegration;
/// use sentry_core::{test::with_captured_events_options, ClientOptions, Level};
///
/// let options = ClientOptions {
///     attach_stacktrace: true,
///     integrations: vec![Arc::new(StacktraceIntegration::new())],
///     ..Default::default()
/// };
/// let events = with_captured_events_options(options, || {
///     let err = "x".parse::<u8>().unwrap_err();
///     sentry_core::capture_error(&err);
///     sentry_core::capture_message("hello", Level::Info);
/// });
/// let error_stack = events[0].exception.last().unwrap().stacktrace.as_ref().unwrap();
/// // The last frame is the code that called capture_error, not the SDK.
/// let top = error_stack.frames.last().unwrap();
/// assert!(top.function.as_deref().unwrap().contains("main"), "{top:?}");
/// assert!(events[1].stacktrace.is_some());
/// ```
#[derive(Debug, Clone)]
pub struct StacktraceIntegration {
    errors: bool,
    source_context: bool,
    debug_images: bool,
}

impl Default for StacktraceIntegration {
    fn default() -> Self {
        StacktraceIntegration {
            errors: true,
            source_context: true,
            debug_images: true,
        }
    }
}

impl StacktraceIntegration {
    /// The integration with every feature on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether error events (exceptions without a stack) get the current stack. Default: on.
    pub fn error_stacktraces(mut self, on: bool) -> Self {
        self.errors = on;
        self
    }

    /// Whether frames get source lines from files that exist on this machine. Default: on.
    pub fn source_context(mut self, on: bool) -> Self {
        self.source_context = on;
        self
    }

    /// Whether events with native frames list the loaded images in `debug_meta`. Default: on.
    pub fn debug_images(mut self, on: bool) -> Self {
        self.debug_images = on;
        self
    }
}

/// Where the stack goes, if anywhere.
enum Target {
    LastException,
    Event,
}

fn target(event: &Event, options: &ClientOptions, errors: bool) -> Option<Target> {
    let has_stack = event.stacktrace.is_some()
        || event.exception.iter().any(|e| e.stacktrace.is_some())
        || event.threads.iter().any(|t| t.stacktrace.is_some());
    if has_stack {
        return None;
    }
    if !event.exception.is_empty() {
        return errors.then_some(Target::LastException);
    }
    (options.attach_stacktrace && event.threads.is_empty()).then_some(Target::Event)
}

impl Integration for StacktraceIntegration {
    fn name(&self) -> &'static str {
        "stacktrace"
    }

    fn setup_once(&self) {
        // Symbolicate on the transport worker, not on the capturing thread.
        sentry_core::finalize::set_event_finalizer("sentry-backtrace", crate::finalize_event);
        crate::set_deferred_symbolication(true);
        // Walk errors' stacks at `capture_error`'s entry point, above the pipeline's frames.
        sentry_core::__private::set_error_stack_walker(walk_at_entry);
    }

    fn setup(&self, options: &ClientOptions) {
        // Like the resolve configuration, the last client set up decides for the process.
        WALK_ERRORS.store(self.errors, Ordering::Relaxed);
        set_resolve_config(ResolveConfig {
            in_app: InAppRules::new(&options.in_app_include, &options.in_app_exclude),
            source_context: self.source_context,
            debug_images: self.debug_images,
        });
    }

    fn process_event(
        &self,
        mut event: Event,
        hint: &sentry_core::Hint<'_>,
        options: &ClientOptions,
    ) -> Option<Event> {
        self.process_event_in_place(&mut event, hint, options)
            .then_some(event)
    }

    fn process_event_in_place(
        &self,
        event: &mut Event,
        hint: &sentry_core::Hint<'_>,
        options: &ClientOptions,
    ) -> bool {
        match target(event, options, self.errors) {
            Some(Target::LastException) => {
                // `capture_error` walked the stack at its entry point (see `walk_at_entry`).
                let stack = match hint.value::<RawStack>() {
                    Some(walked) => walked.to_stacktrace(),
                    None => capture().into_stacktrace(),
                };
                if let Some(last) = event.exception.last_mut() {
                    last.stacktrace = Some(stack);
                }
            }
            Some(Target::Event) => event.stacktrace = Some(capture().into_stacktrace()),
            None => {}
        }
        if !is_deferred_symbolication() {
            resolve_event(event);
        }
        true
    }
}

/// Whether [`walk_at_entry`] walks: the `error_stacktraces` setting of the integration set up
/// last.
static WALK_ERRORS: AtomicBool = AtomicBool::new(true);

/// The walker `capture_error` calls at its entry point: the stack is walked there, above the
/// pipeline, so the unwinder skips the frames of the scopes, the client and the integrations
/// (10 of the 22 frames of the `capture_error` benchmark's stack were the SDK's; `capture_error`
/// is inlined into its caller and calls this from there, so this and the `backtrace` crate's
/// frame are left).
/// What it captures reaches [`StacktraceIntegration::process_event`] as the hint's value.
#[inline(never)]
fn walk_at_entry(capture: &mut dyn FnMut(&dyn Any)) {
    if !WALK_ERRORS.load(Ordering::Relaxed) {
        // Error stacks are off (`error_stacktraces(false)`): lend nothing.
        capture(&());
        return;
    }
    let stack = {
        let _guard = SdkCodeGuard::enter();
        RawStack::capture_here()
    };
    capture(&stack);
}

#[inline(never)]
fn capture() -> RawStack {
    let _guard = SdkCodeGuard::enter();
    RawStack::capture()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::{Exception, Stacktrace};

    #[test]
    fn targets() {
        let options = ClientOptions::default();
        let attach = ClientOptions {
            attach_stacktrace: true,
            ..ClientOptions::default()
        };
        let message = Event::default();
        assert!(target(&message, &options, true).is_none());
        assert!(matches!(
            target(&message, &attach, true),
            Some(Target::Event)
        ));
        let error = Event {
            exception: vec![Exception::default()],
            ..Event::default()
        };
        assert!(matches!(
            target(&error, &options, true),
            Some(Target::LastException)
        ));
        assert!(target(&error, &options, false).is_none());
        let with_stack = Event {
            stacktrace: Some(Stacktrace::default()),
            ..Event::default()
        };
        assert!(target(&with_stack, &attach, true).is_none());
    }
}
