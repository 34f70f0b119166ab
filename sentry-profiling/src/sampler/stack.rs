//! Bounds-checked reads of the interrupted thread's stack, from inside the signal handler.
//!
//! The unwinder asks for words at addresses it computed from the CFI and from values it read
//! before; a wrong rule or a corrupt stack can make it ask for any address. A read is allowed
//! only between the interrupted stack pointer and a bound above it ([`MAX_STACK_BYTES`]), and
//! only from pages the kernel confirmed readable: a stack is one contiguous mapping from its
//! live top (`sp`) up to its base, so the reader probes pages upward from `sp` with
//! `process_vm_readv` on its own process (a syscall, async-signal-safe, that fails with
//! `EFAULT` instead of faulting) and reads directly once a page is known to be mapped.

/// How far above the interrupted stack pointer the unwinder may read: the largest default
/// thread stack (the main thread's, 8 MiB) with room to spare.
pub(super) const MAX_STACK_BYTES: u64 = 16 << 20;

const PAGE: u64 = 4096;

/// How many pages one probe asks for.
const PROBE_PAGES: usize = 16;

/// Reads words of the current thread's stack within `[sp, sp + MAX_STACK_BYTES)`, probing
/// pages before the first read from them. Lives on the handler's stack; never allocates.
pub(super) struct StackReader {
    pid: libc::pid_t,
    /// The lowest readable address: the interrupted stack pointer.
    low: u64,
    /// `[page_floor(low), checked_high)` is known to be mapped and readable.
    checked_high: u64,
    /// Nothing at or above this is read (the bound, or the first page found unreadable).
    limit: u64,
}

impl StackReader {
    /// A reader of the stack whose live top is `sp`, in process `pid` (this process).
    pub(super) fn new(pid: libc::pid_t, sp: u64) -> StackReader {
        StackReader {
            pid,
            low: sp,
            checked_high: sp & !(PAGE - 1),
            limit: sp.saturating_add(MAX_STACK_BYTES),
        }
    }

    /// The 8-byte word at `addr`, or `Err` if it is outside the stack's readable range.
    pub(super) fn read(&mut self, addr: u64) -> Result<u64, ()> {
        let end = addr.checked_add(8).ok_or(())?;
        if addr < self.low || end > self.limit {
            return Err(());
        }
        if end > self.checked_high {
            self.probe_up_to(end)?;
        }
        // SAFETY: `[addr, addr + 8)` lies in `[page_floor(sp), checked_high)`, pages of this
        // thread's own stack that `process_vm_readv` just confirmed mapped and readable. They
        // stay mapped while we read: they hold the live frames of the interrupted code, which
        // is this very thread, suspended in this handler (no correct program unmaps another
        // thread's live stack). `read_unaligned` makes no alignment assumption.
        #[allow(unsafe_code)]
        let value = unsafe { std::ptr::read_unaligned(addr as *const u64) };
        Ok(value)
    }

    /// Confirms the pages from `checked_high` up to the one holding `end - 1`; on the first
    /// unreadable page, lowers `limit` to it and fails.
    fn probe_up_to(&mut self, end: u64) -> Result<(), ()> {
        let mut scratch = [0u8; PROBE_PAGES];
        while self.checked_high < end {
            let pages_needed = (end - self.checked_high).div_ceil(PAGE) as usize;
            let count = pages_needed.min(PROBE_PAGES);
            let mut remote = [libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            }; PROBE_PAGES];
            for (i, iov) in remote.iter_mut().enumerate().take(count) {
                iov.iov_base = (self.checked_high + i as u64 * PAGE) as *mut libc::c_void;
                iov.iov_len = 1;
            }
            let local = libc::iovec {
                iov_base: scratch.as_mut_ptr().cast(),
                iov_len: count,
            };
            // SAFETY: `process_vm_readv` only writes into `local` (`count` bytes of `scratch`,
            // a live stack array of `PROBE_PAGES >= count` bytes) and only reads the remote
            // addresses through the kernel, which reports unmapped or unreadable pages as a
            // short count or `EFAULT` instead of faulting. It is a plain syscall: no lock, no
            // allocation, async-signal-safe.
            #[allow(unsafe_code)]
            let read = unsafe {
                libc::process_vm_readv(self.pid, &local, 1, remote.as_ptr(), count as _, 0)
            };
            // The transfer stops at the first remote vector it cannot read: `read` pages in a
            // row are readable.
            let readable = if read < 0 { 0 } else { read as u64 };
            self.checked_high += readable * PAGE;
            if readable < count as u64 {
                self.limit = self.limit.min(self.checked_high);
                return if end <= self.checked_high {
                    Ok(())
                } else {
                    Err(())
                };
            }
        }
        Ok(())
    }
}

/// Whether the probe works in this process (a seccomp policy may refuse
/// `process_vm_readv`): reads a word of the caller's own stack through it.
pub(super) fn probe_works() -> bool {
    let word = std::hint::black_box(0x5eed_u64);
    let addr = &word as *const u64 as u64;
    // SAFETY: `getpid` has no preconditions.
    #[allow(unsafe_code)]
    let pid = unsafe { libc::getpid() };
    // Force a probe of the page holding `word`, then read it.
    StackReader::new(pid, addr).read(addr) == Ok(0x5eed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_stack_and_refuses_outside() {
        let words = [0x1111_u64, 0x2222, 0x3333];
        let base = words.as_ptr() as u64;
        // SAFETY (test): getpid has no preconditions.
        #[allow(unsafe_code)]
        let pid = unsafe { libc::getpid() };
        let mut reader = StackReader::new(pid, base);
        assert_eq!(reader.read(base), Ok(0x1111));
        assert_eq!(reader.read(base + 16), Ok(0x3333));
        assert_eq!(reader.read(base - 8), Err(()));
        assert_eq!(reader.read(base + MAX_STACK_BYTES), Err(()));
    }

    #[test]
    fn the_probe_works_here() {
        assert!(probe_works());
    }

    #[test]
    fn an_unmapped_page_is_refused_not_faulted() {
        // Address 0x1000 upward is never mapped in a Linux process (mmap_min_addr).
        // SAFETY (test): getpid has no preconditions.
        #[allow(unsafe_code)]
        let pid = unsafe { libc::getpid() };
        let mut reader = StackReader::new(pid, 0x1000);
        assert_eq!(reader.read(0x1000), Err(()));
        assert_eq!(reader.read(0x2000), Err(()));
    }
}
