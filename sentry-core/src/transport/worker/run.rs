//! The worker thread's loop ([`Worker::run`]) and what it does with each envelope: mirror,
//! rate limits, finalizers, offline cache, client reports, send, and the response.
//!
//! While the queue backs up, sends go to the helpers of the [`Pool`] (several requests at
//! once) instead of blocking this thread; everything else stays here. Before each envelope is
//! filtered by the rate limits, the outcomes that came back are applied, so a `429` on one
//! connection stops every request that starts after it. Envelopes whose order the server relies
//! on (session updates, check-ins) are sent one at a time.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::batchers::Batchers;
use super::disk::{abandon, needs_finalized_copy, store, store_claimed};
use super::pool::{Job, Pool, Ticket, DONE};
use super::{WindDown, REPORTS};
use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, ItemType};
use crate::protocol::{DataCategory, DiscardReason};
use crate::ratelimit::RateLimiter;
use crate::transport::cache::{DiskCache, Release};
use crate::transport::discard::{record_envelope, record_outcomes};
use crate::transport::in_flight::InFlight;
use crate::transport::queue::{Queue, Task, QUEUED};
use crate::transport::response::{update_limits, Fate, ReportFate};
use crate::transport::{SendOutcome, Sender, TransportOptions};

/// Bounds for the client report interval: never a busy loop, never an overflowing `Instant`.
const MIN_REPORT_INTERVAL: Duration = Duration::from_millis(100);
const MAX_REPORT_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Backoff between attempts to send cached envelopes after a network error: doubles from the
/// first value up to the second.
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// With an offline cache, pending client report counts are persisted at most this often while
/// the worker is idle (and at every flush and at shutdown).
const PERSIST_INTERVAL: Duration = Duration::from_secs(1);

/// Requests that take at least this long (smoothed) are worth sending several at once. On
/// the loopback or a LAN a request takes well under a millisecond and one connection sends
/// thousands a second; there, handing sends to helpers costs more CPU than it saves
/// (measured: 0.91 s against 0.52 s of CPU per 10,000 events at 0 ms).
const SLOW_REQUEST: Duration = Duration::from_millis(5);

/// How often a stopping worker looks for its helpers' outcomes (its signal, closed, no longer
/// waits).
const CLOSED_POLL: Duration = Duration::from_millis(5);

/// The state owned by the worker thread.
pub(super) struct Worker<S> {
    sender: S,
    /// Gets every envelope too, unfiltered; its outcome is ignored.
    mirror: Option<Box<dyn Sender>>,
    queue: Arc<Queue>,
    cache: Option<Arc<DiskCache>>,
    /// The buffers drained in batches on this thread (logs). They ring
    /// [`Batchers::FLAGS`] on the queue's signal.
    batchers: Batchers,
    /// A stop was requested (the queue's signal was closed: shutdown, or the transport is
    /// gone).
    stopping: bool,
    limiter: RateLimiter,
    reports: Arc<ClientReports>,
    report_interval: Duration,
    /// When to next look for pending client reports to send on their own.
    next_report_check: Instant,
    /// When cached envelopes may next be tried.
    retry_at: Instant,
    /// The wait after the next network error.
    retry_delay: Duration,
    /// The client report riding on the envelope being sent (shared with the handle, which
    /// persists it if it gives up on a stuck send); restored if that envelope is not
    /// delivered (or if sending panics).
    in_flight: Arc<InFlight>,
    /// Set by `shutdown`.
    wind_down_at: Arc<Mutex<Option<WindDown>>>,
    /// When pending client reports may next be persisted while idle.
    next_persist: Instant,
    /// The cache file claimed for the envelope being handled, to drop if handling panics.
    claimed: Option<PathBuf>,
    /// The helpers sending at the same time while the queue backs up.
    pool: Pool,
    /// Envelopes with order-sensitive items being sent by helpers (at most one).
    ordered_in_flight: usize,
    /// The pending client report rides on an envelope a helper is sending.
    report_in_pool: bool,
    /// What the envelopes the helpers are sending hold in memory (see [`in_flight_cost`]),
    /// and the most they may hold: a quarter of `queue_max_bytes`.
    pool_bytes: usize,
    pool_budget: usize,
    /// How long requests take, smoothed over the last few (see [`SLOW_REQUEST`]).
    request_time: Duration,
}

/// What an envelope under way holds in memory, from its serialized body: the envelope itself,
/// the body, and the compressed copy the sender makes.
fn in_flight_cost(body: &[u8]) -> usize {
    body.len().saturating_mul(3)
}

impl<S: Sender> Worker<S> {
    /// The state of a new worker thread, its batchers linked to the queue's signal. It starts
    /// with the envelopes an earlier process left in the offline cache.
    pub(super) fn new(
        sender: S,
        mirror: Option<Box<dyn Sender>>,
        queue: Arc<Queue>,
        cache: Option<Arc<DiskCache>>,
        options: &TransportOptions,
        in_flight: Arc<InFlight>,
        wind_down_at: Arc<Mutex<Option<WindDown>>>,
    ) -> Self {
        let now = Instant::now();
        let pool = Pool::new(options.max_concurrent_requests, Arc::clone(queue.signal()));
        Worker {
            sender,
            mirror,
            batchers: Batchers::new(options, queue.signal()),
            queue,
            cache,
            stopping: false,
            limiter: RateLimiter::default(),
            reports: Arc::clone(&options.client_reports),
            report_interval: options
                .client_report_interval
                .clamp(MIN_REPORT_INTERVAL, MAX_REPORT_INTERVAL),
            next_report_check: now,
            // Envelopes left by an earlier process go first.
            retry_at: now,
            retry_delay: FIRST_RETRY_DELAY,
            in_flight,
            wind_down_at,
            next_persist: now,
            claimed: None,
            pool,
            ordered_in_flight: 0,
            report_in_pool: false,
            pool_bytes: 0,
            pool_budget: (options.queue_max_bytes / 4).max(1),
            request_time: Duration::ZERO,
        }
    }

    /// The loop: runs until the queue's signal is closed (shutdown, or the handle is gone) or
    /// a shutdown's wind-down time has come, then disposes of what is left and sends (or
    /// persists) the final client report.
    pub(super) fn run(mut self) {
        self.postpone_report_check();
        loop {
            self.guarded(Self::settle_done);
            self.check_stop();
            if self.stopping || self.winding_down() {
                break;
            }
            if !self.make_room() {
                continue;
            }
            let now = Instant::now();
            if now >= self.next_report_check {
                self.guarded(Self::send_standalone_report);
                self.postpone_report_check();
            }
            if self.retry_due(now) {
                self.guarded(Self::send_cached);
                if self.stopping {
                    break;
                }
            }
            self.send_batches(now, false);
            if let Some(task) = self.queue.pop() {
                self.handle(task);
                continue;
            }
            let wake_at = self.idle(now);
            // One wait for everything: something queued, batches worth a look, new discard
            // counts, a stop request, or the earliest deadline. Taking the flags at once is
            // fine: the next turn looks at the queue, the batchers and the counts either way.
            let woken = self
                .queue
                .signal()
                .wait_until(QUEUED | Batchers::FLAGS | REPORTS | DONE, Some(wake_at));
            if woken.closed {
                self.stopping = true;
            }
        }
        // Whatever is still queued after a stop is saved to the offline cache or counted, and
        // the counts of everything dropped go out (or to disk) at once, beside the requests
        // still under way; it waits only for one that carries an earlier report.
        abandon(self.queue.drain(), self.cache.as_deref(), &self.reports);
        let end = self.wind_down().map(|at| at.end);
        self.wait_for_pool(end, |worker| !worker.report_in_pool);
        self.guarded(Self::final_report);
        // The requests under way get until the shutdown's deadline; what their answers add
        // to the counts goes to disk.
        if self.pool.in_flight() > 0 {
            self.wait_for_pool(end, |_| false);
            if let Some(cache) = self.cache.clone() {
                self.in_flight.persist(&self.reports, &cache);
            }
        }
        // Requests still under way are past the shutdown's patience: once they return, their
        // outcomes are applied as a single worker's stuck send's would be.
        self.pool.close();
        self.wait_for_pool(None, |_| false);
    }

    /// Applies the outcomes of the helpers' sends that have returned.
    fn settle_done(&mut self) {
        for mut done in self.pool.take_done() {
            if done.ticket.ordered {
                self.ordered_in_flight = self.ordered_in_flight.saturating_sub(1);
            }
            if done.ticket.report {
                self.report_in_pool = false;
            }
            self.pool_bytes = self.pool_bytes.saturating_sub(done.ticket.cost);
            self.time_request(done.took);
            self.settle(&done.envelope, done.outcome.as_ref(), done.ticket);
            // As after a send on this thread (`handle_envelope`).
            crate::span_pool::give_back(&mut done.envelope);
        }
    }

    /// Waits until `enough` says the helpers' sends under way are few enough (at least until
    /// none is), applying their outcomes as they come back; gives up at `deadline`. Returns
    /// whether `enough` was reached.
    fn wait_for_pool(&mut self, deadline: Option<Instant>, enough: impl Fn(&Self) -> bool) -> bool {
        loop {
            self.guarded(Self::settle_done);
            if self.pool.in_flight() == 0 || enough(self) {
                return true;
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return false;
            }
            let woken = self.queue.signal().wait_until(DONE, deadline);
            if woken.closed {
                // A stop request (seen by the loop). The signal stays closed, so it no longer
                // waits: the outcomes are looked for every few milliseconds instead.
                self.stopping = true;
                if woken.flags == 0 {
                    std::thread::sleep(CLOSED_POLL);
                }
            }
        }
    }

    /// While every helper is busy, waits until one is free (or a stop or the wind-down comes);
    /// `true` when a send can start at once.
    fn make_room(&mut self) -> bool {
        if self.pool.has_room() {
            return true;
        }
        let wind_down = self.wind_down().map(|at| at.wind_down);
        let roomy = self.wait_for_pool(wind_down, |worker| worker.pool.has_room());
        roomy && !self.stopping
    }

    /// Before sending an envelope whose order the server relies on, waits until no other such
    /// envelope is under way.
    fn keep_order(&mut self, envelope: &Envelope) {
        if self.ordered_in_flight > 0 && is_ordered(envelope) {
            self.wait_for_pool(None, |worker| worker.ordered_in_flight == 0);
        }
    }

    /// `true` when a send should go to a helper: requests are slow, and some are under way
    /// already or more envelopes wait behind this one.
    fn backed_up(&self) -> bool {
        self.pool.size() > 1
            && self.request_time >= SLOW_REQUEST
            && (self.pool.in_flight() > 0
                || self.queue.len() > 0
                || self
                    .cache
                    .as_ref()
                    .is_some_and(|cache| cache.sendable() > 0))
    }

    /// Takes a request's duration into the smoothed one (a quarter weight each).
    fn time_request(&mut self, took: Duration) {
        self.request_time = (self.request_time * 3 + took) / 4;
    }

    /// What the worker does when it runs out of work: persists pending counts if it is time
    /// to; returns when the worker must look again at the latest (the next client report
    /// check, cached envelopes' retry, a batch's deadline, the next persist).
    fn idle(&mut self, now: Instant) -> Instant {
        let mut wake_at = self.next_report_check;
        if self
            .cache
            .as_ref()
            .is_some_and(|cache| cache.sendable() > 0)
        {
            wake_at = wake_at.min(self.retry_at);
        }
        if let Some(deadline) = self.batchers.next_deadline() {
            wake_at = wake_at.min(deadline);
        }
        if let Some(persist_at) = self.persist_when_idle(now) {
            wake_at = wake_at.min(persist_at);
        }
        wake_at
    }

    fn check_stop(&mut self) {
        if !self.stopping && self.queue.signal().is_closed() {
            self.stopping = true;
        }
    }

    fn wind_down(&self) -> Option<WindDown> {
        *self
            .wind_down_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `true` once a shutdown wants the worker to stop sending queued envelopes.
    fn winding_down(&self) -> bool {
        self.wind_down()
            .is_some_and(|at| Instant::now() >= at.wind_down)
    }

    fn retry_due(&self, now: Instant) -> bool {
        now >= self.retry_at
            && self
                .cache
                .as_ref()
                .is_some_and(|cache| cache.sendable() > 0)
    }

    fn postpone_report_check(&mut self) {
        let now = Instant::now();
        self.next_report_check = now.checked_add(self.report_interval).unwrap_or(now);
    }

    /// With an offline cache, persists pending counts if that was not done within the last
    /// [`PERSIST_INTERVAL`], so that a kill loses at most that much; returns when to try again
    /// if counts wait.
    fn persist_when_idle(&mut self, now: Instant) -> Option<Instant> {
        let cache = self.cache.clone()?;
        if self.reports.is_empty() {
            return None;
        }
        if now < self.next_persist {
            return Some(self.next_persist);
        }
        self.in_flight.persist(&self.reports, &cache);
        self.next_persist = now.checked_add(PERSIST_INTERVAL).unwrap_or(now);
        None
    }

    fn handle(&mut self, task: Task) {
        match task {
            Task::Envelope(queued) => self.handle_envelope(queued.envelope, queued.cached),
            Task::Flush(reply) => {
                // Everything queued before the barrier has been sent: wait for the answers.
                let wind_down = self.wind_down().map(|at| at.wind_down);
                self.wait_for_pool(wind_down, |_| false);
                self.send_batches(Instant::now(), true);
                self.guarded(Self::send_standalone_report);
                // What the flush itself sent went out too.
                self.wait_for_pool(wind_down, |_| false);
                // What could not be sent is on disk when the flush returns.
                if let Some(cache) = self.cache.clone() {
                    self.in_flight.persist(&self.reports, &cache);
                }
                // The flushing thread may have stopped waiting; that is fine.
                reply.notify();
            }
        }
    }

    /// The last thing a stopping worker does: send the pending counts unless that cannot
    /// work (backing off after a network error, past the shutdown's deadline), and persist
    /// what is left with the offline cache.
    fn final_report(&mut self) {
        let now = Instant::now();
        let backing_off = self.cache.is_some() && now < self.retry_at;
        let too_late = self.wind_down().is_some_and(|at| now >= at.end);
        if !backing_off && !too_late {
            self.send_report(false);
        }
        match self.cache.clone() {
            Some(cache) => self.in_flight.persist(&self.reports, &cache),
            None if !self.reports.is_empty() => {
                crate::sentry_debug!("client reports could not be sent before shutdown");
            }
            None => {}
        }
    }

    /// Sends the batches that are due (full ones, ones whose delay has passed), or all of them
    /// when `force` is set (flush).
    fn send_batches(&mut self, now: Instant, force: bool) {
        while self.make_room() {
            let Some(envelope) = self.batchers.take_batch(now, force) else {
                break;
            };
            self.handle_envelope(envelope, None);
        }
    }

    fn handle_envelope(&mut self, mut envelope: Envelope, cached: Option<PathBuf>) {
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.process(&mut envelope, cached.clone());
        }));
        if result.is_err() {
            crate::sentry_debug!("the transport panicked while sending; envelope dropped");
            self.settle_own_report(Fate::SdkFailure);
            if let Some(cache) = &self.cache {
                if let Some(path) = &cached {
                    let _ = cache.release(path);
                    cache.remove(path);
                }
                if let Some(claimed) = self.claimed.take() {
                    cache.remove(&claimed);
                }
            }
            self.count(Fate::SdkFailure, &envelope);
        }
        self.claimed = None;
        // A sent transaction's span vector is kept for the next large one (an envelope a
        // helper took is given back when its send is settled, in `settle_done`).
        crate::span_pool::give_back(&mut envelope);
    }

    /// Runs `f` so that a panic in it cannot end the worker. A cached file it was sending is
    /// dropped and counted (retrying it could panic again, forever).
    fn guarded(&mut self, f: fn(&mut Self)) {
        if catch_unwind(AssertUnwindSafe(|| f(self))).is_err() {
            crate::sentry_debug!("the transport panicked while sending");
            self.settle_own_report(Fate::SdkFailure);
            let claimed = self.claimed.take();
            if let (Some(cache), Some(claimed), Some(reason)) =
                (&self.cache, claimed, Fate::SdkFailure.discard_reason())
            {
                cache.discard(&claimed, reason);
            }
        }
        self.claimed = None;
    }

    /// Settles the client report that rode on the envelope whose fate this is (delivered, or
    /// put back); returns whether one was delivered.
    fn settle_report(&self, fate: Fate) -> bool {
        let delivered = fate.report() == ReportFate::Done;
        self.in_flight
            .finish(delivered, &self.reports, self.cache.as_deref())
    }

    /// After a panic on this thread: settles the report the failed envelope carried, unless the
    /// report rides on a helper's send (then it is that send's to settle).
    fn settle_own_report(&self, fate: Fate) {
        if !self.report_in_pool {
            self.settle_report(fate);
        }
    }

    /// Counts the items of `envelope` as discarded if its fate says so.
    fn count(&self, fate: Fate, envelope: &Envelope) {
        if let Some(reason) = fate.discard_reason() {
            record_envelope(&self.reports, reason, envelope);
        }
    }

    /// Takes the file written on the capturing thread for this envelope, if it is still this
    /// worker's to send, then mirror, rate limits, offline cache, send, response.
    fn process(&mut self, envelope: &mut Envelope, cached: Option<PathBuf>) {
        let (claimed, raw) = match (&self.cache, cached) {
            (Some(cache), Some(path)) => match cache.release(&path) {
                Release::OnDisk { raw } => match cache.claim(&path) {
                    Some(claimed) => (Some(claimed), raw),
                    None => {
                        crate::sentry_debug!("offline cache: another process sends {path:?}");
                        return;
                    }
                },
                // Evicted from the disk to keep the cache within its bounds: memory only.
                Release::Evicted => (None, false),
                Release::Gone => {
                    crate::sentry_debug!("offline cache: another process sends {path:?}");
                    return;
                }
            },
            _ => (None, false),
        };
        self.claimed.clone_from(&claimed);
        self.process_claimed(envelope, claimed, raw);
    }

    fn process_claimed(&mut self, envelope: &mut Envelope, claimed: Option<PathBuf>, raw: bool) {
        if envelope.is_empty() {
            self.forget_cached(claimed.as_deref());
            return;
        }
        self.keep_order(envelope);
        if let Some(mirror) = &mut self.mirror {
            // The mirror sees everything, so deferred work runs before filtering here.
            if !super::disk::finalize(envelope, &self.reports) {
                self.forget_cached(claimed.as_deref());
                return;
            }
            let outcome = mirror.send(envelope.to_vec(Some(SystemTime::now())), envelope);
            if let SendOutcome::NetworkError(error) = outcome {
                crate::sentry_debug!("mirror could not be reached: {error}");
            }
        }
        if !self.filter(envelope) {
            self.forget_cached(claimed.as_deref());
            return;
        }
        if self.mirror.is_none() {
            // Deferred work (such as symbolication) happens here, off the capturing thread,
            // and only for what will actually be sent. (With a mirror it ran above.)
            if !super::disk::finalize(envelope, &self.reports) {
                self.forget_cached(claimed.as_deref());
                return;
            }
        }
        let Some(cache) = self.cache.clone() else {
            self.transmit(envelope, None);
            return;
        };
        let backing_off = Instant::now() < self.retry_at;
        let claimed = match claimed {
            Some(claimed) => {
                if raw && needs_finalized_copy(envelope) {
                    // Written on the capturing thread before the finalizers ran: the file
                    // gets the finished event before anything else happens to it.
                    if let Err(error) = cache.replace(&claimed, envelope) {
                        crate::sentry_debug!(
                            "offline cache: cannot write the finished envelope: {error}"
                        );
                    }
                }
                if backing_off {
                    // Backing off after a network error: the envelope waits on disk, behind
                    // the older ones.
                    cache.unclaim(&claimed);
                    self.claimed = None;
                    return;
                }
                Some(claimed)
            }
            None if backing_off => {
                if store(&cache, envelope, false, false).is_some() {
                    return;
                }
                None
            }
            None => store_claimed(&cache, envelope),
        };
        self.claimed.clone_from(&claimed);
        self.transmit(envelope, claimed);
        self.claimed = None;
    }

    /// Removes rate-limited items (counting them); `false` if nothing is left to send.
    fn filter(&mut self, envelope: &mut Envelope) -> bool {
        // Outcomes that came back since the last look apply first: a 429 a helper received
        // while this thread was busy holds back what starts after it (waiting for room settles
        // them only while every helper is busy).
        self.settle_done();
        let removed = self.limiter.filter_envelope(envelope);
        record_outcomes(&self.reports, DiscardReason::RatelimitBackoff, removed);
        if envelope.is_empty() {
            crate::sentry_debug!("envelope dropped: every item is rate limited");
            return false;
        }
        true
    }

    fn forget_cached(&mut self, cached: Option<&Path>) {
        if let (Some(cache), Some(path)) = (&self.cache, cached) {
            cache.remove(path);
        }
        self.claimed = None;
    }

    /// Sends cached envelopes, oldest first, until the cache is empty or the network fails
    /// again. Each is claimed first: a file another process took is skipped.
    fn send_cached(&mut self) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        while let Some(path) = cache.oldest_sendable() {
            self.check_stop();
            if self.stopping || self.winding_down() || !self.make_room() {
                return;
            }
            if Instant::now() < self.retry_at {
                // A send under way failed: the cache backs off.
                return;
            }
            let Some(claimed) = cache.claim(&path) else {
                continue;
            };
            self.claimed = Some(claimed.clone());
            let Some(mut envelope) = cache.load(&claimed) else {
                self.claimed = None;
                continue;
            };
            self.keep_order(&envelope);
            if !self.filter(&mut envelope) {
                self.forget_cached(Some(&claimed));
                continue;
            }
            let fate = self.transmit(&mut envelope, Some(claimed));
            self.claimed = None;
            if fate.is_some_and(|fate| !fate.answered()) {
                return;
            }
        }
    }

    /// Sends pending client reports (with those persisted on disk) in an envelope of their
    /// own, unless everything is rate limited (then they wait).
    fn send_standalone_report(&mut self) {
        self.send_report(true);
    }

    /// [`send_standalone_report`](Self::send_standalone_report); `wait` for a free helper
    /// when all are busy, or (the final report) send on this thread then.
    fn send_report(&mut self, wait: bool) {
        if self.limiter.is_limited(DataCategory::Internal) || (wait && !self.make_room()) {
            return;
        }
        if let Some(cache) = &self.cache {
            cache.absorb_reports();
        }
        let Some(report) = self.in_flight.take(&self.reports, self.cache.as_deref()) else {
            return;
        };
        let mut envelope = Envelope::new();
        envelope.add_item(report);
        self.transmit_with(&mut envelope, None, true);
    }

    /// Attaches pending client reports and sends: on this thread when nothing is backed up,
    /// or through a helper of the pool; returns the envelope's fate when the send was made
    /// here, `None` when a helper has it (its fate is applied when it comes back). `cached` is
    /// the envelope's claimed file in the offline cache: deleted after an answer, given back
    /// (and retried later) after a network error.
    fn transmit(&mut self, envelope: &mut Envelope, cached: Option<PathBuf>) -> Option<Fate> {
        self.transmit_with(envelope, cached, false)
    }

    /// [`transmit`](Self::transmit); `report` when the envelope carries the pending client
    /// report already (it is the standalone report).
    fn transmit_with(
        &mut self,
        envelope: &mut Envelope,
        cached: Option<PathBuf>,
        mut report: bool,
    ) -> Option<Fate> {
        if !report && !self.limiter.is_limited(DataCategory::Internal) {
            if let Some(cache) = &self.cache {
                cache.absorb_reports();
            }
            if let Some(pending) = self.in_flight.take(&self.reports, self.cache.as_deref()) {
                envelope.add_item(pending);
                report = true;
            }
        }
        let body = envelope.to_vec(Some(SystemTime::now()));
        let cost = in_flight_cost(&body);
        let ticket = Ticket {
            cached,
            report,
            ordered: is_ordered(envelope),
            cost,
        };
        // What is under way stays within its share of the memory bound (one envelope always
        // may be); an envelope that does not fit is sent here, at once (waiting for room
        // after the rate limits were applied could start it after a 429 for its category).
        let fits = self.pool.in_flight() == 0 || self.pool_bytes + cost <= self.pool_budget;
        let (body, ticket) = if self.backed_up() && self.pool.has_room() && fits {
            let ordered = ticket.ordered;
            let job = Job {
                body,
                envelope: std::mem::take(envelope),
                ticket,
            };
            let sender = &mut self.sender;
            match self.pool.submit(job, || sender.fork()) {
                Ok(()) => {
                    self.ordered_in_flight += usize::from(ordered);
                    self.report_in_pool |= report;
                    self.pool_bytes += cost;
                    return None;
                }
                Err(job) => {
                    *envelope = job.envelope;
                    (job.body, job.ticket)
                }
            }
        } else {
            (body, ticket)
        };
        let started = Instant::now();
        let outcome = self.sender.send(body, envelope);
        self.time_request(started.elapsed());
        Some(self.settle(envelope, Some(&outcome), ticket))
    }

    /// Applies the outcome of a send (`None`: the sender panicked; see
    /// [`response`](crate::transport::response)): rate limits, counts, the riding report, the
    /// envelope's file in the offline cache.
    fn settle(
        &mut self,
        envelope: &Envelope,
        outcome: Option<&SendOutcome>,
        ticket: Ticket,
    ) -> Fate {
        let fate = match outcome {
            Some(outcome) => {
                update_limits(&mut self.limiter, outcome);
                let fate = Fate::of(outcome, ticket.cached.is_some());
                fate.log(outcome);
                fate
            }
            None => {
                crate::sentry_debug!("the transport panicked while sending; envelope dropped");
                Fate::SdkFailure
            }
        };
        self.count(fate, envelope);
        if ticket.report && self.settle_report(fate) {
            self.postpone_report_check();
        }
        let cached = ticket.cached;
        if fate.answered() || fate == Fate::SdkFailure {
            // Done with (a panicking send is not tried again: it could panic forever). Not
            // `forget_cached`: this may be a helper's outcome, applied while the envelope in
            // `self.claimed` is being handled.
            if fate.answered() {
                self.retry_delay = FIRST_RETRY_DELAY;
            }
            if let (Some(cache), Some(path)) = (&self.cache, &cached) {
                cache.remove(path);
            }
        } else if fate.retried() {
            if let (Some(cache), Some(claimed)) = (&self.cache, &cached) {
                cache.unclaim(claimed);
                let now = Instant::now();
                self.retry_at = now.checked_add(self.retry_delay).unwrap_or(now);
                self.retry_delay = (self.retry_delay * 2).min(MAX_RETRY_DELAY);
            }
        }
        fate
    }
}

/// `true` when the server relies on the order of this envelope's items relative to other
/// envelopes of the same kind: a session's updates (`init` first, `seq` rising) and a
/// monitor's check-ins (`in_progress` before `ok`). Errors, transactions and the rest carry
/// their own timestamps and may arrive in any order.
pub(super) fn is_ordered(envelope: &Envelope) -> bool {
    envelope
        .items()
        .any(|item| matches!(item.ty(), ItemType::Session | ItemType::CheckIn))
}

#[cfg(test)]
mod tests;
