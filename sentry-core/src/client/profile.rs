//! Profile chunks: sending them, and letting a running profiler flush its pending chunk when
//! the client flushes or closes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::callback::run_callback;
use crate::envelope::{Envelope, ItemType, RawItem};
use crate::protocol::{
    DataCategory, DiscardReason, ProfileChunk, ProfileChunkSdk, MAX_PROFILE_CHUNK_BYTES,
    MAX_PROFILE_CHUNK_SECONDS,
};

use super::{Client, SDK_NAME, SDK_VERSION};

/// What a continuous profiler does when a client flushes or closes, so that its pending
/// chunk is not lost: both get the client and run on the thread that flushes or closes it,
/// before the transport is flushed or shut down.
#[derive(Clone, Copy, Debug)]
pub struct ProfilerHooks {
    /// Send the chunk collected so far through the client.
    pub flush: fn(&Client),
    /// Stop profiling and send the last chunk through the client.
    pub close: fn(&Client),
}

static HOOKS: RwLock<Option<ProfilerHooks>> = RwLock::new(None);
static HAS_HOOKS: AtomicBool = AtomicBool::new(false);

/// Installs (`Some`) or removes (`None`) the profiler's flush and close hooks.
///
/// # Examples
///
/// ```
/// use sentry_core::__private::{set_profiler_hooks, ProfilerHooks};
///
/// fn flush(_: &sentry_core::Client) {}
/// fn close(_: &sentry_core::Client) {}
/// set_profiler_hooks(Some(ProfilerHooks { flush, close }));
/// set_profiler_hooks(None);
/// ```
pub fn set_profiler_hooks(hooks: Option<ProfilerHooks>) {
    let mut slot = HOOKS.write().unwrap_or_else(PoisonError::into_inner);
    *slot = hooks;
    HAS_HOOKS.store(hooks.is_some(), Ordering::Release);
}

fn hooks() -> Option<ProfilerHooks> {
    if !HAS_HOOKS.load(Ordering::Acquire) {
        return None;
    }
    *HOOKS.read().unwrap_or_else(PoisonError::into_inner)
}

impl Client {
    /// Sends a profile chunk: fills its release, environment and SDK from the options, checks
    /// what Sentry would reject, and queues it alone in an envelope (item `profile_chunk` with
    /// the `platform` header), subject to the `profile_chunk` and `profile_duration` rate
    /// limits. Returns `true` if it was queued.
    ///
    /// An empty chunk is counted in client reports as `insufficient_data`, one longer than
    /// [`MAX_PROFILE_CHUNK_SECONDS`] or larger than [`MAX_PROFILE_CHUNK_BYTES`] as `invalid`
    /// (category `profile_chunk`). A disabled client sends and counts nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::protocol::{ProfileChunk, ProfileFrame, ProfileSample, DataCategory, DiscardReason};
    /// use sentry_core::{test::TestTransport, Client, ClientOptions};
    ///
    /// let transport = TestTransport::new();
    /// let client = Client::new(ClientOptions {
    ///     dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
    ///     release: Some("app@1".into()),
    ///     transport: Some(transport.factory()),
    ///     ..Default::default()
    /// });
    /// let empty = ProfileChunk::new(sentry_core::protocol::new_event_id());
    /// assert!(!client.send_profile_chunk(empty.clone()));
    ///
    /// let mut chunk = empty;
    /// chunk.profile.frames.push(ProfileFrame::from_addr(0x1000));
    /// chunk.profile.stacks.push(vec![0]);
    /// chunk.profile.samples.push(ProfileSample { timestamp: 1.0, stack_id: 0, thread_id: "7".into() });
    /// assert!(client.send_profile_chunk(chunk));
    /// assert_eq!(transport.envelopes().len(), 1);
    /// // The empty one was counted.
    /// let report = client.client_reports().take().unwrap();
    /// assert_eq!(report.discarded_events[0].reason, DiscardReason::InsufficientData);
    /// assert_eq!(report.discarded_events[0].category, DataCategory::ProfileChunk);
    /// ```
    pub fn send_profile_chunk(&self, mut chunk: ProfileChunk) -> bool {
        let Some(transport) = self.transport() else {
            return false;
        };
        if chunk.is_empty() || chunk.profile.stacks.is_empty() || chunk.profile.frames.is_empty() {
            crate::sentry_debug!("profile chunk {} has no samples; dropped", chunk.chunk_id);
            self.record_chunk_drop(DiscardReason::InsufficientData);
            return false;
        }
        let duration = chunk.duration_seconds();
        if duration.is_nan() || duration > MAX_PROFILE_CHUNK_SECONDS {
            crate::sentry_debug!(
                "profile chunk {} covers {duration} s, more than the {MAX_PROFILE_CHUNK_SECONDS} \
                 Sentry accepts; dropped",
                chunk.chunk_id
            );
            self.record_chunk_drop(DiscardReason::Invalid);
            return false;
        }
        let options = &self.options;
        if chunk.release.is_none() {
            chunk.release = options.release.as_deref().map(str::to_owned);
        }
        if chunk.environment.is_none() {
            chunk.environment = Some(options.effective_environment().to_owned());
        }
        if chunk.client_sdk.is_none() {
            chunk.client_sdk = Some(ProfileChunkSdk {
                name: SDK_NAME.into(),
                version: SDK_VERSION.into(),
            });
        }
        let payload = match serde_json::to_vec(&chunk) {
            Ok(payload) => payload,
            Err(err) => {
                crate::sentry_debug!("profile chunk {} not written: {err}", chunk.chunk_id);
                self.record_chunk_drop(DiscardReason::InternalSdkError);
                return false;
            }
        };
        if payload.len() > MAX_PROFILE_CHUNK_BYTES {
            crate::sentry_debug!(
                "profile chunk {} is {} bytes, more than the {MAX_PROFILE_CHUNK_BYTES} Sentry \
                 accepts; dropped",
                chunk.chunk_id,
                payload.len()
            );
            self.record_chunk_drop(DiscardReason::Invalid);
            return false;
        }
        let mut item = RawItem::new(ItemType::ProfileChunk, payload);
        item.headers
            .insert("platform".into(), chunk.platform.clone().into());
        let mut envelope = Envelope::new();
        envelope.add_item(item);
        envelope.headers_mut().sdk = Some(Arc::clone(&self.sdk_info));
        transport.send_envelope(envelope);
        true
    }

    fn record_chunk_drop(&self, reason: DiscardReason) {
        self.client_reports
            .record(reason, DataCategory::ProfileChunk, 1);
    }

    /// Lets a running profiler send its pending chunk before a flush.
    pub(super) fn flush_profiler(&self) {
        if let Some(hooks) = hooks() {
            let _ = run_callback("the profiler's flush", || (hooks.flush)(self));
        }
    }

    /// Lets a running profiler stop and send its last chunk before the client closes.
    pub(super) fn close_profiler(&self) {
        if let Some(hooks) = hooks() {
            let _ = run_callback("the profiler's close", || (hooks.close)(self));
        }
    }
}
