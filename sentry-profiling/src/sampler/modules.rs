//! The code modules loaded in the process and their unwind information, kept current for the
//! signal handler as immutable generations.
//!
//! The sampler's thread reads `/proc/self/maps`; when the executable mappings change (a
//! library loaded or unloaded), it builds a new [`Generation`]: one `framehop` unwinder over
//! every module, each with its `.eh_frame_hdr`/`.eh_frame` copied into memory the generation
//! owns (read from the file, or from memory for the vDSO, which has no file). Modules already
//! known are reused (their data is shared), so a rebuild reads only new files. The handler never
//! sees a generation being built: it gets the finished one through the exchange.

use std::collections::HashMap;
use std::fs::File;
use std::ops::Range;

use framehop::{ExplicitModuleSectionInfo, Module, MustNotAllocateDuringUnwind, Unwinder};
use object::{Object, ObjectSection, ObjectSegment, ReadCache, ReadRef};

/// The unwinder the handler runs: this architecture's, allocation-free.
pub(super) type NativeUnwinder = framehop::UnwinderNative<Vec<u8>, MustNotAllocateDuringUnwind>;

/// The unwinder's cache of rules and CFI evaluation space, preallocated.
pub(super) type NativeCache = framehop::CacheNative<MustNotAllocateDuringUnwind>;

/// One immutable set of modules, as the handler uses it.
pub(super) struct Generation {
    /// Every module with its unwind information.
    pub(super) unwinder: NativeUnwinder,
    /// The modules' code ranges, sorted: an address outside them means the set is stale.
    code: Vec<Range<u64>>,
    /// The bits of a return address that are address bits (aarch64 pointer authentication
    /// signs the others).
    #[cfg(target_arch = "aarch64")]
    pub(super) ptr_auth_mask: framehop::aarch64::PtrAuthMask,
}

impl Generation {
    /// A generation that knows no module: `framehop` then walks frame pointers only.
    pub(super) fn empty() -> Generation {
        Generation::from_modules(Vec::new())
    }

    fn from_modules(modules: Vec<BuiltModule>) -> Generation {
        let mut unwinder = NativeUnwinder::new();
        let mut code = Vec::with_capacity(modules.len());
        for (range, module) in modules {
            code.push(range);
            unwinder.add_module(module);
        }
        code.sort_by_key(|r| r.start);
        #[cfg(target_arch = "aarch64")]
        let ptr_auth_mask = framehop::aarch64::PtrAuthMask::from_max_known_address(
            unwinder.max_known_code_address(),
        );
        Generation {
            unwinder,
            code,
            #[cfg(target_arch = "aarch64")]
            ptr_auth_mask,
        }
    }

    /// `true` if `addr` is in a known module's code. Called in the signal handler: a binary
    /// search over a slice, no allocation.
    pub(super) fn covers(&self, addr: u64) -> bool {
        let i = self.code.partition_point(|r| r.start <= addr);
        i > 0 && self.code[i - 1].contains(&addr)
    }

    /// How many modules the generation knows.
    pub(super) fn module_count(&self) -> usize {
        self.code.len()
    }
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("modules", &self.code.len())
            .finish()
    }
}

/// A module's code range and its `framehop` module (which shares its section data when
/// cloned).
type BuiltModule = (Range<u64>, Module<Vec<u8>>);

/// One executable mapping of `/proc/self/maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Mapping {
    start: u64,
    end: u64,
    offset: u64,
    inode: u64,
    path: String,
}

/// The modules known so far and the mappings they were built from; lives on the sampler's
/// thread.
#[derive(Default)]
pub(super) struct ModuleSet {
    last: Vec<Mapping>,
    /// Built modules by (path, inode, first executable mapping's start); `None`: the file
    /// could not be read (not retried while it stays mapped).
    known: HashMap<(String, u64, u64), Option<BuiltModule>>,
}

impl std::fmt::Debug for ModuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleSet")
            .field("mappings", &self.last.len())
            .finish()
    }
}

impl ModuleSet {
    /// Re-reads `/proc/self/maps`; a new generation if the executable mappings changed since
    /// the last call (the first call always builds one).
    pub(super) fn refresh(&mut self) -> Option<Generation> {
        let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
        let mappings = executable_mappings(&maps);
        if !self.known.is_empty() && mappings == self.last {
            return None;
        }
        let mut groups: Vec<(String, u64, Vec<&Mapping>)> = Vec::new();
        for m in &mappings {
            match groups
                .iter_mut()
                .find(|(path, inode, _)| *path == m.path && *inode == m.inode)
            {
                Some((_, _, group)) => group.push(m),
                None => groups.push((m.path.clone(), m.inode, vec![m])),
            }
        }
        let mut live = HashMap::with_capacity(groups.len());
        let mut modules = Vec::with_capacity(groups.len());
        for (path, inode, group) in groups {
            let key = (path, inode, group[0].start);
            let built = match self.known.remove(&key) {
                Some(built) => built,
                None => build_module(&group),
            };
            if let Some(built) = &built {
                modules.push(built.clone());
            }
            live.insert(key, built);
        }
        self.known = live;
        self.last = mappings;
        Some(Generation::from_modules(modules))
    }
}

/// The executable mappings of files (and of the vDSO), in the order of the file.
fn executable_mappings(maps: &str) -> Vec<Mapping> {
    let mut out = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(range), Some(perms), Some(offset), Some(_dev), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        if perms.as_bytes().get(2) != Some(&b'x') {
            continue;
        }
        // The path is the rest of the line (it may contain spaces).
        let path = fields.collect::<Vec<_>>().join(" ");
        if !(path.starts_with('/') || path == "[vdso]") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end), Ok(offset), Ok(inode)) = (
            u64::from_str_radix(start, 16),
            u64::from_str_radix(end, 16),
            u64::from_str_radix(offset, 16),
            inode.parse::<u64>(),
        ) else {
            continue;
        };
        out.push(Mapping {
            start,
            end,
            offset,
            inode,
            path,
        });
    }
    out
}

/// Builds the `framehop` module of one file from its executable mappings; `None` if the file
/// cannot be read or parsed (its frames are then walked by frame pointer only).
fn build_module(group: &[&Mapping]) -> Option<BuiltModule> {
    let first = group[0];
    let range = first.start..group.iter().map(|m| m.end).max().unwrap_or(first.end);
    if first.path == "[vdso]" {
        let bytes = vdso_bytes(first.start, first.end)?;
        let module = module_from_elf(&first.path, bytes.as_slice(), first, range.clone())?;
        return Some((range, module));
    }
    let file = File::open(&first.path).ok()?;
    let cache = ReadCache::new(file);
    let module = module_from_elf(&first.path, &cache, first, range.clone())?;
    Some((range, module))
}

/// A copy of the vDSO's image, which exists only in memory.
fn vdso_bytes(start: u64, end: u64) -> Option<Vec<u8>> {
    // SAFETY: `getauxval` reads the auxiliary vector, which the kernel set up and nothing
    // changes; it has no preconditions.
    #[allow(unsafe_code)]
    let announced = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
    // Only the mapping the kernel announces as the vDSO (and `/proc/self/maps` lists as
    // `[vdso]`, readable and executable) is read.
    if announced != start || end <= start || end - start > (1 << 20) {
        return None;
    }
    let len = (end - start) as usize;
    // SAFETY: `[start, end)` is the vDSO's mapping, per the auxiliary vector and
    // `/proc/self/maps`: mapped readable by the kernel for the whole life of the process and
    // never written or unmapped. The slice is copied at once.
    #[allow(unsafe_code)]
    let bytes = unsafe { std::slice::from_raw_parts(start as *const u8, len) }.to_vec();
    Some(bytes)
}

/// Reads the sections `framehop` needs for DWARF CFI unwinding of an ELF file mapped with
/// `exec` as its first executable mapping.
fn module_from_elf<'data, R: ReadRef<'data>>(
    name: &str,
    data: R,
    exec: &Mapping,
    range: Range<u64>,
) -> Option<Module<Vec<u8>>> {
    let file = object::File::parse(data).ok()?;
    // The load bias: the address of the file's virtual address 0. The executable mapping
    // starts at file offset `exec.offset`, inside the executable PT_LOAD segment (the page
    // it starts on may also hold the end of the segment before, which must not be taken).
    let page = 4096u64;
    let segment = file.segments().find(|s| {
        let (offset, size) = s.file_range();
        let executable = matches!(
            s.flags(),
            object::SegmentFlags::Elf { p_flags, .. } if p_flags.0 & object::elf::PF_X.0 != 0
        );
        executable && offset & !(page - 1) <= exec.offset && exec.offset < offset + size
    })?;
    let (seg_offset, _) = segment.file_range();
    let vaddr_at_offset = segment
        .address()
        .checked_add(exec.offset)?
        .checked_sub(seg_offset)?;
    let bias = exec.start.checked_sub(vaddr_at_offset)?;

    let svma_range = |name: &str| {
        file.section_by_name(name)
            .map(|s| s.address()..s.address() + s.size())
    };
    let bytes = |name: &str| {
        file.section_by_name(name)
            .and_then(|s| s.data().ok())
            .map(<[u8]>::to_vec)
    };
    let info = ExplicitModuleSectionInfo {
        base_svma: 0,
        text_svma: svma_range(".text"),
        got_svma: svma_range(".got"),
        eh_frame_svma: svma_range(".eh_frame"),
        eh_frame: bytes(".eh_frame"),
        eh_frame_hdr_svma: svma_range(".eh_frame_hdr"),
        eh_frame_hdr: bytes(".eh_frame_hdr"),
        ..Default::default()
    };
    Some(Module::new(name.to_owned(), range, bias, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_executable_file_mappings() {
        let maps = "\
55d0c0a00000-55d0c0a10000 r--p 00000000 fd:01 42   /usr/bin/my app
55d0c0a10000-55d0c0a90000 r-xp 00010000 fd:01 42   /usr/bin/my app
7ffd1b3f0000-7ffd1b411000 rw-p 00000000 00:00 0    [stack]
7ffd1b5fa000-7ffd1b5fc000 r-xp 00000000 00:00 0    [vdso]
7f0000000000-7f0000001000 r-xp 00000000 00:00 0
";
        let m = executable_mappings(maps);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].path, "/usr/bin/my app");
        assert_eq!(
            (m[0].start, m[0].offset, m[0].inode),
            (0x55d0c0a10000, 0x10000, 42)
        );
        assert_eq!(m[1].path, "[vdso]");
    }

    #[test]
    fn this_process_has_modules_with_unwind_info() {
        let mut set = ModuleSet::default();
        let generation = set.refresh().expect("first refresh builds a generation");
        assert!(generation.module_count() >= 1);
        let here = this_process_has_modules_with_unwind_info as *const () as usize as u64;
        assert!(generation.covers(here));
        assert!(set.refresh().is_none(), "nothing changed");
    }
}
