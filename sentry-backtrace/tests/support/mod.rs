//! Transports shared by this crate's tests: one that keeps envelopes as the pipeline handed
//! them over (nothing finalized, as a worker would before serializing), and a real transport
//! worker whose sender keeps the bodies it would have sent.
#![allow(dead_code)] // each test file uses what it needs

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sentry_core::envelope::Envelope;
use sentry_core::transport::TransportWorker;
use sentry_core::transport::{SendOutcome, Transport, TransportFactory, TransportOptions};

/// Keeps every envelope it is given, unfinalized.
#[derive(Default)]
pub(crate) struct Unfinished {
    pub(crate) received: Mutex<Vec<Envelope>>,
}

impl Unfinished {
    /// The envelopes received so far, taken out.
    pub(crate) fn take(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.received.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Transport for Unfinished {
    fn send_envelope(&self, envelope: Envelope) {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(envelope);
    }
    fn flush(&self, _timeout: Duration) -> bool {
        true
    }
    fn shutdown(&self, _timeout: Duration) -> bool {
        true
    }
}

/// A factory for the real transport worker whose sender pushes each serialized body into
/// `bodies` and answers 200.
pub(crate) fn worker_into(bodies: &Arc<Mutex<Vec<Vec<u8>>>>) -> Arc<dyn TransportFactory> {
    let bodies = Arc::clone(bodies);
    let factory = move |options: &TransportOptions| -> Arc<dyn Transport> {
        let bodies = Arc::clone(&bodies);
        let sender = move |body: Vec<u8>, _e: &Envelope| {
            bodies.lock().unwrap().push(body);
            SendOutcome::status(200)
        };
        Arc::new(TransportWorker::spawn(sender, options).unwrap())
    };
    Arc::new(factory)
}
