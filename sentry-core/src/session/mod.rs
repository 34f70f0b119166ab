//! Release health: the state of a session, the application session a client keeps, the
//! sessions of requests counted per minute, and the copy of the open application session kept
//! in the offline cache.
//!
//! - [`mode`]: [`SessionMode`], one session per run of the application or one per request.
//! - [`state`]: the state machine (`ok` → `exited` | `crashed` | `abnormal`, errors counted) and
//!   the updates it produces.
//! - [`app`]: the application session a client holds, and which changes are sent.
//! - [`request`]: the session of one request, kept on its isolation scope.
//! - [`aggregate`]: [`SessionAggregator`], the per-minute counts of ended request sessions, a
//!   batch the transport worker sends every 60 seconds and at flush.
//! - [`persist`]: the file that lets the next start report a session that never ended as
//!   `abnormal`.

pub(crate) mod aggregate;
pub(crate) mod app;
pub(crate) mod mode;
pub(crate) mod persist;
pub(crate) mod request;
pub(crate) mod state;

pub use aggregate::SessionAggregator;
pub use mode::SessionMode;
