//! Capturing a stack on the calling thread: raw instruction addresses only.

use sentry_core::protocol::{Addr, Frame, Stacktrace};

use crate::start_frames;

/// How many frames a completed stack trace keeps at most: 200 from the crashing end and 50
/// from the outermost caller (`main`, the thread start). Relay keeps no more.
pub const MAX_FRAMES: usize = 250;
/// Frames kept from the outermost end of a too-deep stack.
pub(crate) const KEEP_OUTER: usize = 50;
/// Raw addresses kept from the innermost end: the 200 frames a completed stack keeps, plus room
/// for the SDK's own frames that completion trims.
const KEEP_INNER: usize = MAX_FRAMES - KEEP_OUTER + 32;
/// How many raw addresses a [`RawStack`] keeps at most.
pub const MAX_RAW_FRAMES: usize = KEEP_INNER + KEEP_OUTER;
/// How far the unwinder walks at most (a runaway recursion can be millions of frames deep).
const WALK_LIMIT: usize = 4096;

/// A stack captured as raw instruction addresses, innermost frame first.
///
/// Capturing walks the stack with the platform unwinder and records each frame's return
/// address; it reads no debug information and resolves no symbol, so it costs a few
/// microseconds. [`RawStack::into_stacktrace`] turns it into protocol frames that carry only
/// `instruction_addr`; [`resolve_event`](crate::resolve_event) (or the transport worker, see
/// [`set_deferred_symbolication`](crate::set_deferred_symbolication)) fills in the rest.
///
/// # Examples
///
/// ```
/// let stack = sentry_backtrace::RawStack::capture();
/// assert!(!stack.is_empty());
/// let trace = stack.into_stacktrace();
/// // Caller first, the frame that captured last; addresses only so far.
/// assert!(trace.frames.iter().all(|f| f.instruction_addr.is_some() && f.function.is_none()));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawStack {
    /// Return addresses, innermost first.
    ips: Vec<u64>,
    /// Frames left out of the middle of a too-deep stack.
    omitted: usize,
}

impl RawStack {
    /// Captures the stack of the calling thread.
    #[inline(never)]
    pub fn capture() -> RawStack {
        Self::capture_here()
    }

    /// [`capture`](Self::capture), inlined into its caller: one frame less for the unwinder
    /// (each costs about 1,700 instructions of the platform unwinder).
    ///
    /// The walk stops at a start frame already seen (the program's or a thread's entry point)
    /// and appends the frames recorded below it, which are the same in every stack of the
    /// process (see `start_frames`); a walk that meets none hands its stack to the helper
    /// that looks for one.
    #[inline(always)]
    pub(crate) fn capture_here() -> RawStack {
        RawStack::from_ips(walk(start_frames::keys()))
    }

    /// A stack from return addresses, innermost first. Stacks deeper than [`MAX_RAW_FRAMES`]
    /// keep their innermost and outermost frames.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_backtrace::{RawStack, MAX_RAW_FRAMES};
    ///
    /// let stack = RawStack::from_ips((1..=10_000).collect());
    /// assert_eq!(stack.len(), MAX_RAW_FRAMES);
    /// assert_eq!(stack.ips()[0], 1);
    /// assert_eq!(*stack.ips().last().unwrap(), 10_000);
    /// ```
    pub fn from_ips(mut ips: Vec<u64>) -> RawStack {
        let mut omitted = 0;
        if ips.len() > MAX_RAW_FRAMES {
            omitted = ips.len() - MAX_RAW_FRAMES;
            ips.drain(KEEP_INNER..KEEP_INNER + omitted);
        }
        RawStack { ips, omitted }
    }

    /// The return addresses, innermost first.
    pub fn ips(&self) -> &[u64] {
        &self.ips
    }

    /// The number of frames kept.
    pub fn len(&self) -> usize {
        self.ips.len()
    }

    /// `true` if no frame was captured (an unsupported platform).
    pub fn is_empty(&self) -> bool {
        self.ips.is_empty()
    }

    /// How many frames were left out of the middle of a too-deep stack.
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// The stack as protocol frames carrying only `instruction_addr`, outermost caller first.
    pub fn into_stacktrace(self) -> Stacktrace {
        self.to_stacktrace()
    }

    /// [`into_stacktrace`](Self::into_stacktrace) for a borrowed stack (one `capture_error`
    /// lends the pipeline through its hint).
    ///
    /// # Examples
    ///
    /// ```
    /// let stack = sentry_backtrace::RawStack::from_ips(vec![0x20, 0x10]);
    /// let trace = stack.to_stacktrace();
    /// assert_eq!(trace.frames[0].instruction_addr.map(|a| a.as_u64()), Some(0x10));
    /// ```
    pub fn to_stacktrace(&self) -> Stacktrace {
        let frames = self
            .ips
            .iter()
            .rev()
            .map(|&ip| Frame {
                instruction_addr: Some(Addr(ip)),
                ..Frame::default()
            })
            .collect();
        Stacktrace {
            frames,
            ..Stacktrace::default()
        }
    }
}

/// Walks the calling thread's stack (inlined into the caller): return addresses, innermost
/// first. The walk stops at a start frame whose address is in `starts` and appends the frames
/// recorded below it; a walk that meets none hands its stack to the helper that looks for one
/// (see `start_frames`).
#[inline(always)]
fn walk(starts: [u64; start_frames::MAX_STARTS]) -> Vec<u64> {
    let mut ips: Vec<u64> = Vec::with_capacity(64);
    let mut start = None;
    backtrace::trace(|frame| {
        let ip = frame.ip() as usize as u64;
        if ip != 0 {
            ips.push(ip);
            if starts.contains(&ip) {
                start = Some(ip);
                return false;
            }
        }
        ips.len() < WALK_LIMIT
    });
    match start {
        Some(key) => {
            ips.extend_from_slice(start_frames::tail(key));
            ips.truncate(WALK_LIMIT);
        }
        None => start_frames::learn_from(&ips),
    }
    ips
}

/// Captures the calling thread's stack as an unresolved [`Stacktrace`] (addresses only).
///
/// # Examples
///
/// ```
/// let trace = sentry_backtrace::capture_unresolved();
/// assert!(!trace.frames.is_empty());
/// ```
#[inline(never)]
pub fn capture_unresolved() -> Stacktrace {
    RawStack::capture().into_stacktrace()
}

/// `true` for a frame that carries an address and nothing a symbolizer would have added.
pub(crate) fn is_unresolved(frame: &Frame) -> bool {
    frame.instruction_addr.is_some()
        && frame.function.is_none()
        && frame.filename.is_none()
        && frame.abs_path.is_none()
        && frame.symbol_addr.is_none()
        && frame.package.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_stacks_keep_both_ends() {
        let stack = RawStack::from_ips((0..1000).map(|i| i + 1).collect());
        assert_eq!(stack.len(), MAX_RAW_FRAMES);
        assert_eq!(stack.omitted(), 1000 - MAX_RAW_FRAMES);
        assert_eq!(stack.ips()[KEEP_INNER - 1], KEEP_INNER as u64);
        assert_eq!(stack.ips()[KEEP_INNER], (1000 - KEEP_OUTER + 1) as u64);
        let trace = stack.into_stacktrace();
        assert_eq!(trace.frames[0].instruction_addr, Some(Addr(1000)));
        assert!(is_unresolved(&trace.frames[0]));
    }

    /// Walks from one call site twice: fully, then with the start frames `wait` returns once
    /// it has seen one of the first walk's frames learned.
    #[inline(never)]
    fn walk_twice(wait: &dyn Fn(&[u64]) -> [u64; start_frames::MAX_STARTS]) -> [Vec<u64>; 2] {
        let mut walks = [Vec::new(), Vec::new()];
        for i in 0..2 {
            let starts = match i {
                0 => [0; start_frames::MAX_STARTS],
                _ => wait(&walks[0]),
            };
            walks[i] = walk(starts);
        }
        walks
    }

    #[test]
    fn a_learned_start_frame_gives_the_stack_a_full_walk_gives() {
        let [full, reused] = walk_twice(&|full| {
            for _ in 0..1000 {
                start_frames::learn_from(full);
                let keys = start_frames::keys();
                if keys.iter().any(|k| *k != 0 && full.contains(k)) {
                    return keys;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            panic!("no start frame learned from {full:x?}");
        });
        // The key is a frame of the stack, with frames recorded below it.
        let keys = start_frames::keys();
        let at = full.iter().position(|ip| keys.contains(ip)).unwrap();
        assert!(at + 1 < full.len(), "{full:x?}");
        assert_eq!(&full[at + 1..], start_frames::tail(full[at]));
        // Frames inside `walk_twice` may differ if the loop was unrolled; the rest must not.
        assert_eq!(full.len(), reused.len(), "{full:x?} {reused:x?}");
        assert_eq!(full[3..], reused[3..]);
    }

    #[test]
    fn captures_this_thread() {
        let stack = RawStack::capture();
        assert!(stack.len() > 3, "{stack:?}");
    }
}
