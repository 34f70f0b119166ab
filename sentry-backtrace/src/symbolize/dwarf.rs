//! Reading an image's DWARF: functions, inlined calls, files and lines.
//!
//! Compiled only when the build profile produces debug information (`cfg(sentry_dwarf)`, set
//! by `build.rs`), or with the `dwarf` feature.
//!
//! The DWARF sections `addr2line` reads are copied out of the file, each into a buffer of its
//! own, and an `addr2line::Context` is built over them. Nothing borrows from the file
//! afterwards, so the result can be cached freely and the file closed.
//!
//! - **Sections read**: `.debug_abbrev`, `.debug_addr`, `.debug_aranges`, `.debug_info`,
//!   `.debug_line`, `.debug_line_str`, `.debug_ranges`, `.debug_rnglists`, `.debug_str` and
//!   `.debug_str_offsets` — what `addr2line` uses to find functions, inlined calls, files and
//!   lines. Location lists, macros, type units and name indexes are never read, so they cost
//!   no memory.
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
//! MB with line tables only). Loading costs one read per section, plus the page faults of fresh
//! memory.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use addr2line::{Context, LookupContinuation, LookupResult, SplitDwarfLoad};
use gimli::{Dwarf, DwarfPackage, Reader as _, RunTimeEndian, SectionId};
use object::{CompressionFormat, Object, ObjectSection, ReadCache};

use super::elf::Elf;
use super::Symbol;
use crate::names::demangle;

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

/// The DWARF of one image: an `addr2line` context over the main file's sections, and the DWARF
/// package next to it when the image uses split DWARF.
pub(super) struct DwarfInfo {
    context: Context<Reader>,
    package: Option<DwarfPackage<Reader>>,
}

impl DwarfInfo {
    /// Reads the DWARF of the ELF file at `path`: `None` when it cannot be opened, is not an
    /// ELF file, or has no usable DWARF.
    pub(super) fn load_file(path: &Path) -> Option<Self> {
        let file = File::open(path).ok()?;
        let cache = ReadCache::new(&file);
        let object = Elf::parse(&cache).ok()?;
        DwarfInfo::load(&object, &file, path)
    }

    /// Copies the DWARF sections of `object` (opened from `path`) out of `file`. `None` when the
    /// image has no DWARF, or DWARF that is compressed or malformed.
    fn load<'data, R: object::ReadRef<'data>>(
        object: &Elf<'data, R>,
        file: &File,
        path: &Path,
    ) -> Option<Self> {
        let endian = endian_of(object);
        let mut dwarf = load_main_dwarf(object, file, endian).ok()?;
        dwarf.populate_abbreviations_cache(gimli::AbbreviationsCacheStrategy::Duplicates);
        let context = Context::from_dwarf(dwarf).ok()?;
        Some(DwarfInfo {
            context,
            package: load_package(path),
        })
    }

    /// The frames at `probe`, innermost (most inlined) first, loading split DWARF if the unit
    /// covering `probe` needs it. Empty on malformed DWARF.
    pub(super) fn frames(&self, probe: u64) -> Vec<Symbol> {
        let mut lookup = self.context.find_frames(probe);
        let frames = loop {
            match lookup {
                LookupResult::Output(frames) => break frames,
                LookupResult::Load { load, continuation } => {
                    let dwo = self.load_split(&load);
                    lookup = continuation.resume(dwo);
                }
            }
        };
        let mut symbols = Vec::new();
        let Ok(mut frames) = frames else {
            return symbols;
        };
        while let Ok(Some(frame)) = frames.next() {
            let raw = frame
                .function
                .as_ref()
                .and_then(|f| f.raw_name().ok().map(|n| n.into_owned()));
            let location = frame.location.as_ref();
            symbols.push(Symbol {
                function: raw.as_deref().map(demangle),
                raw_function: raw,
                abs_path: location.and_then(|l| l.file).map(str::to_owned),
                lineno: location.and_then(|l| l.line),
                colno: location.and_then(|l| l.column),
            });
        }
        symbols
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
