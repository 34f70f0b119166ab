//! The check-in pipeline: cron check-ins skip sampling, scopes' data and `before_send`, and go
//! out alone in their envelope.

use std::sync::Arc;

use crate::callback::{in_callback, run_callback};
use crate::envelope::Envelope;
use crate::protocol::{CheckIn, CheckInId, DataCategory, DiscardReason, MonitorError};
use crate::scope::{propagation_of, Scope};
use crate::span::Span;

use super::Client;

impl Client {
    /// Fills a check-in's release and environment from the options and its trace from `span`
    /// or the scopes' trace, checks Sentry's limits, runs `before_send_check_in` and queues it
    /// in an envelope of its own with the `trace` header.
    ///
    /// Returns its id, the nil id when it was not sent (disabled client, dropped by
    /// `before_send_check_in`, captured from inside an SDK callback), or the limit it broke
    /// (counted as `invalid`, category `monitor`).
    pub(crate) fn capture_check_in(
        &self,
        mut check_in: CheckIn,
        scopes: Option<[&Scope; 3]>,
        span: Option<&Span>,
    ) -> Result<CheckInId, MonitorError> {
        if in_callback() {
            crate::sentry_debug!("check-in captured from inside an SDK callback; dropped");
            self.client_reports
                .record(DiscardReason::EventProcessor, DataCategory::Monitor, 1);
            return Ok(CheckInId::nil());
        }
        let options = &self.options;
        if check_in.release.is_none() {
            check_in.release.clone_from(&options.release);
        }
        if check_in.environment.is_none() {
            check_in.environment = Some(options.effective_environment().to_owned().into());
        }
        if check_in.trace_id.is_none() {
            check_in.trace_id = span
                .and_then(Span::trace_id)
                .or_else(|| scopes.and_then(propagation_of).map(|p| p.trace_id));
        }
        let transport = self.transport();
        if let Err(err) = check_in.validate() {
            if transport.is_some() {
                self.client_reports
                    .record(DiscardReason::Invalid, DataCategory::Monitor, 1);
            }
            return Err(err);
        }
        let Some(transport) = transport else {
            return Ok(CheckInId::nil());
        };
        if let Some(before) = &options.before_send_check_in {
            match run_callback("before_send_check_in", || before(check_in)).flatten() {
                Some(kept) => check_in = kept,
                None => {
                    self.client_reports
                        .record(DiscardReason::BeforeSend, DataCategory::Monitor, 1);
                    return Ok(CheckInId::nil());
                }
            }
        }
        let id = check_in.check_in_id;
        let mut envelope = Envelope::from_check_in(check_in);
        envelope.headers_mut().sdk = Some(Arc::clone(&self.sdk_info));
        envelope.headers_mut().trace = self.trace_header(scopes, span);
        transport.send_envelope(envelope);
        Ok(id)
    }
}
