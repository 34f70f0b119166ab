//! The `trace` lifecycle: the profiler runs while at least one sampled root span runs.
//!
//! Tracing calls the root-span hooks on the thread that starts or ends the span; they only
//! post a message to the profiler's control thread, which starts and stops the sampler (a
//! start spawns a thread, a stop joins one and sends a chunk: neither belongs on an
//! application thread).

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, PoisonError};

use sentry_core::profiling::{self, RootSpanHooks};
use sentry_core::Scopes;

use crate::profiler::{self, AfterStop, Which};

enum Command {
    Start,
    Stop,
}

static CONTROL: Mutex<Option<Sender<Command>>> = Mutex::new(None);

fn post(command: Command) {
    let control = CONTROL.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(sender) = control.as_ref() {
        // The control thread never ends while its sender is here.
        let _ = sender.send(command);
    }
}

fn first_started() {
    post(Command::Start);
}

fn last_finished() {
    post(Command::Stop);
}

/// Installs the root-span hooks (and starts the control thread, once per process).
pub(crate) fn install() {
    {
        let mut control = CONTROL.lock().unwrap_or_else(PoisonError::into_inner);
        if control.is_none() {
            let (sender, receiver) = mpsc::channel();
            let spawned = sentry_core::__private::spawn_named(
                "sentry-profiler-control",
                Box::new(move || control_loop(receiver)),
            );
            match spawned {
                Ok(_) => *control = Some(sender),
                Err(err) => {
                    sentry_core::__private::debug_print(format_args!(
                        "the profiler's control thread did not start ({err}); profiling is off"
                    ));
                    return;
                }
            }
        }
    }
    profiling::set_root_span_hooks(Some(RootSpanHooks {
        first_started,
        last_finished,
    }));
    // A transaction already running counts.
    if profiling::running_root_spans() > 0 {
        post(Command::Start);
    }
}

/// Removes the root-span hooks.
pub(crate) fn uninstall() {
    profiling::set_root_span_hooks(None);
}

fn control_loop(commands: Receiver<Command>) {
    while let Ok(command) = commands.recv() {
        // The count is the truth: a start posted just before the last span ended is moot.
        let wanted = profiling::running_root_spans() > 0;
        match command {
            Command::Start if wanted => {
                if let Err(err) = profiler::start(Scopes::current().client()) {
                    crate::log_start_error(&err);
                }
            }
            Command::Stop if !wanted => {
                profiler::stop(Which::Any, AfterStop::KeepId);
            }
            _ => {}
        }
    }
}
