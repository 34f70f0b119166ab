//! Loading one image's symbol table and DWARF into memory the SDK owns.
//!
//! The ELF file is parsed with `object` through a read cache (headers, section headers and the
//! symbol tables only); the DWARF sections `addr2line` reads are then copied, each into a
//! buffer of its own, and an `addr2line::Context` is built over them. Nothing borrows from the
//! file afterwards, so the result can be cached freely and the file closed.
//!
//! - **Sections read**: `.debug_abbrev`, `.debug_addr`, `.debug_aranges`, `.debug_info`,
//!   `.debug_line`, `.debug_line_str`, `.debug_ranges`, `.debug_rnglists`, `.debug_str` and
//!   `.debug_str_offsets` — what `addr2line` uses to find functions, inlined calls, files and
//!   lines. Location lists, macros, type units and name indexes are never read, so they cost
//!   no memory.
//! - **Symbol table**: `.symtab` (or `.dynsym` when the file has none), as `object`'s symbol
//!   map chooses and sizes its entries, copied into one string buffer plus a sorted index.
//! - **Split DWARF**: a DWARF package next to the file (`<file>.dwp`) and `.dwo` files named by
//!   skeleton units are loaded on demand, as `addr2line` asks for them.
//! - **Compressed debug sections** (`SHF_COMPRESSED`, or GNU `.zdebug_*`) are not decompressed:
//!   such an image is symbolized from its symbol table alone, so its frames get function names
//!   but no file, line or inlined frames. (Decompressing would need zlib and zstd decoders; the
//!   default toolchains do not compress debug sections.)
//! - Relocations are not applied: loaded executables and shared objects carry none in their
//!   debug sections.
//!
//! The copies are private memory for as long as the image stays in the symbolizer's cache: about
//! the size of those sections (tens of MB for a binary built with full debug information, a few
//! MB with line tables only, nothing but the symbol table for a release build without debug
//! information). Loading costs one read per section, plus the page faults of fresh memory.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use addr2line::{Context, FrameIter, LookupContinuation, LookupResult, SplitDwarfLoad};
use gimli::{Dwarf, DwarfPackage, Reader as _, RunTimeEndian, SectionId};
use object::{CompressionFormat, Object, ObjectSection, ReadCache};

/// ELF images of this process's word size. Parsing them as such, rather than through
/// `object::File`, links no Mach-O, PE, COFF or XCOFF readers.
type Elf<'data, R> = object::read::elf::ElfFile<'data, ElfHeader, R>;
#[cfg(target_pointer_width = "64")]
type ElfHeader = object::elf::FileHeader64<object::Endianness>;
#[cfg(not(target_pointer_width = "64"))]
type ElfHeader = object::elf::FileHeader32<object::Endianness>;

/// DWARF data, each section owning its bytes (reference-counted, so sub-slices share them).
pub(super) type Reader = gimli::EndianArcSlice<RunTimeEndian>;

/// The sections of the main file that `addr2line` reads (see the module docs); the others are
/// given to `gimli` empty.
const MAIN_SECTIONS: [SectionId; 10] = [
    SectionId::DebugAbbrev,
    SectionId::DebugAddr,
    SectionId::DebugAranges,
    SectionId::DebugInfo,
    SectionId::DebugLine,
    SectionId::DebugLineStr,
    SectionId::DebugRanges,
    SectionId::DebugRngLists,
    SectionId::DebugStr,
    SectionId::DebugStrOffsets,
];

/// Why a file's DWARF cannot be used: it is unreadable, malformed or compressed. The image then
/// falls back to its symbol table.
#[derive(Debug)]
struct Unusable;

impl From<gimli::Error> for Unusable {
    fn from(_: gimli::Error) -> Self {
        Unusable
    }
}

impl From<std::io::Error> for Unusable {
    fn from(_: std::io::Error) -> Self {
        Unusable
    }
}

/// Everything needed to symbolize addresses of one image, in the file's own address terms.
pub(super) struct ImageDebugInfo {
    symbols: SymbolTable,
    dwarf: Option<Context<Reader>>,
    package: Option<DwarfPackage<Reader>>,
}

impl std::fmt::Debug for ImageDebugInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageDebugInfo")
            .field("symbols", &self.symbols.entries.len())
            .field("dwarf", &self.dwarf.is_some())
            .field("package", &self.package.is_some())
            .finish()
    }
}

impl ImageDebugInfo {
    /// Reads the symbol table and debug information of the ELF file at `path`. `None` if the
    /// file cannot be opened or is not an object file; an image without usable DWARF still
    /// gets its symbol table.
    pub(super) fn load(path: &Path) -> Option<Self> {
        let file = File::open(path).ok()?;
        let cache = ReadCache::new(&file);
        let object = Elf::parse(&cache).ok()?;
        let symbols = SymbolTable::of(&object);
        let endian = endian_of(&object);
        let dwarf = load_main_dwarf(&object, &file, endian)
            .ok()
            .and_then(|mut dwarf| {
                dwarf.populate_abbreviations_cache(gimli::AbbreviationsCacheStrategy::Duplicates);
                Context::from_dwarf(dwarf).ok()
            });
        // Only split DWARF needs the package; skip the look-up for images without DWARF.
        let package = dwarf.as_ref().and_then(|_| load_package(path));
        Some(ImageDebugInfo {
            symbols,
            dwarf,
            package,
        })
    }

    /// The symbol-table entry containing `probe`: its address and (mangled) name.
    pub(super) fn symbol(&self, probe: u64) -> Option<(u64, &str)> {
        self.symbols.containing(probe)
    }

    /// The frames at `probe`, innermost (most inlined) first, loading split DWARF if the unit
    /// covering `probe` needs it. `None` without DWARF or on malformed DWARF.
    pub(super) fn frames(&self, probe: u64) -> Option<FrameIter<'_, Reader>> {
        let mut lookup = self.dwarf.as_ref()?.find_frames(probe);
        loop {
            match lookup {
                LookupResult::Output(frames) => return frames.ok(),
                LookupResult::Load { load, continuation } => {
                    let dwo = self.load_split(&load);
                    lookup = continuation.resume(dwo);
                }
            }
        }
    }

    /// The split DWARF a skeleton unit refers to: from the package if there is one, else from
    /// the `.dwo` file it names. `None` (no file, line or inlining for that unit) if neither
    /// has it.
    fn load_split(&self, load: &SplitDwarfLoad<Reader>) -> Option<Arc<Dwarf<Reader>>> {
        if let Some(package) = &self.package {
            if let Ok(Some(dwarf)) = package.find_cu(load.dwo_id, &load.parent) {
                return Some(Arc::new(dwarf));
            }
        }
        let mut path = PathBuf::new();
        if let Some(dir) = &load.comp_dir {
            path.push(path_of(&dir.to_slice().ok()?));
        }
        path.push(path_of(&load.path.as_ref()?.to_slice().ok()?));
        let file = File::open(&path).ok()?;
        let cache = ReadCache::new(&file);
        let object = Elf::parse(&cache).ok()?;
        let endian = endian_of(&object);
        let mut dwarf = Dwarf::load(|id| match id.dwo_name() {
            Some(name) => read_section(&object, &file, name, endian),
            None => Ok(empty(endian)),
        })
        .ok()?;
        let header = dwarf.units().next().ok()??;
        let unit = dwarf.unit(header).ok()?;
        if unit.dwo_id != Some(load.dwo_id) {
            return None;
        }
        dwarf.make_dwo(&load.parent);
        Some(Arc::new(dwarf))
    }
}

/// The main file's DWARF: the sections `addr2line` reads, the others empty.
fn load_main_dwarf<'data, R: object::ReadRef<'data>>(
    object: &Elf<'data, R>,
    file: &File,
    endian: RunTimeEndian,
) -> Result<Dwarf<Reader>, Unusable> {
    Dwarf::load(|id| {
        if MAIN_SECTIONS.contains(&id) {
            read_section(object, file, id.name(), endian)
        } else {
            Ok(empty(endian))
        }
    })
}

/// The DWARF package next to the image (`<file>.dwp`, or `<file>.<ext>.dwp`), if any.
fn load_package(path: &Path) -> Option<DwarfPackage<Reader>> {
    let extension = match path.extension() {
        Some(extension) => {
            let mut extension = extension.to_os_string();
            extension.push(".dwp");
            extension
        }
        None => "dwp".into(),
    };
    let file = File::open(path.with_extension(extension)).ok()?;
    let cache = ReadCache::new(&file);
    let object = Elf::parse(&cache).ok()?;
    let endian = endian_of(&object);
    DwarfPackage::load(
        |id| match id.dwo_name() {
            Some(name) => read_section(&object, &file, name, endian),
            None => Ok(empty(endian)),
        },
        empty(endian),
    )
    .ok()
}

/// Copies one section's bytes out of `file`. A missing section (or one with no bytes in this
/// file) reads as empty; a compressed one makes the whole DWARF unusable.
fn read_section<'data, R: object::ReadRef<'data>>(
    object: &Elf<'data, R>,
    file: &File,
    name: &str,
    endian: RunTimeEndian,
) -> Result<Reader, Unusable> {
    let Some(section) = object.section_by_name(name) else {
        // GNU-style compression renames `.debug_x` to `.zdebug_x`.
        let gnu_compressed = name
            .strip_prefix(".debug_")
            .is_some_and(|rest| object.section_by_name(&format!(".zdebug_{rest}")).is_some());
        return if gnu_compressed {
            Err(Unusable)
        } else {
            Ok(empty(endian))
        };
    };
    let compressed = section.compressed_file_range().map_err(|_| Unusable)?;
    if compressed.format != CompressionFormat::None {
        return Err(Unusable);
    }
    let Some((offset, size)) = section.file_range() else {
        return Ok(empty(endian));
    };
    let size = usize::try_from(size).map_err(|_| Unusable)?;
    // Allocated once at its final size, then filled in place.
    let mut bytes: Arc<[u8]> = std::iter::repeat_n(0u8, size).collect();
    let buffer = Arc::get_mut(&mut bytes).ok_or(Unusable)?;
    file.read_exact_at(buffer, offset)?;
    Ok(Reader::new(bytes, endian))
}

fn empty(endian: RunTimeEndian) -> Reader {
    Reader::new(Arc::from(&[][..]), endian)
}

fn endian_of<'data, R: object::ReadRef<'data>>(object: &Elf<'data, R>) -> RunTimeEndian {
    if object.is_little_endian() {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    }
}

fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

/// An owned copy of `object`'s symbol map: every name in one buffer, entries sorted by address.
#[derive(Debug, Default)]
struct SymbolTable {
    names: String,
    entries: Vec<SymbolEntry>,
}

#[derive(Clone, Copy, Debug)]
struct SymbolEntry {
    address: u64,
    /// 0: unknown, the symbol reaches to the next entry.
    size: u64,
    name_start: u32,
    name_len: u32,
}

impl SymbolTable {
    fn of<'data, R: object::ReadRef<'data>>(object: &Elf<'data, R>) -> Self {
        let map = object.symbol_map();
        let symbols = map.symbols();
        let mut table = SymbolTable {
            names: String::with_capacity(symbols.iter().map(|s| s.name().len()).sum()),
            entries: Vec::with_capacity(symbols.len()),
        };
        for symbol in symbols {
            let (Ok(name_start), Ok(name_len)) = (
                u32::try_from(table.names.len()),
                u32::try_from(symbol.name().len()),
            ) else {
                break;
            };
            table.names.push_str(symbol.name());
            table.entries.push(SymbolEntry {
                address: symbol.address(),
                size: symbol.size(),
                name_start,
                name_len,
            });
        }
        table
    }

    /// The entry at or before `probe` that contains it.
    fn containing(&self, probe: u64) -> Option<(u64, &str)> {
        let index = match self.entries.binary_search_by_key(&probe, |e| e.address) {
            Ok(index) => index,
            Err(index) => index.checked_sub(1)?,
        };
        let entry = self.entries.get(index)?;
        if entry.size != 0 && probe.wrapping_sub(entry.address) >= entry.size {
            return None;
        }
        let start = entry.name_start as usize;
        let name = self.names.get(start..start + entry.name_len as usize)?;
        Some((entry.address, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(u64, u64, &str)]) -> SymbolTable {
        let mut table = SymbolTable::default();
        for &(address, size, name) in entries {
            table.entries.push(SymbolEntry {
                address,
                size,
                name_start: table.names.len() as u32,
                name_len: name.len() as u32,
            });
            table.names.push_str(name);
        }
        table
    }

    #[test]
    fn symbol_lookup_respects_sizes() {
        let table = table(&[(0x100, 0x10, "a"), (0x120, 0, "b"), (0x200, 0x8, "c")]);
        assert_eq!(table.containing(0xff), None);
        assert_eq!(table.containing(0x100), Some((0x100, "a")));
        assert_eq!(table.containing(0x10f), Some((0x100, "a")));
        assert_eq!(
            table.containing(0x110),
            None,
            "past the end of a sized symbol"
        );
        assert_eq!(
            table.containing(0x1ff),
            Some((0x120, "b")),
            "unsized: to the next"
        );
        assert_eq!(table.containing(0x207), Some((0x200, "c")));
        assert_eq!(table.containing(0x208), None);
        assert_eq!(SymbolTable::default().containing(0x100), None);
    }

    #[test]
    fn loads_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let info = ImageDebugInfo::load(&exe).expect("the test binary is an ELF file");
        assert!(
            info.dwarf.is_some(),
            "tests are built with debug information"
        );
        assert!(!info.symbols.entries.is_empty());
        assert!(info
            .symbols
            .entries
            .windows(2)
            .all(|w| w[0].address <= w[1].address));
    }

    /// A copy of this test binary with its debug sections compressed (`SHF_COMPRESSED` for
    /// `zlib`, `.zdebug_*` for `zlib-gnu`): names from the symbol table, no DWARF. Needs
    /// binutils' `objcopy`; without it there is nothing to test against.
    #[test]
    fn compressed_debug_sections_fall_back_to_the_symbol_table() {
        let exe = std::env::current_exe().unwrap();
        let plain = ImageDebugInfo::load(&exe).unwrap();
        assert!(plain.dwarf.is_some());
        let sample = plain.symbols.entries[plain.symbols.entries.len() / 2];
        let mut tested = 0;
        for style in ["zlib", "zlib-gnu"] {
            let copy = std::env::temp_dir()
                .join(format!("sentry-backtrace-{style}-{}", std::process::id()));
            let made = std::process::Command::new("objcopy")
                .arg(format!("--compress-debug-sections={style}"))
                .arg(&exe)
                .arg(&copy)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            let loaded = made.then(|| ImageDebugInfo::load(&copy));
            let _ = std::fs::remove_file(&copy);
            let Some(loaded) = loaded else {
                continue;
            };
            let compressed = loaded.expect("still an ELF file");
            assert!(compressed.dwarf.is_none(), "{style}");
            assert!(compressed.frames(sample.address).is_none(), "{style}");
            assert_eq!(
                compressed.symbols.entries.len(),
                plain.symbols.entries.len(),
                "{style}"
            );
            assert_eq!(
                compressed.symbol(sample.address),
                plain.symbol(sample.address),
                "{style}"
            );
            tested += 1;
        }
        if tested == 0 {
            eprintln!("objcopy cannot compress debug sections here; nothing tested");
        }
    }

    #[test]
    fn missing_and_foreign_files_load_nothing() {
        assert!(ImageDebugInfo::load(Path::new("/nonexistent/image.so")).is_none());
        let text = std::env::temp_dir().join(format!(
            "sentry-backtrace-not-elf-{}.txt",
            std::process::id()
        ));
        std::fs::write(&text, b"not an object file").unwrap();
        let loaded = ImageDebugInfo::load(&text);
        std::fs::remove_file(&text).unwrap();
        assert!(loaded.is_none());
    }
}
